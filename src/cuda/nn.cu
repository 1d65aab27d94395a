/*
 * nn.cu: the neural-network primitives on the GPU: masked fill, embedding
 * lookup, layer norm and cross-entropy, each with its backward.
 *
 * The formulas are src/cpu/nn.c's. Row statistics (mean and variance,
 * log-sum-exp) accumulate in double as there: rows are a model's width or
 * its vocabulary, so the cost is nothing beside the memory traffic, and it
 * keeps the GPU within a float rounding or two of the CPU.
 *
 * Integer arguments (ids, targets) arrive as host arrays; they go to the
 * device through a stream-ordered scratch buffer released right after the
 * launch that reads them (the release waits for the kernel, see
 * backend.cu).
 */
#include <config.h>

#include "common.cuh"
#include "iter.cuh"

__global__ void masked_fill_kernel(float *out, const float *x, const float *keep, Iter it,
                                   float value) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < it.numel;
         i += (int64_t)gridDim.x * blockDim.x) {
        int64_t off[3];
        iter_offsets<3>(it, i, off);
        out[off[0]] = keep[off[2]] != 0.0f ? x[off[1]] : value;
    }
}

extern "C" int cuda_masked_fill(Tensor *out, const Tensor *x, const Tensor *keep, float value) {
    const Tensor *ops[3] = {out, x, keep};
    Iter it;
    iter_init(&it, 3, ops);
    if (it.numel == 0)
        return AT_OK;
    masked_fill_kernel<<<cuda_blocks(it.numel), CUDA_THREADS>>>(
        tensor_data(out), tensor_data(x), tensor_data(keep), it, value);
    return cuda_launched("masked_fill");
}

/* n host integers on the device, in scratch the caller releases. */
static int upload_ids(int64_t **dev, const int64_t *ids, int64_t n, const char *who) {
    size_t nbytes = (size_t)(n > 0 ? n : 1) * sizeof(int64_t);
    if (cuda_scratch((void **)dev, nbytes, who))
        return at_errcode();
    cudaError_t err = cudaMemcpy(*dev, ids, (size_t)n * sizeof(int64_t), cudaMemcpyHostToDevice);
    if (err != cudaSuccess) {
        cuda_scratch_release(*dev);
        return at_error(AT_EDEVICE, "%s: copying %lld indices to the GPU failed (%s)", who,
                        (long long)n, cudaGetErrorString(err));
    }
    return AT_OK;
}

/* ---- embedding ---------------------------------------------------------- */

/* out (n, D) = table rows ids: one thread per element, so a row of D
   consecutive threads reads one table row and writes one out row. */
__global__ void embedding_kernel(float *out, const float *table, const int64_t *ids, int64_t n,
                                 int64_t D) {
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n * D;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = e / D, d = e - i * D;
        out[e] = table[ids[i] * D + d];
    }
}

extern "C" int cuda_embedding(Tensor *out, const Tensor *table, const int64_t *ids, int64_t n) {
    int64_t D = table->shape[1], *dids;
    if (n == 0 || D == 0)
        return AT_OK;
    if (upload_ids(&dids, ids, n, "embedding"))
        return at_errcode();
    embedding_kernel<<<cuda_blocks(n * D), CUDA_THREADS>>>(tensor_data(out), tensor_data(table),
                                                           dids, n, D);
    int st = cuda_launched("embedding");
    cuda_scratch_release(dids);
    return st;
}

/* dtable rows ids += g rows. A repeated id (the same token twice in a
   batch) has several threads adding to one address: atomicAdd makes that
   correct; the order of those adds, and so the last bits, may vary. */
__global__ void embedding_backward_kernel(float *dtable, const float *g, const int64_t *ids,
                                          int64_t n, int64_t D) {
    for (int64_t e = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; e < n * D;
         e += (int64_t)gridDim.x * blockDim.x) {
        int64_t i = e / D, d = e - i * D;
        atomicAdd(dtable + ids[i] * D + d, g[e]);
    }
}

