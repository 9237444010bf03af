/* Unit tests for the XLSX forms (checklist_xlsx*.c): 附件1 per reserve and
 * 附件2 per city, read back through GDAL's /vsizip/ and checked cell by
 * cell in the sheet XML and shared strings. The list has three reserves:
 * R01 in 宜春市 with 3 points (one before chip on disk), R02 in 宜春市 with
 * none, R03 in 九江市 with 1 point (must stay out of 宜春市's list). */
#include "checklist.h"

#include <cpl_vsi.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static char tmp_dir[] = "/tmp/rw_test_xlsx_XXXXXX";
static rw_checklist *cl;
static char r01_dir[256], r01_xlsx[1024], r02_xlsx[1024], city_xlsx[1024];
static char chip_png[1024];

/* Header rows as the forms must show them, in order. */
static const char *const reserve_headers[] = {
    "序号", "点位编号", "保护区名称", "功能区", "问题类型", "变化类型", "经度",
    "纬度", "经度(度分秒)", "纬度(度分秒)", "面积(平方米)", "面积(亩)",
    "面积(公顷)", "前时相", "后时相", "判定依据", "置信度", "状态",
    "前时相影像", "后时相影像", "核查日期", "核查人", "现状", "变化原因",
    "是否违法违规", "整改措施", "责任单位", "备注"};
#define NRESERVE_HEADERS (sizeof(reserve_headers) / sizeof(reserve_headers[0]))

static const char *const city_headers[] = {
    "序号", "点位编号", "所在县(区)", "保护区名称", "功能区", "问题类型",
    "变化类型", "经度", "纬度", "经度(度分秒)", "纬度(度分秒)", "面积(平方米)",
    "面积(亩)", "面积(公顷)", "前时相", "后时相", "判定依据", "置信度", "状态",
    "核查日期", "核查人", "现状", "变化原因", "是否违法违规", "整改措施",
    "责任单位", "备注"};
#define NCITY_HEADERS (sizeof(city_headers) / sizeof(city_headers[0]))

/* ---- building the list ------------------------------------------------ */

typedef struct item_spec {
    const char *id, *zone, *zone_key, *category, *category_label, *status;
    double lon, lat, area_m2;
} item_spec;

static void fill_item(rw_check_item *it, const rw_check_reserve *r, int seq,
                      const item_spec *s)
{
    rw_detection *d = &it->det;
    memset(it, 0, sizeof(*it));
    it->seq = seq;
    it->category_label = s->category_label;
    it->change_label = "植被变裸地";
    it->zone_key = s->zone_key;
    snprintf(d->id, sizeof(d->id), "%s", s->id);
    snprintf(d->reserve_id, sizeof(d->reserve_id), "%s", r->reserve_id);
    snprintf(d->reserve_name, sizeof(d->reserve_name), "%s", r->name);
    snprintf(d->zone, sizeof(d->zone), "%s", s->zone);
    snprintf(d->category, sizeof(d->category), "%s", s->category);
    snprintf(d->change, sizeof(d->change), "veg_to_bare");
    snprintf(d->status, sizeof(d->status), "%s", s->status);
    d->area_m2 = s->area_m2;
    d->area_mu = s->area_m2 / 666.67;
    d->area_ha = s->area_m2 / 10000;
    d->lon = s->lon;
    d->lat = s->lat;
    snprintf(d->lon_dms, sizeof(d->lon_dms), "115°07′24.44″E");
    snprintf(d->lat_dms, sizeof(d->lat_dms), "28°34′00.00″N");
    d->confidence = 0.875;
    snprintf(d->basis, sizeof(d->basis),
             "植被指数下降且裸土指数上升 (NDVI drop, BSI rise)");
    snprintf(d->city, sizeof(d->city), "%s", r->city);
    snprintf(d->county, sizeof(d->county), "%s", r->county);
    snprintf(d->before_date, sizeof(d->before_date), "2023-11-02");
    snprintf(d->after_date, sizeof(d->after_date), "2024-11-05");
}

