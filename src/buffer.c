/* Receive patterns and ranged sends over an io backend (API.md §4.3, §4.4).
 * Lines are found with memchr; reads land straight in the buffer, which
 * compacts only when it must and grows geometrically for long reads.
 * Unlike 3.x, a syscall is not limited to 8192 bytes: a long read asks for
 * all the room it has and a send hands the kernel the whole range. Results
 * are the same (the kernel decides how much moves); syscalls are fewer. */
#include <string.h>
#include "compat.h"
#include "buffer.h"
#include "wait.h"

void buffer_init(buffer *b, io *backend, calls *cs) {
    b->data = b->init;
    b->first = b->last = 0;
    b->cap = BUFFER_SIZE;
    b->drained = 0;
    b->waited = 0;
    b->received = b->sent = 0;
    b->birthday = timeout_monotonic();
    b->io = backend;
    b->rd = &cs->rd;
    b->wr = &cs->wr;
}

int buffer_isempty(const buffer *b) {
    return b->first >= b->last;
}

static void buffer_release(lua_State *L, buffer *b) {
    if (b->data != b->init) {
        void *ud;
        lua_Alloc f = lua_getallocf(L, &ud);
        f(ud, b->data, b->cap, 0);
        b->data = b->init;
        b->cap = BUFFER_SIZE;
    }
}

void buffer_free(lua_State *L, buffer *b) {
    buffer_release(L, b);
    b->first = b->last = 0;
}

/* Makes room for at least `room` more bytes after the unread ones. */
static void buffer_reserve(lua_State *L, buffer *b, size_t room) {
    size_t avail = b->last - b->first;
    if (avail == 0) b->first = b->last = 0;
    if (b->cap - b->last >= room) return;
    if (b->cap - avail >= room) {                  /* compacting is enough */
        memmove(b->data, b->data + b->first, avail);
    } else {
        size_t cap = b->cap * 2;
        if (cap < avail + room) cap = avail + room;
        void *ud;
        lua_Alloc f = lua_getallocf(L, &ud);
        char *data;
        if (b->data == b->init) {
            data = f(ud, NULL, 0, cap);
            if (data == NULL) luaL_error(L, "not enough memory");
            memcpy(data, b->data + b->first, avail);
        } else {
            /* realloc: a large block grows in place or by remapping, so
             * its pages are neither copied nor faulted in afresh */
            memmove(b->data, b->data + b->first, avail);
            b->first = 0;
            b->last = avail;
            data = f(ud, b->data, b->cap, cap);
            if (data == NULL) luaL_error(L, "not enough memory");
        }
        b->data = data;
        b->cap = cap;
    }
    b->first = 0;
    b->last = avail;
}

/* Reads at most `max` more bytes into the buffer (making room for `room`),
 * waiting as the timeout allows. IO_DONE, IO_CLOSED, IO_TIMEOUT or errno.
 * A plain socket's read that got less than it asked for emptied the kernel's
 * queue. In a task the next read then waits first (a yield; epoll is
 * level-triggered: data that came meanwhile wakes it at once) instead of
 * spending a recv on EAGAIN. Outside a task the wait is a poll, a syscall
 * of its own, and a peer on the same CPU has often answered before we look
 * (measured: poll first made pinned pingpong 4 % slower). So there, as UDP
 * does (udp.c), a read waits first only while reads keep having to wait,
 * and every 16th reads first to find out whether that still holds. */
