/* Reserves and their functional zones: read any OGR polygon layer, map its
 * fields, repair invalid geometries, reproject to the analysis grid CRS,
 * index the zone polygons and burn them into tile windows.
 *
 * GDAL drivers must be registered first (rw_global_init): reading needs the
 * vector drivers, burning the MEM driver.
 *
 * Threading: rw_zones_open and rw_zones_destroy run on one thread (the one
 * that registered GDAL is fine). Between them the handle is read-only, and
 * rw_zones_reserve_count, rw_zones_reserve, rw_zones_extent,
 * rw_zones_touches and rw_zones_burn may be called concurrently from any
 * number of threads: each call makes its own GEOS context and MEM dataset,
 * and only reads the shared geometries and the prebuilt spatial index. */
#ifndef RW_ZONES_H
#define RW_ZONES_H

#include "core.h"

#include <geos_c.h>
#include <ogr_api.h>

/* Strictness order: a larger rank wins where zones overlap. The values are
 * burnt into the zone raster and index rw_reserve.zone_area_m2. */
typedef enum rw_zone_rank {
    RW_ZONE_NONE = 0,
    RW_ZONE_EXPERIMENTAL = 1, /* 实验区 */
    RW_ZONE_BUFFER = 2,       /* 缓冲区 */
    RW_ZONE_CORE = 3          /* 核心区 */
} rw_zone_rank;

#define RW_ZONE_RANK_COUNT 4

/* Stable English key of a rank ("none", "experimental", "buffer", "core")
 * for file columns and manifests. Never NULL. */
const char *rw_zones_rank_name(rw_zone_rank rank);

/* Rank of a zone value of len bytes (核心区/缓冲区/实验区 or
 * core/buffer/experimental, ASCII case folded); RW_ZONE_NONE otherwise. */
rw_zone_rank rw_zones_parse_rank(const char *text, size_t len);

/* Field names in the input layer; NULL members take the default name given
 * in the comment. OGR matches field names case-insensitively. city and
 * county are optional under their default names (empty strings when the
 * layer lacks them) but required when named explicitly. */
typedef struct rw_zones_fields {
    const char *layer;      /* NULL: the first layer with polygon geometry */
    const char *reserve_id; /* "reserve_id": string or integer */
    const char *name;       /* "name": reserve name, UTF-8 */
    const char *level;      /* "level": 国家级, 省级, ... */
    const char *zone;       /* "zone": 核心区/缓冲区/实验区 or core/buffer/
                               experimental (English case-insensitive) */
    const char *city;       /* "city" */
    const char *county;     /* "county" */
} rw_zones_fields;

/* One reserve: the features sharing a reserve_id. Strings are UTF-8,
 * trimmed, NUL-terminated; over-long names are cut at a character
 * boundary (with a warning). When features of one reserve disagree on an
 * attribute, the smallest non-empty value (byte order) is kept, so the
 * result does not depend on feature order. */
typedef struct rw_reserve {
    char id[64];
    char name[256];
    char level[64];
    char city[64];
    char county[64];
    /* Declared area per zone, indexed by rw_zone_rank (index 0 stays 0):
     * geodesic m² on the CGCS2000 ellipsoid, summed over the zone's
     * features after repair. Features of one zone are expected not to
     * overlap each other; nested zones are not subtracted. */
    double zone_area_m2[RW_ZONE_RANK_COUNT];
} rw_reserve;

/* Receives one line per repaired or skipped feature; may be NULL. */
typedef void (*rw_zones_warning_fn)(const char *message, void *user);

typedef struct rw_zones rw_zones;

/* Reads the zones at path into *out (set only on success; free with
 * rw_zones_destroy). target_wkt is the analysis grid CRS as WKT. fields may
 * be NULL for all defaults. Reserves are sorted by reserve_id (byte order),
 * so indices do not depend on feature order. Invalid geometries are
 * repaired (GEOS make-valid) and reported through warn; features left with
 * no polygonal part are skipped with a warning.
 * Fails with RW_ERR_IO (cannot open), RW_ERR_FORMAT (no polygon layer,
 * missing field, unknown zone value, empty or over-long reserve_id, no CRS,
 * unrepairable geometry), RW_ERR_INPUT (no usable features, more than
 * 65535 reserves, a feature outside the target CRS), RW_ERR_USAGE (bad
 * target_wkt), RW_ERR_NOMEM. Every message names the file. */
