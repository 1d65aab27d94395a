/*
 * cpu.h: the CPU backend's kernels, one entry of the Backend table each
 * (see ops/ops.h for the contract every entry follows).
 */
#ifndef AT_CPU_H
#define AT_CPU_H

#include "../ops/ops.h"

int cpu_fill(Tensor *out, float value);
int cpu_copy(Tensor *out, const Tensor *src);
int cpu_rand_uniform(Tensor *out, uint64_t key, uint64_t counter);
int cpu_rand_normal(Tensor *out, uint64_t key, uint64_t counter);
int cpu_binary(BinaryOp op, Tensor *out, const Tensor *a, const Tensor *b);
int cpu_unary(UnaryOp op, Tensor *out, const Tensor *a);
int cpu_reduce(ReduceOp op, Tensor *out, const Tensor *a, int dim);
int cpu_softmax(Tensor *out, const Tensor *a, int dim);
int cpu_matmul(Tensor *out, const Tensor *a, const Tensor *b);
int cpu_matmul_acc(Tensor *out, const Tensor *a, const Tensor *b);
int cpu_masked_fill(Tensor *out, const Tensor *x, const Tensor *keep, float value);
int cpu_embedding(Tensor *out, const Tensor *table, const int64_t *ids, int64_t n);
int cpu_embedding_backward(Tensor *dtable, const Tensor *g, const int64_t *ids, int64_t n);
int cpu_layer_norm(Tensor *out, Tensor *mean, Tensor *rstd, const Tensor *x, const Tensor *w,
                   const Tensor *b, float eps);
int cpu_layer_norm_backward(Tensor *dx, Tensor *dw, Tensor *db, const Tensor *g, const Tensor *x,
                            const Tensor *mean, const Tensor *rstd, const Tensor *w);
int cpu_cross_entropy(Tensor *losses, const Tensor *logits, const int64_t *targets);
int cpu_cross_entropy_backward(Tensor *dlogits, const Tensor *g, const Tensor *logits,
                               const int64_t *targets);
int cpu_attention(Tensor *out, Tensor *lse, const Tensor *q, const Tensor *k, const Tensor *v,
                  int causal, float scale);
int cpu_attention_backward(Tensor *dq, Tensor *dk, Tensor *dv, const Tensor *g, const Tensor *q,
                           const Tensor *k, const Tensor *v, const Tensor *out, const Tensor *lse,
                           int causal, float scale);
int cpu_adamw(Tensor *p, Tensor *m, Tensor *v, const Tensor *g, const AdamHyper *h);
/* Once: the pool takes OpenBLAS's thread count, and OpenBLAS goes single-threaded. */
void cpu_threads_init(void);
int cpu_set_threads(int n);
int cpu_get_threads(void);

#endif
