/*
 * reduce.c: sum, mean, max, min, argmax, argmin over one dim on the CPU.
 *
 * sum/mean/max/min view `out` as a's shape with stride 0 along the reduced
 * dim and fold a into it, so the same walk handles every dim: reducing the
 * last dim gives rows folded into a scalar (summed in double for accuracy),
 * reducing an outer dim gives unit-stride rows added into out (vectorised).
 * argmax/argmin need the position along dim, so they scan it explicitly.
 * NaN wins max/min and argmax/argmin (as in numpy).
 */
#include <config.h>

#include <math.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"
#include "iter.h"

/* out as a tensor of a's shape, broadcast along dim. Not a new reference:
   a header on the stack that borrows out's storage. */
static Tensor spread_view(const Tensor *out, const Tensor *a, int dim) {
    Tensor v = *a;
    v.storage = out->storage;
    v.offset = out->offset;
    for (int i = 0, j = 0; i < a->ndim; i++)
        v.strides[i] = (i == dim) ? 0 : out->strides[j++];
    return v;
}

static void fold_row(ReduceOp op, float *o, const float *a, int64_t n, int64_t so, int64_t sa) {
    if (so == 0 && (op == RED_SUM || op == RED_MEAN)) {
        double acc = 0.0;
        for (int64_t i = 0; i < n; i++)
            acc += (double)a[i * sa];
        o[0] += (float)acc;
    } else if (op == RED_SUM || op == RED_MEAN) {
        if (so == 1 && sa == 1) // a row added into out: the loop that vectorises
            for (int64_t i = 0; i < n; i++)
                o[i] += a[i];
        else
            for (int64_t i = 0; i < n; i++)
                o[i * so] += a[i * sa];
    } else if (op == RED_MAX) {
        for (int64_t i = 0; i < n; i++) {
            float x = a[i * sa], y = o[i * so];
            o[i * so] = (x > y || x != x) && y == y ? x : y;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float x = a[i * sa], y = o[i * so];
            o[i * so] = (x < y || x != x) && y == y ? x : y;
        }
    }
}

static int fold(ReduceOp op, Tensor *out, const Tensor *a, int dim) {
    float init = op == RED_MAX ? -INFINITY : op == RED_MIN ? INFINITY : 0.0f;
    cpu_fill(out, init);
    Tensor spread = spread_view(out, a, dim);
    const Tensor *ops[2] = {&spread, a};
    Iter it;
    iter_init(&it, 2, ops);
    int64_t so = iter_step(&it, 0), sa = iter_step(&it, 1);
    for (int64_t r = 0; r < it.rows; r++) {
        float *p[2];
        iter_row(&it, r, p);
        fold_row(op, p[0], p[1], it.inner, so, sa);
        if ((r & 1023) == 1023 && at_check_interrupt("reduce"))
            return AT_EINTR;
    }
    if (op == RED_MEAN && a->shape[dim] > 0) {
        Tensor *o = out;
        const Tensor *ops1[1] = {o};
        iter_init(&it, 1, ops1);
        float scale = 1.0f / (float)a->shape[dim];
        for (int64_t r = 0; r < it.rows; r++) {
            float *p[1];
            iter_row(&it, r, p);
            for (int64_t i = 0; i < it.inner; i++)
                p[0][i * iter_step(&it, 0)] *= scale;
        }
    } else if (op == RED_MEAN) {
        cpu_fill(out, NAN); // the mean of nothing
    }
    return AT_OK;
}

/* The 0-based position of the first max (or min) of n values, stride s. */
static int64_t arg_extreme(const float *a, int64_t n, int64_t s, int want_max) {
    int64_t best = 0;
    float v = a[0];
    for (int64_t i = 1; i < n && v == v; i++) {
        float x = a[i * s];
        if (x != x || (want_max ? x > v : x < v)) {
            v = x;
            best = i;
        }
    }
    return best;
}

static int arg(ReduceOp op, Tensor *out, const Tensor *a, int dim) {
    if (a->shape[dim] == 0)
        return at_error(AT_EINVAL, "%s: dim %d is empty", op == RED_ARGMAX ? "argmax" : "argmin",
                        dim + 1);
    // First elements of each scan: a with dim fixed at 0, in step with out.
    Tensor first = iter_without_dim(a, dim);
    const Tensor *ops[2] = {out, &first};
    Iter it;
    iter_init(&it, 2, ops);
    int64_t n = a->shape[dim], s = a->strides[dim];
    for (int64_t r = 0; r < it.rows; r++) {
        float *p[2];
        iter_row(&it, r, p);
        for (int64_t i = 0; i < it.inner; i++)
            p[0][i * iter_step(&it, 0)] =
                (float)arg_extreme(p[1] + i * iter_step(&it, 1), n, s, op == RED_ARGMAX);
    }
    return AT_OK;
}

int cpu_reduce(ReduceOp op, Tensor *out, const Tensor *a, int dim) {
    if (op == RED_ARGMAX || op == RED_ARGMIN)
        return arg(op, out, a, dim);
    return fold(op, out, a, dim);
}
