/* Windows named pipes for socket.pipe (doc/windows.md, "Named pipes").
 * The pipe is a real \\.\pipe\<name>, so any Windows program can be the
 * peer. The Lua side gets a loopback TCP socket instead of the pipe
 * handle: each connection is bridged by two threads (pipe -> socket and
 * socket -> pipe, overlapped I/O on the pipe handle), so the object is an
 * ordinary stream socket to the engine: receive patterns, send ranges,
 * timeouts, dirty, socket.select and socket.co tasks work unchanged, with
 * no pipe handles in WSAPoll (which takes sockets only). A listening pipe
 * has a thread that waits in ConnectNamedPipe, bridges each client, queues
 * the Lua end and rings a doorbell socket that the Lua server object
 * waits on, so accept is selectable and yields in a task as well. */
#define WPOSIX_IMPL
#include "wposix.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "../../compat.h"

#define WPIPE_SERVER "netsocket.winpipe"
#define WPIPE_BUF 65536
#define WPIPE_PREFIX "\\\\.\\pipe\\"

/* ---- the names this process serves: a server's own (listening) and
 * those its connections' instances keep alive after it closed. A closed
 * server's connections, and the bridges of those just closed (their threads
 * close the pipe handles a moment later), keep the name in use: a new
 * server of that name in this process joins them as the name's next
 * instances, where a unix server would bind its path again. */
typedef struct wpipe_name {
    struct wpipe_name *next;
    int listening, links;
    char path[];
} wpipe_name;

static SRWLOCK wpipe_namelock = SRWLOCK_INIT;
static wpipe_name *wpipe_names;

/* Under the lock. Pipe names are case-insensitive. */
static wpipe_name *wpipe_namefind(const char *path) {
    wpipe_name *e = wpipe_names;
    while (e != NULL && _stricmp(e->path, path) != 0) e = e->next;
    return e;
}

static void wpipe_nameunref(wpipe_name *e, int listening) {
    AcquireSRWLockExclusive(&wpipe_namelock);
    if (listening) e->listening--; else e->links--;
    if (e->listening == 0 && e->links == 0) {
        wpipe_name **pp = &wpipe_names;
        while (*pp != e) pp = &(*pp)->next;
        *pp = e->next;
        free(e);
    }
    ReleaseSRWLockExclusive(&wpipe_namelock);
}

/* ---- one connection: the pipe handle and the bridge's end of the pair */
typedef struct wpipe_link {
    HANDLE pipe;
    SOCKET sock;
    HANDLE up;        /* the pipe -> socket thread */
    wpipe_name *name; /* a server's instance: its name's entry; else NULL */
} wpipe_link;

static int wpipe_sendall(SOCKET s, const char *p, DWORD n) {
    while (n > 0) {
        int r = send(s, p, n > INT_MAX ? INT_MAX : (int) n, 0);
        if (r <= 0) return 0;
        p += r;
        n -= (DWORD) r;
    }
    return 1;
}

/* One overlapped read or write on the pipe, waited for; the bytes moved,
 * or -1 when the pipe is broken (the peer closed) or the I/O was cancelled. */
static long wpipe_io(HANDLE h, char *buf, DWORD n, int wr, HANDLE ev) {
    OVERLAPPED ov;
    memset(&ov, 0, sizeof ov);
    ov.hEvent = ev;
    DWORD got = 0;
    BOOL ok = wr ? WriteFile(h, buf, n, &got, &ov) : ReadFile(h, buf, n, &got, &ov);
    if (!ok && GetLastError() == ERROR_IO_PENDING) ok = GetOverlappedResult(h, &ov, &got, TRUE);
    return ok ? (long) got : -1;
}

/* Pipe -> socket, until the peer closes; then the Lua side reads EOF
 * after the last byte. */
