#include "profiles.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Roles 0..RW_BAND_COUNT-1 are the bands, RW_PROFILE_MASK_ROLE the mask
 * band. ROLE_OTHER is a band the sensor has but the engine does not use. */
enum { ROLE_COUNT = RW_BAND_COUNT + 1, ROLE_NONE = -1, ROLE_OTHER = -2 };

/* Role names, as --bands keys and (except mask) as description words. */
static const char *const role_names[ROLE_COUNT] = {
    [RW_BAND_BLUE] = "blue",   [RW_BAND_GREEN] = "green",
    [RW_BAND_RED] = "red",     [RW_BAND_NIR] = "nir",
    [RW_BAND_SWIR1] = "swir1", [RW_BAND_SWIR2] = "swir2",
    [RW_PROFILE_MASK_ROLE] = "mask",
};

/* Every change rule needs these; SWIR and the mask are optional. */
#define REQUIRED_BANDS RW_BANDS_VNIR

/* Band roles of positional rows, by band position. */
static const rw_band positional_roles[] = {RW_BAND_BLUE, RW_BAND_GREEN,
                                           RW_BAND_RED, RW_BAND_NIR};

/* A NULL-terminated string list with static storage. */
#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static const rw_profile profiles[RW_PROFILE_COUNT] = {
    [RW_PROFILE_SENTINEL2] = {
        .id = RW_PROFILE_SENTINEL2,
        .key = "sentinel2",
        .name = "Sentinel-2 MSI L2A",
        .code = {
            [RW_BAND_BLUE] = LIST("B2", "B02"),
            [RW_BAND_GREEN] = LIST("B3", "B03"),
            [RW_BAND_RED] = LIST("B4", "B04"),
            [RW_BAND_NIR] = LIST("B8", "B08"),
            [RW_BAND_SWIR1] = LIST("B11"),
            [RW_BAND_SWIR2] = LIST("B12"),
            [RW_PROFILE_MASK_ROLE] = LIST("SCL"),
        },
        /* B8A is the narrow NIR band at 20 m: B8 is the 10 m one. */
        .other = LIST("B1", "B01", "B5", "B05", "B6", "B06", "B7", "B07",
                      "B8A", "B9", "B09", "B10"),
        .mask = RW_MASK_SCL,
    },
    /* Landsat 8/9 OLI numbering; Landsat 4-7 (TM/ETM+) number from SR_B1
     * = blue and are not this row. */
    [RW_PROFILE_LANDSAT] = {
        .id = RW_PROFILE_LANDSAT,
        .key = "landsat",
        .name = "Landsat 8/9 Collection 2 Level-2",
        .code = {
            [RW_BAND_BLUE] = LIST("SR_B2"),
            [RW_BAND_GREEN] = LIST("SR_B3"),
            [RW_BAND_RED] = LIST("SR_B4"),
            [RW_BAND_NIR] = LIST("SR_B5"),
            [RW_BAND_SWIR1] = LIST("SR_B6"),
            [RW_BAND_SWIR2] = LIST("SR_B7"),
            [RW_PROFILE_MASK_ROLE] = LIST("QA_PIXEL"),
        },
        .other = LIST("SR_B1", "ST_B10", "QA_RADSAT", "SR_QA_AEROSOL"),
        .mask = RW_MASK_QA_PIXEL,
    },
    [RW_PROFILE_GF2] = {
        .id = RW_PROFILE_GF2,
        .key = "gf2",
        .name = "GF-1/2/6, ZY-3 or other 4-band multispectral",
        .mask = RW_MASK_NONE,
        .positional = true,
        /* ZY-3 02 and 03 are often written ZY302, ZY303. */
        .spacecraft = LIST("GF1", "GF2", "GF6", "GAOFEN1", "GAOFEN2",
                           "GAOFEN6", "ZY3", "ZY302", "ZY303", "ZIYUAN3"),
    },
    [RW_PROFILE_GENERIC] = {
        .id = RW_PROFILE_GENERIC,
        .key = "generic",
        .name = "band mapping given with --bands",
        .mask = RW_MASK_NONE,
    },
};

const rw_profile *rw_profiles_get(rw_profile_id id)
{
    if ((unsigned)id >= RW_PROFILE_COUNT)
        return NULL;
    return &profiles[id];
}

