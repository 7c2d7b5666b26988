/* config_schema.c — strict checks of a loaded config against a declarative table of
 * fields (sp_cfg_field), and the same table rendered as commented documentation.
 *
 * The check walks the merged config once, collecting up to SP_CONFIG_MAX_ERRORS
 * messages; a setting of the wrong type is reported and not descended into, so one
 * mistake gives one message.  Scalars are read through the typed getters so the checks
 * and the reading code agree on what a value means.
 */
#include "sp_config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sp_size.h"

typedef struct checker {
    sp_err first;      /* the first problem, returned in the caller's err */
    unsigned count;    /* problems found, including those not kept */
    char *text;        /* kept messages, one per line */
    size_t len, cap;
    bool oom;
} checker;

/* ---------------------------------------------------------------------------------- */
/* collecting problems */

static void append_line(checker *ck, const char *msg)
{
    size_t n = strlen(msg);
    if (ck->oom)
        return;
    if (ck->len + n + 2 > ck->cap) {
        size_t cap = (ck->cap ? ck->cap * 2 : 1024) + n + 2;
        char *t = realloc(ck->text, cap);
        if (!t) {
            ck->oom = true;
            return;
        }
        ck->text = t;
        ck->cap = cap;
    }
    memcpy(ck->text + ck->len, msg, n);
    ck->len += n;
    ck->text[ck->len++] = '\n';
    ck->text[ck->len] = 0;
}

static void keep(checker *ck, const sp_err *e)
{
    if (ck->count++ == 0)
        ck->first = *e;
    if (ck->count <= SP_CONFIG_MAX_ERRORS)
        append_line(ck, e->msg);
}

static void problem(checker *ck, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void problem(checker *ck, const config_setting_t *s, const char *fmt, ...)
{
    sp_err e;
    va_list ap;
    va_start(ap, fmt);
    sp_config_vfail_at(&e, s, fmt, ap);
    va_end(ap);
    keep(ck, &e);
}

/* ---------------------------------------------------------------------------------- */
/* unknown keys: a hint for near misses */

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[65];
    if (la > 64 || lb > 64)
        return 64;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static void unknown_key(checker *ck, const config_setting_t *s, const sp_cfg_field *fields)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (const sp_cfg_field *f = fields; f && f->name; f++) {
        size_t d = edit_distance(s->name, f->name);
        if (d < best_d && d < strlen(f->name)) {
            best = f->name;
            best_d = d;
        }
    }
    /* "numa_node" for "numa", "gpu" for "gpus": one name starts the other. */
    for (const sp_cfg_field *f = fields; !best && f && f->name; f++) {
        size_t a = strlen(s->name), b = strlen(f->name);
        size_t shorter = a < b ? a : b;
        if (shorter >= 3 && strncmp(s->name, f->name, shorter) == 0)
            best = f->name;
    }
    if (best) {
        problem(ck, s, "unknown key; did you mean \"%s\"?", best);
        return;
    }
    char known[300];
    size_t at = 0;
    known[0] = 0;
    for (const sp_cfg_field *f = fields; f && f->name && at < sizeof known; f++) {
        int w = snprintf(known + at, sizeof known - at, "%s%s", at ? ", " : "", f->name);
        at = w < 0 ? at : at + (size_t)w;
    }
    if (!known[0])
        problem(ck, s, "unknown key; nothing may be set here, remove it");
    else
        problem(ck, s, "unknown key; remove it or use one of: %s", known);
}

/* ---------------------------------------------------------------------------------- */
/* values */

static bool has_range(const sp_cfg_field *f)
{
    return f->min != 0 || f->max != 0;
}

static void check_int_range(checker *ck, const config_setting_t *s, const sp_cfg_field *f,
                            int64_t v)
{
    if (has_range(f) && (v < f->min || v > f->max))
        problem(ck, s, "%" PRId64 " is out of range; use a value from %" PRId64 " to %" PRId64,
                v, f->min, f->max);
}

static bool u64_in_range(const sp_cfg_field *f, uint64_t v)
{
    if (!has_range(f))
        return true;
    if (f->max < 0 || v > (uint64_t)f->max)
        return false;
    return f->min <= 0 || v >= (uint64_t)f->min;
}

