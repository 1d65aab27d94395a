/*
 * l_optim.c: attn._optim, the fused optimizer updates that lua/attn/optim.lua
 * calls when the parameters' device has them. The update's formula lives,
 * readable, in optim.lua; this is only the fast path for the same numbers.
 */
#include <config.h>

#include <lauxlib.h>
#include <math.h>

#include "../autograd/autograd.h"
#include "../core/error.h"
#include "l_modules.h"
#include "l_tensor.h"

static float field(lua_State *L, int opts, const char *name) {
    lua_getfield(L, opts, name);
    if (!lua_isnumber(L, -1))
        luaL_error(L, "_optim.adamw: option %s must be a number", name);
    float x = (float)lua_tonumber(L, -1);
    lua_pop(L, 1);
    return x;
}

/* _optim.adamw(p, g, m, v, {lr=, b1=, b2=, eps=, weight_decay=, step=})
   -> true, or false and a reason when the device has no fused update (the
   caller then runs the same update as tensor ops). */
static int l_adamw(lua_State *L) {
    Tensor *p = lt_check(L, 1), *g = lt_check(L, 2), *m = lt_check(L, 3), *v = lt_check(L, 4);
    luaL_checktype(L, 5, LUA_TTABLE);
    lua_getfield(L, 5, "step");
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1)
        return luaL_error(L, "_optim.adamw: option step must be an integer >= 1");
    lua_Integer step = lua_tointeger(L, -1);
    lua_pop(L, 1);
    AdamHyper h = {.lr = field(L, 5, "lr"), .b1 = field(L, 5, "b1"), .b2 = field(L, 5, "b2"),
                   .eps = field(L, 5, "eps"), .weight_decay = field(L, 5, "weight_decay")};
    h.bias1 = (float)(1.0 - pow(h.b1, (double)step));
    h.bias2 = (float)(1.0 - pow(h.b2, (double)step));
    if (ag_check_inplace("AdamW", p))
        return lt_error(L);
    Tensor *gc = NULL;
    int st = op_contiguous(&gc, g);
    if (!st)
        st = op_adamw(p, m, v, gc, &h);
    tensor_release(gc);
    if (st == AT_EDEVICE || st == AT_ESHAPE) {
        lua_pushboolean(L, 0);
        lua_pushstring(L, at_errmsg());
        return 2;
    }
    if (st)
        return lt_error(L);
    lua_pushboolean(L, 1);
    return 1;
}

int luaopen_attn_optim(lua_State *L) {
    static const luaL_Reg functions[] = {{"adamw", l_adamw}, {NULL, NULL}};
    luaL_newlib(L, functions);
    return 1;
}
