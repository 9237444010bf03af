/* Reading the zone layer: field mapping, validation and repair (GEOS),
 * reprojection (OGR/PROJ), declared geodesic areas, reserve grouping and
 * the spatial index. Runs on one thread; see zones.h for what is shared. */
#include "zones.h"

#include <cpl_error.h>
#include <gdal.h>
#include <geodesic.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CGCS2000 lon/lat: the CRS of field points and areas (see DESIGN.md). */
#define ZONES_GEO_EPSG 4490

/* Leaves of the STRtree; GEOS's own default. */
#define ZONES_TREE_CAPACITY 10

static const char *const rank_names[RW_ZONE_RANK_COUNT] = {
    [RW_ZONE_NONE] = "none",
    [RW_ZONE_EXPERIMENTAL] = "experimental",
    [RW_ZONE_BUFFER] = "buffer",
    [RW_ZONE_CORE] = "core",
};

/* Accepted zone values, compared after trimming, ASCII case folded. */
static const struct zones_value {
    const char *text;
    rw_zone_rank rank;
} zone_values[] = {
    {"核心区", RW_ZONE_CORE},
    {"缓冲区", RW_ZONE_BUFFER},
    {"实验区", RW_ZONE_EXPERIMENTAL},
    {"core", RW_ZONE_CORE},
    {"buffer", RW_ZONE_BUFFER},
    {"experimental", RW_ZONE_EXPERIMENTAL},
};

enum {
    ZONES_FIELD_ID,
    ZONES_FIELD_NAME,
    ZONES_FIELD_LEVEL,
    ZONES_FIELD_ZONE,
    ZONES_FIELD_CITY,
    ZONES_FIELD_COUNTY,
    ZONES_FIELD_COUNT
};

/* One row per input field: its default name, where an override lives in
 * rw_zones_fields, and where its value goes in rw_reserve (size 0: the
 * value is not an attribute, the zone). */
static const struct zones_field_spec {
    const char *default_name;
    size_t option;
    size_t attr;
    size_t attr_size;
    bool optional;
} field_specs[ZONES_FIELD_COUNT] = {
    [ZONES_FIELD_ID] = {"reserve_id", offsetof(rw_zones_fields, reserve_id),
                        offsetof(rw_reserve, id),
                        sizeof(((rw_reserve *)0)->id), false},
    [ZONES_FIELD_NAME] = {"name", offsetof(rw_zones_fields, name),
                          offsetof(rw_reserve, name),
                          sizeof(((rw_reserve *)0)->name), false},
    [ZONES_FIELD_LEVEL] = {"level", offsetof(rw_zones_fields, level),
                           offsetof(rw_reserve, level),
                           sizeof(((rw_reserve *)0)->level), true},
    [ZONES_FIELD_ZONE] = {"zone", offsetof(rw_zones_fields, zone), 0, 0,
                          false},
    [ZONES_FIELD_CITY] = {"city", offsetof(rw_zones_fields, city),
                          offsetof(rw_reserve, city),
                          sizeof(((rw_reserve *)0)->city), true},
    [ZONES_FIELD_COUNTY] = {"county", offsetof(rw_zones_fields, county),
                            offsetof(rw_reserve, county),
                            sizeof(((rw_reserve *)0)->county), true},
};

/* One usable feature before grouping: attrs.zone_area_m2[rank] holds its
 * own area so that grouping only sums. */
typedef struct zones_feature {
    rw_reserve attrs;
    rw_zone_rank rank;
    long long fid;
    OGRGeometryH geom; /* target CRS; owned until moved into a piece */
} zones_feature;

typedef struct zones_reader {
    const char *path;
    rw_zones_warning_fn warn;
    void *warn_user;
    rw_error *err;
    int field[ZONES_FIELD_COUNT];              /* OGR index, -1: absent */
    const char *field_name[ZONES_FIELD_COUNT]; /* as mapped, for messages */
    GEOSContextHandle_t geos;
    GEOSWKBWriter *wkb;
    char geos_message[256]; /* last GEOS error, for our own messages */
    OGRCoordinateTransformationH to_target;
    OGRCoordinateTransformationH to_geo;
    struct geod_geodesic geod; /* CGCS2000 ellipsoid */
    zones_feature *features;
    size_t count, capacity;
} zones_reader;

const char *rw_zones_rank_name(rw_zone_rank rank)
{
    if ((unsigned)rank >= RW_ZONE_RANK_COUNT)
        return "unknown";
    return rank_names[rank];
}

static void zones_warn(zones_reader *r, const char *fmt, ...) RW_PRINTF(2, 3);

static void zones_warn(zones_reader *r, const char *fmt, ...)
{
    if (r->warn == NULL)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    r->warn(line, r->warn_user);
}

static void zones_geos_error(const char *message, void *user)
{
    zones_reader *r = user;
    snprintf(r->geos_message, sizeof(r->geos_message), "%s", message);
}

/* Width in bytes of the white space at s (0: none): ASCII white space or
 * U+3000 IDEOGRAPHIC SPACE, common in Chinese attribute tables. */
