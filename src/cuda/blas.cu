/*
 * blas.cu: batched matrix products through cuBLAS.
 *
 * The contract is src/cpu/blas.c's: out (B..., M, N) contiguous, a
 * (B..., M, K) and b (B..., K, N) with batch dims expanded to out's and
 * matrices that have a unit stride along rows or columns (the ops layer
 * copies any other). cuBLAS is column-major, and a row-major matrix read
 * column-major is its transpose, so out = a b is computed as
 * out^T = b^T a^T: cuBLAS's A is our b and its B is our a. A matrix with a
 * unit column stride is then an untransposed column-major operand with
 * leading dim = its row stride; one with a unit row stride is passed as a
 * transpose: transposed views (k:t() in attention, x @ w:t()) cost no copy.
 *
 * Batches: adjacent batch dims that are evenly laid out in out, a and b are
 * merged; the innermost merged dim is one cublasSgemmStridedBatched call
 * (a broadcast operand has batch stride 0), outer ones a loop of calls. When
 * b is one matrix for every batch (a weight) and a's batch and row dims form
 * one evenly strided run, the whole product is a single sgemm of (B*M, K)
 * by (K, N), which is how Linear layers run.
 *
 * FP32 by default (CUBLAS_DEFAULT_MATH does not use TF32); ATTNLAB_TF32=1 in
 * the environment lets cuBLAS use TF32 tensor cores (10-bit mantissa
 * inputs, about 1e-3 relative error: faster, and no longer CPU-exact).
 */
#include <config.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>

#include "common.cuh"

static cublasHandle_t handle;
static int handle_ready = 0;

static int blas_error(cublasStatus_t st, const char *what) {
    if (st == CUBLAS_STATUS_ALLOC_FAILED)
        return at_error(AT_ENOMEM, "matmul: out of device memory in cuBLAS (%s)", what);
    return at_error(AT_EDEVICE, "matmul: cuBLAS %s failed (%s)", what, cublasGetStatusString(st));
}

/* The handle, made on first use (it costs a few ms and some memory). */
static int get_handle(cublasHandle_t *out) {
    if (!handle_ready) {
        cublasStatus_t st = cublasCreate(&handle);
        if (st != CUBLAS_STATUS_SUCCESS)
            return blas_error(st, "initialisation");
        const char *tf32 = getenv("ATTNLAB_TF32");
        cublasMath_t mode =
            tf32 && strcmp(tf32, "1") == 0 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH;
        if ((st = cublasSetMathMode(handle, mode)) != CUBLAS_STATUS_SUCCESS)
            return blas_error(st, "set math mode");
        handle_ready = 1;
    }
    *out = handle;
    return AT_OK;
}

/* One operand as cuBLAS reads it (see the header for the mapping). */
typedef struct Mat {
    const float *p;
    cublasOperation_t op;
    int64_t ld;
} Mat;

/* Our rows x cols matrix with strides (rs, cs), as the column-major
   operand holding its transpose. */
static Mat as_cublas(const float *p, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
    if (cs == 1 && (rs >= cols || rows == 1))
        return (Mat){p, CUBLAS_OP_N, rs > cols ? rs : (cols > 0 ? cols : 1)};
    // rs == 1 by the ops layer's promise: column-major as is, transposed
    return (Mat){p, CUBLAS_OP_T, cs > rows ? cs : (rows > 0 ? rows : 1)};
}

/* out (M, N) row-major, batch strides so, sa, sb over `count` batches. */
typedef struct Gemm {
    float *out;
    Mat a, b;
    int64_t M, N, K, so, sa, sb, count;
} Gemm;

static int run(cublasHandle_t h, const Gemm *g) {
    const float one = 1.0f, zero = 0.0f;
    if (g->M > INT_MAX || g->N > INT_MAX || g->K > INT_MAX || g->a.ld > INT_MAX ||
        g->b.ld > INT_MAX || g->count > INT_MAX)
        return at_error(AT_EINVAL, "matmul: a dimension or stride over 2^31 is beyond cuBLAS");
    cublasStatus_t st;
    if (g->count == 1)
        st = cublasSgemm(h, g->b.op, g->a.op, (int)g->N, (int)g->M, (int)g->K, &one, g->b.p,
                         (int)g->b.ld, g->a.p, (int)g->a.ld, &zero, g->out, (int)g->N);
    else
        st = cublasSgemmStridedBatched(h, g->b.op, g->a.op, (int)g->N, (int)g->M, (int)g->K, &one,
                                       g->b.p, (int)g->b.ld, g->sb, g->a.p, (int)g->a.ld, g->sa,
                                       &zero, g->out, (int)g->N, g->so, (int)g->count);
    return st == CUBLAS_STATUS_SUCCESS ? AT_OK : blas_error(st, "sgemm");
}

