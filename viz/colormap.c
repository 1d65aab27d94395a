/*
 * colormap.c: control points of the published colormaps and linear
 * interpolation between them.
 *
 * viridis and magma: every 8th entry (and the last) of the 256-entry tables
 * published with matplotlib (_cm_listed.py, CC0); linear interpolation
 * between these 33 points stays within 1.7/255 of the full tables, below
 * what the eye or an 8-bit PNG can tell apart. The diverging map is
 * ColorBrewer's RdBu with 11 classes (Cynthia Brewer), reversed so that
 * negative values are blue. Positions are entry/255 so that t = i/255 hits
 * entry i of the published table exactly.
 */
#include <config.h>

#include <string.h>

#include "colormap.h"

typedef struct Stop {
    float t, r, g, b;
} Stop;

struct Colormap {
    const char *name;
    const Stop *stops;
    int n;
    int diverging;
};

#define P(i, r, g, b)                                                                              \
    { (float)(i) / 255.0f, r, g, b }

static const Stop viridis[] = {
    P(0, 0.267004f, 0.004874f, 0.329415f),   P(8, 0.277018f, 0.050344f, 0.375715f),
    P(16, 0.282327f, 0.094955f, 0.417331f),  P(24, 0.282884f, 0.135920f, 0.453427f),
    P(32, 0.278826f, 0.175490f, 0.483397f),  P(40, 0.270595f, 0.214069f, 0.507052f),
    P(48, 0.258965f, 0.251537f, 0.524736f),  P(56, 0.244972f, 0.287675f, 0.537260f),
    P(64, 0.229739f, 0.322361f, 0.545706f),  P(72, 0.214298f, 0.355619f, 0.551184f),
    P(80, 0.199430f, 0.387607f, 0.554642f),  P(88, 0.185556f, 0.418570f, 0.556753f),
    P(96, 0.172719f, 0.448791f, 0.557885f),  P(104, 0.160665f, 0.478540f, 0.558115f),
    P(112, 0.149039f, 0.508051f, 0.557250f), P(120, 0.137770f, 0.537492f, 0.554906f),
    P(128, 0.127568f, 0.566949f, 0.550556f), P(136, 0.120565f, 0.596422f, 0.543611f),
    P(144, 0.120638f, 0.625828f, 0.533488f), P(152, 0.132268f, 0.655014f, 0.519661f),
    P(160, 0.157851f, 0.683765f, 0.501686f), P(168, 0.196571f, 0.711827f, 0.479221f),
    P(176, 0.246070f, 0.738910f, 0.452024f), P(184, 0.304148f, 0.764704f, 0.419943f),
    P(192, 0.369214f, 0.788888f, 0.382914f), P(200, 0.440137f, 0.811138f, 0.340967f),
    P(208, 0.515992f, 0.831158f, 0.294279f), P(216, 0.595839f, 0.848717f, 0.243329f),
    P(224, 0.678489f, 0.863742f, 0.189503f), P(232, 0.762373f, 0.876424f, 0.137064f),
    P(240, 0.845561f, 0.887322f, 0.099702f), P(248, 0.926106f, 0.897330f, 0.104071f),
    P(255, 0.993248f, 0.906157f, 0.143936f),
};

