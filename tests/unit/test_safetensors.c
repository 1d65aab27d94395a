/*
 * test_safetensors.c: the safetensors reader and writer.
 *
 * Round trips through real files; F16, BF16, F64 and integer files built
 * here byte by byte from bit patterns whose values were worked out by hand
 * (listed beside each); and one image per malformed-file class, each
 * checked for its exact message. Malformed images go through
 * safetensors_parse (the same code open runs after mmap).
 */
#include <config.h>

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "io/safetensors.h"
#include "tap.h"

static char dir[64]; // a fresh folder for the files of this run

/* 8-byte little-endian length, header, data: a file image (malloc'd). */
static unsigned char *image(const char *header, const void *data, size_t dlen, size_t *size) {
    size_t n = strlen(header);
    unsigned char *b = malloc(8 + n + dlen + 1);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)n >> 8 * i);
    memcpy(b + 8, header, n);
    if (dlen)
        memcpy(b + 8 + n, data, dlen);
    *size = 8 + n + dlen;
    return b;
}

static int msg_is(const char *want) {
    if (!strcmp(at_errmsg(), want))
        return 1;
    printf("#   got      \"%s\"\n#   expected \"%s\"\n", at_errmsg(), want);
    return 0;
}

static int msg_has(const char *part) {
    if (strstr(at_errmsg(), part))
        return 1;
    printf("#   got \"%s\"\n#   lacking \"%s\"\n", at_errmsg(), part);
    return 0;
}

/* The image of header + dlen zero bytes must be refused with msg. */
static void bad(const char *header, size_t dlen, const char *msg, const char *name) {
    size_t size;
    unsigned char *zeros = calloc(dlen + 1, 1);
    unsigned char *b = image(header, zeros, dlen, &size);
    StFile *f = (StFile *)1;
    int st = safetensors_parse(&f, b, size, "f.st");
    ok(st == AT_EFORMAT && f == NULL && msg_is(msg), "%s", name);
    free(b);
    free(zeros);
}

/* The image must open; returns it (close it) and frees nothing else. */
static StFile *good(const unsigned char *b, size_t size, const char *name) {
    StFile *f = NULL;
    int st = safetensors_parse(&f, b, size, "f.st");
    ok(st == AT_OK && f != NULL, "%s", name);
    if (st)
        printf("#   %s\n", at_errmsg());
    return f;
}

/* ---- the header's framing ------------------------------------------------ */

static void test_framing(void) {
    unsigned char b[16] = {0};
    StFile *f;
    ok(safetensors_parse(&f, b, 5, "f.st") == AT_EFORMAT &&
           msg_is("f.st: truncated: 5 bytes, fewer than the 8 of the header length"),
       "a 5-byte file is truncated");
    b[0] = 100; // header length 100, 8 bytes follow
    ok(safetensors_parse(&f, b, 16, "f.st") == AT_EFORMAT &&
           msg_is("f.st: header length 100 runs past the end of the file (8 bytes follow the "
                  "length)"),
       "header length past the end of the file");
    uint64_t big = 100000001;
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(big >> 8 * i);
    ok(safetensors_parse(&f, b, 16, "f.st") == AT_EFORMAT &&
           msg_is("f.st: header length 100000001 is over the limit of 100000000 bytes"),
       "header length over 100 MB");
    memset(b, 0xff, 8);
    ok(safetensors_parse(&f, b, 16, "f.st") == AT_EFORMAT &&
           msg_has("header length 18446744073709551615 is over the limit"),
       "header length 2^64-1 (no wrap-around)");
    memset(b, 0, 8);
    ok(safetensors_parse(&f, b, 16, "f.st") == AT_EFORMAT &&
           msg_is("f.st: header does not start with '{'"),
       "header length 0");
    bad("[1]", 0, "f.st: header does not start with '{'", "a header that is not an object");
    bad("{\"a\":", 0, "f.st: header: json: byte 5: expected a value, found the end of the text",
        "truncated JSON");
    bad("{\"a\":1,}", 0, "f.st: header: json: byte 7: expected a string key, found '}'",
        "JSON with a trailing comma");
    bad("{\"x\":[[[[[[[[0]]]]]]]]}", 0,
        "f.st: header: json: byte 12: nesting deeper than the limit of 8", "JSON nested 9 deep");
    size_t size;
    unsigned char *img = image("{}    ", NULL, 0, &size);
    StFile *e = good(img, size, "an empty header padded with spaces opens");
    ok(e && safetensors_count(e) == 0 && safetensors_meta_count(e) == 0, "and holds nothing");
    safetensors_close(e);
    free(img);
}

