/*
 * viz_png.c: time to render attention-like maps to PNG (make bench-viz).
 * Causal softmax rows of random scores, 64x64 and 1024x1024, rendered by
 * heatmap_render and written by viz_png_write; median of 5 runs each,
 * render and write reported apart. Files go to $TMPDIR (or /tmp) and are
 * removed. Then, where a window can open, the frame time of a window on a
 * 1024x1024 map.
 */
#include <config.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../src/core/error.h"
#include "../viz/heatmap.h"
#include "../viz/png.h"
#include "../viz/text.h"
#include "../viz/window.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void causal_softmax(float *w, int n) {
    for (int i = 0; i < n; i++) {
        float s = 0.0f;
        for (int j = 0; j < n; j++) {
            w[i * n + j] = j <= i ? expf(4.0f * (float)rand() / (float)RAND_MAX) : 0.0f;
            s += w[i * n + j];
        }
        for (int j = 0; j < n; j++)
            w[i * n + j] /= s;
    }
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench(int n, const char *path) {
    float *w = malloc((size_t)n * n * sizeof *w);
    if (!w)
        return 1;
    causal_softmax(w, n);
    HeatmapOptions o;
    heatmap_options_default(&o);
    o.title = "bench";
    double tr[5], tw[5];
    int w_px = 0, h_px = 0;
    for (int k = 0; k < 5; k++) {
        VizImage img;
        double t0 = now();
        if (heatmap_render(&img, NULL, w, n, n, NULL, NULL, &o)) {
            fprintf(stderr, "%s\n", at_errmsg());
            return 1;
        }
        double t1 = now();
        if (viz_png_write(path, &img)) {
            fprintf(stderr, "%s\n", at_errmsg());
            return 1;
        }
        tr[k] = t1 - t0, tw[k] = now() - t1;
        w_px = img.w, h_px = img.h;
        viz_image_free(&img);
    }
    qsort(tr, 5, sizeof tr[0], cmp);
    qsort(tw, 5, sizeof tw[0], cmp);
    printf("heatmap %4dx%-4d -> PNG %4dx%-4d  render %7.1f ms  write %7.1f ms  "
           "total %7.1f ms\n",
           n, n, w_px, h_px, tr[2] * 1e3, tw[2] * 1e3, (tr[2] + tw[2]) * 1e3);
    unlink(path);
    free(w);
    return 0;
}

/* Frame time of a window showing a 1024x1024 map: one window_pump (drain
   events, one RenderCopy of the streaming texture, present) per frame. */
static int bench_window(void) {
    int n = 1024;
    float *w = malloc((size_t)n * n * sizeof *w);
    if (!w)
        return 1;
    causal_softmax(w, n);
    HeatmapOptions o;
    heatmap_options_default(&o);
    VizImage img;
    HeatmapLayout L;
    VizWindow *win;
    if (heatmap_render(&img, &L, w, n, n, NULL, NULL, &o) ||
        window_open(&win, &img, &L, w, NULL, NULL, "bench")) {
        printf("window: %s (skipped)\n", at_errmsg());
        free(w);
        return 0;
    }
    double t0 = now();
    int frames = 200;
    for (int k = 0; k < frames; k++)
        window_pump();
    double dt = (now() - t0) / frames;
    printf("window  1024x1024 frame %.2f ms (%s video driver)\n", dt * 1e3,
           getenv("SDL_VIDEODRIVER") ? getenv("SDL_VIDEODRIVER") : "default");
    viz_image_free(&img);
    window_close_all();
    free(w);
    return 0;
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/attnlab-bench-viz.png", tmp ? tmp : "/tmp");
    srand(1);
    int st = bench(64, path) || bench(1024, path);
    // A window needs a display, or SDL_VIDEODRIVER (dummy: software).
    if (!st && (window_have_display() || getenv("SDL_VIDEODRIVER")))
        st = bench_window();
    text_shutdown();
    return st;
}
