/* Co-registration of the earlier scenes to the later one. Deliveries are
 * often off by a fraction of a pixel or more; every edge (river bank,
 * road, field border) then turns into a ribbon of false change and real
 * patches gain or lose their rim. The offset of each earlier scene is
 * measured on the NIR band, where land and water, forest and bare ground
 * contrast most: normalised cross-correlation for whole-pixel offsets up
 * to COREG_RADIUS over fixed windows inside the reserves, then a parabola
 * through the peak and its neighbours for the fraction. A scene off by at
 * least COREG_MIN_PX is put back on the grid before anything is sampled:
 * on the analysis grid already, it is read at the offset rounded to whole
 * pixels (interpolation would blur narrow rivers and roads into mixed
 * pixels that look like change, and a warp costs more than the decoding);
 * on another grid, its shifted georeferencing goes into the warp.
 *
 * On by default (--no-coregister turns it off): on the synthetic scenes it
 * measures the planted offsets to within 0.1 pixel, and river areas come
 * within a few percent where a pixel of misregistration made them 10-30%
 * off. */
#include "scan.h"

#include <cpl_error.h>
#include <gdal.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COREG_RADIUS 2     /* whole pixels searched each way */
#define COREG_SIDE 192     /* window side, pixels */
#define COREG_CELL 256     /* windows sit in the middle of cells this big */
#define COREG_LATTICE 4    /* windows per side of the reserves' extent */
#define COREG_MIN_PX 0.1   /* smaller offsets are left alone */
#define COREG_MIN_NCC 0.3  /* below it the peak is not trusted */
#define COREG_SPAN (2 * COREG_RADIUS + 1)

/* Sums for the correlation of one offset over every window. */
typedef struct ncc_sums {
    double a, b, ab, aa, bb, n;
} ncc_sums;

static rw_status read_nir(const scan_scene *s, GDALDatasetH ds, rw_rect r, float *out, rw_error *err)
{
    const int b = RW_BAND_NIR;
    float *dst[1] = {out};
    const int band = s->refl_band[b];
    return rw_raster_read_reflectance(ds, s->info.path, r, &band, 1, &s->scale[b], &s->offset[b], &s->has_nodata[b],
                                      &s->nodata[b], dst, err);
}

/* Adds window w of a (later) against the earlier b read over w grown by
 * COREG_RADIUS (bw, clipped to the grid) for every offset. */
static void accumulate(const float *a, rw_rect w, const float *b, rw_rect bw, ncc_sums sums[COREG_SPAN][COREG_SPAN])
{
    for (int dy = -COREG_RADIUS; dy <= COREG_RADIUS; dy++)
        for (int dx = -COREG_RADIUS; dx <= COREG_RADIUS; dx++) {
            ncc_sums *s = &sums[dy + COREG_RADIUS][dx + COREG_RADIUS];
            for (int y = 0; y < w.h; y++) {
                const int by = w.y + y + dy - bw.y;
                if (by < 0 || by >= bw.h)
                    continue;
                for (int x = 0; x < w.w; x++) {
                    const int bx = w.x + x + dx - bw.x;
                    if (bx < 0 || bx >= bw.w)
                        continue;
                    const double va = a[(size_t)y * (size_t)w.w + (size_t)x];
                    const double vb = b[(size_t)by * (size_t)bw.w + (size_t)bx];
                    if (!isfinite(va) || !isfinite(vb))
                        continue;
                    s->a += va, s->b += vb, s->ab += va * vb, s->aa += va * va, s->bb += vb * vb, s->n += 1;
                }
            }
        }
}

static double ncc(const ncc_sums *s)
{
    if (s->n < 100)
        return -1.0;
    const double cov = s->ab - s->a * s->b / s->n;
    const double va = s->aa - s->a * s->a / s->n, vb = s->bb - s->b * s->b / s->n;
    return va > 0 && vb > 0 ? cov / sqrt(va * vb) : -1.0;
}

/* Vertex of the parabola through (-1, l), (0, c), (1, r), within +-0.5. */
static double vertex(double l, double c, double r)
{
    const double den = l - 2 * c + r;
    if (!(den < 0))
        return 0.0;
    const double v = 0.5 * (l - r) / den;
    return v < -0.5 ? -0.5 : v > 0.5 ? 0.5 : v;
}

