/* Resolution and the try-every-address loops of bind and connect. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "compat.h"
#include "inet.h"
#include "io.h"
#include "options.h"
#include "sock.h"

const char *inet_optport(lua_State *L, int idx, const char *def, char buf[8]) {
    if (def != NULL && lua_isnoneornil(L, idx)) return def;
    int isnum = 0;
    lua_Number n = lua_tonumberx(L, idx, &isnum);      /* numbers and numeric strings */
    if (isnum) {
        if (!(n >= 0 && n <= 65535) || n != floor(n)) return NULL;
        snprintf(buf, 8, "%d", (int) n);
        return buf;
    }
    const char *s = lua_tostring(L, idx);
    if (s == NULL) luaL_typeerror(L, idx, "string");
    return s;                                           /* a service name */
}

int inet_create(int *fd, int family, int socktype) {
    int err = sock_create(fd, family, socktype, 0);
    if (err == IO_DONE && family == AF_INET6) {
        int yes = 1;
        setsockopt(*fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof yes);
    }
    return err;
}

static int inet_resolve(struct addrinfo **res, int family, const char *host,
                        const char *serv, int socktype, int passive) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    if (passive) {
        hints.ai_flags = AI_PASSIVE;
        if (host != NULL && strcmp(host, "*") == 0) host = NULL;
    }
    *res = NULL;
    return getaddrinfo(host, serv, &hints, res);
}

/* Makes *fd a socket of ai's family, reusing it when it already is one. */
static int inet_ensure(int *fd, int *family, int want, int socktype) {
    if (*fd >= 0 && *family == want) return IO_DONE;
    sock_close(fd);
    int err = inet_create(fd, want, socktype);
    if (err == IO_DONE) *family = want;
    return err;
}

const char *inet_trybind(int *fd, int *family, const char *host, const char *serv, int socktype) {
    struct addrinfo *res, *ai;
    int gai = inet_resolve(&res, *family, host, serv, socktype, 1);
    if (gai != 0) return sock_gaistrerror(gai);
    int err = EAFNOSUPPORT;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        if ((err = inet_ensure(fd, family, ai->ai_family, ai->ai_socktype)) != IO_DONE) continue;
        if ((err = sock_bind(*fd, ai->ai_addr, ai->ai_addrlen)) == IO_DONE) break;
    }
    freeaddrinfo(res);
    return sock_strerror(err);
}

/* Replaces *fd, which failed to connect, by a fresh socket of the same
 * family that carries its options and, when the object was bound, its local
 * address: after close the address is free again (it never connected). */
static int inet_renew(int *fd, int family, int socktype, const inet_carry *carry) {
    struct sockaddr_storage local;
    socklen_t len = sizeof local;
    int keep = carry->bound && getsockname(*fd, (struct sockaddr *) &local, &len) == 0;
    int nfd, err = inet_create(&nfd, family, socktype);
    if (err != IO_DONE) return err;
    if (carry->rows != NULL) options_copy(carry->rows, *fd, nfd);
    sock_close(fd);
    *fd = nfd;
    return keep ? sock_bind(nfd, (struct sockaddr *) &local, len) : IO_DONE;
}

#define INET_MAXADDRS 16   /* addresses tried by one connect; more never help */

typedef struct inet_target {
    int family, socktype;
    socklen_t len;
    struct sockaddr_storage ss;
} inet_target;

