/*
 * nn.c: the CPU kernels of the neural-network primitives: masked fill,
 * embedding lookup, layer norm and cross-entropy, each with its backward.
 *
 * Layer norm and cross-entropy work row by row, rows shared by the thread
 * pool, the row statistics (mean, variance, log-sum-exp) summed in eight
 * float lanes: eight partial sums of at most a few thousand terms each keep
 * the error near 1e-7 relative, and the lanes vectorise.
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"
#include "iter.h"
#include "parallel.h"
#include "rows.h"
#include "vmath.h"

int cpu_masked_fill(Tensor *out, const Tensor *x, const Tensor *keep, float value) {
    const Tensor *ops[3] = {out, x, keep};
    Iter it;
    iter_init(&it, 3, ops);
    int64_t sx = iter_step(&it, 1), sk = iter_step(&it, 2);
    for (int64_t r = 0; r < it.rows; r++) {
        float *p[3];
        iter_row(&it, r, p);
        for (int64_t i = 0; i < it.inner; i++)
            p[0][i] = p[2][i * sk] != 0.0f ? p[1][i * sx] : value;
    }
    return AT_OK;
}

int cpu_embedding(Tensor *out, const Tensor *table, const int64_t *ids, int64_t n) {
    int64_t D = table->shape[1];
    const float *tab = tensor_data(table);
    float *o = tensor_data(out);
    for (int64_t i = 0; i < n; i++)
        memcpy(o + i * D, tab + ids[i] * D, (size_t)D * sizeof(float));
    return AT_OK;
}

int cpu_embedding_backward(Tensor *dtable, const Tensor *g, const int64_t *ids, int64_t n) {
    int64_t D = dtable->shape[1];
    const float *gd = tensor_data(g);
    float *dt = tensor_data(dtable);
    for (int64_t i = 0; i < n; i++) // a repeated id gets every row's gradient
        for (int64_t j = 0; j < D; j++)
            dt[ids[i] * D + j] += gd[i * D + j];
    return AT_OK;
}

/* Rows per chunk of the row-parallel kernels. */
#define ROWS 16

/* ---- layer norm ------------------------------------------------------------ */

typedef struct Norm {
    const float *x, *w, *b, *g, *mean, *rstd;
    float *out, *mean_out, *rstd_out, *dx, *partial; // partial: (chunks, 2C) dw, db sums
    int64_t N, C;
    float eps;
} Norm;

HOT static void norm_row(const Norm *p, int64_t r) {
    const float *x = p->x + r * p->C;
    float *o = p->out + r * p->C;
    int64_t C = p->C;
    float m = row_sum(x, C) / (float)C;
    float s = 1.0f / sqrtf(row_sq_dev(x, C, m) / (float)C + p->eps);
    p->mean_out[r] = m, p->rstd_out[r] = s;
    for (int64_t j = 0; j < C; j++) {
        float y = (x[j] - m) * s;
        o[j] = (p->w ? y * p->w[j] : y) + (p->b ? p->b[j] : 0.0f);
    }
}

static int norm_task(void *ctx, int64_t begin, int64_t end) {
    const Norm *p = ctx;
    for (int64_t c = begin; c < end; c++)
        for (int64_t r = c * ROWS; r < (c + 1) * ROWS && r < p->N; r++)
            norm_row(p, r);
    return at_check_interrupt("layer_norm") ? AT_EINTR : AT_OK;
}

int cpu_layer_norm(Tensor *out, Tensor *mean, Tensor *rstd, const Tensor *x, const Tensor *w,
                   const Tensor *b, float eps) {
    Norm p = {.x = tensor_data(x), .w = w ? tensor_data(w) : NULL, .b = b ? tensor_data(b) : NULL,
              .out = tensor_data(out), .mean_out = tensor_data(mean),
              .rstd_out = tensor_data(rstd), .N = x->shape[0], .C = x->shape[1], .eps = eps};
    return parallel_for((p.N + ROWS - 1) / ROWS, 1, norm_task, &p);
}

/*
 * With xhat = (x - mean) * rstd and y = xhat * w + b, per row:
 *   db = sum_rows g,  dw = sum_rows g * xhat,
 *   dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)),  gw = g * w.
 * Each chunk of rows sums its own dw, db; the chunks' sums are added in
 * chunk order afterwards, so the result does not depend on the threads.
 */
HOT static void norm_backward_row(const Norm *p, int64_t r, float *dw, float *db) {
    int64_t C = p->C;
    const float *x = p->x + r * C, *g = p->g + r * C;
    float m = p->mean[r], s = p->rstd[r], sum_gw = 0.0f, sum_gwx = 0.0f;
    for (int64_t j = 0; j < C; j++) {
        float xhat = (x[j] - m) * s, gw = p->w ? g[j] * p->w[j] : g[j];
        sum_gw += gw;
        sum_gwx += gw * xhat;
        dw[j] += g[j] * xhat;
        db[j] += g[j];
    }
    float mean_gw = sum_gw / (float)C, mean_gwx = sum_gwx / (float)C;
    for (int64_t j = 0; j < C; j++) {
        float xhat = (x[j] - m) * s, gw = p->w ? g[j] * p->w[j] : g[j];
        p->dx[r * C + j] = s * (gw - mean_gw - xhat * mean_gwx);
    }
}

