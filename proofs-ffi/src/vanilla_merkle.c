/* vanilla_merkle.c — Merkle inclusion proofs as rust-fil-proofs models them
 * (storage-proofs-core merkle/proof.rs): path layouts of tree_d and of the sector-shaped
 * Poseidon trees, conversion from the paths pc2's code reads, root recomputation and
 * verification; and the geometry of a seal proof's challenge records. */
#include "commit_internal.h"

#include <stdlib.h>

#include "poseidon.h"
#include "sha256.h"

/* ---- Poseidon memo ---- */

#define MEMO_MAX_ENTRIES (1u << 16)

typedef struct memo_entry {
    uint8_t key[32];
    uint8_t out[32];
    uint8_t used;
} memo_entry;

struct pf_hash_memo {
    memo_entry *e;
    size_t cap, used;        /* cap is a power of two */
};

pf_hash_memo *pf_hash_memo_new(void)
{
    pf_hash_memo *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->cap = 256;
    m->e = calloc(m->cap, sizeof *m->e);
    if (!m->e) {
        free(m);
        return NULL;
    }
    return m;
}

void pf_hash_memo_free(pf_hash_memo *m)
{
    if (m)
        free(m->e);
    free(m);
}

static memo_entry *memo_slot(memo_entry *e, size_t cap, const uint8_t key[32])
{
    size_t i = (size_t)pf_get_le64(key) & (cap - 1);
    while (e[i].used && memcmp(e[i].key, key, 32) != 0)
        i = (i + 1) & (cap - 1);
    return &e[i];
}

/* Doubles the table; on allocation failure it simply stays as it is. */
static void memo_grow(pf_hash_memo *m)
{
    size_t cap = m->cap * 2;
    memo_entry *e = calloc(cap, sizeof *e);
    if (!e)
        return;
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].used)
            *memo_slot(e, cap, m->e[i].key) = m->e[i];
    free(m->e);
    m->e = e;
    m->cap = cap;
}

long pf_memo_poseidon(pf_hash_memo *m, int arity, const uint8_t *in, uint8_t out[32])
{
    const pf_poseidon_consts *c = pf_poseidon_get(arity);
    if (!c)
        return 0;
    if (!m)
        return pf_poseidon_batch_nodes(c, in, 1, out);
    uint8_t key[32], a = (uint8_t)arity;
    pf_sha256_ctx h;
    pf_sha256_init(&h);
    pf_sha256_update(&h, &a, 1);
    pf_sha256_update(&h, in, (size_t)arity * 32);
    pf_sha256_final(&h, key);
    memo_entry *slot = memo_slot(m->e, m->cap, key);
    if (slot->used) {
        memcpy(out, slot->out, 32);
        return -1;
    }
    long bad = pf_poseidon_batch_nodes(c, in, 1, out);
    if (bad >= 0 || m->used >= MEMO_MAX_ENTRIES)
        return bad;
    if (2 * (m->used + 1) > m->cap) {
        memo_grow(m);
        slot = memo_slot(m->e, m->cap, key);
        if (2 * (m->used + 1) > m->cap)
            return -1;
    }
    memcpy(slot->key, key, 32);
    memcpy(slot->out, out, 32);
    slot->used = 1;
    m->used++;
    return -1;
}

static int log2_u64(uint64_t v)
{
    return 63 - __builtin_clzll(v);
}

void pf_shape_path_dims(const pf_tree_shape *s, uint32_t *levels, uint32_t *hashes)
{
    uint32_t base = (uint32_t)(s->base_rows - 1);
    uint32_t l = base, h = base * (uint32_t)(s->base_arity - 1);
    if (s->sub_arity) {
        l++;
        h += (uint32_t)(s->sub_arity - 1);
    }
    if (s->top_arity) {
        l++;
        h += (uint32_t)(s->top_arity - 1);
    }
    *levels = l;
    *hashes = h;
}

