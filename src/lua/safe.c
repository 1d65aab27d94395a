/*
 * safe.c: the --safe sandbox (see safe.h for what it allows and refuses).
 *
 * Each guarded function becomes a C closure that holds the original function
 * as upvalue 1: it checks the arguments, then calls the original with them
 * unchanged, so error messages and return values stay Lua's own. The
 * originals are reachable only through those upvalues, which is why the
 * debug library shrinks to traceback and getinfo.
 *
 * Paths are checked when the call is made; a script has no way to create a
 * symbolic link or change folder in safe mode, so the answer stays true
 * until the original function opens the file.
 */
#include <config.h>

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lualib.h>

#include "safe.h"

// Its address is the registry key whose value (true) marks safe mode.
static const char safe_key = 0;

int attn_safe_enabled(lua_State *L) {
    int on;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &safe_key);
    on = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return on;
}

/* ---- paths ------------------------------------------------------------- */

/* The folder part of path ("." when there is none). New string or NULL. */
static char *path_dir(const char *path, const char *slash) {
    if (slash == NULL)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* The real path that writing to `path` would touch, as a malloc'd string;
   NULL when it cannot be resolved (dangling link, missing folder, ...).
   An existing last component goes through realpath(), so a symbolic link
   counts where it points; a dangling one is refused because fopen would
   create its target, wherever that is. */
static char *path_resolve(const char *path) {
    struct stat st;
    if (path[0] == '\0')
        return NULL;
    if (lstat(path, &st) == 0)
        return realpath(path, NULL);
    if (errno != ENOENT)
        return NULL;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (!strcmp(base, "") || !strcmp(base, ".") || !strcmp(base, ".."))
        return NULL;
    char *dir = path_dir(path, slash);
    char *real = dir ? realpath(dir, NULL) : NULL;
    free(dir);
    if (real == NULL)
        return NULL;
    size_t n = strlen(real) + strlen(base) + 2;
    char *out = malloc(n);
    if (out != NULL)
        snprintf(out, n, "%s/%s", strcmp(real, "/") ? real : "", base);
    free(real);
    return out;
}

/* Whether the real path `real` lies strictly inside the real folder `dir`. */
static int path_inside(const char *real, const char *dir) {
    size_t n = strlen(dir);
    if (!strcmp(dir, "/"))
        return real[0] == '/' && real[1] != '\0';
    return strncmp(real, dir, n) == 0 && real[n] == '/';
}

int attn_safe_path_writable(lua_State *L, const char *path) {
    if (!attn_safe_enabled(L))
        return 1;
    char *real = path_resolve(path);
    char *cwd = realpath(".", NULL);
    int resolved = real != NULL;
    int ok = real != NULL && cwd != NULL && path_inside(real, cwd);
    free(real);
    free(cwd);
    if (ok)
        return 1;
    if (resolved)
        lua_pushfstring(L, "'%s' is outside the working folder (--safe allows writes only there)",
                        path);
    else
        lua_pushfstring(L, "'%s' does not resolve to a place inside the working folder (--safe)",
                        path);
    return 0;
}

/* ---- guarded functions ------------------------------------------------- */

/* Call the original function (upvalue 1) with this call's arguments. */
static int call_original(lua_State *L) {
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Raise "<who>: <why>" unless argument `arg` is a writable path. */
static void check_writable(lua_State *L, const char *who, int arg) {
    const char *path = luaL_checkstring(L, arg);
    if (!attn_safe_path_writable(L, path))
        luaL_error(L, "%s: %s", who, lua_tostring(L, -1));
}

static int safe_io_open(lua_State *L) {
    luaL_checkstring(L, 1);
    const char *mode = luaL_optstring(L, 2, "r");
    if (strpbrk(mode, "wa+") != NULL)
        check_writable(L, "io.open", 1);
    return call_original(L);
}

/* io.output(name) opens name for writing; io.output(file) and io.output()
   only switch or query the current output. */
static int safe_io_output(lua_State *L) {
    if (!lua_isnoneornil(L, 1) && lua_isstring(L, 1))
        check_writable(L, "io.output", 1);
    return call_original(L);
}

static int safe_os_remove(lua_State *L) {
    check_writable(L, "os.remove", 1);
    return call_original(L);
}

static int safe_os_rename(lua_State *L) {
    check_writable(L, "os.rename", 1);
    check_writable(L, "os.rename", 2);
    return call_original(L);
}

/* Put "t" (text only) in the mode argument at index arg, keeping any later
   arguments (load's env must stay absent when it was not given). */
static void force_text_mode(lua_State *L, int arg) {
    if (lua_gettop(L) < arg)
        lua_settop(L, arg);
    lua_pushliteral(L, "t");
    lua_replace(L, arg);
}

static int safe_load(lua_State *L) { // load(chunk [, name [, mode [, env]]])
    force_text_mode(L, 3);
    return call_original(L);
}

static int safe_loadfile(lua_State *L) { // loadfile([file [, mode [, env]]])
    force_text_mode(L, 2);
    return call_original(L);
}

/* dofile as in lbaselib.c but text only; Lua's own calls luaL_loadfile,
   which takes binary chunks too. */
static int safe_dofile(lua_State *L) {
    const char *fname = luaL_optstring(L, 1, NULL);
    lua_settop(L, 1);
    if (luaL_loadfilex(L, fname, "t") != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L) - 1;
}

/* The Lua-file searcher of require, text only. Upvalues: the package table
   and the original package.searchpath (the user may replace the field). */
static int safe_searcher(lua_State *L) {
    const char *name = luaL_checkstring(L, 1);
    lua_getfield(L, lua_upvalueindex(1), "path");
    if (!lua_isstring(L, -1))
        return luaL_error(L, "'package.path' must be a string");
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, -3);
    lua_call(L, 2, 2);
    if (lua_isnil(L, -2))
        return 1; // the "no file ..." list, for require's message
    const char *file = lua_tostring(L, -2);
    if (luaL_loadfilex(L, file, "t") != LUA_OK)
        return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file,
                          lua_tostring(L, -1));
    lua_pushstring(L, file);
    return 2;
}

