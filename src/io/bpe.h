/*
 * bpe.h: GPT-2's byte-level BPE tokenizer (vocab.json + merges.txt).
 *
 * Encoding follows OpenAI's encoder.py: the text is cut into pre-tokens by
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * (matched by hand in bpe_pretoken, with Unicode 15 classes; \s is
 * White_Space), each pre-token's UTF-8 bytes start as one symbol per byte,
 * and the adjacent pair of lowest merge rank is merged, all its occurrences
 * left to right, until no pair has a rank. Ids are vocab.json's own.
 *
 * Bytes outside well-formed UTF-8 (which a Python str cannot hold) belong
 * to the [^\s\p{L}\p{N}] class and are encoded as their own bytes, so
 * decode(encode(s)) == s for every byte string.
 *
 * vocab.json keys are in GPT-2's byte-to-unicode alphabet (printable
 * characters stand for themselves, the other bytes for U+0100..U+0143); a
 * key with a character outside that alphabet is kept as an added token: it
 * decodes to its own UTF-8 text and BPE never produces it. The text
 * "<|endoftext|>" encodes to that token's id when the vocabulary has it
 * (as Hugging Face's GPT-2 tokenizer does), never to its characters. Every merge must
 * name two tokens of the vocabulary whose concatenation is one too (as the
 * Hugging Face tokenizers library requires); a repeated merge keeps its
 * last rank, as encoder.py's dict does. A cache remembers short words.
 */
#ifndef AT_BPE_H
#define AT_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "chars.h"

typedef struct Bpe Bpe;

/* New tokenizer from the two files, or from their contents in memory. */
int bpe_new(Bpe **out, const char *vocab_path, const char *merges_path);
int bpe_new_from_memory(Bpe **out, const char *vocab_json, size_t vocab_len, const char *merges,
                        size_t merges_len);
void bpe_free(Bpe *b); // NULL is a no-op

/* Length in bytes of the pre-token at the start of s[0..n) (n > 0). */
size_t bpe_pretoken(const char *s, size_t n);

/* Append the ids of s[0..len) to out. Fails (AT_EINVAL) only for a byte
   that has no single-byte token in the vocabulary, and on memory. Not
   const: it fills the cache. */
int bpe_encode(Bpe *b, TokIds *out, const char *s, size_t len);
/* Token id's bytes as they decode (borrowed); AT_EINVAL for an unknown id. */
int bpe_token_bytes(const Bpe *b, int64_t id, const char **bytes, size_t *len);
/* Token id's string as vocab.json spells it ("Ġworld"), appended to out. */
int bpe_token_string(const Bpe *b, TokText *out, int64_t id);
/* One more than the largest id: the size an embedding table needs. */
int64_t bpe_vocab_size(const Bpe *b);

/* GPT-2's byte -> unicode code point mapping, and its inverse (-1 for a
   code point that stands for no byte). */
uint32_t bpe_byte_to_unicode(unsigned char b);
int bpe_unicode_to_byte(uint32_t cp);

#endif
