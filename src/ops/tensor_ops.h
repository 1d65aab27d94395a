/*
 * tensor_ops.h: tensor operations as the Lua bindings see them.
 *
 * Each function checks its arguments (shapes, dims, devices), allocates its
 * result on the operands' device and calls one backend entry. Results come
 * back through the first argument as a new reference; the return value is a
 * status (AT_OK or an error with a message naming the operation). Dims and
 * indices are 0-based here: the bindings convert from Lua's 1-based ones.
 * Operands on two devices are an error, never a silent copy.
 */
#ifndef AT_TENSOR_OPS_H
#define AT_TENSOR_OPS_H

#include <stdint.h>

#include "ops.h"

/* ---- creation (create.c) ------------------------------------------------ */
int op_empty(Tensor **out, int ndim, const int64_t *shape, Device dev);
int op_full(Tensor **out, int ndim, const int64_t *shape, float value, Device dev);
/* A tensor holding host floats data[0..numel-1] (copied). */
int op_from_host(Tensor **out, const float *data, int ndim, const int64_t *shape, Device dev);
int op_arange(Tensor **out, double start, double stop, double step, Device dev);
int op_eye(Tensor **out, int64_t n, int64_t m, Device dev);
/* Draws from the global stream (see core/rng.h); normal = 0 for uniform. */
int op_rand(Tensor **out, int ndim, const int64_t *shape, int normal, Device dev);
void op_seed(uint64_t seed);
uint64_t op_get_seed(void);
/* The device new tensors go to when none is named. */
Device op_default_device(void);
int op_set_default_device(Device dev);

/* ---- movement and views (movement.c) ------------------------------------ */
/* t itself (retained) when contiguous, else a contiguous copy. */
int op_contiguous(Tensor **out, Tensor *t);
int op_clone(Tensor **out, const Tensor *t);
int op_to(Tensor **out, Tensor *t, Device dev);
/* dst (a view, any strides) = src broadcast to dst's shape. */
int op_copy(Tensor *dst, const Tensor *src);
int op_fill(Tensor *dst, float value);
/* A view when the layout allows, else a copy; one dim may be -1. */
int op_reshape(Tensor **out, Tensor *t, int ndim, const int64_t *shape);
int op_cat(Tensor **out, Tensor *const *ts, int n, int dim);
int op_stack(Tensor **out, Tensor *const *ts, int n, int dim);
/* All of t's values into host memory, row-major (dst holds numel floats). */
int op_read(float *dst, const Tensor *t);
/* One element; idx has t->ndim 0-based entries (checked). */
int op_get(float *value, const Tensor *t, const int64_t *idx);
int op_set(Tensor *t, const int64_t *idx, float value);

/* ---- math (math.c, matmul.c) ------------------------------------------- */
/* Broadcast shape of a and b (numpy rules); `who` names the caller. */
int op_broadcast_shape(int *ndim, int64_t *shape, const char *who, const Tensor *a,
                       const Tensor *b);
int op_binary(Tensor **out, BinaryOp op, const Tensor *a, const Tensor *b);
/* dst += src in place: dst contiguous, src of dst's shape (autograd's sums). */
int op_add_into(Tensor *dst, const Tensor *src);
/* a op s, or s op a when scalar_first. */
int op_binary_scalar(Tensor **out, BinaryOp op, const Tensor *a, float s, int scalar_first);
int op_unary(Tensor **out, UnaryOp op, const Tensor *a);
/* Over dim (0-based), or over everything when dim < 0 (a 1-element 1-d
   result, or [1,...] with keepdim). */
int op_reduce(Tensor **out, ReduceOp op, const Tensor *a, int dim, int keepdim);
int op_softmax(Tensor **out, const Tensor *a, int dim);
/* sqrt of the sum of squares of all elements, as a 1-element tensor. */
int op_norm(Tensor **out, const Tensor *a);
/* numpy matmul: 1-d operands are vectors, batch dims broadcast. */
int op_matmul(Tensor **out, const Tensor *a, const Tensor *b);
/* x (..., in) W^T + b: W (out, in), b (out) or NULL. */
int op_linear(Tensor **out, const Tensor *x, const Tensor *w, const Tensor *b);
/* |a - b| <= atol + rtol * |b| everywhere (shapes broadcast); NaN never close. */
int op_allclose(int *result, const Tensor *a, const Tensor *b, float rtol, float atol);

/* ---- neural-network primitives (nn.c) --------------------------------- */
/* out = keep != 0 ? x : value, broadcast */
int op_masked_fill(Tensor **out, const Tensor *x, const Tensor *keep, float value);
/* out (ids_shape..., D) = rows of table (V, D); ids are 0-based, checked */
int op_embedding(Tensor **out, const Tensor *table, const int64_t *ids, int ndim,
                 const int64_t *ids_shape);
int op_embedding_backward(Tensor **dtable, const Tensor *g, const int64_t *ids, int64_t n,
                          int64_t V);
/* over the last dim of x; w, b may be NULL; mean, rstd (N rows) for backward */
int op_layer_norm(Tensor **out, Tensor **mean, Tensor **rstd, const Tensor *x, const Tensor *w,
                  const Tensor *b, float eps);
/* dw, db may be NULL (not wanted) */
int op_layer_norm_backward(Tensor **dx, Tensor **dw, Tensor **db, const Tensor *g,
                           const Tensor *x, const Tensor *mean, const Tensor *rstd,
                           const Tensor *w);
/* losses (N) of logits (N, C) against 0-based targets (-1: ignored) */
int op_cross_entropy(Tensor **losses, const Tensor *logits, const int64_t *targets, int64_t n);
int op_cross_entropy_backward(Tensor **dlogits, const Tensor *g, const Tensor *logits,
                              const int64_t *targets);

/* Fused attention (no Tq x Tk matrix): q [..., Tq, D], k [..., Tk, D],
   v [..., Tk, Dv] with equal leading dims -> out [..., Tq, Dv] and lse
   [..., Tq] (log of each softmax denominator, for backward). */
int op_attention(Tensor **out, Tensor **lse, const Tensor *q, const Tensor *k, const Tensor *v,
                 int causal, float scale);
int op_attention_backward(Tensor **dq, Tensor **dk, Tensor **dv, const Tensor *g,
                          const Tensor *q, const Tensor *k, const Tensor *v, const Tensor *out,
                          const Tensor *lse, int causal, float scale);

/* Names for messages: "add", "exp", "sum", ... */
const char *op_binary_name(BinaryOp op);
const char *op_unary_name(UnaryOp op);
const char *op_reduce_name(ReduceOp op);

/* Threads the CPU kernels and BLAS use. */
/* One AdamW step in place (see AdamHyper in ops.h); AT_EDEVICE when the
   device has no fused update (the caller then composes it from ops). */
int op_adamw(Tensor *p, Tensor *m, Tensor *v, const Tensor *g, const AdamHyper *h);

int op_set_threads(int n);
int op_get_threads(void);

#endif
