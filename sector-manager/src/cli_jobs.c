/* cli_jobs.c — admin commands that run storage jobs in the daemon and wait for their
 * reports: `replicas fix [--apply]`, `scrub [--deep]`, `storage job KIND`, `storage
 * redeclare [NAME]`, `index rebuild [PIECE-CID]`, and `storage copies` (the journal). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm_cli.h"
#include "sp_fs.h"
#include "sp_json.h"

/* ---- waiting for a job --------------------------------------------------------------------- */

static void print_value(const cJSON *v)
{
    if (cJSON_IsString(v))
        printf("%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        printf("%.0f", v->valuedouble);
    else if (cJSON_IsBool(v))
        printf("%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNull(v))
        printf("-");
    else {
        char *s = cJSON_PrintUnformatted(v);
        printf("%s", s ? s : "?");
        free(s);
    }
}

void sm_cli_print_report(const cJSON *report)
{
    const cJSON *it;
    /* counters first, then lists */
    bool any = false;
    cJSON_ArrayForEach(it, report) {
        if (cJSON_IsArray(it) || cJSON_IsObject(it))
            continue;
        printf("%s%s: ", any ? "; " : "", it->string);
        print_value(it);
        any = true;
    }
    if (any)
        printf("\n");
    cJSON_ArrayForEach(it, report) {
        if (!cJSON_IsArray(it))
            continue;
        printf("%s (%d)%s\n", it->string, cJSON_GetArraySize(it), cJSON_GetArraySize(it) ? ":" : "");
        const cJSON *e;
        cJSON_ArrayForEach(e, it) {
            printf("  ");
            const cJSON *f;
            bool first = true;
            cJSON_ArrayForEach(f, e) {
                printf("%s%s: ", first ? "" : ", ", f->string ? f->string : "?");
                print_value(f);
                first = false;
            }
            if (!cJSON_IsObject(e))
                print_value(e);
            printf("\n");
        }
    }
}

int sm_cli_job(sm_cli *c, const char *kind, bool apply, bool deep, const char *store, cJSON **job)
{
    *job = NULL;
    cJSON *spec = cJSON_CreateObject(), *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddStringToObject(spec, "Kind", kind);
    cJSON_AddBoolToObject(spec, "Apply", apply);
    cJSON_AddBoolToObject(spec, "Deep", deep);
    if (store && *store)
        cJSON_AddStringToObject(spec, "Store", store);
    cJSON_AddItemToArray(params, spec);
    if (sm_cli_call(c, "Sealpipe.StorageJobStart", params, &res))
        return 1;
    uint64_t id = sm_cli_u64(res, "ID");
    cJSON_Delete(res);
    return sm_cli_wait_job(c, id, job);
}

int sm_cli_wait_job(sm_cli *c, uint64_t id, cJSON **job)
{
    *job = NULL;
    for (unsigned delay = 20;; delay = delay < 500 ? delay * 2 : 500) {
        cJSON *params = cJSON_CreateArray(), *res = NULL;
        cJSON_AddItemToArray(params, sp_json_u64(id));
        if (sm_cli_call(c, "Sealpipe.StorageJob", params, &res))
            return 1;
        const char *state = sm_cli_str(res, "State");
        if (strcmp(state, "done") == 0 || strcmp(state, "failed") == 0) {
            *job = res;
            if (strcmp(state, "failed") == 0)
                return sp_cli_fail("storage job %" PRIu64 " (%s) failed: %s", id, sm_cli_str(res, "Kind"),
                                   sm_cli_str(res, "Error"));
            return 0;
        }
        cJSON_Delete(res);
        sp_sleep_ms(delay);
    }
}

/* Runs a job command: prints the report (or the whole job with --json). */
static int run_job_cmd(const char *cmd, int argc, char **argv, const char *kind, bool allow_apply,
                       bool allow_deep, bool allow_kind_arg)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "apply", no_argument, NULL, 'a' },
                                          { "deep", no_argument, NULL, 'd' }, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    bool apply = false, deep = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H': home = optarg; break;
        case 'j': c.json = true; break;
        case 'a':
            if (!allow_apply)
                return sm_cli_usage(cmd, "--apply does not apply here");
            apply = true;
            break;
        case 'd':
            if (!allow_deep)
                return sm_cli_usage(cmd, "--deep does not apply here");
            deep = true;
            break;
        default: return sm_cli_usage(cmd, "unknown option");
        }
    }
    if (allow_kind_arg) {
        if (optind != argc - 1)
            return sm_cli_usage(cmd, "give one job KIND");
        kind = argv[optind];
    } else if (optind != argc) {
        return sm_cli_usage(cmd, "unexpected argument \"%s\"", argv[optind]);
    }
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *job = NULL;
    int rc = sm_cli_job(&c, kind, apply, deep, NULL, &job);
    if (job) {
        if (c.json)
            sm_cli_print_json(job);
        else
            sm_cli_print_report(cJSON_GetObjectItemCaseSensitive(job, "Report"));
    }
    if (rc == 0 && !c.json && strcmp(kind, "reconcile") == 0 && !apply)
        printf("dry run: nothing was copied; `replicas fix --apply` carries the actions out\n");
    cJSON_Delete(job);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_replicas_fix(int argc, char **argv)
{
    return run_job_cmd("replicas fix", argc, argv, "reconcile", true, false, false);
}

