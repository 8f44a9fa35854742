/* socket.dns, the blocking resolver functions of API.md §11. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>
#include "compat.h"
#include "dns.h"
#include "inet.h"
#include "resolve.h"
#include "sock.h"

static int dns_pusherror(lua_State *L, const char *err) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

static const char *dns_hosterror(int err) {
    switch (err) {
        case HOST_NOT_FOUND: return "host not found";
        default: return hstrerror(err);
    }
}

static void dns_pushlist(lua_State *L, char **list, int addrs, int af) {
    lua_newtable(L);
    for (int i = 0; list != NULL && list[i] != NULL; i++) {
        if (addrs) {
            char buf[INET6_ADDRSTRLEN];
            lua_pushstring(L, inet_ntop(af, list[i], buf, sizeof buf));
        } else {
            lua_pushstring(L, list[i]);
        }
        lua_rawseti(L, -2, i + 1);
    }
}

/* Pushes the canonical name (or first address) and {name=, alias=, ip=}. */
static int dns_pushhost(lua_State *L, const struct hostent *h, int want_ip) {
    if (want_ip) {
        char buf[INET6_ADDRSTRLEN];
        lua_pushstring(L, h->h_addr_list[0] ? inet_ntop(h->h_addrtype, h->h_addr_list[0],
                                                        buf, sizeof buf) : "");
    } else {
        lua_pushstring(L, h->h_name);
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, h->h_name);
    lua_setfield(L, -2, "name");
    dns_pushlist(L, h->h_aliases, 0, 0);
    lua_setfield(L, -2, "alias");
    dns_pushlist(L, h->h_addr_list, 1, h->h_addrtype);
    lua_setfield(L, -2, "ip");
    return 2;
}

/* IPv4 only, as 3.x: a dotted quad is resolved in reverse. */
static struct hostent *dns_lookup(const char *name) {
    struct in_addr a;
    if (inet_aton(name, &a)) return gethostbyaddr((char *) &a, sizeof a, AF_INET);
    return gethostbyname(name);
}

static int dns_lua_toip(lua_State *L) {
    struct hostent *h = dns_lookup(luaL_checkstring(L, 1));
    if (h == NULL) return dns_pusherror(L, dns_hosterror(h_errno));
    return dns_pushhost(L, h, 1);
}

static int dns_lua_tohostname(lua_State *L) {
    struct hostent *h = dns_lookup(luaL_checkstring(L, 1));
    if (h == NULL) return dns_pusherror(L, dns_hosterror(h_errno));
    return dns_pushhost(L, h, 0);
}

static int dns_lua_gethostname(lua_State *L) {
    char name[257];
    if (gethostname(name, sizeof name - 1) != 0) return dns_pusherror(L, strerror(errno));
    name[sizeof name - 1] = '\0';
    lua_pushstring(L, name);
    return 1;
}

static int dns_lua_getaddrinfo(lua_State *L) {
    const char *host = luaL_checkstring(L, 1);
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;    /* one entry per address */
    hints.ai_family = AF_UNSPEC;
    int err = getaddrinfo(host, NULL, &hints, &res);
    if (err != 0) return dns_pusherror(L, sock_gaistrerror(err));
    lua_newtable(L);
    int i = 1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        const char *fam = inet_familyname(ai->ai_family);
        char addr[NI_MAXHOST];
        if (fam == NULL || getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr,
                                       NULL, 0, NI_NUMERICHOST) != 0)
            continue;
        lua_createtable(L, 0, 2);
        lua_pushstring(L, fam);
        lua_setfield(L, -2, "family");
        lua_pushstring(L, addr);
        lua_setfield(L, -2, "addr");
        lua_rawseti(L, -2, i++);
    }
    freeaddrinfo(res);
    return 1;
}

static int dns_lua_getnameinfo(lua_State *L) {
    const char *host = luaL_optstring(L, 1, NULL);
    char pbuf[8];
    const char *serv = lua_isnoneornil(L, 2) ? NULL : inet_optport(L, 2, NULL, pbuf);
    if (host == NULL && lua_isnoneornil(L, 2)) return luaL_error(L, "host and serv cannot be both nil");
    if (!lua_isnoneornil(L, 2) && serv == NULL) return dns_pusherror(L, "invalid port");
    struct addrinfo hints, *res, *ai;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_family = AF_UNSPEC;
    int err = getaddrinfo(host, serv, &hints, &res);
    if (err != 0) return dns_pusherror(L, sock_gaistrerror(err));
    char hbuf[NI_MAXHOST] = "", sbuf[NI_MAXSERV] = "";
    lua_newtable(L);
    int i = 1;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, hbuf, host ? sizeof hbuf : 0,
                        sbuf, serv ? sizeof sbuf : 0, 0) != 0)
            continue;
        if (host != NULL) {
            lua_pushstring(L, hbuf);
            lua_rawseti(L, -2, i++);
        }
    }
    freeaddrinfo(res);
    if (serv == NULL) return 1;
    lua_pushstring(L, sbuf);
    return 2;
}

void dns_open(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"toip", dns_lua_toip},
        {"tohostname", dns_lua_tohostname},
        {"gethostname", dns_lua_gethostname},
        {"getaddrinfo", dns_lua_getaddrinfo},
        {"getnameinfo", dns_lua_getnameinfo},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    resolve_open(L);
    lua_setfield(L, -2, "dns");
}
