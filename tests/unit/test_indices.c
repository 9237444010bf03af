/* Unit tests for src/indices: every table row against hand-computed values,
 * NAN for missing bands and zero denominators, name lookup, planar form. */
#include "indices.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* A forest pixel: blue, green, red, nir, swir1, swir2. */
static const float forest[RW_BAND_COUNT] = {0.03f, 0.05f, 0.03f,
                                            0.35f, 0.16f, 0.07f};

/* Hand-computed from the forest pixel. */
static const struct {
    rw_index id;
    const char *name;
    double value;
} expected[RW_INDEX_COUNT] = {
    {RW_INDEX_NDVI, "ndvi", 0.32 / 0.38},                 /* (.35-.03)/(.35+.03) */
    {RW_INDEX_NDWI, "ndwi", -0.30 / 0.40},                /* (.05-.35)/(.05+.35) */
    {RW_INDEX_MNDWI, "mndwi", -0.11 / 0.21},              /* (.05-.16)/(.05+.16) */
    {RW_INDEX_NDBI, "ndbi", -0.19 / 0.51},                /* (.16-.35)/(.16+.35) */
    {RW_INDEX_BSI, "bsi", (0.19 - 0.38) / (0.19 + 0.38)}, /* swir1+red, nir+blue */
    {RW_INDEX_BRIGHT, "bright", 0.11 / 3.0},              /* (.03+.05+.03)/3 */
    {RW_INDEX_BLUE_RED, "blue_red", 0.0},                 /* (.03-.03)/(.03+.03) */
};

static void test_table_rows_are_in_enum_order(void **state)
{
    (void)state;
    for (int i = 0; i < RW_INDEX_COUNT; i++) {
        const rw_index_def *def = rw_indices_get((rw_index)i);
        assert_non_null(def);
        assert_int_equal(def->id, i);
        assert_string_equal(def->name, expected[i].name);
        assert_non_null(def->compute);
        assert_true(def->unit > 0.0f);
        assert_int_equal(def->bands & ~RW_BANDS_ALL, 0);
    }
    assert_null(rw_indices_get(RW_INDEX_COUNT));
    assert_null(rw_indices_get((rw_index)-1));
}

static void test_each_row_matches_hand_values(void **state)
{
    (void)state;
    float out[RW_INDEX_COUNT];
    rw_indices_compute_pixel(forest, RW_BANDS_ALL, out);
    for (int i = 0; i < RW_INDEX_COUNT; i++)
        assert_float_equal(out[i], expected[i].value, 1e-6);
}

static void test_blue_roof_cue_is_positive(void **state)
{
    (void)state;
    const float roof[RW_BAND_COUNT] = {0.25f, 0.22f, 0.15f, 0.22f, 0.20f, 0.18f};
    float out[RW_INDEX_COUNT];
    rw_indices_compute_pixel(roof, RW_BANDS_ALL, out);
    assert_float_equal(out[RW_INDEX_BLUE_RED], 0.10 / 0.40, 1e-6);
    assert_float_equal(out[RW_INDEX_BRIGHT], 0.62 / 3.0, 1e-6);
}

/* Four-band sensors: SWIR indices are NAN even when the array holds
 * numbers there, and the others are unaffected. */
static void test_missing_swir_gives_nan(void **state)
{
    (void)state;
    float out[RW_INDEX_COUNT];
    rw_indices_compute_pixel(forest, RW_BANDS_VNIR, out);
    for (int i = 0; i < RW_INDEX_COUNT; i++) {
        const bool needs_swir =
            (rw_indices_get((rw_index)i)->bands & RW_BAND_BIT(RW_BAND_SWIR1)) != 0;
        assert_int_equal(rw_indices_available(RW_BANDS_VNIR, (rw_index)i),
                         !needs_swir);
        if (needs_swir)
            assert_true(isnan(out[i]));
        else
            assert_float_equal(out[i], expected[i].value, 1e-6);
    }
    assert_true(rw_indices_available(RW_BANDS_VNIR, RW_INDEX_NDVI));
    assert_false(rw_indices_available(RW_BANDS_VNIR, RW_INDEX_MNDWI));
    assert_false(rw_indices_available(RW_BANDS_VNIR, RW_INDEX_NDBI));
    assert_false(rw_indices_available(RW_BANDS_VNIR, RW_INDEX_BSI));
    assert_false(rw_indices_available(RW_BANDS_ALL, RW_INDEX_COUNT));
}

