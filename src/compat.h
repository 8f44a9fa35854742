#ifndef NETSOCKET_COMPAT_H
#define NETSOCKET_COMPAT_H
/* The Lua-version differences, in one place (DESIGN.md): the sources are
 * written against the Lua 5.4 API, and this header gives that API to Lua
 * 5.1, 5.2, 5.3, 5.5 and LuaJIT 2.1 (which reports itself as 5.1). Every
 * C file includes it instead of lua.h and lauxlib.h; nothing else tests
 * LUA_VERSION_NUM. Shims are static inline functions named compat_*, put
 * in place of the 5.4 names by macros (a library's own declaration of the
 * same name, as LuaJIT has for some 5.2 functions, stays harmless). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "lua.h"
#include "lauxlib.h"

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM < 501
#error "netsocket needs Lua 5.1 or later (or LuaJIT 2.1)"
#endif
/* LuaJIT's luaconf.h names its own directory; PUC 5.1's does not. */
#if LUA_VERSION_NUM == 501 && (defined(LUA_LJDIR) || defined(LUAJIT_VERSION))
#define COMPAT_LUAJIT 1
#endif

/* ---- 5.1 and LuaJIT: what 5.2 added ---------------------------------- */
#if LUA_VERSION_NUM == 501

#ifndef LUA_OK
#define LUA_OK 0
#endif

static inline int compat_absindex(lua_State *L, int idx) {
    return idx > 0 || idx <= LUA_REGISTRYINDEX ? idx : lua_gettop(L) + idx + 1;
}
#define lua_absindex(L, i) compat_absindex(L, i)

#define lua_rawlen(L, i) lua_objlen(L, i)

static inline lua_Number compat_tonumberx(lua_State *L, int idx, int *isnum) {
    lua_Number n = lua_tonumber(L, idx);
    if (isnum != NULL) *isnum = n != 0 || lua_isnumber(L, idx);
    return n;
}
#define lua_tonumberx(L, i, p) compat_tonumberx(L, i, p)

static inline void compat_rawgetp(lua_State *L, int idx, const void *p) {
    idx = compat_absindex(L, idx);
    lua_pushlightuserdata(L, (void *) p);
    lua_rawget(L, idx);
}
static inline void compat_rawsetp(lua_State *L, int idx, const void *p) {
    idx = compat_absindex(L, idx);
    lua_pushlightuserdata(L, (void *) p);
    lua_insert(L, -2);
    lua_rawset(L, idx);
}
#define lua_rawsetp(L, i, p) compat_rawsetp(L, i, p)

/* Registers l into the table below nup upvalues, popping them; a NULL
 * function makes a placeholder (false), as in 5.2. A function (not a
 * metamethod) gets an entry (compat_pushentry, below): it may yield in a
 * task. Aliases (one function under several names) share one value. */
void compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup);
#define luaL_setfuncs(L, l, n) compat_setfuncs(L, l, n)
#undef luaL_newlibtable
#undef luaL_newlib
#define luaL_newlibtable(L, l) lua_createtable(L, 0, (int) (sizeof(l) / sizeof((l)[0]) - 1))
#define luaL_newlib(L, l) (luaL_newlibtable(L, l), luaL_setfuncs(L, l, 0))

static inline void *compat_testudata(lua_State *L, int idx, const char *tname) {
    void *p = lua_touserdata(L, idx);
    if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
    lua_getfield(L, LUA_REGISTRYINDEX, tname);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same ? p : NULL;
}
#define luaL_testudata(L, i, t) compat_testudata(L, i, t)

static inline void compat_setmetatable(lua_State *L, const char *tname) {
    lua_getfield(L, LUA_REGISTRYINDEX, tname);
    lua_setmetatable(L, -2);
}
#define luaL_setmetatable(L, t) compat_setmetatable(L, t)

static inline int compat_getsubtable(lua_State *L, int idx, const char *fname) {
    idx = compat_absindex(L, idx);
    lua_getfield(L, idx, fname);
    if (lua_istable(L, -1)) return 1;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, idx, fname);
    return 0;
}
#define luaL_getsubtable(L, i, f) compat_getsubtable(L, i, f)

/* 5.1's luaL_Buffer cannot reserve more than LUAL_BUFFERSIZE bytes at
 * once (luaL_prepbuffsize is 5.2's), so 5.1 gets a buffer of its own with
 * 5.4's stack discipline: luaL_buffinit takes one stack slot (the box), and
 * code between init and result keeps the stack balanced above it. */
