/* cmd_pc1.c — sealproof commands of the SDR phase: `parents` (graph and parent cache),
 * `labels` (last labels of an in-memory labeling, for the public vectors), `pc1` and
 * `bench pc1` (labeling rate against this machine's single-chain SHA-256 limit). */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_codec.h"
#include "sp_fs.h"

#define MAX_NODES_ARGS 1024

/* Set by SIGINT/SIGTERM during pc1 and bench pc1: the library stops at its next check and
 * leaves only complete layers behind. */
static volatile sig_atomic_t g_cancel;

static void on_signal(int sig)
{
    (void)sig;
    g_cancel = 1;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static int unknown_option(const char *cmd, int argc, char **argv)
{
    const char *opt = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
    return tool_fail(cmd, "%s: unknown option or missing value (see sealproof %s --help)", opt, cmd);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void add_hex(cJSON *arr, const uint8_t v[32])
{
    char h[65];
    sp_hex_encode(v, 32, h);
    cJSON_AddItemToArray(arr, cJSON_CreateString(h));
}

/* --proof P or --sector-size S (the V1_1 proof of that size). */
static int resolve_proof(const char *cmd, const char *proof, const char *size, int *id)
{
    if (proof)
        return tool_parse_seal_proof(cmd, proof, id);
    if (!size)
        return tool_fail(cmd, "--proof is required (an id 0-19 or a name such as StackedDrg2KiBV1_1)");
    uint64_t bytes;
    if (tool_parse_size(cmd, "--sector-size", size, &bytes))
        return 1;
    int v = pf_seal_proof_for_size(bytes);
    if (v < 0)
        return tool_fail(cmd, "--sector-size %s: not a registered sector size (2KiB, 8MiB, "
                         "512MiB, 32GiB, 64GiB)", size);
    *id = v;
    return 0;
}

/* ---- parents ---- */

static int write_table(const char *cmd, const pf_graph *g, const char *out, uint8_t digest[32])
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", out);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return tool_fail(cmd, "--out %s: %s", tmp, strerror(errno));
    pf_error e;
    pf_status st = pf_parent_table_write(g, fd, 0, digest, &e);
    const char *what = st == PF_OK ? NULL : e.msg;
    if (!what && fsync(fd) != 0)
        what = "fsync failed";
    close(fd);
    if (!what && rename(tmp, out) != 0)
        what = "rename failed";
    if (what) {
        int saved = errno;
        unlink(tmp);
        return tool_fail(cmd, "--out %s: %s%s%s", out, what, st == PF_OK ? ": " : "",
                         st == PF_OK ? strerror(saved) : "");
    }
    return 0;
}

static int cmd_parents(int argc, char **argv)
{
    const char *cmd = "parents";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },        { "proof", required_argument, NULL, 'p' },
        { "sector-size", required_argument, NULL, 's' },
        { "node", required_argument, NULL, 'n' },  { "digest", no_argument, NULL, 'd' },
        { "out", required_argument, NULL, 'o' },   { 0, 0, 0, 0 },
    };
    const char *proof = NULL, *size = NULL, *out = NULL;
    const char *node_args[MAX_NODES_ARGS];
    int json = 0, digest = 0, c, id, nnodes = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'p': proof = optarg; break;
        case 's': size = optarg; break;
        case 'd': digest = 1; break;
        case 'o': out = optarg; break;
        case 'n':
            if (nnodes == MAX_NODES_ARGS)
                return tool_fail(cmd, "at most %d --node options", MAX_NODES_ARGS);
            node_args[nnodes++] = optarg;
            break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument '%s'", argv[optind]);
    if (resolve_proof(cmd, proof, size, &id))
        return 1;
    pf_graph g;
    pf_error e;
    if (pf_graph_init_proof(&g, id, &e))
        return tool_fail_pf(cmd, &e);
    uint64_t nodes[MAX_NODES_ARGS];
    for (int i = 0; i < nnodes; i++) {
        if (tool_parse_u64(cmd, "--node", node_args[i], &nodes[i]))
            return 1;
        if (nodes[i] >= g.nodes)
            return tool_fail(cmd, "--node %s: out of range (the graph has %" PRIu64 " nodes)",
                             node_args[i], g.nodes);
    }
    if (!nnodes && !out)
        digest = 1;
    cJSON *o = cJSON_CreateObject();
    uint8_t d[32], pinned[32];
    int have_digest = 0;
    if (out) {
        if (write_table(cmd, &g, out, d)) {
            cJSON_Delete(o);
            return 1;
        }
        have_digest = 1;
        cJSON_AddStringToObject(o, "out", out);
    } else if (digest) {
        if (pf_parent_table_write(&g, -1, 0, d, &e)) {
            cJSON_Delete(o);
            return tool_fail_pf(cmd, &e);
        }
        have_digest = 1;
    }
    if (have_digest) {
        tool_add_hex32(o, "digest", d);
        char path[4096];
        pf_parent_cache_path(&g, "", path, sizeof path);
        cJSON_AddStringToObject(o, "cache_file", strrchr(path, '/') + 1);
        if (pf_parent_cache_pinned_digest(&g, pinned)) {
            tool_add_hex32(o, "pinned_digest", pinned);
            cJSON_AddBoolToObject(o, "matches_pinned", memcmp(d, pinned, 32) == 0);
        }
    }
    if (nnodes) {
        cJSON *arr = cJSON_AddArrayToObject(o, "nodes");
        for (int i = 0; i < nnodes; i++) {
            uint32_t p[PF_DEGREE];
            pf_graph_parents(&g, nodes[i], p);
            cJSON *n = cJSON_CreateObject();
            cJSON_AddNumberToObject(n, "node", (double)nodes[i]);
            cJSON *base = cJSON_AddArrayToObject(n, "base");
            cJSON *exp = cJSON_AddArrayToObject(n, "exp");
            for (int k = 0; k < PF_DEGREE; k++)
                cJSON_AddItemToArray(k < PF_BASE_DEGREE ? base : exp, cJSON_CreateNumber(p[k]));
            cJSON_AddItemToArray(arr, n);
        }
    }
    if (have_digest && !json && !out && pf_parent_cache_pinned_digest(&g, pinned) &&
        memcmp(d, pinned, 32) != 0) {
        tool_emit(o, json);
        return tool_fail(cmd, "the digest does not match rust-fil-proofs' pinned digest");
    }
    return tool_emit(o, json);
}

