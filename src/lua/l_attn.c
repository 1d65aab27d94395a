/*
 * l_attn.c: the C half of the `attn` table (package "attn.core"):
 * constructors, functions of several tensors, the random seed, devices,
 * threads and clocks. lua/attn/init.lua builds the rest on top in Lua.
 */
#include <config.h>

#include <lauxlib.h>
#include <stdlib.h>
#include <time.h>

#include "../core/error.h"
#include "attn_lua.h"
#include "../autograd/autograd.h"
#include "l_modules.h"
#include "l_tensor.h"

int l_tensor_matmul(lua_State *L);

/* attn.tensor(tbl | number | tensor, {device=}) */
static int l_tensor(lua_State *L) {
    Device dev = lt_device_opt(L, 2, "tensor");
    Tensor *t = lt_test(L, 1);
    if (t) {
        Tensor **slot = lt_push_slot(L);
        Tensor *on_dev;
        if (op_to(&on_dev, t, dev))
            return lt_error(L);
        int st = on_dev == t ? op_clone(slot, t) : (*slot = on_dev, AT_OK);
        if (on_dev == t)
            tensor_release(on_dev);
        return st ? lt_error(L) : lt_done(L);
    }
    luaL_argexpected(L, lua_istable(L, 1) || lua_type(L, 1) == LUA_TNUMBER, 1,
                     "nested table of numbers");
    lt_coerce(L, 1, dev, "tensor");
    return 1;
}

/* Shape arguments then an optional options table: (2,3) / ({2,3}) / (2,3,{device=}). */
static int shape_args(lua_State *L, int64_t *shape, Device *dev, const char *who) {
    int ndim = lt_shape(L, 1, shape, who);
    int opts = lua_istable(L, 1) ? 2 : ndim + 1;
    if (!lua_isnoneornil(L, opts) && !lua_istable(L, opts))
        luaL_error(L, "%s: argument %d is a %s, expected a size or an options table", who, opts,
                   luaL_typename(L, opts));
    *dev = lt_device_opt(L, opts, who);
    int64_t numel;
    if (shape_check(who, ndim, shape, &numel))
        lt_error(L);
    return ndim;
}

static int filled(lua_State *L, float value, const char *who) {
    int64_t shape[AT_MAXDIM];
    Device dev;
    int ndim = shape_args(L, shape, &dev, who);
    Tensor **slot = lt_push_slot(L);
    return op_full(slot, ndim, shape, value, dev) ? lt_error(L) : lt_done(L);
}

static int l_zeros(lua_State *L) { return filled(L, 0.0f, "zeros"); }
static int l_ones(lua_State *L) { return filled(L, 1.0f, "ones"); }

/* attn.full({2,3}, 7, {device=}) */
static int l_full(lua_State *L) {
    int64_t shape[AT_MAXDIM];
    luaL_checktype(L, 1, LUA_TTABLE);
    int64_t numel;
    int ndim = lt_shape(L, 1, shape, "full");
    if (shape_check("full", ndim, shape, &numel))
        return lt_error(L);
    float v = (float)luaL_checknumber(L, 2);
    Device dev = lt_device_opt(L, 3, "full");
    Tensor **slot = lt_push_slot(L);
    return op_full(slot, ndim, shape, v, dev) ? lt_error(L) : lt_done(L);
}

/* attn.eye(n, m?) */
static int l_eye(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    lua_Integer m = lua_type(L, 2) == LUA_TNUMBER ? luaL_checkinteger(L, 2) : n;
    Device dev = lt_device_opt(L, lua_type(L, 2) == LUA_TNUMBER ? 3 : 2, "eye");
    if (n < 0 || m < 0)
        return luaL_error(L, "eye: sizes %I and %I must not be negative", n, m);
    Tensor **slot = lt_push_slot(L);
    return op_eye(slot, n, m, dev) ? lt_error(L) : lt_done(L);
}

