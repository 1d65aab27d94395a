/*
 * text.h: UTF-8 text into a VizImage through SDL2_ttf.
 *
 * One font file serves every label; it is found once per process through
 * ATTNLAB_FONT (a path, used strictly: if set and unusable, that is an
 * error) or the first readable file of a fallback list that starts with CJK
 * fonts (WenQuanYi Micro Hei, Noto Sans CJK SC), because attention labels
 * are tokens in any script and a Latin-only font draws Chinese as boxes.
 * Fonts are opened per pixel size and cached; text_shutdown() closes them.
 * Nothing here needs SDL_Init or a display: TTF_Init only starts FreeType,
 * and the rendered glyph surfaces are read as coverage and blended here.
 */
#ifndef VIZ_TEXT_H
#define VIZ_TEXT_H

#include <stddef.h>

#include "image.h"

typedef struct VizFont VizFont;

/* The font at px pixels (6..200), opened on first use. NULL with a message
   when no font can be opened. Borrowed: valid until text_shutdown(). */
VizFont *text_font(int px);
/* The path and face index of the font in use (after a text_font call). */
const char *text_font_path(int *index);
/* Close every cached font and TTF itself (tests, valgrind). */
void text_shutdown(void);

/* Line height and ascent in pixels. */
int text_height(VizFont *f);
/* Width of s in pixels (0 for ""); -1 with a message on failure. */
int text_width(VizFont *f, const char *s);

/* Draw s with its box's top-left corner at (x, y). rotate: 0 horizontal,
   1 turned 90 degrees counter-clockwise (reads bottom to top; the box is
   text_height wide and text_width tall). Clipped to the image. */
int text_draw(VizImage *img, VizFont *f, const char *s, int x, int y, VizRGB c, int rotate);

/* s shortened to at most maxw pixels: whole UTF-8 characters are dropped
   from the end and "…" appended. Writes a NUL-terminated string into
   out[outsz] (s itself when it fits and outsz allows). Status. */
int text_fit(char *out, size_t outsz, VizFont *f, const char *s, int maxw);

#endif
