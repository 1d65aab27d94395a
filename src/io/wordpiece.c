/*
 * wordpiece.c: BERT's basic tokenizer and WordPiece (rules in wordpiece.h).
 *
 * A word is held as code points while it is cleaned, lowercased, stripped
 * and split, then written back as UTF-8 for the vocabulary lookups; the
 * greedy match tries ends at character boundaries only, as BERT does on
 * Python strings.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "unicode.h"
#include "wordpiece.h"

#define NSPECIAL 5
static const char *const special_names[NSPECIAL] = {"[UNK]", "[CLS]", "[SEP]", "[PAD]",
                                                    "[MASK]"};

struct WordPiece {
    StrMap vocab;    // token -> id (the last line wins for a repeated token)
    TokText bytes;   // line i is bytes.s[off[i] .. off[i+1])
    size_t *off;
    size_t count;
    int32_t unk;     // -1: the vocabulary has no unknown token
    int nspecial;
    const char *special[NSPECIAL]; // special tokens present in the vocabulary
    WordPieceOptions opt;
};

/* A growing list of code points (the word being built). */
typedef struct {
    uint32_t *cp;
    size_t n, cap;
} Cps;

static int cps_push(Cps *c, uint32_t cp) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        uint32_t *p = realloc(c->cp, cap * sizeof *p);
        if (!p)
            return at_error(AT_ENOMEM, "wordpiece: out of memory");
        c->cp = p;
        c->cap = cap;
    }
    c->cp[c->n++] = cp;
    return AT_OK;
}

WordPieceOptions wordpiece_defaults(void) {
    return (WordPieceOptions){.lowercase = 1, .strip_accents = -1, .max_chars = 100,
                              .unk = "[UNK]"};
}

/* ---- loading -------------------------------------------------------------------- */

void wordpiece_free(WordPiece *w) {
    if (!w)
        return;
    strmap_free(&w->vocab);
    toktext_free(&w->bytes);
    free(w->off);
    free(w);
}

/* Split vocab.txt into lines (a final newline ends the last line; a \r
   before \n is dropped) and record their offsets. */
static int read_lines(WordPiece *w, const char *text, size_t len) {
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    lines += len > 0 && text[len - 1] != '\n';
    if (lines == 0)
        return at_error(AT_EFORMAT, "wordpiece: vocab.txt is empty");
    if (lines > INT32_MAX)
        return at_error(AT_EFORMAT, "wordpiece: vocab.txt has too many lines");
    w->off = malloc((lines + 1) * sizeof *w->off);
    if (!w->off)
        return at_error(AT_ENOMEM, "wordpiece: out of memory for %zu tokens", lines);
    w->off[0] = 0;
    size_t pos = 0;
    for (size_t k = 0; k < lines; k++) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, n = end - pos;
        if (n && text[pos + n - 1] == '\r')
            n--;
        int st = toktext_add(&w->bytes, text + pos, n);
        if (st)
            return st;
        w->off[k + 1] = w->bytes.n;
        pos = end + 1;
    }
    w->count = lines;
    return AT_OK;
}

int wordpiece_new_from_memory(WordPiece **out, const char *vocab, size_t len,
                              const WordPieceOptions *opt) {
    *out = NULL;
    WordPiece *w = calloc(1, sizeof *w);
    if (!w)
        return at_error(AT_ENOMEM, "wordpiece: out of memory");
    w->opt = opt ? *opt : wordpiece_defaults();
    if (w->opt.strip_accents < 0)
        w->opt.strip_accents = w->opt.lowercase;
    if (w->opt.max_chars <= 0)
        w->opt.max_chars = 100;
    if (!w->opt.unk)
        w->opt.unk = "[UNK]";
    int st = read_lines(w, vocab, len);
    // from the last line up, so that a repeated token keeps its last id
    for (size_t k = w->count; k-- > 0 && !st;)
        st = strmap_put(&w->vocab, w->bytes.s + w->off[k], w->off[k + 1] - w->off[k],
                        (int32_t)k, NULL, NULL);
    if (st) {
        wordpiece_free(w);
        return st;
    }
    if (!strmap_get(&w->vocab, w->opt.unk, strlen(w->opt.unk), &w->unk))
        w->unk = -1;
    int32_t id;
    for (int k = 0; k < NSPECIAL; k++)
        if (strmap_get(&w->vocab, special_names[k], strlen(special_names[k]), &id))
            w->special[w->nspecial++] = special_names[k];
    *out = w;
    return AT_OK;
}

