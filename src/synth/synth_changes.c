/* Planted changes (all four priority categories and `other`), permits,
 * known problems and clouds. Changes appear at the last date; each becomes
 * one truth feature whose geometry is the union of its changed parts. */
#include "synth.h"

#include <math.h>
#include <string.h>

#define MAX_PARTS 12

typedef struct part_list {
    OGRGeometryH g[MAX_PARTS];
    uint8_t cover[MAX_PARTS];
    int n;
} part_list;

static void parts_add(part_list *pl, OGRGeometryH g, int cover)
{
    if (g == NULL || OGR_G_IsEmpty(g) || pl->n == MAX_PARTS) {
        OGR_G_DestroyGeometry(g);
        return;
    }
    pl->g[pl->n] = g;
    pl->cover[pl->n++] = (uint8_t)cover;
}

static void parts_clear(part_list *pl)
{
    for (int i = 0; i < pl->n; i++)
        OGR_G_DestroyGeometry(pl->g[i]);
    pl->n = 0;
}

/* The changed area of a feature: the union of its parts, less what stays
 * as it was (water that stays water under an impoundment). */
static OGRGeometryH parts_union(const part_list *pl, OGRGeometryH unchanged)
{
    OGRGeometryH all = OGR_G_CreateGeometry(wkbMultiPolygon);
    for (int i = 0; i < pl->n; i++)
        synth_geom_add_polygons(all, pl->g[i]);
    OGRGeometryH u = OGR_G_UnionCascaded(all);
    OGR_G_DestroyGeometry(all);
    if (u != NULL && unchanged != NULL) {
        OGRGeometryH d = OGR_G_Difference(u, unchanged);
        OGR_G_DestroyGeometry(u);
        u = d;
    }
    return u;
}

/* Commits a feature when it fits: renders its parts at the last date,
 * records truth, blocks its area. Returns false (and frees) otherwise. */
static rw_status commit(synth_world *w, part_list *pl, OGRGeometryH unchanged,
                        int category, const char *kind, const char *change,
                        bool on_river, bool *placed, rw_error *err)
{
    rw_status st = RW_OK;
    const double p = synth_pixel(w);
    const int last = w->ndates - 1;
    OGRGeometryH u = parts_union(pl, unchanged);
    *placed = false;
    if (u == NULL || OGR_G_IsEmpty(u) || !synth_inside_scene(w, u, 4 * p) ||
        synth_is_blocked(w, u, 4 * p) || (!on_river && synth_near_river(w, u, 3 * p))) {
        OGR_G_DestroyGeometry(u);
        parts_clear(pl);
        return RW_OK;
    }
    for (int i = 0; i < pl->n; i++) {
        st = synth_shapes_add(&w->cover, pl->g[i], pl->cover[i], last, SYNTH_MAX_DATES, err);
        pl->g[i] = NULL;
        if (st != RW_OK)
            break;
    }
    pl->n = 0;
    if (st == RW_OK)
        st = synth_add_blocked(w, u, err);
    if (st == RW_OK) {
        st = synth_add_truth(w, u, category, kind, change, last, err);
        *placed = st == RW_OK;
    } else {
        OGR_G_DestroyGeometry(u);
    }
    return st;
}

/* Largest feature area for the scene: keeps demo-sized scenes plausible. */
static double max_area(const synth_world *w, double want)
{
    const double S = synth_scene_side(w);
    return fmin(want, 0.0015 * S * S);
}

/* One candidate change: its parts and what truth records of it. */
typedef struct design {
    part_list pl;
    OGRGeometryH unchanged; /* owned; stays as it was inside the parts */
    int category;
    const char *kind, *change;
    bool on_river;
} design;

/* Draws one candidate for reserve r (r < 0: outside every reserve) into d.
 * Returns false when no site is left to try. */
typedef bool (*design_fn)(synth_world *w, int r, const void *arg, design *d);

/* Draws candidates until one fits (see commit) or tries run out. */
static rw_status place(synth_world *w, int r, int tries, design_fn draw,
                       const void *arg, rw_error *err)
{
    rw_status st = RW_OK;
    for (int t = 0; t < tries; t++) {
        design d = {0};
        if (!draw(w, r, arg, &d))
            break;
        bool placed;
        st = commit(w, &d.pl, d.unchanged, d.category, d.kind, d.change, d.on_river, &placed, err);
        OGR_G_DestroyGeometry(d.unchanged);
        if (st != RW_OK || placed)
            break;
    }
    return st;
}

