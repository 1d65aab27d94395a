/*
 * unicode.h: character classes and mappings the tokenizers need, over the
 * generated tables of unicode_tables.c (tools/gen_unicode.lua, Unicode 15.0)
 * and UTF-8 decoding and encoding.
 *
 * UTF-8 rule (one for every tokenizer): at each position, a well-formed
 * sequence (shortest form, no surrogates, at most U+10FFFF) is one code
 * point; otherwise exactly one byte is consumed and reported as invalid
 * (UNI_INVALID). Invalid bytes are never replaced by U+FFFD inside the
 * tokenizers, so byte-level BPE and the char tokenizer give the input back
 * byte for byte; only display labels (chars.h) show them, as \xNN.
 *
 * The tables hold only what the tokenizers use: GPT-2's \p{L}, \p{N}, \s;
 * BERT's punctuation, Zs, control/unassigned, nonspacing marks, simple
 * lowercase and canonical decomposition.
 */
#ifndef AT_UNICODE_H
#define AT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct UniRange {
    uint32_t lo, hi; // closed range
} UniRange;

typedef struct UniLowerRun {
    uint32_t lo, hi; // cp in [lo, hi] with (cp - lo) % step == 0 maps to cp + delta
    int32_t delta, step;
} UniLowerRun;

typedef struct UniDecomp {
    uint32_t cp, first, second; // second is 0 for a one-code-point mapping
} UniDecomp;

extern const UniRange uni_letter[], uni_number[], uni_space[], uni_punct[], uni_zs[],
    uni_mark[], uni_other[];
extern const int uni_letter_n, uni_number_n, uni_space_n, uni_punct_n, uni_zs_n, uni_mark_n,
    uni_other_n;
extern const UniLowerRun uni_lower[];
extern const int uni_lower_n;
extern const UniDecomp uni_decomp[];
extern const int uni_decomp_n;

/* What utf8_next reports for a byte that does not start a well-formed
   sequence. Above every code point, so no class test matches it. */
#define UNI_INVALID 0xFFFFFFFFu

/* Decode the code point at s[0..n) (n >= 1). Returns it (UNI_INVALID for
   a bad byte) and stores the number of bytes consumed (1..4) in *len. */
uint32_t utf8_next(const char *s, size_t n, size_t *len);
/* Write cp (<= U+10FFFF, not a surrogate) as UTF-8 to out (room for 4);
   returns the byte count, 0 for a value that is not a scalar value. */
int utf8_put(char *out, uint32_t cp);
/* Whether s[0..n) is entirely well-formed UTF-8. */
int utf8_valid(const char *s, size_t n);

/* Class tests (UNI_INVALID is in none of them). */
int uni_is_letter(uint32_t cp);     // L*
int uni_is_number(uint32_t cp);     // N*
int uni_is_space(uint32_t cp);      // White_Space
int uni_is_punct(uint32_t cp);      // P*
int uni_is_zs(uint32_t cp);         // Zs
int uni_is_mark(uint32_t cp);       // Mn
int uni_is_other(uint32_t cp);      // C* including unassigned
uint32_t uni_tolower(uint32_t cp);  // simple lowercase mapping, or cp
/* Full canonical decomposition of cp into out (room for UNI_DECOMP_MAX);
   returns the count (1 when cp does not decompose). Hangul syllables
   decompose algorithmically into conjoining jamo. Canonical reordering of
   combining marks is not done (see wordpiece.h for why it does not matter
   there). */
#define UNI_DECOMP_MAX 8
int uni_decompose(uint32_t *out, uint32_t cp);

#endif
