/* Renders every date of the synthetic world into a tiled GeoTIFF, tile by
 * tile: rasterise cover and cloud geometries (GDAL), then compute
 * reflectance per pixel. Tiles of one tile row are rendered in parallel,
 * then written in order, so memory is one tile row whatever the size. */
#include "synth.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Surface reflectance per cover: blue green red nir swir1 swir2. */
static const float cover_refl[COVER_COUNT][SYNTH_BANDS] = {
    [COVER_FOREST] = {.030f, .050f, .030f, .350f, .160f, .070f},
    [COVER_CROP] = {.040f, .080f, .050f, .400f, .200f, .100f},
    [COVER_SOIL] = {.070f, .100f, .130f, .200f, .260f, .200f},
    [COVER_GRASS] = {.040f, .070f, .050f, .300f, .200f, .110f},
    [COVER_WATER] = {.060f, .070f, .040f, .020f, .010f, .005f},
    [COVER_TURBID] = {.080f, .110f, .100f, .040f, .015f, .010f},
    [COVER_MUDFLAT] = {.060f, .080f, .090f, .150f, .180f, .140f},
    [COVER_VILLAGE] = {.090f, .090f, .120f, .170f, .210f, .180f},
    [COVER_ROAD] = {.100f, .110f, .120f, .150f, .180f, .160f},
    [COVER_ROCK] = {.180f, .220f, .260f, .300f, .380f, .330f},
    [COVER_SAND] = {.150f, .180f, .210f, .240f, .300f, .260f},
    [COVER_GRAVEL] = {.120f, .140f, .160f, .200f, .240f, .210f},
    [COVER_CONCRETE] = {.280f, .290f, .300f, .320f, .340f, .300f},
    [COVER_BLUEROOF] = {.250f, .220f, .150f, .220f, .200f, .180f},
    [COVER_CLEARING] = {.070f, .090f, .120f, .200f, .260f, .190f},
};
/* Vegetated covers follow phenology (NIR) and have canopy texture. */
static const uint8_t cover_veg[COVER_COUNT] = {
    [COVER_FOREST] = 1, [COVER_CROP] = 1, [COVER_GRASS] = 1};
/* Sentinel-2 L2A scene classification per cover: 4 vegetation,
 * 5 not vegetated, 6 water. */
static const uint8_t cover_scl[COVER_COUNT] = {
    [COVER_FOREST] = 4, [COVER_CROP] = 4, [COVER_SOIL] = 5, [COVER_GRASS] = 4,
    [COVER_WATER] = 6, [COVER_TURBID] = 6, [COVER_MUDFLAT] = 5, [COVER_VILLAGE] = 5,
    [COVER_ROAD] = 5, [COVER_ROCK] = 5, [COVER_SAND] = 5, [COVER_GRAVEL] = 5,
    [COVER_CONCRETE] = 5, [COVER_BLUEROOF] = 5, [COVER_CLEARING] = 5};

/* Landsat Collection 2 QA_PIXEL values: clear land, clear water, high
 * confidence cloud, high confidence cloud shadow (with the usual low
 * confidence bits for the other tests), fill. */
enum { QA_CLEAR = 21824, QA_WATER = 21952, QA_CLOUD = 22280, QA_SHADOW = 23888, QA_FILL = 1 };
enum { SCL_NODATA = 0, SCL_SHADOW = 3, SCL_CLOUD_HIGH = 9 };

typedef struct profile_desc {
    const char *spacecraft, *sensor, *product;
    int reflective; /* reflective bands written (4 or 6) */
    const char *band_name[SYNTH_BANDS + 1];
    double scale[SYNTH_BANDS], offset; /* reflectance = DN * scale + offset */
    const char *qa_name;               /* NULL: no mask band */
} profile_desc;

static const profile_desc profiles[] = {
    [RW_SYNTH_SENTINEL2] = {"Sentinel-2A", "MSI", "S2MSI2A", 6,
                            {"B2 (blue)", "B3 (green)", "B4 (red)", "B8 (nir)", "B11 (swir1)", "B12 (swir2)"},
                            {1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 1e-4}, 0.0, "SCL"},
    [RW_SYNTH_GF2] = {"GF2", "PMS1", "L1A-ortho", 4,
                      {"B1 (blue)", "B2 (green)", "B3 (red)", "B4 (nir)"},
                      {1.25e-4, 1.1e-4, 1.0e-4, 0.95e-4}, 0.0, NULL},
    [RW_SYNTH_LANDSAT] = {"LANDSAT_8", "OLI_TIRS", "L2SP", 6,
                          {"SR_B2 (blue)", "SR_B3 (green)", "SR_B4 (red)", "SR_B5 (nir)", "SR_B6 (swir1)", "SR_B7 (swir2)"},
                          {2.75e-5, 2.75e-5, 2.75e-5, 2.75e-5, 2.75e-5, 2.75e-5}, -0.2, "QA_PIXEL"},
};

