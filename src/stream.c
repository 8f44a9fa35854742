/* The methods every connection-oriented socket shares: close, timeouts,
 * options, listen/accept, receive/send and the stream extensions of §12.1.
 * Class names come from the stream_classes upvalue, so TCP and unix stream
 * sockets run the same code and raise the same, correctly named errors. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "httphead.h"
#include "sock.h"
#include "stream.h"
#include "wait.h"

#define STREAM_CLS stream_classesof(L)

static int stream_dirty(const void *self) {
    return !buffer_isempty(&((const stream *) self)->buf);
}

stream *stream_push(lua_State *L, int family, const char *cls) {
    stream *t = lua_newuserdatauv(L, sizeof(stream), STREAM_UV_COUNT);
    t->base.fd = -1;
    t->base.dirty = stream_dirty;
    t->family = family;
    t->connerr = 0;
    t->bound = 0;
    t->unlinkpath = 0;
    call_init(&t->cs, -1, -1);
    t->io.send = sock_send;
    t->io.recv = sock_recv;
    t->io.error = sock_ioerror;
    t->io.pending = NULL;
    t->io.ctx = &t->base.fd;
    t->io.fd = &t->base.fd;
    buffer_init(&t->buf, &t->io, &t->cs);
    class_set(L, -1, cls);
    return t;
}

/* The address of the metatable of the userdata at idx (*p), or NULL. */
static inline const void *stream_mtof(lua_State *L, int idx, void **p) {
    *p = lua_type(L, idx) == LUA_TUSERDATA ? lua_touserdata(L, idx) : NULL;   /* not a light one */
    if (*p == NULL || !lua_getmetatable(L, idx)) return NULL;
    const void *mt = lua_topointer(L, -1);
    lua_pop(L, 1);
    return mt;
}

stream *stream_check(lua_State *L, int idx, int which) {
    const stream_upvalue *up = stream_upvalueof(L);
    void *p;
    if (stream_mtof(L, idx, &p) == up->mt[which]) return p;
    const char *names[] = {up->cls->master, up->cls->client, up->cls->server};
    return class_check(L, idx, names[which]);
}

/* Any class of the family: the same fast path, falling back to the group. */
static stream *stream_checkany(lua_State *L, int idx) {
    const stream_upvalue *up = stream_upvalueof(L);
    void *p;
    const void *mt = stream_mtof(L, idx, &p);
    if (mt != NULL && (mt == up->mt[0] || mt == up->mt[1] || mt == up->mt[2])) return p;
    return class_checkgroup(L, idx, up->cls->any);
}

int stream_pusherror(lua_State *L, const char *err) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

int stream_pushok(lua_State *L) {
    lua_pushinteger(L, 1);
    return 1;
}

int stream_pushbusy(lua_State *L, const call *c) {
    return stream_pusherror(L, call_busy(c));
}

