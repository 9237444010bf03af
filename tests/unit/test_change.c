/* Unit tests for src/change: class table, rule parsing and its errors,
 * evaluation and score, the shipped data/rules/change_rules.tsv on the
 * synthetic land covers (with and without SWIR), robust normalisation and
 * the baseline median. Set RW_DATA_DIR to run from outside the repo root. */
#include "change.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- synthetic land covers (surface reflectance) ----------------------- */

enum cover {
    FOREST, CROPS, SOIL, MINING, SAND, CONCRETE, BLUE_ROOF, ASPHALT,
    WATER, TURBID, MUDFLAT, GRAVEL, COVER_COUNT
};

/* blue, green, red, nir, swir1, swir2 */
static const struct {
    const char *name;
    float band[RW_BAND_COUNT];
} covers[COVER_COUNT] = {
    [FOREST] = {"forest", {.03f, .05f, .03f, .35f, .16f, .07f}},
    [CROPS] = {"crops", {.04f, .08f, .05f, .40f, .20f, .10f}},
    [SOIL] = {"field soil", {.07f, .10f, .13f, .20f, .26f, .20f}},
    [MINING] = {"mining rock", {.18f, .22f, .26f, .30f, .38f, .33f}},
    [SAND] = {"sand bar", {.15f, .18f, .21f, .24f, .30f, .26f}},
    [CONCRETE] = {"concrete", {.28f, .29f, .30f, .32f, .34f, .30f}},
    [BLUE_ROOF] = {"blue steel roof", {.25f, .22f, .15f, .22f, .20f, .18f}},
    [ASPHALT] = {"asphalt", {.10f, .11f, .12f, .15f, .18f, .16f}},
    [WATER] = {"clear water", {.06f, .07f, .04f, .02f, .01f, .005f}},
    [TURBID] = {"turbid water", {.08f, .11f, .10f, .04f, .015f, .01f}},
    [MUDFLAT] = {"mudflat", {.06f, .08f, .09f, .15f, .18f, .14f}},
    [GRAVEL] = {"gravel bed", {.12f, .14f, .16f, .20f, .24f, .21f}},
};

/* Variant v of a cover: v = 0 is the cover itself; the others put every
 * band at a +-3% noise corner and NIR at -10%, 0 or +10% (phenology),
 * chosen by a hash so base and after vary independently. */
enum { VARIANTS = 25 };

static void cover_variant(enum cover c, int v, uint64_t seed,
                          float out[RW_BAND_COUNT])
{
    const uint64_t h = rw_hash64(seed, (uint64_t)v);
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        const float noise = v == 0 ? 0.0f : ((h >> b) & 1u) ? 0.03f : -0.03f;
        out[b] = covers[c].band[b] * (1.0f + noise);
    }
    const float phenology[3] = {0.9f, 1.0f, 1.1f};
    if (v != 0)
        out[RW_BAND_NIR] *= phenology[(h >> 8) % 3];
}

static rw_change_rules *load_shipped(void)
{
    const char *dir = getenv("RW_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/rules/change_rules.tsv",
             dir != NULL ? dir : "data");
    rw_error err = {0};
    rw_change_rules *rules = NULL;
    const rw_status st = rw_change_rules_load(path, &rules, &err);
    if (st != RW_OK)
        fail_msg("%s", err.message);
    return rules;
}

static const unsigned sensor_masks[2] = {RW_BANDS_ALL, RW_BANDS_VNIR};

static const char *mask_name(unsigned mask)
{
    return rw_change_rules_swir(mask) ? "swir" : "4-band";
}

/* Classifies every variant pair of (from, to) scaled by (base_scale,
 * after_scale) and requires class want; records the rules that fired in
 * fired[] when not NULL. */
static void expect_pair(const rw_change_rules *rules, enum cover from,
                        enum cover to, float base_scale, float after_scale,
                        unsigned mask, rw_change_class want, bool *fired)
{
    enum { N = VARIANTS * VARIANTS };
    static float base[RW_BAND_COUNT][N], after[RW_BAND_COUNT][N];
    const float *bp[RW_BAND_COUNT], *ap[RW_BAND_COUNT];
    for (int i = 0; i < N; i++) {
        float b[RW_BAND_COUNT], a[RW_BAND_COUNT];
        cover_variant(from, i / VARIANTS, 11, b);
        cover_variant(to, i % VARIANTS, 29, a);
        for (int k = 0; k < RW_BAND_COUNT; k++) {
            base[k][i] = b[k] * base_scale;
            after[k][i] = a[k] * after_scale;
        }
    }
    for (int k = 0; k < RW_BAND_COUNT; k++) {
        const bool present = (mask & RW_BAND_BIT(k)) != 0;
        bp[k] = present ? base[k] : NULL;
        ap[k] = present ? after[k] : NULL;
    }
    uint8_t cls[N];
    float score[N];
    uint16_t rule[N];
    rw_change_classify_planar(rules, bp, ap, mask, N, cls, score, rule);
    for (int i = 0; i < N; i++) {
        if (cls[i] != want)
            fail_msg("%s -> %s (x%.2f -> x%.2f, %s, variants %d/%d): got %s, "
                     "want %s",
                     covers[from].name, covers[to].name, (double)base_scale,
                     (double)after_scale, mask_name(mask), i / VARIANTS,
                     i % VARIANTS, rw_change_class_get(cls[i])->key,
                     rw_change_class_get(want)->key);
        assert_true(score[i] >= 0.0f && score[i] <= 1.0f);
        if (want != RW_CHANGE_NONE)
            assert_int_not_equal(rule[i], 0);
        if (fired != NULL)
            fired[rule[i]] = true;
    }
}

