/* Unit tests for the check-list chips: the pure renderer (shared stretch,
 * outline, scale bar) and rw_checklist_write_chips end to end on two small
 * Sentinel-2-like GeoTIFFs in UTM 50N, the later one with a bright bare
 * square where the earlier one has vegetation. The earlier scene is on a
 * coarser, shifted grid so the warp onto the later grid is exercised. */
#include "test_fs.h"
#include "checklist.h"
#include "chip_render.h"

#include <cpl_conv.h>
#include <dirent.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char tmp_dir[] = "/tmp/rw_test_chips_XXXXXX";
static char before_path[512], after_path[512];
static char *utm_wkt;

/* The later scene: 300 x 300 px of 10 m from (500000, 3300000). The patch
 * is a 200 m square at its centre. */
#define SCENE_X0 500000.0
#define SCENE_Y0 3300000.0
#define PATCH_X0 501400.0
#define PATCH_X1 501600.0
#define PATCH_Y0 3298400.0
#define PATCH_Y1 3298600.0
#define CHIP_M 1200.0 /* the chip covers 1200 m: 4.6875 m per chip pixel */

static const char *const band_desc[6] = {"B2 (blue)", "B3 (green)", "B4 (red)",
                                         "B8 (nir)",  "B11 (swir1)", "B12 (swir2)"};

/* ---- helpers ------------------------------------------------------------ */

static const uint8_t *px(const uint8_t *rgb, int w, int x, int y)
{
    return rgb + 3 * ((size_t)y * (size_t)w + (size_t)x);
}

static bool is_colour(const uint8_t *p, uint8_t r, uint8_t g, uint8_t b)
{
    return p[0] == r && p[1] == g && p[2] == b;
}

/* DN (reflectance x 10000) of band b at ground point (x, y): vegetation
 * with a gentle linear gradient (reproduced exactly by bilinear warps),
 * or bare ground on the patch when patch is set. */
static double scene_value(int b, double x, double y, bool patch)
{
    static const double veg[6] = {400, 700, 500, 3000, 1600, 800};
    static const double bare[6] = {2500, 2800, 3000, 1200, 3500, 3000};
    if (patch && x >= PATCH_X0 && x < PATCH_X1 && y > PATCH_Y0 && y <= PATCH_Y1)
        return bare[b];
    return veg[b] + 0.05 * (x - SCENE_X0) + 0.03 * (SCENE_Y0 - y);
}

static void write_scene(const char *path, int size, double pixel, double x0, double y0, bool patch)
{
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, size, size, 6, GDT_UInt16, NULL);
    assert_non_null(ds);
    double gt[6] = {x0, pixel, 0, y0, 0, -pixel};
    GDALSetGeoTransform(ds, gt);
    GDALSetProjection(ds, utm_wkt);
    GDALSetMetadataItem(ds, "SPACECRAFT", "Sentinel-2A", NULL);
    uint16_t *row = malloc((size_t)size * sizeof(*row));
    assert_non_null(row);
    for (int b = 0; b < 6; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        GDALSetDescription(band, band_desc[b]);
        GDALSetRasterScale(band, 0.0001);
        GDALSetRasterOffset(band, 0.0);
        GDALSetRasterNoDataValue(band, 0);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++)
                row[x] = (uint16_t)lround(scene_value(b, x0 + (x + 0.5) * pixel, y0 - (y + 0.5) * pixel, patch));
            assert_int_equal(GDALRasterIO(band, GF_Write, 0, y, size, 1, row, size, 1, GDT_UInt16, 0, 0), CE_None);
        }
    }
    free(row);
    GDALClose(ds);
}

