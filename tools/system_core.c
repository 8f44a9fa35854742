/* A stand-in for luasystem's system.core with the three functions busted
 * calls (gettime, monotime, sleep), for Lua 5.5 when Debian's lua-system
 * source cannot be fetched (scripts/lua55.sh). Not part of netsocket. */
#include <errno.h>
#include <time.h>
#include "lua.h"
#include "lauxlib.h"

static double system_clock(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int system_gettime(lua_State *L) {
    lua_pushnumber(L, system_clock(CLOCK_REALTIME));
    return 1;
}

static int system_monotime(lua_State *L) {
    lua_pushnumber(L, system_clock(CLOCK_MONOTONIC));
    return 1;
}

static int system_sleep(lua_State *L) {
    double s = luaL_checknumber(L, 1);
    if (s <= 0) return 0;
    struct timespec ts = { (time_t) s, (long) ((s - (double) (time_t) s) * 1e9) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
    return 0;
}

int luaopen_system_core(lua_State *L);
int luaopen_system_core(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"gettime", system_gettime}, {"monotime", system_monotime}, {"sleep", system_sleep}, {NULL, NULL}};
    luaL_newlib(L, fns);
    return 1;
}
