/* detections.gpkg and points.csv from the scan's detection records. The
 * field list is one table, so both layers and the CSV cannot drift apart. */
#include "detections_write.h"
#include "detections_columns.h"
#include "reproducible.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <errno.h>
#include <fcntl.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GPKG_NAME "detections.gpkg"
#define CSV_NAME "points.csv"
#define GEO_EPSG 4490 /* CGCS2000 lon/lat: what field teams and ministry lists use */


typedef rw_status (*det_geometry_fn)(const rw_detection *d, OGRGeometryH *out,
                                     rw_error *err);

typedef struct det_layer {
    const char *name;
    OGRwkbGeometryType type;
    bool geographic; /* EPSG:4490 lon/lat; otherwise the analysis CRS */
    det_geometry_fn geometry;
} det_layer;


/* Half up on the double itself, so printf("%.*f") of the result and the
 * REAL stored in the GeoPackage agree to the last decimal. */
static double round_fixed(double v, int decimals)
{
    static const double scale[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    return floor(v * scale[decimals] + 0.5) / scale[decimals];
}

/* Every record is checked before any file is created, so a broken record
 * costs no partial output. */
static rw_status check_record(const rw_detection *d, size_t index,
                              rw_error *err)
{
    rw_status st = RW_OK;
    RW_FAIL_IF(strnlen(d->id, sizeof(d->id)) == sizeof(d->id), err,
               RW_ERR_INTERNAL, "detection %zu: id is not terminated", index);
    for (size_t k = 0; k < RW_DET_NCOLUMNS; k++) {
        const rw_det_column *c = &rw_det_columns[k];
        if (c->kind == RW_DET_TEXT)
            RW_FAIL_IF(strnlen(rw_det_column_text(d, c), c->size) == c->size, err,
                       RW_ERR_INTERNAL, "detection %s: %s is not terminated",
                       d->id, c->name);
        else
            RW_FAIL_IF(!isfinite(rw_det_column_real(d, c)), err, RW_ERR_INTERNAL,
                       "detection %s: %s is not a finite number", d->id,
                       c->name);
    }
    RW_FAIL_IF(d->wkb == NULL || d->wkb_size == 0, err, RW_ERR_INTERNAL,
               "detection %s: no patch geometry", d->id);
done:
    return st;
}

/* Creates path empty with mode 0600 whatever the umask, so the ministry's
 * points are never readable by others, not even while being written. A
 * stale temporary from a crashed run is removed first; O_EXCL still refuses
 * anything planted in between. */
static rw_status create_private(const char *path, int *fd_out, rw_error *err)
{
    rw_status st = RW_OK;
    (void)unlink(path);
    const int fd =
        open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    RW_FAIL_IF(fd < 0, err, RW_ERR_IO, "%s: cannot create: %s", path,
               strerror(errno));
    if (fchmod(fd, 0600) != 0) {
        const int e = errno;
        close(fd);
        RW_FAIL(err, RW_ERR_IO, "%s: cannot set mode 0600: %s", path,
                strerror(e));
    }
    *fd_out = fd;
done:
    return st;
}

/* SQLite runs with synchronous=OFF under GDAL: flush the finished file
 * before the rename publishes it. */
static rw_status fsync_path(const char *path, rw_error *err)
{
    rw_status st = RW_OK;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    RW_FAIL_IF(fd < 0, err, RW_ERR_IO, "%s: cannot open: %s", path,
               strerror(errno));
    const int rc = fsync(fd);
    const int e = errno;
    close(fd);
    RW_FAIL_IF(rc != 0, err, RW_ERR_IO, "%s: cannot sync: %s", path,
               strerror(e));
done:
    return st;
}

static rw_status make_patch(const rw_detection *d, OGRGeometryH *out,
                            rw_error *err)
{
    rw_status st = RW_OK;
    OGRGeometryH g = NULL;
    RW_FAIL_IF(OGR_G_CreateFromWkbEx(d->wkb, NULL, &g, d->wkb_size) !=
                   OGRERR_NONE,
               err, RW_ERR_INTERNAL, "detection %s: patch WKB cannot be read",
               d->id);
    g = OGR_G_ForceToMultiPolygon(g);
    RW_FAIL_IF(wkbFlatten(OGR_G_GetGeometryType(g)) != wkbMultiPolygon, err,
               RW_ERR_INTERNAL, "detection %s: patch WKB is not a polygon",
               d->id);
    /* the layer is 2D: a Z from the producer would make GDAL warn per feature */
    OGR_G_FlattenTo2D(g);
    *out = g;
    g = NULL;
done:
    if (g != NULL)
        OGR_G_DestroyGeometry(g);
    return st;
}

static rw_status make_point(const rw_detection *d, OGRGeometryH *out,
                            rw_error *err)
{
    rw_status st = RW_OK;
    OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);
    RW_FAIL_IF(g == NULL, err, RW_ERR_NOMEM, "detection %s: no memory for a point",
               d->id);
    OGR_G_SetPoint_2D(g, 0, round_fixed(d->lon, RW_DET_LONLAT_DECIMALS),
                      round_fixed(d->lat, RW_DET_LONLAT_DECIMALS));
    *out = g;
done:
    return st;
}

