/* UDP sockets: udp{unconnected} and udp{connected}, the methods of API.md §5.
 * Syscalls live in sock.c, addresses in inet.c, options in options.c. */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include "compat.h"
#include "class.h"
#include "inet.h"
#include "io.h"
#include "options.h"
#include "sock.h"
#include "timeout.h"
#include "udp.h"
#include "wait.h"

#define UDP_UNCONNECTED "udp{unconnected}"
#define UDP_CONNECTED "udp{connected}"
#define UDP_ANY "udp{any}"

/* The default receive size (socket._DATAGRAMSIZE). Up to this size a
 * datagram lands in a stack buffer: no allocation besides the result. */
#define UDP_DATAGRAM 8192
/* Larger sizes use a temporary Lua block, so the request is capped: 65535
 * is the most a UDP length field can describe (IPv4 carries at most 65507
 * bytes of payload, IPv6 without jumbograms 65527). A bigger size could
 * never return more data, so receive(1e9) is clamped here instead of
 * allocating a gigabyte or failing. */
#define UDP_MAXDATAGRAM 65535

typedef struct udp {
    class_base base;     /* base.fd: -1 when there is none */
    int family;          /* AF_UNSPEC until udp() gets its socket */
    int lazy;            /* made by udp(), no socket yet: sendto creates one */
    int bound;           /* setsockname succeeded: a replacement socket keeps the address */
    unsigned waited;     /* receives since one found nothing queued (0: read first) */
    int connected;       /* its class is UDP_CONNECTED (saves receive a second type check) */
    calls cs;            /* timeouts, and the read and write calls in flight */
} udp;

static int udp_dirty(const void *self) {
    (void) self;
    return 0;            /* datagrams are never buffered here */
}

/* Pushes a new object in a closed state; the fd is acquired afterwards. */
static udp *udp_push(lua_State *L, int family, const char *cls) {
    udp *u = lua_newuserdatauv(L, sizeof(udp), 0);
    u->base.fd = -1;
    u->base.dirty = udp_dirty;
    u->family = family;
    u->lazy = 0;
    u->bound = 0;
    u->waited = 0;
    u->connected = 0;
    call_init(&u->cs, -1, -1);
    class_set(L, -1, cls);
    return u;
}

static int udp_pusherror(lua_State *L, const char *err) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

static int udp_pushok(lua_State *L) {
    lua_pushinteger(L, 1);
    return 1;
}

static int udp_create(lua_State *L, int family) {
    udp *u = udp_push(L, family, UDP_UNCONNECTED);
    if (family == AF_UNSPEC) {
        u->lazy = 1;
        return 1;
    }
    int err = inet_create(&u->base.fd, family, SOCK_DGRAM);
    if (err != IO_DONE) return udp_pusherror(L, sock_strerror(err));
    return 1;
}

static int udp_lua_udp(lua_State *L) { return udp_create(L, AF_UNSPEC); }
static int udp_lua_udp4(lua_State *L) { return udp_create(L, AF_INET); }
static int udp_lua_udp6(lua_State *L) { return udp_create(L, AF_INET6); }

/* ---- sending and receiving ---------------------------------------------- */

/* Sends one datagram, to addr or (addr NULL) to the connected peer,
 * waiting for room as the object's timeout allows. */
static int udp_sendloop(udp *u, const char *data, size_t n, const struct sockaddr *addr,
                        socklen_t alen, size_t *sent) {
    int refusals = 0;
    call_enter(&u->cs.wr);             /* one datagram: a restart just tries again */
    for (;;) {
        int err = sock_sendto(u->base.fd, data, n, addr, alen, sent);
        if (err == IO_DONE) return IO_DONE;
        /* A refusal left over from an earlier connection: reading it
         * cleared it, and unconnected sockets never report it. */
        if (err == ECONNREFUSED && addr != NULL && refusals++ == 0) continue;
        if (err != IO_WANTWRITE) return err;
        if ((err = wait_fd(u->base.fd, WAIT_W, &u->cs.wr)) != IO_DONE) return err;
    }
}

/* Runs at a protected level, so that a failed allocation is a soft error. */
static int udp_alloc(lua_State *L) {
    lua_newuserdatauv(L, (size_t) lua_tointeger(L, 1), 0);
    return 1;
}

/* Receives one datagram of at most `size` bytes (the rest of a longer one
 * is lost) and pushes it; with `from`, also the sender's ip and port.
 * Returns NULL on success, else the error text (nothing pushed). */