/* Releases the fd (and, for a socket.pipe server, its file) and the buffer. */
static void stream_release(lua_State *L, stream *t) {
    if (t->unlinkpath && t->base.fd >= 0) {
        if (lua_getiuservalue(L, 1, STREAM_UV_HOST) == LUA_TSTRING) unlink(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    t->unlinkpath = 0;
    sock_close(&t->base.fd);
    buffer_free(L, &t->buf);
}

static int stream_meth_close(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    wait_closing(L, t->base.fd);
    stream_release(L, t);
    return stream_pushok(L);
}

/* __gc and __close: release the fd whatever state the object is in. */
static int stream_gc(lua_State *L) {
    stream *t = class_testgroup(L, 1, STREAM_CLS->any);     /* a metamethod can be called on anything */
    if (t != NULL) stream_release(L, t);
    return 0;
}

/* __close, unlike __gc, can find tasks waiting on the object: wake them. */
static int stream_tbc(lua_State *L) {
    stream *t = class_testgroup(L, 1, STREAM_CLS->any);
    if (t != NULL) wait_closing(L, t->base.fd);
    return stream_gc(L);
}

static int stream_meth_getfd(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    lua_pushinteger(L, t->base.fd);
    return 1;
}

/* Swaps the fd without closing the old one, as 3.x (LuaSec relies on it). */
static int stream_meth_setfd(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    int fd = class_checkfd(L, 2);
    wait_closing(L, t->base.fd);      /* a task parked on the old fd wakes, as at close */
    t->base.fd = fd;
    call_newfd(&t->cs);
    return 0;
}

static int stream_meth_dirty(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    lua_pushboolean(L, stream_dirty(t));
    return 1;
}

static int stream_meth_setoption(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    return options_meth_set(L, STREAM_CLS->options, t->base.fd);
}

static int stream_meth_getoption(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    return options_meth_get(L, STREAM_CLS->options, t->base.fd);
}

static int stream_meth_settimeout(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    return timeout_meth_settimeout(L, &t->cs.tm);
}

static int stream_meth_gettimeout(lua_State *L) {
    stream *t = stream_checkany(L, 1);
    return timeout_meth_gettimeout(L, &t->cs.tm);
}

static int stream_meth_listen(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_MASTER);
    int backlog = class_toint(luaL_optnumber(L, 2, 32));
    int err = sock_listen(t->base.fd, backlog);
    if (err != IO_DONE) return stream_pusherror(L, strerror(err));
    class_set(L, 1, STREAM_CLS->server);
    return stream_pushok(L);
}

int stream_acceptraw(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_SERVER);
    stream *c = stream_push(L, t->family, stream_classesof(L)->client);
    call_enter(&t->cs.rd);
    int err = sock_accept(t->base.fd, &c->base.fd, &t->cs.rd);
    if (err != IO_DONE) return stream_pusherror(L, sock_strerror(err));
    return 1;
}

/* What stream_accept left on the stack. */
enum {
    STREAM_ACCEPT_CLIENT = 1,    /* a plain client */
    STREAM_ACCEPT_ERROR = 2,     /* nil, err: accept itself failed */
    STREAM_ACCEPT_TLS = 3        /* conn, nil | nil, err: the TLS step's results */
};

/* accept() for a call already begun: a server with a TLS context
 * (server:setssl, §9.5) hands each client to
 * registry["netsocket.tlsaccept"](server, client), which the TLS module
 * installs. That call may yield (a socket.co task waiting for the
 * handshake), so it is made with lua_callk: after a yield `k` carries on. */
static int stream_accept(lua_State *L, lua_KFunction k) {
    if (stream_acceptraw(L) != 1) return STREAM_ACCEPT_ERROR;
    int client = lua_gettop(L);           /* callers may keep values below (foreachaccept) */
    if (lua_getiuservalue(L, 1, STREAM_UV_TLS) == LUA_TNIL) {
        lua_pop(L, 1);
        return STREAM_ACCEPT_CLIENT;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, LUA_REGISTRYINDEX, "netsocket.tlsaccept") != LUA_TFUNCTION) {
        lua_pop(L, 1);                    /* the client is collected, and closed */
        stream_pusherror(L, "ssl not available");
        return STREAM_ACCEPT_ERROR;
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, client);
    lua_callk(L, 2, 2, 0, k);
    return STREAM_ACCEPT_TLS;
}

/* accept()'s result after the TLS step: conn, or nil, err. */
static int stream_accept_k(lua_State *L, int status, lua_KContext ctx) {
    (void) status;
    (void) ctx;
    if (lua_isnil(L, -2)) return 2;
    lua_pop(L, 1);
    return 1;
}

WAIT_RESTART(stream_meth_accept)
static int stream_meth_accept(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_SERVER);
    if (call_begin(L, &t->cs.rd, stream_meth_accept_k) == CALL_BUSY) return stream_pushbusy(L, &t->cs.rd);
    int r = stream_accept(L, stream_accept_k);
    if (r == STREAM_ACCEPT_TLS) return stream_accept_k(L, LUA_OK, 0);
    return r == STREAM_ACCEPT_CLIENT ? 1 : 2;
}

