/* c1.c — commit phase 1 (rust-fil-proofs StackedDrg::prove_layers /
 * prove_layers_generate, filecoin-proofs seal_commit_phase1): derive the porep challenges
 * and build each one's vanilla proof from the sector's cache directory — tree_d, the layer
 * labels (columns), tree_c and tree_r_last paths (pc2's path readers) — then verify every
 * proof before handing it out. */
#include "commit_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tree_poseidon.h"

pf_status pf_porep_prover_open(pf_porep_prover *pr, const pf_commit_geom *g, const char *cache_dir,
                               const char *sealed_path, pf_error *err)
{
    memset(pr, 0, sizeof *pr);
    for (int l = 0; l < PF_MAX_LAYERS; l++)
        pr->layer_fd[l] = -1;
    pr->g = g;
    pr->cache_dir = cache_dir;
    pr->sealed_path = sealed_path;
    pf_status st = pf_graph_init_proof(&pr->graph, g->proof_id, err);
    if (st)
        return st;
    if ((st = pf_p_aux_read(cache_dir, pr->comm_c, pr->comm_r_last, err)))
        return st;
    if ((st = pf_tree_d_root(cache_dir, g->nodes, pr->comm_d, err)))
        return st;
    for (uint32_t l = 0; l < g->layers; l++) {
        char path[4096];
        struct stat sb;
        if (pf_layer_path(cache_dir, (int)l + 1, path, sizeof path)) {
            st = pf_cm_fail(err, PF_EINVAL, "cache directory path is too long: %s", cache_dir);
            goto fail;
        }
        pr->layer_fd[l] = open(path, O_RDONLY | O_CLOEXEC);
        if (pr->layer_fd[l] < 0 || fstat(pr->layer_fd[l], &sb) < 0) {
            st = pf_cm_fail(err, PF_EIO, "%s: %s (C1 needs every PC1 layer; was the cache "
                            "cleared?)", path, strerror(errno));
            goto fail;
        }
        if ((uint64_t)sb.st_size != g->nodes * 32) {
            st = pf_cm_fail(err, PF_ECORRUPT, "%s: %lld bytes, expected %llu; re-run PC1", path,
                            (long long)sb.st_size, (unsigned long long)(g->nodes * 32));
            goto fail;
        }
    }
    pf_cm_ok(err);
    return PF_OK;
fail:
    pf_porep_prover_close(pr);
    return st;
}

void pf_porep_prover_close(pf_porep_prover *pr)
{
    for (int l = 0; l < PF_MAX_LAYERS; l++) {
        if (pr->layer_fd[l] >= 0)
            close(pr->layer_fd[l]);
        pr->layer_fd[l] = -1;
    }
}

static pf_status read_label(pf_porep_prover *pr, uint32_t layer, uint64_t node, uint8_t out[32],
                            pf_error *err)
{
    long long n = pf_tree_pread(pr->layer_fd[layer], out, 32, node * 32);
    if (n != 32)
        return pf_cm_fail(err, n < 0 ? PF_EIO : PF_ECORRUPT, "layer %u: cannot read node %llu: %s",
                          layer + 1, (unsigned long long)node, n < 0 ? strerror(errno) : "short file");
    return PF_OK;
}

static pf_status prove_column(pf_porep_prover *pr, uint64_t node, pf_tree_path *tp,
                              pf_column_proof *c, pf_error *err)
{
    c->index = (uint32_t)node;
    c->layers = pr->g->layers;
    for (uint32_t l = 0; l < pr->g->layers; l++) {
        pf_status st = read_label(pr, l, node, c->rows[l], err);
        if (st)
            return st;
    }
    pf_status st = pf_tree_c_path(&pr->g->shape, pr->cache_dir, node, tp, err);
    return st ? st : pf_merkle_from_tree_path(&pr->g->shape, tp, &c->inclusion_proof, err);
}

