/* X509 certificate objects (API.md §9.3 "X509 objects"), LuaSec's methods
 * and result shapes. */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include "class.h"
#include "ssl.h"

enum { X509_ENCODE_AI5, X509_ENCODE_UTF8 };

typedef struct x509_obj {
    X509 *cert;
    int encode;
} x509_obj;

void x509_push(lua_State *L, X509 *cert) {
    x509_obj *x = lua_newuserdatauv(L, sizeof *x, 0);
    x->cert = cert;
    x->encode = X509_ENCODE_AI5;
    luaL_setmetatable(L, SSL_X509_CLASS);
}

static x509_obj *x509_checkobj(lua_State *L, int idx) {
    return luaL_checkudata(L, idx, SSL_X509_CLASS);
}

/* Self is never released here (x509_guard answers for it); a released
 * certificate in another argument position is misuse. */
static X509 *x509_check(lua_State *L, int idx) {
    X509 *cert = x509_checkobj(L, idx)->cert;
    if (cert == NULL) luaL_argerror(L, idx, "certificate is closed");
    return cert;
}

/* Every method goes through here: a certificate released by __close (or
 * by a __gc that ran before its last use) answers nil, "closed", as a
 * closed socket does, instead of handing OpenSSL a freed X509. */
static int x509_guard(lua_State *L) {
    if (x509_checkobj(L, 1)->cert == NULL) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* Pushes the contents of a memory BIO and frees it. */
static void x509_pushbio(lua_State *L, BIO *bio) {
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    lua_pushlstring(L, data, len > 0 ? (size_t) len : 0);
    BIO_free(bio);
}

static void x509_pushasn1(lua_State *L, const ASN1_STRING *s, int encode) {
    if (encode == X509_ENCODE_UTF8) {
        unsigned char *out = NULL;
        int len = ASN1_STRING_to_UTF8(&out, s);
        if (len >= 0) {
            lua_pushlstring(L, (const char *) out, (size_t) len);
            OPENSSL_free(out);
            return;
        }
        ERR_clear_error();
    }
    lua_pushlstring(L, (const char *) ASN1_STRING_get0_data(s), (size_t) ASN1_STRING_length(s));
}

/* An object name: numeric OID (numeric) or OpenSSL's long name. */
static void x509_pushobj(lua_State *L, const ASN1_OBJECT *obj, int numeric) {
    char buf[256];
    int len = OBJ_obj2txt(buf, sizeof buf, obj, numeric);
    if (len < 0) len = 0;
    if ((size_t) len >= sizeof buf) len = sizeof buf - 1;
    lua_pushlstring(L, buf, (size_t) len);
}

/* {{oid=, name=, value=}, ...} */
static void x509_pushname(lua_State *L, const X509_NAME *name, int encode) {
    int n = X509_NAME_entry_count(name);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
        lua_createtable(L, 0, 3);
        x509_pushobj(L, obj, 1);
        lua_setfield(L, -2, "oid");
        x509_pushobj(L, obj, 0);
        lua_setfield(L, -2, "name");
        x509_pushasn1(L, X509_NAME_ENTRY_get_data(e), encode);
        lua_setfield(L, -2, "value");
        lua_rawseti(L, -2, i + 1);
    }
}

static int x509_meth_subject(lua_State *L) {
    x509_obj *x = x509_checkobj(L, 1);
    x509_pushname(L, X509_get_subject_name(x->cert), x->encode);
    return 1;
}

static int x509_meth_issuer(lua_State *L) {
    x509_obj *x = x509_checkobj(L, 1);
    x509_pushname(L, X509_get_issuer_name(x->cert), x->encode);
    return 1;
}

static int x509_meth_digest(lua_State *L) {
    x509_obj *x = x509_checkobj(L, 1);
    const char *alg = luaL_optstring(L, 2, "sha1");
    const EVP_MD *md = strcmp(alg, "sha1") == 0 ? EVP_sha1()
                     : strcmp(alg, "sha256") == 0 ? EVP_sha256()
                     : strcmp(alg, "sha512") == 0 ? EVP_sha512() : NULL;
    if (md == NULL) {
        lua_pushnil(L);
        lua_pushfstring(L, "digest algorithm not supported (%s)", alg);
        return 2;
    }
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (X509_digest(x->cert, md, buf, &len) != 1) {
        lua_pushnil(L);
        lua_pushstring(L, context_error());
        return 2;
    }
    char hex[2 * EVP_MAX_MD_SIZE];
    static const char digits[] = "0123456789abcdef";
    for (unsigned int i = 0; i < len; i++) {
        hex[2 * i] = digits[buf[i] >> 4];
        hex[2 * i + 1] = digits[buf[i] & 15];
    }
    lua_pushlstring(L, hex, 2 * (size_t) len);
    return 1;
}

static void x509_pushtime(lua_State *L, const ASN1_TIME *t) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) luaL_error(L, "not enough memory");
    ASN1_TIME_print(bio, t);
    x509_pushbio(L, bio);
}

