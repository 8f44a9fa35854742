/* The POSIX calls the engine makes, on Winsock and Win32 (wposix.h). */
#define WPOSIX_IMPL
#include "wposix.h"
#include <iphlpapi.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- start-up and errors */

static INIT_ONCE wposix_once = INIT_ONCE_STATIC_INIT;
static int wposix_starterr;

static BOOL CALLBACK wposix_start(PINIT_ONCE once, PVOID arg, PVOID *ctx) {
    (void) once; (void) arg; (void) ctx;
    WSADATA wsa;
    wposix_starterr = WSAStartup(MAKEWORD(2, 2), &wsa);
    return TRUE;
}

int wposix_init(void) {
    InitOnceExecuteOnce(&wposix_once, wposix_start, NULL, NULL);
    return wposix_starterr;
}

int wposix_errno(int e) {
    switch (e) {
        case WSAEINTR: return EINTR;
        case WSAEBADF: case WSAENOTSOCK: case ERROR_INVALID_HANDLE: return EBADF;
        case WSAEACCES: case ERROR_ACCESS_DENIED: return EACCES;
        case WSAEFAULT: return EFAULT;
        case WSAEINVAL: return EINVAL;
        case WSAEMFILE: return EMFILE;
        case WSAEWOULDBLOCK: return EWOULDBLOCK;
        case WSAEINPROGRESS: return EINPROGRESS;
        case WSAEALREADY: return EALREADY;
        case WSAEDESTADDRREQ: return EDESTADDRREQ;
        case WSAEMSGSIZE: return EMSGSIZE;
        case WSAEPROTOTYPE: return EPROTOTYPE;
        case WSAENOPROTOOPT: return ENOPROTOOPT;
        case WSAEPROTONOSUPPORT: case WSAESOCKTNOSUPPORT: return EPROTONOSUPPORT;
        case WSAEOPNOTSUPP: return EOPNOTSUPP;
        case WSAEPFNOSUPPORT: case WSAEAFNOSUPPORT: return EAFNOSUPPORT;
        case WSAEADDRINUSE: return EADDRINUSE;
        case WSAEADDRNOTAVAIL: return EADDRNOTAVAIL;
        case WSAENETDOWN: return ENETDOWN;
        case WSAENETUNREACH: return ENETUNREACH;
        case WSAENETRESET: return ENETRESET;
        case WSAECONNABORTED: return ECONNABORTED;
        case WSAECONNRESET: return ECONNRESET;
        case WSAENOBUFS: case ERROR_NOT_ENOUGH_MEMORY: return ENOBUFS;
        case WSAEISCONN: return EISCONN;
        case WSAENOTCONN: return ENOTCONN;
        case WSAESHUTDOWN: return EPIPE;   /* send after shutdown: Linux says EPIPE */
        case WSAETIMEDOUT: return ETIMEDOUT;
        case WSAECONNREFUSED: return ECONNREFUSED;
        case WSAELOOP: return ELOOP;
        case WSAENAMETOOLONG: return ENAMETOOLONG;
        case WSAEHOSTDOWN: case WSAEHOSTUNREACH: return EHOSTUNREACH;
        case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: return ENOENT;
        default: return e;
    }
}

int wposix_seterrno(void) {
    errno = wposix_errno(WSAGetLastError());
    return errno;
}

