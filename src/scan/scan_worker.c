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

/* The bands read from a scene's reflectance file, and its mask band when
 * the same file holds it; returns their number. */
static int scene_bands(const scan_job *job, const scan_scene *s, const scene_handles *h, int *bands)
{
    int n = 0;
    for (int b = 0; b < RW_BAND_COUNT; b++)
        if (job->band_mask & RW_BAND_BIT(b))
            bands[n++] = s->refl_band[b];
    if (s->mask_band > 0 && s->match.profile->mask != RW_MASK_NONE && h->mask == h->refl)
        bands[n++] = s->mask_band;
    return n;
}

static rw_status handles_open(const scan_job *job, const scan_scene *s, scene_handles *h, rw_error *err)
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
    int bands[RW_BAND_COUNT + 1];
    h->u16 = rw_raster_fits_u16(h->refl, bands, scene_bands(job, s, h, bands));
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
    if (handles_open(job, &job->after, &w->after, err) != RW_OK) {
        worker_destroy(w);
        return NULL;
    }
    for (int k = 0; k < job->nbefore; k++) {
        if (handles_open(job, &job->before[k], &w->before[k], err) != RW_OK) {
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
 * rw_raster_read_planes, values of type), at the scene's whole-pixel
 * co-registration offset. *in is the part of r the file covers, relative
 * to r; the rest is 0 (UInt16) or NAN. */
static rw_status read_planes_at(const scan_scene *s, GDALDatasetH ds, rw_rect r, const int *bands, int n,
                                GDALDataType type, void *planes, rw_rect *in, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect src = {r.x + s->offset_px[0], r.y + s->offset_px[1], r.w, r.h};
    const rw_rect got = rw_rect_intersect(src, (rw_rect){0, 0, s->info.width, s->info.height});
    *in = (rw_rect){got.x - src.x, got.y - src.y, got.w, got.h};
    if (got.w == r.w && got.h == r.h)
        return rw_raster_read_planes(ds, s->info.path, got, bands, n, type, planes, err);
    if (!rw_rect_is_empty(got))
        RW_CHECK(rw_raster_read_planes(ds, s->info.path, got, bands, n, type, planes, err));
    /* spread each plane from got's layout to r's, last plane first: values
     * only move forward */
    const size_t elem = (size_t)GDALGetDataTypeSizeBytes(type);
    const size_t npx = (size_t)r.w * (size_t)r.h, nin = rw_rect_is_empty(got) ? 0 : (size_t)got.w * (size_t)got.h;
    for (int p = n - 1; p >= 0; p--) {
        char *dst = (char *)planes + (size_t)p * npx * elem;
        if (nin > 0)
            place_rows(dst, (char *)planes + (size_t)p * nin * elem, elem, in->w, in->h, (size_t)r.w, (size_t)in->x,
                       (size_t)in->y);
        for (size_t i = 0; i < npx; i++) {
            const int x = (int)(i % (size_t)r.w), y = (int)(i / (size_t)r.w);
            if (x < in->x || y < in->y || x >= in->x + in->w || y >= in->y + in->h) {
                if (type == GDT_UInt16)
                    ((uint16_t *)dst)[i] = 0;
                else
                    ((float *)dst)[i] = NAN;
            }
        }
    }
done:
    return st;
}

/* Where pixel (x, y) of a window read lands in the worker's buffers:
 * index (y + oy) * stride + x + ox (the tile inside its halo). */
typedef struct window_layout {
    size_t stride, ox, oy;
} window_layout;

/* Converts row y of plane k (window r wide) to reflectance at its place. */
static void convert_row(const scan_scene *s, bool u16, const float *planes, size_t npx, int k, int b, rw_rect r,
                        int y, float *dst)
{
    const size_t at = (size_t)y * (size_t)r.w + (size_t)k * npx;
    if (u16)
        rw_raster_u16_to_reflectance((const uint16_t *)planes + at, (size_t)r.w, s->scale[b], s->offset[b],
                                     s->has_nodata[b], s->nodata[b], dst);
    else
        rw_raster_to_reflectance(planes + at, (size_t)r.w, s->scale[b], s->offset[b], s->has_nodata[b],
                                 s->nodata[b], dst);
}

/* Reads one scene's window r: reflectance per role and quality flags,
 * written at their place in out and q (lay). The bands, and the mask band
 * when it is in the same file, come in one dataset read into planes
 * ((RW_BAND_COUNT + 1) planes of the window). */
static rw_status read_scene(const scan_job *job, const scan_scene *s, const scene_handles *h, rw_rect r,
                            window_layout lay, float *const *out, uint8_t *q, uint16_t *u16, float *planes,
                            rw_error *err)
{
    rw_status st = RW_OK;
    int bands[RW_BAND_COUNT + 1];
    const int nread = scene_bands(job, s, h, bands);
    const size_t npx = (size_t)r.w * (size_t)r.h;
    const bool masked = s->mask_band > 0 && s->match.profile->mask != RW_MASK_NONE;
    const bool mask_here = masked && h->mask == h->refl;
    const int n = nread - mask_here;
    rw_rect in;
    RW_CHECK(read_planes_at(s, h->refl, r, bands, nread, h->u16 ? GDT_UInt16 : GDT_Float32, planes, &in, err));
    if (masked && !mask_here) /* a mask VRT of a warped scene: on the grid, never offset */
        RW_CHECK(rw_raster_read_u16(h->mask, s->info.path, r, s->mask_band, u16, err));
    const bool whole = in.w == r.w && in.h == r.h;
    for (int y = 0; y < r.h; y++) {
        const size_t row = (y + lay.oy) * lay.stride + lay.ox;
        const bool row_in = y >= in.y && y < in.y + in.h;
        for (int k = 0, b = 0; b < RW_BAND_COUNT; b++) {
            if (!(job->band_mask & RW_BAND_BIT(b)))
                continue;
            float *dst = out[b] + row;
            convert_row(s, h->u16, planes, npx, k++, b, r, y, dst);
            for (int x = 0; x < r.w && !whole; x++) /* beyond the file: no data */
                if (!row_in || x < in.x || x >= in.x + in.w)
                    dst[x] = NAN;
        }
        uint8_t *qr = q + row;
        const size_t at = (size_t)y * (size_t)r.w;
        if (mask_here && h->u16) {
            rw_profiles_decode_mask_array(s->match.profile, (const uint16_t *)planes + (size_t)n * npx + at,
                                          (size_t)r.w, qr);
        } else if (mask_here) {
            const float *m = planes + (size_t)n * npx + at;
            for (int x = 0; x < r.w; x++)
                u16[at + (size_t)x] = isnan(m[x]) ? 0 : (uint16_t)m[x];
            rw_profiles_decode_mask_array(s->match.profile, u16 + at, (size_t)r.w, qr);
        } else if (masked) {
            rw_profiles_decode_mask_array(s->match.profile, u16 + at, (size_t)r.w, qr);
        } else {
            for (int x = 0; x < r.w; x++) {
                float px[RW_BAND_COUNT];
                for (int b = 0; b < RW_BAND_COUNT; b++)
                    px[b] = (job->band_mask & RW_BAND_BIT(b)) ? out[b][row + (size_t)x] : NAN;
                qr[x] = rw_profiles_spectral_mask(px);
            }
        }
        /* nodata in any band used makes the pixel nodata */
        for (int b = 0; b < RW_BAND_COUNT; b++) {
            if (!(job->band_mask & RW_BAND_BIT(b)))
                continue;
            const float *v = out[b] + row;
#pragma omp simd
            for (int x = 0; x < r.w; x++)
                qr[x] |= isnan(v[x]) ? RW_QA_NODATA : 0;
        }
    }
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

static rw_status read_scene_k(const scan_job *job, scan_worker *w, int k, rw_rect r, window_layout lay,
                              const scan_window *dst, rw_error *err)
{
    const scan_scene *s = k == 0 ? &job->after : &job->before[k - 1];
    const scene_handles *h = k == 0 ? &w->after : &w->before[k - 1];
    return read_scene(job, s, h, r, lay, dst->band, dst->qa, w->u16, w->planes, err);
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
    const window_layout lay = {(size_t)w->bwin.w, (size_t)(r.x - w->bwin.x), (size_t)(r.y - w->bwin.y)};
    for (int k = 0; k <= job->nbefore; k++)
        RW_CHECK(read_scene_k(job, w, k, r, lay, &win[k], err));
    if (!halo) {
        RW_CHECK(scan_halo_save(job->halo, t, win, err));
        goto done;
    }
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

GDALDatasetH scan_workers_refl(const scan_workers *ws, int i, int k)
{
    return k == 0 ? ws->w[i]->after.refl : ws->w[i]->before[k - 1].refl;
}

int scan_workers_count(const scan_workers *ws) { return ws->n; }

rw_status scan_workers_reopen(const scan_job *job, scan_workers *ws, int k, rw_error *err)
{
    for (int i = 0; i < ws->n; i++) {
        scene_handles *h = k == 0 ? &ws->w[i]->after : &ws->w[i]->before[k - 1];
        handles_close(h);
        const rw_status st = handles_open(job, k == 0 ? &job->after : &job->before[k - 1], h, err);
        if (st != RW_OK)
            return st;
    }
    return RW_OK;
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

/* Thread id's run of nplan planned tiles among nt: [lo, hi). */
static void run_bounds(int nplan, int id, int nt, int *lo, int *hi)
{
    *lo = (int)((long long)nplan * id / nt);
    *hi = (int)((long long)nplan * (id + 1) / nt);
}

int scan_tiles_owner(const scan_job *job, int nt, int t)
{
    if (!job->planned[t])
        return -1;
    int nplan = 0, j = -1;
    for (int u = 0; u < rw_tiling_count(&job->tiling); u++) {
        if (u == t)
            j = nplan;
        nplan += job->planned[u] != 0;
    }
    for (int id = 0; id < nt; id++) {
        int lo, hi;
        run_bounds(nplan, id, nt, &lo, &hi);
        if (j >= lo && j < hi)
            return id;
    }
    return -1;
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
        int lo, hi;
        run_bounds(nplan, id, nt, &lo, &hi);
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
