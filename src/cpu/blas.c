/*
 * blas.c: batched matrix products through cblas_sgemm.
 *
 * The ops layer hands us out (B..., M, N) contiguous and a (B..., M, K),
 * b (B..., K, N) whose batch dims are expanded to out's and whose matrices
 * each have a unit stride along rows or columns. A matrix with unit column
 * stride goes to BLAS as is, one with unit row stride as its transpose:
 * transposed views cost no copy.
 *
 * Products are shared by attnlab's thread pool (blocks of rows or columns,
 * or whole batches), OpenBLAS running single-threaded inside it. Handing
 * the biggest products to OpenBLAS's own threads was tried: its threaded
 * driver shares packed panels (GPT-2's lm head at T = 256: 190 GFLOP/s
 * against 143), but its threads then spin for a while and halve the pool's
 * speed on whatever follows (attention-shaped products after it: 150 -> 78
 * GFLOP/s). One pool it is.
 *
 * Two things keep it fast and responsive:
 *   - when b is the same matrix for every batch (a weight) and a's batch
 *     and row dims form one evenly strided run, the whole batch is one sgemm
 *     of (B*M, K) x (K, N) instead of B small ones;
 *   - a product too big to finish in a blink is cut into row blocks, with a
 *     Ctrl-C check between blocks, so a 4096^3 product still stops at once.
 */
#include <config.h>

#include <cblas.h>
#include <pthread.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"
#include "parallel.h"

// About 2^32 multiply-adds (~40 ms on one core) between Ctrl-C checks:
// smaller blocks make BLAS re-pack the right operand too often.
#define BLOCK_FMAS ((int64_t)1 << 32)
// Below this many multiply-adds (~0.1 ms) a product is not worth waking
// the pool for.
#define SHARE_FMAS ((int64_t)1 << 18)

typedef struct Mat {
    const float *p;
    CBLAS_TRANSPOSE trans;
    int64_t ld;
} Mat;

/* How BLAS should read a rows x cols matrix with strides (rs, cs). */
static Mat as_blas(const float *p, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
    if (cs == 1 && (rs >= cols || rows == 1))
        return (Mat){p, CblasNoTrans, rs > cols ? rs : (cols > 0 ? cols : 1)};
    // rs == 1 by the ops layer's promise
    return (Mat){p, CblasTrans, cs > rows ? cs : (rows > 0 ? rows : 1)};
}

/* One product out (M, N) = a (M, K) x b (K, N), cut into blocks of rows
   or of columns (whichever dimension is longer), shared by the pool. */
typedef struct Gemm {
    float *out;
    Mat a, b;
    float beta; // 0: out = a b; 1: out += a b
    int64_t M, N, K, a_rs;
    int by_rows;   // blocks of rows of a/out, else of columns of b/out
    int64_t block; // rows or columns per block
} Gemm;

/* A product with one row (a decoding step: x W) or one column, as a
   matrix-vector product: sgemm would pack the whole matrix first, which
   costs as much as reading it for the product. */
static void gemv(const Gemm *g, const float *ap, const float *bp, float *op, int64_t m,
                 int64_t cols) {
    blasint K = (blasint)g->K;
    if (m == 1) { // op (1 x cols) = x (1 x K) b (K x cols): y = b^T x
        blasint incx = g->a.trans == CblasNoTrans ? 1 : (blasint)g->a.ld;
        if (g->b.trans == CblasNoTrans) // b is K x cols, rows of length ld
            cblas_sgemv(CblasRowMajor, CblasTrans, K, (blasint)cols, 1.0f, bp, (blasint)g->b.ld,
                        ap, incx, g->beta, op, 1);
        else // b is stored as its transpose, cols x K
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)cols, K, 1.0f, bp,
                        (blasint)g->b.ld, ap, incx, g->beta, op, 1);
        return;
    }
    // op (m x 1) = a (m x K) x (K x 1): rows of op are N apart
    blasint incx = g->b.trans == CblasNoTrans ? (blasint)g->b.ld : 1;
    blasint incy = (blasint)(g->N > 0 ? g->N : 1);
    if (g->a.trans == CblasNoTrans)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)m, K, 1.0f, ap, (blasint)g->a.ld, bp,
                    incx, g->beta, op, incy);
    else // a is stored as its transpose, K x m
        cblas_sgemv(CblasRowMajor, CblasTrans, K, (blasint)m, 1.0f, ap, (blasint)g->a.ld, bp,
                    incx, g->beta, op, incy);
}

static int gemm_block(void *ctx, int64_t begin, int64_t end) {
    const Gemm *g = ctx;
    for (int64_t i = begin; i < end; i++) {
        int64_t at = i * g->block, len = g->by_rows ? g->M : g->N;
        int64_t n = len - at < g->block ? len - at : g->block;
        const float *ap = g->a.p, *bp = g->b.p;
        float *op = g->out;
        int64_t m = g->M, cols = g->N;
        if (g->by_rows) {
            ap += at * g->a_rs; // row `at` of a: down `at` rows in either layout
            op += at * g->N;
            m = n;
        } else {
            bp += g->b.trans == CblasNoTrans ? at : at * g->b.ld; // column `at` of b
            op += at;
            cols = n;
        }
        if (m == 1 || cols == 1)
            gemv(g, ap, bp, op, m, cols);
        else
            cblas_sgemm(CblasRowMajor, g->a.trans, g->b.trans, (blasint)m, (blasint)cols,
                        (blasint)g->K, 1.0f, ap, (blasint)g->a.ld, bp, (blasint)g->b.ld, g->beta,
                        op, (blasint)(g->N > 0 ? g->N : 1));
        if (at_check_interrupt("matmul"))
            return AT_EINTR;
    }
    return AT_OK;
}

