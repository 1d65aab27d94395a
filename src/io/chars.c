/*
 * chars.c: the shared id/byte buffers, display labels, and the UTF-8
 * character tokenizer (see chars.h for the rules).
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "chars.h"
#include "unicode.h"

#define OPEN_VOCAB 0x110100 // code points, then 256 invalid bytes

int tokids_push(TokIds *t, int32_t id) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        if (cap > SIZE_MAX / sizeof *t->ids)
            return at_error(AT_ENOMEM, "too many tokens");
        int32_t *ids = realloc(t->ids, cap * sizeof *ids);
        if (!ids)
            return at_error(AT_ENOMEM, "out of memory for %zu token ids", cap);
        t->ids = ids;
        t->cap = cap;
    }
    t->ids[t->n++] = id;
    return AT_OK;
}

void tokids_free(TokIds *t) {
    free(t->ids);
    memset(t, 0, sizeof *t);
}

int toktext_add(TokText *t, const char *s, size_t n) {
    if (n + 1 > t->cap - t->n || !t->s) {
        size_t cap = t->cap ? t->cap : 64;
        while (n + 1 > cap - t->n) {
            if (cap > SIZE_MAX / 2)
                return at_error(AT_ENOMEM, "text too long");
            cap *= 2;
        }
        char *p = realloc(t->s, cap);
        if (!p)
            return at_error(AT_ENOMEM, "out of memory for %zu bytes of text", cap);
        t->s = p;
        t->cap = cap;
    }
    if (n)
        memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = 0;
    return AT_OK;
}

void toktext_free(TokText *t) {
    free(t->s);
    memset(t, 0, sizeof *t);
}

int tok_read_file(char **data, size_t *len, const char *path, const char *who) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return at_error(AT_EIO, "%s '%s' cannot be opened: %s", who, path, strerror(errno));
    TokText t = {0};
    char chunk[65536];
    size_t got;
    int st = AT_OK;
    while (!st && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        st = toktext_add(&t, chunk, got);
    if (!st && ferror(f))
        st = at_error(AT_EIO, "%s '%s' cannot be read: %s", who, path, strerror(errno));
    fclose(f);
    if (!st)
        st = toktext_add(&t, "", 0); // an empty file still gets a buffer
    if (st) {
        toktext_free(&t);
        return st;
    }
    *data = t.s;
    *len = t.n;
    return AT_OK;
}

/* ---- display labels ------------------------------------------------------ */

/* Append the display form of one character (cp from utf8_next over the
   bytes at s, len of them). */
