/* Unit tests for src/io output writers: SHA-256 of files, the JSON writer,
 * atomic JSON files, and detections.gpkg + points.csv. Each test works in
 * its own sub-folder of one temporary folder. Detections sit near Poyang
 * Lake; patches are in UTM 50N (EPSG:32650). */
#include "test_fs.h"
#include "detections_read.h"
#include "detections_write.h"
#include "manifest.h"
#include "raster.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <dirent.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char tmp_dir[] = "/tmp/rw_test_io_XXXXXX";
static char *utm_wkt; /* EPSG:32650, the analysis CRS */

static const char *const field_names[] = {
    "id",         "reserve_id",  "reserve_name",      "zone",
    "category",   "change",      "status",            "area_m2",
    "area_mu",    "area_ha",     "lon",               "lat",
    "lon_dms",    "lat_dms",     "confidence",        "basis",
    "city",       "county",      "before_date",       "after_date",
    "frac_experimental", "frac_buffer", "frac_core"};
#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))

#define CSV_HEADER                                                             \
    "id,reserve_id,reserve_name,zone,category,change,status,area_m2,area_mu,"  \
    "area_ha,lon,lat,lon_dms,lat_dms,confidence,basis,city,county,"            \
    "before_date,after_date,frac_experimental,frac_buffer,frac_core\r\n"
#define BOM "\xEF\xBB\xBF"

/* ---- helpers ---------------------------------------------------------- */

static const char *subdir(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmp_dir, name);
    mkdir(buf, 0700);
    return buf;
}

static const char *join(char *buf, size_t size, const char *dir,
                        const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
    return buf;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* cmp: true when both files have the same bytes */
static bool same_bytes(const char *a, const char *b)
{
    size_t na, nb;
    char *da = slurp(a, &na), *db = slurp(b, &nb);
    const bool same = na == nb && memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return same;
}

static int count_entries(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dir);
    return n;
}

static unsigned file_mode(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (unsigned)(sb.st_mode & 07777);
}

/* ---- detection records ------------------------------------------------ */

typedef struct trecord {
    const char *id, *reserve_id, *reserve_name, *zone, *category, *change,
        *status;
    double area_m2, area_mu, area_ha, lon, lat;
    const char *lon_dms, *lat_dms;
    double confidence;
    const char *basis, *city, *county, *before, *after;
    double frac[3];
    const char *wkt; /* patch, UTM 50N metres */
} trecord;

static const trecord records[3] = {
    {"R01-0001", "R01", "鄱阳湖国家级自然保护区", "核心区", "mining",
     "veg_to_bare", "new", 12345.678, 18.518517, 1.2345678, 116.1,
     28.70000051, "116°06′00.00″E", "28°42′00.00″N", 0.87654,
     "裸地增加, NDVI 下降 0.35; rule \"veg_to_bare\"", "上饶市", "余干县",
     "2023-10-01;2023-11-15", "2024-10-03", {0.1, 0.2, 0.7},
     "POLYGON((400000 3175000,400100 3175000,400100 3175100,400000 3175100,"
     "400000 3175000))"},
    {"R01-0002", "R01", "鄱阳湖国家级自然保护区", "缓冲区", "tourism",
     "veg_to_built", "expanded", 900.004, 1.35, 0.09, 116.20000049, 28.8,
     "116°12′00.00″E", "28°48′00.00″N", 0.5, "plain basis", "上饶市",
     "鄱阳县", "2023-10-01", "2024-10-03", {0.0, 1.0, 0.0},
     "MULTIPOLYGON(((410000 3185000,410030 3185000,410030 3185030,"
     "410000 3185000)))"},
    /* 100000.125 is a binary tie: printf alone would round it to even */
    {"R02-0001", "R02", "武夷山国家级自然保护区", "实验区", "hydropower",
     "water_to_bare", "known", 100000.125, 150.0001, 10.0000125, 117.5,
     27.75, "117°30′00.00″E", "27°45′00.00″N", 0.9995,
     "line one\nline two, \"quoted\"", "南平市", "武夷山市", "2023-10-01",
     "2024-10-03", {1.0, 0.0, 0.0},
     "POLYGON((500000 3070000,500300 3070000,500300 3070300,500000 3070000))"},
};

