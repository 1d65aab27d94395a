/*
 * tensor.c: storage, shapes and views (see tensor.h).
 *
 * Invariants: a Tensor's storage is never NULL; every element a view can
 * address lies inside its storage (views are built only from valid views
 * with checked arguments); refs > 0 while anyone holds the object.
 */
#include <config.h>

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "tensor.h"

// Largest tensor we try to allocate: 2^40 bytes. Anything larger is a typo
// (attn.zeros(1e9, 1e9)), and asking malloc for it only wastes time.
#define MAX_TENSOR_BYTES ((int64_t)1 << 40)

static size_t live_bytes = 0;

/* ---- storage ---------------------------------------------------------- */

/* glibc hands big freed blocks back to the kernel, so the next tensor of
   the same size page-faults its way in again (and the kernel zeroes every
   page): a loop of matmuls spent ~10% of its time there. Blocks up to 32
   MiB, the largest mmap threshold glibc accepts, stay in the heap for
   reuse, with up to 1 GiB of freed memory kept. Larger ones (a GPT-2
   logits tensor is 51 MiB at T = 256) are mmap'd by glibc whatever we ask,
   so the last few freed are kept here and handed out again for a request
   of the same size. */
#define HEAP_LIMIT ((size_t)32 << 20)
#define BIG_KEEP 2
#define BIG_KEEP_BYTES ((size_t)512 << 20)

static struct {
    pthread_mutex_t lock;
    void *block[BIG_KEEP];
    size_t size[BIG_KEEP];
} big = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void tune_malloc(void) {
    static int done = 0;
    if (done)
        return;
    done = 1;
    mallopt(M_MMAP_THRESHOLD, (int)HEAP_LIMIT);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

/* A kept block of exactly `size` bytes, or NULL. */
static void *big_take(size_t size) {
    void *p = NULL;
    pthread_mutex_lock(&big.lock);
    for (int i = 0; i < BIG_KEEP && !p; i++)
        if (big.block[i] && big.size[i] == size) {
            p = big.block[i];
            big.block[i] = NULL;
        }
    pthread_mutex_unlock(&big.lock);
    return p;
}

/* Keep p (of `size` bytes) in a free slot, or in place of the oldest; the
   block pushed out, or p itself when it is too big to keep, is freed. */
static void big_keep(void *p, size_t size) {
    static int next;
    void *drop = p;
    if (size <= BIG_KEEP_BYTES / BIG_KEEP) {
        pthread_mutex_lock(&big.lock);
        int slot = -1;
        for (int i = 0; i < BIG_KEEP && slot < 0; i++)
            if (!big.block[i])
                slot = i;
        if (slot < 0)
            slot = next, next = (next + 1) % BIG_KEEP;
        drop = big.block[slot];
        big.block[slot] = p;
        big.size[slot] = size;
        pthread_mutex_unlock(&big.lock);
    }
    free(drop);
}

void *host_alloc(size_t nbytes) {
    tune_malloc();
    // aligned_alloc wants a size that is a multiple of the alignment.
    size_t padded = (nbytes + 63) & ~(size_t)63;
    void *data = padded > HEAP_LIMIT ? big_take(padded) : NULL;
    if (!data)
        data = aligned_alloc(64, padded ? padded : 64);
    if (!data)
        at_error(AT_ENOMEM, "out of memory allocating %zu bytes", nbytes);
    return data;
}

static void host_free_sized(void *p, size_t nbytes) {
    size_t padded = (nbytes + 63) & ~(size_t)63;
    if (p && padded > HEAP_LIMIT)
        big_keep(p, padded);
    else
        free(p);
}

void host_free(void *p) { free(p); }

Storage *storage_new_cpu(size_t nbytes) {
    void *data = host_alloc(nbytes);
    return data ? storage_wrap(data, nbytes, DEV_CPU, host_free) : NULL;
}

Storage *storage_wrap(void *data, size_t nbytes, Device device, void (*free_data)(void *)) {
    Storage *s = malloc(sizeof *s);
    if (!s) {
        free_data(data);
        at_error(AT_ENOMEM, "out of memory allocating a storage header");
        return NULL;
    }
    *s = (Storage){.data = data, .nbytes = nbytes, .device = device, .refs = 1,
                   .version = 0, .free_data = free_data};
    live_bytes += nbytes;
    return s;
}

void storage_retain(Storage *s) { s->refs++; }

void storage_release(Storage *s) {
    if (!s || --s->refs > 0)
        return;
    live_bytes -= s->nbytes;
    if (s->free_data == host_free) // host memory: big blocks may be kept for reuse
        host_free_sized(s->data, s->nbytes);
    else
        s->free_data(s->data);
    free(s);
}

size_t storage_live_bytes(void) { return live_bytes; }

/* ---- shapes ----------------------------------------------------------- */

int64_t shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++)
        n *= shape[i];
    return n;
}

