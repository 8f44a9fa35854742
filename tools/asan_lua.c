/* A minimal `lua script [args]` (or `lua -e chunk`) linked with AddressSanitizer + UBSan, so the
 * sanitizer runtime comes first without LD_PRELOAD (which every child
 * process would inherit). Used only by `make asan`. */
#include <stdio.h>
#include <string.h>
#include "lauxlib.h"
#include "lualib.h"

static int asan_traceback(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : luaL_tolstring(L, 1, NULL), 1);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s script [args]\n", argv[0]);
        return 1;
    }
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_createtable(L, argc - 2, 2);            /* arg, as lua.c builds it */
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    lua_pushcfunction(L, asan_traceback);
    int status;
    if (strcmp(argv[1], "-e") == 0 && argc > 2) {        /* lua -e 'chunk' */
        status = luaL_loadstring(L, argv[2]);
        if (status == LUA_OK) status = lua_pcall(L, 0, 0, 1);
    } else {
        status = luaL_loadfile(L, argv[1]);
        if (status == LUA_OK) {
            for (int i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
            status = lua_pcall(L, argc - 2, 0, 1);
        }
    }
    if (status != LUA_OK) fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
