/* libFuzzer target: the TLS record path of a netsocket TLS server
 * (socket.ssl over a unix socketpair; the server is the real conn class
 * and its io backend under buffer.c). fuzz/tls.lua decides per input:
 *   raw:    the input bytes are the client's whole side of the connection
 *           (seeded with real ClientHellos from `openssl s_client`), then EOF;
 *   client: an OpenSSL client in this process completes a real handshake,
 *           then the input is decoded into client actions (application
 *           data records, raw bytes spliced between records, close_notify,
 *           KeyUpdate, EOF) interleaved with the server's receive calls.
 * The server never sees anything but bytes on its descriptor. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "fuzzlua.h"

#ifndef FUZZ_CERTDIR
#error "build with -DFUZZ_CERTDIR (mk/fuzz.mk makes the certificate there)"
#endif

static SSL_CTX *tls_clientctx;
static SSL *tls_client;          /* this input's client, or NULL */
static int tls_peer = -1;        /* the client's end of the socketpair */

/* Ends this input's client side (also the start of the next input). */
static void tls_reset(void) {
    if (tls_client != NULL) SSL_free(tls_client);
    tls_client = NULL;
    if (tls_peer >= 0) close(tls_peer);
    tls_peer = -1;
    ERR_clear_error();
}

/* Writes all of s to the peer end (the socketpair has room: inputs are small). */
static int tls_writeraw(const char *s, size_t n) {
    while (n > 0) {
        ssize_t w = send(tls_peer, s, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        s += w;
        n -= (size_t) w;
    }
    return 1;
}

/* fuzz.pair() -> the server's descriptor; the peer end stays here. */
static int tls_pair(lua_State *L) {
    tls_reset();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return luaL_error(L, "socketpair failed");
    tls_peer = sv[1];
    lua_pushinteger(L, sv[0]);
    return 1;
}

/* fuzz.raw(bytes) -> whether all were written */
static int tls_raw(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lua_pushboolean(L, tls_peer >= 0 && tls_writeraw(s, n));
    return 1;
}

/* fuzz.eof(): the client half-closes (the server reads EOF). */
static int tls_eof(lua_State *L) {
    (void) L;
    if (tls_peer >= 0) shutdown(tls_peer, SHUT_WR);
    return 0;
}

/* fuzz.client() -> a handshake step: "done", "again" (wants the server),
 * or "failed". The first call makes the client. */
static int tls_clientstep(lua_State *L) {
    if (tls_client == NULL) {
        tls_client = SSL_new(tls_clientctx);
        if (tls_client == NULL || !SSL_set_fd(tls_client, tls_peer)) return luaL_error(L, "SSL_new failed");
        SSL_set_connect_state(tls_client);
        SSL_set_tlsext_host_name(tls_client, "localhost");
    }
    int r = SSL_do_handshake(tls_client);
    int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(tls_client, r);
    ERR_clear_error();
    lua_pushstring(L, r == 1 ? "done" : e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? "again" : "failed");
    return 1;
}

/* fuzz.send(data) -> whether the client sent data as application records. */
static int tls_send(lua_State *L) {
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    int ok = tls_client != NULL && n > 0 && SSL_write(tls_client, s, (int) n) == (int) n;
    ERR_clear_error();
    lua_pushboolean(L, ok);
    return 1;
}

/* fuzz.closenotify(): the client's close_notify alert. */
static int tls_closenotify(lua_State *L) {
    (void) L;
    if (tls_client != NULL) SSL_shutdown(tls_client);
    ERR_clear_error();
    return 0;
}

/* fuzz.keyupdate(): a TLS 1.3 KeyUpdate (asking for one back), flushed by
 * an empty write of the handshake message. */
static int tls_keyupdate(lua_State *L) {
    (void) L;
    if (tls_client != NULL && SSL_version(tls_client) == TLS1_3_VERSION &&
        SSL_key_update(tls_client, SSL_KEY_UPDATE_REQUESTED) == 1)
        SSL_do_handshake(tls_client);
    ERR_clear_error();
    return 0;
}

/* fuzz.drain(): the client reads what the server sent (alerts, tickets,
 * KeyUpdate replies), so the socketpair never fills. */
static int tls_drain(lua_State *L) {
    (void) L;
    char buf[4096];
    if (tls_client != NULL) {
        for (int i = 0; i < 16 && SSL_read(tls_client, buf, sizeof buf) > 0; i++) continue;
    } else if (tls_peer >= 0) {
        for (int i = 0; i < 16 && recv(tls_peer, buf, sizeof buf, MSG_DONTWAIT) > 0; i++) continue;
    }
    ERR_clear_error();
    return 0;
}

/* fuzz.certdir() -> where mk/fuzz.mk put the server's key and certificate */
static int tls_certdir(lua_State *L) {
    lua_pushliteral(L, FUZZ_CERTDIR);
    return 1;
}

static void tls_setup(void) {
    /* our OpenSSL client writes with write(): a server that has closed
     * must not kill the fuzzer (netsocket itself sends with MSG_NOSIGNAL) */
    signal(SIGPIPE, SIG_IGN);
    tls_clientctx = SSL_CTX_new(TLS_client_method());
    if (tls_clientctx == NULL) fuzzlua_die("setup", "SSL_CTX_new failed");
    SSL_CTX_set_verify(tls_clientctx, SSL_VERIFY_NONE, NULL);
}

static const luaL_Reg tls_funcs[] = {
    {"pair", tls_pair},
    {"raw", tls_raw},
    {"eof", tls_eof},
    {"client", tls_clientstep},
    {"send", tls_send},
    {"closenotify", tls_closenotify},
    {"keyupdate", tls_keyupdate},
    {"drain", tls_drain},
    {"certdir", tls_certdir},
    {NULL, NULL}
};

FUZZLUA_TARGET("tls", tls_funcs, tls_setup, tls_reset)
