/* luaopen_socket_core: the `socket` table, built from the parts. */
#include <limits.h>
#include <sys/resource.h>
#include "compat.h"
#include "dns.h"
#include "except.h"
#include "httphead.h"
#include "poller.h"
#include "select.h"
#include "signals.h"
#include "tcp.h"
#include "wait.h"
#include "udp.h"

#define CORE_VERSION "LuaSocket 3.1.0"
#define CORE_IMPL "netsocket 0.1.0"
#ifdef __linux__
#define CORE_ABSTRACT 1     /* unix abstract names ("\0name") */
#else
#define CORE_ABSTRACT 0
#endif

/* skip(d, ...) returns the arguments after the first d. */
static int core_skip(lua_State *L) {
    lua_Integer amount = luaL_checkinteger(L, 1);
    lua_Integer ret = (lua_Integer) lua_gettop(L) - 1 - (amount < 0 ? 0 : amount);
    return ret > 0 ? (int) ret : 0;
}

static int core_unload(lua_State *L) {
    (void) L;
    return 0;
}

/* fromfd(fd, class): dispatches to the adopter registered by the class. */
static int core_fromfd(lua_State *L) {
    luaL_checkinteger(L, 1);
    const char *cls = luaL_checkstring(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "netsocket.fromfd");
    if (lua_getfield(L, -1, cls) != LUA_TFUNCTION) {
        lua_pushfstring(L, "invalid class '%s'", cls);
        return luaL_argerror(L, 2, lua_tostring(L, -1));
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, LUA_MULTRET);
    return lua_gettop(L) - 3;
}

static lua_Integer core_setsize(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max == RLIM_INFINITY ||
        rl.rlim_max > INT_MAX)
        return INT_MAX;
    return (lua_Integer) rl.rlim_max;
}

static void core_features(lua_State *L) {
    static const struct { const char *name; int on; } features[] = {
        {"ipv6", 1}, {"unix", 1}, {"ssl", 0}, {"abstract", CORE_ABSTRACT}, {"co", 1}, {"asyncdns", 1},
    };
    lua_createtable(L, 0, 6);
    for (size_t i = 0; i < sizeof features / sizeof features[0]; i++) {
        lua_pushboolean(L, features[i].on);
        lua_setfield(L, -2, features[i].name);
    }
    lua_setfield(L, -2, "_FEATURES");
}

__attribute__((visibility("default"))) int luaopen_socket_core(lua_State *L);

int luaopen_socket_core(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"skip", core_skip},
        {"__unload", core_unload},
        {"fromfd", core_fromfd},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    wait_open(L);
    tcp_open(L);
    udp_open(L);
    select_open(L);
    poller_open(L);
    httphead_open(L);
    except_open(L);
    dns_open(L);
    signals_open(L);
    lua_pushliteral(L, CORE_VERSION);
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, CORE_IMPL);
    lua_setfield(L, -2, "_IMPL");
    lua_pushinteger(L, core_setsize());
    lua_setfield(L, -2, "_SETSIZE");
    lua_pushinteger(L, -1);
    lua_setfield(L, -2, "_SOCKETINVALID");
    lua_pushinteger(L, 8192);
    lua_setfield(L, -2, "_DATAGRAMSIZE");
    core_features(L);
    compat_open(L);
    return 1;
}
