/* lines: N lines of 40 bytes, read through a buffer and split with memchr
 * (what receive("*l") must do, minus making a Lua string per line). */
#include "common.h"
int main(int argc, char **argv) {
    (void) argc;
    long n = scaled(3000000);
    int port, srv = bound(SOCK_STREAM, &port);
    pid_t pid = peer4(argv[0], "lines", port, n, 1);
    int fd = accept(srv, NULL, NULL);
    if (fd < 0) die("accept");
    static char buf[65536], line[1024];
    size_t first = 0, last = 0, total = 0;
    long got = 0;
    double t0 = now();
    while (got < n) {
        char *nl = memchr(buf + first, '\n', last - first);
        if (nl != NULL) {
            size_t len = (size_t) (nl - (buf + first));
            memcpy(line, buf + first, len < sizeof line ? len : sizeof line);   /* the line, out */
            total += len;
            first += len + 1;
            got++;
            continue;
        }
        memmove(buf, buf + first, last - first);
        last -= first;
        first = 0;
        ssize_t r = read(fd, buf + last, sizeof buf - last);
        if (r <= 0) { if (r < 0 && errno == EINTR) continue; fprintf(stderr, "lines: short\n"); return 2; }
        last += (size_t) r;
    }
    double t = now() - t0;
    if (total != (size_t) n * 39) { fprintf(stderr, "lines: bad total\n"); return 2; }
    close(fd);
    reap(pid);
    result("lines", (double) n, t);
    return 0;
}
