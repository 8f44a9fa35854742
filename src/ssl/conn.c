/* The TLS connection object (API.md §9): its life (wrap: taking over a
 * stream or a foreign socket, close, __gc) and the methods it shares with a
 * TCP socket (data, timeouts, stats, options, addresses). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include "buffer.h"
#include "class.h"
#include "httphead.h"
#include "inet.h"
#include "options.h"
#include "sock.h"
#include "stream.h"
#include "timeout.h"
#include "wait.h"
#include "ssl.h"

ssl_conn *conn_check(lua_State *L, int idx) {
    return luaL_checkudata(L, idx, SSL_CONN_CLASS);
}

ssl_conn *conn_checkidle(lua_State *L, int idx) {
    ssl_conn *c = luaL_checkudata(L, idx, SSL_CONN_CLASS);
    if (c->incallback) luaL_error(L, "a TLS connection cannot be used inside its own callback");
    return c;
}

/* close_notify is one attempt, never a wait: a peer that stopped reading
 * must not hold close() (or a whole socket.co process) hostage. */
void conn_release(lua_State *L, ssl_conn *c) {
    if (c->ssl != NULL) {
        if (c->state == SSL_STATE_CONNECTED && c->base.fd >= 0 && !c->failed) {
            c->syserr = 0;
            ERR_clear_error();
            SSL_shutdown(c->ssl);
            ERR_clear_error();
        }
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    callback_freedh(c);
    tlsio_free(c);
    sock_close(&c->base.fd);
    free(c->pre);
    c->pre = NULL;
    c->prelen = c->preoff = 0;
    buffer_free(L, &c->buf);
    c->state = SSL_STATE_CLOSED;
}

static int conn_gc(lua_State *L) {
    ssl_conn *c = luaL_testudata(L, 1, SSL_CONN_CLASS);
    if (c != NULL) conn_release(L, c);
    return 0;
}

/* __close, unlike __gc, can find tasks waiting on the object: wake them. */
static int conn_tbc(lua_State *L) {
    ssl_conn *c = luaL_testudata(L, 1, SSL_CONN_CLASS);
    if (c != NULL) {
        conn_checkidle(L, 1);
        wait_closing(L, c->base.fd);
    }
    return conn_gc(L);
}

/* close() returns nothing (§13 row 16). */
static int conn_meth_close(lua_State *L) {
    ssl_conn *c = conn_checkidle(L, 1);
    wait_closing(L, c->base.fd);
    conn_release(L, c);
    return 0;
}

static int conn_tostring(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    class_pushaddr(L, "SSL connection", c);
    if (c->state == SSL_STATE_CLOSED) {
        lua_pushliteral(L, " (closed)");
        lua_concat(L, 2);
    }
    return 1;
}

/* The stream object at idx when it is one of ours (TCP or unix). */
static stream *conn_teststream(lua_State *L, int idx, int *tcp) {
    stream *s = class_testgroup(L, idx, "tcp{any}");
    *tcp = s != NULL;
    if (s == NULL) s = class_testgroup(L, idx, "unixstream{any}");
    return s;
}

/* Takes over our stream at idx: fd, family, timeouts, stats, the host it
 * connected to and the unread bytes of its buffer; leaves it fd -1. */
static void conn_takestream(lua_State *L, ssl_conn *c, int self, stream *s, int idx, int tcp) {
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
    c->cs.tm = s->cs.tm;
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
    wait_closing(L, s->base.fd);      /* a task parked on the stream finds it closed */
    s->base.fd = -1;
    buffer_free(L, &s->buf);
}

/* A foreign object (LuaSocket, anything with getfd/setfd): LuaSec's way. */
static void conn_takeforeign(lua_State *L, ssl_conn *c, int idx) {
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
int conn_lua_create(lua_State *L) {
    context *x = context_testlive(L, 1);
    if (x == NULL) return luaL_argerror(L, 1, "invalid context");
    luaL_checkany(L, 2);
    lua_settop(L, 2);
    ssl_conn *c = lua_newuserdatauv(L, sizeof *c, SSL_UV_COUNT);        /* 3 */
    memset(c, 0, offsetof(ssl_conn, cs));
    c->base.fd = -1;
    c->state = SSL_STATE_CLOSED;
    c->family = AF_INET;
    call_init(&c->cs, -1, -1);
    tlsio_init(c);
    buffer_init(&c->buf, &c->io, &c->cs);
    luaL_setmetatable(L, SSL_CONN_CLASS);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, 3, SSL_UV_CTX);
    lua_pushliteral(L, "tcp{client}");
    lua_setiuservalue(L, 3, SSL_UV_CLASS);

    BIO_METHOD *method = bio_method(L);
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
    stream *s = conn_teststream(L, 2, &tcp);
    if (s != NULL) {
        /* a task parked on the stream would wake on a descriptor that is no
         * longer its own, its partial data taken for TLS bytes: refuse */
        if (call_begin(L, &s->cs.rd, NULL) == CALL_BUSY) return conn_busy(L, &s->cs.rd);
        if (call_begin(L, &s->cs.wr, NULL) == CALL_BUSY) return conn_busy(L, &s->cs.wr);
        conn_takestream(L, c, 3, s, 2, tcp);
    } else {
        conn_takeforeign(L, c, 2);
    }
    lua_settop(L, 3);
    return 1;
}

int conn_begincall(lua_State *L, call *cl, int idx, lua_KFunction k) {
    double limit = luaL_optnumber(L, idx, -1);
    int st = call_begin(L, cl, k);
    if (st != CALL_BUSY && !lua_isnoneornil(L, idx)) call_setlimit(cl, limit);
    return st;
}

int conn_busy(lua_State *L, const call *cl) {
    lua_pushnil(L);
    lua_pushstring(L, call_busy(cl));
    return 2;
}

/* LuaSec's methods say "wantread"/"wantwrite" where TCP says "timeout". */
static int conn_mapwant(lua_State *L, ssl_conn *c, int n) {
    if (lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), "timeout") == 0) {
        lua_pushstring(L, c->want == WAIT_W ? "wantwrite" : "wantread");
        lua_replace(L, -3);
    }
    return n;
}

