/* rw_synth_run: validate options, plan the world, render the scenes,
 * write vectors and truth, then synth.json last (its presence says the
 * data set is complete). */
#include "synth.h"

#include <cpl_conv.h>
#include <stdio.h>
#include <string.h>

static const char *const profile_key[] = {"sentinel2", "gf2", "landsat"};

void rw_synth_options_init(rw_synth_options *opt)
{
    memset(opt, 0, sizeof(*opt));
    opt->size = 2048;
    opt->profile = RW_SYNTH_SENTINEL2;
    opt->seed = 1;
    opt->dates = 2;
}

static rw_status validate(const rw_synth_options *opt, rw_error *err)
{
    rw_status st = RW_OK;
    RW_FAIL_IF(opt->out_dir == NULL || opt->out_dir[0] == '\0', err, RW_ERR_USAGE, "--out is required");
    RW_FAIL_IF(opt->size < 256 || opt->size > 40000, err, RW_ERR_USAGE,
               "--size %d is out of range (256 to 40000 pixels)", opt->size);
    RW_FAIL_IF((unsigned)opt->profile > RW_SYNTH_LANDSAT, err, RW_ERR_USAGE, "unknown profile");
    RW_FAIL_IF(opt->dates < 2 || opt->dates > SYNTH_MAX_DATES, err, RW_ERR_USAGE,
               "--dates %d is out of range (2 to %d)", opt->dates, SYNTH_MAX_DATES);
    RW_FAIL_IF(opt->pixel < 0 || opt->later_pixel < 0, err, RW_ERR_USAGE, "--pixel must be positive");
done:
    return st;
}

static void json_grid(FILE *fp, const synth_grid *g)
{
    fprintf(fp, "{\"epsg\": %d, \"width\": %d, \"height\": %d, \"geotransform\": [%.10g, %.10g, %.10g, %.10g, %.10g, %.10g]}",
            g->epsg, g->width, g->height, g->gt[0], g->gt[1], g->gt[2], g->gt[3], g->gt[4], g->gt[5]);
}

static rw_status write_json(const synth_world *w, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_synth_options *opt = w->opt;
    char path[4096], tmp[4096];
    FILE *fp = NULL;
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/synth.json", opt->out_dir));
    RW_CHECK(rw_format(tmp, sizeof(tmp), err, "%s/.synth.json.partial", opt->out_dir));
    fp = fopen(tmp, "w");
    RW_FAIL_IF(fp == NULL, err, RW_ERR_IO, "%s: cannot create", tmp);
    fprintf(fp, "{\n  \"generator\": \"reservewatch synth %s\",\n", RW_VERSION_STRING);
    fprintf(fp, "  \"profile\": \"%s\",\n  \"seed\": %llu,\n  \"size\": %d,\n", profile_key[opt->profile],
            (unsigned long long)opt->seed, opt->size);
    fprintf(fp, "  \"world_epsg\": %d,\n  \"extent\": [%.3f, %.3f, %.3f, %.3f],\n", SYNTH_WORLD_EPSG,
            w->extent[0], w->extent[1], w->extent[2], w->extent[3]);
    fprintf(fp, "  \"dates\": [\n");
    for (int k = 0; k < w->ndates; k++) {
        const synth_date *d = &w->date[k];
        fprintf(fp, "    {\"date\": \"%s\", \"file\": \"scene_%s.tif\", \"grid\": ", d->ymd, d->ymd);
        json_grid(fp, &d->grid);
        fprintf(fp, ",\n     \"shift_m\": [%.3f, %.3f], \"sun_azimuth\": %.2f, \"sun_elevation\": %.2f, "
                    "\"veg_nir_factor\": %.4f, \"lake_stage\": %.4f,\n     \"band_gain\": [",
                d->shift_x, d->shift_y, d->sun_az, d->sun_el, d->veg_nir, d->lake_level);
        for (int b = 0; b < SYNTH_BANDS; b++)
            fprintf(fp, "%s%.4f", b ? ", " : "", d->band_gain[b]);
        fprintf(fp, "], \"band_offset\": [");
        for (int b = 0; b < SYNTH_BANDS; b++)
            fprintf(fp, "%s%.4f", b ? ", " : "", d->band_offset[b]);
        fprintf(fp, "]}%s\n", k + 1 < w->ndates ? "," : "");
    }
    fprintf(fp, "  ],\n  \"reserves\": [\n");
    for (int r = 0; r < w->nreserves; r++) {
        const synth_reserve *res = &w->reserve[r];
        fprintf(fp, "    {\"reserve_id\": \"%s\", \"name\": \"%s\", \"level\": \"%s\", \"city\": \"%s\", \"county\": \"%s\"}%s\n",
                res->id, res->name, res->level, res->city, res->county, r + 1 < w->nreserves ? "," : "");
    }
    int count[CAT_COUNT] = {0}, distractors = 0;
    for (size_t i = 0; i < w->ntruth; i++) {
        if (w->truth[i].category >= 0)
            count[w->truth[i].category]++;
        else
            distractors++;
    }
    fprintf(fp, "  ],\n  \"planted\": {");
    for (int c = 0; c < CAT_COUNT; c++)
        fprintf(fp, "%s\"%s\": %d", c ? ", " : "", synth_category_key[c], count[c]);
    fprintf(fp, "},\n  \"distractors\": %d,\n", distractors);
    fprintf(fp, "  \"files\": {\"reserves\": \"reserves.gpkg\", \"rivers\": \"rivers.gpkg\", "
                "\"permits\": \"permits.gpkg\", \"known\": \"known.gpkg\", \"truth\": \"truth.gpkg\", "
                "\"ministry_points\": \"ministry_points.csv\"},\n");
    fprintf(fp, "  \"notes\": \"Changes appear at the last date; truth polygons of planted changes are "
                "pixel-exact on the last date's grid; must_report = planted and at least half inside a reserve; "
                "apply the scan's minimum mapping unit before scoring.\"\n}\n");
    const int closed = fclose(fp);
    fp = NULL;
    RW_FAIL_IF(closed != 0, err, RW_ERR_IO, "%s: write failed", tmp);
    RW_FAIL_IF(rename(tmp, path) != 0, err, RW_ERR_IO, "%s: cannot rename", tmp);
done:
    if (fp != NULL)
        fclose(fp);
    return st;
}

rw_status rw_synth_run(const rw_synth_options *opt, rw_progress_fn progress,
                       void *progress_user, rw_error *err)
{
    rw_status st = RW_OK;
    synth_world w;
    memset(&w, 0, sizeof(w));
    char json[4096];
    RW_CHECK(validate(opt, err));
    RW_CHECK(rw_mkdir_p(opt->out_dir, 0700, err));
    /* a previous synth.json would vouch for files about to be replaced */
    RW_CHECK(rw_format(json, sizeof(json), err, "%s/synth.json", opt->out_dir));
    remove(json);
    RW_CHECK(synth_world_plan(&w, opt, err));
    if (progress != NULL)
        progress(0.1, "synth", progress_user);
    RW_CHECK(synth_render_scenes(&w, progress, progress_user, err));
    RW_CHECK(synth_write_vectors(&w, err));
    RW_CHECK(write_json(&w, err));
    if (progress != NULL)
        progress(1.0, "synth", progress_user);
done:
    synth_world_free(&w);
    return st;
}
