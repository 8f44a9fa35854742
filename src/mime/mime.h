#ifndef NETSOCKET_MIME_H
#define NETSOCKET_MIME_H
/* mime.core: LuaSocket 3.x's MIME primitives (b64, unb64, qp, unqp, wrp,
 * qpwrp, eol, dot), each a step function that a ltn12 filter cycles. */
#include <stddef.h>
#include "../compat.h"

#define MIME_CRLF "\r\n"
#define MIME_EQCRLF "=\r\n"

/* The input of A, B = f(C, D): the bytes of C .. D, read without joining
 * the two strings. d == NULL means D was nil: the call ends the stream. */
typedef struct mime_parts {
    const unsigned char *c, *d;
    size_t nc, nd;
} mime_parts;

/* Reads C (argument 1) and D (argument 2). Returns 0 when C is nil: the
 * stream has ended already and the caller returns mime_nil2(L). */
int mime_getparts(lua_State *L, mime_parts *p);
/* Pushes nil, nil; returns 2. */
int mime_nil2(lua_State *L);
/* Byte i of C .. D (i < nc + nd). */
static inline unsigned char mime_at(const mime_parts *p, size_t i) {
    return i < p->nc ? p->c[i] : p->d[i - p->nc];
}
/* Pushes A, the buffer (nil if empty when ending the stream), and B: nil
 * when ending the stream, else the n carried bytes `rest`. Returns 2. */
int mime_finish(lua_State *L, luaL_Buffer *b, const mime_parts *p,
                const unsigned char *rest, size_t n);
/* Length of the run at s (at most lim bytes) free of CR, LF and, when eq,
 * '='. */
size_t mime_span(const unsigned char *s, size_t lim, int eq);
/* A number argument as 3.x reads it ((int) of the number), saturated. */
int mime_checkint(lua_State *L, int idx);
int mime_optint(lua_State *L, int idx, int def);

int b64_encode(lua_State *L);
int b64_decode(lua_State *L);
int qp_encode(lua_State *L);
int qp_decode(lua_State *L);
int wrap_text(lua_State *L);
int wrap_qp(lua_State *L);
int eol_normalize(lua_State *L);
int dot_stuff(lua_State *L);

#endif
