/* Unit tests for the check-list point files (checklist_gps.c: points.csv,
 * points.kml, points.gpx, points_ovital.txt) and report.html
 * (checklist_report.c). A list is built in memory: reserve R01 with two
 * points near Poyang Lake (patches are squares in UTM 50N, EPSG:32650) and
 * a name holding "<&>", reserve R02 with none. The writers run once per
 * test on a fresh folder; files are read back with OGR and as text. */
#include "test_fs.h"
#include "checklist.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <dirent.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define BOM "\xEF\xBB\xBF"
#define CSV_HEADER                                                            \
    "序号,点位编号,保护区名称,功能区,问题类型,变化类型,经度,纬度,"           \
    "经度(度分秒),纬度(度分秒),面积(平方米),面积(亩),面积(公顷),前时相,"    \
    "后时相,判定依据,置信度,状态,所在市,所在县(区)\r\n"
#define RESERVE_NAME "鄱阳湖<&>保护区"
#define RESERVE_NAME_XML "鄱阳湖&lt;&amp;&gt;保护区"
#define EMPTY_MESSAGE "本期未发现需核查的点位"
#define HALF_SIDE_M 40.0 /* the patch squares: 80 m x 80 m */
#define PNG_B64_SIG "data:image/png;base64,iVBORw0KGgo"

static const char *const out_files[] = {"points.csv", "points.kml",
                                        "points.gpx", "points_ovital.txt",
                                        "report.html"};
#define NOUT (sizeof(out_files) / sizeof(out_files[0]))

/* The two points: lon/lat with 6 decimals, as read back from the
 * GeoPackage; trailing zeros so "%.6f" and "%g" differ. */
typedef struct tpoint {
    const char *id;
    int category; /* rw_category_key index */
    const char *zone_key, *zone, *status, *basis, *county, *lon_dms;
    double lon, lat;
} tpoint;

static const tpoint points[] = {
    {"R01-0001", 0, "core", "核心区", "new", "植被变为高亮裸岩裸土", "永修县",
     "116°17′24.36″E", 116.290100, 28.990400},
    {"R01-0002", 2, "buffer", "缓冲区", "expanded",
     "=HYPERLINK(\"x\",\"y\")", "@都昌县", "116°18′36.00″E", 116.310000,
     29.010000},
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

typedef struct fixture {
    char root[64];
    char dir[2][128]; /* R01, R02 */
    rw_checklist *cl;
    double bounds[NPOINTS][4]; /* expected patch lon/lat min x, max x, min y, max y */
} fixture;

/* ---- helpers ---------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    const long n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static char *slurp_in(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return slurp(path, NULL);
}

static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static OGRCoordinateTransformationH make_ct(int from, int to)
{
    OGRSpatialReferenceH a = OSRNewSpatialReference(NULL);
    OGRSpatialReferenceH b = OSRNewSpatialReference(NULL);
    assert_int_equal(OSRImportFromEPSG(a, from), OGRERR_NONE);
    assert_int_equal(OSRImportFromEPSG(b, to), OGRERR_NONE);
    OSRSetAxisMappingStrategy(a, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(b, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(a, b);
    assert_non_null(ct);
    OSRDestroySpatialReference(a);
    OSRDestroySpatialReference(b);
    return ct;
}

/* A 4x4 RGB PNG through GDAL's PNG driver. */
static void write_png(const char *path)
{
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", 4, 4, 3,
                                  GDT_Byte, NULL);
    assert_non_null(mem);
    unsigned char px[16];
    for (int b = 1; b <= 3; b++) {
        memset(px, 60 * b, sizeof(px));
        assert_int_equal(GDALRasterIOEx(GDALGetRasterBand(mem, b), GF_Write,
                                        0, 0, 4, 4, px, 4, 4, GDT_Byte, 0, 0,
                                        NULL),
                         CE_None);
    }
    GDALDatasetH png = GDALCreateCopy(GDALGetDriverByName("PNG"), path, mem,
                                      FALSE, NULL, NULL, NULL);
    assert_non_null(png);
    GDALClose(png);
    GDALClose(mem);
}

