/* Spatial queries and per-tile rasterisation of the zones. Every function
 * here may run on several threads at once: each call makes its own GEOS
 * context and MEM dataset and only reads the shared rw_zones. */
#include "zones.h"

#include <assert.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pieces whose envelope meets a query box, as indices into z->pieces. */
typedef struct zones_hits {
    const rw_zones *z;
    size_t *index;
    size_t count;
} zones_hits;

static void zones_hit(void *item, void *user)
{
    zones_hits *h = user;
    assert(h->count < h->z->piece_count);
    h->index[h->count++] = (size_t)((const rw_zone_piece *)item - h->z->pieces);
}

/* Queries the prebuilt STRtree with a context of this call's own: GEOS
 * contexts must not be shared between threads. h->index is the caller's
 * to free, also on failure. */
static rw_status zones_query(const rw_zones *z, const double env[4],
                             zones_hits *h, rw_error *err)
{
    rw_status st = RW_OK;
    GEOSContextHandle_t ctx = NULL;
    GEOSGeometry *box = NULL;
    h->z = z;
    h->count = 0;
    h->index = rw_malloc(z->piece_count * sizeof(*h->index), err);
    if (h->index == NULL) {
        st = RW_ERR_NOMEM;
        goto done;
    }
    ctx = GEOS_init_r();
    RW_FAIL_IF(ctx == NULL, err, RW_ERR_NOMEM,
               "zones: cannot create a GEOS context");
    box = GEOSGeom_createRectangle_r(ctx, env[0], env[1], env[2], env[3]);
    RW_FAIL_IF(box == NULL, err, RW_ERR_NOMEM,
               "zones: cannot create a query box");
    GEOSSTRtree_query_r(ctx, z->tree, box, zones_hit, h);
done:
    if (box != NULL)
        GEOSGeom_destroy_r(ctx, box);
    if (ctx != NULL)
        GEOS_finish_r(ctx);
    return st;
}

static bool zones_env_within(const double inner[4], const double outer[4])
{
    return inner[0] >= outer[0] && inner[1] >= outer[1] &&
           inner[2] <= outer[2] && inner[3] <= outer[3];
}

