/*
 * heatmap.c: layout and colour of a heatmap, drawn into a VizImage.
 *
 * Why draw pixels ourselves instead of through SDL_Renderer on a software
 * surface: a cell is a filled rectangle and a label a coverage mask, so a
 * plain RGBA buffer is all a heatmap needs. It needs no SDL_Init and no
 * video driver (PNG works on a server with nothing installed but fonts),
 * the same bytes come out on every machine (golden images can be tight),
 * and a 1024x1024 map is one pass over a megapixel. The window sink uploads
 * this very buffer into a streaming texture.
 *
 * Layout, left to right: padding, y-axis name (rotated), row labels
 * (right-aligned), the map, the colour bar and its scale. Top to bottom:
 * title, map, column labels (horizontal when every label fits its cell,
 * else turned 90 degrees), x-axis name. Labels longer than LABEL_MAX pixels
 * end in "…"; when cells are smaller than a line of text, every k-th label
 * is shown (k a round number for index labels).
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../src/core/error.h"
#include "heatmap.h"
#include "text.h"

#define PAD 24
#define LABEL_PX 15
#define TITLE_PX 20
#define TICK_PX 13
#define LABEL_MAX 170 // pixels; longer labels end in "…"
#define BAR_W 18
#define BAR_GAP 24
#define TITLE_MAX_W 1600

static const VizRGB WHITE = {255, 255, 255}, INK = {30, 30, 30}, SOFT = {85, 85, 85};
static const VizRGB NAN_CELL = {215, 215, 215}, RULE = {160, 160, 160};

void heatmap_options_default(HeatmapOptions *o) {
    memset(o, 0, sizeof *o);
    o->annotate = -1;
    o->colorbar = 1;
}

/* ---- value range ----------------------------------------------------------
 */

static void data_range(const float *w, size_t n, float *lo, float *hi, float *minpos) {
    *lo = INFINITY, *hi = -INFINITY, *minpos = INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = w[i];
        if (!isfinite(v))
            continue;
        if (v < *lo)
            *lo = v;
        if (v > *hi)
            *hi = v;
        if (v > 0.0f && v < *minpos)
            *minpos = v;
    }
}

int heatmap_range(float *vmin, float *vmax, const float *w, size_t n, const HeatmapOptions *o) {
    const Colormap *cm = o->cmap ? o->cmap : colormap_default();
    float lo, hi, minpos;
    data_range(w, n, &lo, &hi, &minpos);
    if (lo > hi) // no finite value at all
        lo = 0.0f, hi = 1.0f;
    // Non-negative data (attention weights, probabilities) is a "how much"
    // scale: anchor it at 0 so that colours compare across maps and a
    // uniform row does not look like a strong pattern.
    if (lo > 0.0f && !o->log_scale)
        lo = 0.0f;
    if (colormap_is_diverging(cm) && !o->log_scale) {
        // Centre on 0 so that white means "no difference".
        float m = fmaxf(fabsf(lo), fabsf(hi));
        lo = -(m > 0.0f ? m : 1.0f), hi = m > 0.0f ? m : 1.0f;
    }
    if (o->log_scale)
        lo = isfinite(minpos) ? minpos : hi * 1e-3f;
    if (o->has_vmin)
        lo = o->vmin;
    if (o->has_vmax)
        hi = o->vmax;
    if (!isfinite(lo) || !isfinite(hi))
        return at_error(AT_EINVAL, "heatmap: vmin and vmax must be finite (got %g and %g)",
                        (double)lo, (double)hi);
    if (o->has_vmin && o->has_vmax && !(lo < hi))
        return at_error(AT_EINVAL, "heatmap: vmin (%g) must be less than vmax (%g)", (double)lo,
                        (double)hi);
    if (o->log_scale && !(hi > 0.0f))
        return at_error(AT_EINVAL, "heatmap: a log scale needs positive values (vmax is %g)",
                        (double)hi);
    if (o->log_scale && !(lo > 0.0f))
        return at_error(AT_EINVAL, "heatmap: a log scale needs vmin > 0 (got %g)", (double)lo);
    if (!(lo < hi)) { // one value everywhere: a range around it, data in the middle
        float d = o->log_scale ? lo * 0.5f : (fabsf(lo) > 0.0f ? fabsf(lo) : 1.0f);
        if (!o->has_vmin)
            lo -= d;
        if (!o->has_vmax || !(lo < hi))
            hi = lo + 2.0f * d;
    }
    *vmin = lo;
    *vmax = hi;
    return AT_OK;
}

