#ifndef NETSOCKET_UNIX_H
#define NETSOCKET_UNIX_H
/* require("socket.unix") (API.md §10.1): unix-domain stream and datagram
 * sockets. Lives in core.so; build/socket/unix.so is a link to it. */
#include "compat.h"

__attribute__((visibility("default"))) int luaopen_socket_unix(lua_State *L);

#endif
