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
static int tcp_meth_connect(lua_State *L) {
    stream *t = class_checkgroup(L, 1, TCP_ANY);
    const char *host = luaL_checkstring(L, 2);
    char pbuf[8];
    const char *serv = inet_optport(L, 3, NULL, pbuf);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, STREAM_UV_HOST);   /* remembered for TLS (§4.2) */
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
static int tcp_ssl(lua_State *L, const char *cls, const char *name) {
    class_check(L, 1, cls);
    int n = lua_gettop(L);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "socket.ssl");
    if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1) ||
        lua_getfield(L, -1, name) != LUA_TFUNCTION)
        return stream_pusherror(L, "ssl not available");
    lua_remove(L, n + 1);
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

static int tcp_meth_setssl(lua_State *L) { return tcp_ssl(L, TCP_SERVER, "setssl"); }
/* acceptnossl: a plain client even while setssl is active; it keeps the
 * server's TLS context so client:starttls() can upgrade it in server mode. */
static int tcp_meth_acceptnossl(lua_State *L) {
    class_check(L, 1, TCP_SERVER);
    lua_settop(L, 1);
    if (lua_getiuservalue(L, 1, STREAM_UV_TLS) == LUA_TNIL) {
        lua_pop(L, 1);                     /* no setssl: answer as §9.5 says */
        lua_getglobal(L, "require");
        lua_pushliteral(L, "socket.ssl");
        if (lua_pcall(L, 1, 1, 0) != LUA_OK) return stream_pusherror(L, "ssl not available");
        lua_pushnil(L);
    }
    lua_replace(L, 2);                     /* 2: the context (or nil) */
    if (stream_acceptraw(L) != 1) return 2;
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, STREAM_UV_TLS);
    return 1;
}
static int tcp_meth_starttls(lua_State *L) { return tcp_ssl(L, TCP_CLIENT, "starttls"); }

/* ---- client ------------------------------------------------------------- */















/* ---- socket.connect ----------------------------------------------------- */

/* Connects the tcp on top of the stack; on failure closes it and pushes nil, err. */
static int tcp_finishconnect(lua_State *L, stream *t, const char *host, const char *serv,
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
        return stream_pusherror(L, err);
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
    if (serv == NULL || lserv == NULL) return stream_pusherror(L, "invalid port");
    if (has_ssl) return stream_pusherror(L, "ssl not available");
    stream *t = stream_push(L, family, TCP_CLIENT);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, STREAM_UV_HOST);
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
    if (serv == NULL || lserv == NULL) return stream_pusherror(L, "invalid port");
    stream *t = stream_push(L, family, TCP_CLIENT);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, STREAM_UV_HOST);
    return tcp_finishconnect(L, t, host, serv, laddr, lserv, 1);
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
