/*
 * test_window_look.c: the browser keys that attn.look relies on, under
 * SDL's dummy video driver: m (max over heads), r (rollout, checked
 * against the hand computation of tests/lua/look.lua), p and d (the
 * difference to a pinned map), and shift+click picking several query rows.
 */
#include <config.h>

#include <SDL.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/error.h"
#include "../../viz/text.h"
#include "../../viz/window.h"
#include "tap.h"

static void push_key(unsigned id, SDL_Keycode k) {
    SDL_Event e = {0};
    e.type = SDL_KEYDOWN;
    e.key.windowID = id;
    e.key.keysym.sym = k;
    SDL_PushEvent(&e);
    window_pump();
}

static void click(unsigned id, int x, int y) {
    SDL_Event e = {0};
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.windowID = id, e.button.button = SDL_BUTTON_LEFT, e.button.x = x, e.button.y = y;
    SDL_PushEvent(&e);
    e.type = SDL_MOUSEBUTTONUP;
    SDL_PushEvent(&e);
    window_pump();
}

/* The map shown equals want (2 x 2) within 1e-6. */
static int map_is(const VizWindow *w, const float want[4]) {
    const float *m = window_map(w);
    for (int k = 0; k < 4; k++)
        if (!m || fabsf(m[k] - want[k]) > 1e-6f)
            return 0;
    return 1;
}

static int page_is(const VizWindow *w, const char *want) {
    return ok(strcmp(window_page(w), want) == 0, "page \"%s\" (got \"%s\")", want, window_page(w));
}

int main(void) {
    const char *dir = getenv("ATTNLAB_TESTDIR");
    if (!getenv("SDL_VIDEODRIVER") || (dir && chdir(dir) != 0)) {
        plan(1);
        skip("needs SDL_VIDEODRIVER (dummy) and ATTNLAB_TESTDIR");
        return 0;
    }
    // 2 layers x 2 heads of 2 x 2 maps (layer, head, query, key).
    const float rec[16] = {1, 0, 0.2f, 0.8f, 1, 0, 0.6f, 0.4f,  // layer 1
                           1, 0, 0, 1,       1, 0, 1, 0};       // layer 2
    const char *tok[2] = {"x", "y"};
    HeatmapOptions o;
    heatmap_options_default(&o);
    VizWindow *w = NULL;
    int st = window_open_browser(&w, rec, 2, 2, 2, tok, &o);
    if (!ok(st == AT_OK, "a browser opens (%s)", st ? at_errmsg() : "dummy driver")) {
        printf("1..%d\n", tap_count);
        return tap_done();
    }
    unsigned id = window_id(w);

    push_key(id, SDLK_d);
    page_is(w, "layer 1 of 2, head 1 of 2"); // d with nothing pinned changes nothing
    push_key(id, SDLK_m);
    page_is(w, "layer 1 of 2, max of 2 heads");
    ok(map_is(w, (const float[4]){1, 0, 0.6f, 0.8f}), "m: the largest weight over heads");
    push_key(id, SDLK_a);
    page_is(w, "layer 1 of 2, average of 2 heads");
    ok(map_is(w, (const float[4]){1, 0, 0.4f, 0.6f}), "a: the average of heads");

    // Rollout by hand: A1' = 0.5 mean + 0.5 I = [[1,0],[.2,.8]];
    // A2' = [[1,0],[.25,.75]]; R = A2' A1' = [[1,0],[.4,.6]].
    push_key(id, SDLK_r);
    page_is(w, "rollout of layers 1-1 of 2");
    ok(map_is(w, (const float[4]){1, 0, 0.2f, 0.8f}), "r on layer 1: A1'");
    push_key(id, SDLK_UP);
    page_is(w, "rollout of layers 1-2 of 2");
    ok(map_is(w, (const float[4]){1, 0, 0.4f, 0.6f}), "r on layer 2: A2' A1'");

    // Pin the two-layer rollout, go down, and subtract it.
    push_key(id, SDLK_p);
    push_key(id, SDLK_DOWN);
    push_key(id, SDLK_d);
    page_is(w, "rollout of layers 1-1 of 2 minus rollout of layers 1-2 of 2");
    ok(map_is(w, (const float[4]){0, 0, -0.2f, 0.2f}), "d: this map minus the pinned one");
    push_key(id, SDLK_RIGHT);
    page_is(w, "layer 1 of 2, head 2 of 2 minus rollout of layers 1-2 of 2");
    push_key(id, SDLK_d);
    page_is(w, "layer 1 of 2, head 2 of 2");

    // Query rows: zoom 1 at the origin, so window pixels are picture pixels.
    push_key(id, SDLK_0);
    HeatmapOptions o2 = o;
    o2.title = window_page(w);
    VizImage img;
    HeatmapLayout L;
    int rows[4], n;
    if (heatmap_render(&img, &L, window_map(w), 2, 2, tok, tok, &o2) == AT_OK)
        viz_image_free(&img);
    int x = L.map_x + L.cell / 2, y1 = L.map_y + L.cell / 2, y2 = y1 + L.cell;
    click(id, x, y1);
    n = window_picked(w, rows, 4);
    ok(n == 1 && rows[0] == 0, "a click picks query 1");
    SDL_SetModState(KMOD_LSHIFT);
    click(id, x, y2);
    n = window_picked(w, rows, 4);
    ok(n == 2 && rows[0] == 0 && rows[1] == 1, "shift+click adds query 2 (%d picked)", n);
    click(id, x, y1);
    n = window_picked(w, rows, 4);
    ok(n == 1 && rows[0] == 1, "shift+click on a picked row drops it");
    SDL_SetModState(KMOD_NONE);
    click(id, x, y1);
    click(id, x, y1);
    ok(window_picked(w, rows, 4) == 0, "a plain click on the only picked row clears");

    push_key(id, SDLK_q);
    ok(window_count() == 0, "q closes the browser");
    window_close_all();
    text_shutdown();
    printf("1..%d\n", tap_count);
    return tap_done();
}
