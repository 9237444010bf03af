/* The two XLSX forms of the province's plan: 附件1 《XX自然保护区问题排查
 * 情况处理表》 per reserve (核查清单.xlsx, with before/after chips) and
 * 附件2 《XX市江西省2023-2025年自然保护区专项行动问题清单》 per city.
 * Both lay out the same columns through checklist_xlsx_sheet.c. */
#include "checklist_xlsx.h"

#include <stdlib.h>
#include <string.h>

#define CAMPAIGN "江西省2023-2025年自然保护区专项行动"

static const char *const zone_keys[3] = {"core", "buffer", "experimental"};
static const char *const zone_labels[3] = {"核心区", "缓冲区", "实验区"};

static bool ends_with(const char *s, const char *tail)
{
    const size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* Category labels for column heads, in rw_category_key order. */
static void category_labels(const char *labels[RW_CATEGORY_COUNT])
{
    for (int c = 0; c < RW_CATEGORY_COUNT; c++)
        labels[c] = rw_category_label(c);
}

/* A row label in column 0, merged across span + 1 columns when span > 0
 * (Excel refuses to merge a single cell). */
static rw_status write_label(rw_xlsx *x, lxw_worksheet *ws, lxw_row_t row,
                             lxw_col_t span, const char *text, lxw_format *f)
{
    rw_status st = RW_OK;
    RW_XLSX_TRY(x, span ? worksheet_merge_range(ws, row, 0, row, span, text, f)
                        : worksheet_write_string(ws, row, 0, text, f));
done:
    return st;
}

/* A count table at row: a corner/column header row, one row per label
 * with its total, then a 合计 row of column totals. counts is nrows x
 * ncols, row-major. Row labels span label_span columns. *used: rows
 * written. */
static rw_status write_counts(rw_xlsx *x, lxw_worksheet *ws, lxw_row_t row,
                              int label_span, const char *corner,
                              const char *const *row_labels, int nrows,
                              const char *const *col_labels, int ncols,
                              const int *counts, lxw_row_t *used)
{
    rw_status st = RW_OK;
    const lxw_col_t c0 = (lxw_col_t)label_span; /* first count column */
    const lxw_col_t span = (lxw_col_t)(label_span - 1);
    const lxw_row_t total_row = row + 1 + (lxw_row_t)nrows;
    lxw_format *hf = x->fmt[RW_XF_HEADER], *nf = x->fmt[RW_XF_INT];
    int grand = 0;
    RW_CHECK(write_label(x, ws, row, span, corner, hf));
    for (int c = 0; c <= ncols; c++)
        RW_XLSX_TRY(x, worksheet_write_string(ws, row, c0 + (lxw_col_t)c,
                                              c < ncols ? col_labels[c] : "合计",
                                              hf));
    RW_XLSX_TRY(x, worksheet_set_row(ws, row, 30, NULL));
    RW_CHECK(write_label(x, ws, total_row, span, "合计", hf));
    for (int r = 0; r < nrows; r++) {
        const lxw_row_t rr = row + 1 + (lxw_row_t)r;
        int total = 0;
        RW_CHECK(write_label(x, ws, rr, span, row_labels[r],
                             x->fmt[RW_XF_WRAP]));
        for (int c = 0; c < ncols; c++) {
            const int v = counts[r * ncols + c];
            total += v;
            RW_XLSX_TRY(x, worksheet_write_number(ws, rr, c0 + (lxw_col_t)c,
                                                  v, nf));
        }
        RW_XLSX_TRY(x, worksheet_write_number(ws, rr, c0 + (lxw_col_t)ncols,
                                              total, nf));
        grand += total;
    }
    for (int c = 0; c < ncols; c++) {
        int total = 0;
        for (int r = 0; r < nrows; r++)
            total += counts[r * ncols + c];
        RW_XLSX_TRY(x, worksheet_write_number(ws, total_row,
                                              c0 + (lxw_col_t)c, total, nf));
    }
    RW_XLSX_TRY(x, worksheet_write_number(ws, total_row,
                                          c0 + (lxw_col_t)ncols, grand, nf));
    *used = (lxw_row_t)nrows + 2;
done:
    return st;
}

/* A4 landscape, 1 page wide, rows first..last repeated on every page. */
static rw_status page_setup(rw_xlsx *x, lxw_worksheet *ws,
                            lxw_row_t repeat_first, lxw_row_t repeat_last)
{
    rw_status st = RW_OK;
    worksheet_set_landscape(ws);
    worksheet_set_paper(ws, 9); /* A4 */
    worksheet_fit_to_pages(ws, 1, 0);
    worksheet_set_margins(ws, 0.4, 0.4, 0.6, 0.6); /* inches */
    worksheet_center_horizontally(ws);
    RW_XLSX_TRY(x, worksheet_repeat_rows(ws, repeat_first, repeat_last));
    /* point lists are confidential (保密): marked on every printed page */
    RW_XLSX_TRY(x, worksheet_set_header(ws, "&R内部资料 注意保密"));
    RW_XLSX_TRY(x, worksheet_set_footer(ws, "&C第 &P 页 共 &N 页"));
done:
    return st;
}

/* 统计: points of the reserve per category (rows) x zone (columns). */
static rw_status write_reserve_stats(rw_xlsx *x, const rw_check_reserve *r,
                                     const char *name)
{
    rw_status st = RW_OK;
    lxw_worksheet *ws = NULL;
    const char *rows[RW_CATEGORY_COUNT];
    int counts[RW_CATEGORY_COUNT * 3] = {0};
    char title[640];
    lxw_row_t used = 0;
    category_labels(rows);
    for (size_t i = 0; i < r->n; i++) {
        const rw_check_item *it = &r->items[i];
        const int c = rw_checklist_category_index(it->det.category);
        for (int z = 0; z < 3; z++)
            if (it->zone_key && strcmp(it->zone_key, zone_keys[z]) == 0)
                counts[c * 3 + z]++;
    }
    RW_CHECK(rw_checklist_xlsx_sheet(x, "统计", &ws));
    snprintf(title, sizeof(title), "%s 点位数: 问题类型 × 功能区", name);
    RW_XLSX_TRY(x, worksheet_merge_range(ws, 0, 0, 0, 4, title,
                                         x->fmt[RW_XF_TITLE]));
    RW_XLSX_TRY(x, worksheet_set_row(ws, 0, 36, NULL));
    RW_XLSX_TRY(x, worksheet_set_column(ws, 0, 0, 26, NULL));
    RW_XLSX_TRY(x, worksheet_set_column(ws, 1, 4, 10, NULL));
    RW_CHECK(write_counts(x, ws, 1, 1, "问题类型", rows, RW_CATEGORY_COUNT,
                          zone_labels, 3, counts, &used));
    RW_CHECK(page_setup(x, ws, 0, 1));
done:
    return st;
}

rw_status rw_checklist_write_reserve_xlsx(const rw_checklist *cl,
                                          const rw_check_reserve *r,
                                          const char *reserve_dir,
                                          const char *path, rw_error *err)
{
    rw_status st = RW_OK;
    rw_xlsx x;
    lxw_worksheet *ws = NULL;
    const unsigned form = RW_XLSX_FORM_RESERVE;
    const lxw_row_t header = 1;
    char name[512], title[1024];
    memset(&x, 0, sizeof(x));
    /* 附件1 names the reserve "XX自然保护区"; data names usually say so */
    snprintf(name, sizeof(name), "%s%s", r->name,
             strstr(r->name, "保护区") ? "" : "自然保护区");
    snprintf(title, sizeof(title), "%s · %s问题排查核查清单 (%d年)", CAMPAIGN,
             name, cl->year);
    RW_CHECK(rw_checklist_xlsx_open(&x, path, title, cl->created, err));
    RW_CHECK(rw_checklist_xlsx_sheet(&x, "核查清单", &ws));
    RW_CHECK(rw_checklist_xlsx_title(&x, ws, form, 0, title));
    RW_CHECK(rw_checklist_xlsx_header(&x, ws, form, header));
    for (size_t i = 0; i < r->n; i++)
        RW_CHECK(rw_checklist_xlsx_item(&x, ws, form, header + 1 + (lxw_row_t)i,
                                        r->items[i].seq, &r->items[i],
                                        reserve_dir));
    RW_CHECK(rw_checklist_xlsx_finish_list(&x, ws, form, header, r->n));
    RW_CHECK(page_setup(&x, ws, 0, header));
    RW_CHECK(write_reserve_stats(&x, r, name));
    RW_CHECK(rw_checklist_xlsx_close(&x));
done:
    rw_checklist_xlsx_abort(&x);
    return st;
}

/* The count table at the top of 附件2: reserves of the city x category.
 * *used: rows it took. */
static rw_status write_city_counts(rw_xlsx *x, lxw_worksheet *ws,
                                   const rw_checklist *cl, const char *city,
                                   lxw_row_t row, lxw_row_t *used)
{
    rw_status st = RW_OK;
    const char *cols[RW_CATEGORY_COUNT];
    const char **rows = NULL;
    int *counts = NULL;
    int n = 0;
    category_labels(cols);
    rows = rw_calloc(cl->nreserves + 1, sizeof(*rows), x->err);
    counts = rw_calloc((cl->nreserves + 1) * RW_CATEGORY_COUNT, sizeof(*counts),
                       x->err);
    RW_FAIL_IF(!rows || !counts, x->err, RW_ERR_NOMEM, "%s: count table",
               x->path);
    for (size_t r = 0; r < cl->nreserves; r++) {
        const rw_check_reserve *res = &cl->reserves[r];
        if (strcmp(res->city, city) != 0)
            continue;
        rows[n] = res->name;
        for (size_t i = 0; i < res->n; i++)
            counts[n * RW_CATEGORY_COUNT + rw_checklist_category_index(res->items[i].det.category)]++;
        n++;
    }
    /* the label spans 序号, 点位编号, 所在县(区): wide enough for names */
    RW_CHECK(write_counts(x, ws, row, 3, "保护区名称", rows, n, cols,
                          RW_CATEGORY_COUNT, counts, used));
done:
    free(rows);
    free(counts);
    return st;
}

rw_status rw_checklist_write_city_xlsx(const rw_checklist *cl,
                                       const char *city, const char *path,
                                       rw_error *err)
{
    rw_status st = RW_OK;
    rw_xlsx x;
    lxw_worksheet *ws = NULL;
    const unsigned form = RW_XLSX_FORM_CITY;
    char title[512];
    lxw_row_t used = 0, header = 0;
    size_t n = 0;
    memset(&x, 0, sizeof(x));
    snprintf(title, sizeof(title), "%s%s%s问题清单 (%d年)", city,
             ends_with(city, "市") ? "" : "市", CAMPAIGN, cl->year);
    RW_CHECK(rw_checklist_xlsx_open(&x, path, title, cl->created, err));
    RW_CHECK(rw_checklist_xlsx_sheet(&x, "问题清单", &ws));
    RW_CHECK(rw_checklist_xlsx_title(&x, ws, form, 0, title));
    RW_CHECK(write_city_counts(&x, ws, cl, city, 1, &used));
    header = 1 + used + 1; /* one empty row between table and list */
    RW_CHECK(rw_checklist_xlsx_header(&x, ws, form, header));
    for (size_t r = 0; r < cl->nreserves; r++) {
        const rw_check_reserve *res = &cl->reserves[r];
        if (strcmp(res->city, city) != 0)
            continue;
        for (size_t i = 0; i < res->n; i++, n++)
            RW_CHECK(rw_checklist_xlsx_item(&x, ws, form,
                                            header + 1 + (lxw_row_t)n,
                                            (int)n + 1, &res->items[i], NULL));
    }
    RW_CHECK(rw_checklist_xlsx_finish_list(&x, ws, form, header, n));
    RW_CHECK(page_setup(&x, ws, header, header));
    RW_CHECK(rw_checklist_xlsx_close(&x));
done:
    rw_checklist_xlsx_abort(&x);
    return st;
}