/* ---- labels ---- */

static int parse_api(const char *cmd, const char *s, int *api)
{
    if (!s)
        return tool_fail(cmd, "--api is required (1.0, 1.1 or 1.2)");
    if (!strcmp(s, "1.0") || !strcmp(s, "1.0.0") || !strcmp(s, "100"))
        *api = 100;
    else if (!strcmp(s, "1.1") || !strcmp(s, "1.1.0") || !strcmp(s, "110"))
        *api = 110;
    else if (!strcmp(s, "1.2") || !strcmp(s, "1.2.0") || !strcmp(s, "120"))
        *api = 120;
    else
        return tool_fail(cmd, "--api %s: use 1.0, 1.1 or 1.2", s);
    return 0;
}

static int cmd_labels(int argc, char **argv)
{
    const char *cmd = "labels";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },          { "nodes", required_argument, NULL, 'n' },
        { "layers", required_argument, NULL, 'l' },  { "replica-id", required_argument, NULL, 'r' },
        { "porep-id", required_argument, NULL, 'p' },{ "api", required_argument, NULL, 'a' },
        { "multi", no_argument, NULL, 'm' },         { "cores", required_argument, NULL, 'c' },
        { 0, 0, 0, 0 },
    };
    const char *nodes_s = NULL, *layers_s = NULL, *rid_s = NULL, *porep_s = NULL, *api_s = NULL;
    pf_sdr_options so = { 0 };
    int json = 0, c, api = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'n': nodes_s = optarg; break;
        case 'l': layers_s = optarg; break;
        case 'r': rid_s = optarg; break;
        case 'p': porep_s = optarg; break;
        case 'a': api_s = optarg; break;
        case 'm': so.multicore = 1; break;
        case 'c': so.cores = optarg; so.multicore = 1; break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument '%s'", argv[optind]);
    uint64_t nodes, layers;
    uint8_t rid[32], porep[32];
    if (!nodes_s)
        return tool_fail(cmd, "--nodes is required");
    if (!layers_s)
        return tool_fail(cmd, "--layers is required");
    if (tool_parse_u64(cmd, "--nodes", nodes_s, &nodes) ||
        tool_parse_u64(cmd, "--layers", layers_s, &layers) ||
        tool_parse_hex32(cmd, "--replica-id", rid_s, rid) ||
        tool_parse_hex32(cmd, "--porep-id", porep_s, porep) || parse_api(cmd, api_s, &api))
        return 1;
    if (layers < 1 || layers > 64)
        return tool_fail(cmd, "--layers %s: use 1..64", layers_s);
    pf_graph g;
    pf_error e;
    if (pf_graph_init(&g, nodes, porep, api, &e))
        return tool_fail(cmd, "--nodes %s: %s", nodes_s, e.msg);
    uint8_t (*last)[32] = calloc(layers, 32);
    if (!last)
        return tool_fail(cmd, "out of memory");
    if (pf_sdr_last_labels(&g, rid, (int)layers, &so, last, &e)) {
        free(last);
        return tool_fail_pf(cmd, &e);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(o, "last_labels");
    for (uint64_t l = 0; l < layers; l++)
        add_hex(arr, last[l]);
    free(last);
    return tool_emit(o, json);
}

