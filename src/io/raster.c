/* Scene probing, warping onto the analysis grid and window reads. */
#include "raster.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal_utils.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <string.h>

/* The first yyyymmdd in a file name, or nothing. */
static void date_from_name(const char *path, char date[16])
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (const char *p = base; *p; p++) {
        int y, m, d, n = 0;
        if (sscanf(p, "%4d%2d%2d%n", &y, &m, &d, &n) == 3 && n == 8 && y > 1970 && y < 2200 &&
            m >= 1 && m <= 12 && d >= 1 && d <= 31) {
            snprintf(date, 16, "%04d-%02d-%02d", y, m, d);
            return;
        }
    }
}

/* A date from metadata, or the first yyyymmdd in the file name. */
static void find_date(GDALDatasetH ds, const char *path, char date[16])
{
    static const char *const keys[] = {"ACQUISITION_DATE", "DATE_ACQUIRED", "SENSING_TIME",
                                       "TIFFTAG_DATETIME"};
    date[0] = '\0';
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const char *v = GDALGetMetadataItem(ds, keys[i], NULL);
        int y, m, d;
        if (v != NULL && (sscanf(v, "%4d-%2d-%2d", &y, &m, &d) == 3 || sscanf(v, "%4d:%2d:%2d", &y, &m, &d) == 3)) {
            snprintf(date, 16, "%04d-%02d-%02d", y % 10000, m % 100, d % 100);
            return;
        }
    }
    date_from_name(path, date);
}

/* The file band `band` of VRT ds (opened from path vrt) reads, through
 * nested VRTs (a VRT that gdal_translate -a_scale made of one that
 * gdalbuildvrt -separate made of band files: T48RXT_20170414T032541_B02.tif):
 * false unless each level has exactly one source. */
static bool band_source_file(GDALDatasetH ds, const char *vrt, int band, int depth, char *out, size_t size)
{
    bool found = false;
    GDALRasterBandH b = GDALGetRasterBand(ds, band);
    char **src = b != NULL ? GDALGetMetadata(b, "vrt_sources") : NULL;
    CPLXMLNode *xml = CSLCount(src) == 1 ? CPLParseXMLString(CPLParseNameValue(src[0], NULL)) : NULL;
    const char *file = xml != NULL ? CPLGetXMLValue(xml, "SourceFilename", NULL) : NULL;
    if (file != NULL) {
        const bool relative = atoi(CPLGetXMLValue(xml, "SourceFilename.relativeToVRT", "0")) != 0;
        /* a copy: CPLFormFilename's buffer is one of a few that GDAL
         * reuses, and the next level's open would overwrite it */
        char path[4096];
        snprintf(path, sizeof(path), "%s", relative ? CPLFormFilename(CPLGetPath(vrt), file, NULL) : file);
        const int next = atoi(CPLGetXMLValue(xml, "SourceBand", "1"));
        if (!EQUAL(CPLGetExtension(path), "vrt")) {
            found = (size_t)snprintf(out, size, "%s", path) < size;
        } else if (depth < 4) {
            GDALDatasetH inner =
                GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, (const char *const[]){"VRT", NULL}, NULL, NULL);
            found = inner != NULL && band_source_file(inner, path, next, depth + 1, out, size);
            if (inner != NULL)
                GDALClose(inner);
        }
    }
    CPLDestroyXMLNode(xml);
    return found;
}

/* What a VRT's band files say (ds, opened from info->path). Bands without
 * descriptions are named after their source files when each reads its
 * own file (gdalbuildvrt -separate of band files: T48RXT_20170414T032541_B02,
 * LC08_L2SP_..._SR_B4): the band roles are then found by the codes in the
 * names. A VRT over one stacked file would give every band the same name,
 * and is left alone. A VRT without a date takes the one in its first band
 * file's name. */
static void read_band_files(GDALDatasetH ds, rw_raster_info *info)
{
    char file[RW_RASTER_MAX_BANDS][1024];
    bool found[RW_RASTER_MAX_BANDS], named = true;
    for (int b = 0; b < info->bands; b++) {
        found[b] = band_source_file(ds, info->path, b + 1, 0, file[b], sizeof(file[b]));
        if (info->description[b][0] != '\0')
            continue;
        named = named && found[b];
        for (int o = 0; o < b && named; o++)
            named = info->description[o][0] != '\0' || strcmp(file[o], file[b]) != 0;
    }
    if (info->date[0] == '\0' && found[0])
        date_from_name(file[0], info->date);
    for (int b = 0; b < info->bands && named; b++)
        if (info->description[b][0] == '\0')
            snprintf(info->description[b], sizeof(info->description[b]), "%s", CPLGetBasename(file[b]));
}

