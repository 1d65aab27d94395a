/*
 * l_tensor.c: the attn.Tensor userdata: metatable, methods, conversions.
 *
 * Every binding checks its arguments, converts Lua's 1-based dims and
 * indices to 0-based, calls one function of the ops layer and pushes the
 * result. Errors from C come back as a status and are raised here with
 * the message the ops layer recorded.
 */
#include <config.h>

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../core/format.h"
#include "../autograd/autograd.h"
#include "l_tensor.h"

/* ---- userdata plumbing ------------------------------------------------- */

Tensor *lt_test(lua_State *L, int i) {
    Tensor **slot = luaL_testudata(L, i, LT_META);
    if (slot && !*slot)
        luaL_error(L, "attn.Tensor: this tensor has been closed");
    return slot ? *slot : NULL;
}

Tensor *lt_check(lua_State *L, int i) {
    Tensor **slot = luaL_checkudata(L, i, LT_META);
    if (!*slot)
        luaL_error(L, "attn.Tensor: this tensor has been closed");
    return *slot;
}

Tensor **lt_push_slot(lua_State *L) {
    Tensor **slot = lua_newuserdatauv(L, sizeof *slot, 0);
    *slot = NULL;
    luaL_setmetatable(L, LT_META);
    return slot;
}

/* Lua does not see tensor bytes, so its collector would let a loop of big
   temporaries pile up. We charge it for every megabyte of new tensor data,
   which makes it run in proportion to what we allocate. */
int lt_done(lua_State *L) {
    static size_t seen = 0, debt = 0;
    size_t live = storage_live_bytes();
    if (live > seen)
        debt += live - seen;
    seen = live;
    if (debt >= ((size_t)1 << 20)) {
        lua_gc(L, LUA_GCSTEP, (int)(debt >> 10));
        debt = 0;
        seen = storage_live_bytes();
    }
    return 1;
}

int lt_error(lua_State *L) { return luaL_error(L, "%s", at_errmsg()); }

static int l_gc(lua_State *L) {
    Tensor **slot = luaL_checkudata(L, 1, LT_META);
    tensor_release(*slot);
    *slot = NULL;
    return 0;
}

/* ---- argument helpers -------------------------------------------------- */

int lt_dim(lua_State *L, int arg, int ndim, int extra, const char *who) {
    lua_Integer d = luaL_checkinteger(L, arg);
    lua_Integer n = ndim + (extra ? 1 : 0);
    if (d < 0)
        d += n + 1;
    if (d < 1 || d > n)
        return luaL_error(L, "%s: dim %I out of range for a %d-d tensor (1..%I, or -1 for the "
                          "last)", who, luaL_checkinteger(L, arg), ndim, n);
    return (int)d - 1;
}

static int64_t check_size(lua_State *L, int arg, lua_Integer v, const char *who) {
    if (v < 0)
        luaL_error(L, "%s: size %I of argument %d is negative", who, v, arg);
    return (int64_t)v;
}

int lt_shape(lua_State *L, int arg, int64_t *shape, const char *who) {
    int ndim = 0;
    if (lua_istable(L, arg)) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, arg);
        if (n > AT_MAXDIM)
            luaL_error(L, "%s: %d dims given (at most %d)", who, (int)n, AT_MAXDIM);
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, arg, i);
            int ok;
            lua_Integer v = lua_tointegerx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "%s: shape entry %d is %s, expected an integer", who, i,
                           luaL_typename(L, -1));
            shape[ndim++] = check_size(L, arg, v, who);
            lua_pop(L, 1);
        }
        return ndim;
    }
    int top = lua_gettop(L);
    for (int i = arg; i <= top && lua_type(L, i) == LUA_TNUMBER; i++) {
        if (ndim == AT_MAXDIM)
            luaL_error(L, "%s: more than %d dims given", who, AT_MAXDIM);
        shape[ndim++] = check_size(L, i, luaL_checkinteger(L, i), who);
    }
    return ndim;
}

