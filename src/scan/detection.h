/* A detection: one candidate patch with its field point, as the scan
 * emits it and the writers store it. Plain data, owned by the scan. */
#ifndef RW_DETECTION_H
#define RW_DETECTION_H

#include <stddef.h>

typedef struct rw_detection {
    char id[32];            /* stable point id, e.g. "R01-0007" */
    char reserve_id[64];
    char reserve_name[256]; /* UTF-8 Chinese */
    char zone[16];          /* 核心区 / 缓冲区 / 实验区 (the strictest majority zone) */
    double zone_fraction[3];/* share of the patch in experimental, buffer, core */
    char category[16];      /* mining industrial tourism hydropower other */
    char change[24];        /* veg_to_bare ... (dominant change class key) */
    char status[16];        /* new expanded known permitted */
    double area_m2, area_mu, area_ha; /* geodesic, CGCS2000 ellipsoid */
    double x, y;            /* field point in the analysis CRS */
    double lon, lat;        /* field point, EPSG:4490 */
    char lon_dms[32], lat_dms[32];
    double confidence;      /* 0..1 */
    char basis[512];        /* readable rule that fired, Chinese + English */
    char city[64], county[64];
    char before_date[64], after_date[16]; /* yyyy-mm-dd; several before dates joined by ';' */
    unsigned char *wkb;     /* patch polygon, analysis CRS, ISO WKB; owned */
    size_t wkb_size;
} rw_detection;

#endif
