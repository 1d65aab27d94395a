/*
 * attention.cu: fused scaled dot-product attention on the GPU, forward and
 * backward, without ever holding a Tq x Tk matrix (FlashAttention 2, Dao
 * 2023, in FP32 on the CUDA cores).
 *
 * The contract is src/cpu/attention.c's: q (BH, Tq, D), k (BH, Tk, D),
 * v (BH, Tk, Dv), out (BH, Tq, Dv), lse (BH, Tq) = log sum_j exp(s_ij) in
 * natural log, all contiguous; s_ij = scale q_i . k_j; with causal, key j is
 * visible to query i when j <= i + (Tk - Tq) (aligned to the end). A query
 * with no visible key gets out = 0 and lse = -inf.
 *
 * Tiled kernels (D and Dv up to 64 or 128, when the shared memory fits):
 * 256 threads seen as a 16 x 16 grid (tx, ty); thread (tx, ty) owns rows
 * ty + 16 i of every tile product, and columns tx + 16 j of the score tiles
 * (keys) or the groups of four at 64 g + 4 tx of the output tiles (head
 * dims, read as one 128-bit load). Every tile in shared memory has a row
 * pitch of a multiple of 4 floats (HD + 4, BK + 4): rows are 16-byte
 * aligned for the 128-bit loads, and rows read at one column start 4
 * banks apart, so the 8 rows of one load phase cover all 32 banks.
 *   forward: a block takes BQ queries of one head; it walks the key tiles
 *     (skipping those wholly in the causal future), keeping per row the
 *     running max m and sum l of exp(s - m) in registers (every thread of a
 *     row holds a copy, agreed through shuffles over its 16 lanes) and its
 *     share of the output rows. Scores are in log2 units (q pre-scaled by
 *     scale * log2 e) so each term is one exp2f.
 *   backward: D_i = g_i . out_i first; then one block per key tile sums
 *     over the query tiles that can see it: p = exp(s - lse), dv += p^T g,
 *     ds = p (g v^T - D), dk += scale ds^T q; and one block per query tile
 *     sums over its visible key tiles: dq += scale ds k. Recomputing p and
 *     ds in the second pass costs two tile products more than FA2's atomic
 *     dq, and buys a dq that is the same on every run.
 * Row kernels (any D, and GPUs whose shared memory is too small): one warp
 * per query (forward, dq) or key (dk, dv), keys or queries in chunks of 32.
 *
 * Numerics: exp2f is within 2 ulp; the running sums are FP32 like the CPU's
 * (whose fast exp is within 2e-7), so out agrees with the CPU to ~1e-6
 * relative for well-scaled inputs.
 */
#include <config.h>

#include "common.cuh"

#define LOG2E 1.4426950408889634f
#define LN2 0.6931471805599453f
#define NT 256 // threads of the tiled kernels: a 16 x 16 grid

typedef struct Attn {
    const float *q, *k, *v, *out, *lse, *g, *dvec;
    float *o, *l, *dq, *dk, *dv;
    int64_t BH, Tq, Tk, D, Dv;
    int causal;
    float scale;
} Attn;

/* One past the last key query i may see. */
__host__ __device__ __forceinline__ int64_t key_end(const Attn &a, int64_t i) {
    if (!a.causal)
        return a.Tk;
    int64_t e = i + (a.Tk - a.Tq) + 1;
    return e < 0 ? 0 : e > a.Tk ? a.Tk : e;
}

/* First query that may see key j (Tq when none). */
__device__ __forceinline__ int64_t query_begin(const Attn &a, int64_t j) {
    if (!a.causal)
        return 0;
    int64_t b = j - (a.Tk - a.Tq);
    return b < 0 ? 0 : b > a.Tq ? a.Tq : b;
}

__device__ __forceinline__ bool visible(const Attn &a, int64_t i, int64_t j) {
    return i < a.Tq && j < a.Tk && (!a.causal || j <= i + (a.Tk - a.Tq));
}

/* rows (n, width) of src starting at row r0 into dst (ROWS x HD, row
   pitch HD + 4), zero past row n or column width, times mul. */
