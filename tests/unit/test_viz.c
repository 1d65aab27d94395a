/*
 * test_viz.c: the viz renderer without Lua: colormaps against published
 * values, cell colours at cell centres, colour bar ends, CJK glyphs (not
 * the missing-glyph box), label shortening, PNG round trip, a golden image
 * with a stated tolerance (see test_golden), and terminal output byte for
 * byte.
 *
 * Expected colours come from the published tables (matplotlib's viridis in
 * hex, ColorBrewer's RdBu), written here independently of colormap.c.
 * Golden images: tests/golden/heatmap_*.png; ATTNLAB_UPDATE_GOLDEN=1 rewrites
 * them (then look at them before committing).
 */
#include <config.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/core/error.h"
#include "../../viz/colormap.h"
#include "../../viz/heatmap.h"
#include "../../viz/png.h"
#include "../../viz/term.h"
#include "../../viz/text.h"
#include "tap.h"

static VizRGB hex(unsigned x) { return (VizRGB){x >> 16, (x >> 8) & 255, x & 255}; }

static int same(VizRGB a, VizRGB b, int tol) {
    return abs(a.r - b.r) <= tol && abs(a.g - b.g) <= tol && abs(a.b - b.b) <= tol;
}

static int rgb_ok(VizRGB got, VizRGB want, int tol, const char *name) {
    int good = same(got, want, tol);
    ok(good, "%s", name);
    if (!good)
        printf("#   got #%02x%02x%02x, expected #%02x%02x%02x\n", got.r, got.g, got.b, want.r,
               want.g, want.b);
    return good;
}

static void test_colormaps(void) {
    const Colormap *v = colormap_find("viridis");
    ok(v && v == colormap_default(), "viridis exists and is the default");
    // Published viridis quartiles (entries 0, 64, 128, 192, 255).
    rgb_ok(colormap_at(v, 0.0f), hex(0x440154), 0, "viridis(0) = #440154");
    rgb_ok(colormap_at(v, 64 / 255.0f), hex(0x3b528b), 1, "viridis(64/255) = #3b528b");
    rgb_ok(colormap_at(v, 128 / 255.0f), hex(0x21918c), 1, "viridis(128/255) = #21918c");
    rgb_ok(colormap_at(v, 192 / 255.0f), hex(0x5ec962), 1, "viridis(192/255) = #5ec962");
    rgb_ok(colormap_at(v, 1.0f), hex(0xfde725), 0, "viridis(1) = #fde725");
    rgb_ok(colormap_at(v, 7.0f), hex(0xfde725), 0, "viridis clamps above 1");
    rgb_ok(colormap_at(v, NAN), hex(0x440154), 0, "viridis(NaN) is the low end");
    const Colormap *m = colormap_find("magma");
    rgb_ok(colormap_at(m, 0.0f), hex(0x000004), 0, "magma(0) = #000004");
    rgb_ok(colormap_at(m, 1.0f), hex(0xfcfdbf), 0, "magma(1) = #fcfdbf");
    const Colormap *g = colormap_find("gray");
    rgb_ok(colormap_at(g, 0.2f), hex(0x333333), 0, "gray(0.2) = #333333");
    ok(colormap_find("grey") == g, "grey is gray");
    const Colormap *d = colormap_find("diverging");
    ok(d && colormap_is_diverging(d) && !colormap_is_diverging(v), "diverging is diverging");
    rgb_ok(colormap_at(d, 0.0f), hex(0x053061), 0, "diverging(0) = RdBu blue #053061");
    rgb_ok(colormap_at(d, 0.5f), hex(0xf7f7f7), 0, "diverging(0.5) = #f7f7f7");
    rgb_ok(colormap_at(d, 1.0f), hex(0x67001f), 0, "diverging(1) = RdBu red #67001f");
    ok(colormap_find("jet") == NULL && colormap_find(NULL) == NULL, "unknown names are NULL");
}

