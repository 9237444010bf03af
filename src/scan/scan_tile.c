/* The parallel tile stage: each worker opens its own GDAL handles (GDAL
 * 3.6 datasets are not thread-safe), reads windows of the planned tiles,
 * and either samples pixel pairs for the radiometric normalisation (pass
 * 1) or classifies and labels changes (pass 2). Tiles are independent and
 * results are kept per tile index, so output never depends on threads. */
#include "scan.h"

#include <cpl_conv.h>
#include <gdal_alg.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

typedef struct scene_handles {
    GDALDatasetH refl, mask;
} scene_handles;

typedef struct worker {
    scene_handles after, before[SCAN_MAX_BEFORE];
    size_t cap;                                   /* pixels per buffer */
    rw_rect bwin;                                 /* window read: the tile and its halo */
    /* per bwin pixel */
    float *a[RW_BAND_COUNT];                      /* later reflectance */
    float *b[SCAN_MAX_BEFORE][RW_BAND_COUNT];     /* earlier reflectance */
    float *base[RW_BAND_COUNT];                   /* per-pixel baseline */
    float *planes;                                /* a scene's bands as read */
    uint8_t *aq, *bq[SCAN_MAX_BEFORE];            /* RW_QA_* flags */
    uint8_t *facts;                               /* FACT_* */
    uint8_t *wcls;                                /* change class */
    float *wscore;
    /* per tile pixel */
    uint16_t *u16, *reserve, *key;
    uint8_t *zone, *cls, *flag;
    float *score;
    rw_label_scratch *scratch;
    rw_error err;
} worker;

static void handles_close(scene_handles *h)
{
    if (h->mask != NULL && h->mask != h->refl)
        GDALClose(h->mask);
    if (h->refl != NULL)
        GDALClose(h->refl);
    h->refl = h->mask = NULL;
}

static rw_status handles_open(const scan_scene *s, scene_handles *h, rw_error *err)
{
    h->refl = GDALOpenEx(s->refl_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
    if (h->refl == NULL)
        return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: cannot open: %s", s->info.path,
                            CPLGetLastErrorMsg());
    /* A mask band in the reflectance file shares its handle: a second
     * handle on a pixel-interleaved file decodes every block again. */
    if (s->mask_band > 0 && strcmp(s->mask_path, s->refl_path) == 0)
        h->mask = h->refl;
    else if (s->mask_band > 0) {
        h->mask = GDALOpenEx(s->mask_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (h->mask == NULL)
            return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: cannot open its mask: %s",
                                s->info.path, CPLGetLastErrorMsg());
    }
    return RW_OK;
}

static void worker_destroy(worker *w)
{
    if (w == NULL)
        return;
    handles_close(&w->after);
    for (int k = 0; k < SCAN_MAX_BEFORE; k++) {
        handles_close(&w->before[k]);
        for (int b = 0; b < RW_BAND_COUNT; b++)
            free(w->b[k][b]);
        free(w->bq[k]);
    }
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        free(w->a[b]);
        free(w->base[b]);
    }
    free(w->aq);
    free(w->planes);
    free(w->u16);
    free(w->reserve);
    free(w->key);
    free(w->zone);
    free(w->cls);
    free(w->flag);
    free(w->facts);
    free(w->wcls);
    free(w->wscore);
    free(w->score);
    rw_label_scratch_destroy(w->scratch);
    free(w);
}

size_t scan_worker_bytes(const scan_job *job)
{
    const size_t t = (size_t)job->tiling.tile, n = t * t, nh = (t + 2) * (t + 2);
    size_t bands = 0;
    for (int b = 0; b < RW_BAND_COUNT; b++)
        bands += (job->band_mask & RW_BAND_BIT(b)) != 0;
    const size_t nb = (size_t)job->nbefore;
    const size_t per_halo_px = sizeof(float) * (bands * (2 + nb) + RW_BAND_COUNT + 1 + 1) + nb + 2 + 1 + 1 + 1;
    /* the label scratch is about as large as the tile's own buffers */
    return nh * per_halo_px + 2 * n * (2 + 2 + 1 + 1 + 1 + sizeof(float));
}

