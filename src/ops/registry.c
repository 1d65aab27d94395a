/*
 * registry.c: which backend serves which device.
 *
 * The one place in C where HAVE_CUDA is tested: a build without CUDA still
 * knows the device "cuda" and answers every request for it with a message
 * saying why it is not there, so callers need no #ifdef of their own.
 */
#include <config.h>

#include <string.h>

#include "../core/error.h"
#include "ops.h"
#ifdef HAVE_CUDA
#include "../cuda/cuda.h"
#endif

static const char *const device_names[DEV_COUNT] = {[DEV_CPU] = "cpu", [DEV_CUDA] = "cuda"};

const char *device_name(Device device) {
    return device >= 0 && device < DEV_COUNT ? device_names[device] : "?";
}

int device_parse(const char *name, Device *out) {
    if (strcmp(name, "cpu") == 0) {
        *out = DEV_CPU;
        return AT_OK;
    }
    if (strcmp(name, "cuda") == 0 || strcmp(name, "cuda:0") == 0 ||
        strcmp(name, "gpu") == 0) {
        *out = DEV_CUDA;
        return AT_OK;
    }
    return at_error(AT_EINVAL, "unknown device '%s' (expected \"cpu\" or \"cuda\")", name);
}

const Backend *backend_get(Device device) {
    if (device == DEV_CPU)
        return cpu_backend();
#ifdef HAVE_CUDA
    return cuda_backend();
#else
    at_error(AT_EDEVICE, "cuda: this attnlab was built without CUDA (configure found no "
                         "nvcc); everything runs on the cpu");
    return NULL;
#endif
}

const Backend *backend_of(const Tensor *t) { return backend_get(tensor_device(t)); }

const char *device_describe(Device device) {
    static char line[256];
    if (device == DEV_CPU)
        return "cpu (OpenBLAS)";
#ifdef HAVE_CUDA
    if (cuda_backend())
        return cuda_device_name();
#else
    backend_get(device);
#endif
    strncpy(line, at_errmsg(), sizeof line - 1);
    line[sizeof line - 1] = '\0';
    return line;
}