/* Weights given as viridis table indices land as those colours. */
static void test_cell_colours(void) {
    const float w[6] = {0, 64, 128, 192, 255, NAN};
    const unsigned want[6] = {0x440154, 0x3b528b, 0x21918c, 0x5ec962, 0xfde725, 0};
    const char *rows[2] = {"q1", "q2"}, *cols[3] = {"k1", "k2", "k3"};
    HeatmapOptions o;
    heatmap_options_default(&o);
    o.vmin = 0, o.vmax = 255, o.has_vmin = o.has_vmax = 1, o.annotate = 0;
    VizImage img;
    HeatmapLayout L;
    if (!ok(heatmap_render(&img, &L, w, 2, 3, rows, cols, &o) == AT_OK, "render 2x3")) {
        printf("# %s\n", at_errmsg());
        return;
    }
    for (int k = 0; k < 5; k++) {
        int i = k / 3, j = k % 3;
        VizRGB got =
            viz_pixel(&img, L.map_x + j * L.cell + L.cell / 2, L.map_y + i * L.cell + L.cell / 2);
        char name[64];
        snprintf(name, sizeof name, "cell (%d,%d) = %g is #%06x", i + 1, j + 1, (double)w[k],
                 want[k]);
        rgb_ok(got, hex(want[k]), 1, name);
    }
    VizRGB nanc = viz_pixel(&img, L.map_x + 2 * L.cell + L.cell / 2, L.map_y + L.cell * 3 / 2);
    ok(nanc.r == nanc.g && nanc.g == nanc.b && nanc.r > 150 && nanc.r < 250,
       "a NaN cell is light grey");
    viz_image_free(&img);
}

static void test_colorbar(void) {
    const float w[4] = {-1.0f, 0.5f, 2.0f, 0.25f};
    HeatmapOptions o;
    heatmap_options_default(&o);
    o.cmap = colormap_find("gray");
    o.vmin = -2.0f, o.vmax = 3.0f, o.has_vmin = o.has_vmax = 1;
    VizImage img;
    HeatmapLayout L;
    if (!ok(heatmap_render(&img, &L, w, 2, 2, NULL, NULL, &o) == AT_OK, "render with a bar"))
        return;
    ok(L.vmin == -2.0f && L.vmax == 3.0f, "layout range is vmin..vmax");
    ok(L.nticks >= 2 && L.ticks[0] == -2.0f && L.ticks[L.nticks - 1] == 3.0f,
       "bar scale ends are vmin and vmax (%d ticks)", L.nticks);
    int ascending = 1;
    for (int i = 1; i < L.nticks; i++)
        ascending &= L.ticks[i] > L.ticks[i - 1];
    ok(ascending, "bar ticks ascend");
    int cx = L.bar_x + L.bar_w / 2;
    rgb_ok(viz_pixel(&img, cx, L.bar_y), hex(0xffffff), 0, "bar top is the colour of vmax");
    rgb_ok(viz_pixel(&img, cx, L.bar_y + L.bar_h - 1), hex(0x000000), 0,
           "bar bottom is the colour of vmin");
    // Cell (1,1) = -1 on gray from -2 to 3: (1/5)*255 = 51.
    rgb_ok(viz_pixel(&img, L.map_x + L.cell / 2, L.map_y + L.cell / 2), hex(0x333333), 1,
           "cell -1 on [-2,3] is 20% grey");
    viz_image_free(&img);

    float lo, hi;
    heatmap_options_default(&o);
    o.cmap = colormap_find("diverging");
    int st = heatmap_range(&lo, &hi, w, 4, &o);
    ok(st == AT_OK && lo == -2.0f && hi == 2.0f, "diverging range is symmetric about 0 (%g..%g)",
       (double)lo, (double)hi);
    heatmap_options_default(&o);
    st = heatmap_range(&lo, &hi, w + 1, 3, &o);
    ok(st == AT_OK && lo == 0.0f && hi == 2.0f, "non-negative data starts at 0 (%g..%g)",
       (double)lo, (double)hi);
    heatmap_options_default(&o);
    o.log_scale = 1;
    const float p[3] = {0.001f, 0.1f, 0.9f};
    ok(heatmap_range(&lo, &hi, p, 3, &o) == AT_OK && lo == 0.001f && hi == 0.9f,
       "log range from the smallest positive value");
    near(heatmap_norm(0.03f, 0.001f, 0.9f, 1), log10(30.0) / log10(900.0), 1e-5,
         "log scale positions by log10");
    o.vmin = 0.0f, o.has_vmin = 1;
    st = heatmap_range(&lo, &hi, p, 3, &o);
    ok(st == AT_EINVAL && strstr(at_errmsg(), "vmin > 0"), "log scale with vmin 0 is an error: %s",
       at_errmsg());
    heatmap_options_default(&o);
    o.vmin = 1, o.vmax = 1, o.has_vmin = o.has_vmax = 1;
    st = heatmap_range(&lo, &hi, p, 3, &o);
    ok(st == AT_EINVAL && strstr(at_errmsg(), "less than"), "vmin = vmax is an error: %s",
       at_errmsg());
}