static int buffer_more(lua_State *L, buffer *b, size_t room, size_t max) {
    buffer_reserve(L, b, room);
    size_t n = b->cap - b->last;
    if (n > max) n = max;
    int first = 0, waits = 0;
    if (b->drained) {
        b->drained = 0;                            /* a restart reads first */
        /* A call that may not wait (timeout 0) reads: a read that finds
         * nothing costs less than a poll. */
        if (!call_iszero(b->rd)) {
            call *c = b->rd;
            int task = c->L != NULL && c->k != NULL && lua_isyieldable(c->L);
            first = task || (b->waited > 0 && (b->waited & 15) != 0);
            if (!task && b->waited > 0) b->waited = b->waited % 0x10000 + 1;
        }
        if (first) {
            int err = wait_fd(*b->io->fd, WAIT_R, b->rd);
            if (err != IO_DONE) return err;
        }
    }
    for (;;) {
        size_t got;
        int err = b->io->recv(b->io->ctx, b->data + b->last, n, &got);
        if (err == IO_DONE) {
            b->rd->waitend = -1;                   /* a yielded wait that brought data did not run out */
            b->last += got;
            b->drained = got < n && b->io->pending == NULL;
            if (waits > 0) {
                if (b->waited == 0) b->waited = 1;
            } else if (!first) {
                b->waited = 0;                     /* it was there: read first again */
            }
            return IO_DONE;
        }
        if (err != IO_WANTREAD && err != IO_WANTWRITE) return err;
        waits++;
        err = wait_fd(*b->io->fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, b->rd);
        if (err != IO_DONE) return err;
    }
}

/* Byte counters saturate instead of wrapping (setstats can set any value). */
static lua_Integer buffer_add(lua_Integer count, size_t n) {
    lua_Unsigned room = (lua_Unsigned) LUA_MAXINTEGER - (lua_Unsigned) count;   /* no signed overflow */
    return room < n ? LUA_MAXINTEGER : (lua_Integer) ((lua_Unsigned) count + n);
}

static void buffer_consume(buffer *b, size_t n) {
    b->first += n;
    b->received = buffer_add(b->received, n);
    if (b->first == b->last) b->first = b->last = 0;
}

int buffer_fill(lua_State *L, buffer *b, size_t room) {
    return buffer_more(L, b, room, (size_t) -1);
}

/* Pushes the n unread bytes at the start of the buffer, all of them, and
 * consumes them. A large heap block holding exactly them is handed to Lua
 * as the string itself where the version can adopt it (compat_pushblock:
 * Lua 5.5, no copy), and the buffer starts afresh on its inline storage. */
static void buffer_pushall(lua_State *L, buffer *b, size_t n) {
    if (n >= COMPAT_BLOCKMIN && b->data != b->init && b->first == 0 && b->last == n) {
        char *block = b->data;
        size_t cap = b->cap;
        b->data = b->init;
        b->cap = BUFFER_SIZE;
        b->first = b->last = 0;
        b->received = buffer_add(b->received, n);
        compat_pushblock(L, block, cap, n);
        return;
    }
    lua_pushlstring(L, b->data + b->first, n);
    buffer_consume(b, n);
}

/* After a call: give back a large block once it is drained. */
static void buffer_settle(lua_State *L, buffer *b) {
    if (b->first == b->last && b->cap > BUFFER_KEEP) buffer_release(L, b);
}

void buffer_skip(lua_State *L, buffer *b, size_t n) {
    buffer_consume(b, n);
    buffer_settle(L, b);
}

/* Pushes s[0..n) without any "\r" (LuaSocket drops every CR of a line). */
static void buffer_pushnocr(lua_State *L, const char *s, size_t n) {
    const char *cr = memchr(s, '\r', n);
    if (cr == NULL) {
        lua_pushlstring(L, s, n);
    } else if (cr == s + n - 1) {                  /* the usual CRLF */
        lua_pushlstring(L, s, n - 1);
    } else {
        luaL_Buffer B;
        luaL_buffinit(L, &B);
        const char *end = s + n;
        while (cr != NULL) {
            luaL_addlstring(&B, s, (size_t) (cr - s));
            s = cr + 1;
            cr = memchr(s, '\r', (size_t) (end - s));
        }
        luaL_addlstring(&B, s, (size_t) (end - s));
        luaL_pushresult(&B);
    }
}

enum { PAT_COUNT, PAT_LINE, PAT_LINEKEEP, PAT_ALL };

