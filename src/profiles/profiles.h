/* Sensor profiles: which raster band plays which role (rw_band), which band
 * is the quality mask and how its values decode into cloud, shadow, water,
 * snow and nodata. One table row per profile; libc and core only: the
 * caller reads band descriptions and metadata with GDAL and passes them as
 * strings. Every function may be called from any number of threads at
 * once (see rw_profiles_decode_mask_array for its one-time tables). */
#ifndef RW_PROFILES_H
#define RW_PROFILES_H

#include "core.h"
#include "indices.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Quality flags: a pixel's decoded mask is the OR of these, 0 when clear. */
enum {
    RW_QA_NODATA = 1, /* fill, saturated or defective: no measurement */
    RW_QA_CLOUD = 2,
    RW_QA_SHADOW = 4, /* cloud shadow */
    RW_QA_WATER = 8,
    RW_QA_SNOW = 16
};

/* How a profile's mask band is decoded. */
typedef enum rw_mask_kind {
    RW_MASK_NONE = 0,     /* no decodable mask: every value decodes to 0 */
    RW_MASK_SCL = 1,      /* Sentinel-2 L2A scene classification classes */
    RW_MASK_QA_PIXEL = 2, /* Landsat Collection 2 QA_PIXEL bit flags */
    RW_MASK_KIND_COUNT = 3
} rw_mask_kind;

/* Row ids; auto-detection tries the rows in this order. */
typedef enum rw_profile_id {
    RW_PROFILE_SENTINEL2 = 0,
    RW_PROFILE_LANDSAT = 1,
    RW_PROFILE_GF2 = 2,
    RW_PROFILE_GENERIC = 3,
    RW_PROFILE_COUNT = 4
} rw_profile_id;

/* Index of the mask band in rw_profile.code. */
#define RW_PROFILE_MASK_ROLE RW_BAND_COUNT

/* One sensor. Lists of strings end at a NULL entry; a NULL list is empty.
 * Codes match a whole token of a band description (a run of letters,
 * digits and '_'), ignoring case: "B8" matches "B8 (nir)" and
 * "B8, central wavelength 842 nm" but not "B8A" nor "SR_B8". */
typedef struct rw_profile {
    rw_profile_id id;
    const char *key;  /* --profile value: "sentinel2" */
    const char *name; /* for reports: "Sentinel-2 MSI L2A" */
    /* Description codes of each role; [RW_PROFILE_MASK_ROLE] is the mask. */
    const char *const *code[RW_BAND_COUNT + 1];
    /* Codes of the sensor's other bands (coastal, red edge...): they take
     * no role, and a role word in their description contradicts the row. */
    const char *const *other;
    rw_mask_kind mask;
    /* Bands 1-4 are blue, green, red, nir unless role words say otherwise
     * (GF-1/2/6 and ZY-3 multispectral products describe no bands). */
    bool positional;
    /* Spacecraft names that identify a positional row in auto mode,
     * compared ignoring case and '-', '_', ' ' separators; a digit may not
     * follow ("GF-1", "Gaofen1", "GF1B" are GF1; "GF14" is not). */
    const char *const *spacecraft;
} rw_profile;

/* The row of id, or NULL when id is out of range. */
const rw_profile *rw_profiles_get(rw_profile_id id);

/* The row whose key is exactly key, or NULL. */
const rw_profile *rw_profiles_find(const char *key);

/* Band roles of one raster. */
typedef struct rw_profile_match {
    const rw_profile *profile; /* decides how mask_band decodes */
    int band_of_role[RW_BAND_COUNT]; /* 1-based band index, 0 = absent */
    int mask_band;                   /* 1-based, 0 = none */
    unsigned band_mask;              /* RW_BAND_BIT of the present roles */
} rw_profile_match;

