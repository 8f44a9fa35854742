/* Unix-domain sockets: paths instead of host:port, the rest is stream.c
 * (unixstream) and the datagram code below (unixdgram). A path whose first
 * byte is "\0" is a Linux abstract name: all its bytes count, no NUL added. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "inet.h"
#include "sock.h"
#include "stream.h"
#include "unix.h"
#include "wait.h"

#define UNIX_MASTER "unixstream{master}"
#define UNIX_CLIENT "unixstream{client}"
#define UNIX_SERVER "unixstream{server}"
#define UNIX_ANY "unixstream{any}"

/* Fills *sa from the path at idx. Returns NULL or the soft error. */
static const char *unix_addr(lua_State *L, int idx, struct sockaddr_un *sa, socklen_t *len) {
    size_t n;
    const char *path = luaL_checklstring(L, idx, &n);
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    int abstract = n > 0 && path[0] == '\0';
    if (!abstract) luaL_argcheck(L, memchr(path, '\0', n) == NULL, idx, "path contains a zero byte");
    /* A file path needs room for its NUL; an abstract name does not. */
    if (n + !abstract > sizeof sa->sun_path) return "path too long";
    memcpy(sa->sun_path, path, n);
    *len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + !abstract);
    return NULL;
}

/* Pushes the path of a unix address: "" when unnamed, "\0name" when abstract. */
static void unix_pushpath(lua_State *L, const struct sockaddr_un *sa, socklen_t len) {
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t n = (size_t) len > off ? (size_t) len - off : 0;   /* socklen_t is signed on Windows */
    if (n > sizeof sa->sun_path) n = sizeof sa->sun_path;
    if (n > 0 && sa->sun_path[0] != '\0') n = strnlen(sa->sun_path, n);
    lua_pushlstring(L, sa->sun_path, n);
}

static int unix_pushname(lua_State *L, int fd, int peer) {
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    int r = peer ? getpeername(fd, (struct sockaddr *) &sa, &len)
                 : getsockname(fd, (struct sockaddr *) &sa, &len);
    if (r != 0) return stream_pusherror(L, strerror(errno));
    unix_pushpath(L, &sa, len);
    return 1;
}

/* ---- unixstream ------------------------------------------------------ */

static int unix_stream_new(lua_State *L) {
    stream *s = stream_push(L, AF_UNIX, UNIX_MASTER);
    int err = sock_create(&s->base.fd, AF_UNIX, SOCK_STREAM, 0);
    if (err != IO_DONE) return stream_pusherror(L, sock_strerror(err));
    return 1;
}

static int unix_stream_bind(lua_State *L) {
    stream *s = class_check(L, 1, UNIX_MASTER);
    struct sockaddr_un sa;
    socklen_t len;
    const char *err = unix_addr(L, 2, &sa, &len);
    if (err == NULL) err = sock_strerror(sock_bind(s->base.fd, (struct sockaddr *) &sa, len));
    if (err != NULL) return stream_pusherror(L, err);
    s->bound = 1;
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, STREAM_UV_HOST);   /* the path, for socket.pipe's unlink on close */
    return stream_pushok(L);
}

/* A failed connect destroys the OS socket; the object stays a master (§10.1). */
WAIT_RESTART(unix_stream_connect)
static int unix_stream_connect(lua_State *L) {
    stream *s = class_check(L, 1, UNIX_MASTER);
    struct sockaddr_un sa;
    socklen_t len;
    const char *err = unix_addr(L, 2, &sa, &len);
    if (err == NULL) {
        int again = call_begin(L, &s->cs.wr, unix_stream_connect_k);
        if (again == CALL_BUSY) return stream_pushbusy(L, &s->cs.wr);
        int e = sock_connect(s->base.fd, (struct sockaddr *) &sa, len, &s->cs.wr, again);
        if (e != IO_DONE && e != IO_TIMEOUT) sock_close(&s->base.fd);
        err = sock_strerror(e);
    }
    if (err != NULL) return stream_pusherror(L, err);
    class_set(L, 1, UNIX_CLIENT);
    return stream_pushok(L);
}