template <int ROWS, int HD>
__device__ __forceinline__ void load_tile(float *dst, const float *src, int64_t r0, int64_t n,
                                          int64_t width, float mul) {
    for (int idx = threadIdx.x; idx < ROWS * HD; idx += NT) {
        int r = idx / HD, c = idx % HD;
        float x = 0.0f;
        if (r0 + r < n && c < width)
            x = src[(r0 + r) * width + c] * mul;
        dst[r * (HD + 4) + c] = x;
    }
}

/* acc[i][j] += sum_k A[row_i, k] B[col_j, k] (A B^T), rows ty + 16 i, cols
   tx + 16 j; A, B with pitches lda, ldb. Both operands are read along k,
   four floats at a time: one 128-bit load brings what four scalar loads
   would, which matters because these products are bound by shared-memory
   load instructions, not by FMAs. Needs lda, ldb, KK multiples of 4 and
   A, B 16-byte aligned (PITCH = HD + 4; with it the 8 rows that one phase
   of a 128-bit load reads start 4 banks apart: no conflict). */
template <int MI, int NJ, int KK>
__device__ __forceinline__ void mm_abt(float (&acc)[MI][NJ], const float *A, int lda,
                                       const float *B, int ldb) {
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
#pragma unroll 2
    for (int k = 0; k < KK; k += 4) {
        float4 a[MI], b[NJ];
#pragma unroll
        for (int i = 0; i < MI; i++)
            a[i] = *reinterpret_cast<const float4 *>(A + (ty + 16 * i) * lda + k);
#pragma unroll
        for (int j = 0; j < NJ; j++)
            b[j] = *reinterpret_cast<const float4 *>(B + (tx + 16 * j) * ldb + k);
#pragma unroll
        for (int i = 0; i < MI; i++)
#pragma unroll
            for (int j = 0; j < NJ; j++) {
                acc[i][j] += a[i].x * b[j].x;
                acc[i][j] += a[i].y * b[j].y;
                acc[i][j] += a[i].z * b[j].z;
                acc[i][j] += a[i].w * b[j].w;
            }
    }
}

/* The column of B (and of the product) that entry j of thread tx's
   accumulators stands for, in mm_ab and mm_atb: groups of 4 neighbouring
   columns, group g of the 16 threads at 64 g + 4 tx, so that B's row is
   read with one 128-bit load per group; the 16 loads of a half warp cover
   256 contiguous bytes (conflict-free). NJ is a multiple of 4. */
__device__ __forceinline__ int out_col(int j) {
    return (j >> 2) * 64 + (threadIdx.x & 15) * 4 + (j & 3);
}

/* acc[i][j] += sum_k A[row_i, k] B[k, out_col(j)] (A B); rows ty + 16 i.
   A is read along its rows, four k at a time (lda a multiple of 4), B
   along its rows in groups of four columns (ldb a multiple of 4). */
template <int MI, int NJ, int KK>
__device__ __forceinline__ void mm_ab(float (&acc)[MI][NJ], const float *A, int lda,
                                      const float *B, int ldb) {
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
#pragma unroll 2
    for (int k = 0; k < KK; k += 4) {
        float4 a[MI];
#pragma unroll
        for (int i = 0; i < MI; i++)
            a[i] = *reinterpret_cast<const float4 *>(A + (ty + 16 * i) * lda + k);
#pragma unroll
        for (int kk = 0; kk < 4; kk++) {
#pragma unroll
            for (int g = 0; g < NJ / 4; g++) {
                float4 b = *reinterpret_cast<const float4 *>(B + (k + kk) * ldb + g * 64 + tx * 4);
#pragma unroll
                for (int i = 0; i < MI; i++) {
                    float x = kk == 0 ? a[i].x : kk == 1 ? a[i].y : kk == 2 ? a[i].z : a[i].w;
                    acc[i][4 * g] += x * b.x;
                    acc[i][4 * g + 1] += x * b.y;
                    acc[i][4 * g + 2] += x * b.z;
                    acc[i][4 * g + 3] += x * b.w;
                }
            }
        }
    }
}