rw_status rw_raster_probe(const char *path, rw_raster_info *info, rw_error *err)
{
    rw_status st = RW_OK;
    memset(info, 0, sizeof(*info));
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    RW_FAIL_IF(ds == NULL, err, RW_ERR_IO, "%s: cannot open as a raster: %s", path,
               CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg() : "unknown format");
    RW_CHECK(rw_format(info->path, sizeof(info->path), err, "%s", path));
    info->width = GDALGetRasterXSize(ds);
    info->height = GDALGetRasterYSize(ds);
    info->bands = GDALGetRasterCount(ds);
    RW_FAIL_IF(info->bands < 4 || info->bands > RW_RASTER_MAX_BANDS, err, RW_ERR_FORMAT,
               "%s: has %d bands; a scene needs at least blue, green, red and nir", path, info->bands);
    RW_FAIL_IF(GDALGetGeoTransform(ds, info->gt) != CE_None, err, RW_ERR_FORMAT,
               "%s: has no georeferencing (geotransform)", path);
    RW_FAIL_IF(info->gt[2] != 0.0 || info->gt[4] != 0.0, err, RW_ERR_FORMAT,
               "%s: rotated grids are not supported; warp it north-up first (gdalwarp)", path);
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds);
    RW_FAIL_IF(srs == NULL, err, RW_ERR_FORMAT, "%s: has no coordinate reference system", path);
    info->geographic = OSRIsGeographic(srs) != 0;
    RW_FAIL_IF(OSRExportToWkt(srs, &info->wkt) != OGRERR_NONE, err, RW_ERR_FORMAT,
               "%s: its coordinate reference system cannot be exported", path);
    find_date(ds, path, info->date);
    const char *sc = GDALGetMetadataItem(ds, "SPACECRAFT", NULL);
    if (sc == NULL)
        sc = GDALGetMetadataItem(ds, "SATELLITE", NULL);
    snprintf(info->spacecraft, sizeof(info->spacecraft), "%s", sc ? sc : "");
    for (int b = 0; b < info->bands; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        snprintf(info->description[b], sizeof(info->description[b]), "%s", GDALGetDescription(band));
        int ok = 0;
        info->scale[b] = GDALGetRasterScale(band, &ok);
        if (!ok)
            info->scale[b] = 1.0;
        info->offset[b] = GDALGetRasterOffset(band, &ok);
        if (!ok)
            info->offset[b] = 0.0;
        info->nodata[b] = GDALGetRasterNoDataValue(band, &info->has_nodata[b]);
    }
    const char *driver = GDALGetDriverShortName(GDALGetDatasetDriver(ds));
    if (driver != NULL && strcmp(driver, "VRT") == 0)
        read_band_files(ds, info);
done:
    if (ds != NULL)
        GDALClose(ds);
    if (st != RW_OK)
        rw_raster_info_clear(info);
    return st;
}

void rw_raster_info_clear(rw_raster_info *info)
{
    CPLFree(info->wkt);
    memset(info, 0, sizeof(*info));
}

bool rw_raster_same_grid(const rw_raster_info *a, const rw_raster_info *b)
{
    if (a->width != b->width || a->height != b->height)
        return false;
    for (int i = 0; i < 6; i++)
        if (fabs(a->gt[i] - b->gt[i]) > 1e-9 * fmax(1.0, fabs(a->gt[i])))
            return false;
    OGRSpatialReferenceH sa = OSRNewSpatialReference(a->wkt), sb = OSRNewSpatialReference(b->wkt);
    const bool same = sa && sb && OSRIsSame(sa, sb);
    OSRDestroySpatialReference(sa);
    OSRDestroySpatialReference(sb);
    return same;
}

