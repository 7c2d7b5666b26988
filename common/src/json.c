/* json.c — sp_json: bounded JSON parsing and typed parameter getters/builders on cJSON. */
#include "sp_json.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_codec.h"

/* 2^53: doubles hold every integer below it exactly; a parsed number of 2^53 or more may
 * be a rounded neighbour, so only smaller ones are taken as numbers. */
#define EXACT_MAX 9007199254740992.0

/* cJSON records the position of the last parse error in a library-global variable that
 * every parse writes; parsing under this lock keeps concurrent parses from racing on it
 * (ThreadSanitizer builds stay clean).  Parses are short, so contention is negligible. */
static pthread_mutex_t parse_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- parsing ----------------------------------------------------------------------- */

/* Scans for nesting depth, NUL bytes and \u0000 escapes.  Returns the offset of the first
 * offending byte or len when all is well; *why says what was found. */
static size_t prescan(const char *t, size_t len, unsigned max_depth, const char **why)
{
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = t[i];
        if (c == 0) {
            *why = "a NUL byte";
            return i;
        }
        if (in_string) {
            if (c == '\\') {
                if (i + 5 < len && t[i + 1] == 'u' && memcmp(t + i + 2, "0000", 4) == 0) {
                    *why = "a \\u0000 escape (NUL characters are not accepted)";
                    return i;
                }
                i++; /* skip the escaped character */
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                *why = "nesting deeper than the limit";
                return i;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return len;
}

unsigned sp_json_depth(const char *text, size_t len, unsigned limit)
{
    unsigned depth = 0, deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < len && deepest <= limit; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > deepest)
                deepest = depth;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return deepest;
}

sp_code sp_json_parse(const char *text, size_t len, unsigned max_depth, cJSON **out, sp_err *err)
{
    *out = NULL;
    if (!text)
        return sp_fail(err, SP_EPARSE, "JSON: no text given");
    const char *why = NULL;
    size_t bad = prescan(text, len, max_depth, &why);
    if (bad < len) {
        if (strncmp(why, "nesting", 7) == 0)
            return sp_fail(err, SP_EPARSE,
                           "JSON: arrays/objects nested deeper than %u levels at byte %zu; "
                           "flatten the document",
                           max_depth, bad);
        return sp_fail(err, SP_EPARSE, "JSON: %s at byte %zu", why, bad);
    }
    const char *end = NULL;
    pthread_mutex_lock(&parse_lock);
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    pthread_mutex_unlock(&parse_lock);
    if (!v) {
        size_t at = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        if (len == 0 || strspn(text, " \t\r\n") >= len)
            return sp_fail(err, SP_EPARSE, "JSON: empty document");
        return sp_fail(err, SP_EPARSE, "JSON: syntax error near byte %zu", at);
    }
    size_t at = end ? (size_t)(end - text) : len;
    while (at < len && (text[at] == ' ' || text[at] == '\t' || text[at] == '\r' || text[at] == '\n'))
        at++;
    if (at < len) {
        cJSON_Delete(v);
        return sp_fail(err, SP_EPARSE, "JSON: unexpected data after the document at byte %zu", at);
    }
    *out = v;
    return SP_OK;
}

/* ---- parameter access -------------------------------------------------------------- */

const cJSON *sp_json_param(const cJSON *params, int index, const char *name)
{
    const cJSON *v = NULL;
    if (cJSON_IsArray(params) && index >= 0)
        v = cJSON_GetArrayItem(params, index);
    else if (cJSON_IsObject(params) && name)
        v = cJSON_GetObjectItemCaseSensitive(params, name);
    return cJSON_IsNull(v) ? NULL : v;
}

/* "param 0 (\"sector\")" or "param \"sector\"" */
static void describe_param(const cJSON *params, int index, const char *name, char *buf, size_t n)
{
    if (cJSON_IsArray(params) || !name) {
        if (name)
            snprintf(buf, n, "param %d (\"%s\")", index, name);
        else
            snprintf(buf, n, "param %d", index);
    } else {
        snprintf(buf, n, "param \"%s\"", name);
    }
}

static void describe_value(const cJSON *v, char *buf, size_t n)
{
    if (!v)
        snprintf(buf, n, "nothing (it is missing)");
    else if (cJSON_IsBool(v))
        snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v))
        snprintf(buf, n, "number %.17g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(buf, n, "string \"%.40s%s\"", v->valuestring,
                 strlen(v->valuestring) > 40 ? "..." : "");
    else if (cJSON_IsArray(v))
        snprintf(buf, n, "an array of %d elements", cJSON_GetArraySize(v));
    else if (cJSON_IsObject(v))
        snprintf(buf, n, "an object");
    else
        snprintf(buf, n, "an unsupported value");
}