static const char *const csv_rows =
    "R01-0001,R01,鄱阳湖国家级自然保护区,核心区,mining,veg_to_bare,new,"
    "12345.68,18.5185,1.2346,116.100000,28.700001,116°06′00.00″E,"
    "28°42′00.00″N,0.877,\"裸地增加, NDVI 下降 0.35; rule \"\"veg_to_bare\"\"\","
    "上饶市,余干县,2023-10-01;2023-11-15,2024-10-03,0.1000,0.2000,0.7000\r\n"
    "R01-0002,R01,鄱阳湖国家级自然保护区,缓冲区,tourism,veg_to_built,expanded,"
    "900.00,1.3500,0.0900,116.200000,28.800000,116°12′00.00″E,28°48′00.00″N,"
    "0.500,plain basis,上饶市,鄱阳县,2023-10-01,2024-10-03,0.0000,1.0000,"
    "0.0000\r\n"
    "R02-0001,R02,武夷山国家级自然保护区,实验区,hydropower,water_to_bare,"
    "known,100000.13,150.0001,10.0000,117.500000,27.750000,117°30′00.00″E,"
    "27°45′00.00″N,1.000,\"line one\nline two, \"\"quoted\"\"\",南平市,"
    "武夷山市,2023-10-01,2024-10-03,1.0000,0.0000,0.0000\r\n";

static void fill(rw_detection *d, const trecord *r)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->id, sizeof(d->id), "%s", r->id);
    snprintf(d->reserve_id, sizeof(d->reserve_id), "%s", r->reserve_id);
    snprintf(d->reserve_name, sizeof(d->reserve_name), "%s", r->reserve_name);
    snprintf(d->zone, sizeof(d->zone), "%s", r->zone);
    snprintf(d->category, sizeof(d->category), "%s", r->category);
    snprintf(d->change, sizeof(d->change), "%s", r->change);
    snprintf(d->status, sizeof(d->status), "%s", r->status);
    d->area_m2 = r->area_m2;
    d->area_mu = r->area_mu;
    d->area_ha = r->area_ha;
    d->lon = r->lon;
    d->lat = r->lat;
    snprintf(d->lon_dms, sizeof(d->lon_dms), "%s", r->lon_dms);
    snprintf(d->lat_dms, sizeof(d->lat_dms), "%s", r->lat_dms);
    d->confidence = r->confidence;
    snprintf(d->basis, sizeof(d->basis), "%s", r->basis);
    snprintf(d->city, sizeof(d->city), "%s", r->city);
    snprintf(d->county, sizeof(d->county), "%s", r->county);
    snprintf(d->before_date, sizeof(d->before_date), "%s", r->before);
    snprintf(d->after_date, sizeof(d->after_date), "%s", r->after);
    memcpy(d->zone_fraction, r->frac, sizeof(d->zone_fraction));
    OGRGeometryH g = NULL;
    char *wkt = (char *)r->wkt; /* OGR advances it; the text is not changed */
    assert_int_equal(OGR_G_CreateFromWkt(&wkt, NULL, &g), OGRERR_NONE);
    d->wkb_size = (size_t)OGR_G_WkbSize(g);
    d->wkb = malloc(d->wkb_size);
    assert_non_null(d->wkb);
    assert_int_equal(OGR_G_ExportToIsoWkb(g, wkbNDR, d->wkb), OGRERR_NONE);
    OGR_G_DestroyGeometry(g);
}

static rw_detection *make_records(size_t n)
{
    rw_detection *d = calloc(n ? n : 1, sizeof(*d));
    assert_non_null(d);
    for (size_t i = 0; i < n; i++)
        fill(&d[i], &records[i]);
    return d;
}

static void free_records(rw_detection *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(d[i].wkb);
    free(d);
}

static void write_ok(const char *dir, const rw_detection *d, size_t n)
{
    rw_error err;
    rw_error_clear(&err);
    const rw_status st = rw_io_write_detections(dir, utm_wkt, d, n, &err);
    if (st != RW_OK)
        print_error("%s:%d: %s\n", err.file, err.line, err.message);
    assert_int_equal(st, RW_OK);
}

/* Reads detections.gpkg back and checks the schema shared by both layers. */
static GDALDatasetH open_checked(const char *dir, GIntBig n)
{
    char path[1024];
    GDALDatasetH ds = GDALOpenEx(join(path, sizeof(path), dir, "detections.gpkg"),
                                 GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL,
                                 NULL);
    assert_non_null(ds);
    assert_int_equal(GDALDatasetGetLayerCount(ds), 2);
    static const char *const names[2] = {"patches", "points"};
    static const OGRwkbGeometryType types[2] = {wkbMultiPolygon, wkbPoint};
    static const char *const epsg[2] = {"32650", "4490"};
    for (int k = 0; k < 2; k++) {
        OGRLayerH layer = GDALDatasetGetLayer(ds, k);
        assert_string_equal(OGR_L_GetName(layer), names[k]);
        assert_int_equal(OGR_L_GetGeomType(layer), types[k]);
        assert_int_equal(OGR_L_GetFeatureCount(layer, TRUE), n);
        OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
        assert_non_null(srs);
        assert_string_equal(OSRGetAuthorityName(srs, NULL), "EPSG");
        assert_string_equal(OSRGetAuthorityCode(srs, NULL), epsg[k]);
        OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
        assert_int_equal(OGR_FD_GetFieldCount(defn), (int)NFIELDS);
        for (int f = 0; f < (int)NFIELDS; f++) {
            OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, f);
            assert_string_equal(OGR_Fld_GetNameRef(fd), field_names[f]);
            assert_int_equal(OGR_Fld_GetSubType(fd), OFSTNone);
        }
    }
    return ds;
}

