/* Writes the vector side of the synthetic world: reserves, rivers,
 * permits, known problems, truth, ministry points. Each file is written
 * under a hidden temporary name and renamed when complete. */
#include "synth.h"
#include "atomic.h"
#include "reproducible.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const zone_name[3] = {"实验区", "缓冲区", "核心区"};

typedef struct vec_file {
    char path[4096], tmp[4096];
    GDALDatasetH ds;
    OGRLayerH layer;
    OGRCoordinateTransformationH ct; /* world -> layer CRS */
} vec_file;

static rw_status vec_open(vec_file *f, const synth_world *w, const char *name, int epsg,
                          OGRwkbGeometryType type, rw_error *err)
{
    rw_status st = RW_OK;
    memset(f, 0, sizeof(*f));
    RW_CHECK(rw_format(f->path, sizeof(f->path), err, "%s/%s.gpkg", w->opt->out_dir, name));
    RW_CHECK(rw_format(f->tmp, sizeof(f->tmp), err, "%s/.%s.partial.gpkg", w->opt->out_dir, name));
    remove(f->tmp);
    f->ds = GDALCreate(GDALGetDriverByName("GPKG"), f->tmp, 0, 0, 0, GDT_Unknown, NULL);
    RW_FAIL_IF(f->ds == NULL, err, RW_ERR_IO, "%s: cannot create: %s", f->tmp, CPLGetLastErrorMsg());
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, epsg);
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    f->layer = GDALDatasetCreateLayer(f->ds, name, srs, type, NULL);
    if (epsg != SYNTH_WORLD_EPSG)
        f->ct = OCTNewCoordinateTransformation(w->world_srs, srs);
    OSRDestroySpatialReference(srs);
    RW_FAIL_IF(f->layer == NULL, err, RW_ERR_IO, "%s: cannot create layer %s", f->tmp, name);
    GDALDatasetStartTransaction(f->ds, TRUE);
done:
    return st;
}

static void vec_field(vec_file *f, const char *name, OGRFieldType type)
{
    OGRFieldDefnH fd = OGR_Fld_Create(name, type);
    OGR_L_CreateField(f->layer, fd, TRUE);
    OGR_Fld_Destroy(fd);
}

/* Adds a feature: geometry is copied and transformed; fields are set by
 * the caller on the returned feature before vec_commit. */
static OGRFeatureH vec_feature(vec_file *f, OGRGeometryH world_geom)
{
    OGRFeatureH feat = OGR_F_Create(OGR_L_GetLayerDefn(f->layer));
    OGRGeometryH g = OGR_G_Clone(world_geom);
    if (f->ct != NULL)
        OGR_G_Transform(g, f->ct);
    OGR_F_SetGeometryDirectly(feat, g);
    return feat;
}

static rw_status vec_commit(vec_file *f, OGRFeatureH feat, rw_error *err)
{
    const OGRErr e = OGR_L_CreateFeature(f->layer, feat);
    OGR_F_Destroy(feat);
    if (e != OGRERR_NONE)
        return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: cannot write a feature: %s",
                            f->tmp, CPLGetLastErrorMsg());
    return RW_OK;
}

static rw_status vec_close(vec_file *f, rw_status st, rw_error *err)
{
    if (f->ds != NULL) {
        if (st == RW_OK && GDALDatasetCommitTransaction(f->ds) != OGRERR_NONE)
            st = rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: commit failed", f->tmp);
        /* GDAL 3.6's GDALClose returns nothing: a failed flush shows as
         * the last error */
        CPLErrorReset();
        GDALClose(f->ds);
        if (CPLGetLastErrorType() >= CE_Failure && st == RW_OK)
            st = rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: close failed", f->tmp);
    }
    OCTDestroyCoordinateTransformation(f->ct);
    if (st == RW_OK && rename(f->tmp, f->path) != 0)
        st = rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: cannot rename", f->tmp);
    if (st != RW_OK)
        remove(f->tmp);
    return st;
}

