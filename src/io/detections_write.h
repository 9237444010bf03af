/* Writes the scan's detections as the two deliverables analysts open:
 * detections.gpkg (layers `patches` and `points`) and points.csv. */
#ifndef RW_DETECTIONS_WRITE_H
#define RW_DETECTIONS_WRITE_H

#include "core.h"
#include "detection.h"

/* Writes dir/detections.gpkg and dir/points.csv for the n detections d
 * (borrowed; n may be 0). dir must exist.
 *
 * detections.gpkg: layer `patches` (MultiPolygon from d[i].wkb, in the CRS
 * given by analysis_wkt) and layer `points` (POINT(lon lat), EPSG:4490,
 * longitude as X). Both carry the same 23 fields, in the order of the CSV
 * header: id reserve_id reserve_name zone category change status area_m2
 * area_mu area_ha lon lat lon_dms lat_dms confidence basis city county
 * before_date after_date frac_experimental frac_buffer frac_core.
 * Reals are rounded half up to fixed decimals (lon/lat 6, m² 2, 亩/ha 4,
 * confidence 3, zone fractions 4) so the GeoPackage and the CSV agree.
 * Two calls with the same input give byte-identical files.
 *
 * points.csv: UTF-8 with a BOM, CRLF line ends, RFC 4180 quoting, one
 * header line of the field names above, then one line per detection.
 *
 * Both files are written under hidden temporary names with mode 0600 and
 * renamed into place only when both are complete; on failure the
 * temporaries are removed and this call leaves neither final file (files
 * of an earlier run stay, except an old detections.gpkg when the CSV's
 * rename fails after the GeoPackage's succeeded). Fails with RW_ERR_IO
 * (message names the file) when a file cannot be written, RW_ERR_USAGE
 * when analysis_wkt is not a CRS, RW_ERR_INTERNAL when a record breaks the
 * scan's invariants (no or bad WKB, unterminated text, non-finite number). */
rw_status rw_io_write_detections(const char *dir, const char *analysis_wkt,
                                 const rw_detection *d, size_t n,
                                 rw_error *err);

#endif
