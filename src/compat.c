/* Continuations for Lua 5.1 and LuaJIT (compat.h): a yield from deep C
 * code, re-issued by socket.co on wake-up. Linked into socket.core and
 * socket.ssl.core alike: every piece of state they share lives in the
 * registry under a string key, so a record one library raises runs in the
 * other, and each recognises the other's entries.
 *
 * A record R = { vals, frames } with metatable registry[COMPAT_MT]: `vals`
 * are the values the yield hands to the scheduler; `frames`, innermost
 * first, say how to go on. A C frame keeps { k, ctx, the running C
 * function (for its upvalues), the stack below the yielded values or the
 * called function, kind, nres }; a sub frame keeps a coroutine that ran a
 * lua_callk/lua_pcallk callee and yielded, and the record its own yield
 * raised (run that first, then resume the coroutine with its results). */
#include <stdlib.h>
#include "compat.h"

#if LUA_VERSION_NUM == 501

#define COMPAT_MT "netsocket.k51mt"
#define COMPAT_PENDING "netsocket.k51pending"   /* thread -> the record its yield left */
#define COMPAT_SELF "netsocket.k51self"         /* helper thread -> the task it works for */
#define COMPAT_ENTRIES "netsocket.k51entries"   /* entry C functions (both libraries) */
#define COMPAT_PASS "netsocket.k51pass"         /* C functions a yield crosses (LuaJIT) */
#define COMPAT_TASKS "netsocket.tasks"          /* socket.co's tasks (call.h CALL_TASKS) */
#define COMPAT_THROUGH "netsocket.k51through"   /* see compat_pushthrough */

enum { R_VALS = 1, R_FRAMES = 2 };
enum { F_KIND = 1, F_K, F_CTX, F_FN, F_STACK, F_NRES, F_SUB = 2, F_INNER = 3 };
enum { KIND_YIELD = 1, KIND_CALL, KIND_PCALL, KIND_SUB };

/* Pushes registry[key], made (with weak keys when `weak`) if missing. */
static void compat_regtable(lua_State *L, const char *key, int weak) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, key) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_newtable(L);
    if (weak) {
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, key);
}

static void compat_pushfptr(lua_State *L, lua_CFunction f) {
    void *p;
    _Static_assert(sizeof p == sizeof f, "function pointers fit in a light userdata");
    memcpy(&p, &f, sizeof p);
    lua_pushlightuserdata(L, p);
}

/* ---- Who is who ---------------------------------------------------- */

/* Whether L is a socket.co task (or a helper thread working for one). */
static int compat_istask(lua_State *L) {
    if (lua_pushthread(L)) {
        lua_pop(L, 1);
        return 0;
    }
    int in = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, COMPAT_TASKS) == LUA_TTABLE) {
        lua_pushvalue(L, -2);
        in = lua_rawget(L, -2) != LUA_TNIL;
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return in;
}

