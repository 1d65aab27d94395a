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
 * Each task owns one head, so it can add into dq, dk and dv with no race.
 *
 * Both directions are made of two small matrix products on tiles (tile.h):
 * "dot" against a tile packed transposed, and "axpy" of rows of weights
 * times rows of a matrix. Rows are padded to a multiple of RQ with rows
 * whose weights are zero, so no block has a ragged edge.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"
#include "parallel.h"
#include "rows.h"
#include "tile.h"
#include "vmath.h"

#define BQ 64        // queries per tile (a multiple of RQ)
#define BK TILE_COLS // keys per tile
#define RQ TILE_ROWS // rows per register block

typedef struct Attn {
    const float *q, *k, *v, *out, *lse, *g;
    float *o, *l, *dq, *dk, *dv;
    const float *kt; // forward: every key tile packed transposed, (BH, tiles_k, D, BK)
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

/* kt (D, BK) = the n rows of k (n, D) starting at k, transposed; columns
   past n are zero so the blocks below may read a whole block. */
static void pack_t(float *kt, const float *k, int64_t n, int64_t D) {
    for (int64_t d = 0; d < D; d++)
        for (int64_t j = n; j < BK; j++)
            kt[d * BK + j] = 0.0f;
    for (int64_t j = 0; j < n; j++)
        for (int64_t d = 0; d < D; d++)
            kt[d * BK + j] = k[j * D + d];
}

/* dst (rows, width) = the n rows of src, then zero rows up to `rows`. */
static void pack_rows(float *dst, const float *src, int64_t n, int64_t rows, int64_t width) {
    memcpy(dst, src, (size_t)(n * width) * sizeof(float));
    memset(dst + n * width, 0, (size_t)((rows - n) * width) * sizeof(float));
}

/* Keys of the tile at j0 (n of them) that query i sees. */
static int64_t visible(const Attn *a, int64_t i, int64_t j0, int64_t n) {
    int64_t vis = key_end(a, i) - j0;
    return vis < 0 ? 0 : vis < n ? vis : n;
}

/* ---- forward -------------------------------------------------------------- */

typedef struct Scratch {
    float *buf, *qp, *s, *acc, *m, *l;
} Scratch;

static int scratch_new(Scratch *w, const Attn *a) {
    size_t n = (size_t)(BQ * a->D + BQ * BK + BQ * a->Dv + 2 * BQ);
    w->buf = malloc(n * sizeof(float));
    if (!w->buf)
        return at_error(AT_ENOMEM, "attention: out of memory for a tile");
    w->qp = w->buf, w->s = w->qp + BQ * a->D;
    w->acc = w->s + BQ * BK, w->m = w->acc + BQ * a->Dv, w->l = w->m + BQ;
    return AT_OK;
}

/* Key tiles are packed once, not once per query tile that reads them. */
static int pack_task(void *ctx, int64_t begin, int64_t end) {
    const Attn *a = ctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t bh = t / a->tiles_k, j0 = (t % a->tiles_k) * BK;
        int64_t n = a->Tk - j0 < BK ? a->Tk - j0 : BK;
        pack_t((float *)a->kt + t * a->D * BK, a->k + (bh * a->Tk + j0) * a->D, n, a->D);
    }
    return AT_OK;
}

/* Fold the scores s (rows x BK) of the key tile at j0 into the running
   state of queries i0..: mask, rescale, exponentiate; s becomes weights. */
static void online_softmax(const Attn *a, Scratch *w, int64_t i0, int64_t nq, int64_t j0,
                           int64_t n) {
    for (int64_t r = 0; r < nq; r++) {
        float *s = w->s + r * BK, *acc = w->acc + r * a->Dv;
        int64_t vis = visible(a, i0 + r, j0, n);
        if (vis == 0) { // the whole tile is in this query's future
            memset(s, 0, BK * sizeof(float));
            continue;
        }
        for (int64_t j = vis; j < BK; j++)
            s[j] = -INFINITY; // exp gives 0: no weight
        float m = row_max(s, vis, w->m[r]);
        float corr = f_exp(w->m[r] - m); // m_old = -inf gives 0: nothing to rescale
        row_scale(acc, a->Dv, corr);
        w->l[r] = w->l[r] * corr + row_exp_sum(s, s, BK, m);
        w->m[r] = m;
    }
    for (int64_t r = nq; r < (nq + RQ - 1) / RQ * RQ; r++)
        memset(w->s + r * BK, 0, BK * sizeof(float)); // padding rows weigh nothing
}

