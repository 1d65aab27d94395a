/*
 * image.c: allocation and the few pixel operations the renderers share.
 * See image.h for the layout. Nothing here knows about fonts or colours
 * beyond plain RGB.
 */
#include <config.h>

#include <stdlib.h>

#include "../src/core/error.h"
#include "image.h"

int viz_image_init(VizImage *img, int w, int h, VizRGB bg) {
    if (w < 1 || h < 1 || w > VIZ_IMAGE_MAX || h > VIZ_IMAGE_MAX)
        return at_error(AT_EINVAL, "image: size %dx%d is outside 1..%d", w, h, VIZ_IMAGE_MAX);
    size_t n = (size_t)w * (size_t)h;
    uint8_t *px = malloc(n * 4);
    if (!px)
        return at_error(AT_ENOMEM, "image: out of memory for %dx%d pixels", w, h);
    for (size_t i = 0; i < n; i++) {
        px[4 * i] = bg.r;
        px[4 * i + 1] = bg.g;
        px[4 * i + 2] = bg.b;
        px[4 * i + 3] = 255;
    }
    img->w = w;
    img->h = h;
    img->px = px;
    return AT_OK;
}

void viz_image_free(VizImage *img) {
    free(img->px);
    img->px = NULL;
    img->w = img->h = 0;
}

void viz_fill_rect(VizImage *img, int x, int y, int w, int h, VizRGB c) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > img->w ? img->w : x + w;
    int y1 = y + h > img->h ? img->h : y + h;
    for (int j = y0; j < y1; j++) {
        uint8_t *p = img->px + ((size_t)j * (size_t)img->w + (size_t)x0) * 4;
        for (int i = x0; i < x1; i++, p += 4) {
            p[0] = c.r;
            p[1] = c.g;
            p[2] = c.b;
            p[3] = 255;
        }
    }
}

/* Integer "over" with rounding: dst + (src - dst) * a / 255. */
static uint8_t mix(uint8_t dst, uint8_t src, unsigned a) {
    int d = ((int)src - (int)dst) * (int)a;
    return (uint8_t)((int)dst + (d + (d >= 0 ? 127 : -127)) / 255);
}

void viz_blend(VizImage *img, int x, int y, VizRGB c, unsigned a) {
    if (x < 0 || y < 0 || x >= img->w || y >= img->h || a == 0)
        return;
    if (a > 255)
        a = 255;
    uint8_t *p = img->px + ((size_t)y * (size_t)img->w + (size_t)x) * 4;
    p[0] = mix(p[0], c.r, a);
    p[1] = mix(p[1], c.g, a);
    p[2] = mix(p[2], c.b, a);
}

VizRGB viz_pixel(const VizImage *img, int x, int y) {
    const uint8_t *p = img->px + ((size_t)y * (size_t)img->w + (size_t)x) * 4;
    return (VizRGB){p[0], p[1], p[2]};
}
