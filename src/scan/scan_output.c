/* manifest.json: inputs with sizes and SHA-256, resolved parameters,
 * versions, times, counts per reserve and category, outputs with SHA-256.
 * Written last: its presence says the outputs beside it are complete.
 * Thread count and tile size are left out on purpose: they never change
 * the results, and the manifest must be identical for any of them apart
 * from its times. */
#include "scan.h"
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The inputs in manifest order: after, before..., then the optional
 * vectors (NULL when not given). */
enum { INPUT_VECTORS = 4 };

static size_t list_inputs(const rw_scan_options *opt, const char **paths)
{
    size_t n = 0;
    paths[n++] = opt->after;
    for (int k = 0; k < opt->nbefore; k++)
        paths[n++] = opt->before[k];
    paths[n++] = opt->reserves;
    paths[n++] = opt->rivers;
    paths[n++] = opt->permits;
    paths[n++] = opt->known;
    return n;
}

/* Scenes are recorded by absolute path so that `checklist` finds them
 * from any working folder. */
static void add_path(rw_json *j, const char *path)
{
    char *abs = realpath(path, NULL);
    rw_json_string(j, abs != NULL ? abs : path);
    free(abs);
}

static void add_scene(rw_json *j, const scan_scene *s)
{
    static const char *const roles[RW_BAND_COUNT] = {"blue", "green", "red", "nir", "swir1", "swir2"};
    rw_json_begin_object(j);
    rw_json_key(j, "file");
    add_path(j, s->info.path);
    rw_json_key(j, "date");
    rw_json_string(j, s->info.date);
    rw_json_key(j, "profile");
    rw_json_string(j, s->match.profile != NULL ? s->match.profile->key : "generic");
    rw_json_key(j, "bands");
    rw_json_begin_object(j);
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        if (s->match.band_of_role[b] == 0)
            continue;
        rw_json_key(j, roles[b]);
        rw_json_integer(j, s->match.band_of_role[b]);
    }
    rw_json_key(j, "mask");
    rw_json_integer(j, s->match.mask_band);
    rw_json_end_object(j);
    rw_json_key(j, "shift_px");
    rw_json_begin_array(j);
    rw_json_number_fixed(j, s->shift_px[0], 3);
    rw_json_number_fixed(j, s->shift_px[1], 3);
    rw_json_end_array(j);
    rw_json_key(j, "offset_px");
    rw_json_begin_array(j);
    rw_json_integer(j, s->offset_px[0]);
    rw_json_integer(j, s->offset_px[1]);
    rw_json_end_array(j);
    if (s->coreg != NULL) {
        rw_json_key(j, "coregistration");
        rw_json_string(j, s->coreg);
        /* what a bank pixel the dates disagree on is decided by */
        rw_json_key(j, "residual_px");
        rw_json_number_fixed(j, s->residual_px, 3);
    }
    rw_json_end_object(j);
}

