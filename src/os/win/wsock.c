/* Syscalls on sockets, Winsock twin of src/sock.c (same sock.h contract):
 * every socket is non-blocking (ioctlsocket FIONBIO) and not inherited;
 * results are IO_* codes or the errno constants wposix_errno maps Winsock's
 * codes to. Winsock never raises SIGPIPE, so nothing to suppress. */
#define WPOSIX_IMPL
#include "wposix.h"
#include <limits.h>
#include <string.h>
#include "../../io.h"
#include "../../sock.h"
#include "../../wait.h"

#define WSOCK(fd) ((SOCKET) (fd))

static int wsock_err(void) {
    return wposix_errno(WSAGetLastError());
}

/* Linux reports the outcome of a non-blocking connect to the next connect()
 * call: 0 once it has succeeded (EISCONN after that), or the pending error.
 * Winsock says WSAEISCONN every time and starts anew after a failure, so a
 * socket whose connect went on in the background is marked
 * WPOSIX_CONNECTING until a connect call has reported the outcome. */

int sock_setnonblocking(int fd) {
    u_long on = 1;
    return ioctlsocket(WSOCK(fd), FIONBIO, &on) == 0 ? IO_DONE : wsock_err();
}

const char *sock_adopt(int fd, int type, int family, const char *mismatch, int *got) {
    int t = 0;
    int tlen = sizeof t;
    if (wposix_init() != 0) return "winsock unavailable";
    if (getsockopt(WSOCK(fd), SOL_SOCKET, SO_TYPE, (char *) &t, &tlen) != 0)
        return wposix_strerror(wsock_err());
    int fam = wposix_family(fd);   /* getsockname fails on an unbound socket */
    if (t != type || !(fam == family || (family == AF_INET && fam == AF_INET6))) return mismatch;
    int err = sock_setnonblocking(fd);
    if (err != IO_DONE) return wposix_strerror(err);
    *got = fam;
    return NULL;
}

int sock_create(int *fd, int family, int type, int protocol) {
    *fd = wposix_socket(family, type, protocol);
    if (*fd < 0) return errno;
    int err = sock_setnonblocking(*fd);
    if (err != IO_DONE) sock_close(fd);
    return err;
}

void sock_close(int *fd) {
    if (*fd >= 0) {
        wposix_forget(*fd);
        closesocket(WSOCK(*fd));
    }
    *fd = -1;
}

int sock_bind(int fd, const struct sockaddr *addr, socklen_t len) {
    return bind(WSOCK(fd), addr, len) == 0 ? IO_DONE : wsock_err();
}

int sock_listen(int fd, int backlog) {
    return listen(WSOCK(fd), backlog) == 0 ? IO_DONE : wsock_err();
}

/* Windows has no SIOCOUTQ: SIO_TCP_INFO (Windows 10 1703+) reports bytes in
 * flight only, not those queued, so say "cannot be asked". */
long sock_outq(int fd) {
    (void) fd;
    return -1;
}

int sock_shutdown(int fd, int how) {
    return shutdown(WSOCK(fd), how) == 0 ? IO_DONE : wsock_err();
}

int sock_connect(int fd, const struct sockaddr *addr, socklen_t len, call *c, int again) {
    if (fd < 0) return IO_CLOSED;
    int e = 0, elen = sizeof e;
    int pending = wposix_mark(fd, WPOSIX_CONNECTING, 0);
    /* An earlier call left this connect running: its error, if any, is the
     * answer (Linux's next connect says the same). */
    if (pending && getsockopt(WSOCK(fd), SOL_SOCKET, SO_ERROR, (char *) &e, &elen) == 0 && e != 0)
        return wposix_errno(e);
    int err = connect(WSOCK(fd), addr, len) == 0 ? IO_DONE : wsock_err();
    if (err == IO_DONE) return IO_DONE;
    if ((again || pending) && err == EISCONN) return IO_DONE;   /* it completed meanwhile */
    /* Winsock says "would block" where POSIX says EINPROGRESS, and
     * WSAEALREADY or WSAEINVAL for a call while one is under way: that is
     * EALREADY, unless this call restarts after a yield and waits on. */
    if ((again || pending) && (err == EALREADY || err == EINVAL)) {
        if (!again) {
            wposix_mark(fd, WPOSIX_CONNECTING, 1);
            return EALREADY;
        }
    } else if (err != EWOULDBLOCK) {
        return err;
    }
    wposix_mark(fd, WPOSIX_CONNECTING, 1);
    if (call_iszero(c)) return IO_TIMEOUT;
    err = wait_fd(fd, WAIT_W, c);
    if (err != IO_DONE) return err;
    wposix_mark(fd, WPOSIX_CONNECTING, 0);
    if (getsockopt(WSOCK(fd), SOL_SOCKET, SO_ERROR, (char *) &e, &elen) != 0) return wsock_err();
    return e == 0 ? IO_DONE : wposix_errno(e);
}