/* Each band, when missing from the mask, turns exactly the indices that
 * read it into NAN. */
static void test_each_missing_band_gives_nan(void **state)
{
    (void)state;
    for (int b = 0; b < RW_BAND_COUNT; b++) {
        const unsigned mask = RW_BANDS_ALL & ~RW_BAND_BIT(b);
        float out[RW_INDEX_COUNT];
        rw_indices_compute_pixel(forest, mask, out);
        for (int i = 0; i < RW_INDEX_COUNT; i++) {
            const bool reads = (rw_indices_get((rw_index)i)->bands &
                                RW_BAND_BIT(b)) != 0;
            assert_int_equal(isnan(out[i]) != 0, reads);
        }
    }
}

static void test_nan_band_and_zero_denominator(void **state)
{
    (void)state;
    float px[RW_BAND_COUNT];
    memcpy(px, forest, sizeof(px));
    px[RW_BAND_RED] = NAN;
    float out[RW_INDEX_COUNT];
    rw_indices_compute_pixel(px, RW_BANDS_ALL, out);
    assert_true(isnan(out[RW_INDEX_NDVI]));
    assert_true(isnan(out[RW_INDEX_BSI]));
    assert_true(isnan(out[RW_INDEX_BRIGHT]));
    assert_false(isnan(out[RW_INDEX_NDWI]));

    const float black[RW_BAND_COUNT] = {0};
    rw_indices_compute_pixel(black, RW_BANDS_ALL, out);
    for (int i = 0; i < RW_INDEX_COUNT; i++) {
        if (i == RW_INDEX_BRIGHT)
            assert_float_equal(out[i], 0.0, 0.0);
        else
            assert_true(isnan(out[i]));
    }
}

static void test_find_by_name(void **state)
{
    (void)state;
    for (int i = 0; i < RW_INDEX_COUNT; i++) {
        rw_index id = RW_INDEX_COUNT;
        assert_true(rw_indices_find(expected[i].name, &id));
        assert_int_equal(id, expected[i].id);
    }
    rw_index id = RW_INDEX_NDVI;
    assert_false(rw_indices_find("ndvx", &id));
    assert_false(rw_indices_find("NDVI", &id));
    assert_false(rw_indices_find("", &id));
    assert_false(rw_indices_find("ndvi_b", &id));
    assert_int_equal(id, RW_INDEX_NDVI);
}

/* The planar form gives the pixel form's values, and NULL planes for
 * missing bands are not read. */
static void test_planar_matches_pixel(void **state)
{
    (void)state;
    enum { N = 37 };
    float planes[RW_BAND_COUNT][N];
    for (int i = 0; i < N; i++)
        for (int b = 0; b < RW_BAND_COUNT; b++)
            planes[b][i] = forest[b] * (1.0f + 0.01f * (float)((i * (b + 3)) % 17));
    const float *band[RW_BAND_COUNT];
    for (int b = 0; b < RW_BAND_COUNT; b++)
        band[b] = planes[b];
    const unsigned masks[] = {RW_BANDS_ALL, RW_BANDS_VNIR};
    for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
        if (masks[m] == RW_BANDS_VNIR) {
            band[RW_BAND_SWIR1] = NULL;
            band[RW_BAND_SWIR2] = NULL;
        }
        for (int idx = 0; idx < RW_INDEX_COUNT; idx++) {
            float out[N];
            rw_indices_compute_planar(band, masks[m], (rw_index)idx, N, out);
            for (int i = 0; i < N; i++) {
                float px[RW_BAND_COUNT], all[RW_INDEX_COUNT];
                for (int b = 0; b < RW_BAND_COUNT; b++)
                    px[b] = planes[b][i];
                rw_indices_compute_pixel(px, masks[m], all);
                if (isnan(all[idx]))
                    assert_true(isnan(out[i]));
                else
                    assert_float_equal(out[i], all[idx], 0.0);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_rows_are_in_enum_order),
        cmocka_unit_test(test_each_row_matches_hand_values),
        cmocka_unit_test(test_blue_roof_cue_is_positive),
        cmocka_unit_test(test_missing_swir_gives_nan),
        cmocka_unit_test(test_each_missing_band_gives_nan),
        cmocka_unit_test(test_nan_band_and_zero_denominator),
        cmocka_unit_test(test_find_by_name),
        cmocka_unit_test(test_planar_matches_pixel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
