/* rw_scan_run: inputs -> normalisation samples -> tile stage -> merge ->
 * patches -> outputs, manifest last. */
#include "scan.h"
#include "detections_write.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef RW_DATA_DIR
#define RW_DATA_DIR "data"
#endif

struct rw_scan_result {
    size_t nreserves;
    char (*id)[64];
    char (*name)[256];
    int (*count)[RW_CATEGORY_COUNT];
};

void rw_scan_options_init(rw_scan_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->profile = "auto";
    opt->data_dir = RW_DATA_DIR;
    opt->tile = 512;
    opt->coregister = 1;
}

size_t rw_scan_result_reserves(const rw_scan_result *r) { return r->nreserves; }
const char *rw_scan_result_reserve_name(const rw_scan_result *r, size_t i) { return r->name[i]; }
const char *rw_scan_result_reserve_id(const rw_scan_result *r, size_t i) { return r->id[i]; }
int rw_scan_result_count(const rw_scan_result *r, size_t reserve, int category)
{
    return r->count[reserve][category];
}

void rw_scan_result_destroy(rw_scan_result *r)
{
    if (r == NULL)
        return;
    free(r->id);
    free(r->name);
    free(r->count);
    free(r);
}

static rw_status make_result(const scan_job *job, const rw_detection *d, size_t n, rw_scan_result **out,
                             rw_error *err)
{
    const size_t nres = rw_zones_reserve_count(job->zones);
    rw_scan_result *r = rw_calloc(1, sizeof(*r), err);
    if (r == NULL)
        return RW_ERR_NOMEM;
    r->nreserves = nres;
    r->id = rw_calloc(nres + 1, sizeof(*r->id), err);
    r->name = rw_calloc(nres + 1, sizeof(*r->name), err);
    r->count = rw_calloc(nres + 1, sizeof(*r->count), err);
    if (r->id == NULL || r->name == NULL || r->count == NULL) {
        rw_scan_result_destroy(r);
        return RW_ERR_NOMEM;
    }
    for (size_t i = 0; i < nres; i++) {
        const rw_reserve *res = rw_zones_reserve(job->zones, i);
        snprintf(r->id[i], sizeof(r->id[i]), "%s", res->id);
        snprintf(r->name[i], sizeof(r->name[i]), "%s", res->name);
        for (size_t k = 0; k < n; k++) {
            if (strcmp(d[k].reserve_id, res->id) != 0)
                continue;
            for (int c = 0; c < RW_CATEGORY_COUNT; c++)
                if (strcmp(d[k].category, rw_category_key(c)) == 0)
                    r->count[i][c]++;
        }
    }
    *out = r;
    return RW_OK;
}

/* Samples for normalisation: at most about a million pixels on a global
 * lattice over the reserves' extent, whatever the scene size (memory stays
 * bounded) and whatever the tiling (the stride must not depend on it). */
static int sample_stride(const scan_job *job)
{
    double env[4];
    rw_zones_extent(job->zones, env);
    const double px = fabs(job->after.info.gt[1] * job->after.info.gt[5]);
    const double scene = (double)job->after.info.width * job->after.info.height;
    const double pixels = fmin(scene, (env[2] - env[0]) * (env[3] - env[1]) / px);
    int stride = 4;
    while (pixels / ((double)stride * stride) > 1e6)
        stride++;
    return stride;
}

/* GDAL's block cache gets what the workers leave of a 896 MiB budget, at
 * most 512 MiB, at least 64 MiB: the detection pass runs each thread's
 * tiles backwards, starting with those whose blocks the sampling pass
 * left in the cache (5490^2 bench pair, 2 threads: 3.0 s with 256 MiB,
 * 2.6 s with 512 MiB), and peak memory stays under 1 GiB for any scene. */
static void set_block_cache(const scan_workers *ws)
{
    const double mib = 1024.0 * 1024.0;
    /* 1.75: label scratch, GDAL handles and tile results come on top */
    const double workers = 1.75 * (double)scan_workers_bytes(ws) / mib;
    GDALSetCacheMax64((GIntBig)fmax(64.0, fmin(512.0, 896.0 - workers)) * 1024 * 1024);
}

rw_status rw_scan_run(const rw_scan_options *opt, rw_progress_fn progress, void *progress_user,
                      rw_warning_fn warn, void *warn_user, rw_scan_result **out, rw_error *err)
{
    rw_status st = RW_OK;
    scan_job job;
    rw_label_tile_result **tiles = NULL;
    scan_workers *workers = NULL;
    GIntBig cache_before = 0;
    rw_label_patches *patches = NULL;
    rw_detection *det = NULL;
    size_t ndet = 0;
    char manifest[4096];
    memset(&job, 0, sizeof(job));
    job.opt = opt;
    job.warn = warn;
    job.warn_user = warn_user;
    job.threads = opt->threads > 0 ? opt->threads : omp_get_max_threads();
    const time_t started = time(NULL);
    RW_FAIL_IF(opt->out_dir == NULL || opt->after == NULL || opt->reserves == NULL, err, RW_ERR_USAGE,
               "--after, --before, --reserves and --out are required");
    RW_CHECK(rw_mkdir_p(opt->out_dir, 0700, err));
    /* an old manifest would vouch for outputs about to be replaced */
    RW_CHECK(rw_format(manifest, sizeof(manifest), err, "%s/manifest.json", opt->out_dir));
    remove(manifest);
    RW_CHECK(scan_inputs_open(&job, err));
    RW_CHECK(scan_halo_create(&job.tiling, job.band_mask, 1 + job.nbefore, &job.halo, err));
    /* the cache is process-wide: the caller's size comes back at the end */
    cache_before = GDALGetCacheMax64();
    RW_CHECK(scan_workers_create(&job, &workers, err));
    set_block_cache(workers);
    if (opt->coregister)
        RW_CHECK(scan_coregister(&job, workers, err));
    RW_CHECK(scan_tiles_sample(&job, workers, sample_stride(&job), progress, progress_user, err));
    const int ntiles = rw_tiling_count(&job.tiling);
    tiles = rw_calloc((size_t)ntiles, sizeof(*tiles), err);
    RW_FAIL_IF(tiles == NULL, err, RW_ERR_NOMEM, "out of memory for the tile plan");
    RW_CHECK(scan_tiles_label(&job, workers, tiles, progress, progress_user, err));
    scan_workers_destroy(workers);
    workers = NULL;
    RW_CHECK(rw_label_merge(&job.tiling, (const rw_label_tile_result *const *)tiles, &patches, err));
    for (int t = 0; t < ntiles; t++) {
        rw_label_tile_destroy(tiles[t]);
        tiles[t] = NULL;
    }
    RW_CHECK(scan_patches_build(&job, patches, &det, &ndet, progress, progress_user, err));
    RW_CHECK(rw_io_write_detections(opt->out_dir, job.after.info.wkt, det, ndet, err));
    RW_CHECK(scan_manifest_write(&job, det, ndet, started, manifest, err));
    if (out != NULL)
        RW_CHECK(make_result(&job, det, ndet, out, err));
    if (progress != NULL)
        progress(1.0, "done", progress_user);
done:
    if (tiles != NULL)
        for (int t = 0; t < rw_tiling_count(&job.tiling); t++)
            rw_label_tile_destroy(tiles[t]);
    free(tiles);
    rw_label_patches_destroy(patches);
    scan_detections_free(det, ndet);
    scan_workers_destroy(workers);
    if (cache_before > 0)
        GDALSetCacheMax64(cache_before);
    scan_halo_destroy(job.halo);
    scan_inputs_close(&job);
    return st;
}
