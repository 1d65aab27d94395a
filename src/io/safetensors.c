/*
 * safetensors.c: the safetensors reader and writer of safetensors.h.
 *
 * Reading validates the whole header before handing anything out, so that
 * the rest of the program can trust every StTensor: its bytes lie inside
 * the mapping and match its shape and dtype. Sizes are u64 and every
 * product is checked for overflow before it is compared with anything.
 * The data section is not aligned by the format, so values are read
 * through memcpy / byte assembly, never through a cast pointer.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.h"
#include "json.h"
#include "safetensors.h"

struct StFile {
    void *map; // the mmap'd file, or NULL for safetensors_parse images
    size_t map_len;
    char *path;
    JsonDoc *doc; // owns the strings that names and metadata point into
    StTensor *tensors;
    size_t n;
    StMeta *meta;
    size_t n_meta;
};

static const struct {
    const char *name;
    size_t size;
} dtypes[ST_NDTYPES] = {
    [ST_F32] = {"F32", 4},   [ST_F16] = {"F16", 2},         [ST_BF16] = {"BF16", 2},
    [ST_F64] = {"F64", 8},   [ST_I64] = {"I64", 8},         [ST_I32] = {"I32", 4},
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},           [ST_I8] = {"I8", 1},
    [ST_I16] = {"I16", 2},   [ST_U16] = {"U16", 2},         [ST_U32] = {"U32", 4},
    [ST_U64] = {"U64", 8},   [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *safetensors_dtype_name(StDtype d) {
    return (unsigned)d < ST_NDTYPES ? dtypes[d].name : "?";
}

size_t safetensors_dtype_size(StDtype d) { return (unsigned)d < ST_NDTYPES ? dtypes[d].size : 0; }

static uint64_t le64(const unsigned char *b) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

static int host_is_le(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* ---- reading: the header ------------------------------------------------- */

/* Context for messages: the file and the tensor being checked. */
typedef struct {
    const char *path;
    const char *name;
    uint64_t data_len;
} Ctx;

#define TERR(c, ...) tensor_error(c, __VA_ARGS__)

static int tensor_error(const Ctx *c, const char *fmt, ...) AT_PRINTF(2, 3);

static int tensor_error(const Ctx *c, const char *fmt, ...) {
    char rule[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    return at_error(AT_EFORMAT, "%s: tensor '%.100s': %s", c->path, c->name, rule);
}

/* "an array", "a number", ...: for "X is <type>" messages. */
static const char *a_type(const JsonValue *v) {
    switch (json_type(v)) {
    case JSON_ARRAY:
        return "an array";
    case JSON_OBJECT:
        return "an object";
    case JSON_STRING:
        return "a string";
    case JSON_NUMBER:
        return "a number";
    case JSON_NULL:
        return "null";
    default:
        return "a boolean";
    }
}

static int parse_dtype(const Ctx *c, const JsonDoc *doc, const JsonValue *v, StDtype *out) {
    const char *s = json_string(doc, v, NULL);
    if (!s)
        return TERR(c, "dtype is %s, expected a string such as \"F32\"", a_type(v));
    for (int d = 0; d < ST_NDTYPES; d++)
        if (!strcmp(s, dtypes[d].name)) {
            *out = (StDtype)d;
            return AT_OK;
        }
    return TERR(c,
                "unknown dtype \"%.40s\" (the format's dtypes: F32 F16 BF16 F64 I64 I32 "
                "BOOL U8 I8 I16 U16 U32 U64 F8_E4M3 F8_E5M2)",
                s);
}

static int parse_shape(const Ctx *c, const JsonDoc *doc, const JsonValue *v, StTensor *t) {
    if (json_type(v) != JSON_ARRAY)
        return TERR(c, "shape is %s, expected an array of sizes", a_type(v));
    if (json_count(v) > AT_MAXDIM)
        return TERR(c, "shape has %zu dims, more than the %d attnlab supports", json_count(v),
                    AT_MAXDIM);
    t->ndim = 0;
    uint64_t numel = 1;
    int overflow = 0;
    for (const JsonValue *e = json_first(doc, v); e; e = json_next(doc, e)) {
        int64_t d;
        if (!json_integer(&d, e, 0, INT64_MAX))
            return TERR(c, "shape entry %d is not a non-negative integer below 2^53", t->ndim + 1);
        t->shape[t->ndim++] = d;
        if (!overflow && __builtin_mul_overflow(numel, (uint64_t)d, &numel))
            overflow = 1;
    }
    // A zero anywhere makes the count 0 even if a prefix overflowed.
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] == 0)
            overflow = 0, numel = 0;
    char buf[200];
    if (overflow)
        return TERR(c, "shape %s overflows: its element count does not fit in 64 bits",
                    shape_format(buf, sizeof buf, t->ndim, t->shape));
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)dtypes[t->dtype].size, &nbytes))
        return TERR(c, "shape %s of %s overflows: its byte size does not fit in 64 bits",
                    shape_format(buf, sizeof buf, t->ndim, t->shape), dtypes[t->dtype].name);
    t->numel = (int64_t)(numel > INT64_MAX ? INT64_MAX : numel); // checked against bytes below
    t->end = nbytes; // provisional: the byte size, compared in parse_offsets
    return AT_OK;
}