/* Whether socket.co stopped the server at 1 for a handler that returned false. */
static int stream_stopped(lua_State *L) {
    int stopped = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, "netsocket.stopped") == LUA_TTABLE) {
        lua_pushvalue(L, 1);
        stopped = lua_rawget(L, -2) != LUA_TNIL;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return stopped;
}

/* server:foreachaccept(handler): handler(client) per client until it returns
 * false (-> true) or accept fails with anything but "timeout" (-> nil, err).
 * A client whose TLS handshake fails (setssl) is skipped: one bad client
 * does not end the loop. In a socket.co task each client gets a task of its
 * own, started through registry["netsocket.spawn"](handler, client, server);
 * a handler that returns false there stops the loop by closing the server
 * (socket.co marks it in registry["netsocket.stopped"], so the loop still
 * returns true). Stack: 1 server, 2 handler. */
static int stream_foreach_loop(lua_State *L);

/* Hands the client on top to the handler: -1 to go on, or a result count.
 * With `tlsaccept` (a stack index, or 0) the client's own task does the TLS
 * step first: a client that stalls its handshake holds up only itself. */
static int stream_foreach_dispatch(lua_State *L, int tlsaccept) {
    int client = lua_gettop(L);
    if (wait_intask(L)) {
        if (lua_getfield(L, LUA_REGISTRYINDEX, "netsocket.spawn") == LUA_TFUNCTION) {
            lua_pushvalue(L, 2);
            lua_pushvalue(L, client);
            lua_pushvalue(L, 1);
            if (tlsaccept) lua_pushvalue(L, tlsaccept); else lua_pushnil(L);
            lua_call(L, 4, 0);                         /* spawning never yields */
            return -1;
        }
        lua_settop(L, client);
    }
    lua_pushvalue(L, 2);
    lua_pushvalue(L, client);
    lua_call(L, 1, 1);
    if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
        lua_pushboolean(L, 1);
        return 1;
    }
    return -1;
}

/* The TLS step's results on top: dispatch the conn, skip a failed client. */
static int stream_foreach_tls(lua_State *L) {
    if (lua_isnil(L, -2)) return -1;
    lua_pop(L, 1);
    return stream_foreach_dispatch(L, 0);
}

/* After a yield in the TLS step (the C stack is fresh: no recursion builds up). */
static int stream_foreach_k(lua_State *L, int status, lua_KContext ctx) {
    (void) status;
    (void) ctx;
    int n = stream_foreach_tls(L);
    return n >= 0 ? n : stream_foreach_loop(L);
}

/* In a socket.co task, a setssl server whose TLS module is loaded pushes
 * registry["netsocket.tlsaccept"] (at 3) and returns 3; else 0. */
static int stream_foreach_tlsintask(lua_State *L) {
    if (!wait_intask(L)) return 0;
    int tls = lua_getiuservalue(L, 1, STREAM_UV_TLS) != LUA_TNIL;
    lua_pop(L, 1);
    if (tls && lua_getfield(L, LUA_REGISTRYINDEX, "netsocket.tlsaccept") == LUA_TFUNCTION) return 3;
    lua_settop(L, 2);
    return 0;
}

WAIT_RESTART(stream_foreach_loop)
static int stream_foreach_loop(lua_State *L) {
    stream *t = lua_touserdata(L, 1);
    for (;;) {
        lua_settop(L, 2);
        if (call_begin(L, &t->cs.rd, stream_foreach_loop_k) == CALL_BUSY) return stream_pushbusy(L, &t->cs.rd);
        int tlsaccept = stream_foreach_tlsintask(L), r;
        if (tlsaccept) {                  /* the handshake happens in the client's task */
            r = stream_acceptraw(L) == 1 ? STREAM_ACCEPT_CLIENT : STREAM_ACCEPT_ERROR;
            if (r == STREAM_ACCEPT_CLIENT) {
                int n = stream_foreach_dispatch(L, tlsaccept);
                if (n >= 0) return n;
                continue;
            }
        } else {
            r = stream_accept(L, stream_foreach_k);
        }
        if (r == STREAM_ACCEPT_ERROR) {
            if (strcmp(lua_tostring(L, -1), "timeout") == 0) continue;
            if (wait_intask(L) && stream_stopped(L)) {
                lua_pushboolean(L, 1);
                return 1;
            }
            return 2;
        }
        int n = r == STREAM_ACCEPT_TLS ? stream_foreach_tls(L) : stream_foreach_dispatch(L, 0);
        if (n >= 0) return n;
    }
}

