/* The OpenSSL callbacks that call into Lua (verify, ALPN, PSK, SNI, DH).
 * They find the running call's lua_State through the SSL object (ssl.h)
 * and run their Lua part under lua_pcall: a Lua error must never unwind
 * through OpenSSL's frames (it would leak OpenSSL's state and skip our
 * cleanup). A failed callback keeps its error text in the conn (c->why)
 * and makes OpenSSL fail the handshake; tlsio_result then reports that
 * text. The DH callback is OpenSSL's tmp_dh hook, deprecated in OpenSSL 3
 * but the one LuaSec's `dhparam` follows (called only when a handshake
 * needs DH parameters), hence the suppression below. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <stdio.h>
#include <string.h>
#include <openssl/dh.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include "ssl.h"

/* One protected call: `body` runs in a fresh C frame of the running call's
 * state with the conn at stack index 1; it reads and writes `args`. */
typedef struct callback_call {
    int (*body)(lua_State *L, ssl_conn *c, void *args);
    ssl_conn *c;
    void *args;
    int result;
} callback_call;

static int callback_trampoline(lua_State *L) {
    callback_call *cc = lua_touserdata(L, 2);
    cc->result = cc->body(L, cc->c, cc->args);
    return 0;
}

/* Runs cc->body protected; returns its result, or `fail` when there is no
 * running call or the body raised (the text is kept in c->why, first error
 * wins). Leaves L's stack as it found it. */
static int callback_run(ssl_conn *c, callback_call *cc, int fail) {
    if (c == NULL || c->L == NULL) return fail;
    lua_State *L = c->L;
    cc->c = c;
    if (!lua_checkstack(L, 4)) {
        if (c->why[0] == '\0') snprintf(c->why, sizeof c->why, "stack overflow in a TLS callback");
        return fail;
    }
    int top = lua_gettop(L);
    lua_pushcfunction(L, callback_trampoline);
    lua_pushvalue(L, c->self);
    lua_pushlightuserdata(L, cc);
    c->incallback++;
    int st = lua_pcall(L, 2, 0, 0);
    c->incallback--;
    if (st != LUA_OK && c->why[0] == '\0') {
        const char *msg = lua_tostring(L, -1);
        snprintf(c->why, sizeof c->why, "%s",
                 msg != NULL ? msg : "error in a TLS callback (not a string)");
    }
    lua_settop(L, top);
    return st == LUA_OK ? cc->result : fail;
}

/* ---- verify -------------------------------------------------------------- */

typedef struct callback_verifyargs {
    int err;
    int depth;
} callback_verifyargs;

/* lsec_continue: appends the error text to getpeerverification's table. */
static int callback_verifybody(lua_State *L, ssl_conn *c, void *args) {
    (void) c;
    callback_verifyargs *a = args;
    if (lua_getiuservalue(L, 1, SSL_UV_ERRORS) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setiuservalue(L, 1, SSL_UV_ERRORS);
    }
    if (lua_rawgeti(L, -1, a->depth) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, a->depth);
    }
    int err = a->err == X509_V_ERR_IP_ADDRESS_MISMATCH ? X509_V_ERR_HOSTNAME_MISMATCH : a->err;
    lua_pushstring(L, X509_verify_cert_error_string(err));
    lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
    return 1;
}

/* verifyext: lsec_ignore_purpose and lsec_continue (errors kept by depth). */
int callback_verify(int ok, X509_STORE_CTX *store) {
    if (ok) return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    context *x = ssl != NULL ? context_of(SSL_get_SSL_CTX(ssl)) : NULL;
    if (x == NULL || x->verifyext == 0) return 0;
    int err = X509_STORE_CTX_get_error(store);
    if ((x->verifyext & CONTEXT_VERIFY_IGNORE_PURPOSE) && err == X509_V_ERR_INVALID_PURPOSE) return 1;
    if (!(x->verifyext & CONTEXT_VERIFY_CONTINUE)) return 0;
    callback_verifyargs a = {err, X509_STORE_CTX_get_error_depth(store)};
    callback_call cc = {callback_verifybody, NULL, &a, 0};
    return callback_run(SSL_get_app_data(ssl), &cc, 0);
}

