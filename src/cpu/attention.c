/*
 * attention.c: fused scaled dot-product attention on the CPU, forward and
 * backward, without ever holding a T x T matrix.
 *
 * Shapes (all contiguous): q (BH, Tq, D), k (BH, Tk, D), v (BH, Tk, Dv),
 * out (BH, Tq, Dv), lse (BH, Tq) = log sum_j exp(s_ij), kept for backward.
 * s_ij = scale * q_i . k_j; with causal, key j is visible to query i when
 * j <= i + (Tk - Tq) (aligned to the end, as a decoding step needs).
 *
 * Forward (online softmax, Milakov & Gimelshein 2018; FlashAttention's
 * tiling): each task takes BQ queries of one head and walks the keys in
 * tiles of BK, keeping per query the running max m, the running sum l of
 * exp(s - m) and the running weighted sum of values; a new tile rescales
 * them by exp(m_old - m_new). Key tiles wholly in the causal future are
 * skipped. A query with no visible key gets out = 0 and lse = -inf.
 *
 * Backward recomputes p_ij = exp(s_ij - lse_i) tile by tile (FlashAttention
 * 2): with D_i = g_i . out_i and dp_ij = g_i . v_j,
 *   dv_j = sum_i p_ij g_i,  ds_ij = p_ij (dp_ij - D_i),
 *   dk_j = scale sum_i ds_ij q_i,  dq_i = scale sum_j ds_ij k_j.
 * It runs as two passes so no two threads write one row: one over key
 * tiles (dk, dv), one over query tiles (dq).
 *
 * Every inner loop is an axpy over a contiguous row (the key and value
 * tiles are packed transposed for that), which the compiler vectorises;
 * there are no float reductions in the hot loops.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"
#include "parallel.h"
#include "vmath.h"

#define BQ 32
#define BK 64

typedef struct Attn {
    const float *q, *k, *v, *out, *lse, *g;
    float *o, *l, *dq, *dk, *dv;
    int64_t BH, Tq, Tk, D, Dv, tiles_q, tiles_k;
    int causal;
    float scale;
} Attn;

/* Last key visible to query i (exclusive bound), all keys without causal. */
static int64_t key_end(const Attn *a, int64_t i) {
    if (!a->causal)
        return a->Tk;
    int64_t e = i + (a->Tk - a->Tq) + 1;
    return e < 0 ? 0 : e > a->Tk ? a->Tk : e;
}

#define RB 16 // sums per block: two v8


/* s[j] = exp(s[j] - m) for j < n (all <= 0), returning their sum. */
HOT static float exp_shift(float *restrict s, int64_t n, float m) {
    v8 sum = {0}, x;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        LOAD8(x, s + j);
        x = v8_exp(x - m);
        STORE8(s + j, x);
        sum += x;
    }
    float total = 0.0f;
    for (int u = 0; u < 8; u++)
        total += sum[u];
    for (; j < n; j++) {
        s[j] = f_exp(s[j] - m);
        total += s[j];
    }
    return total;
}

/* kt (D, BK) = the n rows of k (n, D) starting at k, transposed; columns
   past n are zero so the blocked loops below may read a whole block. */
static void pack_t(float *kt, const float *k, int64_t n, int64_t D) {
    for (int64_t d = 0; d < D; d++)
        for (int64_t j = n; j < BK; j++)
            kt[d * BK + j] = 0.0f;
    for (int64_t j = 0; j < n; j++)
        for (int64_t d = 0; d < D; d++)
            kt[d * BK + j] = k[j * D + d];
}

/* s[0..n) = scale * q . kt[:, j] (kt packed with row stride BK), RB keys
   at a time so their sums stay in registers across the D loop. */
HOT static void scores(float *restrict s, const float *restrict q, const float *restrict kt,
                       int64_t n, int64_t D, float scale) {
    for (int64_t j0 = 0; j0 < n; j0 += RB) {
        v8 a0 = {0}, a1 = {0}, x0, x1;
        for (int64_t d = 0; d < D; d++) {
            const float *row = kt + d * BK + j0;
            LOAD8(x0, row);
            LOAD8(x1, row + 8);
            a0 += q[d] * x0;
            a1 += q[d] * x1;
        }
        float sums[RB];
        a0 *= scale;
        a1 *= scale;
        STORE8(sums, a0);
        STORE8(sums + 8, a1);
        int64_t m = n - j0 < RB ? n - j0 : RB;
        memcpy(s + j0, sums, (size_t)m * sizeof(float));
    }
}

