/*
 * math.c: elementwise maps with numpy broadcasting, reductions, softmax,
 * norm and allclose.
 *
 * Broadcasting happens here, as views: each operand is expanded (stride 0
 * along broadcast dims) to the result's shape, so kernels never see two
 * shapes. A scalar operand is a 0-d tensor on the same device.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "tensor_ops.h"

static const char *const binary_names[BIN_COUNT] = {
    [BIN_ADD] = "add", [BIN_SUB] = "sub", [BIN_MUL] = "mul", [BIN_DIV] = "div",
    [BIN_POW] = "pow", [BIN_MAX] = "maximum", [BIN_MIN] = "minimum", [BIN_EQ] = "eq",
    [BIN_NE] = "ne", [BIN_LT] = "lt", [BIN_LE] = "le", [BIN_GT] = "gt", [BIN_GE] = "ge",
};

static const char *const unary_names[UN_COUNT] = {
    [UN_NEG] = "neg", [UN_EXP] = "exp", [UN_LOG] = "log", [UN_SQRT] = "sqrt",
    [UN_ABS] = "abs", [UN_TANH] = "tanh", [UN_SIGMOID] = "sigmoid", [UN_RELU] = "relu",
    [UN_GELU] = "gelu", [UN_GELU_TANH] = "gelu_tanh", [UN_SIN] = "sin", [UN_COS] = "cos",
    [UN_SQUARE] = "square", [UN_RECIPROCAL] = "reciprocal", [UN_SIGN] = "sign",
    [UN_GELU_GRAD] = "gelu_grad", [UN_GELU_TANH_GRAD] = "gelu_tanh_grad",
};

static const char *const reduce_names[RED_COUNT] = {
    [RED_SUM] = "sum", [RED_MEAN] = "mean", [RED_MAX] = "max",
    [RED_MIN] = "min", [RED_ARGMAX] = "argmax", [RED_ARGMIN] = "argmin",
};

const char *op_binary_name(BinaryOp op) { return binary_names[op]; }
const char *op_unary_name(UnaryOp op) { return unary_names[op]; }
const char *op_reduce_name(ReduceOp op) { return reduce_names[op]; }

static int devices_match(const char *who, const Tensor *a, const Tensor *b) {
    if (tensor_device(a) == tensor_device(b))
        return AT_OK;
    return at_error(AT_EDEVICE, "%s: operands are on two devices (%s and %s); move one with :to()",
                    who, device_name(tensor_device(a)), device_name(tensor_device(b)));
}

static int missing(const char *op, const Backend *be) {
    return at_error(AT_EDEVICE, "%s: not available on %s yet", op, be->name);
}

int op_broadcast_shape(int *ndim, int64_t *shape, const char *who, const Tensor *a,
                       const Tensor *b) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int i = 0; i < nd; i++) {
        // Right-aligned: dim i of the result meets dim i - (nd - t->ndim) of t.
        int ia = i - (nd - a->ndim), ib = i - (nd - b->ndim);
        int64_t sa = ia >= 0 ? a->shape[ia] : 1, sb = ib >= 0 ? b->shape[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            char x[160], y[160];
            return at_error(AT_ESHAPE, "%s: shapes %s and %s cannot broadcast (dim %d: %lld vs %lld)",
                            who, tensor_shape_str(x, sizeof x, a), tensor_shape_str(y, sizeof y, b),
                            i + 1, (long long)sa, (long long)sb);
        }
        shape[i] = sa == 1 ? sb : sa;
    }
    *ndim = nd;
    return AT_OK;
}

int op_binary(Tensor **out, BinaryOp op, const Tensor *a, const Tensor *b) {
    const char *who = binary_names[op];
    int nd;
    int64_t shape[AT_MAXDIM];
    *out = NULL;
    if (devices_match(who, a, b) || op_broadcast_shape(&nd, shape, who, a, b))
        return at_errcode();
    const Backend *be = backend_of(a);
    if (!be->binary)
        return missing(who, be);
    Tensor *ax = tensor_expand(a, nd, shape), *bx = ax ? tensor_expand(b, nd, shape) : NULL;
    int st = bx ? op_empty(out, nd, shape, tensor_device(a)) : at_errcode();
    if (!st)
        st = be->binary(op, *out, ax, bx);
    tensor_release(ax);
    tensor_release(bx);
    if (st) {
        tensor_release(*out);
        *out = NULL;
    }
    return st;
}

int op_add_into(Tensor *dst, const Tensor *src) {
    char a[160], b[160];
    if (devices_match("add", dst, src))
        return at_errcode();
    if (!tensor_is_contiguous(dst) || dst->ndim != src->ndim ||
        shape_numel(dst->ndim, dst->shape) != tensor_numel(src) ||
        memcmp(dst->shape, src->shape, sizeof(int64_t) * (size_t)dst->ndim) != 0)
        return at_error(AT_ESHAPE, "add: cannot add %s into %s in place",
                        tensor_shape_str(a, sizeof a, src), tensor_shape_str(b, sizeof b, dst));
    const Backend *be = backend_of(dst);
    if (!be->binary)
        return missing("add", be);
    dst->storage->version++;
    // Elementwise kernels read element i of each input before writing
    // element i of out, so out may be an input.
    return be->binary(BIN_ADD, dst, dst, src);
}

int op_binary_scalar(Tensor **out, BinaryOp op, const Tensor *a, float s, int scalar_first) {
    Tensor *st_t;
    *out = NULL;
    if (op_full(&st_t, 0, NULL, s, tensor_device(a)))
        return at_errcode();
    int st = scalar_first ? op_binary(out, op, st_t, a) : op_binary(out, op, a, st_t);
    tensor_release(st_t);
    return st;
}

int op_unary(Tensor **out, UnaryOp op, const Tensor *a) {
    const Backend *be = backend_of(a);
    *out = NULL;
    if (!be->unary)
        return missing(unary_names[op], be);
    if (op_empty(out, a->ndim, a->shape, tensor_device(a)))
        return at_errcode();
    int st = be->unary(op, *out, a);
    if (st) {
        tensor_release(*out);
        *out = NULL;
    }
    return st;
}

/* Reduce over every element: view a as 1-d (copying if its layout needs). */
static int reduce_all(Tensor **out, ReduceOp op, const Tensor *a, int keepdim) {
    int64_t n = tensor_numel(a), ones[AT_MAXDIM];
    Tensor *flat, *r;
    if (op_reshape(&flat, (Tensor *)a, 1, &n))
        return at_errcode();
    int st = op_reduce(&r, op, flat, 0, 1);
    tensor_release(flat);
    if (st)
        return st;
    for (int i = 0; i < AT_MAXDIM; i++)
        ones[i] = 1;
    st = op_reshape(out, r, keepdim ? a->ndim : 1, ones);
    tensor_release(r);
    return st;
}