/* glibc's texts for the socket errors: msvcrt knows none of them. */
char *wposix_strerror(int err) {
    static const struct { int code; const char *text; } texts[] = {
        {EWOULDBLOCK, "Resource temporarily unavailable"},
        {EINPROGRESS, "Operation now in progress"},
        {EALREADY, "Operation already in progress"},
        {ENOTSOCK, "Socket operation on non-socket"},
        {EDESTADDRREQ, "Destination address required"},
        {EMSGSIZE, "Message too long"},
        {EPROTOTYPE, "Protocol wrong type for socket"},
        {ENOPROTOOPT, "Protocol not available"},
        {EPROTONOSUPPORT, "Protocol not supported"},
        {EOPNOTSUPP, "Operation not supported"},
        {EAFNOSUPPORT, "Address family not supported by protocol"},
        {EADDRINUSE, "Address already in use"},
        {EADDRNOTAVAIL, "Cannot assign requested address"},
        {ENETDOWN, "Network is down"},
        {ENETUNREACH, "Network is unreachable"},
        {ENETRESET, "Network dropped connection on reset"},
        {ECONNABORTED, "Software caused connection abort"},
        {ECONNRESET, "Connection reset by peer"},
        {ENOBUFS, "No buffer space available"},
        {EISCONN, "Transport endpoint is already connected"},
        {ENOTCONN, "Transport endpoint is not connected"},
        {ETIMEDOUT, "Connection timed out"},
        {ECONNREFUSED, "Connection refused"},
        {EHOSTUNREACH, "No route to host"},
        {ELOOP, "Too many levels of symbolic links"},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (texts[i].code == err) return (char *) texts[i].text;
    if (err > 10000) {   /* a Winsock code with no POSIX twin */
        static __thread char buf[128];
        if (FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                           (DWORD) err, 0, buf, sizeof buf, NULL) == 0)
            snprintf(buf, sizeof buf, "Winsock error %d", err);
        size_t n = strlen(buf);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == '.')) buf[--n] = 0;
        return buf;
    }
    return strerror(err);
}

/* ---- marks: a short list of (fd, bits), only sockets with a bit set */

typedef struct wposix_marks {
    int fd, bits;
} wposix_marks;
static SRWLOCK wposix_marklock = SRWLOCK_INIT;
static wposix_marks *wposix_marked;
static size_t wposix_nmarked, wposix_capmarked;

int wposix_mark(int fd, int bit, int on) {
    int was = 0;
    AcquireSRWLockExclusive(&wposix_marklock);
    size_t i = 0;
    while (i < wposix_nmarked && wposix_marked[i].fd != fd) i++;
    if (i < wposix_nmarked) {
        was = (wposix_marked[i].bits & bit) != 0;
        if (on > 0) wposix_marked[i].bits |= bit;
        if (on == 0 && (wposix_marked[i].bits &= ~bit) == 0)
            wposix_marked[i] = wposix_marked[--wposix_nmarked];
    } else if (on > 0) {
        if (wposix_nmarked == wposix_capmarked) {
            size_t cap = wposix_capmarked ? 2 * wposix_capmarked : 16;
            wposix_marks *p = realloc(wposix_marked, cap * sizeof *p);
            if (p != NULL) { wposix_marked = p; wposix_capmarked = cap; }
        }
        if (wposix_nmarked < wposix_capmarked) {   /* out of memory: the mark is lost */
            wposix_marked[wposix_nmarked].fd = fd;
            wposix_marked[wposix_nmarked++].bits = bit;
        }
    }
    ReleaseSRWLockExclusive(&wposix_marklock);
    return was;
}

void wposix_forget(int fd) {
    wposix_mark(fd, ~0, 0);
}

/* ---- sockets */

static int wposix_issocket(int fd) {
    int type;
    int len = sizeof type;
    return fd >= 0 && getsockopt((SOCKET) fd, SOL_SOCKET, SO_TYPE, (char *) &type, &len) == 0;
}

static int wposix_isstream(int fd) {
    int type = 0;
    int len = sizeof type;
    return getsockopt((SOCKET) fd, SOL_SOCKET, SO_TYPE, (char *) &type, &len) == 0 &&
           type == SOCK_STREAM;
}