static int x509_meth_notbefore(lua_State *L) {
    x509_pushtime(L, X509_get0_notBefore(x509_check(L, 1)));
    return 1;
}

static int x509_meth_notafter(lua_State *L) {
    x509_pushtime(L, X509_get0_notAfter(x509_check(L, 1)));
    return 1;
}

static int x509_meth_serial(lua_State *L) {
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509_check(L, 1)), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    BN_free(bn);
    if (hex == NULL) {
        lua_pushnil(L);
        lua_pushstring(L, context_error());
        return 2;
    }
    lua_pushstring(L, hex);
    OPENSSL_free(hex);
    return 1;
}

static int x509_meth_pem(lua_State *L) {
    X509 *cert = x509_check(L, 1);
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1) {
        BIO_free(bio);
        lua_pushnil(L);
        lua_pushstring(L, context_error());
        return 2;
    }
    x509_pushbio(L, bio);
    return 1;
}

/* pubkey() -> pem, "RSA"|"DSA"|"DH"|"EC"|"Unknown", bits */
static int x509_meth_pubkey(lua_State *L) {
    EVP_PKEY *key = X509_get0_pubkey(x509_check(L, 1));
    BIO *bio = BIO_new(BIO_s_mem());
    if (key == NULL || bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
        BIO_free(bio);
        lua_pushnil(L);
        lua_pushstring(L, context_error());
        return 2;
    }
    x509_pushbio(L, bio);
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA: lua_pushliteral(L, "RSA"); break;
        case EVP_PKEY_DSA: lua_pushliteral(L, "DSA"); break;
        case EVP_PKEY_DH: lua_pushliteral(L, "DH"); break;
        case EVP_PKEY_EC: lua_pushliteral(L, "EC"); break;
        default: lua_pushliteral(L, "Unknown"); break;
    }
    lua_pushinteger(L, EVP_PKEY_get_bits(key));
    return 3;
}

/* validat(t): notBefore <= t <= notAfter */
static int x509_meth_validat(lua_State *L) {
    X509 *cert = x509_check(L, 1);
    time_t t = (time_t) luaL_checknumber(L, 2);
    lua_pushboolean(L, X509_cmp_time(X509_get0_notBefore(cert), &t) < 0 &&
                       X509_cmp_time(X509_get0_notAfter(cert), &t) > 0);
    return 1;
}

/* issued(ca [, more...]): verifies this certificate against the given ones
 * as trust anchors -> true | nil, reason. */
static int x509_meth_issued(lua_State *L) {
    X509 *cert = x509_check(L, 1);
    int n = lua_gettop(L);
    luaL_argcheck(L, n >= 2, 2, "certificate expected");
    for (int i = 2; i <= n; i++) x509_check(L, i);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int ok = store != NULL && ctx != NULL;
    for (int i = 2; ok && i <= n; i++) ok = X509_STORE_add_cert(store, x509_check(L, i)) == 1;
    ok = ok && X509_STORE_CTX_init(ctx, store, cert, NULL) == 1;
    int res = ok ? X509_verify_cert(ctx) : -1;
    int err = ok ? X509_STORE_CTX_get_error(ctx) : 0;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    if (res == 1) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, ok ? X509_verify_cert_error_string(err) : context_error());
    ERR_clear_error();
    return 2;
}

static void x509_append(lua_State *L, const char *field) {
    if (lua_getfield(L, -2, field) == LUA_TNIL) {      /* value, list? */
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_setfield(L, -4, field);
    }
    lua_insert(L, -2);                                 /* list, value */
    lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
    lua_pop(L, 1);
}

static void x509_puship(lua_State *L, const ASN1_OCTET_STRING *ip) {
    char buf[INET6_ADDRSTRLEN];
    int len = ASN1_STRING_length(ip);
    const unsigned char *d = ASN1_STRING_get0_data(ip);
    const char *s = NULL;
    if (len == 4) s = inet_ntop(AF_INET, d, buf, sizeof buf);
    else if (len == 16) s = inet_ntop(AF_INET6, d, buf, sizeof buf);
    if (s != NULL) lua_pushstring(L, s);
    else lua_pushlstring(L, (const char *) d, (size_t) len);
}

/* extensions(): {[oid] = {name=, dNSName={...}, iPAddress={...}, ...}} for
 * the subjectAltName extensions, as LuaSec reports them. */