/* attn.arange(n) = 0, 1, ..., n-1 and attn.arange(a, b, step) = a, a+step,
   ... stopping before b: numpy's and torch's meaning. These are values, not
   indices (positions in formulas such as sinusoidal encodings start at 0),
   so the 1-based rule for indices does not apply. */
static int l_arange(lua_State *L) {
    double a = 0, b, step = 1;
    int nums = 0;
    while (lua_type(L, nums + 1) == LUA_TNUMBER)
        nums++;
    if (nums == 1) {
        b = lua_tonumber(L, 1);
    } else if (nums == 2 || nums == 3) {
        a = lua_tonumber(L, 1);
        b = lua_tonumber(L, 2);
        step = nums == 3 ? lua_tonumber(L, 3) : 1;
    } else {
        return luaL_error(L, "arange: expected (n) or (start, stop[, step]), got %d numbers", nums);
    }
    Device dev = lt_device_opt(L, nums + 1, "arange");
    Tensor **slot = lt_push_slot(L);
    return op_arange(slot, a, b, step, dev) ? lt_error(L) : lt_done(L);
}

static int random_tensor(lua_State *L, int normal) {
    int64_t shape[AT_MAXDIM];
    Device dev;
    int ndim = shape_args(L, shape, &dev, normal ? "randn" : "rand");
    Tensor **slot = lt_push_slot(L);
    return op_rand(slot, ndim, shape, normal, dev) ? lt_error(L) : lt_done(L);
}

static int l_rand(lua_State *L) { return random_tensor(L, 0); }
static int l_randn(lua_State *L) { return random_tensor(L, 1); }

/* attn.seed(n) sets the stream; attn.seed() returns the current seed. */
static int l_seed(lua_State *L) {
    if (!lua_isnoneornil(L, 1))
        op_seed((uint64_t)luaL_checkinteger(L, 1));
    lua_pushinteger(L, (lua_Integer)op_get_seed());
    return 1;
}

/* Tensors from the list at arg 1 (coerced on the first one's device). */
static int tensor_list(lua_State *L, Tensor ***out, const char *who) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2); // the list's tensors go above the dim argument
    int n = (int)lua_rawlen(L, 1);
    if (n < 1)
        luaL_error(L, "%s: expected a non-empty list of tensors", who);
    Tensor **ts = lua_newuserdatauv(L, (size_t)n * sizeof *ts, 0);
    Device dev = op_default_device();
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, 1, i + 1);
        if (!lt_test(L, -1) && !lua_istable(L, -1) && !lua_isnumber(L, -1))
            luaL_error(L, "%s: entry %d of the list is a %s, expected a tensor", who, i + 1,
                       luaL_typename(L, -1));
        ts[i] = lt_coerce(L, -1, dev, who);
        dev = tensor_device(ts[i]);
        // converted tensors stay on the stack, which keeps them alive
    }
    *out = ts;
    return n;
}

static int l_cat(lua_State *L) {
    Tensor **ts;
    int n = tensor_list(L, &ts, "cat");
    int dim = lua_isnoneornil(L, 2) ? 0 : lt_dim(L, 2, ts[0]->ndim, 0, "cat");
    Tensor **slot = lt_push_slot(L);
    return ag_cat(slot, ts, n, dim) ? lt_error(L) : lt_done(L);
}

static int l_stack(lua_State *L) {
    Tensor **ts;
    int n = tensor_list(L, &ts, "stack");
    int dim = lua_isnoneornil(L, 2) ? 0 : lt_dim(L, 2, ts[0]->ndim, 1, "stack");
    Tensor **slot = lt_push_slot(L);
    return ag_stack(slot, ts, n, dim) ? lt_error(L) : lt_done(L);
}

/* attn.allclose(a, b, tol?) with tol both relative and absolute (1e-5). */
static int l_allclose(lua_State *L) {
    Tensor *a = lt_coerce(L, 1, op_default_device(), "allclose");
    Tensor *b = lt_coerce(L, 2, tensor_device(a), "allclose");
    float tol = (float)luaL_optnumber(L, 3, 1e-5);
    int close;
    if (op_allclose(&close, a, b, tol, tol))
        return lt_error(L);
    lua_pushboolean(L, close);
    return 1;
}

