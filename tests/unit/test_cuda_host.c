/*
 * test_cuda_host.c: the parts of the CUDA backend that run without a GPU.
 *
 * The kernels' Philox block (src/cuda/rng.cu, compiled for host and device
 * from one source) against core/rng.c for keys and counters that use every
 * word, including counters past 2^32; and the registry's answer on a
 * machine with no usable device: a NULL backend with a message, never a
 * crash. Built only with CUDA; the kernels themselves are checked against
 * the CPU by tests/lua/cuda_parity.lua where a GPU is present.
 */
#include <config.h>

#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "cuda/cuda.h"
#include "tap.h"

static void philox_matches(void) {
    const uint64_t keys[] = {0, 1, 42, 0xffffffffull, 0x123456789abcdefull, ~0ull};
    const uint64_t counters[] = {0, 1, 7, 0xffffffffull, 0x100000000ull, 0xdeadbeefcafeull, ~0ull};
    int same = 1, tried = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        for (size_t j = 0; j < sizeof counters / sizeof counters[0]; j++) {
            uint32_t want[4], got[4];
            rng_philox(want, keys[i], counters[j]);
            cuda_philox_host(got, keys[i], counters[j]);
            same = same && memcmp(want, got, sizeof want) == 0;
            tried++;
        }
    ok(same, "the kernels' philox equals core/rng.c on %d (key, counter) pairs", tried);
    uint32_t a[4], b[4];
    cuda_philox_host(a, 5, 0x100000000ull);
    cuda_philox_host(b, 5, 0);
    ok(memcmp(a, b, sizeof a) != 0, "the counter's high word changes the block");
}

static void no_device(void) {
    const Backend *be = cuda_backend();
    if (be) {
        ok(strcmp(be->name, "cuda") == 0, "a GPU is present: the backend is cuda");
        int full = be->fill && be->copy && be->rand_uniform && be->rand_normal && be->binary &&
                   be->unary && be->reduce && be->softmax && be->matmul && be->masked_fill &&
                   be->embedding && be->embedding_backward && be->layer_norm &&
                   be->layer_norm_backward && be->cross_entropy && be->cross_entropy_backward &&
                   be->attention && be->attention_backward;
        ok(full, "and every kernel entry of its table is filled");
        return;
    }
    ok(strstr(at_errmsg(), "cuda") != NULL, "no GPU: cuda_backend is NULL with a message (%s)",
       at_errmsg());
    ok(cuda_backend() == NULL, "and asking again gives the same answer");
}

int main(void) {
    plan(4);
    philox_matches();
    no_device();
    return tap_done();
}
