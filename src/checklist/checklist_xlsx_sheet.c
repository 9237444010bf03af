/* The XLSX building blocks both forms share: formats, the column table,
 * the row writer, count tables and print setup (checklist_xlsx.h). */
#include "checklist_xlsx.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

/* A chip is drawn CHIP_PX on its longer side in a cell a little larger:
 * column width in characters (Excel: pixels = 7 x width + 5) and row height
 * in points (pixels = points x 4 / 3). */
#define CHIP_PX 120.0
#define CHIP_COL_WIDTH 18.0 /* 131 px */
#define CHIP_ROW_PT 100.0   /* 133 px */
#define LINE_PT 13.5        /* one line of 10 pt text */
#define MIN_ROW_PT 20.0
#define MAX_ROW_PT 409.0    /* Excel's limit */

typedef enum xcol_value {
    XV_SEQ,      /* the 序号 passed in */
    XV_TEXT,     /* char array in rw_detection at offset */
    XV_LABEL,    /* const char * in rw_check_item at offset */
    XV_NUMBER,   /* double in rw_detection at offset */
    XV_STATUS,   /* det.status in Chinese */
    XV_CHIP,     /* chip image; offset is the rw_chip_kind */
    XV_FIELD     /* left empty for the field team */
} xcol_value;

typedef struct xcol {
    const char *header;
    double width; /* Excel characters */
    xcol_value value;
    rw_xlsx_fmt fmt;
    unsigned forms; /* RW_XLSX_FORM_* */
    size_t offset;
} xcol;

#define BOTH (RW_XLSX_FORM_RESERVE | RW_XLSX_FORM_CITY)
#define DET(f) offsetof(rw_detection, f)
#define ITEM(f) offsetof(rw_check_item, f)

/* The columns of 附件1 and 附件2 in order: the detector fills the first
 * ones, the field team the XV_FIELD ones. */
