/* The field team's point files for one reserve: points.csv (opens in
 * Excel/WPS), points.kml (Google Earth, 奥维, LocaSpace), points.gpx
 * (handheld GPS) and points_ovital.txt (奥维互动地图 text import). All carry
 * the same points: lon/lat in CGCS2000 (EPSG:4490) printed with 6
 * decimals, as in detections.gpkg. The field table below is shared with
 * the HTML report (checklist_report.c). */
#include "atomic.h"
#include "checklist.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-category styles (KML colour aabbggrr, GPX symbol) ----------- */

/* Rows in rw_category_key order: mining industrial tourism hydropower
 * other. */
static const struct {
    const char *kml_color; /* icon and outline, opaque */
    const char *kml_fill;  /* polygon fill, translucent */
    const char *gpx_sym;   /* Garmin symbol name */
} category_styles[RW_CATEGORY_COUNT] = {
    {"ff0000ff", "400000ff", "Flag, Red"},   /* red */
    {"ff00a5ff", "4000a5ff", "Pin, Red"},    /* orange */
    {"ffff00ff", "40ff00ff", "Flag, Green"}, /* magenta */
    {"ffff0000", "40ff0000", "Flag, Blue"},  /* blue */
    {"ff00ffff", "4000ffff", "Pin, Blue"},   /* yellow */
};

/* 奥维 splits a line at commas: text keeps them as full-width ， and line
 * breaks or other control bytes become spaces. */
static void ovital_put_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == ',')
            fputs("\xEF\xBC\x8C", f);
        else
            fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, f);
    }
}

static rw_status file_open(rw_atomic_file *af, const char *dir,
                           const char *name, rw_error *err)
{
    rw_status st = RW_OK;
    char path[4096];
    RW_CHECK(rw_format(path, sizeof(path), err, "%s/%s", dir, name));
    RW_CHECK(rw_atomic_open(af, path, err));
done:
    return st;
}

/* stdio keeps a failed write in the stream's error flag only. */
static rw_status file_commit(rw_atomic_file *af, rw_error *err)
{
    rw_status st = RW_OK;
    RW_FAIL_IF(af->fp && ferror(af->fp), err, RW_ERR_IO,
               "%s: cannot write", af->tmp);
    RW_CHECK(rw_atomic_commit(af, err));
done:
    return st;
}

/* ---- points.csv ------------------------------------------------------- */

static rw_status write_csv(const rw_check_reserve *r, const char *dir,
                           rw_error *err)
{
    rw_status st = RW_OK;
    rw_atomic_file af = {0};
    char buf[64];
    bool number;
    RW_CHECK(file_open(&af, dir, "points.csv", err));
    fputs("\xEF\xBB\xBF", af.fp);
    for (size_t k = 0; k < rw_checklist_field_count(); k++) {
        if (k > 0)
            fputc(',', af.fp);
        rw_csv_put_cell(af.fp, rw_checklist_field_label(k), false);
    }
    fputs("\r\n", af.fp);
    for (size_t i = 0; i < r->n; i++) {
        for (size_t k = 0; k < rw_checklist_field_count(); k++) {
            const char *s = rw_checklist_field_text(r, &r->items[i], k, buf,
                                                    sizeof(buf), &number);
            if (k > 0)
                fputc(',', af.fp);
            rw_csv_put_cell(af.fp, s, number);
        }
        fputs("\r\n", af.fp);
    }
    RW_CHECK(file_commit(&af, err));
done:
    rw_atomic_abort(&af);
    return st;
}

/* ---- points.kml ------------------------------------------------------- */

/* Converts between the analysis CRS and CGCS2000 lon/lat, longitude as X
 * on both sides whatever the CRS's declared axis order. */
static rw_status lonlat_transform(const char *analysis_wkt,
                                  OGRCoordinateTransformationH *out,
                                  rw_error *err)
{
    rw_status st = RW_OK;
    OGRSpatialReferenceH src = OSRNewSpatialReference(NULL);
    OGRSpatialReferenceH dst = OSRNewSpatialReference(NULL);
    RW_FAIL_IF(!src || !dst, err, RW_ERR_NOMEM, "cannot create a CRS");
    RW_FAIL_IF(!analysis_wkt ||
                   OSRSetFromUserInput(src, analysis_wkt) != OGRERR_NONE,
               err, RW_ERR_USAGE, "analysis CRS is missing or not a CRS");
    RW_FAIL_IF(OSRImportFromEPSG(dst, 4490) != OGRERR_NONE, err,
               RW_ERR_INTERNAL, "EPSG:4490 unknown to PROJ: %s",
               CPLGetLastErrorMsg());
    OSRSetAxisMappingStrategy(src, OAMS_TRADITIONAL_GIS_ORDER);
    OSRSetAxisMappingStrategy(dst, OAMS_TRADITIONAL_GIS_ORDER);
    *out = OCTNewCoordinateTransformation(src, dst);
    RW_FAIL_IF(!*out, err, RW_ERR_USAGE,
               "no transformation from the analysis CRS to EPSG:4490: %s",
               CPLGetLastErrorMsg());
done:
    OSRDestroySpatialReference(src);
    OSRDestroySpatialReference(dst);
    return st;
}

