/* cmd_commit.c — sealproof commands after PreCommit: c1, c2, verify, synth-proofs,
 * post-challenges, winning-post, window-post, verify-post, unseal, clear-cache; and
 * sealproof_commit_sector, which `sealproof seal` calls to go on through C1 and C2.
 * The native C2 and PoSt proofs are not SNARKs (sealproofs/commit.h); --backend filcrypto
 * uses libfilcrypto (sealproofs/filcrypto.h) for C2, verify and the PoSt SNARKs. */
#include "tool.h"
#include "cmd_commit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_codec.h"
#include "sp_fs.h"

/* Largest file a command reads whole (a 32GiB C1 output is ~ 14 MiB). */
#define MAX_INPUT (1ULL << 30)

/* f0NNN / t0NNN (a miner's actor id, Lotus' prover id) or 32 bytes of hex. */
static int parse_prover(const char *cmd, const char *s, uint8_t out[32])
{
    if (s && (s[0] == 'f' || s[0] == 't') && s[1] == '0' && strlen(s) < 24) {
        uint64_t actor;
        if (tool_parse_u64(cmd, "--prover-id actor", s + 2, &actor))
            return 1;
        pf_prover_id_from_actor(actor, out);
        return 0;
    }
    return tool_parse_hex32(cmd, "--prover-id", s, out);
}

static int read_all(const char *cmd, const char *what, const char *path, uint8_t **buf,
                    size_t *len)
{
    sp_err e;
    char *b;
    if (!path)
        return tool_fail(cmd, "%s FILE is required", what);
    if (sp_read_file(path, MAX_INPUT, &b, len, &e))
        return tool_fail(cmd, "%s %s: %s", what, path, e.msg);
    *buf = (uint8_t *)b;
    return 0;
}

static int write_all(const char *cmd, const char *path, const uint8_t *buf, size_t len)
{
    sp_err e;
    if (!path)
        return tool_fail(cmd, "--out FILE is required");
    if (sp_write_file_atomic(path, buf, len, 0644, &e))
        return tool_fail(cmd, "--out %s: %s", path, e.msg);
    return 0;
}

static cJSON *u64_array(const uint64_t *v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
    return a;
}

/* The public inputs every seal command takes. */
typedef struct seal_args {
    const char *proof, *sector, *prover, *ticket, *seed, *comm_d, *comm_r;
    int id;
    uint64_t sector_id;
    uint8_t prover_id[32], ticket_v[32], seed_v[32], comm_d_v[32], comm_r_v[32];
} seal_args;

/* Parses what is set; `need` lists the required ones as letters: p s v t e d r. */
static int parse_seal_args(const char *cmd, seal_args *a, const char *need)
{
    struct {
        char key;
        const char *val, *opt;
    } req[] = { { 'p', a->proof, "--proof" },     { 's', a->sector, "--sector-id" },
                { 'v', a->prover, "--prover-id" }, { 't', a->ticket, "--ticket" },
                { 'e', a->seed, "--seed" },       { 'd', a->comm_d, "--comm-d" },
                { 'r', a->comm_r, "--comm-r" } };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if (strchr(need, req[i].key) && !req[i].val)
            return tool_fail(cmd, "%s is required (see sealproof %s --help)", req[i].opt, cmd);
    if (a->proof && tool_parse_seal_proof(cmd, a->proof, &a->id))
        return 1;
    if (a->sector && tool_parse_u64(cmd, "--sector-id", a->sector, &a->sector_id))
        return 1;
    if (a->prover && parse_prover(cmd, a->prover, a->prover_id))
        return 1;
    if ((a->ticket && tool_parse_hex32(cmd, "--ticket", a->ticket, a->ticket_v)) ||
        (a->seed && tool_parse_hex32(cmd, "--seed", a->seed, a->seed_v)) ||
        (a->comm_d && tool_parse_hex32(cmd, "--comm-d", a->comm_d, a->comm_d_v)) ||
        (a->comm_r && tool_parse_hex32(cmd, "--comm-r", a->comm_r, a->comm_r_v)))
        return 1;
    return 0;
}

#define SEAL_OPTS                                                                              \
    { "proof", required_argument, NULL, 'p' }, { "sector-id", required_argument, NULL, 'n' },   \
        { "prover-id", required_argument, NULL, 'v' },                                         \
        { "ticket", required_argument, NULL, 't' }, { "seed", required_argument, NULL, 'e' },   \
        { "comm-d", required_argument, NULL, 'd' }, { "comm-r", required_argument, NULL, 'r' }

/* Handles the SEAL_OPTS letters; 1 when c was one of them. */
static int seal_opt(seal_args *a, int c)
{
    switch (c) {
    case 'p': a->proof = optarg; return 1;
    case 'n': a->sector = optarg; return 1;
    case 'v': a->prover = optarg; return 1;
    case 't': a->ticket = optarg; return 1;
    case 'e': a->seed = optarg; return 1;
    case 'd': a->comm_d = optarg; return 1;
    case 'r': a->comm_r = optarg; return 1;
    default: return 0;
    }
}