int sock_accept(int fd, int *client, call *c) {
    if (fd < 0) return IO_CLOSED;
    for (;;) {
        SOCKET s = accept(WSOCK(fd), NULL, NULL);
        if (s != INVALID_SOCKET) {
            if (s > (SOCKET) INT_MAX) { closesocket(s); return EMFILE; }
            *client = (int) s;
            /* An accepted socket inherits the listener's non-blocking mode
             * on Windows; set it anyway for adopted listeners. */
            sock_setnonblocking(*client);
            return IO_DONE;
        }
        int err = wsock_err();
        if (err == EINTR || err == ECONNABORTED || err == ECONNRESET) continue;   /* a client gave up */
        if (err != EWOULDBLOCK) return err;
        if ((err = wait_fd(fd, WAIT_R, c)) != IO_DONE) return err;
    }
}

/* Winsock counts in int: larger requests go out (or come in) in parts, as
 * a short count the caller already handles. */
static int wsock_len(size_t n) {
    return n > INT_MAX ? INT_MAX : (int) n;
}

int sock_send(void *ctx, const char *data, size_t n, size_t *sent) {
    int fd = *(int *) ctx;
    *sent = 0;
    if (fd < 0) return IO_CLOSED;
    int r = send(WSOCK(fd), data, wsock_len(n), 0);
    if (r >= 0) { *sent = (size_t) r; return IO_DONE; }
    int err = wsock_err();
    if (err == EWOULDBLOCK) return IO_WANTWRITE;
    if (err == EPIPE || err == ECONNRESET || err == ECONNABORTED || err == ENETRESET) return IO_CLOSED;
    return err;
}

int sock_read(int fd, char *data, size_t n, size_t *got) {
    *got = 0;
    if (fd < 0) return IO_CLOSED;
    int r = recv(WSOCK(fd), data, wsock_len(n), 0);
    if (r >= 0) { *got = (size_t) r; return IO_DONE; }
    int err = wsock_err();
    return err == EWOULDBLOCK ? IO_WANTREAD : err;
}

int sock_recv(void *ctx, char *data, size_t n, size_t *got) {
    int err = sock_read(*(int *) ctx, data, n, got);
    if (err == IO_DONE && *got == 0) return IO_CLOSED;
    if (err == ECONNRESET || err == ECONNABORTED || err == ENETRESET) return IO_CLOSED;
    return err;
}

/* Whether a datagram socket has a peer. */
static int wsock_connected(int fd) {
    struct sockaddr_storage ss;
    int len = sizeof ss;
    return getpeername(WSOCK(fd), (struct sockaddr *) &ss, &len) == 0;
}

int sock_sendto(int fd, const char *data, size_t n, const struct sockaddr *addr,
                socklen_t len, size_t *sent) {
    *sent = 0;
    if (fd < 0) return IO_CLOSED;
    for (int tries = 0;; tries++) {
        int r = sendto(WSOCK(fd), data, wsock_len(n), 0, addr, addr ? len : 0);
        if (r >= 0) { *sent = (size_t) r; return IO_DONE; }
        int err = wsock_err();
        if (err == EWOULDBLOCK) return IO_WANTWRITE;
        if (err == ECONNRESET) {   /* an earlier ICMP port unreachable: as in recvfrom */
            if (wsock_connected(fd)) return ECONNREFUSED;
            if (tries == 0) continue;   /* that one is consumed: send again, once */
        }
        return err;
    }
}

int sock_recvfrom(int fd, char *data, size_t n, struct sockaddr *addr, socklen_t *len,
                  size_t *got) {
    *got = 0;
    if (fd < 0) return IO_CLOSED;
    for (;;) {
        int r = recvfrom(WSOCK(fd), data, wsock_len(n), 0, addr, len);
        if (r >= 0) { *got = (size_t) r; return IO_DONE; }
        int err = wsock_err();
        if (err == EWOULDBLOCK) return IO_WANTREAD;
        /* A datagram larger than the buffer: Linux truncates silently and
         * returns what fits; Winsock fills the buffer and says EMSGSIZE. */
        if (err == EMSGSIZE) { *got = n; return IO_DONE; }
        if (err == ECONNRESET) {
            /* Winsock reports an ICMP port unreachable as WSAECONNRESET,
             * connected or not; Linux says ECONNREFUSED on a connected
             * socket only, and nothing on an unconnected one. */
            if (wsock_connected(fd)) return ECONNREFUSED;
            continue;
        }
        return err;
    }
}

/* Winsock dissolves the association on a connect to the all-zero address
 * of the socket's own family (AF_UNSPEC is refused). */
int sock_disconnect(int fd) {
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    int fam = wposix_family(fd);
    ss.ss_family = (ADDRESS_FAMILY) fam;
    int len = fam == AF_INET6 ? (int) sizeof(struct sockaddr_in6) : (int) sizeof(struct sockaddr_in);
    return connect(WSOCK(fd), (struct sockaddr *) &ss, len) == 0 ? IO_DONE : wsock_err();
}
