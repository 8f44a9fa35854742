/* Class registration and typed argument checks. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "class.h"

/* Group membership lives in the registry, keyed by the metatable itself:
 * registry["netsocket.groups"][group][metatable] = true. A string key in a
 * foreign metatable therefore never makes its userdata pass for ours. The
 * string keys of 3.x (mt["tcp{any}"] = true) are set too, for scripts. */
#define CLASS_GROUPS "netsocket.groups"   /* a name, so socket.ssl.core shares it */

/* Pushes the member set of `group` and returns 1; returns 0 with the stack
 * unchanged when it does not exist and `create` is 0. */
static int class_pushgroup(lua_State *L, const char *group, int create) {
    int top = lua_gettop(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, CLASS_GROUPS) != LUA_TTABLE) {
        lua_settop(L, top);
        if (!create) return 0;
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, CLASS_GROUPS);
    }
    if (lua_getfield(L, -1, group) != LUA_TTABLE) {         /* groups, x */
        lua_pop(L, 1);
        if (!create) {
            lua_settop(L, top);
            return 0;
        }
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -3, group);                        /* groups, set */
    }
    lua_remove(L, -2);
    return 1;
}

void class_new(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta) {
    luaL_newmetatable(L, name);               /* also sets __name */
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "class");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    class_add(L, name, name);                 /* a class is a group of itself */
}

/* The fast path of the checks (every method call makes one): each
 * metatable this module registers holds, under a light-userdata key private
 * to the module, a record of its own address and of its groups' names, so a
 * check is one rawgetp and a pointer compare instead of two registry lookups
 * by string. The address makes a copy of the record into a foreign
 * metatable (pairs can reach the key) useless; anything not in a record
 * (another module's classes, a full record) takes the registry path. */
#define CLASS_FASTMAX 6
typedef struct class_fast {
    const void *mt;
    int n;
    const char *groups[CLASS_FASTMAX];
} class_fast;
static const char class_fastkey;

/* With the metatable on top: records `group` in its fast record. */
static void class_fastadd(lua_State *L, const char *group) {
    class_fast *f;
    if (lua_rawgetp(L, -1, &class_fastkey) == LUA_TUSERDATA) {
        f = lua_touserdata(L, -1);
    } else {
        lua_pop(L, 1);
        f = lua_newuserdatauv(L, sizeof *f, 0);
        f->mt = lua_topointer(L, -2);
        f->n = 0;
        lua_pushvalue(L, -1);
        lua_rawsetp(L, -3, &class_fastkey);
    }
    if (f->n < CLASS_FASTMAX) f->groups[f->n++] = group;   /* a string literal */
    lua_pop(L, 1);
}

/* 1 when the userdata at idx is in `group` by its fast record, 0 when that
 * is not known here (not a member, or not recorded). */
static int class_fasttest(lua_State *L, int idx, const char *group) {
    int in = 0;
    if (!lua_getmetatable(L, idx)) return 0;
    if (lua_rawgetp(L, -1, &class_fastkey) == LUA_TUSERDATA && lua_rawlen(L, -1) == sizeof(class_fast)) {
        const class_fast *f = lua_touserdata(L, -1);
        if (f->mt == lua_topointer(L, -2)) {
            for (int i = 0; i < f->n && !in; i++)
                in = f->groups[i] == group || strcmp(f->groups[i], group) == 0;
        }
    }
    lua_pop(L, 2);
    return in;
}

void class_add(lua_State *L, const char *name, const char *group) {
    luaL_getmetatable(L, name);
    class_fastadd(L, group);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, group);
    class_pushgroup(L, group, 1);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 2);
}

void class_selectable(lua_State *L, const char *name) {
    class_add(L, name, "select{able}");
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

/* A full userdata's block, or NULL: a light userdata has no block of ours
 * behind it, even when the debug library gave light userdata (all of them
 * share one metatable) one of our metatables. */
static void *class_block(lua_State *L, int idx) {
    return lua_type(L, idx) == LUA_TUSERDATA ? lua_touserdata(L, idx) : NULL;
}

void *class_check(lua_State *L, int idx, const char *name) {
    void *p = class_block(L, idx);
    if (p != NULL && !class_fasttest(L, idx, name)) p = luaL_testudata(L, idx, name);
    if (p == NULL) class_bad(L, idx, name);
    return p;
}

void *class_testgroup(lua_State *L, int idx, const char *group) {
    void *p = class_block(L, idx);
    if (p == NULL) return NULL;
    if (class_fasttest(L, idx, group)) return p;
    int top = lua_gettop(L), in = 0;
    if (lua_getmetatable(L, idx) && class_pushgroup(L, group, 0)) {   /* mt, set */
        lua_pushvalue(L, -2);
        in = lua_rawget(L, -2) != LUA_TNIL;
    }
    lua_settop(L, top);
    return in ? p : NULL;
}

void *class_checkgroup(lua_State *L, int idx, const char *group) {
    void *p = class_testgroup(L, idx, group);
    if (p == NULL) class_bad(L, idx, group);
    return p;
}

class_base *class_tobase(lua_State *L, int idx) {
    return (class_base *) class_testgroup(L, idx, "select{able}");
}

int class_checkfd(lua_State *L, int idx) {
    lua_Number n = luaL_checknumber(L, idx);
    luaL_argcheck(L, n >= -2147483648.0 && n <= 2147483647.0, idx, "invalid descriptor");
    return (int) n;
}

int class_tostring(lua_State *L) {
    const char *name = "object";
    if (lua_getmetatable(L, 1)) {
        if (lua_getfield(L, -1, "__name") == LUA_TSTRING) name = lua_tostring(L, -1);
        lua_pop(L, 1);   /* name stays reachable through the metatable */
        lua_pop(L, 1);
    }
    class_pushaddr(L, name, lua_touserdata(L, 1));
    return 1;
}

void class_pushaddr(lua_State *L, const char *what, const void *p) {
    char hex[2 * sizeof(uintptr_t) + 3];
    snprintf(hex, sizeof hex, "0x%" PRIxPTR, (uintptr_t) p);
    lua_pushfstring(L, "%s: %s", what, hex);
}
