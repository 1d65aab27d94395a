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
#include "../core/interrupt.h"
#include "cpu.h"
#include "iter.h"

static void softmax_slice(float *o, const float *a, int64_t n, int64_t so, int64_t sa) {
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

int cpu_softmax(Tensor *out, const Tensor *a, int dim) {
    Tensor o0 = iter_without_dim(out, dim), a0 = iter_without_dim(a, dim);
    const Tensor *ops[2] = {&o0, &a0};
    Iter it;
    iter_init(&it, 2, ops);
    int64_t n = a->shape[dim];
    for (int64_t r = 0; r < it.rows; r++) {
        float *p[2];
        iter_row(&it, r, p);
        for (int64_t i = 0; i < it.inner; i++)
            softmax_slice(p[0] + i * iter_step(&it, 0), p[1] + i * iter_step(&it, 1), n,
                          out->strides[dim], a->strides[dim]);
        if ((r & 255) == 255 && at_check_interrupt("softmax"))
            return AT_EINTR;
    }
    return AT_OK;
}
