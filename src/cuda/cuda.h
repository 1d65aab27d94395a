/*
 * cuda.h: plain C entry points of the CUDA backend (the .cu files of src/cuda).
 *
 * Built only when configure finds nvcc; src/ops/registry.c is the only
 * caller, through cuda_backend()'s table. Each kernel entry has the name of
 * its CPU twin with cuda_ for cpu_ and lives in the file of the same stem
 * (elementwise.cu beside src/cpu/elementwise.c, ...); ops/ops.h states the
 * contract every entry follows. Kernels are queued on the default stream
 * and return as soon as they are launched: results are complete when the
 * next download (or any other synchronising call) returns.
 */
#ifndef AT_CUDA_H
#define AT_CUDA_H

#include "../ops/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend, or NULL with a message when there is no usable GPU (no
   driver, no device). The device is probed once. */
const Backend *cuda_backend(void);
/* "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" once cuda_backend() succeeded. */
const char *cuda_device_name(void);

/* elementwise.cu */
int cuda_fill(Tensor *out, float value);
int cuda_copy(Tensor *out, const Tensor *src);
int cuda_binary(BinaryOp op, Tensor *out, const Tensor *a, const Tensor *b);
int cuda_unary(UnaryOp op, Tensor *out, const Tensor *a);
/* rng.cu: the stream of core/rng.h, element for element */
int cuda_rand_uniform(Tensor *out, uint64_t key, uint64_t counter);
int cuda_rand_normal(Tensor *out, uint64_t key, uint64_t counter);
/* The kernels' Philox block computed on the host (tests compare it with
   core/rng.c where there is no GPU to run the kernels). */
void cuda_philox_host(uint32_t out[4], uint64_t key, uint64_t counter);
/* reduce.cu, softmax.cu */
int cuda_reduce(ReduceOp op, Tensor *out, const Tensor *a, int dim);
int cuda_softmax(Tensor *out, const Tensor *a, int dim);
/* blas.cu: cuBLAS, FP32 unless ATTNLAB_TF32=1 is in the environment */
int cuda_matmul(Tensor *out, const Tensor *a, const Tensor *b);
/* nn.cu */
int cuda_masked_fill(Tensor *out, const Tensor *x, const Tensor *keep, float value);
int cuda_embedding(Tensor *out, const Tensor *table, const int64_t *ids, int64_t n);
int cuda_embedding_backward(Tensor *dtable, const Tensor *g, const int64_t *ids, int64_t n);
int cuda_layer_norm(Tensor *out, Tensor *mean, Tensor *rstd, const Tensor *x, const Tensor *w,
                    const Tensor *b, float eps);
int cuda_layer_norm_backward(Tensor *dx, Tensor *dw, Tensor *db, const Tensor *g,
                             const Tensor *x, const Tensor *mean, const Tensor *rstd,
                             const Tensor *w);
int cuda_cross_entropy(Tensor *losses, const Tensor *logits, const int64_t *targets);
int cuda_cross_entropy_backward(Tensor *dlogits, const Tensor *g, const Tensor *logits,
                                const int64_t *targets);
/* attention.cu: fused flash attention */
int cuda_attention(Tensor *out, Tensor *lse, const Tensor *q, const Tensor *k, const Tensor *v,
                   int causal, float scale);
int cuda_attention_backward(Tensor *dq, Tensor *dk, Tensor *dv, const Tensor *g,
                            const Tensor *q, const Tensor *k, const Tensor *v,
                            const Tensor *out, const Tensor *lse, int causal, float scale);

#ifdef __cplusplus
}
#endif

#endif
