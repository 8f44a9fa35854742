#ifndef NETSOCKET_STREAM_H
#define NETSOCKET_STREAM_H
/* Connection-oriented sockets (TCP, unix stream): one object layout and one
 * set of methods, shared by every family. A family supplies its class names
 * and options (stream_classes) and the methods that differ (addresses). The
 * layout is also what TLS takes over: fd, timeouts, stats and buffer (§9.1).
 * User values: see STREAM_UV_*. */
#include "compat.h"
#include "buffer.h"
#include "class.h"
#include "io.h"
#include "options.h"
#include "call.h"

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
    calls cs;            /* timeouts, and the read and write calls in flight */
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
/* nil, "socket busy reading|writing": call_begin found c held by another task. */
int stream_pushbusy(lua_State *L, const call *c);
/* Upvalue 1 of every stream method: the family's class set and, per lua_State,
 * its three metatables by address, so the hot methods check their argument
 * with one pointer compare instead of a registry lookup by name. */
typedef struct stream_upvalue {
    const stream_classes *cls;
    const void *mt[3];               /* STREAM_MASTER, STREAM_CLIENT, STREAM_SERVER */
} stream_upvalue;
enum { STREAM_MASTER, STREAM_CLIENT, STREAM_SERVER };
#define stream_upvalueof(L) ((const stream_upvalue *) lua_touserdata((L), lua_upvalueindex(1)))
/* The class set of the running method. */
#define stream_classesof(L) (stream_upvalueof(L)->cls)
/* The object at idx if it is of class `which` of the running method's family
 * (the fast path of class_check, with the same error otherwise). */
stream *stream_check(lua_State *L, int idx, int which);
/* accept() without the TLS step: the server at 1 -> client | nil, err.
 * A method of a stream class (uses the class-set upvalue). */
int stream_acceptraw(lua_State *L);
/* Registers master, client and server classes of `cls`: the shared methods
 * plus `extra`, every function with `cls` as upvalue 1. */
void stream_register(lua_State *L, const stream_classes *cls, const luaL_Reg *extra);

#endif
