/* Unit tests of src/label: single-tile shapes with exact statistics and
 * runs, merges across tile edges and corners, identical output for every
 * tile size and tile order, and agreement with a brute-force flood fill. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "label.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A whole raster with every input layer. */
typedef struct grid {
    int w, h;
    uint16_t *key;
    uint8_t *cls, *zone, *flag;
    float *score;
} grid;

static void grid_destroy(grid *g)
{
    if (g == NULL)
        return;
    free(g->key);
    free(g->cls);
    free(g->zone);
    free(g->flag);
    free(g->score);
    free(g);
}

/* Every candidate defaults to class 1, zone 0, no flag, score 0. */
static grid *grid_create(int w, int h)
{
    const size_t n = (size_t)w * (size_t)h;
    grid *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->w = w;
    g->h = h;
    g->key = calloc(n, sizeof(*g->key));
    g->cls = malloc(n);
    g->zone = calloc(n, 1);
    g->flag = calloc(n, 1);
    g->score = calloc(n, sizeof(*g->score));
    assert_true(g->key && g->cls && g->zone && g->flag && g->score);
    memset(g->cls, 1, n);
    return g;
}

/* Rows of '.' (no candidate) or a digit (the key). */
static grid *grid_from_art(const char *const *rows, int h)
{
    grid *g = grid_create((int)strlen(rows[0]), h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < g->w; x++)
            g->key[(size_t)y * g->w + x] =
                rows[y][x] == '.' ? 0 : (uint16_t)(rows[y][x] - '0');
    return g;
}

/* Blobs: a box-blurred random field above a threshold, keys 1..3 from a
 * coarse cell pattern (so blobs with different keys touch), plus scattered
 * single pixels; classes, zones, flags and scores at random, with some
 * scores exactly 0 or 1. */
static grid *grid_random(int w, int h, uint64_t seed)
{
    grid *g = grid_create(w, h);
    const size_t n = (size_t)w * (size_t)h;
    double *f = malloc(n * sizeof(*f)), *t = malloc(n * sizeof(*t));
    assert_true(f && t);
    for (size_t i = 0; i < n; i++)
        f[i] = rw_hash_unit(seed, i);
    for (int pass = 0; pass < 3; pass++) {
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                double s = 0;
                int c = 0;
                for (int dy = -2; dy <= 2; dy++)
                    for (int dx = -2; dx <= 2; dx++)
                        if (y + dy >= 0 && y + dy < h && x + dx >= 0 &&
                            x + dx < w) {
                            s += f[(size_t)(y + dy) * w + (x + dx)];
                            c++;
                        }
                t[(size_t)y * w + x] = s / c;
            }
        memcpy(f, t, n * sizeof(*f));
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const size_t i = (size_t)y * w + x;
            const uint64_t cell = (uint64_t)(y / 11) * 1000 + (uint64_t)(x / 13);
            if (f[i] > 0.51 || rw_hash_unit(seed + 1, i) < 0.02)
                g->key[i] = (uint16_t)(1 + rw_hash64(seed + 2, cell) % 3);
            g->cls[i] = (uint8_t)(1 + rw_hash64(seed + 3, i) % 7);
            g->zone[i] = (uint8_t)(rw_hash64(seed + 4, i) % 4);
            g->flag[i] = (uint8_t)rw_hash64(seed + 5, i);
            const double u = rw_hash_unit(seed + 6, i);
            g->score[i] = u < 0.03 ? 0.0f
                          : u < 0.06 ? 1.0f
                                     : (float)rw_hash_unit(seed + 7, i);
        }
    free(f);
    free(t);
    return g;
}

/* Input buffers for one tile window, filled from a grid. */
typedef struct window {
    uint16_t *key;
    uint8_t *cls, *zone, *flag;
    float *score;
} window;

static void window_alloc(window *wb, size_t n)
{
    wb->key = malloc(n * sizeof(*wb->key));
    wb->cls = malloc(n);
    wb->zone = malloc(n);
    wb->flag = malloc(n);
    wb->score = malloc(n * sizeof(*wb->score));
}

static void window_free(window *wb)
{
    free(wb->key);
    free(wb->cls);
    free(wb->zone);
    free(wb->flag);
    free(wb->score);
}