static const xcol columns[] = {
    {"序号", 5, XV_SEQ, RW_XF_INT, BOTH, 0},
    {"点位编号", 11, XV_TEXT, RW_XF_TEXT, BOTH, DET(id)},
    {"所在县(区)", 10, XV_TEXT, RW_XF_WRAP, RW_XLSX_FORM_CITY, DET(county)},
    {"保护区名称", 16, XV_TEXT, RW_XF_WRAP, BOTH, DET(reserve_name)},
    {"功能区", 7, XV_TEXT, RW_XF_TEXT, BOTH, DET(zone)},
    {"问题类型", 12, XV_LABEL, RW_XF_WRAP, BOTH, ITEM(category_label)},
    {"变化类型", 12, XV_LABEL, RW_XF_WRAP, BOTH, ITEM(change_label)},
    {"经度", 11.5, XV_NUMBER, RW_XF_D6, BOTH, DET(lon)},
    {"纬度", 10.5, XV_NUMBER, RW_XF_D6, BOTH, DET(lat)},
    {"经度(度分秒)", 16, XV_TEXT, RW_XF_TEXT, BOTH, DET(lon_dms)},
    {"纬度(度分秒)", 15, XV_TEXT, RW_XF_TEXT, BOTH, DET(lat_dms)},
    {"面积(平方米)", 11, XV_NUMBER, RW_XF_D2, BOTH, DET(area_m2)},
    {"面积(亩)", 9, XV_NUMBER, RW_XF_D4, BOTH, DET(area_mu)},
    {"面积(公顷)", 9, XV_NUMBER, RW_XF_D4, BOTH, DET(area_ha)},
    {"前时相", 11, XV_TEXT, RW_XF_WRAP, BOTH, DET(before_date)},
    {"后时相", 11, XV_TEXT, RW_XF_WRAP, BOTH, DET(after_date)},
    {"判定依据", 36, XV_TEXT, RW_XF_WRAP, BOTH, DET(basis)},
    {"置信度", 7, XV_NUMBER, RW_XF_D3, BOTH, DET(confidence)},
    {"状态", 7, XV_STATUS, RW_XF_TEXT, BOTH, 0},
    {"前时相影像", CHIP_COL_WIDTH, XV_CHIP, RW_XF_TEXT, RW_XLSX_FORM_RESERVE,
     RW_CHIP_BEFORE},
    {"后时相影像", CHIP_COL_WIDTH, XV_CHIP, RW_XF_TEXT, RW_XLSX_FORM_RESERVE,
     RW_CHIP_AFTER},
    {"核查日期", 11, XV_FIELD, RW_XF_FIELD, BOTH, 0},
    {"核查人", 9, XV_FIELD, RW_XF_FIELD, BOTH, 0},
    {"现状", 16, XV_FIELD, RW_XF_FIELD, BOTH, 0},
    {"变化原因", 16, XV_FIELD, RW_XF_FIELD, BOTH, 0},
    {"是否违法违规", 8, XV_FIELD, RW_XF_FIELD, BOTH, 0},
    {"整改措施", 18, XV_FIELD, RW_XF_FIELD, BOTH, 0},
    {"责任单位", 14, XV_FIELD, RW_XF_FIELD, BOTH, 0},
    {"备注", 14, XV_FIELD, RW_XF_FIELD, BOTH, 0},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

/* Format descriptions: font size, bold, wrap, centred, border, fill
 * (0: none), number format (NULL: general). */
static const struct {
    double size;
    bool bold, wrap, centre, border;
    lxw_color_t fill;
    const char *num;
    const char *font;
} format_spec[RW_XF_COUNT_FMT] = {
    [RW_XF_TITLE] = {16, true, true, true, false, 0, NULL, "黑体"},
    [RW_XF_HEADER] = {10, true, true, true, true, 0xDDEBF7, NULL, "宋体"},
    [RW_XF_HEADER_FIELD] = {10, true, true, true, true, 0xFFE699, NULL, "宋体"},
    [RW_XF_TEXT] = {10, false, false, true, true, 0, NULL, "宋体"},
    [RW_XF_WRAP] = {10, false, true, false, true, 0, NULL, "宋体"},
    [RW_XF_INT] = {10, false, false, true, true, 0, "0", "宋体"},
    [RW_XF_D2] = {10, false, false, false, true, 0, "0.00", "宋体"},
    [RW_XF_D3] = {10, false, false, false, true, 0, "0.000", "宋体"},
    [RW_XF_D4] = {10, false, false, false, true, 0, "0.0000", "宋体"},
    [RW_XF_D6] = {10, false, false, false, true, 0, "0.000000", "宋体"},
    [RW_XF_FIELD] = {10, false, true, false, true, 0xFFF9E5, NULL, "宋体"},
    [RW_XF_NOTE] = {12, false, false, true, true, 0, NULL, "宋体"},
};

static bool in_form(const xcol *c, unsigned form) { return (c->forms & form) != 0; }

rw_status rw_checklist_xlsx_open(rw_xlsx *x, const char *path, const char *title,
                                 long long created, rw_error *err)
{
    rw_status st = RW_OK;
    memset(x, 0, sizeof(*x));
    x->path = path;
    x->err = err;
    RW_CHECK(rw_atomic_open(&x->file, path, err));
    /* libxlsxwriter writes by name; fopen keeps the 0600 of the temporary */
    fclose(x->file.fp);
    x->file.fp = NULL;
    x->wb = workbook_new(x->file.tmp);
    RW_FAIL_IF(!x->wb, err, RW_ERR_NOMEM, "%s: cannot create workbook", path);
    /* libxlsxwriter copies the properties; its struct is not const-correct */
    char title_copy[1024], author[] = "reservewatch";
    snprintf(title_copy, sizeof(title_copy), "%s", title ? title : "");
    lxw_doc_properties props = {.title = title_copy, .author = author, .created = (time_t)created};
    RW_XLSX_TRY(x, workbook_set_properties(x->wb, &props));
    for (int i = 0; i < RW_XF_COUNT_FMT; i++) {
        lxw_format *f = workbook_add_format(x->wb);
        RW_FAIL_IF(!f, err, RW_ERR_NOMEM, "%s: cannot add a format", path);
        format_set_font_name(f, format_spec[i].font);
        format_set_font_size(f, format_spec[i].size);
        format_set_align(f, LXW_ALIGN_VERTICAL_CENTER);
        if (format_spec[i].bold)
            format_set_bold(f);
        if (format_spec[i].wrap)
            format_set_text_wrap(f);
        if (format_spec[i].centre)
            format_set_align(f, LXW_ALIGN_CENTER);
        if (format_spec[i].border)
            format_set_border(f, LXW_BORDER_THIN);
        if (format_spec[i].fill)
            format_set_bg_color(f, format_spec[i].fill);
        if (format_spec[i].num)
            format_set_num_format(f, format_spec[i].num);
        x->fmt[i] = f;
    }
done:
    if (st != RW_OK)
        rw_checklist_xlsx_abort(x);
    return st;
}

rw_status rw_checklist_xlsx_close(rw_xlsx *x)
{
    rw_status st = RW_OK;
    lxw_workbook *wb = x->wb;
    x->wb = NULL; /* workbook_close frees it whatever happens */
    RW_XLSX_TRY(x, workbook_close(wb));
    RW_CHECK(rw_atomic_commit(&x->file, x->err));
done:
    if (st != RW_OK)
        rw_checklist_xlsx_abort(x);
    return st;
}

void rw_checklist_xlsx_abort(rw_xlsx *x)
{
    if (x->wb)
        lxw_workbook_free(x->wb);
    x->wb = NULL;
    rw_atomic_abort(&x->file);
}

rw_status rw_checklist_xlsx_sheet(rw_xlsx *x, const char *name,
                                  lxw_worksheet **ws)
{
    rw_status st = RW_OK;
    *ws = workbook_add_worksheet(x->wb, name);
    RW_FAIL_IF(!*ws, x->err, RW_ERR_IO, "%s: cannot add worksheet %s",
               x->path, name);
done:
    return st;
}

int rw_checklist_xlsx_ncols(unsigned form)
{
    int n = 0;
    for (size_t c = 0; c < NCOLUMNS; c++)
        n += in_form(&columns[c], form);
    return n;
}

rw_status rw_checklist_xlsx_title(rw_xlsx *x, lxw_worksheet *ws,
                                  unsigned form, lxw_row_t row,
                                  const char *title)
{
    rw_status st = RW_OK;
    const lxw_col_t last = (lxw_col_t)(rw_checklist_xlsx_ncols(form) - 1);
    RW_XLSX_TRY(x, worksheet_merge_range(ws, row, 0, row, last, title,
                                         x->fmt[RW_XF_TITLE]));
    RW_XLSX_TRY(x, worksheet_set_row(ws, row, 36, NULL));
done:
    return st;
}

rw_status rw_checklist_xlsx_header(rw_xlsx *x, lxw_worksheet *ws,
                                   unsigned form, lxw_row_t row)
{
    rw_status st = RW_OK;
    lxw_col_t col = 0;
    for (size_t c = 0; c < NCOLUMNS; c++) {
        if (!in_form(&columns[c], form))
            continue;
        const rw_xlsx_fmt hf = columns[c].value == XV_FIELD
                                   ? RW_XF_HEADER_FIELD : RW_XF_HEADER;
        RW_XLSX_TRY(x, worksheet_set_column(ws, col, col, columns[c].width,
                                            NULL));
        RW_XLSX_TRY(x, worksheet_write_string(ws, row, col, columns[c].header,
                                              x->fmt[hf]));
        col++;
    }
    RW_XLSX_TRY(x, worksheet_set_row(ws, row, 30, NULL));
done:
    return st;
}

/* Display width in Excel characters: CJK and other non-ASCII count 2. */
static double text_width(const char *s)
{
    double w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x80)
            w += 1;
        else if ((*p & 0xC0) == 0xC0)
            w += 2;
    }
    return w;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* Pixel size of a PNG as libxlsxwriter places it: the IHDR size scaled to
 * 96 dpi by a pHYs chunk in pixels per metre, if any. Chunks are walked
 * up to the image data. */
