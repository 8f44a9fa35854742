#ifndef NETSOCKET_IO_H
#define NETSOCKET_IO_H
/* The backend vtable the buffer engine reads and writes through: a plain fd
 * today, TLS (and in-memory test doubles) tomorrow. Backends never wait:
 * they report "would block" and buffer.c waits on *fd with the deadline. */
#include <stddef.h>

enum {
    IO_DONE = 0,        /* success */
    IO_TIMEOUT = -1,    /* deadline reached */
    IO_CLOSED = -2,     /* EOF, reset, or no fd */
    IO_WANTREAD = -3,   /* would block until readable */
    IO_WANTWRITE = -4   /* would block until writable */
    /* > 0: an errno value */
};

typedef struct io {
    int (*send)(void *ctx, const char *data, size_t n, size_t *sent);
    int (*recv)(void *ctx, char *data, size_t n, size_t *got);
    const char *(*error)(void *ctx, int err);   /* text for a result code */
    size_t (*pending)(void *ctx);               /* bytes held by the backend; may be NULL */
    void *ctx;
    int *fd;                                    /* what to wait on */
} io;

#endif
