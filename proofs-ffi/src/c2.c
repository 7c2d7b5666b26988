/* c2.c — the native commit phase 2 and seal verification.  NOT a SNARK: the commit proof
 * is the vanilla proofs themselves (format in sealproofs/commit.h) and pf_verify_seal
 * re-checks all of them from the public inputs, so a local chain and the tests can verify
 * sealing completely.  Chain-valid Groth16 proofs come from the filcrypto backend. */
#include "commit_internal.h"

#include <stdlib.h>

static const uint8_t cp_magic[4] = { 'S', 'P', 'C', 'P' };
#define CP_HEADER_LEN (4 + 4 + 4 + 32 + 32 + 4 + 4)

pf_status pf_c2_from_output(const pf_c1_output *c1, uint8_t **proof, size_t *proof_len,
                            pf_error *err)
{
    pf_commit_geom g;
    pf_status st = pf_commit_geom_init(&g, c1->pub.proof_id, err);
    if (st)
        return st;
    if ((st = pf_c1_output_verify(c1, err))) {
        pf_cm_prefix(err, "C2: the C1 output does not verify");
        return st;
    }
    size_t n = (size_t)g.partitions * g.challenges, total = CP_HEADER_LEN + n * g.record_size;
    uint8_t *b = malloc(total);
    if (!b)
        return pf_cm_fail(err, PF_ENOMEM, "C2: cannot allocate %zu bytes", total);
    memcpy(b, cp_magic, 4);
    pf_put_le32(b + 4, PF_COMMIT_PROOF_VERSION);
    pf_put_le32(b + 8, (uint32_t)g.proof_id);
    memcpy(b + 12, c1->comm_c, 32);
    memcpy(b + 44, c1->comm_r_last, 32);
    pf_put_le32(b + 76, g.partitions);
    pf_put_le32(b + 80, g.challenges);
    for (size_t i = 0; i < n; i++) {
        if ((st = pf_record_encode(&g, &c1->proofs[i], b + CP_HEADER_LEN + i * g.record_size,
                                   err))) {
            free(b);
            pf_cm_prefix(err, "C2");
            return st;
        }
    }
    *proof = b;
    *proof_len = total;
    pf_cm_ok(err);
    return PF_OK;
}

pf_status pf_c2(const uint8_t *c1, size_t c1_len, uint64_t sector_id,
                const uint8_t prover_id[32], uint8_t **proof, size_t *proof_len, pf_error *err)
{
    pf_c1_output o;
    pf_status st = pf_c1_output_decode(c1, c1_len, &o, err);
    if (st)
        return st;
    if (o.pub.sector_id != sector_id)
        st = pf_cm_fail(err, PF_EINVAL, "C2: the C1 output is for sector %llu, not %llu",
                        (unsigned long long)o.pub.sector_id, (unsigned long long)sector_id);
    else if (memcmp(o.pub.prover_id, prover_id, 32) != 0)
        st = pf_cm_fail(err, PF_EINVAL, "C2: the C1 output is for another prover_id");
    else
        st = pf_c2_from_output(&o, proof, proof_len, err);
    pf_c1_output_free(&o);
    return st;
}

static int all_zero(const uint8_t b[32])
{
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++)
        acc |= b[i];
    return acc == 0;
}