int wposix_socket(int family, int type, int protocol) {
    int e = wposix_init();
    if (e != 0) { errno = wposix_errno(e); return -1; }
    /* Not inherited by child processes (close-on-exec's twin); Windows 7
     * before SP1 lacks the flag, so retry without it. */
    SOCKET s = WSASocketW(family, type, protocol, NULL, 0, WSA_FLAG_NO_HANDLE_INHERIT);
    if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL)
        s = WSASocketW(family, type, protocol, NULL, 0, 0);
    if (s == INVALID_SOCKET) { wposix_seterrno(); return -1; }
    if (s > (SOCKET) INT_MAX) { closesocket(s); errno = EMFILE; return -1; }
    return (int) s;
}

/* An IPv6 option on an IPv4 socket: Linux refuses it (ENOPROTOOPT);
 * Winsock (Wine at least) takes it and does nothing. */
static int wposix_v6on4(int fd, int level) {
    if (level != IPPROTO_IPV6 || wposix_family(fd) != AF_INET) return 0;
    errno = ENOPROTOOPT;
    return 1;
}

int wposix_getsockopt(int fd, int level, int name, void *val, socklen_t *len) {
    if (wposix_v6on4(fd, level)) return -1;
    if (getsockopt((SOCKET) fd, level, name, (char *) val, len) != 0) { wposix_seterrno(); return -1; }
    /* A pending error is a Winsock code: as an errno, like the others. */
    if (level == SOL_SOCKET && name == SO_ERROR && *len == (socklen_t) sizeof(int))
        *(int *) val = wposix_errno(*(int *) val);
    if (level == SOL_SOCKET && name == SO_REUSEADDR && *len == (socklen_t) sizeof(int) &&
        wposix_isstream(fd))
        *(int *) val = wposix_mark(fd, WPOSIX_REUSEADDR, -1);
    return 0;
}

/* SO_REUSEADDR on a Windows TCP socket lets a second socket bind a port
 * that another one is listening on (POSIX refuses that); what POSIX uses it
 * for, rebinding while old connections linger in TIME_WAIT, Windows allows
 * without it. So on a stream socket it is not applied: the socket keeps it
 * off (which also checks the descriptor) and the value asked for is
 * remembered, for getsockopt to report. On datagram sockets both systems
 * mean the same (several receivers on one port) and it is applied. */
int wposix_setsockopt(int fd, int level, int name, const void *val, socklen_t len) {
    if (wposix_v6on4(fd, level)) return -1;
    if (level == SOL_SOCKET && name == SO_REUSEADDR && len == (socklen_t) sizeof(int) &&
        wposix_isstream(fd)) {
        int off = 0;
        if (setsockopt((SOCKET) fd, level, name, (const char *) &off, sizeof off) != 0) {
            wposix_seterrno();
            return -1;
        }
        wposix_mark(fd, WPOSIX_REUSEADDR, *(const int *) val != 0);
        return 0;
    }
    if (setsockopt((SOCKET) fd, level, name, (const char *) val, len) != 0) { wposix_seterrno(); return -1; }
    return 0;
}

int wposix_family(int fd) {
    WSAPROTOCOL_INFOW info;
    int len = sizeof info;
    if (getsockopt((SOCKET) fd, SOL_SOCKET, SO_PROTOCOL_INFOW, (char *) &info, &len) != 0) return 0;
    return info.iAddressFamily;
}

/* An unbound socket has the wildcard address and port 0 on POSIX; Winsock
 * says WSAEINVAL. */
int wposix_getsockname(int fd, struct sockaddr *addr, socklen_t *len) {
    if (getsockname((SOCKET) fd, addr, len) == 0) return 0;
    int e = WSAGetLastError(), fam = e == WSAEINVAL ? wposix_family(fd) : 0;
    socklen_t need = fam == AF_INET ? (socklen_t) sizeof(struct sockaddr_in)
                   : fam == AF_INET6 ? (socklen_t) sizeof(struct sockaddr_in6) : 0;
    if (need == 0 || *len < need) { errno = wposix_errno(e); return -1; }
    memset(addr, 0, (size_t) need);
    addr->sa_family = (ADDRESS_FAMILY) fam;
    *len = need;
    return 0;
}