/* ---- SHA-256 ------------------------------------------------------------ */

/* The UInt16 conversion must give what the Float32 one gives for every
 * value, with nodata (integral, in range) the one value that becomes NAN,
 * and a nodata no UInt16 takes matching nothing. */
static void test_u16_to_reflectance(void **state)
{
    (void)state;
    const size_t n = 65536;
    uint16_t *in = malloc(n * sizeof(*in));
    float *f = malloc(n * sizeof(*f)), *want = malloc(n * sizeof(*want)), *got = malloc(n * sizeof(*got));
    assert_non_null(in);
    assert_non_null(f);
    assert_non_null(want);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++)
        in[i] = (uint16_t)i, f[i] = (float)i;
    const double nodata[] = {0.0, 65535.0, 0.5, 70000.0, -1.0};
    for (size_t c = 0; c < sizeof(nodata) / sizeof(nodata[0]); c++) {
        rw_raster_to_reflectance(f, n, 1e-4, -0.1, 1, nodata[c], want);
        rw_raster_u16_to_reflectance(in, n, 1e-4, -0.1, 1, nodata[c], got);
        size_t nans = 0;
        for (size_t i = 0; i < n; i++) {
            if (isnan(want[i])) {
                assert_true(isnan(got[i]));
                nans++;
            } else {
                assert_memory_equal(&want[i], &got[i], sizeof(float));
            }
        }
        assert_int_equal(nans, nodata[c] == floor(nodata[c]) && nodata[c] >= 0 && nodata[c] <= 65535 ? 1 : 0);
    }
    rw_raster_u16_to_reflectance(in, n, 1e-4, -0.1, 0, 0.0, got); /* no nodata: 0 is a value */
    assert_float_equal(got[0], -0.1f, 1e-7);
    assert_float_equal(got[10000], 0.9f, 1e-6);
    free(in);
    free(f);
    free(want);
    free(got);
}

/* Byte and UInt16 bands read as UInt16; any other type does not. */
static void test_fits_u16(void **state)
{
    (void)state;
    GDALDriverH mem = GDALGetDriverByName("MEM");
    GDALDatasetH ds = GDALCreate(mem, "", 4, 4, 0, GDT_Byte, NULL);
    assert_non_null(ds);
    const GDALDataType types[] = {GDT_Byte, GDT_UInt16, GDT_Int16, GDT_Float32};
    for (int i = 0; i < 4; i++)
        assert_int_equal(GDALAddBand(ds, types[i], NULL), CE_None);
    assert_true(rw_raster_fits_u16(ds, (const int[]){1, 2}, 2));
    assert_false(rw_raster_fits_u16(ds, (const int[]){1, 3}, 2));
    assert_false(rw_raster_fits_u16(ds, (const int[]){4}, 1));
    assert_false(rw_raster_fits_u16(ds, (const int[]){9}, 1)); /* no such band */
    GDALClose(ds);
}

static void test_sha256_known(void **state)
{
    (void)state;
    char dir[512], path[1024], hex[65];
    uint64_t size = 0;
    rw_error err;
    rw_error_clear(&err);
    subdir(dir, sizeof(dir), "sha");
    spit(join(path, sizeof(path), dir, "abc"), "abc", 3);
    assert_int_equal(rw_io_sha256_file(path, hex, &size, &err), RW_OK);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
                             "b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(size, 3);

    spit(join(path, sizeof(path), dir, "empty"), "", 0);
    assert_int_equal(rw_io_sha256_file(path, hex, NULL, &err), RW_OK);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                             "27ae41e4649b934ca495991b7852b855");
}

/* More than two 1 MiB blocks, against a one-shot digest of the bytes. */
static void test_sha256_large(void **state)
{
    (void)state;
    char dir[512], path[1024], hex[65], want[65];
    const size_t n = (size_t)5 << 19; /* 2.5 MiB */
    unsigned char *data = malloc(n), md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
    subdir(dir, sizeof(dir), "sha_large");
    spit(join(path, sizeof(path), dir, "big"), data, n);
    assert_int_equal(EVP_Digest(data, n, md, &md_len, EVP_sha256(), NULL), 1);
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(want + 2 * i, 3, "%02x", md[i]);
    uint64_t size = 0;
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_io_sha256_file(path, hex, &size, &err), RW_OK);
    assert_string_equal(hex, want);
    assert_int_equal(size, n);
    free(data);
}

