/* Opens and checks every input of a scan before any tile is read, so bad
 * input fails fast with one line naming the file. */
#include "scan.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

rw_status scan_scene_place(scan_job *job, scan_scene *s, int index, rw_error *err)
{
    rw_status st = RW_OK;
    const bool shifted = s->shift_m[0] != 0.0 || s->shift_m[1] != 0.0;
    const bool same = s == &job->after || (!shifted && rw_raster_same_grid(&s->info, &job->after.info));
    int bands[RW_BAND_COUNT], n = 0;
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        s->refl_band[b] = 0;
        if (!(job->band_mask & RW_BAND_BIT(b)))
            continue;
        const int src = s->match.band_of_role[b];
        s->scale[b] = s->info.scale[src - 1];
        s->offset[b] = s->info.offset[src - 1];
        s->nodata[b] = s->info.nodata[src - 1];
        s->has_nodata[b] = s->info.has_nodata[src - 1];
        bands[n++] = src;
        s->refl_band[b] = same ? src : n;
    }
    s->mask_band = s->match.mask_band;
    if (same) {
        snprintf(s->refl_path, sizeof(s->refl_path), "%s", s->info.path);
        snprintf(s->mask_path, sizeof(s->mask_path), "%s", s->info.path);
        goto done;
    }
    char tag[64];
    snprintf(tag, sizeof(tag), "before%d_refl", index);
    /* reprojection interpolates (a pure shift on the same grid never gets
     * here: it is read at a whole-pixel offset, see scan_coregister) */
    RW_CHECK(rw_raster_warp_vrt(&s->info, &job->after.info, bands, n, "bilinear", shifted ? s->shift_m : NULL, tag,
                                s->refl_path, sizeof(s->refl_path), err));
    for (int b = 0; b < RW_BAND_COUNT; b++)
        s->has_nodata[b] = 1, s->nodata[b] = 0.0; /* the warp's -dstnodata */
    if (s->mask_band > 0) {
        snprintf(tag, sizeof(tag), "before%d_mask", index);
        RW_CHECK(rw_raster_warp_vrt(&s->info, &job->after.info, &s->mask_band, 1, "near",
                                    shifted ? s->shift_m : NULL, tag, s->mask_path, sizeof(s->mask_path), err));
        s->mask_band = 1;
    }
done:
    return st;
}

/* Polygons (or lines buffered by buffer_m) of a vector file, in the
 * analysis CRS. */
static rw_status load_vector(const char *path, const char *what, const char *target_wkt, double buffer_m,
                             OGRGeometryH **out, size_t *count, rw_error *err)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH dst = OSRNewSpatialReference(target_wkt);
    OGRCoordinateTransformationH ct = NULL;
    GDALDatasetH ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
    size_t cap = 0;
    *out = NULL;
    *count = 0;
    RW_FAIL_IF(ds == NULL, err, RW_ERR_IO, "%s: cannot open the %s file: %s", path, what, CPLGetLastErrorMsg());
    RW_FAIL_IF(GDALDatasetGetLayerCount(ds) < 1, err, RW_ERR_FORMAT, "%s: has no layer", path);
    OGRLayerH layer = GDALDatasetGetLayer(ds, 0);
    OGRSpatialReferenceH src = OGR_L_GetSpatialRef(layer);
    RW_FAIL_IF(src == NULL, err, RW_ERR_FORMAT, "%s: the %s layer has no coordinate reference system", path, what);
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReferenceH srcc = OSRClone(src);
    OSRSetAxisMappingStrategy(srcc, OAMS_TRADITIONAL_GIS_ORDER);
    ct = OCTNewCoordinateTransformation(srcc, dst);
    OSRDestroySpatialReference(srcc);
    RW_FAIL_IF(ct == NULL, err, RW_ERR_FORMAT, "%s: cannot transform to the analysis CRS", path);
    OGR_L_ResetReading(layer);
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(layer)) != NULL) {
        OGRGeometryH g = OGR_F_StealGeometry(f);
        OGR_F_Destroy(f);
        if (g == NULL)
            continue;
        if (OGR_G_Transform(g, ct) != OGRERR_NONE) {
            OGR_G_DestroyGeometry(g);
            RW_FAIL(err, RW_ERR_FORMAT, "%s: a feature cannot be transformed to the analysis CRS", path);
        }
        if (buffer_m > 0) {
            OGRGeometryH b = OGR_G_Buffer(g, buffer_m, 8);
            OGR_G_DestroyGeometry(g);
            g = b;
        } else if (!OGR_G_IsValid(g)) {
            OGRGeometryH v = OGR_G_MakeValid(g);
            OGR_G_DestroyGeometry(g);
            g = v;
        }
        if (g == NULL)
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 64;
            OGRGeometryH *v = realloc(*out, cap * sizeof(*v));
            if (v == NULL) {
                OGR_G_DestroyGeometry(g);
                RW_FAIL(err, RW_ERR_NOMEM, "out of memory reading %s", path);
            }
            *out = v;
        }
        (*out)[(*count)++] = g;
    }
