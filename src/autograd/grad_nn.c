/*
 * grad_nn.c: masked fill, embedding, layer norm and cross-entropy with
 * their backward passes (the kernels do the calculus; see src/cpu/nn.c).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "node.h"

#define T(x) tensor_release(x)

/* out = keep ? x : value:  dx = g * (keep != 0) */
static int masked_fill_backward(Node *n, const Tensor *g, Tensor **gin) {
    Tensor *kept, *gx;
    int st = op_masked_fill(&gx, g, n->saved[0], 0.0f);
    if (st)
        return st;
    st = sum_to(&kept, gx, n->in[0]->ndim, n->in[0]->shape);
    T(gx);
    if (!st)
        gin[0] = kept;
    return st;
}

int ag_masked_fill(Tensor **out, Tensor *x, Tensor *keep, float value) {
    int st = op_masked_fill(out, x, keep, value);
    if (st || !ag_any(1, &x))
        return st;
    Node *n = node_new("masked_fill", masked_fill_backward, 1, &x);
    if (n)
        st = node_save(n, 0, keep);
    return node_attach(n, out, st);
}

/* A copy of n ids the node keeps for its backward pass. */
static int keep_ids(Node *n, const int64_t *ids, int64_t count) {
    n->ids = malloc((size_t)(count ? count : 1) * sizeof *ids);
    if (!n->ids)
        return at_error(AT_ENOMEM, "%s: out of memory recording ids", n->name);
    memcpy(n->ids, ids, (size_t)count * sizeof *ids);
    n->nids = count;
    return AT_OK;
}

/* d table = rows of g added at their ids */
static int embedding_backward(Node *n, const Tensor *g, Tensor **gin) {
    return op_embedding_backward(&gin[0], g, n->ids, n->nids, n->shape[0]);
}

int ag_embedding(Tensor **out, Tensor *table, const int64_t *ids, int ndim,
                 const int64_t *ids_shape) {
    int st = op_embedding(out, table, ids, ndim, ids_shape);
    if (st || !ag_any(1, &table))
        return st;
    Node *n = node_new("embedding", embedding_backward, 1, &table);
    if (n)
        st = keep_ids(n, ids, shape_numel(ndim, ids_shape));
    return node_attach(n, out, st);
}

/* saved: x, mean, rstd, w (may be NULL); in: x, w, b */
static int layer_norm_backward(Node *n, const Tensor *g, Tensor **gin) {
    return op_layer_norm_backward(&gin[0], n->in[1] ? &gin[1] : NULL, n->in[2] ? &gin[2] : NULL,
                                  g, n->saved[0], n->saved[1], n->saved[2], n->saved[3]);
}

int ag_layer_norm(Tensor **out, Tensor *x, Tensor *w, Tensor *b, float eps) {
    Tensor *mean = NULL, *rstd = NULL, *ins[3] = {x, w, b};
    int st = op_layer_norm(out, &mean, &rstd, x, w, b, eps);
    if (!st && ag_any(3, ins)) {
        Node *n = node_new("layer_norm", layer_norm_backward, 3, ins);
        if (n) {
            n->saved[1] = mean, n->saved[2] = rstd; // the node owns them now
            mean = rstd = NULL;
            st = node_save(n, 0, x);
            if (!st && w)
                st = node_save(n, 3, w);
        }
        st = node_attach(n, out, st);
    }
    T(mean), T(rstd);
    return st;
}

/* saved: logits; the targets in ids */
static int cross_entropy_backward(Node *n, const Tensor *g, Tensor **gin) {
    return op_cross_entropy_backward(&gin[0], g, n->saved[0], n->ids);
}

int ag_cross_entropy(Tensor **out, Tensor *logits, const int64_t *targets, int64_t count) {
    int st = op_cross_entropy(out, logits, targets, count);
    if (st || !ag_any(1, &logits))
        return st;
    Node *n = node_new("cross_entropy", cross_entropy_backward, 1, &logits);
    if (n) {
        st = keep_ids(n, targets, count);
        if (!st)
            st = node_save(n, 0, logits);
    }
    return node_attach(n, out, st);
}

/* saved: q, k, v, out, lse; the kernel recomputes the probabilities */
static int attention_backward(Node *n, const Tensor *g, Tensor **gin) {
    Tensor *d[3] = {0};
    int st = op_attention_backward(&d[0], &d[1], &d[2], g, n->saved[0], n->saved[1], n->saved[2],
                                   n->saved[3], n->saved[4], n->iarg[0], n->farg);
    for (int i = 0; i < 3; i++) {
        if (!st && n->in[i])
            gin[i] = d[i];
        else
            T(d[i]);
    }
    return st;
}

int ag_attention(Tensor **out, Tensor *q, Tensor *k, Tensor *v, int causal, float scale) {
    Tensor *lse = NULL, *ins[3] = {q, k, v};
    int st = op_attention(out, &lse, q, k, v, causal, scale);
    if (!st && ag_any(3, ins)) {
        Node *n = node_new("attention", attention_backward, 3, ins);
        if (n) {
            n->iarg[0] = causal;
            n->farg = scale;
            st = node_save(n, 0, q);
            if (!st)
                st = node_save(n, 1, k);
            if (!st)
                st = node_save(n, 2, v);
            if (!st)
                st = node_save(n, 3, *out);
            if (!st)
                st = node_save(n, 4, lse);
        }
        st = node_attach(n, out, st);
    }
    T(lse);
    return st;
}