static void test_sha256_missing(void **state)
{
    (void)state;
    char hex[65], path[1024];
    rw_error err;
    rw_error_clear(&err);
    join(path, sizeof(path), tmp_dir, "no-such-file");
    assert_int_equal(rw_io_sha256_file(path, hex, NULL, &err), RW_ERR_IO);
    assert_int_equal(err.status, RW_ERR_IO);
    assert_non_null(strstr(err.message, path));
}

/* ---- JSON --------------------------------------------------------------- */

static void test_json_structure(void **state)
{
    (void)state;
    rw_json *j = NULL;
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_begin_object(j);
    rw_json_key(j, "name");
    rw_json_string(j, "鄱阳湖 \"A\\B\"\n\t\x01");
    rw_json_key(j, "pi");
    rw_json_number(j, 3.141592653589793);
    rw_json_key(j, "tenth");
    rw_json_number(j, 0.1);
    rw_json_key(j, "area_m2");
    rw_json_number_fixed(j, 1234.5678, 2);
    rw_json_key(j, "count");
    rw_json_integer(j, -42);
    rw_json_key(j, "ok");
    rw_json_bool(j, true);
    rw_json_key(j, "none");
    rw_json_null(j);
    rw_json_key(j, "empty_list");
    rw_json_begin_array(j);
    rw_json_end_array(j);
    rw_json_key(j, "empty_obj");
    rw_json_begin_object(j);
    rw_json_end_object(j);
    rw_json_key(j, "list");
    rw_json_begin_array(j);
    rw_json_integer(j, 1);
    rw_json_string(j, "x");
    rw_json_begin_object(j);
    rw_json_key(j, "k");
    rw_json_bool(j, false);
    rw_json_end_object(j);
    rw_json_end_array(j);
    rw_json_key(j, "nan");
    rw_json_number(j, NAN);
    rw_json_end_object(j);

    const char *text = NULL;
    size_t len = 0;
    assert_int_equal(rw_json_text(j, &text, &len, &err), RW_OK);
    const char *want = "{\n"
                       "  \"name\": \"鄱阳湖 \\\"A\\\\B\\\"\\n\\t\\u0001\",\n"
                       "  \"pi\": 3.141592653589793,\n"
                       "  \"tenth\": 0.1,\n"
                       "  \"area_m2\": 1234.57,\n"
                       "  \"count\": -42,\n"
                       "  \"ok\": true,\n"
                       "  \"none\": null,\n"
                       "  \"empty_list\": [],\n"
                       "  \"empty_obj\": {},\n"
                       "  \"list\": [\n"
                       "    1,\n"
                       "    \"x\",\n"
                       "    {\n"
                       "      \"k\": false\n"
                       "    }\n"
                       "  ],\n"
                       "  \"nan\": null\n"
                       "}\n";
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    rw_json_destroy(j);
}

static void test_json_misuse(void **state)
{
    (void)state;
    rw_error err;
    rw_json *j = NULL;
    const char *text;

    /* a key inside an array: the first failure is kept, later calls ignored */
    rw_error_clear(&err);
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_begin_array(j);
    rw_json_key(j, "k");
    rw_json_end_array(j);
    assert_int_equal(rw_json_text(j, &text, NULL, &err), RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "\"k\" out of place"));
    rw_json_destroy(j);

    /* a value in an object without its key */
    rw_error_clear(&err);
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_begin_object(j);
    rw_json_integer(j, 1);
    rw_json_end_object(j);
    assert_int_equal(rw_json_text(j, &text, NULL, &err), RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "without a key"));
    rw_json_destroy(j);

    /* unclosed, then mismatched, then a second top-level value */
    rw_error_clear(&err);
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_begin_object(j);
    assert_int_equal(rw_json_text(j, &text, NULL, &err), RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "still open"));
    rw_json_end_array(j);
    rw_error_clear(&err);
    assert_int_equal(rw_json_text(j, &text, NULL, &err), RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "does not close"));
    rw_json_destroy(j);

    rw_error_clear(&err);
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_null(j);
    rw_json_null(j);
    assert_int_equal(rw_json_text(j, &text, NULL, &err), RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "second top-level"));
    rw_json_destroy(j);

    rw_error_clear(&err);
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_number_fixed(j, 1.0, 18);
    assert_int_equal(rw_json_text(j, &text, NULL, &err), RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "18 decimals"));
    rw_json_destroy(j);
    rw_json_destroy(NULL);
}