const rw_profile *rw_profiles_find(const char *key)
{
    if (key == NULL)
        return NULL;
    for (int i = 0; i < RW_PROFILE_COUNT; i++)
        if (strcmp(profiles[i].key, key) == 0)
            return &profiles[i];
    return NULL;
}

/* ---- text matching ----------------------------------------------------- */

/* ASCII only: descriptions and metadata are ASCII, and <ctype.h> would
 * make matching depend on the process locale. */
static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_alpha(c) || is_digit(c);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* True when the n characters at s equal the string word, ignoring case. */
static bool span_equals(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i] != '\0'; i++)
        if (ascii_lower(s[i]) != ascii_lower(word[i]))
            return false;
    return i == n && word[i] == '\0';
}

static bool list_has(const char *const *list, const char *s, size_t n)
{
    for (; list != NULL && *list != NULL; list++)
        if (span_equals(s, n, *list))
            return true;
    return false;
}

/* p's role for the code s[0..n): ROLE_OTHER for the sensor's unused
 * bands, ROLE_NONE when it is no code of p. */
static int code_role(const rw_profile *p, const char *s, size_t n)
{
    for (int r = 0; r < ROLE_COUNT; r++)
        if (list_has(p->code[r], s, n))
            return r;
    return list_has(p->other, s, n) ? ROLE_OTHER : ROLE_NONE;
}

/* The role of the first part of desc that is one of p's codes, or
 * ROLE_NONE. Parts are runs of letters and digits; a part joined to the
 * next by one '_' is tried as a pair first, so codes such as SR_B4 and
 * QA_PIXEL are found inside file names (LC08_L2SP_..._SR_B4), and B02 in
 * T48RXT_20170414T032541_B02_10m. */
static int role_by_code(const rw_profile *p, const char *desc)
{
    const char *s = desc;
    while (*s != '\0') {
        if (!is_alnum(*s)) {
            s++;
            continue;
        }
        const char *start = s;
        while (is_alnum(*s))
            s++;
        if (*s == '_' && is_alnum(s[1])) {
            const char *end = s + 1;
            while (is_alnum(*end))
                end++;
            const int pair = code_role(p, start, (size_t)(end - start));
            if (pair != ROLE_NONE)
                return pair;
        }
        const int one = code_role(p, start, (size_t)(s - start));
        if (one != ROLE_NONE)
            return one;
    }
    return ROLE_NONE;
}

/* The band role a word names when it is the whole of s[0..n) apart from
 * blanks, or ROLE_NONE. */
static int role_word_in(const char *s, size_t n)
{
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    for (int r = 0; r < RW_BAND_COUNT; r++)
        if (span_equals(s, n, role_names[r]))
            return r;
    return ROLE_NONE;
}

/* The role word of desc: the whole description ("nir") or a parenthesised
 * group ("SR_B5 (nir)"). Words elsewhere are ignored so "Red Edge 1" is
 * not the red band. */
static int role_by_word(const char *desc)
{
    int role = role_word_in(desc, strlen(desc));
    for (const char *open = strchr(desc, '('); role == ROLE_NONE && open != NULL;
         open = strchr(open + 1, '(')) {
        const char *close = strchr(open, ')');
        if (close == NULL)
            break;
        role = role_word_in(open + 1, (size_t)(close - open - 1));
    }
    return role;
}

/* True when name occurs in s at a word start, ignoring case and the
 * separators '-', '_', ' ' in s, and no digit follows: "Gaofen-2" has
 * GAOFEN2, "GF14" has no GF1. */
static bool spacecraft_has(const char *s, const char *name)
{
    for (size_t at = 0; s[at] != '\0'; at++) {
        if (at > 0 && (is_alpha(s[at - 1]) || is_digit(s[at - 1])))
            continue;
        const char *c = s + at;
        const char *w = name;
        while (*w != '\0' && ascii_lower(*c) == ascii_lower(*w)) {
            c++;
            w++;
            while (*w != '\0' && (*c == '-' || *c == '_' || *c == ' '))
                c++;
        }
        if (*w == '\0' && !is_digit(*c))
            return true;
    }
    return false;
}

static bool spacecraft_matches(const rw_profile *p, const char *spacecraft)
{
    if (spacecraft == NULL)
        return false;
    for (const char *const *name = p->spacecraft; name != NULL && *name != NULL;
         name++)
        if (spacecraft_has(spacecraft, *name))
            return true;
    return false;
}

