/* Unit tests of src/patch: outlines, field points, coordinates, areas and
 * coordinate text. Expected values come from independent paths: GEOS's own
 * union of pixel squares, a flood fill, PROJ's scale factors, the closed
 * form for ellipsoidal cell areas and numbers computed once with cs2cs. */
#include "patch.h"

#include <math.h>
#include <proj.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* UTM 50N, 10 m pixels, near Nanchang (about 115.98E, 28.70N). */
static const double GT_UTM[6] = {400000.0, 10.0, 0.0, 3175000.0, 0.0, -10.0};

typedef struct fixture {
    rw_patch_ctx *ctx;
    GEOSContextHandle_t h;
    PJ_CONTEXT *pc; /* the test's own PROJ objects, for scale factors */
    PJ *utm; /* the UTM 50N projection */
} fixture;

static int setup_utm(void **state)
{
    static fixture f;
    rw_error err = {0};
    if (rw_patch_ctx_create("EPSG:32650", &f.ctx, &err) != RW_OK)
        return -1;
    f.h = rw_patch_ctx_geos(f.ctx);
    f.pc = proj_context_create();
    /* The bare projection: proj_factors on the EPSG CRS would look up its
     * definition in the database on every call. */
    f.utm = proj_create(f.pc, "+proj=utm +zone=50 +ellps=WGS84");
    if (f.utm == NULL)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rw_patch_ctx_destroy(f->ctx);
    proj_destroy(f->utm);
    proj_context_destroy(f->pc);
    return 0;
}

/* Runs of the set cells of a w x h mask placed at pixel (ox, oy). */
static size_t mask_runs(const uint8_t *mask, int w, int h, int ox, int oy,
                        rw_patch_run *runs)
{
    size_t n = 0;
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w;) {
            if (!mask[y * w + x]) {
                x++;
                continue;
            }
            int x1 = x;
            while (x1 < w && mask[y * w + x1])
                x1++;
            runs[n++] = (rw_patch_run){oy + y, ox + x, x1 - x};
            x = x1;
        }
    }
    return n;
}

static size_t mask_count(const uint8_t *mask, int w, int h)
{
    size_t n = 0;
    for (int i = 0; i < w * h; i++)
        n += mask[i] != 0;
    return n;
}

/* 4-connected components of the mask by flood fill. */
static int mask_components(const uint8_t *mask, int w, int h)
{
    int *lab = calloc((size_t)w * h, sizeof(*lab));
    int *stack = malloc((size_t)w * h * sizeof(*stack));
    int count = 0;
    assert_non_null(lab);
    assert_non_null(stack);
    for (int i = 0; i < w * h; i++) {
        if (!mask[i] || lab[i])
            continue;
        count++;
        int top = 0;
        stack[top++] = i;
        lab[i] = count;
        while (top > 0) {
            const int p = stack[--top], x = p % w, y = p / w;
            const int nb[4][2] = {{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}};
            for (int k = 0; k < 4; k++) {
                const int nx = nb[k][0], ny = nb[k][1];
                if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                    continue;
                const int q = ny * w + nx;
                if (mask[q] && !lab[q]) {
                    lab[q] = count;
                    stack[top++] = q;
                }
            }
        }
    }
    free(lab);
    free(stack);
    return count;
}

/* The reference outline: GEOS's union of one square per set cell. */
static GEOSGeometry *mask_union(GEOSContextHandle_t h, const uint8_t *mask,
                                int w, int hgt, int ox, int oy,
                                const double gt[6])
{
    const size_t n = mask_count(mask, w, hgt);
    GEOSGeometry **sq = malloc(n * sizeof(*sq));
    size_t k = 0;
    assert_non_null(sq);
    for (int y = 0; y < hgt; y++) {
        for (int x = 0; x < w; x++) {
            if (!mask[y * w + x])
                continue;
            const double X = ox + x, Y = oy + y;
            const double cx[5] = {X, X + 1, X + 1, X, X};
            const double cy[5] = {Y, Y, Y + 1, Y + 1, Y};
            double buf[10];
            for (int i = 0; i < 5; i++) {
                buf[2 * i] = gt[0] + cx[i] * gt[1] + cy[i] * gt[2];
                buf[2 * i + 1] = gt[3] + cx[i] * gt[4] + cy[i] * gt[5];
            }
            GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, buf, 5, 0, 0);
            GEOSGeometry *ring = GEOSGeom_createLinearRing_r(h, seq);
            sq[k++] = GEOSGeom_createPolygon_r(h, ring, NULL, 0);
        }
    }
    GEOSGeometry *coll =
        GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, sq, (unsigned)n);
    GEOSGeometry *u = GEOSUnaryUnion_r(h, coll);
    GEOSGeom_destroy_r(h, coll);
    free(sq);
    assert_non_null(u);
    return u;
}

