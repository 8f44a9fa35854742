/* HTTP/1.x request heads read in one call (doc/tcp.md, receivehead).
 * Strict where leniency lets a request mean two things to two parsers
 * (request smuggling): no obs-fold, no whitespace before a colon, no CR,
 * NUL or other control inside a line; a bare LF ends a line as CRLF does
 * (RFC 9112 §2.2 allows it), a lone CR is an error. Bytes stay buffered
 * until the head is complete, so the call restarts after a wait (socket.co)
 * and a timeout loses nothing. */
#include <stdint.h>
#include <string.h>
#include "httphead.h"
#include "io.h"

enum { HH_TOKEN = 1, HH_VALUE = 2, HH_TARGET = 4, HH_UPPER = 8 };

/* Character classes: tchar (RFC 9110 §5.6.2), field-value bytes (VCHAR,
 * obs-text, SP, HTAB), request-target bytes (VCHAR), upper-case letters. */
static const unsigned char httphead_class[256] = {   /* 32 bytes a row */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,
    6, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 6, 6, 6, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

#define HH_IS(c, k) (httphead_class[(unsigned char) (c)] & (k))

void httphead_scaninit(httphead_scan_state *st) {
    st->pos = st->start = st->nfields = 0;
    st->inhead = 0;
    st->nhost = st->nframing = 0;
}

/* Whether the field name s[0..n) is `lower` (lower-case letters and '-'),
 * in any case. */
static int httphead_nameis(const char *s, const char *lower, size_t n) {
    for (size_t i = 0; i < n; i++)
        if ((char) (s[i] | (HH_IS(s[i], HH_UPPER) ? 0x20 : 0)) != lower[i]) return 0;
    return 1;
}

/* Counts the fields socket.httpd must look at before it can take its fast
 * path (httphead_meth_receive, raw): Host, and those that frame a body or
 * set connection options. */
static void httphead_classify(httphead_scan_state *st, const char *s, size_t n) {
    switch (n) {
        case 4: st->nhost += httphead_nameis(s, "host", 4); break;
        case 6: st->nframing += httphead_nameis(s, "expect", 6); break;
        case 10: st->nframing += httphead_nameis(s, "connection", 10); break;
        case 14: st->nframing += httphead_nameis(s, "content-length", 14); break;
        case 17: st->nframing += httphead_nameis(s, "transfer-encoding", 17); break;
        default: break;
    }
}

/* method SP request-target SP HTTP/d.d */
static int httphead_checkline(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && HH_IS(s[i], HH_TOKEN)) i++;
    if (i == 0 || i == n || s[i] != ' ') return HTTPHEAD_BADLINE;
    size_t t = ++i;
    while (i < n && HH_IS(s[i], HH_TARGET)) i++;
    if (i == t || i == n || s[i] != ' ') return HTTPHEAD_BADLINE;
    s += i + 1;
    n -= i + 1;
    if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[5] < '0' || s[5] > '9' || s[6] != '.'
        || s[7] < '0' || s[7] > '9') return HTTPHEAD_BADLINE;
    return 0;
}

/* Whether 8 bytes are all plain field-value bytes, none below 0x20 (HTAB
 * included: the caller looks at such a word byte by byte) and none 0x7f. */
static int httphead_plain8(const char *s) {
    uint64_t x;
    memcpy(&x, s, 8);
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t lt20 = (x - ones * 0x20) & ~x & high;       /* a byte < 0x20 (of those < 0x80) */
    uint64_t y = x ^ (ones * 0x7f);
    uint64_t is7f = (y - ones) & ~y & high;              /* a byte == 0x7f */
    return (lt20 | is7f) == 0;
}

/* name ":" OWS value OWS; *namelen: the name's length. */
static int httphead_checkfield(const char *s, size_t n, size_t *namelen) {
    if (s[0] == ' ' || s[0] == '\t') return HTTPHEAD_OBSFOLD;
    size_t i = 0;
    while (i < n && HH_IS(s[i], HH_TOKEN)) i++;
    if (i < n && (s[i] == ' ' || s[i] == '\t') && i > 0) return HTTPHEAD_WSCOLON;
    if (i == 0 || i == n || s[i] != ':') return HTTPHEAD_BADNAME;
    *namelen = i;
    for (i++; i + 8 <= n && httphead_plain8(s + i); i += 8) {}   /* 8 at a time while plain */
    for (; i < n; i++)
        if (!HH_IS(s[i], HH_VALUE)) return HTTPHEAD_BADCHAR;
    return 0;
}