static void test_json_write_atomic(void **state)
{
    (void)state;
    char dir[512], path[1024], bad[1024];
    rw_error err;
    rw_error_clear(&err);
    subdir(dir, sizeof(dir), "json");
    rw_json *j = NULL;
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_begin_array(j);
    rw_json_string(j, "核心区");
    rw_json_end_array(j);
    join(path, sizeof(path), dir, "manifest.json");
    assert_int_equal(rw_json_write_atomic(j, path, &err), RW_OK);
    size_t len;
    char *got = slurp(path, &len);
    assert_string_equal(got, "[\n  \"核心区\"\n]\n");
    free(got);
    assert_int_equal(file_mode(path), 0600);
    assert_int_equal(count_entries(dir), 1); /* no .partial left */

    join(bad, sizeof(bad), tmp_dir, "no-such-dir/manifest.json");
    assert_int_equal(rw_json_write_atomic(j, bad, &err), RW_ERR_IO);
    assert_non_null(strstr(err.message, bad));
    rw_json_destroy(j);
}

static void test_manifest_add_file(void **state)
{
    (void)state;
    char dir[512], path[1024];
    rw_error err;
    rw_error_clear(&err);
    subdir(dir, sizeof(dir), "manifest");
    spit(join(path, sizeof(path), dir, "abc.txt"), "abc", 3);
    rw_json *j = NULL;
    assert_int_equal(rw_json_create(&j, &err), RW_OK);
    rw_json_begin_array(j);
    assert_int_equal(rw_manifest_add_file(j, path, "abc.txt", &err), RW_OK);
    rw_json_end_array(j);
    const char *text;
    assert_int_equal(rw_json_text(j, &text, NULL, &err), RW_OK);
    assert_string_equal(text,
                        "[\n"
                        "  {\n"
                        "    \"name\": \"abc.txt\",\n"
                        "    \"bytes\": 3,\n"
                        "    \"sha256\": \"ba7816bf8f01cfea414140de5dae2223"
                        "b00361a396177a9cb410ff61f20015ad\"\n"
                        "  }\n"
                        "]\n");
    rw_json_destroy(j);
}

/* ---- detections ----------------------------------------------------------- */

static void test_detections_empty(void **state)
{
    (void)state;
    char dir[512], path[1024];
    subdir(dir, sizeof(dir), "det0");
    write_ok(dir, NULL, 0);
    GDALDatasetH ds = open_checked(dir, 0);
    GDALClose(ds);
    size_t len;
    char *csv = slurp(join(path, sizeof(path), dir, "points.csv"), &len);
    assert_string_equal(csv, BOM CSV_HEADER);
    free(csv);
    assert_int_equal(count_entries(dir), 2);
}

static void test_detections_one(void **state)
{
    (void)state;
    char dir[512], path[1024];
    subdir(dir, sizeof(dir), "det1");
    rw_detection *d = make_records(1);
    write_ok(dir, d, 1);

    GDALDatasetH ds = open_checked(dir, 1);
    OGRLayerH points = GDALDatasetGetLayerByName(ds, "points");
    OGRFeatureH f = OGR_L_GetNextFeature(points);
    assert_non_null(f);
    OGRGeometryH g = OGR_F_GetGeometryRef(f);
    /* X is the longitude: GeoPackage stores POINT(lon lat) for EPSG:4490 */
    assert_true(OGR_G_GetX(g, 0) == 116.1);
    assert_true(OGR_G_GetY(g, 0) == 28.700001);
    assert_string_equal(OGR_F_GetFieldAsString(f, 2), "鄱阳湖国家级自然保护区");
    assert_string_equal(OGR_F_GetFieldAsString(f, 15), records[0].basis);
    assert_true(OGR_F_GetFieldAsDouble(f, 7) == 12345.68);
    assert_true(OGR_F_GetFieldAsDouble(f, 10) == 116.1);
    assert_true(OGR_F_GetFieldAsDouble(f, 11) == 28.700001);
    assert_true(OGR_F_GetFieldAsDouble(f, 14) == 0.877);
    assert_true(OGR_F_GetFieldAsDouble(f, 22) == 0.7);
    OGR_F_Destroy(f);

    OGRLayerH patches = GDALDatasetGetLayerByName(ds, "patches");
    f = OGR_L_GetNextFeature(patches);
    assert_non_null(f);
    g = OGR_F_GetGeometryRef(f);
    assert_int_equal(OGR_G_GetGeometryType(g), wkbMultiPolygon);
    assert_true(fabs(OGR_G_Area(g) - 10000.0) < 1e-6);
    assert_string_equal(OGR_F_GetFieldAsString(f, 0), "R01-0001");
    OGR_F_Destroy(f);

    /* GeoPackage's "last changed" stamp is the fixed date, not today */
    OGRLayerH sql = GDALDatasetExecuteSQL(
        ds, "SELECT DISTINCT last_change FROM gpkg_contents", NULL, NULL);
    assert_non_null(sql);
    assert_int_equal(OGR_L_GetFeatureCount(sql, TRUE), 1);
    f = OGR_L_GetNextFeature(sql);
    assert_string_equal(OGR_F_GetFieldAsString(f, 0),
                        "2000/01/01 00:00:00+00");
    OGR_F_Destroy(f);
    GDALDatasetReleaseResultSet(ds, sql);
    GDALClose(ds);

    size_t len;
    char *csv = slurp(join(path, sizeof(path), dir, "points.csv"), &len);
    const char *row_end = strstr(csv_rows, "\r\n") + 2;
    char want[4096];
    snprintf(want, sizeof(want), "%s%s%.*s", BOM, CSV_HEADER,
             (int)(row_end - csv_rows), csv_rows);
    assert_string_equal(csv, want);
    free(csv);
    free_records(d, 1);
}