typedef struct compat_Buffer {
    char *b;
    size_t size, n;
    lua_State *L;
    char init[LUAL_BUFFERSIZE];
} compat_Buffer;
#define luaL_Buffer compat_Buffer

static inline void compat_buffinit(lua_State *L, compat_Buffer *B) {
    B->b = B->init;
    B->size = sizeof B->init;
    B->n = 0;
    B->L = L;
    lua_pushnil(L);   /* the box's slot */
}
/* Room for sz more bytes; the box is at stack index boxidx. */
static inline char *compat_buffgrow(compat_Buffer *B, size_t sz, int boxidx) {
    if (B->size - B->n < sz) {
        size_t size = B->size * 2;
        if (size - B->n < sz) size = B->n + sz;
        if (size < B->n || size < sz) luaL_error(B->L, "buffer too large");
        char *nb = (char *) lua_newuserdata(B->L, size);
        memcpy(nb, B->b, B->n);
        lua_replace(B->L, boxidx < 0 ? boxidx - 1 : boxidx);
        B->b = nb;
        B->size = size;
    }
    return B->b + B->n;
}
static inline char *compat_prepbuffsize(compat_Buffer *B, size_t sz) {
    return compat_buffgrow(B, sz, -1);
}
static inline void compat_addlstring(compat_Buffer *B, const char *s, size_t l) {
    if (l > 0) {
        memcpy(compat_buffgrow(B, l, -1), s, l);
        B->n += l;
    }
}
static inline void compat_addvalue(compat_Buffer *B) {
    size_t l;
    const char *s = lua_tolstring(B->L, -1, &l);
    if (l > 0) memcpy(compat_buffgrow(B, l, -2), s, l);
    B->n += l;
    lua_pop(B->L, 1);
}
static inline void compat_pushresult(compat_Buffer *B) {
    lua_pushlstring(B->L, B->b, B->n);
    lua_remove(B->L, -2);
}
#undef luaL_addchar
#undef luaL_addsize
#define luaL_buffinit(L, B) compat_buffinit(L, B)
#define luaL_prepbuffsize(B, sz) compat_prepbuffsize(B, sz)
#define luaL_prepbuffer(B) compat_prepbuffsize(B, LUAL_BUFFERSIZE)
#define luaL_addsize(B, s) ((B)->n += (s))
#define luaL_addchar(B, c) ((void) ((B)->n < (B)->size || compat_prepbuffsize(B, 1)), \
                            ((B)->b[(B)->n++] = (char) (c)))
#define luaL_addlstring(B, s, l) compat_addlstring(B, s, l)
#define luaL_addstring(B, s) compat_addlstring(B, s, strlen(s))
#define luaL_addvalue(B) compat_addvalue(B)
#define luaL_pushresult(B) compat_pushresult(B)

#endif /* 501 */

/* ---- Argument errors ---------------------------------------------------- */
#ifdef COMPAT_LUAJIT
/* LuaJIT names no C function that was tail-called (`return s:m(x)`), so
 * its errors read "bad argument #2 to '?'". A method is found again in
 * its object's __index table, a function in a loaded module's table (on
 * the error path only), and the message is
 * the one the interpreter would have made: the self argument not counted,
 * "calling 'm' on bad self" for the object itself. (A method called as a
 * function, pcall(s.m, s, x), is then counted as a method call too.) */
static inline int compat_argerror(lua_State *L, int arg, const char *extramsg) {
    lua_Debug ar;
    int found = lua_getstack(L, 0, &ar) && lua_getinfo(L, "nf", &ar);   /* pushes the function */
    if (found && ar.name == NULL) {
        if (lua_getmetatable(L, 1)) {                          /* f mt */
            lua_getfield(L, -1, "__index");                    /* f mt index */
            if (lua_istable(L, -1)) {
                /* of aliases (bind, setsockname), the first in byte order:
                 * the same name whatever the table's order */
                const char *name = NULL;
                lua_pushnil(L);
                while (lua_next(L, -2)) {                      /* f mt index k v */
                    if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, -5)) {
                        const char *k = lua_tostring(L, -2);  /* a key of index: stays alive */
                        if (name == NULL || strcmp(k, name) < 0) name = k;
                    }
                    lua_pop(L, 1);
                }
                if (name != NULL) {
                    if (arg == 1) return luaL_error(L, "calling '%s' on bad self (%s)", name, extramsg);
                    return luaL_error(L, "bad argument #%d to '%s' (%s)", arg - 1, name, extramsg);
                }
            }
            lua_pop(L, 2);
        }
        /* a function: found in a loaded module's table */
        lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");         /* f loaded */
        if (lua_istable(L, -1)) {
            lua_pushnil(L);
            while (lua_next(L, -2)) {                          /* f loaded modname mod */
                if (lua_istable(L, -1)) {
                    lua_pushnil(L);
                    while (lua_next(L, -2)) {                  /* f loaded modname mod k v */
                        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, -6))
                            return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, lua_tostring(L, -2), extramsg);
                        lua_pop(L, 1);
                    }
                }
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 2);
    } else if (found) {
        lua_pop(L, 1);
    }
    return luaL_argerror(L, arg, extramsg);
}
#define luaL_argerror(L, a, m) compat_argerror(L, a, m)
#endif

