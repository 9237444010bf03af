/* Plans the synthetic world: grids and per-date conditions, then places
 * reserves, landscape, planted changes and clouds (synth_place.c). */
#include "synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const synth_category_key[CAT_COUNT] = {
    "mining", "industrial", "tourism", "hydropower", "other"};

/* Per-profile grid defaults: pixel size in metres. */
static const double profile_pixel[] = {
    [RW_SYNTH_SENTINEL2] = 10.0,
    [RW_SYNTH_GF2] = 4.0,
    [RW_SYNTH_LANDSAT] = 30.0,
};

/* Top-left corner of the first grid, UTM 50N: near 116.0E 28.8N, between
 * Nanchang, Fuzhou and Yingtan; a 10980-pixel Sentinel-2 tile stays inside
 * Jiangxi. */
static const double world_origin_x = 400000.0, world_origin_y = 3190000.0;

rw_status synth_shapes_add(synth_shapes *s, OGRGeometryH geom, int cover,
                           int date_from, int date_to, rw_error *err)
{
    if (geom == NULL || OGR_G_IsEmpty(geom)) {
        OGR_G_DestroyGeometry(geom);
        return RW_OK;
    }
    if (s->n == s->cap) {
        const size_t cap = s->cap ? s->cap * 2 : 256;
        synth_shape *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            OGR_G_DestroyGeometry(geom);
            return rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__,
                                "out of memory planning the synthetic world");
        }
        s->v = v;
        s->cap = cap;
    }
    synth_shape *sh = &s->v[s->n++];
    OGREnvelope e;
    OGR_G_GetEnvelope(geom, &e);
    sh->geom = geom;
    sh->env[0] = e.MinX;
    sh->env[1] = e.MinY;
    sh->env[2] = e.MaxX;
    sh->env[3] = e.MaxY;
    sh->cover = (uint8_t)cover;
    sh->date_from = (uint8_t)date_from;
    sh->date_to = (uint8_t)date_to;
    return RW_OK;
}

static void shapes_free(synth_shapes *s)
{
    for (size_t i = 0; i < s->n; i++)
        OGR_G_DestroyGeometry(s->v[i].geom);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* The later grid on another CRS or pixel size: the first grid's extent
 * transformed to that CRS, at the requested pixel size. */
static rw_status plan_later_grid(synth_world *w, synth_grid *g, rw_error *err)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OGRCoordinateTransformationH ct = NULL;
    OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
    RW_FAIL_IF(OSRImportFromEPSG(srs, g->epsg) != OGRERR_NONE, err,
               RW_ERR_USAGE, "--crs: unknown EPSG code %d", g->epsg);
    ct = OCTNewCoordinateTransformation(w->world_srs, srs);
    RW_FAIL_IF(ct == NULL, err, RW_ERR_USAGE,
               "--crs: cannot transform UTM 50N to EPSG:%d", g->epsg);
    double xs[40], ys[40];
    for (int i = 0; i < 10; i++) {
        const double t = i / 9.0;
        const double ex = w->extent[0] + t * (w->extent[2] - w->extent[0]);
        const double ey = w->extent[1] + t * (w->extent[3] - w->extent[1]);
        xs[i] = ex, ys[i] = w->extent[1];
        xs[10 + i] = ex, ys[10 + i] = w->extent[3];
        xs[20 + i] = w->extent[0], ys[20 + i] = ey;
        xs[30 + i] = w->extent[2], ys[30 + i] = ey;
    }
    RW_FAIL_IF(!OCTTransform(ct, 40, xs, ys, NULL), err, RW_ERR_USAGE,
               "--crs: EPSG:%d does not cover the scene", g->epsg);
    double minx = xs[0], maxx = xs[0], miny = ys[0], maxy = ys[0];
    for (int i = 1; i < 40; i++) {
        minx = fmin(minx, xs[i]), maxx = fmax(maxx, xs[i]);
        miny = fmin(miny, ys[i]), maxy = fmax(maxy, ys[i]);
    }
    /* Pixel sizes are given in metres; on a geographic CRS use degrees of
     * latitude (about 110.9 km at 28.5N). */
    double p = g->pixel;
    if (OSRIsGeographic(srs))
        p = g->pixel / 110900.0;
    g->gt[0] = floor(minx / p) * p;
    g->gt[3] = ceil(maxy / p) * p;
    g->gt[1] = p;
    g->gt[5] = -p;
    g->gt[2] = g->gt[4] = 0.0;
    g->width = (int)ceil((maxx - g->gt[0]) / p);
    g->height = (int)ceil((g->gt[3] - miny) / p);
done:
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(srs);
    return st;
}

