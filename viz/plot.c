/*
 * plot.c: line plots drawn into a VizImage, same text and pixel helpers as
 * heatmap.c. Series longer than twice the plot's width in pixels are
 * averaged into that many bins first: more points than pixels only add
 * aliasing, and a noisy loss curve reads better smoothed that little.
 * The line is anti-aliased by coverage from the distance to each segment.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/core/error.h"
#include "plot.h"
#include "text.h"

#define PAD 24
static const VizRGB WHITE = {255, 255, 255}, INK = {30, 30, 30}, SOFT = {85, 85, 85};
static const VizRGB GRID = {232, 232, 232}, AXIS = {150, 150, 150}, LINE = {33, 102, 172};

/* Round tick step for about `want` intervals over span. */
static double nice_step(double span, int want) {
    double raw = span / want, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 5.0 ? 5.0 : 10.0) * p;
}

typedef struct Frame {
    int x0, y0, x1, y1; // plot area, inclusive-exclusive
    double xlo, xhi, ylo, yhi;
} Frame;

static double px_x(const Frame *f, double x) {
    return f->x0 + (x - f->xlo) / (f->xhi - f->xlo) * (f->x1 - 1 - f->x0);
}
static double px_y(const Frame *f, double y) {
    return f->y1 - 1 - (y - f->ylo) / (f->yhi - f->ylo) * (f->y1 - 1 - f->y0);
}

/* A 2-pixel line from (ax, ay) to (bx, by), coverage by distance. */
static void segment(VizImage *img, double ax, double ay, double bx, double by, VizRGB c) {
    const double half = 1.1;
    int x0 = (int)floor(fmin(ax, bx) - 2), x1 = (int)ceil(fmax(ax, bx) + 2);
    int y0 = (int)floor(fmin(ay, by) - 2), y1 = (int)ceil(fmax(ay, by) + 2);
    double dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy;
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            double t = len2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / len2 : 0;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = ax + t * dx - x, ey = ay + t * dy - y, d = sqrt(ex * ex + ey * ey);
            double cov = half + 0.5 - d;
            if (cov <= 0)
                continue;
            // Where segments meet, keep the darker coverage, not the sum.
            unsigned a = (unsigned)(fmin(cov, 1.0) * 255.0);
            const uint8_t *p = img->px + ((size_t)(y < 0 ? 0 : y) * img->w + (x < 0 ? 0 : x)) * 4;
            if (x >= 0 && y >= 0 && x < img->w && y < img->h && p[0] == c.r && p[1] == c.g &&
                p[2] == c.b)
                continue;
            viz_blend(img, x, y, c, a);
        }
}

static float *bin_series(const float *v, int n, int bins, int *m) {
    int per = (n + bins - 1) / bins;
    *m = (n + per - 1) / per;
    float *out = malloc((size_t)*m * sizeof *out);
    if (!out)
        return NULL;
    for (int i = 0; i < *m; i++) {
        double s = 0.0;
        int k = 0;
        for (int j = i * per; j < n && j < (i + 1) * per; j++)
            if (isfinite(v[j]))
                s += (double)v[j], k++;
        out[i] = k ? (float)(s / k) : NAN;
    }
    return out;
}

static void format_tick(char *out, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-9)
        v = 0.0;
    snprintf(out, n, "%.4g", v);
}

/* Grid lines and tick labels; returns status. */
static int draw_axes(VizImage *img, const Frame *f, VizFont *tick, int per) {
    char buf[32];
    int th = text_height(tick);
    double ys = nice_step(f->yhi - f->ylo, 6);
    for (double y = ceil(f->ylo / ys) * ys; y <= f->yhi + ys * 1e-9; y += ys) {
        int py = (int)lround(px_y(f, y));
        viz_fill_rect(img, f->x0, py, f->x1 - f->x0, 1, GRID);
        format_tick(buf, sizeof buf, y, ys);
        int tw = text_width(tick, buf);
        if (tw < 0 || text_draw(img, tick, buf, f->x0 - 8 - tw, py - th / 2, SOFT, 0))
            return at_errcode();
    }
    double xs = nice_step(f->xhi - f->xlo, 6);
    xs = xs < 1.0 ? 1.0 : xs;
    for (double x = ceil(f->xlo / xs) * xs; x <= f->xhi + 1e-9; x += xs) {
        int px = (int)lround(px_x(f, x));
        viz_fill_rect(img, px, f->y0, 1, f->y1 - f->y0, GRID);
        format_tick(buf, sizeof buf, x * per, xs);
        int tw = text_width(tick, buf);
        if (tw < 0 || text_draw(img, tick, buf, px - tw / 2, f->y1 + 6, SOFT, 0))
            return at_errcode();
    }
    viz_fill_rect(img, f->x0, f->y1 - 1, f->x1 - f->x0, 1, AXIS);
    viz_fill_rect(img, f->x0, f->y0, 1, f->y1 - f->y0, AXIS);
    return AT_OK;
}