/* Areal scale factor of UTM 50N at lon/lat (degrees), from PROJ. */
static double utm_areal_scale(const fixture *f, double lon, double lat)
{
    PJ_FACTORS k = proj_factors(
        f->utm, proj_coord(proj_torad(lon), proj_torad(lat), 0, 0));
    assert_int_equal(proj_errno(f->utm), 0);
    assert_true(k.areal_scale > 0.999 && k.areal_scale < 1.0);
    return k.areal_scale;
}

static GEOSGeometry *polygon_ok(fixture *f, const rw_patch_run *runs, size_t n,
                                const double gt[6])
{
    rw_error err = {0};
    GEOSGeometry *g = NULL;
    assert_int_equal(rw_patch_polygon(f->ctx, runs, n, gt, &g, &err), RW_OK);
    assert_non_null(g);
    assert_int_equal(GEOSisValid_r(f->h, g), 1);
    return g;
}

static bool contains_xy(GEOSContextHandle_t h, const GEOSGeometry *g, double x,
                        double y)
{
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(h, x, y);
    const char r = GEOSContains_r(h, g, p);
    GEOSGeom_destroy_r(h, p);
    return r == 1;
}

static int coord_count(GEOSContextHandle_t h, const GEOSGeometry *g)
{
    return GEOSGetNumCoordinates_r(h, g);
}

static void test_single_pixel(void **state)
{
    fixture *f = *state;
    rw_error err = {0};
    const rw_patch_run run = {5, 7, 1};
    GEOSGeometry *g = polygon_ok(f, &run, 1, GT_UTM);

    GEOSWKTReader *rd = GEOSWKTReader_create_r(f->h);
    GEOSGeometry *want = GEOSWKTReader_read_r(
        f->h, rd,
        "POLYGON((400070 3174950, 400080 3174950, 400080 3174940, "
        "400070 3174940, 400070 3174950))");
    GEOSWKTReader_destroy_r(f->h, rd);
    assert_int_equal(GEOSGeomTypeId_r(f->h, g), GEOS_POLYGON);
    assert_int_equal(coord_count(f->h, g), 5);
    GEOSNormalize_r(f->h, g);
    GEOSNormalize_r(f->h, want);
    assert_int_equal(GEOSEqualsExact_r(f->h, g, want, 0.0), 1);

    /* 100 m² of map area is 100 / areal scale m² on the ellipsoid. */
    double lon, lat, m2;
    assert_int_equal(rw_patch_to_lonlat(f->ctx, 400075, 3174945, &lon, &lat,
                                        &err), RW_OK);
    const double want_m2 = 100.0 / utm_areal_scale(f, lon, lat);
    assert_int_equal(rw_patch_geodesic_area(f->ctx, g, &m2, &err), RW_OK);
    assert_true(fabs(m2 - want_m2) < 1e-6 * want_m2);
    /* The UTM scale near 115.98E (1.02 degrees from the central meridian)
     * is below 1, so the true area is a little larger than 100 m². */
    assert_true(m2 > 100.0 && m2 < 100.2);

    double x, y, r;
    assert_int_equal(rw_patch_interior_point(f->ctx, g, 2.5, &x, &y, &r, &err),
                     RW_OK);
    assert_true(fabs(x - 400075) < 2.5 && fabs(y - 3174945) < 2.5);
    assert_true(r > 2.5 && r <= 5.0);
    GEOSGeom_destroy_r(f->h, want);
    GEOSGeom_destroy_r(f->h, g);
}

static void test_l_shape(void **state)
{
    fixture *f = *state;
    const uint8_t m[9] = {1, 0, 0,
                          1, 0, 0,
                          1, 1, 1};
    rw_patch_run runs[9];
    const size_t n = mask_runs(m, 3, 3, 100, 200, runs);
    GEOSGeometry *g = polygon_ok(f, runs, n, GT_UTM);
    GEOSGeometry *want = mask_union(f->h, m, 3, 3, 100, 200, GT_UTM);
    assert_int_equal(GEOSGeomTypeId_r(f->h, g), GEOS_POLYGON);
    /* Six corners and the closing point: no collinear vertex kept. */
    assert_int_equal(coord_count(f->h, g), 7);
    assert_int_equal(GEOSEquals_r(f->h, g, want), 1);
    double area;
    assert_int_equal(GEOSArea_r(f->h, g, &area), 1);
    assert_true(fabs(area - 500.0) < 1e-6);
    GEOSGeom_destroy_r(f->h, want);
    GEOSGeom_destroy_r(f->h, g);
}

