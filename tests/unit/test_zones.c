/* Unit tests for src/zones: every test writes its own small vector file
 * (CGCS2000 lon/lat near Poyang Lake, 115.9E 28.7N) into a temporary
 * folder and reads it onto a UTM 50N (EPSG:32650) analysis grid. */
#include "zones.h"

#include <cpl_conv.h>
#include <dirent.h>
#include <gdal.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define PIXEL 30.0  /* analysis grid pixel, metres */
#define MARGIN 20   /* grid pixels around the zones' extent */

static char tmp_dir[] = "/tmp/rw_test_zones_XXXXXX";
static char *target_wkt;                  /* EPSG:32650 */
static OGRCoordinateTransformationH to_utm; /* EPSG:4490 -> EPSG:32650 */

/* ---- writing test layers --------------------------------------------- */

enum { F_ID, F_NAME, F_LEVEL, F_ZONE, F_CITY, F_COUNTY, F_COUNT };

static const char *const default_fields[F_COUNT] = {
    "reserve_id", "name", "level", "zone", "city", "county"};

typedef struct tfeat {
    const char *id;
    const char *zone;
    const char *wkt; /* lon/lat */
    const char *name; /* NULL: a default name */
} tfeat;

typedef struct tlayer {
    const char *driver;               /* NULL: GPKG */
    int epsg;                         /* 0: no CRS */
    const char *const *fields;        /* F_COUNT names, NULL omits; NULL: defaults */
    bool integer_id;
    OGRwkbGeometryType type;          /* 0: wkbUnknown, as mixed layers are */
} tlayer;

static const char *tpath(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmp_dir, name);
    return buf;
}

static void write_layer(const char *path, const tlayer *spec, const tfeat *f,
                        size_t n)
{
    const char *const *names = spec->fields ? spec->fields : default_fields;
    GDALDriverH drv = GDALGetDriverByName(spec->driver ? spec->driver : "GPKG");
    assert_non_null(drv);
    GDALDatasetH ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
    assert_non_null(ds);
    OGRSpatialReferenceH srs = NULL;
    if (spec->epsg != 0) {
        srs = OSRNewSpatialReference(NULL);
        assert_int_equal(OSRImportFromEPSG(srs, spec->epsg), OGRERR_NONE);
    }
    /* Shapefiles default to ISO-8859-1 attributes. */
    char *utf8[] = {"ENCODING=UTF-8", NULL};
    const bool shp = spec->driver && strcmp(spec->driver, "ESRI Shapefile") == 0;
    OGRLayerH layer = GDALDatasetCreateLayer(ds, "zones", srs, spec->type,
                                             shp ? utf8 : NULL);
    assert_non_null(layer);
    for (int i = 0; i < F_COUNT; i++) {
        if (names[i] == NULL)
            continue;
        OGRFieldDefnH fd = OGR_Fld_Create(
            names[i], i == F_ID && spec->integer_id ? OFTInteger : OFTString);
        assert_int_equal(OGR_L_CreateField(layer, fd, TRUE), OGRERR_NONE);
        OGR_Fld_Destroy(fd);
    }
    const char *values[F_COUNT] = {NULL, NULL, "国家级", NULL, "九江市",
                                   "永修县"};
    for (size_t k = 0; k < n; k++) {
        OGRFeatureH feat = OGR_F_Create(OGR_L_GetLayerDefn(layer));
        values[F_ID] = f[k].id;
        values[F_NAME] = f[k].name ? f[k].name : "鄱阳湖国家级自然保护区";
        values[F_ZONE] = f[k].zone;
        for (int i = 0; i < F_COUNT; i++) {
            if (names[i] == NULL)
                continue;
            const int idx = OGR_F_GetFieldIndex(feat, names[i]);
            if (i == F_ID && spec->integer_id)
                OGR_F_SetFieldInteger(feat, idx, atoi(values[i]));
            else
                OGR_F_SetFieldString(feat, idx, values[i]);
        }
        OGRGeometryH g = NULL;
        char *wkt = (char *)f[k].wkt;
        assert_int_equal(OGR_G_CreateFromWkt(&wkt, NULL, &g), OGRERR_NONE);
        OGR_F_SetGeometryDirectly(feat, g);
        assert_int_equal(OGR_L_CreateFeature(layer, feat), OGRERR_NONE);
        OGR_F_Destroy(feat);
    }
    OSRDestroySpatialReference(srs);
    GDALClose(ds);
}

static void write_gpkg(const char *path, const tfeat *f, size_t n)
{
    const tlayer spec = {NULL, 4490, NULL, false, wkbUnknown};
    write_layer(path, &spec, f, n);
}

/* ---- reading back ------------------------------------------------------ */

typedef struct twarnings {
    int count;
    char text[4096];
} twarnings;

static void collect_warning(const char *message, void *user)
{
    twarnings *w = user;
    w->count++;
    const size_t used = strlen(w->text);
    snprintf(w->text + used, sizeof(w->text) - used, "%s\n", message);
}

static rw_zones *open_ok(const char *path, const rw_zones_fields *fields,
                         twarnings *warnings)
{
    rw_error err;
    rw_error_clear(&err);
    rw_zones *z = NULL;
    const rw_status st = rw_zones_open(path, fields, target_wkt, &z,
                                       warnings ? collect_warning : NULL,
                                       warnings, &err);
    if (st != RW_OK)
        fail_msg("%s", err.message);
    assert_non_null(z);
    return z;
}

