/*
 * test_cpu.c: the CPU kernels, reached through the ops layer, against naive
 * loops written here with plain index arithmetic: broadcasting binary ops,
 * unary maps, reductions over every dim, softmax, and matmul over many
 * shapes and layouts (transposed views, batches, broadcast weights).
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "ops/tensor_ops.h"
#include "tap.h"

static Tensor *randn(int ndim, const int64_t *shape) {
    Tensor *t;
    return op_rand(&t, ndim, shape, 1, DEV_CPU) ? NULL : t;
}

/* Element of t at a row-major linear index over t's own shape. */
static float elem(const Tensor *t, int64_t lin) {
    const float *p = tensor_data(t);
    for (int d = t->ndim - 1; d >= 0; d--) {
        p += (lin % t->shape[d]) * t->strides[d];
        lin /= t->shape[d];
    }
    return *p;
}

/* Element of a (shape sa, na dims) at the broadcast position of out index. */
static float bcast(const Tensor *a, const int64_t *oshape, int ond, int64_t lin) {
    int64_t idx[AT_MAXDIM];
    for (int d = ond - 1; d >= 0; d--) {
        idx[d] = lin % oshape[d];
        lin /= oshape[d];
    }
    const float *p = tensor_data(a);
    for (int d = 0; d < a->ndim; d++) {
        int od = d + ond - a->ndim;
        p += (a->shape[d] == 1 ? 0 : idx[od]) * a->strides[d];
    }
    return *p;
}

static void test_broadcast(void) {
    struct { int na, nb; int64_t a[3], b[3]; } cases[] = {
        {2, 1, {2, 3}, {3}},       {2, 2, {2, 1}, {1, 3}},    {3, 2, {4, 1, 3}, {2, 3}},
        {1, 1, {5}, {1}},          {3, 3, {2, 3, 4}, {2, 3, 4}}, {2, 3, {3, 1}, {2, 1, 5}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Tensor *a = randn(cases[c].na, cases[c].a), *b = randn(cases[c].nb, cases[c].b), *o;
        int bad = 0;
        for (BinaryOp op = BIN_ADD; op <= BIN_DIV; op++) {
            if (op_binary(&o, op, a, b)) {
                bad++;
                continue;
            }
            for (int64_t i = 0; i < tensor_numel(o); i++) {
                float x = bcast(a, o->shape, o->ndim, i), y = bcast(b, o->shape, o->ndim, i);
                float want = op == BIN_ADD ? x + y : op == BIN_SUB ? x - y : op == BIN_MUL ? x * y
                                                                                         : x / y;
                bad += fabsf(tensor_data(o)[i] - want) > 1e-6f * (1 + fabsf(want));
            }
            tensor_release(o);
        }
        ok(!bad, "broadcast case %zu: + - * / match a naive loop", c + 1);
        tensor_release(a);
        tensor_release(b);
    }
}

static void test_strided_unary(void) {
    int64_t shape[2] = {7, 5};
    Tensor *a = randn(2, shape), *at = tensor_transpose(a, 0, 1), *o;
    op_unary(&o, UN_EXP, at);
    int bad = 0;
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 7; j++)
            bad += fabsf(tensor_data(o)[i * 7 + j] - expf(tensor_data(a)[j * 5 + i])) > 1e-6f;
    ok(!bad, "exp of a transposed view reads through its strides");
    tensor_release(o);
    op_unary(&o, UN_GELU, a);
    double x = (double)tensor_data(a)[3];
    near((double)tensor_data(o)[3], 0.5 * x * (1 + erf(x / sqrt(2.0))), 1e-6, "gelu is x * Phi(x)");
    tensor_release(o);
    op_unary(&o, UN_SIGMOID, a);
    near((double)tensor_data(o)[4], 1 / (1 + exp(-(double)tensor_data(a)[4])), 1e-6, "sigmoid");
    tensor_release(o);
    tensor_release(at);
    tensor_release(a);
}

static void test_reduce(void) {
    int64_t shape[3] = {3, 4, 5};
    Tensor *a = randn(3, shape);
    for (int dim = 0; dim < 3; dim++) {
        Tensor *s, *m, *am;
        op_reduce(&s, RED_SUM, a, dim, 0);
        op_reduce(&m, RED_MAX, a, dim, 0);
        op_reduce(&am, RED_ARGMAX, a, dim, 0);
        int bad = 0;
        for (int64_t o = 0; o < tensor_numel(s); o++) {
            // Decompose o over the kept dims, then walk the reduced one.
            int64_t idx[3], rest = o;
            for (int d = 2; d >= 0; d--) {
                if (d == dim)
                    continue;
                idx[d] = rest % shape[d];
                rest /= shape[d];
            }
            double sum = 0;
            float best = -INFINITY;
            int arg = -1;
            for (int64_t k = 0; k < shape[dim]; k++) {
                idx[dim] = k;
                float v = tensor_data(a)[idx[0] * 20 + idx[1] * 5 + idx[2]];
                sum += (double)v;
                if (v > best)
                    best = v, arg = (int)k;
            }
            bad += fabs((double)tensor_data(s)[o] - sum) > 1e-5;
            bad += tensor_data(m)[o] != best || tensor_data(am)[o] != (float)arg;
        }
        ok(!bad, "sum, max, argmax over dim %d match a naive loop", dim + 1);
        tensor_release(s);
        tensor_release(m);
        tensor_release(am);
    }
    Tensor *all;
    op_reduce(&all, RED_MEAN, a, -1, 0);
    double sum = 0;
    for (int i = 0; i < 60; i++)
        sum += (double)tensor_data(a)[i];
    near((double)tensor_data(all)[0], sum / 60, 1e-6, "mean over everything");
    ok(all->ndim == 1 && all->shape[0] == 1, "a full reduction is a one-element 1-d tensor");
    tensor_release(all);
    tensor_release(a);
}