static sp_code param_fail(sp_err *err, const cJSON *params, int index, const char *name,
                          const cJSON *v, const char *expected)
{
    char who[160], got[96];
    describe_param(params, index, name, who, sizeof who);
    describe_value(v, got, sizeof got);
    return sp_fail(err, SP_EINVAL, "%s: expected %s, got %s", who, expected, got);
}

/* Fetches a present parameter or fails with "missing" naming what was expected. */
static const cJSON *need(const cJSON *params, int index, const char *name, const char *expected,
                         sp_err *err)
{
    if (params && !cJSON_IsArray(params) && !cJSON_IsObject(params)) {
        sp_fail(err, SP_EINVAL, "params must be an array or an object");
        return NULL;
    }
    const cJSON *v = sp_json_param(params, index, name);
    if (!v)
        param_fail(err, params, index, name, NULL, expected);
    return v;
}

/* Parses an optionally negative decimal string into a magnitude; false on bad syntax
 * or a magnitude beyond UINT64_MAX. */
static bool parse_decimal(const char *s, bool allow_minus, bool *neg, uint64_t *mag)
{
    *neg = false;
    if (allow_minus && *s == '-') {
        *neg = true;
        s++;
    }
    if (!*s)
        return false;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *mag = v;
    return true;
}

sp_code sp_json_get_u64(const cJSON *params, int index, const char *name, uint64_t min,
                        uint64_t max, uint64_t *out, sp_err *err)
{
    char expected[96];
    snprintf(expected, sizeof expected, "an unsigned integer in [%llu, %llu]",
             (unsigned long long)min, (unsigned long long)max);
    const cJSON *v = need(params, index, name, expected, err);
    if (!v)
        return SP_EINVAL;
    uint64_t x = 0;
    bool neg = false;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d >= 0 && d < EXACT_MAX && d == floor(d)))
            return param_fail(err, params, index, name, v, expected);
        x = (uint64_t)d;
    } else if (!cJSON_IsString(v) || !parse_decimal(v->valuestring, false, &neg, &x)) {
        return param_fail(err, params, index, name, v, expected);
    }
    if (x < min || x > max)
        return param_fail(err, params, index, name, v, expected);
    *out = x;
    return SP_OK;
}

sp_code sp_json_get_i64(const cJSON *params, int index, const char *name, int64_t min,
                        int64_t max, int64_t *out, sp_err *err)
{
    char expected[96];
    snprintf(expected, sizeof expected, "an integer in [%lld, %lld]", (long long)min,
             (long long)max);
    const cJSON *v = need(params, index, name, expected, err);
    if (!v)
        return SP_EINVAL;
    int64_t x = 0;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!(d > -EXACT_MAX && d < EXACT_MAX && d == floor(d)))
            return param_fail(err, params, index, name, v, expected);
        x = (int64_t)d;
    } else {
        bool neg = false;
        uint64_t mag = 0;
        if (!cJSON_IsString(v) || !parse_decimal(v->valuestring, true, &neg, &mag) ||
            mag > (uint64_t)INT64_MAX + (neg ? 1 : 0))
            return param_fail(err, params, index, name, v, expected);
        x = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    }
    if (x < min || x > max)
        return param_fail(err, params, index, name, v, expected);
    *out = x;
    return SP_OK;
}

sp_code sp_json_get_bool(const cJSON *params, int index, const char *name, bool *out, sp_err *err)
{
    const cJSON *v = need(params, index, name, "true or false", err);
    if (!v)
        return SP_EINVAL;
    if (!cJSON_IsBool(v))
        return param_fail(err, params, index, name, v, "true or false");
    *out = cJSON_IsTrue(v);
    return SP_OK;
}

