/* cmd_pc2.c — sealproof commands of PreCommit phase 2: poseidon (one hash), pc2 (the trees,
 * the replica and p_aux from the PC1 layers), seal (AddPiece, TreeD, PC1, PC2 in one go)
 * and bench pc2 (field products, column and tree hash rates, a PC2 on fabricated layers). */
#include "tool.h"
#include "cmd_commit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_size.h"

#include "../src/opencl.h"
#include "../src/pc2_hasher.h"

/* Chunk for a device backend: large batches keep a GPU busy (8^6 nodes, 8 MiB a layer). */
#define GPU_CHUNK_NODES 262144

/* --gpu DEV: an OpenCL hasher for PC2 (NULL *out for the CPU path). */
static int open_backend(const char *cmd, const char *gpu, int cpu, pf_hasher **out)
{
    *out = NULL;
    if (gpu && cpu)
        return tool_fail(cmd, "give --gpu DEV or --cpu, not both");
    if (!gpu)
        return 0;
    pf_error err;
    if (pf_hasher_opencl_new(gpu, out, &err))
        return tool_fail_pf(cmd, &err);
    return 0;
}

/* Set by SIGINT/SIGTERM: PC1 and PC2 stop at their next check and PC2 removes its
 * temporary files. */
static volatile int g_cancel_flag;