/* ---- ALPN ------------------------------------------------------------------ */

typedef struct callback_alpnargs {
    const unsigned char *in;
    unsigned int inlen;
} callback_alpnargs;

/* Picks the first protocol of the wire-format list at -1 that the client
 * offered; copies it into c->alpn (it must outlive the Lua string). */
static int callback_alpnpick(lua_State *L, ssl_conn *c, const callback_alpnargs *a) {
    size_t len;
    const unsigned char *wire = (const unsigned char *) lua_tolstring(L, -1, &len);
    unsigned char *sel;
    unsigned char sellen;
    if (SSL_select_next_proto(&sel, &sellen, wire, (unsigned int) len, a->in, a->inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    memcpy(c->alpn, sel, sellen);
    c->alpnlen = sellen;
    return SSL_TLSEXT_ERR_OK;
}

static int callback_alpnbody(lua_State *L, ssl_conn *c, void *args) {
    callback_alpnargs *a = args;
    if (!context_pushlua(L, SSL_get_SSL_CTX(c->ssl))) return SSL_TLSEXT_ERR_NOACK;
    if (lua_getfield(L, -1, "alpnselect") == LUA_TFUNCTION) {
        context_pushalpn(L, a->in, a->inlen);
        lua_call(L, 1, 1);
        if (context_encodealpn(L, -1) != NULL) return SSL_TLSEXT_ERR_NOACK;
        return callback_alpnpick(L, c, a);
    }
    if (lua_getfield(L, -2, "alpn") == LUA_TSTRING) return callback_alpnpick(L, c, a);
    return SSL_TLSEXT_ERR_NOACK;
}

/* Server ALPN: the first protocol of ours (or of the selector's answer)
 * that the client offered. */
int callback_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                  const unsigned char *in, unsigned int inlen, void *arg) {
    (void) arg;
    ssl_conn *c = SSL_get_app_data(ssl);
    callback_alpnargs a = {in, inlen};
    callback_call cc = {callback_alpnbody, NULL, &a, 0};
    int res = callback_run(c, &cc, SSL_TLSEXT_ERR_ALERT_FATAL);
    if (res == SSL_TLSEXT_ERR_OK) {
        *out = c->alpn;
        *outlen = c->alpnlen;
    }
    return res;
}

/* ---- PSK ------------------------------------------------------------------- */

typedef struct callback_pskargs {
    const char *name;          /* client: the server's hint; server: the identity */
    unsigned int maxidentity;  /* client only: room for the identity, with its NUL */
    unsigned int maxpsk;
    char *identity;
    unsigned char *psk;
} callback_pskargs;

/* LuaSec's calls: client psk(hint, max_identity_len, max_psk_len) ->
 * identity, key; server psk(identity, max_psk_len) -> key. Returns the
 * key length, 0 to refuse. */
static int callback_pskbody(lua_State *L, ssl_conn *c, void *args) {
    callback_pskargs *a = args;
    if (!context_pushlua(L, SSL_get_SSL_CTX(c->ssl)) || lua_getfield(L, -1, "psk") != LUA_TFUNCTION)
        return 0;
    if (a->name != NULL) lua_pushstring(L, a->name);
    else lua_pushnil(L);
    int client = a->identity != NULL;
    if (client) lua_pushinteger(L, a->maxidentity > 0 ? a->maxidentity - 1 : 0);
    lua_pushinteger(L, a->maxpsk);
    lua_call(L, client ? 3 : 2, client ? 2 : 1);
    size_t ilen = 0, klen;
    const char *key = lua_isstring(L, -1) ? lua_tolstring(L, -1, &klen) : NULL;
    const char *id = client && lua_isstring(L, -2) ? lua_tolstring(L, -2, &ilen) : NULL;
    if (key == NULL || klen == 0 || klen > a->maxpsk) return 0;
    if (client) {
        if (id == NULL || ilen >= a->maxidentity || strlen(id) != ilen) return 0;
        memcpy(a->identity, id, ilen + 1);
    }
    memcpy(a->psk, key, klen);
    return (int) klen;
}

unsigned int callback_pskclient(SSL *ssl, const char *hint, char *identity,
                                unsigned int maxidentity, unsigned char *psk, unsigned int maxpsk) {
    callback_pskargs a = {hint, maxidentity, maxpsk, identity, psk};
    callback_call cc = {callback_pskbody, NULL, &a, 0};
    return (unsigned int) callback_run(SSL_get_app_data(ssl), &cc, 0);
}

unsigned int callback_pskserver(SSL *ssl, const char *identity, unsigned char *psk,
                                unsigned int maxpsk) {
    callback_pskargs a = {identity, 0, maxpsk, NULL, psk};
    callback_call cc = {callback_pskbody, NULL, &a, 0};
    return (unsigned int) callback_run(SSL_get_app_data(ssl), &cc, 0);
}

/* ---- SNI ------------------------------------------------------------------- */

typedef struct callback_sniargs {
    const char *name;
    context *found;
} callback_sniargs;

/* The context the sni(map) table gives for the name (its __index may run);
 * 0 when this conn has no map. */
static int callback_snibody(lua_State *L, ssl_conn *c, void *args) {
    (void) c;
    callback_sniargs *a = args;
    if (lua_getiuservalue(L, 1, SSL_UV_SNI) != LUA_TTABLE) return 0;
    lua_getfield(L, -1, a->name);
    a->found = context_testlive(L, -1);
    return 1;
}

/* Server: picks the context for the name the client asked for. A client
 * that names nothing keeps the default context, strict or not (LuaSec). */
int callback_sni(SSL *ssl, int *ad, void *arg) {
    (void) arg;
    ssl_conn *c = SSL_get_app_data(ssl);
    callback_sniargs a = {SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name), NULL};
    if (a.name == NULL) return SSL_TLSEXT_ERR_OK;
    callback_call cc = {callback_snibody, NULL, &a, 0};
    int res = callback_run(c, &cc, -1);
    if (res < 0) {
        *ad = SSL_AD_INTERNAL_ERROR;
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    if (res == 0) return SSL_TLSEXT_ERR_OK;
    context *x = a.found;
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

/* ---- DH -------------------------------------------------------------------- */

typedef struct callback_dhargs {
    int isexport, keylength;
} callback_dhargs;

/* dhparam(is_export, keylength) -> PEM string; parsed into c->dh, which
 * must outlive the call (OpenSSL takes its own reference to the key it
 * makes from it, not to the DH). */
static int callback_dhbody(lua_State *L, ssl_conn *c, void *args) {
    callback_dhargs *a = args;
    if (!context_pushlua(L, SSL_get_SSL_CTX(c->ssl)) ||
        lua_getfield(L, -1, "dhparam") != LUA_TFUNCTION)
        return 0;
    lua_pushboolean(L, a->isexport);
    lua_pushinteger(L, a->keylength);
    lua_call(L, 2, 1);
    if (lua_type(L, -1) != LUA_TSTRING) return 0;
    size_t len;
    const char *pem = lua_tolstring(L, -1, &len);
    BIO *bio = BIO_new_mem_buf(pem, (int) len);
    DH *dh = bio != NULL ? PEM_read_bio_DHparams(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (dh == NULL) return 0;
    DH_free(c->dh);
    c->dh = dh;
    return 1;
}

static DH *callback_dh(SSL *ssl, int isexport, int keylength) {
    ssl_conn *c = SSL_get_app_data(ssl);
    callback_dhargs a = {isexport, keylength};
    callback_call cc = {callback_dhbody, NULL, &a, 0};
    if (!callback_run(c, &cc, 0)) {
        ERR_clear_error();
        return NULL;
    }
    return c->dh;
}

int callback_setdh(SSL_CTX *ctx) {
#ifndef OPENSSL_NO_DEPRECATED_3_0
    SSL_CTX_set_tmp_dh_callback(ctx, callback_dh);
    return 1;
#else
    (void) ctx;
    (void) callback_dh;
    return 0;
#endif
}

void callback_freedh(ssl_conn *c) {
    DH_free(c->dh);
    c->dh = NULL;
}