static void forward_tile(const Attn *a, Scratch *w, int64_t bh, int64_t i0) {
    int64_t nq = a->Tq - i0 < BQ ? a->Tq - i0 : BQ, rows = (nq + RQ - 1) / RQ * RQ;
    const float *v = a->v + bh * a->Tk * a->Dv;
    pack_rows(w->qp, a->q + (bh * a->Tq + i0) * a->D, nq, rows, a->D);
    memset(w->acc, 0, (size_t)(rows * a->Dv) * sizeof(float));
    for (int64_t r = 0; r < nq; r++)
        w->m[r] = -INFINITY, w->l[r] = 0.0f;
    int64_t last = key_end(a, i0 + nq - 1); // later tiles are all in the future
    for (int64_t j0 = 0; j0 < last; j0 += BK) {
        int64_t n = a->Tk - j0 < BK ? a->Tk - j0 : BK;
        const float *kt = a->kt + (bh * a->tiles_k + j0 / BK) * a->D * BK;
        tile_dot(w->s, w->qp, a->D, kt, rows, n, a->D, a->scale);
        online_softmax(a, w, i0, nq, j0, n);
        tile_axpy(w->acc, a->Dv, w->s, BK, 1, v + j0 * a->Dv, a->Dv, rows, n, a->Dv);
    }
    for (int64_t r = 0; r < nq; r++) {
        float *o = a->o + (bh * a->Tq + i0 + r) * a->Dv;
        float inv = w->l[r] > 0.0f ? 1.0f / w->l[r] : 0.0f;
        for (int64_t e = 0; e < a->Dv; e++)
            o[e] = w->acc[r * a->Dv + e] * inv;
        a->l[bh * a->Tq + i0 + r] = w->l[r] > 0.0f ? w->m[r] + logf(w->l[r]) : -INFINITY;
    }
}

static int forward_task(void *ctx, int64_t begin, int64_t end) {
    const Attn *a = ctx;
    Scratch w = {0};
    if (scratch_new(&w, a))
        return AT_ENOMEM;
    int st = AT_OK;
    for (int64_t t = begin; t < end && !st; t++) {
        forward_tile(a, &w, t / a->tiles_q, (t % a->tiles_q) * BQ);
        st = at_check_interrupt("attention") ? AT_EINTR : AT_OK;
    }
    free(w.buf);
    return st;
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
    float *kt = malloc((size_t)(a.BH * a.tiles_k * a.D * BK) * sizeof(float) + 1);
    if (!kt)
        return at_error(AT_ENOMEM, "attention: out of memory for the packed keys");
    a.kt = kt;
    int st = parallel_for(a.BH * a.tiles_k, 1, pack_task, &a);
    if (!st)
        st = parallel_for(a.BH * a.tiles_q, 1, forward_task, &a);
    free(kt);
    return st;
}

/* ---- backward ------------------------------------------------------------- */

/* One head's padded copies and the per-key-tile sums: q, g (Tp rows, Tp a
   multiple of BQ), dq (Tp x D), lse with +inf for rows that must weigh
   nothing, D_i = g_i . out_i; then a key tile and a value tile packed
   transposed, the key tile's dk and dv, and the scores of a tile pair. */
typedef struct Head {
    float *buf, *q, *g, *dq, *lse, *di, *kt, *vt, *dk, *dv, *p, *ds;
    int64_t Tp;
} Head;

static int head_new(Head *h, const Attn *a) {
    h->Tp = a->tiles_q * BQ;
    size_t n = (size_t)(h->Tp * (2 * a->D + a->Dv + 2) + (a->D + a->Dv) * BK +
                        BK * (a->D + a->Dv) + 2 * BQ * BK);
    h->buf = malloc(n * sizeof(float));
    if (!h->buf)
        return at_error(AT_ENOMEM, "attention backward: out of memory for a head");
    h->q = h->buf, h->g = h->q + h->Tp * a->D, h->dq = h->g + h->Tp * a->Dv;
    h->lse = h->dq + h->Tp * a->D, h->di = h->lse + h->Tp;
    h->kt = h->di + h->Tp, h->vt = h->kt + a->D * BK, h->dk = h->vt + a->Dv * BK;
    h->dv = h->dk + BK * a->D, h->p = h->dv + BK * a->Dv, h->ds = h->p + BQ * BK;
    return AT_OK;
}

static void head_load(Head *h, const Attn *a, int64_t bh) {
    const float *q = a->q + bh * a->Tq * a->D, *g = a->g + bh * a->Tq * a->Dv;
    const float *o = a->out + bh * a->Tq * a->Dv, *lse = a->lse + bh * a->Tq;
    pack_rows(h->q, q, a->Tq, h->Tp, a->D);
    pack_rows(h->g, g, a->Tq, h->Tp, a->Dv);
    memset(h->dq, 0, (size_t)(h->Tp * a->D) * sizeof(float));
    for (int64_t i = 0; i < h->Tp; i++) {
        // A query with no visible key (lse = -inf) or a padding row: p = 0.
        h->lse[i] = i < a->Tq && lse[i] != -INFINITY ? lse[i] : INFINITY;
        float di = 0.0f;
        for (int64_t e = 0; i < a->Tq && e < a->Dv; e++)
            di += g[i * a->Dv + e] * o[i * a->Dv + e];
        h->di[i] = di;
    }
}

