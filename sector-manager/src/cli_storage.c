/* cli_storage.c — `storage list|attach|detach|set-weight`: persist stores, shown the way
 * `lotus-miner storage list` shows paths (a capacity bar, reserved space, sectors). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_cli.h"
#include "sm_stores.h"
#include "sp_json.h"
#include "sp_size.h"

#define BAR 50

/* [####*****.........] : # used (stored here or by other files), * reserved, . free. */
static void print_bar(uint64_t total, uint64_t free_bytes, uint64_t reserved)
{
    char bar[BAR + 1];
    uint64_t used = total > free_bytes ? total - free_bytes : 0;
    size_t u = total ? (size_t)((double)used / (double)total * BAR + 0.5) : 0;
    size_t r = total ? (size_t)((double)reserved / (double)total * BAR + 0.5) : 0;
    if (u > BAR)
        u = BAR;
    if (u + r > BAR)
        r = BAR - u;
    memset(bar, '.', BAR);
    memset(bar, '#', u);
    memset(bar + u, '*', r);
    bar[BAR] = 0;
    char a[32], b[32];
    printf("        [%s] %s/%s %d%%\n", bar, sp_format_size_human(used, a, sizeof a),
           sp_format_size_human(total, b, sizeof b), total ? (int)((double)used * 100 / (double)total) : 0);
}

static void miners_text(const cJSON *a, char *out, size_t len)
{
    size_t used = 0;
    out[0] = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, a) {
        int w = snprintf(out + used, len - used, "%sf0%.0f", used ? "," : "", m->valuedouble);
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

static void print_store(const cJSON *s)
{
    char a[32], b[32], allow[256], deny[256];
    printf("%s:\n", sm_cli_str(s, "Name"));
    uint64_t capacity = sm_cli_u64(s, "Capacity"), total = capacity ? capacity : sm_cli_u64(s, "FsTotal");
    bool reachable = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "Reachable"));
    if (total)
        print_bar(total, sm_cli_u64(s, "Available"), sm_cli_u64(s, "Reserved"));
    else
        printf("        [%.*s] unknown size (not reachable and no capacity set)\n", BAR,
               "??????????????????????????????????????????????????");
    printf("        Sectors: %" PRIu64 " (%s); Reserved: %s for %" PRIu64 " sector(s); Available: %s\n",
           sm_cli_u64(s, "Sectors"), sp_format_size_human(sm_cli_u64(s, "Stored"), a, sizeof a),
           sp_format_size_human(sm_cli_u64(s, "Reserved"), b, sizeof b), sm_cli_u64(s, "Reservations"),
           sp_format_size_human(sm_cli_u64(s, "Available"), allow, sizeof allow));
    miners_text(cJSON_GetObjectItemCaseSensitive(s, "AllowMiners"), allow, sizeof allow);
    miners_text(cJSON_GetObjectItemCaseSensitive(s, "DenyMiners"), deny, sizeof deny);
    printf("        Weight: %" PRIu64 "; Tier: %s; Use: %s; Miners: %s%s%s; From: %s\n", sm_cli_u64(s, "Weight"),
           sm_cli_str(s, "Tier"),
           cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "ReadOnly")) ? "read-only" : "Store",
           allow[0] ? allow : "all", deny[0] ? " except " : "", deny, sm_cli_str(s, "Source"));
    printf("        Local: %s%s\n", sm_cli_str(s, "Path"), reachable ? "" : " (not reachable from the manager)");
    char types[128] = "", dtypes[128] = "";
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "AllowTypes"))
        snprintf(types + strlen(types), sizeof types - strlen(types), "%s%s", types[0] ? "," : "", t->valuestring);
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "DenyTypes"))
        snprintf(dtypes + strlen(dtypes), sizeof dtypes - strlen(dtypes), "%s%s", dtypes[0] ? "," : "", t->valuestring);
    printf("        Media: %s; Domain: %s; Types: %s%s%s; Min free: %" PRIu64 "%%\n", sm_cli_str(s, "Media"),
           *sm_cli_str(s, "Domain") ? sm_cli_str(s, "Domain") : "(its own)", types[0] ? types : "all",
           dtypes[0] ? " except " : "", dtypes, sm_cli_u64(s, "MinFreePct"));
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(s, "Health");
    if (cJSON_IsObject(h)) {
        char ago[32];
        bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "OK"));
        const cJSON *sc = cJSON_GetObjectItemCaseSensitive(h, "Score");
        printf("        Health: %s (checked %s, write %" PRIu64 " us, read %" PRIu64 " us, score %.2f)%s%s\n",
               ok ? "ok" : "FAILING", sm_cli_ago(sm_cli_u64(h, "Checked"), ago, sizeof ago),
               sm_cli_u64(h, "WriteMicros"), sm_cli_u64(h, "ReadMicros"), cJSON_IsNumber(sc) ? sc->valuedouble : 1.0,
               ok ? "" : ": ", ok ? "" : sm_cli_str(h, "Error"));
    }
}

