/* tls_handshake: N full TLS 1.3 handshakes (tls.h) on the server side:
 * accept, handshake, close_notify, close. The peer keeps 4 clients busy
 * so that the server never waits for one. */
#include "tls.h"
int main(int argc, char **argv) {
    (void) argc;
    signal(SIGPIPE, SIG_IGN);
    long n = scaled(2000);
    SSL_CTX *ctx = tls_context(1);
    int port, srv = bound(SOCK_STREAM, &port);
    pid_t pid = peerof(argv[0], "tls_peer", "handshake", port, n, 4);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int fd = accept(srv, NULL, NULL);
        if (fd < 0) die("accept");
        tls_close(tls_open(ctx, fd, 1));
    }
    double t = now() - t0;
    reap(pid);
    SSL_CTX_free(ctx);
    result("tls_handshake", (double) n, t);
    return 0;
}
