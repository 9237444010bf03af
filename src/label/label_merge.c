/* The serial merge: unite tile labels that touch across tile edges and
 * corners, number the sets by first pixel, add up their statistics and
 * join their runs. All statistics are integers (scores in fixed point),
 * so sums do not depend on the tiling or on the order tiles came in. */
#include "label.h"
#include "label_uf.h"

#include <stdlib.h>
#include <string.h>

struct rw_label_patches {
    size_t count;
    rw_label_stats *stats; /* count entries, sorted by first pixel */
    rw_label_run *runs;    /* grouped by patch, each group by (y, x0) */
    size_t *run_start;     /* count + 1: patch i owns runs[run_start[i] ..
                              run_start[i + 1]) */
};

/* Union-find over global labels: base[tile] + local label - 1. */
typedef struct merge_sets {
    const rw_label_tile_result *const *tiles;
    const size_t *base; /* first global label of each tile */
    size_t *parent;
} merge_sets;

/* Where a patch starts in raster order, to sort patches by it. */
typedef struct patch_order {
    int64_t first_y, first_x;
    size_t slot;
} patch_order;


static rw_status check_tile(const rw_label_tile_result *t, rw_rect want,
                            int index, rw_error *err)
{
    rw_status st = RW_OK;
    RW_FAIL_IF(memcmp(&t->win, &want, sizeof(want)) != 0, err,
               RW_ERR_INTERNAL,
               "label merge: tile %d is %dx%d+%d+%d, the tiling says "
               "%dx%d+%d+%d",
               index, t->win.w, t->win.h, t->win.x, t->win.y, want.w, want.h,
               want.x, want.y);
    for (size_t i = 0; i < t->run_count; i++)
        RW_FAIL_IF(t->runs[i].label == 0 || t->runs[i].label > t->count,
                   err, RW_ERR_INTERNAL,
                   "label merge: tile %d has a run of unknown label %u",
                   index, (unsigned)t->runs[i].label);
    const size_t strips = 2 * ((size_t)t->win.w + (size_t)t->win.h);
    for (size_t i = 0; i < strips; i++)
        RW_FAIL_IF(t->top[i] > t->count, err, RW_ERR_INTERNAL,
                   "label merge: tile %d has an edge of unknown label %u",
                   index, (unsigned)t->top[i]);
done:
    return st;
}

/* Unites labels of two facing strips of n pixels (or two corner pixels,
 * n = 1): pixel j of strip a touches pixels j - 1 .. j + 1 of strip b. */
static void join_strips(merge_sets *m, int ta, const uint32_t *a, int tb,
                        const uint32_t *b, size_t n)
{
    const rw_label_stats *sa = m->tiles[ta]->stats;
    const rw_label_stats *sb = m->tiles[tb]->stats;
    for (size_t j = 0; j < n; j++) {
        if (a[j] == 0)
            continue;
        const size_t lo = j > 0 ? j - 1 : 0;
        const size_t hi = j + 1 < n ? j + 1 : n - 1;
        for (size_t k = lo; k <= hi; k++)
            if (b[k] != 0 && sb[b[k] - 1].key == sa[a[j] - 1].key)
                rw_uf_unite(m->parent, m->base[ta] + a[j] - 1,
                      m->base[tb] + b[k] - 1);
    }
}

/* Joins tile i with its right, lower, lower-right and lower-left
 * neighbours, so every touching pair of tiles is visited once. */
static void join_neighbours(merge_sets *m, const rw_tiling *tiling, int i)
{
    const rw_label_tile_result *const *t = m->tiles;
    const rw_label_tile_result *a = t[i];
    const int col = i % tiling->cols, row = i / tiling->cols;
    const bool right = col + 1 < tiling->cols, left = col > 0;
    const bool below = row + 1 < tiling->rows;
    const int r = i + 1, d = i + tiling->cols;
    if (right && t[r] != NULL)
        join_strips(m, i, a->right, r, t[r]->left, (size_t)a->win.h);
    if (below && t[d] != NULL)
        join_strips(m, i, a->bottom, d, t[d]->top, (size_t)a->win.w);
    if (below && right && t[d + 1] != NULL)
        join_strips(m, i, &a->bottom[a->win.w - 1], d + 1, t[d + 1]->top, 1);
    if (below && left && t[d - 1] != NULL)
        join_strips(m, i, a->bottom, d - 1,
                    &t[d - 1]->top[t[d - 1]->win.w - 1], 1);
}