/* p and ds = scale * p (dp - D) for queries i0..i0+BQ against the packed
   key tile at j0 (n keys); entries past a query's visible keys are 0. */
static void tile_grads(const Attn *a, Head *h, int64_t i0, int64_t j0, int64_t n) {
    tile_dot(h->p, h->q + i0 * a->D, a->D, h->kt, BQ, n, a->D, a->scale);
    tile_dot(h->ds, h->g + i0 * a->Dv, a->Dv, h->vt, BQ, n, a->Dv, 1.0f);
    for (int64_t r = 0; r < BQ; r++) {
        float *p = h->p + r * BK, *ds = h->ds + r * BK;
        int64_t vis = i0 + r < a->Tq ? visible(a, i0 + r, j0, n) : 0;
        // Past the visible keys (and past the columns the products wrote,
        // which hold anything): no weight, no gradient.
        for (int64_t j = vis; j < BK; j++)
            p[j] = -INFINITY, ds[j] = 0.0f;
        row_exp_sum(p, p, BK, h->lse[i0 + r]);
        for (int64_t j = 0; j < vis; j++)
            ds[j] = a->scale * p[j] * (ds[j] - h->di[i0 + r]);
    }
}

/* Every key tile of head bh against every query tile that sees it. */
static void backward_head(const Attn *a, Head *h, int64_t bh) {
    head_load(h, a, bh);
    const float *k = a->k + bh * a->Tk * a->D, *v = a->v + bh * a->Tk * a->Dv;
    for (int64_t j0 = 0; j0 < a->Tk; j0 += BK) {
        int64_t n = a->Tk - j0 < BK ? a->Tk - j0 : BK;
        pack_t(h->kt, k + j0 * a->D, n, a->D);
        pack_t(h->vt, v + j0 * a->Dv, n, a->Dv);
        memset(h->dk, 0, (size_t)(BK * a->D) * sizeof(float));
        memset(h->dv, 0, (size_t)(BK * a->Dv) * sizeof(float));
        // The first query that sees key j0; earlier query tiles see none of the tile.
        int64_t first = a->causal ? j0 - (a->Tk - a->Tq) : 0;
        first = first < 0 ? 0 : first / BQ * BQ;
        for (int64_t i0 = first; i0 < a->Tq; i0 += BQ) {
            tile_grads(a, h, i0, j0, n);
            int64_t keys = (n + RQ - 1) / RQ * RQ; // rows of p^T: padding keys have p = 0
            tile_axpy(h->dv, a->Dv, h->p, 1, BK, h->g + i0 * a->Dv, a->Dv, keys, BQ, a->Dv);
            tile_axpy(h->dk, a->D, h->ds, 1, BK, h->q + i0 * a->D, a->D, keys, BQ, a->D);
            tile_axpy(h->dq + i0 * a->D, a->D, h->ds, BK, 1, k + j0 * a->D, a->D, BQ, n, a->D);
        }
        memcpy(a->dk + (bh * a->Tk + j0) * a->D, h->dk, (size_t)(n * a->D) * sizeof(float));
        memcpy(a->dv + (bh * a->Tk + j0) * a->Dv, h->dv, (size_t)(n * a->Dv) * sizeof(float));
    }
    memcpy(a->dq + bh * a->Tq * a->D, h->dq, (size_t)(a->Tq * a->D) * sizeof(float));
}

static int backward_task(void *ctx, int64_t begin, int64_t end) {
    const Attn *a = ctx;
    Head h = {0};
    if (head_new(&h, a))
        return AT_ENOMEM;
    int st = AT_OK;
    for (int64_t bh = begin; bh < end && !st; bh++) {
        backward_head(a, &h, bh);
        st = at_check_interrupt("attention backward") ? AT_EINTR : AT_OK;
    }
    free(h.buf);
    return st;
}

int cpu_attention_backward(Tensor *dq, Tensor *dk, Tensor *dv, const Tensor *g, const Tensor *q,
                           const Tensor *k, const Tensor *v, const Tensor *out, const Tensor *lse,
                           int causal, float scale) {
    Attn a = describe(q, k, v, causal, scale);
    a.g = tensor_data(g), a.out = tensor_data(out), a.lse = tensor_data(lse);
    a.dq = tensor_data(dq), a.dk = tensor_data(dk), a.dv = tensor_data(dv);
    return parallel_for(a.BH, 1, backward_task, &a);
}
