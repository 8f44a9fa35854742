/* TLS connections (API.md §9): the conn class and the TLS io backend under
 * buffer.c, so every receive pattern, partial result and timeout of TCP
 * holds unchanged; wrap, handshake, SNI and hostname setup (§9.4), STARTTLS
 * take-over and stoptls, TLS accept for setssl servers (§9.5).
 *
 * OpenSSL talks to the fd through a BIO of ours: it serves the plaintext
 * bytes a wrapped socket had already buffered first (they are the first
 * bytes of the TLS stream), and sends with MSG_NOSIGNAL (OpenSSL's socket
 * BIO uses write(), which raises SIGPIPE on a closed peer). */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "buffer.h"
#include "class.h"
#include "inet.h"
#include "io.h"
#include "options.h"
#include "sock.h"
#include "stream.h"
#include "timeout.h"
#include "wait.h"
#include "ssl.h"

#ifdef MSG_NOSIGNAL
#define SSL_SENDFLAGS MSG_NOSIGNAL
#else
#define SSL_SENDFLAGS 0
#endif

#define SSL_BIOMETHOD "netsocket.ssl.biomethod"
#define SSL_IO_SSL (-100)      /* an OpenSSL failure: text from conn->sslerr */

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
    unsigned long sslerr;    /* the OpenSSL error behind SSL_IO_SSL */
    lua_State *L;            /* the running call, while OpenSSL may call back */
    int self;                /* the conn's stack index in L then */
    char *pre;               /* taken-over bytes the BIO serves first */
    size_t prelen, preoff;
    unsigned char alpn[256]; /* the protocol an ALPN selector chose */
    timeout tm;
    io io;
    buffer buf;
} ssl_conn;

/* ---- the BIO ----------------------------------------------------------- */

static int ssl_bio_write(BIO *b, const char *data, int n) {
    ssl_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    for (;;) {
        ssize_t r = send(c->base.fd, data, (size_t) n, SSL_SENDFLAGS);
        if (r >= 0) return (int) r;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(b);
        else c->syserr = errno;
        return -1;
    }
}

static int ssl_bio_read(BIO *b, char *out, int n) {
    ssl_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0) return 0;
    if (c->pre != NULL) {
        size_t k = c->prelen - c->preoff;
        if (k > (size_t) n) k = (size_t) n;
        memcpy(out, c->pre + c->preoff, k);
        c->preoff += k;
        if (c->preoff == c->prelen) {
            free(c->pre);
            c->pre = NULL;
            c->prelen = c->preoff = 0;
        }
        return (int) k;
    }
    for (;;) {
        ssize_t r = recv(c->base.fd, out, (size_t) n, 0);
        if (r >= 0) return (int) r;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_read(b);
        else c->syserr = errno;
        return -1;
    }
}

static long ssl_bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void) num;
    ssl_conn *c = BIO_get_data(b);
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;
        case BIO_C_GET_FD:
            if (ptr != NULL) *(int *) ptr = c->base.fd;
            return c->base.fd;
        case BIO_CTRL_PENDING:
            return c->pre != NULL ? (long) (c->prelen - c->preoff) : 0;
        default:
            return 0;
    }
}

/* The BIO_METHOD lives in the registry (per state), freed with it. */
typedef struct ssl_biomethod {
    BIO_METHOD *method;
} ssl_biomethod;

static int ssl_biomethod_gc(lua_State *L) {
    ssl_biomethod *m = lua_touserdata(L, 1);
    BIO_meth_free(m->method);
    m->method = NULL;
    return 0;
}

static BIO_METHOD *ssl_getbiomethod(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, SSL_BIOMETHOD);
    ssl_biomethod *m = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return m != NULL ? m->method : NULL;
}

static void ssl_newbiomethod(lua_State *L) {
    ssl_biomethod *m = lua_newuserdatauv(L, sizeof *m, 0);
    m->method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "netsocket");
    if (m->method == NULL) luaL_error(L, "not enough memory");
    BIO_meth_set_write(m->method, ssl_bio_write);
    BIO_meth_set_read(m->method, ssl_bio_read);
    BIO_meth_set_ctrl(m->method, ssl_bio_ctrl);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, ssl_biomethod_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, SSL_BIOMETHOD);
}

/* ---- results ----------------------------------------------------------- */

/* The IO_* code for a failed SSL call that returned `ret`. In the data
 * phase (`eofisclose`) a TCP EOF without close_notify is "closed", as for
 * plain TCP; the handshake reports it as OpenSSL does. */
