/* reservewatch: find new human disturbances inside nature reserves from
 * successive satellite scenes and turn them into field check lists.
 *
 * The one public header. The library never prints and never exits: every
 * entry point returns an rw_status and fills a caller-owned rw_error.
 * Handles are opaque; each *_create has a *_destroy that accepts NULL.
 * A handle is used by one thread at a time unless its comment says
 * otherwise; the library makes its own per-thread GDAL/GEOS/PROJ contexts. */
#ifndef RESERVEWATCH_H
#define RESERVEWATCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RW_VERSION_STRING "0.1.0"

/* Status codes. Values are pinned: tests and scripts compare them. */
typedef enum rw_status {
    RW_OK = 0,
    RW_ERR_USAGE = 1,    /* a bad option or parameter value */
    RW_ERR_IO = 2,       /* a file cannot be opened, read or written */
    RW_ERR_FORMAT = 3,   /* a file opens but its content is not usable */
    RW_ERR_NOMEM = 4,    /* an allocation failed */
    RW_ERR_INPUT = 5,    /* inputs are readable but inconsistent (no overlap...) */
    RW_ERR_INTERNAL = 6, /* a bug: an invariant did not hold */
    RW_ERR_CANCELLED = 7 /* stopped by the progress callback */
} rw_status;

/* Caller-owned error record: the first failure is kept, later ones ignored. */
typedef struct rw_error {
    rw_status status;
    char message[1024];
    const char *file; /* source file that raised it (static string) */
    int line;
} rw_error;

/* Resets an error record to RW_OK. */
void rw_error_clear(rw_error *err);

/* Short English name of a status ("io", "format", ...). Never NULL. */
const char *rw_status_name(rw_status status);

/* Progress: fraction in [0,1]; return 0 to cancel. user is passed through. */
typedef int (*rw_progress_fn)(double fraction, const char *message, void *user);

/* Library and dependency versions as one line each, e.g. "GDAL 3.6.2". */
const char *rw_version(void);
void rw_version_dependencies(char *buf, size_t size);

/* Registers GDAL drivers and sets process-wide GDAL options. Call once from
 * the main thread before any other call; rw_global_cleanup at exit. */
void rw_global_init(void);
void rw_global_cleanup(void);

/* ---- synth: deterministic demo/test/benchmark data ------------------- */

typedef enum rw_synth_profile {
    RW_SYNTH_SENTINEL2 = 0,
    RW_SYNTH_GF2 = 1,
    RW_SYNTH_LANDSAT = 2
} rw_synth_profile;

typedef struct rw_synth_options {
    const char *out_dir;      /* created if missing */
    int size;                 /* pixels per side of the first scene */
    rw_synth_profile profile;
    uint64_t seed;
    int dates;                /* >= 2 */
    int later_epsg;           /* 0: same CRS as the first date */
    double later_pixel;       /* 0: same pixel size as the first date (metres) */
    double pixel;             /* 0: profile default (metres) */
    int threads;              /* 0: OpenMP default */
} rw_synth_options;

/* Fills defaults: size 2048, sentinel2, seed 1, 2 dates. */
void rw_synth_options_init(rw_synth_options *opt);

/* Writes the scenes, vectors and truth described in README into out_dir. */
rw_status rw_synth_run(const rw_synth_options *opt, rw_progress_fn progress,
                       void *progress_user, rw_error *err);

/* ---- scan: change detection from scenes and zones to field points ----- */

typedef struct rw_scan_options {
    const char *const *before; /* earlier scenes, any order; >= 1 */
    int nbefore;
    const char *after;         /* the later scene: its grid is the analysis grid */
    const char *reserves;      /* zones vector */
    const char *out_dir;
    const char *profile;       /* "auto" (default), sentinel2, landsat, gf2, generic */
    const char *bands;         /* "blue=1,green=2,..." or NULL */
    const char *reserve_id_field, *name_field, *zone_field; /* NULL: defaults */
    const char *rivers, *permits, *known; /* optional vectors */
    const char *mmu;           /* "mining=500,tourism=200" overrides, or NULL */
    const char *data_dir;      /* rule tables; NULL: built-in default */
    int threads;               /* 0: OpenMP default */
    int tile;                  /* tile side in pixels; 0: 512 */
    int coregister;            /* 1 (default): measure each earlier scene's offset
                                * from the later one and shift it back (README) */
} rw_scan_options;

void rw_scan_options_init(rw_scan_options *opt);

/* Warnings (repaired geometries, skipped inputs): one line each. */
typedef void (*rw_warning_fn)(const char *message, void *user);

/* Counts per reserve and category, for the summary table. */
typedef struct rw_scan_result rw_scan_result;

#define RW_CATEGORY_COUNT 5
/* Category keys in report order: mining industrial tourism hydropower other. */
const char *rw_category_key(int category);
const char *rw_category_label(int category); /* Chinese */

size_t rw_scan_result_reserves(const rw_scan_result *r);
const char *rw_scan_result_reserve_name(const rw_scan_result *r, size_t i);
const char *rw_scan_result_reserve_id(const rw_scan_result *r, size_t i);
int rw_scan_result_count(const rw_scan_result *r, size_t reserve, int category);
void rw_scan_result_destroy(rw_scan_result *r);

/* Runs the scan and writes detections.gpkg, points.csv and manifest.json
 * (last) into out_dir. On failure nothing in out_dir looks complete. */
rw_status rw_scan_run(const rw_scan_options *opt, rw_progress_fn progress, void *progress_user,
                      rw_warning_fn warn, void *warn_user, rw_scan_result **out, rw_error *err);


/* ---- checklist: per-reserve field check lists ------------------------- */

typedef struct rw_checklist_options {
    const char *detections;    /* a scan's detections.gpkg */
    const char *out_dir;       /* created (0700) if missing */
    const char *const *reserves; /* ids or names to keep; NULL/0: all */
    int nreserves;
    const char *categories;    /* "mining,industrial,..."; NULL: the four priority ones */
    const char *statuses;      /* "new,expanded,known,permitted"; NULL: new,expanded */
    const char *before, *after;/* scenes for chips; NULL: from the scan's manifest.json */
    double chip_m;             /* minimum chip ground size in metres; 0: 300 */
    int threads;               /* 0: OpenMP default */
} rw_checklist_options;

void rw_checklist_options_init(rw_checklist_options *opt);

/* What a run wrote, for the CLI to print. */
typedef struct rw_checklist_summary {
    size_t reserves, points, cities;
    char example_report[4096]; /* one report.html, or "" when none */
    char example_xlsx[4096];   /* one 核查清单.xlsx, or "" */
} rw_checklist_summary;

/* Writes, per reserve, OUT/<reserve_id>_<name>/ with 核查清单.xlsx,
 * points.csv, points.kml, points.gpx, points_ovital.txt, chips/ and
 * report.html; per city OUT/<city>_问题清单.xlsx; and OUT/manifest.json
 * last. Files are 0600, folders 0700. */
rw_status rw_checklist_run(const rw_checklist_options *opt, rw_progress_fn progress,
                           void *progress_user, rw_checklist_summary *summary,
                           rw_error *err);

#ifdef __cplusplus
}
#endif
#endif
