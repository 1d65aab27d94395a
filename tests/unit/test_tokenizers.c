/*
 * test_tokenizers.c: UTF-8 helpers, Unicode classes, the GPT-2
 * pre-tokeniser, byte-level BPE on a small vocabulary written here,
 * WordPiece on a small vocab.txt, the char tokenizer and display labels.
 *
 * Every expected split and id list is derived by hand from the rules (the
 * comments say which rule); none comes from running this code. The real
 * GPT-2 and BERT vocabularies are not available offline, so no comparison
 * with them is made here.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/bpe.h"
#include "io/chars.h"
#include "io/unicode.h"
#include "io/wordpiece.h"
#include "tap.h"

/* ---- helpers ------------------------------------------------------------------ */

/* Pre-tokens of s joined with '|' (s must hold no '|'). */
static void split(char *out, size_t cap, const char *s, size_t n) {
    size_t i = 0, o = 0;
    out[0] = 0;
    while (i < n) {
        size_t k = bpe_pretoken(s + i, n - i);
        if (k == 0 || k > n - i || o + k + 2 > cap) {
            strcpy(out, "<bad length>");
            return;
        }
        if (o)
            out[o++] = '|';
        memcpy(out + o, s + i, k);
        o += k;
        out[o] = 0;
        i += k;
    }
}

static void check_split(const char *s, const char *want, const char *name) {
    char got[512];
    split(got, sizeof got, s, strlen(s));
    if (!ok(strcmp(got, want) == 0, "pretoken: %s", name))
        printf("#   got '%s', expected '%s'\n", got, want);
}

static int ids_eq(const TokIds *t, const int32_t *want, size_t n, const char *name) {
    int same = t->n == n;
    for (size_t i = 0; same && i < n; i++)
        same = t->ids[i] == want[i];
    ok(same, "%s", name);
    if (!same) {
        printf("#   got");
        for (size_t i = 0; i < t->n; i++)
            printf(" %d", t->ids[i]);
        printf(", expected");
        for (size_t i = 0; i < n; i++)
            printf(" %d", want[i]);
        printf("\n");
    }
    return same;
}

/* ---- UTF-8 and classes ------------------------------------------------------------- */

static void test_utf8(void) {
    size_t len;
    ok(utf8_next("\xE4\xBD\xA0", 3, &len) == 0x4F60 && len == 3, "utf8: 你 is U+4F60");
    ok(utf8_next("\xF0\x9F\x91\x8B", 4, &len) == 0x1F44B && len == 4, "utf8: 4-byte emoji");
    ok(utf8_next("\xC0\xAF", 2, &len) == UNI_INVALID && len == 1, "utf8: overlong C0 AF");
    ok(utf8_next("\xED\xA0\x80", 3, &len) == UNI_INVALID && len == 1, "utf8: surrogate");
    ok(utf8_next("\xF4\x90\x80\x80", 4, &len) == UNI_INVALID, "utf8: above U+10FFFF");
    ok(utf8_next("\xE4\xBD", 2, &len) == UNI_INVALID && len == 1, "utf8: truncated");
    ok(utf8_next("\xC3\x28", 2, &len) == UNI_INVALID && len == 1, "utf8: bad continuation");
    char b[4];
    ok(utf8_put(b, 0x20AC) == 3 && memcmp(b, "\xE2\x82\xAC", 3) == 0, "utf8: put €");
    ok(utf8_put(b, 0xD800) == 0 && utf8_put(b, 0x110000) == 0, "utf8: put refuses non-scalars");
    ok(uni_is_letter(0x4F60) && uni_is_letter('a') && uni_is_letter(0xE9) &&
           !uni_is_letter('1') && !uni_is_letter(0x301),
       "classes: letters (你 a é) and not (1, U+0301)");
    ok(uni_is_number('7') && uni_is_number(0x663) && uni_is_number(0x216B) &&
           uni_is_number(0xB2) && !uni_is_number('x'),
       "classes: numbers Nd (7, ٣), Nl (Ⅻ), No (²)");
    ok(uni_is_space(' ') && uni_is_space(0xA0) && uni_is_space(0x3000) && uni_is_space(0x85) &&
           !uni_is_space(0x200B) && !uni_is_space(0x1C),
       "classes: White_Space has NBSP, ideographic space, NEL; not ZWSP or U+001C");
    ok(uni_tolower('A') == 'a' && uni_tolower(0xC9) == 0xE9 && uni_tolower(0x391) == 0x3B1 &&
           uni_tolower(0x100) == 0x101 && uni_tolower(0x101) == 0x101 && uni_tolower('1') == '1',
       "lowercase: A É Α Ā map, ā and 1 stay");
    uint32_t d[UNI_DECOMP_MAX];
    int n = uni_decompose(d, 0x1EA5); // ấ = a + circumflex + acute, through U+00E2
    ok(n == 3 && d[0] == 'a' && d[1] == 0x302 && d[2] == 0x301, "nfd: ấ -> a U+0302 U+0301");
    n = uni_decompose(d, 0xD55C); // 한 = ᄒ ᅡ ᆫ (Hangul, algorithmic)
    ok(n == 3 && d[0] == 0x1112 && d[1] == 0x1161 && d[2] == 0x11AB, "nfd: 한 -> jamo");
}

