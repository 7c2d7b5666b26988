/* post.c — Winning and Window PoSt with native proofs (rust-fil-proofs storage-proofs-post
 * fallback vanilla.rs, filecoin-proofs api/post_util.rs, window_post.rs, winning_post.rs):
 * per-sector vanilla proofs from tree_r_last (discarded rows rebuilt from the sealed file)
 * and comm_c from p_aux, faulty-sector detection, the native PoSt proof (the vanilla proofs
 * themselves, NOT a SNARK) and its verification. */
#include "commit_internal.h"

#include <stdlib.h>

static const uint8_t ps_magic[4] = { 'S', 'P', 'P', 'S' };
#define PS_HEADER_LEN 20

typedef struct post_ctx {
    const pf_post_proof_info *info;
    pf_tree_shape shape;
    uint64_t nodes;
    uint32_t r_levels, r_hashes;
    size_t count;                 /* challenges per sector */
} post_ctx;

static pf_status post_ctx_init(post_ctx *c, int post_proof_id, pf_error *err)
{
    memset(c, 0, sizeof *c);
    c->info = pf_post_proof(post_proof_id);
    if (!c->info)
        return pf_cm_fail(err, PF_EINVAL, "PoSt proof id %d is not registered (0..14)",
                          post_proof_id);
    int seal_id = pf_seal_proof_for_size(c->info->sector_size);
    pf_status st = pf_tree_shape_for_proof(seal_id, &c->shape, err);
    if (st)
        return st;
    c->nodes = c->info->sector_size / 32;
    c->count = (size_t)c->info->challenge_count;
    pf_shape_path_dims(&c->shape, &c->r_levels, &c->r_hashes);
    return PF_OK;
}

static size_t sector_record_size(const post_ctx *c)
{
    return 8 + 64 + c->count * 32 * (1 + (size_t)c->r_hashes);
}

void pf_post_vanilla_proof_free(pf_post_vanilla_proof *p)
{
    if (!p)
        return;
    free(p->sector.inclusion_proofs);
    p->sector.inclusion_proofs = NULL;
    p->sector.count = 0;
}

void pf_post_result_free(pf_post_result *r)
{
    if (!r)
        return;
    free(r->proof);
    free(r->proven);
    free(r->faulty);
    free(r->faulty_errors);
    memset(r, 0, sizeof *r);
}

/* ---- vanilla proofs ---- */

static pf_status vanilla_prove(const post_ctx *c, const pf_post_replica *r,
                               const uint64_t *challenges, size_t n, pf_post_vanilla_proof *out,
                               pf_error *err)
{
    memset(out, 0, sizeof *out);
    out->sector_id = r->sector_id;
    memcpy(out->comm_r, r->comm_r, 32);
    if (!r->cache_dir || !r->sealed_path)
        return pf_cm_fail(err, PF_EINVAL, "sector %llu: cache directory and sealed path are "
                          "required", (unsigned long long)r->sector_id);
    pf_status st = pf_p_aux_read(r->cache_dir, out->sector.comm_c, out->sector.comm_r_last, err);
    if (st)
        goto fail;
    if ((st = pf_check_comm_r(out->sector.comm_c, out->sector.comm_r_last, r->comm_r, "p_aux",
                              err))) {
        st = PF_ECORRUPT;
        goto fail;
    }
    out->sector.inclusion_proofs = calloc(n ? n : 1, sizeof *out->sector.inclusion_proofs);
    pf_tree_path *tp = malloc(sizeof *tp);
    if (!out->sector.inclusion_proofs || !tp) {
        free(tp);
        st = pf_cm_fail(err, PF_ENOMEM, "out of memory for %zu inclusion proofs", n);
        goto fail;
    }
    out->sector.count = n;
    for (size_t i = 0; i < n && !st; i++) {
        pf_merkle_proof *mp = &out->sector.inclusion_proofs[i];
        if (challenges[i] >= c->nodes)
            st = pf_cm_fail(err, PF_EINVAL, "challenge %llu is outside the sector",
                            (unsigned long long)challenges[i]);
        else if (!(st = pf_tree_r_last_path(&c->shape, r->cache_dir, r->sealed_path,
                                            challenges[i], tp, err)) &&
                 !(st = pf_merkle_from_tree_path(&c->shape, tp, mp, err))) {
            if (memcmp(mp->root, out->sector.comm_r_last, 32) != 0)
                st = pf_cm_fail(err, PF_ECORRUPT, "tree-r-last files have another root than "
                                "p_aux's comm_r_last");
            else if ((st = pf_merkle_proof_verify(mp, PF_HASH_POSEIDON, challenges[i],
                                                  "tree_r_last proof", err)))
                st = PF_ECORRUPT;
        }
    }
    free(tp);
    if (st)
        goto fail;
    pf_cm_ok(err);
    return PF_OK;
fail:
    if (err)
        err->status = st;
    pf_cm_prefix(err, "sector %llu", (unsigned long long)r->sector_id);
    pf_post_vanilla_proof_free(out);
    return st;
}

