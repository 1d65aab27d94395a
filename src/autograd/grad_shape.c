/*
 * grad_shape.c: views, copies, cat and stack with their backward passes.
 *
 * A view's gradient is the gradient of the elements it shows, put back in
 * the place they came from: select and narrow write g into a zero tensor
 * of the input's shape; transpose and reshape undo themselves; expand sums
 * over the dims it broadcast.
 */
#include <config.h>

#include <stdlib.h>

#include "../core/error.h"
#include "node.h"

#define T(x) tensor_release(x)

/* A view made by a core function: NULL means its message is recorded. */
static int view_result(Tensor **out, Tensor *v) {
    *out = v;
    return v ? AT_OK : at_errcode();
}

/* Attach a node over the single input a (no saved values needed). */
static int record1(Tensor **out, int st, Tensor *a, const char *name, BackwardFn fn,
                   int i0, int i1, int64_t l0, int64_t l1) {
    if (st || !ag_any(1, &a))
        return st;
    Node *n = node_new(name, fn, 1, &a);
    if (n) {
        n->iarg[0] = i0;
        n->iarg[1] = i1;
        n->larg[0] = l0;
        n->larg[1] = l1;
    }
    return node_attach(n, out, AT_OK);
}

/* g into a zero tensor of the input's shape, at the place view() picks. */
static int scatter(Node *n, const Tensor *g, Tensor **gin, Tensor *(*view)(Node *, Tensor *)) {
    Tensor *z;
    int st = op_full(&z, n->ndim, n->shape, 0.0f, tensor_device(g));
    if (st)
        return st;
    Tensor *slot = view(n, z);
    st = slot ? op_copy(slot, g) : at_errcode();
    T(slot);
    if (st)
        T(z);
    else
        gin[0] = z;
    return st;
}

static Tensor *select_view(Node *n, Tensor *z) { return tensor_select(z, n->iarg[0], n->larg[0]); }
static int select_backward(Node *n, const Tensor *g, Tensor **gin) {
    return scatter(n, g, gin, select_view);
}
int ag_select(Tensor **out, Tensor *a, int dim, int64_t index) {
    int st = view_result(out, tensor_select(a, dim, index));
    return record1(out, st, a, "select", select_backward, dim, 0, index, 0);
}

static Tensor *narrow_view(Node *n, Tensor *z) {
    return tensor_narrow(z, n->iarg[0], n->larg[0], n->larg[1]);
}
static int narrow_backward(Node *n, const Tensor *g, Tensor **gin) {
    return scatter(n, g, gin, narrow_view);
}
int ag_narrow(Tensor **out, Tensor *a, int dim, int64_t start, int64_t len) {
    int st = view_result(out, tensor_narrow(a, dim, start, len));
    return record1(out, st, a, "narrow", narrow_backward, dim, 0, start, len);
}

static int transpose_backward(Node *n, const Tensor *g, Tensor **gin) {
    return view_result(&gin[0], tensor_transpose(g, n->iarg[0], n->iarg[1]));
}
int ag_transpose(Tensor **out, Tensor *a, int d0, int d1) {
    int st = view_result(out, tensor_transpose(a, d0, d1));
    return record1(out, st, a, "transpose", transpose_backward, d0, d1, 0, 0);
}

/* reshape, unsqueeze, squeeze: g back to the input's shape. */
static int reshape_backward(Node *n, const Tensor *g, Tensor **gin) {
    return op_reshape(&gin[0], (Tensor *)g, n->ndim, n->shape);
}
int ag_reshape(Tensor **out, Tensor *a, int ndim, const int64_t *shape) {
    int st = op_reshape(out, a, ndim, shape);
    return record1(out, st, a, "reshape", reshape_backward, 0, 0, 0, 0);
}
int ag_unsqueeze(Tensor **out, Tensor *a, int dim) {
    int st = view_result(out, tensor_unsqueeze(a, dim));
    return record1(out, st, a, "unsqueeze", reshape_backward, 0, 0, 0, 0);
}

static int expand_backward(Node *n, const Tensor *g, Tensor **gin) {
    return sum_to(&gin[0], g, n->ndim, n->shape);
}
int ag_expand(Tensor **out, Tensor *a, int ndim, const int64_t *shape) {
    int st = view_result(out, tensor_expand(a, ndim, shape));
    return record1(out, st, a, "expand", expand_backward, 0, 0, 0, 0);
}