static int stream_meth_foreachaccept(lua_State *L) {
    stream_check(L, 1, STREAM_SERVER);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    return stream_foreach_loop(L);
}

WAIT_RESTART(stream_meth_receive)
static int stream_meth_receive(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    if (call_begin(L, &t->cs.rd, stream_meth_receive_k) == CALL_BUSY) return buffer_pushbusy(L, &t->buf, &t->cs.rd);
    return buffer_meth_receive(L, &t->buf);
}

WAIT_RESTART(stream_meth_receivehead)
static int stream_meth_receivehead(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    if (call_begin(L, &t->cs.rd, stream_meth_receivehead_k) == CALL_BUSY) return stream_pushbusy(L, &t->cs.rd);
    return httphead_meth_receive(L, &t->buf);
}

WAIT_RESTART(stream_meth_send)
static int stream_meth_send(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    if (call_begin(L, &t->cs.wr, stream_meth_send_k) == CALL_BUSY) return buffer_pushbusy(L, &t->buf, &t->cs.wr);
    return buffer_meth_send(L, &t->buf);
}

WAIT_RESTART(stream_meth_receivesome)
static int stream_meth_receivesome(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    if (call_begin(L, &t->cs.rd, stream_meth_receivesome_k) == CALL_BUSY) return stream_pushbusy(L, &t->cs.rd);
    return buffer_meth_receivesome(L, &t->buf);
}

static int stream_meth_sendsome(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    /* It never waits, but its bytes would land inside a send another task
     * has parked half-way: refused like a second send. */
    if (call_begin(L, &t->cs.wr, NULL) == CALL_BUSY) return buffer_pushbusy(L, &t->buf, &t->cs.wr);
    return buffer_meth_sendsome(L, &t->buf);
}

static int stream_meth_getstats(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    return buffer_meth_getstats(L, &t->buf);
}

static int stream_meth_setstats(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    return buffer_meth_setstats(L, &t->buf);
}

static int stream_meth_shutdown(lua_State *L) {
    static const char *const names[] = {"receive", "send", "both", NULL};
    static const int hows[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    int how = hows[luaL_checkoption(L, 2, "both", names)];
    if (t->base.fd >= 0) sock_shutdown(t->base.fd, how);
    return stream_pushok(L);
}

static int stream_meth_getpending(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    if (t->base.fd < 0) return stream_pusherror(L, "closed");
    long n = sock_outq(t->base.fd);
    if (n < 0) return stream_pusherror(L, "not supported");
    lua_pushinteger(L, n);
    return 1;
}

/* Begins a call of a new method (§12.1) whose timeout argument at idx
 * limits this call only; nil means the object's timeouts. */
static int stream_begincall(lua_State *L, int idx, call *c, lua_KFunction k) {
    double limit = luaL_optnumber(L, idx, -1);
    int st = call_begin(L, c, k);
    if (st != CALL_BUSY && !lua_isnoneornil(L, idx)) call_setlimit(c, limit);
    return st;
}

WAIT_RESTART(stream_meth_drain)
static int stream_meth_drain(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    if (stream_begincall(L, 2, &t->cs.wr, stream_meth_drain_k) == CALL_BUSY) return stream_pushbusy(L, &t->cs.wr);
    if (t->base.fd < 0) return stream_pusherror(L, "closed");
    double nap = 0.001;
    for (;;) {
        long n = sock_outq(t->base.fd);
        if (n < 0) return stream_pusherror(L, "not supported");
        if (n == 0) {
            lua_pushinteger(L, 0);
            return 1;
        }
        /* No readiness event exists for "acknowledged": back off politely. */
        if (wait_backoff(&t->cs.wr, &nap) != IO_DONE) {
            lua_pushnil(L);
            lua_pushliteral(L, "timeout");
            lua_pushinteger(L, n);
            return 3;
        }
    }
}

static int stream_pushstatus(lua_State *L, stream *t) {
    int fd = t->base.fd;
    if (fd < 0) {
        lua_pushliteral(L, "failure");
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (t->connerr == 0) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) t->connerr = err;
    }
    if (t->connerr != 0) {
        lua_pushliteral(L, "failure");
        lua_pushstring(L, sock_strerror(t->connerr));
        return 2;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *) &ss, &len) == 0) {
        lua_pushliteral(L, "success");
        return 1;
    }
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
        lua_pushliteral(L, "failure");
        lua_pushliteral(L, "closed");
        return 2;
    }
    lua_pushliteral(L, "waiting");
    return 1;
}

