/*
 * iter.c: dimension collapsing and row addressing for strided kernels, and
 * the split of one walk over the thread pool.
 */
#include <config.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "iter.h"
#include "parallel.h"

// Elements per chunk of a shared walk: big enough that a chunk costs far
// more than handing it out, small enough that two threads both get work
// on a [64, 512] activation and that Ctrl-C is seen within a blink.
#define CHUNK_ELEMS ((int64_t)1 << 15)

/* Dims d and d+1 merge when, for every operand, stepping once along d is the
   same as stepping shape[d+1] times along d+1. */
static int mergeable(const Iter *it, int d) {
    for (int k = 0; k < it->nops; k++)
        if (it->strides[k][d] != it->strides[k][d + 1] * it->shape[d + 1])
            return 0;
    return 1;
}

void iter_init(Iter *it, int nops, const Tensor *const *ts) {
    const Tensor *t0 = ts[0];
    it->nops = nops;
    int nd = 0;
    // Drop size-1 dims: they never move any pointer.
    for (int d = 0; d < t0->ndim; d++) {
        if (t0->shape[d] == 1)
            continue;
        it->shape[nd] = t0->shape[d];
        for (int k = 0; k < nops; k++)
            it->strides[k][nd] = ts[k]->strides[d];
        nd++;
    }
    if (nd == 0) { // a scalar, or all dims of size 1
        it->shape[0] = 1;
        for (int k = 0; k < nops; k++)
            it->strides[k][0] = 1;
        nd = 1;
    }
    it->ndim = nd;
    // Merge from the right so inner rows grow as long as possible.
    for (int d = it->ndim - 2; d >= 0; d--) {
        if (!mergeable(it, d))
            continue;
        it->shape[d] *= it->shape[d + 1];
        for (int k = 0; k < nops; k++)
            it->strides[k][d] = it->strides[k][d + 1];
        for (int e = d + 1; e < it->ndim - 1; e++) {
            it->shape[e] = it->shape[e + 1];
            for (int k = 0; k < nops; k++)
                it->strides[k][e] = it->strides[k][e + 1];
        }
        it->ndim--;
    }
    for (int k = 0; k < nops; k++)
        it->base[k] = tensor_data(ts[k]);
    it->inner = it->shape[it->ndim - 1];
    it->rows = 1;
    for (int d = 0; d < it->ndim - 1; d++)
        it->rows *= it->shape[d];
}

void iter_row(const Iter *it, int64_t row, float **ptrs) {
    for (int k = 0; k < it->nops; k++)
        ptrs[k] = it->base[k];
    for (int d = it->ndim - 2; d >= 0; d--) {
        int64_t i = row % it->shape[d];
        row /= it->shape[d];
        for (int k = 0; k < it->nops; k++)
            ptrs[k] += i * it->strides[k][d];
    }
}

Tensor iter_without_dim(const Tensor *t, int dim) {
    Tensor v = *t;
    for (int i = dim; i < t->ndim - 1; i++) {
        v.shape[i] = t->shape[i + 1];
        v.strides[i] = t->strides[i + 1];
    }
    v.ndim = t->ndim - 1;
    return v;
}

typedef struct Walk {
    const Iter *it;
    SegmentFn fn;
    void *ctx;
    const char *who;
} Walk;

/* Elements [begin, end) of the walk in row-major order, as segments of
   rows: the first and last may be partial rows. Rows after the first are
   reached by stepping an odometer over the outer dims, not by dividing. */
static int walk_chunk(void *arg, int64_t begin, int64_t end) {
    const Walk *w = arg;
    const Iter *it = w->it;
    int64_t row = begin / it->inner, col = begin % it->inner, idx[AT_MAXDIM];
    float *p[ITER_MAXOPS];
    iter_row(it, row, p);
    for (int64_t r = row, d = it->ndim - 2; d >= 0; d--) {
        idx[d] = r % it->shape[d];
        r /= it->shape[d];
    }
    for (int64_t at = begin; at < end;) {
        int64_t n = it->inner - col < end - at ? it->inner - col : end - at;
        float *q[ITER_MAXOPS];
        for (int k = 0; k < it->nops; k++)
            q[k] = p[k] + col * it->strides[k][it->ndim - 1];
        int st = w->fn(w->ctx, q, n);
        if (st)
            return st;
        at += n;
        col = 0;
        // Next row: carry through the outer dims like an odometer.
        for (int d = it->ndim - 2; d >= 0; d--) {
            for (int k = 0; k < it->nops; k++)
                p[k] += it->strides[k][d];
            if (++idx[d] < it->shape[d])
                break;
            for (int k = 0; k < it->nops; k++)
                p[k] -= it->strides[k][d] * it->shape[d];
            idx[d] = 0;
        }
    }
    return at_check_interrupt(w->who) ? AT_EINTR : AT_OK;
}

int iter_for_grain(const Iter *it, const char *who, int64_t grain, SegmentFn fn, void *ctx) {
    Walk w = {it, fn, ctx, who};
    return parallel_for(it->rows * it->inner, grain, walk_chunk, &w);
}

int iter_for(const Iter *it, const char *who, SegmentFn fn, void *ctx) {
    return iter_for_grain(it, who, CHUNK_ELEMS, fn, ctx);
}
