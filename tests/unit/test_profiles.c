/* Unit tests for src/profiles: the table rows, detection of each profile
 * from realistic band descriptions and spacecraft names, every detection
 * and --bands error with its exact status, every SCL class and QA_PIXEL
 * bit, the 64 KiB decoding tables against the scalar decoder (also on a
 * first call from many threads), and the spectral cloud/water fallback. */
#include "profiles.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Descriptions as `reservewatch synth` and common exports write them. */
static const char *const s2_desc[] = {"B2 (blue)",   "B3 (green)",  "B4 (red)", "B8 (nir)",
                                      "B11 (swir1)", "B12 (swir2)", "SCL"};
static const char *const landsat_desc[] = {"SR_B2 (blue)",  "SR_B3 (green)", "SR_B4 (red)",
                                           "SR_B5 (nir)",   "SR_B6 (swir1)", "SR_B7 (swir2)",
                                           "QA_PIXEL"};
static const char *const gf2_desc[] = {"B1 (blue)", "B2 (green)", "B3 (red)", "B4 (nir)"};
static const char *const empty4[] = {"", "", "", ""};

static void assert_roles(const rw_profile_match *m, rw_profile_id id, const int bands[RW_BAND_COUNT],
                         int mask_band)
{
    assert_non_null(m->profile);
    assert_int_equal(m->profile->id, id);
    unsigned mask = 0;
    for (int r = 0; r < RW_BAND_COUNT; r++) {
        assert_int_equal(m->band_of_role[r], bands[r]);
        if (bands[r] != 0)
            mask |= RW_BAND_BIT(r);
    }
    assert_int_equal(m->mask_band, mask_band);
    assert_int_equal(m->band_mask, mask);
}

static void assert_zeroed(const rw_profile_match *m)
{
    const rw_profile_match zero = {0};
    assert_memory_equal(m, &zero, sizeof(zero));
}

/* ---- table ------------------------------------------------------------- */

static void test_rows_in_enum_order(void **state)
{
    (void)state;
    static const char *const keys[RW_PROFILE_COUNT] = {"sentinel2", "landsat", "gf2", "generic"};
    static const rw_mask_kind masks[RW_PROFILE_COUNT] = {RW_MASK_SCL, RW_MASK_QA_PIXEL,
                                                         RW_MASK_NONE, RW_MASK_NONE};
    for (int i = 0; i < RW_PROFILE_COUNT; i++) {
        const rw_profile *p = rw_profiles_get((rw_profile_id)i);
        assert_non_null(p);
        assert_int_equal(p->id, i);
        assert_string_equal(p->key, keys[i]);
        assert_non_null(p->name);
        assert_int_equal(p->mask, masks[i]);
        assert_ptr_equal(rw_profiles_find(keys[i]), p);
    }
    assert_null(rw_profiles_get(RW_PROFILE_COUNT));
    assert_null(rw_profiles_get((rw_profile_id)-1));
    assert_null(rw_profiles_find("Sentinel2"));
    assert_null(rw_profiles_find("auto"));
    assert_null(rw_profiles_find(NULL));
}

/* ---- detection ----------------------------------------------------------- */