/* ---- the pre-tokeniser ---------------------------------------------------------------- */

static void test_pretoken(void) {
    // ' ?\p{L}+': a space joins the letters after it
    check_split("Hello world", "Hello| world", "english words");
    // contractions are tried first, case-sensitively
    check_split("I'm here", "I|'m| here", "'m");
    check_split("don't", "don|'t", "'t");
    check_split("they're", "they|'re", "'re");
    check_split("it's we've you'll he'd", "it|'s| we|'ve| you|'ll| he|'d", "'s 've 'll 'd");
    // "'S" is no contraction: ' is [^\s\p{L}\p{N}], S a letter
    check_split("IT'S", "IT|'|S", "uppercase 'S is not a contraction");
    // 'll matches wherever an apostrophe is followed by ll
    check_split("'llama", "'ll|ama", "'ll at the start of a word");
    // ' ?[^\s\p{L}\p{N}]+' takes " '" before 's can be tried
    check_split("a 's", "a| '|s", "space before an apostrophe");
    check_split("abc123def", "abc|123|def", "letters and digits split");
    check_split("pi 3.14", "pi| 3|.|14", "numbers and a point");
    check_split("hello!!! world", "hello|!!!| world", "punctuation run");
    check_split(" !?", " !?", "space + punctuation");
    // '\s+(?!\S)': of two spaces before a letter, the first stands alone and
    // the second leads the word
    check_split("a  b", "a| | b", "two spaces");
    check_split("a     b", "a|    | b", "five spaces");
    // at the end of the text the whole run is one token
    check_split("a   ", "a|   ", "trailing spaces");
    check_split("   ", "   ", "only spaces");
    // "\n\n" before b: run less its last (\n), then '\s+' takes the lone \n
    check_split("a\n\nb", "a|\n|\n|b", "two newlines");
    check_split("x\ny", "x|\n|y", "one newline");
    check_split("a \nb", "a| |\n|b", "space then newline");
    check_split("a\t b", "a|\t| b", "tab then space-word");
    // accents: é is a letter; a combining acute (Mn) is not
    check_split("café", "café", "precomposed é is a letter");
    check_split("cafe\xCC\x81", "cafe|\xCC\x81", "combining acute is [^\\s\\p{L}\\p{N}]");
    // Chinese characters are letters (Lo)
    check_split("你好世界", "你好世界", "Chinese run");
    check_split("我 爱你", "我| 爱你", "Chinese with a space");
    // emoji are So, the skin tone modifier Sk: both 'other'
    check_split("hi \xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD", "hi| \xF0\x9F\x91\x8B\xF0\x9F\x8F\xBD",
                "emoji with modifier");
    // digits of other scripts (Nd) and superscripts (No) are numbers
    check_split("x\xC2\xB2", "x|\xC2\xB2", "superscript two is \\p{N}");
    check_split("\xD9\xA3\xD9\xA4 7", "\xD9\xA3\xD9\xA4| 7", "Arabic-Indic digits");
    // NBSP is \s but not U+0020: alone before a letter, '\s+' takes it
    check_split("a\xC2\xA0" "b", "a|\xC2\xA0|b", "no-break space");
    // bytes outside UTF-8 are [^\s\p{L}\p{N}] and run with punctuation
    check_split("ab\xFF\xFE" "cd", "ab|\xFF\xFE|cd", "invalid bytes");
    check_split("\xC3(x", "\xC3(|x", "broken lead byte joins '('");
    check_split("a \xE4\xBD", "a| \xE4\xBD", "truncated character after a space");
}

