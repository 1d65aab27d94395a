/*
 * raw_cublas.cu: the baseline for `make bench-cuda`: cublasSgemm alone (FP32,
 * default math), with no attnlab code in the way, on GPT-2 small's matmul
 * shapes; bench/cuda.lua times the same products through attnlab
 * (x:matmul(w)) so the two lines can be compared (the goal: within 10%).
 * Row-major C (M, N) = A (M, K) B (K, N) is issued as cuBLAS does it for
 * attnlab: C^T = B^T A^T in column-major. Times with CUDA events, the
 * median of 10 runs after a warm-up. Says so and exits 0 without a GPU.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

struct Shape {
    const char *name;
    int m, k, n;
};

static const Shape shapes[] = {
    {"square1024", 1024, 1024, 1024},     {"square4096", 4096, 4096, 4096},
    {"qkv B*T=8192", 8192, 768, 2304},    {"attn_out B*T=8192", 8192, 768, 768},
    {"mlp_up B*T=8192", 8192, 768, 3072}, {"mlp_down B*T=8192", 8192, 3072, 768},
    {"logits B*T=1024", 1024, 768, 50257},
};

static int cmp(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int main(void) {
    int count = 0;
    cublasHandle_t h;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0 ||
        cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
        printf("raw_cublas: no CUDA device, nothing to measure\n");
        return 0;
    }
    printf("%-22s %6s %6s %6s %10s %10s\n", "cublasSgemm alone", "M", "K", "N", "ms", "TFLOP/s");
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const Shape &sh = shapes[s];
        float *a, *b, *c;
        if (cudaMalloc(&a, (size_t)sh.m * sh.k * 4) || cudaMalloc(&b, (size_t)sh.k * sh.n * 4) ||
            cudaMalloc(&c, (size_t)sh.m * sh.n * 4)) {
            printf("%-22s out of device memory\n", sh.name);
            return 1;
        }
        cudaMemset(a, 0, (size_t)sh.m * sh.k * 4);
        cudaMemset(b, 0, (size_t)sh.k * sh.n * 4);
        const float one = 1.0f, zero = 0.0f;
        float t[10];
        cudaEvent_t e0, e1;
        cudaEventCreate(&e0);
        cudaEventCreate(&e1);
        for (int r = -1; r < 10; r++) {
            cudaEventRecord(e0, 0);
            cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, sh.n, sh.m, sh.k, &one, b, sh.n, a, sh.k,
                        &zero, c, sh.n);
            cudaEventRecord(e1, 0);
            cudaEventSynchronize(e1);
            if (r >= 0)
                cudaEventElapsedTime(&t[r], e0, e1);
        }
        qsort(t, 10, sizeof t[0], cmp);
        double ms = (t[4] + t[5]) / 2;
        printf("%-22s %6d %6d %6d %10.3f %10.2f\n", sh.name, sh.m, sh.k, sh.n, ms,
               2.0 * sh.m * sh.k * sh.n / (ms * 1e-3) * 1e-12);
        cudaFree(a), cudaFree(b), cudaFree(c);
    }
    cublasDestroy(h);
    return 0;
}