/* ---- class table ------------------------------------------------------- */

static void test_class_table(void **state)
{
    (void)state;
    static const char *const keys[RW_CHANGE_CLASS_COUNT] = {
        "none", "veg_to_bare", "veg_to_built", "land_to_water",
        "water_to_land", "turbidity", "veg_to_soil", "bare_to_rock"};
    assert_int_equal(RW_CHANGE_VEG_TO_BARE, 1);
    assert_int_equal(RW_CHANGE_VEG_TO_SOIL, 6);
    assert_true(RW_CHANGE_CLASS_COUNT <= RW_CHANGE_CLASS_MAX);
    for (int c = 0; c < RW_CHANGE_CLASS_COUNT; c++) {
        const rw_change_class_info *info = rw_change_class_get(c);
        assert_non_null(info);
        assert_int_equal(info->id, c);
        assert_string_equal(info->key, keys[c]);
        assert_true(strlen(info->label) > 0);
        rw_change_class found = RW_CHANGE_CLASS_COUNT;
        assert_true(rw_change_class_find(keys[c], &found));
        assert_int_equal(found, c);
    }
    assert_string_equal(rw_change_class_get(RW_CHANGE_VEG_TO_BARE)->label,
                        "植被→裸地");
    assert_null(rw_change_class_get(RW_CHANGE_CLASS_COUNT));
    rw_change_class found = RW_CHANGE_TURBIDITY;
    assert_false(rw_change_class_find("veg_to_rock", &found));
    assert_int_equal(found, RW_CHANGE_TURBIDITY);
}

/* ---- parsing ----------------------------------------------------------- */

/* Exercises a byte order mark, comments, blank and indented comment
 * lines, CRLF, spaces around fields and conditions, every operator and
 * every variable form. */
static const char good_rules[] =
    "\xEF\xBB\xBF# class\tsensor\tconditions\tbasis\n"
    "\n"
    "   # indented comment\n"
    "none\tany\tbright_a>=0.5\tbright: cloud residue\r\n"
    "veg_to_bare \t any\t ndvi_b>=0.5 , ndvi_a < 0.25\tNDVI 下降 drop\r\n"
    "turbidity\tany\td_blue_red<=-0.15,ndwi_b>0.3\t浑浊 redder water\n"
    "land_to_water\tswir\tmndwi_a>0.4,mndwi_b<=0.2\twater (swir)\n"
    "land_to_water\tnoswir\tndwi_a>0.3\twater (4-band)";

static rw_change_rules *parse_ok(const char *text)
{
    rw_error err = {0};
    rw_change_rules *rules = NULL;
    const rw_status st = rw_change_rules_parse(text, "t.tsv", &rules, &err);
    if (st != RW_OK)
        fail_msg("%s", err.message);
    return rules;
}

static void test_parse_good_table(void **state)
{
    (void)state;
    rw_change_rules *rules = parse_ok(good_rules);
    assert_int_equal(rw_change_rules_count(rules), 5);
    assert_string_equal(rw_change_rules_basis(rules, 1), "bright: cloud residue");
    assert_string_equal(rw_change_rules_basis(rules, 2), "NDVI 下降 drop");
    assert_string_equal(rw_change_rules_basis(rules, 5), "water (4-band)");
    assert_null(rw_change_rules_basis(rules, 0));
    assert_null(rw_change_rules_basis(rules, 6));
    rw_change_rules_destroy(rules);
    rw_change_rules_destroy(NULL);
}

