/*
 * create.c: new tensors: empty, constant, from host data, ranges, identity,
 * random draws, and the default device.
 *
 * The random stream is global, like numpy's legacy one: a seed and a block
 * counter (core/rng.h documents the stream). Each draw takes the next
 * ceil(n/4) blocks, whatever device it is made on, so a seeded script gives
 * the same numbers on the cpu and on a GPU.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../core/error.h"
#include "../core/rng.h"
#include "tensor_ops.h"

static Device default_device = DEV_CPU;
static uint64_t rng_key = 0, rng_counter = 0;
static int rng_seeded = 0;

int op_empty(Tensor **out, int ndim, const int64_t *shape, Device dev) {
    int64_t n;
    *out = NULL;
    if (shape_check("tensor", ndim, shape, &n))
        return at_errcode();
    const Backend *be = backend_get(dev);
    if (!be)
        return at_errcode();
    void *data;
    size_t nbytes = (size_t)n * sizeof(float);
    if (be->alloc(&data, nbytes))
        return at_errcode();
    Storage *s = storage_wrap(data, nbytes, dev, be->release);
    if (!s)
        return AT_ENOMEM;
    *out = tensor_wrap(s, ndim, shape, NULL, 0);
    storage_release(s);
    return *out ? AT_OK : AT_ENOMEM;
}

/* Run one backend entry on a fresh tensor; drop the tensor if it fails. */
static int finish(Tensor **out, int status) {
    if (status) {
        tensor_release(*out);
        *out = NULL;
    }
    return status;
}

static int missing(const char *op, const Backend *be) {
    return at_error(AT_EDEVICE, "%s: not available on %s yet", op, be->name);
}

int op_full(Tensor **out, int ndim, const int64_t *shape, float value, Device dev) {
    if (op_empty(out, ndim, shape, dev))
        return at_errcode();
    const Backend *be = backend_of(*out);
    return finish(out, be->fill ? be->fill(*out, value) : missing("fill", be));
}

int op_from_host(Tensor **out, const float *data, int ndim, const int64_t *shape, Device dev) {
    if (op_empty(out, ndim, shape, dev))
        return at_errcode();
    const Backend *be = backend_of(*out);
    return finish(out, be->upload(tensor_data(*out), data, (size_t)tensor_numel(*out) * 4));
}

int op_arange(Tensor **out, double start, double stop, double step, Device dev) {
    *out = NULL;
    if (step == 0.0 || step != step)
        return at_error(AT_EINVAL, "arange: step must be a non-zero number");
    if (!isfinite(start) || !isfinite(stop))
        return at_error(AT_EINVAL, "arange: start and stop must be finite");
    // Count like numpy: ceil((stop - start) / step) values, none if negative.
    double count = ceil((stop - start) / step);
    int64_t n = count > 0 ? (int64_t)count : 0;
    if (count > 1e12)
        return at_error(AT_ENOMEM, "arange: %.0f values is too many", count);
    float *host = malloc((size_t)(n ? n : 1) * sizeof *host);
    if (!host)
        return at_error(AT_ENOMEM, "arange: out of memory for %lld values", (long long)n);
    for (int64_t i = 0; i < n; i++)
        host[i] = (float)(start + (double)i * step);
    int st = op_from_host(out, host, 1, &n, dev);
    free(host);
    return st;
}

int op_eye(Tensor **out, int64_t n, int64_t m, Device dev) {
    int64_t shape[2] = {n, m};
    if (op_full(out, 2, shape, 0.0f, dev))
        return at_errcode();
    // The diagonal of a row-major [n,m] is a 1-d view with stride m+1.
    int64_t k = n < m ? n : m, stride = m + 1;
    Tensor *diag = tensor_wrap((*out)->storage, 1, &k, &stride, 0);
    if (!diag)
        return finish(out, AT_ENOMEM);
    int st = op_fill(diag, 1.0f);
    tensor_release(diag);
    return finish(out, st);
}

void op_seed(uint64_t seed) {
    rng_key = seed;
    rng_counter = 0;
    rng_seeded = 1;
}

uint64_t op_get_seed(void) {
    if (!rng_seeded) // unseeded runs differ, but can still be replayed
        op_seed(((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid());
    return rng_key;
}

int op_rand(Tensor **out, int ndim, const int64_t *shape, int normal, Device dev) {
    uint64_t key = op_get_seed();
    if (op_empty(out, ndim, shape, dev))
        return at_errcode();
    const Backend *be = backend_of(*out);
    int (*draw)(Tensor *, uint64_t, uint64_t) = normal ? be->rand_normal : be->rand_uniform;
    if (!draw)
        return finish(out, missing(normal ? "randn" : "rand", be));
    int st = draw(*out, key, rng_counter);
    rng_counter += rng_blocks(tensor_numel(*out));
    return finish(out, st);
}

Device op_default_device(void) { return default_device; }

int op_set_default_device(Device dev) {
    if (!backend_get(dev))
        return at_errcode();
    default_device = dev;
    return AT_OK;
}
