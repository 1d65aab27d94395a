/*
 * l_viz.c: attn.viz, the Lua face of viz/: heatmap, term and plot.
 *
 * Each binding checks its arguments, reads the tensor's values into a
 * host buffer with op_read (any device, any strides), and hands plain
 * floats and strings to viz/. Where a heatmap goes: with file= a PNG; else
 * a window where there is a display and no --headless (window=true asks
 * for one anyway); else the terminal, with colours chosen by term_detect
 * (none when stdout is a file or pipe, or NO_COLOR is set) unless color=
 * says. Windows (viz/window.c) are pumped by the REPL (attn_lua_idle) and by
 * attn.viz.wait().
 * Host buffers and label arrays live in userdata on the Lua stack, so a
 * Lua error anywhere leaks nothing; C-side buffers (images, text) are freed
 * before any error is raised.
 */
#include <config.h>

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../viz/heatmap.h"
#include "../../viz/plot.h"
#include "../../viz/png.h"
#include "../../viz/term.h"
#include "../../viz/window.h"
#include "../core/error.h"
#include "../core/interrupt.h"
#include "attn_lua.h"
#include "l_modules.h"
#include "l_tensor.h"
#include "safe.h"

/* Everything a heatmap call gathers from its arguments. */
typedef struct Args {
    const float *w;
    int rows, cols;
    const char **rl, **cl; // NULL: indices
    HeatmapOptions hm;
    const char *file;
    const char *color; // term colour mode override: "truecolor", "256", "none"
    int width;         // terminal columns; 0 = the terminal's
    int print;         // print (1) or return (0) terminal text
} Args;

/* Options each function accepts; anything else is a typo worth reporting. */
static const char *const heatmap_keys[] = {
    "rows",   "cols",   "title", "file",     "colormap", "vmin",  "vmax",   "log", "annotate",
    "xlabel", "ylabel", "cell",  "colorbar", "width",    "color", "window", NULL};
static const char *const term_keys[] = {"rows", "cols",  "title", "colormap", "vmin", "vmax",
                                        "log",  "width", "color", "print",    NULL};
static const char *const plot_keys[] = {"title",  "file",  "xlabel", "ylabel", "width",
                                        "height", "print", "window", NULL};

static void check_keys(lua_State *L, int opts, const char *const *keys, const char *who) {
    lua_pushnil(L);
    while (lua_next(L, opts)) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (const char *const *k = keys; *k && !known; k++)
                known = strcmp(*k, lua_tostring(L, -1)) == 0;
        if (!known) {
            lua_pushvalue(L, -1);
            luaL_error(L, "%s: unknown option '%s'", who, luaL_tolstring(L, -1, NULL));
        }
    }
}

static const char *opt_string(lua_State *L, int opts, const char *key, const char *who) {
    int t = lua_getfield(L, opts, key);
    const char *s = NULL;
    if (t == LUA_TSTRING || t == LUA_TNUMBER)
        s = lua_tostring(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "%s: option %s is a %s, expected a string", who, key, luaL_typename(L, -1));
    lua_pop(L, 1); // opts keeps the string alive
    return s;
}

static int opt_number(lua_State *L, int opts, const char *key, float *out, const char *who) {
    int t = lua_getfield(L, opts, key);
    if (t != LUA_TNIL && t != LUA_TNUMBER)
        luaL_error(L, "%s: option %s is a %s, expected a number", who, key, luaL_typename(L, -1));
    if (t == LUA_TNUMBER)
        *out = (float)lua_tonumber(L, -1);
    lua_pop(L, 1);
    return t == LUA_TNUMBER;
}

