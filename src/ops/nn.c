/*
 * nn.c: checks and shapes for the neural-network primitives (masked fill,
 * embedding, layer norm, cross-entropy). Kernels get contiguous 2-d views:
 * a (..., C) tensor is seen as (N, C) rows.
 */
#include <config.h>

#include "../core/error.h"
#include "tensor_ops.h"

#define T(x) tensor_release(x)

static int need(const char *op, const Backend *be, const void *entry) {
    return entry ? AT_OK : at_error(AT_EDEVICE, "%s: not available on %s yet", op, be->name);
}

static int fail(Tensor **out, int st) {
    T(*out);
    *out = NULL;
    return st;
}

int op_masked_fill(Tensor **out, const Tensor *x, const Tensor *keep, float value) {
    int nd;
    int64_t shape[AT_MAXDIM];
    const Backend *be = backend_of(x);
    *out = NULL;
    if (tensor_device(x) != tensor_device(keep))
        return at_error(AT_EDEVICE, "masked_fill: x and mask are on two devices");
    if (op_broadcast_shape(&nd, shape, "masked_fill", x, keep) ||
        need("masked_fill", be, be->masked_fill))
        return at_errcode();
    Tensor *xx = tensor_expand(x, nd, shape), *kx = xx ? tensor_expand(keep, nd, shape) : NULL;
    int st = kx ? op_empty(out, nd, shape, tensor_device(x)) : at_errcode();
    if (!st)
        st = be->masked_fill(*out, xx, kx, value);
    T(xx), T(kx);
    return st ? fail(out, st) : AT_OK;
}

/* t as a contiguous (N, C) matrix over its last dim. */
static int as_rows(Tensor **rows, const Tensor *t) {
    Tensor *c;
    int64_t C = t->shape[t->ndim - 1], shape[2] = {C ? tensor_numel(t) / C : 0, C};
    int st = op_contiguous(&c, (Tensor *)t);
    if (st)
        return st;
    st = op_reshape(rows, c, 2, shape);
    T(c);
    return st;
}

int op_embedding(Tensor **out, const Tensor *table, const int64_t *ids, int ndim,
                 const int64_t *ids_shape) {
    char s[160];
    const Backend *be = backend_of(table);
    *out = NULL;
    if (table->ndim != 2)
        return at_error(AT_ESHAPE, "embedding: the table must be 2-d [vocab, dim], got %s",
                        tensor_shape_str(s, sizeof s, table));
    if (ndim + 1 > AT_MAXDIM || need("embedding", be, be->embedding))
        return at_error(at_errcode() ? at_errcode() : AT_EINVAL, "embedding: ids have too many dims");
    int64_t n = shape_numel(ndim, ids_shape), V = table->shape[0], shape[AT_MAXDIM];
    for (int64_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= V)
            return at_error(AT_EINVAL, "embedding: id %lld is outside the table's %lld rows "
                            "(ids are 0..%lld, the vocabulary's own numbers)",
                            (long long)ids[i], (long long)V, (long long)V - 1);
    for (int d = 0; d < ndim; d++)
        shape[d] = ids_shape[d];
    shape[ndim] = table->shape[1];
    Tensor *tab;
    int st = op_contiguous(&tab, (Tensor *)table);
    if (!st)
        st = op_empty(out, ndim + 1, shape, tensor_device(table));
    if (!st)
        st = be->embedding(*out, tab, ids, n);
    T(tab);
    return st ? fail(out, st) : AT_OK;
}

int op_embedding_backward(Tensor **dtable, const Tensor *g, const int64_t *ids, int64_t n,
                          int64_t V) {
    const Backend *be = backend_of(g);
    int64_t shape[2] = {V, g->shape[g->ndim - 1]};
    Tensor *rows = NULL;
    *dtable = NULL;
    int st = need("embedding", be, be->embedding_backward);
    if (!st)
        st = as_rows(&rows, g);
    if (!st)
        st = op_full(dtable, 2, shape, 0.0f, tensor_device(g));
    if (!st)
        st = be->embedding_backward(*dtable, rows, ids, n);
    T(rows);
    return st ? fail(dtable, st) : AT_OK;
}

static int check_param(const char *name, const Tensor *p, int64_t C) {
    char s[160];
    if (p && (p->ndim != 1 || p->shape[0] != C))
        return at_error(AT_ESHAPE, "layer_norm: %s has shape %s, expected [%lld] (the last dim "
                        "of x)", name, tensor_shape_str(s, sizeof s, p), (long long)C);
    return AT_OK;
}

