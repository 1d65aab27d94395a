/*
 * optim.c: the ops side of the fused optimizer updates: checks, then the
 * backend's kernel. The updates write their tensors in place, so each
 * written tensor's version goes up (autograd then knows they changed).
 */
#include <config.h>

#include <string.h>

#include "../core/error.h"
#include "tensor_ops.h"

static int same_layout(const Tensor *a, const Tensor *b) {
    return a->ndim == b->ndim && tensor_device(a) == tensor_device(b) &&
           memcmp(a->shape, b->shape, sizeof(int64_t) * (size_t)a->ndim) == 0 &&
           tensor_is_contiguous(a) && tensor_is_contiguous(b);
}

int op_adamw(Tensor *p, Tensor *m, Tensor *v, const Tensor *g, const AdamHyper *h) {
    char a[160], b[160];
    if (!same_layout(p, m) || !same_layout(p, v) || !same_layout(p, g))
        return at_error(AT_ESHAPE, "AdamW: the parameter %s, its gradient %s and its moments "
                        "must be contiguous tensors of one shape on one device",
                        tensor_shape_str(a, sizeof a, p), tensor_shape_str(b, sizeof b, g));
    if (!(h->bias1 > 0.0f) || !(h->bias2 > 0.0f))
        return at_error(AT_EINVAL, "AdamW: bias corrections must be > 0 (step >= 1)");
    const Backend *be = backend_of(p);
    if (!be->adamw)
        return at_error(AT_EDEVICE, "AdamW: no fused update on %s", be->name);
    p->storage->version++, m->storage->version++, v->storage->version++;
    return be->adamw(p, m, v, g, h);
}
