/* The TLS io backend under buffer.c, so every receive pattern, partial
 * result and timeout of TCP holds unchanged; how a failed SSL call reads as
 * an IO_* code and an error text. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include "buffer.h"
#include "sock.h"
#include "wait.h"
#include "ssl.h"

/* The IO_* code for a failed SSL call that returned `ret`. A TCP EOF
 * without close_notify is an error ("unexpected eof while reading", as
 * LuaSec on OpenSSL 3 says): only the peer's close_notify is "closed", so
 * a cut stream is never taken for a complete one. */
int tlsio_result(ssl_conn *c, int ret) {
    int e = SSL_get_error(c->ssl, ret);
    switch (e) {
        case SSL_ERROR_WANT_READ:
            c->want = WAIT_R;
            return IO_WANTREAD;
        case SSL_ERROR_WANT_WRITE:
            c->want = WAIT_W;
            return IO_WANTWRITE;
        case SSL_ERROR_ZERO_RETURN:
            return IO_CLOSED;
        default:
            break;
    }
    int res;
    if (c->why[0] != '\0') {                  /* a Lua callback raised: that is why */
        res = SSL_IO_CALLBACK;
    } else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {   /* else OpenSSL queued why */
        /* a reset is a cut too, never a clean end: not IO_CLOSED (which ends
         * "*a") nor the text "closed" (which ends socket.http's body) */
        int s = c->syserr;
        res = s == 0 ? IO_CLOSED : s == ECONNRESET || s == ECONNABORTED ? SSL_IO_RESET : s;
    } else {
        c->sslerr = ERR_get_error();
        res = SSL_IO_SSL;
    }
    ERR_clear_error();
    c->failed = 1;
    c->lasterr = res;
    return res;
}

const char *tlsio_errortext(ssl_conn *c, int err) {
    switch (err) {
        case SSL_IO_SSL: {
            const char *r = context_reason(c->sslerr);
            return r ? r : "unknown error";
        }
        case SSL_IO_CALLBACK:
            return c->why;
        case SSL_IO_NONAME:
            return "no host name to check the certificate against";
        case SSL_IO_BADNAME:
            return "invalid host name to check the certificate against";
        case SSL_IO_TOOMUCH:
            return "too much data before close_notify";
        case SSL_IO_RESET:
            return "connection reset by peer";
        case SSL_IO_RETRY:
            return "a TLS send that would block must be retried with the same data";
        default:
            return sock_strerror(err);
    }
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

/* The most a blocked SSL_write can hold encrypted: one record, or a few
 * with OpenSSL's multi-block ciphers. */
#define TLSIO_PENDMAX ((size_t) SSL3_RT_MAX_PLAIN_LENGTH * 8)

void tlsio_free(ssl_conn *c) {
    free(c->wpend);
    c->wpend = NULL;
    c->wpendlen = 0;
}

/* A send that would block leaves records OpenSSL has encrypted but not
 * written, and OpenSSL writes them on the next SSL_write whatever data
 * that one is given: those bytes would stand in for the new ones. So the
 * start of the blocked data is kept, and a later send with other data is
 * refused (SSL_IO_RETRY), never silently mixed. */
/* A send to a peer that reset says "closed", as over TCP: only reads must
 * tell a reset from an end (tlsio_result). */
static int tlsio_sendcode(int err) {
    return err == SSL_IO_RESET ? ECONNRESET : err;
}

static int tlsio_send(void *ctx, const char *data, size_t n, size_t *sent) {
    ssl_conn *c = ctx;
    *sent = 0;
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return IO_CLOSED;
    if (c->failed) return tlsio_sendcode(c->lasterr);
    /* stoptls sent our close_notify: no more data, and no error that
     * would fail the stoptls under way */
    if (SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN) return IO_CLOSED;
    if (c->wpend != NULL && (n < c->wpendlen || memcmp(data, c->wpend, c->wpendlen) != 0))
        return SSL_IO_RETRY;
    c->syserr = 0;
    ERR_clear_error();
    int r = SSL_write_ex(c->ssl, data, n, sent);
    if (r > 0) {
        tlsio_free(c);
        return IO_DONE;
    }
    int err = tlsio_sendcode(tlsio_result(c, r));
    if ((err == IO_WANTWRITE || err == IO_WANTREAD) && c->wpend == NULL) {
        size_t k = n < TLSIO_PENDMAX ? n : TLSIO_PENDMAX;
        c->wpend = malloc(k);
        if (c->wpend != NULL) {
            memcpy(c->wpend, data, k);
            c->wpendlen = k;
        }
    }
    return err;
}

static int tlsio_recv(void *ctx, char *data, size_t n, size_t *got) {
    ssl_conn *c = ctx;
    *got = 0;
    if (c->state != SSL_STATE_CONNECTED || c->base.fd < 0) return IO_CLOSED;
    if (c->failed) return c->lasterr;
    c->syserr = 0;
    ERR_clear_error();
    int r = SSL_read_ex(c->ssl, data, n, got);
    return r > 0 ? IO_DONE : tlsio_result(c, r);
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
