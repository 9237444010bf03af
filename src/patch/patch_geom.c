/* The outline of a patch traced from its pixel runs, and the field point.
 *
 * The outline is traced directly from the runs instead of unioning pixel
 * squares: every boundary edge between a patch cell and a non-patch cell is
 * created once (the vertical sides of each run, the horizontal stretches
 * where two neighbouring rows differ), linked into closed rings and handed
 * to GEOS already assembled. This is linear in the number of runs and gives
 * exact grid-aligned rings with no collinear vertices.
 *
 * Orientation in pixel space (x right, y down): every edge keeps its patch
 * cell on its left, so outer rings have a negative shoelace sum and holes a
 * positive one. Where two patch cells meet only at a corner (a saddle
 * vertex), each incoming edge continues along the same cell, i.e. cells are
 * 4-connected. A ring may still visit a saddle twice (a pocket of background
 * reaching the outside through the corner); it is cut there into simple
 * rings, which is exactly the OGC-valid form (a hole touching its shell at
 * a point). Each simple ring borders one 4-connected component of cells;
 * each component has exactly one outer ring, and its other rings are its
 * holes, so no point-in-polygon search is needed to assemble polygons. */
#include "patch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Edge directions in pixel space. */
enum { DIR_DOWN, DIR_UP, DIR_RIGHT, DIR_LEFT };

typedef struct patch_trace {
    /* Spans: the runs with touching neighbours of a row merged, cells
     * [x0, x1) of row y, global pixel coordinates. */
    int32_t nspan;
    int32_t *sy, *sx0, *sx1;
    int32_t *comp; /* 4-connected component, numbered by first span */
    int32_t ncomp;

    /* Directed boundary edges. Span s owns 2s (its left side, running
     * down) and 2s+1 (its right side, running up); horizontal edges are
     * numbered after them. (ex, ey) is the start vertex. */
    int32_t nedge, nsaddle;
    int32_t *next; /* the edge that follows in the ring */
    int32_t *ex, *ey, *ecomp;
    int32_t *esaddle; /* saddle id of the start vertex, or -1 */
    uint8_t *edir;

    /* Simple rings: corner vertices (x, y pairs, not closed). */
    int32_t nring, nvert;
    int32_t *vxy;
    int32_t *rfirst, *rcount, *rcomp;
    uint8_t *rhole;
} patch_trace;

static void trace_free(patch_trace *t)
{
    free(t->sy);
    free(t->sx0);
    free(t->sx1);
    free(t->comp);
    free(t->next);
    free(t->ex);
    free(t->ey);
    free(t->ecomp);
    free(t->esaddle);
    free(t->edir);
    free(t->vxy);
    free(t->rfirst);
    free(t->rcount);
    free(t->rcomp);
    free(t->rhole);
}

/* Checks the runs and merges runs of a row that touch (a run cut at a tile
 * edge arrives as two). */
static rw_status trace_spans(patch_trace *t, const rw_patch_run *runs,
                             size_t n, rw_error *err)
{
    rw_status st = RW_OK;
    /* Edge and ring indices are int32: 6 edges per run at most. */
    RW_FAIL_IF(n == 0 || n > INT32_MAX / 8, err, RW_ERR_USAGE,
               "patch polygon: %zu runs", n);
    t->sy = rw_malloc(n * sizeof(*t->sy), err);
    t->sx0 = rw_malloc(n * sizeof(*t->sx0), err);
    t->sx1 = rw_malloc(n * sizeof(*t->sx1), err);
    RW_FAIL_IF(!t->sy || !t->sx0 || !t->sx1, err, RW_ERR_NOMEM, "spans");
    int32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const rw_patch_run r = runs[i];
        RW_FAIL_IF(r.len <= 0 || r.x0 > INT32_MAX - r.len || r.y == INT32_MAX,
                   err, RW_ERR_USAGE, "run %zu: row %d, columns %d+%d", i,
                   (int)r.y, (int)r.x0, (int)r.len);
        if (m > 0) {
            const int32_t py = t->sy[m - 1], px1 = t->sx1[m - 1];
            RW_FAIL_IF(r.y < py || (r.y == py && r.x0 < px1), err,
                       RW_ERR_USAGE,
                       "run %zu overlaps or is out of (y, x0) order", i);
            if (r.y == py && r.x0 == px1) {
                t->sx1[m - 1] = r.x0 + r.len;
                continue;
            }
        }
        t->sy[m] = r.y;
        t->sx0[m] = r.x0;
        t->sx1[m] = r.x0 + r.len;
        m++;
    }
    t->nspan = m;
