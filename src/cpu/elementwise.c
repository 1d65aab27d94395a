/*
 * elementwise.c: fill, copy, random draws, binary and unary maps on the CPU.
 *
 * Every kernel walks its operands with iter.h, so any strides work, shared
 * by the thread pool in chunks (iter_for, which also polls Ctrl-C), and the
 * inner loop has a unit-stride fast path the compiler vectorises.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "../core/rng.h"
#include "cpu.h"
#include "iter.h"
#include "parallel.h"
#include "vmath.h"

/* Strides of the segment functions' operands, and what they apply. */
typedef struct Seg {
    int64_t s0, s1, s2;
    float value;
    // One row of a binary or unary map: out contiguous, inputs strided.
    void (*binary)(float *, const float *, const float *, int64_t, int64_t, int64_t);
    void (*unary)(float *, const float *, int64_t, int64_t);
} Seg;

static int fill_seg(void *ctx, float **p, int64_t n) {
    const Seg *g = ctx;
    for (int64_t i = 0; i < n; i++)
        p[0][i * g->s0] = g->value;
    return AT_OK;
}

int cpu_fill(Tensor *out, float value) {
    const Tensor *ops[1] = {out};
    Iter it;
    iter_init(&it, 1, ops);
    Seg g = {.s0 = iter_step(&it, 0), .value = value};
    return iter_for(&it, "fill", fill_seg, &g);
}

static int copy_seg(void *ctx, float **p, int64_t n) {
    const Seg *g = ctx;
    if (g->s0 == 1 && g->s1 == 1)
        memcpy(p[0], p[1], (size_t)n * sizeof(float));
    else
        for (int64_t i = 0; i < n; i++)
            p[0][i * g->s0] = p[1][i * g->s1];
    return AT_OK;
}

int cpu_copy(Tensor *out, const Tensor *src) {
    const Tensor *ops[2] = {out, src};
    Iter it;
    iter_init(&it, 2, ops);
    Seg g = {.s0 = iter_step(&it, 0), .s1 = iter_step(&it, 1)};
    return iter_for(&it, "copy", copy_seg, &g);
}

/* A draw shared by the pool: element i is a function of block counter +
   i / 4 alone (core/rng.h), so chunks of blocks give the same numbers in
   any order on any number of threads. */
typedef struct Draw {
    float *out;
    int64_t n;
    uint64_t key, counter;
    void (*fill)(float *, int64_t, uint64_t, uint64_t);
} Draw;

static int draw_blocks(void *ctx, int64_t begin, int64_t end) {
    const Draw *d = ctx;
    int64_t first = begin * 4, last = end * 4 < d->n ? end * 4 : d->n;
    d->fill(d->out + first, last - first, d->key, d->counter + (uint64_t)begin);
    return at_check_interrupt("rand") ? AT_EINTR : AT_OK;
}

static int draw(Tensor *out, uint64_t key, uint64_t counter,
                void (*fill)(float *, int64_t, uint64_t, uint64_t)) {
    Draw d = {tensor_data(out), tensor_numel(out), key, counter, fill};
    return parallel_for((int64_t)rng_blocks(d.n), 1 << 14, draw_blocks, &d);
}

int cpu_rand_uniform(Tensor *out, uint64_t key, uint64_t counter) {
    return draw(out, key, counter, rng_fill_uniform);
}

int cpu_rand_normal(Tensor *out, uint64_t key, uint64_t counter) {
    return draw(out, key, counter, rng_fill_normal);
}

/* ---- binary ----------------------------------------------------------- */

static inline float f_add(float x, float y) { return x + y; }
static inline float f_sub(float x, float y) { return x - y; }
static inline float f_mul(float x, float y) { return x * y; }
static inline float f_div(float x, float y) { return x / y; }
static inline float f_pow(float x, float y) { return y == 2.0f ? x * x : powf(x, y); }
// max/min propagate NaN, as numpy's maximum/minimum do.
static inline float f_max(float x, float y) { return (x != x || x > y) ? x : y; }
static inline float f_min(float x, float y) { return (x != x || x < y) ? x : y; }
static inline float f_eq(float x, float y) { return x == y ? 1.0f : 0.0f; }
static inline float f_ne(float x, float y) { return x != y ? 1.0f : 0.0f; }
static inline float f_lt(float x, float y) { return x < y ? 1.0f : 0.0f; }
static inline float f_le(float x, float y) { return x <= y ? 1.0f : 0.0f; }
static inline float f_gt(float x, float y) { return x > y ? 1.0f : 0.0f; }
static inline float f_ge(float x, float y) { return x >= y ? 1.0f : 0.0f; }