static uint64_t cell_key(int64_t ix, int64_t iy)
{
    return ((uint64_t)(uint32_t)ix << 32) ^ (uint64_t)(uint32_t)iy;
}

/* Smooth value noise in [0,1] at (x, y) in lattice units. */
static double value_noise(uint64_t seed, double x, double y)
{
    const double fx = floor(x), fy = floor(y);
    const int64_t ix = (int64_t)fx, iy = (int64_t)fy;
    double u = x - fx, v = y - fy;
    u = u * u * (3.0 - 2.0 * u);
    v = v * v * (3.0 - 2.0 * v);
    const double a = rw_hash_unit(seed, cell_key(ix, iy));
    const double b = rw_hash_unit(seed, cell_key(ix + 1, iy));
    const double c = rw_hash_unit(seed, cell_key(ix, iy + 1));
    const double d = rw_hash_unit(seed, cell_key(ix + 1, iy + 1));
    return (a + (b - a) * u) + ((c + (d - c) * u) - (a + (b - a) * u)) * v;
}

/* Terrain height in metres: four octaves of value noise. */
static double terrain(uint64_t seed, double x, double y)
{
    static const double scale[4] = {6000, 3000, 1500, 700};
    static const double amp[4] = {300, 150, 70, 35};
    double h = 0.0;
    for (int o = 0; o < 4; o++)
        h += amp[o] * value_noise(seed + 17 * (uint64_t)o, x / scale[o], y / scale[o]);
    return h;
}

/* Illumination factor of the terrain at a point, 1 on flat ground. */
static double illumination(uint64_t seed, const synth_date *d, double x, double y)
{
    const double step = 50.0;
    const double p = (terrain(seed, x + step, y) - terrain(seed, x - step, y)) / (2 * step);
    const double q = (terrain(seed, x, y + step) - terrain(seed, x, y - step)) / (2 * step);
    const double az = d->sun_az * M_PI / 180.0, el = d->sun_el * M_PI / 180.0;
    const double sx = sin(az) * cos(el), sy = cos(az) * cos(el), sz = sin(el);
    const double cos_i = (-p * sx - q * sy + sz) / sqrt(1 + p * p + q * q);
    const double f = cos_i / sz;
    return f < 0.4 ? 0.4 : (f > 1.6 ? 1.6 : f);
}

/* Unit-variance noise from a hash (sum of two uniforms). */
static double noise(uint64_t seed, uint64_t key)
{
    return (rw_hash_unit(seed, key) + rw_hash_unit(seed, key ^ 0xA5A5A5A5ULL) - 1.0) * 2.449;
}

/* What one date needs while rendering: shapes in the date's CRS. */
typedef struct render_date {
    const synth_world *w;
    int k;
    const synth_date *d;
    const profile_desc *prof;
    int nbands; /* reflective + mask */
    OGRGeometryH *cover, *cloud; /* per shape, in the date's CRS (borrowed or owned) */
    double (*cover_env)[4], (*cloud_env)[4];
    int owned;
    OGRCoordinateTransformationH to_world; /* NULL when the date is on the world CRS */
    double gt[6]; /* rasterisation geotransform: grid + misregistration */
} render_date;

static int shape_on(const synth_shape *s, int k) { return s->date_from <= k && k <= s->date_to; }

static int env_hits(const double *e, const double *t)
{
    return !(e[0] > t[2] || e[2] < t[0] || e[1] > t[3] || e[3] < t[1]);
}

