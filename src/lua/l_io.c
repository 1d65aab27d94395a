/*
 * l_io.c: attn._io, tensors to and from safetensors files.
 *
 *   attn.save(path, {name = tensor, ...}, {metadata = {key = "value"}})
 *   tensors, metadata = attn.load(path)
 *
 * The C functions live in the sub-table attn._io (the underscore keeps the
 * plumbing out of help and completion); init.lua publishes them as
 * attn.save / attn.load, the names of API.md and of the messages. Files hold F32 on write; load reads F32, F16, BF16 and
 * the integer dtypes of safetensors.h, making float32 tensors on the
 * default device. Tensors are written sorted by name, so the same table
 * always gives the same bytes. In --safe mode save writes only inside the
 * working folder (safe.h).
 *
 * Every C resource belongs to the Lua stack before anything can raise: the
 * open file sits in a userdata with __gc, host copies are userdata.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "../core/error.h"
#include "../io/json.h"
#include "../io/safetensors.h"
#include "l_modules.h"
#include "l_tensor.h"
#include "safe.h"

#define FILE_META "attn.io.File"

static int file_gc(lua_State *L) {
    StFile **box = luaL_checkudata(L, 1, FILE_META);
    safetensors_close(*box);
    *box = NULL;
    return 0;
}

/* An empty box for an open file, closed by the collector if we raise. */
static StFile **push_file(lua_State *L) {
    StFile **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    if (luaL_newmetatable(L, FILE_META)) {
        lua_pushcfunction(L, file_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return box;
}

static int io_error(lua_State *L, const char *who) {
    return luaL_error(L, "%s: %s", who, at_errmsg());
}

/* One tensor of f into *slot on dev: straight into a CPU tensor's memory,
   through a host buffer for a device. */
static int read_tensor(Tensor **slot, const StFile *f, const StTensor *t, Device dev) {
    if (dev == DEV_CPU) {
        if (op_empty(slot, t->ndim, t->shape, DEV_CPU))
            return at_errcode();
        return safetensors_read_f32(tensor_data(*slot), f, t);
    }
    float *host = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *host);
    if (!host)
        return at_error(AT_ENOMEM, "out of memory for tensor '%s'", t->name);
    int st = safetensors_read_f32(host, f, t);
    if (!st)
        st = op_from_host(slot, host, t->ndim, t->shape, dev);
    free(host);
    return st;
}

/* tensors, metadata = attn.load(path) */
static int l_io_load(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    Device dev = op_default_device();
    lua_settop(L, 1);
    StFile **box = push_file(L);
    if (safetensors_open(box, path))
        return io_error(L, "attn.load");
    const StFile *f = *box;
    size_t n = safetensors_count(f);
    lua_createtable(L, 0, n > 1000000 ? 1000000 : (int)n);
    for (size_t i = 0; i < n; i++) {
        const StTensor *t = safetensors_tensor(f, i);
        Tensor **slot = lt_push_slot(L);
        if (read_tensor(slot, f, t, dev))
            return io_error(L, "attn.load");
        lt_done(L);
        lua_setfield(L, -2, t->name);
    }
    lua_createtable(L, 0, (int)safetensors_meta_count(f));
    for (size_t i = 0; i < safetensors_meta_count(f); i++) {
        const StMeta *m = safetensors_meta(f, i);
        lua_pushstring(L, m->value);
        lua_setfield(L, -2, m->key);
    }
    safetensors_close(*box); // the tensors own copies: unmap now, not at the next GC
    *box = NULL;
    return 2;
}

/* ---- save ----------------------------------------------------------------- */

static int by_name(const void *a, const void *b) {
    return strcmp(((const StWrite *)a)->name, ((const StWrite *)b)->name);
}

/* A string key or value of a table, with no NUL inside (C strings below). */
static const char *c_string(lua_State *L, int i, const char *what, const char *who) {
    size_t len;
    if (lua_type(L, i) != LUA_TSTRING)
        luaL_error(L, "%s: %s is a %s, expected a string", who, what, luaL_typename(L, i));
    const char *s = lua_tolstring(L, i, &len);
    if (strlen(s) != len)
        luaL_error(L, "%s: %s '%s' holds a NUL character", who, what, s);
    return s;
}

/* Fill w from the tensor at stack index i: its own memory when it is a
   contiguous CPU tensor, else a host copy left on the stack. */
static void write_entry(lua_State *L, StWrite *w, const char *name, int i) {
    Tensor *t = lt_test(L, i);
    if (!t)
        luaL_error(L, "attn.save: '%s' is a %s, expected a tensor", name, luaL_typename(L, i));
    w->name = name;
    w->ndim = t->ndim;
    w->shape = t->shape;
    if (tensor_device(t) == DEV_CPU && tensor_is_contiguous(t)) {
        w->data = tensor_data(t);
        return;
    }
    int64_t n = tensor_numel(t);
    luaL_checkstack(L, 2, "attn.save: too many tensors");
    float *host = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *host, 0);
    if (op_read(host, t))
        io_error(L, "attn.save");
    w->data = host;
    lua_insert(L, -3); // below the key and value of the traversal
}

/* The tensor table at 2 as StWrite entries sorted by name; *n counts them. */
static StWrite *collect_tensors(lua_State *L, size_t *n) {
    *n = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        (*n)++;
        lua_pop(L, 1);
    }
    StWrite *ws = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *ws, 0);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *name = c_string(L, -2, "a key of the tensor table", "attn.save");
        write_entry(L, &ws[i++], name, lua_gettop(L));
        lua_pop(L, 1);
    }
    qsort(ws, *n, sizeof *ws, by_name);
    return ws;
}

