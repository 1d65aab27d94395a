/*
 * tests/emu/cuda_runtime_api.h: a small CUDA emulator on the CPU, so that the
 * kernels of src/cuda can run (and be checked against the CPU backend) on
 * machines without a GPU. Not part of attnlab: `make check-cuda-emu` builds
 * tests/emu/attnlab-emu from the same .cu sources compiled as C++ with this
 * header (and cublas_v2.h beside it) in place of the CUDA toolkit's.
 *
 * What it models: a launch runs its blocks one after another; the threads of
 * a block are coroutines (ucontext) on one OS thread, switched only at
 * __syncthreads and warp shuffles, so a run is deterministic. Each warp runs
 * to the next __syncthreads before the next warp starts. A barrier releases
 * when every thread still running has reached it (exited threads do not
 * count, as on sm_70+); a shuffle needs all 32 lanes of its warp; a barrier
 * nobody can complete is reported as a deadlock. EMU_ORDER=reverse runs the
 * warps (and lanes) in reverse order: a missing __syncthreads then reads
 * other values than in forward order. Dynamic
 * shared memory is filled with NaN before every block, so reading what no
 * thread wrote shows in the results. Device memory is host memory: under
 * ASan every out-of-bounds access of a kernel is caught.
 *
 * What it does not model: timing, warp-synchronous execution beyond the
 * shuffles, memory ordering between blocks, float rounding of the GPU's
 * exp/log (the host's libm stands in).
 */
#ifndef EMU_CUDA_RUNTIME_API_H
#define EMU_CUDA_RUNTIME_API_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <functional>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

inline dim3 threadIdx, blockIdx, blockDim, gridDim;

struct alignas(16) float4 { // the vector type of 128-bit loads
    float x, y, z, w;
};
inline void *emu_dyn_smem = nullptr;

/* ---- errors ---------------------------------------------------------------- */

typedef enum cudaError {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorLaunchFailure = 719,
} cudaError_t;

inline cudaError_t emu_last_error = cudaSuccess;

inline const char *cudaGetErrorString(cudaError_t e) {
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    default: return "unspecified launch failure";
    }
}

inline cudaError_t cudaGetLastError(void) {
    cudaError_t e = emu_last_error;
    emu_last_error = cudaSuccess;
    return e;
}

/* ---- device and memory ------------------------------------------------------ */

struct cudaDeviceProp {
    char name[256];
    int major, minor;
    size_t totalGlobalMem;
};
enum cudaDeviceAttr { cudaDevAttrMaxSharedMemoryPerBlockOptin = 97, cudaDevAttrMemoryPoolsSupported = 115 };
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2 };
enum cudaMemPoolAttr { cudaMemPoolAttrReleaseThreshold = 4 };
typedef void *cudaMemPool_t;
typedef void *cudaStream_t;

/* EMU_SMEM_OPTIN: the shared memory a block may ask for (default an H100's
   227 KiB; 65536 plays a Turing card, 49152 a device without opt-in). */
inline int emu_smem_optin(void) {
    const char *s = getenv("EMU_SMEM_OPTIN");
    return s ? atoi(s) : 232448;
}
/* EMU_MEM: device memory in bytes (default 4 GiB), to see exhaustion. */
inline size_t emu_mem_total(void) {
    const char *s = getenv("EMU_MEM");
    return s ? (size_t)strtoull(s, NULL, 10) : ((size_t)4 << 30);
}
inline size_t emu_mem_used = 0;

inline cudaError_t cudaGetDeviceCount(int *n) { *n = 1; return cudaSuccess; }
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int) {
    snprintf(p->name, sizeof p->name, "attnlab CUDA emulator");
    p->major = 9, p->minor = 0, p->totalGlobalMem = emu_mem_total();
    return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int) {
    *v = a == cudaDevAttrMaxSharedMemoryPerBlockOptin ? emu_smem_optin() : 1;
    return cudaSuccess;
}
inline cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *p, int) { *p = nullptr; return cudaSuccess; }
inline cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void *) { return cudaSuccess; }
template <typename F> cudaError_t cudaFuncSetAttribute(F, cudaFuncAttribute, int bytes) {
    return bytes <= emu_smem_optin() ? cudaSuccess : (emu_last_error = cudaErrorInvalidValue);
}