/* ---- pc1 ---- */

static int parse_prover(const char *cmd, const char *s, uint8_t out[32])
{
    /* f0NNN / t0NNN: a miner's actor id (Lotus prover id), else 32 bytes of hex */
    if (s && (s[0] == 'f' || s[0] == 't') && s[1] == '0' && strlen(s) < 24) {
        uint64_t actor;
        if (tool_parse_u64(cmd, "--prover-id actor", s + 2, &actor))
            return 1;
        pf_prover_id_from_actor(actor, out);
        return 0;
    }
    return tool_parse_hex32(cmd, "--prover-id", s, out);
}

static void progress_stderr(void *ctx, const pf_progress_event *ev)
{
    (void)ctx;
    if (ev->resumed)
        fprintf(stderr, "layer %d/%d: complete from an earlier run\n", ev->layer, ev->layers);
    else
        fprintf(stderr, "layer %d/%d: labeled in %.2fs\n", ev->layer, ev->layers, ev->seconds);
}

static int cmd_pc1(int argc, char **argv)
{
    const char *cmd = "pc1";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },           { "proof", required_argument, NULL, 'p' },
        { "sector-size", required_argument, NULL, 'z' },
        { "sector-id", required_argument, NULL, 'n' },{ "prover-id", required_argument, NULL, 'v' },
        { "ticket", required_argument, NULL, 't' },   { "staged", required_argument, NULL, 's' },
        { "zero", no_argument, NULL, '0' },           { "cache", required_argument, NULL, 'c' },
        { "comm-d", required_argument, NULL, 'd' },   { "parent-cache", required_argument, NULL, 'P' },
        { "cores", required_argument, NULL, 'C' },    { "single", no_argument, NULL, '1' },
        { "producers", required_argument, NULL, 'r' },{ "hugepages", no_argument, NULL, 'h' },
        { "no-hugepages", no_argument, NULL, 'H' },
        { "progress", no_argument, NULL, 'g' },       { 0, 0, 0, 0 },
    };
    const char *proof = NULL, *size = NULL, *sector_s = NULL, *prover_s = NULL, *ticket_s = NULL,
               *staged = NULL, *cache = NULL, *commd_s = NULL, *pcache = NULL, *prod_s = NULL;
    int json = 0, zero = 0, progress = 0, c, id;
    pf_sdr_options so = { .multicore = 1 };
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'p': proof = optarg; break;
        case 'z': size = optarg; break;
        case 'n': sector_s = optarg; break;
        case 'v': prover_s = optarg; break;
        case 't': ticket_s = optarg; break;
        case 's': staged = optarg; break;
        case '0': zero = 1; break;
        case 'c': cache = optarg; break;
        case 'd': commd_s = optarg; break;
        case 'P': pcache = optarg; break;
        case 'C': so.cores = optarg; break;
        case '1': so.multicore = 0; break;
        case 'r': prod_s = optarg; break;
        case 'h': so.hugepages = 1; break;
        case 'H': so.hugepages = -1; break;
        case 'g': progress = 1; break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument '%s'", argv[optind]);
    uint64_t sector_id, producers = 0;
    uint8_t prover[32], ticket[32], comm_d[32];
    if (resolve_proof(cmd, proof, size, &id))
        return 1;
    if (!sector_s)
        return tool_fail(cmd, "--sector-id is required");
    if (tool_parse_u64(cmd, "--sector-id", sector_s, &sector_id) || parse_prover(cmd, prover_s, prover) ||
        tool_parse_hex32(cmd, "--ticket", ticket_s, ticket) ||
        (prod_s && tool_parse_u64(cmd, "--producers", prod_s, &producers)))
        return 1;
    if (producers > 32)
        return tool_fail(cmd, "--producers %s: use 1..32", prod_s);
    so.producers = (int)producers;
    if (!cache)
        return tool_fail(cmd, "--cache DIR is required (the sector's cache directory)");
    if (!!staged == !!zero)
        return tool_fail(cmd, "give exactly one of --staged FILE or --zero");
    const pf_seal_proof_info *info = pf_seal_proof(id);
    pf_error e;
    sp_err se;
    if (staged) {
        struct stat sb;
        if (stat(staged, &sb) != 0)
            return tool_fail(cmd, "--staged %s: %s", staged, strerror(errno));
        if ((uint64_t)sb.st_size > info->sector_size)
            return tool_fail(cmd, "--staged %s: %lld bytes is larger than the %s sector", staged,
                             (long long)sb.st_size, info->name);
    }
    if (commd_s) {
        if (tool_parse_hex32(cmd, "--comm-d", commd_s, comm_d))
            return 1;
    } else if (zero) {
        if (pf_zero_comm(info->sector_size, comm_d, &e))
            return tool_fail_pf(cmd, &e);
    } else {
        /* As rust's PC1 does: tree_d over the staged file, its root is CommD. */
        if (sp_mkdir_p(cache, 0755, &se))
            return tool_fail(cmd, "--cache %s: %s", cache, se.msg);
        if (pf_tree_d_build(id, staged, cache, comm_d, &e))
            return tool_fail_pf(cmd, &e);
    }
    if (progress) {
        so.progress = progress_stderr;
        so.progress_ctx = NULL;
    }
    so.cancel = (const volatile int *)&g_cancel;
    catch_signals();
    pf_pc1_output out;
    if (pf_pc1(id, cache, sector_id, prover, ticket, comm_d, pcache, &so, &out, &e))
        return tool_fail_pf(cmd, &e);
    cJSON *o = cJSON_CreateObject();
    tool_add_hex32(o, "comm_d", out.comm_d);
    tool_add_hex32(o, "replica_id", out.replica_id);
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int l = 1; l <= info->layers; l++) {
        char path[4096];
        pf_layer_path(cache, l, path, sizeof path);
        cJSON_AddItemToArray(layers, cJSON_CreateString(path));
    }
    uint8_t enc[PF_PC1_OUTPUT_ENCODED_LEN];
    char hex[2 * PF_PC1_OUTPUT_ENCODED_LEN + 1];
    pf_pc1_output_encode(&out, enc, sizeof enc);
    sp_hex_encode(enc, sizeof enc, hex);
    cJSON_AddStringToObject(o, "pc1_output", hex);
    return tool_emit(o, json);
}