/* -1 when absent, else the truth of the value. */
static int opt_bool(lua_State *L, int opts, const char *key) {
    int t = lua_getfield(L, opts, key);
    int v = t == LUA_TNIL ? -1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Labels from opts[key]: a list of exactly n strings (numbers are turned
   into strings). The array is a userdata left on the stack; the strings
   are anchored in a table left on the stack too. */
static const char **opt_labels(lua_State *L, int opts, const char *key, int n, const char *what,
                               const char *who) {
    int t = lua_getfield(L, opts, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (t != LUA_TTABLE)
        luaL_error(L, "%s: option %s is a %s, expected a list of %d labels", who, key,
                   luaL_typename(L, -1), n);
    int tbl = lua_gettop(L);
    lua_Integer len = luaL_len(L, tbl);
    if (len != n)
        luaL_error(L, "%s: %s has %d labels, but the weights have %d %s", who, key, (int)len, n,
                   what);
    const char **labels = lua_newuserdatauv(L, (size_t)n * sizeof *labels, 1);
    lua_createtable(L, n, 0); // anchors converted strings
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, tbl, i + 1);
        int lt = lua_type(L, -1);
        if (lt != LUA_TSTRING && lt != LUA_TNUMBER)
            luaL_error(L, "%s: %s[%d] is a %s, expected a string", who, key, i + 1,
                       luaL_typename(L, -1));
        luaL_tolstring(L, -1, NULL);
        labels[i] = lua_tostring(L, -1);
        lua_rawseti(L, -3, i + 1);
        lua_pop(L, 1);
    }
    lua_setiuservalue(L, -2, 1); // the userdata owns the anchor table
    lua_remove(L, tbl);          // leave only the userdata
    return labels;
}

/* The tensor at arg 1 as host floats of a 2-D shape. */
static void read_weights(lua_State *L, Args *a, const char *who) {
    Tensor *t = lt_check(L, 1);
    if (t->ndim != 2) {
        char shape[64];
        tensor_shape_str(shape, sizeof shape, t);
        luaL_error(L, "%s: expected a 2-D tensor of weights [rows, cols], got shape %s", who,
                   shape);
    }
    if (t->shape[0] < 1 || t->shape[1] < 1 || t->shape[0] > VIZ_IMAGE_MAX ||
        t->shape[1] > VIZ_IMAGE_MAX)
        luaL_error(L, "%s: %dx%d weights, expected 1..%d rows and columns", who, (int)t->shape[0],
                   (int)t->shape[1], VIZ_IMAGE_MAX);
    a->rows = (int)t->shape[0], a->cols = (int)t->shape[1];
    float *w = lua_newuserdatauv(L, (size_t)a->rows * a->cols * sizeof *w, 0);
    if (op_read(w, t))
        lt_error(L);
    a->w = w;
}

static void read_options(lua_State *L, Args *a, const char *const *keys, const char *who) {
    heatmap_options_default(&a->hm);
    a->print = 1;
    if (lua_isnoneornil(L, 2))
        return;
    luaL_checktype(L, 2, LUA_TTABLE);
    check_keys(L, 2, keys, who);
    a->rl = opt_labels(L, 2, "rows", a->rows, "rows", who);
    a->cl = opt_labels(L, 2, "cols", a->cols, "columns", who);
    a->hm.title = opt_string(L, 2, "title", who);
    a->hm.xlabel = opt_string(L, 2, "xlabel", who);
    a->hm.ylabel = opt_string(L, 2, "ylabel", who);
    a->file = opt_string(L, 2, "file", who);
    a->color = opt_string(L, 2, "color", who);
    const char *cm = opt_string(L, 2, "colormap", who);
    if (cm && !(a->hm.cmap = colormap_find(cm)))
        luaL_error(L, "%s: unknown colormap '%s' (known: %s)", who, cm, colormap_names());
    a->hm.has_vmin = opt_number(L, 2, "vmin", &a->hm.vmin, who);
    a->hm.has_vmax = opt_number(L, 2, "vmax", &a->hm.vmax, who);
    a->hm.log_scale = opt_bool(L, 2, "log") == 1;
    a->hm.annotate = opt_bool(L, 2, "annotate");
    a->hm.colorbar = opt_bool(L, 2, "colorbar") != 0;
    a->print = opt_bool(L, 2, "print") != 0;
    float cell = 0, width = 0;
    if (opt_number(L, 2, "cell", &cell, who) && !(cell >= 1 && cell <= 200))
        luaL_error(L, "%s: cell is %g, expected 1..200 pixels", who, (double)cell);
    if (opt_number(L, 2, "width", &width, who) && !(width >= 20 && width <= 10000))
        luaL_error(L, "%s: width is %g, expected 20..10000 columns", who, (double)width);
    a->hm.cell = (int)cell, a->width = (int)width;
}

