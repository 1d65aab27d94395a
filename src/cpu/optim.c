/*
 * optim.c: the AdamW update as one pass over a parameter, its gradient and
 * its two moments, shared by the thread pool. Written op by op in Lua the
 * same update reads and writes the parameter's size a dozen times over and
 * makes as many temporaries; fused it reads four arrays and writes three.
 */
#include <config.h>

#include <math.h>

#include "../core/error.h"
#include "../core/interrupt.h"
#include "cpu.h"
#include "parallel.h"

typedef struct Adam {
    float *p, *m, *v;
    const float *g;
    const AdamHyper *h;
} Adam;

static int adam_chunk(void *ctx, int64_t begin, int64_t end) {
    const Adam *a = ctx;
    const AdamHyper *h = a->h;
    float decay = 1.0f - h->lr * h->weight_decay, step = h->lr / h->bias1;
    float inv_sqrt_bias2 = 1.0f / sqrtf(h->bias2);
    for (int64_t i = begin; i < end; i++) {
        float g = a->g[i];
        float m = h->b1 * a->m[i] + (1.0f - h->b1) * g;
        float v = h->b2 * a->v[i] + (1.0f - h->b2) * g * g;
        a->m[i] = m, a->v[i] = v;
        a->p[i] = a->p[i] * decay - step * m / (sqrtf(v) * inv_sqrt_bias2 + h->eps);
    }
    return at_check_interrupt("AdamW") ? AT_EINTR : AT_OK;
}

int cpu_adamw(Tensor *p, Tensor *m, Tensor *v, const Tensor *g, const AdamHyper *h) {
    Adam a = {tensor_data(p), tensor_data(m), tensor_data(v), tensor_data(g), h};
    return parallel_for(tensor_numel(p), 1 << 15, adam_chunk, &a);
}
