/*
 * reduce.cu: sum, mean, max, min, argmax, argmin over one dim on the GPU.
 *
 * `out` (a's shape without dim, contiguous) is walked with iter.cuh beside a
 * header of a with dim removed, which gives each output the first element
 * of its slice; the slice then runs n = a.shape[dim] elements at stride
 * s = a.strides[dim]. A group of G threads folds one slice, each thread a
 * strided share of it, then the group's first thread combines the G
 * partials in member order (shared memory, fixed order: the same result on
 * every run). How the groups lie decides whether loads coalesce:
 *   - s == 1 (the slice is contiguous): the members of a group are
 *     neighbouring threads reading neighbouring elements; G = 32, or 256
 *     for few long slices (a sum of everything);
 *   - s != 1 (an outer dim, e.g. a bias gradient over (B*T, C) rows): the
 *     neighbouring threads take neighbouring outputs, whose slices start at
 *     neighbouring addresses; G = 8 members stacked 32 threads apart split
 *     each slice, or G = 1 when there are outputs enough to fill the GPU.
 *
 * Numerics: sums accumulate in double (the CPU does so for contiguous rows),
 * mean = sum / n rounded once; max/min/argmax/argmin compare as the CPU:
 * NaN wins, and among equals the lowest index wins, which makes the
 * combination order irrelevant for the arg ops. max of nothing is -inf,
 * min +inf, sum 0, mean NaN; argmax of nothing is an error.
 */
#include <config.h>

#include "common.cuh"
#include "iter.cuh"

#define REDUCE_THREADS 256

typedef struct Best {
    float v;
    int64_t i;
} Best;

/* The better of two candidates: NaN first, then the larger (smaller) value,
   then the lower index. Commutative and associative. */
__device__ __forceinline__ Best better(Best a, Best b, bool want_max) {
    bool an = a.v != a.v, bn = b.v != b.v;
    if (an || bn) {
        if (an && bn)
            return a.i < b.i ? a : b;
        return an ? a : b;
    }
    if (a.v != b.v)
        return (want_max ? a.v > b.v : a.v < b.v) ? a : b;
    return a.i < b.i ? a : b;
}

/* G threads per slice; ADJ: members are neighbouring threads (else they
   stand REDUCE_THREADS / G apart and neighbouring threads are neighbouring
   outputs). `it` walks (out, a without dim). */
template <int G, bool ADJ>
__global__ void reduce_kernel(int op, float *out, const float *a, Iter it, int64_t n, int64_t s) {
    __shared__ double sums[REDUCE_THREADS];
    __shared__ Best bests[REDUCE_THREADS];
    const int per_block = REDUCE_THREADS / G;
    const int member = ADJ ? threadIdx.x % G : threadIdx.x / per_block;
    const int group = ADJ ? threadIdx.x / G : threadIdx.x % per_block;
    const bool is_sum = op == RED_SUM || op == RED_MEAN;
    const bool want_max = op == RED_MAX || op == RED_ARGMAX;
    // The loop bound is the same for the whole block, so every thread
    // reaches every __syncthreads.
    for (int64_t base = blockIdx.x * (int64_t)per_block; base < it.numel;
         base += (int64_t)gridDim.x * per_block) {
        int64_t o = base + group, off[2] = {0, 0};
        bool valid = o < it.numel;
        if (valid)
            iter_offsets<2>(it, o, off);
        double acc = 0.0;
        Best best = {want_max ? -INFINITY : INFINITY, INT64_MAX};
        for (int64_t k = member; valid && k < n; k += G) {
            float x = a[off[1] + k * s];
            if (is_sum)
                acc += (double)x;
            else
                best = better(best, Best{x, k}, want_max);
        }
        if (G > 1) {
            __syncthreads(); // the previous round's readers are done
            sums[threadIdx.x] = acc;
            bests[threadIdx.x] = best;
            __syncthreads();
            if (member == 0)
                for (int m = 1; m < G; m++) {
                    int t = ADJ ? threadIdx.x + m : threadIdx.x + m * per_block;
                    acc += sums[t];
                    best = better(best, bests[t], want_max);
                }
        }
        if (!valid || member != 0)
            continue;
        float r;
        if (op == RED_SUM)
            r = (float)acc;
        else if (op == RED_MEAN)
            r = n > 0 ? (float)(acc / (double)n) : NAN;
        else if (op == RED_ARGMAX || op == RED_ARGMIN)
            r = (float)best.i;
        else
            r = best.v;
        out[off[0]] = r;
    }
}

template <int G, bool ADJ>
static void launch(int op, float *out, const float *a, const Iter &it, int64_t n, int64_t s) {
    int64_t groups = (it.numel + REDUCE_THREADS / G - 1) / (REDUCE_THREADS / G);
    unsigned blocks = (unsigned)(groups > CUDA_MAX_BLOCKS ? CUDA_MAX_BLOCKS : groups);
    reduce_kernel<G, ADJ><<<blocks, REDUCE_THREADS>>>(op, out, a, it, n, s);
}

extern "C" int cuda_reduce(ReduceOp op, Tensor *out, const Tensor *a, int dim) {
    int64_t n = a->shape[dim], s = a->strides[dim];
    if ((op == RED_ARGMAX || op == RED_ARGMIN) && n == 0)
        return at_error(AT_EINVAL, "%s: dim %d is empty", op == RED_ARGMAX ? "argmax" : "argmin",
                        dim + 1);
    Tensor first = iter_without_dim(a, dim);
    const Tensor *ops[2] = {out, &first};
    Iter it;
    iter_init(&it, 2, ops);
    if (it.numel == 0)
        return AT_OK;
    float *o = tensor_data(out);
    const float *x = tensor_data(a);
    if (s == 1 || n == 1) {
        if (n <= 8)
            launch<1, true>(op, o, x, it, n, s);
        else if (n >= 2048 && it.numel <= 2048)
            launch<256, true>(op, o, x, it, n, s);
        else
            launch<32, true>(op, o, x, it, n, s);
    } else if (it.numel >= 65536 || n < 64) {
        launch<1, true>(op, o, x, it, n, s);
    } else {
        launch<8, false>(op, o, x, it, n, s);
    }
    return cuda_launched("reduce");
}
