/* TCP sockets: construction, states and the methods of API.md §4. Syscalls
 * live in sock.c, resolution in inet.c, patterns in buffer.c. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif
#include "lauxlib.h"
#include "inet.h"
#include "options.h"
#include "sock.h"
#include "tcp.h"
#include "wait.h"

#define TCP_MASTER "tcp{master}"
#define TCP_CLIENT "tcp{client}"
#define TCP_SERVER "tcp{server}"
#define TCP_ANY "tcp{any}"

static int tcp_dirty(const void *self) {
    return !buffer_isempty(&((const tcp *) self)->buf);
}

/* Pushes a new object in a closed state; the fd is acquired afterwards. */
static tcp *tcp_push(lua_State *L, int family, const char *cls) {
    tcp *t = lua_newuserdatauv(L, sizeof(tcp), 1);
    t->base.fd = -1;
    t->base.dirty = tcp_dirty;
    t->family = family;
    t->connerr = 0;
    t->bound = 0;
    timeout_init(&t->tm, -1, -1);
    t->io.send = sock_send;
    t->io.recv = sock_recv;
    t->io.error = sock_ioerror;
    t->io.pending = NULL;
    t->io.ctx = &t->base.fd;
    t->io.fd = &t->base.fd;
    buffer_init(&t->buf, &t->io, &t->tm);
    class_set(L, -1, cls);
    return t;
}

static int tcp_pusherror(lua_State *L, const char *err) {
    lua_pushnil(L);
    lua_pushstring(L, err);
    return 2;
}

static int tcp_pushok(lua_State *L) {
    lua_pushinteger(L, 1);
    return 1;
}

static int tcp_create(lua_State *L, int family) {
    tcp *t = tcp_push(L, family, TCP_MASTER);
    if (family != AF_UNSPEC) {
        int err = inet_create(&t->base.fd, family, SOCK_STREAM);
        if (err != IO_DONE) return tcp_pusherror(L, sock_strerror(err));
    }
    return 1;
}

static int tcp_lua_tcp(lua_State *L) { return tcp_create(L, AF_UNSPEC); }
static int tcp_lua_tcp4(lua_State *L) { return tcp_create(L, AF_INET); }
static int tcp_lua_tcp6(lua_State *L) { return tcp_create(L, AF_INET6); }

/* ---- methods of every TCP object ---------------------------------------- */

static int tcp_meth_close(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    sock_close(&t->base.fd);
    buffer_free(L, &t->buf);
    return tcp_pushok(L);
}

/* __gc and __close: release the fd whatever state the object is in. */
static int tcp_gc(lua_State *L) {
    tcp *t = class_testgroup(L, 1, TCP_ANY);     /* a metamethod can be called on anything */
    if (t != NULL) {
        sock_close(&t->base.fd);
        buffer_free(L, &t->buf);
    }
    return 0;
}

static int tcp_meth_getfd(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    lua_pushinteger(L, t->base.fd);
    return 1;
}

/* Swaps the fd without closing the old one, as 3.x (LuaSec relies on it). */
static int tcp_meth_setfd(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    t->base.fd = class_checkfd(L, 2);
    return 0;
}

static int tcp_meth_dirty(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    lua_pushboolean(L, tcp_dirty(t));
    return 1;
}

static int tcp_meth_getfamily(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    lua_pushstring(L, t->family == AF_INET6 ? "inet6" : "inet4");
    return 1;
}

static int tcp_meth_getsockname(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    return inet_pushname(L, t->base.fd, 0);
}

static int tcp_meth_getpeername(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    return inet_pushname(L, t->base.fd, 1);
}

static int tcp_meth_setoption(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    return options_meth_set(L, options_tcp, t->base.fd);
}

static int tcp_meth_getoption(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    return options_meth_get(L, options_tcp, t->base.fd);
}

static int tcp_meth_settimeout(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    return timeout_meth_settimeout(L, &t->tm);
}

static int tcp_meth_gettimeout(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    return timeout_meth_gettimeout(L, &t->tm);
}