Device lt_device_opt(lua_State *L, int arg, const char *who) {
    Device dev = op_default_device();
    if (!lua_istable(L, arg))
        return dev;
    if (lua_getfield(L, arg, "device") != LUA_TNIL && device_parse(luaL_checkstring(L, -1), &dev))
        luaL_error(L, "%s: %s", who, at_errmsg());
    lua_pop(L, 1);
    return dev;
}

/* ---- nested tables <-> tensors ----------------------------------------- */

static int table_shape(lua_State *L, int i, int64_t *shape, const char *who) {
    int ndim = 0;
    lua_pushvalue(L, i);
    while (lua_istable(L, -1)) {
        if (ndim == AT_MAXDIM)
            luaL_error(L, "%s: table nests deeper than %d levels", who, AT_MAXDIM);
        shape[ndim++] = (int64_t)lua_rawlen(L, -1);
        if (shape[ndim - 1] == 0)
            break;
        lua_rawgeti(L, -1, 1);
        lua_remove(L, -2);
    }
    lua_pop(L, 1);
    return ndim;
}

/* Copy the nested table on top of the stack into dst, checking that every
   level has the size of the first one (no ragged rows). */
static void table_fill(lua_State *L, int depth, int ndim, const int64_t *shape, float **dst,
                       int64_t *path, const char *who) {
    if (depth == ndim) {
        int ok;
        lua_Number v = lua_tonumberx(L, -1, &ok);
        if (!ok || lua_type(L, -1) != LUA_TNUMBER) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int d = 0; d < ndim; d++) {
                lua_pushfstring(L, "%s%d", d ? "," : "[", (int)path[d] + 1);
                luaL_addvalue(&b);
            }
            luaL_addstring(&b, ndim ? "]" : "");
            luaL_pushresult(&b);
            luaL_error(L, "%s: element %s is a %s, expected a number", who, lua_tostring(L, -1),
                       luaL_typename(L, -2));
        }
        *(*dst)++ = (float)v;
        return;
    }
    if (!lua_istable(L, -1) || (int64_t)lua_rawlen(L, -1) != shape[depth])
        luaL_error(L, "%s: ragged nested table: a row at depth %d has %I elements, expected %I",
                   who, depth + 1, (lua_Integer)(lua_istable(L, -1) ? lua_rawlen(L, -1) : 0),
                   (lua_Integer)shape[depth]);
    for (int64_t k = 0; k < shape[depth]; k++) {
        path[depth] = k;
        lua_rawgeti(L, -1, (lua_Integer)k + 1);
        table_fill(L, depth + 1, ndim, shape, dst, path, who);
        lua_pop(L, 1);
    }
}

/* Push a tensor on dev built from the nested table (or number) at i. */
static Tensor *from_table(lua_State *L, int i, Device dev, const char *who) {
    int64_t shape[AT_MAXDIM], path[AT_MAXDIM], n;
    i = lua_absindex(L, i);
    int ndim = lua_istable(L, i) ? table_shape(L, i, shape, who) : 0;
    if (shape_check(who, ndim, shape, &n))
        lt_error(L);
    // The staging buffer is a userdata so an error while filling frees it.
    float *host = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(float), 0), *w = host;
    lua_pushvalue(L, i);
    table_fill(L, 0, ndim, shape, &w, path, who);
    lua_pop(L, 1);
    Tensor **slot = lt_push_slot(L);
    if (op_from_host(slot, host, ndim, shape, dev))
        lt_error(L);
    lua_remove(L, -2);
    lt_done(L);
    return *slot;
}

Tensor *lt_coerce(lua_State *L, int i, Device dev, const char *who) {
    Tensor *t = lt_test(L, i);
    if (t)
        return t;
    if (lua_type(L, i) == LUA_TNUMBER || lua_istable(L, i))
        return from_table(L, i, dev, who);
    luaL_error(L, "bad argument #%d to '%s' (attn.Tensor, number or table expected, got %s)", i,
               who, luaL_typename(L, i));
    return NULL;
}

