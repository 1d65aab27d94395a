/*
 * parallel.c: parallel_for on one pool of threads kept for the process.
 *
 * attnlab runs thousands of small ops per training step, so a job must
 * start in microseconds: workers are started once and, between jobs, spin
 * a little before they sleep on a condition variable. This pool is the
 * only one: OpenBLAS runs single-threaded inside it (see blas.c), since two
 * pools on two cores fight over them.
 *
 * Work is handed out in chunks of `grain` items from a shared counter, so
 * uneven items (causal tiles) balance. The error message of a failing chunk
 * is copied to the calling thread, since messages are thread-local. A
 * parallel_for called from inside a job runs serially in its caller.
 */
#include <config.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "parallel.h"

#define MAX_THREADS 64
// Rounds a worker polls for the next job before it sleeps (a pause is
// 10-140 cycles): longer than the gap between the ops of a training step.
#define SPIN_ROUNDS 4000

typedef struct Job {
    ParallelFn fn;
    void *ctx;
    int64_t n, grain;
    atomic_llong next;
    atomic_int status;
    char message[512];
} Job;

static struct Pool {
    pthread_mutex_t lock;
    pthread_cond_t wake, idle;
    Job *job;              // the current job, NULL between jobs
    atomic_uint generation; // bumped for each job, so a worker takes it once
    int helpers;           // workers the current job asks for
    int busy;              // workers still inside the current job
    int started;           // workers alive
    int stopping;
    pthread_t tids[MAX_THREADS];
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER,
            .wake = PTHREAD_COND_INITIALIZER,
            .idle = PTHREAD_COND_INITIALIZER};

static int threads_wanted = 1;
static _Thread_local int inside_job;

static void run_chunks(Job *job) {
    for (;;) {
        if (atomic_load(&job->status))
            return;
        int64_t begin = atomic_fetch_add(&job->next, job->grain);
        if (begin >= job->n)
            return;
        int64_t end = begin + job->grain < job->n ? begin + job->grain : job->n;
        int st = job->fn(job->ctx, begin, end);
        if (st) {
            int ok = AT_OK;
            pthread_mutex_lock(&pool.lock);
            if (atomic_compare_exchange_strong(&job->status, &ok, st))
                strncpy(job->message, at_errmsg(), sizeof job->message - 1);
            pthread_mutex_unlock(&pool.lock);
            return;
        }
    }
}

/* Wait for a generation after `seen`; returns it, or 0 to stop. */
static unsigned next_generation(unsigned seen) {
    for (int i = 0; i < SPIN_ROUNDS; i++) {
        if (atomic_load_explicit(&pool.generation, memory_order_acquire) != seen)
            return atomic_load(&pool.generation);
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
    pthread_mutex_lock(&pool.lock);
    while (atomic_load(&pool.generation) == seen && !pool.stopping)
        pthread_cond_wait(&pool.wake, &pool.lock);
    unsigned g = pool.stopping ? 0 : atomic_load(&pool.generation);
    pthread_mutex_unlock(&pool.lock);
    return g;
}

static void *worker(void *arg) {
    int index = (int)(intptr_t)arg;
    unsigned seen = 0;
    inside_job = 1;
    while ((seen = next_generation(seen)) != 0) {
        pthread_mutex_lock(&pool.lock);
        Job *job = index < pool.helpers ? pool.job : NULL;
        if (job)
            pool.busy++;
        pthread_mutex_unlock(&pool.lock);
        if (!job)
            continue;
        run_chunks(job);
        pthread_mutex_lock(&pool.lock);
        if (--pool.busy == 0)
            pthread_cond_signal(&pool.idle);
        pthread_mutex_unlock(&pool.lock);
    }
    return NULL;
}

static void stop_pool(void) {
    pthread_mutex_lock(&pool.lock);
    pool.stopping = 1;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.started; i++)
        pthread_join(pool.tids[i], NULL);
    pool.started = 0;
}

/* Start workers up to n; fewer is slower, not wrong. Caller holds no lock. */
static int grow_pool(int n) {
    static int registered;
    if (!registered)
        registered = atexit(stop_pool) == 0;
    while (pool.started < n &&
           pthread_create(&pool.tids[pool.started], NULL, worker,
                          (void *)(intptr_t)pool.started) == 0)
        pool.started++;
    return pool.started;
}

void parallel_set_threads(int n) {
    threads_wanted = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

int parallel_threads(void) { return threads_wanted; }

int parallel_for(int64_t n, int64_t grain, ParallelFn fn, void *ctx) {
    if (n <= 0)
        return AT_OK;
    grain = grain > 0 ? grain : 1;
    int64_t chunks = (n + grain - 1) / grain;
    int helpers = threads_wanted - 1;
    helpers = chunks - 1 < helpers ? (int)(chunks - 1) : helpers;
    if (inside_job || helpers <= 0)
        return fn(ctx, 0, n);
    helpers = grow_pool(helpers) < helpers ? pool.started : helpers;
    Job job = {.fn = fn, .ctx = ctx, .n = n, .grain = grain};
    atomic_init(&job.next, 0);
    atomic_init(&job.status, AT_OK);
    pthread_mutex_lock(&pool.lock);
    pool.job = &job;
    pool.helpers = helpers;
    unsigned g = atomic_load(&pool.generation) + 1;
    atomic_store_explicit(&pool.generation, g ? g : 1, memory_order_release); // 0 means stop
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    inside_job = 1;
    run_chunks(&job);
    inside_job = 0;

    pthread_mutex_lock(&pool.lock);
    pool.job = NULL; // a worker that wakes late finds nothing to join
    while (pool.busy > 0)
        pthread_cond_wait(&pool.idle, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    int st = atomic_load(&job.status);
    if (st)
        at_error(st, "%s", job.message);
    return st;
}
