/* bulk: N sends of 64 KiB to the peer, then N reads of 64 KiB back. */
#include "common.h"
#define CHUNK 65536
int main(int argc, char **argv) {
    (void) argc;
    signal(SIGPIPE, SIG_IGN);
    long n = scaled(16384);
    int port, srv = bound(SOCK_STREAM, &port);
    pid_t pid = peer4(argv[0], "bulk", port, n, 1);
    int fd = accept(srv, NULL, NULL);
    if (fd < 0) die("accept");
    static char buf[CHUNK];
    memset(buf, 'x', sizeof buf);
    double t0 = now();
    for (long i = 0; i < n; i++) writeall(fd, buf, CHUNK);
    for (long i = 0; i < n; i++)                      /* receive(65536): exactly 64 KiB */
        if (!readall(fd, buf, CHUNK)) { fprintf(stderr, "bulk: early EOF\n"); return 2; }
    double t = now() - t0;
    close(fd);
    reap(pid);
    result("bulk", 2.0 * (double) n * CHUNK, t);
    return 0;
}
