/*
 * png.h: the PNG sink. A VizImage to a file through libpng's simplified
 * API; no display, no SDL.
 */
#ifndef VIZ_PNG_H
#define VIZ_PNG_H

#include "image.h"

/* Write img to path as 8-bit RGBA PNG. Atomic: the image goes to a
   temporary file beside path, which is renamed over path only once
   complete, so a reader (or a crash) never sees half a picture and an
   existing file survives a failed write. Status with a message naming the
   path. */
int viz_png_write(const char *path, const VizImage *img);

/* Read a PNG (any format libpng understands) as RGBA into *img
   (initialised here). For tests and golden images. Status. */
int viz_png_read(const char *path, VizImage *img);

#endif
