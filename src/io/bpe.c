/*
 * bpe.c: GPT-2 byte-level BPE (see bpe.h for the rules it follows).
 *
 * Data: the vocabulary maps raw token bytes to ids (StrMap) and ids back
 * to bytes; merges live in an open-addressing table keyed by the pair of
 * ids, giving (rank, merged id). A word is merged with a binary heap of
 * candidate pairs ordered by (rank, position), so a long word costs
 * O(n log n), not O(n^2); every occurrence of the lowest rank is merged
 * before the pairs it creates are considered, which is exactly encoder.py's
 * "merge all occurrences of the best bigram, left to right" loop.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "bpe.h"
#include "json.h"
#include "unicode.h"

#define MAX_ID (1 << 22)       // vocab.json ids above this are refused (memory)
#define CACHE_WORD_MAX 64      // longer words are not cached
#define CACHE_IDS_MAX (1 << 20) // cached ids before the cache starts over

typedef struct Merge {
    uint64_t key; // (left id << 32 | right id) + 1; 0 marks an empty slot
    int32_t rank, merged;
} Merge;

#define EOT "<|endoftext|>"

typedef struct HeapEntry {
    int32_t rank, pos, left, right;
} HeapEntry;

struct Bpe {
    StrMap vocab;       // raw bytes -> id, byte-level tokens only
    TokText bytes;      // raw bytes of every token, back to back
    size_t *off;        // id i: bytes.s[off[i] .. off[i] + len[i])
    uint32_t *len;
    uint8_t *kind;      // 0: no such id, 1: byte-level, 2: added (key kept as is)
    int64_t size;       // largest id + 1
    int32_t byte_id[256];
    int32_t eot_id;     // id of "<|endoftext|>", -1 when the vocabulary lacks it
    Merge *merges;
    size_t merge_cap;   // power of two
    StrMap cache;       // word -> index into cache_ids (count, then ids)
    TokIds cache_ids;
    // scratch for one word, grown as needed
    int32_t *sym, *prev, *next;
    HeapEntry *heap;
    TokIds pending;     // symbols whose right-hand pair changed in a merge round
    size_t scratch_cap, heap_cap, heap_n;
};

/* ---- byte <-> unicode ------------------------------------------------------ */

/* encoder.py's bytes_to_unicode(): bytes that are printable Latin-1
   ('!'..'~', U+00A1..U+00AC, U+00AE..U+00FF) stand for themselves; the
   other 68, in byte order, take U+0100, U+0101, ... */