static int buffer_pattern(lua_State *L, int idx, size_t *count) {
    if (lua_isnoneornil(L, idx)) return PAT_LINE;
    if (lua_type(L, idx) == LUA_TSTRING) {     /* the usual "*l": no strtod first */
        const char *p = lua_tostring(L, idx);
        if (p[0] == '*' && p[1] == 'l') return PAT_LINE;
        if (p[0] == '*' && p[1] == 'a') return PAT_ALL;
        if (p[0] == '*' && p[1] == 'L') return PAT_LINEKEEP;
    }
    if (lua_isnumber(L, idx)) {                    /* numbers and numeric strings */
        lua_Number n = lua_tonumber(L, idx);
        luaL_argcheck(L, n >= 0, idx, "invalid receive pattern");
        *count = n >= 4e18 ? (size_t) 4e18 : (size_t) n;   /* truncates 2.7 to 2 */
        return PAT_COUNT;
    }
    size_t len;
    const char *p = lua_tolstring(L, idx, &len);
    if (p != NULL) {
        if (p[0] == '*') {
            if (p[1] == 'l') return PAT_LINE;
            if (p[1] == 'a') return PAT_ALL;
            if (p[1] == 'L') return PAT_LINEKEEP;
        } else if (len == 1) {              /* "l", not "l\0..." (fuzz/receive) */
            if (p[0] == 'l') return PAT_LINE;
            if (p[0] == 'a') return PAT_ALL;
            if (p[0] == 'L') return PAT_LINEKEEP;
        }
    }
    return luaL_argerror(L, idx, "invalid receive pattern");
}

/* Pushes prefix .. (the string on top), leaving one value. */
static void buffer_joinprefix(lua_State *L, size_t plen) {
    if (plen == 0) return;
    lua_pushvalue(L, 3);
    lua_insert(L, -2);
    lua_concat(L, 2);
}

/* Grows by doubling with the amount already buffered: long reads cost
 * amortised O(n), short ones never grow the buffer. */
static size_t buffer_room(const buffer *b, size_t floor) {
    size_t avail = b->last - b->first;
    return avail > floor ? avail : floor;
}

int buffer_meth_receive(lua_State *L, buffer *b) {
    size_t count = 0, plen;
    int pat = buffer_pattern(L, 2, &count);
    luaL_optlstring(L, 3, "", &plen);
    /* Extension: a line longer than `max` bytes (not counting CR LF) is
     * "line too long", nothing consumed: a protocol reader bounds what a
     * peer can make it buffer. */
    size_t limit = (size_t) -1;
    if (!lua_isnoneornil(L, 4)) {
        lua_Integer max = luaL_checkinteger(L, 4);
        luaL_argcheck(L, max >= 0, 4, "negative line limit");
        if ((lua_Unsigned) max < (lua_Unsigned) ((size_t) -1 - 2)) limit = (size_t) max + 2;
    }
    lua_settop(L, 3);
    call_enter(b->rd);             /* bytes stay buffered until the pattern completes: restartable */
    int err = IO_DONE;
    size_t take = 0;          /* bytes of the buffer that make the result */
    size_t skip = 0;          /* bytes consumed but not returned (the "\n") */
    int dropcr = 0;
    switch (pat) {
        case PAT_COUNT: {
            if (plen >= count && plen > 0) {       /* the prefix alone satisfies it */
                lua_pushvalue(L, 3);
                lua_pushnil(L);
                lua_pushnil(L);
                return 3;
            }
            size_t need = count - plen;
            if (need == 0) {                       /* receive(0): wait for readability */
                if (buffer_isempty(b)) err = buffer_more(L, b, 1, (size_t) -1);
                if (err == IO_DONE) {
                    lua_pushliteral(L, "");
                    lua_pushnil(L);
                    lua_pushnil(L);
                    return 3;
                }
                break;
            }
            while (b->last - b->first < need) {
                size_t left = need - (b->last - b->first);
                size_t room = buffer_room(b, BUFFER_SIZE);
                err = buffer_more(L, b, left < room ? left : room, (size_t) -1);
                if (err != IO_DONE) break;
            }
            take = err == IO_DONE ? need : b->last - b->first;
            break;
        }
        case PAT_LINE:
        case PAT_LINEKEEP: {
            size_t scanned = 0;
            int toolong = 0;
            dropcr = pat == PAT_LINE;
            for (;;) {
                size_t avail = b->last - b->first, upto = avail < limit ? avail : limit;
                const char *nl = memchr(b->data + b->first + scanned, '\n', upto - scanned);
                if (nl != NULL) {
                    take = (size_t) (nl - (b->data + b->first));
                    size_t content = take > 0 && nl[-1] == '\r' ? take - 1 : take;
                    toolong = limit != (size_t) -1 && content > limit - 2;
                    if (pat == PAT_LINEKEEP) take++; else skip = 1;
                    break;
                }
                if (upto == limit) {
                    toolong = 1;
                    break;
                }
                scanned = avail;
                err = buffer_more(L, b, buffer_room(b, 1024), (size_t) -1);
                if (err != IO_DONE) {
                    take = b->last - b->first;
                    break;
                }
            }
            if (toolong) {                         /* nothing consumed: partial is the prefix */
                lua_pushnil(L);
                lua_pushliteral(L, "line too long");
                lua_pushliteral(L, "");
                buffer_joinprefix(L, plen);
                return 3;
            }
            break;
        }
        case PAT_ALL: {
            do err = buffer_more(L, b, buffer_room(b, BUFFER_SIZE), (size_t) -1);
            while (err == IO_DONE);
            take = b->last - b->first;
            if (err == IO_CLOSED && take > 0) err = IO_DONE;   /* EOF ends "*a" */
            break;
        }
    }
    const char *data = b->data + b->first;
    if (err == IO_DONE) {
        if (dropcr) {
            buffer_pushnocr(L, data, take);
            buffer_consume(b, take + skip);
        } else if (skip == 0) {
            buffer_pushall(L, b, take);
        } else {
            lua_pushlstring(L, data, take);
            buffer_consume(b, take + skip);
        }
        buffer_joinprefix(L, plen);
        buffer_settle(L, b);
        lua_pushnil(L);
        lua_pushnil(L);
        return 3;
    }
    lua_pushnil(L);
    lua_pushstring(L, b->io->error(b->io->ctx, err));
    if (dropcr) buffer_pushnocr(L, data, take); else lua_pushlstring(L, data, take);
    buffer_joinprefix(L, plen);
    buffer_consume(b, take);
    buffer_settle(L, b);
    return 3;
}

