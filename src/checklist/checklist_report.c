/* report.html for one reserve: a page a check team can open offline or
 * print on A4. Self-contained: chips are inlined as base64 data: URIs and
 * a Content-Security-Policy forbids loading anything, because point lists
 * are confidential and the page travels on USB sticks. */
#include "atomic.h"
#include "checklist.h"

#include <cpl_conv.h>
#include <cpl_string.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_MESSAGE "本期未发现需核查的点位"
/* A chip larger than this is not a chip: shown as missing, not inlined. */
#define CHIP_MAX_BYTES (16L << 20)

/* Summary columns, in the order of the table. */
static const struct {
    const char *key, *label;
} zones[] = {
    {"core", "核心区"},
    {"buffer", "缓冲区"},
    {"experimental", "实验区"},
};
#define NZONES (sizeof(zones) / sizeof(zones[0]))

/* Card details: every shared field except those the card's heading or the
 * page title already shows. */
static const char *const card_skip[] = {"seq", "id", "reserve_name"};

/* Chip rows: true colour full width, the false-colour pair smaller. */
static const struct {
    rw_chip_kind before, after;
    const char *css, *before_caption, *after_caption;
} chip_rows[] = {
    {RW_CHIP_BEFORE, RW_CHIP_AFTER, "chips", "前时相 真彩色", "后时相 真彩色"},
    {RW_CHIP_BEFORE_NRG, RW_CHIP_AFTER_NRG, "chips nrg",
     "前时相 假彩色(近红外-红-绿)", "后时相 假彩色(近红外-红-绿)"},
};

static const char css[] =
    "body{font-family:\"Microsoft YaHei\",\"PingFang SC\",\"Noto Sans CJK SC\","
    "\"WenQuanYi Micro Hei\",SimSun,sans-serif;margin:16px;color:#222;"
    "font-size:14px}\n"
    "h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:0 0 8px}\n"
    ".secret{color:#b00;font-weight:bold}\n"
    "table{border-collapse:collapse;margin:8px 0}\n"
    "th,td{border:1px solid #999;padding:3px 8px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#eee;white-space:nowrap}\n"
    "table.summary td{text-align:right}\n"
    ".card{border:1px solid #666;border-radius:4px;padding:10px;"
    "margin:14px 0;break-inside:avoid;page-break-inside:avoid}\n"
    ".card .seq{font-weight:normal;color:#555;margin-left:12px}\n"
    ".chips{display:flex;gap:10px}\n"
    ".chips figure{flex:1;margin:0;text-align:center}\n"
    ".chips img{width:100%;height:auto;border:1px solid #999}\n"
    ".chips.nrg{width:60%}\n"
    ".nochip{border:1px dashed #999;color:#777;padding:30px 4px}\n"
    ".empty{font-size:18px;margin:24px 0}\n"
    "@media print{@page{size:A4;margin:12mm}"
    "body{margin:0;font-size:11pt}"
    ".card{break-inside:avoid;page-break-inside:avoid}}\n";

/* Only the base name of a scene: folder names say nothing a check team
 * needs and may name people or machines. */
static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : path ? path : "";
}

/* Distinct values of one date field over the items, joined by "、". The
 * offset is of a char array in rw_detection. */
static void put_distinct_dates(FILE *f, const rw_check_reserve *r,
                               size_t offset)
{
    bool any = false;
    for (size_t i = 0; i < r->n; i++) {
        const char *v = (const char *)&r->items[i].det + offset;
        bool seen = v[0] == '\0';
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(v, (const char *)&r->items[j].det + offset) == 0;
        if (seen)
            continue;
        if (any)
            fputs("、", f);
        rw_checklist_put_xml(f, v);
        any = true;
    }
    if (!any)
        fputs("—", f);
}

