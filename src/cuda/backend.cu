/*
 * backend.cu: CUDA device discovery and device memory.
 *
 * Any error from the runtime at probe time (no driver: cudaErrorInsufficientDriver;
 * no device: cudaErrorNoDevice) means "no GPU": we record why and the
 * registry reports it, so attnlab keeps working on the cpu.
 */
#include <config.h>

#include <stdio.h>

#include <cuda_runtime_api.h>

extern "C" {
#include "../core/error.h"
}
#include "cuda.h"

static int probed = 0;
static int usable = 0;
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
    return status_of(cudaMalloc(out, nbytes ? nbytes : 4), "allocation", nbytes);
}

static void cuda_release(void *p) { cudaFree(p); }

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