/* Finds the band roles of a raster of band_count bands.
 *   requested    "auto" (or NULL) or a profile key.
 *   descriptions band_count band descriptions; "" or NULL entries (or a
 *                NULL array) when the file has none.
 *   spacecraft   the dataset's SPACECRAFT, SATELLITE or SATELLITEID
 *                metadata value (the first present), or NULL.
 *   what         names the raster in messages ("the later scene
 *                'b.tif'"); NULL reads "the raster".
 * A band takes a role from its description: a profile code ("B4",
 * "SR_B4") or a role word ("blue", "green", "red", "nir", "swir1",
 * "swir2") alone or in parentheses ("B4 (red)"), or from its position for
 * positional rows. A code or position and a word that disagree make the
 * description contradict the profile.
 * "auto" tries sentinel2 and landsat, which need blue, green, red and nir
 * found by their codes, then gf2, which needs those four named by role
 * words or the spacecraft to be GF-1/2/6 or ZY-3. A requested profile
 * needs blue, green, red and nir found in any of these ways; a positional
 * row then reads bands 1-4 by position whatever the spacecraft.
 * The mask band, SWIR bands and spacecraft are optional.
 * Fails (out zeroed) with RW_ERR_USAGE for an unknown key or "generic"
 * (whose roles come from rw_profiles_parse_bands only), RW_ERR_FORMAT
 * "cannot tell the band roles of <what>: use --profile or --bands" when
 * auto finds nothing, and RW_ERR_FORMAT naming the band or role when a
 * requested profile's bands contradict it, repeat a role or lack one of
 * blue, green, red, nir. Messages start lowercase. */
rw_status rw_profiles_detect(const char *requested, int band_count,
                             const char *const *descriptions,
                             const char *spacecraft, const char *what,
                             rw_profile_match *out, rw_error *err);

/* Parses a --bands mapping "blue=1,green=2,red=3,nir=4[,swir1=5][,swir2=6]
 * [,mask=7]" (role names ignore case) for a raster of band_count bands.
 * out->profile is the generic row, whose mask decodes to 0: to decode the
 * mask band the caller replaces out->profile by the row of the profile
 * the user also passed with --profile (rw_profiles_find), or by the one
 * rw_profiles_detect found for the file; the band roles stay the user's.
 * Fails (out zeroed) with RW_ERR_USAGE for a malformed item, an unknown
 * or repeated role, a band outside 1..band_count, one band given two
 * roles, or a mapping without blue, green, red and nir. */
rw_status rw_profiles_parse_bands(const char *spec, int band_count,
                                  rw_profile_match *out, rw_error *err);

/* The RW_QA_* flags of one mask value under p's mask kind; 0 for a NULL p
 * or RW_MASK_NONE. SCL values outside the classes 0-11 decode to
 * RW_QA_NODATA: they are no classification at all. */
uint8_t rw_profiles_decode_mask(const rw_profile *p, uint16_t value);

/* rw_profiles_decode_mask for n values: out[i] = decode(p, v[i]). Reads a
 * 64 KiB table per mask kind, built from the scalar decoder on the first
 * call under pthread_once, so no init call is needed and concurrent first
 * calls are safe. */
void rw_profiles_decode_mask_array(const rw_profile *p, const uint16_t *v,
                                   size_t n, uint8_t *out);

/* Quality of one pixel from its reflectances alone, for scenes without a
 * mask band (GF-2). band holds RW_BAND_COUNT surface reflectances (0..1),
 * NAN for absent bands; blue, green, red and nir are read. Returns
 * RW_QA_CLOUD for thick cloud (bright, grey and not vegetated: blue >=
 * 0.33, mean visible >= 0.32, every visible band >= 0.25, NDVI < 0.2;
 * concrete roofs at 0.28-0.30 stay clear, snow reads as cloud) and
 * RW_QA_WATER when NDWI (green-nir)/(green+nir) > 0.2; 0 otherwise or
 * when a band it needs is NAN. Thin cloud and cloud shadow are not
 * detectable from one date's reflectances: a shadow is just dark, like
 * water, asphalt or a north slope. */
uint8_t rw_profiles_spectral_mask(const float band[RW_BAND_COUNT]);

#endif
