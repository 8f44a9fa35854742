/* SMTP dot-stuffing (RFC 5321 §4.5.2): A, n = dot(state, B) doubles a '.'
 * that starts a line. state: 2 right after CRLF (and at the start), 1 after
 * CR, 0 elsewhere. */
#include <string.h>
#include "mime.h"

typedef unsigned char UC;

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
        if (state == 0) {
            /* only a CR can lead to a line start: copy up to the next one */
            const UC *cr = memchr(s, '\r', (size_t) (end - s));
            size_t k = cr != NULL ? (size_t) (cr - s) : (size_t) (end - s);
            luaL_addlstring(&b, (const char *) s, k);
            if ((s += k) == end) break;
        }
        luaL_addchar(&b, (char) *s);
        if (*s == '\r') {
            state = 1;
        } else if (*s == '\n') {
            state = state == 1 ? 2 : 0;
        } else {
            if (*s == '.' && state == 2) luaL_addchar(&b, '.');
            state = 0;
        }
        s++;
    }
    luaL_pushresult(&b);
    lua_pushnumber(L, (lua_Number) state);
    return 2;
}