static bool png_display_size(const char *path, double *w, double *h)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    unsigned char b[16], d[9];
    double dpi_x = 96, dpi_y = 96;
    bool ok = false;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    if (fread(b, 1, 8, fp) != 8 || memcmp(b, sig, 8) != 0)
        goto done;
    while (fread(b, 1, 8, fp) == 8 && memcmp(b + 4, "IDAT", 4) != 0 &&
           memcmp(b + 4, "IEND", 4) != 0) {
        const long len = (long)be32(b);
        long skip = len + 4; /* data and CRC */
        if (memcmp(b + 4, "IHDR", 4) == 0 && len >= 8) {
            if (fread(d, 1, 8, fp) != 8)
                goto done;
            *w = be32(d);
            *h = be32(d + 4);
            ok = *w > 0 && *h > 0;
            skip -= 8;
        } else if (memcmp(b + 4, "pHYs", 4) == 0 && len >= 9) {
            if (fread(d, 1, 9, fp) != 9)
                goto done;
            if (d[8] == 1 && be32(d) > 0 && be32(d + 4) > 0) {
                dpi_x = be32(d) * 0.0254;
                dpi_y = be32(d + 4) * 0.0254;
            }
            skip -= 9;
        }
        if (fseek(fp, skip, SEEK_CUR) != 0) {
            ok = false;
            goto done;
        }
    }
    *w *= 96 / dpi_x;
    *h *= 96 / dpi_y;
done:
    fclose(fp);
    return ok;
}

