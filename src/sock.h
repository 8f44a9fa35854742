#ifndef NETSOCKET_SOCK_H
#define NETSOCKET_SOCK_H
/* Every syscall on a socket: non-blocking, close-on-exec, EINTR handled,
 * errno mapped to LuaSocket's strings. */
#include <stddef.h>
#include <sys/socket.h>
#include "call.h"

int sock_create(int *fd, int family, int type, int protocol);
int sock_setnonblocking(int fd);
/* socket.fromfd: checks that fd is a socket of `type` in `family` (AF_INET
 * also accepts AF_INET6) and makes it non-blocking. NULL or the error text
 * (`mismatch` when it is another kind of socket); *got gets its family. */
const char *sock_adopt(int fd, int type, int family, const char *mismatch, int *got);
void sock_close(int *fd);
int sock_bind(int fd, const struct sockaddr *addr, socklen_t len);
int sock_listen(int fd, int backlog);
/* Starts or completes a connect, waiting until the deadline. `again`: the
 * call restarts after a yield, so the attempt may be under way or done. */
int sock_connect(int fd, const struct sockaddr *addr, socklen_t len, call *c, int again);
int sock_accept(int fd, int *client, call *c);
int sock_shutdown(int fd, int how);
/* Bytes the kernel still holds unsent or unacknowledged (SIOCOUTQ), or -1
 * where that cannot be asked. */
long sock_outq(int fd);

/* Datagrams: one attempt each (EINTR retried). sendto with addr NULL sends
 * on a connected socket. IO_DONE, IO_WANTWRITE/IO_WANTREAD when it would
 * block, IO_CLOSED for fd < 0, else the errno (ECONNREFUSED included: only
 * the caller knows whether the socket is connected). A zero-length datagram
 * is IO_DONE with *got = 0, never IO_CLOSED. */
int sock_sendto(int fd, const char *data, size_t n, const struct sockaddr *addr,
                socklen_t len, size_t *sent);
int sock_recvfrom(int fd, char *data, size_t n, struct sockaddr *addr, socklen_t *len,
                  size_t *got);
/* Dissolves a datagram socket's peer association (connect to AF_UNSPEC). */
int sock_disconnect(int fd);

/* One recv on a stream socket, for a backend that tells EOF from a reset
 * itself (the TLS BIO): IO_DONE with *got = 0 at the peer's FIN,
 * IO_WANTREAD, IO_CLOSED for fd < 0, else the errno (ECONNRESET...). */
int sock_read(int fd, char *data, size_t n, size_t *got);

/* io-backend entry points for a plain fd; ctx points to the int fd. */
int sock_send(void *ctx, const char *data, size_t n, size_t *sent);
int sock_recv(void *ctx, char *data, size_t n, size_t *got);
const char *sock_ioerror(void *ctx, int err);

/* Result code (IO_* or errno) to text; NULL for IO_DONE. */
const char *sock_strerror(int err);
/* getaddrinfo/getnameinfo code to text. */
const char *sock_gaistrerror(int err);

#endif
