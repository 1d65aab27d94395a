/*
 * fuzz_wordpiece.c: libFuzzer target for BERT's WordPiece tokenizer
 * (make fuzz-tokenizers; not part of make check).
 *
 * Input starting with 'L': the rest is loaded as vocab.txt (any bytes must
 * load or fail cleanly) and a fixed sentence is encoded with it. Any other
 * input is text for fixed tokenizers (uncased and cased): encoding must
 * succeed, every id must be in the vocabulary and decode, and the labels
 * must be well-formed UTF-8. A broken property aborts.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "io/chars.h"
#include "io/unicode.h"
#include "io/wordpiece.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static WordPiece *uncased, *cased;

static const char *vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n##s\nun\n##aff\n##able\n"
                           "a\n##a\n,\n.\n!\n你\n好\ncafe\nCafé\n##é\ni\n##̇\n";

static void check_text(const WordPiece *w, const char *s, size_t n) {
    TokIds ids = {0};
    if (wordpiece_encode(w, &ids, s, n))
        abort();
    int64_t *wide = malloc((ids.n + 1) * sizeof *wide);
    const char **pieces = malloc((ids.n + 1) * sizeof *pieces);
    size_t *lens = malloc((ids.n + 1) * sizeof *lens);
    size_t *offs = malloc((ids.n + 1) * sizeof *offs);
    for (size_t i = 0; i < ids.n; i++) {
        if (ids.ids[i] < 0 || ids.ids[i] >= wordpiece_vocab_size(w))
            abort();
        if (wordpiece_token(w, ids.ids[i], &pieces[i], &lens[i]))
            abort();
        wide[i] = ids.ids[i];
    }
    TokText text = {0}, labels = {0};
    if (wordpiece_decode(w, &text, wide, ids.n))
        abort();
    if (tok_labels(&labels, offs, pieces, lens, ids.n, 0))
        abort();
    for (size_t i = 0; i < ids.n; i++)
        if (!utf8_valid(labels.s + offs[i], strlen(labels.s + offs[i])))
            abort();
    free(wide);
    free(pieces);
    free(lens);
    free(offs);
    toktext_free(&text);
    toktext_free(&labels);
    tokids_free(&ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    if (size > 0 && s[0] == 'L') {
        WordPiece *w = NULL;
        if (wordpiece_new_from_memory(&w, s + 1, size - 1, NULL) == 0) {
            TokIds ids = {0};
            const char *t = "[CLS] The café, 你好! [SEP]";
            wordpiece_encode(w, &ids, t, strlen(t)); // fails if no [UNK]: fine
            tokids_free(&ids);
            wordpiece_free(w);
        }
        return 0;
    }
    if (!uncased) {
        WordPieceOptions o = wordpiece_defaults();
        if (wordpiece_new_from_memory(&uncased, vocab, strlen(vocab), NULL))
            abort();
        o.lowercase = 0;
        if (wordpiece_new_from_memory(&cased, vocab, strlen(vocab), &o))
            abort();
    }
    check_text(uncased, s, size);
    check_text(cased, s, size);
    return 0;
}
