/* The patch stage: from merged pixel patches to detections. Patches are
 * independent, so they are built in parallel (one rw_patch_ctx, i.e. one
 * GEOS and PROJ context, per thread) into slots indexed by patch, then
 * compacted in patch order: ids never depend on threads or tiles. */
#include "scan.h"
#include "patch.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const zone_label[RW_ZONE_RANK_COUNT] = {"", "实验区", "缓冲区", "核心区"};

void scan_detections_free(rw_detection *d, size_t n)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        free(d[i].wkb);
    free(d);
}

/* The largest overlap of g with one of polys, tested one by one (permits
 * and known problems do not overlap each other in practice), and that
 * polygon's area in *poly_area; 0 when none overlaps. */
static double best_overlap(OGRGeometryH g, OGRGeometryH *polys, size_t n, double *poly_area)
{
    OGREnvelope e;
    OGR_G_GetEnvelope(g, &e);
    double best = 0.0;
    *poly_area = 0.0;
    for (size_t i = 0; i < n; i++) {
        OGREnvelope pe;
        OGR_G_GetEnvelope(polys[i], &pe);
        if (pe.MinX > e.MaxX || pe.MaxX < e.MinX || pe.MinY > e.MaxY || pe.MaxY < e.MinY)
            continue;
        OGRGeometryH x = OGR_G_Intersection(g, polys[i]);
        const double a = x != NULL ? OGR_G_Area(x) : 0.0;
        OGR_G_DestroyGeometry(x);
        if (a > best) {
            best = a;
            *poly_area = OGR_G_Area(polys[i]);
        }
    }
    return best;
}

/* permitted: at least half the patch inside a permit. known: a known
 * problem covers at least 30 % of the patch, or the patch covers at least
 * half of it (a site that has grown since last year's ledger holds its
 * old outline); expanded when the patch is more than 1.5 times it. */
static const char *decide_status(const scan_job *job, const unsigned char *wkb, size_t size)
{
    OGRGeometryH g = NULL;
    const char *status = "new";
    if (OGR_G_CreateFromWkb(wkb, NULL, &g, (int)size) != OGRERR_NONE || g == NULL)
        return status;
    const double area = OGR_G_Area(g);
    double poly_area, known;
    if (area > 0 && best_overlap(g, job->permits, job->npermits, &poly_area) >= 0.5 * area)
        status = "permitted";
    else if (area > 0 && (known = best_overlap(g, job->known, job->nknown, &poly_area)) > 0 &&
             (known >= 0.3 * area || known >= 0.5 * poly_area))
        status = area > 1.5 * poly_area ? "expanded" : "known";
    OGR_G_DestroyGeometry(g);
    return status;
}

/* Zone reported for a patch: the strictest zone holding at least 10% of
 * its pixels (a patch reaching into a core zone is a core-zone matter). */
static int patch_zone(const rw_label_stats *s, double frac[3])
{
    int zone = RW_ZONE_EXPERIMENTAL;
    for (int z = 1; z < RW_ZONE_RANK_COUNT; z++) {
        frac[z - 1] = (double)s->zone_count[z] / (double)s->count;
        if (frac[z - 1] >= 0.1)
            zone = z;
    }
    return zone;
}

typedef struct slot {
    int keep;
    rw_detection d;
} slot;

bool scan_river_context(const scan_job *job, const rw_label_stats *s)
{
    return job->nrivers > 0 ? scan_flag_pixels(s, SCAN_FLAG_RIVER) * 5 >= s->count
                            : scan_flag_pixels(s, SCAN_FLAG_WATER) > 0;
}

static int compare_run(const void *a, const void *b)
{
    const rw_patch_run *x = a, *y = b;
    if (x->y != y->y)
        return x->y < y->y ? -1 : 1;
    return (x->x0 > y->x0) - (x->x0 < y->x0);
}

/* The runs of every patch of root's group into *runbuf, sorted by (y, x0)
 * as rw_patch_polygon wants them. */
