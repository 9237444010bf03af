/* Places everything in the synthetic world, in world coordinates (UTM 50N
 * metres). Sizes scale with the scene side S so small demo scenes and
 * benchmark-sized tiles both hold every kind of feature. */
#include "synth.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Reserve attributes: invented reserves, real Jiangxi cities/counties. */
static const struct {
    const char *name, *level, *city, *county;
} reserve_table[] = {
    {"青溪源省级自然保护区", "省级", "抚州市", "资溪县"},
    {"白鹭洲湿地国家级自然保护区", "国家级", "南昌市", "进贤县"},
    {"石门岭省级自然保护区", "省级", "鹰潭市", "贵溪市"},
    {"翠峰山国家级自然保护区", "国家级", "上饶市", "余干县"},
    {"龙潭湖湿地省级自然保护区", "省级", "九江市", "永修县"},
    {"银杏谷省级自然保护区", "省级", "宜春市", "奉新县"},
};
#define N_RESERVES ((int)(sizeof(reserve_table) / sizeof(reserve_table[0])))

/* Zone scale factors about the reserve centre: experimental, buffer, core. */
static const double zone_scale[3] = {1.0, 0.62, 0.34};

double synth_rnd(synth_world *w)
{
    return rw_hash_unit(w->seed, 0x5EED000000ULL + w->draws++);
}
double synth_rnd_range(synth_world *w, double lo, double hi)
{
    return lo + (hi - lo) * synth_rnd(w);
}
double synth_rnd_log(synth_world *w, double lo, double hi)
{
    return exp(log(lo) + (log(hi) - log(lo)) * synth_rnd(w));
}
double synth_scene_side(const synth_world *w) { return w->extent[2] - w->extent[0]; }
double synth_pixel(const synth_world *w) { return w->date[0].grid.pixel; }

rw_status synth_add_blocked(synth_world *w, OGRGeometryH g, rw_error *err)
{
    return synth_shapes_add(&w->blocked, OGR_G_Clone(g), 0, 0, 0, err);
}

/* True when g, grown by margin metres, meets anything already placed. */
bool synth_is_blocked(const synth_world *w, OGRGeometryH g, double margin)
{
    OGREnvelope e;
    OGR_G_GetEnvelope(g, &e);
    OGRGeometryH grown = NULL;
    bool hit = false;
    for (size_t i = 0; i < w->blocked.n && !hit; i++) {
        const double *b = w->blocked.v[i].env;
        if (b[0] > e.MaxX + margin || b[2] < e.MinX - margin ||
            b[1] > e.MaxY + margin || b[3] < e.MinY - margin)
            continue;
        if (grown == NULL)
            grown = OGR_G_Buffer(g, margin, 4);
        hit = OGR_G_Intersects(grown, w->blocked.v[i].geom);
    }
    OGR_G_DestroyGeometry(grown);
    return hit;
}

/* True when g, grown by margin metres, meets a river. */
bool synth_near_river(const synth_world *w, OGRGeometryH g, double margin)
{
    OGRGeometryH grown = OGR_G_Buffer(g, margin, 4);
    bool hit = false;
    for (int k = 0; k < w->nrivers && !hit; k++)
        hit = OGR_G_Intersects(grown, w->river_water[k]);
    OGR_G_DestroyGeometry(grown);
    return hit;
}

bool synth_inside_scene(const synth_world *w, OGRGeometryH g, double margin)
{
    OGREnvelope e;
    OGR_G_GetEnvelope(g, &e);
    return e.MinX > w->extent[0] + margin && e.MaxX < w->extent[2] - margin &&
           e.MinY > w->extent[1] + margin && e.MaxY < w->extent[3] - margin;
}

bool synth_point_in(OGRGeometryH g, double x, double y)
{
    OGRGeometryH p = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(p, 0, x, y);
    const bool in = OGR_G_Contains(g, p);
    OGR_G_DestroyGeometry(p);
    return in;
}