static TermMode term_mode(lua_State *L, const char *color, const char *who) {
    if (!color)
        return term_detect(STDOUT_FILENO);
    if (strcmp(color, "truecolor") == 0)
        return TERM_TRUECOLOR;
    if (strcmp(color, "256") == 0)
        return TERM_256;
    if (strcmp(color, "none") == 0)
        return TERM_PLAIN;
    return luaL_error(L, "%s: color is '%s', expected \"truecolor\", \"256\" or \"none\"", who,
                      color);
}

/* Print the buffer or return it as a string; frees it. */
static int deliver_text(lua_State *L, VizBuf *b, int print) {
    if (print) {
        fwrite(b->s, 1, b->len, stdout);
        fflush(stdout);
    } else {
        lua_pushlstring(L, b->s ? b->s : "", b->len);
    }
    vizbuf_free(b);
    return print ? 0 : 1;
}

static int to_terminal(lua_State *L, Args *a, const char *who) {
    TermMode mode = term_mode(L, a->color, who);
    int width = a->width ? a->width : term_columns(STDOUT_FILENO);
    VizBuf b = {0};
    if (term_heatmap(&b, a->w, a->rows, a->cols, a->rl, a->cl, &a->hm, mode, width)) {
        vizbuf_free(&b);
        return luaL_error(L, "%s: %s", who, at_errmsg());
    }
    return deliver_text(L, &b, a->print);
}

/* Write img to the path, honouring --safe; frees img. Pushes the handle. */
static int to_png(lua_State *L, VizImage *img, const char *path, const char *who) {
    if (!attn_safe_path_writable(L, path)) {
        viz_image_free(img);
        return luaL_error(L, "%s: %s", who, lua_tostring(L, -1));
    }
    int st = viz_png_write(path, img);
    int w = img->w, h = img->h;
    viz_image_free(img);
    if (st)
        return luaL_error(L, "%s: %s", who, at_errmsg());
    lua_createtable(L, 0, 4);
    lua_pushstring(L, "png");
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, path);
    lua_setfield(L, -2, "file");
    lua_pushinteger(L, w);
    lua_setfield(L, -2, "width");
    lua_pushinteger(L, h);
    lua_setfield(L, -2, "height");
    return 1;
}

/* Called by the REPL while it waits for keys (attn_lua.h): open windows
   handle their events and redraw. The REPL calls down into this layer;
   nothing here knows there is a REPL. */
void attn_lua_idle(lua_State *L) {
    (void)L;
    window_pump();
}

/* attn.config.headless, read from package.loaded.attn (a global named
   attn that a user replaced cannot change it). */
static int headless(lua_State *L) {
    int top = lua_gettop(L), h = 0;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "attn") == LUA_TTABLE && lua_getfield(L, -1, "config") == LUA_TTABLE)
        h = lua_getfield(L, -1, "headless") != LUA_TNIL && lua_toboolean(L, -1);
    lua_settop(L, top);
    return h;
}

static int push_kind(lua_State *L, const char *kind) {
    lua_createtable(L, 0, 1);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    return 1;
}

/* A window for the heatmap; 0 when one opened, else a status. */
static int to_window(lua_State *L, Args *a) {
    VizImage img;
    HeatmapLayout lay;
    VizWindow *win;
    if (heatmap_render(&img, &lay, a->w, a->rows, a->cols, a->rl, a->cl, &a->hm))
        return luaL_error(L, "attn.viz.heatmap: %s", at_errmsg());
    int st = window_open(&win, &img, &lay, a->w, a->rl, a->cl, a->hm.title);
    viz_image_free(&img);
    return st;
}

/* attn.viz.heatmap(w, opts): a PNG with file=; else a window where there is
   a display (or window=true) and no --headless; else the terminal. */
static int l_viz_heatmap(lua_State *L) {
    lua_settop(L, 2); // buffers pushed later must not pass for options
    const char *who = "attn.viz.heatmap";
    Args a = {0};
    read_weights(L, &a, who);
    read_options(L, &a, heatmap_keys, who);
    if (a.file) {
        VizImage img;
        if (heatmap_render(&img, NULL, a.w, a.rows, a.cols, a.rl, a.cl, &a.hm))
            return luaL_error(L, "%s: %s", who, at_errmsg());
        return to_png(L, &img, a.file, who);
    }
    int want = lua_istable(L, 2) ? opt_bool(L, 2, "window") : -1;
    if (want == 1 || (want == -1 && !headless(L) && window_have_display())) {
        if (to_window(L, &a) == AT_OK)
            return push_kind(L, "window");
        fprintf(stderr, "%s: %s; showing it in the terminal\n", who, at_errmsg());
    }
    a.print = 1;
    to_terminal(L, &a, who);
    return push_kind(L, "term");
}

