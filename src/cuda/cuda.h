/*
 * cuda.h: plain C entry points of the CUDA backend (the .cu files of src/cuda).
 *
 * Built only when configure finds nvcc; src/ops/registry.c is the only
 * caller. The kernels of the table come with the GPU work; this file set
 * owns device discovery and device memory, so tensors can live on a GPU
 * and every op not yet there says so by name.
 */
#ifndef AT_CUDA_H
#define AT_CUDA_H

#include "../ops/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend, or NULL with a message when there is no usable GPU (no
   driver, no device). The device is probed once. */
const Backend *cuda_backend(void);
/* "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)" once cuda_backend() succeeded. */
const char *cuda_device_name(void);

#ifdef __cplusplus
}
#endif

#endif