static int parse_offsets(const Ctx *c, const JsonDoc *doc, const JsonValue *v, StTensor *t) {
    int64_t b, e;
    const JsonValue *first = json_first(doc, v);
    if (json_type(v) != JSON_ARRAY || json_count(v) != 2 ||
        !json_integer(&b, first, 0, INT64_MAX) ||
        !json_integer(&e, json_next(doc, first), 0, INT64_MAX))
        return TERR(c, "data_offsets must be an array of two non-negative integers [begin, end]");
    uint64_t need = t->end; // set by parse_shape
    char buf[200];
    if (b > e)
        return TERR(c, "data_offsets [%lld,%lld] are out of order (begin after end)", (long long)b,
                    (long long)e);
    if ((uint64_t)e > c->data_len)
        return TERR(c, "data_offsets [%lld,%lld] run past the end of the data (%llu bytes)",
                    (long long)b, (long long)e, (unsigned long long)c->data_len);
    if ((uint64_t)(e - b) != need)
        return TERR(c, "data_offsets [%lld,%lld] hold %lld bytes but shape %s of %s needs %llu",
                    (long long)b, (long long)e, (long long)(e - b),
                    shape_format(buf, sizeof buf, t->ndim, t->shape), dtypes[t->dtype].name,
                    (unsigned long long)need);
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    return AT_OK;
}