extern "C" int cuda_embedding_backward(Tensor *dtable, const Tensor *g, const int64_t *ids,
                                       int64_t n) {
    int64_t D = dtable->shape[1], *dids;
    if (n == 0 || D == 0)
        return AT_OK;
    if (upload_ids(&dids, ids, n, "embedding backward"))
        return at_errcode();
    embedding_backward_kernel<<<cuda_blocks(n * D), CUDA_THREADS>>>(
        tensor_data(dtable), tensor_data(g), dids, n, D);
    int st = cuda_launched("embedding backward");
    cuda_scratch_release(dids);
    return st;
}

/* ---- layer norm ----------------------------------------------------------- */

#define ROWS_PER_BLOCK 8 // one warp per row, 256 threads

/* One warp per row of x (N, C): the mean, then the variance around it (two
   passes as on the CPU: no cancellation in E[x^2] - m^2), then the output;
   the row is read three times, the later reads from cache. */
__global__ void layer_norm_kernel(float *out, float *mean, float *rstd, const float *x,
                                  const float *w, const float *b, int64_t N, int64_t C,
                                  float eps) {
    int lane = threadIdx.x & 31;
    int64_t r = blockIdx.x * (int64_t)ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (r >= N) // a whole warp leaves together: no shuffle is left waiting
        return;
    const float *row = x + r * C;
    double s = 0.0;
    for (int64_t j = lane; j < C; j += 32)
        s += (double)row[j];
    double m = warp_sum(s) / (double)C;
    double v = 0.0;
    for (int64_t j = lane; j < C; j += 32)
        v += ((double)row[j] - m) * ((double)row[j] - m);
    v = warp_sum(v);
    float rs = (float)(1.0 / sqrt(v / (double)C + (double)eps)), mf = (float)m;
    for (int64_t j = lane; j < C; j += 32) {
        float y = (row[j] - mf) * rs;
        out[r * C + j] = (w ? y * w[j] : y) + (b ? b[j] : 0.0f);
    }
    if (lane == 0) {
        mean[r] = mf;
        rstd[r] = rs;
    }
}

