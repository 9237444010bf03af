/* Unit tests for the check-list model: names safe for folders and chip
 * files, and the build from detections.gpkg + manifest.json (filters,
 * priority order, 序号, empty reserves, bad options). */
#include "checklist.h"
#include "checklist_build.h"
#include "detections_write.h"

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char tmp_dir[] = "/tmp/rw_test_checklist_XXXXXX";

static void test_safe_name(void **state)
{
    (void)state;
    char buf[64];
    rw_checklist_safe_name("../武夷山/保护区", buf, sizeof(buf));
    assert_string_equal(buf, "武夷山保护区");
    rw_checklist_safe_name("a\\b:c*d?e\"f<g>h|i\x01j", buf, sizeof(buf));
    assert_string_equal(buf, "abcdefghij");
    rw_checklist_safe_name("...", buf, sizeof(buf));
    assert_string_equal(buf, "_");
    rw_checklist_safe_name("", buf, sizeof(buf));
    assert_string_equal(buf, "_");
    /* a cut never splits a UTF-8 character: 7 bytes fit 2 of 3-byte chars */
    rw_checklist_safe_name("鄱阳湖", buf, 8);
    assert_string_equal(buf, "鄱阳");
    char path[128];
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_chip_path("R01/0007", RW_CHIP_AFTER_NRG, path, sizeof(path), &err), RW_OK);
    assert_string_equal(path, "chips/R010007_after_nrg.png");
    assert_int_equal(rw_checklist_chip_path("R01-0007", RW_CHIP_BEFORE, path, sizeof(path), &err), RW_OK);
    assert_string_equal(path, "chips/R01-0007_before.png");
}

/* One detection: a 20 m square in UTM 50N. */
static void fill(rw_detection *d, const char *id, const char *reserve, const char *zone, const char *category,
                 const char *status, double area)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->id, sizeof(d->id), "%s", id);
    snprintf(d->reserve_id, sizeof(d->reserve_id), "%s", reserve);
    snprintf(d->reserve_name, sizeof(d->reserve_name), "%s自然保护区", reserve);
    snprintf(d->zone, sizeof(d->zone), "%s", zone);
    snprintf(d->category, sizeof(d->category), "%s", category);
    snprintf(d->change, sizeof(d->change), "veg_to_bare");
    snprintf(d->status, sizeof(d->status), "%s", status);
    snprintf(d->city, sizeof(d->city), "上饶市");
    snprintf(d->after_date, sizeof(d->after_date), "2024-12-01");
    snprintf(d->before_date, sizeof(d->before_date), "2023-12-01");
    snprintf(d->lon_dms, sizeof(d->lon_dms), "116°00′00.00″E");
    snprintf(d->lat_dms, sizeof(d->lat_dms), "28°00′00.00″N");
    d->area_m2 = area;
    d->lon = 116.0, d->lat = 28.0;
    OGRGeometryH g = NULL;
    char wkt[] = "POLYGON((400000 3100000,400020 3100000,400020 3100020,400000 3100020,400000 3100000))";
    char *p = wkt;
    assert_int_equal(OGR_G_CreateFromWkt(&p, NULL, &g), OGRERR_NONE);
    d->wkb_size = (size_t)OGR_G_WkbSize(g);
    d->wkb = malloc(d->wkb_size);
    OGR_G_ExportToIsoWkb(g, wkbNDR, d->wkb);
    OGR_G_DestroyGeometry(g);
}

/* detections.gpkg with six points in two reserves, and a manifest naming a
 * third reserve without points and two scenes (which need not exist when
 * --before/--after are given). */
