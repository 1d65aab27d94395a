/*
 * parallel.h: splitting a loop over the CPU threads.
 *
 * parallel_for runs fn over [0, n) in chunks on parallel_threads() threads
 * (the caller is one of them). It is the process's one pool: OpenBLAS runs
 * single-threaded inside it (blas.c), since two pools on two cores fight.
 */
#ifndef AT_CPU_PARALLEL_H
#define AT_CPU_PARALLEL_H

#include <stdint.h>

/* fn(ctx, begin, end) returns a status; the first failure is returned
   (with its message) and the remaining chunks are skipped. */
typedef int (*ParallelFn)(void *ctx, int64_t begin, int64_t end);

int parallel_for(int64_t n, int64_t grain, ParallelFn fn, void *ctx);

/* The thread count jobs use (the caller included), 1..64. */
void parallel_set_threads(int n);
int parallel_threads(void);

#endif
