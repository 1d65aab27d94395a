/*
 * heatmap.h: a heatmap as a pure function from (weights, labels, options)
 * to an RGBA image, with its layout, so that every sink (PNG, window,
 * tests) can find cells and the colour bar again.
 *
 * Weights are rows x cols floats, row-major: row i is query i (drawn top to
 * bottom), column j is key j (left to right). Labels are UTF-8; NULL label
 * arrays mean 1-based indices. NaN cells are drawn light grey.
 */
#ifndef VIZ_HEATMAP_H
#define VIZ_HEATMAP_H

#include <stddef.h>

#include "colormap.h"
#include "image.h"

typedef struct HeatmapOptions {
    const char *title;      // NULL: none
    const char *xlabel;     // under the column labels, e.g. "key"; NULL: none
    const char *ylabel;     // left of the row labels, e.g. "query"; NULL: none
    const Colormap *cmap;   // NULL: viridis
    float vmin, vmax;       // used where has_vmin / has_vmax
    int has_vmin, has_vmax; // else from the data (symmetric for diverging)
    int log_scale;          // colour by log10(value); values <= 0 get the low end
    int annotate;           // -1: when rows, cols <= 16; 0: never; 1: when text fits
    int cell;               // pixels per cell side; 0: chosen from the size
    int colorbar;           // draw the colour bar with its scale (default 1)
} HeatmapOptions;

/* Where things landed, in image pixels. */
typedef struct HeatmapLayout {
    int map_x, map_y; // top-left of cell (0, 0)
    int cell;         // cell side
    int rows, cols;
    int bar_x, bar_y, bar_w, bar_h; // colour bar (bar_w 0 when none)
    float vmin, vmax;               // the range colours span (after log/diverging rules)
    int log_scale;
    int nticks; // colour bar ticks, bottom to top; ends are vmin, vmax
    float ticks[16];
} HeatmapLayout;

/* Where the thumbnails of a grid landed. */
typedef struct HeatmapGridLayout {
    int x0, y0;      // top-left of thumbnail (layer 1, head 1)
    int thumb, step; // thumbnail side, distance between thumbnails
    int layers, heads;
} HeatmapGridLayout;

/* Every layer x head map (w: layers x heads x T x T) as a thumbnail, one
   row per layer and one column per head, on one colour range, with a
   title. grid may be NULL. Status. */
int heatmap_grid_render(VizImage *out, HeatmapGridLayout *grid, const float *w, int layers,
                        int heads, int T, const HeatmapOptions *o);

/* Defaults: no title, viridis, range from data, annotate auto, bar on. */
void heatmap_options_default(HeatmapOptions *o);

/* The value range the colours span for these weights and options.
   Status: invalid vmin/vmax (vmin >= vmax, vmin <= 0 with log) is
   AT_EINVAL with a message. */
int heatmap_range(float *vmin, float *vmax, const float *w, size_t n, const HeatmapOptions *o);

/* v mapped to [0, 1] within [vmin, vmax] (clamped; NaN stays NaN). */
float heatmap_norm(float v, float vmin, float vmax, int log_scale);

/* Render into *out (initialised here; free with viz_image_free). layout
   may be NULL. Status; *out untouched on failure. */
int heatmap_render(VizImage *out, HeatmapLayout *layout, const float *w, int rows, int cols,
                   const char *const *row_labels, const char *const *col_labels,
                   const HeatmapOptions *o);

#endif