static DWORD WINAPI wpipe_up(void *arg) {
    wpipe_link *k = arg;
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
    char *buf = malloc(WPIPE_BUF);
    if (ev != NULL && buf != NULL) {
        for (;;) {
            long n = wpipe_io(k->pipe, buf, WPIPE_BUF, 0, ev);
            if (n < 0 || !wpipe_sendall(k->sock, buf, (DWORD) n)) break;
        }
    }
    shutdown(k->sock, SD_SEND);
    free(buf);
    if (ev != NULL) CloseHandle(ev);
    return 0;
}

/* Socket -> pipe, until the Lua side closes its end or a write finds the
 * pipe broken (the peer closed); then the link is torn down. In the second
 * case the bridge's socket closes with the Lua side's bytes unread, so the
 * Lua side's next send fails ("closed"), as a send to a closed unix peer
 * does; what the peer had sent was forwarded before (the up thread ends
 * first). */
static DWORD WINAPI wpipe_down(void *arg) {
    wpipe_link *k = arg;
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
    char *buf = malloc(WPIPE_BUF);
    int broken = 0;
    if (ev != NULL && buf != NULL) {
        for (;;) {
            int r = recv(k->sock, buf, WPIPE_BUF, 0);
            if (r <= 0) break;
            if (wpipe_io(k->pipe, buf, (DWORD) r, 1, ev) < 0) { broken = 1; break; }
        }
    }
    /* A broken pipe also ends the up thread's read by itself, after the
     * peer's last bytes; otherwise the read is cancelled, again until the
     * thread has ended: it may not have issued its read yet (a close right
     * after the connect, on a loaded machine), and a read issued after one
     * cancel would wait for ever, so the peer never saw the end. */
    if (broken) WaitForSingleObject(k->up, INFINITE);
    else {
        do CancelIoEx(k->pipe, NULL);
        while (WaitForSingleObject(k->up, 10) == WAIT_TIMEOUT);
    }
    CloseHandle(k->up);
    /* CloseHandle, not DisconnectNamedPipe: the peer may still read what
     * is in the pipe before it sees the end. */
    CloseHandle(k->pipe);
    if (k->name != NULL) wpipe_nameunref(k->name, 0);
    closesocket(k->sock);
    free(buf);
    if (ev != NULL) CloseHandle(ev);
    free(k);
    return 0;
}

/* Bridges a connected pipe handle: the Lua end's descriptor, or -1 with
 * errno set (the handle is closed then). A server's instance passes its
 * name's entry: the link holds one of its links until the handle closes. */
static int wpipe_bridge(HANDLE pipe, wpipe_name *name) {
    int fds[2];
    if (name != NULL) {
        AcquireSRWLockExclusive(&wpipe_namelock);
        name->links++;
        ReleaseSRWLockExclusive(&wpipe_namelock);
    }
    if (wposix_pipe(fds) != 0) {
        CloseHandle(pipe);
        if (name != NULL) wpipe_nameunref(name, 0);
        return -1;
    }
    int one = 1;
    setsockopt((SOCKET) fds[0], IPPROTO_TCP, TCP_NODELAY, (const char *) &one, sizeof one);
    wpipe_link *k = malloc(sizeof *k);
    HANDLE down = NULL;
    if (k != NULL) {
        k->pipe = pipe;
        k->sock = (SOCKET) fds[1];
        k->name = name;
        k->up = CreateThread(NULL, 0, wpipe_up, k, 0, NULL);
        if (k->up != NULL) down = CreateThread(NULL, 0, wpipe_down, k, 0, NULL);
    }
    if (down == NULL) {
        if (k != NULL && k->up != NULL) {
            closesocket((SOCKET) fds[1]);
            CancelIoEx(pipe, NULL);
            WaitForSingleObject(k->up, INFINITE);
            CloseHandle(k->up);
        } else {
            closesocket((SOCKET) fds[1]);
        }
        free(k);
        CloseHandle(pipe);
        if (name != NULL) wpipe_nameunref(name, 0);
        closesocket((SOCKET) fds[0]);
        errno = ENOMEM;
        return -1;
    }
    CloseHandle(down);
    return fds[0];
}

