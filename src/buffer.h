#ifndef NETSOCKET_BUFFER_H
#define NETSOCKET_BUFFER_H
/* The receive buffer and its patterns, send with ranges, byte stats.
 * Unread bytes are data[first..last). Bytes stay in the buffer until a
 * pattern completes or fails, so a receive can be restarted after a wait. */
#include "compat.h"
#include "io.h"
#include "call.h"

#define BUFFER_SIZE 8192            /* inline storage, as LuaSocket's buffer */
#define BUFFER_KEEP (1024 * 1024)   /* a grown buffer larger than this is released when empty */

typedef struct buffer {
    char *data;                     /* init or a heap block */
    size_t first, last, cap;
    int drained;                    /* the last read found the socket's queue empty */
    unsigned waited;                /* outside tasks: reads since one had to wait (0: read first) */
    lua_Integer received, sent;
    double birthday;
    io *io;
    call *rd, *wr;                  /* the object's read and write calls */
    char init[BUFFER_SIZE];
} buffer;

void buffer_init(buffer *b, io *backend, calls *cs);
/* Drops buffered bytes and releases a heap block. */
void buffer_free(lua_State *L, buffer *b);
int buffer_isempty(const buffer *b);

/* For other readers of the buffer (httphead.c): reads more bytes, making
 * room for `room` (IO_DONE or an error, may yield as receive does), and
 * consumes n unread bytes. */
int buffer_fill(lua_State *L, buffer *b, size_t room);
void buffer_skip(lua_State *L, buffer *b, size_t n);

/* Methods on the object at stack index 1 (arguments from index 2). */
int buffer_meth_receive(lua_State *L, buffer *b);
int buffer_meth_send(lua_State *L, buffer *b);
int buffer_meth_receivesome(lua_State *L, buffer *b);
int buffer_meth_sendsome(lua_State *L, buffer *b);
/* A receive's or a send's results when call_begin found the direction busy. */
int buffer_pushbusy(lua_State *L, buffer *b, const call *c);
int buffer_meth_getstats(lua_State *L, buffer *b);
int buffer_meth_setstats(lua_State *L, buffer *b);

#endif