sp_code sp_json_get_str(const cJSON *params, int index, const char *name, size_t min_len,
                        size_t max_len, const char **out, sp_err *err)
{
    char expected[96];
    snprintf(expected, sizeof expected, "a string of %zu to %zu bytes", min_len, max_len);
    const cJSON *v = need(params, index, name, expected, err);
    if (!v)
        return SP_EINVAL;
    if (!cJSON_IsString(v))
        return param_fail(err, params, index, name, v, expected);
    size_t len = strlen(v->valuestring);
    if (len < min_len || len > max_len)
        return param_fail(err, params, index, name, v, expected);
    *out = v->valuestring;
    return SP_OK;
}

sp_code sp_json_get_hex32(const cJSON *params, int index, const char *name, uint8_t out[32],
                          sp_err *err)
{
    const char *expected = "32 bytes as 64 hex digits";
    const cJSON *v = need(params, index, name, expected, err);
    if (!v)
        return SP_EINVAL;
    if (!cJSON_IsString(v) || sp_hex_decode(v->valuestring, out, 32, NULL) != SP_OK)
        return param_fail(err, params, index, name, v, expected);
    return SP_OK;
}

sp_code sp_json_get_base64(const cJSON *params, int index, const char *name, size_t max_len,
                           uint8_t **out, size_t *out_len, sp_err *err)
{
    char expected[96];
    snprintf(expected, sizeof expected, "base64 text of at most %zu bytes", max_len);
    *out = NULL;
    *out_len = 0;
    const cJSON *v = need(params, index, name, expected, err);
    if (!v)
        return SP_EINVAL;
    /* Reject by text length first so a huge string is never decoded. */
    if (!cJSON_IsString(v) || strlen(v->valuestring) / 4 > max_len / 3 + 1)
        return param_fail(err, params, index, name, v, expected);
    uint8_t *bytes = NULL;
    size_t n = 0;
    if (sp_base64_decode_alloc(v->valuestring, &bytes, &n, NULL) != SP_OK)
        return param_fail(err, params, index, name, v, expected);
    if (n > max_len) {
        free(bytes);
        return param_fail(err, params, index, name, v, expected);
    }
    *out = bytes;
    *out_len = n;
    return SP_OK;
}

sp_code sp_json_get_object(const cJSON *params, int index, const char *name, const cJSON **out,
                           sp_err *err)
{
    const cJSON *v = need(params, index, name, "an object", err);
    if (!v)
        return SP_EINVAL;
    if (!cJSON_IsObject(v))
        return param_fail(err, params, index, name, v, "an object");
    *out = v;
    return SP_OK;
}

sp_code sp_json_get_array(const cJSON *params, int index, const char *name, size_t max_items,
                          const cJSON **out, sp_err *err)
{
    char expected[96];
    snprintf(expected, sizeof expected, "an array of at most %zu elements", max_items);
    const cJSON *v = need(params, index, name, expected, err);
    if (!v)
        return SP_EINVAL;
    if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) > max_items)
        return param_fail(err, params, index, name, v, expected);
    *out = v;
    return SP_OK;
}

/* Absent and well-formed: a params value of the wrong type is left to the getter's error. */
static bool absent(const cJSON *params, int index, const char *name)
{
    return (!params || cJSON_IsArray(params) || cJSON_IsObject(params)) &&
           !sp_json_param(params, index, name);
}

sp_code sp_json_opt_u64(const cJSON *params, int index, const char *name, uint64_t min,
                        uint64_t max, uint64_t def, uint64_t *out, sp_err *err)
{
    if (absent(params, index, name)) {
        *out = def;
        return SP_OK;
    }
    return sp_json_get_u64(params, index, name, min, max, out, err);
}

sp_code sp_json_opt_i64(const cJSON *params, int index, const char *name, int64_t min,
                        int64_t max, int64_t def, int64_t *out, sp_err *err)
{
    if (absent(params, index, name)) {
        *out = def;
        return SP_OK;
    }
    return sp_json_get_i64(params, index, name, min, max, out, err);
}

sp_code sp_json_opt_bool(const cJSON *params, int index, const char *name, bool def, bool *out,
                         sp_err *err)
{
    if (absent(params, index, name)) {
        *out = def;
        return SP_OK;
    }
    return sp_json_get_bool(params, index, name, out, err);
}