void pf_shape_path_layout(const pf_tree_shape *s, uint64_t node, pf_merkle_proof *p)
{
    uint64_t li = node % s->base_leaves;
    int tree = (int)(node / s->base_leaves), shift = log2_u64((uint64_t)s->base_arity);
    uint32_t l = 0;
    for (int r = 0; r + 1 < s->base_rows; r++, l++) {
        p->arity[l] = (uint8_t)s->base_arity;
        p->index[l] = (uint32_t)((li >> (shift * r)) % (uint64_t)s->base_arity);
    }
    p->kind = PF_MERKLE_SINGLE;
    if (s->sub_arity) {
        p->arity[l] = (uint8_t)s->sub_arity;
        p->index[l++] = (uint32_t)(tree % s->sub_arity);
        p->kind = PF_MERKLE_SUB;
    }
    if (s->top_arity) {
        p->arity[l] = (uint8_t)s->top_arity;
        p->index[l++] = (uint32_t)(tree / s->sub_arity);
        p->kind = PF_MERKLE_TOP;
    }
    p->levels = l;
}

void pf_tree_d_path_layout(uint64_t nodes, uint64_t node, pf_merkle_proof *p)
{
    uint32_t levels = (uint32_t)log2_u64(nodes);
    p->kind = PF_MERKLE_SINGLE;
    p->levels = levels;
    for (uint32_t l = 0; l < levels; l++) {
        p->arity[l] = 2;
        p->index[l] = (uint32_t)((node >> l) & 1);
    }
}

pf_status pf_commit_geom_init(pf_commit_geom *g, int proof_id, pf_error *err)
{
    memset(g, 0, sizeof *g);
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return pf_cm_fail(err, PF_EINVAL, "seal proof id %d is not registered (0..19)", proof_id);
    pf_status st = pf_tree_shape_for_proof(proof_id, &g->shape, err);
    if (st)
        return st;
    if (info->layers < 1 || info->layers > PF_MAX_LAYERS)
        return pf_cm_fail(err, PF_EINTERNAL, "%s has %d layers (at most %d supported)",
                          info->name, info->layers, PF_MAX_LAYERS);
    g->proof_id = proof_id;
    g->info = info;
    g->nodes = info->nodes;
    g->layers = (uint32_t)info->layers;
    g->d_levels = (uint32_t)log2_u64(info->nodes);
    pf_shape_path_dims(&g->shape, &g->r_levels, &g->r_hashes);
    if (g->d_levels > PF_MERKLE_MAX_LEVELS || g->r_levels > PF_MERKLE_MAX_LEVELS ||
        g->r_hashes > PF_MERKLE_MAX_HASHES)
        return pf_cm_fail(err, PF_EINTERNAL, "%s: paths exceed PF_MERKLE_MAX_*", info->name);
    g->partitions = (uint32_t)info->partitions;
    g->challenges = (uint32_t)info->challenges_per_partition;
    g->record_size = 8 * (1 + PF_DEGREE) + 32 * (1 + (size_t)g->d_levels) +
                     (1 + PF_DEGREE) * 32 * ((size_t)g->layers + 1 + g->r_hashes) +
                     32 * (1 + (size_t)g->r_hashes);
    pf_cm_ok(err);
    return PF_OK;
}

uint64_t pf_merkle_proof_node(const pf_merkle_proof *p)
{
    uint64_t node = 0, weight = 1;
    for (uint32_t l = 0; l < p->levels && l < PF_MERKLE_MAX_LEVELS; l++) {
        node += (uint64_t)p->index[l] * weight;
        weight *= p->arity[l];
    }
    return node;
}

int pf_merkle_proof_hash_offset(const pf_merkle_proof *p, uint32_t l)
{
    if (l >= p->levels || l >= PF_MERKLE_MAX_LEVELS)
        return -1;
    int off = 0;
    for (uint32_t i = 0; i < l; i++)
        off += p->arity[i] - 1;
    return off;
}

pf_status pf_merkle_from_tree_path(const pf_tree_shape *s, const pf_tree_path *tp,
                                   pf_merkle_proof *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    pf_shape_path_layout(s, tp->node, out);
    if ((uint32_t)tp->levels != out->levels)
        return pf_cm_fail(err, PF_EINTERNAL, "path of node %llu has %d levels, shape needs %u",
                          (unsigned long long)tp->node, tp->levels, out->levels);
    int k = 0;
    for (uint32_t l = 0; l < out->levels; l++) {
        if (tp->level[l].arity != out->arity[l] || tp->level[l].index != out->index[l])
            return pf_cm_fail(err, PF_EINTERNAL, "path of node %llu: level %u is arity %d index "
                              "%u, expected %u/%u", (unsigned long long)tp->node, l,
                              tp->level[l].arity, tp->level[l].index, out->arity[l],
                              out->index[l]);
        for (int i = 0; i < out->arity[l] - 1; i++)
            memcpy(out->hashes[k++], tp->level[l].siblings[i], 32);
    }
    memcpy(out->leaf, tp->leaf, 32);
    memcpy(out->root, tp->root, 32);
    return PF_OK;
}