/* A Win32 error of the pipe calls as the errno the engine's texts know. */
static int wpipe_errno(DWORD e) {
    switch (e) {
        case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: return ENOENT;
        case ERROR_ACCESS_DENIED: case ERROR_PIPE_BUSY: return EADDRINUSE;
        case ERROR_INVALID_NAME: case ERROR_BAD_PATHNAME: return EINVAL;
        default: return wposix_errno((int) e);
    }
}

static int wpipe_fail(lua_State *L, int err) {
    lua_pushnil(L);
    lua_pushstring(L, err == EADDRINUSE ? "address already in use" : err == ENOENT
                   ? wposix_strerror(ENOENT) : err == ETIMEDOUT ? "timeout"
                   : err == EACCES ? "permission denied"
                   : err == ENAMETOOLONG ? "path too long" : wposix_strerror(err));
    return 2;
}

/* The pipe's path, \\.\pipe\<name> (name may be that full path already),
 * pushed; NULL with *err set when the name cannot be one (a name that
 * starts with the prefix, in any case and with either slash, is that path).
 * Windows resolves
 * "." and ".." in such a path before it opens it, and "\\.\pipe\..\C:\x"
 * would name the file C:\x: the name's parts are resolved here, within the
 * pipe namespace (".." stops at its root), joined by backslashes as Windows
 * would join them. A part of dots and spaces only, which Windows might trim
 * into a "..", is refused. */
static const char *wpipe_path(lua_State *L, int idx, int *err) {
    size_t n;
    const char *name = luaL_checklstring(L, idx, &n);
    luaL_argcheck(L, memchr(name, '\0', n) == NULL, idx, "path contains a zero byte");
    /* the prefix as Windows reads it: either slash, any case */
    static const char pre[] = "//./pipe/";
    size_t skip = sizeof pre - 1, i = 0;
    while (i < skip && i < n && (pre[i] == '/' ? name[i] == '/' || name[i] == '\\'
                                 : pre[i] == '.' ? name[i] == '.' : (name[i] | 0x20) == pre[i]))
        i++;
    if (i == skip) { name += skip; n -= skip; }
    char *out = lua_newuserdatauv(L, n + 1, 0);   /* the name, resolved */
    size_t len = 0;
    const char *p = name, *end = name + n;
    while (p < end) {
        const char *q = p;
        while (q < end && *q != '/' && *q != '\\') q++;
        size_t k = (size_t) (q - p);
        size_t dots = 0;
        while (dots < k && (p[dots] == '.' || p[dots] == ' ')) dots++;
        if (k == 2 && p[0] == '.' && p[1] == '.') {       /* up one part, not past the root */
            while (len > 0 && out[len - 1] != '\\') len--;
            if (len > 0) len--;
        } else if (k > 0 && !(k == 1 && p[0] == '.')) {
            if (dots == k) { *err = EINVAL; return NULL; }
            if (len > 0) out[len++] = '\\';
            memcpy(out + len, p, k);
            len += k;
        }
        p = q + (q < end);
    }
    if (len == 0) { *err = EINVAL; return NULL; }
    if (len >= 240) { *err = ENAMETOOLONG; return NULL; }
    lua_pushliteral(L, WPIPE_PREFIX);
    lua_pushlstring(L, out, len);
    lua_concat(L, 2);
    return lua_tostring(L, -1);
}

static HANDLE wpipe_instance(const char *path, int first) {
    DWORD open = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
    return CreateNamedPipeA(path, open, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                            PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES,
                            WPIPE_BUF, WPIPE_BUF, 0, NULL);
}

/* ---- connect(name, timeout) -> fd | nil, err: waits for a free instance
 * (WaitNamedPipe) until the timeout (seconds; negative: no limit). */
