/* The patch context, the transformation to CGCS2000 lon/lat, geodesic
 * areas, area units and coordinate text. */
#include "patch.h"

#include <geodesic.h>
#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CGCS2000 ellipsoid (GRS 80 axis, CGCS2000 flattening), metres. */
#define CGCS2000_A 6378137.0
#define CGCS2000_F (1.0 / 298.257222101)

/* Mean metres per degree of latitude; only used to decide how finely to
 * densify, so an approximation is enough. */
#define METRES_PER_DEGREE 111320.0

struct rw_patch_ctx {
    GEOSContextHandle_t geos;
    PJ_CONTEXT *proj;
    PJ *to_lonlat; /* analysis CRS (x, y) -> EPSG:4490 (lon, lat) degrees */
    struct geod_geodesic geod;
    char geos_message[512]; /* last GEOS error, kept for error reports */
    char proj_message[512]; /* last PROJ log line, same */
};

/* GEOS and PROJ would otherwise write to stderr; the library never prints,
 * so their messages are kept in the context and quoted in rw_error. */
static void patch_geos_message(const char *message, void *user)
{
    rw_patch_ctx *ctx = user;
    snprintf(ctx->geos_message, sizeof(ctx->geos_message), "%s", message);
}

static void patch_proj_message(void *user, int level, const char *message)
{
    rw_patch_ctx *ctx = user;
    (void)level;
    snprintf(ctx->proj_message, sizeof(ctx->proj_message), "%s", message);
}

rw_status rw_patch_ctx_create(const char *analysis_crs, rw_patch_ctx **out,
                              rw_error *err)
{
    rw_status st = RW_OK;
    rw_patch_ctx *ctx = NULL;
    PJ *src = NULL, *dst = NULL, *op = NULL;

    RW_FAIL_IF(analysis_crs == NULL || out == NULL, err, RW_ERR_USAGE,
               "patch context: missing CRS or output");
    ctx = rw_calloc(1, sizeof(*ctx), err);
    RW_FAIL_IF(ctx == NULL, err, RW_ERR_NOMEM, "patch context");

    ctx->geos = GEOS_init_r();
    RW_FAIL_IF(ctx->geos == NULL, err, RW_ERR_INTERNAL,
               "cannot start a GEOS context");
    GEOSContext_setErrorMessageHandler_r(ctx->geos, patch_geos_message, ctx);

    ctx->proj = proj_context_create();
    RW_FAIL_IF(ctx->proj == NULL, err, RW_ERR_INTERNAL,
               "cannot start a PROJ context");
    proj_log_func(ctx->proj, ctx, patch_proj_message);
    /* Never fetch grids over the network, whatever PROJ_NETWORK says: a
     * run must not reveal where the patches are. */
    proj_context_set_enable_network(ctx->proj, 0);

    src = proj_create(ctx->proj, analysis_crs);
    RW_FAIL_IF(src == NULL || !proj_is_crs(src), err, RW_ERR_USAGE,
               "analysis CRS is not a CRS PROJ knows: %s", ctx->proj_message);
    dst = proj_create(ctx->proj, "EPSG:4490");
    RW_FAIL_IF(dst == NULL, err, RW_ERR_INTERNAL,
               "EPSG:4490 is missing from the PROJ database: %s",
               ctx->proj_message);
    op = proj_create_crs_to_crs_from_pj(ctx->proj, src, dst, NULL, NULL);
    RW_FAIL_IF(op == NULL, err, RW_ERR_USAGE,
               "no transformation from the analysis CRS to EPSG:4490: %s",
               ctx->proj_message);
    /* GDAL geotransforms are easting/longitude first whatever the CRS's
     * official axis order (EPSG:4547 is northing first, EPSG:4490 latitude
     * first); normalising makes both ends of the pipeline GIS order. */
    ctx->to_lonlat = proj_normalize_for_visualization(ctx->proj, op);
    RW_FAIL_IF(ctx->to_lonlat == NULL, err, RW_ERR_INTERNAL,
               "cannot normalise the axis order: %s", ctx->proj_message);

    geod_init(&ctx->geod, CGCS2000_A, CGCS2000_F);
    *out = ctx;
    ctx = NULL;
done:
    proj_destroy(op);
    proj_destroy(dst);
    proj_destroy(src);
    rw_patch_ctx_destroy(ctx);
    return st;
}