/* Every row of good_rules fires on a pixel pair made for it. */
static void test_parse_every_row_fires(void **state)
{
    (void)state;
    rw_change_rules *rules = parse_ok(good_rules);
    float cloud[RW_BAND_COUNT];
    for (int b = 0; b < RW_BAND_COUNT; b++)
        cloud[b] = 0.6f;
    static const struct {
        enum cover from, to;
        bool cloud_after;
        unsigned mask;
        rw_change_class want;
        const char *basis;
    } cases[] = {
        {FOREST, FOREST, true, RW_BANDS_ALL, RW_CHANGE_NONE,
         "bright: cloud residue"},
        {FOREST, MINING, false, RW_BANDS_VNIR, RW_CHANGE_VEG_TO_BARE,
         "NDVI 下降 drop"},
        {WATER, TURBID, false, RW_BANDS_VNIR, RW_CHANGE_TURBIDITY,
         "浑浊 redder water"},
        {SOIL, WATER, false, RW_BANDS_ALL, RW_CHANGE_LAND_TO_WATER,
         "water (swir)"},
        {SOIL, WATER, false, RW_BANDS_VNIR, RW_CHANGE_LAND_TO_WATER,
         "water (4-band)"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        float score = -1.0f;
        const char *basis = NULL;
        const rw_change_class got = rw_change_classify_pixel(
            rules, covers[cases[i].from].band,
            cases[i].cloud_after ? cloud : covers[cases[i].to].band,
            cases[i].mask, &score, &basis);
        assert_int_equal(got, cases[i].want);
        assert_non_null(basis);
        assert_string_equal(basis, cases[i].basis);
        assert_true(score >= 0.0f && score <= 1.0f);
    }
    /* Unchanged forest matches nothing: score 0, no basis. */
    float score = -1.0f;
    const char *basis = "";
    assert_int_equal(rw_change_classify_pixel(rules, covers[FOREST].band,
                                              covers[FOREST].band,
                                              RW_BANDS_ALL, &score, &basis),
                     RW_CHANGE_NONE);
    assert_float_equal(score, 0.0, 0.0);
    assert_null(basis);
    rw_change_rules_destroy(rules);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *message;
    } cases[] = {
        {"# c\nveg_to_bare\tany\tndvi_b>=0.5\n",
         "t.tsv:2: expected 4 tab-separated fields (class, sensor, "
         "conditions, basis), found 3"},
        {"veg_to_bare\tany\tndvi_b>=0.5\tb\textra\n",
         "t.tsv:1: expected 4 tab-separated fields (class, sensor, "
         "conditions, basis), found 5"},
        {"veg_to_rock\tany\tndvi_b>=0.5\tb\n", "t.tsv:1: unknown class 'veg_to_rock'"},
        {"veg_to_bare\tSWIR\tndvi_b>=0.5\tb\n",
         "t.tsv:1: unknown sensor 'SWIR' (any, swir or noswir)"},
        {"veg_to_bare\tany\t \tb\n", "t.tsv:1: no conditions"},
        {"veg_to_bare\tany\tndvi_b>=0.5\t \n", "t.tsv:1: empty basis"},
        {"veg_to_bare\tany\tndvi_b>=0.5,\tb\n",
         "t.tsv:1: empty condition (a doubled or trailing comma?)"},
        {"veg_to_bare\tany\tndvi_b>=0.5,,ndvi_a<0.2\tb\n",
         "t.tsv:1: empty condition (a doubled or trailing comma?)"},
        {"\n\n# x\nveg_to_bare\tany\tndvi_b=0.5\tb\n",
         "t.tsv:4: condition 'ndvi_b=0.5' has no operator (<, <=, > or >=)"},
        {"veg_to_bare\tany\tndvi_b==0.5\tb\n",
         "t.tsv:1: condition 'ndvi_b==0.5' has no operator (<, <=, > or >=)"},
        {"veg_to_bare\tany\tndvi_b>=0.5\tok\r\nveg_to_bare\tany\tndvx_b>=0.5\tb\n",
         "t.tsv:2: unknown variable 'ndvx_b'"},
        {"veg_to_bare\tany\tndvi>=0.5\tb\n", "t.tsv:1: unknown variable 'ndvi'"},
        {"veg_to_bare\tany\tNDVI_b>=0.5\tb\n", "t.tsv:1: unknown variable 'NDVI_b'"},
        {"veg_to_bare\tany\td_ndvi_b<0\tb\n", "t.tsv:1: unknown variable 'd_ndvi_b'"},
        {"veg_to_bare\tany\t>=0.5\tb\n", "t.tsv:1: unknown variable ''"},
        {"veg_to_bare\tany\tndvi_b>=abc\tb\n",
         "t.tsv:1: bad threshold 'abc' for 'ndvi_b' (want a decimal number)"},
        {"veg_to_bare\tany\tndvi_b>=\tb\n",
         "t.tsv:1: bad threshold '' for 'ndvi_b' (want a decimal number)"},
        {"veg_to_bare\tany\tndvi_b>=0.5.1\tb\n",
         "t.tsv:1: bad threshold '0.5.1' for 'ndvi_b' (want a decimal number)"},
        {"veg_to_bare\tany\tndvi_b>=1e3\tb\n",
         "t.tsv:1: bad threshold '1e3' for 'ndvi_b' (want a decimal number)"},
        {"veg_to_bare\tnoswir\tbsi_a>0.1\tb\n",
         "t.tsv:1: 'bsi_a' needs SWIR bands: use it in a 'swir' row"},
        {"land_to_water\tany\td_mndwi>0.1\tb\n",
         "t.tsv:1: 'd_mndwi' needs SWIR bands: use it in a 'swir' row"},
        {"# only comments\n\n", "t.tsv: no rules"},
        {"", "t.tsv: no rules"},
    };
    /* *out is set only on success: a sentinel address must survive. */
    static char sentinel;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rw_error err = {0};
        rw_change_rules *rules = (rw_change_rules *)&sentinel;
        const rw_status st =
            rw_change_rules_parse(cases[i].text, "t.tsv", &rules, &err);
        assert_int_equal(st, RW_ERR_FORMAT);
        assert_int_equal(err.status, RW_ERR_FORMAT);
        assert_string_equal(err.message, cases[i].message);
        assert_ptr_equal(rules, (rw_change_rules *)&sentinel);
    }
}

