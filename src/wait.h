#ifndef NETSOCKET_WAIT_H
#define NETSOCKET_WAIT_H
/* Waiting for readiness. Outside a cosocket task: poll() bounded by the
 * deadline. Inside a task (a coroutine socket.co registered): "would block"
 * yields to the scheduler with what to wait for, and the method restarts
 * from its continuation when the fd is ready or the deadline has passed. */
#include "compat.h"
#include "call.h"

enum { WAIT_R = 1, WAIT_W = 2 };

/* Registry key of the set of task threads (weak keys), kept by socket.co. */
#define WAIT_TASKS CALL_TASKS

/* Declares method `fn` and defines `fn_k`, the continuation that re-runs it
 * with its original arguments after a yield. A restartable method calls
 * call_begin(L, c, fn_k) on entry and keeps what it has done in the object
 * (the buffer, c->progress) so that running again is correct. */
#define WAIT_RESTART(fn) \
    static int fn(lua_State *L); \
    static int fn##_k(lua_State *L, int status, lua_KContext ctx) { \
        (void) status; \
        lua_settop(L, (int) ctx); \
        return fn(L); \
    }

/* IO_DONE when ready, IO_TIMEOUT, IO_CLOSED for fd < 0, or an errno. In a
 * task whose call began with call_begin it yields instead (no return). */
int wait_fd(int fd, int what, call *c);
/* Waits `seconds` (< 0: forever) for readiness, no timeout object. */
int wait_fd_for(int fd, int what, double seconds);
/* For "would block" with no readiness event to wait for (a full unix
 * backlog, a full unconnected datagram peer): sleeps *nap (doubling it up
 * to 50 ms) within the deadline. IO_TIMEOUT once no time is left. */
int wait_backoff(call *c, double *nap);
/* Sleeps for `seconds` (restarting after signals). */
void wait_sleep(double seconds);

/* Whether L is a socket.co task that may yield now. */
int wait_intask(lua_State *L);
/* Yields the task L to the scheduler: wait for fd (-1: none) becoming
 * readable/writable (`what`), or until the monotonic `deadline` (< 0: none);
 * then `k` runs with ctx. `token` names the descriptor for the scheduler's
 * registration cache (0: do not cache). Does not return. */
int wait_yield(lua_State *L, int fd, int what, double deadline, lua_Integer token,
               lua_KContext ctx, lua_KFunction k);
/* In a task whose wait in call c would yield to the scheduler now (not a
 * restart whose wait has run out, not a zero timeout), yields for fd as
 * wait_fd would (no return); otherwise returns and nothing happened. */
void wait_tryyield(int fd, int what, call *c);
/* Tells socket.co (if loaded) that fd is about to be closed, so that a task
 * waiting on it wakes up (and finds its socket closed). */
void wait_closing(lua_State *L, int fd);
/* For functions with a timeout argument but no object to keep a deadline
 * (select, dns address wait): before the yield, wait_argdeadline turns the
 * argument at idx into the absolute monotonic deadline (< 0: none) and
 * returns it; the continuation calls wait_argleft to turn it back into the
 * seconds left, then runs the function again. */
double wait_argdeadline(lua_State *L, int idx, double limit);
void wait_argleft(lua_State *L, int idx);
/* Pushes the value a task yields first when it waits (socket.co reads it). */
void wait_pushsentinel(lua_State *L);
/* socket.gettime, socket.sleep */
void wait_open(lua_State *L);

#endif
