/*
 * test_tensor.c: core tensors: shapes, views, strides, refcounts, errors.
 */
#include <config.h>

#include <string.h>

#include "core/error.h"
#include "core/tensor.h"
#include "tap.h"

static Tensor *arange_2x3x4(void) {
    int64_t shape[3] = {2, 3, 4};
    Tensor *t = tensor_new_cpu(3, shape);
    for (int i = 0; i < 24; i++)
        tensor_data(t)[i] = (float)i;
    return t;
}

static float at3(const Tensor *t, int64_t i, int64_t j, int64_t k) {
    return tensor_data(t)[i * t->strides[0] + j * t->strides[1] + k * t->strides[2]];
}

static void test_views(void) {
    Tensor *t = arange_2x3x4();
    ok(t->strides[0] == 12 && t->strides[1] == 4 && t->strides[2] == 1, "row-major strides");
    ok(tensor_is_contiguous(t), "new tensor is contiguous");

    Tensor *s = tensor_select(t, 1, 2); // t[:, 2, :] shape [2,4]
    ok(s->ndim == 2 && s->shape[0] == 2 && s->shape[1] == 4, "select drops the dim");
    ok(tensor_data(s)[0] == 8.0f && tensor_data(s)[s->strides[0] + 3] == 23.0f,
       "select addresses t[i,2,k] = 12i + 8 + k");

    Tensor *n = tensor_narrow(t, 2, 1, 2); // t[:, :, 1:3]
    ok(n->shape[2] == 2 && at3(n, 1, 2, 1) == 12 + 8 + 2, "narrow offsets the start");
    ok(!tensor_is_contiguous(n), "narrowed last dim is not contiguous");

    Tensor *tr = tensor_transpose(t, 0, 2); // [4,3,2]
    int good = 1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 2; k++)
                good &= at3(tr, i, j, k) == at3(t, k, j, i);
    ok(good && tr->shape[0] == 4, "transpose swaps shape and strides");

    tensor_data(s)[1] = -5.0f;
    ok(at3(t, 0, 2, 1) == -5.0f, "views share storage: a write through select shows in t");
    ok(t->storage->refs == 4, "each view holds a reference to the storage");
    tensor_release(s);
    tensor_release(n);
    tensor_release(tr);
    ok(t->storage->refs == 1, "released views drop their references");
    tensor_release(t);
}

static void test_reshape_expand(void) {
    Tensor *t = arange_2x3x4();
    int64_t shape[2] = {6, 4};
    Tensor *v = tensor_view(t, 2, shape);
    ok(v && v->storage == t->storage && tensor_data(v)[5 * 4 + 3] == 23.0f,
       "view of contiguous data shares storage");
    tensor_release(v);
    int64_t bad[2] = {5, 5};
    ok(!tensor_view(t, 2, bad) && at_errcode() == AT_ESHAPE &&
           strstr(at_errmsg(), "[2,3,4]") && strstr(at_errmsg(), "[5,5]"),
       "view with a wrong numel names both shapes: %s", at_errmsg());
    Tensor *tr = tensor_transpose(t, 1, 2);
    ok(!tensor_view(tr, 2, shape) && at_errcode() == AT_EINVAL,
       "view of a transposed layout asks for a copy");
    tensor_release(tr);

    int64_t big[3] = {5, 3, 4};
    Tensor *row = tensor_select(t, 0, 1);
    Tensor *row1 = tensor_select(row, 0, 0); // [4], values 12..15
    Tensor *x = tensor_expand(row1, 3, big);
    ok(x && x->strides[0] == 0 && x->strides[1] == 0 && at3(x, 4, 2, 3) == 15.0f,
       "expand broadcasts with stride 0");
    int64_t clash[1] = {5};
    ok(!tensor_expand(row1, 1, clash) && at_errcode() == AT_ESHAPE,
       "expand [4] to [5] is an error: %s", at_errmsg());
    Tensor *u = tensor_unsqueeze(row1, 1);
    ok(u && u->ndim == 2 && u->shape[0] == 4 && u->shape[1] == 1, "unsqueeze adds a size-1 dim");
    tensor_release(u);
    tensor_release(x);
    tensor_release(row1);
    tensor_release(row);
    tensor_release(t);
}

static void test_errors_and_memory(void) {
    size_t before = storage_live_bytes();
    Tensor *t = arange_2x3x4();
    ok(storage_live_bytes() == before + 24 * sizeof(float), "live bytes count new storage");
    tensor_release(t);
    ok(storage_live_bytes() == before, "and drop when it is freed");

    int64_t huge[2] = {(int64_t)1 << 40, (int64_t)1 << 40}, n;
    ok(shape_check("zeros", 2, huge, &n) == AT_ENOMEM && strstr(at_errmsg(), "zeros"),
       "absurd sizes are refused without overflow: %s", at_errmsg());
    int64_t neg[2] = {2, -3};
    ok(shape_check("ones", 2, neg, &n) == AT_EINVAL && strstr(at_errmsg(), "-3"),
       "negative sizes are refused: %s", at_errmsg());
    Tensor *t2 = arange_2x3x4();
    ok(!tensor_select(t2, 0, 2) && strstr(at_errmsg(), "index 3 out of range 1..2"),
       "select out of range reports 1-based numbers: %s", at_errmsg());
    tensor_release(t2);
    char buf[64];
    ok(strcmp(shape_format(buf, sizeof buf, 3, (int64_t[]){2, 3, 4}), "[2,3,4]") == 0,
       "shape_format writes [2,3,4]");
    tensor_release(NULL);
    ok(1, "releasing NULL is a no-op");
}

int main(void) {
    plan(23);
    test_views();
    test_reshape_expand();
    test_errors_and_memory();
    return tap_done();
}