/* The item for points[k]: its patch is a square around the point in UTM,
 * exported as ISO WKB; bounds gets the square's lon/lat extent. */
static void make_item(rw_check_item *it, size_t k,
                      OGRCoordinateTransformationH to_utm,
                      OGRCoordinateTransformationH to_ll, double bounds[4])
{
    const tpoint *p = &points[k];
    rw_detection *d = &it->det;
    memset(it, 0, sizeof(*it));
    snprintf(d->id, sizeof(d->id), "%s", p->id);
    snprintf(d->reserve_id, sizeof(d->reserve_id), "R01");
    snprintf(d->reserve_name, sizeof(d->reserve_name), RESERVE_NAME);
    snprintf(d->zone, sizeof(d->zone), "%s", p->zone);
    snprintf(d->category, sizeof(d->category), "%s",
             rw_category_key(p->category));
    snprintf(d->change, sizeof(d->change), "veg_to_bare");
    snprintf(d->status, sizeof(d->status), "%s", p->status);
    d->area_m2 = 4 * HALF_SIDE_M * HALF_SIDE_M;
    d->area_mu = d->area_m2 / 666.67;
    d->area_ha = d->area_m2 / 1e4;
    d->lon = p->lon;
    d->lat = p->lat;
    snprintf(d->lon_dms, sizeof(d->lon_dms), "%s", p->lon_dms);
    snprintf(d->lat_dms, sizeof(d->lat_dms), "28°59′25.44″N");
    d->confidence = 0.85;
    snprintf(d->basis, sizeof(d->basis), "%s", p->basis);
    snprintf(d->city, sizeof(d->city), "九江市");
    snprintf(d->county, sizeof(d->county), "%s", p->county);
    snprintf(d->before_date, sizeof(d->before_date), "2023-05-01");
    snprintf(d->after_date, sizeof(d->after_date), "2024-05-03");

    double x = p->lon, y = p->lat;
    assert_true(OCTTransform(to_utm, 1, &x, &y, NULL));
    d->x = x;
    d->y = y;
    static const double corner[5][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}};
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    bounds[0] = bounds[2] = INFINITY;
    bounds[1] = bounds[3] = -INFINITY;
    for (int c = 0; c < 5; c++) {
        double cx = x + corner[c][0] * HALF_SIDE_M;
        double cy = y + corner[c][1] * HALF_SIDE_M;
        OGR_G_AddPoint_2D(ring, cx, cy);
        assert_true(OCTTransform(to_ll, 1, &cx, &cy, NULL));
        bounds[0] = fmin(bounds[0], cx);
        bounds[1] = fmax(bounds[1], cx);
        bounds[2] = fmin(bounds[2], cy);
        bounds[3] = fmax(bounds[3], cy);
    }
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    assert_int_equal(OGR_G_AddGeometryDirectly(poly, ring), OGRERR_NONE);
    d->wkb_size = (size_t)OGR_G_WkbSize(poly);
    d->wkb = malloc(d->wkb_size);
    assert_non_null(d->wkb);
    assert_int_equal(OGR_G_ExportToIsoWkb(poly, wkbNDR, d->wkb), OGRERR_NONE);
    OGR_G_DestroyGeometry(poly);

    it->seq = (int)k + 1;
    it->category_label = rw_category_label(p->category);
    it->change_label = "植被变为裸地";
    it->zone_key = p->zone_key;
}