static int wpipe_connect(lua_State *L) {
    int bad = 0;
    const char *path = wpipe_path(L, 1, &bad);
    if (path == NULL) return wpipe_fail(L, bad);
    double t = luaL_optnumber(L, 2, -1);
    /* A timeout of 30 years or more (math.huge) is none: past 2^64 ms the
     * conversion would be out of range, a deadline in the past. */
    int limited = t >= 0 && t < 1e9;
    ULONGLONG end = limited ? GetTickCount64() + (ULONGLONG) (t * 1000 + 0.5) : 0;
    if (wposix_init() != 0) return wpipe_fail(L, ENETDOWN);
    for (;;) {
        HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                               FILE_FLAG_OVERLAPPED, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            int fd = wpipe_bridge(h, NULL);
            if (fd < 0) return wpipe_fail(L, errno);
            lua_pushinteger(L, fd);
            return 1;
        }
        DWORD e = GetLastError();
        if (e != ERROR_PIPE_BUSY) return wpipe_fail(L, e == ERROR_ACCESS_DENIED ? EACCES : wpipe_errno(e));
        DWORD ms = 50;
        if (limited) {
            ULONGLONG now = GetTickCount64();
            if (now >= end) return wpipe_fail(L, ETIMEDOUT);
            if (end - now < ms) ms = (DWORD) (end - now);
        }
        if (!WaitNamedPipeA(path, ms) && GetLastError() == ERROR_FILE_NOT_FOUND)
            return wpipe_fail(L, ENOENT);
    }
}

/* ---- a listening pipe */
typedef struct wpipe_server {
    char *path;
    wpipe_name *name;       /* this server's entry (listening) */
    HANDLE next;            /* the instance waiting for a client */
    HANDLE stop;            /* set by close */
    HANDLE thread;          /* NULL when none runs */
    int open;               /* the fields below are set up (until close) */
    CRITICAL_SECTION lock;
    int *queue;             /* Lua ends of connected clients, not yet taken */
    int qhead, qlen, qcap;
    int backlog;            /* most clients queued; the next waits in its instance */
    HANDLE room;            /* set while qlen < backlog */
    SOCKET bell;            /* one byte per queued client, to the Lua side */
} wpipe_server;

static void wpipe_push(wpipe_server *s, int fd) {
    EnterCriticalSection(&s->lock);
    if (s->qlen == s->qcap) {
        int cap = s->qcap ? s->qcap * 2 : 16;
        int *q = malloc((size_t) cap * sizeof *q);
        if (q == NULL) {
            LeaveCriticalSection(&s->lock);
            closesocket((SOCKET) fd);   /* the client sees the pipe end */
            return;
        }
        for (int i = 0; i < s->qlen; i++) q[i] = s->queue[(s->qhead + i) % s->qcap];
        free(s->queue);
        s->queue = q;
        s->qhead = 0;
        s->qcap = cap;
    }
    s->queue[(s->qhead + s->qlen) % s->qcap] = fd;
    s->qlen++;
    if (s->qlen >= s->backlog) ResetEvent(s->room);
    LeaveCriticalSection(&s->lock);
    send(s->bell, "c", 1, 0);
}

/* Waits for clients until close: each connected instance is bridged and
 * queued, and a fresh instance takes its place. With `backlog` clients
 * queued it waits for accept first, as a full listen queue does: one more
 * client can open the waiting instance, later ones find the pipe busy, and
 * no bridge (threads, buffers) is made for them. */