static int safe_denied(lua_State *L) {
    return luaL_error(L, "%s: not allowed in --safe mode", lua_tostring(L, lua_upvalueindex(1)));
}

/* ---- installing -------------------------------------------------------- */

/* Replace table[name] (table at the top of the stack) by a closure of fn
   over the original value. */
static void guard_field(lua_State *L, const char *name, lua_CFunction fn) {
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

/* Replace lib.name by a function that refuses with "lib.name: ...". */
static void deny_field(lua_State *L, const char *lib, const char *name) {
    lua_getglobal(L, lib);
    lua_pushfstring(L, "%s.%s", lib, name);
    lua_pushcclosure(L, safe_denied, 1);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

/* package.searchers becomes { preload, text-only Lua files }: no C. */
static void fix_searchers(lua_State *L) {
    lua_getglobal(L, "package");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_createtable(L, 2, 0);
    lua_getfield(L, -2, "searchers");
    lua_rawgeti(L, -1, 1); // the preload searcher
    lua_rawseti(L, -3, 1);
    lua_pop(L, 1);
    lua_pushvalue(L, -2);
    lua_getfield(L, -1, "searchpath");
    lua_pushcclosure(L, safe_searcher, 2);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "searchers");
    lua_pop(L, 1);
}

/* debug keeps traceback and getinfo (read-only views of the stack). */
static void trim_debug(lua_State *L) {
    lua_getglobal(L, "debug");
    lua_createtable(L, 0, 2);
    lua_getfield(L, -2, "traceback");
    lua_setfield(L, -2, "traceback");
    lua_getfield(L, -2, "getinfo");
    lua_setfield(L, -2, "getinfo");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "debug");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_insert(L, -2);
    lua_setfield(L, -2, "debug");
    lua_pop(L, 2);
}

void attn_safe_apply(lua_State *L) {
    deny_field(L, "os", "execute");
    deny_field(L, "os", "tmpname");
    deny_field(L, "io", "popen");
    deny_field(L, "package", "loadlib");

    lua_getglobal(L, "io");
    guard_field(L, "open", safe_io_open);
    guard_field(L, "output", safe_io_output);
    lua_getglobal(L, "os");
    guard_field(L, "remove", safe_os_remove);
    guard_field(L, "rename", safe_os_rename);
    lua_pushglobaltable(L);
    guard_field(L, "load", safe_load);
    guard_field(L, "loadfile", safe_loadfile);
    lua_pushcfunction(L, safe_dofile);
    lua_setfield(L, -2, "dofile");
    lua_pop(L, 3);

    fix_searchers(L);
    trim_debug(L);
    lua_pushboolean(L, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &safe_key);
}
