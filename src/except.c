/* try/protect: `try` raises {err} with a private metatable; `protect` turns
 * exactly those into nil, err and lets every other error through. protect
 * uses a continuation, so the protected function may yield. */
#include "compat.h"
#include "except.h"

/* upvalues of try: 1 = the finalizer (or nil), 2 = the exception metatable */
static int except_try(lua_State *L) {
    if (lua_toboolean(L, 1)) return lua_gettop(L);
    lua_settop(L, 2);
    if (!lua_isnil(L, lua_upvalueindex(1))) {
        lua_pushvalue(L, lua_upvalueindex(1));
        lua_call(L, 0, 0);
    }
    lua_createtable(L, 1, 0);
    lua_pushvalue(L, 2);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_setmetatable(L, -2);
    return lua_error(L);
}

static int except_newtry(lua_State *L) {
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, except_try, 2);
    return 1;
}

/* upvalues of a protected function: 1 = f, 2 = the exception metatable */
static int except_finish(lua_State *L, int status, lua_KContext ctx) {
    (void) ctx;
    if (status == LUA_OK || status == LUA_YIELD) return lua_gettop(L);
    if (lua_type(L, -1) == LUA_TTABLE && lua_getmetatable(L, -1)) {
        int ours = lua_rawequal(L, -1, lua_upvalueindex(2));
        lua_pop(L, 1);
        if (ours) {
            lua_rawgeti(L, -1, 1);
            lua_pushnil(L);
            lua_insert(L, -2);
            return 2;
        }
    }
    return lua_error(L);           /* anything else goes on unchanged */
}

static int except_protected(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    int status = lua_pcallk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, 0, except_finish);
    return except_finish(L, status, 0);
}

static int except_protect(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    compat_pushentry(L, except_protected, 2);   /* may yield (5.1: compat.c) */
    return 1;
}

void except_open(lua_State *L) {
    lua_createtable(L, 0, 1);                   /* the exception metatable */
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");        /* getmetatable(E) == false */
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, except_newtry, 1);
    lua_setfield(L, -3, "newtry");
    lua_pushcclosure(L, except_protect, 1);
    lua_setfield(L, -2, "protect");
}