int op_layer_norm(Tensor **out, Tensor **mean, Tensor **rstd, const Tensor *x, const Tensor *w,
                  const Tensor *b, float eps) {
    const Backend *be = backend_of(x);
    *out = *mean = *rstd = NULL;
    if (x->ndim < 1)
        return at_error(AT_ESHAPE, "layer_norm: x needs at least 1 dim");
    int64_t C = x->shape[x->ndim - 1];
    if (check_param("weight", w, C) || check_param("bias", b, C) ||
        need("layer_norm", be, be->layer_norm))
        return at_errcode();
    Tensor *rows = NULL, *wc = NULL, *bc = NULL;
    int st = as_rows(&rows, x);
    if (!st && w)
        st = op_contiguous(&wc, (Tensor *)w);
    if (!st && b)
        st = op_contiguous(&bc, (Tensor *)b);
    if (!st)
        st = op_empty(out, x->ndim, x->shape, tensor_device(x));
    if (!st)
        st = op_empty(mean, 1, rows->shape, tensor_device(x));
    if (!st)
        st = op_empty(rstd, 1, rows->shape, tensor_device(x));
    if (!st) {
        Tensor *o2 = tensor_view(*out, 2, rows->shape);
        st = o2 ? be->layer_norm(o2, *mean, *rstd, rows, wc, bc, eps) : at_errcode();
        T(o2);
    }
    T(rows), T(wc), T(bc);
    if (st) {
        fail(mean, st), fail(rstd, st);
        return fail(out, st);
    }
    return AT_OK;
}

int op_layer_norm_backward(Tensor **dx, Tensor **dw, Tensor **db, const Tensor *g,
                           const Tensor *x, const Tensor *mean, const Tensor *rstd,
                           const Tensor *w) {
    const Backend *be = backend_of(x);
    int64_t C = x->shape[x->ndim - 1];
    Tensor *xr = NULL, *gr = NULL, *wc = NULL;
    *dx = NULL;
    int st = need("layer_norm", be, be->layer_norm_backward);
    if (!st)
        st = as_rows(&xr, x);
    if (!st)
        st = as_rows(&gr, g);
    if (!st && w)
        st = op_contiguous(&wc, (Tensor *)w);
    if (!st)
        st = op_empty(dx, x->ndim, x->shape, tensor_device(x));
    if (!st && dw)
        st = op_empty(dw, 1, &C, tensor_device(x));
    if (!st && db)
        st = op_empty(db, 1, &C, tensor_device(x));
    if (!st) {
        Tensor *dx2 = tensor_view(*dx, 2, xr->shape);
        st = dx2 ? be->layer_norm_backward(dx2, dw ? *dw : NULL, db ? *db : NULL, gr, xr, mean,
                                           rstd, wc)
                 : at_errcode();
        T(dx2);
    }
    T(xr), T(gr), T(wc);
    if (st) {
        if (dw)
            fail(dw, st);
        if (db)
            fail(db, st);
        return fail(dx, st);
    }
    return AT_OK;
}

int op_cross_entropy(Tensor **losses, const Tensor *logits, const int64_t *targets, int64_t n) {
    char s[160];
    const Backend *be = backend_of(logits);
    *losses = NULL;
    if (logits->ndim != 2)
        return at_error(AT_ESHAPE, "cross_entropy: logits must be [N, classes], got %s",
                        tensor_shape_str(s, sizeof s, logits));
    int64_t N = logits->shape[0], C = logits->shape[1];
    if (n != N)
        return at_error(AT_ESHAPE, "cross_entropy: %lld targets for %lld rows of logits",
                        (long long)n, (long long)N);
    for (int64_t i = 0; i < n; i++)
        if (targets[i] < -1 || targets[i] >= C)
            return at_error(AT_EINVAL, "cross_entropy: target %lld of row %lld is not a class "
                            "1..%lld", (long long)targets[i] + 1, (long long)i + 1, (long long)C);
    if (need("cross_entropy", be, be->cross_entropy))
        return at_errcode();
    Tensor *lc;
    int st = op_contiguous(&lc, (Tensor *)logits);
    if (!st)
        st = op_empty(losses, 1, &N, tensor_device(logits));
    if (!st)
        st = be->cross_entropy(*losses, lc, targets);
    T(lc);
    return st ? fail(losses, st) : AT_OK;
}

int op_cross_entropy_backward(Tensor **dlogits, const Tensor *g, const Tensor *logits,
                              const int64_t *targets) {
    const Backend *be = backend_of(logits);
    Tensor *lc = NULL, *gc = NULL;
    *dlogits = NULL;
    int st = need("cross_entropy", be, be->cross_entropy_backward);
    if (!st)
        st = op_contiguous(&lc, (Tensor *)logits);
    if (!st)
        st = op_contiguous(&gc, (Tensor *)g);
    if (!st)
        st = op_empty(dlogits, 2, logits->shape, tensor_device(logits));
    if (!st)
        st = be->cross_entropy_backward(*dlogits, gc, lc, targets);
    T(lc), T(gc);
    return st ? fail(dlogits, st) : AT_OK;
}

/* ---- fused attention ------------------------------------------------------ */

