/* Reads a scan's detections.gpkg back into detection records: what the
 * check lists and later the ledger start from. */
#ifndef RW_DETECTIONS_READ_H
#define RW_DETECTIONS_READ_H

#include "core.h"
#include "detection.h"

/* Reads the `points` layer (every field of the shared column table) and
 * joins each point to its polygon in the `patches` layer by id (ISO WKB,
 * little-endian, analysis CRS). Records keep the file's order.
 * *analysis_wkt receives the patches layer's CRS as WKT (caller frees with
 * free()). Fails with RW_ERR_IO when path cannot be opened, RW_ERR_FORMAT
 * naming the file and the problem when a layer or field is missing, a
 * text value is too long, or a point has no patch. On success *out (may be
 * NULL when *n is 0) is owned by the caller: rw_io_detections_free. */
rw_status rw_io_read_detections(const char *path, rw_detection **out, size_t *n,
                                char **analysis_wkt, rw_error *err);

void rw_io_detections_free(rw_detection *d, size_t n);

#endif
