/* A readiness set whose wait costs what is ready, not what is registered
 * (epoll). p:set(fd|socket, "r"|"w"|"rw"|"") registers, changes or removes
 * interest; p:wait(timeout [, out]) fills out with fd, events pairs and
 * returns how many fds are ready. Elsewhere a poll() array stands in. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#else
#include <fcntl.h>
#include <poll.h>
#endif
#include "compat.h"
#include "class.h"
#include "poller.h"
#include "sock.h"
#include "wait.h"

#define POLLER "poller"
#if defined(__linux__) && defined(SYS_epoll_pwait2)
#define POLLER_PWAIT2 1           /* tried first, at run time (poller_epoll) */
#endif

/* Per fd: what the kernel holds (the last successful change), the token it
 * was made with (0: none; see wait.c), and how many socket.co tasks wait to
 * read and to write. A change that repeats the last one made with the same
 * token is already in the kernel and costs no system call. */
typedef struct poller_reg {
    int ev;
    int nr, nw;
    lua_Integer token;
} poller_reg;

typedef struct poller {
    int fd;                       /* the epoll fd (-1 when closed; -1 always with poll) */
    int closed;
    size_t n, cap;                /* ready events buffer, or the poll() array */
#ifdef __linux__
    struct epoll_event *ev;
#else
    struct pollfd *pfd;
#endif
    poller_reg *reg;              /* indexed by fd, nreg entries */
    size_t nreg;
    struct poller_ready { int fd, got; } *rdy;   /* what one wait found */
    size_t nrdy;
    lua_Integer nwait;            /* task waits registered, over every fd */
#ifdef POLLER_PWAIT2
    int nopwait2;                 /* epoll_pwait2 is missing: epoll_wait in ms */
#endif
} poller;

static poller *poller_check(lua_State *L) {
    poller *p = class_check(L, 1, POLLER);
    if (p->closed) luaL_argerror(L, 1, "poller is closed");
    return p;
}

/* socket.co's methods (one call per wait) check by the metatable address
 * kept as their upvalue instead of a registry lookup by name. */
