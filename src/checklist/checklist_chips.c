/* Before/after PNG chips of every check point: a square, north-up window
 * of the analysis grid around the patch, true colour and NIR-red-green,
 * the two dates stretched alike, with the patch outline, a scale bar and
 * a north arrow. Workers follow start / work / stop: each thread opens its
 * own GDAL handles and GEOS context once, renders items from a dynamic
 * schedule and closes them; a chip depends only on its item, so the files
 * are the same for any thread count. */
#include "checklist.h"

#include "atomic.h"
#include "chip_render.h"
#include "profiles.h"
#include "raster.h"

#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <geos_c.h>
#include <math.h>
#include <ogr_srs_api.h>
#include <omp.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The planes read from each date, and the three each chip kind shows. */
enum { CHIP_RED = 0, CHIP_GREEN = 1, CHIP_BLUE = 2, CHIP_NIR = 3, CHIP_PLANES = 4 };
static const rw_band chip_plane_role[CHIP_PLANES] = {RW_BAND_RED, RW_BAND_GREEN, RW_BAND_BLUE,
                                                      RW_BAND_NIR};
/* [0] true colour, [1] false colour NIR-red-green, as r, g, b planes. */
static const int chip_combo[2][3] = {{CHIP_RED, CHIP_GREEN, CHIP_BLUE}, {CHIP_NIR, CHIP_RED, CHIP_GREEN}};

/* Yellow reads on green vegetation, red false-colour vegetation and grey
 * bare ground alike. */
static const uint8_t chip_outline_colour[3] = {255, 255, 0};

#define CHIP_NPX ((size_t)RW_CHIP_SIZE * RW_CHIP_SIZE)
enum { CHIP_BEFORE = 0, CHIP_AFTER = 1, CHIP_DATES = 2 };

/* One date as the workers read it. Set by the main thread before the
 * parallel region; read-only inside it. */
typedef struct chip_scene {
    char path[4096];         /* the file, or a /vsimem VRT warped onto the after grid */
    const char *name;        /* the scene file, for messages */
    int band[CHIP_PLANES];   /* 1-based bands of path */
    double scale[CHIP_PLANES], offset[CHIP_PLANES], nodata[CHIP_PLANES];
    int has_nodata[CHIP_PLANES];
} chip_scene;

typedef struct chip_item {
    const rw_check_reserve *reserve;
    const rw_check_item *item;
} chip_item;

/* The whole job; read-only once chip_job_open returns. */
typedef struct chip_job {
    const rw_checklist *cl;
    const char *out_dir;
    double chip_m;              /* minimum ground size, metres */
    rw_raster_info grid;        /* the after scene: its grid is the analysis grid */
    bool geographic;            /* CRS in degrees: x metres shrink with latitude */
    double unit_m;              /* metres per CRS unit (north-south for degrees) */
    chip_scene scene[CHIP_DATES];
    char warped_tag[64];        /* "" when the before scene needed no warp */
    chip_item *items;
    size_t n;
} chip_job;

/* Where a chip lies: output pixel (i, j) covers CRS x in
 * [x0 + i sx, x0 + (i+1) sx) and y in (y0 - (j+1) sy, y0 - j sy]. */
typedef struct chip_frame {
    double x0, y0, sx, sy;
    double metres_per_px; /* ground size / RW_CHIP_SIZE */
} chip_frame;

/* Per-thread state, created once per thread (start), reused per item. */
typedef struct chip_worker {
    GDALDatasetH ds[CHIP_DATES];
    GEOSContextHandle_t geos;
    float *plane[CHIP_DATES][CHIP_PLANES]; /* CHIP_NPX reflectances each */
    float *scratch;                        /* 6 * CHIP_NPX, percentiles */
    uint8_t *rgb, *overlay;
    double *xy;                            /* ring points, chip pixels */
    size_t xy_cap;                         /* points */
    size_t *ring_len;
    size_t ring_cap, nrings;
} chip_worker;

/* ---- job set-up (main thread) ------------------------------------------ */

/* The scene's red, green, blue and nir on the analysis grid: the file
 * itself when it is on that grid, a warped VRT of those four bands
 * otherwise. Scale and offset come from the source bands (the profile's
 * DN or scaled reflectance); a warped VRT's nodata is the warp's 0. */