static rw_status open_fails(const char *path, const rw_zones_fields *fields,
                            rw_error *err)
{
    rw_error_clear(err);
    rw_zones *z = (rw_zones *)1; /* must stay untouched on failure */
    const rw_status st = rw_zones_open(path, fields, target_wkt, &z, NULL,
                                       NULL, err);
    assert_ptr_equal(z, (rw_zones *)1);
    assert_int_equal(err->status, st);
    assert_non_null(strstr(err->message, path));
    assert_null(strchr(err->message, '\n'));
    return st;
}

/* A grid of PIXEL metres covering the zones plus MARGIN pixels, burnt
 * whole. */
typedef struct tgrid {
    double gt[6];
    int w, h;
    uint16_t *reserve;
    uint8_t *zone;
} tgrid;

static void grid_make(const rw_zones *z, tgrid *g)
{
    double env[4];
    rw_zones_extent(z, env);
    const double x0 = floor(env[0] / PIXEL) * PIXEL - MARGIN * PIXEL;
    const double y1 = ceil(env[3] / PIXEL) * PIXEL + MARGIN * PIXEL;
    g->w = (int)ceil((env[2] - x0) / PIXEL) + MARGIN;
    g->h = (int)ceil((y1 - env[1]) / PIXEL) + MARGIN;
    const double gt[6] = {x0, PIXEL, 0, y1, 0, -PIXEL};
    memcpy(g->gt, gt, sizeof(gt));
    g->reserve = calloc((size_t)g->w * g->h, sizeof(*g->reserve));
    g->zone = calloc((size_t)g->w * g->h, sizeof(*g->zone));
    assert_non_null(g->reserve);
    assert_non_null(g->zone);
    rw_error err;
    rw_error_clear(&err);
    const rw_rect all = {0, 0, g->w, g->h};
    assert_int_equal(rw_zones_burn(z, g->gt, all, g->reserve, g->zone, &err),
                     RW_OK);
}

static void grid_free(tgrid *g)
{
    free(g->reserve);
    free(g->zone);
}

/* Grid offset of the pixel whose cell holds lon/lat. */
static size_t grid_at(const tgrid *g, double lon, double lat)
{
    double x = lon, y = lat;
    assert_true(OCTTransform(to_utm, 1, &x, &y, NULL));
    const int col = (int)floor((x - g->gt[0]) / g->gt[1]);
    const int row = (int)floor((y - g->gt[3]) / g->gt[5]);
    assert_true(col >= 0 && col < g->w && row >= 0 && row < g->h);
    return (size_t)row * g->w + col;
}

static int rank_at(const tgrid *g, double lon, double lat)
{
    return g->zone[grid_at(g, lon, lat)];
}

static int reserve_at(const tgrid *g, double lon, double lat)
{
    return g->reserve[grid_at(g, lon, lat)];
}

/* UTM box around lon/lat, half side in metres. */
static void utm_box(double lon, double lat, double half, double env[4])
{
    double x = lon, y = lat;
    assert_true(OCTTransform(to_utm, 1, &x, &y, NULL));
    env[0] = x - half;
    env[1] = y - half;
    env[2] = x + half;
    env[3] = y + half;
}

/* Area in m² of the lon/lat quadrangle [lon0,lon1] x [lat0,lat1] on the
 * CGCS2000 ellipsoid, from the closed form for the area between two
 * parallels (independent of the geodesic code under test):
 * A = b² Δλ / 2 [q(φ1) - q(φ0)], q(φ) = sinφ / (1 - e² sin²φ)
 *     + ln((1 + e sinφ) / (1 - e sinφ)) / (2e). */