/* Rasterises shapes that touch the tile into band `band` of mem. */
static rw_status burn(GDALDatasetH mem, int band, const synth_shapes *s,
                      OGRGeometryH *geom, double (*env)[4], int k, const double *tenv,
                      rw_error *err)
{
    rw_status st = RW_OK;
    OGRGeometryH *g = rw_malloc(sizeof(*g) * (s->n + 1), err);
    double *val = rw_malloc(sizeof(*val) * (s->n + 1), err);
    if (g == NULL || val == NULL) {
        st = RW_ERR_NOMEM;
        goto done;
    }
    int n = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (!shape_on(&s->v[i], k) || !env_hits(env[i], tenv))
            continue;
        g[n] = geom[i];
        val[n++] = s->v[i].cover;
    }
    if (n > 0 && GDALRasterizeGeometries(mem, 1, &band, n, g, NULL, NULL, val, NULL, NULL, NULL) != CE_None)
        RW_FAIL(err, RW_ERR_INTERNAL, "synth: rasterising the world failed: %s", CPLGetLastErrorMsg());
done:
    free(g);
    free(val);
    return st;
}

/* Renders tile `r` of date rd into out (pixel-interleaved UInt16). */
static rw_status render_tile(const render_date *rd, rw_rect r, uint16_t *out,
                             uint8_t *cover, uint8_t *cloud, rw_error *err)
{
    rw_status st = RW_OK;
    const synth_world *w = rd->w;
    const synth_date *d = rd->d;
    const double *gt = rd->gt;
    GDALDriverH mem_drv = GDALGetDriverByName("MEM");
    GDALDatasetH mem = GDALCreate(mem_drv, "", r.w, r.h, 2, GDT_Byte, NULL);
    RW_FAIL_IF(mem == NULL, err, RW_ERR_NOMEM, "synth: cannot create a %dx%d work tile", r.w, r.h);
    const double tgt[6] = {gt[0] + r.x * gt[1], gt[1], 0, gt[3] + r.y * gt[5], 0, gt[5]};
    GDALSetGeoTransform(mem, (double *)tgt);
    const double tenv[4] = {tgt[0], tgt[3] + r.h * tgt[5], tgt[0] + r.w * tgt[1], tgt[3]};
    RW_CHECK(burn(mem, 1, &w->cover, rd->cover, rd->cover_env, rd->k, tenv, err));
    RW_CHECK(burn(mem, 2, &w->clouds, rd->cloud, rd->cloud_env, rd->k, tenv, err));
    if (GDALRasterIO(GDALGetRasterBand(mem, 1), GF_Read, 0, 0, r.w, r.h, cover, r.w, r.h, GDT_Byte, 0, 0) != CE_None ||
        GDALRasterIO(GDALGetRasterBand(mem, 2), GF_Read, 0, 0, r.w, r.h, cloud, r.w, r.h, GDT_Byte, 0, 0) != CE_None)
        RW_FAIL(err, RW_ERR_INTERNAL, "synth: reading a work tile failed");

    /* Terrain illumination on a lattice of 16 pixels, interpolated: it
     * varies over hundreds of metres, and is costly per pixel. */
    enum { LAT = 16 };
    const int lw = r.w / LAT + 2, lh = r.h / LAT + 2;
    double lat_x[(SYNTH_TILE / LAT + 2) * (SYNTH_TILE / LAT + 2)];
    double lat_y[(SYNTH_TILE / LAT + 2) * (SYNTH_TILE / LAT + 2)];
    double lat_i[(SYNTH_TILE / LAT + 2) * (SYNTH_TILE / LAT + 2)];
    for (int j = 0; j < lh; j++)
        for (int i = 0; i < lw; i++) {
            lat_x[j * lw + i] = tgt[0] + (i * LAT + 0.5) * tgt[1];
            lat_y[j * lw + i] = tgt[3] + (j * LAT + 0.5) * tgt[5];
        }
    if (rd->to_world != NULL)
        OCTTransform(rd->to_world, lw * lh, lat_x, lat_y, NULL);
    for (int i = 0; i < lw * lh; i++)
        lat_i[i] = illumination(w->seed, d, lat_x[i], lat_y[i]);

    const profile_desc *pf = rd->prof;
    const int nb = rd->nbands;
    const uint64_t dseed = w->seed * 131 + (uint64_t)rd->k + 7;
    for (int y = 0; y < r.h; y++) {
        const int ly = y / LAT;
        const double fy = (y % LAT) / (double)LAT;
        for (int x = 0; x < r.w; x++) {
            const int lx = x / LAT;
            const double fx = (x % LAT) / (double)LAT;
            const int a = ly * lw + lx;
            const double ill = (lat_i[a] * (1 - fx) + lat_i[a + 1] * fx) * (1 - fy) +
                               (lat_i[a + lw] * (1 - fx) + lat_i[a + lw + 1] * fx) * fy;
            const double wx = (lat_x[a] * (1 - fx) + lat_x[a + 1] * fx) * (1 - fy) +
                              (lat_x[a + lw] * (1 - fx) + lat_x[a + lw + 1] * fx) * fy;
            const double wy = (lat_y[a] * (1 - fx) + lat_y[a + 1] * fx) * (1 - fy) +
                              (lat_y[a + lw] * (1 - fx) + lat_y[a + lw + 1] * fx) * fy;
            uint16_t *px = out + ((size_t)y * r.w + x) * nb;
            const size_t i = (size_t)y * r.w + x;
            const int outside = wx < w->extent[0] || wx >= w->extent[2] || wy < w->extent[1] || wy >= w->extent[3];
            if (outside) {
                for (int b = 0; b < nb; b++)
                    px[b] = 0;
                if (pf->qa_name != NULL && rd->prof == &profiles[RW_SYNTH_LANDSAT])
                    px[nb - 1] = QA_FILL;
                continue;
            }
            const int c = cover[i];
            /* canopy and ground texture, anchored to the ground (so that
             * misregistration moves it with the image) */
            const double tex = 1.0 + (cover_veg[c] ? 0.16 : 0.08) *
                                         (value_noise(w->seed + 5, wx / 25.0, wy / 25.0) - 0.5);
            const uint64_t pkey = cell_key((int64_t)(r.x + x), (int64_t)(r.y + y));
            for (int b = 0; b < pf->reflective; b++) {
                double v = cover_refl[c][b] * tex * ill;
                if (cover_veg[c] && b == 3)
                    v *= d->veg_nir;
                if (cloud[i] == 1)
                    v = 0.42 + 0.2 * value_noise(w->seed + 9, wx / 300.0, wy / 300.0) + (b == 0 ? 0.03 : 0.0);
                else if (cloud[i] == 2)
                    v *= 0.4;
                v = v * d->band_gain[b] + d->band_offset[b];
                v *= 1.0 + 0.012 * noise(dseed + (uint64_t)b * 1000003, pkey);
                double dn = (v - pf->offset) / pf->scale[b];
                dn = dn < 1.0 ? 1.0 : (dn > 65535.0 ? 65535.0 : dn);
                px[b] = (uint16_t)lround(dn);
            }
            if (pf->qa_name == NULL)
                continue;
            if (rd->prof == &profiles[RW_SYNTH_LANDSAT])
                px[nb - 1] = cloud[i] == 1 ? QA_CLOUD : cloud[i] == 2 ? QA_SHADOW
                             : cover_scl[c] == 6 ? QA_WATER : QA_CLEAR;
            else
                px[nb - 1] = cloud[i] == 1 ? SCL_CLOUD_HIGH : cloud[i] == 2 ? SCL_SHADOW : cover_scl[c];
        }
    }
done:
    GDALClose(mem);
    return st;
}

