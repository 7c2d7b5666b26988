/* verify_porep.c — verification of one PoRep vanilla proof (rust-fil-proofs stacked/vanilla
 * params.rs Proof::verify, ColumnProof::verify, LabelingProof::verify,
 * EncodingProof::verify), made strict: besides rust's checks, every labeling proof must
 * hold exactly the parent labels the verified columns give, so no part of a proof goes
 * unchecked. */
#include "commit_internal.h"

#include "fr.h"
#include "label.h"

static int same_layout(const pf_merkle_proof *want, const pf_merkle_proof *got)
{
    if (want->levels != got->levels || want->kind != got->kind)
        return 0;
    for (uint32_t l = 0; l < want->levels; l++)
        if (want->arity[l] != got->arity[l] || want->index[l] != got->index[l])
            return 0;
    return 1;
}

/* A Poseidon-tree path of `node` in the sector's shape leading to `root`. */
static pf_status verify_shaped_path(const pf_tree_shape *s, const pf_merkle_proof *p,
                                    uint64_t node, const uint8_t root[32], const char *what,
                                    pf_hash_memo *m, pf_error *err)
{
    pf_merkle_proof want;
    pf_shape_path_layout(s, node, &want);
    if (!same_layout(&want, p))
        return pf_cm_fail(err, PF_EVERIFY, "%s: the path does not have the shape of node %llu",
                          what, (unsigned long long)node);
    if (memcmp(p->root, root, 32) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "%s: the path's root is not the commitment", what);
    return pf_merkle_verify_memo(p, PF_HASH_POSEIDON, node, what, m, err);
}

static pf_status verify_column(const pf_tree_shape *s, uint32_t layers, const pf_column_proof *c,
                               uint64_t node, const uint8_t comm_c[32], const char *what,
                               pf_hash_memo *m, pf_error *err)
{
    if (c->index != node)
        return pf_cm_fail(err, PF_EVERIFY, "%s: column of node %u, the graph says %llu", what,
                          c->index, (unsigned long long)node);
    if (c->layers != layers)
        return pf_cm_fail(err, PF_EVERIFY, "%s: column has %u layers, the proof needs %u", what,
                          c->layers, layers);
    uint8_t h[32];
    long bad = pf_memo_poseidon(m, (int)layers, c->rows[0], h);
    if (bad >= 0)
        return pf_cm_fail(err, PF_EVERIFY, "%s: label of layer %ld is not a canonical field "
                          "element", what, bad + 1);
    if (memcmp(h, c->inclusion_proof.leaf, 32) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "%s: the column does not hash to the tree_c leaf",
                          what);
    return verify_shaped_path(s, &c->inclusion_proof, node, comm_c, what, m, err);
}

/* trim(SHA256(replica_id || BE32(layer) || BE64(node) || 0^20 || parents[0..37])). */
static void label_from_parents(const uint8_t replica_id[32], const pf_labeling_proof *lp,
                               uint8_t out[32])
{
    uint32_t st[8];
    const uint8_t *ptr[PF_LABEL_PARENTS];
    for (int i = 0; i < PF_LABEL_PARENTS; i++)
        ptr[i] = lp->parents[i];
    pf_label_prefix_state(replica_id, lp->layer_index, lp->node, st);
    pf_label_node_portable(st, ptr, PF_LABEL_PARENTS, out);
}

/* The labeling proof of `layer` must hold the parents' labels as the hash consumes them:
 * layer 1 the 6 DRG labels of this layer, repeated; later layers the 6 DRG labels of this
 * layer and the 8 expander labels of the previous one, repeated, 37 in all. */
static pf_status check_labeling_parents(const pf_porep_vanilla_proof *p, uint32_t layer,
                                        uint64_t node, const pf_labeling_proof *lp,
                                        const char *what, pf_error *err)
{
    if (lp->layer_index != layer || lp->node != node)
        return pf_cm_fail(err, PF_EVERIFY, "%s: it is for layer %u node %llu, expected layer %u "
                          "node %llu", what, lp->layer_index, (unsigned long long)lp->node, layer,
                          (unsigned long long)node);
    int n = layer == 1 ? PF_BASE_DEGREE : PF_DEGREE;
    for (int i = 0; i < PF_LABEL_PARENTS; i++) {
        int k = i % n;
        const uint8_t *want =
            k < PF_BASE_DEGREE
                ? p->replica_column_proofs.drg_parents[k].rows[layer - 1]
                : p->replica_column_proofs.exp_parents[k - PF_BASE_DEGREE].rows[layer - 2];
        if (memcmp(lp->parents[i], want, 32) != 0)
            return pf_cm_fail(err, PF_EVERIFY, "%s: parent label %d is not the one in parent "
                              "column %d", what, i, k);
    }
    return PF_OK;
}

