/* Shared by the C limit programs and the peer: plain POSIX sockets over
 * loopback, blocking, with generous timeouts so that nothing hangs. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LIMIT_SECONDS 60            /* any single blocking call */

static inline double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec * 1e-9;
}

static inline void die(const char *what) {
    fprintf(stderr, "bench: %s: %s\n", what, strerror(errno));
    exit(2);
}

static inline void limits(int fd) {
    struct timeval tv = {LIMIT_SECONDS, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static inline struct sockaddr_in loopback(int port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short) port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* Socket of `type` bound to 127.0.0.1:0 (listening for TCP); *port gets the port. */
static inline int bound(int type, int *port) {
    int fd = socket(AF_INET, type, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = loopback(0);
    if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0) die("bind");
    if (type == SOCK_STREAM && listen(fd, 128) < 0) die("listen");
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *) &a, &len);
    *port = ntohs(a.sin_port);
    limits(fd);
    return fd;
}

static inline int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in a = loopback(port);
    if (connect(fd, (struct sockaddr *) &a, sizeof a) < 0) die("connect");
    limits(fd);
    return fd;
}

static inline void writeall(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EINTR) continue; die("write"); }
        p += w; n -= (size_t) w;
    }
}

/* Reads exactly n bytes (0 on EOF first). */
static inline int readall(int fd, char *p, size_t n) {
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r == 0) return 0;
        if (r < 0) { if (errno == EINTR) continue; die("read"); }
        p += r; n -= (size_t) r;
    }
    return 1;
}

/* Starts the peer program (same as the Lua scripts use) with its arguments. */
static inline pid_t spawn_peer(char *const argv[]) {
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static inline void reap(pid_t pid) {
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench: peer failed\n");
        exit(2);
    }
}

/* The peers live next to the C programs. */
static inline const char *bin_path(const char *argv0, const char *prog) {
    static char buf[4096];
    const char *env = getenv("BENCH_BIN");
    if (env) { snprintf(buf, sizeof buf, "%s/%s", env, prog); return buf; }
    const char *slash = strrchr(argv0, '/');
    snprintf(buf, sizeof buf, "%.*s%s", slash ? (int) (slash - argv0 + 1) : 0, argv0, prog);
    return buf;
}


static inline void result(const char *name, double units, double secs) {
    printf("RESULT %s %.0f %.6f\n", name, units, secs);
}


/* Sizes are fixed in the programs; BENCH_SCALE (quick mode) shrinks them. */
static inline long scaled(double base) {
    const char *s = getenv("BENCH_SCALE");
    double k = s ? atof(s) : 1.0;
    if (!(k > 0)) k = 1.0;
    long n = (long) (base * k);
    return n < 1 ? 1 : n;
}

/* Starts peer program `prog` (bench/c/peer.c or tls_peer.c): MODE PORT A B. */
static inline pid_t peerof(const char *argv0, const char *prog, const char *mode, int port,
                           long a, long b) {
    static char sport[32], sa[32], sb[32];
    snprintf(sport, sizeof sport, "%d", port);
    snprintf(sa, sizeof sa, "%ld", a);
    snprintf(sb, sizeof sb, "%ld", b);
    char *argv[] = {(char *) bin_path(argv0, prog), (char *) mode, sport, sa, sb, NULL};
    return spawn_peer(argv);
}

static inline pid_t peer4(const char *argv0, const char *mode, int port, long a, long b) {
    return peerof(argv0, "peer", mode, port, a, b);
}
#endif
