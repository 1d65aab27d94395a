/*
 * ops.h: the backend table, one function pointer per primitive, per device.
 *
 * The ops layer (the .c files of src/ops, declared in tensor_ops.h) checks arguments,
 * works out shapes, allocates results and then calls exactly one entry of
 * the backend that owns the operands. Kernels therefore see tensors that
 * are already valid:
 *   - `out` is freshly allocated and contiguous unless the entry says not;
 *   - inputs are strided views, already broadcast (expanded) to the shape
 *     the entry documents, all on the backend's device.
 * Every entry returns AT_OK or a status with a message (at_error). A NULL
 * entry means "not on this device": the ops layer reports it by name.
 */
#ifndef AT_OPS_H
#define AT_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/tensor.h"

typedef enum {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MAX, BIN_MIN,
    BIN_EQ, BIN_NE, BIN_LT, BIN_LE, BIN_GT, BIN_GE, // 1 or 0
    BIN_COUNT
} BinaryOp;

typedef enum {
    UN_NEG, UN_EXP, UN_LOG, UN_SQRT, UN_ABS, UN_TANH, UN_SIGMOID, UN_RELU,
    UN_GELU,      // exact: x * Phi(x), with erf
    UN_GELU_TANH, // the tanh approximation GPT-2 uses
    UN_SIN, UN_COS, UN_SQUARE, UN_RECIPROCAL, UN_SIGN,
    UN_GELU_GRAD,      // d/dx of UN_GELU (for autograd)
    UN_GELU_TANH_GRAD, // d/dx of UN_GELU_TANH
    UN_COUNT
} UnaryOp;

typedef enum { RED_SUM, RED_MEAN, RED_MAX, RED_MIN, RED_ARGMAX, RED_ARGMIN, RED_COUNT } ReduceOp;

/* AdamW's numbers for one step t (the caller folds t into the bias
   corrections): p = p (1 - lr wd); m = b1 m + (1 - b1) g;
   v = b2 v + (1 - b2) g^2; p = p - lr / bias1 * m / (sqrt(v) / sqrt(bias2) + eps). */
typedef struct AdamHyper {
    float lr, b1, b2, eps, weight_decay, bias1, bias2;
} AdamHyper;

