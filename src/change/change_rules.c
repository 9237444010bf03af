/* Change classes and the rule table: parsing data/rules/change_rules.tsv
 * and evaluating it per pixel. */
#include "change.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Indexed by rw_change_class. */
static const rw_change_class_info class_table[RW_CHANGE_CLASS_COUNT] = {
    {RW_CHANGE_NONE, "none", "无变化"},
    {RW_CHANGE_VEG_TO_BARE, "veg_to_bare", "植被→裸地"},
    {RW_CHANGE_VEG_TO_BUILT, "veg_to_built", "植被→建设用地"},
    {RW_CHANGE_LAND_TO_WATER, "land_to_water", "陆地→水体"},
    {RW_CHANGE_WATER_TO_LAND, "water_to_land", "水体→陆地(河床/沙洲出露)"},
    {RW_CHANGE_TURBIDITY, "turbidity", "水体浑浊"},
    {RW_CHANGE_VEG_TO_SOIL, "veg_to_soil", "植被→裸土(采伐/翻耕)"},
    {RW_CHANGE_BARE_TO_ROCK, "bare_to_rock", "裸土→高亮裸岩(开挖)"},
};

_Static_assert(RW_CHANGE_CLASS_COUNT <= RW_CHANGE_CLASS_MAX,
               "change classes must fit the uint8 class set");

const rw_change_class_info *rw_change_class_get(rw_change_class cls)
{
    if ((unsigned)cls >= RW_CHANGE_CLASS_COUNT)
        return NULL;
    return &class_table[cls];
}

bool rw_change_class_find(const char *key, rw_change_class *cls)
{
    for (int i = 0; i < RW_CHANGE_CLASS_COUNT; i++) {
        if (strcmp(class_table[i].key, key) == 0) {
            *cls = class_table[i].id;
            return true;
        }
    }
    return false;
}

/* ---- the parsed table -------------------------------------------------- */

typedef enum sensor_kind { SENSOR_ANY, SENSOR_SWIR, SENSOR_NOSWIR } sensor_kind;

static const struct {
    const char *name;
    sensor_kind kind;
} sensor_table[] = {
    {"any", SENSOR_ANY},
    {"swir", SENSOR_SWIR},
    {"noswir", SENSOR_NOSWIR},
};

/* A variable is one index seen at one time: var = kind * RW_INDEX_COUNT +
 * index, so the scratch planes of one kind are contiguous. */
typedef enum var_kind { VAR_BASE, VAR_AFTER, VAR_DELTA, VAR_KIND_COUNT } var_kind;
#define VAR_COUNT (VAR_KIND_COUNT * RW_INDEX_COUNT)

/* How a variable is spelt: prefix + index name + suffix. */
static const struct {
    const char *prefix;
    const char *suffix;
    var_kind kind;
} var_forms[] = {
    {"", "_b", VAR_BASE},
    {"", "_a", VAR_AFTER},
    {"d_", "", VAR_DELTA},
};

/* Two-character operators first, so "<=" is not read as "<" then "=0.5".
 * least: a strict comparison needs a distance of at least the smallest
 * positive float: the difference of two unequal floats is never closer to
 * 0 (gradual underflow), so `d >= least` is `d > 0` without a branch. */
static const struct {
    const char *text;
    float sign; /* +1: the value must lie above the threshold */
    float least;
} op_table[] = {
    {"<=", -1.0f, 0.0f},
    {">=", 1.0f, 0.0f},
    {"<", -1.0f, FLT_TRUE_MIN},
    {">", 1.0f, FLT_TRUE_MIN},
};

typedef struct condition {
    int var;
    float sign;
    float least; /* the smallest signed distance past threshold that holds */
    float threshold;
    float inv_unit; /* 1 / the index's unit: margins in units */
} condition;

typedef struct rule_row {
    rw_change_class cls;
    sensor_kind sensor;
    size_t first; /* conditions[first .. first + count - 1] */
    size_t count;
    const char *basis; /* points into rw_change_rules.text */
} rule_row;

/* Rule ids travel as uint16 in rasters of matching rules. */
#define MAX_RULES 65535u