/* start: per-thread handles and buffers, allocated once. */
static worker *worker_create(const scan_job *job, rw_error *err)
{
    worker *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    const int t = job->tiling.tile;
    const size_t n = (size_t)t * (size_t)t;
    const size_t nh = (size_t)(t + 2) * (size_t)(t + 2); /* with a 1-pixel halo */
    bool ok = true;
    w->cap = n;
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        if (!(job->band_mask & RW_BAND_BIT(b)))
            continue;
        ok = ok && (w->a[b] = malloc(nh * sizeof(float))) && (w->base[b] = malloc(nh * sizeof(float)));
        for (int k = 0; k < job->nbefore; k++)
            ok = ok && (w->b[k][b] = malloc(nh * sizeof(float)));
    }
    for (int k = 0; k < job->nbefore; k++)
        ok = ok && (w->bq[k] = malloc(nh));
    ok = ok && (w->planes = malloc((RW_BAND_COUNT + 1) * nh * sizeof(float))) && (w->aq = malloc(nh)) && (w->u16 = malloc(nh * 2)) && (w->facts = malloc(nh)) &&
         (w->wcls = malloc(nh)) && (w->wscore = malloc(nh * sizeof(float))) && (w->reserve = malloc(n * 2)) &&
         (w->key = malloc(n * 2)) && (w->zone = malloc(n)) && (w->cls = malloc(n)) && (w->flag = malloc(n)) &&
         (w->score = malloc(n * sizeof(float)));
    if (!ok) {
        rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__, "out of memory for a worker's tile buffers");
        worker_destroy(w);
        return NULL;
    }
    if (handles_open(&job->after, &w->after, err) != RW_OK) {
        worker_destroy(w);
        return NULL;
    }
    for (int k = 0; k < job->nbefore; k++) {
        if (handles_open(&job->before[k], &w->before[k], err) != RW_OK) {
            worker_destroy(w);
            return NULL;
        }
    }
    if (rw_label_scratch_create(t, t, &w->scratch, err) != RW_OK) {
        worker_destroy(w);
        return NULL;
    }
    return w;
}

/* Reads window r of the analysis grid from a scene into planes (as
 * rw_raster_read_planes), at the scene's whole-pixel co-registration
 * offset; what falls outside the file is NAN. */
static rw_status read_planes_at(const scan_scene *s, GDALDatasetH ds, rw_rect r, const int *bands, int n,
                                float *planes, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect src = {r.x + s->offset_px[0], r.y + s->offset_px[1], r.w, r.h};
    const rw_rect in = rw_rect_intersect(src, (rw_rect){0, 0, s->info.width, s->info.height});
    if (in.x == src.x && in.y == src.y && in.w == src.w && in.h == src.h)
        return rw_raster_read_planes(ds, s->info.path, src, bands, n, planes, err);
    const size_t npx = (size_t)r.w * (size_t)r.h, nin = (size_t)in.w * (size_t)in.h;
    if (!rw_rect_is_empty(in))
        RW_CHECK(rw_raster_read_planes(ds, s->info.path, in, bands, n, planes, err));
    /* spread each plane from in's layout to r's, last plane and row first:
     * values only move forward */
    const size_t ox = (size_t)(in.x - src.x), oy = (size_t)(in.y - src.y);
    for (int p = n - 1; p >= 0; p--) {
        float *dst = planes + (size_t)p * npx;
        const float *from = planes + (size_t)p * nin;
        for (int y = in.h - 1; y >= 0; y--)
            memmove(dst + ((size_t)y + oy) * (size_t)r.w + ox, from + (size_t)y * (size_t)in.w,
                    (size_t)in.w * sizeof(float));
        for (size_t i = 0; i < npx; i++) {
            const size_t x = i % (size_t)r.w, y = i / (size_t)r.w;
            if (x < ox || y < oy || x >= ox + (size_t)in.w || y >= oy + (size_t)in.h)
                dst[i] = NAN;
        }
    }
done:
    return st;
}

/* Reads one scene's window: reflectance per role and quality flags. The
 * bands, and the mask band when it is in the same file, come in one
 * dataset read into planes ((RW_BAND_COUNT + 1) planes of the window). */
