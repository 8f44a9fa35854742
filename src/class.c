/* Class registration and typed argument checks. */
#include <stdio.h>
#include <string.h>
#include "class.h"

static const char class_selectable_key = 0;  /* its address marks selectable metatables */

void class_new(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta) {
    luaL_newmetatable(L, name);               /* also sets __name */
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, name);                /* a class is a group of itself */
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "class");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

void class_add(lua_State *L, const char *name, const char *group) {
    luaL_getmetatable(L, name);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, group);
    lua_pop(L, 1);
}

void class_selectable(lua_State *L, const char *name) {
    luaL_getmetatable(L, name);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "select{able}");
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &class_selectable_key);
    lua_pop(L, 1);
}

void class_set(lua_State *L, int idx, const char *name) {
    idx = lua_absindex(L, idx);
    luaL_getmetatable(L, name);
    lua_setmetatable(L, idx);
}

static int class_bad(lua_State *L, int idx, const char *what) {
    char msg[64];
    snprintf(msg, sizeof msg, "%.40s expected", what);
    return luaL_argerror(L, idx, msg);
}

void *class_check(lua_State *L, int idx, const char *name) {
    void *p = luaL_testudata(L, idx, name);
    if (p == NULL) class_bad(L, idx, name);
    return p;
}

void *class_testgroup(lua_State *L, int idx, const char *group) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
    int in = lua_getfield(L, -1, group) == LUA_TBOOLEAN && lua_toboolean(L, -1);
    lua_pop(L, 2);
    return in ? p : NULL;
}

void *class_checkgroup(lua_State *L, int idx, const char *group) {
    void *p = class_testgroup(L, idx, group);
    if (p == NULL) class_bad(L, idx, group);
    return p;
}

class_base *class_tobase(lua_State *L, int idx) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
    int ok = lua_rawgetp(L, -1, &class_selectable_key) == LUA_TBOOLEAN;
    lua_pop(L, 2);
    return ok ? (class_base *) p : NULL;
}

int class_tostring(lua_State *L) {
    const char *name = "object";
    if (lua_getmetatable(L, 1)) {
        if (lua_getfield(L, -1, "__name") == LUA_TSTRING) name = lua_tostring(L, -1);
        lua_pop(L, 1);   /* name stays reachable through the metatable */
        lua_pop(L, 1);
    }
    lua_pushfstring(L, "%s: %p", name, lua_touserdata(L, 1));
    return 1;
}