pf_status pf_merkle_proof_compute_root(const pf_merkle_proof *p, pf_merkle_hash hash,
                                       uint8_t root[32], pf_error *err)
{
    return pf_merkle_root_memo(p, hash, NULL, root, err);
}

pf_status pf_merkle_root_memo(const pf_merkle_proof *p, pf_merkle_hash hash, pf_hash_memo *m,
                              uint8_t root[32], pf_error *err)
{
    if (p->levels > PF_MERKLE_MAX_LEVELS)
        return pf_cm_fail(err, PF_EINVAL, "Merkle path has %u levels (at most %d)", p->levels,
                          PF_MERKLE_MAX_LEVELS);
    uint8_t cur[32], group[16 * 32];
    memcpy(cur, p->leaf, 32);
    int k = 0;
    for (uint32_t l = 0; l < p->levels; l++) {
        int a = p->arity[l];
        if (a < 2 || a > 16 || p->index[l] >= (uint32_t)a || k + a - 1 > PF_MERKLE_MAX_HASHES ||
            (hash == PF_HASH_SHA256 && a != 2))
            return pf_cm_fail(err, PF_EINVAL, "Merkle path level %u: arity %d, index %u", l, a,
                              p->index[l]);
        for (int i = 0, s = 0; i < a; i++)
            memcpy(group + 32 * i, (uint32_t)i == p->index[l] ? cur : p->hashes[k + s++], 32);
        k += a - 1;
        if (hash == PF_HASH_SHA256) {
            pf_sha256_node(group, group + 32, cur);
            continue;
        }
        if (!pf_poseidon_get(a))
            return pf_cm_fail(err, PF_ENOMEM, "out of memory building Poseidon constants");
        long bad = pf_memo_poseidon(m, a, group, cur);
        if (bad >= 0)
            return pf_cm_fail(err, PF_EINVAL, "Merkle path level %u: input %ld is not a "
                              "canonical field element", l, bad);
    }
    memcpy(root, cur, 32);
    return PF_OK;
}

pf_status pf_merkle_proof_verify(const pf_merkle_proof *p, pf_merkle_hash hash, uint64_t node,
                                 const char *what, pf_error *err)
{
    return pf_merkle_verify_memo(p, hash, node, what, NULL, err);
}

pf_status pf_merkle_verify_memo(const pf_merkle_proof *p, pf_merkle_hash hash, uint64_t node,
                                const char *what, pf_hash_memo *m, pf_error *err)
{
    uint8_t root[32];
    pf_status st = pf_merkle_root_memo(p, hash, m, root, err);
    if (st) {
        if (st == PF_EINVAL && err) {
            err->status = PF_EVERIFY;
            pf_cm_prefix(err, "%s", what);
        }
        return st == PF_EINVAL ? PF_EVERIFY : st;
    }
    if (pf_merkle_proof_node(p) != node)
        return pf_cm_fail(err, PF_EVERIFY, "%s: the path leads to node %llu, not %llu", what,
                          (unsigned long long)pf_merkle_proof_node(p), (unsigned long long)node);
    if (memcmp(root, p->root, 32) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "%s: the path of node %llu does not lead to its root",
                          what, (unsigned long long)node);
    pf_cm_ok(err);
    return PF_OK;
}

pf_status pf_check_comm_r(const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                          const uint8_t comm_r[32], const char *where, pf_error *err)
{
    uint8_t got[32];
    pf_status st = pf_comm_r(comm_c, comm_r_last, got, err);
    if (st) {
        pf_cm_prefix(err, "%s", where);
        return st == PF_EINVAL ? PF_EVERIFY : st;
    }
    if (memcmp(got, comm_r, 32) != 0)
        return pf_cm_fail(err, PF_EVERIFY, "%s: Poseidon(comm_c, comm_r_last) is not comm_r",
                          where);
    return PF_OK;
}