static rw_status read_scene(const scan_job *job, const scan_scene *s, const scene_handles *h, rw_rect r,
                            float *const *out, uint8_t *q, uint16_t *u16, float *planes, rw_error *err)
{
    rw_status st = RW_OK;
    int bands[RW_BAND_COUNT + 1], n = 0;
    float *dst[RW_BAND_COUNT];
    const size_t npx = (size_t)r.w * (size_t)r.h;
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        if (!(job->band_mask & RW_BAND_BIT(b)))
            continue;
        bands[n] = s->refl_band[b];
        dst[n++] = out[b];
    }
    const bool masked = s->mask_band > 0 && s->match.profile->mask != RW_MASK_NONE;
    const bool mask_here = masked && h->mask == h->refl;
    if (mask_here)
        bands[n] = s->mask_band;
    RW_CHECK(read_planes_at(s, h->refl, r, bands, n + mask_here, planes, err));
    for (int k = 0, b = 0; b < RW_BAND_COUNT; b++)
        if (job->band_mask & RW_BAND_BIT(b)) {
            rw_raster_to_reflectance(planes + (size_t)k * npx, npx, s->scale[b], s->offset[b], s->has_nodata[b],
                                     s->nodata[b], out[b]);
            k++;
        }
    if (mask_here) {
        const float *m = planes + (size_t)n * npx;
        for (size_t i = 0; i < npx; i++)
            u16[i] = isnan(m[i]) ? 0 : (uint16_t)m[i];
        rw_profiles_decode_mask_array(s->match.profile, u16, npx, q);
    } else if (masked) {
        /* a mask VRT of a warped scene: on the grid, never offset */
        RW_CHECK(rw_raster_read_u16(h->mask, s->info.path, r, s->mask_band, u16, err));
        rw_profiles_decode_mask_array(s->match.profile, u16, npx, q);
    } else {
        for (size_t i = 0; i < npx; i++) {
            float px[RW_BAND_COUNT];
            for (int b = 0; b < RW_BAND_COUNT; b++)
                px[b] = (job->band_mask & RW_BAND_BIT(b)) ? out[b][i] : NAN;
            q[i] = rw_profiles_spectral_mask(px);
        }
    }
    /* nodata in any band used makes the pixel nodata */
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < npx; i++)
            if (isnan(dst[k][i]))
                q[i] |= RW_QA_NODATA;
done:
    return st;
}

static bool clear(uint8_t q) { return (q & (RW_QA_NODATA | RW_QA_CLOUD | RW_QA_SHADOW | RW_QA_SNOW)) == 0; }

/* The worker's buffers of scene k (0 the later, 1.. the earlier ones). */
static void worker_windows(const scan_job *job, const worker *w, scan_window *out)
{
    for (int k = 0; k <= job->nbefore; k++) {
        for (int b = 0; b < RW_BAND_COUNT; b++)
            out[k].band[b] = k == 0 ? w->a[b] : w->b[k - 1][b];
        out[k].qa = k == 0 ? w->aq : w->bq[k - 1];
    }
}

static rw_status read_scene_k(const scan_job *job, worker *w, int k, rw_rect r, const scan_window *dst,
                              rw_error *err)
{
    const scan_scene *s = k == 0 ? &job->after : &job->before[k - 1];
    const scene_handles *h = k == 0 ? &w->after : &w->before[k - 1];
    return read_scene(job, s, h, r, dst->band, dst->qa, w->u16, w->planes, err);
}

/* Moves planes read as window r (r.w wide) to their place in w->bwin. */
static void expand_to_halo(const scan_job *job, const worker *w, rw_rect r, const scan_window *win)
{
    const rw_rect bw = w->bwin;
    const size_t ox = (size_t)(r.x - bw.x), oy = (size_t)(r.y - bw.y);
    for (int k = 0; k <= job->nbefore; k++)
        for (int y = r.h - 1; y >= 0; y--) { /* last row first: rows only move forward */
            const size_t from = (size_t)y * (size_t)r.w, to = ((size_t)y + oy) * (size_t)bw.w + ox;
            for (int b = 0; b < RW_BAND_COUNT; b++)
                if (win[k].band[b] != NULL && (job->band_mask & RW_BAND_BIT(b)))
                    memmove(win[k].band[b] + to, win[k].band[b] + from, (size_t)r.w * sizeof(float));
            memmove(win[k].qa + to, win[k].qa + from, (size_t)r.w);
        }
}

/* Reads every scene over tile t into the worker's buffers, laid out over
 * w->bwin: the tile itself, or with halo the tile grown by one pixel
 * within the grid (the shore and bank tests look at each pixel's
 * neighbours, whatever the tiling). The sampling pass saves each tile's
 * ring; the halo comes from the neighbours' rings. */
static rw_status read_all(const scan_job *job, worker *w, int t, bool halo, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect r = rw_tiling_rect(&job->tiling, t);
    const rw_rect grid = {0, 0, job->after.info.width, job->after.info.height};
    scan_window win[SCAN_MAX_BEFORE + 1];
    worker_windows(job, w, win);
    w->bwin = halo ? rw_rect_intersect((rw_rect){r.x - 1, r.y - 1, r.w + 2, r.h + 2}, grid) : r;
    for (int k = 0; k <= job->nbefore; k++)
        RW_CHECK(read_scene_k(job, w, k, r, &win[k], err));
    if (!halo) {
        RW_CHECK(scan_halo_save(job->halo, t, win, err));
        goto done;
    }
    expand_to_halo(job, w, r, win);
    RW_CHECK(scan_halo_load(job->halo, t, job->planned, w->bwin, win, err));
done:
    return st;
}

