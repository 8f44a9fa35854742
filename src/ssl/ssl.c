/* socket.ssl.core: the module, the connection class's method table, and the
 * functions setssl servers use. The pieces: conn.c (object, shared
 * methods), tlsio.c and bio.c (io under buffer.c), handshake.c, info.c,
 * stoptls.c, callback.c, context.c, x509.c. */
#include "class.h"
#include "stream.h"
#include "ssl.h"

/* setssl(server, ctx|nil): stores the context accept() will use. */
static int ssl_lua_setssl(lua_State *L) {
    class_check(L, 1, "tcp{server}");
    if (!lua_isnoneornil(L, 2) && context_testlive(L, 2) == NULL)
        return luaL_argerror(L, 2, "invalid context");
    lua_settop(L, 2);
    lua_setiuservalue(L, 1, STREAM_UV_TLS);
    lua_pushinteger(L, 1);
    return 1;
}

/* gettls(sock): the context acceptnossl left on a client, or nil. */
static int ssl_lua_gettls(lua_State *L) {
    if (class_testgroup(L, 1, "tcp{any}") == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_getiuservalue(L, 1, STREAM_UV_TLS);
    return 1;
}

__attribute__((visibility("default"))) int luaopen_socket_ssl_core(lua_State *L);

int luaopen_socket_ssl_core(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"create", conn_lua_create},
        {"setssl", ssl_lua_setssl},
        {"gettls", ssl_lua_gettls},
        {NULL, NULL}
    };
    /* Before any conn exists, so it is finalized after all of them. */
    bio_open(L);
    luaL_newlib(L, funcs);
    luaL_setfuncs(L, handshake_funcs, 0);
    class_new(L, SSL_CONN_CLASS, conn_methods, conn_meta);
    luaL_getmetatable(L, SSL_CONN_CLASS);
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, handshake_methods, 0);
    luaL_setfuncs(L, info_methods, 0);
    luaL_setfuncs(L, stoptls_methods, 0);
    lua_pop(L, 2);
    class_selectable(L, SSL_CONN_CLASS);
    context_open(L);
    x509_open(L);
    handshake_open(L);
    return 1;
}