/* ---- bench pc1 ---- */

typedef struct bench_log {
    double seconds[16];
    double seconds_sum;        /* every event's, when there are more than 16 (batch groups) */
    double cpu;
    uint64_t direct;
    int n;
} bench_log;

static void bench_progress(void *ctx, const pf_progress_event *ev)
{
    bench_log *b = ctx;
    if (!ev->resumed && b->n < 16)
        b->seconds[b->n++] = ev->seconds;
    if (!ev->resumed)
        b->seconds_sum += ev->seconds;
    b->direct += ev->direct_nodes;
    b->cpu += ev->hasher_cpu_seconds;
    fprintf(stderr, "bench pc1: layer %d/%d labeled in %.2fs (group %d)\n", ev->layer, ev->layers,
            ev->seconds, ev->group);
}

/* 1-minute load average at the end of the run (other work lowers every rate above). */
static double load_average(void)
{
    double l[1];
    return getloadavg(l, 1) == 1 ? (double)(int64_t)(l[0] * 100) / 100 : -1;
}

/* What bench pc1 prepared before the run: the proof, the single-chain limit measured in the
 * same run, the parent cache, the temporary directory and the sector inputs. */
typedef struct bench_env {
    const pf_seal_proof_info *info;
    pf_sha256_limit *lim;
    const char *pcache, *dir;
    double pcache_s;
    int pcache_generated;
    uint8_t prover[32], ticket[32], comm_d[32];
} bench_env;

