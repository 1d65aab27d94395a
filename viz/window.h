/*
 * window.h: the SDL2 window sink. A rendered heatmap shown in a resizable
 * window that stays live while the REPL waits for keys: the REPL's idle
 * hook calls window_pump() about every 16 ms (one thread runs the REPL and
 * SDL, see DESIGN.md "The event loop").
 *
 * In a window: mouse hover puts (query, key, weight) in the title bar;
 * +/- or the wheel zoom (about the mouse for the wheel), drag pans, 0
 * resets; a click on a row highlights where that query looks (another
 * click clears it); s saves the picture as attnlab-heatmap-N.png in the working
 * folder and prints where; q or Esc closes. Browsers over a model's
 * recorded attention also step through layers and heads. Nothing here
 * knows Lua.
 */
#ifndef VIZ_WINDOW_H
#define VIZ_WINDOW_H

#include "heatmap.h"
#include "image.h"

typedef struct VizWindow VizWindow;

/* Whether there is a display to show windows on (DISPLAY or
   WAYLAND_DISPLAY). SDL_VIDEODRIVER=dummy (tests) does not count: callers
   ask for a window explicitly there. Starts nothing. */
int window_have_display(void);

/* Open a window on a copy of img; w (rows x cols, row-major, as given to
   heatmap_render with layout L) and the labels (NULL: indices) are copied
   for hover. w NULL (L all zero): a picture without cells, e.g. a plot. Starts SDL video on first
   use. Status. Borrowed result: windows belong to this module and go away when closed. */
int window_open(VizWindow **out, const VizImage *img, const HeatmapLayout *L, const float *w,
                const char *const *row_labels, const char *const *col_labels, const char *title);

/* A browser over recorded attention: w is layers x heads x T x T
   (row-major, copied), tokens label both axes (NULL: indices). Arrow keys
   step through heads (left/right) and layers (up/down), a shows the
   average of the layer's heads, g a grid of every layer x head (a click on
   a thumbnail opens it); everything else as window_open. */
int window_open_browser(VizWindow **out, const float *w, int layers, int heads, int T,
                        const char *const *tokens, const HeatmapOptions *o);
/* The browser's page, e.g. "layer 2 of 12, head 3 of 12" ("" otherwise). */
const char *window_page(const VizWindow *win);
/* Browser keys beyond those: m the max over the layer's heads, r the
   attention rollout of layers 1 .. this one (Abnar & Zuidema: head
   average, A' = 0.5 A + 0.5 I renormalised, multiplied up the layers), p
   pins the map shown and d shows the page minus the pinned map (diverging
   colours). In every window a shift+click adds a query row to the picked
   rows (a plain click picks one row alone). */
/* The picked query rows (0-based, ascending) into rows[0 .. max); returns
   how many were stored. */
int window_picked(const VizWindow *win, int *rows, int max);
/* The values of the map shown (rows x cols, row-major; NULL for a
   picture without cells). Borrowed. */
const float *window_map(const VizWindow *win);

/* The picture shown now (with a highlighted row, when one is). Borrowed. */
const VizImage *window_view(const VizWindow *win);

/* Drain pending events for every window, act on them, redraw. Cheap when
   no window is open (returns at once without touching SDL). */
void window_pump(void);

/* Windows open now. */
int window_count(void);
/* The hover text of a window ("" before any hover). Borrowed. */
const char *window_hover_text(const VizWindow *win);
/* Zoom factor of a window's view (1 = the picture's own size). */
double window_zoom(const VizWindow *win);
/* SDL's window id, for tests that push synthetic events. */
unsigned window_id(const VizWindow *win);
/* Path of the last picture saved with s ("" before any). Borrowed. */
const char *window_last_saved(void);

/* Close every window and stop SDL video (tests, exit). */
void window_close_all(void);

#endif
