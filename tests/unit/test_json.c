/*
 * test_json.c: the strict JSON parser on hand-checked texts: every value
 * kind, every escape (UTF-8 bytes written out by hand from the code
 * points), the tree helpers, a 50k-member object, and each error class
 * with its exact message and byte offset.
 */
#include <config.h>

#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/json.h"
#include "tap.h"

static JsonDoc *parse(const char *text, size_t len) {
    JsonDoc *d = NULL;
    if (json_parse(&d, text, len, NULL))
        printf("# unexpected error: %s\n", at_errmsg());
    return d;
}

/* text must fail with exactly msg. */
static void fails(const char *text, size_t len, const char *msg, const char *name) {
    JsonDoc *d = NULL;
    int st = json_parse(&d, text, len, NULL);
    int good = st != AT_OK && d == NULL && !strcmp(at_errmsg(), msg);
    ok(good, "%s", name);
    if (!good)
        printf("#   got \"%s\"\n#   expected \"%s\"\n", st ? at_errmsg() : "(no error)", msg);
    json_free(d);
}
#define FAILS(text, msg, name) fails(text, sizeof text - 1, msg, name)

/* A string value must decode to want[0..wlen). */
static void string_is(const char *text, const char *want, size_t wlen, const char *name) {
    JsonDoc *d = parse(text, strlen(text));
    size_t len = 0;
    const char *s = d ? json_string(d, json_root(d), &len) : NULL;
    ok(s && len == wlen && !memcmp(s, want, wlen) && s[len] == '\0', "%s", name);
    json_free(d);
}
#define STRING_IS(text, want, name) string_is(text, want, sizeof want - 1, name)

static void number_is(const char *text, double want, const char *name) {
    JsonDoc *d = parse(text, strlen(text));
    ok(d && json_type(json_root(d)) == JSON_NUMBER && json_number(json_root(d)) == want, "%s",
       name);
    json_free(d);
}

static void test_scalars(void) {
    const char *lits[] = {"true", "false", "null"};
    JsonType types[] = {JSON_TRUE, JSON_FALSE, JSON_NULL};
    for (int i = 0; i < 3; i++) {
        JsonDoc *d = parse(lits[i], strlen(lits[i]));
        ok(d && json_type(json_root(d)) == types[i], "literal %s", lits[i]);
        json_free(d);
    }
    number_is("0", 0.0, "0");
    number_is("-0", 0.0, "-0");
    number_is("42", 42.0, "42");
    number_is(" \t\r\n-17 \n", -17.0, "-17 inside whitespace");
    number_is("1.5e3", 1500.0, "1.5e3");
    number_is("-12.25E-2", -0.1225, "-12.25E-2");
    number_is("2E+2", 200.0, "2E+2");
    number_is("0.1", 0.1, "0.1 is the double nearest 0.1");
    number_is("1e-400", 0.0, "1e-400 underflows to 0");
    number_is("9007199254740993", 9007199254740992.0, "2^53+1 rounds to the nearest double");
    number_is("\xef\xbb\xbf"
              "7",
              7.0, "a UTF-8 byte order mark is skipped");
}

static void test_strings(void) {
    STRING_IS("\"\"", "", "empty string");
    STRING_IS("\"abc\"", "abc", "plain string");
    STRING_IS("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", "a\"b\\c/d\b\f\n\r\t", "the simple escapes");
    STRING_IS("\"\\u0041\\u00e9\"", "A\xc3\xa9", "\\u0041 is A, \\u00e9 is C3 A9");
    STRING_IS("\"\\u4ECA\\u5929\"", "\xe4\xbb\x8a\xe5\xa4\xa9",
              "\\u4ECA\\u5929 is the UTF-8 of 今天");
    STRING_IS("\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", "surrogate pair D83D DE00 is U+1F600");
    STRING_IS("\"\\udbff\\udfff\"", "\xf4\x8f\xbf\xbf", "surrogate pair DBFF DFFF is U+10FFFF");
    STRING_IS("\"\\u07ff\\u0800\\uffff\"", "\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf",
              "UTF-8 length boundaries 7FF, 800, FFFF");
    STRING_IS("\"a\\u0000b\"", "a\0b", "\\u0000 gives an embedded NUL, counted in the length");
    STRING_IS("\"\xe4\xbb\x8a \xf0\x9f\x98\x80\"", "\xe4\xbb\x8a \xf0\x9f\x98\x80",
              "raw UTF-8 passes through");
    STRING_IS("\"\x7f\"", "\x7f", "DEL needs no escape");
}