static poller *poller_cocheck(lua_State *L) {
    poller *p = lua_type(L, 1) == LUA_TUSERDATA ? lua_touserdata(L, 1) : NULL;
    if (p != NULL && lua_getmetatable(L, 1)) {
        int ours = lua_rawequal(L, -1, lua_upvalueindex(1));
        lua_pop(L, 1);
        if (ours && !p->closed) return p;
    }
    return poller_check(L);                        /* raises the usual error */
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
    poller *p = lua_newuserdatauv(L, sizeof *p, 1);
    memset(p, 0, sizeof *p);
    p->fd = -1;
    luaL_setmetatable(L, POLLER);
    lua_newtable(L);                  /* uservalue 1: who waits, see poller_key */
    lua_setiuservalue(L, -2, 1);
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

/* The entry of fd, made (zeroed) when missing. Only called for an fd the
 * kernel accepted, so the table is bounded by the descriptor limit. */
static poller_reg *poller_reg_of(lua_State *L, poller *p, int fd) {
    size_t need = (size_t) fd + 1;
    if (need > p->nreg) {
        size_t old = p->nreg;
        p->reg = poller_grow(L, p->reg, &p->nreg, need, sizeof *p->reg);
        memset(p->reg + old, 0, (p->nreg - old) * sizeof *p->reg);
    }
    return &p->reg[fd];
}

/* Makes the kernel hold `ev` for fd: 0 or an errno. */
static int poller_apply(lua_State *L, poller *p, int fd, int ev, lua_Integer token) {
    poller_reg *r = (size_t) fd < p->nreg ? &p->reg[fd] : NULL;
    int known = r != NULL && token != 0 && r->token == token;
    if (known && r->ev == ev) return 0;
    if (r != NULL) r->token = 0;                   /* unknown until the call succeeds */
#ifdef __linux__
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = ((ev & WAIT_R) ? EPOLLIN : 0) | ((ev & WAIT_W) ? EPOLLOUT : 0);
    e.data.u64 = (uint64_t) (unsigned) fd | ((uint64_t) ev << 32);
    int rc;
    if (ev == 0) {
        rc = epoll_ctl(p->fd, EPOLL_CTL_DEL, fd, NULL);
        if (rc != 0 && (errno == ENOENT || errno == EBADF)) rc = 0;
    } else if (known && r->ev == 0) {              /* this descriptor is not in the set */
        rc = epoll_ctl(p->fd, EPOLL_CTL_ADD, fd, &e);
        if (rc != 0 && errno == EEXIST) rc = epoll_ctl(p->fd, EPOLL_CTL_MOD, fd, &e);
    } else {
        rc = epoll_ctl(p->fd, EPOLL_CTL_MOD, fd, &e);
        if (rc != 0 && errno == ENOENT) rc = epoll_ctl(p->fd, EPOLL_CTL_ADD, fd, &e);
    }
    if (rc != 0) return errno;
#else
    size_t i = 0;
    while (i < p->n && p->pfd[i].fd != fd) i++;
    if (ev == 0) {
        if (i < p->n) p->pfd[i] = p->pfd[--p->n];
    } else {
        if (i == p->n) {
            if (fcntl(fd, F_GETFD) == -1) return errno;   /* as epoll_ctl: an open fd only */
            p->pfd = poller_grow(L, p->pfd, &p->cap, p->n + 1, sizeof *p->pfd);
            p->pfd[p->n++].fd = fd;
        }
        p->pfd[i].events = (short) (((ev & WAIT_R) ? POLLIN : 0) | ((ev & WAIT_W) ? POLLOUT : 0));
    }
#endif
    if (r == NULL && (token == 0 || ev == 0)) return 0;   /* nothing worth remembering */
    r = poller_reg_of(L, p, fd);
    r->ev = ev;
    r->token = token;
    return 0;
}

static int poller_pusherr(lua_State *L, int err) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(err));
    return 2;
}

/* p:set(fd|socket, events [, token]): "" removes; returns 1 or nil, err.
 * With a token, a set that repeats the last one made with the same token
 * makes no system call. */
static int poller_set(lua_State *L) {
    poller *p = poller_check(L);
    int fd = poller_tofd(L, 2);
    int ev = poller_events(L, 3);
    lua_Integer token = luaL_optinteger(L, 4, 0);
    if (fd < 0) luaL_argerror(L, 2, "closed or invalid descriptor");
    int err = poller_apply(L, p, fd, ev, token);
    if (err != 0) return poller_pusherr(L, err);
    lua_pushinteger(L, 1);
    return 1;
}

static int poller_ms(double seconds) {
    if (seconds != seconds) return 0;           /* NaN: no waiting */
    if (seconds < 0) return -1;
    double ms = ceil(seconds * 1000.0);
    return ms > 2147483647.0 ? 2147483647 : (int) ms;
}

#ifdef __linux__
/* One epoll wait of at most `limit` seconds (< 0: no limit). epoll_pwait2
 * (Linux 5.11) keeps the nanoseconds; it is called through syscall(), so
 * that no recent C library is needed, with the kernel's 64-bit timespec.
 * A kernel without it (ENOSYS), or a seccomp filter that does not know it
 * (EPERM), leaves epoll_wait with the time rounded up to whole ms. */
static int poller_epoll(poller *p, double limit) {
#ifdef POLLER_PWAIT2
    if (!p->nopwait2) {
        struct { int64_t sec, nsec; } ts, *tp = NULL;
        if (limit >= 0) {
            double s = limit > 1e9 ? 1e9 : limit;   /* co.step waits again */
            ts.sec = (int64_t) s;
            ts.nsec = (int64_t) ceil((s - (double) ts.sec) * 1e9);
            if (ts.nsec > 999999999) ts.nsec = 999999999;
            tp = &ts;
        }
        int n = (int) syscall(SYS_epoll_pwait2, p->fd, p->ev, (int) p->cap, tp, NULL, (size_t) 8);
        if (n >= 0 || (errno != ENOSYS && errno != EPERM)) return n;
        p->nopwait2 = 1;
    }
#endif
    return epoll_wait(p->fd, p->ev, (int) p->cap, poller_ms(limit));
}
#endif