/* Recorded attention as one host buffer [layers, heads, T, T]: from
   rec.attention (a list of [heads, T, T] tensors, one per layer), a list of
   such tensors, or one [layers, heads, T, T] / [heads, T, T] tensor. */
static float *read_record(lua_State *L, int *layers, int *heads, int *T, const char *who) {
    if (lua_istable(L, 1) && lua_getfield(L, 1, "attention") != LUA_TNIL)
        lua_replace(L, 1);
    else if (lua_istable(L, 1))
        lua_pop(L, 1);
    Tensor *one = lt_test(L, 1);
    int n = one ? 1 : (int)(lua_istable(L, 1) ? luaL_len(L, 1) : 0);
    if (!one && n < 1)
        luaL_error(L,
                   "%s: expected a record with .attention (a list of [heads, T, T] tensors "
                   "per layer) or a tensor, got a %s",
                   who, luaL_typename(L, 1));
    Tensor **ts = lua_newuserdatauv(L, (size_t)n * sizeof *ts, 0);
    for (int l = 0; l < n; l++) {
        if (!one && lua_rawgeti(L, 1, l + 1) != LUA_TUSERDATA)
            luaL_error(L, "%s: layer %d is a %s, expected a [heads, T, T] tensor", who, l + 1,
                       luaL_typename(L, -1));
        ts[l] = one ? one : lt_check(L, -1);
        if (!one)
            lua_pop(L, 1); // the list keeps it alive
    }
    Tensor *t0 = ts[0];
    int four = one && t0->ndim == 4;
    if (!(t0->ndim == 3 || four) || t0->shape[t0->ndim - 1] != t0->shape[t0->ndim - 2]) {
        char shape[64];
        tensor_shape_str(shape, sizeof shape, t0);
        luaL_error(L, "%s: expected [heads, T, T] weights per layer, got %s", who, shape);
    }
    *layers = four ? (int)t0->shape[0] : n;
    *heads = (int)t0->shape[t0->ndim - 3], *T = (int)t0->shape[t0->ndim - 1];
    for (int l = 1; l < n; l++)
        if (ts[l]->ndim != 3 || ts[l]->shape[0] != *heads || ts[l]->shape[1] != *T ||
            ts[l]->shape[2] != *T) {
            char a[64], b[64];
            tensor_shape_str(a, sizeof a, t0), tensor_shape_str(b, sizeof b, ts[l]);
            luaL_error(L, "%s: layer %d has shape %s, layer 1 has %s", who, l + 1, b, a);
        }
    if (*T < 1 || *heads < 1 || *T > VIZ_IMAGE_MAX)
        luaL_error(L, "%s: %d heads of %d tokens, expected at least one of each", who, *heads, *T);
    size_t per = (size_t)*heads * *T * *T;
    float *w = lua_newuserdatauv(L, per * (size_t)*layers * sizeof *w, 0);
    for (int l = 0; l < n; l++)
        if (op_read(w + (size_t)l * per, ts[l]))
            lt_error(L);
    return w;
}

static const char *const show_keys[] = {"tokens", "colormap", "log",   "vmin", "vmax",
                                        "window", "color",    "width", NULL};

/* attn.viz.show(rec, {tokens=}): browse layers and heads in a window; in
   the terminal, the average of the heads of each layer. */