/* Blocks: at least one per thread when the product is worth sharing, and
   no more than BLOCK_FMAS each, so Ctrl-C is seen between blocks; blocks
   of rows stay multiples of 16 (the BLAS kernels' panel height). */
static int gemm(float *out, Mat a, Mat b, float beta, int64_t M, int64_t N, int64_t K,
                int64_t a_rs) {
    Gemm g = {out, a, b, beta, M, N, K, a_rs, M >= N, 0};
    int64_t len = g.by_rows ? M : N, fmas = M * N * K;
    int64_t blocks = fmas >= SHARE_FMAS ? parallel_threads() : 1;
    int64_t by_size = (fmas + BLOCK_FMAS - 1) / BLOCK_FMAS;
    blocks = by_size > blocks ? by_size : blocks;
    g.block = (len + blocks - 1) / blocks;
    g.block = (g.block + 15) / 16 * 16;
    return parallel_for((len + g.block - 1) / g.block, 1, gemm_block, &g);
}

/* Offset of batch index `bi` (row-major over the first nb dims of t). */
static int64_t batch_offset(const Tensor *t, int nb, int64_t bi) {
    int64_t off = 0;
    for (int d = nb - 1; d >= 0; d--) {
        off += (bi % t->shape[d]) * t->strides[d];
        bi /= t->shape[d];
    }
    return off;
}

/* True when b is one matrix for all batches and a's batch dims followed by
   its row dim form one run with a's row stride: then (B*M, K) is a matrix. */
static int foldable(const Tensor *a, const Tensor *b, int nb) {
    int64_t want = a->strides[nb]; // row stride, going outwards
    int64_t span = a->shape[nb];
    if (a->strides[nb + 1] != 1)
        return 0;
    for (int d = nb - 1; d >= 0; d--) {
        if (b->strides[d] != 0 && b->shape[d] != 1)
            return 0;
        if (a->shape[d] != 1 && a->strides[d] != want * span)
            return 0;
        span *= a->shape[d];
    }
    return 1;
}

/* Products of a batch whose b differs per batch (or a cannot fold): one
   sgemm each, batches shared by the pool. */
typedef struct Batch {
    const Tensor *out, *a, *b;
    float beta;
    int64_t M, N, K;
    int nb;
} Batch;

static int batch_task(void *ctx, int64_t begin, int64_t end) {
    const Batch *j = ctx;
    int nd = j->nb + 2;
    int64_t ars = j->a->strides[nd - 2], acs = j->a->strides[nd - 1];
    int64_t brs = j->b->strides[nd - 2], bcs = j->b->strides[nd - 1];
    for (int64_t bi = begin; bi < end; bi++) {
        Mat am = as_blas(tensor_data(j->a) + batch_offset(j->a, j->nb, bi), j->M, j->K, ars, acs);
        Mat bm = as_blas(tensor_data(j->b) + batch_offset(j->b, j->nb, bi), j->K, j->N, brs, bcs);
        int st = gemm(tensor_data(j->out) + bi * j->M * j->N, am, bm, j->beta, j->M, j->N, j->K,
                      ars);
        if (st)
            return st;
    }
    return AT_OK;
}

static int matmul_beta(Tensor *out, const Tensor *a, const Tensor *b, float beta) {
    int nd = out->ndim, nb = nd - 2;
    int64_t M = out->shape[nd - 2], N = out->shape[nd - 1], K = a->shape[nd - 1];
    if (K == 0)
        return beta != 0.0f ? AT_OK : cpu_fill(out, 0.0f);
    if (M == 0 || N == 0)
        return AT_OK;
    int64_t ars = a->strides[nd - 2];
    int64_t brs = b->strides[nd - 2], bcs = b->strides[nd - 1];
    int64_t batches = 1;
    for (int d = 0; d < nb; d++)
        batches *= out->shape[d];
    if (batches > 1 && foldable(a, b, nb)) {
        Mat am = {tensor_data(a), CblasNoTrans, ars};
        Mat bm = as_blas(tensor_data(b), K, N, brs, bcs);
        return gemm(tensor_data(out), am, bm, beta, M * batches, N, K, ars);
    }
    Batch job = {out, a, b, beta, M, N, K, nb};
    if (batches >= parallel_threads() && M * N * K * batches >= SHARE_FMAS)
        return parallel_for(batches, 1, batch_task, &job);
    return batch_task(&job, 0, batches); // each product shares itself out
}

int cpu_matmul(Tensor *out, const Tensor *a, const Tensor *b) {
    return matmul_beta(out, a, b, 0.0f);
}

int cpu_matmul_acc(Tensor *out, const Tensor *a, const Tensor *b) {
    return matmul_beta(out, a, b, 1.0f);
}

/* The threads are the pool's (parallel.c); OpenBLAS runs single-threaded
   inside it, taking over the count it would have used (its default is the
   core count, or OPENBLAS_NUM_THREADS). */
static pthread_once_t threads_once = PTHREAD_ONCE_INIT;

static void take_threads(void) {
    parallel_set_threads(openblas_get_num_threads());
    openblas_set_num_threads(1);
}

void cpu_threads_init(void) { pthread_once(&threads_once, take_threads); }

int cpu_set_threads(int n) {
    cpu_threads_init();
    parallel_set_threads(n);
    return AT_OK;
}

int cpu_get_threads(void) {
    cpu_threads_init();
    return parallel_threads();
}