pf_status pf_post_vanilla_prove(int post_proof_id, const pf_post_replica *replica,
                                const uint64_t *challenges, size_t n,
                                pf_post_vanilla_proof *out, pf_error *err)
{
    post_ctx c;
    memset(out, 0, sizeof *out);
    pf_status st = post_ctx_init(&c, post_proof_id, err);
    return st ? st : vanilla_prove(&c, replica, challenges, n, out, err);
}

static pf_status vanilla_verify(const post_ctx *c, const uint64_t *challenges,
                                const pf_post_public_replica *pub,
                                const pf_post_vanilla_proof *p, pf_hash_memo *m, pf_error *err)
{
    if (p->sector_id != pub->sector_id || memcmp(p->comm_r, pub->comm_r, 32) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "the proof is for sector %llu / another comm_r, not "
                          "sector %llu", (unsigned long long)p->sector_id,
                          (unsigned long long)pub->sector_id);
    if (p->sector.count != c->count)
        return pf_cm_fail(err, PF_EVERIFY, "sector %llu: %zu inclusion proofs, %s needs %zu",
                          (unsigned long long)pub->sector_id, p->sector.count, c->info->name,
                          c->count);
    pf_status st = pf_check_comm_r(p->sector.comm_c, p->sector.comm_r_last, pub->comm_r, "PoSt",
                                   err);
    if (st) {
        pf_cm_prefix(err, "sector %llu", (unsigned long long)pub->sector_id);
        return st;
    }
    for (size_t i = 0; i < c->count; i++) {
        const pf_merkle_proof *mp = &p->sector.inclusion_proofs[i];
        pf_merkle_proof want;
        pf_shape_path_layout(&c->shape, challenges[i], &want);
        int same = want.levels == mp->levels && want.kind == mp->kind;
        for (uint32_t l = 0; same && l < want.levels; l++)
            same = want.arity[l] == mp->arity[l] && want.index[l] == mp->index[l];
        if (!same || memcmp(mp->root, p->sector.comm_r_last, 32) != 0)
            return pf_cm_fail(err, PF_EVERIFY, "sector %llu challenge %zu: not a path of leaf "
                              "%llu to comm_r_last", (unsigned long long)pub->sector_id, i,
                              (unsigned long long)challenges[i]);
        char what[96];
        snprintf(what, sizeof what, "sector %llu challenge %zu", (unsigned long long)pub->sector_id,
                 i);
        if ((st = pf_merkle_verify_memo(mp, PF_HASH_POSEIDON, challenges[i], what, m, err)))
            return st;
    }
    return PF_OK;
}

pf_status pf_post_vanilla_verify(int post_proof_id, const uint8_t randomness[32],
                                 uint64_t sector_index, const pf_post_public_replica *pub,
                                 const pf_post_vanilla_proof *p, pf_error *err)
{
    post_ctx c;
    pf_status st = post_ctx_init(&c, post_proof_id, err);
    if (st)
        return st;
    uint64_t *ch = malloc(c.count * sizeof *ch);
    if (!ch)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    st = pf_post_sector_challenges(post_proof_id, randomness, sector_index, pub->sector_id, ch,
                                   err);
    pf_hash_memo *m = pf_hash_memo_new();
    if (!st)
        st = vanilla_verify(&c, ch, pub, p, m, err);
    pf_hash_memo_free(m);
    free(ch);
    if (!st)
        pf_cm_ok(err);
    return st;
}