/* acc[0..Dv) += sum_j p[j] * v[j, :], RB columns at a time in registers. */
HOT static void weigh(float *restrict acc, const float *restrict p, const float *restrict v,
                      int64_t n, int64_t Dv) {
    int64_t e0 = 0;
    for (; e0 + RB <= Dv; e0 += RB) {
        v8 a0, a1, x0, x1;
        LOAD8(a0, acc + e0);
        LOAD8(a1, acc + e0 + 8);
        for (int64_t j = 0; j < n; j++) {
            const float *vj = v + j * Dv + e0;
            LOAD8(x0, vj);
            LOAD8(x1, vj + 8);
            a0 += p[j] * x0;
            a1 += p[j] * x1;
        }
        STORE8(acc + e0, a0);
        STORE8(acc + e0 + 8, a1);
    }
    for (; e0 < Dv; e0++)
        for (int64_t j = 0; j < n; j++)
            acc[e0] += p[j] * v[j * Dv + e0];
}

typedef struct RowState {
    float m, l;
} RowState;

/* Fold one key tile (keys j0..j0+n) into query i's running state. */
static void fold_tile(const Attn *a, int64_t i, int64_t j0, int64_t n, const float *qi,
                      const float *kt, const float *vtile, float *acc, RowState *st, float *s) {
    int64_t visible = key_end(a, i) - j0;
    n = visible < n ? visible : n;
    if (n <= 0)
        return;
    scores(s, qi, kt, n, a->D, a->scale);
    float m = st->m;
    for (int64_t j = 0; j < n; j++)
        m = s[j] > m ? s[j] : m;
    float corr = expf(st->m - m); // m_old = -inf gives 0: nothing to rescale
    st->l *= corr;
    for (int64_t e = 0; e < a->Dv; e++)
        acc[e] *= corr;
    st->l += exp_shift(s, n, m);
    weigh(acc, s, vtile, n, a->Dv);
    st->m = m;
}

static int forward_task(void *ctx, int64_t begin, int64_t end) {
    const Attn *a = ctx;
    float *buf = malloc(((size_t)a->D * BK + BK + (size_t)BQ * a->Dv) * sizeof(float));
    if (!buf)
        return at_error(AT_ENOMEM, "attention: out of memory for a tile");
    float *kt = buf, *s = kt + a->D * BK, *acc = s + BK;
    for (int64_t t = begin; t < end; t++) {
        int64_t bh = t / a->tiles_q, i0 = (t % a->tiles_q) * BQ;
        int64_t nq = a->Tq - i0 < BQ ? a->Tq - i0 : BQ;
        const float *q = a->q + (bh * a->Tq + i0) * a->D, *k = a->k + bh * a->Tk * a->D;
        const float *v = a->v + bh * a->Tk * a->Dv;
        RowState st[BQ];
        for (int64_t r = 0; r < nq; r++)
            st[r] = (RowState){-INFINITY, 0.0f};
        memset(acc, 0, (size_t)nq * a->Dv * sizeof(float));
        int64_t last = key_end(a, i0 + nq - 1); // later tiles are all in the future
        for (int64_t j0 = 0; j0 < last; j0 += BK) {
            int64_t n = a->Tk - j0 < BK ? a->Tk - j0 : BK;
            pack_t(kt, k + j0 * a->D, n, a->D);
            for (int64_t r = 0; r < nq; r++)
                fold_tile(a, i0 + r, j0, n, q + r * a->D, kt, v + j0 * a->Dv, acc + r * a->Dv,
                          &st[r], s);
        }
        for (int64_t r = 0; r < nq; r++) {
            float *o = a->o + (bh * a->Tq + i0 + r) * a->Dv;
            float inv = st[r].l > 0.0f ? 1.0f / st[r].l : 0.0f;
            for (int64_t e = 0; e < a->Dv; e++)
                o[e] = acc[r * a->Dv + e] * inv;
            a->l[bh * a->Tq + i0 + r] = st[r].l > 0.0f ? st[r].m + logf(st[r].l) : -INFINITY;
        }
        if (at_check_interrupt("attention")) {
            free(buf);
            return AT_EINTR;
        }
    }
    free(buf);
    return AT_OK;
}