void rw_patch_ctx_destroy(rw_patch_ctx *ctx)
{
    if (ctx == NULL)
        return;
    proj_destroy(ctx->to_lonlat);
    if (ctx->proj != NULL)
        proj_context_destroy(ctx->proj);
    if (ctx->geos != NULL)
        GEOS_finish_r(ctx->geos);
    free(ctx);
}

GEOSContextHandle_t rw_patch_ctx_geos(const rw_patch_ctx *ctx)
{
    return ctx->geos;
}

const char *rw_patch_ctx_geos_message(const rw_patch_ctx *ctx)
{
    return ctx->geos_message;
}

rw_status rw_patch_to_lonlat(rw_patch_ctx *ctx, double x, double y,
                             double *lon, double *lat, rw_error *err)
{
    rw_status st = RW_OK;
    RW_FAIL_IF(ctx == NULL || lon == NULL || lat == NULL, err, RW_ERR_USAGE,
               "to_lonlat: missing argument");
    proj_errno_reset(ctx->to_lonlat);
    PJ_COORD c = proj_trans(ctx->to_lonlat, PJ_FWD, proj_coord(x, y, 0, 0));
    RW_FAIL_IF(!isfinite(c.xy.x) || !isfinite(c.xy.y), err, RW_ERR_INPUT,
               "cannot transform (%.3f, %.3f) to EPSG:4490: %s", x, y,
               proj_context_errno_string(ctx->proj,
                                         proj_errno(ctx->to_lonlat)));
    *lon = c.xy.x;
    *lat = c.xy.y;
done:
    return st;
}

/* Lon/lat of one ring, closing point dropped, long edges densified. */
typedef struct patch_ring_ll {
    double *lat, *lon;
    size_t n, cap;
} patch_ring_ll;

static rw_status patch_ring_push(patch_ring_ll *r, double lon, double lat,
                                 rw_error *err)
{
    rw_status st = RW_OK;
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        double *nlat = realloc(r->lat, cap * sizeof(*nlat));
        RW_FAIL_IF(nlat == NULL, err, RW_ERR_NOMEM, "ring of %zu points", cap);
        r->lat = nlat;
        double *nlon = realloc(r->lon, cap * sizeof(*nlon));
        RW_FAIL_IF(nlon == NULL, err, RW_ERR_NOMEM, "ring of %zu points", cap);
        r->lon = nlon;
        r->cap = cap;
    }
    r->lat[r->n] = lat;
    r->lon[r->n] = lon;
    r->n++;
done:
    return st;
}

/* Absolute geodesic area of one ring (m²). xy holds the ring in analysis-CRS
 * coordinates, closing point included, and is overwritten with lon/lat. */