/* acc[i][j] += sum_k A[k, row_i] B[k, out_col(j)] (A^T B). */
template <int MI, int NJ, int KK>
__device__ __forceinline__ void mm_atb(float (&acc)[MI][NJ], const float *A, int lda,
                                       const float *B, int ldb) {
    int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
#pragma unroll 4
    for (int k = 0; k < KK; k++) {
        float a[MI];
#pragma unroll
        for (int i = 0; i < MI; i++)
            a[i] = A[k * lda + ty + 16 * i];
#pragma unroll
        for (int g = 0; g < NJ / 4; g++) {
            float4 b = *reinterpret_cast<const float4 *>(B + k * ldb + g * 64 + tx * 4);
#pragma unroll
            for (int i = 0; i < MI; i++) {
                acc[i][4 * g] += a[i] * b.x;
                acc[i][4 * g + 1] += a[i] * b.y;
                acc[i][4 * g + 2] += a[i] * b.z;
                acc[i][4 * g + 3] += a[i] * b.w;
            }
        }
    }
}

/* Max and sum over the 16 threads of a row (lanes tx = 0..15 of one half
   warp: xor offsets below 16 never leave it). */
__device__ __forceinline__ float row_max16(float x) {
    for (int o = 8; o > 0; o >>= 1)
        x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o));
    return x;
}
__device__ __forceinline__ float row_sum16(float x) {
    for (int o = 8; o > 0; o >>= 1)
        x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

/* ---- tiled forward ---------------------------------------------------------- */

template <int HD, int BQ, int BK> struct Fwd {
    static constexpr int RI = BQ / 16, CJ = BK / 16, OJ = HD / 16, PITCH = HD + 4;
    // Q, K, V tiles; the probabilities P (BQ x BK+1) reuse K's space.
    static constexpr size_t SMEM = (size_t)(BQ + 2 * BK) * PITCH * sizeof(float);
    static_assert(BQ * (BK + 4) <= BK * PITCH, "P must fit in the K tile");
};

template <int HD, int BQ, int BK> __global__ void __launch_bounds__(NT) flash_forward(Attn a) {
    typedef Fwd<HD, BQ, BK> F;
    extern __shared__ float smem[];
    float *Qs = smem, *Ks = Qs + BQ * F::PITCH, *Vs = Ks + BK * F::PITCH, *Ps = Ks;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int64_t tiles_q = (a.Tq + BQ - 1) / BQ, bh = blockIdx.x / tiles_q;
    // The last query tiles see the most keys under causal: start them first.
    int64_t i0 = (tiles_q - 1 - blockIdx.x % tiles_q) * BQ;
    const float *q = a.q + bh * a.Tq * a.D, *k = a.k + bh * a.Tk * a.D;
    const float *v = a.v + bh * a.Tk * a.Dv;
    load_tile<BQ, HD>(Qs, q, i0, a.Tq, a.D, a.scale * LOG2E);

    float m[F::RI], l[F::RI], acc[F::RI][F::OJ];
    #pragma unroll
    for (int i = 0; i < F::RI; i++) {
        m[i] = -INFINITY, l[i] = 0.0f;
        #pragma unroll
        for (int e = 0; e < F::OJ; e++)
            acc[i][e] = 0.0f;
    }
    int64_t last = i0 + BQ < a.Tq ? i0 + BQ - 1 : a.Tq - 1;
    int64_t kend = key_end(a, last); // later key tiles are all in the future
    for (int64_t j0 = 0; j0 < kend; j0 += BK) {
        __syncthreads(); // the previous tile's P V product is done with Ks, Vs
        load_tile<BK, HD>(Ks, k, j0, a.Tk, a.D, 1.0f);
        load_tile<BK, HD>(Vs, v, j0, a.Tk, a.Dv, 1.0f);
        __syncthreads();
        float s[F::RI][F::CJ] = {};
        mm_abt<F::RI, F::CJ, HD>(s, Qs, F::PITCH, Ks, F::PITCH);
        #pragma unroll
        for (int i = 0; i < F::RI; i++) {
            int64_t row = i0 + ty + 16 * i;
            float mx = -INFINITY;
            #pragma unroll
            for (int j = 0; j < F::CJ; j++) {
                if (!visible(a, row, j0 + tx + 16 * j))
                    s[i][j] = -INFINITY;
                mx = fmaxf(mx, s[i][j]);
            }
            float m_new = fmaxf(m[i], row_max16(mx));
            // Nothing visible yet: shift by 0 so exp2f(-inf) gives 0, not NaN.
            float shift = m_new == -INFINITY ? 0.0f : m_new, sum = 0.0f;
            float corr = exp2f(m[i] - shift);
            #pragma unroll
            for (int j = 0; j < F::CJ; j++) {
                s[i][j] = exp2f(s[i][j] - shift);
                sum += s[i][j];
            }
            l[i] = l[i] * corr + row_sum16(sum);
            m[i] = m_new;
            #pragma unroll
            for (int e = 0; e < F::OJ; e++)
                acc[i][e] *= corr;
        }
        __syncthreads(); // every thread is done reading Ks: P takes its place
        #pragma unroll
        for (int i = 0; i < F::RI; i++)
            #pragma unroll
            for (int j = 0; j < F::CJ; j++)
                Ps[(ty + 16 * i) * (BK + 4) + tx + 16 * j] = s[i][j];
        __syncthreads();
        mm_ab<F::RI, F::OJ, BK>(acc, Ps, BK + 4, Vs, F::PITCH);
    }
    #pragma unroll
    for (int i = 0; i < F::RI; i++) {
        int64_t row = i0 + ty + 16 * i;
        if (row >= a.Tq)
            continue;
        float inv = l[i] > 0.0f ? 1.0f / l[i] : 0.0f;
        float *o = a.o + (bh * a.Tq + row) * a.Dv;
        #pragma unroll
        for (int e = 0; e < F::OJ; e++)
            if (out_col(e) < a.Dv)
                o[out_col(e)] = acc[i][e] * inv;
        if (tx == 0)
            a.l[bh * a.Tq + row] = l[i] > 0.0f ? m[i] * LN2 + logf(l[i]) : -INFINITY;
    }
}

/* ---- tiled backward ----------------------------------------------------- */

/* D_i = g_i . out_i, one warp per row. */
__global__ void row_dot_kernel(float *dvec, const float *g, const float *out, int64_t rows,
                               int64_t Dv) {
    int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (r >= rows)
        return;
    float s = 0.0f;
    for (int64_t e = lane; e < Dv; e += 32)
        s += g[r * Dv + e] * out[r * Dv + e];
    s = warp_sum(s);
    if (lane == 0)
        dvec[r] = s;
}

#define BB 32 // query and key tile of the backward kernels

template <int HD> struct Bwd {
    static constexpr int RI = BB / 16, OJ = HD / 16, PITCH = HD + 4;
    // four (BB, HD) tiles, two (BB, BB) tiles, lse and D of BB queries
    static constexpr size_t SMEM =
        ((size_t)4 * BB * PITCH + 2 * BB * (BB + 4) + 2 * BB) * sizeof(float);
};

/* The query tile's rows i0.. of q, g into Qs, Gs; lse (in log2 units) and
   D into Ls, Ds; rows past Tq get lse -inf so their p is 0. */
template <int HD>
__device__ void load_queries(const Attn &a, int64_t bh, int64_t i0, float *Qs, float *Gs,
                             float *Ls, float *Ds) {
    load_tile<BB, HD>(Qs, a.q + bh * a.Tq * a.D, i0, a.Tq, a.D, 1.0f);
    load_tile<BB, HD>(Gs, a.g + bh * a.Tq * a.Dv, i0, a.Tq, a.Dv, 1.0f);
    if (threadIdx.x < BB) {
        int64_t i = i0 + threadIdx.x;
        float L = i < a.Tq ? a.lse[bh * a.Tq + i] : -INFINITY;
        Ls[threadIdx.x] = L * LOG2E;
        Ds[threadIdx.x] = i < a.Tq ? a.dvec[bh * a.Tq + i] : 0.0f;
    }
}

/* p and ds of the (query, key) tile pair in Qs Gs x Ks Vs, written to Ps
   and dSs (rows: queries, pitch BB + 4). */
template <int HD>
__device__ void tile_probs(const Attn &a, int64_t i0, int64_t j0, const float *Qs,
                           const float *Gs, const float *Ks, const float *Vs, const float *Ls,
                           const float *Ds, float *Ps, float *dSs) {
    typedef Bwd<HD> B;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    float s[B::RI][B::RI] = {}, dp[B::RI][B::RI] = {};
    mm_abt<B::RI, B::RI, HD>(s, Qs, B::PITCH, Ks, B::PITCH);
    mm_abt<B::RI, B::RI, HD>(dp, Gs, B::PITCH, Vs, B::PITCH);
    const float qscale = a.scale * LOG2E;
    #pragma unroll
    for (int i = 0; i < B::RI; i++) {
        int r = ty + 16 * i;
        #pragma unroll
        for (int j = 0; j < B::RI; j++) {
            int c = tx + 16 * j;
            // lse = -inf: the query saw no key (and then sees none here).
            bool vis = visible(a, i0 + r, j0 + c) && Ls[r] != -INFINITY;
            float p = vis ? exp2f(s[i][j] * qscale - Ls[r]) : 0.0f;
            Ps[r * (BB + 4) + c] = p;
            dSs[r * (BB + 4) + c] = p * (dp[i][j] - Ds[r]);
        }
    }
}

/* dk, dv of one key tile: a sum over the query tiles that can see it. */
template <int HD> __global__ void __launch_bounds__(NT) flash_backward_kv(Attn a) {
    typedef Bwd<HD> B;
    extern __shared__ float smem[];
    float *Ks = smem, *Vs = Ks + BB * B::PITCH, *Qs = Vs + BB * B::PITCH;
    float *Gs = Qs + BB * B::PITCH, *Ps = Gs + BB * B::PITCH, *dSs = Ps + BB * (BB + 4);
    float *Ls = dSs + BB * (BB + 4), *Ds = Ls + BB;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int64_t tiles_k = (a.Tk + BB - 1) / BB, bh = blockIdx.x / tiles_k;
    int64_t j0 = (blockIdx.x % tiles_k) * BB;
    load_tile<BB, HD>(Ks, a.k + bh * a.Tk * a.D, j0, a.Tk, a.D, 1.0f);
    load_tile<BB, HD>(Vs, a.v + bh * a.Tk * a.Dv, j0, a.Tk, a.Dv, 1.0f);
    float dk[B::RI][B::OJ] = {}, dv[B::RI][B::OJ] = {};
    for (int64_t i0 = query_begin(a, j0); i0 < a.Tq; i0 += BB) {
        __syncthreads(); // the previous round's products are done with the tiles
        load_queries<HD>(a, bh, i0, Qs, Gs, Ls, Ds);
        __syncthreads();
        tile_probs<HD>(a, i0, j0, Qs, Gs, Ks, Vs, Ls, Ds, Ps, dSs);
        __syncthreads();
        mm_atb<B::RI, B::OJ, BB>(dv, Ps, BB + 4, Gs, B::PITCH);
        mm_atb<B::RI, B::OJ, BB>(dk, dSs, BB + 4, Qs, B::PITCH);
    }
    #pragma unroll
    for (int i = 0; i < B::RI; i++) {
        int64_t j = j0 + ty + 16 * i;
        if (j >= a.Tk)
            continue;
        #pragma unroll
        for (int e = 0; e < B::OJ; e++) {
            int c = out_col(e);
            if (c < a.D)
                a.dk[(bh * a.Tk + j) * a.D + c] = dk[i][e] * a.scale;
            if (c < a.Dv)
                a.dv[(bh * a.Tk + j) * a.Dv + c] = dv[i][e];
        }
    }
}

/* dq of one query tile: a sum over its visible key tiles. */
template <int HD> __global__ void __launch_bounds__(NT) flash_backward_q(Attn a) {
    typedef Bwd<HD> B;
    extern __shared__ float smem[];
    float *Ks = smem, *Vs = Ks + BB * B::PITCH, *Qs = Vs + BB * B::PITCH;
    float *Gs = Qs + BB * B::PITCH, *Ps = Gs + BB * B::PITCH, *dSs = Ps + BB * (BB + 4);
    float *Ls = dSs + BB * (BB + 4), *Ds = Ls + BB;
    const int tx = threadIdx.x & 15, ty = threadIdx.x >> 4;
    int64_t tiles_q = (a.Tq + BB - 1) / BB, bh = blockIdx.x / tiles_q;
    int64_t i0 = (tiles_q - 1 - blockIdx.x % tiles_q) * BB; // long rows first
    load_queries<HD>(a, bh, i0, Qs, Gs, Ls, Ds);
    float dq[B::RI][B::OJ] = {};
    int64_t last = i0 + BB < a.Tq ? i0 + BB - 1 : a.Tq - 1, kend = key_end(a, last);
    for (int64_t j0 = 0; j0 < kend; j0 += BB) {
        __syncthreads();
        load_tile<BB, HD>(Ks, a.k + bh * a.Tk * a.D, j0, a.Tk, a.D, 1.0f);
        load_tile<BB, HD>(Vs, a.v + bh * a.Tk * a.Dv, j0, a.Tk, a.Dv, 1.0f);
        __syncthreads();
        tile_probs<HD>(a, i0, j0, Qs, Gs, Ks, Vs, Ls, Ds, Ps, dSs);
        __syncthreads();
        mm_ab<B::RI, B::OJ, BB>(dq, dSs, BB + 4, Ks, B::PITCH);
    }
    #pragma unroll
    for (int i = 0; i < B::RI; i++) {
        int64_t row = i0 + ty + 16 * i;
        if (row >= a.Tq)
            continue;
        #pragma unroll
        for (int e = 0; e < B::OJ; e++)
            if (out_col(e) < a.D)
                a.dq[(bh * a.Tq + row) * a.D + out_col(e)] = dq[i][e] * a.scale;
    }
}

/* ---- row kernels: any head size ------------------------------------------- */

#define ROW_WARPS 8 // rows per block of 256 threads

/* One warp per query: keys in chunks of 32, lane j scoring key j0 + j;
   each lane owns output columns lane, lane + 32, ... (kept in out itself,
   which no other warp touches). */
__global__ void row_forward(Attn a) {
    int lane = threadIdx.x & 31;
    int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    if (r >= a.BH * a.Tq)
        return; // the whole warp: r is the same for its 32 lanes
    int64_t bh = r / a.Tq, i = r % a.Tq, kend = key_end(a, i);
    const float *q = a.q + r * a.D, *k = a.k + bh * a.Tk * a.D, *v = a.v + bh * a.Tk * a.Dv;
    float *o = a.o + r * a.Dv, m = -INFINITY, l = 0.0f;
    for (int64_t e = lane; e < a.Dv; e += 32)
        o[e] = 0.0f;
    for (int64_t j0 = 0; j0 < kend; j0 += 32) {
        int64_t j = j0 + lane;
        float s = -INFINITY;
        if (j < kend) {
            s = 0.0f;
            for (int64_t d = 0; d < a.D; d++)
                s += q[d] * k[j * a.D + d];
            s *= a.scale * LOG2E;
        }
        float m_new = fmaxf(m, warp_max(s));
        float shift = m_new == -INFINITY ? 0.0f : m_new, corr = exp2f(m - shift);
        float p = exp2f(s - shift);
        l = l * corr + warp_sum(p);
        m = m_new;
        int n = kend - j0 < 32 ? (int)(kend - j0) : 32;
        // Every lane runs every shuffle (a lane past Dv only skips the loads).
        for (int64_t e0 = 0; e0 < a.Dv; e0 += 32) {
            int64_t e = e0 + lane;
            float acc = e < a.Dv ? o[e] * corr : 0.0f;
            for (int jj = 0; jj < n; jj++) {
                float pj = __shfl_sync(0xffffffffu, p, jj);
                if (e < a.Dv)
                    acc += pj * v[(j0 + jj) * a.Dv + e];
            }
            if (e < a.Dv)
                o[e] = acc;
        }
    }
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int64_t e = lane; e < a.Dv; e += 32)
        o[e] *= inv;
    if (lane == 0)
        a.l[r] = l > 0.0f ? m * LN2 + logf(l) : -INFINITY;
}