/* Copies r out of g; returns whether it holds a candidate. */
static bool window_fill(window *wb, const grid *g, rw_rect r,
                        rw_label_input *in)
{
    bool any = false;
    for (int y = 0; y < r.h; y++) {
        const size_t src = (size_t)(r.y + y) * g->w + r.x;
        const size_t dst = (size_t)y * r.w;
        memcpy(wb->key + dst, g->key + src, r.w * sizeof(*wb->key));
        memcpy(wb->cls + dst, g->cls + src, r.w);
        memcpy(wb->zone + dst, g->zone + src, r.w);
        memcpy(wb->flag + dst, g->flag + src, r.w);
        memcpy(wb->score + dst, g->score + src, r.w * sizeof(*wb->score));
        for (int x = 0; x < r.w; x++)
            any = any || wb->key[dst + x] != 0;
    }
    *in = (rw_label_input){r, wb->key, wb->cls, wb->zone, wb->score,
                           wb->flag};
    return any;
}

typedef struct run_plan {
    int tile;
    uint64_t shuffle_seed; /* 0: tiles in index order */
    int threads;
    bool skip_empty; /* empty tiles passed to the merge as NULL */
} run_plan;

/* Labels g tile by tile as the scan would (one scratch per thread, tiles
 * in plan order) and merges. */
static rw_label_patches *label_grid(const grid *g, run_plan plan)
{
    const rw_tiling tiling = rw_tiling_make(g->w, g->h, plan.tile);
    const int n = rw_tiling_count(&tiling);
    const int tw = plan.tile < g->w ? plan.tile : g->w;
    const int th = plan.tile < g->h ? plan.tile : g->h;
    rw_label_tile_result **res = calloc((size_t)n, sizeof(*res));
    int *order = malloc((size_t)n * sizeof(*order));
    rw_status *status = calloc((size_t)n, sizeof(*status));
    assert_true(res && order && status);
    for (int i = 0; i < n; i++)
        order[i] = i;
    for (int i = n - 1; plan.shuffle_seed != 0 && i > 0; i--) {
        const int j = (int)(rw_hash64(plan.shuffle_seed, (uint64_t)i) %
                            (uint64_t)(i + 1));
        const int swap = order[i];
        order[i] = order[j];
        order[j] = swap;
    }

#pragma omp parallel num_threads(plan.threads)
    {
        rw_error err = {0};
        rw_label_scratch *scratch = NULL;
        window wb;
        window_alloc(&wb, (size_t)tw * (size_t)th);
        const rw_status sst = rw_label_scratch_create(tw, th, &scratch, &err);
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < n; k++) {
            const int i = order[k];
            rw_label_input in;
            const bool any =
                window_fill(&wb, g, rw_tiling_rect(&tiling, i), &in);
            status[i] = sst;
            if (sst == RW_OK && (any || !plan.skip_empty))
                status[i] = rw_label_tile_create(scratch, &in, &res[i], &err);
        }
        rw_label_scratch_destroy(scratch);
        window_free(&wb);
    }

    rw_label_patches *patches = NULL;
    rw_error err = {0};
    for (int i = 0; i < n; i++)
        assert_int_equal(status[i], RW_OK);
    assert_int_equal(
        rw_label_merge(&tiling, (const rw_label_tile_result *const *)res,
                       &patches, &err),
        RW_OK);
    for (int i = 0; i < n; i++)
        rw_label_tile_destroy(res[i]);
    free(res);
    free(order);
    free(status);
    return patches;
}

static rw_label_patches *label_single(const grid *g)
{
    return label_grid(g, (run_plan){g->w + g->h, 0, 1, false});
}

static void assert_stats_equal(const rw_label_stats *a,
                               const rw_label_stats *b)
{
    assert_int_equal(a->count, b->count);
    assert_int_equal(a->key, b->key);
    for (int i = 0; i < RW_LABEL_MAX_ZONE; i++)
        assert_int_equal(a->zone_count[i], b->zone_count[i]);
    for (int i = 0; i < RW_LABEL_MAX_CLASS; i++)
        assert_int_equal(a->class_count[i], b->class_count[i]);
    for (int i = 0; i < RW_LABEL_MAX_FLAG; i++)
        assert_int_equal(a->flag_count[i], b->flag_count[i]);
    assert_int_equal(a->score_fixed, b->score_fixed);
    assert_true(a->score_sum == b->score_sum);
    assert_int_equal(a->min_x, b->min_x);
    assert_int_equal(a->min_y, b->min_y);
    assert_int_equal(a->max_x, b->max_x);
    assert_int_equal(a->max_y, b->max_y);
    assert_int_equal(a->first_y, b->first_y);
    assert_int_equal(a->first_x, b->first_x);
}