/* One header entry (an object with dtype, shape, data_offsets) into t. */
static int parse_entry(const Ctx *c, const JsonDoc *doc, const JsonValue *v, StTensor *t) {
    if (json_type(v) != JSON_OBJECT)
        return TERR(c, "entry is %s, expected an object with dtype, shape and data_offsets",
                    a_type(v));
    const JsonValue *dt = json_get(doc, v, "dtype"), *sh = json_get(doc, v, "shape");
    const JsonValue *off = json_get(doc, v, "data_offsets");
    if (!dt || !sh || !off)
        return TERR(c, "missing field \"%s\"", !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    if (json_count(v) != 3) {
        for (const JsonValue *m = json_first(doc, v); m; m = json_next(doc, m)) {
            const char *k = json_key(doc, m, NULL);
            if (strcmp(k, "dtype") && strcmp(k, "shape") && strcmp(k, "data_offsets"))
                return TERR(c, "unexpected field \"%.60s\" (expected dtype, shape, data_offsets)",
                            k);
        }
    }
    if (parse_dtype(c, doc, dt, &t->dtype) || parse_shape(c, doc, sh, t) ||
        parse_offsets(c, doc, off, t))
        return at_errcode();
    return AT_OK;
}

static int parse_meta(StFile *f, const JsonValue *v) {
    const JsonDoc *doc = f->doc;
    if (json_type(v) != JSON_OBJECT)
        return at_error(AT_EFORMAT, "%s: __metadata__ is %s, expected an object of strings",
                        f->path, a_type(v));
    f->meta = calloc(json_count(v) + 1, sizeof *f->meta);
    if (!f->meta)
        return at_error(AT_ENOMEM, "%s: out of memory for the metadata", f->path);
    for (const JsonValue *m = json_first(doc, v); m; m = json_next(doc, m)) {
        size_t klen, vlen;
        const char *key = json_key(doc, m, &klen), *val = json_string(doc, m, &vlen);
        if (!val)
            return at_error(AT_EFORMAT, "%s: __metadata__ entry '%.100s' is %s, expected a string",
                            f->path, key, a_type(m));
        if (strlen(key) != klen || strlen(val) != vlen)
            return at_error(AT_EFORMAT, "%s: __metadata__ entry '%.100s' holds a NUL character",
                            f->path, key);
        f->meta[f->n_meta++] = (StMeta){key, val};
    }
    return AT_OK;
}

static int by_offset(const void *a, const void *b) {
    const StTensor *x = *(const StTensor *const *)a, *y = *(const StTensor *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* No two non-empty tensors share a byte: sort by begin, compare neighbours. */
static int check_overlap(const StFile *f) {
    if (f->n < 2)
        return AT_OK;
    const StTensor **order = malloc(f->n * sizeof *order);
    if (!order)
        return at_error(AT_ENOMEM, "%s: out of memory", f->path);
    for (size_t i = 0; i < f->n; i++)
        order[i] = &f->tensors[i];
    qsort(order, f->n, sizeof *order, by_offset);
    const StTensor *prev = NULL;
    int st = AT_OK;
    for (size_t i = 0; i < f->n && !st; i++) {
        const StTensor *t = order[i];
        if (t->begin == t->end)
            continue; // empty: no bytes to share
        if (prev && t->begin < prev->end)
            st = at_error(
                AT_EFORMAT, "%s: tensors '%.100s' [%llu,%llu] and '%.100s' [%llu,%llu] overlap",
                f->path, prev->name, (unsigned long long)prev->begin, (unsigned long long)prev->end,
                t->name, (unsigned long long)t->begin, (unsigned long long)t->end);
        if (!prev || t->end > prev->end)
            prev = t;
    }
    free(order);
    return st;
}

/* Walk the header object: metadata and tensors. */
static int parse_header(StFile *f, const unsigned char *data, uint64_t data_len) {
    const JsonValue *root = json_root(f->doc);
    if (json_type(root) != JSON_OBJECT)
        return at_error(AT_EFORMAT, "%s: header is %s, expected a JSON object", f->path,
                        a_type(root));
    f->tensors = calloc(json_count(root) + 1, sizeof *f->tensors);
    if (!f->tensors)
        return at_error(AT_ENOMEM, "%s: out of memory for %zu tensors", f->path, json_count(root));
    for (const JsonValue *m = json_first(f->doc, root); m; m = json_next(f->doc, m)) {
        size_t klen;
        const char *name = json_key(f->doc, m, &klen);
        if (!strcmp(name, "__metadata__")) {
            if (parse_meta(f, m))
                return at_errcode();
            continue;
        }
        Ctx c = {f->path, name, data_len};
        if (strlen(name) != klen)
            return TERR(&c, "the name holds a NUL character");
        StTensor *t = &f->tensors[f->n];
        t->name = name;
        if (parse_entry(&c, f->doc, m, t))
            return at_errcode();
        t->data = data + t->begin;
        f->n++;
    }
    return check_overlap(f);
}

static int header_json(StFile *f, const unsigned char *b, uint64_t n) {
    JsonLimits lim = {ST_MAX_DEPTH, (size_t)n};
    if (json_parse(&f->doc, (const char *)b, (size_t)n, &lim)) {
        char why[512];
        snprintf(why, sizeof why, "%s", at_errmsg());
        return at_error(AT_EFORMAT, "%s: header: %s", f->path, why);
    }
    return AT_OK;
}

int safetensors_parse(StFile **out, const void *bytes, size_t size, const char *path) {
    const unsigned char *b = bytes;
    *out = NULL;
    if (size < 8)
        return at_error(AT_EFORMAT,
                        "%s: truncated: %zu bytes, fewer than the 8 of the header length", path,
                        size);
    uint64_t n = le64(b);
    if (n > ST_MAX_HEADER)
        return at_error(AT_EFORMAT, "%s: header length %llu is over the limit of %d bytes", path,
                        (unsigned long long)n, ST_MAX_HEADER);
    if (n > size - 8)
        return at_error(AT_EFORMAT,
                        "%s: header length %llu runs past the end of the file (%zu bytes follow "
                        "the length)",
                        path, (unsigned long long)n, size - 8);
    if (n == 0 || b[8] != '{')
        return at_error(AT_EFORMAT, "%s: header does not start with '{'", path);
    StFile *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        return at_error(AT_ENOMEM, "%s: out of memory", path);
    }
    if (header_json(f, b + 8, n) || parse_header(f, b + 8 + n, size - 8 - n)) {
        int st = at_errcode();
        safetensors_close(f);
        return st;
    }
    *out = f;
    return AT_OK;
}

int safetensors_open(StFile **out, const char *path) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return at_error(AT_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb)) {
        int e = errno;
        close(fd);
        return at_error(AT_EIO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return at_error(AT_EIO, "%s: not a regular file", path);
    }
    size_t size = (size_t)sb.st_size;
    void *map = NULL;
    if (size >= 8) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return at_error(AT_EIO, "%s: cannot map %zu bytes: %s", path, size, strerror(e));
        }
    }
    close(fd);
    int st = safetensors_parse(out, map, size, path);
    if (st) {
        if (map)
            munmap(map, size);
        return st;
    }
    (*out)->map = map;
    (*out)->map_len = size;
    return AT_OK;
}

