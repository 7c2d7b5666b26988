/* format_c1.c — C1 output in rust's two forms and the conversions between them and the
 * native one:
 *  - rust-json: filecoin-proofs-api SealCommitPhase1Output {registered_proof,
 *    vanilla_proofs: VanillaSealProof::StackedDrg<size>V1([[Proof]]), comm_r, comm_d,
 *    replica_id, seed, ticket} as serde_json, what filecoin-ffi's seal_commit_phase1
 *    returns and seal_commit_phase2 consumes;
 *  - curio-bin: bincode of filecoin-proofs' SealCommitPhase1Output<Tree> (the same fields
 *    without registered_proof and without the size variant), what supraseal's C1 writes
 *    and Curio's lib/proof/porep_vproof_bin_decode.go reads.
 * One walker serves both (the `api` flag adds the two proofs-api wrappers). */
#include "format_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const size_variants[] = { "StackedDrg2KiBV1", "StackedDrg8MiBV1",
                                             "StackedDrg512MiBV1", "StackedDrg32GiBV1",
                                             "StackedDrg64GiBV1" };

/* Index of a sector size in size_variants, or -1. */
static int size_variant(uint64_t sector_size)
{
    static const uint64_t sizes[5] = { 2048ULL, 8ULL << 20, 512ULL << 20, 32ULL << 30,
                                       64ULL << 30 };
    for (int i = 0; i < 5; i++)
        if (sizes[i] == sector_size)
            return i;
    return -1;
}

const char *pf_format_name(pf_format f)
{
    static const char *const names[PF_FORMAT_COUNT] = { "native", "rust-json", "rust-bincode",
                                                        "curio-bin" };
    return (unsigned)f < PF_FORMAT_COUNT ? names[f] : "?";
}

int pf_format_parse(const char *s)
{
    for (int f = 0; s && f < PF_FORMAT_COUNT; f++)
        if (!strcmp(s, pf_format_name((pf_format)f)))
            return f;
    return -1;
}

pf_format pf_c1_format_detect(const uint8_t *buf, size_t len)
{
    if (len >= 4 && !memcmp(buf, "SPVP", 4))
        return PF_FORMAT_NATIVE;
    size_t i = 0;
    while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r'))
        i++;
    /* a curio-bin file starts with the partition count as a u64: a first byte of '{' (123
     * partitions) followed by a zero is no registered proof's, a JSON object never has one */
    if (i < len && buf[i] == '{' && !(i == 0 && len > 1 && buf[1] == 0))
        return PF_FORMAT_RUST_JSON;
    return PF_FORMAT_CURIO_BIN;
}

/* ---- encode ---- */

static pf_status c1_encode(const pf_c1_output *o, fmt_syntax syn, int api, uint8_t **buf,
                           size_t *len, pf_error *err)
{
    pf_commit_geom g;
    pf_status st = pf_commit_geom_init(&g, o->pub.proof_id, err);
    if (st)
        return st;
    if (o->partitions != g.partitions || o->challenges_per_partition != g.challenges ||
        o->layers != g.layers || !o->proofs)
        return pf_cm_fail(err, PF_EINVAL, "C1 output of %u partitions x %u challenges x %u "
                          "layers, %s has %u x %u x %u", o->partitions,
                          o->challenges_per_partition, o->layers, g.info->name, g.partitions,
                          g.challenges, g.layers);
    size_t per = syn == FMT_BIN ? fmt_porep_proof_bin_size(&g) : 4 * fmt_porep_proof_bin_size(&g);
    fmt_enc e;
    fe_init(&e, syn, per * g.partitions * g.challenges + 1024);
    fe_struct_begin(&e);
    if (api) {
        fe_field(&e, "registered_proof");
        fe_unit_variant(&e, (uint32_t)g.proof_id, g.info->name);
    }
    fe_field(&e, "vanilla_proofs");
    int sv = size_variant(g.info->sector_size);
    if (api)
        fe_variant_begin(&e, (uint32_t)sv, size_variants[sv]);
    fe_seq_begin(&e, g.partitions);
    for (uint32_t k = 0; k < g.partitions && !st; k++) {
        fe_elem(&e);
        fe_seq_begin(&e, g.challenges);
        for (uint32_t i = 0; i < g.challenges && !st; i++) {
            char what[64];
            snprintf(what, sizeof what, "vanilla_proofs[%u][%u]", k, i);
            fe_elem(&e);
            st = fe_porep_proof(&e, &g, &o->proofs[(size_t)k * g.challenges + i], what, err);
        }
        fe_seq_end(&e);
    }
    fe_seq_end(&e);
    if (api)
        fe_variant_end(&e);
    fe_field(&e, "comm_r");
    fe_domain(&e, o->pub.comm_r);
    fe_field(&e, "comm_d");
    fe_domain(&e, o->pub.comm_d);
    fe_field(&e, "replica_id");
    fe_domain(&e, o->replica_id);
    fe_field(&e, "seed");
    fe_domain(&e, o->pub.seed);
    fe_field(&e, "ticket");
    fe_domain(&e, o->pub.ticket);
    fe_struct_end(&e);
    if (st) {
        fb_free(&e.b);
        return st;
    }
    return fe_finish(&e, buf, len, err);
}

