/* TLS contexts: an SSL_CTX built from a params table (API.md §9.2) with
 * LuaSec's error strings, the context class, and ssl.config. Defaults
 * (§9.4) are merged in by lua/socket/ssl.lua before the table gets here. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "class.h"
#include "ssl.h"

typedef struct context_name {
    const char *name;
    long value;
} context_name;

static const context_name context_protocols[] = {
    {"tlsv1", TLS1_VERSION}, {"tlsv1_1", TLS1_1_VERSION}, {"tlsv1_2", TLS1_2_VERSION},
    {"tlsv1_3", TLS1_3_VERSION}, {"any", 0}, {"sslv23", 0}, {NULL, 0}
};

static const context_name context_verifies[] = {
    {"none", SSL_VERIFY_NONE}, {"peer", SSL_VERIFY_PEER},
    {"client_once", SSL_VERIFY_CLIENT_ONCE},
    {"fail_if_no_peer_cert", SSL_VERIFY_FAIL_IF_NO_PEER_CERT}, {NULL, 0}
};

enum { CONTEXT_CRL = 4, CONTEXT_CRL_CHAIN = 8 };

static const context_name context_verifyexts[] = {
    {"lsec_continue", CONTEXT_VERIFY_CONTINUE},
    {"lsec_ignore_purpose", CONTEXT_VERIFY_IGNORE_PURPOSE},
    {"crl_check", CONTEXT_CRL}, {"crl_check_chain", CONTEXT_CRL_CHAIN}, {NULL, 0}
};

/* SSL_OP_* lower-cased without the prefix, as LuaSec lists them. Options
 * that OpenSSL 3 keeps only as 0 are accepted and do nothing, as there. */
static const context_name context_options[] = {
    {"all", (long) SSL_OP_ALL},
    {"allow_client_renegotiation", (long) SSL_OP_ALLOW_CLIENT_RENEGOTIATION},
    {"allow_no_dhe_kex", (long) SSL_OP_ALLOW_NO_DHE_KEX},
    {"allow_unsafe_legacy_renegotiation", (long) SSL_OP_ALLOW_UNSAFE_LEGACY_RENEGOTIATION},
    {"cipher_server_preference", (long) SSL_OP_CIPHER_SERVER_PREFERENCE},
    {"cisco_anyconnect", (long) SSL_OP_CISCO_ANYCONNECT},
    {"cleanse_plaintext", (long) SSL_OP_CLEANSE_PLAINTEXT},
    {"cookie_exchange", (long) SSL_OP_COOKIE_EXCHANGE},
    {"cryptopro_tlsext_bug", (long) SSL_OP_CRYPTOPRO_TLSEXT_BUG},
    {"disable_tlsext_ca_names", (long) SSL_OP_DISABLE_TLSEXT_CA_NAMES},
    {"dont_insert_empty_fragments", (long) SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS},
    {"enable_middlebox_compat", (long) SSL_OP_ENABLE_MIDDLEBOX_COMPAT},
    {"ephemeral_rsa", (long) SSL_OP_EPHEMERAL_RSA},
    {"ignore_unexpected_eof", (long) SSL_OP_IGNORE_UNEXPECTED_EOF},
    {"legacy_server_connect", (long) SSL_OP_LEGACY_SERVER_CONNECT},
    {"microsoft_big_sslv3_buffer", (long) SSL_OP_MICROSOFT_BIG_SSLV3_BUFFER},
    {"microsoft_sess_id_bug", (long) SSL_OP_MICROSOFT_SESS_ID_BUG},
    {"msie_sslv2_rsa_padding", (long) SSL_OP_MSIE_SSLV2_RSA_PADDING},
    {"netscape_ca_dn_bug", (long) SSL_OP_NETSCAPE_CA_DN_BUG},
    {"netscape_challenge_bug", (long) SSL_OP_NETSCAPE_CHALLENGE_BUG},
    {"netscape_demo_cipher_change_bug", (long) SSL_OP_NETSCAPE_DEMO_CIPHER_CHANGE_BUG},
    {"netscape_reuse_cipher_change_bug", (long) SSL_OP_NETSCAPE_REUSE_CIPHER_CHANGE_BUG},
    {"no_anti_replay", (long) SSL_OP_NO_ANTI_REPLAY},
    {"no_compression", (long) SSL_OP_NO_COMPRESSION},
    {"no_encrypt_then_mac", (long) SSL_OP_NO_ENCRYPT_THEN_MAC},
    {"no_extended_master_secret", (long) SSL_OP_NO_EXTENDED_MASTER_SECRET},
    {"no_query_mtu", (long) SSL_OP_NO_QUERY_MTU},
    {"no_renegotiation", (long) SSL_OP_NO_RENEGOTIATION},
    {"no_session_resumption_on_renegotiation", (long) SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION},
    {"no_sslv2", (long) SSL_OP_NO_SSLv2},
    {"no_sslv3", (long) SSL_OP_NO_SSLv3},
    {"no_ticket", (long) SSL_OP_NO_TICKET},
    {"no_tlsv1", (long) SSL_OP_NO_TLSv1},
    {"no_tlsv1_1", (long) SSL_OP_NO_TLSv1_1},
    {"no_tlsv1_2", (long) SSL_OP_NO_TLSv1_2},
    {"no_tlsv1_3", (long) SSL_OP_NO_TLSv1_3},
    {"pkcs1_check_1", (long) SSL_OP_PKCS1_CHECK_1},
    {"pkcs1_check_2", (long) SSL_OP_PKCS1_CHECK_2},
    {"prioritize_chacha", (long) SSL_OP_PRIORITIZE_CHACHA},
    {"safari_ecdhe_ecdsa_bug", (long) SSL_OP_SAFARI_ECDHE_ECDSA_BUG},
    {"single_dh_use", (long) SSL_OP_SINGLE_DH_USE},
    {"single_ecdh_use", (long) SSL_OP_SINGLE_ECDH_USE},
    {"ssleay_080_client_dh_bug", (long) SSL_OP_SSLEAY_080_CLIENT_DH_BUG},
    {"sslref2_reuse_cert_type_bug", (long) SSL_OP_SSLREF2_REUSE_CERT_TYPE_BUG},
    {"tls_block_padding_bug", (long) SSL_OP_TLS_BLOCK_PADDING_BUG},
    {"tls_d5_bug", (long) SSL_OP_TLS_D5_BUG},
    {"tls_rollback_bug", (long) SSL_OP_TLS_ROLLBACK_BUG},
    {"tlsext_padding", (long) SSL_OP_TLSEXT_PADDING},
    {NULL, 0}
};