static const det_layer layers[] = {
    {"patches", wkbMultiPolygon, false, make_patch},
    {"points", wkbPoint, true, make_point},
};

static rw_status create_layer(GDALDatasetH ds, const char *tmp,
                              const det_layer *spec, OGRSpatialReferenceH srs,
                              OGRLayerH *out, rw_error *err)
{
    rw_status st = RW_OK;
    OGRFieldDefnH fd = NULL;
    /* Spelled out rather than left to driver defaults, so the schema does
     * not change with the GDAL version. */
    /* CSLConstList is plain char ** to C callers */
    char *options[] = {"GEOMETRY_NAME=geom", "FID=fid", "SPATIAL_INDEX=YES",
                       NULL};
    CPLErrorReset();
    OGRLayerH layer = GDALDatasetCreateLayer(ds, spec->name, srs, spec->type,
                                             options);
    RW_FAIL_IF(layer == NULL, err, RW_ERR_IO, "%s: cannot create layer %s: %s",
               tmp, spec->name, CPLGetLastErrorMsg());
    for (size_t k = 0; k < RW_DET_NCOLUMNS; k++) {
        fd = OGR_Fld_Create(rw_det_columns[k].name, rw_det_columns[k].kind == RW_DET_TEXT
                                                 ? OFTString
                                                 : OFTReal);
        OGR_Fld_SetSubType(fd, OFSTNone);
        RW_FAIL_IF(OGR_L_CreateField(layer, fd, TRUE) != OGRERR_NONE, err,
                   RW_ERR_IO, "%s: layer %s: cannot create field %s: %s", tmp,
                   spec->name, rw_det_columns[k].name, CPLGetLastErrorMsg());
        OGR_Fld_Destroy(fd);
        fd = NULL;
    }
    *out = layer;
done:
    if (fd != NULL)
        OGR_Fld_Destroy(fd);
    return st;
}

static void set_fields(OGRFeatureH feat, const rw_detection *d)
{
    for (size_t k = 0; k < RW_DET_NCOLUMNS; k++) {
        const rw_det_column *c = &rw_det_columns[k];
        if (c->kind == RW_DET_TEXT)
            OGR_F_SetFieldString(feat, (int)k, rw_det_column_text(d, c));
        else
            OGR_F_SetFieldDouble(feat, (int)k,
                                 round_fixed(rw_det_column_real(d, c), c->decimals));
    }
}

/* One transaction per layer: SQLite commits once instead of per feature. */
static rw_status write_layer(GDALDatasetH ds, const char *tmp,
                             const det_layer *spec, OGRSpatialReferenceH srs,
                             const rw_detection *d, size_t n, rw_error *err)
{
    rw_status st = RW_OK;
    OGRFeatureH feat = NULL;
    bool in_transaction = false;
    OGRLayerH layer = NULL;
    RW_CHECK(create_layer(ds, tmp, spec, srs, &layer, err));
    RW_FAIL_IF(GDALDatasetStartTransaction(ds, FALSE) != OGRERR_NONE, err,
               RW_ERR_IO, "%s: cannot start a transaction: %s", tmp,
               CPLGetLastErrorMsg());
    in_transaction = true;
    for (size_t i = 0; i < n; i++) {
        feat = OGR_F_Create(OGR_L_GetLayerDefn(layer));
        RW_FAIL_IF(feat == NULL, err, RW_ERR_NOMEM,
                   "%s: no memory for a feature", tmp);
        set_fields(feat, &d[i]);
        OGRGeometryH g;
        RW_CHECK(spec->geometry(&d[i], &g, err));
        OGR_F_SetGeometryDirectly(feat, g);
        CPLErrorReset();
        RW_FAIL_IF(OGR_L_CreateFeature(layer, feat) != OGRERR_NONE, err,
                   RW_ERR_IO, "%s: layer %s: cannot write detection %s: %s",
                   tmp, spec->name, d[i].id, CPLGetLastErrorMsg());
        OGR_F_Destroy(feat);
        feat = NULL;
    }
    in_transaction = false;
    CPLErrorReset();
    RW_FAIL_IF(GDALDatasetCommitTransaction(ds) != OGRERR_NONE, err,
               RW_ERR_IO, "%s: layer %s: commit failed: %s", tmp, spec->name,
               CPLGetLastErrorMsg());
done:
    if (feat != NULL)
        OGR_F_Destroy(feat);
    if (in_transaction)
        GDALDatasetRollbackTransaction(ds);
    return st;
}