/* s and dp of query i with key j as warp dot products; every lane gets
   p and ds. */
__device__ __forceinline__ void pair_grads(const Attn &a, int64_t bh, int64_t i, int64_t j,
                                           float *p, float *ds) {
    int lane = threadIdx.x & 31;
    const float *q = a.q + (bh * a.Tq + i) * a.D, *k = a.k + (bh * a.Tk + j) * a.D;
    const float *g = a.g + (bh * a.Tq + i) * a.Dv, *v = a.v + (bh * a.Tk + j) * a.Dv;
    float s = 0.0f, dp = 0.0f;
    for (int64_t d = lane; d < a.D; d += 32)
        s += q[d] * k[d];
    for (int64_t e = lane; e < a.Dv; e += 32)
        dp += g[e] * v[e];
    s = warp_sum(s);
    dp = warp_sum(dp);
    float L = a.lse[bh * a.Tq + i];
    *p = L == -INFINITY ? 0.0f : expf(s * a.scale - L);
    *ds = *p * (dp - a.dvec[bh * a.Tq + i]);
}

/* One warp per key: dv_j = sum_i p g_i, dk_j = scale sum_i ds q_i. */
__global__ void row_backward_kv(Attn a) {
    int lane = threadIdx.x & 31;
    int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    if (r >= a.BH * a.Tk)
        return;
    int64_t bh = r / a.Tk, j = r % a.Tk;
    float *dk = a.dk + r * a.D, *dv = a.dv + r * a.Dv;
    for (int64_t d = lane; d < a.D; d += 32)
        dk[d] = 0.0f;
    for (int64_t e = lane; e < a.Dv; e += 32)
        dv[e] = 0.0f;
    for (int64_t i = query_begin(a, j); i < a.Tq; i++) {
        float p, ds;
        pair_grads(a, bh, i, j, &p, &ds);
        const float *q = a.q + (bh * a.Tq + i) * a.D, *g = a.g + (bh * a.Tq + i) * a.Dv;
        for (int64_t e = lane; e < a.Dv; e += 32)
            dv[e] += p * g[e];
        for (int64_t d = lane; d < a.D; d += 32)
            dk[d] += ds * a.scale * q[d];
    }
}

