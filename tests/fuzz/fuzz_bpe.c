/*
 * fuzz_bpe.c: libFuzzer target for the GPT-2 byte-level BPE tokenizer
 * (make fuzz-tokenizers; not part of make check).
 *
 * Input starting with 'L': the rest, split at the first NUL, is loaded as
 * vocab.json and merges.txt (malformed files must fail cleanly); if they
 * load, a fixed sentence is encoded with them. Any other input is text for
 * a fixed tokenizer (all 256 bytes plus merges that chain): it must encode,
 * decode back to exactly the input (byte-level BPE loses nothing), give
 * pre-tokens that tile the input, and yield one display label per token.
 * A broken property aborts, which libFuzzer reports as a crash.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/bpe.h"
#include "io/chars.h"
#include "io/unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static Bpe *fixed;

static void add_key(TokText *v, const char *raw, size_t n, int id, int last) {
    toktext_add(v, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char u[4];
        uint32_t cp = bpe_byte_to_unicode((unsigned char)raw[i]);
        if (cp == '"' || cp == '\\')
            toktext_add(v, "\\", 1);
        toktext_add(v, u, (size_t)utf8_put(u, cp));
    }
    char num[32];
    snprintf(num, sizeof num, "\": %d%s", id, last ? "}" : ", ");
    toktext_add(v, num, strlen(num));
}

/* All bytes, and merges building "the", " the", "ing", "aa", "aaaa" and
   a pair of merges ranked against their build order. */
static Bpe *make_fixed(void) {
    static const char *const extra[] = {"th", "the", " t", " the", "in", "ing",
                                        "aa", "aaaa", "ab", "aba", "\xE4\xBD", "\xE4\xBD\xA0"};
    static const char *merges = "#version: 0.2\nt h\nth e\nĠ t\nĠ the\ni n\nin g\n"
                                "a a\naa aa\nab a\na b\nä ½\nä½ ł\n";
    TokText v = {0};
    toktext_add(&v, "{", 1);
    for (int b = 0; b < 256; b++) {
        char c = (char)b;
        add_key(&v, &c, 1, b, 0);
    }
    int n = (int)(sizeof extra / sizeof *extra);
    for (int k = 0; k < n; k++)
        add_key(&v, extra[k], strlen(extra[k]), 256 + k, k == n - 1);
    Bpe *b = NULL;
    if (bpe_new_from_memory(&b, v.s, v.n, merges, strlen(merges)))
        abort();
    toktext_free(&v);
    return b;
}

static void check_text(Bpe *b, const char *s, size_t n) {
    for (size_t i = 0; i < n;) { // pre-tokens tile the text
        size_t k = bpe_pretoken(s + i, n - i);
        if (k == 0 || k > n - i)
            abort();
        i += k;
    }
    TokIds ids = {0};
    if (bpe_encode(b, &ids, s, n))
        abort();
    TokText back = {0};
    toktext_add(&back, "", 0);
    const char **pieces = malloc((ids.n + 1) * sizeof *pieces);
    size_t *lens = malloc((ids.n + 1) * sizeof *lens);
    size_t *offs = malloc((ids.n + 1) * sizeof *offs);
    for (size_t i = 0; i < ids.n; i++) {
        if (bpe_token_bytes(b, ids.ids[i], &pieces[i], &lens[i]))
            abort();
        toktext_add(&back, pieces[i], lens[i]);
    }
    if (back.n != n || memcmp(back.s, s, n) != 0)
        abort();
    TokText labels = {0};
    if (tok_labels(&labels, offs, pieces, lens, ids.n, 1))
        abort();
    for (size_t i = 0; i < ids.n; i++) // labels are well-formed UTF-8
        if (!utf8_valid(labels.s + offs[i], strlen(labels.s + offs[i])))
            abort();
    free(pieces);
    free(lens);
    free(offs);
    toktext_free(&labels);
    toktext_free(&back);
    tokids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    if (size > 0 && s[0] == 'L') {
        const char *nul = memchr(s + 1, 0, size - 1);
        size_t vn = nul ? (size_t)(nul - s - 1) : size - 1;
        const char *m = nul ? nul + 1 : "";
        size_t mn = nul ? size - 2 - vn : 0;
        Bpe *b = NULL;
        if (bpe_new_from_memory(&b, s + 1, vn, m, mn) == 0) {
            TokIds ids = {0};
            const char *t = "the thing 'll aaaa";
            bpe_encode(b, &ids, t, strlen(t)); // may fail: bytes absent
            tokids_free(&ids);
            bpe_free(b);
        }
        return 0;
    }
    if (!fixed)
        fixed = make_fixed();
    check_text(fixed, s, size);
    return 0;
}
