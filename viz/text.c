/*
 * text.c: fonts found by a fallback list, sized and cached; UTF-8 strings
 * rendered by SDL2_ttf and blended into a VizImage as coverage.
 *
 * Why blend by hand instead of SDL_RenderCopy: the heatmap is drawn into a
 * plain RGBA buffer (see heatmap.c for why), and TTF_RenderUTF8_Blended's
 * surface is exactly a coverage mask in its alpha channel. Rotation by 90
 * degrees is an index swap on that mask, so it stays pixel-exact.
 */
#include <config.h>

#include <SDL.h>
#include <SDL_ttf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/core/error.h"
#include "text.h"

struct VizFont {
    int px;
    TTF_Font *ttf;
};

/* Candidates in order; the face index picks Simplified Chinese in the
   Noto collections (face 2 = SC in NotoSansCJK-*.ttc). */
static const struct {
    const char *path;
    int index;
} candidates[] = {
    {"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0},
    {"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2},
    {"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2},
    {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
    {"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0},
    {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0},
    {"/System/Library/Fonts/PingFang.ttc", 0},
};

#define MAX_FONTS 12
static VizFont fonts[MAX_FONTS];
static int nfonts;
static const char *font_path;
static int font_index;

/* Pick the font file once: ATTNLAB_FONT strictly, else the first readable
   candidate. */
static int choose_font(void) {
    if (font_path)
        return AT_OK;
    const char *env = getenv("ATTNLAB_FONT");
    if (env && *env) {
        if (access(env, R_OK) != 0)
            return at_error(AT_EIO, "text: ATTNLAB_FONT='%s' cannot be read", env);
        font_path = env;
        font_index = 0;
        return AT_OK;
    }
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        if (access(candidates[i].path, R_OK) == 0) {
            font_path = candidates[i].path;
            font_index = candidates[i].index;
            return AT_OK;
        }
    }
    return at_error(AT_EIO, "text: no font found (install fonts-wqy-microhei, or set "
                            "ATTNLAB_FONT to a .ttf/.ttc file)");
}

VizFont *text_font(int px) {
    if (px < 6)
        px = 6;
    if (px > 200)
        px = 200;
    for (int i = 0; i < nfonts; i++)
        if (fonts[i].px == px)
            return &fonts[i];
    if (choose_font())
        return NULL;
    if (!TTF_WasInit() && TTF_Init() != 0) {
        at_error(AT_EIO, "text: TTF_Init failed: %s", TTF_GetError());
        return NULL;
    }
    if (nfonts == MAX_FONTS) { // sizes are few in practice; recycle the oldest
        TTF_CloseFont(fonts[0].ttf);
        memmove(fonts, fonts + 1, (MAX_FONTS - 1) * sizeof fonts[0]);
        nfonts--;
    }
    TTF_Font *ttf = TTF_OpenFontIndex(font_path, px, font_index);
    if (!ttf) {
        at_error(AT_EIO, "text: cannot open font '%s' (face %d): %s", font_path, font_index,
                 TTF_GetError());
        return NULL;
    }
    TTF_SetFontHinting(ttf, TTF_HINTING_LIGHT);
    fonts[nfonts] = (VizFont){px, ttf};
    return &fonts[nfonts++];
}

const char *text_font_path(int *index) {
    if (index)
        *index = font_index;
    return font_path;
}

void text_shutdown(void) {
    for (int i = 0; i < nfonts; i++)
        TTF_CloseFont(fonts[i].ttf);
    nfonts = 0;
    font_path = NULL;
    if (TTF_WasInit())
        TTF_Quit();
}

int text_height(VizFont *f) { return TTF_FontHeight(f->ttf); }

int text_width(VizFont *f, const char *s) {
    int w = 0, h = 0;
    if (!s || !*s)
        return 0;
    if (TTF_SizeUTF8(f->ttf, s, &w, &h) != 0)
        return at_error(AT_EINVAL, "text: cannot measure '%s': %s", s, TTF_GetError()), -1;
    return w;
}

/* Blend the surface's alpha as coverage of colour c; rotated or not. */
static void blit_mask(VizImage *img, SDL_Surface *s, int x, int y, VizRGB c, int rotate) {
    const SDL_PixelFormat *fmt = s->format;
    for (int j = 0; j < s->h; j++) {
        const uint32_t *row = (const uint32_t *)((const uint8_t *)s->pixels + j * s->pitch);
        for (int i = 0; i < s->w; i++) {
            unsigned a = (row[i] & fmt->Amask) >> fmt->Ashift;
            if (!a)
                continue;
            // 90° counter-clockwise: (i, j) -> (j, w-1-i)
            if (rotate)
                viz_blend(img, x + j, y + s->w - 1 - i, c, a);
            else
                viz_blend(img, x + i, y + j, c, a);
        }
    }
}

int text_draw(VizImage *img, VizFont *f, const char *s, int x, int y, VizRGB c, int rotate) {
    if (!s || !*s)
        return AT_OK;
    SDL_Color white = {255, 255, 255, 255};
    SDL_Surface *surf = TTF_RenderUTF8_Blended(f->ttf, s, white);
    if (!surf)
        return at_error(AT_EINVAL, "text: cannot render '%s': %s", s, TTF_GetError());
    int st = AT_OK;
    if (surf->format->BytesPerPixel != 4)
        st = at_error(AT_EINVAL, "text: unexpected glyph surface format");
    else if (SDL_LockSurface(surf) != 0)
        st = at_error(AT_EINVAL, "text: cannot lock surface: %s", SDL_GetError());
    if (st == AT_OK) {
        blit_mask(img, surf, x, y, c, rotate);
        SDL_UnlockSurface(surf);
    }
    SDL_FreeSurface(surf);
    return st;
}

/* Bytes of the UTF-8 character starting at s (1 for stray bytes). */
static size_t u8len(const char *s) {
    unsigned char c = (unsigned char)*s;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    for (size_t i = 1; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            return 1;
    return n;
}

int text_fit(char *out, size_t outsz, VizFont *f, const char *s, int maxw) {
    static const char ell[] = "\xE2\x80\xA6"; // …
    size_t n = strlen(s);
    if (outsz < sizeof ell)
        return at_error(AT_EINVAL, "text_fit: output buffer too small");
    int w = text_width(f, s);
    if (w < 0)
        return at_errcode();
    if (w <= maxw && n < outsz) {
        memcpy(out, s, n + 1);
        return AT_OK;
    }
    // Longest prefix of whole characters that fits with the ellipsis.
    size_t best = 0;
    for (size_t k = 0; k < n && k + sizeof ell <= outsz;) {
        size_t next = k + u8len(s + k);
        if (next + sizeof ell > outsz)
            break;
        memcpy(out, s, next);
        memcpy(out + next, ell, sizeof ell);
        int pw = text_width(f, out);
        if (pw < 0)
            return at_errcode();
        if (pw > maxw)
            break;
        best = next;
        k = next;
    }
    memcpy(out, s, best);
    memcpy(out + best, ell, sizeof ell);
    return AT_OK;
}
