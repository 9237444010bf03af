/* Geometry builders for the synthetic world (world CRS, metres). */
#include "synth.h"

#include <math.h>

/* A star-shaped irregular polygon: radius varies smoothly with angle, so
 * scaling it about its centre gives nested shapes (zones core ⊂ buffer). */
OGRGeometryH synth_geom_blob(double cx, double cy, double radius, int vertices,
                             double roughness, uint64_t seed, uint64_t key)
{
    double phase[3], amp[3];
    for (int k = 0; k < 3; k++) {
        phase[k] = 2.0 * M_PI * rw_hash_unit(seed, key * 8 + (uint64_t)k);
        amp[k] = roughness * (0.3 + 0.7 * rw_hash_unit(seed, key * 8 + 3 + (uint64_t)k)) / (k + 1);
    }
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    for (int i = 0; i <= vertices; i++) {
        const double t = 2.0 * M_PI * (i % vertices) / vertices;
        double r = 1.0;
        for (int k = 0; k < 3; k++)
            r += amp[k] * sin((k + 2) * t + phase[k]);
        if (r < 0.25)
            r = 0.25;
        OGR_G_AddPoint_2D(ring, cx + radius * r * cos(t), cy + radius * r * sin(t));
    }
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

OGRGeometryH synth_geom_rect(double cx, double cy, double w, double h,
                             double angle)
{
    const double c = cos(angle), s = sin(angle);
    static const double corner[5][2] = {{-1, -1}, {1, -1}, {1, 1}, {-1, 1}, {-1, -1}};
    OGRGeometryH ring = OGR_G_CreateGeometry(wkbLinearRing);
    for (int i = 0; i < 5; i++) {
        const double dx = corner[i][0] * w / 2, dy = corner[i][1] * h / 2;
        OGR_G_AddPoint_2D(ring, cx + dx * c - dy * s, cy + dx * s + dy * c);
    }
    OGRGeometryH poly = OGR_G_CreateGeometry(wkbPolygon);
    OGR_G_AddGeometryDirectly(poly, ring);
    return poly;
}

OGRGeometryH synth_geom_line(const double *xy, int n)
{
    OGRGeometryH line = OGR_G_CreateGeometry(wkbLineString);
    for (int i = 0; i < n; i++)
        OGR_G_AddPoint_2D(line, xy[2 * i], xy[2 * i + 1]);
    return line;
}

static void scale_points(OGRGeometryH g, double cx, double cy, double s)
{
    const int parts = OGR_G_GetGeometryCount(g);
    if (parts > 0) {
        for (int i = 0; i < parts; i++)
            scale_points(OGR_G_GetGeometryRef(g, i), cx, cy, s);
        return;
    }
    const int n = OGR_G_GetPointCount(g);
    for (int i = 0; i < n; i++) {
        const double x = OGR_G_GetX(g, i), y = OGR_G_GetY(g, i);
        OGR_G_SetPoint_2D(g, i, cx + (x - cx) * s, cy + (y - cy) * s);
    }
}

OGRGeometryH synth_geom_scaled(OGRGeometryH g, double cx, double cy, double s)
{
    OGRGeometryH c = OGR_G_Clone(g);
    scale_points(c, cx, cy, s);
    return c;
}

void synth_geom_add_polygons(OGRGeometryH multi, OGRGeometryH g)
{
    const OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon) {
        OGR_G_AddGeometry(multi, g);
        return;
    }
    if (t == wkbMultiPolygon || t == wkbGeometryCollection)
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            synth_geom_add_polygons(multi, OGR_G_GetGeometryRef(g, i));
}

/* Collects the polygons of g (any type) into parts[*n] (borrowed). */
static void collect_polygons(OGRGeometryH g, OGRGeometryH *parts, int cap, int *n)
{
    const OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
    if (t == wkbPolygon && *n < cap)
        parts[(*n)++] = g;
    else if (t == wkbMultiPolygon || t == wkbGeometryCollection)
        for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
            collect_polygons(OGR_G_GetGeometryRef(g, i), parts, cap, n);
}

OGRGeometryH synth_geom_part_near(OGRGeometryH g, double x, double y)
{
    OGRGeometryH parts[256];
    int n = 0;
    if (g == NULL)
        return NULL;
    collect_polygons(g, parts, 256, &n);
    if (n <= 1 && wkbFlatten(OGR_G_GetGeometryType(g)) == wkbPolygon)
        return g;
    OGRGeometryH pt = OGR_G_CreateGeometry(wkbPoint);
    OGR_G_SetPoint_2D(pt, 0, x, y);
    OGRGeometryH best = NULL;
    double best_d = INFINITY;
    for (int i = 0; i < n; i++) {
        const double d = OGR_G_Distance(parts[i], pt);
        if (d < best_d)
            best_d = d, best = parts[i];
    }
    OGRGeometryH out = best != NULL ? OGR_G_Clone(best) : NULL;
    OGR_G_DestroyGeometry(pt);
    OGR_G_DestroyGeometry(g);
    return out;
}
