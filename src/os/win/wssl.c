/* Windows' trust store for socket.ssl (wssl.h). */
#define WPOSIX_IMPL
#define WSSL_IMPL
#include "wssl.h"
#include <openssl/ssl.h>
#include <wincrypt.h>
#include <openssl/err.h>
#include <openssl/x509.h>

/* Adds every certificate of one system store; how many were added. */
static int wssl_addstore(X509_STORE *st, const char *name) {
    HCERTSTORE h = CertOpenSystemStoreA(0, name);
    if (h == NULL) return 0;
    int n = 0;
    const CERT_CONTEXT *cc = NULL;
    while ((cc = CertEnumCertificatesInStore(h, cc)) != NULL) {
        const unsigned char *p = cc->pbCertEncoded;
        X509 *x = d2i_X509(NULL, &p, (long) cc->cbCertEncoded);
        if (x == NULL) continue;
        /* A duplicate of a root OpenSSL already had is not an error. */
        if (X509_STORE_add_cert(st, x) == 1) n++;
        X509_free(x);
    }
    ERR_clear_error();
    CertCloseStore(h, 0);
    return n;
}

int wssl_defaultpaths(SSL_CTX *ctx) {
    int ok = SSL_CTX_set_default_verify_paths(ctx);
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    if (st != NULL && wssl_addstore(st, "ROOT") > 0) ok = 1;
    return ok;
}