sp_code sp_json_opt_str(const cJSON *params, int index, const char *name, size_t min_len,
                        size_t max_len, const char *def, const char **out, sp_err *err)
{
    if (absent(params, index, name)) {
        *out = def;
        return SP_OK;
    }
    return sp_json_get_str(params, index, name, min_len, max_len, out, err);
}

sp_code sp_json_check_params(const cJSON *params, size_t max_positional,
                             const char *const *names, sp_err *err)
{
    if (!params)
        return SP_OK;
    if (cJSON_IsArray(params)) {
        int n = cJSON_GetArraySize(params);
        if ((size_t)n > max_positional)
            return sp_fail(err, SP_EINVAL, "expected at most %zu params, got %d", max_positional, n);
        return SP_OK;
    }
    if (!cJSON_IsObject(params))
        return sp_fail(err, SP_EINVAL, "params must be an array or an object");
    for (const cJSON *item = params->child; item; item = item->next) {
        bool known = false;
        for (size_t i = 0; names && names[i] && !known; i++)
            known = item->string && strcmp(item->string, names[i]) == 0;
        if (known)
            continue;
        char list[256] = "";
        size_t used = 0;
        for (size_t i = 0; names && names[i] && used < sizeof list; i++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", names[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
        return sp_fail(err, SP_EINVAL, "unknown param \"%.64s\" (expected %s%s)",
                       item->string ? item->string : "", names && names[0] ? "one of: " : "none",
                       list);
    }
    return SP_OK;
}

/* ---- builders ---------------------------------------------------------------------- */

cJSON *sp_json_u64(uint64_t v)
{
    if (v < (1ULL << 53))
        return cJSON_CreateNumber((double)v);
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return cJSON_CreateString(buf);
}

cJSON *sp_json_i64(int64_t v)
{
    if (v > -(1LL << 53) && v < (1LL << 53))
        return cJSON_CreateNumber((double)v);
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)v);
    return cJSON_CreateString(buf);
}

cJSON *sp_json_hex(const uint8_t *bytes, size_t len)
{
    if (len > (SIZE_MAX - 1) / 2)
        return NULL;
    char *s = malloc(2 * len + 1);
    if (!s)
        return NULL;
    sp_hex_encode(bytes, len, s);
    cJSON *v = cJSON_CreateString(s);
    free(s);
    return v;
}

cJSON *sp_json_base64(const uint8_t *bytes, size_t len)
{
    char *s = malloc(sp_base64_encoded_len(len) + 1);
    if (!s)
        return NULL;
    sp_base64_encode(bytes, len, s);
    cJSON *v = cJSON_CreateString(s);
    free(s);
    return v;
}

sp_code sp_json_add(cJSON *obj, const char *key, cJSON *item, sp_err *err)
{
    if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        return sp_fail(err, SP_ENOMEM, "JSON: cannot add \"%s\" (out of memory)", key);
    }
    return SP_OK;
}

sp_code sp_json_add_u64(cJSON *obj, const char *key, uint64_t v, sp_err *err)
{
    return sp_json_add(obj, key, sp_json_u64(v), err);
}

sp_code sp_json_add_i64(cJSON *obj, const char *key, int64_t v, sp_err *err)
{
    return sp_json_add(obj, key, sp_json_i64(v), err);
}

sp_code sp_json_add_bool(cJSON *obj, const char *key, bool v, sp_err *err)
{
    return sp_json_add(obj, key, cJSON_CreateBool(v), err);
}

sp_code sp_json_add_str(cJSON *obj, const char *key, const char *v, sp_err *err)
{
    return sp_json_add(obj, key, v ? cJSON_CreateString(v) : cJSON_CreateNull(), err);
}

sp_code sp_json_add_hex(cJSON *obj, const char *key, const uint8_t *bytes, size_t len,
                        sp_err *err)
{
    return sp_json_add(obj, key, sp_json_hex(bytes, len), err);
}

sp_code sp_json_add_base64(cJSON *obj, const char *key, const uint8_t *bytes, size_t len,
                           sp_err *err)
{
    return sp_json_add(obj, key, sp_json_base64(bytes, len), err);
}