static const char *const context_curves[] = {
    "P-256", "P-384", "P-521", "X25519", "X448", "prime256v1", "secp384r1", "secp521r1",
    "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1", NULL
};

static int context_lookup(const context_name *t, const char *name, long *value) {
    for (; t->name != NULL; t++) {
        if (strcmp(t->name, name) == 0) {
            *value = t->value;
            return 1;
        }
    }
    return 0;
}

const char *context_reason(unsigned long e) {
    if (e == 0) return NULL;
    if (ERR_SYSTEM_ERROR(e)) return strerror(ERR_GET_REASON(e));   /* fopen and friends */
    return ERR_reason_error_string(e);
}

const char *context_error(void) {
    const char *text = NULL;
    unsigned long e;
    while (text == NULL && (e = ERR_get_error()) != 0) text = context_reason(e);
    ERR_clear_error();
    return text ? text : "unknown error";
}

context *context_test(lua_State *L, int idx) {
    return luaL_testudata(L, idx, SSL_CONTEXT_CLASS);
}

/* A context whose SSL_CTX is gone (released by __close, or by a __gc that
 * ran before its last use) makes no new conns: callers treat it as none.
 * Conns made before keep working on their own reference to the SSL_CTX. */
context *context_testlive(lua_State *L, int idx) {
    context *c = context_test(L, idx);
    return c != NULL && c->ctx != NULL ? c : NULL;
}

context *context_of(SSL_CTX *ctx) {
    return SSL_CTX_get_app_data(ctx);
}

int context_pushlua(lua_State *L, SSL_CTX *ctx) {
    lua_getfield(L, LUA_REGISTRYINDEX, SSL_CONTEXTS);
    lua_rawgetp(L, -1, ctx);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) return 0;
    lua_getiuservalue(L, -1, CONTEXT_UV_LUA);
    lua_remove(L, -2);
    return 1;
}

/* Fails with nil, msg: the userdata under construction is collected. */
static int context_fail(lua_State *L, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    lua_pushnil(L);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return 2;
}

/* ORs the value of the name on top of the stack into *flags; on an
 * unknown name copies it to bad and returns 0. */
static int context_flag(lua_State *L, const context_name *t, long *flags, char *bad, size_t n) {
    const char *name = lua_tostring(L, -1);
    long v;
    if (name != NULL && context_lookup(t, name, &v)) {
        *flags |= v;
        return 1;
    }
    snprintf(bad, n, "%s", name != NULL ? name : luaL_typename(L, -1));
    return 0;
}

/* For the string or array field `key` of the params at 1: every name's
 * value ORed into *flags. 0 (and the name in bad) on an unknown name. */
static int context_flags(lua_State *L, const char *key, const context_name *t, long *flags,
                         char *bad, size_t n) {
    int type = lua_getfield(L, 1, key);
    int ok = 1;
    if (type == LUA_TTABLE) {
        for (lua_Integer i = 1; ok; i++) {
            if (lua_geti(L, -1, i) == LUA_TNIL) {
                lua_pop(L, 1);
                break;
            }
            ok = context_flag(L, t, flags, bad, n);
            lua_pop(L, 1);
        }
    } else if (type != LUA_TNIL) {
        ok = context_flag(L, t, flags, bad, n);
    }
    lua_pop(L, 1);
    return ok;
}

