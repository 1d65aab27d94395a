/*
 * image.h: the RGBA image every viz renderer draws into and every sink
 * (PNG file, window texture) reads from.
 *
 * Pixels are R,G,B,A bytes, row-major, stride w*4, no padding: the layout
 * libpng's PNG_FORMAT_RGBA and SDL_PIXELFORMAT_RGBA32 both take as is.
 * Drawing helpers clip to the image, so callers may pass rectangles that
 * hang over an edge. Alpha in the image is always 255 (opaque pictures);
 * blending happens with per-draw coverage values.
 */
#ifndef VIZ_IMAGE_H
#define VIZ_IMAGE_H

#include <stdint.h>

typedef struct VizRGB {
    uint8_t r, g, b;
} VizRGB;

typedef struct VizImage {
    int w, h;
    uint8_t *px; // w*h*4 bytes, owned
} VizImage;

/* Width and height at most this (a 16384² image is 1 GiB already). */
#define VIZ_IMAGE_MAX 16384

/* Allocate a w x h image filled with bg. Status; img untouched on failure. */
int viz_image_init(VizImage *img, int w, int h, VizRGB bg);
/* Free the pixels; the struct may be reused. NULL px is fine. */
void viz_image_free(VizImage *img);

/* Fill the rectangle (clipped) with c, opaque. */
void viz_fill_rect(VizImage *img, int x, int y, int w, int h, VizRGB c);
/* Blend c over the pixel at (x, y) with coverage a (0..255); clipped. */
void viz_blend(VizImage *img, int x, int y, VizRGB c, unsigned a);
/* The pixel at (x, y), which must be inside. */
VizRGB viz_pixel(const VizImage *img, int x, int y);

#endif