#if LUA_VERSION_NUM <= 503
static inline int compat_typeerror(lua_State *L, int arg, const char *tname) {
    const char *got = luaL_typename(L, arg);
    if (luaL_getmetafield(L, arg, "__name") && lua_type(L, -1) == LUA_TSTRING)
        got = lua_tostring(L, -1);
    return luaL_argerror(L, arg, lua_pushfstring(L, "%s expected, got %s", tname, got));
}
#define luaL_typeerror(L, a, t) compat_typeerror(L, a, t)
#endif

#if LUA_VERSION_NUM == 501
/* 5.1's own checks call its luaL_argerror: these call the one above. */
static inline lua_Number compat_checknumber(lua_State *L, int arg) {
    lua_Number d = lua_tonumber(L, arg);
    if (d == 0 && !lua_isnumber(L, arg)) compat_typeerror(L, arg, "number");
    return d;
}
static inline lua_Number compat_optnumber(lua_State *L, int arg, lua_Number def) {
    return lua_isnoneornil(L, arg) ? def : compat_checknumber(L, arg);
}
static inline const char *compat_checklstring(lua_State *L, int arg, size_t *len) {
    const char *s = lua_tolstring(L, arg, len);
    if (s == NULL) compat_typeerror(L, arg, "string");
    return s;
}
static inline const char *compat_optlstring(lua_State *L, int arg, const char *def, size_t *len) {
    if (!lua_isnoneornil(L, arg)) return compat_checklstring(L, arg, len);
    if (len != NULL) *len = def != NULL ? strlen(def) : 0;
    return def;
}
static inline void compat_checktype(lua_State *L, int arg, int t) {
    if (lua_type(L, arg) != t) compat_typeerror(L, arg, lua_typename(L, t));
}
static inline void compat_checkany(lua_State *L, int arg) {
    if (lua_type(L, arg) == LUA_TNONE) luaL_argerror(L, arg, "value expected");
}
static inline void *compat_checkudata(lua_State *L, int arg, const char *tname) {
    void *p = compat_testudata(L, arg, tname);
    if (p == NULL) compat_typeerror(L, arg, tname);
    return p;
}
static inline int compat_checkoption(lua_State *L, int arg, const char *def, const char *const lst[]) {
    const char *name = def != NULL ? compat_optlstring(L, arg, def, NULL) : compat_checklstring(L, arg, NULL);
    for (int i = 0; lst[i] != NULL; i++)
        if (strcmp(lst[i], name) == 0) return i;
    return luaL_argerror(L, arg, lua_pushfstring(L, "invalid option '%s'", name));
}
#define luaL_checknumber(L, a) compat_checknumber(L, a)
#define luaL_optnumber(L, a, d) compat_optnumber(L, a, d)
#define luaL_checklstring(L, a, l) compat_checklstring(L, a, l)
#define luaL_optlstring(L, a, d, l) compat_optlstring(L, a, d, l)
#define luaL_checktype(L, a, t) compat_checktype(L, a, t)
#define luaL_checkany(L, a) compat_checkany(L, a)
#define luaL_checkudata(L, a, t) compat_checkudata(L, a, t)
#define luaL_checkoption(L, a, d, l) compat_checkoption(L, a, d, l)
#endif

/* ---- 5.1 and 5.2: integers, typed getters, lua_geti ------------------- */
#if LUA_VERSION_NUM <= 502

/* No integer subtype: lua_Integer is ptrdiff_t and numbers are doubles
 * (doc/migration.md). 5.2's lua_Unsigned is 32 bits: ours matches
 * lua_Integer, as from 5.3 on. */
