#ifndef NETSOCKET_TCP_H
#define NETSOCKET_TCP_H
/* The TCP classes tcp{master}, tcp{client}, tcp{server}: stream objects
 * (stream.h) with inet addresses. */
#include "compat.h"

void tcp_open(lua_State *L);

#endif