pf_status pf_verify_seal(int proof_id, const uint8_t comm_r[32], const uint8_t comm_d[32],
                         const uint8_t prover_id[32], const uint8_t ticket[32],
                         const uint8_t seed[32], uint64_t sector_id, const uint8_t *proof,
                         size_t proof_len, pf_error *err)
{
    pf_commit_geom g;
    pf_graph graph;
    pf_status st = pf_commit_geom_init(&g, proof_id, err);
    if (st)
        return st;
    if (all_zero(comm_d) || all_zero(comm_r))
        return pf_cm_fail(err, PF_EINVAL, "invalid all-zero commitment (%s)",
                          all_zero(comm_d) ? "comm_d" : "comm_r");
    if (!pf_cm_fr_valid(comm_d) || !pf_cm_fr_valid(comm_r))
        return pf_cm_fail(err, PF_EINVAL, "%s is not a canonical field element",
                          pf_cm_fr_valid(comm_d) ? "comm_r" : "comm_d");
    if (!proof || proof_len < CP_HEADER_LEN)
        return pf_cm_fail(err, PF_EVERIFY, "commit proof of %zu bytes is shorter than its header",
                          proof ? proof_len : 0);
    if (memcmp(proof, cp_magic, 4) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "not a native commit proof (bad magic; a Groth16 "
                          "proof needs the filcrypto backend)");
    if (pf_get_le32(proof + 4) != PF_COMMIT_PROOF_VERSION)
        return pf_cm_fail(err, PF_EVERIFY, "commit proof version %u, this library reads %d",
                          pf_get_le32(proof + 4), PF_COMMIT_PROOF_VERSION);
    if (pf_get_le32(proof + 8) != (uint32_t)proof_id)
        return pf_cm_fail(err, PF_EVERIFY, "commit proof is for seal proof %u, not %d",
                          pf_get_le32(proof + 8), proof_id);
    const uint8_t *comm_c = proof + 12, *comm_r_last = proof + 44;
    if (pf_get_le32(proof + 76) != g.partitions || pf_get_le32(proof + 80) != g.challenges)
        return pf_cm_fail(err, PF_EVERIFY, "commit proof has %u partitions x %u challenges, %s "
                          "has %u x %u", pf_get_le32(proof + 76), pf_get_le32(proof + 80),
                          g.info->name, g.partitions, g.challenges);
    size_t n = (size_t)g.partitions * g.challenges;
    if (proof_len != CP_HEADER_LEN + n * g.record_size)
        return pf_cm_fail(err, PF_EVERIFY, "commit proof of %zu bytes, %s needs exactly %zu",
                          proof_len, g.info->name, CP_HEADER_LEN + n * g.record_size);
    if ((st = pf_check_comm_r(comm_c, comm_r_last, comm_r, "commit proof", err)))
        return st;
    if ((st = pf_graph_init_proof(&graph, proof_id, err)))
        return st;
    uint8_t replica_id[32];
    pf_replica_id(prover_id, sector_id, ticket, comm_d, g.info->porep_id, replica_id);
    pf_porep_vanilla_proof *p = malloc(sizeof *p);
    pf_hash_memo *memo = pf_hash_memo_new();
    if (!p || !memo) {
        free(p);
        pf_hash_memo_free(memo);
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    }
    uint64_t ch[64];
    const uint8_t *rec = proof + CP_HEADER_LEN;
    for (uint32_t k = 0; k < g.partitions && !st; k++) {
        if ((st = pf_porep_challenges(proof_id, replica_id, seed, comm_r, k, ch, NULL, err)))
            break;
        for (uint32_t i = 0; i < g.challenges; i++, rec += g.record_size) {
            char where[64];
            snprintf(where, sizeof where, "partition %u challenge %u", k, i);
            if ((st = pf_record_decode(&g, rec, comm_d, comm_c, comm_r_last, p, where, err))) {
                st = PF_EVERIFY;
                if (err)
                    err->status = st;
                break;
            }
            if (p->replica_column_proofs.c_x.index != ch[i]) {
                st = pf_cm_fail(err, PF_EVERIFY, "%s: proves node %u, the challenge derived from "
                                "the public inputs is %llu", where,
                                p->replica_column_proofs.c_x.index, (unsigned long long)ch[i]);
                break;
            }
            if ((st = pf_porep_verify_memo(proof_id, &graph, replica_id, comm_d, comm_c,
                                           comm_r_last, ch[i], p, memo, err))) {
                pf_cm_prefix(err, "%s (node %llu)", where, (unsigned long long)ch[i]);
                break;
            }
        }
    }
    free(p);
    pf_hash_memo_free(memo);
    if (!st)
        pf_cm_ok(err);
    return st;
}