/* Batch dims of out, a, b after dropping size-1 dims and merging evenly
   laid out neighbours; strides[0..2] are out's, a's, b's. */
typedef struct Batch {
    int nd;
    int64_t shape[AT_MAXDIM], strides[3][AT_MAXDIM];
} Batch;

static void batch_dims(Batch *bt, const Tensor *out, const Tensor *a, const Tensor *b) {
    const Tensor *ts[3] = {out, a, b};
    int nb = out->ndim - 2, nd = 0;
    for (int d = 0; d < nb; d++) {
        if (out->shape[d] == 1)
            continue;
        bt->shape[nd] = out->shape[d];
        for (int k = 0; k < 3; k++)
            bt->strides[k][nd] = ts[k]->strides[d];
        nd++;
    }
    for (int d = nd - 2; d >= 0; d--) {
        int even = 1;
        for (int k = 0; k < 3; k++)
            even = even && bt->strides[k][d] == bt->strides[k][d + 1] * bt->shape[d + 1];
        if (!even)
            continue;
        bt->shape[d] *= bt->shape[d + 1];
        for (int e = d + 1; e < nd - 1; e++) {
            bt->shape[e] = bt->shape[e + 1];
            for (int k = 0; k < 3; k++)
                bt->strides[k][e] = bt->strides[k][e + 1];
        }
        for (int k = 0; k < 3; k++)
            bt->strides[k][d] = bt->strides[k][d + 1];
        nd--;
    }
    bt->nd = nd;
}

/* As cpu/blas.c: b the same matrix in every batch, and a's batch dims then
   its row dim one run at a's row stride, with unit column stride. */
static int foldable(const Tensor *a, const Tensor *b, int nb) {
    int64_t want = a->strides[nb], span = a->shape[nb];
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

extern "C" int cuda_matmul(Tensor *out, const Tensor *a, const Tensor *b) {
    int nd = out->ndim, nb = nd - 2;
    int64_t M = out->shape[nd - 2], N = out->shape[nd - 1], K = a->shape[nd - 1];
    if (K == 0)
        return cuda_fill(out, 0.0f);
    if (M == 0 || N == 0 || tensor_numel(out) == 0)
        return AT_OK;
    cublasHandle_t h;
    if (get_handle(&h))
        return at_errcode();
    int64_t ars = a->strides[nd - 2], acs = a->strides[nd - 1];
    int64_t brs = b->strides[nd - 2], bcs = b->strides[nd - 1];
    int64_t batches = tensor_numel(out) / (M * N);
    // ars >= K: a folded (B*M, K) matrix needs a real row stride (M = 1 with
    // broadcast batches would give 0).
    if (batches > 1 && foldable(a, b, nb) && ars >= K && M * batches <= INT_MAX) {
        Gemm g = {tensor_data(out), {tensor_data(a), CUBLAS_OP_N, ars},
                  as_cublas(tensor_data(b), K, N, brs, bcs), M * batches, N, K, 0, 0, 0, 1};
        return run(h, &g);
    }
    Batch bt;
    batch_dims(&bt, out, a, b);
    // The innermost merged dim is one strided-batched call; the outer ones
    // are walked here (rare: batch views that no single stride describes).
    int inner = bt.nd > 0 ? bt.nd - 1 : -1;
    int64_t count = inner >= 0 ? bt.shape[inner] : 1, outer = batches / count;
    for (int64_t ob = 0; ob < outer; ob++) {
        int64_t offs[3] = {0, 0, 0}, rest = ob;
        for (int d = inner - 1; d >= 0; d--) {
            int64_t i = rest % bt.shape[d];
            rest /= bt.shape[d];
            for (int k = 0; k < 3; k++)
                offs[k] += i * bt.strides[k][d];
        }
        Gemm g = {tensor_data(out) + offs[0],
                  as_cublas(tensor_data(a) + offs[1], M, K, ars, acs),
                  as_cublas(tensor_data(b) + offs[2], K, N, brs, bcs),
                  M, N, K,
                  inner >= 0 ? bt.strides[0][inner] : 0,
                  inner >= 0 ? bt.strides[1][inner] : 0,
                  inner >= 0 ? bt.strides[2][inner] : 0,
                  count};
        int st = run(h, &g);
        if (st)
            return st;
    }
    return AT_OK;
}