static int l_viz_show(lua_State *L) {
    const char *who = "attn.viz.show";
    lua_settop(L, 2);
    int layers, heads, T;
    float *w = read_record(L, &layers, &heads, &T, who);
    Args a = {0};
    heatmap_options_default(&a.hm);
    int want = -1;
    if (!lua_isnil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        check_keys(L, 2, show_keys, who);
        a.rl = opt_labels(L, 2, "tokens", T, "tokens", who);
        const char *cm = opt_string(L, 2, "colormap", who);
        if (cm && !(a.hm.cmap = colormap_find(cm)))
            luaL_error(L, "%s: unknown colormap '%s' (known: %s)", who, cm, colormap_names());
        a.hm.log_scale = opt_bool(L, 2, "log") == 1;
        a.hm.has_vmin = opt_number(L, 2, "vmin", &a.hm.vmin, who);
        a.hm.has_vmax = opt_number(L, 2, "vmax", &a.hm.vmax, who);
        a.color = opt_string(L, 2, "color", who);
        float width = 0;
        if (opt_number(L, 2, "width", &width, who) && width >= 20 && width <= 10000)
            a.width = (int)width;
        want = opt_bool(L, 2, "window");
    }
    if (want == 1 || (want == -1 && !headless(L) && window_have_display())) {
        VizWindow *win;
        if (window_open_browser(&win, w, layers, heads, T, a.rl, &a.hm) == AT_OK) {
#if defined(__GNUC__)
#endif
            return push_kind(L, "window");
        }
        fprintf(stderr, "%s: %s; showing it in the terminal\n", who, at_errmsg());
    }
    // The terminal: each layer's average over heads.
    size_t TT = (size_t)T * T;
    float *avg = lua_newuserdatauv(L, TT * sizeof *avg, 0);
    char title[96];
    a.cl = a.rl, a.rows = a.cols = T, a.w = avg, a.print = 1, a.hm.title = title;
    for (int l = 0; l < layers; l++) {
        for (size_t k = 0; k < TT; k++) {
            double sum = 0.0;
            for (int h = 0; h < heads; h++)
                sum += (double)w[((size_t)l * heads + h) * TT + k];
            avg[k] = (float)(sum / heads);
        }
        snprintf(title, sizeof title, "layer %d of %d, average of %d heads", l + 1, layers, heads);
        to_terminal(L, &a, who);
    }
    return push_kind(L, "term");
}

static const char *const grid_keys[] = {"file", "title", "colormap", "log", "vmin", "vmax", NULL};

/* attn.viz.grid(rec, {file=, title=}): every layer x head of a record as
   thumbnails in one PNG (one row per layer, one column per head, one
   colour range): the picture the browser's g key shows, for files. */
static int l_viz_grid(lua_State *L) {
    const char *who = "attn.viz.grid";
    lua_settop(L, 2);
    int layers, heads, T;
    float *w = read_record(L, &layers, &heads, &T, who);
    luaL_checktype(L, 2, LUA_TTABLE);
    check_keys(L, 2, grid_keys, who);
    HeatmapOptions o;
    heatmap_options_default(&o);
    const char *file = opt_string(L, 2, "file", who);
    if (!file)
        return luaL_error(L, "%s: expected file= the PNG to write", who);
    o.title = opt_string(L, 2, "title", who);
    const char *cm = opt_string(L, 2, "colormap", who);
    if (cm && !(o.cmap = colormap_find(cm)))
        return luaL_error(L, "%s: unknown colormap '%s' (known: %s)", who, cm, colormap_names());
    o.log_scale = opt_bool(L, 2, "log") == 1;
    o.has_vmin = opt_number(L, 2, "vmin", &o.vmin, who);
    o.has_vmax = opt_number(L, 2, "vmax", &o.vmax, who);
    VizImage img;
    if (heatmap_grid_render(&img, NULL, w, layers, heads, T, &o))
        return luaL_error(L, "%s: %s", who, at_errmsg());
    return to_png(L, &img, file, who);
}

/* attn.viz.wait(): keep windows live until the last one is closed (q, Esc
   or the close button); Ctrl-C stops waiting. */
static int l_viz_wait(lua_State *L) {
    while (window_count() > 0) {
        if (at_interrupted())
            return luaL_error(L, "attn.viz.wait: interrupted");
        window_pump();
        usleep(16000); // about one frame
    }
    return 0;
}

/* Closing the Lua state closes the windows (and SDL video). */
static int l_viz_gc(lua_State *L) {
    (void)L;
    window_close_all();
    return 0;
}

/* attn.viz.term(w, opts): colour blocks in the terminal (or, with
   print=false, the text as a string). */
static int l_viz_term(lua_State *L) {
    lua_settop(L, 2); // buffers pushed later must not pass for options
    const char *who = "attn.viz.term";
    Args a = {0};
    read_weights(L, &a, who);
    read_options(L, &a, term_keys, who);
    return to_terminal(L, &a, who);
}