/* ---- BPE ------------------------------------------------------------------------------- */

/* JSON string of s in the byte-level alphabet, quoted and escaped. */
static void json_key(TokText *out, const char *s, size_t n) {
    toktext_add(out, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char u[4];
        uint32_t cp = bpe_byte_to_unicode((unsigned char)s[i]);
        if (cp == '"' || cp == '\\')
            toktext_add(out, "\\", 1);
        toktext_add(out, u, (size_t)utf8_put(u, cp));
    }
    toktext_add(out, "\"", 1);
}

/* Extra tokens after the 256 bytes (ids 256, 257, ...), written as raw
   text; merges use Ġ for the space byte, as GPT-2's files do. */
static const char *const extra[] = {"he", "ll", "hell", "hello", " h", " hello",
                                    "ab", "aba", "aa", "aaaa", "<|endoftext|>"};
enum { HE = 256, LL, HELL, HELLO, SP_H, SP_HELLO, AB, ABA, AA, AAAA, EOT };
static const char *merges_txt = "#version: 0.2\n"
                                "h e\n"         // rank 0
                                "l l\n"         // rank 1
                                "he ll\n"       // rank 2
                                "hell o\n"      // rank 3
                                "Ġ h\n"         // rank 4
                                "Ġ hello\n"     // rank 5
                                "ab a\n"        // rank 6: before "a b" on purpose
                                "a b\n"         // rank 7
                                "a a\n"         // rank 8
                                "aa aa\n";      // rank 9

static Bpe *make_bpe(void) {
    TokText v = {0};
    toktext_add(&v, "{", 1);
    char num[32];
    for (int b = 0; b < 256; b++) { // byte b has id b
        char c = (char)b;
        json_key(&v, &c, 1);
        snprintf(num, sizeof num, ": %d, ", b);
        toktext_add(&v, num, strlen(num));
    }
    for (int k = 0; k < (int)(sizeof extra / sizeof *extra); k++) {
        json_key(&v, extra[k], strlen(extra[k]));
        snprintf(num, sizeof num, ": %d%s", 256 + k,
                 k + 1 < (int)(sizeof extra / sizeof *extra) ? ", " : "}");
        toktext_add(&v, num, strlen(num));
    }
    Bpe *b = NULL;
    if (bpe_new_from_memory(&b, v.s, v.n, merges_txt, strlen(merges_txt)))
        printf("# bpe load failed: %s\n", at_errmsg());
    toktext_free(&v);
    return b;
}

static void check_bpe(Bpe *b, const char *s, const int32_t *want, size_t n, const char *name) {
    TokIds t = {0};
    if (bpe_encode(b, &t, s, strlen(s)))
        printf("# %s\n", at_errmsg());
    ids_eq(&t, want, n, name);
    tokids_free(&t);
}