/* Waits up to `limit` seconds (< 0: no limit) and gathers into p->rdy what
 * is ready: n >= 0, or -errno. Errors and hang-ups count as the interest. */
static int poller_gather(lua_State *L, poller *p, double limit) {
    if (limit != limit) limit = 0;                  /* NaN: no waiting */
    int n;
    double deadline = limit > 0 ? timeout_monotonic() + limit : 0;
    for (;;) {
#ifdef __linux__
        p->ev = poller_grow(L, p->ev, &p->cap, 256, sizeof *p->ev);
        n = poller_epoll(p, limit);
#else
        n = poll(p->pfd, (nfds_t) p->n, poller_ms(limit));
        /* A descriptor closed while registered leaves the set, as with
         * epoll (poll would report it POLLNVAL on every wait, and at once).
         * When nothing else was ready the wait goes on for the time left,
         * as epoll's would: it did not end because of the others. */
        int gone = 0;
        for (size_t i = 0; n > 0 && i < p->n;) {
            if (p->pfd[i].revents & POLLNVAL) {
                p->pfd[i] = p->pfd[--p->n];
                gone++;
            } else {
                i++;
            }
        }
        n -= gone;
        if (n == 0 && gone > 0 && limit != 0) {
            if (limit > 0) limit = fmax(0, deadline - timeout_monotonic());
            continue;
        }
#endif
        if (n >= 0 || errno != EINTR) break;
        if (limit > 0) limit = fmax(0, deadline - timeout_monotonic());
    }
    if (n < 0) return -errno;
    p->rdy = poller_grow(L, p->rdy, &p->nrdy, (size_t) n + 1, sizeof *p->rdy);
    int k = 0;
#ifdef __linux__
    for (int i = 0; i < n; i++) {
        int fd = (int) (p->ev[i].data.u64 & 0xffffffffu);
        int want = (int) (p->ev[i].data.u64 >> 32);
        uint32_t e = p->ev[i].events;
        int got = ((e & (EPOLLIN | EPOLLHUP | EPOLLERR)) ? WAIT_R : 0) |
                  ((e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) ? WAIT_W : 0);
#else
    for (size_t i = 0; i < p->n && k < n; i++) {
        int fd = p->pfd[i].fd;
        short e = p->pfd[i].revents;
        int want = ((p->pfd[i].events & POLLIN) ? WAIT_R : 0) | ((p->pfd[i].events & POLLOUT) ? WAIT_W : 0);
        int got = ((e & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) ? WAIT_R : 0) |
                  ((e & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) ? WAIT_W : 0);
#endif
        if ((got &= want) == 0) continue;
        p->rdy[k].fd = fd;
        p->rdy[k].got = got;
        k++;
    }
    return k;
}

/* p:wait([timeout [, out]]) -> n, out: out[2i-1] = fd, out[2i] = events
 * (1 read, 2 write, 3 both; errors and hang-ups count as the interest). */
static int poller_wait(lua_State *L) {
    poller *p = poller_check(L);
    double limit = luaL_optnumber(L, 2, -1);
    if (lua_isnoneornil(L, 3)) {
        lua_settop(L, 2);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_settop(L, 3);
    }
    int n = poller_gather(L, p, limit);
    if (n < 0) return poller_pusherr(L, -n);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, p->rdy[i].fd);
        lua_rawseti(L, 3, 2 * i + 1);
        lua_pushinteger(L, p->rdy[i].got);
        lua_rawseti(L, 3, 2 * i + 2);
    }
    lua_pushnil(L);                        /* end marker for reused tables */
    lua_rawseti(L, 3, 2 * n + 1);
    lua_pushinteger(L, n);
    lua_pushvalue(L, 3);
    return 2;
}

