/*
 * window.c: heatmap windows through SDL2, pumped from the REPL's loop.
 *
 * The picture is the very RGBA buffer heatmap_render made (the PNG sink
 * writes the same bytes), uploaded once into a streaming texture; a frame
 * is one SDL_RenderCopy with the view's scale and offset, so a 1024x1024
 * map stays fluid at any zoom. View: window pixel (x, y) shows picture
 * pixel (ox + x / zoom, oy + y / zoom).
 */
#include <config.h>

#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/core/error.h"
#include "png.h"
#include "window.h"

struct VizWindow {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    VizImage img;  // owned copy
    VizImage view; // img with a query row highlighted, when sel >= 0
    int sel;
    HeatmapLayout L;
    float *w;        // rows x cols, owned
    char **rl, **cl; // owned, NULL entries never
    double zoom, ox, oy;
    int dragging;
    char title[128], hover[512];
    // A browser over a model's recorded attention (window_open_browser):
    float *all; // layers x heads x T x T, owned; NULL for a single map
    int T;
    int layers, heads, layer, head, average, grid;
    HeatmapGridLayout G;
    int down_x, down_y; // where the mouse went down (a click selects a thumbnail)
    HeatmapOptions opts;
    char page[128];
    struct VizWindow *next;
};

static VizWindow *windows;
static int video_up;
static int saved_count;
static char last_saved[64];

int window_have_display(void) {
    const char *d = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    return (d && *d) || (wl && *wl);
}

static int video_start(void) {
    if (video_up)
        return AT_OK;
    // SDL must not turn Ctrl-C into SDL_QUIT: the REPL owns SIGINT.
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0)
        return at_error(AT_EDEVICE, "window: cannot start SDL video: %s", SDL_GetError());
    video_up = 1;
    return AT_OK;
}

static char **copy_labels(const char *const *labels, int n) {
    char **out = calloc((size_t)n, sizeof *out);
    for (int i = 0; out && i < n; i++) {
        char num[16];
        snprintf(num, sizeof num, "%d", i + 1);
        const char *s = labels && labels[i] ? labels[i] : num;
        if (!(out[i] = strdup(s))) {
            while (i-- > 0)
                free(out[i]);
            free(out);
            return NULL;
        }
    }
    return out;
}

static void free_labels(char **l, int n) {
    for (int i = 0; l && i < n; i++)
        free(l[i]);
    free(l);
}

static void destroy(VizWindow *v) {
    if (v->tex)
        SDL_DestroyTexture(v->tex);
    if (v->ren)
        SDL_DestroyRenderer(v->ren);
    if (v->win)
        SDL_DestroyWindow(v->win);
    viz_image_free(&v->img);
    viz_image_free(&v->view);
    free(v->w);
    free(v->all);
    free_labels(v->rl, v->L.rows);
    free_labels(v->cl, v->L.cols);
    free(v);
}

/* Copies of everything the window shows and hovers over. */
static int copy_data(VizWindow *v, const VizImage *img, const float *w, const char *const *rl,
                     const char *const *cl) {
    size_t n = (size_t)v->L.rows * v->L.cols;
    if (viz_image_init(&v->img, img->w, img->h, (VizRGB){255, 255, 255}))
        return at_errcode();
    memcpy(v->img.px, img->px, (size_t)img->w * img->h * 4);
    if (!w) // a picture without cells (a plot): nothing to hover over
        return AT_OK;
    v->w = malloc(n * sizeof *v->w);
    v->rl = copy_labels(rl, v->L.rows);
    v->cl = copy_labels(cl, v->L.cols);
    if (!v->w || !v->rl || !v->cl)
        return at_error(AT_ENOMEM, "window: out of memory");
    memcpy(v->w, w, n * sizeof *w);
    return AT_OK;
}

/* The picture into the streaming texture, made anew when the size changed
   (a browser page with other labels may be another size). */