static size_t zones_space_at(const char *s, size_t len)
{
    if (len >= 1 && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r')))
        return 1;
    if (len >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0)
        return 3;
    return 0;
}

/* Trims white space at both ends; returns the start and sets *len. */
static const char *zones_trim(const char *s, size_t *len)
{
    size_t n = strlen(s);
    size_t w;
    while ((w = zones_space_at(s, n)) > 0) {
        s += w;
        n -= w;
    }
    for (;;) {
        if (n >= 1 && zones_space_at(s + n - 1, 1) == 1)
            n--;
        else if (n >= 3 && zones_space_at(s + n - 3, 3) == 3)
            n -= 3;
        else
            break;
    }
    *len = n;
    return s;
}

/* Copies len bytes into dst of size bytes; when they do not fit, cuts at a
 * UTF-8 character boundary and returns false. */
static bool zones_copy(char *dst, size_t size, const char *src, size_t len)
{
    bool fits = len < size;
    size_t n = fits ? len : size - 1;
    if (!fits)
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return fits;
}

static bool zones_equal_fold(const char *a, size_t len, const char *b)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ca = (unsigned char)a[i];
        unsigned char cb = (unsigned char)b[i];
        if (cb == '\0')
            return false;
        if (ca >= 'A' && ca <= 'Z')
            ca = (unsigned char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (unsigned char)(cb - 'A' + 'a');
        if (ca != cb)
            return false;
    }
    return b[len] == '\0';
}

rw_zone_rank rw_zones_parse_rank(const char *text, size_t len)
{
    for (size_t i = 0; i < sizeof(zone_values) / sizeof(zone_values[0]); i++)
        if (zones_equal_fold(text, len, zone_values[i].text))
            return zone_values[i].rank;
    return RW_ZONE_NONE;
}

