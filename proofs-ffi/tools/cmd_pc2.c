/* cmd_pc2.c — sealproof commands of PreCommit phase 2: poseidon (one hash), pc2 (the trees,
 * the replica and p_aux from the PC1 layers), seal (AddPiece, TreeD, PC1, PC2 in one go)
 * and bench pc2 (field products, column and tree hash rates, a PC2 on fabricated layers). */
#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_fs.h"
#include "sp_size.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- poseidon ---- */

static int cmd_poseidon(int argc, char **argv)
{
    const char *cmd = "poseidon";
    static const struct option opts[] = {
        { "arity", required_argument, NULL, 'a' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    int json = 0, c;
    uint64_t arity = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (tool_parse_u64(cmd, "--arity", optarg, &arity))
                return 1;
            break;
        case 'j':
            json = 1;
            break;
        default:
            return tool_fail(cmd, "unknown option (see sealproof poseidon --help)");
        }
    }
    if (arity < 1 || arity > PF_POSEIDON_ARITY_MAX)
        return tool_fail(cmd, "--arity %llu: give the number of inputs, 1..%d",
                         (unsigned long long)arity, PF_POSEIDON_ARITY_MAX);
    int n = argc - optind;
    if ((uint64_t)n != arity)
        return tool_fail(cmd, "--arity %llu needs %llu inputs, got %d", (unsigned long long)arity,
                         (unsigned long long)arity, n);
    uint8_t in[PF_POSEIDON_ARITY_MAX][32], out[32];
    for (int i = 0; i < n; i++) {
        char what[32];
        snprintf(what, sizeof what, "input %d", i + 1);
        if (tool_parse_hex32(cmd, what, argv[optind + i], in[i]))
            return 1;
    }
    pf_error err;
    if (pf_poseidon_hash((int)arity, (const uint8_t(*)[32])in, out, &err))
        return tool_fail_pf(cmd, &err);
    cJSON *o = cJSON_CreateObject();
    tool_add_hex32(o, "hash", out);
    return tool_emit(o, json);
}

/* ---- pc2 ---- */

static int progress_line(void *arg, const char *stage, uint64_t done, uint64_t total)
{
    double *last = arg;
    double t = now_s();
    if (strcmp(stage, "pc2") == 0 && (t - *last > 5 || done == total)) {
        fprintf(stderr, "sealproof pc2: %llu of %llu nodes\n", (unsigned long long)done,
                (unsigned long long)total);
        *last = t;
    }
    return 0;
}