static const char *udp_recvloop(lua_State *L, udp *u, size_t size, int connected, int from) {
    char stackbuf[UDP_DATAGRAM];
    struct sockaddr_storage addr;
    char *buf = stackbuf;
    if (u->base.fd < 0) return "closed";
    if (size > sizeof stackbuf) {
        lua_pushcfunction(L, udp_alloc);
        lua_pushinteger(L, (lua_Integer) size);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
            lua_pop(L, 1);
            return "out of memory";
        }
        buf = lua_touserdata(L, -1);            /* stays on the stack until copied */
    }
    int err, refusals = 0, waits = 0;
    size_t got;
    socklen_t alen;
    int again = call_enter(&u->cs.rd);
    /* Request/response: once a receive has had to wait, the next ones
     * likely will too, so they wait first (poll + recv, not recv EAGAIN +
     * poll + recv). Every 16th reads first to find out whether datagrams
     * now wait for us (then back to reading first); a restart after a
     * yield reads first. */
    int first = u->waited > 0 && (u->waited & 15) != 0 && !again && !call_iszero(&u->cs.rd);
    if (u->waited > 0) u->waited = u->waited % 0x10000 + 1;
    if (first) {
        err = wait_fd(u->base.fd, WAIT_R, &u->cs.rd);
        if (err != IO_DONE) {
            if (buf != stackbuf) lua_pop(L, 1);
            return sock_strerror(err);
        }
    }
    for (;;) {
        alen = sizeof addr;
        err = sock_recvfrom(u->base.fd, buf, size, (struct sockaddr *) &addr, &alen, &got);
        if (err == IO_DONE) {
            if (waits > 0) {
                if (u->waited == 0) u->waited = 1;
            } else if (!first) {
                u->waited = 0;                 /* it was there: read first again */
            }
            break;
        }
        if (err == ECONNREFUSED && !connected) {
            /* Stale, from an earlier connection (reading it cleared it):
             * unconnected sockets never report it. Retry while the deadline
             * allows, and once even with a zero timeout. */
            if (refusals++ == 0 || call_left(&u->cs.rd) != 0) continue;
            err = IO_TIMEOUT;
        }
        if (err == IO_WANTREAD) {
            waits++;
            err = wait_fd(u->base.fd, WAIT_R, &u->cs.rd);
        }
        if (err != IO_DONE) {
            if (buf != stackbuf) lua_pop(L, 1);
            return sock_strerror(err);
        }
    }
    lua_pushlstring(L, buf, got);
    if (buf != stackbuf) lua_remove(L, -2);     /* the temporary block */
    if (from) inet_pushaddr(L, (struct sockaddr *) &addr, alen);
    return NULL;
}

/* The size argument of receive/receivefrom: 8192 by default, clamped to
 * UDP_MAXDATAGRAM; negative (or NaN) is misuse. */
static size_t udp_checksize(lua_State *L) {
    lua_Number n = luaL_optnumber(L, 2, UDP_DATAGRAM);
    luaL_argcheck(L, n >= 0, 2, "invalid receive size");
    /* Up to 16 MiB a size is clamped to the largest datagram (scripts ask
     * for 65536 or 100000); beyond that it is a mistake, not a request. */
    luaL_argcheck(L, n <= 16777216.0, 2, "receive size too large");
    return n >= UDP_MAXDATAGRAM ? UDP_MAXDATAGRAM : (size_t) n;
}

/* ---- methods of every UDP object ----------------------------------------- */

static int udp_meth_close(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    wait_closing(L, u->base.fd);
    sock_close(&u->base.fd);
    u->lazy = 0;                                /* closed: sendto no longer creates */
    return udp_pushok(L);
}

static int udp_gc(lua_State *L);

/* __close, unlike __gc, can find tasks waiting on the object: wake them. */
static int udp_tbc(lua_State *L) {
    udp *u = class_testgroup(L, 1, UDP_ANY);
    if (u != NULL) wait_closing(L, u->base.fd);
    return udp_gc(L);
}

/* __gc and __close: release the fd whatever state the object is in. */
static int udp_gc(lua_State *L) {
    udp *u = class_testgroup(L, 1, UDP_ANY);    /* a metamethod can be called on anything */
    if (u != NULL) {
        sock_close(&u->base.fd);
        u->lazy = 0;
    }
    return 0;
}

static int udp_meth_getfd(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    lua_pushinteger(L, u->base.fd);
    return 1;
}