/* Records the first failure across threads and stops the others. */
static void fail_once(rw_error *shared, int *failed, const rw_error *local)
{
#pragma omp critical(scan_fail)
    {
        if (!*failed)
            *shared = *local;
        *failed = 1;
    }
}

struct scan_workers {
    int n;
    worker **w;
};

void scan_workers_destroy(scan_workers *ws)
{
    if (ws == NULL)
        return;
    for (int i = 0; i < ws->n; i++)
        worker_destroy(ws->w[i]);
    free(ws->w);
    free(ws);
}

rw_status scan_workers_create(const scan_job *job, scan_workers **out, rw_error *err)
{
    rw_status st = RW_OK;
    *out = NULL;
    scan_workers *ws = rw_calloc(1, sizeof(*ws), err);
    RW_FAIL_IF(ws == NULL || (ws->w = rw_calloc((size_t)job->threads, sizeof(*ws->w), err)) == NULL, err,
               RW_ERR_NOMEM, "out of memory for %d workers", job->threads);
    for (ws->n = 0; ws->n < job->threads; ws->n++) {
        ws->w[ws->n] = worker_create(job, err);
        if (ws->w[ws->n] == NULL) {
            st = err->status != RW_OK ? err->status : RW_ERR_NOMEM;
            if (err->status == RW_OK)
                rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__, "out of memory for a worker's tile buffers");
            goto done;
        }
    }
    *out = ws;
    ws = NULL;
done:
    scan_workers_destroy(ws);
    return st;
}

/* The frame of both passes: thread i runs work() with worker i on the
 * i-th of as many contiguous runs of the planned tiles (raster order) as
 * there are threads; the first failure stops the remaining tiles.
 * Contiguous runs, not every other tile: a window read at a
 * co-registration offset straddles the blocks of the tiles around it, and
 * a block stays decoded only in the cache of the handle that read it.
 * Backwards (the second pass) starts with the tiles the first pass read
 * last, whose blocks GDAL still holds. */
typedef rw_status (*tile_work_fn)(const scan_job *job, worker *w, int tile, void *ctx, rw_error *err);

static rw_status run_tiles(const scan_job *job, scan_workers *ws, bool backward, tile_work_fn work, void *ctx,
                           rw_progress_fn progress, void *user, double start, double span, const char *what,
                           rw_error *err)
{
    const int ntiles = rw_tiling_count(&job->tiling);
    int failed = 0, done_tiles = 0, nplan = 0;
    int *plan = rw_malloc(sizeof(int) * ((size_t)ntiles + 1), err);
    if (plan == NULL)
        return RW_ERR_NOMEM;
    for (int t = 0; t < ntiles; t++)
        if (job->planned[t])
            plan[nplan++] = t;
#pragma omp parallel num_threads(ws->n)
    {
        rw_error local;
        rw_error_clear(&local);
        const int id = omp_get_thread_num(), nt = omp_get_num_threads();
        worker *w = ws->w[id];
        const int lo = (int)((long long)nplan * id / nt), hi = (int)((long long)nplan * (id + 1) / nt);
        for (int j = lo; j < hi; j++) {
            const int t = plan[backward ? lo + hi - 1 - j : j];
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop)
                break;
            if (work(job, w, t, ctx, &local) != RW_OK)
                fail_once(err, &failed, &local);
#pragma omp atomic
            done_tiles++;
            if (progress != NULL && id == 0)
                progress(start + span * done_tiles / nplan, what, user);
        }
    }
    free(plan);
    return failed ? err->status : RW_OK;
}

/* ---- pass 1: samples for normalisation --------------------------------- */

typedef struct tile_samples {
    size_t n[SCAN_MAX_BEFORE];
    float *v[SCAN_MAX_BEFORE]; /* n * 2 * RW_BAND_COUNT: earlier then later */
} tile_samples;