static unsigned char *square_wkb(double x0, double y0, double x1, double y1, size_t *size)
{
    char wkt[256];
    snprintf(wkt, sizeof(wkt), "POLYGON ((%f %f, %f %f, %f %f, %f %f, %f %f))", x0, y0, x1, y0, x1, y1, x0, y1,
             x0, y0);
    char *p = wkt;
    OGRGeometryH g = NULL;
    assert_int_equal(OGR_G_CreateFromWkt(&p, NULL, &g), OGRERR_NONE);
    *size = (size_t)OGR_G_WkbSize(g);
    unsigned char *wkb = malloc(*size);
    assert_non_null(wkb);
    assert_int_equal(OGR_G_ExportToIsoWkb(g, wkbNDR, wkb), OGRERR_NONE);
    OGR_G_DestroyGeometry(g);
    return wkb;
}

/* A check list of nreserves reserves ("R01_test", "R02_test"...) with
 * per[r] items each. Item k of a reserve is the patch square shifted k x
 * 150 m west (k = 0 is the planted patch). */
static rw_checklist *make_list(size_t nreserves, const size_t *per)
{
    rw_checklist *cl = calloc(1, sizeof(*cl));
    assert_non_null(cl);
    cl->analysis_wkt = strdup(utm_wkt);
    cl->after_scene = strdup(after_path);
    cl->nbefore = 1;
    cl->before_scenes = calloc(1, sizeof(char *));
    cl->before_scenes[0] = strdup(before_path);
    cl->reserves = calloc(nreserves, sizeof(*cl->reserves));
    cl->nreserves = nreserves;
    for (size_t r = 0; r < nreserves; r++) {
        rw_check_reserve *res = &cl->reserves[r];
        snprintf(res->reserve_id, sizeof(res->reserve_id), "R%02d", (int)(r + 1) % 100);
        snprintf(res->dir_name, sizeof(res->dir_name), "R%02d_test", (int)(r + 1) % 100);
        res->items = calloc(per[r], sizeof(*res->items));
        res->n = per[r];
        for (size_t k = 0; k < per[r]; k++) {
            rw_detection *d = &res->items[k].det;
            const double shift = 150.0 * (double)k;
            snprintf(d->id, sizeof(d->id), "R%02d-%04d", (int)(r + 1) % 100, (int)(k + 1) % 10000);
            d->wkb = square_wkb(PATCH_X0 - shift, PATCH_Y0, PATCH_X1 - shift, PATCH_Y1, &d->wkb_size);
            d->x = 0.5 * (PATCH_X0 + PATCH_X1) - shift;
            d->y = 0.5 * (PATCH_Y0 + PATCH_Y1);
            res->items[k].seq = (int)k + 1;
        }
    }
    return cl;
}

static uint8_t *read_png(const char *path, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&img, path));
    img.format = PNG_FORMAT_RGB;
    uint8_t *buf = malloc(PNG_IMAGE_SIZE(img));
    assert_non_null(buf);
    assert_true(png_image_finish_read(&img, NULL, buf, 0, NULL));
    *w = (int)img.width;
    *h = (int)img.height;
    return buf;
}

static uint8_t *read_chip(const char *out, const char *dir, const char *id, rw_chip_kind kind)
{
    char rel[256], path[1024];
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_chip_path(id, kind, rel, sizeof(rel), &err), RW_OK);
    snprintf(path, sizeof(path), "%s/%s/%s", out, dir, rel);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    int w = 0, h = 0;
    uint8_t *rgb = read_png(path, &w, &h);
    assert_int_equal(w, RW_CHIP_SIZE);
    assert_int_equal(h, RW_CHIP_SIZE);
    return rgb;
}

/* Mean absolute difference per channel over the box [x0,x1) x [y0,y1). */
static double mean_abs_diff(const uint8_t *a, const uint8_t *b, int x0, int y0, int x1, int y1)
{
    double s = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            for (int c = 0; c < 3; c++)
                s += fabs((double)px(a, RW_CHIP_SIZE, x, y)[c] - px(b, RW_CHIP_SIZE, x, y)[c]);
    return s / (3.0 * (x1 - x0) * (y1 - y0));
}

static const char *out_folder(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmp_dir, name);
    assert_int_equal(mkdir(buf, 0700), 0);
    return buf;
}

/* ---- renderer ----------------------------------------------------------- */