static void test_detect_sentinel2(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    assert_int_equal(rw_profiles_detect("auto", COUNT(s2_desc), s2_desc, "Sentinel-2A", "a.tif", &m, &err),
                     RW_OK);
    assert_roles(&m, RW_PROFILE_SENTINEL2, (const int[]){1, 2, 3, 4, 5, 6}, 7);

    /* Zero-padded codes, GDAL-style descriptions, B8A before B8, no role
     * words; requested by key as well as auto. */
    static const char *const full[] = {"B01", "B02, central wavelength 490 nm", "b03", "B04",
                                       "B05", "B8A", "B08", "B11", "B12", "SCL"};
    const char *const requested[] = {NULL, "auto", "sentinel2"};
    for (int i = 0; i < COUNT(requested); i++) {
        assert_int_equal(rw_profiles_detect(requested[i], COUNT(full), full, NULL, "a.tif", &m, &err),
                         RW_OK);
        assert_roles(&m, RW_PROFILE_SENTINEL2, (const int[]){2, 3, 4, 7, 8, 9}, 10);
    }

    /* Four 10 m bands without SCL: no mask, no SWIR. */
    static const char *const vnir[] = {"B2", "B3", "B4", "B8"};
    assert_int_equal(rw_profiles_detect("auto", 4, vnir, NULL, "a.tif", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_SENTINEL2, (const int[]){1, 2, 3, 4, 0, 0}, 0);
    assert_int_equal(m.band_mask, RW_BANDS_VNIR);
    assert_int_equal(err.status, RW_OK);
}

static void test_detect_landsat(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    assert_int_equal(rw_profiles_detect("auto", COUNT(landsat_desc), landsat_desc, "LANDSAT_8",
                                        "a.tif", &m, &err),
                     RW_OK);
    assert_roles(&m, RW_PROFILE_LANDSAT, (const int[]){1, 2, 3, 4, 5, 6}, 7);

    /* A full Level-2 stack as USGS names the files, coastal band first. */
    static const char *const full[] = {"SR_B1", "SR_B2", "SR_B3", "SR_B4", "SR_B5", "SR_B6",
                                       "SR_B7", "ST_B10", "QA_PIXEL", "QA_RADSAT"};
    assert_int_equal(rw_profiles_detect("landsat", COUNT(full), full, NULL, "a.tif", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_LANDSAT, (const int[]){2, 3, 4, 5, 6, 7}, 9);
    assert_int_equal(err.status, RW_OK);
}

/* Band files named as delivered (a VRT of them takes their names): the
 * codes are found among the name's parts, in any band order. */
static void test_detect_file_names(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    static const char *const s2[] = {"T50RMN_20241214T030519_B08_10m", "T50RMN_20241214T030519_SCL_20m",
                                     "T50RMN_20241214T030519_B02_10m", "T50RMN_20241214T030519_B11_20m",
                                     "T50RMN_20241214T030519_B03_10m", "T50RMN_20241214T030519_B12_20m",
                                     "T50RMN_20241214T030519_B04_10m"};
    assert_int_equal(rw_profiles_detect("auto", COUNT(s2), s2, NULL, "a.vrt", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_SENTINEL2, (const int[]){3, 5, 7, 1, 4, 6}, 2);

    /* Landsat 8 Level-2: B2-B4 alone would read as Sentinel-2, but SR_B4 is
     * one code, and without B8 Sentinel-2 has no nir */
    static const char *const l8[] = {"LC08_L2SP_121040_20241210_20241218_02_T1_SR_B5",
                                     "LC08_L2SP_121040_20241210_20241218_02_T1_QA_PIXEL",
                                     "LC08_L2SP_121040_20241210_20241218_02_T1_SR_B2",
                                     "LC08_L2SP_121040_20241210_20241218_02_T1_SR_B3",
                                     "LC08_L2SP_121040_20241210_20241218_02_T1_SR_B4",
                                     "LC08_L2SP_121040_20241210_20241218_02_T1_SR_B6",
                                     "LC08_L2SP_121040_20241210_20241218_02_T1_SR_B7"};
    assert_int_equal(rw_profiles_detect("auto", COUNT(l8), l8, NULL, "a.vrt", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_LANDSAT, (const int[]){3, 4, 5, 1, 6, 7}, 2);
    assert_int_equal(err.status, RW_OK);
}

static void test_detect_gf2_by_spacecraft(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    /* Described the way synth writes them: B2 is green here, not S2 blue. */
    assert_int_equal(rw_profiles_detect("auto", 4, gf2_desc, "GF2", "a.tif", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_GF2, (const int[]){1, 2, 3, 4, 0, 0}, 0);

    static const char *const names[] = {"GF2",     "GF-2",   "gf2", "Gaofen-2", "GAOFEN 2",
                                        "GF1",     "GF-1B",  "GF6", "GF-6 WFV", "ZY3",
                                        "ZY-3",    "ZY3-02", "ZiYuan-3", "satellite GF2"};
    for (int i = 0; i < COUNT(names); i++) {
        /* Empty and numbered descriptions say nothing: position decides. */
        static const char *const numbered[] = {"Band 1", "Band 2", "Band 3", "Band 4", "Band 5"};
        assert_int_equal(rw_profiles_detect("auto", 4, empty4, names[i], "a.tif", &m, &err), RW_OK);
        assert_roles(&m, RW_PROFILE_GF2, (const int[]){1, 2, 3, 4, 0, 0}, 0);
        assert_int_equal(rw_profiles_detect("auto", 5, numbered, names[i], "a.tif", &m, &err), RW_OK);
        assert_roles(&m, RW_PROFILE_GF2, (const int[]){1, 2, 3, 4, 0, 0}, 0);
    }
    assert_int_equal(rw_profiles_detect("auto", 4, NULL, "GF2", "a.tif", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_GF2, (const int[]){1, 2, 3, 4, 0, 0}, 0);
    assert_int_equal(err.status, RW_OK);

    /* Not GF-1/2/6 nor ZY-3: a later digit, other sensors, no name. */
    static const char *const others[] = {"GF14", "GF-12", "GF3", "ZY1-02D", "LANDSAT_8",
                                         "Sentinel-2A", "XGF2", ""};
    for (int i = 0; i < COUNT(others); i++) {
        rw_error_clear(&err);
        assert_int_equal(rw_profiles_detect("auto", 4, empty4, others[i], "a.tif", &m, &err),
                         RW_ERR_FORMAT);
    }
}

static void test_detect_gf2_by_role_words(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    assert_int_equal(rw_profiles_detect("auto", 4, gf2_desc, NULL, "a.tif", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_GF2, (const int[]){1, 2, 3, 4, 0, 0}, 0);

    /* Complete words beat position, also with the spacecraft known. */
    static const char *const reordered[] = {"NIR", "Red", " ( green ) ", "Band 4 (blue)"};
    const char *const spacecraft[] = {NULL, "GF2"};
    for (int i = 0; i < COUNT(spacecraft); i++) {
        assert_int_equal(rw_profiles_detect("auto", 4, reordered, spacecraft[i], "a.tif", &m, &err),
                         RW_OK);
        assert_roles(&m, RW_PROFILE_GF2, (const int[]){4, 3, 2, 1, 0, 0}, 0);
    }
    assert_int_equal(err.status, RW_OK);
}

static void test_detect_auto_failure_message(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    static const char *const numbered[] = {"Band 1", "Band 2", "Band 3", "Band 4"};
    assert_int_equal(rw_profiles_detect("auto", 4, numbered, NULL, "the later scene 'b.tif'", &m, &err),
                     RW_ERR_FORMAT);
    assert_int_equal(err.status, RW_ERR_FORMAT);
    assert_string_equal(err.message,
                        "cannot tell the band roles of the later scene 'b.tif': use --profile or --bands");
    assert_zeroed(&m);

    /* Words elsewhere than alone or in parentheses do not count, nor does
     * "red" in "Red Edge". */
    static const char *const loose[] = {"blue band", "green band", "(Red Edge 1)", "nir band"};
    rw_error_clear(&err);
    assert_int_equal(rw_profiles_detect("auto", 4, loose, NULL, NULL, &m, &err), RW_ERR_FORMAT);
    assert_string_equal(err.message, "cannot tell the band roles of the raster: use --profile or --bands");

    /* A GF spacecraft with too few bands. */
    rw_error_clear(&err);
    assert_int_equal(rw_profiles_detect("auto", 3, empty4, "GF2", "a.tif", &m, &err), RW_ERR_FORMAT);

    rw_error_clear(&err);
    assert_int_equal(rw_profiles_detect("auto", 0, NULL, NULL, "a.tif", &m, &err), RW_ERR_FORMAT);
    assert_string_equal(err.message, "a.tif has no bands");
}

static void test_detect_requested_missing_role(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    static const char *const no_nir[] = {"B2", "B3", "B4", "B11", "SCL"};
    assert_int_equal(rw_profiles_detect("sentinel2", COUNT(no_nir), no_nir, NULL, "a.tif", &m, &err),
                     RW_ERR_FORMAT);
    assert_string_equal(err.message, "profile sentinel2 finds no nir band in a.tif (expected B8 or B08 "
                                     "or (nir) in its description): use --bands");
    assert_zeroed(&m);

    /* Sentinel-2 codes are no Landsat codes. */
    rw_error_clear(&err);
    static const char *const s2_codes[] = {"B2", "B3", "B4", "B8"};
    assert_int_equal(rw_profiles_detect("landsat", 4, s2_codes, NULL, "a.tif", &m, &err), RW_ERR_FORMAT);
    assert_string_equal(err.message, "profile landsat finds no blue band in a.tif (expected SR_B2 or "
                                     "(blue) in its description): use --bands");

    /* Positional rows need four bands. */
    rw_error_clear(&err);
    assert_int_equal(rw_profiles_detect("gf2", 3, empty4, NULL, "a.tif", &m, &err), RW_ERR_FORMAT);
    assert_string_equal(err.message, "profile gf2 finds no nir band in a.tif (it reads bands 1-4 as "
                                     "blue, green, red, nir and there are 3): use --bands");
}

static void test_detect_requested_contradictions(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    /* GF-2 descriptions read as Sentinel-2: B1 is the coastal band. */
    assert_int_equal(rw_profiles_detect("sentinel2", 4, gf2_desc, NULL, "a.tif", &m, &err),
                     RW_ERR_FORMAT);
    assert_string_equal(err.message, "band 1 of a.tif is described as 'B1 (blue)', which contradicts "
                                     "profile sentinel2 (a band with no role there): use --bands");
    assert_zeroed(&m);

    rw_error_clear(&err);
    static const char *const swapped[] = {"B2 (blue)", "B3 (red)", "B4 (red)", "B8 (nir)"};
    assert_int_equal(rw_profiles_detect("sentinel2", 4, swapped, NULL, "a.tif", &m, &err),
                     RW_ERR_FORMAT);
    assert_string_equal(err.message, "band 2 of a.tif is described as 'B3 (red)', which contradicts "
                                     "profile sentinel2 (the green band there): use --bands");

    /* Incomplete words fall back to position, which they contradict. */
    rw_error_clear(&err);
    static const char *const partial[] = {"red", "", "", ""};
    assert_int_equal(rw_profiles_detect("gf2", 4, partial, NULL, "a.tif", &m, &err), RW_ERR_FORMAT);
    assert_string_equal(err.message, "band 1 of a.tif is described as 'red', which contradicts "
                                     "profile gf2 (the blue band there): use --bands");

    rw_error_clear(&err);
    static const char *const twice[] = {"B2", "B02", "B3", "B4", "B8"};
    assert_int_equal(rw_profiles_detect("sentinel2", 5, twice, NULL, "a.tif", &m, &err), RW_ERR_FORMAT);
    assert_string_equal(err.message, "bands 1 and 2 of a.tif both look like the blue band of profile "
                                     "sentinel2: use --bands");

    /* The same problems make auto pass the row by. */
    rw_error_clear(&err);
    assert_int_equal(rw_profiles_detect("auto", 5, twice, NULL, "a.tif", &m, &err), RW_ERR_FORMAT);
    assert_string_equal(err.message, "cannot tell the band roles of a.tif: use --profile or --bands");
}

static void test_detect_requested_by_words_and_position(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    /* Role words alone satisfy a requested code row (not auto). */
    static const char *const words[] = {"blue", "green", "red", "nir", "swir1", "swir2", "SCL"};
    assert_int_equal(rw_profiles_detect("sentinel2", 7, words, NULL, "a.tif", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_SENTINEL2, (const int[]){1, 2, 3, 4, 5, 6}, 7);
    /* A requested positional row needs no spacecraft. */
    assert_int_equal(rw_profiles_detect("gf2", 4, empty4, NULL, "a.tif", &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_GF2, (const int[]){1, 2, 3, 4, 0, 0}, 0);
    assert_int_equal(err.status, RW_OK);
}

static void test_detect_requested_key_errors(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    assert_int_equal(rw_profiles_detect("generic", 7, s2_desc, NULL, "a.tif", &m, &err), RW_ERR_USAGE);
    assert_string_equal(err.message, "profile generic takes its band roles from --bands only");
    rw_error_clear(&err);
    assert_int_equal(rw_profiles_detect("sentinel-2", 7, s2_desc, NULL, "a.tif", &m, &err), RW_ERR_USAGE);
    assert_string_equal(err.message, "unknown profile 'sentinel-2' (auto, sentinel2, landsat, gf2, generic)");
    assert_zeroed(&m);
}

/* ---- --bands ------------------------------------------------------------ */

static void test_parse_bands(void **state)
{
    (void)state;
    rw_profile_match m;
    rw_error err = {0};
    assert_int_equal(rw_profiles_parse_bands("blue=1,green=2,red=3,nir=4,swir1=5,swir2=6,mask=7", 7, &m, &err),
                     RW_OK);
    assert_roles(&m, RW_PROFILE_GENERIC, (const int[]){1, 2, 3, 4, 5, 6}, 7);
    assert_int_equal(rw_profiles_decode_mask(m.profile, 9), 0);

    assert_int_equal(rw_profiles_parse_bands("NIR=1,Red=2,green=3,blue=4", 4, &m, &err), RW_OK);
    assert_roles(&m, RW_PROFILE_GENERIC, (const int[]){4, 3, 2, 1, 0, 0}, 0);
    assert_int_equal(m.band_mask, RW_BANDS_VNIR);
    assert_int_equal(err.status, RW_OK);
}

static void test_parse_bands_errors(void **state)
{
    (void)state;
    static const struct {
        const char *spec;
        const char *message;
    } cases[] = {
        {"blue=1,green=2,red=3,nir=4,tir=5", "--bands: unknown role 'tir' (blue, green, red, nir, swir1, swir2, mask)"},
        {"blue=1,green=2,red=3,nir=4,blue=5", "--bands gives role blue twice"},
        {"blue=1,green=2,red=3,nir=7", "--bands nir=7: the raster has bands 1 to 6"},
        {"blue=0,green=2,red=3,nir=4", "--bands blue=0: the raster has bands 1 to 6"},
        {"blue=1,green=2,red=3", "--bands lacks nir (blue, green, red and nir are required)"},
        {"green=2,red=3,nir=4,swir1=5", "--bands lacks blue (blue, green, red and nir are required)"},
        {"blue=1,green=1,red=3,nir=4", "--bands gives band 1 two roles (blue and green)"},
        {"blue=1,green=2,red=3,nir=4,mask=4", "--bands gives band 4 two roles (nir and mask)"},
        {"blue=1,green=2,,red=3,nir=4", "--bands has an empty item"},
        {"", "--bands has an empty item"},
        {"blue=1,green=2,red=3,nir=4,", "--bands has an empty item"},
        {"blue", "--bands item 'blue' is not role=band"},
        {"blue=", "--bands blue=: the band must be a number from 1 to 6"},
        {"blue=x", "--bands blue=x: the band must be a number from 1 to 6"},
        {"blue=1x", "--bands blue=1x: the band must be a number from 1 to 6"},
        {"blue=-1", "--bands blue=-1: the band must be a number from 1 to 6"},
        {"blue=99999999999", "--bands blue=99999999999: the band must be a number from 1 to 6"},
        {"=1", "--bands: unknown role '' (blue, green, red, nir, swir1, swir2, mask)"},
    };
    for (int i = 0; i < COUNT(cases); i++) {
        rw_profile_match m;
        rw_error err = {0};
        assert_int_equal(rw_profiles_parse_bands(cases[i].spec, 6, &m, &err), RW_ERR_USAGE);
        assert_int_equal(err.status, RW_ERR_USAGE);
        assert_string_equal(err.message, cases[i].message);
        assert_zeroed(&m);
    }
    rw_profile_match m;
    rw_error err = {0};
    assert_int_equal(rw_profiles_parse_bands(NULL, 6, &m, &err), RW_ERR_USAGE);
}

/* ---- mask decoding ------------------------------------------------------ */

static void test_scl_every_class(void **state)
{
    (void)state;
    static const uint8_t expected[] = {
        [0] = RW_QA_NODATA, [1] = RW_QA_NODATA, [2] = 0,           [3] = RW_QA_SHADOW,
        [4] = 0,            [5] = 0,            [6] = RW_QA_WATER, [7] = 0,
        [8] = RW_QA_CLOUD,  [9] = RW_QA_CLOUD,  [10] = RW_QA_CLOUD, [11] = RW_QA_SNOW,
    };
    const rw_profile *s2 = rw_profiles_get(RW_PROFILE_SENTINEL2);
    for (int v = 0; v < COUNT(expected); v++)
        assert_int_equal(rw_profiles_decode_mask(s2, (uint16_t)v), expected[v]);
    /* Not a class: no classification, no data. */
    assert_int_equal(rw_profiles_decode_mask(s2, 12), RW_QA_NODATA);
    assert_int_equal(rw_profiles_decode_mask(s2, 255), RW_QA_NODATA);
}

static void test_qa_pixel_every_bit(void **state)
{
    (void)state;
    static const uint8_t expected[16] = {
        [0] = RW_QA_NODATA, [1] = RW_QA_CLOUD, [2] = RW_QA_CLOUD, [3] = RW_QA_CLOUD,
        [4] = RW_QA_SHADOW, [5] = RW_QA_SNOW,  [6] = 0,           [7] = RW_QA_WATER,
        /* bits 8-15: confidence pairs, not flags */
    };
    const rw_profile *ls = rw_profiles_get(RW_PROFILE_LANDSAT);
    for (int bit = 0; bit < 16; bit++)
        assert_int_equal(rw_profiles_decode_mask(ls, (uint16_t)(1u << bit)), expected[bit]);
    assert_int_equal(rw_profiles_decode_mask(ls, 0), 0);
    /* The values synth writes: clear land, clear water, cloud, shadow, fill. */
    assert_int_equal(rw_profiles_decode_mask(ls, 21824), 0);
    assert_int_equal(rw_profiles_decode_mask(ls, 21952), RW_QA_WATER);
    assert_int_equal(rw_profiles_decode_mask(ls, 22280), RW_QA_CLOUD);
    assert_int_equal(rw_profiles_decode_mask(ls, 23888), RW_QA_SHADOW);
    assert_int_equal(rw_profiles_decode_mask(ls, 1), RW_QA_NODATA);
    /* Flags combine. */
    assert_int_equal(rw_profiles_decode_mask(ls, (1u << 3) | (1u << 4) | (1u << 7)),
                     RW_QA_CLOUD | RW_QA_SHADOW | RW_QA_WATER);
}

static void test_no_mask_decodes_to_zero(void **state)
{
    (void)state;
    for (unsigned v = 0; v <= UINT16_MAX; v += 257) {
        assert_int_equal(rw_profiles_decode_mask(rw_profiles_get(RW_PROFILE_GF2), (uint16_t)v), 0);
        assert_int_equal(rw_profiles_decode_mask(rw_profiles_get(RW_PROFILE_GENERIC), (uint16_t)v), 0);
        assert_int_equal(rw_profiles_decode_mask(NULL, (uint16_t)v), 0);
    }
}

/* Every value of every profile, the tables' first use split across
 * threads, equal to the scalar decoder. */
static void test_array_matches_scalar(void **state)
{
    (void)state;
    enum { N = UINT16_MAX + 1 };
    uint16_t *v = malloc(N * sizeof(*v));
    uint8_t *out = malloc((size_t)RW_PROFILE_COUNT * N);
    assert_non_null(v);
    assert_non_null(out);
    for (int i = 0; i < N; i++)
        v[i] = (uint16_t)i;
#pragma omp parallel for num_threads(8) schedule(static, 1)
    for (int k = 0; k < RW_PROFILE_COUNT * 16; k++) {
        const int p = k % RW_PROFILE_COUNT, chunk = k / RW_PROFILE_COUNT;
        const size_t at = (size_t)chunk * (N / 16);
        rw_profiles_decode_mask_array(rw_profiles_get((rw_profile_id)p), v + at, N / 16,
                                      out + (size_t)p * N + at);
    }
    for (int p = 0; p < RW_PROFILE_COUNT; p++)
        for (int i = 0; i < N; i++)
            if (out[(size_t)p * N + (size_t)i] != rw_profiles_decode_mask(rw_profiles_get((rw_profile_id)p), v[i]))
                fail_msg("profile %d value %d", p, i);
    memset(out, 0xff, 4);
    rw_profiles_decode_mask_array(NULL, v, 4, out);
    for (int i = 0; i < 4; i++)
        assert_int_equal(out[i], 0);
    rw_profiles_decode_mask_array(rw_profiles_get(RW_PROFILE_SENTINEL2), v, 0, out);
    free(v);
    free(out);
}

/* ---- spectral fallback -------------------------------------------------- */

static void test_spectral_mask(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        float band[RW_BAND_COUNT];
        uint8_t flags;
    } cases[] = {
        {"thick cloud", {.48f, .45f, .44f, .45f, NAN, NAN}, RW_QA_CLOUD},
        {"bright cloud over SWIR", {.60f, .58f, .57f, .58f, .40f, .30f}, RW_QA_CLOUD},
        {"concrete roof", {.28f, .29f, .30f, .32f, NAN, NAN}, 0},
        {"bright concrete", {.31f, .32f, .33f, .35f, NAN, NAN}, 0},
        {"clear water", {.06f, .07f, .04f, .02f, NAN, NAN}, RW_QA_WATER},
        {"turbid water", {.08f, .11f, .10f, .04f, NAN, NAN}, RW_QA_WATER},
        {"forest", {.03f, .05f, .03f, .35f, NAN, NAN}, 0},
        {"blue steel roof", {.36f, .30f, .20f, .28f, NAN, NAN}, 0},
        /* each cloud test alone: visible mean .317, then red below .25 */
        {"bright grey roof", {.34f, .31f, .30f, .32f, NAN, NAN}, 0},
        {"bright coloured roof", {.40f, .35f, .22f, .30f, NAN, NAN}, 0},
        {"bright crops", {.34f, .36f, .33f, .60f, NAN, NAN}, 0},
        {"no blue", {NAN, .45f, .44f, .45f, NAN, NAN}, 0},
        {"no nir", {.48f, .45f, .44f, NAN, NAN, NAN}, 0},
        {"zero", {0, 0, 0, 0, 0, 0}, 0},
    };
    for (int i = 0; i < COUNT(cases); i++)
        if (rw_profiles_spectral_mask(cases[i].band) != cases[i].flags)
            fail_msg("%s: got %d, expected %d", cases[i].name,
                     rw_profiles_spectral_mask(cases[i].band), cases[i].flags);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_in_enum_order),
        cmocka_unit_test(test_detect_sentinel2),
        cmocka_unit_test(test_detect_landsat),
        cmocka_unit_test(test_detect_file_names),
        cmocka_unit_test(test_detect_gf2_by_spacecraft),
        cmocka_unit_test(test_detect_gf2_by_role_words),
        cmocka_unit_test(test_detect_auto_failure_message),
        cmocka_unit_test(test_detect_requested_missing_role),
        cmocka_unit_test(test_detect_requested_contradictions),
        cmocka_unit_test(test_detect_requested_by_words_and_position),
        cmocka_unit_test(test_detect_requested_key_errors),
        cmocka_unit_test(test_parse_bands),
        cmocka_unit_test(test_parse_bands_errors),
        cmocka_unit_test(test_scl_every_class),
        cmocka_unit_test(test_qa_pixel_every_bit),
        cmocka_unit_test(test_no_mask_decodes_to_zero),
        cmocka_unit_test(test_array_matches_scalar),
        cmocka_unit_test(test_spectral_mask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