done:
    return st;
}

/* Union-find root; roots are the smallest span index of their set. */
static int32_t uf_find(int32_t *parent, int32_t i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void uf_union(int32_t *parent, int32_t a, int32_t b)
{
    a = uf_find(parent, a);
    b = uf_find(parent, b);
    if (a < b)
        parent[b] = a;
    else if (b < a)
        parent[a] = b;
}

/* First span after the row starting at span first. */
static int32_t trace_row_end(const patch_trace *t, int32_t first)
{
    int32_t e = first;
    while (e < t->nspan && t->sy[e] == t->sy[first])
        e++;
    return e;
}

/* Numbers the 4-connected components of the spans: spans of consecutive
 * rows are connected when they share at least one column. */
static rw_status trace_components(patch_trace *t, rw_error *err)
{
    rw_status st = RW_OK;
    t->comp = rw_malloc((size_t)t->nspan * sizeof(*t->comp), err);
    RW_FAIL_IF(t->comp == NULL, err, RW_ERR_NOMEM, "components");
    int32_t *parent = t->comp;
    for (int32_t s = 0; s < t->nspan; s++)
        parent[s] = s;
    int32_t p0 = 0, p1 = 0; /* previous row */
    for (int32_t c0 = 0; c0 < t->nspan;) {
        const int32_t c1 = trace_row_end(t, c0);
        if (p1 > p0 && t->sy[p0] + 1 == t->sy[c0]) {
            int32_t i = p0, j = c0;
            while (i < p1 && j < c1) {
                if (t->sx0[i] < t->sx1[j] && t->sx0[j] < t->sx1[i])
                    uf_union(parent, i, j);
                if (t->sx1[i] < t->sx1[j])
                    i++;
                else
                    j++;
            }
        }
        p0 = c0;
        p1 = c1;
        c0 = c1;
    }
    /* Parents precede their children, so one pass in span order replaces
     * each parent link by the number its parent already received. */
    t->ncomp = 0;
    for (int32_t s = 0; s < t->nspan; s++)
        t->comp[s] = parent[s] == s ? t->ncomp++ : t->comp[parent[s]];
done:
    return st;
}

/* Column of event k of the spans starting at first: even k is the start
 * of span k/2, odd k its end. */
static int32_t trace_event(const patch_trace *t, int32_t first, int32_t k)
{
    return (k & 1) ? t->sx1[first + k / 2] : t->sx0[first + k / 2];
}

/* Creates the horizontal edges on grid line Y, between the spans of row
 * Y-1 [a0, a1) and of row Y [b0, b1), and links every edge ending on the
 * line to its successor. The vertices of the line are the span ends of the
 * two rows; at each, a/b are the row above left/right of it, c/d the row
 * below. */
static rw_status trace_line(patch_trace *t, int32_t Y, int32_t a0, int32_t a1,
                            int32_t b0, int32_t b1, rw_error *err)
{
    rw_status st = RW_OK;
    const int32_t na = 2 * (a1 - a0), nb = 2 * (b1 - b0);
    int32_t ka = 0, kb = 0;
    int32_t pending = -1; /* horizontal edge reaching the next vertex */
    while (ka < na || kb < nb) {
        int32_t X;
        if (ka < na && kb < nb) {
            const int32_t xa = trace_event(t, a0, ka);
            const int32_t xb = trace_event(t, b0, kb);
            X = xa < xb ? xa : xb;
        } else {
            X = ka < na ? trace_event(t, a0, ka) : trace_event(t, b0, kb);
        }
        const bool aev = ka < na && trace_event(t, a0, ka) == X;
        const bool bev = kb < nb && trace_event(t, b0, kb) == X;
        const bool a = ka & 1, c = kb & 1;
        const bool b = aev ? !a : a, d = bev ? !c : c;
        const int32_t sa = a0 + ka / 2, sb = b0 + kb / 2;

        /* The (up to) four edges at this vertex and whether they end here. */
        int32_t up = -1, down = -1, left = -1, right = -1;
        bool up_in = false, down_in = false, left_in = false, right_in = false;
        if (aev) {
            up = b ? 2 * sa : 2 * sa + 1;
            up_in = b;
        }
        if (bev) {
            down = d ? 2 * sb : 2 * sb + 1;
            down_in = !d;
        }
        if (a != c) {
            RW_FAIL_IF(pending < 0, err, RW_ERR_INTERNAL,
                       "outline: open horizontal edge at (%d, %d)", (int)X,
                       (int)Y);
            left = pending;
            left_in = a;
            if (!a) {
                t->ex[left] = X;
                t->ey[left] = Y;
            }
        }
        pending = -1;
        if (b != d) {
            right = t->nedge++;
            right_in = !b;
            t->edir[right] = b ? DIR_RIGHT : DIR_LEFT;
            t->ecomp[right] = t->comp[b ? sa : sb];
            if (b) {
                t->ex[right] = X;
                t->ey[right] = Y;
            }
            pending = right;
        }

        if (a && d && !b && !c) {
            /* Cells NW and SE: stay on the cell each edge borders. */
            t->next[left] = up;
            t->next[right] = down;
            t->esaddle[up] = t->esaddle[down] = t->nsaddle++;
        } else if (b && c && !a && !d) {
            /* Cells NE and SW. */
            t->next[up] = right;
            t->next[down] = left;
            t->esaddle[left] = t->esaddle[right] = t->nsaddle++;
        } else {
            const int32_t edges[4] = {up, down, left, right};
            const bool ins[4] = {up_in, down_in, left_in, right_in};
            int32_t in = -1, out = -1, count = 0;
            for (int i = 0; i < 4; i++) {
                if (edges[i] < 0)
                    continue;
                count++;
                if (ins[i])
                    in = edges[i];
                else
                    out = edges[i];
            }
            RW_FAIL_IF(count != 2 || in < 0 || out < 0, err, RW_ERR_INTERNAL,
                       "outline: vertex (%d, %d) has %d edges", (int)X,
                       (int)Y, count);
            t->next[in] = out;
        }
        ka += aev;
        kb += bev;
    }
done:
    return st;
}

/* Creates every boundary edge and links each to its successor. */
static rw_status trace_edges(patch_trace *t, rw_error *err)
{
    rw_status st = RW_OK;
    /* Each span adds two vertical edges and, on the lines above and below
     * it, at most two vertices each with at most one horizontal edge
     * starting to the right. */
    const size_t cap = 6 * (size_t)t->nspan;
    t->next = rw_malloc(cap * sizeof(*t->next), err);
    t->ex = rw_malloc(cap * sizeof(*t->ex), err);
    t->ey = rw_malloc(cap * sizeof(*t->ey), err);
    t->ecomp = rw_malloc(cap * sizeof(*t->ecomp), err);
    t->esaddle = rw_malloc(cap * sizeof(*t->esaddle), err);
    t->edir = rw_malloc(cap * sizeof(*t->edir), err);
    RW_FAIL_IF(!t->next || !t->ex || !t->ey || !t->ecomp || !t->esaddle ||
                   !t->edir,
               err, RW_ERR_NOMEM, "outline edges");
    for (size_t e = 0; e < cap; e++) {
        t->next[e] = -1;
        t->esaddle[e] = -1;
    }
    for (int32_t s = 0; s < t->nspan; s++) {
        t->ex[2 * s] = t->sx0[s];
        t->ey[2 * s] = t->sy[s];
        t->edir[2 * s] = DIR_DOWN;
        t->ex[2 * s + 1] = t->sx1[s];
        t->ey[2 * s + 1] = t->sy[s] + 1;
        t->edir[2 * s + 1] = DIR_UP;
        t->ecomp[2 * s] = t->ecomp[2 * s + 1] = t->comp[s];
    }
    t->nedge = 2 * t->nspan;

    /* Grid lines in increasing order: the top of every row, and the bottom
     * of a row not followed by the next row. */
    int32_t p0 = 0, p1 = 0;
    for (int32_t c0 = 0; c0 < t->nspan;) {
        const int32_t c1 = trace_row_end(t, c0);
        const int32_t y = t->sy[c0];
        if (p1 > p0 && t->sy[p0] + 1 == y) {
            RW_CHECK(trace_line(t, y, p0, p1, c0, c1, err));
        } else {
            if (p1 > p0)
                RW_CHECK(trace_line(t, t->sy[p0] + 1, p0, p1, c0, c0, err));
            RW_CHECK(trace_line(t, y, c0, c0, c0, c1, err));
        }
        p0 = c0;
        p1 = c1;
        c0 = c1;
    }
    RW_CHECK(trace_line(t, t->sy[p0] + 1, p0, p1, p1, p1, err));
done:
    return st;
}

/* Stores the edges ring[0..len) as one simple ring: only corner vertices,
 * starting at a corner so that none is collinear. */
static void trace_emit(patch_trace *t, const int32_t *ring, int32_t len)
{
    int32_t start = 0;
    while (t->edir[ring[start]] == t->edir[ring[(start + len - 1) % len]])
        start++;
    const int32_t first = t->nvert;
    int32_t prev_dir = -1;
    double sum = 0.0;
    const double x0 = t->ex[ring[start]], y0 = t->ey[ring[start]];
    double px = 0.0, py = 0.0;
    for (int32_t j = 0; j < len; j++) {
        const int32_t e = ring[(start + j) % len];
        if (t->edir[e] == prev_dir)
            continue;
        prev_dir = t->edir[e];
        t->vxy[2 * t->nvert] = t->ex[e];
        t->vxy[2 * t->nvert + 1] = t->ey[e];
        t->nvert++;
        /* Shoelace relative to the first vertex keeps the sums small. */
        const double x = t->ex[e] - x0, y = t->ey[e] - y0;
        sum += px * y - x * py;
        px = x;
        py = y;
    }
    const int32_t r = t->nring++;
    t->rfirst[r] = first;
    t->rcount[r] = t->nvert - first;
    t->rcomp[r] = t->ecomp[ring[0]];
    t->rhole[r] = sum > 0.0;
}

/* Clears the saddle positions recorded by edges that left the stack. */
static void trace_forget(const patch_trace *t, int32_t *saddle_pos,
                         const int32_t *ring, int32_t len)
{
    for (int32_t i = 0; i < len; i++)
        if (t->esaddle[ring[i]] >= 0)
            saddle_pos[t->esaddle[ring[i]]] = -1;
}

/* Walks the linked edges into rings, cutting a ring wherever it comes back
 * to a saddle vertex it already passed. */
static rw_status trace_rings(patch_trace *t, rw_error *err)
{
    rw_status st = RW_OK;
    int32_t *stack = NULL, *saddle_pos = NULL;
    uint8_t *seen = NULL;
    const size_t ne = (size_t)t->nedge;
    /* A ring has at least 4 edges and 4 corners. */
    t->vxy = rw_malloc(2 * ne * sizeof(*t->vxy), err);
    t->rfirst = rw_malloc((ne / 4 + 1) * sizeof(*t->rfirst), err);
    t->rcount = rw_malloc((ne / 4 + 1) * sizeof(*t->rcount), err);
    t->rcomp = rw_malloc((ne / 4 + 1) * sizeof(*t->rcomp), err);
    t->rhole = rw_malloc((ne / 4 + 1) * sizeof(*t->rhole), err);
    stack = rw_malloc(ne * sizeof(*stack), err);
    saddle_pos = rw_malloc(((size_t)t->nsaddle + 1) * sizeof(*saddle_pos), err);
    seen = rw_calloc(ne, 1, err);
    RW_FAIL_IF(!t->vxy || !t->rfirst || !t->rcount || !t->rcomp ||
                   !t->rhole || !stack || !saddle_pos || !seen,
               err, RW_ERR_NOMEM, "outline rings");
    for (int32_t s = 0; s < t->nsaddle; s++)
        saddle_pos[s] = -1;

    for (int32_t e0 = 0; e0 < t->nedge; e0++) {
        if (seen[e0])
            continue;
        int32_t top = 0, e = e0;
        do {
            RW_FAIL_IF(e < 0 || seen[e], err, RW_ERR_INTERNAL,
                       "outline: edge chain broken after edge %d",
                       (int)(top ? stack[top - 1] : e0));
            seen[e] = 1;
            const int32_t s = t->esaddle[e];
            if (s >= 0 && saddle_pos[s] >= 0) {
                const int32_t p = saddle_pos[s];
                trace_emit(t, stack + p, top - p);
                trace_forget(t, saddle_pos, stack + p, top - p);
                top = p;
            }
            if (s >= 0)
                saddle_pos[s] = top;
            stack[top++] = e;
            e = t->next[e];
        } while (e != e0);
        trace_emit(t, stack, top);
        trace_forget(t, saddle_pos, stack, top);
    }
done:
    free(stack);
    free(saddle_pos);
    free(seen);
    return st;
}

/* A closed GEOS ring from stored ring r, mapped through the geotransform.
 * buf holds at least 2 * (rcount + 1) doubles. */
static GEOSGeometry *trace_ring_geos(GEOSContextHandle_t h,
                                     const patch_trace *t, int32_t r,
                                     const double gt[6], double *buf)
{
    const int32_t n = t->rcount[r];
    const int32_t *v = t->vxy + 2 * (size_t)t->rfirst[r];
    for (int32_t i = 0; i <= n; i++) {
        /* Same expression for every use of a vertex, so rings that share
         * a corner share it bit for bit. */
        const double X = v[2 * (i % n)], Y = v[2 * (i % n) + 1];
        buf[2 * i] = gt[0] + X * gt[1] + Y * gt[2];
        buf[2 * i + 1] = gt[3] + X * gt[4] + Y * gt[5];
    }
    GEOSCoordSequence *seq =
        GEOSCoordSeq_copyFromBuffer_r(h, buf, (unsigned)n + 1, 0, 0);
    if (seq == NULL)
        return NULL;
    /* The ring takes ownership of the sequence. */
    return GEOSGeom_createLinearRing_r(h, seq);
}

/* Assembles one polygon per component: its outer ring and its holes. */
static rw_status trace_geometry(rw_patch_ctx *ctx, const patch_trace *t,
                                const double gt[6], GEOSGeometry **out,
                                rw_error *err)
{
    rw_status st = RW_OK;
    GEOSContextHandle_t h = rw_patch_ctx_geos(ctx);
    int32_t *shell = NULL, *hole_first = NULL, *holes = NULL, *cursor = NULL;
    GEOSGeometry **polys = NULL, **hole_geoms = NULL, *geom = NULL;
    double *buf = NULL;
    const size_t nc = (size_t)t->ncomp;

    shell = rw_malloc(nc * sizeof(*shell), err);
    hole_first = rw_calloc(nc + 1, sizeof(*hole_first), err);
    holes = rw_malloc(((size_t)t->nring + 1) * sizeof(*holes), err);
    polys = rw_calloc(nc, sizeof(*polys), err);
    hole_geoms = rw_malloc(((size_t)t->nring + 1) * sizeof(*hole_geoms), err);
    cursor = rw_malloc(nc * sizeof(*cursor), err);
    buf = rw_malloc(2 * ((size_t)t->nvert + 1) * sizeof(*buf), err);
    RW_FAIL_IF(!shell || !hole_first || !holes || !polys || !hole_geoms ||
                   !cursor || !buf,
               err, RW_ERR_NOMEM, "outline assembly");

    /* Group the holes by component (counting sort keeps ring order). */
    for (size_t c = 0; c < nc; c++)
        shell[c] = -1;
    for (int32_t r = 0; r < t->nring; r++) {
        const int32_t c = t->rcomp[r];
        if (t->rhole[r]) {
            hole_first[c + 1]++;
        } else {
            RW_FAIL_IF(shell[c] >= 0, err, RW_ERR_INTERNAL,
                       "outline: component %d has two outer rings", (int)c);
            shell[c] = r;
        }
    }
    for (size_t c = 0; c < nc; c++)
        hole_first[c + 1] += hole_first[c];
    memcpy(cursor, hole_first, nc * sizeof(*cursor));
    for (int32_t r = 0; r < t->nring; r++)
        if (t->rhole[r])
            holes[cursor[t->rcomp[r]]++] = r;

    for (size_t c = 0; c < nc; c++) {
        RW_FAIL_IF(shell[c] < 0, err, RW_ERR_INTERNAL,
                   "outline: component %zu has no outer ring", c);
        GEOSGeometry *ring = trace_ring_geos(h, t, shell[c], gt, buf);
        RW_FAIL_IF(ring == NULL, err, RW_ERR_INTERNAL, "outer ring: %s",
                   rw_patch_ctx_geos_message(ctx));
        const int32_t nh = hole_first[c + 1] - hole_first[c];
        for (int32_t k = 0; k < nh; k++) {
            hole_geoms[k] =
                trace_ring_geos(h, t, holes[hole_first[c] + k], gt, buf);
            if (hole_geoms[k] == NULL) {
                for (int32_t j = 0; j < k; j++)
                    GEOSGeom_destroy_r(h, hole_geoms[j]);
                GEOSGeom_destroy_r(h, ring);
                RW_FAIL(err, RW_ERR_INTERNAL, "hole ring: %s",
                        rw_patch_ctx_geos_message(ctx));
            }
        }
        /* GEOS constructors own their arguments from the call on, failed
         * or not (GEOS ticket 1111), so nothing is freed here on error. */
        polys[c] = GEOSGeom_createPolygon_r(h, ring, hole_geoms, (unsigned)nh);
        RW_FAIL_IF(polys[c] == NULL, err, RW_ERR_INTERNAL, "polygon: %s",
                   rw_patch_ctx_geos_message(ctx));
    }
    geom = polys[0];
    if (nc > 1)
        geom = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys,
                                           (unsigned)nc);
    memset(polys, 0, nc * sizeof(*polys));
    RW_FAIL_IF(geom == NULL, err, RW_ERR_INTERNAL, "multipolygon: %s",
               rw_patch_ctx_geos_message(ctx));
    *out = geom;
done:
    if (polys != NULL)
        for (size_t c = 0; c < nc; c++)
            GEOSGeom_destroy_r(h, polys[c]);
    free(shell);
    free(hole_first);
    free(holes);
    free(polys);
    free(hole_geoms);
    free(cursor);
    free(buf);
    return st;
}