/* Swaps the fd without closing the old one, as 3.x. */
static int udp_meth_setfd(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    int fd = class_checkfd(L, 2);
    wait_closing(L, u->base.fd);      /* a task parked on the old fd wakes, as at close */
    u->base.fd = fd;
    call_newfd(&u->cs);
    return 0;
}

static int udp_meth_dirty(lua_State *L) {
    class_checkgroup(L, 1, UDP_ANY);
    lua_pushboolean(L, 0);
    return 1;
}

static int udp_meth_getfamily(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    lua_pushstring(L, u->family == AF_INET6 ? "inet6" : "inet4");
    return 1;
}

static int udp_meth_getsockname(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    return inet_pushname(L, u->base.fd, 0);
}

static int udp_meth_setoption(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    return options_meth_set(L, options_udp, u->base.fd);
}

static int udp_meth_getoption(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    return options_meth_get(L, options_udp, u->base.fd);
}

static int udp_meth_settimeout(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    return timeout_meth_settimeout(L, &u->cs.tm);
}

static int udp_meth_gettimeout(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    return timeout_meth_gettimeout(L, &u->cs.tm);
}

/* setpeername(addr, port) connects (staying put on failure, as 3.x);
 * setpeername("*") dissolves the association, port optional. */
static int udp_meth_setpeername(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    const char *host = luaL_checkstring(L, 2);
    if (strcmp(host, "*") == 0) {
        /* Errors ignored: macOS disconnects but reports EAFNOSUPPORT. */
        if (u->base.fd >= 0) sock_disconnect(u->base.fd);
        class_set(L, 1, UDP_UNCONNECTED);
        u->connected = 0;
        return udp_pushok(L);
    }
    char pbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    if (serv == NULL) return udp_pusherror(L, "invalid port");
    inet_carry carry = {options_udp, u->bound};
    int syserr;
    call_markstart(&u->cs.wr);         /* a datagram connect never waits */
    const char *err = inet_tryconnect(&u->base.fd, &u->family, host, serv, SOCK_DGRAM,
                                      &u->cs.wr, 1, &carry, &syserr);
    if (err != NULL) return udp_pusherror(L, err);
    class_set(L, 1, UDP_CONNECTED);
    u->connected = 1;
    return udp_pushok(L);
}

WAIT_RESTART(udp_meth_receive)
static int udp_meth_receive(lua_State *L) {
    udp *u = class_checkgroup(L, 1, UDP_ANY);
    if (call_begin(L, &u->cs.rd, udp_meth_receive_k) == CALL_BUSY) return udp_pusherror(L, call_busy(&u->cs.rd));
    size_t size = udp_checksize(L);
    int connected = u->connected;
    const char *err = udp_recvloop(L, u, size, connected, 0);
    return err != NULL ? udp_pusherror(L, err) : 1;
}

/* ---- unconnected ----------------------------------------------------------- */

static int udp_meth_setsockname(lua_State *L) {
    udp *u = class_check(L, 1, UDP_UNCONNECTED);
    const char *host = luaL_checkstring(L, 2);
    char pbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    if (serv == NULL) return udp_pusherror(L, "invalid port");
    const char *err = inet_trybind(&u->base.fd, &u->family, host, serv, SOCK_DGRAM);
    if (err != NULL) return udp_pusherror(L, err);
    u->bound = 1;
    return udp_pushok(L);
}

WAIT_RESTART(udp_meth_sendto)
static int udp_meth_sendto(lua_State *L) {
    udp *u = class_check(L, 1, UDP_UNCONNECTED);
    if (call_begin(L, &u->cs.wr, udp_meth_sendto_k) == CALL_BUSY) return udp_pusherror(L, call_busy(&u->cs.wr));
    size_t n;
    const char *data = luaL_checklstring(L, 2, &n);
    const char *host = luaL_checkstring(L, 3);
    char pbuf[8];
    const char *serv = inet_optport(L, 4, NULL, pbuf);
    if (u->base.fd < 0 && !u->lazy) return udp_pusherror(L, "closed");
    if (serv == NULL) return udp_pusherror(L, "invalid port");
    struct sockaddr_storage addr;
    socklen_t alen;
    int gai = inet_numeric(u->family, SOCK_DGRAM, host, serv, &addr, &alen);
    /* 3.x reports these with plain gai_strerror: "Name or service not known". */
    if (gai != 0) return udp_pusherror(L, gai_strerror(gai));
    if (u->base.fd < 0) {                       /* udp(): the destination picks the family */
        int err = inet_create(&u->base.fd, addr.ss_family, SOCK_DGRAM);
        if (err != IO_DONE) return udp_pusherror(L, sock_strerror(err));
        u->family = addr.ss_family;
        u->lazy = 0;
    }
    size_t sent;
    int err = udp_sendloop(u, data, n, (struct sockaddr *) &addr, alen, &sent);
    if (err != IO_DONE) return udp_pusherror(L, sock_strerror(err));
    lua_pushinteger(L, (lua_Integer) sent);
    return 1;
}