static rw_status patch_ring_area(rw_patch_ctx *ctx, double *xy, size_t n,
                                 patch_ring_ll *ll, double *area,
                                 rw_error *err)
{
    rw_status st = RW_OK;
    double *ax = NULL;
    ll->n = 0;
    RW_FAIL_IF(n < 4, err, RW_ERR_USAGE, "ring with %zu points", n);
    ax = rw_malloc(2 * n * sizeof(*ax), err);
    RW_FAIL_IF(ax == NULL, err, RW_ERR_NOMEM, "ring copy");
    memcpy(ax, xy, 2 * n * sizeof(*ax));

    proj_errno_reset(ctx->to_lonlat);
    size_t done_n = proj_trans_generic(ctx->to_lonlat, PJ_FWD,
                                       xy, 2 * sizeof(double), n,
                                       xy + 1, 2 * sizeof(double), n,
                                       NULL, 0, 0, NULL, 0, 0);
    RW_FAIL_IF(done_n != n, err, RW_ERR_INPUT,
               "PROJ transformed %zu of %zu ring points", done_n, n);

    for (size_t i = 0; i + 1 < n; i++) {
        const double lon0 = xy[2 * i], lat0 = xy[2 * i + 1];
        const double lon1 = xy[2 * i + 2], lat1 = xy[2 * i + 3];
        RW_FAIL_IF(!isfinite(lon0) || !isfinite(lat0), err, RW_ERR_INPUT,
                   "cannot transform (%.3f, %.3f) to EPSG:4490: %s",
                   ax[2 * i], ax[2 * i + 1],
                   proj_context_errno_string(ctx->proj,
                                             proj_errno(ctx->to_lonlat)));
        RW_CHECK(patch_ring_push(ll, lon0, lat0, err));
        const double dx = (lon1 - lon0) * cos(lat0 * M_PI / 180.0);
        const double metres = hypot(dx, lat1 - lat0) * METRES_PER_DEGREE;
        if (!(metres > RW_PATCH_DENSIFY_M))
            continue;
        /* Split in the analysis CRS, where the edge is straight. */
        const size_t parts = (size_t)ceil(metres / RW_PATCH_DENSIFY_M);
        for (size_t k = 1; k < parts; k++) {
            const double t = (double)k / (double)parts;
            const double x = ax[2 * i] + t * (ax[2 * i + 2] - ax[2 * i]);
            const double y = ax[2 * i + 1] + t * (ax[2 * i + 3] - ax[2 * i + 1]);
            double lon, lat;
            RW_CHECK(rw_patch_to_lonlat(ctx, x, y, &lon, &lat, err));
            RW_CHECK(patch_ring_push(ll, lon, lat, err));
        }
    }
    RW_FAIL_IF(ll->n > INT32_MAX, err, RW_ERR_USAGE, "ring of %zu points",
               ll->n);
    double a = 0.0, perimeter = 0.0;
    geod_polygonarea(&ctx->geod, ll->lat, ll->lon, (int)ll->n, &a, &perimeter);
    *area = fabs(a);
done:
    free(ax);
    return st;
}

/* Copies a ring's coordinates out of GEOS as interleaved x, y. */
static rw_status patch_ring_coords(rw_patch_ctx *ctx, const GEOSGeometry *ring,
                                   double **xy, size_t *cap, size_t *n,
                                   rw_error *err)
{
    rw_status st = RW_OK;
    unsigned int size = 0;
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    RW_FAIL_IF(seq == NULL || !GEOSCoordSeq_getSize_r(ctx->geos, seq, &size),
               err, RW_ERR_INTERNAL, "ring coordinates: %s", ctx->geos_message);
    if (size > *cap) {
        double *p = realloc(*xy, 2 * (size_t)size * sizeof(*p));
        RW_FAIL_IF(p == NULL, err, RW_ERR_NOMEM, "ring of %u points", size);
        *xy = p;
        *cap = size;
    }
    RW_FAIL_IF(!GEOSCoordSeq_copyToBuffer_r(ctx->geos, seq, *xy, 0, 0), err,
               RW_ERR_INTERNAL, "ring coordinates: %s", ctx->geos_message);
    *n = size;
done:
    return st;
}

