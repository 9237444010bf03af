/* Builds the check-list model from a scan's outputs: detections.gpkg, and
 * its manifest.json for the scenes and the list of scanned reserves. */
#ifndef RW_CHECKLIST_BUILD_H
#define RW_CHECKLIST_BUILD_H

#include "checklist.h"

/* Reads opt->detections (and manifest.json beside it unless both
 * opt->before and opt->after are given), keeps the points whose category,
 * status and reserve pass the options' filters, and groups them per
 * reserve in priority order. Every reserve the scan covered gets a list,
 * empty ones included. Fails with RW_ERR_USAGE for a bad filter value,
 * RW_ERR_INPUT when a requested reserve is unknown or a scene is missing,
 * and the reader's errors otherwise. */
rw_status rw_checklist_build(const rw_checklist_options *opt,
                             rw_checklist **out, rw_error *err);

#endif