static const Stop magma[] = {
    P(0, 0.001462f, 0.000466f, 0.013866f),   P(8, 0.013708f, 0.011771f, 0.068667f),
    P(16, 0.039608f, 0.031090f, 0.133515f),  P(24, 0.074257f, 0.052017f, 0.202660f),
    P(32, 0.113094f, 0.065492f, 0.276784f),  P(40, 0.159018f, 0.068354f, 0.352688f),
    P(48, 0.211718f, 0.061992f, 0.418647f),  P(56, 0.265447f, 0.060237f, 0.461840f),
    P(64, 0.316654f, 0.071690f, 0.485380f),  P(72, 0.366012f, 0.090314f, 0.497960f),
    P(80, 0.414709f, 0.110431f, 0.504662f),  P(88, 0.463508f, 0.129893f, 0.507652f),
    P(96, 0.512831f, 0.148179f, 0.507648f),  P(104, 0.562866f, 0.165368f, 0.504692f),
    P(112, 0.613617f, 0.181811f, 0.498536f), P(120, 0.664915f, 0.198075f, 0.488836f),
    P(128, 0.716387f, 0.214982f, 0.475290f), P(136, 0.767398f, 0.233705f, 0.457755f),
    P(144, 0.816914f, 0.255895f, 0.436461f), P(152, 0.863320f, 0.283729f, 0.412403f),
    P(160, 0.904281f, 0.319610f, 0.388137f), P(168, 0.937221f, 0.364929f, 0.368567f),
    P(176, 0.960949f, 0.418323f, 0.359630f), P(184, 0.976690f, 0.476226f, 0.364466f),
    P(192, 0.986700f, 0.535582f, 0.382210f), P(200, 0.992785f, 0.594891f, 0.410283f),
    P(208, 0.996096f, 0.653659f, 0.446213f), P(216, 0.997325f, 0.711848f, 0.488154f),
    P(224, 0.996898f, 0.769591f, 0.534892f), P(232, 0.995131f, 0.827052f, 0.585701f),
    P(240, 0.992440f, 0.884330f, 0.640099f), P(248, 0.989434f, 0.941470f, 0.697519f),
    P(255, 0.987053f, 0.991438f, 0.749504f),
};

static const Stop gray[] = {{0.0f, 0.0f, 0.0f, 0.0f}, {1.0f, 1.0f, 1.0f, 1.0f}};

/* ColorBrewer RdBu-11 reversed: #053061 ... #f7f7f7 ... #67001f. */
#define H(k, r, g, b)                                                                              \
    { (float)(k) / 10.0f, (r) / 255.0f, (g) / 255.0f, (b) / 255.0f }
static const Stop rdbu_r[] = {
    H(0, 5, 48, 97),     H(1, 33, 102, 172),  H(2, 67, 147, 195),  H(3, 146, 197, 222),
    H(4, 209, 229, 240), H(5, 247, 247, 247), H(6, 253, 219, 199), H(7, 244, 165, 130),
    H(8, 214, 96, 77),   H(9, 178, 24, 43),   H(10, 103, 0, 31),
};

#define N(a) ((int)(sizeof a / sizeof a[0]))
static const Colormap maps[] = {
    {"viridis", viridis, N(viridis), 0},
    {"magma", magma, N(magma), 0},
    {"gray", gray, N(gray), 0},
    {"diverging", rdbu_r, N(rdbu_r), 1},
};

/* Other spellings users reach for. */
static const struct {
    const char *alias;
    int map;
} aliases[] = {{"grey", 2}, {"rdbu_r", 3}};

const Colormap *colormap_find(const char *name) {
    if (!name)
        return NULL;
    for (int i = 0; i < N(maps); i++)
        if (strcmp(name, maps[i].name) == 0)
            return &maps[i];
    for (int i = 0; i < N(aliases); i++)
        if (strcmp(name, aliases[i].alias) == 0)
            return &maps[aliases[i].map];
    return NULL;
}

const Colormap *colormap_default(void) { return &maps[0]; }
const char *colormap_name(const Colormap *cm) { return cm->name; }
const char *colormap_names(void) { return "viridis, magma, gray, diverging"; }
int colormap_is_diverging(const Colormap *cm) { return cm->diverging; }

static uint8_t to_byte(float v) {
    float b = v * 255.0f + 0.5f;
    return (uint8_t)(b < 0.0f ? 0.0f : b > 255.0f ? 255.0f : b);
}

VizRGB colormap_at(const Colormap *cm, float t) {
    if (!(t > 0.0f)) // also NaN
        t = 0.0f;
    if (t > 1.0f)
        t = 1.0f;
    const Stop *s = cm->stops;
    int k = 0;
    while (k < cm->n - 2 && t > s[k + 1].t)
        k++;
    float f = (t - s[k].t) / (s[k + 1].t - s[k].t);
    return (VizRGB){to_byte(s[k].r + f * (s[k + 1].r - s[k].r)),
                    to_byte(s[k].g + f * (s[k + 1].g - s[k].g)),
                    to_byte(s[k].b + f * (s[k + 1].b - s[k].b))};
}
