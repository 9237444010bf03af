/* Pass 2: per tile, the baseline (median of the clear normalised earlier
 * dates), the change class per pixel from the rule table, the
 * neighbourhood rules over the 1-pixel halo (shores, banks, channel edges,
 * misregistration fringes), the context flags, and the tile's labels. */
#include "scan_worker.h"

#include <gdal_alg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Burns river corridors into flag for window r. */
static rw_status burn_rivers(const scan_job *job, rw_rect r, uint8_t *flag, rw_error *err)
{
    if (job->nrivers == 0)
        return RW_OK;
    rw_status st = RW_OK;
    const double *gt = job->after.info.gt;
    GDALDatasetH mem = GDALCreate(GDALGetDriverByName("MEM"), "", r.w, r.h, 1, GDT_Byte, NULL);
    RW_FAIL_IF(mem == NULL, err, RW_ERR_NOMEM, "out of memory for a river tile");
    double mgt[6] = {gt[0] + r.x * gt[1], gt[1], 0, gt[3] + r.y * gt[5], 0, gt[5]};
    GDALSetGeoTransform(mem, mgt);
    const int band = 1;
    double *val = rw_malloc(sizeof(double) * job->nrivers, err);
    RW_FAIL_IF(val == NULL, err, RW_ERR_NOMEM, "out of memory for a river tile");
    for (size_t i = 0; i < job->nrivers; i++)
        val[i] = SCAN_FLAG_RIVER;
    const CPLErr e = GDALRasterizeGeometries(mem, 1, &band, (int)job->nrivers, job->rivers, NULL, NULL, val,
                                             NULL, NULL, NULL);
    free(val);
    RW_FAIL_IF(e != CE_None, err, RW_ERR_INTERNAL, "rasterising rivers failed: %s", CPLGetLastErrorMsg());
    RW_FAIL_IF(GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, r.w, r.h, flag, r.w, r.h, GDT_Byte, 0,
                            0) != CE_None,
               err, RW_ERR_INTERNAL, "reading a river tile failed");
done:
    if (mem != NULL)
        GDALClose(mem);
    return st;
}

/* What the earlier dates say of a window pixel. A pixel that was water on
 * some clear earlier dates and land on others (FACT_MIXED) is a seasonal
 * margin or a bank that misregistration moved by up to a pixel. */
enum {
    FACT_CLEAR = 1,       /* clear on some earlier date */
    FACT_MIXED = 2,       /* water on some, land on other clear earlier dates */
    FACT_ALL_WATER = 4,   /* water on every clear earlier date */
    FACT_NEW_WATER = 8,   /* land to water, land on every earlier date */
    FACT_NEW_BED = 16,    /* water to land, water on every earlier date */
    FACT_TURBID = 32,     /* turbid water, water on every earlier date */
    FACT_SURE = FACT_NEW_WATER | FACT_NEW_BED
};

/* Baseline of window pixel j: per band median of its clear earlier dates,
 * normalised; only the water dates (want 1) or land dates (want 0) when
 * want >= 0. Returns the number of dates used. */
static int baseline_at(const scan_job *job, const scan_worker *w, size_t j, int want, float *out)
{
    float v[RW_BAND_COUNT][SCAN_MAX_BEFORE];
    int n = 0;
    for (int k = 0; k < job->nbefore; k++) {
        if (!scan_qa_clear(w->bq[k][j]) || (want >= 0 && ((w->bq[k][j] & RW_QA_WATER) != 0) != want))
            continue;
        for (int b = 0; b < RW_BAND_COUNT; b++)
            if (job->band_mask & RW_BAND_BIT(b))
                v[b][n] = (float)(job->before[k].fit[b].gain * w->b[k][b][j] + job->before[k].fit[b].offset);
        n++;
    }
    for (int b = 0; b < RW_BAND_COUNT; b++)
        out[b] = (job->band_mask & RW_BAND_BIT(b)) && n > 0 ? rw_change_median(v[b], n) : NAN;
    return n;
}