static rw_status sample_tile(const scan_job *job, worker *w, int t, int stride, tile_samples *ts, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect r = rw_tiling_rect(&job->tiling, t);
    /* only pixels inside reserves: the same set for any tiling */
    RW_CHECK(rw_zones_burn(job->zones, job->after.info.gt, r, w->reserve, w->zone, err));
    RW_CHECK(read_all(job, w, t, false, err));
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
                if (w->reserve[i] == 0 || !clear(w->aq[i]) || !clear(w->bq[k][i]))
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

/* The rules compare reflectance (0..1). A scene without scale metadata
 * whose NIR is mostly above 1.5 is raw digital numbers: say so, once per
 * file, instead of silently finding nothing. */
static bool mostly_above(const float *v, size_t m, float limit)
{
    size_t above = 0;
    for (size_t i = 0; i < m; i++)
        above += v[i] > limit;
    return above * 2 > m;
}

static void warn_digital_numbers(const scan_job *job, const char *path)
{
    if (job->warn == NULL)
        return;
    char msg[4400];
    snprintf(msg, sizeof(msg),
             "%s: NIR values look like digital numbers, not reflectance 0-1; give the bands a scale and "
             "offset (e.g. gdal_translate -a_scale) or the change rules will not apply",
             path);
    job->warn(msg, job->warn_user);
}

/* One fit: earlier date k, band b. */
typedef struct fit_task {
    int k, b;
    rw_status st;
    size_t m;
    bool dn_before, dn_after; /* NIR only: looks like digital numbers */
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
        task->dn_before = b == RW_BAND_NIR && mostly_above(x, m, 1.5f);
        task->dn_after = b == RW_BAND_NIR && mostly_above(y, m, 1.5f);
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
                tasks[n++] = (fit_task){k, b, RW_OK, 0, false, false};
#pragma omp parallel for schedule(dynamic) num_threads(job->threads)
    for (int i = 0; i < n; i++)
        fit_one(job, ts, ntiles, &tasks[i]);
    for (int i = 0; i < n; i++) {
        const fit_task *t = &tasks[i];
        if (t->dn_before)
            warn_digital_numbers(job, job->before[t->k].info.path);
        if (t->dn_after && t->k == 0)
            warn_digital_numbers(job, job->after.info.path);
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

static rw_status sample_work(const scan_job *job, worker *w, int t, void *ctx, rw_error *err)
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
    st = run_tiles(job, ws, false, sample_work, &ctx, progress, user, 0.0, 0.3, "normalise", err);
    if (st == RW_OK)
        st = fit_dates(job, ts, ntiles, err);
    for (int t = 0; t < ntiles; t++)
        for (int k = 0; k < SCAN_MAX_BEFORE; k++)
            free(ts[t].v[k]);
    free(ts);
    return st;
}

/* ---- pass 2: classify and label ----------------------------------------- */

/* Burns river corridors into flag for window r. */
static rw_status burn_rivers(const scan_job *job, rw_rect r, uint8_t *flag, rw_error *err)
{
    if (job->nrivers == 0)
        return RW_OK;
    rw_status st = RW_OK;
    const double *gt = job->after.info.gt;
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", r.w, r.h, 1, GDT_Byte, NULL);
    RW_FAIL_IF(mem == NULL, err, RW_ERR_NOMEM, "out of memory for a river tile");
    double mgt[6] = {gt[0] + r.x * gt[1], gt[1], 0, gt[3] + r.y * gt[5], 0, gt[5]};
    GDALSetGeoTransform(mem, mgt);
    const int band = 1;
    double *val = rw_malloc(sizeof(double) * job->nrivers, err);
    RW_FAIL_IF(val == NULL, err, RW_ERR_NOMEM, "out of memory for a river tile");
    for (size_t i = 0; i < job->nrivers; i++)
        val[i] = SCAN_FLAG_RIVER;
    const CPLErr e = GDALRasterizeGeometries(mem, 1, &band, (int)job->nrivers, job->rivers, NULL, NULL, val,
                                             NULL, NULL, NULL);
    free(val);
    RW_FAIL_IF(e != CE_None, err, RW_ERR_INTERNAL, "rasterising rivers failed: %s", CPLGetLastErrorMsg());
    RW_FAIL_IF(GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, r.w, r.h, flag, r.w, r.h, GDT_Byte, 0,
                            0) != CE_None,
               err, RW_ERR_INTERNAL, "reading a river tile failed");
done:
    if (mem != NULL)
        GDALClose(mem);
    return st;
}

/* What the earlier dates say of a window pixel. A pixel that was water on
 * some clear earlier dates and land on others (FACT_MIXED) is a seasonal
 * margin or a bank that misregistration moved by up to a pixel. */
enum {
    FACT_CLEAR = 1,       /* clear on some earlier date */
    FACT_MIXED = 2,       /* water on some, land on other clear earlier dates */
    FACT_ALL_WATER = 4,   /* water on every clear earlier date */
    FACT_NEW_WATER = 8,   /* land to water, land on every earlier date */
    FACT_NEW_BED = 16,    /* water to land, water on every earlier date */
    FACT_TURBID = 32,     /* turbid water, water on every earlier date */
    FACT_SURE = FACT_NEW_WATER | FACT_NEW_BED
};

/* Baseline of window pixel j: per band median of its clear earlier dates,
 * normalised; only the water dates (want 1) or land dates (want 0) when
 * want >= 0. Returns the number of dates used. */
static int baseline_at(const scan_job *job, const worker *w, size_t j, int want, float *out)
{
    float v[RW_BAND_COUNT][SCAN_MAX_BEFORE];
    int n = 0;
    for (int k = 0; k < job->nbefore; k++) {
        if (!clear(w->bq[k][j]) || (want >= 0 && ((w->bq[k][j] & RW_QA_WATER) != 0) != want))
            continue;
        for (int b = 0; b < RW_BAND_COUNT; b++)
            if (job->band_mask & RW_BAND_BIT(b))
                v[b][n] = (float)(job->before[k].fit[b].gain * w->b[k][b][j] + job->before[k].fit[b].offset);
        n++;
    }
    for (int b = 0; b < RW_BAND_COUNT; b++)
        out[b] = (job->band_mask & RW_BAND_BIT(b)) && n > 0 ? rw_change_median(v[b], n) : NAN;
    return n;
}

/* Classifies every pixel of the window (tile and halo) against its
 * baseline and records the facts the neighbourhood rules need. Water now
 * on a mixed pixel is compared with its water dates only: a median of
 * water and land is neither, and would hide a turbid plume. */
static void classify_window(const scan_job *job, worker *w)
{
    const size_t nb = (size_t)w->bwin.w * (size_t)w->bwin.h;
    for (size_t j = 0; j < nb; j++) {
        int nclear = 0, nwater = 0;
        for (int k = 0; k < job->nbefore; k++)
            if (clear(w->bq[k][j])) {
                nclear++;
                nwater += (w->bq[k][j] & RW_QA_WATER) != 0;
            }
        const bool mixed = nwater > 0 && nwater < nclear;
        float px[RW_BAND_COUNT];
        baseline_at(job, w, j, mixed && (w->aq[j] & RW_QA_WATER) ? 1 : -1, px);
        for (int b = 0; b < RW_BAND_COUNT; b++)
            if (job->band_mask & RW_BAND_BIT(b))
                w->base[b][j] = px[b];
        w->facts[j] = (uint8_t)((nclear > 0 ? FACT_CLEAR : 0) | (mixed ? FACT_MIXED : 0) |
                                (nclear > 0 && nwater == nclear ? FACT_ALL_WATER : 0));
    }
    const float *base[RW_BAND_COUNT], *after[RW_BAND_COUNT];
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        base[b] = w->base[b];
        after[b] = w->a[b];
    }
    rw_change_classify_planar(job->rules, base, after, job->band_mask, nb, w->wcls, w->wscore, NULL);
    for (size_t j = 0; j < nb; j++) {
        const uint8_t f = w->facts[j];
        const bool ok = (f & FACT_CLEAR) && clear(w->aq[j]);
        /* water on any earlier date is not new water (seasonal lakes) */
        if (w->wcls[j] == RW_CHANGE_LAND_TO_WATER && (f & (FACT_MIXED | FACT_ALL_WATER)))
            w->wcls[j] = RW_CHANGE_NONE;
        if (ok && w->wcls[j] == RW_CHANGE_LAND_TO_WATER)
            w->facts[j] |= FACT_NEW_WATER;
        if (ok && w->wcls[j] == RW_CHANGE_WATER_TO_LAND && (f & FACT_ALL_WATER))
            w->facts[j] |= FACT_NEW_BED;
        if (ok && w->wcls[j] == RW_CHANGE_TURBIDITY && (f & FACT_ALL_WATER))
            w->facts[j] |= FACT_TURBID;
    }
}