/* connect turns any TCP object into a client, even when it fails (§4.1). */
static int tcp_meth_connect(lua_State *L) {
    tcp *t = class_checkgroup(L, 1, TCP_ANY);
    const char *host = luaL_checkstring(L, 2);
    char pbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, 1);            /* remembered for TLS (§4.2) */
    const char *err = "invalid port";
    if (serv != NULL) {
        timeout_markstart(&t->tm);
        inet_carry carry = {options_tcp, t->bound};
        err = inet_tryconnect(&t->base.fd, &t->family, host, serv, SOCK_STREAM, &t->tm, 1,
                              &carry, &t->connerr);
        /* Only a failed attempt is a status; "already connected" (EISCONN),
         * "in progress" (EALREADY) and a timeout say nothing against it. */
        if (t->connerr <= 0 || t->connerr == EISCONN || t->connerr == EALREADY ||
            t->connerr == EINPROGRESS)
            t->connerr = 0;
    }
    class_set(L, 1, TCP_CLIENT);
    return err ? tcp_pusherror(L, err) : tcp_pushok(L);
}

/* ---- master ------------------------------------------------------------- */

static int tcp_meth_bind(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_MASTER);
    const char *host = luaL_checkstring(L, 2);
    char pbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    if (serv == NULL) return tcp_pusherror(L, "invalid port");
    const char *err = inet_trybind(&t->base.fd, &t->family, host, serv, SOCK_STREAM);
    if (err != NULL) return tcp_pusherror(L, err);
    t->bound = 1;
    return tcp_pushok(L);
}

static int tcp_meth_listen(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_MASTER);
    int backlog = class_toint(luaL_optnumber(L, 2, 32));
    int err = sock_listen(t->base.fd, backlog);
    if (err != IO_DONE) return tcp_pusherror(L, strerror(err));
    class_set(L, 1, TCP_SERVER);
    return tcp_pushok(L);
}

/* ---- server ------------------------------------------------------------- */

static int tcp_meth_accept(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_SERVER);
    tcp *c = tcp_push(L, t->family, TCP_CLIENT);
    timeout_markstart(&t->tm);
    int err = sock_accept(t->base.fd, &c->base.fd, &t->tm);
    if (err != IO_DONE) return tcp_pusherror(L, sock_strerror(err));
    return 1;
}

/* server:foreachaccept(handler): handler(client) per client until it returns
 * false (-> true) or accept fails with anything but "timeout" (-> nil, err). */
static int tcp_meth_foreachaccept(lua_State *L) {
    class_check(L, 1, TCP_SERVER);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    for (;;) {
        lua_settop(L, 2);
        if (tcp_meth_accept(L) == 2) {               /* nil, err */
            if (strcmp(lua_tostring(L, -1), "timeout") == 0) continue;
            return 2;
        }
        lua_pushvalue(L, 2);
        lua_insert(L, -2);
        lua_call(L, 1, 1);
        if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
            lua_pushboolean(L, 1);
            return 1;
        }
    }
}

/* setssl, acceptnossl and starttls belong to socket.ssl (§9.5): they load it
 * on first use and call its function of the same name with the same
 * arguments. Without the TLS module they answer nil, "ssl not available". */
static int tcp_ssl(lua_State *L, const char *cls, const char *name) {
    class_check(L, 1, cls);
    int n = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "socket.ssl");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1) ||
        lua_getfield(L, -1, name) != LUA_TFUNCTION)
        return tcp_pusherror(L, "ssl not available");
    lua_remove(L, n + 1);
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static int tcp_meth_setssl(lua_State *L) { return tcp_ssl(L, TCP_SERVER, "setssl"); }
static int tcp_meth_acceptnossl(lua_State *L) { return tcp_ssl(L, TCP_SERVER, "acceptnossl"); }
static int tcp_meth_starttls(lua_State *L) { return tcp_ssl(L, TCP_CLIENT, "starttls"); }

/* ---- client ------------------------------------------------------------- */

static int tcp_meth_receive(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    return buffer_meth_receive(L, &t->buf);
}

static int tcp_meth_send(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    return buffer_meth_send(L, &t->buf);
}

static int tcp_meth_receivesome(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    return buffer_meth_receivesome(L, &t->buf);
}

static int tcp_meth_sendsome(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    return buffer_meth_sendsome(L, &t->buf);
}

