/* Chip rendering on plain buffers: shared stretch, outline, scale bar,
 * north arrow. See chip_render.h. */
#include "chip_render.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- stretch ------------------------------------------------------------ */

/* Percentiles that ignore the darkest and brightest 2 %: a few clouds,
 * shadows or saturated roofs would otherwise flatten everything else. */
#define CHIP_LOW_Q 0.02
#define CHIP_HIGH_Q 0.98
/* Smallest stretch range, reflectance: about the spread of a forest canopy
 * across the visible bands, so sensor noise is not blown up to full range. */
#define CHIP_MIN_RANGE 0.08f

/* The k-th smallest of v[0..n) (0-based), reordering v: Hoare's
 * selection, linear on average. Two quantiles of 400 000 values per chip
 * pair made a full sort the chips' largest cost. */
static float chip_select(float *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        const float pivot = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                const float t = v[i];
                v[i] = v[j], v[j] = t;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            break; /* v[j+1 .. i-1] all equal the pivot */
    }
    return v[k];
}

static bool chip_pixel_valid(const float *const band[3], size_t i)
{
    return isfinite(band[0][i]) && isfinite(band[1][i]) && isfinite(band[2][i]);
}

/* Appends band c of the valid pixels of planes to v; returns the count. */
static size_t chip_collect(const float *const planes[3], int c, size_t n, float *v)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (chip_pixel_valid(planes, i))
            v[m++] = planes[c][i];
    return m;
}

/* Value at quantile q of m values (nearest rank); reorders v. */
static float chip_quantile(float *v, size_t m, double q)
{
    return chip_select(v, m, (size_t)floor(q * (double)(m - 1) + 0.5));
}

void rw_checklist_chip_stretch_fit(const float *const a[3], const float *const b[3],
                                   size_t n, float *scratch, rw_chip_stretch *out)
{
    /* one range for the three bands, so a green forest stays green: a
     * per-band stretch would spread each band's noise over 0..255 and
     * paint flat ground in false colours */
    size_t m = 0;
    for (int c = 0; c < 3; c++) {
        m += chip_collect(a, c, n, scratch + m);
        m += chip_collect(b, c, n, scratch + m);
    }
    float lo = 0.0f, hi = 1.0f;
    if (m > 0) {
        lo = chip_quantile(scratch, m, CHIP_LOW_Q);
        hi = chip_quantile(scratch, m, CHIP_HIGH_Q);
        /* a chip of nearly uniform ground keeps its contrast modest */
        if (hi - lo < CHIP_MIN_RANGE)
            hi = lo + CHIP_MIN_RANGE;
    }
    for (int c = 0; c < 3; c++)
        out->lo[c] = lo, out->hi[c] = hi;
}

void rw_checklist_chip_stretch_apply(const float *const band[3], size_t n,
                                     const rw_chip_stretch *s, uint8_t *rgb)
{
    for (size_t i = 0; i < n; i++) {
        const bool valid = chip_pixel_valid(band, i);
        for (int c = 0; c < 3; c++) {
            float t = valid ? (band[c][i] - s->lo[c]) / (s->hi[c] - s->lo[c]) : 0.0f;
            t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
            rgb[3 * i + (size_t)c] = (uint8_t)(t * 255.0f + 0.5f);
        }
    }
}

/* ---- outline ------------------------------------------------------------ */

static void chip_put(uint8_t *rgb, int w, int h, int x, int y, const uint8_t c[3])
{
    if (x < 0 || y < 0 || x >= w || y >= h)
        return;
    uint8_t *p = rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
    p[0] = c[0], p[1] = c[1], p[2] = c[2];
}

/* A 2 x 2 px brush centred on point (x, y): the two pixels either side of
 * the line in both directions, so the line is 2 px wide at any angle. */
static void chip_brush(uint8_t *rgb, int w, int h, double x, double y, const uint8_t c[3])
{
    const int x0 = (int)floor(x - 0.5), y0 = (int)floor(y - 0.5);
    for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++)
            chip_put(rgb, w, h, x0 + dx, y0 + dy, c);
}

/* Liang-Barsky: clips the segment p0 + t (p1 - p0), t in [0,1], to the box
 * [lo, hi] in both axes. False when nothing is left. */
