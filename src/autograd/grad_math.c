/*
 * grad_math.c: elementwise maps, reductions, softmax and matmul with their
 * backward formulas. Each backward function differentiates the forward
 * just above it, and computes with the ops layer (so it runs on whatever
 * device the tensors live on).
 *
 * Notation in comments: out = f(a, b), g = d loss / d out.
 */
#include <config.h>

#include <math.h>

#include "../core/error.h"
#include "node.h"

/* A little stack language for backward formulas: each call makes a new
   tensor or fails; T releases a temporary. */
#define T(x) tensor_release(x)

/* g itself as a gradient that passes through unchanged: a new reference,
   not a copy (the tape copies it before anyone could write it). */
static int share(Tensor **o, const Tensor *g) {
    *o = (Tensor *)g;
    tensor_retain(*o);
    return AT_OK;
}

static int mul(Tensor **o, const Tensor *a, const Tensor *b) { return op_binary(o, BIN_MUL, a, b); }
static int scale(Tensor **o, const Tensor *a, float s) {
    return op_binary_scalar(o, BIN_MUL, a, s, 0);
}

/* ---- binary ---------------------------------------------------------------- */

/* gin = sum_to(x) for input i, if it wants a gradient. */
static int route(Node *n, int i, Tensor **gin, const Tensor *x) {
    if (!n->in[i])
        return AT_OK;
    const Tensor *in = n->in[i];
    return sum_to(&gin[i], x, in->ndim, in->shape);
}

/* Gradient of one operand of a op b, before undoing broadcasting.
   a = saved[0], b = saved[1], out = saved[2]. */
static int binary_local(Node *n, int i, const Tensor *g, Tensor **x) {
    const Tensor *a = n->saved[0], *b = n->saved[1];
    Tensor *t1 = NULL, *t2 = NULL;
    int st;
    switch ((BinaryOp)n->iarg[0]) {
    case BIN_ADD: // d/da = 1, d/db = 1
        return share(x, g);
    case BIN_SUB: // d/da = 1, d/db = -1
        return i == 0 ? share(x, g) : op_unary(x, UN_NEG, g);
    case BIN_MUL: // d/da = b, d/db = a
        return mul(x, g, i == 0 ? b : a);
    case BIN_DIV: // d/da = 1/b, d/db = -a/b^2 = -out/b
        if (i == 0)
            return op_binary(x, BIN_DIV, g, b);
        st = op_binary(&t1, BIN_DIV, n->saved[2], b);
        if (!st)
            st = mul(&t2, g, t1);
        if (!st)
            st = op_unary(x, UN_NEG, t2);
        break;
    case BIN_POW: // d/da = b a^(b-1) = b out / a, d/db = out ln a
        if (i == 0) {
            st = op_binary(&t1, BIN_DIV, n->saved[2], a);
            if (!st)
                st = mul(&t2, t1, b);
        } else {
            st = op_unary(&t1, UN_LOG, a);
            if (!st)
                st = mul(&t2, t1, n->saved[2]);
        }
        if (!st)
            st = mul(x, g, t2);
        break;
    case BIN_MAX:
    case BIN_MIN: // the winner takes g (a on ties)
        st = op_binary(&t1, i == 0 ? (n->iarg[0] == BIN_MAX ? BIN_GE : BIN_LE)
                                   : (n->iarg[0] == BIN_MAX ? BIN_LT : BIN_GT), a, b);
        if (!st)
            st = mul(x, g, t1);
        break;
    default:
        return at_error(AT_EINVAL, "backward: %s has no gradient", n->name);
    }
    T(t1), T(t2);
    return st;
}

static int binary_backward(Node *n, const Tensor *g, Tensor **gin) {
    for (int i = 0; i < 2; i++) {
        if (!n->in[i])
            continue;
        Tensor *x;
        int st = binary_local(n, i, g, &x);
        if (!st)
            st = route(n, i, gin, x);
        if (!st)
            T(x);
        if (st)
            return st;
    }
    return AT_OK;
}

static int differentiable(BinaryOp op) { return op <= BIN_MIN; }

