/*
 * tape.c: recording nodes and running the backward pass.
 *
 * The backward pass is Kahn's algorithm over the nodes reachable from the
 * root: count how many consumers each node's output has, start from the
 * root, and process a node only once every consumer has added its share
 * to the node's gradient. Gradients of leaves are added into leaf->grad.
 * Everything is iterative, so deep graphs cannot overflow the C stack.
 */
#include <config.h>

#include <stdlib.h>

#include "../core/error.h"
#include "node.h"

static int no_grad_depth = 0;

void ag_no_grad_enter(void) { no_grad_depth++; }
void ag_no_grad_leave(void) { no_grad_depth -= no_grad_depth > 0; }
int ag_grad_enabled(void) { return no_grad_depth == 0; }

int ag_tracks(const Tensor *t) { return t->requires_grad || t->grad_fn != NULL; }

int ag_any(int n, Tensor *const *ts) {
    if (!ag_grad_enabled())
        return 0;
    for (int i = 0; i < n; i++)
        if (ts[i] && ag_tracks(ts[i]))
            return 1;
    return 0;
}

/* ---- nodes -------------------------------------------------------------- */

static void node_destroy(GradFn *fn) {
    Node *n = (Node *)fn;
    for (int i = 0; i < NODE_MAXIN; i++)
        tensor_release(n->in[i]);
    for (int i = 0; i < NODE_MAXSAVED; i++)
        tensor_release(n->saved[i]);
    tensor_release(n->grad);
    free(n->ids);
    free(n);
}

Node *node_new(const char *name, BackwardFn backward, int nin, Tensor *const *ins) {
    Node *n = calloc(1, sizeof *n);
    if (!n) {
        at_error(AT_ENOMEM, "%s: out of memory recording the graph", name);
        return NULL;
    }
    n->head = (GradFn){.refs = 1, .destroy = node_destroy};
    n->name = name;
    n->backward = backward;
    n->nin = nin;
    for (int i = 0; i < nin; i++) {
        if (ins[i] && ag_tracks(ins[i])) {
            n->in[i] = ins[i];
            tensor_retain(ins[i]);
        }
    }
    if (nin > 0 && ins[0]) {
        n->ndim = ins[0]->ndim;
        for (int d = 0; d < ins[0]->ndim; d++)
            n->shape[d] = ins[0]->shape[d];
    }
    return n;
}

int node_save(Node *n, int i, const Tensor *t) {
    Tensor *v = tensor_wrap(t->storage, t->ndim, t->shape, t->strides, t->offset);
    if (!v)
        return AT_ENOMEM;
    n->saved[i] = v;
    n->saved_version[i] = t->storage->version;
    return AT_OK;
}

int node_attach(Node *n, Tensor **out, int status) {
    if (status || !n) {
        status = at_errcode() ? at_errcode() : AT_ENOMEM;
        gradfn_release(n ? &n->head : NULL);
        tensor_release(*out);
        *out = NULL;
        return status;
    }
    gradfn_release((*out)->grad_fn); // a fresh result has none; be safe
    (*out)->grad_fn = &n->head;
    return AT_OK;
}

const char *ag_op_name(const Tensor *t) { return t->grad_fn ? ((Node *)t->grad_fn)->name : NULL; }

/* ---- user-facing switches --------------------------------------------- */

int ag_set_requires_grad(Tensor *t, int on) {
    if (t->grad_fn)
        return at_error(AT_EINVAL, "requires_grad: only leaf tensors can be marked; this one "
                        "was computed by %s (use :detach() for a leaf copy)", ag_op_name(t));
    t->requires_grad = on != 0;
    return AT_OK;
}

int ag_detach(Tensor **out, Tensor *t) {
    *out = tensor_wrap(t->storage, t->ndim, t->shape, t->strides, t->offset);
    return *out ? AT_OK : AT_ENOMEM;
}

int ag_check_inplace(const char *who, const Tensor *t) {
    if (!ag_grad_enabled() || !ag_tracks(t))
        return AT_OK;
    return at_error(AT_EINVAL, "%s: this tensor is part of a gradient graph (%s); writing "
                    "into it would make gradients wrong. Use attn.no_grad or :detach()",
                    who, t->grad_fn ? ag_op_name(t) : "a leaf that requires grad");
}

/* ---- broadcasting undone ---------------------------------------------- */

int sum_to(Tensor **out, const Tensor *g, int ndim, const int64_t *shape) {
    Tensor *cur = (Tensor *)g, *next;
    tensor_retain(cur);
    // Leading dims the input did not have: summed away, in one pass when
    // they can be viewed as one dim (a bias's gradient over batch and time).
    if (cur->ndim > ndim + 1 && tensor_is_contiguous(cur)) {
        int lead = cur->ndim - ndim;
        int64_t merged[AT_MAXDIM];
        merged[0] = shape_numel(lead, cur->shape);
        for (int d = 0; d < ndim; d++)
            merged[d + 1] = cur->shape[lead + d];
        int st = op_reshape(&next, cur, ndim + 1, merged);
        tensor_release(cur);
        if (st)
            return st;
        cur = next;
    }
    while (cur->ndim > ndim) {
        int st = op_reduce(&next, RED_SUM, cur, 0, 0);
        tensor_release(cur);
        if (st)
            return st;
        cur = next;
    }
    // Dims the input had as 1 and the output broadcast: summed, kept.
    for (int d = 0; d < ndim; d++) {
        if (shape[d] != 1 || cur->shape[d] == 1)
            continue;
        int st = op_reduce(&next, RED_SUM, cur, d, 1);
        tensor_release(cur);
        if (st)
            return st;
        cur = next;
    }
    *out = cur;
    return AT_OK;
}