rw_status scan_manifest_write(const scan_job *job, const rw_detection *d, size_t n, time_t started,
                              const char *path, rw_error *err)
{
    rw_status st = RW_OK;
    rw_json *j = NULL;
    const rw_scan_options *opt = job->opt;
    char deps[512], t0[32], t1[32], file[4096];
    RW_CHECK(rw_json_create(&j, err));
    rw_json_begin_object(j);
    rw_json_key(j, "tool");
    rw_json_string(j, "reservewatch " RW_VERSION_STRING);
    rw_version_dependencies(deps, sizeof(deps));
    rw_json_key(j, "libraries");
    rw_json_string(j, deps);
    rw_format_utc(started, t0);
    rw_format_utc(time(NULL), t1);
    rw_json_key(j, "started");
    rw_json_string(j, t0);
    rw_json_key(j, "finished");
    rw_json_string(j, t1);

    /* every input hashed at once: the scenes dominate */
    const char *paths[SCAN_MAX_BEFORE + 1 + INPUT_VECTORS], *given[SCAN_MAX_BEFORE + 1 + INPUT_VECTORS];
    rw_file_hash hash[SCAN_MAX_BEFORE + 1 + INPUT_VECTORS];
    const size_t ninputs = list_inputs(opt, paths);
    size_t ngiven = 0;
    for (size_t i = 0; i < ninputs; i++)
        if (paths[i] != NULL)
            given[ngiven++] = paths[i];
    RW_CHECK(rw_io_sha256_files(given, ngiven, job->threads, hash, err));
    static const char *const vector_role[INPUT_VECTORS] = {"reserves", "rivers", "permits", "known"};
    rw_json_key(j, "inputs");
    rw_json_begin_object(j);
    size_t h = 0;
    rw_json_key(j, "after");
    rw_manifest_add_hash(j, opt->after, &hash[h++]);
    rw_json_key(j, "before");
    rw_json_begin_array(j);
    for (int k = 0; k < opt->nbefore; k++)
        rw_manifest_add_hash(j, opt->before[k], &hash[h++]);
    rw_json_end_array(j);
    for (int v = 0; v < INPUT_VECTORS; v++) {
        const char *p = paths[1 + (size_t)opt->nbefore + (size_t)v];
        if (p == NULL)
            continue;
        rw_json_key(j, vector_role[v]);
        rw_manifest_add_hash(j, p, &hash[h++]);
    }
    rw_json_end_object(j);

    rw_json_key(j, "parameters");
    rw_json_begin_object(j);
    rw_json_key(j, "analysis_grid");
    rw_json_begin_object(j);
    rw_json_key(j, "width");
    rw_json_integer(j, job->after.info.width);
    rw_json_key(j, "height");
    rw_json_integer(j, job->after.info.height);
    rw_json_key(j, "geotransform");
    rw_json_begin_array(j);
    for (int i = 0; i < 6; i++)
        rw_json_number(j, job->after.info.gt[i]);
    rw_json_end_array(j);
    rw_json_key(j, "crs_wkt");
    rw_json_string(j, job->after.info.wkt);
    rw_json_end_object(j);
    rw_json_key(j, "after");
    add_scene(j, &job->after);
    rw_json_key(j, "before");
    rw_json_begin_array(j);
    for (int k = 0; k < job->nbefore; k++)
        add_scene(j, &job->before[k]);
    rw_json_end_array(j);
    rw_json_key(j, "normalisation");
    rw_json_begin_array(j);
    for (int k = 0; k < job->nbefore; k++) {
        rw_json_begin_array(j);
        for (int b = 0; b < RW_BAND_COUNT; b++) {
            if (!(job->band_mask & RW_BAND_BIT(b)))
                continue;
            rw_json_begin_object(j);
            rw_json_key(j, "gain");
            rw_json_number_fixed(j, job->before[k].fit[b].gain, 6);
            rw_json_key(j, "offset");
            rw_json_number_fixed(j, job->before[k].fit[b].offset, 6);
            rw_json_key(j, "samples");
            rw_json_integer(j, (int64_t)job->before[k].fit[b].used);
            rw_json_end_object(j);
        }
        rw_json_end_array(j);
    }
    rw_json_end_array(j);
    rw_json_key(j, "mmu_m2");
    rw_json_begin_object(j);
    for (int c = 0; c < RW_CATEGORY_COUNT; c++) {
        rw_json_key(j, rw_category_key(c));
        rw_json_number(j, job->mmu_m2[c]);
    }
    rw_json_end_object(j);
    rw_json_key(j, "mmu_min_pixels");
    rw_json_integer(j, job->mmu_pixels);
    rw_json_key(j, "coregister");
    rw_json_bool(j, opt->coregister != 0);
    rw_json_key(j, "rules");
    rw_json_string(j, opt->data_dir);
    rw_json_end_object(j);

    rw_json_key(j, "counts");
    rw_json_begin_array(j);
    const size_t nres = rw_zones_reserve_count(job->zones);
    for (size_t r = 0; r < nres; r++) {
        const rw_reserve *res = rw_zones_reserve(job->zones, r);
        int count[RW_CATEGORY_COUNT] = {0};
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < RW_CATEGORY_COUNT; c++)
                if (strcmp(d[i].reserve_id, res->id) == 0 && strcmp(d[i].category, rw_category_key(c)) == 0)
                    count[c]++;
        rw_json_begin_object(j);
        rw_json_key(j, "reserve_id");
        rw_json_string(j, res->id);
        rw_json_key(j, "name");
        rw_json_string(j, res->name);
        rw_json_key(j, "city");
        rw_json_string(j, res->city);
        rw_json_key(j, "county");
        rw_json_string(j, res->county);
        for (int c = 0; c < RW_CATEGORY_COUNT; c++) {
            rw_json_key(j, rw_category_key(c));
            rw_json_integer(j, count[c]);
        }
        rw_json_end_object(j);
    }
    rw_json_end_array(j);

    rw_json_key(j, "outputs");
    rw_json_begin_array(j);
    static const char *const outputs[] = {"detections.gpkg", "points.csv"};
    for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
        RW_CHECK(rw_format(file, sizeof(file), err, "%s/%s", opt->out_dir, outputs[i]));
        RW_CHECK(rw_manifest_add_file(j, file, outputs[i], err));
    }
    rw_json_end_array(j);
    rw_json_end_object(j);
    RW_CHECK(rw_json_write_atomic(j, path, err));
done:
    rw_json_destroy(j);
    return st;
}
