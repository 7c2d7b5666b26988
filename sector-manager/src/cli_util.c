/* cli_util.c — what the admin commands share: reaching the daemon of a home with its
 * admin token, calling methods, parsing sector ids, printing. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_cli.h"
#include "sp_fs.h"
#include "sp_json.h"

int sm_cli_usage(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sector-manager %s: %s (see `sector-manager %s --help`)\n", cmd, msg, cmd);
    return 2;
}

int sm_cli_connect(sm_cli *c, const char *home_arg)
{
    sp_err err;
    char base[512], url[600], token[4200];
    c->rpc = NULL;
    if (sm_home_resolve(home_arg, &c->home, &err) != SP_OK ||
        sm_home_base_url(&c->home, base, sizeof base, &err) != SP_OK ||
        sm_home_admin_token(&c->home, token, sizeof token, &err) != SP_OK)
        return sp_cli_fail("%s", err.msg);
    snprintf(url, sizeof url, "%s/rpc/v0", base);
    sp_rpc_client_opts o = { .url = url, .token = token, .timeout_ms = 60000, .retries = 2 };
    sp_code rc = sp_rpc_client_new(&o, &c->rpc, &err);
    explicit_bzero(token, sizeof token);
    if (rc)
        return sp_cli_fail("%s", err.msg);
    return 0;
}

void sm_cli_close(sm_cli *c)
{
    sp_rpc_client_free(c->rpc);
    c->rpc = NULL;
}

int sm_cli_call(sm_cli *c, const char *method, cJSON *params, cJSON **result)
{
    sp_err err;
    int code = 0;
    *result = NULL;
    sp_code rc = sp_rpc_client_call(c->rpc, method, params, result, &code, &err);
    cJSON_Delete(params);
    if (rc == SP_OK)
        return 0;
    if (rc == SP_ENET)
        return sp_cli_fail("%s: the manager of %s does not answer (%s); is `sector-manager run` "
                           "running?", method, c->home.dir, err.msg);
    /* The client's message already names the method. */
    return sp_cli_fail("%s", err.msg);
}

void sm_cli_print_json(const cJSON *v)
{
    char *s = cJSON_Print(v);
    if (s) {
        printf("%s\n", s);
        free(s);
    }
}

static bool parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > INT64_MAX)
        return false;
    *out = v;
    return true;
}

int sm_cli_parse_sector(const char *s, bool has_default, uint64_t default_miner, uint64_t *miner,
                        uint64_t *number)
{
    const char *p = s;
    if (strncmp(p, "s-", 2) == 0)
        p += 2;
    if ((p[0] == 'f' || p[0] == 't') && p[1] == '0')
        p += 2;
    const char *dash = strchr(p, '-');
    char head[32];
    if (dash && (size_t)(dash - p) < sizeof head) {
        memcpy(head, p, (size_t)(dash - p));
        head[dash - p] = 0;
        if (parse_u64(head, miner) && parse_u64(dash + 1, number))
            return 0;
    } else if (!dash && has_default && parse_u64(s, number)) {
        *miner = default_miner;
        return 0;
    }
    fprintf(stderr, "sector-manager: \"%s\" is not a sector id; write s-t01000-5 or 1000-5%s\n", s,
            has_default ? "" : " (or the number with --miner)");
    return 2;
}

uint64_t sm_cli_u64(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v))
        return v->valuedouble < 0 ? 0 : (uint64_t)v->valuedouble;
    if (cJSON_IsString(v))
        return strtoull(v->valuestring, NULL, 10);
    return 0;
}

const char *sm_cli_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

char *sm_cli_ago(uint64_t ms, char *buf, size_t len)
{
    if (!ms) {
        snprintf(buf, len, "-");
        return buf;
    }
    uint64_t now = sp_wall_ms();
    uint64_t s = now > ms ? (now - ms) / 1000 : 0;
    if (s < 120)
        snprintf(buf, len, "%" PRIu64 "s ago", s);
    else if (s < 7200)
        snprintf(buf, len, "%" PRIu64 "m ago", s / 60);
    else if (s < 172800)
        snprintf(buf, len, "%" PRIu64 "h ago", s / 3600);
    else
        snprintf(buf, len, "%" PRIu64 "d ago", s / 86400);
    return buf;
}

int sm_cli_parse_miner(const char *cmd, const char *s, uint64_t *out)
{
    const char *p = s;
    if ((p[0] == 'f' || p[0] == 't') && p[1] == '0')
        p += 2;
    if (parse_u64(p, out))
        return 0;
    return sm_cli_usage(cmd, "\"%s\" is not a miner id (write 1000 or f01000)", s);
}