static OGRGeometryH zones_box_polygon(const double env[4])
{
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    if (ring == NULL || poly == NULL) {
        OGR_G_DestroyGeometry(ring);
        OGR_G_DestroyGeometry(poly);
        return NULL;
    }
    OGR_G_AddPoint_2D(ring, env[0], env[1]);
    OGR_G_AddPoint_2D(ring, env[2], env[1]);
    OGR_G_AddPoint_2D(ring, env[2], env[3]);
    OGR_G_AddPoint_2D(ring, env[0], env[3]);
    OGR_G_AddPoint_2D(ring, env[0], env[1]);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

bool rw_zones_touches(const rw_zones *z, const double env[4])
{
    rw_error err;
    rw_error_clear(&err);
    zones_hits h = {0};
    OGRGeometryH box = NULL;
    bool touches = true; /* the safe answer when we cannot decide */
    if (zones_query(z, env, &h, &err) != RW_OK)
        goto done;
    box = zones_box_polygon(env);
    if (box == NULL)
        goto done;
    touches = false;
    /* OGR_G_Intersects only reads the shared geometry and makes its own
     * GEOS context; its messages are not ours to print. */
    CPLPushErrorHandler(CPLQuietErrorHandler);
    for (size_t i = 0; i < h.count && !touches; i++) {
        const rw_zone_piece *p = &z->pieces[h.index[i]];
        touches = zones_env_within(p->env, env) ||
                  OGR_G_Intersects(p->geom, box);
    }
    CPLPopErrorHandler();
done:
    OGR_G_DestroyGeometry(box);
    free(h.index);
    return touches;
}

static int zones_compare_index(const void *pa, const void *pb)
{
    const size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    return (a > b) - (a < b);
}

/* Bounding box of a w x h pixel window with geotransform gt. */
static void zones_window_env(const double gt[6], int w, int h, double env[4])
{
    const double px[4] = {0, w, 0, w}, py[4] = {0, 0, h, h};
    env[0] = env[1] = HUGE_VAL;
    env[2] = env[3] = -HUGE_VAL;
    for (int i = 0; i < 4; i++) {
        const double x = gt[0] + px[i] * gt[1] + py[i] * gt[2];
        const double y = gt[3] + px[i] * gt[4] + py[i] * gt[5];
        env[0] = x < env[0] ? x : env[0];
        env[1] = y < env[1] ? y : env[1];
        env[2] = x > env[2] ? x : env[2];
        env[3] = y > env[3] ? y : env[3];
    }
}

static rw_status zones_add_band(GDALDatasetH ds, GDALDataType type,
                                void *data, rw_error *err)
{
    rw_status st = RW_OK;
    char pointer[64] = {0};
    char option[96];
    CPLPrintPointer(pointer, data, (int)sizeof(pointer) - 1);
    RW_CHECK(rw_format(option, sizeof(option), err, "DATAPOINTER=%s",
                       pointer));
    char *options[] = {option, NULL};
    RW_FAIL_IF(GDALAddBand(ds, type, options) != CE_None, err,
               RW_ERR_INTERNAL, "zones: cannot wrap a tile buffer: %s",
               CPLGetLastErrorMsg());
done:
    return st;
}

/* A MEM dataset over the caller's buffers, georeferenced as the window. The
 * UInt16 band comes first because GDALRasterizeGeometries works in the
 * first band's type: Byte would clip reserve numbers above 255. */
static rw_status zones_wrap(rw_rect win, const double gt[6], uint16_t *reserve,
                            uint8_t *zone, GDALDatasetH *out, rw_error *err)
{
    rw_status st = RW_OK;
    GDALDatasetH ds = NULL;
    GDALDriverH mem = GDALGetDriverByName("MEM");
    RW_FAIL_IF(mem == NULL, err, RW_ERR_INTERNAL,
               "zones: the GDAL MEM driver is not registered");
    ds = GDALCreate(mem, "", win.w, win.h, 0, GDT_Byte, NULL);
    RW_FAIL_IF(ds == NULL, err, RW_ERR_INTERNAL,
               "zones: cannot create a %dx%d MEM dataset: %s", win.w, win.h,
               CPLGetLastErrorMsg());
    /* GDAL 3.6 takes a non-const pointer but only copies the values. */
    RW_FAIL_IF(GDALSetGeoTransform(ds, (double *)gt) != CE_None, err,
               RW_ERR_INTERNAL, "zones: cannot set the window geotransform");
    RW_CHECK(zones_add_band(ds, GDT_UInt16, reserve, err));
    RW_CHECK(zones_add_band(ds, GDT_Byte, zone, err));
    *out = ds;
    ds = NULL;
done:
    if (ds != NULL)
        GDALClose(ds);
    return st;
}

rw_status rw_zones_burn(const rw_zones *z, const double geotransform[6],
                        rw_rect win, uint16_t *reserve, uint8_t *zone,
                        rw_error *err)
{
    rw_status st = RW_OK;
    zones_hits h = {0};
    OGRGeometryH *geoms = NULL;
    double *values = NULL;
    GDALDatasetH ds = NULL;
    bool quiet = false;
    if (rw_rect_is_empty(win))
        goto done;
    const size_t pixels = (size_t)win.w * (size_t)win.h;
    memset(reserve, 0, pixels * sizeof(*reserve));
    memset(zone, 0, pixels * sizeof(*zone));

    /* The window's own geotransform: the grid's, with its origin moved to
     * pixel (win.x, win.y). */
    const double *g = geotransform;
    const double wgt[6] = {g[0] + win.x * g[1] + win.y * g[2], g[1], g[2],
                           g[3] + win.x * g[4] + win.y * g[5], g[4], g[5]};
    double env[4];
    zones_window_env(wgt, win.w, win.h, env);
    RW_CHECK(zones_query(z, env, &h, err));
    if (h.count == 0)
        goto done;

    /* Pieces are stored in burn order (rank, then reserve): sorting the
     * hits restores it, so a stricter zone overwrites a looser one. */
    qsort(h.index, h.count, sizeof(*h.index), zones_compare_index);
    geoms = rw_malloc(h.count * sizeof(*geoms), err);
    values = rw_malloc(2 * h.count * sizeof(*values), err);
    if (geoms == NULL || values == NULL) {
        st = RW_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < h.count; i++) {
        const rw_zone_piece *p = &z->pieces[h.index[i]];
        geoms[i] = p->geom; /* GDAL only reads it */
        values[2 * i] = (double)(p->reserve + 1);
        values[2 * i + 1] = (double)p->rank;
    }

    CPLPushErrorHandler(CPLQuietErrorHandler);
    quiet = true;
    CPLErrorReset();
    RW_CHECK(zones_wrap(win, wgt, reserve, zone, &ds, err));
    int bands[2] = {1, 2};
    /* Every pixel the outlines touch first, then GDAL's pixel-centre rule
     * over it: a pixel keeps the touched zone only where no zone holds its
     * centre, so inner zone borders follow centres and the outer border
     * keeps its partial pixels (their patches are clipped to the outline,
     * so an area at a reserve's edge is the area inside it). */
    char *touched[] = {"ALL_TOUCHED=TRUE", NULL};
    for (int pass = 0; pass < 2; pass++)
        RW_FAIL_IF(GDALRasterizeGeometries(ds, 2, bands, (int)h.count, geoms, NULL, NULL, values,
                                           pass == 0 ? touched : NULL, NULL, NULL) != CE_None,
                   err, RW_ERR_INTERNAL, "zones: cannot rasterise %zu zones into window %d,%d %dx%d: %s", h.count,
                   win.x, win.y, win.w, win.h, CPLGetLastErrorMsg());
done:
    if (ds != NULL)
        GDALClose(ds);
    if (quiet)
        CPLPopErrorHandler();
    free(values);
    free(geoms);
    free(h.index);
    return st;
}

rw_status rw_zones_reserve_outline(const rw_zones *z, size_t i, unsigned char **wkb, size_t *size, rw_error *err)
{
    rw_status st = RW_OK;
    OGRGeometryH all = OGR_G_CreateGeometry(wkbMultiPolygon), outline = NULL;
    *wkb = NULL;
    *size = 0;
    RW_FAIL_IF(all == NULL, err, RW_ERR_NOMEM, "zones: out of memory for a reserve outline");
    for (size_t k = 0; k < z->piece_count; k++) {
        const rw_zone_piece *p = &z->pieces[k];
        if (p->reserve != i)
            continue;
        const bool multi = wkbFlatten(OGR_G_GetGeometryType(p->geom)) == wkbMultiPolygon;
        for (int j = 0; j < (multi ? OGR_G_GetGeometryCount(p->geom) : 1); j++)
            RW_FAIL_IF(OGR_G_AddGeometry(all, multi ? OGR_G_GetGeometryRef(p->geom, j) : p->geom) != OGRERR_NONE,
                       err, RW_ERR_INTERNAL, "zones: cannot collect the zones of reserve %s", z->reserves[i].id);
    }
    outline = OGR_G_UnionCascaded(all);
    RW_FAIL_IF(outline == NULL, err, RW_ERR_INTERNAL, "zones: cannot union the zones of reserve %s: %s",
               z->reserves[i].id, CPLGetLastErrorMsg());
    *size = (size_t)OGR_G_WkbSize(outline);
    *wkb = rw_malloc(*size, err);
    RW_FAIL_IF(*wkb == NULL, err, RW_ERR_NOMEM, "zones: out of memory for the outline of reserve %s",
               z->reserves[i].id);
    RW_FAIL_IF(OGR_G_ExportToWkb(outline, wkbNDR, *wkb) != OGRERR_NONE, err, RW_ERR_INTERNAL,
               "zones: cannot encode the outline of reserve %s", z->reserves[i].id);
done:
    if (st != RW_OK) {
        free(*wkb);
        *wkb = NULL;
        *size = 0;
    }
    OGR_G_DestroyGeometry(outline);
    OGR_G_DestroyGeometry(all);
    return st;
}
