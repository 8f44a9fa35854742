#ifndef NETSOCKET_WPOSIX_H
#define NETSOCKET_WPOSIX_H
/* The Windows side of the OS seam (doc/windows.md). mk/windows.mk
 * force-includes this header into every engine file and puts
 * src/os/win/include (empty stand-ins for <sys/socket.h>, <poll.h>, ...)
 * on the include path, so the engine compiles unchanged: the POSIX names it
 * uses outside src/sock.c are mapped here onto Winsock, one place for all
 * the platform differences. src/os/win/wsock.c is the twin of src/sock.c.
 *
 * Descriptors stay `int`: a SOCKET is a kernel handle, and Windows keeps
 * handle values within 32 bits (they are shared with 32-bit processes);
 * wposix_socket refuses one that is not. INVALID_SOCKET narrows to -1.
 * Winsock reports errors through WSAGetLastError, not errno: every wrapper
 * below stores the error in errno as the POSIX constant (WSAECONNREFUSED ->
 * ECONNREFUSED), and strerror gives glibc's texts for those, so the
 * engine's errno tests and strings hold as on Linux. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <afunix.h>
#include <windows.h>
#include <errno.h>
#include <io.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* ---- Winsock start-up and errors */
/* WSAStartup, once per process (thread-safe); 0 or a Winsock code. Called
 * by everything that may be first: socket creation and name resolution. */
int wposix_init(void);
/* A Winsock (or Win32) error code as the errno constant the engine tests,
 * or the code itself when there is no POSIX equivalent (> 10000). */
int wposix_errno(int wsaerr);
/* errno = wposix_errno(WSAGetLastError()); returns that errno. */
int wposix_seterrno(void);

/* ---- what Winsock does not keep for a socket, kept beside it: the
 * reuseaddr that was asked for (not applied: see wposix_setsockopt) and a
 * connect going on in the background (wsock.c). */
enum { WPOSIX_REUSEADDR = 1, WPOSIX_CONNECTING = 2 };
/* Sets (on = 1) or clears (on = 0) `bit` for fd, or only reads it (on < 0);
 * returns whether it was set before. */
int wposix_mark(int fd, int bit, int on);
/* Drops every mark of fd: called where a socket is closed. */
void wposix_forget(int fd);

/* ---- sockets through int descriptors */
int wposix_socket(int family, int type, int protocol);
int wposix_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int wposix_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int wposix_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int wposix_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int wposix_getaddrinfo(const char *host, const char *serv, const struct addrinfo *hints,
                       struct addrinfo **res);
int wposix_getnameinfo(const struct sockaddr *addr, socklen_t len, char *host, DWORD hostlen,
                       char *serv, DWORD servlen, int flags);
int wposix_gethostname(char *name, size_t len);
int wposix_connect(int fd, const struct sockaddr *addr, socklen_t len);
struct hostent *wposix_gethostbyname(const char *name);
struct hostent *wposix_gethostbyaddr(const char *addr, int len, int type);
/* inet_aton's forms (a.b.c.d, a.b.c, a.b, a; decimal, octal, hex). */
int wposix_inet_aton(const char *text, struct in_addr *a);
const char *wposix_hstrerror(int err);
/* glibc's gai_strerror texts ("Name or service not known", ...). */
const char *wposix_gaistrerror(int err);
/* The family of a socket, bound or not (0 when it is no socket). */
int wposix_family(int fd);
#define SHUT_RD SD_RECEIVE
#define SHUT_WR SD_SEND
#define SHUT_RDWR SD_BOTH
/* glibc's values: a getaddrinfo failure whose cause is in errno, and a
 * numeric host of the other family (Windows has neither). */
#define EAI_SYSTEM (-11)
#define EAI_ADDRFAMILY (-9)

/* ---- poll: WSAPoll, which has no FD_SETSIZE limit. POSIX's pollfd holds
 * an int fd, Winsock's a SOCKET: the engine's struct pollfd is ours, copied
 * to Winsock's for the call. WSAPoll refuses an empty set: that is a timed
 * sleep here, as with poll(). */
#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif
typedef unsigned long nfds_t;
struct wposix_pollfd {
    int fd;
    short events, revents;
};
int wposix_poll(struct wposix_pollfd *fds, nfds_t n, int ms);

/* ---- descriptors that are sockets or CRT files: close, read and write
 * pick the call by what the descriptor is. pipe() makes a connected
 * loopback TCP pair (a selectable wake-up, in place of a pipe or eventfd). */
int wposix_close(int fd);
int wposix_read(int fd, void *buf, size_t n);
int wposix_write(int fd, const void *buf, size_t n);
int wposix_pipe(int fds[2]);

/* ---- gather send: WSASend with several buffers (writev's twin). */
struct iovec {
    void *iov_base;
    size_t iov_len;
};
int wposix_writev(int fd, const struct iovec *iov, int n);