static int ssl_result(ssl_conn *c, int ret, int eofisclose) {
    switch (SSL_get_error(c->ssl, ret)) {
        case SSL_ERROR_WANT_READ:
            c->want = WAIT_R;
            return IO_WANTREAD;
        case SSL_ERROR_WANT_WRITE:
            c->want = WAIT_W;
            return IO_WANTWRITE;
        case SSL_ERROR_ZERO_RETURN:
            return IO_CLOSED;
        case SSL_ERROR_SYSCALL:
            if (ERR_peek_error() == 0) {       /* else an OpenSSL error is queued */
                int e = c->syserr;
                if (e == 0 || e == EPIPE || e == ECONNRESET || e == ECONNABORTED) return IO_CLOSED;
                return e;
            }
            break;
        default:
            break;
    }
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (eofisclose && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return IO_CLOSED;
    c->sslerr = e;
    return SSL_IO_SSL;
}

static const char *ssl_errortext(ssl_conn *c, int err) {
    if (err == SSL_IO_SSL) {
        const char *r = context_reason(c->sslerr);
        return r ? r : "unknown error";
    }
    return sock_strerror(err);
}

/* LuaSec's words for "would block" / "timed out" (§9.3). */
static const char *ssl_wanttext(ssl_conn *c, int err) {
    if (err == IO_TIMEOUT || err == IO_WANTREAD || err == IO_WANTWRITE)
        return c->want == WAIT_W ? "wantwrite" : "wantread";
    return ssl_errortext(c, err);
}

/* Marks the running call, so callbacks find the Lua state and the conn. */
static void ssl_enter(ssl_conn *c, lua_State *L, int self) {
    c->L = L;
    c->self = lua_absindex(L, self);
    c->syserr = 0;
    ERR_clear_error();
}

static void ssl_leave(ssl_conn *c) {
    c->L = NULL;
}

/* ---- the io backend ---------------------------------------------------- */

static int ssl_io_send(void *ctx, const char *data, size_t n, size_t *sent) {
    ssl_conn *c = ctx;
    *sent = 0;
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return IO_CLOSED;
    c->syserr = 0;
    ERR_clear_error();
    int r = SSL_write_ex(c->ssl, data, n, sent);
    return r > 0 ? IO_DONE : ssl_result(c, r, 1);
}

static int ssl_io_recv(void *ctx, char *data, size_t n, size_t *got) {
    ssl_conn *c = ctx;
    *got = 0;
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return IO_CLOSED;
    c->syserr = 0;
    ERR_clear_error();
    int r = SSL_read_ex(c->ssl, data, n, got);
    return r > 0 ? IO_DONE : ssl_result(c, r, 1);
}

static const char *ssl_io_error(void *ctx, int err) {
    return ssl_errortext(ctx, err);
}

static size_t ssl_io_pending(void *ctx) {
    ssl_conn *c = ctx;
    return c->ssl != NULL ? (size_t) SSL_pending(c->ssl) : 0;
}

/* Readable without waiting: decrypted bytes in our buffer or in OpenSSL,
 * or taken-over bytes the fd will never signal. */
static int ssl_dirty(const void *self) {
    const ssl_conn *c = self;
    return !buffer_isempty(&c->buf) || c->pre != NULL ||
           (c->ssl != NULL && c->state == SSL_STATE_CONNECTED && SSL_pending(c->ssl) > 0);
}

/* ---- object life ------------------------------------------------------- */

static ssl_conn *ssl_check(lua_State *L, int idx) {
    return luaL_checkudata(L, idx, SSL_CONN_CLASS);
}

/* Sends close_notify when connected (one attempt, or waiting within tm),
 * then frees everything. */
static void ssl_release(lua_State *L, ssl_conn *c, timeout *tm) {
    if (c->ssl != NULL) {
        if (c->state == SSL_STATE_CONNECTED && c->base.fd >= 0) {
            for (;;) {
                c->syserr = 0;
                ERR_clear_error();
                int r = SSL_shutdown(c->ssl);
                if (r >= 0 || tm == NULL) break;
                int err = ssl_result(c, r, 1);
                if (err != IO_WANTWRITE) break;          /* the peer's reply is not awaited */
                if (wait_fd(c->base.fd, WAIT_W, tm) != IO_DONE) break;
            }
            ERR_clear_error();
        }
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    sock_close(&c->base.fd);
    free(c->pre);
    c->pre = NULL;
    c->prelen = c->preoff = 0;
    buffer_free(L, &c->buf);
    c->state = SSL_STATE_CLOSED;
}

static int ssl_gc(lua_State *L) {
    ssl_conn *c = luaL_testudata(L, 1, SSL_CONN_CLASS);
    if (c != NULL) ssl_release(L, c, NULL);
    return 0;
}

/* __close, unlike __gc, can find tasks waiting on the object: wake them. */
static int ssl_tbc(lua_State *L) {
    ssl_conn *c = luaL_testudata(L, 1, SSL_CONN_CLASS);
    if (c != NULL) wait_closing(L, c->base.fd);
    return ssl_gc(L);
}

/* close() returns nothing (§13 row 16). */
static int ssl_meth_close(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    timeout_markstart(&c->tm);
    wait_closing(L, c->base.fd);
    ssl_release(L, c, &c->tm);
    return 0;
}

static int ssl_tostring(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    lua_pushfstring(L, "SSL connection: %p%s", (void *) c,
                    c->state == SSL_STATE_CLOSED ? " (closed)" : "");
    return 1;
}

/* The stream object at idx when it is one of ours (TCP or unix). */
static stream *ssl_teststream(lua_State *L, int idx, int *tcp) {
    stream *s = class_testgroup(L, idx, "tcp{any}");
    *tcp = s != NULL;
    if (s == NULL) s = class_testgroup(L, idx, "unixstream{any}");
    return s;
}

/* Takes over our stream at idx: fd, family, timeouts, stats, the host it
 * connected to and the unread bytes of its buffer; leaves it fd -1. */
static void ssl_takestream(lua_State *L, ssl_conn *c, int self, stream *s, int idx, int tcp) {
    size_t n = s->buf.last - s->buf.first;
    if (n > 0) {
        c->pre = malloc(n);
        if (c->pre == NULL) luaL_error(L, "not enough memory");
        memcpy(c->pre, s->buf.data + s->buf.first, n);
        c->prelen = n;
        c->preoff = 0;
    }
    c->base.fd = s->base.fd;
    c->family = s->family;
    c->tm = s->tm;
    c->buf.received = s->buf.received;
    c->buf.sent = s->buf.sent;
    c->buf.birthday = s->buf.birthday;
    if (tcp) {
        lua_getiuservalue(L, idx, STREAM_UV_HOST);
        lua_setiuservalue(L, self, SSL_UV_HOST);
        lua_pushliteral(L, "tcp{client}");
    } else {
        lua_pushliteral(L, "unixstream{client}");
    }
    lua_setiuservalue(L, self, SSL_UV_CLASS);
    s->base.fd = -1;
    buffer_free(L, &s->buf);
}

/* A foreign object (LuaSocket, anything with getfd/setfd): LuaSec's way. */
static void ssl_takeforeign(lua_State *L, ssl_conn *c, int idx) {
    if (!lua_istable(L, idx) && !lua_isuserdata(L, idx)) luaL_argerror(L, 2, "socket expected");
    if (lua_getfield(L, idx, "setfd") != LUA_TFUNCTION) luaL_argerror(L, 2, "socket expected");
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "getfd") != LUA_TFUNCTION) luaL_argerror(L, 2, "socket expected");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    int isnum;
    lua_Number fd = lua_tonumberx(L, -1, &isnum);
    lua_pop(L, 1);
    if (!isnum || fd < 0 || fd > 2147483647.0) return;      /* a closed socket: conn is closed */
    lua_getfield(L, idx, "setfd");
    lua_pushvalue(L, idx);
    lua_pushinteger(L, -1);
    lua_call(L, 2, 0);
    c->base.fd = (int) fd;
    sock_setnonblocking(c->base.fd);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(c->base.fd, (struct sockaddr *) &ss, &len) == 0) c->family = ss.ss_family;
}