static void add_reserve(rw_check_reserve *r, const char *id, const char *name,
                        const char *city, const char *county,
                        const item_spec *specs, size_t n)
{
    snprintf(r->reserve_id, sizeof(r->reserve_id), "%s", id);
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(r->city, sizeof(r->city), "%s", city);
    snprintf(r->county, sizeof(r->county), "%s", county);
    snprintf(r->dir_name, sizeof(r->dir_name), "%s_%s", id, name);
    r->n = n;
    r->items = n ? calloc(n, sizeof(*r->items)) : NULL;
    for (size_t i = 0; i < n; i++)
        fill_item(&r->items[i], r, (int)i + 1, &specs[i]);
}

static const item_spec r01_items[] = {
    {"R01-0001", "核心区", "core", "mining", "采矿采砂(石)", "new", 115.123456,
     28.566667, 1234.5},
    {"R01-0002", "缓冲区", "buffer", "mining", "采矿采砂(石)", "expanded",
     115.2, 28.6, 800},
    {"R01-0003", "实验区", "experimental", "other", "其他人类活动", "known",
     115.25, 28.61, 300},
};
static const item_spec r03_items[] = {
    {"R03-0001", "核心区", "core", "tourism", "核心区缓冲区内旅游设施", "new",
     115.98, 29.59, 500},
};

