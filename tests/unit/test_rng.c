/*
 * test_rng.c: Philox4x32-10 against the published known-answer vectors,
 * and the documented layout of uniform and normal draws.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>

#include "core/rng.h"
#include "tap.h"

static int words_equal(const uint32_t *a, const uint32_t *b) {
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static void known_answers(void) {
    // Random123's kat_vectors for philox4x32_10.
    const uint32_t zero_ctr[4] = {0, 0, 0, 0}, zero_key[2] = {0, 0};
    const uint32_t zero_out[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    const uint32_t ones_ctr[4] = {~0u, ~0u, ~0u, ~0u}, ones_key[2] = {~0u, ~0u};
    const uint32_t ones_out[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
    const uint32_t pi_ctr[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344};
    const uint32_t pi_key[2] = {0xa4093822, 0x299f31d0};
    const uint32_t pi_out[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    uint32_t out[4];
    rng_philox4(out, zero_ctr, zero_key);
    ok(words_equal(out, zero_out), "philox4x32-10 zero vector");
    rng_philox4(out, ones_ctr, ones_key);
    ok(words_equal(out, ones_out), "philox4x32-10 all-ones vector");
    rng_philox4(out, pi_ctr, pi_key);
    ok(words_equal(out, pi_out), "philox4x32-10 digits-of-pi vector");
}

static void uniform_layout(void) {
    float u[10];
    const uint64_t key = 42, start = 7;
    rng_fill_uniform(u, 10, key, start);
    int good = 1;
    for (int i = 0; i < 10; i++) {
        uint32_t w[4];
        rng_philox(w, key, start + (uint64_t)i / 4);
        good &= u[i] == (float)(w[i % 4] >> 8) / 16777216.0f;
        good &= u[i] >= 0.0f && u[i] < 1.0f;
    }
    ok(good, "uniform element i is word i%%4 of block start+i/4, scaled to [0,1)");
    ok(rng_blocks(10) == 3 && rng_blocks(12) == 3 && rng_blocks(13) == 4 && rng_blocks(0) == 0,
       "a draw of n takes ceil(n/4) blocks");
}

static void normal_layout(void) {
    float z[3];
    rng_fill_normal(z, 3, 9, 0);
    uint32_t w[4];
    rng_philox(w, 9, 0);
    double u1 = (double)(w[0] >> 8) / 16777216.0, u2 = (double)(w[1] >> 8) / 16777216.0;
    double r = sqrt(-2.0 * log(1.0 - u1));
    near((double)z[0], r * cos(2 * M_PI * u2), 1e-6, "normal z0 is Box-Muller of words 0,1");
    near((double)z[1], r * sin(2 * M_PI * u2), 1e-6, "normal z1 is its sine partner");
    u1 = (double)(w[2] >> 8) / 16777216.0, u2 = (double)(w[3] >> 8) / 16777216.0;
    near((double)z[2], sqrt(-2.0 * log(1.0 - u1)) * cos(2 * M_PI * u2), 1e-6,
         "normal z2 comes from words 2,3");
}

static void normal_moments(void) {
    const int n = 1 << 20;
    float *z = malloc(n * sizeof *z);
    rng_fill_normal(z, n, 1234, 0);
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) {
        s += (double)z[i];
        s2 += (double)z[i] * (double)z[i];
    }
    double mean = s / n, var = s2 / n - mean * mean;
    // Standard errors: mean 1/sqrt(n) ~ 0.001, variance sqrt(2/n) ~ 0.0014;
    // 5 sigma bounds make a false failure practically impossible.
    ok(fabs(mean) < 0.005, "normal mean %.5f within 5 standard errors of 0", mean);
    ok(fabs(var - 1.0) < 0.007, "normal variance %.5f within 5 standard errors of 1", var);
    free(z);
}

int main(void) {
    plan(10);
    known_answers();
    uniform_layout();
    normal_layout();
    normal_moments();
    return tap_done();
}
