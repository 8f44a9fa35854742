/* Socket options by name. Each row says how its value maps to setsockopt. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include "lauxlib.h"
#include "class.h"
#include "options.h"
#include "sock.h"

static int options_setfailed(lua_State *L) {
    lua_pushnil(L);
    lua_pushliteral(L, "setsockopt failed");
    return 2;
}

static int options_getfailed(lua_State *L) {
    lua_pushnil(L);
    lua_pushliteral(L, "getsockopt failed");
    return 2;
}

static int options_setraw(lua_State *L, int fd, const options_row *row, const void *v, socklen_t n) {
    if (setsockopt(fd, row->level, row->optname, v, n) != 0) return options_setfailed(L);
    lua_pushinteger(L, 1);
    return 1;
}

static int options_getint_raw(int fd, const options_row *row, int *v) {
    socklen_t n = sizeof *v;
    *v = 0;
    return getsockopt(fd, row->level, row->optname, v, &n);
}

static int options_setbool(lua_State *L, int fd, const options_row *row) {
    luaL_checktype(L, 3, LUA_TBOOLEAN);
    int v = lua_toboolean(L, 3);
    return options_setraw(L, fd, row, &v, sizeof v);
}

static int options_getbool(lua_State *L, int fd, const options_row *row) {
    int v;
    if (options_getint_raw(fd, row, &v) != 0) return options_getfailed(L);
    lua_pushboolean(L, v != 0);
    return 1;
}

static int options_setint(lua_State *L, int fd, const options_row *row) {
    int v = class_toint(lua_tonumber(L, 3));   /* tonumber(v); missing counts as 0 */
    return options_setraw(L, fd, row, &v, sizeof v);
}

static int options_getint(lua_State *L, int fd, const options_row *row) {
    int v;
    if (options_getint_raw(fd, row, &v) != 0) return options_getfailed(L);
    lua_pushinteger(L, v);
    return 1;
}

static int options_setlinger(lua_State *L, int fd, const options_row *row) {
    struct linger li;
    luaL_checktype(L, 3, LUA_TTABLE);
    if (lua_getfield(L, 3, "on") != LUA_TBOOLEAN)
        luaL_argerror(L, 3, "boolean 'on' field expected");
    li.l_onoff = lua_toboolean(L, -1);
    if (!lua_isnumber(L, (lua_getfield(L, 3, "timeout"), -1)))
        luaL_argerror(L, 3, "number 'timeout' field expected");
    li.l_linger = class_toint(lua_tonumber(L, -1));
    lua_pop(L, 2);
    return options_setraw(L, fd, row, &li, sizeof li);
}

static int options_getlinger(lua_State *L, int fd, const options_row *row) {
    struct linger li;
    socklen_t n = sizeof li;
    if (getsockopt(fd, row->level, row->optname, &li, &n) != 0) return options_getfailed(L);
    lua_createtable(L, 0, 2);
    lua_pushboolean(L, li.l_onoff != 0);
    lua_setfield(L, -2, "on");
    lua_pushinteger(L, li.l_linger);
    lua_setfield(L, -2, "timeout");
    return 1;
}

/* Reads and clears SO_ERROR: the error text, or nil when there is none. */
static int options_geterror(lua_State *L, int fd, const options_row *row) {
    int v;
    if (options_getint_raw(fd, row, &v) != 0) return options_getfailed(L);
    if (v == 0) lua_pushnil(L); else lua_pushstring(L, sock_strerror(v));
    return 1;
}

#ifdef SO_BINDTODEVICE
static int options_setstring(lua_State *L, int fd, const options_row *row) {
    size_t n;
    const char *s = luaL_checklstring(L, 3, &n);
    return options_setraw(L, fd, row, s, (socklen_t) n);
}

static int options_getstring(lua_State *L, int fd, const options_row *row) {
    char buf[256];
    socklen_t n = sizeof buf;
    if (getsockopt(fd, row->level, row->optname, buf, &n) != 0) return options_getfailed(L);
    lua_pushlstring(L, buf, strnlen(buf, n));
    return 1;
}
#endif

