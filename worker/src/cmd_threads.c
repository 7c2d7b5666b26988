/* cmd_threads.c — `seal-worker threads list|pause|resume|abort`: the operator's view and
 * control of a running worker's sealing threads through its admin API (wk_admin.h), and
 * the live part of `seal-worker info`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_jsonrpc.h"
#include "sp_size.h"
#include "wk_cli.h"
#include "wk_config.h"
#include "wk_mgr.h"

typedef struct thr_args {
    const char *config;
    const char *address;
    const char *token_file;
    const char *state;
    const char *reason;
    bool json;
    long index;
} thr_args;

static int parse(int argc, char **argv, thr_args *a, bool want_index)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },  { "address", required_argument, NULL, 'a' },
        { "token-file", required_argument, NULL, 't' }, { "state", required_argument, NULL, 's' },
        { "reason", required_argument, NULL, 'r' },  { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    a->index = -1;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:a:t:s:r:j", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': a->config = optarg; break;
        case 'a': a->address = optarg; break;
        case 't': a->token_file = optarg; break;
        case 's': a->state = optarg; break;
        case 'r': a->reason = optarg; break;
        case 'j': a->json = true; break;
        default:
            sp_cli_fail("%s: unknown option or missing value near '%s'; see '%s --help'", argv[0],
                        argv[optind - 1], argv[0]);
            return 2;
        }
    }
    if (want_index) {
        char *end = NULL;
        if (optind >= argc || (a->index = strtol(argv[optind], &end, 10)) < 0 || *end) {
            sp_cli_fail("%s: give the thread's index (as `seal-worker threads list` shows it)",
                        argv[0]);
            return 2;
        }
        optind++;
    }
    if (optind < argc) {
        sp_cli_fail("%s: unexpected argument '%s'", argv[0], argv[optind]);
        return 2;
    }
    if (!a->config && (!a->address || !a->token_file)) {
        sp_cli_fail("%s: give -c FILE (the worker's config), or --address and --token-file",
                    argv[0]);
        return 2;
    }
    return 0;
}

/* The admin API's client from the config (listen, token) or the explicit options. */
static int connect_admin(const thr_args *a, sp_rpc_client **out, char *addr, size_t addr_len)
{
    wk_config cfg = { 0 };
    char *token = NULL;
    sp_err err;
    int rc = 1;
    *out = NULL;
    if (a->config && wk_config_load(a->config, &cfg, NULL, &err) != SP_OK) {
        sp_cli_fail("%s (check it with `seal-worker check-config -c %s`)", err.msg, a->config);
        goto done;
    }
    const char *listen = a->address ? a->address : cfg.listen;
    const char *tfile = a->token_file ? a->token_file : cfg.token_file;
    if (a->token_file || !cfg.token) {
        if (!tfile) {
            sp_cli_fail("no token: the config names neither sector_manager.token nor token_file");
            goto done;
        }
        if (wk_mgr_read_token(tfile, &token, &err) != SP_OK) {
            sp_cli_fail("%s", err.msg);
            goto done;
        }
    } else {
        token = strdup(cfg.token);
    }
    snprintf(addr, addr_len, "%s", listen);
    char url[600];
    /* "0.0.0.0:17890" listens everywhere; talk to it on loopback */
    if (!strncmp(listen, "0.0.0.0:", 8))
        snprintf(url, sizeof url, "http://127.0.0.1:%s/rpc/v0", listen + 8);
    else if (listen[0] == ':')
        snprintf(url, sizeof url, "http://127.0.0.1%s/rpc/v0", listen);
    else
        snprintf(url, sizeof url, "http://%s/rpc/v0", listen);
    sp_rpc_client_opts o = { .url = url, .token = token, .timeout_ms = 20000,
                             .connect_timeout_ms = 2000 };
    if (sp_rpc_client_new(&o, out, &err) != SP_OK) {
        sp_cli_fail("%s", err.msg);
        goto done;
    }
    rc = 0;
done:
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    wk_config_free(&cfg);
    return rc;
}

static int call(sp_rpc_client *c, const char *addr, const char *method, cJSON *params,
                cJSON **result)
{
    sp_err err;
    sp_code rc = sp_rpc_client_call(c, method, params, result, NULL, &err);
    cJSON_Delete(params);
    if (rc == SP_ENET || rc == SP_ETIMEOUT) {
        sp_cli_fail("the worker's admin API at %s does not answer (%s); is `seal-worker daemon` "
                    "running with this config?", addr, err.msg);
        return 1;
    }
    if (rc != SP_OK) {
        sp_cli_fail("%s", err.msg);
        return 1;
    }
    return 0;
}