pf_status pf_porep_prove_challenge(pf_porep_prover *pr, uint64_t challenge,
                                   pf_porep_vanilla_proof *out, pf_error *err)
{
    const pf_commit_geom *g = pr->g;
    memset(out, 0, sizeof *out);
    if (challenge == 0 || challenge >= g->nodes)
        return pf_cm_fail(err, PF_EINVAL, "challenge %llu is not in 1..%llu",
                          (unsigned long long)challenge, (unsigned long long)(g->nodes - 1));
    pf_tree_path *tp = malloc(sizeof *tp);
    if (!tp)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory for a tree path");
    pf_status st;
    pf_merkle_proof *d = &out->comm_d_proofs;
    pf_tree_d_path_layout(g->nodes, challenge, d);
    memcpy(d->root, pr->comm_d, 32);
    if ((st = pf_tree_d_node(pr->cache_dir, g->nodes, 0, challenge, d->leaf, err)) ||
        (st = pf_tree_d_path(pr->cache_dir, g->nodes, challenge, d->hashes, err)))
        goto done;
    uint32_t parents[PF_DEGREE];
    pf_graph_parents(&pr->graph, challenge, parents);
    if ((st = prove_column(pr, challenge, tp, &out->replica_column_proofs.c_x, err)))
        goto done;
    for (int i = 0; i < PF_BASE_DEGREE; i++)
        if ((st = prove_column(pr, parents[i], tp, &out->replica_column_proofs.drg_parents[i], err)))
            goto done;
    for (int i = 0; i < PF_EXP_DEGREE; i++)
        if ((st = prove_column(pr, parents[PF_BASE_DEGREE + i], tp,
                               &out->replica_column_proofs.exp_parents[i], err)))
            goto done;
    if ((st = pf_tree_r_last_path(&g->shape, pr->cache_dir, pr->sealed_path, challenge, tp, err)) ||
        (st = pf_merkle_from_tree_path(&g->shape, tp, &out->comm_r_last_proof, err)))
        goto done;
    pf_porep_fill_labeling(out, g->layers);
done:
    free(tp);
    if (st)
        pf_cm_prefix(err, "C1: proving challenge %llu", (unsigned long long)challenge);
    return st;
}

/* Inputs rust checks with as_safe_commitment, and the comm_d of the pieces when given. */
static pf_status check_inputs(const pf_commit_geom *g, const uint8_t comm_d[32],
                              const uint8_t comm_r[32], const pf_piece_info *pieces,
                              size_t npieces, pf_error *err)
{
    if (!pf_cm_fr_valid(comm_d))
        return pf_cm_fail(err, PF_EINVAL, "comm_d is not a canonical field element");
    if (!pf_cm_fr_valid(comm_r))
        return pf_cm_fail(err, PF_EINVAL, "comm_r is not a canonical field element");
    if (pieces && npieces) {
        uint8_t want[32];
        pf_status st = pf_comm_d(g->info->sector_size, pieces, npieces, want, err);
        if (st)
            return st;
        if (memcmp(want, comm_d, 32) != 0)
            return pf_cm_fail(err, PF_EINVAL, "comm_d is not the data commitment of the %zu "
                              "pieces given", npieces);
    }
    return PF_OK;
}

/* Proves and verifies every challenge of every partition from the layers. */
static pf_status c1_generate(const pf_commit_geom *g, pf_porep_prover *pr, pf_c1_output *o,
                             pf_error *err)
{
    uint64_t ch[64];
    for (uint32_t k = 0; k < g->partitions; k++) {
        pf_status st = pf_porep_challenges(g->proof_id, o->replica_id, o->pub.seed, o->pub.comm_r,
                                           k, ch, NULL, err);
        if (st)
            return st;
        for (uint32_t i = 0; i < g->challenges; i++) {
            pf_porep_vanilla_proof *p = &o->proofs[(size_t)k * g->challenges + i];
            if ((st = pf_porep_prove_challenge(pr, ch[i], p, err)))
                return st;
        }
    }
    return PF_OK;
}

