/* vanilla_codec.c — the byte forms of PoRep vanilla proofs (layouts in sealproofs/commit.h):
 * challenge records (rust's synthetic-proof record layout), the C1 output file, and the
 * rebuilding of labeling/encoding proofs from the parents' columns. */
#include "commit_internal.h"

#include <stdlib.h>

static const uint8_t c1_magic[4] = { 'S', 'P', 'V', 'P' };
#define C1_HEADER_LEN (4 + 4 + 4 + 8 + 8 * 32 + 3 * 4)

void pf_porep_fill_labeling(pf_porep_vanilla_proof *p, uint32_t layers)
{
    const pf_column_proof *drg = p->replica_column_proofs.drg_parents;
    const pf_column_proof *exp = p->replica_column_proofs.exp_parents;
    uint64_t node = p->replica_column_proofs.c_x.index;
    p->layers = layers;
    for (uint32_t layer = 1; layer <= layers; layer++) {
        const uint8_t *labels[PF_DEGREE];
        int n = layer == 1 ? PF_BASE_DEGREE : PF_DEGREE;
        for (int i = 0; i < PF_BASE_DEGREE; i++)
            labels[i] = drg[i].rows[layer - 1];
        for (int i = 0; layer > 1 && i < PF_EXP_DEGREE; i++)
            labels[PF_BASE_DEGREE + i] = exp[i].rows[layer - 2];
        pf_labeling_proof *lp = &p->labeling_proofs[layer - 1];
        for (int i = 0; i < PF_LABEL_PARENTS; i++)
            memcpy(lp->parents[i], labels[i % n], 32);
        lp->layer_index = layer;
        lp->node = node;
    }
    p->encoding_proof = p->labeling_proofs[layers - 1];
}

/* ---- records ---- */

static int layout_matches(const pf_merkle_proof *want, const pf_merkle_proof *got)
{
    if (want->levels != got->levels || want->kind != got->kind)
        return 0;
    for (uint32_t l = 0; l < want->levels; l++)
        if (want->arity[l] != got->arity[l] || want->index[l] != got->index[l])
            return 0;
    return 1;
}

static pf_status check_column(const pf_commit_geom *g, const pf_column_proof *c, const char *what,
                              pf_error *err)
{
    pf_merkle_proof want;
    if (c->index >= g->nodes || c->layers != g->layers)
        return pf_cm_fail(err, PF_EINVAL, "%s: node %u / %u layers do not fit %s", what,
                          c->index, c->layers, g->info->name);
    pf_shape_path_layout(&g->shape, c->index, &want);
    if (!layout_matches(&want, &c->inclusion_proof))
        return pf_cm_fail(err, PF_EINVAL, "%s: tree_c path layout does not fit node %u", what,
                          c->index);
    return PF_OK;
}

static uint8_t *put_path(uint8_t *w, const pf_merkle_proof *p, uint32_t hashes)
{
    memcpy(w, p->leaf, 32);
    memcpy(w + 32, p->hashes, (size_t)hashes * 32);
    return w + 32 * (1 + (size_t)hashes);
}

static uint8_t *put_column(uint8_t *w, const pf_commit_geom *g, const pf_column_proof *c)
{
    memcpy(w, c->rows, (size_t)g->layers * 32);
    return put_path(w + (size_t)g->layers * 32, &c->inclusion_proof, g->r_hashes);
}

