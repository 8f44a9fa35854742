/* epoll_server: the C limit of the `concurrent` workloads. An echo server
 * over one level-triggered epoll set on 127.0.0.1: it prints its port,
 * accepts everything that arrives and echoes whatever each connection
 * sends, until bench/c/loadgen stops it (SIGTERM) or LIFETIME seconds
 * (default 900) have passed.
 *   epoll_server [LIFETIME]
 */
#include "common.h"
#include <fcntl.h>
#include <sys/epoll.h>

#define BACKLOG 4096

/* Echo what fd has to say; returns 0 when the connection is over. */
static int es_echo(int fd) {
    char buf[4096];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && errno == EAGAIN) return 1;
        if (r <= 0) return 0;
        for (ssize_t put = 0; put < r;) {             /* 64 bytes: never stuck in practice */
            ssize_t w = send(fd, buf + put, (size_t) (r - put), MSG_NOSIGNAL);
            if (w < 0 && errno == EAGAIN) {
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                if (poll(&p, 1, LIMIT_SECONDS * 1000) <= 0) return 0;
                continue;
            }
            if (w < 0 && errno != EINTR) return 0;
            if (w > 0) put += w;
        }
        if ((size_t) r < sizeof buf) return 1;      /* drained: back to epoll */
    }
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned) (argc > 1 ? atoi(argv[1]) : 900));
    int port, srv = bound(SOCK_STREAM, &port);
    if (listen(srv, BACKLOG) < 0) die("listen");
    fcntl(srv, F_SETFL, fcntl(srv, F_GETFL) | O_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = srv};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, srv, &ev) < 0) die("epoll_ctl");
    printf("%d\n", port);
    fflush(stdout);
    struct epoll_event evs[512];
    for (;;) {
        int k = epoll_wait(ep, evs, 512, -1);
        if (k < 0 && errno != EINTR) die("epoll_wait");
        for (int j = 0; j < k; j++) {
            int fd = evs[j].data.fd;
            if (fd != srv) {
                if (!es_echo(fd)) close(fd);        /* close() leaves the epoll set */
                continue;
            }
            for (int m = 0; m < 64; m++) {          /* a burst of new clients */
                struct sockaddr_in from;
                socklen_t len = sizeof from;
                int c = accept4(srv, (struct sockaddr *) &from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0) break;
                int one = 1;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce) < 0) close(c);
            }
        }
    }
}