static void test_thresholds_parse_as_decimals(void **state)
{
    (void)state;
    /* "+.5" and "-0.500" are exactly 0.5 and -0.5, as is blue_red of these
     * pixels, so each sits on its threshold: the row holds with score 0. */
    rw_change_rules *rules =
        parse_ok("veg_to_bare\tany\tblue_red_a>=+.5\tb\n"
                 "veg_to_soil\tany\tblue_red_a<=-0.500\ts\n");
    const float red[RW_BAND_COUNT] = {0.25f, 0.1f, 0.75f, 0.3f, 0.2f, 0.1f};
    const float blue[RW_BAND_COUNT] = {0.75f, 0.1f, 0.25f, 0.3f, 0.2f, 0.1f};
    float score = -1.0f;
    assert_int_equal(rw_change_classify_pixel(rules, red, red, RW_BANDS_ALL,
                                              &score, NULL),
                     RW_CHANGE_VEG_TO_SOIL);
    assert_float_equal(score, 0.0, 0.0);
    score = -1.0f;
    assert_int_equal(rw_change_classify_pixel(rules, blue, blue, RW_BANDS_ALL,
                                              &score, NULL),
                     RW_CHANGE_VEG_TO_BARE);
    assert_float_equal(score, 0.0, 0.0);
    rw_change_rules_destroy(rules);
}

static void test_load_errors_name_the_file(void **state)
{
    (void)state;
    rw_error err = {0};
    rw_change_rules *rules = NULL;
    assert_int_equal(rw_change_rules_load("/nonexistent/change_rules.tsv",
                                          &rules, &err),
                     RW_ERR_IO);
    assert_non_null(strstr(err.message, "/nonexistent/change_rules.tsv: cannot open"));
    assert_null(rules);

    char path[] = "/tmp/test_change_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] =
        "# rules\nveg_to_bare\tany\tndvi_b>=0.5\tok\nturbidity\tany\tndvx_b>=0.5\tb\n";
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    rw_error_clear(&err);
    const rw_status st = rw_change_rules_load(path, &rules, &err);
    char want[128];
    snprintf(want, sizeof(want), "%s:3: unknown variable 'ndvx_b'", path);
    unlink(path);
    assert_int_equal(st, RW_ERR_FORMAT);
    assert_string_equal(err.message, want);
    assert_null(rules);
}

/* ---- evaluation -------------------------------------------------------- */

/* Score: the weakest condition's margin in index units, clamped to 1. */
static void test_score_formula(void **state)
{
    (void)state;
    rw_change_rules *rules =
        parse_ok("veg_to_bare\tany\tndvi_b>=0.8,ndvi_a<0.1\tb\n"
                 "veg_to_built\tany\tndvi_b>=0.5,ndvi_a<0.5\tc\n"
                 "turbidity\tany\tblue_red_a>=0\tequal\n");
    /* forest ndvi 0.32/0.38, mining ndvi 0.04/0.56: margins 0.2105 and
     * 0.1429 units of 0.2. */
    float score = -1.0f;
    assert_int_equal(rw_change_classify_pixel(rules, covers[FOREST].band,
                                              covers[MINING].band,
                                              RW_BANDS_ALL, &score, NULL),
                     RW_CHANGE_VEG_TO_BARE);
    assert_float_equal(score, (0.1 - 0.04 / 0.56) / 0.2, 1e-5);
    /* Crops ndvi 0.35/0.45 = 0.778: fails the first row, passes the second
     * by (0.778 - 0.5) / 0.2 > 1 and (0.5 - 0.2121) / 0.2 > 1: capped. */
    assert_int_equal(rw_change_classify_pixel(rules, covers[CROPS].band,
                                              covers[SOIL].band, RW_BANDS_ALL,
                                              &score, NULL),
                     RW_CHANGE_VEG_TO_BUILT);
    assert_float_equal(score, 1.0, 0.0);
    /* On the threshold: >= holds with score 0. */
    const float grey[RW_BAND_COUNT] = {0.2f, 0.2f, 0.2f, 0.2f, 0.2f, 0.2f};
    assert_int_equal(rw_change_classify_pixel(rules, grey, grey, RW_BANDS_ALL,
                                              &score, NULL),
                     RW_CHANGE_TURBIDITY);
    assert_float_equal(score, 0.0, 0.0);
    rw_change_rules_destroy(rules);

    /* A strict comparison fails on the threshold. */
    rules = parse_ok("turbidity\tany\tblue_red_a>0\tstrict\n");
    assert_int_equal(rw_change_classify_pixel(rules, grey, grey, RW_BANDS_ALL,
                                              &score, NULL),
                     RW_CHANGE_NONE);
    rw_change_rules_destroy(rules);
}