static bool chip_clip(double *x0, double *y0, double *x1, double *y1, double lo, double hix,
                      double hiy)
{
    const double dx = *x1 - *x0, dy = *y1 - *y0;
    const double p[4] = {-dx, dx, -dy, dy};
    const double q[4] = {*x0 - lo, hix - *x0, *y0 - lo, hiy - *y0};
    double t0 = 0.0, t1 = 1.0;
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0.0) {
            if (q[i] < 0.0)
                return false;
            continue;
        }
        const double t = q[i] / p[i];
        if (p[i] < 0.0 && t > t0)
            t0 = t;
        else if (p[i] > 0.0 && t < t1)
            t1 = t;
    }
    if (t0 > t1)
        return false;
    *x1 = *x0 + t1 * dx, *y1 = *y0 + t1 * dy;
    *x0 = *x0 + t0 * dx, *y0 = *y0 + t0 * dy;
    return true;
}

static void chip_segment(uint8_t *rgb, int w, int h, double x0, double y0, double x1, double y1,
                         const uint8_t c[3])
{
    /* clipped first so a ring far outside the chip costs nothing */
    if (!isfinite(x0) || !isfinite(y0) || !isfinite(x1) || !isfinite(y1) ||
        !chip_clip(&x0, &y0, &x1, &y1, -2.0, w + 2.0, h + 2.0))
        return;
    const double len = fmax(fabs(x1 - x0), fabs(y1 - y0));
    const int steps = (int)ceil(len * 2.0); /* half-pixel steps leave no gap */
    for (int s = 0; s <= steps; s++) {
        const double t = steps > 0 ? (double)s / steps : 0.0;
        chip_brush(rgb, w, h, x0 + t * (x1 - x0), y0 + t * (y1 - y0), c);
    }
}

void rw_checklist_chip_draw_rings(uint8_t *rgb, int w, int h, const double *xy,
                                  const size_t *ring_len, size_t nrings,
                                  const uint8_t colour[3])
{
    for (size_t r = 0; r < nrings; xy += 2 * ring_len[r], r++) {
        const size_t m = ring_len[r];
        for (size_t i = 0; i < m; i++) {
            const size_t j = (i + 1) % m;
            chip_segment(rgb, w, h, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1], colour);
        }
    }
}

/* ---- scale bar and north arrow ----------------------------------------- */

/* 5 x 7 glyphs, one byte per row, bit 4 the leftmost column: only what
 * the scale label and the north arrow need. */
typedef struct chip_glyph {
    char c;
    uint8_t row[7];
} chip_glyph;

static const chip_glyph chip_font[] = {
    {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E}},
    {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E}},
    {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E}},
    {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C}},
    {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12}},
    {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11}},
    {'N', {0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11}},
    {' ', {0, 0, 0, 0, 0, 0, 0}},
};

enum {
    CHIP_GLYPH_W = 5,
    CHIP_GLYPH_H = 7,
    CHIP_TEXT_SCALE = 2, /* 10 x 14 px letters: legible on a printed form */
    CHIP_ARROW_W = 13,
    CHIP_ARROW_H = 14
};

static const chip_glyph *chip_glyph_of(char c)
{
    for (size_t i = 0; i < sizeof(chip_font) / sizeof(chip_font[0]); i++)
        if (chip_font[i].c == c)
            return &chip_font[i];
    return NULL;
}

static void chip_mark(uint8_t *overlay, int w, int h, int x, int y)
{
    if (x >= 0 && y >= 0 && x < w && y < h)
        overlay[(size_t)y * (size_t)w + (size_t)x] = 1;
}

static void chip_mark_box(uint8_t *overlay, int w, int h, int x0, int y0, int bw, int bh)
{
    for (int y = y0; y < y0 + bh; y++)
        for (int x = x0; x < x0 + bw; x++)
            chip_mark(overlay, w, h, x, y);
}

/* Marks text with its top-left corner at (x, y); unknown characters are
 * skipped. */