/* create(ctx, sock) -> conn: ssl.wrap after params became a context. */
static int ssl_lua_create(lua_State *L) {
    context *x = context_testlive(L, 1);
    if (x == NULL) return luaL_argerror(L, 1, "invalid context");
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    ssl_conn *c = lua_newuserdatauv(L, sizeof *c, SSL_UV_COUNT);        /* 3 */
    memset(c, 0, offsetof(ssl_conn, tm));
    c->base.fd = -1;
    c->base.dirty = ssl_dirty;
    c->state = SSL_STATE_CLOSED;
    c->family = AF_INET;
    timeout_init(&c->tm, -1, -1);
    c->io.send = ssl_io_send;
    c->io.recv = ssl_io_recv;
    c->io.error = ssl_io_error;
    c->io.pending = ssl_io_pending;
    c->io.ctx = c;
    c->io.fd = &c->base.fd;
    buffer_init(&c->buf, &c->io, &c->tm);
    luaL_setmetatable(L, SSL_CONN_CLASS);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, 3, SSL_UV_CTX);
    lua_pushliteral(L, "tcp{client}");
    lua_setiuservalue(L, 3, SSL_UV_CLASS);

    BIO_METHOD *method = ssl_getbiomethod(L);
    c->ssl = SSL_new(x->ctx);
    BIO *bio = c->ssl != NULL && method != NULL ? BIO_new(method) : NULL;
    if (bio == NULL) {
        ERR_clear_error();
        return luaL_error(L, "not enough memory");
    }
    BIO_set_data(bio, c);
    BIO_set_init(bio, 1);
    SSL_set_bio(c->ssl, bio, bio);
    SSL_set_app_data(c->ssl, c);
    if (x->mode == CONTEXT_SERVER) SSL_set_accept_state(c->ssl);
    else SSL_set_connect_state(c->ssl);
    c->state = SSL_STATE_NEW;

    int tcp;
    stream *s = ssl_teststream(L, 2, &tcp);
    if (s != NULL) ssl_takestream(L, c, 3, s, 2, tcp);
    else ssl_takeforeign(L, c, 2);
    lua_settop(L, 3);
    return 1;
}

/* ---- handshake --------------------------------------------------------- */

static int ssl_isip(const char *name) {
    unsigned char addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* Client side, before the first handshake step: SNI and the name the
 * certificate must match (§9.4): params.servername, then sni(name), then
 * the host the socket connected to. servername=false turns both off. */
static void ssl_prepare(lua_State *L, ssl_conn *c, int self) {
    c->prepared = 1;
    lua_getiuservalue(L, self, SSL_UV_CTX);
    context *x = context_test(L, -1);
    if (x == NULL || x->mode != CONTEXT_CLIENT) {
        lua_pop(L, 1);
        return;
    }
    lua_getiuservalue(L, -1, CONTEXT_UV_LUA);
    int sn = lua_getfield(L, -1, "servername");             /* ctx, lua, servername */
    if (sn == LUA_TBOOLEAN) {
        lua_pop(L, 3);
        return;
    }
    if (sn != LUA_TSTRING) {
        lua_pop(L, 1);
        if (lua_getiuservalue(L, self, SSL_UV_SNI) != LUA_TSTRING) {
            lua_pop(L, 1);
            lua_getiuservalue(L, self, SSL_UV_HOST);
        }
    }
    const char *name = lua_tostring(L, -1);
    if (name != NULL && name[0] != '\0') {
        int ip = ssl_isip(name);
        if (!ip) SSL_set_tlsext_host_name(c->ssl, name);
        if (x->checkhost) {
            if (ip) {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name);
            } else {
                SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                SSL_set1_host(c->ssl, name);
            }
        }
        ERR_clear_error();
    }
    lua_pop(L, 3);
}

/* Runs the handshake until done or until tm says stop. */
static int ssl_handshake(lua_State *L, ssl_conn *c, int self, timeout *tm) {
    if (c->state == SSL_STATE_CONNECTED) return IO_DONE;
    if (c->state == SSL_STATE_CLOSED || c->base.fd < 0) return IO_CLOSED;
    if (!c->prepared) ssl_prepare(L, c, self);
    for (;;) {
        ssl_enter(c, L, self);
        int r = SSL_do_handshake(c->ssl);
        ssl_leave(c);
        if (r == 1) {
            c->state = SSL_STATE_CONNECTED;
            return IO_DONE;
        }
        int err = ssl_result(c, r, 0);
        if (err != IO_WANTREAD && err != IO_WANTWRITE) return err;
        err = wait_fd(c->base.fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, tm);
        if (err != IO_DONE) return err;
    }
}

/* Yieldable methods (socket.co): a wait may yield and the method runs again
 * from its continuation; what it had done is kept in the SSL object, the
 * buffer and tm (wait.h). */
WAIT_RESTART(ssl_meth_dohandshake)
static int ssl_meth_dohandshake(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    timeout_begin(L, &c->tm, ssl_meth_dohandshake_k);
    if (c->state != SSL_STATE_CONNECTED) c->want = WAIT_R;
    int err = ssl_handshake(L, c, 1, &c->tm);
    if (err == IO_DONE) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, ssl_wanttext(c, err));
    return 2;
}

/* Begins a yieldable call whose timeout argument at idx limits this call
 * only; nil means the object's timeouts (§12.1). */
static void ssl_begincall(lua_State *L, ssl_conn *c, int idx, lua_KFunction k) {
    double limit = luaL_optnumber(L, idx, -1);
    timeout_begin(L, &c->tm, k);
    if (!lua_isnoneornil(L, idx)) timeout_setcall(&c->tm, limit);
}

/* handshake(conn [, timeout]) -> true | false, err: for starttls and
 * connect, which are new API and so say "timeout" (§12.1). */
WAIT_RESTART(ssl_lua_handshake)
static int ssl_lua_handshake(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    ssl_begincall(L, c, 2, ssl_lua_handshake_k);
    int err = ssl_handshake(L, c, 1, &c->tm);
    if (err == IO_DONE) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, ssl_errortext(c, err));
    return 2;
}

/* registry["netsocket.tlsaccept"](server, client): the TLS half of accept()
 * on a server with setssl. The handshake runs within the server's timeouts,
 * counted from the start of accept(), so a client that stalls cannot hold
 * the server beyond them; on failure the client is closed. In a socket.co
 * task it yields: the conn (slot 3) keeps the server's deadline in its own
 * timeout and this function restarts from its continuation; stream.c calls
 * it with lua_callk, so accept() itself goes on afterwards. */