int op_reduce(Tensor **out, ReduceOp op, const Tensor *a, int dim, int keepdim) {
    const char *who = reduce_names[op];
    const Backend *be = backend_of(a);
    *out = NULL;
    if (dim < 0)
        return reduce_all(out, op, a, keepdim);
    if (dim >= a->ndim)
        return at_error(AT_EINVAL, "%s: dim %d out of range for a %d-d tensor", who, dim + 1,
                        a->ndim);
    if ((op == RED_MAX || op == RED_MIN || op == RED_ARGMAX || op == RED_ARGMIN) &&
        a->shape[dim] == 0)
        return at_error(AT_EINVAL, "%s: dim %d is empty", who, dim + 1);
    if (!be->reduce)
        return missing(who, be);
    int64_t shape[AT_MAXDIM];
    for (int i = 0, j = 0; i < a->ndim; i++)
        if (i != dim)
            shape[j++] = a->shape[i];
    if (op_empty(out, a->ndim - 1, shape, tensor_device(a)))
        return at_errcode();
    int st = be->reduce(op, *out, a, dim);
    if (!st && keepdim) {
        Tensor *kept = tensor_unsqueeze(*out, dim);
        st = kept ? AT_OK : at_errcode();
        tensor_release(*out);
        *out = kept;
    }
    if (st) {
        tensor_release(*out);
        *out = NULL;
    }
    return st;
}