static Attn describe(const Tensor *q, const Tensor *k, const Tensor *v, int causal, float scale) {
    Attn a = {0};
    a.BH = q->shape[0], a.Tq = q->shape[1], a.D = q->shape[2];
    a.Tk = k->shape[1], a.Dv = v->shape[2];
    a.q = tensor_data(q), a.k = tensor_data(k), a.v = tensor_data(v);
    a.causal = causal, a.scale = scale;
    a.tiles_q = (a.Tq + BQ - 1) / BQ, a.tiles_k = (a.Tk + BK - 1) / BK;
    return a;
}

int cpu_attention(Tensor *out, Tensor *lse, const Tensor *q, const Tensor *k, const Tensor *v,
                  int causal, float scale) {
    Attn a = describe(q, k, v, causal, scale);
    a.o = tensor_data(out), a.l = tensor_data(lse);
    return parallel_for(a.BH * a.tiles_q, 1, forward_task, &a);
}

/* ---- backward ------------------------------------------------------------- */

/* p[0..n) for query i against keys j0.. (0 past the causal edge). */
static int64_t probs(const Attn *a, int64_t bh, int64_t i, int64_t j0, int64_t n, const float *kt,
                     float *p) {
    int64_t visible = key_end(a, i) - j0;
    n = visible < n ? (visible > 0 ? visible : 0) : n;
    float lse = a->lse[bh * a->Tq + i];
    if (n == 0 || lse == -INFINITY)
        return 0;
    scores(p, a->q + (bh * a->Tq + i) * a->D, kt, n, a->D, a->scale);
    exp_shift(p, n, lse);
    return n;
}

/* ds[0..n) = p (g_i . v_j - D_i), with vt the value tile packed (Dv, BK). */
static void dscores(const Attn *a, int64_t bh, int64_t i, const float *vt, const float *p,
                    int64_t n, float *ds) {
    const float *gi = a->g + (bh * a->Tq + i) * a->Dv, *oi = a->out + (bh * a->Tq + i) * a->Dv;
    float Di = 0.0f;
    for (int64_t e = 0; e < a->Dv; e++)
        Di += gi[e] * oi[e];
    scores(ds, gi, vt, n, a->Dv, 1.0f); // dp_ij = g_i . v_j, the same product as q . k
    for (int64_t j = 0; j < n; j++)
        ds[j] = p[j] * (ds[j] - Di);
}

/* y[0..n) += alpha * x[0..n) */
HOT static void axpy(float *restrict y, float alpha, const float *restrict x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8 xv, yv;
        LOAD8(xv, x + i);
        LOAD8(yv, y + i);
        yv += alpha * xv;
        STORE8(y + i, yv);
    }
    for (; i < n; i++)
        y[i] += alpha * x[i];
}

/* The backward pass's scratch: a key tile and a value tile packed
   transposed, and the probabilities and score gradients of one query. */
typedef struct Tiles {
    float *buf, *kt, *vt, *p, *ds;
} Tiles;

static int tiles_new(Tiles *t, const Attn *a) {
    t->buf = malloc(((size_t)(a->D + a->Dv) * BK + 2 * BK) * sizeof(float));
    if (!t->buf)
        return at_error(AT_ENOMEM, "attention backward: out of memory for a tile");
    t->kt = t->buf, t->vt = t->kt + a->D * BK, t->p = t->vt + a->Dv * BK, t->ds = t->p + BK;
    return AT_OK;
}

/* Pack keys and values j0..j0+n of head bh. */
static void tiles_pack(Tiles *t, const Attn *a, int64_t bh, int64_t j0, int64_t n) {
    pack_t(t->kt, a->k + (bh * a->Tk + j0) * a->D, n, a->D);
    pack_t(t->vt, a->v + (bh * a->Tk + j0) * a->Dv, n, a->Dv);
}