static rw_status gather_runs(const rw_label_patches *patches, const size_t *next, size_t root,
                             rw_patch_run **runbuf, size_t *runcap, size_t *nout, rw_error *err)
{
    rw_status st = RW_OK;
    size_t total = 0, nruns, m = 0;
    for (size_t j = root; j != SCAN_GROUP_END; j = next[j])
        total += (rw_label_patches_runs(patches, j, &nruns), nruns);
    if (total > *runcap) {
        free(*runbuf);
        *runcap = total * 2;
        *runbuf = rw_malloc(sizeof(**runbuf) * *runcap, err);
        RW_FAIL_IF(*runbuf == NULL, err, RW_ERR_NOMEM, "out of memory for patch runs");
    }
    for (size_t j = root; j != SCAN_GROUP_END; j = next[j]) {
        const rw_label_run *runs = rw_label_patches_runs(patches, j, &nruns);
        for (size_t k = 0; k < nruns; k++)
            (*runbuf)[m++] = (rw_patch_run){runs[k].y, runs[k].x0, runs[k].len};
    }
    qsort(*runbuf, m, sizeof(**runbuf), compare_run);
    *nout = m;
done:
    return st;
}

/* The reserves' outlines as WKB, made once; each thread parses the ones
 * it needs into its own GEOS context. */
typedef struct outline_set {
    size_t n;
    unsigned char **wkb;
    size_t *size;
} outline_set;

static void outline_set_free(outline_set *os)
{
    for (size_t i = 0; os->wkb != NULL && i < os->n; i++)
        free(os->wkb[i]);
    free(os->wkb);
    free(os->size);
}

static rw_status outline_set_make(const scan_job *job, outline_set *os, rw_error *err)
{
    rw_status st = RW_OK;
    os->n = rw_zones_reserve_count(job->zones);
    os->wkb = rw_calloc(os->n + 1, sizeof(*os->wkb), err);
    os->size = rw_calloc(os->n + 1, sizeof(*os->size), err);
    RW_FAIL_IF(os->wkb == NULL || os->size == NULL, err, RW_ERR_NOMEM, "out of memory for reserve outlines");
    for (size_t i = 0; i < os->n; i++)
        RW_CHECK(rw_zones_reserve_outline(job->zones, i, &os->wkb[i], &os->size[i], err));
done:
    return st;
}

/* What one thread keeps between patches. */
typedef struct patch_thread {
    rw_patch_ctx *ctx;
    rw_patch_run *runbuf;
    size_t runcap;
    rw_patch_outline **outline; /* per reserve, parsed on first use */
} patch_thread;

/* Clips *poly to reserve r's outline (*poly NULL when nothing is left). */
static rw_status clip_to_reserve(patch_thread *pt, const outline_set *os, size_t r, GEOSGeometry **poly,
                                 rw_error *err)
{
    rw_status st = RW_OK;
    if (pt->outline[r] == NULL)
        RW_CHECK(rw_patch_outline_create(pt->ctx, os->wkb[r], os->size[r], &pt->outline[r], err));
    RW_CHECK(rw_patch_clip(pt->ctx, pt->outline[r], poly, err));
done:
    return st;
}

