/* Connected-component labelling of a tiled raster.
 *
 * Workers label tiles independently (rw_label_tile_create, one
 * rw_label_scratch per thread, any tile order); one serial rw_label_merge
 * then joins the tile results into global patches. Patch ids, statistics
 * and runs are identical for every tile size and processing order.
 *
 * Two pixels connect (8-connectivity) when both keys are nonzero and equal.
 * Coordinates in statistics and runs are global grid pixels (column x,
 * row y). Depends on libc and src/core only. */
#ifndef RW_LABEL_H
#define RW_LABEL_H

#include "core.h"

#include <stddef.h>
#include <stdint.h>

#define RW_LABEL_MAX_CLASS 8 /* change classes 1..7; 0 unused */
#define RW_LABEL_MAX_ZONE 4  /* 0 none, 1 experimental, 2 buffer, 3 core */
#define RW_LABEL_MAX_FLAG 8  /* context bits of the flag byte */

/* Scores are summed in fixed point, so a patch's sum does not depend on the
 * order tiles add up in: each pixel adds round(score * RW_LABEL_SCORE_ONE),
 * score clamped to [0,1] (NaN counts as 0). 2^24 keeps a float score's
 * resolution near 1 and leaves room for 2^40 pixels in a uint64. */
#define RW_LABEL_SCORE_ONE 16777216.0

/* Statistics of one label (tile) or patch (merged). */
typedef struct rw_label_stats {
    uint64_t count; /* pixels */
    uint16_t key;   /* connectivity key shared by every pixel */
    uint64_t zone_count[RW_LABEL_MAX_ZONE];
    uint64_t class_count[RW_LABEL_MAX_CLASS];
    uint64_t flag_count[RW_LABEL_MAX_FLAG]; /* pixels with bit b set */
    uint64_t score_fixed; /* sum of per-pixel fixed-point scores */
    double score_sum;     /* score_fixed / RW_LABEL_SCORE_ONE */
    int64_t min_x, min_y, max_x, max_y; /* inclusive bounding box */
    int64_t first_y, first_x; /* first pixel in raster order */
} rw_label_stats;

/* A horizontal run of pixels of one label, global coordinates. */
/* Adds s into d: counts summed, boxes joined, the earlier first pixel
 * kept; an empty d (count 0) becomes a copy of s. */
void rw_label_stats_add(rw_label_stats *d, const rw_label_stats *s);

typedef struct rw_label_run {
    int32_t y;
    int32_t x0;
    int32_t len;    /* pixels, >= 1 */
    uint32_t label; /* tile: local label; patches: patch index + 1 */
} rw_label_run;

/* One tile's pixels: row-major buffers of win.w x win.h (stride win.w),
 * all non-NULL. Where key is nonzero, cls must be < RW_LABEL_MAX_CLASS
 * and zone < RW_LABEL_MAX_ZONE; where key is 0, only key is read. */
typedef struct rw_label_input {
    rw_rect win; /* the tile, in global grid pixels */
    const uint16_t *key; /* 0: not a candidate; else connectivity key */
    const uint8_t *cls;
    const uint8_t *zone;
    const float *score; /* in [0,1] */
    const uint8_t *flag;
} rw_label_input;

/* Union-find and run arrays for tiles of up to max_w x max_h pixels
 * (about 20 bytes a pixel). One per thread; reused across tiles. */
typedef struct rw_label_scratch rw_label_scratch;

rw_status rw_label_scratch_create(int max_w, int max_h,
                                  rw_label_scratch **out, rw_error *err);
void rw_label_scratch_destroy(rw_label_scratch *scratch);

/* The labels of one tile. Written once by rw_label_tile_create, read-only
 * afterwards (the merge reads it from another thread after the workers
 * are joined). Size is proportional to labels + runs + perimeter. */
typedef struct rw_label_tile_result {
    rw_rect win;
    size_t count;          /* local labels 1..count, in first-pixel order */
    rw_label_stats *stats; /* stats[l - 1] for label l */
    size_t run_count;
    rw_label_run *runs; /* every candidate pixel, sorted by (y, x0), split
                           where the key changes */
    /* Local label of each edge pixel (0: none), for the merge: top and
     * bottom rows are win.w long, left and right columns win.h long. */
    uint32_t *top, *bottom, *left, *right;
} rw_label_tile_result;

/* Labels in->win, which must hold at most the scratch's max_w * max_h
 * pixels. Threads may call it at once, each with its own scratch. Fails
 * with RW_ERR_NOMEM, or RW_ERR_INTERNAL for an empty or oversized window,
 * a NULL buffer, or a class or zone out of range. *out is NULL on
 * failure. */
rw_status rw_label_tile_create(rw_label_scratch *scratch,
                               const rw_label_input *in,
                               rw_label_tile_result **out, rw_error *err);
void rw_label_tile_destroy(rw_label_tile_result *tile);

/* Global patches: opaque, read through the accessors below. */
typedef struct rw_label_patches rw_label_patches;

/* Joins tiles[0 .. rw_tiling_count(tiling)) (tile index order; NULL for a
 * tile without candidates, e.g. one skipped because it touches no
 * reserve). Labels that touch across a tile edge or corner with the same
 * key become one patch. Patches are sorted by first pixel (first_y,
 * first_x). Borrows tiles; fails with RW_ERR_NOMEM, or RW_ERR_INTERNAL
 * when a tile's window or labels do not match the tiling. */
rw_status rw_label_merge(const rw_tiling *tiling,
                         const rw_label_tile_result *const *tiles,
                         rw_label_patches **out, rw_error *err);
void rw_label_patches_destroy(rw_label_patches *patches);

size_t rw_label_patches_count(const rw_label_patches *patches);
/* count entries; patch i has id i + 1. */
const rw_label_stats *rw_label_patches_stats(const rw_label_patches *patches);
/* Runs of patch i, sorted by (y, x0) and maximal: runs of one patch that
 * meet on a row (across tile edges too) are joined, so the list does not
 * depend on the tiling. Each run's label is i + 1. */
const rw_label_run *rw_label_patches_runs(const rw_label_patches *patches,
                                          size_t i, size_t *n);

#endif