static rw_status write_reserves(const synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    vec_file f;
    RW_CHECK(vec_open(&f, w, "reserves", 4490, wkbMultiPolygon, err));
    static const char *const fields[] = {"reserve_id", "name", "level", "zone", "city", "county"};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        vec_field(&f, fields[i], OFTString);
    for (int r = 0; r < w->nreserves && st == RW_OK; r++) {
        const synth_reserve *res = &w->reserve[r];
        for (int z = 0; z < 3 && st == RW_OK; z++) {
            OGRFeatureH feat = vec_feature(&f, res->zone[z]);
            OGRGeometryH g = OGR_G_ForceToMultiPolygon(OGR_G_Clone(OGR_F_GetGeometryRef(feat)));
            if (r == 2 && z == 1) {
                /* as real boundary files have: a self-intersecting ring,
                 * two swapped vertices making a small bow-tie */
                OGRGeometryH ring = OGR_G_GetGeometryRef(OGR_G_GetGeometryRef(g, 0), 0);
                const int i = 10;
                const double x = OGR_G_GetX(ring, i), y = OGR_G_GetY(ring, i);
                OGR_G_SetPoint_2D(ring, i, OGR_G_GetX(ring, i + 1), OGR_G_GetY(ring, i + 1));
                OGR_G_SetPoint_2D(ring, i + 1, x, y);
            }
            OGR_F_SetGeometryDirectly(feat, g);
            OGR_F_SetFieldString(feat, 0, res->id);
            OGR_F_SetFieldString(feat, 1, res->name);
            OGR_F_SetFieldString(feat, 2, res->level);
            OGR_F_SetFieldString(feat, 3, zone_name[z]);
            OGR_F_SetFieldString(feat, 4, res->city);
            OGR_F_SetFieldString(feat, 5, res->county);
            st = vec_commit(&f, feat, err);
        }
    }
    st = vec_close(&f, st, err);
done:
    return st;
}

static rw_status write_rivers(const synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    vec_file f;
    RW_CHECK(vec_open(&f, w, "rivers", 4490, wkbLineString, err));
    vec_field(&f, "name", OFTString);
    vec_field(&f, "width_m", OFTReal);
    static const char *const names[2] = {"信江支流", "抚河支流"};
    for (int k = 0; k < w->nrivers && st == RW_OK; k++) {
        OGRFeatureH feat = vec_feature(&f, OGR_G_GetGeometryRef(w->rivers, k));
        OGR_F_SetFieldString(feat, 0, names[k]);
        OGR_F_SetFieldDouble(feat, 1, w->river_width[k]);
        st = vec_commit(&f, feat, err);
    }
    st = vec_close(&f, st, err);
done:
    return st;
}

/* permits.gpkg and known.gpkg: one polygon per part of a multipolygon. */
static rw_status write_polygons(const synth_world *w, const char *name, OGRGeometryH multi,
                                const char *id_field, const char *id_prefix, rw_error *err)
{
    rw_status st = RW_OK;
    vec_file f;
    RW_CHECK(vec_open(&f, w, name, 4490, wkbPolygon, err));
    vec_field(&f, id_field, OFTString);
    vec_field(&f, "note", OFTString);
    for (int i = 0; i < OGR_G_GetGeometryCount(multi) && st == RW_OK; i++) {
        OGRFeatureH feat = vec_feature(&f, OGR_G_GetGeometryRef(multi, i));
        char id[32];
        snprintf(id, sizeof(id), "%s%03d", id_prefix, i + 1);
        OGR_F_SetFieldString(feat, 0, id);
        OGR_F_SetFieldString(feat, 1, strcmp(name, "permits") == 0 ? "已批准设施用地" : "上年度已发现问题图斑");
        st = vec_commit(&f, feat, err);
    }
    st = vec_close(&f, st, err);
done:
    return st;
}

/* The pixel-exact outline of g on the grid: pixels whose centre lies in g,
 * polygonised, so truth matches the planted pixels exactly. Returns NULL
 * when no pixel centre falls inside (features below one pixel). */