static void test_tree(void) {
    const char *text = "{\"a\": [1, 2, {\"b\": null}], \"c\": \"x\", \"\": true, \"d\": {}}";
    JsonDoc *d = parse(text, strlen(text));
    if (!d) {
        ok(0, "tree document parses");
        return;
    }
    const JsonValue *r = json_root(d);
    ok(json_type(r) == JSON_OBJECT && json_count(r) == 4, "root is an object of 4 members");
    const JsonValue *a = json_get(d, r, "a");
    ok(a && json_type(a) == JSON_ARRAY && json_count(a) == 3, "a is an array of 3");
    const JsonValue *e1 = json_first(d, a), *e2 = json_next(d, e1), *e3 = json_next(d, e2);
    ok(json_number(e1) == 1.0 && json_number(e2) == 2.0 && json_type(e3) == JSON_OBJECT &&
           json_next(d, e3) == NULL,
       "array elements in order, then NULL");
    const JsonValue *b = json_get(d, e3, "b");
    ok(b && json_type(b) == JSON_NULL, "nested a[3].b is null");
    size_t len;
    const JsonValue *c = json_get(d, r, "c");
    ok(c && !strcmp(json_string(d, c, &len), "x") && len == 1, "c is \"x\"");
    const JsonValue *empty = json_get(d, r, "");
    ok(empty && json_type(empty) == JSON_TRUE, "the empty key is a key");
    const JsonValue *dd = json_get(d, r, "d");
    ok(dd && json_count(dd) == 0 && json_first(d, dd) == NULL, "d is an empty object");
    ok(json_get(d, r, "zz") == NULL && json_get(d, a, "a") == NULL,
       "missing key and json_get on an array give NULL");
    const char *keys[] = {"a", "c", "", "d"};
    int i = 0, order = 1;
    for (const JsonValue *m = json_first(d, r); m; m = json_next(d, m), i++)
        order = order && i < 4 && !strcmp(json_key(d, m, NULL), keys[i]);
    ok(order && i == 4, "members come in text order with their keys");
    ok(json_string(d, e1, &len) == NULL && len == 0, "json_string of a number is NULL");
    ok(!strcmp(json_type_name(JSON_OBJECT), "object") &&
           !strcmp(json_type_name(JSON_NUMBER), "number"),
       "type names");
    json_free(d);
}

static void test_integer(void) {
    const char *text = "[3, -4, 2.5, 9007199254740992, 1e300, \"7\", 9007199254740991]";
    JsonDoc *d = parse(text, strlen(text));
    if (!d) {
        ok(0, "integer document parses");
        return;
    }
    const JsonValue *v = json_first(d, json_root(d));
    int64_t x = 0;
    ok(json_integer(&x, v, 0, 10) && x == 3, "3 is an integer in [0,10]");
    ok(!json_integer(&x, v, 4, 10), "3 is not in [4,10]");
    v = json_next(d, v);
    ok(json_integer(&x, v, -10, 10) && x == -4 && !json_integer(&x, v, 0, 10),
       "-4 is in [-10,10], not in [0,10]");
    v = json_next(d, v);
    ok(!json_integer(&x, v, -10, 10), "2.5 is not an integer");
    v = json_next(d, v);
    ok(!json_integer(&x, v, 0, INT64_MAX), "2^53 is refused (2^53+1 would read as it)");
    v = json_next(d, v);
    ok(!json_integer(&x, v, 0, INT64_MAX), "1e300 is past 2^53");
    v = json_next(d, v);
    ok(!json_integer(&x, v, 0, 10), "a string is not an integer");
    v = json_next(d, v);
    ok(json_integer(&x, v, 0, INT64_MAX) && x == 9007199254740991LL, "2^53-1 is exact");
    json_free(d);
}

/* A vocab.json-sized object: 50k members, each found with its value. */
static void test_big_object(void) {
    const int n = 50000;
    size_t cap = (size_t)n * 32 + 64, len = 0;
    char *text = malloc(cap);
    len += (size_t)snprintf(text, cap, "{");
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, "%s\"tok%d\\u00e9\":%d", i ? "," : "", i, i);
    len += (size_t)snprintf(text + len, cap - len, "}");
    JsonDoc *d = parse(text, len);
    int good = d && json_count(json_root(d)) == (size_t)n;
    int i = 0;
    for (const JsonValue *m = d ? json_first(d, json_root(d)) : NULL; m && good;
         m = json_next(d, m), i++) {
        char want[32];
        snprintf(want, sizeof want, "tok%d\xc3\xa9", i);
        good = !strcmp(json_key(d, m, NULL), want) && json_number(m) == i;
    }
    ok(good && i == n, "a 50000-member object: every key and value");
    json_free(d);
    // The same with one duplicate at the end: found, with its offset.
    len -= 1;
    len += (size_t)snprintf(text + len, cap - len, ",\"tok0\\u00e9\":1}");
    char msg[128];
    snprintf(msg, sizeof msg, "json: byte %zu: duplicate key \"tok0\xc3\xa9\" in an object",
             len - 15); // the quote after the comma
    fails(text, len, msg, "a duplicate after 50000 members is found");
    free(text);
}

