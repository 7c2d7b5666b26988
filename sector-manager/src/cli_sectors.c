/* cli_sectors.c — `sectors list|show|abort|restore`. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sealproofs.h"
#include "sm_cli.h"
#include "sm_rpc.h"
#include "sp_json.h"
#include "sp_size.h"

static const char *proof_size(int64_t id, char *buf, size_t len)
{
    const pf_seal_proof_info *pi = pf_seal_proof((int)id);
    if (!pi)
        snprintf(buf, len, "%" PRId64, id);
    else
        sp_format_size(pi->sector_size, buf, len);
    return buf;
}

static void print_summary_row(const cJSON *s)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "ID");
    char sid[64], size[16], ago[32], note[160] = "";
    snprintf(sid, sizeof sid, "s-t0%" PRIu64 "-%" PRIu64, sm_cli_u64(id, "Miner"), sm_cli_u64(id, "Number"));
    if (*sm_cli_str(s, "AbortReason"))
        snprintf(note, sizeof note, "aborted: %.140s", sm_cli_str(s, "AbortReason"));
    else if (*sm_cli_str(s, "LastError"))
        snprintf(note, sizeof note, "%.150s", sm_cli_str(s, "LastError"));
    else if (*sm_cli_str(s, "Store"))
        snprintf(note, sizeof note, "store %.140s", sm_cli_str(s, "Store"));
    printf("%-22s %-7s %-22s %-16s %-9s %s\n", sid, proof_size((int64_t)sm_cli_u64(s, "ProofType"), size, sizeof size),
           sm_cli_str(s, "State"), *sm_cli_str(s, "Worker") ? sm_cli_str(s, "Worker") : "-",
           sm_cli_ago(sm_cli_u64(s, "Updated"), ago, sizeof ago), note);
}

int sm_cmd_sectors_list(int argc, char **argv)
{
    static const struct option opts[] = {
        SM_CLI_COMMON_OPTS, { "state", required_argument, NULL, 's' },
        { "miner", required_argument, NULL, 'm' }, { "limit", required_argument, NULL, 'l' }, { 0 },
    };
    sm_cli c = { 0 };
    const char *home = NULL, *state = NULL;
    uint64_t miner = 0, limit = 0;
    bool has_miner = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H': home = optarg; break;
        case 'j': c.json = true; break;
        case 's': state = optarg; break;
        case 'm':
            if (sm_cli_parse_miner("sectors list", optarg, &miner))
                return 2;
            has_miner = true;
            break;
        case 'l': limit = strtoull(optarg, NULL, 10); break;
        default: return sm_cli_usage("sectors list", "unknown option");
        }
    }
    if (optind < argc)
        return sm_cli_usage("sectors list", "unexpected argument \"%s\"", argv[optind]);
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *f = cJSON_CreateObject(), *params = cJSON_CreateArray(), *res = NULL;
    if (state)
        cJSON_AddStringToObject(f, "State", state);
    if (has_miner)
        sp_json_add_u64(f, "Miner", miner, NULL);
    if (limit)
        sp_json_add_u64(f, "Limit", limit, NULL);
    cJSON_AddItemToArray(params, f);
    int rc = sm_cli_call(&c, "Sealpipe.SectorsList", params, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else {
            printf("%-22s %-7s %-22s %-16s %-9s %s\n", "SECTOR", "SIZE", "STATE", "WORKER", "UPDATED", "NOTE");
            const cJSON *s;
            cJSON_ArrayForEach(s, res)
                print_summary_row(s);
            printf("%d sector(s)\n", cJSON_GetArraySize(res));
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

static void print_time(const char *label, uint64_t ms)
{
    char buf[64], ago[32];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("%-13s %s (%s)\n", label, buf, sm_cli_ago(ms, ago, sizeof ago));
}

static void print_detail(const cJSON *s)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "ID");
    char size[16];
    printf("Sector:       s-t0%" PRIu64 "-%" PRIu64 "\n", sm_cli_u64(id, "Miner"), sm_cli_u64(id, "Number"));
    printf("Proof:        %" PRIu64 " (%s)\n", sm_cli_u64(s, "ProofType"),
           proof_size((int64_t)sm_cli_u64(s, "ProofType"), size, sizeof size));
    printf("State:        %s\n", sm_cli_str(s, "State"));
    if (*sm_cli_str(s, "AbortReason"))
        printf("Abort reason: %s (was %s)\n", sm_cli_str(s, "AbortReason"), sm_cli_str(s, "PreAbortState"));
    if (*sm_cli_str(s, "LastError"))
        printf("Last error:   %s\n", sm_cli_str(s, "LastError"));
    printf("Worker:       %s %s\n", *sm_cli_str(s, "Worker") ? sm_cli_str(s, "Worker") : "-",
           sm_cli_str(s, "Location"));
    printf("Finalized:    %s\n", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "Finalized")) ? "yes" : "no");
    print_time("Created:", sm_cli_u64(s, "Created"));
    print_time("Updated:", sm_cli_u64(s, "Updated"));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "Ticket");
    if (cJSON_IsObject(t))
        printf("Ticket:       epoch %" PRIu64 " %s\n", sm_cli_u64(t, "Epoch"), sm_cli_str(t, "Ticket"));
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(s, "PreCommit");
    if (cJSON_IsObject(pc)) {
        printf("PreCommit:    %s, submitted at epoch %" PRIu64, sm_cli_str(pc, "State"),
               sm_cli_u64(pc, "SubmitEpoch"));
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(pc, "Epoch")))
            printf(", landed at %" PRIu64, sm_cli_u64(pc, "Epoch"));
        printf(", ticket epoch %" PRIu64 "\n", sm_cli_u64(pc, "TicketEpoch"));
        printf("  CommR:      %s\n  CommD:      %s\n", sm_cli_str(pc, "CommR"), sm_cli_str(pc, "CommD"));
        if (*sm_cli_str(pc, "Desc"))
            printf("  %s\n", sm_cli_str(pc, "Desc"));
    }
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(s, "Seed");
    if (cJSON_IsObject(seed))
        printf("Seed:         epoch %" PRIu64 " %s\n", sm_cli_u64(seed, "Epoch"), sm_cli_str(seed, "Seed"));
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(s, "Proof");
    if (cJSON_IsObject(pr)) {
        printf("ProveCommit:  %s, submitted at epoch %" PRIu64, sm_cli_str(pr, "State"),
               sm_cli_u64(pr, "SubmitEpoch"));
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(pr, "Epoch")))
            printf(", landed at %" PRIu64, sm_cli_u64(pr, "Epoch"));
        printf("\n");
        if (*sm_cli_str(pr, "Desc"))
            printf("  %s\n", sm_cli_str(pr, "Desc"));
    }
    if (*sm_cli_str(s, "Store")) {
        char b[32];
        printf("Store:        %s (%s)\n", sm_cli_str(s, "Store"),
               sp_format_size_human(sm_cli_u64(s, "StoreBytes"), b, sizeof b));
    }
    const cJSON *deals = cJSON_GetObjectItemCaseSensitive(s, "Deals");
    if (cJSON_GetArraySize(deals) > 0) {
        printf("Deals:\n");
        const cJSON *d;
        cJSON_ArrayForEach(d, deals)
            printf("  deal %-6" PRIu64 " %s size %" PRIu64 " offset %" PRIu64 "\n", sm_cli_u64(d, "DealID"),
                   sm_cli_str(d, "PieceCID"), sm_cli_u64(d, "Size"), sm_cli_u64(d, "Offset"));
    }
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(s, "Events");
    printf("History:\n");
    const cJSON *e;
    cJSON_ArrayForEach(e, ev) {
        char when[32];
        time_t tt = (time_t)(sm_cli_u64(e, "At") / 1000);
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        printf("  %s.%03" PRIu64 " %-7s %-14s", when, sm_cli_u64(e, "At") % 1000, sm_cli_str(e, "Source"),
               sm_cli_str(e, "Event"));
        if (*sm_cli_str(e, "Next"))
            printf(" %s -> %s", *sm_cli_str(e, "Prev") ? sm_cli_str(e, "Prev") : "?", sm_cli_str(e, "Next"));
        if (*sm_cli_str(e, "Worker"))
            printf(" [%s]", sm_cli_str(e, "Worker"));
        if (*sm_cli_str(e, "Level") || *sm_cli_str(e, "Desc"))
            printf(" %s%s%s", sm_cli_str(e, "Level"), *sm_cli_str(e, "Level") ? ": " : "", sm_cli_str(e, "Desc"));
        printf("\n");
    }
}

/* Shared by show/abort/restore: SECTOR [--miner ID] [--reason TEXT]. */
static int sector_command(const char *cmd, const char *method, bool with_reason, int argc, char **argv)
{
    static const struct option opts[] = {
        SM_CLI_COMMON_OPTS, { "miner", required_argument, NULL, 'm' },
        { "reason", required_argument, NULL, 'r' }, { 0 },
    };
    sm_cli c = { 0 };
    const char *home = NULL, *reason = "";
    uint64_t dminer = 0, miner, number;
    bool has_miner = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H': home = optarg; break;
        case 'j': c.json = true; break;
        case 'm':
            if (sm_cli_parse_miner(cmd, optarg, &dminer))
                return 2;
            has_miner = true;
            break;
        case 'r':
            if (!with_reason)
                return sm_cli_usage(cmd, "--reason is only for sectors abort");
            reason = optarg;
            break;
        default: return sm_cli_usage(cmd, "unknown option");
        }
    }
    if (optind != argc - 1)
        return sm_cli_usage(cmd, "give exactly one SECTOR");
    if (sm_cli_parse_sector(argv[optind], has_miner, dminer, &miner, &number))
        return 2;
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddItemToArray(params, sm_rpc_sector_id_json(miner, number));
    if (with_reason)
        cJSON_AddItemToArray(params, cJSON_CreateString(reason));
    int rc = sm_cli_call(&c, method, params, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else {
            if (strcmp(method, "Sealpipe.SectorAbort") == 0)
                printf("aborted s-t0%" PRIu64 "-%" PRIu64 "; its worker drops it at its next report\n",
                       miner, number);
            else if (strcmp(method, "Sealpipe.SectorRestore") == 0)
                printf("restored s-t0%" PRIu64 "-%" PRIu64 " to %s\n", miner, number, sm_cli_str(res, "State"));
            print_detail(res);
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_sectors_show(int argc, char **argv)
{
    return sector_command("sectors show", "Sealpipe.SectorShow", false, argc, argv);
}

int sm_cmd_sectors_abort(int argc, char **argv)
{
    return sector_command("sectors abort", "Sealpipe.SectorAbort", true, argc, argv);
}

int sm_cmd_sectors_restore(int argc, char **argv)
{
    return sector_command("sectors restore", "Sealpipe.SectorRestore", false, argc, argv);
}