WAIT_RESTART(ssl_lua_tlsaccept)
static int ssl_lua_tlsaccept(lua_State *L) {
    stream *srv = class_testgroup(L, 1, "tcp{any}");
    if (srv == NULL) return luaL_argerror(L, 1, "tcp{server} expected");
    int fresh = lua_gettop(L) < 3 || luaL_testudata(L, 3, SSL_CONN_CLASS) == NULL;
    if (fresh) {
        lua_settop(L, 2);
        lua_pushcfunction(L, ssl_lua_create);
        lua_getiuservalue(L, 1, STREAM_UV_TLS);
        lua_pushvalue(L, 2);
        lua_call(L, 2, 1);                               /* 3: conn */
    }
    lua_settop(L, 3);
    ssl_conn *c = ssl_check(L, 3);
    if (fresh) timeout_init(&c->tm, srv->tm.block, srv->tm.total);
    if (!timeout_begin(L, &c->tm, ssl_lua_tlsaccept_k)) c->tm.start = srv->tm.start;
    int err = ssl_handshake(L, c, 3, &c->tm);
    timeout_init(&c->tm, -1, -1);
    if (err != IO_DONE) {
        const char *msg = ssl_errortext(c, err);
        lua_pushnil(L);
        lua_pushstring(L, msg);
        ssl_release(L, c, NULL);
        return 2;
    }
    lua_pushvalue(L, 3);
    return 1;
}

/* ---- data -------------------------------------------------------------- */

/* LuaSec's methods say "wantread"/"wantwrite" where TCP says "timeout". */
static int ssl_mapwant(lua_State *L, ssl_conn *c, int n) {
    if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "timeout") == 0) {
        lua_pushstring(L, c->want == WAIT_W ? "wantwrite" : "wantread");
        lua_replace(L, -3);
    }
    return n;
}

/* The buffered methods over TLS: the engine's method between ssl_enter and
 * ssl_leave. With `want` (receive, send) a timeout in a non-blocking call
 * is reported as wantread/wantwrite (ssl_mapwant). */
static int ssl_buffered(lua_State *L, lua_KFunction k, int want, int (*meth)(lua_State *, buffer *)) {
    ssl_conn *c = ssl_check(L, 1);
    timeout_begin(L, &c->tm, k);
    if (want) c->want = want;
    ssl_enter(c, L, 1);
    int n = meth(L, &c->buf);
    ssl_leave(c);
    return want ? ssl_mapwant(L, c, n) : n;
}

WAIT_RESTART(ssl_meth_receive)
static int ssl_meth_receive(lua_State *L) {
    return ssl_buffered(L, ssl_meth_receive_k, WAIT_R, buffer_meth_receive);
}

WAIT_RESTART(ssl_meth_send)
static int ssl_meth_send(lua_State *L) {
    return ssl_buffered(L, ssl_meth_send_k, WAIT_W, buffer_meth_send);
}

WAIT_RESTART(ssl_meth_receivesome)
static int ssl_meth_receivesome(lua_State *L) {
    return ssl_buffered(L, ssl_meth_receivesome_k, 0, buffer_meth_receivesome);
}

WAIT_RESTART(ssl_meth_sendsome)
static int ssl_meth_sendsome(lua_State *L) {
    return ssl_buffered(L, ssl_meth_sendsome_k, 0, buffer_meth_sendsome);
}

static int ssl_meth_getstats(lua_State *L) {
    return buffer_meth_getstats(L, &ssl_check(L, 1)->buf);
}

static int ssl_meth_setstats(lua_State *L) {
    return buffer_meth_setstats(L, &ssl_check(L, 1)->buf);
}

static int ssl_meth_settimeout(lua_State *L) {
    return timeout_meth_settimeout(L, &ssl_check(L, 1)->tm);
}

static int ssl_meth_gettimeout(lua_State *L) {
    return timeout_meth_gettimeout(L, &ssl_check(L, 1)->tm);
}

static int ssl_meth_getfd(lua_State *L) {
    lua_pushinteger(L, ssl_check(L, 1)->base.fd);
    return 1;
}

static int ssl_meth_dirty(lua_State *L) {
    lua_pushboolean(L, ssl_dirty(ssl_check(L, 1)));
    return 1;
}

static int ssl_meth_getpeername(lua_State *L) {
    return inet_pushname(L, ssl_check(L, 1)->base.fd, 1);
}

static int ssl_meth_getsockname(lua_State *L) {
    return inet_pushname(L, ssl_check(L, 1)->base.fd, 0);
}

static int ssl_meth_getfamily(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    lua_pushstring(L, c->family == AF_INET6 ? "inet6" : c->family == AF_UNIX ? "unix" : "inet4");
    return 1;
}

static int ssl_meth_getoption(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    return options_meth_get(L, c->family == AF_UNIX ? options_unix : options_tcp, c->base.fd);
}

static int ssl_meth_setoption(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    return options_meth_set(L, c->family == AF_UNIX ? options_unix : options_tcp, c->base.fd);
}

/* Our BIO writes straight to the fd, so OpenSSL holds no unsent bytes:
 * pending is the kernel's count. */
static int ssl_meth_getpending(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    if (c->base.fd < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    long n = sock_outq(c->base.fd);
    if (n < 0) {
        lua_pushnil(L);
        lua_pushliteral(L, "not supported");
        return 2;
    }
    lua_pushinteger(L, n);
    return 1;
}

WAIT_RESTART(ssl_meth_drain)
static int ssl_meth_drain(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    ssl_begincall(L, c, 2, ssl_meth_drain_k);
    double nap = 0.001;
    for (;;) {
        long n = c->base.fd >= 0 ? sock_outq(c->base.fd) : -2;
        if (n < 0) {
            lua_pushnil(L);
            lua_pushstring(L, n == -2 ? "closed" : "not supported");
            return 2;
        }
        if (n == 0) {
            lua_pushinteger(L, 0);
            return 1;
        }
        if (wait_backoff(&c->tm, &nap) != IO_DONE) {   /* no event says "acknowledged" */
            lua_pushnil(L);
            lua_pushliteral(L, "timeout");
            lua_pushinteger(L, n);
            return 3;
        }
    }
}

/* ---- TLS state --------------------------------------------------------- */

static int ssl_meth_want(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    int w = c->ssl != NULL ? SSL_want(c->ssl) : SSL_NOTHING;
    lua_pushstring(L, w == SSL_READING ? "read" : w == SSL_WRITING ? "write"
                    : w == SSL_X509_LOOKUP ? "x509lookup" : "nothing");
    return 1;
}

static int ssl_closed(lua_State *L) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
}

