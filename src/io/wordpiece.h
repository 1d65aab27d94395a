/*
 * wordpiece.h: BERT's tokenizer: the basic tokenizer, then greedy
 * longest-match-first WordPiece over vocab.txt (one token per line, id =
 * line number - 1).
 *
 * Basic tokenizer, as Hugging Face's BertTokenizer (and Google's BERT):
 *   1. the special tokens [UNK] [CLS] [SEP] [PAD] [MASK] (those in the
 *      vocabulary) are cut out of the text wherever they stand, exactly
 *      (case-sensitive), and kept whole;
 *   2. clean: drop U+0000, U+FFFD and control characters (category C*,
 *      unassigned included, but not \t \n \r); whitespace (\t \n \r and Zs)
 *      becomes a space; bytes outside well-formed UTF-8 are dropped like
 *      U+FFFD (a Python str decoded with errors="replace" would hold that);
 *   3. put spaces around each CJK ideograph (BERT's ranges: U+4E00..9FFF,
 *      3400..4DBF, 20000..2A6DF, 2A700..2B73F, 2B740..2B81F, 2B820..2CEAF,
 *      F900..FAFF, 2F800..2FA1F), so each is a word of its own;
 *   4. split on whitespace; with lowercase, map each character to lower
 *      case (simple mapping, and U+0130 to "i" + U+0307 as Python does;
 *      Σ always becomes σ, as in Hugging Face's Rust tokenizers, where
 *      Python's str.lower writes ς at the end of a word);
 *      with strip_accents (default: same as lowercase), decompose (NFD)
 *      and drop nonspacing marks (Mn);
 *   5. every punctuation character (P*, and the ASCII symbols
 *      !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~) is a word of its own.
 * Then each word is cut greedily into the longest vocabulary entries from
 * the left, pieces after the first prefixed with "##"; a word of more than
 * 100 characters, or one with an unmatchable rest, becomes [UNK].
 * Not done: the NFC pass newer transformers versions add before step 4,
 * and canonical reordering inside NFD (only the order of marks that are
 * not Mn, which survive stripping, could differ: a very rare case).
 */
#ifndef AT_WORDPIECE_H
#define AT_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "chars.h"

typedef struct WordPiece WordPiece;

typedef struct WordPieceOptions {
    int lowercase;       // default 1 (bert-base-uncased)
    int strip_accents;   // -1: same as lowercase (BERT's default), 0 or 1
    int max_chars;       // words longer than this are [UNK]; default 100
    const char *unk;     // default "[UNK]"
} WordPieceOptions;

/* Defaults as above. */
WordPieceOptions wordpiece_defaults(void);

/* New tokenizer from vocab.txt, or from its contents (opt NULL: defaults). */
int wordpiece_new(WordPiece **out, const char *vocab_path, const WordPieceOptions *opt);
int wordpiece_new_from_memory(WordPiece **out, const char *vocab, size_t len,
                              const WordPieceOptions *opt);
void wordpiece_free(WordPiece *w); // NULL is a no-op

/* Append the ids of s[0..len) to out. Fails when a word needs [UNK] and the
   vocabulary has none, and on memory. */
int wordpiece_encode(const WordPiece *w, TokIds *out, const char *s, size_t len);
/* Token id's text as vocab.txt has it (borrowed). */
int wordpiece_token(const WordPiece *w, int64_t id, const char **bytes, size_t *len);
/* Text of ids: tokens joined by spaces, "##" pieces glued to the one before
   (Hugging Face's decode without its clean-up of spaces before punctuation). */
int wordpiece_decode(const WordPiece *w, TokText *out, const int64_t *ids, size_t n);
int64_t wordpiece_vocab_size(const WordPiece *w);

#endif
