/* Quoted-printable (RFC 2045 §6.7): A, B = qp(C, D, marker) and
 * A, B = unqp(C, D). Line length is wrp/qpwrp's job (wrap.c). */
#include "mime.h"

typedef unsigned char UC;

/* How the encoder treats a byte: PLAIN as is, QUOTED as =XX, CR ends a
 * line if LF follows, BLANK (tab, space) is =XX only before CRLF. The
 * decoder keeps PLAIN and BLANK bytes and drops QUOTED ones but '='. */
enum { QP_QUOTED, QP_PLAIN, QP_CR, QP_BLANK };

#define Q QP_QUOTED
#define P QP_PLAIN
#define Q16 Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q, Q
#define P16 P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P
static const UC qp_class[256] = {
    Q, Q, Q, Q, Q, Q, Q, Q, Q, QP_BLANK, Q, Q, Q, QP_CR, Q, Q, /* 0x00 */
    Q16,                                                     /* 0x10 */
    QP_BLANK, P, P, P, P, P, P, P, P, P, P, P, P, P, P, P,  /* 0x20 */
    P, P, P, P, P, P, P, P, P, P, P, P, P, Q, P, P,          /* 0x30: '=' */
    P16, P16, P16,                                           /* 0x40-0x6f */
    P, P, P, P, P, P, P, P, P, P, P, P, P, P, P, Q,          /* 0x70: DEL */
    Q16, Q16, Q16, Q16, Q16, Q16, Q16, Q16,                  /* 0x80-0xff */
};
#undef Q
#undef P
#undef Q16
#undef P16