/* Zone rank at a point: 0 outside every reserve, 1 experimental, 2 buffer,
 * 3 core; *reserve gets the reserve index. */
int synth_zone_at(const synth_world *w, double x, double y, int *reserve)
{
    for (int r = 0; r < w->nreserves; r++) {
        if (!synth_point_in(w->reserve[r].zone[0], x, y))
            continue;
        *reserve = r;
        return synth_point_in(w->reserve[r].zone[2], x, y)   ? 3
               : synth_point_in(w->reserve[r].zone[1], x, y) ? 2
                                                       : 1;
    }
    *reserve = -1;
    return 0;
}

/* A random point in reserve r whose zone rank is within [lo, hi]
 * (lo = 0 means anywhere outside every reserve when r < 0). */
bool synth_pick_point(synth_world *w, int r, int lo, int hi, double *x,
                       double *y)
{
    OGREnvelope e;
    if (r >= 0)
        OGR_G_GetEnvelope(w->reserve[r].zone[0], &e);
    else
        e = (OGREnvelope){w->extent[0], w->extent[2], w->extent[1], w->extent[3]};
    for (int tries = 0; tries < 200; tries++) {
        const double px = synth_rnd_range(w, e.MinX, e.MaxX);
        const double py = synth_rnd_range(w, e.MinY, e.MaxY);
        int rr;
        const int z = synth_zone_at(w, px, py, &rr);
        if (z >= lo && z <= hi && (r < 0 ? z == 0 : rr == r)) {
            *x = px, *y = py;
            return true;
        }
    }
    return false;
}

rw_status synth_place_reserves(synth_world *w, rw_error *err)
{
    (void)err; /* OGR geometry building cannot fail short of aborting */
    const double S = synth_scene_side(w);
    /* About 15% of the scene: six star-shaped reserves on a 3 x 2 layout. */
    const double R = 0.089 * S;
    for (int r = 0; r < N_RESERVES; r++) {
        synth_reserve *res = &w->reserve[r];
        snprintf(res->id, sizeof(res->id), "R%02d", r + 1);
        res->name = reserve_table[r].name;
        res->level = reserve_table[r].level;
        res->city = reserve_table[r].city;
        res->county = reserve_table[r].county;
        const double cx = w->extent[0] + S * ((r % 3) + 0.5 + synth_rnd_range(w, -0.08, 0.08)) / 3.0;
        const double cy = w->extent[3] - S * ((r / 3) + 0.5 + synth_rnd_range(w, -0.06, 0.06)) / 2.0;
        const double rad = R * synth_rnd_range(w, 0.85, 1.15);
        OGRGeometryH outer = synth_geom_blob(cx, cy, rad, 72, 0.22, w->seed, 100 + (uint64_t)r);
        for (int z = 0; z < 3; z++)
            res->zone[z] = synth_geom_scaled(outer, cx, cy, zone_scale[z]);
        OGR_G_DestroyGeometry(outer);
        w->nreserves++;
    }
    /* Real boundary files have awkward shapes; include the usual three. */
    {   /* a multipolygon: R01's experimental zone has a detached piece */
        synth_reserve *res = &w->reserve[0];
        OGREnvelope e;
        OGR_G_GetEnvelope(res->zone[0], &e);
        OGRGeometryH piece = synth_geom_blob(e.MaxX + 0.4 * R, 0.5 * (e.MinY + e.MaxY),
                                             0.18 * R, 32, 0.2, w->seed, 200);
        OGRGeometryH multi = OGR_G_CreateGeometry(wkbMultiPolygon);
        OGR_G_AddGeometryDirectly(multi, res->zone[0]);
        OGR_G_AddGeometryDirectly(multi, piece);
        res->zone[0] = multi;
    }
    {   /* a zone with a hole: an excluded village enclave in R02 */
        synth_reserve *res = &w->reserve[1];
        OGREnvelope e;
        OGR_G_GetEnvelope(res->zone[1], &e);
        const double hx = 0.5 * (e.MinX + e.MaxX), hy = e.MinY - 0.16 * R;
        OGRGeometryH hole = synth_geom_blob(hx, hy, 0.08 * R, 24, 0.1, w->seed, 201);
        if (OGR_G_Contains(res->zone[0], hole) && !OGR_G_Intersects(res->zone[1], hole)) {
            OGRGeometryH ring = OGR_G_Clone(OGR_G_GetGeometryRef(hole, 0));
            OGR_G_AddGeometryDirectly(res->zone[0], ring);
        }
        OGR_G_DestroyGeometry(hole);
    }
    /* the third awkward shape, a self-intersecting ring, is made only in
     * the written file (synth_output.c): planning needs valid geometry */
    return RW_OK;
}