/* ---- role assignment --------------------------------------------------- */

/* Band roles of one raster under one profile, and the first problem. */
typedef struct assignment {
    int band_of_role[ROLE_COUNT]; /* 1-based, 0 = absent */
    unsigned by_code;             /* bit r: role r was found by a code */
    int conflict_band;  /* first band whose word contradicts its code or
                           position, 0 = none */
    int conflict_role;  /* what the code or position made it (or ROLE_OTHER) */
    int repeat_role;    /* first role two bands claim, ROLE_NONE = none */
    int repeat_first, repeat_second;
} assignment;

static const char *band_description(const char *const *descriptions, int i)
{
    if (descriptions == NULL || descriptions[i] == NULL)
        return "";
    return descriptions[i];
}

/* Assigns roles from codes, then position (when by_position and p is a
 * positional row), then role words. */
static void assign_roles(const rw_profile *p, int band_count,
                         const char *const *descriptions, bool by_position,
                         assignment *a)
{
    memset(a, 0, sizeof(*a));
    a->repeat_role = ROLE_NONE;
    const int positions = (int)(sizeof(positional_roles) / sizeof(positional_roles[0]));
    for (int i = 0; i < band_count; i++) {
        const char *desc = band_description(descriptions, i);
        const int code = role_by_code(p, desc);
        int fixed = code;
        if (fixed == ROLE_NONE && p->positional && by_position && i < positions)
            fixed = (int)positional_roles[i];
        const int word = role_by_word(desc);
        if (fixed != ROLE_NONE && word != ROLE_NONE && fixed != word) {
            if (a->conflict_band == 0) {
                a->conflict_band = i + 1;
                a->conflict_role = fixed;
            }
            continue;
        }
        const int role = fixed != ROLE_NONE ? fixed : word;
        if (role < 0)
            continue;
        if (a->band_of_role[role] != 0) {
            if (a->repeat_role == ROLE_NONE) {
                a->repeat_role = role;
                a->repeat_first = a->band_of_role[role];
                a->repeat_second = i + 1;
            }
            continue;
        }
        a->band_of_role[role] = i + 1;
        if (code == role)
            a->by_code |= 1u << (unsigned)role;
    }
}

static unsigned present_bands(const assignment *a)
{
    unsigned mask = 0;
    for (int r = 0; r < RW_BAND_COUNT; r++)
        if (a->band_of_role[r] != 0)
            mask |= RW_BAND_BIT(r);
    return mask;
}

static bool assignment_usable(const assignment *a)
{
    return a->conflict_band == 0 && a->repeat_role == ROLE_NONE &&
           (present_bands(a) & REQUIRED_BANDS) == REQUIRED_BANDS;
}

static bool has_codes(const rw_profile *p)
{
    for (int r = 0; r < ROLE_COUNT; r++)
        if (p->code[r] != NULL)
            return true;
    return false;
}

/* Auto mode: true when the raster is recognisably p's, with a's roles.
 * Code rows need the required bands by code, since role words alone fit
 * any sensor; positional rows take complete role words, else the
 * spacecraft's word. */
static bool identify(const rw_profile *p, int band_count,
                     const char *const *descriptions, const char *spacecraft,
                     assignment *a)
{
    if (has_codes(p)) {
        assign_roles(p, band_count, descriptions, false, a);
        return assignment_usable(a) && (a->by_code & REQUIRED_BANDS) == REQUIRED_BANDS;
    }
    if (!p->positional)
        return false;
    assign_roles(p, band_count, descriptions, false, a);
    if (assignment_usable(a))
        return true;
    if (!spacecraft_matches(p, spacecraft))
        return false;
    assign_roles(p, band_count, descriptions, true, a);
    return assignment_usable(a);
}

/* " (expected B8 or B08 in its description)" for code rows, the band
 * positions for positional rows. */
static void describe_expected(const rw_profile *p, int role, int band_count,
                              char *buf, size_t size)
{
    if (p->positional) {
        snprintf(buf, size, " (it reads bands 1-4 as blue, green, red, nir and "
                 "there are %d)", band_count);
        return;
    }
    size_t used = (size_t)snprintf(buf, size, " (expected");
    const char *sep = " ";
    for (const char *const *c = p->code[role]; c != NULL && *c != NULL; c++) {
        if (used < size)
            used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, *c);
        sep = " or ";
    }
    if (used < size)
        snprintf(buf + used, size - used, "%s(%s) in its description)", sep,
                 role_names[role]);
}