/* One warp per query: dq_i = scale sum_j ds k_j. */
__global__ void row_backward_q(Attn a) {
    int lane = threadIdx.x & 31;
    int64_t r = (blockIdx.x * (int64_t)blockDim.x + threadIdx.x) >> 5;
    if (r >= a.BH * a.Tq)
        return;
    int64_t bh = r / a.Tq, i = r % a.Tq, kend = key_end(a, i);
    float *dq = a.dq + r * a.D;
    for (int64_t d = lane; d < a.D; d += 32)
        dq[d] = 0.0f;
    for (int64_t j = 0; j < kend; j++) {
        float p, ds;
        pair_grads(a, bh, i, j, &p, &ds);
        const float *k = a.k + (bh * a.Tk + j) * a.D;
        for (int64_t d = lane; d < a.D; d += 32)
            dq[d] += ds * a.scale * k[d];
    }
}

/* ---- dispatch ------------------------------------------------------------- */

/* Allow a kernel `bytes` of dynamic shared memory; false when the device
   cannot give that much (the row kernels then run). */
static bool smem_allows(const void *kernel, size_t bytes) {
    static int optin = -1;
    if (optin < 0 && cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0) !=
                         cudaSuccess) {
        cudaGetLastError();
        optin = 48 * 1024; // what every device gives without asking
    }
    if (bytes > (size_t)optin)
        return false;
    if (cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes) !=
        cudaSuccess) {
        cudaGetLastError();
        return false;
    }
    return true;
}

