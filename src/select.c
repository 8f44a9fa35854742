/* socket.select(recvt, sendt [, timeout]) on poll(2). Our own sockets are
 * read straight from their class_base; foreign objects through :getfd()
 * and :dirty(). Results: dirty receivers first, then ascending fd. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>
#include "compat.h"
#include "class.h"
#include "select.h"
#include "timeout.h"
#include "wait.h"

#define SELECT_STACK 64         /* entries handled without a heap block */

typedef struct select_entry {
    int fd;
    int want;                   /* 1: read, 2: write */
    int tab, idx;               /* where the object is: table slot and array index */
} select_entry;

/* fd of the element on top of the stack (-1 to ignore), and its dirty flag. */
/* Metatables found selectable during one call: most sets hold sockets of a
 * few classes, which then cost one pointer compare, not registry lookups. */
#define SELECT_KNOWN 8
typedef struct select_known {
    const void *mt[SELECT_KNOWN];
    int n;
} select_known;

static class_base *select_tobase(lua_State *L, select_known *k) {
    if (lua_type(L, -1) != LUA_TUSERDATA || !lua_getmetatable(L, -1)) return NULL;
    const void *mt = lua_topointer(L, -1);
    lua_pop(L, 1);
    for (int i = 0; i < k->n; i++)
        if (k->mt[i] == mt) return lua_touserdata(L, -1);
    class_base *b = class_tobase(L, -1);
    if (b != NULL && k->n < SELECT_KNOWN) k->mt[k->n++] = mt;
    return b;
}

static int select_getfd(lua_State *L, int *dirty, select_known *known) {
    *dirty = 0;
    class_base *b = select_tobase(L, known);
    if (b != NULL) {
        *dirty = b->fd >= 0 && b->dirty != NULL && b->dirty(b);
        return b->fd;
    }
    int t = lua_type(L, -1);
    if (t != LUA_TTABLE && t != LUA_TUSERDATA) return -1;   /* numbers, strings, ... */
    if (t == LUA_TUSERDATA && !lua_getmetatable(L, -1)) return -1;
    if (t == LUA_TUSERDATA) lua_pop(L, 1);
    int fd = -1;
    if (lua_getfield(L, -1, "getfd") == LUA_TFUNCTION) {
        lua_pushvalue(L, -2);
        lua_call(L, 1, 1);
        int isnum;
        lua_Number n = lua_tonumberx(L, -1, &isnum);
        if (isnum && n >= 0 && n <= 2147483647.0) fd = (int) n;
    }
    lua_pop(L, 1);
    if (fd >= 0 && lua_getfield(L, -1, "dirty") == LUA_TFUNCTION) {
        lua_pushvalue(L, -2);
        lua_call(L, 1, 1);
        *dirty = lua_toboolean(L, -1);
    }
    if (fd >= 0) lua_pop(L, 1);
    return fd;
}

/* Appends obj (on top of the stack) to the result table at `out` once. */
static void select_collect(lua_State *L, int out) {
    lua_pushvalue(L, -1);
    if (lua_rawget(L, out) != LUA_TNIL) {       /* duplicates collapse */
        lua_pop(L, 2);
        return;
    }
    lua_pop(L, 1);
    lua_Integer n = (lua_Integer) lua_rawlen(L, out) + 1;
    lua_pushvalue(L, -1);
    lua_rawseti(L, out, n);
    lua_pushinteger(L, n);
    lua_rawset(L, out);                         /* out[obj] = n; pops obj */
}

