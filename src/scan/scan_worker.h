/* Internal to the tile passes (scan_worker.c, scan_sample.c,
 * scan_detect.c): one worker per thread, with its own GDAL handles (GDAL
 * 3.6 datasets are not thread-safe) and tile buffers, reads windows of
 * the planned tiles; tiles are independent and results are kept per tile
 * index, so output never depends on threads. */
#ifndef RW_SCAN_WORKER_H
#define RW_SCAN_WORKER_H

#include "scan.h"

#include <gdal.h>

typedef struct scene_handles {
    GDALDatasetH refl, mask;
    bool u16; /* the bands (and mask) read as UInt16 */
} scene_handles;

typedef struct scan_worker {
    scene_handles after, before[SCAN_MAX_BEFORE];
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
    size_t bytes; /* held in the buffers above */
    rw_error err;
} scan_worker;

static inline bool scan_qa_clear(uint8_t q)
{
    return (q & (RW_QA_NODATA | RW_QA_CLOUD | RW_QA_SHADOW | RW_QA_SNOW)) == 0;
}

/* Reads every scene over tile t into w's buffers, laid out over w->bwin:
 * the tile itself (the sampling pass, which saves the tile's ring), or
 * with halo the tile grown by one pixel within the grid, the halo from
 * the neighbours' saved rings. */
rw_status scan_worker_read(const scan_job *job, scan_worker *w, int t, bool halo, rw_error *err);

typedef rw_status (*scan_tile_fn)(const scan_job *job, scan_worker *w, int tile, void *ctx, rw_error *err);

/* Runs work() on every planned tile: thread i with worker i on the i-th
 * of as many contiguous runs of the planned tiles as there are threads,
 * backwards when asked; progress from start to start + span. */
rw_status scan_tiles_run(const scan_job *job, scan_workers *ws, bool backward, scan_tile_fn work, void *ctx,
                         rw_progress_fn progress, void *user, double start, double span, const char *what,
                         rw_error *err);

#endif