static void check_size(checker *ck, const config_setting_t *s, const sp_cfg_field *f)
{
    sp_err e;
    uint64_t v;
    if (sp_config_get_size(s, "", 0, &v, &e)) {
        keep(ck, &e);
        return;
    }
    if (!u64_in_range(f, v)) {
        char lo[32], hi[32], got[32];
        sp_format_size(f->min > 0 ? (uint64_t)f->min : 0, lo, sizeof lo);
        sp_format_size(f->max > 0 ? (uint64_t)f->max : 0, hi, sizeof hi);
        sp_format_size(v, got, sizeof got);
        problem(ck, s, "size %s is out of range; use a size from %s to %s", got, lo, hi);
    }
}

static void check_duration(checker *ck, const config_setting_t *s, const sp_cfg_field *f)
{
    sp_err e;
    uint64_t v;
    if (sp_config_get_duration_ms(s, "", 0, &v, &e)) {
        keep(ck, &e);
        return;
    }
    if (!u64_in_range(f, v)) {
        char lo[32], hi[32], got[32];
        sp_format_duration(f->min > 0 ? (uint64_t)f->min : 0, lo, sizeof lo);
        sp_format_duration(f->max > 0 ? (uint64_t)f->max : 0, hi, sizeof hi);
        sp_format_duration(v, got, sizeof got);
        problem(ck, s, "duration %s is out of range; use a duration from %s to %s", got, lo,
                hi);
    }
}

static void expected(checker *ck, const config_setting_t *s, const char *want)
{
    char got[96];
    problem(ck, s, "expected %s, got %s", want, sp_config_describe(s, got, sizeof got));
}

static void check_group(checker *ck, const config_setting_t *g, const sp_cfg_field *fields);
static void check_value(checker *ck, const config_setting_t *s, const sp_cfg_field *f);

/* Elements of an array or list of scalars, each checked as field `elem`. */
static void check_elements(checker *ck, const config_setting_t *s, const sp_cfg_field *f,
                           const char *want)
{
    if (s->type != CONFIG_TYPE_ARRAY && s->type != CONFIG_TYPE_LIST) {
        expected(ck, s, want);
        return;
    }
    sp_cfg_field elem = *f;
    elem.type = f->type == SP_CFG_INT_ARRAY ? SP_CFG_INT
                : f->values                 ? SP_CFG_ENUM
                                            : SP_CFG_STRING;
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++)
        check_value(ck, config_setting_get_elem(s, (unsigned)i), &elem);
}

static void check_group_list(checker *ck, const config_setting_t *s, const sp_cfg_field *f)
{
    /* `x = [];` is the natural way to write an empty list too. */
    bool empty_array = s->type == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0;
    if (s->type != CONFIG_TYPE_LIST && !empty_array) {
        expected(ck, s, "a list of groups ( { ... }, { ... } )");
        return;
    }
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (e->type != CONFIG_TYPE_GROUP)
            expected(ck, e, "a group { ... }");
        else
            check_group(ck, e, f->children);
    }
}

static void check_map(checker *ck, const config_setting_t *s, const sp_cfg_field *f)
{
    if (s->type != CONFIG_TYPE_GROUP) {
        expected(ck, s, "a group of name = value pairs { ... }");
        return;
    }
    if (!f->children)
        return;
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++)
        check_value(ck, config_setting_get_elem(s, (unsigned)i), f->children);
}

static void check_value(checker *ck, const config_setting_t *s, const sp_cfg_field *f)
{
    sp_err e;
    int64_t iv;
    bool bv;
    double fv;
    const char *sv;
    int ev;

    switch (f->type) {
    case SP_CFG_INT:
        if (sp_config_get_int(s, "", 0, &iv, &e))
            keep(ck, &e);
        else
            check_int_range(ck, s, f, iv);
        break;
    case SP_CFG_BOOL:
        if (sp_config_get_bool(s, "", false, &bv, &e))
            keep(ck, &e);
        break;
    case SP_CFG_FLOAT:
        if (sp_config_get_float(s, "", 0, &fv, &e))
            keep(ck, &e);
        break;
    case SP_CFG_STRING:
        if (sp_config_get_string(s, "", NULL, &sv, &e))
            keep(ck, &e);
        break;
    case SP_CFG_ENUM:
        if (sp_config_get_enum(s, "", f->values, 0, &ev, &e))
            keep(ck, &e);
        break;
    case SP_CFG_SIZE:
        check_size(ck, s, f);
        break;
    case SP_CFG_DURATION:
        check_duration(ck, s, f);
        break;
    case SP_CFG_GROUP:
        if (s->type != CONFIG_TYPE_GROUP)
            expected(ck, s, "a group { ... }");
        else
            check_group(ck, s, f->children);
        break;
    case SP_CFG_GROUP_LIST:
        check_group_list(ck, s, f);
        break;
    case SP_CFG_INT_ARRAY:
        check_elements(ck, s, f, "an array of integers [ 1, 2 ]");
        break;
    case SP_CFG_STRING_ARRAY:
        check_elements(ck, s, f, "an array of strings [ \"a\", \"b\" ]");
        break;
    case SP_CFG_MAP:
        check_map(ck, s, f);
        break;
    default:
        problem(ck, s, "the schema has an unknown type %d for this key (a bug)", (int)f->type);
        break;
    }
}