/* The windows: for each point of a fixed lattice over the reserves'
 * extent, the nearest cell of a fixed COREG_CELL grid whose window (the
 * cell's middle) touches a reserve, each cell once. Windows in reserves
 * measure where the scan looks, and their blocks are the ones the
 * sampling pass decodes anyway; with blocks of COREG_CELL pixels or a
 * multiple (512 in COGs), a window lies in one block. The same for any
 * tile size or thread count. *n gets the number of windows. */
static rw_status coreg_windows(const scan_job *job, rw_rect ext, rw_rect out[COREG_LATTICE * COREG_LATTICE], int *n,
                               rw_error *err)
{
    const double *gt = job->after.info.gt;
    const int cw = job->after.info.width / COREG_CELL, ch = job->after.info.height / COREG_CELL;
    const int margin = (COREG_CELL - COREG_SIDE) / 2;
    *n = 0;
    /* which cells' windows touch a reserve, asked once per cell */
    uint8_t *touch = rw_malloc((size_t)cw * (size_t)ch + 1, err);
    if (touch == NULL)
        return RW_ERR_NOMEM;
    for (int cy = 0; cy < ch; cy++)
        for (int cx = 0; cx < cw; cx++) {
            const double x0 = gt[0] + (cx * COREG_CELL + margin) * gt[1];
            const double x1 = gt[0] + (cx * COREG_CELL + margin + COREG_SIDE) * gt[1];
            const double y0 = gt[3] + (cy * COREG_CELL + margin) * gt[5];
            const double y1 = gt[3] + (cy * COREG_CELL + margin + COREG_SIDE) * gt[5];
            const double env[4] = {fmin(x0, x1), fmin(y0, y1), fmax(x0, x1), fmax(y0, y1)};
            touch[(size_t)cy * (size_t)cw + (size_t)cx] = rw_zones_touches(job->zones, env);
        }
    for (int j = 0; j < COREG_LATTICE; j++)
        for (int i = 0; i < COREG_LATTICE; i++) {
            const double px = ext.x + (i + 0.5) * ext.w / COREG_LATTICE, py = ext.y + (j + 0.5) * ext.h / COREG_LATTICE;
            double best_d = INFINITY;
            rw_rect best = {0, 0, 0, 0};
            for (int cy = 0; cy < ch; cy++)
                for (int cx = 0; cx < cw; cx++) {
                    const rw_rect w = {cx * COREG_CELL + margin, cy * COREG_CELL + margin, COREG_SIDE, COREG_SIDE};
                    const double dx = w.x + 0.5 * w.w - px, dy = w.y + 0.5 * w.h - py, d = dx * dx + dy * dy;
                    if (d >= best_d || !touch[(size_t)cy * (size_t)cw + (size_t)cx])
                        continue;
                    bool taken = false;
                    for (int k = 0; k < *n && !taken; k++)
                        taken = out[k].x == w.x && out[k].y == w.y;
                    if (!taken)
                        best_d = d, best = w;
                }
            if (!rw_rect_is_empty(best))
                out[(*n)++] = best;
        }
    free(touch);
    return RW_OK;
}

/* The tile that holds window w's centre. */
static int window_tile(const scan_job *job, rw_rect w)
{
    const rw_tiling *tl = &job->tiling;
    const int cx = w.x + w.w / 2, cy = w.y + w.h / 2;
    for (int t = 0; t < rw_tiling_count(tl); t++) {
        const rw_rect r = rw_tiling_rect(tl, t);
        if (cx >= r.x && cy >= r.y && cx < r.x + r.w && cy < r.y + r.h)
            return t;
    }
    return 0;
}

/* Sums every window's correlations into per[k], windows in parallel with
 * the workers' handles: a window goes to the thread that reads its tile
 * in the sampling pass, which then finds the blocks in GDAL's cache (a
 * handle's blocks are its own); windows outside planned tiles go round. */