/* The values of t as nested tables (a number for a 0-d tensor). */
static void push_table(lua_State *L, const float *v, const Tensor *t, int depth, int64_t *pos) {
    if (depth == t->ndim) {
        lua_pushnumber(L, (lua_Number)v[(*pos)++]);
        return;
    }
    lua_createtable(L, (int)t->shape[depth], 0);
    for (int64_t k = 0; k < t->shape[depth]; k++) {
        push_table(L, v, t, depth + 1, pos);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
}

static int l_table(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int64_t n = tensor_numel(t), pos = 0;
    float *host = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof(float), 0);
    if (op_read(host, t))
        return lt_error(L);
    luaL_checkstack(L, t->ndim + 4, "table: tensor too deep");
    push_table(L, host, t, 0, &pos);
    return 1;
}

/* ---- shape and element access ------------------------------------------ */

static int l_shape(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    lua_createtable(L, t->ndim, 0);
    for (int d = 0; d < t->ndim; d++) {
        lua_pushinteger(L, (lua_Integer)t->shape[d]);
        lua_rawseti(L, -2, d + 1);
    }
    return 1;
}

static int l_size(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (lua_isnoneornil(L, 2))
        return l_shape(L);
    lua_pushinteger(L, (lua_Integer)t->shape[lt_dim(L, 2, t->ndim, 0, "size")]);
    return 1;
}

static int l_dim(lua_State *L) {
    lua_pushinteger(L, lt_check(L, 1)->ndim);
    return 1;
}

static int l_numel(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)tensor_numel(lt_check(L, 1)));
    return 1;
}

static int l_device(lua_State *L) {
    lua_pushstring(L, device_name(tensor_device(lt_check(L, 1))));
    return 1;
}

static int l_is_contiguous(lua_State *L) {
    lua_pushboolean(L, tensor_is_contiguous(lt_check(L, 1)));
    return 1;
}

/* Read ndim 1-based indices (negative from the end) starting at arg. */
static void check_index(lua_State *L, const Tensor *t, int arg, int64_t *idx, const char *who) {
    int given = lua_gettop(L) - arg + 1;
    if (strcmp(who, "set") == 0)
        given--; // the value comes last
    if (given != t->ndim) {
        char s[160];
        luaL_error(L, "%s: %d indices given for a %d-d tensor of shape %s", who, given, t->ndim,
                   tensor_shape_str(s, sizeof s, t));
    }
    for (int d = 0; d < t->ndim; d++) {
        lua_Integer i = luaL_checkinteger(L, arg + d);
        if (i < 0)
            i += t->shape[d] + 1;
        if (i < 1 || i > t->shape[d])
            luaL_error(L, "%s: index %I out of range 1..%I of dim %d", who,
                       luaL_checkinteger(L, arg + d), (lua_Integer)t->shape[d], d + 1);
        idx[d] = i - 1;
    }
}

static int l_get(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int64_t idx[AT_MAXDIM];
    float v;
    check_index(L, t, 2, idx, "get");
    if (op_get(&v, t, idx))
        return lt_error(L);
    lua_pushnumber(L, (lua_Number)v);
    return 1;
}

static int l_set(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int64_t idx[AT_MAXDIM];
    float v = (float)luaL_checknumber(L, lua_gettop(L));
    check_index(L, t, 2, idx, "set");
    if (ag_check_inplace("set", t) || op_set(t, idx, v))
        return lt_error(L);
    lua_settop(L, 1);
    return 1;
}

static int l_item(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    char s[160];
    if (tensor_numel(t) != 1)
        return luaL_error(L, "item: tensor of shape %s has %I elements, expected exactly 1",
                          tensor_shape_str(s, sizeof s, t), (lua_Integer)tensor_numel(t));
    float v;
    if (op_read(&v, t))
        return lt_error(L);
    lua_pushnumber(L, (lua_Number)v);
    return 1;
}

