#ifndef NETSOCKET_WSSL_H
#define NETSOCKET_WSSL_H
/* The Windows side of the OS seam for socket.ssl.core (force-included
 * into the files of src/ssl by mk/windows.mk, instead of wposix.h): the
 * default trust store is Windows'. */
#include "wposix.h"
/* Not <openssl/ssl.h>: a file that suppresses OpenSSL's deprecation
 * warnings must include it first itself. */
struct ssl_ctx_st;

/* OpenSSL's default paths, then the certificates of the Windows "ROOT"
 * system store (CryptoAPI), added to the context's X509 store: with no
 * cafile, a Windows program trusts what Windows trusts. */
int wssl_defaultpaths(struct ssl_ctx_st *ctx);
#ifndef WSSL_IMPL
#define SSL_CTX_set_default_verify_paths wssl_defaultpaths
#endif

#endif