WAIT_RESTART(udp_meth_receivefrom)
static int udp_meth_receivefrom(lua_State *L) {
    udp *u = class_check(L, 1, UDP_UNCONNECTED);
    if (call_begin(L, &u->cs.rd, udp_meth_receivefrom_k) == CALL_BUSY) return udp_pusherror(L, call_busy(&u->cs.rd));
    size_t size = udp_checksize(L);
    const char *err = udp_recvloop(L, u, size, 0, 1);
    return err != NULL ? udp_pusherror(L, err) : 3;
}

/* ---- connected ------------------------------------------------------------- */

WAIT_RESTART(udp_meth_send)
static int udp_meth_send(lua_State *L) {
    udp *u = class_check(L, 1, UDP_CONNECTED);
    if (call_begin(L, &u->cs.wr, udp_meth_send_k) == CALL_BUSY) return udp_pusherror(L, call_busy(&u->cs.wr));
    size_t n;
    const char *data = luaL_checklstring(L, 2, &n);
    if (u->base.fd < 0) return udp_pusherror(L, "closed");
    size_t sent;
    int err = udp_sendloop(u, data, n, NULL, 0, &sent);
    if (err != IO_DONE) return udp_pusherror(L, sock_strerror(err));
    lua_pushinteger(L, (lua_Integer) sent);
    return 1;
}

static int udp_meth_getpeername(lua_State *L) {
    udp *u = class_check(L, 1, UDP_CONNECTED);
    return inet_pushname(L, u->base.fd, 1);
}

/* socket.fromfd(fd, "udp{...}"): adopt a datagram descriptor (core.c dispatches). */
static int udp_lua_fromfd(lua_State *L) {
    int fd = class_checkfd(L, 1);
    udp *u = udp_push(L, AF_UNSPEC, luaL_checkstring(L, 2));
    const char *err = sock_adopt(fd, SOCK_DGRAM, AF_INET, "not a udp socket", &u->family);
    if (err != NULL) return udp_pusherror(L, err);
    u->base.fd = fd;
    return 1;
}

void udp_open(lua_State *L) {
    /* One method table for both classes, each method checking the class
     * it needs: misuse then raises "... (udp{connected} expected)" as in
     * 3.x instead of "attempt to call a nil value". */
    static const luaL_Reg methods[] = {
        {"close", udp_meth_close},
        {"dirty", udp_meth_dirty},
        {"getfamily", udp_meth_getfamily},
        {"getfd", udp_meth_getfd},
        {"getoption", udp_meth_getoption},
        {"getpeername", udp_meth_getpeername},
        {"getsockname", udp_meth_getsockname},
        {"gettimeout", udp_meth_gettimeout},
        {"receive", udp_meth_receive},
        {"receivefrom", udp_meth_receivefrom},
        {"send", udp_meth_send},
        {"sendto", udp_meth_sendto},
        {"setfd", udp_meth_setfd},
        {"setoption", udp_meth_setoption},
        {"setpeername", udp_meth_setpeername},
        {"setsockname", udp_meth_setsockname},
        {"settimeout", udp_meth_settimeout},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", udp_gc},
        {"__close", udp_tbc},
        {"__tostring", class_tostring},
        {NULL, NULL}
    };
    static const char *const classes[] = {UDP_UNCONNECTED, UDP_CONNECTED};
    for (int i = 0; i < 2; i++) {
        class_new(L, classes[i], methods, meta);
        class_add(L, classes[i], UDP_ANY);
        class_selectable(L, classes[i]);
    }
    static const luaL_Reg funcs[] = {
        {"udp", udp_lua_udp},
        {"udp4", udp_lua_udp4},
        {"udp6", udp_lua_udp6},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
    /* fromfd dispatch: registry["netsocket.fromfd"][class] = adopter */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "netsocket.fromfd");
    for (int i = 0; i < 2; i++) {
        lua_pushcfunction(L, udp_lua_fromfd);
        lua_setfield(L, -2, classes[i]);
    }
    lua_pop(L, 1);
}