rw_status rw_zones_open(const char *path, const rw_zones_fields *fields,
                        const char *target_wkt, rw_zones **out,
                        rw_zones_warning_fn warn, void *warn_user,
                        rw_error *err);

void rw_zones_destroy(rw_zones *z);

size_t rw_zones_reserve_count(const rw_zones *z);

/* Borrowed, valid until rw_zones_destroy; NULL when i is out of range. */
const rw_reserve *rw_zones_reserve(const rw_zones *z, size_t i);

/* Bounding box of all zones in the target CRS: minx, miny, maxx, maxy. */
void rw_zones_extent(const rw_zones *z, double env[4]);

/* Whether any zone polygon intersects the box env (minx, miny, maxx, maxy,
 * target CRS), boundary contact included. The STRtree picks candidates by
 * envelope, then each candidate is tested exactly. Returns true when it
 * cannot decide (out of memory), because a false true only costs the scan
 * a tile while a false false would lose detections. */
bool rw_zones_touches(const rw_zones *z, const double env[4]);

/* Burns the zones into the window win of the grid with geotransform (GDAL
 * order, whole grid). reserve and zone are caller buffers of win.w * win.h
 * values, row-major without padding; they are overwritten: reserve gets 0
 * or reserve index + 1, zone gets the rw_zone_rank. A pixel belongs to a
 * zone when its centre is inside (GDAL's default rule), or, when no zone
 * holds its centre, when a zone's outline touches it (a reserve's edge
 * pixels); where zones overlap it gets the strictest rank, and the reserve
 * of that zone (the larger reserve index when two reserves tie). An empty
 * window is a no-op.
 * Fails with RW_ERR_NOMEM or RW_ERR_INTERNAL (GDAL failure). */
rw_status rw_zones_burn(const rw_zones *z, const double geotransform[6],
                        rw_rect win, uint16_t *reserve, uint8_t *zone,
                        rw_error *err);

/* The outline of reserve i (union of its zones, target CRS) as ISO WKB
 * (little-endian) in *wkb, *size bytes, to free with free(). Fails with
 * RW_ERR_NOMEM or RW_ERR_INTERNAL (GEOS union failed). */
rw_status rw_zones_reserve_outline(const rw_zones *z, size_t i, unsigned char **wkb, size_t *size,
                                   rw_error *err);

/* ---- layout private to src/zones (zones_read.c builds it, zones_burn.c
 * queries it); other modules use only the functions above. ------------ */

/* One zone polygon: a feature after repair, in the target CRS. */
typedef struct rw_zone_piece {
    OGRGeometryH geom;  /* polygon or multipolygon; never modified after
                           open, so threads read it concurrently */
    double env[4];      /* envelope of geom: minx, miny, maxx, maxy */
    size_t reserve;     /* index into rw_zones.reserves */
    rw_zone_rank rank;
    long long fid;      /* source feature id, for messages and order */
} rw_zone_piece;

/* Every field is written by rw_zones_open only and read-only afterwards. */
struct rw_zones {
    rw_reserve *reserves; /* sorted by id */
    size_t reserve_count;
    rw_zone_piece *pieces; /* burn order: rank, then reserve, then fid */
    size_t piece_count;    /* >= 1 */
    double extent[4];
    /* The tree's items are &pieces[i]. GEOS builds an STRtree lazily on
     * its first query, so rw_zones_open queries it once: from then on a
     * query only reads it and threads may query with their own contexts.
     * geos is the creating context, used again only to destroy the tree. */
    GEOSContextHandle_t geos;
    GEOSSTRtree *tree;
};

#endif
