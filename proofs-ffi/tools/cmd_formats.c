/* cmd_formats.c — sealproof commands for rust-fil-proofs' formats (sealproofs/formats.h):
 * vanilla-post verify/prove (FallbackPoStSectorProof bincode, what filecoin-ffi's
 * generate_single_vanilla_proof returns), c1-convert (native / rust-json / curio-bin),
 * t-aux write/show and cache-check (a cache directory in rust's layout). */
#include "tool.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_fs.h"

/* A 32GiB NI C1 output in JSON is the largest input (~ 0.6 GiB). */
#define MAX_INPUT (2ULL << 30)

static int read_input(const char *cmd, const char *what, const char *path, uint8_t **buf,
                      size_t *len)
{
    sp_err e;
    char *b;
    if (!path)
        return tool_fail(cmd, "%s FILE is required (see sealproof %s --help)", what, cmd);
    if (sp_read_file(path, MAX_INPUT, &b, len, &e))
        return tool_fail(cmd, "%s %s: %s", what, path, e.msg);
    *buf = (uint8_t *)b;
    return 0;
}

static int write_output(const char *cmd, const char *path, const uint8_t *buf, size_t len)
{
    sp_err e;
    if (!path)
        return tool_fail(cmd, "--out FILE is required (see sealproof %s --help)", cmd);
    if (sp_write_file_atomic(path, buf, len, 0644, &e))
        return tool_fail(cmd, "--out %s: %s", path, e.msg);
    return 0;
}

/* f0NNN / t0NNN (Lotus' prover id of a miner actor) or 32 bytes of hex. */
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

static int parse_format(const char *cmd, const char *what, const char *s, int *out)
{
    *out = pf_format_parse(s);
    if (*out < 0)
        return tool_fail(cmd, "%s %s: expected native, rust-json, rust-bincode or curio-bin",
                         what, s ? s : "(none)");
    return 0;
}

/* {"valid":true} and exit 0, or {"valid":false,"reason"} and exit 1. */
static int emit_valid(int valid, const char *reason, int json)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "valid", valid);
    if (!valid)
        cJSON_AddStringToObject(r, "reason", reason && *reason ? reason : "invalid");
    tool_emit(r, json);
    return valid ? 0 : 1;
}

/* ---- vanilla-post verify / prove ---- */

typedef struct post_args {
    const char *post_proof, *randomness, *prover, *sector, *comm_r, *index, *format;
    const char *file, *cache, *sealed, *out;
    int json;
    pf_post_vanilla_public pub;
    int fmt;
} post_args;