/* ---- Waiters: which socket.co task waits on which fd ------------------
 * socket.co keeps its task records here rather than in Lua tables, so
 * that a wake-up costs a few table slots in C. The poller's uservalue
 * holds, at poller_key(fd, dir), the one task record waiting on fd for
 * reading (dir 0) or writing (dir 1), or a set {[record] = true} when
 * several do (reg.nr, reg.nw count them). A read interest outlives its
 * wait (the task usually reads again soon, and the next wait then costs
 * nothing: same token, same events); a write interest is dropped when its
 * waiters are gone (a writable socket would wake the loop every turn); a
 * lingering read interest that fires with nobody waiting is dropped then. */

static lua_Integer poller_key(int fd, int dir) {
    return 2 * (lua_Integer) fd + dir + 1;
}

/* What fd's registration should be now: read while anyone reads or a read
 * interest lingers, write while anyone writes. */
static int poller_needed(const poller_reg *r) {
    return ((r->nr > 0 || (r->ev & WAIT_R)) ? WAIT_R : 0) | (r->nw > 0 ? WAIT_W : 0);
}

/* Adds the record at index `rec` to the waiters (uservalue at `wt`). */
static void poller_addwaiter(lua_State *L, int wt, lua_Integer key, int *count, int rec) {
    if (*count == 0) {
        lua_pushvalue(L, rec);
        lua_rawseti(L, wt, key);
    } else {
        lua_rawgeti(L, wt, key);
        if (*count == 1) {
            if (lua_rawequal(L, -1, rec)) { lua_pop(L, 1); return; }   /* already there */
            lua_createtable(L, 0, 2);
            lua_insert(L, -2);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);                      /* set[old] = true */
            lua_pushvalue(L, -1);
            lua_rawseti(L, wt, key);
        } else {
            lua_pushvalue(L, rec);
            if (lua_rawget(L, -2) != LUA_TNIL) { lua_pop(L, 2); return; }
            lua_pop(L, 1);
        }
        lua_pushvalue(L, rec);
        lua_pushboolean(L, 1);
        lua_rawset(L, -3);
        lua_pop(L, 1);
    }
    (*count)++;
}

/* Removes the record at `rec`; returns whether it was there. */
static int poller_delwaiter(lua_State *L, int wt, lua_Integer key, int *count, int rec) {
    if (*count == 0) return 0;
    int found = 0;
    if (lua_rawgeti(L, wt, key) != LUA_TTABLE || *count == 1) {
        found = lua_rawequal(L, -1, rec);
        if (found) {
            lua_pushnil(L);
            lua_rawseti(L, wt, key);
        }
    } else {
        lua_pushvalue(L, rec);
        found = lua_rawget(L, -2) != LUA_TNIL;
        lua_pop(L, 1);
        if (found) {
            lua_pushvalue(L, rec);
            lua_pushnil(L);
            lua_rawset(L, -3);
            if (*count == 2) {                     /* one left: store it alone */
                lua_pushnil(L);
                if (lua_next(L, -2) != 0) {
                    lua_pop(L, 1);
                    lua_rawseti(L, wt, key);
                }
            }
        }
    }
    lua_pop(L, 1);
    if (found) (*count)--;
    return found;
}

/* Appends every waiter at key to the array at `out` (from index *k + 1). */
static void poller_takewaiters(lua_State *L, int wt, lua_Integer key, int *count, int out, lua_Integer *k) {
    if (*count == 0) return;
    lua_rawgeti(L, wt, key);
    if (*count == 1) {
        lua_rawseti(L, out, ++*k);
    } else {
        lua_pushnil(L);
        while (lua_next(L, -2) != 0) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_rawseti(L, out, ++*k);
        }
        lua_pop(L, 1);
    }
    lua_pushnil(L);
    lua_rawseti(L, wt, key);
    *count = 0;
}