/* A position argument, truncated toward zero as 3.x does before it counts
 * negative positions from the end; huge values and NaN are clamped. */
static long long buffer_pos(lua_State *L, int idx, long long def) {
    lua_Number n = luaL_optnumber(L, idx, (lua_Number) def);
    if (n != n) return 0;
    if (n > 4e18) return (long long) 4e18;
    if (n < -4e18) return (long long) -4e18;
    return (long long) n;
}

/* string.sub-style range over a string of `size` bytes: i..j, 1-based. */
static void buffer_range(lua_State *L, int idx, size_t size, size_t *i, size_t *j) {
    long long s = (long long) size;
    long long ni = buffer_pos(L, idx, 1), nj = buffer_pos(L, idx + 1, -1);
    if (ni < 0) ni = s + ni + 1;
    if (nj < 0) nj = s + nj + 1;
    if (ni < 1) ni = 1;
    if (nj > s) nj = s;
    if (nj < 0) nj = 0;
    *i = (size_t) ni;
    *j = (size_t) nj;
}

/* Sends data[*sent..n), waiting as the timeout allows; *sent counts on. A
 * wait may yield (cosockets): what is sent is counted before, and kept in
 * the write call's progress for the restarted call. */
static int buffer_sendall(buffer *b, const char *data, size_t n, size_t *sent) {
    int err = IO_DONE;
    while (*sent < n) {
        size_t done;
        err = b->io->send(b->io->ctx, data + *sent, n - *sent, &done);
        *sent += done;
        b->sent = buffer_add(b->sent, done);
        if (done > 0) b->wr->waitend = -1;         /* nor did one that let bytes out */
        if (err == IO_DONE) continue;
        if (err != IO_WANTREAD && err != IO_WANTWRITE) break;
        b->wr->progress = *sent;
        err = wait_fd(*b->io->fd, err == IO_WANTREAD ? WAIT_R : WAIT_W, b->wr);
        if (err != IO_DONE) break;
    }
    return err;
}

