/* Unit tests of src/scan/scan_halo.c: the halo a tile gets from its
 * neighbours' saved rings equals the pixels around it in the whole
 * raster, for inner, edge and corner tiles and ragged last tiles; a
 * neighbour that was not planned gives no data. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "scan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { W = 50, H = 37, TILE = 16, SCENES = 2 };

static const unsigned MASK = RW_BAND_BIT(RW_BAND_RED) | RW_BAND_BIT(RW_BAND_NIR);

/* A distinct value per scene, band and pixel; QA from the pixel too. */
static float value(int k, int b, int x, int y) { return (float)(k * 100000 + b * 10000 + y * 100 + x); }
static uint8_t flags(int k, int x, int y) { return (uint8_t)((x * 7 + y * 3 + k) & 0xff); }

typedef struct planes {
    float *band[RW_BAND_COUNT];
    uint8_t *qa;
} planes;

/* Buffers of window r filled (fill) with the raster's values, or zeroed. */
static void window_make(rw_rect r, bool fill, planes p[SCENES], scan_window win[SCENES])
{
    const size_t n = (size_t)r.w * (size_t)r.h;
    for (int k = 0; k < SCENES; k++) {
        memset(&p[k], 0, sizeof(p[k]));
        for (int b = 0; b < RW_BAND_COUNT; b++)
            if (MASK & RW_BAND_BIT(b))
                p[k].band[b] = calloc(n, sizeof(float));
        p[k].qa = calloc(n, 1);
        for (size_t i = 0; fill && i < n; i++) {
            const int x = r.x + (int)(i % (size_t)r.w), y = r.y + (int)(i / (size_t)r.w);
            for (int b = 0; b < RW_BAND_COUNT; b++)
                if (p[k].band[b] != NULL)
                    p[k].band[b][i] = value(k, b, x, y);
            p[k].qa[i] = flags(k, x, y);
        }
        for (int b = 0; b < RW_BAND_COUNT; b++)
            win[k].band[b] = p[k].band[b];
        win[k].qa = p[k].qa;
    }
}

static void window_free(planes p[SCENES])
{
    for (int k = 0; k < SCENES; k++) {
        for (int b = 0; b < RW_BAND_COUNT; b++)
            free(p[k].band[b]);
        free(p[k].qa);
    }
}

static void test_halo_equals_neighbours(void **state)
{
    (void)state;
    const rw_tiling g = rw_tiling_make(W, H, TILE);
    const int n = rw_tiling_count(&g);
    assert_int_equal(g.cols, 4);
    assert_int_equal(g.rows, 3);
    uint8_t *planned = malloc((size_t)n);
    memset(planned, 1, (size_t)n);
    planned[3] = 0; /* top-right tile never read */
    rw_error err = {0};
    scan_halo *h = NULL;
    assert_int_equal(scan_halo_create(&g, MASK, SCENES, &h, &err), RW_OK);
    for (int t = 0; t < n; t++) {
        if (!planned[t])
            continue;
        planes p[SCENES];
        scan_window win[SCENES];
        window_make(rw_tiling_rect(&g, t), true, p, win);
        assert_int_equal(scan_halo_save(h, t, win, &err), RW_OK);
        window_free(p);
    }
    const rw_rect grid = {0, 0, W, H};
    int checked = 0, nodata = 0;
    for (int t = 0; t < n; t++) {
        const rw_rect r = rw_tiling_rect(&g, t);
        const rw_rect bw = rw_rect_intersect((rw_rect){r.x - 1, r.y - 1, r.w + 2, r.h + 2}, grid);
        planes p[SCENES];
        scan_window win[SCENES];
        window_make(bw, false, p, win);
        assert_int_equal(scan_halo_load(h, t, planned, bw, win, &err), RW_OK);
        for (int y = bw.y; y < bw.y + bw.h; y++)
            for (int x = bw.x; x < bw.x + bw.w; x++) {
                if (x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h)
                    continue; /* the tile itself is the caller's */
                const size_t i = (size_t)(y - bw.y) * (size_t)bw.w + (size_t)(x - bw.x);
                const int owner = (y / TILE) * g.cols + x / TILE;
                for (int k = 0; k < SCENES; k++) {
                    if (!planned[owner]) {
                        assert_true(isnan(p[k].band[RW_BAND_NIR][i]));
                        assert_int_equal(p[k].qa[i], RW_QA_NODATA);
                        nodata++;
                        continue;
                    }
                    assert_float_equal(p[k].band[RW_BAND_RED][i], value(k, RW_BAND_RED, x, y), 0);
                    assert_float_equal(p[k].band[RW_BAND_NIR][i], value(k, RW_BAND_NIR, x, y), 0);
                    assert_int_equal(p[k].qa[i], flags(k, x, y));
                    checked++;
                }
            }
        window_free(p);
    }
    /* every inner tile edge seen from both sides, corners included */
    assert_true(checked > 2 * SCENES * (2 * W + 2 * H));
    assert_true(nodata > 0);
    scan_halo_destroy(h);
    free(planned);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halo_equals_neighbours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
