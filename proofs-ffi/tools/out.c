/* out.c — sealproof's argument parsing and result printing shared by every command. */
#include "tool.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_codec.h"
#include "sp_size.h"

static void print_value(const cJSON *v, int indent);

static void print_member(const cJSON *item, int indent)
{
    printf("%*s%s:", indent, "", item->string ? item->string : "");
    if (cJSON_IsObject(item)) {
        putchar('\n');
        for (const cJSON *c = item->child; c; c = c->next)
            print_member(c, indent + 2);
        return;
    }
    putchar(' ');
    print_value(item, indent);
    putchar('\n');
}

static void print_value(const cJSON *v, int indent)
{
    if (cJSON_IsString(v)) {
        fputs(v->valuestring, stdout);
    } else if (cJSON_IsArray(v)) {
        int first = 1;
        for (const cJSON *c = v->child; c; c = c->next) {
            if (!first)
                fputs(", ", stdout);
            first = 0;
            if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
                char *s = cJSON_PrintUnformatted(c);
                fputs(s ? s : "?", stdout);
                free(s);
            } else {
                print_value(c, indent);
            }
        }
    } else if (cJSON_IsBool(v)) {
        fputs(cJSON_IsTrue(v) ? "true" : "false", stdout);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(int64_t)d)
            printf("%" PRId64, (int64_t)d);
        else
            printf("%g", d);
    } else if (cJSON_IsNull(v)) {
        fputs("null", stdout);
    } else {
        char *s = cJSON_PrintUnformatted(v);
        fputs(s ? s : "?", stdout);
        free(s);
    }
}

int tool_emit(cJSON *obj, int json)
{
    if (json) {
        char *s = cJSON_PrintUnformatted(obj);
        puts(s ? s : "{}");
        free(s);
    } else {
        for (const cJSON *c = obj->child; c; c = c->next)
            print_member(c, 0);
    }
    cJSON_Delete(obj);
    fflush(stdout);
    return 0;
}

int tool_fail(const char *cmd, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sealproof %s: %s\n", cmd, msg);
    return 1;
}

int tool_fail_pf(const char *cmd, const pf_error *err)
{
    return tool_fail(cmd, "%s", err->msg[0] ? err->msg : pf_strerror(err->status));
}

int tool_parse_seal_proof(const char *cmd, const char *s, int *id)
{
    int v = pf_seal_proof_parse(s);
    if (v < 0)
        return tool_fail(cmd, "--proof %s: unknown seal proof (use an id 0-19 or a name such as "
                         "StackedDrg2KiBV1_1)", s ? s : "(missing)");
    *id = v;
    return 0;
}

int tool_parse_post_proof(const char *cmd, const char *s, int *id)
{
    int v = pf_post_proof_parse(s);
    if (v < 0)
        return tool_fail(cmd, "--post-proof %s: unknown PoSt proof (use an id 0-14 or a name such "
                         "as StackedDrgWindow2KiBV1_1)", s ? s : "(missing)");
    *id = v;
    return 0;
}

int tool_parse_hex32(const char *cmd, const char *what, const char *s, uint8_t out[32])
{
    sp_err e;
    if (!s)
        return tool_fail(cmd, "%s is required (32 bytes as 64 hex digits)", what);
    if (sp_hex_decode(s, out, 32, &e))
        return tool_fail(cmd, "%s: %s", what, e.msg);
    return 0;
}

int tool_parse_u64(const char *cmd, const char *what, const char *s, uint64_t *out)
{
    if (!s || !*s)
        return tool_fail(cmd, "%s: missing number", what);
    char *end;
    errno = 0;
    if (*s == '-')
        return tool_fail(cmd, "%s %s: must not be negative", what, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return tool_fail(cmd, "%s %s: not a valid unsigned 64-bit number", what, s);
    *out = v;
    return 0;
}

int tool_parse_size(const char *cmd, const char *what, const char *s, uint64_t *out)
{
    sp_err e;
    if (sp_parse_size(s, out, &e))
        return tool_fail(cmd, "%s: %s", what, e.msg);
    return 0;
}

void tool_add_hex32(cJSON *obj, const char *key, const uint8_t v[32])
{
    char h[65];
    sp_hex_encode(v, 32, h);
    cJSON_AddStringToObject(obj, key, h);
}
