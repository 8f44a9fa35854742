/* Keeps every fuzz target on this machine, whatever address the fuzzer
 * invents. The linker routes the library's calls here (-Wl,--wrap=..., see
 * mk/fuzz.mk); each guard passes the call to the real function or refuses
 * it the way the system would. Not a model of the kernel: allowed calls are
 * the real syscalls; refused ones fail before any packet exists.
 *   getaddrinfo  numeric hosts only ("localhost" and NULL excepted): no DNS
 *   getnameinfo  numeric results only: no reverse lookups
 *   gethostby*   "localhost" and numeric only
 *   bind         inet: port 0 (never a port another test may want);
 *                unix: refused (no socket files anywhere)
 *   connect      inet: only to a loopback port this process bound;
 *                unix: refused; AF_UNSPEC (disconnect) allowed
 *   sendto       only to a loopback port this process bound
 *   listen       a backlog of at least 64, so no connect of ours waits
 *   setsockopt   no multicast group membership (it would send IGMP/MLD) */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>


/* The real function (the linker's __real_) and our stand-in (__wrap_). */
#define GUARD_DECLARE(ret, name, params) ret __real_##name params; ret __wrap_##name params;
GUARD_DECLARE(int, getaddrinfo, (const char *node, const char *service, const struct addrinfo *hints,
                                 struct addrinfo **res))
GUARD_DECLARE(int, getnameinfo, (const struct sockaddr *sa, socklen_t salen, char *host,
                                 socklen_t hostlen, char *serv, socklen_t servlen, int flags))
GUARD_DECLARE(struct hostent *, gethostbyname, (const char *name))
GUARD_DECLARE(struct hostent *, gethostbyaddr, (const void *addr, socklen_t len, int type))
GUARD_DECLARE(int, bind, (int fd, const struct sockaddr *addr, socklen_t len))
GUARD_DECLARE(int, connect, (int fd, const struct sockaddr *addr, socklen_t len))
GUARD_DECLARE(ssize_t, sendto, (int fd, const void *buf, size_t n, int flags,
                                const struct sockaddr *addr, socklen_t len))
GUARD_DECLARE(int, listen, (int fd, int backlog))
GUARD_DECLARE(int, setsockopt, (int fd, int level, int name, const void *val, socklen_t len))

#define GUARD_PORTS 64
static unsigned short guard_ports[GUARD_PORTS];   /* loopback ports we bound, a ring */
static unsigned guard_nports;

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res) {
    struct addrinfo h;
    if (hints != NULL) h = *hints;
    else {
        memset(&h, 0, sizeof h);
        h.ai_flags = AI_V4MAPPED | AI_ADDRCONFIG;
    }
    if (node != NULL && strcmp(node, "localhost") != 0) h.ai_flags |= AI_NUMERICHOST;
    return __real_getaddrinfo(node, service, &h, res);
}

int __wrap_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen,
                       char *serv, socklen_t servlen, int flags) {
    return __real_getnameinfo(sa, salen, host, hostlen, serv, servlen,
                              flags | NI_NUMERICHOST | NI_NUMERICSERV);
}

struct hostent *__wrap_gethostbyname(const char *name) {
    struct in_addr a;
    if (name == NULL || (strcmp(name, "localhost") != 0 && inet_aton(name, &a) == 0)) {
        h_errno = HOST_NOT_FOUND;
        return NULL;
    }
    return __real_gethostbyname(name);
}

struct hostent *__wrap_gethostbyaddr(const void *addr, socklen_t len, int type) {
    (void) addr;
    (void) len;
    (void) type;
    h_errno = HOST_NOT_FOUND;                        /* a reverse lookup is DNS */
    return NULL;
}

static int guard_isloopback(const struct sockaddr *addr, socklen_t len) {
    if (addr->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *s = (const void *) addr;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (addr->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *s = (const void *) addr;
        if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr)) return 1;
        return IN6_IS_ADDR_V4MAPPED(&s->sin6_addr) && s->sin6_addr.s6_addr[12] == 127;
    }
    return 0;
}

static unsigned short guard_port(const struct sockaddr *addr) {
    if (addr->sa_family == AF_INET) return ntohs(((const struct sockaddr_in *) (const void *) addr)->sin_port);
    return ntohs(((const struct sockaddr_in6 *) (const void *) addr)->sin6_port);
}

int __wrap_bind(int fd, const struct sockaddr *addr, socklen_t len) {
    if (addr == NULL) return __real_bind(fd, addr, len);
    if (addr->sa_family == AF_UNIX) {
        errno = EACCES;
        return -1;
    }
    if ((addr->sa_family != AF_INET || len < sizeof(struct sockaddr_in)) &&
        (addr->sa_family != AF_INET6 || len < sizeof(struct sockaddr_in6)))
        return __real_bind(fd, addr, len);          /* let the kernel say what is wrong */
    struct sockaddr_storage ss;
    memcpy(&ss, addr, len < sizeof ss ? len : sizeof ss);
    if (ss.ss_family == AF_INET) ((struct sockaddr_in *) &ss)->sin_port = 0;
    else ((struct sockaddr_in6 *) &ss)->sin6_port = 0;
    int r = __real_bind(fd, (struct sockaddr *) &ss, len);
    socklen_t sl = sizeof ss;
    if (r == 0 && getsockname(fd, (struct sockaddr *) &ss, &sl) == 0)
        guard_ports[guard_nports++ % GUARD_PORTS] = guard_port((struct sockaddr *) &ss);
    return r;
}

/* Whether addr is a loopback address with a port this process bound. */
static int guard_isours(const struct sockaddr *addr, socklen_t len) {
    if (!guard_isloopback(addr, len)) return 0;
    unsigned short port = guard_port(addr);
    for (unsigned i = 0; i < GUARD_PORTS; i++)
        if (port != 0 && guard_ports[i] == port) return 1;
    return 0;
}

int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len) {
    if (addr == NULL || addr->sa_family == AF_UNSPEC || guard_isours(addr, len))
        return __real_connect(fd, addr, len);
    errno = (addr->sa_family == AF_INET || addr->sa_family == AF_INET6) ? ECONNREFUSED : EACCES;
    return -1;
}

int __wrap_listen(int fd, int backlog) {
    return __real_listen(fd, backlog < 64 ? 64 : backlog);
}

ssize_t __wrap_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *addr,
                      socklen_t len) {
    if (addr != NULL && !guard_isours(addr, len)) {
        errno = ENETUNREACH;
        return -1;
    }
    return __real_sendto(fd, buf, n, flags, addr, len);
}

int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
    if ((level == IPPROTO_IP && (name == IP_ADD_MEMBERSHIP || name == IP_ADD_SOURCE_MEMBERSHIP)) ||
        (level == IPPROTO_IPV6 && name == IPV6_ADD_MEMBERSHIP)) {
        errno = EPERM;
        return -1;
    }
    return __real_setsockopt(fd, level, name, val, len);
}