static int buffer_pushsent(lua_State *L, buffer *b, int err, size_t last) {
    if (err == IO_DONE) {
        lua_pushinteger(L, (lua_Integer) last);
        lua_pushnil(L);
        lua_pushnil(L);
    } else {
        lua_pushnil(L);
        lua_pushstring(L, b->io->error(b->io->ctx, err));
        lua_pushinteger(L, (lua_Integer) last);
    }
    return 3;
}

int buffer_meth_send(lua_State *L, buffer *b) {
    size_t size, i, j, sent = 0;
    const char *data = luaL_checklstring(L, 2, &size);
    buffer_range(L, 3, size, &i, &j);
    if (call_enter(b->wr)) sent = b->wr->progress;   /* a restart goes on where it stopped */
    int err = IO_DONE;
    if (i <= j) err = buffer_sendall(b, data + i - 1, j - i + 1, &sent);
    return buffer_pushsent(L, b, err, i - 1 + sent);
}

int buffer_pushbusy(lua_State *L, buffer *b, const call *c) {
    size_t size, i = 1, j;
    if (c != b->rd) {             /* send's arguments, read before anything is pushed over them */
        luaL_checklstring(L, 2, &size);
        buffer_range(L, 3, size, &i, &j);
    }
    lua_pushnil(L);
    lua_pushstring(L, call_busy(c));
    if (c == b->rd) lua_pushliteral(L, "");             /* receive's partial: nothing */
    else lua_pushinteger(L, (lua_Integer) i - 1);       /* send's last index: nothing sent */
    return 3;
}

int buffer_meth_sendsome(lua_State *L, buffer *b) {
    size_t size, i, j, sent = 0;
    const char *data = luaL_checklstring(L, 2, &size);
    buffer_range(L, 3, size, &i, &j);
    int err = IO_DONE;
    if (i <= j) {
        err = b->io->send(b->io->ctx, data + i - 1, j - i + 1, &sent);
        if (err == IO_WANTREAD || err == IO_WANTWRITE) err = IO_DONE;   /* not an error here */
        b->sent = buffer_add(b->sent, sent);
    }
    return buffer_pushsent(L, b, err, i - 1 + sent);
}

int buffer_meth_receivesome(lua_State *L, buffer *b) {
    lua_Number nmax = luaL_checknumber(L, 2);
    luaL_argcheck(L, nmax >= 1, 2, "size must be positive");
    size_t max = nmax >= 4e18 ? (size_t) 4e18 : (size_t) nmax;
    double limit = luaL_optnumber(L, 3, 0);
    call_enter(b->rd);
    if (!lua_isnoneornil(L, 3)) call_setlimit(b->rd, limit);   /* this call only */
    int err = IO_DONE;
    if (buffer_isempty(b)) {
        size_t room = max < 256 * 1024 ? max : 256 * 1024;
        err = buffer_more(L, b, room, max);
    }
    if (err != IO_DONE) {
        lua_pushnil(L);
        lua_pushstring(L, b->io->error(b->io->ctx, err));
        return 2;
    }
    size_t n = b->last - b->first;
    if (n > max) n = max;
    buffer_pushall(L, b, n);
    buffer_settle(L, b);
    return 1;
}

int buffer_meth_getstats(lua_State *L, buffer *b) {
    lua_pushinteger(L, b->received);
    lua_pushinteger(L, b->sent);
    lua_pushnumber(L, timeout_monotonic() - b->birthday);
    return 3;
}

/* A counter from setstats: truncated and clamped to the integer range
 * (NaN -> 0); negative values are kept, as 3.x keeps them. */
static lua_Integer buffer_count(lua_Number n) {
    if (n != n) return 0;
    if (n >= 9.2e18) return LUA_MAXINTEGER;
    if (n <= -9.2e18) return LUA_MININTEGER;
    return (lua_Integer) n;
}

int buffer_meth_setstats(lua_State *L, buffer *b) {
    b->received = buffer_count(luaL_optnumber(L, 2, (lua_Number) b->received));
    b->sent = buffer_count(luaL_optnumber(L, 3, (lua_Number) b->sent));
    if (lua_isnumber(L, 4)) b->birthday = timeout_monotonic() - lua_tonumber(L, 4);
    lua_pushinteger(L, 1);
    return 1;
}
