#include "indices.h"

#include <math.h>
#include <string.h>

/* A normalised difference, NAN when a + b is 0. The zero test selects the
 * denominator rather than the result: GCC (with its default
 * -ftrapping-math) only if-converts, and so vectorises, this form. The
 * loops carry `omp simd` because -O2 alone does not vectorise divisions. */
static inline float normalised_difference(float a, float b)
{
    const float sum = a + b;
    const float den = sum != 0.0f ? sum : NAN;
    return (a - b) / den;
}

static void compute_ndvi(const float *const band[RW_BAND_COUNT], size_t n,
                         float *restrict out)
{
    const float *restrict nir = band[RW_BAND_NIR];
    const float *restrict red = band[RW_BAND_RED];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = normalised_difference(nir[i], red[i]);
}

static void compute_ndwi(const float *const band[RW_BAND_COUNT], size_t n,
                         float *restrict out)
{
    const float *restrict green = band[RW_BAND_GREEN];
    const float *restrict nir = band[RW_BAND_NIR];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = normalised_difference(green[i], nir[i]);
}

static void compute_mndwi(const float *const band[RW_BAND_COUNT], size_t n,
                          float *restrict out)
{
    const float *restrict green = band[RW_BAND_GREEN];
    const float *restrict swir1 = band[RW_BAND_SWIR1];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = normalised_difference(green[i], swir1[i]);
}

static void compute_ndbi(const float *const band[RW_BAND_COUNT], size_t n,
                         float *restrict out)
{
    const float *restrict swir1 = band[RW_BAND_SWIR1];
    const float *restrict nir = band[RW_BAND_NIR];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = normalised_difference(swir1[i], nir[i]);
}

static void compute_bsi(const float *const band[RW_BAND_COUNT], size_t n,
                        float *restrict out)
{
    const float *restrict blue = band[RW_BAND_BLUE];
    const float *restrict red = band[RW_BAND_RED];
    const float *restrict nir = band[RW_BAND_NIR];
    const float *restrict swir1 = band[RW_BAND_SWIR1];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = normalised_difference(swir1[i] + red[i], nir[i] + blue[i]);
}

static void compute_bright(const float *const band[RW_BAND_COUNT], size_t n,
                           float *restrict out)
{
    const float *restrict blue = band[RW_BAND_BLUE];
    const float *restrict green = band[RW_BAND_GREEN];
    const float *restrict red = band[RW_BAND_RED];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = (blue[i] + green[i] + red[i]) * (1.0f / 3.0f);
}

static void compute_blue_red(const float *const band[RW_BAND_COUNT], size_t n,
                             float *restrict out)
{
    const float *restrict blue = band[RW_BAND_BLUE];
    const float *restrict red = band[RW_BAND_RED];
#pragma omp simd
    for (size_t i = 0; i < n; i++)
        out[i] = normalised_difference(blue[i], red[i]);
}

#define BIT(b) RW_BAND_BIT(RW_BAND_##b)

/* Indexed by rw_index. unit: normalised differences span -1..1 and land
 * covers differ by a few tenths; brightness is reflectance, where covers
 * differ by a few hundredths. */
static const rw_index_def index_table[RW_INDEX_COUNT] = {
    {RW_INDEX_NDVI, "ndvi", BIT(NIR) | BIT(RED), 0.2f, compute_ndvi},
    {RW_INDEX_NDWI, "ndwi", BIT(GREEN) | BIT(NIR), 0.2f, compute_ndwi},
    {RW_INDEX_MNDWI, "mndwi", BIT(GREEN) | BIT(SWIR1), 0.2f, compute_mndwi},
    {RW_INDEX_NDBI, "ndbi", BIT(SWIR1) | BIT(NIR), 0.2f, compute_ndbi},
    {RW_INDEX_BSI, "bsi", BIT(BLUE) | BIT(RED) | BIT(NIR) | BIT(SWIR1), 0.2f,
     compute_bsi},
    {RW_INDEX_BRIGHT, "bright", BIT(BLUE) | BIT(GREEN) | BIT(RED), 0.05f,
     compute_bright},
    {RW_INDEX_BLUE_RED, "blue_red", BIT(BLUE) | BIT(RED), 0.2f,
     compute_blue_red},
};

#undef BIT

const rw_index_def *rw_indices_get(rw_index index)
{
    if ((unsigned)index >= RW_INDEX_COUNT)
        return NULL;
    return &index_table[index];
}

bool rw_indices_available(unsigned band_mask, rw_index index)
{
    const rw_index_def *def = rw_indices_get(index);
    return def != NULL && (def->bands & ~band_mask) == 0;
}

bool rw_indices_find(const char *name, rw_index *index)
{
    for (int i = 0; i < RW_INDEX_COUNT; i++) {
        if (strcmp(index_table[i].name, name) == 0) {
            *index = index_table[i].id;
            return true;
        }
    }
    return false;
}

void rw_indices_compute_planar(const float *const band[RW_BAND_COUNT],
                               unsigned band_mask, rw_index index, size_t n,
                               float *out)
{
    if (!rw_indices_available(band_mask, index)) {
        for (size_t i = 0; i < n; i++)
            out[i] = NAN;
        return;
    }
    index_table[index].compute(band, n, out);
}

void rw_indices_compute_pixel(const float band[RW_BAND_COUNT],
                              unsigned band_mask, float out[RW_INDEX_COUNT])
{
    /* A pixel is a band-planar buffer of one pixel: one formula per index,
     * shared with the planar path. */
    const float *planes[RW_BAND_COUNT];
    for (int b = 0; b < RW_BAND_COUNT; b++)
        planes[b] = &band[b];
    for (int i = 0; i < RW_INDEX_COUNT; i++)
        rw_indices_compute_planar(planes, band_mask, (rw_index)i, 1, &out[i]);
}
