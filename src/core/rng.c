/*
 * rng.c: Philox4x32-10 and the uniform and normal draws built on it.
 *
 * The constants are those of the Random123 paper; the known-answer test in
 * tests/unit/test_rng.c checks the published vectors.
 */
#include <config.h>

#include <math.h>

#include "rng.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo) {
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

void rng_philox4(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]) {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo(PHILOX_M0, c0, &hi0, &lo0);
        mulhilo(PHILOX_M1, c2, &hi1, &lo1);
        uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

void rng_philox(uint32_t out[4], uint64_t key, uint64_t counter) {
    const uint32_t ctr[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), 0, 0};
    const uint32_t k[2] = {(uint32_t)key, (uint32_t)(key >> 32)};
    rng_philox4(out, ctr, k);
}

uint64_t rng_blocks(int64_t n) { return (uint64_t)(n + 3) / 4; }

static float to_unit(uint32_t w) { return (float)(w >> 8) * 0x1p-24f; }

void rng_fill_uniform(float *out, int64_t n, uint64_t key, uint64_t counter) {
    for (int64_t i = 0; i < n; i += 4) {
        uint32_t w[4];
        rng_philox(w, key, counter + (uint64_t)(i / 4));
        for (int j = 0; j < 4 && i + j < n; j++)
            out[i + j] = to_unit(w[j]);
    }
}

void rng_fill_normal(float *out, int64_t n, uint64_t key, uint64_t counter) {
    const double two_pi = 6.283185307179586;
    for (int64_t i = 0; i < n; i += 4) {
        uint32_t w[4];
        rng_philox(w, key, counter + (uint64_t)(i / 4));
        for (int j = 0; j < 4; j += 2) {
            // 1 - u lies in (0, 1], so the log is finite.
            double r = sqrt(-2.0 * log(1.0 - (double)to_unit(w[j])));
            double s, c;
            sincos(two_pi * (double)to_unit(w[j + 1]), &s, &c);
            if (i + j < n)
                out[i + j] = (float)(r * c);
            if (i + j + 1 < n)
                out[i + j + 1] = (float)(r * s);
        }
    }
}
