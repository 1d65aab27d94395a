/*
 * tensor.h: N-d float32 tensors as refcounted storage plus a view header.
 *
 * A Storage owns a block of bytes on one device. A Tensor is a view of it:
 * shape, strides (in elements, may be 0 for a broadcast dimension) and an
 * offset (in elements). Views share storage; nothing here copies data.
 * This layer knows no backend: it allocates host memory itself and takes
 * device memory from whoever allocated it, with the function that frees it.
 *
 * Ownership: functions that return Storage * or Tensor * hand the caller a
 * new reference; *_release(NULL) is a no-op. Single-threaded refcounts: the
 * Lua thread owns all tensors; worker threads only read and write data.
 */
#ifndef AT_TENSOR_H
#define AT_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define AT_MAXDIM 8

typedef enum { DEV_CPU = 0, DEV_CUDA = 1, DEV_COUNT } Device;

typedef struct Storage {
    void *data;                // device pointer, owned
    size_t nbytes;
    Device device;
    int refs;
    unsigned version;          // bumped by every in-place write (autograd checks it)
    void (*free_data)(void *); // how to give the bytes back
} Storage;

/* The common head of an autograd node (src/autograd defines the rest).
   Core only needs to drop references to it when a tensor dies. */
typedef struct GradFn {
    int refs;
    void (*destroy)(struct GradFn *self);
} GradFn;

typedef struct Tensor {
    Storage *storage;          // owned reference
    int64_t offset;            // in elements
    int ndim;                  // 0 = a scalar
    int64_t shape[AT_MAXDIM];
    int64_t strides[AT_MAXDIM];
    int refs;
    // Autograd (src/autograd): a leaf that requires grad accumulates into
    // grad; a computed tensor points at the node that made it.
    int requires_grad;
    struct Tensor *grad;       // owned, or NULL
    GradFn *grad_fn;           // owned reference, or NULL
} Tensor;

/* 64-byte-aligned host memory (vector loops like it); NULL + AT_ENOMEM. */
void *host_alloc(size_t nbytes);
void host_free(void *p);

/* Storage of nbytes of 64-byte-aligned host memory; NULL + AT_ENOMEM. */
Storage *storage_new_cpu(size_t nbytes);
/* Wrap device memory; on failure free_data(data) is called. */
Storage *storage_wrap(void *data, size_t nbytes, Device device, void (*free_data)(void *));
void storage_retain(Storage *s);
void storage_release(Storage *s);

/* Bytes of tensor data live now, over all devices (for the Lua collector). */
size_t storage_live_bytes(void);

/* Check a shape (dims >= 0, ndim <= AT_MAXDIM, no overflow, sane size);
   on success *numel holds the element count. `who` names the caller. */
int shape_check(const char *who, int ndim, const int64_t *shape, int64_t *numel);
int64_t shape_numel(int ndim, const int64_t *shape);
/* Write "[2,3]" into buf; returns buf. */
char *shape_format(char *buf, size_t size, int ndim, const int64_t *shape);
/* Row-major strides of a shape. */
void shape_contiguous_strides(int64_t *strides, int ndim, const int64_t *shape);

/* A view of s (retained) with the given shape; strides NULL = contiguous. */
Tensor *tensor_wrap(Storage *s, int ndim, const int64_t *shape, const int64_t *strides,
                    int64_t offset);
/* A new contiguous tensor on the host (uninitialised). */
Tensor *tensor_new_cpu(int ndim, const int64_t *shape);
void tensor_retain(Tensor *t);
void gradfn_retain(GradFn *fn);
void gradfn_release(GradFn *fn);
void tensor_release(Tensor *t);

int64_t tensor_numel(const Tensor *t);
int tensor_is_contiguous(const Tensor *t);
Device tensor_device(const Tensor *t);
/* Pointer to element 0 of the view (device memory for device tensors). */
float *tensor_data(const Tensor *t);
/* "[2,3]" for t. */
char *tensor_shape_str(char *buf, size_t size, const Tensor *t);

/* Views. dim and index are 0-based here; all return a new reference or
   NULL with a message naming `who`. */
Tensor *tensor_select(const Tensor *t, int dim, int64_t index);
Tensor *tensor_narrow(const Tensor *t, int dim, int64_t start, int64_t len);
Tensor *tensor_transpose(const Tensor *t, int a, int b);
/* Same data under a new shape: needs a view whose elements are evenly laid
   out; NULL with AT_ESHAPE when the numels differ, NULL with AT_EINVAL when
   the layout does not allow a view (the caller then copies). */
Tensor *tensor_view(const Tensor *t, int ndim, const int64_t *shape);
/* Broadcast view to shape (right-aligned, size-1 dims get stride 0). */
Tensor *tensor_expand(const Tensor *t, int ndim, const int64_t *shape);
Tensor *tensor_unsqueeze(const Tensor *t, int dim);

#endif
