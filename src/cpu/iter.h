/*
 * iter.h: walking up to three same-shape strided views in step.
 *
 * Kernels see an outer loop over "rows" and an inner loop over the last
 * (collapsed) dimension with one stride per operand. Adjacent dims that are
 * laid out evenly for every operand are merged first, so contiguous and
 * scalar-broadcast operands become one long row that the compiler can
 * vectorise.
 */
#ifndef AT_CPU_ITER_H
#define AT_CPU_ITER_H

#include <stdint.h>

#include "../core/tensor.h"

#define ITER_MAXOPS 3

typedef struct Iter {
    int nops;
    int ndim;                                // >= 1 after collapsing
    int64_t shape[AT_MAXDIM];
    int64_t strides[ITER_MAXOPS][AT_MAXDIM]; // in elements
    float *base[ITER_MAXOPS];
    int64_t rows;                            // product of all but the last dim
    int64_t inner;                           // size of the last dim
} Iter;

/* ts[0..nops-1] all have the same shape (ts[0]'s). */
void iter_init(Iter *it, int nops, const Tensor *const *ts);

/* Pointers to the first element of row `row` (0 <= row < it->rows). */
void iter_row(const Iter *it, int64_t row, float **ptrs);

/* A borrowed header for t with dim removed: element 0 along dim of every
   slice. Lets a kernel walk the slices and scan dim itself. */
Tensor iter_without_dim(const Tensor *t, int dim);

/* fn(ctx, ptrs, n): n elements from ptrs, each operand at its inner stride. */
typedef int (*SegmentFn)(void *ctx, float **ptrs, int64_t n);

/* Every element, in segments of rows shared by the thread pool (a long
   row is cut too); Ctrl-C is checked between chunks, naming `who`. */
int iter_for(const Iter *it, const char *who, SegmentFn fn, void *ctx);
/* The same with chunks of `grain` elements (for elements that stand for
   more work than one float: a softmax's slices). */
int iter_for_grain(const Iter *it, const char *who, int64_t grain, SegmentFn fn, void *ctx);

/* Inner stride of operand k. */
static inline int64_t iter_step(const Iter *it, int k) { return it->strides[k][it->ndim - 1]; }

#endif