/* opts.metadata (a table of strings) as StMeta entries; *n counts them. */
static StMeta *collect_meta(lua_State *L, int opts, size_t *n) {
    *n = 0;
    if (lua_isnoneornil(L, opts))
        return NULL;
    lua_pushnil(L);
    while (lua_next(L, opts)) {
        const char *k = c_string(L, -2, "an option name", "attn.save");
        if (strcmp(k, "metadata"))
            luaL_error(L, "attn.save: unknown option '%s' (known: metadata)", k);
        lua_pop(L, 1);
    }
    if (lua_getfield(L, opts, "metadata") == LUA_TNIL)
        return NULL;
    if (!lua_istable(L, -1))
        luaL_error(L, "attn.save: metadata is a %s, expected a table of strings",
                   luaL_typename(L, -1));
    int mt = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, mt)) {
        (*n)++;
        lua_pop(L, 1);
    }
    StMeta *ms = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *ms, 0);
    size_t i = 0;
    lua_pushnil(L);
    while (lua_next(L, mt)) {
        ms[i].key = c_string(L, -2, "a metadata key", "attn.save");
        ms[i++].value = c_string(L, -1, "a metadata value", "attn.save");
        lua_pop(L, 1);
    }
    return ms;
}

/* attn.save(path, {name = tensor, ...}, {metadata = {k = "v"}}) */
static int l_io_save(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    if (!attn_safe_path_writable(L, path))
        return luaL_error(L, "attn.save: %s", lua_tostring(L, -1));
    size_t n, n_meta;
    // Strings and host copies stay referenced from the stack until the end.
    StMeta *meta = collect_meta(L, 3, &n_meta);
    StWrite *ws = collect_tensors(L, &n);
    if (safetensors_write(path, ws, n, meta, n_meta))
        return io_error(L, "attn.save");
    return 0;
}

static void push_json(lua_State *L, const JsonDoc *doc, const JsonValue *v);

static int l_io_json_push(lua_State *L) {
    const JsonDoc *doc = lua_touserdata(L, 1);
    push_json(L, doc, json_root(doc));
    return 1;
}

/* Push v as a Lua value: objects and arrays become tables (arrays 1-based
   sequences), integral numbers below 2^53 integers, null nil. */
static void push_json(lua_State *L, const JsonDoc *doc, const JsonValue *v) {
    size_t len;
    int64_t i;
    luaL_checkstack(L, 4, "json: nested too deep");
    switch (json_type(v)) {
    case JSON_NULL: lua_pushnil(L); return;
    case JSON_FALSE: lua_pushboolean(L, 0); return;
    case JSON_TRUE: lua_pushboolean(L, 1); return;
    case JSON_NUMBER:
        if (json_integer(&i, v, INT64_MIN, INT64_MAX))
            lua_pushinteger(L, (lua_Integer)i);
        else
            lua_pushnumber(L, (lua_Number)json_number(v));
        return;
    case JSON_STRING: {
        const char *str = json_string(doc, v, &len);
        lua_pushlstring(L, str, len);
        return;
    }
    case JSON_ARRAY: {
        lua_createtable(L, (int)json_count(v), 0);
        lua_Integer k = 1;
        for (const JsonValue *c = json_first(doc, v); c; c = json_next(doc, c)) {
            push_json(L, doc, c);
            lua_rawseti(L, -2, k++);
        }
        return;
    }
    case JSON_OBJECT:
        lua_createtable(L, 0, (int)json_count(v));
        for (const JsonValue *c = json_first(doc, v); c; c = json_next(doc, c)) {
            const char *key = json_key(doc, c, &len);
            lua_pushlstring(L, key, len);
            push_json(L, doc, c);
            lua_rawset(L, -3);
        }
        return;
    }
}

/* json_decode(text) -> value, for config.json and friends. */
static int l_io_json_decode(lua_State *L) {
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    JsonDoc *doc;
    if (json_parse(&doc, text, len, NULL))
        return luaL_error(L, "json_decode: %s", at_errmsg());
    // Build the value in a protected call so the document is freed even if
    // Lua runs out of memory half way.
    lua_pushcfunction(L, l_io_json_push);
    lua_pushlightuserdata(L, doc);
    int st = lua_pcall(L, 1, 1, 0);
    json_free(doc);
    return st == LUA_OK ? 1 : lua_error(L);
}

/* mkdir(path): create a folder (an existing one is fine); --safe rules
   apply as for any write. */
static int l_io_mkdir(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    if (!attn_safe_path_writable(L, path))
        return luaL_error(L, "mkdir: %s", lua_tostring(L, -1));
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return luaL_error(L, "mkdir: cannot create %s: %s", path, strerror(errno));
    return 0;
}

static int by_string(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* list(dir) -> the names in dir, sorted, without "." and "..". Reading a
   folder writes nothing, so --safe allows it. The names are gathered into a
   Lua table first: nothing is held that a Lua error could leak. */
static int l_io_list(lua_State *L) {
    const char *path = luaL_checkstring(L, 1);
    DIR *d = opendir(path);
    if (!d)
        return luaL_error(L, "list: cannot read the folder %s: %s", path, strerror(errno));
    lua_newtable(L);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (!lua_checkstack(L, 2)) {
            closedir(d);
            return luaL_error(L, "list: %s holds too many names", path);
        }
        lua_pushstring(L, e->d_name);
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    // Sort through a C array of the table's strings (they stay alive in it).
    const char **names = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -2, i);
        names[i - 1] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    qsort(names, (size_t)n, sizeof *names, by_string);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg io_functions[] = {
    {"list", l_io_list},
    {"json_decode", l_io_json_decode},
    {"mkdir", l_io_mkdir},
    {"save", l_io_save},
    {"load", l_io_load},
    {NULL, NULL},
};

int luaopen_attn_io(lua_State *L) {
    luaL_newlib(L, io_functions);
    return 1;
}
