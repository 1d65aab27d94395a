/*
 * rng.cu: the seeded uniform and normal draws on the GPU, number for number
 * the stream that core/rng.h documents and core/rng.c computes on the CPU.
 *
 * Philox4x32-10 is a pure function of (key, counter), so thread b computes
 * block `counter + b` on its own and writes elements 4b .. 4b+3 of the
 * draw: the same counter layout as rng_philox (counter in words 0 and 1 of
 * the 128-bit counter, words 2 and 3 zero; key low word first).
 *
 * Uniform numbers are exact integer work and one exact multiply, so they
 * equal the CPU's bit for bit. Normal numbers repeat the CPU's Box-Muller
 * in double precision (CUDA's double log, sqrt and sincos are within an ulp
 * or two of glibc's) and round to float: they differ from the CPU's only
 * when the double result falls within a few double ulps of a float rounding
 * boundary, about one number in 10^7.
 */
#include <config.h>

#include "common.cuh"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* High and low words of a 32 x 32 bit product (one mul.hi, one mul.lo). */
__host__ __device__ __forceinline__ uint32_t mulhi(uint32_t a, uint32_t b) {
    return (uint32_t)(((uint64_t)a * b) >> 32);
}

/* The ten rounds of rng_philox4 with the counter layout of rng_philox.
   Host and device: the host copy lets a test compare it with core/rng.c
   on a machine without a GPU. */
__host__ __device__ __forceinline__ void philox(uint32_t w[4], uint64_t key, uint64_t counter) {
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = 0, c3 = 0;
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint32_t hi0 = mulhi(PHILOX_M0, c0), lo0 = PHILOX_M0 * c0;
        uint32_t hi1 = mulhi(PHILOX_M1, c2), lo1 = PHILOX_M1 * c2;
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    w[0] = c0;
    w[1] = c1;
    w[2] = c2;
    w[3] = c3;
}

// The top 24 bits as a float in [0, 1): exact.
__host__ __device__ __forceinline__ float to_unit(uint32_t w) { return (float)(w >> 8) * 0x1p-24f; }

__global__ void uniform_kernel(float *out, int64_t n, uint64_t key, uint64_t counter) {
    int64_t blocks = (n + 3) / 4;
    for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < blocks;
         b += (int64_t)gridDim.x * blockDim.x) {
        uint32_t w[4];
        philox(w, key, counter + (uint64_t)b);
        for (int j = 0; j < 4 && 4 * b + j < n; j++)
            out[4 * b + j] = to_unit(w[j]);
    }
}

__global__ void normal_kernel(float *out, int64_t n, uint64_t key, uint64_t counter) {
    const double two_pi = 6.283185307179586;
    int64_t blocks = (n + 3) / 4;
    for (int64_t b = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; b < blocks;
         b += (int64_t)gridDim.x * blockDim.x) {
        uint32_t w[4];
        philox(w, key, counter + (uint64_t)b);
        for (int j = 0; j < 4; j += 2) {
            // 1 - u lies in (0, 1], so the log is finite (as on the CPU).
            double r = sqrt(-2.0 * log(1.0 - (double)to_unit(w[j])));
            double s, c;
            sincos(two_pi * (double)to_unit(w[j + 1]), &s, &c);
            int64_t i = 4 * b + j;
            if (i < n)
                out[i] = (float)(r * c);
            if (i + 1 < n)
                out[i + 1] = (float)(r * s);
        }
    }
}

extern "C" int cuda_rand_uniform(Tensor *out, uint64_t key, uint64_t counter) {
    int64_t n = tensor_numel(out);
    if (n == 0)
        return AT_OK;
    uniform_kernel<<<cuda_blocks((n + 3) / 4), CUDA_THREADS>>>(tensor_data(out), n, key, counter);
    return cuda_launched("rand");
}

extern "C" int cuda_rand_normal(Tensor *out, uint64_t key, uint64_t counter) {
    int64_t n = tensor_numel(out);
    if (n == 0)
        return AT_OK;
    normal_kernel<<<cuda_blocks((n + 3) / 4), CUDA_THREADS>>>(tensor_data(out), n, key, counter);
    return cuda_launched("randn");
}

extern "C" void cuda_philox_host(uint32_t out[4], uint64_t key, uint64_t counter) {
    philox(out, key, counter);
}