static cJSON *challenges_json(const pf_c1_output *o)
{
    cJSON *a = cJSON_CreateArray();
    size_t n = (size_t)o->partitions * o->challenges_per_partition;
    for (size_t i = 0; i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateNumber(o->proofs[i].replica_column_proofs.c_x.index));
    return a;
}

/* ---- backend selection for c2 / verify ---- */

static int open_filcrypto(const char *cmd, const char *backend, const char *lib, pf_stage stage,
                          pf_filcrypto **fc)
{
    *fc = NULL;
    if (!backend || !strcmp(backend, "native"))
        return 0;
    if (strcmp(backend, "filcrypto"))
        return tool_fail(cmd, "--backend %s: use native or filcrypto", backend);
    pf_error err;
    if (pf_filcrypto_open(lib, 1u << stage, fc, &err))
        return tool_fail_pf(cmd, &err);
    return 0;
}

/* ---- seal: C1 + C2 after PC2 ---- */

int sealproof_commit_sector(const char *cmd, int proof_id, const char *cache, const char *sealed,
                            uint64_t sector_id, const uint8_t prover_id[32],
                            const uint8_t ticket[32], const uint8_t seed[32],
                            const uint8_t comm_d[32], const uint8_t comm_r[32],
                            const char *proof_file, cJSON *out)
{
    pf_c1_output o;
    pf_error err;
    uint8_t *proof = NULL;
    size_t len;
    if (pf_c1(proof_id, cache, sealed, sector_id, prover_id, ticket, seed, comm_d, comm_r, NULL, 0,
              &o, &err))
        return tool_fail_pf(cmd, &err);
    int rc = 1;
    if (pf_c2_from_output(&o, &proof, &len, &err)) {
        tool_fail_pf(cmd, &err);
        goto done;
    }
    if (pf_verify_seal(proof_id, comm_r, comm_d, prover_id, ticket, seed, sector_id, proof, len,
                       &err)) {
        tool_fail(cmd, "the commit proof does not verify: %s", err.msg);
        goto done;
    }
    if (write_all(cmd, proof_file, proof, len))
        goto done;
    cJSON_AddItemToObject(out, "challenges", challenges_json(&o));
    cJSON_AddStringToObject(out, "proof_file", proof_file);
    cJSON_AddNumberToObject(out, "proof_bytes", (double)len);
    rc = 0;
done:
    free(proof);
    pf_c1_output_free(&o);
    return rc;
}

/* ---- c1 ---- */