static void test_nan_fails_a_condition(void **state)
{
    (void)state;
    rw_change_rules *rules = parse_ok("veg_to_bare\tany\tndvi_a<0.3\tb\n");
    float px[RW_BAND_COUNT];
    memcpy(px, covers[MINING].band, sizeof(px));
    assert_int_equal(rw_change_classify_pixel(rules, px, px, RW_BANDS_ALL,
                                              NULL, NULL),
                     RW_CHANGE_VEG_TO_BARE);
    px[RW_BAND_RED] = NAN;
    assert_int_equal(rw_change_classify_pixel(rules, px, px, RW_BANDS_ALL,
                                              NULL, NULL),
                     RW_CHANGE_NONE);
    rw_change_rules_destroy(rules);
}

static void test_sensor_kind(void **state)
{
    (void)state;
    assert_true(rw_change_rules_swir(RW_BANDS_ALL));
    assert_true(rw_change_rules_swir(RW_BANDS_VNIR | RW_BAND_BIT(RW_BAND_SWIR1)));
    assert_false(rw_change_rules_swir(RW_BANDS_VNIR));
    assert_false(rw_change_rules_swir(RW_BANDS_VNIR | RW_BAND_BIT(RW_BAND_SWIR2)));
}

/* The planar form equals the pixel form on a mixed batch longer than one
 * internal chunk, with NULL planes for missing bands and NULL outputs. */
static void test_planar_matches_pixel(void **state)
{
    (void)state;
    rw_change_rules *rules = load_shipped();
    enum { N = 1000 };
    static float base[RW_BAND_COUNT][N], after[RW_BAND_COUNT][N];
    for (int i = 0; i < N; i++) {
        float b[RW_BAND_COUNT], a[RW_BAND_COUNT];
        const uint64_t h = rw_hash64(3, (uint64_t)i);
        cover_variant((enum cover)(h % COVER_COUNT), (int)(h >> 8) % VARIANTS, 5, b);
        cover_variant((enum cover)((h >> 16) % COVER_COUNT),
                      (int)(h >> 24) % VARIANTS, 7, a);
        for (int k = 0; k < RW_BAND_COUNT; k++) {
            base[k][i] = b[k];
            after[k][i] = a[k];
        }
    }
    for (size_t m = 0; m < 2; m++) {
        const unsigned mask = sensor_masks[m];
        const float *bp[RW_BAND_COUNT], *ap[RW_BAND_COUNT];
        for (int k = 0; k < RW_BAND_COUNT; k++) {
            const bool present = (mask & RW_BAND_BIT(k)) != 0;
            bp[k] = present ? base[k] : NULL;
            ap[k] = present ? after[k] : NULL;
        }
        static uint8_t cls[N], cls_only[N];
        static float score[N];
        static uint16_t rule[N];
        rw_change_classify_planar(rules, bp, ap, mask, N, cls, score, rule);
        rw_change_classify_planar(rules, bp, ap, mask, N, cls_only, NULL, NULL);
        size_t changed = 0;
        for (int i = 0; i < N; i++) {
            float b[RW_BAND_COUNT], a[RW_BAND_COUNT];
            for (int k = 0; k < RW_BAND_COUNT; k++) {
                b[k] = base[k][i];
                a[k] = after[k][i];
            }
            float s = -1.0f;
            const char *basis = NULL;
            const rw_change_class c =
                rw_change_classify_pixel(rules, b, a, mask, &s, &basis);
            assert_int_equal(cls[i], c);
            assert_int_equal(cls_only[i], c);
            assert_float_equal(score[i], s, 0.0);
            assert_ptr_equal(rw_change_rules_basis(rules, rule[i]), basis);
            changed += c != RW_CHANGE_NONE;
        }
        assert_true(changed > N / 10);
    }
    rw_change_rules_destroy(rules);
}

/* ---- the shipped rule file --------------------------------------------- */