static OGRGeometryH pixel_outline(OGRGeometryH g, const synth_grid *grid)
{
    OGREnvelope e;
    OGR_G_GetEnvelope(g, &e);
    const double *gt = grid->gt;
    const int x0 = (int)floor((e.MinX - gt[0]) / gt[1]) - 1;
    const int x1 = (int)ceil((e.MaxX - gt[0]) / gt[1]) + 1;
    const int y0 = (int)floor((e.MaxY - gt[3]) / gt[5]) - 1;
    const int y1 = (int)ceil((e.MinY - gt[3]) / gt[5]) + 1;
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", x1 - x0, y1 - y0, 1, GDT_Byte, NULL);
    double mgt[6] = {gt[0] + x0 * gt[1], gt[1], 0, gt[3] + y0 * gt[5], 0, gt[5]};
    GDALSetGeoTransform(mem, mgt);
    const int band = 1;
    const double one = 1.0;
    GDALRasterizeGeometries(mem, 1, &band, 1, &g, NULL, NULL, &one, NULL, NULL, NULL);
    GDALDatasetH vds = GDALCreate(GDALGetDriverByName("Memory"), "", 0, 0, 0, GDT_Unknown, NULL);
    OGRLayerH lyr = GDALDatasetCreateLayer(vds, "p", NULL, wkbPolygon, NULL);
    OGRFieldDefnH fd = OGR_Fld_Create("v", OFTInteger);
    OGR_L_CreateField(lyr, fd, TRUE);
    OGR_Fld_Destroy(fd);
    GDALRasterBandH b = GDALGetRasterBand(mem, 1);
    GDALPolygonize(b, b, lyr, 0, NULL, NULL, NULL);
    OGRGeometryH coll = OGR_G_CreateGeometry(wkbMultiPolygon);
    OGR_L_ResetReading(lyr);
    OGRFeatureH feat;
    while ((feat = OGR_L_GetNextFeature(lyr)) != NULL) {
        synth_geom_add_polygons(coll, OGR_F_GetGeometryRef(feat));
        OGR_F_Destroy(feat);
    }
    OGRGeometryH out = OGR_G_GetGeometryCount(coll) > 0 ? OGR_G_UnionCascaded(coll) : NULL;
    OGR_G_DestroyGeometry(coll);
    GDALClose(vds);
    GDALClose(mem);
    return out;
}

/* Reserve and strictest-majority zone of a world geometry. */
static void truth_zone(const synth_world *w, OGRGeometryH g, int *reserve, int *zone, double *inside)
{
    const double area = OGR_G_Area(g);
    *reserve = -1, *zone = 0, *inside = 0.0;
    for (int r = 0; r < w->nreserves; r++) {
        double a[3];
        for (int z = 0; z < 3; z++) {
            OGRGeometryH x = OGR_G_Intersection(g, w->reserve[r].zone[z]);
            a[z] = x ? OGR_G_Area(x) : 0.0;
            OGR_G_DestroyGeometry(x);
        }
        if (a[0] <= 0.0)
            continue;
        *reserve = r;
        *inside = area > 0 ? a[0] / area : 0.0;
        /* area in each zone alone (zones nest) */
        const double only[3] = {a[0] - a[1], a[1] - a[2], a[2]};
        int best = 0;
        for (int z = 1; z < 3; z++)
            if (only[z] >= only[best])
                best = z;
        *zone = best + 1;
        return;
    }
}

static const char *status_of(const synth_truth *t)
{
    return t->permitted ? "permitted" : t->known == 1 ? "known" : t->known == 2 ? "expanded" : "new";
}

