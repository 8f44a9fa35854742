#ifndef NETSOCKET_STREAM_H
#define NETSOCKET_STREAM_H
/* Connection-oriented sockets (TCP, unix stream): one object layout and one
 * set of methods, shared by every family. A family supplies its class names
 * and options (stream_classes) and the methods that differ (addresses). The
 * layout is also what TLS takes over: fd, timeouts, stats and buffer (§9.1).
 * User values: see STREAM_UV_*. */
#include "lua.h"
#include "lauxlib.h"
#include "buffer.h"
#include "class.h"
#include "io.h"
#include "options.h"
#include "timeout.h"

typedef struct stream_classes {
    const char *master, *client, *server, *any;
    const options_row *options;
} stream_classes;

typedef struct stream {
    class_base base;     /* base.fd: -1 when there is none */
    int family;          /* AF_UNSPEC until the first bind/connect of tcp() */
    int connerr;         /* last connect failure, for getstatus() */
    int bound;           /* bind succeeded: a reconnect keeps the local address */
    int unlinkpath;      /* unix: remove the socket file (user value 1) on close */
    timeout tm;
    io io;
    buffer buf;
} stream;

/* User values of a stream object. */
enum {
    STREAM_UV_HOST = 1,      /* the host string given to connect (§4.2), or a unix path */
    STREAM_UV_TLS = 2,       /* a TLS context: setssl on a server, kept by acceptnossl */
    STREAM_UV_COUNT = 2
};

/* Pushes a new object of class `cls` in a closed state (fd -1). */
stream *stream_push(lua_State *L, int family, const char *cls);
int stream_pusherror(lua_State *L, const char *err);
int stream_pushok(lua_State *L);
/* The class set of the running method (its upvalue 1). */
#define stream_classesof(L) ((const stream_classes *) lua_touserdata((L), lua_upvalueindex(1)))
/* accept() without the TLS step: the server at 1 -> client | nil, err.
 * A method of a stream class (uses the class-set upvalue). */
int stream_acceptraw(lua_State *L);
/* Registers master, client and server classes of `cls`: the shared methods
 * plus `extra`, every function with `cls` as upvalue 1. */
void stream_register(lua_State *L, const stream_classes *cls, const luaL_Reg *extra);

#endif