int shape_check(const char *who, int ndim, const int64_t *shape, int64_t *numel) {
    if (ndim < 0 || ndim > AT_MAXDIM)
        return at_error(AT_EINVAL, "%s: %d dimensions (at most %d)", who, ndim, AT_MAXDIM);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return at_error(AT_EINVAL, "%s: size %lld of dim %d is negative", who,
                            (long long)shape[i], i + 1);
        // Overflow-free test of n * shape[i] * 4 > MAX_TENSOR_BYTES.
        if (shape[i] > 0 && n > MAX_TENSOR_BYTES / 4 / shape[i]) {
            char buf[160];
            return at_error(AT_ENOMEM, "%s: shape %s is too large (over %lld GiB)", who,
                            shape_format(buf, sizeof buf, ndim, shape),
                            (long long)(MAX_TENSOR_BYTES >> 30));
        }
        n *= shape[i];
    }
    *numel = n;
    return AT_OK;
}

char *shape_format(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t used = 0;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", i ? "," : "",
                                 (long long)shape[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

void shape_contiguous_strides(int64_t *strides, int ndim, const int64_t *shape) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i] > 0 ? shape[i] : 1;
    }
}

/* ---- tensors ---------------------------------------------------------- */

Tensor *tensor_wrap(Storage *s, int ndim, const int64_t *shape, const int64_t *strides,
                    int64_t offset) {
    Tensor *t = malloc(sizeof *t);
    if (!t) {
        at_error(AT_ENOMEM, "out of memory allocating a tensor header");
        return NULL;
    }
    memset(t, 0, sizeof *t);
    t->storage = s;
    storage_retain(s);
    t->offset = offset;
    t->ndim = ndim;
    t->refs = 1;
    if (ndim > 0) // a 0-d tensor may come with shape == NULL
        memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    if (strides && ndim > 0)
        memcpy(t->strides, strides, (size_t)ndim * sizeof *strides);
    else
        shape_contiguous_strides(t->strides, ndim, shape);
    return t;
}

Tensor *tensor_new_cpu(int ndim, const int64_t *shape) {
    int64_t n;
    if (shape_check("tensor", ndim, shape, &n))
        return NULL;
    Storage *s = storage_new_cpu((size_t)n * sizeof(float));
    if (!s)
        return NULL;
    Tensor *t = tensor_wrap(s, ndim, shape, NULL, 0);
    storage_release(s);
    return t;
}

void tensor_retain(Tensor *t) { t->refs++; }

void tensor_release(Tensor *t) {
    if (!t || --t->refs > 0)
        return;
    storage_release(t->storage);
    tensor_release(t->grad);
    gradfn_release(t->grad_fn);
    free(t);
}

void gradfn_retain(GradFn *fn) { fn->refs++; }

void gradfn_release(GradFn *fn) {
    if (fn && --fn->refs == 0)
        fn->destroy(fn);
}

int64_t tensor_numel(const Tensor *t) { return shape_numel(t->ndim, t->shape); }

int tensor_is_contiguous(const Tensor *t) {
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        // Size-1 dims may carry any stride without changing the layout.
        if (t->shape[i] != 1 && t->strides[i] != expect)
            return 0;
        expect *= t->shape[i];
    }
    return 1;
}

Device tensor_device(const Tensor *t) { return t->storage->device; }

float *tensor_data(const Tensor *t) { return (float *)t->storage->data + t->offset; }

char *tensor_shape_str(char *buf, size_t size, const Tensor *t) {
    return shape_format(buf, size, t->ndim, t->shape);
}

/* ---- views ------------------------------------------------------------ */

static int check_dim(const char *who, const Tensor *t, int dim) {
    if (dim < 0 || dim >= t->ndim)
        return at_error(AT_EINVAL, "%s: dim %d out of range for a %d-d tensor", who, dim + 1,
                        t->ndim);
    return AT_OK;
}

Tensor *tensor_select(const Tensor *t, int dim, int64_t index) {
    if (check_dim("select", t, dim))
        return NULL;
    if (index < 0 || index >= t->shape[dim]) {
        at_error(AT_EINVAL, "select: index %lld out of range 1..%lld of dim %d",
                 (long long)index + 1, (long long)t->shape[dim], dim + 1);
        return NULL;
    }
    int64_t shape[AT_MAXDIM], strides[AT_MAXDIM];
    for (int i = 0, j = 0; i < t->ndim; i++) {
        if (i == dim)
            continue;
        shape[j] = t->shape[i];
        strides[j++] = t->strides[i];
    }
    return tensor_wrap(t->storage, t->ndim - 1, shape, strides,
                       t->offset + index * t->strides[dim]);
}