rw_status rw_patch_polygon(rw_patch_ctx *ctx, const rw_patch_run *runs,
                           size_t n, const double geotransform[6],
                           GEOSGeometry **out, rw_error *err)
{
    rw_status st = RW_OK;
    patch_trace t = {0};
    GEOSGeometry *geom = NULL;
    char *reason = NULL;
    RW_FAIL_IF(ctx == NULL || runs == NULL || geotransform == NULL ||
                   out == NULL,
               err, RW_ERR_USAGE, "patch polygon: missing argument");
    const double *gt = geotransform;
    RW_FAIL_IF(!(gt[1] * gt[5] - gt[2] * gt[4] != 0.0), err, RW_ERR_USAGE,
               "patch polygon: degenerate geotransform");
    GEOSContextHandle_t h = rw_patch_ctx_geos(ctx);

    RW_CHECK(trace_spans(&t, runs, n, err));
    RW_CHECK(trace_components(&t, err));
    RW_CHECK(trace_edges(&t, err));
    RW_CHECK(trace_rings(&t, err));
    RW_CHECK(trace_geometry(ctx, &t, gt, &geom, err));

    /* The construction guarantees validity; checking it costs little next
     * to what downstream overlays would do with an invalid outline. */
    if (GEOSisValid_r(h, geom) != 1) {
        reason = GEOSisValidReason_r(h, geom);
        RW_FAIL(err, RW_ERR_INTERNAL, "patch polygon is not valid: %s",
                reason ? reason : rw_patch_ctx_geos_message(ctx));
    }
    *out = geom;
    geom = NULL;
done:
    if (reason != NULL)
        GEOSFree_r(rw_patch_ctx_geos(ctx), reason);
    if (geom != NULL)
        GEOSGeom_destroy_r(rw_patch_ctx_geos(ctx), geom);
    trace_free(&t);
    return st;
}