/* ---- the native PoSt proof ---- */

static int cmp_replica(const void *a, const void *b)
{
    uint64_t x = (*(const pf_post_replica *const *)a)->sector_id;
    uint64_t y = (*(const pf_post_replica *const *)b)->sector_id;
    return x < y ? -1 : x > y;
}

static int cmp_public(const void *a, const void *b)
{
    uint64_t x = ((const pf_post_public_replica *)a)->sector_id;
    uint64_t y = ((const pf_post_public_replica *)b)->sector_id;
    return x < y ? -1 : x > y;
}

static pf_status encode_post(const post_ctx *c, const pf_post_vanilla_proof *proofs, size_t n,
                             pf_post_result *res, pf_error *err)
{
    size_t rs = sector_record_size(c), total = PS_HEADER_LEN + n * rs;
    uint8_t *b = malloc(total);
    if (!b)
        return pf_cm_fail(err, PF_ENOMEM, "cannot allocate a %zu-byte PoSt proof", total);
    memcpy(b, ps_magic, 4);
    pf_put_le32(b + 4, PF_POST_PROOF_VERSION);
    pf_put_le32(b + 8, (uint32_t)c->info->id);
    pf_put_le32(b + 12, (uint32_t)n);
    pf_put_le32(b + 16, (uint32_t)c->count);
    uint8_t *w = b + PS_HEADER_LEN;
    for (size_t i = 0; i < n; i++) {
        pf_put_le64(w, proofs[i].sector_id);
        memcpy(w + 8, proofs[i].sector.comm_c, 32);
        memcpy(w + 40, proofs[i].sector.comm_r_last, 32);
        w += 72;
        for (size_t j = 0; j < c->count; j++) {
            const pf_merkle_proof *mp = &proofs[i].sector.inclusion_proofs[j];
            memcpy(w, mp->leaf, 32);
            memcpy(w + 32, mp->hashes, (size_t)c->r_hashes * 32);
            w += 32 * (1 + (size_t)c->r_hashes);
        }
    }
    res->proof = b;
    res->proof_len = total;
    return PF_OK;
}

/* Proves every sector of the sorted list; sectors that fail go to faulty.  A sector's
 * position (which its challenges depend on before PoSt API 1.2) counts only the sectors
 * proven before it, so one pass gives the same proof as proving the good sectors alone. */
static pf_status prove_all(const post_ctx *c, const uint8_t randomness[32],
                           const pf_post_replica **sorted, size_t n, pf_post_result *res,
                           pf_error *err)
{
    pf_status st = PF_OK;
    pf_post_vanilla_proof *proofs = calloc(n, sizeof *proofs);
    char *bad = calloc(n, 1);
    uint64_t *ch = malloc(c->count * sizeof *ch);
    res->faulty = malloc(n * sizeof *res->faulty);
    res->proven = malloc(n * sizeof *res->proven);
    res->faulty_errors = malloc(n * sizeof *res->faulty_errors);
    if (!proofs || !bad || !ch || !res->faulty || !res->proven || !res->faulty_errors) {
        st = pf_cm_fail(err, PF_ENOMEM, "out of memory for %zu sectors", n);
        goto done;
    }
    pf_error last = { PF_OK, "" };
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        if ((st = pf_post_sector_challenges(c->info->id, randomness, pos, sorted[i]->sector_id,
                                            ch, err)))
            goto done;
        pf_error e;
        if (vanilla_prove(c, sorted[i], ch, c->count, &proofs[i], &e)) {
            if (e.status == PF_ENOMEM || e.status == PF_EINVAL) {
                st = e.status;
                if (err)
                    *err = e;
                goto done;
            }
            bad[i] = 1;
            last = e;
            res->faulty_errors[res->nfaulty] = e;
            res->faulty[res->nfaulty++] = sorted[i]->sector_id;
            continue;
        }
        pos++;
    }
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (bad[i])
            continue;
        res->proven[np].sector_id = sorted[i]->sector_id;
        memcpy(res->proven[np].comm_r, sorted[i]->comm_r, 32);
        proofs[np++] = proofs[i];
    }
    res->nproven = np;
    if (np == 0) {
        st = pf_cm_fail(err, PF_EVERIFY, "no sector could be proven (%zu faulty; last: %s)",
                        res->nfaulty, last.msg);
        goto done;
    }
    st = encode_post(c, proofs, np, res, err);
    for (size_t i = 0; i < np; i++)
        pf_post_vanilla_proof_free(&proofs[i]);
    free(proofs);
    proofs = NULL;