static rw_status chip_scene_place(chip_job *job, int date, const rw_raster_info *info, rw_error *err)
{
    rw_status st = RW_OK;
    chip_scene *s = &job->scene[date];
    rw_profile_match m;
    /* the roles the scan used (its manifest), or detected like --profile auto */
    RW_CHECK(rw_raster_band_roles(info, NULL, job->cl->scene_bands[date == CHIP_AFTER ? 1 : 0], &m, err));
    /* the scan's co-registration (--coregister), so the chips show what
     * the scan compared */
    const double *px = job->cl->before_shift_px;
    const bool shifted = date == CHIP_BEFORE && (px[0] != 0.0 || px[1] != 0.0) && !info->geographic;
    const double shift[2] = {-px[0] * job->grid.gt[1], -px[1] * job->grid.gt[5]};
    const bool same = date == CHIP_AFTER || (!shifted && rw_raster_same_grid(info, &job->grid));
    int src[CHIP_PLANES];
    for (int p = 0; p < CHIP_PLANES; p++) {
        src[p] = m.band_of_role[chip_plane_role[p]];
        s->band[p] = same ? src[p] : p + 1;
        s->scale[p] = info->scale[src[p] - 1];
        s->offset[p] = info->offset[src[p] - 1];
        s->has_nodata[p] = same ? info->has_nodata[src[p] - 1] : 1;
        s->nodata[p] = same ? info->nodata[src[p] - 1] : 0.0;
    }
    if (same) {
        RW_CHECK(rw_format(s->path, sizeof(s->path), err, "%s", info->path));
        goto done;
    }
    /* unique per call: two check lists may be written at once */
    snprintf(job->warped_tag, sizeof(job->warped_tag), "chips_%p", (void *)job);
    RW_CHECK(rw_raster_warp_vrt(info, &job->grid, src, CHIP_PLANES, "bilinear", shifted ? shift : NULL,
                                job->warped_tag, s->path,
                                sizeof(s->path), err));
done:
    return st;
}

/* Metres per CRS unit, and a refusal when the check list's CRS is not the
 * after scene's (its polygons would land in the wrong place). */
static rw_status chip_job_units(chip_job *job, rw_error *err)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH grid = OSRNewSpatialReference(job->grid.wkt), cl = NULL;
    RW_FAIL_IF(grid == NULL, err, RW_ERR_FORMAT, "%s: its coordinate reference system cannot be read",
               job->grid.path);
    const char *wkt = job->cl->analysis_wkt;
    if (wkt != NULL && wkt[0] != '\0') {
        static const char *const same_opt[] = {"CRITERION=EQUIVALENT_EXCEPT_AXIS_ORDER_GEOGCRS", NULL};
        cl = OSRNewSpatialReference(wkt);
        RW_FAIL_IF(cl == NULL || !OSRIsSameEx(grid, cl, same_opt), err, RW_ERR_INPUT,
                   "%s: its coordinate reference system is not the check list's analysis CRS; "
                   "chips need the later scene the scan used",
                   job->grid.path);
    }
    job->geographic = OSRIsGeographic(grid) != 0;
    /* degrees: metres along a meridian on the GRS80/WGS84 equator radius */
    job->unit_m = job->geographic ? 6378137.0 * OSRGetAngularUnits(grid, NULL) : OSRGetLinearUnits(grid, NULL);
    RW_FAIL_IF(!(job->unit_m > 0), err, RW_ERR_FORMAT, "%s: its CRS has no usable unit", job->grid.path);
done:
    OSRDestroySpatialReference(cl);
    OSRDestroySpatialReference(grid);
    return st;
}