static void write_png(const char *path)
{
    png_image img;
    unsigned char px[6 * 8 * 3];
    for (size_t i = 0; i < sizeof(px); i++)
        px[i] = (unsigned char)(i * 7);
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    img.width = 8;
    img.height = 6;
    img.format = PNG_FORMAT_RGB;
    assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

static int setup(void **state)
{
    (void)state;
    char chips[600];
    rw_error err;
    rw_error_clear(&err);
    if (!mkdtemp(tmp_dir))
        return -1;
    cl = calloc(1, sizeof(*cl));
    cl->year = 2024;
    cl->nreserves = 3;
    cl->reserves = calloc(3, sizeof(*cl->reserves));
    add_reserve(&cl->reserves[0], "R01", "官山国家级自然保护区", "宜春市",
                "宜丰县", r01_items, 3);
    add_reserve(&cl->reserves[1], "R02", "潭山县级自然保护区", "宜春市", "袁州区",
                NULL, 0);
    add_reserve(&cl->reserves[2], "R03", "庐山国家级自然保护区", "九江市",
                "庐山市", r03_items, 1);

    snprintf(r01_dir, sizeof(r01_dir), "%s/R01", tmp_dir);
    snprintf(chips, sizeof(chips), "%s/chips", r01_dir);
    if (mkdir(r01_dir, 0700) != 0 || mkdir(chips, 0700) != 0)
        return -1;
    /* only the before chip of the first point: the others are missing */
    char rel[256];
    if (rw_checklist_chip_path("R01-0001", RW_CHIP_BEFORE, rel, sizeof(rel),
                               &err) != RW_OK)
        return -1;
    snprintf(chip_png, sizeof(chip_png), "%s/%s", r01_dir, rel);
    write_png(chip_png);

    snprintf(r01_xlsx, sizeof(r01_xlsx), "%s/核查清单.xlsx", r01_dir);
    snprintf(r02_xlsx, sizeof(r02_xlsx), "%s/R02_核查清单.xlsx", tmp_dir);
    snprintf(city_xlsx, sizeof(city_xlsx), "%s/宜春市_问题清单.xlsx", tmp_dir);
    if (rw_checklist_write_reserve_xlsx(cl, &cl->reserves[0], r01_dir, r01_xlsx,
                                        &err) != RW_OK ||
        rw_checklist_write_reserve_xlsx(cl, &cl->reserves[1], tmp_dir, r02_xlsx,
                                        &err) != RW_OK ||
        rw_checklist_write_city_xlsx(cl, "宜春市", city_xlsx, &err) != RW_OK) {
        fprintf(stderr, "setup: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rw_checklist_destroy(cl);
    if (getenv("RW_KEEP_TMP")) { /* to open the files in a spreadsheet */
        fprintf(stderr, "kept %s\n", tmp_dir);
        return 0;
    }
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- reading the XLSX back -------------------------------------------- */

/* A zip member as a NUL-terminated string; NULL when missing. */
static char *read_member(const char *xlsx, const char *member, size_t *size)
{
    char vsi[1024];
    snprintf(vsi, sizeof(vsi), "/vsizip/%s/%s", xlsx, member);
    VSILFILE *fp = VSIFOpenL(vsi, "rb");
    if (!fp)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap + 1);
    while ((got = VSIFReadL(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, (cap *= 2) + 1);
    }
    VSIFCloseL(fp);
    buf[n] = '\0';
    if (size)
        *size = n;
    return buf;
}

static bool member_exists(const char *xlsx, const char *member)
{
    char *s = read_member(xlsx, member, NULL);
    free(s);
    return s != NULL;
}

/* A sheet with its shared strings. */
typedef struct sheet {
    char *xml, *sst, *styles;
    const char *strings[256];
    int nstrings;
} sheet;

static void sheet_load(sheet *s, const char *xlsx, int index)
{
    char member[64];
    memset(s, 0, sizeof(*s));
    snprintf(member, sizeof(member), "xl/worksheets/sheet%d.xml", index);
    s->xml = read_member(xlsx, member, NULL);
    s->sst = read_member(xlsx, "xl/sharedStrings.xml", NULL);
    s->styles = read_member(xlsx, "xl/styles.xml", NULL);
    assert_non_null(s->xml);
    assert_non_null(s->sst);
    assert_non_null(s->styles);
    /* <si><t>text</t></si> in index order; cut in place */
    for (char *p = strstr(s->sst, "<si>"); p && s->nstrings < 256;
         p = strstr(p, "<si>")) {
        char *t = strchr(strstr(p, "<t"), '>') + 1;
        char *e = strstr(t, "</t>");
        *e = '\0';
        s->strings[s->nstrings++] = t;
        p = e + 1;
    }
}

static void sheet_free(sheet *s)
{
    free(s->xml);
    free(s->sst);
    free(s->styles);
}

/* The <c> element of a cell such as "B3", or NULL. */
static const char *cell_elem(const sheet *s, const char *ref)
{
    char pat[32];
    const size_t n = (size_t)snprintf(pat, sizeof(pat), "<c r=\"%s\"", ref);
    for (const char *p = strstr(s->xml, pat); p; p = strstr(p + 1, pat))
        if (p[n] == ' ' || p[n] == '>' || p[n] == '/')
            return p;
    return NULL;
}

/* The text of a cell: a shared string, or the raw <v> of a number. The
 * result lives until the next call. NULL when the cell has no value. */
static const char *cell(const sheet *s, int col, int row)
{
    static char value[256];
    char ref[16];
    snprintf(ref, sizeof(ref), "%c%d", 'A' + col, row);
    if (col >= 26)
        snprintf(ref, sizeof(ref), "A%c%d", 'A' + col - 26, row);
    const char *c = cell_elem(s, ref);
    if (!c)
        return NULL;
    const char *end = strstr(c, "</c>"), *close = strstr(c, "/>");
    const char *v = strstr(c, "<v>");
    if (!v || !end || (close && close < v))
        return NULL;
    v += 3;
    const size_t n = (size_t)(strstr(v, "</v>") - v);
    snprintf(value, sizeof(value), "%.*s", (int)n, v);
    const char *t = strstr(c, " t=\"s\"");
    if (t && t < end) {
        const int i = atoi(value);
        assert_true(i >= 0 && i < s->nstrings);
        return s->strings[i];
    }
    return value;
}

/* Column index (0-based) of text in a row, or -1. */
static int find_col(const sheet *s, int row, const char *text)
{
    for (int c = 0; c < 40; c++) {
        const char *v = cell(s, c, row);
        if (v && strcmp(v, text) == 0)
            return c;
    }
    return -1;
}

/* First row (1-based) at or after from whose column col reads text, or -1. */
static int find_row(const sheet *s, int col, int from, const char *text)
{
    for (int r = from; r < 200; r++) {
        const char *v = cell(s, col, r);
        if (v && strcmp(v, text) == 0)
            return r;
    }
    return -1;
}

static bool row_exists(const sheet *s, int row)
{
    char pat[32];
    snprintf(pat, sizeof(pat), "<row r=\"%d\"", row);
    return strstr(s->xml, pat) != NULL;
}

/* The number format code of a cell's style ("General" when none). */
static void cell_num_format(const sheet *s, int col, int row, char *buf,
                            size_t size)
{
    char ref[16];
    snprintf(ref, sizeof(ref), "%c%d", 'A' + col, row);
    const char *c = cell_elem(s, ref);
    assert_non_null(c);
    const char *sa = strstr(c, " s=\"");
    assert_true(sa && sa < strchr(c, '>'));
    int xf = atoi(sa + 4);
    const char *p = strstr(s->styles, "<cellXfs");
    assert_non_null(p);
    for (int i = 0; i <= xf; i++) {
        p = strstr(p + 1, "<xf ");
        assert_non_null(p);
    }
    const int id = atoi(strstr(p, "numFmtId=\"") + 10);
    char pat[48];
    snprintf(pat, sizeof(pat), "<numFmt numFmtId=\"%d\" formatCode=\"", id);
    const char *f = strstr(s->styles, pat);
    if (!f) {
        snprintf(buf, size, "General");
        return;
    }
    f += strlen(pat);
    snprintf(buf, size, "%.*s", (int)(strchr(f, '"') - f), f);
}

/* ---- 附件1 -------------------------------------------------------------- */

static void test_reserve_title_headers_rows(void **state)
{
    (void)state;
    sheet s;
    sheet_load(&s, r01_xlsx, 1);
    const char *title = cell(&s, 0, 1);
    assert_non_null(title);
    assert_non_null(strstr(title, "官山国家级自然保护区问题排查核查清单"));
    assert_non_null(strstr(title, "2024年"));
    assert_non_null(strstr(s.xml, "<mergeCell ref=\"A1:AB1\"/>"));
    for (size_t i = 0; i < NRESERVE_HEADERS; i++)
        assert_string_equal(cell(&s, (int)i, 2), reserve_headers[i]);
    assert_null(cell(&s, (int)NRESERVE_HEADERS, 2));
    /* three points in the given order, nothing after */
    assert_string_equal(cell(&s, 0, 3), "1");
    assert_string_equal(cell(&s, 1, 3), "R01-0001");
    assert_string_equal(cell(&s, 1, 4), "R01-0002");
    assert_string_equal(cell(&s, 1, 5), "R01-0003");
    assert_string_equal(cell(&s, 0, 5), "3");
    assert_false(row_exists(&s, 6));
    assert_string_equal(cell(&s, 2, 3), "官山国家级自然保护区");
    assert_string_equal(cell(&s, 3, 3), "核心区");
    assert_string_equal(cell(&s, 4, 3), "采矿采砂(石)");
    assert_string_equal(cell(&s, 17, 3), "新增");
    assert_string_equal(cell(&s, 17, 4), "扩大");
    assert_string_equal(cell(&s, 17, 5), "已知");
    /* frozen below the header, filter on it, A4 landscape 1 page wide */
    assert_non_null(strstr(s.xml, "ySplit=\"2\""));
    assert_non_null(strstr(s.xml, "<autoFilter ref=\"A2:AB5\"/>"));
    assert_non_null(strstr(s.xml, "paperSize=\"9\""));
    assert_non_null(strstr(s.xml, "orientation=\"landscape\""));
    assert_non_null(strstr(s.xml, "fitToHeight=\"0\""));
    sheet_free(&s);
}

static void test_reserve_coordinates(void **state)
{
    (void)state;
    sheet s;
    char fmt[32];
    sheet_load(&s, r01_xlsx, 1);
    const int lon = find_col(&s, 2, "经度"), lat = find_col(&s, 2, "纬度");
    const int area = find_col(&s, 2, "面积(平方米)");
    assert_true(lon >= 0 && lat >= 0 && area >= 0);
    assert_string_equal(cell(&s, lon, 3), "115.123456");
    cell_num_format(&s, lon, 3, fmt, sizeof(fmt));
    assert_string_equal(fmt, "0.000000");
    assert_string_equal(cell(&s, lat, 3), "28.566667");
    cell_num_format(&s, lat, 3, fmt, sizeof(fmt));
    assert_string_equal(fmt, "0.000000");
    assert_string_equal(cell(&s, area, 3), "1234.5");
    cell_num_format(&s, area, 3, fmt, sizeof(fmt));
    assert_string_equal(fmt, "0.00");
    assert_string_equal(cell(&s, lon + 2, 3), "115°07′24.44″E");
    sheet_free(&s);
}

static void test_reserve_chip_embedded(void **state)
{
    (void)state;
    sheet s;
    size_t n = 0;
    char anchor[96];
    sheet_load(&s, r01_xlsx, 1);
    const int before = find_col(&s, 2, "前时相影像");
    assert_true(before >= 0);
    /* the one chip on disk is embedded byte for byte, the missing ones are
     * skipped */
    char *media = read_member(r01_xlsx, "xl/media/image1.png", &n);
    assert_non_null(media);
    FILE *fp = fopen(chip_png, "rb");
    assert_non_null(fp);
    char orig[4096];
    const size_t on = fread(orig, 1, sizeof(orig), fp);
    fclose(fp);
    assert_int_equal(n, on);
    assert_memory_equal(media, orig, on);
    free(media);
    assert_false(member_exists(r01_xlsx, "xl/media/image2.png"));
    /* anchored in the first point's 前时相影像 cell, row tall enough */
    char *drawing = read_member(r01_xlsx, "xl/drawings/drawing1.xml", NULL);
    assert_non_null(drawing);
    snprintf(anchor, sizeof(anchor), "<xdr:from><xdr:col>%d</xdr:col>", before);
    assert_non_null(strstr(drawing, anchor));
    assert_non_null(strstr(drawing, "<xdr:row>2</xdr:row>"));
    free(drawing);
    const char *row3 = strstr(s.xml, "<row r=\"3\"");
    assert_non_null(row3);
    assert_non_null(strstr(row3, "ht=\"100\""));
    assert_true(strstr(row3, "ht=\"100\"") < strstr(row3, ">"));
    sheet_free(&s);
}

static void test_reserve_stats_sheet(void **state)
{
    (void)state;
    sheet s;
    sheet_load(&s, r01_xlsx, 2);
    const int mining = find_row(&s, 0, 1, "采矿采砂(石)");
    const int total = find_row(&s, 0, 1, "合计");
    assert_true(mining > 0 && total > mining);
    assert_string_equal(cell(&s, 1, mining), "1"); /* core */
    assert_string_equal(cell(&s, 2, mining), "1"); /* buffer */
    assert_string_equal(cell(&s, 3, mining), "0"); /* experimental */
    assert_string_equal(cell(&s, 4, mining), "2");
    assert_string_equal(cell(&s, 4, total), "3");
    sheet_free(&s);
}

static void test_files_are_private(void **state)
{
    (void)state;
    const char *files[] = {r01_xlsx, r02_xlsx, city_xlsx};
    for (size_t i = 0; i < 3; i++) {
        struct stat sb;
        char partial[1100];
        assert_int_equal(stat(files[i], &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        snprintf(partial, sizeof(partial), "%s.partial", files[i]);
        assert_int_not_equal(access(partial, F_OK), 0);
    }
}

static void test_empty_reserve(void **state)
{
    (void)state;
    sheet s;
    sheet_load(&s, r02_xlsx, 1);
    assert_non_null(strstr(cell(&s, 0, 1), "潭山县级自然保护区"));
    for (size_t i = 0; i < NRESERVE_HEADERS; i++)
        assert_string_equal(cell(&s, (int)i, 2), reserve_headers[i]);
    assert_string_equal(cell(&s, 0, 3), "本期未发现需核查的点位");
    assert_non_null(strstr(s.xml, "<mergeCell ref=\"A3:AB3\"/>"));
    assert_false(row_exists(&s, 4));
    assert_false(member_exists(r02_xlsx, "xl/media/image1.png"));
    sheet_free(&s);
}

/* ---- 附件2 -------------------------------------------------------------- */

static void test_city_counts(void **state)
{
    (void)state;
    sheet s;
    sheet_load(&s, city_xlsx, 1);
    assert_non_null(strstr(cell(&s, 0, 1),
                           "宜春市江西省2023-2025年自然保护区专项行动问题清单"));
    const int head = find_row(&s, 0, 2, "保护区名称");
    assert_int_equal(head, 2);
    const int mining = find_col(&s, head, "采矿采砂(石)");
    const int other = find_col(&s, head, "其他人类活动");
    const int total = find_col(&s, head, "合计");
    assert_true(mining > 0 && other > mining && total == other + 1);
    const int r01 = find_row(&s, 0, head, "官山国家级自然保护区");
    const int r02 = find_row(&s, 0, head, "潭山县级自然保护区");
    const int sum = find_row(&s, 0, head, "合计");
    assert_int_equal(r01, head + 1);
    assert_int_equal(r02, head + 2);
    assert_int_equal(sum, head + 3);
    assert_int_equal(find_row(&s, 0, 1, "庐山国家级自然保护区"), -1);
    assert_string_equal(cell(&s, mining, r01), "2");
    assert_string_equal(cell(&s, other, r01), "1");
    assert_string_equal(cell(&s, total, r01), "3");
    assert_string_equal(cell(&s, total, r02), "0");
    assert_string_equal(cell(&s, mining, sum), "2");
    assert_string_equal(cell(&s, mining + 2, sum), "0"); /* tourism: R03 is 九江 */
    assert_string_equal(cell(&s, total, sum), "3");
    sheet_free(&s);
}

static void test_city_list(void **state)
{
    (void)state;
    sheet s;
    char pat[64];
    sheet_load(&s, city_xlsx, 1);
    const int head = find_row(&s, 0, 3, "序号");
    assert_true(head > 5);
    for (size_t i = 0; i < NCITY_HEADERS; i++)
        assert_string_equal(cell(&s, (int)i, head), city_headers[i]);
    assert_null(cell(&s, (int)NCITY_HEADERS, head));
    for (int i = 0; i < 3; i++) {
        char seq[16];
        snprintf(seq, sizeof(seq), "%d", i + 1);
        assert_string_equal(cell(&s, 0, head + 1 + i), seq);
        assert_string_equal(cell(&s, 1, head + 1 + i), r01_items[i].id);
        assert_string_equal(cell(&s, 2, head + 1 + i), "宜丰县");
    }
    assert_false(row_exists(&s, head + 4));
    assert_string_equal(cell(&s, 7, head + 1), "115.123456");
    assert_null(strstr(s.sst, "R03-0001"));
    assert_false(member_exists(city_xlsx, "xl/media/image1.png"));
    snprintf(pat, sizeof(pat), "ySplit=\"%d\"", head);
    assert_non_null(strstr(s.xml, pat));
    snprintf(pat, sizeof(pat), "<autoFilter ref=\"A%d:AA%d\"/>", head, head + 3);
    assert_non_null(strstr(s.xml, pat));
    assert_non_null(strstr(s.xml, "orientation=\"landscape\""));
    sheet_free(&s);
}

/* ---- failures ----------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    rw_error err;
    char path[1024], dir[256], chips[512], bad[1024];

    rw_error_clear(&err);
    snprintf(path, sizeof(path), "%s/missing/核查清单.xlsx", tmp_dir);
    assert_int_equal(rw_checklist_write_reserve_xlsx(cl, &cl->reserves[0],
                                                     r01_dir, path, &err),
                     RW_ERR_IO);
    assert_non_null(strstr(err.message, "missing/核查清单.xlsx"));

    /* a chip that is not a PNG: an error, and nothing left behind */
    rw_error_clear(&err);
    snprintf(dir, sizeof(dir), "%s/bad", tmp_dir);
    snprintf(chips, sizeof(chips), "%s/chips", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(chips, 0700), 0);
    snprintf(bad, sizeof(bad), "%s/R01-0002_after.png", chips);
    FILE *fp = fopen(bad, "wb");
    assert_non_null(fp);
    fputs("not a png", fp);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/核查清单.xlsx", dir);
    assert_int_equal(rw_checklist_write_reserve_xlsx(cl, &cl->reserves[0], dir,
                                                     path, &err),
                     RW_ERR_FORMAT);
    assert_non_null(strstr(err.message, "R01-0002_after.png"));
    assert_int_not_equal(access(path, F_OK), 0);
    strcat(path, ".partial");
    assert_int_not_equal(access(path, F_OK), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reserve_title_headers_rows),
        cmocka_unit_test(test_reserve_coordinates),
        cmocka_unit_test(test_reserve_chip_embedded),
        cmocka_unit_test(test_reserve_stats_sheet),
        cmocka_unit_test(test_files_are_private),
        cmocka_unit_test(test_empty_reserve),
        cmocka_unit_test(test_city_counts),
        cmocka_unit_test(test_city_list),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
