#ifndef NETSOCKET_INET_H
#define NETSOCKET_INET_H
/* Address families, resolution, sockaddr <-> Lua values. */
#include <sys/socket.h>
#include "compat.h"
#include "call.h"

/* The port argument at idx as a service string for getaddrinfo (numbers are
 * range-checked into buf). NULL means "invalid port". Raises on a non
 * string/number unless it is absent and `def` is given. */
const char *inet_optport(lua_State *L, int idx, const char *def, char buf[8]);

/* Creates a socket of `family`; inet6 sockets get IPV6_V6ONLY. */
int inet_create(int *fd, int family, int socktype);

/* What a socket that replaces a failed one takes over (inet_tryconnect). */
struct options_row;
typedef struct inet_carry {
    const struct options_row *rows;   /* options copied to the new socket, or NULL */
    int bound;                        /* the object was bound: keep its local address */
} inet_carry;

/* Resolve host:serv and bind/connect to the first address that works.
 * bind replaces *fd whenever the family changes; connect also replaces it
 * after every failed attempt, carrying options and local address along.
 * Return an error string or NULL. `restart` starts the timeout anew per
 * address; *syserr gets the last socket-level result (0 after a resolver
 * error). */
const char *inet_trybind(int *fd, int *family, const char *host, const char *serv, int socktype);
const char *inet_tryconnect(int *fd, int *family, const char *host, const char *serv,
                            int socktype, call *c, int restart,
                            const inet_carry *carry, int *syserr);

/* A numeric host and a port string (from inet_optport) to a sockaddr of
 * `family` (AF_UNSPEC: either), for sendto. Literal IPv4/IPv6 addresses and
 * decimal ports are parsed in place, without the allocation getaddrinfo
 * makes; anything else (scoped IPv6, service names, short IPv4 forms) goes
 * through getaddrinfo with AI_NUMERICHOST. 0 or a getaddrinfo code. */
int inet_numeric(int family, int socktype, const char *host, const char *serv,
                 struct sockaddr_storage *ss, socklen_t *len);
/* Pushes the ip and integer port of addr (2 values), or nil, err. */
int inet_pushaddr(lua_State *L, const struct sockaddr *addr, socklen_t len);
/* Pushes ip, port, "inet"|"inet6" of the fd's local or peer address, or nil, err. */
int inet_pushname(lua_State *L, int fd, int peer);
/* "inet" / "inet6" / NULL */
const char *inet_familyname(int family);
/* luaL_checkoption over "unspec", "inet", "inet6" -> AF_* */
int inet_checkfamily(lua_State *L, int idx, const char *def);

#endif