static void date_release(render_date *rd)
{
    if (rd->owned) {
        for (size_t i = 0; i < rd->w->cover.n; i++)
            OGR_G_DestroyGeometry(rd->cover[i]);
        for (size_t i = 0; i < rd->w->clouds.n; i++)
            OGR_G_DestroyGeometry(rd->cloud[i]);
    }
    free(rd->cover);
    free(rd->cloud);
    free(rd->cover_env);
    free(rd->cloud_env);
    OCTDestroyCoordinateTransformation(rd->to_world);
}

/* Geometries of a shape list on the date's CRS, with their envelopes. */
static rw_status date_shapes(render_date *rd, OGRCoordinateTransformationH ct,
                             const synth_shapes *s, OGRGeometryH **geom,
                             double (**env)[4], rw_error *err)
{
    *geom = rw_calloc(s->n + 1, sizeof(**geom), err);
    *env = rw_calloc(s->n + 1, sizeof(**env), err);
    if (*geom == NULL || *env == NULL)
        return RW_ERR_NOMEM;
    for (size_t i = 0; i < s->n; i++) {
        OGRGeometryH g = s->v[i].geom;
        if (ct != NULL) {
            g = OGR_G_Clone(g);
            OGR_G_Transform(g, ct);
        }
        (*geom)[i] = g;
        OGREnvelope e;
        OGR_G_GetEnvelope(g, &e);
        (*env)[i][0] = e.MinX, (*env)[i][1] = e.MinY, (*env)[i][2] = e.MaxX, (*env)[i][3] = e.MaxY;
    }
    (void)rd;
    return RW_OK;
}