static int unix_stream_getsockname(lua_State *L) {
    stream *s = class_checkgroup(L, 1, UNIX_ANY);
    return unix_pushname(L, s->base.fd, 0);
}

static int unix_stream_getpeername(lua_State *L) {
    stream *s = class_checkgroup(L, 1, UNIX_ANY);
    return unix_pushname(L, s->base.fd, 1);
}

/* pid, uid, gid of the peer process (Linux SO_PEERCRED). */
static int unix_stream_getpeercred(lua_State *L) {
    stream *s = class_check(L, 1, UNIX_CLIENT);
#ifdef SO_PEERCRED
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (s->base.fd < 0) return stream_pusherror(L, "closed");
    if (getsockopt(s->base.fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return stream_pusherror(L, strerror(errno));
    lua_pushinteger(L, cred.pid);
    lua_pushinteger(L, cred.uid);
    lua_pushinteger(L, cred.gid);
    return 3;
#else
    (void) s;
    return stream_pusherror(L, "not supported");
#endif
}

static const stream_classes unix_stream_classes = {
    UNIX_MASTER, UNIX_CLIENT, UNIX_SERVER, UNIX_ANY, options_unix
};

/* socket.fromfd(fd, "unixstream{...}") */
static int unix_stream_fromfd(lua_State *L) {
    int fd = class_checkfd(L, 1);
    stream *s = stream_push(L, AF_UNIX, luaL_checkstring(L, 2));
    const char *err = sock_adopt(fd, SOCK_STREAM, AF_UNIX, "not a unix stream socket", &s->family);
    if (err != NULL) return stream_pusherror(L, err);
    s->base.fd = fd;
    return 1;
}

static void unix_stream_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"bind", unix_stream_bind},
        {"connect", unix_stream_connect},
        {"getpeercred", unix_stream_getpeercred},
        {"getpeername", unix_stream_getpeername},
        {"getsockname", unix_stream_getsockname},
        {"setpeername", unix_stream_connect},
        {"setsockname", unix_stream_bind},
        {NULL, NULL}
    };
    stream_register(L, &unix_stream_classes, methods);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "netsocket.fromfd");
    const char *names[] = {UNIX_MASTER, UNIX_CLIENT, UNIX_SERVER};
    for (int i = 0; i < 3; i++) {
        lua_pushcfunction(L, unix_stream_fromfd);
        lua_setfield(L, -2, names[i]);
    }
    lua_pop(L, 1);
}

/* ---- unixdgram ------------------------------------------------------- */

#define UNIX_DGRAM_UNCONN "unixdgram{unconnected}"
#define UNIX_DGRAM_CONN "unixdgram{connected}"
#define UNIX_DGRAM_ANY "unixdgram{any}"
#define UNIX_DGRAM_STACK 8192        /* receive sizes up to this use the C stack */
#define UNIX_DGRAM_MAX (1 << 20)     /* larger requests are clamped: a bound, not a promise */

typedef struct unix_dgram {
    class_base base;
    calls cs;            /* timeouts, and the read and write calls in flight */
} unix_dgram;

static int unix_dgram_dirty(const void *self) {
    (void) self;
    return 0;                        /* datagrams are never buffered here */
}

static unix_dgram *unix_dgram_push(lua_State *L, const char *cls) {
    unix_dgram *d = lua_newuserdatauv(L, sizeof *d, 0);
    d->base.fd = -1;
    d->base.dirty = unix_dgram_dirty;
    call_init(&d->cs, -1, -1);
    class_set(L, -1, cls);
    return d;
}

static int unix_dgram_new(lua_State *L) {
    unix_dgram *d = unix_dgram_push(L, UNIX_DGRAM_UNCONN);
    int err = sock_create(&d->base.fd, AF_UNIX, SOCK_DGRAM, 0);
    if (err != IO_DONE) return stream_pusherror(L, sock_strerror(err));
    return 1;
}