static void ago(uint64_t since_ms, char *buf, size_t len)
{
    uint64_t now = sp_wall_ms();
    if (!since_ms || since_ms > now)
        snprintf(buf, len, "-");
    else
        sp_format_duration((now - since_ms) / 1000 * 1000, buf, len);
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_threads(const cJSON *list)
{
    printf("%-3s %-16s %-21s %-8s %-8s %s\n", "#", "SECTOR", "STATE", "JOB", "FOR", "ACTIVITY");
    const cJSON *t;
    cJSON_ArrayForEach(t, list) {
        char since[32];
        ago((uint64_t)num(t, "since_ms"), since, sizeof since);
        const char *sector = str(t, "sector");
        char activity[200];
        snprintf(activity, sizeof activity, "%s", str(t, "activity"));
        if (num(t, "pid") > 0) {
            size_t n = strlen(activity);
            snprintf(activity + n, sizeof activity - n, " (pid %.0f)", num(t, "pid"));
        }
        printf("%-3.0f %-16s %-21s %-8s %-8s %s\n", num(t, "index"), sector[0] ? sector : "-",
               str(t, "state"), str(t, "job"), since, activity);
        if (str(t, "last_error")[0])
            printf("    %s error%s: %s\n", str(t, "error_level"),
                   num(t, "retry") > 0 ? " (retrying)" : "", str(t, "last_error"));
    }
}

int wk_cmd_threads_list(int argc, char **argv)
{
    thr_args a;
    int rc = parse(argc, argv, &a, false);
    sp_rpc_client *c = NULL;
    char addr[256];
    cJSON *r = NULL;
    if (rc || (rc = connect_admin(&a, &c, addr, sizeof addr)) ||
        (rc = call(c, addr, "Worker.ThreadsList", cJSON_CreateArray(), &r)))
        goto done;
    if (a.json) {
        char *text = cJSON_PrintUnformatted(r);
        printf("%s\n", text ? text : "null");
        free(text);
    } else {
        print_threads(r);
    }
done:
    cJSON_Delete(r);
    sp_rpc_client_free(c);
    return rc;
}

static int control(int argc, char **argv, const char *method, const char *done)
{
    thr_args a;
    int rc = parse(argc, argv, &a, true);
    sp_rpc_client *c = NULL;
    char addr[256];
    cJSON *r = NULL;
    if (rc || (rc = connect_admin(&a, &c, addr, sizeof addr)))
        goto done;
    cJSON *p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateNumber((double)a.index));
    if (!strcmp(method, "Worker.ThreadsResume") && a.state)
        cJSON_AddItemToArray(p, cJSON_CreateString(a.state));
    if (!strcmp(method, "Worker.ThreadsAbort") && a.reason)
        cJSON_AddItemToArray(p, cJSON_CreateString(a.reason));
    if ((rc = call(c, addr, method, p, &r)))
        goto done;
    if (a.json)
        printf("{\"ok\":true,\"index\":%ld}\n", a.index);
    else
        printf("thread %ld: %s%s%s\n", a.index, done, a.state ? " in " : "",
               a.state ? a.state : "");
done:
    cJSON_Delete(r);
    sp_rpc_client_free(c);
    return rc;
}

int wk_cmd_threads_pause(int argc, char **argv)
{
    return control(argc, argv, "Worker.ThreadsPause",
                   "pause requested (it pauses after the step it is in)");
}

int wk_cmd_threads_resume(int argc, char **argv)
{
    return control(argc, argv, "Worker.ThreadsResume", "resumed");
}

int wk_cmd_threads_abort(int argc, char **argv)
{
    return control(argc, argv, "Worker.ThreadsAbort",
                   "abort requested (the manager is told; the location is cleaned)");
}

