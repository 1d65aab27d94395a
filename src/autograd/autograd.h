/*
 * autograd.h: reverse-mode differentiation over the ops layer.
 *
 * Each ag_* function runs the op (src/ops/tensor_ops.h) and, when grad mode
 * is on and an input needs a gradient, records a node holding what the
 * backward pass needs. ag_backward walks the recorded graph from a result
 * back to the leaves (tensors with requires_grad set by the user), adding
 * their gradients into t->grad. Bindings call these instead of the plain
 * ops for everything differentiable; results come back as new references,
 * dims are 0-based, the return value is a status (as in tensor_ops.h).
 */
#ifndef AT_AUTOGRAD_H
#define AT_AUTOGRAD_H

#include "../ops/tensor_ops.h"

/* Grad mode: nesting count of no_grad regions (0 = recording). */
void ag_no_grad_enter(void);
void ag_no_grad_leave(void);
int ag_grad_enabled(void);

/* Does t take part in a graph (a leaf that wants grad, or computed)? */
int ag_tracks(const Tensor *t);
/* Mark a leaf; error for a computed tensor (use detach first). */
int ag_set_requires_grad(Tensor *t, int on);
/* A view of t's data outside any graph (new reference). */
int ag_detach(Tensor **out, Tensor *t);
/* Gradients of root with respect to every leaf it depends on, added into
   leaf->grad. grad is d(something)/d(root), of root's shape; NULL means 1
   and needs a one-element root. */
int ag_backward(Tensor *root, const Tensor *grad);
/* The name of the op that made t ("matmul", ...), or NULL for a leaf. */
const char *ag_op_name(const Tensor *t);

/* Differentiable ops, same meaning as their op_* counterparts. */
int ag_binary(Tensor **out, BinaryOp op, Tensor *a, Tensor *b);
int ag_binary_scalar(Tensor **out, BinaryOp op, Tensor *a, float s, int scalar_first);
int ag_unary(Tensor **out, UnaryOp op, Tensor *a);
int ag_reduce(Tensor **out, ReduceOp op, Tensor *a, int dim, int keepdim);
int ag_softmax(Tensor **out, Tensor *a, int dim);
int ag_norm(Tensor **out, Tensor *a);
int ag_matmul(Tensor **out, Tensor *a, Tensor *b);
/* x W^T + b (b may be NULL), the bias added by the product itself. */
int ag_linear(Tensor **out, Tensor *x, Tensor *w, Tensor *b);

/* Views and copies. */
int ag_select(Tensor **out, Tensor *a, int dim, int64_t index);
int ag_narrow(Tensor **out, Tensor *a, int dim, int64_t start, int64_t len);
int ag_transpose(Tensor **out, Tensor *a, int d0, int d1);
int ag_reshape(Tensor **out, Tensor *a, int ndim, const int64_t *shape);
int ag_expand(Tensor **out, Tensor *a, int ndim, const int64_t *shape);
int ag_unsqueeze(Tensor **out, Tensor *a, int dim);
int ag_clone(Tensor **out, Tensor *a);
int ag_contiguous(Tensor **out, Tensor *a);
int ag_to(Tensor **out, Tensor *a, Device dev);
int ag_cat(Tensor **out, Tensor *const *ts, int n, int dim);
int ag_stack(Tensor **out, Tensor *const *ts, int n, int dim);

/* Neural-network primitives (grad_nn.c); ids and targets are 0-based. */
int ag_masked_fill(Tensor **out, Tensor *x, Tensor *keep, float value);
int ag_embedding(Tensor **out, Tensor *table, const int64_t *ids, int ndim,
                 const int64_t *ids_shape);
int ag_layer_norm(Tensor **out, Tensor *x, Tensor *w, Tensor *b, float eps);
/* per-row losses (N) */
int ag_cross_entropy(Tensor **out, Tensor *logits, const int64_t *targets, int64_t n);

/* Fused attention (see op_attention); q, k, v all get gradients. */
int ag_attention(Tensor **out, Tensor *q, Tensor *k, Tensor *v, int causal, float scale);

/* In-place writes are refused on tensors in a graph while recording: the
   gradient would silently be wrong. `who` names the caller. */
int ag_check_inplace(const char *who, const Tensor *t);

#endif
