/* socket.dns.resolve and socket.dns.localaddresses (API.md §11).
 *
 * resolve() hands the name to a detached worker thread that runs
 * getaddrinfo. The request lives on the C heap, shared by the Lua object and
 * the worker through an atomic reference count: whoever drops the last
 * reference frees it and closes its descriptors, so an object collected
 * before its answer arrives leaks nothing, and the worker never touches Lua.
 * The worker reports completion on a descriptor (an eventfd on Linux, else a
 * pipe), which makes the object usable with socket.select and wait.c. */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif
#include "compat.h"
#include "class.h"
#include "inet.h"
#include "io.h"
#include "resolve.h"
#include "sock.h"
#include "timeout.h"
#include "wait.h"

#define RESOLVE_CLASS "dns{address}"
/* getaddrinfo and the NSS modules it loads need little stack; the default
 * (8 MiB of address space each) would limit how many lookups can run. */
#define RESOLVE_STACK ((size_t) 512 * 1024)

typedef struct resolve_addr {
    int family;
    char addr[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];   /* room for "fe80::1%eth0" */
} resolve_addr;

/* Shared by the object and the worker. The worker fills gai, syserr, naddrs
 * and addrs, then stores done with release order; the object reads them only
 * after loading done with acquire order. */
typedef struct resolve_req {
    atomic_int refs;
    atomic_int done;
    int gai;                  /* getaddrinfo's code, 0 on success */
    int syserr;               /* errno behind EAI_SYSTEM (the worker's errno) */
    int spawnerr;             /* pthread_create failed: no worker ever ran */
    size_t naddrs;
    resolve_addr *addrs;
    int rfd, wfd;             /* the same descriptor twice for an eventfd */
    int family;
    char name[];
} resolve_req;

enum {
    RESOLVE_LIVE,             /* has a request; its status is the answer */
    RESOLVE_CANCELLED,        /* has a request whose answer is ignored */
    RESOLVE_NOREQ,            /* no request could be made: err says why */
    RESOLVE_CLOSED            /* released by close(), __close or __gc */
};

typedef struct resolve {
    class_base base;          /* first: select() reads the fd from here */
    resolve_req *req;
    int state;
    int err;
} resolve;

/* Makes the descriptor readable. It is never read back: a finished lookup
 * stays readable, as select expects. */
static void resolve_signal(int fd) {
#ifdef __linux__
    uint64_t one = 1;
    while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {}
#else
    char one = 1;
    while (write(fd, &one, 1) < 0 && errno == EINTR) {}
#endif
}

/* Publishes the worker's results, then wakes whoever polls. */
static void resolve_finish(resolve_req *rq) {
    atomic_store_explicit(&rq->done, 1, memory_order_release);
    resolve_signal(rq->wfd);
}

static void resolve_release(resolve_req *rq) {
    if (atomic_fetch_sub_explicit(&rq->refs, 1, memory_order_acq_rel) != 1) return;
    if (rq->wfd != rq->rfd) close(rq->wfd);
    close(rq->rfd);
    free(rq->addrs);
    free(rq);
}

/* Non-blocking, close-on-exec, on every system. */
static int resolve_openfds(resolve_req *rq) {
#ifdef __linux__
    rq->rfd = rq->wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return rq->rfd < 0 ? errno : 0;
#else
    int p[2];
    if (pipe(p) != 0) return errno;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(p[i], F_GETFL);
        if (fl < 0 || fcntl(p[i], F_SETFL, fl | O_NONBLOCK) != 0 ||
            fcntl(p[i], F_SETFD, FD_CLOEXEC) != 0) {
            int e = errno;
            close(p[0]);
            close(p[1]);
            return e;
        }
    }
    rq->rfd = p[0];
    rq->wfd = p[1];
    return 0;
#endif
}