/* Pushes the thread L works for: the task, for a helper; else L. */
void compat_pushself(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, COMPAT_SELF) == LUA_TTABLE) {
        lua_pushthread(L);
        if (lua_rawget(L, -2) == LUA_TTHREAD) {
            lua_remove(L, -2);
            return;
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushthread(L);
}

const void *compat_self(lua_State *L) {
    compat_pushself(L);
    const void *self = lua_tothread(L, -1);
    lua_pop(L, 1);
    return self;
}

/* The helper thread S (on top of L's stack) works for L's task. */
static void compat_enlist(lua_State *L, int on) {
    int s = lua_gettop(L);
    if (lua_getfield(L, LUA_REGISTRYINDEX, COMPAT_TASKS) == LUA_TTABLE) {
        lua_pushvalue(L, s);
        if (on) lua_pushboolean(L, 1); else lua_pushnil(L);
        lua_rawset(L, -3);
    }
    lua_pop(L, 1);
    compat_regtable(L, COMPAT_SELF, 1);
    lua_pushvalue(L, s);
    if (on) compat_pushself(L); else lua_pushnil(L);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* ---- Yieldable here? -------------------------------------------------
 * The wait happens in a C function that Lua called through an entry (or
 * that socket.co's runner called: then its frames sit between the two);
 * it may yield when every frame above the entry, up to the base of the
 * coroutine, is Lua code (LuaJIT also crosses pcall and xpcall). A C
 * frame there (a lua_call from C, PUC 5.1's pcall) is a boundary: the
 * wait blocks instead, as outside a task. PUC 5.1 cannot yield across a
 * metamethod or a for iterator either (LuaJIT can): those block too. */

/* PUC 5.1 only: whether the Lua function at `level` was called by the VM
 * through a C boundary: a for iterator, or (no name, a Lua caller and not
 * a tail call) a metamethod. An unnamed call such as (f or g)() looks the
 * same and blocks too. */
static int compat_vmcall(lua_State *L, int level, lua_Debug *ar) {
    if (!lua_getinfo(L, "n", ar)) return 0;
    if (ar->name != NULL) return strcmp(ar->name, "(for generator)") == 0;
    lua_Debug up;
    return lua_getstack(L, level + 1, &up) && lua_getinfo(L, "S", &up) &&
           (strcmp(up.what, "Lua") == 0 || strcmp(up.what, "main") == 0);
}

int compat_isyieldable(lua_State *L) {
    if (lua_pushthread(L)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pop(L, 1);
    compat_regtable(L, COMPAT_ENTRIES, 0);
    compat_regtable(L, COMPAT_PASS, 0);
    int tables = lua_gettop(L) - 1, found = 0, ok = 1;
    lua_getfield(L, tables + 1, "jit");
    int jit = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_Debug ar;
    for (int level = 0; ok && lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "S", &ar)) continue;
        if (strcmp(ar.what, "C") != 0) {
            if (!found) ok = 0;                  /* Lua code called from the waiting C code */
            else if (!jit && strcmp(ar.what, "Lua") == 0 && compat_vmcall(L, level, &ar)) ok = 0;
            continue;
        }
        lua_getinfo(L, "f", &ar);
        lua_CFunction f = lua_tocfunction(L, -1);
        int entry = 0;
        if (f != NULL) {
            compat_pushfptr(L, f);
            lua_rawget(L, tables);
            int t = lua_type(L, -1);
            entry = t == LUA_TBOOLEAN ? 1 : t == LUA_TSTRING ? -1 : 0;   /* -1: the runner */
            lua_pop(L, 1);
        }
        if (!found) {
            /* below the entry: the waiting function, then only socket.co's runner */
            found = entry > 0;
            if (level > 0 && entry == 0) ok = 0;
        } else {
            lua_pushvalue(L, -1);
            ok = lua_rawget(L, tables + 1) != LUA_TNIL;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return found && ok;
}

/* socket._k51.yieldable(): whether the Lua function that calls it may
 * yield its coroutine with coroutine.yield: every frame from it to the
 * coroutine's base is Lua code (LuaJIT also crosses pcall and xpcall), and
 * on PUC 5.1 none was called as a metamethod or a for iterator. co.pcall
 * asks before it passes a wait through its caller; where the answer is no
 * the wait blocks, as under pcall, instead of raising "attempt to yield
 * across metamethod/C-call boundary". */
static int compat_lua_yieldable(lua_State *L) {
    if (lua_pushthread(L)) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pop(L, 1);
    compat_regtable(L, COMPAT_PASS, 0);
    int pass = lua_gettop(L), ok = 1;
    lua_getfield(L, pass, "jit");
    int jit = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_Debug ar;
    for (int level = 1; ok && lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "S", &ar)) continue;
        if (strcmp(ar.what, "C") != 0) {
            if (!jit && strcmp(ar.what, "Lua") == 0 && compat_vmcall(L, level, &ar)) ok = 0;
            continue;
        }
        lua_getinfo(L, "f", &ar);
        ok = lua_rawget(L, pass) != LUA_TNIL;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushboolean(L, ok);
    return 1;
}

/* A task that may yield here: a callee runs in a coroutine of its own. */
static int compat_canyield(lua_State *L) {
    return compat_istask(L) && compat_isyieldable(L);
}

/* ---- Records ------------------------------------------------------- */

static int compat_isrecord(lua_State *L, int idx) {
    if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
    lua_getfield(L, LUA_REGISTRYINDEX, COMPAT_MT);
    int is = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return is;
}

/* Pops a table of values and pushes the record { vals = it, frames = {} }. */
static void compat_newrecord(lua_State *L) {
    lua_createtable(L, 2, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, R_VALS);
    lua_newtable(L);
    lua_rawseti(L, -2, R_FRAMES);
    if (lua_getfield(L, LUA_REGISTRYINDEX, COMPAT_MT) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, LUA_REGISTRYINDEX, COMPAT_MT);
    }
    lua_setmetatable(L, -2);
}

/* Pops the value on top into the frames of the record at idx, at the end. */
static void compat_addframe(lua_State *L, int rec) {
    lua_rawgeti(L, rec, R_FRAMES);
    lua_insert(L, -2);
    lua_rawseti(L, -2, (int) lua_objlen(L, -2) + 1);
    lua_pop(L, 1);
}

/* Copies frames from..n of the frames table at idx to the record at rec. */
static void compat_addframes(lua_State *L, int rec, int frames, int from) {
    int n = (int) lua_objlen(L, frames);
    for (int i = from; i <= n; i++) {
        lua_rawgeti(L, frames, i);
        compat_addframe(L, rec);
    }
}

/* Pushes a table of the n values on top of `from` (popped from there),
 * with their count in field n. */
static void compat_packvals(lua_State *L, lua_State *from, int n) {
    lua_createtable(L, n, 1);
    if (from != L) lua_xmove(from, L, n);
    else lua_insert(L, -(n + 1));
    int t = lua_gettop(L) - n;
    for (int i = n; i >= 1; i--) lua_rawseti(L, t, i);
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
}

/* Pushes a C frame: stack slots 1..nstack, the running C function. */
static void compat_pushframe(lua_State *L, int nstack, int kind, int nres, lua_KContext ctx,
                             lua_KFunction k) {
    void *pk;
    memcpy(&pk, &k, sizeof pk);
    lua_createtable(L, 6, 0);
    lua_pushinteger(L, kind);
    lua_rawseti(L, -2, F_KIND);
    lua_pushlightuserdata(L, pk);
    lua_rawseti(L, -2, F_K);
    lua_pushlightuserdata(L, (void *) ctx);
    lua_rawseti(L, -2, F_CTX);
    lua_Debug ar;
    if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "f", &ar)) lua_rawseti(L, -2, F_FN);
    lua_createtable(L, nstack, 1);
    for (int i = 1; i <= nstack; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i);
    }
    lua_pushinteger(L, nstack);
    lua_setfield(L, -2, "n");
    lua_rawseti(L, -2, F_STACK);
    lua_pushinteger(L, nres);
    lua_rawseti(L, -2, F_NRES);
}

