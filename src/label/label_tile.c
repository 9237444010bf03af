/* Labelling one tile: horizontal runs of equal key, union-find over runs
 * (two passes), then per-label statistics and the edge strips the merge
 * needs. Working on runs keeps the union-find small for blobby masks. */
#include "label.h"
#include "label_uf.h"

#include <stdlib.h>

struct rw_label_scratch {
    size_t capacity;     /* pixels of the largest tile = worst-case runs */
    rw_label_run *runs;  /* the tile's runs, tile-local while labelling */
    size_t *parent;      /* union-find over run indices */
};

rw_status rw_label_scratch_create(int max_w, int max_h,
                                  rw_label_scratch **out, rw_error *err)
{
    rw_status st = RW_OK;
    rw_label_scratch *s = NULL;
    *out = NULL;
    RW_FAIL_IF(max_w <= 0 || max_h <= 0, err, RW_ERR_INTERNAL,
               "label scratch: bad tile size %d x %d", max_w, max_h);
    const size_t capacity = (size_t)max_w * (size_t)max_h;
    /* Run indices and labels are uint32. */
    RW_FAIL_IF(capacity >= UINT32_MAX, err, RW_ERR_INTERNAL,
               "label scratch: tile of %d x %d pixels is too large", max_w,
               max_h);
    s = rw_calloc(1, sizeof(*s), err);
    RW_FAIL_IF(s == NULL, err, RW_ERR_NOMEM, "label scratch");
    s->capacity = capacity;
    s->runs = rw_malloc(capacity * sizeof(*s->runs), err);
    s->parent = rw_malloc(capacity * sizeof(*s->parent), err);
    RW_FAIL_IF(s->runs == NULL || s->parent == NULL, err, RW_ERR_NOMEM,
               "label scratch");
    *out = s;
    s = NULL;
done:
    rw_label_scratch_destroy(s);
    return st;
}

void rw_label_scratch_destroy(rw_label_scratch *scratch)
{
    if (scratch == NULL)
        return;
    free(scratch->runs);
    free(scratch->parent);
    free(scratch);
}


/* First pass: runs of equal nonzero key per row, in tile coordinates,
 * united with the runs above they touch (8-connectivity, same key).
 * Returns the number of runs. */
static uint32_t collect_runs(const rw_label_input *in, rw_label_run *runs,
                             size_t *parent)
{
    const int w = in->win.w;
    uint32_t n = 0, above_begin = 0, above_end = 0;
    for (int y = 0; y < in->win.h; y++) {
        const uint16_t *row = in->key + (size_t)y * (size_t)w;
        const uint16_t *above = y > 0 ? row - w : row;
        const uint32_t row_begin = n;
        uint32_t p = above_begin;
        for (int x = 0; x < w;) {
            const uint16_t k = row[x];
            if (k == 0) {
                x++;
                continue;
            }
            const int x0 = x;
            while (x < w && row[x] == k)
                x++;
            runs[n] = (rw_label_run){y, x0, x - x0, 0};
            parent[n] = n;
            /* A run above touches this one when it covers a column in
             * x0 - 1 .. x. Runs skipped here end too far left for every
             * later run of this row as well. */
            while (p < above_end && runs[p].x0 + runs[p].len < x0)
                p++;
            for (uint32_t q = p; q < above_end && runs[q].x0 <= x; q++)
                if (above[runs[q].x0] == k)
                    rw_uf_unite(parent, q, n);
            n++;
        }
        above_begin = row_begin;
        above_end = n;
    }
    return n;
}

/* Second pass: label = rank of the set's root among roots. Returns the
 * label count. */
static uint32_t number_labels(rw_label_run *runs, size_t *parent,
                              uint32_t n)
{
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint32_t root = (uint32_t)rw_uf_find(parent, i);
        runs[i].label = root == i ? ++count : runs[root].label;
    }
    return count;
}

static uint64_t score_to_fixed(float score)
{
    if (!(score > 0.0f)) /* also NaN */
        return 0;
    if (score >= 1.0f)
        return (uint64_t)RW_LABEL_SCORE_ONE;
    return (uint64_t)((double)score * RW_LABEL_SCORE_ONE + 0.5);
}

/* Adds a tile-local run to its label's statistics; runs arrive in raster
 * order, so the first run of a label holds its first pixel. Returns false
 * on a class or zone out of range. */