static rw_checklist *make_list(fixture *fx)
{
    rw_checklist *cl = calloc(1, sizeof(*cl));
    assert_non_null(cl);
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL);
    assert_int_equal(OSRImportFromEPSG(utm, 32650), OGRERR_NONE);
    char *wkt = NULL;
    assert_int_equal(OSRExportToWkt(utm, &wkt), OGRERR_NONE);
    cl->analysis_wkt = strdup(wkt);
    CPLFree(wkt);
    OSRDestroySpatialReference(utm);

    cl->after_scene = strdup("/data/scenes/S2_20240503.tif");
    cl->before_scenes = calloc(1, sizeof(char *));
    assert_non_null(cl->before_scenes);
    cl->before_scenes[0] = strdup("/data/scenes/S2_20230501.tif");
    cl->nbefore = 1;
    cl->year = 2024;
    snprintf(cl->generated, sizeof(cl->generated), "2024-06-30");

    cl->nreserves = 2;
    cl->reserves = calloc(2, sizeof(rw_check_reserve));
    assert_non_null(cl->reserves);
    rw_check_reserve *r = &cl->reserves[0];
    snprintf(r->reserve_id, sizeof(r->reserve_id), "R01");
    snprintf(r->name, sizeof(r->name), RESERVE_NAME);
    snprintf(r->city, sizeof(r->city), "九江市");
    snprintf(r->county, sizeof(r->county), "永修县");
    snprintf(r->dir_name, sizeof(r->dir_name), "R01_test");
    r->items = calloc(NPOINTS, sizeof(rw_check_item));
    assert_non_null(r->items);
    r->n = NPOINTS;
    OGRCoordinateTransformationH to_utm = make_ct(4490, 32650);
    OGRCoordinateTransformationH to_ll = make_ct(32650, 4490);
    for (size_t k = 0; k < NPOINTS; k++)
        make_item(&r->items[k], k, to_utm, to_ll, fx->bounds[k]);
    OCTDestroyCoordinateTransformation(to_utm);
    OCTDestroyCoordinateTransformation(to_ll);

    r = &cl->reserves[1];
    snprintf(r->reserve_id, sizeof(r->reserve_id), "R02");
    snprintf(r->name, sizeof(r->name), "空的保护区");
    snprintf(r->dir_name, sizeof(r->dir_name), "R02_test");
    return cl;
}

/* Fresh folders R01 (with chips: both true-colour chips and the earlier
 * false-colour one of the first point) and R02; every writer run on both. */
static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    snprintf(fx->root, sizeof(fx->root), "/tmp/rw_test_checklist_gps_XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    fx->cl = make_list(fx);
    char chips[256], path[512];
    for (int r = 0; r < 2; r++) {
        char dir[sizeof(fx->dir[r])]; /* not straight into fx: -Wrestrict */
        snprintf(dir, sizeof(dir), "%s/R0%d", fx->root, r + 1);
        memcpy(fx->dir[r], dir, sizeof(dir));
        assert_int_equal(mkdir(fx->dir[r], 0700), 0);
    }
    snprintf(chips, sizeof(chips), "%s/chips", fx->dir[0]);
    assert_int_equal(mkdir(chips, 0700), 0);
    static const rw_chip_kind made[] = {RW_CHIP_BEFORE, RW_CHIP_AFTER,
                                        RW_CHIP_BEFORE_NRG};
    for (size_t k = 0; k < sizeof(made) / sizeof(made[0]); k++) {
        char rel[128];
        rw_error e = {0};
        assert_int_equal(rw_checklist_chip_path(points[0].id, made[k], rel,
                                                sizeof(rel), &e),
                         RW_OK);
        snprintf(path, sizeof(path), "%s/%s", fx->dir[0], rel);
        write_png(path);
    }
    for (int r = 0; r < 2; r++) {
        rw_error err = {0};
        const rw_check_reserve *res = &fx->cl->reserves[r];
        assert_int_equal(rw_checklist_write_gps(fx->cl, res, fx->dir[r], &err),
                         RW_OK);
        assert_int_equal(
            rw_checklist_write_report(fx->cl, res, fx->dir[r], &err), RW_OK);
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    remove_tree(fx->root);
    rw_checklist_destroy(fx->cl);
    free(fx);
    return 0;
}

static GDALDatasetH open_vector(const char *dir, const char *name,
                                const char *driver)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    const char *const drivers[] = {driver, NULL};
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                 driver ? drivers : NULL, NULL, NULL);
    assert_non_null(ds);
    return ds;
}

