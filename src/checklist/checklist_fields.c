/* The check list's fields, shared by the CSV, KML, HTML report and XLSX
 * writers: one table, so the files cannot drift apart; plus the small
 * lookups every writer needs. */
#include "checklist.h"

#include <stdio.h>
#include <string.h>

/* ---- the field table: CSV columns, KML ExtendedData, report cards ---- */

typedef enum field_kind {
    FIELD_SEQ,     /* it->seq */
    FIELD_RESERVE, /* r->name */
    FIELD_TEXT,    /* char array in rw_detection at offset */
    FIELD_LABEL,   /* const char * in rw_check_item at offset */
    FIELD_REAL,    /* double in rw_detection at offset, decimals */
    FIELD_STATUS   /* det.status key shown in Chinese */
} field_kind;

typedef struct field {
    const char *label; /* Chinese column header */
    const char *key;   /* English key (KML ExtendedData) */
    field_kind kind;
    size_t offset;
    int decimals;
} field;

#define DET(m) (offsetof(rw_check_item, det) + offsetof(rw_detection, m))

/* Decimals as detections.gpkg stores them: lon/lat 6, m² 2, 亩/ha 4,
 * confidence 3. */
static const field fields[] = {
    {"序号", "seq", FIELD_SEQ, 0, 0},
    {"点位编号", "id", FIELD_TEXT, DET(id), 0},
    {"保护区名称", "reserve_name", FIELD_RESERVE, 0, 0},
    {"功能区", "zone", FIELD_TEXT, DET(zone), 0},
    {"问题类型", "category", FIELD_LABEL, offsetof(rw_check_item, category_label), 0},
    {"变化类型", "change", FIELD_LABEL, offsetof(rw_check_item, change_label), 0},
    {"经度", "lon", FIELD_REAL, DET(lon), 6},
    {"纬度", "lat", FIELD_REAL, DET(lat), 6},
    {"经度(度分秒)", "lon_dms", FIELD_TEXT, DET(lon_dms), 0},
    {"纬度(度分秒)", "lat_dms", FIELD_TEXT, DET(lat_dms), 0},
    {"面积(平方米)", "area_m2", FIELD_REAL, DET(area_m2), 2},
    {"面积(亩)", "area_mu", FIELD_REAL, DET(area_mu), 4},
    {"面积(公顷)", "area_ha", FIELD_REAL, DET(area_ha), 4},
    {"前时相", "before_date", FIELD_TEXT, DET(before_date), 0},
    {"后时相", "after_date", FIELD_TEXT, DET(after_date), 0},
    {"判定依据", "basis", FIELD_TEXT, DET(basis), 0},
    {"置信度", "confidence", FIELD_REAL, DET(confidence), 3},
    {"状态", "status", FIELD_STATUS, 0, 0},
    {"所在市", "city", FIELD_TEXT, DET(city), 0},
    {"所在县(区)", "county", FIELD_TEXT, DET(county), 0},
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* det.status keys as the scan writes them (scan_patch.c). */
static const struct {
    const char *key, *label;
} status_labels[] = {
    {"new", "新增"},
    {"expanded", "扩大"},
    {"known", "已知"},
    {"permitted", "已许可"},
};

size_t rw_checklist_field_count(void) { return NFIELDS; }

const char *rw_checklist_field_label(size_t k)
{
    return k < NFIELDS ? fields[k].label : "";
}

const char *rw_checklist_field_key(size_t k)
{
    return k < NFIELDS ? fields[k].key : "";
}

/* The text of field k; numbers are formatted into buf and flagged, so the
 * CSV guards only text against formula injection. Never NULL. */
const char *rw_checklist_field_text(const rw_check_reserve *r,
                                    const rw_check_item *it, size_t k,
                                    char *buf, size_t size, bool *number)
{
    *number = false;
    if (k >= NFIELDS)
        return "";
    const field *f = &fields[k];
    const char *base = (const char *)it + f->offset;
    switch (f->kind) {
    case FIELD_SEQ:
        *number = true;
        snprintf(buf, size, "%d", it->seq);
        return buf;
    case FIELD_RESERVE:
        return r->name;
    case FIELD_TEXT:
        return base;
    case FIELD_LABEL: {
        const char *s;
        memcpy(&s, base, sizeof(s));
        return s ? s : "";
    }
    case FIELD_REAL: {
        double v;
        memcpy(&v, base, sizeof(v));
        *number = true;
        snprintf(buf, size, "%.*f", f->decimals, v);
        return buf;
    }
    case FIELD_STATUS:
        return rw_checklist_status_label(it->det.status);
    }
    return "";
}

const char *rw_checklist_status_label(const char *key)
{
    for (size_t s = 0; s < sizeof(status_labels) / sizeof(status_labels[0]); s++)
        if (strcmp(key, status_labels[s].key) == 0)
            return status_labels[s].label;
    return key;
}

/* Unknown keys count as other (the last row), never dropped. */
int rw_checklist_category_index(const char *key)
{
    for (int c = 0; c < RW_CATEGORY_COUNT; c++)
        if (strcmp(key, rw_category_key(c)) == 0)
            return c;
    return RW_CATEGORY_COUNT - 1;
}

/* ---- text helpers ----------------------------------------------------- */

/* XML 1.0 text and attribute values (also HTML): the five special
 * characters escaped, control bytes XML refuses dropped. */
void rw_checklist_put_xml(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (*p >= 0x20 || *p == '\t' || *p == '\n' || *p == '\r')
                fputc(*p, f);
        }
    }
}


void rw_checklist_put_field_rows(FILE *f, const rw_check_reserve *r,
                                 const rw_check_item *it,
                                 bool (*skip)(const char *key))
{
    char buf[64];
    bool number;
    for (size_t k = 0; k < NFIELDS; k++) {
        if (skip && skip(fields[k].key))
            continue;
        fputs("<tr><th>", f);
        rw_checklist_put_xml(f, fields[k].label);
        fputs("</th><td>", f);
        rw_checklist_put_xml(f, rw_checklist_field_text(r, it, k, buf, sizeof(buf), &number));
        fputs("</td></tr>\n", f);
    }
}