typedef struct quarry_site {
    int zone_lo, zone_hi; /* zones to pick from (0 outside) */
    bool straddle;        /* on the buffer zone border */
    bool tile_edge;       /* on a 512-pixel tile border */
} quarry_site;

static bool design_quarry(synth_world *w, int r, const void *arg, design *d)
{
    const quarry_site *q = arg;
    const double p = synth_pixel(w);
    double x, y;
    if (!synth_pick_point(w, r, q->zone_lo, q->zone_hi, &x, &y))
        return false;
    if (q->straddle && r >= 0) {
        OGRGeometryH ring = OGR_G_GetGeometryRef(w->reserve[r].zone[1], 0);
        const int i = (int)(synth_rnd(w) * (OGR_G_GetPointCount(ring) - 1));
        x = OGR_G_GetX(ring, i), y = OGR_G_GetY(ring, i);
    }
    if (q->tile_edge) {
        const double t = SYNTH_TILE * p;
        x = w->extent[0] + round((x - w->extent[0]) / t) * t;
    }
    const double area = synth_rnd_log(w, 60.0, max_area(w, 5.0e5));
    parts_add(&d->pl, synth_geom_blob(x, y, sqrt(area / M_PI), 24, 0.35, w->seed, w->draws), COVER_ROCK);
    *d = (design){d->pl, NULL, CAT_MINING, "quarry", "veg_to_bare", false};
    return true;
}

static bool design_compound(synth_world *w, int r, const void *arg, design *d)
{
    (void)arg;
    double x, y;
    if (!synth_pick_point(w, r, r >= 0 ? 1 : 0, r >= 0 ? 2 : 0, &x, &y))
        return false;
    const double area = synth_rnd_log(w, 3000.0, max_area(w, 4.0e5));
    const double aspect = synth_rnd_range(w, 1.0, 2.0);
    const double cw = sqrt(area * aspect), ch = area / cw;
    const double ang = synth_rnd_range(w, 0, M_PI);
    parts_add(&d->pl, synth_geom_rect(x, y, cw, ch, ang), COVER_CONCRETE);
    const int roofs = 2 + (int)(synth_rnd(w) * 4);
    for (int k = 0; k < roofs; k++) {
        const double u = synth_rnd_range(w, -0.25, 0.25) * cw;
        const double v = synth_rnd_range(w, -0.25, 0.25) * ch;
        parts_add(&d->pl,
                  synth_geom_rect(x + u * cos(ang) - v * sin(ang), y + u * sin(ang) + v * cos(ang),
                                  cw * synth_rnd_range(w, 0.15, 0.35), ch * synth_rnd_range(w, 0.15, 0.35), ang),
                  synth_rnd(w) < 0.6 ? COVER_BLUEROOF : COVER_CONCRETE);
    }
    *d = (design){d->pl, NULL, CAT_INDUSTRIAL, "compound", "veg_to_built", false};
    return true;
}

/* Tourism: a building or a cluster of building, car park and access road
 * in a core or buffer zone. */
static bool design_tourism(synth_world *w, int r, const void *arg, design *d)
{
    (void)arg;
    const double p = synth_pixel(w);
    double x, y;
    if (!synth_pick_point(w, r, 2, 3, &x, &y))
        return false;
    const double ang = synth_rnd_range(w, 0, M_PI);
    const double side = sqrt(synth_rnd_log(w, 80.0, 2500.0));
    parts_add(&d->pl, synth_geom_rect(x, y, side, side * synth_rnd_range(w, 0.6, 1.0), ang), COVER_CONCRETE);
    if (synth_rnd(w) < 0.6) {
        const double len = synth_rnd_range(w, 80.0, 400.0);
        const double pk = fmax(30.0, 3.0 * p);
        const double px = x + (side / 2 + pk / 2) * cos(ang), py = y + (side / 2 + pk / 2) * sin(ang);
        parts_add(&d->pl, synth_geom_rect(px, py, pk, pk * 1.5, ang), COVER_ROAD);
        const double xy[4] = {px, py, px + len * cos(ang + 0.8), py + len * sin(ang + 0.8)};
        OGRGeometryH line = synth_geom_line(xy, 2);
        parts_add(&d->pl, OGR_G_Buffer(line, fmax(8.0, 1.8 * p) / 2.0, 2), COVER_ROAD);
        OGR_G_DestroyGeometry(line);
    }
    *d = (design){d->pl, NULL, CAT_TOURISM, "resort", "veg_to_built", false};
    return true;
}

