/*
 * shapes.h: the matmul shapes of `make bench`. The list lives in
 * bench/shapes.def, read here for the raw BLAS baseline and parsed by
 * bench/matmul.lua, so both sides always time the same products.
 */
#ifndef BENCH_SHAPES_H
#define BENCH_SHAPES_H

#define BENCH_MAX_RUNS 15

typedef struct BenchShape {
    const char *name;
    int m, k, n;
    int trans_b; // b given as [n,k] and used transposed (q @ k^T)
} BenchShape;

static const BenchShape bench_shapes[] = {
#define SHAPE(name, m, k, n, t) {name, m, k, n, t},
#include "shapes.def"
#undef SHAPE
    {0, 0, 0, 0, 0},
};

/* Fewer runs for big products so the whole bench stays around a minute. */
static inline int bench_runs(const BenchShape *s) {
    double flops = 2.0 * s->m * s->n * s->k;
    return flops > 4e9 ? 3 : flops > 2e8 ? 7 : BENCH_MAX_RUNS;
}

#endif