static const char *field_text(OGRFeatureH f, const char *name)
{
    const int i = OGR_F_GetFieldIndex(f, name);
    assert_true(i >= 0);
    return OGR_F_GetFieldAsString(f, i);
}

/* ---- points.csv ------------------------------------------------------- */

static void test_csv(void **state)
{
    fixture *fx = *state;
    size_t len;
    char path[512];
    snprintf(path, sizeof(path), "%s/points.csv", fx->dir[0]);
    char *csv = slurp(path, &len);
    assert_memory_equal(csv, BOM CSV_HEADER, strlen(BOM CSV_HEADER));
    /* header + 2 records, every line CRLF */
    assert_int_equal(count_of(csv, "\r\n"), 1 + (int)NPOINTS);
    assert_int_equal(count_of(csv, "\n"), 1 + (int)NPOINTS);
    assert_int_equal(csv[len - 1], '\n');
    const char *row1 = csv + strlen(BOM CSV_HEADER);
    assert_memory_equal(row1, "1,R01-0001," RESERVE_NAME ",核心区,采矿采砂(石),"
                              "植被变为裸地,116.290100,28.990400,",
                        strlen("1,R01-0001," RESERVE_NAME ",核心区,采矿采砂(石),"
                               "植被变为裸地,116.290100,28.990400,"));
    assert_non_null(strstr(row1, ",6400.00,9.6000,0.6400,2023-05-01,"));
    assert_non_null(strstr(row1, ",0.850,新增,九江市,永修县\r\n"));
    /* formula injection: quoted (it holds commas and quotes) and guarded */
    assert_non_null(strstr(csv, ",\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\",0.850,扩大,"));
    assert_non_null(strstr(csv, ",'@都昌县\r\n"));
    assert_null(strstr(csv, ",=HYPERLINK"));
    /* numbers are not text: never guarded */
    assert_null(strstr(csv, ",'1"));
    free(csv);

    /* the empty reserve: header only */
    snprintf(path, sizeof(path), "%s/points.csv", fx->dir[1]);
    csv = slurp(path, &len);
    assert_int_equal(len, strlen(BOM CSV_HEADER));
    assert_memory_equal(csv, BOM CSV_HEADER, len);
    free(csv);
}

/* ---- points.kml ------------------------------------------------------- */