static void on_signal(int sig)
{
    (void)sig;
    g_cancel_flag = 1;
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

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

/* The encoded pf_pc1_output, from hex on the command line or a file holding it raw or as
 * hex (the "pc1_output" that `sealproof pc1` prints). */
static int load_pc1_output(const char *cmd, const char *hex, const char *file, pf_pc1_output *o)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    sp_err se;
    char *text = NULL;
    if (hex && file)
        return tool_fail(cmd, "give --pc1-output HEX or --pc1-out FILE, not both");
    if (file) {
        size_t n;
        if (sp_read_file(file, 1 << 16, &text, &n, &se))
            return tool_fail(cmd, "--pc1-out %s: %s", file, se.msg);
        if (n == PF_PC1_OUTPUT_ENCODED_LEN) {
            buf = malloc(n);
            if (!buf) {
                free(text);
                return tool_fail(cmd, "out of memory");
            }
            memcpy(buf, text, n);
            len = n;
        } else {
            while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
                text[--n] = 0;
            hex = text;
        }
    }
    if (!buf && sp_hex_decode_alloc(hex, &buf, &len, &se)) {
        free(text);
        return tool_fail(cmd, "%s: not the encoded PC1 output (%s)",
                         file ? file : "--pc1-output", se.msg);
    }
    free(text);
    pf_error err;
    pf_status st = pf_pc1_output_decode(buf, len, o, &err);
    free(buf);
    if (st)
        return tool_fail_pf(cmd, &err);
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
        { "gpu", required_argument, NULL, 'G' },
        { "threads", required_argument, NULL, 't' },
        { "progress", no_argument, NULL, 'P' },
        { "pc1-output", required_argument, NULL, 'o' },
        { "pc1-out", required_argument, NULL, 'O' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *proof = NULL, *cache = NULL, *sealed = NULL, *staged = NULL;
    const char *pc1_hex = NULL, *pc1_file = NULL, *gpu = NULL;
    int json = 0, progress = 0, cpu = 0, c;
    uint64_t threads = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': proof = optarg; break;
        case 'c': cache = optarg; break;
        case 's': sealed = optarg; break;
        case 'u': staged = optarg; break;
        case 'C': cpu = 1; break;
        case 'G': gpu = optarg; break;
        case 'P': progress = 1; break;
        case 'o': pc1_hex = optarg; break;
        case 'O': pc1_file = optarg; break;
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
    if (!cache || !sealed || !staged)
        return tool_fail(cmd, "--cache DIR, --staged FILE and --sealed FILE are required");
    pf_pc1_output pc1;
    memset(&pc1, 0, sizeof pc1);
    if (pc1_hex || pc1_file) {
        if (load_pc1_output(cmd, pc1_hex, pc1_file, &pc1))
            return 1;
        if (proof) {
            int id;
            if (tool_parse_seal_proof(cmd, proof, &id))
                return 1;
            if (id != pc1.proof_id)
                return tool_fail(cmd, "--proof %s does not match the PC1 output's proof %s", proof,
                                 pf_seal_proof(pc1.proof_id)->name);
        }
    } else {
        /* PC2 needs only the proof type from the PC1 output (the layers carry the rest) */
        int id;
        if (tool_parse_seal_proof(cmd, proof, &id))
            return 1;
        pc1.version = PF_PC1_OUTPUT_VERSION;
        pc1.proof_id = id;
    }
    double last = now_s();
    catch_signals();
    pf_pc2_options o = { .threads = (int)threads, .cancel = &g_cancel_flag };
    if (progress) {
        o.progress = progress_line;
        o.progress_arg = &last;
    }
    if (open_backend(cmd, gpu, cpu, &o.hasher))
        return 1;
    if (o.hasher)
        o.chunk_nodes = GPU_CHUNK_NODES;
    pf_pc2_output out;
    pf_error err;
    double t0 = now_s();
    pf_status st = pf_pc2(&pc1, cache, staged, sealed, &o, &out, &err);
    if (o.hasher)
        o.hasher->destroy(o.hasher);
    if (st)
        return tool_fail_pf(cmd, &err);
    cJSON *r = cJSON_CreateObject();
    tool_add_hex32(r, "comm_c", out.comm_c);
    tool_add_hex32(r, "comm_r_last", out.comm_r_last);
    tool_add_hex32(r, "comm_r", out.comm_r);
    cJSON_AddNumberToObject(r, "seconds", (double)(int64_t)((now_s() - t0) * 1000) / 1000);
    cJSON_AddStringToObject(r, "backend", gpu ? "opencl" : "cpu");
    return tool_emit(r, json);
}

/* ---- seal ---- */

static int parse_prover_id(const char *cmd, const char *s, uint8_t out[32])
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

static void pc1_progress(void *ctx, const pf_progress_event *ev)
{
    (void)ctx;
    fprintf(stderr, "sealproof seal: pc1 layer %d/%d %s\n", ev->layer, ev->layers,
            ev->resumed ? "complete from an earlier run" : "labeled");
}

/* AddPiece of the input (zero-filled to a whole piece; the rest of the sector reads as
 * zeros) into a new staged file. */
static int seal_add_piece(const char *cmd, int id, const char *input, const char *staged,
                          uint8_t comm_p[32])
{
    int in = -1, out = -1, rc = 1;
    struct stat sb;
    const pf_seal_proof_info *info = pf_seal_proof(id);
    out = open(staged, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        tool_fail(cmd, "%s: %s", staged, strerror(errno));
        goto done;
    }
    if (!input) {
        rc = 0;   /* --zero: an empty staged file is an all-zero sector */
        goto done;
    }
    in = open(input, O_RDONLY | O_CLOEXEC);
    if (in < 0 || fstat(in, &sb) != 0) {
        tool_fail(cmd, "--input %s: %s", input, strerror(errno));
        goto done;
    }
    if ((uint64_t)sb.st_size > pf_max_user_bytes(info->sector_size)) {
        tool_fail(cmd, "--input %s: %lld bytes do not fit a %s sector (at most %llu)", input,
                  (long long)sb.st_size, info->name,
                  (unsigned long long)pf_max_user_bytes(info->sector_size));
        goto done;
    }
    if (sb.st_size == 0) {
        rc = 0;
        goto done;
    }
    pf_add_piece_result res;
    pf_error err;
    if (pf_add_piece_fill(id, in, (uint64_t)sb.st_size, out, NULL, 0, &res, &err)) {
        tool_fail_pf(cmd, &err);
        goto done;
    }
    memcpy(comm_p, res.comm_p, 32);
    rc = 0;
done:
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0 && !rc)
        rc = tool_fail(cmd, "%s: %s", staged, strerror(errno));
    return rc;
}