/* dk, dv for one key tile of one head: a sum over every query. */
static int keys_task(void *ctx, int64_t begin, int64_t end) {
    const Attn *a = ctx;
    Tiles tl;
    if (tiles_new(&tl, a))
        return AT_ENOMEM;
    float *kt = tl.kt, *vt = tl.vt, *p = tl.p, *ds = tl.ds;
    for (int64_t t = begin; t < end; t++) {
        int64_t bh = t / a->tiles_k, j0 = (t % a->tiles_k) * BK;
        int64_t n = a->Tk - j0 < BK ? a->Tk - j0 : BK;
        tiles_pack(&tl, a, bh, j0, n);
        float *dk = a->dk + (bh * a->Tk + j0) * a->D, *dv = a->dv + (bh * a->Tk + j0) * a->Dv;
        memset(dk, 0, (size_t)n * a->D * sizeof(float));
        memset(dv, 0, (size_t)n * a->Dv * sizeof(float));
        for (int64_t i = 0; i < a->Tq; i++) {
            int64_t m = probs(a, bh, i, j0, n, kt, p);
            if (m == 0)
                continue;
            dscores(a, bh, i, vt, p, m, ds);
            const float *gi = a->g + (bh * a->Tq + i) * a->Dv, *qi = a->q + (bh * a->Tq + i) * a->D;
            for (int64_t j = 0; j < m; j++) {
                axpy(dv + j * a->Dv, p[j], gi, a->Dv);
                axpy(dk + j * a->D, ds[j] * a->scale, qi, a->D);
            }
        }
        if (at_check_interrupt("attention backward")) {
            free(tl.buf);
            return AT_EINTR;
        }
    }
    free(tl.buf);
    return AT_OK;
}

/* dq for one query tile of one head: a sum over the visible keys. */
static int queries_task(void *ctx, int64_t begin, int64_t end) {
    const Attn *a = ctx;
    Tiles tl;
    if (tiles_new(&tl, a))
        return AT_ENOMEM;
    float *kt = tl.kt, *vt = tl.vt, *p = tl.p, *ds = tl.ds;
    for (int64_t t = begin; t < end; t++) {
        int64_t bh = t / a->tiles_q, i0 = (t % a->tiles_q) * BQ;
        int64_t nq = a->Tq - i0 < BQ ? a->Tq - i0 : BQ;
        float *dq = a->dq + (bh * a->Tq + i0) * a->D;
        memset(dq, 0, (size_t)nq * a->D * sizeof(float));
        int64_t last = key_end(a, i0 + nq - 1);
        for (int64_t j0 = 0; j0 < last; j0 += BK) {
            int64_t n = a->Tk - j0 < BK ? a->Tk - j0 : BK;
            const float *k = a->k + (bh * a->Tk + j0) * a->D;
            tiles_pack(&tl, a, bh, j0, n);
            for (int64_t r = 0; r < nq; r++) {
                int64_t m = probs(a, bh, i0 + r, j0, n, kt, p);
                if (m == 0)
                    continue;
                dscores(a, bh, i0 + r, vt, p, m, ds);
                for (int64_t j = 0; j < m; j++)
                    axpy(dq + r * a->D, ds[j] * a->scale, k + j * a->D, a->D);
            }
        }
        if (at_check_interrupt("attention backward")) {
            free(tl.buf);
            return AT_EINTR;
        }
    }
    free(tl.buf);
    return AT_OK;
}

int cpu_attention_backward(Tensor *dq, Tensor *dk, Tensor *dv, const Tensor *g, const Tensor *q,
                           const Tensor *k, const Tensor *v, const Tensor *out, const Tensor *lse,
                           int causal, float scale) {
    Attn a = describe(q, k, v, causal, scale);
    a.g = tensor_data(g), a.out = tensor_data(out), a.lse = tensor_data(lse);
    a.dq = tensor_data(dq), a.dk = tensor_data(dk), a.dv = tensor_data(dv);
    int st = parallel_for(a.BH * a.tiles_k, 1, keys_task, &a);
    return st ? st : parallel_for(a.BH * a.tiles_q, 1, queries_task, &a);
}