static int upload(VizWindow *v) {
    const VizImage *src = v->view.px ? &v->view : &v->img;
    int tw = 0, th = 0;
    if (v->tex &&
        (SDL_QueryTexture(v->tex, NULL, NULL, &tw, &th) != 0 || tw != v->img.w || th != v->img.h)) {
        SDL_DestroyTexture(v->tex);
        v->tex = NULL;
    }
    if (!v->tex)
        v->tex = SDL_CreateTexture(v->ren, SDL_PIXELFORMAT_RGBA32, SDL_TEXTUREACCESS_STREAMING,
                                   v->img.w, v->img.h);
    if (!v->tex || SDL_UpdateTexture(v->tex, NULL, src->px, src->w * 4) != 0)
        return at_error(AT_EDEVICE, "window: cannot make a %dx%d texture: %s", v->img.w, v->img.h,
                        SDL_GetError());
    return AT_OK;
}

static int create_sdl(VizWindow *v) {
    SDL_DisplayMode dm;
    int maxw = 1400, maxh = 1000;
    if (SDL_GetDesktopDisplayMode(0, &dm) == 0 && dm.w > 200 && dm.h > 200)
        maxw = dm.w * 9 / 10, maxh = dm.h * 85 / 100;
    int ww = v->img.w < maxw ? v->img.w : maxw, wh = v->img.h < maxh ? v->img.h : maxh;
    v->win = SDL_CreateWindow(v->title, SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, ww, wh,
                              SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!v->win)
        return at_error(AT_EDEVICE, "window: cannot open a window: %s", SDL_GetError());
    v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_PRESENTVSYNC);
    if (!v->ren) // no GPU driver: the software renderer always works
        v->ren = SDL_CreateRenderer(v->win, -1, SDL_RENDERER_SOFTWARE);
    if (!v->ren)
        return at_error(AT_EDEVICE, "window: no renderer: %s", SDL_GetError());
    int st = upload(v);
    if (st)
        return st;
    // Fit the picture to the window at first.
    double zx = (double)ww / v->img.w, zy = (double)wh / v->img.h;
    v->zoom = zx < zy ? zx : zy;
    return AT_OK;
}

