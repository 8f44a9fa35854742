#ifndef NETSOCKET_POLLER_H
#define NETSOCKET_POLLER_H
#include "compat.h"
/* socket.poller(): a readiness object (epoll on Linux, poll() elsewhere),
 * used by socket.co and exposed for hand-written event loops. */
void poller_open(lua_State *L);
#endif