static void assert_patches_equal(const rw_label_patches *a,
                                 const rw_label_patches *b)
{
    assert_int_equal(rw_label_patches_count(a), rw_label_patches_count(b));
    for (size_t i = 0; i < rw_label_patches_count(a); i++) {
        assert_stats_equal(&rw_label_patches_stats(a)[i],
                           &rw_label_patches_stats(b)[i]);
        size_t na, nb;
        const rw_label_run *ra = rw_label_patches_runs(a, i, &na);
        const rw_label_run *rb = rw_label_patches_runs(b, i, &nb);
        assert_int_equal(na, nb);
        for (size_t k = 0; k < na; k++) {
            assert_int_equal(ra[k].y, rb[k].y);
            assert_int_equal(ra[k].x0, rb[k].x0);
            assert_int_equal(ra[k].len, rb[k].len);
            assert_int_equal(ra[k].label, rb[k].label);
        }
    }
}

/* Runs of patch i must be exactly want[0 .. n). */
static void assert_runs(const rw_label_patches *p, size_t i,
                        const rw_label_run *want, size_t n)
{
    size_t got_n;
    const rw_label_run *got = rw_label_patches_runs(p, i, &got_n);
    assert_int_equal(got_n, n);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(got[k].y, want[k].y);
        assert_int_equal(got[k].x0, want[k].x0);
        assert_int_equal(got[k].len, want[k].len);
        assert_int_equal(got[k].label, i + 1);
    }
}

static void assert_box(const rw_label_stats *s, int64_t min_x, int64_t min_y,
                       int64_t max_x, int64_t max_y)
{
    assert_int_equal(s->min_x, min_x);
    assert_int_equal(s->min_y, min_y);
    assert_int_equal(s->max_x, max_x);
    assert_int_equal(s->max_y, max_y);
}

/* ---- the brute-force reference ---------------------------------------- */

/* Flood fill (8-connectivity, equal nonzero keys) from each unlabelled
 * candidate in raster order, so reference label k is the k-th patch by
 * first pixel. Returns per-pixel labels; *count gets the label count. */
static uint32_t *reference_labels(const grid *g, size_t *count)
{
    const size_t n = (size_t)g->w * (size_t)g->h;
    uint32_t *lab = calloc(n, sizeof(*lab));
    size_t *stack = malloc(n * sizeof(*stack));
    assert_true(lab && stack);
    uint32_t next = 0;
    for (size_t p = 0; p < n; p++) {
        if (g->key[p] == 0 || lab[p] != 0)
            continue;
        size_t top = 0;
        lab[p] = ++next;
        stack[top++] = p;
        while (top > 0) {
            const size_t q = stack[--top];
            const int qx = (int)(q % g->w), qy = (int)(q / g->w);
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int x = qx + dx, y = qy + dy;
                    if (x < 0 || y < 0 || x >= g->w || y >= g->h)
                        continue;
                    const size_t r = (size_t)y * g->w + x;
                    if (lab[r] == 0 && g->key[r] == g->key[p]) {
                        lab[r] = next;
                        stack[top++] = r;
                    }
                }
        }
    }
    free(stack);
    *count = next;
    return lab;
}

