#ifndef NETSOCKET_RESOLVE_H
#define NETSOCKET_RESOLVE_H
/* socket.dns.resolve (non-blocking, one worker thread per request) and
 * socket.dns.localaddresses (API.md §11). */
#include "compat.h"

/* Adds `resolve` and `localaddresses` to the dns table on top of the stack
 * and registers the address class "dns{address}". */
void resolve_open(lua_State *L);

#endif
