/* cli_gc.c — `gc list|approve|pin|unpin|pins` (mark and sweep run as jobs: cli_jobs.c). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_cli.h"
#include "sp_json.h"
#include "sp_size.h"

int sm_cmd_gc_list(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "state", required_argument, NULL, 's' }, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL, *state = "";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'j')
            c.json = true;
        else if (o == 's')
            state = optarg;
        else
            return sm_cli_usage("gc list", "unknown option");
    }
    if (optind != argc)
        return sm_cli_usage("gc list", "unexpected argument \"%s\"", argv[optind]);
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddItemToArray(params, cJSON_CreateString(state));
    int rc = sm_cli_call(&c, "Sealpipe.GCList", params, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else {
            const cJSON *m;
            char sz[32], ago[32];
            cJSON_ArrayForEach(m, res)
                printf("%-5" PRIu64 " %-9s %-14s %-60s %8s  %s (marked %s)%s%s\n", sm_cli_u64(m, "ID"),
                       sm_cli_str(m, "State"), sm_cli_str(m, "Store"), sm_cli_str(m, "Path"),
                       sp_format_size_human(sm_cli_u64(m, "Size"), sz, sizeof sz), sm_cli_str(m, "Reason"),
                       sm_cli_ago(sm_cli_u64(m, "Marked"), ago, sizeof ago),
                       *sm_cli_str(m, "Note") ? "; " : "", sm_cli_str(m, "Note"));
            printf("%d mark(s)%s\n", cJSON_GetArraySize(res),
                   cJSON_GetArraySize(res) ? "; `gc approve ID...` then `gc sweep` moves them to the trash" : "");
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_gc_approve(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "all", no_argument, NULL, 'a' }, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    bool all = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'j')
            c.json = true;
        else if (o == 'a')
            all = true;
        else
            return sm_cli_usage("gc approve", "unknown option");
    }
    if (all == (optind < argc))
        return sm_cli_usage("gc approve", "give mark IDs (see `gc list`) or --all");
    cJSON *ids = cJSON_CreateArray();
    for (int i = optind; i < argc; i++) {
        char *end;
        unsigned long long id = strtoull(argv[i], &end, 10);
        if (*end || id == 0) {
            cJSON_Delete(ids);
            return sm_cli_usage("gc approve", "\"%s\" is not a mark ID", argv[i]);
        }
        cJSON_AddItemToArray(ids, sp_json_u64(id));
    }
    if (sm_cli_connect(&c, home)) {
        cJSON_Delete(ids);
        return 1;
    }
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    if (all)
        cJSON_Delete(ids);
    else
        cJSON_AddItemToArray(params, ids);
    int rc = sm_cli_call(&c, all ? "Sealpipe.GCApproveAll" : "Sealpipe.GCApprove", params, &res);
    if (rc == 0) {
        if (c.json)
            sm_cli_print_json(res);
        else
            printf("approved %" PRIu64 " mark(s); `gc sweep` moves them to their store's trash\n",
                   sm_cli_u64(res, "Approved"));
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

static int pin_cmd(const char *cmd, const char *method, int argc, char **argv, bool pin)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "note", required_argument, NULL, 'n' }, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL, *note = "";
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'n' && pin)
            note = optarg;
        else if (o != 'j')
            return sm_cli_usage(cmd, "unknown option");
    }
    if (optind != argc - 1)
        return sm_cli_usage(cmd, "give one TARGET: a sector (s-t01000-5), a piece CID, or an orphan "
                            "(orphan:<store>/<path>)");
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
    if (pin)
        cJSON_AddItemToArray(params, cJSON_CreateString(note));
    int rc = sm_cli_call(&c, method, params, &res);
    if (rc == 0)
        printf("%s %s\n", pin ? "pinned" : "unpinned", argv[optind]);
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_gc_pin(int argc, char **argv)
{
    return pin_cmd("gc pin", "Sealpipe.GCPin", argc, argv, true);
}

int sm_cmd_gc_unpin(int argc, char **argv)
{
    return pin_cmd("gc unpin", "Sealpipe.GCUnpin", argc, argv, false);
}

int sm_cmd_gc_pins(int argc, char **argv)
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
            return sm_cli_usage("gc pins", "unknown option");
    }
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *res = NULL;
    int rc = sm_cli_call(&c, "Sealpipe.GCPins", NULL, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else {
            const cJSON *p;
            cJSON_ArrayForEach(p, res)
                printf("%-70s (%s)\n", sm_cli_str(p, "Target"), sm_cli_str(p, "From"));
            printf("%d pin(s)\n", cJSON_GetArraySize(res));
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}