pf_status pf_record_encode(const pf_commit_geom *g, const pf_porep_vanilla_proof *p,
                           uint8_t *buf, pf_error *err)
{
    const pf_column_proof *cx = &p->replica_column_proofs.c_x;
    const pf_column_proof *drg = p->replica_column_proofs.drg_parents;
    const pf_column_proof *exp = p->replica_column_proofs.exp_parents;
    uint64_t challenge = cx->index;
    pf_merkle_proof want;
    pf_status st = check_column(g, cx, "challenge column", err);
    for (int i = 0; !st && i < PF_BASE_DEGREE; i++)
        st = check_column(g, &drg[i], "DRG parent column", err);
    for (int i = 0; !st && i < PF_EXP_DEGREE; i++)
        st = check_column(g, &exp[i], "expander parent column", err);
    if (st)
        return st;
    pf_tree_d_path_layout(g->nodes, challenge, &want);
    if (!layout_matches(&want, &p->comm_d_proofs))
        return pf_cm_fail(err, PF_EINVAL, "tree_d path does not fit challenge %llu",
                          (unsigned long long)challenge);
    pf_shape_path_layout(&g->shape, challenge, &want);
    if (!layout_matches(&want, &p->comm_r_last_proof))
        return pf_cm_fail(err, PF_EINVAL, "tree_r_last path does not fit challenge %llu",
                          (unsigned long long)challenge);

    uint8_t *w = buf;
    pf_put_le64(w, challenge);
    w += 8;
    for (int i = 0; i < PF_BASE_DEGREE; i++, w += 8)
        pf_put_le64(w, drg[i].index);
    for (int i = 0; i < PF_EXP_DEGREE; i++, w += 8)
        pf_put_le64(w, exp[i].index);
    w = put_path(w, &p->comm_d_proofs, g->d_levels);
    w = put_column(w, g, cx);
    for (int i = 0; i < PF_BASE_DEGREE; i++)
        w = put_column(w, g, &drg[i]);
    for (int i = 0; i < PF_EXP_DEGREE; i++)
        w = put_column(w, g, &exp[i]);
    w = put_path(w, &p->comm_r_last_proof, g->r_hashes);
    if ((size_t)(w - buf) != g->record_size)
        return pf_cm_fail(err, PF_EINTERNAL, "record of %zu bytes, expected %zu",
                          (size_t)(w - buf), g->record_size);
    return PF_OK;
}

/* Copies n 32-byte nodes, each required to be a canonical field element. */
static pf_status get_nodes(pf_cursor *c, uint8_t (*dst)[32], size_t n, const char *what,
                           const char *where, pf_error *err)
{
    const uint8_t *src;
    if (pf_cur_take(c, n * 32, &src))
        return pf_cm_fail(err, PF_EINVAL, "%s: truncated in %s", where, what);
    for (size_t i = 0; i < n; i++) {
        if (!pf_cm_fr_valid(src + 32 * i))
            return pf_cm_fail(err, PF_EINVAL, "%s: %s node %zu is not a canonical field element",
                              where, what, i);
        memcpy(dst[i], src + 32 * i, 32);
    }
    return PF_OK;
}

static pf_status get_path(pf_cursor *c, pf_merkle_proof *p, uint32_t hashes, const char *what,
                          const char *where, pf_error *err)
{
    pf_status st = get_nodes(c, &p->leaf, 1, what, where, err);
    return st ? st : get_nodes(c, p->hashes, hashes, what, where, err);
}

static pf_status get_column(pf_cursor *c, const pf_commit_geom *g, uint64_t node,
                            const uint8_t comm_c[32], pf_column_proof *col, const char *where,
                            pf_error *err)
{
    col->index = (uint32_t)node;
    col->layers = g->layers;
    pf_status st = get_nodes(c, col->rows, g->layers, "column", where, err);
    if (st)
        return st;
    pf_shape_path_layout(&g->shape, node, &col->inclusion_proof);
    memcpy(col->inclusion_proof.root, comm_c, 32);
    return get_path(c, &col->inclusion_proof, g->r_hashes, "tree_c path", where, err);
}