/* Copies the numeric addresses out of getaddrinfo's list. */
static int resolve_collect(resolve_req *rq, const struct addrinfo *res) {
    size_t n = 0;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) n++;
    if (n == 0) return EAI_NONAME;
    rq->addrs = malloc(n * sizeof *rq->addrs);
    if (rq->addrs == NULL) return EAI_MEMORY;
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        resolve_addr *a = &rq->addrs[rq->naddrs];
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            getnameinfo(ai->ai_addr, ai->ai_addrlen, a->addr, sizeof a->addr,
                        NULL, 0, NI_NUMERICHOST) != 0)
            continue;
        a->family = ai->ai_family;
        rq->naddrs++;
    }
    return rq->naddrs == 0 ? EAI_NONAME : 0;
}

static void *resolve_worker(void *arg) {
    resolve_req *rq = arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = rq->family;
    hints.ai_socktype = SOCK_STREAM;    /* one entry per address */
    int err = getaddrinfo(rq->name, NULL, &hints, &res);
    if (err == EAI_SYSTEM) rq->syserr = errno;
    if (err == 0) {
        err = resolve_collect(rq, res);
        freeaddrinfo(res);
    }
    rq->gai = err;
    resolve_finish(rq);
    resolve_release(rq);
    return NULL;
}

/* Starts the worker with every signal blocked, so that signals keep going to
 * the threads that run Lua. Returns 0 or pthread_create's error. */
static int resolve_spawn(resolve_req *rq) {
    pthread_attr_t attr;
    int err = pthread_attr_init(&attr);
    if (err != 0) return err;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    size_t stack = RESOLVE_STACK;
#ifdef PTHREAD_STACK_MIN
    if (stack < (size_t) PTHREAD_STACK_MIN) stack = (size_t) PTHREAD_STACK_MIN;
#endif
    pthread_attr_setstacksize(&attr, stack);   /* on failure the default stays */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    atomic_fetch_add_explicit(&rq->refs, 1, memory_order_relaxed);   /* the worker's */
    pthread_t tid;
    err = pthread_create(&tid, &attr, resolve_worker, rq);
    if (err != 0) atomic_fetch_sub_explicit(&rq->refs, 1, memory_order_relaxed);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return err;
}

/* A worker may still be running our code when Lua closes the state and
 * unloads this library; pin the library in memory before the first one. */
static const char resolve_here = 0;
static void resolve_pin(lua_State *L) {
    if (lua_toboolean(L, lua_upvalueindex(1))) return;
    Dl_info info;
    if (dladdr(&resolve_here, &info) != 0 && info.dli_fname != NULL)
        (void) dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    lua_pushboolean(L, 1);
    lua_replace(L, lua_upvalueindex(1));
}

static int resolve_dirty(const void *self) {
    (void) self;
    return 0;
}

/* dns.resolve(name [, family]): the object exists (closed) before anything
 * is acquired, so a memory error in between leaks nothing. */
static int resolve_lua_resolve(lua_State *L) {
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    int family = inet_checkfamily(L, 2, "unspec");
    resolve *r = lua_newuserdatauv(L, sizeof *r, 1);
    r->base.fd = -1;
    r->base.dirty = resolve_dirty;
    r->req = NULL;
    r->state = RESOLVE_CLOSED;
    r->err = 0;
    luaL_setmetatable(L, RESOLVE_CLASS);
    lua_pushvalue(L, 1);                  /* a string now, even if a number was given */
    lua_setiuservalue(L, -2, 1);
    resolve_pin(L);
    resolve_req *rq = malloc(sizeof *rq + len + 1);
    if (rq == NULL) {
        r->state = RESOLVE_NOREQ;
        r->err = ENOMEM;
        return 1;
    }
    memset(rq, 0, sizeof *rq);
    int err = resolve_openfds(rq);
    if (err != 0) {
        free(rq);
        r->state = RESOLVE_NOREQ;
        r->err = err;
        return 1;
    }
    atomic_init(&rq->refs, 1);            /* the object's */
    atomic_init(&rq->done, 0);
    rq->family = family;
    memcpy(rq->name, name, len + 1);
    r->req = rq;
    r->base.fd = rq->rfd;
    r->state = RESOLVE_LIVE;
    if (memchr(name, '\0', len) != NULL) {   /* getaddrinfo would see a shorter name */
        rq->gai = EAI_NONAME;
        resolve_finish(rq);
    } else if ((err = resolve_spawn(rq)) != 0) {
        rq->spawnerr = err;
        resolve_finish(rq);
    }
    return 1;
}