static int ssl_isserver(ssl_conn *c) {
    return c->ssl != NULL && SSL_is_server(c->ssl);
}

static int ssl_meth_getpeercertificate(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    if (c->state != SSL_STATE_CONNECTED) return ssl_closed(L);
    if (n < 1) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid certificate index");
        return 2;
    }
    if (n == 1) {
        X509 *cert = SSL_get1_peer_certificate(c->ssl);
        if (cert == NULL) lua_pushnil(L);
        else x509_push(L, cert);
        return 1;
    }
    /* A server's chain lacks the client's own certificate. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
    lua_Integer i = ssl_isserver(c) ? n - 2 : n - 1;
    if (chain == NULL || i >= sk_X509_num(chain)) {
        lua_pushnil(L);
        return 1;
    }
    X509 *cert = sk_X509_value(chain, (int) i);
    X509_up_ref(cert);
    x509_push(L, cert);
    return 1;
}

static int ssl_meth_getpeerchain(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    if (c->state != SSL_STATE_CONNECTED) return ssl_closed(L);
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
    lua_newtable(L);
    lua_Integer k = 0;
    if (ssl_isserver(c)) {
        X509 *cert = SSL_get1_peer_certificate(c->ssl);
        if (cert == NULL) {
            lua_pushnil(L);
            return 1;
        }
        x509_push(L, cert);
        lua_rawseti(L, -2, ++k);
    }
    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        X509 *cert = sk_X509_value(chain, i);
        X509_up_ref(cert);
        x509_push(L, cert);
        lua_rawseti(L, -2, ++k);
    }
    if (k == 0) lua_pushnil(L);
    return 1;
}

static int ssl_meth_getlocalcertificate(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, 1);
    if (c->state != SSL_STATE_CONNECTED) return ssl_closed(L);
    if (n < 1) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid certificate index");
        return 2;
    }
    X509 *cert = SSL_get_certificate(c->ssl);
    if (n > 1) {
        STACK_OF(X509) *chain = NULL;
        SSL_get0_chain_certs(c->ssl, &chain);
        cert = chain != NULL && n - 2 < sk_X509_num(chain) ? sk_X509_value(chain, (int) (n - 2)) : NULL;
    }
    if (cert == NULL) {
        lua_pushnil(L);
        return 1;
    }
    X509_up_ref(cert);
    x509_push(L, cert);
    return 1;
}

static int ssl_meth_getlocalchain(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    if (c->state != SSL_STATE_CONNECTED) return ssl_closed(L);
    X509 *cert = SSL_get_certificate(c->ssl);
    if (cert == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_newtable(L);
    X509_up_ref(cert);
    x509_push(L, cert);
    lua_rawseti(L, -2, 1);
    STACK_OF(X509) *chain = NULL;
    SSL_get0_chain_certs(c->ssl, &chain);
    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        X509 *extra = sk_X509_value(chain, i);
        X509_up_ref(extra);
        x509_push(L, extra);
        lua_rawseti(L, -2, i + 2);
    }
    return 1;
}

/* true | false, reason (a table of errors by depth under lsec_continue).
 * Also after a failed handshake, to say why it failed (§9.4). */
static int ssl_meth_getpeerverification(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    if (c->ssl == NULL || c->state == SSL_STATE_CLOSED || !c->prepared) {   /* no handshake yet */
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "closed");
        return 2;
    }
    long err = SSL_get_verify_result(c->ssl);
    if (err == X509_V_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    if (lua_getiuservalue(L, 1, SSL_UV_ERRORS) != LUA_TTABLE) {
        lua_pop(L, 1);
        /* one word for a name that does not match, DNS or IP (§9.4) */
        if (err == X509_V_ERR_IP_ADDRESS_MISMATCH) err = X509_V_ERR_HOSTNAME_MISMATCH;
        lua_pushstring(L, X509_verify_cert_error_string(err));
    }
    return 2;
}

/* The cipher description split the way LuaSec's ssl.lua splits it. */
static int ssl_meth_info(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    const char *field = luaL_optstring(L, 2, NULL);
    if (c->state == SSL_STATE_CLOSED) return ssl_closed(L);
    const SSL_CIPHER *cipher = c->ssl != NULL ? SSL_get_current_cipher(c->ssl) : NULL;
    if (cipher == NULL) {
        lua_pushnil(L);
        return 1;
    }
    char desc[256];
    SSL_CIPHER_description(cipher, desc, sizeof desc);
    int algbits = 0;
    int bits = SSL_CIPHER_get_bits(cipher, &algbits);
    lua_newtable(L);
    lua_pushinteger(L, bits);
    lua_setfield(L, -2, "bits");
    lua_pushinteger(L, algbits);
    lua_setfield(L, -2, "algbits");
    int export = 0, k = 0;
    static const struct { const char *prefix, *field; } keys[] = {
        {"Kx=", "key"}, {"Au=", "authentication"}, {"Enc=", "encryption"}, {"Mac=", "mac"}
    };
    char *save = NULL;
    for (char *tok = strtok_r(desc, " \t\n", &save); tok != NULL;
         tok = strtok_r(NULL, " \t\n", &save), k++) {
        if (k == 0) {
            lua_pushstring(L, tok);
            lua_setfield(L, -2, "cipher");
            continue;
        }
        if (strcmp(tok, "export") == 0) export = 1;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t len = strlen(keys[i].prefix);
            if (strncmp(tok, keys[i].prefix, len) == 0) {
                lua_pushstring(L, tok + len);
                lua_setfield(L, -2, keys[i].field);
            }
        }
    }
    lua_pushboolean(L, export);
    lua_setfield(L, -2, "export");
    lua_pushstring(L, SSL_get_version(c->ssl));
    lua_setfield(L, -2, "protocol");
    if (field != NULL) lua_getfield(L, -1, field);   /* compression: nil, as in OpenSSL 3 */
    return 1;
}

static int ssl_meth_getalpn(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    const unsigned char *p = NULL;
    unsigned int len = 0;
    if (c->ssl != NULL) SSL_get0_alpn_selected(c->ssl, &p, &len);
    if (p == NULL || len == 0) lua_pushnil(L);
    else lua_pushlstring(L, (const char *) p, len);
    return 1;
}