/* Whether window pixel (x, y) or one of its 8 neighbours has a fact. */
static bool near(const worker *w, int x, int y, uint8_t fact)
{
    const rw_rect bw = w->bwin;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            const int nx = x + dx, ny = y + dy;
            if (nx >= 0 && ny >= 0 && nx < bw.w && ny < bw.h && (w->facts[(size_t)ny * (size_t)bw.w + (size_t)nx] & fact))
                return true;
        }
    return false;
}

/* A mixed pixel beside certain new water or a certain emerging bed is a
 * bank that misregistration moved: a reservoir that rose over it, a reach
 * that fell dry. Compared with the earlier dates of the state it left
 * (land dates for new water, water dates for a bed), it takes that change
 * when the rules agree; otherwise it keeps its own class. Only one pixel
 * deep, as misregistration is at most about a pixel: a seasonal margin
 * does not grow into a reservoir. */
static uint8_t bank_class(const scan_job *job, const worker *w, int x, int y, float *score)
{
    const size_t j = (size_t)y * (size_t)w->bwin.w + (size_t)x;
    const bool water_now = (w->aq[j] & RW_QA_WATER) != 0;
    const uint8_t sure = water_now ? FACT_NEW_WATER : FACT_NEW_BED;
    const rw_change_class want = water_now ? RW_CHANGE_LAND_TO_WATER : RW_CHANGE_WATER_TO_LAND;
    uint8_t c = w->wcls[j];
    if (c == RW_CHANGE_LAND_TO_WATER)
        c = RW_CHANGE_NONE; /* water on an earlier date */
    if (!near(w, x, y, sure))
        return c;
    float base[RW_BAND_COUNT], after[RW_BAND_COUNT];
    if (baseline_at(job, w, j, water_now ? 0 : 1, base) == 0)
        return c;
    for (int b = 0; b < RW_BAND_COUNT; b++)
        after[b] = (job->band_mask & RW_BAND_BIT(b)) ? w->a[b][j] : NAN;
    float s = 0.0f;
    if (rw_change_classify_pixel(job->rules, base, after, job->band_mask, &s, NULL) != want)
        return c;
    *score = s;
    return (uint8_t)want;
}

