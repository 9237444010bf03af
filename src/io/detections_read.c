#include "detections_read.h"
#include "detections_columns.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdlib.h>
#include <string.h>

/* Field index of every column in a layer, or a format error naming it. */
static rw_status map_fields(const char *path, OGRLayerH layer,
                            int index[RW_DET_NCOLUMNS], rw_error *err)
{
    rw_status st = RW_OK;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    for (size_t k = 0; k < RW_DET_NCOLUMNS; k++) {
        index[k] = OGR_FD_GetFieldIndex(defn, rw_det_columns[k].name);
        RW_FAIL_IF(index[k] < 0, err, RW_ERR_FORMAT,
                   "%s: layer %s has no field '%s' (not a reservewatch "
                   "detections file?)",
                   path, OGR_L_GetName(layer), rw_det_columns[k].name);
    }
done:
    return st;
}

static rw_status read_record(const char *path, OGRFeatureH feat,
                             const int index[RW_DET_NCOLUMNS], rw_detection *d,
                             rw_error *err)
{
    rw_status st = RW_OK;
    memset(d, 0, sizeof(*d));
    for (size_t k = 0; k < RW_DET_NCOLUMNS; k++) {
        const rw_det_column *c = &rw_det_columns[k];
        if (c->kind == RW_DET_REAL) {
            const double v = OGR_F_GetFieldAsDouble(feat, index[k]);
            memcpy((char *)d + c->offset, &v, sizeof(v));
            continue;
        }
        const char *s = OGR_F_GetFieldAsString(feat, index[k]);
        RW_FAIL_IF(strlen(s) >= c->size, err, RW_ERR_FORMAT,
                   "%s: feature %lld: %s is longer than %zu bytes", path,
                   (long long)OGR_F_GetFID(feat), c->name, c->size - 1);
        memcpy(rw_det_column_text_mut(d, c), s, strlen(s) + 1);
    }
    RW_FAIL_IF(d->id[0] == '\0', err, RW_ERR_FORMAT,
               "%s: feature %lld has an empty id", path,
               (long long)OGR_F_GetFID(feat));
done:
    return st;
}

static int compare_id(const void *a, const void *b)
{
    const rw_detection *const *x = a, *const *y = b;
    return strcmp((*x)->id, (*y)->id);
}

static rw_status read_points(const char *path, OGRLayerH layer,
                             rw_detection **out, size_t *n, rw_error *err)
{
    rw_status st = RW_OK;
    int index[RW_DET_NCOLUMNS];
    OGRFeatureH feat = NULL;
    rw_detection *d = NULL;
    size_t count = 0, cap = 0;
    RW_CHECK(map_fields(path, layer, index, err));
    OGR_L_ResetReading(layer);
    while ((feat = OGR_L_GetNextFeature(layer)) != NULL) {
        if (count == cap) {
            cap = cap ? cap * 2 : 64;
            rw_detection *grown = realloc(d, cap * sizeof(*d));
            RW_FAIL_IF(!grown, err, RW_ERR_NOMEM, "out of memory reading %s",
                       path);
            d = grown;
        }
        RW_CHECK(read_record(path, feat, index, &d[count], err));
        count++;
        OGR_F_Destroy(feat);
        feat = NULL;
    }
    *out = d;
    *n = count;
    d = NULL;
done:
    if (feat)
        OGR_F_Destroy(feat);
    free(d);
    return st;
}

/* Attaches each patch polygon to the point of the same id. */
static rw_status join_patches(const char *path, OGRLayerH layer,
                              rw_detection *d, size_t n, rw_error *err)
{
    rw_status st = RW_OK;
    OGRFeatureH feat = NULL;
    rw_detection **by_id = NULL;
    const int id_field = OGR_FD_GetFieldIndex(OGR_L_GetLayerDefn(layer), "id");
    RW_FAIL_IF(id_field < 0, err, RW_ERR_FORMAT,
               "%s: layer patches has no field 'id'", path);
    if (n == 0)
        goto done;
    by_id = rw_malloc(n * sizeof(*by_id), err);
    RW_FAIL_IF(!by_id, err, RW_ERR_NOMEM, "out of memory reading %s", path);
    for (size_t i = 0; i < n; i++)
        by_id[i] = &d[i];
    qsort(by_id, n, sizeof(*by_id), compare_id);
    OGR_L_ResetReading(layer);
    while ((feat = OGR_L_GetNextFeature(layer)) != NULL) {
        rw_detection key;
        const rw_detection *pkey = &key;
        snprintf(key.id, sizeof(key.id), "%s",
                 OGR_F_GetFieldAsString(feat, id_field));
        rw_detection **hit = bsearch(&pkey, by_id, n, sizeof(*by_id), compare_id);
        OGRGeometryH g = OGR_F_GetGeometryRef(feat);
        if (hit && g && !(*hit)->wkb) {
            const size_t size = (size_t)OGR_G_WkbSizeEx(g);
            (*hit)->wkb = rw_malloc(size, err);
            RW_FAIL_IF(!(*hit)->wkb, err, RW_ERR_NOMEM,
                       "out of memory reading %s", path);
            RW_FAIL_IF(OGR_G_ExportToIsoWkb(g, wkbNDR, (*hit)->wkb) != OGRERR_NONE,
                       err, RW_ERR_FORMAT, "%s: patch %s: bad geometry", path,
                       key.id);
            (*hit)->wkb_size = size;
        }
        OGR_F_Destroy(feat);
        feat = NULL;
    }
    for (size_t i = 0; i < n; i++)
        RW_FAIL_IF(!d[i].wkb, err, RW_ERR_FORMAT,
                   "%s: point %s has no polygon in layer patches", path,
                   d[i].id);
done:
    if (feat)
        OGR_F_Destroy(feat);
    free(by_id);
    return st;
}

rw_status rw_io_read_detections(const char *path, rw_detection **out, size_t *n,
                                char **analysis_wkt, rw_error *err)
{
    rw_status st = RW_OK;
    rw_detection *d = NULL;
    size_t count = 0;
    char *wkt = NULL;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY,
                                 NULL, NULL, NULL);
    RW_FAIL_IF(!ds, err, RW_ERR_IO, "%s: cannot open as a vector file: %s",
               path, CPLGetLastErrorMsg());
    OGRLayerH points = GDALDatasetGetLayerByName(ds, "points");
    OGRLayerH patches = GDALDatasetGetLayerByName(ds, "patches");
    RW_FAIL_IF(!points || !patches, err, RW_ERR_FORMAT,
               "%s: no layer '%s' (not a reservewatch detections file?)", path,
               points ? "patches" : "points");
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(patches);
    RW_FAIL_IF(!srs || OSRExportToWkt(srs, &wkt) != OGRERR_NONE, err,
               RW_ERR_FORMAT, "%s: layer patches has no CRS", path);
    RW_CHECK(read_points(path, points, &d, &count, err));
    RW_CHECK(join_patches(path, patches, d, count, err));
    RW_FAIL_IF(!(*analysis_wkt = strdup(wkt)), err, RW_ERR_NOMEM,
               "out of memory reading %s", path);
    *out = d;
    *n = count;
    d = NULL;
    count = 0;
done:
    rw_io_detections_free(d, count);
    CPLFree(wkt);
    if (ds)
        GDALClose(ds);
    return st;
}

void rw_io_detections_free(rw_detection *d, size_t n)
{
    if (!d)
        return;
    for (size_t i = 0; i < n; i++)
        free(d[i].wkb);
    free(d);
}
