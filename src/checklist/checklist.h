/* Per-reserve field check lists: the model that the reader fills and every
 * writer (chips, XLSX forms, GPS files, HTML report) reads. Writers never
 * change the model and never print; each writes one kind of file
 * atomically (core/atomic.h) with mode 0600. */
#ifndef RW_CHECKLIST_H
#define RW_CHECKLIST_H

#include "core.h"
#include "detection.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One point of a check list: a detection read back from detections.gpkg. */
typedef struct rw_check_item {
    rw_detection det;        /* det.id is the 点位编号 (stable across runs);
                              * det.wkb the patch polygon in the analysis
                              * CRS (owned by the list) */
    int seq;                 /* 序号: 1-based rank in its reserve's list */
    const char *category_label; /* 问题类型, Chinese (static string) */
    const char *change_label;   /* 变化类型, Chinese (static string) */
    const char *zone_key;       /* "core" "buffer" "experimental" */
} rw_check_item;

/* One reserve's list: items sorted by priority (core zone first, then
 * buffer, experimental; then category in report order mining, industrial,
 * tourism, hydropower, other; then larger area first; then id). */
typedef struct rw_check_reserve {
    char reserve_id[64];
    char name[256];   /* Chinese, as in the data */
    char city[64];    /* 设区市 */
    char county[64];
    char dir_name[400]; /* "<reserve_id>_<safe name>": the folder under OUT */
    rw_check_item *items;
    size_t n;
} rw_check_reserve;

/* The chips of a point, in file-name order. */
typedef enum rw_chip_kind {
    RW_CHIP_BEFORE = 0,     /* true colour, earlier scene */
    RW_CHIP_AFTER = 1,      /* true colour, later scene */
    RW_CHIP_BEFORE_NRG = 2, /* false colour NIR-red-green, earlier */
    RW_CHIP_AFTER_NRG = 3,  /* false colour, later */
    RW_CHIP_KIND_COUNT = 4
} rw_chip_kind;

/* The whole check list of one run. */
typedef struct rw_checklist {
    rw_check_reserve *reserves; /* sorted by reserve_id */
    size_t nreserves;
    char *analysis_wkt;         /* CRS of det.wkb and det.x/det.y */
    char *after_scene;          /* scene paths, from the manifest or options */
    char **before_scenes;       /* the first is the one chips show */
    int nbefore;
    double before_shift_px[2];  /* the scan's co-registration offset of
                                 * before_scenes[0], analysis pixels (0: none) */
    char *scene_bands[2];       /* band roles of before_scenes[0] and the
                                 * after scene as the scan used them,
                                 * "blue=1,green=2,..."; NULL: detect */
    int year;                   /* campaign year: the after date's year */
    long long created;          /* the scan's finish (Unix time, from its
                                 * manifest): the forms' creation date, so
                                 * reruns give the same bytes; 0: now */
    char generated[32];         /* "yyyy-mm-dd" the list was made (report) */
} rw_checklist;

/* Chip file name relative to the reserve folder, e.g.
 * "chips/R01-0007_before.png", "chips/R01-0007_after_nrg.png". The id is
 * made safe for a file name first (rw_checklist_safe_name). */
rw_status rw_checklist_chip_path(const char *id, rw_chip_kind kind, char *buf,
                                 size_t size, rw_error *err);

/* Copies text into buf as a file-name component: drops '/', '\\', control
 * characters, leading dots and characters Windows refuses (<>:"|?*); keeps
 * UTF-8 (Chinese stays). Empty results become "_". */
void rw_checklist_safe_name(const char *text, char *buf, size_t size);

/* ---- shared fields and lookups (checklist_fields.c) ----------------- */

/* The point fields every writer shows, in column order: Chinese label,
 * English key, and the text of field k for an item (numbers with their
 * fixed decimals into buf; *number tells the CSV not to quote-guard it). */
size_t rw_checklist_field_count(void);
const char *rw_checklist_field_label(size_t k);
const char *rw_checklist_field_key(size_t k);
const char *rw_checklist_field_text(const rw_check_reserve *r,
                                    const rw_check_item *it, size_t k,
                                    char *buf, size_t size, bool *number);

/* 新增 扩大 已知 已许可 for the scan's status keys; the key itself
 * otherwise. */
const char *rw_checklist_status_label(const char *key);

/* Row of a category key in rw_category_key order; unknown keys count as
 * other (the last row), never dropped. */
int rw_checklist_category_index(const char *key);

/* Writes s as XML 1.0 (and HTML) text or attribute value: the five
 * special characters escaped, control bytes XML refuses dropped. */
void rw_checklist_put_xml(FILE *f, const char *s);

/* One HTML table row <tr><th>label</th><td>value</td></tr> per field, for
 * the report's cards and the KML balloons; skip (may be NULL) leaves
 * fields out by key. */
void rw_checklist_put_field_rows(FILE *f, const rw_check_reserve *r,
                                 const rw_check_item *it,
                                 bool (*skip)(const char *key));

/* Frees everything the list owns, including itself; NULL is fine. */
void rw_checklist_destroy(rw_checklist *cl);

/* ---- writers: one file kind each, see checklist_*.c ------------------- */

/* chips/<id>_{before,after,before_nrg,after_nrg}.png for every item of
 * every reserve under out_dir/<dir_name>/ (folders exist). chip_m: the
 * minimum ground size in metres (a chip covers max(chip_m, 3 x the patch's
 * extent)). Parallel over items with per-thread GDAL handles; memory
 * bounded by threads x chip size. */
rw_status rw_checklist_write_chips(const rw_checklist *cl, const char *out_dir,
                                   double chip_m, int threads,
                                   rw_progress_fn progress, void *user,
                                   rw_error *err);

/* 附件1: the reserve's 核查清单.xlsx at path, chips embedded from
 * reserve_dir/chips when present. */
rw_status rw_checklist_write_reserve_xlsx(const rw_checklist *cl,
                                          const rw_check_reserve *r,
                                          const char *reserve_dir,
                                          const char *path, rw_error *err);

/* 附件2: one city's list over every reserve whose city equals city. */
rw_status rw_checklist_write_city_xlsx(const rw_checklist *cl,
                                       const char *city, const char *path,
                                       rw_error *err);

/* points.csv (UTF-8 BOM, Chinese headers), points.kml, points.gpx,
 * points_ovital.txt for one reserve into reserve_dir. */
rw_status rw_checklist_write_gps(const rw_checklist *cl,
                                 const rw_check_reserve *r,
                                 const char *reserve_dir, rw_error *err);

/* reserve_dir/report.html: self-contained (chips inlined as data: URIs). */
rw_status rw_checklist_write_report(const rw_checklist *cl,
                                    const rw_check_reserve *r,
                                    const char *reserve_dir, rw_error *err);

#endif