/* The rust formats take any 32 bytes as a node, the native decoder only canonical field
 * elements (found by tests/fuzz/fuzz_formats.c): refuse to write a native file that
 * nothing could read back. */
static pf_status native_encode(const pf_c1_output *o, uint8_t **buf, size_t *len, pf_error *err)
{
    pf_status st = pf_c1_output_encode(o, buf, len, err);
    if (st)
        return st;
    pf_c1_output back;
    if ((st = pf_c1_output_decode(*buf, *len, &back, err))) {
        pf_cm_prefix(err, "no native form (its decoder would refuse it)");
        free(*buf);
        *buf = NULL;
        *len = 0;
        return st;
    }
    pf_c1_output_free(&back);
    return PF_OK;
}

pf_status pf_c1_output_write(const pf_c1_output *o, pf_format f, uint8_t **buf, size_t *len,
                             pf_error *err)
{
    *buf = NULL;
    *len = 0;
    switch (f) {
    case PF_FORMAT_NATIVE:
        return native_encode(o, buf, len, err);
    case PF_FORMAT_RUST_JSON:
        return c1_encode(o, FMT_JSON, 1, buf, len, err);
    case PF_FORMAT_CURIO_BIN:
        return c1_encode(o, FMT_BIN, 0, buf, len, err);
    default:
        return pf_cm_fail(err, PF_EUNSUPPORTED, "C1 output has no %s form (use native, "
                          "rust-json or curio-bin)", pf_format_name(f));
    }
}

/* ---- decode ---- */

typedef struct c1_dec {
    int api;
    int proof_id;                 /* registered_proof, or given (curio-bin) */
    int size_index;               /* from the VanillaSealProof variant, or of proof_id */
    pf_commit_geom g;             /* geometry used for the proofs (any proof of the size) */
    uint32_t partitions, challenges;
    pf_porep_vanilla_proof *proofs;
    size_t cap;
    uint8_t comm_r[32], comm_d[32], replica_id[32], seed[32], ticket[32];
} c1_dec;

/* Makes room for partition k of c->challenges proofs. */
static int grow(fmt_dec *d, c1_dec *c, uint32_t k)
{
    size_t need = ((size_t)k + 1) * c->challenges;
    if (need <= c->cap)
        return 0;
    pf_porep_vanilla_proof *p = realloc(c->proofs, need * sizeof *p);
    if (!p) {
        fd_fail(d, "out of memory for %zu vanilla proofs", need);
        if (d->err)
            d->err->status = PF_ENOMEM;
        return -1;
    }
    c->proofs = p;
    c->cap = need;
    return 0;
}

static uint32_t max_partitions(void)
{
    uint32_t m = 0;
    for (int id = 0; pf_seal_proof(id); id++)
        if ((uint32_t)pf_seal_proof(id)->partitions > m)
            m = (uint32_t)pf_seal_proof(id)->partitions;
    return m;
}

static uint32_t max_challenges(void)
{
    uint32_t m = 0;
    for (int id = 0; pf_seal_proof(id); id++)
        if ((uint32_t)pf_seal_proof(id)->challenges_per_partition > m)
            m = (uint32_t)pf_seal_proof(id)->challenges_per_partition;
    return m;
}