/* Pixels where two renderings differ, and the ink of the first. */
static int text_image(VizImage *img, VizFont *f, const char *s) {
    if (viz_image_init(img, 4 * text_height(f), text_height(f) + 4, hex(0xffffff)))
        return -1;
    return text_draw(img, f, s, 2, 2, hex(0x000000), 0);
}

static int ink(const VizImage *a) {
    int n = 0;
    for (int i = 0; i < a->w * a->h; i++)
        n += a->px[4 * i] < 128;
    return n;
}

static int differ(const VizImage *a, const VizImage *b) {
    int n = 0;
    for (int i = 0; i < a->w * a->h * 4; i++)
        n += abs(a->px[i] - b->px[i]) > 64;
    return n;
}

static void test_cjk(void) {
    VizFont *f = text_font(32);
    if (!ok(f != NULL, "a font opens (%s)", f ? text_font_path(NULL) : at_errmsg()))
        return;
    printf("# font: %s\n", text_font_path(NULL));
    // U+10FFFD (plane 16 private use) is in no font: it draws .notdef.
    VizImage box, glyph;
    text_image(&box, f, "\xF4\x8F\xBF\xBD");
    const char *chars[] = {"今", "天", "气", "怎", "么", "样", "不", "太", "好"};
    int all = 1, inked = 1;
    for (size_t k = 0; k < sizeof chars / sizeof chars[0]; k++) {
        if (text_image(&glyph, f, chars[k]))
            all = 0;
        else {
            int d = differ(&glyph, &box), n = ink(&glyph);
            all &= d > n / 4; // far from the box
            inked &= n > 20;  // and a real glyph, not blank
            if (d <= n / 4 || n <= 20)
                printf("#   %s: %d ink pixels, %d differ from .notdef\n", chars[k], n, d);
        }
        viz_image_free(&glyph);
    }
    ok(inked, "今天天气怎么样不太好: every character draws ink");
    ok(all, "今天天气怎么样不太好: no character draws the missing-glyph box");
    viz_image_free(&box);
    // Two different characters draw differently (not one shared box).
    VizImage a, b;
    text_image(&a, f, "今");
    text_image(&b, f, "好");
    ok(differ(&a, &b) > 40, "今 and 好 differ");
    viz_image_free(&a);
    viz_image_free(&b);
}

static void test_fit(void) {
    VizFont *f = text_font(15);
    char out[256];
    const char *longer = "internationalisation";
    int full = text_width(f, longer);
    ok(text_fit(out, sizeof out, f, longer, full) == AT_OK && strcmp(out, longer) == 0,
       "a label that fits is kept");
    ok(text_fit(out, sizeof out, f, longer, full / 2) == AT_OK &&
           strcmp(out + strlen(out) - 3, "\xE2\x80\xA6") == 0 && text_width(f, out) <= full / 2,
       "a long label ends in an ellipsis and fits (%s)", out);
    ok(text_fit(out, sizeof out, f, "今天天气怎么样", text_width(f, "今天天气")) == AT_OK &&
           strncmp(out, "今天", 6) == 0 && strstr(out, "\xE2\x80\xA6"),
       "Chinese is cut at whole characters (%s)", out);
}

static void test_png(void) {
    const char *dir = getenv("ATTNLAB_TESTDIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/viz_roundtrip.png", dir ? dir : ".");
    VizImage img, back;
    viz_image_init(&img, 37, 21, hex(0x102030));
    viz_fill_rect(&img, 5, 5, 10, 10, hex(0xfde725));
    ok(viz_png_write(path, &img) == AT_OK, "png written: %s", path);
    struct stat sb;
    ok(stat(path, &sb) == 0 && (sb.st_mode & 0044), "the png is readable by others (umask)");
    if (ok(viz_png_read(path, &back) == AT_OK, "png read back")) {
        ok(back.w == 37 && back.h == 21 && memcmp(back.px, img.px, 37 * 21 * 4) == 0,
           "png round trip is exact");
        viz_image_free(&back);
    }
    unlink(path);
    int st = viz_png_write("/nonexistent-dir/x.png", &img);
    ok(st == AT_EIO && strstr(at_errmsg(), "/nonexistent-dir/x.png"),
       "a bad folder is an error naming the path: %s", at_errmsg());
    viz_image_free(&img);
}