extern "C" int cuda_layer_norm(Tensor *out, Tensor *mean, Tensor *rstd, const Tensor *x,
                               const Tensor *w, const Tensor *b, float eps) {
    int64_t N = x->shape[0], C = x->shape[1];
    if (N == 0)
        return AT_OK;
    int64_t blocks = (N + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    if (blocks > INT32_MAX)
        return at_error(AT_EINVAL, "layer_norm: %lld rows is too many", (long long)N);
    layer_norm_kernel<<<(unsigned)blocks, 32 * ROWS_PER_BLOCK>>>(
        tensor_data(out), tensor_data(mean), tensor_data(rstd), tensor_data(x),
        w ? tensor_data(w) : NULL, b ? tensor_data(b) : NULL, N, C, eps);
    return cuda_launched("layer_norm");
}

/* dx for one row per warp: with xhat = (x - mean) rstd and gw = g w,
   dx = rstd (gw - mean(gw) - xhat mean(gw xhat)). */
__global__ void layer_norm_dx_kernel(float *dx, const float *g, const float *x, const float *mean,
                                     const float *rstd, const float *w, int64_t N, int64_t C) {
    int lane = threadIdx.x & 31;
    int64_t r = blockIdx.x * (int64_t)ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (r >= N)
        return;
    const float *xr = x + r * C, *gr = g + r * C;
    float m = mean[r], rs = rstd[r];
    double sum_gw = 0.0, sum_gwx = 0.0;
    for (int64_t j = lane; j < C; j += 32) {
        float xhat = (xr[j] - m) * rs, gw = w ? gr[j] * w[j] : gr[j];
        sum_gw += (double)gw;
        sum_gwx += (double)(gw * xhat);
    }
    float mean_gw = (float)(warp_sum(sum_gw) / (double)C);
    float mean_gwx = (float)(warp_sum(sum_gwx) / (double)C);
    for (int64_t j = lane; j < C; j += 32) {
        float xhat = (xr[j] - m) * rs, gw = w ? gr[j] * w[j] : gr[j];
        dx[r * C + j] = rs * (gw - mean_gw - xhat * mean_gwx);
    }
}

#define COLS 32     // columns per block of the parameter-gradient kernels
#define ROW_LANES 8 // threads down the rows per column

/* Partial column sums over a band of rows: block (x: COLS columns, y: one
   band of rows). Neighbouring threads read neighbouring columns of a row
   (coalesced). part_w, part_b are (bands, C); their sums over bands are
   dw = sum_r g xhat and db = sum_r g. */
__global__ void layer_norm_dwdb_kernel(float *part_w, float *part_b, const float *g,
                                       const float *x, const float *mean, const float *rstd,
                                       int64_t N, int64_t C, int64_t rows_per_band) {
    __shared__ float sw[ROW_LANES][COLS], sb[ROW_LANES][COLS];
    int tx = threadIdx.x % COLS, ty = threadIdx.x / COLS;
    int64_t c = blockIdx.x * (int64_t)COLS + tx;
    int64_t r0 = blockIdx.y * rows_per_band, r1 = r0 + rows_per_band < N ? r0 + rows_per_band : N;
    float aw = 0.0f, ab = 0.0f;
    if (c < C)
        for (int64_t r = r0 + ty; r < r1; r += ROW_LANES) {
            float gv = g[r * C + c];
            aw += gv * (x[r * C + c] - mean[r]) * rstd[r];
            ab += gv;
        }
    sw[ty][tx] = aw;
    sb[ty][tx] = ab;
    __syncthreads();
    if (ty == 0 && c < C) {
        for (int k = 1; k < ROW_LANES; k++) { // fixed order: deterministic
            aw += sw[k][tx];
            ab += sb[k][tx];
        }
        part_w[blockIdx.y * C + c] = aw;
        part_b[blockIdx.y * C + c] = ab;
    }
}

/* dw[c], db[c] = the sums of the bands' partials, in band order. */
__global__ void layer_norm_bands_kernel(float *dw, float *db, const float *part_w,
                                        const float *part_b, int64_t bands, int64_t C) {
    for (int64_t c = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; c < C;
         c += (int64_t)gridDim.x * blockDim.x) {
        float aw = 0.0f, ab = 0.0f;
        for (int64_t k = 0; k < bands; k++) {
            aw += part_w[k * C + c];
            ab += part_b[k * C + c];
        }
        if (dw)
            dw[c] = aw;
        if (db)
            db[c] = ab;
    }
}

/* dw, db over N rows: bands of rows so that N = 4096 rows of C = 768 make
   24 x 64 blocks instead of 24 blocks walking 4096 rows each. */
static int layer_norm_params(float *dw, float *db, const float *g, const float *x,
                             const float *mean, const float *rstd, int64_t N, int64_t C) {
    if (C == 0)
        return AT_OK;
    int64_t bands = N < 64 * 64 ? (N + 63) / 64 : 64, per_band;
    bands = bands < 1 ? 1 : bands;
    per_band = (N + bands - 1) / bands;
    float *part;
    if (cuda_scratch((void **)&part, (size_t)(2 * bands * C) * sizeof(float),
                     "layer_norm backward"))
        return at_errcode();
    dim3 grid((unsigned)((C + COLS - 1) / COLS), (unsigned)bands);
    layer_norm_dwdb_kernel<<<grid, COLS * ROW_LANES>>>(part, part + bands * C, g, x, mean, rstd, N,
                                                      C, per_band);
    layer_norm_bands_kernel<<<cuda_blocks(C), CUDA_THREADS>>>(dw, db, part, part + bands * C,
                                                             bands, C);
    int st = cuda_launched("layer_norm backward");
    cuda_scratch_release(part);
    return st;
}

extern "C" int cuda_layer_norm_backward(Tensor *dx, Tensor *dw, Tensor *db, const Tensor *g,
                                        const Tensor *x, const Tensor *mean, const Tensor *rstd,
                                        const Tensor *w) {
    int64_t N = x->shape[0], C = x->shape[1];
    float *dwd = dw ? tensor_data(dw) : NULL, *dbd = db ? tensor_data(db) : NULL;
    if (N == 0) { // no rows: the parameter gradients are sums of nothing
        int st = dw ? cuda_fill(dw, 0.0f) : AT_OK;
        return st ? st : db ? cuda_fill(db, 0.0f) : AT_OK;
    }
    int64_t blocks = (N + ROWS_PER_BLOCK - 1) / ROWS_PER_BLOCK;
    if (blocks > INT32_MAX)
        return at_error(AT_EINVAL, "layer_norm: %lld rows is too many", (long long)N);
    layer_norm_dx_kernel<<<(unsigned)blocks, 32 * ROWS_PER_BLOCK>>>(
        tensor_data(dx), tensor_data(g), tensor_data(x), tensor_data(mean), tensor_data(rstd),
        w ? tensor_data(w) : NULL, N, C);
    int st = cuda_launched("layer_norm backward");
    if (st || (!dwd && !dbd))
        return st;
    return layer_norm_params(dwd, dbd, tensor_data(g), tensor_data(x), tensor_data(mean),
                             tensor_data(rstd), N, C);
}

/* ---- cross-entropy -------------------------------------------------------- */

#define CE_THREADS 256 // one block per row: a vocabulary is 30k-50k wide

/* log sum_j exp(row_j) around the row's max, the sum in double; every
   thread of the block gets it. The terms are float exps (within 2 ulp):
   double exps would make a 50k-wide vocabulary slow on GPUs with few
   double units, for no gain a float loss can show. */
__device__ double row_logsumexp(const float *row, int64_t C, float *fshared, double *dshared) {
    float m = -INFINITY;
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x)
        m = row[j] > m ? row[j] : m;
    m = block_max(m, fshared);
    double s = 0.0;
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x)
        s += (double)expf(row[j] - m);
    s = block_sum(s, dshared);
    return (double)m + log(s);
}

