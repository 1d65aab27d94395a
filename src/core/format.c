/*
 * format.c: tensor printing (see format.h).
 *
 * Two passes over the shown elements: the first picks one number format
 * and width for all of them, the second lays them out. Which elements are
 * shown is decided per dim: all of them, or the first and last EDGE when
 * the tensor is big (more than SUMMARY_AT elements) or a row is too wide.
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "format.h"

#define SUMMARY_AT 1000 // numpy's threshold
#define EDGE 3

typedef struct Buf {
    char *s;
    size_t len, cap;
    int failed;
} Buf;

static void put(Buf *b, const char *fmt, ...) AT_PRINTF(2, 3);
static void put(Buf *b, const char *fmt, ...) {
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->failed = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
}

typedef struct Style {
    enum { F_INT, F_FIXED, F_SCI } kind;
    int width;
    int show[AT_MAXDIM]; // per dim: 0 = all, else EDGE on each side
    const Tensor *t;
    int line_width;
} Style;

static float at(const Tensor *t, const int64_t *idx) {
    const float *p = (const float *)t->storage->data + t->offset;
    for (int d = 0; d < t->ndim; d++)
        p += idx[d] * t->strides[d];
    return *p;
}

static int fmt_value(char *out, size_t n, float v, int kind) {
    if (v != v)
        return snprintf(out, n, "nan");
    if (isinf(v))
        return snprintf(out, n, v > 0 ? "inf" : "-inf");
    if (kind == F_INT)
        return snprintf(out, n, "%.0f", (double)v);
    if (kind == F_FIXED)
        return snprintf(out, n, "%.4f", (double)v);
    return snprintf(out, n, "%.4e", (double)v);
}

/* Next shown index after i along dim d, or -1 at the end. */
static int64_t next_index(const Style *st, int d, int64_t i) {
    int64_t n = st->t->shape[d];
    if (++i >= n)
        return -1;
    if (st->show[d] && i == EDGE && n > 2 * EDGE)
        return n - EDGE;
    return i;
}

/* Visit every shown element (row-major) with fn. */
static void visit(const Style *st, void (*fn)(void *, float), void *ud) {
    const Tensor *t = st->t;
    int64_t idx[AT_MAXDIM] = {0};
    if (tensor_numel(t) == 0)
        return;
    for (;;) {
        fn(ud, at(t, idx));
        int d = t->ndim - 1;
        for (; d >= 0; d--) {
            int64_t nx = next_index(st, d, idx[d]);
            if (nx >= 0) {
                idx[d] = nx;
                break;
            }
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

typedef struct Range {
    int all_int;
    double max_abs, min_abs;
} Range;

static void scan(void *ud, float v) {
    Range *r = ud;
    if (!isfinite(v))
        return;
    double a = fabs((double)v);
    if (v != floorf(v) || a >= 1e9)
        r->all_int = 0;
    if (a > r->max_abs)
        r->max_abs = a;
    if (a > 0 && a < r->min_abs)
        r->min_abs = a;
}

static void widen(void *ud, float v) {
    Style *st = ud;
    char tmp[64];
    int n = fmt_value(tmp, sizeof tmp, v, st->kind);
    if (n > st->width)
        st->width = n;
}

static void choose_style(Style *st) {
    Range r = {1, 0.0, HUGE_VAL};
    visit(st, scan, &r);
    if (r.all_int)
        st->kind = F_INT;
    else if (r.max_abs >= 1e6 || (r.min_abs < 1e-4 && r.max_abs / r.min_abs > 1e3))
        st->kind = F_SCI;
    else
        st->kind = F_FIXED;
    st->width = 1;
    visit(st, widen, st);
}

/* One row (the last dim) at idx[0..ndim-2]. */
static void put_row(Buf *b, const Style *st, int64_t *idx) {
    const Tensor *t = st->t;
    int d = t->ndim - 1;
    for (int64_t i = 0; i >= 0; i = next_index(st, d, i)) {
        char tmp[64];
        idx[d] = i;
        fmt_value(tmp, sizeof tmp, at(t, idx), st->kind);
        put(b, "%s%*s", i ? "  " : "", st->width, tmp);
        if (st->show[d] && i == EDGE - 1 && t->shape[d] > 2 * EDGE)
            put(b, "  ...");
    }
    put(b, "\n");
}

/* A 2-d block (or a 1-d row) at the leading indices idx[0..ndim-3]. */
static void put_block(Buf *b, const Style *st, int64_t *idx) {
    const Tensor *t = st->t;
    if (t->ndim == 1) {
        put_row(b, st, idx);
        return;
    }
    int d = t->ndim - 2;
    for (int64_t i = 0; i >= 0; i = next_index(st, d, i)) {
        idx[d] = i;
        put_row(b, st, idx);
        if (st->show[d] && i == EDGE - 1 && t->shape[d] > 2 * EDGE)
            put(b, "%*s\n", st->width, "...");
    }
}

static void put_blocks(Buf *b, const Style *st) {
    const Tensor *t = st->t;
    int64_t idx[AT_MAXDIM] = {0};
    int lead = t->ndim - 2;
    for (;;) {
        put(b, "(");
        for (int d = 0; d < lead; d++)
            put(b, "%lld,", (long long)idx[d] + 1);
        put(b, ".,.) =\n");
        put_block(b, st, idx);
        int d = lead - 1;
        for (; d >= 0; d--) {
            int64_t nx = next_index(st, d, idx[d]);
            int skipped = nx > idx[d] + 1;
            if (nx >= 0) {
                idx[d] = nx;
                put(b, skipped ? "\n...\n\n" : "\n");
                break;
            }
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

static void put_footer(Buf *b, const Tensor *t, const char *device) {
    put(b, "[tensor ");
    if (t->ndim == 0)
        put(b, "scalar");
    for (int d = 0; d < t->ndim; d++)
        put(b, "%s%lld", d ? "x" : "", (long long)t->shape[d]);
    put(b, " %s]", device);
}

char *tensor_format(const Tensor *t, const char *device, int width) {
    Style st = {.t = t, .line_width = width};
    int summarise = tensor_numel(t) > SUMMARY_AT;
    for (int d = 0; d < t->ndim; d++)
        st.show[d] = summarise && t->shape[d] > 2 * EDGE;
    choose_style(&st);
    // A row wider than the line: show only the edges of the last dim.
    int last = t->ndim - 1;
    if (t->ndim > 0 && !st.show[last] && t->shape[last] > 2 * EDGE &&
        t->shape[last] * (st.width + 2) > width) {
        st.show[last] = 1;
        choose_style(&st);
    }
    Buf b = {malloc(256), 0, 256, 0};
    b.failed = b.s == NULL;
    if (t->ndim == 0) {
        char tmp[64];
        fmt_value(tmp, sizeof tmp, at(t, NULL), st.kind);
        put(&b, "%s\n", tmp);
    } else if (tensor_numel(t) > 0) {
        if (t->ndim <= 2) {
            int64_t idx[AT_MAXDIM] = {0};
            put_block(&b, &st, idx);
        } else {
            put_blocks(&b, &st);
        }
    }
    put_footer(&b, t, device);
    if (b.failed) {
        free(b.s);
        at_error(AT_ENOMEM, "tostring: out of memory");
        return NULL;
    }
    return b.s;
}
