#ifndef NETSOCKET_UDP_H
#define NETSOCKET_UDP_H
/* The UDP classes udp{unconnected} and udp{connected} (API.md §5). */
#include "compat.h"

/* Registers the classes, socket.udp/udp4/udp6 and their fromfd adopters
 * into the table on top of the stack. */
void udp_open(lua_State *L);

#endif
