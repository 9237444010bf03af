/* Internal: the scan pipeline. scan_run.c orchestrates; scan_inputs.c
 * opens and checks inputs; scan_worker.c, scan_sample.c and scan_detect.c
 * are the per-tile work (scan_halo.c their tile rings); scan_patch.c
 * turns merged patches into detections; scan_category.c holds the
 * category table; scan_output.c writes outputs and the manifest. */
#ifndef RW_SCAN_H
#define RW_SCAN_H

#include "change.h"
#include "detection.h"
#include "label.h"
#include "profiles.h"
#include "raster.h"
#include "zones.h"

#include <ogr_api.h>
#include <time.h>

#define SCAN_MAX_BEFORE 12

/* Context bits of the label flag byte. */
enum {
    SCAN_FLAG_WATER = 1,     /* on or beside water on every clear earlier date */
    SCAN_FLAG_RIVER = 2,     /* inside a river corridor (--rivers) */
    SCAN_FLAG_BLUEROOF = 4,  /* blue colour-steel roof cue on the later date */
    SCAN_FLAG_FRINGE = 8,    /* a change beside ground that already was what the
                              * pixel is now (scan_detect.c) */
    SCAN_FLAG_BANK = 16,     /* water gone, beside land on every date */
    SCAN_FLAG_CHANNEL = 32,  /* water gone, beside water that stayed water */
};

/* How many of a patch's pixels carry flag (one SCAN_FLAG_ bit): the label
 * statistics count each bit of the flag byte apart. */
static inline uint64_t scan_flag_pixels(const rw_label_stats *s, unsigned flag)
{
    return s->flag_count[__builtin_ctz(flag)];
}

/* One scene as the workers read it. Read-only during the tile stage. */
typedef struct scan_scene {
    rw_raster_info info;
    rw_profile_match match;
    char refl_path[4096]; /* file or warped VRT on the analysis grid */
    char mask_path[4096]; /* same for the mask band; "" when none */
    int refl_band[RW_BAND_COUNT]; /* 1-based band in refl_path per role, 0 absent */
    int mask_band;                /* 1-based band in mask_path, 0 none */
    double scale[RW_BAND_COUNT], offset[RW_BAND_COUNT], nodata[RW_BAND_COUNT];
    int has_nodata[RW_BAND_COUNT];
    rw_change_fit fit[RW_BAND_COUNT]; /* earlier dates: normalisation to the later */
    double shift_px[2];  /* earlier dates: co-registration found, analysis pixels */
    double shift_m[2];   /* the same applied to the source georeferencing, map units */
    int offset_px[2];    /* on the analysis grid already: window (x, y) is read at
                          * (x + dx, y + dy) of the file, the shift to the nearest pixel */
    const char *coreg;   /* earlier dates: what co-registration did ("applied", or
                          * why not); NULL when it did not run */
    double residual_px;  /* earlier dates: misregistration left after it, pixels
                          * (1 when unknown, 0 when it did not run) */
} scan_scene;

/* scan_halo.c: the outer ring of each planned tile, saved by the sampling
 * pass, is the halo of its neighbours in the detection pass. */
typedef struct scan_halo scan_halo;
/* One scene's planes over a window: reflectance per role (NULL for roles
 * not read) and RW_QA_* flags. */
typedef struct scan_window {
    float *band[RW_BAND_COUNT];
    uint8_t *qa;
} scan_window;
rw_status scan_halo_create(const rw_tiling *tiling, unsigned band_mask, int nscenes, scan_halo **out,
                           rw_error *err);
void scan_halo_destroy(scan_halo *h);
/* Saves the outer ring of tile t from scenes[0 .. nscenes), laid out as
 * the tile (rw_tiling_rect) itself. */
rw_status scan_halo_save(scan_halo *h, int t, const scan_window *scenes, rw_error *err);
/* Fills the halo of tile t into scenes laid out over bwin (the tile grown
 * by one pixel within the grid) from the rings of its planned neighbours.
 * A neighbour that was not planned borders no reserve pixel (plan_tiles
 * keeps a pixel of margin): its halo pixels are set to no data. */
rw_status scan_halo_load(const scan_halo *h, int t, const uint8_t *planned, rw_rect bwin,
                         const scan_window *scenes, rw_error *err);

/* Everything the tile and patch stages share; written by the main thread
 * before the parallel regions, read-only inside them. */