static void test_detections_three(void **state)
{
    (void)state;
    char dir[512], path[1024];
    subdir(dir, sizeof(dir), "det3");
    rw_detection *d = make_records(3);
    write_ok(dir, d, 3);

    GDALDatasetH ds = open_checked(dir, 3);
    OGRLayerH points = GDALDatasetGetLayerByName(ds, "points");
    static const double lon[3] = {116.1, 116.2, 117.5};
    OGRFeatureH f;
    for (int i = 0; (f = OGR_L_GetNextFeature(points)) != NULL; i++) {
        assert_true(i < 3);
        assert_string_equal(OGR_F_GetFieldAsString(f, 0), records[i].id);
        assert_string_equal(OGR_F_GetFieldAsString(f, 3), records[i].zone);
        assert_true(OGR_G_GetX(OGR_F_GetGeometryRef(f), 0) == lon[i]);
        OGR_F_Destroy(f);
    }
    OGRLayerH patches = GDALDatasetGetLayerByName(ds, "patches");
    while ((f = OGR_L_GetNextFeature(patches)) != NULL) {
        assert_int_equal(OGR_G_GetGeometryType(OGR_F_GetGeometryRef(f)),
                         wkbMultiPolygon);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);

    size_t len;
    char *csv = slurp(join(path, sizeof(path), dir, "points.csv"), &len);
    assert_memory_equal(csv, BOM, 3);
    char want[8192];
    snprintf(want, sizeof(want), "%s%s%s", BOM, CSV_HEADER, csv_rows);
    assert_string_equal(csv, want);
    free(csv);

    assert_int_equal(file_mode(join(path, sizeof(path), dir, "points.csv")),
                     0600);
    assert_int_equal(
        file_mode(join(path, sizeof(path), dir, "detections.gpkg")), 0600);
    assert_int_equal(count_entries(dir), 2); /* no temporaries left */
    free_records(d, 3);
}

/* Two writes of the same data, apart in time, in two folders and over an
 * existing output: the same bytes (cmp). */
static void test_detections_deterministic(void **state)
{
    (void)state;
    char a[512], b[512], pa[1024], pb[1024], keep[1024];
    subdir(a, sizeof(a), "det_a");
    subdir(b, sizeof(b), "det_b");
    rw_detection *d = make_records(3);
    write_ok(a, d, 3);
    sleep(1);
    write_ok(b, d, 3);
    static const char *const names[2] = {"detections.gpkg", "points.csv"};
    for (int k = 0; k < 2; k++)
        assert_true(same_bytes(join(pa, sizeof(pa), a, names[k]),
                               join(pb, sizeof(pb), b, names[k])));

    join(keep, sizeof(keep), tmp_dir, "det_a_first.gpkg");
    assert_int_equal(rename(join(pa, sizeof(pa), a, "detections.gpkg"), keep), 0);
    write_ok(a, d, 3);
    assert_true(same_bytes(keep, pa));

    /* the caller's own OGR_CURRENT_DATE comes back unchanged */
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", "1999-12-31T00:00:00Z");
    write_ok(a, d, 3);
    assert_true(same_bytes(keep, pa));
    assert_string_equal(CPLGetThreadLocalConfigOption("OGR_CURRENT_DATE", NULL),
                        "1999-12-31T00:00:00Z");
    CPLSetThreadLocalConfigOption("OGR_CURRENT_DATE", NULL);
    write_ok(a, d, 3);
    assert_null(CPLGetThreadLocalConfigOption("OGR_CURRENT_DATE", NULL));
    free_records(d, 3);
}

static void test_detections_missing_dir(void **state)
{
    (void)state;
    char dir[1024];
    join(dir, sizeof(dir), tmp_dir, "no-such-dir");
    const int before = count_entries(tmp_dir);
    rw_detection *d = make_records(1);
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_io_write_detections(dir, utm_wkt, d, 1, &err),
                     RW_ERR_IO);
    assert_int_equal(err.status, RW_ERR_IO);
    assert_non_null(strstr(err.message, dir));
    assert_int_equal(count_entries(tmp_dir), before);
    assert_int_equal(count_entries(dir), -1);
    free_records(d, 1);
}