static const sp_cfg_field *find_field(const sp_cfg_field *fields, const char *name)
{
    for (const sp_cfg_field *f = fields; f && f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

static void check_group(checker *ck, const config_setting_t *g, const sp_cfg_field *fields)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const sp_cfg_field *f = find_field(fields, m->name);
        if (!f)
            unknown_key(ck, m, fields);
        else
            check_value(ck, m, f);
    }
    for (const sp_cfg_field *f = fields; f && f->name; f++) {
        if ((f->flags & SP_CFG_REQUIRED) && !config_setting_get_member(g, f->name))
            problem(ck, g, "missing required key \"%s\"%s%s; add it", f->name,
                    f->doc ? ": " : "", f->doc ? f->doc : "");
    }
}

sp_code sp_config_check(const sp_config *cfg, const sp_cfg_field *schema, char **all,
                        sp_err *err)
{
    checker ck = { 0 };
    if (all)
        *all = NULL;
    if (!cfg || !schema)
        return sp_fail(err, SP_EINVAL, "config check: no config or no schema given");
    check_group(&ck, sp_config_root(cfg), schema);
    if (ck.count == 0)
        return SP_OK;
    if (ck.count > SP_CONFIG_MAX_ERRORS) {
        char more[64];
        snprintf(more, sizeof more, "... and %u more problems", ck.count - SP_CONFIG_MAX_ERRORS);
        append_line(&ck, more);
    }
    if (ck.text && ck.len)
        ck.text[ck.len - 1] = 0;           /* no newline after the last line */
    if (all)
        *all = ck.text;
    else
        free(ck.text);
    if (err)
        *err = ck.first;
    return SP_ECONFIG;
}

/* ---------------------------------------------------------------------------------- */
/* documentation */

static const char *type_text(const sp_cfg_field *f)
{
    switch (f->type) {
    case SP_CFG_INT: return "integer";
    case SP_CFG_BOOL: return "boolean";
    case SP_CFG_FLOAT: return "number";
    case SP_CFG_STRING: return "string";
    case SP_CFG_ENUM: return "one of";
    case SP_CFG_SIZE: return "size (\"32GiB\", \"512MiB\" or bytes)";
    case SP_CFG_DURATION: return "duration (\"30s\", \"5min\", \"1h\")";
    case SP_CFG_GROUP: return "group";
    case SP_CFG_GROUP_LIST: return "list of groups";
    case SP_CFG_INT_ARRAY: return "array of integers";
    case SP_CFG_STRING_ARRAY: return "array of strings";
    case SP_CFG_MAP: return "map of name = value";
    }
    return "?";
}

static bool quoted(const sp_cfg_field *f)
{
    return f->type == SP_CFG_STRING || f->type == SP_CFG_ENUM || f->type == SP_CFG_DURATION ||
           f->type == SP_CFG_SIZE;
}

static const char *placeholder(const sp_cfg_field *f)
{
    switch (f->type) {
    case SP_CFG_INT: return "0";
    case SP_CFG_BOOL: return "false";
    case SP_CFG_FLOAT: return "0.0";
    case SP_CFG_ENUM: return f->values && f->values[0] ? f->values[0] : "";
    case SP_CFG_SIZE: return "0";
    case SP_CFG_DURATION: return "0s";
    case SP_CFG_INT_ARRAY: return "[]";
    case SP_CFG_STRING_ARRAY: return "[]";
    case SP_CFG_GROUP: return "{ }";
    case SP_CFG_GROUP_LIST: return "( )";
    case SP_CFG_MAP: return "{ }";
    default: return "";
    }
}

typedef struct doc_out {
    FILE *out;
    bool failed;
} doc_out;

