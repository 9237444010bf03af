/* Scenes: probing a raster, putting an earlier scene onto the analysis
 * grid (warped VRT), per-thread window reads as reflectance. */
#ifndef RW_RASTER_H
#define RW_RASTER_H

#include "core.h"
#include "profiles.h"

#include <stdbool.h>

#include <gdal.h>

#define RW_RASTER_MAX_BANDS 32

/* What the main thread learns about a scene before any tile is read. */
typedef struct rw_raster_info {
    char path[4096];
    int width, height, bands;
    double gt[6];
    char *wkt;                       /* CRS, owned */
    bool geographic;                 /* the CRS counts degrees, not metres */
    char date[16];                   /* yyyy-mm-dd, "" when unknown */
    char spacecraft[64];
    char description[RW_RASTER_MAX_BANDS][64];
    double scale[RW_RASTER_MAX_BANDS], offset[RW_RASTER_MAX_BANDS];
    int has_nodata[RW_RASTER_MAX_BANDS];
    double nodata[RW_RASTER_MAX_BANDS];
} rw_raster_info;

/* Opens path read-only and fills info. Errors name the file: RW_ERR_IO
 * (cannot open), RW_ERR_FORMAT (no CRS, rotated grid, too many bands). */
rw_status rw_raster_probe(const char *path, rw_raster_info *info, rw_error *err);
void rw_raster_info_clear(rw_raster_info *info);

/* Band roles of a scene: from a --bands mapping when bands is given (the
 * mask then decodes as the named profile's, when profile names one), else
 * detected from band descriptions and SPACECRAFT metadata under profile
 * (NULL: "auto"). Fails like rw_profiles_parse_bands / rw_profiles_detect. */
rw_status rw_raster_band_roles(const rw_raster_info *info, const char *profile, const char *bands,
                               rw_profile_match *out, rw_error *err);

/* True when a and b share CRS and grid exactly. */
bool rw_raster_same_grid(const rw_raster_info *a, const rw_raster_info *b);

/* Builds, under /vsimem, a VRT of src's bands `bands` (1-based, n of them)
 * warped onto grid's grid with the given resampling ("bilinear" for
 * reflectance, "near" for masks), and writes its path to vrt (size
 * bytes). Threads then open the VRT each with their own handle.
 * shift (NULL: none) moves src's georeferencing by (dx, dy) map units of
 * its CRS before the warp: the co-registration of a scene that was
 * delivered off by a fraction of a pixel or more. */
rw_status rw_raster_warp_vrt(const rw_raster_info *src, const rw_raster_info *grid,
                             const int *bands, int n, const char *resampling,
                             const double *shift, const char *tag, char *vrt,
                             size_t size, rw_error *err);

/* Reads window r of bands (1-based, n) of ds into planar float buffers
 * out[i] (r.w * r.h each), as band value * scale[i] + offset[i]; nodata
 * (value == nodata[i] when has_nodata[i]) becomes NAN. */
rw_status rw_raster_read_reflectance(GDALDatasetH ds, const char *what, rw_rect r,
                                     const int *bands, int n, const double *scale,
                                     const double *offset, const int *has_nodata,
                                     const double *nodata, float *const *out,
                                     rw_error *err);

/* True when bands (1-based, n) of ds are all Byte or UInt16: they then
 * read as UInt16 planes, which GDAL copies out of its blocks several
 * times faster than it converts them to Float32. */
bool rw_raster_fits_u16(GDALDatasetH ds, const int *bands, int n);

/* Reads window r of bands (1-based, n) of ds into planes (n * r.w * r.h
 * values of type, GDT_UInt16 or GDT_Float32, band after band) in one
 * dataset read: a pixel-interleaved file then decodes each block once,
 * where band-by-band reads of whole blocks decode it once per band. */
rw_status rw_raster_read_planes(GDALDatasetH ds, const char *what, rw_rect r,
                                const int *bands, int n, GDALDataType type, void *planes,
                                rw_error *err);

/* out[i] = in[i] * scale + offset for n values; in[i] == nodata (when
 * has_nodata) becomes NAN. in and out may be the same. */
void rw_raster_to_reflectance(const float *in, size_t n, double scale, double offset,
                              int has_nodata, double nodata, float *out);

/* The same from UInt16 values; in and out must not overlap. */
void rw_raster_u16_to_reflectance(const uint16_t *restrict in, size_t n, double scale, double offset,
                                  int has_nodata, double nodata, float *restrict out);

/* Reads window r of one band as UInt16 (masks, QA). */
rw_status rw_raster_read_u16(GDALDatasetH ds, const char *what, rw_rect r, int band,
                             uint16_t *out, rw_error *err);

#endif
