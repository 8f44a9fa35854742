/* stoptls: close_notify both ways, then the fd goes back to a plain stream
 * with the conn's timeouts, stats, host and unread bytes. */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include "buffer.h"
#include "class.h"
#include "stream.h"
#include "timeout.h"
#include "wait.h"
#include "ssl.h"

/* Copies the conn's unread bytes (decrypted data, then plaintext that
 * followed the TLS stream) into the new stream's buffer. */
static void stoptls_handback(lua_State *L, ssl_conn *c, stream *s) {
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
static void stoptls_reserve(lua_State *L, buffer *b, size_t n) {
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

/* The most unread bytes stoptls holds while it waits for the peer's
 * close_notify: a peer that keeps sending and never ends must not grow
 * memory without bound (the data stays readable with receive). */
#define STOPTLS_MAXHELD ((size_t) 1 << 20)

/* Sends our close_notify and reads up to the peer's, keeping the data
 * that came before it. IO_DONE once both are through. A flood that never
 * lets the fd run dry still ends: at STOPTLS_MAXHELD bytes, or at the
 * deadline, checked between reads as well as in the waits. */
static int stoptls_shutdownboth(lua_State *L, ssl_conn *c, call *cl) {
    if (c->failed) return c->lasterr;
    if (c->wpend != NULL) return SSL_IO_RETRY;     /* close_notify cannot pass it */
    while (!(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
        tlsio_enter(c, L, 1);
        int r = SSL_shutdown(c->ssl);
        tlsio_leave(c);
        if (r >= 0) break;
        int err = tlsio_result(c, r);
        if (err != IO_WANTREAD && err != IO_WANTWRITE) return err;
        if ((err = wait_fd(c->base.fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, cl)) != IO_DONE)
            return err;
    }
    while (!(SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN)) {
        size_t held = c->buf.last - c->buf.first;
        if (held >= STOPTLS_MAXHELD) return SSL_IO_TOOMUCH;
        if (!call_iszero(cl) && call_left(cl) == 0) return IO_TIMEOUT;
        stoptls_reserve(L, &c->buf, 4096);
        size_t room = c->buf.cap - c->buf.last, got = 0;
        if (room > STOPTLS_MAXHELD - held) room = STOPTLS_MAXHELD - held;
        tlsio_enter(c, L, 1);
        int r = SSL_read_ex(c->ssl, c->buf.data + c->buf.last, room, &got);
        tlsio_leave(c);
        if (r > 0) {
            c->buf.last += got;
            continue;
        }
        int err = tlsio_result(c, r);
        if (SSL_get_shutdown(c->ssl) & SSL_RECEIVED_SHUTDOWN) break;
        if (err != IO_WANTREAD && err != IO_WANTWRITE) return err;
        if ((err = wait_fd(c->base.fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, cl)) != IO_DONE)
            return err;
    }
    return IO_DONE;
}

/* stoptls([timeout]): both close_notify alerts, then a plain stream on the
 * same fd with the conn's timeouts, stats, host and unread bytes. After a
 * timeout it can be called again: it goes on where it stopped. */
WAIT_RESTART(stoptls_meth_stoptls)
static int stoptls_meth_stoptls(lua_State *L) {
    ssl_conn *c = conn_checkidle(L, 1);
    if (conn_begincall(L, &c->cs.rd, 2, stoptls_meth_stoptls_k) == CALL_BUSY) return conn_busy(L, &c->cs.rd);
    /* A send parked in another task would resume into a shut-down conn
     * (and its failure would fail stoptls): refuse while one is. */
    if (call_begin(L, &c->cs.wr, stoptls_meth_stoptls_k) == CALL_BUSY) return conn_busy(L, &c->cs.wr);
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return conn_closed(L);
    int err = stoptls_shutdownboth(L, c, &c->cs.rd);
    lua_settop(L, 1);
    if (err != IO_DONE) {
        lua_pushnil(L);
        lua_pushstring(L, tlsio_errortext(c, err));
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
    s->cs.tm = c->cs.tm;
    s->buf.received = c->buf.received;
    s->buf.sent = c->buf.sent;
    s->buf.birthday = c->buf.birthday;
    stoptls_handback(L, c, s);
    lua_getiuservalue(L, 1, SSL_UV_HOST);
    lua_setiuservalue(L, -2, STREAM_UV_HOST);
    wait_closing(L, c->base.fd);                     /* a task parked on the conn finds it closed */
    c->base.fd = -1;                                 /* the stream owns it now */
    conn_release(L, c);
    return 1;
}

const luaL_Reg stoptls_methods[] = {
    {"stoptls", stoptls_meth_stoptls},
    {NULL, NULL}
};
