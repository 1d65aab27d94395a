/*
 * test_parallel.c: the thread pool. Every index is visited exactly once
 * over many job sizes and grains (counted per index, so a lost or doubled
 * chunk shows), a failing chunk's status and message reach the caller and
 * stop the job, a nested parallel_for runs in its caller, and the pool
 * keeps working after a failure and across thread-count changes.
 */
#include <config.h>

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "cpu/parallel.h"
#include "tap.h"

#define N_MAX 100000

static atomic_int visits[N_MAX];

static int count_task(void *ctx, int64_t begin, int64_t end) {
    (void)ctx;
    for (int64_t i = begin; i < end; i++)
        atomic_fetch_add(&visits[i], 1);
    return AT_OK;
}

static int each_once(int64_t n, int64_t grain) {
    for (int64_t i = 0; i < n; i++)
        atomic_store(&visits[i], 0);
    if (parallel_for(n, grain, count_task, NULL))
        return 0;
    for (int64_t i = 0; i < n; i++)
        if (atomic_load(&visits[i]) != 1)
            return 0;
    return 1;
}

static int fail_task(void *ctx, int64_t begin, int64_t end) {
    int64_t bad = *(const int64_t *)ctx;
    for (int64_t i = begin; i < end; i++)
        if (i == bad)
            return at_error(AT_EINVAL, "chunk with index %lld failed", (long long)bad);
    return AT_OK;
}

static atomic_int nested_serial;

static int inner_task(void *ctx, int64_t begin, int64_t end) {
    (void)ctx;
    // Serial in the caller: one call over the whole range.
    if (begin == 0 && end == 8)
        atomic_fetch_add(&nested_serial, 1);
    return AT_OK;
}

static int outer_task(void *ctx, int64_t begin, int64_t end) {
    (void)ctx;
    for (int64_t i = begin; i < end; i++) {
        int st = parallel_for(8, 1, inner_task, NULL);
        if (st)
            return st;
    }
    return AT_OK;
}

int main(void) {
    plan(8);
    parallel_set_threads(4);
    ok(parallel_threads() == 4, "thread count set to 4");
    static const int64_t sizes[][2] = {{1, 1}, {2, 1}, {7, 3}, {1000, 1}, {1001, 64}, {N_MAX, 7}};
    int all = 1;
    for (int r = 0; r < 50; r++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
            all &= each_once(sizes[s][0], sizes[s][1]);
    ok(all, "every index visited exactly once (300 jobs of 1..100000 items, 4 threads)");

    int64_t bad = 4321;
    int st = parallel_for(10000, 10, fail_task, &bad);
    ok(st == AT_EINVAL && strstr(at_errmsg(), "index 4321") != NULL,
       "a failing chunk's status and message reach the caller (%s)", at_errmsg());
    ok(each_once(5000, 5), "the pool works after a failed job");

    atomic_store(&nested_serial, 0);
    ok(parallel_for(16, 1, outer_task, NULL) == AT_OK && atomic_load(&nested_serial) == 16,
       "a parallel_for inside a job runs serially in its caller");

    parallel_set_threads(1);
    ok(each_once(1000, 1), "one thread: the caller does all");
    parallel_set_threads(3);
    ok(each_once(N_MAX, 100), "three threads after one");
    parallel_set_threads(100);
    ok(parallel_threads() == 64, "a count above the pool's limit is capped at 64");
    return tap_done();
}