static void write_inputs(const char *dir)
{
    rw_detection d[6];
    fill(&d[0], "R01-0001", "R01", "实验区", "mining", "new", 900);
    fill(&d[1], "R01-0002", "R01", "核心区", "tourism", "new", 300);
    fill(&d[2], "R01-0003", "R01", "核心区", "mining", "expanded", 500);
    fill(&d[3], "R01-0004", "R01", "核心区", "mining", "new", 700);
    fill(&d[4], "R01-0005", "R01", "缓冲区", "other", "new", 5000);
    fill(&d[5], "R02-0001", "R02", "缓冲区", "hydropower", "permitted", 9000);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 32650);
    char *wkt = NULL;
    OSRExportToWkt(srs, &wkt);
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_io_write_detections(dir, wkt, d, 6, &err), RW_OK);
    CPLFree(wkt);
    OSRDestroySpatialReference(srs);
    for (int i = 0; i < 6; i++)
        free(d[i].wkb);
    char path[512];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"finished\": \"2024-12-05T10:00:00Z\", \"counts\": ["
          "{\"reserve_id\": \"R01\", \"name\": \"R01自然保护区\", \"city\": \"上饶市\", \"county\": \"余干县\"},"
          "{\"reserve_id\": \"R02\", \"name\": \"R02自然保护区\", \"city\": \"上饶市\", \"county\": \"\"},"
          "{\"reserve_id\": \"R03\", \"name\": \"R03/湿地\", \"city\": \"九江市\", \"county\": \"\"}],"
          "\"parameters\": {\"after\": {\"file\": \"/nonexistent/a.tif\", \"date\": \"2024-12-01\"},"
          "\"before\": [{\"file\": \"/nonexistent/b.tif\", \"date\": \"2023-12-01\"}]}}\n", f);
    fclose(f);
}

static rw_status build(const char *categories, const char *statuses, const char *const *reserves, int nres,
                       rw_checklist **out, rw_error *err)
{
    char det[512], scene[512];
    snprintf(det, sizeof(det), "%s/detections.gpkg", tmp_dir);
    snprintf(scene, sizeof(scene), "%s/manifest.json", tmp_dir); /* exists: stands in for a scene */
    rw_checklist_options opt;
    rw_checklist_options_init(&opt);
    opt.detections = det;
    opt.out_dir = tmp_dir;
    opt.categories = categories;
    opt.statuses = statuses;
    opt.reserves = reserves;
    opt.nreserves = nres;
    opt.before = scene;
    opt.after = scene;
    rw_error_clear(err);
    return rw_checklist_build(&opt, out, err);
}

static void test_build_defaults(void **state)
{
    (void)state;
    rw_checklist *cl = NULL;
    rw_error err;
    assert_int_equal(build(NULL, NULL, NULL, 0, &cl, &err), RW_OK);
    assert_int_equal(cl->nreserves, 3); /* R03 has no point but was scanned */
    assert_int_equal(cl->year, 2024);
    assert_int_equal(cl->created, 1733392800); /* 2024-12-05T10:00:00Z */
    const rw_check_reserve *r1 = &cl->reserves[0];
    assert_string_equal(r1->reserve_id, "R01");
    assert_string_equal(r1->dir_name, "R01_R01自然保护区");
    assert_string_equal(r1->county, "余干县");
    /* priority: core first (mining before tourism, larger first), then
     * experimental; `other` is not a default category */
    assert_int_equal(r1->n, 4);
    assert_string_equal(r1->items[0].det.id, "R01-0004");
    assert_string_equal(r1->items[1].det.id, "R01-0003");
    assert_string_equal(r1->items[2].det.id, "R01-0002");
    assert_string_equal(r1->items[3].det.id, "R01-0001");
    for (size_t i = 0; i < r1->n; i++)
        assert_int_equal(r1->items[i].seq, (int)i + 1);
    assert_string_equal(r1->items[0].category_label, rw_category_label(0));
    assert_string_equal(r1->items[0].zone_key, "core");
    assert_non_null(r1->items[0].det.wkb);
    assert_int_equal(cl->reserves[1].n, 0); /* R02's only point is permitted */
    assert_string_equal(cl->reserves[2].dir_name, "R03_R03湿地");
    rw_checklist_destroy(cl);
}