/* A river centreline vertex inside reserve r (r < 0: outside all). */
static bool pick_river_vertex(synth_world *w, int r, int *river, int *vertex)
{
    for (int tries = 0; tries < 300; tries++) {
        const int k = (int)(synth_rnd(w) * w->nrivers);
        OGRGeometryH line = OGR_G_GetGeometryRef(w->rivers, k);
        const int n = OGR_G_GetPointCount(line);
        const int i = 20 + (int)(synth_rnd(w) * (n - 40));
        int rr;
        const int z = synth_zone_at(w, OGR_G_GetX(line, i), OGR_G_GetY(line, i), &rr);
        if (r >= 0 ? (z > 0 && rr == r) : z == 0) {
            *river = k, *vertex = i;
            return true;
        }
    }
    return false;
}

/* A half-strip along the river from vertex i, downstream (dir = 1) or
 * upstream (dir = -1), length metres long, wide enough to cover the river. */
static OGRGeometryH river_reach(const synth_world *w, int k, int i, int dir, double length)
{
    OGRGeometryH line = OGR_G_GetGeometryRef(w->rivers, k);
    const double x0 = OGR_G_GetX(line, i), y0 = OGR_G_GetY(line, i);
    const double ang = atan2(OGR_G_GetY(line, i + 1) - OGR_G_GetY(line, i - 1),
                             OGR_G_GetX(line, i + 1) - OGR_G_GetX(line, i - 1));
    const double c = dir * length / 2.0;
    return synth_geom_rect(x0 + c * cos(ang), y0 + c * sin(ang), length, 8.0 * w->river_width[k], ang);
}

static bool design_hydropower(synth_world *w, int r, const void *arg, design *d)
{
    (void)arg;
    const double p = synth_pixel(w);
    int k, i;
    if (!pick_river_vertex(w, r, &k, &i))
        return false;
    OGRGeometryH line = OGR_G_GetGeometryRef(w->rivers, k);
    const double wid = w->river_width[k];
    const double x0 = OGR_G_GetX(line, i), y0 = OGR_G_GetY(line, i);
    const double ang = atan2(OGR_G_GetY(line, i + 1) - OGR_G_GetY(line, i - 1),
                             OGR_G_GetX(line, i + 1) - OGR_G_GetX(line, i - 1));
    const double impound = wid * synth_rnd_range(w, 1.8, 3.0);
    /* dewatered reach downstream: the bed emerges as gravel */
    OGRGeometryH down = river_reach(w, k, i, 1, synth_rnd_range(w, 300.0, 900.0));
    parts_add(&d->pl, synth_geom_part_near(OGR_G_Intersection(down, w->river_water[k]), x0, y0), COVER_GRAVEL);
    OGR_G_DestroyGeometry(down);
    /* impoundment upstream: the river widens into a reservoir */
    OGRGeometryH up = river_reach(w, k, i, -1, synth_rnd_range(w, 400.0, 1500.0));
    OGRGeometryH wide = OGR_G_Buffer(line, impound / 2.0, 8);
    parts_add(&d->pl, synth_geom_part_near(OGR_G_Intersection(up, wide), x0, y0), COVER_WATER);
    OGR_G_DestroyGeometry(up);
    OGR_G_DestroyGeometry(wide);
    /* the weir across it */
    parts_add(&d->pl, synth_geom_rect(x0, y0, fmax(10.0, 2.0 * p), impound + 2 * p, ang), COVER_CONCRETE);
    /* unchanged: water that stays water upstream of the weir */
    OGRGeometryH upstream_river = river_reach(w, k, i, -1, 4000.0);
    OGRGeometryH weir = synth_geom_rect(x0, y0, fmax(10.0, 2.0 * p), impound + 2 * p, ang);
    OGRGeometryH stays0 = OGR_G_Intersection(upstream_river, w->river_water[k]);
    OGRGeometryH stays = OGR_G_Difference(stays0, weir);
    OGR_G_DestroyGeometry(stays0);
    OGR_G_DestroyGeometry(upstream_river);
    OGR_G_DestroyGeometry(weir);
    *d = (design){d->pl, stays, CAT_HYDROPOWER, "weir_impoundment", "mixed", true};
    return true;
}