static void put_head(FILE *f, const rw_checklist *cl,
                     const rw_check_reserve *r)
{
    fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n"
          "<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
          "'none'; img-src data:; style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, "
          "initial-scale=1\">\n<title>",
          f);
    rw_checklist_put_xml(f, r->name);
    fprintf(f, " %d年度人类活动遥感监测核查报告</title>\n<style>\n%s</style>\n"
               "</head>\n<body>\n<p class=\"secret\">内部资料 注意保密</p>\n<h1>",
            cl->year, css);
    rw_checklist_put_xml(f, r->name);
    fprintf(f, " %d年度人类活动遥感监测核查报告</h1>\n<table class=\"meta\">\n"
               "<tr><th>保护区编号</th><td>",
            cl->year);
    rw_checklist_put_xml(f, r->reserve_id);
    fputs("</td></tr>\n<tr><th>所在市、县(区)</th><td>", f);
    rw_checklist_put_xml(f, r->city);
    fputs(" ", f);
    rw_checklist_put_xml(f, r->county);
    fputs("</td></tr>\n<tr><th>前时相影像</th><td>", f);
    for (int b = 0; b < cl->nbefore; b++) {
        if (b > 0)
            fputs("、", f);
        rw_checklist_put_xml(f, base_name(cl->before_scenes[b]));
    }
    fputs("(日期: ", f);
    put_distinct_dates(f, r, offsetof(rw_detection, before_date));
    fputs(")</td></tr>\n<tr><th>后时相影像</th><td>", f);
    rw_checklist_put_xml(f, base_name(cl->after_scene));
    fputs("(日期: ", f);
    put_distinct_dates(f, r, offsetof(rw_detection, after_date));
    fputs(")</td></tr>\n<tr><th>生成日期</th><td>", f);
    rw_checklist_put_xml(f, cl->generated);
    fprintf(f, "</td></tr>\n<tr><th>坐标系</th><td>CGCS2000 (EPSG:4490)</td>"
               "</tr>\n<tr><th>点位数</th><td>%zu</td></tr>\n</table>\n",
            r->n);
}

static int zone_index(const rw_check_item *it)
{
    for (size_t z = 0; z < NZONES; z++)
        if ((it->zone_key && strcmp(it->zone_key, zones[z].key) == 0) ||
            strcmp(it->det.zone, zones[z].label) == 0)
            return (int)z;
    return -1;
}

static void put_summary(FILE *f, const rw_check_reserve *r)
{
    /* [category][zone], the last column and row are totals */
    size_t count[RW_CATEGORY_COUNT + 1][NZONES + 1] = {{0}};
    for (size_t i = 0; i < r->n; i++) {
        const int c = rw_checklist_category_index(r->items[i].det.category);
        const int z = zone_index(&r->items[i]);
        if (z >= 0) {
            count[c][z]++;
            count[RW_CATEGORY_COUNT][z]++;
        }
        count[c][NZONES]++;
        count[RW_CATEGORY_COUNT][NZONES]++;
    }
    fputs("<h2>问题类型与功能区统计(个)</h2>\n<table class=\"summary\">\n"
          "<tr><th>问题类型</th>",
          f);
    for (size_t z = 0; z < NZONES; z++)
        fprintf(f, "<th>%s</th>", zones[z].label);
    fputs("<th>合计</th></tr>\n", f);
    for (int c = 0; c <= RW_CATEGORY_COUNT; c++) {
        fprintf(f, "<tr><th>%s</th>",
                c < RW_CATEGORY_COUNT ? rw_category_label(c) : "合计");
        for (size_t z = 0; z <= NZONES; z++)
            fprintf(f, "<td>%zu</td>", count[c][z]);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

/* The whole chip file if it is a PNG of sane size; NULL (no error) when it
 * is missing or not one, so the page shows a placeholder instead. */
static rw_status read_png(const char *path, unsigned char **out, long *size,
                          rw_error *err)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    rw_status st = RW_OK;
    unsigned char *data = NULL;
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f)
        goto done;
    if (fseek(f, 0, SEEK_END) != 0)
        goto done;
    const long n = ftell(f);
    if (n < (long)sizeof(sig) || n > CHIP_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0)
        goto done;
    data = rw_malloc((size_t)n, err);
    RW_FAIL_IF(!data, err, RW_ERR_NOMEM, "%s: no memory for the chip", path);
    if (fread(data, 1, (size_t)n, f) != (size_t)n ||
        memcmp(data, sig, sizeof(sig)) != 0)
        goto done;
    *out = data;
    *size = n;
    data = NULL;
done:
    free(data);
    if (f)
        fclose(f);
    return st;
}