static double quad_q(double phi, double e)
{
    const double s = sin(phi);
    return s / (1 - e * e * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
}

static double quad_area(double lon0, double lat0, double lon1, double lat1)
{
    const double a = 6378137.0, f = 1 / 298.257222101;
    const double b = a * (1 - f), e = sqrt(f * (2 - f));
    const double rad = M_PI / 180;
    return b * b * (lon1 - lon0) * rad / 2 *
           (quad_q(lat1 * rad, e) - quad_q(lat0 * rad, e));
}

#define BOX(x0, y0, x1, y1)                                                   \
    "POLYGON((" #x0 " " #y0 "," #x1 " " #y0 "," #x1 " " #y1 "," #x0 " " #y1 \
    "," #x0 " " #y0 "))"

/* Core inside buffer inside experimental. */
static const tfeat nested[] = {
    {"R1", "实验区", BOX(115.90, 28.70, 115.94, 28.74), NULL},
    {"R1", "缓冲区", BOX(115.91, 28.71, 115.93, 28.73), NULL},
    {"R1", "核心区", BOX(115.915, 28.715, 115.925, 28.725), NULL},
};

/* ---- tests ------------------------------------------------------------ */

static void test_rank_names(void **state)
{
    (void)state;
    assert_string_equal(rw_zones_rank_name(RW_ZONE_NONE), "none");
    assert_string_equal(rw_zones_rank_name(RW_ZONE_EXPERIMENTAL),
                        "experimental");
    assert_string_equal(rw_zones_rank_name(RW_ZONE_BUFFER), "buffer");
    assert_string_equal(rw_zones_rank_name(RW_ZONE_CORE), "core");
    assert_string_equal(rw_zones_rank_name((rw_zone_rank)9), "unknown");
}

static void test_nested_strictest_wins(void **state)
{
    (void)state;
    const tlayer spec = {NULL, 4490, NULL, false, wkbPolygon};
    char path[512];
    write_layer(tpath(path, sizeof(path), "nested.gpkg"), &spec, nested, 3);
    twarnings w = {0};
    rw_zones *z = open_ok(path, NULL, &w);
    assert_int_equal(w.count, 0);
    assert_int_equal(rw_zones_reserve_count(z), 1);
    const rw_reserve *r = rw_zones_reserve(z, 0);
    assert_string_equal(r->id, "R1");
    assert_string_equal(r->name, "鄱阳湖国家级自然保护区");
    assert_string_equal(r->level, "国家级");
    assert_string_equal(r->city, "九江市");
    assert_string_equal(r->county, "永修县");
    assert_null(rw_zones_reserve(z, 1));

    tgrid g;
    grid_make(z, &g);
    assert_int_equal(rank_at(&g, 115.920, 28.720), RW_ZONE_CORE);
    assert_int_equal(rank_at(&g, 115.912, 28.720), RW_ZONE_BUFFER);
    assert_int_equal(rank_at(&g, 115.920, 28.728), RW_ZONE_BUFFER);
    assert_int_equal(rank_at(&g, 115.905, 28.720), RW_ZONE_EXPERIMENTAL);
    assert_int_equal(rank_at(&g, 115.920, 28.735), RW_ZONE_EXPERIMENTAL);
    assert_int_equal(rank_at(&g, 115.943, 28.720), RW_ZONE_NONE);
    assert_int_equal(reserve_at(&g, 115.920, 28.720), 1);
    assert_int_equal(reserve_at(&g, 115.905, 28.720), 1);
    assert_int_equal(reserve_at(&g, 115.943, 28.720), 0);
    /* Reserve and zone rasters agree everywhere. */
    size_t counts[RW_ZONE_RANK_COUNT] = {0};
    for (size_t i = 0; i < (size_t)g.w * g.h; i++) {
        assert_int_equal(g.zone[i] != 0, g.reserve[i] != 0);
        counts[g.zone[i]]++;
    }
    /* Pixel counts follow the declared areas (30 m pixels, so within a
     * few percent): core 1 box, buffer 4 - 1, experimental 16 - 4. */
    const double core_px = r->zone_area_m2[RW_ZONE_CORE] / (PIXEL * PIXEL);
    assert_true(fabs(counts[RW_ZONE_CORE] / core_px - 1) < 0.05);
    assert_true(fabs(counts[RW_ZONE_BUFFER] / (3 * core_px) - 1) < 0.05);
    assert_true(fabs(counts[RW_ZONE_EXPERIMENTAL] / (12 * core_px) - 1) < 0.05);
    /* Declared areas are per zone, nested zones not subtracted. */
    assert_true(fabs(r->zone_area_m2[RW_ZONE_BUFFER] /
                         r->zone_area_m2[RW_ZONE_CORE] - 4) < 0.01);
    assert_true(fabs(r->zone_area_m2[RW_ZONE_EXPERIMENTAL] /
                         r->zone_area_m2[RW_ZONE_CORE] - 16) < 0.01);
    assert_true(r->zone_area_m2[RW_ZONE_NONE] == 0.0);
    grid_free(&g);
    rw_zones_destroy(z);
}

/* A reserve's edge pixels: every pixel whose square overlaps the
 * reserve's outline (OGR's own test, on the outline rw_zones_reserve_outline
 * returns) belongs to it, no other does, and the outline has the area of
 * the outermost zone (the union of nested zones). Inside the reserve the
 * zones still follow pixel centres: the core's pixel count stays its area. */
static void test_edge_pixels_touched(void **state)
{
    (void)state;
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "edge.gpkg"), nested, 3);
    rw_zones *z = open_ok(path, NULL, NULL);
    rw_error err;
    rw_error_clear(&err);
    unsigned char *wkb = NULL;
    size_t size = 0;
    assert_int_equal(rw_zones_reserve_outline(z, 0, &wkb, &size, &err), RW_OK);
    OGRGeometryH outline = NULL;
    assert_int_equal(OGR_G_CreateFromWkb(wkb, NULL, &outline, (int)size), OGRERR_NONE);
    assert_true(OGR_G_IsValid(outline));
    tgrid g;
    grid_make(z, &g);
    int edge = 0;
    for (int y = 0; y < g.h; y++)
        for (int x = 0; x < g.w; x++) {
            const double cell[4] = {g.gt[0] + x * PIXEL, g.gt[3] - (y + 1) * PIXEL, g.gt[0] + (x + 1) * PIXEL,
                                    g.gt[3] - y * PIXEL};
            OGRGeometryH box = OGR_G_CreateGeometry(wkbPolygon), ring = OGR_G_CreateGeometry(wkbLinearRing);
            OGR_G_AddPoint_2D(ring, cell[0], cell[1]);
            OGR_G_AddPoint_2D(ring, cell[2], cell[1]);
            OGR_G_AddPoint_2D(ring, cell[2], cell[3]);
            OGR_G_AddPoint_2D(ring, cell[0], cell[3]);
            OGR_G_AddPoint_2D(ring, cell[0], cell[1]);
            OGR_G_AddGeometryDirectly(box, ring);
            OGRGeometryH cut = OGR_G_Intersection(box, outline);
            const double a = cut != NULL ? OGR_G_Area(cut) : 0.0;
            const size_t i = (size_t)y * (size_t)g.w + (size_t)x;
            if (a > 1e-6)
                assert_int_equal(g.reserve[i], 1);
            else if (!OGR_G_Intersects(box, outline))
                assert_int_equal(g.reserve[i], 0);
            edge += a > 1e-6 && a < 0.5 * PIXEL * PIXEL; /* centre outside, most likely */
            OGR_G_DestroyGeometry(cut);
            OGR_G_DestroyGeometry(box);
        }
    assert_true(edge > 100); /* the test did look at edge pixels */
    const rw_reserve *r = rw_zones_reserve(z, 0);
    size_t core = 0;
    for (size_t i = 0; i < (size_t)g.w * g.h; i++)
        core += g.zone[i] == RW_ZONE_CORE;
    assert_true(fabs(core / (r->zone_area_m2[RW_ZONE_CORE] / (PIXEL * PIXEL)) - 1) < 0.03);
    assert_int_equal(z->pieces[0].rank, RW_ZONE_EXPERIMENTAL); /* burn order: the outermost first */
    assert_true(fabs(OGR_G_Area(outline) - OGR_G_Area(z->pieces[0].geom)) < 1e-6 * OGR_G_Area(outline));
    OGR_G_DestroyGeometry(outline);
    free(wkb);
    grid_free(&g);
    rw_zones_destroy(z);
}