#define LUA_MAXINTEGER ((lua_Integer) 9007199254740992)   /* 2^53: the last integer a double holds exactly */
#define LUA_MININTEGER (-LUA_MAXINTEGER)
typedef size_t compat_Unsigned;
#define lua_Unsigned compat_Unsigned

/* 5.3's integer conversions: a number converts when it has an exact
 * integer value (not 1.5, not 1e300), and luaL_checkinteger says so. */
static inline lua_Integer compat_tointegerx(lua_State *L, int idx, int *isnum) {
    lua_Number n = lua_tonumber(L, idx);
    int ok = lua_isnumber(L, idx) && n >= -9223372036854775808.0 && n < 9223372036854775808.0 &&
             (lua_Number) (lua_Integer) n == n;
    if (isnum != NULL) *isnum = ok;
    return ok ? (lua_Integer) n : 0;
}
static inline lua_Integer compat_checkinteger(lua_State *L, int arg) {
    int isnum;
    lua_Integer i = compat_tointegerx(L, arg, &isnum);
    if (!isnum) {
        if (!lua_isnumber(L, arg)) luaL_typeerror(L, arg, "number");
        luaL_argerror(L, arg, "number has no integer representation");
    }
    return i;
}
static inline lua_Integer compat_optinteger(lua_State *L, int arg, lua_Integer def) {
    return lua_isnoneornil(L, arg) ? def : compat_checkinteger(L, arg);
}
#undef lua_tointegerx
#undef lua_tointeger
#undef luaL_checkinteger
#undef luaL_optinteger
#define lua_tointegerx(L, i, p) compat_tointegerx(L, i, p)
#define lua_tointeger(L, i) compat_tointegerx(L, i, NULL)
#define luaL_checkinteger(L, a) compat_checkinteger(L, a)
#define luaL_optinteger(L, a, d) compat_optinteger(L, a, d)

/* Metatables get __name (class_tostring and error messages use it). */
static inline int compat_newmetatable(lua_State *L, const char *tname) {
    if (!luaL_newmetatable(L, tname)) return 0;
    lua_pushstring(L, tname);
    lua_setfield(L, -2, "__name");
    return 1;
}
#define luaL_newmetatable(L, t) compat_newmetatable(L, t)

/* The getters return the type of the value they push, as from 5.3 on. */
static inline int compat_getfield(lua_State *L, int idx, const char *k) {
    lua_getfield(L, idx, k);
    return lua_type(L, -1);
}
static inline int compat_gettable(lua_State *L, int idx) {
    lua_gettable(L, idx);
    return lua_type(L, -1);
}
static inline int compat_rawget(lua_State *L, int idx) {
    lua_rawget(L, idx);
    return lua_type(L, -1);
}
static inline int compat_rawgeti(lua_State *L, int idx, lua_Integer n) {
    lua_rawgeti(L, idx, (int) n);
    return lua_type(L, -1);
}
static inline int compat_rawgetp_t(lua_State *L, int idx, const void *p) {
#if LUA_VERSION_NUM == 501
    compat_rawgetp(L, idx, p);
#else
    lua_rawgetp(L, idx, p);
#endif
    return lua_type(L, -1);
}
static inline int compat_geti(lua_State *L, int idx, lua_Integer i) {
    idx = lua_absindex(L, idx);
    lua_pushinteger(L, i);
    return compat_gettable(L, idx);
}
static inline void compat_seti(lua_State *L, int idx, lua_Integer i) {
    idx = lua_absindex(L, idx);
    lua_pushinteger(L, i);
    lua_insert(L, -2);
    lua_settable(L, idx);
}
#define lua_getfield(L, i, k) compat_getfield(L, i, k)
#define lua_gettable(L, i) compat_gettable(L, i)
#define lua_rawget(L, i) compat_rawget(L, i)
#define lua_rawgeti(L, i, n) compat_rawgeti(L, i, n)
#define lua_rawgetp(L, i, p) compat_rawgetp_t(L, i, p)
#define lua_geti(L, i, n) compat_geti(L, i, n)
#define lua_seti(L, i, n) compat_seti(L, i, n)

#endif /* <= 502 */

/* ---- 5.1 to 5.3: what 5.4 added --------------------------------------- */
#if LUA_VERSION_NUM <= 503

/* Several user values per userdata: before 5.4 a userdata has one (5.1:
 * its environment, a table), so it holds a table of them. */
