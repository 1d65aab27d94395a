/*
 * term.c: heatmaps and sparklines as terminal text.
 *
 * A cell is two columns of background colour on one line, which is about
 * square in a usual terminal font; row labels sit left of their row and
 * column labels are written vertically under their columns, one character
 * per line (a CJK character is exactly one cell wide). When the map does not
 * fit, it is averaged down and drawn with upper half blocks "▀" (foreground
 * = upper row, background = lower row): two rows per line, one column per
 * character. Nothing here reads the environment except term_detect and
 * term_columns, so the renderers are pure and testable byte for byte.
 */
#include <config.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../src/core/error.h"
#include "term.h"

#define LABEL_COLS 12 // row labels at most this many columns
#define COL_LABEL_LINES 6
#define BAR_CELLS 24

/* ---- the buffer ------------------------------------------------------------
 */

void vizbuf_free(VizBuf *b) {
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

static int put(VizBuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p)
            return at_error(AT_ENOMEM, "term: out of memory for %zu bytes of output", cap);
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return AT_OK;
}

static int puts_(VizBuf *b, const char *s) { return put(b, s, strlen(s)); }

static int printf_(VizBuf *b, const char *fmt, ...) AT_PRINTF(2, 3);
static int printf_(VizBuf *b, const char *fmt, ...) {
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return put(b, tmp, n < 0 ? 0 : (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static int spaces(VizBuf *b, int n) {
    int st = AT_OK;
    for (int i = 0; i < n && !st; i++)
        st = put(b, " ", 1);
    return st;
}

/* ---- environment ----------------------------------------------------------
 */

TermMode term_detect(int fd) {
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM"), *ct = getenv("COLORTERM");
    if (!isatty(fd) || (nc && *nc) || !term || strcmp(term, "dumb") == 0)
        return TERM_PLAIN;
    if (ct && (strcmp(ct, "truecolor") == 0 || strcmp(ct, "24bit") == 0))
        return TERM_TRUECOLOR;
    return TERM_256;
}

int term_columns(int fd) {
    const char *env = getenv("COLUMNS");
    int n = env ? atoi(env) : 0;
    if (n > 0)
        return n;
    struct winsize ws;
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* ---- UTF-8 widths
 * ------------------------------------------------------------- */

/* Decode one character; returns its byte length (1 for a stray byte). */
static int u8_next(const char *s, unsigned *cp) {
    const unsigned char *u = (const unsigned char *)s;
    int n = u[0] < 0x80         ? 1
            : (u[0] >> 5) == 6  ? 2
            : (u[0] >> 4) == 14 ? 3
            : (u[0] >> 3) == 30 ? 4
                                : 1;
    for (int i = 1; i < n; i++)
        if ((u[i] & 0xC0) != 0x80)
            n = 1;
    *cp = n == 1 ? u[0] : u[0] & (0x7F >> n);
    for (int i = 1; i < n; i++)
        *cp = (*cp << 6) | (u[i] & 0x3F);
    return n;
}

/* East Asian wide and fullwidth ranges (the blocks tokens come from). */
static int cp_width(unsigned c) {
    if (c < 0x20 || (c >= 0x300 && c < 0x370) || c == 0x200B)
        return 0;
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||
        (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
        (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
        (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) ||
        (c >= 0x20000 && c <= 0x3FFFD))
        return 2;
    return 1;
}

int term_width_of(const char *s) {
    int w = 0;
    unsigned cp;
    while (*s) {
        s += u8_next(s, &cp);
        w += cp_width(cp);
    }
    return w;
}

/* s cut to at most `cols` columns ("…" marks a cut), padded with spaces
   to exactly `cols` (left-aligned). Control characters become spaces. */
static int put_fitted(VizBuf *b, const char *s, int cols) {
    int total = term_width_of(s), used = 0, limit = total > cols ? cols - 1 : cols;
    unsigned cp;
    int st = AT_OK;
    while (*s && !st) {
        int n = u8_next(s, &cp), cw = cp_width(cp);
        if (used + cw > limit)
            break;
        st = cp < 0x20 ? put(b, " ", 1) : put(b, s, (size_t)n);
        used += cp < 0x20 ? 1 : cw;
        s += n;
    }
    if (!st && total > cols)
        st = puts_(b, "\xE2\x80\xA6"), used++;
    return st ? st : spaces(b, cols - used);
}

/* ---- colours
 * ------------------------------------------------------------------ */

/* Nearest xterm-256 colour: the 6x6x6 cube or the grey ramp. */
static int xterm256(VizRGB c) {
    static const int lv[6] = {0, 95, 135, 175, 215, 255};
    int idx[3], v[3] = {c.r, c.g, c.b};
    long cube_d = 0;
    for (int k = 0; k < 3; k++) {
        int best = 0;
        for (int i = 1; i < 6; i++)
            if (abs(v[k] - lv[i]) < abs(v[k] - lv[best]))
                best = i;
        idx[k] = best;
        cube_d += (long)(v[k] - lv[best]) * (v[k] - lv[best]);
    }
    int grey = (c.r + c.g + c.b) / 3, gi = (grey - 8 + 5) / 10;
    gi = gi < 0 ? 0 : gi > 23 ? 23 : gi;
    int gv = 8 + 10 * gi;
    long grey_d = 0;
    for (int k = 0; k < 3; k++)
        grey_d += (long)(v[k] - gv) * (v[k] - gv);
    return grey_d < cube_d ? 232 + gi : 16 + 36 * idx[0] + 6 * idx[1] + idx[2];
}

/* Escape for background (bg=1) or foreground colour c. */
static int put_colour(VizBuf *b, TermMode mode, int bg, VizRGB c) {
    if (mode == TERM_TRUECOLOR)
        return printf_(b, "\x1b[%d;2;%d;%d;%dm", bg ? 48 : 38, c.r, c.g, c.b);
    return printf_(b, "\x1b[%d;5;%dm", bg ? 48 : 38, xterm256(c));
}

static const char *const shades[5] = {" ", "\xE2\x96\x91", "\xE2\x96\x92", "\xE2\x96\x93",
                                      "\xE2\x96\x88"}; // " ░▒▓█"

static const char *shade(float t) {
    if (isnan(t))
        return "?";
    int k = (int)(t * 4.0f + 0.5f);
    return shades[k < 0 ? 0 : k > 4 ? 4 : k];
}

/* ---- layout
 * ------------------------------------------------------------------- */

typedef struct Map {
    const float *w; // rows x cols after downsampling (may be the input)
    int rows, cols;
    int rstride, cstride; // source rows/cols per map row/col
    const char *const *rl, *const *cl;
    float vmin, vmax;
    int log_scale;
    const Colormap *cm;
} Map;

/* Mean of the finite values in each block of rs x cs source cells. */
static float *downsample(const float *w, int rows, int cols, int rs, int cs, int *orows,
                         int *ocols) {
    int R = (rows + rs - 1) / rs, C = (cols + cs - 1) / cs;
    float *d = malloc((size_t)R * C * sizeof *d);
    if (!d)
        return NULL;
    for (int i = 0; i < R; i++)
        for (int j = 0; j < C; j++) {
            double sum = 0.0;
            int n = 0;
            for (int a = i * rs; a < rows && a < (i + 1) * rs; a++)
                for (int bb = j * cs; bb < cols && bb < (j + 1) * cs; bb++)
                    if (isfinite(w[(size_t)a * cols + bb]))
                        sum += (double)w[(size_t)a * cols + bb], n++;
            d[(size_t)i * C + j] = n ? (float)(sum / n) : NAN;
        }
    *orows = R, *ocols = C;
    return d;
}

static float cell_t(const Map *m, int i, int j) {
    return heatmap_norm(m->w[(size_t)i * m->cols + j], m->vmin, m->vmax, m->log_scale);
}

/* Label of source row i (or its 1-based index). */
static const char *label_of(const char *const *labels, int i, char *num, size_t n) {
    if (labels && labels[i])
        return labels[i];
    snprintf(num, n, "%d", i + 1);
    return num;
}

static int label_cols(const char *const *labels, int n, int stride) {
    int lw = 1;
    char num[16];
    for (int i = 0; i < n; i += stride) {
        int w = term_width_of(label_of(labels, i, num, sizeof num));
        lw = w > lw ? w : lw;
    }
    return lw > LABEL_COLS ? LABEL_COLS : lw;
}

/* One line per row, each cell `cw` columns of background colour (colour
   modes) or shades and numbers (plain). */
static int put_rows(VizBuf *b, const Map *m, TermMode mode, int lw, int cw, const char *fmt) {
    char num[16], val[32];
    int st = AT_OK;
    for (int i = 0; i < m->rows && !st; i++) {
        st = put_fitted(b, label_of(m->rl, i * m->rstride, num, sizeof num), lw);
        st = st ? st : put(b, " ", 1);
        for (int j = 0; j < m->cols && !st; j++) {
            float t = cell_t(m, i, j);
            if (mode == TERM_PLAIN) {
                st = puts_(b, shade(t));
                st = st ? st : puts_(b, shade(t));
                if (!st && fmt) {
                    snprintf(val, sizeof val, fmt, (double)m->w[(size_t)i * m->cols + j]);
                    st = printf_(b, "%*s ", cw - 3, val);
                }
            } else {
                VizRGB c = isnan(t) ? (VizRGB){128, 128, 128} : colormap_at(m->cm, t);
                st = put_colour(b, mode, 1, c);
                st = st ? st : spaces(b, cw);
            }
        }
        if (!st && mode != TERM_PLAIN)
            st = puts_(b, "\x1b[0m");
        st = st ? st : put(b, "\n", 1);
    }
    return st;
}

/* Two rows per line with "▀": foreground the upper, background the lower. */
static int put_half_rows(VizBuf *b, const Map *m, TermMode mode, int lw) {
    char num[16];
    int st = AT_OK;
    for (int i = 0; i < m->rows && !st; i += 2) {
        st = put_fitted(b, label_of(m->rl, i * m->rstride, num, sizeof num), lw);
        st = st ? st : put(b, " ", 1);
        for (int j = 0; j < m->cols && !st; j++) {
            float t = cell_t(m, i, j);
            if (mode == TERM_PLAIN) {
                st = puts_(b, shade(t));
                continue;
            }
            VizRGB up = isnan(t) ? (VizRGB){128, 128, 128} : colormap_at(m->cm, t);
            st = put_colour(b, mode, 0, up);
            if (!st && i + 1 < m->rows) {
                float t2 = cell_t(m, i + 1, j);
                st = put_colour(b, mode, 1,
                                isnan(t2) ? (VizRGB){128, 128, 128} : colormap_at(m->cm, t2));
            } else if (!st) {
                st = puts_(b, "\x1b[49m"); // no lower row: default background
            }
            st = st ? st : puts_(b, "\xE2\x96\x80");
        }
        if (!st && mode != TERM_PLAIN)
            st = puts_(b, "\x1b[0m");
        st = st ? st : put(b, "\n", 1);
    }
    return st;
}

/* Column labels written downwards, one character per line, each in its
   column's `cw` cells; at most COL_LABEL_LINES lines. */
static int put_col_labels(VizBuf *b, const Map *m, int lw, int cw) {
    char num[16];
    int lines = 0, st = AT_OK;
    for (int j = 0; j < m->cols; j++) {
        const char *s = label_of(m->cl, j * m->cstride, num, sizeof num);
        unsigned cp;
        int n = 0;
        while (*s)
            s += u8_next(s, &cp), n++;
        lines = n > lines ? n : lines;
    }
    lines = lines > COL_LABEL_LINES ? COL_LABEL_LINES : lines;
    for (int k = 0; k < lines && !st; k++) {
        st = spaces(b, lw + 1);
        for (int j = 0; j < m->cols && !st; j++) {
            const char *s = label_of(m->cl, j * m->cstride, num, sizeof num);
            unsigned cp = 0;
            int n = 0;
            for (int i = 0; *s; i++, s += n) // to the k-th character
                if ((n = u8_next(s, &cp)), i == k)
                    break;
            int w = *s ? cp_width(cp) : 0;
            if (w > cw || cp < 0x20)
                w = 0;
            st = w ? put(b, s, (size_t)n) : AT_OK;
            st = st ? st : spaces(b, cw - w);
        }
        st = st ? st : put(b, "\n", 1);
    }
    return st;
}

/* "  0 [gradient] 1" under the map. */
static int put_bar(VizBuf *b, const Map *m, TermMode mode, int indent) {
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%.3g", (double)m->vmin);
    snprintf(hi, sizeof hi, "%.3g", (double)m->vmax);
    int st = spaces(b, indent);
    st = st ? st : printf_(b, "%s ", lo);
    for (int k = 0; k < BAR_CELLS && !st; k++) {
        float t = (float)k / (BAR_CELLS - 1);
        if (mode == TERM_PLAIN) {
            st = puts_(b, shade(t));
        } else {
            st = put_colour(b, mode, 1, colormap_at(m->cm, t));
            st = st ? st : put(b, " ", 1);
        }
    }
    if (!st && mode != TERM_PLAIN)
        st = puts_(b, "\x1b[0m");
    st = st ? st : printf_(b, " %s%s\n", hi, m->log_scale ? " (log)" : "");
    return st;
}

/* Widest formatted value, for plain mode's numbers. */
static int value_cols(const float *w, size_t n, const char *fmt) {
    int most = 1;
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(buf, sizeof buf, fmt, (double)w[i]);
        most = k > most ? k : most;
    }
    return most;
}

int term_heatmap(VizBuf *out, const float *w, int rows, int cols, const char *const *row_labels,
                 const char *const *col_labels, const HeatmapOptions *o, TermMode mode, int width) {
    if (rows < 1 || cols < 1)
        return at_error(AT_EINVAL, "term: %dx%d weights, expected at least 1x1", rows, cols);
    Map m = {w,
             rows,
             cols,
             1,
             1,
             row_labels,
             col_labels,
             0,
             0,
             o->log_scale,
             o->cmap ? o->cmap : colormap_default()};
    int st = heatmap_range(&m.vmin, &m.vmax, w, (size_t)rows * cols, o);
    if (st)
        return st;
    if (width < 20)
        width = 20;
    int lw = label_cols(row_labels, rows, 1), avail = width - lw - 1;
    const char *fmt = mode == TERM_PLAIN ? "%.2f" : NULL;
    int cw = 2;
    if (fmt) { // shade shade space value space, when that fits
        cw = 3 + value_cols(w, (size_t)rows * cols, fmt) + 1;
        if (cols * cw > avail)
            fmt = NULL, cw = 2;
    }
    if (o->title)
        st = printf_(out, "%.120s\n", o->title);
    float *small = NULL;
    if (!st && cols * cw <= avail) {
        st = put_rows(out, &m, mode, lw, cw, fmt);
        st = st ? st : put_col_labels(out, &m, lw, cw);
    } else if (!st) {
        // Averaged down to one character per column and two rows per line;
        // square blocks keep the map's shape.
        int cs = (cols + avail - 1) / avail;
        small = downsample(w, rows, cols, cs, cs, &m.rows, &m.cols);
        if (!small)
            return at_error(AT_ENOMEM, "term: out of memory downsampling %dx%d", rows, cols);
        m.w = small, m.rstride = cs, m.cstride = cs;
        lw = label_cols(row_labels, rows, 2 * cs);
        st = put_half_rows(out, &m, mode, lw);
        st = st ? st
                : printf_(out, "%*s(%dx%d averaged into blocks of %dx%d)\n", lw + 1, "", rows, cols,
                          cs, cs);
    }
    st = st ? st : put_bar(out, &m, mode, lw + 1);
    free(small);
    return st;
}

int term_sparkline(VizBuf *out, const float *v, int n, const char *title, int width) {
    static const char *const ticks[8] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    if (n < 1)
        return at_error(AT_EINVAL, "sparkline: no values");
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]))
            lo = fminf(lo, v[i]), hi = fmaxf(hi, v[i]);
    int cols = width < 10 ? 10 : width, per = (n + cols - 1) / cols, m = 0;
    int st = title ? printf_(out, "%.120s\n", title) : AT_OK;
    for (int i = 0; i < n && !st; i += per, m++) {
        double s = 0.0;
        int k = 0;
        for (int j = i; j < n && j < i + per; j++)
            if (isfinite(v[j]))
                s += (double)v[j], k++;
        if (!k) {
            st = put(out, " ", 1);
            continue;
        }
        double t = hi > lo ? (s / k - (double)lo) / (double)(hi - lo) : 0.5;
        int idx = (int)(t * 7.0 + 0.5);
        st = puts_(out, ticks[idx < 0 ? 0 : idx > 7 ? 7 : idx]);
    }
    st = st ? st : put(out, "\n", 1);
    if (!st && lo <= hi)
        st = printf_(out, "n=%d  first %.4g  last %.4g  min %.4g  max %.4g\n", n, (double)v[0],
                     (double)v[n - 1], (double)lo, (double)hi);
    return st;
}
