/* The other end of every workload, shared by the Lua scripts and the C
 * programs so that all of them face the same peer:
 *   peer bulk    PORT N      read N*65536 bytes, then write N*65536 in 64 KiB writes
 *   peer lines   PORT N      write N lines of 40 bytes (39 + "\n")
 *   peer all     PORT SIZE K K times: connect, write SIZE bytes, close
 *   peer echo    PORT SIZE   echo SIZE-byte messages until EOF
 *   peer accept  PORT N      N times: connect, wait for the server's close, close
 *   peer udpecho PORT N      say hello to 127.0.0.1:PORT, then echo N datagrams
 * Every loop is bounded; every blocking call times out (common.h). */
#include "common.h"

#define CHUNK 65536

static void bulk(int port, long n) {
    static char buf[CHUNK];
    int fd = connect_to(port);
    long long left = (long long) n * CHUNK;
    while (left > 0) {
        ssize_t r = read(fd, buf, left < CHUNK ? (size_t) left : CHUNK);
        if (r <= 0) { if (r < 0 && errno == EINTR) continue; die("bulk read"); }
        left -= r;
    }
    memset(buf, 'x', sizeof buf);
    for (long i = 0; i < n; i++) writeall(fd, buf, CHUNK);
    close(fd);
}

static void lines(int port, long n) {
    enum { LINE = 40, PER = 1638 };            /* 1638 lines = 65520 bytes a write */
    static char block[LINE * PER];
    for (int i = 0; i < PER; i++) {
        memset(block + i * LINE, 'a' + i % 26, LINE - 1);
        block[i * LINE + LINE - 1] = '\n';
    }
    int fd = connect_to(port);
    while (n > 0) {
        long k = n < PER ? n : PER;
        writeall(fd, block, (size_t) k * LINE);
        n -= k;
    }
    close(fd);
}

static void all(int port, long size, long k) {
    static char buf[4 * CHUNK];
    memset(buf, 'y', sizeof buf);
    for (long c = 0; c < k; c++) {
        int fd = connect_to(port);
        long left = size;
        while (left > 0) {
            size_t w = left < (long) sizeof buf ? (size_t) left : sizeof buf;
            writeall(fd, buf, w);
            left -= (long) w;
        }
        close(fd);
    }
}

static void echo(int port, long size) {
    char buf[65536];
    if (size <= 0 || size > (long) sizeof buf) size = 64;
    int fd = connect_to(port);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (readall(fd, buf, (size_t) size)) writeall(fd, buf, (size_t) size);
    close(fd);
}

static void accepting(int port, long n) {
    char c;
    for (long i = 0; i < n; i++) {
        int fd = connect_to(port);
        while (read(fd, &c, 1) > 0) {}        /* the server closes first */
        close(fd);
    }
}

static void udpecho(int port, long n) {
    int myport;
    int fd = bound(SOCK_DGRAM, &myport);
    struct sockaddr_in to = loopback(port);
    char buf[65536];
    if (sendto(fd, "hello", 5, 0, (struct sockaddr *) &to, sizeof to) < 0) die("sendto");
    for (long i = 0; i < n; i++) {
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t r = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &len);
        if (r < 0) { if (errno == EINTR) { i--; continue; } die("udp recvfrom"); }
        if (sendto(fd, buf, (size_t) r, 0, (struct sockaddr *) &from, len) < 0) die("udp sendto");
    }
    close(fd);
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc < 4) {
        fprintf(stderr, "usage: peer MODE PORT ARG [ARG]\n");
        return 2;
    }
    const char *mode = argv[1];
    int port = atoi(argv[2]);
    long a = atol(argv[3]), b = argc > 4 ? atol(argv[4]) : 1;
    if (!strcmp(mode, "bulk")) bulk(port, a);
    else if (!strcmp(mode, "lines")) lines(port, a);
    else if (!strcmp(mode, "all")) all(port, a, b);
    else if (!strcmp(mode, "echo")) echo(port, a);
    else if (!strcmp(mode, "accept")) accepting(port, a);
    else if (!strcmp(mode, "udpecho")) udpecho(port, a);
    else { fprintf(stderr, "peer: unknown mode %s\n", mode); return 2; }
    return 0;
}