/* An outline as ISO WKB, from WKT read with GEOS itself. */
static unsigned char *outline_wkb(GEOSContextHandle_t h, const char *wkt, size_t *size)
{
    GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
    GEOSWKBWriter *wr = GEOSWKBWriter_create_r(h);
    GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt);
    assert_non_null(g);
    unsigned char *wkb = GEOSWKBWriter_write_r(h, wr, g, size);
    unsigned char *copy = malloc(*size);
    assert_non_null(copy);
    memcpy(copy, wkb, *size);
    GEOSFree_r(h, wkb);
    GEOSGeom_destroy_r(h, g);
    GEOSWKBWriter_destroy_r(h, wr);
    GEOSWKTReader_destroy_r(h, rd);
    return copy;
}

/* A 4 x 4 pixel patch straddling a reserve's edge, drawn 15 m into its
 * second column: clipped, 2.5 of its 4 columns remain (the area inside).
 * A patch inside the outline is left as it is; one that shares only an
 * edge with it leaves nothing with an area. */
static void test_clip_to_outline(void **state)
{
    fixture *f = *state;
    rw_error err = {0};
    size_t size;
    /* x >= 400015: the reserve east of a line through pixel column 1 */
    unsigned char *wkb = outline_wkb(f->h,
                                     "POLYGON((400015 3174000, 401000 3174000, 401000 3175000, "
                                     "400015 3175000, 400015 3174000))",
                                     &size);
    rw_patch_outline *o = NULL;
    assert_int_equal(rw_patch_outline_create(f->ctx, wkb, size, &o, &err), RW_OK);
    const rw_patch_run edge[4] = {{0, 0, 4}, {1, 0, 4}, {2, 0, 4}, {3, 0, 4}};
    GEOSGeometry *g = polygon_ok(f, edge, 4, GT_UTM);
    assert_int_equal(rw_patch_clip(f->ctx, o, &g, &err), RW_OK);
    assert_non_null(g);
    assert_int_equal(GEOSisValid_r(f->h, g), 1);
    double area, minx;
    assert_int_equal(GEOSArea_r(f->h, g, &area), 1);
    assert_true(fabs(area - 1000.0) < 1e-6); /* 25 m x 40 m of the 40 x 40 */
    assert_int_equal(GEOSGeom_getXMin_r(f->h, g, &minx), 1);
    assert_true(fabs(minx - 400015.0) < 1e-9);
    GEOSGeom_destroy_r(f->h, g);

    const rw_patch_run inside[1] = {{5, 10, 3}};
    g = polygon_ok(f, inside, 1, GT_UTM);
    const GEOSGeometry *before = g;
    assert_int_equal(rw_patch_clip(f->ctx, o, &g, &err), RW_OK);
    assert_ptr_equal(g, before);
    GEOSGeom_destroy_r(f->h, g);

    /* an outline along x = 400010: a pixel of column 0 shares only its
     * east edge with it */
    rw_patch_outline_destroy(f->ctx, o);
    free(wkb);
    wkb = outline_wkb(f->h,
                      "POLYGON((400010 3174000, 401000 3174000, 401000 3175000, "
                      "400010 3175000, 400010 3174000))",
                      &size);
    assert_int_equal(rw_patch_outline_create(f->ctx, wkb, size, &o, &err), RW_OK);
    const rw_patch_run west[1] = {{2, 0, 1}};
    g = polygon_ok(f, west, 1, GT_UTM);
    assert_int_equal(rw_patch_clip(f->ctx, o, &g, &err), RW_OK);
    assert_null(g);
    rw_patch_outline_destroy(f->ctx, o);
    free(wkb);
}

static void test_runs_split_at_tile_edge(void **state)
{
    fixture *f = *state;
    /* One 8-cell row cut in two by a tile edge, above a full row. */
    const rw_patch_run split[3] = {{10, 0, 5}, {10, 5, 3}, {11, 0, 8}};
    const rw_patch_run whole[2] = {{10, 0, 8}, {11, 0, 8}};
    GEOSGeometry *a = polygon_ok(f, split, 3, GT_UTM);
    GEOSGeometry *b = polygon_ok(f, whole, 2, GT_UTM);
    assert_int_equal(coord_count(f->h, a), 5);
    assert_int_equal(GEOSEqualsExact_r(f->h, a, b, 0.0), 1);
    GEOSGeom_destroy_r(f->h, a);
    GEOSGeom_destroy_r(f->h, b);
}

