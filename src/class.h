#ifndef NETSOCKET_CLASS_H
#define NETSOCKET_CLASS_H
/* Class and group registration and typed checks (API.md §0 "Metatables"). */
#include "compat.h"

/* Every selectable userdata of this library starts with this header, so that
 * select() reads the fd and the dirty flag without calling into Lua. */
typedef struct class_base {
    int fd;
    int (*dirty)(const void *self);
} class_base;

/* Creates metatable `name` whose __index holds `methods` and `class`.
 * Shared metamethods (__gc, __close, __tostring) are taken from `meta`. */
void class_new(lua_State *L, const char *name, const luaL_Reg *methods, const luaL_Reg *meta);
/* Marks class `name` as a member of `group` (a boolean key in its metatable). */
void class_add(lua_State *L, const char *name, const char *group);
/* Marks class `name` as selectable (begins with class_base). */
void class_selectable(lua_State *L, const char *name);
/* Sets the class of the userdata at idx. */
void class_set(lua_State *L, int idx, const char *name);
void *class_check(lua_State *L, int idx, const char *name);
void *class_checkgroup(lua_State *L, int idx, const char *group);
void *class_testgroup(lua_State *L, int idx, const char *group);
/* The class_base of a selectable userdata at idx, or NULL. */
class_base *class_tobase(lua_State *L, int idx);
/* Saturating number -> int (NaN -> 0): float-to-int casts out of range
 * are undefined behaviour in C. */
static inline int class_toint(lua_Number n) {
    if (n != n) return 0;
    if (n >= 2147483647.0) return 2147483647;
    if (n <= -2147483648.0) return -2147483647 - 1;
    return (int) n;
}
/* A descriptor argument: an integral number in int range, else an error. */
int class_checkfd(lua_State *L, int idx);
/* Shared __tostring: "<class>: <address>". */
int class_tostring(lua_State *L);
/* Pushes "<what>: 0x<hex address>", the form of glibc's %p on every system
 * (the %p of lua_pushfstring follows the C library: mingw's has no 0x). */
void class_pushaddr(lua_State *L, const char *what, const void *p);

#endif
