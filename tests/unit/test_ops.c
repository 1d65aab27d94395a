/*
 * test_ops.c: the ops layer's own work: argument checks and their
 * messages, reshape/cat/stack/copy, devices, and Ctrl-C.
 */
#include <config.h>

#include <string.h>

#include "core/error.h"
#include "core/interrupt.h"
#include "ops/tensor_ops.h"
#include "tap.h"

static Tensor *seq(int ndim, const int64_t *shape) {
    int64_t n = shape_numel(ndim, shape);
    float v[256];
    for (int64_t i = 0; i < n; i++)
        v[i] = (float)(i + 1);
    Tensor *t;
    return op_from_host(&t, v, ndim, shape, DEV_CPU) ? NULL : t;
}

static int has(const char *needle) { return strstr(at_errmsg(), needle) != NULL; }

static void test_messages(void) {
    Tensor *a = seq(2, (int64_t[]){2, 3}), *b = seq(2, (int64_t[]){4, 3}), *o;
    ok(op_matmul(&o, a, a) == AT_ESHAPE &&
           has("matmul: shapes [2,3] and [2,3] do not match (inner dims 3 and 2)"),
       "matmul mismatch message: %s", at_errmsg());
    ok(op_binary(&o, BIN_ADD, a, b) == AT_ESHAPE && has("add") && has("[2,3]") && has("[4,3]"),
       "broadcast failure names the op and both shapes: %s", at_errmsg());
    ok(op_reduce(&o, RED_SUM, a, 2, 0) == AT_EINVAL && has("sum: dim 3"),
       "reduce over a missing dim: %s", at_errmsg());
    ok(op_reshape(&o, a, 2, (int64_t[]){4, 2}) == AT_ESHAPE && has("[2,3]") && has("[4,2]"),
       "reshape to a wrong numel: %s", at_errmsg());
    ok(op_full(&o, 2, (int64_t[]){(int64_t)1 << 30, (int64_t)1 << 30}, 0, DEV_CPU) == AT_ENOMEM,
       "a 4 EiB request is an error, not a crash: %s", at_errmsg());
    ok(op_arange(&o, 0, 1, 0, DEV_CPU) == AT_EINVAL, "arange with step 0 is refused");
    tensor_release(a);
    tensor_release(b);
}

static void test_movement(void) {
    Tensor *a = seq(2, (int64_t[]){2, 3}), *o;
    ok(!op_reshape(&o, a, 2, (int64_t[]){-1, 2}) && o->shape[0] == 3 && o->storage == a->storage,
       "reshape infers -1 and shares contiguous storage");
    tensor_release(o);
    Tensor *t = tensor_transpose(a, 0, 1), *flat;
    ok(!op_reshape(&flat, t, 1, (int64_t[]){6}) && tensor_data(flat)[1] == 4.0f,
       "reshape of a transpose copies in row-major order of the view (1,4,2,5,3,6)");
    tensor_release(flat);
    Tensor *parts[2] = {a, a}, *c, *s;
    ok(!op_cat(&c, parts, 2, 1) && c->shape[1] == 6 && tensor_data(c)[4] == 2.0f,
       "cat along dim 2 interleaves rows: [1 2 3 1 2 3]");
    ok(!op_stack(&s, parts, 2, 0) && s->ndim == 3 && s->shape[0] == 2 &&
           tensor_data(s)[6] == 1.0f,
       "stack adds a leading dim");
    parts[1] = t;
    ok(op_cat(&o, parts, 2, 0) == AT_ESHAPE && has("cat") && has("[3,2]"),
       "cat of mismatched shapes: %s", at_errmsg());
    tensor_release(c);
    tensor_release(s);
    tensor_release(t);
    // t[1] = t[2] through overlapping views of one storage.
    Tensor *r0 = tensor_narrow(a, 1, 0, 2), *r1 = tensor_narrow(a, 1, 1, 2);
    ok(!op_copy(r0, r1) && tensor_data(a)[0] == 2.0f && tensor_data(a)[1] == 3.0f &&
           tensor_data(a)[2] == 3.0f,
       "copy between overlapping views reads the source before writing");
    tensor_release(r0);
    tensor_release(r1);
    int close;
    Tensor *b;
    op_binary_scalar(&b, BIN_ADD, a, 1e-7f, 0);
    ok(!op_allclose(&close, a, b, 1e-5f, 1e-5f) && close, "allclose within tolerance");
    tensor_release(b);
    op_binary_scalar(&b, BIN_ADD, a, 1e-2f, 0);
    ok(!op_allclose(&close, a, b, 1e-5f, 1e-5f) && !close, "not allclose beyond it");
    tensor_release(b);
    tensor_release(a);
}

static void test_devices(void) {
    Tensor *a = seq(1, (int64_t[]){4}), *o = NULL;
    if (backend_get(DEV_CUDA)) {
        skip("a CUDA device is present (parity tests cover it)");
    } else {
        ok(op_to(&o, a, DEV_CUDA) == AT_EDEVICE && has("cuda") && o == NULL,
           "to cuda without a GPU says why: %s", at_errmsg());
    }
    Device d;
    ok(device_parse("tpu", &d) == AT_EINVAL && has("tpu"), "unknown device names: %s",
       at_errmsg());
    tensor_release(a);
}

static void test_interrupt(void) {
    Tensor *a, *b, *o = NULL;
    op_rand(&a, 2, (int64_t[]){1024, 1024}, 1, DEV_CPU);
    op_rand(&b, 2, (int64_t[]){1024, 1024}, 1, DEV_CPU);
    at_interrupt_raise();
    int st = op_matmul(&o, a, b);
    ok(st == AT_EINTR && o == NULL && has("interrupted"), "matmul stops at Ctrl-C: %s",
       at_errmsg());
    st = op_binary(&o, BIN_MUL, a, b);
    ok(st == AT_EINTR && o == NULL, "elementwise stops at Ctrl-C");
    at_interrupt_clear();
    ok(!op_matmul(&o, a, b), "and runs again once the flag is cleared");
    tensor_release(o);
    tensor_release(a);
    tensor_release(b);
}

int main(void) {
    plan(6 + 8 + 2 + 3 + 1);
    test_messages();
    test_movement();
    test_devices();
    test_interrupt();
    ok(storage_live_bytes() == 0, "every tensor was released");
    return tap_done();
}
