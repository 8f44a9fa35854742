/* The TLS io backend under buffer.c, so every receive pattern, partial
 * result and timeout of TCP holds unchanged; how a failed SSL call reads as
 * an IO_* code and an error text. */
#include <errno.h>
#include <openssl/err.h>
#include "buffer.h"
#include "sock.h"
#include "wait.h"
#include "ssl.h"

/* The IO_* code for a failed SSL call that returned `ret`. In the data
 * phase (`eofisclose`) a TCP EOF without close_notify is "closed", as for
 * plain TCP; the handshake reports it as OpenSSL does. */
int tlsio_result(ssl_conn *c, int ret, int eofisclose) {
    switch (SSL_get_error(c->ssl, ret)) {
        case SSL_ERROR_WANT_READ:
            c->want = WAIT_R;
            return IO_WANTREAD;
        case SSL_ERROR_WANT_WRITE:
            c->want = WAIT_W;
            return IO_WANTWRITE;
        case SSL_ERROR_ZERO_RETURN:
            return IO_CLOSED;
        case SSL_ERROR_SYSCALL:
            if (ERR_peek_error() == 0) {       /* else an OpenSSL error is queued */
                int e = c->syserr;
                if (e == 0 || e == EPIPE || e == ECONNRESET || e == ECONNABORTED) return IO_CLOSED;
                return e;
            }
            break;
        default:
            break;
    }
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (eofisclose && ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return IO_CLOSED;
    c->sslerr = e;
    return SSL_IO_SSL;
}

const char *tlsio_errortext(ssl_conn *c, int err) {
    if (err == SSL_IO_SSL) {
        const char *r = context_reason(c->sslerr);
        return r ? r : "unknown error";
    }
    return sock_strerror(err);
}

/* LuaSec's words for "would block" / "timed out" (§9.3). */
const char *tlsio_wanttext(ssl_conn *c, int err) {
    if (err == IO_TIMEOUT || err == IO_WANTREAD || err == IO_WANTWRITE)
        return c->want == WAIT_W ? "wantwrite" : "wantread";
    return tlsio_errortext(c, err);
}

/* Marks the running call, so callbacks find the Lua state and the conn. */
void tlsio_enter(ssl_conn *c, lua_State *L, int self) {
    c->L = L;
    c->self = lua_absindex(L, self);
    c->syserr = 0;
    ERR_clear_error();
}

void tlsio_leave(ssl_conn *c) {
    c->L = NULL;
}

static int tlsio_send(void *ctx, const char *data, size_t n, size_t *sent) {
    ssl_conn *c = ctx;
    *sent = 0;
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return IO_CLOSED;
    c->syserr = 0;
    ERR_clear_error();
    int r = SSL_write_ex(c->ssl, data, n, sent);
    return r > 0 ? IO_DONE : tlsio_result(c, r, 1);
}

static int tlsio_recv(void *ctx, char *data, size_t n, size_t *got) {
    ssl_conn *c = ctx;
    *got = 0;
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return IO_CLOSED;
    c->syserr = 0;
    ERR_clear_error();
    int r = SSL_read_ex(c->ssl, data, n, got);
    return r > 0 ? IO_DONE : tlsio_result(c, r, 1);
}

static const char *tlsio_error(void *ctx, int err) {
    return tlsio_errortext(ctx, err);
}

static size_t tlsio_pending(void *ctx) {
    ssl_conn *c = ctx;
    return c->ssl != NULL ? (size_t) SSL_pending(c->ssl) : 0;
}

/* Readable without waiting: decrypted bytes in our buffer or in OpenSSL,
 * or taken-over bytes the fd will never signal. */
int tlsio_dirty(const void *self) {
    const ssl_conn *c = self;
    return !buffer_isempty(&c->buf) || c->pre != NULL ||
           (c->ssl != NULL && c->state == SSL_STATE_CONNECTED && SSL_pending(c->ssl) > 0);
}

void tlsio_init(ssl_conn *c) {
    c->base.dirty = tlsio_dirty;
    c->io.send = tlsio_send;
    c->io.recv = tlsio_recv;
    c->io.error = tlsio_error;
    c->io.pending = tlsio_pending;
    c->io.ctx = c;
    c->io.fd = &c->base.fd;
}
