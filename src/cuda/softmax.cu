/*
 * softmax.cu: softmax along one dim on the GPU.
 *
 * As on the CPU (src/cpu/softmax.c): each slice is shifted by its max, so
 * the largest term is exp(0) = 1 and nothing overflows; a slice that is all
 * -inf (every key masked) gives zeros, not NaN; a NaN gives NaN.
 *
 * Slices are found as in reduce.cu: `it` walks (out, a) with dim removed,
 * each slice runs n elements at strides (so, sa). Three reads of the slice
 * (max, sum, write) beat keeping it in registers for any n: the second and
 * third reads hit L1/L2. Who folds a slice:
 *   - sa == 1 (dim is the last, the attention case): a warp per slice, or
 *     the whole block for slices longer than 2048;
 *   - otherwise one thread per slice: neighbouring threads then read
 *     neighbouring addresses.
 * The sum is a float tree (each lane sums n/32 terms, then a butterfly):
 * its error grows like log n, no worse than the CPU's double sum rounded.
 */
#include <config.h>

#include "common.cuh"
#include "iter.cuh"

#define SOFTMAX_THREADS 256

/* Fold slice elements member, member+G, ... with G threads, reduce with
   `group_max` / `group_sum`, write the normalised exps. */
template <int G> struct Group;

template <> struct Group<1> {
    static __device__ float max(float x, float *) { return x; }
    static __device__ float sum(float x, float *) { return x; }
};
template <> struct Group<32> {
    static __device__ float max(float x, float *) { return warp_max(x); }
    static __device__ float sum(float x, float *) { return warp_sum(x); }
};
template <> struct Group<SOFTMAX_THREADS> {
    static __device__ float max(float x, float *sh) { return block_max(x, sh); }
    static __device__ float sum(float x, float *sh) { return block_sum(x, sh); }
};

template <int G>
__device__ void softmax_slice(float *o, const float *a, int64_t n, int64_t so, int64_t sa,
                              int member, float *shared) {
    float m = -INFINITY;
    for (int64_t i = member; i < n; i += G) {
        float x = a[i * sa];
        m = (x > m || x != x) ? x : m;
    }
    m = Group<G>::max(m, shared);
    if (m == -INFINITY) { // every element masked: attend to nothing
        for (int64_t i = member; i < n; i += G)
            o[i * so] = 0.0f;
        return;
    }
    float sum = 0.0f;
    for (int64_t i = member; i < n; i += G)
        sum += expf(a[i * sa] - m);
    float inv = 1.0f / Group<G>::sum(sum, shared);
    for (int64_t i = member; i < n; i += G)
        o[i * so] = expf(a[i * sa] - m) * inv;
}

/* The slices a block takes per round: every thread of a group must run
   the same rounds (shuffles and barriers), so the bounds are per group. */
template <int G>
__global__ void softmax_kernel(float *out, const float *a, Iter it, int64_t n, int64_t so,
                               int64_t sa) {
    __shared__ float shared[32];
    const int per_block = SOFTMAX_THREADS / G;
    const int member = threadIdx.x % G, group = threadIdx.x / G;
    for (int64_t slice = blockIdx.x * (int64_t)per_block + group; slice < it.numel;
         slice += (int64_t)gridDim.x * per_block) {
        int64_t off[2];
        iter_offsets<2>(it, slice, off);
        softmax_slice<G>(out + off[0], a + off[1], n, so, sa, member, shared);
    }
}

template <int G>
static void launch(float *out, const float *a, const Iter &it, int64_t n, int64_t so, int64_t sa) {
    int64_t per_block = SOFTMAX_THREADS / G, blocks = (it.numel + per_block - 1) / per_block;
    blocks = blocks > CUDA_MAX_BLOCKS ? CUDA_MAX_BLOCKS : blocks;
    softmax_kernel<G><<<(unsigned)blocks, SOFTMAX_THREADS>>>(out, a, it, n, so, sa);
}

extern "C" int cuda_softmax(Tensor *out, const Tensor *a, int dim) {
    Tensor o0 = iter_without_dim(out, dim), a0 = iter_without_dim(a, dim);
    const Tensor *ops[2] = {&o0, &a0};
    Iter it;
    iter_init(&it, 2, ops);
    int64_t n = a->shape[dim], so = out->strides[dim], sa = a->strides[dim];
    if (it.numel == 0 || n == 0)
        return AT_OK;
    float *o = tensor_data(out);
    const float *x = tensor_data(a);
    if (sa == 1 && n > 2048)
        launch<SOFTMAX_THREADS>(o, x, it, n, so, sa);
    else if (sa == 1 && n > 4)
        launch<32>(o, x, it, n, so, sa);
    else
        launch<1>(o, x, it, n, so, sa);
    return cuda_launched("softmax");
}