static DWORD WINAPI wpipe_listen(void *arg) {
    wpipe_server *s = arg;
    HANDLE ev = CreateEventA(NULL, TRUE, FALSE, NULL);
    while (ev != NULL && s->next != INVALID_HANDLE_VALUE) {
        HANDLE rs[2] = { s->room, s->stop };
        if (WaitForMultipleObjects(2, rs, FALSE, INFINITE) != WAIT_OBJECT_0) break;
        OVERLAPPED ov;
        memset(&ov, 0, sizeof ov);
        ov.hEvent = ev;
        ResetEvent(ev);
        DWORD n;
        BOOL ok = ConnectNamedPipe(s->next, &ov);
        DWORD e = ok ? 0 : GetLastError();
        if (e == ERROR_IO_PENDING) {
            HANDLE hs[2] = { ev, s->stop };
            if (WaitForMultipleObjects(2, hs, FALSE, INFINITE) != WAIT_OBJECT_0) {
                CancelIoEx(s->next, &ov);
                GetOverlappedResult(s->next, &ov, &n, TRUE);
                break;
            }
            ok = GetOverlappedResult(s->next, &ov, &n, FALSE);
            e = ok ? 0 : GetLastError();
        }
        /* ERROR_NO_DATA: a client connected and has closed already (it
         * came before this call); what it wrote is still in the pipe, so it
         * is bridged like the others and its server end reads those bytes,
         * then the end (a unix socket's accept gives such a client too). */
        if (e == ERROR_PIPE_CONNECTED || e == ERROR_NO_DATA) ok = TRUE;
        if (WaitForSingleObject(s->stop, 0) == WAIT_OBJECT_0) break;
        if (!ok) {                      /* the instance failed: reuse it */
            DisconnectNamedPipe(s->next);
            Sleep(10);
            continue;
        }
        HANDLE conn = s->next;
        s->next = wpipe_instance(s->path, 0);
        int fd = wpipe_bridge(conn, s->name);
        if (fd >= 0) wpipe_push(s, fd);
        if (s->next == INVALID_HANDLE_VALUE) break;
    }
    if (ev != NULL) CloseHandle(ev);
    return 0;
}

static wpipe_server *wpipe_check(lua_State *L) {
    return luaL_checkudata(L, 1, WPIPE_SERVER);
}

static void wpipe_release(wpipe_server *s) {
    if (!s->open) return;
    s->open = 0;
    SetEvent(s->stop);
    if (s->thread != NULL) {
        WaitForSingleObject(s->thread, INFINITE);
        CloseHandle(s->thread);
        s->thread = NULL;
    }
    if (s->next != INVALID_HANDLE_VALUE) CloseHandle(s->next);
    s->next = INVALID_HANDLE_VALUE;
    for (int i = 0; i < s->qlen; i++) closesocket((SOCKET) s->queue[(s->qhead + i) % s->qcap]);
    s->qlen = 0;
    free(s->queue);
    s->queue = NULL;
    closesocket(s->bell);
    CloseHandle(s->stop);
    CloseHandle(s->room);
    DeleteCriticalSection(&s->lock);
    free(s->path);
    wpipe_nameunref(s->name, 1);
}

/* listen(name [, backlog]) -> server, bellfd | nil, err. bellfd is the
 * read end of the doorbell, for the Lua side to adopt (socket.fromfd).
 * backlog: 1 to 4096 (Linux's somaxconn), default 32. */