static double round3(double x) { return (double)(int64_t)(x * 1000) / 1000; }

/* bench pc1 --batch N [--cores LIST]: N sectors through pf_pc1_batch, on one hashing core or
 * one per CPU of LIST (groups of up to PF_PC1_BATCH_LANES lanes), against the single-chain
 * limit and the multi-lane ceiling.  Rates are per hashing core: compressions over the
 * groups' labeling seconds added up (core-seconds). */
static int bench_batch(const char *cmd, const bench_env *env, int n, pf_sdr_options *so,
                       bench_log *blog, int json)
{
    const pf_seal_proof_info *info = env->info;
    pf_pc1_batch_sector *s = calloc((size_t)n, sizeof *s);
    char (*dirs)[4200] = calloc((size_t)n, sizeof *dirs);
    if (!s || !dirs) {
        free(s);
        free(dirs);
        return tool_fail(cmd, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/s%d", env->dir, i);
        s[i].cache_dir = dirs[i];
        s[i].sector_id = (uint64_t)i + 1;
        memcpy(s[i].prover_id, env->prover, 32);
        memcpy(s[i].ticket, env->ticket, 32);
        s[i].ticket[0] = (uint8_t)i;
        memcpy(s[i].comm_d, env->comm_d, 32);
    }
    pf_error e;
    double t0 = now_s();
    pf_status st = pf_pc1_batch(info->id, s, n, env->pcache, so, &e);
    double pc1_s = now_s() - t0;
    sp_remove_tree(env->dir, NULL);
    free(dirs);
    free(s);
    if (st)
        return tool_fail_pf(cmd, &e);
    pf_sdr_sha256_limit(env->lim, 1.5);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const double label_s = blog->seconds_sum;
    const double chain = (double)(info->nodes - 1) * PF_SDR_CHAIN_BLOCKS * info->layers * n;
    double total = chain / label_s, total_cpu = blog->cpu > 0 ? chain / blog->cpu : 0;
    int groups = 1, lanes = 1, cores = 1;
    if (pf_pc1_batch_layout(n, so->cores, &groups, &lanes, &cores, &e) != PF_OK)
        return tool_fail_pf(cmd, &e);
    double lanes_limit = pf_sdr_lanes_limit(lanes, 1.5);
    uint64_t rss = (uint64_t)ru.ru_maxrss * 1024;

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "proof", info->name);
    cJSON_AddNumberToObject(o, "sector_size", (double)info->sector_size);
    cJSON_AddNumberToObject(o, "layers", info->layers);
    cJSON_AddStringToObject(o, "mode", "batch");
    cJSON_AddNumberToObject(o, "batch", n);
    cJSON_AddNumberToObject(o, "lanes_per_core", lanes);
    cJSON_AddNumberToObject(o, "groups", groups);
    cJSON_AddNumberToObject(o, "hashing_cores", cores);
    cJSON_AddBoolToObject(o, "sha_ni", env->lim->sha_ni);
    cJSON *ls = cJSON_AddArrayToObject(o, "layer_seconds");
    for (int i = 0; i < blog->n; i++)
        cJSON_AddItemToArray(ls, cJSON_CreateNumber(round3(blog->seconds[i])));
    cJSON_AddNumberToObject(o, "pc1_seconds", round3(pc1_s));
    /* per hashing core, and all cores together while they ran side by side */
    cJSON_AddNumberToObject(o, "compressions_per_s", (double)(int64_t)total);
    cJSON_AddNumberToObject(o, "all_cores_compressions_per_s", (double)(int64_t)(total * cores));
    cJSON_AddNumberToObject(o, "per_sector_compressions_per_s",
                            (double)(int64_t)(total * cores / n));
    cJSON_AddNumberToObject(o, "sha256_limit_per_s", (double)(int64_t)env->lim->best);
    cJSON_AddNumberToObject(o, "ratio", round3(total / env->lim->best));
    cJSON_AddNumberToObject(o, "hashing_thread_cpu_seconds", round3(blog->cpu));
    cJSON_AddNumberToObject(o, "compressions_per_cpu_s", (double)(int64_t)total_cpu);
    cJSON_AddNumberToObject(o, "ratio_on_cpu_time",
                            env->lim->best_cpu > 0 ? round3(total_cpu / env->lim->best_cpu) : 0);
    cJSON_AddNumberToObject(o, "lanes_limit_per_s", (double)(int64_t)lanes_limit);
    cJSON_AddNumberToObject(o, "fraction_of_lanes_limit",
                            lanes_limit > 0 ? round3(total_cpu / lanes_limit) : 0);
    cJSON_AddNumberToObject(o, "load_average", load_average());
    cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)rss);
    cJSON_AddNumberToObject(o, "peak_rss_per_sector_bytes", (double)(rss / (uint64_t)n));
    /* what one single-sector PC1 holds: two layers (plus a window of the parent cache) */
    cJSON_AddNumberToObject(o, "single_sector_layers_bytes", (double)(2 * info->sector_size));
    cJSON_AddNumberToObject(o, "parent_cache_seconds", round3(env->pcache_s));
    cJSON_AddBoolToObject(o, "parent_cache_generated", env->pcache_generated);
    return tool_emit(o, json);
}

