/* Deadline arithmetic for settimeout(value, "b"/"t"), API.md §3. */
#include <math.h>
#include <time.h>
#include "compat.h"
#include "timeout.h"
#include "wait.h"

double timeout_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

double timeout_walltime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

void timeout_init(timeout *tm, double block, double total) {
    tm->block = block;
    tm->total = total;
    tm->start = 0;
    tm->call = -1;
    tm->hascall = 0;
    tm->L = NULL;
    tm->k = NULL;
    tm->nargs = 0;
    tm->begun = tm->again = tm->resumed = 0;
    tm->yielder = NULL;
    tm->progress = 0;
    tm->waitend = -1;
    timeout_newfd(tm);
}

void timeout_newfd(timeout *tm) {
    tm->waittoken = 0;
    tm->waitfd = -1;
}

/* Only a limited timeout needs the clock; skip it on the common path. */
static void timeout_stamp(timeout *tm) {
    if (tm->block >= 0 || tm->total >= 0 || tm->hascall) tm->start = timeout_monotonic();
}

void timeout_markstart(timeout *tm) {
    tm->L = NULL;
    tm->begun = tm->again = tm->resumed = 0;
    tm->hascall = 0;
    tm->progress = 0;
    timeout_stamp(tm);
}

int timeout_begin(lua_State *L, timeout *tm, lua_KFunction k) {
    tm->L = L;
    tm->k = k;
    tm->nargs = lua_gettop(L);
    tm->begun = 1;
    tm->again = tm->resumed && tm->yielder == (const void *) L;
    tm->resumed = 0;
    if (!tm->again) {
        tm->hascall = 0;
        tm->progress = 0;
        tm->waitend = -1;
        timeout_stamp(tm);
    }
    return tm->again;
}

int timeout_enter(timeout *tm) {
    if (!tm->begun) {
        timeout_markstart(tm);
        return 0;
    }
    tm->begun = 0;
    return tm->again;
}

void timeout_setcall(timeout *tm, double seconds) {
    if (tm->again) return;                 /* a restart keeps its limit and start */
    tm->hascall = 1;
    tm->call = seconds;
    timeout_stamp(tm);
}

void timeout_restart(timeout *tm) {
    timeout_stamp(tm);
}

double timeout_left(const timeout *tm) {
    double b = tm->hascall ? tm->call : tm->block;
    double t = tm->hascall ? -1 : tm->total;
    if (b < 0 && t < 0) return -1;
    if (b == 0) return 0;
    double elapsed = timeout_monotonic() - tm->start;
    if (t < 0) return fmax(0, b - elapsed);   /* b alone bounds the call */
    double left = fmax(0, t - elapsed);
    return b < 0 ? left : fmin(b, left);
}

int timeout_iszero(const timeout *tm) {
    return (tm->hascall ? tm->call : tm->block) == 0;
}

int timeout_meth_settimeout(lua_State *L, timeout *tm) {
    double v = luaL_optnumber(L, 2, -1);
    const char *mode = luaL_optstring(L, 3, "b");
    switch (*mode) {
        case 'b': tm->block = v; break;
        case 'r': case 't': tm->total = v; break;
        default: luaL_argerror(L, 3, "invalid timeout mode");
    }
    lua_pushinteger(L, 1);
    return 1;
}

int timeout_meth_gettimeout(lua_State *L, timeout *tm) {
    lua_pushnumber(L, tm->block);
    lua_pushnumber(L, tm->total);
    return 2;
}

static int timeout_lua_gettime(lua_State *L) {
    lua_pushnumber(L, timeout_walltime());
    return 1;
}

static int timeout_sleep_k(lua_State *L, int status, lua_KContext ctx) {
    (void) L;
    (void) status;
    (void) ctx;
    return 0;                          /* socket.co resumes a sleeper at its deadline */
}

/* socket.sleep(s): inside a socket.co task it yields until the deadline. */
static int timeout_lua_sleep(lua_State *L) {
    double n = luaL_checknumber(L, 1);
    if (n > 0 && wait_intask(L))
        return wait_yield(L, -1, 0, timeout_monotonic() + n, 0, 0, timeout_sleep_k);
    wait_sleep(n);
    return 0;
}

void timeout_open(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"gettime", timeout_lua_gettime},
        {"sleep", timeout_lua_sleep},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
}