rw_status rw_patch_interior_point(rw_patch_ctx *ctx, const GEOSGeometry *geom,
                                  double tolerance, double *x, double *y,
                                  double *radius, rw_error *err)
{
    rw_status st = RW_OK;
    GEOSGeometry *circle = NULL, *point = NULL;
    const GEOSPreparedGeometry *prepared = NULL;
    RW_FAIL_IF(ctx == NULL || geom == NULL || x == NULL || y == NULL ||
                   radius == NULL,
               err, RW_ERR_USAGE, "interior point: missing argument");
    RW_FAIL_IF(!(tolerance > 0.0) || !isfinite(tolerance), err, RW_ERR_USAGE,
               "interior point: tolerance %g", tolerance);
    GEOSContextHandle_t h = rw_patch_ctx_geos(ctx);
    const int type = GEOSGeomTypeId_r(h, geom);
    RW_FAIL_IF((type != GEOS_POLYGON && type != GEOS_MULTIPOLYGON) ||
                   GEOSisEmpty_r(h, geom) != 0,
               err, RW_ERR_USAGE,
               "interior point: not a non-empty (Multi)Polygon");

    /* The field team goes to one place: the largest part. */
    const GEOSGeometry *part = geom;
    if (type == GEOS_MULTIPOLYGON) {
        double best = -1.0;
        const int parts = GEOSGetNumGeometries_r(h, geom);
        for (int i = 0; i < parts; i++) {
            const GEOSGeometry *g = GEOSGetGeometryN_r(h, geom, i);
            double area = 0.0;
            RW_FAIL_IF(g == NULL || !GEOSArea_r(h, g, &area), err,
                       RW_ERR_INTERNAL, "part area: %s",
                       rw_patch_ctx_geos_message(ctx));
            if (area > best) {
                best = area;
                part = g;
            }
        }
    }
    /* A line from the centre to the nearest boundary point. */
    circle = GEOSMaximumInscribedCircle_r(h, part, tolerance);
    RW_FAIL_IF(circle == NULL, err, RW_ERR_INTERNAL,
               "largest inscribed circle: %s", rw_patch_ctx_geos_message(ctx));
    const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, circle);
    double cx = 0.0, cy = 0.0, r = 0.0;
    RW_FAIL_IF(seq == NULL || !GEOSCoordSeq_getXY_r(h, seq, 0, &cx, &cy) ||
                   !GEOSGeomGetLength_r(h, circle, &r),
               err, RW_ERR_INTERNAL, "inscribed circle centre: %s",
               rw_patch_ctx_geos_message(ctx));

    /* The centre is found on a grid of cells; make sure it is strictly
     * inside before sending anyone there. */
    point = GEOSGeom_createPointFromXY_r(h, cx, cy);
    prepared = point ? GEOSPrepare_r(h, geom) : NULL;
    RW_FAIL_IF(prepared == NULL, err, RW_ERR_INTERNAL, "containment: %s",
               rw_patch_ctx_geos_message(ctx));
    RW_FAIL_IF(GEOSPreparedContains_r(h, prepared, point) != 1, err,
               RW_ERR_INTERNAL,
               "inscribed circle centre (%.3f, %.3f) is not inside the patch",
               cx, cy);
    *x = cx;
    *y = cy;
    *radius = r;
done:
    if (prepared != NULL)
        GEOSPreparedGeom_destroy_r(rw_patch_ctx_geos(ctx), prepared);
    if (point != NULL)
        GEOSGeom_destroy_r(rw_patch_ctx_geos(ctx), point);
    if (circle != NULL)
        GEOSGeom_destroy_r(rw_patch_ctx_geos(ctx), circle);
    return st;
}
