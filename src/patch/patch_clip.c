/* A patch clipped to its reserve's outline. The pixels a reserve's outline
 * touches belong to it (rw_zones_burn), so a patch at the edge of a
 * reserve is made of whole pixels reaching over the line; the part inside
 * is what the reserve answers for, and its area is the area reported. */
#include "patch.h"

#include <stdlib.h>

struct rw_patch_outline {
    GEOSGeometry *geom;
    const GEOSPreparedGeometry *prep; /* containment first: most patches lie inside */
};

rw_status rw_patch_outline_create(rw_patch_ctx *ctx, const unsigned char *wkb, size_t size, rw_patch_outline **out,
                                  rw_error *err)
{
    rw_status st = RW_OK;
    GEOSContextHandle_t h = rw_patch_ctx_geos(ctx);
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    rw_patch_outline *o = rw_calloc(1, sizeof(*o), err);
    RW_FAIL_IF(rd == NULL || o == NULL, err, RW_ERR_NOMEM, "reserve outline: out of memory");
    o->geom = GEOSWKBReader_read_r(h, rd, wkb, size);
    RW_FAIL_IF(o->geom == NULL, err, RW_ERR_INTERNAL, "reserve outline: %s", rw_patch_ctx_geos_message(ctx));
    o->prep = GEOSPrepare_r(h, o->geom);
    RW_FAIL_IF(o->prep == NULL, err, RW_ERR_INTERNAL, "reserve outline: %s", rw_patch_ctx_geos_message(ctx));
    *out = o;
    o = NULL;
done:
    rw_patch_outline_destroy(ctx, o);
    if (rd != NULL)
        GEOSWKBReader_destroy_r(h, rd);
    return st;
}

void rw_patch_outline_destroy(rw_patch_ctx *ctx, rw_patch_outline *o)
{
    if (o == NULL)
        return;
    GEOSContextHandle_t h = rw_patch_ctx_geos(ctx);
    if (o->prep != NULL)
        GEOSPreparedGeom_destroy_r(h, o->prep);
    if (o->geom != NULL)
        GEOSGeom_destroy_r(h, o->geom);
    free(o);
}

/* Appends the polygons of g (a polygon, or any collection holding some) to
 * parts, cloned. Overlay leaves lines and points where the outline only
 * touches a pixel edge or corner: they have no area and are dropped. */
static rw_status collect_polygons(GEOSContextHandle_t h, const GEOSGeometry *g, GEOSGeometry ***parts, int *n,
                                  int *cap, rw_error *err)
{
    rw_status st = RW_OK;
    const int type = GEOSGeomTypeId_r(h, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(h, g) != 0)
            return RW_OK;
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 8;
            GEOSGeometry **grown = realloc(*parts, (size_t)*cap * sizeof(**parts));
            RW_FAIL_IF(grown == NULL, err, RW_ERR_NOMEM, "clipping a patch: out of memory");
            *parts = grown;
        }
        (*parts)[*n] = GEOSGeom_clone_r(h, g);
        RW_FAIL_IF((*parts)[*n] == NULL, err, RW_ERR_NOMEM, "clipping a patch: out of memory");
        (*n)++;
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        for (int i = 0; i < GEOSGetNumGeometries_r(h, g); i++)
            RW_CHECK(collect_polygons(h, GEOSGetGeometryN_r(h, g, i), parts, n, cap, err));
    }
done:
    return st;
}

rw_status rw_patch_clip(rw_patch_ctx *ctx, const rw_patch_outline *o, GEOSGeometry **geom, rw_error *err)
{
    rw_status st = RW_OK;
    GEOSContextHandle_t h = rw_patch_ctx_geos(ctx);
    GEOSGeometry *cut = NULL, *fixed = NULL, *result = NULL;
    GEOSGeometry **parts = NULL;
    int n = 0, cap = 0;
    const char inside = GEOSPreparedContains_r(h, o->prep, *geom);
    RW_FAIL_IF(inside == 2, err, RW_ERR_INTERNAL, "clipping a patch: %s", rw_patch_ctx_geos_message(ctx));
    if (inside == 1)
        goto done;
    cut = GEOSIntersection_r(h, *geom, o->geom);
    RW_FAIL_IF(cut == NULL, err, RW_ERR_INTERNAL, "clipping a patch: %s", rw_patch_ctx_geos_message(ctx));
    if (GEOSisValid_r(h, cut) != 1) {
        fixed = GEOSMakeValid_r(h, cut);
        RW_FAIL_IF(fixed == NULL, err, RW_ERR_INTERNAL, "clipping a patch: %s", rw_patch_ctx_geos_message(ctx));
    }
    RW_CHECK(collect_polygons(h, fixed != NULL ? fixed : cut, &parts, &n, &cap, err));
    if (n == 1)
        result = parts[0];
    else if (n > 1)
        result = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)n);
    RW_FAIL_IF(n > 1 && result == NULL, err, RW_ERR_NOMEM, "clipping a patch: out of memory");
    n = 0; /* the parts now belong to result */
    GEOSGeom_destroy_r(h, *geom);
    *geom = result;
done:
    for (int i = 0; i < n; i++)
        GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    if (fixed != NULL)
        GEOSGeom_destroy_r(h, fixed);
    if (cut != NULL)
        GEOSGeom_destroy_r(h, cut);
    return st;
}
