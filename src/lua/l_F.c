/*
 * l_F.c: the C half of attn.F, the functional ops that need a fused
 * kernel: linear, embedding, layer_norm, cross_entropy, flash_attention. lua/attn/F.lua adds the
 * ones that read best as compositions of tensor ops.
 */
#include <config.h>

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>

#include "../autograd/autograd.h"
#include "../core/error.h"
#include "l_modules.h"
#include "l_tensor.h"

/* Integers from a Lua list (or a list of lists) or a tensor at arg, as a
   userdata array left on the stack; `base` is subtracted from each (1 for
   class numbers, 0 for token ids). Returns the count; shape gets the dims. */
static int64_t *int_args(lua_State *L, int arg, lua_Integer base, int *ndim, int64_t *shape,
                         const char *who) {
    Tensor *t = lt_test(L, arg);
    if (t) {
        int64_t n = tensor_numel(t);
        int64_t *ids = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *ids, 0);
        float *v = malloc((size_t)(n ? n : 1) * sizeof *v); // no Lua call may fail while held
        int st = v ? op_read(v, t) : at_error(AT_ENOMEM, "out of memory");
        if (st) {
            free(v);
            luaL_error(L, "%s: %s", who, at_errmsg());
        }
        for (int64_t i = 0; i < n; i++)
            ids[i] = (int64_t)v[i] - base;
        free(v);
        *ndim = t->ndim;
        for (int d = 0; d < t->ndim; d++)
            shape[d] = t->shape[d];
        return ids;
    }
    luaL_checktype(L, arg, LUA_TTABLE);
    int nested = lua_rawgeti(L, arg, 1) == LUA_TTABLE;
    lua_Integer rows = (lua_Integer)lua_rawlen(L, arg), cols = 1;
    if (nested)
        cols = (lua_Integer)lua_rawlen(L, -1);
    lua_pop(L, 1);
    lua_Integer count = rows * cols > 0 ? rows * cols : 1;
    int64_t *ids = lua_newuserdatauv(L, (size_t)count * sizeof *ids, 0);
    for (lua_Integer r = 1; r <= rows; r++) {
        lua_rawgeti(L, arg, r);
        if (nested && (!lua_istable(L, -1) || (lua_Integer)lua_rawlen(L, -1) != cols))
            luaL_error(L, "%s: row %I of the ids has a different length than row 1", who, r);
        for (lua_Integer c = 1; c <= cols; c++) {
            if (nested)
                lua_rawgeti(L, -1, c);
            int ok;
            lua_Integer v = lua_tointegerx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "%s: entry %I is %s, expected an integer", who,
                           (r - 1) * cols + c, luaL_typename(L, -1));
            ids[(r - 1) * cols + (c - 1)] = (int64_t)(v - base);
            lua_pop(L, nested ? 1 : 0);
        }
        lua_pop(L, 1);
    }
    *ndim = nested ? 2 : 1;
    shape[0] = rows;
    shape[1] = cols;
    return ids;
}

/* attn.F.embedding(ids, W): rows of W [vocab, dim] for each token id. */
static int l_F_embedding(lua_State *L) {
    Tensor *table = lt_check(L, 2);
    int ndim;
    int64_t shape[AT_MAXDIM];
    int64_t *ids = int_args(L, 1, 0, &ndim, shape, "embedding");
    Tensor **slot = lt_push_slot(L);
    return ag_embedding(slot, table, ids, ndim, shape) ? lt_error(L) : lt_done(L);
}

/* attn.F.linear(x, W, b?) = x W^T + b, W [out, in]: the bias goes into the
   result before the product, which then adds itself to it (one pass less
   than a product and an add). */
static int l_F_linear(lua_State *L) {
    Tensor *x = lt_check(L, 1), *w = lt_check(L, 2);
    Tensor *b = lua_isnoneornil(L, 3) ? NULL : lt_check(L, 3);
    Tensor **slot = lt_push_slot(L);
    return ag_linear(slot, x, w, b) ? lt_error(L) : lt_done(L);
}

