#ifndef NETSOCKET_TIMEOUT_H
#define NETSOCKET_TIMEOUT_H
/* Block and total deadlines (API.md §3), on the monotonic clock. */
#include "compat.h"

typedef struct timeout {
    double block;      /* < 0: no limit */
    double total;      /* < 0: no limit */
    double start;      /* monotonic time the current call began */
    double call;       /* a per-call block limit (receivesome(max, t)...), when hascall */
    int hascall;
    /* How the current call restarts after a cosocket task yields in wait.c.
     * timeout_begin sets them for one call; timeout_markstart clears them,
     * so the lua_State is never used outside the call that set it. */
    lua_State *L;
    lua_KFunction k;   /* re-runs the method with its first nargs stack slots */
    int nargs;
    int begun;         /* timeout_begin ran for this call (read by timeout_enter) */
    int again;         /* this call is a restart after a yield */
    int resumed;       /* set by the yield, read by the next timeout_begin */
    const void *yielder; /* the thread that yielded (compared, never used): only its
                          * restart is one; a task abandoned mid-wait leaves nothing */
    size_t progress;   /* what the call had done before it yielded (bytes sent, address index) */
    double waitend;    /* monotonic deadline of the wait that yielded (< 0: none); on
                        * a restart past it, that wait has run out (b bounds each wait) */
    lua_Integer waittoken; /* names waitfd for the scheduler's cache of epoll registrations */
    int waitfd;        /* (wait.c): 0 or another fd means "ask for a new token" */
} timeout;

void timeout_init(timeout *tm, double block, double total);
/* The object's descriptor changed (setfd): its next wait gets a new token. */
void timeout_newfd(timeout *tm);
/* Marks the start of a blocking call that never yields. */
void timeout_markstart(timeout *tm);
/* Marks the start of a yieldable call: `k` restarts it (see WAIT_RESTART).
 * Returns 1 when this call is a restart: start, call and progress are kept. */
int timeout_begin(lua_State *L, timeout *tm, lua_KFunction k);
/* For engine code (buffer.c): continues a call its method began, or marks a
 * plain start. Returns 1 when the call is a restart. */
int timeout_enter(timeout *tm);
/* A per-call block limit in seconds (< 0: none) instead of the object's. */
void timeout_setcall(timeout *tm, double seconds);
/* Starts the clock anew within the same call (connect: per address). */
void timeout_restart(timeout *tm);
/* Seconds the next wait may last: < 0 means no limit, 0 means do not wait. */
double timeout_left(const timeout *tm);
int timeout_iszero(const timeout *tm);
double timeout_monotonic(void);
double timeout_walltime(void);

/* settimeout(v [, mode]) / gettimeout() on a timeout at stack index 1. */
int timeout_meth_settimeout(lua_State *L, timeout *tm);
int timeout_meth_gettimeout(lua_State *L, timeout *tm);
/* socket.gettime, socket.sleep */
void timeout_open(lua_State *L);

#endif
