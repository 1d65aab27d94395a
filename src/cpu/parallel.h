/*
 * parallel.h: splitting a loop over the CPU threads.
 *
 * parallel_for runs fn over [0, n) in chunks on cpu_get_threads() threads
 * (the caller is one of them). Workers never call BLAS: OpenBLAS has its
 * own pool, and two pools on two cores fight (see README, Performance).
 */
#ifndef AT_CPU_PARALLEL_H
#define AT_CPU_PARALLEL_H

#include <stdint.h>

/* fn(ctx, begin, end) returns a status; the first failure is returned
   (with its message) and the remaining chunks are skipped. */
typedef int (*ParallelFn)(void *ctx, int64_t begin, int64_t end);

int parallel_for(int64_t n, int64_t grain, ParallelFn fn, void *ctx);

#endif