static resolve *resolve_check(lua_State *L) {
    return class_check(L, 1, RESOLVE_CLASS);
}

/* The request if it finished and its answer counts, else NULL. */
static resolve_req *resolve_done(const resolve *r) {
    if (r->state != RESOLVE_LIVE) return NULL;
    if (!atomic_load_explicit(&r->req->done, memory_order_acquire)) return NULL;
    return r->req;
}

/* The addresses, or NULL unless the lookup succeeded. */
static resolve_req *resolve_success(const resolve *r) {
    resolve_req *rq = resolve_done(r);
    return rq != NULL && rq->spawnerr == 0 && rq->gai == 0 ? rq : NULL;
}

static int resolve_pushstatus(lua_State *L, const resolve *r) {
    if (r->state == RESOLVE_LIVE && resolve_done(r) == NULL) {
        lua_pushliteral(L, "waiting");
        return 1;
    }
    if (resolve_success(r) != NULL) {
        lua_pushliteral(L, "success");
        return 1;
    }
    lua_pushliteral(L, "failure");
    const resolve_req *rq = r->req;
    switch (r->state) {
        case RESOLVE_CLOSED: lua_pushliteral(L, "closed"); break;
        case RESOLVE_CANCELLED: lua_pushliteral(L, "cancelled"); break;
        case RESOLVE_NOREQ: lua_pushstring(L, strerror(r->err)); break;
        default:
            if (rq->spawnerr != 0)
                lua_pushfstring(L, "cannot start resolver thread: %s", strerror(rq->spawnerr));
            else if (rq->gai == EAI_SYSTEM)
                lua_pushstring(L, strerror(rq->syserr));
            else
                lua_pushstring(L, sock_gaistrerror(rq->gai));
    }
    return 2;
}

static int resolve_lua_getstatus(lua_State *L) {
    return resolve_pushstatus(L, resolve_check(L));
}

static int resolve_lua_wait(lua_State *L);

/* After a socket.co yield: slot 2 holds the absolute deadline. A wait that
 * a close() ended answers nil, "closed", as a socket's waiters do (API.md
 * §12.2); wait() on an object closed before it answers as getstatus. */
static int resolve_wait_k(lua_State *L, int status, lua_KContext ctx) {
    (void) status;
    (void) ctx;
    if (resolve_check(L)->state == RESOLVE_CLOSED) {
        lua_pushnil(L);
        lua_pushliteral(L, "closed");
        return 2;
    }
    lua_settop(L, 2);
    wait_argleft(L, 2);
    return resolve_lua_wait(L);
}

/* wait([timeout]): seconds; nil or negative waits until done, 0 polls.
 * In a socket.co task it yields until the fd is readable or the deadline. */
static int resolve_lua_wait(lua_State *L) {
    resolve *r = resolve_check(L);
    double limit = luaL_optnumber(L, 2, -1);
    if (r->state == RESOLVE_LIVE && resolve_done(r) == NULL && limit != 0 && wait_intask(L)) {
        lua_settop(L, 2);
        double deadline = wait_argdeadline(L, 2, limit);
        return wait_yield(L, r->base.fd, WAIT_R, deadline, 0, 0, resolve_wait_k);
    }
    calls cs;                          /* this wait's deadline (no object keeps one) */
    call_init(&cs, limit, -1);
    call_markstart(&cs.rd);
    /* The state is re-read after each wake-up: a task may cancel or close
     * the object while this one waits. */
    while (r->state == RESOLVE_LIVE && resolve_done(r) == NULL) {
        if (wait_fd(r->base.fd, WAIT_R, &cs.rd) != IO_DONE) break;   /* timeout, or poll failed */
    }
    return resolve_pushstatus(L, r);
}

static int resolve_lua_getip(lua_State *L) {
    const resolve_req *rq = resolve_success(resolve_check(L));
    if (rq == NULL) lua_pushnil(L);
    else lua_pushstring(L, rq->addrs[0].addr);
    return 1;
}