/* [[Proof]]: every partition must hold the same number of proofs. */
static int fd_partitions(fmt_dec *d, c1_dec *c)
{
    size_t proof_min = fmt_porep_proof_bin_size(&c->g);
    if (fd_seq_begin(d, max_partitions(), 8 + proof_min))
        return -1;
    uint32_t k = 0;
    int more;
    while ((more = fd_seq_next(d)) > 0) {
        size_t mark = fd_push_index(d, k);
        if (fd_seq_begin(d, max_challenges(), proof_min))
            return -1;
        uint32_t i = 0;
        int inner;
        while ((inner = fd_seq_next(d)) > 0) {
            if (k == 0 && i == c->challenges)
                c->challenges++;
            if (i >= c->challenges)
                return fd_fail(d, "more proofs than the %u of partition 0", c->challenges);
            if (grow(d, c, k))
                return -1;
            size_t m2 = fd_push_index(d, i);
            if (fd_porep_proof(d, &c->g, &c->proofs[(size_t)k * c->challenges + i]))
                return -1;
            fd_pop(d, m2);
            i++;
        }
        if (inner < 0)
            return -1;
        if (i == 0 || i != c->challenges)
            return fd_fail(d, "%u proofs, partition 0 has %u", i, c->challenges);
        fd_pop(d, mark);
        k++;
    }
    if (more < 0)
        return -1;
    if (k == 0)
        return fd_fail(d, "no partitions");
    c->partitions = k;
    return 0;
}

static int set_geometry(fmt_dec *d, c1_dec *c, int proof_id)
{
    pf_error e;
    if (pf_commit_geom_init(&c->g, proof_id, &e))
        return fd_fail(d, "%s", e.msg);
    return 0;
}

static const char *const api_fields[] = { "registered_proof", "vanilla_proofs", "comm_r",
                                          "comm_d", "replica_id", "seed", "ticket" };

static int fd_vanilla_proofs(fmt_dec *d, c1_dec *c)
{
    if (!c->api)
        return fd_partitions(d, c);
    int sv = fd_variant_begin(d, size_variants, 5);
    if (sv < 0)
        return -1;
    c->size_index = sv;
    static const uint64_t sizes[5] = { 2048ULL, 8ULL << 20, 512ULL << 20, 32ULL << 30,
                                       64ULL << 30 };
    /* every proof of a size has the same trees and layers: read with the V1_1 one's */
    if (set_geometry(d, c, pf_seal_proof_for_size(sizes[sv])) || fd_partitions(d, c))
        return -1;
    return fd_variant_end(d);
}

