/* Geometry of a change patch: the exact pixel-boundary polygon, a field
 * point inside it, its geodesic area on the CGCS2000 ellipsoid and its
 * CGCS2000 longitude/latitude, plus the area units and coordinate text used
 * on check lists.
 *
 * Threading: one rw_patch_ctx per thread. A context owns a GEOS context,
 * a PROJ context and a transformation, none of which may be shared; the
 * formatting and unit functions need no context and are thread-safe. */
#ifndef RW_PATCH_H
#define RW_PATCH_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef GEOS_USE_ONLY_R_API
#define GEOS_USE_ONLY_R_API
#endif
#include <geos_c.h>

/* One horizontal run of patch pixels on the analysis grid: row y, columns
 * x0 .. x0 + len - 1, global pixel coordinates. */
typedef struct rw_patch_run {
    int32_t y, x0, len;
} rw_patch_run;

/* Per-thread state: GEOS and PROJ contexts, the analysis CRS -> EPSG:4490
 * transformation and the CGCS2000 ellipsoid. Opaque. */
typedef struct rw_patch_ctx rw_patch_ctx;

/* analysis_crs: WKT of the analysis grid's CRS, or anything proj_create
 * accepts ("EPSG:32650"); projected or geographic. Coordinates given to and
 * returned by this module are always in GIS order, easting/longitude first,
 * as in a GDAL geotransform, whatever the CRS's official axis order.
 * Fails with RW_ERR_USAGE when the CRS is unknown or cannot be transformed
 * to EPSG:4490, RW_ERR_NOMEM, RW_ERR_INTERNAL when a context cannot start.
 * *out is set only on success. */
rw_status rw_patch_ctx_create(const char *analysis_crs, rw_patch_ctx **out,
                              rw_error *err);
void rw_patch_ctx_destroy(rw_patch_ctx *ctx);

/* The GEOS context of ctx: geometries returned by this module belong to it
 * and are freed with GEOSGeom_destroy_r(rw_patch_ctx_geos(ctx), g). */
GEOSContextHandle_t rw_patch_ctx_geos(const rw_patch_ctx *ctx);

/* The last message GEOS reported on ctx ("" when none), for error text. */
const char *rw_patch_ctx_geos_message(const rw_patch_ctx *ctx);

/* The exact outline of the union of the run cells, in analysis-CRS
 * coordinates (geotransform: GDAL's 6 coefficients). Holes are kept and no
 * vertex is collinear with its neighbours. Cells that touch only at a corner
 * belong to different polygons (4-connectivity), so the result is a Polygon
 * or a MultiPolygon and is always valid; polygons touching at a corner and
 * holes touching a shell at a corner are valid under OGC rules.
 * runs: n >= 1 runs sorted by (y, x0), len >= 1; runs of one row may touch
 * (a run split at a tile edge) but not overlap. Cost: linear in n, no
 * per-pixel work. RW_ERR_USAGE on bad input, RW_ERR_INTERNAL if the
 * result is not valid. *out is set only on success, owned by the caller. */
rw_status rw_patch_polygon(rw_patch_ctx *ctx, const rw_patch_run *runs,
                           size_t n, const double geotransform[6],
                           GEOSGeometry **out, rw_error *err);

/* The field point: the centre of the largest circle inscribed in geom (for a
 * MultiPolygon, in its largest part), checked to lie in geom's interior.
 * tolerance in CRS units; a quarter pixel is plenty. radius in CRS units.
 * RW_ERR_USAGE when geom is not a non-empty (Multi)Polygon or tolerance
 * <= 0, RW_ERR_INTERNAL when GEOS fails or the point is not inside. */
rw_status rw_patch_interior_point(rw_patch_ctx *ctx, const GEOSGeometry *geom,
                                  double tolerance, double *x, double *y,
                                  double *radius, rw_error *err);

/* Analysis-CRS (x, y) -> CGCS2000 (EPSG:4490) longitude, latitude in
 * degrees; longitude always first. RW_ERR_INPUT when PROJ cannot transform
 * the point. */
rw_status rw_patch_to_lonlat(rw_patch_ctx *ctx, double x, double y,
                             double *lon, double *lat, rw_error *err);

/* A reserve's outline (ISO WKB of a valid (Multi)Polygon in the analysis
 * CRS) parsed and prepared in ctx's GEOS context; destroy it with the same
 * ctx. RW_ERR_INTERNAL when the WKB does not parse, RW_ERR_NOMEM. */
typedef struct rw_patch_outline rw_patch_outline;
rw_status rw_patch_outline_create(rw_patch_ctx *ctx, const unsigned char *wkb, size_t size, rw_patch_outline **out,
                                  rw_error *err);
void rw_patch_outline_destroy(rw_patch_ctx *ctx, rw_patch_outline *o);

/* Clips *geom (a valid (Multi)Polygon of ctx) to the outline: left as it is
 * when the outline contains it, else replaced by the polygonal part of the
 * intersection (valid), or NULL when nothing with an area remains.
 * RW_ERR_INTERNAL when GEOS fails (*geom is then unchanged), RW_ERR_NOMEM. */
rw_status rw_patch_clip(rw_patch_ctx *ctx, const rw_patch_outline *o, GEOSGeometry **geom, rw_error *err);

/* Geodesic area of a (Multi)Polygon on the CGCS2000 ellipsoid, in m²: the
 * outer rings minus the holes, over all parts. Every vertex is transformed
 * to EPSG:4490; edges longer than RW_PATCH_DENSIFY_M are split first, so
 * that an edge that is straight in the analysis CRS is followed closely and
 * not replaced by one long geodesic (pixel edges are far shorter, so patch
 * outlines are used as they are). RW_ERR_USAGE for other geometry types,
 * RW_ERR_INPUT when a vertex cannot be transformed. */
#define RW_PATCH_DENSIFY_M 100.0
rw_status rw_patch_geodesic_area(rw_patch_ctx *ctx, const GEOSGeometry *geom,
                                 double *m2, rw_error *err);

/* Area units: 1 亩 = 10000/15 m² (666.67 m²), 1 ha = 10000 m². */
double rw_patch_area_mu(double m2);
double rw_patch_area_ha(double m2);

/* Decimal degrees with 6 decimals, "115.123457", "-0.500000". Buffer sizes
 * that always suffice. RW_ERR_USAGE when v is not finite or |v| > 360, or
 * when size is too small. */
#define RW_PATCH_DEG_SIZE 16
rw_status rw_patch_format_deg(double v, char *buf, size_t size,
                              rw_error *err);

/* Degrees, minutes, seconds with 2 decimals and a hemisphere letter, UTF-8:
 * "115°37′12.34″E", "28°05′06.78″N". The value is rounded to 0.01″ before
 * it is split, so 59.995″ carries into the next minute (never "60.00″").
 * Negative values are W (is_lon) or S; a value that rounds to zero is E/N.
 * RW_ERR_USAGE when v is not finite, |v| > 180 (longitude) or > 90
 * (latitude), or size is too small. */
#define RW_PATCH_DMS_SIZE 32
rw_status rw_patch_format_dms(double v, bool is_lon, char *buf, size_t size,
                              rw_error *err);

#endif