void safetensors_close(StFile *f) {
    if (!f)
        return;
    if (f->map)
        munmap(f->map, f->map_len);
    json_free(f->doc);
    free(f->tensors);
    free(f->meta);
    free(f->path);
    free(f);
}

size_t safetensors_count(const StFile *f) { return f->n; }
const StTensor *safetensors_tensor(const StFile *f, size_t i) {
    return i < f->n ? &f->tensors[i] : NULL;
}
size_t safetensors_meta_count(const StFile *f) { return f->n_meta; }
const StMeta *safetensors_meta(const StFile *f, size_t i) {
    return i < f->n_meta ? &f->meta[i] : NULL;
}

const StTensor *safetensors_find(const StFile *f, const char *name) {
    for (size_t i = 0; i < f->n; i++)
        if (!strcmp(f->tensors[i].name, name))
            return &f->tensors[i];
    return NULL;
}

/* ---- reading: conversion to float ------------------------------------------ */

static float from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* IEEE half to float, exactly (every half is a float). */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = h >> 10 & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f) // inf, nan (payload kept)
        return from_bits(sign | 0x7f800000u | mant << 13);
    if (exp != 0)
        return from_bits(sign | (exp - 15 + 127) << 23 | mant << 13);
    // zero or subnormal: mant * 2^-24, exact in float
    float v = (float)mant * 0x1p-24f;
    return sign ? -v : v;
}

