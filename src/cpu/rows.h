/*
 * rows.h: passes over one contiguous row of n floats, eight lanes at a time
 * (an AVX2 clone where the CPU has it). Sums are kept in eight float lanes:
 * eight partial sums of a row of a few thousand keep the error near 1e-7
 * relative.
 */
#ifndef AT_CPU_ROWS_H
#define AT_CPU_ROWS_H

#include <stdint.h>

/* sum x */
float row_sum(const float *x, int64_t n);
/* sum (x - m)^2: a second pass, so no cancellation as in E[x^2] - m^2 */
float row_sq_dev(const float *x, int64_t n, float m);
/* the largest of m and x[0..n) (NaNs are skipped: callers that care test) */
float row_max(const float *x, int64_t n, float m);
/* sum exp(x - m), writing each exp to out unless out is NULL; out may be x.
   x - m below -87 (or -inf) gives 0. */
float row_exp_sum(float *out, const float *x, int64_t n, float m);
/* x *= c */
void row_scale(float *x, int64_t n, float c);

#endif
