/*
 * colormap.h: named colormaps, t in [0, 1] -> RGB.
 *
 * viridis (default) and magma are the perceptually uniform maps of
 * matplotlib (van der Walt and Smith, 2015); gray is linear black to white;
 * "diverging" (also "rdbu_r") is ColorBrewer's 11-class RdBu, blue for low,
 * near-white in the middle, red for high, meant for differences: callers
 * centre it on 0 (see colormap_is_diverging and heatmap_range).
 */
#ifndef VIZ_COLORMAP_H
#define VIZ_COLORMAP_H

#include "image.h"

typedef struct Colormap Colormap;

/* The map called name (case-sensitive), or NULL. Borrowed, static. */
const Colormap *colormap_find(const char *name);
/* The default map (viridis). */
const Colormap *colormap_default(void);
/* The map's canonical name ("viridis", ...). */
const char *colormap_name(const Colormap *cm);
/* The known names, for error messages: "viridis, magma, gray, diverging". */
const char *colormap_names(void);
/* Whether the map is meant to be centred on 0. */
int colormap_is_diverging(const Colormap *cm);
/* The colour at t, clamped to [0, 1] (NaN counts as 0), interpolated
   linearly in RGB between the map's control points. */
VizRGB colormap_at(const Colormap *cm, float t);

#endif
