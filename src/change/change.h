/* Per-pixel change classes between a baseline (the per-pixel median of
 * earlier, normalised dates) and a later scene, decided by a rule table
 * read from data/rules/change_rules.tsv; plus the robust radiometric
 * normalisation that makes the dates comparable. Plain float buffers,
 * surface reflectance 0..1; libc and src/core only. */
#ifndef RW_CHANGE_H
#define RW_CHANGE_H

#include "core.h"
#include "indices.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- change classes ---------------------------------------------------- */

/* Values are pinned: rasters store them as uint8 and tests compare them. */
typedef enum rw_change_class {
    RW_CHANGE_NONE = 0,
    RW_CHANGE_VEG_TO_BARE = 1,     /* vegetation -> bright bare rock/soil */
    RW_CHANGE_VEG_TO_BUILT = 2,    /* vegetation -> roofs, concrete, roads */
    RW_CHANGE_LAND_TO_WATER = 3,   /* new water: impoundment, pit, flooding */
    RW_CHANGE_WATER_TO_LAND = 4,   /* bright bed or sand bar emerging */
    RW_CHANGE_TURBIDITY = 5,       /* water stays water but turns turbid */
    RW_CHANGE_VEG_TO_SOIL = 6,     /* clearing, logging, harvest: `other` */
    RW_CHANGE_BARE_TO_ROCK = 7,    /* bare soil dug down to bright rock */
    RW_CHANGE_CLASS_COUNT = 8
} rw_change_class;

/* Class values stay below this, so a set of classes fits in one uint8. */
#define RW_CHANGE_CLASS_MAX 8

typedef struct rw_change_class_info {
    rw_change_class id;
    const char *key;   /* rule files and outputs: "veg_to_bare" */
    const char *label; /* for people, Chinese: "植被→裸地" */
} rw_change_class_info;

/* The table row of a class, or NULL when out of range. */
const rw_change_class_info *rw_change_class_get(rw_change_class cls);

/* Looks a class up by key. Sets *cls and returns true when found. */
bool rw_change_class_find(const char *key, rw_change_class *cls);

/* ---- rule table -------------------------------------------------------- */

/* Parsed rules: immutable once made, so one handle may be shared by any
 * number of threads classifying at once.
 *
 * File format (UTF-8, one rule a line, `#` starts a comment line, fields
 * separated by one tab):
 *   class  sensor  conditions  basis
 * class: a class key ("veg_to_bare"). A matching `none` row is an
 *   exception: it stops the search with class NONE and its own basis.
 * sensor: `any`, `swir` (the row is used only when the scene has SWIR1) or
 *   `noswir` (only when it has not). `any` and `noswir` rows may not use
 *   indices that need SWIR.
 * conditions: comma-separated, all must hold: <variable><op><number>, op
 *   one of < <= > >=. Variables, for every index name in the indices
 *   table: <index>_b (baseline), <index>_a (after), d_<index> (after minus
 *   baseline). A variable that is NAN fails its condition.
 * basis: free text kept with every detection (why the rule fired).
 * The first row, in file order, that applies to the scene's sensor kind and
 * whose conditions all hold decides the class.
 *
 * Score of a match, in [0,1]: the weakest condition's margin, where a
 * condition's margin is how far the variable lies past its threshold
 * divided by the index's unit (rw_index_def.unit), clamped to [0,1]. A
 * pixel on a threshold scores 0; one a full unit past every threshold
 * scores 1. */
typedef struct rw_change_rules rw_change_rules;

/* Reads and parses a rule file. Fails with RW_ERR_IO when it cannot be
 * read, RW_ERR_FORMAT as rw_change_rules_parse. *out is set only on
 * success and then owned by the caller. */
rw_status rw_change_rules_load(const char *path, rw_change_rules **out,
                               rw_error *err);

/* Parses rule text (NUL-terminated); name is used in messages, which read
 * "<name>:<line>: <problem>", e.g. "change_rules.tsv:12: unknown variable
 * 'ndvx_b'". Fails with RW_ERR_FORMAT on any syntax error, an unknown
 * class, sensor or variable, a SWIR index in an `any`/`noswir` row, an
 * empty basis, or a text without rules; RW_ERR_NOMEM. */
rw_status rw_change_rules_parse(const char *text, const char *name,
                                rw_change_rules **out, rw_error *err);

void rw_change_rules_destroy(rw_change_rules *rules);

/* Number of rule rows. Rule ids are 1..count in file order; 0 means none. */
size_t rw_change_rules_count(const rw_change_rules *rules);

/* The basis text of rule id (owned by rules), or NULL for 0 or an id out
 * of range. */
const char *rw_change_rules_basis(const rw_change_rules *rules,
                                  unsigned rule);

/* The scene is a SWIR scene for the rules when band_mask has SWIR1. */
bool rw_change_rules_swir(unsigned band_mask);

/* Classifies one pixel. base and after hold RW_BAND_COUNT values by band
 * role; bands missing from band_mask are not read. Sets *score (0 when no
 * rule matched) and *basis (the matching row's text, owned by rules; NULL
 * when none matched); either pointer may be NULL. */
rw_change_class rw_change_classify_pixel(const rw_change_rules *rules,
                                         const float *base,
                                         const float *after,
                                         unsigned band_mask, float *score,
                                         const char **basis);

/* Classifies n pixels of band-planar buffers (base[b][i]: band b of pixel
 * i; planes missing from band_mask may be NULL). Writes cls[i], and when
 * not NULL score[i] and rule[i] (the matching rule id, 0 for none). Equal
 * to rw_change_classify_pixel on every pixel. */
void rw_change_classify_planar(const rw_change_rules *rules,
                               const float *const base[RW_BAND_COUNT],
                               const float *const after[RW_BAND_COUNT],
                               unsigned band_mask, size_t n, uint8_t *cls,
                               float *score, uint16_t *rule);

/* ---- radiometric normalisation ----------------------------------------- */

/* later ≈ gain · earlier + offset, for one band. */
typedef struct rw_change_fit {
    double gain;
    double offset;
    size_t used; /* balanced samples left in the final fit (the others were outliers) */
} rw_change_fit;

/* Fits y ≈ gain·x + offset robustly from n paired samples of one band (x
 * earlier, y later); pairs with a NAN or infinite value are skipped.
 * The samples are first balanced over the range of x (8 equal bins, at
 * most 2000 samples each), so that one cover filling most of a scene
 * does not fix the line alone and leave water at the dark end off it.
 * Changed pixels must not bias the fit: a Theil-Sen start on a fixed
 * subsample, then least squares refits that drop samples whose residual
 * exceeds 3 robust sigmas (1.4826·MAD), until the kept set is stable
 * (at most 10 refits); used counts the balanced samples kept.
 * Deterministic for given inputs. Fails with RW_ERR_INPUT when fewer than
 * 100 valid samples remain or x is constant, RW_ERR_NOMEM; *fit is set
 * only on success. Scratch: 4 bytes per valid sample. */
rw_status rw_change_normalise_fit(const float *x, const float *y, size_t n,
                                  rw_change_fit *fit, rw_error *err);

/* band[i] = gain·band[i] + offset for n values, in place (NAN stays NAN). */
void rw_change_normalise_apply(const rw_change_fit *fit, float *band,
                               size_t n);

/* Most values rw_change_median takes: the dates of one baseline. */
#define RW_CHANGE_MEDIAN_MAX 16

/* Median of the non-NAN values among v[0..n-1] (the mean of the two middle
 * ones when their count is even); NAN when there are none or when n is
 * outside 0..RW_CHANGE_MEDIAN_MAX. */
float rw_change_median(const float *v, int n);

#endif
