/* cmd_data.c — sealproof commands for data commitments: commp, commd, replica-id,
 * add-piece, tree-d, and `bench data` (CommP / tree_d throughput against this machine's
 * single-chain SHA-256 rate). */
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

#include "sp_size.h"

#define MAX_PIECES 4096

static void add_cid(cJSON *obj, const char *key, pf_comm_kind kind, const uint8_t comm[32])
{
    char cid[PF_COMMCID_STR_MAX];
    if (pf_commcid_encode(kind, comm, cid, sizeof cid, NULL) == PF_OK)
        cJSON_AddStringToObject(obj, key, cid);
}

static int unknown_option(const char *cmd, int argc, char **argv)
{
    const char *opt = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
    return tool_fail(cmd, "%s: unknown option or missing value (see sealproof %s --help)", opt, cmd);
}

/* A 32-byte commitment given as 64 hex digits or as its CID. */
static int parse_comm(const char *cmd, const char *what, const char *s, pf_comm_kind kind,
                      uint8_t out[32])
{
    /* an unsealed CID is 64 characters like the hex form, but base32 uses g-z */
    if (s && (s[0] == 'b' || s[0] == 'B') && strspn(s, "0123456789abcdefABCDEF") != strlen(s)) {
        pf_error e;
        if (pf_commcid_decode(s, kind, out, NULL, &e))
            return tool_fail(cmd, "%s: %s", what, e.msg);
        return 0;
    }
    return tool_parse_hex32(cmd, what, s, out);
}

/* --proof P or --sector-size S (the V1_1 proof of that size). */
static int resolve_proof(const char *cmd, const char *proof, const char *size, int *id)
{
    if (proof)
        return tool_parse_seal_proof(cmd, proof, id);
    if (!size)
        return tool_fail(cmd, "--proof or --sector-size is required");
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

/* A piece size given padded (power of two >= 128) or unpadded (127*2^k); returns unpadded. */
static int parse_piece_size(const char *cmd, const char *what, const char *s, int allow_unpadded,
                            uint64_t *unpadded)
{
    uint64_t v;
    if (tool_parse_size(cmd, what, s, &v))
        return 1;
    if (v >= 128 && !(v & (v - 1))) {
        *unpadded = v / 128 * 127;
        return 0;
    }
    if (allow_unpadded && pf_piece_size_valid(v)) {
        *unpadded = v;
        return 0;
    }
    return tool_fail(cmd, "%s %s: not a piece size (padded: a power of two >= 128%s)", what, s,
                     allow_unpadded ? "; unpadded: 127*2^k" : "");
}

/* ---- commp ---- */

static int cmd_commp(int argc, char **argv)
{
    const char *cmd = "commp";
    static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0, 0, 0, 0 } };
    int json = 0, c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else
            return unknown_option(cmd, argc, argv);
    }
    if (optind != argc - 1)
        return tool_fail(cmd, "expected one FILE (or - for standard input)");
    const char *path = argv[optind];
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tool_fail(cmd, "cannot open %s: %s", path, strerror(errno));
    uint8_t commp[32];
    uint64_t payload = 0, padded = 0;
    pf_error e;
    pf_status st = pf_commp_fd(fd, PF_COMMP_TO_EOF, commp, &payload, &padded, &e);
    if (fd > 0)
        close(fd);
    if (st)
        return tool_fail(cmd, "%s: %s", path, e.msg);
    cJSON *o = cJSON_CreateObject();
    add_cid(o, "commp_cid", PF_COMM_UNSEALED, commp);
    tool_add_hex32(o, "commp", commp);
    cJSON_AddNumberToObject(o, "payload_size", (double)payload);
    cJSON_AddNumberToObject(o, "padded_size", (double)padded);
    return tool_emit(o, json);
}

/* ---- commd ---- */