/* ---- clocks: monotonic from QueryPerformanceCounter, the wall clock from
 * GetSystemTimePreciseAsFileTime. */
int wposix_clock_gettime(clockid_t id, struct timespec *ts);
int wposix_nanosleep(const struct timespec *t, struct timespec *rem);

/* ---- fcntl: only O_NONBLOCK on sockets (ioctlsocket FIONBIO) and
 * FD_CLOEXEC (sockets are not inherited: WSA_FLAG_NO_HANDLE_INHERIT). */
#define F_GETFL 3
#define F_SETFL 4
#define F_GETFD 1
#define F_SETFD 2
#define FD_CLOEXEC 1
#ifndef O_NONBLOCK
#define O_NONBLOCK 0x4000
#endif
int wposix_fcntl(int fd, int cmd, ...);

/* ---- descriptor limit: Winsock has none but memory. */
#define RLIMIT_NOFILE 7
#define RLIM_INFINITY (~(unsigned long long) 0)
typedef unsigned long long rlim_t;
struct rlimit {
    rlim_t rlim_cur, rlim_max;
};
int wposix_getrlimit(int what, struct rlimit *rl);

/* ---- interfaces: getifaddrs over GetAdaptersAddresses. */
#ifndef IF_NAMESIZE
#define IF_NAMESIZE 256   /* adapter friendly names can be long */
#endif
struct ifaddrs {
    struct ifaddrs *ifa_next;
    char *ifa_name;
    unsigned int ifa_flags;
    struct sockaddr *ifa_addr;
    struct sockaddr *ifa_netmask;
    void *ifa_data;
};
int wposix_getifaddrs(struct ifaddrs **list);
void wposix_freeifaddrs(struct ifaddrs *list);
unsigned wposix_if_nametoindex(const char *name);

/* ---- pinning the module while worker threads run (dladdr + dlopen with
 * RTLD_NODELETE): GetModuleHandleEx(..._PIN) on the module's address. */
#define RTLD_NOW 2
#define RTLD_NOLOAD 4
#define RTLD_NODELETE 0x1000
typedef struct {
    const char *dli_fname;
    void *dli_fbase;
    const char *dli_sname;
    void *dli_saddr;
} Dl_info;
int wposix_dladdr(const void *addr, Dl_info *info);
void *wposix_dlopen(const char *name, int flags);

/* ---- signals: worker threads need no mask on Windows. */
#ifndef _POSIX
typedef _sigset_t sigset_t;
#endif
#ifndef SIG_SETMASK
#define SIG_SETMASK 2
#endif
int wposix_sigfillset(sigset_t *set);
#define sigfillset wposix_sigfillset
#undef pthread_sigmask
int wposix_sigmask(int how, const sigset_t *set, sigset_t *old);
#define pthread_sigmask wposix_sigmask
/* ppoll's form (a relative timespec, NULL for none; no signal mask on
 * Windows): WSAPoll counts whole milliseconds, so the limit is rounded up
 * and a wait never ends before its deadline. */
int wposix_ppoll(struct wposix_pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask);

/* ---- files: AF_UNIX socket files are reparse points that stat cannot
 * tell from other files (unix.c's stale-socket check then leaves them). */
#define lstat stat
#ifndef S_ISSOCK
#define S_ISSOCK(m) 0
#endif

/* ---- the POSIX names, for the engine only: src/os/win/ itself defines
 * WPOSIX_IMPL and calls Winsock by its own names. */
#include <string.h>
char *wposix_strerror(int err);
#ifndef WPOSIX_IMPL
#define socket(d, t, p) wposix_socket(d, t, p)
#define connect wposix_connect
#define gethostbyname wposix_gethostbyname
#define gethostbyaddr wposix_gethostbyaddr
#define inet_aton wposix_inet_aton
#define hstrerror wposix_hstrerror
#undef gai_strerror
#define gai_strerror wposix_gaistrerror
#define pollfd wposix_pollfd
#define getsockopt wposix_getsockopt
#define setsockopt wposix_setsockopt
#define getsockname wposix_getsockname
#define getpeername wposix_getpeername
#define getaddrinfo wposix_getaddrinfo
#define getnameinfo wposix_getnameinfo
#define gethostname wposix_gethostname
#define poll wposix_poll
#define ppoll wposix_ppoll
#define close wposix_close
#define read wposix_read
#define write wposix_write
#define pipe wposix_pipe
#define writev wposix_writev
#define clock_gettime wposix_clock_gettime
#define nanosleep wposix_nanosleep
#define fcntl wposix_fcntl
#define getrlimit wposix_getrlimit
#define getifaddrs wposix_getifaddrs
#define freeifaddrs wposix_freeifaddrs
#define if_nametoindex wposix_if_nametoindex
#define dladdr wposix_dladdr
#define dlopen wposix_dlopen
#define strerror wposix_strerror
#endif

#endif