static void test_hole(void **state)
{
    fixture *f = *state;
    rw_error err = {0};
    uint8_t m[25];
    memset(m, 1, sizeof(m));
    m[12] = 0; /* centre */
    rw_patch_run runs[25];
    const size_t n = mask_runs(m, 5, 5, 40, 60, runs);
    GEOSGeometry *g = polygon_ok(f, runs, n, GT_UTM);
    assert_int_equal(GEOSGeomTypeId_r(f->h, g), GEOS_POLYGON);
    assert_int_equal(GEOSGetNumInteriorRings_r(f->h, g), 1);
    double area;
    assert_int_equal(GEOSArea_r(f->h, g, &area), 1);
    assert_true(fabs(area - 2400.0) < 1e-6);

    double lon, lat, m2;
    assert_int_equal(rw_patch_to_lonlat(f->ctx, 400425, 3174375, &lon, &lat,
                                        &err), RW_OK);
    const double want_m2 = 2400.0 / utm_areal_scale(f, lon, lat);
    assert_int_equal(rw_patch_geodesic_area(f->ctx, g, &m2, &err), RW_OK);
    assert_true(fabs(m2 - want_m2) < 1e-6 * want_m2);

    double x, y, r;
    assert_int_equal(rw_patch_interior_point(f->ctx, g, 2.5, &x, &y, &r, &err),
                     RW_OK);
    assert_true(contains_xy(f->h, g, x, y));
    /* Not in the hole: the hole cell is x 400420..400430, y 3174370..80. */
    assert_false(x > 400420 && x < 400430 && y > 3174370 && y < 3174380);
    GEOSGeom_destroy_r(f->h, g);
}

static void test_diagonal_pixels(void **state)
{
    fixture *f = *state;
    const rw_patch_run runs[2] = {{0, 0, 1}, {1, 1, 1}};
    GEOSGeometry *g = polygon_ok(f, runs, 2, GT_UTM);
    assert_int_equal(GEOSGeomTypeId_r(f->h, g), GEOS_MULTIPOLYGON);
    assert_int_equal(GEOSGetNumGeometries_r(f->h, g), 2);
    double area;
    assert_int_equal(GEOSArea_r(f->h, g, &area), 1);
    assert_true(fabs(area - 200.0) < 1e-9);
    GEOSGeom_destroy_r(f->h, g);
}

static void test_hole_touching_shell(void **state)
{
    fixture *f = *state;
    /* The empty centre meets the empty top-left cell at a corner: one
     * polygon whose hole touches its shell at a point. */
    const uint8_t m[9] = {0, 1, 1,
                          1, 0, 1,
                          1, 1, 1};
    rw_patch_run runs[9];
    const size_t n = mask_runs(m, 3, 3, 0, 0, runs);
    GEOSGeometry *g = polygon_ok(f, runs, n, GT_UTM);
    GEOSGeometry *want = mask_union(f->h, m, 3, 3, 0, 0, GT_UTM);
    assert_int_equal(GEOSGeomTypeId_r(f->h, g), GEOS_POLYGON);
    assert_int_equal(GEOSGetNumInteriorRings_r(f->h, g), 1);
    assert_int_equal(GEOSEquals_r(f->h, g, want), 1);
    GEOSGeom_destroy_r(f->h, want);
    GEOSGeom_destroy_r(f->h, g);
}

static void test_island_in_hole(void **state)
{
    fixture *f = *state;
    uint8_t m[25];
    memset(m, 0, sizeof(m));
    for (int i = 0; i < 5; i++)
        m[i] = m[20 + i] = m[5 * i] = m[5 * i + 4] = 1;
    m[12] = 1;
    rw_patch_run runs[25];
    const size_t n = mask_runs(m, 5, 5, 0, 0, runs);
    GEOSGeometry *g = polygon_ok(f, runs, n, GT_UTM);
    assert_int_equal(GEOSGeomTypeId_r(f->h, g), GEOS_MULTIPOLYGON);
    assert_int_equal(GEOSGetNumGeometries_r(f->h, g), 2);
    const GEOSGeometry *frame = GEOSGetGeometryN_r(f->h, g, 0);
    assert_int_equal(GEOSGetNumInteriorRings_r(f->h, frame), 1);
    GEOSGeom_destroy_r(f->h, g);
}

static void test_c_shape(void **state)
{
    fixture *f = *state;
    rw_error err = {0};
    const uint8_t m[25] = {1, 1, 1, 1, 1,
                           1, 0, 0, 0, 0,
                           1, 0, 0, 0, 0,
                           1, 0, 0, 0, 0,
                           1, 1, 1, 1, 1};
    rw_patch_run runs[25];
    const size_t n = mask_runs(m, 5, 5, 0, 0, runs);
    GEOSGeometry *g = polygon_ok(f, runs, n, GT_UTM);
    GEOSGeometry *c = GEOSGetCentroid_r(f->h, g);
    double cx, cy;
    assert_int_equal(GEOSGeomGetX_r(f->h, c, &cx), 1);
    assert_int_equal(GEOSGeomGetY_r(f->h, c, &cy), 1);
    assert_false(contains_xy(f->h, g, cx, cy));
    double x, y, r;
    assert_int_equal(rw_patch_interior_point(f->ctx, g, 2.5, &x, &y, &r, &err),
                     RW_OK);
    assert_true(contains_xy(f->h, g, x, y));
    GEOSGeom_destroy_r(f->h, c);
    GEOSGeom_destroy_r(f->h, g);
}