static int show_char(TokText *out, uint32_t cp, const char *s, size_t len) {
    char esc[16];
    if (cp == UNI_INVALID) {
        snprintf(esc, sizeof esc, "\\x%02X", (unsigned)(unsigned char)s[0]);
    } else if (cp == '\n' || cp == '\t' || cp == '\r') {
        snprintf(esc, sizeof esc, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
    } else if (cp < 0x20 || cp == 0x7F) {
        snprintf(esc, sizeof esc, "\\x%02X", (unsigned)cp);
    } else if (cp >= 0x80 && cp < 0xA0) {
        snprintf(esc, sizeof esc, "\\u{%X}", (unsigned)cp);
    } else {
        return toktext_add(out, s, len);
    }
    return toktext_add(out, esc, strlen(esc));
}

static int show_piece(TokText *out, const char *s, size_t n) {
    size_t i = 0, len;
    while (i < n) {
        uint32_t cp = utf8_next(s + i, n - i, &len);
        int st = show_char(out, cp, s + i, len);
        if (st)
            return st;
        i += len;
    }
    return AT_OK;
}

/* Joined labels: decode the concatenation once, character by character,
   and give every piece the characters that overlap its byte range. */
static int labels_joined(TokText *out, size_t *offs, const char *const *pieces,
                         const size_t *lens, size_t n) {
    TokText all = {0};
    int st = AT_OK;
    for (size_t k = 0; k < n && !st; k++)
        st = toktext_add(&all, pieces[k], lens[k]);
    size_t start = 0;     // byte offset of piece k in all
    size_t c0 = 0, clen = 0; // the character that holds byte `start`
    uint32_t cp = 0;
    for (size_t k = 0; k < n && !st; k++) {
        offs[k] = out->n;
        size_t end = start + lens[k];
        if (lens[k]) {
            // characters are found left to right; c0 may begin before start
            while (!(start >= c0 && start < c0 + clen)) {
                c0 += clen;
                cp = utf8_next(all.s + c0, all.n - c0, &clen);
            }
            size_t c = c0, cl = clen;
            uint32_t ccp = cp;
            while (c < end && !st) {
                st = show_char(out, ccp, all.s + c, cl);
                c += cl;
                if (c < end)
                    ccp = utf8_next(all.s + c, all.n - c, &cl);
            }
        }
        if (!st)
            st = toktext_add(out, "", 1); // the label's NUL
        start = end;
    }
    toktext_free(&all);
    return st;
}

int tok_labels(TokText *out, size_t *offs, const char *const *pieces, const size_t *lens,
               size_t n, int joined) {
    int st = toktext_add(out, "", 0); // a valid buffer even for n == 0
    if (st || n == 0)
        return st;
    if (joined)
        return labels_joined(out, offs, pieces, lens, n);
    for (size_t k = 0; k < n; k++) {
        offs[k] = out->n;
        st = show_piece(out, pieces[k], lens[k]);
        if (!st)
            st = toktext_add(out, "", 1); // the label's NUL
        if (st)
            return st;
    }
    return AT_OK;
}

/* ---- the character tokenizer --------------------------------------------- */

struct CharTok {
    int open;
    StrMap map;      // character bytes -> id (closed vocabularies)
    TokText bytes;   // every token's bytes, back to back
    size_t *off;     // token i is bytes.s[off[i] .. off[i+1])
    size_t count;
    int32_t unk;     // -1: none
};

int chartok_new_open(CharTok **out) {
    *out = calloc(1, sizeof **out);
    if (!*out)
        return at_error(AT_ENOMEM, "chars tokenizer: out of memory");
    (*out)->open = 1;
    (*out)->unk = -1;
    return AT_OK;
}

void chartok_free(CharTok *t) {
    if (!t)
        return;
    strmap_free(&t->map);
    toktext_free(&t->bytes);
    free(t->off);
    free(t);
}

/* Add one token (one character's bytes) as the next id. */
static int add_token(CharTok *t, const char *s, size_t len, size_t index) {
    int existed;
    if (t->count >= INT32_MAX)
        return at_error(AT_EINVAL, "chars tokenizer: too many tokens");
    int st = strmap_put(&t->map, s, len, (int32_t)t->count, &existed, NULL);
    if (st)
        return st;
    if (existed)
        return at_error(AT_EINVAL, "chars tokenizer: entry %zu '%.*s' appears twice",
                        index + 1, (int)len, s);
    size_t *off = realloc(t->off, (t->count + 2) * sizeof *off);
    if (!off)
        return at_error(AT_ENOMEM, "chars tokenizer: out of memory");
    t->off = off;
    if (t->count == 0)
        off[0] = 0;
    st = toktext_add(&t->bytes, s, len);
    if (st)
        return st;
    t->count++;
    off[t->count] = t->bytes.n;
    return AT_OK;
}

int chartok_new_from_list(CharTok **out, const char *const *toks, const size_t *lens, size_t n) {
    CharTok *t = calloc(1, sizeof *t);
    if (!t)
        return at_error(AT_ENOMEM, "chars tokenizer: out of memory");
    t->unk = -1;
    int st = AT_OK;
    for (size_t i = 0; i < n && !st; i++) {
        size_t clen = 0;
        if (lens[i] > 0)
            utf8_next(toks[i], lens[i], &clen);
        if (lens[i] == 0 || clen != lens[i])
            st = at_error(AT_EINVAL,
                          "chars tokenizer: entry %zu '%.*s' is not exactly one character",
                          i + 1, (int)(lens[i] > 40 ? 40 : lens[i]), toks[i]);
        else
            st = add_token(t, toks[i], lens[i], i);
    }
    if (st) {
        chartok_free(t);
        t = NULL;
    }
    *out = t;
    return st;
}

/* Sort key: code points first, then invalid bytes by value. */
typedef struct {
    uint32_t key;
    char b[4];
    uint8_t len;
} CharKey;

static int cmp_key(const void *a, const void *b) {
    uint32_t x = ((const CharKey *)a)->key, y = ((const CharKey *)b)->key;
    return x < y ? -1 : x > y;
}

int chartok_new_from_text(CharTok **out, const char *text, size_t len) {
    *out = NULL;
    StrMap seen = {0};
    CharKey *keys = NULL;
    size_t nkeys = 0, cap = 0, i = 0, clen;
    int st = AT_OK;
    while (i < len && !st) {
        uint32_t cp = utf8_next(text + i, len - i, &clen);
        int existed;
        st = strmap_put(&seen, text + i, clen, 0, &existed, NULL);
        if (!st && !existed) {
            if (nkeys == cap) {
                cap = cap ? cap * 2 : 256;
                CharKey *k = realloc(keys, cap * sizeof *k);
                if (!k) {
                    st = at_error(AT_ENOMEM, "chars tokenizer: out of memory");
                    break;
                }
                keys = k;
            }
            CharKey *k = &keys[nkeys++];
            k->key = cp == UNI_INVALID ? 0x110000u + (unsigned char)text[i] : cp;
            memcpy(k->b, text + i, clen);
            k->len = (uint8_t)clen;
        }
        i += clen;
    }
    strmap_free(&seen);
    if (!st) {
        qsort(keys, nkeys, sizeof *keys, cmp_key);
        const char **toks = malloc((nkeys ? nkeys : 1) * sizeof *toks);
        size_t *lens = malloc((nkeys ? nkeys : 1) * sizeof *lens);
        if (!toks || !lens) {
            st = at_error(AT_ENOMEM, "chars tokenizer: out of memory");
        } else {
            for (size_t k = 0; k < nkeys; k++)
                toks[k] = keys[k].b, lens[k] = keys[k].len;
            st = chartok_new_from_list(out, toks, lens, nkeys);
        }
        free(toks);
        free(lens);
    }
    free(keys);
    return st;
}

int chartok_set_unk(CharTok *t, const char *unk, size_t len) {
    int32_t id;
    if (t->open)
        return at_error(AT_EINVAL, "chars tokenizer: an open vocabulary needs no unknown token");
    if (!strmap_get(&t->map, unk, len, &id))
        return at_error(AT_EINVAL, "chars tokenizer: unknown token '%.*s' is not in the vocabulary",
                        (int)(len > 40 ? 40 : len), unk);
    t->unk = id;
    return AT_OK;
}

int chartok_encode(const CharTok *t, TokIds *out, const char *s, size_t len) {
    size_t i = 0, clen;
    while (i < len) {
        uint32_t cp = utf8_next(s + i, len - i, &clen);
        int32_t id;
        if (t->open) {
            id = cp == UNI_INVALID ? 0x110000 + (unsigned char)s[i] : (int32_t)cp;
        } else if (!strmap_get(&t->map, s + i, clen, &id)) {
            if (t->unk < 0) {
                if (cp == UNI_INVALID)
                    return at_error(AT_EINVAL,
                                    "chars tokenizer: byte 0x%02X at byte %zu (not UTF-8) "
                                    "is not in the vocabulary",
                                    (unsigned)(unsigned char)s[i], i + 1);
                return at_error(AT_EINVAL,
                                "chars tokenizer: character '%.*s' (U+%04X) at byte %zu is not "
                                "in the vocabulary",
                                (int)clen, s + i, (unsigned)cp, i + 1);
            }
            id = t->unk;
        }
        int st = tokids_push(out, id);
        if (st)
            return st;
        i += clen;
    }
    return AT_OK;
}

int chartok_token(const CharTok *t, int64_t id, char buf[4], const char **bytes, size_t *len) {
    if (t->open) {
        if (id < 0 || id >= OPEN_VOCAB || (id >= 0xD800 && id <= 0xDFFF))
            return at_error(AT_EINVAL, "chars tokenizer: id %lld is not a code point "
                            "(0..0x10FFFF, no surrogates) or an invalid byte (0x110000..0x1100FF)",
                            (long long)id);
        if (id >= 0x110000) {
            buf[0] = (char)(unsigned char)(id - 0x110000);
            *len = 1;
        } else {
            *len = (size_t)utf8_put(buf, (uint32_t)id);
        }
        *bytes = buf;
        return AT_OK;
    }
    if (t->count == 0)
        return at_error(AT_EINVAL, "chars tokenizer: id %lld: the vocabulary is empty",
                        (long long)id);
    if (id < 0 || (uint64_t)id >= t->count)
        return at_error(AT_EINVAL, "chars tokenizer: id %lld is outside the vocabulary (0..%zu)",
                        (long long)id, t->count - 1);
    *bytes = t->bytes.s + t->off[id];
    *len = t->off[id + 1] - t->off[id];
    return AT_OK;
}

int64_t chartok_vocab_size(const CharTok *t) { return t->open ? OPEN_VOCAB : (int64_t)t->count; }