/* Classifies every pixel of the window (tile and halo) against its
 * baseline and records the facts the neighbourhood rules need. Water now
 * on a mixed pixel is compared with its water dates only: a median of
 * water and land is neither, and would hide a turbid plume. */
static void classify_window(const scan_job *job, scan_worker *w)
{
    const size_t nb = (size_t)w->bwin.w * (size_t)w->bwin.h;
    for (size_t j = 0; j < nb; j++) {
        int nclear = 0, nwater = 0;
        for (int k = 0; k < job->nbefore; k++)
            if (scan_qa_clear(w->bq[k][j])) {
                nclear++;
                nwater += (w->bq[k][j] & RW_QA_WATER) != 0;
            }
        const bool mixed = nwater > 0 && nwater < nclear;
        if (job->nbefore > 1) {
            float px[RW_BAND_COUNT];
            baseline_at(job, w, j, mixed && (w->aq[j] & RW_QA_WATER) ? 1 : -1, px);
            for (int b = 0; b < RW_BAND_COUNT; b++)
                if (job->band_mask & RW_BAND_BIT(b))
                    w->base[b][j] = px[b];
        }
        w->facts[j] = (uint8_t)((nclear > 0 ? FACT_CLEAR : 0) | (mixed ? FACT_MIXED : 0) |
                                (nclear > 0 && nwater == nclear ? FACT_ALL_WATER : 0));
    }
    /* one earlier date is its own baseline (what baseline_at gives), band
     * by band: the pixel loop above spent a tenth of the pass on it */
    for (int b = 0; b < RW_BAND_COUNT && job->nbefore == 1; b++) {
        if (!(job->band_mask & RW_BAND_BIT(b)))
            continue;
        const rw_change_fit f = job->before[0].fit[b];
        const float *v = w->b[0][b];
        for (size_t j = 0; j < nb; j++)
            w->base[b][j] = scan_qa_clear(w->bq[0][j]) ? (float)(f.gain * v[j] + f.offset) : NAN;
    }
    const float *base[RW_BAND_COUNT], *after[RW_BAND_COUNT];
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        base[b] = w->base[b];
        after[b] = w->a[b];
    }
    rw_change_classify_planar(job->rules, base, after, job->band_mask, nb, w->wcls, w->wscore, NULL);
    for (size_t j = 0; j < nb; j++) {
        const uint8_t f = w->facts[j];
        const bool ok = (f & FACT_CLEAR) && scan_qa_clear(w->aq[j]);
        /* water on any earlier date is not new water (seasonal lakes) */
        if (w->wcls[j] == RW_CHANGE_LAND_TO_WATER && (f & (FACT_MIXED | FACT_ALL_WATER)))
            w->wcls[j] = RW_CHANGE_NONE;
        if (ok && w->wcls[j] == RW_CHANGE_LAND_TO_WATER)
            w->facts[j] |= FACT_NEW_WATER;
        if (ok && w->wcls[j] == RW_CHANGE_WATER_TO_LAND && (f & FACT_ALL_WATER))
            w->facts[j] |= FACT_NEW_BED;
        if (ok && w->wcls[j] == RW_CHANGE_TURBIDITY && (f & FACT_ALL_WATER))
            w->facts[j] |= FACT_TURBID;
    }
}

/* Window offsets of the 8 neighbours of window pixel (x, y) that lie in
 * the window, row by row; returns how many. */
static int neighbours(const scan_worker *w, int x, int y, size_t out[8])
{
    const rw_rect bw = w->bwin;
    int count = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            const int nx = x + dx, ny = y + dy;
            if ((dx != 0 || dy != 0) && nx >= 0 && ny >= 0 && nx < bw.w && ny < bw.h)
                out[count++] = (size_t)ny * (size_t)bw.w + (size_t)nx;
        }
    return count;
}