int ag_binary(Tensor **out, BinaryOp op, Tensor *a, Tensor *b) {
    Tensor *ins[2] = {a, b};
    int st = op_binary(out, op, a, b);
    if (st || !differentiable(op) || !ag_any(2, ins))
        return st;
    Node *n = node_new(op_binary_name(op), binary_backward, 2, ins);
    if (n) {
        n->iarg[0] = op;
        st = node_save(n, 0, a) || node_save(n, 1, b) || node_save(n, 2, *out);
    }
    return node_attach(n, out, st);
}

/* a op s (or s op a): the scalar is a constant, only a gets a gradient. */
static int scalar_backward(Node *n, const Tensor *g, Tensor **gin) {
    const Tensor *a = n->saved[0], *out = n->saved[1];
    float s = n->farg;
    int first = n->iarg[1];
    Tensor *t1 = NULL, *t2 = NULL;
    int st;
    switch ((BinaryOp)n->iarg[0]) {
    case BIN_ADD:
        return share(&gin[0], g);
    case BIN_SUB: // a - s: 1; s - a: -1
        return first ? op_unary(&gin[0], UN_NEG, g) : share(&gin[0], g);
    case BIN_MUL:
        return scale(&gin[0], g, s);
    case BIN_DIV: // a / s: 1/s; s / a: -s / a^2 = -out / a
        if (!first)
            return scale(&gin[0], g, 1.0f / s);
        st = op_binary(&t1, BIN_DIV, out, a);
        if (!st)
            st = mul(&t2, g, t1);
        if (!st)
            st = op_unary(&gin[0], UN_NEG, t2);
        break;
    case BIN_POW: // a ^ s: s a^(s-1); s ^ a: out ln s
        if (first) {
            st = mul(&t1, g, out);
            if (!st)
                st = scale(&gin[0], t1, logf(s));
            break;
        }
        st = op_binary_scalar(&t1, BIN_POW, a, s - 1.0f, 0);
        if (!st)
            st = mul(&t2, g, t1);
        if (!st)
            st = scale(&gin[0], t2, s);
        break;
    case BIN_MAX: // a wins where a >= s (a on ties), s is a constant
    case BIN_MIN:
        st = op_binary_scalar(&t1, n->iarg[0] == BIN_MAX ? BIN_GE : BIN_LE, a, s, 0);
        if (!st)
            st = mul(&gin[0], g, t1);
        break;
    default:
        return at_error(AT_EINVAL, "backward: %s has no gradient", n->name);
    }
    T(t1), T(t2);
    return st;
}

int ag_binary_scalar(Tensor **out, BinaryOp op, Tensor *a, float s, int scalar_first) {
    int st = op_binary_scalar(out, op, a, s, scalar_first);
    if (st || !differentiable(op) || !ag_any(1, &a))
        return st;
    Node *n = node_new(op_binary_name(op), scalar_backward, 1, &a);
    if (n) {
        n->iarg[0] = op;
        n->iarg[1] = scalar_first;
        n->farg = s;
        st = node_save(n, 0, a) || node_save(n, 1, *out);
    }
    return node_attach(n, out, st);
}

/* ---- unary ------------------------------------------------------------------ */

/* d out / d a as a tensor, from a = saved[0] and out = saved[1]. */
static int unary_local(Node *n, Tensor **d) {
    const Tensor *a = n->saved[0], *out = n->saved[1];
    Tensor *t1 = NULL, *t2 = NULL;
    int st = AT_OK;
    switch ((UnaryOp)n->iarg[0]) {
    case UN_NEG: return op_full(d, a->ndim, a->shape, -1.0f, tensor_device(a));
    case UN_EXP: return op_clone(d, out);                       // exp a
    case UN_LOG: return op_unary(d, UN_RECIPROCAL, a);          // 1 / a
    case UN_SQRT: st = op_unary(&t1, UN_RECIPROCAL, out);       // 1 / (2 out)
        if (!st) st = scale(d, t1, 0.5f);
        break;
    case UN_ABS: return op_unary(d, UN_SIGN, a);
    case UN_TANH: st = op_unary(&t1, UN_SQUARE, out);           // 1 - out^2
        if (!st) st = op_binary_scalar(d, BIN_SUB, t1, 1.0f, 1);
        break;
    case UN_SIGMOID: st = op_binary_scalar(&t1, BIN_SUB, out, 1.0f, 1); // out (1 - out)
        if (!st) st = mul(d, out, t1);
        break;
    case UN_RELU: return op_binary_scalar(d, BIN_GT, a, 0.0f, 0);
    case UN_GELU: return op_unary(d, UN_GELU_GRAD, a);
    case UN_GELU_TANH: return op_unary(d, UN_GELU_TANH_GRAD, a);
    case UN_SIN: return op_unary(d, UN_COS, a);
    case UN_COS: st = op_unary(&t1, UN_SIN, a);
        if (!st) st = op_unary(d, UN_NEG, t1);
        break;
    case UN_SQUARE: return scale(d, a, 2.0f);
    case UN_RECIPROCAL: st = op_unary(&t1, UN_SQUARE, out);     // -1 / a^2
        if (!st) st = op_unary(d, UN_NEG, t1);
        break;
    case UN_SIGN: return op_full(d, a->ndim, a->shape, 0.0f, tensor_device(a));
    default: return at_error(AT_EINVAL, "backward: %s has no gradient", n->name);
    }
    T(t1), T(t2);
    return st;
}