/* SQLite may leave a journal beside a GeoPackage that failed mid-write. */
static void remove_gpkg_temp(const char *tmp)
{
    char side[4096 + 16];
    (void)unlink(tmp);
    snprintf(side, sizeof(side), "%s-journal", tmp);
    (void)unlink(side);
    snprintf(side, sizeof(side), "%s-wal", tmp);
    (void)unlink(side);
    snprintf(side, sizeof(side), "%s-shm", tmp);
    (void)unlink(side);
}

static rw_status write_gpkg(const char *tmp, const char *analysis_wkt,
                            const rw_detection *d, size_t n, rw_error *err)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH srs[2] = {NULL, NULL}; /* analysis, EPSG:4490 */
    GDALDatasetH ds = NULL;
    rw_gpkg_date date;
    bool date_set = false;

    RW_FAIL_IF(analysis_wkt == NULL || analysis_wkt[0] == '\0', err,
               RW_ERR_USAGE, "write detections: no analysis CRS given");
    CPLErrorReset();
    srs[0] = OSRNewSpatialReference(analysis_wkt);
    RW_FAIL_IF(srs[0] == NULL, err, RW_ERR_USAGE,
               "write detections: the analysis CRS is not valid WKT: %s",
               CPLGetLastErrorMsg());
    /* x is easting (or longitude) whatever axis order the CRS declares */
    OSRSetAxisMappingStrategy(srs[0], OAMS_TRADITIONAL_GIS_ORDER);
    srs[1] = OSRNewSpatialReference(NULL);
    RW_FAIL_IF(srs[1] == NULL || OSRImportFromEPSG(srs[1], GEO_EPSG) !=
                                     OGRERR_NONE,
               err, RW_ERR_INTERNAL, "EPSG:%d unknown (PROJ database?): %s",
               GEO_EPSG, CPLGetLastErrorMsg());
    /* EPSG:4490 declares lat/lon; field points are stored as POINT(lon lat) */
    OSRSetAxisMappingStrategy(srs[1], OAMS_TRADITIONAL_GIS_ORDER);

    /* a crashed run may have left the temporary, and GDAL refuses to
     * create over an existing file */
    remove_gpkg_temp(tmp);

    rw_io_gpkg_date_fix(&date);
    date_set = true;

    CPLErrorReset();
    GDALDriverH drv = GDALGetDriverByName("GPKG");
    RW_FAIL_IF(drv == NULL, err, RW_ERR_INTERNAL,
               "%s: the GPKG driver is not registered", tmp);
    ds = GDALCreate(drv, tmp, 0, 0, 0, GDT_Unknown, NULL);
    RW_FAIL_IF(ds == NULL, err, RW_ERR_IO, "%s: cannot create: %s", tmp,
               CPLGetLastErrorMsg());
    /* GDAL creates with the umask's mode; narrowing it before any record is
     * written keeps the points private, and SQLite gives its journal the
     * database file's mode. */
    RW_FAIL_IF(chmod(tmp, 0600) != 0, err, RW_ERR_IO,
               "%s: cannot set mode 0600: %s", tmp, strerror(errno));
    for (size_t k = 0; k < sizeof(layers) / sizeof(layers[0]); k++)
        RW_CHECK(write_layer(ds, tmp, &layers[k],
                             srs[layers[k].geographic ? 1 : 0], d, n, err));

    /* GDAL 3.6's GDALClose returns nothing: a failed flush shows only as
     * the last error. */
    GDALDatasetH closing = ds;
    ds = NULL;
    CPLErrorReset();
    GDALClose(closing);
    RW_FAIL_IF(CPLGetLastErrorType() >= CE_Failure, err, RW_ERR_IO,
               "%s: cannot close: %s", tmp, CPLGetLastErrorMsg());
    RW_CHECK(fsync_path(tmp, err));
done:
    if (ds != NULL)
        GDALClose(ds);
    if (date_set)
        rw_io_gpkg_date_restore(&date);
    OSRDestroySpatialReference(srs[0]);
    OSRDestroySpatialReference(srs[1]);
    return st;
}