Tensor *tensor_narrow(const Tensor *t, int dim, int64_t start, int64_t len) {
    if (check_dim("narrow", t, dim))
        return NULL;
    if (start < 0 || len < 0 || start + len > t->shape[dim]) {
        at_error(AT_EINVAL, "narrow: start %lld length %lld does not fit in size %lld of dim %d",
                 (long long)start + 1, (long long)len, (long long)t->shape[dim], dim + 1);
        return NULL;
    }
    Tensor *v = tensor_wrap(t->storage, t->ndim, t->shape, t->strides,
                            t->offset + start * t->strides[dim]);
    if (v)
        v->shape[dim] = len;
    return v;
}

Tensor *tensor_transpose(const Tensor *t, int a, int b) {
    if (check_dim("transpose", t, a) || check_dim("transpose", t, b))
        return NULL;
    Tensor *v = tensor_wrap(t->storage, t->ndim, t->shape, t->strides, t->offset);
    if (!v)
        return NULL;
    v->shape[a] = t->shape[b];
    v->shape[b] = t->shape[a];
    v->strides[a] = t->strides[b];
    v->strides[b] = t->strides[a];
    return v;
}

/*
 * A reshape is a view when each group of old dims that merges into or
 * splits from new dims is itself laid out evenly. We use the simple,
 * common case: the source is contiguous, or the new shape only inserts or
 * removes size-1 dims. Anything else returns AT_EINVAL and the caller
 * copies (ops layer), which is what numpy's reshape does too.
 */
Tensor *tensor_view(const Tensor *t, int ndim, const int64_t *shape) {
    int64_t n;
    if (shape_check("reshape", ndim, shape, &n))
        return NULL;
    if (n != tensor_numel(t)) {
        char a[160], b[160];
        at_error(AT_ESHAPE, "reshape: cannot view %s (%lld elements) as %s (%lld elements)",
                 tensor_shape_str(a, sizeof a, t), (long long)tensor_numel(t),
                 shape_format(b, sizeof b, ndim, shape), (long long)n);
        return NULL;
    }
    if (tensor_is_contiguous(t))
        return tensor_wrap(t->storage, ndim, shape, NULL, t->offset);
    // Same non-1 dims in the same order: carry their strides over.
    int64_t strides[AT_MAXDIM];
    int j = 0;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] == 1) {
            strides[i] = 1;
            continue;
        }
        while (j < t->ndim && t->shape[j] == 1)
            j++;
        if (j >= t->ndim || t->shape[j] != shape[i]) {
            at_error(AT_EINVAL, "reshape: this layout needs a copy");
            return NULL;
        }
        strides[i] = t->strides[j++];
    }
    return tensor_wrap(t->storage, ndim, shape, strides, t->offset);
}

Tensor *tensor_expand(const Tensor *t, int ndim, const int64_t *shape) {
    char a[160], b[160];
    if (ndim < t->ndim || ndim > AT_MAXDIM) {
        at_error(AT_ESHAPE, "cannot broadcast %s to %s", tensor_shape_str(a, sizeof a, t),
                 shape_format(b, sizeof b, ndim, shape));
        return NULL;
    }
    int64_t strides[AT_MAXDIM];
    int lead = ndim - t->ndim;
    for (int i = 0; i < ndim; i++) {
        int src = i - lead;
        if (src < 0) {
            strides[i] = 0;
        } else if (t->shape[src] == shape[i]) {
            strides[i] = t->strides[src];
        } else if (t->shape[src] == 1) {
            strides[i] = 0;
        } else {
            at_error(AT_ESHAPE, "cannot broadcast %s to %s", tensor_shape_str(a, sizeof a, t),
                     shape_format(b, sizeof b, ndim, shape));
            return NULL;
        }
    }
    return tensor_wrap(t->storage, ndim, shape, strides, t->offset);
}

Tensor *tensor_unsqueeze(const Tensor *t, int dim) {
    if (dim < 0 || dim > t->ndim || t->ndim >= AT_MAXDIM) {
        at_error(AT_EINVAL, "unsqueeze: dim %d out of range for a %d-d tensor", dim + 1, t->ndim);
        return NULL;
    }
    int64_t shape[AT_MAXDIM], strides[AT_MAXDIM];
    for (int i = 0, j = 0; i <= t->ndim; i++) {
        if (i == dim) {
            shape[i] = 1;
            strides[i] = dim < t->ndim ? t->strides[dim] * t->shape[dim] : 1;
            continue;
        }
        shape[i] = t->shape[j];
        strides[i] = t->strides[j++];
    }
    return tensor_wrap(t->storage, t->ndim + 1, shape, strides, t->offset);
}