/* Statistics by direct per-pixel accumulation over the reference labels. */
static rw_label_stats *reference_stats(const grid *g, const uint32_t *lab,
                                       size_t count)
{
    rw_label_stats *s = calloc(count, sizeof(*s));
    assert_non_null(s);
    for (int y = 0; y < g->h; y++)
        for (int x = 0; x < g->w; x++) {
            const size_t p = (size_t)y * g->w + x;
            if (lab[p] == 0)
                continue;
            rw_label_stats *t = &s[lab[p] - 1];
            if (t->count++ == 0) {
                t->key = g->key[p];
                t->first_y = t->min_y = t->max_y = y;
                t->first_x = t->min_x = t->max_x = x;
            }
            t->min_x = x < t->min_x ? x : t->min_x;
            t->max_x = x > t->max_x ? x : t->max_x;
            t->max_y = y;
            t->class_count[g->cls[p]]++;
            t->zone_count[g->zone[p]]++;
            for (int b = 0; b < 8; b++)
                t->flag_count[b] += (g->flag[p] >> b) & 1u;
            t->score_fixed += (uint64_t)llround(g->score[p] * 16777216.0);
            t->score_sum = (double)t->score_fixed / 16777216.0;
        }
    return s;
}

/* p must match the flood fill: same stats, and its runs, burnt into a
 * raster, must give the reference labels; runs of a patch are sorted and
 * maximal (no two meet on a row). */
static void assert_matches_reference(const grid *g, const rw_label_patches *p)
{
    size_t count;
    uint32_t *lab = reference_labels(g, &count);
    rw_label_stats *want = reference_stats(g, lab, count);
    uint32_t *burnt = calloc((size_t)g->w * g->h, sizeof(*burnt));
    assert_non_null(burnt);
    assert_int_equal(rw_label_patches_count(p), count);
    for (size_t i = 0; i < count; i++) {
        assert_stats_equal(&rw_label_patches_stats(p)[i], &want[i]);
        size_t n;
        const rw_label_run *r = rw_label_patches_runs(p, i, &n);
        for (size_t k = 0; k < n; k++) {
            assert_int_equal(r[k].label, i + 1);
            if (k > 0)
                assert_true(r[k].y > r[k - 1].y ||
                            r[k].x0 > r[k - 1].x0 + r[k - 1].len);
            for (int x = r[k].x0; x < r[k].x0 + r[k].len; x++) {
                uint32_t *px = &burnt[(size_t)r[k].y * g->w + x];
                assert_int_equal(*px, 0);
                *px = (uint32_t)(i + 1);
            }
        }
    }
    assert_memory_equal(burnt, lab, (size_t)g->w * g->h * sizeof(*lab));
    free(burnt);
    free(want);
    free(lab);
}

/* ---- single tile ------------------------------------------------------- */

static void test_l_shape(void **state)
{
    (void)state;
    static const char *const art[] = {
        ".....",
        ".1...",
        ".1...",
        ".111.",
        ".....",
    };
    grid *g = grid_from_art(art, 5);
    const int px[5][2] = {{1, 1}, {1, 2}, {1, 3}, {2, 3}, {3, 3}};
    for (int i = 0; i < 5; i++) {
        const size_t p = (size_t)px[i][1] * 5 + px[i][0];
        g->cls[p] = (uint8_t)(1 + i % 3); /* classes 1,2,3,1,2 */
        g->zone[p] = (uint8_t)(i == 4 ? 3 : 1);
        g->flag[p] = (uint8_t)(i < 2 ? 0x81 : 0x02);
        g->score[p] = 0.5f;
    }
    rw_label_patches *p = label_single(g);
    assert_int_equal(rw_label_patches_count(p), 1);
    const rw_label_stats *s = rw_label_patches_stats(p);
    assert_int_equal(s->count, 5);
    assert_int_equal(s->key, 1);
    assert_int_equal(s->class_count[0], 0);
    assert_int_equal(s->class_count[1], 2);
    assert_int_equal(s->class_count[2], 2);
    assert_int_equal(s->class_count[3], 1);
    assert_int_equal(s->zone_count[1], 4);
    assert_int_equal(s->zone_count[3], 1);
    assert_int_equal(s->flag_count[0], 2);
    assert_int_equal(s->flag_count[1], 3);
    assert_int_equal(s->flag_count[7], 2);
    assert_int_equal(s->score_fixed, 5 * 8388608);
    assert_true(s->score_sum == 2.5);
    assert_box(s, 1, 1, 3, 3);
    assert_int_equal(s->first_y, 1);
    assert_int_equal(s->first_x, 1);
    const rw_label_run runs[] = {{1, 1, 1, 0}, {2, 1, 1, 0}, {3, 1, 3, 0}};
    assert_runs(p, 0, runs, 3);
    rw_label_patches_destroy(p);
    grid_destroy(g);
}