static void csv_put_record(FILE *f, const rw_detection *d)
{
    for (size_t k = 0; k < RW_DET_NCOLUMNS; k++) {
        const rw_det_column *c = &rw_det_columns[k];
        if (k > 0)
            fputc(',', f);
        if (c->kind == RW_DET_TEXT)
            rw_csv_put_cell(f, rw_det_column_text(d, c), false);
        else
            fprintf(f, "%.*f", c->decimals,
                    round_fixed(rw_det_column_real(d, c), c->decimals));
    }
    fputs("\r\n", f);
}

static rw_status write_csv(const char *tmp, const rw_detection *d, size_t n,
                           rw_error *err)
{
    rw_status st = RW_OK;
    int fd = -1;
    FILE *f = NULL;
    RW_CHECK(create_private(tmp, &fd, err));
    f = fdopen(fd, "wb");
    RW_FAIL_IF(f == NULL, err, RW_ERR_IO, "%s: cannot open: %s", tmp,
               strerror(errno));
    fd = -1;
    /* the BOM is what makes Excel read the Chinese names as UTF-8 */
    fputs("\xEF\xBB\xBF", f);
    for (size_t k = 0; k < RW_DET_NCOLUMNS; k++) {
        if (k > 0)
            fputc(',', f);
        fputs(rw_det_columns[k].name, f);
    }
    fputs("\r\n", f);
    for (size_t i = 0; i < n; i++)
        csv_put_record(f, &d[i]);
    RW_FAIL_IF(fflush(f) != 0 || ferror(f), err, RW_ERR_IO,
               "%s: cannot write: %s", tmp, strerror(errno));
    RW_FAIL_IF(fsync(fileno(f)) != 0, err, RW_ERR_IO, "%s: cannot sync: %s",
               tmp, strerror(errno));
    FILE *closing = f;
    f = NULL;
    RW_FAIL_IF(fclose(closing) != 0, err, RW_ERR_IO, "%s: cannot close: %s",
               tmp, strerror(errno));
done:
    if (f != NULL)
        fclose(f);
    if (fd >= 0)
        close(fd);
    return st;
}

rw_status rw_io_write_detections(const char *dir, const char *analysis_wkt,
                                 const rw_detection *d, size_t n,
                                 rw_error *err)
{
    rw_status st = RW_OK;
    char gpkg_path[4096] = "", gpkg_tmp[4096] = "";
    char csv_path[4096] = "", csv_tmp[4096] = "";
    bool gpkg_published = false;

    RW_FAIL_IF(dir == NULL || (d == NULL && n > 0), err, RW_ERR_USAGE,
               "write detections: no folder or no records");
    RW_CHECK(rw_format(gpkg_path, sizeof(gpkg_path), err, "%s/" GPKG_NAME,
                       dir));
    /* GDAL picks the driver by extension: the temporary keeps .gpkg */
    RW_CHECK(rw_format(gpkg_tmp, sizeof(gpkg_tmp), err,
                       "%s/." GPKG_NAME ".partial.gpkg", dir));
    RW_CHECK(rw_format(csv_path, sizeof(csv_path), err, "%s/" CSV_NAME, dir));
    RW_CHECK(rw_format(csv_tmp, sizeof(csv_tmp), err,
                       "%s/." CSV_NAME ".partial", dir));
    for (size_t i = 0; i < n; i++)
        RW_CHECK(check_record(&d[i], i, err));

    RW_CHECK(write_gpkg(gpkg_tmp, analysis_wkt, d, n, err));
    RW_CHECK(write_csv(csv_tmp, d, n, err));
    RW_FAIL_IF(rename(gpkg_tmp, gpkg_path) != 0, err, RW_ERR_IO,
               "%s: cannot rename to %s: %s", gpkg_tmp, gpkg_path,
               strerror(errno));
    gpkg_published = true;
    RW_FAIL_IF(rename(csv_tmp, csv_path) != 0, err, RW_ERR_IO,
               "%s: cannot rename to %s: %s", csv_tmp, csv_path,
               strerror(errno));
done:
    if (st != RW_OK) {
        if (gpkg_tmp[0] != '\0')
            remove_gpkg_temp(gpkg_tmp);
        if (csv_tmp[0] != '\0')
            (void)unlink(csv_tmp);
        /* a GeoPackage without its CSV would be half an output */
        if (gpkg_published)
            (void)unlink(gpkg_path);
    }
    return st;
}