/* A password callback for PEM loading: userdata is the stack index of the
 * password (a string, or a function returning one) in the running call.
 * A function that raises has its error value put in that slot (raised):
 * context_passraise raises it again once OpenSSL has returned, as LuaSec
 * lets it through. */
typedef struct context_pass {
    lua_State *L;
    int idx;
    int raised;
} context_pass;

static int context_passcb(char *buf, int size, int rwflag, void *u) {
    (void) rwflag;
    context_pass *p = u;
    lua_State *L = p->L;
    if (p->raised) return 0;
    lua_pushvalue(L, p->idx);
    if (lua_isfunction(L, -1) && lua_pcall(L, 0, 1, 0) != LUA_OK) {
        lua_replace(L, p->idx);
        p->raised = 1;
        return 0;
    }
    size_t len;
    const char *pw = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (pw == NULL || len > (size_t) size) {
        lua_pop(L, 1);
        return 0;
    }
    memcpy(buf, pw, len);
    lua_pop(L, 1);
    return (int) len;
}

/* After a load that used context_passcb: raises the callback's error. */
static void context_passraise(lua_State *L, const context_pass *p) {
    if (!p->raised) return;
    ERR_clear_error();
    lua_pushvalue(L, p->idx);
    lua_error(L);
}

/* Loads key and certificate from the table at idx (one entry of
 * `certificates`, or the params themselves). */
static int context_loadcert(lua_State *L, SSL_CTX *ctx, int idx) {
    int top = lua_gettop(L);
    lua_getfield(L, idx, "key");                 /* top+1 */
    lua_getfield(L, idx, "certificate");         /* top+2 */
    lua_getfield(L, idx, "password");            /* top+3 */
    const char *key = lua_tostring(L, top + 1);
    const char *cert = lua_tostring(L, top + 2);
    int pt = lua_type(L, top + 3);
    if (key != NULL) {
        if (pt != LUA_TNIL && pt != LUA_TSTRING && pt != LUA_TFUNCTION) {
            lua_settop(L, top);
            lua_pushnil(L);
            lua_pushliteral(L, "invalid password type");
            return 2;
        }
        context_pass pass = {L, top + 3, 0};
        if (pt != LUA_TNIL) {
            SSL_CTX_set_default_passwd_cb(ctx, context_passcb);
            SSL_CTX_set_default_passwd_cb_userdata(ctx, &pass);
        }
        ERR_clear_error();
        int ok = SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
        SSL_CTX_set_default_passwd_cb(ctx, NULL);
        SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
        context_passraise(L, &pass);
        if (ok != 1) return context_fail(L, "error loading private key (%s)", context_error());
    }
    if (cert != NULL) {
        ERR_clear_error();
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
            return context_fail(L, "error loading certificate (%s)", context_error());
        if (key != NULL && SSL_CTX_check_private_key(ctx) != 1) {
            ERR_clear_error();
            lua_pushnil(L);
            lua_pushliteral(L, "private key does not match public key");
            return 2;
        }
    }
    lua_settop(L, top);
    return 0;
}

const char *context_encodealpn(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    luaL_Buffer B;
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (len == 0) return "invalid ALPN name (empty string)";
        if (len > 255) return "invalid ALPN name (length > 255)";
        luaL_buffinit(L, &B);
        luaL_addchar(&B, (char) len);
        luaL_addlstring(&B, s, len);
        luaL_pushresult(&B);
        return NULL;
    }
    if (lua_type(L, idx) != LUA_TTABLE) return "invalid ALPN parameter";
    lua_Integer n = (lua_Integer) lua_rawlen(L, idx);
    if (n == 0) return "invalid ALPN list (empty)";
    for (lua_Integer i = 1; i <= n; i++) {      /* check first: the buffer takes a slot */
        size_t len = 0;
        lua_geti(L, idx, i);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return "invalid ALPN parameter";
        }
        lua_tolstring(L, -1, &len);
        lua_pop(L, 1);
        if (len == 0) return "invalid ALPN name (empty string)";
        if (len > 255) return "invalid ALPN name (length > 255)";
    }
    /* Each entry goes in as one value, its length byte joined to it first:
     * a buffer may be grown (luaL_addchar) only with nothing pushed above it,
     * and an __index may answer differently this second time. */
    int top = lua_gettop(L);
    luaL_buffinit(L, &B);
    for (lua_Integer i = 1; i <= n; i++) {
        size_t len = 0;
        if (lua_geti(L, idx, i) != LUA_TSTRING || (lua_tolstring(L, -1, &len), len == 0 || len > 255)) {
            lua_settop(L, top);
            return "invalid ALPN parameter";
        }
        char byte = (char) len;
        lua_pushlstring(L, &byte, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
        luaL_addvalue(&B);
    }
    luaL_pushresult(&B);
    return NULL;
}

