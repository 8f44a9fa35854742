/* Deadline arithmetic for settimeout(value, "b"/"t"), API.md §3. */
#include <math.h>
#include <time.h>
#include "compat.h"
#include "timeout.h"

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
}

double timeout_left(double b, double t, double start) {
    if (b < 0 && t < 0) return -1;
    if (b == 0) return 0;
    double elapsed = timeout_monotonic() - start;
    if (t < 0) return fmax(0, b - elapsed);   /* b alone bounds the call */
    double left = fmax(0, t - elapsed);
    return b < 0 ? left : fmin(b, left);
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