static int fd_c1(fmt_dec *d, c1_dec *c)
{
    const char *const *names = c->api ? api_fields : api_fields + 1;
    int n = c->api ? 7 : 6, f;
    if (fd_struct_begin(d, n))
        return -1;
    while ((f = fd_field(d, names, n)) >= 0) {
        const char *name = names[f];
        size_t mark = fd_push(d, name);
        int rc = 0;
        if (!strcmp(name, "registered_proof")) {
            const char *proof_names[20];
            int np = 0;
            for (; np < 20 && pf_seal_proof(np); np++)
                proof_names[np] = pf_seal_proof(np)->name;
            c->proof_id = fd_unit_variant(d, proof_names, np);
            rc = c->proof_id < 0;
        } else if (!strcmp(name, "vanilla_proofs")) {
            rc = fd_vanilla_proofs(d, c);
        } else {
            uint8_t *dst = !strcmp(name, "comm_r")       ? c->comm_r
                           : !strcmp(name, "comm_d")     ? c->comm_d
                           : !strcmp(name, "replica_id") ? c->replica_id
                           : !strcmp(name, "seed")       ? c->seed
                                                         : c->ticket;
            rc = fd_domain(d, dst);
        }
        if (rc)
            return -1;
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

/* The registered proof must agree with the proofs' size and the registry's counts. */
static int check_counts(fmt_dec *d, c1_dec *c)
{
    const pf_seal_proof_info *info = pf_seal_proof(c->proof_id);
    if (c->api && size_variant(info->sector_size) != c->size_index)
        return fd_fail(d, "registered_proof %s, but vanilla_proofs are %s", info->name,
                       size_variants[c->size_index]);
    if (c->partitions != (uint32_t)info->partitions ||
        c->challenges != (uint32_t)info->challenges_per_partition)
        return fd_fail(d, "%u partitions x %u proofs, %s has %d x %d", c->partitions,
                       c->challenges, info->name, info->partitions,
                       info->challenges_per_partition);
    return 0;
}

/* curio-bin names no proof: the tree_d path of the first proof gives the sector size
 * (outer length, inner length, variant, root, leaf, then the path length). */
static int curio_proof_id(const uint8_t *buf, size_t len, pf_error *err)
{
    if (len < 92) {
        pf_cm_fail(err, PF_EINVAL, "C1 curio-bin: %zu bytes cannot hold a vanilla proof "
                   "(truncated)", len);
        return -1;
    }
    uint64_t levels = pf_get_le64(buf + 84);
    int id = levels >= 6 && levels < 40 ? pf_seal_proof_for_size((1ull << levels) * 32) : -1;
    if (id < 0)
        pf_cm_fail(err, PF_EINVAL, "C1 curio-bin: the first tree_d path has %llu levels, no "
                   "registered sector size has that; give the seal proof explicitly",
                   (unsigned long long)levels);
    return id;
}

static pf_status c1_decode(const uint8_t *buf, size_t len, pf_format f,
                           const pf_c1_read_args *args, pf_c1_output *out, pf_error *err)
{
    c1_dec c;
    memset(&c, 0, sizeof c);
    c.api = f == PF_FORMAT_RUST_JSON;
    c.proof_id = -1;
    fmt_dec d;
    if (!c.api) {
        c.proof_id = args && args->proof_id >= 0 ? args->proof_id : curio_proof_id(buf, len, err);
        if (c.proof_id < 0)
            return err ? err->status : PF_EINVAL;
        if (!pf_seal_proof(c.proof_id))
            return pf_cm_fail(err, PF_EINVAL, "seal proof id %d is not registered (0..19)",
                              c.proof_id);
    }
    fd_init(&d, c.api ? FMT_JSON : FMT_BIN, buf, len, c.api ? "C1 rust-json" : "C1 curio-bin",
            err);
    if (!c.api)
        set_geometry(&d, &c, c.proof_id);
    fd_c1(&d, &c);
    if (fd_status(&d) == PF_OK)
        check_counts(&d, &c);
    pf_status st = fd_finish(&d);
    if (st) {
        free(c.proofs);
        return st;
    }
    memset(out, 0, sizeof *out);
    out->pub.proof_id = c.proof_id;
    out->pub.sector_id = args ? args->sector_id : 0;
    if (args && args->prover_id)
        memcpy(out->pub.prover_id, args->prover_id, 32);
    memcpy(out->pub.ticket, c.ticket, 32);
    memcpy(out->pub.seed, c.seed, 32);
    memcpy(out->pub.comm_d, c.comm_d, 32);
    memcpy(out->pub.comm_r, c.comm_r, 32);
    memcpy(out->replica_id, c.replica_id, 32);
    /* rust takes comm_c and comm_r_last from the first proof (Proof::comm_c/comm_r_last) */
    memcpy(out->comm_c, c.proofs[0].replica_column_proofs.c_x.inclusion_proof.root, 32);
    memcpy(out->comm_r_last, c.proofs[0].comm_r_last_proof.root, 32);
    out->partitions = c.partitions;
    out->challenges_per_partition = c.challenges;
    out->layers = c.g.layers;
    out->proofs = c.proofs;
    pf_cm_ok(err);
    return PF_OK;
}

pf_status pf_c1_output_read(const uint8_t *buf, size_t len, pf_format f,
                            const pf_c1_read_args *args, pf_c1_output *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    switch (f) {
    case PF_FORMAT_NATIVE:
        return pf_c1_output_decode(buf, len, out, err);
    case PF_FORMAT_RUST_JSON:
    case PF_FORMAT_CURIO_BIN:
        return c1_decode(buf, len, f, args, out, err);
    default:
        return pf_cm_fail(err, PF_EUNSUPPORTED, "C1 output has no %s form (use native, "
                          "rust-json or curio-bin)", pf_format_name(f));
    }
}

pf_status pf_c1_convert(const uint8_t *in, size_t in_len, pf_format to,
                        const pf_c1_read_args *args, uint8_t **out, size_t *out_len,
                        pf_format *from, pf_error *err)
{
    pf_format f = pf_c1_format_detect(in, in_len);
    if (from)
        *from = f;
    *out = NULL;
    *out_len = 0;
    pf_c1_output o;
    pf_status st = pf_c1_output_read(in, in_len, f, args, &o, err);
    if (st)
        return st;
    st = pf_c1_output_write(&o, to, out, out_len, err);
    pf_c1_output_free(&o);
    if (st && to == PF_FORMAT_NATIVE)
        pf_cm_prefix(err, "this %s C1 output", pf_format_name(f));
    return st;
}
