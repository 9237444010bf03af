/* Process-wide set-up and version reporting. */
#include "core.h"

#include <gdal.h>
#include <geos_c.h>
#include <omp.h>
#include <png.h>
#include <proj.h>
#include <stdio.h>
#include "reproducible.h"

#include <cpl_conv.h>
#include <cpl_error.h>

void rw_global_init(void)
{
    GDALAllRegister();
    /* The library never prints: GDAL errors are read back with
     * CPLGetLastErrorMsg and reported through rw_error. */
    CPLSetErrorHandler(CPLQuietErrorHandler);
    /* Scenes are read once, window by window, by several threads with their
     * own handles: a modest shared block cache is enough and bounds memory. */
    GDALSetCacheMax64((GIntBig)256 * 1024 * 1024);
}

void rw_global_cleanup(void) { GDALDestroyDriverManager(); }

const char *rw_version(void) { return RW_VERSION_STRING; }

void rw_version_dependencies(char *buf, size_t size)
{
    const PJ_INFO pj = proj_info();
    snprintf(buf, size, "GDAL %s\nPROJ %s\nGEOS %s\nlibpng %s\nOpenMP %d",
             GDALVersionInfo("RELEASE_NAME"), pj.version, GEOSversion(),
             png_get_libpng_ver(NULL), _OPENMP);
}

#define GPKG_DATE_OPTION "OGR_CURRENT_DATE"

void rw_io_gpkg_date_fix(rw_gpkg_date *d)
{
    const char *old = CPLGetThreadLocalConfigOption(GPKG_DATE_OPTION, NULL);
    d->had = old != NULL;
    snprintf(d->saved, sizeof(d->saved), "%s", old ? old : "");
    CPLSetThreadLocalConfigOption(GPKG_DATE_OPTION, "2000-01-01T00:00:00.000Z");
}

void rw_io_gpkg_date_restore(const rw_gpkg_date *d)
{
    CPLSetThreadLocalConfigOption(GPKG_DATE_OPTION, d->had ? d->saved : NULL);
}
