/*
 * tile.h: the two register-blocked matrix products the fused attention is
 * made of (src/cpu/attention.c), on tiles of at most TILE_COLS columns.
 *
 * Blocks are TILE_ROWS rows by 16 columns of eight-lane sums: eight sums in
 * registers, enough independent FMAs to keep both FMA units busy.
 * Callers pad rows to a multiple of TILE_ROWS (padding rows must weigh
 * nothing) and packed tiles to TILE_COLS columns (zeros past the last).
 */
#ifndef AT_CPU_TILE_H
#define AT_CPU_TILE_H

#include <stdint.h>

#define TILE_COLS 64
#define TILE_ROWS 4

/* c[r][j] = scale * sum_d a[r][d] bt[d][j] for r < rows and j < nb rounded
   up to 16 (nb <= TILE_COLS); a has row stride lda, bt (D rows)
   and c have row stride TILE_COLS. */
void tile_dot(float *c, const float *a, int64_t lda, const float *bt, int64_t rows, int64_t nb,
              int64_t D, float scale);

/* c[r][e] += sum_{j<n} w(r, j) x[j][e] for r < rows and e < width, where
   w(r, j) = w[r * wrs + j * wcs] (a tile of weights or its transpose) and x,
   c have row strides ldx, ldc. */
void tile_axpy(float *c, int64_t ldc, const float *w, int64_t wrs, int64_t wcs, const float *x,
               int64_t ldx, int64_t rows, int64_t n, int64_t width);

#endif