static rw_status accumulate_windows(const scan_job *job, scan_workers *ws, int k_before, const rw_rect *win, int n,
                                    ncc_sums (*per)[COREG_SPAN][COREG_SPAN], rw_error *err)
{
    const rw_rect grid = {0, 0, job->after.info.width, job->after.info.height};
    const scan_scene *before = &job->before[k_before];
    int failed = 0;
#pragma omp parallel num_threads(scan_workers_count(ws))
    {
        rw_error local;
        rw_error_clear(&local);
        rw_status ok = RW_OK;
        const int id = omp_get_thread_num(), nt = omp_get_num_threads();
        const int side = COREG_SIDE + 2 * COREG_RADIUS;
        float *a = malloc(sizeof(float) * COREG_SIDE * COREG_SIDE);
        float *b = malloc(sizeof(float) * (size_t)side * (size_t)side);
        GDALDatasetH da = scan_workers_refl(ws, id, 0), db = scan_workers_refl(ws, id, 1 + k_before);
        if (a == NULL || b == NULL)
            ok = rw_error_set(&local, RW_ERR_NOMEM, __FILE__, __LINE__, "out of memory for co-registration");
        for (int k = 0; k < n && ok == RW_OK; k++) {
            const int owner = scan_tiles_owner(job, nt, window_tile(job, win[k]));
            if ((owner >= 0 ? owner : k % nt) != id)
                continue;
            const rw_rect w = win[k];
            const rw_rect bw = rw_rect_intersect(
                (rw_rect){w.x - COREG_RADIUS, w.y - COREG_RADIUS, w.w + 2 * COREG_RADIUS, w.h + 2 * COREG_RADIUS},
                grid);
            ok = read_nir(&job->after, da, w, a, &local);
            if (ok == RW_OK)
                ok = read_nir(before, db, bw, b, &local);
            if (ok == RW_OK)
                accumulate(a, w, b, bw, per[k]);
        }
        if (ok != RW_OK) {
#pragma omp critical(coreg_fail)
            {
                if (!failed)
                    *err = local;
                failed = 1;
            }
        }
        free(a);
        free(b);
    }
    return failed ? err->status : RW_OK;
}

/* The offset (dx, dy) in analysis pixels such that the earlier scene at
 * (x + dx, y + dy) shows what the later one shows at (x, y); *why is NULL
 * then, or says why no trustworthy offset was found. */
static rw_status measure(const scan_job *job, scan_workers *ws, int k_before, double shift[2], const char **why,
                         rw_error *err)
{
    rw_status st = RW_OK;
    ncc_sums (*per)[COREG_SPAN][COREG_SPAN] = NULL;
    double mean[COREG_SPAN][COREG_SPAN];
    memset(mean, 0, sizeof(mean));
    *why = "no window of the reserves in a whole 256-pixel cell";
    const int W = job->after.info.width, H = job->after.info.height;
    const double *gt = job->after.info.gt;
    double env[4];
    rw_zones_extent(job->zones, env);
    /* the reserves' extent in pixels, clipped to the grid */
    const rw_rect grid = {0, 0, W, H};
    const int x0 = (int)floor((env[0] - gt[0]) / gt[1]), x1 = (int)ceil((env[2] - gt[0]) / gt[1]);
    const int y0 = (int)floor((env[3] - gt[3]) / gt[5]), y1 = (int)ceil((env[1] - gt[3]) / gt[5]);
    const rw_rect ext = rw_rect_intersect((rw_rect){x0, y0, x1 - x0, y1 - y0}, grid);
    if (rw_rect_is_empty(ext))
        goto done;
    rw_rect win[COREG_LATTICE * COREG_LATTICE];
    int n;
    RW_CHECK(coreg_windows(job, ext, win, &n, err));
    if (n == 0)
        goto done;
    per = rw_calloc((size_t)n + 1, sizeof(*per), err);
    RW_FAIL_IF(per == NULL, err, RW_ERR_NOMEM, "out of memory for co-registration");
    RW_CHECK(accumulate_windows(job, ws, k_before, win, n, per, err));
    /* The mean of the windows' own correlation surfaces, over the windows
     * that find a peak at all: a window under a cloud in one scene
     * correlates with nothing, and pooled sums would let its bright
     * values drown every other window. Added in window order: the same
     * bits for any thread count. */
    int used = 0;
    for (int k = 0; k < n; k++) {
        double c[COREG_SPAN][COREG_SPAN], peak = -2.0;
        for (int dy = 0; dy < COREG_SPAN; dy++)
            for (int dx = 0; dx < COREG_SPAN; dx++)
                peak = fmax(peak, c[dy][dx] = ncc(&per[k][dy][dx]));
        if (peak < COREG_MIN_NCC)
            continue;
        used++;
        for (int dy = 0; dy < COREG_SPAN; dy++)
            for (int dx = 0; dx < COREG_SPAN; dx++)
                mean[dy][dx] += c[dy][dx];
    }
    *why = "no window correlates (clouds, or ground without contrast)";
    if (used == 0)
        goto done;
    int bx = 0, by = 0;
    double best = -2.0;
    for (int dy = -COREG_RADIUS; dy <= COREG_RADIUS; dy++)
        for (int dx = -COREG_RADIUS; dx <= COREG_RADIUS; dx++) {
            const double c = mean[dy + COREG_RADIUS][dx + COREG_RADIUS] / used;
            if (c > best)
                best = c, bx = dx, by = dy;
        }
    *why = "off by about 2 pixels or more, beyond its search";
    if (abs(bx) == COREG_RADIUS || abs(by) == COREG_RADIUS)
        goto done;
    const int cx = bx + COREG_RADIUS, cy = by + COREG_RADIUS;
    shift[0] = bx + vertex(mean[cy][cx - 1] / used, best, mean[cy][cx + 1] / used);
    shift[1] = by + vertex(mean[cy - 1][cx] / used, best, mean[cy + 1][cx] / used);
    *why = NULL;
done:
    free(per);
    return st;
}