static int unix_dgram_bind(lua_State *L) {
    unix_dgram *d = class_check(L, 1, UNIX_DGRAM_UNCONN);
    struct sockaddr_un sa;
    socklen_t len;
    const char *err = unix_addr(L, 2, &sa, &len);
    if (err == NULL) err = sock_strerror(sock_bind(d->base.fd, (struct sockaddr *) &sa, len));
    return err ? stream_pusherror(L, err) : stream_pushok(L);
}

WAIT_RESTART(unix_dgram_connect)
static int unix_dgram_connect(lua_State *L) {
    unix_dgram *d = class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    struct sockaddr_un sa;
    socklen_t len;
    const char *err = unix_addr(L, 2, &sa, &len);
    if (err == NULL) {
        int again = call_begin(L, &d->cs.wr, unix_dgram_connect_k);
        if (again == CALL_BUSY) return stream_pushbusy(L, &d->cs.wr);
        err = sock_strerror(sock_connect(d->base.fd, (struct sockaddr *) &sa, len, &d->cs.wr, again));
    }
    if (err != NULL) return stream_pusherror(L, err);
    class_set(L, 1, UNIX_DGRAM_CONN);
    return stream_pushok(L);
}

/* One datagram out, to `to` (or the connected peer), within the deadline. */
static int unix_dgram_sendmsg(lua_State *L, unix_dgram *d, const struct sockaddr_un *to,
                              socklen_t tolen) {
    size_t n;
    const char *data = luaL_checklstring(L, 2, &n);
    if (d->base.fd < 0) return stream_pusherror(L, "closed");
    call_enter(&d->cs.wr);             /* one datagram: a restart just tries again */
    double nap = 0.001;
    for (;;) {
        ssize_t r = to ? sendto(d->base.fd, data, n, 0, (const struct sockaddr *) to, tolen)
                       : send(d->base.fd, data, n, 0);
        if (r >= 0) {
            lua_pushinteger(L, (lua_Integer) r);
            return 1;
        }
        int err = errno;
        if (err == EINTR) continue;
        /* A full receiver: a connected socket is woken when its peer
         * drains; for sendto no event exists, so back off. */
        if (err == EAGAIN || err == EWOULDBLOCK)
            err = to ? wait_backoff(&d->cs.wr, &nap)
                     : call_iszero(&d->cs.wr) ? IO_TIMEOUT : wait_fd(d->base.fd, WAIT_W, &d->cs.wr);
        if (err != IO_DONE) return stream_pusherror(L, sock_strerror(err));
    }
}

WAIT_RESTART(unix_dgram_send)
static int unix_dgram_send(lua_State *L) {
    unix_dgram *d = class_check(L, 1, UNIX_DGRAM_CONN);
    if (call_begin(L, &d->cs.wr, unix_dgram_send_k) == CALL_BUSY) return stream_pushbusy(L, &d->cs.wr);
    return unix_dgram_sendmsg(L, d, NULL, 0);
}

WAIT_RESTART(unix_dgram_sendto)
static int unix_dgram_sendto(lua_State *L) {
    unix_dgram *d = class_check(L, 1, UNIX_DGRAM_UNCONN);
    if (call_begin(L, &d->cs.wr, unix_dgram_sendto_k) == CALL_BUSY) return stream_pushbusy(L, &d->cs.wr);
    luaL_checkstring(L, 2);
    struct sockaddr_un sa;
    socklen_t len;
    const char *err = unix_addr(L, 3, &sa, &len);
    if (err != NULL) return stream_pusherror(L, err);
    return unix_dgram_sendmsg(L, d, &sa, len);
}

