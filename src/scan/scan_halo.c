/* The rings of the planned tiles. The detection pass looks at each pixel's
 * eight neighbours, so every tile needs a 1-pixel halo from the tiles
 * around it. Read from the scene, that halo decodes the eight neighbouring
 * blocks of every band for one row or column each, and with a worker per
 * thread no block stays in one handle's cache for the neighbour that
 * needs it: measured on a 5490² Sentinel-2 pair, the halo reads doubled
 * the scan time and took away the second thread's speed-up. The sampling
 * pass reads every planned tile anyway; it saves each tile's outer ring
 * here, and the detection pass takes its halo from the neighbours' rings.
 * Rings live in an unlinked temporary file, so memory does not grow with
 * the scene; each tile's record sits at a fixed offset, so threads write
 * and read without locks. */
#include "scan.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct scan_halo {
    rw_tiling tiling;
    unsigned band_mask;
    int nscenes;
    int fd;
    size_t plane;  /* values per plane: 4 sides of a full tile */
    size_t scene;  /* bytes per scene */
    size_t record; /* bytes per tile */
};

enum { SIDE_TOP, SIDE_BOTTOM, SIDE_LEFT, SIDE_RIGHT };

static int float_planes(unsigned band_mask)
{
    int n = 0;
    for (int b = 0; b < RW_BAND_COUNT; b++)
        n += (band_mask & RW_BAND_BIT(b)) != 0;
    return n;
}

rw_status scan_halo_create(const rw_tiling *tiling, unsigned band_mask, int nscenes, scan_halo **out,
                           rw_error *err)
{
    rw_status st = RW_OK;
    *out = NULL;
    scan_halo *h = rw_calloc(1, sizeof(*h), err);
    if (h == NULL)
        return RW_ERR_NOMEM;
    h->fd = -1;
    h->tiling = *tiling;
    h->band_mask = band_mask;
    h->nscenes = nscenes;
    h->plane = 4 * (size_t)tiling->tile;
    h->scene = h->plane * ((size_t)float_planes(band_mask) * sizeof(float) + 1);
    h->record = h->scene * (size_t)nscenes;
    const char *dir = getenv("TMPDIR");
    char path[4096];
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/reservewatch-halo-XXXXXX", dir != NULL && *dir ? dir : "/tmp"));
    h->fd = mkstemp(path);
    RW_FAIL_IF(h->fd < 0, err, RW_ERR_IO, "cannot create a temporary file in %s: %s",
               dir != NULL && *dir ? dir : "/tmp", strerror(errno));
    unlink(path); /* gone with the process, whatever happens */
    *out = h;
    h = NULL;
done:
    scan_halo_destroy(h);
    return st;
}

void scan_halo_destroy(scan_halo *h)
{
    if (h == NULL)
        return;
    if (h->fd >= 0)
        close(h->fd);
    free(h);
}

/* Byte offset of side s of plane p (float planes first, then QA) of
 * scene k in tile t's record. */
static off_t offset_of(const scan_halo *h, int t, int k, int p, int s)
{
    const int nf = float_planes(h->band_mask);
    const size_t per = p < nf ? sizeof(float) : 1;
    const size_t plane_start = p < nf ? (size_t)p * h->plane * sizeof(float) : (size_t)nf * h->plane * sizeof(float);
    return (off_t)((size_t)t * h->record + (size_t)k * h->scene + plane_start +
                   (size_t)s * (size_t)h->tiling.tile * per);
}

static rw_status io_all(const scan_halo *h, bool write, void *buf, size_t n, off_t at, rw_error *err)
{
    char *p = buf;
    while (n > 0) {
        const ssize_t got = write ? pwrite(h->fd, p, n, at) : pread(h->fd, p, n, at);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__, "temporary tile-ring file: %s failed: %s",
                                write ? "write" : "read", got < 0 ? strerror(errno) : "short read");
        p += got, n -= (size_t)got, at += got;
    }
    return RW_OK;
}

/* The pixels of side s of window r, as (first index, step, count) into
 * buffers laid out r.w wide. */
static void side_of(rw_rect r, int s, size_t *first, size_t *step, int *count)
{
    const size_t w = (size_t)r.w;
    switch (s) {
    case SIDE_TOP: *first = 0, *step = 1, *count = r.w; break;
    case SIDE_BOTTOM: *first = (size_t)(r.h - 1) * w, *step = 1, *count = r.w; break;
    case SIDE_LEFT: *first = 0, *step = w, *count = r.h; break;
    default: *first = w - 1, *step = w, *count = r.h; break;
    }
}