/* One row: o contiguous; a, b with strides sa, sb (0 = broadcast). The
   three branches let the compiler vectorise the common layouts. */
#define BINARY_ROW(F)                                                                      \
    static void row_##F(float *o, const float *a, const float *b, int64_t n, int64_t sa,  \
                        int64_t sb) {                                                      \
        if (sa == 1 && sb == 1) {                                                          \
            for (int64_t i = 0; i < n; i++)                                                \
                o[i] = F(a[i], b[i]);                                                      \
        } else if (sa == 1 && sb == 0) {                                                   \
            const float y = b[0];                                                          \
            for (int64_t i = 0; i < n; i++)                                                \
                o[i] = F(a[i], y);                                                         \
        } else if (sa == 0 && sb == 1) {                                                   \
            const float x = a[0];                                                          \
            for (int64_t i = 0; i < n; i++)                                                \
                o[i] = F(x, b[i]);                                                         \
        } else {                                                                           \
            for (int64_t i = 0; i < n; i++)                                                \
                o[i] = F(a[i * sa], b[i * sb]);                                            \
        }                                                                                  \
    }

BINARY_ROW(f_add)
BINARY_ROW(f_sub)
BINARY_ROW(f_mul)
BINARY_ROW(f_div)
BINARY_ROW(f_pow)
BINARY_ROW(f_max)
BINARY_ROW(f_min)
BINARY_ROW(f_eq)
BINARY_ROW(f_ne)
BINARY_ROW(f_lt)
BINARY_ROW(f_le)
BINARY_ROW(f_gt)
BINARY_ROW(f_ge)

typedef void (*BinaryRow)(float *, const float *, const float *, int64_t, int64_t, int64_t);

static const BinaryRow binary_rows[BIN_COUNT] = {
    [BIN_ADD] = row_f_add, [BIN_SUB] = row_f_sub, [BIN_MUL] = row_f_mul,
    [BIN_DIV] = row_f_div, [BIN_POW] = row_f_pow, [BIN_MAX] = row_f_max,
    [BIN_MIN] = row_f_min, [BIN_EQ] = row_f_eq,   [BIN_NE] = row_f_ne,
    [BIN_LT] = row_f_lt,   [BIN_LE] = row_f_le,   [BIN_GT] = row_f_gt,
    [BIN_GE] = row_f_ge,
};

static int binary_seg(void *ctx, float **p, int64_t n) {
    const Seg *g = ctx;
    g->binary(p[0], p[1], p[2], n, g->s1, g->s2);
    return AT_OK;
}

int cpu_binary(BinaryOp op, Tensor *out, const Tensor *a, const Tensor *b) {
    const Tensor *ops[3] = {out, a, b};
    Iter it;
    iter_init(&it, 3, ops);
    Seg g = {.s1 = iter_step(&it, 1), .s2 = iter_step(&it, 2), .binary = binary_rows[op]};
    return iter_for(&it, "elementwise", binary_seg, &g);
}

/* ---- unary ------------------------------------------------------------ */

