#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

rw_status rw_atomic_open(rw_atomic_file *f, const char *path, rw_error *err)
{
    rw_status st = RW_OK;
    int fd = -1;
    memset(f, 0, sizeof(*f));
    RW_CHECK(rw_format(f->path, sizeof(f->path), err, "%s", path));
    RW_CHECK(rw_format(f->tmp, sizeof(f->tmp), err, "%s.partial", path));
    (void)unlink(f->tmp);
    fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
              0600);
    RW_FAIL_IF(fd < 0, err, RW_ERR_IO, "%s: cannot create: %s", f->tmp,
               strerror(errno));
    RW_FAIL_IF(fchmod(fd, 0600) != 0, err, RW_ERR_IO,
               "%s: cannot set mode 0600: %s", f->tmp, strerror(errno));
    f->fp = fdopen(fd, "wb");
    RW_FAIL_IF(!f->fp, err, RW_ERR_IO, "%s: cannot open: %s", f->tmp,
               strerror(errno));
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    if (st != RW_OK) {
        if (f->tmp[0])
            (void)unlink(f->tmp);
        f->tmp[0] = '\0';
    }
    return st;
}

rw_status rw_atomic_commit(rw_atomic_file *f, rw_error *err)
{
    rw_status st = RW_OK;
    int fd = -1;
    if (f->fp) {
        FILE *fp = f->fp;
        f->fp = NULL;
        const bool ok = fflush(fp) == 0 && fsync(fileno(fp)) == 0;
        const int e = errno;
        const bool closed = fclose(fp) == 0;
        RW_FAIL_IF(!ok || !closed, err, RW_ERR_IO, "%s: cannot write: %s",
                   f->tmp, strerror(ok ? errno : e));
    } else {
        /* written by a library through the name: sync it here */
        fd = open(f->tmp, O_RDONLY | O_CLOEXEC);
        RW_FAIL_IF(fd < 0 || fsync(fd) != 0, err, RW_ERR_IO,
                   "%s: cannot sync: %s", f->tmp, strerror(errno));
    }
    RW_FAIL_IF(rename(f->tmp, f->path) != 0, err, RW_ERR_IO,
               "%s: cannot rename to %s: %s", f->tmp, f->path,
               strerror(errno));
    f->tmp[0] = '\0';
done:
    if (fd >= 0)
        close(fd);
    if (st != RW_OK)
        rw_atomic_abort(f);
    return st;
}

void rw_atomic_abort(rw_atomic_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
    }
    if (f->tmp[0])
        (void)unlink(f->tmp);
    f->tmp[0] = '\0';
}