pf_status pf_record_decode(const pf_commit_geom *g, const uint8_t *buf, const uint8_t comm_d[32],
                           const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                           pf_porep_vanilla_proof *p, const char *where, pf_error *err)
{
    pf_cursor c = { buf, g->record_size };
    const uint8_t *b;
    uint64_t nodes[1 + PF_DEGREE];
    memset(p, 0, sizeof *p);
    if (pf_cur_take(&c, 8 * (1 + PF_DEGREE), &b))
        return pf_cm_fail(err, PF_EINVAL, "%s: truncated", where);
    for (int i = 0; i <= PF_DEGREE; i++) {
        nodes[i] = pf_get_le64(b + 8 * i);
        if (nodes[i] >= g->nodes)
            return pf_cm_fail(err, PF_EINVAL, "%s: %s %llu is outside the sector (%llu nodes)",
                              where, i == 0 ? "challenge" : "parent",
                              (unsigned long long)nodes[i], (unsigned long long)g->nodes);
    }
    pf_status st;
    pf_tree_d_path_layout(g->nodes, nodes[0], &p->comm_d_proofs);
    memcpy(p->comm_d_proofs.root, comm_d, 32);
    if ((st = get_path(&c, &p->comm_d_proofs, g->d_levels, "tree_d path", where, err)))
        return st;
    if ((st = get_column(&c, g, nodes[0], comm_c, &p->replica_column_proofs.c_x, where, err)))
        return st;
    for (int i = 0; i < PF_BASE_DEGREE; i++)
        if ((st = get_column(&c, g, nodes[1 + i], comm_c, &p->replica_column_proofs.drg_parents[i],
                             where, err)))
            return st;
    for (int i = 0; i < PF_EXP_DEGREE; i++)
        if ((st = get_column(&c, g, nodes[1 + PF_BASE_DEGREE + i], comm_c,
                             &p->replica_column_proofs.exp_parents[i], where, err)))
            return st;
    pf_shape_path_layout(&g->shape, nodes[0], &p->comm_r_last_proof);
    memcpy(p->comm_r_last_proof.root, comm_r_last, 32);
    if ((st = get_path(&c, &p->comm_r_last_proof, g->r_hashes, "tree_r_last path", where, err)))
        return st;
    if (c.left)
        return pf_cm_fail(err, PF_EINTERNAL, "%s: %zu bytes left in the record", where, c.left);
    pf_porep_fill_labeling(p, g->layers);
    return PF_OK;
}

/* ---- C1 output ---- */

size_t pf_challenge_record_size(int proof_id)
{
    pf_commit_geom g;
    return pf_commit_geom_init(&g, proof_id, NULL) ? 0 : g.record_size;
}

size_t pf_c1_output_size(int proof_id)
{
    pf_commit_geom g;
    if (pf_commit_geom_init(&g, proof_id, NULL))
        return 0;
    return C1_HEADER_LEN + (size_t)g.partitions * g.challenges * g.record_size;
}

void pf_c1_output_free(pf_c1_output *o)
{
    if (!o)
        return;
    free(o->proofs);
    o->proofs = NULL;
}

pf_status pf_c1_output_encode(const pf_c1_output *o, uint8_t **buf, size_t *len, pf_error *err)
{
    pf_commit_geom g;
    pf_status st = pf_commit_geom_init(&g, o->pub.proof_id, err);
    if (st)
        return st;
    if (o->partitions != g.partitions || o->challenges_per_partition != g.challenges ||
        o->layers != g.layers || !o->proofs)
        return pf_cm_fail(err, PF_EINVAL, "C1 output: %u partitions x %u challenges x %u layers, "
                          "%s has %u x %u x %u", o->partitions, o->challenges_per_partition,
                          o->layers, g.info->name, g.partitions, g.challenges, g.layers);
    size_t n = (size_t)g.partitions * g.challenges, total = C1_HEADER_LEN + n * g.record_size;
    uint8_t *b = malloc(total);
    if (!b)
        return pf_cm_fail(err, PF_ENOMEM, "C1 output: cannot allocate %zu bytes", total);
    uint8_t *w = b;
    memcpy(w, c1_magic, 4);
    pf_put_le32(w + 4, PF_C1_OUTPUT_VERSION);
    pf_put_le32(w + 8, (uint32_t)o->pub.proof_id);
    pf_put_le64(w + 12, o->pub.sector_id);
    w += 20;
    const uint8_t *vals[8] = { o->pub.prover_id, o->pub.ticket, o->pub.seed, o->pub.comm_d,
                               o->pub.comm_r, o->replica_id, o->comm_c, o->comm_r_last };
    for (int i = 0; i < 8; i++, w += 32)
        memcpy(w, vals[i], 32);
    pf_put_le32(w, g.partitions);
    pf_put_le32(w + 4, g.challenges);
    pf_put_le32(w + 8, g.layers);
    w += 12;
    for (size_t i = 0; i < n; i++, w += g.record_size) {
        if ((st = pf_record_encode(&g, &o->proofs[i], w, err))) {
            pf_cm_prefix(err, "C1 output: partition %zu challenge %zu", i / g.challenges,
                         i % g.challenges);
            free(b);
            return st;
        }
    }
    *buf = b;
    *len = total;
    pf_cm_ok(err);
    return PF_OK;
}