static int unary_backward(Node *n, const Tensor *g, Tensor **gin) {
    Tensor *d;
    int st = unary_local(n, &d);
    if (st)
        return st;
    st = mul(&gin[0], g, d);
    T(d);
    return st;
}

int ag_unary(Tensor **out, UnaryOp op, Tensor *a) {
    int st = op_unary(out, op, a);
    if (st || !ag_any(1, &a))
        return st;
    Node *n = node_new(op_unary_name(op), unary_backward, 1, &a);
    if (n) {
        n->iarg[0] = op;
        st = node_save(n, 0, a) || node_save(n, 1, *out);
    }
    return node_attach(n, out, st);
}

/* ---- reductions --------------------------------------------------------------- */

/* g (reduced shape) back to a's shape: put the dim back, then broadcast. */
static int spread(Tensor **x, Node *n, const Tensor *g) {
    int dim = n->iarg[1], keepdim = n->iarg[2];
    Tensor *k = NULL;
    int st;
    if (dim < 0) {
        int64_t ones[AT_MAXDIM];
        for (int d = 0; d < n->ndim; d++)
            ones[d] = 1;
        st = op_reshape(&k, (Tensor *)g, n->ndim, ones);
    } else if (!keepdim) {
        k = tensor_unsqueeze(g, dim);
        st = k ? AT_OK : at_errcode();
    } else {
        k = (Tensor *)g;
        tensor_retain(k);
        st = AT_OK;
    }
    if (!st)
        *x = tensor_expand(k, n->ndim, n->shape), st = *x ? AT_OK : at_errcode();
    T(k);
    return st;
}

/* max/min route g to the first position that won (argmax), as torch does. */
static int winner_mask(Tensor **mask, Node *n) {
    const Tensor *a = n->saved[0];
    int dim = n->iarg[1] < 0 ? -1 : n->iarg[1];
    Tensor *idx = NULL, *pos = NULL, *posv = NULL, *flat = NULL;
    ReduceOp arg = n->iarg[0] == RED_MAX ? RED_ARGMAX : RED_ARGMIN;
    int64_t len = dim < 0 ? tensor_numel(a) : a->shape[dim];
    int st = AT_OK;
    if (dim < 0) { // over everything: positions in row-major order
        int64_t numel = tensor_numel(a);
        st = op_reshape(&flat, (Tensor *)a, 1, &numel);
    }
    const Tensor *src = dim < 0 ? flat : a;
    int d = dim < 0 ? 0 : dim;
    if (!st)
        st = op_reduce(&idx, arg, src, d, 1);
    if (!st)
        st = op_arange(&pos, 0, (double)len, 1, tensor_device(a));
    if (!st) { // positions laid along dim: shape [1,..,len,..,1]
        int64_t shape[AT_MAXDIM];
        for (int i = 0; i < src->ndim; i++)
            shape[i] = i == d ? len : 1;
        st = op_reshape(&posv, pos, src->ndim, shape);
    }
    Tensor *m = NULL;
    if (!st)
        st = op_binary(&m, BIN_EQ, posv, idx);
    if (!st && dim < 0)
        st = op_reshape(mask, m, a->ndim, a->shape), T(m);
    else if (!st)
        *mask = m;
    T(idx), T(pos), T(posv), T(flat);
    return st;
}

