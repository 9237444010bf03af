/* Workers and their reads: GDAL handles per thread and scene, tile
 * buffers, windows read at the scene's co-registration offset, the halo
 * from the tile rings, and the frame that runs a pass over the planned
 * tiles. */
#include "scan_worker.h"

#include <cpl_conv.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

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

static void worker_destroy(scan_worker *w)
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

/* malloc that counts what a worker holds */
static void *take(size_t n, size_t *bytes)
{
    *bytes += n;
    return malloc(n);
}

/* start: per-thread handles and buffers, allocated once. */
static scan_worker *worker_create(const scan_job *job, rw_error *err)
{
    scan_worker *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    const int t = job->tiling.tile;
    const size_t n = (size_t)t * (size_t)t;
    const size_t nh = (size_t)(t + 2) * (size_t)(t + 2); /* with a 1-pixel halo */
    bool ok = true;
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        if (!(job->band_mask & RW_BAND_BIT(b)))
            continue;
        ok = ok && (w->a[b] = take(nh * sizeof(float), &w->bytes)) &&
             (w->base[b] = take(nh * sizeof(float), &w->bytes));
        for (int k = 0; k < job->nbefore; k++)
            ok = ok && (w->b[k][b] = take(nh * sizeof(float), &w->bytes));
    }
    for (int k = 0; k < job->nbefore; k++)
        ok = ok && (w->bq[k] = take(nh, &w->bytes));
    size_t *by = &w->bytes;
    ok = ok && (w->planes = take((RW_BAND_COUNT + 1) * nh * sizeof(float), by)) && (w->aq = take(nh, by)) &&
         (w->u16 = take(nh * 2, by)) && (w->facts = take(nh, by)) && (w->wcls = take(nh, by)) &&
         (w->wscore = take(nh * sizeof(float), by)) && (w->reserve = take(n * 2, by)) && (w->key = take(n * 2, by)) &&
         (w->zone = take(n, by)) && (w->cls = take(n, by)) && (w->flag = take(n, by)) &&
         (w->score = take(n * sizeof(float), by));
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

/* Moves h rows of w values (elem bytes each), laid out w wide from src, to
 * (ox, oy) of a layout dst_w wide from dst. dst lies at or after src, so
 * the last row goes first and memmove takes care of the overlap. */
static void place_rows(void *dst, const void *src, size_t elem, int w, int h, size_t dst_w, size_t ox, size_t oy)
{
    for (int y = h - 1; y >= 0; y--)
        memmove((char *)dst + (((size_t)y + oy) * dst_w + ox) * elem,
                (const char *)src + (size_t)y * (size_t)w * elem, (size_t)w * elem);
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
    /* spread each plane from in's layout to r's, last plane first: values
     * only move forward */
    const size_t ox = (size_t)(in.x - src.x), oy = (size_t)(in.y - src.y);
    for (int p = n - 1; p >= 0; p--) {
        float *dst = planes + (size_t)p * npx;
        place_rows(dst, planes + (size_t)p * nin, sizeof(float), in.w, in.h, (size_t)r.w, ox, oy);
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


/* The worker's buffers of scene k (0 the later, 1.. the earlier ones). */
static void worker_windows(const scan_job *job, const scan_worker *w, scan_window *out)
{
    for (int k = 0; k <= job->nbefore; k++) {
        for (int b = 0; b < RW_BAND_COUNT; b++)
            out[k].band[b] = k == 0 ? w->a[b] : w->b[k - 1][b];
        out[k].qa = k == 0 ? w->aq : w->bq[k - 1];
    }
}

static rw_status read_scene_k(const scan_job *job, scan_worker *w, int k, rw_rect r, const scan_window *dst,
                              rw_error *err)
{
    const scan_scene *s = k == 0 ? &job->after : &job->before[k - 1];
    const scene_handles *h = k == 0 ? &w->after : &w->before[k - 1];
    return read_scene(job, s, h, r, dst->band, dst->qa, w->u16, w->planes, err);
}

/* Moves planes read as window r (r.w wide) to their place in w->bwin. */
static void expand_to_halo(const scan_job *job, const scan_worker *w, rw_rect r, const scan_window *win)
{
    const rw_rect bw = w->bwin;
    const size_t ox = (size_t)(r.x - bw.x), oy = (size_t)(r.y - bw.y);
    for (int k = 0; k <= job->nbefore; k++) {
        for (int b = 0; b < RW_BAND_COUNT; b++)
            if (win[k].band[b] != NULL && (job->band_mask & RW_BAND_BIT(b)))
                place_rows(win[k].band[b], win[k].band[b], sizeof(float), r.w, r.h, (size_t)bw.w, ox, oy);
        place_rows(win[k].qa, win[k].qa, 1, r.w, r.h, (size_t)bw.w, ox, oy);
    }
}

/* Reads every scene over tile t into the worker's buffers, laid out over
 * w->bwin: the tile itself, or with halo the tile grown by one pixel
 * within the grid (the shore and bank tests look at each pixel's
 * neighbours, whatever the tiling). The sampling pass saves each tile's
 * ring; the halo comes from the neighbours' rings. */
rw_status scan_worker_read(const scan_job *job, scan_worker *w, int t, bool halo, rw_error *err)
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
    scan_worker **w;
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

size_t scan_workers_bytes(const scan_workers *ws)
{
    size_t sum = 0;
    for (int i = 0; i < ws->n; i++)
        sum += ws->w[i]->bytes;
    return sum;
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
rw_status scan_tiles_run(const scan_job *job, scan_workers *ws, bool backward, scan_tile_fn work, void *ctx,
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
        scan_worker *w = ws->w[id];
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