int wposix_getpeername(int fd, struct sockaddr *addr, socklen_t *len) {
    if (getpeername((SOCKET) fd, addr, len) != 0) { wposix_seterrno(); return -1; }
    return 0;
}

/* glibc's answers where Windows differs: "" is no host (Windows takes it
 * for this machine), and a literal of the other family is EAI_ADDRFAMILY. */
int wposix_getaddrinfo(const char *host, const char *serv, const struct addrinfo *hints,
                       struct addrinfo **res) {
    int e = wposix_init();
    if (e != 0) return e;
    if (host != NULL && host[0] == '\0') return EAI_NONAME;
    if (host != NULL && hints != NULL && hints->ai_family != AF_UNSPEC &&
        !(hints->ai_family == AF_INET6 && (hints->ai_flags & AI_V4MAPPED))) {
        unsigned char buf[16];
        int other = hints->ai_family == AF_INET6 ? AF_INET : AF_INET6;
        if (inet_pton(other, host, buf) == 1) return EAI_ADDRFAMILY;
    }
    return getaddrinfo(host, serv, hints, res);
}

int wposix_getnameinfo(const struct sockaddr *addr, socklen_t len, char *host, DWORD hostlen,
                       char *serv, DWORD servlen, int flags) {
    int e = wposix_init();
    return e != 0 ? e : getnameinfo(addr, len, host, hostlen, serv, servlen, flags);
}

int wposix_gethostname(char *name, size_t len) {
    int e = wposix_init();
    if (e != 0) { errno = wposix_errno(e); return -1; }
    if (gethostname(name, len > INT_MAX ? INT_MAX : (int) len) != 0) { wposix_seterrno(); return -1; }
    return 0;
}

int wposix_connect(int fd, const struct sockaddr *addr, socklen_t len) {
    if (connect((SOCKET) fd, addr, len) != 0) { wposix_seterrno(); return -1; }
    return 0;
}

/* dns.c's reason (aliases, 3.x fidelity) holds here too. */
struct hostent *wposix_gethostbyname(const char *name) {
    /* cppcheck-suppress gethostbynameCalled */
    return wposix_init() != 0 ? NULL : gethostbyname(name);
}

struct hostent *wposix_gethostbyaddr(const char *addr, int len, int type) {
    /* cppcheck-suppress gethostbyaddrCalled */
    return wposix_init() != 0 ? NULL : gethostbyaddr(addr, len, type);
}

int wposix_inet_aton(const char *text, struct in_addr *a) {
    unsigned long parts[4];
    int n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9') return 0;
        parts[n++] = strtoul(p, &end, 0);
        if (*end == 0) break;
        if (*end != '.' || n == 4) return 0;
        p = end + 1;
    }
    /* The last part fills the bytes that are left. */
    unsigned long v = 0, max = n == 1 ? 0xffffffffUL : n == 2 ? 0xffffffUL : n == 3 ? 0xffffUL : 0xffUL;
    for (int i = 0; i < n - 1; i++) {
        if (parts[i] > 0xff) return 0;
        v |= parts[i] << (24 - 8 * i);
    }
    if (parts[n - 1] > max) return 0;
    a->s_addr = htonl((u_long) (v | parts[n - 1]));
    return 1;
}

const char *wposix_hstrerror(int err) {
    switch (err) {
        case WSAHOST_NOT_FOUND: return "Unknown host";
        case WSATRY_AGAIN: return "Host name lookup failure";
        case WSANO_RECOVERY: return "Unknown server error";
        case WSANO_DATA: return "No address associated with name";
        default: return wposix_strerror(wposix_errno(err));
    }
}

