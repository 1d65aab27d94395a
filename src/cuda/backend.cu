/*
 * backend.cu: CUDA device discovery, device memory and the backend table.
 *
 * Any error from the runtime at probe time (no driver: cudaErrorInsufficientDriver;
 * no device: cudaErrorNoDevice) means "no GPU": we record why and the
 * registry reports it, so attnlab keeps working on the cpu.
 *
 * Memory comes from the runtime's stream-ordered pool (cudaMallocAsync on
 * the default stream) where the device has one: a tensor freed while a
 * queued kernel still reads it is only reused after that kernel, a free
 * does not stall the queue as cudaFree does, and freed blocks stay in the
 * pool for the next step's temporaries (the release threshold is raised
 * from 0 so the pool keeps them). Devices without pools use cudaMalloc and
 * cudaFree, which synchronise and are just as safe.
 */
#include <config.h>

#include <stdio.h>

#include <cuda_runtime_api.h>

extern "C" {
#include "../core/error.h"
}
#include "common.cuh"
#include "cuda.h"

static int probed = 0;
static int usable = 0;
static int pooled = 0; // cudaMallocAsync is there
static char probe_message[256];
static char device_line[256];

static void probe(void) {
    probed = 1;
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess || count == 0) {
        snprintf(probe_message, sizeof probe_message, "cuda: no usable GPU (%s)",
                 err != cudaSuccess ? cudaGetErrorString(err) : "no device found");
        return;
    }
    cudaDeviceProp prop;
    if ((err = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) {
        snprintf(probe_message, sizeof probe_message, "cuda: cannot query device 0 (%s)",
                 cudaGetErrorString(err));
        return;
    }
    snprintf(device_line, sizeof device_line, "%s (sm_%d%d, %.1f GiB)", prop.name, prop.major,
             prop.minor, (double)prop.totalGlobalMem / (1 << 30));
    int pools = 0;
    cudaMemPool_t pool;
    if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, 0) == cudaSuccess &&
        pools && cudaDeviceGetDefaultMemPool(&pool, 0) == cudaSuccess) {
        uint64_t keep = UINT64_MAX;
        pooled = cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep) ==
                 cudaSuccess;
    }
    cudaGetLastError(); // a refused attribute query is not an error to report later
    usable = 1;
}

static int status_of(cudaError_t err, const char *what, size_t nbytes) {
    if (err == cudaSuccess)
        return AT_OK;
    if (err == cudaErrorMemoryAllocation)
        return at_error(AT_ENOMEM, "cuda: out of device memory allocating %zu bytes", nbytes);
    return at_error(AT_EDEVICE, "cuda: %s of %zu bytes failed (%s)", what, nbytes,
                    cudaGetErrorString(err));
}

static int cuda_alloc(void **out, size_t nbytes) {
    size_t n = nbytes ? nbytes : 4; // a valid pointer even for an empty tensor
    cudaError_t err = pooled ? cudaMallocAsync(out, n, 0) : cudaMalloc(out, n);
    if (err != cudaSuccess) {
        cudaGetLastError(); // out of memory is not sticky: clear it for the next call
        *out = NULL;
    }
    return status_of(err, "allocation", nbytes);
}

static void cuda_release(void *p) {
    if (p)
        pooled ? cudaFreeAsync(p, 0) : cudaFree(p);
}

int cuda_scratch(void **out, size_t nbytes, const char *who) {
    if (cuda_alloc(out, nbytes) == AT_OK)
        return AT_OK;
    char why[256]; // at_error rewrites the buffer at_errmsg points into
    snprintf(why, sizeof why, "%s", at_errmsg());
    return at_error(at_errcode(), "%s: %s", who, why);
}

void cuda_scratch_release(void *p) { cuda_release(p); }

static int cuda_upload(void *dst, const void *src, size_t nbytes) {
    return status_of(cudaMemcpy(dst, src, nbytes, cudaMemcpyHostToDevice), "upload", nbytes);
}

static int cuda_download(void *dst, const void *src, size_t nbytes) {
    return status_of(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToHost), "download", nbytes);
}

static Backend make_backend(void) {
    Backend b = {};
    b.name = "cuda";
    b.alloc = cuda_alloc;
    b.release = cuda_release;
    b.upload = cuda_upload;
    b.download = cuda_download;
    b.fill = cuda_fill;
    b.copy = cuda_copy;
    b.rand_uniform = cuda_rand_uniform;
    b.rand_normal = cuda_rand_normal;
    b.binary = cuda_binary;
    b.unary = cuda_unary;
    b.reduce = cuda_reduce;
    b.softmax = cuda_softmax;
    b.matmul = cuda_matmul;
    b.masked_fill = cuda_masked_fill;
    b.embedding = cuda_embedding;
    b.embedding_backward = cuda_embedding_backward;
    b.layer_norm = cuda_layer_norm;
    b.layer_norm_backward = cuda_layer_norm_backward;
    b.cross_entropy = cuda_cross_entropy;
    b.cross_entropy_backward = cuda_cross_entropy_backward;
    b.attention = cuda_attention;
    b.attention_backward = cuda_attention_backward;
    // set_threads / get_threads stay NULL: the GPU's parallelism is the
    // launch shape, and op_set_threads addresses the cpu backend only.
    return b;
}

static const Backend cuda = make_backend();

extern "C" const Backend *cuda_backend(void) {
    if (!probed)
        probe();
    if (!usable) {
        at_error(AT_EDEVICE, "%s", probe_message);
        return NULL;
    }
    return &cuda;
}

extern "C" const char *cuda_device_name(void) { return device_line; }
