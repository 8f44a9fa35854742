/* accept: the peer connects N times; each is accepted and closed. */
#include "common.h"
int main(int argc, char **argv) {
    (void) argc;
    long n = scaled(20000);
    int port, srv = bound(SOCK_STREAM, &port);
    pid_t pid = peer4(argv[0], "accept", port, n, 1);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        int fd = accept(srv, NULL, NULL);
        if (fd < 0) die("accept");
        close(fd);
    }
    double t = now() - t0;
    reap(pid);
    result("accept", (double) n, t);
    return 0;
}