static rw_status build_one(const scan_job *job, patch_thread *pt, const outline_set *os,
                           const rw_label_patches *patches, const size_t *next, size_t i, double pixel_m2,
                           slot *out, rw_error *err)
{
    rw_status st = RW_OK;
    rw_patch_ctx *ctx = pt->ctx;
    GEOSContextHandle_t gc = rw_patch_ctx_geos(ctx);
    GEOSGeometry *poly = NULL;
    GEOSWKBWriter *wr = NULL;
    rw_label_stats merged;
    scan_group_stats(rw_label_patches_stats(patches), next, i, &merged);
    const rw_label_stats *s = &merged;
    rw_detection *d = &out->d;
    out->keep = 0;
    if (s->count < (uint64_t)job->mmu_pixels)
        goto done;
    double min_mmu = job->mmu_m2[0];
    for (int c = 1; c < RW_CATEGORY_COUNT; c++)
        min_mmu = fmin(min_mmu, job->mmu_m2[c]);
    if (s->count * pixel_m2 < 0.9 * min_mmu)
        goto done; /* cheap pre-filter; the geodesic area decides below */
    size_t nruns = 0;
    RW_CHECK(gather_runs(patches, next, i, &pt->runbuf, &pt->runcap, &nruns, err));
    RW_CHECK(rw_patch_polygon(ctx, pt->runbuf, nruns, job->after.info.gt, &poly, err));
    RW_CHECK(clip_to_reserve(pt, os, (size_t)s->key - 1, &poly, err));
    if (poly == NULL)
        goto done; /* only pixel edges or corners on the reserve's outline */
    RW_CHECK(rw_patch_geodesic_area(ctx, poly, &d->area_m2, err));
    const scan_category_in cin = {s, d->area_m2, scan_river_context(job, s)};
    int dominant;
    const char *basis;
    const int cat = scan_category_decide(&cin, &dominant, &basis);
    if (d->area_m2 < job->mmu_m2[cat])
        goto done;
    double radius;
    RW_CHECK(rw_patch_interior_point(ctx, poly, 0.25 * fabs(job->after.info.gt[1]), &d->x, &d->y, &radius, err));
    RW_CHECK(rw_patch_to_lonlat(ctx, d->x, d->y, &d->lon, &d->lat, err));
    RW_CHECK(rw_patch_format_dms(d->lon, true, d->lon_dms, sizeof(d->lon_dms), err));
    RW_CHECK(rw_patch_format_dms(d->lat, false, d->lat_dms, sizeof(d->lat_dms), err));
    const rw_reserve *res = rw_zones_reserve(job->zones, (size_t)s->key - 1);
    snprintf(d->reserve_id, sizeof(d->reserve_id), "%s", res->id);
    snprintf(d->reserve_name, sizeof(d->reserve_name), "%s", res->name);
    snprintf(d->city, sizeof(d->city), "%s", res->city);
    snprintf(d->county, sizeof(d->county), "%s", res->county);
    snprintf(d->zone, sizeof(d->zone), "%s", zone_label[patch_zone(s, d->zone_fraction)]);
    snprintf(d->category, sizeof(d->category), "%s", rw_category_key(cat));
    snprintf(d->change, sizeof(d->change), "%s", rw_change_class_get((rw_change_class)dominant)->key);
    snprintf(d->basis, sizeof(d->basis), "%s; %s", basis, rw_change_class_get((rw_change_class)dominant)->label);
    d->area_mu = rw_patch_area_mu(d->area_m2);
    d->area_ha = rw_patch_area_ha(d->area_m2);
    d->confidence = s->score_sum / (double)s->count;
    snprintf(d->after_date, sizeof(d->after_date), "%s", job->after.info.date);
    for (int k = 0; k < job->nbefore; k++) {
        const size_t len = strlen(d->before_date);
        snprintf(d->before_date + len, sizeof(d->before_date) - len, "%s%s", k ? ";" : "",
                 job->before[k].info.date);
    }
    wr = GEOSWKBWriter_create_r(gc);
    unsigned char *wkb = GEOSWKBWriter_write_r(gc, wr, poly, &d->wkb_size);
    RW_FAIL_IF(wkb == NULL, err, RW_ERR_INTERNAL, "patch %zu: cannot encode its polygon", i + 1);
    d->wkb = malloc(d->wkb_size);
    if (d->wkb != NULL)
        memcpy(d->wkb, wkb, d->wkb_size);
    GEOSFree_r(gc, wkb);
    RW_FAIL_IF(d->wkb == NULL, err, RW_ERR_NOMEM, "out of memory for a patch polygon");
    snprintf(d->status, sizeof(d->status), "%s", decide_status(job, d->wkb, d->wkb_size));
    out->keep = 1;
done:
    if (wr != NULL)
        GEOSWKBWriter_destroy_r(gc, wr);
    if (poly != NULL)
        GEOSGeom_destroy_r(gc, poly);
    return st;
}

/* Geodesic area of one pixel at the scene centre, for the pre-filter. */
static rw_status centre_pixel_area(const scan_job *job, rw_patch_ctx *ctx, double *m2, rw_error *err)
{
    rw_status st = RW_OK;
    GEOSGeometry *g = NULL;
    const rw_patch_run run = {job->after.info.height / 2, job->after.info.width / 2, 1};
    RW_CHECK(rw_patch_polygon(ctx, &run, 1, job->after.info.gt, &g, err));
    RW_CHECK(rw_patch_geodesic_area(ctx, g, m2, err));
done:
    if (g != NULL)
        GEOSGeom_destroy_r(rw_patch_ctx_geos(ctx), g);
    return st;
}