static int parse_post_args(const char *cmd, int argc, char **argv, post_args *a, int prove)
{
    static const struct option opts[] = {
        { "post-proof", required_argument, NULL, 'P' },
        { "randomness", required_argument, NULL, 'R' },
        { "prover-id", required_argument, NULL, 'v' },
        { "sector-id", required_argument, NULL, 'n' },
        { "comm-r", required_argument, NULL, 'r' },
        { "sector-index", required_argument, NULL, 'i' },
        { "format", required_argument, NULL, 'F' },
        { "file", required_argument, NULL, 'f' },
        { "cache", required_argument, NULL, 'c' },
        { "sealed", required_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    memset(a, 0, sizeof *a);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'P': a->post_proof = optarg; break;
        case 'R': a->randomness = optarg; break;
        case 'v': a->prover = optarg; break;
        case 'n': a->sector = optarg; break;
        case 'r': a->comm_r = optarg; break;
        case 'i': a->index = optarg; break;
        case 'F': a->format = optarg; break;
        case 'f': a->file = optarg; break;
        case 'c': a->cache = optarg; break;
        case 's': a->sealed = optarg; break;
        case 'o': a->out = optarg; break;
        case 'j': a->json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof %s --help)", cmd);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    if (!a->post_proof || !a->randomness || !a->prover || !a->sector || !a->comm_r)
        return tool_fail(cmd, "--post-proof, --randomness, --prover-id, --sector-id and --comm-r "
                         "are required (see sealproof %s --help)", cmd);
    if (prove ? (!a->cache || !a->sealed || !a->out) : !a->file)
        return tool_fail(cmd, prove ? "--cache DIR, --sealed FILE and --out FILE are required"
                                    : "--file FILE is required");
    a->fmt = PF_FORMAT_RUST_BINCODE;
    if (tool_parse_post_proof(cmd, a->post_proof, &a->pub.post_proof_id) ||
        tool_parse_hex32(cmd, "--randomness", a->randomness, a->pub.randomness) ||
        parse_prover(cmd, a->prover, a->pub.prover_id) ||
        tool_parse_u64(cmd, "--sector-id", a->sector, &a->pub.sector_id) ||
        tool_parse_hex32(cmd, "--comm-r", a->comm_r, a->pub.comm_r) ||
        (a->index && tool_parse_u64(cmd, "--sector-index", a->index, &a->pub.sector_index)) ||
        (a->format && parse_format(cmd, "--format", a->format, &a->fmt)))
        return 1;
    if (a->fmt != PF_FORMAT_RUST_BINCODE && a->fmt != PF_FORMAT_RUST_JSON)
        return tool_fail(cmd, "--format %s: a vanilla PoSt proof is rust-bincode or rust-json",
                         a->format);
    return 0;
}

static int cmd_vanilla_verify(int argc, char **argv)
{
    const char *cmd = "vanilla-post verify";
    post_args a;
    if (parse_post_args(cmd, argc, argv, &a, 0))
        return 2;
    uint8_t *buf;
    size_t len;
    if (read_input(cmd, "--file", a.file, &buf, &len))
        return 2;
    pf_error err;
    pf_status st;
    if (a.fmt == PF_FORMAT_RUST_BINCODE) {
        st = pf_post_vanilla_verify_bytes(&a.pub, buf, len, &err);
    } else {
        /* JSON: decode, re-encode as bincode, verify that */
        pf_post_vanilla_proof p;
        uint8_t *bin = NULL;
        size_t blen = 0;
        st = pf_post_vanilla_read(a.pub.post_proof_id, buf, len, PF_FORMAT_RUST_JSON, &p, &err);
        if (!st) {
            st = pf_post_vanilla_write(a.pub.post_proof_id, &p, PF_FORMAT_RUST_BINCODE, &bin,
                                       &blen, &err);
            pf_post_vanilla_proof_free(&p);
        }
        if (!st)
            st = pf_post_vanilla_verify_bytes(&a.pub, bin, blen, &err);
        free(bin);
    }
    free(buf);
    if (st != PF_OK && st != PF_EVERIFY && st != PF_EINVAL)
        return tool_fail_pf(cmd, &err) + 1;
    return emit_valid(st == PF_OK, err.msg, a.json);
}

static int cmd_vanilla_prove(int argc, char **argv)
{
    const char *cmd = "vanilla-post prove";
    post_args a;
    if (parse_post_args(cmd, argc, argv, &a, 1))
        return 2;
    const pf_post_proof_info *info = pf_post_proof(a.pub.post_proof_id);
    uint64_t *ch = calloc((size_t)info->challenge_count, sizeof *ch);
    pf_error err;
    if (!ch)
        return tool_fail(cmd, "out of memory");
    if (pf_post_sector_challenges(a.pub.post_proof_id, a.pub.randomness, a.pub.sector_index,
                                  a.pub.sector_id, ch, &err)) {
        free(ch);
        return tool_fail_pf(cmd, &err);
    }
    uint8_t *buf;
    size_t len;
    if (pf_post_vanilla_prove_bytes(&a.pub, a.cache, a.sealed, (pf_format)a.fmt, &buf, &len,
                                    &err)) {
        free(ch);
        return tool_fail_pf(cmd, &err);
    }
    int rc = write_output(cmd, a.out, buf, len);
    free(buf);
    if (rc) {
        free(ch);
        return rc;
    }
    cJSON *r = cJSON_CreateObject();
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < info->challenge_count; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)ch[i]));
    free(ch);
    cJSON_AddItemToObject(r, "challenges", arr);
    cJSON_AddStringToObject(r, "format", pf_format_name((pf_format)a.fmt));
    cJSON_AddStringToObject(r, "out", a.out);
    cJSON_AddNumberToObject(r, "bytes", (double)len);
    return tool_emit(r, a.json);
}

/* ---- c1-convert ---- */

