/* The run manifest's building blocks: file hashes, a small JSON writer and
 * an atomic file write. The manifest is written last, so its presence
 * proves the outputs it lists are complete. */
#ifndef RW_MANIFEST_H
#define RW_MANIFEST_H

#include "core.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* SHA-256 of the file at path as 64 lowercase hex digits plus NUL, read in
 * 1 MiB blocks. size (may be NULL) receives the byte count. Fails with
 * RW_ERR_IO naming the file when it cannot be read. */
rw_status rw_io_sha256_file(const char *path, char hex[65], uint64_t *size,
                            rw_error *err);

/* A JSON document built front to back into a growing buffer, pretty-printed
 * with 2-space indentation and a final newline. Commas are placed by the
 * writer. The append calls return nothing: the first failure (no memory,
 * or a call out of place such as a key inside an array) is kept and
 * reported by rw_json_text / rw_json_write_atomic, and later calls are
 * ignored, so a document is built without a check per line. */
typedef struct rw_json rw_json;

rw_status rw_json_create(rw_json **out, rw_error *err);
void rw_json_destroy(rw_json *j);

void rw_json_begin_object(rw_json *j);
void rw_json_end_object(rw_json *j);
void rw_json_begin_array(rw_json *j);
void rw_json_end_array(rw_json *j);
/* Inside an object, each value is preceded by its key. */
void rw_json_key(rw_json *j, const char *key);
/* UTF-8 is copied as is; " \ and control characters are escaped. NULL
 * writes null. */
void rw_json_string(rw_json *j, const char *s);
/* The shortest of %.15g..%.17g that reads back as the same double. JSON has
 * no NaN or infinity: those write null. */
void rw_json_number(rw_json *j, double v);
/* Fixed decimals (0..17), e.g. areas in m² with 2; non-finite writes null. */
void rw_json_number_fixed(rw_json *j, double v, int decimals);
void rw_json_integer(rw_json *j, int64_t v);
void rw_json_bool(rw_json *j, bool v);
void rw_json_null(rw_json *j);

/* The finished document (borrowed, valid until the next call on j).
 * Fails with the first recorded failure, or RW_ERR_INTERNAL when the
 * document is empty or a container is still open. */
rw_status rw_json_text(const rw_json *j, const char **text, size_t *len,
                       rw_error *err);

/* Writes the finished document to path.partial (mode 0600), syncs it and
 * renames it to path. On failure path is untouched and the temporary is
 * removed; RW_ERR_IO names the file. */
rw_status rw_json_write_atomic(const rw_json *j, const char *path,
                               rw_error *err);

/* SHA-256 and size of a file, as a manifest entry shows them. */
typedef struct rw_file_hash {
    char hex[65];
    uint64_t size;
} rw_file_hash;

/* Hashes n files at once, one thread per file (threads: 0 for the OpenMP
 * default): scenes are hundreds of megabytes, and hashing them one after
 * another was the scan's largest serial step. Fails like
 * rw_io_sha256_file, naming the first failing file in path order. */
rw_status rw_io_sha256_files(const char *const *paths, size_t n, int threads,
                             rw_file_hash *out, rw_error *err);

/* Appends the entry {"name": name, "bytes": .., "sha256": ..} of a file
 * hashed beforehand. */
void rw_manifest_add_hash(rw_json *j, const char *name, const rw_file_hash *h);

/* Appends one manifest file entry, an object
 * {"name": name, "bytes": size, "sha256": hex}, for the file at path, at
 * the current position of j (an array element, or after a key). */
rw_status rw_manifest_add_file(rw_json *j, const char *path, const char *name,
                               rw_error *err);

#endif