/* The patch polygon as KML geometry text in lon/lat; CPLFree it. */
static rw_status patch_kml(const rw_detection *d,
                           OGRCoordinateTransformationH ct, char **out,
                           rw_error *err)
{
    rw_status st = RW_OK;
    OGRGeometryH g = NULL;
    RW_FAIL_IF(!d->wkb || d->wkb_size == 0 || d->wkb_size > INT32_MAX, err,
               RW_ERR_INTERNAL, "point %s: no patch geometry", d->id);
    RW_FAIL_IF(OGR_G_CreateFromWkb(d->wkb, NULL, &g, (int)d->wkb_size) !=
                   OGRERR_NONE,
               err, RW_ERR_FORMAT, "point %s: patch geometry is not WKB",
               d->id);
    RW_FAIL_IF(OGR_G_Transform(g, ct) != OGRERR_NONE, err, RW_ERR_INPUT,
               "point %s: cannot transform the patch to EPSG:4490: %s",
               d->id, CPLGetLastErrorMsg());
    *out = OGR_G_ExportToKML(g, NULL);
    RW_FAIL_IF(!*out, err, RW_ERR_INTERNAL,
               "point %s: cannot write the patch as KML: %s", d->id,
               CPLGetLastErrorMsg());
done:
    if (g)
        OGR_G_DestroyGeometry(g);
    return st;
}

static void kml_put_styles(FILE *f)
{
    for (int c = 0; c < RW_CATEGORY_COUNT; c++) {
        fprintf(f, "<Style id=\"cat_%s\"><IconStyle><color>%s</color>"
                   "<scale>1.1</scale></IconStyle>"
                   "<LabelStyle><scale>0.8</scale></LabelStyle>"
                   "<LineStyle><color>%s</color><width>2</width></LineStyle>"
                   "<PolyStyle><color>%s</color><fill>1</fill>"
                   "<outline>1</outline></PolyStyle></Style>\n",
                rw_category_key(c), category_styles[c].kml_color,
                category_styles[c].kml_color, category_styles[c].kml_fill);
    }
}

/* The balloon: an HTML table of the fields and the true-colour chips. The
 * data is HTML-escaped, so the CDATA section cannot contain "]]>". */
static rw_status kml_put_description(FILE *f, const rw_check_reserve *r,
                                     const rw_check_item *it, rw_error *err)
{
    rw_status st = RW_OK;
    char chip[256];
    fputs("<description><![CDATA[<table border=\"1\" cellpadding=\"2\">", f);
    rw_checklist_put_field_rows(f, r, it, NULL);
    fputs("</table>", f);
    for (int kind = RW_CHIP_BEFORE; kind <= RW_CHIP_AFTER; kind++) {
        RW_CHECK(rw_checklist_chip_path(it->det.id, (rw_chip_kind)kind, chip,
                                        sizeof(chip), err));
        fputs("<img width=\"240\" src=\"", f);
        rw_checklist_put_xml(f, chip);
        fputs(kind == RW_CHIP_BEFORE ? "\" alt=\"前时相\"/>" : "\" alt=\"后时相\"/>",
              f);
    }
    fputs("]]></description>\n", f);
done:
    return st;
}

static void kml_put_extended(FILE *f, const rw_check_reserve *r,
                             const rw_check_item *it)
{
    char buf[64];
    bool number;
    fputs("<ExtendedData>", f);
    for (size_t k = 0; k < rw_checklist_field_count(); k++) {
        fprintf(f, "<Data name=\"%s\"><value>", rw_checklist_field_key(k));
        rw_checklist_put_xml(f, rw_checklist_field_text(r, it, k, buf,
                                                        sizeof(buf), &number));
        fputs("</value></Data>", f);
    }
    fputs("</ExtendedData>\n", f);
}

static void kml_put_placemark_head(FILE *f, const rw_check_item *it)
{
    fputs("<Placemark><name>", f);
    rw_checklist_put_xml(f, it->det.id);
    fprintf(f, "</name><styleUrl>#cat_%s</styleUrl>\n",
            rw_category_key(rw_checklist_category_index(it->det.category)));
}