rw_status scan_halo_save(scan_halo *h, int t, const scan_window *scenes, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_rect r = rw_tiling_rect(&h->tiling, t);
    float *fbuf = rw_malloc((size_t)h->tiling.tile * sizeof(float), err);
    uint8_t *qbuf = rw_malloc((size_t)h->tiling.tile, err);
    RW_FAIL_IF(fbuf == NULL || qbuf == NULL, err, RW_ERR_NOMEM, "out of memory saving a tile ring");
    for (int k = 0; k < h->nscenes; k++)
        for (int s = 0; s < 4; s++) {
            size_t first, step;
            int count;
            side_of(r, s, &first, &step, &count);
            int p = 0;
            for (int b = 0; b < RW_BAND_COUNT; b++) {
                if (!(h->band_mask & RW_BAND_BIT(b)))
                    continue;
                for (int i = 0; i < count; i++)
                    fbuf[i] = scenes[k].band[b][first + (size_t)i * step];
                RW_CHECK(io_all(h, true, fbuf, (size_t)count * sizeof(float), offset_of(h, t, k, p++, s), err));
            }
            for (int i = 0; i < count; i++)
                qbuf[i] = scenes[k].qa[first + (size_t)i * step];
            RW_CHECK(io_all(h, true, qbuf, (size_t)count, offset_of(h, t, k, p, s), err));
        }
done:
    free(fbuf);
    free(qbuf);
    return st;
}

/* Copies `count` values of side s of neighbour tile n (starting `skip`
 * values in) to dst[first + i * step] of every plane of every scene. */
static rw_status load_side(const scan_halo *h, int n, int s, int skip, int count, size_t first, size_t step,
                           const scan_window *scenes, float *fbuf, uint8_t *qbuf, rw_error *err)
{
    rw_status st = RW_OK;
    for (int k = 0; k < h->nscenes; k++) {
        int p = 0;
        for (int b = 0; b < RW_BAND_COUNT; b++) {
            if (!(h->band_mask & RW_BAND_BIT(b)))
                continue;
            RW_CHECK(io_all(h, false, fbuf, (size_t)count * sizeof(float),
                            offset_of(h, n, k, p++, s) + (off_t)((size_t)skip * sizeof(float)), err));
            for (int i = 0; i < count; i++)
                scenes[k].band[b][first + (size_t)i * step] = fbuf[i];
        }
        RW_CHECK(io_all(h, false, qbuf, (size_t)count, offset_of(h, n, k, p, s) + skip, err));
        for (int i = 0; i < count; i++)
            scenes[k].qa[first + (size_t)i * step] = qbuf[i];
    }
done:
    return st;
}

rw_status scan_halo_load(const scan_halo *h, int t, const uint8_t *planned, rw_rect bwin,
                         const scan_window *scenes, rw_error *err)
{
    rw_status st = RW_OK;
    const rw_tiling *g = &h->tiling;
    const rw_rect r = rw_tiling_rect(g, t);
    const int col = t % g->cols, row = t / g->cols;
    const size_t bw = (size_t)bwin.w;
    float *fbuf = rw_malloc((size_t)g->tile * sizeof(float), err);
    uint8_t *qbuf = rw_malloc((size_t)g->tile, err);
    RW_FAIL_IF(fbuf == NULL || qbuf == NULL, err, RW_ERR_NOMEM, "out of memory loading a tile ring");
    for (int d = 0; d < 9; d++) {
        const int dx = d % 3 - 1, dy = d / 3 - 1;
        const int nc = col + dx, nr = row + dy;
        if ((dx == 0 && dy == 0) || nc < 0 || nr < 0 || nc >= g->cols || nr >= g->rows)
            continue;
        const int n = nr * g->cols + nc;
        /* where the halo pixels go in bwin, and which side of n they are */
        const int hx = dx < 0 ? 0 : dx > 0 ? bwin.w - 1 : r.x - bwin.x;
        const int hy = dy < 0 ? 0 : dy > 0 ? bwin.h - 1 : r.y - bwin.y;
        const size_t first = (size_t)hy * bw + (size_t)hx;
        if (!planned[n]) {
            /* no reserve pixel borders it: no rule asks, so no data */
            const int count = dx == 0 ? r.w : dy == 0 ? r.h : 1;
            const size_t step = dy != 0 ? 1 : bw;
            for (int k = 0; k < h->nscenes; k++)
                for (int i = 0; i < count; i++) {
                    for (int b = 0; b < RW_BAND_COUNT; b++)
                        if (h->band_mask & RW_BAND_BIT(b))
                            scenes[k].band[b][first + (size_t)i * step] = NAN;
                    scenes[k].qa[first + (size_t)i * step] = RW_QA_NODATA;
                }
            continue;
        }
        const rw_rect nrect = rw_tiling_rect(g, n);
        if (dy != 0) { /* a row of n: its bottom (above us) or top (below) */
            const int s = dy < 0 ? SIDE_BOTTOM : SIDE_TOP;
            const int skip = dx < 0 ? nrect.w - 1 : 0;
            RW_CHECK(load_side(h, n, s, skip, dx == 0 ? r.w : 1, first, 1, scenes, fbuf, qbuf, err));
        } else { /* a column of n: its right (left of us) or left */
            const int s = dx < 0 ? SIDE_RIGHT : SIDE_LEFT;
            RW_CHECK(load_side(h, n, s, 0, r.h, first, bw, scenes, fbuf, qbuf, err));
        }
    }
done:
    free(fbuf);
    free(qbuf);
    return st;
}