__global__ void cross_entropy_kernel(float *losses, const float *logits, const int64_t *targets,
                                     int64_t C) {
    __shared__ float fshared[32];
    __shared__ double dshared[32];
    int64_t r = blockIdx.x; // one row per block: the whole block agrees on the branch
    if (targets[r] < 0) {
        if (threadIdx.x == 0)
            losses[r] = 0.0f;
        return;
    }
    double lse = row_logsumexp(logits + r * C, C, fshared, dshared);
    if (threadIdx.x == 0)
        losses[r] = (float)(lse - (double)logits[r * C + targets[r]]);
}

extern "C" int cuda_cross_entropy(Tensor *losses, const Tensor *logits, const int64_t *targets) {
    int64_t N = logits->shape[0], C = logits->shape[1], *dt;
    if (N == 0)
        return AT_OK;
    if (N > INT32_MAX)
        return at_error(AT_EINVAL, "cross_entropy: %lld rows is too many", (long long)N);
    if (upload_ids(&dt, targets, N, "cross_entropy"))
        return at_errcode();
    cross_entropy_kernel<<<(unsigned)N, CE_THREADS>>>(tensor_data(losses), tensor_data(logits),
                                                     dt, C);
    int st = cuda_launched("cross_entropy");
    cuda_scratch_release(dt);
    return st;
}

/* dlogits row = g_r (softmax(row) - onehot(target)); an ignored row is 0. */
__global__ void cross_entropy_backward_kernel(float *dlogits, const float *g,
                                              const float *logits, const int64_t *targets,
                                              int64_t C) {
    __shared__ float fshared[32];
    __shared__ double dshared[32];
    int64_t r = blockIdx.x, t = targets[r];
    const float *row = logits + r * C;
    float *drow = dlogits + r * C;
    if (t < 0) {
        for (int64_t j = threadIdx.x; j < C; j += blockDim.x)
            drow[j] = 0.0f;
        return;
    }
    double lse = row_logsumexp(row, C, fshared, dshared);
    float gr = g[r];
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x)
        drow[j] = gr * (expf((float)((double)row[j] - lse)) - (j == t ? 1.0f : 0.0f));
}

extern "C" int cuda_cross_entropy_backward(Tensor *dlogits, const Tensor *g, const Tensor *logits,
                                           const int64_t *targets) {
    int64_t N = logits->shape[0], C = logits->shape[1], *dt;
    if (N == 0)
        return AT_OK;
    if (N > INT32_MAX)
        return at_error(AT_EINVAL, "cross_entropy: %lld rows is too many", (long long)N);
    if (upload_ids(&dt, targets, N, "cross_entropy backward"))
        return at_errcode();
    cross_entropy_backward_kernel<<<(unsigned)N, CE_THREADS>>>(
        tensor_data(dlogits), tensor_data(g), tensor_data(logits), dt, C);
    int st = cuda_launched("cross_entropy backward");
    cuda_scratch_release(dt);
    return st;
}