/* Percentiles come from both dates together, so one stretch serves both
 * and equal reflectance gives equal bytes on either chip. */
static void test_stretch_shared(void **state)
{
    (void)state;
    enum { N = 100 };
    float a[3][N], b[3][N], scratch[6 * N];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < N; i++) {
            a[c][i] = (float)i / 100.0f;     /* 0.00 .. 0.99 */
            b[c][i] = 1.0f + (float)i / 100.0f; /* 1.00 .. 1.99: much brighter */
        }
    const float *const pa[3] = {a[0], a[1], a[2]}, *const pb[3] = {b[0], b[1], b[2]};
    rw_chip_stretch s;
    rw_checklist_chip_stretch_fit(pa, pb, N, scratch, &s);
    for (int c = 0; c < 3; c++) {
        /* 600 pooled values (3 bands x 200): ranks round(0.02 * 599) = 12
         * and round(0.98 * 599) = 587 hold 0.04 and 1.95 */
        assert_float_equal(s.lo[c], 0.04f, 1e-6);
        assert_float_equal(s.hi[c], 1.95f, 1e-6);
    }
    uint8_t ra[3 * N], rb[3 * N];
    rw_checklist_chip_stretch_apply(pa, N, &s, ra);
    rw_checklist_chip_stretch_apply(pb, N, &s, rb);
    /* a's 0.99 is b's 0.99 - 1: a reaches only about half the range, so
     * the later date's brightness shows as a change */
    assert_true(ra[3 * 99] < 140 && ra[3 * 99] > 110);
    assert_int_equal(ra[0], 0);
    assert_int_equal(rb[3 * 99], 255);
    /* the same value maps to the same byte on either date */
    float one[3] = {0.5f, 0.5f, 0.5f};
    const float *const p1[3] = {&one[0], &one[1], &one[2]};
    uint8_t x1[3], x2[3];
    rw_checklist_chip_stretch_apply(p1, 1, &s, x1);
    rw_checklist_chip_stretch_apply(p1, 1, &s, x2);
    assert_memory_equal(x1, x2, 3);
    assert_int_equal(x1[0], (int)lround((0.5 - 0.04) / (1.95 - 0.04) * 255.0));

    /* one range for all bands: green ground stays greener than red */
    float g[3][N];
    for (int i = 0; i < N; i++)
        g[0][i] = 0.03f, g[1][i] = 0.06f + 0.0001f * (float)i, g[2][i] = 0.03f;
    const float *const pg[3] = {g[0], g[1], g[2]};
    rw_chip_stretch sg;
    rw_checklist_chip_stretch_fit(pg, pg, N, scratch, &sg);
    assert_float_equal(sg.lo[0], sg.lo[1], 0);
    assert_float_equal(sg.hi[0], sg.hi[2], 0);
    uint8_t rg[3 * N];
    rw_checklist_chip_stretch_apply(pg, N, &sg, rg);
    assert_true(rg[3 * 50 + 1] > rg[3 * 50] + 40); /* green well above red */
    assert_true(sg.hi[0] - sg.lo[0] >= 0.08f - 1e-6f); /* flat ground: modest contrast */

    /* a per-date stretch would map a's 0.99 near white: not what we do */
    rw_chip_stretch own;
    rw_checklist_chip_stretch_fit(pa, pa, N, scratch, &own);
    assert_true(own.hi[0] < 1.0f);
}