/* ---- entries --------------------------------------------------------------- */

#define W(body) "{\"w\":{" body "}}"

static void test_entries(void) {
    bad(W("\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]"), 4,
        "f.st: tensor 'w': unknown dtype \"F17\" (the format's dtypes: F32 F16 BF16 F64 I64 I32 "
        "BOOL U8 I8 I16 U16 U32 U64 F8_E4M3 F8_E5M2)",
        "unknown dtype");
    bad(W("\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]"), 4,
        "f.st: tensor 'w': dtype is a number, expected a string such as \"F32\"",
        "dtype not a string");
    bad(W("\"dtype\":\"F32\",\"shape\":[1]"), 4, "f.st: tensor 'w': missing field \"data_offsets\"",
        "missing data_offsets");
    bad(W("\"shape\":[1],\"data_offsets\":[0,4]"), 4, "f.st: tensor 'w': missing field \"dtype\"",
        "missing dtype");
    bad(W("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1"), 4,
        "f.st: tensor 'w': unexpected field \"x\" (expected dtype, shape, data_offsets)",
        "unexpected field");
    bad("{\"w\":[1]}", 0,
        "f.st: tensor 'w': entry is an array, expected an object with dtype, shape and "
        "data_offsets",
        "entry not an object");
    bad(W("\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]"), 8,
        "f.st: tensor 'w': shape is a string, expected an array of sizes", "shape a string");
    bad(W("\"dtype\":\"F32\",\"shape\":[2,-1],\"data_offsets\":[0,8]"), 8,
        "f.st: tensor 'w': shape entry 2 is not a non-negative integer below 2^53",
        "negative size");
    bad(W("\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,8]"), 8,
        "f.st: tensor 'w': shape entry 1 is not a non-negative integer below 2^53",
        "fractional size");
    bad(W("\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]"), 4,
        "f.st: tensor 'w': shape has 9 dims, more than the 8 attnlab supports", "9 dims");
    bad(W("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]"), 4,
        "f.st: tensor 'w': data_offsets must be an array of two non-negative integers "
        "[begin, end]",
        "one offset");
    bad(W("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]"), 4,
        "f.st: tensor 'w': data_offsets must be an array of two non-negative integers "
        "[begin, end]",
        "a negative offset");
    bad("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"__metadata__\":[1]}", 4,
        "f.st: __metadata__ is an array, expected an object of strings", "metadata an array");
    bad("{\"__metadata__\":{\"k\":\"v\",\"n\":1}}", 0,
        "f.st: __metadata__ entry 'n' is a number, expected a string", "metadata value a number");
    bad("{\"a\\u0000b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
        "f.st: tensor 'a': the name holds a NUL character", "a name with a NUL");
}

/* ---- offsets and sizes ---------------------------------------------------- */

static void test_offsets(void) {
    bad(W("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]"), 8,
        "f.st: tensor 'w': data_offsets [8,4] are out of order (begin after end)",
        "offsets out of order");
    bad(W("\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]"), 4,
        "f.st: tensor 'w': data_offsets [0,8] run past the end of the data (4 bytes)",
        "offsets past the data");
    bad(W("\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]"), 24,
        "f.st: tensor 'w': data_offsets [0,20] hold 20 bytes but shape [2,3] of F32 needs 24",
        "byte length not shape x dtype size");
    bad(W("\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[0,12]"), 12,
        "f.st: tensor 'w': data_offsets [0,12] hold 12 bytes but shape [3] of BF16 needs 6",
        "BF16 counted at 2 bytes");
    bad(W("\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]"), 4,
        "f.st: tensor 'w': shape [4294967296,4294967296] overflows: its element count does not "
        "fit in 64 bits",
        "element count overflows");
    bad(W("\"dtype\":\"F32\",\"shape\":[2147483648,2147483648],\"data_offsets\":[0,4]"), 4,
        "f.st: tensor 'w': shape [2147483648,2147483648] of F32 overflows: its byte size does not "
        "fit in 64 bits",
        "byte size overflows");
    bad(W("\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,9007199254740993]"), 4,
        "f.st: tensor 'w': data_offsets must be an array of two non-negative integers "
        "[begin, end]",
        "an offset past 2^53");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
        12, "f.st: tensors 'a' [0,8] and 'b' [4,12] overlap", "overlapping tensors");
    bad("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
        "\"c\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}",
        12, "f.st: tensors 'c' [0,12] and 'b' [8,12] overlap", "overlap found in offset order");
    bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
        8, "f.st: tensors 'a' [0,8] and 'b' [0,8] overlap", "two tensors on the same bytes");
    const char *dup = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                      "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}";
    char msg[128];
    snprintf(msg, sizeof msg, "f.st: header: json: byte %d: duplicate key \"w\" in an object",
             (int)(strstr(dup + 2, "\"w\"") - dup));
    bad(dup, 8, msg, "duplicate names");
    // Allowed: gaps, empty tensors anywhere, a zero making an overflowing shape empty.
    size_t size;
    unsigned char data[16] = {0};
    unsigned char *b = image("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
                             "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[14,14]},"
                             "\"z\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,0],"
                             "\"data_offsets\":[0,0]}}",
                             data, 16, &size);
    StFile *f = good(b, size, "gaps, empty tensors and a zero-sized huge shape are accepted");
    const StTensor *z = f ? safetensors_find(f, "z") : NULL;
    ok(z && z->numel == 0 && z->ndim == 3 && safetensors_count(f) == 3, "z has 0 elements");
    safetensors_close(f);
    free(b);
}