static Attn describe(const Tensor *q, const Tensor *k, const Tensor *v, int causal, float scale) {
    Attn a = {};
    a.BH = q->shape[0], a.Tq = q->shape[1], a.D = q->shape[2];
    a.Tk = k->shape[1], a.Dv = v->shape[2];
    a.q = tensor_data(q), a.k = tensor_data(k), a.v = tensor_data(v);
    a.causal = causal, a.scale = scale;
    return a;
}

static unsigned row_blocks(int64_t rows) { return (unsigned)((rows + ROW_WARPS - 1) / ROW_WARPS); }

/* 1 for the head-size bucket 64, 2 for 128, 0 for the row kernels. */
static int bucket(const Attn &a) {
    int64_t hd = a.D > a.Dv ? a.D : a.Dv;
    return hd <= 64 ? 1 : hd <= 128 ? 2 : 0;
}

template <int HD, int BQ, int BK> static bool forward_tiled(const Attn &a) {
    static int allowed = -1; // asked once per kernel
    size_t bytes = Fwd<HD, BQ, BK>::SMEM;
    if (allowed < 0)
        allowed = smem_allows((const void *)flash_forward<HD, BQ, BK>, bytes);
    if (!allowed)
        return false;
    int64_t blocks = a.BH * ((a.Tq + BQ - 1) / BQ);
    flash_forward<HD, BQ, BK><<<(unsigned)blocks, NT, bytes>>>(a);
    return true;
}