static void test_rows_with_gap(void **state)
{
    fixture *f = *state;
    /* Rows 3 and 5 share columns but not a row: two polygons. */
    const rw_patch_run runs[2] = {{3, 0, 4}, {5, 0, 4}};
    GEOSGeometry *g = polygon_ok(f, runs, 2, GT_UTM);
    assert_int_equal(GEOSGetNumGeometries_r(f->h, g), 2);
    GEOSGeom_destroy_r(f->h, g);
}

/* Smoothed random field thresholded: lumpy blobs with holes, islands and
 * corner contacts. */
static void random_mask(uint64_t seed, int w, int h, uint8_t *mask)
{
    double *v = malloc((size_t)w * h * sizeof(*v));
    assert_non_null(v);
    for (int i = 0; i < w * h; i++)
        v[i] = rw_hash_unit(seed, (uint64_t)i);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            double s = 0.0;
            int k = 0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int nx = x + dx, ny = y + dy;
                    if (nx >= 0 && ny >= 0 && nx < w && ny < h) {
                        s += v[ny * w + nx];
                        k++;
                    }
                }
            mask[y * w + x] = s / k > 0.5 - 0.1 * rw_hash_unit(seed + 1, 0);
        }
    }
    free(v);
}

static void test_random_blobs(void **state)
{
    fixture *f = *state;
    enum { W = 32, H = 28 };
    uint8_t m[W * H];
    rw_patch_run runs[W * H];
    rw_error err = {0};
    for (uint64_t seed = 1; seed <= 50; seed++) {
        random_mask(seed * 7919, W, H, m);
        const size_t n = mask_runs(m, W, H, 300, 400, runs);
        if (n == 0)
            continue;
        GEOSGeometry *g = polygon_ok(f, runs, n, GT_UTM);
        GEOSGeometry *want = mask_union(f->h, m, W, H, 300, 400, GT_UTM);
        assert_int_equal(GEOSEquals_r(f->h, g, want), 1);
        assert_int_equal(GEOSGetNumGeometries_r(f->h, g),
                         mask_components(m, W, H));

        const double cells = (double)mask_count(m, W, H);
        double area, lon, lat, m2;
        assert_int_equal(GEOSArea_r(f->h, g, &area), 1);
        assert_true(fabs(area - 100.0 * cells) < 1e-6);
        const double mx = GT_UTM[0] + (300 + W / 2.0) * 10.0;
        const double my = GT_UTM[3] - (400 + H / 2.0) * 10.0;
        assert_int_equal(rw_patch_to_lonlat(f->ctx, mx, my, &lon, &lat, &err),
                         RW_OK);
        const double want_m2 = 100.0 * cells / utm_areal_scale(f, lon, lat);
        assert_int_equal(rw_patch_geodesic_area(f->ctx, g, &m2, &err), RW_OK);
        assert_true(fabs(m2 - want_m2) < 1e-5 * want_m2);

        double x, y, r;
        assert_int_equal(
            rw_patch_interior_point(f->ctx, g, 2.5, &x, &y, &r, &err), RW_OK);
        assert_true(contains_xy(f->h, g, x, y));
        /* In the largest part. */
        double best = -1.0;
        const GEOSGeometry *largest = NULL;
        for (int i = 0; i < GEOSGetNumGeometries_r(f->h, g); i++) {
            const GEOSGeometry *p = GEOSGetGeometryN_r(f->h, g, i);
            double a;
            GEOSArea_r(f->h, p, &a);
            if (a > best) {
                best = a;
                largest = p;
            }
        }
        assert_true(contains_xy(f->h, largest, x, y));
        assert_true(r >= 5.0 - 2.5);
        GEOSGeom_destroy_r(f->h, want);
        GEOSGeom_destroy_r(f->h, g);
    }
}

static void test_south_up_geotransform(void **state)
{
    fixture *f = *state;
    /* Rows growing northwards flip ring orientation; still valid. */
    const double gt[6] = {400000.0, 10.0, 0.0, 3170000.0, 0.0, 10.0};
    uint8_t m[25];
    memset(m, 1, sizeof(m));
    m[12] = 0;
    m[0] = 0;
    m[6] = 0;
    rw_patch_run runs[25];
    const size_t n = mask_runs(m, 5, 5, 0, 0, runs);
    GEOSGeometry *g = polygon_ok(f, runs, n, gt);
    GEOSGeometry *want = mask_union(f->h, m, 5, 5, 0, 0, gt);
    assert_int_equal(GEOSEquals_r(f->h, g, want), 1);
    GEOSGeom_destroy_r(f->h, want);
    GEOSGeom_destroy_r(f->h, g);
}

/* A disk of radius 500 cells with 40 round holes: the size the outline
 * must handle quickly. */
