/*
 * rng.h: the counter-based random stream behind attn.seed/rand/randn.
 *
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
 * 3", SC 2011). A block is a pure function of (key, counter), so any device
 * can compute element i of a draw without the ones before it: CPU and GPU
 * produce identical streams, and threads need no shared state.
 *
 * The stream, fixed for a seed s (documented in README and help(attn.seed)):
 *   key = (low 32 bits of s, high 32 bits of s); the counter starts at 0.
 *   A draw of n numbers uses counters c, c+1, ... and advances the counter by
 *   ceil(n / 4). Element i of the draw comes from word i % 4 of block
 *   c + i / 4, as u = (word >> 8) * 2^-24, a float in [0, 1).
 *   Normal numbers take the uniform pairs (u1, u2) of words (0,1) and (2,3) of
 *   a block: r = sqrt(-2 ln(1 - u1)), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2)
 *   (Box-Muller in double precision, rounded to float).
 */
#ifndef AT_RNG_H
#define AT_RNG_H

#include <stdint.h>

/* The full Philox4x32-10 map: 128-bit counter, 64-bit key. */
void rng_philox4(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);

/* The four 32-bit words of block `counter` under `key`. */
void rng_philox(uint32_t out[4], uint64_t key, uint64_t counter);

/* out[0..n-1] = uniform [0,1) numbers of the draw starting at block counter. */
void rng_fill_uniform(float *out, int64_t n, uint64_t key, uint64_t counter);

/* out[0..n-1] = standard normal numbers of the draw starting at counter. */
void rng_fill_normal(float *out, int64_t n, uint64_t key, uint64_t counter);

/* Blocks a draw of n numbers consumes. */
uint64_t rng_blocks(int64_t n);

#endif
