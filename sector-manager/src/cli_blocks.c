/* cli_blocks.c — `blocks stat CID` (where a block is: pieces, offsets, sectors, copies,
 * caches), `blocks get CID [--out FILE] [--car]` (fetched through the daemon's retrieval
 * path, as a client would, and checked against the CID here too) and `pieces show`
 * (a piece, its deals, its block index, its copies and unseal tasks). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sm_cid.h"
#include "sm_cli.h"
#include "sp_fs.h"
#include "sp_http.h"
#include "sp_json.h"
#include "sp_size.h"

int sm_cmd_blocks_stat(int argc, char **argv)
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
            return sm_cli_usage("blocks stat", "unknown option");
    }
    if (optind != argc - 1)
        return sm_cli_usage("blocks stat", "give exactly one CID");
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
    int rc = sm_cli_call(&c, "Sealpipe.BlockStat", params, &res);
    if (rc == 0 && c.json) {
        sm_cli_print_json(res);
    } else if (rc == 0) {
        printf("%s\n  codec %s, %" PRIu64 " bytes, multihash %s\n  cached: L1 %s, L2 %s\n",
               sm_cli_str(res, "CID"), sm_cli_str(res, "Codec"), sm_cli_u64(res, "Size"),
               sm_cli_str(res, "Multihash"),
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "InL1")) ? "yes" : "no",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(res, "InL2")) ? "yes" : "no");
        const cJSON *l;
        cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(res, "Locations")) {
            printf("  piece %s offset %" PRIu64 " length %" PRIu64 "\n", sm_cli_str(l, "PieceCID"),
                   sm_cli_u64(l, "Offset"), sm_cli_u64(l, "Length"));
            const cJSON *s;
            cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(l, "Sectors")) {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(s, "ID");
                printf("    sector s-t0%" PRIu64 "-%" PRIu64 " (%s), piece at unpadded offset %" PRIu64
                       ", block at %" PRIu64 "\n", sm_cli_u64(id, "Miner"), sm_cli_u64(id, "Number"),
                       sm_cli_str(s, "DealState"), sm_cli_u64(s, "PieceOffset"),
                       sm_cli_u64(s, "PieceOffset") + sm_cli_u64(l, "Offset"));
            }
            cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(l, "Copies"))
                printf("    copy %-16s %-11s %s\n", *sm_cli_str(s, "Store") ? sm_cli_str(s, "Store") : "(piece store)",
                       sm_cli_str(s, "Tier"), sm_cli_str(s, "State"));
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_blocks_get(int argc, char **argv)
{
    static const struct option opts[] = { { "home", required_argument, NULL, 'H' },
                                          { "out", required_argument, NULL, 'o' },
                                          { "car", no_argument, NULL, 'c' }, { 0 } };
    const char *home_arg = NULL, *out = NULL;
    bool car = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home_arg = optarg;
        else if (o == 'o')
            out = optarg;
        else if (o == 'c')
            car = true;
        else
            return sm_cli_usage("blocks get", "unknown option");
    }
    if (optind != argc - 1)
        return sm_cli_usage("blocks get", "give exactly one CID");
    sm_cid cid;
    sp_err err;
    if (sm_cid_parse(argv[optind], &cid, &err) != SP_OK)
        return sp_cli_fail("blocks get: %s", err.msg);
    sm_home home;
    char base[512], token[4200], url[1024];
    if (sm_home_resolve(home_arg, &home, &err) != SP_OK || sm_home_base_url(&home, base, sizeof base, &err) != SP_OK ||
        sm_home_admin_token(&home, token, sizeof token, &err) != SP_OK || sp_http_global_init(&err) != SP_OK)
        return sp_cli_fail("%s", err.msg);
    char canon[SM_CID_STR_MAX];
    sm_cid_format(&cid, canon, sizeof canon);
    snprintf(url, sizeof url, "%s/ipfs/%s?format=%s", base, canon, car ? "car" : "raw");
    /* Into a temporary file first: only a block that checks out reaches --out or stdout. */
    char tmp[] = "/tmp/sealpipe-block-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd < 0)
        return sp_cli_fail("blocks get: a temporary file: %s", strerror(errno));
    unlink(tmp);
    sp_http_get_opts go = { .token = token, .max_bytes = 128 << 20, .timeout_ms = 120000 };
    sp_http_get_result res;
    sp_code rc = sp_http_get_to_fd(url, &go, fd, &res, &err);
    explicit_bzero(token, sizeof token);
    int code = 0;
    uint8_t *data = NULL;
    if (rc) {
        code = sp_cli_fail("blocks get %s: %s%s", canon, err.msg,
                           res.retry_after_s ? " (the data is being unsealed; try again later)" : "");
        goto out;
    }
    data = malloc(res.bytes ? (size_t)res.bytes : 1);
    ssize_t r = data ? pread(fd, data, (size_t)res.bytes, 0) : -1;
    if (r < 0 || (uint64_t)r != res.bytes) {
        code = sp_cli_fail("blocks get: reading back the download failed");
        goto out;
    }
    size_t got = (size_t)r;
    if (!car && sm_mh_verify(cid.mh, cid.mh_len, data, got, &err) != SP_OK) {
        code = sp_cli_fail("blocks get %s: the bytes received do not match the CID (%s)", canon, err.msg);
        goto out;
    }
    if (out) {
        if (sp_write_file_atomic(out, data, got, 0644, &err) != SP_OK)
            code = sp_cli_fail("blocks get: %s", err.msg);
        else
            fprintf(stderr, "%s: %zu bytes written to %s\n", canon, got, out);
    } else if (fwrite(data, 1, got, stdout) != got || fflush(stdout) != 0) {
        code = sp_cli_fail("blocks get: writing to stdout: %s", strerror(errno));
    }
