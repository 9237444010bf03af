/* Pass 1: pixel pairs sampled inside the reserves on a global lattice,
 * and the robust radiometric normalisation of each earlier date and band
 * fitted on them. Reading the tiles also saves their rings (scan_halo.c). */
#include "scan_worker.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct tile_samples {
    size_t n[SCAN_MAX_BEFORE];
    float *v[SCAN_MAX_BEFORE]; /* n * 2 * RW_BAND_COUNT: earlier then later */
} tile_samples;

static rw_status sample_tile(const scan_job *job, scan_worker *w, int t, int stride, tile_samples *ts, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect r = rw_tiling_rect(&job->tiling, t);
    /* only pixels inside reserves: the same set for any tiling */
    RW_CHECK(rw_zones_burn(job->zones, job->after.info.gt, r, w->reserve, w->zone, err));
    RW_CHECK(scan_worker_read(job, w, t, false, err));
    for (int k = 0; k < job->nbefore; k++) {
        size_t cnt = 0;
        /* the lattice is global (x % stride, y % stride), not per tile */
        for (int y = r.y + (stride - r.y % stride) % stride; y < r.y + r.h; y += stride)
            for (int x = r.x + (stride - r.x % stride) % stride; x < r.x + r.w; x += stride)
                cnt++;
        ts->v[k] = rw_malloc(sizeof(float) * 2 * RW_BAND_COUNT * (cnt + 1), err);
        RW_FAIL_IF(ts->v[k] == NULL, err, RW_ERR_NOMEM, "out of memory for normalisation samples");
        size_t m = 0;
        for (int y = r.y + (stride - r.y % stride) % stride; y < r.y + r.h; y += stride) {
            for (int x = r.x + (stride - r.x % stride) % stride; x < r.x + r.w; x += stride) {
                const size_t i = (size_t)(y - r.y) * r.w + (x - r.x);
                if (w->reserve[i] == 0 || !scan_qa_clear(w->aq[i]) || !scan_qa_clear(w->bq[k][i]))
                    continue;
                float *o = ts->v[k] + m * 2 * RW_BAND_COUNT;
                for (int b = 0; b < RW_BAND_COUNT; b++) {
                    const bool on = job->band_mask & RW_BAND_BIT(b);
                    o[b] = on ? w->b[k][b][i] : NAN;
                    o[RW_BAND_COUNT + b] = on ? w->a[b][i] : NAN;
                }
                m++;
            }
        }
        ts->n[k] = m;
    }
done:
    return st;
}

typedef struct sample_pair {
    float x, y;
} sample_pair;

static int compare_pair(const void *a, const void *b)
{
    const sample_pair *p = a, *q = b;
    if (p->x != q->x)
        return p->x < q->x ? -1 : 1;
    return (p->y > q->y) - (p->y < q->y);
}

/* The share of m values above limit. */
static double share_above(const float *v, size_t m, float limit)
{
    size_t above = 0;
    for (size_t i = 0; i < m; i++)
        above += v[i] > limit;
    return m > 0 ? (double)above / (double)m : 0.0;
}

/* What a scene's samples say of its scale and offset, checked once per
 * file: the rules compare reflectance (0..1), and a wrong scale or offset
 * would silently find nothing, or read dark water as land. */
typedef enum {
    UNITS_OK,
    /* NIR mostly above 1.5: raw digital numbers, no scale */
    UNITS_DIGITAL_NUMBERS,
    /* blue above 0.08 on 99 % of clear pixels in the reserves, where
     * forest and water are 0.02-0.06 at the surface: top-of-atmosphere
     * values, or the offset is missing */
    UNITS_OFFSET_MISSING,
} units_check;

static units_check check_units(int b, const float *v, size_t m)
{
    if (b == RW_BAND_NIR && share_above(v, m, 1.5f) > 0.5)
        return UNITS_DIGITAL_NUMBERS;
    if (b == RW_BAND_BLUE && m >= 1000 && share_above(v, m, 1.5f) <= 0.5 && share_above(v, m, 0.08f) > 0.99)
        return UNITS_OFFSET_MISSING;
    return UNITS_OK;
}

static void warn_units(const scan_job *job, const char *path, units_check u)
{
    static const char *const what[] = {
        [UNITS_DIGITAL_NUMBERS] = "NIR values look like digital numbers, not reflectance 0-1; give the bands a "
                                  "scale and offset (e.g. gdal_translate -a_scale) or the change rules will not "
                                  "apply",
        [UNITS_OFFSET_MISSING] = "blue is above 0.08 on 99 % of the clear pixels in the reserves, where the "
                                 "surface reflectance of forest and water is 0.02-0.06: top-of-atmosphere "
                                 "(Level-1) values, or a missing offset (Sentinel-2 L2A from processing "
                                 "baseline 04.00 on: -a_offset -0.1 with -a_scale 0.0001; Landsat Collection 2 "
                                 "Level-2: -a_offset -0.2 with -a_scale 0.0000275); the change rules expect "
                                 "surface reflectance",
    };
    if (job->warn == NULL || u == UNITS_OK)
        return;
    char msg[4600];
    snprintf(msg, sizeof(msg), "%s: %s", path, what[u]);
    job->warn(msg, job->warn_user);
}