static void test_bpe(void) {
    ok(bpe_byte_to_unicode('!') == '!' && bpe_byte_to_unicode(' ') == 0x120 &&
           bpe_byte_to_unicode(0) == 0x100 && bpe_byte_to_unicode(0xAD) == 0x143 &&
           bpe_byte_to_unicode(0x7F) == 0x121,
       "byte->unicode: ! stays, space is Ġ (U+0120), 0 is Ā, 0x7F is ġ, 0xAD is Ń");
    ok(bpe_unicode_to_byte(0x120) == ' ' && bpe_unicode_to_byte(0x144) == -1 &&
           bpe_unicode_to_byte(0xAD) == -1,
       "unicode->byte: Ġ is space; U+0144 and U+00AD stand for no byte");
    Bpe *b = make_bpe();
    if (!ok(b != NULL, "bpe: small vocab + merges load"))
        return;
    // "hello": h e l l o -> (h e)=0 -> he l l o -> (l l)=1 -> he ll o ->
    // (he ll)=2 -> hell o -> (hell o)=3 -> hello
    check_bpe(b, "hello", (int32_t[]){HELLO}, 1, "bpe: hello");
    // " hello": (Ġ h)=4 loses to (h e)=0, then as above, then (Ġ hello)=5
    check_bpe(b, " hello", (int32_t[]){SP_HELLO}, 1, "bpe: Ġhello");
    // " help": Ġ h e l p -> he (0) -> Ġ he l p: no pair ranked -> 4 tokens
    check_bpe(b, " help", (int32_t[]){' ', HE, 'l', 'p'}, 4, "bpe: Ġ he l p");
    check_bpe(b, "hello hello", (int32_t[]){HELLO, SP_HELLO}, 2, "bpe: two words (cached)");
    // "abab": only (a b)=7 is ranked; all its occurrences merge in one round
    // -> ab ab; (ab ab) has no rank. A merge-one-at-a-time heap would make
    // (ab a)=6 after the first and give aba b: encoder.py gives ab ab.
    check_bpe(b, "abab", (int32_t[]){AB, AB}, 2, "bpe: all occurrences of a rank merge at once");
    // "aba": (a b)=7 -> ab a -> (ab a)=6 -> aba
    check_bpe(b, "aba", (int32_t[]){ABA}, 1, "bpe: a lower rank after a higher one");
    // "aaa": (a a) left to right, non-overlapping -> aa a
    check_bpe(b, "aaa", (int32_t[]){AA, 'a'}, 2, "bpe: aaa -> aa a");
    check_bpe(b, "aaaaa", (int32_t[]){AAAA, 'a'}, 2, "bpe: aaaaa -> aa aa a -> aaaa a");
    // pre-tokens never merge across: "he llo" -> he | Ġ l l o (l l)=1 -> Ġ ll o
    check_bpe(b, "he llo", (int32_t[]){HE, ' ', LL, 'o'}, 4, "bpe: merges stay inside words");
    // "<|endoftext|>" is in the vocab but BPE never builds it from text
    check_bpe(b, "<|", (int32_t[]){'<', '|'}, 2, "bpe: <| is punctuation bytes");
    // invalid UTF-8 goes through as its bytes
    check_bpe(b, "\xFF" "a", (int32_t[]){0xFF, 'a'}, 2, "bpe: invalid byte is its own id");

    // round trips over awkward text
    const char *texts[] = {"Hello, world! It's 2024.", "  spaces   everywhere  ", "a\n\n\tb",
                           "café 你好 👋🏽", "bad \xFF\xC3( utf8 \xE4\xBD", ""};
    for (int k = 0; k < 6; k++) {
        TokIds t = {0};
        TokText d = {0};
        int st = bpe_encode(b, &t, texts[k], strlen(texts[k]));
        toktext_add(&d, "", 0);
        for (size_t i = 0; i < t.n && !st; i++) {
            const char *p;
            size_t n;
            st = bpe_token_bytes(b, t.ids[i], &p, &n);
            if (!st)
                toktext_add(&d, p, n);
        }
        ok(!st && d.n == strlen(texts[k]) && memcmp(d.s, texts[k], d.n) == 0,
           "bpe: decode(encode(s)) == s for text %d", k + 1);
        tokids_free(&t);
        toktext_free(&d);
    }
    TokText s = {0};
    ok(bpe_token_string(b, &s, SP_HELLO) == 0 && strcmp(s.s, "\xC4\xA0hello") == 0,
       "bpe: token string of id %d is Ġhello", SP_HELLO);
    ok(bpe_vocab_size(b) == EOT + 1, "bpe: vocab_size is largest id + 1");
    const char *p;
    size_t n;
    ok(bpe_token_bytes(b, 99999, &p, &n) == AT_EINVAL && strstr(at_errmsg(), "99999"),
       "bpe: unknown id is an error naming it");
    toktext_free(&s);
    bpe_free(b);
}