/* Pushes a sub frame for thread S at index s, with the record at inner
 * (0: none, a plain coroutine.yield). */
static void compat_pushsubframe(lua_State *L, int s, int inner) {
    lua_createtable(L, 3, 0);
    lua_pushinteger(L, KIND_SUB);
    lua_rawseti(L, -2, F_KIND);
    lua_pushvalue(L, s);
    lua_rawseti(L, -2, F_SUB);
    if (inner) {
        lua_pushvalue(L, inner);
        lua_rawseti(L, -2, F_INNER);
    }
}

/* Pushes (and removes) the record S's yield left in the pending table, or nil. */
static void compat_takepending(lua_State *L, int s) {
    compat_regtable(L, COMPAT_PENDING, 1);
    lua_pushvalue(L, s);
    lua_rawget(L, -2);
    lua_pushvalue(L, s);
    lua_pushnil(L);
    lua_rawset(L, -4);
    lua_remove(L, -2);
}

/* S (at s) yielded: pushes a record of its values with a sub frame first. */
static void compat_subrecord(lua_State *L, lua_State *S, int s) {
    compat_packvals(L, S, lua_gettop(S));
    compat_newrecord(L);
    int rec = lua_gettop(L);
    compat_takepending(L, s);
    compat_pushsubframe(L, s, lua_isnil(L, -1) ? 0 : rec + 1);
    compat_addframe(L, rec);
    lua_pop(L, 1);
}

/* ---- The three calls -------------------------------------------------- */