typedef struct scan_job {
    const rw_scan_options *opt;
    scan_scene after;
    scan_scene before[SCAN_MAX_BEFORE];
    int nbefore;
    unsigned band_mask; /* roles present in every scene */
    rw_zones *zones;
    rw_change_rules *rules;
    OGRGeometryH *rivers; size_t nrivers;   /* corridor polygons, analysis CRS */
    OGRGeometryH *permits; size_t npermits; /* analysis CRS */
    OGRGeometryH *known; size_t nknown;
    double mmu_m2[RW_CATEGORY_COUNT];
    int mmu_pixels;
    rw_tiling tiling;
    uint8_t *planned; /* per tile: 1 when it touches a reserve */
    scan_halo *halo;  /* tile rings, written by pass 1, read by pass 2 */
    int threads;
    rw_warning_fn warn; void *warn_user;
} scan_job;

/* scan_inputs.c */
rw_status scan_inputs_open(scan_job *job, rw_error *err);
/* Puts scene s (index k of the earlier ones) on the analysis grid: the
 * file itself when it already is and needs no shift, a warped VRT
 * otherwise (bilinear reflectance, nearest for the mask). */
rw_status scan_scene_place(scan_job *job, scan_scene *s, int index, rw_error *err);

void scan_inputs_close(scan_job *job);

/* scan_worker.c, scan_sample.c, scan_detect.c: the two passes over
 * planned tiles, run by one worker per
 * thread (GDAL handles and tile buffers) that lives through both, so
 * that blocks the first pass decoded last are still in GDAL's cache for
 * the second pass, which runs each thread's tiles backwards. */
typedef struct scan_workers scan_workers;
/* The bytes the workers' tile buffers hold. */
size_t scan_workers_bytes(const scan_workers *ws);
rw_status scan_workers_create(const scan_job *job, scan_workers **out, rw_error *err);
void scan_workers_destroy(scan_workers *ws);
/* Worker i's reflectance handle on scene k (0 the later, 1.. the earlier
 * ones), and the number of workers. */
GDALDatasetH scan_workers_refl(const scan_workers *ws, int i, int k);
int scan_workers_count(const scan_workers *ws);
/* Reopens every worker's handles on scene k after scan_scene_place. */
rw_status scan_workers_reopen(const scan_job *job, scan_workers *ws, int k, rw_error *err);
/* Which of nt threads reads planned tile t in both passes (-1: t is not
 * planned). */
int scan_tiles_owner(const scan_job *job, int nt, int t);
rw_status scan_tiles_sample(scan_job *job, scan_workers *ws, int stride, rw_progress_fn progress, void *user,
                            rw_error *err);
rw_status scan_tiles_label(const scan_job *job, scan_workers *ws, rw_label_tile_result **results,
                           rw_progress_fn progress, void *user, rw_error *err);

/* scan_coreg.c (--coregister): estimates each earlier scene's offset from
 * the later one (normalised cross-correlation of the NIR band over fixed
 * windows in the reserves, sub-pixel by a parabola) and re-places a scene
 * that is off by 0.1 pixel or more. Independent of tiles and threads.
 * Windows are read with the workers' handles, each by the thread that
 * reads its tile later, so the blocks it decodes stay in GDAL's cache
 * for the sampling pass. */
rw_status scan_coregister(scan_job *job, scan_workers *ws, rw_error *err);

/* scan_category.c */
typedef struct scan_category_in {
    const rw_label_stats *stats;
    double area_m2;
    bool river_context; /* rivers given: corridor; else permanent water */
} scan_category_in;
int scan_category_decide(const scan_category_in *in, int *dominant_class, const char **basis);

/* Whether a patch lies in river context: in the --rivers corridor for at
 * least a fifth of its pixels, or (without --rivers) on permanent water. */
bool scan_river_context(const scan_job *job, const rw_label_stats *s);

/* scan_group.c: group[i] receives the smallest index of the impoundment
 * patch i belongs to (itself when alone) and next[i] the group's next
 * member in index order (SCAN_GROUP_END after the last); both hold n
 * entries. */
#define SCAN_GROUP_END SIZE_MAX
rw_status scan_group_patches(const scan_job *job, const rw_label_patches *patches, size_t *group, size_t *next,
                             rw_error *err);
/* The statistics of the whole group of root: counts summed, boxes joined,
 * the root's first pixel. */
void scan_group_stats(const rw_label_stats *s, const size_t *next, size_t root, rw_label_stats *out);

/* scan_patch.c */
rw_status scan_patches_build(const scan_job *job, const rw_label_patches *patches, rw_detection **out,
                             size_t *count, rw_progress_fn progress, void *user, rw_error *err);
void scan_detections_free(rw_detection *d, size_t n);

/* scan_output.c */
rw_status scan_manifest_write(const scan_job *job, const rw_detection *d, size_t n, time_t started,
                              const char *path, rw_error *err);

#endif