/* Whether window pixel (x, y) or one of its 8 neighbours has a fact. */
static bool near(const scan_worker *w, int x, int y, uint8_t fact)
{
    if (w->facts[(size_t)y * (size_t)w->bwin.w + (size_t)x] & fact)
        return true;
    size_t nb[8];
    const int count = neighbours(w, x, y, nb);
    for (int i = 0; i < count; i++)
        if (w->facts[nb[i]] & fact)
            return true;
    return false;
}

/* Whether the rules give want for window pixel j's later values against
 * baseline base; *score then gets the rule's score. */
static bool rules_agree(const scan_job *job, const scan_worker *w, size_t j, const float *base,
                        rw_change_class want, float *score)
{
    float after[RW_BAND_COUNT], s = 0.0f;
    for (int b = 0; b < RW_BAND_COUNT; b++)
        after[b] = (job->band_mask & RW_BAND_BIT(b)) ? w->a[b][j] : NAN;
    if (rw_change_classify_pixel(job->rules, base, after, job->band_mask, &s, NULL) != want)
        return false;
    *score = s;
    return true;
}

/* A mixed pixel beside certain new water or a certain emerging bed is a
 * bank that misregistration moved: a reservoir that rose over it, a reach
 * that fell dry. Compared with the earlier dates of the state it left
 * (land dates for new water, water dates for a bed), it takes that change
 * when the rules agree; otherwise it keeps its own class. Only one pixel
 * deep, as misregistration is at most about a pixel: a seasonal margin
 * does not grow into a reservoir. */
static uint8_t bank_class(const scan_job *job, const scan_worker *w, int x, int y, float *score)
{
    const size_t j = (size_t)y * (size_t)w->bwin.w + (size_t)x;
    const bool water_now = (w->aq[j] & RW_QA_WATER) != 0;
    const uint8_t sure = water_now ? FACT_NEW_WATER : FACT_NEW_BED;
    const rw_change_class want = water_now ? RW_CHANGE_LAND_TO_WATER : RW_CHANGE_WATER_TO_LAND;
    uint8_t c = w->wcls[j];
    if (c == RW_CHANGE_LAND_TO_WATER)
        c = RW_CHANGE_NONE; /* water on an earlier date */
    if (!near(w, x, y, sure))
        return c;
    /* most dates already saw what the pixel is now: the others had the
     * bank moved by their misregistration. On a tie the date left nearest
     * the later grid decides: the ground it shows at the pixel lies
     * closest to the pixel's centre. */
    int same = 0, other = 0;
    double same_r = HUGE_VAL, other_r = HUGE_VAL;
    for (int k = 0; k < job->nbefore; k++)
        if (scan_qa_clear(w->bq[k][j])) {
            const bool was = ((w->bq[k][j] & RW_QA_WATER) != 0) == water_now;
            same += was;
            other += !was;
            if (was)
                same_r = fmin(same_r, job->before[k].residual_px);
            else
                other_r = fmin(other_r, job->before[k].residual_px);
        }
    if (same > other || (same == other && same_r + 0.05 < other_r))
        return c;
    float base[RW_BAND_COUNT];
    if (baseline_at(job, w, j, water_now ? 0 : 1, base) == 0 || !rules_agree(job, w, j, base, want, score))
        return c;
    return (uint8_t)want;
}

/* Whether the change at window pixel (x, y) has a neighbour that was
 * already what the pixel is now: not vegetation (baseline NDVI below the
 * rules' 0.35) and about as bright (within a quarter). Lost vegetation
 * beside an old road or clearing, new water beside old water, a new bed
 * beside an old bar: the same ground, one pixel over. A patch made only of
 * such pixels is an edge that a residual misregistration moved (a road, a
 * shore, a bar between two channels), not a new disturbance. */