/* Whether lost vegetation at window pixel (x, y) has a neighbour that was
 * already bare or built (baseline NDVI below the rules' 0.35) and about as
 * bright (within a quarter) as the pixel is now: the same ground, one
 * pixel over. A patch made only of such pixels is a road or a clearing
 * that a residual misregistration moved, not a new disturbance. */
static bool fringe(const scan_job *job, const worker *w, int x, int y)
{
    (void)job;
    const rw_rect bw = w->bwin;
    const size_t j = (size_t)y * (size_t)bw.w + (size_t)x;
    const float now = (w->a[RW_BAND_BLUE][j] + w->a[RW_BAND_GREEN][j] + w->a[RW_BAND_RED][j]) / 3.0f;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            const int nx = x + dx, ny = y + dy;
            if ((dx == 0 && dy == 0) || nx < 0 || ny < 0 || nx >= bw.w || ny >= bw.h)
                continue;
            const size_t n = (size_t)ny * (size_t)bw.w + (size_t)nx;
            const float nir = w->base[RW_BAND_NIR][n], red = w->base[RW_BAND_RED][n];
            const float was = (w->base[RW_BAND_BLUE][n] + w->base[RW_BAND_GREEN][n] + red) / 3.0f;
            if ((nir - red) < 0.35f * (nir + red) && fabsf(was - now) <= 0.25f * now)
                return true;
        }
    return false;
}

/* Water now at the edge of a certain plume whose own baseline matched no
 * rule: an earlier scene resampled onto the analysis grid blends the bank
 * into the channel's edge pixels. Compared with the plume neighbour's
 * baseline (the clear channel), it is turbid when the rules say so. One
 * pixel deep; clean water next to a plume stays clean. */
static uint8_t plume_edge_class(const scan_job *job, const worker *w, int x, int y, float *score)
{
    const rw_rect bw = w->bwin;
    const size_t j = (size_t)y * (size_t)bw.w + (size_t)x;
    float after[RW_BAND_COUNT], base[RW_BAND_COUNT];
    for (int b = 0; b < RW_BAND_COUNT; b++)
        after[b] = (job->band_mask & RW_BAND_BIT(b)) ? w->a[b][j] : NAN;
    /* neighbours in a fixed order, so the result never depends on tiling */
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            const int nx = x + dx, ny = y + dy;
            if (nx < 0 || ny < 0 || nx >= bw.w || ny >= bw.h)
                continue;
            const size_t n = (size_t)ny * (size_t)bw.w + (size_t)nx;
            if (!(w->facts[n] & FACT_TURBID))
                continue;
            for (int b = 0; b < RW_BAND_COUNT; b++)
                base[b] = (job->band_mask & RW_BAND_BIT(b)) ? w->base[b][n] : NAN;
            float s = 0.0f;
            if (rw_change_classify_pixel(job->rules, base, after, job->band_mask, &s, NULL) == RW_CHANGE_TURBIDITY) {
                *score = s;
                return RW_CHANGE_TURBIDITY;
            }
        }
    return RW_CHANGE_NONE;
}