static const struct {
    enum cover from, to;
    rw_change_class want;
} shipped_cases[] = {
    {FOREST, MINING, RW_CHANGE_VEG_TO_BARE},
    {CROPS, MINING, RW_CHANGE_VEG_TO_BARE},
    {FOREST, CONCRETE, RW_CHANGE_VEG_TO_BUILT},
    {CROPS, CONCRETE, RW_CHANGE_VEG_TO_BUILT},
    {FOREST, BLUE_ROOF, RW_CHANGE_VEG_TO_BUILT},
    {CROPS, BLUE_ROOF, RW_CHANGE_VEG_TO_BUILT},
    {FOREST, ASPHALT, RW_CHANGE_VEG_TO_BUILT},
    {CROPS, ASPHALT, RW_CHANGE_VEG_TO_BUILT},
    {FOREST, SOIL, RW_CHANGE_VEG_TO_SOIL},
    /* Harvest looks like clearing: reported as low-priority `other`. */
    {CROPS, SOIL, RW_CHANGE_VEG_TO_SOIL},
    /* A quarry dug into a bare field; a road or a field turned to concrete
     * is not rock. */
    {SOIL, MINING, RW_CHANGE_BARE_TO_ROCK},
    {ASPHALT, MINING, RW_CHANGE_NONE},
    {SOIL, CONCRETE, RW_CHANGE_NONE},
    {MUDFLAT, SAND, RW_CHANGE_NONE},
    {WATER, SAND, RW_CHANGE_WATER_TO_LAND},
    {WATER, GRAVEL, RW_CHANGE_WATER_TO_LAND},
    {TURBID, SAND, RW_CHANGE_WATER_TO_LAND},
    {TURBID, GRAVEL, RW_CHANGE_WATER_TO_LAND},
    {WATER, TURBID, RW_CHANGE_TURBIDITY},
    /* Seasonal lake retreat exposes dark mudflat: not a change. */
    {WATER, MUDFLAT, RW_CHANGE_NONE},
    {TURBID, MUDFLAT, RW_CHANGE_NONE},
    {WATER, FOREST, RW_CHANGE_NONE},
    {WATER, CROPS, RW_CHANGE_NONE},
    {TURBID, WATER, RW_CHANGE_NONE},
};

/* Each pair, with noise and phenology, on both sensor kinds; between them
 * the pairs make every row of the file fire. */
static void test_shipped_rules_classify_covers(void **state)
{
    (void)state;
    rw_change_rules *rules = load_shipped();
    const size_t count = rw_change_rules_count(rules);
    bool *fired = calloc(count + 1, sizeof(*fired));
    assert_non_null(fired);
    for (size_t m = 0; m < 2; m++) {
        for (size_t i = 0; i < sizeof(shipped_cases) / sizeof(shipped_cases[0]); i++)
            expect_pair(rules, shipped_cases[i].from, shipped_cases[i].to, 1.0f,
                        1.0f, sensor_masks[m], shipped_cases[i].want, fired);
        /* Every land cover that turns to water, clear or turbid. */
        for (int c = 0; c < COVER_COUNT; c++) {
            if (c == WATER || c == TURBID)
                continue;
            expect_pair(rules, (enum cover)c, WATER, 1.0f, 1.0f,
                        sensor_masks[m], RW_CHANGE_LAND_TO_WATER, fired);
            expect_pair(rules, (enum cover)c, TURBID, 1.0f, 1.0f,
                        sensor_masks[m], RW_CHANGE_LAND_TO_WATER, fired);
        }
    }
    for (size_t r = 1; r <= count; r++)
        if (!fired[r])
            fail_msg("rule %zu never fired: %s", r,
                     rw_change_rules_basis(rules, (unsigned)r));
    free(fired);
    rw_change_rules_destroy(rules);
}

static void test_shipped_rules_ignore_noise_phenology_and_shadow(void **state)
{
    (void)state;
    rw_change_rules *rules = load_shipped();
    for (size_t m = 0; m < 2; m++) {
        for (int c = 0; c < COVER_COUNT; c++) {
            const enum cover cv = (enum cover)c;
            expect_pair(rules, cv, cv, 1.0f, 1.0f, sensor_masks[m],
                        RW_CHANGE_NONE, NULL);
            expect_pair(rules, cv, cv, 1.0f, 0.4f, sensor_masks[m],
                        RW_CHANGE_NONE, NULL);
            expect_pair(rules, cv, cv, 0.4f, 1.0f, sensor_masks[m],
                        RW_CHANGE_NONE, NULL);
        }
    }
    rw_change_rules_destroy(rules);
}

/* ---- normalisation ----------------------------------------------------- */

/* y = 1.12 x - 0.01 with 0.3% noise; 20% of the pixels changed (half
 * brighter bare ground, half random), some NAN on either side. */