struct rw_change_rules {
    char *text; /* the parsed copy: fields are cut out of it in place */
    rule_row *rules;
    size_t rule_count;
    condition *conditions;
    size_t condition_count;
    unsigned index_used; /* bit i: some condition reads index i */
};

void rw_change_rules_destroy(rw_change_rules *rules)
{
    if (rules == NULL)
        return;
    free(rules->text);
    free(rules->rules);
    free(rules->conditions);
    free(rules);
}

size_t rw_change_rules_count(const rw_change_rules *rules)
{
    return rules->rule_count;
}

const char *rw_change_rules_basis(const rw_change_rules *rules, unsigned rule)
{
    if (rule == 0 || rule > rules->rule_count)
        return NULL;
    return rules->rules[rule - 1].basis;
}

bool rw_change_rules_swir(unsigned band_mask)
{
    return (band_mask & RW_BAND_BIT(RW_BAND_SWIR1)) != 0;
}

/* ---- parsing ----------------------------------------------------------- */

typedef struct parse_ctx {
    const char *name; /* file name for messages */
    int line;         /* 1-based */
    rw_error *err;
} parse_ctx;

#define PARSE_FAIL(ctx, fmt, ...)                                            \
    RW_FAIL((ctx)->err, RW_ERR_FORMAT, "%s:%d: " fmt, (ctx)->name,           \
            (ctx)->line, __VA_ARGS__)

enum { FIELD_CLASS, FIELD_SENSOR, FIELD_CONDITIONS, FIELD_BASIS, FIELD_COUNT };

static char *trim_spaces(char *s)
{
    s += strspn(s, " ");
    size_t len = strlen(s);
    while (len > 0 && s[len - 1] == ' ')
        s[--len] = '\0';
    return s;
}

static size_t count_char(const char *s, char c)
{
    size_t count = 0;
    for (; *s != '\0'; s++)
        count += *s == c;
    return count;
}

static bool find_variable(const char *token, int *var)
{
    const size_t len = strlen(token);
    for (size_t f = 0; f < sizeof(var_forms) / sizeof(var_forms[0]); f++) {
        const size_t pre = strlen(var_forms[f].prefix);
        const size_t suf = strlen(var_forms[f].suffix);
        char name[32];
        if (len <= pre + suf || len - pre - suf >= sizeof(name) ||
            strncmp(token, var_forms[f].prefix, pre) != 0 ||
            strcmp(token + len - suf, var_forms[f].suffix) != 0)
            continue;
        memcpy(name, token + pre, len - pre - suf);
        name[len - pre - suf] = '\0';
        rw_index index;
        if (rw_indices_find(name, &index)) {
            *var = (int)var_forms[f].kind * RW_INDEX_COUNT + (int)index;
            return true;
        }
    }
    return false;
}

/* A plain decimal: [+-]digits[.digits]. Not strtod, whose decimal point
 * follows the locale a program may have set. Up to 15 digits, so the
 * mantissa and the power of ten are exact and the one division rounds
 * correctly. */
static bool parse_decimal(const char *s, float *value)
{
    const char *p = s;
    const double sign = *p == '-' ? -1.0 : 1.0;
    if (*p == '-' || *p == '+')
        p++;
    double mantissa = 0.0, scale = 1.0;
    int digits = 0;
    bool point = false;
    for (; *p != '\0'; p++) {
        if (*p == '.' && !point) {
            point = true;
        } else if (*p >= '0' && *p <= '9') {
            mantissa = mantissa * 10.0 + (double)(*p - '0');
            scale *= point ? 10.0 : 1.0;
            digits++;
        } else {
            return false;
        }
    }
    if (digits == 0 || digits > 15)
        return false;
    *value = (float)(sign * mantissa / scale);
    return true;
}