int compat_yieldk(lua_State *L, int n, lua_KContext ctx, lua_KFunction k) {
    int base = lua_gettop(L) - n;
    compat_packvals(L, L, n);
    compat_newrecord(L);
    compat_pushframe(L, base, KIND_YIELD, 0, ctx, k);
    compat_addframe(L, base + 1);
    return lua_error(L);
}

static void compat_toentry(lua_State *L, int idx);

/* Pushes function(f, ...) return f(...) end, calling f from Lua and not
 * in a tail call: PUC 5.1 resumes a C function's yield only as the result
 * of a Lua call (a C function as a coroutine's body yields, but its
 * resume crashes). */
static void compat_pushthrough(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, COMPAT_THROUGH) == LUA_TFUNCTION) return;
    lua_pop(L, 1);
    static const char code[] = "local select = select\n"
                               "local function pass(...) return ... end\n"
                               "local f = ...\n"
                               "return pass(f(select(2, ...)))\n";
    if (luaL_loadbuffer(L, code, sizeof code - 1, "=(socket.co call)") != 0) lua_error(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, COMPAT_THROUGH);
}

/* Runs the function below the nargs values on top in a coroutine of its
 * own (a task helper), as lua_pcall would; if it yields, raises a record
 * whose outer frame goes on with k. */
static int compat_subcall(lua_State *L, int nargs, int nres, int kind, lua_KContext ctx,
                          lua_KFunction k) {
    int fidx = lua_gettop(L) - nargs;
    if (lua_tocfunction(L, fidx) != NULL) {   /* a C callee may yield too: */
        compat_toentry(L, fidx);              /* through an entry, called from Lua */
        compat_pushthrough(L);
        lua_insert(L, fidx);
        nargs++;
    }
    lua_State *S = lua_newthread(L);
    lua_insert(L, fidx);
    lua_pushvalue(L, fidx);
    compat_enlist(L, 1);
    lua_pop(L, 1);
    lua_xmove(L, S, nargs + 1);
    int st = lua_resume(S, nargs);
    if (st == LUA_YIELD) {
        compat_subrecord(L, S, fidx);
        int rec = lua_gettop(L);
        lua_remove(L, fidx);                      /* the record holds S */
        rec--;
        compat_pushframe(L, fidx - 1, kind, nres, ctx, k);
        compat_addframe(L, rec);
        return lua_error(L);
    }
    int got = st == 0 ? lua_gettop(S) : 1;
    lua_xmove(S, L, got);
    lua_pushvalue(L, fidx);
    compat_enlist(L, 0);
    lua_pop(L, 1);
    lua_remove(L, fidx);
    if (st == 0 && nres != LUA_MULTRET) lua_settop(L, fidx - 1 + nres);
    return st;
}

void compat_callk(lua_State *L, int nargs, int nres, lua_KContext ctx, lua_KFunction k) {
    if (k == NULL || !compat_canyield(L)) {
        lua_call(L, nargs, nres);
        return;
    }
    if (compat_subcall(L, nargs, nres, KIND_CALL, ctx, k) != 0) lua_error(L);
}

int compat_pcallk(lua_State *L, int nargs, int nres, int errfunc, lua_KContext ctx,
                  lua_KFunction k) {
    if (k == NULL || errfunc != 0 || !compat_canyield(L)) return lua_pcall(L, nargs, nres, errfunc);
    return compat_subcall(L, nargs, nres, KIND_PCALL, ctx, k);
}

/* ---- Going on: socket._k51.run(R, ...) ------------------------------ */

/* Runs a C frame's continuation with the frame's upvalues: arguments
 * k, ctx, status, then the stack k expects. */
static int compat_ktramp(lua_State *L) {
    lua_KFunction k;
    void *pk = lua_touserdata(L, 1);
    memcpy(&k, &pk, sizeof k);
    lua_KContext ctx = (lua_KContext) lua_touserdata(L, 2);
    int status = (int) lua_tointeger(L, 3);
    lua_remove(L, 1);
    lua_remove(L, 1);
    lua_remove(L, 1);
    return k(L, status, ctx);
}

/* Stack: 1 record, 2 its frames, 3.. the values going in. Runs the
 * frames innermost first and returns the last one's results. A frame that
 * yields again raises the record that goes on from there; an error passes
 * outward to the next pcall frame (status and error value for its k). */