float heatmap_norm(float v, float vmin, float vmax, int log_scale) {
    if (isnan(v))
        return v;
    float t;
    if (log_scale)
        t = v > 0.0f ? (log10f(v) - log10f(vmin)) / (log10f(vmax) - log10f(vmin)) : 0.0f;
    else
        t = (v - vmin) / (vmax - vmin);
    return t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
}

/* ---- layout ---------------------------------------------------------------
 */

typedef struct Ctx {
    const float *w;
    int rows, cols;
    const char *const *rl, *const *cl;
    const HeatmapOptions *o;
    const Colormap *cm;
    VizFont *lab, *tit, *tick;
    HeatmapLayout L;
    int rstep, cstep; // every rstep-th row label, cstep-th column label
    int crot;         // column labels turned 90 degrees
    int rlab_w, clab_h, W, H;
} Ctx;

/* 1, 2, 5, 10, 20, 50, ... at least n. */
static int round_step(int n) {
    int p = 1;
    for (;;) {
        if (n <= p)
            return p;
        if (n <= 2 * p)
            return 2 * p;
        if (n <= 5 * p)
            return 5 * p;
        p *= 10;
    }
}

static int label_shown(int i, int step) { return step == 1 || (i + 1) % step == 0; }

/* Label i of an axis, shortened to LABEL_MAX pixels, into out. */
static int label_text(Ctx *c, const char *const *labels, int i, char *out, size_t outsz) {
    char num[24];
    const char *s = labels ? labels[i] : num;
    if (!labels)
        snprintf(num, sizeof num, "%d", i + 1);
    return text_fit(out, outsz, c->lab, s ? s : "", LABEL_MAX);
}