static void test_softmax(void) {
    int64_t shape[2] = {3, 4};
    float big[12] = {1000, 1001, 1002, 1003, -1, 0, 1, 2, -INFINITY, -INFINITY, -INFINITY,
                     -INFINITY};
    Tensor *a, *o;
    op_from_host(&a, big, 2, shape, DEV_CPU);
    op_softmax(&o, a, 1);
    // Rows 1 and 2 are shifts of each other: softmax is shift invariant.
    double z = 0;
    for (int j = 0; j < 4; j++)
        z += exp(j);
    int bad = 0;
    for (int j = 0; j < 4; j++)
        bad += fabs((double)tensor_data(o)[j] - exp(j) / z) > 1e-6 ||
               fabs((double)tensor_data(o)[4 + j] - exp(j) / z) > 1e-6;
    ok(!bad, "softmax of 1000..1003 is finite and equals softmax of 0..3");
    ok(tensor_data(o)[8] == 0 && tensor_data(o)[11] == 0, "an all -inf row gives zeros");
    tensor_release(o);
    op_softmax(&o, a, 0);
    near((double)(tensor_data(o)[1] + tensor_data(o)[5] + tensor_data(o)[9]), 1.0, 1e-6,
         "softmax over dim 1 sums to 1 down a column");
    tensor_release(o);
    tensor_release(a);
}

/* out[b,i,j] = sum_k a[b,i,k] b[b,k,j] with broadcast batch indices. */
static int check_matmul(const Tensor *a, const Tensor *b, const char *what) {
    Tensor *o;
    if (op_matmul(&o, a, b))
        return ok(0, "%s: %s", what, at_errmsg());
    int64_t M = o->shape[o->ndim - 2], N = o->shape[o->ndim - 1], K = a->shape[a->ndim - 1];
    int64_t B = M * N > 0 ? tensor_numel(o) / (M * N) : 0;
    int bad = 0;
    for (int64_t bi = 0; bi < B; bi++)
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++) {
                    int64_t abi = a->ndim > 2 && a->shape[0] > 1 ? bi : 0;
                    int64_t bbi = b->ndim > 2 && b->shape[0] > 1 ? bi : 0;
                    int64_t ai = abi * M * K + i * K + k, bj = bbi * K * N + k * N + j;
                    acc += (double)elem(a, ai) * (double)elem(b, bj);
                }
                bad += fabs((double)tensor_data(o)[(bi * M + i) * N + j] - acc) > 1e-4 * (1 + fabs(acc));
            }
    tensor_release(o);
    return ok(!bad, "%s matches a triple loop", what);
}

static void test_matmul(void) {
    int64_t sizes[][3] = {{1, 1, 1}, {1, 7, 1}, {17, 33, 9}, {64, 3, 65}, {5, 0, 4}};
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int64_t M = sizes[c][0], K = sizes[c][1], N = sizes[c][2];
        Tensor *a = randn(2, (int64_t[]){M, K}), *b = randn(2, (int64_t[]){K, N});
        check_matmul(a, b, "2-d product");
        Tensor *at = randn(2, (int64_t[]){K, M}), *bt = randn(2, (int64_t[]){N, K});
        Tensor *atv = tensor_transpose(at, 0, 1), *btv = tensor_transpose(bt, 0, 1);
        check_matmul(atv, btv, "transposed views");
        tensor_release(a), tensor_release(b), tensor_release(at), tensor_release(bt);
        tensor_release(atv), tensor_release(btv);
    }
    Tensor *a = randn(3, (int64_t[]){4, 5, 6}), *b = randn(3, (int64_t[]){4, 6, 3});
    Tensor *w = randn(2, (int64_t[]){6, 7}), *b1 = randn(3, (int64_t[]){1, 6, 2});
    check_matmul(a, b, "batched [4,5,6] x [4,6,3]");
    check_matmul(a, w, "batch folded into rows: [4,5,6] x [6,7]");
    check_matmul(a, b1, "broadcast batch [4,5,6] x [1,6,2]");
    Tensor *wt = tensor_transpose(w, 0, 1), *wtt = tensor_transpose(wt, 0, 1);
    check_matmul(a, wtt, "folded with a double-transposed weight");
    Tensor *wide = randn(2, (int64_t[]){6, 14}), *every2 = NULL;
    op_reshape(&every2, wide, 3, (int64_t[]){6, 7, 2});
    Tensor *sel = tensor_select(every2, 2, 0); // [6,7] with column stride 2
    check_matmul(a, sel, "a view with no unit stride is copied first");
    tensor_release(sel), tensor_release(every2), tensor_release(wide);
    tensor_release(wt), tensor_release(wtt);
    tensor_release(a), tensor_release(b), tensor_release(w), tensor_release(b1);
}

int main(void) {
    op_seed(7);
    plan(6 + 3 + 5 + 3 + 10 + 5);
    test_broadcast();
    test_strided_unary();
    test_reduce();
    test_softmax();
    test_matmul();
    return tap_done();
}