/* p:_add(fd, bits, token, rec) -> true, or false when the kernel refuses
 * fd (closed under the task: it should look again at once). */
static int poller_add(lua_State *L) {
    poller *p = poller_cocheck(L);
    lua_Integer fd = luaL_checkinteger(L, 2);
    lua_Integer bits = luaL_checkinteger(L, 3);
    lua_Integer token = luaL_optinteger(L, 4, 0);
    luaL_checkany(L, 5);
    luaL_argcheck(L, fd >= 0 && fd <= 2147483647, 2, "invalid descriptor");
    luaL_argcheck(L, bits >= WAIT_R && bits <= (WAIT_R | WAIT_W), 3, "events must be 1, 2 or 3");
    poller_reg *r = (size_t) fd < p->nreg ? &p->reg[fd] : NULL;
    int ev = (int) bits;
    if (r != NULL) ev |= poller_needed(r);
    if (poller_apply(L, p, (int) fd, ev, token) != 0) {
        lua_pushboolean(L, 0);
        return 1;
    }
    r = poller_reg_of(L, p, (int) fd);
    r->ev = ev;                                    /* apply may not have made the entry */
    r->token = token;
    lua_getiuservalue(L, 1, 1);
    int wt = lua_gettop(L);
    lua_Integer before = r->nr + r->nw;
    if (bits & WAIT_R) poller_addwaiter(L, wt, poller_key((int) fd, 0), &r->nr, 5);
    if (bits & WAIT_W) poller_addwaiter(L, wt, poller_key((int) fd, 1), &r->nw, 5);
    p->nwait += r->nr + r->nw - before;
    lua_pushboolean(L, 1);
    return 1;
}

/* p:_remove(fd, bits, rec): rec no longer waits there (a no-op if it did
 * not); a write interest nobody needs is dropped. */
static int poller_remove(lua_State *L) {
    poller *p = poller_cocheck(L);
    lua_Integer fd = luaL_checkinteger(L, 2);
    int bits = (int) luaL_checkinteger(L, 3);
    luaL_checkany(L, 4);
    if (fd < 0 || (size_t) fd >= p->nreg) return 0;
    poller_reg *r = &p->reg[fd];
    lua_getiuservalue(L, 1, 1);
    int wt = lua_gettop(L);
    if (bits & WAIT_R) p->nwait -= poller_delwaiter(L, wt, poller_key((int) fd, 0), &r->nr, 4);
    if (bits & WAIT_W) p->nwait -= poller_delwaiter(L, wt, poller_key((int) fd, 1), &r->nw, 4);
    if ((r->ev & WAIT_W) && r->nw == 0) poller_apply(L, p, (int) fd, poller_needed(r), r->token);
    return 0;
}

/* Moves fd's waiters in directions `dirs` (uservalue at 4) to out (at 3). */
static void poller_takefd(lua_State *L, poller *p, poller_reg *r, int fd, int dirs, lua_Integer *k) {
    int nwait = r->nr + r->nw;
    if (dirs & WAIT_R) poller_takewaiters(L, 4, poller_key(fd, 0), &r->nr, 3, k);
    if (dirs & WAIT_W) poller_takewaiters(L, 4, poller_key(fd, 1), &r->nw, 3, k);
    p->nwait -= nwait - (r->nr + r->nw);
}

/* p:_collect(timeout, out) -> n: waits and puts into out[1..n] the
 * records of the tasks whose fd is ready, taking them off their fd (a
 * record may appear more than once, from a select set). out[n + 1] is nil.
 * No waiters and no timeout: nothing could ever end the wait, so it
 * returns -1 at once. */
