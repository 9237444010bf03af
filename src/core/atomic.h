/* Output files that appear complete or not at all: written under a
 * temporary name beside the target with mode 0600 (check lists and point
 * files are confidential), synced, then renamed into place. */
#ifndef RW_ATOMIC_H
#define RW_ATOMIC_H

#include "core.h"

#include <stdio.h>

typedef struct rw_atomic_file {
    char path[4096]; /* final name */
    char tmp[4096];  /* path + ".partial" */
    FILE *fp;        /* open for writing on tmp; may be closed early, see below */
} rw_atomic_file;

/* Creates path.partial empty with mode 0600 whatever the umask (a stale
 * temporary of a crashed run is removed first; O_EXCL and O_NOFOLLOW refuse
 * anything planted in between) and opens f->fp on it. Libraries that write
 * by file name (libxlsxwriter) may fclose f->fp, set it to NULL and write
 * f->tmp themselves: fopen keeps the mode of an existing file. Fails with
 * RW_ERR_IO naming the file. */
rw_status rw_atomic_open(rw_atomic_file *f, const char *path, rw_error *err);

/* Flushes, syncs and closes the temporary and renames it to the final
 * name. On failure the temporary is removed and RW_ERR_IO names it. */
rw_status rw_atomic_commit(rw_atomic_file *f, rw_error *err);

/* Closes and removes the temporary; harmless after a commit or on a
 * zeroed struct, so cleanup code can always call it. */
void rw_atomic_abort(rw_atomic_file *f);

#endif
