/* End-of-line normalisation: A, n = eol(ctx, B, marker). CR, LF, CRLF and
 * LFCR each become one marker; CRCR and LFLF two. ctx carries the last CR
 * or LF seen (0 if none) from one chunk to the next. */
#include "mime.h"

typedef unsigned char UC;

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
    luaL_buffinit(L, &b);
    while (s < end) {
        if (*s != '\r' && *s != '\n') {
            /* the bytes up to the next CR or LF are copied as they are */
            size_t k = mime_span(s, (size_t) (end - s), 0);
            luaL_addlstring(&b, (const char *) s, k);
            last = 0;
            if ((s += k) == end) break;
        }
        if (last != '\r' && last != '\n') {
            luaL_addlstring(&b, marker, nmarker);
            last = *s;
        } else {
            /* second of a pair: a new line only if it repeats */
            if (*s == last) luaL_addlstring(&b, marker, nmarker);
            last = 0;
        }
        s++;
    }
    luaL_pushresult(&b);
    lua_pushnumber(L, (lua_Number) last);
    return 2;
}