static rw_status parse_condition(const parse_ctx *ctx, char *text,
                                 sensor_kind sensor, condition *c,
                                 unsigned *index_used)
{
    rw_status st = RW_OK;
    char *cond = trim_spaces(text);
    if (*cond == '\0')
        PARSE_FAIL(ctx, "%s", "empty condition (a doubled or trailing comma?)");
    const size_t var_len = strcspn(cond, "<>=! ");
    char *rest = cond + var_len + strspn(cond + var_len, " ");
    size_t op = 0;
    const size_t op_count = sizeof(op_table) / sizeof(op_table[0]);
    while (op < op_count &&
           strncmp(rest, op_table[op].text, strlen(op_table[op].text)) != 0)
        op++;
    if (op == op_count)
        PARSE_FAIL(ctx, "condition '%s' has no operator (<, <=, > or >=)",
                   cond);
    char *number = trim_spaces(rest + strlen(op_table[op].text));
    cond[var_len] = '\0';
    if (!find_variable(cond, &c->var))
        PARSE_FAIL(ctx, "unknown variable '%s'", cond);
    if (!parse_decimal(number, &c->threshold))
        PARSE_FAIL(ctx, "bad threshold '%s' for '%s' (want a decimal number)",
                   number, cond);
    const rw_index index = (rw_index)(c->var % RW_INDEX_COUNT);
    if (sensor != SENSOR_SWIR && !rw_indices_available(RW_BANDS_VNIR, index))
        PARSE_FAIL(ctx, "'%s' needs SWIR bands: use it in a 'swir' row", cond);
    c->sign = op_table[op].sign;
    c->least = op_table[op].least;
    c->inv_unit = 1.0f / rw_indices_get(index)->unit;
    *index_used |= 1u << index;
done:
    return st;
}

/* Cuts line into its tab-separated fields in place; returns how many it
 * found (only the first FIELD_COUNT are stored). */
static int split_fields(char *line, char *field[FIELD_COUNT])
{
    int count = 0;
    for (char *p = line;; count++) {
        char *tab = strchr(p, '\t');
        if (count < FIELD_COUNT)
            field[count] = p;
        if (tab == NULL)
            return count + 1;
        *tab = '\0';
        p = tab + 1;
    }
}

static rw_status parse_line(rw_change_rules *r, const parse_ctx *ctx,
                            char *line)
{
    rw_status st = RW_OK;
    const char *first = line + strspn(line, " \t");
    if (*first == '\0' || *first == '#')
        goto done;

    char *field[FIELD_COUNT];
    const int fields = split_fields(line, field);
    if (fields != FIELD_COUNT)
        PARSE_FAIL(ctx,
                   "expected %d tab-separated fields (class, sensor, "
                   "conditions, basis), found %d",
                   FIELD_COUNT, fields);
    for (int f = 0; f < FIELD_COUNT; f++)
        field[f] = trim_spaces(field[f]);
    if (r->rule_count == MAX_RULES)
        PARSE_FAIL(ctx, "too many rules (at most %u)", MAX_RULES);

    rule_row *ru = &r->rules[r->rule_count];
    if (!rw_change_class_find(field[FIELD_CLASS], &ru->cls))
        PARSE_FAIL(ctx, "unknown class '%s'", field[FIELD_CLASS]);
    size_t s = 0;
    const size_t sensor_count = sizeof(sensor_table) / sizeof(sensor_table[0]);
    while (s < sensor_count &&
           strcmp(field[FIELD_SENSOR], sensor_table[s].name) != 0)
        s++;
    if (s == sensor_count)
        PARSE_FAIL(ctx, "unknown sensor '%s' (any, swir or noswir)",
                   field[FIELD_SENSOR]);
    ru->sensor = sensor_table[s].kind;
    if (field[FIELD_CONDITIONS][0] == '\0')
        PARSE_FAIL(ctx, "%s", "no conditions");
    if (field[FIELD_BASIS][0] == '\0')
        PARSE_FAIL(ctx, "%s", "empty basis");
    ru->basis = field[FIELD_BASIS];

    ru->first = r->condition_count;
    ru->count = 0;
    for (char *p = field[FIELD_CONDITIONS]; p != NULL; ru->count++) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        RW_CHECK(parse_condition(ctx, p, ru->sensor,
                                 &r->conditions[ru->first + ru->count],
                                 &r->index_used));
        p = comma != NULL ? comma + 1 : NULL;
    }
    r->condition_count += ru->count;
    r->rule_count++;
done:
    return st;
}

