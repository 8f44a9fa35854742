#ifndef NETSOCKET_SSL_H
#define NETSOCKET_SSL_H
/* socket.ssl.core: the pieces its files share.
 * OpenSSL calls back into Lua (ALPN selector, PSK, SNI map, verify errors,
 * DH parameters; always under lua_pcall, callback.c) only while one of our
 * methods is running on a connection; that call's lua_State is reachable
 * from the SSL object (its app data, the conn) for exactly that long, so
 * nothing keeps a lua_State beyond a call. */
#include <openssl/ssl.h>
#include "compat.h"
#include "buffer.h"
#include "class.h"
#include "io.h"
#include "timeout.h"

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
 * alpnselect (server: function), psk (function), dhparam (function). */
enum { CONTEXT_UV_LUA = 1, CONTEXT_UV_COUNT = 1 };

/* context.c */
context *context_test(lua_State *L, int idx);
context *context_testlive(lua_State *L, int idx);
/* Pushes the Lua-settings table of the context that owns `ctx` (or nil). */
int context_pushlua(lua_State *L, SSL_CTX *ctx);
context *context_of(SSL_CTX *ctx);
void context_open(lua_State *L);

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

/* ---- the connection (conn.c and the files below) ---- */

/* IO_* codes of our own (tlsio_errortext gives their text). */
enum {
    SSL_IO_SSL = -100,       /* an OpenSSL failure: text from conn->sslerr */
    SSL_IO_CALLBACK = -101,  /* a Lua callback raised: text in conn->why */
    SSL_IO_NONAME = -102,    /* host-name check on, but no name to check */
    SSL_IO_BADNAME = -103,   /* a name OpenSSL cannot check against */
    SSL_IO_TOOMUCH = -104,   /* stoptls: the peer sent too much before close_notify */
    SSL_IO_RESET = -105,     /* the TCP stream was reset under TLS: a cut, not an end */
    SSL_IO_RETRY = -106      /* a send after a blocked one, with other data (tlsio.c) */
};

enum { SSL_STATE_NEW, SSL_STATE_CONNECTED, SSL_STATE_CLOSED };

/* User values of a conn. */
enum {
    SSL_UV_CTX = 1,      /* the context it was made with */
    SSL_UV_HOST,         /* the host the wrapped socket connected to */
    SSL_UV_SNI,          /* client: sni(name); server: the sni(map) table */
    SSL_UV_ERRORS,       /* lsec_continue: {[depth] = {error, ...}} */
    SSL_UV_CLASS,        /* the class stoptls gives back */
    SSL_UV_COUNT = SSL_UV_CLASS
};

typedef struct ssl_conn {
    class_base base;         /* fd: -1 once closed */
    SSL *ssl;
    int state;
    int family;
    int want;                /* WAIT_R / WAIT_W: what the last would-block waited for */
    int prepared;            /* SNI and hostname set up */
    int snistrict;
    int syserr;              /* errno seen by the BIO */
    int eof;                 /* the BIO read the peer's FIN */
    int failed;              /* a fatal error: no close_notify may follow (SSL_shutdown(3)) */
    int lasterr;             /* the IO_* code of that error, given again by later calls */
    unsigned long sslerr;    /* the OpenSSL error behind SSL_IO_SSL */
    lua_State *L;            /* the running call, while OpenSSL may call back */
    int self;                /* the conn's stack index in L then */
    int incallback;          /* Lua code of a callback of this conn is running */
    char *wpend;             /* the start of the data of a send that would block, */
    size_t wpendlen;         /* which OpenSSL holds encrypted: the next send must repeat it */
    char *pre;               /* taken-over bytes the BIO serves first */
    size_t prelen, preoff;
    unsigned char alpn[256]; /* the protocol an ALPN selector chose */
    unsigned char alpnlen;
    struct dh_st *dh;        /* the last DH parameters the dhparam callback gave */
    char why[256];           /* the error a Lua callback raised (first one wins) */
    calls cs;                /* timeouts, and the read and write calls in flight */
    io io;
    buffer buf;
} ssl_conn;

/* conn.c */
ssl_conn *conn_check(lua_State *L, int idx);
/* conn_check for methods that drive OpenSSL or free the conn: raises when
 * called from inside one of the conn's own callbacks (OpenSSL is in the
 * middle of a call on it; re-entering or freeing it there is unsafe). */
ssl_conn *conn_checkidle(lua_State *L, int idx);
/* Sends close_notify when connected (one attempt, never a wait), then
 * frees everything. */
void conn_release(lua_State *L, ssl_conn *c);
/* create(ctx, sock) -> conn */
int conn_lua_create(lua_State *L);
/* call_begin for a method whose timeout argument at idx limits this call
 * only (nil: the object's); CALL_BUSY as call_begin. */
int conn_begincall(lua_State *L, call *cl, int idx, lua_KFunction k);
/* nil, "socket busy reading|writing". */
int conn_busy(lua_State *L, const call *cl);
int conn_closed(lua_State *L);
int conn_isserver(ssl_conn *c);
extern const luaL_Reg conn_methods[], conn_meta[];

/* bio.c: the BIO method (per state, in the registry). */
void bio_open(lua_State *L);
BIO_METHOD *bio_method(lua_State *L);

/* tlsio.c */
void tlsio_init(ssl_conn *c);
/* Readable without waiting (class_base.dirty). */
int tlsio_dirty(const void *self);
int tlsio_result(ssl_conn *c, int ret);
const char *tlsio_errortext(ssl_conn *c, int err);
const char *tlsio_wanttext(ssl_conn *c, int err);
void tlsio_enter(ssl_conn *c, lua_State *L, int self);
void tlsio_leave(ssl_conn *c);
void tlsio_free(ssl_conn *c);

/* handshake.c */
extern const luaL_Reg handshake_methods[];
extern const luaL_Reg handshake_funcs[];   /* module functions: handshake */
/* Registers registry["netsocket.tlsaccept"], the TLS half of accept(). */
void handshake_open(lua_State *L);

/* info.c, stoptls.c */
extern const luaL_Reg info_methods[], stoptls_methods[];

/* callback.c: callbacks that need the running call (set on contexts). */
int callback_verify(int ok, X509_STORE_CTX *store);
int callback_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                  const unsigned char *in, unsigned int inlen, void *arg);
unsigned int callback_pskclient(SSL *ssl, const char *hint, char *identity,
                                unsigned int maxidentity, unsigned char *psk, unsigned int maxpsk);
unsigned int callback_pskserver(SSL *ssl, const char *identity, unsigned char *psk,
                                unsigned int maxpsk);
int callback_sni(SSL *ssl, int *ad, void *arg);
/* Sets the dhparam callback on ctx; 0 when this OpenSSL has no such hook. */
int callback_setdh(SSL_CTX *ctx);
void callback_freedh(ssl_conn *c);

/* x509.c: pushes a certificate object that owns one reference to `cert`. */
void x509_push(lua_State *L, X509 *cert);
void x509_open(lua_State *L);

#endif
