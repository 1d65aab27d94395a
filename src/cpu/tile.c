/*
 * tile.c: the register-blocked tile products of tile.h: blocks of 4 rows by
 * 16 columns, eight sums of eight lanes (an AVX2 clone where the CPU has
 * it). An AVX-512 form (4 x 32, sixteen lanes) was measured on the
 * development machine at 5% faster end to end, its cores having one 512-bit
 * FMA unit; not worth a second code path.
 */
#include <config.h>

#include <string.h>

#include "tile.h"
#include "vmath.h"

#define BLOCK_COLS 16 // columns per block: two v8

/* The column count nb is rounded up to whole blocks: bt's zero columns
   give zero sums there, which the caller overwrites or masks. */
HOT void tile_dot(float *restrict c, const float *restrict a, int64_t lda,
                  const float *restrict bt, int64_t rows, int64_t nb, int64_t D, float scale) {
    nb = (nb + BLOCK_COLS - 1) / BLOCK_COLS * BLOCK_COLS;
    for (int64_t r = 0; r < rows; r += TILE_ROWS) {
        const float *a0 = a + r * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        for (int64_t j = 0; j < nb; j += BLOCK_COLS) {
            v8 c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0},
               c31 = {0}, x0, x1;
            for (int64_t d = 0; d < D; d++) {
                const float *row = bt + d * TILE_COLS + j;
                LOAD8(x0, row);
                LOAD8(x1, row + 8);
                c00 += a0[d] * x0, c01 += a0[d] * x1;
                c10 += a1[d] * x0, c11 += a1[d] * x1;
                c20 += a2[d] * x0, c21 += a2[d] * x1;
                c30 += a3[d] * x0, c31 += a3[d] * x1;
            }
            float *o = c + r * TILE_COLS + j;
            c00 *= scale, c01 *= scale, c10 *= scale, c11 *= scale;
            c20 *= scale, c21 *= scale, c30 *= scale, c31 *= scale;
            STORE8(o, c00), STORE8(o + 8, c01);
            STORE8(o + TILE_COLS, c10), STORE8(o + TILE_COLS + 8, c11);
            STORE8(o + 2 * TILE_COLS, c20), STORE8(o + 2 * TILE_COLS + 8, c21);
            STORE8(o + 3 * TILE_COLS, c30), STORE8(o + 3 * TILE_COLS + 8, c31);
        }
    }
}

/* Columns in blocks of 16, the last few one at a time. */
HOT void tile_axpy(float *restrict c, int64_t ldc, const float *restrict w, int64_t wrs,
                   int64_t wcs, const float *restrict x, int64_t ldx, int64_t rows,
                   int64_t n, int64_t width) {
    for (int64_t r = 0; r < rows; r += TILE_ROWS) {
        const float *w0 = w + r * wrs, *w1 = w0 + wrs, *w2 = w1 + wrs, *w3 = w2 + wrs;
        float *o0 = c + r * ldc, *o1 = o0 + ldc, *o2 = o1 + ldc, *o3 = o2 + ldc;
        int64_t e = 0;
        for (; e + BLOCK_COLS <= width; e += BLOCK_COLS) {
            v8 c00, c01, c10, c11, c20, c21, c30, c31, x0, x1;
            LOAD8(c00, o0 + e), LOAD8(c01, o0 + e + 8);
            LOAD8(c10, o1 + e), LOAD8(c11, o1 + e + 8);
            LOAD8(c20, o2 + e), LOAD8(c21, o2 + e + 8);
            LOAD8(c30, o3 + e), LOAD8(c31, o3 + e + 8);
            for (int64_t j = 0; j < n; j++) {
                const float *xj = x + j * ldx + e;
                float p0 = w0[j * wcs], p1 = w1[j * wcs], p2 = w2[j * wcs], p3 = w3[j * wcs];
                LOAD8(x0, xj);
                LOAD8(x1, xj + 8);
                c00 += p0 * x0, c01 += p0 * x1;
                c10 += p1 * x0, c11 += p1 * x1;
                c20 += p2 * x0, c21 += p2 * x1;
                c30 += p3 * x0, c31 += p3 * x1;
            }
            STORE8(o0 + e, c00), STORE8(o0 + e + 8, c01);
            STORE8(o1 + e, c10), STORE8(o1 + e + 8, c11);
            STORE8(o2 + e, c20), STORE8(o2 + e + 8, c21);
            STORE8(o3 + e, c30), STORE8(o3 + e + 8, c31);
        }
        for (; e < width; e++)
            for (int64_t j = 0; j < n; j++) {
                float xe = x[j * ldx + e];
                o0[e] += w0[j * wcs] * xe, o1[e] += w1[j * wcs] * xe;
                o2[e] += w2[j * wcs] * xe, o3[e] += w3[j * wcs] * xe;
            }
    }
}