static void plan_dates(synth_world *w)
{
    const int last = w->ndates - 1;
    /* Winter scenes of successive years (the clearest season in Jiangxi),
     * each with its own atmosphere, phenology, sun and lake stage. */
    for (int k = 0; k < w->ndates; k++) {
        synth_date *d = &w->date[k];
        const uint64_t key = 1000 + (uint64_t)k * 64;
        const int month = 11 + (int)(rw_hash_unit(w->seed, key) * 2.0);
        const int day = 1 + (int)(rw_hash_unit(w->seed, key + 1) * 28.0);
        snprintf(d->ymd, sizeof(d->ymd), "%04d%02d%02d", (2023 + k) % 10000, month % 100, day % 100);
        for (int b = 0; b < SYNTH_BANDS; b++) {
            d->band_gain[b] = 0.92 + 0.16 * rw_hash_unit(w->seed, key + 2 + (uint64_t)b);
            d->band_offset[b] = 0.008 * rw_hash_unit(w->seed, key + 10 + (uint64_t)b);
        }
        d->veg_nir = 0.9 + 0.2 * rw_hash_unit(w->seed, key + 20);
        d->sun_az = 145.0 + 20.0 * rw_hash_unit(w->seed, key + 21);
        d->sun_el = 34.0 + 14.0 * rw_hash_unit(w->seed, key + 22);
        d->lake_level = 0.82 + 0.18 * rw_hash_unit(w->seed, key + 23);
        if (k < last) {
            /* misregistration of up to one pixel of the earlier dates */
            const double p = w->date[0].grid.pixel;
            d->shift_x = p * (2.0 * rw_hash_unit(w->seed, key + 24) - 1.0);
            d->shift_y = p * (2.0 * rw_hash_unit(w->seed, key + 25) - 1.0);
        }
    }
    /* The later scene sits between the earlier stages (a pair chosen by
     * stage, as practice recommends): with one earlier date it is lower. */
    double lo = 1.0, hi = 0.0;
    for (int k = 0; k < last; k++) {
        lo = fmin(lo, w->date[k].lake_level);
        hi = fmax(hi, w->date[k].lake_level);
    }
    w->date[last].lake_level = last >= 2 ? 0.5 * (lo + hi) : lo - 0.06;
}

rw_status synth_world_plan(synth_world *w, const rw_synth_options *opt,
                           rw_error *err)
{
    rw_status st = RW_OK;
    memset(w, 0, sizeof(*w));
    w->opt = opt;
    w->seed = opt->seed;
    w->ndates = opt->dates;
    w->world_srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(w->world_srs, SYNTH_WORLD_EPSG);
    OSRSetAxisMappingStrategy(w->world_srs, OAMS_TRADITIONAL_GIS_ORDER);

    const double p = opt->pixel > 0 ? opt->pixel : profile_pixel[opt->profile];
    synth_grid g0 = {opt->size, opt->size,
                     {world_origin_x, p, 0.0, world_origin_y, 0.0, -p},
                     SYNTH_WORLD_EPSG, p};
    w->extent[0] = world_origin_x;
    w->extent[1] = world_origin_y - opt->size * p;
    w->extent[2] = world_origin_x + opt->size * p;
    w->extent[3] = world_origin_y;
    for (int k = 0; k < w->ndates; k++)
        w->date[k].grid = g0;
    if (opt->later_epsg != 0 || opt->later_pixel > 0) {
        synth_grid *gl = &w->date[w->ndates - 1].grid;
        gl->epsg = opt->later_epsg ? opt->later_epsg : SYNTH_WORLD_EPSG;
        gl->pixel = opt->later_pixel > 0 ? opt->later_pixel : p;
        RW_CHECK(plan_later_grid(w, gl, err));
    }
    plan_dates(w);
    RW_CHECK(synth_place_reserves(w, err));
    RW_CHECK(synth_place_landscape(w, err));
    RW_CHECK(synth_place_changes(w, err));
    RW_CHECK(synth_place_clouds(w, err));
done:
    return st;
}

void synth_world_free(synth_world *w)
{
    shapes_free(&w->cover);
    shapes_free(&w->clouds);
    for (size_t i = 0; i < w->ntruth; i++)
        OGR_G_DestroyGeometry(w->truth[i].geom);
    free(w->truth);
    for (int r = 0; r < w->nreserves; r++)
        for (int z = 0; z < 3; z++)
            OGR_G_DestroyGeometry(w->reserve[r].zone[z]);
    OGR_G_DestroyGeometry(w->rivers);
    OGR_G_DestroyGeometry(w->permits);
    OGR_G_DestroyGeometry(w->known);
    shapes_free(&w->blocked);
    OSRDestroySpatialReference(w->world_srs);
    memset(w, 0, sizeof(*w));
}