long httphead_scan(const char *s, size_t n, size_t max, size_t maxfields, httphead_scan_state *st) {
    size_t upto = n < max ? n : max;
    for (;;) {
        size_t pos = st->pos;
        if (!st->inhead) {                 /* empty lines before the request line (§2.2) */
            while (pos < upto && (s[pos] == '\n' || (s[pos] == '\r' && pos + 1 < upto && s[pos + 1] == '\n')))
                pos += s[pos] == '\n' ? 1 : 2;
            st->pos = st->start = pos;
        }
        const char *nl = pos < upto ? memchr(s + pos, '\n', upto - pos) : NULL;
        if (nl == NULL) {
            if (upto < max) return HTTPHEAD_MORE;
            return st->inhead ? HTTPHEAD_TOOLARGE : HTTPHEAD_LINELONG;
        }
        size_t end = (size_t) (nl - s), len = end - pos;
        if (len > 0 && s[end - 1] == '\r') len--;
        const char *line = s + pos;
        int err;
        if (!st->inhead) {
            err = httphead_checkline(line, len);
            st->inhead = 1;
        } else if (len == 0) {
            st->pos = end + 1;
            return (long) (end + 1);
        } else if (++st->nfields > maxfields) {
            err = HTTPHEAD_TOOMANY;
        } else {
            size_t namelen = 0;
            err = httphead_checkfield(line, len, &namelen);
            if (err == 0) httphead_classify(st, line, namelen);
        }
        if (err != 0) return err;
        st->pos = end + 1;
    }
}

const char *httphead_error(long code) {
    switch (code) {
        case HTTPHEAD_LINELONG: return "request line too long";
        case HTTPHEAD_TOOLARGE: return "head too large";
        case HTTPHEAD_TOOMANY: return "too many fields";
        case HTTPHEAD_BADLINE: return "bad request line";
        case HTTPHEAD_OBSFOLD: return "obs-fold";
        case HTTPHEAD_WSCOLON: return "whitespace before colon";
        case HTTPHEAD_BADCHAR: return "invalid character in field";
        default: return "bad field name";
    }
}

/* Pushes s[0..n) lower-cased (names are case-insensitive: one key each). */
static void httphead_pushlower(lua_State *L, const char *s, size_t n) {
    char small[128];
    if (n <= sizeof small) {                     /* the usual case: one pass, lower-casing */
        for (size_t i = 0; i < n; i++) small[i] = (char) (s[i] | (HH_IS(s[i], HH_UPPER) ? 0x20 : 0));
        lua_pushlstring(L, small, n);
        return;
    }
    size_t i = 0;
    while (i < n && !HH_IS(s[i], HH_UPPER)) i++;
    if (i == n) {
        lua_pushlstring(L, s, n);
        return;
    }
    luaL_Buffer B;
    char *d = small;
    if (n > sizeof small) {
        luaL_buffinit(L, &B);
        d = luaL_prepbuffsize(&B, n);
    }
    for (i = 0; i < n; i++) d[i] = HH_IS(s[i], HH_UPPER) ? (char) (s[i] + 32) : s[i];
    if (d == small) {
        lua_pushlstring(L, small, n);
    } else {
        luaL_addsize(&B, n);
        luaL_pushresult(&B);
    }
}

/* Whether s[0..n) starts as a field line does: a token name, then a
 * colon (the value's bytes are not looked at). */
static int httphead_isfieldname(const char *s, size_t n) {
    size_t i = 0;
    while (i < n && HH_IS(s[i], HH_TOKEN)) i++;
    return i > 0 && i < n && s[i] == ':';
}