static void test_large_blob(void **state)
{
    fixture *f = *state;
    enum { S = 1000 };
    rw_error err = {0};
    uint8_t *m = calloc((size_t)S * S, 1);
    rw_patch_run *runs = malloc((size_t)S * S * sizeof(*runs));
    assert_non_null(m);
    assert_non_null(runs);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            const double dx = x + 0.5 - S / 2.0, dy = y + 0.5 - S / 2.0;
            m[y * S + x] = dx * dx + dy * dy < (S / 2.0) * (S / 2.0);
        }
    for (int k = 0; k < 40; k++) {
        const int cx = 250 + (int)(500 * rw_hash_unit(3, 2 * k));
        const int cy = 250 + (int)(500 * rw_hash_unit(3, 2 * k + 1));
        const int rad = 5 + k;
        for (int y = cy - rad; y <= cy + rad; y++)
            for (int x = cx - rad; x <= cx + rad; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= rad * rad)
                    m[y * S + x] = 0;
    }
    const size_t n = mask_runs(m, S, S, 0, 0, runs);
    GEOSGeometry *g = polygon_ok(f, runs, n, GT_UTM);
    double area;
    assert_int_equal(GEOSArea_r(f->h, g, &area), 1);
    assert_true(fabs(area - 100.0 * (double)mask_count(m, S, S)) < 1e-3);
    double x, y, r;
    assert_int_equal(rw_patch_interior_point(f->ctx, g, 2.5, &x, &y, &r, &err),
                     RW_OK);
    assert_true(contains_xy(f->h, g, x, y));
    GEOSGeom_destroy_r(f->h, g);
    free(runs);
    free(m);
}