static int cmd_seal(int argc, char **argv)
{
    const char *cmd = "seal";
    static const struct option opts[] = {
        { "proof", required_argument, NULL, 'p' },
        { "sector-id", required_argument, NULL, 'n' },
        { "prover-id", required_argument, NULL, 'v' },
        { "ticket", required_argument, NULL, 't' },
        { "seed", required_argument, NULL, 's' },
        { "input", required_argument, NULL, 'i' },
        { "zero", no_argument, NULL, '0' },
        { "dir", required_argument, NULL, 'd' },
        { "parent-cache", required_argument, NULL, 'P' },
        { "cpu", no_argument, NULL, 'C' },
        { "gpu", required_argument, NULL, 'G' },
        { "threads", required_argument, NULL, 'T' },
        { "progress", no_argument, NULL, 'g' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *proof = NULL, *sector_s = NULL, *prover_s = NULL, *ticket_s = NULL;
    const char *seed_s = NULL, *input = NULL, *dir = NULL, *pcache = NULL, *gpu = NULL;
    int zero = 0, json = 0, progress = 0, cpu = 0, c;
    uint64_t threads = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': proof = optarg; break;
        case 'n': sector_s = optarg; break;
        case 'v': prover_s = optarg; break;
        case 't': ticket_s = optarg; break;
        case 's': seed_s = optarg; break;
        case 'i': input = optarg; break;
        case '0': zero = 1; break;
        case 'd': dir = optarg; break;
        case 'P': pcache = optarg; break;
        case 'C': cpu = 1; break;
        case 'G': gpu = optarg; break;
        case 'T':
            if (tool_parse_u64(cmd, "--threads", optarg, &threads))
                return 1;
            break;
        case 'g': progress = 1; break;
        case 'j': json = 1; break;
        default:
            return tool_fail(cmd, "unknown option (see sealproof seal --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    int id;
    uint64_t sector_id;
    uint8_t prover[32], ticket[32], seed[32];
    if (tool_parse_seal_proof(cmd, proof, &id))
        return 1;
    if (!sector_s)
        return tool_fail(cmd, "--sector-id is required");
    if (tool_parse_u64(cmd, "--sector-id", sector_s, &sector_id) ||
        parse_prover_id(cmd, prover_s, prover) || tool_parse_hex32(cmd, "--ticket", ticket_s, ticket) ||
        tool_parse_hex32(cmd, "--seed", seed_s, seed))
        return 1;
    if (!!input == !!zero)
        return tool_fail(cmd, "give exactly one of --input FILE or --zero");
    if (!dir)
        return tool_fail(cmd, "--dir DIR is required (staged, cache/ and sealed go there)");
    if (gpu && cpu)
        return tool_fail(cmd, "give --gpu DEV or --cpu, not both");
    char cache[4096], staged[4096], sealed[4096];
    sp_err se;
    if (sp_path_join(cache, sizeof cache, dir, "cache") ||
        sp_path_join(staged, sizeof staged, dir, "staged") ||
        sp_path_join(sealed, sizeof sealed, dir, "sealed"))
        return tool_fail(cmd, "--dir %s: path too long", dir);
    if (sp_mkdir_p(cache, 0755, &se))
        return tool_fail(cmd, "--dir %s: %s", dir, se.msg);
    catch_signals();

    uint8_t comm_p[32];
    if (seal_add_piece(cmd, id, input, staged, comm_p))
        return 1;
    pf_error err;
    uint8_t comm_d[32];
    if (pf_tree_d_build(id, staged, cache, comm_d, &err))
        return tool_fail_pf(cmd, &err);
    pf_sdr_options so;
    memset(&so, 0, sizeof so);
    so.threads = (int)threads;
    so.cancel = &g_cancel_flag;
    if (progress)
        so.progress = pc1_progress;
    pf_pc1_output pc1;
    if (pf_pc1(id, cache, sector_id, prover, ticket, comm_d, pcache, &so, &pc1, &err))
        return tool_fail_pf(cmd, &err);
    pf_pc2_options o = { .threads = (int)threads, .cancel = &g_cancel_flag };
    if (open_backend(cmd, gpu, cpu, &o.hasher))
        return 1;
    if (o.hasher)
        o.chunk_nodes = GPU_CHUNK_NODES;
    pf_pc2_output out;
    pf_status st = pf_pc2(&pc1, cache, staged, sealed, &o, &out, &err);
    if (o.hasher)
        o.hasher->destroy(o.hasher);
    if (st)
        return tool_fail_pf(cmd, &err);
    cJSON *r = cJSON_CreateObject();
    tool_add_hex32(r, "comm_d", pc1.comm_d);
    tool_add_hex32(r, "replica_id", pc1.replica_id);
    tool_add_hex32(r, "comm_c", out.comm_c);
    tool_add_hex32(r, "comm_r_last", out.comm_r_last);
    tool_add_hex32(r, "comm_r", out.comm_r);
    /* C1 and the native C2 (cmd_commit.c): the commit proof goes to DIR/proof; the output
     * names it relative to DIR so that sealing the same sector elsewhere prints the same */
    char proof_file[4096];
    if (sp_path_join(proof_file, sizeof proof_file, dir, "proof") ||
        sealproof_commit_sector(cmd, id, cache, sealed, sector_id, prover, ticket, seed,
                                pc1.comm_d, out.comm_r, proof_file, r)) {
        cJSON_Delete(r);
        return 1;
    }
    cJSON_ReplaceItemInObject(r, "proof_file", cJSON_CreateString("proof"));
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
        if (g_cancel_flag) {
            fclose(f);
            return tool_fail(cmd, "interrupted");
        }
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

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double round3(double v)
{
    return (double)(int64_t)(v * 1000 + 0.5) / 1000;
}

static int bench_rates(const char *cmd, int arity, int columns, int threads, uint64_t count,
                       double *per_core, double *total)
{
    pf_error err;
    double sn, best = 0;
    /* per core: best of three on CPU time, so a shared machine skews it least; all threads:
     * wall time */
    for (int i = 0; i < 3; i++) {
        double s1, c1;
        if (pf_bench_poseidon(arity, columns, count, 1, &s1, &c1, &err))
            return tool_fail_pf(cmd, &err);
        double rate = (double)count / (c1 > 0 ? c1 : s1);
        if (rate > best)
            best = rate;
    }
    if (pf_bench_poseidon(arity, columns, count * (uint64_t)threads, threads, &sn, NULL, &err))
        return tool_fail_pf(cmd, &err);
    *per_core = best;
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
    if (bench_rates(cmd, info->layers, 1, t, 4096, &col_core, &col_all) ||
        bench_rates(cmd, 8, 0, t, 4096, &tree_core, &tree_all))
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
        catch_signals();   /* Ctrl-C still removes the work directory */
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
            pf_pc2_options o = { .threads = t, .cancel = &g_cancel_flag };
            pf_pc2_output out;
            pf_error err;
            double t0 = now_s(), c0 = cpu_s();
            if (pf_pc2(&pc1, base, staged, sealed, &o, &out, &err)) {
                rc = tool_fail_pf(cmd, &err);
            } else {
                double secs = now_s() - t0;
                cJSON *p = cJSON_AddObjectToObject(r, "pc2");
                cJSON_AddNumberToObject(p, "seconds", round3(secs));
                cJSON_AddNumberToObject(p, "cpu_seconds", round3(cpu_s() - c0));
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
      "usage: sealproof pc2 (--proof P | --pc1-output HEX | --pc1-out FILE) --cache DIR\n"
      "                     --staged FILE --sealed FILE [--cpu | --gpu DEV] [--threads N]\n"
      "                     [--progress] [--json]\n"
      "  Reads the PC1 layers (DIR/sc-02-data-layer-N.dat) and the staged fr32-padded data\n"
      "  (zeros past its end), writes the replica to --sealed and sc-02-data-tree-c*.dat,\n"
      "  sc-02-data-tree-r-last*.dat and p_aux into DIR, and prints\n"
      "  {\"comm_c\",\"comm_r_last\",\"comm_r\",\"seconds\"}.  An interrupted run can simply be\n"
      "  run again (Ctrl-C stops it cleanly).  --proof is a registered seal proof id or name\n"
      "  (StackedDrg2KiBV1_1); or give the pc1_output that `sealproof pc1` prints, as hex or in\n"
      "  a file (raw or hex).  --threads (CPU path) defaults to all online CPUs.  --gpu DEV\n"
      "  hashes on an OpenCL device (index or part of its name; `sealproof devices`); the\n"
      "  files are identical on every path.\n" },
    { "seal", cmd_seal, "AddPiece, TreeD, PC1 and PC2 of one sector in one directory",
      "usage: sealproof seal --proof P --sector-id N --prover-id HEX|f0ID --ticket HEX\n"
      "                      --seed HEX (--input FILE | --zero) --dir DIR [--cpu | --gpu DEV]\n"
      "                      [--threads N] [--parent-cache DIR] [--progress] [--json]\n"
      "  Writes DIR/staged (the input as one piece, zero-filled; empty with --zero), builds\n"
      "  tree_d and the SDR layers in DIR/cache, then PC2 (trees, p_aux, DIR/sealed), then C1\n"
      "  with --seed and the native C2 (not a SNARK) into DIR/proof, verified, and prints\n"
      "  {\"comm_d\",\"replica_id\",\"comm_c\",\"comm_r_last\",\"comm_r\",\"challenges\",\n"
      "  \"proof_file\" (relative to DIR),\"proof_bytes\"}.  The parent cache is in\n"
      "  --parent-cache, else $FIL_PROOFS_PARENT_CACHE, else /var/tmp/filecoin-parents\n"
      "  (generated when missing).\n"
      "example: sealproof seal --proof StackedDrg2KiBV1_1 --sector-id 1 --prover-id f01000 \\\n"
      "           --ticket $(printf '%064d' 0) --seed $(printf '%064d' 0) --zero --dir /tmp/s1\n" },
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