static void draw_line(VizImage *img, const Frame *f, const float *v, int m) {
    for (int i = 0; i < m; i++) {
        if (!isfinite(v[i]))
            continue;
        double ax = px_x(f, i + 1), ay = px_y(f, v[i]);
        if (i + 1 < m && isfinite(v[i + 1]))
            segment(img, ax, ay, px_x(f, i + 2), px_y(f, v[i + 1]), LINE);
        else if (i == 0 || !isfinite(v[i - 1])) // a lone point: a dot
            segment(img, ax, ay, ax, ay, LINE);
    }
}

static int draw_labels(VizImage *img, const Frame *f, const PlotOptions *o, VizFont *lab,
                       VizFont *tit) {
    if (o->title) {
        int tw = text_width(tit, o->title);
        int x = (f->x0 + f->x1) / 2 - tw / 2;
        if (tw < 0 || text_draw(img, tit, o->title, x < PAD ? PAD : x, PAD, INK, 0))
            return at_errcode();
    }
    if (o->xlabel) {
        int tw = text_width(lab, o->xlabel);
        int y = f->y1 + 8 + text_height(lab);
        if (tw < 0 || text_draw(img, lab, o->xlabel, (f->x0 + f->x1) / 2 - tw / 2, y, INK, 0))
            return at_errcode();
    }
    if (o->ylabel) {
        int tw = text_width(lab, o->ylabel);
        if (tw < 0 || text_draw(img, lab, o->ylabel, PAD, (f->y0 + f->y1) / 2 - tw / 2, INK, 1))
            return at_errcode();
    }
    return AT_OK;
}

int plot_render(VizImage *out, const float *v, int n, const PlotOptions *o) {
    if (n < 1)
        return at_error(AT_EINVAL, "plot: no values to plot");
    int W = o->width > 0 ? o->width : 720, H = o->height > 0 ? o->height : 420;
    VizFont *lab = text_font(15), *tit = lab ? text_font(20) : NULL,
            *tick = tit ? text_font(13) : NULL;
    if (!tick)
        return at_errcode();
    Frame f = {PAD + 56 + (o->ylabel ? text_height(lab) + 8 : 0),
               PAD + (o->title ? text_height(tit) + 14 : 8),
               W - PAD - 8,
               H - PAD - text_height(tick) - 8 - (o->xlabel ? text_height(lab) + 8 : 0),
               0,
               0,
               0,
               0};
    if (f.x1 - f.x0 < 40 || f.y1 - f.y0 < 40)
        return at_error(AT_EINVAL, "plot: %dx%d is too small for a plot", W, H);
    int m = n, per = 1;
    float *bins = NULL;
    if (n > 2 * (f.x1 - f.x0)) {
        bins = bin_series(v, n, 2 * (f.x1 - f.x0), &m);
        if (!bins)
            return at_error(AT_ENOMEM, "plot: out of memory for %d values", n);
        per = (n + m - 1) / m, v = bins;
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < m; i++)
        if (isfinite(v[i]))
            lo = fmin(lo, (double)v[i]), hi = fmax(hi, (double)v[i]);
    if (lo > hi)
        lo = 0.0, hi = 1.0;
    double margin = hi > lo ? (hi - lo) * 0.06 : (fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0);
    f.ylo = lo - margin, f.yhi = hi + margin, f.xlo = 1.0, f.xhi = m > 1 ? m : 2.0;
    VizImage img;
    int st = viz_image_init(&img, W, H, WHITE);
    if (!st)
        st = draw_axes(&img, &f, tick, per);
    if (!st) {
        draw_line(&img, &f, v, m);
        st = draw_labels(&img, &f, o, lab, tit);
    }
    free(bins);
    if (st) {
        viz_image_free(&img);
        return st;
    }
    *out = img;
    return AT_OK;
}
