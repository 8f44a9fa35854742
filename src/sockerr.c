/* Result codes as text, for both twins of the OS room (src/sock.c and
 * src/os/win/wsock.c): LuaSocket's strings for the codes scripts test,
 * the system's text for the rest. On Windows, strerror and gai_strerror
 * are the seam's (glibc's texts, src/os/win/wposix.h). */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include "io.h"
#include "sock.h"

const char *sock_ioerror(void *ctx, int err) {
    (void) ctx;
    return sock_strerror(err);
}

const char *sock_strerror(int err) {
    switch (err) {
        case IO_DONE: return NULL;
        case IO_TIMEOUT: case IO_WANTREAD: case IO_WANTWRITE: case ETIMEDOUT: return "timeout";
        case IO_CLOSED: case EPIPE: case ECONNRESET: case ECONNABORTED: return "closed";
        case EADDRINUSE: return "address already in use";
        case EISCONN: return "already connected";
        case EACCES: return "permission denied";
        case ECONNREFUSED: return "connection refused";
        default: return err > 0 ? strerror(err) : "unknown error";
    }
}

const char *sock_gaistrerror(int err) {
    switch (err) {
        case 0: return NULL;
        case EAI_AGAIN: return "temporary failure in name resolution";
        case EAI_BADFLAGS: return "invalid value for ai_flags";
        case EAI_FAIL: return "non-recoverable failure in name resolution";
        case EAI_FAMILY: return "ai_family not supported";
        case EAI_MEMORY: return "memory allocation failure";
        case EAI_NONAME: return "host or service not provided, or not known";
#ifdef EAI_OVERFLOW
        case EAI_OVERFLOW: return "argument buffer overflow";
#endif
#ifdef EAI_PROTOCOL
        case EAI_PROTOCOL: return "resolved protocol is unknown";
#endif
        case EAI_SERVICE: return "service not supported for socket type";
        case EAI_SOCKTYPE: return "ai_socktype not supported";
        case EAI_SYSTEM: return strerror(errno);
        default: return gai_strerror(err);
    }
}
