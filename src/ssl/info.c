/* What a connection knows about its TLS session: certificates and chains,
 * verification result, cipher, ALPN, SNI name, Finished messages, exported
 * keying material, DANE. */
#include <stdint.h>
#include <string.h>
#include <openssl/err.h>
#include "class.h"
#include "ssl.h"

static int info_meth_want(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    int w = c->ssl != NULL ? SSL_want(c->ssl) : SSL_NOTHING;
    lua_pushstring(L, w == SSL_READING ? "read" : w == SSL_WRITING ? "write"
                    : w == SSL_X509_LOOKUP ? "x509lookup" : "nothing");
    return 1;
}

/* The certificate argument of get{peer,local}certificate: 0 and n, or the
 * count of results already pushed (closed, or an index below 1). */
static int info_certindex(lua_State *L, ssl_conn *c, lua_Integer *n) {
    *n = luaL_optinteger(L, 2, 1);
    if (c->state != SSL_STATE_CONNECTED) return conn_closed(L);
    if (*n < 1) {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid certificate index");
        return 2;
    }
    return 0;
}

/* Pushes a certificate the connection still owns (a new reference), or nil. */
static void info_pushcert(lua_State *L, X509 *cert) {
    if (cert == NULL) {
        lua_pushnil(L);
        return;
    }
    X509_up_ref(cert);
    x509_push(L, cert);
}

/* Appends a chain's certificates to the table on top, after index k. */
static lua_Integer info_addchain(lua_State *L, STACK_OF(X509) *chain, lua_Integer k) {
    for (int i = 0; chain != NULL && i < sk_X509_num(chain); i++) {
        info_pushcert(L, sk_X509_value(chain, i));
        lua_rawseti(L, -2, ++k);
    }
    return k;
}

static int info_meth_getpeercertificate(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    lua_Integer n;
    int r = info_certindex(L, c, &n);
    if (r > 0) return r;
    if (n == 1) {
        X509 *cert = SSL_get1_peer_certificate(c->ssl);
        if (cert == NULL) lua_pushnil(L);
        else x509_push(L, cert);
        return 1;
    }
    /* A server's chain lacks the client's own certificate. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(c->ssl);
    lua_Integer i = conn_isserver(c) ? n - 2 : n - 1;
    info_pushcert(L, chain != NULL && i < sk_X509_num(chain) ? sk_X509_value(chain, (int) i) : NULL);
    return 1;
}

static int info_meth_getpeerchain(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    if (c->state != SSL_STATE_CONNECTED) return conn_closed(L);
    lua_newtable(L);
    lua_Integer k = 0;
    if (conn_isserver(c)) {
        X509 *cert = SSL_get1_peer_certificate(c->ssl);
        if (cert == NULL) {
            lua_pushnil(L);
            return 1;
        }
        x509_push(L, cert);
        lua_rawseti(L, -2, ++k);
    }
    k = info_addchain(L, SSL_get_peer_cert_chain(c->ssl), k);
    if (k == 0) lua_pushnil(L);
    return 1;
}

static int info_meth_getlocalcertificate(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    lua_Integer n;
    int r = info_certindex(L, c, &n);
    if (r > 0) return r;
    X509 *cert = SSL_get_certificate(c->ssl);
    if (n > 1) {
        STACK_OF(X509) *chain = NULL;
        SSL_get0_chain_certs(c->ssl, &chain);
        cert = chain != NULL && n - 2 < sk_X509_num(chain) ? sk_X509_value(chain, (int) (n - 2)) : NULL;
    }
    info_pushcert(L, cert);
    return 1;
}

static int info_meth_getlocalchain(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    if (c->state != SSL_STATE_CONNECTED) return conn_closed(L);
    X509 *cert = SSL_get_certificate(c->ssl);
    if (cert == NULL) {
        lua_pushnil(L);
        return 1;
    }
    lua_newtable(L);
    info_pushcert(L, cert);
    lua_rawseti(L, -2, 1);
    STACK_OF(X509) *chain = NULL;
    SSL_get0_chain_certs(c->ssl, &chain);
    info_addchain(L, chain, 1);
    return 1;
}

/* true | false, reason (a table of errors by depth under lsec_continue).
 * Also after a failed handshake, to say why it failed (§9.4). */
static int info_meth_getpeerverification(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    if (c->ssl == NULL || c->state == SSL_STATE_CLOSED || !c->prepared) {   /* no handshake yet */
        lua_pushboolean(L, 0);
        lua_pushliteral(L, "closed");
        return 2;
    }
    long err = SSL_get_verify_result(c->ssl);
    if (err == X509_V_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    if (lua_getiuservalue(L, 1, SSL_UV_ERRORS) != LUA_TTABLE) {
        lua_pop(L, 1);
        /* one word for a name that does not match, DNS or IP (§9.4) */
        if (err == X509_V_ERR_IP_ADDRESS_MISMATCH) err = X509_V_ERR_HOSTNAME_MISMATCH;
        lua_pushstring(L, X509_verify_cert_error_string(err));
    }
    return 2;
}

/* The cipher description split the way LuaSec's ssl.lua splits it. */
static int info_meth_info(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    const char *field = luaL_optstring(L, 2, NULL);
    if (c->state == SSL_STATE_CLOSED) return conn_closed(L);
    const SSL_CIPHER *cipher = c->ssl != NULL ? SSL_get_current_cipher(c->ssl) : NULL;
    if (cipher == NULL) {
        lua_pushnil(L);
        return 1;
    }
    char desc[256];
    SSL_CIPHER_description(cipher, desc, sizeof desc);
    int algbits = 0;
    int bits = SSL_CIPHER_get_bits(cipher, &algbits);
    lua_newtable(L);
    lua_pushinteger(L, bits);
    lua_setfield(L, -2, "bits");
    lua_pushinteger(L, algbits);
    lua_setfield(L, -2, "algbits");
    int export = 0, k = 0;
    static const struct { const char *prefix, *field; } keys[] = {
        {"Kx=", "key"}, {"Au=", "authentication"}, {"Enc=", "encryption"}, {"Mac=", "mac"}
    };
    char *save = NULL;
    for (char *tok = strtok_r(desc, " \t\n", &save); tok != NULL;
         tok = strtok_r(NULL, " \t\n", &save), k++) {
        if (k == 0) {
            lua_pushstring(L, tok);
            lua_setfield(L, -2, "cipher");
            continue;
        }
        if (strcmp(tok, "export") == 0) export = 1;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            size_t len = strlen(keys[i].prefix);
            if (strncmp(tok, keys[i].prefix, len) == 0) {
                lua_pushstring(L, tok + len);
                lua_setfield(L, -2, keys[i].field);
            }
        }
    }
    lua_pushboolean(L, export);
    lua_setfield(L, -2, "export");
    lua_pushstring(L, SSL_get_version(c->ssl));
    lua_setfield(L, -2, "protocol");
    if (field != NULL) lua_getfield(L, -1, field);   /* compression: nil, as in OpenSSL 3 */
    return 1;
}

static int info_meth_getalpn(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    const unsigned char *p = NULL;
    unsigned int len = 0;
    if (c->ssl != NULL) SSL_get0_alpn_selected(c->ssl, &p, &len);
    if (p == NULL || len == 0) lua_pushnil(L);
    else lua_pushlstring(L, (const char *) p, len);
    return 1;
}

static int info_meth_getsniname(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    const char *name = c->ssl != NULL ? SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name) : NULL;
    if (name == NULL) lua_pushnil(L);
    else lua_pushstring(L, name);
    return 1;
}