rw_status rw_change_rules_parse(const char *text, const char *name,
                                rw_change_rules **out, rw_error *err)
{
    rw_status st = RW_OK;
    rw_change_rules *r = rw_calloc(1, sizeof(*r), err);
    RW_FAIL_IF(r == NULL, err, RW_ERR_NOMEM, "out of memory");
    const size_t len = strlen(text);
    r->text = rw_malloc(len + 1, err);
    RW_FAIL_IF(r->text == NULL, err, RW_ERR_NOMEM, "out of memory");
    memcpy(r->text, text, len + 1);

    /* Every rule is a line and every condition a line or a comma, so one
     * allocation of each suffices. */
    const size_t lines = count_char(text, '\n') + 1;
    r->rules = rw_calloc(lines, sizeof(*r->rules), err);
    r->conditions =
        rw_calloc(lines + count_char(text, ','), sizeof(*r->conditions), err);
    RW_FAIL_IF(r->rules == NULL || r->conditions == NULL, err, RW_ERR_NOMEM,
               "out of memory");

    parse_ctx ctx = {name, 0, err};
    char *p = r->text;
    if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
        p += 3;
    while (*p != '\0') {
        char *line = p;
        char *newline = strchr(line, '\n');
        if (newline != NULL) {
            *newline = '\0';
            p = newline + 1;
        } else {
            p = line + strlen(line);
        }
        const size_t line_len = strlen(line);
        if (line_len > 0 && line[line_len - 1] == '\r')
            line[line_len - 1] = '\0';
        ctx.line++;
        RW_CHECK(parse_line(r, &ctx, line));
    }
    RW_FAIL_IF(r->rule_count == 0, err, RW_ERR_FORMAT, "%s: no rules", name);
    *out = r;
    r = NULL;
done:
    rw_change_rules_destroy(r);
    return st;
}