const char *wposix_gaistrerror(int err) {
    switch (err) {
        case EAI_AGAIN: return "Temporary failure in name resolution";
        case EAI_BADFLAGS: return "Bad value for ai_flags";
        case EAI_FAIL: return "Non-recoverable failure in name resolution";
        case EAI_FAMILY: return "ai_family not supported";
        case EAI_MEMORY: return "Memory allocation failure";
        case EAI_NONAME: return "Name or service not known";
        case WSANO_DATA: return "No address associated with hostname";
        case EAI_SERVICE: return "Servname not supported for ai_socktype";
        case EAI_SOCKTYPE: return "ai_socktype not supported";
        case EAI_ADDRFAMILY: return "Address family for hostname not supported";
        case EAI_SYSTEM: return "System error";
        default: return wposix_strerror(wposix_errno(err));
    }
}

int wposix_sigfillset(sigset_t *set) {
    *set = (sigset_t) ~(sigset_t) 0;
    return 0;
}

int wposix_sigmask(int how, const sigset_t *set, sigset_t *old) {
    (void) how; (void) set;
    if (old) *old = 0;
    return 0;
}

/* ---- poll */

/* Copies the entries with fd >= 0 (poll() ignores the others) into w, with
 * their places in idx; entries that are no socket get POLLNVAL instead when
 * `check` is set. How many were copied; *bad counts the POLLNVAL ones. */
static nfds_t wposix_pollcopy(struct wposix_pollfd *fds, nfds_t n, WSAPOLLFD *w, nfds_t *idx,
                              int check, int *bad) {
    nfds_t k = 0;
    *bad = 0;
    for (nfds_t i = 0; i < n; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0) continue;
        if (check && !wposix_issocket(fds[i].fd)) {
            fds[i].revents = POLLNVAL;
            (*bad)++;
            continue;
        }
        w[k].fd = (SOCKET) fds[i].fd;
        w[k].events = fds[i].events;
        w[k].revents = 0;
        idx[k++] = i;
    }
    return k;
}

int wposix_poll(struct wposix_pollfd *fds, nfds_t n, int ms) {
    WSAPOLLFD small[16], *w = small;
    nfds_t smallidx[16], *idx = smallidx;
    if (n > 16) {
        w = malloc(n * sizeof *w);
        idx = malloc(n * sizeof *idx);
        if (w == NULL || idx == NULL) { free(w); free(idx); errno = ENOMEM; return -1; }
    }
    int bad = 0, r;
    nfds_t k = wposix_pollcopy(fds, n, w, idx, 0, &bad);
    r = k == 0 ? 0 : WSAPoll(w, (ULONG) k, ms);
    /* WSAPoll fails the whole call when one entry is not an open socket;
     * poll() marks that entry POLLNVAL and returns at once. */
    if (r == SOCKET_ERROR && WSAGetLastError() == WSAENOTSOCK) {
        k = wposix_pollcopy(fds, n, w, idx, 1, &bad);
        r = k == 0 ? 0 : WSAPoll(w, (ULONG) k, 0);
    } else if (k == 0) {
        Sleep(ms < 0 ? INFINITE : (DWORD) ms);   /* WSAPoll refuses an empty set */
    }
    if (r == SOCKET_ERROR) {
        wposix_seterrno();
    } else {
        for (nfds_t i = 0; i < k; i++) fds[idx[i]].revents = w[i].revents;
        r += bad;
    }
    if (w != small) { free(w); free(idx); }
    return r == SOCKET_ERROR ? -1 : r;
}

int wposix_ppoll(struct wposix_pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask) {
    (void) mask;
    if (ts == NULL) return wposix_poll(fds, n, -1);
    double ms = ceil((double) ts->tv_sec * 1000 + (double) ts->tv_nsec / 1e6);
    return wposix_poll(fds, n, ms >= (double) INT_MAX ? INT_MAX : (int) ms);
}

/* ---- descriptors */

int wposix_close(int fd) {
    if (wposix_issocket(fd)) {
        wposix_forget(fd);
        if (closesocket((SOCKET) fd) != 0) { wposix_seterrno(); return -1; }
        return 0;
    }
    return _close(fd);
}

