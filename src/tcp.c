/* TCP: constructors, addresses, connect and the socket.connect forms
 * (API.md §2, §4). The methods every stream shares live in stream.c;
 * syscalls in sock.c, resolution in inet.c, patterns in buffer.c. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include "inet.h"
#include "sock.h"
#include "stream.h"
#include "tcp.h"
#include "wait.h"

#define TCP_MASTER "tcp{master}"
#define TCP_CLIENT "tcp{client}"
#define TCP_SERVER "tcp{server}"
#define TCP_ANY "tcp{any}"

static int tcp_create(lua_State *L, int family) {
    stream *t = stream_push(L, family, TCP_MASTER);
    if (family != AF_UNSPEC) {
        int err = inet_create(&t->base.fd, family, SOCK_STREAM);
        if (err != IO_DONE) return stream_pusherror(L, sock_strerror(err));
    }
    return 1;
}

static int tcp_lua_tcp(lua_State *L) { return tcp_create(L, AF_UNSPEC); }
static int tcp_lua_tcp4(lua_State *L) { return tcp_create(L, AF_INET); }
static int tcp_lua_tcp6(lua_State *L) { return tcp_create(L, AF_INET6); }







static int tcp_meth_getfamily(lua_State *L) {
    stream *t = class_checkgroup(L, 1, TCP_ANY);
    lua_pushstring(L, t->family == AF_INET6 ? "inet6" : "inet4");
    return 1;
}

static int tcp_meth_getsockname(lua_State *L) {
    stream *t = class_checkgroup(L, 1, TCP_ANY);
    return inet_pushname(L, t->base.fd, 0);
}

static int tcp_meth_getpeername(lua_State *L) {
    stream *t = class_checkgroup(L, 1, TCP_ANY);
    return inet_pushname(L, t->base.fd, 1);
}





/* connect turns any TCP object into a client, even when it fails (§4.1). */
WAIT_RESTART(tcp_meth_connect)
static int tcp_meth_connect(lua_State *L) {
    stream *t = class_checkgroup(L, 1, TCP_ANY);
    const char *host = luaL_checkstring(L, 2);
    char pbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, STREAM_UV_HOST);   /* remembered for TLS (§4.2) */
    const char *err = "invalid port";
    if (serv != NULL) {
        if (call_begin(L, &t->cs.wr, tcp_meth_connect_k) == CALL_BUSY) return stream_pushbusy(L, &t->cs.wr);
        inet_carry carry = {options_tcp, t->bound};
        err = inet_tryconnect(&t->base.fd, &t->family, host, serv, SOCK_STREAM, &t->cs.wr, 1,
                              &carry, &t->connerr);
        /* Only a failed attempt is a status; "already connected" (EISCONN),
         * "in progress" (EALREADY) and a timeout say nothing against it. */
        if (t->connerr <= 0 || t->connerr == EISCONN || t->connerr == EALREADY ||
            t->connerr == EINPROGRESS)
            t->connerr = 0;
    }
    class_set(L, 1, TCP_CLIENT);
    return err ? stream_pusherror(L, err) : stream_pushok(L);
}

/* ---- master ------------------------------------------------------------- */

static int tcp_meth_bind(lua_State *L) {
    stream *t = class_check(L, 1, TCP_MASTER);
    const char *host = luaL_checkstring(L, 2);
    char pbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    if (serv == NULL) return stream_pusherror(L, "invalid port");
    const char *err = inet_trybind(&t->base.fd, &t->family, host, serv, SOCK_STREAM);
    if (err != NULL) return stream_pusherror(L, err);
    t->bound = 1;
    return stream_pushok(L);
}


/* ---- server ------------------------------------------------------------- */



/* setssl, acceptnossl and starttls belong to socket.ssl (§9.5): they load it
 * on first use and call its function of the same name with the same
 * arguments. Without the TLS module they answer nil, "ssl not available". */

/* Pushes require("socket.ssl")[name], or returns 0 with nothing pushed. */
static int tcp_sslfunc(lua_State *L, const char *name) {
    int top = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "socket.ssl");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1) ||
        lua_getfield(L, -1, name) != LUA_TFUNCTION) {
        lua_settop(L, top);
        return 0;
    }
    lua_remove(L, -2);
    return 1;
}

/* The TLS call may wait, so in a socket.co task it may yield: its results
 * come back here. */
static int tcp_ssl_k(lua_State *L, int status, lua_KContext ctx) {
    (void) status;
    return lua_gettop(L) - (int) ctx;
}

static int tcp_ssl(lua_State *L, const char *cls, const char *name) {
    class_check(L, 1, cls);
    int n = lua_gettop(L);
    if (!tcp_sslfunc(L, name)) return stream_pusherror(L, "ssl not available");
    lua_insert(L, 1);
    lua_callk(L, n, LUA_MULTRET, 0, tcp_ssl_k);
    return tcp_ssl_k(L, LUA_OK, 0);
}

