/* Makes a large detections.gpkg from a real one, for the checklist's
 * thousands-of-points test and benchmark: every point is repeated COPIES
 * times with ids "<id>-<k>" (same patch, same coordinates).
 * usage: many_points IN.gpkg OUT_DIR COPIES */
#include "detections_read.h"
#include "detections_write.h"

#include <gdal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: many_points IN.gpkg OUT_DIR COPIES\n");
        return 2;
    }
    GDALAllRegister();
    rw_error err;
    rw_error_clear(&err);
    rw_detection *d = NULL, *many = NULL;
    size_t n = 0;
    char *wkt = NULL;
    const long copies = strtol(argv[3], NULL, 10); /* at most 9999 */
    int rc = 1;
    if (copies < 1 || copies > 9999 || rw_io_read_detections(argv[1], &d, &n, &wkt, &err) != RW_OK)
        goto done;
    many = calloc(n * (size_t)copies, sizeof(*many));
    if (!many)
        goto done;
    for (size_t i = 0; i < n; i++)
        for (long k = 0; k < copies; k++) {
            rw_detection *m = &many[i * (size_t)copies + (size_t)k];
            *m = d[i];
            snprintf(m->id, sizeof(m->id), "%.20s-%04d", d[i].id, (int)(k % 10000));
        }
    rc = rw_io_write_detections(argv[2], wkt, many, n * (size_t)copies, &err) == RW_OK ? 0 : 1;
done:
    if (rc)
        fprintf(stderr, "many_points: %s\n", err.message[0] ? err.message : "bad arguments");
    free(many); /* shares the polygons of d */
    rw_io_detections_free(d, n);
    free(wkt);
    return rc;
}