/* One fit: earlier date k, band b. */
typedef struct fit_task {
    int k, b;
    rw_status st;
    size_t m;
    units_check units_before, units_after;
} fit_task;

/* Gathers date k's samples of band b from every tile, sorted, and fits
 * them. The pairs are sorted first: tiles gather them in an order that
 * depends on the tile size, and floating-point sums in another order may
 * differ in the last bit. */
static void fit_one(scan_job *job, const tile_samples *ts, int ntiles, fit_task *task)
{
    const int k = task->k, b = task->b;
    size_t total = 0;
    for (int t = 0; t < ntiles; t++)
        total += ts[t].n[k];
    float *x = malloc(sizeof(float) * (total + 1)), *y = malloc(sizeof(float) * (total + 1));
    sample_pair *pairs = malloc(sizeof(*pairs) * (total + 1));
    task->st = RW_ERR_NOMEM;
    if (x != NULL && y != NULL && pairs != NULL) {
        size_t m = 0;
        for (int t = 0; t < ntiles; t++)
            for (size_t i = 0; i < ts[t].n[k]; i++) {
                pairs[m].x = ts[t].v[k][i * 2 * RW_BAND_COUNT + b];
                pairs[m].y = ts[t].v[k][i * 2 * RW_BAND_COUNT + RW_BAND_COUNT + b];
                m++;
            }
        qsort(pairs, m, sizeof(*pairs), compare_pair);
        for (size_t i = 0; i < m; i++)
            x[i] = pairs[i].x, y[i] = pairs[i].y;
        task->m = m;
        task->units_before = check_units(b, x, m);
        task->units_after = check_units(b, y, m);
        rw_error local;
        rw_error_clear(&local);
        task->st = rw_change_normalise_fit(x, y, m, &job->before[k].fit[b], &local);
    }
    free(x);
    free(y);
    free(pairs);
}

/* Fits, per earlier date and band, later ≈ gain · earlier + offset on the
 * samples of all planned tiles; the fits run in parallel, the warnings
 * and the first error come in date and band order. */
static rw_status fit_dates(scan_job *job, tile_samples *ts, int ntiles, rw_error *err)
{
    rw_status st = RW_OK;
    fit_task tasks[SCAN_MAX_BEFORE * RW_BAND_COUNT];
    int n = 0;
    for (int k = 0; k < job->nbefore; k++)
        for (int b = 0; b < RW_BAND_COUNT; b++)
            if (job->band_mask & RW_BAND_BIT(b))
                tasks[n++] = (fit_task){k, b, RW_OK, 0, UNITS_OK, UNITS_OK};
#pragma omp parallel for schedule(dynamic) num_threads(job->threads)
    for (int i = 0; i < n; i++)
        fit_one(job, ts, ntiles, &tasks[i]);
    for (int i = 0; i < n; i++) {
        const fit_task *t = &tasks[i];
        warn_units(job, job->before[t->k].info.path, t->units_before);
        if (t->k == 0)
            warn_units(job, job->after.info.path, t->units_after);
    }
    for (int i = 0; i < n; i++) {
        const fit_task *t = &tasks[i];
        RW_FAIL_IF(t->st == RW_ERR_NOMEM, err, RW_ERR_NOMEM, "out of memory for normalisation");
        RW_FAIL_IF(t->st != RW_OK, err, RW_ERR_INPUT,
                   "%s and %s: too few clear pixels in common over the reserves to compare them "
                   "(%zu; clouds, nodata or no overlap)",
                   job->before[t->k].info.path, job->after.info.path, t->m);
    }
done:
    return st;
}

typedef struct sample_ctx {
    tile_samples *ts;
    int stride;
} sample_ctx;

static rw_status sample_work(const scan_job *job, scan_worker *w, int t, void *ctx, rw_error *err)
{
    sample_ctx *c = ctx;
    return sample_tile(job, w, t, c->stride, &c->ts[t], err);
}

rw_status scan_tiles_sample(scan_job *job, scan_workers *ws, int stride, rw_progress_fn progress, void *user,
                            rw_error *err)
{
    rw_status st = RW_OK;
    const int ntiles = rw_tiling_count(&job->tiling);
    tile_samples *ts = rw_calloc((size_t)ntiles, sizeof(*ts), err);
    if (ts == NULL)
        return RW_ERR_NOMEM;
    sample_ctx ctx = {ts, stride};
    st = scan_tiles_run(job, ws, false, sample_work, &ctx, progress, user, 0.0, 0.3, "normalise", err);
    if (st == RW_OK)
        st = fit_dates(job, ts, ntiles, err);
    for (int t = 0; t < ntiles; t++)
        for (int k = 0; k < SCAN_MAX_BEFORE; k++)
            free(ts[t].v[k]);
    free(ts);
    return st;
}