/* Burning tile by tile, with odd tile sizes, gives the whole-grid burn:
 * the window geotransform is shifted right. Tiles are burnt from several
 * OpenMP threads at once, and touches() never misses a burnt tile. */
static void test_tiles_match_whole_and_threads(void **state)
{
    (void)state;
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "tiles.gpkg"), nested, 3);
    rw_zones *z = open_ok(path, NULL, NULL);
    tgrid g;
    grid_make(z, &g);
    const int tile_sizes[] = {37, 64, 200};
    for (size_t t = 0; t < sizeof(tile_sizes) / sizeof(tile_sizes[0]); t++) {
        const rw_tiling plan = rw_tiling_make(g.w, g.h, tile_sizes[t]);
        const int ntiles = rw_tiling_count(&plan);
        int mismatches = 0, failures = 0, skipped = 0;
#pragma omp parallel for schedule(dynamic) num_threads(4) \
    reduction(+ : mismatches, failures, skipped)
        for (int i = 0; i < ntiles; i++) {
            const rw_rect win = rw_tiling_rect(&plan, i);
            uint16_t *res = malloc((size_t)win.w * win.h * sizeof(*res));
            uint8_t *zon = malloc((size_t)win.w * win.h);
            rw_error err;
            rw_error_clear(&err);
            if (res == NULL || zon == NULL ||
                rw_zones_burn(z, g.gt, win, res, zon, &err) != RW_OK) {
                failures++;
            } else {
                const double env[4] = {
                    g.gt[0] + win.x * PIXEL, g.gt[3] - (win.y + win.h) * PIXEL,
                    g.gt[0] + (win.x + win.w) * PIXEL, g.gt[3] - win.y * PIXEL};
                const bool touches = rw_zones_touches(z, env);
                bool any = false;
                for (int y = 0; y < win.h; y++)
                    for (int x = 0; x < win.w; x++) {
                        const size_t o = (size_t)(win.y + y) * g.w + win.x + x;
                        const size_t k = (size_t)y * win.w + x;
                        mismatches += res[k] != g.reserve[o] ||
                                      zon[k] != g.zone[o];
                        any = any || zon[k] != 0;
                    }
                failures += any && !touches;
                skipped += !touches;
            }
            free(res);
            free(zon);
        }
        assert_int_equal(failures, 0);
        assert_int_equal(mismatches, 0);
        /* The margin leaves some tiles of 37 pixels clear of every zone. */
        if (tile_sizes[t] == 37)
            assert_true(skipped > 0);
    }
    /* An empty window is a no-op. */
    rw_error err;
    rw_error_clear(&err);
    const rw_rect empty = {3, 3, 0, 5};
    assert_int_equal(rw_zones_burn(z, g.gt, empty, NULL, NULL, &err), RW_OK);
    grid_free(&g);
    rw_zones_destroy(z);
}