/* ---- views --------------------------------------------------------------- */

/* The 0-based position named by the 1-based (or negative) index at arg. */
static int64_t check_position(lua_State *L, const Tensor *t, int dim, int arg) {
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 0)
        i += t->shape[dim] + 1;
    if (i < 1 || i > t->shape[dim])
        luaL_error(L, "select: index %I out of range 1..%I of dim %d", luaL_checkinteger(L, arg),
                   (lua_Integer)t->shape[dim], dim + 1);
    return i - 1;
}

static int l_select(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (t->ndim == 0)
        return luaL_error(L, "select: cannot select from a 0-d tensor");
    int dim = lt_dim(L, 2, t->ndim, 0, "select");
    int64_t i = check_position(L, t, dim, 3);
    Tensor **slot = lt_push_slot(L);
    return ag_select(slot, t, dim, i) ? lt_error(L) : 1;
}

static int l_narrow(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int dim = lt_dim(L, 2, t->ndim, 0, "narrow");
    lua_Integer start = luaL_checkinteger(L, 3), len = luaL_checkinteger(L, 4);
    if (start < 0)
        start += t->shape[dim] + 1;
    Tensor **slot = lt_push_slot(L);
    return ag_narrow(slot, t, dim, start - 1, len) ? lt_error(L) : 1;
}

static int l_transpose(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int a = lt_dim(L, 2, t->ndim, 0, "transpose"), b = lt_dim(L, 3, t->ndim, 0, "transpose");
    Tensor **slot = lt_push_slot(L);
    return ag_transpose(slot, t, a, b) ? lt_error(L) : 1;
}

/* The matrix transpose: swaps the last two dims (a 0-d or 1-d tensor is its
   own transpose). */
static int l_T(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (t->ndim < 2) {
        lua_settop(L, 1);
        return 1;
    }
    Tensor **slot = lt_push_slot(L);
    return ag_transpose(slot, t, t->ndim - 2, t->ndim - 1) ? lt_error(L) : 1;
}

static int l_reshape(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int64_t shape[AT_MAXDIM];
    int ndim = 0;
    if (lua_istable(L, 2)) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
        for (int i = 1; i <= n && ndim < AT_MAXDIM; i++, lua_pop(L, 1)) {
            lua_rawgeti(L, 2, i);
            shape[ndim++] = (int64_t)luaL_checkinteger(L, -1);
        }
    } else {
        for (int i = 2; i <= lua_gettop(L) && ndim < AT_MAXDIM; i++)
            shape[ndim++] = (int64_t)luaL_checkinteger(L, i);
    }
    for (int i = 0; i < ndim; i++)
        if (shape[i] < -1)
            return luaL_error(L, "reshape: size %I is negative (only -1, to infer, is allowed)",
                              (lua_Integer)shape[i]);
    Tensor **slot = lt_push_slot(L);
    return ag_reshape(slot, t, ndim, shape) ? lt_error(L) : 1;
}

static int l_unsqueeze(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int dim = lt_dim(L, 2, t->ndim, 1, "unsqueeze");
    Tensor **slot = lt_push_slot(L);
    return ag_unsqueeze(slot, t, dim) ? lt_error(L) : 1;
}

/* Drop size-1 dims: all of them, or the one named. */
static int l_squeeze(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int64_t shape[AT_MAXDIM];
    int nd = 0, only = lua_isnoneornil(L, 2) ? -1 : lt_dim(L, 2, t->ndim, 0, "squeeze");
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] != 1 || (only >= 0 && d != only))
            shape[nd++] = t->shape[d];
    Tensor **slot = lt_push_slot(L);
    return ag_reshape(slot, t, nd, shape) ? lt_error(L) : 1;
}

static int l_expand(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int64_t shape[AT_MAXDIM];
    int nd = lt_shape(L, 2, shape, "expand");
    Tensor **slot = lt_push_slot(L);
    return ag_expand(slot, t, nd, shape) ? lt_error(L) : 1;
}

