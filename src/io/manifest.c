/* File hashes, the JSON writer and atomic writes for the run manifest. */
#include "manifest.h"
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_BLOCK ((size_t)1 << 20) /* bytes read per step: 1 MiB */
#define JSON_MAX_DEPTH 64            /* a manifest nests a handful of levels */
#define JSON_INDENT 2                /* spaces per level */

rw_status rw_io_sha256_file(const char *path, char hex[65], uint64_t *size,
                            rw_error *err)
{
    static const char digits[] = "0123456789abcdef";
    rw_status st = RW_OK;
    unsigned char *buf = NULL;
    EVP_MD_CTX *ctx = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    uint64_t total = 0;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    RW_FAIL_IF(fd < 0, err, RW_ERR_IO, "%s: cannot open: %s", path,
               strerror(errno));
    buf = rw_malloc(HASH_BLOCK, err);
    RW_FAIL_IF(buf == NULL, err, RW_ERR_NOMEM, "%s: no memory to hash", path);
    ctx = EVP_MD_CTX_new();
    RW_FAIL_IF(ctx == NULL, err, RW_ERR_NOMEM,
               "%s: no memory for a SHA-256 context", path);
    RW_FAIL_IF(EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1, err,
               RW_ERR_INTERNAL, "%s: SHA-256 is not available", path);
    for (;;) {
        const ssize_t got = read(fd, buf, HASH_BLOCK);
        if (got < 0 && errno == EINTR)
            continue;
        RW_FAIL_IF(got < 0, err, RW_ERR_IO, "%s: cannot read: %s", path,
                   strerror(errno));
        if (got == 0)
            break;
        RW_FAIL_IF(EVP_DigestUpdate(ctx, buf, (size_t)got) != 1, err,
                   RW_ERR_INTERNAL, "%s: SHA-256 update failed", path);
        total += (uint64_t)got;
    }
    RW_FAIL_IF(EVP_DigestFinal_ex(ctx, md, &md_len) != 1 || md_len != 32, err,
               RW_ERR_INTERNAL, "%s: SHA-256 final step failed", path);
    for (unsigned int i = 0; i < md_len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    if (size != NULL)
        *size = total;
done:
    EVP_MD_CTX_free(ctx);
    free(buf);
    if (fd >= 0)
        close(fd);
    return st;
}

/* ---- JSON writer -------------------------------------------------------- */

typedef struct json_level {
    char close;   /* '}' or ']' */
    size_t count; /* members (objects) or elements (arrays) so far */
} json_level;

struct rw_json {
    char *buf;  /* always NUL-terminated once allocated */
    size_t len, cap;
    json_level level[JSON_MAX_DEPTH];
    int depth;
    bool key_pending; /* a key was written and waits for its value */
    bool complete;    /* the top-level value is closed */
    rw_error err;     /* first failure; appends stop after it */
};

#define JSON_FAIL(j, status, ...)                                             \
    rw_error_set(&(j)->err, (status), __FILE__, __LINE__, __VA_ARGS__)

rw_status rw_json_create(rw_json **out, rw_error *err)
{
    rw_status st = RW_OK;
    rw_json *j = rw_calloc(1, sizeof(*j), err);
    RW_FAIL_IF(j == NULL, err, RW_ERR_NOMEM, "no memory for a JSON writer");
    j->cap = 4096;
    j->buf = rw_malloc(j->cap, err);
    RW_FAIL_IF(j->buf == NULL, err, RW_ERR_NOMEM,
               "no memory for a JSON writer");
    j->buf[0] = '\0';
    *out = j;
    j = NULL;
done:
    rw_json_destroy(j);
    return st;
}

void rw_json_destroy(rw_json *j)
{
    if (j == NULL)
        return;
    free(j->buf);
    free(j);
}

static void json_append(rw_json *j, const char *s, size_t n)
{
    if (j->err.status != RW_OK)
        return;
    if (j->len + n + 1 > j->cap) {
        size_t cap = j->cap;
        while (j->len + n + 1 > cap)
            cap *= 2;
        char *grown = realloc(j->buf, cap);
        if (grown == NULL) {
            JSON_FAIL(j, RW_ERR_NOMEM, "no memory for %zu bytes of JSON", cap);
            return;
        }
        j->buf = grown;
        j->cap = cap;
    }
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void json_puts(rw_json *j, const char *s) { json_append(j, s, strlen(s)); }

static void json_newline(rw_json *j, int depth)
{
    static const char spaces[] = "                                ";
    json_puts(j, "\n");
    for (int left = depth * JSON_INDENT; left > 0;) {
        const int step = left < (int)sizeof(spaces) - 1 ? left
                                                        : (int)sizeof(spaces) - 1;
        json_append(j, spaces, (size_t)step);
        left -= step;
    }
}

/* Comma and line break before the next member or element of the open
 * container. */
static void json_next_item(rw_json *j)
{
    json_level *l = &j->level[j->depth - 1];
    if (l->count++ > 0)
        json_puts(j, ",");
    json_newline(j, j->depth);
}

/* Places a value; false when it must not be written (earlier failure or
 * out of place). */
static bool json_before_value(rw_json *j)
{
    if (j->err.status != RW_OK)
        return false;
    if (j->depth == 0) {
        if (j->complete) {
            JSON_FAIL(j, RW_ERR_INTERNAL, "JSON: a second top-level value");
            return false;
        }
        return true;
    }
    if (j->level[j->depth - 1].close == '}') {
        if (!j->key_pending) {
            JSON_FAIL(j, RW_ERR_INTERNAL, "JSON: an object member without a key");
            return false;
        }
        j->key_pending = false;
        return true;
    }
    json_next_item(j);
    return j->err.status == RW_OK;
}

static void json_after_value(rw_json *j)
{
    if (j->depth == 0) {
        json_puts(j, "\n");
        j->complete = true;
    }
}

static void json_scalar(rw_json *j, const char *text)
{
    if (!json_before_value(j))
        return;
    json_puts(j, text);
    json_after_value(j);
}

static void json_quoted(rw_json *j, const char *s)
{
    json_puts(j, "\"");
    const char *run = s; /* start of bytes copied unchanged */
    for (; *s != '\0'; s++) {
        const unsigned char c = (unsigned char)*s;
        char esc[8];
        switch (c) {
        case '"': strcpy(esc, "\\\""); break;
        case '\\': strcpy(esc, "\\\\"); break;
        case '\b': strcpy(esc, "\\b"); break;
        case '\f': strcpy(esc, "\\f"); break;
        case '\n': strcpy(esc, "\\n"); break;
        case '\r': strcpy(esc, "\\r"); break;
        case '\t': strcpy(esc, "\\t"); break;
        default:
            if (c >= 0x20)
                continue; /* UTF-8 and printable ASCII stay in the run */
            snprintf(esc, sizeof(esc), "\\u%04x", c);
        }
        json_append(j, run, (size_t)(s - run));
        json_puts(j, esc);
        run = s + 1;
    }
    json_append(j, run, (size_t)(s - run));
    json_puts(j, "\"");
}

static void json_begin(rw_json *j, char open, char close)
{
    if (!json_before_value(j))
        return;
    if (j->depth == JSON_MAX_DEPTH) {
        JSON_FAIL(j, RW_ERR_INTERNAL, "JSON: more than %d levels",
                  JSON_MAX_DEPTH);
        return;
    }
    const char text[2] = {open, '\0'};
    json_puts(j, text);
    j->level[j->depth++] = (json_level){close, 0};
}

static void json_end(rw_json *j, char close)
{
    if (j->err.status != RW_OK)
        return;
    if (j->depth == 0 || j->level[j->depth - 1].close != close ||
        j->key_pending) {
        JSON_FAIL(j, RW_ERR_INTERNAL, "JSON: '%c' does not close the open %s",
                  close, j->key_pending ? "key" : "container");
        return;
    }
    const size_t count = j->level[--j->depth].count;
    if (count > 0)
        json_newline(j, j->depth);
    const char text[2] = {close, '\0'};
    json_puts(j, text);
    json_after_value(j);
}

void rw_json_begin_object(rw_json *j) { json_begin(j, '{', '}'); }
void rw_json_end_object(rw_json *j) { json_end(j, '}'); }
void rw_json_begin_array(rw_json *j) { json_begin(j, '[', ']'); }
void rw_json_end_array(rw_json *j) { json_end(j, ']'); }

void rw_json_key(rw_json *j, const char *key)
{
    if (j->err.status != RW_OK)
        return;
    if (j->depth == 0 || j->level[j->depth - 1].close != '}' ||
        j->key_pending || key == NULL) {
        JSON_FAIL(j, RW_ERR_INTERNAL, "JSON: key \"%s\" out of place",
                  key != NULL ? key : "(null)");
        return;
    }
    json_next_item(j);
    json_quoted(j, key);
    json_puts(j, ": ");
    j->key_pending = true;
}

void rw_json_string(rw_json *j, const char *s)
{
    if (s == NULL) {
        rw_json_null(j);
        return;
    }
    if (!json_before_value(j))
        return;
    json_quoted(j, s);
    json_after_value(j);
}

void rw_json_number(rw_json *j, double v)
{
    if (!isfinite(v)) {
        rw_json_null(j);
        return;
    }
    /* %.17g always reads back exactly; shorter forms keep 0.1 as 0.1 */
    char text[32];
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(text, sizeof(text), "%.*g", precision, v);
        if (strtod(text, NULL) == v)
            break;
    }
    json_scalar(j, text);
}

void rw_json_number_fixed(rw_json *j, double v, int decimals)
{
    if (decimals < 0 || decimals > 17) {
        JSON_FAIL(j, RW_ERR_INTERNAL, "JSON: %d decimals out of 0..17",
                  decimals);
        return;
    }
    if (!isfinite(v)) {
        rw_json_null(j);
        return;
    }
    char text[DBL_MAX_10_EXP + 32]; /* sign, 309 digits, point, 17 decimals */
    snprintf(text, sizeof(text), "%.*f", decimals, v);
    json_scalar(j, text);
}

void rw_json_integer(rw_json *j, int64_t v)
{
    char text[32];
    snprintf(text, sizeof(text), "%" PRId64, v);
    json_scalar(j, text);
}

void rw_json_bool(rw_json *j, bool v) { json_scalar(j, v ? "true" : "false"); }

void rw_json_null(rw_json *j) { json_scalar(j, "null"); }

rw_status rw_json_text(const rw_json *j, const char **text, size_t *len,
                       rw_error *err)
{
    rw_status st = RW_OK;
    if (j->err.status != RW_OK) {
        /* keep the file and line where the writer first failed */
        st = rw_error_set(err, j->err.status, j->err.file, j->err.line, "%s",
                          j->err.message);
        goto done;
    }
    RW_FAIL_IF(!j->complete, err, RW_ERR_INTERNAL,
               "JSON: the document is empty or a container is still open");
    *text = j->buf;
    if (len != NULL)
        *len = j->len;
done:
    return st;
}

rw_status rw_json_write_atomic(const rw_json *j, const char *path,
                               rw_error *err)
{
    rw_status st = RW_OK;
    rw_atomic_file f = {0};
    const char *text;
    size_t len;
    RW_CHECK(rw_json_text(j, &text, &len, err));
    /* 0600 whatever the umask: the manifest names confidential inputs */
    RW_CHECK(rw_atomic_open(&f, path, err));
    RW_FAIL_IF(fwrite(text, 1, len, f.fp) != len, err, RW_ERR_IO, "%s: cannot write: %s", f.tmp,
               strerror(errno));
    RW_CHECK(rw_atomic_commit(&f, err));
done:
    rw_atomic_abort(&f);
    return st;
}

rw_status rw_io_sha256_files(const char *const *paths, size_t n, int threads,
                             rw_file_hash *out, rw_error *err)
{
    rw_status *status = rw_calloc(n + 1, sizeof(*status), err);
    rw_error *errs = rw_calloc(n + 1, sizeof(*errs), err);
    rw_status st = status && errs ? RW_OK : RW_ERR_NOMEM;
    if (st != RW_OK)
        goto done;
#pragma omp parallel for schedule(dynamic) num_threads(threads > 0 ? threads : omp_get_max_threads())
    for (size_t i = 0; i < n; i++)
        status[i] = rw_io_sha256_file(paths[i], out[i].hex, &out[i].size, &errs[i]);
    for (size_t i = 0; i < n && st == RW_OK; i++)
        if (status[i] != RW_OK) {
            *err = errs[i];
            st = status[i];
        }
done:
    free(status);
    free(errs);
    return st;
}

void rw_manifest_add_hash(rw_json *j, const char *name, const rw_file_hash *h)
{
    rw_json_begin_object(j);
    rw_json_key(j, "name");
    rw_json_string(j, name);
    rw_json_key(j, "bytes");
    /* files beyond 8 EiB do not occur */
    rw_json_integer(j, (int64_t)h->size);
    rw_json_key(j, "sha256");
    rw_json_string(j, h->hex);
    rw_json_end_object(j);
}

rw_status rw_manifest_add_file(rw_json *j, const char *path, const char *name,
                               rw_error *err)
{
    rw_file_hash h;
    const rw_status st = rw_io_sha256_file(path, h.hex, &h.size, err);
    if (st == RW_OK)
        rw_manifest_add_hash(j, name, &h);
    return st;
}