pf_status pf_c1_output_decode(const uint8_t *buf, size_t len, pf_c1_output *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    if (len < C1_HEADER_LEN)
        return pf_cm_fail(err, PF_EINVAL, "C1 output: %zu bytes is shorter than its %d-byte "
                          "header", len, C1_HEADER_LEN);
    if (memcmp(buf, c1_magic, 4) != 0)
        return pf_cm_fail(err, PF_EINVAL, "C1 output: bad magic (not a sealpipe C1 output; "
                          "rust JSON needs `sealproof c1 --format`)");
    uint32_t version = pf_get_le32(buf + 4);
    if (version != PF_C1_OUTPUT_VERSION)
        return pf_cm_fail(err, PF_EINVAL, "C1 output: version %u, this library reads %d",
                          version, PF_C1_OUTPUT_VERSION);
    uint32_t id = pf_get_le32(buf + 8);
    pf_commit_geom g;
    if (id > 19)
        return pf_cm_fail(err, PF_EINVAL, "C1 output: seal proof id %u is not registered (0..19)",
                          id);
    pf_status st = pf_commit_geom_init(&g, (int)id, err);
    if (st) {
        pf_cm_prefix(err, "C1 output");
        return st;
    }
    const uint8_t *r = buf + 20;
    out->pub.proof_id = (int)id;
    out->pub.sector_id = pf_get_le64(buf + 12);
    uint8_t *vals[8] = { out->pub.prover_id, out->pub.ticket, out->pub.seed, out->pub.comm_d,
                         out->pub.comm_r, out->replica_id, out->comm_c, out->comm_r_last };
    for (int i = 0; i < 8; i++, r += 32)
        memcpy(vals[i], r, 32);
    out->partitions = pf_get_le32(r);
    out->challenges_per_partition = pf_get_le32(r + 4);
    out->layers = pf_get_le32(r + 8);
    r += 12;
    if (out->partitions != g.partitions || out->challenges_per_partition != g.challenges ||
        out->layers != g.layers)
        return pf_cm_fail(err, PF_EINVAL, "C1 output: %u partitions x %u challenges x %u layers, "
                          "%s has %u x %u x %u", out->partitions, out->challenges_per_partition,
                          out->layers, g.info->name, g.partitions, g.challenges, g.layers);
    size_t n = (size_t)g.partitions * g.challenges;
    if (len != C1_HEADER_LEN + n * g.record_size)
        return pf_cm_fail(err, PF_EINVAL, "C1 output: %zu bytes, %s needs exactly %zu", len,
                          g.info->name, C1_HEADER_LEN + n * g.record_size);
    for (int i = 3; i < 8; i++)
        if (!pf_cm_fr_valid(vals[i]))
            return pf_cm_fail(err, PF_EINVAL, "C1 output: %s is not a canonical field element",
                              (const char *const[]){ "", "", "", "comm_d", "comm_r", "replica_id",
                                                     "comm_c", "comm_r_last" }[i]);
    out->proofs = malloc(n * sizeof *out->proofs);
    if (!out->proofs)
        return pf_cm_fail(err, PF_ENOMEM, "C1 output: cannot allocate %zu proofs", n);
    for (size_t i = 0; i < n; i++, r += g.record_size) {
        char where[96];
        snprintf(where, sizeof where, "C1 output partition %zu challenge %zu", i / g.challenges,
                 i % g.challenges);
        if ((st = pf_record_decode(&g, r, out->pub.comm_d, out->comm_c, out->comm_r_last,
                                   &out->proofs[i], where, err))) {
            pf_c1_output_free(out);
            return st;
        }
    }
    pf_cm_ok(err);
    return PF_OK;
}