static void test_bad_runs(void **state)
{
    fixture *f = *state;
    GEOSGeometry *g = NULL;
    const rw_patch_run unsorted[2] = {{5, 0, 2}, {4, 0, 2}};
    const rw_patch_run overlap[2] = {{5, 0, 3}, {5, 2, 2}};
    const rw_patch_run empty_run[1] = {{5, 0, 0}};
    const struct {
        const rw_patch_run *runs;
        size_t n;
    } cases[] = {{unsorted, 2}, {overlap, 2}, {empty_run, 1}, {unsorted, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rw_error err = {0};
        assert_int_equal(rw_patch_polygon(f->ctx, cases[i].runs, cases[i].n,
                                          GT_UTM, &g, &err),
                         RW_ERR_USAGE);
        assert_int_equal(err.status, RW_ERR_USAGE);
        assert_null(g);
    }
    rw_error err = {0};
    const double flat[6] = {0, 10, 0, 0, 0, 0};
    assert_int_equal(rw_patch_polygon(f->ctx, unsorted, 1, flat, &g, &err),
                     RW_ERR_USAGE);
}

static void test_bad_geometry_args(void **state)
{
    fixture *f = *state;
    rw_error err = {0};
    double x, y, r, m2;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(f->h, 1, 2);
    assert_int_equal(rw_patch_interior_point(f->ctx, pt, 1.0, &x, &y, &r, &err),
                     RW_ERR_USAGE);
    rw_error_clear(&err);
    assert_int_equal(rw_patch_geodesic_area(f->ctx, pt, &m2, &err),
                     RW_ERR_USAGE);
    const rw_patch_run run = {0, 0, 1};
    GEOSGeometry *g = polygon_ok(f, &run, 1, GT_UTM);
    rw_error_clear(&err);
    assert_int_equal(rw_patch_interior_point(f->ctx, g, 0.0, &x, &y, &r, &err),
                     RW_ERR_USAGE);
    GEOSGeom_destroy_r(f->h, g);
    GEOSGeom_destroy_r(f->h, pt);
}

static void test_bad_crs(void **state)
{
    (void)state;
    rw_error err = {0};
    rw_patch_ctx *ctx = NULL;
    assert_int_equal(rw_patch_ctx_create("EPSG:999999", &ctx, &err),
                     RW_ERR_USAGE);
    assert_null(ctx);
    rw_patch_ctx_destroy(NULL);
}

/* Expected values from cs2cs (PROJ 9.1.1), which prints EPSG:4490 as
 * latitude then longitude:
 *   echo "400000 3175000" | cs2cs -f %.12f EPSG:32650 EPSG:4490
 *   28.698393809617  115.976292454571
 *   echo "3175000 600000" | cs2cs -f %.12f EPSG:4547 EPSG:4490
 *   28.686935239647  115.023186649910   (input northing, easting) */
static void test_lonlat_axis_order(void **state)
{
    (void)state;
    const struct {
        const char *crs;
        double x, y, lon, lat;
    } cases[] = {
        {"EPSG:32650", 400000, 3175000, 115.976292454571, 28.698393809617},
        {"EPSG:4547", 600000, 3175000, 115.023186649910, 28.686935239647},
        {"EPSG:4490", 115.5, 28.25, 115.5, 28.25},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rw_error err = {0};
        rw_patch_ctx *ctx = NULL;
        double lon, lat;
        assert_int_equal(rw_patch_ctx_create(cases[i].crs, &ctx, &err), RW_OK);
        assert_int_equal(rw_patch_to_lonlat(ctx, cases[i].x, cases[i].y, &lon,
                                            &lat, &err),
                         RW_OK);
        assert_true(fabs(lon - cases[i].lon) < 1e-7);
        assert_true(fabs(lat - cases[i].lat) < 1e-7);
        rw_patch_ctx_destroy(ctx);
    }
}

static void test_wkt_crs(void **state)
{
    (void)state;
    rw_error err = {0};
    PJ_CONTEXT *pc = proj_context_create();
    PJ *crs = proj_create(pc, "EPSG:32650");
    const char *wkt = proj_as_wkt(pc, crs, PJ_WKT1_GDAL, NULL);
    assert_non_null(wkt);
    rw_patch_ctx *ctx = NULL;
    double lon, lat;
    assert_int_equal(rw_patch_ctx_create(wkt, &ctx, &err), RW_OK);
    assert_int_equal(rw_patch_to_lonlat(ctx, 400000, 3175000, &lon, &lat, &err),
                     RW_OK);
    assert_true(fabs(lon - 115.976292454571) < 1e-7);
    assert_true(fabs(lat - 28.698393809617) < 1e-7);
    rw_patch_ctx_destroy(ctx);
    proj_destroy(crs);
    proj_context_destroy(pc);
}

/* Area of the ellipsoidal cell between two parallels and two meridians
 * (closed form on the CGCS2000 ellipsoid), degrees in, m² out. */
static double cell_area(double lon0, double lon1, double lat0, double lat1)
{
    const double a = 6378137.0, fl = 1.0 / 298.257222101;
    const double e2 = fl * (2 - fl), e = sqrt(e2), b = a * (1 - fl);
    const double rad = M_PI / 180.0;
    double q[2];
    const double lats[2] = {lat0, lat1};
    for (int i = 0; i < 2; i++) {
        const double s = sin(lats[i] * rad);
        q[i] = s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
    }
    return fabs(b * b * (lon1 - lon0) * rad / 2.0 * (q[1] - q[0]));
}

static void test_geographic_grid(void **state)
{
    (void)state;
    rw_error err = {0};
    rw_patch_ctx *ctx = NULL;
    assert_int_equal(rw_patch_ctx_create("EPSG:4490", &ctx, &err), RW_OK);
    GEOSContextHandle_t h = rw_patch_ctx_geos(ctx);

    /* 1e-4 degree cells (about 10 m): an L of 5 cells. */
    const double gt[6] = {115.0, 1e-4, 0.0, 29.0, 0.0, -1e-4};
    const uint8_t m[9] = {1, 0, 0, 1, 0, 0, 1, 1, 1};
    rw_patch_run runs[9];
    const size_t n = mask_runs(m, 3, 3, 10, 20, runs);
    GEOSGeometry *g = NULL;
    assert_int_equal(rw_patch_polygon(ctx, runs, n, gt, &g, &err), RW_OK);
    assert_int_equal(GEOSisValid_r(h, g), 1);
    double want = 0.0, m2;
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 3; x++)
            if (m[y * 3 + x])
                want += cell_area(115.0 + (10 + x) * 1e-4,
                                  115.0 + (11 + x) * 1e-4,
                                  29.0 - (20 + y) * 1e-4,
                                  29.0 - (21 + y) * 1e-4);
    assert_int_equal(rw_patch_geodesic_area(ctx, g, &m2, &err), RW_OK);
    assert_true(fabs(m2 - want) < 1e-6 * want);
    double x, y, r;
    assert_int_equal(rw_patch_interior_point(ctx, g, 2.5e-5, &x, &y, &r, &err),
                     RW_OK);
    assert_true(contains_xy(h, g, x, y));
    GEOSGeom_destroy_r(h, g);

    /* A 0.2 degree cell: its edges follow parallels, which only the
     * densified outline tracks (4e-11 off; a bare 4-vertex geodesic ring
     * is 3e-7 off). */
    const double big[6] = {115.0, 0.2, 0.0, 29.0, 0.0, -0.2};
    const rw_patch_run one = {0, 0, 1};
    assert_int_equal(rw_patch_polygon(ctx, &one, 1, big, &g, &err), RW_OK);
    want = cell_area(115.0, 115.2, 28.8, 29.0);
    assert_int_equal(rw_patch_geodesic_area(ctx, g, &m2, &err), RW_OK);
    assert_true(fabs(m2 - want) < 1e-9 * want);
    GEOSGeom_destroy_r(h, g);
    rw_patch_ctx_destroy(ctx);
}