/* ---- the backward pass ---------------------------------------------------- */

typedef struct NodeList {
    Node **items;
    int len, cap;
} NodeList;

static int list_push(NodeList *l, Node *n) {
    if (l->len == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        Node **items = realloc(l->items, (size_t)cap * sizeof *items);
        if (!items)
            return at_error(AT_ENOMEM, "backward: out of memory walking the graph");
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = n;
    return AT_OK;
}

/* Every node reachable from root, each once, with its consumer count. */
static int collect(NodeList *all, Node *root) {
    NodeList stack = {0};
    int st = list_push(&stack, root);
    root->seen = 1;
    root->pending = 0;
    while (!st && stack.len > 0) {
        Node *n = stack.items[--stack.len];
        st = list_push(all, n);
        for (int i = 0; i < n->nin && !st; i++) {
            Node *m = n->in[i] ? (Node *)n->in[i]->grad_fn : NULL;
            if (!m)
                continue;
            if (!m->seen) {
                m->seen = 1;
                m->pending = 0;
                st = list_push(&stack, m);
            }
            m->pending++;
        }
    }
    free(stack.items);
    return st;
}

/* No other tensor, view or Lua value can see t's memory. */
static int exclusive(const Tensor *t) { return t->refs == 1 && t->storage->refs == 1; }

/* *acc += g. The first gradient is taken as it is when nobody else can
   write it: always for a node's gradient (backward functions only read
   it), and for a leaf's only when exclusive, since a leaf's .grad may be
   written in place later (zero_grad, clipping) and must share nothing.
   Later ones are added in place when *acc is exclusive. */
static int accumulate(Tensor **acc, Tensor *g, int leaf) {
    if (!*acc) {
        if (leaf && !exclusive(g))
            return op_clone(acc, g);
        tensor_retain(g);
        *acc = g;
        return AT_OK;
    }
    if (exclusive(*acc) && tensor_is_contiguous(*acc))
        return op_add_into(*acc, g);
    Tensor *sum;
    int st = op_binary(&sum, BIN_ADD, *acc, g);
    if (st)
        return st;
    tensor_release(*acc);
    *acc = sum;
    return AT_OK;
}

static int check_saved(const Node *n) {
    for (int i = 0; i < NODE_MAXSAVED; i++)
        if (n->saved[i] && n->saved[i]->storage->version != n->saved_version[i])
            return at_error(AT_EINVAL, "backward: a tensor that %s saved for its gradient was "
                            "modified in place afterwards", n->name);
    return AT_OK;
}

/* Run one node: pass its gradient on to its inputs. */
static int step(Node *n, NodeList *ready) {
    Tensor *gin[NODE_MAXIN] = {0};
    int st = check_saved(n);
    if (!st)
        st = n->backward(n, n->grad, gin);
    for (int i = 0; i < n->nin && !st; i++) {
        Tensor *in = n->in[i];
        if (!in || !gin[i])
            continue;
        Node *m = (Node *)in->grad_fn;
        if (m) {
            st = accumulate(&m->grad, gin[i], 0);
            if (!st && --m->pending == 0)
                st = list_push(ready, m);
        } else {
            st = accumulate(&in->grad, gin[i], 1);
        }
    }
    for (int i = 0; i < NODE_MAXIN; i++)
        tensor_release(gin[i]);
    tensor_release(n->grad); // done with it: free the memory early
    n->grad = NULL;
    return st;
}

static int seed(Tensor **g, Tensor *root, const Tensor *grad) {
    char a[160], b[160];
    if (grad) {
        if (grad->ndim != root->ndim || shape_numel(grad->ndim, grad->shape) != tensor_numel(root))
            return at_error(AT_ESHAPE, "backward: gradient of shape %s given for a result of "
                            "shape %s", tensor_shape_str(a, sizeof a, grad),
                            tensor_shape_str(b, sizeof b, root));
        return op_clone(g, grad);
    }
    if (tensor_numel(root) != 1)
        return at_error(AT_ESHAPE, "backward: the result has shape %s; call backward on a "
                        "one-element result (e.g. a loss) or pass its gradient",
                        tensor_shape_str(a, sizeof a, root));
    return op_full(g, root->ndim, root->shape, 1.0f, tensor_device(root));
}

int ag_backward(Tensor *root, const Tensor *grad) {
    if (!ag_tracks(root))
        return at_error(AT_EINVAL, "backward: this result does not depend on any tensor that "
                        "requires grad (mark inputs with :requires_grad(true))");
    Tensor *g;
    int st = seed(&g, root, grad);
    if (st)
        return st;
    if (!root->grad_fn) { // a leaf: d root / d root = the seed
        st = accumulate(&root->grad, g, 1);
        tensor_release(g);
        return st;
    }
    Node *top = (Node *)root->grad_fn;
    NodeList all = {0}, ready = {0};
    st = collect(&all, top);
    tensor_release(top->grad);
    top->grad = g;
    if (!st)
        st = list_push(&ready, top);
    while (!st && ready.len > 0)
        st = step(ready.items[--ready.len], &ready);
    for (int i = 0; i < all.len; i++) { // leave the graph clean for another pass
        Node *n = all.items[i];
        n->seen = 0;
        n->pending = 0;
        tensor_release(n->grad);
        n->grad = NULL;
    }
    free(all.items);
    free(ready.items);
    return st;
}
