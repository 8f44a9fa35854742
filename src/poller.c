/* A readiness set whose wait costs what is ready, not what is registered
 * (epoll). p:set(fd|socket, "r"|"w"|"rw"|"") registers, changes or removes
 * interest; p:wait(timeout [, out]) fills out with fd, events pairs and
 * returns how many fds are ready. Elsewhere a poll() array stands in. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#else
#include <poll.h>
#endif
#include "lauxlib.h"
#include "class.h"
#include "poller.h"
#include "sock.h"
#include "wait.h"

#define POLLER "poller"

/* The registration set() made last for an fd, and the token it was made
 * with (0: none). A set() with the same token and events is already in the
 * kernel: the token names one descriptor for its lifetime (wait.c). */
typedef struct poller_reg {
    int ev;
    lua_Integer token;
} poller_reg;

typedef struct poller {
    int fd;                       /* the epoll fd (-1 when closed; -1 always with poll) */
    int closed;
    size_t n, cap;                /* ready events buffer, or the poll() array */
#ifdef __linux__
    struct epoll_event *ev;
    struct poller_reg *reg;       /* per fd: what set() registered last, and for whom */
    size_t nreg;
#else
    struct pollfd *pfd;
#endif
} poller;

static poller *poller_check(lua_State *L) {
    poller *p = luaL_checkudata(L, 1, POLLER);
    if (p->closed) luaL_argerror(L, 1, "poller is closed");
    return p;
}

/* An fd from a number or from an object with getfd (our sockets directly). */
static int poller_tofd(lua_State *L, int idx) {
    class_base *b = class_tobase(L, idx);
    if (b != NULL) return b->fd;
    if (lua_type(L, idx) == LUA_TNUMBER) return class_checkfd(L, idx);
    if (!lua_istable(L, idx) && !lua_isuserdata(L, idx))
        return luaL_typeerror(L, idx, "fd or object with getfd");
    if (lua_getfield(L, idx, "getfd") != LUA_TFUNCTION)
        return luaL_argerror(L, idx, "object without getfd");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    int isnum;
    lua_Integer fd = lua_tointegerx(L, -1, &isnum);
    lua_pop(L, 1);
    return isnum && fd >= -1 && fd <= 2147483647 ? (int) fd : -1;
}

static int poller_events(lua_State *L, int idx) {
    const char *s = luaL_optstring(L, idx, "r");
    int ev = 0;
    for (; *s; s++) {
        if (*s == 'r') ev |= WAIT_R;
        else if (*s == 'w') ev |= WAIT_W;
        else luaL_argerror(L, idx, "events must be made of 'r' and 'w'");
    }
    return ev;
}

static void *poller_grow(lua_State *L, void *block, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return block;
    size_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) ncap *= 2;
    void *ud;
    lua_Alloc f = lua_getallocf(L, &ud);
    void *nb = f(ud, block, *cap * size, ncap * size);
    if (nb == NULL) luaL_error(L, "not enough memory");
    *cap = ncap;
    return nb;
}

