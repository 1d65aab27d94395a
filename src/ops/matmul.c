/*
 * matmul.c: numpy's matmul on tensors of any rank.
 *
 * a (..., M, K) @ b (..., K, N) -> (..., M, N) with the batch dims
 * broadcast. A 1-d a is a row vector (1, K) and a 1-d b a column (K, 1);
 * the added dim is dropped from the result, as in numpy. Transposed views
 * go to BLAS as transposes; only matrices with no unit stride at all
 * (broadcast rows, every-other-column views) are copied first.
 *
 * linear is x W^T + b with the bias put in the result first and the product
 * added to it (BLAS's beta = 1): one pass over the output less than a
 * product and then an add.
 */
#include <config.h>

#include "../core/error.h"
#include "tensor_ops.h"

/* Can BLAS read this matrix (its last two dims) in place? */
static int blas_ready(const Tensor *t) {
    int nd = t->ndim;
    int64_t rows = t->shape[nd - 2], cols = t->shape[nd - 1];
    int64_t rs = t->strides[nd - 2], cs = t->strides[nd - 1];
    const int64_t limit = (int64_t)1 << 30; // leading dims must fit BLAS's int
    if (rs > limit || cs > limit)
        return 0;
    return (cs == 1 && (rs >= cols || rows == 1)) || (rs == 1 && (cs >= rows || cols == 1));
}

/* t viewed with a leading (or trailing) 1 for vectors, made BLAS-ready. */
static int as_matrix(Tensor **out, const Tensor *t, int is_left) {
    Tensor *m = t->ndim == 1 ? tensor_unsqueeze(t, is_left ? 0 : 1) : NULL;
    if (t->ndim == 1 && !m)
        return at_errcode();
    if (!m) {
        m = (Tensor *)t;
        tensor_retain(m);
    }
    if (blas_ready(m)) {
        *out = m;
        return AT_OK;
    }
    int st = op_clone(out, m);
    tensor_release(m);
    return st;
}

/* Output shape and the batch-expanded operands. */
static int plan(Tensor **ax, Tensor **bx, int *nd, int64_t *shape, const Tensor *a,
                const Tensor *b) {
    char x[160], y[160];
    int64_t M = a->shape[a->ndim - 2], K = a->shape[a->ndim - 1];
    int64_t K2 = b->shape[b->ndim - 2], N = b->shape[b->ndim - 1];
    if (K != K2)
        return at_error(AT_ESHAPE, "matmul: shapes %s and %s do not match (inner dims %lld and %lld)",
                        tensor_shape_str(x, sizeof x, a), tensor_shape_str(y, sizeof y, b),
                        (long long)K, (long long)K2);
    // Broadcast the batch dims: the shapes without their last two dims.
    Tensor abatch = *a, bbatch = *b;
    abatch.ndim -= 2;
    bbatch.ndim -= 2;
    if (op_broadcast_shape(nd, shape, "matmul", &abatch, &bbatch))
        return at_errcode();
    int64_t ashape[AT_MAXDIM], bshape[AT_MAXDIM];
    if (*nd + 2 > AT_MAXDIM)
        return at_error(AT_EINVAL, "matmul: result would have over %d dims", AT_MAXDIM);
    for (int i = 0; i < *nd; i++)
        ashape[i] = bshape[i] = shape[i];
    ashape[*nd] = M, ashape[*nd + 1] = K;
    bshape[*nd] = K, bshape[*nd + 1] = N;
    shape[*nd] = M, shape[*nd + 1] = N;
    *nd += 2;
    *ax = tensor_expand(a, *nd, ashape);
    *bx = *ax ? tensor_expand(b, *nd, bshape) : NULL;
    return *bx ? AT_OK : at_errcode();
}

