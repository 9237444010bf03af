/* The public field list of detections.gpkg (both layers) and points.csv,
 * as one table over rw_detection, shared by the writer and the reader so
 * the two cannot drift apart. */
#ifndef RW_DETECTIONS_COLUMNS_H
#define RW_DETECTIONS_COLUMNS_H

#include "detection.h"

#include <stddef.h>
#include <string.h>

typedef enum rw_det_kind { RW_DET_TEXT, RW_DET_REAL } rw_det_kind;

typedef struct rw_det_column {
    const char *name;
    rw_det_kind kind;
    size_t offset; /* of the member in rw_detection */
    size_t size;   /* text: capacity of the char array, to prove termination */
    int decimals;  /* real: fixed decimals, the same in the GeoPackage and CSV */
} rw_det_column;

/* lon/lat decimals: ~0.1 m on the ground, below any GNSS handset */
#define RW_DET_LONLAT_DECIMALS 6

#define RW_DET_NCOLUMNS 23
/* In public field order. */
extern const rw_det_column rw_det_columns[RW_DET_NCOLUMNS];

static inline const char *rw_det_column_text(const rw_detection *d, const rw_det_column *c)
{
    return (const char *)d + c->offset;
}

static inline char *rw_det_column_text_mut(rw_detection *d, const rw_det_column *c)
{
    return (char *)d + c->offset;
}

static inline double rw_det_column_real(const rw_detection *d, const rw_det_column *c)
{
    double v;
    memcpy(&v, (const char *)d + c->offset, sizeof(v));
    return v;
}

#endif