static int tcp_meth_getstats(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    return buffer_meth_getstats(L, &t->buf);
}

static int tcp_meth_setstats(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    return buffer_meth_setstats(L, &t->buf);
}

static int tcp_meth_shutdown(lua_State *L) {
    static const char *const names[] = {"receive", "send", "both", NULL};
    static const int hows[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
    tcp *t = class_check(L, 1, TCP_CLIENT);
    int how = hows[luaL_checkoption(L, 2, "both", names)];
    if (t->base.fd >= 0) sock_shutdown(t->base.fd, how);
    return tcp_pushok(L);
}

/* Bytes the kernel still holds unsent or unacknowledged, or -1. */
static long tcp_outq(int fd) {
#ifdef SIOCOUTQ
    int n = 0;
    if (ioctl(fd, SIOCOUTQ, &n) == 0) return n;
#else
    (void) fd;
#endif
    return -1;
}

static int tcp_meth_getpending(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    if (t->base.fd < 0) return tcp_pusherror(L, "closed");
    long n = tcp_outq(t->base.fd);
    if (n < 0) return tcp_pusherror(L, "not supported");
    lua_pushinteger(L, n);
    return 1;
}

/* The per-call timeout of the new methods (§12.1): nil means the object's. */
static const timeout *tcp_calltimeout(lua_State *L, int idx, tcp *t, timeout *percall) {
    if (lua_isnoneornil(L, idx)) {
        timeout_markstart(&t->tm);
        return &t->tm;
    }
    timeout_init(percall, luaL_checknumber(L, idx), -1);
    timeout_markstart(percall);
    return percall;
}

static int tcp_meth_drain(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    timeout percall;
    const timeout *tm = tcp_calltimeout(L, 2, t, &percall);
    if (t->base.fd < 0) return tcp_pusherror(L, "closed");
    double nap = 0.001;
    for (;;) {
        long n = tcp_outq(t->base.fd);
        if (n < 0) return tcp_pusherror(L, "not supported");
        if (n == 0) {
            lua_pushinteger(L, 0);
            return 1;
        }
        double left = timeout_left(tm);
        if (left == 0) {
            lua_pushnil(L);
            lua_pushliteral(L, "timeout");
            lua_pushinteger(L, n);
            return 3;
        }
        /* No readiness event exists for "acknowledged": back off politely. */
        wait_sleep(left > 0 && left < nap ? left : nap);
        if (nap < 0.05) nap *= 2;
    }
}

static int tcp_pushstatus(lua_State *L, tcp *t) {
    int fd = t->base.fd;
    if (fd < 0) {
        lua_pushliteral(L, "failure");
        lua_pushliteral(L, "closed");
        return 2;
    }
    if (t->connerr == 0) {
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0) t->connerr = err;
    }
    if (t->connerr != 0) {
        lua_pushliteral(L, "failure");
        lua_pushstring(L, sock_strerror(t->connerr));
        return 2;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getpeername(fd, (struct sockaddr *) &ss, &len) == 0) {
        lua_pushliteral(L, "success");
        return 1;
    }
    struct pollfd p = {fd, POLLOUT, 0};
    if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) {
        lua_pushliteral(L, "failure");
        lua_pushliteral(L, "closed");
        return 2;
    }
    lua_pushliteral(L, "waiting");
    return 1;
}

static int tcp_meth_getstatus(lua_State *L) {
    return tcp_pushstatus(L, class_check(L, 1, TCP_CLIENT));
}

static int tcp_meth_waitconnected(lua_State *L) {
    tcp *t = class_check(L, 1, TCP_CLIENT);
    timeout percall;
    const timeout *tm = tcp_calltimeout(L, 2, t, &percall);
    if (t->base.fd >= 0) wait_fd(t->base.fd, WAIT_W, tm);
    return tcp_pushstatus(L, t);
}

/* ---- socket.connect ----------------------------------------------------- */