static int select_cmp(const void *a, const void *b) {
    const select_entry *x = a, *y = b;
    if (x->fd != y->fd) return x->fd < y->fd ? -1 : 1;
    if (x->tab != y->tab) return x->tab < y->tab ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* One poll for at most `left` seconds (< 0: no limit). ppoll keeps the
 * nanoseconds (a 0.1 ms select took 1.2 ms through poll's whole ms);
 * elsewhere poll, rounded up to the next ms. Neither ends early. */
#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
static int select_once(struct pollfd *p, nfds_t n, double left) {
    struct timespec ts;
    if (left < 0) return ppoll(p, n, NULL, NULL);
    if (left > 1e9) left = 1e9;                 /* the loop below waits on */
    ts.tv_sec = (time_t) left;
    ts.tv_nsec = (long) ceil((left - (double) ts.tv_sec) * 1e9);
    if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;
    return ppoll(p, n, &ts, NULL);
}
#else
static int select_once(struct pollfd *p, nfds_t n, double left) {
    if (left < 0) return poll(p, n, -1);
    return poll(p, n, left * 1000 > 2147483647.0 ? 2147483647 : (int) ceil(left * 1000));
}
#endif

/* Polls until something is ready or `limit` seconds (< 0: no limit) have
 * passed on the monotonic clock; a wake-up before that waits again. */
static int select_poll(struct pollfd *p, nfds_t n, double limit) {
    double deadline = timeout_monotonic() + limit;
    for (;;) {
        int r = select_once(p, n, limit < 0 ? -1 : fmax(0, deadline - timeout_monotonic()));
        if (r >= 0) {
            if (r == 0 && limit >= 0 && timeout_monotonic() < deadline) continue;
            return r;
        }
        if (errno != EINTR) return -1;
    }
}

static int select_lua_select(lua_State *L);

/* After a yield: slot 3 holds the absolute deadline; select again with what
 * is left of it. */
static int select_k(lua_State *L, int status, lua_KContext ctx) {
    (void) status;
    (void) ctx;
    lua_settop(L, 3);
    wait_argleft(L, 3);
    return select_lua_select(L);
}

static int select_lua_select(lua_State *L) {
    lua_settop(L, 3);
    int tabs[2] = {1, 2};
    for (int k = 0; k < 2; k++)
        if (!lua_isnil(L, tabs[k])) luaL_checktype(L, tabs[k], LUA_TTABLE);
    double limit = luaL_optnumber(L, 3, -1);
    if (limit != limit) limit = 0;              /* NaN: no waiting, as settimeout(NaN) */
    lua_newtable(L);                            /* 4: readable */
    lua_newtable(L);                            /* 5: writable */
    lua_pushnil(L);                             /* 6: the entry block once it outgrows the stack */
    select_entry stack[SELECT_STACK], *e = stack;
    size_t n = 0, cap = SELECT_STACK;
    int ndirty = 0;
    select_known known = {{0}, 0};
    for (int k = 0; k < 2; k++) {
        if (lua_isnil(L, tabs[k])) continue;
        for (int i = 1; lua_geti(L, tabs[k], i) != LUA_TNIL; i++) {   /* honours __index, as 3.x */
            int dirty;
            int fd = select_getfd(L, &dirty, &known);
            if (fd >= 0 && k == 0 && dirty) {   /* buffered data: ready now */
                select_collect(L, 4);
                ndirty++;
                continue;
            }
            lua_pop(L, 1);
            if (fd < 0) continue;
            if (n == cap) {                      /* grow into a GC-managed block */
                cap *= 2;
                select_entry *ne = lua_newuserdatauv(L, cap * sizeof *ne, 0);
                for (size_t j = 0; j < n; j++) ne[j] = e[j];
                lua_replace(L, 6);
                e = ne;
            }
            e[n].fd = fd;
            e[n].want = k + 1;
            e[n].tab = tabs[k];
            e[n].idx = i;
            n++;
        }
        lua_pop(L, 1);
    }
    if (ndirty > 0) limit = 0;
    size_t sorted = 1;                     /* sets are often in fd order already */
    while (sorted < n && select_cmp(&e[sorted - 1], &e[sorted]) <= 0) sorted++;
    if (sorted < n) qsort(e, n, sizeof *e, select_cmp);
    /* One pollfd per distinct fd. */
    struct pollfd pstack[SELECT_STACK], *p = pstack;
    if (n > SELECT_STACK) p = lua_newuserdatauv(L, n * sizeof *p, 0);
    nfds_t np = 0;
    for (size_t j = 0; j < n; j++) {
        if (np == 0 || p[np - 1].fd != e[j].fd) {
            p[np].fd = e[j].fd;
            p[np].events = 0;
            p[np].revents = 0;
            np++;
        }
        p[np - 1].events |= (short) (e[j].want == 1 ? POLLIN : POLLOUT);
    }
    /* In a socket.co task: look once without waiting, then yield the whole
     * set; the restart (select_k) runs select again with the time left. */
    int intask = limit != 0 && wait_intask(L);
    int r = select_poll(np ? p : NULL, np, intask ? 0 : limit);
    if (r == 0 && intask) {
        lua_createtable(L, (int) (2 * np), 0);
        for (nfds_t i = 0; i < np; i++) {
            lua_pushinteger(L, p[i].fd);
            lua_rawseti(L, -2, (lua_Integer) (2 * i + 1));
            lua_pushinteger(L, ((p[i].events & POLLIN) ? WAIT_R : 0) | ((p[i].events & POLLOUT) ? WAIT_W : 0));
            lua_rawseti(L, -2, (lua_Integer) (2 * i + 2));
        }
        double deadline = wait_argdeadline(L, 3, limit);   /* select_k reads it back */
        wait_pushsentinel(L);
        lua_insert(L, -2);
        lua_pushinteger(L, 0);
        lua_pushnumber(L, deadline);
        return lua_yieldk(L, 4, 0, select_k);
    }
    if (r < 0) return luaL_error(L, "select failed");
    nfds_t q = 0;
    for (size_t j = 0; j < n && r > 0; j++) {
        while (p[q].fd != e[j].fd) q++;
        short ev = p[q].revents;
        int ready = e[j].want == 1 ? (ev & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0
                                   : (ev & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) != 0;
        if (!ready) continue;
        lua_geti(L, e[j].tab, e[j].idx);
        select_collect(L, e[j].want == 1 ? 4 : 5);
    }
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 5);
    if (r == 0 && ndirty == 0) {
        lua_pushliteral(L, "timeout");
        return 3;
    }
    return 2;
}

void select_open(lua_State *L) {
    lua_pushcfunction(L, select_lua_select);
    lua_setfield(L, -2, "select");
}
