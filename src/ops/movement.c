/*
 * movement.c: copies between layouts and devices, element access, reshape,
 * cat and stack. Views themselves are core's (tensor.h); this file adds the
 * cases that may need to copy.
 */
#include <config.h>

#include <stdlib.h>

#include "../core/error.h"
#include "tensor_ops.h"

static int same_device(const char *who, const Tensor *a, const Tensor *b) {
    if (tensor_device(a) == tensor_device(b))
        return AT_OK;
    return at_error(AT_EDEVICE, "%s: operands are on two devices (%s and %s); move one with :to()",
                    who, device_name(tensor_device(a)), device_name(tensor_device(b)));
}

int op_copy(Tensor *dst, const Tensor *src) {
    if (same_device("copy", dst, src))
        return at_errcode();
    const Backend *be = backend_of(dst);
    if (!be->copy)
        return at_error(AT_EDEVICE, "copy: not available on %s yet", be->name);
    Tensor *from = tensor_expand(src, dst->ndim, dst->shape);
    if (!from)
        return at_errcode();
    dst->storage->version++;
    int st;
    if (from->storage == dst->storage) {
        // Source and destination may overlap (t[1] = t[2] on a view): copy
        // the source out first so no element is read after it is written.
        Tensor *tmp;
        st = op_clone(&tmp, from);
        if (!st) {
            Tensor *tmp_x = tensor_expand(tmp, dst->ndim, dst->shape);
            st = tmp_x ? be->copy(dst, tmp_x) : at_errcode();
            tensor_release(tmp_x);
            tensor_release(tmp);
        }
    } else {
        st = be->copy(dst, from);
    }
    tensor_release(from);
    return st;
}

int op_fill(Tensor *dst, float value) {
    const Backend *be = backend_of(dst);
    if (!be->fill)
        return at_error(AT_EDEVICE, "fill: not available on %s yet", be->name);
    dst->storage->version++;
    return be->fill(dst, value);
}

int op_clone(Tensor **out, const Tensor *t) {
    if (op_empty(out, t->ndim, t->shape, tensor_device(t)))
        return at_errcode();
    const Backend *be = backend_of(t);
    int st = be->copy ? be->copy(*out, t)
                      : at_error(AT_EDEVICE, "clone: not available on %s yet", be->name);
    if (st) {
        tensor_release(*out);
        *out = NULL;
    }
    return st;
}

int op_contiguous(Tensor **out, Tensor *t) {
    if (tensor_is_contiguous(t)) {
        tensor_retain(t);
        *out = t;
        return AT_OK;
    }
    return op_clone(out, t);
}

int op_read(float *dst, const Tensor *t) {
    Tensor *c;
    if (op_contiguous(&c, (Tensor *)t))
        return at_errcode();
    int st = backend_of(c)->download(dst, tensor_data(c), (size_t)tensor_numel(c) * sizeof(float));
    tensor_release(c);
    return st;
}

int op_to(Tensor **out, Tensor *t, Device dev) {
    *out = NULL;
    if (tensor_device(t) == dev) {
        tensor_retain(t);
        *out = t;
        return AT_OK;
    }
    if (!backend_get(dev))
        return at_errcode();
    int64_t n = tensor_numel(t);
    float *host = malloc((size_t)(n ? n : 1) * sizeof *host);
    if (!host)
        return at_error(AT_ENOMEM, "to: out of memory staging %lld values", (long long)n);
    int st = op_read(host, t);
    if (!st)
        st = op_from_host(out, host, t->ndim, t->shape, dev);
    free(host);
    return st;
}

/* Element offset of idx in t, or an error naming the bad index. */
static int locate(int64_t *offset, const char *who, const Tensor *t, const int64_t *idx) {
    int64_t off = t->offset;
    for (int d = 0; d < t->ndim; d++) {
        if (idx[d] < 0 || idx[d] >= t->shape[d])
            return at_error(AT_EINVAL, "%s: index %lld out of range 1..%lld of dim %d", who,
                            (long long)idx[d] + 1, (long long)t->shape[d], d + 1);
        off += idx[d] * t->strides[d];
    }
    *offset = off;
    return AT_OK;
}

int op_get(float *value, const Tensor *t, const int64_t *idx) {
    int64_t off;
    if (locate(&off, "get", t, idx))
        return at_errcode();
    return backend_of(t)->download(value, (float *)t->storage->data + off, sizeof(float));
}

int op_set(Tensor *t, const int64_t *idx, float value) {
    int64_t off;
    if (locate(&off, "set", t, idx))
        return at_errcode();
    t->storage->version++;
    return backend_of(t)->upload((float *)t->storage->data + off, &value, sizeof(float));
}

