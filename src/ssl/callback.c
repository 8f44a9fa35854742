/* The OpenSSL callbacks that call into Lua (verify, ALPN, PSK, SNI): they
 * find the running call's lua_State through the SSL object (ssl.h). */
#include <string.h>
#include <openssl/ssl.h>
#include "ssl.h"

/* verifyext: lsec_ignore_purpose and lsec_continue (errors kept by depth). */
int callback_verify(int ok, X509_STORE_CTX *store) {
    if (ok) return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    context *x = ssl != NULL ? context_of(SSL_get_SSL_CTX(ssl)) : NULL;
    if (x == NULL || x->verifyext == 0) return 0;
    int err = X509_STORE_CTX_get_error(store);
    if ((x->verifyext & CONTEXT_VERIFY_IGNORE_PURPOSE) && err == X509_V_ERR_INVALID_PURPOSE) return 1;
    if (!(x->verifyext & CONTEXT_VERIFY_CONTINUE)) return 0;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c != NULL && c->L != NULL) {
        lua_State *L = c->L;
        if (lua_getiuservalue(L, c->self, SSL_UV_ERRORS) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_setiuservalue(L, c->self, SSL_UV_ERRORS);
        }
        lua_Integer depth = X509_STORE_CTX_get_error_depth(store);
        if (lua_geti(L, -1, depth) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -1);
            lua_seti(L, -3, depth);
        }
        if (err == X509_V_ERR_IP_ADDRESS_MISMATCH) err = X509_V_ERR_HOSTNAME_MISMATCH;
        lua_pushstring(L, X509_verify_cert_error_string(err));
        lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
        lua_pop(L, 2);
    }
    return 1;
}

/* Server ALPN: the first protocol of ours (or of the selector's answer)
 * that the client offered. */
int callback_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                  const unsigned char *in, unsigned int inlen, void *arg) {
    (void) arg;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c == NULL || c->L == NULL) return SSL_TLSEXT_ERR_NOACK;
    lua_State *L = c->L;
    int top = lua_gettop(L);
    int res = SSL_TLSEXT_ERR_NOACK;
    if (!context_pushlua(L, SSL_get_SSL_CTX(ssl))) {
        lua_settop(L, top);
        return res;
    }
    if (lua_getfield(L, -1, "alpnselect") == LUA_TFUNCTION) {
        context_pushalpn(L, in, inlen);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && context_encodealpn(L, -1) == NULL) {
            size_t len;
            const unsigned char *wire = (const unsigned char *) lua_tolstring(L, -1, &len);
            unsigned char *sel;
            unsigned char sellen;
            if (SSL_select_next_proto(&sel, &sellen, wire, (unsigned int) len, in, inlen) ==
                OPENSSL_NPN_NEGOTIATED) {
                memcpy(c->alpn, sel, sellen);        /* outlives the Lua string */
                *out = c->alpn;
                *outlen = sellen;
                res = SSL_TLSEXT_ERR_OK;
            }
        }
    } else if (lua_getfield(L, -2, "alpn") == LUA_TSTRING) {
        size_t len;
        const unsigned char *wire = (const unsigned char *) lua_tolstring(L, -1, &len);
        unsigned char *sel;
        unsigned char sellen;
        if (SSL_select_next_proto(&sel, &sellen, wire, (unsigned int) len, in, inlen) ==
            OPENSSL_NPN_NEGOTIATED) {
            memcpy(c->alpn, sel, sellen);
            *out = c->alpn;
            *outlen = sellen;
            res = SSL_TLSEXT_ERR_OK;
        }
    }
    lua_settop(L, top);
    return res;
}

/* Calls the context's psk function with (a, max) and `nres` results. */
static lua_State *callback_pskcall(SSL *ssl, const char *a, unsigned int max, int nres) {
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c == NULL || c->L == NULL) return NULL;
    lua_State *L = c->L;
    int top = lua_gettop(L);
    if (!context_pushlua(L, SSL_get_SSL_CTX(ssl)) || lua_getfield(L, -1, "psk") != LUA_TFUNCTION) {
        lua_settop(L, top);
        return NULL;
    }
    if (a != NULL) lua_pushstring(L, a);
    else lua_pushnil(L);
    lua_pushinteger(L, max);
    if (lua_pcall(L, 2, nres, 0) != LUA_OK) {
        lua_settop(L, top);
        return NULL;
    }
    return L;
}

unsigned int callback_pskclient(SSL *ssl, const char *hint, char *identity,
                                unsigned int maxidentity, unsigned char *psk, unsigned int maxpsk) {
    int top = 0;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c != NULL && c->L != NULL) top = lua_gettop(c->L);
    lua_State *L = callback_pskcall(ssl, hint, maxpsk, 2);
    if (L == NULL) return 0;
    size_t ilen, klen;
    const char *id = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &ilen) : NULL;
    const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &klen) : NULL;
    unsigned int res = 0;
    if (id != NULL && key != NULL && ilen < maxidentity && klen <= maxpsk) {
        memcpy(identity, id, ilen + 1);
        memcpy(psk, key, klen);
        res = (unsigned int) klen;
    }
    lua_settop(L, top);
    return res;
}

unsigned int callback_pskserver(SSL *ssl, const char *identity, unsigned char *psk,
                                unsigned int maxpsk) {
    int top = 0;
    ssl_conn *c = SSL_get_app_data(ssl);
    if (c != NULL && c->L != NULL) top = lua_gettop(c->L);
    lua_State *L = callback_pskcall(ssl, identity, maxpsk, 1);
    if (L == NULL) return 0;
    size_t klen;
    const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &klen) : NULL;
    unsigned int res = 0;
    if (key != NULL && klen <= maxpsk) {
        memcpy(psk, key, klen);
        res = (unsigned int) klen;
    }
    lua_settop(L, top);
    return res;
}

/* Server: picks the context for the name the client asked for. */
int callback_sni(SSL *ssl, int *ad, void *arg) {
    (void) arg;
    ssl_conn *c = SSL_get_app_data(ssl);
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (c == NULL || c->L == NULL) return SSL_TLSEXT_ERR_NOACK;
    lua_State *L = c->L;
    if (lua_getiuservalue(L, c->self, SSL_UV_SNI) != LUA_TTABLE) {
        lua_pop(L, 1);
        return SSL_TLSEXT_ERR_OK;
    }
    context *x = NULL;
    if (name != NULL) {
        lua_getfield(L, -1, name);
        x = context_testlive(L, -1);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (x == NULL) {
        if (!c->snistrict) return SSL_TLSEXT_ERR_OK;
        *ad = SSL_AD_UNRECOGNIZED_NAME;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (SSL_set_SSL_CTX(ssl, x->ctx) == NULL) return SSL_TLSEXT_ERR_ALERT_FATAL;
    SSL_set_verify(ssl, SSL_CTX_get_verify_mode(x->ctx), SSL_CTX_get_verify_callback(x->ctx));
    SSL_set_options(ssl, SSL_CTX_get_options(x->ctx));
    return SSL_TLSEXT_ERR_OK;
}
