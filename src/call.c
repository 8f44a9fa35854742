/* Per-direction call state (call.h): begin, restart, refuse. */
#include "compat.h"
#include "call.h"

static void call_initone(call *c, calls *cs, char dir) {
    c->set = cs;
    c->dir = dir;
    c->start = 0;
    c->limit = -1;
    c->haslimit = 0;
    c->L = NULL;
    c->k = NULL;
    c->nargs = 0;
    c->begun = c->again = c->resumed = 0;
    c->yielder = NULL;
    c->serial = 0;
    c->progress = 0;
    c->nap = 0;
    c->waitend = -1;
}

void call_init(calls *cs, double block, double total) {
    timeout_init(&cs->tm, block, total);
    call_newfd(cs);
    call_initone(&cs->rd, cs, 'r');
    call_initone(&cs->wr, cs, 'w');
}

void call_newfd(calls *cs) {
    cs->token = 0;
    cs->tokenfd = -1;
}

/* Only a limited timeout needs the clock; skip it on the common path. */
static void call_stamp(call *c) {
    const timeout *tm = &c->set->tm;
    if (tm->block >= 0 || tm->total >= 0 || c->haslimit) c->start = timeout_monotonic();
}

void call_markstart(call *c) {
    c->L = NULL;
    c->begun = c->again = 0;
    c->haslimit = 0;
    c->progress = 0;
    call_stamp(c);
}

/* The number socket.co gave task L (0: L is no task). An address alone
 * does not name a task: a task closed while parked is collected, and a new
 * one may get its address. */
lua_Integer call_serial(lua_State *L) {
    lua_Integer n = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, CALL_TASKS) == LUA_TTABLE) {
        compat_pushself(L);                /* a helper thread (5.1) counts as its task */
        if (lua_rawget(L, -2) == LUA_TNUMBER) n = lua_tointeger(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

/* Whether the task that yielded in c's call is still parked in it. Only a
 * call from another thread asks, so the set of tasks is searched only then
 * (no bookkeeping on the path of every wait). A task that died while parked
 * (its scheduler dropped it) no longer holds the direction. */
static int call_held(lua_State *L, const call *c) {
    int held = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, CALL_TASKS) == LUA_TTABLE) {
        lua_pushnil(L);
        while (!held && lua_next(L, -2) != 0) {
            held = lua_topointer(L, -2) == c->yielder && lua_type(L, -2) == LUA_TTHREAD
                   && lua_tointeger(L, -1) == c->serial
                   && lua_status(lua_tothread(L, -2)) == LUA_YIELD;
            lua_pop(L, 1);
        }
        if (held) lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return held;
}

/* A call's identity is its task: compat_self(L) is L, except on 5.1 and
 * LuaJIT, where a helper thread may go on with a task's call (compat.c). */
int call_begin(lua_State *L, call *c, lua_KFunction k) {
    const void *self = c->resumed ? compat_self(L) : (const void *) L;
    if (c->resumed && (c->yielder != self || call_serial(L) != c->serial)) {
        if (call_held(L, c)) return CALL_BUSY;
        c->resumed = 0;                    /* its task is gone: the call with it */
    }
    c->L = L;
    c->k = k;
    c->nargs = lua_gettop(L);
    c->begun = 1;
    c->again = c->resumed && c->yielder == self;
    c->resumed = 0;
    if (!c->again) {
        c->haslimit = 0;
        c->progress = 0;
        c->nap = 0;
        c->waitend = -1;
        call_stamp(c);
    }
    return c->again ? CALL_AGAIN : CALL_FRESH;
}

int call_enter(call *c) {
    if (!c->begun) {
        call_markstart(c);
        return 0;
    }
    c->begun = 0;
    return c->again;
}

const char *call_busy(const call *c) {
    return c->dir == 'r' ? "socket busy reading" : "socket busy writing";
}

void call_yielding(call *c, lua_State *L, double waitend, lua_Integer serial) {
    c->resumed = 1;
    c->yielder = compat_self(L);
    c->serial = serial;
    c->waitend = waitend;
}

void call_setlimit(call *c, double seconds) {
    if (c->again) return;                  /* a restart keeps its limit and start */
    c->haslimit = 1;
    c->limit = seconds;
    call_stamp(c);
}

void call_restart(call *c) {
    call_stamp(c);
}

double call_left(const call *c) {
    const timeout *tm = &c->set->tm;
    if (c->haslimit) return timeout_left(c->limit, -1, c->start);
    return timeout_left(tm->block, tm->total, c->start);
}

int call_iszero(const call *c) {
    return (c->haslimit ? c->limit : c->set->tm.block) == 0;
}