static rw_status write_truth(const synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const synth_date *last = &w->date[w->ndates - 1];
    vec_file f;
    RW_CHECK(vec_open(&f, w, "truth", last->grid.epsg, wkbMultiPolygon, err));
    static const struct { const char *name; OGRFieldType type; } fields[] = {
        {"truth_id", OFTInteger}, {"category", OFTString}, {"kind", OFTString}, {"change", OFTString},
        {"date", OFTString}, {"reserve_id", OFTString}, {"zone", OFTString}, {"inside", OFTReal},
        {"must_report", OFTInteger}, {"expected_status", OFTString}, {"pixels", OFTInteger}};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        vec_field(&f, fields[i].name, fields[i].type);
    const double pixel_area = fabs(last->grid.gt[1] * last->grid.gt[5]);
    for (size_t i = 0; i < w->ntruth && st == RW_OK; i++) {
        const synth_truth *t = &w->truth[i];
        int r, z;
        double inside;
        truth_zone(w, t->geom, &r, &z, &inside);
        OGRFeatureH feat = vec_feature(&f, t->geom);
        long pixels = 0;
        if (t->category >= 0) {
            OGRGeometryH exact = pixel_outline(OGR_F_GetGeometryRef(feat), &last->grid);
            if (exact != NULL) {
                pixels = lround(OGR_G_Area(exact) / pixel_area);
                OGR_F_SetGeometryDirectly(feat, exact);
            }
        }
        OGR_F_SetGeometryDirectly(feat, OGR_G_ForceToMultiPolygon(OGR_G_Clone(OGR_F_GetGeometryRef(feat))));
        OGR_F_SetFieldInteger(feat, 0, (int)i + 1);
        OGR_F_SetFieldString(feat, 1, t->category >= 0 ? synth_category_key[t->category] : "distractor");
        OGR_F_SetFieldString(feat, 2, t->kind);
        OGR_F_SetFieldString(feat, 3, t->change);
        OGR_F_SetFieldString(feat, 4, w->date[t->date].ymd);
        OGR_F_SetFieldString(feat, 5, r >= 0 ? w->reserve[r].id : "");
        OGR_F_SetFieldString(feat, 6, z > 0 ? zone_name[z - 1] : "");
        OGR_F_SetFieldDouble(feat, 7, inside);
        OGR_F_SetFieldInteger(feat, 8, t->category >= 0 && inside >= 0.5 && pixels > 0);
        OGR_F_SetFieldString(feat, 9, t->category >= 0 ? status_of(t) : "");
        OGR_F_SetFieldInteger(feat, 10, (int)pixels);
        st = vec_commit(&f, feat, err);
    }
    st = vec_close(&f, st, err);
done:
    return st;
}

/* Ministry human-activity points: every third planted change inside a
 * reserve is a mandatory (必查) point, plus a few locally chosen ones. */
static rw_status write_ministry_points(const synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    char path[4096];
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(geo, 4490);
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    OGRCoordinateTransformationH ct = OCTNewCoordinateTransformation(w->world_srs, geo);
    rw_atomic_file out = {0};
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/ministry_points.csv", w->opt->out_dir));
    RW_CHECK(rw_atomic_open(&out, path, err));
    FILE *fp = out.fp;
    /* a BOM, as the ministry's lists come, so Excel reads the Chinese */
    fprintf(fp, "\xEF\xBB\xBFid,lon,lat,type\r\n");
    int n = 0;
    for (size_t i = 0; i < w->ntruth; i++) {
        const synth_truth *t = &w->truth[i];
        int r, z;
        double inside;
        if (t->category < 0)
            continue;
        truth_zone(w, t->geom, &r, &z, &inside);
        if (inside < 0.5 || (n++ % 3) != 0)
            continue;
        OGRGeometryH pt = OGR_G_PointOnSurface(t->geom);
        double x = OGR_G_GetX(pt, 0), y = OGR_G_GetY(pt, 0);
        OGR_G_DestroyGeometry(pt);
        OCTTransform(ct, 1, &x, &y, NULL);
        fprintf(fp, "BJ%04d,%.6f,%.6f,必查\r\n", n, x, y);
    }
    for (int k = 0; k < 3 && k < w->nreserves; k++) {
        OGRGeometryH pt = OGR_G_PointOnSurface(w->reserve[k].zone[2]);
        double x = OGR_G_GetX(pt, 0), y = OGR_G_GetY(pt, 0);
        OGR_G_DestroyGeometry(pt);
        OCTTransform(ct, 1, &x, &y, NULL);
        fprintf(fp, "ZX%04d,%.6f,%.6f,自选\r\n", k + 1, x, y);
    }
    RW_CHECK(rw_atomic_commit(&out, err));
done:
    rw_atomic_abort(&out);
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(geo);
    return st;
}

rw_status synth_write_vectors(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    /* GeoPackage stamps "now" into gpkg_contents: a fixed date keeps the
     * same seed's files byte-identical */
    rw_gpkg_date date;
    rw_io_gpkg_date_fix(&date);
    RW_CHECK(write_reserves(w, err));
    RW_CHECK(write_rivers(w, err));
    RW_CHECK(write_polygons(w, "permits", w->permits, "permit_id", "XK", err));
    RW_CHECK(write_polygons(w, "known", w->known, "problem_id", "WT", err));
    RW_CHECK(write_truth(w, err));
    RW_CHECK(write_ministry_points(w, err));
done:
    rw_io_gpkg_date_restore(&date);
    return st;
}
