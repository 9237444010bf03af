/* The checklist job: model from the scan's outputs, then chips, then per
 * reserve the forms, GPS files and report, per city the 附件2 list, and a
 * manifest written last whose presence says the set is complete. */
#include "checklist.h"
#include "checklist_build.h"
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DIR_MODE 0700 /* ministry point lists are confidential */
#define DEFAULT_CHIP_M 300.0
#define RESERVE_XLSX "核查清单.xlsx"

/* Files every reserve folder holds besides its chips, in manifest order. */
static const char *const reserve_files[] = {
    RESERVE_XLSX, "points.csv", "points.kml", "points.gpx",
    "points_ovital.txt", "report.html"};
#define N_RESERVE_FILES (sizeof(reserve_files) / sizeof(reserve_files[0]))

void rw_checklist_options_init(rw_checklist_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->chip_m = DEFAULT_CHIP_M;
}

/* Maps a stage's own 0..1 progress into [lo, hi] of the whole run. */
typedef struct stage_progress {
    rw_progress_fn fn;
    void *user;
    double lo, hi;
} stage_progress;

static int stage_report(double fraction, const char *message, void *user)
{
    const stage_progress *s = user;
    return s->fn ? s->fn(s->lo + (s->hi - s->lo) * fraction, message, s->user) : 1;
}

/* A city's 附件2 file name, relative to OUT. */
static rw_status city_file(const char *city, char *buf, size_t size, rw_error *err)
{
    char safe[128];
    rw_checklist_safe_name(city, safe, sizeof(safe));
    return rw_format(buf, size, err, "%s_问题清单.xlsx", safe);
}

/* Each city once, in order of first appearance (reserves are sorted). */
static bool city_seen_before(const rw_checklist *cl, size_t r)
{
    for (size_t q = 0; q < r; q++)
        if (strcmp(cl->reserves[q].city, cl->reserves[r].city) == 0)
            return true;
    return false;
}

static rw_status write_reserve(const rw_checklist *cl, const rw_check_reserve *r,
                               const char *out_dir, rw_error *err)
{
    rw_status st = RW_OK;
    char dir[4096], xlsx[4096];
    RW_CHECK(rw_format(dir, sizeof(dir), err, "%s/%s", out_dir, r->dir_name));
    RW_CHECK(rw_format(xlsx, sizeof(xlsx), err, "%s/" RESERVE_XLSX, dir));
    RW_CHECK(rw_checklist_write_reserve_xlsx(cl, r, dir, xlsx, err));
    RW_CHECK(rw_checklist_write_gps(cl, r, dir, err));
    RW_CHECK(rw_checklist_write_report(cl, r, dir, err));
done:
    return st;
}

static rw_status add_output(rw_json *j, const char *out_dir, const char *rel,
                            rw_error *err)
{
    rw_status st = RW_OK;
    char path[4096];
    struct stat sb;
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/%s", out_dir, rel));
    if (stat(path, &sb) == 0) /* chips of a point outside the scenes are absent */
        RW_CHECK(rw_manifest_add_file(j, path, rel, err));
done:
    return st;
}

static rw_status manifest_outputs(rw_json *j, const rw_checklist *cl,
                                  const char *out_dir, rw_error *err)
{
    rw_status st = RW_OK;
    char rel[4096], chip[512];
    rw_json_begin_array(j);
    for (size_t r = 0; r < cl->nreserves; r++) {
        const rw_check_reserve *res = &cl->reserves[r];
        for (size_t f = 0; f < N_RESERVE_FILES; f++) {
            RW_CHECK(rw_format(rel, sizeof(rel), err, "%s/%s", res->dir_name, reserve_files[f]));
            RW_CHECK(add_output(j, out_dir, rel, err));
        }
        for (size_t i = 0; i < res->n; i++)
            for (int k = 0; k < RW_CHIP_KIND_COUNT; k++) {
                RW_CHECK(rw_checklist_chip_path(res->items[i].det.id, (rw_chip_kind)k,
                                                chip, sizeof(chip), err));
                RW_CHECK(rw_format(rel, sizeof(rel), err, "%s/%s", res->dir_name, chip));
                RW_CHECK(add_output(j, out_dir, rel, err));
            }
    }
    for (size_t r = 0; r < cl->nreserves; r++) {
        if (!cl->reserves[r].city[0] || city_seen_before(cl, r))
            continue;
        char path[4096];
        RW_CHECK(city_file(cl->reserves[r].city, path, sizeof(path), err));
        RW_CHECK(add_output(j, out_dir, path, err));
    }
    rw_json_end_array(j);
done:
    return st;
}