static int cmd_commd(int argc, char **argv)
{
    const char *cmd = "commd";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },          { "sector-size", required_argument, NULL, 's' },
        { "proof", required_argument, NULL, 'p' },   { "piece", required_argument, NULL, 'c' },
        { 0, 0, 0, 0 },
    };
    const char *proof = NULL, *size = NULL;
    int json = 0, c, id, rc = 1;
    size_t n = 0;
    pf_piece_info *pieces = calloc(MAX_PIECES, sizeof *pieces);
    if (!pieces)
        return tool_fail(cmd, "out of memory");
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'j') {
            json = 1;
        } else if (c == 's') {
            size = optarg;
        } else if (c == 'p') {
            proof = optarg;
        } else if (c == 'c') {
            char *colon = strrchr(optarg, ':');
            if (!colon) {
                tool_fail(cmd, "--piece %s: expected COMMP:PADDED_SIZE", optarg);
                goto out;
            }
            if (n == MAX_PIECES) {
                tool_fail(cmd, "more than %d pieces", MAX_PIECES);
                goto out;
            }
            *colon = 0;
            if (parse_comm(cmd, "--piece", optarg, PF_COMM_UNSEALED, pieces[n].comm_p) ||
                parse_piece_size(cmd, "--piece size", colon + 1, 0, &pieces[n].size))
                goto out;
            n++;
        } else {
            unknown_option(cmd, argc, argv);
            goto out;
        }
    }
    if (optind != argc) {
        tool_fail(cmd, "unexpected argument %s", argv[optind]);
        goto out;
    }
    if (resolve_proof(cmd, proof, size, &id))
        goto out;
    uint8_t comm_d[32];
    pf_error e;
    if (pf_comm_d(pf_seal_proof(id)->sector_size, pieces, n, comm_d, &e)) {
        tool_fail_pf(cmd, &e);
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    add_cid(o, "commd_cid", PF_COMM_UNSEALED, comm_d);
    tool_add_hex32(o, "commd", comm_d);
    rc = tool_emit(o, json);
out:
    free(pieces);
    return rc;
}

/* ---- replica-id ---- */

/* 64 hex digits, or a miner address f0<id> / t0<id>. */
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

static int cmd_replica_id(int argc, char **argv)
{
    const char *cmd = "replica-id";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },           { "proof", required_argument, NULL, 'p' },
        { "sector-size", required_argument, NULL, 's' },
        { "prover-id", required_argument, NULL, 'v' }, { "sector-id", required_argument, NULL, 'n' },
        { "ticket", required_argument, NULL, 't' },   { "comm-d", required_argument, NULL, 'd' },
        { 0, 0, 0, 0 },
    };
    const char *proof = NULL, *size = NULL, *prover = NULL, *sector = NULL, *ticket = NULL,
               *comm_d = NULL;
    int json = 0, c, id;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'p': proof = optarg; break;
        case 's': size = optarg; break;
        case 'v': prover = optarg; break;
        case 'n': sector = optarg; break;
        case 't': ticket = optarg; break;
        case 'd': comm_d = optarg; break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    uint8_t prover_id[32], tk[32], cd[32], rid[32];
    uint64_t sector_id;
    if (resolve_proof(cmd, proof, size, &id) || parse_prover(cmd, prover, prover_id) ||
        tool_parse_u64(cmd, "--sector-id", sector, &sector_id) ||
        tool_parse_hex32(cmd, "--ticket", ticket, tk) ||
        parse_comm(cmd, "--comm-d", comm_d, PF_COMM_UNSEALED, cd))
        return 1;
    pf_replica_id(prover_id, sector_id, tk, cd, pf_seal_proof(id)->porep_id, rid);
    cJSON *o = cJSON_CreateObject();
    tool_add_hex32(o, "replica_id", rid);
    return tool_emit(o, json);
}

/* ---- add-piece ---- */