rw_status rw_patch_geodesic_area(rw_patch_ctx *ctx, const GEOSGeometry *geom,
                                 double *m2, rw_error *err)
{
    rw_status st = RW_OK;
    double *xy = NULL;
    size_t cap = 0;
    patch_ring_ll ll = {0};
    double total = 0.0;

    RW_FAIL_IF(ctx == NULL || geom == NULL || m2 == NULL, err, RW_ERR_USAGE,
               "geodesic_area: missing argument");
    const int type = GEOSGeomTypeId_r(ctx->geos, geom);
    RW_FAIL_IF(type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON, err,
               RW_ERR_USAGE, "geodesic_area: not a (Multi)Polygon");
    const int parts = GEOSGetNumGeometries_r(ctx->geos, geom);
    RW_FAIL_IF(parts < 0, err, RW_ERR_INTERNAL, "parts: %s", ctx->geos_message);
    for (int p = 0; p < parts; p++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(ctx->geos, geom, p);
        if (GEOSisEmpty_r(ctx->geos, poly))
            continue;
        const int holes = GEOSGetNumInteriorRings_r(ctx->geos, poly);
        RW_FAIL_IF(holes < 0, err, RW_ERR_INTERNAL, "holes: %s",
                   ctx->geos_message);
        for (int r = -1; r < holes; r++) {
            const GEOSGeometry *ring =
                r < 0 ? GEOSGetExteriorRing_r(ctx->geos, poly)
                      : GEOSGetInteriorRingN_r(ctx->geos, poly, r);
            RW_FAIL_IF(ring == NULL, err, RW_ERR_INTERNAL, "ring: %s",
                       ctx->geos_message);
            size_t n = 0;
            double area = 0.0;
            RW_CHECK(patch_ring_coords(ctx, ring, &xy, &cap, &n, err));
            RW_CHECK(patch_ring_area(ctx, xy, n, &ll, &area, err));
            total += r < 0 ? area : -area;
        }
    }
    *m2 = total;
done:
    free(xy);
    free(ll.lat);
    free(ll.lon);
    return st;
}

double rw_patch_area_mu(double m2) { return m2 / (10000.0 / 15.0); }

double rw_patch_area_ha(double m2) { return m2 / 10000.0; }

rw_status rw_patch_format_deg(double v, char *buf, size_t size, rw_error *err)
{
    rw_status st = RW_OK;
    RW_FAIL_IF(buf == NULL || !isfinite(v) || fabs(v) > 360.0, err,
               RW_ERR_USAGE, "degrees out of range");
    /* Round once in integer millionths so that no "-0.000000" appears and
     * rounding is half away from zero whatever the binary value. */
    const long long units = llround(fabs(v) * 1e6);
    const char *sign = (v < 0 && units > 0) ? "-" : "";
    const int len = snprintf(buf, size, "%s%lld.%06lld", sign,
                             units / 1000000, units % 1000000);
    RW_FAIL_IF(len < 0 || (size_t)len >= size, err, RW_ERR_USAGE,
               "buffer of %zu bytes too small for degrees", size);
done:
    return st;
}

rw_status rw_patch_format_dms(double v, bool is_lon, char *buf, size_t size,
                              rw_error *err)
{
    rw_status st = RW_OK;
    const double limit = is_lon ? 180.0 : 90.0;
    RW_FAIL_IF(buf == NULL || !isfinite(v) || fabs(v) > limit, err,
               RW_ERR_USAGE, "%s out of range", is_lon ? "longitude" : "latitude");
    /* Whole value in hundredths of an arc second, then split: the carry
     * from 59.995″ into minutes and degrees happens in the integer. */
    const long long total = llround(fabs(v) * 360000.0);
    const long long deg = total / 360000;
    const long long min = total % 360000 / 6000;
    const long long cs = total % 6000;
    const bool negative = v < 0 && total > 0;
    const char hemi = is_lon ? (negative ? 'W' : 'E') : (negative ? 'S' : 'N');
    const int len = snprintf(buf, size,
                             "%lld\u00b0%02lld\u2032%02lld.%02lld\u2033%c",
                             deg, min, cs / 100, cs % 100, hemi);
    RW_FAIL_IF(len < 0 || (size_t)len >= size, err, RW_ERR_USAGE,
               "buffer of %zu bytes too small for DMS", size);
done:
    return st;
}