static bool add_run(rw_label_stats *s, const rw_label_run *r,
                    const rw_label_input *in)
{
    const int64_t gx0 = (int64_t)in->win.x + r->x0;
    const int64_t gx1 = gx0 + r->len - 1;
    const int64_t gy = (int64_t)in->win.y + r->y;
    const size_t at = (size_t)r->y * (size_t)in->win.w + (size_t)r->x0;
    if (s->count == 0) {
        s->key = in->key[at];
        s->first_y = s->min_y = gy;
        s->first_x = s->min_x = gx0;
        s->max_x = gx1;
    }
    s->max_y = gy;
    if (gx0 < s->min_x)
        s->min_x = gx0;
    if (gx1 > s->max_x)
        s->max_x = gx1;
    for (size_t i = at; i < at + (size_t)r->len; i++) {
        if (in->cls[i] >= RW_LABEL_MAX_CLASS ||
            in->zone[i] >= RW_LABEL_MAX_ZONE)
            return false;
        s->class_count[in->cls[i]]++;
        s->zone_count[in->zone[i]]++;
        for (int b = 0; b < RW_LABEL_MAX_FLAG; b++)
            s->flag_count[b] += (in->flag[i] >> b) & 1u;
        s->score_fixed += score_to_fixed(in->score[i]);
    }
    s->count += (uint64_t)r->len;
    s->score_sum = (double)s->score_fixed / RW_LABEL_SCORE_ONE;
    return true;
}

static void mark_edges(rw_label_tile_result *t, const rw_label_run *r)
{
    if (r->y == 0)
        for (int x = r->x0; x < r->x0 + r->len; x++)
            t->top[x] = r->label;
    if (r->y == t->win.h - 1)
        for (int x = r->x0; x < r->x0 + r->len; x++)
            t->bottom[x] = r->label;
    if (r->x0 == 0)
        t->left[r->y] = r->label;
    if (r->x0 + r->len == t->win.w)
        t->right[r->y] = r->label;
}

rw_status rw_label_tile_create(rw_label_scratch *scratch,
                               const rw_label_input *in,
                               rw_label_tile_result **out, rw_error *err)
{
    rw_status st = RW_OK;
    rw_label_tile_result *t = NULL;
    *out = NULL;
    const rw_rect win = in->win;
    RW_FAIL_IF(rw_rect_is_empty(win) ||
                   (size_t)win.w * (size_t)win.h > scratch->capacity,
               err, RW_ERR_INTERNAL,
               "label: tile %d x %d does not fit the scratch of %zu pixels",
               win.w, win.h, scratch->capacity);
    RW_FAIL_IF(in->key == NULL || in->cls == NULL || in->zone == NULL ||
                   in->score == NULL || in->flag == NULL,
               err, RW_ERR_INTERNAL, "label: missing input buffer");

    const uint32_t n = collect_runs(in, scratch->runs, scratch->parent);
    const uint32_t count = number_labels(scratch->runs, scratch->parent, n);

    t = rw_calloc(1, sizeof(*t), err);
    RW_FAIL_IF(t == NULL, err, RW_ERR_NOMEM, "label tile");
    t->win = win;
    t->count = count;
    t->run_count = n;
    t->stats = rw_calloc(count, sizeof(*t->stats), err);
    t->runs = rw_malloc((size_t)n * sizeof(*t->runs), err);
    /* One block for the four strips: top, bottom, left, right. */
    t->top = rw_calloc(2 * ((size_t)win.w + (size_t)win.h),
                       sizeof(*t->top), err);
    RW_FAIL_IF(t->stats == NULL || t->runs == NULL || t->top == NULL, err,
               RW_ERR_NOMEM, "label tile");
    t->bottom = t->top + win.w;
    t->left = t->bottom + win.w;
    t->right = t->left + win.h;

    for (uint32_t i = 0; i < n; i++) {
        const rw_label_run *r = &scratch->runs[i];
        RW_FAIL_IF(!add_run(&t->stats[r->label - 1], r, in), err,
                   RW_ERR_INTERNAL,
                   "label: class or zone out of range in row %d",
                   win.y + r->y);
        mark_edges(t, r);
        t->runs[i] = (rw_label_run){win.y + r->y, win.x + r->x0, r->len,
                                    r->label};
    }
    *out = t;
    t = NULL;
done:
    rw_label_tile_destroy(t);
    return st;
}

void rw_label_tile_destroy(rw_label_tile_result *tile)
{
    if (tile == NULL)
        return;
    free(tile->stats);
    free(tile->runs);
    free(tile->top);
    free(tile);
}