int op_softmax(Tensor **out, const Tensor *a, int dim) {
    const Backend *be = backend_of(a);
    *out = NULL;
    if (dim < 0 || dim >= a->ndim)
        return at_error(AT_EINVAL, "softmax: dim %d out of range for a %d-d tensor", dim + 1,
                        a->ndim);
    if (!be->softmax)
        return missing("softmax", be);
    if (op_empty(out, a->ndim, a->shape, tensor_device(a)))
        return at_errcode();
    int st = be->softmax(*out, a, dim);
    if (st) {
        tensor_release(*out);
        *out = NULL;
    }
    return st;
}

/* sqrt(sum(x^2)) overflows float once elements pass ~1e19, so scale by
   the largest magnitude m first: norm = m * sqrt(sum((x/m)^2)). */
int op_norm(Tensor **out, const Tensor *a) {
    Tensor *abs_a = NULL, *m = NULL, *scaled = NULL, *sq = NULL, *sum = NULL, *root = NULL;
    float mv = 0.0f;
    *out = NULL;
    if (tensor_numel(a) == 0)
        return op_full(out, 1, (int64_t[]){1}, 0.0f, tensor_device(a));
    int st = op_unary(&abs_a, UN_ABS, a);
    if (!st)
        st = op_reduce(&m, RED_MAX, abs_a, -1, 0);
    if (!st)
        st = op_read(&mv, m);
    if (!st && (mv == 0.0f || !isfinite(mv))) { // all zero, or inf/NaN: m says it all
        tensor_retain(m);
        *out = m;
    } else if (!st) {
        st = op_binary(&scaled, BIN_DIV, a, m);
        if (!st)
            st = op_unary(&sq, UN_SQUARE, scaled);
        if (!st)
            st = op_reduce(&sum, RED_SUM, sq, -1, 0);
        if (!st)
            st = op_unary(&root, UN_SQRT, sum);
        if (!st)
            st = op_binary(out, BIN_MUL, root, m);
    }
    tensor_release(abs_a), tensor_release(m), tensor_release(scaled);
    tensor_release(sq), tensor_release(sum), tensor_release(root);
    return st;
}

int op_allclose(int *result, const Tensor *a, const Tensor *b, float rtol, float atol) {
    int nd;
    int64_t shape[AT_MAXDIM];
    *result = 0;
    if (devices_match("allclose", a, b) || op_broadcast_shape(&nd, shape, "allclose", a, b))
        return at_errcode();
    int64_t n = shape_numel(nd, shape);
    Tensor *ax = tensor_expand(a, nd, shape), *bx = ax ? tensor_expand(b, nd, shape) : NULL;
    float *x = malloc((size_t)(n ? n : 1) * 4), *y = malloc((size_t)(n ? n : 1) * 4);
    int st = (!bx || !x || !y) ? at_error(AT_ENOMEM, "allclose: out of memory") : AT_OK;
    if (!st)
        st = op_read(x, ax);
    if (!st)
        st = op_read(y, bx);
    if (!st) {
        int close = 1;
        // Infinities are close only to themselves; NaN to nothing.
        for (int64_t i = 0; i < n && close; i++)
            close = fabsf(x[i] - y[i]) <= atol + rtol * fabsf(y[i]) ||
                    (isinf(x[i]) && x[i] == y[i]);
        *result = close;
    }
    free(x);
    free(y);
    tensor_release(ax);
    tensor_release(bx);
    return st;
}

int op_set_threads(int n) {
    if (n < 1 || n > 1024)
        return at_error(AT_EINVAL, "threads: %d is not a thread count (1..1024)", n);
    return cpu_backend()->set_threads(n);
}

int op_get_threads(void) { return cpu_backend()->get_threads(); }
