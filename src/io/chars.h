/*
 * chars.h: what every tokenizer shares (growing id and byte buffers,
 * display labels) and the UTF-8 character tokenizer.
 *
 * Character tokenizer: one token per code point (Chinese too); a byte that
 * is not part of well-formed UTF-8 is a token of its own holding that byte
 * (unicode.h's rule), so decode(encode(s)) == s for every byte string.
 * Two kinds of vocabulary:
 *   - open (chartok_new_open): id = code point, an invalid byte b has id
 *     0x110000 + b; vocab_size 0x110100. Needs no data, never fails on input.
 *   - closed (built from a text, or given as a list): ids 0..V-1; from a
 *     text they go in code point order with invalid bytes last. Encoding a
 *     character outside the vocabulary is an error naming it, unless the
 *     vocabulary has an unknown token (chartok_set_unk).
 */
#ifndef AT_CHARS_H
#define AT_CHARS_H

#include <stddef.h>
#include <stdint.h>

#include "strmap.h"

/* A growing list of token ids. Zero-initialise; free with tokids_free. */
typedef struct TokIds {
    int32_t *ids;
    size_t n, cap;
} TokIds;

int tokids_push(TokIds *t, int32_t id); // AT_OK or AT_ENOMEM
void tokids_free(TokIds *t);

/* A growing byte buffer (kept NUL-terminated when non-empty). */
typedef struct TokText {
    char *s;
    size_t n, cap;
} TokText;

int toktext_add(TokText *t, const char *s, size_t n); // AT_OK or AT_ENOMEM
void toktext_free(TokText *t);

/* Display labels, one per piece, written into out as consecutive
   NUL-terminated strings (label i starts at out->s + offs[i]).
   Characters print as themselves; \n \t \r as those escapes, other control
   characters as \xNN (below U+0080) or \u{NN}, bytes outside well-formed
   UTF-8 as \xNN. With joined, the pieces are read as one text (byte-level
   BPE): a character split over several pieces is shown whole in each piece
   that holds part of it, so "你" cut into two byte pieces reads "你" twice,
   never as U+FFFD. Without joined, each piece is shown on its own. */
int tok_labels(TokText *out, size_t *offs, const char *const *pieces, const size_t *lens,
               size_t n, int joined);

/* Read a whole file into a new buffer (*data, NUL-terminated, free with
   free); `who` starts the error message: "bpe: vocab file 'x' cannot be
   opened: No such file or directory". */
int tok_read_file(char **data, size_t *len, const char *path, const char *who);

typedef struct CharTok CharTok;

/* New tokenizers (free with chartok_free). */
int chartok_new_open(CharTok **out);
int chartok_new_from_text(CharTok **out, const char *text, size_t len);
/* From a list of n tokens, each exactly one character or one invalid byte;
   token i gets id i. Duplicates and multi-character entries are errors. */
int chartok_new_from_list(CharTok **out, const char *const *toks, const size_t *lens, size_t n);
void chartok_free(CharTok *t); // NULL is a no-op

/* Use token `unk` (which must be in the vocabulary) for characters outside
   a closed vocabulary. */
int chartok_set_unk(CharTok *t, const char *unk, size_t len);

/* Append the ids of s[0..len) to out. */
int chartok_encode(const CharTok *t, TokIds *out, const char *s, size_t len);
/* The bytes of token id (borrowed from t or from buf, which needs room for
   4 bytes); AT_EINVAL with a message for an id outside the vocabulary. */
int chartok_token(const CharTok *t, int64_t id, char buf[4], const char **bytes, size_t *len);
int64_t chartok_vocab_size(const CharTok *t);

#endif
