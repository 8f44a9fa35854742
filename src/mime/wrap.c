/* Line wrapping: A, n = wrp(left, B, length) for text and base64, and
 * A, n = qpwrp(left, B, length) for quoted-printable (soft breaks "=\r\n",
 * never inside an =XX). `left` is the room on the current line; n is the
 * room after A. Existing LF ends a line (as CRLF); CR is dropped. */
#include <string.h>
#include "mime.h"

typedef unsigned char UC;

/* Input bytes per output reservation; each byte makes at most 4 (a soft
 * break "=\r\n" and itself). */
#define WRAP_BLOCK 1024

/* Shared frame: arguments, the end-of-input answer, the final push. `qp`
 * selects qpwrp's rules. */
static int wrap_run(lua_State *L, int qp) {
    size_t n;
    lua_Integer left = mime_checkint(L, 1);
    const UC *s = (const UC *) luaL_optlstring(L, 2, NULL, &n);
    lua_Integer length = mime_optint(L, 3, 76);
    const char *brk = qp ? MIME_EQCRLF : MIME_CRLF;
    if (s == NULL) {
        /* end of input: end an unfinished line */
        if (left < length) lua_pushstring(L, brk);
        else lua_pushnil(L);
        lua_pushnumber(L, (lua_Number) length);
        return 2;
    }
    luaL_Buffer b;
    const UC *end = s + n;
    luaL_buffinit(L, &b);
    while (s < end) {
        size_t lim = (size_t) (end - s) < WRAP_BLOCK ? (size_t) (end - s) : WRAP_BLOCK;
        char *out = luaL_prepbuffsize(&b, 4 * lim), *o = out;
        for (const UC *stop = s + lim; s < stop;) {
            if (*s == '\r') {
                s++;
                continue;
            }
            if (*s == '\n') {
                *o++ = '\r';
                *o++ = '\n';
                left = length;
                s++;
                continue;
            }
            /* qp keeps room for the soft break's '=', and an =XX goes whole */
            int keep = qp ? (*s == '=' ? 3 : 1) : 0;
            if (left <= keep) {
                if (qp) *o++ = '=';
                *o++ = '\r';
                *o++ = '\n';
                left = length;
            }
            /* then as many ordinary bytes as the line takes (at least one) */
            size_t k = 1;
            if (!(qp && *s == '=') && left - keep > 1) {
                size_t room = (size_t) (stop - s);
                if ((lua_Unsigned) (left - keep) < room) room = (size_t) (left - keep);
                k = mime_span(s, room, qp);
            }
            memcpy(o, s, k);
            o += k;
            s += k;
            left -= (lua_Integer) k;
        }
        luaL_addsize(&b, (size_t) (o - out));
    }
    luaL_pushresult(&b);
    lua_pushnumber(L, (lua_Number) left);
    return 2;
}

int wrap_text(lua_State *L) {
    return wrap_run(L, 0);
}

int wrap_qp(lua_State *L) {
    return wrap_run(L, 1);
}