/* The error for a requested profile whose assignment is not usable. */
static rw_status report_unusable(const rw_profile *p, const assignment *a,
                                 int band_count, const char *const *descriptions,
                                 const char *what, rw_error *err)
{
    if (a->conflict_band != 0) {
        const int r = a->conflict_role;
        return rw_error_set(err, RW_ERR_FORMAT, __FILE__, __LINE__,
                            "band %d of %s is described as '%s', which "
                            "contradicts profile %s (%s%s%s there): use --bands",
                            a->conflict_band, what,
                            band_description(descriptions, a->conflict_band - 1),
                            p->key, r >= 0 ? "the " : "a band with no role",
                            r >= 0 ? role_names[r] : "", r >= 0 ? " band" : "");
    }
    if (a->repeat_role != ROLE_NONE)
        return rw_error_set(err, RW_ERR_FORMAT, __FILE__, __LINE__,
                            "bands %d and %d of %s both look like the %s band "
                            "of profile %s: use --bands",
                            a->repeat_first, a->repeat_second, what,
                            role_names[a->repeat_role], p->key);
    int missing = RW_BAND_BLUE;
    while (a->band_of_role[missing] != 0 || !(REQUIRED_BANDS & RW_BAND_BIT(missing)))
        missing++;
    char expected[256];
    describe_expected(p, missing, band_count, expected, sizeof(expected));
    return rw_error_set(err, RW_ERR_FORMAT, __FILE__, __LINE__,
                        "profile %s finds no %s band in %s%s: use --bands",
                        p->key, role_names[missing], what, expected);
}

static void fill_match(const rw_profile *p, const assignment *a,
                       rw_profile_match *out)
{
    out->profile = p;
    for (int r = 0; r < RW_BAND_COUNT; r++)
        out->band_of_role[r] = a->band_of_role[r];
    out->mask_band = a->band_of_role[RW_PROFILE_MASK_ROLE];
    out->band_mask = present_bands(a);
}

rw_status rw_profiles_detect(const char *requested, int band_count,
                             const char *const *descriptions,
                             const char *spacecraft, const char *what,
                             rw_profile_match *out, rw_error *err)
{
    rw_status st = RW_OK;
    assignment a;
    memset(out, 0, sizeof(*out));
    if (what == NULL)
        what = "the raster";
    RW_FAIL_IF(band_count <= 0, err, RW_ERR_FORMAT, "%s has no bands", what);

    if (requested == NULL || strcmp(requested, "auto") == 0) {
        int i = 0;
        while (i < RW_PROFILE_COUNT &&
               !identify(&profiles[i], band_count, descriptions, spacecraft, &a))
            i++;
        RW_FAIL_IF(i == RW_PROFILE_COUNT, err, RW_ERR_FORMAT,
                   "cannot tell the band roles of %s: use --profile or --bands",
                   what);
        fill_match(&profiles[i], &a, out);
        goto done;
    }

    const rw_profile *p = rw_profiles_find(requested);
    RW_FAIL_IF(p == NULL, err, RW_ERR_USAGE,
               "unknown profile '%s' (auto, sentinel2, landsat, gf2, generic)",
               requested);
    RW_FAIL_IF(!has_codes(p) && !p->positional, err, RW_ERR_USAGE,
               "profile %s takes its band roles from --bands only", p->key);
    /* Complete role words beat position: they also cover a reordered
     * stack. */
    assign_roles(p, band_count, descriptions, false, &a);
    if (p->positional && !assignment_usable(&a))
        assign_roles(p, band_count, descriptions, true, &a);
    if (!assignment_usable(&a)) {
        st = report_unusable(p, &a, band_count, descriptions, what, err);
        goto done;
    }
    fill_match(p, &a, out);
done:
    return st;
}

/* ---- --bands ----------------------------------------------------------- */