static int ssl_meth_getsniname(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    const char *name = c->ssl != NULL ? SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
    if (name == NULL) lua_pushnil(L);
    else lua_pushstring(L, name);
    return 1;
}

/* Server: picks the context for the name the client asked for. */
static int ssl_snicb(SSL *ssl, int *ad, void *arg) {
    (void) arg;
    ssl_conn *c = SSL_get_app_data(ssl);
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (c == NULL || c->L == NULL) return SSL_TLSEXT_ERR_NOACK;
    lua_State *L = c->L;
    if (lua_getiuservalue(L, c->self, SSL_UV_SNI) != LUA_TTABLE) {
        lua_pop(L, 1);
        return SSL_TLSEXT_ERR_OK;
    }
    context *x = NULL;
    if (name != NULL) {
        lua_getfield(L, -1, name);
        x = context_testlive(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (x == NULL) {
        if (!c->snistrict) return SSL_TLSEXT_ERR_OK;
        *ad = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (SSL_set_SSL_CTX(ssl, x->ctx) == NULL) return SSL_TLSEXT_ERR_ALERT_FATAL;
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(x->ctx), SSL_CTX_get_verify_callback(x->ctx));
    SSL_set_options(ssl, SSL_CTX_get_options(x->ctx));
    return SSL_TLSEXT_ERR_OK;
}

/* Client: sni(name) sets SNI and the name to verify. Server: sni(map
 * [, strict]) selects a context by the requested name. */
static int ssl_meth_sni(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    if (c->ssl == NULL) return ssl_closed(L);
    if (!ssl_isserver(c)) {
        const char *name = luaL_checkstring(L, 2);
        lua_pushvalue(L, 2);
        lua_setiuservalue(L, 1, SSL_UV_SNI);
        int ok = SSL_set_tlsext_host_name(c->ssl, name) == 1;
        ERR_clear_error();
        lua_pushboolean(L, ok);
        return 1;
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING || context_testlive(L, -1) == NULL)
            return luaL_argerror(L, 2, "map of name -> context expected");
        lua_pop(L, 1);
    }
    c->snistrict = lua_toboolean(L, 3);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, SSL_UV_SNI);
    SSL_CTX *ctx = SSL_get_SSL_CTX(c->ssl);
    SSL_CTX_set_tlsext_servername_callback(ctx, ssl_snicb);
    lua_pushboolean(L, 1);
    return 1;
}

static int ssl_pushfinished(lua_State *L, size_t (*get)(const SSL *, void *, size_t)) {
    ssl_conn *c = ssl_check(L, 1);
    char buf[EVP_MAX_MD_SIZE];
    size_t len = c->state == SSL_STATE_CONNECTED ? get(c->ssl, buf, sizeof buf) : 0;
    if (len == 0) lua_pushnil(L);
    else lua_pushlstring(L, buf, len > sizeof buf ? sizeof buf : len);
    return 1;
}

static int ssl_meth_getfinished(lua_State *L) {
    return ssl_pushfinished(L, SSL_get_finished);
}

static int ssl_meth_getpeerfinished(lua_State *L) {
    return ssl_pushfinished(L, SSL_get_peer_finished);
}

static int ssl_meth_exportkeyingmaterial(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    size_t llen, clen = 0;
    const char *label = luaL_checklstring(L, 2, &llen);
    lua_Integer n = luaL_checkinteger(L, 3);
    const char *ctx = luaL_optlstring(L, 4, NULL, &clen);
    luaL_argcheck(L, n > 0 && n <= 65536, 3, "invalid length");
    if (c->state != SSL_STATE_CONNECTED) return ssl_closed(L);
    unsigned char *out = lua_newuserdatauv(L, (size_t) n, 0);
    if (SSL_export_keying_material(c->ssl, out, (size_t) n, label, llen,
                                   (const unsigned char *) ctx, clen, ctx != NULL) != 1) {
        lua_pushnil(L);
        lua_pushstring(L, context_error());
        return 2;
    }
    lua_pushlstring(L, (const char *) out, (size_t) n);
    return 1;
}

static int ssl_meth_setdane(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    const char *domain = luaL_checkstring(L, 2);
    if (c->ssl == NULL) return ssl_closed(L);
    int ok = SSL_dane_enable(c->ssl, domain) > 0;
    ERR_clear_error();
    lua_pushboolean(L, ok);
    return 1;
}

static int ssl_meth_settlsa(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    int usage = class_toint(luaL_checknumber(L, 2));
    int selector = class_toint(luaL_checknumber(L, 3));
    int mtype = class_toint(luaL_checknumber(L, 4));
    size_t len;
    const char *data = luaL_checklstring(L, 5, &len);
    if (c->ssl == NULL) return ssl_closed(L);
    int ok = SSL_dane_tlsa_add(c->ssl, (uint8_t) usage, (uint8_t) selector, (uint8_t) mtype,
                               (const unsigned char *) data, len) > 0;
    ERR_clear_error();
    lua_pushboolean(L, ok);
    return 1;
}

/* ---- stoptls ----------------------------------------------------------- */

/* Copies the conn's unread bytes (decrypted data, then plaintext that
 * followed the TLS stream) into the new stream's buffer. */
static void ssl_handback(lua_State *L, ssl_conn *c, stream *s) {
    size_t a = c->buf.last - c->buf.first, b = c->pre ? c->prelen - c->preoff : 0;
    if (a + b == 0) return;
    buffer *d = &s->buf;
    if (a + b > d->cap) {                     /* the allocation buffer.c releases */
        void *ud;
        lua_Alloc f = lua_getallocf(L, &ud);
        char *data = f(ud, NULL, 0, a + b);
        if (data == NULL) luaL_error(L, "not enough memory");
        d->data = data;
        d->cap = a + b;
    }
    memcpy(d->data, c->buf.data + c->buf.first, a);
    if (b > 0) memcpy(d->data + a, c->pre + c->preoff, b);
    d->first = 0;
    d->last = a + b;
}

/* Room for n more bytes after the conn's unread ones, grown the way
 * buffer.c grows it (the Lua allocator, so buffer_free releases it). */