/* Compare a rendering with tests/golden/<name>. Tolerance: same size; at
   most 1% of channel values may differ by more than 48 (anti-aliased glyph
   edges move with FreeType versions) and the mean absolute difference stays
   under 0.5; the cells carry the data, so near each cell's corners (clear of
   the centred numbers) colours match within 2. */
static void compare_golden(const char *name, const VizImage *img, const HeatmapLayout *L) {
    char path[1024];
    VizImage gold;
    snprintf(path, sizeof path, "%s/tests/golden/%s", getenv("ATTNLAB_PATH"), name);
    if (getenv("ATTNLAB_UPDATE_GOLDEN"))
        viz_png_write(path, img);
    if (!ok(viz_png_read(path, &gold) == AT_OK, "golden %s: read", name)) {
        ok(0, "golden %s: pixels (no golden image)", name);
        ok(0, "golden %s: cells (no golden image)", name);
        return;
    }
    if (!ok(gold.w == img->w && gold.h == img->h, "golden %s: size %dx%d (rendered %dx%d)", name,
            gold.w, gold.h, img->w, img->h)) {
        ok(0, "golden %s: pixels (size differs)", name);
        ok(0, "golden %s: cells (size differs)", name);
        viz_image_free(&gold);
        return;
    }
    long bad = 0, n = (long)img->w * img->h;
    double sum = 0;
    for (long i = 0; i < n * 4; i++) {
        int d = abs(img->px[i] - gold.px[i]);
        sum += d;
        bad += d > 48;
    }
    ok(bad <= n / 100 && sum / (double)(n * 4) < 0.5,
       "golden %s: %ld channel values differ by > 48, mean difference %.3f", name, bad,
       sum / (double)(n * 4));
    int corners = 1, inset = L->cell > 12 ? 4 : 0;
    for (int i = 0; i < L->rows * L->cols; i++)
        for (int k = 0; k < 4; k++) {
            int x = L->map_x + (i % L->cols) * L->cell + (k & 1 ? L->cell - 3 - inset : inset);
            int y = L->map_y + (i / L->cols) * L->cell + (k & 2 ? L->cell - 3 - inset : inset);
            corners &= same(viz_pixel(img, x, y), viz_pixel(&gold, x, y), 2);
        }
    ok(corners, "golden %s: every cell's colour matches within 2", name);
    viz_image_free(&gold);
}

/* Golden images: a small attention map with Chinese labels, title, axis
   names, annotations and bar; and a 12x12 difference map (diverging, no
   numbers) whose long English column labels are turned and shortened. */
static void test_golden(void) {
    if (getenv("ATTNLAB_FONT") || !getenv("ATTNLAB_PATH")) {
        skip("golden image: needs ATTNLAB_PATH and the default font");
        return;
    }
    const char *tok[4] = {"今天", "天气", "怎么样", "不太好"};
    const float w[16] = {0.62f, 0.21f, 0.12f, 0.05f, 0.10f, 0.55f, 0.25f, 0.10f,
                         0.05f, 0.30f, 0.45f, 0.20f, 0.02f, 0.08f, 0.15f, 0.75f};
    HeatmapOptions o;
    heatmap_options_default(&o);
    o.title = "注意力 attention (layer 1, head 1)";
    o.xlabel = "key", o.ylabel = "query";
    VizImage img;
    HeatmapLayout L;
    if (ok(heatmap_render(&img, &L, w, 4, 4, tok, tok, &o) == AT_OK, "golden: render zh")) {
        compare_golden("heatmap_zh.png", &img, &L);
        viz_image_free(&img);
    }
    const char *en[12] = {"The",
                          "quick",
                          "brown",
                          "fox",
                          "jumps",
                          "over",
                          "the",
                          "lazy",
                          "dog",
                          "because",
                          "internationalisation-and-more",
                          "<|endoftext|>"};
    float d[144];
    for (int i = 0; i < 144; i++) // a smooth pattern with both signs
        d[i] = sinf(0.35f * (float)(i / 12)) * cosf(0.5f * (float)(i % 12)) * 0.3f;
    heatmap_options_default(&o);
    o.title = "difference of two heads";
    o.cmap = colormap_find("diverging");
    o.annotate = 0;
    if (ok(heatmap_render(&img, &L, d, 12, 12, en, en, &o) == AT_OK, "golden: render diff")) {
        ok(L.vmin == -L.vmax, "golden diff: the scale is centred on 0");
        compare_golden("heatmap_diff.png", &img, &L);
        viz_image_free(&img);
    }
}

static void bg(char *s, int v) { sprintf(s + strlen(s), "\x1b[48;2;%d;%d;%dm", v, v, v); }