/* Drop the dims that 1-d operands added. */
static int squeeze_vectors(Tensor **out, int a_vec, int b_vec) {
    if (!a_vec && !b_vec)
        return AT_OK;
    Tensor *r = *out;
    int64_t shape[AT_MAXDIM];
    int nd = 0;
    for (int i = 0; i < r->ndim; i++) {
        if ((a_vec && i == r->ndim - 2) || (b_vec && i == r->ndim - 1))
            continue;
        shape[nd++] = r->shape[i];
    }
    *out = tensor_view(r, nd, shape);
    tensor_release(r);
    return *out ? AT_OK : at_errcode();
}

/* a @ b, into a fresh out; with `init` (expandable to out's shape), out
   starts as init and the product is added to it by the backend. */
static int matmul_run(Tensor **out, const Tensor *a, const Tensor *b, const Tensor *init) {
    *out = NULL;
    if (a->ndim == 0 || b->ndim == 0)
        return at_error(AT_ESHAPE, "matmul: operands must have at least 1 dim (got %d and %d); "
                        "use * for scalars", a->ndim, b->ndim);
    if (tensor_device(a) != tensor_device(b))
        return at_error(AT_EDEVICE, "matmul: operands are on two devices (%s and %s)",
                        device_name(tensor_device(a)), device_name(tensor_device(b)));
    const Backend *be = backend_of(a);
    if (!be->matmul)
        return at_error(AT_EDEVICE, "matmul: not available on %s yet", be->name);
    Tensor *am = NULL, *bm = NULL, *ax = NULL, *bx = NULL;
    int nd, st;
    int64_t shape[AT_MAXDIM];
    st = as_matrix(&am, a, 1);
    if (!st)
        st = as_matrix(&bm, b, 0);
    if (!st)
        st = plan(&ax, &bx, &nd, shape, am, bm);
    if (!st)
        st = op_empty(out, nd, shape, tensor_device(a));
    if (!st && init) {
        Tensor *ix = tensor_expand(init, nd, shape);
        st = ix ? be->copy(*out, ix) : at_errcode();
        tensor_release(ix);
    }
    if (!st)
        st = init ? be->matmul_acc(*out, ax, bx) : be->matmul(*out, ax, bx);
    if (!st)
        st = squeeze_vectors(out, a->ndim == 1, b->ndim == 1);
    if (st) {
        tensor_release(*out);
        *out = NULL;
    }
    tensor_release(am);
    tensor_release(bm);
    tensor_release(ax);
    tensor_release(bx);
    return st;
}

int op_matmul(Tensor **out, const Tensor *a, const Tensor *b) {
    return matmul_run(out, a, b, NULL);
}

int op_linear(Tensor **out, const Tensor *x, const Tensor *w, const Tensor *b) {
    char xs[160], ws[160], bs[160];
    *out = NULL;
    if (x->ndim < 1 || w->ndim != 2 || x->shape[x->ndim - 1] != w->shape[1])
        return at_error(AT_ESHAPE, "linear: x %s and W %s do not fit (W must be [out, in] with "
                        "in = x's last dim)", tensor_shape_str(xs, sizeof xs, x),
                        tensor_shape_str(ws, sizeof ws, w));
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return at_error(AT_ESHAPE, "linear: the bias %s does not fit W %s (it needs [%lld])",
                        tensor_shape_str(bs, sizeof bs, b), tensor_shape_str(ws, sizeof ws, w),
                        (long long)w->shape[0]);
    if (b && tensor_device(b) != tensor_device(x))
        return at_error(AT_EDEVICE, "linear: operands are on two devices (%s and %s)",
                        device_name(tensor_device(x)), device_name(tensor_device(b)));
    Tensor *wt = tensor_transpose(w, 0, 1);
    if (!wt)
        return at_errcode();
    const Backend *be = backend_of(x);
    int st;
    if (!b || be->matmul_acc) {
        st = matmul_run(out, x, wt, b);
    } else { // no fused form on this device: the product, then the bias
        Tensor *y = NULL;
        st = matmul_run(&y, x, wt, NULL);
        if (!st)
            st = op_binary(out, BIN_ADD, y, b);
        tensor_release(y);
    }
    tensor_release(wt);
    return st;
}