/* One "role=band" item of a --bands mapping, s[0..n). */
static rw_status parse_band_item(const char *s, size_t n, int band_count,
                                 int band_of_role[ROLE_COUNT], rw_error *err)
{
    rw_status st = RW_OK;
    const char *eq = memchr(s, '=', n);
    RW_FAIL_IF(n == 0, err, RW_ERR_USAGE, "--bands has an empty item");
    RW_FAIL_IF(eq == NULL, err, RW_ERR_USAGE,
               "--bands item '%.*s' is not role=band", (int)n, s);
    const size_t name_len = (size_t)(eq - s);
    int role = 0;
    while (role < ROLE_COUNT && !span_equals(s, name_len, role_names[role]))
        role++;
    RW_FAIL_IF(role == ROLE_COUNT, err, RW_ERR_USAGE,
               "--bands: unknown role '%.*s' (blue, green, red, nir, swir1, "
               "swir2, mask)", (int)name_len, s);
    RW_FAIL_IF(band_of_role[role] != 0, err, RW_ERR_USAGE,
               "--bands gives role %s twice", role_names[role]);

    const char *num = eq + 1;
    const size_t num_len = n - name_len - 1;
    /* Nine digits cannot overflow an int; GDAL band counts are far lower. */
    bool digits = num_len > 0 && num_len <= 9;
    for (size_t i = 0; digits && i < num_len; i++)
        digits = is_digit(num[i]);
    RW_FAIL_IF(!digits, err, RW_ERR_USAGE,
               "--bands %s=%.*s: the band must be a number from 1 to %d",
               role_names[role], (int)num_len, num, band_count);
    const int band = (int)strtol(num, NULL, 10);
    RW_FAIL_IF(band < 1 || band > band_count, err, RW_ERR_USAGE,
               "--bands %s=%d: the raster has bands 1 to %d", role_names[role],
               band, band_count);
    for (int r = 0; r < ROLE_COUNT; r++)
        RW_FAIL_IF(band_of_role[r] == band, err, RW_ERR_USAGE,
                   "--bands gives band %d two roles (%s and %s)", band,
                   role_names[r], role_names[role]);
    band_of_role[role] = band;
done:
    return st;
}

rw_status rw_profiles_parse_bands(const char *spec, int band_count,
                                  rw_profile_match *out, rw_error *err)
{
    rw_status st = RW_OK;
    int band_of_role[ROLE_COUNT] = {0};
    memset(out, 0, sizeof(*out));
    RW_FAIL_IF(spec == NULL, err, RW_ERR_USAGE, "--bands is missing");
    for (const char *item = spec;;) {
        const char *comma = strchr(item, ',');
        const size_t n = comma != NULL ? (size_t)(comma - item) : strlen(item);
        RW_CHECK(parse_band_item(item, n, band_count, band_of_role, err));
        if (comma == NULL)
            break;
        item = comma + 1;
    }
    for (int r = 0; r < RW_BAND_COUNT; r++)
        RW_FAIL_IF((REQUIRED_BANDS & RW_BAND_BIT(r)) && band_of_role[r] == 0, err,
                   RW_ERR_USAGE,
                   "--bands lacks %s (blue, green, red and nir are required)",
                   role_names[r]);

    out->profile = &profiles[RW_PROFILE_GENERIC];
    for (int r = 0; r < RW_BAND_COUNT; r++) {
        out->band_of_role[r] = band_of_role[r];
        if (band_of_role[r] != 0)
            out->band_mask |= RW_BAND_BIT(r);
    }
    out->mask_band = band_of_role[RW_PROFILE_MASK_ROLE];
done:
    return st;
}

/* ---- mask decoding ----------------------------------------------------- */

/* Sentinel-2 L2A SCL, indexed by class value. */
static const uint8_t scl_classes[] = {
    [0] = RW_QA_NODATA,  /* no data */
    [1] = RW_QA_NODATA,  /* saturated or defective: the value is not a
                            measurement */
    [2] = 0,             /* dark area pixels: terrain shadow and dark
                            ground, which are land; cloud shadow is 3 */
    [3] = RW_QA_SHADOW,  /* cloud shadows */
    [4] = 0,             /* vegetation */
    [5] = 0,             /* not vegetated */
    [6] = RW_QA_WATER,   /* water */
    [7] = 0,             /* unclassified */
    [8] = RW_QA_CLOUD,   /* cloud, medium probability */
    [9] = RW_QA_CLOUD,   /* cloud, high probability */
    [10] = RW_QA_CLOUD,  /* thin cirrus: it still shifts reflectances */
    [11] = RW_QA_SNOW,   /* snow or ice */
};

/* Landsat Collection 2 QA_PIXEL bits that set a flag. Bit 6 (clear) sets
 * none, and the confidence pairs (bits 8-15) are left out: the single
 * bits already carry USGS's high-confidence decision. */