int wposix_read(int fd, void *buf, size_t n) {
    if (!wposix_issocket(fd)) return _read(fd, buf, n > INT_MAX ? INT_MAX : (unsigned) n);
    int r = recv((SOCKET) fd, buf, n > INT_MAX ? INT_MAX : (int) n, 0);
    if (r == SOCKET_ERROR) { wposix_seterrno(); return -1; }
    return r;
}

int wposix_write(int fd, const void *buf, size_t n) {
    if (!wposix_issocket(fd)) return _write(fd, buf, n > INT_MAX ? INT_MAX : (unsigned) n);
    int r = send((SOCKET) fd, buf, n > INT_MAX ? INT_MAX : (int) n, 0);
    if (r == SOCKET_ERROR) { wposix_seterrno(); return -1; }
    return r;
}

/* A connected pair over 127.0.0.1: a listener on an ephemeral port takes
 * exactly one connection, then goes away. The accepted end is checked to
 * be our own connecting socket (its peer is our local address), so another
 * local process racing for the port cannot slip in. */
int wposix_pipe(int fds[2]) {
    struct sockaddr_in a, b, peer;
    int alen = sizeof a, blen = sizeof b, plen = sizeof peer;
    int l = wposix_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), c = -1, s = -1;
    if (l < 0) return -1;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind((SOCKET) l, (struct sockaddr *) &a, sizeof a) != 0 ||
        getsockname((SOCKET) l, (struct sockaddr *) &a, &alen) != 0 ||
        listen((SOCKET) l, 1) != 0)
        goto fail;
    if ((c = wposix_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)) < 0) goto fail;
    if (connect((SOCKET) c, (struct sockaddr *) &a, sizeof a) != 0) goto fail;
    SOCKET as = accept((SOCKET) l, (struct sockaddr *) &peer, &plen);
    if (as == INVALID_SOCKET) goto fail;
    s = (int) as;
    if (getsockname((SOCKET) c, (struct sockaddr *) &b, &blen) != 0 ||
        peer.sin_port != b.sin_port || peer.sin_addr.s_addr != b.sin_addr.s_addr) {
        WSASetLastError(WSAECONNABORTED);
        goto fail;
    }
    closesocket((SOCKET) l);
    int one = 1;
    setsockopt((SOCKET) c, IPPROTO_TCP, TCP_NODELAY, (const char *) &one, sizeof one);
    fds[0] = s;   /* read end */
    fds[1] = c;   /* write end */
    return 0;
fail:
    wposix_seterrno();
    int e = errno;
    closesocket((SOCKET) l);
    if (c >= 0) closesocket((SOCKET) c);
    if (s >= 0) closesocket((SOCKET) s);
    errno = e;
    return -1;
}

int wposix_writev(int fd, const struct iovec *iov, int n) {
    WSABUF bufs[64];
    if (n <= 0 || n > 64) { errno = EINVAL; return -1; }
    for (int i = 0; i < n; i++) {
        bufs[i].buf = (char *) iov[i].iov_base;
        bufs[i].len = iov[i].iov_len > ULONG_MAX ? ULONG_MAX : (ULONG) iov[i].iov_len;
    }
    DWORD sent = 0;
    if (WSASend((SOCKET) fd, bufs, (DWORD) n, &sent, 0, NULL, NULL) != 0) {
        wposix_seterrno();
        return -1;
    }
    return (int) sent;
}

int wposix_fcntl(int fd, int cmd, ...) {
    va_list ap;
    va_start(ap, cmd);
    int arg = cmd == F_SETFL || cmd == F_SETFD ? va_arg(ap, int) : 0;   /* F_GET*: none */
    va_end(ap);
    if (cmd == F_GETFL) return 0;
    if (cmd == F_GETFD) {   /* is it open? */
        if (wposix_issocket(fd) || (fd >= 0 && _get_osfhandle(fd) != -1)) return 0;
        errno = EBADF;
        return -1;
    }
    if (cmd == F_SETFD) return 0;   /* sockets are made non-inheritable */
    if (cmd == F_SETFL) {
        u_long on = (arg & O_NONBLOCK) != 0;
        if (ioctlsocket((SOCKET) fd, FIONBIO, &on) != 0) { wposix_seterrno(); return -1; }
        return 0;
    }
    errno = EINVAL;
    return -1;
}

