/* Impoundments that a river splits. A reservoir widens a river on both
 * banks; the water that stays water between them is no change, so
 * labelling finds the banks, the weir with the dewatered reach below it,
 * and any piece cut off, as separate patches. Patches of one reserve on a
 * river whose bounding boxes touch or overlap, mostly water gained or lost,
 * at least one of each pair mostly new water, are one hydropower work and
 * become one detection. A turbid dredging plume never groups, and sand
 * bars group only with new water beside them. */
#include "scan.h"
#include "label_uf.h"

#include <stdint.h>
#include <stdlib.h>

/* A patch that is mostly new water inside the river context. */
static bool bank_part(const rw_label_stats *s)
{
    return s->class_count[RW_CHANGE_LAND_TO_WATER] * 2 >= s->count;
}

/* A patch that is mostly water gained or lost (banks, weir, dry reach),
 * and not only a shore or bar that misregistration moved. */
static bool water_part(const scan_job *job, const rw_label_stats *s)
{
    return (s->class_count[RW_CHANGE_LAND_TO_WATER] + s->class_count[RW_CHANGE_WATER_TO_LAND]) * 2 >= s->count &&
           scan_flag_pixels(s, SCAN_FLAG_FRINGE) < s->count && scan_river_context(job, s);
}

/* Boxes that overlap or touch (8-connected) without a pixel between. */
static bool boxes_touch(const rw_label_stats *a, const rw_label_stats *b)
{
    return a->min_x <= b->max_x + 1 && b->min_x <= a->max_x + 1 && a->min_y <= b->max_y + 1 &&
           b->min_y <= a->max_y + 1;
}

rw_status scan_group_patches(const scan_job *job, const rw_label_patches *patches, size_t *group, size_t *next,
                             rw_error *err)
{
    rw_status st = RW_OK;
    const size_t n = rw_label_patches_count(patches);
    const rw_label_stats *s = rw_label_patches_stats(patches);
    size_t *cand = rw_malloc((n + 1) * sizeof(*cand), err);
    size_t *tail = rw_malloc((n + 1) * sizeof(*tail), err);
    RW_FAIL_IF(cand == NULL || tail == NULL, err, RW_ERR_NOMEM, "out of memory grouping %zu patches", n);
    size_t nc = 0;
    for (size_t i = 0; i < n; i++) {
        group[i] = i;
        if (water_part(job, &s[i]))
            cand[nc++] = i;
    }
    /* few patches qualify (water changes on rivers): pairs are cheap */
    for (size_t a = 0; a < nc; a++)
        for (size_t b = a + 1; b < nc; b++)
            if (s[cand[a]].key == s[cand[b]].key && (bank_part(&s[cand[a]]) || bank_part(&s[cand[b]])) &&
                boxes_touch(&s[cand[a]], &s[cand[b]]))
                rw_uf_unite(group, cand[a], cand[b]);
    /* roots are each group's smallest index; members are chained in
     * index order from it, so a group is walked once, not searched for */
    for (size_t i = 0; i < n; i++) {
        group[i] = rw_uf_find(group, i);
        next[i] = SCAN_GROUP_END;
        if (group[i] != i)
            next[tail[group[i]]] = i;
        tail[group[i]] = i;
    }
done:
    free(cand);
    free(tail);
    return st;
}

void scan_group_stats(const rw_label_stats *s, const size_t *next, size_t root, rw_label_stats *out)
{
    *out = s[root];
    for (size_t i = next[root]; i != SCAN_GROUP_END; i = next[i])
        rw_label_stats_add(out, &s[i]);
}
