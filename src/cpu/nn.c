/*
 * nn.c: the CPU kernels of the neural-network primitives: masked fill,
 * embedding lookup, layer norm and cross-entropy, each with its backward.
 *
 * Layer norm and cross-entropy work row by row in double precision for the
 * row statistics (mean, variance, log-sum-exp): rows are short (a model's
 * width or vocabulary), and the extra precision makes them agree with a
 * naive reference to the last float bit in most cases.
 */
#include <config.h>

#include <math.h>
#include <string.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"
#include "iter.h"

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

int cpu_layer_norm(Tensor *out, Tensor *mean, Tensor *rstd, const Tensor *x, const Tensor *w,
                   const Tensor *b, float eps) {
    int64_t N = x->shape[0], C = x->shape[1];
    const float *xd = tensor_data(x), *wd = w ? tensor_data(w) : NULL;
    const float *bd = b ? tensor_data(b) : NULL;
    float *o = tensor_data(out), *md = tensor_data(mean), *rd = tensor_data(rstd);
    for (int64_t r = 0; r < N; r++) {
        const float *row = xd + r * C;
        double m = 0, v = 0;
        for (int64_t j = 0; j < C; j++)
            m += (double)row[j];
        m /= (double)C;
        for (int64_t j = 0; j < C; j++) // two passes: no cancellation in E[x^2] - m^2
            v += ((double)row[j] - m) * ((double)row[j] - m);
        float s = (float)(1.0 / sqrt(v / (double)C + (double)eps));
        md[r] = (float)m;
        rd[r] = s;
        for (int64_t j = 0; j < C; j++) {
            float y = (row[j] - (float)m) * s;
            o[r * C + j] = (wd ? y * wd[j] : y) + (bd ? bd[j] : 0.0f);
        }
        if ((r & 1023) == 1023 && at_check_interrupt("layer_norm"))
            return AT_EINTR;
    }
    return AT_OK;
}

/*
 * With xhat = (x - mean) * rstd and y = xhat * w + b, per row:
 *   db = sum_rows g,  dw = sum_rows g * xhat,
 *   dx = rstd * (gw - mean(gw) - xhat * mean(gw * xhat)),  gw = g * w.
 */
int cpu_layer_norm_backward(Tensor *dx, Tensor *dw, Tensor *db, const Tensor *g, const Tensor *x,
                            const Tensor *mean, const Tensor *rstd, const Tensor *w) {
    int64_t N = x->shape[0], C = x->shape[1];
    const float *xd = tensor_data(x), *gd = tensor_data(g), *wd = w ? tensor_data(w) : NULL;
    const float *md = tensor_data(mean), *rd = tensor_data(rstd);
    float *dxd = tensor_data(dx), *dwd = dw ? tensor_data(dw) : NULL;
    float *dbd = db ? tensor_data(db) : NULL;
    if (dwd)
        memset(dwd, 0, (size_t)C * sizeof(float));
    if (dbd)
        memset(dbd, 0, (size_t)C * sizeof(float));
    for (int64_t r = 0; r < N; r++) {
        const float *xr = xd + r * C, *gr = gd + r * C;
        double sum_gw = 0, sum_gwx = 0;
        for (int64_t j = 0; j < C; j++) {
            float xhat = (xr[j] - md[r]) * rd[r], gw = wd ? gr[j] * wd[j] : gr[j];
            sum_gw += (double)gw;
            sum_gwx += (double)(gw * xhat);
            if (dwd)
                dwd[j] += gr[j] * xhat;
            if (dbd)
                dbd[j] += gr[j];
        }
        float mean_gw = (float)(sum_gw / (double)C), mean_gwx = (float)(sum_gwx / (double)C);
        for (int64_t j = 0; j < C; j++) {
            float xhat = (xr[j] - md[r]) * rd[r], gw = wd ? gr[j] * wd[j] : gr[j];
            dxd[r * C + j] = rd[r] * (gw - mean_gw - xhat * mean_gwx);
        }
    }
    return AT_OK;
}

/* log(sum(exp(row))) computed around the row's max, in double. */
static double logsumexp(const float *row, int64_t C) {
    float m = -INFINITY;
    for (int64_t j = 0; j < C; j++)
        m = row[j] > m ? row[j] : m;
    double s = 0;
    for (int64_t j = 0; j < C; j++)
        s += exp((double)(row[j] - m));
    return (double)m + log(s);
}

int cpu_cross_entropy(Tensor *losses, const Tensor *logits, const int64_t *targets) {
    int64_t N = logits->shape[0], C = logits->shape[1];
    const float *ld = tensor_data(logits);
    float *out = tensor_data(losses);
    for (int64_t r = 0; r < N; r++)
        out[r] = targets[r] < 0 ? 0.0f
                                : (float)(logsumexp(ld + r * C, C) - (double)ld[r * C + targets[r]]);
    return AT_OK;
}

int cpu_cross_entropy_backward(Tensor *dlogits, const Tensor *g, const Tensor *logits,
                               const int64_t *targets) {
    int64_t N = logits->shape[0], C = logits->shape[1];
    const float *ld = tensor_data(logits), *gd = tensor_data(g);
    float *dd = tensor_data(dlogits);
    for (int64_t r = 0; r < N; r++) {
        const float *row = ld + r * C;
        float *drow = dd + r * C;
        if (targets[r] < 0) {
            memset(drow, 0, (size_t)C * sizeof(float));
            continue;
        }
        double lse = logsumexp(row, C);
        for (int64_t j = 0; j < C; j++)
            drow[j] = gd[r] * ((float)exp((double)row[j] - lse) - (j == targets[r] ? 1.0f : 0.0f));
    }
    return AT_OK;
}