static int reduce_backward(Node *n, const Tensor *g, Tensor **gin) {
    Tensor *x = NULL, *mask = NULL;
    ReduceOp op = (ReduceOp)n->iarg[0];
    int st = spread(&x, n, g);
    if (st)
        return st;
    if (op == RED_SUM) {
        st = op_clone(&gin[0], x);
    } else if (op == RED_MEAN) {
        int64_t count = n->iarg[1] < 0 ? shape_numel(n->ndim, n->shape) : n->shape[n->iarg[1]];
        st = scale(&gin[0], x, 1.0f / (float)count);
    } else {
        st = winner_mask(&mask, n);
        if (!st)
            st = mul(&gin[0], x, mask);
    }
    T(x), T(mask);
    return st;
}

int ag_reduce(Tensor **out, ReduceOp op, Tensor *a, int dim, int keepdim) {
    int st = op_reduce(out, op, a, dim, keepdim);
    if (st || op == RED_ARGMAX || op == RED_ARGMIN || !ag_any(1, &a))
        return st;
    Node *n = node_new(op_reduce_name(op), reduce_backward, 1, &a);
    if (n) {
        n->iarg[0] = op;
        n->iarg[1] = dim;
        n->iarg[2] = keepdim;
        st = node_save(n, 0, a);
    }
    return node_attach(n, out, st);
}

/* ---- softmax and norm ------------------------------------------------------------ */

/* da = out * (g - sum(g * out, dim)) */
static int softmax_backward(Node *n, const Tensor *g, Tensor **gin) {
    const Tensor *out = n->saved[0];
    Tensor *go = NULL, *s = NULL, *diff = NULL;
    int st = mul(&go, g, out);
    if (!st)
        st = op_reduce(&s, RED_SUM, go, n->iarg[0], 1);
    if (!st)
        st = op_binary(&diff, BIN_SUB, g, s);
    if (!st)
        st = mul(&gin[0], out, diff);
    T(go), T(s), T(diff);
    return st;
}

int ag_softmax(Tensor **out, Tensor *a, int dim) {
    int st = op_softmax(out, a, dim);
    if (st || !ag_any(1, &a))
        return st;
    Node *n = node_new("softmax", softmax_backward, 1, &a);
    if (n) {
        n->iarg[0] = dim;
        st = node_save(n, 0, *out);
    }
    return node_attach(n, out, st);
}

/* d |a| / da = a / |a| (zero where the norm is zero). */
static int norm_backward(Node *n, const Tensor *g, Tensor **gin) {
    const Tensor *a = n->saved[0], *nrm = n->saved[1];
    Tensor *q = NULL, *safe = NULL;
    float v = 0;
    int st = op_read(&v, nrm);
    if (!st && v == 0.0f)
        return op_full(&gin[0], a->ndim, a->shape, 0.0f, tensor_device(a));
    if (!st)
        st = op_binary(&q, BIN_DIV, g, nrm);
    if (!st)
        st = mul(&safe, a, q);
    if (!st)
        gin[0] = safe, safe = NULL;
    T(q), T(safe);
    return st;
}

int ag_norm(Tensor **out, Tensor *a) {
    int st = op_norm(out, a);
    if (st || !ag_any(1, &a))
        return st;
    Node *n = node_new("norm", norm_backward, 1, &a);
    if (n)
        st = node_save(n, 0, a) || node_save(n, 1, *out);
    return node_attach(n, out, st);
}

/* ---- matmul ------------------------------------------------------------------------- */

/* t as a matrix operand: 1-d vectors get the dim numpy gives them. */
static Tensor *as_matrix(const Tensor *t, int is_left) {
    if (t->ndim >= 2) {
        tensor_retain((Tensor *)t);
        return (Tensor *)t;
    }
    return tensor_unsqueeze(t, is_left ? 0 : 1);
}

static Tensor *mT(const Tensor *t) { return tensor_transpose(t, t->ndim - 2, t->ndim - 1); }

/* db for a weight b (K, N) shared by a batch a (B..., M, K): the batch and
   row dims of a and g are one long row dim, so db = a^T g is one product
   instead of B products summed afterwards. */
