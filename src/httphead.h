#ifndef NETSOCKET_HTTPHEAD_H
#define NETSOCKET_HTTPHEAD_H
/* An HTTP/1.x request head (RFC 9112 §2-§5), strictly: request line, field
 * lines, empty line. httphead_scan checks bytes as they arrive; the method
 * reads them from the buffer engine and hands Lua the parts in one call. */
#include <stddef.h>
#include "compat.h"
#include "buffer.h"

#define HTTPHEAD_MAXBYTES 16384     /* default limit of a head, empty line included */
#define HTTPHEAD_MAXFIELDS 100      /* default limit of field lines */

/* What httphead_scan found. > 0: the head is complete, that many bytes. */
enum {
    HTTPHEAD_MORE = 0,              /* valid so far; needs more bytes */
    HTTPHEAD_LINELONG = -1,         /* the request line does not fit (414) */
    HTTPHEAD_TOOLARGE = -2,         /* the head does not fit (431) */
    HTTPHEAD_TOOMANY = -3,          /* more field lines than allowed (431) */
    HTTPHEAD_BADLINE = -4,          /* malformed request line (400) */
    HTTPHEAD_OBSFOLD = -5,          /* a field line starts with SP/HTAB (400) */
    HTTPHEAD_WSCOLON = -6,          /* whitespace between name and colon (400) */
    HTTPHEAD_BADCHAR = -7,          /* CR, NUL or another control in a field (400) */
    HTTPHEAD_BADNAME = -8           /* empty or non-token name, or no colon (400) */
};

typedef struct httphead_scan_state {
    size_t pos;                     /* start of the next line not yet checked */
    size_t start;                   /* start of the request line (after empty lines) */
    size_t nfields;
    int inhead;                     /* the request line has been checked */
    size_t nhost;                   /* Host fields */
    size_t nframing;                /* Connection, Content-Length, Transfer-Encoding, Expect */
} httphead_scan_state;

void httphead_scaninit(httphead_scan_state *st);
/* Checks s[st->pos..min(n, max)) line by line. Returns the head's length
 * when its empty line is there, HTTPHEAD_MORE, or an error (< 0). Calling
 * it again with more bytes (same s prefix) goes on where it stopped. */
long httphead_scan(const char *s, size_t n, size_t max, size_t maxfields, httphead_scan_state *st);
/* The message of an error code. */
const char *httphead_error(long code);

/* receivehead([maxbytes[, maxfields[, raw]]]) on the object at 1, its call
 * begun: method, target, version, fields | nil, err. Raw (socket.httpd):
 * method, target, version, field lines (a string), plain (a boolean). */
int httphead_meth_receive(lua_State *L, buffer *b);
/* socket._headfields(lines): the fields table of raw field lines;
 * socket._headfield(lines, name): one field's value, without the table. */
void httphead_open(lua_State *L);

#endif