/* A record that breaks the GeoPackage write half way: no temporaries are
 * left and the previous outputs stay as they were. */
static void test_detections_failure_keeps_previous(void **state)
{
    (void)state;
    char dir[512], path[1024], keep[1024];
    subdir(dir, sizeof(dir), "det_fail");
    rw_detection *d = make_records(3);
    write_ok(dir, d, 3);
    join(keep, sizeof(keep), tmp_dir, "det_fail_before.csv");
    size_t len;
    char *before = slurp(join(path, sizeof(path), dir, "points.csv"), &len);
    spit(keep, before, len);
    free(before);

    unsigned char junk[5] = {1, 99, 0, 0, 0};
    unsigned char *wkb = d[2].wkb;
    const size_t wkb_size = d[2].wkb_size;
    d[2].wkb = junk;
    d[2].wkb_size = sizeof(junk);
    d[1].area_m2 = 7.0; /* a change that must not reach the CSV */
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_io_write_detections(dir, utm_wkt, d, 3, &err),
                     RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "R02-0001"));
    assert_int_equal(count_entries(dir), 2);
    assert_true(same_bytes(keep, join(path, sizeof(path), dir, "points.csv")));

    /* a record without geometry is refused before any file is made */
    char empty[512];
    subdir(empty, sizeof(empty), "det_fail_empty");
    d[2].wkb = NULL;
    rw_error_clear(&err);
    assert_int_equal(rw_io_write_detections(empty, utm_wkt, d, 3, &err),
                     RW_ERR_INTERNAL);
    assert_int_equal(count_entries(empty), 0);

    d[2].wkb = wkb;
    d[2].wkb_size = wkb_size;
    d[1].area_m2 = NAN;
    rw_error_clear(&err);
    assert_int_equal(rw_io_write_detections(empty, utm_wkt, d, 3, &err),
                     RW_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "area_m2"));
    assert_int_equal(count_entries(empty), 0);
    free_records(d, 3);
}

static void test_detections_bad_crs(void **state)
{
    (void)state;
    char dir[512];
    subdir(dir, sizeof(dir), "det_crs");
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_io_write_detections(dir, "not a CRS", NULL, 0, &err),
                     RW_ERR_USAGE);
    assert_non_null(strstr(err.message, "not valid WKT"));
    rw_error_clear(&err);
    assert_int_equal(rw_io_write_detections(dir, NULL, NULL, 0, &err),
                     RW_ERR_USAGE);
    assert_int_equal(count_entries(dir), 0);
}

/* ---- fixture ---------------------------------------------------------- */

/* Written and read back: every field and the polygon (as geometry: the
 * writer stores MultiPolygons) survive, in the file's order, and the
 * analysis CRS comes back. */
static void test_detections_read_roundtrip(void **state)
{
    (void)state;
    char dir[512], path[1024];
    subdir(dir, sizeof(dir), "read3");
    rw_detection *d = make_records(3);
    write_ok(dir, d, 3);
    rw_detection *back = NULL;
    size_t n = 0;
    char *wkt = NULL;
    rw_error err;
    rw_error_clear(&err);
    assert_int_equal(rw_io_read_detections(join(path, sizeof(path), dir, "detections.gpkg"),
                                           &back, &n, &wkt, &err), RW_OK);
    assert_int_equal(n, 3);
    OGRSpatialReferenceH a = OSRNewSpatialReference(utm_wkt), b = OSRNewSpatialReference(wkt);
    assert_true(OSRIsSame(a, b));
    OSRDestroySpatialReference(a);
    OSRDestroySpatialReference(b);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(back[i].id, d[i].id);
        assert_string_equal(back[i].reserve_name, d[i].reserve_name);
        assert_string_equal(back[i].zone, d[i].zone);
        assert_string_equal(back[i].basis, d[i].basis);
        assert_string_equal(back[i].lon_dms, d[i].lon_dms);
        assert_string_equal(back[i].after_date, d[i].after_date);
        assert_true(fabs(back[i].lon - d[i].lon) < 5e-7);
        assert_true(fabs(back[i].lat - d[i].lat) < 5e-7);
        assert_true(fabs(back[i].area_m2 - d[i].area_m2) <= 0.005 + 1e-9); /* rounded half up to 2 decimals */
        assert_true(fabs(back[i].zone_fraction[2] - d[i].zone_fraction[2]) < 5e-5);
        OGRGeometryH g0 = NULL, g1 = NULL;
        assert_int_equal(OGR_G_CreateFromWkb(d[i].wkb, NULL, &g0, (int)d[i].wkb_size), OGRERR_NONE);
        assert_int_equal(OGR_G_CreateFromWkb(back[i].wkb, NULL, &g1, (int)back[i].wkb_size), OGRERR_NONE);
        assert_true(fabs(OGR_G_Area(g0) - OGR_G_Area(g1)) < 1e-6);
        assert_true(OGR_G_Equals(g0, g1) || OGR_G_Within(g0, g1));
        OGR_G_DestroyGeometry(g0);
        OGR_G_DestroyGeometry(g1);
    }
    rw_io_detections_free(back, n);
    free(wkt);
    free_records(d, 3);
}

