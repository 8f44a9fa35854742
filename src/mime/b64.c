/* Base64 (RFC 4648 §4): A, B = b64(C, D) and A, B = unb64(C, D). */
#include <string.h>
#include "mime.h"

typedef unsigned char UC;

/* Input bytes per output reservation: keeps each luaL_prepbuffsize small. */
#define B64_BLOCK 3072

static const char b64_alphabet[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* b64_rank[c]: 0 skips c (not base64), 1..64 is its value + 1, 65 is '='.
 * '=' decodes as zero bits, as in 3.x; only its place in an atom marks
 * padding. (rank - 1) & 63 is the value of any accepted byte. */
static const UC b64_rank[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,
    ['G'] = 7,  ['H'] = 8,  ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12,
    ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
    ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
    ['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
    ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
    ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
    ['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
    ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64, ['='] = 65,
};

/* Encodes the n / 3 whole triples at s. */
static void b64_run(luaL_Buffer *b, const UC *s, size_t n) {
    for (size_t t = n / 3; t > 0;) {
        size_t k = t < B64_BLOCK / 3 ? t : B64_BLOCK / 3;
        char *out = luaL_prepbuffsize(b, k * 4);
        for (size_t j = 0; j < k; j++, s += 3, out += 4) {
            unsigned long v = (unsigned long) s[0] << 16 | (unsigned long) s[1] << 8 | s[2];
            out[0] = b64_alphabet[v >> 18];
            out[1] = b64_alphabet[(v >> 12) & 63];
            out[2] = b64_alphabet[(v >> 6) & 63];
            out[3] = b64_alphabet[v & 63];
        }
        luaL_addsize(b, k * 4);
        t -= k;
    }
}

/* The last 1 or 2 bytes of the stream, padded with '='. */
static void b64_pad(luaL_Buffer *b, const UC *atom, size_t n) {
    char out[4] = {'=', '=', '=', '='};
    if (n == 0) return;
    unsigned long v = (unsigned long) atom[0] << 16 | (n == 2 ? (unsigned long) atom[1] << 8 : 0);
    out[0] = b64_alphabet[v >> 18];
    out[1] = b64_alphabet[(v >> 12) & 63];
    if (n == 2) out[2] = b64_alphabet[(v >> 6) & 63];
    luaL_addlstring(b, out, 4);
}

int b64_encode(lua_State *L) {
    mime_parts p;
    if (!mime_getparts(L, &p)) return mime_nil2(L);
    luaL_Buffer b;
    UC atom[3];
    size_t na = 0;
    luaL_buffinit(L, &b);
    const UC *part[2] = {p.c, p.d};
    const size_t size[2] = {p.nc, p.nd};
    for (int k = 0; k < 2 && part[k] != NULL; k++) {
        const UC *s = part[k];
        size_t n = size[k];
        /* complete the atom carried over from the previous part first */
        while (na > 0 && na < 3 && n > 0) {
            atom[na++] = *s++;
            n--;
        }
        if (na == 3) {
            b64_run(&b, atom, 3);
            na = 0;
        }
        b64_run(&b, s, n - n % 3);
        s += n - n % 3;
        memcpy(atom + na, s, n % 3);
        na += n % 3;
    }
    if (p.d == NULL) {
        b64_pad(&b, atom, na);
        na = 0;
    }
    return mime_finish(L, &b, &p, atom, na);
}

/* Decodes a full atom into out (3 bytes written); returns how many count:
 * '=' as the third or fourth character marks padding. */
static size_t b64_quad(UC *out, const UC *atom) {
    unsigned long v = 0;
    for (int i = 0; i < 4; i++) v = v << 6 | ((b64_rank[atom[i]] - 1u) & 63);
    out[0] = (UC) (v >> 16);
    out[1] = (UC) (v >> 8);
    out[2] = (UC) v;
    return atom[2] == '=' ? 1 : atom[3] == '=' ? 2 : 3;
}

/* Decodes one part, carrying an incomplete atom (na bytes) in and out. */
static void b64_unrun(luaL_Buffer *b, const UC *s, size_t n, UC *atom, size_t *na) {
    while (n > 0) {
        size_t k = n < B64_BLOCK ? n : B64_BLOCK;
        /* at most k / 4 + 1 atoms end in k bytes (3 may be carried in) */
        UC *out = (UC *) luaL_prepbuffsize(b, (k / 4 + 1) * 3);
        size_t o = 0;
        const UC *end = s + k;
        while (s < end) {
            if (*na == 0 && end - s >= 4) {
                /* fast path: four alphabet bytes, no '=' and nothing skipped */
                unsigned r0 = b64_rank[s[0]] - 1u, r1 = b64_rank[s[1]] - 1u;
                unsigned r2 = b64_rank[s[2]] - 1u, r3 = b64_rank[s[3]] - 1u;
                if ((r0 | r1 | r2 | r3) < 64) {
                    unsigned long v = (unsigned long) r0 << 18 | r1 << 12 | r2 << 6 | r3;
                    out[o++] = (UC) (v >> 16);
                    out[o++] = (UC) (v >> 8);
                    out[o++] = (UC) v;
                    s += 4;
                    continue;
                }
            }
            if (b64_rank[*s] != 0) {
                atom[(*na)++] = *s;
                if (*na == 4) {
                    o += b64_quad(out + o, atom);
                    *na = 0;
                }
            }
            s++;
        }
        luaL_addsize(b, o);
        n -= k;
    }
}

int b64_decode(lua_State *L) {
    mime_parts p;
    if (!mime_getparts(L, &p)) return mime_nil2(L);
    luaL_Buffer b;
    UC atom[4];
    size_t na = 0;
    luaL_buffinit(L, &b);
    b64_unrun(&b, p.c, p.nc, atom, &na);
    if (p.d != NULL) b64_unrun(&b, p.d, p.nd, atom, &na);
    /* ending the stream drops an incomplete atom, as 3.x does */
    return mime_finish(L, &b, &p, atom, p.d == NULL ? 0 : na);
}