/* Every item of every reserve, in list order, and their chips folders. */
static rw_status chip_job_items(chip_job *job, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_checklist *cl = job->cl;
    size_t n = 0;
    for (size_t r = 0; r < cl->nreserves; r++)
        n += cl->reserves[r].n;
    job->items = rw_calloc(n > 0 ? n : 1, sizeof(*job->items), err);
    if (job->items == NULL)
        return RW_ERR_NOMEM;
    for (size_t r = 0; r < cl->nreserves; r++) {
        const rw_check_reserve *res = &cl->reserves[r];
        if (res->n == 0)
            continue;
        char dir[4096];
        RW_CHECK(rw_format(dir, sizeof(dir), err, "%s/%s/chips", job->out_dir, res->dir_name));
        RW_CHECK(rw_mkdir_p(dir, 0700, err));
        for (size_t i = 0; i < res->n; i++)
            job->items[job->n++] = (chip_item){res, &res->items[i]};
    }
done:
    return st;
}

static rw_status chip_job_open(chip_job *job, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_checklist *cl = job->cl;
    rw_raster_info before;
    memset(&before, 0, sizeof(before));
    RW_FAIL_IF(cl->after_scene == NULL || cl->nbefore < 1 || cl->before_scenes == NULL ||
                   cl->before_scenes[0] == NULL,
               err, RW_ERR_USAGE, "chips need the later scene and at least one earlier scene");
    RW_CHECK(rw_raster_probe(cl->after_scene, &job->grid, err));
    RW_CHECK(chip_job_units(job, err));
    job->scene[CHIP_AFTER].name = cl->after_scene;
    RW_CHECK(chip_scene_place(job, CHIP_AFTER, &job->grid, err));
    RW_CHECK(rw_raster_probe(cl->before_scenes[0], &before, err));
    job->scene[CHIP_BEFORE].name = cl->before_scenes[0];
    RW_CHECK(chip_scene_place(job, CHIP_BEFORE, &before, err));
    RW_CHECK(chip_job_items(job, err));
done:
    rw_raster_info_clear(&before);
    return st;
}

static void chip_job_close(chip_job *job)
{
    if (job->warped_tag[0] != '\0') {
        /* rw_raster_warp_vrt's two files: the warp and its band subset */
        char sub[512];
        snprintf(sub, sizeof(sub), "/vsimem/reservewatch/%s_bands.vrt", job->warped_tag);
        VSIUnlink(job->scene[CHIP_BEFORE].path);
        VSIUnlink(sub);
    }
    rw_raster_info_clear(&job->grid);
    free(job->items);
}

/* ---- per-thread worker -------------------------------------------------- */

static void chip_worker_destroy(chip_worker *w)
{
    if (w == NULL)
        return;
    for (int d = 0; d < CHIP_DATES; d++) {
        if (w->ds[d] != NULL)
            GDALClose(w->ds[d]);
        for (int p = 0; p < CHIP_PLANES; p++)
            free(w->plane[d][p]);
    }
    if (w->geos != NULL)
        GEOS_finish_r(w->geos);
    free(w->scratch);
    free(w->rgb);
    free(w->overlay);
    free(w->xy);
    free(w->ring_len);
    free(w);
}