static int info_pushfinished(lua_State *L, size_t (*get)(const SSL *, void *, size_t)) {
    ssl_conn *c = conn_check(L, 1);
    char buf[EVP_MAX_MD_SIZE];
    size_t len = c->state == SSL_STATE_CONNECTED ? get(c->ssl, buf, sizeof buf) : 0;
    if (len == 0) lua_pushnil(L);
    else lua_pushlstring(L, buf, len > sizeof buf ? sizeof buf : len);
    return 1;
}

static int info_meth_getfinished(lua_State *L) {
    return info_pushfinished(L, SSL_get_finished);
}

static int info_meth_getpeerfinished(lua_State *L) {
    return info_pushfinished(L, SSL_get_peer_finished);
}

static int info_meth_exportkeyingmaterial(lua_State *L) {
    ssl_conn *c = conn_check(L, 1);
    size_t llen, clen = 0;
    const char *label = luaL_checklstring(L, 2, &llen);
    lua_Integer n = luaL_checkinteger(L, 3);
    const char *ctx = luaL_optlstring(L, 4, NULL, &clen);
    luaL_argcheck(L, n > 0 && n <= 65536, 3, "invalid length");
    if (c->state != SSL_STATE_CONNECTED) return conn_closed(L);
    unsigned char *out = lua_newuserdatauv(L, (size_t) n, 0);
    if (SSL_export_keying_material(c->ssl, out, (size_t) n, label, llen,
                                   (const unsigned char *) ctx, clen, ctx != NULL) != 1) {
        lua_pushnil(L);
        lua_pushstring(L, context_error());
        return 2;
    }
    lua_pushlstring(L, (const char *) out, (size_t) n);
    return 1;
}

static int info_meth_setdane(lua_State *L) {
    ssl_conn *c = conn_checkidle(L, 1);
    const char *domain = luaL_checkstring(L, 2);
    if (c->ssl == NULL) return conn_closed(L);
    int ok = SSL_dane_enable(c->ssl, domain) > 0;
    ERR_clear_error();
    lua_pushboolean(L, ok);
    return 1;
}

static int info_meth_settlsa(lua_State *L) {
    ssl_conn *c = conn_checkidle(L, 1);
    int usage = class_toint(luaL_checknumber(L, 2));
    int selector = class_toint(luaL_checknumber(L, 3));
    int mtype = class_toint(luaL_checknumber(L, 4));
    size_t len;
    const char *data = luaL_checklstring(L, 5, &len);
    if (c->ssl == NULL) return conn_closed(L);
    int ok = SSL_dane_tlsa_add(c->ssl, (uint8_t) usage, (uint8_t) selector, (uint8_t) mtype,
                               (const unsigned char *) data, len) > 0;
    ERR_clear_error();
    lua_pushboolean(L, ok);
    return 1;
}

const luaL_Reg info_methods[] = {
    {"exportkeyingmaterial", info_meth_exportkeyingmaterial},
    {"getalpn", info_meth_getalpn},
    {"getfinished", info_meth_getfinished},
    {"getlocalcertificate", info_meth_getlocalcertificate},
    {"getlocalchain", info_meth_getlocalchain},
    {"getpeercertificate", info_meth_getpeercertificate},
    {"getpeerchain", info_meth_getpeerchain},
    {"getpeerfinished", info_meth_getpeerfinished},
    {"getpeerverification", info_meth_getpeerverification},
    {"getsniname", info_meth_getsniname},
    {"info", info_meth_info},
    {"setdane", info_meth_setdane},
    {"settlsa", info_meth_settlsa},
    {"want", info_meth_want},
    {NULL, NULL}
};