static int cmd_add_piece(int argc, char **argv)
{
    const char *cmd = "add-piece";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },        { "proof", required_argument, NULL, 'p' },
        { "sector-size", required_argument, NULL, 's' },
        { "staged", required_argument, NULL, 'o' }, { "existing", required_argument, NULL, 'e' },
        { "fill", no_argument, NULL, 'f' },        { "no-align", no_argument, NULL, 'a' },
        { 0, 0, 0, 0 },
    };
    const char *proof = NULL, *size = NULL, *staged = NULL;
    int json = 0, fill = 0, no_align = 0, c, id, rc = 1, src = -1, dst = -1;
    size_t n = 0;
    uint64_t *existing = calloc(MAX_PIECES, sizeof *existing);
    if (!existing)
        return tool_fail(cmd, "out of memory");
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'p': proof = optarg; break;
        case 's': size = optarg; break;
        case 'o': staged = optarg; break;
        case 'f': fill = 1; break;
        case 'a': no_align = 1; break;
        case 'e':
            if (n == MAX_PIECES) {
                tool_fail(cmd, "more than %d existing pieces", MAX_PIECES);
                goto out;
            }
            if (parse_piece_size(cmd, "--existing", optarg, 1, &existing[n]))
                goto out;
            n++;
            break;
        default: unknown_option(cmd, argc, argv); goto out;
        }
    }
    if (optind != argc - 1) {
        tool_fail(cmd, "expected one PIECE_FILE");
        goto out;
    }
    if (resolve_proof(cmd, proof, size, &id))
        goto out;
    if (!staged) {
        tool_fail(cmd, "--staged FILE is required (the staged sector the piece is appended to)");
        goto out;
    }
    if (no_align && n) {
        tool_fail(cmd, "--no-align takes no --existing sizes");
        goto out;
    }
    const char *piece_path = argv[optind];
    struct stat sb;
    src = open(piece_path, O_RDONLY | O_CLOEXEC);
    if (src < 0 || fstat(src, &sb) < 0) {
        tool_fail(cmd, "cannot read piece %s: %s", piece_path, strerror(errno));
        goto out;
    }
    uint64_t psize = (uint64_t)sb.st_size;
    if (!fill && !pf_piece_size_valid(psize)) {
        tool_fail(cmd, "piece %s has %llu bytes, not 127*2^k (127, 254, 508, ...); use --fill to "
                  "zero-fill it to %llu bytes", piece_path, (unsigned long long)psize,
                  (unsigned long long)pf_piece_unpadded_for_payload(psize));
        goto out;
    }
    dst = open(staged, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (dst < 0) {
        tool_fail(cmd, "cannot open staged sector %s: %s", staged, strerror(errno));
        goto out;
    }
    pf_add_piece_result r;
    pf_error e;
    pf_status st = no_align ? pf_write_without_alignment(id, src, psize, dst, &r, &e)
                   : fill   ? pf_add_piece_fill(id, src, psize, dst, existing, n, &r, &e)
                            : pf_add_piece(id, src, psize, dst, existing, n, &r, &e);
    if (!st && fsync(dst) < 0) {
        e.status = st = PF_EIO;
        snprintf(e.msg, sizeof e.msg, "fsync %s: %s", staged, strerror(errno));
    }
    if (st) {
        tool_fail(cmd, "%s", e.msg);
        goto out;
    }
    cJSON *o = cJSON_CreateObject();
    add_cid(o, "commp_cid", PF_COMM_UNSEALED, r.comm_p);
    tool_add_hex32(o, "commp", r.comm_p);
    cJSON_AddNumberToObject(o, "payload_size", (double)psize);
    cJSON_AddNumberToObject(o, "piece_size", (double)r.piece_size);
    cJSON_AddNumberToObject(o, "padded_size", (double)r.padded_size);
    cJSON_AddNumberToObject(o, "left_alignment", (double)r.left_alignment);
    cJSON_AddNumberToObject(o, "total_write", (double)r.total_write);
    cJSON_AddNumberToObject(o, "offset", (double)r.offset);
    rc = tool_emit(o, json);
out:
    if (src >= 0)
        close(src);
    if (dst >= 0)
        close(dst);
    free(existing);
    return rc;
}

/* ---- tree-d ---- */

static int cmd_tree_d(int argc, char **argv)
{
    const char *cmd = "tree-d";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' },        { "proof", required_argument, NULL, 'p' },
        { "sector-size", required_argument, NULL, 's' },
        { "staged", required_argument, NULL, 'o' }, { "cache", required_argument, NULL, 'c' },
        { 0, 0, 0, 0 },
    };
    const char *proof = NULL, *size = NULL, *staged = NULL, *cache = NULL;
    int json = 0, c, id;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'p': proof = optarg; break;
        case 's': size = optarg; break;
        case 'o': staged = optarg; break;
        case 'c': cache = optarg; break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    if (optind != argc)
        return tool_fail(cmd, "unexpected argument %s", argv[optind]);
    if (resolve_proof(cmd, proof, size, &id))
        return 1;
    if (!staged || !cache)
        return tool_fail(cmd, "--staged FILE and --cache DIR are required");
    uint8_t comm_d[32];
    pf_error e;
    if (pf_tree_d_build(id, staged, cache, comm_d, &e))
        return tool_fail_pf(cmd, &e);
    cJSON *o = cJSON_CreateObject();
    tool_add_hex32(o, "comm_d", comm_d);
    add_cid(o, "comm_d_cid", PF_COMM_UNSEALED, comm_d);
    return tool_emit(o, json);
}