static void test_diagonal_pixels_are_one_patch(void **state)
{
    (void)state;
    static const char *const art[] = {
        "1..1",
        ".11.",
    };
    grid *g = grid_from_art(art, 2);
    rw_label_patches *p = label_single(g);
    assert_int_equal(rw_label_patches_count(p), 1);
    assert_int_equal(rw_label_patches_stats(p)->count, 4);
    assert_box(rw_label_patches_stats(p), 0, 0, 3, 1);
    const rw_label_run runs[] = {{0, 0, 1, 0}, {0, 3, 1, 0}, {1, 1, 2, 0}};
    assert_runs(p, 0, runs, 3);
    rw_label_patches_destroy(p);
    grid_destroy(g);
}

static void test_different_keys_are_separate(void **state)
{
    (void)state;
    static const char *const art[] = {
        ".112",
        "2122",
    };
    grid *g = grid_from_art(art, 2);
    rw_label_patches *p = label_single(g);
    /* Sorted by first pixel: key 1 at (1,0), key 2 at (3,0), then the
     * lone key 2 at (0,1), which touches key 1 pixels only. */
    assert_int_equal(rw_label_patches_count(p), 3);
    const rw_label_stats *s = rw_label_patches_stats(p);
    assert_int_equal(s[0].key, 1);
    assert_int_equal(s[0].count, 3);
    assert_int_equal(s[1].key, 2);
    assert_int_equal(s[1].count, 3);
    assert_int_equal(s[1].first_x, 3);
    assert_int_equal(s[2].key, 2);
    assert_int_equal(s[2].count, 1);
    const rw_label_run r0[] = {{0, 1, 2, 0}, {1, 1, 1, 0}};
    const rw_label_run r1[] = {{0, 3, 1, 0}, {1, 2, 2, 0}};
    const rw_label_run r2[] = {{1, 0, 1, 0}};
    assert_runs(p, 0, r0, 2);
    assert_runs(p, 1, r1, 2);
    assert_runs(p, 2, r2, 1);
    rw_label_patches_destroy(p);
    grid_destroy(g);
}

static void test_ring_with_hole(void **state)
{
    (void)state;
    static const char *const art[] = {
        "1111111",
        "1.....1",
        "1.....1",
        "1..1..1",
        "1.....1",
        "1.....1",
        "1111111",
    };
    grid *g = grid_from_art(art, 7);
    rw_label_patches *p = label_single(g);
    assert_int_equal(rw_label_patches_count(p), 2);
    const rw_label_stats *s = rw_label_patches_stats(p);
    assert_int_equal(s[0].count, 24);
    assert_box(&s[0], 0, 0, 6, 6);
    assert_int_equal(s[1].count, 1);
    assert_box(&s[1], 3, 3, 3, 3);
    size_t n;
    rw_label_patches_runs(p, 0, &n);
    assert_int_equal(n, 12); /* one at the top and bottom, two a row between */
    rw_label_patches_destroy(p);
    grid_destroy(g);
}

static void test_tile_result_edges(void **state)
{
    (void)state;
    static const char *const art[] = {
        "1.2",
        "...",
        "3.2",
    };
    grid *g = grid_from_art(art, 3);
    rw_error err = {0};
    rw_label_scratch *scratch = NULL;
    rw_label_tile_result *t = NULL;
    window wb;
    window_alloc(&wb, 9);
    rw_label_input in;
    window_fill(&wb, g, (rw_rect){0, 0, 3, 3}, &in);
    in.win = (rw_rect){10, 20, 3, 3}; /* coordinates come out global */
    assert_int_equal(rw_label_scratch_create(3, 3, &scratch, &err), RW_OK);
    assert_int_equal(rw_label_tile_create(scratch, &in, &t, &err), RW_OK);
    assert_int_equal(t->count, 4);
    assert_int_equal(t->run_count, 4);
    const uint32_t top[] = {1, 0, 2}, bottom[] = {3, 0, 4};
    const uint32_t left[] = {1, 0, 3}, right[] = {2, 0, 4};
    assert_memory_equal(t->top, top, sizeof(top));
    assert_memory_equal(t->bottom, bottom, sizeof(bottom));
    assert_memory_equal(t->left, left, sizeof(left));
    assert_memory_equal(t->right, right, sizeof(right));
    assert_int_equal(t->runs[3].y, 22);
    assert_int_equal(t->runs[3].x0, 12);
    assert_int_equal(t->stats[3].first_x, 12);
    rw_label_tile_destroy(t);
    rw_label_scratch_destroy(scratch);
    window_free(&wb);
    grid_destroy(g);
}

