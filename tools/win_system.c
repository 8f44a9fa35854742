/* system.core for busted under Wine, used only when Debian's lua-system
 * source cannot be fetched (scripts/windows-deps.sh): the three calls busted
 * makes (gettime, monotime, sleep), on the Win32 clocks. */
#include <windows.h>
#include "lua.h"
#include "lauxlib.h"

/* Seconds since the Unix epoch; FILETIME counts 100 ns since 1601. */
static int system_gettime(lua_State *L) {
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    ULARGE_INTEGER t;
    t.LowPart = ft.dwLowDateTime;
    t.HighPart = ft.dwHighDateTime;
    lua_pushnumber(L, (double) (t.QuadPart - 116444736000000000ULL) / 1e7);
    return 1;
}

static int system_monotime(lua_State *L) {
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    lua_pushnumber(L, (double) c.QuadPart / (double) f.QuadPart);
    return 1;
}

static int system_sleep(lua_State *L) {
    double s = luaL_checknumber(L, 1);
    Sleep(s > 0 ? (DWORD) (s * 1000 + 0.5) : 0);
    return 0;
}

int luaopen_system_core(lua_State *L);
__declspec(dllexport) int luaopen_system_core(lua_State *L) {
    static const luaL_Reg fns[] = {
        {"gettime", system_gettime}, {"monotime", system_monotime}, {"sleep", system_sleep},
        {NULL, NULL}};
    luaL_newlib(L, fns);
    return 1;
}