/* Pushes the fields of the field lines s[0..n) (each ending in LF or
 * CRLF; an empty line ends them): a table name -> value, or name ->
 * {value, value, ...} when the field is repeated (in order). Unless the
 * lines were checked already (`checked`: a head receivehead scanned), each
 * must start with a token name and a colon, and nothing may follow an
 * empty line, else returns 0 (the values are taken as they are: peer bytes
 * come here only through the scan). */
static int httphead_pushfields(lua_State *L, const char *s, size_t n, size_t nfields, int checked) {
    const char *end = s + n, *nl;
    lua_createtable(L, 0, nfields > 64 ? 64 : (int) nfields);
    int t = lua_gettop(L);
    for (; s < end; s = nl + 1) {
        nl = memchr(s, '\n', (size_t) (end - s));
        if (nl == NULL) nl = end;                /* (unchecked) a last line without LF */
        const char *le = nl > s && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == s) {                           /* the empty line */
            if (checked || nl + 1 >= end) break;
            return 0;
        }
        if (!checked && !httphead_isfieldname(s, (size_t) (le - s))) return 0;
        const char *colon = memchr(s, ':', (size_t) (le - s));
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t')) v++;
        const char *ve = le;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        httphead_pushlower(L, s, (size_t) (colon - s));
        lua_pushvalue(L, -1);
        int had = lua_rawget(L, t);
        if (had == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushlstring(L, v, (size_t) (ve - v));
            lua_rawset(L, t);
        } else if (had == LUA_TSTRING) {         /* the second one: a list of both */
            lua_createtable(L, 2, 0);
            lua_insert(L, -2);
            lua_rawseti(L, -2, 1);
            lua_pushlstring(L, v, (size_t) (ve - v));
            lua_rawseti(L, -2, 2);
            lua_rawset(L, t);
        } else {
            lua_pushlstring(L, v, (size_t) (ve - v));
            lua_rawseti(L, -2, (lua_Integer) lua_rawlen(L, -2) + 1);
            lua_pop(L, 2);
        }
    }
    return 1;
}

/* Pushes method, target, version and the fields of the checked head
 * s[0..n) (st: what the scan counted). Raw: the field lines as one string
 * (through the LF of the last one, without the empty line), and whether
 * the request is plain for socket.httpd: HTTP/1.1, one Host field, none of
 * Connection, Content-Length, Transfer-Encoding, Expect. Returns the
 * number of values. */
static int httphead_push(lua_State *L, const char *s, size_t n, const httphead_scan_state *st, int raw) {
    const char *nl = memchr(s, '\n', n);
    const char *sp1 = memchr(s, ' ', (size_t) (nl - s));
    const char *sp2 = memchr(sp1 + 1, ' ', (size_t) (nl - sp1 - 1));
    lua_pushlstring(L, s, (size_t) (sp1 - s));
    lua_pushlstring(L, sp1 + 1, (size_t) (sp2 - sp1 - 1));
    lua_pushlstring(L, sp2 + 1, 8);
    const char *lines = nl + 1;
    size_t len = (size_t) (s + n - lines);
    if (!raw) {
        httphead_pushfields(L, lines, len, st->nfields, 1);
        return 4;
    }
    len -= s[n - 2] == '\r' ? 2 : 1;            /* the empty line: CRLF or a bare LF */
    lua_pushlstring(L, lines, len);
    lua_pushboolean(L, st->nhost == 1 && st->nframing == 0 && memcmp(sp2 + 1, "HTTP/1.1", 8) == 0);
    return 5;
}

/* socket._headfields(lines): the fields table of field lines that
 * receivehead(..., true) returned (socket.httpd makes it on first use).
 * A line of another string without a name and a colon raises. */
static int httphead_lua_fields(lua_State *L) {
    size_t n, lines = 0;
    const char *s = luaL_checklstring(L, 1, &n), *p = s, *end = s + n;
    while (p < end && (p = memchr(p, '\n', (size_t) (end - p))) != NULL) {   /* sizes the table */
        lines++;
        p++;
    }
    lua_settop(L, 1);
    if (!httphead_pushfields(L, s, n, lines + 1, 0)) luaL_argerror(L, 1, "not HTTP field lines");
    return 1;
}

