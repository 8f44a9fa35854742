/* luaopen_mime_core: the mime.core table, and the argument and result
 * conventions shared by its functions. */
#include <string.h>
#include "mime.h"
#include "../class.h"

#define MIME_VERSION "MIME 1.0.3"

int mime_getparts(lua_State *L, mime_parts *p) {
    p->c = (const unsigned char *) luaL_optlstring(L, 1, NULL, &p->nc);
    p->d = (const unsigned char *) luaL_optlstring(L, 2, NULL, &p->nd);
    if (p->d == NULL) p->nd = 0;
    return p->c != NULL;
}

int mime_nil2(lua_State *L) {
    lua_pushnil(L);
    lua_pushnil(L);
    return 2;
}

int mime_finish(lua_State *L, luaL_Buffer *b, const mime_parts *p,
                const unsigned char *rest, size_t n) {
    luaL_pushresult(b);
    if (p->d == NULL) {
        if (lua_rawlen(L, -1) == 0) {
            lua_pop(L, 1);
            lua_pushnil(L);
        }
        lua_pushnil(L);
        return 2;
    }
    lua_pushlstring(L, (const char *) rest, n);
    return 2;
}

/* One window: the first CR, LF or (eq) '=' within n bytes, else n. */
static size_t mime_window(const unsigned char *s, size_t n, int eq) {
    const unsigned char *e = memchr(s, '\n', n);
    if (e != NULL) n = (size_t) (e - s);
    if ((e = memchr(s, '\r', n)) != NULL) n = (size_t) (e - s);
    if (eq && (e = memchr(s, '=', n)) != NULL) n = (size_t) (e - s);
    return n;
}

size_t mime_span(const unsigned char *s, size_t lim, int eq) {
    /* growing windows: a byte searched for that is absent never makes a
     * memchr run far past the nearest byte that is present */
    size_t done = 0, w = 128;
    while (done < lim) {
        size_t n = lim - done < w ? lim - done : w;
        size_t k = mime_window(s + done, n, eq);
        if (k < n) return done + k;
        done += n;
        if (w < 65536) w *= 2;
    }
    return lim;
}

int mime_checkint(lua_State *L, int idx) {
    return class_toint(luaL_checknumber(L, idx));
}

int mime_optint(lua_State *L, int idx, int def) {
    return class_toint(luaL_optnumber(L, idx, def));
}

__attribute__((visibility("default"))) int luaopen_mime_core(lua_State *L);

int luaopen_mime_core(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"b64", b64_encode},
        {"unb64", b64_decode},
        {"qp", qp_encode},
        {"unqp", qp_decode},
        {"wrp", wrap_text},
        {"qpwrp", wrap_qp},
        {"eol", eol_normalize},
        {"dot", dot_stuff},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    lua_pushliteral(L, MIME_VERSION);
    lua_setfield(L, -2, "_VERSION");
    return 1;
}
