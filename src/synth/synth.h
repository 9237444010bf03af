/* Internal: the synthetic world behind `reservewatch synth`.
 *
 * The world is vector-first: land cover, reserves, planted changes, clouds
 * are geometries in the world CRS (UTM 50N, metres). A date is rendered by
 * rasterising those geometries tile by tile on that date's grid, then
 * turning cover classes into reflectance with terrain illumination,
 * texture, phenology, sensor noise, clouds and shadows. Everything random
 * comes from rw_hash64(seed, key), so output depends on the seed alone. */
#ifndef RW_SYNTH_H
#define RW_SYNTH_H

#include "core.h"

#include <ogr_api.h>
#include <ogr_srs_api.h>

#define SYNTH_WORLD_EPSG 32650
#define SYNTH_TILE 512
#define SYNTH_MAX_DATES 12
#define SYNTH_BANDS 6 /* blue green red nir swir1 swir2 (reflectance) */

/* Land covers; reflectance rows live in synth_render.c. */
typedef enum synth_cover {
    COVER_FOREST = 0,
    COVER_CROP,
    COVER_SOIL,     /* harvested or fallow field */
    COVER_GRASS,
    COVER_WATER,
    COVER_TURBID,
    COVER_MUDFLAT,
    COVER_VILLAGE,  /* old red-tile roofs */
    COVER_ROAD,
    COVER_ROCK,     /* quarry benches, bare rock and soil */
    COVER_SAND,
    COVER_GRAVEL,   /* dewatered river bed */
    COVER_CONCRETE,
    COVER_BLUEROOF,
    COVER_CLEARING, /* logged slope, dark soil and slash */
    COVER_COUNT
} synth_cover;

/* Category and change keys as written to truth.gpkg. */
typedef enum synth_category {
    CAT_MINING = 0,
    CAT_INDUSTRIAL,
    CAT_TOURISM,
    CAT_HYDROPOWER,
    CAT_OTHER,
    CAT_COUNT
} synth_category;

extern const char *const synth_category_key[CAT_COUNT];

/* One geometry with one cover, present from date_from to date_to
 * (inclusive date indices). Rendered in list order: later wins. */
typedef struct synth_shape {
    OGRGeometryH geom; /* world CRS; owned */
    double env[4];     /* minx, miny, maxx, maxy */
    uint8_t cover;
    uint8_t date_from, date_to;
} synth_shape;

typedef struct synth_shapes {
    synth_shape *v;
    size_t n, cap;
} synth_shapes;

/* A planted change or a distractor, for truth.gpkg. */
typedef struct synth_truth {
    OGRGeometryH geom;    /* world CRS; owned; union of its parts */
    int category;         /* synth_category, or -1 for distractors */
    char kind[32];        /* quarry, sand_dredging, compound, weir_impoundment,
                             cloud, shadow, harvest, seasonal_water... */
    char change[24];      /* veg_to_bare, veg_to_built, ... or "none" */
    int date;             /* date index the change appears at */
    int permitted;        /* a permit polygon covers it */
    int known;            /* 0 no, 1 known as is, 2 known smaller (expanded) */
} synth_truth;

typedef struct synth_reserve {
    char id[16];
    const char *name, *level, *city, *county;
    OGRGeometryH zone[3]; /* experimental, buffer, core; world CRS; owned */
} synth_reserve;

typedef struct synth_grid {
    int width, height;
    double gt[6];   /* geotransform on the grid's own CRS */
    int epsg;
    double pixel;   /* metres (or degrees for geographic CRS) */
} synth_grid;

typedef struct synth_date {
    synth_grid grid;
    char ymd[32];          /* yyyymmdd */
    double shift_x, shift_y; /* misregistration, metres (world) */
    double band_gain[SYNTH_BANDS], band_offset[SYNTH_BANDS];
    double veg_nir;       /* phenology factor on vegetation NIR */
    double sun_az, sun_el; /* degrees */
    double lake_level;    /* lake radius factor */
} synth_date;