/* The value of line s[0..n) (no line end) if its name is `lower` (k
 * bytes, lower case), in any case: *v, *vn, trimmed; else 0. */
static int httphead_match(const char *s, size_t n, const char *lower, size_t k, const char **v, size_t *vn) {
    if (n <= k || s[k] != ':' || !httphead_nameis(s, lower, k)) return 0;
    const char *b = s + k + 1, *e = s + n;
    while (b < e && (*b == ' ' || *b == '\t')) b++;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t')) e--;
    *v = b;
    *vn = (size_t) (e - b);
    return 1;
}

/* socket._headfield(lines, name): the value of field `name` (lower case)
 * in field lines as receivehead(..., true) returns them, a repeated field's
 * values joined with ", " (req:header), or nil; no table is made. A name
 * that is not a token (empty, or with ':', space, ...) names no field. */
static int httphead_lua_field(lua_State *L) {
    size_t n, k, vn, count = 0;
    const char *s = luaL_checklstring(L, 1, &n), *name = luaL_checklstring(L, 2, &k), *v;
    const char *end = s + n, *nl, *p;
    for (size_t i = 0; i < k; i++)              /* no field has a name that is no token: */
        if (!HH_IS(name[i], HH_TOKEN)) k = 0;  /* "a:b" must not match the line "A:b: c" */
    if (k == 0) {
        lua_pushnil(L);
        return 1;
    }
    for (p = s; p < end; p = nl == end ? end : nl + 1) {          /* how many */
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) nl = end;
        const char *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == p) break;
        if (httphead_match(p, (size_t) (le - p), name, k, &v, &vn) && count++ == 0)
            lua_pushlstring(L, v, vn);
    }
    if (count == 0) lua_pushnil(L);
    if (count <= 1) return 1;
    lua_pop(L, 1);
    luaL_Buffer B;
    luaL_buffinit(L, &B);
    count = 0;
    for (p = s; p < end; p = nl == end ? end : nl + 1) {          /* joined */
        nl = memchr(p, '\n', (size_t) (end - p));
        if (nl == NULL) nl = end;
        const char *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (le == p) break;
        if (httphead_match(p, (size_t) (le - p), name, k, &v, &vn)) {
            if (count++ > 0) luaL_addlstring(&B, ", ", 2);
            luaL_addlstring(&B, v, vn);
        }
    }
    luaL_pushresult(&B);
    return 1;
}

void httphead_open(lua_State *L) {
    lua_pushcfunction(L, httphead_lua_fields);
    lua_setfield(L, -2, "_headfields");
    lua_pushcfunction(L, httphead_lua_field);
    lua_setfield(L, -2, "_headfield");
}

static size_t httphead_optsize(lua_State *L, int idx, lua_Integer def, const char *what) {
    lua_Integer v = luaL_optinteger(L, idx, def);
    luaL_argcheck(L, v > 0, idx, what);
    return (size_t) v;
}

int httphead_meth_receive(lua_State *L, buffer *b) {
    size_t max = httphead_optsize(L, 2, HTTPHEAD_MAXBYTES, "head limit must be positive");
    size_t maxfields = httphead_optsize(L, 3, HTTPHEAD_MAXFIELDS, "field limit must be positive");
    int raw = lua_toboolean(L, 4);
    call_enter(b->rd);
    httphead_scan_state st;
    httphead_scaninit(&st);
    long got;
    for (;;) {
        got = httphead_scan(b->data + b->first, b->last - b->first, max, maxfields, &st);
        if (got != HTTPHEAD_MORE) break;
        size_t avail = b->last - b->first, left = max - avail;
        int err = buffer_fill(L, b, left < 4096 ? left : 4096);
        if (err != IO_DONE) {
            lua_pushnil(L);
            lua_pushstring(L, b->io->error(b->io->ctx, err));
            return 2;
        }
    }
    if (got < 0) {
        lua_pushnil(L);
        lua_pushstring(L, httphead_error(got));
        return 2;
    }
    int nret = httphead_push(L, b->data + b->first + st.start, (size_t) got - st.start, &st, raw);
    buffer_skip(L, b, (size_t) got);
    return nret;
}