static int cmd_c1_convert(int argc, char **argv)
{
    const char *cmd = "c1-convert";
    static const struct option opts[] = {
        { "in", required_argument, NULL, 'i' },
        { "out", required_argument, NULL, 'o' },
        { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' },
        { "proof", required_argument, NULL, 'p' },
        { "sector-id", required_argument, NULL, 'n' },
        { "prover-id", required_argument, NULL, 'v' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    const char *in = NULL, *out = NULL, *from_s = NULL, *to_s = NULL, *proof = NULL;
    const char *sector = NULL, *prover = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'F': from_s = optarg; break;
        case 'T': to_s = optarg; break;
        case 'p': proof = optarg; break;
        case 'n': sector = optarg; break;
        case 'v': prover = optarg; break;
        case 'j': json = 1; break;
        default: return tool_fail(cmd, "unknown option (see sealproof c1-convert --help)");
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    int to, from = -1;
    pf_c1_read_args a = { -1, 0, NULL };
    uint8_t prover_id[32];
    if (!to_s || !out)
        return tool_fail(cmd, "--to FORMAT and --out FILE are required");
    if (parse_format(cmd, "--to", to_s, &to) ||
        (from_s && parse_format(cmd, "--from", from_s, &from)) ||
        (proof && tool_parse_seal_proof(cmd, proof, &a.proof_id)) ||
        (sector && tool_parse_u64(cmd, "--sector-id", sector, &a.sector_id)) ||
        (prover && parse_prover(cmd, prover, prover_id)))
        return 2;
    if (prover)
        a.prover_id = prover_id;
    uint8_t *buf;
    size_t len;
    if (read_input(cmd, "--in", in, &buf, &len))
        return 2;
    pf_format detected = pf_c1_format_detect(buf, len);
    if (from < 0)
        from = (int)detected;
    if (from != PF_FORMAT_NATIVE && to == PF_FORMAT_NATIVE && (!sector || !prover)) {
        free(buf);
        return tool_fail(cmd, "a %s C1 output does not carry the sector and prover: give "
                         "--sector-id and --prover-id for --to native",
                         pf_format_name((pf_format)from));
    }
    pf_error err;
    pf_c1_output o;
    if (pf_c1_output_read(buf, len, (pf_format)from, &a, &o, &err)) {
        free(buf);
        return tool_fail(cmd, "--in %s: %s", in, err.msg);
    }
    free(buf);
    uint8_t *enc;
    size_t enc_len;
    int rc = 1;
    if (pf_c1_output_write(&o, (pf_format)to, &enc, &enc_len, &err)) {
        tool_fail_pf(cmd, &err);
        goto done;
    }
    rc = write_output(cmd, out, enc, enc_len);
    free(enc);
    if (rc)
        goto done;
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "from", pf_format_name((pf_format)from));
    cJSON_AddStringToObject(r, "to", pf_format_name((pf_format)to));
    cJSON_AddStringToObject(r, "proof", pf_seal_proof(o.pub.proof_id)->name);
    cJSON_AddNumberToObject(r, "partitions", o.partitions);
    cJSON_AddNumberToObject(r, "challenges_per_partition", o.challenges_per_partition);
    tool_add_hex32(r, "comm_r", o.pub.comm_r);
    cJSON_AddStringToObject(r, "out", out);
    cJSON_AddNumberToObject(r, "bytes", (double)enc_len);
    rc = tool_emit(r, json);
done:
    pf_c1_output_free(&o);
    return rc;
}

/* ---- t-aux, cache-check ---- */

static cJSON *store_json(const pf_store_config *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "path", s->path ? s->path : "");
    cJSON_AddStringToObject(o, "id", s->id ? s->id : "");
    if (s->has_size)
        cJSON_AddNumberToObject(o, "size", (double)s->size);
    else
        cJSON_AddNullToObject(o, "size");
    cJSON_AddNumberToObject(o, "rows_to_discard", (double)s->rows_to_discard);
    return o;
}

static int parse_cache_args(const char *cmd, int argc, char **argv, const char **proof,
                            const char **cache, const char **comm_d, const char **comm_r,
                            int *cleared, int *json)
{
    static const struct option opts[] = {
        { "proof", required_argument, NULL, 'p' },
        { "cache", required_argument, NULL, 'c' },
        { "comm-d", required_argument, NULL, 'd' },
        { "comm-r", required_argument, NULL, 'r' },
        { "cleared", no_argument, NULL, 'C' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'p': *proof = optarg; break;
        case 'c': *cache = optarg; break;
        case 'j': *json = 1; break;
        default:
            /* --comm-d, --comm-r and --cleared belong to cache-check only */
            if (c == 'd' && comm_d)
                *comm_d = optarg;
            else if (c == 'r' && comm_r)
                *comm_r = optarg;
            else if (c == 'C' && cleared)
                *cleared = 1;
            else
                return tool_fail(cmd, "unknown option (see sealproof %s --help)", cmd);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    if (!*cache)
        return tool_fail(cmd, "--cache DIR is required");
    return 0;
}

static int cmd_t_aux_write(int argc, char **argv)
{
    const char *cmd = "t-aux write", *proof = NULL, *cache = NULL;
    int json = 0, id;
    if (parse_cache_args(cmd, argc, argv, &proof, &cache, NULL, NULL, NULL, &json))
        return 2;
    if (!proof)
        return tool_fail(cmd, "--proof is required");
    if (tool_parse_seal_proof(cmd, proof, &id))
        return 2;
    pf_error err;
    if (pf_t_aux_write(id, cache, &err))
        return tool_fail_pf(cmd, &err);
    cJSON *r = cJSON_CreateObject();
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", cache, PF_T_AUX_FILE);
    cJSON_AddStringToObject(r, "t_aux", path);
    return tool_emit(r, json);
}

static int cmd_t_aux_show(int argc, char **argv)
{
    const char *cmd = "t-aux show", *proof = NULL, *cache = NULL;
    int json = 0, id = -1;
    if (parse_cache_args(cmd, argc, argv, &proof, &cache, NULL, NULL, NULL, &json))
        return 2;
    if (proof && tool_parse_seal_proof(cmd, proof, &id))
        return 2;
    pf_t_aux t;
    pf_error err;
    if (pf_t_aux_read(cache, &t, &err))
        return tool_fail_pf(cmd, &err);
    cJSON *r = cJSON_CreateObject();
    cJSON *labels = cJSON_CreateArray();
    for (size_t i = 0; i < t.nlabels; i++)
        cJSON_AddItemToArray(labels, store_json(&t.labels[i]));
    cJSON_AddItemToObject(r, "labels", labels);
    cJSON_AddItemToObject(r, "tree_d_config", store_json(&t.tree_d));
    cJSON_AddItemToObject(r, "tree_r_last_config", store_json(&t.tree_r_last));
    cJSON_AddItemToObject(r, "tree_c_config", store_json(&t.tree_c));
    int rc = 0;
    if (id >= 0) {
        pf_status st = pf_t_aux_check(id, &t, &err);
        cJSON_AddBoolToObject(r, "matches", st == PF_OK);
        if (st) {
            cJSON_AddStringToObject(r, "reason", err.msg);
            rc = 1;
        }
    }
    pf_t_aux_free(&t);
    tool_emit(r, json);
    return rc;
}

static int cmd_cache_check(int argc, char **argv)
{
    const char *cmd = "cache-check", *proof = NULL, *cache = NULL, *cd = NULL, *cr = NULL;
    int json = 0, cleared = 0, id;
    uint8_t comm_d[32], comm_r[32];
    if (parse_cache_args(cmd, argc, argv, &proof, &cache, &cd, &cr, &cleared, &json))
        return 2;
    if (!proof)
        return tool_fail(cmd, "--proof is required");
    if (tool_parse_seal_proof(cmd, proof, &id) ||
        (cd && tool_parse_hex32(cmd, "--comm-d", cd, comm_d)) ||
        (cr && tool_parse_hex32(cmd, "--comm-r", cr, comm_r)))
        return 2;
    pf_cache_stage stage = cleared ? PF_CACHE_CLEARED : PF_CACHE_SEALED;
    pf_error err;
    pf_cache_file *files;
    size_t n;
    if (pf_cache_layout(id, stage, &files, &n, &err))
        return tool_fail_pf(cmd, &err);
    pf_status st = pf_cache_dir_check(id, cache, stage, cd ? comm_d : NULL, cr ? comm_r : NULL,
                                      &err);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(r, "ok", st == PF_OK);
    if (st)
        cJSON_AddStringToObject(r, "reason", err.msg);
    cJSON_AddStringToObject(r, "stage", cleared ? "cleared" : "sealed");
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "name", files[i].name);
        if (files[i].bytes)
            cJSON_AddNumberToObject(f, "bytes", (double)files[i].bytes);
        cJSON_AddItemToArray(arr, f);
    }
    free(files);
    cJSON_AddItemToObject(r, "files", arr);
    tool_emit(r, json);
    return st == PF_OK ? 0 : 1;
}

#define POST_USAGE                                                                             \
    "--post-proof P --randomness HEX --prover-id HEX|f0ID\n"                                   \
    "                      --sector-id N --comm-r HEX [--sector-index I]\n"                    \
    "                      [--format rust-bincode|rust-json]"

const sp_cmd sealproof_formats_cmds[] = {
    { "vanilla-post verify", cmd_vanilla_verify,
      "verify a rust vanilla PoSt proof (generate_single_vanilla_proof's bytes)",
      "usage: sealproof vanilla-post verify " POST_USAGE "\n"
      "                      --file F [--json]\n"
      "  F holds one FallbackPoStSectorProof in rust's bincode (default) or serde JSON.  The\n"
      "  sector's challenges are derived from the randomness, sector id and position (PoSt\n"
      "  API 1.0 only; default 0), every tree_r_last path checked against comm_r_last and\n"
      "  comm_r = Poseidon(comm_c, comm_r_last).  Exit 0 and {\"valid\":true}, or exit 1 and\n"
      "  {\"valid\":false,\"reason\":...}; exit 2 when the arguments cannot be read.\n"
      "  --post-proof: the chain's RegisteredPoStProof number or name (8 =\n"
      "  StackedDrgWindow32GiBV1).  prover id: not bound by Window PoSt (as in rust).\n"
      "example: sealproof vanilla-post verify --post-proof 8 --randomness 00..00 --prover-id f01000 \\\n"
      "           --sector-id 1 --comm-r $CR --file post.vproof\n" },
    { "vanilla-post prove", cmd_vanilla_prove,
      "one sector's vanilla PoSt proof in rust's bincode (generate_single_vanilla_proof)",
      "usage: sealproof vanilla-post prove " POST_USAGE "\n"
      "                      --cache DIR --sealed FILE --out F [--json]\n"
      "  Derives the sector's challenges, proves them from tree_r_last (rows rust discards\n"
      "  are rebuilt from the sealed file) and p_aux, and writes the FallbackPoStSectorProof\n"
      "  that filecoin-ffi's generate_*_post_with_vanilla take.  Prints {\"challenges\",\n"
      "  \"format\", \"out\", \"bytes\"}.\n" },
    { "c1-convert", cmd_c1_convert, "convert a C1 output between native, rust-json and curio-bin",
      "usage: sealproof c1-convert --in FILE --to native|rust-json|curio-bin --out FILE\n"
      "                            [--from FORMAT] [--proof P] [--sector-id N --prover-id HEX|f0ID]\n"
      "                            [--json]\n"
      "  rust-json: filecoin-ffi's seal_commit_phase1 output (what seal_commit_phase2 takes);\n"
      "  curio-bin: supraseal/Curio's bincode C1 file; native: sealpipe's (sealproofs/commit.h).\n"
      "  The input format is detected unless --from is given.  curio-bin names no proof type:\n"
      "  --proof (default: the V1_1 proof of the size its paths imply).  The rust formats do\n"
      "  not carry the sector and prover: --sector-id and --prover-id for --to native.\n"
      "  Prints {\"from\", \"to\", \"proof\", \"partitions\", \"challenges_per_partition\",\n"
      "  \"comm_r\", \"out\", \"bytes\"}.\n" },
    { "t-aux write", cmd_t_aux_write, "write the t_aux rust's C1 needs into a cache directory",
      "usage: sealproof t-aux write --proof P --cache DIR [--json]\n"
      "  Writes DIR/t_aux as rust-fil-proofs' PC2 does (bincode TemporaryAux: the store\n"
      "  configs of the layers, tree-d, tree-r-last (rows_to_discard) and tree-c).\n" },
    { "t-aux show", cmd_t_aux_show, "print a cache directory's t_aux",
      "usage: sealproof t-aux show --cache DIR [--proof P] [--json]\n"
      "  Decodes DIR/t_aux; with --proof also says whether it \"matches\" the layout sealpipe\n"
      "  reads (exit 1 when not, with the \"reason\").\n" },
    { "cache-check", cmd_cache_check, "check a cache directory against rust's file layout",
      "usage: sealproof cache-check --proof P --cache DIR [--cleared] [--comm-d HEX]\n"
      "                             [--comm-r HEX] [--json]\n"
      "  Checks that DIR holds the files rust-fil-proofs reads, named and sized as rust\n"
      "  writes them (layers, tree-d, tree-c, tree-r-last, p_aux, t_aux; with --cleared the\n"
      "  PoSt set left by clear_cache), that the trees' last nodes are their roots and hash\n"
      "  to p_aux (and comm_d/comm_r when given), and t_aux.  Prints {\"ok\", \"reason\",\n"
      "  \"stage\", \"files\":[{\"name\",\"bytes\"}]}; exit 1 when it does not match.\n" },
    { NULL, NULL, NULL, NULL },
};
