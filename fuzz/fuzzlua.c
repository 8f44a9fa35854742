/* The embedded Lua state of the fuzz targets (see fuzzlua.h). */
#include <stdio.h>
#include <stdlib.h>
#include "lauxlib.h"
#include "lualib.h"
#include "fuzzlua.h"

#ifndef FUZZ_ROOT
#error "build with -DFUZZ_ROOT='\"/path/to/netsocket\"' (mk/fuzz.mk does)"
#endif

int luaopen_socket_core(lua_State *L);
int luaopen_socket_unix(lua_State *L);
#ifdef FUZZ_WITH_SSL
int luaopen_socket_ssl_core(lua_State *L);
#endif

void fuzzlua_die(const char *what, const char *msg) {
    fprintf(stderr, "\n==fuzz== %s: %s\n", what, msg ? msg : "(no message)");
    fflush(stderr);
    abort();
}

static int fuzzlua_fail(lua_State *L) {
    fuzzlua_die("disagreement", luaL_checkstring(L, 1));
}

/* An error inside the driver: keep the traceback, it names the call. */
static int fuzzlua_traceback(lua_State *L) {
    luaL_traceback(L, L, lua_tostring(L, 1), 1);
    return 1;
}

static void fuzzlua_preload(lua_State *L, const char *name, lua_CFunction open) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

static const char *fuzzlua_driver;
static const luaL_Reg *fuzzlua_funcs;

/* A fresh state with the driver function on top (above the traceback handler). */
static lua_State *fuzzlua_open(const char *driver, const luaL_Reg *funcs) {
    lua_State *L = luaL_newstate();
    if (L == NULL) fuzzlua_die("setup", "luaL_newstate failed");
    luaL_openlibs(L);
    fuzzlua_preload(L, "socket.core", luaopen_socket_core);
    fuzzlua_preload(L, "socket.unix", luaopen_socket_unix);
#ifdef FUZZ_WITH_SSL
    fuzzlua_preload(L, "socket.ssl.core", luaopen_socket_ssl_core);
#endif
    lua_getglobal(L, "package");
    lua_pushliteral(L, FUZZ_ROOT "/lua/?.lua;" FUZZ_ROOT "/fuzz/?.lua");
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");                   /* never a system copy */
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushcfunction(L, fuzzlua_fail);
    lua_setfield(L, -2, "fail");
    if (funcs != NULL) luaL_setfuncs(L, funcs, 0);
    lua_setglobal(L, "fuzz");
    lua_pushcfunction(L, fuzzlua_traceback);
    if (luaL_loadfile(L, lua_pushfstring(L, "%s/fuzz/%s.lua", FUZZ_ROOT, driver)) != LUA_OK)
        fuzzlua_die("setup", lua_tostring(L, -1));
    lua_remove(L, -2);                              /* the file name */
    if (lua_pcall(L, 0, 1, -2) != LUA_OK) fuzzlua_die("setup", lua_tostring(L, -1));
    if (!lua_isfunction(L, -1)) fuzzlua_die("setup", "the driver must return a function");
    lua_remove(L, -2);                              /* the handler of the load */
    lua_pushcfunction(L, fuzzlua_traceback);
    lua_insert(L, -2);
    return L;
}

void fuzzlua_init(const char *driver, const luaL_Reg *funcs) {
    fuzzlua_driver = driver;
    fuzzlua_funcs = funcs;
    lua_close(fuzzlua_open(driver, funcs));
}

void fuzzlua_run(const unsigned char *data, size_t size) {
    lua_State *L = fuzzlua_open(fuzzlua_driver, fuzzlua_funcs);
    lua_pushlstring(L, (const char *) data, size);
    if (lua_pcall(L, 1, 0, -3) != LUA_OK) fuzzlua_die("driver error", lua_tostring(L, -1));
    lua_close(L);
}