static int cmd_bench_pc1(int argc, char **argv)
{
    const char *cmd = "bench pc1";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },          { "sector-size", required_argument, NULL, 's' },
        { "proof", required_argument, NULL, 'p' },   { "single", no_argument, NULL, '1' },
        { "cores", required_argument, NULL, 'C' },   { "parent-cache", required_argument, NULL, 'P' },
        { "dir", required_argument, NULL, 'd' },     { "hugepages", no_argument, NULL, 'h' },
        { "no-hugepages", no_argument, NULL, 'H' },
        { "producers", required_argument, NULL, 'r' },
        { "batch", required_argument, NULL, 'b' },
        { 0, 0, 0, 0 },
    };
    const char *size = "512MiB", *proof = NULL, *pcache = NULL, *dir = NULL, *prod_s = NULL,
               *batch_s = NULL;
    int json = 0, c, id;
    pf_sdr_options so = { .multicore = 1 };
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 's': size = optarg; break;
        case 'p': proof = optarg; break;
        case '1': so.multicore = 0; break;
        case 'C': so.cores = optarg; break;
        case 'P': pcache = optarg; break;
        case 'd': dir = optarg; break;
        case 'h': so.hugepages = 1; break;
        case 'H': so.hugepages = -1; break;
        case 'r': prod_s = optarg; break;
        case 'b': batch_s = optarg; break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument '%s'", argv[optind]);
    if (resolve_proof(cmd, proof, size, &id))
        return 1;
    uint64_t producers = 0;
    if (prod_s && (tool_parse_u64(cmd, "--producers", prod_s, &producers) || producers > 32))
        return tool_fail(cmd, "--producers: use 1..32");
    so.producers = (int)producers;
    uint64_t batch = 1;
    if (batch_s && (tool_parse_u64(cmd, "--batch", batch_s, &batch) || batch < 1 ||
                    batch > PF_PC1_BATCH_MAX))
        return tool_fail(cmd, "--batch: use 1..%d sectors", PF_PC1_BATCH_MAX);
    const pf_seal_proof_info *info = pf_seal_proof(id);
    pf_error e;

    /* The parent cache first (generated once per machine; not part of the timing). */
    pf_graph g;
    pf_parent_cache_result pcr;
    if (pf_graph_init_proof(&g, id, &e))
        return tool_fail_pf(cmd, &e);
    double t0 = now_s();
    if (pf_parent_cache_ensure(&g, pcache, 0, &pcr, &e))
        return tool_fail_pf(cmd, &e);
    double pcache_s = now_s() - t0;

    pf_sha256_limit lim = { 0 };
    pf_sdr_sha256_limit(&lim, 1.5);

    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/sealproof-bench-pc1.XXXXXX", dir ? dir : "/var/tmp");
    if (!mkdtemp(tmpl))
        return tool_fail(cmd, "cannot create a temporary directory under %s: %s",
                         dir ? dir : "/var/tmp", strerror(errno));
    uint8_t prover[32] = { 0xe8, 0x07 }, ticket[32], comm_d[32];
    memset(ticket, 0x42, 32);
    pf_zero_comm(info->sector_size, comm_d, NULL);
    bench_log blog = { .n = 0 };
    so.progress = bench_progress;
    so.progress_ctx = &blog;
    so.cancel = (const volatile int *)&g_cancel;
    catch_signals();
    if (batch > 1) {
        bench_env env = { .info = info, .lim = &lim, .pcache = pcache, .dir = tmpl,
                          .pcache_s = pcache_s, .pcache_generated = pcr.generated };
        memcpy(env.prover, prover, 32);
        memcpy(env.ticket, ticket, 32);
        memcpy(env.comm_d, comm_d, 32);
        return bench_batch(cmd, &env, (int)batch, &so, &blog, json);
    }
    pf_pc1_output out;
    t0 = now_s();
    pf_status st = pf_pc1(id, tmpl, 1, prover, ticket, comm_d, pcache, &so, &out, &e);
    double pc1_s = now_s() - t0;
    sp_remove_tree(tmpl, NULL);
    if (st)
        return tool_fail_pf(cmd, &e);
    pf_sdr_sha256_limit(&lim, 1.5);   /* the best of before and after: noise only lowers a rate */

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double label_s = 0;
    for (int i = 0; i < blog.n; i++)
        label_s += blog.seconds[i];
    const double chain_per_layer = (double)(info->nodes - 1) * PF_SDR_CHAIN_BLOCKS;
    const double total_per_layer = (double)(info->nodes - 1) * (PF_SDR_CHAIN_BLOCKS + 1) + 2;
    double rate = chain_per_layer * blog.n / label_s;
    uint64_t rss = (uint64_t)ru.ru_maxrss * 1024;
    uint64_t budget = (info->sector_size + info->nodes * PF_DEGREE * 4) * 11 / 10;

    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "proof", info->name);
    cJSON_AddNumberToObject(o, "sector_size", (double)info->sector_size);
    cJSON_AddNumberToObject(o, "layers", info->layers);
    cJSON_AddStringToObject(o, "mode", so.multicore ? "multicore" : "single");
    cJSON_AddBoolToObject(o, "sha_ni", lim.sha_ni);
    cJSON *ls = cJSON_AddArrayToObject(o, "layer_seconds");
    for (int i = 0; i < blog.n; i++)
        cJSON_AddItemToArray(ls, cJSON_CreateNumber((double)(int64_t)(blog.seconds[i] * 1000) / 1000));
    cJSON_AddNumberToObject(o, "pc1_seconds", (double)(int64_t)(pc1_s * 1000) / 1000);
    cJSON_AddNumberToObject(o, "compressions_per_s", (double)(int64_t)rate);
    cJSON_AddNumberToObject(o, "sha256_limit_per_s", (double)(int64_t)lim.best);
    cJSON_AddNumberToObject(o, "ratio", (double)(int64_t)(rate / lim.best * 1000) / 1000);
    cJSON_AddNumberToObject(o, "total_compressions_per_s",
                            (double)(int64_t)(total_per_layer * blog.n / label_s));
    cJSON_AddNumberToObject(o, "sha256_library_chain_per_s", (double)(int64_t)lim.library);
    cJSON_AddNumberToObject(o, "sha256_unrolled_chain_per_s", (double)(int64_t)lim.unrolled);
    cJSON_AddNumberToObject(o, "sha256_rounds_only_per_s", (double)(int64_t)lim.rounds_only);
    /* The same ratio over CPU time (the hashing thread's, and the limit's own): on a shared
     * machine it shows what the code does when the scheduler lets it run. */
    cJSON_AddNumberToObject(o, "hashing_thread_cpu_seconds", (double)(int64_t)(blog.cpu * 1000) / 1000);
    cJSON_AddNumberToObject(o, "ratio_on_cpu_time",
                            blog.cpu > 0 && lim.best_cpu > 0
                                ? (double)(int64_t)(chain_per_layer * blog.n / blog.cpu / lim.best_cpu * 1000) / 1000
                                : 0);
    cJSON_AddNumberToObject(o, "load_average", load_average());
    /* nodes the hashing thread had to label without its producers (they fell behind) */
    cJSON_AddNumberToObject(o, "hasher_direct_fraction",
                            (double)(int64_t)((double)blog.direct / ((double)(info->nodes - 1) * blog.n) * 1000) / 1000);
    cJSON_AddNumberToObject(o, "peak_rss_bytes", (double)rss);
    cJSON_AddNumberToObject(o, "rss_budget_bytes", (double)budget);
    cJSON_AddNumberToObject(o, "parent_cache_seconds", (double)(int64_t)(pcache_s * 1000) / 1000);
    cJSON_AddBoolToObject(o, "parent_cache_generated", pcr.generated);
    return tool_emit(o, json);
}

