/*
 * tests/emu/cublas_v2.h: the few cuBLAS calls attnlab makes, for the CUDA
 * emulator (see cuda_runtime_api.h beside it): column-major sgemm with
 * cuBLAS's argument checks, so a wrong leading dimension or transpose in
 * src/cuda/blas.cu fails here as it would on a GPU.
 */
#ifndef EMU_CUBLAS_V2_H
#define EMU_CUBLAS_V2_H

#include "cuda_runtime_api.h"

typedef enum {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_ALLOC_FAILED = 3,
    CUBLAS_STATUS_INVALID_VALUE = 7,
} cublasStatus_t;
typedef enum { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 } cublasOperation_t;
typedef enum { CUBLAS_DEFAULT_MATH = 0, CUBLAS_TF32_TENSOR_OP_MATH = 3 } cublasMath_t;
typedef int *cublasHandle_t;

inline cublasStatus_t cublasCreate(cublasHandle_t *h) {
    static int one;
    *h = &one;
    return CUBLAS_STATUS_SUCCESS;
}
inline cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t) { return CUBLAS_STATUS_SUCCESS; }
inline const char *cublasGetStatusString(cublasStatus_t s) {
    return s == CUBLAS_STATUS_INVALID_VALUE ? "CUBLAS_STATUS_INVALID_VALUE" : "CUBLAS_STATUS_ERROR";
}

/* C (m, n) = alpha op(A) op(B) + beta C, all column-major; op(A) is m x k. */
inline cublasStatus_t emu_sgemm(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                                float alpha, const float *A, int lda, const float *B, int ldb,
                                float beta, float *C, int ldc) {
    int a_rows = ta == CUBLAS_OP_N ? m : k, b_rows = tb == CUBLAS_OP_N ? k : n;
    if (m < 0 || n < 0 || k < 0 || lda < (a_rows > 1 ? a_rows : 1) ||
        ldb < (b_rows > 1 ? b_rows : 1) || ldc < (m > 1 ? m : 1))
        return CUBLAS_STATUS_INVALID_VALUE;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0.0;
            for (int p = 0; p < k; p++) {
                float a = ta == CUBLAS_OP_N ? A[i + (size_t)p * lda] : A[p + (size_t)i * lda];
                float b = tb == CUBLAS_OP_N ? B[p + (size_t)j * ldb] : B[j + (size_t)p * ldb];
                s += (double)a * b;
            }
            float *c = C + i + (size_t)j * ldc;
            *c = (float)(alpha * s + (beta != 0.0f ? beta * *c : 0.0f)); // beta 0: C unread
        }
    return CUBLAS_STATUS_SUCCESS;
}

inline cublasStatus_t cublasSgemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m,
                                  int n, int k, const float *alpha, const float *A, int lda,
                                  const float *B, int ldb, const float *beta, float *C, int ldc) {
    return emu_sgemm(ta, tb, m, n, k, *alpha, A, lda, B, ldb, *beta, C, ldc);
}

inline cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t, cublasOperation_t ta,
                                                cublasOperation_t tb, int m, int n, int k,
                                                const float *alpha, const float *A, int lda,
                                                long long sa, const float *B, int ldb, long long sb,
                                                const float *beta, float *C, int ldc, long long sc,
                                                int count) {
    if (count < 0)
        return CUBLAS_STATUS_INVALID_VALUE;
    for (int i = 0; i < count; i++) {
        cublasStatus_t st = emu_sgemm(ta, tb, m, n, k, *alpha, A + i * sa, lda, B + i * sb, ldb,
                                      *beta, C + i * sc, ldc);
        if (st)
            return st;
    }
    return CUBLAS_STATUS_SUCCESS;
}

#endif