/* ---- bench data ---- */

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Compute rates use this process's CPU time, as `openssl speed` does, so that other load
 * on a shared machine does not distort them; file rates use wall time. */
static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* Compressions per second of one SHA-256 over a long buffer: one dependent chain of
 * 64-byte blocks, the single-core limit a sequential hash can reach. */
static double sha256_chain_rate(const uint8_t *buf, size_t len)
{
    uint8_t digest[32];
    size_t done = 0;
    double t0 = cpu_s(), t;
    do {
        pf_sha256(buf, len, digest);
        done += len / 64;
        t = cpu_s() - t0;
    } while (t < 0.5);
    return (double)done / t;
}

static int write_file_all(const char *path, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, buf + off, len - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd);
}

static int cmd_bench_data(int argc, char **argv)
{
    const char *cmd = "bench data";
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "size", required_argument, NULL, 's' },
        { "dir", required_argument, NULL, 'd' }, { 0, 0, 0, 0 },
    };
    const char *size_s = "8MiB", *dir = NULL;
    int json = 0, c, rc = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 's': size_s = optarg; break;
        case 'd': dir = optarg; break;
        default: return unknown_option(cmd, argc, argv);
        }
    }
    uint64_t sector;
    if (tool_parse_size(cmd, "--size", size_s, &sector))
        return 1;
    int id = pf_seal_proof_for_size(sector);
    if (id < 0 || sector > (1ULL << 30))
        return tool_fail(cmd, "--size %s: use a registered sector size up to 512MiB", size_s);
    uint64_t payload = pf_max_user_bytes(sector);
    uint8_t *buf = malloc(sector);
    char tmpl[4096] = "", staged[4200] = "", tree[4200] = "";
    if (!buf)
        return tool_fail(cmd, "out of memory for %llu bytes", (unsigned long long)sector);
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (uint64_t i = 0; i < sector; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
    double chain = sha256_chain_rate(buf, payload < (64u << 20) ? payload : (64u << 20));

    uint8_t commp[32];
    uint64_t padded;
    pf_error e;
    double t0 = cpu_s();
    if (pf_commp_buf(buf, payload, commp, &padded, &e)) {
        tool_fail_pf(cmd, &e);
        goto out;
    }
    double commp_s = cpu_s() - t0;

    snprintf(tmpl, sizeof tmpl, "%s/sealproof-bench.XXXXXX", dir ? dir : "/tmp");
    if (!mkdtemp(tmpl)) {
        tmpl[0] = 0;
        tool_fail(cmd, "cannot create a directory under %s: %s", dir ? dir : "/tmp",
                  strerror(errno));
        goto out;
    }
    snprintf(staged, sizeof staged, "%s/staged", tmpl);
    int in = -1;
    uint8_t comm_d[32];
    double fd_s = 0, tree_s = 0;
    if (write_file_all(staged, buf, payload) || (in = open(staged, O_RDONLY | O_CLOEXEC)) < 0) {
        tool_fail(cmd, "writing %s: %s", staged, strerror(errno));
        goto out;
    }
    t0 = now_s();
    pf_status st = pf_commp_fd(in, PF_COMMP_TO_EOF, commp, NULL, &padded, &e);
    fd_s = now_s() - t0;
    close(in);
    /* tree_d over a full staged sector (random leaves hash like real padded data) */
    if (!st && write_file_all(staged, buf, sector) == 0) {
        t0 = now_s();
        st = pf_tree_d_build(id, staged, tmpl, comm_d, &e);
        tree_s = now_s() - t0;
    }
    if (st) {
        tool_fail_pf(cmd, &e);
        goto out;
    }
    double mb = (double)payload / 1e6, node_hashes = (double)(padded / 32 - 1);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sector_size", size_s);
    __builtin_cpu_init();
    cJSON_AddBoolToObject(o, "cpu_sha_ni", __builtin_cpu_supports("sha"));
    cJSON_AddNumberToObject(o, "sha256_chain_mb_per_s", chain * 64 / 1e6);
    cJSON_AddNumberToObject(o, "sha256_chain_compressions_per_s", chain);
    cJSON_AddNumberToObject(o, "commp_mem_mb_per_s", mb / commp_s);
    cJSON_AddNumberToObject(o, "commp_file_mb_per_s", mb / fd_s);
    cJSON_AddNumberToObject(o, "tree_d_mb_per_s", (double)sector / 1e6 / tree_s);
    cJSON_AddNumberToObject(o, "node_hashes_per_s", node_hashes / commp_s);
    /* each node hash is two compressions; > 1 means more than one dependent chain's worth */
    cJSON_AddNumberToObject(o, "ratio_to_chain", 2 * node_hashes / commp_s / chain);
    rc = tool_emit(o, json);
out:
    if (staged[0])
        unlink(staged);
    if (tmpl[0]) {
        snprintf(tree, sizeof tree, "%s/%s", tmpl, PF_TREE_D_FILE);
        unlink(tree);
        rmdir(tmpl);
    }
    free(buf);
    return rc;
}

