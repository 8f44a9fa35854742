/* libFuzzer target: the receive-pattern engine (src/buffer.c) of a real
 * tcp{client} object, driven through its Lua methods, over an in-memory io
 * backend that plays a script of events: byte chunks, "would block" (the
 * real wait.c poll()s a descriptor that is ready), timeouts (it poll()s one
 * that never is, with settimeout(0)) and a close. fuzz/receive.lua decodes
 * the input into the script and the calls and checks every result against
 * fuzz/model.lua.
 *
 * No hook in src/: the object is made by socket.tcp() and gets its backend
 * here, through the stream layout (stream.h) and the io vtable (io.h) that
 * exist for exactly this (TLS plugs in the same way). */
#include <string.h>
#include <unistd.h>
#include "lauxlib.h"
#include "fuzzlua.h"
#include "io.h"
#include "sock.h"
#include "stream.h"

/* The class names API.md gives the TCP objects (tcp.c spells them too). */
#define RECEIVE_MASTER "tcp{master}"
#define RECEIVE_CLIENT "tcp{client}"

enum { EV_DATA, EV_WOULDBLOCK, EV_TIMEOUT, EV_CLOSE };

typedef struct receive_event {
    int kind;
    size_t off, len;            /* EV_DATA: bytes[off..off+len) */
} receive_event;

/* The backend of one object: a Lua userdata kept alive by the object. */
typedef struct receive_backend {
    const int *ownerfd;         /* the object's fd: < 0 once it is closed */
    int waitfd;                 /* what buffer.c waits on after a would-block */
    int closed;                 /* EV_CLOSE was played: EOF from now on */
    size_t next, nevents;
    size_t cur, curend;         /* the chunk being delivered: bytes[cur..curend) */
    receive_event *events;
    char *bytes;
} receive_backend;

static int receive_readyfd = -1, receive_idlefd = -1;   /* set up once, never closed */

static int receive_recv(void *ctx, char *data, size_t n, size_t *got) {
    receive_backend *b = ctx;
    *got = 0;
    if (*b->ownerfd < 0 || b->closed) return IO_CLOSED;
    for (;;) {
        if (b->cur < b->curend) {
            size_t k = b->curend - b->cur < n ? b->curend - b->cur : n;
            memcpy(data, b->bytes + b->cur, k);
            b->cur += k;
            *got = k;
            return IO_DONE;
        }
        if (b->next == b->nevents) {            /* an idle peer: waits time out */
            b->waitfd = receive_idlefd;
            return IO_WANTREAD;
        }
        const receive_event *e = &b->events[b->next++];
        switch (e->kind) {
            case EV_DATA:
                b->cur = e->off;
                b->curend = e->off + e->len;
                break;
            case EV_WOULDBLOCK:
                b->waitfd = receive_readyfd;
                return IO_WANTREAD;
            case EV_TIMEOUT:
                b->waitfd = receive_idlefd;
                return IO_WANTREAD;
            default:
                b->closed = 1;
                return IO_CLOSED;
        }
    }
}

/* The receive target never sends; a send would go nowhere. */
static int receive_send(void *ctx, const char *data, size_t n, size_t *sent) {
    (void) ctx;
    (void) data;
    *sent = n;
    return IO_DONE;
}

/* fuzz.stream(events) -> a tcp{client} playing events, a list of strings
 * (a chunk) or the numbers 1 (would block), 2 (timeout), 3 (close). */
static int receive_stream(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t nevents = (size_t) luaL_len(L, 1), nbytes = 0;
    for (size_t i = 1; i <= nevents; i++) {
        if (lua_geti(L, 1, (lua_Integer) i) == LUA_TSTRING) nbytes += luaL_len(L, -1);
        lua_pop(L, 1);
    }
    size_t size = sizeof(receive_backend) + nevents * sizeof(receive_event) + nbytes;
    receive_backend *b = lua_newuserdatauv(L, size, 0);                 /* 2 */
    memset(b, 0, sizeof *b);
    b->events = (receive_event *) (b + 1);
    b->bytes = (char *) (b->events + nevents);
    b->nevents = nevents;
    b->waitfd = receive_idlefd;
    size_t at = 0;
    for (size_t i = 0; i < nevents; i++) {
        receive_event *e = &b->events[i];
        if (lua_geti(L, 1, (lua_Integer) i + 1) == LUA_TSTRING) {
            const char *s = lua_tolstring(L, -1, &e->len);
            e->kind = EV_DATA;
            e->off = at;
            memcpy(b->bytes + at, s, e->len);
            at += e->len;
        } else {
            e->kind = (int) luaL_checkinteger(L, -1);
            luaL_argcheck(L, e->kind >= EV_WOULDBLOCK && e->kind <= EV_CLOSE, 1, "bad event");
        }
        lua_pop(L, 1);
    }
    lua_getglobal(L, "require");
    lua_pushliteral(L, "socket.core");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "tcp");
    lua_call(L, 0, 2);                                                  /* 3 socket, 4 obj, 5 err */
    stream *t = luaL_checkudata(L, 4, RECEIVE_MASTER);
    t->base.fd = dup(receive_idlefd);           /* close() closes something real */
    if (t->base.fd < 0) return luaL_error(L, "dup failed");
    lua_pushvalue(L, 4);
    class_set(L, -1, RECEIVE_CLIENT);
    lua_pop(L, 1);
    t->io.recv = receive_recv;
    t->io.send = receive_send;
    t->io.error = sock_ioerror;
    t->io.pending = NULL;
    t->io.ctx = b;
    t->io.fd = &b->waitfd;
    b->ownerfd = &t->base.fd;
    /* the backend lives as long as the object: registry[weak-keyed][obj] */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "fuzz.backends");
    if (!lua_getmetatable(L, -1)) {
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
    } else {
        lua_pop(L, 1);
    }
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 2);
    lua_rawset(L, -3);
    lua_pushvalue(L, 4);
    return 1;
}

/* fuzz.held(obj) -> bytes of the current chunk the backend has not yet
 * handed to the engine (0 once the object is closed). */
static int receive_held(lua_State *L) {
    stream *t = luaL_checkudata(L, 1, RECEIVE_CLIENT);
    const receive_backend *b = t->io.ctx;
    lua_pushinteger(L, t->base.fd < 0 || b->closed ? 0 : (lua_Integer) (b->curend - b->cur));
    return 1;
}

/* Two descriptors for the waits: one always readable, one never (its
 * write end stays open). Made once, never closed. */
static void receive_setup(void) {
    int ready[2], idle[2];
    if (pipe(ready) != 0 || pipe(idle) != 0) fuzzlua_die("setup", "pipe failed");
    if (write(ready[1], "x", 1) != 1) fuzzlua_die("setup", "write failed");
    receive_readyfd = ready[0];
    receive_idlefd = idle[0];
}

static const luaL_Reg receive_funcs[] = {
    {"stream", receive_stream},
    {"held", receive_held},
    {NULL, NULL}
};

FUZZLUA_TARGET("receive", receive_funcs, receive_setup, fuzzlua_nothing)