/* A size header before each block, so a free knows what it gives back. */
inline cudaError_t cudaMalloc(void **p, size_t n) {
    if (emu_mem_used + n > emu_mem_total())
        return emu_last_error = cudaErrorMemoryAllocation;
    size_t *b = (size_t *)malloc(n + 16);
    if (!b)
        return emu_last_error = cudaErrorMemoryAllocation;
    b[0] = n;
    emu_mem_used += n;
    memset(b + 2, 0xff, n); // fresh device memory is garbage (NaN here)
    *p = b + 2;
    return cudaSuccess;
}
inline cudaError_t cudaFree(void *p) {
    if (p) {
        size_t *b = (size_t *)p - 2;
        emu_mem_used -= b[0];
        free(b);
    }
    return cudaSuccess;
}
inline cudaError_t cudaMallocAsync(void **p, size_t n, cudaStream_t) { return cudaMalloc(p, n); }
inline cudaError_t cudaMallocAsync(void **p, size_t n, int) { return cudaMalloc(p, n); }
inline cudaError_t cudaFreeAsync(void *p, cudaStream_t) { return cudaFree(p); }
inline cudaError_t cudaFreeAsync(void *p, int) { return cudaFree(p); }
inline cudaError_t cudaMemcpy(void *d, const void *s, size_t n, cudaMemcpyKind) {
    memcpy(d, s, n);
    return cudaSuccess;
}

/* ---- the block scheduler ------------------------------------------------------ */

enum { EMU_READY, EMU_WAIT_BLOCK, EMU_WAIT_WARP, EMU_DONE };
#define EMU_STACK (256 * 1024)

struct EmuThread {
    ucontext_t ctx;
    char *stack;
    int state;
    unsigned char xchg[8]; // a shuffle's outgoing value
};

inline std::vector<EmuThread> emu_threads;
inline ucontext_t emu_sched;
inline int emu_current = -1;
inline const std::function<void()> *emu_body = nullptr;

inline void emu_fail(const char *what) {
    fprintf(stderr, "cuda emulator: %s (block %u,%u thread %d)\n", what, blockIdx.x, blockIdx.y,
            emu_current);
    abort();
}

inline void emu_yield(int state) {
    EmuThread &t = emu_threads[emu_current];
    t.state = state;
    swapcontext(&t.ctx, &emu_sched);
}

inline void __syncthreads(void) { emu_yield(EMU_WAIT_BLOCK); }

template <typename T> T emu_exchange(T v, int src_lane) {
    int me = emu_current, base = me & ~31;
    if (base + 32 > (int)blockDim.x)
        emu_fail("a shuffle in a partial warp");
    memcpy(emu_threads[me].xchg, &v, sizeof v);
    emu_yield(EMU_WAIT_WARP); // every lane has published its value
    T r;
    memcpy(&r, emu_threads[base + (src_lane & 31)].xchg, sizeof r);
    emu_yield(EMU_WAIT_WARP); // every lane has read before anyone writes again
    return r;
}
template <typename T> T __shfl_xor_sync(unsigned, T v, int o) {
    return emu_exchange(v, (emu_current & 31) ^ o);
}
template <typename T> T __shfl_sync(unsigned, T v, int lane) { return emu_exchange(v, lane); }

inline float atomicAdd(float *p, float v) { // one OS thread: a plain add is atomic
    float old = *p;
    *p = old + v;
    return old;
}

inline void emu_trampoline(void) {
    (*emu_body)();
    emu_threads[emu_current].state = EMU_DONE;
    // returning follows uc_link back to the scheduler
}

/* Run warp w's ready lanes until each waits or exits; a shuffle all 32
   lanes wait in is released at once and the warp runs on. So every warp
   runs as far as the next __syncthreads before the next warp starts: a
   missing __syncthreads between warps shows as wrong results, which a
   lockstep emulation would hide. */