static int x509_meth_extensions(lua_State *L) {
    x509_obj *x = x509_checkobj(L, 1);
    lua_newtable(L);
    int i = -1;
    while ((i = X509_get_ext_by_NID(x->cert, NID_subject_alt_name, i)) != -1) {
        X509_EXTENSION *ext = X509_get_ext(x->cert, i);
        GENERAL_NAMES *names = ext ? X509V3_EXT_d2i(ext) : NULL;
        if (names == NULL) break;
        const ASN1_OBJECT *obj = X509_EXTENSION_get_object(ext);
        x509_pushobj(L, obj, 1);
        lua_newtable(L);
        x509_pushobj(L, obj, 0);
        lua_setfield(L, -2, "name");
        for (int j = 0; j < sk_GENERAL_NAME_num(names); j++) {
            GENERAL_NAME *g = sk_GENERAL_NAME_value(names, j);
            switch (g->type) {
                case GEN_EMAIL:
                    x509_pushasn1(L, g->d.rfc822Name, x->encode);
                    x509_append(L, "rfc822Name");
                    break;
                case GEN_DNS:
                    x509_pushasn1(L, g->d.dNSName, x->encode);
                    x509_append(L, "dNSName");
                    break;
                case GEN_URI:
                    x509_pushasn1(L, g->d.uniformResourceIdentifier, x->encode);
                    x509_append(L, "uniformResourceIdentifier");
                    break;
                case GEN_IPADD:
                    x509_puship(L, g->d.iPAddress);
                    x509_append(L, "iPAddress");
                    break;
                case GEN_DIRNAME:
                    x509_pushname(L, g->d.directoryName, x->encode);
                    x509_append(L, "directoryName");
                    break;
                case GEN_OTHERNAME: {
                    char oid[128];
                    int len = OBJ_obj2txt(oid, sizeof oid, g->d.otherName->type_id, 1);
                    if (len > 0 && (size_t) len < sizeof oid &&
                        g->d.otherName->value->type != V_ASN1_BOOLEAN &&
                        g->d.otherName->value->type != V_ASN1_NULL &&
                        g->d.otherName->value->type != V_ASN1_OBJECT) {
                        x509_pushasn1(L, g->d.otherName->value->value.asn1_string, x->encode);
                        x509_append(L, oid);
                    }
                    break;
                }
                default:
                    break;
            }
        }
        GENERAL_NAMES_free(names);
        lua_settable(L, -3);
    }
    return 1;
}

static int x509_meth_getsignaturename(lua_State *L) {
    int nid = X509_get_signature_nid(x509_check(L, 1));
    const char *name = nid != NID_undef ? OBJ_nid2sn(nid) : NULL;
    if (name == NULL) lua_pushnil(L);
    else lua_pushstring(L, name);
    return 1;
}

static int x509_meth_setencode(lua_State *L) {
    x509_obj *x = x509_checkobj(L, 1);
    const char *enc = luaL_checkstring(L, 2);
    if (strcmp(enc, "ai5") == 0) x->encode = X509_ENCODE_AI5;
    else if (strcmp(enc, "utf8") == 0) x->encode = X509_ENCODE_UTF8;
    else {
        lua_pushnil(L);
        lua_pushliteral(L, "invalid encoding");
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int x509_gc(lua_State *L) {
    x509_obj *x = luaL_testudata(L, 1, SSL_X509_CLASS);
    if (x != NULL && x->cert != NULL) {
        X509_free(x->cert);
        x->cert = NULL;
    }
    return 0;
}

static int x509_tostring(lua_State *L) {
    class_pushaddr(L, "X509 certificate", lua_touserdata(L, 1));
    return 1;
}

static int x509_eq(lua_State *L) {
    x509_obj *a = luaL_testudata(L, 1, SSL_X509_CLASS), *b = luaL_testudata(L, 2, SSL_X509_CLASS);
    if (a == NULL || b == NULL || a->cert == NULL || b->cert == NULL)
        lua_pushboolean(L, a == b);
    else
        lua_pushboolean(L, X509_cmp(a->cert, b->cert) == 0);
    return 1;
}

/* loadcertificate(pem) -> cert | nil */
static int x509_lua_load(lua_State *L) {
    size_t len;
    const char *pem = luaL_checklstring(L, 1, &len);
    BIO *bio = BIO_new_mem_buf(pem, len > 0x7fffffff ? 0x7fffffff : (int) len);
    X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    ERR_clear_error();
    if (cert == NULL) {
        lua_pushnil(L);
        return 1;
    }
    x509_push(L, cert);
    return 1;
}

void x509_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"digest", x509_meth_digest},
        {"extensions", x509_meth_extensions},
        {"getsignaturename", x509_meth_getsignaturename},
        {"issued", x509_meth_issued},
        {"issuer", x509_meth_issuer},
        {"notafter", x509_meth_notafter},
        {"notbefore", x509_meth_notbefore},
        {"pem", x509_meth_pem},
        {"pubkey", x509_meth_pubkey},
        {"serial", x509_meth_serial},
        {"setencode", x509_meth_setencode},
        {"subject", x509_meth_subject},
        {"validat", x509_meth_validat},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", x509_gc},
        {"__close", x509_gc},
        {"__eq", x509_eq},
        {"__tostring", x509_tostring},
        {NULL, NULL}
    };
    class_new(L, SSL_X509_CLASS, methods, meta);
    luaL_getmetatable(L, SSL_X509_CLASS);
    lua_getfield(L, -1, "__index");
    for (const luaL_Reg *m = methods; m->name != NULL; m++) {
        lua_pushcfunction(L, m->func);
        lua_pushcclosure(L, x509_guard, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 2);
    lua_pushcfunction(L, x509_lua_load);
    lua_setfield(L, -2, "loadcertificate");
}
