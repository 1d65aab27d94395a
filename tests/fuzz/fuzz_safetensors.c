/*
 * fuzz_safetensors.c: libFuzzer target for the safetensors reader (make fuzz).
 *
 * Each input is tried twice: as a whole file image, and as a header text
 * (up to the first NUL byte) followed by data (the rest), with a correct
 * length prefix built here, so the fuzzer reaches the header's semantics
 * without having to guess the 8-byte length. Whatever opens must keep the
 * promises of safetensors.h: every tensor's bytes inside the image and of
 * the size its shape and dtype say; then every tensor is converted, which
 * makes the sanitizers check each read.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond) {
    if (!cond)
        abort(); // an invariant broke: libFuzzer reports the input
}

static void try_image(const uint8_t *b, size_t size) {
    StFile *f = NULL;
    if (safetensors_parse(&f, b, size, "fuzz")) {
        check(f == NULL && !strncmp(at_errmsg(), "fuzz: ", 6));
        return;
    }
    for (size_t i = 0; i < safetensors_count(f); i++) {
        const StTensor *t = safetensors_tensor(f, i);
        size_t bytes = (size_t)t->numel * safetensors_dtype_size(t->dtype);
        check(t->begin <= t->end && t->end - t->begin == bytes);
        check(t->data >= b + 8 && t->data + bytes <= b + size);
        check(safetensors_find(f, t->name) != NULL);
        float *out = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *out);
        check(out != NULL);
        safetensors_read_f32(out, f, t);
        free(out);
    }
    for (size_t i = 0; i < safetensors_meta_count(f); i++)
        check(strlen(safetensors_meta(f, i)->key) < size);
    safetensors_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // An exact-size copy, so reads past the end hit ASan's redzone.
    uint8_t *raw = malloc(size ? size : 1);
    memcpy(raw, data, size);
    try_image(raw, size);
    free(raw);

    const uint8_t *nul = memchr(data, 0, size);
    size_t hlen = nul ? (size_t)(nul - data) : size;
    size_t dlen = nul ? size - hlen - 1 : 0;
    uint8_t *img = malloc(8 + hlen + dlen);
    for (int i = 0; i < 8; i++)
        img[i] = (uint8_t)((uint64_t)hlen >> 8 * i);
    memcpy(img + 8, data, hlen);
    if (dlen)
        memcpy(img + 8 + hlen, nul + 1, dlen);
    try_image(img, 8 + hlen + dlen);
    free(img);
    return 0;
}