static int compat_run(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_rawgeti(L, 1, R_FRAMES);
    lua_insert(L, 2);
    int nframes = (int) lua_objlen(L, 2), status = 0;
    for (int i = 1; i <= nframes; i++) {
        lua_rawgeti(L, 2, i);
        int fr = lua_gettop(L);
        lua_rawgeti(L, fr, F_KIND);
        int kind = (int) lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (kind == KIND_SUB) {
            lua_rawgeti(L, fr, F_SUB);
            lua_State *S = lua_tothread(L, -1);
            lua_insert(L, 3);
            lua_rawgeti(L, fr + 1, F_INNER);
            lua_insert(L, 4);
            lua_pop(L, 1);                            /* 3 S, 4 inner, 5.. values */
            if (status == 0 && !lua_isnil(L, 4)) {    /* S's own method goes on first */
                lua_pushcfunction(L, compat_run);
                lua_insert(L, 4);
                status = lua_pcall(L, lua_gettop(L) - 4, LUA_MULTRET, 0);
                if (status != 0 && compat_isrecord(L, -1)) {
                    int r2 = lua_gettop(L);
                    lua_rawgeti(L, r2, R_VALS);
                    compat_newrecord(L);
                    int rec = lua_gettop(L);
                    compat_pushsubframe(L, 3, r2);
                    compat_addframe(L, rec);
                    compat_addframes(L, rec, 2, i + 1);
                    return lua_error(L);
                }
            } else {
                lua_remove(L, 4);
            }
            if (status == 0) {
                int nv = lua_gettop(L) - 3;
                lua_xmove(L, S, nv);
                status = lua_resume(S, nv);
                if (status == LUA_YIELD) {
                    compat_subrecord(L, S, 3);
                    compat_addframes(L, lua_gettop(L), 2, i + 1);
                    return lua_error(L);
                }
                lua_xmove(S, L, status == 0 ? lua_gettop(S) : 1);
            } else {
                lua_settop(L, 4);                     /* the error; S is abandoned with it */
            }
            lua_pushvalue(L, 3);
            compat_enlist(L, 0);
            lua_pop(L, 1);
            lua_remove(L, 3);
            continue;
        }
        lua_rawgeti(L, fr, F_NRES);
        int nres = (int) lua_tointeger(L, -1);
        lua_pop(L, 2);
        if (status != 0 && kind != KIND_PCALL) continue;    /* an error goes on out */
        if (status == 0 && kind != KIND_YIELD && nres != LUA_MULTRET) lua_settop(L, 2 + nres);
        int nv = lua_gettop(L) - 2;
        lua_rawgeti(L, 2, i);
        fr = lua_gettop(L);
        lua_rawgeti(L, fr, F_K);
        if (lua_touserdata(L, -1) == NULL) {      /* no continuation: the values are the results */
            lua_pop(L, 2);
            continue;
        }
        /* the trampoline, over the upvalues of the function that yielded */
        lua_rawgeti(L, fr, F_FN);
        int fn = lua_gettop(L), nup = 0;
        if (lua_type(L, fn) == LUA_TFUNCTION)
            while (lua_getupvalue(L, fn, nup + 1) != NULL) nup++;
        lua_pushcclosure(L, compat_ktramp, nup);
        lua_replace(L, fn);
        lua_insert(L, -2);                        /* trampoline, k */
        lua_rawgeti(L, fr, F_CTX);
        lua_pushinteger(L, status == 0 ? LUA_YIELD : status);
        lua_rawgeti(L, fr, F_STACK);
        int stk = lua_gettop(L);
        lua_getfield(L, stk, "n");
        int ns = (int) lua_tointeger(L, -1);
        lua_pop(L, 1);
        luaL_checkstack(L, ns + nv + 8, "too many values to go on with");
        for (int j = 1; j <= ns; j++) lua_rawgeti(L, stk, j);
        lua_remove(L, stk);
        lua_remove(L, fr);                        /* values, then trampoline k ctx status stack */
        for (int j = 0; j < nv; j++) {            /* the values go last */
            lua_pushvalue(L, 3);
            lua_remove(L, 3);
        }
        status = lua_pcall(L, lua_gettop(L) - 3, LUA_MULTRET, 0);
        if (status != 0 && compat_isrecord(L, -1)) {
            compat_addframes(L, lua_gettop(L), 2, i + 1);
            return lua_error(L);
        }
    }
    if (status != 0) return lua_error(L);
    return lua_gettop(L) - 2;
}