const char *inet_tryconnect(int *fd, int *family, const char *host, const char *serv,
                            int socktype, call *c, int restart,
                            const inet_carry *carry, int *syserr) {
    struct addrinfo *res, *ai;
    *syserr = 0;
    int gai = inet_resolve(&res, *family, host, serv, socktype, 0);
    if (gai != 0) return sock_gaistrerror(gai);
    /* Copied out, so that a cosocket yield (a longjmp) leaks nothing. */
    inet_target addrs[INET_MAXADDRS];
    int n = 0;
    for (ai = res; ai != NULL && n < INET_MAXADDRS; ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof addrs[n].ss) continue;
        addrs[n].family = ai->ai_family;
        addrs[n].socktype = ai->ai_socktype;
        addrs[n].len = ai->ai_addrlen;
        memcpy(&addrs[n].ss, ai->ai_addr, ai->ai_addrlen);
        n++;
    }
    freeaddrinfo(res);
    /* A restart after a yield goes on with the address it was waiting for. */
    int again = c->again, first = again ? (int) c->progress : 0;
    int err = EAFNOSUPPORT;
    for (int i = first; i < n; i++) {
        inet_target *a = &addrs[i];
        int resumed = again && i == first;
        if (restart && !resumed) call_restart(c);
        /* POSIX leaves a socket unspecified after a failed connect (BSDs and
         * gVisor refuse to reuse it): the next attempt gets a new one. */
        if (resumed) err = *fd >= 0 ? IO_DONE : IO_CLOSED;
        else if (i > 0 && *fd >= 0 && *family == a->family) err = inet_renew(fd, a->family, a->socktype, carry);
        else err = inet_ensure(fd, family, a->family, a->socktype);
        if (err != IO_DONE) continue;
        c->progress = (size_t) i;
        err = sock_connect(*fd, (struct sockaddr *) &a->ss, a->len, c, resumed);
        /* With a zero timeout only the first address is tried (LuaSocket). */
        if (err == IO_DONE || call_iszero(c)) break;
        if (err == IO_TIMEOUT && call_left(c) == 0 && !restart) break;
    }
    *syserr = err;
    return sock_strerror(err);
}

const char *inet_familyname(int family) {
    return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : NULL;
}

/* A decimal port from inet_optport, or -1 for a service name. */
static int inet_decimalport(const char *serv) {
    int port = 0;
    if (*serv == '\0') return -1;
    for (; *serv != '\0'; serv++) {
        if (*serv < '0' || *serv > '9' || port > 65535) return -1;
        port = port * 10 + (*serv - '0');
    }
    return port <= 65535 ? port : -1;
}

int inet_numeric(int family, int socktype, const char *host, const char *serv,
                 struct sockaddr_storage *ss, socklen_t *len) {
    int port = inet_decimalport(serv);
    memset(ss, 0, sizeof *ss);
    if (port >= 0) {
        struct sockaddr_in *sin = (struct sockaddr_in *) ss;
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;
        if (family != AF_INET6 && inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
            sin->sin_family = AF_INET;
            sin->sin_port = htons((uint16_t) port);
            *len = sizeof *sin;
            return 0;
        }
        if (family != AF_INET && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
            sin6->sin6_family = AF_INET6;
            sin6->sin6_port = htons((uint16_t) port);
            *len = sizeof *sin6;
            return 0;
        }
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = family;
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_NUMERICHOST;
    int gai = getaddrinfo(host, serv, &hints, &res);
    if (gai != 0) return gai;
    if (res->ai_addrlen > sizeof *ss) gai = EAI_FAMILY;
    else {
        memcpy(ss, res->ai_addr, res->ai_addrlen);
        *len = res->ai_addrlen;
    }
    freeaddrinfo(res);
    return gai;
}

int inet_pushaddr(lua_State *L, const struct sockaddr *addr, socklen_t len) {
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    int gai = getnameinfo(addr, len, host, sizeof host, serv, sizeof serv,
                          NI_NUMERICHOST | NI_NUMERICSERV);
    if (gai != 0 || inet_familyname(addr->sa_family) == NULL) {
        lua_pushnil(L);
        lua_pushstring(L, gai != 0 ? sock_gaistrerror(gai) : "unknown family");
        return 2;
    }
    lua_pushstring(L, host);
    lua_pushinteger(L, (lua_Integer) strtol(serv, NULL, 10));
    return 2;
}

int inet_pushname(lua_State *L, int fd, int peer) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int r = peer ? getpeername(fd, (struct sockaddr *) &ss, &len)
                 : getsockname(fd, (struct sockaddr *) &ss, &len);
    if (r != 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    inet_pushaddr(L, (struct sockaddr *) &ss, len);
    if (lua_isnil(L, -2)) return 2;
    lua_pushstring(L, inet_familyname(ss.ss_family));
    return 3;
}

int inet_checkfamily(lua_State *L, int idx, const char *def) {
    static const char *const names[] = {"unspec", "inet", "inet6", NULL};
    static const int values[] = {AF_UNSPEC, AF_INET, AF_INET6};
    return values[luaL_checkoption(L, idx, def, names)];
}
