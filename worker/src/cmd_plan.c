/* cmd_plan.c — `seal-worker check-config`, `plan` and `info`: read a config, load a
 * topology (live, XML or synthetic), place the processors and show the result, starting
 * nothing.  Exit codes: 0 fine (warnings allowed), 1 problems found, 2 bad usage. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_cli.h"
#include "wk_cli.h"
#include "wk_config.h"
#include "wk_placement.h"
#include "wk_topology.h"

typedef struct plan_args {
    const char *config;
    const char *xml;
    const char *synthetic;
    bool json;
    bool quiet;
} plan_args;

static int parse_args(int argc, char **argv, plan_args *a, bool need_config)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "topology", required_argument, NULL, 't' },
        { "synthetic", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:t:s:jq", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': a->config = optarg; break;
        case 't': a->xml = optarg; break;
        case 's': a->synthetic = optarg; break;
        case 'j': a->json = true; break;
        case 'q': a->quiet = true; break;
        default:
            sp_cli_fail("%s: unknown option or missing value near '%s'; see '%s --help'", argv[0],
                        argv[optind - 1], argv[0]);
            return 2;
        }
    }
    if (optind < argc) {
        sp_cli_fail("%s: unexpected argument '%s'; see '%s --help'", argv[0], argv[optind], argv[0]);
        return 2;
    }
    if (need_config && !a->config) {
        sp_cli_fail("%s: no config; give -c FILE (e.g. -c /etc/sealpipe/worker.cfg)", argv[0]);
        return 2;
    }
    if (a->xml && a->synthetic) {
        sp_cli_fail("%s: --topology and --synthetic both given; pick one", argv[0]);
        return 2;
    }
    return 0;
}

static int load_topology(const plan_args *a, wk_topology *t)
{
    wk_topo_source src;
    sp_err err;
    if (wk_topo_source_from_args(&src, a->xml, a->synthetic, &err) != SP_OK ||
        wk_topology_load(t, &src, &err) != SP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return 0;
}

static void print_diags(const wk_diags *d, FILE *f)
{
    for (int i = 0; i < d->nerrors; i++)
        fprintf(f, "%s\n", d->errors[i]);
    for (int i = 0; i < d->nwarnings; i++)
        fprintf(f, "warning: %s\n", d->warnings[i]);
}

/* Loads the config and places it; everything found goes into *all.  Returns 0 when no
 * error was found.  *cfg, *t and *plan are filled as far as loading got. */
static int check(const plan_args *a, wk_config *cfg, wk_topology *t, wk_plan *plan, wk_diags *all,
                 bool *placed)
{
    sp_err err;
    *placed = false;
    wk_config_load(a->config, cfg, all, &err);
    if (!cfg->cfg)
        return 1;
    if (load_topology(a, t) != 0) {
        wk_diags_error(all, "(topology not loaded, placement not checked)");
        return 1;
    }
    wk_plan_build(cfg, t, plan, &err);
    *placed = true;
    return all->nerrors > 0 || plan->diags.nerrors > 0;
}

int wk_cmd_check_config(int argc, char **argv)
{
    plan_args a;
    int rc = parse_args(argc, argv, &a, true);
    if (rc)
        return rc;
    wk_config cfg = { 0 };
    wk_topology t = { 0 };
    wk_plan plan = { 0 };
    wk_diags all = { 0 };
    bool placed;
    rc = check(&a, &cfg, &t, &plan, &all, &placed);
    wk_diags_take(&all, &plan.diags);
    print_diags(&all, stderr);
    if (all.nerrors)
        fprintf(stderr, "%s: %d problem%s found; nothing was started\n", a.config, all.nerrors,
                all.nerrors == 1 ? "" : "s");
    else if (!a.quiet)
        printf("%s: OK: %d sealing thread%s, %d processor%s placed on %s\n", a.config,
               cfg.nthreads, cfg.nthreads == 1 ? "" : "s", cfg.nprocs, cfg.nprocs == 1 ? "" : "s",
               t.source);
    rc = all.nerrors ? 1 : 0;
    wk_diags_free(&all);
    wk_plan_free(&plan);
    wk_topology_free(&t);
    wk_config_free(&cfg);
    return rc;
}

int wk_cmd_plan(int argc, char **argv)
{
    plan_args a;
    int rc = parse_args(argc, argv, &a, true);
    if (rc)
        return rc;
    wk_config cfg = { 0 };
    wk_topology t = { 0 };
    wk_plan plan = { 0 };
    wk_diags all = { 0 };
    bool placed;
    rc = check(&a, &cfg, &t, &plan, &all, &placed);
    if (!placed) {
        print_diags(&all, stderr);
        fprintf(stderr, "%s: the config has errors; fix them before planning\n", a.config);
        rc = 1;
        goto done;
    }
    /* config-level messages join the plan's, so the JSON carries all of them */
    wk_diags_take(&all, &plan.diags);
    plan.diags = all;
    memset(&all, 0, sizeof all);
    if (a.json) {
        char *text = NULL;
        sp_err err;
        if (wk_plan_json(&plan, &t, &text, &err) != SP_OK) {
            fprintf(stderr, "%s\n", err.msg);
            rc = 1;
            goto done;
        }
        printf("%s\n", text);
        free(text);
        for (int i = 0; i < plan.diags.nerrors; i++)
            fprintf(stderr, "%s\n", plan.diags.errors[i]);
    } else {
        wk_plan_print(&plan, &t, stdout);
    }
    rc = plan.diags.nerrors ? 1 : 0;
done:
    wk_diags_free(&all);
    wk_plan_free(&plan);
    wk_topology_free(&t);
    wk_config_free(&cfg);
    return rc;
}