static bool fringe(const scan_worker *w, int x, int y)
{
    const size_t j = (size_t)y * (size_t)w->bwin.w + (size_t)x;
    const float now = (w->a[RW_BAND_BLUE][j] + w->a[RW_BAND_GREEN][j] + w->a[RW_BAND_RED][j]) / 3.0f;
    size_t nb[8];
    const int count = neighbours(w, x, y, nb);
    for (int i = 0; i < count; i++) {
        const size_t n = nb[i];
        const float nir = w->base[RW_BAND_NIR][n], red = w->base[RW_BAND_RED][n];
        const float was = (w->base[RW_BAND_BLUE][n] + w->base[RW_BAND_GREEN][n] + red) / 3.0f;
        if ((nir - red) < 0.35f * (nir + red) && fabsf(was - now) <= 0.25f * now)
            return true;
    }
    return false;
}

/* A pixel at the edge of a certain change in a channel that stayed water
 * on every earlier date: a turbid plume (water now) or a dry bed (land
 * now). Resampling an earlier scene onto the analysis grid blends the
 * bank into the channel's edge pixels, so their own baseline is no longer
 * water by the rules, although the mask (resampled by nearest neighbour:
 * the majority of the pixel) says it was. Compared with the baseline of
 * the neighbour that changed (the channel itself), the pixel takes that
 * change when the rules agree. One pixel deep; water next to a plume
 * stays clean water unless the rules call it turbid against the channel,
 * and land now that the mask did not call water on every earlier date
 * (the bank) is never a dry bed. */
static uint8_t channel_edge_class(const scan_job *job, const scan_worker *w, int x, int y, float *score)
{
    const size_t j = (size_t)y * (size_t)w->bwin.w + (size_t)x;
    const bool water_now = (w->aq[j] & RW_QA_WATER) != 0;
    const uint8_t sure = water_now ? FACT_TURBID : FACT_NEW_BED;
    const rw_change_class want = water_now ? RW_CHANGE_TURBIDITY : RW_CHANGE_WATER_TO_LAND;
    if (!water_now && !(w->facts[j] & FACT_ALL_WATER))
        return RW_CHANGE_NONE; /* bank land: the mask says it was land */
    /* neighbours in a fixed order, so the result never depends on tiling
     * (the pixel itself never has the fact: it would have that class) */
    size_t nb[8];
    const int count = neighbours(w, x, y, nb);
    for (int i = 0; i < count; i++) {
        const size_t n = nb[i];
        if (!(w->facts[n] & sure))
            continue;
        float base[RW_BAND_COUNT];
        for (int b = 0; b < RW_BAND_COUNT; b++)
            base[b] = (job->band_mask & RW_BAND_BIT(b)) ? w->base[b][n] : NAN;
        if (rules_agree(job, w, j, base, want, score))
            return (uint8_t)want;
    }
    return RW_CHANGE_NONE;
}

/* Context bits of a bed that fell dry at window pixel (x, y): beside land
 * on every date (a bank) and beside water that stayed water (a channel
 * still flowing). */
static uint8_t bed_context(const scan_worker *w, int x, int y)
{
    uint8_t fl = 0;
    size_t nb[8];
    const int count = neighbours(w, x, y, nb);
    for (int i = 0; i < count; i++) {
        const size_t n = nb[i];
        const uint8_t f = w->facts[n];
        if (!(f & FACT_CLEAR) || !scan_qa_clear(w->aq[n]))
            continue;
        const bool water_now = (w->aq[n] & RW_QA_WATER) != 0;
        if (!water_now && !(f & (FACT_MIXED | FACT_ALL_WATER)))
            fl |= SCAN_FLAG_BANK;
        else if (water_now && (f & FACT_ALL_WATER))
            fl |= SCAN_FLAG_CHANNEL;
    }
    return fl;
}

