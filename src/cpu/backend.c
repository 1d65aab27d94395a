/*
 * backend.c: the CPU backend's table and its memory entries.
 *
 * Host memory is the device memory here, so upload and download are
 * copies. Allocation is 64-byte aligned for the vector loops.
 */
#include <config.h>

#include <string.h>

#include "../core/error.h"
#include "cpu.h"

static int cpu_alloc(void **out, size_t nbytes) {
    *out = host_alloc(nbytes);
    return *out ? AT_OK : AT_ENOMEM;
}

static int cpu_move(void *dst, const void *src, size_t nbytes) {
    memcpy(dst, src, nbytes);
    return AT_OK;
}

static const Backend cpu = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .release = host_free,
    .upload = cpu_move,
    .download = cpu_move,
    .fill = cpu_fill,
    .copy = cpu_copy,
    .rand_uniform = cpu_rand_uniform,
    .rand_normal = cpu_rand_normal,
    .binary = cpu_binary,
    .unary = cpu_unary,
    .reduce = cpu_reduce,
    .softmax = cpu_softmax,
    .matmul = cpu_matmul,
    .matmul_acc = cpu_matmul_acc,
    .masked_fill = cpu_masked_fill,
    .embedding = cpu_embedding,
    .embedding_backward = cpu_embedding_backward,
    .layer_norm = cpu_layer_norm,
    .layer_norm_backward = cpu_layer_norm_backward,
    .cross_entropy = cpu_cross_entropy,
    .cross_entropy_backward = cpu_cross_entropy_backward,
    .attention = cpu_attention,
    .attention_backward = cpu_attention_backward,
    .adamw = cpu_adamw,
    .set_threads = cpu_set_threads,
    .get_threads = cpu_get_threads,
};

const Backend *cpu_backend(void) {
    cpu_threads_init();
    return &cpu;
}