int sm_cmd_scrub(int argc, char **argv)
{
    return run_job_cmd("scrub", argc, argv, "scrub", false, true, false);
}

int sm_cmd_storage_job(int argc, char **argv)
{
    return run_job_cmd("storage job", argc, argv, NULL, true, true, true);
}

int sm_cmd_gc_mark(int argc, char **argv)
{
    return run_job_cmd("gc mark", argc, argv, "gc-mark", false, false, false);
}

int sm_cmd_gc_sweep(int argc, char **argv)
{
    return run_job_cmd("gc sweep", argc, argv, "gc-sweep", false, false, false);
}

/* ---- commands that start a job through their own method ------------------------------------- */

static int method_then_job(const char *cmd, const char *method, int argc, char **argv, bool want_arg)
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
    if (optind < argc - (want_arg ? 1 : 0))
        return sm_cli_usage(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL, *job = NULL;
    if (optind < argc)
        cJSON_AddItemToArray(params, cJSON_CreateString(argv[optind]));
    int rc = sm_cli_call(&c, method, params, &res);
    if (rc == 0)
        rc = sm_cli_wait_job(&c, sm_cli_u64(res, "Job"), &job);
    if (rc == 0 || job) {
        if (c.json) {
            if (job)
                cJSON_AddItemToObject(res, "JobReport", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(job, "Report"), 1));
            sm_cli_print_json(res);
        } else {
            const cJSON *it;
            cJSON_ArrayForEach(it, res)
                if (cJSON_IsNumber(it) && strcmp(it->string, "Job"))
                    printf("%s: %.0f\n", it->string, it->valuedouble);
            if (job)
                sm_cli_print_report(cJSON_GetObjectItemCaseSensitive(job, "Report"));
        }
    }
    cJSON_Delete(res);
    cJSON_Delete(job);
    sm_cli_close(&c);
    return rc;
}

int sm_cmd_storage_redeclare(int argc, char **argv)
{
    return method_then_job("storage redeclare", "Sealpipe.StorageRedeclare", argc, argv, true);
}

int sm_cmd_index_rebuild(int argc, char **argv)
{
    return method_then_job("index rebuild", "Sealpipe.IndexRebuild", argc, argv, true);
}

int sm_cmd_storage_copies(int argc, char **argv)
{
    static const struct option opts[] = { SM_CLI_COMMON_OPTS, { "limit", required_argument, NULL, 'l' }, { 0 } };
    sm_cli c = { 0 };
    const char *home = NULL;
    uint64_t limit = 50;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'H')
            home = optarg;
        else if (o == 'j')
            c.json = true;
        else if (o == 'l')
            limit = strtoull(optarg, NULL, 10);
        else
            return sm_cli_usage("storage copies", "unknown option");
    }
    if (optind != argc || limit == 0)
        return sm_cli_usage("storage copies", "no arguments expected; --limit is positive");
    if (sm_cli_connect(&c, home))
        return 1;
    cJSON *params = cJSON_CreateArray(), *res = NULL;
    cJSON_AddItemToArray(params, sp_json_u64(limit));
    int rc = sm_cli_call(&c, "Sealpipe.StorageCopies", params, &res);
    if (rc == 0) {
        if (c.json) {
            sm_cli_print_json(res);
        } else {
            const cJSON *e;
            char ago[32];
            cJSON_ArrayForEach(e, res) {
                printf("%-6" PRIu64 " %-8s %-4s %-8s %s -> %s (%s) %s %s%s%s\n", sm_cli_u64(e, "ID"),
                       sm_cli_str(e, "State"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "Move")) ? "move" : "copy",
                       sm_cli_str(e, "Kind"), sm_cli_str(e, "From"), sm_cli_str(e, "To"), sm_cli_str(e, "Tier"),
                       sm_cli_str(e, "Object"), sm_cli_ago(sm_cli_u64(e, "Updated"), ago, sizeof ago),
                       *sm_cli_str(e, "Error") ? ": " : "", sm_cli_str(e, "Error"));
            }
            printf("%d cop%s\n", cJSON_GetArraySize(res), cJSON_GetArraySize(res) == 1 ? "y" : "ies");
        }
    }
    cJSON_Delete(res);
    sm_cli_close(&c);
    return rc;
}
