/* pingpong: N round trips of 64 bytes on one connection (TCP_NODELAY). */
#include "common.h"
int main(int argc, char **argv) {
    (void) argc;
    long n = scaled(100000);
    int port, srv = bound(SOCK_STREAM, &port);
    pid_t pid = peer4(argv[0], "echo", port, 64, 1);
    int fd = accept(srv, NULL, NULL);
    if (fd < 0) die("accept");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    char msg[64], back[64];
    memset(msg, 'p', sizeof msg);
    double t0 = now();
    for (long i = 0; i < n; i++) {
        writeall(fd, msg, sizeof msg);
        if (!readall(fd, back, sizeof back)) { fprintf(stderr, "pingpong: EOF\n"); return 2; }
    }
    double t = now() - t0;
    close(fd);
    reap(pid);
    result("pingpong", (double) n, t);
    return 0;
}