int wordpiece_new(WordPiece **out, const char *vocab_path, const WordPieceOptions *opt) {
    char *text;
    size_t len;
    *out = NULL;
    int st = tok_read_file(&text, &len, vocab_path, "wordpiece: vocab file");
    if (!st)
        st = wordpiece_new_from_memory(out, text, len, opt);
    free(text);
    return st;
}

/* ---- the basic tokenizer ---------------------------------------------------------- */

static int is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* BERT counts the ASCII symbols as punctuation although Unicode calls
   some of them Sm, Sc or Sk ($ + < = > ^ ` | ~). */
static int is_punct(uint32_t c) {
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
        (c >= 123 && c <= 126))
        return 1;
    return uni_is_punct(c);
}

static int is_bert_space(uint32_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || uni_is_zs(c);
}

static int is_bert_control(uint32_t c) {
    return c != '\t' && c != '\n' && c != '\r' && uni_is_other(c);
}

/* Lowercase and strip accents of one character into word. */
static int normalize_char(const WordPiece *w, Cps *word, uint32_t c) {
    uint32_t lowered[2] = {c, 0};
    int nl = 1;
    if (w->opt.lowercase) {
        if (c == 0x130) // SpecialCasing.txt: İ lowercases to i + combining dot above
            lowered[0] = 'i', lowered[1] = 0x307, nl = 2;
        else
            lowered[0] = uni_tolower(c);
    }
    for (int k = 0; k < nl; k++) {
        if (!w->opt.strip_accents) {
            int st = cps_push(word, lowered[k]);
            if (st)
                return st;
            continue;
        }
        uint32_t d[UNI_DECOMP_MAX];
        int nd = uni_decompose(d, lowered[k]);
        for (int i = 0; i < nd; i++) {
            if (uni_is_mark(d[i]))
                continue;
            int st = cps_push(word, d[i]);
            if (st)
                return st;
        }
    }
    return AT_OK;
}

/* WordPiece of one word (code points cp[0..n), n >= 1). buf and tmp are
   scratch; ends[i] receives the byte end of character i. */
static int wordpiece_word(const WordPiece *w, TokIds *out, const uint32_t *cp, size_t n,
                          TokText *buf, TokText *tmp, size_t *ends) {
    size_t mark = out->n;
    int st = AT_OK;
    if (n > (size_t)w->opt.max_chars)
        goto unknown;
    buf->n = 0;
    for (size_t i = 0; i < n && !st; i++) {
        char u[4];
        st = toktext_add(buf, u, (size_t)utf8_put(u, cp[i]));
        ends[i] = buf->n;
    }
    size_t start = 0; // in characters
    while (start < n && !st) {
        size_t from = start ? ends[start - 1] : 0; // byte offset of character start
        const char *base = buf->s + from;
        size_t pre = 0;
        if (start) { // pieces after the first are looked up as "##" + piece
            tmp->n = 0;
            st = toktext_add(tmp, "##", 2);
            if (!st)
                st = toktext_add(tmp, base, buf->n - from);
            base = tmp->s, pre = 2;
        }
        size_t end = n;
        int32_t id = -1;
        for (; end > start && !st; end--)
            if (strmap_get(&w->vocab, base, pre + ends[end - 1] - from, &id))
                break;
        if (st)
            return st;
        if (end == start)
            goto unknown;
        st = tokids_push(out, id);
        start = end;
    }
    return st;
unknown:
    out->n = mark; // drop the pieces of a word that turned out unmatchable
    if (w->unk < 0)
        return at_error(AT_EINVAL, "wordpiece: a word has no pieces in vocab.txt and the "
                        "vocabulary has no unknown token '%s'", w->opt.unk);
    return tokids_push(out, w->unk);
}

/* Working memory for one encode call. */
typedef struct {
    Cps word;
    TokText buf, tmp;
    size_t *ends;
    size_t ends_cap;
} Work;

/* Finish the word collected so far: split it at punctuation and WordPiece
   each part. */
static int flush_word(const WordPiece *w, TokIds *out, Work *wk) {
    Cps *word = &wk->word;
    if (word->n > wk->ends_cap) {
        size_t *e = realloc(wk->ends, word->n * sizeof *e);
        if (!e)
            return at_error(AT_ENOMEM, "wordpiece: out of memory");
        wk->ends = e;
        wk->ends_cap = word->n;
    }
    size_t i = 0;
    int st = AT_OK;
    while (i < word->n && !st) {
        size_t j = i + 1;
        if (!is_punct(word->cp[i]))
            while (j < word->n && !is_punct(word->cp[j]))
                j++;
        st = wordpiece_word(w, out, word->cp + i, j - i, &wk->buf, &wk->tmp, wk->ends);
        i = j;
    }
    word->n = 0;
    return st;
}

/* Basic tokenizer + WordPiece over a stretch of text free of special tokens. */
static int encode_plain(const WordPiece *w, TokIds *out, const char *s, size_t len, Work *wk) {
    size_t i = 0, clen;
    int st = AT_OK;
    while (i < len && !st) {
        uint32_t c = utf8_next(s + i, len - i, &clen);
        i += clen;
        if (c == UNI_INVALID || c == 0 || c == 0xFFFD || is_bert_control(c))
            continue;
        if (is_bert_space(c) || uni_is_space(c)) {
            if (wk->word.n)
                st = flush_word(w, out, wk);
        } else if (is_cjk(c)) {
            if (wk->word.n)
                st = flush_word(w, out, wk);
            if (!st)
                st = normalize_char(w, &wk->word, c);
            if (!st)
                st = flush_word(w, out, wk);
        } else {
            st = normalize_char(w, &wk->word, c);
        }
    }
    if (!st && wk->word.n)
        st = flush_word(w, out, wk);
    return st;
}

/* The special token starting at s, or -1. */
static int special_at(const WordPiece *w, const char *s, size_t len) {
    if (s[0] != '[')
        return -1;
    for (int k = 0; k < w->nspecial; k++) {
        size_t n = strlen(w->special[k]);
        if (n <= len && memcmp(s, w->special[k], n) == 0)
            return k;
    }
    return -1;
}

int wordpiece_encode(const WordPiece *w, TokIds *out, const char *s, size_t len) {
    Work wk = {0};
    int st = AT_OK;
    size_t start = 0, i = 0;
    while (i < len && !st) {
        int k = special_at(w, s + i, len - i);
        if (k < 0) {
            i++;
            continue;
        }
        st = encode_plain(w, out, s + start, i - start, &wk);
        size_t n = strlen(w->special[k]);
        int32_t id = 0;
        strmap_get(&w->vocab, w->special[k], n, &id);
        if (!st)
            st = tokids_push(out, id);
        i += n;
        start = i;
    }
    if (!st)
        st = encode_plain(w, out, s + start, len - start, &wk);
    free(wk.word.cp);
    toktext_free(&wk.buf);
    toktext_free(&wk.tmp);
    free(wk.ends);
    return st;
}

/* ---- ids back to text --------------------------------------------------------------- */

int wordpiece_token(const WordPiece *w, int64_t id, const char **bytes, size_t *len) {
    if (id < 0 || (uint64_t)id >= w->count)
        return at_error(AT_EINVAL, "wordpiece: id %lld is not in the vocabulary (ids 0..%zu)",
                        (long long)id, w->count - 1);
    *bytes = w->bytes.s + w->off[id];
    *len = w->off[id + 1] - w->off[id];
    return AT_OK;
}

int wordpiece_decode(const WordPiece *w, TokText *out, const int64_t *ids, size_t n) {
    int st = toktext_add(out, "", 0);
    for (size_t i = 0; i < n && !st; i++) {
        const char *t;
        size_t len;
        st = wordpiece_token(w, ids[i], &t, &len);
        if (st)
            break;
        if (i > 0 && len >= 2 && t[0] == '#' && t[1] == '#')
            t += 2, len -= 2;
        else if (i > 0)
            st = toktext_add(out, " ", 1);
        if (!st)
            st = toktext_add(out, t, len);
    }
    return st;
}

int64_t wordpiece_vocab_size(const WordPiece *w) { return (int64_t)w->count; }
