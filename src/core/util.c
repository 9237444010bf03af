#include "core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

rw_rect rw_rect_intersect(rw_rect a, rw_rect b)
{
    const int x0 = a.x > b.x ? a.x : b.x;
    const int y0 = a.y > b.y ? a.y : b.y;
    const int x1 = (a.x + a.w) < (b.x + b.w) ? (a.x + a.w) : (b.x + b.w);
    const int y1 = (a.y + a.h) < (b.y + b.h) ? (a.y + a.h) : (b.y + b.h);
    rw_rect r = {x0, y0, x1 - x0, y1 - y0};
    if (r.w < 0)
        r.w = 0;
    if (r.h < 0)
        r.h = 0;
    return r;
}

bool rw_rect_is_empty(rw_rect r) { return r.w <= 0 || r.h <= 0; }

bool rw_rect_contains(rw_rect r, int x, int y)
{
    return x >= r.x && y >= r.y && x < r.x + r.w && y < r.y + r.h;
}

rw_tiling rw_tiling_make(int width, int height, int tile)
{
    rw_tiling t = {width, height, tile, 0, 0};
    if (tile > 0) {
        t.cols = (width + tile - 1) / tile;
        t.rows = (height + tile - 1) / tile;
    }
    return t;
}

int rw_tiling_count(const rw_tiling *t) { return t->cols * t->rows; }

rw_rect rw_tiling_rect(const rw_tiling *t, int index)
{
    const int col = index % t->cols;
    const int row = index / t->cols;
    rw_rect r = {col * t->tile, row * t->tile, t->tile, t->tile};
    rw_rect all = {0, 0, t->width, t->height};
    return rw_rect_intersect(r, all);
}

uint64_t rw_hash64(uint64_t seed, uint64_t key)
{
    uint64_t z = seed * 0x9E3779B97F4A7C15ULL + key + 0x632BE59BD9B4E019ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double rw_hash_unit(uint64_t seed, uint64_t key)
{
    return (double)(rw_hash64(seed, key) >> 11) * (1.0 / 9007199254740992.0);
}

void *rw_malloc(size_t size, rw_error *err)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__,
                     "out of memory allocating %zu bytes", size);
    return p;
}

void *rw_calloc(size_t count, size_t size, rw_error *err)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        rw_error_set(err, RW_ERR_NOMEM, __FILE__, __LINE__,
                     "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

rw_status rw_format(char *buf, size_t size, rw_error *err, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    const int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size)
        return rw_error_set(err, RW_ERR_USAGE, __FILE__, __LINE__,
                            "name too long: %.200s...", buf);
    return RW_OK;
}

rw_status rw_mkdir_p(const char *path, unsigned mode, rw_error *err)
{
    char tmp[4096];
    rw_status st = rw_format(tmp, sizeof(tmp), err, "%s", path);
    if (st != RW_OK)
        return st;
    for (char *p = tmp + 1;; p++) {
        const char c = *p;
        if (c != '/' && c != '\0')
            continue;
        *p = '\0';
        if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST)
            return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__,
                                "%s: cannot create folder: %s", tmp,
                                strerror(errno));
        *p = c;
        if (c == '\0')
            break;
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return rw_error_set(err, RW_ERR_IO, __FILE__, __LINE__,
                            "%s: not a folder", path);
    return RW_OK;
}

void rw_format_utc(long long t, char buf[32])
{
    const time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void rw_csv_put_cell(FILE *f, const char *s, bool number)
{
    const bool guard = !number && s[0] != '\0' && strchr("=+-@\t\r", s[0]);
    const bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', f);
    if (guard)
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    if (quote)
        fputc('"', f);
}
