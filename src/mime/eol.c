/* End-of-line normalisation: A, n = eol(ctx, B, marker). CR, LF, CRLF and
 * LFCR each become one marker; CRCR and LFLF two. ctx carries the last CR
 * or LF seen (0 if none) from one chunk to the next. */
#include <string.h>
#include "mime.h"

typedef unsigned char UC;

/* Output bytes per reservation (or one marker, if longer). */
#define EOL_BLOCK 4096

int eol_normalize(lua_State *L) {
    size_t n, nmarker;
    lua_Integer last = luaL_checkinteger(L, 1);
    const UC *s = (const UC *) luaL_optlstring(L, 2, NULL, &n);
    const char *marker = luaL_optlstring(L, 3, MIME_CRLF, &nmarker);
    if (s == NULL) {
        lua_pushnil(L);
        lua_pushnumber(L, 0);
        return 2;
    }
    luaL_Buffer b;
    const UC *end = s + n;
    /* each input byte makes at most max(1, nmarker) output bytes */
    size_t per = nmarker > 1 ? nmarker : 1;
    size_t block = EOL_BLOCK / per > 0 ? EOL_BLOCK / per : 1;
    luaL_buffinit(L, &b);
    while (s < end) {
        size_t lim = (size_t) (end - s) < block ? (size_t) (end - s) : block;
        char *out = luaL_prepbuffsize(&b, lim * per), *o = out;
        for (const UC *stop = s + lim; s < stop; s++) {
            if (*s != '\r' && *s != '\n') {
                *o++ = (char) *s;
                last = 0;
            } else if (last != '\r' && last != '\n') {
                memcpy(o, marker, nmarker);
                o += nmarker;
                last = *s;
            } else {
                /* second of a pair: a new line only if it repeats */
                if (*s == last) {
                    memcpy(o, marker, nmarker);
                    o += nmarker;
                }
                last = 0;
            }
        }
        luaL_addsize(&b, (size_t) (o - out));
    }
    luaL_pushresult(&b);
    lua_pushnumber(L, (lua_Number) last);
    return 2;
}