/* ---- clocks */

int wposix_clock_gettime(clockid_t id, struct timespec *ts) {
    if (id == CLOCK_MONOTONIC) {
        static LARGE_INTEGER freq;   /* fixed at boot: reading it twice is harmless */
        LARGE_INTEGER c;
        if (freq.QuadPart == 0) QueryPerformanceFrequency(&freq);
        QueryPerformanceCounter(&c);
        ts->tv_sec = (time_t) (c.QuadPart / freq.QuadPart);
        ts->tv_nsec = (long) ((c.QuadPart % freq.QuadPart) * 1000000000LL / freq.QuadPart);
        return 0;
    }
    FILETIME ft;   /* 100 ns since 1601 */
    GetSystemTimePreciseAsFileTime(&ft);
    unsigned long long t = ((unsigned long long) ft.dwHighDateTime << 32 | ft.dwLowDateTime) -
                           116444736000000000ULL;
    ts->tv_sec = (time_t) (t / 10000000ULL);
    ts->tv_nsec = (long) (t % 10000000ULL) * 100;
    return 0;
}

int wposix_nanosleep(const struct timespec *t, struct timespec *rem) {
    double ms = (double) t->tv_sec * 1000 + (double) t->tv_nsec / 1e6;
    Sleep(ms >= (double) (INFINITE - 1) ? INFINITE - 1 : (DWORD) (ms + 0.999));
    if (rem) rem->tv_sec = 0, rem->tv_nsec = 0;
    return 0;
}

int wposix_getrlimit(int what, struct rlimit *rl) {
    (void) what;
    rl->rlim_cur = rl->rlim_max = RLIM_INFINITY;
    return 0;
}

/* ---- interfaces: one list node per unicast address, named by the
 * adapter's friendly name, allocated in one block with its addresses. */

typedef struct wposix_ifa {
    struct ifaddrs ifa;
    struct sockaddr_storage addr, mask;
    char name[IF_NAMESIZE];
} wposix_ifa;

/* The netmask of an on-link prefix of `bits` bits, in the address's family. */
static void wposix_prefixmask(struct sockaddr_storage *m, int family, unsigned bits) {
    unsigned char *p;
    unsigned n;
    m->ss_family = (ADDRESS_FAMILY) family;
    if (family == AF_INET6) {
        p = ((struct sockaddr_in6 *) m)->sin6_addr.s6_addr;
        n = 16;
    } else {
        p = (unsigned char *) &((struct sockaddr_in *) m)->sin_addr;
        n = 4;
    }
    for (unsigned i = 0; i < n; i++, bits = bits > 8 ? bits - 8 : 0)
        p[i] = (unsigned char) (bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
}

/* Loopback: the adapter's type, or (Wine types its "lo" otherwise) the
 * address itself, 127/8 or ::1. */
static int wposix_isloopback(const IP_ADAPTER_ADDRESSES *a, const struct sockaddr *sa) {
    if (a->IfType == IF_TYPE_SOFTWARE_LOOPBACK) return 1;
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *) sa)->sin_addr.s_addr) >> 24) == 127;
    return sa->sa_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *) sa)->sin6_addr);
}