static int resolve_lua_getips(lua_State *L) {
    const resolve_req *rq = resolve_success(resolve_check(L));
    size_t n = rq != NULL ? rq->naddrs : 0;
    lua_createtable(L, n < INT_MAX ? (int) n : 0, 0);
    for (size_t i = 0; i < n; i++) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, inet_familyname(rq->addrs[i].family));
        lua_setfield(L, -2, "family");
        lua_pushstring(L, rq->addrs[i].addr);
        lua_setfield(L, -2, "addr");
        lua_rawseti(L, -2, (lua_Integer) i + 1);
    }
    return 1;
}

/* gethostname() and __tostring: the name as given. */
static int resolve_lua_gethostname(lua_State *L) {
    resolve_check(L);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int resolve_lua_getfd(lua_State *L) {
    lua_pushinteger(L, resolve_check(L)->base.fd);
    return 1;
}

static int resolve_lua_dirty(lua_State *L) {
    resolve_check(L);
    lua_pushboolean(L, 0);
    return 1;
}

/* The worker cannot be stopped inside getaddrinfo, so cancel only makes the
 * object ignore it (the worker frees the request if it finishes last) and
 * makes the descriptor readable, as for any finished lookup. */
static int resolve_lua_cancel(lua_State *L) {
    resolve *r = resolve_check(L);
    if (r->state == RESOLVE_LIVE) {
        r->state = RESOLVE_CANCELLED;
        resolve_signal(r->req->wfd);
    }
    lua_pushinteger(L, 1);
    return 1;
}

/* __gc: drops the object's reference at once, even while the worker runs.
 * (No task can be waiting: a waiting task holds the object.) */
static int resolve_lua_gc(lua_State *L) {
    resolve *r = resolve_check(L);
    if (r->req != NULL) resolve_release(r->req);
    r->req = NULL;
    r->base.fd = -1;
    r->state = RESOLVE_CLOSED;
    lua_pushinteger(L, 1);
    return 1;
}

/* close() and __close: as __gc, but a socket.co task waiting on the
 * descriptor wakes first, and finds the object closed. */
static int resolve_lua_close(lua_State *L) {
    resolve *r = resolve_check(L);
    if (r->req != NULL) wait_closing(L, r->base.fd);
    return resolve_lua_gc(L);
}

/* ---- localaddresses ---------------------------------------------------- */

typedef struct resolve_ifrow {
    const struct ifaddrs *ifa;
    unsigned index;           /* interface index, for sorting */
    int pos;                  /* order from getifaddrs: keeps the sort stable */
} resolve_ifrow;

/* What getifaddrs returned, owned by a to-be-closed userdata so that a
 * memory error while building the Lua list frees it too. */
typedef struct resolve_ifbox {
    struct ifaddrs *list;
    resolve_ifrow *rows;
} resolve_ifbox;

static int resolve_ifbox_free(lua_State *L) {
    resolve_ifbox *box = lua_touserdata(L, 1);
    if (box->list != NULL) freeifaddrs(box->list);
    free(box->rows);
    box->list = NULL;
    box->rows = NULL;
    return 0;
}

/* The index of an interface; a Linux label such as "eth0:1" sorts with eth0. */
static unsigned resolve_ifindex(const char *name) {
    unsigned idx = if_nametoindex(name);
    const char *colon = strchr(name, ':');
    if (idx == 0 && colon != NULL && (size_t) (colon - name) < IF_NAMESIZE) {
        char base[IF_NAMESIZE];
        memcpy(base, name, (size_t) (colon - name));
        base[colon - name] = '\0';
        idx = if_nametoindex(base);
    }
    return idx;
}

static int resolve_ifcmp(const void *a, const void *b) {
    const resolve_ifrow *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    int fx = x->ifa->ifa_addr->sa_family == AF_INET6;   /* inet before inet6 */
    int fy = y->ifa->ifa_addr->sa_family == AF_INET6;
    if (fx != fy) return fx - fy;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Pushes the text of an address of `family` (netmasks carry no family of
 * their own on every system), or nil. */
static void resolve_pushaddr(lua_State *L, int family, const struct sockaddr *sa) {
    char buf[INET6_ADDRSTRLEN];
    const void *bin = NULL;
    if (sa != NULL && family == AF_INET)
        bin = &((const struct sockaddr_in *) (const void *) sa)->sin_addr;
    else if (sa != NULL)
        bin = &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr;
    if (bin != NULL && inet_ntop(family, bin, buf, sizeof buf) != NULL) lua_pushstring(L, buf);
    else lua_pushnil(L);
}

static int resolve_lua_localaddresses(lua_State *L) {
    int family = inet_checkfamily(L, 1, "unspec");
    resolve_ifbox *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->list = NULL;
    box->rows = NULL;
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_setmetatable(L, -2);
    lua_toclose(L, -1);
    if (getifaddrs(&box->list) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    int n = 0, pos = 0;
    for (const struct ifaddrs *ifa = box->list; ifa != NULL; ifa = ifa->ifa_next) n++;
    box->rows = malloc((size_t) (n > 0 ? n : 1) * sizeof *box->rows);
    if (box->rows == NULL) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(ENOMEM));
        return 2;
    }
    n = 0;
    for (const struct ifaddrs *ifa = box->list; ifa != NULL; ifa = ifa->ifa_next, pos++) {
        if (ifa->ifa_addr == NULL) continue;
        int af = ifa->ifa_addr->sa_family;
        if ((af != AF_INET && af != AF_INET6) || (family != AF_UNSPEC && af != family)) continue;
        box->rows[n].ifa = ifa;
        box->rows[n].index = resolve_ifindex(ifa->ifa_name);
        box->rows[n].pos = pos;
        n++;
    }
    qsort(box->rows, (size_t) n, sizeof *box->rows, resolve_ifcmp);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        const struct ifaddrs *ifa = box->rows[i].ifa;
        int af = ifa->ifa_addr->sa_family;
        lua_createtable(L, 0, 6);
        lua_pushstring(L, ifa->ifa_name);
        lua_setfield(L, -2, "interface");
        lua_pushstring(L, inet_familyname(af));
        lua_setfield(L, -2, "family");
        resolve_pushaddr(L, af, ifa->ifa_addr);
        lua_setfield(L, -2, "addr");
        resolve_pushaddr(L, af, ifa->ifa_netmask);
        lua_setfield(L, -2, "netmask");
        lua_pushboolean(L, (ifa->ifa_flags & IFF_UP) != 0);
        lua_setfield(L, -2, "up");
        lua_pushboolean(L, (ifa->ifa_flags & IFF_LOOPBACK) != 0);
        lua_setfield(L, -2, "loopback");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

void resolve_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"getstatus", resolve_lua_getstatus},
        {"get_status", resolve_lua_getstatus},
        {"wait", resolve_lua_wait},
        {"wait_until_resolved", resolve_lua_wait},
        {"getip", resolve_lua_getip},
        {"get_ip", resolve_lua_getip},
        {"getips", resolve_lua_getips},
        {"gethostname", resolve_lua_gethostname},
        {"get_hostname", resolve_lua_gethostname},
        {"getfd", resolve_lua_getfd},
        {"dirty", resolve_lua_dirty},
        {"cancel", resolve_lua_cancel},
        {"close", resolve_lua_close},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", resolve_lua_gc},
        {"__close", resolve_lua_close},
        {"__tostring", resolve_lua_gethostname},
        {NULL, NULL}
    };
    class_new(L, RESOLVE_CLASS, methods, meta);
    class_selectable(L, RESOLVE_CLASS);
    lua_pushboolean(L, 0);                    /* "library pinned" flag */
    lua_pushcclosure(L, resolve_lua_resolve, 1);
    lua_setfield(L, -2, "resolve");
    lua_createtable(L, 0, 2);                 /* metatable of the getifaddrs box */
    lua_pushcfunction(L, resolve_ifbox_free);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, resolve_ifbox_free);
    lua_setfield(L, -2, "__gc");
    lua_pushcclosure(L, resolve_lua_localaddresses, 1);
    lua_setfield(L, -2, "localaddresses");
}