/* ---- Entries ---------------------------------------------------------
 * An entry wraps a C function f with n upvalues (entry upvalues: f's n,
 * then f's own closure). Outside a task it calls f at once. In a task it
 * calls f protected: a record f raised becomes the task's yield (its
 * values, and the record in the pending table for socket.co). */

/* Under the protected call f was "called from C", so 5.1 and LuaJIT name
 * neither the function nor a method's self in an argument error, nor the
 * caller's position: restore the message an unprotected call would give. */
static int compat_reraise(lua_State *L) {
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    const char *p = msg ? strstr(msg, "bad argument #") : NULL;
    lua_Debug ar, caller;
    /* Called from C (pcall(obj.method, obj, ...)): no name to restore, as
     * the unprotected call would have none (LuaJIT names it anyway, after
     * the bytecode that called pcall). */
    if (p != NULL && lua_getstack(L, 1, &caller) && lua_getinfo(L, "S", &caller) &&
        strcmp(caller.what, "C") == 0)
        return lua_error(L);
    if (p != NULL && lua_getstack(L, 0, &ar) && lua_getinfo(L, "n", &ar)) {
        char *end;
        long narg = strtol(p + 14, &end, 10);
        const char *rest = strstr(end, " (");
        if (p == msg && end != p + 14 && strncmp(end, " to '?'", 7) == 0 && rest != NULL) {
            const char *name = ar.name ? ar.name : "?";
            luaL_where(L, 1);                     /* the caller's position, as luaL_error adds */
            if (ar.namewhat != NULL && strcmp(ar.namewhat, "method") == 0 && --narg == 0)
                lua_pushfstring(L, "calling '%s' on bad self%s", name, rest);
            else
                lua_pushfstring(L, "bad argument #%d to '%s'%s", (int) narg, name, rest);
            lua_concat(L, 2);
        }
    }
    return lua_error(L);
}

static int compat_enter(lua_State *L, int n) {
    if (!compat_istask(L)) return lua_tocfunction(L, lua_upvalueindex(n + 1))(L);
    int nargs = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(n + 1));
    lua_insert(L, 1);
    if (lua_pcall(L, nargs, LUA_MULTRET, 0) == 0) return lua_gettop(L);
    if (!compat_isrecord(L, -1)) return compat_reraise(L);
    int rec = lua_gettop(L);
    compat_regtable(L, COMPAT_PENDING, 1);
    lua_pushthread(L);
    lua_pushvalue(L, rec);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_rawgeti(L, rec, R_VALS);
    lua_getfield(L, -1, "n");
    int nv = (int) lua_tointeger(L, -1);
    lua_pop(L, 1);
    for (int i = 1; i <= nv; i++) lua_rawgeti(L, rec + 1, i);
    return lua_yield(L, nv);
}

static int compat_entry0(lua_State *L) { return compat_enter(L, 0); }
static int compat_entry1(lua_State *L) { return compat_enter(L, 1); }
static int compat_entry2(lua_State *L) { return compat_enter(L, 2); }
static int compat_entry3(lua_State *L) { return compat_enter(L, 3); }
static const lua_CFunction compat_entries[] = {compat_entry0, compat_entry1, compat_entry2,
                                               compat_entry3};

void compat_pushentry(lua_State *L, lua_CFunction f, int n) {
    if (n < 0 || n > 3) {
        lua_pushcclosure(L, f, n);
        return;
    }
    for (int i = 0; i < n; i++) lua_pushvalue(L, -n);
    lua_pushcclosure(L, f, n);
    compat_regtable(L, COMPAT_ENTRIES, 0);   /* the walk in compat_isyieldable knows it */
    compat_pushfptr(L, compat_entries[n]);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_pushcclosure(L, compat_entries[n], n + 1);
}

/* Replaces the C function at idx, unless an entry already, by an entry
 * with the same upvalues (up to 3; a function with more stays as it is). */