typedef struct Backend {
    const char *name; // "cpu", "cuda"

    /* Memory. alloc returns AT_ENOMEM with a message when it cannot. */
    int (*alloc)(void **out, size_t nbytes);
    void (*release)(void *ptr);
    int (*upload)(void *dst, const void *host_src, size_t nbytes);
    int (*download)(void *host_dst, const void *src, size_t nbytes);

    /* out (any strides) = value */
    int (*fill)(Tensor *out, float value);
    /* out (any strides) = src (same shape, any strides, may be expanded) */
    int (*copy)(Tensor *out, const Tensor *src);
    /* out (contiguous) = the stream's draw starting at block `counter`
       (see core/rng.h): uniform in [0,1) or standard normal. */
    int (*rand_uniform)(Tensor *out, uint64_t key, uint64_t counter);
    int (*rand_normal)(Tensor *out, uint64_t key, uint64_t counter);

    /* out = a op b; a and b expanded to out's shape. */
    int (*binary)(BinaryOp op, Tensor *out, const Tensor *a, const Tensor *b);
    /* out = f(a), a of out's shape. */
    int (*unary)(UnaryOp op, Tensor *out, const Tensor *a);
    /* out = reduce of a over dim; out has a's shape with dim removed.
       ARGMAX/ARGMIN write 0-based indices as floats. */
    int (*reduce)(ReduceOp op, Tensor *out, const Tensor *a, int dim);
    /* out = softmax of a along dim, out of a's shape. */
    int (*softmax)(Tensor *out, const Tensor *a, int dim);
    /* out (B..., M, N) = a (B..., M, K) @ b (B..., K, N); batch dims of a and
       b are already expanded to out's, the last two dims of a and b may be
       any strides. */
    int (*matmul)(Tensor *out, const Tensor *a, const Tensor *b);
    /* out += a @ b, with the same shapes as matmul (a linear layer's bias
       is put in out first, so the product adds it for free); may be NULL. */
    int (*matmul_acc)(Tensor *out, const Tensor *a, const Tensor *b);

    /* Neural-network primitives; every tensor contiguous unless said.
       Integer arguments (ids, targets) are host arrays of n 0-based values. */
    /* out = keep != 0 ? x : value; x, keep expanded to out's shape */
    int (*masked_fill)(Tensor *out, const Tensor *x, const Tensor *keep, float value);
    /* out (n, D) = rows ids of table (V, D) */
    int (*embedding)(Tensor *out, const Tensor *table, const int64_t *ids, int64_t n);
    /* dtable (V, D), zeroed by the caller, += g (n, D) rows at ids */
    int (*embedding_backward)(Tensor *dtable, const Tensor *g, const int64_t *ids, int64_t n);
    /* out (N, C) = (x - mean) * rstd * w + b per row; mean, rstd (N) kept for
       backward; w, b (C) may be NULL */
    int (*layer_norm)(Tensor *out, Tensor *mean, Tensor *rstd, const Tensor *x, const Tensor *w,
                      const Tensor *b, float eps);
    /* dx (N, C), and dw, db (C) when not NULL, from g (N, C) */
    int (*layer_norm_backward)(Tensor *dx, Tensor *dw, Tensor *db, const Tensor *g,
                               const Tensor *x, const Tensor *mean, const Tensor *rstd,
                               const Tensor *w);
    /* losses (N) = logsumexp(logits row) - logits[row, target]; a target
       of -1 is ignored (loss 0) */
    int (*cross_entropy)(Tensor *losses, const Tensor *logits, const int64_t *targets);
    /* dlogits (N, C) = g_row * (softmax(row) - onehot(target)) */
    int (*cross_entropy_backward)(Tensor *dlogits, const Tensor *g, const Tensor *logits,
                                  const int64_t *targets);

    /* Fused attention over BH heads, contiguous: q (BH, Tq, D), k (BH, Tk, D),
       v (BH, Tk, Dv) -> out (BH, Tq, Dv) and lse (BH, Tq), the log of each
       softmax denominator; causal aligns the diagonal to the end. */
    int (*attention)(Tensor *out, Tensor *lse, const Tensor *q, const Tensor *k,
                     const Tensor *v, int causal, float scale);
    /* dq, dk, dv from g (BH, Tq, Dv) and the forward's out and lse */
    int (*attention_backward)(Tensor *dq, Tensor *dk, Tensor *dv, const Tensor *g,
                              const Tensor *q, const Tensor *k, const Tensor *v,
                              const Tensor *out, const Tensor *lse, int causal, float scale);

    /* One AdamW update in place of p, m, v (all contiguous, of one shape)
       from the gradient g (contiguous); see AdamHyper. */
    int (*adamw)(Tensor *p, Tensor *m, Tensor *v, const Tensor *g, const struct AdamHyper *h);

    /* Worker threads for this backend's kernels (and its BLAS). */
    int (*set_threads)(int n);
    int (*get_threads)(void);
} Backend;

/* The backend of a device, or NULL with a message saying why it is not
   there (not built, no driver, no GPU). Probes the device once. */
const Backend *backend_get(Device device);
/* The backend for t's device; never NULL for a tensor that exists. */
const Backend *backend_of(const Tensor *t);
/* "cpu" or "cuda". */
const char *device_name(Device device);
/* Parse "cpu" / "cuda" / "cuda:0"; -1 with a message when unknown. */
int device_parse(const char *name, Device *out);
/* A line about the device for humans: the GPU's name, or why there is none. */
const char *device_describe(Device device);

/* The CPU backend (src/cpu/backend.c). */
const Backend *cpu_backend(void);

#endif