static int l_contiguous(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    Tensor **slot = lt_push_slot(L);
    return ag_contiguous(slot, t) ? lt_error(L) : lt_done(L);
}

static int l_clone(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    Tensor **slot = lt_push_slot(L);
    return ag_clone(slot, t) ? lt_error(L) : lt_done(L);
}

static int l_to(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    Device dev;
    if (device_parse(luaL_checkstring(L, 2), &dev))
        return luaL_error(L, "to: %s", at_errmsg());
    Tensor **slot = lt_push_slot(L);
    if (ag_to(slot, t, dev)) // say who asked: the backend's message names only the device
        return luaL_error(L, "to: %s", at_errmsg());
    return lt_done(L);
}

/* ---- writes -------------------------------------------------------------- */

/* dst = value (a number, a tensor or a nested table), broadcast. */
static void assign(lua_State *L, Tensor *dst, int vi, const char *who) {
    int st;
    if (ag_check_inplace(who, dst))
        lt_error(L);
    if (lua_type(L, vi) == LUA_TNUMBER)
        st = op_fill(dst, (float)lua_tonumber(L, vi));
    else
        st = op_copy(dst, lt_coerce(L, vi, tensor_device(dst), who));
    if (st)
        lt_error(L);
}

static int l_fill(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (ag_check_inplace("fill", t) || op_fill(t, (float)luaL_checknumber(L, 2)))
        return lt_error(L);
    lua_settop(L, 1);
    return 1;
}

static int l_copy(lua_State *L) {
    assign(L, lt_check(L, 1), 2, "copy");
    lua_settop(L, 1);
    return 1;
}

/* ---- math ---------------------------------------------------------------- */

/* a op b where either may be a number, a tensor or a nested table. */
static int binary(lua_State *L, BinaryOp op) {
    const char *who = op_binary_name(op);
    Tensor *a = lt_test(L, 1), *b = lt_test(L, 2);
    Tensor **slot;
    int st;
    if (a && lua_type(L, 2) == LUA_TNUMBER) {
        slot = lt_push_slot(L);
        st = ag_binary_scalar(slot, op, a, (float)lua_tonumber(L, 2), 0);
    } else if (b && lua_type(L, 1) == LUA_TNUMBER) {
        slot = lt_push_slot(L);
        st = ag_binary_scalar(slot, op, b, (float)lua_tonumber(L, 1), 1);
    } else {
        Device dev = a ? tensor_device(a) : b ? tensor_device(b) : op_default_device();
        a = lt_coerce(L, 1, dev, who);
        b = lt_coerce(L, 2, dev, who);
        slot = lt_push_slot(L);
        st = ag_binary(slot, op, a, b);
    }
    return st ? lt_error(L) : lt_done(L);
}

#define BINARY_BINDING(name, op) \
    static int l_##name(lua_State *L) { return binary(L, op); }
BINARY_BINDING(add, BIN_ADD)
BINARY_BINDING(sub, BIN_SUB)
BINARY_BINDING(mul, BIN_MUL)
BINARY_BINDING(div, BIN_DIV)
BINARY_BINDING(pow, BIN_POW)
BINARY_BINDING(maximum, BIN_MAX)
BINARY_BINDING(minimum, BIN_MIN)
BINARY_BINDING(eq, BIN_EQ)
BINARY_BINDING(ne, BIN_NE)
BINARY_BINDING(lt, BIN_LT)
BINARY_BINDING(le, BIN_LE)
BINARY_BINDING(gt, BIN_GT)
BINARY_BINDING(ge, BIN_GE)

static int unary(lua_State *L, UnaryOp op) {
    Tensor *a = lt_check(L, 1);
    Tensor **slot = lt_push_slot(L);
    return ag_unary(slot, op, a) ? lt_error(L) : lt_done(L);
}

#define UNARY_BINDING(name, op) \
    static int l_##name(lua_State *L) { return unary(L, op); }