/* Connects the tcp on top of the stack; on failure closes it and pushes nil, err. */
static int tcp_finishconnect(lua_State *L, tcp *t, const char *host, const char *serv,
                             const char *laddr, const char *lserv, int restart) {
    const char *err = NULL;
    if (laddr != NULL) err = inet_trybind(&t->base.fd, &t->family, laddr, lserv, SOCK_STREAM);
    if (err == NULL) {
        inet_carry carry = {options_tcp, laddr != NULL};
        timeout_markstart(&t->tm);
        err = inet_tryconnect(&t->base.fd, &t->family, host, serv, SOCK_STREAM, &t->tm,
                              restart, &carry, &t->connerr);
    }
    t->connerr = 0;
    timeout_init(&t->tm, -1, -1);         /* the result starts at -1,-1 */
    if (err != NULL) {
        sock_close(&t->base.fd);
        return tcp_pusherror(L, err);
    }
    return 1;
}

/* Pushes t[key] after checking its type; misuse names the field. */
static void tcp_field(lua_State *L, const char *key, int type, int required) {
    int got = lua_getfield(L, 1, key);
    if (got == LUA_TNIL && !required) return;
    int ok = got == type || (type == LUA_TSTRING && got == LUA_TNUMBER) ||
             (type == LUA_TNUMBER && lua_isnumber(L, -1));
    if (!ok)
        luaL_error(L, "bad argument #1 to 'connect' (field '%s': %s expected, got %s)",
                   key, lua_typename(L, type), luaL_typename(L, -1));
}

/* socket.connect{host=, port=, timeout=, family=, localaddress=, localport=,
 * nodelay=, keepalive=, ssl=}: `timeout` bounds the whole connect. */