static uint64_t load_le(const unsigned char *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* Integers convert exactly up to 2^24; beyond, floats would silently round. */
static int int_to_float(float *dst, const unsigned char *src, int64_t numel, size_t size,
                        const StFile *f, const StTensor *t) {
    for (int64_t i = 0; i < numel; i++) {
        uint64_t u = load_le(src + (size_t)i * size, size);
        int64_t v = size == 8 ? (int64_t)u : (int64_t)(int32_t)(uint32_t)u;
        if (v > (1 << 24) || v < -(1 << 24))
            return at_error(AT_EFORMAT,
                            "%s: tensor '%.100s': %s value %lld at element %lld is too large "
                            "for float32 (exact only up to 2^24)",
                            f->path, t->name, dtypes[t->dtype].name, (long long)v, (long long)i);
        dst[i] = (float)v;
    }
    return AT_OK;
}

int safetensors_read_f32(float *dst, const StFile *f, const StTensor *t) {
    const unsigned char *s = t->data;
    int64_t n = t->numel;
    switch (t->dtype) {
    case ST_F32:
        if (host_is_le()) {
            memcpy(dst, s, (size_t)n * 4);
        } else {
            for (int64_t i = 0; i < n; i++)
                dst[i] = from_bits((uint32_t)load_le(s + i * 4, 4));
        }
        return AT_OK;
    case ST_F16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = half_to_float((uint16_t)(s[2 * i] | s[2 * i + 1] << 8));
        return AT_OK;
    case ST_BF16:
        for (int64_t i = 0; i < n; i++)
            dst[i] = from_bits((uint32_t)(s[2 * i] | s[2 * i + 1] << 8) << 16);
        return AT_OK;
    case ST_F64:
        for (int64_t i = 0; i < n; i++) {
            uint64_t u = load_le(s + i * 8, 8);
            double d;
            memcpy(&d, &u, sizeof d);
            dst[i] = (float)d;
        }
        return AT_OK;
    case ST_I64:
    case ST_I32:
        return int_to_float(dst, s, n, dtypes[t->dtype].size, f, t);
    default:
        return at_error(AT_EFORMAT,
                        "%s: tensor '%.100s': dtype %s cannot be read as float (attnlab reads "
                        "F32, F16, BF16, F64, I64, I32)",
                        f->path, t->name, dtypes[t->dtype].name);
    }
}

/* ---- writing ----------------------------------------------------------------- */

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} Buf;

static void put(Buf *b, const char *s, size_t n) {
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap : 256);
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void puts_(Buf *b, const char *s) { put(b, s, strlen(s)); }

/* A JSON string: quotes, backslashes and control characters escaped; other
   bytes as they are (the header is re-parsed, which rejects bad UTF-8). */
static void put_string(Buf *b, const char *s) {
    put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            put(b, esc, 6);
        } else {
            put(b, (const char *)&c, 1);
        }
    }
    put(b, "\"", 1);
}

/* The header JSON (padded so 8 + its length is a multiple of 8) and the
   total data size. */
static int build_header(Buf *b, uint64_t *data_len, const char *path, const StWrite *ts, size_t n,
                        const StMeta *meta, size_t n_meta) {
    char num[64];
    uint64_t off = 0;
    puts_(b, "{");
    if (n_meta) {
        puts_(b, "\"__metadata__\":{");
        for (size_t i = 0; i < n_meta; i++) {
            put_string(b, meta[i].key);
            puts_(b, ":");
            put_string(b, meta[i].value);
            puts_(b, i + 1 < n_meta ? "," : "}");
        }
    }
    for (size_t i = 0; i < n; i++) {
        int64_t numel;
        if (!strcmp(ts[i].name, "__metadata__"))
            return at_error(AT_EINVAL, "%s: \"__metadata__\" cannot name a tensor", path);
        char who[200];
        snprintf(who, sizeof who, "%.100s: tensor '%.60s'", path, ts[i].name);
        if (shape_check(who, ts[i].ndim, ts[i].shape, &numel))
            return at_errcode();
        uint64_t nbytes = (uint64_t)numel * 4;
        puts_(b, n_meta || i ? "," : "");
        put_string(b, ts[i].name);
        puts_(b, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < ts[i].ndim; d++) {
            snprintf(num, sizeof num, "%s%lld", d ? "," : "", (long long)ts[i].shape[d]);
            puts_(b, num);
        }
        snprintf(num, sizeof num, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off,
                 (unsigned long long)(off + nbytes));
        puts_(b, num);
        off += nbytes;
    }
    puts_(b, "}");
    while ((8 + b->len) % 8)
        puts_(b, " ");
    if (b->oom)
        return at_error(AT_ENOMEM, "%s: out of memory for the header", path);
    *data_len = off;
    return AT_OK;
}

