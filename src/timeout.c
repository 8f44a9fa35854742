/* Deadline arithmetic for settimeout(value, "b"/"t"), API.md §3. */
#include <math.h>
#include <time.h>
#include "lauxlib.h"
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
}

void timeout_markstart(timeout *tm) {
    /* Only a limited timeout needs the clock; skip it on the common path. */
    if (tm->block >= 0 || tm->total >= 0) tm->start = timeout_monotonic();
}

double timeout_left(const timeout *tm) {
    if (tm->block < 0 && tm->total < 0) return -1;
    if (tm->block == 0) return 0;
    double elapsed = timeout_monotonic() - tm->start;
    if (tm->total < 0) return fmax(0, tm->block - elapsed);   /* b alone bounds the call */
    double t = fmax(0, tm->total - elapsed);
    return tm->block < 0 ? t : fmin(tm->block, t);
}

int timeout_iszero(const timeout *tm) {
    return tm->block == 0;
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

static int timeout_lua_sleep(lua_State *L) {
    wait_sleep(luaL_checknumber(L, 1));
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
