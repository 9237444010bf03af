/* Byte-reproducible GeoPackages: the GPKG driver stamps "now" into
 * gpkg_contents.last_change; pinning OGR_CURRENT_DATE (thread-local) for
 * the time of a write makes two runs on the same data give the same bytes. */
#ifndef RW_REPRODUCIBLE_H
#define RW_REPRODUCIBLE_H

#include <stdbool.h>

typedef struct rw_gpkg_date {
    char saved[64]; /* the thread's previous value */
    bool had;       /* whether it had one */
} rw_gpkg_date;

/* Pins the date for GeoPackages this thread writes until the restore. */
void rw_io_gpkg_date_fix(rw_gpkg_date *d);
void rw_io_gpkg_date_restore(const rw_gpkg_date *d);

#endif