static rw_status label_tile(const scan_job *job, scan_worker *w, int t, rw_label_tile_result **out, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect r = rw_tiling_rect(&job->tiling, t);
    const size_t npx = (size_t)r.w * (size_t)r.h;
    *out = NULL;
    RW_CHECK(rw_zones_burn(job->zones, job->after.info.gt, r, w->reserve, w->zone, err));
    size_t inside = 0;
    for (size_t i = 0; i < npx; i++)
        inside += w->reserve[i] != 0;
    if (inside == 0)
        goto done; /* the tile's box touches a reserve but no pixel centre does */
    RW_CHECK(scan_worker_read(job, w, t, true, err));
    memset(w->flag, 0, npx);
    RW_CHECK(burn_rivers(job, r, w->flag, err));
    classify_window(job, w);
    for (size_t i = 0; i < npx; i++) {
        /* the pixel in window coordinates: the tile inside its halo */
        const int x = (int)(i % (size_t)r.w) + r.x - w->bwin.x, y = (int)(i / (size_t)r.w) + r.y - w->bwin.y;
        const size_t j = (size_t)y * (size_t)w->bwin.w + (size_t)x;
        const uint8_t f = w->facts[j];
        const bool usable = (f & FACT_CLEAR) && scan_qa_clear(w->aq[j]) && w->reserve[i] != 0;
        float score = w->wscore[j];
        uint8_t c = usable ? w->wcls[j] : RW_CHANGE_NONE;
        if (usable && (f & FACT_MIXED) && !(f & FACT_SURE))
            c = bank_class(job, w, x, y, &score);
        if (usable && c == RW_CHANGE_NONE)
            c = channel_edge_class(job, w, x, y, &score);
        /* on or next to a shore that was water on some earlier dates and
         * land on others, lost vegetation is the lake's stage (or a bank
         * the dates disagree on), not a disturbance */
        if ((c == RW_CHANGE_VEG_TO_BARE || c == RW_CHANGE_VEG_TO_BUILT || c == RW_CHANGE_VEG_TO_SOIL ||
             c == RW_CHANGE_BARE_TO_ROCK) &&
            near(w, x, y, FACT_MIXED))
            c = RW_CHANGE_NONE;
        w->cls[i] = c;
        w->score[i] = c != RW_CHANGE_NONE ? score : 0.0f;
        w->key[i] = c != RW_CHANGE_NONE ? w->reserve[i] : 0;
        uint8_t fl = w->flag[i];
        /* on or beside permanent water: without --rivers, the banks a
         * reservoir raised have the river next to them, not under them
         * (flags count for patch pixels only) */
        if (c != RW_CHANGE_NONE && near(w, x, y, FACT_ALL_WATER))
            fl |= SCAN_FLAG_WATER;
        const float bb = w->a[RW_BAND_BLUE][j], rr = w->a[RW_BAND_RED][j];
        if (c == RW_CHANGE_VEG_TO_BUILT && (bb - rr) > 0.08f * (bb + rr))
            fl |= SCAN_FLAG_BLUEROOF;
        if (c != RW_CHANGE_NONE && c != RW_CHANGE_TURBIDITY && fringe(w, x, y))
            fl |= SCAN_FLAG_FRINGE;
        if (c == RW_CHANGE_WATER_TO_LAND)
            fl |= bed_context(w, x, y);
        w->flag[i] = fl;
    }
    const rw_label_input in = {r, w->key, w->cls, w->zone, w->score, w->flag};
    RW_CHECK(rw_label_tile_create(w->scratch, &in, out, err));
done:
    return st;
}

static rw_status label_work(const scan_job *job, scan_worker *w, int t, void *ctx, rw_error *err)
{
    rw_label_tile_result **results = ctx;
    return label_tile(job, w, t, &results[t], err);
}

rw_status scan_tiles_label(const scan_job *job, scan_workers *ws, rw_label_tile_result **results,
                           rw_progress_fn progress, void *user, rw_error *err)
{
    return scan_tiles_run(job, ws, true, label_work, results, progress, user, 0.3, 0.5, "detect", err);
}