/* Widest shown label of an axis, in pixels (or -1 with a message). */
static int widest_label(Ctx *c, const char *const *labels, int n, int step) {
    char buf[512];
    int most = 0;
    for (int i = 0; i < n; i++) {
        if (!label_shown(i, step))
            continue;
        if (label_text(c, labels, i, buf, sizeof buf))
            return -1;
        int w = text_width(c->lab, buf);
        if (w < 0)
            return -1;
        if (w > most)
            most = w;
    }
    return most;
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* Which labels to show and how: steps, rotation, sizes. */
static int plan_labels(Ctx *c) {
    int cell = c->L.cell, lh = text_height(c->lab);
    int need = ceil_div(lh, cell);
    // Index labels: round numbers with room between them.
    c->rstep = c->rl ? need : round_step(ceil_div(lh * 3 / 2, cell));
    if ((c->rlab_w = widest_label(c, c->rl, c->rows, c->rstep)) < 0)
        return at_errcode();
    // Columns: horizontal when the widest label fits its cell (or its
    // stride, for index labels), else turned and strided by line height.
    c->cstep = 1;
    int wmax = widest_label(c, c->cl, c->cols, 1);
    if (wmax < 0)
        return at_errcode();
    if (!c->cl) {
        c->cstep = round_step(ceil_div(wmax + 8, cell));
        c->crot = 0;
    } else {
        c->crot = wmax > cell - 4;
        c->cstep = c->crot ? need : 1;
        if (c->crot && (wmax = widest_label(c, c->cl, c->cols, c->cstep)) < 0)
            return at_errcode();
    }
    c->clab_h = c->crot ? wmax : lh;
    return AT_OK;
}

static void format_value(char *out, size_t n, float v) {
    if (fabsf(v) < 1e-30f)
        v = 0.0f; // no "-0"
    snprintf(out, n, "%.3g", (double)v);
}

/* Colour bar ticks: the two ends, and round values between them that keep
   at least `gap` pixels from each other. */
static void plan_ticks(HeatmapLayout *L, int gap) {
    double lo = L->vmin, hi = L->vmax, cand[64];
    int nc = 0;
    if (L->log_scale) {
        for (double e = ceil(log10(lo)); e <= floor(log10(hi)) && nc < 64; e++)
            cand[nc++] = pow(10.0, e);
    } else {
        double raw = (hi - lo) / 5.0, p = pow(10.0, floor(log10(raw))), f = raw / p;
        double step = (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * p;
        for (double v = ceil(lo / step) * step; v <= hi + step * 1e-9 && nc < 64; v += step)
            cand[nc++] = fabs(v) < step * 1e-9 ? 0.0 : v;
    }
    L->nticks = 0;
    L->ticks[L->nticks++] = L->vmin;
    double span = L->bar_h > 1 ? L->bar_h - 1 : 1;
    double last_y = 0.0;
    for (int i = 0; i < nc && L->nticks < 15; i++) {
        double y = (double)heatmap_norm((float)cand[i], L->vmin, L->vmax, L->log_scale) * span;
        double top = span;
        if (y - last_y >= gap && top - y >= gap) {
            L->ticks[L->nticks++] = (float)cand[i];
            last_y = y;
        }
    }
    L->ticks[L->nticks++] = L->vmax;
}

/* Size of the whole picture and where the map and bar go. */
static int plan_layout(Ctx *c) {
    HeatmapLayout *L = &c->L;
    int lh = text_height(c->lab), th = text_height(c->tick);
    int st = plan_labels(c);
    if (st)
        return st;
    int x = PAD + (c->o->ylabel ? lh + 10 : 0);
    L->map_x = x + c->rlab_w + (c->rstep > 1 ? 12 : 8);
    L->map_y = PAD + (c->o->title ? text_height(c->tit) + 14 : 0);
    int map_w = c->cols * L->cell, map_h = c->rows * L->cell;
    int right = L->map_x + map_w, bottom = L->map_y + map_h + 8 + c->clab_h;
    if (c->cstep > 1 || c->crot)
        bottom += 4;
    if (c->o->xlabel)
        bottom += lh + 8;
    if (c->o->colorbar) {
        L->bar_x = right + BAR_GAP, L->bar_y = L->map_y, L->bar_w = BAR_W;
        L->bar_h = map_h > 160 ? map_h : 160;
        plan_ticks(L, th + 4);
        int tw = 0;
        char buf[32];
        for (int i = 0; i < L->nticks; i++) {
            format_value(buf, sizeof buf, L->ticks[i]);
            int w = text_width(c->tick, buf);
            if (w < 0)
                return at_errcode();
            tw = w > tw ? w : tw;
        }
        right = L->bar_x + BAR_W + 10 + tw;
        int bar_bottom = L->bar_y + L->bar_h + th / 2;
        bottom = bottom > bar_bottom ? bottom : bar_bottom;
    }
    c->W = right + PAD;
    c->H = bottom + PAD;
    if (c->o->title) {
        int tw = text_width(c->tit, c->o->title);
        if (tw < 0)
            return at_errcode();
        if (tw + 2 * PAD > c->W)
            c->W = tw + 2 * PAD < TITLE_MAX_W ? tw + 2 * PAD : TITLE_MAX_W;
    }
    return AT_OK;
}

/* ---- drawing --------------------------------------------------------------
 */

/* WCAG relative luminance of an sRGB colour. */
static double luminance(VizRGB c) {
    double v[3] = {c.r / 255.0, c.g / 255.0, c.b / 255.0};
    for (int i = 0; i < 3; i++)
        v[i] = v[i] <= 0.03928 ? v[i] / 12.92 : pow((v[i] + 0.055) / 1.055, 2.4);
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
}

/* Near-black or white, whichever contrasts more with the cell. */
static VizRGB ink_on(VizRGB cell) {
    double l = luminance(cell);
    double on_white = 1.05 / (l + 0.05), on_black = (l + 0.05) / (0.0137 + 0.05);
    return on_white >= on_black ? WHITE : INK;
}

static void draw_cells(Ctx *c, VizImage *img) {
    const HeatmapLayout *L = &c->L;
    int cell = L->cell, gap = cell >= 40 ? 2 : cell >= 16 ? 1 : 0;
    for (int i = 0; i < c->rows; i++) {
        for (int j = 0; j < c->cols; j++) {
            float t = heatmap_norm(c->w[(size_t)i * c->cols + j], L->vmin, L->vmax, L->log_scale);
            VizRGB col = isnan(t) ? NAN_CELL : colormap_at(c->cm, t);
            viz_fill_rect(img, L->map_x + j * cell, L->map_y + i * cell, cell - gap, cell - gap,
                          col);
        }
    }
}

/* printf format for cell values: fixed decimals for attention-like data. */
static const char *value_format(const float *w, size_t n) {
    float m = 0.0f;
    for (size_t i = 0; i < n; i++)
        if (isfinite(w[i]) && fabsf(w[i]) > m)
            m = fabsf(w[i]);
    return m < 1.0f + 1e-6f ? "%.2f" : m < 100.0f ? "%.1f" : "%.3g";
}

static int draw_annotations(Ctx *c, VizImage *img) {
    const HeatmapLayout *L = &c->L;
    int cell = L->cell;
    int px = (int)(cell * 0.28);
    if (px > 16)
        px = 16;
    if (px < 8)
        return AT_OK; // too small to read
    VizFont *f = text_font(px);
    if (!f)
        return at_errcode();
    const char *fmt = value_format(c->w, (size_t)c->rows * c->cols);
    int fh = text_height(f);
    for (int i = 0; i < c->rows; i++) {
        for (int j = 0; j < c->cols; j++) {
            float v = c->w[(size_t)i * c->cols + j];
            char buf[32];
            snprintf(buf, sizeof buf, fmt, (double)v);
            if (strcmp(buf, "-0.00") == 0 || strcmp(buf, "-0.0") == 0)
                memmove(buf, buf + 1, strlen(buf));
            int tw = text_width(f, buf);
            if (tw < 0)
                return at_errcode();
            if (tw > cell - 6)
                continue;
            float t = heatmap_norm(v, L->vmin, L->vmax, L->log_scale);
            VizRGB bg = isnan(t) ? NAN_CELL : colormap_at(c->cm, t);
            int x = L->map_x + j * cell + (cell - 1 - tw) / 2;
            int y = L->map_y + i * cell + (cell - 1 - fh) / 2;
            if (text_draw(img, f, buf, x, y, ink_on(bg), 0))
                return at_errcode();
        }
    }
    return AT_OK;
}

static int draw_row_labels(Ctx *c, VizImage *img) {
    const HeatmapLayout *L = &c->L;
    int lh = text_height(c->lab);
    char buf[512];
    for (int i = 0; i < c->rows; i++) {
        if (!label_shown(i, c->rstep))
            continue;
        if (label_text(c, c->rl, i, buf, sizeof buf))
            return at_errcode();
        int tw = text_width(c->lab, buf);
        int cy = L->map_y + i * L->cell + L->cell / 2;
        int right = L->map_x - (c->rstep > 1 ? 10 : 8);
        if (c->rstep > 1) // sparse labels: a tick says which row is meant
            viz_fill_rect(img, L->map_x - 5, cy, 4, 1, RULE);
        if (tw < 0 || text_draw(img, c->lab, buf, right - tw, cy - lh / 2, SOFT, 0))
            return at_errcode();
    }
    return AT_OK;
}

static int draw_col_labels(Ctx *c, VizImage *img) {
    const HeatmapLayout *L = &c->L;
    int lh = text_height(c->lab), sparse = c->cstep > 1 || c->crot;
    int top = L->map_y + c->rows * L->cell + (sparse ? 10 : 6);
    char buf[512];
    for (int j = 0; j < c->cols; j++) {
        if (!label_shown(j, c->cstep))
            continue;
        if (label_text(c, c->cl, j, buf, sizeof buf))
            return at_errcode();
        int tw = text_width(c->lab, buf);
        int cx = L->map_x + j * L->cell + L->cell / 2;
        if (sparse)
            viz_fill_rect(img, cx, top - 9, 1, 4, RULE);
        if (tw < 0)
            return at_errcode();
        // Turned labels hang from the map, their ends aligned (as matplotlib's
        // rotation=90): the box top is at `top`, text reads upwards.
        int st = c->crot ? text_draw(img, c->lab, buf, cx - lh / 2, top, SOFT, 1)
                         : text_draw(img, c->lab, buf, cx - tw / 2, top, SOFT, 0);
        if (st)
            return st;
    }
    return AT_OK;
}

static int draw_colorbar(Ctx *c, VizImage *img) {
    const HeatmapLayout *L = &c->L;
    int span = L->bar_h - 1 > 0 ? L->bar_h - 1 : 1, th = text_height(c->tick);
    for (int y = 0; y < L->bar_h; y++) // top is vmax, bottom vmin
        viz_fill_rect(img, L->bar_x, L->bar_y + y, L->bar_w, 1,
                      colormap_at(c->cm, 1.0f - (float)y / (float)span));
    for (int i = 0; i < L->nticks; i++) {
        float t = heatmap_norm(L->ticks[i], L->vmin, L->vmax, L->log_scale);
        int y = L->bar_y + (int)lroundf((1.0f - t) * (float)span);
        char buf[32];
        format_value(buf, sizeof buf, L->ticks[i]);
        viz_fill_rect(img, L->bar_x + L->bar_w, y, 4, 1, SOFT);
        if (text_draw(img, c->tick, buf, L->bar_x + L->bar_w + 8, y - th / 2, SOFT, 0))
            return at_errcode();
    }
    return AT_OK;
}

/* Title centred over the map, axis names centred on their axes. */
static int draw_titles(Ctx *c, VizImage *img) {
    const HeatmapLayout *L = &c->L;
    int map_w = c->cols * L->cell, map_h = c->rows * L->cell;
    char buf[1024];
    if (c->o->title) {
        if (text_fit(buf, sizeof buf, c->tit, c->o->title, c->W - 2 * PAD))
            return at_errcode();
        int tw = text_width(c->tit, buf);
        int x = L->map_x + map_w / 2 - tw / 2;
        x = x + tw > c->W - PAD ? c->W - PAD - tw : x;
        x = x < PAD ? PAD : x;
        if (tw < 0 || text_draw(img, c->tit, buf, x, PAD, INK, 0))
            return at_errcode();
    }
    if (c->o->xlabel) {
        if (text_fit(buf, sizeof buf, c->lab, c->o->xlabel, map_w > 200 ? map_w : 200))
            return at_errcode();
        int tw = text_width(c->lab, buf);
        int y = L->map_y + map_h + 8 + c->clab_h + (c->cstep > 1 || c->crot ? 12 : 6);
        if (tw < 0 || text_draw(img, c->lab, buf, L->map_x + map_w / 2 - tw / 2, y, INK, 0))
            return at_errcode();
    }
    if (c->o->ylabel) {
        if (text_fit(buf, sizeof buf, c->lab, c->o->ylabel, map_h > 200 ? map_h : 200))
            return at_errcode();
        int tw = text_width(c->lab, buf);
        if (tw < 0 || text_draw(img, c->lab, buf, PAD, L->map_y + map_h / 2 - tw / 2, INK, 1))
            return at_errcode();
    }
    return AT_OK;
}

static int auto_cell(int rows, int cols) {
    int n = rows > cols ? rows : cols;
    int cell = 600 / n;
    return cell > 64 ? 64 : cell < 1 ? 1 : cell;
}

static int open_fonts(Ctx *c) {
    c->lab = text_font(LABEL_PX);
    c->tit = c->lab ? text_font(TITLE_PX) : NULL;
    c->tick = c->tit ? text_font(TICK_PX) : NULL;
    return c->tick ? AT_OK : at_errcode();
}

/* One thumbnail: nearest cell per pixel (a thumbnail shows the pattern,
   the page shows the values). */
static void draw_thumb(VizImage *img, int x, int y, int side, const float *w, int T,
                       const Colormap *cm, float vmin, float vmax, int log_scale) {
    for (int py = 0; py < side; py++)
        for (int px = 0; px < side; px++) {
            float t =
                heatmap_norm(w[(size_t)(py * T / side) * T + px * T / side], vmin, vmax, log_scale);
            viz_fill_rect(img, x + px, y + py, 1, 1, isnan(t) ? NAN_CELL : colormap_at(cm, t));
        }
}

static int grid_labels(VizImage *img, VizFont *f, const HeatmapGridLayout *g) {
    char buf[32];
    int fh = text_height(f);
    for (int l = 0; l < g->layers; l++) {
        snprintf(buf, sizeof buf, "L%d", l + 1);
        int tw = text_width(f, buf);
        if (tw < 0 || text_draw(img, f, buf, g->x0 - 8 - tw,
                                g->y0 + l * g->step + g->thumb / 2 - fh / 2, SOFT, 0))
            return at_errcode();
    }
    for (int h = 0; h < g->heads; h++) {
        snprintf(buf, sizeof buf, "H%d", h + 1);
        int tw = text_width(f, buf);
        if (tw < 0 || text_draw(img, f, buf, g->x0 + h * g->step + g->thumb / 2 - tw / 2,
                                g->y0 - fh - 4, SOFT, 0))
            return at_errcode();
    }
    return AT_OK;
}

int heatmap_grid_render(VizImage *out, HeatmapGridLayout *grid, const float *w, int layers,
                        int heads, int T, const HeatmapOptions *o) {
    if (layers < 1 || heads < 1 || T < 1 || layers > 256 || heads > 256)
        return at_error(AT_EINVAL, "grid: %d layers x %d heads of %d tokens", layers, heads, T);
    const Colormap *cm = o->cmap ? o->cmap : colormap_default();
    size_t TT = (size_t)T * T;
    float vmin, vmax;
    int st = heatmap_range(&vmin, &vmax, w, TT * layers * heads, o);
    VizFont *lab = st ? NULL : text_font(LABEL_PX), *tit = lab ? text_font(TITLE_PX) : NULL;
    if (st || !tit)
        return st ? st : at_errcode();
    int n = layers > heads ? layers : heads, thumb = 720 / n;
    thumb = thumb > 160 ? 160 : thumb < 24 ? 24 : thumb;
    HeatmapGridLayout g = {
        PAD + 40, PAD + (o->title ? text_height(tit) + 14 : 0) + text_height(lab) + 6,
        thumb,    thumb + 6,
        layers,   heads};
    VizImage img;
    if ((st = viz_image_init(&img, g.x0 + heads * g.step + PAD, g.y0 + layers * g.step + PAD,
                             WHITE)))
        return st;
    for (int l = 0; l < layers; l++)
        for (int h = 0; h < heads; h++)
            draw_thumb(&img, g.x0 + h * g.step, g.y0 + l * g.step, thumb,
                       w + ((size_t)l * heads + h) * TT, T, cm, vmin, vmax, o->log_scale);
    st = grid_labels(&img, lab, &g);
    if (!st && o->title)
        st = text_draw(&img, tit, o->title, PAD, PAD, INK, 0);
    if (st) {
        viz_image_free(&img);
        return st;
    }
    *out = img;
    if (grid)
        *grid = g;
    return AT_OK;
}

int heatmap_render(VizImage *out, HeatmapLayout *layout, const float *w, int rows, int cols,
                   const char *const *row_labels, const char *const *col_labels,
                   const HeatmapOptions *o) {
    if (rows < 1 || cols < 1 || rows > VIZ_IMAGE_MAX || cols > VIZ_IMAGE_MAX)
        return at_error(AT_EINVAL, "heatmap: %dx%d weights, expected 1..%d rows and columns", rows,
                        cols, VIZ_IMAGE_MAX);
    Ctx c = {.w = w, .rows = rows, .cols = cols, .rl = row_labels, .cl = col_labels, .o = o};
    c.cm = o->cmap ? o->cmap : colormap_default();
    c.L.rows = rows, c.L.cols = cols, c.L.log_scale = o->log_scale;
    c.L.cell = o->cell > 0 ? o->cell : auto_cell(rows, cols);
    int st = heatmap_range(&c.L.vmin, &c.L.vmax, w, (size_t)rows * cols, o);
    if (!st)
        st = open_fonts(&c);
    if (!st)
        st = plan_layout(&c);
    VizImage img = {0};
    if (!st)
        st = viz_image_init(&img, c.W, c.H, WHITE);
    if (st)
        return st;
    draw_cells(&c, &img);
    int ann = o->annotate < 0 ? rows <= 16 && cols <= 16 : o->annotate;
    if (ann)
        st = draw_annotations(&c, &img);
    if (!st)
        st = draw_row_labels(&c, &img);
    if (!st)
        st = draw_col_labels(&c, &img);
    if (!st && o->colorbar)
        st = draw_colorbar(&c, &img);
    if (!st)
        st = draw_titles(&c, &img);
    if (st) {
        viz_image_free(&img);
        return st;
    }
    *out = img;
    if (layout)
        *layout = c.L;
    return AT_OK;
}