UNARY_BINDING(neg, UN_NEG)
UNARY_BINDING(exp, UN_EXP)
UNARY_BINDING(log, UN_LOG)
UNARY_BINDING(sqrt, UN_SQRT)
UNARY_BINDING(abs, UN_ABS)
UNARY_BINDING(tanh, UN_TANH)
UNARY_BINDING(sigmoid, UN_SIGMOID)
UNARY_BINDING(relu, UN_RELU)
UNARY_BINDING(sin, UN_SIN)
UNARY_BINDING(cos, UN_COS)
UNARY_BINDING(square, UN_SQUARE)
UNARY_BINDING(sign, UN_SIGN)

/* gelu() is the exact erf form; gelu("tanh") GPT-2's approximation. */
static int l_gelu(lua_State *L) {
    static const char *const kinds[] = {"erf", "tanh", NULL};
    int kind = luaL_checkoption(L, 2, "erf", kinds);
    lua_settop(L, 1);
    return unary(L, kind ? UN_GELU_TANH : UN_GELU);
}

static int l_unm(lua_State *L) {
    lua_settop(L, 1);
    return unary(L, UN_NEG);
}

/* t:sum(dim?, keepdim?) and friends; ARG* results are 1-based. */
static int reduce(lua_State *L, ReduceOp op) {
    Tensor *a = lt_check(L, 1);
    const char *who = op_reduce_name(op);
    int dim = lua_isnoneornil(L, 2) ? -1 : lt_dim(L, 2, a->ndim, 0, who);
    int keepdim = lua_toboolean(L, 3);
    Tensor **slot = lt_push_slot(L);
    if (ag_reduce(slot, op, a, dim, keepdim))
        return lt_error(L);
    if (op == RED_ARGMAX || op == RED_ARGMIN) {
        Tensor *zero_based = *slot;
        int st = op_binary_scalar(slot, BIN_ADD, zero_based, 1.0f, 0);
        tensor_release(zero_based);
        if (st)
            return lt_error(L);
    }
    return lt_done(L);
}

#define REDUCE_BINDING(name, op) \
    static int l_##name(lua_State *L) { return reduce(L, op); }
REDUCE_BINDING(sum, RED_SUM)
REDUCE_BINDING(mean, RED_MEAN)
REDUCE_BINDING(argmax, RED_ARGMAX)
REDUCE_BINDING(argmin, RED_ARGMIN)

/* max(dim) and min(dim) also return the 1-based positions, as torch does. */
static int extreme(lua_State *L, ReduceOp op, ReduceOp arg_op) {
    int with_dim = !lua_isnoneornil(L, 2);
    lua_settop(L, 3);
    reduce(L, op);
    if (!with_dim)
        return 1;
    lua_pushcfunction(L, arg_op == RED_ARGMAX ? l_argmax : l_argmin);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_call(L, 3, 1);
    return 2;
}

static int l_max(lua_State *L) { return extreme(L, RED_MAX, RED_ARGMAX); }
static int l_min(lua_State *L) { return extreme(L, RED_MIN, RED_ARGMIN); }

static int l_softmax(lua_State *L) {
    Tensor *a = lt_check(L, 1);
    if (a->ndim == 0)
        return luaL_error(L, "softmax: needs at least 1 dim");
    // No default dim: softmax over the wrong axis is a silent, classic bug.
    if (lua_isnoneornil(L, 2))
        return luaL_error(L, "softmax: give the dim to normalise over (e.g. x:softmax(-1) for "
                          "the last)");
    int dim = lt_dim(L, 2, a->ndim, 0, "softmax");
    Tensor **slot = lt_push_slot(L);
    return ag_softmax(slot, a, dim) ? lt_error(L) : lt_done(L);
}

/* t:masked_fill(keep, value): value where keep is 0, t elsewhere (keep
   broadcasts: a [T,T] causal mask over [B,H,T,T] scores). */