/* Values for plot: a list of numbers or a 1-D tensor, as host floats. */
static float *plot_values(lua_State *L, int *n, const char *who) {
    Tensor *t = lt_test(L, 1);
    if (t) {
        if (t->ndim != 1) {
            char shape[64];
            tensor_shape_str(shape, sizeof shape, t);
            luaL_error(L, "%s: expected a 1-D tensor or a list of numbers, got shape %s", who,
                       shape);
        }
        *n = (int)t->shape[0];
        float *v = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *v, 0);
        if (op_read(v, t))
            lt_error(L);
        return v;
    }
    luaL_argexpected(L, lua_istable(L, 1), 1, "list of numbers or 1-D tensor");
    lua_Integer len = luaL_len(L, 1);
    if (len > 100000000)
        luaL_error(L, "%s: %I values is too many", who, len);
    *n = (int)len;
    float *v = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *v, 0);
    for (int i = 0; i < *n; i++) {
        if (lua_rawgeti(L, 1, i + 1) != LUA_TNUMBER)
            luaL_error(L, "%s: values[%d] is a %s, expected a number", who, i + 1,
                       luaL_typename(L, -1));
        v[i] = (float)lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    return v;
}

/* attn.viz.plot(values, {title=, file=, xlabel=, ylabel=}): a line plot to
   a PNG, in a window (as heatmap decides), or a sparkline in the terminal. */
static int l_viz_plot(lua_State *L) {
    lua_settop(L, 2); // buffers pushed later must not pass for options
    const char *who = "attn.viz.plot";
    int n;
    float *v = plot_values(L, &n, who);
    if (n < 1)
        return luaL_error(L, "%s: no values to plot", who);
    PlotOptions po = {0};
    const char *file = NULL;
    int print = 1, want = -1;
    float wd = 0, ht = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        check_keys(L, 2, plot_keys, who);
        po.title = opt_string(L, 2, "title", who);
        po.xlabel = opt_string(L, 2, "xlabel", who);
        po.ylabel = opt_string(L, 2, "ylabel", who);
        file = opt_string(L, 2, "file", who);
        print = opt_bool(L, 2, "print") != 0;
        opt_number(L, 2, "width", &wd, who);
        opt_number(L, 2, "height", &ht, who);
        want = opt_bool(L, 2, "window");
    }
    int window =
        !file && print && (want == 1 || (want == -1 && !headless(L) && window_have_display()));
    if (file || window) {
        if (!(wd == 0 || (wd >= 200 && wd <= 8000)) || !(ht == 0 || (ht >= 150 && ht <= 8000)))
            return luaL_error(L, "%s: size %gx%g, expected 200..8000 x 150..8000 pixels", who,
                              (double)wd, (double)ht);
        po.width = (int)wd, po.height = (int)ht;
        VizImage img;
        if (plot_render(&img, v, n, &po))
            return luaL_error(L, "%s: %s", who, at_errmsg());
        if (file)
            return to_png(L, &img, file, who);
        HeatmapLayout none = {0};
        VizWindow *win;
        int st = window_open(&win, &img, &none, NULL, NULL, NULL, po.title);
        viz_image_free(&img);
        if (st == AT_OK) {
#if defined(__GNUC__)
#endif
            return push_kind(L, "window");
        }
        fprintf(stderr, "%s: %s; showing it in the terminal\n", who, at_errmsg());
    }
    VizBuf b = {0};
    int cols = wd >= 10 && wd <= 10000 ? (int)wd : term_columns(STDOUT_FILENO);
    if (term_sparkline(&b, v, n, po.title, cols)) {
        vizbuf_free(&b);
        return luaL_error(L, "%s: %s", who, at_errmsg());
    }
    return deliver_text(L, &b, print);
}

static const luaL_Reg functions[] = {
    {"heatmap", l_viz_heatmap}, {"term", l_viz_term}, {"plot", l_viz_plot},
    {"wait", l_viz_wait},       {"show", l_viz_show}, {"grid", l_viz_grid},
    {NULL, NULL},
};

int luaopen_attn_viz(lua_State *L) {
    luaL_newlib(L, functions);
    // A sentinel whose __gc runs at lua_close: windows do not outlive L.
    lua_newuserdatauv(L, 1, 0);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_viz_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, (void *)l_viz_gc);
    return 1;
}