static void test_english_values_and_field_names(void **state)
{
    (void)state;
    static const char *const names[F_COUNT] = {"RID", "NAME_CN", "GRADE",
                                               "ZONE_TYPE", NULL, NULL};
    const tfeat feats[] = {
        {"R1", " Experimental\t", BOX(115.90, 28.70, 115.94, 28.74), NULL},
        {"R1", "BUFFER", BOX(115.91, 28.71, 115.93, 28.73), NULL},
        {"R1", "core　", BOX(115.915, 28.715, 115.925, 28.725), NULL},
    };
    const tlayer spec = {NULL, 4490, names, false, wkbUnknown};
    char path[512];
    write_layer(tpath(path, sizeof(path), "english.gpkg"), &spec, feats, 3);
    const rw_zones_fields fields = {NULL, "rid", "name_cn", "grade",
                                    "zone_type", NULL, NULL};
    rw_zones *z = open_ok(path, &fields, NULL);
    const rw_reserve *r = rw_zones_reserve(z, 0);
    assert_string_equal(r->level, "国家级");
    /* Optional fields under their default names may be absent. */
    assert_string_equal(r->city, "");
    assert_string_equal(r->county, "");
    tgrid g;
    grid_make(z, &g);
    assert_int_equal(rank_at(&g, 115.920, 28.720), RW_ZONE_CORE);
    assert_int_equal(rank_at(&g, 115.912, 28.720), RW_ZONE_BUFFER);
    assert_int_equal(rank_at(&g, 115.905, 28.720), RW_ZONE_EXPERIMENTAL);
    grid_free(&g);
    rw_zones_destroy(z);

    /* A field named explicitly must exist, optional or not. */
    const rw_zones_fields city = {NULL, "rid", "name_cn", "grade",
                                  "zone_type", "CITY_CN", NULL};
    rw_error err;
    assert_int_equal(open_fails(path, &city, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "'CITY_CN'"));
}

/* The same zones as GeoJSON (WGS 84) and as a Shapefile. */
static void test_other_formats(void **state)
{
    (void)state;
    const tlayer specs[] = {
        {"GeoJSON", 4326, NULL, false, wkbPolygon},
        {"ESRI Shapefile", 4490, NULL, false, wkbPolygon},
    };
    const char *names[] = {"nested.geojson", "nested.shp"};
    for (size_t i = 0; i < 2; i++) {
        char path[512];
        write_layer(tpath(path, sizeof(path), names[i]), &specs[i], nested, 3);
        rw_zones *z = open_ok(path, NULL, NULL);
        assert_string_equal(rw_zones_reserve(z, 0)->name,
                            "鄱阳湖国家级自然保护区");
        tgrid g;
        grid_make(z, &g);
        assert_int_equal(rank_at(&g, 115.920, 28.720), RW_ZONE_CORE);
        assert_int_equal(rank_at(&g, 115.912, 28.720), RW_ZONE_BUFFER);
        assert_int_equal(rank_at(&g, 115.905, 28.720), RW_ZONE_EXPERIMENTAL);
        grid_free(&g);
        rw_zones_destroy(z);
    }
}

static void test_bowtie_repaired_with_warning(void **state)
{
    (void)state;
    const tfeat feats[] = {
        {"R7", "实验区", BOX(115.99, 28.69, 116.03, 28.73), NULL},
        {"R7", "核心区",
         "POLYGON((116.00 28.70,116.02 28.72,116.02 28.70,116.00 28.72,"
         "116.00 28.70))", NULL},
    };
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "bowtie.gpkg"), feats, 2);
    twarnings w = {0};
    rw_zones *z = open_ok(path, NULL, &w);
    assert_int_equal(w.count, 1);
    assert_non_null(strstr(w.text, path));
    assert_non_null(strstr(w.text, "feature 2 "));
    assert_non_null(strstr(w.text, "reserve R7"));
    assert_non_null(strstr(w.text, "Self-intersection"));
    /* The repair keeps both triangles: half the bounding square. */
    const rw_reserve *r = rw_zones_reserve(z, 0);
    const double square = quad_area(116.00, 28.70, 116.02, 28.72);
    assert_true(fabs(r->zone_area_m2[RW_ZONE_CORE] / square - 0.5) < 0.005);
    tgrid g;
    grid_make(z, &g);
    assert_int_equal(rank_at(&g, 116.003, 28.710), RW_ZONE_CORE);
    assert_int_equal(rank_at(&g, 116.017, 28.710), RW_ZONE_CORE);
    assert_int_equal(rank_at(&g, 116.010, 28.702), RW_ZONE_EXPERIMENTAL);
    assert_int_equal(rank_at(&g, 116.010, 28.718), RW_ZONE_EXPERIMENTAL);
    grid_free(&g);
    rw_zones_destroy(z);
}

static void test_hole_keeps_enclosing_rank(void **state)
{
    (void)state;
    const tfeat feats[] = {
        {"R2", "实验区", BOX(116.10, 28.70, 116.14, 28.74), NULL},
        {"R2", "缓冲区",
         "POLYGON((116.11 28.71,116.13 28.71,116.13 28.73,116.11 28.73,"
         "116.11 28.71),(116.115 28.715,116.125 28.715,116.125 28.725,"
         "116.115 28.725,116.115 28.715))", NULL},
    };
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "hole.gpkg"), feats, 2);
    rw_zones *z = open_ok(path, NULL, NULL);
    tgrid g;
    grid_make(z, &g);
    assert_int_equal(rank_at(&g, 116.120, 28.720), RW_ZONE_EXPERIMENTAL);
    assert_int_equal(rank_at(&g, 116.112, 28.720), RW_ZONE_BUFFER);
    assert_int_equal(rank_at(&g, 116.105, 28.720), RW_ZONE_EXPERIMENTAL);
    assert_int_equal(reserve_at(&g, 116.120, 28.720), 1);
    /* The hole is not part of the buffer's declared area. */
    const rw_reserve *r = rw_zones_reserve(z, 0);
    const double ring = quad_area(116.11, 28.71, 116.13, 28.73) -
                        quad_area(116.115, 28.715, 116.125, 28.725);
    assert_true(fabs(r->zone_area_m2[RW_ZONE_BUFFER] / ring - 1) < 0.001);
    grid_free(&g);
    rw_zones_destroy(z);
}

