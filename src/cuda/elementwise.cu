/*
 * elementwise.cu: fill, copy, binary and unary maps on the GPU.
 *
 * One thread per element in a grid-stride loop; operands are any strided
 * views walked with iter.cuh (broadcast operands have stride 0). The op is
 * a switch inside the kernel rather than one kernel per op: the branch is
 * the same for every thread (no divergence), these kernels are bound by
 * memory traffic, and one kernel per op would multiply the compile time by
 * thirty for nothing.
 *
 * Every formula is the CPU's (src/cpu/elementwise.c), in the same float
 * precision, so results agree to the last bit or two of CUDA's libm (its
 * expf, tanhf, erff are within 2 ulp). NaN handling follows the CPU: max
 * and min propagate NaN, comparisons with NaN give 0 (1 for ne).
 */
#include <config.h>

#include "common.cuh"
#include "iter.cuh"

__global__ void fill_kernel(float *out, Iter it, float value) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[1];
        iter_offsets<1>(it, i, off);
        out[off[0]] = value;
    }
}

extern "C" int cuda_fill(Tensor *out, float value) {
    const Tensor *ops[1] = {out};
    Iter it;
    iter_init(&it, 1, ops);
    if (it.numel == 0)
        return AT_OK;
    fill_kernel<<<cuda_blocks(it.numel), CUDA_THREADS>>>(tensor_data(out), it, value);
    return cuda_launched("fill");
}

__global__ void copy_kernel(float *out, const float *src, Iter it) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[2];
        iter_offsets<2>(it, i, off);
        out[off[0]] = src[off[1]];
    }
}

/* out and src do not overlap (the ops layer copies an overlapping source
   out first), so the order of the writes does not matter. */
extern "C" int cuda_copy(Tensor *out, const Tensor *src) {
    const Tensor *ops[2] = {out, src};
    Iter it;
    iter_init(&it, 2, ops);
    if (it.numel == 0)
        return AT_OK;
    copy_kernel<<<cuda_blocks(it.numel), CUDA_THREADS>>>(tensor_data(out), tensor_data(src), it);
    return cuda_launched("copy");
}

/* ---- binary ----------------------------------------------------------- */

__device__ __forceinline__ float binary_op(int op, float x, float y) {
    switch (op) {
    case BIN_ADD: return x + y;
    case BIN_SUB: return x - y;
    case BIN_MUL: return x * y;
    case BIN_DIV: return x / y;
    case BIN_POW: return y == 2.0f ? x * x : powf(x, y);
    case BIN_MAX: return (x != x || x > y) ? x : y; // NaN wins
    case BIN_MIN: return (x != x || x < y) ? x : y;
    case BIN_EQ: return x == y ? 1.0f : 0.0f;
    case BIN_NE: return x != y ? 1.0f : 0.0f;
    case BIN_LT: return x < y ? 1.0f : 0.0f;
    case BIN_LE: return x <= y ? 1.0f : 0.0f;
    case BIN_GT: return x > y ? 1.0f : 0.0f;
    default: return x >= y ? 1.0f : 0.0f; // BIN_GE
    }
}

__global__ void binary_kernel(int op, float *out, const float *a, const float *b, Iter it) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[3];
        iter_offsets<3>(it, i, off);
        out[off[0]] = binary_op(op, a[off[1]], b[off[2]]);
    }
}

extern "C" int cuda_binary(BinaryOp op, Tensor *out, const Tensor *a, const Tensor *b) {
    const Tensor *ops[3] = {out, a, b};
    Iter it;
    iter_init(&it, 3, ops);
    if (it.numel == 0)
        return AT_OK;
    binary_kernel<<<cuda_blocks(it.numel), CUDA_THREADS>>>((int)op, tensor_data(out),
                                                           tensor_data(a), tensor_data(b), it);
    return cuda_launched("binary op");
}

/* ---- unary ------------------------------------------------------------ */

// Neither branch overflows: exp of a non-positive number.
__device__ __forceinline__ float sigmoid(float x) {
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

#define SQRT_2_OVER_PI 0.79788456080286536f
#define INV_SQRT_2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

// d/dx x Phi(x) = Phi(x) + x phi(x)
__device__ __forceinline__ float gelu_grad(float x) {
    float cdf = 0.5f * (1.0f + erff(x * INV_SQRT_2));
    return cdf + x * INV_SQRT_2PI * expf(-0.5f * x * x);
}

// d/dx of 0.5 x (1 + tanh(u)), u = k (x + 0.044715 x^3)
__device__ __forceinline__ float gelu_tanh_grad(float x) {
    float th = tanhf(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x));
    return 0.5f * (1.0f + th) +
           0.5f * x * (1.0f - th * th) * SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * x * x);
}

__device__ __forceinline__ float unary_op(int op, float x) {
    switch (op) {
    case UN_NEG: return -x;
    case UN_EXP: return expf(x);
    case UN_LOG: return logf(x);
    case UN_SQRT: return sqrtf(x);
    case UN_ABS: return fabsf(x);
    case UN_TANH: return tanhf(x);
    case UN_SIGMOID: return sigmoid(x);
    case UN_RELU: return x > 0.0f ? x : 0.0f;
    case UN_GELU: return 0.5f * x * (1.0f + erff(x * INV_SQRT_2));
    case UN_GELU_TANH:
        return 0.5f * x * (1.0f + tanhf(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
    case UN_SIN: return sinf(x);
    case UN_COS: return cosf(x);
    case UN_SQUARE: return x * x;
    case UN_RECIPROCAL: return 1.0f / x;
    case UN_SIGN: return (float)((x > 0.0f) - (x < 0.0f));
    case UN_GELU_GRAD: return gelu_grad(x);
    default: return gelu_tanh_grad(x); // UN_GELU_TANH_GRAD
    }
}

__global__ void unary_kernel(int op, float *out, const float *a, Iter it) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[2];
        iter_offsets<2>(it, i, off);
        out[off[0]] = unary_op(op, a[off[1]]);
    }
}

extern "C" int cuda_unary(UnaryOp op, Tensor *out, const Tensor *a) {
    const Tensor *ops[2] = {out, a};
    Iter it;
    iter_init(&it, 2, ops);
    if (it.numel == 0)
        return AT_OK;
    unary_kernel<<<cuda_blocks(it.numel), CUDA_THREADS>>>((int)op, tensor_data(out),
                                                          tensor_data(a), it);
    return cuda_launched("unary op");
}