/* t (..., T, D) as a contiguous (BH, T, D) view. */
static int as_heads(Tensor **out, const Tensor *t) {
    int64_t shape[3] = {1, t->shape[t->ndim - 2], t->shape[t->ndim - 1]};
    int64_t per_head = shape[1] * shape[2];
    shape[0] = per_head > 0 ? tensor_numel(t) / per_head : 0;
    Tensor *c;
    int st = op_contiguous(&c, (Tensor *)t);
    if (st)
        return st;
    st = op_reshape(out, c, 3, shape);
    T(c);
    return st;
}

static int attention_check(const Tensor *q, const Tensor *k, const Tensor *v) {
    char a[160], b[160], c[160];
    int ok = q->ndim >= 2 && k->ndim == q->ndim && v->ndim == q->ndim &&
             q->shape[q->ndim - 1] == k->shape[k->ndim - 1] &&
             k->shape[k->ndim - 2] == v->shape[v->ndim - 2];
    for (int d = 0; ok && d < q->ndim - 2; d++)
        ok = q->shape[d] == k->shape[d] && q->shape[d] == v->shape[d];
    if (!ok)
        return at_error(AT_ESHAPE, "attention: q %s, k %s, v %s do not fit (expected [..., Tq, D], "
                        "[..., Tk, D], [..., Tk, Dv] with the same leading dims)",
                        tensor_shape_str(a, sizeof a, q), tensor_shape_str(b, sizeof b, k),
                        tensor_shape_str(c, sizeof c, v));
    if (tensor_device(q) != tensor_device(k) || tensor_device(q) != tensor_device(v))
        return at_error(AT_EDEVICE, "attention: q, k and v are not on one device");
    return AT_OK;
}

int op_attention(Tensor **out, Tensor **lse, const Tensor *q, const Tensor *k, const Tensor *v,
                 int causal, float scale) {
    const Backend *be = backend_of(q);
    Tensor *qh = NULL, *kh = NULL, *vh = NULL;
    *out = *lse = NULL;
    if (attention_check(q, k, v) || need("attention", be, be->attention))
        return at_errcode();
    int64_t oshape[AT_MAXDIM];
    for (int d = 0; d < q->ndim; d++)
        oshape[d] = q->shape[d];
    oshape[q->ndim - 1] = v->shape[v->ndim - 1];
    int st = as_heads(&qh, q);
    if (!st)
        st = as_heads(&kh, k);
    if (!st)
        st = as_heads(&vh, v);
    if (!st)
        st = op_empty(out, q->ndim, oshape, tensor_device(q));
    if (!st)
        st = op_empty(lse, q->ndim - 1, q->shape, tensor_device(q));
    if (!st) {
        int64_t o3[3] = {qh->shape[0], qh->shape[1], oshape[q->ndim - 1]};
        Tensor *ov = tensor_view(*out, 3, o3), *lv = tensor_view(*lse, 2, qh->shape);
        st = ov && lv ? be->attention(ov, lv, qh, kh, vh, causal, scale) : at_errcode();
        T(ov), T(lv);
    }
    T(qh), T(kh), T(vh);
    if (st) {
        fail(lse, st);
        return fail(out, st);
    }
    return AT_OK;
}

int op_attention_backward(Tensor **dq, Tensor **dk, Tensor **dv, const Tensor *g,
                          const Tensor *q, const Tensor *k, const Tensor *v, const Tensor *out,
                          const Tensor *lse, int causal, float scale) {
    const Backend *be = backend_of(q);
    Tensor *h[6] = {0}; // g, q, k, v, out as heads; lse contiguous
    *dq = *dk = *dv = NULL;
    int st = need("attention", be, be->attention_backward);
    const Tensor *src[5] = {g, q, k, v, out};
    for (int i = 0; i < 5 && !st; i++)
        st = as_heads(&h[i], src[i]);
    if (!st)
        st = op_contiguous(&h[5], (Tensor *)lse);
    if (!st)
        st = op_empty(dq, q->ndim, q->shape, tensor_device(q));
    if (!st)
        st = op_empty(dk, k->ndim, k->shape, tensor_device(q));
    if (!st)
        st = op_empty(dv, v->ndim, v->shape, tensor_device(q));
    if (!st) {
        Tensor *a = tensor_view(*dq, 3, h[1]->shape), *b = tensor_view(*dk, 3, h[2]->shape);
        Tensor *c = tensor_view(*dv, 3, h[3]->shape);
        st = a && b && c ? be->attention_backward(a, b, c, h[0], h[1], h[2], h[3], h[4], h[5],
                                                  causal, scale)
                         : at_errcode();
        T(a), T(b), T(c);
    }
    for (int i = 0; i < 6; i++)
        T(h[i]);
    if (st) {
        fail(dk, st), fail(dv, st);
        return fail(dq, st);
    }
    return AT_OK;
}