static int tcp_meth_setssl(lua_State *L) { return tcp_ssl(L, TCP_SERVER, "setssl"); }
/* acceptnossl: a plain client even while setssl is active; it keeps the
 * server's TLS context so client:starttls() can upgrade it in server mode. */
WAIT_RESTART(tcp_meth_acceptnossl)
static int tcp_meth_acceptnossl(lua_State *L) {
    stream *t = class_check(L, 1, TCP_SERVER);
    lua_settop(L, 1);
    if (call_begin(L, &t->cs.rd, tcp_meth_acceptnossl_k) == CALL_BUSY)   /* accept may yield (socket.co) */
        return stream_pushbusy(L, &t->cs.rd);
    if (lua_getiuservalue(L, 1, STREAM_UV_TLS) == LUA_TNIL) {
        lua_pop(L, 1);                     /* no setssl: answer as §9.5 says */
        lua_getglobal(L, "require");
        lua_pushliteral(L, "socket.ssl");
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) return stream_pusherror(L, "ssl not available");
        lua_pop(L, 1);
        lua_pushnil(L);
    }                                      /* 2: the context (or nil) */
    if (stream_acceptraw(L) != 1) return 2;
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, STREAM_UV_TLS);
    return 1;
}
static int tcp_meth_starttls(lua_State *L) { return tcp_ssl(L, TCP_CLIENT, "starttls"); }

/* ---- client ------------------------------------------------------------- */















/* ---- socket.connect ----------------------------------------------------- */

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

/* socket.connect's arguments, read from the stack: positional at 1..5, or
 * for the table form the fields tcp_lua_connect pushed at 2..10. */
typedef struct tcp_args {
    const char *host, *serv, *laddr, *lserv;
    char pbuf[8], lbuf[8];
    int family, table;
} tcp_args;

enum { TCP_F_HOST = 2, TCP_F_PORT, TCP_F_LADDR, TCP_F_LPORT, TCP_F_FAMILY, TCP_F_TIMEOUT,
       TCP_F_NODELAY, TCP_F_KEEPALIVE, TCP_F_SSL };

/* Fills *a; raises on misuse; returns 0 for "invalid port". */
static int tcp_args_get(lua_State *L, tcp_args *a) {
    static const char *const famnames[] = {"unspec", "inet", "inet6", NULL};
    static const int famvalues[] = {AF_UNSPEC, AF_INET, AF_INET6};
    a->table = lua_type(L, 1) == LUA_TTABLE;
    int base = a->table ? TCP_F_HOST : 1;      /* host, port, laddr, lport, family */
    a->host = a->table ? lua_tostring(L, base) : luaL_checkstring(L, base);
    a->serv = inet_optport(L, base + 1, NULL, a->pbuf);
    a->laddr = a->table ? lua_tostring(L, base + 2) : luaL_optstring(L, base + 2, NULL);
    a->lserv = inet_optport(L, base + 3, "0", a->lbuf);
    if (!a->table) {
        a->family = inet_checkfamily(L, base + 4, "unspec");
    } else {
        a->family = AF_UNSPEC;
        if (!lua_isnil(L, TCP_F_FAMILY)) {
            const char *name = lua_tostring(L, TCP_F_FAMILY);
            int i = 0;
            while (famnames[i] != NULL && strcmp(famnames[i], name) != 0) i++;
            if (famnames[i] == NULL)
                luaL_error(L, "bad argument #1 to 'connect' (invalid family '%s')", name);
            a->family = famvalues[i];
        }
    }
    return a->serv != NULL && a->lserv != NULL;
}

/* connect{ssl=}: the client on top of the stack becomes the result of
 * socket.ssl.starttls(client, ssl, what is left of the timeout). */
static int tcp_upgrade_k(lua_State *L, int status, lua_KContext ctx) {
    (void) status;
    (void) ctx;
    if (lua_isnil(L, -2)) return 2;              /* nil, err */
    lua_pop(L, 1);                               /* conn, nil -> conn */
    return 1;
}

static int tcp_upgrade(lua_State *L, double left) {
    int client = lua_gettop(L);
    if (!tcp_sslfunc(L, "starttls")) {
        sock_close(&((stream *) lua_touserdata(L, client))->base.fd);
        return stream_pusherror(L, "ssl not available");
    }
    lua_pushvalue(L, client);
    lua_pushvalue(L, TCP_F_SSL);
    if (left < 0) lua_pushnil(L);
    else lua_pushnumber(L, left);
    lua_callk(L, 3, 2, 0, tcp_upgrade_k);
    return tcp_upgrade_k(L, LUA_OK, 0);
}

/* Connects the object on top of the stack (restartable: socket.co). On
 * failure closes it and pushes nil, err; the result has timeouts -1,-1. */
