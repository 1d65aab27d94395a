/*
 * common.cuh: what every kernel file of the CUDA backend shares: the error
 * helper, launch sizes, warp and block reductions, and device scratch.
 *
 * Every kernel runs on the legacy default stream, so kernels, the runtime's
 * cudaMemcpy and the stream-ordered allocator (backend.cu) are ordered with
 * each other without any explicit synchronisation. A launch error (bad
 * configuration, too much shared memory) shows at once through
 * cuda_launched(); a fault inside a kernel shows at the next synchronising
 * call (the download that reads the result) as that call's error.
 */
#ifndef AT_CUDA_COMMON_CUH
#define AT_CUDA_COMMON_CUH

#include <math.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

// The C headers declare no linkage of their own: included here first, as C.
extern "C" {
#include "../core/error.h"
#include "../core/tensor.h"
#include "../ops/ops.h"
}
#include "cuda.h"

// Threads per block of the elementwise kernels.
#define CUDA_THREADS 256
// Blocks of a grid-stride loop: enough to fill any current GPU many times.
#define CUDA_MAX_BLOCKS 65536

/* AT_OK after a launch that was accepted, else an error naming the op. */
static inline int cuda_launched(const char *who) {
    cudaError_t err = cudaGetLastError();
    if (err == cudaSuccess)
        return AT_OK;
    if (err == cudaErrorMemoryAllocation)
        return at_error(AT_ENOMEM, "%s: out of device memory (%s)", who, cudaGetErrorString(err));
    return at_error(AT_EDEVICE, "%s: cuda kernel failed (%s)", who, cudaGetErrorString(err));
}

/* Blocks for n elements at CUDA_THREADS per block, at most CUDA_MAX_BLOCKS
   (kernels loop over the rest); at least 1 so a launch is always valid. */
static inline unsigned cuda_blocks(int64_t n) {
    int64_t b = (n + CUDA_THREADS - 1) / CUDA_THREADS;
    return (unsigned)(b < 1 ? 1 : b > CUDA_MAX_BLOCKS ? CUDA_MAX_BLOCKS : b);
}

/* Sum over the lanes of a warp; every lane gets the total. The butterfly
   adds the same pairs in the same order on every run: deterministic. */
template <typename F> __device__ __forceinline__ F warp_sum(F x) {
    for (int o = 16; o > 0; o >>= 1)
        x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

/* Max over the lanes of a warp, NaN winning (as the CPU's loops). */
__device__ __forceinline__ float warp_max(float x) {
    for (int o = 16; o > 0; o >>= 1) {
        float y = __shfl_xor_sync(0xffffffffu, x, o);
        x = (y > x || y != y) ? y : x;
    }
    return x;
}

/* Sum over a whole block (blockDim.x a multiple of 32, at most 1024);
   every thread gets the total. `shared` holds 32 values; the caller must
   not reuse it until every thread has returned (a __syncthreads). */
template <typename F> __device__ F block_sum(F x, F *shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_sum(x);
    __syncthreads(); // an earlier call's readers are done with `shared`
    if (lane == 0)
        shared[warp] = x;
    __syncthreads();
    x = lane < warps ? shared[lane] : F(0);
    return warp_sum(x);
}

/* Max over a whole block, NaN winning; as block_sum. */
__device__ inline float block_max(float x, float *shared) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    x = warp_max(x);
    __syncthreads();
    if (lane == 0)
        shared[warp] = x;
    __syncthreads();
    x = lane < warps ? shared[lane] : -INFINITY;
    return warp_max(x);
}

/* Device scratch for one op's temporaries (backend.cu): stream-ordered, so
   it may be released right after the launches that use it are queued. */
int cuda_scratch(void **out, size_t nbytes, const char *who);
void cuda_scratch_release(void *p);

#endif
