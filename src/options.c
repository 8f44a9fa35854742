/* Socket options by name. Each row says how its value maps to setsockopt. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include "compat.h"
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

/* ip-multicast-if: an IPv4 address, "*" for any (LuaSocket accepts the
 * inet_aton forms). Get gives the dotted quad, "0.0.0.0" for any. */
static int options_setmcastif(lua_State *L, int fd, const options_row *row) {
    const char *s = luaL_checkstring(L, 3);
    struct in_addr a;
    a.s_addr = htonl(INADDR_ANY);
    if (strcmp(s, "*") != 0 && !inet_aton(s, &a)) luaL_argerror(L, 3, "ip expected");
    return options_setraw(L, fd, row, &a, sizeof a);
}

static int options_getmcastif(lua_State *L, int fd, const options_row *row) {
    struct in_addr a;
    socklen_t n = sizeof a;
    char text[INET_ADDRSTRLEN];
    memset(&a, 0, sizeof a);
    if (getsockopt(fd, row->level, row->optname, &a, &n) != 0 ||
        inet_ntop(AF_INET, &a, text, sizeof text) == NULL)
        return options_getfailed(L);
    lua_pushstring(L, text);
    return 1;
}

/* Pushes the string field `key` of the table at 3, or raises like 3.x. */
static const char *options_field(lua_State *L, const char *key, const char *msg) {
    lua_getfield(L, 3, key);
    if (!lua_isstring(L, -1)) luaL_argerror(L, 3, msg);
    return lua_tostring(L, -1);
}

/* ip-add-membership / ip-drop-membership: {multiaddr=ipv4, interface=ipv4|"*"} */
static int options_setmembership(lua_State *L, int fd, const options_row *row) {
    struct ip_mreq m;
    memset(&m, 0, sizeof m);
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *group = options_field(L, "multiaddr", "string 'multiaddr' field expected");
    if (!inet_aton(group, &m.imr_multiaddr)) luaL_argerror(L, 3, "invalid 'multiaddr' ip address");
    const char *itf = options_field(L, "interface", "string 'interface' field expected");
    m.imr_interface.s_addr = htonl(INADDR_ANY);
    if (strcmp(itf, "*") != 0 && !inet_aton(itf, &m.imr_interface))
        luaL_argerror(L, 3, "invalid 'interface' ip address");
    lua_pop(L, 2);
    return options_setraw(L, fd, row, &m, sizeof m);
}

/* ipv6-add-membership / ipv6-drop-membership: {multiaddr=ipv6, interface=ifindex?};
 * no interface lets the kernel pick one from the routing table. */
static int options_setmembership6(lua_State *L, int fd, const options_row *row) {
    struct ipv6_mreq m;
    memset(&m, 0, sizeof m);
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *group = options_field(L, "multiaddr", "string 'multiaddr' field expected");
    if (inet_pton(AF_INET6, group, &m.ipv6mr_multiaddr) != 1)
        luaL_argerror(L, 3, "invalid 'multiaddr' ip address");
    if (lua_getfield(L, 3, "interface") != LUA_TNIL) {
        lua_Number n = lua_tonumber(L, -1);
        if (!lua_isnumber(L, -1) || !(n >= 0 && n <= 4294967295.0))
            luaL_argerror(L, 3, "number 'interface' field expected");
        m.ipv6mr_interface = (unsigned int) n;
    }
    lua_pop(L, 2);
    return options_setraw(L, fd, row, &m, sizeof m);
}

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

#ifndef IPV6_JOIN_GROUP
#define IPV6_JOIN_GROUP IPV6_ADD_MEMBERSHIP
#define IPV6_LEAVE_GROUP IPV6_DROP_MEMBERSHIP
#endif

const options_row options_udp[] = {
    OPT_BOOL("reuseaddr", SOL_SOCKET, SO_REUSEADDR),
#ifdef SO_REUSEPORT
    OPT_BOOL("reuseport", SOL_SOCKET, SO_REUSEPORT),
#endif
    OPT_BOOL("dontroute", SOL_SOCKET, SO_DONTROUTE),
    OPT_BOOL("broadcast", SOL_SOCKET, SO_BROADCAST),
    OPT_INT("recv-buffer-size", SOL_SOCKET, SO_RCVBUF),
    OPT_INT("send-buffer-size", SOL_SOCKET, SO_SNDBUF),
    {"error", SOL_SOCKET, SO_ERROR, options_geterror, NULL},
    OPT_BOOL("ipv6-v6only", IPPROTO_IPV6, IPV6_V6ONLY),
    {"ip-multicast-if", IPPROTO_IP, IP_MULTICAST_IF, options_getmcastif, options_setmcastif},
    OPT_INT("ip-multicast-ttl", IPPROTO_IP, IP_MULTICAST_TTL),
    OPT_BOOL("ip-multicast-loop", IPPROTO_IP, IP_MULTICAST_LOOP),
    {"ip-add-membership", IPPROTO_IP, IP_ADD_MEMBERSHIP, NULL, options_setmembership},
    {"ip-drop-membership", IPPROTO_IP, IP_DROP_MEMBERSHIP, NULL, options_setmembership},
    /* Two options here; 3.x maps both names to IPV6_UNICAST_HOPS [D]. */
    OPT_INT("ipv6-unicast-hops", IPPROTO_IPV6, IPV6_UNICAST_HOPS),
    OPT_INT("ipv6-multicast-hops", IPPROTO_IPV6, IPV6_MULTICAST_HOPS),
    OPT_BOOL("ipv6-multicast-loop", IPPROTO_IPV6, IPV6_MULTICAST_LOOP),
    {"ipv6-add-membership", IPPROTO_IPV6, IPV6_JOIN_GROUP, NULL, options_setmembership6},
    {"ipv6-drop-membership", IPPROTO_IPV6, IPV6_LEAVE_GROUP, NULL, options_setmembership6},
    {NULL, 0, 0, NULL, NULL}
};

/* unixstream accepts these three (API.md §10.1). */
const options_row options_unix[] = {
    OPT_BOOL("keepalive", SOL_SOCKET, SO_KEEPALIVE),
    {"linger", SOL_SOCKET, SO_LINGER, options_getlinger, options_setlinger},
    OPT_BOOL("reuseaddr", SOL_SOCKET, SO_REUSEADDR),
    {NULL, 0, 0, NULL, NULL}
};

/* unixdgram: reuseaddr only (API.md §10.1). */
const options_row options_unixdgram[] = {
    OPT_BOOL("reuseaddr", SOL_SOCKET, SO_REUSEADDR),
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