static void chip_mark_text(uint8_t *overlay, int w, int h, int x, int y, const char *text)
{
    const int s = CHIP_TEXT_SCALE;
    for (; *text; text++, x += (CHIP_GLYPH_W + 1) * s) {
        const chip_glyph *g = chip_glyph_of(*text);
        if (g == NULL)
            continue;
        for (int r = 0; r < CHIP_GLYPH_H; r++)
            for (int c = 0; c < CHIP_GLYPH_W; c++)
                if (g->row[r] & (0x10 >> c))
                    chip_mark_box(overlay, w, h, x + c * s, y + r * s, s, s);
    }
}

rw_chip_scale rw_checklist_chip_scale_bar(double metres_per_px, int w)
{
    static const long mantissa[] = {1, 2, 5};
    rw_chip_scale sb = {.metres = 10, .px = 0, .label = ""};
    if (!(metres_per_px > 0.0) || !isfinite(metres_per_px))
        return sb;
    for (long p = 10; p <= 100000000L; p *= 10)
        for (int i = 0; i < 3; i++)
            if (mantissa[i] * p / metres_per_px <= 0.3 * w)
                sb.metres = mantissa[i] * p;
    sb.px = (int)lround((double)sb.metres / metres_per_px);
    if (sb.metres >= 1000)
        snprintf(sb.label, sizeof(sb.label), "%ld km", sb.metres / 1000);
    else
        snprintf(sb.label, sizeof(sb.label), "%ld m", sb.metres);
    return sb;
}

static void chip_mark_scale_bar(uint8_t *overlay, int w, int h, double metres_per_px)
{
    const rw_chip_scale sb = rw_checklist_chip_scale_bar(metres_per_px, w);
    if (sb.px <= 0)
        return;
    const int bar_top = h - RW_CHIP_MARGIN - RW_CHIP_BAR_ROWS;
    chip_mark_box(overlay, w, h, RW_CHIP_MARGIN, bar_top, sb.px, RW_CHIP_BAR_ROWS);
    /* 1 px border plus 2 px gap between the label and the bar */
    chip_mark_text(overlay, w, h, RW_CHIP_MARGIN, bar_top - 3 - CHIP_GLYPH_H * CHIP_TEXT_SCALE,
                   sb.label);
}

/* An upward triangle with an 'N' under it, at the top right. */
static void chip_mark_north(uint8_t *overlay, int w, int h)
{
    const int x0 = w - RW_CHIP_MARGIN - CHIP_ARROW_W, y0 = RW_CHIP_MARGIN;
    const int mid = CHIP_ARROW_W / 2;
    for (int r = 0; r < CHIP_ARROW_H; r++) {
        const int half = r * mid / (CHIP_ARROW_H - 1);
        chip_mark_box(overlay, w, h, x0 + mid - half, y0 + r, 2 * half + 1, 1);
    }
    const int text_w = CHIP_GLYPH_W * CHIP_TEXT_SCALE;
    chip_mark_text(overlay, w, h, x0 + (CHIP_ARROW_W - text_w) / 2, y0 + CHIP_ARROW_H + 3, "N");
}

/* White where marked, black on the unmarked 8-neighbours of marks. */
static void chip_compose(uint8_t *rgb, int w, int h, const uint8_t *overlay)
{
    static const uint8_t white[3] = {255, 255, 255}, black[3] = {0, 0, 0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (overlay[(size_t)y * (size_t)w + (size_t)x]) {
                chip_put(rgb, w, h, x, y, white);
                continue;
            }
            bool near = false;
            for (int dy = -1; dy <= 1 && !near; dy++)
                for (int dx = -1; dx <= 1 && !near; dx++) {
                    const int nx = x + dx, ny = y + dy;
                    near = nx >= 0 && ny >= 0 && nx < w && ny < h &&
                           overlay[(size_t)ny * (size_t)w + (size_t)nx];
                }
            if (near)
                chip_put(rgb, w, h, x, y, black);
        }
}

void rw_checklist_chip_draw_furniture(uint8_t *rgb, int w, int h, double metres_per_px,
                                      uint8_t *overlay)
{
    memset(overlay, 0, (size_t)w * (size_t)h);
    chip_mark_scale_bar(overlay, w, h, metres_per_px);
    chip_mark_north(overlay, w, h);
    chip_compose(rgb, w, h, overlay);
}
