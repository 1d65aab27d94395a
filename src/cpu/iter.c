/*
 * iter.c: dimension collapsing and row addressing for strided kernels.
 */
#include <config.h>

#include "iter.h"

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