uint32_t bpe_byte_to_unicode(unsigned char b) {
    if ((b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)
        return b;
    uint32_t n = 0;
    for (unsigned c = 0; c < b; c++)
        if (!((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE))
            n++;
    return 256 + n;
}

int bpe_unicode_to_byte(uint32_t cp) {
    static int16_t inv[324];
    static int ready;
    if (!ready) { // a pure function of constants: racing initialisers agree
        for (int i = 0; i < 324; i++)
            inv[i] = -1;
        for (int b = 0; b < 256; b++)
            inv[bpe_byte_to_unicode((unsigned char)b)] = (int16_t)b;
        ready = 1;
    }
    return cp < 324 ? inv[cp] : -1;
}

/* ---- the pre-tokeniser ------------------------------------------------------- */

enum { C_SPACE, C_LETTER, C_NUMBER, C_OTHER };

static int char_class(uint32_t cp) {
    if (uni_is_space(cp))
        return C_SPACE;
    if (uni_is_letter(cp))
        return C_LETTER;
    if (uni_is_number(cp))
        return C_NUMBER;
    return C_OTHER; // includes UNI_INVALID: a byte of broken UTF-8
}

/* Bytes in the run of characters of class cls starting at s (which holds
   one); *chars counts them, *last_len is the last one's length. */
static size_t run_of(const char *s, size_t n, int cls, size_t *chars, size_t *last_len) {
    size_t i = 0, len = 0, k = 0;
    while (i < n) {
        uint32_t cp = utf8_next(s + i, n - i, &len);
        if (char_class(cp) != cls)
            break;
        i += len, k++;
        *last_len = len;
    }
    *chars = k;
    return i;
}

size_t bpe_pretoken(const char *s, size_t n) {
    size_t l0, chars, last = 0;
    // 's|'t|'re|'ve|'m|'ll|'d: case-sensitive literals
    if (s[0] == '\'' && n >= 2) {
        char a = s[1], b = n >= 3 ? s[2] : 0;
        if (a == 's' || a == 't' || a == 'm' || a == 'd')
            return 2;
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
            return 3;
    }
    uint32_t cp0 = utf8_next(s, n, &l0);
    int c0 = char_class(cp0);
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': one optional U+0020,
    // taken only when a run of that class follows it
    if (cp0 == ' ' && n > 1) {
        size_t l1;
        int c1 = char_class(utf8_next(s + 1, n - 1, &l1));
        if (c1 != C_SPACE)
            return 1 + run_of(s + 1, n - 1, c1, &chars, &last);
    }
    if (c0 != C_SPACE)
        return run_of(s, n, c0, &chars, &last);
    // '\s+(?!\S)': the whole run at the end of the text; before a non-space,
    // the run less its last character (which then leads the next word),
    // unless the run is one character: then '\s+' takes it alone
    size_t j = run_of(s, n, C_SPACE, &chars, &last);
    if (j == n || chars == 1)
        return j;
    return j - last;
}

/* ---- loading ------------------------------------------------------------------ */

void bpe_free(Bpe *b) {
    if (!b)
        return;
    strmap_free(&b->vocab);
    toktext_free(&b->bytes);
    free(b->off);
    free(b->len);
    free(b->kind);
    free(b->merges);
    strmap_free(&b->cache);
    tokids_free(&b->cache_ids);
    free(b->sym);
    free(b->prev);
    free(b->next);
    free(b->heap);
    tokids_free(&b->pending);
    free(b);
}

/* Raw bytes of a vocab.json key written in the byte-level alphabet into
   raw; 0 when some character stands for no byte (an added token). */
static int key_to_bytes(TokText *raw, const char *key, size_t n) {
    size_t i = 0, len;
    raw->n = 0;
    while (i < n) {
        int byte = bpe_unicode_to_byte(utf8_next(key + i, n - i, &len));
        if (byte < 0)
            return 0;
        char c = (char)(unsigned char)byte;
        if (toktext_add(raw, &c, 1))
            return -1;
        i += len;
    }
    return 1;
}

/* The largest id in vocab.json, checking every value is an id. */
static int vocab_max_id(const JsonDoc *doc, const JsonValue *root, int64_t *max) {
    *max = -1;
    for (const JsonValue *m = json_first(doc, root); m; m = json_next(doc, m)) {
        int64_t id;
        if (!json_integer(&id, m, 0, MAX_ID))
            return at_error(AT_EFORMAT,
                            "bpe: vocab.json: the value of '%.40s' is not an id (an integer "
                            "0..%d)", json_key(doc, m, NULL), MAX_ID);
        if (id > *max)
            *max = id;
    }
    return AT_OK;
}

static int add_vocab_entry(Bpe *b, TokText *raw, const char *key, size_t klen, int64_t id) {
    if (b->kind[id])
        return at_error(AT_EFORMAT, "bpe: vocab.json: id %lld is given to two tokens "
                        "(one is '%.40s')", (long long)id, key);
    int r = key_to_bytes(raw, key, klen);
    if (r < 0)
        return at_errcode();
    const char *src = r ? raw->s : key;
    size_t n = r ? raw->n : klen;
    b->off[id] = b->bytes.n;
    b->len[id] = (uint32_t)n;
    b->kind[id] = r ? 1 : 2;
    int st = toktext_add(&b->bytes, src, n);
    if (!st && r)
        st = strmap_put(&b->vocab, src, n, (int32_t)id, NULL, NULL);
    return st;
}

static int load_vocab(Bpe *b, const char *text, size_t len) {
    JsonDoc *doc = NULL;
    int st = json_parse(&doc, text, len, NULL);
    if (st) { // at_errmsg's buffer is the one at_error writes: copy it first
        char why[256];
        snprintf(why, sizeof why, "%s", at_errmsg());
        return at_error(st, "bpe: vocab.json: %s", why);
    }
    const JsonValue *root = json_root(doc);
    int64_t max = -1;
    TokText raw = {0};
    if (json_type(root) != JSON_OBJECT)
        st = at_error(AT_EFORMAT, "bpe: vocab.json holds a %s, expected an object of "
                      "token -> id", json_type_name(json_type(root)));
    if (!st)
        st = vocab_max_id(doc, root, &max);
    if (!st && max < 0)
        st = at_error(AT_EFORMAT, "bpe: vocab.json has no tokens");
    if (!st) {
        b->size = max + 1;
        b->off = calloc((size_t)b->size, sizeof *b->off);
        b->len = calloc((size_t)b->size, sizeof *b->len);
        b->kind = calloc((size_t)b->size, 1);
        if (!b->off || !b->len || !b->kind)
            st = at_error(AT_ENOMEM, "bpe: out of memory for %lld tokens", (long long)b->size);
    }
    for (const JsonValue *m = st ? NULL : json_first(doc, root); m && !st;
         m = json_next(doc, m)) {
        size_t klen;
        const char *key = json_key(doc, m, &klen);
        int64_t id;
        json_integer(&id, m, 0, MAX_ID);
        st = add_vocab_entry(b, &raw, key, klen, id);
    }
    toktext_free(&raw);
    json_free(doc);
    for (int i = 0; i < 256 && !st; i++) {
        char c = (char)i;
        if (!strmap_get(&b->vocab, &c, 1, &b->byte_id[i]))
            b->byte_id[i] = -1;
    }
    return st;
}

static uint64_t pair_key(int32_t a, int32_t c) {
    return (((uint64_t)(uint32_t)a << 32) | (uint32_t)c) + 1;
}

static Merge *merge_slot(Merge *tab, size_t cap, uint64_t key) {
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & (cap - 1);
    while (tab[i].key && tab[i].key != key)
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

static const Merge *merge_find(const Bpe *b, int32_t a, int32_t c) {
    if (!b->merge_cap)
        return NULL;
    const Merge *m = merge_slot(b->merges, b->merge_cap, pair_key(a, c));
    return m->key ? m : NULL;
}

/* One merges.txt line "a b" (both in the byte-level alphabet). */
static int add_merge(Bpe *b, TokText *raw, const char *line, size_t n, size_t lineno,
                     int32_t rank) {
    const char *sp = memchr(line, ' ', n);
    if (!sp || sp == line || sp == line + n - 1 || memchr(sp + 1, ' ', n - (size_t)(sp - line) - 1))
        return at_error(AT_EFORMAT, "bpe: merges.txt line %zu: '%.*s' is not two tokens "
                        "separated by one space", lineno, (int)(n > 60 ? 60 : n), line);
    int32_t ids[3];
    size_t part_len[2] = {(size_t)(sp - line), n - (size_t)(sp - line) - 1};
    const char *part[2] = {line, sp + 1};
    TokText both = {0};
    int st = AT_OK;
    for (int k = 0; k < 2 && !st; k++) {
        int r = key_to_bytes(raw, part[k], part_len[k]);
        if (r < 0)
            st = at_errcode();
        else if (!r || !strmap_get(&b->vocab, raw->s, raw->n, &ids[k]))
            st = at_error(AT_EFORMAT, "bpe: merges.txt line %zu: token '%.*s' is not in "
                          "vocab.json", lineno, (int)(part_len[k] > 60 ? 60 : part_len[k]),
                          part[k]);
        else
            st = toktext_add(&both, raw->s, raw->n);
    }
    if (!st && !strmap_get(&b->vocab, both.s, both.n, &ids[2]))
        st = at_error(AT_EFORMAT, "bpe: merges.txt line %zu: the merged token '%.*s%.*s' is "
                      "not in vocab.json", lineno, (int)(part_len[0] > 60 ? 60 : part_len[0]),
                      part[0], (int)(part_len[1] > 60 ? 60 : part_len[1]), part[1]);
    toktext_free(&both);
    if (st)
        return st;
    Merge *m = merge_slot(b->merges, b->merge_cap, pair_key(ids[0], ids[1]));
    *m = (Merge){.key = pair_key(ids[0], ids[1]), .rank = rank, .merged = ids[2]};
    return AT_OK;
}

static int load_merges(Bpe *b, const char *text, size_t len) {
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (lines > INT32_MAX / 4)
        return at_error(AT_EFORMAT, "bpe: merges.txt has too many lines");
    b->merge_cap = 16;
    while (b->merge_cap < lines * 2)
        b->merge_cap *= 2;
    b->merges = calloc(b->merge_cap, sizeof *b->merges);
    if (!b->merges)
        return at_error(AT_ENOMEM, "bpe: out of memory for %zu merges", lines);
    TokText raw = {0};
    int st = AT_OK;
    int32_t rank = 0;
    size_t pos = 0, lineno = 0;
    while (pos < len && !st) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
        lineno++;
        if (n && text[pos + n - 1] == '\r')
            n--;
        // the "#version: 0.2" header line, and empty lines (a trailing newline)
        int skip = n == 0 || (lineno == 1 && n >= 8 && memcmp(text, "#version", 8) == 0);
        if (!skip)
            st = add_merge(b, &raw, text + pos, n, lineno, rank++);
        pos = end + 1;
    }
    toktext_free(&raw);
    return st;
}

int bpe_new_from_memory(Bpe **out, const char *vocab_json, size_t vocab_len, const char *merges,
                        size_t merges_len) {
    *out = NULL;
    Bpe *b = calloc(1, sizeof *b);
    if (!b)
        return at_error(AT_ENOMEM, "bpe: out of memory");
    int st = load_vocab(b, vocab_json, vocab_len);
    if (!st)
        st = load_merges(b, merges, merges_len);
    if (st) {
        bpe_free(b);
        return st;
    }
    if (!strmap_get(&b->vocab, EOT, sizeof EOT - 1, &b->eot_id))
        b->eot_id = -1;
    *out = b;
    return AT_OK;
}

int bpe_new(Bpe **out, const char *vocab_path, const char *merges_path) {
    char *v = NULL, *m = NULL;
    size_t vn, mn;
    *out = NULL;
    int st = tok_read_file(&v, &vn, vocab_path, "bpe: vocab file");
    if (!st)
        st = tok_read_file(&m, &mn, merges_path, "bpe: merges file");
    if (!st)
        st = bpe_new_from_memory(out, v, vn, m, mn);
    free(v);
    free(m);
    return st;
}

/* ---- merging one word ---------------------------------------------------------- */

static int scratch_reserve(Bpe *b, size_t n) {
    if (n <= b->scratch_cap)
        return AT_OK;
    size_t cap = b->scratch_cap ? b->scratch_cap : 64;
    while (cap < n)
        cap *= 2;
    int32_t *s = realloc(b->sym, cap * sizeof *s);
    if (s)
        b->sym = s;
    int32_t *p = s ? realloc(b->prev, cap * sizeof *p) : NULL;
    if (p)
        b->prev = p;
    int32_t *x = p ? realloc(b->next, cap * sizeof *x) : NULL;
    if (!x)
        return at_error(AT_ENOMEM, "bpe: out of memory for a word of %zu bytes", n);
    b->next = x;
    b->scratch_cap = cap;
    return AT_OK;
}

static int heap_less(const HeapEntry *a, const HeapEntry *c) {
    return a->rank < c->rank || (a->rank == c->rank && a->pos < c->pos);
}

static int heap_push(Bpe *b, HeapEntry e) {
    if (b->heap_n == b->heap_cap) {
        size_t cap = b->heap_cap ? b->heap_cap * 2 : 64;
        HeapEntry *h = realloc(b->heap, cap * sizeof *h);
        if (!h)
            return at_error(AT_ENOMEM, "bpe: out of memory");
        b->heap = h;
        b->heap_cap = cap;
    }
    size_t i = b->heap_n++;
    while (i > 0 && heap_less(&e, &b->heap[(i - 1) / 2])) {
        b->heap[i] = b->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    b->heap[i] = e;
    return AT_OK;
}

static HeapEntry heap_pop(Bpe *b) {
    HeapEntry top = b->heap[0], last = b->heap[--b->heap_n];
    size_t i = 0, n = b->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && heap_less(&b->heap[c + 1], &b->heap[c]))
            c++;
        if (!heap_less(&b->heap[c], &last))
            break;
        b->heap[i] = b->heap[c];
        i = c;
    }
    if (n)
        b->heap[i] = last;
    return top;
}

/* Queue the pair starting at symbol p, if it has a merge. */
static int push_pair(Bpe *b, int32_t p) {
    if (p < 0 || b->next[p] < 0)
        return AT_OK;
    const Merge *m = merge_find(b, b->sym[p], b->sym[b->next[p]]);
    if (!m)
        return AT_OK;
    return heap_push(b, (HeapEntry){m->rank, p, b->sym[p], b->sym[b->next[p]]});
}

/* Merge every queued pair of the lowest rank, left to right; the pairs
   they create are queued only afterwards (they never have that rank: a
   merged token differs from both its parts). Entries whose symbols have
   changed since they were queued are stale and skipped. */
static int merge_lowest(Bpe *b) {
    int32_t rank = b->heap[0].rank;
    TokIds *pending = &b->pending;
    pending->n = 0;
    int st = AT_OK;
    while (b->heap_n && b->heap[0].rank == rank && !st) {
        HeapEntry e = heap_pop(b);
        int32_t p = e.pos, q = b->next[p];
        if (b->sym[p] != e.left || q < 0 || b->sym[q] != e.right)
            continue;
        b->sym[p] = merge_find(b, e.left, e.right)->merged;
        b->next[p] = b->next[q];
        if (b->next[q] >= 0)
            b->prev[b->next[q]] = p;
        b->sym[q] = -1; // dead
        st = tokids_push(pending, b->prev[p]);
        if (!st)
            st = tokids_push(pending, p);
    }
    for (size_t i = 0; i < pending->n && !st; i++) {
        int32_t p = pending->ids[i];
        if (p >= 0 && b->sym[p] >= 0)
            st = push_pair(b, p);
    }
    return st;
}

/* BPE of one pre-token w[0..n) (n >= 1), ids appended to out. */
static int merge_word(Bpe *b, TokIds *out, const char *w, size_t n) {
    if (n > INT32_MAX)
        return at_error(AT_EINVAL, "bpe: a word of %zu bytes is too long", n);
    int st = scratch_reserve(b, n);
    for (size_t i = 0; i < n && !st; i++) {
        int32_t id = b->byte_id[(unsigned char)w[i]];
        if (id < 0)
            return at_error(AT_EINVAL, "bpe: byte 0x%02X has no token in vocab.json (a GPT-2 "
                            "vocabulary has all 256)", (unsigned)(unsigned char)w[i]);
        b->sym[i] = id;
        b->prev[i] = (int32_t)i - 1;
        b->next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
    }
    b->heap_n = 0;
    for (size_t i = 0; i + 1 < n && !st; i++)
        st = push_pair(b, (int32_t)i);
    while (b->heap_n && !st)
        st = merge_lowest(b);
    for (int32_t p = 0; p >= 0 && !st; p = b->next[p])
        st = tokids_push(out, b->sym[p]);
    return st;
}

/* ---- encode / decode ------------------------------------------------------------ */

/* BPE of one pre-token through the cache: short words are looked up first
   and remembered after. The cache starts over when it holds too many ids,
   so memory stays bounded whatever the input. */
static int encode_word(Bpe *b, TokIds *out, const char *w, size_t n) {
    int32_t at;
    if (n <= CACHE_WORD_MAX && strmap_get(&b->cache, w, n, &at)) {
        int32_t count = b->cache_ids.ids[at];
        for (int32_t i = 1; i <= count; i++) {
            int st = tokids_push(out, b->cache_ids.ids[at + i]);
            if (st)
                return st;
        }
        return AT_OK;
    }
    size_t start = out->n;
    int st = merge_word(b, out, w, n);
    if (st || n > CACHE_WORD_MAX)
        return st;
    size_t count = out->n - start;
    if (b->cache_ids.n + count + 1 > CACHE_IDS_MAX) {
        strmap_clear(&b->cache);
        b->cache_ids.n = 0;
    }
    at = (int32_t)b->cache_ids.n;
    st = tokids_push(&b->cache_ids, (int32_t)count);
    for (size_t i = 0; i < count && !st; i++)
        st = tokids_push(&b->cache_ids, out->ids[start + i]);
    if (!st)
        st = strmap_put(&b->cache, w, n, at, NULL, NULL);
    return st;
}

/* Where the next "<|endoftext|>" starts in s[0..len), or len. */
static size_t find_eot(const char *s, size_t len) {
    const size_t n = sizeof EOT - 1;
    for (const char *p = s; (p = memchr(p, '<', len - (size_t)(p - s))); p++)
        if (len - (size_t)(p - s) >= n && memcmp(p, EOT, n) == 0)
            return (size_t)(p - s);
    return len;
}

static int encode_plain(Bpe *b, TokIds *out, const char *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        size_t n = bpe_pretoken(s + i, len - i);
        int st = encode_word(b, out, s + i, n);
        if (st)
            return st;
        i += n;
    }
    return AT_OK;
}