done:
    if (proofs)
        for (size_t i = 0; i < n; i++)
            pf_post_vanilla_proof_free(&proofs[i]);
    free(proofs);
    free(bad);
    free(ch);
    return st;
}

static pf_status generate_post(int post_proof_id, int winning, const uint8_t randomness[32],
                               const uint8_t prover_id[32], const pf_post_replica *replicas,
                               size_t n, pf_post_result *res, pf_error *err)
{
    post_ctx c;
    memset(res, 0, sizeof *res);
    pf_status st = post_ctx_init(&c, post_proof_id, err);
    if (st)
        return st;
    if (c.info->winning != winning)
        return pf_cm_fail(err, PF_EINVAL, "%s is not a %s PoSt proof", c.info->name,
                          winning ? "Winning" : "Window");
    if (!pf_cm_fr_valid(randomness))
        return pf_cm_fail(err, PF_EINVAL, "PoSt randomness is not a canonical field element "
                          "(clear the top two bits: rand[31] &= 0x3f)");
    if (!pf_cm_fr_valid(prover_id))
        return pf_cm_fail(err, PF_EINVAL, "prover_id is not a canonical field element");
    if (n == 0 || (winning && n != c.info->sector_count))
        return pf_cm_fail(err, PF_EINVAL, "%s: %zu sectors given, %s", c.info->name, n,
                          winning ? "Winning PoSt proves exactly 1" : "need at least one");
    const pf_post_replica **sorted = malloc(n * sizeof *sorted);
    if (!sorted)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        sorted[i] = &replicas[i];
    qsort(sorted, n, sizeof *sorted, cmp_replica);
    for (size_t i = 1; i < n; i++)
        if (sorted[i]->sector_id == sorted[i - 1]->sector_id) {
            uint64_t dup = sorted[i]->sector_id;
            free(sorted);
            return pf_cm_fail(err, PF_EINVAL, "sector %llu is given twice",
                              (unsigned long long)dup);
        }
    st = prove_all(&c, randomness, sorted, n, res, err);
    free(sorted);
    if (st && st != PF_EVERIFY) {
        pf_post_result_free(res);
        return st;
    }
    if (!st)
        pf_cm_ok(err);
    return st;
}

pf_status pf_generate_window_post(int post_proof_id, const uint8_t randomness[32],
                                  const uint8_t prover_id[32], const pf_post_replica *replicas,
                                  size_t n, pf_post_result *res, pf_error *err)
{
    return generate_post(post_proof_id, 0, randomness, prover_id, replicas, n, res, err);
}

pf_status pf_generate_winning_post(int post_proof_id, const uint8_t randomness[32],
                                   const uint8_t prover_id[32], const pf_post_replica *replicas,
                                   size_t n, pf_post_result *res, pf_error *err)
{
    return generate_post(post_proof_id, 1, randomness, prover_id, replicas, n, res, err);
}

