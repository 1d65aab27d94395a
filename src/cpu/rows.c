/*
 * rows.c: passes over one contiguous row of floats on eight lanes: sums,
 * max, exps. Softmax, log-sum-exp, layer norm and the fused attention's
 * online softmax are all made of them.
 */
#include <config.h>

#include <math.h>

#include "rows.h"
#include "vmath.h"

HOT float row_sum(const float *x, int64_t n) {
    v8 acc = {0}, v;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        LOAD8(v, x + j);
        acc += v;
    }
    float s = 0.0f;
    for (int u = 0; u < 8; u++)
        s += acc[u];
    for (; j < n; j++)
        s += x[j];
    return s;
}

HOT float row_sq_dev(const float *x, int64_t n, float m) {
    v8 acc = {0}, v;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        LOAD8(v, x + j);
        v -= m;
        acc += v * v;
    }
    float s = 0.0f;
    for (int u = 0; u < 8; u++)
        s += acc[u];
    for (; j < n; j++)
        s += (x[j] - m) * (x[j] - m);
    return s;
}

HOT float row_max(const float *x, int64_t n, float m) {
    v8 best = {m, m, m, m, m, m, m, m}, v;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        LOAD8(v, x + j);
        best = v8_select(v > best, v, best);
    }
    for (int u = 0; u < 8; u++)
        m = best[u] > m ? best[u] : m;
    for (; j < n; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

HOT float row_exp_sum(float *out, const float *x, int64_t n, float m) {
    v8 acc = {0}, v;
    int64_t j = 0;
    for (; j + 8 <= n; j += 8) {
        LOAD8(v, x + j);
        v = v8_exp(v - m);
        if (out)
            STORE8(out + j, v);
        acc += v;
    }
    float s = 0.0f;
    for (int u = 0; u < 8; u++)
        s += acc[u];
    for (; j < n; j++) {
        float e = f_exp(x[j] - m);
        if (out)
            out[j] = e;
        s += e;
    }
    return s;
}

HOT void row_scale(float *x, int64_t n, float c) {
    for (int64_t i = 0; i < n; i++)
        x[i] *= c;
}