static chip_worker *chip_worker_create(const chip_job *job, rw_error *err)
{
    rw_status st = RW_OK;
    chip_worker *w = rw_calloc(1, sizeof(*w), err);
    if (w == NULL)
        return NULL;
    for (int d = 0; d < CHIP_DATES; d++) {
        const chip_scene *s = &job->scene[d];
        w->ds[d] = GDALOpenEx(s->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
        RW_FAIL_IF(w->ds[d] == NULL, err, RW_ERR_IO, "%s: cannot open: %s", s->name, CPLGetLastErrorMsg());
        for (int p = 0; p < CHIP_PLANES; p++)
            if ((w->plane[d][p] = rw_malloc(CHIP_NPX * sizeof(float), err)) == NULL)
                RW_FAIL(err, RW_ERR_NOMEM, "out of memory for chips");
    }
    w->geos = GEOS_init_r();
    RW_FAIL_IF(w->geos == NULL, err, RW_ERR_NOMEM, "chips: cannot create a GEOS context");
    w->scratch = rw_malloc(6 * CHIP_NPX * sizeof(float), err);
    w->rgb = rw_malloc(3 * CHIP_NPX, err);
    w->overlay = rw_malloc(CHIP_NPX, err);
    RW_FAIL_IF(w->scratch == NULL || w->rgb == NULL || w->overlay == NULL, err, RW_ERR_NOMEM,
               "out of memory for chips");
done:
    if (st != RW_OK) {
        chip_worker_destroy(w);
        w = NULL;
    }
    return w;
}

/* ---- geometry ---------------------------------------------------------- */

/* The square window around the envelope env (minx, miny, maxx, maxy). */
static chip_frame chip_frame_make(const chip_job *job, const double env[4])
{
    const double cx = 0.5 * (env[0] + env[2]), cy = 0.5 * (env[1] + env[3]);
    const double my = job->unit_m;
    const double mx = job->geographic ? my * fmax(cos(cy * M_PI / 180.0), 0.01) : my;
    const double extent_m = fmax((env[2] - env[0]) * mx, (env[3] - env[1]) * my);
    const double ground = fmax(job->chip_m, 3.0 * extent_m);
    chip_frame f;
    f.sx = ground / mx / RW_CHIP_SIZE;
    f.sy = ground / my / RW_CHIP_SIZE;
    f.x0 = cx - 0.5 * RW_CHIP_SIZE * f.sx;
    f.y0 = cy + 0.5 * RW_CHIP_SIZE * f.sy;
    f.metres_per_px = ground / RW_CHIP_SIZE;
    return f;
}

static rw_status chip_ring_add(chip_worker *w, const GEOSGeometry *ring, const chip_frame *f,
                               size_t *used, rw_error *err)
{
    rw_status st = RW_OK;
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(w->geos, ring);
    unsigned int m = 0;
    if (cs == NULL || !GEOSCoordSeq_getSize_r(w->geos, cs, &m) || m == 0)
        return RW_OK;
    if (*used + m > w->xy_cap) {
        const size_t cap = 2 * (*used + m);
        double *xy = realloc(w->xy, cap * 2 * sizeof(*xy));
        RW_FAIL_IF(xy == NULL, err, RW_ERR_NOMEM, "out of memory for a patch outline");
        w->xy = xy, w->xy_cap = cap;
    }
    if (w->nrings == w->ring_cap) {
        const size_t cap = w->ring_cap ? 2 * w->ring_cap : 16;
        size_t *len = realloc(w->ring_len, cap * sizeof(*len));
        RW_FAIL_IF(len == NULL, err, RW_ERR_NOMEM, "out of memory for a patch outline");
        w->ring_len = len, w->ring_cap = cap;
    }
    for (unsigned int k = 0; k < m; k++) {
        double x = 0, y = 0;
        GEOSCoordSeq_getXY_r(w->geos, cs, k, &x, &y);
        w->xy[2 * (*used + k)] = (x - f->x0) / f->sx;
        w->xy[2 * (*used + k) + 1] = (f->y0 - y) / f->sy;
    }
    *used += m;
    w->ring_len[w->nrings++] = m;
done:
    return st;
}

/* Every ring of every polygon of g, in chip pixels, into w->xy. */
static rw_status chip_rings(chip_worker *w, const GEOSGeometry *g, const chip_frame *f, rw_error *err)
{
    rw_status st = RW_OK;
    size_t used = 0;
    w->nrings = 0;
    const int parts = GEOSGetNumGeometries_r(w->geos, g);
    for (int i = 0; i < parts; i++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(w->geos, g, i);
        if (poly == NULL || GEOSGeomTypeId_r(w->geos, poly) != GEOS_POLYGON)
            continue;
        RW_CHECK(chip_ring_add(w, GEOSGetExteriorRing_r(w->geos, poly), f, &used, err));
        const int holes = GEOSGetNumInteriorRings_r(w->geos, poly);
        for (int k = 0; k < holes; k++)
            RW_CHECK(chip_ring_add(w, GEOSGetInteriorRingN_r(w->geos, poly, k), f, &used, err));
    }
done:
    return st;
}

/* The patch polygon (NULL when the item has none: the chip then centres on
 * the field point) and its envelope. */
static rw_status chip_patch(chip_worker *w, const rw_check_item *it, GEOSGeometry **g, double env[4],
                            rw_error *err)
{
    rw_status st = RW_OK;
    *g = NULL;
    env[0] = env[2] = it->det.x;
    env[1] = env[3] = it->det.y;
    if (it->det.wkb == NULL || it->det.wkb_size == 0)
        return RW_OK;
    *g = GEOSGeomFromWKB_buf_r(w->geos, it->det.wkb, it->det.wkb_size);
    RW_FAIL_IF(*g == NULL, err, RW_ERR_FORMAT, "point %s: its patch polygon (WKB) cannot be read", it->det.id);
    if (GEOSisEmpty_r(w->geos, *g) == 1)
        goto done;
    RW_FAIL_IF(!GEOSGeom_getXMin_r(w->geos, *g, &env[0]) || !GEOSGeom_getYMin_r(w->geos, *g, &env[1]) ||
                   !GEOSGeom_getXMax_r(w->geos, *g, &env[2]) || !GEOSGeom_getYMax_r(w->geos, *g, &env[3]),
               err, RW_ERR_FORMAT, "point %s: its patch polygon has no extent", it->det.id);
done:
    return st;
}

/* ---- reading ------------------------------------------------------------ */

/* One axis of the read: output pixels [lo, hi) lie wholly inside the
 * grid's [0, size); start and step are the chip's left (top) edge and
 * pixel size in grid pixels (step > 0). */
static void chip_axis(double start, double step, int size, int *lo, int *hi)
{
    /* clamped before the int cast: a window far off the grid stays defined */
    const double n = RW_CHIP_SIZE;
    *lo = (int)fmin(n, fmax(0.0, ceil(-start / step - 1e-9)));
    *hi = (int)fmin(n, fmax(0.0, floor((size - start) / step + 1e-9)));
}

/* Reverses the order of columns (rows when vertical) of a chip plane:
 * grids whose columns run west or rows run north. */
static void chip_flip(float *v, bool vertical)
{
    for (int a = 0; a < RW_CHIP_SIZE; a++)
        for (int b = 0; b < RW_CHIP_SIZE / 2; b++) {
            const int c = RW_CHIP_SIZE - 1 - b;
            float *p = vertical ? &v[b * RW_CHIP_SIZE + a] : &v[a * RW_CHIP_SIZE + b];
            float *q = vertical ? &v[c * RW_CHIP_SIZE + a] : &v[a * RW_CHIP_SIZE + c];
            const float t = *p;
            *p = *q, *q = t;
        }
}

/* Reflectance of every output pixel of one date (NAN off the grid and at
 * nodata), resampled bilinearly from the window at the chip's size, so a
 * chip costs RW_CHIP_SIZE^2 values per band however large its window. */
static rw_status chip_read(const chip_job *job, chip_worker *w, int date, const chip_frame *f,
                           const char *id, rw_error *err)
{
    rw_status st = RW_OK;
    const chip_scene *s = &job->scene[date];
    const double *gt = job->grid.gt;
    double col = (f->x0 - gt[0]) / gt[1], dcol = f->sx / gt[1];
    double row = (f->y0 - gt[3]) / gt[5], drow = -f->sy / gt[5];
    const bool flip_x = dcol < 0, flip_y = drow < 0;
    if (flip_x)
        col += RW_CHIP_SIZE * dcol, dcol = -dcol;
    if (flip_y)
        row += RW_CHIP_SIZE * drow, drow = -drow;
    int i0, i1, j0, j1;
    chip_axis(col, dcol, job->grid.width, &i0, &i1);
    chip_axis(row, drow, job->grid.height, &j0, &j1);
    for (int p = 0; p < CHIP_PLANES; p++)
        for (size_t k = 0; k < CHIP_NPX; k++)
            w->plane[date][p][k] = NAN;
    if (i1 <= i0 || j1 <= j0)
        return RW_OK; /* the window lies off the scene: a black chip */
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = GRIORA_Bilinear;
    extra.bFloatingPointWindowValidity = TRUE;
    extra.dfXOff = fmax(0.0, col + i0 * dcol);
    extra.dfYOff = fmax(0.0, row + j0 * drow);
    extra.dfXSize = fmin((i1 - i0) * dcol, job->grid.width - extra.dfXOff);
    extra.dfYSize = fmin((j1 - j0) * drow, job->grid.height - extra.dfYOff);
    const int x = (int)floor(extra.dfXOff), y = (int)floor(extra.dfYOff);
    const int xs = (int)fmax(1.0, fmin(ceil(extra.dfXOff + extra.dfXSize), job->grid.width) - x);
    const int ys = (int)fmax(1.0, fmin(ceil(extra.dfYOff + extra.dfYSize), job->grid.height) - y);
    for (int p = 0; p < CHIP_PLANES; p++) {
        float *out = w->plane[date][p] + (size_t)j0 * RW_CHIP_SIZE + (size_t)i0;
        GDALRasterBandH b = GDALGetRasterBand(w->ds[date], s->band[p]);
        RW_FAIL_IF(b == NULL || GDALRasterIOEx(b, GF_Read, x, y, xs, ys, out, i1 - i0, j1 - j0, GDT_Float32,
                                               sizeof(float), (GSpacing)RW_CHIP_SIZE * sizeof(float),
                                               &extra) != CE_None,
                   err, RW_ERR_IO, "%s: read failed for the chip of point %s: %s", s->name, id,
                   CPLGetLastErrorMsg());
        const float nd = (float)s->nodata[p], sc = (float)s->scale[p], of = (float)s->offset[p];
        for (int j = 0; j < j1 - j0; j++)
            for (int i = 0; i < i1 - i0; i++) {
                float *v = &out[(size_t)j * RW_CHIP_SIZE + (size_t)i];
                *v = s->has_nodata[p] && *v == nd ? NAN : *v * sc + of;
            }
        if (flip_x)
            chip_flip(w->plane[date][p], false);
        if (flip_y)
            chip_flip(w->plane[date][p], true);
    }
done:
    return st;
}

/* ---- writing ------------------------------------------------------------ */

/* libpng must not print (the library never does) and reports failure by
 * jumping back to chip_png_encode. */
static void chip_png_error(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void chip_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static bool chip_png_encode(FILE *fp, const uint8_t *rgb)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, chip_png_error, chip_png_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_write_struct(&png, NULL);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, RW_CHIP_SIZE, RW_CHIP_SIZE, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* speed over the last few per cent of size: thousands of chips */
    png_set_compression_level(png, 1);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
    png_write_info(png, info);
    for (int y = 0; y < RW_CHIP_SIZE; y++)
        png_write_row(png, rgb + (size_t)y * 3 * RW_CHIP_SIZE);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return true;
}

static rw_status chip_png_write(const char *path, const uint8_t *rgb, rw_error *err)
{
    rw_status st = RW_OK;
    rw_atomic_file f;
    RW_CHECK(rw_atomic_open(&f, path, err));
    RW_FAIL_IF(!chip_png_encode(f.fp, rgb), err, RW_ERR_IO, "%s: cannot write the PNG", f.tmp);
    RW_CHECK(rw_atomic_commit(&f, err));
done:
    rw_atomic_abort(&f);
    return st;
}

/* The four chips of one item (the work step). */
static rw_status chip_render_item(const chip_job *job, chip_worker *w, const chip_item *ci, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_check_item *it = ci->item;
    GEOSGeometry *g = NULL;
    double env[4];
    RW_CHECK(chip_patch(w, it, &g, env, err));
    const chip_frame f = chip_frame_make(job, env);
    w->nrings = 0;
    if (g != NULL)
        RW_CHECK(chip_rings(w, g, &f, err));
    for (int d = 0; d < CHIP_DATES; d++)
        RW_CHECK(chip_read(job, w, d, &f, it->det.id, err));
    rw_chip_stretch stretch;
    for (int kind = 0; kind < RW_CHIP_KIND_COUNT; kind++) {
        const int date = kind & 1, *combo = chip_combo[kind >> 1];
        const float *band[CHIP_DATES][3];
        for (int d = 0; d < CHIP_DATES; d++)
            for (int c = 0; c < 3; c++)
                band[d][c] = w->plane[d][combo[c]];
        if (date == CHIP_BEFORE)
            rw_checklist_chip_stretch_fit(band[CHIP_BEFORE], band[CHIP_AFTER], CHIP_NPX, w->scratch, &stretch);
        rw_checklist_chip_stretch_apply(band[date], CHIP_NPX, &stretch, w->rgb);
        rw_checklist_chip_draw_rings(w->rgb, RW_CHIP_SIZE, RW_CHIP_SIZE, w->xy, w->ring_len, w->nrings,
                                     chip_outline_colour);
        rw_checklist_chip_draw_furniture(w->rgb, RW_CHIP_SIZE, RW_CHIP_SIZE, f.metres_per_px, w->overlay);
        char rel[512], path[4096];
        RW_CHECK(rw_checklist_chip_path(it->det.id, (rw_chip_kind)kind, rel, sizeof(rel), err));
        RW_CHECK(rw_format(path, sizeof(path), err, "%s/%s/%s", job->out_dir, ci->reserve->dir_name, rel));
        RW_CHECK(chip_png_write(path, w->rgb, err));
    }
done:
    if (g != NULL)
        GEOSGeom_destroy_r(w->geos, g);
    return st;
}

/* ---- the parallel run --------------------------------------------------- */

/* The outcome shared by the threads, written under the critical section
 * only. The failure of the lowest item wins, so the message does not
 * depend on the schedule when one item is bad. */
typedef struct chip_outcome {
    rw_error err;
    size_t item;
    int failed; /* also read atomically by every thread to stop early */
} chip_outcome;

static void chip_fail(chip_outcome *o, const rw_error *local, size_t item)
{
#pragma omp critical(rw_checklist_chips_fail)
    {
        if (!o->failed || item < o->item) {
            o->err = *local;
            o->item = item;
        }
#pragma omp atomic write
        o->failed = 1;
    }
}

static rw_status chip_run(const chip_job *job, int threads, rw_progress_fn progress, void *user, rw_error *err)
{
    chip_outcome o;
    memset(&o, 0, sizeof(o));
    rw_error_clear(&o.err);
    size_t done_items = 0;
    const long n = (long)job->n;
#pragma omp parallel num_threads(threads)
    {
        rw_error local;
        rw_error_clear(&local);
        chip_worker *w = chip_worker_create(job, &local);
        if (w == NULL)
            chip_fail(&o, &local, 0);
#pragma omp for schedule(dynamic)
        for (long i = 0; i < n; i++) {
            int stop;
#pragma omp atomic read
            stop = o.failed;
            if (stop || w == NULL)
                continue;
            if (chip_render_item(job, w, &job->items[i], &local) != RW_OK) {
                chip_fail(&o, &local, (size_t)i);
                continue;
            }
            size_t now;
#pragma omp atomic capture
            now = ++done_items;
            if (progress != NULL && omp_get_thread_num() == 0 &&
                !progress((double)now / (double)job->n, "chips", user)) {
                rw_error cancel;
                rw_error_clear(&cancel);
                rw_error_set(&cancel, RW_ERR_CANCELLED, __FILE__, __LINE__, "chips: cancelled");
                chip_fail(&o, &cancel, SIZE_MAX);
            }
        }
        chip_worker_destroy(w);
    }
    if (!o.failed)
        return RW_OK;
    return rw_error_set(err, o.err.status, o.err.file, o.err.line, "%s", o.err.message);
}

rw_status rw_checklist_write_chips(const rw_checklist *cl, const char *out_dir, double chip_m, int threads,
                                   rw_progress_fn progress, void *user, rw_error *err)
{
    rw_status st = RW_OK;
    chip_job job;
    memset(&job, 0, sizeof(job));
    job.cl = cl;
    job.out_dir = out_dir;
    job.chip_m = chip_m;
    RW_FAIL_IF(cl == NULL || out_dir == NULL, err, RW_ERR_USAGE, "chips: no check list or output folder");
    RW_FAIL_IF(!(chip_m > 0) || !isfinite(chip_m), err, RW_ERR_USAGE,
               "chips: the chip size must be a positive number of metres, not %g", chip_m);
    RW_CHECK(chip_job_open(&job, err));
    if (job.n > 0) {
        int nt = threads > 0 ? threads : omp_get_max_threads();
        if ((size_t)nt > job.n)
            nt = (int)job.n;
        RW_CHECK(chip_run(&job, nt, progress, user, err));
    }
    if (progress != NULL)
        progress(1.0, "chips", user);
done:
    chip_job_close(&job);
    return st;
}
