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
    VizImage view;         // img with the picked query rows highlighted, when any are
    unsigned char *picked; // per row of L: picked by a click (shift+click adds); NULL: none
    int npicked, picked_rows;
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
    int maxh, rollout, diff; // pages: max over heads, rollout up to the layer, minus the pin
    float *pin;              // T x T map pinned with p (NULL before), subtracted by d
    char pin_page[128];
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
    free(v->pin);
    free(v->picked);
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
    v->img = img, v->npicked = 0;
    return AT_OK;
}

/* Attention rollout (Abnar & Zuidema 2020) of layers 1 .. v->layer + 1
   into v->w: per layer the heads' average A, A' = 0.5 A + 0.5 I for the
   residual path with rows renormalised, then R = A'_l ... A'_1. Doubles
   inside; O(layers T^3), done once per key press. */
static int rollout(VizWindow *v) {
    int T = v->T;
    size_t TT = (size_t)T * T;
    double *R = malloc(TT * sizeof *R), *A = malloc(TT * sizeof *A), *N = malloc(TT * sizeof *N);
    if (!R || !A || !N) {
        free(R), free(A), free(N);
        return at_error(AT_ENOMEM, "window: out of memory for a %dx%d rollout", T, T);
    }
    for (int l = 0; l <= v->layer; l++) {
        const float *lw = v->all + (size_t)l * v->heads * TT;
        for (int i = 0; i < T; i++) {
            double sum = 0.0;
            for (int j = 0; j < T; j++) {
                double a = 0.0;
                for (int h = 0; h < v->heads; h++)
                    a += (double)lw[h * TT + (size_t)i * T + j];
                A[(size_t)i * T + j] = 0.5 * a / v->heads + (i == j ? 0.5 : 0.0);
                sum += A[(size_t)i * T + j];
            }
            for (int j = 0; j < T; j++) // sum >= 0.5: the identity's share
                A[(size_t)i * T + j] /= sum;
        }
        double *dst = l == 0 ? R : N; // the first layer is the rollout so far
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) {
                double acc = 0.0;
                for (int k = 0; l > 0 && k < T; k++)
                    acc += A[(size_t)i * T + k] * R[(size_t)k * T + j];
                dst[(size_t)i * T + j] = l == 0 ? A[(size_t)i * T + j] : acc;
            }
        if (l > 0)
            memcpy(R, N, TT * sizeof *R);
    }
    for (size_t k = 0; k < TT; k++)
        v->w[k] = (float)R[k];
    free(R), free(A), free(N);
    return AT_OK;
}

/* The map of the page into v->w and its name into v->page: one head, the
   heads' average or max, or the rollout. */
static int page_map(VizWindow *v) {
    int T = v->T;
    size_t TT = (size_t)T * T;
    const float *layer = v->all + (size_t)v->layer * v->heads * TT;
    if (v->rollout) {
        snprintf(v->page, sizeof v->page, "rollout of layers 1-%d of %d", v->layer + 1, v->layers);
        return rollout(v);
    }
    if (v->average || v->maxh) {
        for (size_t k = 0; k < TT; k++) {
            double sum = 0.0, top = (double)layer[k];
            for (int h = 0; h < v->heads; h++) {
                double x = (double)layer[h * TT + k];
                sum += x;
                top = x > top ? x : top;
            }
            v->w[k] = (float)(v->maxh ? top : sum / v->heads);
        }
        snprintf(v->page, sizeof v->page, "layer %d of %d, %s of %d heads", v->layer + 1,
                 v->layers, v->maxh ? "max" : "average", v->heads);
    } else {
        memcpy(v->w, layer + (size_t)v->head * TT, TT * sizeof *v->w);
        snprintf(v->page, sizeof v->page, "layer %d of %d, head %d of %d", v->layer + 1, v->layers,
                 v->head + 1, v->heads);
    }
    return AT_OK;
}

/* Render the browser's current page (a map of page_map, less the pinned
   map with d) into v->img / v->L / v->w; the texture is updated by the
   caller. */
static int render_page(VizWindow *v) {
    int T = v->T;
    if (v->grid)
        return render_grid(v);
    int st = page_map(v);
    if (st)
        return st;
    HeatmapOptions o = v->opts;
    if (v->diff && v->pin) {
        size_t TT = (size_t)T * T, len = strlen(v->page);
        for (size_t k = 0; k < TT; k++)
            v->w[k] -= v->pin[k];
        snprintf(v->page + len, sizeof v->page - len, " minus %s", v->pin_page);
        o.cmap = colormap_find("diverging"); // symmetric about 0 from the data
        o.has_vmin = o.has_vmax = 0, o.log_scale = 0;
    }
    o.title = v->page;
    VizImage img;
    HeatmapLayout L;
    st = heatmap_render(&img, &L, v->w, T, T, (const char *const *)v->rl,
                        (const char *const *)v->cl, &o);
    if (st)
        return st;
    viz_image_free(&v->img);
    viz_image_free(&v->view);
    v->img = img, v->L = L, v->npicked = 0;
    return AT_OK;
}