int wposix_getifaddrs(struct ifaddrs **list) {
    ULONG size = 16384;
    IP_ADAPTER_ADDRESSES *aa = NULL;
    ULONG r = ERROR_BUFFER_OVERFLOW;
    *list = NULL;
    for (int tries = 0; tries < 4 && r == ERROR_BUFFER_OVERFLOW; tries++) {
        free(aa);
        if ((aa = malloc(size)) == NULL) { errno = ENOMEM; return -1; }
        r = GetAdaptersAddresses(AF_UNSPEC, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
                                 GAA_FLAG_SKIP_DNS_SERVER, NULL, aa, &size);
    }
    if (r != NO_ERROR) { free(aa); errno = wposix_errno((int) r); return -1; }
    struct ifaddrs **tail = list;
    for (IP_ADAPTER_ADDRESSES *a = aa; a != NULL; a = a->Next) {
        for (IP_ADAPTER_UNICAST_ADDRESS *u = a->FirstUnicastAddress; u != NULL; u = u->Next) {
            wposix_ifa *n = calloc(1, sizeof *n);
            if (n == NULL) { free(aa); wposix_freeifaddrs(*list); *list = NULL; errno = ENOMEM; return -1; }
            size_t alen = (size_t) u->Address.iSockaddrLength;
            memcpy(&n->addr, u->Address.lpSockaddr, alen < sizeof n->addr ? alen : sizeof n->addr);
            if (WideCharToMultiByte(CP_UTF8, 0, a->FriendlyName, -1, n->name, sizeof n->name,
                                    NULL, NULL) == 0)
                snprintf(n->name, sizeof n->name, "%s", a->AdapterName);
            n->ifa.ifa_name = n->name;
            n->ifa.ifa_addr = (struct sockaddr *) &n->addr;
            n->ifa.ifa_flags = (a->OperStatus == IfOperStatusUp ? IFF_UP : 0) |
                               (wposix_isloopback(a, n->ifa.ifa_addr) ? IFF_LOOPBACK : 0);
            wposix_prefixmask(&n->mask, n->addr.ss_family, u->OnLinkPrefixLength);
            n->ifa.ifa_netmask = (struct sockaddr *) &n->mask;
            *tail = &n->ifa;
            tail = &n->ifa.ifa_next;
        }
    }
    free(aa);
    return 0;
}

void wposix_freeifaddrs(struct ifaddrs *list) {
    while (list != NULL) {
        struct ifaddrs *next = list->ifa_next;
        free(list);   /* the node is the start of its wposix_ifa block */
        list = next;
    }
}

/* Scope ids: Windows names the zone by interface index ("fe80::1%12");
 * a decimal name is that index, else the adapter's friendly name. */
unsigned wposix_if_nametoindex(const char *name) {
    char *end;
    unsigned long v = strtoul(name, &end, 10);
    if (*name != 0 && *end == 0) return (unsigned) v;
    struct ifaddrs *list, *i;
    unsigned idx = 0;
    if (wposix_getifaddrs(&list) != 0) return 0;
    for (i = list; i != NULL && idx == 0; i = i->ifa_next)
        if (strcmp(i->ifa_name, name) == 0 && i->ifa_addr->sa_family == AF_INET6)
            idx = ((struct sockaddr_in6 *) i->ifa_addr)->sin6_scope_id;
    wposix_freeifaddrs(list);
    return idx;
}

/* ---- pinning a module */

int wposix_dladdr(const void *addr, Dl_info *info) {
    HMODULE m;
    memset(info, 0, sizeof *info);
    if (!GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                            GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT, (LPCSTR) addr, &m))
        return 0;
    static __thread char path[MAX_PATH];
    if (GetModuleFileNameA(m, path, sizeof path) == 0) return 0;
    info->dli_fname = path;
    info->dli_fbase = (void *) m;
    return 1;
}

void *wposix_dlopen(const char *name, int flags) {
    HMODULE m;
    DWORD f = (flags & RTLD_NODELETE) ? GET_MODULE_HANDLE_EX_FLAG_PIN : 0;
    if ((flags & RTLD_NOLOAD) == 0) return (void *) LoadLibraryA(name);
    return GetModuleHandleExA(f, name, &m) ? (void *) m : NULL;
}