static int write_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Floats as little-endian bytes: straight on little-endian hosts. */
static int write_floats(int fd, const float *x, int64_t n) {
    if (host_is_le())
        return write_all(fd, x, (size_t)n * 4);
    unsigned char chunk[4096];
    for (int64_t i = 0; i < n;) {
        size_t k = 0;
        for (; k < sizeof chunk && i < n; k += 4, i++) {
            uint32_t u;
            memcpy(&u, &x[i], 4);
            for (int j = 0; j < 4; j++)
                chunk[k + (size_t)j] = (unsigned char)(u >> 8 * j);
        }
        if (write_all(fd, chunk, k))
            return -1;
    }
    return 0;
}

static int write_body(int fd, const Buf *h, const StWrite *ts, size_t n) {
    unsigned char len8[8];
    for (int i = 0; i < 8; i++)
        len8[i] = (unsigned char)((uint64_t)h->len >> 8 * i);
    if (write_all(fd, len8, 8) || write_all(fd, h->s, h->len))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (write_floats(fd, ts[i].data, shape_numel(ts[i].ndim, ts[i].shape)))
            return -1;
    return fsync(fd);
}

/* fsync the folder holding path, so the rename itself is durable. */
static void sync_dir(const char *path) {
    char *dir = strdup(path);
    if (!dir)
        return;
    char *slash = strrchr(dir, '/');
    const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
    int fd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); // best effort: some file systems refuse it
        close(fd);
    }
    free(dir);
}

/* The file at a temporary name, then renamed over path. */
static int write_atomic(const char *path, const Buf *h, const StWrite *ts, size_t n) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return at_error(AT_ENOMEM, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return at_error(AT_EIO, "%s: cannot create a file beside it: %s", path, strerror(e));
    }
    mode_t mask = umask(0);
    umask(mask);
    int st = AT_OK;
    if (fchmod(fd, 0666 & ~mask) || write_body(fd, h, ts, n))
        st = at_error(AT_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (close(fd) && !st)
        st = at_error(AT_EIO, "%s: cannot write: %s", path, strerror(errno));
    if (!st && rename(tmp, path))
        st = at_error(AT_EIO, "%s: cannot rename the finished file into place: %s", path,
                      strerror(errno));
    if (st)
        unlink(tmp);
    else
        sync_dir(path);
    free(tmp);
    return st;
}

int safetensors_write(const char *path, const StWrite *ts, size_t n, const StMeta *meta,
                      size_t n_meta) {
    Buf h = {0};
    uint64_t data_len;
    JsonDoc *check = NULL;
    int st = build_header(&h, &data_len, path, ts, n, meta, n_meta);
    // Re-read what we wrote: catches duplicate names and invalid UTF-8 with
    // the parser's own messages, and keeps writer and reader in agreement.
    if (!st && h.len > ST_MAX_HEADER)
        st = at_error(AT_EINVAL, "%s: header of %zu bytes is over the limit of %d", path, h.len,
                      ST_MAX_HEADER);
    if (!st) {
        JsonLimits lim = {ST_MAX_DEPTH, h.len};
        if (json_parse(&check, h.s, h.len, &lim)) {
            char why[512];
            snprintf(why, sizeof why, "%s", at_errmsg());
            st = at_error(AT_EINVAL, "%s: bad tensor name or metadata: %s", path, why);
        }
    }
    if (!st)
        st = write_atomic(path, &h, ts, n);
    json_free(check);
    free(h.s);
    return st;
}
