#ifndef NETSOCKET_CALL_H
#define NETSOCKET_CALL_H
/* The state of the blocking call in flight in one direction of an object.
 * An object keeps two (read: receive, accept, handshake; write: send,
 * connect), so a reader task and a writer task can share one socket: each
 * call's start, deadline and progress survive a yield in socket.co whatever
 * the other direction does. A second call in a direction that a parked task
 * holds is refused ("socket busy reading" / "socket busy writing"). */
#include "compat.h"
#include "timeout.h"

typedef struct calls calls;

typedef struct call {
    calls *set;          /* the object's timeouts and wait token */
    double start;        /* monotonic time the call began (limited timeouts only) */
    double limit;        /* a per-call block limit (receivesome(max, t)...), when haslimit */
    int haslimit;
    char dir;            /* 'r' or 'w': names the direction in "busy" */
    /* How the call restarts after a socket.co task yields in wait.c.
     * call_begin sets them for one call; call_markstart clears them, so the
     * lua_State is never used outside the call that set it. */
    lua_State *L;
    lua_KFunction k;     /* re-runs the method with its first nargs stack slots */
    int nargs;
    int begun;           /* call_begin ran for this call (read by call_enter) */
    int again;           /* this call is a restart after a yield */
    int resumed;         /* a task yielded in this call and has not restarted it yet */
    const void *yielder; /* that task (compared, never dereferenced) */
    lua_Integer serial;  /* and its number in CALL_TASKS: a new task at the
                          * address of a collected one is another task */
    size_t progress;     /* what the call had done before it yielded (bytes, address index) */
    double nap;          /* wait_backoff's current nap, kept across restarts (0: none yet) */
    double waitend;      /* monotonic deadline of the wait that yielded (< 0: none); on
                          * a restart past it, that wait has run out (b bounds each wait) */
} call;

struct calls {
    timeout tm;          /* settimeout's values, shared by both directions */
    lua_Integer token;   /* names `tokenfd` for the scheduler's epoll cache (wait.c) */
    int tokenfd;
    call rd, wr;
};

/* Registry key of the set of task threads (weak keys, each mapped to a
 * number no other task had), kept by socket.co. */
#define CALL_TASKS "netsocket.tasks"

/* What call_begin found. */
enum { CALL_FRESH = 0, CALL_AGAIN = 1, CALL_BUSY = -1 };

void call_init(calls *cs, double block, double total);
/* The object's descriptor changed (setfd): its next wait gets a new token. */
void call_newfd(calls *cs);
/* Marks the start of a blocking call that never yields. */
void call_markstart(call *c);
/* Marks the start of a yieldable call: `k` restarts it (see WAIT_RESTART).
 * CALL_AGAIN when this is a restart (start, limit and progress are kept),
 * CALL_BUSY when another task parked in this direction holds it (nothing
 * changed: push call_busy's message), else CALL_FRESH. */
int call_begin(lua_State *L, call *c, lua_KFunction k);
/* For engine code (buffer.c): continues a call its method began, or marks a
 * plain start. Returns 1 when the call is a restart. */
int call_enter(call *c);
/* "socket busy reading" or "socket busy writing". */
const char *call_busy(const call *c);
/* The number socket.co gave the task L works for (0: L is no task). */
lua_Integer call_serial(lua_State *L);
/* The wait of c's call is handing task L (number `serial`) to the scheduler. */
void call_yielding(call *c, lua_State *L, double waitend, lua_Integer serial);
/* A per-call block limit in seconds (< 0: none) instead of the object's. */
void call_setlimit(call *c, double seconds);
/* Starts the clock anew within the same call (connect: per address). */
void call_restart(call *c);
/* Seconds the next wait may last: < 0 means no limit, 0 means do not wait. */
double call_left(const call *c);
int call_iszero(const call *c);

#endif