extern "C" int cuda_attention(Tensor *out, Tensor *lse, const Tensor *q, const Tensor *k,
                              const Tensor *v, int causal, float scale) {
    Attn a = describe(q, k, v, causal, scale);
    a.o = tensor_data(out), a.l = tensor_data(lse);
    if (a.BH * a.Tq == 0)
        return AT_OK;
    if (a.BH * ((a.Tq + 31) / 32) > INT32_MAX || row_blocks(a.BH * a.Tq) > INT32_MAX)
        return at_error(AT_EINVAL, "attention: %lld heads of %lld queries is too many for one "
                        "launch", (long long)a.BH, (long long)a.Tq);
    int b = bucket(a);
    bool done = (b == 1 && forward_tiled<64, 64, 64>(a)) || (b == 2 && forward_tiled<128, 64, 32>(a));
    if (!done)
        row_forward<<<row_blocks(a.BH * a.Tq), 32 * ROW_WARPS>>>(a);
    return cuda_launched("attention");
}

template <int HD> static bool backward_tiled(const Attn &a) {
    static int allowed = -1;
    size_t bytes = Bwd<HD>::SMEM;
    if (allowed < 0)
        allowed = smem_allows((const void *)flash_backward_kv<HD>, bytes) &&
                  smem_allows((const void *)flash_backward_q<HD>, bytes);
    if (!allowed)
        return false;
    // A grid of 0 blocks is a launch error: skip a side with no rows.
    if (a.Tk > 0)
        flash_backward_kv<HD><<<(unsigned)(a.BH * ((a.Tk + BB - 1) / BB)), NT, bytes>>>(a);
    if (a.Tq > 0)
        flash_backward_q<HD><<<(unsigned)(a.BH * ((a.Tq + BB - 1) / BB)), NT, bytes>>>(a);
    return true;
}