pf_status pf_c1(int proof_id, const char *cache_dir, const char *sealed_path, uint64_t sector_id,
                const uint8_t prover_id[32], const uint8_t ticket[32], const uint8_t seed[32],
                const uint8_t comm_d[32], const uint8_t comm_r[32], const pf_piece_info *pieces,
                size_t npieces, pf_c1_output *out, pf_error *err)
{
    pf_commit_geom g;
    pf_porep_prover pr;
    memset(out, 0, sizeof *out);
    memset(&pr, 0, sizeof pr);
    for (int l = 0; l < PF_MAX_LAYERS; l++)
        pr.layer_fd[l] = -1;
    pf_status st = pf_commit_geom_init(&g, proof_id, err);
    if (st)
        return st;
    if (!cache_dir || !sealed_path)
        return pf_cm_fail(err, PF_EINVAL, "C1: the cache directory and sealed path are required");
    if ((st = check_inputs(&g, comm_d, comm_r, pieces, npieces, err)))
        return st;
    if (g.challenges > 64)
        return pf_cm_fail(err, PF_EINTERNAL, "C1: %u challenges per partition", g.challenges);

    pf_c1_output *o = out;
    o->pub.proof_id = proof_id;
    o->pub.sector_id = sector_id;
    memcpy(o->pub.prover_id, prover_id, 32);
    memcpy(o->pub.ticket, ticket, 32);
    memcpy(o->pub.seed, seed, 32);
    memcpy(o->pub.comm_d, comm_d, 32);
    memcpy(o->pub.comm_r, comm_r, 32);
    pf_replica_id(prover_id, sector_id, ticket, comm_d, g.info->porep_id, o->replica_id);
    o->partitions = g.partitions;
    o->challenges_per_partition = g.challenges;
    o->layers = g.layers;
    size_t n = (size_t)g.partitions * g.challenges;
    o->proofs = calloc(n, sizeof *o->proofs);
    if (!o->proofs)
        return pf_cm_fail(err, PF_ENOMEM, "C1: cannot allocate %zu vanilla proofs", n);
    if ((st = pf_p_aux_read(cache_dir, o->comm_c, o->comm_r_last, err)) ||
        (st = pf_check_comm_r(o->comm_c, o->comm_r_last, comm_r, "C1: p_aux", err)))
        goto fail;

    int from_file = 0;
    if (g.info->feature == PF_FEATURE_SYNTHETIC) {
        st = pf_synth_proofs_read(&g, cache_dir, o->replica_id, comm_r, seed, comm_d, o->comm_c,
                                  o->comm_r_last, o->proofs, err);
        if (st && st != PF_EIO)
            goto fail;
        from_file = st == PF_OK;
    }
    if (!from_file) {
        if ((st = pf_porep_prover_open(&pr, &g, cache_dir, sealed_path, err)))
            goto fail;
        if (memcmp(pr.comm_d, comm_d, 32) != 0) {
            st = pf_cm_fail(err, PF_EINVAL, "C1: the tree_d in %s has another root than comm_d "
                            "(wrong sector or comm_d?)", cache_dir);
            goto fail;
        }
        if ((st = c1_generate(&g, &pr, o, err)))
            goto fail;
    }
    if ((st = pf_c1_output_verify(o, err))) {
        pf_cm_prefix(err, "C1: a generated proof does not verify (the cache or replica is "
                     "corrupt)");
        goto fail;
    }
    pf_porep_prover_close(&pr);
    pf_cm_ok(err);
    return PF_OK;
fail:
    pf_porep_prover_close(&pr);
    pf_c1_output_free(o);
    return st;
}

pf_status pf_c1_output_verify(const pf_c1_output *o, pf_error *err)
{
    pf_commit_geom g;
    pf_graph graph;
    pf_status st = pf_commit_geom_init(&g, o->pub.proof_id, err);
    if (st || (st = pf_graph_init_proof(&graph, o->pub.proof_id, err)))
        return st;
    if (o->partitions != g.partitions || o->challenges_per_partition != g.challenges ||
        o->layers != g.layers || !o->proofs)
        return pf_cm_fail(err, PF_EVERIFY, "%u partitions x %u challenges x %u layers, %s has "
                          "%u x %u x %u", o->partitions, o->challenges_per_partition, o->layers,
                          g.info->name, g.partitions, g.challenges, g.layers);
    if (!pf_cm_fr_valid(o->pub.comm_d) || !pf_cm_fr_valid(o->pub.comm_r))
        return pf_cm_fail(err, PF_EINVAL, "comm_d or comm_r is not a canonical field element");
    uint8_t rid[32];
    pf_replica_id(o->pub.prover_id, o->pub.sector_id, o->pub.ticket, o->pub.comm_d,
                  g.info->porep_id, rid);
    if (memcmp(rid, o->replica_id, 32) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "replica_id is not the one of the public inputs");
    if ((st = pf_check_comm_r(o->comm_c, o->comm_r_last, o->pub.comm_r, "comm_r", err)))
        return st;
    uint64_t ch[64];
    if (g.challenges > 64)
        return pf_cm_fail(err, PF_EINTERNAL, "%u challenges per partition", g.challenges);
    pf_hash_memo *memo = pf_hash_memo_new();
    if (!memo)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < g.partitions; k++) {
        if ((st = pf_porep_challenges(g.proof_id, rid, o->pub.seed, o->pub.comm_r, k, ch, NULL,
                                      err)))
            goto done;
        for (uint32_t i = 0; i < g.challenges; i++) {
            const pf_porep_vanilla_proof *p = &o->proofs[(size_t)k * g.challenges + i];
            if (p->replica_column_proofs.c_x.index != ch[i]) {
                st = pf_cm_fail(err, PF_EVERIFY, "partition %u challenge %u: proves node %u, "
                                "the challenge is %llu", k, i,
                                p->replica_column_proofs.c_x.index, (unsigned long long)ch[i]);
                goto done;
            }
            if ((st = pf_porep_verify_memo(g.proof_id, &graph, rid, o->pub.comm_d, o->comm_c,
                                           o->comm_r_last, ch[i], p, memo, err))) {
                pf_cm_prefix(err, "partition %u challenge %u (node %llu)", k, i,
                             (unsigned long long)ch[i]);
                goto done;
            }
        }
    }
    pf_cm_ok(err);
done:
    pf_hash_memo_free(memo);
    return st;
}
