#include "checklist_build.h"
#include "change.h"
#include "detections_read.h"
#include "zones.h"

#include <errno.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static const char *const status_keys[] = {"new", "expanded", "known", "permitted"};
#define N_STATUS (sizeof(status_keys) / sizeof(status_keys[0]))

/* Which of the keys a comma list names, as bits; unknown names fail. */
static rw_status parse_filter(const char *list, const char *const *keys,
                              size_t nkeys, const char *option,
                              unsigned *mask, rw_error *err)
{
    rw_status st = RW_OK;
    char buf[256];
    *mask = 0;
    RW_CHECK(rw_format(buf, sizeof(buf), err, "%s", list));
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        size_t k = 0;
        while (k < nkeys && strcmp(tok, keys[k]) != 0)
            k++;
        RW_FAIL_IF(k == nkeys, err, RW_ERR_USAGE,
                   "--%s: unknown value '%s'", option, tok);
        *mask |= 1u << k;
    }
    RW_FAIL_IF(*mask == 0, err, RW_ERR_USAGE, "--%s: empty list", option);
done:
    return st;
}

static int index_of(const char *text, const char *const *keys, size_t nkeys)
{
    for (size_t k = 0; k < nkeys; k++)
        if (strcmp(text, keys[k]) == 0)
            return (int)k;
    return -1;
}

/* ---- scenes and reserves from the scan's manifest ------------------- */

static int year_of(const char *date)
{
    return date && strlen(date) >= 4 ? atoi(date) : 0;
}


static const char *json_text(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static rw_status dup_text(char **dst, const char *src, rw_error *err)
{
    *dst = strdup(src);
    return *dst ? RW_OK
                : rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__,
                               "out of memory");
}

static rw_status check_scene(const char *path, const char *source,
                             rw_error *err)
{
    struct stat sb;
    if (stat(path, &sb) == 0)
        return RW_OK;
    return rw_error_set(err, RW_ERR_INPUT, __FILE__, __LINE__,
                        "%s: scene named by %s not found (%s); give "
                        "--before and --after",
                        path, source, strerror(errno));
}

/* "blue=1,green=2,..." from a manifest scene's "bands" object: the roles
 * the scan used, which may have come from --bands or --profile. */
static rw_status bands_spec(json_object *scene, char **out, rw_error *err)
{
    static const char *const roles[] = {"blue", "green", "red", "nir", "swir1", "swir2"};
    json_object *bands, *v;
    char spec[128] = "";
    size_t len = 0;
    if (!json_object_object_get_ex(scene, "bands", &bands))
        return RW_OK; /* an older manifest: detect */
    for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++)
        if (json_object_object_get_ex(bands, roles[k], &v) && json_object_is_type(v, json_type_int))
            len += (size_t)snprintf(spec + len, sizeof(spec) - len, "%s%s=%d", len ? "," : "",
                                    roles[k], json_object_get_int(v));
    return len ? dup_text(out, spec, err) : RW_OK;
}

/* Scenes for the chips: the later scene and, first, the most recent of
 * the earlier ones (what changed since it is what the patch shows). */
static rw_status scenes_from_manifest(json_object *params, const char *mpath,
                                      rw_checklist *cl, rw_error *err)
{
    rw_status st = RW_OK;
    json_object *after, *before;
    RW_FAIL_IF(!json_object_object_get_ex(params, "after", &after) ||
                   !json_object_object_get_ex(params, "before", &before) ||
                   !json_object_is_type(before, json_type_array),
               err, RW_ERR_FORMAT, "%s: no parameters.after/before scenes",
               mpath);
    const char *afile = json_text(after, "file");
    RW_FAIL_IF(!afile, err, RW_ERR_FORMAT, "%s: parameters.after has no file",
               mpath);
    RW_CHECK(dup_text(&cl->after_scene, afile, err));
    RW_CHECK(bands_spec(after, &cl->scene_bands[1], err));
    const size_t nb = json_object_array_length(before);
    RW_FAIL_IF(nb == 0, err, RW_ERR_FORMAT, "%s: no earlier scene", mpath);
    cl->before_scenes = rw_calloc(nb, sizeof(char *), err);
    RW_FAIL_IF(!cl->before_scenes, err, RW_ERR_NOMEM, "out of memory");
    const char *latest = "";
    size_t first = 0;
    for (size_t k = 0; k < nb; k++) {
        const char *date = json_text(json_object_array_get_idx(before, k), "date");
        if (date && strcmp(date, latest) > 0) {
            latest = date;
            first = k;
        }
    }
    for (size_t k = 0; k < nb; k++) {
        /* the most recent goes first, the others keep their order */
        const size_t src = k == 0 ? first : (k <= first ? k - 1 : k);
        const char *file = json_text(json_object_array_get_idx(before, src), "file");
        RW_FAIL_IF(!file, err, RW_ERR_FORMAT,
                   "%s: parameters.before[%zu] has no file", mpath, src);
        RW_CHECK(dup_text(&cl->before_scenes[k], file, err));
        if (k == 0) {
            json_object *scene = json_object_array_get_idx(before, src), *shift;
            RW_CHECK(bands_spec(scene, &cl->scene_bands[0], err));
            if (json_object_object_get_ex(scene, "shift_px", &shift) && json_object_array_length(shift) == 2)
                for (int a = 0; a < 2; a++)
                    cl->before_shift_px[a] = json_object_get_double(json_object_array_get_idx(shift, a));
        }
        cl->nbefore++;
    }
done:
    return st;
}