pf_status pf_porep_vanilla_verify(int proof_id, const pf_graph *g, const uint8_t replica_id[32],
                                  const uint8_t comm_d[32], const uint8_t comm_c[32],
                                  const uint8_t comm_r_last[32], uint64_t challenge,
                                  const pf_porep_vanilla_proof *p, pf_error *err)
{
    pf_hash_memo *m = pf_hash_memo_new();
    pf_status st = pf_porep_verify_memo(proof_id, g, replica_id, comm_d, comm_c, comm_r_last,
                                        challenge, p, m, err);
    pf_hash_memo_free(m);
    return st;
}

pf_status pf_porep_verify_memo(int proof_id, const pf_graph *g, const uint8_t replica_id[32],
                               const uint8_t comm_d[32], const uint8_t comm_c[32],
                               const uint8_t comm_r_last[32], uint64_t challenge,
                               const pf_porep_vanilla_proof *p, pf_hash_memo *m, pf_error *err)
{
    pf_tree_shape shape;
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info || g->nodes != info->nodes || memcmp(g->porep_id, info->porep_id, 32) != 0)
        return pf_cm_fail(err, PF_EINVAL, "vanilla proof: the graph is not the one of seal proof "
                          "%d", proof_id);
    pf_status st = pf_tree_shape_for_proof(proof_id, &shape, err);
    if (st)
        return st;
    const int layers = info->layers;
    if (challenge == 0 || challenge >= g->nodes)
        return pf_cm_fail(err, PF_EVERIFY, "challenge %llu is not in 1..%llu",
                          (unsigned long long)challenge, (unsigned long long)(g->nodes - 1));

    /* data: tree_d */
    pf_merkle_proof want;
    pf_tree_d_path_layout(g->nodes, challenge, &want);
    if (!same_layout(&want, &p->comm_d_proofs) || memcmp(p->comm_d_proofs.root, comm_d, 32))
        return pf_cm_fail(err, PF_EVERIFY, "tree_d proof is not a path of node %llu to comm_d",
                          (unsigned long long)challenge);
    if ((st = pf_merkle_proof_verify(&p->comm_d_proofs, PF_HASH_SHA256, challenge, "tree_d proof",
                                     err)))
        return st;

    /* columns: the challenge and its parents, all in tree_c */
    uint32_t parents[PF_DEGREE];
    pf_graph_parents(g, challenge, parents);
    const uint32_t L = (uint32_t)layers;
    if ((st = verify_column(&shape, L, &p->replica_column_proofs.c_x, challenge, comm_c,
                            "challenge column", m, err)))
        return st;
    for (int i = 0; i < PF_DEGREE; i++) {
        char what[48];
        snprintf(what, sizeof what, "%s parent %d column", i < PF_BASE_DEGREE ? "DRG" : "expander",
                 i < PF_BASE_DEGREE ? i : i - PF_BASE_DEGREE);
        const pf_column_proof *c = i < PF_BASE_DEGREE
                                       ? &p->replica_column_proofs.drg_parents[i]
                                       : &p->replica_column_proofs.exp_parents[i - PF_BASE_DEGREE];
        if ((st = verify_column(&shape, L, c, parents[i], comm_c, what, m, err)))
            return st;
    }

    /* replica: tree_r_last */
    if ((st = verify_shaped_path(&shape, &p->comm_r_last_proof, challenge, comm_r_last,
                                 "tree_r_last proof", m, err)))
        return st;

    /* labels of every layer, recomputed from the parents' columns */
    if (p->layers != L)
        return pf_cm_fail(err, PF_EVERIFY, "%u labeling proofs, the proof needs %u", p->layers, L);
    for (uint32_t layer = 1; layer <= L; layer++) {
        char what[48];
        snprintf(what, sizeof what, "labeling proof of layer %u", layer);
        const pf_labeling_proof *lp = &p->labeling_proofs[layer - 1];
        if ((st = check_labeling_parents(p, layer, challenge, lp, what, err)))
            return st;
        uint8_t label[32];
        label_from_parents(replica_id, lp, label);
        if (memcmp(label, p->replica_column_proofs.c_x.rows[layer - 1], 32) != 0)
            return pf_cm_fail(err, PF_EVERIFY, "%s: the label of node %llu does not match its "
                              "column", what, (unsigned long long)challenge);
    }

    /* encoding: replica = key + data, key = the last layer's label */
    const pf_labeling_proof *ep = &p->encoding_proof;
    if ((st = check_labeling_parents(p, L, challenge, ep, "encoding proof", err)))
        return st;
    uint8_t key[32];
    label_from_parents(replica_id, ep, key);
    if (!pf_cm_fr_valid(p->comm_d_proofs.leaf))
        return pf_cm_fail(err, PF_EVERIFY, "encoding proof: the data node is not a field element");
    pf_fr k, d, r;
    pf_fr_limbs_from_bytes(k.l, key);
    pf_fr_limbs_from_bytes(d.l, p->comm_d_proofs.leaf);
    pf_fr_add(&r, &k, &d);
    uint8_t enc[32];
    pf_fr_limbs_to_bytes(enc, r.l);
    if (memcmp(enc, p->comm_r_last_proof.leaf, 32) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "encoding proof: replica node %llu is not key + data",
                          (unsigned long long)challenge);
    pf_cm_ok(err);
    return PF_OK;
}