/* Not a detections file, a missing file, a point without its patch: one
 * message naming the file, nothing returned. */
static void test_detections_read_errors(void **state)
{
    (void)state;
    char dir[512], path[1024], cmd[2048];
    rw_detection *back = NULL;
    size_t n = 0;
    char *wkt = NULL;
    rw_error err;
    rw_error_clear(&err);
    subdir(dir, sizeof(dir), "readbad");
    assert_int_equal(rw_io_read_detections(join(path, sizeof(path), dir, "none.gpkg"), &back, &n, &wkt,
                                           &err), RW_ERR_IO);
    assert_non_null(strstr(err.message, "none.gpkg"));
    assert_null(back);

    rw_detection *d = make_records(2);
    write_ok(dir, d, 2);
    join(path, sizeof(path), dir, "detections.gpkg");
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_UPDATE, NULL, NULL, NULL);
    assert_non_null(ds);
    snprintf(cmd, sizeof(cmd), "DELETE FROM patches WHERE id = '%s'", d[1].id);
    GDALDatasetReleaseResultSet(ds, GDALDatasetExecuteSQL(ds, cmd, NULL, NULL));
    GDALClose(ds);
    rw_error_clear(&err);
    assert_int_equal(rw_io_read_detections(path, &back, &n, &wkt, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, d[1].id));
    assert_null(back);
    assert_null(wkt);

    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_UPDATE, NULL, NULL, NULL);
    GDALDatasetReleaseResultSet(ds, GDALDatasetExecuteSQL(ds, "DROP TABLE points", NULL, NULL));
    GDALClose(ds);
    rw_error_clear(&err);
    assert_int_equal(rw_io_read_detections(path, &back, &n, &wkt, &err), RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "points"));
    free_records(d, 2);
}

/* A name from the boundary file that a spreadsheet would run as a formula
 * is written as text (leading apostrophe); numbers are left alone. */
static void test_detections_csv_formula(void **state)
{
    (void)state;
    char dir[512], path[1024];
    subdir(dir, sizeof(dir), "formula");
    rw_detection *d = make_records(1);
    snprintf(d[0].reserve_name, sizeof(d[0].reserve_name), "=HYPERLINK(\"http://x\")");
    snprintf(d[0].county, sizeof(d[0].county), "@余干县");
    write_ok(dir, d, 1);
    size_t len;
    char *csv = slurp(join(path, sizeof(path), dir, "points.csv"), &len);
    assert_non_null(strstr(csv, ",\"'=HYPERLINK(\"\"http://x\"\")\","));
    assert_non_null(strstr(csv, ",'@余干县,"));
    assert_null(strstr(csv, ",'1")); /* numbers unguarded */
    free(csv);
    free_records(d, 1);
}

static int setup(void **state)
{
    (void)state;
    GDALAllRegister();
    CPLSetErrorHandler(CPLQuietErrorHandler);
    umask(022);
    if (mkdtemp(tmp_dir) == NULL)
        return -1;
    OGRSpatialReferenceH utm = OSRNewSpatialReference(NULL);
    const bool ok = OSRImportFromEPSG(utm, 32650) == OGRERR_NONE &&
                    OSRExportToWkt(utm, &utm_wkt) == OGRERR_NONE;
    OSRDestroySpatialReference(utm);
    return ok ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(tmp_dir);
    CPLFree(utm_wkt);
    GDALDestroyDriverManager();
    OSRCleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detections_read_roundtrip),
        cmocka_unit_test(test_detections_csv_formula),
        cmocka_unit_test(test_detections_read_errors),
        cmocka_unit_test(test_u16_to_reflectance),
        cmocka_unit_test(test_fits_u16),
        cmocka_unit_test(test_sha256_known),
        cmocka_unit_test(test_sha256_large),
        cmocka_unit_test(test_sha256_missing),
        cmocka_unit_test(test_json_structure),
        cmocka_unit_test(test_json_misuse),
        cmocka_unit_test(test_json_write_atomic),
        cmocka_unit_test(test_manifest_add_file),
        cmocka_unit_test(test_detections_empty),
        cmocka_unit_test(test_detections_one),
        cmocka_unit_test(test_detections_three),
        cmocka_unit_test(test_detections_deterministic),
        cmocka_unit_test(test_detections_missing_dir),
        cmocka_unit_test(test_detections_failure_keeps_previous),
        cmocka_unit_test(test_detections_bad_crs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
