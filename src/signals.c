/* socket.signal(name, ...): an object whose descriptor becomes readable
 * when one of the named signals arrives (doc/socket.md, "Signals"). It
 * works with socket.select and socket.poller like a socket, and
 * sig:receive() blocks (or, in a socket.co task, yields) until an arrival,
 * which it answers with the signal's name. The OS side is src/os/ossig.h:
 * a self-pipe written by a handler on POSIX, a loopback pair written by a
 * console control handler on Windows. close(), __close and __gc stop the
 * watching and restore the signal's previous handling. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "class.h"
#include "io.h"
#include "os/ossig.h"
#include "signals.h"
#include "sock.h"
#include "timeout.h"
#include "wait.h"

#define SIGNALS_CLASS "signal"

typedef struct signals {
    class_base base;          /* first: select() reads the fd from here */
    int slot;                 /* in the OS side's table; -1 once closed */
    unsigned mask;
} signals;

static int signals_notdirty(const void *self) {
    (void) self;
    return 0;
}

static signals *signals_check(lua_State *L) {
    return class_check(L, 1, SIGNALS_CLASS);
}

/* socket.signal(name, ...) -> object | nil, err. Names as kill -l spells
 * them, with or without "SIG": "TERM", "SIGINT", ... */
static int signals_new(lua_State *L) {
    int n = lua_gettop(L);
    unsigned mask = 0;
    if (n == 0) luaL_checkstring(L, 1);          /* "string expected, got no value" */
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *name = luaL_checklstring(L, i, &len);
        if (strlen(name) != len) return luaL_argerror(L, i, "unknown signal (embedded zero)");
        int idx = ossig_lookup(name);
        if (idx < 0) return luaL_argerror(L, i, lua_pushfstring(L, "unknown signal '%s'", name));
        mask |= 1u << idx;
    }
    signals *s = lua_newuserdatauv(L, sizeof *s, 0);   /* closed first, then the fd */
    s->base.fd = -1;
    s->base.dirty = signals_notdirty;
    s->slot = -1;
    s->mask = mask;
    class_set(L, -1, SIGNALS_CLASS);
    int err = ossig_open(mask, &s->base.fd, &s->slot);
    if (err != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err == OSSIG_FULL ? "too many signal objects" : sock_strerror(err));
        return 2;
    }
    return 1;
}

static int signals_receive(lua_State *L);

/* After a socket.co yield: slot 2 holds the absolute deadline. A close()
 * while the task waited answers nil, "closed". */
static int signals_receive_k(lua_State *L, int status, lua_KContext ctx) {
    (void) status;
    (void) ctx;
    lua_settop(L, 2);
    if (signals_check(L)->base.fd >= 0) wait_argleft(L, 2);
    return signals_receive(L);
}

/* receive([timeout]) -> name | nil, "timeout" | nil, "closed". timeout in
 * seconds: nil or negative waits for ever, 0 only looks. One arrival per
 * call; arrivals of one signal close together may count as one. */
static int signals_receive(lua_State *L) {
    signals *s = signals_check(L);
    double limit = -1;
    if (!lua_isnoneornil(L, 2)) {
        limit = luaL_checknumber(L, 2);
        if (limit != limit) limit = 0;
    }
    double deadline = limit < 0 ? -1 : timeout_monotonic() + limit;
    for (;;) {
        if (s->base.fd < 0) {
            lua_pushnil(L);
            lua_pushliteral(L, "closed");
            return 2;
        }
        int idx = ossig_take(s->base.fd);
        if (idx >= 0) {
            lua_pushstring(L, ossig_name(idx));
            return 1;
        }
        if (idx < -1) {
            lua_pushnil(L);
            lua_pushstring(L, sock_strerror(-2 - idx));
            return 2;
        }
        double left = deadline < 0 ? -1 : fmax(0, deadline - timeout_monotonic());
        if (left == 0) {
            lua_pushnil(L);
            lua_pushliteral(L, "timeout");
            return 2;
        }
        if (wait_intask(L)) {
            lua_settop(L, 2);
            wait_argdeadline(L, 2, left);
            return wait_yield(L, s->base.fd, WAIT_R, deadline, 0, 0, signals_receive_k);
        }
        int r = wait_fd_for(s->base.fd, WAIT_R, left);
        if (r != IO_DONE && r != IO_TIMEOUT) {
            lua_pushnil(L);
            lua_pushstring(L, r == IO_CLOSED ? "closed" : sock_strerror(r));
            return 2;
        }
    }
}

static int signals_getfd(lua_State *L) {
    lua_pushinteger(L, signals_check(L)->base.fd);
    return 1;
}

static int signals_dirty(lua_State *L) {
    signals_check(L);
    lua_pushboolean(L, 0);
    return 1;
}

/* The names watched, in the OS side's order. */
static int signals_getnames(lua_State *L) {
    signals *s = signals_check(L);
    lua_newtable(L);
    int n = 0;
    for (int i = 0; i < 32; i++)
        if (s->mask & (1u << i)) {
            lua_pushstring(L, ossig_name(i));
            lua_rawseti(L, -2, ++n);
        }
    return 1;
}

/* __gc: no task can be waiting (a waiting task holds the object). */
static int signals_gc(lua_State *L) {
    signals *s = signals_check(L);
    if (s->slot >= 0 || s->base.fd >= 0) ossig_close(s->slot, &s->base.fd);
    s->slot = -1;
    return 0;
}

/* close() and __close: a socket.co task waiting on the object wakes first
 * and finds it closed. Twice is fine. */
static int signals_close(lua_State *L) {
    signals *s = signals_check(L);
    if (s->base.fd >= 0) wait_closing(L, s->base.fd);
    signals_gc(L);
    lua_pushinteger(L, 1);
    return 1;
}

void signals_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"receive", signals_receive},
        {"getfd", signals_getfd},
        {"dirty", signals_dirty},
        {"getnames", signals_getnames},
        {"close", signals_close},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", signals_gc},
        {"__close", signals_close},
        {"__tostring", class_tostring},
        {NULL, NULL}
    };
    class_new(L, SIGNALS_CLASS, methods, meta);
    class_selectable(L, SIGNALS_CLASS);
    lua_pushcfunction(L, signals_new);
    lua_setfield(L, -2, "signal");
}
