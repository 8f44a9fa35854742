/* all: K connections of SIZE bytes each, every one read to EOF into one
 * growing block (what receive("*a") must do). */
#include "common.h"
int main(int argc, char **argv) {
    (void) argc;
    long size = 256L << 20, k = scaled(4);
    int port, srv = bound(SOCK_STREAM, &port);
    pid_t pid = peer4(argv[0], "all", port, size, k);
    double t0 = now();
    for (long c = 0; c < k; c++) {
        int fd = accept(srv, NULL, NULL);
        if (fd < 0) die("accept");
        size_t cap = 8192, len = 0;
        char *data = malloc(cap);
        for (;;) {
            if (cap - len < 65536) { cap *= 2; data = realloc(data, cap); if (!data) die("realloc"); }
            ssize_t r = read(fd, data + len, cap - len);
            if (r == 0) break;
            if (r < 0) { if (errno == EINTR) continue; die("read"); }
            len += (size_t) r;
        }
        if (len != (size_t) size) { fprintf(stderr, "all: short\n"); return 2; }
        free(data);
        close(fd);
    }
    double t = now() - t0;
    reap(pid);
    result("all", (double) size * (double) k, t);
    return 0;
}