inline void emu_run_warp(int w, int n, bool reverse) {
    int lo = w * 32, hi = lo + 32 < n ? lo + 32 : n;
    for (;;) {
        for (int k = lo; k < hi; k++) {
            int i = reverse ? lo + hi - 1 - k : k;
            if (emu_threads[i].state != EMU_READY)
                continue;
            emu_current = i;
            threadIdx = dim3((unsigned)i);
            swapcontext(&emu_sched, &emu_threads[i].ctx);
        }
        int at_shuffle = 0;
        for (int i = lo; i < hi; i++)
            at_shuffle += emu_threads[i].state == EMU_WAIT_WARP;
        if (at_shuffle == 0 || at_shuffle != hi - lo)
            return; // at __syncthreads, exited, or stuck (found by the caller)
        for (int i = lo; i < hi; i++)
            emu_threads[i].state = EMU_READY;
    }
}

inline void emu_run_block(int n, bool reverse, size_t smem) {
    for (int i = 0; i < n; i++) {
        EmuThread &t = emu_threads[i];
        getcontext(&t.ctx);
        t.ctx.uc_stack.ss_sp = t.stack;
        t.ctx.uc_stack.ss_size = EMU_STACK;
        t.ctx.uc_link = &emu_sched;
        makecontext(&t.ctx, emu_trampoline, 0);
        t.state = EMU_READY;
    }
    if (smem) // NaN: what no thread wrote reads as NaN
        memset(emu_dyn_smem, 0xff, smem);
    int warps = (n + 31) / 32;
    for (;;) {
        for (int k = 0; k < warps; k++)
            emu_run_warp(reverse ? warps - 1 - k : k, n, reverse);
        int live = 0, at_bar = 0;
        for (int i = 0; i < n; i++) {
            live += emu_threads[i].state != EMU_DONE;
            at_bar += emu_threads[i].state == EMU_WAIT_BLOCK;
        }
        if (live == 0)
            return;
        if (at_bar != live) // some wait in a shuffle whose warp cannot complete it
            emu_fail("deadlock: a shuffle or barrier that cannot complete");
        for (int i = 0; i < n; i++)
            if (emu_threads[i].state == EMU_WAIT_BLOCK)
                emu_threads[i].state = EMU_READY;
    }
}

/* EMU_TRACE=1: each kernel's name and launch count on stderr at exit, to
   see which paths a test took. */
struct EmuTrace {
    std::vector<std::pair<const char *, long>> counts;
    void add(const char *name) {
        for (auto &c : counts)
            if (strcmp(c.first, name) == 0) {
                c.second++;
                return;
            }
        counts.push_back({name, 1});
    }
    ~EmuTrace() {
        if (getenv("EMU_TRACE"))
            for (auto &c : counts)
                fprintf(stderr, "emu launches %8ld  %s\n", c.second, c.first);
    }
};
inline EmuTrace emu_trace;

/* kernel<<<grid, block, smem>>>(args) becomes emu_launch(grid, block, smem,
   "kernel", [&] { kernel(args); }) (tests/emu/cu2cpp.lua rewrites it). */
template <typename F>
void emu_launch(dim3 grid, dim3 block, size_t smem, const char *name, F &&body) {
    emu_trace.add(name);
    if (block.x < 1 || block.x > 1024 || block.y != 1 || block.z != 1 || grid.x < 1 ||
        grid.y < 1 || grid.y > 65535 || grid.z < 1 || grid.z > 65535) {
        emu_last_error = cudaErrorInvalidConfiguration;
        return;
    }
    if (smem > (size_t)emu_smem_optin() || (smem > 49152 && emu_smem_optin() <= 49152)) {
        emu_last_error = cudaErrorInvalidValue;
        return;
    }
    static bool reverse = getenv("EMU_ORDER") && strcmp(getenv("EMU_ORDER"), "reverse") == 0;
    if (emu_threads.size() < block.x) {
        size_t old = emu_threads.size();
        emu_threads.resize(block.x);
        for (size_t i = old; i < block.x; i++)
            emu_threads[i].stack = (char *)malloc(EMU_STACK);
    }
    std::function<void()> fn = body;
    emu_body = &fn;
    emu_dyn_smem = realloc(emu_dyn_smem, smem ? smem : 16);
    gridDim = grid;
    blockDim = block;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = dim3(x, y, z);
                emu_run_block((int)block.x, reverse, smem);
            }
    emu_current = -1;
}

#endif