static void test_errors(void) {
    const char *val = "a value (object, array, string, number, true, false, null)";
    char msg[200];
    FAILS("", "json: byte 0: expected a value, found the end of the text", "empty text");
    FAILS("  ", "json: byte 2: expected a value, found the end of the text", "only whitespace");
    snprintf(msg, sizeof msg, "json: byte 3: expected %s, found ']'", val);
    fails("[1,]", 4, msg, "trailing comma in an array");
    FAILS("{\"a\":1,}", "json: byte 7: expected a string key, found '}'",
          "trailing comma in an object");
    FAILS("{'a':1}", "json: byte 1: expected a string key, found '''", "single-quoted key");
    FAILS("{\"a\" 1}", "json: byte 5: expected ':' after an object key, found '1'",
          "missing colon");
    FAILS("{\"a\":1 \"b\":2}",
          "json: byte 7: expected ',' or '}' after an object member, found '\"'",
          "missing comma in an object");
    FAILS("[1 2]", "json: byte 3: expected ',' or ']' after an array element, found '2'",
          "missing comma in an array");
    FAILS("[1",
          "json: byte 2: expected ',' or ']' after an array element, found the end of the text",
          "unclosed array");
    FAILS("{\"a\":", "json: byte 5: expected a value, found the end of the text",
          "unclosed object");
    FAILS("1 2", "json: byte 2: expected the end of the text after the value, found '2'",
          "two values");
    FAILS("[1]\x00", "json: byte 3: expected the end of the text after the value, found byte 0x00",
          "a NUL after the value");
    snprintf(msg, sizeof msg, "json: byte 0: expected %s, found '/'", val);
    fails("// c\n1", 6, msg, "comments are not JSON");
    snprintf(msg, sizeof msg, "json: byte 0: expected %s, found 't'", val);
    fails("tru", 3, msg, "truncated literal");
    snprintf(msg, sizeof msg, "json: byte 0: expected %s, found 'N'", val);
    fails("NaN", 3, msg, "NaN is not JSON");
    snprintf(msg, sizeof msg, "json: byte 0: expected %s, found '+'", val);
    fails("+1", 2, msg, "a leading plus");
    snprintf(msg, sizeof msg, "json: byte 0: expected %s, found '.'", val);
    fails(".5", 2, msg, "a leading dot");
    FAILS("-", "json: byte 1: expected a digit, found the end of the text", "a lone minus");
    FAILS("-a", "json: byte 1: expected a digit, found 'a'", "minus then a letter");
    FAILS("01", "json: byte 0: a number with a leading zero", "leading zero");
    FAILS("[-012]", "json: byte 2: a number with a leading zero", "negative leading zero");
    FAILS("1.", "json: byte 2: expected a digit after the decimal point, found the end of the text",
          "1.");
    FAILS("1.e5", "json: byte 2: expected a digit after the decimal point, found 'e'", "1.e5");
    FAILS("1e", "json: byte 2: expected a digit in the exponent, found the end of the text", "1e");
    FAILS("1e+", "json: byte 3: expected a digit in the exponent, found the end of the text",
          "1e+");
    FAILS("[1e400]", "json: byte 1: a number too large for a double", "1e400 overflows");
    FAILS("-1e400", "json: byte 0: a number too large for a double", "-1e400 overflows");
    char longnum[600];
    memset(longnum, '1', 513);
    fails(longnum, 513, "json: byte 0: a number longer than 512 characters", "513-digit number");
    memset(longnum, '0', 512);
    longnum[1] = '.';
    longnum[511] = '5';
    JsonDoc *d = parse(longnum, 512); // 0.000...05 = 5e-510, underflows to 0
    ok(d && json_number(json_root(d)) == 0.0, "a 512-character number is not too long");
    json_free(d);
}