static void ssl_reserve(lua_State *L, buffer *b, size_t n) {
    size_t avail = b->last - b->first;
    if (b->cap - b->last >= n) return;
    if (b->cap - avail >= n) {
        memmove(b->data, b->data + b->first, avail);
    } else {
        size_t cap = b->cap * 2 > avail + n ? b->cap * 2 : avail + n;
        void *ud;
        lua_Alloc f = lua_getallocf(L, &ud);
        char *data = f(ud, NULL, 0, cap);
        if (data == NULL) luaL_error(L, "not enough memory");
        memcpy(data, b->data + b->first, avail);
        if (b->data != b->init) f(ud, b->data, b->cap, 0);
        b->data = data;
        b->cap = cap;
    }
    b->first = 0;
    b->last = avail;
}

/* Sends our close_notify and reads up to the peer's, keeping the data
 * that came before it. IO_DONE once both are through. */
static int ssl_shutdownboth(lua_State *L, ssl_conn *c, timeout *tm) {
    while (!(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
        ssl_enter(c, L, 1);
        int r = SSL_shutdown(c->ssl);
        ssl_leave(c);
        if (r >= 0) break;
        int err = ssl_result(c, r, 1);
        if (err != IO_WANTREAD && err != IO_WANTWRITE) return err;
        if ((err = wait_fd(c->base.fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, tm)) != IO_DONE)
            return err;
    }
    while (!(SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN)) {
        ssl_reserve(L, &c->buf, 4096);
        size_t got = 0;
        ssl_enter(c, L, 1);
        int r = SSL_read_ex(c->ssl, c->buf.data + c->buf.last, c->buf.cap - c->buf.last, &got);
        ssl_leave(c);
        if (r > 0) {
            c->buf.last += got;
            continue;
        }
        int err = ssl_result(c, r, 1);
        if (SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN) break;
        if (err != IO_WANTREAD && err != IO_WANTWRITE) return err;
        if ((err = wait_fd(c->base.fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, tm)) != IO_DONE)
            return err;
    }
    return IO_DONE;
}

/* stoptls([timeout]): both close_notify alerts, then a plain stream on the
 * same fd with the conn's timeouts, stats, host and unread bytes. After a
 * timeout it can be called again: it goes on where it stopped. */
WAIT_RESTART(ssl_meth_stoptls)
static int ssl_meth_stoptls(lua_State *L) {
    ssl_conn *c = ssl_check(L, 1);
    ssl_begincall(L, c, 2, ssl_meth_stoptls_k);
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return ssl_closed(L);
    int err = ssl_shutdownboth(L, c, &c->tm);
    lua_settop(L, 1);
    if (err != IO_DONE) {
        lua_pushnil(L);
        lua_pushstring(L, ssl_errortext(c, err));
        return 2;
    }
    /* socket.fromfd's adopter for the class the conn was made from. */
    lua_getfield(L, LUA_REGISTRYINDEX, "netsocket.fromfd");
    lua_getiuservalue(L, 1, SSL_UV_CLASS);
    const char *cls = lua_tostring(L, -1);
    if (!lua_istable(L, -2) || lua_getfield(L, -2, cls ? cls : "tcp{client}") != LUA_TFUNCTION)
        return luaL_error(L, "socket.core is not loaded");
    lua_pushinteger(L, c->base.fd);
    lua_pushvalue(L, -3);
    lua_call(L, 2, 2);
    if (lua_isnil(L, -2)) return 2;                  /* nil, err: the conn keeps the fd */
    lua_pop(L, 1);
    stream *s = class_testgroup(L, -1, "tcp{any}");
    if (s == NULL) s = class_testgroup(L, -1, "unixstream{any}");
    if (s == NULL) return luaL_error(L, "socket.fromfd gave no stream");
    s->tm = c->tm;
    s->buf.received = c->buf.received;
    s->buf.sent = c->buf.sent;
    s->buf.birthday = c->buf.birthday;
    ssl_handback(L, c, s);
    lua_getiuservalue(L, 1, SSL_UV_HOST);
    lua_setiuservalue(L, -2, STREAM_UV_HOST);
    c->base.fd = -1;                                 /* the stream owns it now */
    ssl_release(L, c, NULL);
    return 1;
}

/* ---- callbacks --------------------------------------------------------- */

/* verifyext: lsec_ignore_purpose and lsec_continue (errors kept by depth). */
int ssl_verifycb(int ok, X509_STORE_CTX *store) {
    if (ok) return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    context *x = ssl != NULL ? context_of(SSL_get_SSL_CTX(ssl)) : NULL;
    if (x == NULL || x->verifyext == 0) return 0;
    int err = X509_STORE_CTX_get_error(store);
    if ((x->verifyext & CONTEXT_VERIFY_IGNORE_PURPOSE) && err == X509_V_ERR_INVALID_PURPOSE) return 1;
    if (!(x->verifyext & CONTEXT_VERIFY_CONTINUE)) return 0;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c != NULL && c->L != NULL) {
        lua_State *L = c->L;
        if (lua_getiuservalue(L, c->self, SSL_UV_ERRORS) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setiuservalue(L, c->self, SSL_UV_ERRORS);
        }
        lua_Integer depth = X509_STORE_CTX_get_error_depth(store);
        if (lua_geti(L, -1, depth) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_seti(L, -3, depth);
        }
        if (err == X509_V_ERR_IP_ADDRESS_MISMATCH) err = X509_V_ERR_HOSTNAME_MISMATCH;
        lua_pushstring(L, X509_verify_cert_error_string(err));
        lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
        lua_pop(L, 2);
    }
    return 1;
}

/* Server ALPN: the first protocol of ours (or of the selector's answer)
 * that the client offered. */
int ssl_alpncb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
               const unsigned char *in, unsigned int inlen, void *arg) {
    (void) arg;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c == NULL || c->L == NULL) return SSL_TLSEXT_ERR_NOACK;
    lua_State *L = c->L;
    int top = lua_gettop(L);
    int res = SSL_TLSEXT_ERR_NOACK;
    if (!context_pushlua(L, SSL_get_SSL_CTX(ssl))) {
        lua_settop(L, top);
        return res;
    }
    if (lua_getfield(L, -1, "alpnselect") == LUA_TFUNCTION) {
        context_pushalpn(L, in, inlen);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && context_encodealpn(L, -1) == NULL) {
            size_t len;
            const unsigned char *wire = (const unsigned char *) lua_tolstring(L, -1, &len);
            unsigned char *sel;
            unsigned char sellen;
            if (SSL_select_next_proto(&sel, &sellen, wire, (unsigned int) len, in, inlen) ==
                OPENSSL_NPN_NEGOTIATED) {
                memcpy(c->alpn, sel, sellen);        /* outlives the Lua string */
                *out = c->alpn;
                *outlen = sellen;
                res = SSL_TLSEXT_ERR_OK;
            }
        }
    } else if (lua_getfield(L, -2, "alpn") == LUA_TSTRING) {
        size_t len;
        const unsigned char *wire = (const unsigned char *) lua_tolstring(L, -1, &len);
        unsigned char *sel;
        unsigned char sellen;
        if (SSL_select_next_proto(&sel, &sellen, wire, (unsigned int) len, in, inlen) ==
            OPENSSL_NPN_NEGOTIATED) {
            memcpy(c->alpn, sel, sellen);
            *out = c->alpn;
            *outlen = sellen;
            res = SSL_TLSEXT_ERR_OK;
        }
    }
    lua_settop(L, top);
    return res;
}