static int wpipe_open(lua_State *L) {
    int bad = 0;
    lua_Number bl = luaL_optnumber(L, 2, 32);
    int backlog = !(bl >= 1) ? 1 : bl > 4096 ? 4096 : (int) bl;   /* NaN: 1 */
    const char *path = wpipe_path(L, 1, &bad);
    if (path == NULL) return wpipe_fail(L, bad);
    wpipe_server *s = lua_newuserdatauv(L, sizeof *s, 0);
    memset(s, 0, sizeof *s);
    s->next = INVALID_HANDLE_VALUE;
    luaL_setmetatable(L, WPIPE_SERVER);
    if (wposix_init() != 0) return wpipe_fail(L, ENETDOWN);
    /* FILE_FLAG_FIRST_PIPE_INSTANCE refuses a name in use on Windows, not
     * under Wine: ask first (WaitNamedPipe connects nothing). A name only
     * this process's closed servers keep in use is taken over. */
    AcquireSRWLockExclusive(&wpipe_namelock);
    wpipe_name *e = wpipe_namefind(path);
    int ours = e != NULL && e->listening == 0;
    if ((e != NULL && !ours) ||
        (!ours && (WaitNamedPipeA(path, 1) || GetLastError() != ERROR_FILE_NOT_FOUND))) {
        ReleaseSRWLockExclusive(&wpipe_namelock);
        return wpipe_fail(L, EADDRINUSE);
    }
    HANDLE h = wpipe_instance(path, !ours);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        ReleaseSRWLockExclusive(&wpipe_namelock);
        return wpipe_fail(L, wpipe_errno(err));
    }
    if (e == NULL && (e = calloc(1, sizeof *e + strlen(path) + 1)) != NULL) {
        strcpy(e->path, path);
        e->next = wpipe_names;
        wpipe_names = e;
    }
    if (e != NULL) e->listening++;
    ReleaseSRWLockExclusive(&wpipe_namelock);
    if (e == NULL) {
        CloseHandle(h);
        return wpipe_fail(L, ENOMEM);
    }
    int fds[2];
    if (wposix_pipe(fds) != 0) {
        int err = errno;
        CloseHandle(h);
        wpipe_nameunref(e, 1);
        return wpipe_fail(L, err);
    }
    s->path = _strdup(path);
    s->stop = CreateEventA(NULL, TRUE, FALSE, NULL);
    s->room = CreateEventA(NULL, TRUE, TRUE, NULL);
    if (s->path == NULL || s->stop == NULL || s->room == NULL) {
        free(s->path);
        if (s->stop != NULL) CloseHandle(s->stop);
        if (s->room != NULL) CloseHandle(s->room);
        CloseHandle(h);
        wpipe_nameunref(e, 1);
        closesocket((SOCKET) fds[0]);
        closesocket((SOCKET) fds[1]);
        return wpipe_fail(L, ENOMEM);
    }
    InitializeCriticalSection(&s->lock);
    s->name = e;
    s->next = h;
    s->bell = (SOCKET) fds[1];
    s->backlog = backlog;
    s->open = 1;
    s->thread = CreateThread(NULL, 0, wpipe_listen, s, 0, NULL);
    if (s->thread == NULL) {
        wpipe_release(s);
        closesocket((SOCKET) fds[0]);
        return wpipe_fail(L, ENOMEM);
    }
    lua_pushinteger(L, fds[0]);
    return 2;
}

/* server:take() -> fd of the next connected client | nil (none queued). */
static int wpipe_take(lua_State *L) {
    wpipe_server *s = wpipe_check(L);
    int fd = -1;
    if (s->open) {
        EnterCriticalSection(&s->lock);
        if (s->qlen > 0) {
            fd = s->queue[s->qhead];
            s->qhead = (s->qhead + 1) % s->qcap;
            s->qlen--;
            if (s->qlen < s->backlog) SetEvent(s->room);
        }
        LeaveCriticalSection(&s->lock);
    }
    if (fd < 0) lua_pushnil(L); else lua_pushinteger(L, fd);
    return 1;
}

/* server:close(): stops listening; clients not taken see the pipe end. */
static int wpipe_close(lua_State *L) {
    wpipe_release(wpipe_check(L));
    return 0;
}

int luaopen_socket_winpipe(lua_State *L);
int luaopen_socket_winpipe(lua_State *L) {
    static const luaL_Reg methods[] = {
        {"take", wpipe_take}, {"close", wpipe_close}, {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"listen", wpipe_open}, {"connect", wpipe_connect}, {NULL, NULL},
    };
    /* Bridge threads may outlive the lua_State (a link ends when its peer
     * does): the DLL is pinned so that closing the state cannot unmap the
     * code they run. */
    HMODULE self;
    GetModuleHandleExA(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                       (LPCSTR) (void *) wpipe_up, &self);
    if (luaL_newmetatable(L, WPIPE_SERVER)) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, wpipe_close);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_newtable(L);
    luaL_setfuncs(L, funcs, 0);
    return 1;
}