/* ---- dtypes: hand-made bit patterns ---------------------------------------- */

static unsigned char *u16_image(const char *dtype, const uint16_t *bits, int n, size_t *size) {
    char header[160];
    unsigned char data[64];
    snprintf(header, sizeof header,
             "{\"t\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[0,%d]}}", dtype, n, 2 * n);
    for (int i = 0; i < n; i++)
        data[2 * i] = (unsigned char)(bits[i] & 0xff),
                 data[2 * i + 1] = (unsigned char)(bits[i] >> 8);
    return image(header, data, (size_t)(2 * n), size);
}

/* Read tensor t of image b; values must equal want (NaN matches NaN, the
   sign of zero and infinity checked). */
static void read_is(unsigned char *b, size_t size, const double *want, int n, const char *name) {
    StFile *f = NULL;
    float got[16];
    int st = safetensors_parse(&f, b, size, "f.st") ||
             safetensors_read_f32(got, f, safetensors_find(f, "t"));
    int same = !st;
    for (int i = 0; i < n && same; i++) {
        double g = (double)got[i];
        same = isnan(want[i]) ? isnan(g) : g == want[i] && !signbit(g) == !signbit(want[i]);
        if (!same)
            printf("#   element %d: got %.17g expected %.17g\n", i, g, want[i]);
    }
    ok(same, "%s", name);
    if (st)
        printf("#   %s\n", at_errmsg());
    safetensors_close(f);
    free(b);
}

static void test_dtypes(void) {
    size_t size;
    // F16: sign 1, exponent 5 (bias 15), mantissa 10.
    static const uint16_t h[] = {0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x03ff,
                                 0x0400, 0x8000, 0x7c00, 0xfc00, 0x7e00};
    const double hv[] = {
        1.0,                    // 0 01111 0: 2^0
        -2.0,                   // 1 10000 0: -2^1
        0.333251953125,         // 0 01101 0x155: (1 + 341/1024) / 4
        65504.0,                // 0 11110 0x3ff: (2 - 2^-10) * 2^15
        5.9604644775390625e-08, // subnormal 1 * 2^-24
        6.097555160522461e-05,  // subnormal 1023 * 2^-24
        6.103515625e-05,        // smallest normal 2^-14
        -0.0,
        (double)INFINITY,
        -(double)INFINITY,
        (double)NAN,
    };
    unsigned char *img = u16_image("F16", h, 11, &size);
    read_is(img, size, hv, 11, "F16 bit patterns to floats");
    // BF16: the top 16 bits of a float32.
    static const uint16_t bf[] = {0x3f80, 0xc040, 0x3eab, 0x7f7f, 0x0001, 0xff80, 0x7fc0, 0x8000};
    const double bv[] = {
        1.0,
        -3.0,                   // 1 10000000 1000000: -1.5 * 2
        0.333984375,            // 2^-2 * (1 + 43/128)
        3.3895313892515355e+38, // 2^127 * (1 + 127/128)
        9.1835496157991212e-41, // subnormal 2^16 * 2^-149 = 2^-133
        -(double)INFINITY,
        (double)NAN,
        -0.0,
    };
    img = u16_image("BF16", bf, 8, &size);
    read_is(img, size, bv, 8, "BF16 bit patterns to floats");
    // F64 0.5 = 0x3FE0000000000000, -1.25 = 0xBFF4000000000000 (little-endian bytes).
    unsigned char d[16] = {0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0, 0, 0, 0, 0xf4, 0xbf};
    const double dv[] = {0.5, -1.25};
    img = image("{\"t\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}", d, 16, &size);
    read_is(img, size, dv, 2, "F64 to floats");
    // I64 position ids 0..2 and -5; I32 16777216 = 2^24 (still exact).
    unsigned char i64[32] = {0};
    i64[8] = 1, i64[16] = 2;
    memset(i64 + 24, 0xff, 8), i64[24] = 0xfb;
    const double iv[] = {0, 1, 2, -5};
    img = image("{\"t\":{\"dtype\":\"I64\",\"shape\":[1,4],\"data_offsets\":[0,32]}}", i64, 32,
                &size);
    read_is(img, size, iv, 4, "I64 ids to floats");
    unsigned char i32[8] = {0, 0, 0, 1, 0xfd, 0xff, 0xff, 0xff};
    const double jv[] = {16777216.0, -3.0};
    img = image("{\"t\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", i32, 8, &size);
    read_is(img, size, jv, 2, "I32 to floats, 2^24 included");
    // 2^24 + 1 would round: an error naming the tensor.
    unsigned char big[16] = {0};
    big[8] = 1, big[11] = 1;
    unsigned char *b = image("{\"p\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                             "\"m\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[16,17]}}",
                             (unsigned char[17]){0}, 17, &size);
    memcpy(b + size - 17, big, 16);
    StFile *f = good(b, size, "a file with a BOOL tensor opens");
    float out[2];
    ok(f && safetensors_read_f32(out, f, safetensors_find(f, "p")) == AT_EFORMAT &&
           msg_is("f.st: tensor 'p': I64 value 16777217 at element 1 is too large for float32 "
                  "(exact only up to 2^24)"),
       "an I64 past 2^24 is refused");
    ok(f && safetensors_read_f32(out, f, safetensors_find(f, "m")) == AT_EFORMAT &&
           msg_is("f.st: tensor 'm': dtype BOOL cannot be read as float (attnlab reads F32, F16, "
                  "BF16, F64, I64, I32)"),
       "BOOL cannot be read as float");
    safetensors_close(f);
    free(b);
}