/* Calls the context's psk function with (a, max) and `nres` results. */
static lua_State *ssl_pskcall(SSL *ssl, const char *a, unsigned int max, int nres) {
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c == NULL || c->L == NULL) return NULL;
    lua_State *L = c->L;
    int top = lua_gettop(L);
    if (!context_pushlua(L, SSL_get_SSL_CTX(ssl)) || lua_getfield(L, -1, "psk") != LUA_TFUNCTION) {
        lua_settop(L, top);
        return NULL;
    }
    if (a != NULL) lua_pushstring(L, a);
    else lua_pushnil(L);
    lua_pushinteger(L, max);
    if (lua_pcall(L, 2, nres, 0) != LUA_OK) {
        lua_settop(L, top);
        return NULL;
    }
    return L;
}

unsigned int ssl_pskclientcb(SSL *ssl, const char *hint, char *identity,
                             unsigned int maxidentity, unsigned char *psk, unsigned int maxpsk) {
    int top = 0;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c != NULL && c->L != NULL) top = lua_gettop(c->L);
    lua_State *L = ssl_pskcall(ssl, hint, maxpsk, 2);
    if (L == NULL) return 0;
    size_t ilen, klen;
    const char *id = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &ilen) : NULL;
    const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &klen) : NULL;
    unsigned int res = 0;
    if (id != NULL && key != NULL && ilen < maxidentity && klen <= maxpsk) {
        memcpy(identity, id, ilen + 1);
        memcpy(psk, key, klen);
        res = (unsigned int) klen;
    }
    lua_settop(L, top);
    return res;
}

unsigned int ssl_pskservercb(SSL *ssl, const char *identity, unsigned char *psk,
                             unsigned int maxpsk) {
    int top = 0;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c != NULL && c->L != NULL) top = lua_gettop(c->L);
    lua_State *L = ssl_pskcall(ssl, identity, maxpsk, 1);
    if (L == NULL) return 0;
    size_t klen;
    const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &klen) : NULL;
    unsigned int res = 0;
    if (key != NULL && klen <= maxpsk) {
        memcpy(psk, key, klen);
        res = (unsigned int) klen;
    }
    lua_settop(L, top);
    return res;
}

/* ---- module ------------------------------------------------------------ */

/* setssl(server, ctx|nil): stores the context accept() will use. */
static int ssl_lua_setssl(lua_State *L) {
    class_check(L, 1, "tcp{server}");
    if (!lua_isnoneornil(L, 2) && context_testlive(L, 2) == NULL)
        return luaL_argerror(L, 2, "invalid context");
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, STREAM_UV_TLS);
    lua_pushinteger(L, 1);
    return 1;
}

/* gettls(sock): the context acceptnossl left on a client, or nil. */
static int ssl_lua_gettls(lua_State *L) {
    if (class_testgroup(L, 1, "tcp{any}") == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_getiuservalue(L, 1, STREAM_UV_TLS);
    return 1;
}

__attribute__((visibility("default"))) int luaopen_socket_ssl_core(lua_State *L);

int luaopen_socket_ssl_core(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"close", ssl_meth_close},
        {"dirty", ssl_meth_dirty},
        {"dohandshake", ssl_meth_dohandshake},
        {"drain", ssl_meth_drain},
        {"exportkeyingmaterial", ssl_meth_exportkeyingmaterial},
        {"getalpn", ssl_meth_getalpn},
        {"getfamily", ssl_meth_getfamily},
        {"getfd", ssl_meth_getfd},
        {"getfinished", ssl_meth_getfinished},
        {"getlocalcertificate", ssl_meth_getlocalcertificate},
        {"getlocalchain", ssl_meth_getlocalchain},
        {"getoption", ssl_meth_getoption},
        {"getpeercertificate", ssl_meth_getpeercertificate},
        {"getpeerchain", ssl_meth_getpeerchain},
        {"getpeerfinished", ssl_meth_getpeerfinished},
        {"getpeername", ssl_meth_getpeername},
        {"getpeerverification", ssl_meth_getpeerverification},
        {"getpending", ssl_meth_getpending},
        {"getsniname", ssl_meth_getsniname},
        {"getsockname", ssl_meth_getsockname},
        {"getstats", ssl_meth_getstats},
        {"gettimeout", ssl_meth_gettimeout},
        {"info", ssl_meth_info},
        {"receive", ssl_meth_receive},
        {"receivesome", ssl_meth_receivesome},
        {"send", ssl_meth_send},
        {"sendsome", ssl_meth_sendsome},
        {"setdane", ssl_meth_setdane},
        {"setoption", ssl_meth_setoption},
        {"setstats", ssl_meth_setstats},
        {"settimeout", ssl_meth_settimeout},
        {"settlsa", ssl_meth_settlsa},
        {"sni", ssl_meth_sni},
        {"stoptls", ssl_meth_stoptls},
        {"want", ssl_meth_want},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", ssl_gc},
        {"__close", ssl_tbc},
        {"__tostring", ssl_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg funcs[] = {
        {"create", ssl_lua_create},
        {"handshake", ssl_lua_handshake},
        {"setssl", ssl_lua_setssl},
        {"gettls", ssl_lua_gettls},
        {NULL, NULL}
    };
    /* Before any conn exists, so it is finalized after all of them. */
    ssl_newbiomethod(L);
    luaL_newlib(L, funcs);
    class_new(L, SSL_CONN_CLASS, methods, meta);
    class_selectable(L, SSL_CONN_CLASS);
    context_open(L);
    x509_open(L);
    lua_pushcfunction(L, ssl_lua_tlsaccept);
    lua_setfield(L, LUA_REGISTRYINDEX, "netsocket.tlsaccept");
    return 1;
}