static int cmd_pc2(int argc, char **argv)
{
    const char *cmd = "pc2";
    static const struct option opts[] = {
        { "proof", required_argument, NULL, 'p' },
        { "cache", required_argument, NULL, 'c' },
        { "sealed", required_argument, NULL, 's' },
        { "staged", required_argument, NULL, 'u' },
        { "cpu", no_argument, NULL, 'C' },
        { "threads", required_argument, NULL, 't' },
        { "progress", no_argument, NULL, 'P' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *proof = NULL, *cache = NULL, *sealed = NULL, *staged = NULL;
    int json = 0, progress = 0, c;
    uint64_t threads = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': proof = optarg; break;
        case 'c': cache = optarg; break;
        case 's': sealed = optarg; break;
        case 'u': staged = optarg; break;
        case 'C': break;   /* the CPU path is the only one this build has */
        case 'P': progress = 1; break;
        case 't':
            if (tool_parse_u64(cmd, "--threads", optarg, &threads))
                return 1;
            break;
        case 'j': json = 1; break;
        default:
            return tool_fail(cmd, "unknown option (see sealproof pc2 --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    int id;
    if (tool_parse_seal_proof(cmd, proof, &id))
        return 1;
    if (!cache || !sealed || !staged)
        return tool_fail(cmd, "--cache DIR, --staged FILE and --sealed FILE are required");
    /* PC2 needs only the proof type from the PC1 output (the layers carry the rest) */
    pf_pc1_output pc1;
    memset(&pc1, 0, sizeof pc1);
    pc1.version = PF_PC1_OUTPUT_VERSION;
    pc1.proof_id = id;
    double last = now_s();
    pf_pc2_options o = { .threads = (int)threads };
    if (progress) {
        o.progress = progress_line;
        o.progress_arg = &last;
    }
    pf_pc2_output out;
    pf_error err;
    double t0 = now_s();
    if (pf_pc2(&pc1, cache, staged, sealed, &o, &out, &err))
        return tool_fail_pf(cmd, &err);
    cJSON *r = cJSON_CreateObject();
    tool_add_hex32(r, "comm_c", out.comm_c);
    tool_add_hex32(r, "comm_r_last", out.comm_r_last);
    tool_add_hex32(r, "comm_r", out.comm_r);
    cJSON_AddNumberToObject(r, "seconds", (double)(int64_t)((now_s() - t0) * 1000) / 1000);
    return tool_emit(r, json);
}

/* ---- bench pc2 ---- */

/* Writes a layer file of random labels (< 2^254, as trimmed SHA-256 labels are). */
static int fabricate_layer(const char *cmd, const char *path, uint64_t nodes, uint64_t seed)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return tool_fail(cmd, "%s: %s", path, strerror(errno));
    enum { CH = 1 << 15 };
    static uint64_t buf[CH * 4];
    uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
    for (uint64_t done = 0; done < nodes;) {
        uint64_t n = nodes - done < CH ? nodes - done : CH;
        for (uint64_t i = 0; i < n * 4; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = i % 4 == 3 ? x & 0x3fffffffffffffffULL : x;
        }
        if (fwrite(buf, 32, n, f) != n) {
            fclose(f);
            return tool_fail(cmd, "%s: %s", path, strerror(errno));
        }
        done += n;
    }
    if (fclose(f) != 0)
        return tool_fail(cmd, "%s: %s", path, strerror(errno));
    return 0;
}

static double round3(double v)
{
    return (double)(int64_t)(v * 1000 + 0.5) / 1000;
}

static int bench_rates(const char *cmd, int arity, int columns, int threads, uint64_t count,
                       double *per_core, double *total)
{
    pf_error err;
    double s1, sn;
    if (pf_bench_poseidon(arity, columns, count, 1, &s1, &err) ||
        pf_bench_poseidon(arity, columns, count * (uint64_t)threads, threads, &sn, &err))
        return tool_fail_pf(cmd, &err);
    *per_core = (double)count / s1;
    *total = (double)count * threads / sn;
    return 0;
}

static int cmd_bench_pc2(int argc, char **argv)
{
    const char *cmd = "bench pc2";
    static const struct option opts[] = {
        { "sector-size", required_argument, NULL, 's' },
        { "cpu", no_argument, NULL, 'C' },
        { "threads", required_argument, NULL, 't' },
        { "dir", required_argument, NULL, 'd' },
        { "no-pc2", no_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t size = 512ULL << 20, threads = 0;
    const char *dir = NULL;
    int json = 0, run_pc2 = 1, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if (tool_parse_size(cmd, "--sector-size", optarg, &size))
                return 1;
            break;
        case 'C': break;
        case 't':
            if (tool_parse_u64(cmd, "--threads", optarg, &threads))
                return 1;
            break;
        case 'd': dir = optarg; break;
        case 'n': run_pc2 = 0; break;
        case 'j': json = 1; break;
        default:
            return tool_fail(cmd, "unknown option (see sealproof bench pc2 --help)");
        }
    }
    int id = pf_seal_proof_for_size(size);
    if (id < 0)
        return tool_fail(cmd, "--sector-size %llu: not a registered sector size (2KiB, 8MiB, "
                         "512MiB, 32GiB, 64GiB)", (unsigned long long)size);
    const pf_seal_proof_info *info = pf_seal_proof(id);
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (uint64_t)n : 1;
    }
    int t = (int)threads;

    pf_fr_bench fb;
    pf_bench_fr_mul(20000000, &fb);
    double col_core, col_all, tree_core, tree_all;
    if (bench_rates(cmd, info->layers, 1, t, 8192, &col_core, &col_all) ||
        bench_rates(cmd, 8, 0, t, 8192, &tree_core, &tree_all))
        return 1;
    double mults_per_s = 1e9 / fb.ns_parallel;
    double col_mults = (double)pf_poseidon_mults(info->layers), tree_mults = (double)pf_poseidon_mults(8);

    cJSON *r = cJSON_CreateObject();
    char sz[32];
    cJSON_AddStringToObject(r, "sector_size", sp_format_size(size, sz, sizeof sz));
    cJSON_AddNumberToObject(r, "threads", t);
    cJSON *fr = cJSON_AddObjectToObject(r, "fr_mul");
    cJSON_AddStringToObject(fr, "path", fb.path);
    cJSON_AddNumberToObject(fr, "core_ghz", round3(fb.ghz));
    cJSON_AddNumberToObject(fr, "mults_per_s_per_core", (double)(int64_t)mults_per_s);
    cJSON_AddNumberToObject(fr, "ns_per_mul", round3(fb.ns_parallel));
    cJSON_AddNumberToObject(fr, "ns_per_mul_chained", round3(fb.ns_chain));
    if (fb.ghz > 0) {
        cJSON_AddNumberToObject(fr, "cycles_per_mul", round3(fb.ns_parallel * fb.ghz));
        cJSON_AddNumberToObject(fr, "cycles_per_mul_chained", round3(fb.ns_chain * fb.ghz));
        cJSON_AddNumberToObject(fr, "portable_cycles_per_mul",
                                round3(fb.ns_parallel_portable * fb.ghz));
    }
    cJSON *col = cJSON_AddObjectToObject(r, "column_hash");
    cJSON_AddNumberToObject(col, "arity", info->layers);
    cJSON_AddNumberToObject(col, "mults_per_hash", col_mults);
    cJSON_AddNumberToObject(col, "per_s_per_core", (double)(int64_t)col_core);
    cJSON_AddNumberToObject(col, "per_s", (double)(int64_t)col_all);
    /* measured hash rate over the rate the measured product rate allows */
    cJSON_AddNumberToObject(col, "vs_mul_rate", round3(col_core / (mults_per_s / col_mults)));
    cJSON *tree = cJSON_AddObjectToObject(r, "tree_hash");
    cJSON_AddNumberToObject(tree, "arity", 8);
    cJSON_AddNumberToObject(tree, "mults_per_hash", tree_mults);
    cJSON_AddNumberToObject(tree, "per_s_per_core", (double)(int64_t)tree_core);
    cJSON_AddNumberToObject(tree, "per_s", (double)(int64_t)tree_all);
    cJSON_AddNumberToObject(tree, "vs_mul_rate", round3(tree_core / (mults_per_s / tree_mults)));

    if (run_pc2) {
        /* PC2 on fabricated layers (random labels) and all-zero data */
        char base[4096], path[4200], staged[4200], sealed[4200];
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/sealproof-bench-pc2.XXXXXX",
                 dir ? dir : tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(base)) {
            cJSON_Delete(r);
            return tool_fail(cmd, "creating a work directory under %s: %s",
                             dir ? dir : "/tmp", strerror(errno));
        }
        int rc = 0;
        for (int l = 1; l <= info->layers && !rc; l++) {
            snprintf(path, sizeof path, "%s/sc-02-data-layer-%d.dat", base, l);
            rc = fabricate_layer(cmd, path, info->nodes, (uint64_t)l);
        }
        snprintf(staged, sizeof staged, "%s/staged", base);
        snprintf(sealed, sizeof sealed, "%s/sealed", base);
        FILE *f = rc ? NULL : fopen(staged, "wb");
        if (f)
            fclose(f);
        else if (!rc)
            rc = tool_fail(cmd, "%s: %s", staged, strerror(errno));
        if (!rc) {
            pf_pc1_output pc1;
            memset(&pc1, 0, sizeof pc1);
            pc1.version = PF_PC1_OUTPUT_VERSION;
            pc1.proof_id = id;
            pf_pc2_options o = { .threads = t };
            pf_pc2_output out;
            pf_error err;
            double t0 = now_s();
            if (pf_pc2(&pc1, base, staged, sealed, &o, &out, &err)) {
                rc = tool_fail_pf(cmd, &err);
            } else {
                double secs = now_s() - t0;
                cJSON *p = cJSON_AddObjectToObject(r, "pc2");
                cJSON_AddNumberToObject(p, "seconds", round3(secs));
                cJSON_AddNumberToObject(p, "column_hashes", (double)info->nodes);
                double tree_hashes = 2.0 * (double)(info->nodes - 1) / 7.0;
                cJSON_AddNumberToObject(p, "tree_hashes", (double)(int64_t)tree_hashes);
                cJSON_AddNumberToObject(p, "hashes_per_s",
                                        (double)(int64_t)(((double)info->nodes + tree_hashes) / secs));
                tool_add_hex32(p, "comm_r", out.comm_r);
            }
        }
        sp_err se;
        sp_remove_tree(base, &se);
        if (rc) {
            cJSON_Delete(r);
            return rc;
        }
    }
    return tool_emit(r, json);
}