static rw_status write_manifest(const rw_checklist_options *opt,
                                const rw_checklist *cl, const char *started,
                                rw_error *err)
{
    rw_status st = RW_OK;
    rw_json *j = NULL;
    char path[4096], deps[512], finished[32];
    rw_format_utc(time(NULL), finished);
    rw_version_dependencies(deps, sizeof(deps));
    RW_CHECK(rw_json_create(&j, err));
    rw_json_begin_object(j);
    rw_json_key(j, "tool");
    rw_json_string(j, "reservewatch checklist " RW_VERSION_STRING);
    rw_json_key(j, "libraries");
    rw_json_string(j, deps);
    rw_json_key(j, "started");
    rw_json_string(j, started);
    rw_json_key(j, "finished");
    rw_json_string(j, finished);
    rw_json_key(j, "detections");
    RW_CHECK(rw_manifest_add_file(j, opt->detections, opt->detections, err));
    rw_json_key(j, "scenes");
    rw_json_begin_object(j);
    rw_json_key(j, "before");
    rw_json_string(j, cl->before_scenes[0]);
    rw_json_key(j, "after");
    rw_json_string(j, cl->after_scene);
    rw_json_end_object(j);
    rw_json_key(j, "parameters");
    rw_json_begin_object(j);
    rw_json_key(j, "categories");
    rw_json_string(j, opt->categories ? opt->categories : "mining,industrial,tourism,hydropower");
    rw_json_key(j, "status");
    rw_json_string(j, opt->statuses ? opt->statuses : "new,expanded");
    rw_json_key(j, "chip_m");
    rw_json_number(j, opt->chip_m > 0 ? opt->chip_m : DEFAULT_CHIP_M);
    rw_json_key(j, "year");
    rw_json_integer(j, cl->year);
    rw_json_end_object(j);
    rw_json_key(j, "reserves");
    rw_json_begin_array(j);
    for (size_t r = 0; r < cl->nreserves; r++) {
        rw_json_begin_object(j);
        rw_json_key(j, "reserve_id");
        rw_json_string(j, cl->reserves[r].reserve_id);
        rw_json_key(j, "name");
        rw_json_string(j, cl->reserves[r].name);
        rw_json_key(j, "city");
        rw_json_string(j, cl->reserves[r].city);
        rw_json_key(j, "folder");
        rw_json_string(j, cl->reserves[r].dir_name);
        rw_json_key(j, "points");
        rw_json_integer(j, (int64_t)cl->reserves[r].n);
        rw_json_end_object(j);
    }
    rw_json_end_array(j);
    rw_json_key(j, "outputs");
    RW_CHECK(manifest_outputs(j, cl, opt->out_dir, err));
    rw_json_end_object(j);
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/manifest.json", opt->out_dir));
    RW_CHECK(rw_json_write_atomic(j, path, err));
done:
    rw_json_destroy(j);
    return st;
}

static void summarise(const rw_checklist *cl, const char *out_dir,
                      rw_checklist_summary *s)
{
    size_t most = 0;
    memset(s, 0, sizeof(*s));
    s->reserves = cl->nreserves;
    for (size_t r = 0; r < cl->nreserves; r++) {
        const rw_check_reserve *res = &cl->reserves[r];
        s->points += res->n;
        s->cities += res->city[0] && !city_seen_before(cl, r);
        /* point at the reserve with the most points: the useful example */
        if (r == 0 || res->n > most) {
            most = res->n;
            snprintf(s->example_report, sizeof(s->example_report), "%s/%s/report.html",
                     out_dir, res->dir_name);
            snprintf(s->example_xlsx, sizeof(s->example_xlsx), "%s/%s/" RESERVE_XLSX,
                     out_dir, res->dir_name);
        }
    }
}

rw_status rw_checklist_run(const rw_checklist_options *opt, rw_progress_fn progress,
                           void *progress_user, rw_checklist_summary *summary,
                           rw_error *err)
{
    rw_status st = RW_OK;
    rw_checklist *cl = NULL;
    char dir[4096], path[4096], started[32];
    rw_format_utc(time(NULL), started);
    RW_FAIL_IF(!opt->detections || !opt->out_dir, err, RW_ERR_USAGE,
               "--detections and --out are required");
    RW_CHECK(rw_checklist_build(opt, &cl, err));
    RW_CHECK(rw_mkdir_p(opt->out_dir, DIR_MODE, err));
    /* a manifest of an earlier run must not vouch for a half-new set */
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/manifest.json", opt->out_dir));
    (void)unlink(path);
    for (size_t r = 0; r < cl->nreserves; r++) {
        RW_CHECK(rw_format(dir, sizeof(dir), err, "%s/%s", opt->out_dir,
                           cl->reserves[r].dir_name));
        RW_CHECK(rw_mkdir_p(dir, DIR_MODE, err));
    }
    stage_progress chips = {progress, progress_user, 0.0, 0.8};
    RW_CHECK(rw_checklist_write_chips(cl, opt->out_dir,
                                      opt->chip_m > 0 ? opt->chip_m : DEFAULT_CHIP_M,
                                      opt->threads, stage_report, &chips, err));
    for (size_t r = 0; r < cl->nreserves; r++) {
        RW_CHECK(write_reserve(cl, &cl->reserves[r], opt->out_dir, err));
        RW_FAIL_IF(progress && !progress(0.8 + 0.15 * (double)(r + 1) / (double)cl->nreserves,
                                         NULL, progress_user),
                   err, RW_ERR_CANCELLED, "cancelled");
    }
    for (size_t r = 0; r < cl->nreserves; r++) {
        if (!cl->reserves[r].city[0] || city_seen_before(cl, r))
            continue;
        char name[256];
        RW_CHECK(city_file(cl->reserves[r].city, name, sizeof(name), err));
        RW_CHECK(rw_format(path, sizeof(path), err, "%s/%s", opt->out_dir, name));
        RW_CHECK(rw_checklist_write_city_xlsx(cl, cl->reserves[r].city, path, err));
    }
    RW_CHECK(write_manifest(opt, cl, started, err));
    if (progress)
        progress(1.0, NULL, progress_user);
    if (summary)
        summarise(cl, opt->out_dir, summary);
done:
    rw_checklist_destroy(cl);
    return st;
}
