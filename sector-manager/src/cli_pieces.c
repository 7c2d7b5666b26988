/* cli_pieces.c — `pieces import|list|show`.  Import computes CommP here, in the CLI
 * process, while copying the file into the daemon's piece store, so the daemon never
 * spends a request thread on hashing; then it asks the daemon to record the piece and
 * queue its deal. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm_cli.h"
#include "sm_pieces.h"
#include "sp_json.h"
#include "sp_size.h"

int sm_cmd_pieces_import(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "miner", required_argument, NULL, 'm' }, { 0 } };
    const char *cmd = "pieces import";
    sm_cli c = { 0 };
    const char *home = NULL;
    uint64_t miner = 0;
    bool has_miner = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H': home = optarg; break;
        case 'j': c.json = true; break;
        case 'm':
            if (sm_cli_parse_miner(cmd, optarg, &miner))
                return 2;
            has_miner = true;
            break;
        default: return sm_cli_usage(cmd, "unknown option");
        }
    }
    if (optind != argc - 1)
        return sm_cli_usage(cmd, "give exactly one FILE");
    if (!has_miner)
        return sm_cli_usage(cmd, "--miner ID is required");
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *info = NULL, *res = NULL;
    int rc = sm_cli_call(&c, "Sealpipe.PieceStoreInfo", NULL, &info);
    if (rc)
        goto out;
    sm_piece p;
    sp_err err;
    if (sm_pieces_store_file(sm_cli_str(info, "Path"), argv[optind], &p, &err) != SP_OK) {
        rc = sp_cli_fail("%s: %s", cmd, err.msg);
        goto out;
    }
    cJSON *arg = cJSON_CreateObject(), *params = cJSON_CreateArray();
    cJSON_AddStringToObject(arg, "PieceCID", p.cid);
    sp_json_add_u64(arg, "PayloadSize", p.payload_size, NULL);
    sp_json_add_u64(arg, "PaddedSize", p.padded_size, NULL);
    sp_json_add_u64(arg, "Miner", miner, NULL);
    cJSON_AddStringToObject(arg, "Source", p.source);
    cJSON_AddItemToArray(params, arg);
    if ((rc = sm_cli_call(&c, "Sealpipe.PieceImport", params, &res)))
        goto out;
    if (c.json) {
        sm_cli_print_json(res);
    } else {
        char a[32];
        printf("imported %s (%" PRIu64 " bytes, piece size %s) as deal %" PRIu64 " for miner f0%" PRIu64 "%s\n",
               p.cid, p.payload_size, sp_format_size(p.padded_size, a, sizeof a), sm_cli_u64(res, "DealID"),
               miner, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "DealsEnabled"))
                          ? "" : "; note: deals = false for this miner, so no sector will take it");
        printf("%s\n", p.cid);
    }
out:
    cJSON_Delete(info);
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

static void print_deals(const cJSON *deals)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, deals) {
        printf("    deal %-6" PRIu64 " miner f0%-8" PRIu64 " %-9s", sm_cli_u64(d, "DealID"),
               sm_cli_u64(d, "Miner"), sm_cli_str(d, "State"));
        if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "Sector")))
            printf(" sector s-t0%" PRIu64 "-%" PRIu64 " offset %" PRIu64, sm_cli_u64(d, "Miner"),
                   sm_cli_u64(d, "Sector"), sm_cli_u64(d, "Offset"));
        printf("\n");
    }
}

static void print_piece(const cJSON *p)
{
    char a[32], ago[32];
    printf("%s  %12" PRIu64 " bytes  piece %-6s  %-9s %s\n", sm_cli_str(p, "PieceCID"), sm_cli_u64(p, "PayloadSize"),
           sp_format_size(sm_cli_u64(p, "PaddedSize"), a, sizeof a),
           sm_cli_ago(sm_cli_u64(p, "Imported"), ago, sizeof ago), sm_cli_str(p, "Source"));
    print_deals(cJSON_GetObjectItemCaseSensitive(p, "Deals"));
}

static int pieces_query(const char *cmd, const char *method, bool want_arg, int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "limit", required_argument, NULL, 'l' }, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    uint64_t limit = 0;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'j')
            c.json = true;
        else if (o == 'l' && !want_arg)
            limit = strtoull(optarg, NULL, 10);
        else
            return sm_cli_usage(cmd, "unknown option");
    }
    if (optind != argc - (want_arg ? 1 : 0))
        return sm_cli_usage(cmd, want_arg ? "give exactly one PIECE-CID" : "no arguments expected");
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    if (want_arg)
        cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
    else if (limit)
        cJSON_AddItemToArray(params, sp_json_u64(limit));
    int rc = sm_cli_call(&c, method, params, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else if (want_arg) {
            print_piece(res);
        } else {
            const cJSON *p;
            cJSON_ArrayForEach(p, res)
                print_piece(p);
            printf("%d piece(s)\n", cJSON_GetArraySize(res));
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_pieces_list(int argc, char **argv)
{
    return pieces_query("pieces list", "Sealpipe.PiecesList", false, argc, argv);
}

/* `pieces show` is in cli_blocks.c: it also lists the piece's blocks and copies. */
