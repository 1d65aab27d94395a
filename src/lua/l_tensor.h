/*
 * l_tensor.h: the Tensor userdata, shared by the binding files.
 *
 * A Lua tensor is a full userdata holding one Tensor * (a reference it
 * owns) under the metatable "attn.Tensor". Bindings push the userdata
 * first (holding NULL), then let an op fill it: if the op fails, the empty
 * userdata is garbage and nothing leaks.
 */
#ifndef ATTN_L_TENSOR_H
#define ATTN_L_TENSOR_H

#include <lua.h>

#include "../ops/tensor_ops.h"

#define LT_META "attn.Tensor"

/* The tensor at index i, or a "bad argument" error. Borrowed. */
Tensor *lt_check(lua_State *L, int i);
/* The tensor at i, or NULL if the value there is not a tensor. */
Tensor *lt_test(lua_State *L, int i);
/* Push an empty tensor userdata; returns the slot an op fills. */
Tensor **lt_push_slot(lua_State *L);
/* After an op filled the slot on top of the stack: tell the collector
   about new tensor bytes. Returns 1 (the pushed value) for `return`. */
int lt_done(lua_State *L);
/* Raise the last C error (at_errmsg) as a Lua error. Never returns. */
int lt_error(lua_State *L);
/* A dim argument (1-based, negative counts from the end) as 0-based for a
   tensor of ndim dims; `extra` allows ndim itself (for unsqueeze/stack). */
int lt_dim(lua_State *L, int arg, int ndim, int extra, const char *who);
/* A shape from varargs (2,3) or a table ({2,3}) starting at arg; returns
   ndim. `who` names the function in errors. */
int lt_shape(lua_State *L, int arg, int64_t *shape, const char *who);
/* A device from an options table at arg ({device="cuda"}), or default. */
Device lt_device_opt(lua_State *L, int arg, const char *who);
/* A tensor from a value: a tensor (borrowed), a number or a nested table
   (converted on `dev`, left on the stack at the top and returned). */
Tensor *lt_coerce(lua_State *L, int i, Device dev, const char *who);

/* Register the Tensor metatable (called by luaopen_attn_core). */
void lt_register(lua_State *L);

#endif