static void test_build_filters(void **state)
{
    (void)state;
    rw_checklist *cl = NULL;
    rw_error err;
    const char *const only_r02[] = {"R02自然保护区"};
    assert_int_equal(build("hydropower,other", "permitted", only_r02, 1, &cl, &err), RW_OK);
    assert_int_equal(cl->nreserves, 1);
    assert_int_equal(cl->reserves[0].n, 1);
    assert_string_equal(cl->reserves[0].items[0].det.id, "R02-0001");
    rw_checklist_destroy(cl);

    assert_int_equal(build("mining,gold", NULL, NULL, 0, &cl, &err), RW_ERR_USAGE);
    assert_non_null(strstr(err.message, "gold"));
    assert_null(cl);
    assert_int_equal(build(NULL, "new,old", NULL, 0, &cl, &err), RW_ERR_USAGE);
    const char *const unknown[] = {"R99"};
    assert_int_equal(build(NULL, NULL, unknown, 1, &cl, &err), RW_ERR_INPUT);
    assert_non_null(strstr(err.message, "R99"));
    assert_null(cl);
}

/* Without --before/--after the manifest's scenes must exist. */
static void test_build_missing_scene(void **state)
{
    (void)state;
    char det[512];
    snprintf(det, sizeof(det), "%s/detections.gpkg", tmp_dir);
    rw_checklist_options opt;
    rw_checklist_options_init(&opt);
    opt.detections = det;
    opt.out_dir = tmp_dir;
    rw_checklist *cl = NULL;
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_build(&opt, &cl, &err), RW_ERR_INPUT);
    assert_non_null(strstr(err.message, "/nonexistent/a.tif"));
    assert_null(cl);
}

/* Scenes, band roles and the co-registration offset come from the scan's
 * manifest when no --before/--after is given. */
static void test_build_from_manifest(void **state)
{
    (void)state;
    char dir[512], det[600], path[600], cmd[1400];
    snprintf(dir, sizeof(dir), "%s/from_manifest", tmp_dir);
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s/detections.gpkg' '%s/'", dir, tmp_dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(det, sizeof(det), "%s/detections.gpkg", dir);
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    /* the detections file stands in for both scenes: only existence is checked here */
    fprintf(f, "{\"parameters\": {\"after\": {\"file\": \"%s\", \"date\": \"2024-12-01\", "
               "\"bands\": {\"blue\": 1, \"green\": 2, \"red\": 3, \"nir\": 4, \"mask\": 0}},"
               "\"before\": [{\"file\": \"%s\", \"date\": \"2022-12-01\"},"
               "{\"file\": \"%s\", \"date\": \"2023-12-01\", \"bands\": {\"blue\": 3, \"green\": 2, "
               "\"red\": 1, \"nir\": 4}, \"shift_px\": [0.5, -1.0]}]}}\n",
            det, path, det);
    fclose(f);
    rw_checklist_options opt;
    rw_checklist_options_init(&opt);
    opt.detections = det;
    opt.out_dir = dir;
    rw_checklist *cl = NULL;
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_checklist_build(&opt, &cl, &err), RW_OK);
    assert_int_equal(cl->nbefore, 2);
    assert_string_equal(cl->before_scenes[0], det); /* the most recent earlier scene first */
    assert_string_equal(cl->before_scenes[1], path);
    assert_string_equal(cl->scene_bands[0], "blue=3,green=2,red=1,nir=4");
    assert_string_equal(cl->scene_bands[1], "blue=1,green=2,red=3,nir=4");
    assert_true(cl->before_shift_px[0] == 0.5 && cl->before_shift_px[1] == -1.0);
    assert_int_equal(cl->year, 2024);
    rw_checklist_destroy(cl);
}

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    write_inputs(tmp_dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_name),
        cmocka_unit_test(test_build_defaults),
        cmocka_unit_test(test_build_filters),
        cmocka_unit_test(test_build_missing_scene),
        cmocka_unit_test(test_build_from_manifest),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