int wk_cmd_info(int argc, char **argv)
{
    plan_args a;
    int rc = parse_args(argc, argv, &a, false);
    if (rc)
        return rc;
    wk_topology t = { 0 };
    if (load_topology(&a, &t) != 0)
        return 1;
    wk_topology_describe(&t, stdout);
    wk_topology_free(&t);
    if (!a.config)
        return 0;
    printf("\n");
    char *argv2[8];
    int n = 0;
    argv2[n++] = "plan";
    argv2[n++] = "-c";
    argv2[n++] = (char *)a.config;
    if (a.xml) {
        argv2[n++] = "--topology";
        argv2[n++] = (char *)a.xml;
    } else if (a.synthetic) {
        argv2[n++] = "--synthetic";
        argv2[n++] = (char *)a.synthetic;
    }
    argv2[n] = NULL;
    rc = wk_cmd_plan(n, argv2);
    /* the sealing threads, and the running daemon's view of them (cmd_threads.c) */
    wk_info_threads(a.config);
    return rc;
}

#define TOPOLOGY_HELP                                                                       \
    "  --topology FILE     place on an hwloc XML topology (lstopo-no-graphics --of xml FILE)\n" \
    "  --synthetic DESC    place on a synthetic machine, hwloc's syntax plus gpus:N,... (the\n" \
    "                      NUMA node of each GPU), e.g. \"pack:2 numa:1 l3:8 core:4 pu:2 gpus:0,1\"\n" \
    "                      (default: this machine; GPUs found with hwloc and OpenCL)\n"

const char wk_check_config_usage[] =
    "Usage: seal-worker check-config -c FILE [--topology FILE | --synthetic DESC] [--quiet]\n\n"
    "Reads the config (and the files it inherits), checks every key, then places its\n"
    "processors on the topology and checks that: CPUs exist and are allowed, no two\n"
    "processors share a core (unless share = true), NUMA nodes and GPUs exist, concurrency\n"
    "fits the threads a processor gets, locks are declared.  Prints every problem as\n"
    "FILE:LINE: key.path: what is wrong and what to do, then warnings.  Starts nothing.\n\n"
    "  -c, --config FILE   the worker config\n" TOPOLOGY_HELP
    "  -q, --quiet         print nothing when the config is fine\n\n"
    "Exit status: 0 fine (warnings allowed), 1 problems found, 2 bad usage.\n"
    "Example: seal-worker check-config -c config/hw/dual-64c-2gpu.cfg \\\n"
    "           --synthetic \"pack:2 numa:1 l3:8 core:4 pu:2 gpus:0,1\"\n";

const char wk_plan_usage[] =
    "Usage: seal-worker plan -c FILE [--topology FILE | --synthetic DESC] [--json]\n\n"
    "Places the config's processors without starting anything and prints, per processor:\n"
    "stage and index, the CPUs it is bound to (OS indexes), its physical cores (hwloc\n"
    "logical indexes, Core L#n in lstopo), its NUMA node, its GPU and its concurrency;\n"
    "then the PC1 batches (pc1 entries with batch = N: N, batch_wait, sectors in PC1 at\n"
    "once = concurrency x N, layers in memory per batch = N x 2 x sector size, and how a\n"
    "batch spreads over its slot's cores: groups of at most 8 sectors, at least one per\n"
    "core, each core's sectors interleaved); then\n"
    "warnings (SMT siblings split, GPU on a remote NUMA node, uneven L3 use, idle cores or\n"
    "GPUs).  Placement: explicit cpusets first, then cores = N requests in config\n"
    "order, whole cores inside one L3 cache where they fit.\n\n"
    "  -c, --config FILE   the worker config\n" TOPOLOGY_HELP
    "  --json              {\"processors\":[{\"stage\",\"index\",\"cpuset\",\"cores\":[...],\n"
    "                      \"numa\",\"gpu\",\"concurrent\",\"threads\",...,\"batch\":null|{\"size\",\n"
    "                      \"wait_ms\",\"slots\",\"sectors_at_once\",\"hashing_cores\",\"groups\",\n"
    "                      \"max_sectors_per_group\",\"memory\":[{\"sector_size\",\n"
    "                      \"bytes\"}]}}],\"warnings\":[...],\n"
    "                      \"errors\":[...]}; numa and gpu are null when none\n\n"
    "Exit status: 0 placed, 1 the config does not fit the topology, 2 bad usage.\n";

const char wk_info_usage[] =
    "Usage: seal-worker info [--topology FILE | --synthetic DESC] [-c FILE]\n\n"
    "Prints the topology as the worker sees it: allowed CPUs, NUMA nodes, L3 caches with\n"
    "their cores, and GPUs with their index, PCI address, driver names and NUMA node.\n"
    "These are the numbers a config's cpuset, numa, gpu and near_gpu refer to.  With -c,\n"
    "also prints that config's placement (as `seal-worker plan`), its sealing threads, and,\n"
    "when the daemon runs, its threads' states and its processors (pid, binding, restarts).\n\n"
    TOPOLOGY_HELP
    "  -c, --config FILE   also show this config's placement, threads and live state\n";