/* Nodata (NAN in any band) is black and stays out of the percentiles. */
static void test_stretch_nodata(void **state)
{
    (void)state;
    enum { N = 50 };
    float v[3][N], scratch[6 * N];
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < N; i++)
            v[c][i] = 0.1f + 0.001f * (float)i;
    v[1][7] = NAN;    /* green missing: the pixel is nodata */
    v[0][8] = 100.0f; /* an outlier on one pixel... */
    v[2][8] = NAN;    /* ...of a nodata pixel: must not widen red */
    const float *const p[3] = {v[0], v[1], v[2]};
    rw_chip_stretch s;
    rw_checklist_chip_stretch_fit(p, p, N, scratch, &s);
    assert_true(s.hi[0] < 0.2f);
    uint8_t rgb[3 * N];
    rw_checklist_chip_stretch_apply(p, N, &s, rgb);
    assert_true(is_colour(&rgb[3 * 7], 0, 0, 0));
    assert_true(is_colour(&rgb[3 * 8], 0, 0, 0));
    assert_true(rgb[3 * 30] > 0);

    /* no valid pixel: a black chip, no crash */
    for (int i = 0; i < N; i++)
        v[0][i] = NAN;
    rw_checklist_chip_stretch_fit(p, p, N, scratch, &s);
    rw_checklist_chip_stretch_apply(p, N, &s, rgb);
    for (int i = 0; i < 3 * N; i++)
        assert_int_equal(rgb[i], 0);
}

/* A ring edge at x = 10 covers the two pixels either side: columns 9, 10. */
static void test_outline_position(void **state)
{
    (void)state;
    enum { W = 64, H = 64 };
    static uint8_t rgb[3 * W * H];
    memset(rgb, 0, sizeof(rgb));
    const double xy[] = {10, 10, 50, 10, 50, 50, 10, 50, 10, 10, /* far outside: clipped away */
                         -1e9, -1e9, 1e9, -1e9, -1e9, -1e9};
    const size_t len[] = {5, 3};
    const uint8_t yellow[3] = {255, 255, 0};
    rw_checklist_chip_draw_rings(rgb, W, H, xy, len, 2, yellow);
    for (int t = 12; t < 48; t++) {
        assert_true(is_colour(px(rgb, W, 9, t), 255, 255, 0));  /* left edge */
        assert_true(is_colour(px(rgb, W, 10, t), 255, 255, 0));
        assert_true(is_colour(px(rgb, W, 8, t), 0, 0, 0));
        assert_true(is_colour(px(rgb, W, 11, t), 0, 0, 0));
        assert_true(is_colour(px(rgb, W, 49, t), 255, 255, 0)); /* right edge */
        assert_true(is_colour(px(rgb, W, 50, t), 255, 255, 0));
        assert_true(is_colour(px(rgb, W, t, 9), 255, 255, 0));  /* top */
        assert_true(is_colour(px(rgb, W, t, 50), 255, 255, 0)); /* bottom */
        assert_true(is_colour(px(rgb, W, 30, t), 0, 0, 0));     /* inside */
    }
    int n = 0;
    for (size_t i = 0; i < sizeof(rgb); i += 3)
        n += rgb[i] != 0;
    /* four sides of 2 x 42 px: nothing else drawn */
    assert_int_equal(n, 4 * 2 * 42 - 4 * 4);

    /* a diagonal leaves no gap: every row it crosses has a pixel */
    memset(rgb, 0, sizeof(rgb));
    const double diag[] = {2.3, 3.1, 60.7, 59.4};
    const size_t dl[] = {2};
    rw_checklist_chip_draw_rings(rgb, W, H, diag, dl, 1, yellow);
    for (int y = 4; y < 58; y++) {
        int hits = 0;
        for (int x = 0; x < W; x++)
            hits += rgb[3 * (y * W + x)] != 0;
        assert_true(hits >= 2);
    }
}

static void test_scale_bar_length(void **state)
{
    (void)state;
    rw_chip_scale s = rw_checklist_chip_scale_bar(CHIP_M / RW_CHIP_SIZE, RW_CHIP_SIZE);
    assert_int_equal(s.metres, 200); /* 360 m fit in 30 %: 200 is the round one */
    assert_int_equal(s.px, 43);      /* 200 / 4.6875 = 42.7 */
    assert_string_equal(s.label, "200 m");
    s = rw_checklist_chip_scale_bar(2.0, 256);
    assert_int_equal(s.metres, 100);
    assert_int_equal(s.px, 50);
    s = rw_checklist_chip_scale_bar(50.0, 256);
    assert_int_equal(s.metres, 2000);
    assert_int_equal(s.px, 40);
    assert_string_equal(s.label, "2 km");
    s = rw_checklist_chip_scale_bar(10.0, 256); /* 768 m: 500 */
    assert_int_equal(s.metres, 500);
    assert_string_equal(s.label, "500 m");
    s = rw_checklist_chip_scale_bar(0.1, 256); /* below 10 m: still 10 m */
    assert_int_equal(s.metres, 10);
    assert_int_equal(s.px, 100);
}

