/*
 * unicode.c: UTF-8 decoding and encoding, and lookups in the generated
 * tables of unicode_tables.c. Everything here is a pure function of its
 * arguments; nothing allocates.
 */
#include <config.h>

#include "unicode.h"

/* The well-formed sequences of the Unicode standard (table 3-7): the
   second byte's range depends on the first byte, which excludes overlong
   forms, surrogates and values above U+10FFFF in one check. */
uint32_t utf8_next(const char *s, size_t n, size_t *len) {
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0];
    *len = 1;
    if (c < 0x80)
        return c;
    int need;
    unsigned lo = 0x80, hi = 0xBF;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, cp = c & 0x0F;
        if (c == 0xE0)
            lo = 0xA0; // overlong below U+0800
        if (c == 0xED)
            hi = 0x9F; // surrogates U+D800..U+DFFF
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, cp = c & 0x07;
        if (c == 0xF0)
            lo = 0x90; // overlong below U+10000
        if (c == 0xF4)
            hi = 0x8F; // above U+10FFFF
    } else {
        return UNI_INVALID; // 0x80..0xC1 and 0xF5..0xFF never start a sequence
    }
    if ((size_t)need >= n)
        return UNI_INVALID;
    for (int i = 1; i <= need; i++) {
        unsigned b = p[i];
        if (b < lo || b > hi)
            return UNI_INVALID;
        lo = 0x80, hi = 0xBF;
        cp = (cp << 6) | (b & 0x3F);
    }
    *len = (size_t)need + 1;
    return cp;
}

int utf8_put(char *out, uint32_t cp) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp > 0x10FFFF)
        return 0;
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

int utf8_valid(const char *s, size_t n) {
    size_t i = 0, len;
    while (i < n) {
        if (utf8_next(s + i, n - i, &len) == UNI_INVALID)
            return 0;
        i += len;
    }
    return 1;
}

/* Binary search in sorted, disjoint closed ranges. */
static int in_ranges(const UniRange *r, int n, uint32_t cp) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo)
            hi = mid - 1;
        else if (cp > r[mid].hi)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

int uni_is_letter(uint32_t cp) { return in_ranges(uni_letter, uni_letter_n, cp); }
int uni_is_number(uint32_t cp) { return in_ranges(uni_number, uni_number_n, cp); }
int uni_is_space(uint32_t cp) { return in_ranges(uni_space, uni_space_n, cp); }
int uni_is_punct(uint32_t cp) { return in_ranges(uni_punct, uni_punct_n, cp); }
int uni_is_zs(uint32_t cp) { return in_ranges(uni_zs, uni_zs_n, cp); }
int uni_is_mark(uint32_t cp) { return in_ranges(uni_mark, uni_mark_n, cp); }
int uni_is_other(uint32_t cp) {
    return cp != UNI_INVALID && in_ranges(uni_other, uni_other_n, cp);
}

uint32_t uni_tolower(uint32_t cp) {
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    int lo = 0, hi = uni_lower_n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const UniLowerRun *r = &uni_lower[mid];
        if (cp < r->lo)
            hi = mid - 1;
        else if (cp > r->hi)
            lo = mid + 1;
        else
            return (cp - r->lo) % (uint32_t)r->step == 0 ? (uint32_t)((int32_t)cp + r->delta)
                                                         : cp;
    }
    return cp;
}

static const UniDecomp *find_decomp(uint32_t cp) {
    int lo = 0, hi = uni_decomp_n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (cp < uni_decomp[mid].cp)
            hi = mid - 1;
        else if (cp > uni_decomp[mid].cp)
            lo = mid + 1;
        else
            return &uni_decomp[mid];
    }
    return 0;
}

/* Hangul syllable constants of the Unicode standard, section 3.12. */
enum { H_SBASE = 0xAC00, H_LBASE = 0x1100, H_VBASE = 0x1161, H_TBASE = 0x11A7 };
enum { H_VCOUNT = 21, H_TCOUNT = 28, H_NCOUNT = 588, H_SCOUNT = 11172 };

/* Recursive: a mapping's first code point may itself decompose (the
   second never does in canonical mappings, but is expanded anyway).
   UnicodeData's canonical decompositions expand to at most 4 code points,
   well inside UNI_DECOMP_MAX. */
static int decompose_into(uint32_t *out, int room, uint32_t cp) {
    if (cp >= H_SBASE && cp < H_SBASE + H_SCOUNT) {
        uint32_t s = cp - H_SBASE;
        int n = 0;
        out[n++] = H_LBASE + s / H_NCOUNT;
        out[n++] = H_VBASE + (s % H_NCOUNT) / H_TCOUNT;
        if (s % H_TCOUNT)
            out[n++] = H_TBASE + s % H_TCOUNT;
        return n;
    }
    const UniDecomp *d = find_decomp(cp);
    if (!d || room < 2) {
        out[0] = cp;
        return 1;
    }
    int n = decompose_into(out, room - 1, d->first);
    if (d->second && n < room)
        n += decompose_into(out + n, room - n, d->second);
    return n;
}

int uni_decompose(uint32_t *out, uint32_t cp) { return decompose_into(out, UNI_DECOMP_MAX, cp); }
