/*
 * raw_sgemm.c: the baseline for `make bench`: cblas_sgemm alone, with
 * no attnlab code in the way, on the shapes bench/matmul.lua times.
 *
 * Prints one line per shape and thread count:
 *   NAME M K N THREADS GFLOPS
 * (median of several runs, after a warm-up run).
 */
#include <config.h>

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shapes.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double time_gemm(const BenchShape *s, const float *a, const float *b, float *c) {
    double t[BENCH_MAX_RUNS];
    int runs = bench_runs(s);
    for (int r = -1; r < runs; r++) { // r = -1 warms up
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, s->trans_b ? CblasTrans : CblasNoTrans, s->m,
                    s->n, s->k, 1.0f, a, s->k, b, s->trans_b ? s->k : s->n, 0.0f, c, s->n);
        if (r >= 0)
            t[r] = now() - t0;
    }
    qsort(t, (size_t)runs, sizeof t[0], cmp);
    return t[runs / 2];
}

int main(void) {
    for (int threads = 1; threads <= 2; threads++) {
        openblas_set_num_threads(threads);
        for (const BenchShape *s = bench_shapes; s->name; s++) {
            size_t na = (size_t)s->m * s->k, nb = (size_t)s->k * s->n, nc = (size_t)s->m * s->n;
            float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4);
            if (!a || !b || !c) {
                fprintf(stderr, "raw_sgemm: out of memory for %s\n", s->name);
                return 1;
            }
            for (size_t i = 0; i < na; i++)
                a[i] = (float)((i * 7919) % 1000) * 1e-3f;
            for (size_t i = 0; i < nb; i++)
                b[i] = (float)((i * 104729) % 1000) * 1e-3f;
            double sec = time_gemm(s, a, b, c);
            printf("%s %d %d %d %d %.2f\n", s->name, s->m, s->k, s->n, threads,
                   2.0 * s->m * s->n * s->k / sec * 1e-9);
            free(a), free(b), free(c);
        }
    }
    return 0;
}
