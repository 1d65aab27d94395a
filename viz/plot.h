/*
 * plot.h: a line plot of a series (a loss curve) as an RGBA image: light
 * grid, round-number ticks on both axes, an anti-aliased line, a title.
 * x is the 1-based step number. NaN and infinite values break the line.
 */
#ifndef VIZ_PLOT_H
#define VIZ_PLOT_H

#include "image.h"

typedef struct PlotOptions {
    const char *title, *xlabel, *ylabel; // NULL: none
    int width, height;                   // 0: 720 x 420
} PlotOptions;

/* Render v[0..n-1] into *out (initialised here). Status. */
int plot_render(VizImage *out, const float *v, int n, const PlotOptions *o);

#endif
