/* The TLS peer of tls_bulk and tls_handshake, shared by the Lua scripts
 * (socket.ssl and LuaSec) and the C programs, with the settings of tls.h:
 *   tls_peer bulk      PORT N     handshake, read N*65536 bytes, then write N*65536
 *   tls_peer handshake PORT N K   K processes make N full handshakes in all
 *                                 (connect, handshake, read to the server's
 *                                 close_notify, close); K keep the server busy
 * No session is ever resumed: every SSL object is new and none is cached. */
#include "tls.h"

#define CHUNK 65536

static void bulk(SSL_CTX *ctx, int port, long n) {
    static char buf[CHUNK];
    int fd = connect_to(port);
    SSL *ssl = tls_open(ctx, fd, 0);
    for (long i = 0; i < n; i++)
        if (!tls_readall(ssl, buf, CHUNK)) tls_die("bulk: early EOF");
    memset(buf, 'x', sizeof buf);
    for (long i = 0; i < n; i++) tls_writeall(ssl, buf, CHUNK);
    tls_close(ssl);
}

static void handshakes(SSL_CTX *ctx, int port, long n) {
    char c;
    for (long i = 0; i < n; i++) {
        int fd = connect_to(port);
        SSL *ssl = tls_open(ctx, fd, 0);
        size_t r;
        while (SSL_read_ex(ssl, &c, 1, &r) == 1) {}   /* the server sends nothing */
        SSL_free(ssl);
        close(fd);
    }
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc < 4) {
        fprintf(stderr, "usage: tls_peer MODE PORT N [K]\n");
        return 2;
    }
    const char *mode = argv[1];
    int port = atoi(argv[2]);
    long n = atol(argv[3]), k = argc > 4 ? atol(argv[4]) : 1;
    SSL_CTX *ctx = tls_context(0);
    if (!strcmp(mode, "bulk")) bulk(ctx, port, n);
    else if (!strcmp(mode, "handshake")) {
        if (k < 1 || k > 64) k = 1;
        pid_t kids[64];
        for (long j = 0; j < k; j++) {
            kids[j] = fork();
            if (kids[j] < 0) die("fork");
            if (kids[j] == 0) {
                handshakes(ctx, port, n / k + (j < n % k));
                _exit(0);
            }
        }
        for (long j = 0; j < k; j++) reap(kids[j]);
    } else {
        fprintf(stderr, "tls_peer: unknown mode %s\n", mode);
        return 2;
    }
    SSL_CTX_free(ctx);
    return 0;
}