static inline float u_neg(float x) { return -x; }
static inline float u_exp(float x) { return expf(x); }
static inline float u_log(float x) { return logf(x); }
static inline float u_sqrt(float x) { return sqrtf(x); }
static inline float u_abs(float x) { return fabsf(x); }
static inline float u_tanh(float x) { return tanhf(x); }
// Written so that neither branch overflows: exp of a non-positive number.
static inline float u_sigmoid(float x) {
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
static inline float u_relu(float x) { return x > 0.0f ? x : 0.0f; }
/*
 * The exact GELU x Phi(x), with the normal CDF from erf by Abramowitz &
 * Stegun 7.1.26 (|error| < 1.5e-7): for z = |x| / sqrt 2,
 *   1 - erf z = q(t) e^{-z^2},  q(t) = a1 t + ... + a5 t^5,  t = 1 / (1 + p z),
 * so Phi(x) = q e / 2 for x < 0 (no cancellation in the far left tail) and
 * 1 - q e / 2 otherwise. One exp and one division, like the tanh form;
 * libm's erff is an opaque call, and BERT runs it over every hidden unit.
 */
#define AS_P 0.3275911f
#define AS_Q(t) ((t) * (0.254829592f + (t) * (-0.284496736f + (t) * (1.421413741f + \
                 (t) * (-1.453152027f + (t) * 1.061405429f)))))
#define INV_SQRT2 0.70710678118654752f
#define INV_SQRT_2PI 0.39894228040143268f

/* The left tail q e / 2 and e = e^{-x^2 / 2}. */
static inline float half_tail(float x, float *e) {
    float z = fabsf(x) * INV_SQRT2, t = 1.0f / (1.0f + AS_P * z);
    *e = f_exp(-z * z);
    return 0.5f * AS_Q(t) * *e;
}

static inline float u_gelu(float x) {
    float e, h = half_tail(x, &e);
    return x * (x < 0.0f ? h : 1.0f - h);
}
/* GPT-2's tanh form, through 0.5 (1 + tanh u) = sigmoid(2u): then
   x / (1 + e^-2u) needs one exp and cancels nothing near 0. */
#define GELU_K 0.79788456080286536f // sqrt(2 / pi)
#define GELU_C 0.044715f
static inline float u_gelu_tanh(float x) {
    return x / (1.0f + f_exp(-2.0f * GELU_K * (x + GELU_C * x * x * x)));
}
// d/dx x Phi(x) = Phi(x) + x phi(x), phi(x) = e^{-x^2 / 2} / sqrt(2 pi)
static inline float u_gelu_grad(float x) {
    float e, h = half_tail(x, &e);
    return (x < 0.0f ? h : 1.0f - h) + x * INV_SQRT_2PI * e;
}

/* d/dx of x s(x), s = sigmoid(2u) = 1 / (1 + e), e = e^-2u, u = k (x + c x^3):
   s + x s (1 - s) 2 k (1 + 3 c x^2), with s (1 - s) = e s^2 (no cancellation
   where s is near 1; e s first, since e alone may be near FLT_MAX). */
static inline float u_gelu_tanh_grad(float x) {
    float e = f_exp(-2.0f * GELU_K * (x + GELU_C * x * x * x)), s = 1.0f / (1.0f + e);
    return s + 2.0f * GELU_K * x * (e * s) * s * (1.0f + 3.0f * GELU_C * x * x);
}
static inline float u_sin(float x) { return sinf(x); }
static inline float u_cos(float x) { return cosf(x); }
static inline float u_square(float x) { return x * x; }
static inline float u_reciprocal(float x) { return 1.0f / x; }
static inline float u_sign(float x) { return (float)((x > 0.0f) - (x < 0.0f)); }

#define UNARY_ROW(F)                                                                       \
    static void row_##F(float *o, const float *a, int64_t n, int64_t sa) {                \
        if (sa == 1)                                                                       \
            for (int64_t i = 0; i < n; i++)                                                \
                o[i] = F(a[i]);                                                            \
        else                                                                               \
            for (int64_t i = 0; i < n; i++)                                                \
                o[i] = F(a[i * sa]);                                                       \
    }

UNARY_ROW(u_neg)
UNARY_ROW(u_exp)
UNARY_ROW(u_log)
UNARY_ROW(u_sqrt)
UNARY_ROW(u_abs)
UNARY_ROW(u_tanh)
UNARY_ROW(u_sigmoid)
UNARY_ROW(u_relu)
UNARY_ROW(u_sin)
UNARY_ROW(u_cos)
UNARY_ROW(u_square)
UNARY_ROW(u_reciprocal)
UNARY_ROW(u_sign)