/* clone, contiguous: the identity. */
static int identity_backward(Node *n, const Tensor *g, Tensor **gin) {
    (void)n;
    gin[0] = (Tensor *)g; // passed on as it is; the tape copies it before any write
    tensor_retain(gin[0]);
    return AT_OK;
}
int ag_clone(Tensor **out, Tensor *a) {
    return record1(out, op_clone(out, a), a, "clone", identity_backward, 0, 0, 0, 0);
}
int ag_contiguous(Tensor **out, Tensor *a) {
    if (tensor_is_contiguous(a)) {
        tensor_retain(a);
        *out = a;
        return AT_OK;
    }
    return record1(out, op_clone(out, a), a, "contiguous", identity_backward, 0, 0, 0, 0);
}

/* to(device): the gradient goes back to the input's device. */
static int to_backward(Node *n, const Tensor *g, Tensor **gin) {
    return op_to(&gin[0], (Tensor *)g, (Device)n->iarg[0]);
}
int ag_to(Tensor **out, Tensor *a, Device dev) {
    int st = op_to(out, a, dev);
    if (!st && *out == a) // same device: the very tensor, no node
        return AT_OK;
    return record1(out, st, a, "to", to_backward, tensor_device(a), 0, 0, 0);
}

/* cat: each input gets its slice of g back. in[i] with NULL need none. */
static int cat_backward(Node *n, const Tensor *g, Tensor **gin) {
    int dim = n->iarg[0];
    int64_t at = 0; // running sum of the inputs' sizes along dim
    for (int i = 0; i < n->nin; i++) {
        const Tensor *in = n->saved[i];
        int64_t len = in->shape[dim];
        if (n->in[i]) {
            // The slice itself, as a view: the tape copies it before any write.
            gin[i] = tensor_narrow(g, dim, at, len);
            int st = gin[i] ? AT_OK : at_errcode();
            if (st)
                return st;
        }
        at += len;
    }
    return AT_OK;
}

/* More inputs than a node holds: cat groups of NODE_MAXIN, then the groups
   (cat is associative along one dim), so the graph is a small tree. */
static int cat_tree(Tensor **out, Tensor *const *ts, int n, int dim) {
    int ngroups = (n + NODE_MAXIN - 1) / NODE_MAXIN, st = AT_OK;
    Tensor **groups = calloc((size_t)ngroups, sizeof *groups);
    if (!groups)
        return at_error(AT_ENOMEM, "cat: out of memory");
    for (int i = 0; i < ngroups && !st; i++) {
        int len = n - i * NODE_MAXIN < NODE_MAXIN ? n - i * NODE_MAXIN : NODE_MAXIN;
        st = ag_cat(&groups[i], ts + i * NODE_MAXIN, len, dim);
    }
    if (!st)
        st = ag_cat(out, groups, ngroups, dim);
    for (int i = 0; i < ngroups; i++)
        T(groups[i]);
    free(groups);
    return st;
}

int ag_cat(Tensor **out, Tensor *const *ts, int n, int dim) {
    if (n > NODE_MAXIN && ag_any(n, ts))
        return cat_tree(out, ts, n, dim);
    int st = op_cat(out, ts, n, dim);
    if (st || !ag_any(n, ts))
        return st;
    Node *node = node_new("cat", cat_backward, n, ts);
    if (node) {
        node->iarg[0] = dim;
        for (int i = 0; i < n && !st; i++)
            st = node_save(node, i, ts[i]);
    }
    return node_attach(node, out, st);
}

int ag_stack(Tensor **out, Tensor *const *ts, int n, int dim) {
    if (!ag_any(n, ts))
        return op_stack(out, ts, n, dim);
    Tensor **parts = calloc((size_t)n, sizeof *parts);
    if (!parts)
        return at_error(AT_ENOMEM, "stack: out of memory");
    int st = AT_OK;
    for (int i = 0; i < n && !st; i++)
        st = ag_unsqueeze(&parts[i], ts[i], dim);
    if (!st)
        st = ag_cat(out, parts, n, dim);
    for (int i = 0; i < n; i++)
        T(parts[i]);
    free(parts);
    return st;
}
