/* Shared pieces of the two XLSX forms (附件1 per reserve, 附件2 per city):
 * the workbook with its formats, the column table, the header and the row
 * writer. Internal to the checklist module. */
#ifndef RW_CHECKLIST_XLSX_H
#define RW_CHECKLIST_XLSX_H

#include "atomic.h"
#include "checklist.h"

#include <xlsxwriter.h>

/* Which form a column appears in (bit mask). */
#define RW_XLSX_FORM_RESERVE 1u
#define RW_XLSX_FORM_CITY 2u

/* Cell formats, created once per workbook. */
typedef enum rw_xlsx_fmt {
    RW_XF_TITLE,
    RW_XF_HEADER,       /* detector columns */
    RW_XF_HEADER_FIELD, /* columns the field team fills */
    RW_XF_TEXT,
    RW_XF_WRAP,
    RW_XF_INT,
    RW_XF_D2,
    RW_XF_D3,
    RW_XF_D4,
    RW_XF_D6,
    RW_XF_FIELD, /* empty cell to fill in: light fill */
    RW_XF_NOTE,  /* the "no points" row */
    RW_XF_COUNT_FMT
} rw_xlsx_fmt;

/* One workbook being written to path through an atomic temporary. */
typedef struct rw_xlsx {
    rw_atomic_file file;
    lxw_workbook *wb;
    lxw_format *fmt[RW_XF_COUNT_FMT];
    const char *path; /* final name, for messages */
    rw_error *err;
} rw_xlsx;

/* Turns a libxlsxwriter failure into RW_ERR_IO naming the file. Needs
 * `rw_status st` and `done:`. */
#define RW_XLSX_TRY(x, expr)                                                 \
    do {                                                                     \
        const lxw_error xlsx_e = (expr);                                     \
        if (xlsx_e != LXW_NO_ERROR)                                          \
            RW_FAIL((x)->err, RW_ERR_IO, "%s: %s", (x)->path,                \
                    lxw_strerror(xlsx_e));                                   \
    } while (0)

/* Creates path.partial (0600) and a workbook on it with every format and
 * the document's title and creation time (created: Unix time, 0 now). */
rw_status rw_checklist_xlsx_open(rw_xlsx *x, const char *path, const char *title,
                                 long long created, rw_error *err);

/* Writes the workbook and renames it into place. */
rw_status rw_checklist_xlsx_close(rw_xlsx *x);

/* Frees the workbook unwritten and removes the temporary; harmless after
 * close or on a zeroed struct. */
void rw_checklist_xlsx_abort(rw_xlsx *x);

/* Adds a worksheet; RW_ERR_IO on failure. */
rw_status rw_checklist_xlsx_sheet(rw_xlsx *x, const char *name,
                                  lxw_worksheet **ws);

/* Number of columns of a form. */
int rw_checklist_xlsx_ncols(unsigned form);

/* Title merged across the form's columns at row. */
rw_status rw_checklist_xlsx_title(rw_xlsx *x, lxw_worksheet *ws,
                                  unsigned form, lxw_row_t row,
                                  const char *title);

/* Column widths of the form and its header row at row. */
rw_status rw_checklist_xlsx_header(rw_xlsx *x, lxw_worksheet *ws,
                                   unsigned form, lxw_row_t row);

/* One point at row with 序号 seq. reserve_dir: where chips/ lives (chips
 * embedded when the file exists), NULL for no chips. */
rw_status rw_checklist_xlsx_item(rw_xlsx *x, lxw_worksheet *ws, unsigned form,
                                 lxw_row_t row, int seq,
                                 const rw_check_item *it,
                                 const char *reserve_dir);

/* After a list of nitems rows below header_row: the "no points" row when
 * it is empty, the header frozen, the autofilter on it. */
rw_status rw_checklist_xlsx_finish_list(rw_xlsx *x, lxw_worksheet *ws,
                                        unsigned form, lxw_row_t header_row,
                                        size_t nitems);

#endif