/* Joins "name (geometry type)" of every layer, for error messages. */
static void zones_list_layers(GDALDatasetH ds, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    const int n = GDALDatasetGetLayerCount(ds);
    for (int i = 0; i < n && used < size; i++) {
        OGRLayerH l = GDALDatasetGetLayer(ds, i);
        int k = snprintf(buf + used, size - used, "%s%s (%s)", i ? ", " : "",
                         OGR_L_GetName(l),
                         OGRGeometryTypeToName(OGR_L_GetGeomType(l)));
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (n == 0)
        snprintf(buf, size, "none");
}

static void zones_list_fields(OGRFeatureDefnH defn, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    const int n = OGR_FD_GetFieldCount(defn);
    for (int i = 0; i < n && used < size; i++) {
        int k = snprintf(buf + used, size - used, "%s%s", i ? ", " : "",
                         OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (n == 0)
        snprintf(buf, size, "none");
}

static bool zones_is_polygonal_type(OGRwkbGeometryType type)
{
    const OGRwkbGeometryType flat = wkbFlatten(type);
    return OGR_GT_IsSubClassOf(flat, wkbCurvePolygon) ||
           OGR_GT_IsSubClassOf(flat, wkbMultiSurface);
}

/* The named layer, else the first polygon layer, else the first layer of
 * unknown (mixed) geometry type, whose features are then checked one by
 * one (GeoJSON mixing Polygon and MultiPolygon reports that). */
static rw_status zones_find_layer(zones_reader *r, GDALDatasetH ds,
                                  const char *name, OGRLayerH *out)
{
    rw_status st = RW_OK;
    char names[512];
    OGRLayerH layer = NULL;
    if (name != NULL) {
        layer = GDALDatasetGetLayerByName(ds, name);
        if (layer == NULL) {
            zones_list_layers(ds, names, sizeof(names));
            RW_FAIL(r->err, RW_ERR_FORMAT, "%s: no layer '%s' (layers: %s)",
                    r->path, name, names);
        }
        const OGRwkbGeometryType t = OGR_L_GetGeomType(layer);
        RW_FAIL_IF(!zones_is_polygonal_type(t) && t != wkbUnknown, r->err,
                   RW_ERR_FORMAT, "%s: layer '%s' holds %s, not polygons",
                   r->path, name, OGRGeometryTypeToName(t));
    }
    const int n = GDALDatasetGetLayerCount(ds);
    for (int pass = 0; pass < 2 && layer == NULL; pass++)
        for (int i = 0; i < n && layer == NULL; i++) {
            OGRLayerH l = GDALDatasetGetLayer(ds, i);
            const OGRwkbGeometryType t = OGR_L_GetGeomType(l);
            if (pass == 0 ? zones_is_polygonal_type(t) : t == wkbUnknown)
                layer = l;
        }
    if (layer == NULL) {
        zones_list_layers(ds, names, sizeof(names));
        RW_FAIL(r->err, RW_ERR_FORMAT, "%s: no polygon layer (layers: %s)",
                r->path, names);
    }
    *out = layer;
done:
    return st;
}

static rw_status zones_map_fields(zones_reader *r, OGRLayerH layer,
                                  const rw_zones_fields *fields)
{
    rw_status st = RW_OK;
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
    for (int i = 0; i < ZONES_FIELD_COUNT; i++) {
        const struct zones_field_spec *spec = &field_specs[i];
        const char *override =
            fields ? *(const char *const *)((const char *)fields +
                                            spec->option)
                   : NULL;
        const char *name = override ? override : spec->default_name;
        r->field_name[i] = name;
        r->field[i] = OGR_FD_GetFieldIndex(defn, name);
        if (r->field[i] < 0 && !(spec->optional && override == NULL)) {
            char names[512];
            zones_list_fields(defn, names, sizeof(names));
            RW_FAIL(r->err, RW_ERR_FORMAT,
                    "%s: layer '%s' has no field '%s' (fields: %s)", r->path,
                    OGR_L_GetName(layer), name, names);
        }
    }
done:
    return st;
}

/* The trimmed text of field i of f; empty when absent, unset or null. */
static const char *zones_field_text(const zones_reader *r, OGRFeatureH f,
                                    int i, size_t *len)
{
    const int idx = r->field[i];
    if (idx < 0 || !OGR_F_IsFieldSetAndNotNull(f, idx)) {
        *len = 0;
        return "";
    }
    return zones_trim(OGR_F_GetFieldAsString(f, idx), len);
}

static rw_status zones_read_attributes(zones_reader *r, OGRFeatureH f,
                                       zones_feature *rec)
{
    rw_status st = RW_OK;
    size_t len;
    const char *text = zones_field_text(r, f, ZONES_FIELD_ID, &len);
    RW_FAIL_IF(len == 0, r->err, RW_ERR_FORMAT,
               "%s: feature %lld: empty %s", r->path, rec->fid,
               r->field_name[ZONES_FIELD_ID]);
    /* An id is a key for the ledger and reports: cut, it would merge
     * reserves, so it is an error rather than a warning. */
    RW_FAIL_IF(!zones_copy(rec->attrs.id, sizeof(rec->attrs.id), text, len),
               r->err, RW_ERR_FORMAT,
               "%s: feature %lld: reserve id '%.*s' is longer than %zu bytes",
               r->path, rec->fid, (int)len, text,
               sizeof(rec->attrs.id) - 1);

    text = zones_field_text(r, f, ZONES_FIELD_ZONE, &len);
    rec->rank = rw_zones_parse_rank(text, len);
    RW_FAIL_IF(rec->rank == RW_ZONE_NONE, r->err, RW_ERR_FORMAT,
               "%s: feature %lld (reserve %s): unknown zone value '%.*s' "
               "(expected 核心区/缓冲区/实验区 or core/buffer/experimental)",
               r->path, rec->fid, rec->attrs.id, (int)len, text);

    for (int i = 0; i < ZONES_FIELD_COUNT; i++) {
        const struct zones_field_spec *spec = &field_specs[i];
        if (i == ZONES_FIELD_ID || spec->attr_size == 0)
            continue;
        text = zones_field_text(r, f, i, &len);
        char *dst = (char *)&rec->attrs + spec->attr;
        if (!zones_copy(dst, spec->attr_size, text, len))
            zones_warn(r, "%s: feature %lld (reserve %s): %s cut to %zu bytes",
                       r->path, rec->fid, rec->attrs.id, r->field_name[i],
                       spec->attr_size - 1);
    }
done:
    return st;
}

static rw_status zones_push_polygon(zones_reader *r, GEOSGeometry ***parts,
                                    size_t *count, size_t *capacity,
                                    const GEOSGeometry *g)
{
    rw_status st = RW_OK;
    if (*count == *capacity) {
        const size_t cap = *capacity ? *capacity * 2 : 4;
        GEOSGeometry **grown = realloc(*parts, cap * sizeof(*grown));
        RW_FAIL_IF(grown == NULL, r->err, RW_ERR_NOMEM,
                   "%s: out of memory collecting polygons", r->path);
        *parts = grown;
        *capacity = cap;
    }
    GEOSGeometry *copy = GEOSGeom_clone_r(r->geos, g);
    RW_FAIL_IF(copy == NULL, r->err, RW_ERR_NOMEM,
               "%s: cannot copy a polygon: %s", r->path, r->geos_message);
    (*parts)[(*count)++] = copy;
done:
    return st;
}

/* Collects the non-empty polygons of g, at any collection depth. */
static rw_status zones_collect_polygons(zones_reader *r, const GEOSGeometry *g,
                                        GEOSGeometry ***parts, size_t *count,
                                        size_t *capacity)
{
    rw_status st = RW_OK;
    const int type = GEOSGeomTypeId_r(r->geos, g);
    if (type == GEOS_POLYGON) {
        if (GEOSisEmpty_r(r->geos, g) == 0)
            RW_CHECK(zones_push_polygon(r, parts, count, capacity, g));
    } else if (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION) {
        const int n = GEOSGetNumGeometries_r(r->geos, g);
        for (int i = 0; i < n; i++)
            RW_CHECK(zones_collect_polygons(r, GEOSGetGeometryN_r(r->geos, g, i),
                                            parts, count, capacity));
    }
done:
    return st;
}

/* The polygonal part of g as one multipolygon; *out NULL when there is
 * none (lines and points left over by make-valid, or a point layer). */
static rw_status zones_polygonal(zones_reader *r, const GEOSGeometry *g,
                                 GEOSGeometry **out)
{
    rw_status st = RW_OK;
    GEOSGeometry **parts = NULL;
    size_t count = 0, capacity = 0;
    *out = NULL;
    RW_CHECK(zones_collect_polygons(r, g, &parts, &count, &capacity));
    if (count == 0)
        goto done;
    *out = GEOSGeom_createCollection_r(r->geos, GEOS_MULTIPOLYGON, parts,
                                       (unsigned)count);
    count = 0; /* GEOS owns the parts from the call on, even when it fails */
    RW_FAIL_IF(*out == NULL, r->err, RW_ERR_NOMEM,
               "%s: cannot build a multipolygon: %s", r->path,
               r->geos_message);
done:
    for (size_t i = 0; i < count; i++)
        GEOSGeom_destroy_r(r->geos, parts[i]);
    free(parts);
    return st;
}

static rw_status zones_to_geos(zones_reader *r, const zones_feature *rec,
                               OGRGeometryH g, GEOSGeometry **out)
{
    rw_status st = RW_OK;
    const int size = OGR_G_WkbSize(g);
    unsigned char *wkb = rw_malloc((size_t)size, r->err);
    if (wkb == NULL) {
        st = RW_ERR_NOMEM;
        goto done;
    }
    RW_FAIL_IF(OGR_G_ExportToWkb(g, wkbNDR, wkb) != OGRERR_NONE, r->err,
               RW_ERR_FORMAT, "%s: feature %lld (reserve %s): cannot encode "
               "its geometry: %s", r->path, rec->fid, rec->attrs.id,
               CPLGetLastErrorMsg());
    *out = GEOSGeomFromWKB_buf_r(r->geos, wkb, (size_t)size);
    RW_FAIL_IF(*out == NULL, r->err, RW_ERR_FORMAT,
               "%s: feature %lld (reserve %s): unreadable geometry: %s",
               r->path, rec->fid, rec->attrs.id, r->geos_message);
done:
    free(wkb);
    return st;
}

static rw_status zones_from_geos(zones_reader *r, const zones_feature *rec,
                                 const GEOSGeometry *g, OGRGeometryH *out)
{
    rw_status st = RW_OK;
    size_t size = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(r->geos, r->wkb, g, &size);
    RW_FAIL_IF(wkb == NULL, r->err, RW_ERR_NOMEM,
               "%s: feature %lld: cannot encode the repaired geometry: %s",
               r->path, rec->fid, r->geos_message);
    RW_FAIL_IF(OGR_G_CreateFromWkb(wkb, NULL, out, (int)size) != OGRERR_NONE,
               r->err, RW_ERR_INTERNAL,
               "%s: feature %lld: OGR cannot decode GEOS output: %s", r->path,
               rec->fid, CPLGetLastErrorMsg());
done:
    if (wkb != NULL)
        GEOSFree_r(r->geos, wkb);
    return st;
}

/* Replaces *g by its valid polygonal part (2D, linear), repairing it when
 * invalid; sets *g to NULL, with a warning, when nothing polygonal is left. */
static rw_status zones_repair(zones_reader *r, const zones_feature *rec,
                              OGRGeometryH *g)
{
    rw_status st = RW_OK;
    GEOSGeometry *geom = NULL, *fixed = NULL, *poly = NULL;
    char *reason = NULL;
    OGRGeometryH repaired = NULL;
    const char *zone = rw_zones_rank_name(rec->rank);
    r->geos_message[0] = '\0';

    if (OGR_G_HasCurveGeometry(*g, TRUE)) {
        OGRGeometryH linear = OGR_G_GetLinearGeometry(*g, 0, NULL);
        RW_FAIL_IF(linear == NULL, r->err, RW_ERR_FORMAT,
                   "%s: feature %lld (reserve %s): cannot linearise curves",
                   r->path, rec->fid, rec->attrs.id);
        OGR_G_DestroyGeometry(*g);
        *g = linear;
    }
    /* Polyhedral surfaces and TINs have no GEOS counterpart; everything
     * else comes back unchanged or as the multipolygon it already was. */
    *g = OGR_G_ForceToMultiPolygon(*g);
    OGR_G_FlattenTo2D(*g);
    RW_CHECK(zones_to_geos(r, rec, *g, &geom));

    const char valid = GEOSisValid_r(r->geos, geom);
    RW_FAIL_IF(valid == 2, r->err, RW_ERR_FORMAT,
               "%s: feature %lld (reserve %s): cannot check its geometry: %s",
               r->path, rec->fid, rec->attrs.id, r->geos_message);
    if (!valid) {
        reason = GEOSisValidReason_r(r->geos, geom);
        fixed = GEOSMakeValid_r(r->geos, geom);
        RW_FAIL_IF(fixed == NULL, r->err, RW_ERR_FORMAT,
                   "%s: feature %lld (reserve %s, %s zone): invalid geometry "
                   "(%s) cannot be repaired: %s", r->path, rec->fid,
                   rec->attrs.id, zone, reason ? reason : "?",
                   r->geos_message);
    }
    RW_CHECK(zones_polygonal(r, fixed ? fixed : geom, &poly));
    if (!valid)
        zones_warn(r, "%s: feature %lld (reserve %s, %s zone): invalid "
                      "geometry repaired (%s)%s", r->path, rec->fid,
                   rec->attrs.id, zone, reason ? reason : "?",
                   poly ? "" : "; no polygon left, feature skipped");
    else if (poly == NULL)
        zones_warn(r, "%s: feature %lld (reserve %s, %s zone): %s is not a "
                      "polygon, feature skipped", r->path, rec->fid,
                   rec->attrs.id, zone, OGR_G_GetGeometryName(*g));
    if (poly != NULL)
        RW_CHECK(zones_from_geos(r, rec, poly, &repaired));
    OGR_G_DestroyGeometry(*g);
    *g = repaired;
    repaired = NULL;
done:
    OGR_G_DestroyGeometry(repaired);
    if (reason != NULL)
        GEOSFree_r(r->geos, reason);
    if (poly != NULL)
        GEOSGeom_destroy_r(r->geos, poly);
    if (fixed != NULL)
        GEOSGeom_destroy_r(r->geos, fixed);
    if (geom != NULL)
        GEOSGeom_destroy_r(r->geos, geom);
    return st;
}

/* Geodesic area of a lon/lat ring in m², orientation ignored. */
static double zones_ring_area(const struct geod_geodesic *geod,
                              OGRGeometryH ring)
{
    struct geod_polygon p;
    geod_polygon_init(&p, 0);
    const int n = OGR_G_GetPointCount(ring);
    /* Rings repeat their first point at the end; geod closes by itself. */
    for (int i = 0; i + 1 < n; i++)
        geod_polygon_addpoint(geod, &p, OGR_G_GetY(ring, i),
                              OGR_G_GetX(ring, i));
    double area = 0.0;
    geod_polygon_compute(geod, &p, 0, 1, &area, NULL);
    return fabs(area);
}

/* Area of a lon/lat multipolygon in m²: outer rings minus holes. */
static double zones_geodesic_area(const struct geod_geodesic *geod,
                                  OGRGeometryH multi)
{
    double total = 0.0;
    const int n = OGR_G_GetGeometryCount(multi);
    for (int i = 0; i < n; i++) {
        OGRGeometryH poly = OGR_G_GetGeometryRef(multi, i);
        const int rings = OGR_G_GetGeometryCount(poly);
        for (int k = 0; k < rings; k++) {
            const double a = zones_ring_area(geod, OGR_G_GetGeometryRef(poly, k));
            total += k == 0 ? a : -a;
        }
    }
    return total;
}

/* Sets the feature's area (CGCS2000 lon/lat) and moves its geometry to
 * the target CRS. */
static rw_status zones_project(zones_reader *r, zones_feature *rec)
{
    rw_status st = RW_OK;
    OGRGeometryH geo = OGR_G_Clone(rec->geom);
    RW_FAIL_IF(geo == NULL, r->err, RW_ERR_NOMEM,
               "%s: out of memory copying a geometry", r->path);
    RW_FAIL_IF(OGR_G_Transform(geo, r->to_geo) != OGRERR_NONE, r->err,
               RW_ERR_INPUT,
               "%s: feature %lld (reserve %s): cannot transform to EPSG:%d: "
               "%s", r->path, rec->fid, rec->attrs.id, ZONES_GEO_EPSG,
               CPLGetLastErrorMsg());
    rec->attrs.zone_area_m2[rec->rank] = zones_geodesic_area(&r->geod, geo);
    RW_FAIL_IF(OGR_G_Transform(rec->geom, r->to_target) != OGRERR_NONE,
               r->err, RW_ERR_INPUT,
               "%s: feature %lld (reserve %s): cannot transform to the "
               "analysis grid CRS: %s", r->path, rec->fid, rec->attrs.id,
               CPLGetLastErrorMsg());
done:
    OGR_G_DestroyGeometry(geo);
    return st;
}

static rw_status zones_append(zones_reader *r, zones_feature *rec)
{
    rw_status st = RW_OK;
    if (r->count == r->capacity) {
        const size_t cap = r->capacity ? r->capacity * 2 : 64;
        zones_feature *grown = realloc(r->features, cap * sizeof(*grown));
        RW_FAIL_IF(grown == NULL, r->err, RW_ERR_NOMEM,
                   "%s: out of memory reading features", r->path);
        r->features = grown;
        r->capacity = cap;
    }
    r->features[r->count++] = *rec;
    rec->geom = NULL;
done:
    return st;
}

static rw_status zones_read_feature(zones_reader *r, OGRFeatureH f)
{
    rw_status st = RW_OK;
    zones_feature rec;
    memset(&rec, 0, sizeof(rec));
    rec.fid = (long long)OGR_F_GetFID(f);
    RW_CHECK(zones_read_attributes(r, f, &rec));
    rec.geom = OGR_F_StealGeometry(f);
    if (rec.geom == NULL || OGR_G_IsEmpty(rec.geom)) {
        zones_warn(r, "%s: feature %lld (reserve %s, %s zone): no geometry, "
                      "feature skipped", r->path, rec.fid, rec.attrs.id,
                   rw_zones_rank_name(rec.rank));
        goto done;
    }
    RW_CHECK(zones_repair(r, &rec, &rec.geom));
    if (rec.geom == NULL)
        goto done;
    RW_CHECK(zones_project(r, &rec));
    RW_CHECK(zones_append(r, &rec));
done:
    OGR_G_DestroyGeometry(rec.geom);
    return st;
}

static rw_status zones_read_layer(zones_reader *r, OGRLayerH layer)
{
    rw_status st = RW_OK;
    OGRFeatureH f = NULL;
    size_t seen = 0;
    OGR_L_ResetReading(layer);
    for (;;) {
        CPLErrorReset();
        f = OGR_L_GetNextFeature(layer);
        if (f == NULL)
            break;
        seen++;
        RW_CHECK(zones_read_feature(r, f));
        OGR_F_Destroy(f);
        f = NULL;
    }
    /* NULL means the end of the layer or a read error; only the error
     * leaves a failure behind. */
    RW_FAIL_IF(CPLGetLastErrorType() >= CE_Failure, r->err, RW_ERR_FORMAT,
               "%s: cannot read layer '%s': %s", r->path, OGR_L_GetName(layer),
               CPLGetLastErrorMsg());
    RW_FAIL_IF(seen == 0, r->err, RW_ERR_INPUT, "%s: layer '%s' has no features",
               r->path, OGR_L_GetName(layer));
    RW_FAIL_IF(r->count == 0, r->err, RW_ERR_INPUT,
               "%s: none of the %zu features of layer '%s' has a polygon",
               r->path, seen, OGR_L_GetName(layer));
done:
    OGR_F_Destroy(f);
    return st;
}

static int zones_compare_features(const void *pa, const void *pb)
{
    const zones_feature *a = pa, *b = pb;
    const int c = strcmp(a->attrs.id, b->attrs.id);
    if (c != 0)
        return c;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    /* Summing a zone's areas in area order keeps the total bit-identical
     * whatever the feature order. */
    const double area_a = a->attrs.zone_area_m2[a->rank];
    const double area_b = b->attrs.zone_area_m2[b->rank];
    if (area_a != area_b)
        return area_a < area_b ? -1 : 1;
    return (a->fid > b->fid) - (a->fid < b->fid);
}

static int zones_compare_pieces(const void *pa, const void *pb)
{
    const rw_zone_piece *a = pa, *b = pb;
    if (a->rank != b->rank)
        return a->rank < b->rank ? -1 : 1;
    if (a->reserve != b->reserve)
        return a->reserve < b->reserve ? -1 : 1;
    return (a->fid > b->fid) - (a->fid < b->fid);
}

/* Fills the attributes of a reserve from its features [first, first+n):
 * the smallest non-empty value wins, whatever the feature order. */
static void zones_merge_attributes(zones_reader *r, const zones_feature *first,
                                   size_t n, rw_reserve *res)
{
    memcpy(res->id, first->attrs.id, sizeof(res->id));
    for (int i = 0; i < ZONES_FIELD_COUNT; i++) {
        const struct zones_field_spec *spec = &field_specs[i];
        if (i == ZONES_FIELD_ID || spec->attr_size == 0)
            continue;
        const char *best = NULL;
        bool disagree = false;
        for (size_t k = 0; k < n; k++) {
            const char *v = (const char *)&first[k].attrs + spec->attr;
            if (v[0] == '\0')
                continue;
            if (best != NULL && strcmp(v, best) != 0)
                disagree = true;
            if (best == NULL || strcmp(v, best) < 0)
                best = v;
        }
        if (best != NULL)
            memcpy((char *)res + spec->attr, best, strlen(best) + 1);
        if (disagree)
            zones_warn(r, "%s: reserve %s: features disagree on %s; using '%s'",
                       r->path, res->id, spec->default_name, best);
    }
    for (size_t k = 0; k < n; k++)
        for (int rank = 0; rank < RW_ZONE_RANK_COUNT; rank++)
            res->zone_area_m2[rank] += first[k].attrs.zone_area_m2[rank];
}

static void zones_count_hit(void *item, void *user)
{
    (void)item;
    (*(size_t *)user)++;
}

static rw_status zones_build_index(rw_zones *z, const char *path,
                                   rw_error *err)
{
    rw_status st = RW_OK;
    GEOSGeometry *box = NULL;
    z->geos = GEOS_init_r();
    RW_FAIL_IF(z->geos == NULL, err, RW_ERR_NOMEM,
               "%s: cannot create a GEOS context", path);
    z->tree = GEOSSTRtree_create_r(z->geos, ZONES_TREE_CAPACITY);
    RW_FAIL_IF(z->tree == NULL, err, RW_ERR_NOMEM,
               "%s: cannot create the spatial index", path);
    for (size_t i = 0; i < z->piece_count; i++) {
        const double *e = z->pieces[i].env;
        box = GEOSGeom_createRectangle_r(z->geos, e[0], e[1], e[2], e[3]);
        RW_FAIL_IF(box == NULL, err, RW_ERR_NOMEM,
                   "%s: cannot index zone %zu", path, i);
        /* The tree copies the envelope, so the box can go at once. */
        GEOSSTRtree_insert_r(z->geos, z->tree, box, &z->pieces[i]);
        GEOSGeom_destroy_r(z->geos, box);
        box = NULL;
    }
    /* The first query builds the tree; doing it here keeps every later
     * query read-only, hence safe from several threads. */
    const double *e = z->extent;
    box = GEOSGeom_createRectangle_r(z->geos, e[0], e[1], e[2], e[3]);
    RW_FAIL_IF(box == NULL, err, RW_ERR_NOMEM, "%s: cannot query the index",
               path);
    size_t hits = 0;
    GEOSSTRtree_query_r(z->geos, z->tree, box, zones_count_hit, &hits);
    RW_FAIL_IF(hits != z->piece_count, err, RW_ERR_INTERNAL,
               "%s: the spatial index returned %zu of %zu zones", path, hits,
               z->piece_count);
done:
    if (box != NULL)
        GEOSGeom_destroy_r(z->geos, box);
    return st;
}

/* Groups the features into reserves sorted by id and zone pieces in burn
 * order, and indexes the pieces. */
static rw_status zones_build(zones_reader *r, rw_zones **out)
{
    rw_status st = RW_OK;
    rw_zones *z = NULL;
    qsort(r->features, r->count, sizeof(*r->features), zones_compare_features);
    size_t reserves = 0;
    for (size_t i = 0; i < r->count; i++)
        if (i == 0 || strcmp(r->features[i].attrs.id,
                             r->features[i - 1].attrs.id) != 0)
            reserves++;
    /* The reserve raster is UInt16 with 0 for "none". */
    RW_FAIL_IF(reserves > UINT16_MAX, r->err, RW_ERR_INPUT,
               "%s: %zu reserves; at most %d are supported", r->path, reserves,
               UINT16_MAX);

    z = rw_calloc(1, sizeof(*z), r->err);
    if (z == NULL) {
        st = RW_ERR_NOMEM;
        goto done;
    }
    z->reserves = rw_calloc(reserves, sizeof(*z->reserves), r->err);
    z->pieces = rw_calloc(r->count, sizeof(*z->pieces), r->err);
    if (z->reserves == NULL || z->pieces == NULL) {
        st = RW_ERR_NOMEM;
        goto done;
    }
    z->extent[0] = z->extent[1] = HUGE_VAL;
    z->extent[2] = z->extent[3] = -HUGE_VAL;
    for (size_t i = 0; i < r->count;) {
        size_t n = 1;
        while (i + n < r->count &&
               strcmp(r->features[i + n].attrs.id, r->features[i].attrs.id) == 0)
            n++;
        zones_merge_attributes(r, &r->features[i], n,
                               &z->reserves[z->reserve_count]);
        for (size_t k = i; k < i + n; k++) {
            zones_feature *f = &r->features[k];
            rw_zone_piece *p = &z->pieces[z->piece_count++];
            OGREnvelope env;
            OGR_G_GetEnvelope(f->geom, &env);
            p->geom = f->geom;
            f->geom = NULL;
            p->env[0] = env.MinX;
            p->env[1] = env.MinY;
            p->env[2] = env.MaxX;
            p->env[3] = env.MaxY;
            p->reserve = z->reserve_count;
            p->rank = f->rank;
            p->fid = f->fid;
            z->extent[0] = fmin(z->extent[0], env.MinX);
            z->extent[1] = fmin(z->extent[1], env.MinY);
            z->extent[2] = fmax(z->extent[2], env.MaxX);
            z->extent[3] = fmax(z->extent[3], env.MaxY);
        }
        z->reserve_count++;
        i += n;
    }
    qsort(z->pieces, z->piece_count, sizeof(*z->pieces), zones_compare_pieces);
    RW_CHECK(zones_build_index(z, r->path, r->err));
    *out = z;
    z = NULL;
done:
    rw_zones_destroy(z);
    return st;
}

/* The layer CRS with lon/lat (x/y) order, as every OGR geometry here is. */
static rw_status zones_layer_crs(zones_reader *r, OGRLayerH layer,
                                 OGRSpatialReferenceH *out)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
    RW_FAIL_IF(srs == NULL, r->err, RW_ERR_FORMAT,
               "%s: layer '%s' has no CRS", r->path, OGR_L_GetName(layer));
    *out = OSRClone(srs);
    RW_FAIL_IF(*out == NULL, r->err, RW_ERR_NOMEM,
               "%s: cannot copy the layer CRS", r->path);
    OSRSetAxisMappingStrategy(*out, OAMS_TRADITIONAL_GIS_ORDER);
done:
    return st;
}

static rw_status zones_transforms(zones_reader *r, OGRSpatialReferenceH src,
                                  const char *target_wkt)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH target = OSRNewSpatialReference(NULL);
    OGRSpatialReferenceH geo = OSRNewSpatialReference(NULL);
    RW_FAIL_IF(target == NULL || geo == NULL, r->err, RW_ERR_NOMEM,
               "%s: out of memory creating CRS objects", r->path);
    char *wkt = (char *)target_wkt; /* OSRImportFromWkt only advances it */
    RW_FAIL_IF(OSRImportFromWkt(target, &wkt) != OGRERR_NONE, r->err,
               RW_ERR_USAGE, "%s: the analysis grid CRS is not valid WKT",
               r->path);
    RW_FAIL_IF(OSRImportFromEPSG(geo, ZONES_GEO_EPSG) != OGRERR_NONE, r->err,
               RW_ERR_INTERNAL, "%s: PROJ does not know EPSG:%d: %s", r->path,
               ZONES_GEO_EPSG, CPLGetLastErrorMsg());
    OSRSetAxisMappingStrategy(target, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(geo, OAMS_TRADITIONAL_GIS_ORDER);
    r->to_target = OCTNewCoordinateTransformation(src, target);
    RW_FAIL_IF(r->to_target == NULL, r->err, RW_ERR_INPUT,
               "%s: no transformation from the layer CRS to the analysis "
               "grid CRS: %s", r->path, CPLGetLastErrorMsg());
    r->to_geo = OCTNewCoordinateTransformation(src, geo);
    RW_FAIL_IF(r->to_geo == NULL, r->err, RW_ERR_INPUT,
               "%s: no transformation from the layer CRS to EPSG:%d: %s",
               r->path, ZONES_GEO_EPSG, CPLGetLastErrorMsg());
    OGRErr e1 = OGRERR_NONE, e2 = OGRERR_NONE;
    const double a = OSRGetSemiMajor(geo, &e1);
    const double inv_f = OSRGetInvFlattening(geo, &e2);
    RW_FAIL_IF(e1 != OGRERR_NONE || e2 != OGRERR_NONE || inv_f <= 0.0, r->err,
               RW_ERR_INTERNAL, "%s: no ellipsoid for EPSG:%d", r->path,
               ZONES_GEO_EPSG);
    geod_init(&r->geod, a, 1.0 / inv_f);
done:
    OSRDestroySpatialReference(geo);
    OSRDestroySpatialReference(target);
    return st;
}

rw_status rw_zones_open(const char *path, const rw_zones_fields *fields,
                        const char *target_wkt, rw_zones **out,
                        rw_zones_warning_fn warn, void *warn_user,
                        rw_error *err)
{
    rw_status st = RW_OK;
    zones_reader r;
    memset(&r, 0, sizeof(r));
    r.path = path;
    r.warn = warn;
    r.warn_user = warn_user;
    r.err = err;
    GDALDatasetH ds = NULL;
    OGRLayerH layer = NULL;
    OGRSpatialReferenceH src = NULL;
    /* The library never prints: GDAL's messages are read back with
     * CPLGetLastErrorMsg instead of reaching stderr. */
    CPLPushErrorHandler(CPLQuietErrorHandler);

    RW_FAIL_IF(path == NULL || target_wkt == NULL || out == NULL, err,
               RW_ERR_USAGE, "zones: path, target CRS and output are required");
    r.geos = GEOS_init_r();
    RW_FAIL_IF(r.geos == NULL, err, RW_ERR_NOMEM,
               "%s: cannot create a GEOS context", path);
    GEOSContext_setErrorMessageHandler_r(r.geos, zones_geos_error, &r);
    r.wkb = GEOSWKBWriter_create_r(r.geos);
    RW_FAIL_IF(r.wkb == NULL, err, RW_ERR_NOMEM,
               "%s: cannot create a WKB writer", path);

    CPLErrorReset();
    ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY |
                    GDAL_OF_VERBOSE_ERROR, NULL, NULL, NULL);
    RW_FAIL_IF(ds == NULL, err, RW_ERR_IO,
               "%s: cannot open as a vector file: %s", path,
               CPLGetLastErrorMsg());
    RW_CHECK(zones_find_layer(&r, ds, fields ? fields->layer : NULL, &layer));
    RW_CHECK(zones_map_fields(&r, layer, fields));
    RW_CHECK(zones_layer_crs(&r, layer, &src));
    RW_CHECK(zones_transforms(&r, src, target_wkt));
    RW_CHECK(zones_read_layer(&r, layer));
    RW_CHECK(zones_build(&r, out));
done:
    for (size_t i = 0; i < r.count; i++)
        OGR_G_DestroyGeometry(r.features[i].geom);
    free(r.features);
    if (r.to_geo != NULL)
        OCTDestroyCoordinateTransformation(r.to_geo);
    if (r.to_target != NULL)
        OCTDestroyCoordinateTransformation(r.to_target);
    OSRDestroySpatialReference(src);
    if (ds != NULL)
        GDALClose(ds);
    if (r.wkb != NULL)
        GEOSWKBWriter_destroy_r(r.geos, r.wkb);
    if (r.geos != NULL)
        GEOS_finish_r(r.geos);
    CPLPopErrorHandler();
    return st;
}

void rw_zones_destroy(rw_zones *z)
{
    if (z == NULL)
        return;
    if (z->tree != NULL)
        GEOSSTRtree_destroy_r(z->geos, z->tree);
    if (z->geos != NULL)
        GEOS_finish_r(z->geos);
    if (z->pieces != NULL)
        for (size_t i = 0; i < z->piece_count; i++)
            OGR_G_DestroyGeometry(z->pieces[i].geom);
    free(z->pieces);
    free(z->reserves);
    free(z);
}

size_t rw_zones_reserve_count(const rw_zones *z) { return z->reserve_count; }

const rw_reserve *rw_zones_reserve(const rw_zones *z, size_t i)
{
    return i < z->reserve_count ? &z->reserves[i] : NULL;
}

void rw_zones_extent(const rw_zones *z, double env[4])
{
    memcpy(env, z->extent, sizeof(z->extent));
}