static int l_masked_fill(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    Tensor *keep = lt_coerce(L, 2, tensor_device(t), "masked_fill");
    float value = (float)luaL_checknumber(L, 3);
    Tensor **slot = lt_push_slot(L);
    return ag_masked_fill(slot, t, keep, value) ? lt_error(L) : lt_done(L);
}

static int l_norm(lua_State *L) {
    Tensor *a = lt_check(L, 1);
    Tensor **slot = lt_push_slot(L);
    return ag_norm(slot, a) ? lt_error(L) : lt_done(L);
}

int l_tensor_matmul(lua_State *L);
int l_tensor_matmul(lua_State *L) {
    Tensor *a = lt_check(L, 1), *b = lt_check(L, 2);
    Tensor **slot = lt_push_slot(L);
    return ag_matmul(slot, a, b) ? lt_error(L) : lt_done(L);
}

/* ---- metamethods --------------------------------------------------------- */

static int l_tostring(lua_State *L) {
    Tensor *t = lt_check(L, 1), *host = t;
    if (tensor_device(t) != DEV_CPU) {
        Tensor **slot = lt_push_slot(L);
        if (op_to(slot, t, DEV_CPU))
            return lt_error(L);
        host = *slot;
    }
    char *s = tensor_format(host, device_name(tensor_device(t)), 100);
    if (!s)
        return lt_error(L);
    lua_pushstring(L, s);
    free(s);
    return 1;
}

static int l_len(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (t->ndim == 0)
        return luaL_error(L, "#: a 0-d tensor has no length (use :item())");
    lua_pushinteger(L, (lua_Integer)t->shape[0]);
    return 1;
}

/* t[i]: a view of row i (a number for a 1-d t); t.grad: the gradient;
   t.name: a method. */
static int l_index(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        if (t->ndim == 0)
            return luaL_error(L, "index: cannot index a 0-d tensor (use :item())");
        int64_t i = check_position(L, t, 0, 2);
        if (t->ndim == 1) {
            float v;
            if (op_get(&v, t, &i))
                return lt_error(L);
            lua_pushnumber(L, (lua_Number)v);
            return 1;
        }
        Tensor **slot = lt_push_slot(L);
        return ag_select(slot, t, 0, i) ? lt_error(L) : 1;
    }
    if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "grad") == 0) {
        if (!t->grad)
            return lua_pushnil(L), 1;
        tensor_retain(t->grad);
        *lt_push_slot(L) = t->grad;
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
}

/* t[i] = v: writes v (number, tensor, table) into row i. */
static int l_newindex(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (lua_type(L, 2) != LUA_TNUMBER || t->ndim == 0)
        return luaL_error(L, "attn.Tensor: cannot set field '%s' (only t[i] = value)",
                          luaL_tolstring(L, 2, NULL));
    if (ag_check_inplace("setindex", t))
        return lt_error(L);
    int64_t i = check_position(L, t, 0, 2);
    Tensor **slot = lt_push_slot(L);
    *slot = tensor_select(t, 0, i);
    if (!*slot)
        return lt_error(L);
    assign(L, *slot, 3, "setindex");
    return 0;
}

/* ---- autograd -------------------------------------------------------------- */

/* t:requires_grad(on?) marks a leaf (on defaults to true) and returns t,
   so `w = attn.randn(4, 4):requires_grad(true)` reads as one line. Ask
   with t:needs_grad(). */
static int l_requires_grad(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    int on = lua_isnoneornil(L, 2) ? 1 : lua_toboolean(L, 2);
    if (ag_set_requires_grad(t, on))
        return lt_error(L);
    lua_settop(L, 1);
    return 1;
}

static int l_needs_grad(lua_State *L) {
    lua_pushboolean(L, ag_tracks(lt_check(L, 1)));
    return 1;
}

static int l_backward(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    Tensor *g = lua_isnoneornil(L, 2) ? NULL : lt_check(L, 2);
    if (ag_backward(t, g))
        return lt_error(L);
    return 0;
}