/* qp_hex[c]: value + 1 of a hex digit (either case), 0 otherwise. */
static const UC qp_hex[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['A'] = 11, ['B'] = 12,
    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static const char qp_digits[] = "0123456789ABCDEF";

/* Input bytes per output reservation (each makes at most 3). */
#define QP_BLOCK 1024

static void qp_quote(luaL_Buffer *b, UC c) {
    char q[3] = {'=', qp_digits[c >> 4], qp_digits[c & 15]};
    luaL_addlstring(b, q, 3);
}

/* Adds the run of bytes of class `cls` (or BLANK too, when `blank`) that
 * starts at byte i of C .. D, without crossing from C into D; returns its
 * length. */
static size_t qp_run(luaL_Buffer *b, const mime_parts *p, size_t i, int cls, int blank) {
    const UC *s = i < p->nc ? p->c + i : p->d + (i - p->nc);
    const UC *end = i < p->nc ? p->c + p->nc : p->d + p->nd;
    const UC *e = s;
    while (e < end && (qp_class[*e] == cls || (blank && qp_class[*e] == QP_BLANK))) e++;
    luaL_addlstring(b, (const char *) s, (size_t) (e - s));
    return (size_t) (e - s);
}

/* The bytes from i to the end of C .. D (at most 2 are ever left). */
static size_t qp_tail(const mime_parts *p, size_t i, UC *rest) {
    size_t n = 0;
    for (; i < p->nc + p->nd && n < 2; i++) rest[n++] = mime_at(p, i);
    return n;
}

/* Encodes from byte i of C .. D straight into the buffer while every
 * decision can be made inside the current part; returns the count. It
 * stops before a line end (the caller adds the marker), before a byte
 * whose lookahead crosses the end of the part, and after QP_BLOCK bytes. */
static size_t qp_fast(luaL_Buffer *b, const mime_parts *p, size_t i) {
    const UC *s = i < p->nc ? p->c + i : p->d + (i - p->nc);
    size_t avail = i < p->nc ? p->nc - i : p->nc + p->nd - i;
    size_t lim = avail < QP_BLOCK ? avail : QP_BLOCK, k;
    char *out = luaL_prepbuffsize(b, 3 * lim), *o = out;
    for (k = 0; k < lim; k++) {
        UC c = s[k];
        switch (qp_class[c]) {
        case QP_PLAIN:
            *o++ = (char) c;
            continue;
        case QP_QUOTED:
            break;
        case QP_CR:
            if (k + 1 >= avail || s[k + 1] == '\n') goto stop;
            break;
        default:                                /* blank */
            if (k + 2 >= avail || (s[k + 1] == '\r' && s[k + 2] == '\n')) goto stop;
            *o++ = (char) c;
            continue;
        }
        *o++ = '=';
        *o++ = qp_digits[c >> 4];
        *o++ = qp_digits[c & 15];
    }
stop:
    luaL_addsize(b, (size_t) (o - out));
    return k;
}

int qp_encode(lua_State *L) {
    mime_parts p;
    size_t nmarker;
    int more = mime_getparts(L, &p);
    const char *marker = luaL_optlstring(L, 3, MIME_CRLF, &nmarker);
    if (!more) return mime_nil2(L);
    luaL_Buffer b;
    size_t n = p.nc + p.nd, i = 0;
    luaL_buffinit(L, &b);
    while ((i += qp_fast(&b, &p, i)) < n) {
        /* the byte qp_fast left: decide with lookahead across C .. D */
        UC c = mime_at(&p, i);
        switch (qp_class[c]) {
        case QP_CR:                             /* CRLF becomes the marker */
            if (i + 1 >= n) goto undecided;
            if (mime_at(&p, i + 1) == '\n') {
                luaL_addlstring(&b, marker, nmarker);
                i += 2;
            } else {
                qp_quote(&b, c);
                i++;
            }
            break;
        case QP_BLANK:                          /* quoted before CRLF */
            if (i + 2 >= n) goto undecided;
            if (mime_at(&p, i + 1) == '\r' && mime_at(&p, i + 2) == '\n') {
                qp_quote(&b, c);
                luaL_addlstring(&b, marker, nmarker);
                i += 3;
            } else {
                luaL_addchar(&b, (char) c);
                i++;
            }
            break;
        case QP_PLAIN:
            luaL_addchar(&b, (char) c);
            i++;
            break;
        default:
            qp_quote(&b, c);
            i++;
            break;
        }
    }
undecided:;
    UC rest[2];
    size_t nrest = qp_tail(&p, i, rest);
    if (p.d == NULL && nrest > 0) {
        /* end of stream: encode what is left and end with a soft break */
        for (size_t k = 0; k < nrest; k++) {
            if (qp_class[rest[k]] == QP_PLAIN) luaL_addchar(&b, (char) rest[k]);
            else qp_quote(&b, rest[k]);
        }
        luaL_addstring(&b, MIME_EQCRLF);
        nrest = 0;
    }
    return mime_finish(L, &b, &p, rest, nrest);
}

int qp_decode(lua_State *L) {
    mime_parts p;
    if (!mime_getparts(L, &p)) return mime_nil2(L);
    luaL_Buffer b;
    size_t n = p.nc + p.nd, i = 0;
    luaL_buffinit(L, &b);
    while (i < n) {
        UC c = mime_at(&p, i);
        if (c == '=') {
            if (i + 2 >= n) break;
            UC x = mime_at(&p, i + 1), y = mime_at(&p, i + 2);
            if (x == '\r' && y == '\n') {
                /* soft line break: nothing */
            } else if (qp_hex[x] && qp_hex[y]) {
                luaL_addchar(&b, (char) ((qp_hex[x] - 1) * 16 + qp_hex[y] - 1));
            } else {                            /* not an escape: kept as is */
                char raw[3] = {'=', (char) x, (char) y};
                luaL_addlstring(&b, raw, 3);
            }
            i += 3;
        } else if (c == '\r') {
            /* CRLF is kept; CR and whatever follows it are dropped (3.x) */
            if (i + 1 >= n) break;
            if (mime_at(&p, i + 1) == '\n') luaL_addstring(&b, MIME_CRLF);
            i += 2;
        } else if (qp_class[c] == QP_QUOTED) {
            i++;                                /* not allowed in qp text */
        } else {
            i += qp_run(&b, &p, i, QP_PLAIN, 1);
        }
    }
    UC rest[2];
    size_t nrest = p.d == NULL ? 0 : qp_tail(&p, i, rest);
    return mime_finish(L, &b, &p, rest, nrest);
}