/* attn.F.layer_norm(x, w?, b?, eps?) over the last dim. */
static int l_F_layer_norm(lua_State *L) {
    Tensor *x = lt_check(L, 1);
    Tensor *w = lua_isnoneornil(L, 2) ? NULL : lt_check(L, 2);
    Tensor *b = lua_isnoneornil(L, 3) ? NULL : lt_check(L, 3);
    float eps = (float)luaL_optnumber(L, 4, 1e-5);
    if (!(eps > 0))
        return luaL_error(L, "layer_norm: eps must be positive");
    Tensor **slot = lt_push_slot(L);
    return ag_layer_norm(slot, x, w, b, eps) ? lt_error(L) : lt_done(L);
}

/* attn.F.cross_entropy(logits [N, C] or [..., C], targets (1-based classes),
   {reduction="mean"|"sum"|"none", ignore=class}) */
static int l_F_cross_entropy(lua_State *L) {
    static const char *const kinds[] = {"mean", "sum", "none", NULL};
    Tensor *logits = lt_check(L, 1);
    int reduction = 0;
    lua_Integer ignore = 0; // no class is 0: nothing ignored by default
    if (lua_istable(L, 3)) {
        lua_getfield(L, 3, "reduction");
        reduction = luaL_checkoption(L, -1, "mean", kinds);
        lua_getfield(L, 3, "ignore");
        ignore = luaL_optinteger(L, -1, 0);
        lua_pop(L, 2);
    }
    int ndim;
    int64_t shape[AT_MAXDIM];
    int64_t *t = int_args(L, 2, 1, &ndim, shape, "cross_entropy");
    int64_t n = shape_numel(ndim, shape), kept = 0;
    for (int64_t i = 0; i < n; i++) {
        if (t[i] < 0) // -1 marks ignored rows below: no class may map there
            return luaL_error(L, "cross_entropy: target %I of row %I is not a class (classes "
                              "are 1-based)", (lua_Integer)t[i] + 1, (lua_Integer)i + 1);
        if (ignore && t[i] == ignore - 1)
            t[i] = -1;
        kept += t[i] >= 0;
    }
    if (logits->ndim < 1)
        return luaL_error(L, "cross_entropy: logits must have a class dim");
    int64_t C = logits->shape[logits->ndim - 1], rows[2] = {C ? tensor_numel(logits) / C : 0, C};
    Tensor **flat = lt_push_slot(L), **losses = lt_push_slot(L);
    if (ag_reshape(flat, logits, 2, rows) || ag_cross_entropy(losses, *flat, t, n))
        return lt_error(L);
    if (reduction == 2)
        return lt_done(L);
    Tensor **sum = lt_push_slot(L);
    if (ag_reduce(sum, RED_SUM, *losses, -1, 0))
        return lt_error(L);
    if (reduction == 1)
        return lt_done(L);
    Tensor **mean = lt_push_slot(L);
    float scale = kept ? 1.0f / (float)kept : 0.0f; // all ignored: a loss of 0
    return ag_binary_scalar(mean, BIN_MUL, *sum, scale, 0) ? lt_error(L) : lt_done(L);
}

/* attn.F.flash_attention(q, k, v, {causal=, scale=}): the fused kernel,
   never materialising the [Tq, Tk] weights. */
static int l_F_flash_attention(lua_State *L) {
    Tensor *q = lt_check(L, 1), *k = lt_check(L, 2), *v = lt_check(L, 3);
    int causal = 0;
    float scale = q->ndim > 0 ? 1.0f / sqrtf((float)q->shape[q->ndim - 1]) : 1.0f;
    if (lua_istable(L, 4)) {
        lua_getfield(L, 4, "causal");
        causal = lua_toboolean(L, -1);
        lua_getfield(L, 4, "scale");
        scale = (float)luaL_optnumber(L, -1, (lua_Number)scale);
        lua_pop(L, 2);
    }
    Tensor **slot = lt_push_slot(L);
    return ag_attention(slot, q, k, v, causal, scale) ? lt_error(L) : lt_done(L);
}

int luaopen_attn_F(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"linear", l_F_linear},
        {"embedding", l_F_embedding},
        {"layer_norm", l_F_layer_norm},
        {"cross_entropy", l_F_cross_entropy},
        {"flash_attention", l_F_flash_attention},
        {NULL, NULL},
    };
    luaL_newlib(L, functions);
    return 1;
}