static bool design_sand_dredging(synth_world *w, int r, const void *arg, design *d)
{
    (void)arg;
    int k, i;
    if (!pick_river_vertex(w, r, &k, &i))
        return false;
    OGRGeometryH line = OGR_G_GetGeometryRef(w->rivers, k);
    const double wid = w->river_width[k];
    OGRGeometryH reach = river_reach(w, k, i, 1, synth_rnd_range(w, 400.0, 1200.0));
    parts_add(&d->pl, synth_geom_part_near(OGR_G_Intersection(reach, w->river_water[k]), OGR_G_GetX(line, i), OGR_G_GetY(line, i)),
              COVER_TURBID);
    OGR_G_DestroyGeometry(reach);
    const int bars = 1 + (int)(synth_rnd(w) * 3);
    for (int b = 0; b < bars; b++) {
        const int j = i + 1 + b;
        OGRGeometryH bar = synth_geom_blob(OGR_G_GetX(line, j), OGR_G_GetY(line, j),
                                           wid * synth_rnd_range(w, 0.3, 0.5), 16, 0.3, w->seed, w->draws);
        parts_add(&d->pl, OGR_G_Intersection(bar, w->river_water[k]), COVER_SAND);
        OGR_G_DestroyGeometry(bar);
    }
    *d = (design){d->pl, NULL, CAT_MINING, "sand_dredging", "turbidity", true};
    return true;
}

/* `other` human activity: a logged slope (arg non-NULL), or new rural
 * houses with yard. */
static bool design_other(synth_world *w, int r, const void *arg, design *d)
{
    const bool logging = arg != NULL;
    double x, y;
    if (!synth_pick_point(w, r, r >= 0 ? 1 : 0, r >= 0 ? 1 : 0, &x, &y))
        return false;
    if (logging) {
        const double area = synth_rnd_log(w, 2000.0, max_area(w, 6.0e4));
        parts_add(&d->pl, synth_geom_blob(x, y, sqrt(area / M_PI), 20, 0.3, w->seed, w->draws), COVER_CLEARING);
    } else {
        const double side = sqrt(synth_rnd_log(w, 150.0, 3000.0));
        parts_add(&d->pl, synth_geom_rect(x, y, side, side * 0.7, synth_rnd_range(w, 0, 3)), COVER_CONCRETE);
    }
    *d = (design){d->pl, NULL, CAT_OTHER, logging ? "logging" : "houses",
                  logging ? "veg_to_soil" : "veg_to_built", false};
    return true;
}

/* Permits for some legal facilities; last year's known problems, one as
 * it was and one smaller than now (so it has expanded). */
static void mark_permits_known(synth_world *w, size_t first)
{
    w->permits = OGR_G_CreateGeometry(wkbMultiPolygon);
    w->known = OGR_G_CreateGeometry(wkbMultiPolygon);
    int permitted = 0, known = 0;
    const double p = synth_pixel(w);
    for (size_t i = first; i < w->ntruth; i++) {
        synth_truth *t = &w->truth[i];
        if (t->category < 0)
            continue;
        if ((t->category == CAT_INDUSTRIAL || t->category == CAT_HYDROPOWER) && permitted < 2) {
            OGRGeometryH g = OGR_G_Buffer(t->geom, 3 * p, 4);
            OGR_G_AddGeometryDirectly(w->permits, OGR_G_ForceToPolygon(g));
            t->permitted = 1;
            permitted++;
        } else if (t->category == CAT_MINING && strcmp(t->kind, "quarry") == 0 && known < 2 &&
                   OGR_G_Area(t->geom) > 4000.0) {
            OGRGeometryH c = OGR_G_CreateGeometry(wkbPoint);
            OGR_G_Centroid(t->geom, c);
            OGRGeometryH g = known == 0 ? OGR_G_Clone(t->geom)
                                        : synth_geom_scaled(t->geom, OGR_G_GetX(c, 0), OGR_G_GetY(c, 0), 0.55);
            OGR_G_DestroyGeometry(c);
            OGR_G_AddGeometryDirectly(w->known, OGR_G_ForceToPolygon(g));
            t->known = known == 0 ? 1 : 2;
            known++;
        }
    }
}