/* The buffered methods over TLS: the engine's method between tlsio_enter and
 * tlsio_leave. With `want` (receive, send) a timeout in a non-blocking call
 * is reported as wantread/wantwrite (conn_mapwant). */
static int conn_buffered(lua_State *L, lua_KFunction k, int want, int write,
                         int (*meth)(lua_State *, buffer *)) {
    ssl_conn *c = conn_checkidle(L, 1);
    call *cl = write ? &c->cs.wr : &c->cs.rd;
    if (call_begin(L, cl, k) == CALL_BUSY) return want ? buffer_pushbusy(L, &c->buf, cl) : conn_busy(L, cl);
    if (want) c->want = want;
    tlsio_enter(c, L, 1);
    int n = meth(L, &c->buf);
    tlsio_leave(c);
    return want ? conn_mapwant(L, c, n) : n;
}

WAIT_RESTART(conn_meth_receive)
static int conn_meth_receive(lua_State *L) {
    return conn_buffered(L, conn_meth_receive_k, WAIT_R, 0, buffer_meth_receive);
}

WAIT_RESTART(conn_meth_send)
static int conn_meth_send(lua_State *L) {
    return conn_buffered(L, conn_meth_send_k, WAIT_W, 1, buffer_meth_send);
}

WAIT_RESTART(conn_meth_receivehead)
static int conn_meth_receivehead(lua_State *L) {
    return conn_buffered(L, conn_meth_receivehead_k, 0, 0, httphead_meth_receive);
}

WAIT_RESTART(conn_meth_receivesome)
static int conn_meth_receivesome(lua_State *L) {
    return conn_buffered(L, conn_meth_receivesome_k, 0, 0, buffer_meth_receivesome);
}