static rw_status write_kml(const rw_checklist *cl, const rw_check_reserve *r,
                           const char *dir, rw_error *err)
{
    rw_status st = RW_OK;
    rw_atomic_file af = {0};
    OGRCoordinateTransformationH ct = NULL;
    char *geom = NULL;
    if (r->n > 0)
        RW_CHECK(lonlat_transform(cl->analysis_wkt, &ct, err));
    RW_CHECK(file_open(&af, dir, "points.kml", err));
    FILE *f = af.fp;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n<name>",
          f);
    rw_checklist_put_xml(f, r->name);
    fprintf(f, "</name>\n<description>%d年 人类活动遥感监测核查点位 "
               "(CGCS2000, EPSG:4490) 内部资料 注意保密</description>\n",
            cl->year);
    kml_put_styles(f);
    fputs("<Folder><name>点位</name>\n", f);
    for (size_t i = 0; i < r->n; i++) {
        const rw_check_item *it = &r->items[i];
        kml_put_placemark_head(f, it);
        RW_CHECK(kml_put_description(f, r, it, err));
        kml_put_extended(f, r, it);
        fprintf(f, "<Point><coordinates>%.6f,%.6f</coordinates></Point>"
                   "</Placemark>\n",
                it->det.lon, it->det.lat);
    }
    fputs("</Folder>\n<Folder><name>图斑</name>\n", f);
    for (size_t i = 0; i < r->n; i++) {
        const rw_check_item *it = &r->items[i];
        RW_CHECK(patch_kml(&it->det, ct, &geom, err));
        kml_put_placemark_head(f, it);
        fputs(geom, f);
        fputs("</Placemark>\n", f);
        CPLFree(geom);
        geom = NULL;
    }
    fputs("</Folder>\n</Document>\n</kml>\n", f);
    RW_CHECK(file_commit(&af, err));
done:
    CPLFree(geom);
    if (ct)
        OCTDestroyCoordinateTransformation(ct);
    rw_atomic_abort(&af);
    return st;
}

/* ---- points.gpx ------------------------------------------------------- */

static rw_status write_gpx(const rw_checklist *cl, const rw_check_reserve *r,
                           const char *dir, rw_error *err)
{
    rw_status st = RW_OK;
    rw_atomic_file af = {0};
    char desc[256];
    RW_CHECK(file_open(&af, dir, "points.gpx", err));
    FILE *f = af.fp;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
          "<gpx version=\"1.1\" creator=\"reservewatch\" "
          "xmlns=\"http://www.topografix.com/GPX/1/1\">\n<metadata><name>",
          f);
    rw_checklist_put_xml(f, r->name);
    fprintf(f, "</name><desc>%d年 核查点位 CGCS2000</desc></metadata>\n",
            cl->year);
    for (size_t i = 0; i < r->n; i++) {
        const rw_check_item *it = &r->items[i];
        const int c = rw_checklist_category_index(it->det.category);
        /* GPX 1.1 fixes the element order: name, desc, sym, type */
        fprintf(f, "<wpt lat=\"%.6f\" lon=\"%.6f\"><name>", it->det.lat,
                it->det.lon);
        rw_checklist_put_xml(f, it->det.id);
        fputs("</name><desc>", f);
        snprintf(desc, sizeof(desc), "%s；%s；%.2f亩(%.0f平方米)",
                 it->category_label ? it->category_label : "", it->det.zone,
                 it->det.area_mu, it->det.area_m2);
        rw_checklist_put_xml(f, desc);
        fprintf(f, "</desc><sym>%s</sym><type>%s</type></wpt>\n",
                category_styles[c].gpx_sym, rw_category_key(c));
    }
    fputs("</gpx>\n", f);
    RW_CHECK(file_commit(&af, err));
done:
    rw_atomic_abort(&af);
    return st;
}

/* ---- points_ovital.txt ------------------------------------------------ */

/* practice.md fixes only longitude first, then latitude, in CGCS2000.
 * Assumed (keep here, in one place): comma-separated, no header line,
 * UTF-8 without BOM, CRLF, fields lon,lat,name,remark. */
static rw_status write_ovital(const rw_check_reserve *r, const char *dir,
                              rw_error *err)
{
    rw_status st = RW_OK;
    rw_atomic_file af = {0};
    char remark[256];
    RW_CHECK(file_open(&af, dir, "points_ovital.txt", err));
    for (size_t i = 0; i < r->n; i++) {
        const rw_check_item *it = &r->items[i];
        fprintf(af.fp, "%.6f,%.6f,", it->det.lon, it->det.lat);
        ovital_put_text(af.fp, it->det.id);
        fputc(',', af.fp);
        snprintf(remark, sizeof(remark), "%s %s %.2f亩",
                 it->category_label ? it->category_label : "", it->det.zone,
                 it->det.area_mu);
        ovital_put_text(af.fp, remark);
        fputs("\r\n", af.fp);
    }
    RW_CHECK(file_commit(&af, err));
done:
    rw_atomic_abort(&af);
    return st;
}

rw_status rw_checklist_write_gps(const rw_checklist *cl,
                                 const rw_check_reserve *r,
                                 const char *reserve_dir, rw_error *err)
{
    rw_status st = RW_OK;
    RW_CHECK(write_csv(r, reserve_dir, err));
    RW_CHECK(write_kml(cl, r, reserve_dir, err));
    RW_CHECK(write_gpx(cl, r, reserve_dir, err));
    RW_CHECK(write_ovital(r, reserve_dir, err));
done:
    return st;
}