int sm_cmd_storage_list(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'j')
            c.json = true;
        else
            return sm_cli_usage("storage list", "unknown option");
    }
    if (optind < argc)
        return sm_cli_usage("storage list", "unexpected argument \"%s\"", argv[optind]);
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *res = NULL;
    int rc = sm_cli_call(&c, "Sealpipe.StorageList", NULL, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else {
            const cJSON *s;
            cJSON_ArrayForEach(s, res)
                print_store(s);
            if (cJSON_GetArraySize(res) == 0)
                printf("no persist stores (declare them in manager.cfg or `storage attach`)\n");
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_storage_attach(int argc, char **argv)
{
    static const struct option opts[] = {
        SM_CLI_COMMON_OPTS, { "name", required_argument, NULL, 'n' },
        { "weight", required_argument, NULL, 'w' }, { "tier", required_argument, NULL, 't' },
        { "readonly", no_argument, NULL, 'r' }, { "allow-miner", required_argument, NULL, 'a' },
        { "deny-miner", required_argument, NULL, 'd' }, { "capacity", required_argument, NULL, 'c' },
        { "media", required_argument, NULL, 'm' }, { "min-free", required_argument, NULL, 'f' },
        { "allow-type", required_argument, NULL, 'T' }, { "deny-type", required_argument, NULL, 'D' },
        { "domain", required_argument, NULL, 'o' },
        { 0 },
    };
    const char *cmd = "storage attach";
    sm_cli c = { 0 };
    const char *home = NULL, *name = NULL, *tier = "warm", *media = "hdd", *domain = "";
    uint64_t weight = 1, capacity = 0, m, min_free = 0;
    cJSON *atypes = cJSON_CreateArray(), *dtypes = cJSON_CreateArray();
    bool ro = false;
    cJSON *allow = cJSON_CreateArray(), *deny = cJSON_CreateArray();
    sp_err err;
    int o, bad = 0;
    optind = 1;
    while (!bad && (o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H': home = optarg; break;
        case 'j': c.json = true; break;
        case 'n': name = optarg; break;
        case 'w':
            weight = strtoull(optarg, NULL, 10);
            if (weight == 0)
                bad = sm_cli_usage(cmd, "--weight must be a positive integer");
            break;
        case 't': tier = optarg; break;
        case 'r': ro = true; break;
        case 'a':
        case 'd':
            if ((bad = sm_cli_parse_miner(cmd, optarg, &m)) == 0)
                cJSON_AddItemToArray(o == 'a' ? allow : deny, sp_json_u64(m));
            break;
        case 'c':
            if (sp_parse_size(optarg, &capacity, &err) != SP_OK)
                bad = sm_cli_usage(cmd, "--capacity: %s", err.msg);
            break;
        case 'm': media = optarg; break;
        case 'o': domain = optarg; break;
        case 'f':
            min_free = strtoull(optarg, NULL, 10);
            if (min_free > 99)
                bad = sm_cli_usage(cmd, "--min-free is a percentage 0..99");
            break;
        case 'T': cJSON_AddItemToArray(atypes, cJSON_CreateString(optarg)); break;
        case 'D': cJSON_AddItemToArray(dtypes, cJSON_CreateString(optarg)); break;
        default: bad = sm_cli_usage(cmd, "unknown option"); break;
        }
    }
    if (!bad && optind != argc - 1)
        bad = sm_cli_usage(cmd, "give exactly one PATH");
    if (!bad && !name)
        bad = sm_cli_usage(cmd, "--name NAME is required (the name workers use for the store)");
    char path[4096];
    if (!bad && !realpath(argv[optind], path))
        bad = sp_cli_fail("%s: %s is not a directory here", cmd, argv[optind]);
    if (bad || sm_cli_connect(&c, home)) {
        cJSON_Delete(allow);
        cJSON_Delete(deny);
        cJSON_Delete(atypes);
        cJSON_Delete(dtypes);
        return bad ? bad : 1;
    }
    cJSON *s = cJSON_CreateObject(), *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddStringToObject(s, "Name", name);
    cJSON_AddStringToObject(s, "Path", path);
    sp_json_add_u64(s, "Weight", weight, NULL);
    cJSON_AddStringToObject(s, "Tier", tier);
    cJSON_AddBoolToObject(s, "ReadOnly", ro);
    cJSON_AddItemToObject(s, "AllowMiners", allow);
    cJSON_AddItemToObject(s, "DenyMiners", deny);
    sp_json_add_u64(s, "Capacity", capacity, NULL);
    cJSON_AddStringToObject(s, "Media", media);
    sp_json_add_u64(s, "MinFreePct", min_free, NULL);
    cJSON_AddItemToObject(s, "AllowTypes", atypes);
    cJSON_AddItemToObject(s, "DenyTypes", dtypes);
    cJSON_AddStringToObject(s, "Domain", domain);
    cJSON_AddItemToArray(params, s);
    int rc = sm_cli_call(&c, "Sealpipe.StorageAttach", params, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else {
            printf("attached store %s at %s\n", name, path);
            print_store(res);
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_storage_detach(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o != 'j')
            return sm_cli_usage("storage detach", "unknown option");
    }
    if (optind != argc - 1)
        return sm_cli_usage("storage detach", "give exactly one store NAME");
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
    int rc = sm_cli_call(&c, "Sealpipe.StorageDetach", params, &res);
    if (rc == 0)
        printf("detached store %s (its files were not touched)\n", argv[optind]);
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_storage_set_weight(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'j')
            c.json = true;
        else
            return sm_cli_usage("storage set-weight", "unknown option");
    }
    if (optind != argc - 2)
        return sm_cli_usage("storage set-weight", "give a store NAME and a WEIGHT");
    char *end;
    unsigned long long w = strtoull(argv[optind + 1], &end, 10);
    if (*end || w == 0)
        return sm_cli_usage("storage set-weight", "WEIGHT must be a positive integer");
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
    cJSON_AddItemToArray(params, sp_json_u64(w));
    int rc = sm_cli_call(&c, "Sealpipe.StorageSetWeight", params, &res);
    if (rc == 0) {
        if (c.json)
            sm_cli_print_json(res);
        else
            print_store(res);
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}