static rw_status add_reserve(rw_checklist *cl, size_t *cap, const char *id,
                             const char *name, const char *city,
                             const char *county, rw_error *err)
{
    for (size_t r = 0; r < cl->nreserves; r++)
        if (strcmp(cl->reserves[r].reserve_id, id) == 0) {
            rw_check_reserve *known = &cl->reserves[r];
            if (!known->city[0] && city)
                snprintf(known->city, sizeof(known->city), "%s", city);
            if (!known->county[0] && county)
                snprintf(known->county, sizeof(known->county), "%s", county);
            return RW_OK;
        }
    if (cl->nreserves == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        rw_check_reserve *grown = realloc(cl->reserves, *cap * sizeof(*grown));
        if (!grown)
            return rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__,
                                "out of memory");
        cl->reserves = grown;
    }
    rw_check_reserve *r = &cl->reserves[cl->nreserves++];
    memset(r, 0, sizeof(*r));
    snprintf(r->reserve_id, sizeof(r->reserve_id), "%s", id);
    snprintf(r->name, sizeof(r->name), "%s", name ? name : "");
    snprintf(r->city, sizeof(r->city), "%s", city ? city : "");
    snprintf(r->county, sizeof(r->county), "%s", county ? county : "");
    return RW_OK;
}

static rw_status reserves_from_manifest(json_object *root, rw_checklist *cl,
                                        size_t *cap, rw_error *err)
{
    rw_status st = RW_OK;
    json_object *counts;
    if (!json_object_object_get_ex(root, "counts", &counts) ||
        !json_object_is_type(counts, json_type_array))
        return RW_OK;
    for (size_t i = 0; i < json_object_array_length(counts); i++) {
        json_object *c = json_object_array_get_idx(counts, i);
        const char *id = json_text(c, "reserve_id");
        if (id)
            RW_CHECK(add_reserve(cl, cap, id, json_text(c, "name"),
                                 json_text(c, "city"), json_text(c, "county"),
                                 err));
    }
done:
    return st;
}

