/*
 * softmax.c: softmax along one dim on the CPU.
 *
 * Numerically stable: each slice is shifted by its max before exp, so the
 * largest term is exp(0) = 1 and nothing overflows. A slice that is all
 * -inf (every key masked) has no distribution; we write zeros there rather
 * than NaN, so a fully masked query attends to nothing. NaN inputs give NaN.
 */
#include <config.h>

#include <math.h>

#include "../core/error.h"
#include "cpu.h"
#include "iter.h"
#include "rows.h"
#include "vmath.h"

/* A contiguous slice on eight lanes: the max (and whether any NaN), the
   exps with their sum, the scaling. */
HOT static void softmax_row(float *o, const float *a, int64_t n) {
    const float ninf = -INFINITY;
    v8 best = {ninf, ninf, ninf, ninf, ninf, ninf, ninf, ninf}, x;
    v8i nan = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        LOAD8(x, a + i);
        nan |= x != x;
        best = v8_select(x > best, x, best);
    }
    float max = ninf;
    int any_nan = 0;
    for (int u = 0; u < 8; u++)
        max = best[u] > max ? best[u] : max, any_nan |= nan[u] != 0;
    for (; i < n; i++)
        max = a[i] > max ? a[i] : max, any_nan |= a[i] != a[i];
    if (any_nan || max == ninf) { // NaN in, NaN out; all masked: no distribution
        for (i = 0; i < n; i++)
            o[i] = any_nan ? NAN : 0.0f;
        return;
    }
    float sum = row_exp_sum(o, a, n, max);
    row_scale(o, n, 1.0f / sum);
}

/* Any strides (a softmax over a dim that is not the last). */
static void softmax_strided(float *o, const float *a, int64_t n, int64_t so, int64_t sa) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        float x = a[i * sa];
        if (x > max || x != x)
            max = x;
    }
    if (max == -INFINITY) {
        for (int64_t i = 0; i < n; i++)
            o[i * so] = 0.0f;
        return;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float e = expf(a[i * sa] - max);
        o[i * so] = e;
        sum += (double)e;
    }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++)
        o[i * so] *= inv;
}

typedef struct Softmax {
    int64_t n, so, sa; // slice length and the strides along it
    int64_t step_o, step_a; // from one slice to the next in a segment
} Softmax;

static int softmax_seg(void *ctx, float **p, int64_t count) {
    const Softmax *s = ctx;
    for (int64_t i = 0; i < count; i++) {
        float *o = p[0] + i * s->step_o;
        const float *a = p[1] + i * s->step_a;
        if (s->so == 1 && s->sa == 1)
            softmax_row(o, a, s->n);
        else
            softmax_strided(o, a, s->n, s->so, s->sa);
    }
    return AT_OK;
}

int cpu_softmax(Tensor *out, const Tensor *a, int dim) {
    Tensor o0 = iter_without_dim(out, dim), a0 = iter_without_dim(a, dim);
    const Tensor *ops[2] = {&o0, &a0};
    Iter it;
    iter_init(&it, 2, ops);
    Softmax s = {a->shape[dim], out->strides[dim], a->strides[dim], iter_step(&it, 0),
                 iter_step(&it, 1)};
    int64_t grain = s.n > 0 ? (1 << 15) / s.n : 1;
    return iter_for_grain(&it, "softmax", grain > 0 ? grain : 1, softmax_seg, &s);
}