/* Embeds one chip scaled into the cell when its file exists. */
static rw_status put_chip(rw_xlsx *x, lxw_worksheet *ws, lxw_row_t row,
                          lxw_col_t col, const rw_check_item *it,
                          rw_chip_kind kind, const char *reserve_dir,
                          bool *placed)
{
    rw_status st = RW_OK;
    char rel[512], path[4096], alt[96];
    struct stat sb;
    double w = 0, h = 0;
    RW_CHECK(rw_checklist_chip_path(it->det.id, kind, rel, sizeof(rel), x->err));
    RW_CHECK(rw_format(path, sizeof(path), x->err, "%s/%s", reserve_dir, rel));
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        goto done; /* chips are optional */
    RW_FAIL_IF(!png_display_size(path, &w, &h), x->err, RW_ERR_FORMAT,
               "%s: not a readable PNG", path);
    snprintf(alt, sizeof(alt), "%s %s", it->det.id,
             kind == RW_CHIP_BEFORE ? "前时相" : "后时相");
    const double scale = CHIP_PX / (w > h ? w : h);
    lxw_image_options opt = {
        .x_offset = (int32_t)((CHIP_COL_WIDTH * 7 + 5 - w * scale) / 2),
        .y_offset = (int32_t)((CHIP_ROW_PT * 4 / 3 - h * scale) / 2),
        .x_scale = scale,
        .y_scale = scale,
        .object_position = LXW_OBJECT_MOVE_AND_SIZE,
        .description = alt,
    };
    RW_XLSX_TRY(x, worksheet_insert_image_opt(ws, row, col, path, &opt));
    *placed = true;
done:
    return st;
}

rw_status rw_checklist_xlsx_item(rw_xlsx *x, lxw_worksheet *ws, unsigned form,
                                 lxw_row_t row, int seq,
                                 const rw_check_item *it,
                                 const char *reserve_dir)
{
    rw_status st = RW_OK;
    bool chip = false;
    double lines = 1;
    lxw_col_t col = 0;
    for (size_t c = 0; c < NCOLUMNS; c++) {
        const xcol *k = &columns[c];
        if (!in_form(k, form))
            continue;
        lxw_format *f = x->fmt[k->fmt];
        const char *text = NULL;
        switch (k->value) {
        case XV_SEQ:
            RW_XLSX_TRY(x, worksheet_write_number(ws, row, col, seq, f));
            break;
        case XV_NUMBER: {
            const double v = *(const double *)((const char *)&it->det + k->offset);
            /* a NaN would make the sheet XML unreadable: leave it blank */
            RW_XLSX_TRY(x, isfinite(v) ? worksheet_write_number(ws, row, col, v, f)
                                       : worksheet_write_blank(ws, row, col, f));
            break;
        }
        case XV_TEXT:
            text = (const char *)&it->det + k->offset;
            break;
        case XV_LABEL:
            text = *(const char *const *)((const char *)it + k->offset);
            break;
        case XV_STATUS:
            text = rw_checklist_status_label(it->det.status);
            break;
        case XV_CHIP:
            RW_XLSX_TRY(x, worksheet_write_blank(ws, row, col, f));
            if (reserve_dir)
                RW_CHECK(put_chip(x, ws, row, col, it, (rw_chip_kind)k->offset,
                                  reserve_dir, &chip));
            break;
        case XV_FIELD:
            RW_XLSX_TRY(x, worksheet_write_blank(ws, row, col, f));
            break;
        }
        if (text) {
            RW_XLSX_TRY(x, worksheet_write_string(ws, row, col, text, f));
            if (k->fmt == RW_XF_WRAP) {
                const double n = ceil(text_width(text) / (k->width - 1));
                lines = n > lines ? n : lines;
            }
        }
        col++;
    }
    double height = lines * LINE_PT + 6;
    height = height < MIN_ROW_PT ? MIN_ROW_PT : height > MAX_ROW_PT ? MAX_ROW_PT : height;
    if (chip && height < CHIP_ROW_PT)
        height = CHIP_ROW_PT;
    RW_XLSX_TRY(x, worksheet_set_row(ws, row, height, NULL));
done:
    return st;
}

rw_status rw_checklist_xlsx_finish_list(rw_xlsx *x, lxw_worksheet *ws,
                                        unsigned form, lxw_row_t header_row,
                                        size_t nitems)
{
    rw_status st = RW_OK;
    const lxw_col_t last = (lxw_col_t)(rw_checklist_xlsx_ncols(form) - 1);
    if (nitems == 0) {
        RW_XLSX_TRY(x, worksheet_merge_range(ws, header_row + 1, 0,
                                             header_row + 1, last,
                                             "本期未发现需核查的点位",
                                             x->fmt[RW_XF_NOTE]));
        RW_XLSX_TRY(x, worksheet_set_row(ws, header_row + 1, 30, NULL));
    }
    worksheet_freeze_panes(ws, header_row + 1, 2);
    RW_XLSX_TRY(x, worksheet_autofilter(ws, header_row, 0,
                                        header_row + (lxw_row_t)nitems, last));
done:
    return st;
}
