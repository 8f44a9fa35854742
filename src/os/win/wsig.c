/* Signals as readable descriptors, Windows side (the seam: src/os/ossig.h;
 * the POSIX twin is src/os/ossig.c). Windows has no signals between
 * processes: what a console program gets are console control events, which
 * the system delivers by running a handler in a new thread. They map to:
 *   "INT"   CTRL_C_EVENT (Ctrl+C)
 *   "BREAK" CTRL_BREAK_EVENT (Ctrl+Break, GenerateConsoleCtrlEvent)
 *   "TERM"  CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT
 * Another process cannot send SIGTERM (TerminateProcess ends a process
 * without notice); doc/windows.md says so. Each watcher has a loopback
 * socket pair (wposix_pipe); the handler sends one byte (the index) to the
 * write end of every watcher of the event. The table of watchers is
 * guarded as on POSIX: atomics and a per-slot count of handlers inside it.
 * For the closing events the system ends the process once the handler
 * returns, so the handler then waits (the system's own limit, about 5
 * seconds, still applies) and the script's exit ends it sooner. */
#define WPOSIX_IMPL
#include "wposix.h"
#include <stdatomic.h>
#include <string.h>
#include "../ossig.h"

enum { WSIG_INT, WSIG_BREAK, WSIG_TERM, WSIG_N };
static const char *const wsig_names[WSIG_N] = {"INT", "BREAK", "TERM"};

typedef struct wsig_slot {
    atomic_llong wfd;         /* a SOCKET; -1: free */
    atomic_uint mask;
    atomic_int busy;
} wsig_slot;

static wsig_slot wsig_slots[OSSIG_MAX];
static INIT_ONCE wsig_once = INIT_ONCE_STATIC_INIT;
static CRITICAL_SECTION wsig_lock;
static int wsig_users;                    /* watchers of any event (under the lock) */
static int wsig_count[WSIG_N];            /* watchers per event (under the lock) */

static BOOL CALLBACK wsig_init(PINIT_ONCE once, PVOID arg, PVOID *ctx) {
    (void) once; (void) arg; (void) ctx;
    InitializeCriticalSection(&wsig_lock);
    for (int i = 0; i < OSSIG_MAX; i++) atomic_store(&wsig_slots[i].wfd, -1);
    return TRUE;
}

int ossig_lookup(const char *name) {
    if (strncmp(name, "SIG", 3) == 0) name += 3;
    for (int i = 0; i < WSIG_N; i++)
        if (strcmp(name, wsig_names[i]) == 0) return i;
    return -1;
}

const char *ossig_name(int i) {
    return i >= 0 && i < WSIG_N ? wsig_names[i] : "?";
}

static BOOL WINAPI wsig_handler(DWORD ev) {
    int idx;
    switch (ev) {
        case CTRL_C_EVENT: idx = WSIG_INT; break;
        case CTRL_BREAK_EVENT: idx = WSIG_BREAK; break;
        case CTRL_CLOSE_EVENT: case CTRL_LOGOFF_EVENT: case CTRL_SHUTDOWN_EVENT: idx = WSIG_TERM; break;
        default: return FALSE;
    }
    unsigned bit = 1u << idx;
    char b = (char) idx;
    int told = 0;
    for (int i = 0; i < OSSIG_MAX; i++) {
        wsig_slot *s = &wsig_slots[i];
        atomic_fetch_add(&s->busy, 1);
        long long fd = atomic_load(&s->wfd);
        if (fd >= 0 && (atomic_load(&s->mask) & bit)) {
            send((SOCKET) fd, &b, 1, 0);
            told = 1;
        }
        atomic_fetch_sub(&s->busy, 1);
    }
    if (!told) return FALSE;                  /* nobody watches: the next handler, or the default */
    if (idx == WSIG_TERM) Sleep(INFINITE);    /* returning would end the process now */
    return TRUE;
}

int ossig_open(unsigned mask, int *rfd, int *slot) {
    *rfd = -1;
    *slot = -1;
    InitOnceExecuteOnce(&wsig_once, wsig_init, NULL, NULL);
    if (wposix_init() != 0) return ENETDOWN;
    int p[2];
    if (wposix_pipe(p) != 0) return errno;
    u_long on = 1;
    ioctlsocket((SOCKET) p[0], FIONBIO, &on);
    ioctlsocket((SOCKET) p[1], FIONBIO, &on);
    EnterCriticalSection(&wsig_lock);
    int s = -1, err = 0;
    for (int i = 0; i < OSSIG_MAX && s < 0; i++)
        if (atomic_load(&wsig_slots[i].wfd) < 0) s = i;
    if (s < 0) err = OSSIG_FULL;
    else if (wsig_users == 0 && !SetConsoleCtrlHandler(wsig_handler, TRUE)) err = EINVAL;
    if (err != 0) {
        LeaveCriticalSection(&wsig_lock);
        closesocket((SOCKET) p[0]);
        closesocket((SOCKET) p[1]);
        return err;
    }
    wsig_users++;
    for (int i = 0; i < WSIG_N; i++)
        if (mask & (1u << i)) wsig_count[i]++;
    atomic_store(&wsig_slots[s].mask, mask);
    atomic_store(&wsig_slots[s].wfd, (long long) p[1]);
    LeaveCriticalSection(&wsig_lock);
    *rfd = p[0];
    *slot = s;
    return 0;
}

int ossig_take(int rfd) {
    char b;
    int n = recv((SOCKET) rfd, &b, 1, 0);
    if (n == 1) return b >= 0 && b < WSIG_N ? (int) b : -1;
    if (n < 0 && WSAGetLastError() == WSAEWOULDBLOCK) return -1;
    return -2 - (n < 0 ? wposix_seterrno() : EPIPE);
}

void ossig_close(int slot, int *rfd) {
    if (slot >= 0 && slot < OSSIG_MAX) {
        wsig_slot *s = &wsig_slots[slot];
        EnterCriticalSection(&wsig_lock);
        long long wfd = atomic_exchange(&s->wfd, -1);
        unsigned mask = atomic_exchange(&s->mask, 0u);
        while (atomic_load(&s->busy) != 0) Sleep(0);
        for (int i = 0; i < WSIG_N; i++)
            if (mask & (1u << i)) wsig_count[i]--;
        if (wfd >= 0 && --wsig_users == 0) SetConsoleCtrlHandler(wsig_handler, FALSE);
        LeaveCriticalSection(&wsig_lock);
        if (wfd >= 0) closesocket((SOCKET) wfd);
    }
    if (*rfd >= 0) closesocket((SOCKET) *rfd);
    *rfd = -1;
}