static size_t make_pairs(float *x, float *y, size_t n, uint64_t seed)
{
    size_t outliers = 0;
    for (size_t i = 0; i < n; i++) {
        const double u = rw_hash_unit(seed, 4 * i);
        const double e = rw_hash_unit(seed, 4 * i + 1) - 0.5;
        const double kind = rw_hash_unit(seed, 4 * i + 2);
        const double r = rw_hash_unit(seed, 4 * i + 3);
        x[i] = (float)(0.02 + 0.45 * u);
        y[i] = (float)(1.12 * x[i] - 0.01 + 0.006 * e);
        if (kind < 0.10) {
            y[i] = (float)(x[i] + 0.12 + 0.1 * r);
            outliers++;
        } else if (kind < 0.20) {
            y[i] = (float)(0.6 * r);
            outliers++;
        } else if (kind < 0.21) {
            x[i] = NAN;
        } else if (kind < 0.22) {
            y[i] = NAN;
        }
    }
    return outliers;
}

static void test_normalise_recovers_gain_offset(void **state)
{
    (void)state;
    enum { N = 200000 };
    float *x = malloc(N * sizeof(*x)), *y = malloc(N * sizeof(*y));
    assert_non_null(x);
    assert_non_null(y);
    const size_t outliers = make_pairs(x, y, N, 42);
    assert_true(outliers > N / 6);

    rw_error err = {0};
    rw_change_fit fit = {0};
    assert_int_equal(rw_change_normalise_fit(x, y, N, &fit, &err), RW_OK);
    assert_float_equal(fit.gain, 1.12, 1e-3);
    assert_float_equal(fit.offset, -0.01, 1e-3);
    /* The fit runs on a balanced subsample, outliers dropped from it. */
    assert_true(fit.used > 1000);
    assert_true(fit.used < N - outliers);

    /* Deterministic: the same inputs give the same bits. */
    rw_change_fit again = {0};
    assert_int_equal(rw_change_normalise_fit(x, y, N, &again, &err), RW_OK);
    assert_memory_equal(&fit, &again, sizeof(fit));

    /* Applying the fit maps earlier values onto later ones. */
    float band[3] = {0.1f, 0.3f, NAN};
    rw_change_normalise_apply(&fit, band, 3);
    assert_float_equal(band[0], 1.12 * 0.1 - 0.01, 2e-4);
    assert_float_equal(band[1], 1.12 * 0.3 - 0.01, 2e-4);
    assert_true(isnan(band[2]));
    free(x);
    free(y);
}

static void test_normalise_exact_line(void **state)
{
    (void)state;
    enum { N = 1000 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = 0.01f * (float)(i % 50);
        y[i] = 0.9f * x[i] + 0.02f;
    }
    rw_error err = {0};
    rw_change_fit fit = {0};
    assert_int_equal(rw_change_normalise_fit(x, y, N, &fit, &err), RW_OK);
    assert_float_equal(fit.gain, 0.9, 1e-5);
    assert_float_equal(fit.offset, 0.02, 1e-5);
}

/* A scene that is nearly all forest: inside the forest cluster the dates
 * agree with slope 1 and a phenology offset, while water and bare ground
 * (a few percent) follow the sensor gain. A fit left to the forest alone
 * puts water 0.03 too bright, which turns water into land for the rules;
 * the balanced fit must keep the dark end on its line. */
static void test_normalise_balances_covers(void **state)
{
    (void)state;
    enum { N = 100000 };
    float *x = malloc(N * sizeof(*x)), *y = malloc(N * sizeof(*y));
    assert_non_null(x);
    assert_non_null(y);
    uint64_t s = 7;
    for (int i = 0; i < N; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        const float u = (float)((s >> 11) & 0xFFFFF) / (float)0x100000; /* 0..1 */
        const float e = 0.004f * (u - 0.5f);
        if (i % 100 < 3) { /* water */
            x[i] = 0.015f + 0.01f * u;
            y[i] = 1.04f * x[i] + e;
        } else if (i % 100 < 5) { /* bare ground */
            x[i] = 0.18f + 0.04f * u;
            y[i] = 1.04f * x[i] + e;
        } else { /* forest: texture correlates, phenology adds 0.03 */
            x[i] = 0.30f + 0.10f * u;
            y[i] = x[i] + 0.03f + e;
        }
    }
    rw_error err = {0};
    rw_change_fit fit = {0};
    assert_int_equal(rw_change_normalise_fit(x, y, N, &fit, &err), RW_OK);
    const double water = fit.gain * 0.02 + fit.offset;
    assert_float_equal(water, 1.04 * 0.02, 0.01);
    const double forest = fit.gain * 0.35 + fit.offset;
    assert_float_equal(forest, 0.38, 0.02);
    free(x);
    free(y);
}

/* Forest fills the samples and its x carries noise and illumination the
 * later date does not share (errors in x): slopes within the forest come
 * out far below the sensor's 1.04. Water, a few percent at the dark end,
 * must stay on the sensor line (Landsat seed 18: a start slope of 0.86
 * put water NIR 0.05 too bright, the trim then dropped water, and a
 * dredging plume of 253 pixels was lost). */