/* The bar drawn on a grey chip: white for exactly px columns from the
 * margin, a black border around it, the label above, an arrow top right. */
static void test_scale_bar_drawn(void **state)
{
    (void)state;
    enum { W = RW_CHIP_SIZE, H = RW_CHIP_SIZE };
    static uint8_t rgb[3 * W * H], overlay[W * H];
    memset(rgb, 128, sizeof(rgb));
    const double mpp = 2.0; /* 100 m = 50 px */
    rw_checklist_chip_draw_furniture(rgb, W, H, mpp, overlay);
    const int m = RW_CHIP_MARGIN, top = H - m - RW_CHIP_BAR_ROWS;
    for (int y = top; y < H - m; y++) {
        assert_true(is_colour(px(rgb, W, m - 1, y), 0, 0, 0));
        for (int x = m; x < m + 50; x++)
            assert_true(is_colour(px(rgb, W, x, y), 255, 255, 255));
        assert_true(is_colour(px(rgb, W, m + 50, y), 0, 0, 0));
        assert_true(is_colour(px(rgb, W, m + 51, y), 128, 128, 128));
    }
    assert_true(is_colour(px(rgb, W, m + 10, H - m), 0, 0, 0));
    assert_true(is_colour(px(rgb, W, m + 10, H - m + 1), 128, 128, 128));
    /* the label "100 m" sits above the bar: some white in that band */
    int label = 0, north = 0;
    for (int y = top - 20; y < top - 1; y++)
        for (int x = m; x < m + 60; x++)
            label += is_colour(px(rgb, W, x, y), 255, 255, 255);
    for (int y = 0; y < 48; y++)
        for (int x = W - 32; x < W; x++)
            north += is_colour(px(rgb, W, x, y), 255, 255, 255);
    assert_true(label > 40);
    assert_true(north > 60);
    /* the middle of the chip is untouched */
    assert_true(is_colour(px(rgb, W, W / 2, H / 2), 128, 128, 128));
}

/* ---- rw_checklist_write_chips ------------------------------------------ */

static int count_progress(double fraction, const char *message, void *user)
{
    (void)message;
    assert_true(fraction >= 0.0 && fraction <= 1.0);
    (*(int *)user)++;
    return 1;
}

static int cancel_progress(double fraction, const char *message, void *user)
{
    (void)fraction;
    (void)message;
    (void)user;
    return 0;
}