static rw_status put_chip(FILE *f, const char *dir, const rw_check_item *it,
                          rw_chip_kind kind, const char *caption,
                          const char *date, rw_error *err)
{
    rw_status st = RW_OK;
    char rel[256], path[4096];
    unsigned char *png = NULL;
    char *b64 = NULL;
    long n = 0;
    RW_CHECK(rw_checklist_chip_path(it->det.id, kind, rel, sizeof(rel), err));
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/%s", dir, rel));
    RW_CHECK(read_png(path, &png, &n, err));
    fputs("<figure>", f);
    if (png) {
        b64 = CPLBase64Encode((int)n, png);
        RW_FAIL_IF(!b64, err, RW_ERR_NOMEM, "%s: cannot encode the chip", path);
        fputs("<img alt=\"", f);
        rw_checklist_put_xml(f, caption);
        fprintf(f, "\" src=\"data:image/png;base64,%s\">", b64);
    } else {
        fputs("<div class=\"nochip\">影像缺失: ", f);
        rw_checklist_put_xml(f, rel);
        fputs("</div>", f);
    }
    fputs("<figcaption>", f);
    rw_checklist_put_xml(f, caption);
    fputs(" ", f);
    rw_checklist_put_xml(f, date);
    fputs("</figcaption></figure>", f);
done:
    CPLFree(b64);
    free(png);
    return st;
}

/* True when the chip file exists: the false-colour row is left out when
 * neither of its chips was made (a scene without NIR). */
static rw_status chip_exists(const char *dir, const rw_check_item *it,
                             rw_chip_kind kind, bool *exists, rw_error *err)
{
    rw_status st = RW_OK;
    char rel[256], path[4096];
    RW_CHECK(rw_checklist_chip_path(it->det.id, kind, rel, sizeof(rel), err));
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/%s", dir, rel));
    FILE *f = fopen(path, "rb");
    *exists = f != NULL;
    if (f)
        fclose(f);
done:
    return st;
}

static bool card_skips(const char *key)
{
    for (size_t s = 0; s < sizeof(card_skip) / sizeof(card_skip[0]); s++)
        if (strcmp(key, card_skip[s]) == 0)
            return true;
    return false;
}

static rw_status put_card(FILE *f, const rw_check_reserve *r,
                          const rw_check_item *it, const char *dir,
                          rw_error *err)
{
    rw_status st = RW_OK;
    fputs("<section class=\"card\">\n<h2>点位编号 ", f);
    rw_checklist_put_xml(f, it->det.id);
    fprintf(f, "<span class=\"seq\">序号 %d</span></h2>\n<table>\n", it->seq);
    rw_checklist_put_field_rows(f, r, it, card_skips);
    fputs("</table>\n", f);
    for (size_t row = 0; row < sizeof(chip_rows) / sizeof(chip_rows[0]); row++) {
        bool before = true, after = true;
        if (row > 0) {
            RW_CHECK(chip_exists(dir, it, chip_rows[row].before, &before, err));
            RW_CHECK(chip_exists(dir, it, chip_rows[row].after, &after, err));
            if (!before && !after)
                continue;
        }
        fprintf(f, "<div class=\"%s\">", chip_rows[row].css);
        RW_CHECK(put_chip(f, dir, it, chip_rows[row].before,
                          chip_rows[row].before_caption, it->det.before_date,
                          err));
        RW_CHECK(put_chip(f, dir, it, chip_rows[row].after,
                          chip_rows[row].after_caption, it->det.after_date,
                          err));
        fputs("</div>\n", f);
    }
    fputs("</section>\n", f);
done:
    return st;
}

rw_status rw_checklist_write_report(const rw_checklist *cl,
                                    const rw_check_reserve *r,
                                    const char *reserve_dir, rw_error *err)
{
    rw_status st = RW_OK;
    rw_atomic_file af = {0};
    char path[4096];
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/report.html", reserve_dir));
    RW_CHECK(rw_atomic_open(&af, path, err));
    put_head(af.fp, cl, r);
    put_summary(af.fp, r);
    if (r->n == 0)
        fputs("<p class=\"empty\">" EMPTY_MESSAGE "</p>\n", af.fp);
    else
        fputs("<h2>核查点位</h2>\n", af.fp);
    for (size_t i = 0; i < r->n; i++)
        RW_CHECK(put_card(af.fp, r, &r->items[i], reserve_dir, err));
    fputs("</body>\n</html>\n", af.fp);
    RW_FAIL_IF(ferror(af.fp), err, RW_ERR_IO, "%s: cannot write", af.tmp);
    RW_CHECK(rw_atomic_commit(&af, err));
done:
    rw_atomic_abort(&af);
    return st;
}