static void draw(VizWindow *v) {
    SDL_SetRenderDrawColor(v->ren, 255, 255, 255, 255);
    SDL_RenderClear(v->ren);
    // Nearest neighbour when zoomed in keeps cells crisp.
    SDL_SetTextureScaleMode(v->tex, v->zoom >= 1.0 ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
    SDL_Rect dst = {(int)(-v->ox * v->zoom), (int)(-v->oy * v->zoom),
                    (int)(v->img.w * v->zoom + 0.5), (int)(v->img.h * v->zoom + 0.5)};
    SDL_RenderCopy(v->ren, v->tex, NULL, &dst);
    SDL_RenderPresent(v->ren);
}

/* The end of opening any window: on status st == AT_OK create its SDL
   side, link it into the list and draw it; else free it. */
static int finish_open(VizWindow **out, VizWindow *v, int st) {
    if (!st)
        st = create_sdl(v);
    if (st) {
        destroy(v);
        return st;
    }
    v->next = windows;
    windows = v;
    draw(v);
    *out = v;
    return AT_OK;
}

int window_open(VizWindow **out, const VizImage *img, const HeatmapLayout *L, const float *w,
                const char *const *row_labels, const char *const *col_labels, const char *title) {
    int st = video_start();
    if (st)
        return st;
    VizWindow *v = calloc(1, sizeof *v);
    if (!v)
        return at_error(AT_ENOMEM, "window: out of memory");
    v->L = *L;
    v->sel = -1;
    snprintf(v->title, sizeof v->title, "attnlab%s%s", title ? " - " : "", title ? title : "");
    st = copy_data(v, img, w, row_labels, col_labels);
    return finish_open(out, v, st);
}

static VizWindow *find(Uint32 id) {
    for (VizWindow *v = windows; v; v = v->next)
        if (SDL_GetWindowID(v->win) == id)
            return v;
    return NULL;
}

static void close_window(VizWindow *v) {
    for (VizWindow **p = &windows; *p; p = &(*p)->next)
        if (*p == v) {
            *p = v->next;
            break;
        }
    destroy(v);
}

/* Zoom by factor keeping window point (x, y) on the same picture pixel. */
static void zoom_at(VizWindow *v, double factor, int x, int y) {
    double z = v->zoom * factor;
    z = z < 0.05 ? 0.05 : z > 64 ? 64 : z;
    double px = v->ox + x / v->zoom, py = v->oy + y / v->zoom;
    v->zoom = z;
    v->ox = px - x / z, v->oy = py - y / z;
}

static void zoom_centre(VizWindow *v, double factor) {
    int w, h;
    SDL_GetWindowSize(v->win, &w, &h);
    zoom_at(v, factor, w / 2, h / 2);
}

/* Title bar shows the cell under the mouse: query, key and weight. */
static void hover(VizWindow *v, int x, int y) {
    if (v->grid)
        return;
    double px = v->ox + x / v->zoom, py = v->oy + y / v->zoom;
    const HeatmapLayout *L = &v->L;
    int j = (int)((px - L->map_x) / L->cell), i = (int)((py - L->map_y) / L->cell);
    if (px < L->map_x || py < L->map_y || i >= L->rows || j >= L->cols) {
        v->hover[0] = 0;
        SDL_SetWindowTitle(v->win, v->title);
        return;
    }
    snprintf(v->hover, sizeof v->hover, "query %d %.60s, key %d %.60s: %.4g", i + 1, v->rl[i],
             j + 1, v->cl[j], (double)v->w[(size_t)i * L->cols + j]);
    char t[700];
    snprintf(t, sizeof t, "%s   [%s]", v->title, v->hover);
    SDL_SetWindowTitle(v->win, t);
}

static void save(VizWindow *v) {
    snprintf(last_saved, sizeof last_saved, "attnlab-heatmap-%d.png", ++saved_count);
    char cwd[4096];
    if (viz_png_write(last_saved, window_view(v)))
        printf("could not save: %s\n", at_errmsg());
    else
        printf("saved %s/%s\n", getcwd(cwd, sizeof cwd) ? cwd : ".", last_saved);
    fflush(stdout);
}

/* The grid of every layer x head as the page (key g). */
static int render_grid(VizWindow *v) {
    VizImage img;
    HeatmapOptions o = v->opts;
    snprintf(v->page, sizeof v->page, "grid of %d layers x %d heads", v->layers, v->heads);
    o.title = "every layer and head (click one to open it)";
    int st = heatmap_grid_render(&img, &v->G, v->all, v->layers, v->heads, v->T, &o);
    if (st)
        return st;
    viz_image_free(&v->img);
    viz_image_free(&v->view);
    v->img = img, v->sel = -1;
    return AT_OK;
}

/* Render the browser's current page (one head, or the heads' average)
   into v->img / v->L / v->w; the texture is updated by the caller. */
static int render_page(VizWindow *v) {
    int T = v->T;
    if (v->grid)
        return render_grid(v);
    size_t TT = (size_t)T * T;
    const float *layer = v->all + (size_t)v->layer * v->heads * TT;
    if (v->average) {
        for (size_t k = 0; k < TT; k++) {
            double sum = 0.0;
            for (int h = 0; h < v->heads; h++)
                sum += (double)layer[h * TT + k];
            v->w[k] = (float)(sum / v->heads);
        }
        snprintf(v->page, sizeof v->page, "layer %d of %d, average of %d heads", v->layer + 1,
                 v->layers, v->heads);
    } else {
        memcpy(v->w, layer + (size_t)v->head * TT, TT * sizeof *v->w);
        snprintf(v->page, sizeof v->page, "layer %d of %d, head %d of %d", v->layer + 1, v->layers,
                 v->head + 1, v->heads);
    }
    v->opts.title = v->page;
    VizImage img;
    HeatmapLayout L;
    int st = heatmap_render(&img, &L, v->w, T, T, (const char *const *)v->rl,
                            (const char *const *)v->cl, &v->opts);
    if (st)
        return st;
    viz_image_free(&v->img);
    viz_image_free(&v->view);
    v->img = img, v->L = L, v->sel = -1;
    return AT_OK;
}

/* Arrow keys and a: another page of the browser. */
static void browse(VizWindow *v, SDL_Keycode k) {
    if (k != SDLK_g &&
        (k == SDLK_RIGHT || k == SDLK_LEFT || k == SDLK_UP || k == SDLK_DOWN || k == SDLK_a))
        v->grid = 0;
    if (k == SDLK_RIGHT || k == SDLK_LEFT) {
        v->head = (v->head + (k == SDLK_RIGHT ? 1 : v->heads - 1)) % v->heads;
        v->average = 0;
    } else if (k == SDLK_UP || k == SDLK_DOWN) {
        v->layer = (v->layer + (k == SDLK_UP ? 1 : v->layers - 1)) % v->layers;
    } else if (k == SDLK_a) {
        v->average = !v->average;
    } else if (k == SDLK_g) {
        v->grid = !v->grid;
    } else {
        return;
    }
    if (render_page(v) || upload(v)) {
        printf("window: %s\n", at_errmsg());
        fflush(stdout);
    }
    v->hover[0] = 0;
    SDL_SetWindowTitle(v->win, v->title);
}

/* Query row v->sel stands out: the other rows fade towards white and a
   dark frame goes round it, so one sees where that query looks. */
static void highlight(VizWindow *v, int x, int y) {
    const HeatmapLayout *L = &v->L;
    double px = v->ox + x / v->zoom, py = v->oy + y / v->zoom;
    int i = (int)((py - L->map_y) / L->cell);
    int inside =
        px >= L->map_x && py >= L->map_y && i < L->rows && px < L->map_x + L->cols * L->cell;
    v->sel = inside && v->sel != i ? i : -1;
    viz_image_free(&v->view);
    if (v->sel >= 0 &&
        viz_image_init(&v->view, v->img.w, v->img.h, (VizRGB){255, 255, 255}) == AT_OK) {
        memcpy(v->view.px, v->img.px, (size_t)v->img.w * v->img.h * 4);
        int x0 = L->map_x, w = L->cols * L->cell;
        for (int r = 0; r < L->rows; r++)
            for (int yy = 0; r != v->sel && yy < L->cell; yy++)
                for (int xx = 0; xx < w; xx++)
                    viz_blend(&v->view, x0 + xx, L->map_y + r * L->cell + yy,
                              (VizRGB){255, 255, 255}, 170);
        int y0 = L->map_y + v->sel * L->cell;
        VizRGB ink = {20, 20, 20};
        viz_fill_rect(&v->view, x0 - 2, y0 - 2, w + 4, 2, ink);
        viz_fill_rect(&v->view, x0 - 2, y0 + L->cell, w + 4, 2, ink);
        viz_fill_rect(&v->view, x0 - 2, y0, 2, L->cell, ink);
        viz_fill_rect(&v->view, x0 + w, y0, 2, L->cell, ink);
    }
    if (upload(v)) {
        printf("window: %s\n", at_errmsg());
        fflush(stdout);
    }
}

/* A click in the grid opens the thumbnail's layer and head. */
static void pick(VizWindow *v, int x, int y) {
    double px = v->ox + x / v->zoom - v->G.x0, py = v->oy + y / v->zoom - v->G.y0;
    int h = (int)(px / v->G.step), l = (int)(py / v->G.step);
    if (px < 0 || py < 0 || h >= v->heads || l >= v->layers || px - h * v->G.step > v->G.thumb ||
        py - l * v->G.step > v->G.thumb)
        return;
    v->layer = l, v->head = h, v->grid = 0, v->average = 0;
    if (render_page(v) || upload(v)) {
        printf("window: %s\n", at_errmsg());
        fflush(stdout);
    }
}

/* Returns 0 when the window closed. */
static int key(VizWindow *v, SDL_Keycode k) {
    if (v->all)
        browse(v, k);
    switch (k) {
    case SDLK_q:
    case SDLK_ESCAPE:
        close_window(v);
        return 0;
    case SDLK_s:
        save(v);
        break;
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
        zoom_centre(v, 1.25);
        break;
    case SDLK_MINUS:
    case SDLK_KP_MINUS:
        zoom_centre(v, 1 / 1.25);
        break;
    case SDLK_0:
        v->zoom = 1.0, v->ox = v->oy = 0.0;
        break;
    default:
        break;
    }
    return 1;
}

static void handle(const SDL_Event *e) {
    Uint32 id = e->type == SDL_KEYDOWN       ? e->key.windowID
                : e->type == SDL_MOUSEMOTION ? e->motion.windowID
                : e->type == SDL_MOUSEWHEEL  ? e->wheel.windowID
                : e->type == SDL_MOUSEBUTTONDOWN || e->type == SDL_MOUSEBUTTONUP
                    ? e->button.windowID
                : e->type == SDL_WINDOWEVENT ? e->window.windowID
                                             : 0;
    VizWindow *v = id ? find(id) : NULL;
    if (!v)
        return;
    if (e->type == SDL_WINDOWEVENT && e->window.event == SDL_WINDOWEVENT_CLOSE) {
        close_window(v);
    } else if (e->type == SDL_KEYDOWN) {
        key(v, e->key.keysym.sym);
    } else if (e->type == SDL_MOUSEWHEEL) {
        int x, y;
        SDL_GetMouseState(&x, &y);
        zoom_at(v, e->wheel.y > 0 ? 1.25 : 1 / 1.25, x, y);
    } else if (e->type == SDL_MOUSEBUTTONDOWN || e->type == SDL_MOUSEBUTTONUP) {
        v->dragging = e->type == SDL_MOUSEBUTTONDOWN && e->button.button == SDL_BUTTON_LEFT;
        if (e->type == SDL_MOUSEBUTTONDOWN)
            v->down_x = e->button.x, v->down_y = e->button.y;
        else if (abs(e->button.x - v->down_x) + abs(e->button.y - v->down_y) < 4)
            (v->grid ? pick : highlight)(v, e->button.x, e->button.y);
    } else if (e->type == SDL_MOUSEMOTION) {
        if (v->dragging)
            v->ox -= e->motion.xrel / v->zoom, v->oy -= e->motion.yrel / v->zoom;
        hover(v, e->motion.x, e->motion.y);
    }
}

void window_pump(void) {
    if (!windows)
        return;
    SDL_Event e;
    while (SDL_PollEvent(&e))
        handle(&e);
    for (VizWindow *v = windows; v; v = v->next)
        draw(v);
}

int window_open_browser(VizWindow **out, const float *w, int layers, int heads, int T,
                        const char *const *tokens, const HeatmapOptions *o) {
    if (layers < 1 || heads < 1 || T < 1)
        return at_error(AT_EINVAL, "window: %d layers, %d heads, %d tokens", layers, heads, T);
    int st = video_start();
    if (st)
        return st;
    VizWindow *v = calloc(1, sizeof *v);
    if (!v)
        return at_error(AT_ENOMEM, "window: out of memory");
    size_t n = (size_t)layers * heads * T * T;
    v->L.rows = v->L.cols = T;
    v->T = T, v->layers = layers, v->heads = heads, v->opts = *o;
    snprintf(v->title, sizeof v->title, "attnlab - attention (arrows: head, layer; a: average)");
    v->all = malloc(n * sizeof *v->all);
    v->w = malloc((size_t)T * T * sizeof *v->w);
    v->rl = copy_labels(tokens, T);
    v->cl = copy_labels(tokens, T);
    if (!v->all || !v->w || !v->rl || !v->cl)
        st = at_error(AT_ENOMEM, "window: out of memory for %zu weights", n);
    if (!st) {
        memcpy(v->all, w, n * sizeof *w);
        st = render_page(v);
    }
    return finish_open(out, v, st);
}

const char *window_page(const VizWindow *win) { return win->page; }
const VizImage *window_view(const VizWindow *win) { return win->view.px ? &win->view : &win->img; }

int window_count(void) {
    int n = 0;
    for (VizWindow *v = windows; v; v = v->next)
        n++;
    return n;
}

const char *window_hover_text(const VizWindow *win) { return win->hover; }
double window_zoom(const VizWindow *win) { return win->zoom; }
unsigned window_id(const VizWindow *win) { return SDL_GetWindowID(win->win); }
const char *window_last_saved(void) { return last_saved; }

void window_close_all(void) {
    while (windows)
        close_window(windows);
    if (video_up) {
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        SDL_Quit();
        video_up = 0;
    }
}
