/* The BIO between OpenSSL and the fd: it serves the plaintext bytes a
 * wrapped socket had already buffered first (they are the first bytes of the
 * TLS stream), and does its I/O through sock.h, so it needs nothing of the
 * OS (sock_send never raises SIGPIPE; OpenSSL's socket BIO uses write(),
 * which does on a closed peer). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/bio.h>
#include "sock.h"
#include "ssl.h"

#define BIO_REGISTRYKEY "netsocket.ssl.biomethod"

static int bio_write(BIO *b, const char *data, int n) {
    ssl_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    size_t sent;
    int err = sock_send(&c->base.fd, data, n > 0 ? (size_t) n : 0, &sent);
    if (err == IO_DONE) return (int) sent;
    if (err == IO_WANTWRITE) BIO_set_retry_write(b);
    else c->syserr = err == IO_CLOSED ? EPIPE : err;   /* tlsio_result: "closed" */
    return -1;
}

static int bio_read(BIO *b, char *out, int n) {
    ssl_conn *c = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (n <= 0) return 0;
    if (c->pre != NULL) {
        size_t k = c->prelen - c->preoff;
        if (k > (size_t) n) k = (size_t) n;
        memcpy(out, c->pre + c->preoff, k);
        c->preoff += k;
        if (c->preoff == c->prelen) {
            free(c->pre);
            c->pre = NULL;
            c->prelen = c->preoff = 0;
        }
        return (int) k;
    }
    size_t got;
    int err = sock_read(c->base.fd, out, (size_t) n, &got);
    if (err == IO_DONE) {
        if (got == 0) c->eof = 1;
        else c->cs.rd.waitend = -1;   /* the read call's yielded wait did not run out */
        return (int) got;
    }
    if (err == IO_WANTREAD) BIO_set_retry_read(b);
    else c->syserr = err == IO_CLOSED ? EPIPE : err;
    return -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
    (void) num;
    ssl_conn *c = BIO_get_data(b);
    switch (cmd) {
        case BIO_CTRL_FLUSH:
            return 1;
        case BIO_C_GET_FD:
            if (ptr != NULL) *(int *) ptr = c->base.fd;
            return c->base.fd;
        case BIO_CTRL_PENDING:
            return c->pre != NULL ? (long) (c->prelen - c->preoff) : 0;
        case BIO_CTRL_EOF:              /* lets OpenSSL tell a FIN without close_notify */
            return c->eof;
        default:
            return 0;
    }
}

/* The BIO_METHOD lives in the registry (per state), freed with it. */
typedef struct bio_holder {
    BIO_METHOD *method;
} bio_holder;

static int bio_gc(lua_State *L) {
    bio_holder *m = lua_touserdata(L, 1);
    BIO_meth_free(m->method);
    m->method = NULL;
    return 0;
}

BIO_METHOD *bio_method(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, BIO_REGISTRYKEY);
    bio_holder *m = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return m != NULL ? m->method : NULL;
}

void bio_open(lua_State *L) {
    bio_holder *m = lua_newuserdatauv(L, sizeof *m, 0);
    m->method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "netsocket");
    if (m->method == NULL) luaL_error(L, "not enough memory");
    BIO_meth_set_write(m->method, bio_write);
    BIO_meth_set_read(m->method, bio_read);
    BIO_meth_set_ctrl(m->method, bio_ctrl);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, bio_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, BIO_REGISTRYKEY);
}