static inline void compat_setuv(lua_State *L, int idx) {
#if LUA_VERSION_NUM == 501
    lua_setfenv(L, idx);
#else
    lua_setuservalue(L, idx);
#endif
}
static inline void compat_getuv(lua_State *L, int idx) {
#if LUA_VERSION_NUM == 501
    lua_getfenv(L, idx);
#else
    lua_getuservalue(L, idx);
#endif
}
static inline void *compat_newuserdatauv(lua_State *L, size_t size, int nuv) {
    void *p = lua_newuserdata(L, size);
    if (nuv > 0) {
        lua_createtable(L, nuv, 0);
        compat_setuv(L, -2);
    }
    return p;
}
static inline int compat_getiuservalue(lua_State *L, int idx, int n) {
    compat_getuv(L, idx);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return LUA_TNONE;
    }
    lua_rawgeti(L, -1, n);
    lua_remove(L, -2);
    return lua_type(L, -1);
}
static inline int compat_setiuservalue(lua_State *L, int idx, int n) {
    idx = lua_absindex(L, idx);
    compat_getuv(L, idx);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 2);
        return 0;
    }
    lua_insert(L, -2);
    lua_rawseti(L, -2, n);
    lua_pop(L, 1);
    return 1;
}
#define lua_newuserdatauv(L, s, n) compat_newuserdatauv(L, s, n)
#define lua_getiuservalue(L, i, n) compat_getiuservalue(L, i, n)
#define lua_setiuservalue(L, i, n) compat_setiuservalue(L, i, n)

/* No to-be-closed variables before 5.4: __gc releases the object instead,
 * at the next collection. */
#define lua_toclose(L, i) ((void) (L), (void) (i))

#endif /* <= 503 */

/* ---- Strings that take over a block (5.5) ------------------------------
 * compat_pushblock(L, block, cap, len) pushes block[0..len) as a string and
 * consumes the block (cap bytes from the state's allocator): 5.5 adopts it
 * without a copy (lua_pushexternalstring, the block shrunk to len + 1 for
 * its '\0'); earlier versions copy it and free it. COMPAT_BLOCKMIN is the
 * smallest result worth handing over: on versions that must copy, never
 * (the caller keeps reusing its buffer instead). The caller must forget the
 * block before the call: a memory error in the push frees it. */
#if LUA_VERSION_NUM >= 505
#define COMPAT_BLOCKMIN ((size_t) 64 * 1024)
static inline void compat_pushblock(lua_State *L, char *block, size_t cap, size_t len) {
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    char *s = len + 1 <= cap ? f(ud, block, cap, len + 1) : NULL;
    if (s == NULL) {                       /* no room for the '\0': copy */
        lua_pushlstring(L, block, len);
        f(ud, block, cap, 0);
        return;
    }
    s[len] = '\0';
    lua_pushexternalstring(L, s, len, f, ud);
}
#else
#define COMPAT_BLOCKMIN ((size_t) -1)
static inline void compat_pushblock(lua_State *L, char *block, size_t cap, size_t len) {
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    lua_pushlstring(L, block, len);
    f(ud, block, cap, 0);
}
#endif

/* ---- Continuations ------------------------------------------------------
 * 5.3 on: lua_yieldk, lua_callk, lua_pcallk with lua_KFunction(L, status,
 * ctx). 5.2 has them with another signature (a lua_CFunction that asks
 * lua_getctx), so a trampoline keeps the real continuation and its context
 * in two stack slots below the values involved and removes them again
 * (5.2's lua_call and lua_pcall are these with no continuation). */
#if LUA_VERSION_NUM <= 502
typedef intptr_t lua_KContext;
typedef int (*lua_KFunction)(lua_State *L, int status, lua_KContext ctx);
#endif

#if LUA_VERSION_NUM == 502

