#ifndef NETSOCKET_SIGNALS_H
#define NETSOCKET_SIGNALS_H
/* socket.signal: signals as selectable objects (doc/socket.md, "Signals"). */
#include "compat.h"

/* Registers the "signal" class and sets socket.signal in the table on top. */
void signals_open(lua_State *L);

#endif