void context_pushalpn(lua_State *L, const unsigned char *in, size_t len) {
    lua_newtable(L);
    lua_Integer n = 0;
    for (size_t i = 0; i < len;) {
        size_t l = in[i++];
        if (l > len - i) break;
        lua_pushlstring(L, (const char *) in + i, l);
        lua_rawseti(L, -2, ++n);
        i += l;
    }
}

/* The string field `key` of the params at 1 (def when absent) into buf;
 * a value of another type is named by its type. */
static void context_string(lua_State *L, const char *key, const char *def, char *buf, size_t n) {
    int t = lua_getfield(L, 1, key);
    snprintf(buf, n, "%s", t == LUA_TNIL ? def : t == LUA_TSTRING ? lua_tostring(L, -1)
                                                                  : luaL_typename(L, -1));
    lua_pop(L, 1);
}

static int context_protocol(lua_State *L, const char *key, const char *def, long *v,
                            char *name, size_t n) {
    context_string(L, key, def, name, n);
    return context_lookup(context_protocols, name, v);
}

/* newcontext(params [, usedefaultpaths]) -> ctx | nil, err */
static int context_lua_new(lua_State *L) {
    luaL_checktype(L, 1, LUA_TTABLE);
    int defaultpaths = lua_toboolean(L, 2);
    lua_settop(L, 1);
    context *c = lua_newuserdatauv(L, sizeof *c, CONTEXT_UV_COUNT);   /* 2 */
    c->ctx = NULL;
    c->mode = CONTEXT_CLIENT;
    c->checkhost = 0;
    c->verifyext = 0;
    luaL_setmetatable(L, SSL_CONTEXT_CLASS);
    lua_newtable(L);                                                   /* 3: Lua settings */
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 2, CONTEXT_UV_LUA);

    char name[64];
    context_string(L, "mode", "client", name, sizeof name);
    if (strcmp(name, "server") == 0) c->mode = CONTEXT_SERVER;
    else if (strcmp(name, "client") != 0) return context_fail(L, "invalid mode (%s)", name);
    long version, minversion;
    if (!context_protocol(L, "minprotocol", "tlsv1_2", &minversion, name, sizeof name) ||
        !context_protocol(L, "protocol", "any", &version, name, sizeof name) ||
        (version != 0 && version < minversion))
        return context_fail(L, "invalid protocol (%s)", name);

    ERR_clear_error();
    c->ctx = SSL_CTX_new(c->mode == CONTEXT_SERVER ? TLS_server_method() : TLS_client_method());
    if (c->ctx == NULL) return context_fail(L, "error creating context (%s)", context_error());
    SSL_CTX_set_app_data(c->ctx, c);
    lua_getfield(L, LUA_REGISTRYINDEX, SSL_CONTEXTS);
    lua_pushvalue(L, 2);
    lua_rawsetp(L, -2, c->ctx);
    lua_pop(L, 1);
    long lo = version != 0 ? version : minversion;
    SSL_CTX_set_min_proto_version(c->ctx, (int) lo);
    SSL_CTX_set_max_proto_version(c->ctx, (int) version);
    /* OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; asking
     * for them (below the 1.2 default minimum) means asking for that too. */
    if (lo != 0 && lo < TLS1_2_VERSION) SSL_CTX_set_security_level(c->ctx, 0);
    /* buffer.c sends a range in pieces and may retry from a new address. */
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

    /* Certificates and keys: `certificates` or the params' own keys. */
    if (lua_getfield(L, 1, "certificates") == LUA_TTABLE) {
        for (lua_Integer i = 1; lua_geti(L, -1, i) != LUA_TNIL; i++) {
            if (!lua_istable(L, -1)) return context_fail(L, "invalid certificates entry");
            if (context_loadcert(L, c->ctx, lua_gettop(L)) != 0) return 2;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    } else {
        if (context_loadcert(L, c->ctx, 1) != 0) return 2;
    }
    lua_pop(L, 1);

    lua_getfield(L, 1, "cafile");
    lua_getfield(L, 1, "capath");
    const char *cafile = lua_tostring(L, -2), *capath = lua_tostring(L, -1);
    ERR_clear_error();
    if (cafile != NULL || capath != NULL) {
        if (SSL_CTX_load_verify_locations(c->ctx, cafile, capath) != 1)
            return context_fail(L, "error loading CA locations (%s)", context_error());
    } else if (defaultpaths) {
        SSL_CTX_set_default_verify_paths(c->ctx);
        ERR_clear_error();
    }
    lua_pop(L, 2);

    if (lua_getfield(L, 1, "ciphers") != LUA_TNIL) {
        ERR_clear_error();
        const char *list = lua_tostring(L, -1);
        if (list == NULL || SSL_CTX_set_cipher_list(c->ctx, list) != 1)
            return context_fail(L, "error setting cipher list (%s)", context_error());
    }
    lua_pop(L, 1);
    if (lua_getfield(L, 1, "ciphersuites") != LUA_TNIL) {
        ERR_clear_error();
        const char *list = lua_tostring(L, -1);
        if (list == NULL || SSL_CTX_set_ciphersuites(c->ctx, list) != 1)
            return context_fail(L, "error setting cipher list (%s)", context_error());
    }
    lua_pop(L, 1);

    char bad[64];
    long flags = 0;
    if (!context_flags(L, "verify", context_verifies, &flags, bad, sizeof bad))
        return context_fail(L, "invalid verify option (%s)", bad);
    SSL_CTX_set_verify(c->ctx, (int) flags, callback_verify);
    int peer = (flags & SSL_VERIFY_PEER) != 0;

    long opts = 0;
    if (!context_flags(L, "options", context_options, &opts, bad, sizeof bad))
        return context_fail(L, "invalid option (%s)", bad);
    SSL_CTX_set_options(c->ctx, (uint64_t) opts);

    if (lua_getfield(L, 1, "depth") != LUA_TNIL)
        SSL_CTX_set_verify_depth(c->ctx, class_toint(lua_tonumber(L, -1)));
    lua_pop(L, 1);

    /* LuaSec calls dhparam(is_export, keylength) when a handshake needs DH
     * parameters (a DHE cipher), not here. */
    if (lua_getfield(L, 1, "dhparam") != LUA_TNIL) {
        if (!lua_isfunction(L, -1)) return context_fail(L, "invalid DH parameter type");
        if (!callback_setdh(c->ctx)) return context_fail(L, "dhparam is not supported by this OpenSSL");
        lua_setfield(L, 3, "dhparam");
    } else {
        lua_pop(L, 1);
    }

    lua_getfield(L, 1, "curveslist");
    lua_getfield(L, 1, "curve");
    if (lua_isstring(L, -2)) {
        const char *list = lua_tostring(L, -2);
        if (SSL_CTX_set1_groups_list(c->ctx, list) != 1) {
            ERR_clear_error();
            return context_fail(L, "unknown elliptic curve in \"%s\"", list);
        }
    } else if (lua_isstring(L, -1)) {
        const char *curve = lua_tostring(L, -1);
        if (SSL_CTX_set1_groups_list(c->ctx, curve) != 1) {
            ERR_clear_error();
            return context_fail(L, "elliptic curve '%s' not supported", curve);
        }
    }
    lua_pop(L, 2);

    long ext = 0;
    if (!context_flags(L, "verifyext", context_verifyexts, &ext, bad, sizeof bad))
        return context_fail(L, "invalid verify option (%s)", bad);
    c->verifyext = (int) (ext & (CONTEXT_VERIFY_CONTINUE | CONTEXT_VERIFY_IGNORE_PURPOSE));
    if (ext & (CONTEXT_CRL | CONTEXT_CRL_CHAIN)) {
        unsigned long xf = X509_V_FLAG_CRL_CHECK | ((ext & CONTEXT_CRL_CHAIN) ? X509_V_FLAG_CRL_CHECK_ALL : 0);
        X509_STORE_set_flags(SSL_CTX_get_cert_store(c->ctx), xf);
    }

    int alpn = lua_getfield(L, 1, "alpn");                  /* 4 */
    if (alpn != LUA_TNIL) {
        if (c->mode == CONTEXT_SERVER) {
            if (alpn == LUA_TFUNCTION) {
                lua_pushvalue(L, -1);
                lua_setfield(L, 3, "alpnselect");
            } else if (alpn == LUA_TTABLE) {
                const char *err = context_encodealpn(L, -1);
                if (err != NULL) return context_fail(L, "%s", err);
                lua_setfield(L, 3, "alpn");
            } else {
                return context_fail(L, "invalid ALPN parameter");
            }
            SSL_CTX_set_alpn_select_cb(c->ctx, callback_alpn, NULL);
        } else {
            const char *err = context_encodealpn(L, -1);
            if (err != NULL) return context_fail(L, "%s", err);
            size_t len;
            const unsigned char *wire = (const unsigned char *) lua_tolstring(L, -1, &len);
            if (SSL_CTX_set_alpn_protos(c->ctx, wire, (unsigned int) len) != 0)
                return context_fail(L, "error setting ALPN (%s)", context_error());
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    int psk = lua_getfield(L, 1, "psk");
    if (psk != LUA_TNIL) {
        if (c->mode == CONTEXT_CLIENT && psk == LUA_TFUNCTION) {
            SSL_CTX_set_psk_client_callback(c->ctx, callback_pskclient);
        } else if (c->mode == CONTEXT_SERVER && psk == LUA_TFUNCTION) {
            SSL_CTX_set_psk_server_callback(c->ctx, callback_pskserver);
        } else if (c->mode == CONTEXT_SERVER && psk == LUA_TTABLE &&
                   lua_getfield(L, -1, "hint") == LUA_TSTRING &&
                   lua_getfield(L, -2, "callback") == LUA_TFUNCTION) {
            if (SSL_CTX_use_psk_identity_hint(c->ctx, lua_tostring(L, -2)) != 1)
                return context_fail(L, "invalid PSK configuration");
            SSL_CTX_set_psk_server_callback(c->ctx, callback_pskserver);
            lua_replace(L, -3);           /* keep the callback as `psk` */
            lua_pop(L, 1);
        } else {
            return context_fail(L, "invalid PSK configuration");
        }
        lua_setfield(L, 3, "psk");
    } else {
        lua_pop(L, 1);
    }

    int dane = lua_getfield(L, 1, "dane");
    if (dane != LUA_TNIL && dane != LUA_TBOOLEAN && dane != LUA_TTABLE)
        return context_fail(L, "invalid DANE parameter");
    if (lua_toboolean(L, -1)) {
        if (SSL_CTX_dane_enable(c->ctx) <= 0)
            return context_fail(L, "error enabling DANE (%s)", context_error());
        if (dane == LUA_TTABLE) {
            for (lua_Integer i = 1; lua_geti(L, -1, i) != LUA_TNIL; i++) {
                const char *f = lua_tostring(L, -1);
                if (f == NULL || strcmp(f, "no_ee_namechecks") != 0)
                    return context_fail(L, "invalid DANE flag (%s)", f ? f : "?");
                SSL_CTX_dane_set_flags(c->ctx, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    /* The reference name for SNI and the hostname check (§9.4). */
    int sn = lua_getfield(L, 1, "servername");
    if (sn == LUA_TSTRING || (sn == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
        lua_setfield(L, 3, "servername");
    } else if (sn != LUA_TNIL) {
        return context_fail(L, "invalid servername");
    } else {
        lua_pop(L, 1);
    }
    lua_getfield(L, 1, "checkhostname");
    c->checkhost = c->mode == CONTEXT_CLIENT && peer &&
                   (lua_isnil(L, -1) || lua_toboolean(L, -1));
    lua_pop(L, 1);

    lua_settop(L, 2);
    return 1;
}

static int context_gc(lua_State *L) {
    context *c = context_test(L, 1);
    if (c != NULL && c->ctx != NULL) {
        SSL_CTX_set_app_data(c->ctx, NULL);   /* conns hold the userdata, so none is left */
        SSL_CTX_free(c->ctx);
        c->ctx = NULL;
    }
    return 0;
}

static int context_tostring(lua_State *L) {
    class_pushaddr(L, "SSL context", lua_touserdata(L, 1));
    return 1;
}

/* ctx:setverifyext(...) -> true | nil, err (LuaSec's method). */
static int context_meth_setverifyext(lua_State *L) {
    context *c = luaL_checkudata(L, 1, SSL_CONTEXT_CLASS);
    if (c->ctx == NULL) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    int n = lua_gettop(L);
    for (int i = 2; i <= n; i++) {
        long v;
        const char *name = luaL_checkstring(L, i);
        if (!context_lookup(context_verifyexts, name, &v)) {
            lua_pushnil(L);
            lua_pushfstring(L, "invalid verify option (%s)", name);
            return 2;
        }
        if (v & (CONTEXT_CRL | CONTEXT_CRL_CHAIN)) {
            unsigned long xf = X509_V_FLAG_CRL_CHECK | ((v & CONTEXT_CRL_CHAIN) ? X509_V_FLAG_CRL_CHECK_ALL : 0);
            X509_STORE_set_flags(SSL_CTX_get_cert_store(c->ctx), xf);
        }
        c->verifyext |= (int) (v & (CONTEXT_VERIFY_CONTINUE | CONTEXT_VERIFY_IGNORE_PURPOSE));
    }
    lua_pushboolean(L, 1);
    return 1;
}

static void context_pushset(lua_State *L, const char *field, const char *const *names) {
    lua_newtable(L);
    for (; *names != NULL; names++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, *names);
    }
    lua_setfield(L, -2, field);
}

/* ssl.config: what this build supports, in LuaSec's shape. */
static void context_pushconfig(lua_State *L) {
    static const char *const protocols[] = {"tlsv1", "tlsv1_1", "tlsv1_2", "tlsv1_3", NULL};
    static const char *const algorithms[] = {"ec", NULL};
    static const char *const capabilities[] = {"alpn", "curves_list", "ecdh_auto", "dane", "psk", NULL};
    lua_newtable(L);
    lua_newtable(L);
    for (const context_name *o = context_options; o->name != NULL; o++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, o->name);
    }
    lua_setfield(L, -2, "options");
    context_pushset(L, "protocols", protocols);
    context_pushset(L, "algorithms", algorithms);
    context_pushset(L, "curves", context_curves);
    context_pushset(L, "capabilities", capabilities);
}

static void context_luasec_open(lua_State *L);   /* the block at the end of this file */

void context_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"setverifyext", context_meth_setverifyext},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", context_gc},
        {"__close", context_gc},
        {"__tostring", context_tostring},
        {NULL, NULL}
    };
    class_new(L, SSL_CONTEXT_CLASS, methods, meta);
    lua_newtable(L);                       /* weak values: a context lives while used */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, SSL_CONTEXTS);
    lua_pushcfunction(L, context_lua_new);
    lua_setfield(L, -2, "newcontext");
    context_pushconfig(L);
    lua_setfield(L, -2, "config");
    context_luasec_open(L);
}

/* ------------------------------------------------------------------------
 * LuaSec's module-level ssl.context functions (lua/ssl/context.lua), on a
 * context that newcontext made: each changes the SSL_CTX in place, takes
 * its arguments as LuaSec does and answers as LuaSec does (true, or false
 * and the message). Conns made before keep what they had (OpenSSL copies
 * the settings into each SSL). A context released by <close> answers
 * false, "closed". Registered by context_open as core.luasec.
 * ---------------------------------------------------------------------- */

static context *context_luasec_check(lua_State *L) {
    return luaL_checkudata(L, 1, SSL_CONTEXT_CLASS);
}

static int context_luasec_closed(lua_State *L) {
    lua_pushboolean(L, 0);
    lua_pushliteral(L, "closed");
    return 2;
}

/* true, or false and fmt with the queued OpenSSL reason. */
static int context_luasec_result(lua_State *L, int ok, const char *fmt) {
    if (ok) {
        ERR_clear_error();
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushfstring(L, fmt, context_error());
    return 2;
}

static int context_luasec_setcipher(lua_State *L) {
    context *c = context_luasec_check(L);
    const char *list = luaL_checkstring(L, 2);
    if (c->ctx == NULL) return context_luasec_closed(L);
    ERR_clear_error();
    return context_luasec_result(L, SSL_CTX_set_cipher_list(c->ctx, list) == 1,
                                 "error setting cipher list (%s)");
}

static int context_luasec_setciphersuites(lua_State *L) {
    context *c = context_luasec_check(L);
    const char *list = luaL_checkstring(L, 2);
    if (c->ctx == NULL) return context_luasec_closed(L);
    ERR_clear_error();
    return context_luasec_result(L, SSL_CTX_set_ciphersuites(c->ctx, list) == 1,
                                 "error setting cipher list (%s)");
}

static int context_luasec_setdepth(lua_State *L) {
    context *c = context_luasec_check(L);
    lua_Integer depth = luaL_checkinteger(L, 2);
    if (c->ctx == NULL) return context_luasec_closed(L);
    SSL_CTX_set_verify_depth(c->ctx, depth < 0 ? 0 : depth > 100 ? 100 : (int) depth);
    lua_pushboolean(L, 1);
    return 1;
}

/* Names from 2 on, ORed from table t; false, "invalid <what> (name)". */
static int context_luasec_names(lua_State *L, const context_name *t, const char *what, long *flags) {
    for (int i = 2, n = lua_gettop(L); i <= n; i++) {
        const char *name = luaL_checkstring(L, i);
        long v;
        if (!context_lookup(t, name, &v)) {
            lua_pushboolean(L, 0);
            lua_pushfstring(L, "invalid %s (%s)", what, name);
            return 0;
        }
        *flags |= v;
    }
    return 1;
}

/* Keeps the host-name check tied to verification: a client context that did
 * not verify gets the check when "peer" is turned on (the safe default); one
 * that verified without the check (checkhostname = false) keeps its choice. */
static int context_luasec_setverify(lua_State *L) {
    context *c = context_luasec_check(L);
    long flags = 0;
    if (!context_luasec_names(L, context_verifies, "verify option", &flags)) return 2;
    if (c->ctx == NULL) return context_luasec_closed(L);
    if (flags != 0) {
        int was = (SSL_CTX_get_verify_mode(c->ctx) & SSL_VERIFY_PEER) != 0;
        int peer = (flags & SSL_VERIFY_PEER) != 0;
        if (c->mode == CONTEXT_CLIENT && peer && !was) c->checkhost = 1;
        SSL_CTX_set_verify(c->ctx, (int) flags, callback_verify);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int context_luasec_setoptions(lua_State *L) {
    context *c = context_luasec_check(L);
    long flags = 0;
    if (!context_luasec_names(L, context_options, "option", &flags)) return 2;
    if (c->ctx == NULL) return context_luasec_closed(L);
    SSL_CTX_set_options(c->ctx, (uint64_t) flags);
    lua_pushboolean(L, 1);
    return 1;
}

static int context_luasec_setcurves(lua_State *L, const char *fmt) {
    context *c = context_luasec_check(L);
    const char *list = luaL_checkstring(L, 2);
    if (c->ctx == NULL) return context_luasec_closed(L);
    if (SSL_CTX_set1_groups_list(c->ctx, list) == 1) {
        lua_pushboolean(L, 1);
        return 1;
    }
    ERR_clear_error();
    lua_pushboolean(L, 0);
    lua_pushfstring(L, fmt, list);
    return 2;
}

static int context_luasec_setcurve(lua_State *L) {
    return context_luasec_setcurves(L, "elliptic curve '%s' not supported");
}

static int context_luasec_setcurveslist(lua_State *L) {
    return context_luasec_setcurves(L, "unknown elliptic curve in \"%s\"");
}

static int context_luasec_locations(lua_State *L) {
    context *c = context_luasec_check(L);
    const char *cafile = luaL_optstring(L, 2, NULL), *capath = luaL_optstring(L, 3, NULL);
    if (c->ctx == NULL) return context_luasec_closed(L);
    ERR_clear_error();
    return context_luasec_result(L, SSL_CTX_load_verify_locations(c->ctx, cafile, capath) == 1,
                                 "error loading CA locations (%s)");
}

static int context_luasec_loadcert(lua_State *L) {
    context *c = context_luasec_check(L);
    const char *file = luaL_checkstring(L, 2);
    if (c->ctx == NULL) return context_luasec_closed(L);
    ERR_clear_error();
    return context_luasec_result(L, SSL_CTX_use_certificate_chain_file(c->ctx, file) == 1,
                                 "error loading certificate (%s)");
}

/* loadkey(ctx, file [, password]): password a string or a function
 * returning one, called protected (context_passcb). */
static int context_luasec_loadkey(lua_State *L) {
    context *c = context_luasec_check(L);
    const char *file = luaL_checkstring(L, 2);
    int pt = lua_type(L, 3);
    luaL_argcheck(L, pt == LUA_TNONE || pt == LUA_TNIL || pt == LUA_TSTRING || pt == LUA_TFUNCTION, 3,
                  "invalid callback value");
    if (c->ctx == NULL) return context_luasec_closed(L);
    lua_settop(L, 3);
    context_pass pass = {L, 3, 0};
    if (pt == LUA_TSTRING || pt == LUA_TFUNCTION) {
        SSL_CTX_set_default_passwd_cb(c->ctx, context_passcb);
        SSL_CTX_set_default_passwd_cb_userdata(c->ctx, &pass);
    }
    ERR_clear_error();
    int ok = SSL_CTX_use_PrivateKey_file(c->ctx, file, SSL_FILETYPE_PEM) == 1;
    SSL_CTX_set_default_passwd_cb(c->ctx, NULL);
    SSL_CTX_set_default_passwd_cb_userdata(c->ctx, NULL);
    context_passraise(L, &pass);
    return context_luasec_result(L, ok, "error loading private key (%s)");
}

static int context_luasec_checkkey(lua_State *L) {
    context *c = context_luasec_check(L);
    if (c->ctx == NULL) return context_luasec_closed(L);
    lua_pushboolean(L, SSL_CTX_check_private_key(c->ctx) == 1);
    ERR_clear_error();
    return 1;
}

/* The mode is fixed when the context is made: "setting" the same one is
 * fine, the other one is refused (client and server contexts differ in
 * more than a flag here: defaults, verification, name check). */
static int context_luasec_setmode(lua_State *L) {
    context *c = context_luasec_check(L);
    const char *mode = luaL_checkstring(L, 2);
    if (c->ctx == NULL) return context_luasec_closed(L);
    int server = strcmp(mode, "server") == 0;
    if (!server && strcmp(mode, "client") != 0) {
        lua_pushboolean(L, 0);
        lua_pushfstring(L, "invalid mode (%s)", mode);
        return 2;
    }
    if (server != (c->mode == CONTEXT_SERVER)) {
        lua_pushboolean(L, 0);
        lua_pushfstring(L, "cannot change the mode of a %s context", c->mode == CONTEXT_SERVER ? "server" : "client");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* setalpn(ctx, wire): a client's ALPN list, LuaSec's wire format. */
static int context_luasec_setalpn(lua_State *L) {
    context *c = context_luasec_check(L);
    size_t len;
    const char *wire = luaL_checklstring(L, 2, &len);
    if (c->ctx == NULL) return context_luasec_closed(L);
    ERR_clear_error();
    return context_luasec_result(L, SSL_CTX_set_alpn_protos(c->ctx, (const unsigned char *) wire,
                                                            (unsigned int) len) == 0,
                                 "error setting ALPN (%s)");
}

static void context_luasec_open(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"checkkey", context_luasec_checkkey},
        {"loadcert", context_luasec_loadcert},
        {"loadkey", context_luasec_loadkey},
        {"locations", context_luasec_locations},
        {"setalpn", context_luasec_setalpn},
        {"setcipher", context_luasec_setcipher},
        {"setciphersuites", context_luasec_setciphersuites},
        {"setcurve", context_luasec_setcurve},
        {"setcurveslist", context_luasec_setcurveslist},
        {"setdepth", context_luasec_setdepth},
        {"setmode", context_luasec_setmode},
        {"setoptions", context_luasec_setoptions},
        {"setverify", context_luasec_setverify},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "luasec");
}
