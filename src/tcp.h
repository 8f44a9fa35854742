#ifndef NETSOCKET_TCP_H
#define NETSOCKET_TCP_H
/* The TCP classes tcp{master}, tcp{client}, tcp{server}. The layout is
 * shared with TLS, which takes over fd, timeouts, stats and buffer (§9.1).
 * User value 1 holds the host string given to connect (§4.2). */
#include "lua.h"
#include "buffer.h"
#include "class.h"
#include "io.h"
#include "timeout.h"

typedef struct tcp {
    class_base base;     /* base.fd: -1 when there is none */
    int family;          /* AF_UNSPEC until the first bind/connect of tcp() */
    int connerr;         /* last connect failure, for getstatus() */
    int bound;           /* bind succeeded: a reconnect keeps the local address */
    timeout tm;
    io io;
    buffer buf;
} tcp;

void tcp_open(lua_State *L);

#endif