/* The GELU of GPT-2 runs over every hidden unit of every MLP, forward and
   backward: eight lanes at a time, the scalar form for the tail and for
   strided input. */
/* Phi(x) on eight lanes (see half_tail), and e = e^{-x^2 / 2}. */
#define V8_PHI(x, e, phi)                                                                  \
    do {                                                                                   \
        v8 z_ = v8_select((x) < 0.0f, -(x), (x)) * INV_SQRT2;                              \
        v8 t_ = 1.0f / (1.0f + AS_P * z_);                                                 \
        (e) = v8_exp(-z_ * z_);                                                            \
        v8 h_ = 0.5f * AS_Q(t_) * (e);                                                     \
        (phi) = v8_select((x) < 0.0f, h_, 1.0f - h_);                                      \
    } while (0)

/* A unary row with an eight-lane body: the statements after SCALAR compute
   y from x (both v8) for contiguous input; the tail and strided input take
   SCALAR. */
#define V8_UNARY_ROW(NAME, SCALAR, ...)                                                    \
    HOT static void NAME(float *o, const float *a, int64_t n, int64_t sa) {                \
        int64_t i = 0;                                                                     \
        if (sa == 1)                                                                       \
            for (; i + 8 <= n; i += 8) {                                                   \
                v8 x, y;                                                                   \
                LOAD8(x, a + i);                                                           \
                __VA_ARGS__;                                                               \
                STORE8(o + i, y);                                                          \
            }                                                                              \
        for (; i < n; i++)                                                                 \
            o[i] = SCALAR(a[i * sa]);                                                      \
    }

V8_UNARY_ROW(row_u_gelu, u_gelu, {
    v8 e, phi;
    V8_PHI(x, e, phi);
    y = x * phi;
})
V8_UNARY_ROW(row_u_gelu_grad, u_gelu_grad, {
    v8 e, phi;
    V8_PHI(x, e, phi);
    y = phi + x * INV_SQRT_2PI * e;
})
V8_UNARY_ROW(row_u_gelu_tanh, u_gelu_tanh,
             y = x / (1.0f + v8_exp(-2.0f * GELU_K * (x + GELU_C * x * x * x))))
V8_UNARY_ROW(row_u_gelu_tanh_grad, u_gelu_tanh_grad, {
    v8 e = v8_exp(-2.0f * GELU_K * (x + GELU_C * x * x * x)), s = 1.0f / (1.0f + e);
    y = s + 2.0f * GELU_K * x * (e * s) * s * (1.0f + 3.0f * GELU_C * x * x);
})

typedef void (*UnaryRow)(float *, const float *, int64_t, int64_t);

static const UnaryRow unary_rows[UN_COUNT] = {
    [UN_NEG] = row_u_neg,         [UN_EXP] = row_u_exp,
    [UN_LOG] = row_u_log,         [UN_SQRT] = row_u_sqrt,
    [UN_ABS] = row_u_abs,         [UN_TANH] = row_u_tanh,
    [UN_SIGMOID] = row_u_sigmoid, [UN_RELU] = row_u_relu,
    [UN_GELU] = row_u_gelu,       [UN_GELU_TANH] = row_u_gelu_tanh,
    [UN_SIN] = row_u_sin,         [UN_COS] = row_u_cos,
    [UN_SQUARE] = row_u_square,   [UN_RECIPROCAL] = row_u_reciprocal,
    [UN_SIGN] = row_u_sign,       [UN_GELU_GRAD] = row_u_gelu_grad,
    [UN_GELU_TANH_GRAD] = row_u_gelu_tanh_grad,
};

static int unary_seg(void *ctx, float **p, int64_t n) {
    const Seg *g = ctx;
    g->unary(p[0], p[1], n, g->s1);
    return AT_OK;
}

int cpu_unary(UnaryOp op, Tensor *out, const Tensor *a) {
    const Tensor *ops[2] = {out, a};
    Iter it;
    iter_init(&it, 2, ops);
    Seg g = {.s1 = iter_step(&it, 1), .unary = unary_rows[op]};
    return iter_for(&it, "elementwise", unary_seg, &g);
}