const sp_cmd sealproof_pc1_cmds[] = {
    { "parents", cmd_parents, "SDR parents of nodes, or the whole parent table's digest/file",
      "parents (--proof P | --sector-size S) [--node I ...] [--digest] [--out FILE] [--json]\n"
      "  The SDR graph of a registered seal proof: per --node its 6 DRG base parents (this\n"
      "  layer) and 8 expander parents (previous layer); --digest the SHA-256 of the whole\n"
      "  parent table (compared with rust-fil-proofs' pinned digest where one exists); --out\n"
      "  writes the table in the parent-cache file format (14 u32 LE per node).\n"
      "  Without --node or --out it prints the digest.\n"
      "Example: sealproof parents --proof StackedDrg2KiBV1_1 --node 2 --node 63 --json" },
    { "labels", cmd_labels, "last SDR labels of every layer (in memory)",
      "labels --nodes N --layers L --replica-id HEX --porep-id HEX --api 1.0|1.1|1.2\n"
      "       [--multi] [--cores LIST] [--json]\n"
      "  Labels L layers of an N-node graph seeded by porep_id and prints the label of the\n"
      "  last node of each layer (rust-fil-proofs' create_labels test values).\n"
      "Example: sealproof labels --nodes 64 --layers 11 --replica-id 0909..09 --porep-id 00..00 "
      "--api 1.0" },
    { "pc1", cmd_pc1, "PreCommit 1: label every SDR layer into the cache directory",
      "pc1 (--proof P | --sector-size S) --sector-id N --prover-id HEX|f0ID --ticket HEX\n"
      "    (--staged FILE | --zero) --cache DIR [--comm-d HEX] [--parent-cache DIR]\n"
      "    [--cores LIST] [--producers N] [--single] [--hugepages|--no-hugepages] [--progress] [--json]\n"
      "  Writes sc-02-data-layer-N.dat for every layer into DIR and prints comm_d, replica_id,\n"
      "  the layer paths and pc1_output (the encoded pf_pc1_output).  Without --comm-d, CommD\n"
      "  is the empty sector's for --zero, else tree_d is built over FILE into DIR.\n"
      "  Multi-core (a hashing thread + producers on CPUs sharing one L3, or --cores LIST,\n"
      "  first CPU for hashing) unless --single.  The parent cache lives in --parent-cache\n"
      "  or $FIL_PROOFS_PARENT_CACHE or /var/tmp/filecoin-parents and is generated if needed.\n"
      "  Interrupted (Ctrl-C) or crashed runs resume after the last complete layer.\n"
      "Example: sealproof pc1 --proof 5 --sector-id 1 --prover-id f01000 --ticket 00..00 "
      "--zero --cache /tmp/s1" },
    { "bench pc1", cmd_bench_pc1, "PC1 labeling rate vs this machine's SHA-256 limit",
      "bench pc1 [--sector-size 512MiB | --proof P] [--single] [--cores LIST] [--producers N]\n"
      "          [--batch N] [--hugepages|--no-hugepages] [--parent-cache DIR] [--dir DIR] [--json]\n"
      "  Runs PC1 of an empty sector in a temporary directory under DIR (default /var/tmp,\n"
      "  removed afterwards) and prints per-layer labeling time, peak RSS, the labeling rate\n"
      "  in SHA-256 compressions/s on the dependent chain (19 per node), the single-core\n"
      "  single-chain SHA-256 compression rate measured in the same run, and their ratio.\n"
      "  --batch N labels N sectors together (pf_pc1_batch, up to 8 interleaved per hashing\n"
      "  core) and reports total and per-sector rates, the ratio of the total to the\n"
      "  single-chain limit, the ceiling of that many lanes, and peak memory per sector.\n"
      "Example: sealproof bench pc1 --sector-size 512MiB --batch 4 --json" },
    { NULL, NULL, NULL, NULL },
};
