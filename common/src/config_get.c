/* config_get.c — typed getters: one setting's value as an int, bool, float, string,
 * size, duration or enum index, with "FILE:LINE: key: expected ..., got ..." errors.
 * The schema checks (config_schema.c) read scalars through these too, so a value is
 * judged the same way whether the schema or the reading code looks at it first.
 */
#include "sp_config.h"

#include <stdlib.h>
#include <string.h>

#include "sp_size.h"

/* A string that would have been right without quotes gets a hint. */
static bool looks_like_int(const char *v)
{
    char *end;
    if (!v || !*v)
        return false;
    (void)strtoll(v, &end, 10);
    return *end == 0;
}

static sp_code wrong_type(sp_err *err, const config_setting_t *s, const char *want)
{
    char got[96];
    sp_config_describe(s, got, sizeof got);
    if (s->type == CONFIG_TYPE_STRING && strcmp(want, "an integer") == 0 &&
        looks_like_int(s->value.sval))
        return sp_config_fail_at(err, s, "expected %s, got %s; write the number without "
                                 "quotes", want, got);
    if (s->type == CONFIG_TYPE_STRING && strncmp(want, "a boolean", 9) == 0 &&
        (strcmp(s->value.sval, "true") == 0 || strcmp(s->value.sval, "false") == 0))
        return sp_config_fail_at(err, s, "expected %s, got %s; write %s without quotes", want,
                                 got, s->value.sval);
    return sp_config_fail_at(err, s, "expected %s, got %s", want, got);
}

sp_code sp_config_get_int(const config_setting_t *base, const char *path, int64_t def,
                          int64_t *out, sp_err *err)
{
    const config_setting_t *s = sp_config_lookup(base, path);
    if (!s) {
        *out = def;
        return SP_OK;
    }
    if (s->type == CONFIG_TYPE_INT)
        *out = s->value.ival;
    else if (s->type == CONFIG_TYPE_INT64)
        *out = s->value.llval;
    else
        return wrong_type(err, s, "an integer");
    return SP_OK;
}

sp_code sp_config_get_bool(const config_setting_t *base, const char *path, bool def,
                           bool *out, sp_err *err)
{
    const config_setting_t *s = sp_config_lookup(base, path);
    if (!s) {
        *out = def;
        return SP_OK;
    }
    if (s->type != CONFIG_TYPE_BOOL)
        return wrong_type(err, s, "a boolean (true or false)");
    *out = s->value.ival != 0;
    return SP_OK;
}

sp_code sp_config_get_float(const config_setting_t *base, const char *path, double def,
                            double *out, sp_err *err)
{
    const config_setting_t *s = sp_config_lookup(base, path);
    if (!s) {
        *out = def;
        return SP_OK;
    }
    if (s->type == CONFIG_TYPE_FLOAT)
        *out = s->value.fval;
    else if (s->type == CONFIG_TYPE_INT)
        *out = s->value.ival;
    else if (s->type == CONFIG_TYPE_INT64)
        *out = (double)s->value.llval;
    else
        return wrong_type(err, s, "a number");
    return SP_OK;
}

sp_code sp_config_get_string(const config_setting_t *base, const char *path,
                             const char *def, const char **out, sp_err *err)
{
    const config_setting_t *s = sp_config_lookup(base, path);
    if (!s) {
        *out = def;
        return SP_OK;
    }
    if (s->type != CONFIG_TYPE_STRING)
        return wrong_type(err, s, "a string");
    *out = s->value.sval ? s->value.sval : "";
    return SP_OK;
}

sp_code sp_config_get_size(const config_setting_t *base, const char *path, uint64_t def,
                           uint64_t *out, sp_err *err)
{
    const config_setting_t *s = sp_config_lookup(base, path);
    if (!s) {
        *out = def;
        return SP_OK;
    }
    long long n = s->type == CONFIG_TYPE_INT ? s->value.ival : s->value.llval;
    if (s->type == CONFIG_TYPE_INT || s->type == CONFIG_TYPE_INT64) {
        if (n < 0)
            return sp_config_fail_at(err, s, "size %lld is negative; write a size such as "
                                     "\"32GiB\" or a number of bytes", n);
        *out = (uint64_t)n;
        return SP_OK;
    }
    if (s->type != CONFIG_TYPE_STRING)
        return wrong_type(err, s, "a size such as \"32GiB\" or a number of bytes");
    sp_err perr;
    uint64_t v;
    if (sp_parse_size(s->value.sval, &v, &perr))
        return sp_config_fail_at(err, s, "%s", perr.msg);
    *out = v;
    return SP_OK;
}

sp_code sp_config_get_duration_ms(const config_setting_t *base, const char *path,
                                  uint64_t def, uint64_t *out, sp_err *err)
{
    const config_setting_t *s = sp_config_lookup(base, path);
    if (!s) {
        *out = def;
        return SP_OK;
    }
    /* A bare number has no unit, and guessing one would be wrong half the time. */
    if (s->type != CONFIG_TYPE_STRING)
        return wrong_type(err, s, "a duration string such as \"30s\", \"5min\" or \"1h\"");
    sp_err perr;
    uint64_t v;
    if (sp_parse_duration_ms(s->value.sval, &v, &perr))
        return sp_config_fail_at(err, s, "%s", perr.msg);
    *out = v;
    return SP_OK;
}

sp_code sp_config_get_enum(const config_setting_t *base, const char *path,
                           const char *const *values, int def, int *out, sp_err *err)
{
    const config_setting_t *s = sp_config_lookup(base, path);
    if (!s) {
        *out = def;
        return SP_OK;
    }
    char allowed[256];
    size_t at = 0;
    allowed[0] = 0;
    for (int i = 0; values && values[i] && at < sizeof allowed; i++) {
        int w = snprintf(allowed + at, sizeof allowed - at, "%s\"%s\"", i ? ", " : "",
                         values[i]);
        at = w < 0 ? at : at + (size_t)w;
    }
    if (s->type != CONFIG_TYPE_STRING) {
        char want[300];
        snprintf(want, sizeof want, "one of %s", allowed);
        return wrong_type(err, s, want);
    }
    for (int i = 0; values && values[i]; i++) {
        if (strcmp(values[i], s->value.sval) == 0) {
            *out = i;
            return SP_OK;
        }
    }
    char q[96];
    return sp_config_fail_at(err, s, "%s is not allowed; use one of %s",
                             sp_config_quote(s->value.sval, q, sizeof q), allowed);
}