void rw_label_stats_add(rw_label_stats *d, const rw_label_stats *s)
{
    if (d->count == 0) {
        *d = *s;
        return;
    }
    d->count += s->count;
    for (int i = 0; i < RW_LABEL_MAX_ZONE; i++)
        d->zone_count[i] += s->zone_count[i];
    for (int i = 0; i < RW_LABEL_MAX_CLASS; i++)
        d->class_count[i] += s->class_count[i];
    for (int i = 0; i < RW_LABEL_MAX_FLAG; i++)
        d->flag_count[i] += s->flag_count[i];
    d->score_fixed += s->score_fixed;
    d->score_sum = (double)d->score_fixed / RW_LABEL_SCORE_ONE;
    if (s->min_x < d->min_x)
        d->min_x = s->min_x;
    if (s->min_y < d->min_y)
        d->min_y = s->min_y;
    if (s->max_x > d->max_x)
        d->max_x = s->max_x;
    if (s->max_y > d->max_y)
        d->max_y = s->max_y;
    if (s->first_y < d->first_y ||
        (s->first_y == d->first_y && s->first_x < d->first_x)) {
        d->first_y = s->first_y;
        d->first_x = s->first_x;
    }
}

/* First pixels are distinct, so the order is total. */
static int compare_order(const void *pa, const void *pb)
{
    const patch_order *a = pa, *b = pb;
    if (a->first_y != b->first_y)
        return a->first_y < b->first_y ? -1 : 1;
    if (a->first_x != b->first_x)
        return a->first_x < b->first_x ? -1 : 1;
    return 0;
}

/* Runs never overlap, so (label, y, x0) is a total order. */
static int compare_runs(const void *pa, const void *pb)
{
    const rw_label_run *a = pa, *b = pb;
    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    if (a->y != b->y)
        return a->y < b->y ? -1 : 1;
    if (a->x0 != b->x0)
        return a->x0 < b->x0 ? -1 : 1;
    return 0;
}

/* Sorts runs by patch then (y, x0), joins runs of one patch that meet on
 * a row (split only by tile edges) and indexes them per patch. */
static rw_status index_runs(rw_label_patches *p, size_t n, rw_error *err)
{
    rw_status st = RW_OK;
    qsort(p->runs, n, sizeof(*p->runs), compare_runs);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        const rw_label_run r = p->runs[i];
        rw_label_run *last = kept > 0 ? &p->runs[kept - 1] : NULL;
        if (last != NULL && last->label == r.label && last->y == r.y &&
            last->x0 + last->len == r.x0)
            last->len += r.len;
        else
            p->runs[kept++] = r;
    }
    p->run_start = rw_calloc(p->count + 1, sizeof(*p->run_start), err);
    RW_FAIL_IF(p->run_start == NULL, err, RW_ERR_NOMEM, "label runs");
    for (size_t i = 0; i < kept; i++)
        p->run_start[p->runs[i].label]++;
    for (size_t i = 0; i < p->count; i++)
        p->run_start[i + 1] += p->run_start[i];
done:
    return st;
}