rw_status synth_place_changes(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const size_t first = w->ntruth;
    static const bool logging = true;
    static const quarry_site outside = {0, 0, false, false};
    for (int r = 0; r < w->nreserves; r++) {
        const quarry_site inner = {1, 3, false, r % 2 == 0}, border = {1, 3, true, false};
        RW_CHECK(place(w, r, 40, design_quarry, &inner, err));
        RW_CHECK(place(w, r, 40, design_quarry, &border, err));
        RW_CHECK(place(w, r, 40, design_compound, NULL, err));
        RW_CHECK(place(w, r, 40, design_tourism, NULL, err));
        RW_CHECK(place(w, r, 40, design_tourism, NULL, err));
        RW_CHECK(place(w, r, 20, design_hydropower, NULL, err));
        RW_CHECK(place(w, r, 20, design_sand_dredging, NULL, err));
        RW_CHECK(place(w, r, 40, design_other, &logging, err));
        RW_CHECK(place(w, r, 40, design_other, NULL, err));
    }
    /* the same kinds outside every reserve: a correct scan ignores them */
    for (int k = 0; k < 3; k++) {
        RW_CHECK(place(w, -1, 40, design_quarry, &outside, err));
        RW_CHECK(place(w, -1, 40, design_compound, NULL, err));
        RW_CHECK(place(w, -1, 40, design_other, k % 2 == 0 ? &logging : NULL, err));
    }
    RW_CHECK(place(w, -1, 20, design_hydropower, NULL, err));
    mark_permits_known(w, first);
done:
    return st;
}

/* Clouds with their shadows, per date, kept clear of planted changes
 * (a change under a cloud cannot be seen, so it could not be required). */
rw_status synth_place_clouds(synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const double S = synth_scene_side(w), p = synth_pixel(w);
    for (int k = 0; k < w->ndates; k++) {
        const synth_date *d = &w->date[k];
        const double cover = synth_rnd_range(w, 0.01, 0.03);
        const double rmin = 0.01 * S, rmax = 0.035 * S;
        const int n = (int)(cover * S * S / (M_PI * rmin * rmax)) + 1;
        for (int c = 0; c < n; c++) {
            const double rad = synth_rnd_range(w, rmin, rmax);
            const double x = synth_rnd_range(w, w->extent[0], w->extent[2]);
            const double y = synth_rnd_range(w, w->extent[1], w->extent[3]);
            const double h = synth_rnd_range(w, 800.0, 2000.0);
            const double dist = h / tan(d->sun_el * M_PI / 180.0);
            const double az = d->sun_az * M_PI / 180.0;
            const double sx = x - dist * sin(az), sy = y - dist * cos(az);
            OGRGeometryH cloud = synth_geom_blob(x, y, rad, 40, 0.35, w->seed, w->draws);
            OGRGeometryH shadow = synth_geom_blob(sx, sy, rad, 40, 0.35, w->seed, w->draws - 1);
            bool clash = false;
            for (size_t t = 0; t < w->ntruth && !clash; t++) {
                if (w->truth[t].category < 0)
                    continue;
                OGRGeometryH grown = OGR_G_Buffer(w->truth[t].geom, 10 * p, 4);
                clash = OGR_G_Intersects(grown, cloud) || OGR_G_Intersects(grown, shadow);
                OGR_G_DestroyGeometry(grown);
            }
            if (clash) {
                OGR_G_DestroyGeometry(cloud);
                OGR_G_DestroyGeometry(shadow);
                continue;
            }
            RW_CHECK(synth_shapes_add(&w->clouds, OGR_G_Clone(shadow), 2, k, k, err));
            RW_CHECK(synth_shapes_add(&w->clouds, OGR_G_Clone(cloud), 1, k, k, err));
            RW_CHECK(synth_add_truth(w, shadow, -1, "shadow", "none", k, err));
            RW_CHECK(synth_add_truth(w, cloud, -1, "cloud", "none", k, err));
        }
    }
done:
    return st;
}
