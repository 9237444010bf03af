/* Internal core: error macros, rectangles, small helpers shared by every
 * module. Depends on libc only. */
#ifndef RW_CORE_H
#define RW_CORE_H

#include "reservewatch.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define RW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define RW_PRINTF(a, b)
#endif

/* Records the first failure in err (later ones are ignored, so the root
 * cause survives cleanup code that fails too). Returns status. */
rw_status rw_error_set(rw_error *err, rw_status status, const char *file,
                       int line, const char *fmt, ...) RW_PRINTF(5, 6);

/* Set err and jump to the function's single exit. Expects a local
 * `rw_status st` and a `done:` label. */
#define RW_FAIL(err, code, ...)                                              \
    do {                                                                     \
        st = rw_error_set((err), (code), __FILE__, __LINE__, __VA_ARGS__);   \
        goto done;                                                           \
    } while (0)

#define RW_FAIL_IF(cond, err, code, ...)                                     \
    do {                                                                     \
        if (cond)                                                            \
            RW_FAIL(err, code, __VA_ARGS__);                                 \
    } while (0)

/* Forward a status already recorded in err by a callee. */
#define RW_CHECK(expr)                                                       \
    do {                                                                     \
        st = (expr);                                                         \
        if (st != RW_OK)                                                     \
            goto done;                                                       \
    } while (0)

/* A window of a raster grid, in pixels. */
typedef struct rw_rect {
    int x, y; /* origin (column, row) */
    int w, h; /* width, height; empty when either is <= 0 */
} rw_rect;

rw_rect rw_rect_intersect(rw_rect a, rw_rect b);
bool rw_rect_is_empty(rw_rect r);
bool rw_rect_contains(rw_rect r, int x, int y);

/* The tile plan: a grid of tiles of tile_size covering width x height,
 * in row-major order (tile index = row * cols + col). */
typedef struct rw_tiling {
    int width, height; /* grid size in pixels */
    int tile;          /* tile side in pixels */
    int cols, rows;    /* tiles per row / column */
} rw_tiling;

rw_tiling rw_tiling_make(int width, int height, int tile);
int rw_tiling_count(const rw_tiling *t);
rw_rect rw_tiling_rect(const rw_tiling *t, int index);

/* Deterministic counter-based random numbers (splitmix64): the value
 * depends only on (seed, key), never on call order or thread. */
uint64_t rw_hash64(uint64_t seed, uint64_t key);
/* Uniform in [0,1) from (seed, key). */
double rw_hash_unit(uint64_t seed, uint64_t key);

/* Calls malloc/calloc and records RW_ERR_NOMEM in err on failure. */
void *rw_malloc(size_t size, rw_error *err);
void *rw_calloc(size_t count, size_t size, rw_error *err);

/* snprintf into buf that reports truncation as RW_ERR_USAGE (paths). */
rw_status rw_format(char *buf, size_t size, rw_error *err, const char *fmt,
                    ...) RW_PRINTF(4, 5);

/* One RFC 4180 CSV cell: quoted when it holds , " CR or LF (quotes
 * doubled). Text that a spreadsheet would run as a formula (= + - @ tab CR
 * first) gets a leading apostrophe (OWASP CSV injection); numbers (number
 * true) are written as they are, so a negative value stays a number. */
void rw_csv_put_cell(FILE *f, const char *s, bool number);

/* t as ISO 8601 UTC, "2024-12-21T08:30:00Z", for manifests. */
void rw_format_utc(long long t, char buf[32]);

/* mkdir -p with mode for newly created folders. */
rw_status rw_mkdir_p(const char *path, unsigned mode, rw_error *err);

#endif