done:
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(dst);
    if (ds != NULL)
        GDALClose(ds);
    return st;
}

static void free_vector(OGRGeometryH *g, size_t n)
{
    for (size_t i = 0; i < n; i++)
        OGR_G_DestroyGeometry(g[i]);
    free(g);
}

/* Minimum mapping units: data/rules/mmu.tsv, then --mmu overrides. */
static rw_status load_mmu(scan_job *job, const char *data_dir, rw_error *err)
{
    rw_status st = RW_OK;
    char path[4096], line[512];
    FILE *fp = NULL;
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/rules/mmu.tsv", data_dir));
    fp = fopen(path, "r");
    RW_FAIL_IF(fp == NULL, err, RW_ERR_IO, "%s: cannot open (is the data folder right? --data)", path);
    int lineno = 0;
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        char key[64];
        double v;
        if (line[0] == '#' || sscanf(line, "%63s", key) != 1)
            continue;
        RW_FAIL_IF(sscanf(line, "%63s %lf", key, &v) != 2 || v < 0, err, RW_ERR_FORMAT,
                   "%s:%d: expected 'key value'", path, lineno);
        if (strcmp(key, "min_pixels") == 0) {
            job->mmu_pixels = (int)v;
            continue;
        }
        int c = 0;
        while (c < RW_CATEGORY_COUNT && strcmp(key, rw_category_key(c)) != 0)
            c++;
        RW_FAIL_IF(c == RW_CATEGORY_COUNT, err, RW_ERR_FORMAT, "%s:%d: unknown category '%s'", path, lineno, key);
        job->mmu_m2[c] = v;
    }
    const char *spec = job->opt->mmu;
    while (spec != NULL && *spec) {
        char key[64];
        double v;
        int used = 0;
        RW_FAIL_IF(sscanf(spec, "%63[^=]=%lf%n", key, &v, &used) != 2 || v < 0, err, RW_ERR_USAGE,
                   "--mmu '%s': expected CATEGORY=M2[,...]", job->opt->mmu);
        int c = 0;
        while (c < RW_CATEGORY_COUNT && strcmp(key, rw_category_key(c)) != 0)
            c++;
        RW_FAIL_IF(c == RW_CATEGORY_COUNT, err, RW_ERR_USAGE, "--mmu: unknown category '%s'", key);
        job->mmu_m2[c] = v;
        spec += used;
        if (*spec == ',')
            spec++;
    }
done:
    if (fp != NULL)
        fclose(fp);
    return st;
}

static void zones_warning(const char *message, void *user)
{
    const scan_job *job = user;
    if (job->warn != NULL)
        job->warn(message, job->warn_user);
}

/* Marks tiles whose box, grown by one pixel, touches a reserve: only they
 * are read. The pixel of margin makes every neighbour of a reserve pixel
 * lie in a planned tile, so the detection pass finds any halo it needs in
 * the rings the sampling pass saved (scan_halo.c). */