/* p: pin the map shown (without any difference) for d to subtract. */
static void pin(VizWindow *v) {
    size_t TT = (size_t)v->T * v->T;
    if (v->grid)
        return;
    if (!v->pin && !(v->pin = malloc(TT * sizeof *v->pin))) {
        printf("window: out of memory to pin a map\n");
        fflush(stdout);
        return;
    }
    int diff = v->diff;
    v->diff = 0;
    if (page_map(v) == AT_OK) {
        memcpy(v->pin, v->w, TT * sizeof *v->pin);
        snprintf(v->pin_page, sizeof v->pin_page, "%s", v->page);
        printf("pinned %s (d shows the difference)\n", v->pin_page);
        fflush(stdout);
    }
    v->diff = diff;
}

/* Arrow keys, a, m, r, g, p, d: another page of the browser. */
static void browse(VizWindow *v, SDL_Keycode k) {
    if (k == SDLK_RIGHT || k == SDLK_LEFT) {
        v->head = (v->head + (k == SDLK_RIGHT ? 1 : v->heads - 1)) % v->heads;
        v->average = v->maxh = v->rollout = v->grid = 0;
    } else if (k == SDLK_UP || k == SDLK_DOWN) {
        v->layer = (v->layer + (k == SDLK_UP ? 1 : v->layers - 1)) % v->layers;
        v->grid = 0;
    } else if (k == SDLK_a || k == SDLK_m || k == SDLK_r) {
        int *mode = k == SDLK_a ? &v->average : k == SDLK_m ? &v->maxh : &v->rollout;
        int on = !*mode;
        v->average = v->maxh = v->rollout = v->grid = 0;
        *mode = on;
    } else if (k == SDLK_g) {
        v->grid = !v->grid;
    } else if (k == SDLK_p) {
        pin(v);
    } else if (k == SDLK_d) {
        if (!v->pin) {
            printf("d shows the difference to a pinned map: pin one with p first\n");
            fflush(stdout);
            return;
        }
        v->diff = !v->diff;
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

/* Row i picked by a click: alone, or (add, a shift+click) toggled
   beside the rows picked before; a click on the only picked row clears. */
static void pick_row(VizWindow *v, int i, int add) {
    int rows = v->L.rows;
    if (v->picked_rows != rows) {
        free(v->picked);
        v->picked = calloc((size_t)rows, 1);
        v->picked_rows = v->picked ? rows : 0, v->npicked = 0;
        if (!v->picked)
            return;
    }
    if (i < 0 || (!add && v->npicked == 1 && v->picked[i])) {
        memset(v->picked, 0, (size_t)rows);
        v->npicked = 0;
    } else if (add) {
        v->picked[i] = !v->picked[i];
        v->npicked += v->picked[i] ? 1 : -1;
    } else {
        memset(v->picked, 0, (size_t)rows);
        v->picked[i] = 1, v->npicked = 1;
    }
}

/* Picked query rows stand out: the other rows fade towards white and a
   dark frame goes round each picked row, so one sees where they look. */
static void highlight(VizWindow *v, int x, int y, int add) {
    const HeatmapLayout *L = &v->L;
    double px = v->ox + x / v->zoom, py = v->oy + y / v->zoom;
    int i = (int)((py - L->map_y) / L->cell);
    int inside =
        px >= L->map_x && py >= L->map_y && i < L->rows && px < L->map_x + L->cols * L->cell;
    pick_row(v, inside ? i : -1, add);
    viz_image_free(&v->view);
    if (v->npicked > 0 &&
        viz_image_init(&v->view, v->img.w, v->img.h, (VizRGB){255, 255, 255}) == AT_OK) {
        memcpy(v->view.px, v->img.px, (size_t)v->img.w * v->img.h * 4);
        int x0 = L->map_x, w = L->cols * L->cell;
        for (int r = 0; r < L->rows; r++) // fade first, then frame: frames overlap neighbours
            for (int yy = 0; !v->picked[r] && yy < L->cell; yy++)
                for (int xx = 0; xx < w; xx++)
                    viz_blend(&v->view, x0 + xx, L->map_y + r * L->cell + yy,
                              (VizRGB){255, 255, 255}, 170);
        VizRGB ink = {20, 20, 20};
        for (int r = 0; r < L->rows; r++) {
            int y0 = L->map_y + r * L->cell;
            if (!v->picked[r])
                continue;
            viz_fill_rect(&v->view, x0 - 2, y0 - 2, w + 4, 2, ink);
            viz_fill_rect(&v->view, x0 - 2, y0 + L->cell, w + 4, 2, ink);
            viz_fill_rect(&v->view, x0 - 2, y0, 2, L->cell, ink);
            viz_fill_rect(&v->view, x0 + w, y0, 2, L->cell, ink);
        }
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
    v->layer = l, v->head = h, v->grid = 0, v->average = v->maxh = v->rollout = 0;
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
        {
            if (v->grid)
                pick(v, e->button.x, e->button.y);
            else
                highlight(v, e->button.x, e->button.y, (SDL_GetModState() & KMOD_SHIFT) != 0);
        }
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
    snprintf(v->title, sizeof v->title,
             "attnlab - attention (arrows: head, layer; a: average, m: max, r: rollout; "
             "p: pin, d: difference)");
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

int window_picked(const VizWindow *win, int *rows, int max) {
    int n = 0;
    for (int r = 0; win->picked && r < win->picked_rows; r++)
        if (win->picked[r] && n < max)
            rows[n++] = r;
    return n;
}

const float *window_map(const VizWindow *win) { return win->w; }
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