static const tfeat two_cores[] = {
    {"R3", "核心区",
     "MULTIPOLYGON(((116.20 28.70,116.21 28.70,116.21 28.71,116.20 28.71,"
     "116.20 28.70)),((116.23 28.70,116.24 28.70,116.24 28.71,116.23 28.71,"
     "116.23 28.70)))", NULL},
};

static void test_multipolygon(void **state)
{
    (void)state;
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "multi.gpkg"), two_cores, 1);
    rw_zones *z = open_ok(path, NULL, NULL);
    tgrid g;
    grid_make(z, &g);
    assert_int_equal(rank_at(&g, 116.205, 28.705), RW_ZONE_CORE);
    assert_int_equal(rank_at(&g, 116.235, 28.705), RW_ZONE_CORE);
    assert_int_equal(rank_at(&g, 116.220, 28.705), RW_ZONE_NONE);
    const rw_reserve *r = rw_zones_reserve(z, 0);
    const double one = quad_area(116.20, 28.70, 116.21, 28.71);
    assert_true(fabs(r->zone_area_m2[RW_ZONE_CORE] / (2 * one) - 1) < 0.001);
    grid_free(&g);
    rw_zones_destroy(z);
}

static void test_touches(void **state)
{
    (void)state;
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "touches.gpkg"), two_cores, 1);
    rw_zones *z = open_ok(path, NULL, NULL);
    double env[4];
    utm_box(116.205, 28.705, 100, env); /* inside the first part */
    assert_true(rw_zones_touches(z, env));
    utm_box(116.2105, 28.705, 100, env); /* across its east edge */
    assert_true(rw_zones_touches(z, env));
    /* In the gap: inside the multipolygon's envelope, outside both parts. */
    utm_box(116.220, 28.705, 300, env);
    assert_false(rw_zones_touches(z, env));
    utm_box(116.500, 28.900, 1000, env); /* far away */
    assert_false(rw_zones_touches(z, env));
    double all[4];
    rw_zones_extent(z, all); /* the extent contains every zone */
    assert_true(rw_zones_touches(z, all));
    rw_zones_destroy(z);
}

static void test_geodesic_area(void **state)
{
    (void)state;
    const tfeat feats[] = {
        {"R4", "core", BOX(115.90, 28.70, 115.91, 28.71), NULL},
    };
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "area.gpkg"), feats, 1);
    rw_zones *z = open_ok(path, NULL, NULL);
    const rw_reserve *r = rw_zones_reserve(z, 0);
    const double expected = quad_area(115.90, 28.70, 115.91, 28.71);
    /* About 1.0 km²: 0.01° of longitude is ~977 m here, of latitude ~1109 m. */
    assert_true(expected > 1.07e6 && expected < 1.09e6);
    assert_true(fabs(r->zone_area_m2[RW_ZONE_CORE] / expected - 1) < 0.001);
    assert_true(r->zone_area_m2[RW_ZONE_BUFFER] == 0.0);
    rw_zones_destroy(z);
}

static void test_reserve_order_independent(void **state)
{
    (void)state;
    const tfeat forward[] = {
        {"R2", "实验区", BOX(115.90, 28.70, 115.92, 28.72), "乙保护区"},
        {"R10", "核心区", BOX(115.93, 28.70, 115.95, 28.72), "丙保护区"},
        {"R1", "缓冲区", BOX(115.96, 28.70, 115.98, 28.72), "乙保护区"},
        {"R1", "核心区", BOX(115.965, 28.705, 115.975, 28.715), "甲保护区"},
        /* Overlaps R2 at the same rank: the larger reserve index wins. */
        {"R10", "实验区", BOX(115.91, 28.70, 115.935, 28.72), "丙保护区"},
    };
    tfeat backward[5];
    for (size_t i = 0; i < 5; i++)
        backward[i] = forward[4 - i];
    char pa[512], pb[512];
    write_gpkg(tpath(pa, sizeof(pa), "order_a.gpkg"), forward, 5);
    write_gpkg(tpath(pb, sizeof(pb), "order_b.gpkg"), backward, 5);
    twarnings wa = {0}, wb = {0};
    rw_zones *a = open_ok(pa, NULL, &wa);
    rw_zones *b = open_ok(pb, NULL, &wb);
    const char *ids[] = {"R1", "R10", "R2"};
    assert_int_equal(rw_zones_reserve_count(a), 3);
    assert_int_equal(rw_zones_reserve_count(b), 3);
    for (size_t i = 0; i < 3; i++) {
        const rw_reserve *ra = rw_zones_reserve(a, i);
        const rw_reserve *rb = rw_zones_reserve(b, i);
        assert_string_equal(ra->id, ids[i]);
        assert_memory_equal(ra, rb, sizeof(*ra));
    }
    /* R1's features disagree on the name: the smallest wins, with a
     * warning, whatever the order. */
    assert_string_equal(rw_zones_reserve(a, 0)->name, "乙保护区");
    assert_int_equal(wa.count, 1);
    assert_int_equal(wb.count, 1);
    assert_non_null(strstr(wa.text, "reserve R1"));
    tgrid ga, gb;
    grid_make(a, &ga);
    grid_make(b, &gb);
    assert_int_equal(ga.w, gb.w);
    assert_int_equal(ga.h, gb.h);
    assert_memory_equal(ga.reserve, gb.reserve,
                        (size_t)ga.w * ga.h * sizeof(*ga.reserve));
    assert_memory_equal(ga.zone, gb.zone, (size_t)ga.w * ga.h);
    assert_int_equal(reserve_at(&ga, 115.970, 28.710), 1); /* R1 core */
    assert_int_equal(rank_at(&ga, 115.970, 28.710), RW_ZONE_CORE);
    assert_int_equal(reserve_at(&ga, 115.940, 28.710), 2); /* R10 core */
    assert_int_equal(reserve_at(&ga, 115.905, 28.710), 3); /* R2 */
    assert_int_equal(reserve_at(&ga, 115.915, 28.710), 3); /* R2 over R10 */
    grid_free(&ga);
    grid_free(&gb);
    rw_zones_destroy(a);
    rw_zones_destroy(b);
}