static int norm_backward_task(void *ctx, int64_t begin, int64_t end) {
    const Norm *p = ctx;
    for (int64_t c = begin; c < end; c++) {
        float *dw = p->partial + c * 2 * p->C, *db = dw + p->C;
        memset(dw, 0, (size_t)(2 * p->C) * sizeof(float));
        for (int64_t r = c * ROWS; r < (c + 1) * ROWS && r < p->N; r++)
            norm_backward_row(p, r, dw, db);
    }
    return at_check_interrupt("layer_norm backward") ? AT_EINTR : AT_OK;
}

int cpu_layer_norm_backward(Tensor *dx, Tensor *dw, Tensor *db, const Tensor *g, const Tensor *x,
                            const Tensor *mean, const Tensor *rstd, const Tensor *w) {
    Norm p = {.x = tensor_data(x), .w = w ? tensor_data(w) : NULL, .g = tensor_data(g),
              .mean = tensor_data(mean), .rstd = tensor_data(rstd), .dx = tensor_data(dx),
              .N = x->shape[0], .C = x->shape[1]};
    int64_t chunks = (p.N + ROWS - 1) / ROWS;
    p.partial = malloc((size_t)(chunks * 2 * p.C) * sizeof(float) + 1);
    if (!p.partial)
        return at_error(AT_ENOMEM, "layer_norm backward: out of memory");
    int st = parallel_for(chunks, 1, norm_backward_task, &p);
    float *dwd = dw ? tensor_data(dw) : NULL, *dbd = db ? tensor_data(db) : NULL;
    for (int64_t j = 0; j < p.C && !st; j++) {
        float sw = 0.0f, sb = 0.0f;
        for (int64_t c = 0; c < chunks; c++)
            sw += p.partial[c * 2 * p.C + j], sb += p.partial[c * 2 * p.C + p.C + j];
        if (dwd)
            dwd[j] = sw;
        if (dbd)
            dbd[j] = sb;
    }
    free(p.partial);
    return st;
}

/* ---- cross-entropy ----------------------------------------------------------- */

typedef struct Xent {
    const float *logits, *g;
    const int64_t *targets;
    float *losses, *dlogits;
    int64_t C;
} Xent;

static int xent_task(void *ctx, int64_t begin, int64_t end) {
    const Xent *p = ctx;
    for (int64_t r = begin; r < end; r++) {
        const float *row = p->logits + r * p->C;
        if (p->targets[r] < 0) { // ignored
            p->losses[r] = 0.0f;
            continue;
        }
        float m = row_max(row, p->C, -INFINITY);
        p->losses[r] = m + logf(row_exp_sum(NULL, row, p->C, m)) - row[p->targets[r]];
    }
    return at_check_interrupt("cross_entropy") ? AT_EINTR : AT_OK;
}

int cpu_cross_entropy(Tensor *losses, const Tensor *logits, const int64_t *targets) {
    Xent p = {.logits = tensor_data(logits), .targets = targets, .losses = tensor_data(losses),
              .C = logits->shape[1]};
    return parallel_for(logits->shape[0], ROWS, xent_task, &p);
}

/* d loss_r / d logits_rj = g_r (softmax_rj - [j = target_r]). */
static int xent_backward_task(void *ctx, int64_t begin, int64_t end) {
    const Xent *p = ctx;
    for (int64_t r = begin; r < end; r++) {
        const float *row = p->logits + r * p->C;
        float *d = p->dlogits + r * p->C;
        if (p->targets[r] < 0) {
            memset(d, 0, (size_t)p->C * sizeof(float));
            continue;
        }
        float m = row_max(row, p->C, -INFINITY), inv = 1.0f / row_exp_sum(d, row, p->C, m);
        for (int64_t j = 0; j < p->C; j++)
            d[j] *= p->g[r] * inv;
        d[p->targets[r]] -= p->g[r];
    }
    return at_check_interrupt("cross_entropy backward") ? AT_EINTR : AT_OK;
}

int cpu_cross_entropy_backward(Tensor *dlogits, const Tensor *g, const Tensor *logits,
                               const int64_t *targets) {
    Xent p = {.logits = tensor_data(logits), .g = tensor_data(g), .targets = targets,
              .dlogits = tensor_data(dlogits), .C = logits->shape[1]};
    return parallel_for(logits->shape[0], ROWS, xent_backward_task, &p);
}
