/* Chip rendering: reflectance planes to 8-bit RGB with a contrast stretch
 * shared by the two dates, the patch outline, a scale bar and a north
 * arrow. Pure number crunching on caller-owned buffers (libc only, no
 * GDAL), so every function is reentrant and may run on any number of
 * threads at once. Images are RGB, 3 bytes per pixel, row-major, top row
 * first; pixel (col, row) covers [col, col+1) x [row, row+1). */
#ifndef RW_CHIP_RENDER_H
#define RW_CHIP_RENDER_H

#include <stddef.h>
#include <stdint.h>

/* Output side of every chip, pixels. */
#define RW_CHIP_SIZE 256
/* Gap between the chip edge and the scale bar or north arrow, pixels. */
#define RW_CHIP_MARGIN 8
/* The scale bar's white part is this many rows; a 1 px black border
 * surrounds it. */
#define RW_CHIP_BAR_ROWS 4

/* Per-band linear stretch: reflectance lo maps to 0, hi to 255. */
typedef struct rw_chip_stretch {
    float lo[3], hi[3];
} rw_chip_stretch;

/* Fits one stretch for both dates and all three bands: the 2nd and 98th
 * percentile of the values of a and b together (n pixels each, three bands)
 * at the pixels whose three bands are all finite (NAN is nodata), widened
 * to at least 0.08 reflectance. Sharing it across dates is what makes a
 * change visible (the same ground looks the same on both chips); sharing
 * it across bands keeps true colours true. scratch holds 6 * n floats.
 * Without any valid pixel the stretch is 0..1. */
void rw_checklist_chip_stretch_fit(const float *const a[3], const float *const b[3],
                                   size_t n, float *scratch, rw_chip_stretch *out);

/* rgb (3 * n bytes) from band[0..2] under s; a pixel with any NAN band is
 * black. */
void rw_checklist_chip_stretch_apply(const float *const band[3], size_t n,
                                     const rw_chip_stretch *s, uint8_t *rgb);

/* Draws the rings of a polygon 2 px wide in colour, clipped to the image.
 * xy holds x,y pairs in chip pixel coordinates (fractional); ring i is
 * the next ring_len[i] points and is closed whether or not its last point
 * repeats its first. */
void rw_checklist_chip_draw_rings(uint8_t *rgb, int w, int h, const double *xy,
                                  const size_t *ring_len, size_t nrings,
                                  const uint8_t colour[3]);

/* The scale bar for a chip w pixels wide at metres_per_px: the largest
 * of 10, 20, 50, 100, 200, 500, 1000... metres no longer than 30 % of the
 * chip (10 m when even that is longer), its length in pixels and its
 * label ("50 m", "2 km"). */
typedef struct rw_chip_scale {
    long metres;
    int px;
    char label[32];
} rw_chip_scale;

rw_chip_scale rw_checklist_chip_scale_bar(double metres_per_px, int w);

/* Draws the scale bar at the bottom left (its white part RW_CHIP_BAR_ROWS
 * rows high, its last row RW_CHIP_MARGIN rows above the bottom, starting
 * at column RW_CHIP_MARGIN) with its label above it, and a north arrow
 * with an 'N' at the top right: white with a 1 px black border so they
 * read on any ground. overlay is scratch of w * h bytes. */
void rw_checklist_chip_draw_furniture(uint8_t *rgb, int w, int h, double metres_per_px,
                                      uint8_t *overlay);

#endif
