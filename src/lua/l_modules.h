/*
 * l_modules.h: the luaopen functions of attn's C sub-tables (one
 * l_<table>.c each), listed in l_attn.c's submodules array.
 */
#ifndef ATTN_L_MODULES_H
#define ATTN_L_MODULES_H

#include <lua.h>

int luaopen_attn_F(lua_State *L);

// --- declarations (one line each: int luaopen_attn_name(lua_State *L);)
int luaopen_attn_tokenizer(lua_State *L);
int luaopen_attn_io(lua_State *L);
int luaopen_attn_viz(lua_State *L);
int luaopen_attn_optim(lua_State *L);
// --- declarations end

#endif