static int bpe_load_error(const char *vocab, const char *merges, const char *expect) {
    Bpe *b = NULL;
    int st = bpe_new_from_memory(&b, vocab, strlen(vocab), merges, strlen(merges));
    bpe_free(b);
    int good = st != 0 && strstr(at_errmsg(), expect) != NULL;
    if (!good)
        printf("#   status %d, message '%s'\n", st, st ? at_errmsg() : "");
    return good;
}

static void test_bpe_errors(void) {
    ok(bpe_load_error("[1,2]", "", "expected an object"), "bpe: vocab.json not an object");
    ok(bpe_load_error("{\"a\": -1}", "", "not an id"), "bpe: negative id");
    ok(bpe_load_error("{\"a\": 1.5}", "", "not an id"), "bpe: fractional id");
    ok(bpe_load_error("{\"a\": 0, \"b\": 0}", "", "two tokens"), "bpe: repeated id");
    ok(bpe_load_error("{\"a\": 0, \"b\": 1}", "a b\n", "merged token 'ab'"),
       "bpe: merge result missing");
    ok(bpe_load_error("{\"a\": 0, \"ab\": 1}", "a b\n", "token 'b' is not in vocab.json"),
       "bpe: merge part missing");
    ok(bpe_load_error("{\"a\": 0}", "a\n", "line 1"), "bpe: merge line with one token");
    ok(bpe_load_error("{\"a\": 0", "", "vocab.json"), "bpe: truncated JSON");
    Bpe *b;
    ok(bpe_new(&b, "/nonexistent/vocab.json", "/nonexistent/merges.txt") == AT_EIO &&
           strstr(at_errmsg(), "/nonexistent/vocab.json"),
       "bpe: a missing file is named");
    // a vocabulary without some byte: encoding that byte is an error
    const char *v = "{\"a\": 0}";
    ok(bpe_new_from_memory(&b, v, strlen(v), "", 0) == 0, "bpe: one-token vocab loads");
    TokIds t = {0};
    ok(bpe_encode(b, &t, "ab", 2) == AT_EINVAL && strstr(at_errmsg(), "0x62"),
       "bpe: byte without a token is an error naming it");
    tokids_free(&t);
    bpe_free(b);
}

/* ---- WordPiece --------------------------------------------------------------------------- */

static const char *vocab_txt = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n" // 0-4
                               "un\n##aff\n##able\nthe\ncafe\n"       // 5-9
                               ",\n!\nhello\n你\n好\n"                // 10-14
                               "##s\nrun\n##ning\na\n##a\n"           // 15-19
                               "Café\n";                              // 20

static void check_wp(const WordPiece *w, const char *s, const int32_t *want, size_t n,
                     const char *name) {
    TokIds t = {0};
    if (wordpiece_encode(w, &t, s, strlen(s)))
        printf("# %s\n", at_errmsg());
    ids_eq(&t, want, n, name);
    tokids_free(&t);
}