/* Zero the gradient in place (keeps its memory for the next step). */
static int l_zero_grad(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    if (t->grad && op_fill(t->grad, 0.0f))
        return lt_error(L);
    lua_settop(L, 1);
    return 1;
}

static int l_detach(lua_State *L) {
    Tensor *t = lt_check(L, 1);
    Tensor **slot = lt_push_slot(L);
    return ag_detach(slot, t) ? lt_error(L) : 1;
}

static int l_is_leaf(lua_State *L) {
    lua_pushboolean(L, lt_check(L, 1)->grad_fn == NULL);
    return 1;
}

/* The op that made t ("matmul", ...), or nil for a leaf. */
static int l_grad_fn(lua_State *L) {
    const char *name = ag_op_name(lt_check(L, 1));
    if (name)
        lua_pushstring(L, name);
    else
        lua_pushnil(L);
    return 1;
}

static const luaL_Reg methods[] = {
    {"shape", l_shape},     {"size", l_size},           {"dim", l_dim},
    {"numel", l_numel},     {"device", l_device},       {"is_contiguous", l_is_contiguous},
    {"get", l_get},         {"set", l_set},             {"item", l_item},
    {"table", l_table},     {"select", l_select},       {"narrow", l_narrow},
    {"transpose", l_transpose}, {"T", l_T},             {"reshape", l_reshape},
    {"view", l_reshape},    {"unsqueeze", l_unsqueeze}, {"squeeze", l_squeeze},
    {"expand", l_expand},   {"contiguous", l_contiguous}, {"clone", l_clone},
    {"to", l_to},           {"fill", l_fill},           {"copy", l_copy},
    {"add", l_add},         {"sub", l_sub},             {"mul", l_mul},
    {"div", l_div},         {"pow", l_pow},             {"maximum", l_maximum},
    {"minimum", l_minimum}, {"eq", l_eq},               {"ne", l_ne},
    {"lt", l_lt},           {"le", l_le},               {"gt", l_gt},
    {"ge", l_ge},           {"neg", l_neg},             {"exp", l_exp},
    {"log", l_log},         {"sqrt", l_sqrt},           {"abs", l_abs},
    {"tanh", l_tanh},       {"sigmoid", l_sigmoid},     {"relu", l_relu},
    {"gelu", l_gelu},       {"sin", l_sin},             {"cos", l_cos},
    {"square", l_square},   {"sign", l_sign},           {"sum", l_sum},
    {"mean", l_mean},       {"max", l_max},             {"min", l_min},
    {"argmax", l_argmax},   {"argmin", l_argmin},       {"softmax", l_softmax},
    {"norm", l_norm},       {"matmul", l_tensor_matmul}, {"close", l_gc},
    {"requires_grad", l_requires_grad}, {"needs_grad", l_needs_grad},
    {"backward", l_backward}, {"zero_grad", l_zero_grad}, {"detach", l_detach},
    {"is_leaf", l_is_leaf}, {"grad_fn", l_grad_fn}, {"masked_fill", l_masked_fill},
    {NULL, NULL},
};

static const luaL_Reg metamethods[] = {
    {"__add", l_add},     {"__sub", l_sub},           {"__mul", l_mul},
    {"__div", l_div},     {"__pow", l_pow},           {"__unm", l_unm},
    {"__len", l_len},     {"__tostring", l_tostring}, {"__gc", l_gc},
    {"__close", l_gc},    {"__newindex", l_newindex}, {NULL, NULL},
};

void lt_register(lua_State *L) {
    luaL_newmetatable(L, LT_META); // sets __name = "attn.Tensor"
    luaL_setfuncs(L, metamethods, 0);
    luaL_newlib(L, methods);
    // __index keeps the methods table as an upvalue and also exposes it as
    // a field, so completion and help can list the methods without calls.
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "methods");
    lua_pushcclosure(L, l_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}
