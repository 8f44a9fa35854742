/* tls_bulk: over TLS (tls.h), N writes of 64 KiB to the peer, then N reads
 * of 64 KiB back; the handshake is not timed. */
#include "tls.h"
#define CHUNK 65536
int main(int argc, char **argv) {
    (void) argc;
    signal(SIGPIPE, SIG_IGN);
    long n = scaled(4096);
    SSL_CTX *ctx = tls_context(1);
    int port, srv = bound(SOCK_STREAM, &port);
    pid_t pid = peerof(argv[0], "tls_peer", "bulk", port, n, 1);
    int fd = accept(srv, NULL, NULL);
    if (fd < 0) die("accept");
    SSL *ssl = tls_open(ctx, fd, 1);
    static char buf[CHUNK];
    memset(buf, 'x', sizeof buf);
    double t0 = now();
    for (long i = 0; i < n; i++) tls_writeall(ssl, buf, CHUNK);
    for (long i = 0; i < n; i++)                      /* receive(65536): exactly 64 KiB */
        if (!tls_readall(ssl, buf, CHUNK)) { fprintf(stderr, "tls_bulk: early EOF\n"); return 2; }
    double t = now() - t0;
    tls_close(ssl);
    reap(pid);
    SSL_CTX_free(ctx);
    result("tls_bulk", 2.0 * (double) n * CHUNK, t);
    return 0;
}
