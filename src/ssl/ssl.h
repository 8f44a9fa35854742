#ifndef NETSOCKET_SSL_H
#define NETSOCKET_SSL_H
/* socket.ssl.core: the pieces context.c, ssl.c and x509.c share.
 * OpenSSL calls back into Lua (ALPN selector, PSK, SNI map, verify errors)
 * only while one of our methods is running on a connection; that call's
 * lua_State is reachable from the SSL object (its app data, the conn) for
 * exactly that long, so nothing keeps a lua_State beyond a call. */
#include <openssl/ssl.h>
#include "compat.h"

#define SSL_CONTEXT_CLASS "ssl{context}"
#define SSL_CONN_CLASS "ssl{connection}"
#define SSL_X509_CLASS "ssl{x509}"

/* registry[SSL_CONTEXTS][lightuserdata SSL_CTX*] = context userdata (weak) */
#define SSL_CONTEXTS "netsocket.ssl.contexts"

enum { CONTEXT_CLIENT = 0, CONTEXT_SERVER = 1 };

/* verifyext flags */
enum { CONTEXT_VERIFY_CONTINUE = 1, CONTEXT_VERIFY_IGNORE_PURPOSE = 2 };

typedef struct context {
    SSL_CTX *ctx;
    int mode;           /* CONTEXT_CLIENT / CONTEXT_SERVER */
    int checkhost;      /* check the peer's name against the reference name */
    int verifyext;      /* CONTEXT_VERIFY_* */
} context;

/* User value 1 of a context: a table with the Lua side of its settings:
 * servername (string or false), alpn (server: wire-format list),
 * alpnselect (server: function), psk (function). */
enum { CONTEXT_UV_LUA = 1, CONTEXT_UV_COUNT = 1 };

/* context.c */
context *context_test(lua_State *L, int idx);
context *context_testlive(lua_State *L, int idx);
/* Pushes the Lua-settings table of the context that owns `ctx` (or nil). */
int context_pushlua(lua_State *L, SSL_CTX *ctx);
context *context_of(SSL_CTX *ctx);
void context_open(lua_State *L);

/* ssl.c: callbacks that need the running call (set on contexts). */
int ssl_verifycb(int ok, X509_STORE_CTX *store);
int ssl_alpncb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
               const unsigned char *in, unsigned int inlen, void *arg);
unsigned int ssl_pskclientcb(SSL *ssl, const char *hint, char *identity,
                             unsigned int maxidentity, unsigned char *psk, unsigned int maxpsk);
unsigned int ssl_pskservercb(SSL *ssl, const char *identity, unsigned char *psk,
                             unsigned int maxpsk);

/* ALPN wire format (length-prefixed names) from the string or array at idx:
 * pushes the encoding, or returns an error text with nothing pushed. */
const char *context_encodealpn(lua_State *L, int idx);
/* Pushes an array of the names in a wire-format list. */
void context_pushalpn(lua_State *L, const unsigned char *in, size_t len);
/* The reason text of an OpenSSL error code (strerror for system errors),
 * or NULL. */
const char *context_reason(unsigned long e);
/* The reason text of the oldest queued OpenSSL error ("unknown error" when
 * there is none); clears the queue. */
const char *context_error(void);

/* x509.c: pushes a certificate object that owns one reference to `cert`. */
void x509_push(lua_State *L, X509 *cert);
void x509_open(lua_State *L);

#endif
