/* The handshake: SNI and host-name setup on the client (§9.4), the
 * handshake itself (dohandshake, handshake() for connect and starttls), the
 * TLS half of accept() for setssl servers (§9.5), and sni(). */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "class.h"
#include "stream.h"
#include "timeout.h"
#include "wait.h"
#include "ssl.h"

static int handshake_isip(const char *name) {
    unsigned char addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

/* Client side, before the first handshake step: SNI and the name the
 * certificate must match (§9.4): params.servername, then sni(name), then
 * the host the socket connected to. Only servername = false (or
 * checkhostname = false) turns the check off: with it on, an empty name,
 * or none at all (a foreign fd, a unix socket), fails the handshake
 * rather than skipping the check. IO_DONE, or the SSL_IO_* why not. */
static int handshake_prepare(lua_State *L, ssl_conn *c, int self) {
    lua_getiuservalue(L, self, SSL_UV_CTX);
    context *x = context_test(L, -1);
    if (x == NULL || x->mode != CONTEXT_CLIENT) {
        lua_pop(L, 1);
        c->prepared = 1;
        return IO_DONE;
    }
    lua_getiuservalue(L, -1, CONTEXT_UV_LUA);
    int sn = lua_getfield(L, -1, "servername");             /* ctx, lua, servername */
    if (sn == LUA_TBOOLEAN) {
        lua_pop(L, 3);
        c->prepared = 1;
        return IO_DONE;
    }
    if (sn != LUA_TSTRING) {
        lua_pop(L, 1);
        if (lua_getiuservalue(L, self, SSL_UV_SNI) != LUA_TSTRING) {
            lua_pop(L, 1);
            lua_getiuservalue(L, self, SSL_UV_HOST);
        }
    }
    size_t len = 0;
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    int res = IO_DONE;
    if (name != NULL && len > 0 && strlen(name) == len) {
        int ip = handshake_isip(name);
        if (!ip) SSL_set_tlsext_host_name(c->ssl, name);
        if (x->checkhost) {
            int ok;
            if (ip) {
                ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name) == 1;
            } else {
                SSL_set_hostflags(c->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                ok = SSL_set1_host(c->ssl, name) == 1;
            }
            if (!ok) res = SSL_IO_BADNAME;
        }
        ERR_clear_error();
    } else if (x->checkhost) {
        res = name == NULL || len == 0 ? SSL_IO_NONAME : SSL_IO_BADNAME;
    }
    lua_pop(L, 3);
    c->prepared = res == IO_DONE;
    return res;
}

/* Runs the handshake until done or until cl's deadline. */
static int handshake_run(lua_State *L, ssl_conn *c, int self, call *cl) {
    if (c->state == SSL_STATE_CONNECTED) return IO_DONE;
    if (c->state == SSL_STATE_CLOSED || c->base.fd < 0) return IO_CLOSED;
    if (c->failed) return c->lasterr;
    if (!c->prepared) {
        int err = handshake_prepare(L, c, self);
        if (err != IO_DONE) return err;
    }
    for (;;) {
        tlsio_enter(c, L, self);
        int r = SSL_do_handshake(c->ssl);
        tlsio_leave(c);
        if (r == 1) {
            c->state = SSL_STATE_CONNECTED;
            return IO_DONE;
        }
        int err = tlsio_result(c, r);
        if (err != IO_WANTREAD && err != IO_WANTWRITE) return err;
        err = wait_fd(c->base.fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, cl);
        if (err != IO_DONE) return err;
    }
}

/* Yieldable methods (socket.co): a wait may yield and the method runs again
 * from its continuation; what it had done is kept in the SSL object, the
 * buffer and the read call (call.h). A handshake holds the read direction. */
WAIT_RESTART(handshake_meth_dohandshake)
static int handshake_meth_dohandshake(lua_State *L) {
    ssl_conn *c = conn_checkidle(L, 1);
    if (call_begin(L, &c->cs.rd, handshake_meth_dohandshake_k) == CALL_BUSY) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, call_busy(&c->cs.rd));
        return 2;
    }
    if (c->state != SSL_STATE_CONNECTED) c->want = WAIT_R;
    int err = handshake_run(L, c, 1, &c->cs.rd);
    if (err == IO_DONE) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, tlsio_wanttext(c, err));
    return 2;
}

