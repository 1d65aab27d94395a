/*
 * node.h: the graph node each differentiable op records (autograd only).
 *
 * A node belongs to the tensor it produced (out->grad_fn) and holds:
 *   in[i]    the inputs gradients flow to (retained; NULL if an input
 *            needs none),
 *   saved[i] values the backward formula reads, as grad-free headers on
 *            the same storage, with the storage version at save time so
 *            an in-place write between forward and backward is caught.
 * No node references its own output's Tensor object, so there are no
 * reference cycles: a graph dies with the last result that reaches it.
 */
#ifndef AT_NODE_H
#define AT_NODE_H

#include "autograd.h"

#define NODE_MAXIN 4
#define NODE_MAXSAVED 6

typedef struct Node Node;

/* Gradients of the inputs from g, the gradient of the output: gin[i] gets a
   new reference, or stays NULL where in[i] is NULL. */
typedef int (*BackwardFn)(Node *n, const Tensor *g, Tensor **gin);

struct Node {
    GradFn head;                  // first: core's view of a node
    const char *name;
    BackwardFn backward;
    int nin;
    Tensor *in[NODE_MAXIN];
    Tensor *saved[NODE_MAXSAVED];
    unsigned saved_version[NODE_MAXSAVED];
    // The op's parameters: shapes, dims, scalars.
    int ndim;
    int64_t shape[AT_MAXDIM];     // usually the first input's shape
    int iarg[4];
    int64_t larg[2];
    float farg;
    int64_t *ids;                 // token ids or class targets (owned), for lookups
    int64_t nids;
    // Backward pass bookkeeping.
    Tensor *grad;                 // gradient of the output gathered so far
    int pending;                  // consumers not yet processed
    int seen;
};

/* A node for `name` over inputs ins[0..nin-1] (those that need no grad are
   left out of in[]); NULL with AT_ENOMEM. */
Node *node_new(const char *name, BackwardFn backward, int nin, Tensor *const *ins);
/* Save t (a grad-free view of it) in slot i. */
int node_save(Node *n, int i, const Tensor *t);
/* Hand n to out: out->grad_fn = n. On failure releases out and n. */
int node_attach(Node *n, Tensor **out, int status);

/* g summed down to shape (undoing broadcasting): new reference. */
int sum_to(Tensor **out, const Tensor *g, int ndim, const int64_t *shape);

/* Should an op on these inputs record a node? */
int ag_any(int n, Tensor *const *ts);

#endif