/* attn.no_grad(fn, ...): run fn without recording gradients; returns what
   fn returns, and leaves grad mode as it was even when fn raises. */
static int l_no_grad(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    ag_no_grad_enter();
    int st = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    ag_no_grad_leave();
    if (st != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

static int l_is_tensor(lua_State *L) {
    lua_pushboolean(L, luaL_testudata(L, 1, LT_META) != NULL);
    return 1;
}

static int l_set_default_device(lua_State *L) {
    Device dev;
    if (device_parse(luaL_checkstring(L, 1), &dev) || op_set_default_device(dev))
        return lt_error(L);
    return 0;
}

static int l_default_device(lua_State *L) {
    lua_pushstring(L, device_name(op_default_device()));
    return 1;
}

static int l_cuda_available(lua_State *L) {
    lua_pushboolean(L, backend_get(DEV_CUDA) != NULL);
    return 1;
}

/* The GPU's name, or nil and the reason there is none. */
static int l_cuda_device_name(lua_State *L) {
    int ok = backend_get(DEV_CUDA) != NULL;
    const char *line = device_describe(DEV_CUDA);
    if (ok) {
        lua_pushstring(L, line);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, line);
    return 2;
}

/* attn.threads(n?) sets and/or returns the cpu thread count. */
static int l_threads(lua_State *L) {
    if (!lua_isnoneornil(L, 1) && op_set_threads((int)luaL_checkinteger(L, 1)))
        return lt_error(L);
    lua_pushinteger(L, op_get_threads());
    return 1;
}

/* Bytes of tensor data alive now. */
static int l_memory(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)storage_live_bytes());
    return 1;
}

/* Monotonic seconds, for attn.time and progress bars. */
static int l_clock(lua_State *L) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

static const luaL_Reg functions[] = {
    {"tensor", l_tensor},
    {"zeros", l_zeros},
    {"ones", l_ones},
    {"full", l_full},
    {"eye", l_eye},
    {"arange", l_arange},
    {"rand", l_rand},
    {"randn", l_randn},
    {"seed", l_seed},
    {"matmul", l_tensor_matmul},
    {"cat", l_cat},
    {"stack", l_stack},
    {"allclose", l_allclose},
    {"is_tensor", l_is_tensor},
    {"no_grad", l_no_grad},
    {"set_default_device", l_set_default_device},
    {"default_device", l_default_device},
    {"threads", l_threads},
    {"memory", l_memory},
    {"clock", l_clock},
    {NULL, NULL},
};

static const luaL_Reg cuda_functions[] = {
    {"available", l_cuda_available},
    {"device_name", l_cuda_device_name},
    {NULL, NULL},
};

static int luaopen_attn_cuda(lua_State *L) {
    luaL_newlib(L, cuda_functions);
    return 1;
}

/* The C-written sub-tables of attn, one l_<table>.c file each: attn.<name>
   is what open() returns. */
static const luaL_Reg submodules[] = {
    {"cuda", luaopen_attn_cuda},
    {"F", luaopen_attn_F},
    // --- submodules (one line each: {"name", luaopen_attn_name},)
    {"tokenizer", luaopen_attn_tokenizer},
    {"_io", luaopen_attn_io},
    {"viz", luaopen_attn_viz},
    {"_optim", luaopen_attn_optim},
    // --- submodules end
    {NULL, NULL},
};

int luaopen_attn_core(lua_State *L) {
    lt_register(L);
    luaL_newlib(L, functions);
    for (const luaL_Reg *m = submodules; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_call(L, 0, 1);
        lua_setfield(L, -2, m->name);
    }
    luaL_getmetatable(L, LT_META);
    lua_setfield(L, -2, "Tensor");
    lua_pushstring(L, PACKAGE_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}