static int cmd_c1(int argc, char **argv)
{
    const char *cmd = "c1";
    static const struct option opts[] = {
        SEAL_OPTS,
        { "cache", required_argument, NULL, 'c' },
        { "sealed", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "format", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    seal_args a;
    memset(&a, 0, sizeof a);
    const char *cache = NULL, *sealed = NULL, *out = NULL, *format = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (seal_opt(&a, c))
            continue;
        switch (c) {
        case 'c': cache = optarg; break;
        case 's': sealed = optarg; break;
        case 'o': out = optarg; break;
        case 'f': format = optarg; break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof c1 --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    if (parse_seal_args(cmd, &a, "psvtedr"))
        return 1;
    int fmt = format ? pf_format_parse(format) : PF_FORMAT_NATIVE;
    if (fmt != PF_FORMAT_NATIVE && fmt != PF_FORMAT_RUST_JSON && fmt != PF_FORMAT_CURIO_BIN)
        return tool_fail(cmd, "--format %s: expected native, rust-json (filecoin-ffi's "
                         "seal_commit_phase1 output) or curio-bin", format);
    if (!cache || !sealed || !out)
        return tool_fail(cmd, "--cache DIR, --sealed FILE and --out FILE are required");
    pf_c1_output o;
    pf_error err;
    if (pf_c1(a.id, cache, sealed, a.sector_id, a.prover_id, a.ticket_v, a.seed_v, a.comm_d_v,
              a.comm_r_v, NULL, 0, &o, &err))
        return tool_fail_pf(cmd, &err);
    uint8_t *buf;
    size_t len;
    int rc = 1;
    if (pf_c1_output_write(&o, (pf_format)fmt, &buf, &len, &err)) {
        tool_fail_pf(cmd, &err);
        goto done;
    }
    rc = write_all(cmd, out, buf, len);
    free(buf);
    if (rc)
        goto done;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "challenges", challenges_json(&o));
    tool_add_hex32(r, "replica_id", o.replica_id);
    tool_add_hex32(r, "comm_c", o.comm_c);
    tool_add_hex32(r, "comm_r_last", o.comm_r_last);
    cJSON_AddStringToObject(r, "format", pf_format_name((pf_format)fmt));
    cJSON_AddStringToObject(r, "out", out);
    cJSON_AddNumberToObject(r, "bytes", (double)len);
    rc = tool_emit(r, json);
done:
    pf_c1_output_free(&o);
    return rc;
}

/* ---- c2 ---- */

static int cmd_c2(int argc, char **argv)
{
    const char *cmd = "c2";
    static const struct option opts[] = {
        { "c1", required_argument, NULL, 'i' },
        { "out", required_argument, NULL, 'o' },
        { "sector-id", required_argument, NULL, 'n' },
        { "prover-id", required_argument, NULL, 'v' },
        { "backend", required_argument, NULL, 'b' },
        { "filcrypto", required_argument, NULL, 'L' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *in = NULL, *out = NULL, *backend = NULL, *lib = NULL;
    seal_args a;
    memset(&a, 0, sizeof a);
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'n': a.sector = optarg; break;
        case 'v': a.prover = optarg; break;
        case 'b': backend = optarg; break;
        case 'L': lib = optarg; break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof c2 --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    pf_filcrypto *fc;
    if (parse_seal_args(cmd, &a, "") || open_filcrypto(cmd, backend, lib, PF_STAGE_C2, &fc))
        return 1;
    uint8_t *c1;
    size_t c1_len;
    if (read_all(cmd, "--c1", in, &c1, &c1_len)) {
        pf_filcrypto_close(fc);
        return 1;
    }
    pf_error err;
    int rc = 1;
    /* any C1 format (sealproofs/formats.h): libfilcrypto takes rust's JSON, the native C2
     * sealpipe's own; the rust forms do not carry the sector and prover */
    pf_format c1_fmt = pf_c1_format_detect(c1, c1_len);
    pf_format want = fc ? PF_FORMAT_RUST_JSON : PF_FORMAT_NATIVE;
    if (c1_fmt != want) {
        pf_c1_read_args ra = { -1, a.sector_id, a.prover ? a.prover_id : NULL };
        uint8_t *conv;
        size_t conv_len;
        if (c1_fmt != PF_FORMAT_NATIVE && (!a.sector || !a.prover)) {
            free(c1);
            pf_filcrypto_close(fc);
            return tool_fail(cmd, "--c1 %s is %s: give --sector-id and --prover-id", in,
                             pf_format_name(c1_fmt));
        }
        if (pf_c1_convert(c1, c1_len, want, &ra, &conv, &conv_len, NULL, &err)) {
            free(c1);
            pf_filcrypto_close(fc);
            return tool_fail(cmd, "--c1 %s: %s", in, err.msg);
        }
        free(c1);
        c1 = conv;
        c1_len = conv_len;
    }
    cJSON *r = cJSON_CreateObject();
    if (fc) {
        /* libfilcrypto takes rust's C1 JSON and the sector and prover explicitly */
        pf_bytes proof;
        if (!a.sector || !a.prover)
            tool_fail(cmd, "--backend filcrypto needs --sector-id and --prover-id");
        else if (pf_fc_seal_commit_phase2(fc, c1, c1_len, a.sector_id, a.prover_id, &proof, &err))
            tool_fail_pf(cmd, &err);
        else {
            rc = write_all(cmd, out, proof.data, proof.len);
            cJSON_AddNumberToObject(r, "bytes", (double)proof.len);
            pf_bytes_free(&proof);
        }
        cJSON_AddStringToObject(r, "backend", "filcrypto");
    } else {
        pf_c1_output o;
        uint8_t *proof;
        size_t len;
        if (pf_c1_output_decode(c1, c1_len, &o, &err)) {
            tool_fail(cmd, "--c1 %s: %s", in, err.msg);
        } else {
            uint64_t sector_id = a.sector ? a.sector_id : o.pub.sector_id;
            const uint8_t *prover = a.prover ? a.prover_id : o.pub.prover_id;
            pf_c1_output_free(&o);
            if (pf_c2(c1, c1_len, sector_id, prover, &proof, &len, &err)) {
                tool_fail_pf(cmd, &err);
            } else {
                rc = write_all(cmd, out, proof, len);
                cJSON_AddNumberToObject(r, "bytes", (double)len);
                free(proof);
            }
        }
        cJSON_AddStringToObject(r, "backend", "native (not a SNARK)");
    }
    free(c1);
    pf_filcrypto_close(fc);
    if (rc) {
        cJSON_Delete(r);
        return 1;
    }
    cJSON_AddStringToObject(r, "out", out);
    return tool_emit(r, json);
}

/* ---- verify ---- */

/* {"valid":true} and exit 0, or {"valid":false,"reason"} and exit 1 (printed even without
 * --json as "valid: false" lines, so scripts can read either). */
static int emit_valid(int valid, const char *reason, int json)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "valid", valid);
    if (!valid)
        cJSON_AddStringToObject(r, "reason", reason && *reason ? reason : "invalid");
    tool_emit(r, json);
    return valid ? 0 : 1;
}

static int cmd_verify(int argc, char **argv)
{
    const char *cmd = "verify";
    static const struct option opts[] = {
        SEAL_OPTS,
        { "proof-file", required_argument, NULL, 'f' },
        { "backend", required_argument, NULL, 'b' },
        { "filcrypto", required_argument, NULL, 'L' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    seal_args a;
    memset(&a, 0, sizeof a);
    const char *file = NULL, *backend = NULL, *lib = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (seal_opt(&a, c))
            continue;
        switch (c) {
        case 'f': file = optarg; break;
        case 'b': backend = optarg; break;
        case 'L': lib = optarg; break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof verify --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    pf_filcrypto *fc;
    if (parse_seal_args(cmd, &a, "psvtedr") ||
        open_filcrypto(cmd, backend, lib, PF_STAGE_VERIFY_SEAL, &fc))
        return 2;
    uint8_t *proof;
    size_t len;
    if (read_all(cmd, "--proof-file", file, &proof, &len)) {
        pf_filcrypto_close(fc);
        return 2;
    }
    pf_error err;
    pf_status st;
    int valid;
    if (fc) {
        st = pf_fc_verify_seal(fc, a.id, a.comm_r_v, a.comm_d_v, a.prover_id, a.ticket_v, a.seed_v,
                               a.sector_id, proof, len, &valid, &err);
        if (!st && !valid)
            snprintf(err.msg, sizeof err.msg, "libfilcrypto verify_seal returned false");
        if (!st)
            st = valid ? PF_OK : PF_EVERIFY;
    } else {
        st = pf_verify_seal(a.id, a.comm_r_v, a.comm_d_v, a.prover_id, a.ticket_v, a.seed_v,
                            a.sector_id, proof, len, &err);
    }
    free(proof);
    pf_filcrypto_close(fc);
    if (st != PF_OK && st != PF_EVERIFY && st != PF_EINVAL)
        return tool_fail_pf(cmd, &err) + 1;
    return emit_valid(st == PF_OK, err.msg, json);
}

/* ---- synth-proofs ---- */

static int cmd_synth_proofs(int argc, char **argv)
{
    const char *cmd = "synth-proofs";
    static const struct option opts[] = {
        SEAL_OPTS,
        { "cache", required_argument, NULL, 'c' },
        { "sealed", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    seal_args a;
    memset(&a, 0, sizeof a);
    const char *cache = NULL, *sealed = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (seal_opt(&a, c))
            continue;
        switch (c) {
        case 'c': cache = optarg; break;
        case 's': sealed = optarg; break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof synth-proofs --help)");
        }
    }
    if (parse_seal_args(cmd, &a, "psvtdr"))
        return 1;
    if (!cache || !sealed)
        return tool_fail(cmd, "--cache DIR and --sealed FILE are required");
    pf_error err;
    if (pf_synth_proofs_generate(a.id, cache, sealed, a.sector_id, a.prover_id, a.ticket_v,
                                 a.comm_d_v, a.comm_r_v, &err))
        return tool_fail_pf(cmd, &err);
    cJSON *r = cJSON_CreateObject();
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", cache, PF_SYNTH_PROOFS_FILE);
    cJSON_AddStringToObject(r, "file", path);
    cJSON_AddNumberToObject(r, "proofs", (double)pf_synth_challenge_count(pf_seal_proof(a.id)->nodes));
    return tool_emit(r, json);
}

/* ---- PoSt ---- */

/* --sector ID:COMM_R[:CACHE:SEALED] (the sealed path may itself hold ':'). */
typedef struct post_sectors {
    pf_post_replica *r;
    pf_post_public_replica *pub;
    size_t n, cap;
    int with_paths;
} post_sectors;

static int add_sector(const char *cmd, post_sectors *s, const char *spec, int need_paths)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        pf_post_replica *r = realloc(s->r, cap * sizeof *r);
        if (!r)
            return tool_fail(cmd, "out of memory");
        s->r = r;
        pf_post_public_replica *p = realloc(s->pub, cap * sizeof *p);
        if (!p)
            return tool_fail(cmd, "out of memory");
        s->pub = p;
        s->cap = cap;
    }
    char id[32], comm[80];
    const char *c1 = strchr(spec, ':');
    const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    const char *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
    size_t comm_len = c1 ? (size_t)((c2 ? c2 : c1 + strlen(c1)) - (c1 + 1)) : 0;
    if (!c1 || (size_t)(c1 - spec) >= sizeof id || comm_len >= sizeof comm || (c2 && !c3) ||
        (need_paths && !c3))
        return tool_fail(cmd, "--sector %s: expected ID:COMM_R%s", spec,
                         need_paths ? ":CACHE_DIR:SEALED_FILE" : "[:CACHE_DIR:SEALED_FILE]");
    memcpy(id, spec, (size_t)(c1 - spec));
    id[c1 - spec] = 0;
    memcpy(comm, c1 + 1, comm_len);
    comm[comm_len] = 0;
    pf_post_replica *r = &s->r[s->n];
    memset(r, 0, sizeof *r);
    if (tool_parse_u64(cmd, "--sector ID", id, &r->sector_id) ||
        tool_parse_hex32(cmd, "--sector COMM_R", comm, r->comm_r))
        return 1;
    if (c3) {
        /* the arguments outlive the command: point into them */
        char *cache = strndup(c2 + 1, (size_t)(c3 - c2 - 1));
        if (!cache)
            return tool_fail(cmd, "out of memory");
        r->cache_dir = cache;
        r->sealed_path = c3 + 1;
    }
    s->pub[s->n].sector_id = r->sector_id;
    memcpy(s->pub[s->n].comm_r, r->comm_r, 32);
    s->n++;
    return 0;
}

static void free_sectors(post_sectors *s)
{
    for (size_t i = 0; i < s->n; i++)
        free((char *)s->r[i].cache_dir);
    free(s->r);
    free(s->pub);
}

typedef struct post_args {
    const char *post_proof, *rand, *prover, *file;
    int id, json;
    uint8_t rand_v[32], prover_v[32];
    post_sectors sectors;
} post_args;

static int parse_post_args(const char *cmd, int argc, char **argv, post_args *a, int need_paths,
                           int want_file)
{
    static const struct option opts[] = {
        { "post-proof", required_argument, NULL, 'P' },
        { "randomness", required_argument, NULL, 'R' },
        { "prover-id", required_argument, NULL, 'v' },
        { "sector", required_argument, NULL, 'S' },
        { "out", required_argument, NULL, 'o' },
        { "proof-file", required_argument, NULL, 'f' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'P': a->post_proof = optarg; break;
        case 'R': a->rand = optarg; break;
        case 'v': a->prover = optarg; break;
        case 'S':
            if (add_sector(cmd, &a->sectors, optarg, need_paths))
                return 1;
            break;
        case 'o':
            if (want_file != 'o')
                return tool_fail(cmd, "--out is not an option of %s", cmd);
            a->file = optarg;
            break;
        case 'f':
            if (want_file != 'f')
                return tool_fail(cmd, "--proof-file is not an option of %s", cmd);
            a->file = optarg;
            break;
        case 'j': a->json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof %s --help)", cmd);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    if (tool_parse_post_proof(cmd, a->post_proof, &a->id) ||
        tool_parse_hex32(cmd, "--randomness", a->rand, a->rand_v) ||
        parse_prover(cmd, a->prover, a->prover_v))
        return 1;
    if (!a->sectors.n)
        return tool_fail(cmd, "give at least one --sector");
    if (!a->file)
        return tool_fail(cmd, "%s FILE is required", want_file == 'o' ? "--out" : "--proof-file");
    return 0;
}

static int generate_post_cmd(const char *cmd, int argc, char **argv, int winning)
{
    post_args a;
    memset(&a, 0, sizeof a);
    int rc = 1;
    if (parse_post_args(cmd, argc, argv, &a, 1, 'o'))
        goto done;
    const pf_post_proof_info *info = pf_post_proof(a.id);
    if (info->winning != winning) {
        tool_fail(cmd, "--post-proof %s is a %s PoSt proof", info->name,
                  info->winning ? "Winning" : "Window");
        goto done;
    }
    pf_post_result res;
    pf_error err;
    pf_status st = (winning ? pf_generate_winning_post : pf_generate_window_post)(
        a.id, a.rand_v, a.prover_v, a.sectors.r, a.sectors.n, &res, &err);
    if (st && st != PF_EVERIFY) {
        tool_fail_pf(cmd, &err);
        goto done;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *proven = cJSON_CreateArray(), *faulty = cJSON_CreateArray();
    for (size_t i = 0; i < res.nproven; i++)
        cJSON_AddItemToArray(proven, cJSON_CreateNumber((double)res.proven[i].sector_id));
    for (size_t i = 0; i < res.nfaulty; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "sector_id", (double)res.faulty[i]);
        cJSON_AddStringToObject(f, "reason", res.faulty_errors[i].msg);
        cJSON_AddItemToArray(faulty, f);
    }
    cJSON_AddItemToObject(r, "proven", proven);
    cJSON_AddItemToObject(r, "faulty", faulty);
    if (!st && write_all(cmd, a.file, res.proof, res.proof_len)) {
        cJSON_Delete(r);
        pf_post_result_free(&res);
        goto done;
    }
    if (!st) {
        cJSON_AddStringToObject(r, "proof_file", a.file);
        cJSON_AddNumberToObject(r, "bytes", (double)res.proof_len);
    }
    pf_post_result_free(&res);
    tool_emit(r, a.json);
    if (st)
        tool_fail(cmd, "%s", err.msg);
    rc = st ? 1 : 0;
done:
    free_sectors(&a.sectors);
    return rc;
}

static int cmd_winning_post(int argc, char **argv)
{
    return generate_post_cmd("winning-post", argc, argv, 1);
}

static int cmd_window_post(int argc, char **argv)
{
    return generate_post_cmd("window-post", argc, argv, 0);
}

static int cmd_verify_post(int argc, char **argv)
{
    const char *cmd = "verify-post";
    post_args a;
    memset(&a, 0, sizeof a);
    uint8_t *proof = NULL;
    size_t len;
    int rc = 2;
    if (parse_post_args(cmd, argc, argv, &a, 0, 'f') ||
        read_all(cmd, "--proof-file", a.file, &proof, &len))
        goto done;
    pf_error err;
    pf_status st = (pf_post_proof(a.id)->winning ? pf_verify_winning_post : pf_verify_window_post)(
        a.id, a.rand_v, a.prover_v, a.sectors.pub, a.sectors.n, proof, len, &err);
    if (st != PF_OK && st != PF_EVERIFY && st != PF_EINVAL)
        tool_fail_pf(cmd, &err);
    else
        rc = emit_valid(st == PF_OK, err.msg, a.json);
done:
    free(proof);
    free_sectors(&a.sectors);
    return rc;
}

static int cmd_post_challenges(int argc, char **argv)
{
    const char *cmd = "post-challenges";
    static const struct option opts[] = {
        { "post-proof", required_argument, NULL, 'P' },
        { "randomness", required_argument, NULL, 'R' },
        { "prover-id", required_argument, NULL, 'v' },
        { "sector-id", required_argument, NULL, 'n' },
        { "sector-index", required_argument, NULL, 'i' },
        { "count", required_argument, NULL, 'k' },
        { "sector-set-len", required_argument, NULL, 'l' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *post = NULL, *rand_s = NULL, *prover_s = NULL, *sector_s = NULL;
    uint64_t index = 0, count = 0, set_len = 0;
    int json = 0, c, have_count = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'P': post = optarg; break;
        case 'R': rand_s = optarg; break;
        case 'v': prover_s = optarg; break;
        case 'n': sector_s = optarg; break;
        case 'i':
            if (tool_parse_u64(cmd, "--sector-index", optarg, &index))
                return 1;
            break;
        case 'k':
            if (tool_parse_u64(cmd, "--count", optarg, &count))
                return 1;
            have_count = 1;
            break;
        case 'l':
            if (tool_parse_u64(cmd, "--sector-set-len", optarg, &set_len))
                return 1;
            break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof post-challenges --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    int id;
    uint64_t sector_id;
    uint8_t rand[32], prover[32];
    if (tool_parse_post_proof(cmd, post, &id) || tool_parse_hex32(cmd, "--randomness", rand_s, rand) ||
        parse_prover(cmd, prover_s, prover))
        return 1;
    if (!sector_s)
        return tool_fail(cmd, "--sector-id is required");
    if (tool_parse_u64(cmd, "--sector-id", sector_s, &sector_id))
        return 1;
    const pf_post_proof_info *info = pf_post_proof(id);
    if (!have_count)
        count = (uint64_t)info->challenge_count;
    if (count > (uint64_t)info->challenge_count)
        return tool_fail(cmd, "--count %llu: %s has %d challenges per sector",
                         (unsigned long long)count, info->name, info->challenge_count);
    uint64_t ch[66], sel[8];
    pf_error err;
    if (pf_post_sector_challenges(id, rand, index, sector_id, ch, &err))
        return tool_fail_pf(cmd, &err);
    if (set_len) {
        if (!info->winning)
            return tool_fail(cmd, "--sector-set-len is for Winning PoSt");
        if (pf_winning_post_sector_challenge(id, rand, set_len, prover, sel, &err))
            return tool_fail_pf(cmd, &err);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "challenges", u64_array(ch, (size_t)count));
    if (set_len)
        cJSON_AddItemToObject(r, "sector_indexes", u64_array(sel, (size_t)info->sector_count));
    return tool_emit(r, json);
}

/* ---- unseal, clear-cache ---- */

static int cmd_unseal(int argc, char **argv)
{
    const char *cmd = "unseal";
    static const struct option opts[] = {
        SEAL_OPTS,
        { "cache", required_argument, NULL, 'c' },
        { "sealed", required_argument, NULL, 's' },
        { "offset", required_argument, NULL, 'O' },
        { "length", required_argument, NULL, 'L' },
        { "out", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    seal_args a;
    memset(&a, 0, sizeof a);
    const char *cache = NULL, *sealed = NULL, *out = NULL, *off_s = NULL, *len_s = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (seal_opt(&a, c))
            continue;
        switch (c) {
        case 'c': cache = optarg; break;
        case 's': sealed = optarg; break;
        case 'O': off_s = optarg; break;
        case 'L': len_s = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof unseal --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    uint64_t offset = 0, length = 0;
    if (parse_seal_args(cmd, &a, "psvtd"))
        return 1;
    if (!cache || !sealed || !out)
        return tool_fail(cmd, "--cache DIR, --sealed FILE and --out FILE are required");
    if (off_s && tool_parse_u64(cmd, "--offset", off_s, &offset))
        return 1;
    if (len_s) {
        if (tool_parse_u64(cmd, "--length", len_s, &length))
            return 1;
    } else {
        uint64_t max = pf_max_user_bytes(pf_seal_proof(a.id)->sector_size);
        length = offset < max ? max - offset : 0;
    }
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return tool_fail(cmd, "--out %s: %s", out, strerror(errno));
    pf_error err;
    pf_status st = pf_unseal_range(a.id, cache, sealed, fd, a.sector_id, a.prover_id, a.ticket_v,
                                   a.comm_d_v, offset, length, &err);
    if (close(fd) && !st)
        return tool_fail(cmd, "--out %s: %s", out, strerror(errno));
    if (st) {
        unlink(out);
        return tool_fail_pf(cmd, &err);
    }
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "out", out);
    cJSON_AddNumberToObject(r, "offset", (double)offset);
    cJSON_AddNumberToObject(r, "length", (double)length);
    return tool_emit(r, json);
}

static int cmd_clear_cache(int argc, char **argv)
{
    const char *cmd = "clear-cache";
    static const struct option opts[] = {
        { "cache", required_argument, NULL, 'c' },
        { "synthetic", no_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *cache = NULL;
    int json = 0, synth = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cache = optarg; break;
        case 's': synth = 1; break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof clear-cache --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    if (!cache)
        return tool_fail(cmd, "--cache DIR is required");
    pf_error err;
    int removed;
    if (pf_clear_cache(cache, &removed, &err))
        return tool_fail_pf(cmd, &err);
    if (synth && pf_clear_synthetic_proofs(cache, &err))
        return tool_fail_pf(cmd, &err);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "removed", removed);
    return tool_emit(r, json);
}

#define SEAL_USAGE                                                                             \
    "--proof P --sector-id N --prover-id HEX|f0ID --ticket HEX"

const sp_cmd sealproof_commit_cmds[] = {
    { "c1", cmd_c1, "commit phase 1: the vanilla proofs of the porep challenges",
      "usage: sealproof c1 " SEAL_USAGE " --seed HEX\n"
      "                    --comm-d HEX --comm-r HEX --cache DIR --sealed FILE --out FILE\n"
      "                    [--format native|rust-json|curio-bin] [--json]\n"
      "  Derives the challenges (interactive from the seed, synthetic, or NI from comm_r, by\n"
      "  the proof id), proves each from the cache directory (layers, tree_d, tree_c,\n"
      "  tree_r_last, p_aux) and the sealed file, verifies them, and writes the C1 output\n"
      "  to --out: native (sealproofs/commit.h, default), rust-json (filecoin-ffi's\n"
      "  seal_commit_phase1 JSON, for libfilcrypto's C2) or curio-bin (supraseal/Curio's\n"
      "  bincode).  Prints {\"challenges\", \"replica_id\", \"comm_c\", \"comm_r_last\",\n"
      "  \"format\", \"out\", \"bytes\"}.\n"
      "example: sealproof c1 --proof 5 --sector-id 1 --prover-id f01000 --ticket $T --seed $S \\\n"
      "           --comm-d $D --comm-r $R --cache s1/cache --sealed s1/sealed --out s1/c1.bin\n" },
    { "c2", cmd_c2, "commit phase 2: the commit proof from a C1 output",
      "usage: sealproof c2 --c1 FILE --out FILE [--sector-id N --prover-id HEX|f0ID]\n"
      "                    [--backend native|filcrypto [--filcrypto LIB]] [--json]\n"
      "  native (default): verifies every vanilla proof of the C1 output and packs\n"
      "  them into a commit proof for `sealproof verify`.  It is NOT a SNARK: no chain\n"
      "  accepts it.  --sector-id/--prover-id, when given, must match the C1 output.\n"
      "  filcrypto: libfilcrypto's seal_commit_phase2 on rust's C1 JSON (Groth16, 192 bytes\n"
      "  per partition); LIB or $SEALPIPE_FILCRYPTO; --sector-id and --prover-id required.\n"
      "  The C1 output may be native, rust-json or curio-bin (detected; converted as the\n"
      "  backend needs; the rust forms need --sector-id and --prover-id).\n" },
    { "verify", cmd_verify, "verify a commit proof against the public inputs",
      "usage: sealproof verify " SEAL_USAGE " --seed HEX\n"
      "                        --comm-d HEX --comm-r HEX --proof-file F\n"
      "                        [--backend native|filcrypto [--filcrypto LIB]] [--json]\n"
      "  Exit 0 and {\"valid\":true}, or exit 1 and {\"valid\":false,\"reason\":...}; exit 2 when\n"
      "  the arguments cannot be read.  native re-derives the challenges and checks every\n"
      "  path, label and the encoding; filcrypto calls verify_seal (Groth16).\n" },
    { "synth-proofs", cmd_synth_proofs, "synthetic PoRep: prove every synthetic challenge",
      "usage: sealproof synth-proofs " SEAL_USAGE " --comm-d HEX\n"
      "                              --comm-r HEX --cache DIR --sealed FILE [--json]\n"
      "  For the synthetic proof ids (10..14): writes CACHE/syn-porep-vanilla-proofs.dat\n"
      "  (rust's layout) so that C1 works after the layers are deleted.\n" },
    { "post-challenges", cmd_post_challenges, "PoSt leaf challenges of a sector",
      "usage: sealproof post-challenges --post-proof P --randomness HEX --prover-id HEX|f0ID\n"
      "                                 --sector-id N [--sector-index I] [--count K]\n"
      "                                 [--sector-set-len S] [--json]\n"
      "  Prints {\"challenges\":[...]}: the first K (default all: 66 winning, 10 window)\n"
      "  leaf challenges of sector N at position I (default 0) of the proof; positions only\n"
      "  matter for Window PoSt V1 (PoSt API 1.0).  With --sector-set-len (Winning PoSt) also\n"
      "  \"sector_indexes\": which of S sectors is challenged.  --post-proof is the chain's\n"
      "  RegisteredPoStProof number or name (10 = StackedDrgWindow2KiBV1_1, rust's V1_2).\n"
      "  randomness and prover id must be field elements (Lotus: rand[31] &= 0x3f).\n" },
    { "winning-post", cmd_winning_post, "Winning PoSt (native: the vanilla proofs, not a SNARK)",
      "usage: sealproof winning-post --post-proof P --randomness HEX --prover-id HEX|f0ID\n"
      "                              --sector ID:COMM_R:CACHE_DIR:SEALED_FILE --out FILE [--json]\n"
      "  Proves the sector's 66 challenges from tree_r_last and p_aux.  Prints\n"
      "  {\"proven\", \"faulty\":[{\"sector_id\",\"reason\"}], \"proof_file\", \"bytes\"}; exit 1 when\n"
      "  the sector is faulty.\n" },
    { "window-post", cmd_window_post, "Window PoSt over sectors (native: vanilla proofs, not a SNARK)",
      "usage: sealproof window-post --post-proof P --randomness HEX --prover-id HEX|f0ID\n"
      "                             --sector ID:COMM_R:CACHE_DIR:SEALED_FILE [--sector ...]\n"
      "                             --out FILE [--json]\n"
      "  Missing or corrupt sectors are listed in \"faulty\" with the reason and the others\n"
      "  are proven (positions counted among the proven ones, ascending sector id).  Exit 1\n"
      "  only when no sector could be proven.\n"
      "example: sealproof window-post --post-proof 10 --randomness $R --prover-id f01000 \\\n"
      "           --sector 1:$CR1:s1/cache:s1/sealed --sector 2:$CR2:s2/cache:s2/sealed --out p\n" },
    { "verify-post", cmd_verify_post, "verify a native Winning/Window PoSt proof",
      "usage: sealproof verify-post --post-proof P --randomness HEX --prover-id HEX|f0ID\n"
      "                             --sector ID:COMM_R [--sector ...] --proof-file F [--json]\n"
      "  The sectors are the ones the proof covers (its \"proven\" list).  Exit 0 and\n"
      "  {\"valid\":true}, or exit 1 and {\"valid\":false,\"reason\"}; 2 for unreadable input.\n" },
    { "unseal", cmd_unseal, "recover unpadded bytes from a sealed sector",
      "usage: sealproof unseal " SEAL_USAGE " --comm-d HEX\n"
      "                        --cache DIR --sealed FILE [--offset O] [--length L] --out FILE\n"
      "                        [--json]\n"
      "  Regenerates the key from the public inputs and writes exactly L unpadded bytes\n"
      "  starting at unpadded offset O (default: to the end of the sector) to --out.\n" },
    { "clear-cache", cmd_clear_cache, "remove what only C1 needs from a cache directory",
      "usage: sealproof clear-cache --cache DIR [--synthetic] [--json]\n"
      "  Removes tree_d, tree_c, the layers and sealpipe's PC1/PC2 bookkeeping; keeps\n"
      "  tree_r_last, p_aux, t_aux (PoSt needs them).  --synthetic also removes\n"
      "  syn-porep-vanilla-proofs.dat.  Prints {\"removed\": N}.\n" },
    { NULL, NULL, NULL, NULL },
};