/* receive([size]) / receivefrom([size]): one datagram, truncated to size. */
static int unix_dgram_recvmsg(lua_State *L, unix_dgram *d, int from) {
    lua_Number want = luaL_optnumber(L, 2, UNIX_DGRAM_STACK);
    luaL_argcheck(L, want >= 0, 2, "invalid size");
    luaL_argcheck(L, want <= 16777216.0, 2, "receive size too large");   /* see udp.c */
    size_t size = want > UNIX_DGRAM_MAX ? UNIX_DGRAM_MAX : (size_t) want;
    if (d->base.fd < 0) return stream_pusherror(L, "closed");
    char stackbuf[UNIX_DGRAM_STACK];
    char *buf = size <= sizeof stackbuf ? stackbuf : lua_newuserdatauv(L, size, 0);
    struct sockaddr_un sa;
    call_enter(&d->cs.rd);
    for (;;) {
        socklen_t len = sizeof sa;
        ssize_t r = recvfrom(d->base.fd, buf, size, 0, (struct sockaddr *) &sa, &len);
        if (r >= 0) {
            lua_pushlstring(L, buf, (size_t) r);
            if (!from) return 1;
            unix_pushpath(L, &sa, len);
            return 2;
        }
        int err = errno;
        if (err == EINTR) continue;
        if (err == EAGAIN || err == EWOULDBLOCK) err = wait_fd(d->base.fd, WAIT_R, &d->cs.rd);
        if (err != IO_DONE) return stream_pusherror(L, sock_strerror(err));
    }
}

WAIT_RESTART(unix_dgram_receive)
static int unix_dgram_receive(lua_State *L) {
    unix_dgram *d = class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    if (call_begin(L, &d->cs.rd, unix_dgram_receive_k) == CALL_BUSY) return stream_pushbusy(L, &d->cs.rd);
    return unix_dgram_recvmsg(L, d, 0);
}

WAIT_RESTART(unix_dgram_receivefrom)
static int unix_dgram_receivefrom(lua_State *L) {
    unix_dgram *d = class_check(L, 1, UNIX_DGRAM_UNCONN);
    if (call_begin(L, &d->cs.rd, unix_dgram_receivefrom_k) == CALL_BUSY) return stream_pushbusy(L, &d->cs.rd);
    return unix_dgram_recvmsg(L, d, 1);
}

static int unix_dgram_getsockname(lua_State *L) {
    unix_dgram *d = class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    return unix_pushname(L, d->base.fd, 0);
}

static int unix_dgram_getpeername(lua_State *L) {
    unix_dgram *d = class_check(L, 1, UNIX_DGRAM_CONN);
    return unix_pushname(L, d->base.fd, 1);
}

static int unix_dgram_close(lua_State *L) {
    unix_dgram *d = class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    wait_closing(L, d->base.fd);
    sock_close(&d->base.fd);
    return stream_pushok(L);
}

static int unix_dgram_gc(lua_State *L) {
    unix_dgram *d = class_testgroup(L, 1, UNIX_DGRAM_ANY);
    if (d != NULL) sock_close(&d->base.fd);
    return 0;
}

/* __close, unlike __gc, can find tasks waiting on the object: wake them. */
static int unix_dgram_tbc(lua_State *L) {
    unix_dgram *d = class_testgroup(L, 1, UNIX_DGRAM_ANY);
    if (d != NULL) wait_closing(L, d->base.fd);
    return unix_dgram_gc(L);
}

static int unix_dgram_getfd(lua_State *L) {
    lua_pushinteger(L, ((unix_dgram *) class_checkgroup(L, 1, UNIX_DGRAM_ANY))->base.fd);
    return 1;
}

static int unix_dgram_setfd(lua_State *L) {
    unix_dgram *d = class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    int fd = class_checkfd(L, 2);
    wait_closing(L, d->base.fd);      /* a task parked on the old fd wakes, as at close */
    d->base.fd = fd;
    call_newfd(&d->cs);
    return 0;
}

static int unix_dgram_isdirty(lua_State *L) {
    class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    lua_pushboolean(L, 0);
    return 1;
}

static int unix_dgram_settimeout(lua_State *L) {
    return timeout_meth_settimeout(L, &((unix_dgram *) class_checkgroup(L, 1, UNIX_DGRAM_ANY))->cs.tm);
}