/* Two meandering rivers, one per row of reserves, crossing the scene. */
static rw_status place_rivers(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const double S = synth_scene_side(w), p = synth_pixel(w);
    const double step = fmax(100.0, 8.0 * p);
    const int n = (int)((S + 2000.0) / step) + 2;
    double *xy = rw_malloc(sizeof(double) * 2 * (size_t)n, err);
    if (xy == NULL)
        return RW_ERR_NOMEM;
    w->rivers = OGR_G_CreateGeometry(wkbMultiLineString);
    for (int k = 0; k < 2; k++) {
        const double base = w->extent[3] - S * (k + 0.5) / 2.0 + synth_rnd_range(w, 0.06, 0.1) * S;
        const double a1 = synth_rnd_range(w, 0.02, 0.04) * S, l1 = synth_rnd_range(w, 0.08, 0.14) * S;
        const double a2 = synth_rnd_range(w, 0.005, 0.01) * S, l2 = synth_rnd_range(w, 0.02, 0.03) * S;
        const double f1 = synth_rnd_range(w, 0, 6.3), f2 = synth_rnd_range(w, 0, 6.3);
        for (int i = 0; i < n; i++) {
            const double x = w->extent[0] - 1000.0 + i * step;
            xy[2 * i] = x;
            xy[2 * i + 1] = base + a1 * sin(x / l1 * 2 * M_PI + f1) + a2 * sin(x / l2 * 2 * M_PI + f2);
        }
        OGRGeometryH line = synth_geom_line(xy, n);
        const double width = fmax(50.0, 5.0 * p) * synth_rnd_range(w, 1.0, 1.6);
        OGRGeometryH water = OGR_G_Buffer(line, width / 2.0, 8);
        OGR_G_SetCoordinateDimension(line, 2);
        OGR_G_AddGeometryDirectly(w->rivers, line);
        w->river_water[k] = water;
        w->river_width[k] = width;
        w->nrivers = k + 1;
        st = synth_shapes_add(&w->cover, water, COVER_WATER, 0, SYNTH_MAX_DATES, err);
        if (st != RW_OK)
            break;
    }
    free(xy);
    return st;
}

/* A Poyang-like lake partly inside R05 (a wetland reserve): its shore moves
 * with the stage of each date; the highest stage's bed is mudflat. */
