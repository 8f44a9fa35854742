#ifndef NETSOCKET_EXCEPT_H
#define NETSOCKET_EXCEPT_H
#include "compat.h"
/* socket.newtry and socket.protect (API.md §8). */
void except_open(lua_State *L);
#endif