/* "<|endoftext|>" in the text is the special token itself, as in the
   Hugging Face GPT-2 tokenizer, so a prompt can begin a document the way
   the model saw documents begin in training. */
int bpe_encode(Bpe *b, TokIds *out, const char *s, size_t len) {
    if (b->eot_id < 0)
        return encode_plain(b, out, s, len);
    size_t i = 0;
    while (i < len) {
        size_t at = i + find_eot(s + i, len - i);
        int st = encode_plain(b, out, s + i, at - i);
        if (!st && at < len)
            st = tokids_push(out, b->eot_id);
        if (st)
            return st;
        i = at < len ? at + sizeof EOT - 1 : len;
    }
    return AT_OK;
}

static int check_id(const Bpe *b, int64_t id) {
    if (id < 0 || id >= b->size || !b->kind[id])
        return at_error(AT_EINVAL, "bpe: id %lld is not in the vocabulary (ids 0..%lld)",
                        (long long)id, (long long)(b->size - 1));
    return AT_OK;
}

int bpe_token_bytes(const Bpe *b, int64_t id, const char **bytes, size_t *len) {
    int st = check_id(b, id);
    if (st)
        return st;
    *bytes = b->bytes.s + b->off[id];
    *len = b->len[id];
    return AT_OK;
}

int bpe_token_string(const Bpe *b, TokText *out, int64_t id) {
    const char *s;
    size_t n;
    int st = bpe_token_bytes(b, id, &s, &n);
    if (st || b->kind[id] == 2)
        return st ? st : toktext_add(out, s, n);
    for (size_t i = 0; i < n && !st; i++) {
        char u[4];
        int k = utf8_put(u, bpe_byte_to_unicode((unsigned char)s[i]));
        st = toktext_add(out, u, (size_t)k);
    }
    return st;
}

int64_t bpe_vocab_size(const Bpe *b) { return b->size; }