static rw_status place_lake(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const double S = synth_scene_side(w);
    OGREnvelope e;
    OGR_G_GetEnvelope(w->reserve[4].zone[0], &e);
    const double cx = e.MinX + 0.15 * (e.MaxX - e.MinX);
    const double cy = 0.5 * (e.MinY + e.MaxY) - 0.1 * S;
    OGRGeometryH lake = synth_geom_blob(cx, cy, 0.07 * S, 96, 0.3, w->seed, 300);
    double top = 0.0;
    for (int k = 0; k < w->ndates; k++)
        top = fmax(top, w->date[k].lake_level);
    OGRGeometryH bed = synth_geom_scaled(lake, cx, cy, top);
    w->lake_max = bed;
    RW_CHECK(synth_add_blocked(w, bed, err));
    RW_CHECK(synth_shapes_add(&w->cover, bed, COVER_MUDFLAT, 0, SYNTH_MAX_DATES, err));
    for (int k = 0; k < w->ndates; k++)
        RW_CHECK(synth_shapes_add(&w->cover,
                                  synth_geom_scaled(lake, cx, cy, w->date[k].lake_level),
                                  COVER_WATER, k, k, err));
    {   /* the lake bed dry at the last date: seasonal, not a change */
        const int last = w->ndates - 1;
        OGRGeometryH wet = synth_geom_scaled(lake, cx, cy, w->date[last].lake_level);
        OGRGeometryH dry = OGR_G_Difference(bed, wet);
        OGR_G_DestroyGeometry(wet);
        RW_CHECK(synth_add_truth(w, dry, -1, "seasonal_water", "none", last, err));
    }
done:
    OGR_G_DestroyGeometry(lake);
    return st;
}

rw_status synth_add_truth(synth_world *w, OGRGeometryH geom, int category,
                           const char *kind, const char *change, int date,
                           rw_error *err)
{
    if (w->ntruth == w->truth_cap) {
        const size_t cap = w->truth_cap ? 2 * w->truth_cap : 256;
        synth_truth *v = realloc(w->truth, cap * sizeof(*v));
        if (v == NULL) {
            OGR_G_DestroyGeometry(geom);
            return rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__,
                                "out of memory planning the synthetic world");
        }
        w->truth = v;
        w->truth_cap = cap;
    }
    synth_truth *t = &w->truth[w->ntruth++];
    memset(t, 0, sizeof(*t));
    t->geom = geom;
    t->category = category;
    snprintf(t->kind, sizeof(t->kind), "%s", kind);
    snprintf(t->change, sizeof(t->change), "%s", change);
    t->date = date;
    return RW_OK;
}

/* Farmland regions of small rectangular parcels: crops, fallow soil, and
 * parcels harvested by the last date (a classic false change). */
static rw_status place_farmland(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const double S = synth_scene_side(w), p = synth_pixel(w);
    const int last = w->ndates - 1;
    const int regions = 3 + (int)(S * S / 1e9);
    const double side = fmax(90.0, 8.0 * p);
    for (int g = 0; g < regions; g++) {
        const double rad = fmin(0.07 * S, 2500.0);
        const double cx = synth_rnd_range(w, w->extent[0] + rad, w->extent[2] - rad);
        const double cy = synth_rnd_range(w, w->extent[1] + rad, w->extent[3] - rad);
        OGRGeometryH region = synth_geom_blob(cx, cy, rad, 48, 0.25, w->seed, 400 + (uint64_t)g);
        const double ang = synth_rnd_range(w, -0.3, 0.3);
        const int n = (int)(2 * rad / side) + 1;
        for (int i = 0; i < n && st == RW_OK; i++) {
            for (int j = 0; j < n && st == RW_OK; j++) {
                const double u = (i - n / 2.0) * side, v = (j - n / 2.0) * side;
                const double x = cx + u * cos(ang) - v * sin(ang);
                const double y = cy + u * sin(ang) + v * cos(ang);
                int r;
                if (!synth_point_in(region, x, y) || synth_zone_at(w, x, y, &r) == 3)
                    continue;
                const double fw = side * synth_rnd_range(w, 0.78, 0.9);
                const double fh = side * synth_rnd_range(w, 0.78, 0.9);
                OGRGeometryH parcel = synth_geom_rect(x, y, fw, fh, ang);
                if (synth_is_blocked(w, parcel, p) || synth_near_river(w, parcel, p)) {
                    OGR_G_DestroyGeometry(parcel);
                    continue;
                }
                const double state = synth_rnd(w);
                if (state < 0.22) { /* harvested by the last date */
                    st = synth_shapes_add(&w->cover, OGR_G_Clone(parcel), COVER_CROP, 0, last - 1, err);
                    if (st == RW_OK)
                        st = synth_add_blocked(w, parcel, err);
                    if (st == RW_OK)
                        st = synth_shapes_add(&w->cover, OGR_G_Clone(parcel), COVER_SOIL, last, last, err);
                    if (st == RW_OK)
                        st = synth_add_truth(w, parcel, -1, "harvest", "none", last, err);
                    else
                        OGR_G_DestroyGeometry(parcel);
                } else {
                    st = synth_shapes_add(&w->cover, parcel, state < 0.32 ? COVER_SOIL : COVER_CROP,
                                          0, SYNTH_MAX_DATES, err);
                }
            }
        }
        OGR_G_DestroyGeometry(region);
    }
    return st;
}