out:
    free(data);
    close(fd);
    return code;
}

/* ---- pieces show ----------------------------------------------------------------------------- */

int sm_cmd_pieces_show(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "blocks", required_argument, NULL, 'b' }, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    uint64_t max_blocks = 1000;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'j')
            c.json = true;
        else if (o == 'b')
            max_blocks = strtoull(optarg, NULL, 10);
        else
            return sm_cli_usage("pieces show", "unknown option");
    }
    if (optind != argc - 1)
        return sm_cli_usage("pieces show", "give exactly one PIECE-CID");
    if (max_blocks > 10000)
        max_blocks = 10000;
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *piece = NULL, *blocks = NULL;
    cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
    int rc = sm_cli_call(&c, "Sealpipe.PieceShow", params, &piece);
    if (rc == 0) {
        params = cJSON_CreateArray();
        cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
        cJSON_AddItemToArray(params, cJSON_CreateNull());
        cJSON_AddItemToArray(params, sp_json_u64(max_blocks ? max_blocks : 1));
        rc = sm_cli_call(&c, "Sealpipe.PieceBlocks", params, &blocks);
    }
    if (rc == 0) {
        const char *keys[] = { "Index", "Blocks", "Copies", "Unseal" };
        for (size_t i = 0; i < 4; i++)
            cJSON_AddItemToObject(piece, keys[i], cJSON_DetachItemFromObjectCaseSensitive(blocks, keys[i]));
        if (c.json) {
            sm_cli_print_json(piece);
        } else {
            char a[32], ago[32];
            printf("%s  %" PRIu64 " bytes, piece size %s, imported %s from %s\n", sm_cli_str(piece, "PieceCID"),
                   sm_cli_u64(piece, "PayloadSize"), sp_format_size(sm_cli_u64(piece, "PaddedSize"), a, sizeof a),
                   sm_cli_ago(sm_cli_u64(piece, "Imported"), ago, sizeof ago), sm_cli_str(piece, "Source"));
            const cJSON *d;
            printf("deals:\n");
            cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(piece, "Deals")) {
                printf("  deal %-6" PRIu64 " miner f0%-8" PRIu64 " %-9s", sm_cli_u64(d, "DealID"),
                       sm_cli_u64(d, "Miner"), sm_cli_str(d, "State"));
                if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "Sector")))
                    printf(" sector s-t0%" PRIu64 "-%" PRIu64 " offset %" PRIu64, sm_cli_u64(d, "Miner"),
                           sm_cli_u64(d, "Sector"), sm_cli_u64(d, "Offset"));
                printf("\n");
            }
            const cJSON *idx = cJSON_GetObjectItemCaseSensitive(piece, "Index");
            printf("index: %s, %s, %" PRIu64 " blocks%s%s%s%s\n", sm_cli_str(idx, "State"),
                   *sm_cli_str(idx, "Kind") ? sm_cli_str(idx, "Kind") : "-", sm_cli_u64(idx, "Blocks"),
                   *sm_cli_str(idx, "Roots") ? "; roots " : "", sm_cli_str(idx, "Roots"),
                   *sm_cli_str(idx, "Error") ? "; error: " : "", sm_cli_str(idx, "Error"));
            printf("copies:\n");
            cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(piece, "Copies"))
                printf("  %-16s %-11s %-8s %" PRIu64 " bytes%s%s\n",
                       *sm_cli_str(d, "Store") ? sm_cli_str(d, "Store") : "(piece store)", sm_cli_str(d, "Tier"),
                       sm_cli_str(d, "State"), sm_cli_u64(d, "Size"), *sm_cli_str(d, "Finding") ? "  " : "",
                       sm_cli_str(d, "Finding"));
            const cJSON *u = cJSON_GetObjectItemCaseSensitive(piece, "Unseal");
            if (cJSON_GetArraySize(u)) {
                printf("unseal tasks:\n");
                cJSON_ArrayForEach(d, u) {
                    const cJSON *id = cJSON_GetObjectItemCaseSensitive(d, "Sector");
                    printf("  %-4" PRIu64 " %-9s sector s-t0%" PRIu64 "-%" PRIu64 " attempts %" PRIu64 "%s%s\n",
                           sm_cli_u64(d, "ID"), sm_cli_str(d, "State"), sm_cli_u64(id, "Miner"),
                           sm_cli_u64(id, "Number"), sm_cli_u64(d, "Attempts"), *sm_cli_str(d, "Error") ? ": " : "",
                           sm_cli_str(d, "Error"));
                }
            }
            const cJSON *bl = cJSON_GetObjectItemCaseSensitive(piece, "Blocks");
            printf("blocks (%d shown):\n", cJSON_GetArraySize(bl));
            cJSON_ArrayForEach(d, bl)
                printf("  %-62s %-9s offset %-10" PRIu64 " length %" PRIu64 "\n", sm_cli_str(d, "CID"),
                       sm_cli_str(d, "Codec"), sm_cli_u64(d, "Offset"), sm_cli_u64(d, "Length"));
        }
    }
    cJSON_Delete(piece);
    cJSON_Delete(blocks);
    sm_cli_close(&c);
    return rc;
}