rw_status rw_label_merge(const rw_tiling *tiling,
                         const rw_label_tile_result *const *tiles,
                         rw_label_patches **out, rw_error *err)
{
    rw_status st = RW_OK;
    rw_label_patches *p = NULL;
    size_t *base = NULL, *parent = NULL, *slot = NULL, *rank = NULL;
    rw_label_stats *sums = NULL;
    patch_order *order = NULL;
    *out = NULL;
    RW_FAIL_IF(tiling->tile <= 0 || tiling->cols <= 0 || tiling->rows <= 0,
               err, RW_ERR_INTERNAL, "label merge: empty tiling");
    const int ntiles = rw_tiling_count(tiling);

    base = rw_malloc((size_t)ntiles * sizeof(*base), err);
    RW_FAIL_IF(base == NULL, err, RW_ERR_NOMEM, "label merge");
    size_t labels = 0, runs = 0;
    for (int i = 0; i < ntiles; i++) {
        base[i] = labels;
        if (tiles[i] == NULL)
            continue;
        RW_CHECK(check_tile(tiles[i], rw_tiling_rect(tiling, i), i, err));
        labels += tiles[i]->count;
        runs += tiles[i]->run_count;
    }

    parent = rw_malloc(labels * sizeof(*parent), err);
    slot = rw_malloc(labels * sizeof(*slot), err);
    RW_FAIL_IF(parent == NULL || slot == NULL, err, RW_ERR_NOMEM,
               "label merge");
    for (size_t g = 0; g < labels; g++)
        parent[g] = g;
    merge_sets m = {tiles, base, parent};
    for (int i = 0; i < ntiles; i++)
        if (tiles[i] != NULL)
            join_neighbours(&m, tiling, i);

    p = rw_calloc(1, sizeof(*p), err);
    RW_FAIL_IF(p == NULL, err, RW_ERR_NOMEM, "label merge");
    /* A root is the smallest label of its set, so it gets its slot before
     * any other member asks for it. */
    for (size_t g = 0; g < labels; g++) {
        const size_t root = rw_uf_find(parent, g);
        slot[g] = root == g ? p->count++ : slot[root];
    }
    RW_FAIL_IF(p->count >= UINT32_MAX, err, RW_ERR_INTERNAL,
               "label merge: %zu patches overflow the run labels", p->count);
    sums = rw_calloc(p->count, sizeof(*sums), err);
    order = rw_malloc(p->count * sizeof(*order), err);
    rank = rw_malloc(p->count * sizeof(*rank), err);
    p->stats = rw_malloc(p->count * sizeof(*p->stats), err);
    p->runs = rw_malloc(runs * sizeof(*p->runs), err);
    RW_FAIL_IF(sums == NULL || order == NULL || rank == NULL ||
                   p->stats == NULL || p->runs == NULL,
               err, RW_ERR_NOMEM, "label merge");
    for (int i = 0; i < ntiles; i++)
        for (size_t l = 0; tiles[i] != NULL && l < tiles[i]->count; l++)
            rw_label_stats_add(&sums[slot[base[i] + l]], &tiles[i]->stats[l]);

    for (size_t s = 0; s < p->count; s++)
        order[s] = (patch_order){sums[s].first_y, sums[s].first_x, s};
    qsort(order, p->count, sizeof(*order), compare_order);
    for (size_t k = 0; k < p->count; k++) {
        p->stats[k] = sums[order[k].slot];
        rank[order[k].slot] = k;
    }

    size_t n = 0;
    for (int i = 0; i < ntiles; i++) {
        for (size_t r = 0; tiles[i] != NULL && r < tiles[i]->run_count; r++) {
            rw_label_run run = tiles[i]->runs[r];
            run.label = (uint32_t)(rank[slot[base[i] + run.label - 1]] + 1);
            p->runs[n++] = run;
        }
    }
    RW_CHECK(index_runs(p, n, err));
    *out = p;
    p = NULL;
done:
    rw_label_patches_destroy(p);
    free(base);
    free(parent);
    free(slot);
    free(rank);
    free(sums);
    free(order);
    return st;
}

void rw_label_patches_destroy(rw_label_patches *patches)
{
    if (patches == NULL)
        return;
    free(patches->stats);
    free(patches->runs);
    free(patches->run_start);
    free(patches);
}

size_t rw_label_patches_count(const rw_label_patches *patches)
{
    return patches->count;
}

const rw_label_stats *rw_label_patches_stats(const rw_label_patches *patches)
{
    return patches->stats;
}

const rw_label_run *rw_label_patches_runs(const rw_label_patches *patches,
                                          size_t i, size_t *n)
{
    *n = patches->run_start[i + 1] - patches->run_start[i];
    return patches->runs + patches->run_start[i];
}
