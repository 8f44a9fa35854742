/* "Would block": poll() the fd until ready or the deadline; inside a
 * socket.co task, yield to the scheduler instead (see wait.h). */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <time.h>
#include "compat.h"
#include "io.h"
#include "wait.h"

static const char wait_sentinel = 0;   /* its address marks our yields */
#define WAIT_SENTINEL "netsocket.waitsentinel"
#define WAIT_TOKENS "netsocket.waittokens"

/* socket.ssl.core links its own copy of this file, so the first library
 * to yield keeps its address in the registry and every library yields that
 * one: socket.co tells our waits from plain yields by it (a TLS wait with
 * another address was taken for a plain yield and resumed at once, a busy
 * loop). */
void wait_pushsentinel(lua_State *L) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, WAIT_SENTINEL) == LUA_TLIGHTUSERDATA) return;
    lua_pop(L, 1);
    lua_pushlightuserdata(L, (void *) &wait_sentinel);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, WAIT_SENTINEL);
}

int wait_intask(lua_State *L) {
    if (!lua_isyieldable(L)) return 0;
    int in = 0;
    if (lua_getfield(L, LUA_REGISTRYINDEX, WAIT_TASKS) == LUA_TTABLE) {
        lua_pushthread(L);
        in = lua_rawget(L, -2) != LUA_TNIL;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return in;
}

int wait_yield(lua_State *L, int fd, int what, double deadline, lua_Integer token,
               lua_KContext ctx, lua_KFunction k) {
    wait_pushsentinel(L);
    lua_pushinteger(L, fd);
    lua_pushinteger(L, what);
    lua_pushnumber(L, deadline);
    lua_pushinteger(L, token);
    return lua_yieldk(L, 5, ctx, k);
}

/* The scheduler keeps an fd registered between waits and skips the
 * epoll_ctl when the same descriptor waits again. A number alone cannot
 * tell: a socket collected without close() frees its fd unannounced, and a
 * new socket may get the same number while epoll has dropped the old
 * registration. So an object names the descriptor it waits on with a token,
 * unique in this lua_State (a registry counter shared with socket.ssl.core),
 * taken anew whenever its fd changes. */
static lua_Integer wait_token(lua_State *L, timeout *tm, int fd) {
    if (tm->waittoken == 0 || tm->waitfd != fd) {
        lua_Integer n = 0;
        if (lua_getfield(L, LUA_REGISTRYINDEX, WAIT_TOKENS) == LUA_TNUMBER) n = lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_pushinteger(L, ++n);
        lua_setfield(L, LUA_REGISTRYINDEX, WAIT_TOKENS);
        tm->waittoken = n;
        tm->waitfd = fd;
    }
    return tm->waittoken;
}

void wait_closing(lua_State *L, int fd) {
    if (fd < 0) return;
    if (lua_getfield(L, LUA_REGISTRYINDEX, "netsocket.onclose") == LUA_TFUNCTION) {
        lua_pushinteger(L, fd);
        lua_call(L, 1, 0);
    } else {
        lua_pop(L, 1);
    }
}

double wait_argdeadline(lua_State *L, int idx, double limit) {
    double deadline = limit < 0 ? -1 : timeout_monotonic() + limit;
    lua_pushnumber(L, deadline);
    lua_replace(L, idx);
    return deadline;
}

void wait_argleft(lua_State *L, int idx) {
    double deadline = lua_tonumber(L, idx);
    lua_pushnumber(L, deadline < 0 ? -1 : fmax(0, deadline - timeout_monotonic()));
    lua_replace(L, idx);
}

/* Hands the wait to the scheduler (never returns); the caller checked that
 * tm's thread is a task that may yield and that `left` is not 0. */
static void wait_yieldtm(timeout *tm, int fd, int what, double left) {
    tm->resumed = 1;
    tm->yielder = tm->L;
    tm->waitend = left < 0 ? -1 : timeout_monotonic() + left;
    wait_yield(tm->L, fd, what, tm->waitend, fd < 0 ? 0 : wait_token(tm->L, tm, fd), tm->nargs, tm->k);
}

/* In a task: hands the wait to the scheduler (never returns). */
static void wait_maybeyield(timeout *tm, int fd, int what, double left) {
    if (tm == NULL || tm->L == NULL || tm->k == NULL || left == 0 || !wait_intask(tm->L)) return;
    wait_yieldtm(tm, fd, what, left);
}

void wait_tryyield(int fd, int what, timeout *tm) {
    if (fd < 0 || tm == NULL || tm->L == NULL || tm->k == NULL || !lua_isyieldable(tm->L)) return;
    if (tm->again && tm->waitend >= 0 && timeout_monotonic() >= tm->waitend) return;
    double left = timeout_left(tm);
    if (left != 0 && wait_intask(tm->L)) wait_yieldtm(tm, fd, what, left);
}

/* Rounds up so that a wait never ends before its deadline. */
static int wait_ms(double seconds) {
    if (seconds < 0) return -1;
    double ms = ceil(seconds * 1000.0);
    return ms > 2147483647.0 ? 2147483647 : (int) ms;
}

/* Waits until fd is ready. The limit comes from tm when given (re-read
 * after every wake-up, so EINTR never stretches it), else from `seconds`. */
static int wait_poll(int fd, int what, double seconds, const timeout *tm) {
    if (fd < 0) return IO_CLOSED;
    struct pollfd p;
    p.fd = fd;
    p.events = (short) (((what & WAIT_R) ? POLLIN : 0) | ((what & WAIT_W) ? POLLOUT : 0));
    double deadline = seconds > 0 ? timeout_monotonic() + seconds : 0;
    for (;;) {
        double left = tm ? timeout_left(tm)
                    : seconds > 0 ? fmax(0, deadline - timeout_monotonic()) : seconds;
        int ret = poll(&p, 1, wait_ms(left));
        if (ret > 0) return IO_DONE;      /* errors and hangups surface in the next syscall */
        if (ret == 0) return IO_TIMEOUT;  /* this wait's limit ran out (b bounds each wait) */
        if (errno != EINTR) return errno;
    }
}

int wait_fd(int fd, int what, timeout *tm) {
    if (fd >= 0 && tm != NULL && tm->L != NULL) {
        /* Restarted after the yielded wait ran out: that wait is over, so
         * look once more without waiting (with b and t both set, what is
         * left of t would otherwise start another wait of b). */
        if (tm->again && tm->waitend >= 0 && timeout_monotonic() >= tm->waitend) {
            tm->waitend = -1;
            return wait_poll(fd, what, 0, NULL);
        }
        wait_tryyield(fd, what, tm);
    }
    return wait_poll(fd, what, 0, tm);
}

int wait_fd_for(int fd, int what, double seconds) {
    return wait_poll(fd, what, seconds, NULL);
}

int wait_backoff(timeout *tm, double *nap) {
    double left = timeout_left(tm);
    if (left == 0) return IO_TIMEOUT;
    wait_maybeyield(tm, -1, 0, left > 0 && left < *nap ? left : *nap);
    wait_sleep(left > 0 && left < *nap ? left : *nap);
    if (*nap < 0.05) *nap *= 2;
    return IO_DONE;
}

void wait_sleep(double seconds) {
    if (!(seconds > 0)) return;                  /* negative, zero, NaN */
    if (seconds > 1e9) seconds = 1e9;            /* keeps tv_sec in range */
    struct timespec t, r;
    t.tv_sec = (time_t) seconds;
    t.tv_nsec = (long) ((seconds - (double) t.tv_sec) * 1e9);
    if (t.tv_nsec > 999999999L) t.tv_nsec = 999999999L;
    while (nanosleep(&t, &r) != 0 && errno == EINTR) t = r;
}