/* Resolve one -1 in shape against numel. */
static int infer_shape(int64_t *shape, int ndim, int64_t numel, const Tensor *t) {
    int hole = -1;
    int64_t known = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == -1 && hole >= 0)
            return at_error(AT_EINVAL, "reshape: only one size may be -1 (dims %d and %d are)",
                            hole + 1, i + 1);
        if (shape[i] == -1) {
            hole = i;
            continue;
        }
        known *= shape[i];
    }
    if (hole < 0)
        return AT_OK;
    char a[160], b[160];
    if (known == 0 || numel % known != 0)
        return at_error(AT_ESHAPE, "reshape: cannot view %lld elements of %s as %s (%lld is not a "
                        "multiple of %lld)", (long long)numel, tensor_shape_str(a, sizeof a, t),
                        shape_format(b, sizeof b, ndim, shape), (long long)numel, (long long)known);
    shape[hole] = numel / known;
    return AT_OK;
}

int op_reshape(Tensor **out, Tensor *t, int ndim, const int64_t *shape_in) {
    int64_t shape[AT_MAXDIM];
    *out = NULL;
    if (ndim > AT_MAXDIM)
        return at_error(AT_EINVAL, "reshape: %d dims (at most %d)", ndim, AT_MAXDIM);
    for (int i = 0; i < ndim; i++)
        shape[i] = shape_in[i];
    if (infer_shape(shape, ndim, tensor_numel(t), t))
        return at_errcode();
    *out = tensor_view(t, ndim, shape);
    if (*out || at_errcode() != AT_EINVAL)
        return *out ? AT_OK : at_errcode();
    Tensor *c;
    if (op_contiguous(&c, t))
        return at_errcode();
    *out = tensor_view(c, ndim, shape);
    tensor_release(c);
    return *out ? AT_OK : at_errcode();
}

/* cat's checks: same device, same ndim, same sizes except along dim. */
static int cat_check(int64_t *total, Tensor *const *ts, int n, int dim) {
    char a[160], b[160];
    const Tensor *t0 = ts[0];
    if (dim < 0 || dim >= t0->ndim)
        return at_error(AT_EINVAL, "cat: dim %d out of range for %d-d tensors", dim + 1, t0->ndim);
    *total = 0;
    for (int i = 0; i < n; i++) {
        const Tensor *t = ts[i];
        if (same_device("cat", t0, t))
            return at_errcode();
        int bad = t->ndim != t0->ndim;
        for (int d = 0; !bad && d < t0->ndim; d++)
            bad = d != dim && t->shape[d] != t0->shape[d];
        if (bad)
            return at_error(AT_ESHAPE, "cat: tensor %d has shape %s, tensor 1 has %s (only dim %d "
                            "may differ)", i + 1, tensor_shape_str(a, sizeof a, t),
                            tensor_shape_str(b, sizeof b, t0), dim + 1);
        *total += t->shape[dim];
    }
    return AT_OK;
}

int op_cat(Tensor **out, Tensor *const *ts, int n, int dim) {
    *out = NULL;
    int64_t total = 0, shape[AT_MAXDIM];
    if (n < 1)
        return at_error(AT_EINVAL, "cat: no tensors given");
    if (cat_check(&total, ts, n, dim))
        return at_errcode();
    for (int d = 0; d < ts[0]->ndim; d++)
        shape[d] = d == dim ? total : ts[0]->shape[d];
    if (op_empty(out, ts[0]->ndim, shape, tensor_device(ts[0])))
        return at_errcode();
    int64_t at = 0;
    for (int i = 0; i < n; i++) {
        Tensor *slot = tensor_narrow(*out, dim, at, ts[i]->shape[dim]);
        int st = slot ? op_copy(slot, ts[i]) : at_errcode();
        tensor_release(slot);
        if (st) {
            tensor_release(*out);
            *out = NULL;
            return st;
        }
        at += ts[i]->shape[dim];
    }
    return AT_OK;
}

static int same_shape(const Tensor *a, const Tensor *b) {
    if (a->ndim != b->ndim)
        return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d])
            return 0;
    return 1;
}

int op_stack(Tensor **out, Tensor *const *ts, int n, int dim) {
    *out = NULL;
    if (n < 1)
        return at_error(AT_EINVAL, "stack: no tensors given");
    Tensor **parts = calloc((size_t)n, sizeof *parts);
    if (!parts)
        return at_error(AT_ENOMEM, "stack: out of memory");
    int st = AT_OK;
    for (int i = 0; i < n && !st; i++) {
        char a[160], b[160];
        if (!same_shape(ts[i], ts[0]))
            st = at_error(AT_ESHAPE, "stack: tensor %d has shape %s, tensor 1 has %s", i + 1,
                          tensor_shape_str(a, sizeof a, ts[i]), tensor_shape_str(b, sizeof b, ts[0]));
        else if (!(parts[i] = tensor_unsqueeze(ts[i], dim)))
            st = at_errcode();
    }
    if (!st)
        st = op_cat(out, parts, n, dim);
    for (int i = 0; i < n; i++)
        tensor_release(parts[i]);
    free(parts);
    return st;
}