static void test_kml_points(void **state)
{
    fixture *fx = *state;
    GDALDatasetH ds = open_vector(fx->dir[0], "points.kml", NULL);
    OGRLayerH pts = GDALDatasetGetLayerByName(ds, "点位");
    assert_non_null(pts);
    assert_int_equal(OGR_L_GetFeatureCount(pts, TRUE), NPOINTS);
    OGR_L_ResetReading(pts);
    for (size_t k = 0; k < NPOINTS; k++) {
        OGRFeatureH f = OGR_L_GetNextFeature(pts);
        assert_non_null(f);
        assert_string_equal(field_text(f, "Name"), points[k].id);
        /* ExtendedData under the English keys */
        assert_string_equal(field_text(f, "zone"), points[k].zone);
        assert_string_equal(field_text(f, "category"),
                            rw_category_label(points[k].category));
        assert_string_equal(field_text(f, "lon"),
                            k == 0 ? "116.290100" : "116.310000");
        const char *desc = field_text(f, "description");
        char img[128];
        snprintf(img, sizeof(img), "src=\"chips/%s_before.png\"", points[k].id);
        assert_non_null(strstr(desc, img));
        snprintf(img, sizeof(img), "src=\"chips/%s_after.png\"", points[k].id);
        assert_non_null(strstr(desc, img));
        assert_non_null(strstr(desc, "<table"));
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        assert_non_null(g);
        assert_int_equal(wkbFlatten(OGR_G_GetGeometryType(g)), wkbPoint);
        assert_true(fabs(OGR_G_GetX(g, 0) - points[k].lon) < 1e-9);
        assert_true(fabs(OGR_G_GetY(g, 0) - points[k].lat) < 1e-9);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
}

static void test_kml_patches(void **state)
{
    fixture *fx = *state;
    GDALDatasetH ds = open_vector(fx->dir[0], "points.kml", NULL);
    OGRLayerH patches = GDALDatasetGetLayerByName(ds, "图斑");
    assert_non_null(patches);
    assert_int_equal(OGR_L_GetFeatureCount(patches, TRUE), NPOINTS);
    OGR_L_ResetReading(patches);
    for (size_t k = 0; k < NPOINTS; k++) {
        OGRFeatureH f = OGR_L_GetNextFeature(patches);
        assert_non_null(f);
        assert_string_equal(field_text(f, "Name"), points[k].id);
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        assert_non_null(g);
        assert_int_equal(wkbFlatten(OGR_G_GetGeometryType(g)), wkbPolygon);
        OGREnvelope env;
        OGR_G_GetEnvelope(g, &env);
        /* lon/lat, not UTM metres, and not swapped */
        assert_true(fabs(env.MinX - fx->bounds[k][0]) < 1e-7);
        assert_true(fabs(env.MaxX - fx->bounds[k][1]) < 1e-7);
        assert_true(fabs(env.MinY - fx->bounds[k][2]) < 1e-7);
        assert_true(fabs(env.MaxY - fx->bounds[k][3]) < 1e-7);
        assert_true(env.MinX < points[k].lon && points[k].lon < env.MaxX);
        assert_true(env.MinY < points[k].lat && points[k].lat < env.MaxY);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
}

/* Styles: one per category with distinct colours, each placemark on its
 * category's style; the reserve name escaped. */
static void test_kml_text(void **state)
{
    fixture *fx = *state;
    char *kml = slurp_in(fx->dir[0], "points.kml");
    assert_non_null(strstr(kml, "<Document>\n<name>" RESERVE_NAME_XML "</name>"));
    assert_null(strstr(kml, "<&>"));
    char colours[RW_CATEGORY_COUNT][9];
    for (int c = 0; c < RW_CATEGORY_COUNT; c++) {
        char tag[96];
        snprintf(tag, sizeof(tag), "<Style id=\"cat_%s\"><IconStyle><color>",
                 rw_category_key(c));
        const char *p = strstr(kml, tag);
        assert_non_null(p);
        memcpy(colours[c], p + strlen(tag), 8);
        colours[c][8] = '\0';
        assert_int_equal(strspn(colours[c], "0123456789abcdef"), 8);
        for (int o = 0; o < c; o++)
            assert_string_not_equal(colours[c], colours[o]);
    }
    /* point and patch of each item */
    assert_int_equal(count_of(kml, "<styleUrl>#cat_mining</styleUrl>"), 2);
    assert_int_equal(count_of(kml, "<styleUrl>#cat_tourism</styleUrl>"), 2);
    assert_int_equal(count_of(kml, "<Placemark>"), 2 * (int)NPOINTS);
    free(kml);
}

/* ---- points.gpx ------------------------------------------------------- */

static void test_gpx(void **state)
{
    fixture *fx = *state;
    GDALDatasetH ds = open_vector(fx->dir[0], "points.gpx", "GPX");
    OGRLayerH wpt = GDALDatasetGetLayerByName(ds, "waypoints");
    assert_non_null(wpt);
    assert_int_equal(OGR_L_GetFeatureCount(wpt, TRUE), NPOINTS);
    OGR_L_ResetReading(wpt);
    for (size_t k = 0; k < NPOINTS; k++) {
        OGRFeatureH f = OGR_L_GetNextFeature(wpt);
        assert_non_null(f);
        assert_string_equal(field_text(f, "name"), points[k].id);
        const char *desc = field_text(f, "desc");
        assert_non_null(strstr(desc, rw_category_label(points[k].category)));
        assert_non_null(strstr(desc, points[k].zone));
        assert_non_null(strstr(desc, "9.60亩"));
        assert_true(field_text(f, "sym")[0] != '\0');
        OGRGeometryH g = OGR_F_GetGeometryRef(f);
        assert_non_null(g);
        assert_true(fabs(OGR_G_GetX(g, 0) - points[k].lon) < 1e-9);
        assert_true(fabs(OGR_G_GetY(g, 0) - points[k].lat) < 1e-9);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    char *gpx = slurp_in(fx->dir[0], "points.gpx");
    assert_non_null(strstr(gpx, "<name>" RESERVE_NAME_XML "</name>"));
    free(gpx);
}

/* ---- points_ovital.txt ------------------------------------------------ */

static void test_ovital(void **state)
{
    fixture *fx = *state;
    char *txt = slurp_in(fx->dir[0], "points_ovital.txt");
    assert_int_equal(count_of(txt, "\r\n"), NPOINTS);
    const char *line = txt;
    for (size_t k = 0; k < NPOINTS; k++) {
        char *end;
        const double first = strtod(line, &end);
        assert_int_equal(*end, ',');
        const double second = strtod(end + 1, &end);
        assert_int_equal(*end, ',');
        /* longitude first, then latitude */
        assert_true(fabs(first - points[k].lon) < 1e-9);
        assert_true(fabs(second - points[k].lat) < 1e-9);
        const char *eol = strstr(line, "\r\n");
        char want[128];
        snprintf(want, sizeof(want), ",%s,%s %s 9.60亩\r\n", points[k].id,
                 rw_category_label(points[k].category), points[k].zone);
        assert_memory_equal(end, want, strlen(want));
        assert_true(end + strlen(want) == eol + 2);
        line = eol + 2;
    }
    assert_memory_equal(txt, "116.290100,28.990400,", 21);
    free(txt);
}

/* ---- files: modes, no temporaries, the empty reserve ------------------ */

static void test_modes(void **state)
{
    fixture *fx = *state;
    for (int r = 0; r < 2; r++) {
        for (size_t k = 0; k < NOUT; k++) {
            char path[512];
            struct stat sb;
            snprintf(path, sizeof(path), "%s/%s", fx->dir[r], out_files[k]);
            assert_int_equal(stat(path, &sb), 0);
            assert_int_equal(sb.st_mode & 07777, 0600);
        }
        DIR *d = opendir(fx->dir[r]);
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            assert_null(strstr(e->d_name, ".partial"));
        closedir(d);
    }
}

static void test_empty_reserve(void **state)
{
    fixture *fx = *state;
    GDALDatasetH ds = open_vector(fx->dir[1], "points.kml", NULL);
    GIntBig total = 0;
    for (int l = 0; l < GDALDatasetGetLayerCount(ds); l++)
        total += OGR_L_GetFeatureCount(GDALDatasetGetLayer(ds, l), TRUE);
    assert_int_equal(total, 0);
    GDALClose(ds);
    ds = open_vector(fx->dir[1], "points.gpx", "GPX");
    OGRLayerH wpt = GDALDatasetGetLayerByName(ds, "waypoints");
    assert_non_null(wpt);
    assert_int_equal(OGR_L_GetFeatureCount(wpt, TRUE), 0);
    GDALClose(ds);
    char *txt = slurp_in(fx->dir[1], "points_ovital.txt");
    assert_string_equal(txt, "");
    free(txt);
    char *kml = slurp_in(fx->dir[1], "points.kml");
    assert_non_null(strstr(kml, "<name>空的保护区</name>"));
    assert_null(strstr(kml, "<Placemark>"));
    free(kml);
    char *html = slurp_in(fx->dir[1], "report.html");
    assert_non_null(strstr(html, EMPTY_MESSAGE));
    assert_int_equal(count_of(html, "class=\"card\""), 0);
    assert_non_null(strstr(html, "<tr><th>合计</th><td>0</td><td>0</td>"
                                 "<td>0</td><td>0</td></tr>"));
    free(html);
}

/* ---- report.html ------------------------------------------------------ */

static void test_report(void **state)
{
    fixture *fx = *state;
    char *html = slurp_in(fx->dir[0], "report.html");
    assert_int_equal(count_of(html, "<section class=\"card\">"), NPOINTS);
    assert_null(strstr(html, EMPTY_MESSAGE));
    /* cards in list order */
    const char *c1 = strstr(html, "点位编号 R01-0001");
    const char *c2 = strstr(html, "点位编号 R01-0002");
    assert_non_null(c1);
    assert_non_null(c2);
    assert_true(c1 < c2);
    /* three chips exist (the first point's true-colour pair and its earlier
     * false colour): inlined; the other three shown as missing; the second
     * point has no false-colour row */
    assert_int_equal(count_of(html, PNG_B64_SIG), 3);
    assert_int_equal(count_of(html, "<div class=\"nochip\">"), 3);
    assert_int_equal(count_of(html, "class=\"chips nrg\""), 1);
    assert_true(strstr(html, PNG_B64_SIG) < c2);
    /* self-contained: every image is a data: URI, nothing loads */
    assert_int_equal(count_of(html, "src=\""), count_of(html, "src=\"data:"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<link"));
    assert_null(strstr(html, "://"));
    assert_null(strstr(html, "url("));
    /* title, year, generation date, scenes */
    assert_non_null(strstr(html, "<title>" RESERVE_NAME_XML " 2024年度"));
    assert_non_null(strstr(html, "2024-06-30"));
    assert_non_null(strstr(html, "S2_20230501.tif"));
    assert_non_null(strstr(html, "2024-05-03"));
    /* escaping of data */
    assert_null(strstr(html, "<&>"));
    assert_non_null(strstr(html, "=HYPERLINK(&quot;x&quot;,&quot;y&quot;)"));
    /* coordinates decimal and DMS, areas */
    assert_non_null(strstr(html, "<td>116.290100</td>"));
    assert_non_null(strstr(html, "<td>116°17′24.36″E</td>"));
    assert_non_null(strstr(html, "<td>9.6000</td>"));
    /* summary: category rows x 核心区 缓冲区 实验区 合计 */
    assert_non_null(strstr(html, "<th>核心区</th><th>缓冲区</th><th>实验区</th>"
                                 "<th>合计</th>"));
    assert_non_null(strstr(html, "<tr><th>采矿采砂(石)</th><td>1</td><td>0</td>"
                                 "<td>0</td><td>1</td></tr>"));
    assert_non_null(strstr(html, "<tr><th>核心区缓冲区内旅游设施</th><td>0</td>"
                                 "<td>1</td><td>0</td><td>1</td></tr>"));
    assert_non_null(strstr(html, "<tr><th>合计</th><td>1</td><td>1</td>"
                                 "<td>0</td><td>2</td></tr>"));
    /* print on A4, cards whole */
    assert_non_null(strstr(html, "@media print{@page{size:A4"));
    assert_true(count_of(html, "break-inside:avoid") >= 1);
    free(html);
}

/* A geographic analysis CRS (EPSG:4490, whose official axis order is
 * lat, lon): WKB x is still longitude, and so is the KML's. */
static void test_kml_geographic_crs(void **state)
{
    fixture *fx = *state;
    rw_check_reserve r = fx->cl->reserves[0];
    rw_check_item it = r.items[0];
    r.items = &it;
    r.n = 1;
    const double lon = points[0].lon, lat = points[0].lat, h = 0.001;
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    OGR_G_AddPoint_2D(ring, lon - h, lat - h);
    OGR_G_AddPoint_2D(ring, lon + h, lat - h);
    OGR_G_AddPoint_2D(ring, lon + h, lat + 2 * h);
    OGR_G_AddPoint_2D(ring, lon - h, lat + 2 * h);
    OGR_G_AddPoint_2D(ring, lon - h, lat - h);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    assert_int_equal(OGR_G_AddGeometryDirectly(poly, ring), OGRERR_NONE);
    unsigned char wkb[256];
    it.det.wkb_size = (size_t)OGR_G_WkbSize(poly);
    assert_true(it.det.wkb_size <= sizeof(wkb));
    assert_int_equal(OGR_G_ExportToIsoWkb(poly, wkbNDR, wkb), OGRERR_NONE);
    it.det.wkb = wkb;
    OGR_G_DestroyGeometry(poly);

    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    assert_int_equal(OSRImportFromEPSG(geo, 4490), OGRERR_NONE);
    char *wkt = NULL;
    assert_int_equal(OSRExportToWkt(geo, &wkt), OGRERR_NONE);
    OSRDestroySpatialReference(geo);
    char *saved = fx->cl->analysis_wkt;
    fx->cl->analysis_wkt = wkt;
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/geographic", fx->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    rw_error err = {0};
    const rw_status st = rw_checklist_write_gps(fx->cl, &r, dir, &err);
    fx->cl->analysis_wkt = saved;
    CPLFree(wkt);
    assert_int_equal(st, RW_OK);

    GDALDatasetH ds = open_vector(dir, "points.kml", NULL);
    OGRLayerH patches = GDALDatasetGetLayerByName(ds, "图斑");
    assert_non_null(patches);
    OGR_L_ResetReading(patches);
    OGRFeatureH f = OGR_L_GetNextFeature(patches);
    assert_non_null(f);
    OGREnvelope env;
    OGR_G_GetEnvelope(OGR_F_GetGeometryRef(f), &env);
    assert_true(fabs(env.MinX - (lon - h)) < 1e-9);
    assert_true(fabs(env.MaxX - (lon + h)) < 1e-9);
    assert_true(fabs(env.MinY - (lat - h)) < 1e-9);
    assert_true(fabs(env.MaxY - (lat + 2 * h)) < 1e-9);
    OGR_F_Destroy(f);
    GDALClose(ds);
}

/* ---- failures --------------------------------------------------------- */

static void test_errors(void **state)
{
    fixture *fx = *state;
    rw_error err = {0};
    char dir[256];
    snprintf(dir, sizeof(dir), "%s/missing", fx->root);
    assert_int_equal(rw_checklist_write_gps(fx->cl, &fx->cl->reserves[0], dir,
                                            &err),
                     RW_ERR_IO);
    assert_int_equal(err.status, RW_ERR_IO);
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_write_report(fx->cl, &fx->cl->reserves[0],
                                               dir, &err),
                     RW_ERR_IO);

    /* a bad analysis CRS: no KML, and no temporary left behind */
    snprintf(dir, sizeof(dir), "%s/badcrs", fx->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    char *saved = fx->cl->analysis_wkt;
    fx->cl->analysis_wkt = "not a CRS";
    rw_error_clear(&err);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const rw_status st =
        rw_checklist_write_gps(fx->cl, &fx->cl->reserves[0], dir, &err);
    CPLPopErrorHandler();
    fx->cl->analysis_wkt = saved;
    assert_int_equal(st, RW_ERR_USAGE);
    char path[512];
    snprintf(path, sizeof(path), "%s/points.kml", dir);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/points.kml.partial", dir);
    assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
    GDALAllRegister();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kml_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kml_patches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kml_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kml_geographic_crs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gpx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ovital, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_reserve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    const int failed = cmocka_run_group_tests(tests, NULL, NULL);
    GDALDestroyDriverManager();
    return failed;
}