rw_status rw_raster_band_roles(const rw_raster_info *info, const char *profile, const char *bands,
                               rw_profile_match *out, rw_error *err)
{
    if (bands != NULL) {
        const rw_status st = rw_profiles_parse_bands(bands, info->bands, out, err);
        const rw_profile *p = profile ? rw_profiles_find(profile) : NULL;
        if (st == RW_OK && p != NULL)
            out->profile = p; /* the user's roles; the mask decodes as the named profile's */
        return st;
    }
    const char *desc[RW_RASTER_MAX_BANDS];
    for (int b = 0; b < info->bands; b++)
        desc[b] = info->description[b];
    return rw_profiles_detect(profile ? profile : "auto", info->bands, desc,
                              info->spacecraft[0] ? info->spacecraft : NULL, info->path, out, err);
}

rw_status rw_raster_warp_vrt(const rw_raster_info *src, const rw_raster_info *grid,
                             const int *bands, int n, const char *resampling,
                             const double *shift, const char *tag, char *vrt,
                             size_t size, rw_error *err)
{
    rw_status st = RW_OK;
    char sub[512];
    char **targs = NULL, **wargs = NULL;
    GDALTranslateOptions *topt = NULL;
    GDALWarpAppOptions *wopt = NULL;
    GDALDatasetH in = NULL, subset = NULL, out = NULL;
    snprintf(sub, sizeof(sub), "/vsimem/reservewatch/%s_bands.vrt", tag);
    RW_CHECK(rw_format(vrt, size, err, "/vsimem/reservewatch/%s.vrt", tag));
    in = GDALOpenEx(src->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    RW_FAIL_IF(in == NULL, err, RW_ERR_IO, "%s: cannot open: %s", src->path, CPLGetLastErrorMsg());
    /* GDAL 3.6's gdalwarp has no -b: select bands with a VRT first */
    targs = CSLAddString(targs, "-of");
    targs = CSLAddString(targs, "VRT");
    for (int i = 0; i < n; i++) {
        char b[16];
        snprintf(b, sizeof(b), "%d", bands[i]);
        targs = CSLAddString(targs, "-b");
        targs = CSLAddString(targs, b);
    }
    topt = GDALTranslateOptionsNew(targs, NULL);
    subset = GDALTranslate(sub, in, topt, NULL);
    RW_FAIL_IF(subset == NULL, err, RW_ERR_FORMAT, "%s: cannot select bands: %s", src->path,
               CPLGetLastErrorMsg());
    if (shift != NULL) {
        double gt[6];
        memcpy(gt, src->gt, sizeof(gt));
        gt[0] += shift[0];
        gt[3] += shift[1];
        RW_FAIL_IF(GDALSetGeoTransform(subset, gt) != CE_None, err, RW_ERR_INTERNAL,
                   "%s: cannot shift its georeferencing: %s", src->path, CPLGetLastErrorMsg());
    }
    char te[4][32], ts[2][16];
    snprintf(te[0], sizeof(te[0]), "%.10f", grid->gt[0]);
    snprintf(te[1], sizeof(te[1]), "%.10f", grid->gt[3] + grid->height * grid->gt[5]);
    snprintf(te[2], sizeof(te[2]), "%.10f", grid->gt[0] + grid->width * grid->gt[1]);
    snprintf(te[3], sizeof(te[3]), "%.10f", grid->gt[3]);
    snprintf(ts[0], sizeof(ts[0]), "%d", grid->width);
    snprintf(ts[1], sizeof(ts[1]), "%d", grid->height);
    const char *const fixed[] = {"-of", "VRT", "-r", resampling, "-t_srs", grid->wkt, "-te", te[0], te[1],
                                 te[2], te[3], "-ts", ts[0], ts[1], "-dstnodata", "0", NULL};
    for (int i = 0; fixed[i] != NULL; i++)
        wargs = CSLAddString(wargs, fixed[i]);
    wopt = GDALWarpAppOptionsNew(wargs, NULL);
    int usage_error = 0;
    out = GDALWarp(vrt, NULL, 1, &subset, wopt, &usage_error);
    RW_FAIL_IF(out == NULL, err, RW_ERR_INPUT, "%s: cannot be warped onto the analysis grid: %s",
               src->path, CPLGetLastErrorMsg());
done:
    if (out != NULL)
        GDALClose(out);
    if (subset != NULL)
        GDALClose(subset);
    if (in != NULL)
        GDALClose(in);
    GDALWarpAppOptionsFree(wopt);
    GDALTranslateOptionsFree(topt);
    CSLDestroy(wargs);
    CSLDestroy(targs);
    return st;
}

void rw_raster_to_reflectance(const float *in, size_t n, double scale, double offset,
                              int has_nodata, double nodata, float *out)
{
    const float nd = (float)nodata;
    const float s = (float)scale, o = (float)offset;
    for (size_t k = 0; k < n; k++)
        out[k] = (has_nodata && in[k] == nd) ? NAN : in[k] * s + o;
}

void rw_raster_u16_to_reflectance(const uint16_t *restrict in, size_t n, double scale, double offset,
                                  int has_nodata, double nodata, float *restrict out)
{
    const float s = (float)scale, o = (float)offset, nan = NAN;
    /* a nodata value no UInt16 takes matches nothing */
    const int nd = has_nodata && nodata >= 0 && nodata <= 65535 && nodata == floor(nodata) ? (int)nodata : -1;
    int32_t nan_bits;
    memcpy(&nan_bits, &nan, sizeof(nan_bits));
    /* -O2 leaves loops of unknown length scalar unless told (simd), and a
     * float select stays a branch (FP ops may trap): NAN goes in by a
     * bit mask instead, 4 values at a time */
#pragma omp simd
    for (size_t k = 0; k < n; k++) {
        const float v = (float)in[k] * s + o;
        const int32_t m = -(int32_t)((int)in[k] == nd);
        int32_t bits;
        memcpy(&bits, &v, sizeof(bits));
        bits = (bits & ~m) | (nan_bits & m);
        memcpy(&out[k], &bits, sizeof(bits));
    }
}

rw_status rw_raster_read_reflectance(GDALDatasetH ds, const char *what, rw_rect r,
                                     const int *bands, int n, const double *scale,
                                     const double *offset, const int *has_nodata,
                                     const double *nodata, float *const *out,
                                     rw_error *err)
{
    rw_status st = RW_OK;
    const size_t npx = (size_t)r.w * (size_t)r.h;
    for (int i = 0; i < n; i++) {
        GDALRasterBandH b = GDALGetRasterBand(ds, bands[i]);
        RW_FAIL_IF(b == NULL || GDALRasterIO(b, GF_Read, r.x, r.y, r.w, r.h, out[i], r.w, r.h,
                                             GDT_Float32, 0, 0) != CE_None,
                   err, RW_ERR_IO, "%s: read failed at pixel %d,%d: %s", what, r.x, r.y, CPLGetLastErrorMsg());
        rw_raster_to_reflectance(out[i], npx, scale[i], offset[i], has_nodata[i], nodata[i], out[i]);
    }
done:
    return st;
}

bool rw_raster_fits_u16(GDALDatasetH ds, const int *bands, int n)
{
    for (int i = 0; i < n; i++) {
        GDALRasterBandH b = GDALGetRasterBand(ds, bands[i]);
        const GDALDataType t = b != NULL ? GDALGetRasterDataType(b) : GDT_Unknown;
        if (t != GDT_Byte && t != GDT_UInt16)
            return false;
    }
    return true;
}

rw_status rw_raster_read_planes(GDALDatasetH ds, const char *what, rw_rect r,
                                const int *bands, int n, GDALDataType type, void *planes,
                                rw_error *err)
{
    if (GDALDatasetRasterIO(ds, GF_Read, r.x, r.y, r.w, r.h, planes, r.w, r.h, type, n, (int *)bands, 0,
                            0, 0) != CE_None)
        return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: read failed at pixel %d,%d: %s", what, r.x,
                            r.y, CPLGetLastErrorMsg());
    return RW_OK;
}

rw_status rw_raster_read_u16(GDALDatasetH ds, const char *what, rw_rect r, int band,
                             uint16_t *out, rw_error *err)
{
    GDALRasterBandH b = GDALGetRasterBand(ds, band);
    if (b == NULL || GDALRasterIO(b, GF_Read, r.x, r.y, r.w, r.h, out, r.w, r.h, GDT_UInt16, 0, 0) != CE_None)
        return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: read failed at pixel %d,%d: %s", what,
                            r.x, r.y, CPLGetLastErrorMsg());
    return RW_OK;
}