/* ---- files: write, open, atomic replace ------------------------------------- */

static int no_temp_files(void) {
    DIR *d = opendir(dir);
    int clean = d != NULL;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, ".tmp."))
            clean = 0;
    if (d)
        closedir(d);
    return clean;
}

static void test_round_trip(void) {
    char path[128];
    snprintf(path, sizeof path, "%s/rt.safetensors", dir);
    float w[6], bv[4] = {1e-30f, -0.0f, INFINITY, 3.5f}, s = 3.25f;
    for (int i = 0; i < 6; i++)
        w[i] = (float)i * 0.5f - 1.0f;
    int64_t sw[2] = {2, 3}, sb[1] = {4}, se[2] = {0, 5};
    StWrite ts[] = {{"w", 2, sw, w}, {"b", 1, sb, bv}, {"s", 0, NULL, &s}, {"e", 2, se, NULL}};
    StMeta meta[] = {{"format", "pt"}, {"note", "quote \" tab \t and \xe4\xbb\x8a"}};
    int st = safetensors_write(path, ts, 4, meta, 2);
    ok(st == AT_OK, "write 4 tensors and 2 metadata entries");
    if (st)
        printf("#   %s\n", at_errmsg());
    // The raw layout: u64 N, '{', data at a multiple of 8, offsets contiguous.
    FILE *fp = fopen(path, "rb");
    unsigned char raw[512] = {0};
    size_t got = fp ? fread(raw, 1, sizeof raw, fp) : 0;
    if (fp)
        fclose(fp);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | raw[i];
    ok(got == 8 + n + 44 && raw[8] == '{' && (8 + n) % 8 == 0 &&
           (raw[8 + n - 1] == ' ' || raw[8 + n - 1] == '}'),
       "u64 length, '{', header padded to 8 bytes, 44 data bytes");
    ok(strstr((char *)raw + 8,
              "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}") &&
           strstr((char *)raw + 8,
                  "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[40,44]}"),
       "header entries as the format writes them");
    StFile *f = NULL;
    st = safetensors_open(&f, path);
    ok(st == AT_OK && safetensors_count(f) == 4, "the file opens with 4 tensors");
    if (st) {
        printf("#   %s\n", at_errmsg());
        return;
    }
    const StTensor *t = safetensors_find(f, "w");
    float back[6];
    ok(t && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->dtype == ST_F32 &&
           !safetensors_read_f32(back, f, t) && !memcmp(back, w, sizeof w),
       "w: shape [2,3], values bit for bit");
    t = safetensors_find(f, "b");
    ok(t && !safetensors_read_f32(back, f, t) && !memcmp(back, bv, sizeof bv),
       "b: tiny, negative zero and infinity bit for bit");
    t = safetensors_find(f, "s");
    ok(t && t->ndim == 0 && t->numel == 1 && !safetensors_read_f32(back, f, t) && back[0] == s,
       "s: a 0-d scalar");
    t = safetensors_find(f, "e");
    ok(t && t->ndim == 2 && t->numel == 0 && t->begin == t->end, "e: empty [0,5]");
    ok(safetensors_find(f, "nope") == NULL, "an absent name is NULL");
    const StMeta *m0 = safetensors_meta(f, 0), *m1 = safetensors_meta(f, 1);
    ok(safetensors_meta_count(f) == 2 && !strcmp(m0->key, "format") && !strcmp(m0->value, "pt") &&
           !strcmp(m1->value, "quote \" tab \t and \xe4\xbb\x8a"),
       "metadata survives, escapes and UTF-8 included");
    safetensors_close(f);
    ok(no_temp_files(), "no temporary file is left behind");

    // Replace it; a failing write afterwards leaves the new file as it was.
    float one = 7.0f;
    int64_t s1[1] = {1};
    StWrite again[] = {{"x", 1, s1, &one}, {"x", 1, s1, &one}};
    ok(safetensors_write(path, again, 1, NULL, 0) == AT_OK, "overwrite with one tensor");
    ok(safetensors_write(path, again, 2, NULL, 0) == AT_EINVAL &&
           msg_has("bad tensor name or metadata: json: byte ") &&
           msg_has("duplicate key \"x\" in an object"),
       "duplicate names are refused by the writer");
    st = safetensors_open(&f, path);
    ok(st == AT_OK && safetensors_count(f) == 1 && safetensors_find(f, "x") &&
           !safetensors_read_f32(back, f, safetensors_find(f, "x")) && back[0] == 7.0f,
       "the failed write left the file intact");
    safetensors_close(f);
    ok(no_temp_files(), "still no temporary file");
}