WAIT_RESTART(conn_meth_sendsome)
static int conn_meth_sendsome(lua_State *L) {
    return conn_buffered(L, conn_meth_sendsome_k, 0, 1, buffer_meth_sendsome);
}

static int conn_meth_getstats(lua_State *L) {
    return buffer_meth_getstats(L, &conn_check(L, 1)->buf);
}

static int conn_meth_setstats(lua_State *L) {
    return buffer_meth_setstats(L, &conn_check(L, 1)->buf);
}

static int conn_meth_settimeout(lua_State *L) {
    return timeout_meth_settimeout(L, &conn_check(L, 1)->cs.tm);
}

static int conn_meth_gettimeout(lua_State *L) {
    return timeout_meth_gettimeout(L, &conn_check(L, 1)->cs.tm);
}

static int conn_meth_getfd(lua_State *L) {
    lua_pushinteger(L, conn_check(L, 1)->base.fd);
    return 1;
}

static int conn_meth_dirty(lua_State *L) {
    lua_pushboolean(L, tlsio_dirty(conn_check(L, 1)));
    return 1;
}

static int conn_meth_getpeername(lua_State *L) {
    return inet_pushname(L, conn_check(L, 1)->base.fd, 1);
}

static int conn_meth_getsockname(lua_State *L) {
    return inet_pushname(L, conn_check(L, 1)->base.fd, 0);
}

static int conn_meth_getfamily(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    lua_pushstring(L, c->family == AF_INET6 ? "inet6" : c->family == AF_UNIX ? "unix" : "inet4");
    return 1;
}

static int conn_meth_getoption(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    return options_meth_get(L, c->family == AF_UNIX ? options_unix : options_tcp, c->base.fd);
}

static int conn_meth_setoption(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    return options_meth_set(L, c->family == AF_UNIX ? options_unix : options_tcp, c->base.fd);
}

/* Our BIO writes straight to the fd, so OpenSSL holds no unsent bytes:
 * pending is the kernel's count. */
static int conn_meth_getpending(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
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

WAIT_RESTART(conn_meth_drain)
static int conn_meth_drain(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    if (conn_begincall(L, &c->cs.wr, 2, conn_meth_drain_k) == CALL_BUSY) return conn_busy(L, &c->cs.wr);
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
        if (wait_backoff(&c->cs.wr, &nap) != IO_DONE) {   /* no event says "acknowledged" */
            lua_pushnil(L);
            lua_pushliteral(L, "timeout");
            lua_pushinteger(L, n);
            return 3;
        }
    }
}

/* nil, "closed" */
int conn_closed(lua_State *L) {
    lua_pushnil(L);
    lua_pushliteral(L, "closed");
    return 2;
}

int conn_isserver(ssl_conn *c) {
    return c->ssl != NULL && SSL_is_server(c->ssl);
}

const luaL_Reg conn_methods[] = {
    {"close", conn_meth_close},
    {"dirty", conn_meth_dirty},
    {"drain", conn_meth_drain},
    {"getfamily", conn_meth_getfamily},
    {"getfd", conn_meth_getfd},
    {"getoption", conn_meth_getoption},
    {"getpeername", conn_meth_getpeername},
    {"getpending", conn_meth_getpending},
    {"getsockname", conn_meth_getsockname},
    {"getstats", conn_meth_getstats},
    {"gettimeout", conn_meth_gettimeout},
    {"receive", conn_meth_receive},
    {"receivehead", conn_meth_receivehead},
    {"receivesome", conn_meth_receivesome},
    {"send", conn_meth_send},
    {"sendsome", conn_meth_sendsome},
    {"setoption", conn_meth_setoption},
    {"setstats", conn_meth_setstats},
    {"settimeout", conn_meth_settimeout},
    {NULL, NULL}
};

const luaL_Reg conn_meta[] = {
    {"__gc", conn_gc},
    {"__close", conn_tbc},
    {"__tostring", conn_tostring},
    {NULL, NULL}
};