static void test_string_errors(void) {
    FAILS("\"abc", "json: byte 4: unterminated string (it starts at byte 0)",
          "unterminated string");
    FAILS("[\"a\\",
          "json: byte 4: expected an escape character after '\\', found the end of the text",
          "backslash at the end");
    FAILS("\"a\x01\"", "json: byte 2: control character 0x01 in a string (write it escaped)",
          "raw control character");
    FAILS("\"a\nb\"", "json: byte 2: control character 0x0a in a string (write it escaped)",
          "raw newline in a string");
    FAILS("\"\\x\"", "json: byte 2: expected one of \" \\ / b f n r t u after '\\', found 'x'",
          "unknown escape \\x");
    FAILS("\"\\'\"", "json: byte 2: expected one of \" \\ / b f n r t u after '\\', found '''",
          "\\' is not an escape");
    FAILS("\"\\u12G4\"", "json: byte 5: expected 4 hex digits after \\u, found 'G'",
          "bad hex digit");
    FAILS("\"\\u12", "json: byte 5: expected 4 hex digits after \\u, found the end of the text",
          "short \\u at the end");
    FAILS("\"\\ud83d\"",
          "json: byte 1: a high surrogate \\u escape not followed by a low surrogate",
          "lone high surrogate");
    FAILS("\"\\ud83dx\"",
          "json: byte 1: a high surrogate \\u escape not followed by a low surrogate",
          "high surrogate then a letter");
    FAILS("\"\\ude00\"",
          "json: byte 1: a low surrogate \\u escape without a high surrogate before it",
          "lone low surrogate");
    FAILS("\"\\ud83d\\u0041\"",
          "json: byte 7: expected a low surrogate (\\uDC00-\\uDFFF) after a high one",
          "high surrogate then \\u0041");
    FAILS("\"\xc0\xaf\"", "json: byte 1: invalid UTF-8 in a string", "overlong C0 AF");
    FAILS("\"\xe0\x80\xaf\"", "json: byte 1: invalid UTF-8 in a string", "overlong E0 80 AF");
    FAILS("\"\xed\xa0\x80\"", "json: byte 1: invalid UTF-8 in a string", "UTF-8-encoded surrogate");
    FAILS("\"\xf4\x90\x80\x80\"", "json: byte 1: invalid UTF-8 in a string", "past U+10FFFF");
    FAILS("\"ab\xe4\xbb\"", "json: byte 3: invalid UTF-8 in a string", "truncated sequence");
    FAILS("\"\x80\"", "json: byte 1: invalid UTF-8 in a string", "lone continuation byte");
    FAILS("\"\xff\"", "json: byte 1: invalid UTF-8 in a string", "byte FF");
}

static void test_limits(void) {
    char deep[200];
    // 64 arrays nest fine under the default limit of 64; 65 do not.
    for (int i = 0; i < 65; i++)
        deep[i] = '[', deep[65 + i] = ']';
    JsonDoc *d = parse(deep + 1, 128);
    ok(d != NULL, "64 nested arrays parse");
    json_free(d);
    fails(deep, 130, "json: byte 64: nesting deeper than the limit of 64", "65 nested arrays");
    JsonLimits lim = {2, 0};
    int st = json_parse(&d, "{\"a\":[[1]]}", 11, &lim);
    ok(st == AT_EFORMAT && !strcmp(at_errmsg(), "json: byte 6: nesting deeper than the limit of 2"),
       "a depth limit of 2 stops the third container");
    lim = (JsonLimits){0, 0};
    st = json_parse(&d, "5", 1, &lim);
    ok(st == AT_OK && json_number(json_root(d)) == 5.0, "depth 0 still allows a scalar");
    json_free(d);
    lim = (JsonLimits){8, 4};
    st = json_parse(&d, "[1,2]", 5, &lim);
    ok(st == AT_EINVAL && d == NULL &&
           !strcmp(at_errmsg(), "json: a text of 5 bytes is over the limit of 4"),
       "size limit");
    FAILS("{\"a\":1,\"b\":2,\"a\":3}", "json: byte 13: duplicate key \"a\" in an object",
          "duplicate key");
    d = parse("{\"a\":{\"a\":1},\"b\":{\"a\":2}}", 25);
    ok(d != NULL, "one key in different objects is no duplicate");
    json_free(d);
    FAILS("{\"a\\u0000\":1,\"a\\u0000\":2}", "json: byte 13: duplicate key \"a\" in an object",
          "keys with an escaped NUL compare by all their bytes");
    d = parse("{\"a\\u0000x\":1,\"a\\u0000y\":2}", 27);
    ok(d != NULL, "keys differing after a NUL are different");
    json_free(d);
}

/* strtod follows LC_NUMERIC; JSON's decimal point is always '.'. */
static void test_locale(void) {
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        skip("no locale with a decimal comma installed");
        return;
    }
    number_is("1.25", 1.25, "1.25 under a decimal-comma locale");
    setlocale(LC_NUMERIC, "C");
}

int main(void) {
    plan(104);
    test_scalars();
    test_strings();
    test_tree();
    test_integer();
    test_big_object();
    test_errors();
    test_string_errors();
    test_limits();
    test_locale();
    return tap_done();
}