#define OPT_BOOL(name, level, opt) {name, level, opt, options_getbool, options_setbool}
#define OPT_INT(name, level, opt) {name, level, opt, options_getint, options_setint}

const options_row options_tcp[] = {
    OPT_BOOL("keepalive", SOL_SOCKET, SO_KEEPALIVE),
    {"linger", SOL_SOCKET, SO_LINGER, options_getlinger, options_setlinger},
    OPT_BOOL("reuseaddr", SOL_SOCKET, SO_REUSEADDR),
#ifdef SO_REUSEPORT
    OPT_BOOL("reuseport", SOL_SOCKET, SO_REUSEPORT),
#endif
    OPT_BOOL("tcp-nodelay", IPPROTO_TCP, TCP_NODELAY),
#ifdef TCP_KEEPIDLE
    OPT_INT("tcp-keepidle", IPPROTO_TCP, TCP_KEEPIDLE),
#endif
#ifdef TCP_KEEPCNT
    OPT_INT("tcp-keepcnt", IPPROTO_TCP, TCP_KEEPCNT),
#endif
#ifdef TCP_KEEPINTVL
    OPT_INT("tcp-keepintvl", IPPROTO_TCP, TCP_KEEPINTVL),
#endif
#ifdef TCP_DEFER_ACCEPT
    OPT_INT("tcp-defer-accept", IPPROTO_TCP, TCP_DEFER_ACCEPT),
#endif
#ifdef TCP_FASTOPEN
    OPT_INT("tcp-fastopen", IPPROTO_TCP, TCP_FASTOPEN),
#endif
#ifdef TCP_FASTOPEN_CONNECT
    OPT_INT("tcp-fastopen-connect", IPPROTO_TCP, TCP_FASTOPEN_CONNECT),
#endif
    OPT_BOOL("ipv6-v6only", IPPROTO_IPV6, IPV6_V6ONLY),
    OPT_INT("recv-buffer-size", SOL_SOCKET, SO_RCVBUF),
    OPT_INT("send-buffer-size", SOL_SOCKET, SO_SNDBUF),
    {"error", SOL_SOCKET, SO_ERROR, options_geterror, NULL},
#ifdef SO_BINDTODEVICE
    {"bindtodevice", SOL_SOCKET, SO_BINDTODEVICE, options_getstring, options_setstring},
#endif
    {NULL, 0, 0, NULL, NULL}
};

static const options_row *options_find(lua_State *L, const options_row *rows, int set) {
    const char *name = luaL_checkstring(L, 2);
    for (; rows->name != NULL; rows++) {
        if (strcmp(rows->name, name) == 0 && (set ? rows->set : rows->get) != NULL) return rows;
    }
    lua_pushfstring(L, "unsupported option `%s'", name);
    luaL_argerror(L, 2, lua_tostring(L, -1));
    return NULL;
}

void options_copy(const options_row *rows, int from, int to) {
    for (; rows->name != NULL; rows++) {
        if (rows->get == NULL || rows->set == NULL) continue;
        char v[256];
        socklen_t n = sizeof v;
        if (getsockopt(from, rows->level, rows->optname, v, &n) != 0) continue;
#ifdef __linux__
        /* Linux reports buffer sizes doubled; setting that would double again. */
        if (rows->level == SOL_SOCKET && (rows->optname == SO_RCVBUF || rows->optname == SO_SNDBUF)
            && n == sizeof(int))
            *(int *) (void *) v /= 2;
#endif
        setsockopt(to, rows->level, rows->optname, v, n);
    }
}

int options_meth_set(lua_State *L, const options_row *rows, int fd) {
    const options_row *row = options_find(L, rows, 1);
    return row->set(L, fd, row);
}

int options_meth_get(lua_State *L, const options_row *rows, int fd) {
    const options_row *row = options_find(L, rows, 0);
    return row->get(L, fd, row);
}