static int poller_collect(lua_State *L) {
    poller *p = poller_cocheck(L);
    double limit = luaL_checknumber(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    if (limit < 0 && p->nwait == 0) {
        lua_pushnil(L);
        lua_rawseti(L, 3, 1);
        lua_pushinteger(L, -1);
        return 1;
    }
    int n = poller_gather(L, p, limit);
    if (n < 0) return luaL_error(L, "poller wait failed: %s", strerror(-n));
    lua_getiuservalue(L, 1, 1);                     /* 4 */
    lua_Integer k = 0;
    for (int i = 0; i < n; i++) {
        int fd = p->rdy[i].fd, got = p->rdy[i].got;
        if ((size_t) fd >= p->nreg) continue;
        poller_reg *r = &p->reg[fd];
        int readers = r->nr;
        poller_takefd(L, p, r, fd, got, &k);
        int ev = poller_needed(r);
        if ((got & WAIT_R) && readers == 0) ev &= ~WAIT_R;   /* lingered for nothing */
        if (ev != r->ev) poller_apply(L, p, fd, ev, r->token);
    }
    lua_pushnil(L);
    lua_rawseti(L, 3, k + 1);
    lua_pushinteger(L, k);
    return 1;
}

/* p:_take(fd, out) -> n: fd is being closed: every task waiting on it goes
 * to out[1..n], and its registration is removed. */
static int poller_take(lua_State *L) {
    poller *p = poller_cocheck(L);
    lua_Integer fd = luaL_checkinteger(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    lua_Integer k = 0;
    if (fd >= 0 && (size_t) fd < p->nreg) {
        lua_getiuservalue(L, 1, 1);                 /* 4 */
        poller_takefd(L, p, &p->reg[fd], (int) fd, WAIT_R | WAIT_W, &k);
        poller_apply(L, p, (int) fd, 0, 0);
    }
    lua_pushnil(L);
    lua_rawseti(L, 3, k + 1);
    lua_pushinteger(L, k);
    return 1;
}

static int poller_getfd(lua_State *L) {
    poller *p = class_check(L, 1, POLLER);
    lua_pushinteger(L, p->closed ? -1 : p->fd);
    return 1;
}

static int poller_close(lua_State *L) {
    poller *p = class_check(L, 1, POLLER);
    if (!p->closed) {
        p->closed = 1;
        if (p->fd >= 0) close(p->fd);
        p->fd = -1;
        void *ud;
        lua_Alloc f = lua_getallocf(L, &ud);
#ifdef __linux__
        f(ud, p->ev, p->cap * sizeof *p->ev, 0);
        p->ev = NULL;
#else
        f(ud, p->pfd, p->cap * sizeof *p->pfd, 0);
        p->pfd = NULL;
#endif
        f(ud, p->reg, p->nreg * sizeof *p->reg, 0);
        p->reg = NULL;
        p->nreg = 0;
        f(ud, p->rdy, p->nrdy * sizeof *p->rdy, 0);
        p->rdy = NULL;
        p->nrdy = 0;
        p->nwait = 0;
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
    static const luaL_Reg comethods[] = {
        {"_add", poller_add},
        {"_remove", poller_remove},
        {"_collect", poller_collect},
        {"_take", poller_take},
        {NULL, NULL}
    };
    class_new(L, POLLER, methods, meta);
    luaL_getmetatable(L, POLLER);
    lua_getfield(L, -1, "__index");
    for (const luaL_Reg *r = comethods; r->name != NULL; r++) {
        lua_pushvalue(L, -2);                      /* upvalue: the metatable (poller_cocheck) */
        lua_pushcclosure(L, r->func, 1);
        lua_setfield(L, -2, r->name);
    }
    lua_pop(L, 2);
    lua_pushcfunction(L, poller_new);
    lua_setfield(L, -2, "poller");
    lua_pushcfunction(L, poller_cosetup);
    lua_setfield(L, -2, "_cosetup");
    lua_pushcfunction(L, poller_now);
    lua_setfield(L, -2, "_now");
}