static inline void compat_pushk(lua_State *L, int at, lua_KContext ctx, lua_KFunction k) {
    void *pk;
    _Static_assert(sizeof pk == sizeof k, "function pointers fit in a light userdata");
    memcpy(&pk, &k, sizeof pk);
    lua_pushlightuserdata(L, pk);
    lua_insert(L, at);
    lua_pushlightuserdata(L, (void *) ctx);
    lua_insert(L, at + 1);
}
static inline int compat_k(lua_State *L) {
    int at = 0;
    int status = lua_getctx(L, &at);
    lua_KFunction k;
    void *pk = lua_touserdata(L, at);
    memcpy(&k, &pk, sizeof k);
    lua_KContext ctx = (lua_KContext) lua_touserdata(L, at + 1);
    lua_remove(L, at);
    lua_remove(L, at);
    return k(L, status, ctx);
}
static inline int compat_yieldk(lua_State *L, int n, lua_KContext ctx, lua_KFunction k) {
    if (k == NULL) return lua_yieldk(L, n, 0, NULL);
    int at = lua_gettop(L) - n + 1;
    compat_pushk(L, at, ctx, k);
    return lua_yieldk(L, n, at, compat_k);
}
static inline void compat_callk(lua_State *L, int nargs, int nres, lua_KContext ctx, lua_KFunction k) {
    if (k == NULL) {
        lua_callk(L, nargs, nres, 0, NULL);
        return;
    }
    int at = lua_gettop(L) - nargs;
    compat_pushk(L, at, ctx, k);
    lua_callk(L, nargs, nres, at, compat_k);
    lua_remove(L, at);
    lua_remove(L, at);
}
static inline int compat_pcallk(lua_State *L, int nargs, int nres, int errfunc,
                                lua_KContext ctx, lua_KFunction k) {
    if (k == NULL) return lua_pcallk(L, nargs, nres, errfunc, 0, NULL);
    int at = lua_gettop(L) - nargs;
    if (errfunc != 0) errfunc = lua_absindex(L, errfunc);
    if (errfunc >= at) errfunc += 2;
    compat_pushk(L, at, ctx, k);
    int status = lua_pcallk(L, nargs, nres, errfunc, at, compat_k);
    lua_remove(L, at);
    lua_remove(L, at);
    return status;
}
#undef lua_yieldk
#undef lua_callk
#undef lua_pcallk
#define lua_yieldk(L, n, c, k) compat_yieldk(L, n, c, k)
#define lua_callk(L, na, nr, c, k) compat_callk(L, na, nr, c, k)
#define lua_pcallk(L, na, nr, f, c, k) compat_pcallk(L, na, nr, f, c, k)

/* 5.2 cannot tell: a coroutine is taken as yieldable (a yield across a
 * C boundary there raises an error rather than blocking). */
static inline int compat_isyieldable(lua_State *L) {
    int main = lua_pushthread(L);
    lua_pop(L, 1);
    return !main;
}
#define lua_isyieldable(L) compat_isyieldable(L)

#elif LUA_VERSION_NUM == 501

/* 5.1 and LuaJIT have no continuations, and lua_yield works only as
 * `return lua_yield(L, n)` from a C function called from Lua. compat.c
 * emulates 5.2's: a yield raises a record of what to wait for and how to
 * go on (the continuation, its context, the stack and upvalues); the
 * entry wrapper of the method the task called turns it into a real
 * yield, and socket.co runs the record on wake-up (socket._k51.run). A
 * call that may yield runs its callee in a coroutine of its own. */
int compat_yieldk(lua_State *L, int n, lua_KContext ctx, lua_KFunction k);
void compat_callk(lua_State *L, int nargs, int nres, lua_KContext ctx, lua_KFunction k);
int compat_pcallk(lua_State *L, int nargs, int nres, int errfunc, lua_KContext ctx, lua_KFunction k);
/* Whether a wait here may yield: a coroutine whose frames above the C
 * function Lua called are Lua code (LuaJIT: or pcall/xpcall). */
int compat_isyieldable(lua_State *L);
#undef lua_isyieldable
#define lua_isyieldable(L) compat_isyieldable(L)
#define lua_yieldk(L, n, c, k) compat_yieldk(L, n, c, k)
#define lua_callk(L, na, nr, c, k) compat_callk(L, na, nr, c, k)
#define lua_pcallk(L, na, nr, f, c, k) compat_pcallk(L, na, nr, f, c, k)

#endif

/* ---- Entries and identity ----------------------------------------------
 * compat_pushentry pushes a C closure of f over the n values on top (as
 * lua_pushcclosure), for a function Lua calls that may yield in a task.
 * compat_self names the task a thread works for (a call's identity in
 * call.c). compat_open adds what the emulation needs to socket.core's
 * table at the top. All three are the plain thing on 5.2 and later. */
#if LUA_VERSION_NUM == 501
void compat_pushentry(lua_State *L, lua_CFunction f, int n);
const void *compat_self(lua_State *L);
void compat_pushself(lua_State *L);
void compat_open(lua_State *L);
#else
#define compat_pushentry(L, f, n) lua_pushcclosure(L, f, n)
#define compat_self(L) ((const void *) (L))
#define compat_pushself(L) ((void) lua_pushthread(L))
#define compat_open(L) ((void) (L))
#endif

#endif
