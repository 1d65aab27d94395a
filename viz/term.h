/*
 * term.h: the terminal sink. Heatmaps as coloured character cells and
 * value series as sparklines, written into a growing byte buffer (the
 * caller prints it), so the output can be checked byte for byte.
 *
 * Modes: TERM_TRUECOLOR (24-bit ANSI colours), TERM_256 (the xterm
 * 256-colour palette) and TERM_PLAIN (no escape codes at all: shades
 * " ░▒▓█" and the numbers, for NO_COLOR, dumb terminals and logs).
 * Maps wider than the terminal are averaged down to its width.
 */
#ifndef VIZ_TERM_H
#define VIZ_TERM_H

#include <stddef.h>

#include "heatmap.h"

typedef enum { TERM_TRUECOLOR, TERM_256, TERM_PLAIN } TermMode;

/* A NUL-terminated byte string that grows; {0} is an empty one. */
typedef struct VizBuf {
    char *s;
    size_t len, cap;
} VizBuf;

void vizbuf_free(VizBuf *b);

/* The mode for output on fd: TERM_PLAIN when fd is not a terminal (a file
   or a pipe gets no escape codes), NO_COLOR is set and not empty
   (no-color.org), or TERM is unset or "dumb"; TERM_TRUECOLOR when
   COLORTERM says truecolor or 24bit; else TERM_256. */
TermMode term_detect(int fd);
/* Columns of the terminal on fd (COLUMNS, then the tty's size), else 80. */
int term_columns(int fd);

/* Display width of a UTF-8 string in terminal columns (CJK = 2). */
int term_width_of(const char *s);

/* Append a heatmap of w (rows x cols, row-major) at most `width` columns
   wide. Options as for heatmap_render (title, cmap, range, log;
   annotations in plain mode only when they fit). Status. */
int term_heatmap(VizBuf *out, const float *w, int rows, int cols, const char *const *row_labels,
                 const char *const *col_labels, const HeatmapOptions *o, TermMode mode, int width);

/* Append a sparkline of v[0..n-1] (NaN skipped) with its first, last,
   minimum and maximum values, at most `width` columns wide. Status. */
int term_sparkline(VizBuf *out, const float *v, int n, const char *title, int width);

#endif