static int stream_meth_getstatus(lua_State *L) {
    return stream_pushstatus(L, stream_check(L, 1, STREAM_CLIENT));
}

WAIT_RESTART(stream_meth_waitconnected)
static int stream_meth_waitconnected(lua_State *L) {
    stream *t = stream_check(L, 1, STREAM_CLIENT);
    if (stream_begincall(L, 2, &t->cs.wr, stream_meth_waitconnected_k) == CALL_BUSY)
        return stream_pushbusy(L, &t->cs.wr);
    /* Status first: a restarted call must not wait again for what happened. */
    int n = stream_pushstatus(L, t);
    if (n != 1 || strcmp(lua_tostring(L, -1), "waiting") != 0) return n;
    lua_pop(L, 1);
    wait_fd(t->base.fd, WAIT_W, &t->cs.wr);
    return stream_pushstatus(L, t);
}

void stream_register(lua_State *L, const stream_classes *cls, const luaL_Reg *extra) {
    static const luaL_Reg methods[] = {
        {"accept", stream_meth_accept},
        {"close", stream_meth_close},
        {"dirty", stream_meth_dirty},
        {"drain", stream_meth_drain},
        {"foreachaccept", stream_meth_foreachaccept},
        {"getfd", stream_meth_getfd},
        {"getoption", stream_meth_getoption},
        {"getpending", stream_meth_getpending},
        {"getstats", stream_meth_getstats},
        {"getstatus", stream_meth_getstatus},
        {"gettimeout", stream_meth_gettimeout},
        {"listen", stream_meth_listen},
        {"receive", stream_meth_receive},
        {"receivehead", stream_meth_receivehead},
        {"receivesome", stream_meth_receivesome},
        {"send", stream_meth_send},
        {"sendsome", stream_meth_sendsome},
        {"setfd", stream_meth_setfd},
        {"setoption", stream_meth_setoption},
        {"setstats", stream_meth_setstats},
        {"settimeout", stream_meth_settimeout},
        {"shutdown", stream_meth_shutdown},
        {"waitconnected", stream_meth_waitconnected},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", stream_gc},
        {"__close", stream_tbc},
        {"__tostring", class_tostring},
        {NULL, NULL}
    };
    const char *names[] = {cls->master, cls->client, cls->server};
    stream_upvalue *up = lua_newuserdatauv(L, sizeof *up, 0);   /* kept alive as an upvalue */
    up->cls = cls;
    for (int i = 0; i < 3; i++) {          /* registry metatables: never collected */
        luaL_newmetatable(L, names[i]);
        up->mt[i] = lua_topointer(L, -1);
        lua_pop(L, 1);
    }
    for (int i = 0; i < 3; i++) {
        luaL_getmetatable(L, names[i]);
        lua_pushvalue(L, -2);
        luaL_setfuncs(L, meta, 1);
        lua_newtable(L);
        lua_pushvalue(L, -3);
        luaL_setfuncs(L, methods, 1);
        lua_pushvalue(L, -3);
        luaL_setfuncs(L, extra, 1);
        lua_pushstring(L, names[i]);
        lua_setfield(L, -2, "class");
        lua_setfield(L, -2, "__index");
        lua_pop(L, 1);
        class_add(L, names[i], names[i]);
        class_add(L, names[i], cls->any);
        class_selectable(L, names[i]);
    }
    lua_pop(L, 1);
}