/* `info -c FILE`: the config's threads, and the live state when the daemon answers. */
int wk_info_threads(const char *config)
{
    thr_args a = { .config = config, .index = -1 };
    wk_config cfg = { 0 };
    sp_err err;
    if (wk_config_load(config, &cfg, NULL, &err) != SP_OK)
        return 1;
    printf("\nSealing threads (%d):\n", cfg.nthreads);
    for (int i = 0; i < cfg.nthreads; i++)
        printf("  %d  %-7s %s\n", i, cfg.threads[i].plan == WK_PLAN_UNSEAL ? "unseal" : "sealer",
               cfg.threads[i].location);
    wk_config_free(&cfg);
    sp_rpc_client *c = NULL;
    char addr[256];
    if (connect_admin(&a, &c, addr, sizeof addr))
        return 0;
    cJSON *r = NULL;
    sp_code rc = sp_rpc_client_call(c, "Worker.Info", NULL, &r, NULL, &err);
    sp_rpc_client_free(c);
    if (rc != SP_OK) {
        printf("\nThe daemon is not reachable at %s (%s): no live state.\n", addr, err.msg);
        return 0;
    }
    printf("\nRunning daemon %s (%s) at %s, manager %s:\n", str(r, "name"), str(r, "version"),
           addr, str(r, "manager"));
    print_threads(cJSON_GetObjectItemCaseSensitive(r, "threads"));
    const cJSON *procs = cJSON_GetObjectItemCaseSensitive(r, "processors"), *p;
    if (cJSON_GetArraySize(procs) > 0) {
        printf("\n%-14s %-8s %-8s %-8s %-7s %s\n", "PROCESSOR", "PID", "STATE", "RUNNING", "STARTS",
               "BINDING");
        cJSON_ArrayForEach(p, procs) {
            char name[64];
            snprintf(name, sizeof name, "%s[%.0f]", str(p, "stage"), num(p, "index"));
            printf("%-14s %-8.0f %-8s %.0f/%-6.0f %-7.0f %s\n", name, num(p, "pid"),
                   str(p, "state"), num(p, "running"), num(p, "concurrent"), num(p, "starts"),
                   str(p, "binding"));
            if (str(p, "last_error")[0])
                printf("    last exit: %s\n", str(p, "last_error"));
        }
    }
    cJSON_Delete(r);
    return 0;
}

#define CONN_HELP                                                                          \
    "  -c, --config FILE     the worker's config: the admin API address (worker.listen)\n" \
    "                        and the token (sector_manager.token_file)\n"                  \
    "  --address HOST:PORT   the admin API, instead of the config's worker.listen\n"       \
    "  --token-file FILE     the worker token, instead of the config's\n"

const char wk_threads_list_usage[] =
    "Usage: seal-worker threads list -c FILE [--json]\n\n"
    "Shows every sealing thread of the running worker: its sector, state, what it does now\n"
    "(job: idle, waiting, running, paused) and for how long, the processor pid running its\n"
    "stage, and the last error with its level.\n\n" CONN_HELP
    "  --json                [{\"index\",\"location\",\"plan\",\"job\",\"sector\",\"state\",\"stage\",\n"
    "                        \"activity\",\"since_ms\",\"pid\",\"retry\",\"paused\",\"error_level\",\n"
    "                        \"last_error\"}]\n";

const char wk_threads_pause_usage[] =
    "Usage: seal-worker threads pause INDEX -c FILE [--json]\n\n"
    "Pauses a thread after the step it is in (a stage already running finishes).  Its\n"
    "sector stays where it is until `seal-worker threads resume INDEX`.\n\n" CONN_HELP;

const char wk_threads_resume_usage[] =
    "Usage: seal-worker threads resume INDEX -c FILE [--state STATE] [--json]\n\n"
    "Resumes a paused thread (paused by an operator, or by a permanent error or one that\n"
    "kept failing).  With --state it continues from that state of its plan instead, e.g.\n"
    "--state PC1Done redoes PC2, --state TreeDBuilt asks for a new ticket; --state Aborted\n"
    "gives the sector up (the manager is told).\n\n" CONN_HELP
    "  --state STATE         Empty, Allocated, DealsAcquired, PieceAdded, TreeDBuilt,\n"
    "                        TicketAssigned, PC1Done, PC2Done, PCSubmitted, PCLanded,\n"
    "                        Persisted, PersistanceSubmitted, SeedAssigned, C1Done, C2Done,\n"
    "                        ProofSubmitted, Finished, Aborted\n";

const char wk_threads_abort_usage[] =
    "Usage: seal-worker threads abort INDEX -c FILE [--reason TEXT] [--json]\n\n"
    "Gives the thread's sector up: a running stage is cancelled, the manager is told\n"
    "(ReportAborted, which releases its deals and reservation), the location is cleaned and\n"
    "the thread takes a new sector.\n\n" CONN_HELP
    "  --reason TEXT         recorded by the manager (default \"aborted by the operator\")\n";