rw_status rw_change_rules_load(const char *path, rw_change_rules **out,
                               rw_error *err)
{
    rw_status st = RW_OK;
    char *text = NULL;
    FILE *f = fopen(path, "rb");
    RW_FAIL_IF(f == NULL, err, RW_ERR_IO, "%s: cannot open: %s", path,
               strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    RW_FAIL_IF(size < 0 || fseek(f, 0, SEEK_SET) != 0, err, RW_ERR_IO,
               "%s: cannot read: %s", path, strerror(errno));
    text = rw_malloc((size_t)size + 1, err);
    RW_FAIL_IF(text == NULL, err, RW_ERR_NOMEM, "out of memory");
    RW_FAIL_IF(fread(text, 1, (size_t)size, f) != (size_t)size, err,
               RW_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
    text[size] = '\0';
    RW_FAIL_IF(memchr(text, '\0', (size_t)size) != NULL, err, RW_ERR_FORMAT,
               "%s: not a text file (it holds a NUL byte)", path);
    RW_CHECK(rw_change_rules_parse(text, path, out, err));
done:
    free(text);
    if (f != NULL)
        fclose(f);
    return st;
}

/* ---- evaluation -------------------------------------------------------- */

/* Pixels per pass: the variable planes of one chunk stay in L1/L2 and on
 * the stack (about 25 KiB). */
enum { CHUNK = 256 };

typedef struct chunk_scratch {
    float var[VAR_COUNT][CHUNK];
    float margin[CHUNK];
    float score[CHUNK];
    uint16_t rule[CHUNK];
} chunk_scratch;

/* Lowers margin[i] to condition c's margin for each pixel: -INFINITY where
 * c fails (a NAN variable fails), otherwise its distance past the
 * threshold in units. Branch-free so that it vectorises. */
static void apply_condition(const condition *c, const float *restrict v,
                            size_t n, float *restrict margin)
{
    const float sign = c->sign, threshold = c->threshold;
    const float inv_unit = c->inv_unit, least = c->least;
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        const float d = sign * (v[i] - threshold);
        const float m = d * inv_unit;
        const float lowered = m < margin[i] ? m : margin[i];
        margin[i] = d >= least ? lowered : -INFINITY;
    }
}

static void compute_variables(const rw_change_rules *r,
                              const float *const base[RW_BAND_COUNT],
                              const float *const after[RW_BAND_COUNT],
                              unsigned band_mask, size_t n, chunk_scratch *s)
{
    for (int i = 0; i < RW_INDEX_COUNT; i++) {
        if ((r->index_used & (1u << i)) == 0)
            continue;
        float *restrict b = s->var[VAR_BASE * RW_INDEX_COUNT + i];
        float *restrict a = s->var[VAR_AFTER * RW_INDEX_COUNT + i];
        float *restrict d = s->var[VAR_DELTA * RW_INDEX_COUNT + i];
        rw_indices_compute_planar(base, band_mask, (rw_index)i, n, b);
        rw_indices_compute_planar(after, band_mask, (rw_index)i, n, a);
#pragma omp simd
        for (size_t k = 0; k < n; k++)
            d[k] = a[k] - b[k];
    }
}

/* Classifies n <= CHUNK pixels into cls and s->score, s->rule. */
static void classify_chunk(const rw_change_rules *r,
                           const float *const base[RW_BAND_COUNT],
                           const float *const after[RW_BAND_COUNT],
                           unsigned band_mask, size_t n, uint8_t *cls,
                           chunk_scratch *s)
{
    compute_variables(r, base, after, band_mask, n, s);
    for (size_t i = 0; i < n; i++) {
        cls[i] = RW_CHANGE_NONE;
        s->score[i] = 0.0f;
        s->rule[i] = 0;
    }
    const sensor_kind scene =
        rw_change_rules_swir(band_mask) ? SENSOR_SWIR : SENSOR_NOSWIR;
    size_t open = n; /* pixels no rule has matched yet */
    for (size_t k = 0; k < r->rule_count && open > 0; k++) {
        const rule_row *ru = &r->rules[k];
        if (ru->sensor != SENSOR_ANY && ru->sensor != scene)
            continue;
        /* Starting at 1 caps the score at 1. */
        for (size_t i = 0; i < n; i++)
            s->margin[i] = 1.0f;
        for (size_t c = ru->first; c < ru->first + ru->count; c++)
            apply_condition(&r->conditions[c], s->var[r->conditions[c].var],
                            n, s->margin);
        for (size_t i = 0; i < n; i++) {
            if (s->rule[i] != 0 || !(s->margin[i] >= 0.0f))
                continue;
            cls[i] = (uint8_t)ru->cls;
            s->score[i] = s->margin[i];
            s->rule[i] = (uint16_t)(k + 1);
            open--;
        }
    }
}

/* The planes of pixels [offset, offset + n) of the bands in band_mask. */
static void offset_planes(const float *const band[RW_BAND_COUNT],
                          unsigned band_mask, size_t offset,
                          const float *out[RW_BAND_COUNT])
{
    for (int b = 0; b < RW_BAND_COUNT; b++)
        out[b] = (band_mask & RW_BAND_BIT(b)) ? band[b] + offset : NULL;
}

void rw_change_classify_planar(const rw_change_rules *rules,
                               const float *const base[RW_BAND_COUNT],
                               const float *const after[RW_BAND_COUNT],
                               unsigned band_mask, size_t n, uint8_t *cls,
                               float *score, uint16_t *rule)
{
    chunk_scratch s;
    for (size_t start = 0; start < n; start += CHUNK) {
        const size_t m = n - start < CHUNK ? n - start : CHUNK;
        const float *b[RW_BAND_COUNT], *a[RW_BAND_COUNT];
        offset_planes(base, band_mask, start, b);
        offset_planes(after, band_mask, start, a);
        classify_chunk(rules, b, a, band_mask, m, cls + start, &s);
        if (score != NULL)
            memcpy(score + start, s.score, m * sizeof(*score));
        if (rule != NULL)
            memcpy(rule + start, s.rule, m * sizeof(*rule));
    }
}

rw_change_class rw_change_classify_pixel(const rw_change_rules *rules,
                                         const float *base,
                                         const float *after,
                                         unsigned band_mask, float *score,
                                         const char **basis)
{
    /* One pixel is a band-planar buffer of length 1. */
    const float *b[RW_BAND_COUNT], *a[RW_BAND_COUNT];
    for (int k = 0; k < RW_BAND_COUNT; k++) {
        b[k] = &base[k];
        a[k] = &after[k];
    }
    chunk_scratch s;
    uint8_t cls;
    classify_chunk(rules, b, a, band_mask, 1, &cls, &s);
    if (score != NULL)
        *score = s.score[0];
    if (basis != NULL)
        *basis = rw_change_rules_basis(rules, s.rule[0]);
    return (rw_change_class)cls;
}