/* Villages (red-tile roofs) on a jittered grid, never in core zones, and
 * a few long roads. */
static rw_status place_settlements(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const double S = synth_scene_side(w), p = synth_pixel(w);
    const double cell = fmax(1500.0, S / 10.0);
    const int n = (int)(S / cell);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
            if (synth_rnd(w) < 0.4)
                continue;
            const double cx = w->extent[0] + (i + synth_rnd_range(w, 0.2, 0.8)) * cell;
            const double cy = w->extent[1] + (j + synth_rnd_range(w, 0.2, 0.8)) * cell;
            int r;
            OGRGeometryH site = synth_geom_blob(cx, cy, 160.0, 16, 0.2, w->seed, 500 + (uint64_t)(i * n + j));
            if (synth_zone_at(w, cx, cy, &r) == 3 || synth_is_blocked(w, site, 2 * p) ||
                synth_near_river(w, site, 2 * p)) {
                OGR_G_DestroyGeometry(site);
                continue;
            }
            RW_CHECK(synth_shapes_add(&w->blocked, site, 0, 0, 0, err));
            const int houses = 4 + (int)(synth_rnd(w) * 9);
            for (int h = 0; h < houses; h++) {
                const double bx = cx + synth_rnd_range(w, -110, 110), by = cy + synth_rnd_range(w, -110, 110);
                const double bw = fmax(10.0, 1.3 * p) * synth_rnd_range(w, 1.0, 2.0);
                RW_CHECK(synth_shapes_add(&w->cover, synth_geom_rect(bx, by, bw, bw * synth_rnd_range(w, 0.6, 1.0),
                                                                     synth_rnd_range(w, 0, 1.5)),
                                          COVER_VILLAGE, 0, SYNTH_MAX_DATES, err));
            }
        }
    }
    for (int k = 0; k < 3; k++) {
        double xy[8];
        const double y0 = synth_rnd_range(w, w->extent[1], w->extent[3]);
        for (int v = 0; v < 4; v++) {
            xy[2 * v] = w->extent[0] - 500 + v * (S + 1000) / 3.0;
            xy[2 * v + 1] = y0 + synth_rnd_range(w, -0.15, 0.15) * S;
        }
        /* roads run between the reserves: skip a road that crosses a core */
        OGRGeometryH line = synth_geom_line(xy, 4);
        OGRGeometryH road = OGR_G_Buffer(line, fmax(8.0, 1.6 * p) / 2.0, 4);
        OGR_G_DestroyGeometry(line);
        bool crosses = false;
        for (int r = 0; r < w->nreserves; r++)
            crosses = crosses || OGR_G_Intersects(road, w->reserve[r].zone[1]);
        if (crosses) {
            OGR_G_DestroyGeometry(road);
            continue;
        }
        RW_CHECK(synth_add_blocked(w, road, err));
        RW_CHECK(synth_shapes_add(&w->cover, road, COVER_ROAD, 0, SYNTH_MAX_DATES, err));
    }
done:
    return st;
}

rw_status synth_place_landscape(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    RW_CHECK(place_lake(w, err));
    RW_CHECK(place_rivers(w, err));
    RW_CHECK(place_farmland(w, err));
    RW_CHECK(place_settlements(w, err));
done:
    return st;
}