static rw_status read_manifest(const rw_checklist_options *opt,
                               rw_checklist *cl, size_t *cap, rw_error *err)
{
    rw_status st = RW_OK;
    char dir[4096], mpath[4096];
    json_object *root = NULL, *params;
    const bool scenes_given = opt->before && opt->after;
    RW_CHECK(rw_format(dir, sizeof(dir), err, "%s", opt->detections));
    RW_CHECK(rw_format(mpath, sizeof(mpath), err, "%s/manifest.json", dirname(dir)));
    root = json_object_from_file(mpath);
    if (!root && scenes_given)
        goto done; /* optional then: reserves come from the detections */
    RW_FAIL_IF(!root, err, RW_ERR_INPUT,
               "%s: cannot read the scan's manifest (%s); give --before and "
               "--after",
               mpath, json_util_get_last_err());
    RW_CHECK(reserves_from_manifest(root, cl, cap, err));
    const char *finished = json_text(root, "finished");
    struct tm tm = {0};
    if (finished && sscanf(finished, "%d-%d-%dT%d:%d:%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                           &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        cl->created = (long long)timegm(&tm);
    }
    if (json_object_object_get_ex(root, "parameters", &params)) {
        json_object *after;
        if (json_object_object_get_ex(params, "after", &after))
            cl->year = year_of(json_text(after, "date"));
    }
    if (!scenes_given) {
        RW_FAIL_IF(!json_object_object_get_ex(root, "parameters", &params), err,
                   RW_ERR_FORMAT, "%s: no parameters", mpath);
        RW_CHECK(scenes_from_manifest(params, mpath, cl, err));
        RW_CHECK(check_scene(cl->after_scene, mpath, err));
        RW_CHECK(check_scene(cl->before_scenes[0], mpath, err));
    }
done:
    if (root)
        json_object_put(root);
    return st;
}

static rw_status scenes_from_options(const rw_checklist_options *opt,
                                     rw_checklist *cl, rw_error *err)
{
    rw_status st = RW_OK;
    RW_CHECK(check_scene(opt->after, "--after", err));
    RW_CHECK(check_scene(opt->before, "--before", err));
    RW_CHECK(dup_text(&cl->after_scene, opt->after, err));
    cl->before_scenes = rw_calloc(1, sizeof(char *), err);
    RW_FAIL_IF(!cl->before_scenes, err, RW_ERR_NOMEM, "out of memory");
    RW_CHECK(dup_text(&cl->before_scenes[0], opt->before, err));
    cl->nbefore = 1;
done:
    return st;
}

/* ---- points ------------------------------------------------------------ */

/* Core zone first, then priority category, then larger area, then id. */
static int compare_priority(const void *a, const void *b)
{
    const rw_detection *x = &((const rw_check_item *)a)->det;
    const rw_detection *y = &((const rw_check_item *)b)->det;
    const int zx = (int)rw_zones_parse_rank(x->zone, strlen(x->zone));
    const int zy = (int)rw_zones_parse_rank(y->zone, strlen(y->zone));
    if (zx != zy)
        return zy - zx;
    const int cx = rw_checklist_category_index(x->category), cy = rw_checklist_category_index(y->category);
    if (cx != cy)
        return cx - cy;
    if (x->area_m2 != y->area_m2)
        return x->area_m2 < y->area_m2 ? 1 : -1;
    return strcmp(x->id, y->id);
}

static int compare_reserve(const void *a, const void *b)
{
    return strcmp(((const rw_check_reserve *)a)->reserve_id,
                  ((const rw_check_reserve *)b)->reserve_id);
}

static bool reserve_wanted(const rw_checklist_options *opt, const char *id,
                           const char *name)
{
    if (opt->nreserves == 0)
        return true;
    for (int i = 0; i < opt->nreserves; i++)
        if (strcmp(opt->reserves[i], id) == 0 || strcmp(opt->reserves[i], name) == 0)
            return true;
    return false;
}

static void fill_labels(rw_check_item *it)
{
    static const char *const zone_keys[RW_ZONE_RANK_COUNT] = {
        "none", "experimental", "buffer", "core"};
    rw_change_class cls;
    it->category_label = rw_category_label(rw_checklist_category_index(it->det.category));
    it->change_label = rw_change_class_find(it->det.change, &cls)
                           ? rw_change_class_get(cls)->label
                           : it->det.change;
    it->zone_key = zone_keys[rw_zones_parse_rank(it->det.zone, strlen(it->det.zone))];
}

/* Moves the kept detections into their reserve's list (taking their
 * polygons) and orders every list. */
static rw_status group_points(rw_checklist *cl, rw_detection *d, size_t n,
                              const bool *keep, rw_error *err)
{
    rw_status st = RW_OK;
    for (size_t r = 0; r < cl->nreserves; r++) {
        rw_check_reserve *res = &cl->reserves[r];
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
            count += keep[i] && strcmp(d[i].reserve_id, res->reserve_id) == 0;
        if (count == 0)
            continue;
        res->items = rw_calloc(count, sizeof(*res->items), err);
        RW_FAIL_IF(!res->items, err, RW_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            if (!keep[i] || strcmp(d[i].reserve_id, res->reserve_id) != 0)
                continue;
            rw_check_item *it = &res->items[res->n++];
            it->det = d[i];
            d[i].wkb = NULL;
            fill_labels(it);
        }
        qsort(res->items, res->n, sizeof(*res->items), compare_priority);
        for (size_t i = 0; i < res->n; i++)
            res->items[i].seq = (int)i + 1;
    }
done:
    return st;
}

static void name_folders(rw_checklist *cl)
{
    for (size_t r = 0; r < cl->nreserves; r++) {
        rw_check_reserve *res = &cl->reserves[r];
        char id[64], name[256];
        rw_checklist_safe_name(res->reserve_id, id, sizeof(id));
        rw_checklist_safe_name(res->name, name, sizeof(name));
        snprintf(res->dir_name, sizeof(res->dir_name), "%s_%s", id, name);
    }
}

/* Drops reserves not asked for; every requested one must exist. */
static rw_status select_reserves(const rw_checklist_options *opt,
                                 rw_checklist *cl, rw_error *err)
{
    rw_status st = RW_OK;
    for (int i = 0; i < opt->nreserves; i++) {
        bool found = false;
        for (size_t r = 0; r < cl->nreserves && !found; r++)
            found = strcmp(opt->reserves[i], cl->reserves[r].reserve_id) == 0 ||
                    strcmp(opt->reserves[i], cl->reserves[r].name) == 0;
        RW_FAIL_IF(!found, err, RW_ERR_INPUT,
                   "--reserve %s: no such reserve in %s", opt->reserves[i],
                   opt->detections);
    }
    size_t kept = 0;
    for (size_t r = 0; r < cl->nreserves; r++)
        if (reserve_wanted(opt, cl->reserves[r].reserve_id, cl->reserves[r].name))
            cl->reserves[kept++] = cl->reserves[r];
    cl->nreserves = kept;
done:
    return st;
}

rw_status rw_checklist_build(const rw_checklist_options *opt,
                             rw_checklist **out, rw_error *err)
{
    rw_status st = RW_OK;
    rw_checklist *cl = NULL;
    rw_detection *d = NULL;
    size_t n = 0, cap = 0;
    bool *keep = NULL;
    unsigned categories, statuses;
    const char *cat_keys[RW_CATEGORY_COUNT];
    for (int c = 0; c < RW_CATEGORY_COUNT; c++)
        cat_keys[c] = rw_category_key(c);
    RW_CHECK(parse_filter(opt->categories ? opt->categories
                                          : "mining,industrial,tourism,hydropower",
                          cat_keys, RW_CATEGORY_COUNT, "categories", &categories, err));
    RW_CHECK(parse_filter(opt->statuses ? opt->statuses : "new,expanded",
                          status_keys, N_STATUS, "status", &statuses, err));
    RW_FAIL_IF((opt->before != NULL) != (opt->after != NULL), err, RW_ERR_USAGE,
               "--before and --after go together");

    cl = rw_calloc(1, sizeof(*cl), err);
    RW_FAIL_IF(!cl, err, RW_ERR_NOMEM, "out of memory");
    RW_CHECK(rw_io_read_detections(opt->detections, &d, &n, &cl->analysis_wkt, err));
    RW_CHECK(read_manifest(opt, cl, &cap, err));
    if (opt->before && opt->after)
        RW_CHECK(scenes_from_options(opt, cl, err));

    keep = rw_calloc(n ? n : 1, sizeof(bool), err);
    RW_FAIL_IF(!keep, err, RW_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        RW_CHECK(add_reserve(cl, &cap, d[i].reserve_id, d[i].reserve_name,
                             d[i].city, d[i].county, err));
        const int c = index_of(d[i].category, cat_keys, RW_CATEGORY_COUNT);
        const int s = index_of(d[i].status, status_keys, N_STATUS);
        keep[i] = c >= 0 && s >= 0 && (categories >> c & 1u) && (statuses >> s & 1u);
        if (!cl->year)
            cl->year = year_of(d[i].after_date);
    }
    RW_CHECK(select_reserves(opt, cl, err));
    qsort(cl->reserves, cl->nreserves, sizeof(*cl->reserves), compare_reserve);
    RW_CHECK(group_points(cl, d, n, keep, err));
    name_folders(cl);
    const time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(cl->generated, sizeof(cl->generated), "%Y-%m-%d", &tm);
    if (!cl->year)
        cl->year = tm.tm_year + 1900;
done:
    rw_io_detections_free(d, n);
    free(keep);
    if (st != RW_OK) {
        rw_checklist_destroy(cl);
        cl = NULL;
    }
    *out = cl;
    return st;
}