/* A 2x3 gray map in truecolour and in plain mode, byte for byte. */
static void test_term(void) {
    const float w[6] = {0.0f, 0.2f, 1.0f, 0.6f, NAN, 0.4f};
    const char *rows[2] = {"a", "b"}, *cols[3] = {"x", "yy", "今"};
    HeatmapOptions o;
    heatmap_options_default(&o);
    o.cmap = colormap_find("gray");
    VizBuf b = {0};
    ok(term_heatmap(&b, w, 2, 3, rows, cols, &o, TERM_TRUECOLOR, 80) == AT_OK, "term: render");
    char want[4096] = "a ";
    bg(want, 0), strcat(want, "  "), bg(want, 51), strcat(want, "  ");
    bg(want, 255), strcat(want, "  \x1b[0m\nb ");
    bg(want, 153), strcat(want, "  "), bg(want, 128), strcat(want, "  ");
    bg(want, 102), strcat(want, "  \x1b[0m\n");
    strcat(want, "  x y 今\n");
    strcat(want, "    y   \n");
    strcat(want, "  0 ");
    for (int k = 0; k < 24; k++) {
        bg(want, (int)(k * 255.0 / 23 + 0.5));
        strcat(want, " ");
    }
    strcat(want, "\x1b[0m 1\n");
    ok(b.s && strcmp(b.s, want) == 0, "term: truecolour output byte for byte");
    if (b.s && strcmp(b.s, want) != 0)
        printf("#   got:\n%s#   expected:\n%s", b.s, want);
    vizbuf_free(&b);

    ok(term_heatmap(&b, w, 2, 3, rows, cols, &o, TERM_PLAIN, 80) == AT_OK, "term: plain");
    char plain[1024] = "a    0.00 ░░ 0.20 ██ 1.00 \n"
                       "b ▒▒ 0.60 ??  nan ▒▒ 0.40 \n"
                       "  x       y       今      \n"
                       "          y               \n"
                       "  0 ";
    static const char *const level[5] = {" ", "░", "▒", "▓", "█"};
    for (int k = 0; k < 24; k++) // the bar: 24 steps of 5 shades
        strcat(plain, level[(int)(k / 23.0 * 4 + 0.5)]);
    strcat(plain, " 1\n");
    ok(b.s && strcmp(b.s, plain) == 0, "term: plain (NO_COLOR) output byte for byte");
    if (b.s && strcmp(b.s, plain) != 0)
        printf("#   got:\n%s", b.s);
    vizbuf_free(&b);

    // A big map is averaged down to the width, in half blocks.
    int n = 300;
    float *big = malloc((size_t)n * n * sizeof *big);
    for (int i = 0; i < n * n; i++)
        big[i] = (float)(i % n) / (float)n;
    heatmap_options_default(&o);
    ok(term_heatmap(&b, big, n, n, NULL, NULL, &o, TERM_256, 60) == AT_OK, "term: 300x300");
    int widest = 0, lines = 0;
    for (char *line = b.s; line && *line; lines++) {
        char *end = strchr(line, '\n');
        *end = 0;
        // strip escapes to measure
        char plainl[4096];
        int k = 0;
        for (char *p = line; *p && k < 4000; p++) {
            if (*p == '\x1b') {
                while (*p && *p != 'm')
                    p++;
                continue;
            }
            plainl[k++] = *p;
        }
        plainl[k] = 0;
        int wd = term_width_of(plainl);
        widest = wd > widest ? wd : widest;
        line = end + 1;
    }
    ok(widest <= 60 && lines > 10 && lines < 60,
       "term: 300x300 fits 60 columns (%d wide, %d lines)", widest, lines);
    ok(strstr(b.s, "\x1b[38;5;") && strstr(b.s, "\xE2\x96\x80"), "term: 256 colours, half blocks");
    vizbuf_free(&b);
    free(big);

    const float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    ok(term_sparkline(&b, v, 8, NULL, 80) == AT_OK &&
           strncmp(b.s, "▁▂▃▄▅▆▇█\n", strlen("▁▂▃▄▅▆▇█\n")) == 0,
       "sparkline of 1..8");
    vizbuf_free(&b);
}

int main(void) {
    test_colormaps();
    test_cell_colours();
    test_colorbar();
    test_cjk();
    test_fit();
    test_png();
    test_golden();
    test_term();
    text_shutdown();
    printf("1..%d\n", tap_count);
    return tap_done();
}