static void test_wordpiece(void) {
    WordPiece *w = NULL, *cased = NULL;
    WordPieceOptions o = wordpiece_defaults();
    ok(wordpiece_new_from_memory(&w, vocab_txt, strlen(vocab_txt), NULL) == 0, "wp: load");
    o.lowercase = 0;
    ok(wordpiece_new_from_memory(&cased, vocab_txt, strlen(vocab_txt), &o) == 0,
       "wp: load cased");
    if (!w || !cased)
        return;
    ok(wordpiece_vocab_size(w) == 21, "wp: vocab_size is the line count");
    // longest prefix "un", then "##aff", then "##able"
    check_wp(w, "unaffable", (int32_t[]){5, 6, 7}, 3, "wp: un ##aff ##able");
    // lowercase, punctuation split; "world" has no first piece -> [UNK]
    check_wp(w, "Hello, World!", (int32_t[]){12, 10, 1, 11}, 4, "wp: Hello, World!");
    // lowercase + accent strip: Café -> café -> cafe + U+0301 -> cafe
    check_wp(w, "Café", (int32_t[]){9}, 1, "wp: accent stripped");
    check_wp(w, "CAFE\xCC\x81", (int32_t[]){9}, 1, "wp: combining accent stripped");
    // cased: no lowercase, no strip: "Café" is in the vocab as is
    check_wp(cased, "Café", (int32_t[]){20}, 1, "wp cased: Café kept");
    check_wp(cased, "Hello", (int32_t[]){1}, 1, "wp cased: Hello is [UNK]");
    // each CJK ideograph is a word of its own
    check_wp(w, "你好", (int32_t[]){13, 14}, 2, "wp: Chinese split per character");
    check_wp(w, "a你a", (int32_t[]){18, 13, 18}, 3, "wp: CJK inside a word splits it");
    // special tokens are cut out anywhere and kept whole
    check_wp(w, "[CLS] hello [SEP]", (int32_t[]){2, 12, 3}, 3, "wp: special tokens");
    check_wp(w, "hello[SEP]hello", (int32_t[]){12, 3, 12}, 3, "wp: special token inside text");
    check_wp(w, "[cls]", (int32_t[]){1, 1, 1}, 3, "wp: [cls] is not special: [ cls ]");
    check_wp(w, "runnings", (int32_t[]){16, 17, 15}, 3, "wp: run ##ning ##s");
    // an unmatchable rest makes the whole word [UNK]
    check_wp(w, "unx", (int32_t[]){1}, 1, "wp: un + unmatchable rest is [UNK]");
    // '$' is punctuation by BERT's ASCII rule (Unicode says Sc)
    check_wp(w, "a$a", (int32_t[]){18, 1, 18}, 3, "wp: $ splits");
    // control characters and invalid bytes vanish; tabs are spaces
    check_wp(w, "hel\x01lo\thel\xFFlo", (int32_t[]){12, 12}, 2, "wp: control and bad bytes");
    // 100 characters are matched (a ##a ##a ...); 101 are [UNK]
    char longw[102];
    memset(longw, 'a', 101);
    longw[100] = 0;
    TokIds t = {0};
    wordpiece_encode(w, &t, longw, 100);
    ok(t.n == 100 && t.ids[0] == 18 && t.ids[99] == 19, "wp: 100-character word matched");
    t.n = 0;
    longw[100] = 'a', longw[101] = 0;
    wordpiece_encode(w, &t, longw, 101);
    ok(t.n == 1 && t.ids[0] == 1, "wp: 101-character word is [UNK]");
    tokids_free(&t);
    TokText d = {0};
    ok(wordpiece_decode(w, &d, (int64_t[]){5, 6, 7, 12, 10}, 5) == 0 &&
           strcmp(d.s, "unaffable hello ,") == 0,
       "wp: decode glues ## pieces");
    toktext_free(&d);
    ok(wordpiece_decode(w, &d, (int64_t[]){21}, 1) == AT_EINVAL, "wp: decode of a bad id fails");
    toktext_free(&d);
    wordpiece_free(w);
    wordpiece_free(cased);
    // no [UNK] in the vocabulary: a word without pieces is an error
    ok(wordpiece_new_from_memory(&w, "a\n", 2, NULL) == 0, "wp: tiny vocab loads");
    t = (TokIds){0};
    ok(wordpiece_encode(w, &t, "b", 1) == AT_EINVAL && strstr(at_errmsg(), "[UNK]"),
       "wp: missing [UNK] is an error");
    tokids_free(&t);
    wordpiece_free(w);
    ok(wordpiece_new_from_memory(&w, "", 0, NULL) == AT_EFORMAT, "wp: empty vocab.txt fails");
}

