#ifndef NETSOCKET_DNS_H
#define NETSOCKET_DNS_H
#include "compat.h"
/* socket.dns: toip, tohostname, gethostname, getaddrinfo, getnameinfo (§11). */
void dns_open(lua_State *L);
#endif
