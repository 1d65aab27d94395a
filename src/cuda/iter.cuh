/*
 * iter.cuh: walking up to three same-shape strided views on the device.
 *
 * The host side (iter_init) drops size-1 dims and merges adjacent dims that
 * are evenly laid out for every operand, as the CPU's iter.c does, so the
 * common cases (contiguous, scalar broadcast, a broadcast row) become one
 * or two dims. The struct then goes to the kernel by value (264 bytes, well
 * under the 4 KiB parameter limit); each thread turns its linear element
 * index into one offset per operand by division from the innermost dim.
 *
 * Offsets are int64: a view of more than 2^31 elements is legal. The
 * element order is row-major over the first operand's shape, which is the
 * order of a fresh contiguous `out`, so writes of neighbouring threads land
 * on neighbouring addresses.
 */
#ifndef AT_CUDA_ITER_CUH
#define AT_CUDA_ITER_CUH

#include "../core/tensor.h"

#define ITER_MAXOPS 3

typedef struct Iter {
    int nops;
    int ndim; // >= 1 after collapsing
    int64_t shape[AT_MAXDIM];
    int64_t strides[ITER_MAXOPS][AT_MAXDIM]; // in elements
    int64_t numel;
    int contiguous; // every operand is one unit-stride run: offset = index
} Iter;

/* Dims d and d+1 merge when, for every operand, one step along d equals
   shape[d+1] steps along d+1. */
static inline int iter_mergeable(const Iter *it, int d) {
    for (int k = 0; k < it->nops; k++)
        if (it->strides[k][d] != it->strides[k][d + 1] * it->shape[d + 1])
            return 0;
    return 1;
}

/* ts[0..nops-1] all have ts[0]'s shape (the ops layer expanded them). */
static inline void iter_init(Iter *it, int nops, const Tensor *const *ts) {
    const Tensor *t0 = ts[0];
    int nd = 0;
    it->nops = nops;
    for (int d = 0; d < t0->ndim; d++) {
        if (t0->shape[d] == 1) // never moves a pointer
            continue;
        it->shape[nd] = t0->shape[d];
        for (int k = 0; k < nops; k++)
            it->strides[k][nd] = ts[k]->strides[d];
        nd++;
    }
    if (nd == 0) {
        it->shape[0] = 1;
        for (int k = 0; k < nops; k++)
            it->strides[k][0] = 1;
        nd = 1;
    }
    it->ndim = nd;
    for (int d = it->ndim - 2; d >= 0; d--) {
        if (!iter_mergeable(it, d))
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
    it->numel = 1;
    for (int d = 0; d < it->ndim; d++)
        it->numel *= it->shape[d];
    it->contiguous = it->ndim == 1;
    for (int k = 0; k < nops; k++)
        it->contiguous = it->contiguous && it->strides[k][0] == 1;
}

/* Offsets of element i (row-major over the shape) in each of the first
   NOPS operands. */
template <int NOPS>
__device__ __forceinline__ void iter_offsets(const Iter &it, int64_t i, int64_t *off) {
    if (it.contiguous) {
        for (int k = 0; k < NOPS; k++)
            off[k] = i;
        return;
    }
    for (int k = 0; k < NOPS; k++)
        off[k] = 0;
    for (int d = it.ndim - 1; d >= 0; d--) {
        int64_t n = it.shape[d], q = i / n, r = i - q * n;
        for (int k = 0; k < NOPS; k++)
            off[k] += r * it.strides[k][d];
        i = q;
    }
}

/* A borrowed header for t with dim removed: element 0 along dim of every
   slice (softmax and argmax walk dim themselves). */
static inline Tensor iter_without_dim(const Tensor *t, int dim) {
    Tensor v = *t;
    for (int i = dim; i < t->ndim - 1; i++) {
        v.shape[i] = t->shape[i + 1];
        v.strides[i] = t->strides[i + 1];
    }
    v.ndim = t->ndim - 1;
    return v;
}

#endif