static int poller_new(lua_State *L) {
    poller *p = lua_newuserdatauv(L, sizeof *p, 0);
    memset(p, 0, sizeof *p);
    p->fd = -1;
    luaL_setmetatable(L, POLLER);
#ifdef __linux__
    p->fd = epoll_create1(EPOLL_CLOEXEC);
    if (p->fd < 0) {
        p->closed = 1;
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
#endif
    return 1;
}

#ifdef __linux__
/* Remembers what the kernel now holds for fd (after a successful epoll_ctl:
 * fd is open, so the table is bounded by the descriptor limit). */
static void poller_remember(lua_State *L, poller *p, int fd, int ev, lua_Integer token) {
    size_t need = (size_t) fd + 1;
    if (need > p->nreg) {
        size_t old = p->nreg;
        p->reg = poller_grow(L, p->reg, &p->nreg, need, sizeof *p->reg);
        memset(p->reg + old, 0, (p->nreg - old) * sizeof *p->reg);
    }
    p->reg[fd].ev = ev;
    p->reg[fd].token = token;
}
#endif

/* p:set(fd|socket, events [, token]): "" removes; returns 1 or nil, err.
 * With a token (socket.co passes the one a wait yielded), a set that repeats
 * the last one made with the same token makes no system call. */
static int poller_set(lua_State *L) {
    poller *p = poller_check(L);
    int fd = poller_tofd(L, 2);
    int ev = poller_events(L, 3);
    lua_Integer token = luaL_optinteger(L, 4, 0);
    if (fd < 0) luaL_argerror(L, 2, "closed or invalid descriptor");
#ifdef __linux__
    if (token != 0 && (size_t) fd < p->nreg && p->reg[fd].token == token && p->reg[fd].ev == ev) {
        lua_pushinteger(L, 1);
        return 1;
    }
    if ((size_t) fd < p->nreg) p->reg[fd].token = 0;   /* unknown until the call succeeds */
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = ((ev & WAIT_R) ? EPOLLIN : 0) | ((ev & WAIT_W) ? EPOLLOUT : 0);
    e.data.u64 = (uint64_t) (unsigned) fd | ((uint64_t) ev << 32);
    int r;
    if (ev == 0) {
        r = epoll_ctl(p->fd, EPOLL_CTL_DEL, fd, NULL);
        if (r != 0 && (errno == ENOENT || errno == EBADF)) r = 0;
    } else {
        r = epoll_ctl(p->fd, EPOLL_CTL_MOD, fd, &e);
        if (r != 0 && errno == ENOENT) r = epoll_ctl(p->fd, EPOLL_CTL_ADD, fd, &e);
    }
    if (r != 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    if (token != 0 || (size_t) fd < p->nreg) poller_remember(L, p, fd, ev, token);
#else
    size_t i = 0;
    while (i < p->n && p->pfd[i].fd != fd) i++;
    if (ev == 0) {
        if (i < p->n) p->pfd[i] = p->pfd[--p->n];
    } else {
        if (i == p->n) {
            p->pfd = poller_grow(L, p->pfd, &p->cap, p->n + 1, sizeof *p->pfd);
            p->pfd[p->n++].fd = fd;
        }
        p->pfd[i].events = (short) (((ev & WAIT_R) ? POLLIN : 0) | ((ev & WAIT_W) ? POLLOUT : 0));
    }
#endif
    lua_pushinteger(L, 1);
    return 1;
}

static int poller_ms(double seconds) {
    if (seconds != seconds) return 0;           /* NaN: no waiting */
    if (seconds < 0) return -1;
    double ms = ceil(seconds * 1000.0);
    return ms > 2147483647.0 ? 2147483647 : (int) ms;
}

/* p:wait([timeout [, out]]) -> n, out: out[2i-1] = fd, out[2i] = events
 * (1 read, 2 write, 3 both; errors and hang-ups count as the interest). */
static int poller_wait(lua_State *L) {
    poller *p = poller_check(L);
    double limit = luaL_optnumber(L, 2, -1);
    if (limit != limit) limit = 0;                  /* NaN: no waiting */
    if (lua_isnoneornil(L, 3)) {
        lua_settop(L, 2);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_settop(L, 3);
    }
    int n;
    double deadline = limit > 0 ? timeout_monotonic() + limit : 0;
    for (;;) {
#ifdef __linux__
        p->ev = poller_grow(L, p->ev, &p->cap, 256, sizeof *p->ev);
        n = epoll_wait(p->fd, p->ev, (int) p->cap, poller_ms(limit));
#else
        n = poll(p->pfd, (nfds_t) p->n, poller_ms(limit));
#endif
        if (n >= 0 || errno != EINTR) break;
        if (limit > 0) limit = fmax(0, deadline - timeout_monotonic());
    }
    if (n < 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    lua_Integer k = 0;
#ifdef __linux__
    for (int i = 0; i < n; i++) {
        int fd = (int) (p->ev[i].data.u64 & 0xffffffffu);
        int want = (int) (p->ev[i].data.u64 >> 32);
        uint32_t e = p->ev[i].events;
        int got = ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? WAIT_R : 0) |
                  ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? WAIT_W : 0);
#else
    for (size_t i = 0; i < p->n; i++) {
        int fd = p->pfd[i].fd;
        short e = p->pfd[i].revents;
        int want = ((p->pfd[i].events & POLLIN) ? WAIT_R : 0) | ((p->pfd[i].events & POLLOUT) ? WAIT_W : 0);
        int got = ((e & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) ? WAIT_R : 0) |
                  ((e & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) ? WAIT_W : 0);
#endif
        if ((got &= want) == 0) continue;
        lua_pushinteger(L, fd);
        lua_rawseti(L, 3, ++k);
        lua_pushinteger(L, got);
        lua_rawseti(L, 3, ++k);
    }
    lua_pushnil(L);                        /* end marker for reused tables */
    lua_rawseti(L, 3, k + 1);
    lua_pushinteger(L, k / 2);
    lua_pushvalue(L, 3);
    return 2;
}

static int poller_getfd(lua_State *L) {
    poller *p = luaL_checkudata(L, 1, POLLER);
    lua_pushinteger(L, p->closed ? -1 : p->fd);
    return 1;
}

static int poller_close(lua_State *L) {
    poller *p = luaL_checkudata(L, 1, POLLER);
    if (!p->closed) {
        p->closed = 1;
        if (p->fd >= 0) close(p->fd);
        p->fd = -1;
        void *ud;
        lua_Alloc f = lua_getallocf(L, &ud);
#ifdef __linux__
        f(ud, p->ev, p->cap * sizeof *p->ev, 0);
        p->ev = NULL;
        f(ud, p->reg, p->nreg * sizeof *p->reg, 0);
        p->reg = NULL;
        p->nreg = 0;
#else
        f(ud, p->pfd, p->cap * sizeof *p->pfd, 0);
        p->pfd = NULL;
#endif
        p->cap = p->n = 0;
    }
    lua_pushinteger(L, 1);
    return 1;
}

/* socket._cosetup(tasks, spawn, stopped, onclose): socket.co's hooks, kept
 * in the registry where the C side looks for them (wait.h, stream.c). */
static int poller_cosetup(lua_State *L) {
    static const char *const keys[] = {WAIT_TASKS, "netsocket.spawn", "netsocket.stopped",
                                       "netsocket.onclose"};
    for (int i = 0; i < 4; i++) {
        lua_pushvalue(L, i + 1);
        lua_setfield(L, LUA_REGISTRYINDEX, keys[i]);
    }
    wait_pushsentinel(L);
    return 1;
}

/* socket._now(): the monotonic clock every deadline is measured on. */
static int poller_now(lua_State *L) {
    lua_pushnumber(L, timeout_monotonic());
    return 1;
}

void poller_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"set", poller_set},
        {"wait", poller_wait},
        {"getfd", poller_getfd},
        {"close", poller_close},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", poller_close},
        {"__close", poller_close},
        {"__tostring", class_tostring},
        {NULL, NULL}
    };
    class_new(L, POLLER, methods, meta);
    lua_pushcfunction(L, poller_new);
    lua_setfield(L, -2, "poller");
    lua_pushcfunction(L, poller_cosetup);
    lua_setfield(L, -2, "_cosetup");
    lua_pushcfunction(L, poller_now);
    lua_setfield(L, -2, "_now");
}
