/* Spectral indices as a table: one row per index names the bands it reads
 * and the function that computes it, so adding an index is one row here and
 * one function in indices.c. Works on plain float buffers (surface
 * reflectance, 0..1); libc only. Every function is reentrant and may be
 * called from any number of threads at once. */
#ifndef RW_INDICES_H
#define RW_INDICES_H

#include <stdbool.h>
#include <stddef.h>

/* Band roles. The values index a pixel's band array and the planes of a
 * band-planar buffer. */
typedef enum rw_band {
    RW_BAND_BLUE = 0,
    RW_BAND_GREEN = 1,
    RW_BAND_RED = 2,
    RW_BAND_NIR = 3,
    RW_BAND_SWIR1 = 4,
    RW_BAND_SWIR2 = 5,
    RW_BAND_COUNT = 6
} rw_band;

/* Band masks: bit RW_BAND_BIT(b) set when the scene has band b. */
#define RW_BAND_BIT(b) (1u << (unsigned)(b))
/* Four-band sensors (GF-1/2/6, ZY-3): no SWIR. */
#define RW_BANDS_VNIR                                                        \
    (RW_BAND_BIT(RW_BAND_BLUE) | RW_BAND_BIT(RW_BAND_GREEN) |                \
     RW_BAND_BIT(RW_BAND_RED) | RW_BAND_BIT(RW_BAND_NIR))
#define RW_BANDS_ALL ((1u << RW_BAND_COUNT) - 1u)

typedef enum rw_index {
    RW_INDEX_NDVI = 0,     /* (nir-red)/(nir+red) */
    RW_INDEX_NDWI = 1,     /* (green-nir)/(green+nir), McFeeters */
    RW_INDEX_MNDWI = 2,    /* (green-swir1)/(green+swir1) */
    RW_INDEX_NDBI = 3,     /* (swir1-nir)/(swir1+nir) */
    RW_INDEX_BSI = 4,      /* ((swir1+red)-(nir+blue))/((swir1+red)+(nir+blue)) */
    RW_INDEX_BRIGHT = 5,   /* (blue+green+red)/3, reflectance */
    RW_INDEX_BLUE_RED = 6, /* (blue-red)/(blue+red): blue colour-steel roofs */
    RW_INDEX_COUNT = 7
} rw_index;

/* Computes one index for n pixels. band[b] points to n values of band b;
 * only the bands in the row's mask are read (the others may be NULL). */
typedef void (*rw_index_fn)(const float *const band[RW_BAND_COUNT], size_t n,
                            float *out);

typedef struct rw_index_def {
    rw_index id;
    const char *name;   /* short lowercase name: "ndvi", "blue_red" */
    unsigned bands;     /* RW_BAND_BIT mask of the bands the formula reads */
    float unit;         /* an index difference this large separates two land
                           covers clearly; change rules scale their
                           threshold margins by it */
    rw_index_fn compute;
} rw_index_def;

/* The table row of index, or NULL when index is out of range. */
const rw_index_def *rw_indices_get(rw_index index);

/* True when a scene with band_mask has every band index needs. */
bool rw_indices_available(unsigned band_mask, rw_index index);

/* Looks an index up by its short name (exact, lowercase). Sets *index and
 * returns true when found; leaves *index alone otherwise. */
bool rw_indices_find(const char *name, rw_index *index);

/* Every index for one pixel. band holds one value per role; a band missing
 * from band_mask is never read. out[i] is NAN when index i needs a missing
 * band, when a band it reads is NAN, or when its denominator is 0. */
void rw_indices_compute_pixel(const float band[RW_BAND_COUNT],
                              unsigned band_mask, float out[RW_INDEX_COUNT]);

/* One index for n pixels of band-planar input (band[b][i] is band b of
 * pixel i; planes missing from band_mask may be NULL). Fills out with NAN
 * when the index is unavailable; otherwise as rw_indices_compute_pixel.
 * The loops vectorise: out must not overlap the bands. */
void rw_indices_compute_planar(const float *const band[RW_BAND_COUNT],
                               unsigned band_mask, rw_index index, size_t n,
                               float *out);

#endif