/* handshake(conn [, timeout]) -> true | false, err: for starttls and
 * connect, which are new API and so say "timeout" (§12.1). */
WAIT_RESTART(handshake_lua_handshake)
static int handshake_lua_handshake(lua_State *L) {
    ssl_conn *c = conn_checkidle(L, 1);
    if (conn_begincall(L, &c->cs.rd, 2, handshake_lua_handshake_k) == CALL_BUSY) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, call_busy(&c->cs.rd));
        return 2;
    }
    int err = handshake_run(L, c, 1, &c->cs.rd);
    if (err == IO_DONE) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushboolean(L, 0);
    lua_pushstring(L, tlsio_errortext(c, err));
    return 2;
}

/* registry["netsocket.tlsaccept"](server, client): the TLS half of accept()
 * on a server with setssl. The handshake runs within the server's timeouts,
 * counted from the start of accept(), so a client that stalls cannot hold
 * the server beyond them; on failure the client is closed. In a socket.co
 * task it yields: the conn (slot 3) keeps the server's deadline in its own
 * timeout and this function restarts from its continuation; stream.c calls
 * it with lua_callk, so accept() itself goes on afterwards. */
WAIT_RESTART(handshake_lua_tlsaccept)
static int handshake_lua_tlsaccept(lua_State *L) {
    stream *srv = class_testgroup(L, 1, "tcp{any}");
    if (srv == NULL) return luaL_argerror(L, 1, "tcp{server} expected");
    int fresh = lua_gettop(L) < 3 || luaL_testudata(L, 3, SSL_CONN_CLASS) == NULL;
    if (fresh) {
        lua_settop(L, 2);
        lua_pushcfunction(L, conn_lua_create);
        lua_getiuservalue(L, 1, STREAM_UV_TLS);
        lua_pushvalue(L, 2);
        lua_call(L, 2, 1);                               /* 3: conn */
    }
    lua_settop(L, 3);
    ssl_conn *c = conn_check(L, 3);
    if (fresh) timeout_init(&c->cs.tm, srv->cs.tm.block, srv->cs.tm.total);
    /* a new conn: nobody else can hold it */
    if (call_begin(L, &c->cs.rd, handshake_lua_tlsaccept_k) == CALL_FRESH) c->cs.rd.start = srv->cs.rd.start;
    int err = handshake_run(L, c, 3, &c->cs.rd);
    timeout_init(&c->cs.tm, -1, -1);
    if (err != IO_DONE) {
        const char *msg = tlsio_errortext(c, err);
        lua_pushnil(L);
        lua_pushstring(L, msg);
        conn_release(L, c);
        return 2;
    }
    lua_pushvalue(L, 3);
    return 1;
}

/* Client: sni(name) sets SNI and the name to verify. Server: sni(map
 * [, strict]) selects a context by the requested name. */
static int handshake_meth_sni(lua_State *L) {
    ssl_conn *c = conn_checkidle(L, 1);
    if (c->ssl == NULL) return conn_closed(L);
    if (!conn_isserver(c)) {
        const char *name = luaL_checkstring(L, 2);
        lua_pushvalue(L, 2);
        lua_setiuservalue(L, 1, SSL_UV_SNI);
        int ok = SSL_set_tlsext_host_name(c->ssl, name) == 1;
        ERR_clear_error();
        lua_pushboolean(L, ok);
        return 1;
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING || context_testlive(L, -1) == NULL)
            return luaL_argerror(L, 2, "map of name -> context expected");
        lua_pop(L, 1);
    }
    c->snistrict = lua_toboolean(L, 3);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, SSL_UV_SNI);
    SSL_CTX *ctx = SSL_get_SSL_CTX(c->ssl);
    SSL_CTX_set_tlsext_servername_callback(ctx, callback_sni);
    lua_pushboolean(L, 1);
    return 1;
}

const luaL_Reg handshake_methods[] = {
    {"dohandshake", handshake_meth_dohandshake},
    {"sni", handshake_meth_sni},
    {NULL, NULL}
};

const luaL_Reg handshake_funcs[] = {
    {"handshake", handshake_lua_handshake},
    {NULL, NULL}
};

void handshake_open(lua_State *L) {
    lua_pushcfunction(L, handshake_lua_tlsaccept);
    lua_setfield(L, LUA_REGISTRYINDEX, "netsocket.tlsaccept");
}