static const struct {
    uint8_t bit;
    uint8_t flags;
} qa_pixel_bits[] = {
    {0, RW_QA_NODATA}, /* fill */
    {1, RW_QA_CLOUD},  /* dilated cloud: the cloud's blurred rim */
    {2, RW_QA_CLOUD},  /* cirrus */
    {3, RW_QA_CLOUD},  /* cloud */
    {4, RW_QA_SHADOW}, /* cloud shadow */
    {5, RW_QA_SNOW},   /* snow */
    {7, RW_QA_WATER},  /* water */
};

static uint8_t decode_none(uint16_t value)
{
    (void)value;
    return 0;
}

static uint8_t decode_scl(uint16_t value)
{
    if (value >= sizeof(scl_classes) / sizeof(scl_classes[0]))
        return RW_QA_NODATA;
    return scl_classes[value];
}

static uint8_t decode_qa_pixel(uint16_t value)
{
    uint8_t flags = 0;
    for (size_t i = 0; i < sizeof(qa_pixel_bits) / sizeof(qa_pixel_bits[0]); i++)
        if (value & (1u << qa_pixel_bits[i].bit))
            flags |= qa_pixel_bits[i].flags;
    return flags;
}

static uint8_t (*const mask_decoders[RW_MASK_KIND_COUNT])(uint16_t) = {
    [RW_MASK_NONE] = decode_none,
    [RW_MASK_SCL] = decode_scl,
    [RW_MASK_QA_PIXEL] = decode_qa_pixel,
};

uint8_t rw_profiles_decode_mask(const rw_profile *p, uint16_t value)
{
    if (p == NULL)
        return 0;
    return mask_decoders[p->mask](value);
}

/* Every mask value of every kind, decoded: written once under
 * tables_once, read-only afterwards. */
static uint8_t mask_tables[RW_MASK_KIND_COUNT][UINT16_MAX + 1];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void build_mask_tables(void)
{
    for (int k = 0; k < RW_MASK_KIND_COUNT; k++)
        for (uint32_t v = 0; v <= UINT16_MAX; v++)
            mask_tables[k][v] = mask_decoders[k]((uint16_t)v);
}

void rw_profiles_decode_mask_array(const rw_profile *p, const uint16_t *v,
                                   size_t n, uint8_t *out)
{
    if (p == NULL) {
        memset(out, 0, n);
        return;
    }
    pthread_once(&tables_once, build_mask_tables);
    const uint8_t *restrict table = mask_tables[p->mask];
    for (size_t i = 0; i < n; i++)
        out[i] = table[v[i]];
}

/* ---- spectral fallback ------------------------------------------------- */

/* Thick cloud is bright and grey across the visible and shows no
 * vegetation. The brightness floors sit above concrete roofs (blue about
 * 0.28-0.30, visible mean about 0.29), the commonest bright false alarm. */
#define CLOUD_MIN_BLUE 0.33f
#define CLOUD_MIN_MEAN_VISIBLE 0.32f
#define CLOUD_MIN_VISIBLE 0.25f /* every visible band: grey, not coloured */
#define CLOUD_MAX_NDVI 0.2f
/* Open water: green above nir by this normalised margin (McFeeters). */
#define WATER_MIN_NDWI 0.2f

uint8_t rw_profiles_spectral_mask(const float band[RW_BAND_COUNT])
{
    float index[RW_INDEX_COUNT];
    rw_indices_compute_pixel(band, RW_BANDS_VNIR, index);
    const float blue = band[RW_BAND_BLUE];
    const float green = band[RW_BAND_GREEN];
    const float red = band[RW_BAND_RED];
    const float darkest = blue < green ? (blue < red ? blue : red)
                                       : (green < red ? green : red);
    uint8_t flags = 0;
    /* Comparisons with NAN are false, so a missing band sets no flag. */
    if (blue >= CLOUD_MIN_BLUE && index[RW_INDEX_BRIGHT] >= CLOUD_MIN_MEAN_VISIBLE &&
        darkest >= CLOUD_MIN_VISIBLE && index[RW_INDEX_NDVI] < CLOUD_MAX_NDVI)
        flags |= RW_QA_CLOUD;
    if (index[RW_INDEX_NDWI] > WATER_MIN_NDWI)
        flags |= RW_QA_WATER;
    return flags;
}