static void warn_unregistered(const scan_job *job, const scan_scene *s, const char *what)
{
    if (job->warn == NULL)
        return;
    char msg[4400];
    snprintf(msg, sizeof(msg), "%s: not co-registered: %s; taken as delivered", s->info.path, what);
    job->warn(msg, job->warn_user);
}

rw_status scan_coregister(scan_job *job, scan_workers *ws, rw_error *err)
{
    rw_status st = RW_OK;
    const double *gt = job->after.info.gt;
    for (int k = 0; k < job->nbefore; k++) {
        scan_scene *s = &job->before[k];
        double px[2] = {0, 0};
        const char *why;
        RW_CHECK(measure(job, ws, k, px, &why, err));
        s->residual_px = why != NULL ? 1.0 : hypot(px[0], px[1]);
        if (why != NULL) {
            s->coreg = why;
            warn_unregistered(job, s, why);
            continue;
        }
        if (hypot(px[0], px[1]) < COREG_MIN_PX) {
            s->coreg = "within 0.1 pixel, left as delivered";
            continue;
        }
        const bool same = rw_raster_same_grid(&s->info, &job->after.info);
        if (!same && s->info.geographic != job->after.info.geographic) {
            /* the shift is in the analysis grid's units; degrees cannot
             * move metres or the other way round */
            s->coreg = "offset found but not applied: one scene's CRS is geographic, the other's projected";
            warn_unregistered(job, s, "one scene's CRS is geographic, the other's projected (warp both to one CRS "
                                      "first)");
            continue;
        }
        s->coreg = same ? "applied, to the nearest whole pixel (offset_px)" : "applied, in the warp";
        s->shift_px[0] = px[0], s->shift_px[1] = px[1];
        if (same) {
            s->offset_px[0] = (int)lround(px[0]);
            s->offset_px[1] = (int)lround(px[1]);
            s->residual_px = hypot(px[0] - s->offset_px[0], px[1] - s->offset_px[1]);
            continue;
        }
        s->residual_px = 0.0; /* resampled to the measured shift */
        /* what the scene shows at (x + dx, y + dy) lies at (x, y): its
         * georeferencing moves back by the offset */
        s->shift_m[0] = -px[0] * gt[1];
        s->shift_m[1] = -px[1] * gt[5];
        RW_CHECK(scan_scene_place(job, s, k, err));
        RW_CHECK(scan_workers_reopen(job, ws, 1 + k, err));
    }
done:
    return st;
}
