/* Syscalls on sockets. Every fd is non-blocking and close-on-exec; EINTR is
 * retried here; results are IO_* codes or errno values. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif
#include "io.h"
#include "sock.h"
#include "wait.h"

#ifdef MSG_NOSIGNAL
#define SOCK_SENDFLAGS MSG_NOSIGNAL
#else
#define SOCK_SENDFLAGS 0
#endif

int sock_setnonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return errno;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return IO_DONE;
}

const char *sock_adopt(int fd, int type, int family, const char *mismatch, int *got) {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int t = 0;
    socklen_t tlen = sizeof t;
    if (getsockname(fd, (struct sockaddr *) &ss, &len) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &t, &tlen) != 0)
        return strerror(errno);
    int fam = ss.ss_family;
    if (t != type || !(fam == family || (family == AF_INET && fam == AF_INET6))) return mismatch;
    int err = sock_setnonblocking(fd);
    if (err != IO_DONE) return strerror(err);
    *got = fam;
    return NULL;
}

int sock_create(int *fd, int family, int type, int protocol) {
#ifdef SOCK_NONBLOCK
    *fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (*fd < 0) return errno;
#else
    *fd = socket(family, type, protocol);
    if (*fd < 0) return errno;
    sock_setnonblocking(*fd);
#endif
#ifdef SO_NOSIGPIPE
    int one = 1;
    setsockopt(*fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    return IO_DONE;
}

void sock_close(int *fd) {
    if (*fd >= 0) close(*fd);   /* EINTR: the fd is gone anyway on Linux */
    *fd = -1;
}

int sock_bind(int fd, const struct sockaddr *addr, socklen_t len) {
    return bind(fd, addr, len) == 0 ? IO_DONE : errno;
}

int sock_listen(int fd, int backlog) {
    return listen(fd, backlog) == 0 ? IO_DONE : errno;
}

long sock_outq(int fd) {
#ifdef SIOCOUTQ
    int n = 0;
    if (ioctl(fd, SIOCOUTQ, &n) == 0) return n;
#else
    (void) fd;
#endif
    return -1;
}

int sock_shutdown(int fd, int how) {
    return shutdown(fd, how) == 0 ? IO_DONE : errno;
}

int sock_connect(int fd, const struct sockaddr *addr, socklen_t len, call *c, int again) {
    int err;
    double nap = 0.001;
    if (fd < 0) return IO_CLOSED;
    for (;;) {
        if (connect(fd, addr, len) == 0) return IO_DONE;
        err = errno;
        /* An interrupted connect goes on in the background (POSIX): calling
         * it again would say EALREADY. Wait for it like EINPROGRESS. */
        if (err == EINTR) err = EINPROGRESS;
        if (err != EAGAIN) break;
        /* A unix listener's backlog is full: nothing is in progress and no
         * event will say when to retry, so back off within the deadline. */
        if ((err = wait_backoff(c, &nap)) != IO_DONE) return err;
    }
    if (again && err == EISCONN) return IO_DONE;      /* it completed while we waited */
    if (err != EINPROGRESS && !(again && err == EALREADY)) return err;
    if (call_iszero(c)) return IO_TIMEOUT;
    err = wait_fd(fd, WAIT_W, c);
    if (err != IO_DONE) return err;
    socklen_t elen = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return errno;
    return err;
}

int sock_accept(int fd, int *client, call *c) {
    if (fd < 0) return IO_CLOSED;
    for (;;) {
#ifdef SOCK_NONBLOCK
        *client = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
        *client = accept(fd, NULL, NULL);
        if (*client >= 0) sock_setnonblocking(*client);
#endif
        if (*client >= 0) return IO_DONE;
        int err = errno;
        if (err == EINTR || err == ECONNABORTED) continue;   /* a client gave up: take the next */
        if (err != EAGAIN && err != EWOULDBLOCK) return err;
        if ((err = wait_fd(fd, WAIT_R, c)) != IO_DONE) return err;
    }
}

int sock_send(void *ctx, const char *data, size_t n, size_t *sent) {
    int fd = *(int *) ctx;
    *sent = 0;
    if (fd < 0) return IO_CLOSED;
    for (;;) {
        ssize_t r = send(fd, data, n, SOCK_SENDFLAGS);
        if (r >= 0) { *sent = (size_t) r; return IO_DONE; }
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) return IO_WANTWRITE;
        if (err == EPIPE || err == ECONNRESET || err == ECONNABORTED) return IO_CLOSED;
        return err;
    }
}

int sock_read(int fd, char *data, size_t n, size_t *got) {
    *got = 0;
    if (fd < 0) return IO_CLOSED;
    for (;;) {
        ssize_t r = recv(fd, data, n, 0);
        if (r >= 0) { *got = (size_t) r; return IO_DONE; }
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) return IO_WANTREAD;
        return err;
    }
}

int sock_recv(void *ctx, char *data, size_t n, size_t *got) {
    int err = sock_read(*(int *) ctx, data, n, got);
    if (err == IO_DONE && *got == 0) return IO_CLOSED;
    if (err == ECONNRESET || err == ECONNABORTED) return IO_CLOSED;
    return err;
}

int sock_sendto(int fd, const char *data, size_t n, const struct sockaddr *addr,
                socklen_t len, size_t *sent) {
    *sent = 0;
    if (fd < 0) return IO_CLOSED;
    for (;;) {
        ssize_t r = sendto(fd, data, n, SOCK_SENDFLAGS, addr, len);
        if (r >= 0) { *sent = (size_t) r; return IO_DONE; }
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) return IO_WANTWRITE;
        return err;
    }
}

int sock_recvfrom(int fd, char *data, size_t n, struct sockaddr *addr, socklen_t *len,
                  size_t *got) {
    *got = 0;
    if (fd < 0) return IO_CLOSED;
    for (;;) {
        ssize_t r = recvfrom(fd, data, n, 0, addr, len);
        if (r >= 0) { *got = (size_t) r; return IO_DONE; }
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) return IO_WANTREAD;
        return err;
    }
}

int sock_disconnect(int fd) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNSPEC;
    /* Linux answers 0; macOS and the BSDs disconnect but report
     * EAFNOSUPPORT, so callers ignore the result (as 3.x does). */
    return connect(fd, (struct sockaddr *) &ss, sizeof ss) == 0 ? IO_DONE : errno;
}