static void emit(doc_out *d, int depth, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void emit(doc_out *d, int depth, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (fprintf(d->out, "%*s", depth * 2, "") < 0 || vfprintf(d->out, fmt, ap) < 0)
        d->failed = true;
    va_end(ap);
}

/* "# doc" and "# type, required, default X, range" lines above a key. */
static void emit_comment(doc_out *d, int depth, const sp_cfg_field *f)
{
    const sp_cfg_field *v = f->type == SP_CFG_MAP && f->children ? f->children : f;
    if (f->doc)
        emit(d, depth, "# %s\n", f->doc);
    emit(d, depth, "# %s", type_text(f));
    if (f->type == SP_CFG_MAP)
        emit(d, 0, ", values: %s", type_text(v));
    if (v->values) {
        for (int i = 0; v->values[i]; i++)
            emit(d, 0, "%s\"%s\"", i ? " | " : " ", v->values[i]);
    }
    if (has_range(v))
        emit(d, 0, ", from %" PRId64 " to %" PRId64, v->min, v->max);
    if (f->flags & SP_CFG_REQUIRED)
        emit(d, 0, ", required");
    if (f->def)
        emit(d, 0, ", default %s", f->def);
    emit(d, 0, "\n");
}

static void emit_fields(doc_out *d, int depth, const sp_cfg_field *fields);

static void emit_field(doc_out *d, int depth, const sp_cfg_field *f)
{
    emit_comment(d, depth, f);
    switch (f->type) {
    case SP_CFG_GROUP:
        emit(d, depth, "%s = {\n", f->name);
        emit_fields(d, depth + 1, f->children);
        emit(d, depth, "};\n");
        break;
    case SP_CFG_GROUP_LIST:
        emit(d, depth, "%s = (\n", f->name);
        emit(d, depth + 1, "{\n");
        emit_fields(d, depth + 2, f->children);
        emit(d, depth + 1, "}\n");
        emit(d, depth, ");\n");
        break;
    case SP_CFG_MAP:
        emit(d, depth, "%s = {\n", f->name);
        if (f->children)
            emit(d, depth + 1, "#name = %s%s%s;\n", quoted(f->children) ? "\"" : "",
                 placeholder(f->children), quoted(f->children) ? "\"" : "");
        emit(d, depth, "};\n");
        break;
    default: {
        const char *v = f->def ? f->def : placeholder(f);
        const char *q = quoted(f) ? "\"" : "";
        emit(d, depth, "#%s = %s%s%s;\n", f->name, q, v, q);
        break;
    }
    }
}

static void emit_fields(doc_out *d, int depth, const sp_cfg_field *fields)
{
    for (const sp_cfg_field *f = fields; f && f->name; f++) {
        if (f != fields)
            emit(d, 0, "\n");
        emit_field(d, depth, f);
    }
}

sp_code sp_config_render_doc(const sp_cfg_field *schema, FILE *out, sp_err *err)
{
    doc_out d = { .out = out };
    if (!out)
        return sp_fail(err, SP_EINVAL, "config doc: no output stream given");
    emit_fields(&d, 0, schema);
    if (d.failed || ferror(out))
        return sp_fail(err, SP_EIO, "config doc: writing the documentation failed");
    return SP_OK;
}

/* ---------------------------------------------------------------------------------- */
/* walking the schema */

typedef void (*walk_fn)(const char *path, const sp_cfg_field *f, void *arg);

static void walk(const sp_cfg_field *fields, char *path, size_t at, size_t len, walk_fn fn,
                 void *arg)
{
    for (const sp_cfg_field *f = fields; f && f->name; f++) {
        int w = snprintf(path + at, len - at, "%s%s", at ? "." : "", f->name);
        if (w < 0 || at + (size_t)w >= len)
            continue;
        size_t end = at + (size_t)w;
        fn(path, f, arg);
        if (f->type == SP_CFG_GROUP) {
            walk(f->children, path, end, len, fn, arg);
        } else if (f->type == SP_CFG_GROUP_LIST && end + 2 < len) {
            memcpy(path + end, "[]", 3);
            walk(f->children, path, end + 2, len, fn, arg);
        } else if (f->type == SP_CFG_MAP && f->children && end + 2 < len) {
            memcpy(path + end, ".*", 3);
            fn(path, f->children, arg);
            if (f->children->type == SP_CFG_GROUP)
                walk(f->children->children, path, end + 2, len, fn, arg);
        }
        path[at] = 0;
    }
}

void sp_config_schema_walk(const sp_cfg_field *schema, walk_fn fn, void *arg)
{
    char path[512] = "";
    if (fn)
        walk(schema, path, 0, sizeof path, fn, arg);
}