static void test_write_chips(void **state)
{
    (void)state;
    char out[600];
    out_folder(out, sizeof(out), "one");
    const size_t per[] = {1};
    rw_checklist *cl = make_list(1, per);
    rw_error err;
    rw_error_clear(&err);
    int calls = 0;
    assert_int_equal(rw_checklist_write_chips(cl, out, CHIP_M, 2, count_progress, &calls, &err), RW_OK);
    assert_true(calls >= 1);
    char chips[700];
    snprintf(chips, sizeof(chips), "%s/R01_test/chips", out);
    struct stat sb;
    assert_int_equal(stat(chips, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);

    for (int pair = 0; pair < 2; pair++) {
        const rw_chip_kind kb = pair ? RW_CHIP_BEFORE_NRG : RW_CHIP_BEFORE;
        const rw_chip_kind ka = pair ? RW_CHIP_AFTER_NRG : RW_CHIP_AFTER;
        uint8_t *before = read_chip(out, "R01_test", "R01-0001", kb);
        uint8_t *after = read_chip(out, "R01_test", "R01-0001", ka);
        /* the 200 m patch spans chip pixels 106.7..149.3: inside it the
         * dates differ, far outside they agree */
        const double inside = mean_abs_diff(before, after, 114, 114, 142, 142);
        const double outside = mean_abs_diff(before, after, 16, 16, 72, 72);
        assert_true(inside > 60.0);
        assert_true(outside < 3.0);
        /* the outline is on both chips where the ring lies (x = 106.7) */
        assert_true(is_colour(px(before, RW_CHIP_SIZE, 106, 128), 255, 255, 0));
        assert_true(is_colour(px(after, RW_CHIP_SIZE, 107, 128), 255, 255, 0));
        assert_true(is_colour(px(after, RW_CHIP_SIZE, 128, 149), 255, 255, 0));
        assert_false(is_colour(px(after, RW_CHIP_SIZE, 128, 128), 255, 255, 0));
        /* a 200 m scale bar: 43 px of white at the bottom left */
        const int bar_y = RW_CHIP_SIZE - RW_CHIP_MARGIN - 2;
        assert_true(is_colour(px(after, RW_CHIP_SIZE, RW_CHIP_MARGIN + 42, bar_y), 255, 255, 255));
        assert_true(is_colour(px(after, RW_CHIP_SIZE, RW_CHIP_MARGIN + 43, bar_y), 0, 0, 0));
        free(before);
        free(after);
    }
    /* true colour: the bare patch is brighter in every band */
    uint8_t *after = read_chip(out, "R01_test", "R01-0001", RW_CHIP_AFTER);
    const uint8_t *c = px(after, RW_CHIP_SIZE, 128, 128);
    assert_true(c[0] > 200 && c[1] > 200 && c[2] > 200);
    free(after);
    rw_checklist_destroy(cl);
}

static void read_file_bytes(const char *path, uint8_t **buf, long *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *buf = malloc((size_t)*n);
    assert_non_null(*buf);
    assert_int_equal(fread(*buf, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
}

/* A patch at the scene's north-west corner: the chip's part off the
 * scene is black (nodata), the rest is read where it belongs. */
static void test_write_chips_scene_edge(void **state)
{
    (void)state;
    char out[600];
    out_folder(out, sizeof(out), "edge");
    const size_t per[] = {1};
    rw_checklist *cl = make_list(1, per);
    rw_detection *d = &cl->reserves[0].items[0].det;
    free(d->wkb);
    d->wkb = square_wkb(SCENE_X0 + 50, SCENE_Y0 - 150, SCENE_X0 + 150, SCENE_Y0 - 50, &d->wkb_size);
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_write_chips(cl, out, CHIP_M, 1, NULL, NULL, &err), RW_OK);
    uint8_t *after = read_chip(out, "R01_test", "R01-0001", RW_CHIP_AFTER);
    /* chip centre = (x0 + 100 m, y0 - 100 m); 600 m to the west edge is
     * 128 px, of which the first 106.7 px lie west of the scene (and
     * likewise the top 106.7 rows north of it) */
    for (int t = 40; t < 200; t += 20) {
        assert_true(is_colour(px(after, RW_CHIP_SIZE, 104, t), 0, 0, 0));
        assert_true(is_colour(px(after, RW_CHIP_SIZE, t, 104), 0, 0, 0));
    }
    const uint8_t *inside = px(after, RW_CHIP_SIZE, 200, 200);
    assert_true(inside[0] + inside[1] + inside[2] > 0);
    free(after);
    rw_checklist_destroy(cl);
}

/* The same files, byte for byte, with 1 and 4 threads. */
static void test_write_chips_deterministic(void **state)
{
    (void)state;
    char out1[600], out4[600];
    out_folder(out1, sizeof(out1), "t1");
    out_folder(out4, sizeof(out4), "t4");
    const size_t per[] = {3, 2};
    rw_checklist *cl = make_list(2, per);
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_write_chips(cl, out1, CHIP_M, 1, NULL, NULL, &err), RW_OK);
    assert_int_equal(rw_checklist_write_chips(cl, out4, CHIP_M, 4, NULL, NULL, &err), RW_OK);
    for (size_t r = 0; r < cl->nreserves; r++)
        for (size_t i = 0; i < cl->reserves[r].n; i++)
            for (int k = 0; k < RW_CHIP_KIND_COUNT; k++) {
                char rel[256], p1[2048], p4[2048];
                assert_int_equal(rw_checklist_chip_path(cl->reserves[r].items[i].det.id, (rw_chip_kind)k, rel,
                                                        sizeof(rel), &err),
                                 RW_OK);
                snprintf(p1, sizeof(p1), "%s/%s/%s", out1, cl->reserves[r].dir_name, rel);
                snprintf(p4, sizeof(p4), "%s/%s/%s", out4, cl->reserves[r].dir_name, rel);
                uint8_t *a, *b;
                long na, nb;
                read_file_bytes(p1, &a, &na);
                read_file_bytes(p4, &b, &nb);
                assert_int_equal(na, nb);
                assert_memory_equal(a, b, (size_t)na);
                free(a);
                free(b);
                assert_int_equal(access(p1, F_OK), 0);
                char partial[2100];
                snprintf(partial, sizeof(partial), "%s.partial", p1);
                assert_int_not_equal(access(partial, F_OK), 0);
            }
    rw_checklist_destroy(cl);
}

static void test_write_chips_errors(void **state)
{
    (void)state;
    char out[600];
    out_folder(out, sizeof(out), "errors");
    const size_t per[] = {2};
    rw_checklist *cl = make_list(1, per);
    rw_error err;

    /* a missing earlier scene: an io error naming it */
    char *saved = cl->before_scenes[0];
    cl->before_scenes[0] = strdup("/nonexistent/before_20230101.tif");
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_write_chips(cl, out, CHIP_M, 1, NULL, NULL, &err), RW_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent/before_20230101.tif"));
    free(cl->before_scenes[0]);
    cl->before_scenes[0] = saved;

    /* a bad chip size */
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_write_chips(cl, out, 0.0, 1, NULL, NULL, &err), RW_ERR_USAGE);

    /* a broken polygon names the point */
    rw_detection *d = &cl->reserves[0].items[1].det;
    const unsigned char type = d->wkb[1];
    d->wkb[1] = 0x77; /* geometry type 0x..77: not WKB */
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_write_chips(cl, out, CHIP_M, 2, NULL, NULL, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "R01-0002"));
    d->wkb[1] = type;

    /* a progress callback that says stop */
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_write_chips(cl, out, CHIP_M, 1, cancel_progress, NULL, &err),
                     RW_ERR_CANCELLED);
    rw_checklist_destroy(cl);
}

/* ---- set-up ------------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    rw_global_init();
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 32650);
    OSRExportToWkt(srs, &utm_wkt);
    OSRDestroySpatialReference(srs);
    snprintf(after_path, sizeof(after_path), "%s/after_20240815.tif", tmp_dir);
    snprintf(before_path, sizeof(before_path), "%s/before_20230815.tif", tmp_dir);
    write_scene(after_path, 300, 10.0, SCENE_X0, SCENE_Y0, true);
    /* 20 m pixels, shifted 30 m west and north, covering the same ground */
    write_scene(before_path, 160, 20.0, SCENE_X0 - 30.0, SCENE_Y0 + 30.0, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    CPLFree(utm_wkt);
    remove_tree(tmp_dir);
    rw_global_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stretch_shared),
        cmocka_unit_test(test_stretch_nodata),
        cmocka_unit_test(test_outline_position),
        cmocka_unit_test(test_scale_bar_length),
        cmocka_unit_test(test_scale_bar_drawn),
        cmocka_unit_test(test_write_chips),
        cmocka_unit_test(test_write_chips_scene_edge),
        cmocka_unit_test(test_write_chips_deterministic),
        cmocka_unit_test(test_write_chips_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
