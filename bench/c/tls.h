/* TLS settings shared by the tls_* C programs and the TLS peer: the same
 * as the Lua scripts ask of socket.ssl and LuaSec (bench/tls.lua): TLS 1.3
 * only, TLS_AES_128_GCM_SHA256, X25519, SSL_OP_ALL | SSL_OP_NO_COMPRESSION,
 * partial writes, no verification; the server certificate is the ECDSA
 * P-256 one bench/run.lua makes in $BENCH_CERTS. Blocking sockets. */
#ifndef BENCH_TLS_H
#define BENCH_TLS_H
#include "common.h"
#include <openssl/err.h>
#include <openssl/ssl.h>

static inline void tls_die(const char *what) {
    fprintf(stderr, "bench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static inline SSL_CTX *tls_context(int server) {
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) tls_die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1) tls_die("ciphersuites");
    if (SSL_CTX_set1_groups_list(ctx, "X25519") != 1) tls_die("groups");
    SSL_CTX_set_options(ctx, SSL_OP_ALL | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (server) {
        const char *dir = getenv("BENCH_CERTS");
        char cert[4096], key[4096];
        if (!dir) tls_die("BENCH_CERTS is not set (bench/run.lua makes the certificates)");
        snprintf(cert, sizeof cert, "%s/server.pem", dir);
        snprintf(key, sizeof key, "%s/server.key", dir);
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) tls_die(cert);
        if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) tls_die(key);
    }
    return ctx;
}

/* A TLS connection over fd, handshake done. */
static inline SSL *tls_open(SSL_CTX *ctx, int fd, int server) {
    SSL *ssl = SSL_new(ctx);
    if (!ssl) tls_die("SSL_new");
    SSL_set_fd(ssl, fd);
    if ((server ? SSL_accept(ssl) : SSL_connect(ssl)) != 1) tls_die("handshake");
    return ssl;
}

static inline void tls_writeall(SSL *ssl, const char *p, size_t n) {
    while (n > 0) {
        size_t w;
        if (SSL_write_ex(ssl, p, n, &w) != 1) tls_die("SSL_write");
        p += w; n -= w;
    }
}

/* Reads exactly n bytes (0 on EOF first). */
static inline int tls_readall(SSL *ssl, char *p, size_t n) {
    while (n > 0) {
        size_t r;
        if (SSL_read_ex(ssl, p, n, &r) != 1) {
            int e = SSL_get_error(ssl, 0);
            if (e == SSL_ERROR_ZERO_RETURN) return 0;
            tls_die("SSL_read");
        }
        p += r; n -= r;
    }
    return 1;
}

/* close_notify (not waiting for the peer's), then the fd. */
static inline void tls_close(SSL *ssl) {
    int fd = SSL_get_fd(ssl);
    SSL_shutdown(ssl);
    SSL_free(ssl);
    close(fd);
}
#endif