static void test_score_is_clamped_fixed_point(void **state)
{
    (void)state;
    static const char *const art[] = {"11111"};
    grid *g = grid_from_art(art, 1);
    const float scores[] = {NAN, -1.0f, 2.0f, 0.25f, 1.0f / 3.0f};
    memcpy(g->score, scores, sizeof(scores));
    rw_label_patches *p = label_single(g);
    /* 0 + 0 + 2^24 + 2^22 + (float)(1/3) * 2^24, which is 5592405.5 and
     * rounds up. */
    assert_int_equal(rw_label_patches_stats(p)->score_fixed,
                     16777216 + 4194304 + 5592406);
    rw_label_patches_destroy(p);
    grid_destroy(g);
}

/* ---- merge across tiles ------------------------------------------------- */

/* Labels g with tile 2 and with one tile; both must give n patches and the
 * same output. */
static void assert_tiles_agree(const char *const *art, int h, size_t n)
{
    grid *g = grid_from_art(art, h);
    rw_label_patches *one = label_single(g);
    rw_label_patches *tiled = label_grid(g, (run_plan){2, 0, 1, true});
    assert_int_equal(rw_label_patches_count(tiled), n);
    assert_patches_equal(tiled, one);
    assert_matches_reference(g, tiled);
    rw_label_patches_destroy(one);
    rw_label_patches_destroy(tiled);
    grid_destroy(g);
}

static void test_merge_across_corners(void **state)
{
    (void)state;
    static const char *const diagonal[] = {"....", ".1..", "..1.", "...."};
    static const char *const anti[] = {"....", "..1.", ".1..", "...."};
    static const char *const keys[] = {"....", ".12.", ".21.", "...."};
    assert_tiles_agree(diagonal, 4, 1);
    assert_tiles_agree(anti, 4, 1);
    assert_tiles_agree(keys, 4, 2);
}

static void test_merge_across_edges(void **state)
{
    (void)state;
    /* A U joined only in the last tile row; runs meet across tile edges. */
    static const char *const u[] = {"1....1", "1....1", "1....1",
                                    "1....1", "111111"};
    static const char *const keys[] = {".12.", ".12.", "...."};
    static const char *const step[] = {"..1...", "...1..", "..1...",
                                       "...1.."};
    assert_tiles_agree(u, 5, 1);
    assert_tiles_agree(keys, 3, 2);
    assert_tiles_agree(step, 4, 1);

    grid *g = grid_from_art(u, 5);
    rw_label_patches *p = label_grid(g, (run_plan){2, 0, 1, false});
    size_t n;
    const rw_label_run *r = rw_label_patches_runs(p, 0, &n);
    assert_int_equal(n, 9);
    assert_int_equal(r[8].x0, 0);
    assert_int_equal(r[8].len, 6); /* three tiles' runs joined */
    rw_label_patches_destroy(p);
    grid_destroy(g);
}

static void test_null_tiles(void **state)
{
    (void)state;
    /* With tile 4, only tiles 0 and 3 hold candidates. */
    static const char *const art[] = {
        "11......", ".1......", "........", "...1....",
        "....1...", "........", ".....22.", "........",
    };
    grid *g = grid_from_art(art, 8);
    rw_label_patches *skipped = label_grid(g, (run_plan){4, 0, 1, true});
    rw_label_patches *full = label_grid(g, (run_plan){4, 0, 1, false});
    assert_int_equal(rw_label_patches_count(skipped), 3);
    assert_patches_equal(skipped, full);
    rw_label_patches_destroy(skipped);
    rw_label_patches_destroy(full);

    const rw_tiling tiling = rw_tiling_make(8, 8, 4);
    const rw_label_tile_result *none[4] = {NULL, NULL, NULL, NULL};
    rw_label_patches *empty = NULL;
    rw_error err = {0};
    assert_int_equal(rw_label_merge(&tiling, none, &empty, &err), RW_OK);
    assert_int_equal(rw_label_patches_count(empty), 0);
    rw_label_patches_destroy(empty);
    grid_destroy(g);
}

