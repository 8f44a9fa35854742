#ifndef NETSOCKET_SELECT_H
#define NETSOCKET_SELECT_H
#include "compat.h"
/* socket.select on poll(): any fd number, any count (API.md §6). */
void select_open(lua_State *L);
#endif
