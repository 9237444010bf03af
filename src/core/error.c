#include "core.h"

#include <stdio.h>
#include <string.h>

/* Indexed by rw_status; the values are pinned in reservewatch.h. */
static const char *const status_names[] = {
    [RW_OK] = "ok",
    [RW_ERR_USAGE] = "usage",
    [RW_ERR_IO] = "io",
    [RW_ERR_FORMAT] = "format",
    [RW_ERR_NOMEM] = "out of memory",
    [RW_ERR_INPUT] = "input",
    [RW_ERR_INTERNAL] = "internal",
    [RW_ERR_CANCELLED] = "cancelled",
};

void rw_error_clear(rw_error *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
}

const char *rw_status_name(rw_status status)
{
    if ((unsigned)status >= sizeof(status_names) / sizeof(status_names[0]))
        return "unknown";
    return status_names[status];
}

rw_status rw_error_set(rw_error *err, rw_status status, const char *file,
                       int line, const char *fmt, ...)
{
    if (err == NULL || err->status != RW_OK)
        return status;
    err->status = status;
    err->file = file;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}
