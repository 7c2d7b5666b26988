/* cli_misc.c — `workers list`, `chain head`, `miners list`: small read-only views. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm_cli.h"
#include "sp_size.h"

typedef void (*printer)(const cJSON *res);

/* A command with only --home and --json that calls method without params. */
static int simple(const char *cmd, const char *method, printer print, int argc, char **argv)
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
            return sm_cli_usage(cmd, "unknown option");
    }
    if (optind < argc)
        return sm_cli_usage(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *res = NULL;
    int rc = sm_cli_call(&c, method, NULL, &res);
    if (rc == 0) {
        if (c.json)
            sm_cli_print_json(res);
        else
            print(res);
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}

static void print_workers(const cJSON *res)
{
    printf("%-20s %-22s %-10s %-10s %7s %7s %7s %7s %7s %7s\n", "WORKER", "ADDRESS", "VERSION", "PING",
           "THREADS", "RUNNING", "WAITING", "PAUSED", "ERRORS", "SECTORS");
    const cJSON *w;
    cJSON_ArrayForEach(w, res) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(w, "Summary");
        char ago[32];
        printf("%-20s %-22s %-10s %-10s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
               " %7" PRIu64 "\n", sm_cli_str(w, "Name"), *sm_cli_str(w, "Dest") ? sm_cli_str(w, "Dest") : "-",
               *sm_cli_str(w, "Version") ? sm_cli_str(w, "Version") : "-",
               sm_cli_ago(sm_cli_u64(w, "LastPing"), ago, sizeof ago), sm_cli_u64(s, "Threads"),
               sm_cli_u64(s, "Running"), sm_cli_u64(s, "Waiting"), sm_cli_u64(s, "Paused"),
               sm_cli_u64(s, "Errors"), sm_cli_u64(w, "Sectors"));
    }
    printf("%d worker(s)\n", cJSON_GetArraySize(res));
}

int sm_cmd_workers_list(int argc, char **argv)
{
    return simple("workers list", "Sealpipe.WorkersList", print_workers, argc, argv);
}

static void print_head(const cJSON *res)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(res, "Params");
    char bt[32], when[64];
    time_t g = (time_t)(sm_cli_u64(res, "Genesis") / 1000);
    struct tm tm;
    gmtime_r(&g, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    printf("Epoch:           %" PRIu64 "\n", sm_cli_u64(res, "Epoch"));
    printf("Chain:           %s, block time %s, genesis %s\n", sm_cli_str(res, "Kind"),
           sp_format_duration(sm_cli_u64(res, "BlockTimeMs"), bt, sizeof bt), when);
    printf("TicketLookback:  %" PRIu64 "\nMaxTicketAge:    %" PRIu64 "\nPreCommitLanding: %" PRIu64
           "\nChallengeDelay:  %" PRIu64 "\nSeedConfidence:  %" PRIu64 "\nProofLanding:    %" PRIu64
           "\nMaxProveDuration: %" PRIu64 "\n", sm_cli_u64(p, "TicketLookback"), sm_cli_u64(p, "MaxTicketAge"),
           sm_cli_u64(p, "PreCommitLanding"), sm_cli_u64(p, "ChallengeDelay"), sm_cli_u64(p, "SeedConfidence"),
           sm_cli_u64(p, "ProofLanding"), sm_cli_u64(p, "MaxProveDuration"));
}

int sm_cmd_chain_head(int argc, char **argv)
{
    return simple("chain head", "Sealpipe.ChainHead", print_head, argc, argv);
}

static void print_miners(const cJSON *res)
{
    printf("%-12s %-16s %-8s %-6s %-12s %-12s %s\n", "MINER", "SIZES", "ENABLED", "DEALS", "NEXT", "ALLOCATED",
           "RANGE");
    const cJSON *m;
    cJSON_ArrayForEach(m, res) {
        char sizes[128] = "", one[32], range[64];
        size_t used = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(m, "SectorSizes")) {
            sp_format_size((uint64_t)s->valuedouble, one, sizeof one);
            int w = snprintf(sizes + used, sizeof sizes - used, "%s%s", used ? "," : "", one);
            if (w > 0 && (size_t)w < sizeof sizes - used)
                used += (size_t)w;
        }
        uint64_t max = sm_cli_u64(m, "MaxNumber");
        if (max >= (uint64_t)INT64_MAX)
            snprintf(range, sizeof range, "%" PRIu64 "-", sm_cli_u64(m, "FirstNumber"));
        else
            snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, sm_cli_u64(m, "FirstNumber"), max);
        char actor[32];
        snprintf(actor, sizeof actor, "f0%" PRIu64, sm_cli_u64(m, "Actor"));
        printf("%-12s %-16s %-8s %-6s %-12" PRIu64 " %-12" PRIu64 " %s\n", actor, sizes,
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "Enabled")) ? "yes" : "no",
               cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "Deals")) ? "yes" : "no",
               sm_cli_u64(m, "NextNumber"), sm_cli_u64(m, "Allocated"), range);
    }
    printf("%d miner(s)\n", cJSON_GetArraySize(res));
}

int sm_cmd_miners_list(int argc, char **argv)
{
    return simple("miners list", "Sealpipe.MinersList", print_miners, argc, argv);
}