/* More reserves than a byte holds: the reserve raster keeps 16 bits. */
static void test_many_reserves(void **state)
{
    (void)state;
    enum { COLS = 20, ROWS = 15, COUNT = COLS * ROWS };
    tfeat *feats = calloc(COUNT, sizeof(*feats));
    char(*ids)[16] = calloc(COUNT, sizeof(*ids));
    char(*wkts)[160] = calloc(COUNT, sizeof(*wkts));
    assert_true(feats && ids && wkts);
    for (int i = 0; i < COUNT; i++) {
        /* Ids sort in creation order; boxes of 0.004° on a 0.005° grid. */
        const double x = 115.90 + 0.005 * (i % COLS);
        const double y = 28.70 + 0.005 * (i / COLS);
        snprintf(ids[i], sizeof(ids[i]), "N%03d", i);
        snprintf(wkts[i], sizeof(wkts[i]),
                 "POLYGON((%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f,%.3f %.3f))",
                 x, y, x + 0.004, y, x + 0.004, y + 0.004, x, y + 0.004, x, y);
        feats[i] = (tfeat){ids[i], "实验区", wkts[i], NULL};
    }
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "many.gpkg"), feats, COUNT);
    rw_zones *z = open_ok(path, NULL, NULL);
    assert_int_equal(rw_zones_reserve_count(z), COUNT);
    tgrid g;
    grid_make(z, &g);
    for (int i = 0; i < COUNT; i += 37)
        assert_int_equal(reserve_at(&g, 115.902 + 0.005 * (i % COLS),
                                    28.702 + 0.005 * (i / COLS)),
                         i + 1);
    assert_int_equal(reserve_at(&g, 115.902 + 0.005 * (COLS - 1),
                                28.702 + 0.005 * (ROWS - 1)),
                     COUNT);
    grid_free(&g);
    rw_zones_destroy(z);
    free(wkts);
    free(ids);
    free(feats);
}

static void test_integer_ids(void **state)
{
    (void)state;
    const tfeat feats[] = {
        {"9", "核心区", BOX(115.90, 28.70, 115.91, 28.71), NULL},
        {"10", "核心区", BOX(115.92, 28.70, 115.93, 28.71), NULL},
    };
    const tlayer spec = {NULL, 4490, NULL, true, wkbUnknown};
    char path[512];
    write_layer(tpath(path, sizeof(path), "intid.gpkg"), &spec, feats, 2);
    rw_zones *z = open_ok(path, NULL, NULL);
    assert_int_equal(rw_zones_reserve_count(z), 2);
    assert_string_equal(rw_zones_reserve(z, 0)->id, "10"); /* byte order */
    assert_string_equal(rw_zones_reserve(z, 1)->id, "9");
    rw_zones_destroy(z);
}

/* Over-long names are cut at a character boundary with a warning; an
 * over-long reserve id is an error, as cutting could merge reserves. */
static void test_long_values(void **state)
{
    (void)state;
    char name[1 + 100 * 3 + 1] = "a";
    for (int i = 0; i < 100; i++)
        strcat(name, "湖");
    tfeat feats[] = {{"R1", "核心区", BOX(115.90, 28.70, 115.91, 28.71), name}};
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "longname.gpkg"), feats, 1);
    twarnings w = {0};
    rw_zones *z = open_ok(path, NULL, &w);
    assert_int_equal(w.count, 1);
    assert_non_null(strstr(w.text, "name cut to 255 bytes"));
    /* 'a' and 84 whole characters of 3 bytes: the 85th would end at 256. */
    const char *kept = rw_zones_reserve(z, 0)->name;
    assert_int_equal(strlen(kept), 1 + 84 * 3);
    assert_memory_equal(kept, name, 1 + 84 * 3);
    rw_zones_destroy(z);

    char id[80];
    memset(id, 'x', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    feats[0].id = id;
    feats[0].name = NULL;
    write_gpkg(tpath(path, sizeof(path), "longid.gpkg"), feats, 1);
    rw_error err;
    assert_int_equal(open_fails(path, NULL, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "longer than 63 bytes"));
}

/* Level (国家级/省级), city and county are attributes an analyst's layer
 * may lack: the reserves open, with those left empty. */