typedef struct synth_world {
    const rw_synth_options *opt;
    uint64_t seed;
    int ndates;
    synth_date date[SYNTH_MAX_DATES];
    double extent[4]; /* world CRS, first grid */
    synth_shapes cover;  /* land cover layers */
    synth_shapes clouds; /* cover: 1 cloud, 2 shadow */
    synth_truth *truth;
    size_t ntruth, truth_cap;
    synth_reserve reserve[8];
    int nreserves;
    OGRGeometryH rivers;  /* world CRS MultiLineString centrelines; owned */
    OGRGeometryH river_water[2]; /* borrowed from cover */
    double river_width[2];       /* metres */
    int nrivers;
    OGRGeometryH lake_max;       /* borrowed from cover: highest stage */
    OGRGeometryH permits; /* world CRS MultiPolygon; owned */
    OGRGeometryH known;   /* world CRS MultiPolygon; owned */
    synth_shapes blocked; /* where nothing new may be placed (cover unused) */
    uint64_t draws;       /* counter of the planning random stream */
    OGRSpatialReferenceH world_srs;
} synth_world;

/* synth_world.c */
rw_status synth_world_plan(synth_world *w, const rw_synth_options *opt,
                           rw_error *err);
void synth_world_free(synth_world *w);
rw_status synth_shapes_add(synth_shapes *s, OGRGeometryH geom, int cover,
                           int date_from, int date_to, rw_error *err);

/* synth_place.c: reserves, landscape, planted changes, distractors. */
rw_status synth_place_reserves(synth_world *w, rw_error *err);
rw_status synth_place_landscape(synth_world *w, rw_error *err);
rw_status synth_place_changes(synth_world *w, rw_error *err);
rw_status synth_place_clouds(synth_world *w, rw_error *err);

/* Shared by the placement files (synth_place.c, synth_changes.c). */
double synth_rnd(synth_world *w); /* the planning stream, in [0,1) */
double synth_rnd_range(synth_world *w, double lo, double hi);
double synth_rnd_log(synth_world *w, double lo, double hi);
double synth_scene_side(const synth_world *w); /* metres */
double synth_pixel(const synth_world *w);      /* metres, first grid */
rw_status synth_add_blocked(synth_world *w, OGRGeometryH g, rw_error *err);
bool synth_is_blocked(const synth_world *w, OGRGeometryH g, double margin);
bool synth_near_river(const synth_world *w, OGRGeometryH g, double margin);
bool synth_inside_scene(const synth_world *w, OGRGeometryH g, double margin);
bool synth_point_in(OGRGeometryH g, double x, double y);
int synth_zone_at(const synth_world *w, double x, double y, int *reserve);
bool synth_pick_point(synth_world *w, int r, int lo, int hi, double *x, double *y);
/* Takes ownership of geom. */
rw_status synth_add_truth(synth_world *w, OGRGeometryH geom, int category,
                          const char *kind, const char *change, int date,
                          rw_error *err);

/* synth_geom.c: small geometry builders in world coordinates. */
OGRGeometryH synth_geom_blob(double cx, double cy, double radius, int vertices,
                             double roughness, uint64_t seed, uint64_t key);
OGRGeometryH synth_geom_rect(double cx, double cy, double w, double h,
                             double angle);
OGRGeometryH synth_geom_line(const double *xy, int n);
/* Adds copies of the polygons in g (any geometry type) to multi. */
void synth_geom_add_polygons(OGRGeometryH multi, OGRGeometryH g);
/* The polygon of g nearest to (x, y); takes ownership of g. A straight
 * reach cut from a meandering river can hold other stretches of it. */
OGRGeometryH synth_geom_part_near(OGRGeometryH g, double x, double y);
OGRGeometryH synth_geom_scaled(OGRGeometryH g, double cx, double cy, double s);

/* synth_render.c */
rw_status synth_render_scenes(synth_world *w, rw_progress_fn progress,
                              void *user, rw_error *err);

/* synth_output.c */
rw_status synth_write_vectors(synth_world *w, rw_error *err);

#endif