static void test_normalise_ignores_flat_cluster_slopes(void **state)
{
    (void)state;
    enum { N = 60000 };
    float *x = malloc(N * sizeof(*x)), *y = malloc(N * sizeof(*y));
    assert_non_null(x);
    assert_non_null(y);
    for (int i = 0; i < N; i++) {
        const double u = rw_hash_unit(11, 2 * (uint64_t)i), v = rw_hash_unit(11, 2 * (uint64_t)i + 1);
        if (i % 100 < 2) { /* water */
            x[i] = (float)(0.02 + 0.01 * u);
            y[i] = (float)(1.04 * x[i] + 0.002 * (v - 0.5));
        } else { /* forest: a true 0.28-0.34 seen through 0.08 of noise in x */
            const double t = 0.28 + 0.06 * u;
            x[i] = (float)(t + 0.08 * (v - 0.5));
            y[i] = (float)(1.04 * t);
        }
    }
    rw_error err = {0};
    rw_change_fit fit = {0};
    assert_int_equal(rw_change_normalise_fit(x, y, N, &fit, &err), RW_OK);
    /* the start from every pair gave gain 0.39 and water at 0.21 here; the
     * trimmed least squares keep part of the forest's flattening (0.012) */
    assert_float_equal(fit.gain * 0.025 + fit.offset, 1.04 * 0.025, 0.015);
    assert_float_equal(fit.gain * 0.31 + fit.offset, 1.04 * 0.31, 0.02);
    free(x);
    free(y);
}

static void test_normalise_input_errors(void **state)
{
    (void)state;
    enum { N = 300 };
    float x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = 0.1f + 0.001f * (float)i;
        y[i] = i < 201 ? NAN : x[i]; /* 99 valid pairs */
    }
    rw_error err = {0};
    rw_change_fit fit = {7.0, 7.0, 7};
    assert_int_equal(rw_change_normalise_fit(x, y, N, &fit, &err), RW_ERR_INPUT);
    assert_int_equal(err.status, RW_ERR_INPUT);
    assert_non_null(strstr(err.message, "only 99 valid sample pairs"));
    assert_float_equal(fit.gain, 7.0, 0.0);

    for (int i = 0; i < N; i++) {
        x[i] = 0.2f;
        y[i] = 0.1f + 0.001f * (float)i;
    }
    rw_error_clear(&err);
    assert_int_equal(rw_change_normalise_fit(x, y, N, &fit, &err), RW_ERR_INPUT);
    assert_non_null(strstr(err.message, "constant"));
    assert_int_equal(fit.used, 7);
}

static void test_median(void **state)
{
    (void)state;
    const float odd[5] = {0.3f, NAN, 0.1f, 0.5f, 0.2f}; /* 0.1 0.2 0.3 0.5 */
    assert_float_equal(rw_change_median(odd, 5), 0.25, 1e-7);
    assert_float_equal(rw_change_median(odd, 4), 0.3, 0.0); /* 0.1 0.3 0.5 */
    assert_float_equal(rw_change_median(odd, 1), 0.3, 0.0);
    const float nans[3] = {NAN, NAN, NAN};
    assert_true(isnan(rw_change_median(nans, 3)));
    assert_true(isnan(rw_change_median(odd, 0)));
    float many[RW_CHANGE_MEDIAN_MAX + 1];
    for (int i = 0; i <= RW_CHANGE_MEDIAN_MAX; i++)
        many[i] = (float)((i * 7) % (RW_CHANGE_MEDIAN_MAX + 1));
    /* 16 values: a permutation of 0..16 minus 16 = 0..15, median 7.5. */
    assert_float_equal(rw_change_median(many, RW_CHANGE_MEDIAN_MAX), 7.5, 0.0);
    assert_true(isnan(rw_change_median(many, RW_CHANGE_MEDIAN_MAX + 1)));
    assert_true(isnan(rw_change_median(many, -1)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_table),
        cmocka_unit_test(test_parse_good_table),
        cmocka_unit_test(test_parse_every_row_fires),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_thresholds_parse_as_decimals),
        cmocka_unit_test(test_load_errors_name_the_file),
        cmocka_unit_test(test_score_formula),
        cmocka_unit_test(test_nan_fails_a_condition),
        cmocka_unit_test(test_sensor_kind),
        cmocka_unit_test(test_planar_matches_pixel),
        cmocka_unit_test(test_shipped_rules_classify_covers),
        cmocka_unit_test(test_shipped_rules_ignore_noise_phenology_and_shadow),
        cmocka_unit_test(test_normalise_recovers_gain_offset),
        cmocka_unit_test(test_normalise_exact_line),
        cmocka_unit_test(test_normalise_balances_covers),
        cmocka_unit_test(test_normalise_ignores_flat_cluster_slopes),
        cmocka_unit_test(test_normalise_input_errors),
        cmocka_unit_test(test_median),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
