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
int cpu_set_threads(int n);
int cpu_get_threads(void);

#endif