static int unix_dgram_gettimeout(lua_State *L) {
    return timeout_meth_gettimeout(L, &((unix_dgram *) class_checkgroup(L, 1, UNIX_DGRAM_ANY))->cs.tm);
}

static int unix_dgram_setoption(lua_State *L) {
    unix_dgram *d = class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    return options_meth_set(L, options_unixdgram, d->base.fd);
}

static int unix_dgram_getoption(lua_State *L) {
    unix_dgram *d = class_checkgroup(L, 1, UNIX_DGRAM_ANY);
    return options_meth_get(L, options_unixdgram, d->base.fd);
}

static void unix_dgram_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"bind", unix_dgram_bind},
        {"close", unix_dgram_close},
        {"connect", unix_dgram_connect},
        {"dirty", unix_dgram_isdirty},
        {"getfd", unix_dgram_getfd},
        {"getoption", unix_dgram_getoption},
        {"getpeername", unix_dgram_getpeername},
        {"getsockname", unix_dgram_getsockname},
        {"gettimeout", unix_dgram_gettimeout},
        {"receive", unix_dgram_receive},
        {"receivefrom", unix_dgram_receivefrom},
        {"send", unix_dgram_send},
        {"sendto", unix_dgram_sendto},
        {"setfd", unix_dgram_setfd},
        {"setoption", unix_dgram_setoption},
        {"setpeername", unix_dgram_connect},
        {"setsockname", unix_dgram_bind},
        {"settimeout", unix_dgram_settimeout},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", unix_dgram_gc},
        {"__close", unix_dgram_tbc},
        {"__tostring", class_tostring},
        {NULL, NULL}
    };
    const char *names[] = {UNIX_DGRAM_UNCONN, UNIX_DGRAM_CONN};
    for (int i = 0; i < 2; i++) {
        class_new(L, names[i], methods, meta);
        class_add(L, names[i], UNIX_DGRAM_ANY);
        class_selectable(L, names[i]);
    }
}

/* U._removestale(path): removes a socket file that nothing listens on (a
 * test connect is refused) and returns true; any other file, or a live
 * socket, is left alone (false). For socket.pipe.bind (§10.2). */
static int unix_removestale(lua_State *L) {
    struct sockaddr_un sa;
    socklen_t len;
    struct stat st;
    int removed = 0;
    const char *path = luaL_checkstring(L, 1);
    if (unix_addr(L, 1, &sa, &len) == NULL && path[0] != '\0' &&
        lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
        int fd;
        if (sock_create(&fd, AF_UNIX, SOCK_STREAM, 0) == IO_DONE) {
            if (connect(fd, (struct sockaddr *) &sa, len) != 0 && errno == ECONNREFUSED)
                removed = unlink(path) == 0;
            sock_close(&fd);
        }
    }
    lua_pushboolean(L, removed);
    return 1;
}

/* U._unlinkonclose(server): socket.pipe's servers remove their socket file
 * when closed or collected (§10.2). Not part of the 3.x API. */
static int unix_unlinkonclose(lua_State *L) {
    stream *s = class_check(L, 1, UNIX_SERVER);
    s->unlinkpath = lua_getiuservalue(L, 1, STREAM_UV_HOST) == LUA_TSTRING && lua_tostring(L, -1)[0] != '\0';
    lua_pushboolean(L, s->unlinkpath);
    return 1;
}

/* U(...) is U.stream(...) */
static int unix_call(lua_State *L) {
    lua_remove(L, 1);
    return unix_stream_new(L);
}

int luaopen_socket_unix(lua_State *L) {
    if (luaL_getmetatable(L, UNIX_MASTER) == LUA_TNIL) {
        unix_stream_open(L);
        unix_dgram_open(L);
    }
    lua_pop(L, 1);
    static const luaL_Reg funcs[] = {
        {"stream", unix_stream_new},
        {"tcp", unix_stream_new},
        {"dgram", unix_dgram_new},
        {"udp", unix_dgram_new},
        {"_unlinkonclose", unix_unlinkonclose},
        {"_removestale", unix_removestale},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, unix_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
