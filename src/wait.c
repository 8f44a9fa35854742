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
static lua_Integer wait_token(lua_State *L, calls *cs, int fd) {
    if (cs->token == 0 || cs->tokenfd != fd) {
        lua_Integer n = 0;
        if (lua_getfield(L, LUA_REGISTRYINDEX, WAIT_TOKENS) == LUA_TNUMBER) n = lua_tointeger(L, -1);
        lua_pop(L, 1);
        lua_pushinteger(L, ++n);
        lua_setfield(L, LUA_REGISTRYINDEX, WAIT_TOKENS);
        cs->token = n;
        cs->tokenfd = fd;
    }
    return cs->token;
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
 * c's thread is task number `serial`, that it may yield and that `left` is
 * not 0. */
static void wait_yieldcall(call *c, int fd, int what, double left, lua_Integer serial) {
    call_yielding(c, c->L, left < 0 ? -1 : timeout_monotonic() + left, serial);
    wait_yield(c->L, fd, what, c->waitend, fd < 0 ? 0 : wait_token(c->L, c->set, fd), c->nargs, c->k);
}

/* In a task: hands the wait to the scheduler (never returns). */
static void wait_maybeyield(call *c, int fd, int what, double left) {
    if (c == NULL || c->L == NULL || c->k == NULL || left == 0 || !wait_intask(c->L)) return;
    wait_yieldcall(c, fd, what, left, call_serial(c->L));
}

/* One look-up answers both questions: a thread that may yield is in a task
 * exactly when the task it works for has a number (socket.co numbers its
 * tasks; on 5.1 a helper thread is listed as working for one). */
void wait_tryyield(int fd, int what, call *c) {
    if (fd < 0 || c == NULL || c->L == NULL || c->k == NULL || !lua_isyieldable(c->L)) return;
    if (c->again && c->waitend >= 0 && timeout_monotonic() >= c->waitend) return;
    double left = call_left(c);
    if (left == 0) return;
    lua_Integer serial = call_serial(c->L);
    if (serial != 0) wait_yieldcall(c, fd, what, left, serial);
}

/* A relative limit for ppoll, rounded up to the next nanosecond so that a
 * wait never ends before its deadline; NULL for none. */
static struct timespec *wait_timespec(double seconds, struct timespec *ts) {
    if (seconds < 0) return NULL;
    if (seconds > 1e9) seconds = 1e9;            /* keeps tv_sec in range */
    ts->tv_sec = (time_t) seconds;
    ts->tv_nsec = (long) ceil((seconds - (double) ts->tv_sec) * 1e9);
    if (ts->tv_nsec > 999999999L) {
        ts->tv_sec++;
        ts->tv_nsec = 0;
    }
    return ts;
}

/* Waits until fd is ready, with microsecond precision (ppoll; poll()'s
 * whole milliseconds made select(nil, nil, 0.0001) last 1.2 ms). The limit
 * comes from c when given, else from `seconds`; it becomes a deadline once,
 * so neither EINTR nor an early wake-up stretches or shortens it. */
static int wait_poll(int fd, int what, double seconds, const call *c) {
    if (fd < 0) return IO_CLOSED;
    struct pollfd p;
    p.fd = fd;
    p.events = (short) (((what & WAIT_R) ? POLLIN : 0) | ((what & WAIT_W) ? POLLOUT : 0));
    double left = c ? call_left(c) : seconds;
    double deadline = left > 0 ? timeout_monotonic() + left : 0;
    for (;;) {
        struct timespec ts;
        int ret = ppoll(&p, 1, wait_timespec(left, &ts), NULL);
        if (ret > 0) return IO_DONE;      /* errors and hangups surface in the next syscall */
        if (ret < 0 && errno != EINTR) return errno;
        if (left > 0) left = fmax(0, deadline - timeout_monotonic());
        if (ret == 0 && left == 0) return IO_TIMEOUT;   /* b bounds each wait */
    }
}

int wait_fd(int fd, int what, call *c) {
    if (fd >= 0 && c != NULL && c->L != NULL) {
        /* Restarted after the yielded wait ran out: that wait is over, so
         * look once more without waiting (with b and t both set, what is
         * left of t would otherwise start another wait of b). */
        if (c->again && c->waitend >= 0 && timeout_monotonic() >= c->waitend) {
            c->waitend = -1;
            return wait_poll(fd, what, 0, NULL);
        }
        wait_tryyield(fd, what, c);
    }
    return wait_poll(fd, what, 0, c);
}

int wait_fd_for(int fd, int what, double seconds) {
    return wait_poll(fd, what, seconds, NULL);
}

int wait_backoff(call *c, double *nap) {
    double left = call_left(c);
    if (left == 0) return IO_TIMEOUT;
    if (c->again && c->nap > *nap) *nap = c->nap;   /* a restart goes on backing off */
    double d = left > 0 && left < *nap ? left : *nap;
    if (*nap < 0.05) *nap *= 2;
    c->nap = *nap;                     /* before the yield: a task napped 1 ms every time */
    wait_maybeyield(c, -1, 0, d);
    wait_sleep(d);
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

static int wait_lua_gettime(lua_State *L) {
    lua_pushnumber(L, timeout_walltime());
    return 1;
}

static int wait_sleep_k(lua_State *L, int status, lua_KContext ctx) {
    (void) L;
    (void) status;
    (void) ctx;
    return 0;                          /* socket.co resumes a sleeper at its deadline */
}

/* socket.sleep(s): inside a socket.co task it yields until the deadline. */
static int wait_lua_sleep(lua_State *L) {
    double n = luaL_checknumber(L, 1);
    if (n > 0 && wait_intask(L))
        return wait_yield(L, -1, 0, timeout_monotonic() + n, 0, 0, wait_sleep_k);
    wait_sleep(n);
    return 0;
}

void wait_open(lua_State *L) {
    static const luaL_Reg funcs[] = {
        {"gettime", wait_lua_gettime},
        {"sleep", wait_lua_sleep},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
}
