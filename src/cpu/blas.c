/*
 * blas.c: batched matrix products through cblas_sgemm.
 *
 * The ops layer hands us out (B..., M, N) contiguous and a (B..., M, K),
 * b (B..., K, N) whose batch dims are expanded to out's and whose matrices
 * each have a unit stride along rows or columns. A matrix with unit column
 * stride goes to BLAS as is, one with unit row stride as its transpose:
 * transposed views cost no copy.
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

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"

// About 2^32 multiply-adds (~40 ms on one core) between Ctrl-C checks:
// smaller blocks make BLAS re-pack the right operand too often.
#define BLOCK_FMAS ((int64_t)1 << 32)

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

/* One product out (M, N) = a (M, K) x b (K, N), in row blocks. */
static int gemm(float *out, Mat a, Mat b, int64_t M, int64_t N, int64_t K, int64_t a_rs) {
    int64_t block = M;
    if (M * N * K > BLOCK_FMAS) {
        int64_t per_row = N * K > 0 ? N * K : 1;
        block = BLOCK_FMAS / per_row;
        block = block < 256 ? 256 : block;
    }
    for (int64_t r = 0; r < M; r += block) {
        int64_t m = M - r < block ? M - r : block;
        // Row r of a: down r rows, which is r * a_rs for either layout.
        cblas_sgemm(CblasRowMajor, a.trans, b.trans, (blasint)m, (blasint)N, (blasint)K, 1.0f,
                    a.p + r * a_rs, (blasint)a.ld, b.p, (blasint)b.ld, 0.0f, out + r * N,
                    (blasint)(N > 0 ? N : 1));
        if (r + m < M && at_check_interrupt("matmul"))
            return AT_EINTR;
    }
    return AT_OK;
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

int cpu_matmul(Tensor *out, const Tensor *a, const Tensor *b) {
    int nd = out->ndim, nb = nd - 2;
    int64_t M = out->shape[nd - 2], N = out->shape[nd - 1], K = a->shape[nd - 1];
    if (K == 0)
        return cpu_fill(out, 0.0f);
    if (M == 0 || N == 0)
        return AT_OK;
    int64_t ars = a->strides[nd - 2], acs = a->strides[nd - 1];
    int64_t brs = b->strides[nd - 2], bcs = b->strides[nd - 1];
    int64_t batches = 1;
    for (int d = 0; d < nb; d++)
        batches *= out->shape[d];
    if (batches > 1 && foldable(a, b, nb)) {
        Mat am = {tensor_data(a), CblasNoTrans, ars};
        Mat bm = as_blas(tensor_data(b), K, N, brs, bcs);
        return gemm(tensor_data(out), am, bm, M * batches, N, K, ars);
    }
    for (int64_t bi = 0; bi < batches; bi++) {
        Mat am = as_blas(tensor_data(a) + batch_offset(a, nb, bi), M, K, ars, acs);
        Mat bm = as_blas(tensor_data(b) + batch_offset(b, nb, bi), K, N, brs, bcs);
        int st = gemm(tensor_data(out) + bi * M * N, am, bm, M, N, K, ars);
        if (st)
            return st;
        if (at_check_interrupt("matmul"))
            return AT_EINTR;
    }
    return AT_OK;
}

int cpu_set_threads(int n) {
    openblas_set_num_threads(n);
    return AT_OK;
}

int cpu_get_threads(void) { return openblas_get_num_threads(); }