const sp_cmd sealproof_data_cmds[] = {
    { "commp", cmd_commp, "CommP of a piece file (zero-filled to the next 127*2^k)",
      "commp FILE [--json]\n"
      "  Piece commitment of FILE (- reads standard input): fr32 padding and the SHA-256 tree,\n"
      "  the data zero-filled to the next 127*2^k bytes as Lotus does.\n"
      "  Prints commp_cid (baga6ea4sea...), commp (hex), payload_size, padded_size.\n"
      "Example: sealproof commp deal.car --json" },
    { "commd", cmd_commd, "CommD of a sector from its pieces",
      "commd (--sector-size S | --proof P) [--piece COMMP:PADDED_SIZE ...] [--json]\n"
      "  Data commitment of a sector holding the pieces in order (each aligned as add_piece\n"
      "  aligns it), zero pieces filling the rest; no pieces = the empty sector.\n"
      "  COMMP is 64 hex digits or a baga... CID; PADDED_SIZE a power of two >= 128 (2KiB ok).\n"
      "Example: sealproof commd --sector-size 2KiB --piece baga6ea4sea...:1KiB --json" },
    { "replica-id", cmd_replica_id, "replica id of a sector",
      "replica-id --proof P --prover-id HEX|f0ID --sector-id N --ticket HEX --comm-d HEX|CID "
      "[--json]\n"
      "  trim(SHA256(prover_id || BE64(sector_id) || ticket || comm_d || porep_id)).\n"
      "  --prover-id takes 32 bytes of hex or a miner address such as f01000.\n"
      "Example: sealproof replica-id --proof 5 --prover-id f01000 --sector-id 1 --ticket 00..00 "
      "--comm-d baga6ea4sea..." },
    { "add-piece", cmd_add_piece, "append a piece to a staged sector (write_with_alignment)",
      "add-piece (--proof P | --sector-size S) --staged FILE [--existing SIZE ...] [--fill] "
      "[--no-align] PIECE_FILE [--json]\n"
      "  Writes the fr32-padded piece, with alignment zeros before it, at the end of the staged\n"
      "  sector file (created if missing), like filecoin-ffi write_with_alignment.\n"
      "  --existing   size of each piece already in the staged file, in order (padded power of\n"
      "               two or unpadded 127*2^k)\n"
      "  --fill       zero-fill a piece whose size is not 127*2^k (otherwise an error)\n"
      "  --no-align   write_without_alignment\n"
      "  On failure the staged file is truncated back to its previous size.\n"
      "Example: sealproof add-piece --proof 5 --staged s.dat --existing 1KiB piece.bin --json" },
    { "tree-d", cmd_tree_d, "build sc-02-data-tree-d.dat and print CommD",
      "tree-d (--proof P | --sector-size S) --staged FILE --cache DIR [--json]\n"
      "  Builds the binary SHA-256 tree over the staged sector (zero-extended to the sector size)\n"
      "  into DIR/sc-02-data-tree-d.dat exactly as rust-fil-proofs lays it out, crash-safely\n"
      "  (temporary file, fsync, rename), and prints its root comm_d.\n"
      "Example: sealproof tree-d --proof 5 --staged s.dat --cache cache/ --json" },
    { "bench data", cmd_bench_data, "CommP and tree_d throughput vs the SHA-256 limit",
      "bench data [--size 8MiB|512MiB] [--dir DIR] [--json]\n"
      "  Measures this machine's single-core SHA-256 rate (one dependent chain of 64-byte\n"
      "  blocks), CommP from memory and from a file, and tree_d, on one core.  Files go to a\n"
      "  temporary directory under DIR (default /tmp) and are removed.  The SHA-256 and\n"
      "  in-memory CommP rates use process CPU time (as openssl speed does); the file rates\n"
      "  use wall time and include the I/O (tree_d also its fsync)." },
    { NULL, NULL, NULL, NULL },
};