static rw_status date_prepare(const synth_world *w, int k, render_date *rd, rw_error *err)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH srs = NULL;
    OGRCoordinateTransformationH ct = NULL;
    memset(rd, 0, sizeof(*rd));
    rd->w = w;
    rd->k = k;
    rd->d = &w->date[k];
    rd->prof = &profiles[w->opt->profile];
    rd->nbands = rd->prof->reflective + (rd->prof->qa_name != NULL);
    memcpy(rd->gt, rd->d->grid.gt, sizeof(rd->gt));
    if (rd->d->grid.epsg != SYNTH_WORLD_EPSG) {
        srs = OSRNewSpatialReference(NULL);
        OSRImportFromEPSG(srs, rd->d->grid.epsg);
        OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
        ct = OCTNewCoordinateTransformation(w->world_srs, srs);
        rd->to_world = OCTNewCoordinateTransformation(srs, w->world_srs);
        RW_FAIL_IF(ct == NULL || rd->to_world == NULL, err, RW_ERR_USAGE,
                   "synth: cannot transform between EPSG:%d and EPSG:%d", SYNTH_WORLD_EPSG,
                   rd->d->grid.epsg);
        rd->owned = 1;
    } else {
        /* misregistration: the earlier dates see the ground shifted */
        rd->gt[0] += rd->d->shift_x;
        rd->gt[3] += rd->d->shift_y;
    }
    RW_CHECK(date_shapes(rd, ct, &w->cover, &rd->cover, &rd->cover_env, err));
    RW_CHECK(date_shapes(rd, ct, &w->clouds, &rd->cloud, &rd->cloud_env, err));
done:
    OCTDestroyCoordinateTransformation(ct);
    OSRDestroySpatialReference(srs);
    return st;
}

static GDALDatasetH create_scene(const render_date *rd, const char *path, rw_error *err)
{
    const synth_grid *g = &rd->d->grid;
    const profile_desc *pf = rd->prof;
    char **co = NULL;
    co = CSLSetNameValue(co, "TILED", "YES");
    co = CSLSetNameValue(co, "BLOCKXSIZE", "512");
    co = CSLSetNameValue(co, "BLOCKYSIZE", "512");
    co = CSLSetNameValue(co, "COMPRESS", "DEFLATE");
    co = CSLSetNameValue(co, "PREDICTOR", "2");
    co = CSLSetNameValue(co, "INTERLEAVE", "PIXEL");
    co = CSLSetNameValue(co, "BIGTIFF", "IF_SAFER");
    co = CSLSetNameValue(co, "NUM_THREADS", "ALL_CPUS");
    GDALDatasetH ds = GDALCreate(GDALGetDriverByName("GTiff"), path, g->width, g->height,
                                 rd->nbands, GDT_UInt16, co);
    CSLDestroy(co);
    if (ds == NULL) {
        rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: cannot create: %s", path,
                     CPLGetLastErrorMsg());
        return NULL;
    }
    GDALSetGeoTransform(ds, (double *)g->gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, g->epsg);
    GDALSetSpatialRef(ds, srs);
    OSRDestroySpatialReference(srs);
    char date[16];
    snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", rd->d->ymd, rd->d->ymd + 4, rd->d->ymd + 6);
    GDALSetMetadataItem(ds, "SPACECRAFT", pf->spacecraft, NULL);
    GDALSetMetadataItem(ds, "SENSOR", pf->sensor, NULL);
    GDALSetMetadataItem(ds, "PRODUCT_TYPE", pf->product, NULL);
    GDALSetMetadataItem(ds, "ACQUISITION_DATE", date, NULL);
    GDALSetMetadataItem(ds, "GENERATOR", "reservewatch synth " RW_VERSION_STRING, NULL);
    for (int b = 0; b < pf->reflective; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds, b + 1);
        GDALSetDescription(band, pf->band_name[b]);
        GDALSetRasterScale(band, pf->scale[b]);
        GDALSetRasterOffset(band, pf->offset);
        GDALSetRasterNoDataValue(band, 0);
        char v[32];
        snprintf(v, sizeof(v), "%.6g", pf->scale[b]);
        GDALSetMetadataItem(band, "GAIN", v, NULL);
        snprintf(v, sizeof(v), "%.6g", pf->offset);
        GDALSetMetadataItem(band, "OFFSET", v, NULL);
    }
    if (pf->qa_name != NULL)
        GDALSetDescription(GDALGetRasterBand(ds, rd->nbands), pf->qa_name);
    return ds;
}