static void compat_toentry(lua_State *L, int idx) {
    lua_CFunction f = lua_tocfunction(L, idx);
    if (f == NULL) return;
    for (int i = 0; i < 4; i++)
        if (f == compat_entries[i]) return;
    compat_regtable(L, COMPAT_ENTRIES, 0);        /* the other library's entries */
    compat_pushfptr(L, f);
    int isentry = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    if (isentry) return;
    idx = lua_absindex(L, idx);
    int n = 0;
    while (n < 4 && lua_getupvalue(L, idx, n + 1) != NULL) n++;
    if (n == 4) {
        lua_pop(L, n);
        return;
    }
    compat_pushentry(L, f, n);
    lua_replace(L, idx);
}

/* socket._k51.entry(f): f as an entry (stream.c hands socket.co the TLS
 * handshake of a setssl server as a plain C function). */
static int compat_lua_entry(lua_State *L) {
    lua_settop(L, 1);
    compat_toentry(L, 1);
    return 1;
}

static int compat_ismeta(const char *name) {
    return name[0] == '_' && name[1] == '_';
}

void compat_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
    luaL_checkstack(L, nup + 1, "too many upvalues");
    for (const luaL_Reg *first = l; l->name != NULL; l++) {
        const luaL_Reg *same = first;
        while (same < l && (same->func != l->func || compat_ismeta(same->name))) same++;
        if (l->func == NULL) {
            lua_pushboolean(L, 0);
        } else if (same < l && !compat_ismeta(l->name)) {
            lua_getfield(L, -(nup + 1), same->name);
        } else {
            for (int i = 0; i < nup; i++) lua_pushvalue(L, -nup);
            if (compat_ismeta(l->name)) lua_pushcclosure(L, l->func, nup);
            else compat_pushentry(L, l->func, nup);
        }
        lua_setfield(L, -(nup + 2), l->name);
    }
    lua_pop(L, nup);
}

/* Makes entries of the C functions in the table on top, and in its
 * subtables `depth` levels down (socket.select, socket.dns.resolve). */
static void compat_wrapall(lua_State *L, int depth) {
    int t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && !compat_ismeta(lua_tostring(L, -2))) {
            if (lua_tocfunction(L, -1) != NULL) {
                compat_toentry(L, -1);
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, t);
                lua_pushnil(L);                   /* popped below */
            } else if (depth > 0 && lua_type(L, -1) == LUA_TTABLE) {
                compat_wrapall(L, depth - 1);
            }
        }
        lua_pop(L, 1);
    }
}

void compat_open(lua_State *L) {
    compat_wrapall(L, 1);
    /* LuaJIT yields across pcall and xpcall */
    compat_regtable(L, COMPAT_PASS, 0);
    lua_getglobal(L, "jit");
    int jit = lua_istable(L, -1);
    lua_pop(L, 1);
    if (jit) {
        static const char *const names[] = {"pcall", "xpcall"};
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "jit");
        for (int i = 0; i < 2; i++) {
            lua_getglobal(L, names[i]);
            if (lua_isfunction(L, -1)) {
                lua_pushboolean(L, 1);
                lua_rawset(L, -3);
            } else {
                lua_pop(L, 1);
            }
        }
    }
    lua_pop(L, 1);
    /* socket._k51: what socket.co needs to go on with a record */
    compat_regtable(L, COMPAT_ENTRIES, 0);    /* frames of the runner sit below an entry */
    compat_pushfptr(L, compat_run);
    lua_pushliteral(L, "run");
    lua_rawset(L, -3);
    lua_pop(L, 1);
    lua_createtable(L, 0, 4);
    compat_pushentry(L, compat_run, 0);
    lua_setfield(L, -2, "run");
    lua_pushcfunction(L, compat_lua_entry);
    lua_setfield(L, -2, "entry");
    lua_pushcfunction(L, compat_lua_yieldable);
    lua_setfield(L, -2, "yieldable");
    compat_regtable(L, COMPAT_PENDING, 1);
    lua_setfield(L, -2, "pending");
    compat_regtable(L, COMPAT_SELF, 1);
    lua_setfield(L, -2, "self");
    lua_setfield(L, -2, "_k51");
}

#endif
