/*
 * parallel.c: parallel_for on short-lived pthreads.
 *
 * Threads are started per call: attention and other users run for
 * milliseconds, so the ~20 us start-up is noise, and there is no pool to
 * keep alive or to shut down. Work is handed out in chunks of `grain`
 * items from a shared counter, so uneven items (causal tiles) balance.
 * The error message of a failing chunk is copied to the calling thread,
 * since messages are thread-local.
 */
#include <config.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "../core/error.h"
#include "cpu.h"
#include "parallel.h"

#define MAX_THREADS 64

typedef struct Job {
    ParallelFn fn;
    void *ctx;
    int64_t n, grain;
    atomic_llong next;
    atomic_int status;
    pthread_mutex_t lock;
    char message[512];
} Job;

static void *worker(void *arg) {
    Job *job = arg;
    for (;;) {
        if (atomic_load(&job->status))
            break;
        int64_t begin = atomic_fetch_add(&job->next, job->grain);
        if (begin >= job->n)
            break;
        int64_t end = begin + job->grain < job->n ? begin + job->grain : job->n;
        int st = job->fn(job->ctx, begin, end);
        if (st) {
            pthread_mutex_lock(&job->lock);
            if (!atomic_load(&job->status)) {
                strncpy(job->message, at_errmsg(), sizeof job->message - 1);
                atomic_store(&job->status, st);
            }
            pthread_mutex_unlock(&job->lock);
            break;
        }
    }
    return NULL;
}

int parallel_for(int64_t n, int64_t grain, ParallelFn fn, void *ctx) {
    if (n <= 0)
        return AT_OK;
    grain = grain > 0 ? grain : 1;
    int threads = cpu_get_threads();
    int64_t chunks = (n + grain - 1) / grain;
    threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    threads = chunks < threads ? (int)chunks : threads;
    if (threads == 1)
        return fn(ctx, 0, n);
    Job job = {.fn = fn, .ctx = ctx, .n = n, .grain = grain};
    atomic_init(&job.next, 0);
    atomic_init(&job.status, AT_OK);
    pthread_mutex_init(&job.lock, NULL);
    pthread_t tids[MAX_THREADS];
    int started = 0;
    for (int i = 1; i < threads; i++)
        if (pthread_create(&tids[started], NULL, worker, &job) == 0)
            started++; // fewer threads is slower, not wrong
    worker(&job);
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    pthread_mutex_destroy(&job.lock);
    int st = atomic_load(&job.status);
    if (st)
        at_error(st, "%s", job.message);
    return st;
}