/* ---- table ---- */

const sp_cmd sealproof_pc2_cmds[] = {
    { "poseidon", cmd_poseidon, "Poseidon hash of canonical field elements (Merkle-tree tag)",
      "usage: sealproof poseidon --arity A HEX... [--json]\n"
      "  Hashes A inputs, each 32 bytes as 64 hex digits (a canonical little-endian field\n"
      "  element, < p), with neptune's Poseidon as Filecoin uses it (domain tag 2^A - 1).\n"
      "  Prints {\"hash\"}.\n"
      "example: sealproof poseidon --arity 2 $(printf '%064d' 0) 01$(printf '%062d' 0)\n" },
    { "pc2", cmd_pc2, "PreCommit phase 2: tree_c, tree_r_last, the sealed replica, comm_r",
      "usage: sealproof pc2 --proof P --cache DIR --staged FILE --sealed FILE [--cpu]\n"
      "                     [--threads N] [--progress] [--json]\n"
      "  Reads the PC1 layers (DIR/sc-02-data-layer-N.dat) and the staged fr32-padded data\n"
      "  (zeros past its end), writes the replica to --sealed and sc-02-data-tree-c*.dat,\n"
      "  sc-02-data-tree-r-last*.dat and p_aux into DIR, and prints\n"
      "  {\"comm_c\",\"comm_r_last\",\"comm_r\",\"seconds\"}.  An interrupted run can simply be\n"
      "  run again.  --proof is a registered seal proof id or name (StackedDrg2KiBV1_1);\n"
      "  --threads defaults to all online CPUs.\n" },
    { "bench pc2", cmd_bench_pc2, "PC2 throughput: Fr products, column and tree hashes, a full PC2",
      "usage: sealproof bench pc2 [--sector-size 512MiB] [--cpu] [--threads N] [--dir DIR]\n"
      "                           [--no-pc2] [--json]\n"
      "  Measures Fr products (ns and cycles per product at the measured core clock, both\n"
      "  paths), Poseidon column hashes (arity = layers of that size) and 8-ary tree hashes\n"
      "  per second on one core and on N threads, and each hash rate against the rate the\n"
      "  product rate allows (products per hash: research/perf.md 1.2); then runs PC2 on\n"
      "  fabricated layers (random labels) in a directory under --dir or $TMPDIR (needs\n"
      "  about 4.5x the sector size of disk) unless --no-pc2.\n" },
    { NULL, NULL, NULL, NULL },
};