WAIT_RESTART(tcp_connect_run)
static int tcp_connect_run(lua_State *L) {
    stream *t = lua_touserdata(L, -1);
    tcp_args a;
    tcp_args_get(L, &a);
    call_begin(L, &t->cs.wr, tcp_connect_run_k);      /* a new object: never busy */
    inet_carry carry = {options_tcp, a.laddr != NULL};
    /* the table form's timeout is one deadline over every address */
    const char *err = inet_tryconnect(&t->base.fd, &t->family, a.host, a.serv, SOCK_STREAM,
                                      &t->cs.wr, !a.table, &carry, &t->connerr);
    t->connerr = 0;
    double left = call_left(&t->cs.wr);          /* for the TLS handshake */
    timeout_init(&t->cs.tm, -1, -1);
    if (err != NULL) {
        sock_close(&t->base.fd);
        return stream_pusherror(L, err);
    }
    for (int f = TCP_F_NODELAY; a.table && f <= TCP_F_KEEPALIVE; f++) {
        if (lua_isnil(L, f)) continue;
        int on = lua_toboolean(L, f);
        if (f == TCP_F_NODELAY) setsockopt(t->base.fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        else setsockopt(t->base.fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    }
    if (a.table && !lua_isnil(L, TCP_F_SSL)) return tcp_upgrade(L, left);
    return 1;
}

/* socket.connect(address, port [, locaddr [, locport [, family]]]) and
 * socket.connect{host=, port=, timeout=, family=, localaddress=,
 * localport=, nodelay=, keepalive=, ssl=} (§12.1). */
static int tcp_lua_connect(lua_State *L) {
    int table = lua_istable(L, 1);
    if (table) {
        lua_settop(L, 1);
        tcp_field(L, "host", LUA_TSTRING, 1);          /* TCP_F_HOST .. */
        tcp_field(L, "port", LUA_TSTRING, 1);
        tcp_field(L, "localaddress", LUA_TSTRING, 0);
        tcp_field(L, "localport", LUA_TSTRING, 0);
        tcp_field(L, "family", LUA_TSTRING, 0);
        tcp_field(L, "timeout", LUA_TNUMBER, 0);
        tcp_field(L, "nodelay", LUA_TBOOLEAN, 0);
        tcp_field(L, "keepalive", LUA_TBOOLEAN, 0);
        lua_getfield(L, 1, "ssl");                     /* .. TCP_F_SSL */
    } else {
        lua_settop(L, 5);
    }
    tcp_args a;
    if (!tcp_args_get(L, &a)) return stream_pusherror(L, "invalid port");
    if (table && !lua_isnil(L, TCP_F_SSL)) {
        if (!tcp_sslfunc(L, "starttls")) return stream_pusherror(L, "ssl not available");
        lua_pop(L, 1);
    }
    stream *t = stream_push(L, a.family, TCP_CLIENT);
    lua_pushvalue(L, table ? TCP_F_HOST : 1);
    lua_setiuservalue(L, -2, STREAM_UV_HOST);
    timeout_init(&t->cs.tm, -1, table && !lua_isnil(L, TCP_F_TIMEOUT) ? lua_tonumber(L, TCP_F_TIMEOUT) : -1);
    if (a.laddr != NULL) {
        const char *err = inet_trybind(&t->base.fd, &t->family, a.laddr, a.lserv, SOCK_STREAM);
        if (err != NULL) {
            sock_close(&t->base.fd);
            return stream_pusherror(L, err);
        }
    }
    return tcp_connect_run(L);
}

/* socket.fromfd(fd, "tcp{...}"): adopt a descriptor (registered in core.c). */
static int tcp_lua_fromfd(lua_State *L) {
    int fd = class_checkfd(L, 1);
    stream *t = stream_push(L, AF_UNSPEC, luaL_checkstring(L, 2));
    const char *err = sock_adopt(fd, SOCK_STREAM, AF_INET, "not a tcp socket", &t->family);
    if (err != NULL) return stream_pusherror(L, err);
    t->base.fd = fd;
    return 1;
}

static const stream_classes tcp_classes = {
    TCP_MASTER, TCP_CLIENT, TCP_SERVER, TCP_ANY, options_tcp
};

void tcp_open(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"acceptnossl", tcp_meth_acceptnossl},
        {"bind", tcp_meth_bind},
        {"connect", tcp_meth_connect},
        {"getfamily", tcp_meth_getfamily},
        {"getpeername", tcp_meth_getpeername},
        {"getsockname", tcp_meth_getsockname},
        {"setpeername", tcp_meth_connect},
        {"setsockname", tcp_meth_bind},
        {"setssl", tcp_meth_setssl},
        {"starttls", tcp_meth_starttls},
        {NULL, NULL}
    };
    stream_register(L, &tcp_classes, methods);
    static const luaL_Reg funcs[] = {
        {"tcp", tcp_lua_tcp},
        {"tcp4", tcp_lua_tcp4},
        {"tcp6", tcp_lua_tcp6},
        {"connect", tcp_lua_connect},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
    /* fromfd dispatch: registry["netsocket.fromfd"][class] = adopter */
    static const char *const classes[] = {TCP_MASTER, TCP_CLIENT, TCP_SERVER};
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "netsocket.fromfd");
    for (int i = 0; i < 3; i++) {
        lua_pushcfunction(L, tcp_lua_fromfd);
        lua_setfield(L, -2, classes[i]);
    }
    lua_pop(L, 1);
}