static pf_status verify_post(int post_proof_id, int winning, const uint8_t randomness[32],
                             const uint8_t prover_id[32], const pf_post_public_replica *replicas,
                             size_t n, const uint8_t *proof, size_t proof_len, pf_error *err)
{
    post_ctx c;
    pf_status st = post_ctx_init(&c, post_proof_id, err);
    if (st)
        return st;
    if (c.info->winning != winning)
        return pf_cm_fail(err, PF_EINVAL, "%s is not a %s PoSt proof", c.info->name,
                          winning ? "Winning" : "Window");
    if (!pf_cm_fr_valid(randomness) || !pf_cm_fr_valid(prover_id))
        return pf_cm_fail(err, PF_EINVAL, "%s is not a canonical field element",
                          pf_cm_fr_valid(randomness) ? "prover_id" : "randomness");
    if (n == 0 || (winning && n != c.info->sector_count))
        return pf_cm_fail(err, PF_EINVAL, "%s: %zu sectors to verify", c.info->name, n);
    size_t rs = sector_record_size(&c);
    if (!proof || proof_len < PS_HEADER_LEN || memcmp(proof, ps_magic, 4) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "not a native PoSt proof (bad magic or too short)");
    if (pf_get_le32(proof + 4) != PF_POST_PROOF_VERSION ||
        pf_get_le32(proof + 8) != (uint32_t)post_proof_id)
        return pf_cm_fail(err, PF_EVERIFY, "PoSt proof version %u for proof %u, expected "
                          "version %d for %d", pf_get_le32(proof + 4), pf_get_le32(proof + 8),
                          PF_POST_PROOF_VERSION, post_proof_id);
    if (pf_get_le32(proof + 12) != n || pf_get_le32(proof + 16) != c.count)
        return pf_cm_fail(err, PF_EVERIFY, "PoSt proof covers %u sectors x %u challenges, "
                          "expected %zu x %zu", pf_get_le32(proof + 12), pf_get_le32(proof + 16),
                          n, c.count);
    if (proof_len != PS_HEADER_LEN + n * rs)
        return pf_cm_fail(err, PF_EVERIFY, "PoSt proof of %zu bytes, expected exactly %zu",
                          proof_len, PS_HEADER_LEN + n * rs);
    pf_post_public_replica *sorted = malloc(n * sizeof *sorted);
    uint64_t *ch = malloc(c.count * sizeof *ch);
    pf_post_vanilla_proof vp;
    memset(&vp, 0, sizeof vp);
    vp.sector.inclusion_proofs = calloc(c.count, sizeof *vp.sector.inclusion_proofs);
    pf_hash_memo *memo = pf_hash_memo_new();
    if (!sorted || !ch || !vp.sector.inclusion_proofs || !memo) {
        st = pf_cm_fail(err, PF_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(sorted, replicas, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_public);
    vp.sector.count = c.count;
    const uint8_t *r = proof + PS_HEADER_LEN;
    for (size_t i = 0; i < n && !st; i++) {
        if (i && sorted[i].sector_id == sorted[i - 1].sector_id) {
            st = pf_cm_fail(err, PF_EINVAL, "sector %llu is given twice",
                            (unsigned long long)sorted[i].sector_id);
            break;
        }
        vp.sector_id = pf_get_le64(r);
        memcpy(vp.comm_r, sorted[i].comm_r, 32);
        memcpy(vp.sector.comm_c, r + 8, 32);
        memcpy(vp.sector.comm_r_last, r + 40, 32);
        r += 72;
        if ((st = pf_post_sector_challenges(post_proof_id, randomness, i, sorted[i].sector_id, ch,
                                            err)))
            break;
        for (size_t j = 0; j < c.count; j++) {
            pf_merkle_proof *mp = &vp.sector.inclusion_proofs[j];
            pf_shape_path_layout(&c.shape, ch[j], mp);
            memcpy(mp->root, vp.sector.comm_r_last, 32);
            memcpy(mp->leaf, r, 32);
            memcpy(mp->hashes, r + 32, (size_t)c.r_hashes * 32);
            r += 32 * (1 + (size_t)c.r_hashes);
        }
        st = vanilla_verify(&c, ch, &sorted[i], &vp, memo, err);
    }
done:
    pf_hash_memo_free(memo);
    free(sorted);
    free(ch);
    pf_post_vanilla_proof_free(&vp);
    if (!st)
        pf_cm_ok(err);
    return st;
}

pf_status pf_verify_window_post(int post_proof_id, const uint8_t randomness[32],
                                const uint8_t prover_id[32],
                                const pf_post_public_replica *replicas, size_t n,
                                const uint8_t *proof, size_t proof_len, pf_error *err)
{
    return verify_post(post_proof_id, 0, randomness, prover_id, replicas, n, proof, proof_len,
                       err);
}

pf_status pf_verify_winning_post(int post_proof_id, const uint8_t randomness[32],
                                 const uint8_t prover_id[32],
                                 const pf_post_public_replica *replicas, size_t n,
                                 const uint8_t *proof, size_t proof_len, pf_error *err)
{
    return verify_post(post_proof_id, 1, randomness, prover_id, replicas, n, proof, proof_len,
                       err);
}