static void test_optional_fields(void **state)
{
    (void)state;
    static const char *const names[F_COUNT] = {"reserve_id", "name", NULL, "zone", NULL, NULL};
    const tlayer spec = {NULL, 4490, names, false, wkbUnknown};
    char path[512];
    write_layer(tpath(path, sizeof(path), "nolevel.gpkg"), &spec, nested, 1);
    rw_zones *z = open_ok(path, NULL, NULL);
    const rw_reserve *r = rw_zones_reserve(z, 0);
    assert_string_equal(r->id, "R1");
    assert_string_equal(r->level, "");
    assert_string_equal(r->city, "");
    assert_string_equal(r->county, "");
    rw_zones_destroy(z);
}

static void test_missing_zone_field(void **state)
{
    (void)state;
    static const char *const names[F_COUNT] = {"reserve_id", "name", "level",
                                               NULL, "city", "county"};
    const tlayer spec = {NULL, 4490, names, false, wkbUnknown};
    char path[512];
    write_layer(tpath(path, sizeof(path), "nozone.gpkg"), &spec, nested, 1);
    rw_error err;
    assert_int_equal(open_fails(path, NULL, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "'zone'"));
    assert_non_null(strstr(err.message, "reserve_id, name, level, city"));
}

static void test_unknown_zone_value(void **state)
{
    (void)state;
    const tfeat feats[] = {
        {"R1", "核心区", BOX(115.90, 28.70, 115.91, 28.71), NULL},
        {"R1", "核心", BOX(115.92, 28.70, 115.93, 28.71), NULL},
    };
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "badzone.gpkg"), feats, 2);
    rw_error err;
    assert_int_equal(open_fails(path, NULL, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "'核心'"));
    assert_non_null(strstr(err.message, "feature 2 "));
}

static void test_layer_without_crs(void **state)
{
    (void)state;
    const tlayer spec = {"ESRI Shapefile", 0, NULL, false, wkbPolygon};
    char path[512];
    write_layer(tpath(path, sizeof(path), "nocrs.shp"), &spec, nested, 3);
    rw_error err;
    assert_int_equal(open_fails(path, NULL, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "no CRS"));
}

static void test_no_polygon_layer(void **state)
{
    (void)state;
    const tfeat feats[] = {{"R1", "核心区", "POINT(115.90 28.70)", NULL}};
    const tlayer spec = {NULL, 4490, NULL, false, wkbPoint};
    char path[512];
    write_layer(tpath(path, sizeof(path), "points.gpkg"), &spec, feats, 1);
    rw_error err;
    assert_int_equal(open_fails(path, NULL, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "no polygon layer"));
    assert_non_null(strstr(err.message, "zones (Point)"));
}

static void test_missing_file(void **state)
{
    (void)state;
    char path[512];
    rw_error err;
    assert_int_equal(
        open_fails(tpath(path, sizeof(path), "absent.gpkg"), NULL, &err),
        RW_ERR_IO);
}

static void test_no_features(void **state)
{
    (void)state;
    char path[512];
    write_gpkg(tpath(path, sizeof(path), "empty.gpkg"), nested, 0);
    rw_error err;
    assert_int_equal(open_fails(path, NULL, &err), RW_ERR_INPUT);
    assert_non_null(strstr(err.message, "no features"));
}

/* ---- fixture ---------------------------------------------------------- */

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL);
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    if (OSRImportFromEPSG(utm, 32650) != OGRERR_NONE ||
        OSRImportFromEPSG(geo, 4490) != OGRERR_NONE ||
        OSRExportToWkt(utm, &target_wkt) != OGRERR_NONE)
        return -1;
    OSRSetAxisMappingStrategy(utm, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    to_utm = OCTNewCoordinateTransformation(geo, utm);
    OSRDestroySpatialReference(utm);
    OSRDestroySpatialReference(geo);
    return to_utm == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *dir = opendir(tmp_dir);
    if (dir != NULL) {
        struct dirent *e;
        char path[1024];
        while ((e = readdir(dir)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
                unlink(path);
            }
        closedir(dir);
        rmdir(tmp_dir);
    }
    OCTDestroyCoordinateTransformation(to_utm);
    CPLFree(target_wkt);
    GDALDestroyDriverManager();
    OSRCleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_names),
        cmocka_unit_test(test_nested_strictest_wins),
        cmocka_unit_test(test_edge_pixels_touched),
        cmocka_unit_test(test_tiles_match_whole_and_threads),
        cmocka_unit_test(test_english_values_and_field_names),
        cmocka_unit_test(test_other_formats),
        cmocka_unit_test(test_bowtie_repaired_with_warning),
        cmocka_unit_test(test_hole_keeps_enclosing_rank),
        cmocka_unit_test(test_multipolygon),
        cmocka_unit_test(test_touches),
        cmocka_unit_test(test_geodesic_area),
        cmocka_unit_test(test_reserve_order_independent),
        cmocka_unit_test(test_many_reserves),
        cmocka_unit_test(test_integer_ids),
        cmocka_unit_test(test_long_values),
        cmocka_unit_test(test_optional_fields),
        cmocka_unit_test(test_missing_zone_field),
        cmocka_unit_test(test_unknown_zone_value),
        cmocka_unit_test(test_layer_without_crs),
        cmocka_unit_test(test_no_polygon_layer),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_no_features),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