static int weight_grad(Tensor **db, const Tensor *a, const Tensor *g, const Tensor *in) {
    int64_t rows = shape_numel(a->ndim - 1, a->shape);
    int64_t ashape[2] = {rows, a->shape[a->ndim - 1]}, gshape[2] = {rows, g->shape[g->ndim - 1]};
    Tensor *af = NULL, *gf = NULL, *at = NULL, *x = NULL;
    int st = op_reshape(&af, (Tensor *)a, 2, ashape);
    if (!st)
        st = op_reshape(&gf, (Tensor *)g, 2, gshape);
    if (!st)
        st = (at = mT(af)) ? op_matmul(&x, at, gf) : at_errcode();
    if (!st)
        st = op_reshape(db, x, in->ndim, in->shape);
    T(af), T(gf), T(at), T(x);
    return st;
}

/* out = a @ b:  da = g @ b^T,  db = a^T @ g  (then summed over broadcast
   batch dims). With 1-d operands, g first gets back the dims they lost. */
static int matmul_backward(Node *n, const Tensor *g, Tensor **gin) {
    const Tensor *a = n->saved[0], *b = n->saved[1];
    Tensor *am = as_matrix(a, 1), *bm = as_matrix(b, 0), *g2 = NULL, *t = NULL, *x = NULL;
    int st = am && bm ? AT_OK : at_errcode();
    if (!st) { // g with a's row dim and b's column dim restored
        g2 = (Tensor *)g;
        tensor_retain(g2);
        if (a->ndim == 1) { Tensor *u = tensor_unsqueeze(g2, g2->ndim - (b->ndim == 1 ? 0 : 1)); T(g2); g2 = u; }
        if (b->ndim == 1 && g2) { Tensor *u = tensor_unsqueeze(g2, g2->ndim); T(g2); g2 = u; }
        st = g2 ? AT_OK : at_errcode();
    }
    for (int i = 0; i < 2 && !st; i++) {
        if (!n->in[i])
            continue;
        const Tensor *in = n->in[i], *mat = i == 0 ? am : bm;
        if (i == 1 && bm->ndim == 2 && am->ndim > 2) {
            st = weight_grad(&gin[1], am, g2, in);
            continue;
        }
        t = mT(i == 0 ? bm : am);
        st = t ? (i == 0 ? op_matmul(&x, g2, t) : op_matmul(&x, t, g2)) : at_errcode();
        T(t), t = NULL;
        Tensor *y = NULL;
        if (!st)
            st = sum_to(&y, x, mat->ndim, mat->shape);
        if (!st)
            st = op_reshape(&gin[i], y, in->ndim, in->shape);
        T(x), T(y), x = NULL;
    }
    T(am), T(bm), T(g2);
    return st;
}

/* out = x W^T + b:  dx = g W,  dW = g^T x (batch and row dims of x and g
   seen as one),  db = g summed over every dim but the last. */
static int linear_backward(Node *n, const Tensor *g, Tensor **gin) {
    const Tensor *x = n->saved[0], *w = n->saved[1];
    int st = AT_OK;
    if (n->in[0])
        st = op_matmul(&gin[0], g, w);
    if (!st && n->in[1])
        st = weight_grad(&gin[1], g, x, w);
    if (!st && n->in[2])
        st = sum_to(&gin[2], g, 1, &w->shape[0]);
    return st;
}

int ag_linear(Tensor **out, Tensor *x, Tensor *w, Tensor *b) {
    Tensor *ins[3] = {x, w, b};
    int st = op_linear(out, x, w, b);
    if (st || !ag_any(3, ins))
        return st;
    Node *n = node_new("linear", linear_backward, 3, ins);
    if (n)
        st = node_save(n, 0, x) || node_save(n, 1, w);
    return node_attach(n, out, st);
}

int ag_matmul(Tensor **out, Tensor *a, Tensor *b) {
    Tensor *ins[2] = {a, b};
    int st = op_matmul(out, a, b);
    if (st || !ag_any(2, ins))
        return st;
    Node *n = node_new("matmul", matmul_backward, 2, ins);
    if (n)
        st = node_save(n, 0, a) || node_save(n, 1, b);
    return node_attach(n, out, st);
}
