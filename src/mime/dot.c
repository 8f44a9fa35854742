/* SMTP dot-stuffing (RFC 5321 §4.5.2): A, n = dot(state, B) doubles a '.'
 * that starts a line. state: 2 right after CRLF (and at the start), 1 after
 * CR, 0 elsewhere. */
#include "mime.h"

typedef unsigned char UC;

/* Input bytes per output reservation (each makes at most 2). */
#define DOT_BLOCK 2048

int dot_stuff(lua_State *L) {
    size_t n;
    int state = mime_checkint(L, 1);
    const UC *s = (const UC *) luaL_optlstring(L, 2, NULL, &n);
    if (s == NULL) {
        lua_pushnil(L);
        lua_pushnumber(L, 2);
        return 2;
    }
    luaL_Buffer b;
    const UC *end = s + n;
    luaL_buffinit(L, &b);
    while (s < end) {
        size_t lim = (size_t) (end - s) < DOT_BLOCK ? (size_t) (end - s) : DOT_BLOCK;
        char *out = luaL_prepbuffsize(&b, 2 * lim), *o = out;
        for (const UC *stop = s + lim; s < stop; s++) {
            *o++ = (char) *s;
            if (*s == '\r') {
                state = 1;
            } else if (*s == '\n') {
                state = state == 1 ? 2 : 0;
            } else {
                if (*s == '.' && state == 2) *o++ = '.';
                state = 0;
            }
        }
        luaL_addsize(&b, (size_t) (o - out));
    }
    luaL_pushresult(&b);
    lua_pushnumber(L, (lua_Number) state);
    return 2;
}