/* ---- chars and labels ----------------------------------------------------------------------- */

static void test_chars(void) {
    CharTok *c = NULL;
    TokIds t = {0};
    chartok_new_open(&c);
    chartok_encode(c, &t, "a你\xFF", 5);
    ids_eq(&t, (int32_t[]){'a', 0x4F60, 0x110000 + 0xFF}, 3, "chars open: code points, bad byte");
    chartok_free(c);
    t.n = 0;
    const char *text = "banana 你";
    ok(chartok_new_from_text(&c, text, strlen(text)) == 0 && chartok_vocab_size(c) == 5,
       "chars from text: 5 distinct characters");
    // code point order: ' ' a b n 你
    chartok_encode(c, &t, "nab 你", 7);
    ids_eq(&t, (int32_t[]){3, 1, 2, 0, 4}, 5, "chars from text: ids in code point order");
    ok(chartok_encode(c, &t, "z", 1) == AT_EINVAL && strstr(at_errmsg(), "'z'"),
       "chars: unknown character is an error naming it");
    ok(chartok_set_unk(c, " ", 1) == 0, "chars: set unk");
    t.n = 0;
    chartok_encode(c, &t, "az", 2);
    ids_eq(&t, (int32_t[]){1, 0}, 2, "chars: unknown character maps to unk");
    chartok_free(c);
    tokids_free(&t);
    const char *bad[] = {"ab"};
    size_t badn[] = {2};
    ok(chartok_new_from_list(&c, bad, badn, 1) == AT_EINVAL && !c,
       "chars: a two-character entry is refused");
}

static void check_labels(const char *const *pieces, size_t n, int joined,
                         const char *const *want, const char *name) {
    TokText out = {0};
    size_t lens[8], offs[8];
    for (size_t i = 0; i < n; i++)
        lens[i] = strlen(pieces[i]);
    int good = tok_labels(&out, offs, pieces, lens, n, joined) == 0;
    for (size_t i = 0; good && i < n; i++)
        good = strcmp(out.s + offs[i], want[i]) == 0;
    ok(good, "labels: %s", name);
    for (size_t i = 0; !good && i < n; i++)
        printf("#   %zu: '%s' expected '%s'\n", i, out.s ? out.s + offs[i] : "", want[i]);
    toktext_free(&out);
}

static void test_labels(void) {
    // 你 = E4 BD A0 cut after its second byte: both pieces show it whole
    check_labels((const char *[]){" \xE4\xBD", "\xA0好"}, 2, 1,
                 (const char *[]){" 你", "你好"}, "a split character shows whole");
    check_labels((const char *[]){"\xE4", "\xBD", "\xA0"}, 3, 1,
                 (const char *[]){"你", "你", "你"}, "one character over three pieces");
    check_labels((const char *[]){"a\n", "\t", "\x01"}, 3, 1,
                 (const char *[]){"a\\n", "\\t", "\\x01"}, "control characters escaped");
    check_labels((const char *[]){"x\xFF", "\xE4\xBD"}, 2, 1,
                 (const char *[]){"x\\xFF", "\\xE4\\xBD"}, "invalid bytes as \\xNN");
    check_labels((const char *[]){"", "ab"}, 2, 1, (const char *[]){"", "ab"}, "empty piece");
    check_labels((const char *[]){"##ing", "\xE4\xBD"}, 2, 0,
                 (const char *[]){"##ing", "\\xE4\\xBD"}, "unjoined pieces stand alone");
}

int main(void) {
    plan(118);
    test_utf8();
    test_pretoken();
    test_bpe();
    test_bpe_errors();
    test_wordpiece();
    test_chars();
    test_labels();
    return tap_done();
}
