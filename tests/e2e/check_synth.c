/* Checks a Sentinel-2 `reservewatch synth` folder against what it claims:
 * the scene-classification band's land covers are separated by the
 * reflectance bands (vegetation by NDVI, water by NDWI and MNDWI), and
 * every planted truth polygon covers exactly its recorded pixels, which
 * show the planted cover in the scenes. Prints PASS/FAIL lines.
 * usage: check_synth DIR */
#include <gdal.h>
#include <gdal_alg.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B_BLUE = 1, B_GREEN, B_RED, B_NIR, B_SWIR1, B_SWIR2, B_SCL };
enum { SCL_VEG = 4, SCL_BARE = 5, SCL_WATER = 6 };

static int failures;

static void check(int ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void check(int ok, const char *what, const char *fmt, ...)
{
    va_list ap;
    printf("%s %s: ", ok ? "PASS" : "FAIL", what);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    failures += !ok;
}

static float *read_band(GDALDatasetH ds, int band, int x, int y, int w, int h)
{
    float *buf = malloc((size_t)w * (size_t)h * sizeof(float));
    if (buf && GDALRasterIO(GDALGetRasterBand(ds, band), GF_Read, x, y, w, h, buf, w, h,
                            GDT_Float32, 0, 0) != CE_None) {
        free(buf);
        buf = NULL;
    }
    return buf;
}

static double nd(float a, float b) { return (a - b) / (a + b + 1e-6f); }

/* Land covers as the SCL band labels them must be apart in the bands. */
static void check_covers(GDALDatasetH ds)
{
    const int w = GDALGetRasterXSize(ds), h = GDALGetRasterYSize(ds);
    float *g = read_band(ds, B_GREEN, 0, 0, w, h), *r = read_band(ds, B_RED, 0, 0, w, h);
    float *n = read_band(ds, B_NIR, 0, 0, w, h), *s1 = read_band(ds, B_SWIR1, 0, 0, w, h);
    float *scl = read_band(ds, B_SCL, 0, 0, w, h);
    double sum[3][3] = {{0}}; /* class (veg, bare, water) x (ndvi, ndwi, mndwi) */
    size_t count[3] = {0}, veg_ok = 0, water_ok = 0, bare_ok = 0, clear = 0;
    for (size_t i = 0; g && r && n && s1 && scl && i < (size_t)w * (size_t)h; i++) {
        const int c = (int)scl[i] - SCL_VEG;
        if (c < 0 || c > 2)
            continue; /* cloud, shadow, nodata */
        clear++;
        const double v[3] = {nd(n[i], r[i]), nd(g[i], n[i]), nd(g[i], s1[i])};
        for (int k = 0; k < 3; k++)
            sum[c][k] += v[k];
        count[c]++;
        veg_ok += c == 0 && v[0] >= 0.45;
        bare_ok += c == 1 && v[0] < 0.45;
        water_ok += c == 2 && v[1] >= 0.2 && v[2] >= 0.3;
    }
    if (!scl || count[0] == 0 || count[1] == 0 || count[2] == 0) {
        check(0, "covers", "could not read the scene or a cover is absent");
        goto done;
    }
    check(sum[0][0] / count[0] >= 0.6, "vegetation NDVI", "mean %.3f (>= 0.6)", sum[0][0] / count[0]);
    check(sum[1][0] / count[1] <= 0.35, "bare/built NDVI", "mean %.3f (<= 0.35)", sum[1][0] / count[1]);
    check(sum[2][1] / count[2] >= 0.3 && sum[2][2] / count[2] >= 0.4, "water NDWI/MNDWI",
          "means %.3f (>= 0.3) and %.3f (>= 0.4)", sum[2][1] / count[2], sum[2][2] / count[2]);
    check((double)veg_ok / count[0] >= 0.97 && (double)bare_ok / count[1] >= 0.95 &&
              (double)water_ok / count[2] >= 0.97,
          "covers separate per pixel", "vegetation %.3f, bare %.3f, water %.3f of pixels on their side",
          (double)veg_ok / count[0], (double)bare_ok / count[1], (double)water_ok / count[2]);
    check((double)count[0] / clear >= 0.5, "forest dominant", "vegetation %.3f of clear pixels",
          (double)count[0] / clear);
done:
    free(g), free(r), free(n), free(s1), free(scl);
}

/* Expected SCL class after a planted change and the share of clear pixels
 * that must show it; class 0 when the change is not one cover. Dredging
 * (turbidity) leaves new sand bars inside its turbid water. */
static int after_class(const char *change, double *share)
{
    static const struct { const char *change; int scl; double share; } table[] = {
        {"veg_to_bare", SCL_BARE, 0.95},  {"veg_to_built", SCL_BARE, 0.95},
        {"veg_to_soil", SCL_BARE, 0.95},  {"water_to_land", SCL_BARE, 0.95},
        {"land_to_water", SCL_WATER, 0.95}, {"turbidity", SCL_WATER, 0.8}};
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        if (strcmp(change, table[i].change) == 0) {
            *share = table[i].share;
            return table[i].scl;
        }
    return 0;
}

/* Truth polygons of planted changes: pixel-exact on the last grid. */
static void check_truth(const char *dir, GDALDatasetH before, GDALDatasetH after)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/truth.gpkg", dir);
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR, NULL, NULL, NULL);
    OGRLayerH lyr = ds ? GDALDatasetGetLayer(ds, 0) : NULL;
    if (!lyr) {
        check(0, "truth", "cannot open truth.gpkg");
        return;
    }
    double gt[6];
    GDALGetGeoTransform(after, gt);
    const int W = GDALGetRasterXSize(after), H = GDALGetRasterYSize(after);
    size_t planted = 0, exact = 0, area_ok = 0, cover_ok = 0, cover_n = 0, was_veg = 0, veg_n = 0;
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(lyr)) != NULL) {
        const int pixels = OGR_F_GetFieldAsInteger(f, OGR_F_GetFieldIndex(f, "pixels"));
        const char *change = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "change"));
        OGRGeometryH geom = OGR_F_GetGeometryRef(f);
        if (pixels <= 0 || !geom) {
            OGR_F_Destroy(f);
            continue;
        }
        planted++;
        OGREnvelope e;
        OGR_G_GetEnvelope(geom, &e);
        int x0 = (int)floor((e.MinX - gt[0]) / gt[1]) - 1, x1 = (int)ceil((e.MaxX - gt[0]) / gt[1]) + 1;
        int y0 = (int)floor((e.MaxY - gt[3]) / gt[5]) - 1, y1 = (int)ceil((e.MinY - gt[3]) / gt[5]) + 1;
        x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > W ? W : x1, y1 = y1 > H ? H : y1;
        const int w = x1 - x0, h = y1 - y0;
        GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", w, h, 1, GDT_Byte, NULL);
        const double mgt[6] = {gt[0] + x0 * gt[1], gt[1], 0, gt[3] + y0 * gt[5], 0, gt[5]};
        GDALSetGeoTransform(mem, (double *)mgt);
        int band = 1;
        double burn = 1;
        GDALRasterizeGeometries(mem, 1, &band, 1, &geom, NULL, NULL, &burn, NULL, NULL, NULL);
        unsigned char *m = malloc((size_t)w * (size_t)h);
        if (GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, w, h, m, w, h, GDT_Byte, 0, 0) != CE_None)
            memset(m, 0, (size_t)w * (size_t)h);
        float *sa = read_band(after, B_SCL, x0, y0, w, h), *sb = read_band(before, B_SCL, x0, y0, w, h);
        int inside = 0, same = 0, clear = 0, veg = 0, clear_b = 0;
        double share = 1.0;
        const int want = after_class(change, &share);
        for (int i = 0; i < w * h; i++) {
            if (!m[i])
                continue;
            inside++;
            if (sa[i] >= SCL_VEG && sa[i] <= SCL_WATER) {
                clear++;
                same += (int)sa[i] == want;
            }
            if (sb[i] >= SCL_VEG && sb[i] <= SCL_WATER) {
                clear_b++;
                veg += (int)sb[i] == SCL_VEG;
            }
        }
        exact += inside == pixels;
        area_ok += fabs(OGR_G_Area(geom) - pixels * fabs(gt[1] * gt[5])) < 1e-6 * pixels * fabs(gt[1] * gt[5]);
        if (want && clear > 0) {
            cover_n++;
            cover_ok += same >= share * clear;
            if (same < share * clear)
                printf("note truth %lld (%s): %d of %d clear pixels show class %d\n",
                       (long long)OGR_F_GetFID(f), change, same, clear, want);
        }
        if (strncmp(change, "veg_to_", 7) == 0 && clear_b > 0) {
            veg_n++;
            was_veg += veg >= 0.6 * clear_b;
        }
        if (inside != pixels)
            printf("note truth %lld: %d pixels rasterised, %d recorded\n", (long long)OGR_F_GetFID(f), inside,
                   pixels);
        free(m), free(sa), free(sb);
        GDALClose(mem);
        OGR_F_Destroy(f);
    }
    GDALClose(ds);
    check(planted >= 20, "planted changes", "%zu polygons (>= 20)", planted);
    check(exact == planted, "truth pixel-exact", "%zu of %zu polygons burn exactly their recorded pixels", exact, planted);
    check(area_ok == planted, "truth area = pixels", "%zu of %zu", area_ok, planted);
    check(cover_ok == cover_n && cover_n > 0, "planted cover visible", "%zu of %zu polygons show their cover", cover_ok, cover_n);
    check(was_veg >= 0.9 * veg_n && veg_n > 0, "vegetation before", "%zu of %zu veg_* polygons were vegetated", was_veg, veg_n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: check_synth DIR\n");
        return 2;
    }
    GDALAllRegister();
    char pattern[4096];
    snprintf(pattern, sizeof(pattern), "%s/scene_*.tif", argv[1]);
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc < 2) {
        printf("FAIL scenes: fewer than two in %s\n", argv[1]);
        return 1;
    }
    GDALDatasetH before = GDALOpen(g.gl_pathv[0], GA_ReadOnly);
    GDALDatasetH after = GDALOpen(g.gl_pathv[g.gl_pathc - 1], GA_ReadOnly);
    if (!before || !after || GDALGetRasterCount(after) != B_SCL) {
        printf("FAIL scenes: cannot open, or not a 7-band Sentinel-2 pair\n");
        return 1;
    }
    check_covers(after);
    check_covers(before);
    check_truth(argv[1], before, after);
    GDALClose(before);
    GDALClose(after);
    globfree(&g);
    return failures ? 1 : 0;
}