static rw_status label_tile(const scan_job *job, worker *w, int t, rw_label_tile_result **out, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect r = rw_tiling_rect(&job->tiling, t);
    const size_t npx = (size_t)r.w * (size_t)r.h;
    *out = NULL;
    RW_CHECK(rw_zones_burn(job->zones, job->after.info.gt, r, w->reserve, w->zone, err));
    size_t inside = 0;
    for (size_t i = 0; i < npx; i++)
        inside += w->reserve[i] != 0;
    if (inside == 0)
        goto done; /* the tile's box touches a reserve but no pixel centre does */
    RW_CHECK(read_all(job, w, t, true, err));
    memset(w->flag, 0, npx);
    RW_CHECK(burn_rivers(job, r, w->flag, err));
    classify_window(job, w);
    for (size_t i = 0; i < npx; i++) {
        const int x = (int)(i % (size_t)r.w), y = (int)(i / (size_t)r.w);
        const size_t j = (size_t)(r.y + y - w->bwin.y) * (size_t)w->bwin.w + (size_t)(r.x + x - w->bwin.x);
        const uint8_t f = w->facts[j];
        float score = w->wscore[j];
        uint8_t c = w->wcls[j];
        if (!(f & FACT_CLEAR) || !clear(w->aq[j]) || w->reserve[i] == 0)
            c = RW_CHANGE_NONE;
        else if ((f & FACT_MIXED) && !(f & FACT_SURE))
            c = bank_class(job, w, x + r.x - w->bwin.x, y + r.y - w->bwin.y, &score);
        if (c == RW_CHANGE_NONE && (f & FACT_CLEAR) && (w->aq[j] & RW_QA_WATER) && clear(w->aq[j]) && w->reserve[i] != 0)
            c = plume_edge_class(job, w, x + r.x - w->bwin.x, y + r.y - w->bwin.y, &score);
        /* on or next to a shore that was water on some earlier dates and
         * land on others, lost vegetation is the lake's stage (or a bank
         * the dates disagree on), not a disturbance */
        if ((c == RW_CHANGE_VEG_TO_BARE || c == RW_CHANGE_VEG_TO_BUILT || c == RW_CHANGE_VEG_TO_SOIL) &&
            near(w, x + r.x - w->bwin.x, y + r.y - w->bwin.y, FACT_MIXED))
            c = RW_CHANGE_NONE;
        w->cls[i] = c;
        w->score[i] = c != RW_CHANGE_NONE ? score : 0.0f;
        w->key[i] = c != RW_CHANGE_NONE ? w->reserve[i] : 0;
        uint8_t fl = w->flag[i];
        if (f & FACT_ALL_WATER)
            fl |= SCAN_FLAG_WATER;
        const float bb = w->a[RW_BAND_BLUE][j], rr = w->a[RW_BAND_RED][j];
        if (c == RW_CHANGE_VEG_TO_BUILT && (bb - rr) > 0.08f * (bb + rr))
            fl |= SCAN_FLAG_BLUEROOF;
        if ((c == RW_CHANGE_VEG_TO_BARE || c == RW_CHANGE_VEG_TO_BUILT || c == RW_CHANGE_VEG_TO_SOIL) &&
            fringe(job, w, x + r.x - w->bwin.x, y + r.y - w->bwin.y))
            fl |= SCAN_FLAG_FRINGE;
        w->flag[i] = fl;
    }
    const rw_label_input in = {r, w->key, w->cls, w->zone, w->score, w->flag};
    RW_CHECK(rw_label_tile_create(w->scratch, &in, out, err));
done:
    return st;
}

static rw_status label_work(const scan_job *job, worker *w, int t, void *ctx, rw_error *err)
{
    rw_label_tile_result **results = ctx;
    return label_tile(job, w, t, &results[t], err);
}

rw_status scan_tiles_label(const scan_job *job, scan_workers *ws, rw_label_tile_result **results,
                           rw_progress_fn progress, void *user, rw_error *err)
{
    return run_tiles(job, ws, true, label_work, results, progress, user, 0.3, 0.5, "detect", err);
}