static void test_area_units(void **state)
{
    (void)state;
    assert_true(fabs(rw_patch_area_mu(10000.0) - 15.0) < 1e-12);
    assert_true(fabs(rw_patch_area_mu(666.67) - 1.00000500) < 1e-6);
    assert_true(fabs(rw_patch_area_ha(25000.0) - 2.5) < 1e-12);
}

static void test_format_deg(void **state)
{
    (void)state;
    const struct {
        double v;
        const char *want;
    } cases[] = {
        {115.12345678, "115.123457"}, {28.5, "28.500000"},
        {-0.5, "-0.500000"},          {-0.0000001, "0.000000"},
        {115.9999999, "116.000000"},  {0.0, "0.000000"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rw_error err = {0};
        char buf[RW_PATCH_DEG_SIZE];
        assert_int_equal(rw_patch_format_deg(cases[i].v, buf, sizeof(buf), &err),
                         RW_OK);
        assert_string_equal(buf, cases[i].want);
    }
    rw_error err = {0};
    char small[6];
    assert_int_equal(rw_patch_format_deg(115.0, small, sizeof(small), &err),
                     RW_ERR_USAGE);
    rw_error_clear(&err);
    assert_int_equal(rw_patch_format_deg(NAN, small, sizeof(small), &err),
                     RW_ERR_USAGE);
}

static void test_format_dms(void **state)
{
    (void)state;
    const struct {
        double v;
        bool is_lon;
        const char *want;
    } cases[] = {
        {115.62, true, "115°37′12.00″E"},
        {115.0 + 37.0 / 60 + 12.34 / 3600, true, "115°37′12.34″E"},
        {28.0 + 5.0 / 60 + 6.78 / 3600, false, "28°05′06.78″N"},
        /* Rounding carries through seconds, minutes and degrees. */
        {115.9999999, true, "116°00′00.00″E"},
        {28.0 + 59.0 / 60 + 59.996 / 3600, false, "29°00′00.00″N"},
        {28.0 + 4.0 / 60 + 59.996 / 3600, false, "28°05′00.00″N"},
        {28.0 + 59.0 / 60 + 59.994 / 3600, false, "28°59′59.99″N"},
        {-77.5, true, "77°30′00.00″W"},
        {-33.25, false, "33°15′00.00″S"},
        {-0.000000001, true, "0°00′00.00″E"},
        {0.0, false, "0°00′00.00″N"},
        {180.0, true, "180°00′00.00″E"},
        {-90.0, false, "90°00′00.00″S"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rw_error err = {0};
        char buf[RW_PATCH_DMS_SIZE];
        assert_int_equal(rw_patch_format_dms(cases[i].v, cases[i].is_lon, buf,
                                             sizeof(buf), &err),
                         RW_OK);
        assert_string_equal(buf, cases[i].want);
    }
    const struct {
        double v;
        bool is_lon;
    } bad[] = {{180.5, true}, {-90.01, false}, {NAN, true}, {INFINITY, false}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        rw_error err = {0};
        char buf[RW_PATCH_DMS_SIZE];
        assert_int_equal(
            rw_patch_format_dms(bad[i].v, bad[i].is_lon, buf, sizeof(buf), &err),
            RW_ERR_USAGE);
    }
    rw_error err = {0};
    char small[10];
    assert_int_equal(rw_patch_format_dms(115.5, true, small, sizeof(small), &err),
                     RW_ERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest geom[] = {
        cmocka_unit_test(test_single_pixel),
        cmocka_unit_test(test_l_shape),
        cmocka_unit_test(test_runs_split_at_tile_edge),
        cmocka_unit_test(test_clip_to_outline),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_diagonal_pixels),
        cmocka_unit_test(test_hole_touching_shell),
        cmocka_unit_test(test_island_in_hole),
        cmocka_unit_test(test_c_shape),
        cmocka_unit_test(test_rows_with_gap),
        cmocka_unit_test(test_random_blobs),
        cmocka_unit_test(test_south_up_geotransform),
        cmocka_unit_test(test_large_blob),
        cmocka_unit_test(test_bad_runs),
        cmocka_unit_test(test_bad_geometry_args),
    };
    const struct CMUnitTest coord[] = {
        cmocka_unit_test(test_bad_crs),
        cmocka_unit_test(test_lonlat_axis_order),
        cmocka_unit_test(test_wkt_crs),
        cmocka_unit_test(test_geographic_grid),
        cmocka_unit_test(test_area_units),
        cmocka_unit_test(test_format_deg),
        cmocka_unit_test(test_format_dms),
    };
    int failed = cmocka_run_group_tests_name("patch_geom", geom, setup_utm,
                                             teardown);
    failed += cmocka_run_group_tests_name("patch_coord", coord, NULL, NULL);
    return failed ? 1 : 0;
}