extern "C" int cuda_attention_backward(Tensor *dq, Tensor *dk, Tensor *dv, const Tensor *g,
                                       const Tensor *q, const Tensor *k, const Tensor *v,
                                       const Tensor *out, const Tensor *lse, int causal,
                                       float scale) {
    Attn a = describe(q, k, v, causal, scale);
    a.g = tensor_data(g), a.out = tensor_data(out), a.lse = tensor_data(lse);
    a.dq = tensor_data(dq), a.dk = tensor_data(dk), a.dv = tensor_data(dv);
    if (a.BH == 0 || (a.Tq == 0 && a.Tk == 0))
        return AT_OK;
    int64_t longest = a.Tq > a.Tk ? a.Tq : a.Tk;
    if (a.BH * ((longest + BB - 1) / BB) > INT32_MAX || row_blocks(a.BH * longest) > INT32_MAX)
        return at_error(AT_EINVAL, "attention backward: %lld heads of %lld queries is too many "
                        "for one launch", (long long)a.BH, (long long)a.Tq);
    float *dvec = NULL;
    if (cuda_scratch((void **)&dvec, (size_t)(a.BH * a.Tq + 1) * sizeof(float),
                     "attention backward"))
        return at_errcode();
    a.dvec = dvec;
    if (a.Tq > 0)
        row_dot_kernel<<<row_blocks(a.BH * a.Tq), 32 * ROW_WARPS>>>(dvec, a.g, a.out,
                                                                    a.BH * a.Tq, a.Dv);
    int b = bucket(a);
    bool done = (b == 1 && backward_tiled<64>(a)) || (b == 2 && backward_tiled<128>(a));
    if (!done) {
        if (a.Tk > 0)
            row_backward_kv<<<row_blocks(a.BH * a.Tk), 32 * ROW_WARPS>>>(a);
        if (a.Tq > 0)
            row_backward_q<<<row_blocks(a.BH * a.Tq), 32 * ROW_WARPS>>>(a);
    }
    int st = cuda_launched("attention backward");
    cuda_scratch_release(dvec);
    return st;
}
