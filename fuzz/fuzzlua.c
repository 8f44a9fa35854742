/* The embedded Lua state of the fuzz targets (see fuzzlua.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Lua files compiled once and kept across inputs: every input's state
 * loads the same bytecode instead of reading and parsing the files again
 * (allocated once, reachable: not a leak). */
typedef struct fuzzlua_chunk {
    char *path;
    char *code;
    size_t len, cap;
} fuzzlua_chunk;

#define FUZZLUA_CHUNKS 32
static fuzzlua_chunk fuzzlua_chunks[FUZZLUA_CHUNKS];
static int fuzzlua_nchunks;

static int fuzzlua_writer(lua_State *L, const void *p, size_t n, void *ud) {
    (void) L;
    fuzzlua_chunk *c = ud;
    if (c->len + n > c->cap) {
        size_t cap = (c->len + n) * 2;
        char *code = realloc(c->code, cap);
        if (code == NULL) return 1;
        c->code = code;
        c->cap = cap;
    }
    memcpy(c->code + c->len, p, n);
    c->len += n;
    return 0;
}

static fuzzlua_chunk *fuzzlua_cached(const char *path) {
    for (int i = 0; i < fuzzlua_nchunks; i++)
        if (strcmp(fuzzlua_chunks[i].path, path) == 0) return &fuzzlua_chunks[i];
    return NULL;
}

/* Pushes the chunk of the Lua file at path (compiled on first use), or an
 * error message; returns the load status. */
static int fuzzlua_load(lua_State *L, const char *path) {
    const fuzzlua_chunk *k = fuzzlua_cached(path);
    if (k != NULL) return luaL_loadbufferx(L, k->code, k->len, path, "b");
    int status = luaL_loadfile(L, path);
    if (status != LUA_OK || fuzzlua_nchunks == FUZZLUA_CHUNKS) return status;
    fuzzlua_chunk *c = &fuzzlua_chunks[fuzzlua_nchunks];
    c->path = strdup(path);
    if (c->path == NULL || lua_dump(L, fuzzlua_writer, c, 0) != 0) fuzzlua_die("setup", "out of memory");
    fuzzlua_nchunks++;
    return LUA_OK;
}

/* package.searchers entry: name -> lua/<name>.lua or fuzz/<name>.lua of
 * this tree, through the cache. */
static int fuzzlua_searcher(lua_State *L) {
    const char *name = luaL_gsub(L, luaL_checkstring(L, 1), ".", "/");
    static const char *const dirs[] = {FUZZ_ROOT "/lua/", FUZZ_ROOT "/fuzz/"};
    for (int pass = 0; pass < 2; pass++) {          /* the cache, then the disk */
        for (int i = 0; i < 2; i++) {
            const char *path = lua_pushfstring(L, "%s%s.lua", dirs[i], name);
            FILE *f = pass == 0 ? NULL : fopen(path, "r");
            if (f != NULL) fclose(f);
            if (f != NULL || (pass == 0 && fuzzlua_cached(path) != NULL)) {
                if (fuzzlua_load(L, path) != LUA_OK) return lua_error(L);
                lua_pushstring(L, path);
                return 2;
            }
            lua_pop(L, 1);
        }
    }
    lua_pushfstring(L, "\n\tno file in lua/ or fuzz/ for '%s'", name);
    return 1;
}

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
    /* modules: the preloaded C ones, then this tree's Lua files; never a
     * system copy */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "searchers");
    lua_createtable(L, 2, 0);
    lua_geti(L, -2, 1);                             /* the preload searcher */
    lua_seti(L, -2, 1);
    lua_pushcfunction(L, fuzzlua_searcher);
    lua_seti(L, -2, 2);
    lua_setfield(L, -3, "searchers");
    lua_pop(L, 2);
    lua_newtable(L);
    lua_pushcfunction(L, fuzzlua_fail);
    lua_setfield(L, -2, "fail");
    if (funcs != NULL) luaL_setfuncs(L, funcs, 0);
    lua_setglobal(L, "fuzz");
    lua_pushcfunction(L, fuzzlua_traceback);
    if (fuzzlua_load(L, lua_pushfstring(L, "%s/fuzz/%s.lua", FUZZ_ROOT, driver)) != LUA_OK)
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
