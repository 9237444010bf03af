/* Test helper shared by the unit tests that write files: removes a
 * scratch tree made with mkdtemp. */
#ifndef RW_TEST_FS_H
#define RW_TEST_FS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static inline void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (dir == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    char child[2048];
    while ((e = readdir(dir)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            const int n = snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
            if (n > 0 && (size_t)n < sizeof(child))
                remove_tree(child);
        }
    closedir(dir);
    rmdir(path);
}

#endif