rw_status scan_patches_build(const scan_job *job, const rw_label_patches *patches, rw_detection **out,
                             size_t *count, rw_progress_fn progress, void *user, rw_error *err)
{
    rw_status st = RW_OK;
    const size_t n = rw_label_patches_count(patches);
    slot *slots = rw_calloc(n + 1, sizeof(*slots), err);
    size_t *group = rw_malloc((n + 1) * sizeof(*group), err);
    size_t *next = rw_malloc((n + 1) * sizeof(*next), err);
    rw_patch_ctx *ctx0 = NULL;
    outline_set os = {0};
    double pixel_m2 = 0.0;
    *out = NULL;
    *count = 0;
    RW_FAIL_IF(slots == NULL || group == NULL || next == NULL, err, RW_ERR_NOMEM, "out of memory for %zu patches",
               n);
    RW_CHECK(scan_group_patches(job, patches, group, next, err));
    RW_CHECK(outline_set_make(job, &os, err));
    RW_CHECK(rw_patch_ctx_create(job->after.info.wkt, &ctx0, err));
    RW_CHECK(centre_pixel_area(job, ctx0, &pixel_m2, err));
    int failed = 0;
    size_t built = 0;
#pragma omp parallel num_threads(job->threads)
    {
        rw_error local;
        rw_error_clear(&local);
        /* the first thread reuses the context made for the pixel area:
         * making one (PROJ transformations) is most of a small stage */
        patch_thread pt = {omp_get_thread_num() == 0 ? ctx0 : NULL, NULL, 0,
                           rw_calloc(os.n + 1, sizeof(rw_patch_outline *), &local)};
        if ((pt.ctx == NULL && rw_patch_ctx_create(job->after.info.wkt, &pt.ctx, &local) != RW_OK) ||
            pt.outline == NULL) {
#pragma omp critical(scan_patch_fail)
            {
                if (!failed)
                    *err = local;
                failed = 1;
            }
        }
#pragma omp for schedule(dynamic, 16)
        for (size_t i = 0; i < n; i++) {
            if (pt.ctx == NULL || pt.outline == NULL || failed || group[i] != i)
                continue; /* a group is built once, by its first patch */
            if (build_one(job, &pt, &os, patches, next, i, pixel_m2, &slots[i], &local) != RW_OK) {
#pragma omp critical(scan_patch_fail)
                {
                    if (!failed)
                        *err = local;
                    failed = 1;
                }
            }
#pragma omp atomic
            built++;
            if (progress != NULL && omp_get_thread_num() == 0)
                progress(0.85 + 0.1 * (double)built / (double)n, "patches", user);
        }
        free(pt.runbuf);
        for (size_t r = 0; pt.outline != NULL && r < os.n; r++)
            rw_patch_outline_destroy(pt.ctx, pt.outline[r]);
        free(pt.outline);
        if (pt.ctx != ctx0)
            rw_patch_ctx_destroy(pt.ctx);
    }
    if (failed) {
        st = err->status;
        goto done;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        kept += (size_t)slots[i].keep;
    rw_detection *d = rw_calloc(kept + 1, sizeof(*d), err);
    RW_FAIL_IF(d == NULL, err, RW_ERR_NOMEM, "out of memory for %zu detections", kept);
    /* ids: reserve id and a sequence per reserve in raster order of the
     * patches' first pixels, so a rerun gives the same ids */
    size_t m = 0;
    const size_t nres = rw_zones_reserve_count(job->zones);
    for (size_t r = 0; r < nres; r++) {
        int seq = 0;
        const char *rid = rw_zones_reserve(job->zones, r)->id;
        for (size_t i = 0; i < n; i++) {
            if (!slots[i].keep || strcmp(slots[i].d.reserve_id, rid) != 0)
                continue;
            d[m] = slots[i].d;
            slots[i].d.wkb = NULL;
            snprintf(d[m].id, sizeof(d[m].id), "%.18s-%04d", rid, ++seq);
            m++;
        }
    }
    *out = d;
    *count = m;
done:
    if (slots != NULL)
        for (size_t i = 0; i < n; i++)
            free(slots[i].d.wkb);
    free(slots);
    free(group);
    free(next);
    outline_set_free(&os);
    rw_patch_ctx_destroy(ctx0);
    return st;
}