static int tcp_connect_table(lua_State *L) {
    static const char *const famnames[] = {"unspec", "inet", "inet6", NULL};
    static const int famvalues[] = {AF_UNSPEC, AF_INET, AF_INET6};
    lua_settop(L, 1);
    tcp_field(L, "host", LUA_TSTRING, 1);          /* 2 */
    tcp_field(L, "port", LUA_TSTRING, 1);          /* 3 */
    tcp_field(L, "localaddress", LUA_TSTRING, 0);  /* 4 */
    tcp_field(L, "localport", LUA_TSTRING, 0);     /* 5 */
    tcp_field(L, "family", LUA_TSTRING, 0);        /* 6 */
    tcp_field(L, "timeout", LUA_TNUMBER, 0);       /* 7 */
    tcp_field(L, "nodelay", LUA_TBOOLEAN, 0);      /* 8 */
    tcp_field(L, "keepalive", LUA_TBOOLEAN, 0);    /* 9 */
    int has_ssl = lua_getfield(L, 1, "ssl") != LUA_TNIL;   /* 10 */
    const char *host = lua_tostring(L, 2);
    char pbuf[8], lbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    const char *laddr = lua_tostring(L, 4);
    const char *lserv = inet_optport(L, 5, "0", lbuf);
    int family = AF_UNSPEC;
    if (!lua_isnil(L, 6)) {
        const char *name = lua_tostring(L, 6);
        int i = 0;
        while (famnames[i] != NULL && strcmp(famnames[i], name) != 0) i++;
        if (famnames[i] == NULL)
            return luaL_error(L, "bad argument #1 to 'connect' (invalid family '%s')", name);
        family = famvalues[i];
    }
    double limit = lua_isnil(L, 7) ? -1 : lua_tonumber(L, 7);
    if (serv == NULL || lserv == NULL) return tcp_pusherror(L, "invalid port");
    if (has_ssl) return tcp_pusherror(L, "ssl not available");
    tcp *t = tcp_push(L, family, TCP_CLIENT);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);
    timeout_init(&t->tm, -1, limit);        /* a total: one deadline over every address */
    if (tcp_finishconnect(L, t, host, serv, laddr, lserv, 0) != 1) return 2;
    int on;
    if (!lua_isnil(L, 8)) {
        on = lua_toboolean(L, 8);
        setsockopt(t->base.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    }
    if (!lua_isnil(L, 9)) {
        on = lua_toboolean(L, 9);
        setsockopt(t->base.fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    }
    return 1;
}

/* socket.connect(address, port [, locaddr [, locport [, family]]]) */
static int tcp_lua_connect(lua_State *L) {
    if (lua_istable(L, 1)) return tcp_connect_table(L);
    const char *host = luaL_checkstring(L, 1);
    char pbuf[8], lbuf[8];
    const char *serv = inet_optport(L, 2, NULL, pbuf);
    const char *laddr = luaL_optstring(L, 3, NULL);
    const char *lserv = inet_optport(L, 4, "0", lbuf);
    int family = inet_checkfamily(L, 5, "unspec");
    if (serv == NULL || lserv == NULL) return tcp_pusherror(L, "invalid port");
    tcp *t = tcp_push(L, family, TCP_CLIENT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return tcp_finishconnect(L, t, host, serv, laddr, lserv, 1);
}

/* socket.fromfd(fd, "tcp{...}"): adopt a descriptor (registered in core.c). */
static int tcp_lua_fromfd(lua_State *L) {
    int fd = class_checkfd(L, 1);
    const char *cls = luaL_checkstring(L, 2);
    tcp *t = tcp_push(L, AF_UNSPEC, cls);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int type = 0;
    socklen_t tlen = sizeof type;
    if (getsockname(fd, (struct sockaddr *) &ss, &len) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) != 0)
        return tcp_pusherror(L, strerror(errno));
    if (type != SOCK_STREAM || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
        return tcp_pusherror(L, "not a tcp socket");
    int err = sock_setnonblocking(fd);
    if (err != IO_DONE) return tcp_pusherror(L, strerror(err));
    t->base.fd = fd;
    t->family = ss.ss_family;
    return 1;
}

void tcp_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"accept", tcp_meth_accept},
        {"acceptnossl", tcp_meth_acceptnossl},
        {"bind", tcp_meth_bind},
        {"close", tcp_meth_close},
        {"connect", tcp_meth_connect},
        {"dirty", tcp_meth_dirty},
        {"drain", tcp_meth_drain},
        {"foreachaccept", tcp_meth_foreachaccept},
        {"getfamily", tcp_meth_getfamily},
        {"getfd", tcp_meth_getfd},
        {"getoption", tcp_meth_getoption},
        {"getpeername", tcp_meth_getpeername},
        {"getpending", tcp_meth_getpending},
        {"getsockname", tcp_meth_getsockname},
        {"getstats", tcp_meth_getstats},
        {"getstatus", tcp_meth_getstatus},
        {"gettimeout", tcp_meth_gettimeout},
        {"listen", tcp_meth_listen},
        {"receive", tcp_meth_receive},
        {"receivesome", tcp_meth_receivesome},
        {"send", tcp_meth_send},
        {"sendsome", tcp_meth_sendsome},
        {"setfd", tcp_meth_setfd},
        {"setoption", tcp_meth_setoption},
        {"setpeername", tcp_meth_connect},
        {"setssl", tcp_meth_setssl},
        {"setsockname", tcp_meth_bind},
        {"setstats", tcp_meth_setstats},
        {"settimeout", tcp_meth_settimeout},
        {"shutdown", tcp_meth_shutdown},
        {"starttls", tcp_meth_starttls},
        {"waitconnected", tcp_meth_waitconnected},
        {NULL, NULL}
    };
    static const luaL_Reg meta[] = {
        {"__gc", tcp_gc},
        {"__close", tcp_gc},
        {"__tostring", class_tostring},
        {NULL, NULL}
    };
    static const char *const classes[] = {TCP_MASTER, TCP_CLIENT, TCP_SERVER};
    for (int i = 0; i < 3; i++) {
        class_new(L, classes[i], methods, meta);
        class_add(L, classes[i], TCP_ANY);
        class_selectable(L, classes[i]);
    }
    static const luaL_Reg funcs[] = {
        {"tcp", tcp_lua_tcp},
        {"tcp4", tcp_lua_tcp4},
        {"tcp6", tcp_lua_tcp6},
        {"connect", tcp_lua_connect},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
    /* fromfd dispatch: registry["netsocket.fromfd"][class] = adopter */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "netsocket.fromfd");
    for (int i = 0; i < 3; i++) {
        lua_pushcfunction(L, tcp_lua_fromfd);
        lua_setfield(L, -2, classes[i]);
    }
    lua_pop(L, 1);
}