/* The scan's contract: any tile size, any order, any thread count gives
 * the same patches as one tile, and those match the flood fill. */
static void test_tilings_are_identical(void **state)
{
    (void)state;
    grid *g = grid_random(300, 257, 20240611);
    rw_label_patches *base = label_single(g);
    assert_true(rw_label_patches_count(base) > 100);
    assert_matches_reference(g, base);
    const int tiles[] = {1000, 64, 37, 16, 7, 3, 1};
    for (size_t t = 0; t < sizeof(tiles) / sizeof(tiles[0]); t++) {
        const run_plan plans[] = {
            {tiles[t], 0, 1, false},
            {tiles[t], 1 + t, 1, true},
            {tiles[t], 100 + t, 4, t % 2 == 0},
        };
        for (size_t k = 0; k < sizeof(plans) / sizeof(plans[0]); k++) {
            rw_label_patches *p = label_grid(g, plans[k]);
            assert_patches_equal(p, base);
            rw_label_patches_destroy(p);
        }
    }
    rw_label_patches_destroy(base);
    grid_destroy(g);
}

/* ---- errors -------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    static const char *const art[] = {"1.", ".1"};
    grid *g = grid_from_art(art, 2);
    rw_error err = {0};
    rw_label_scratch *scratch = NULL, *tiny = NULL;
    rw_label_tile_result *t = (rw_label_tile_result *)1;
    rw_label_patches *p = (rw_label_patches *)1;
    window wb;
    window_alloc(&wb, 4);
    rw_label_input in;
    window_fill(&wb, g, (rw_rect){0, 0, 2, 2}, &in);

    assert_int_equal(rw_label_scratch_create(0, 4, &tiny, &err),
                     RW_ERR_INTERNAL);
    assert_null(tiny);
    rw_error_clear(&err);
    assert_int_equal(rw_label_scratch_create(1, 2, &tiny, &err), RW_OK);
    assert_int_equal(rw_label_tile_create(tiny, &in, &t, &err),
                     RW_ERR_INTERNAL);
    assert_null(t);

    rw_error_clear(&err);
    assert_int_equal(rw_label_scratch_create(2, 2, &scratch, &err), RW_OK);
    wb.cls[3] = RW_LABEL_MAX_CLASS;
    assert_int_equal(rw_label_tile_create(scratch, &in, &t, &err),
                     RW_ERR_INTERNAL);
    wb.cls[3] = 1;
    wb.zone[0] = RW_LABEL_MAX_ZONE;
    rw_error_clear(&err);
    assert_int_equal(rw_label_tile_create(scratch, &in, &t, &err),
                     RW_ERR_INTERNAL);
    wb.zone[0] = 0;

    /* A tile placed in the wrong slot of the tiling. */
    rw_error_clear(&err);
    assert_int_equal(rw_label_tile_create(scratch, &in, &t, &err), RW_OK);
    const rw_tiling tiling = rw_tiling_make(4, 2, 2);
    const rw_label_tile_result *slots[2] = {NULL, t};
    assert_int_equal(rw_label_merge(&tiling, slots, &p, &err),
                     RW_ERR_INTERNAL);
    assert_null(p);
    assert_int_equal(err.status, RW_ERR_INTERNAL);

    rw_label_tile_destroy(t);
    rw_label_tile_destroy(NULL);
    rw_label_scratch_destroy(scratch);
    rw_label_scratch_destroy(tiny);
    rw_label_scratch_destroy(NULL);
    rw_label_patches_destroy(NULL);
    window_free(&wb);
    grid_destroy(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l_shape),
        cmocka_unit_test(test_diagonal_pixels_are_one_patch),
        cmocka_unit_test(test_different_keys_are_separate),
        cmocka_unit_test(test_ring_with_hole),
        cmocka_unit_test(test_tile_result_edges),
        cmocka_unit_test(test_score_is_clamped_fixed_point),
        cmocka_unit_test(test_merge_across_corners),
        cmocka_unit_test(test_merge_across_edges),
        cmocka_unit_test(test_null_tiles),
        cmocka_unit_test(test_tilings_are_identical),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