static rw_status plan_tiles(scan_job *job, rw_error *err)
{
    const int n = rw_tiling_count(&job->tiling);
    const double *gt = job->after.info.gt;
    job->planned = rw_calloc((size_t)n, 1, err);
    if (job->planned == NULL)
        return RW_ERR_NOMEM;
    int any = 0;
    for (int t = 0; t < n; t++) {
        const rw_rect r = rw_tiling_rect(&job->tiling, t);
        const double x0 = gt[0] + (r.x - 1) * gt[1], x1 = gt[0] + (r.x + r.w + 1) * gt[1];
        const double y0 = gt[3] + (r.y - 1) * gt[5], y1 = gt[3] + (r.y + r.h + 1) * gt[5];
        const double env[4] = {fmin(x0, x1), fmin(y0, y1), fmax(x0, x1), fmax(y0, y1)};
        job->planned[t] = rw_zones_touches(job->zones, env);
        any |= job->planned[t];
    }
    if (!any)
        return rw_error_set(err, RW_ERR_INPUT, __FILE__, __LINE__,
                            "%s: no reserve lies inside the scene %s (check both files' CRS and extent)",
                            job->opt->reserves, job->after.info.path);
    return RW_OK;
}

rw_status scan_inputs_open(scan_job *job, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_scan_options *opt = job->opt;
    char rules_path[4096];
    RW_FAIL_IF(opt->nbefore < 1 || opt->nbefore > SCAN_MAX_BEFORE, err, RW_ERR_USAGE,
               "give 1 to %d --before scenes", SCAN_MAX_BEFORE);
    RW_CHECK(rw_raster_probe(opt->after, &job->after.info, err));
    RW_CHECK(rw_raster_band_roles(&job->after.info, opt->profile, opt->bands, &job->after.match, err));
    job->band_mask = job->after.match.band_mask;
    job->nbefore = opt->nbefore;
    for (int k = 0; k < opt->nbefore; k++) {
        RW_CHECK(rw_raster_probe(opt->before[k], &job->before[k].info, err));
        RW_CHECK(rw_raster_band_roles(&job->before[k].info, opt->profile, opt->bands, &job->before[k].match, err));
        job->band_mask &= job->before[k].match.band_mask;
    }
    RW_CHECK(scan_scene_place(job, &job->after, 0, err));
    for (int k = 0; k < job->nbefore; k++)
        RW_CHECK(scan_scene_place(job, &job->before[k], k, err));

    const rw_zones_fields fields = {.reserve_id = opt->reserve_id_field, .name = opt->name_field,
                                    .zone = opt->zone_field};
    RW_CHECK(rw_zones_open(opt->reserves, &fields, job->after.info.wkt, &job->zones, zones_warning, job, err));
    RW_CHECK(rw_format(rules_path, sizeof(rules_path), err, "%s/rules/change_rules.tsv", opt->data_dir));
    RW_CHECK(rw_change_rules_load(rules_path, &job->rules, err));
    RW_CHECK(load_mmu(job, opt->data_dir, err));
    /* a corridor wide enough to hold a reservoir beside the channel */
    if (opt->rivers != NULL)
        RW_CHECK(load_vector(opt->rivers, "rivers", job->after.info.wkt, 300.0, &job->rivers, &job->nrivers, err));
    if (opt->permits != NULL)
        RW_CHECK(load_vector(opt->permits, "permits", job->after.info.wkt, 0, &job->permits, &job->npermits, err));
    if (opt->known != NULL)
        RW_CHECK(load_vector(opt->known, "known problems", job->after.info.wkt, 0, &job->known, &job->nknown, err));
    job->tiling = rw_tiling_make(job->after.info.width, job->after.info.height, opt->tile > 0 ? opt->tile : 512);
    RW_CHECK(plan_tiles(job, err));
done:
    return st;
}

void scan_inputs_close(scan_job *job)
{
    rw_raster_info_clear(&job->after.info);
    for (int k = 0; k < SCAN_MAX_BEFORE; k++)
        rw_raster_info_clear(&job->before[k].info);
    rw_zones_destroy(job->zones);
    rw_change_rules_destroy(job->rules);
    free_vector(job->rivers, job->nrivers);
    free_vector(job->permits, job->npermits);
    free_vector(job->known, job->nknown);
    free(job->planned);
    VSIRmdirRecursive("/vsimem/reservewatch");
}