static void test_write_errors(void) {
    char path[128], msg[256];
    snprintf(path, sizeof path, "%s/err.safetensors", dir);
    float v = 1;
    int64_t s1[1] = {1}, neg[1] = {-1};
    StWrite reserved = {"__metadata__", 1, s1, &v}, badutf = {"\xff", 1, s1, &v};
    StWrite negative = {"n", 1, neg, &v};
    snprintf(msg, sizeof msg, "%s: \"__metadata__\" cannot name a tensor", path);
    ok(safetensors_write(path, &reserved, 1, NULL, 0) == AT_EINVAL && msg_is(msg),
       "__metadata__ cannot name a tensor");
    ok(safetensors_write(path, &badutf, 1, NULL, 0) == AT_EINVAL &&
           msg_has("invalid UTF-8 in a string"),
       "a name that is not UTF-8");
    snprintf(msg, sizeof msg, "%s: tensor 'n': size -1 of dim 1 is negative", path);
    ok(safetensors_write(path, &negative, 1, NULL, 0) == AT_EINVAL && msg_is(msg),
       "a negative size");
    snprintf(path, sizeof path, "%s/no/such/x.safetensors", dir);
    snprintf(msg, sizeof msg, "%s: cannot create a file beside it: No such file or directory",
             path);
    ok(safetensors_write(path, &negative + 0, 0, NULL, 0) == AT_EIO && msg_is(msg),
       "a folder that does not exist");
    StFile *f;
    snprintf(msg, sizeof msg, "%s: cannot open: No such file or directory", path);
    ok(safetensors_open(&f, path) == AT_EIO && f == NULL && msg_is(msg), "open a missing file");
    snprintf(msg, sizeof msg, "%s: not a regular file", dir);
    ok(safetensors_open(&f, dir) == AT_EIO && msg_is(msg), "open a folder");
    snprintf(path, sizeof path, "%s/empty.safetensors", dir);
    fclose(fopen(path, "w"));
    snprintf(msg, sizeof msg, "%s: truncated: 0 bytes, fewer than the 8 of the header length",
             path);
    ok(safetensors_open(&f, path) == AT_EFORMAT && msg_is(msg), "open an empty file");
    remove(path);
}

int main(void) {
    snprintf(dir, sizeof dir, "test_safetensors.XXXXXX");
    if (!mkdtemp(dir)) {
        printf("1..0 # SKIP cannot make a folder here\n");
        return 0;
    }
    plan(69);
    test_framing();
    test_entries();
    test_offsets();
    test_dtypes();
    test_round_trip();
    test_write_errors();
    char path[128];
    snprintf(path, sizeof path, "%s/rt.safetensors", dir);
    remove(path);
    rmdir(dir);
    return tap_done();
}
