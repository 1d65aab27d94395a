/*
 * test_window.c: the window sink under SDL's dummy video driver (set by
 * make check): open, hover, zoom, save, close through synthetic events.
 */
#include <config.h>

#include <SDL.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/error.h"
#include "../../viz/png.h"
#include "../../viz/text.h"
#include "../../viz/window.h"
#include "tap.h"

static void push_key(unsigned id, SDL_Keycode k) {
    SDL_Event e = {0};
    e.type = SDL_KEYDOWN;
    e.key.windowID = id;
    e.key.keysym.sym = k;
    SDL_PushEvent(&e);
}

static void push_motion(unsigned id, int x, int y) {
    SDL_Event e = {0};
    e.type = SDL_MOUSEMOTION;
    e.motion.windowID = id;
    e.motion.x = x, e.motion.y = y;
    SDL_PushEvent(&e);
}

int main(void) {
    const char *dir = getenv("ATTNLAB_TESTDIR");
    if (!getenv("SDL_VIDEODRIVER") || (dir && chdir(dir) != 0)) {
        plan(1);
        skip("needs SDL_VIDEODRIVER (dummy) and ATTNLAB_TESTDIR");
        return 0;
    }
    const char *tok[3] = {"今天", "天气", "怎么样"};
    const float w[9] = {0.7f, 0.2f, 0.1f, 0.1f, 0.6f, 0.3f, 0.2f, 0.25f, 0.55f};
    HeatmapOptions o;
    heatmap_options_default(&o);
    VizImage img;
    HeatmapLayout L;
    VizWindow *win = NULL;
    if (!ok(heatmap_render(&img, &L, w, 3, 3, tok, tok, &o) == AT_OK, "render"))
        return tap_done();
    int st = window_open(&win, &img, &L, w, tok, tok, "test");
    if (!ok(st == AT_OK, "a window opens (%s)", st ? at_errmsg() : "dummy driver"))
        return tap_done();
    ok(window_count() == 1, "one window open");
    unsigned id = window_id(win);
    double z = window_zoom(win);

    // Hover over cell (2, 3): window pixel = picture pixel * zoom.
    int px = L.map_x + 2 * L.cell + L.cell / 2, py = L.map_y + L.cell + L.cell / 2;
    push_motion(id, (int)(px * z), (int)(py * z));
    window_pump();
    ok(strcmp(window_hover_text(win), "query 2 天气, key 3 怎么样: 0.3") == 0,
       "hover names query, key and weight (%s)", window_hover_text(win));
    push_motion(id, 1, 1);
    window_pump();
    ok(window_hover_text(win)[0] == 0, "hover outside the map shows nothing");

    push_key(id, SDLK_PLUS);
    window_pump();
    near(window_zoom(win), z * 1.25, 1e-9, "+ zooms in by 1.25");
    push_key(id, SDLK_MINUS);
    push_key(id, SDLK_MINUS);
    window_pump();
    near(window_zoom(win), z / 1.25, 1e-9, "- zooms out");

    // A click on row 2 highlights it: other rows fade, row 2 keeps its colours.
    push_key(id, SDLK_0); // zoom 1, no offset: window pixels are picture pixels
    window_pump();
    int rx = L.map_x + L.cell + 4, ry2 = L.map_y + L.cell + 4, ry1 = L.map_y + 4;
    SDL_Event c = {0};
    c.type = SDL_MOUSEBUTTONDOWN;
    c.button.windowID = id, c.button.button = SDL_BUTTON_LEFT, c.button.x = rx, c.button.y = ry2;
    SDL_PushEvent(&c);
    c.type = SDL_MOUSEBUTTONUP;
    SDL_PushEvent(&c);
    window_pump();
    const VizImage *view = window_view(win);
    VizRGB was1 = viz_pixel(&img, rx, ry1), now1 = viz_pixel(view, rx, ry1);
    VizRGB was2 = viz_pixel(&img, rx, ry2), now2 = viz_pixel(view, rx, ry2);
    ok(view != &img && now1.r + now1.g + now1.b > was1.r + was1.g + was1.b + 150,
       "a click on a row fades the other rows");
    ok(now2.r == was2.r && now2.g == was2.g && now2.b == was2.b,
       "the clicked row keeps its colours");
    c.type = SDL_MOUSEBUTTONDOWN;
    SDL_PushEvent(&c);
    c.type = SDL_MOUSEBUTTONUP;
    SDL_PushEvent(&c);
    window_pump();
    view = window_view(win);
    now1 = viz_pixel(view, rx, ry1);
    ok(now1.r == was1.r && now1.g == was1.g, "a second click clears the highlight");

    push_key(id, SDLK_s);
    window_pump();
    const char *saved = window_last_saved();
    VizImage back = {0};
    ok(saved[0] && viz_png_read(saved, &back) == AT_OK, "s saves a PNG (%s)", saved);
    if (saved[0] && back.px) {
        ok(back.w == img.w && back.h == img.h &&
               memcmp(back.px, img.px, (size_t)img.w * img.h * 4) == 0,
           "the saved PNG is the picture");
        viz_image_free(&back);
        unlink(saved);
    }

    push_key(id, SDLK_q);
    window_pump();
    ok(window_count() == 0, "q closes the window");

    VizWindow *w2;
    window_open(&w2, &img, &L, w, NULL, NULL, NULL);
    SDL_Event e = {0};
    e.type = SDL_WINDOWEVENT;
    e.window.event = SDL_WINDOWEVENT_CLOSE;
    e.window.windowID = window_id(w2);
    SDL_PushEvent(&e);
    window_pump();
    ok(window_count() == 0, "the window manager's close closes it");

    window_open(&w2, &img, &L, w, NULL, NULL, NULL);
    push_key(window_id(w2), SDLK_ESCAPE);
    window_pump();
    ok(window_count() == 0, "Esc closes it");

    // The browser: 2 layers x 3 heads of 2x2 maps, value = layer*10 + head.
    float rec[2 * 3 * 4];
    for (int k = 0; k < 24; k++)
        rec[k] = (float)(k / 12 * 10 + k / 4 % 3) + 0.25f * (float)(k % 4);
    const char *two[2] = {"x", "y"};
    if (ok(window_open_browser(&w2, rec, 2, 3, 2, two, &o) == AT_OK, "a browser opens")) {
        unsigned b = window_id(w2);
        ok(strcmp(window_page(w2), "layer 1 of 2, head 1 of 3") == 0, "it starts at %s",
           window_page(w2));
        push_key(b, SDLK_RIGHT);
        push_key(b, SDLK_RIGHT);
        push_key(b, SDLK_UP);
        window_pump();
        ok(strcmp(window_page(w2), "layer 2 of 2, head 3 of 3") == 0, "right, right, up: %s",
           window_page(w2));
        push_key(b, SDLK_RIGHT);
        window_pump();
        ok(strcmp(window_page(w2), "layer 2 of 2, head 1 of 3") == 0, "heads wrap around");
        push_key(b, SDLK_a);
        window_pump();
        ok(strcmp(window_page(w2), "layer 2 of 2, average of 3 heads") == 0, "a: %s",
           window_page(w2));
        // Hover cell (2, 1) of the average: layer 2 = 10 + mean(0,1,2) + 0.25*2.
        double zz = window_zoom(w2);
        push_motion(b, 1, 1);
        window_pump();
        HeatmapLayout L2;
        VizImage tmp;
        float avg[4] = {11.0f, 11.25f, 11.5f, 11.75f};
        HeatmapOptions o2 = o; // the page's layout: its title is the page
        o2.title = window_page(w2);
        heatmap_render(&tmp, &L2, avg, 2, 2, two, two, &o2);
        viz_image_free(&tmp);
        push_motion(b, (int)((L2.map_x + L2.cell / 2) * zz),
                    (int)((L2.map_y + L2.cell * 3 / 2) * zz));
        window_pump();
        ok(strcmp(window_hover_text(w2), "query 2 y, key 1 x: 11.5") == 0,
           "hover on the average shows the mean over heads (%s)", window_hover_text(w2));
        push_key(b, SDLK_g);
        window_pump();
        ok(strcmp(window_page(w2), "grid of 2 layers x 3 heads") == 0, "g: %s", window_page(w2));
        // A click on thumbnail (layer 2, head 3) opens it.
        HeatmapGridLayout G;
        HeatmapOptions og = o;
        og.title = "every layer and head (click one to open it)";
        if (heatmap_grid_render(&tmp, &G, rec, 2, 3, 2, &og) == AT_OK)
            viz_image_free(&tmp);
        int cx = (int)((G.x0 + 2 * G.step + G.thumb / 2) * zz);
        int cy = (int)((G.y0 + 1 * G.step + G.thumb / 2) * zz);
        SDL_Event g = {0};
        g.type = SDL_MOUSEBUTTONDOWN;
        g.button.windowID = b, g.button.button = SDL_BUTTON_LEFT, g.button.x = cx, g.button.y = cy;
        SDL_PushEvent(&g);
        g.type = SDL_MOUSEBUTTONUP;
        SDL_PushEvent(&g);
        window_pump();
        ok(strcmp(window_page(w2), "layer 2 of 2, head 3 of 3") == 0, "a click on a thumbnail: %s",
           window_page(w2));
        push_key(b, SDLK_q);
        window_pump();
        ok(window_count() == 0, "q closes the browser");
    }

    viz_image_free(&img);
    window_close_all();
    text_shutdown();
    printf("1..%d\n", tap_count);
    return tap_done();
}