static rw_status render_date_file(const render_date *rd, const char *path,
                                  rw_progress_fn progress, void *user,
                                  double done0, double span, rw_error *err)
{
    rw_status st = RW_OK;
    char tmp[4096];
    uint16_t *rowbuf = NULL;
    GDALDatasetH ds = NULL;
    RW_CHECK(rw_format(tmp, sizeof(tmp), err, "%s.part", path));
    ds = create_scene(rd, tmp, err);
    if (ds == NULL) {
        st = err->status;
        goto done;
    }
    const synth_grid *g = &rd->d->grid;
    const rw_tiling tl = rw_tiling_make(g->width, g->height, SYNTH_TILE);
    const size_t tile_px = (size_t)SYNTH_TILE * SYNTH_TILE;
    rowbuf = rw_malloc(sizeof(uint16_t) * tile_px * (size_t)rd->nbands * (size_t)tl.cols, err);
    RW_FAIL_IF(rowbuf == NULL, err, RW_ERR_NOMEM, "synth: out of memory for a tile row");
    const int threads = rd->w->opt->threads > 0 ? rd->w->opt->threads : omp_get_max_threads();
    for (int row = 0; row < tl.rows && st == RW_OK; row++) {
        int failed = 0;
        rw_error terr;
        rw_error_clear(&terr);
#pragma omp parallel num_threads(threads)
        {
            uint8_t *cover = malloc(tile_px), *cloud = malloc(tile_px);
            rw_error local;
            rw_error_clear(&local);
#pragma omp for schedule(dynamic)
            for (int col = 0; col < tl.cols; col++) {
                const rw_rect r = rw_tiling_rect(&tl, row * tl.cols + col);
                rw_status ts = cover && cloud ? render_tile(rd, r, rowbuf + tile_px * (size_t)rd->nbands * (size_t)col,
                                                            cover, cloud, &local)
                                              : rw_error_set(&local, RW_ERR_NOMEM, __FILE__, __LINE__,
                                                             "synth: out of memory for a tile");
                if (ts != RW_OK) {
#pragma omp critical(synth_error)
                    {
                        if (!failed)
                            terr = local;
                        failed = 1;
                    }
                }
            }
            free(cover);
            free(cloud);
        }
        if (failed) {
            *err = terr;
            st = terr.status;
            break;
        }
        for (int col = 0; col < tl.cols; col++) {
            const rw_rect r = rw_tiling_rect(&tl, row * tl.cols + col);
            if (GDALDatasetRasterIO(ds, GF_Write, r.x, r.y, r.w, r.h,
                                    rowbuf + tile_px * (size_t)rd->nbands * (size_t)col, r.w, r.h, GDT_UInt16,
                                    rd->nbands, NULL, 2 * rd->nbands, 2 * rd->nbands * r.w, 2) != CE_None)
                RW_FAIL(err, RW_ERR_IO, "%s: write failed: %s", tmp, CPLGetLastErrorMsg());
        }
        if (progress != NULL && !progress(done0 + span * (row + 1) / tl.rows, "synth", user))
            RW_FAIL(err, RW_ERR_CANCELLED, "synth: cancelled");
    }
done:
    if (ds != NULL) {
        CPLErrorReset();
        GDALClose(ds);
    }
    if (ds != NULL && CPLGetLastErrorType() >= CE_Failure && st == RW_OK)
        st = rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: closing failed: %s", tmp,
                          CPLGetLastErrorMsg());
    free(rowbuf);
    if (st == RW_OK && rename(tmp, path) != 0)
        st = rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "%s: cannot rename to %s", tmp, path);
    if (st != RW_OK)
        remove(tmp);
    return st;
}

rw_status synth_render_scenes(synth_world *w, rw_progress_fn progress, void *user,
                              rw_error *err)
{
    rw_status st = RW_OK;
    for (int k = 0; k < w->ndates && st == RW_OK; k++) {
        render_date rd;
        char path[4096];
        st = rw_format(path, sizeof(path), err, "%s/scene_%s.tif", w->opt->out_dir, w->date[k].ymd);
        if (st == RW_OK)
            st = date_prepare(w, k, &rd, err);
        if (st == RW_OK)
            st = render_date_file(&rd, path, progress, user, 0.1 + 0.85 * k / w->ndates,
                                  0.85 / w->ndates, err);
        date_release(&rd);
    }
    return st;
}
