/* format_vanilla.c — the serde walk of rust's vanilla proof pieces, shared by the C1 and
 * PoSt formats: MerkleProof (storage-proofs-core merkle/proof.rs: ProofData
 * Single/Sub/Top, InclusionPath, PathElement) and stacked::Proof
 * (storage-proofs-porep stacked/vanilla: ReplicaColumnProof, ColumnProof, Column,
 * LabelingProof, EncodingProof), checked against the tree shape and layer count of the
 * registered proof in both directions. */
#include "format_internal.h"

#include <string.h>

static const char *const merkle_variants[] = { "Single", "Sub", "Top" };

static int log2_u64(uint64_t v)
{
    return 63 - __builtin_clzll(v);
}

void fmt_tree_d(uint64_t nodes, fmt_tree *t)
{
    memset(t, 0, sizeof *t);
    t->kind = PF_MERKLE_SINGLE;
    t->base_levels = (uint32_t)log2_u64(nodes);
    t->base_arity = 2;
}

void fmt_tree_of_shape(const pf_tree_shape *s, fmt_tree *t)
{
    memset(t, 0, sizeof *t);
    t->base_levels = (uint32_t)(s->base_rows - 1);
    t->base_arity = (uint8_t)s->base_arity;
    t->sub_arity = (uint8_t)s->sub_arity;
    t->top_arity = (uint8_t)s->top_arity;
    t->kind = s->top_arity ? PF_MERKLE_TOP : s->sub_arity ? PF_MERKLE_SUB : PF_MERKLE_SINGLE;
}

static uint32_t tree_levels(const fmt_tree *t)
{
    return t->base_levels + (t->sub_arity ? 1 : 0) + (t->top_arity ? 1 : 0);
}

/* Arity of level l (base levels, then sub, then top). */
static uint32_t level_arity(const fmt_tree *t, uint32_t l)
{
    if (l < t->base_levels)
        return t->base_arity;
    return l == t->base_levels && t->sub_arity ? t->sub_arity : t->top_arity;
}

/* Index in pf_merkle_proof.hashes of level l's first hash. */
static uint32_t level_hash_offset(const fmt_tree *t, uint32_t l)
{
    uint32_t off = 0;
    for (uint32_t i = 0; i < l; i++)
        off += level_arity(t, i) - 1;
    return off;
}

static size_t path_bin_size(uint32_t levels, uint32_t arity)
{
    return 8 + (size_t)levels * (8 + (size_t)(arity - 1) * 32 + 8);
}

size_t fmt_merkle_bin_size(const fmt_tree *t)
{
    size_t n = 4 + 64 + path_bin_size(t->base_levels, t->base_arity);
    if (t->sub_arity)
        n += path_bin_size(1, t->sub_arity);
    if (t->top_arity)
        n += path_bin_size(1, t->top_arity);
    return n;
}

/* ---- MerkleProof: encode ---- */

static void fe_path(fmt_enc *e, const fmt_tree *t, const pf_merkle_proof *p, uint32_t first,
                    uint32_t count)
{
    fe_struct_begin(e);
    fe_field(e, "path");
    fe_seq_begin(e, count);
    for (uint32_t l = first; l < first + count; l++) {
        uint32_t arity = level_arity(t, l), off = level_hash_offset(t, l);
        fe_elem(e);
        fe_struct_begin(e);
        fe_field(e, "hashes");
        fe_seq_begin(e, arity - 1);
        for (uint32_t h = 0; h + 1 < arity; h++) {
            fe_elem(e);
            fe_domain(e, p->hashes[off + h]);
        }
        fe_seq_end(e);
        fe_field(e, "index");
        fe_u64(e, p->index[l]);
        fe_struct_end(e);
    }
    fe_seq_end(e);
    fe_struct_end(e);
}

pf_status fe_merkle(fmt_enc *e, const fmt_tree *t, const pf_merkle_proof *p, const char *what,
                    pf_error *err)
{
    uint32_t levels = tree_levels(t);
    if (p->kind != t->kind || p->levels != levels)
        return pf_cm_fail(err, PF_EINVAL, "%s: a %s proof of %u levels, the tree needs %s of %u",
                          what, merkle_variants[p->kind % 3], p->levels,
                          merkle_variants[t->kind % 3], levels);
    if (level_hash_offset(t, levels) > PF_MERKLE_MAX_HASHES)
        return pf_cm_fail(err, PF_EINTERNAL, "%s: path longer than PF_MERKLE_MAX_HASHES", what);
    for (uint32_t l = 0; l < levels; l++)
        if (p->arity[l] != level_arity(t, l) || p->index[l] >= p->arity[l])
            return pf_cm_fail(err, PF_EINVAL, "%s: level %u has arity %u and index %u, the tree "
                              "needs arity %u", what, l, p->arity[l], p->index[l],
                              level_arity(t, l));
    fe_struct_begin(e);
    fe_field(e, "data");
    fe_variant_begin(e, (uint32_t)t->kind, merkle_variants[t->kind]);
    fe_struct_begin(e);
    if (t->kind == PF_MERKLE_SINGLE) {
        fe_field(e, "root");
        fe_domain(e, p->root);
        fe_field(e, "leaf");
        fe_domain(e, p->leaf);
        fe_field(e, "path");
        fe_path(e, t, p, 0, t->base_levels);
    } else {
        fe_field(e, "base_proof");
        fe_path(e, t, p, 0, t->base_levels);
        fe_field(e, "sub_proof");
        fe_path(e, t, p, t->base_levels, 1);
        if (t->kind == PF_MERKLE_TOP) {
            fe_field(e, "top_proof");
            fe_path(e, t, p, t->base_levels + 1, 1);
        }
        fe_field(e, "root");
        fe_domain(e, p->root);
        fe_field(e, "leaf");
        fe_domain(e, p->leaf);
    }
    fe_struct_end(e);
    fe_variant_end(e);
    fe_struct_end(e);
    return PF_OK;
}

/* ---- MerkleProof: decode ---- */

static const char *const path_fields[] = { "path" };
static const char *const element_fields[] = { "hashes", "index" };

static int fd_element(fmt_dec *d, const fmt_tree *t, uint32_t l, pf_merkle_proof *p)
{
    uint32_t arity = level_arity(t, l), off = level_hash_offset(t, l);
    int f, got_hashes = 0;
    if (fd_struct_begin(d, 2))
        return -1;
    while ((f = fd_field(d, element_fields, 2)) >= 0) {
        size_t mark = fd_push(d, element_fields[f]);
        if (f == 0) {
            if (fd_seq_begin(d, arity - 1, 32))
                return -1;
            uint32_t h = 0;
            int more;
            while ((more = fd_seq_next(d)) > 0)
                if (fd_domain(d, p->hashes[off + h++]))
                    return -1;
            if (more < 0)
                return -1;
            if (h != arity - 1)
                return fd_fail(d, "%u hashes, a level of arity %u has %u", h, arity, arity - 1);
            got_hashes = 1;
        } else {
            uint64_t index;
            if (fd_u64(d, &index))
                return -1;
            if (index >= arity)
                return fd_fail(d, "index %llu, the level has arity %u",
                               (unsigned long long)index, arity);
            p->index[l] = (uint32_t)index;
        }
        fd_pop(d, mark);
    }
    return f == -1 && got_hashes ? 0 : -1;
}

/* An InclusionPath of exactly `count` levels starting at level `first`. */
static int fd_path(fmt_dec *d, const fmt_tree *t, uint32_t first, uint32_t count,
                   pf_merkle_proof *p)
{
    int f;
    if (fd_struct_begin(d, 1))
        return -1;
    while ((f = fd_field(d, path_fields, 1)) >= 0) {
        size_t mark = fd_push(d, "path");
        uint32_t arity = level_arity(t, first);
        if (fd_seq_begin(d, count, 16 + (size_t)(arity - 1) * 32))
            return -1;
        uint32_t n = 0;
        int more;
        while ((more = fd_seq_next(d)) > 0) {
            size_t m2 = fd_push_index(d, n);
            if (fd_element(d, t, first + n, p))
                return -1;
            fd_pop(d, m2);
            n++;
        }
        if (more < 0)
            return -1;
        if (n != count)
            return fd_fail(d, "a path of %u levels, the tree needs %u", n, count);
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

static const char *const single_fields[] = { "root", "leaf", "path" };
static const char *const sub_fields[] = { "base_proof", "sub_proof", "root", "leaf" };
static const char *const top_fields[] = { "base_proof", "sub_proof", "top_proof", "root",
                                          "leaf" };
static const char *const proof_fields[] = { "data" };

static int fd_proof_data(fmt_dec *d, const fmt_tree *t, pf_merkle_proof *p)
{
    int kind = fd_variant_begin(d, merkle_variants, 3);
    if (kind < 0)
        return -1;
    if (kind != (int)t->kind)
        return fd_fail(d, "a %s proof, the tree shape needs %s", merkle_variants[kind],
                       merkle_variants[t->kind]);
    p->kind = (pf_merkle_kind)kind;
    const char *const *names = kind == 0 ? single_fields : kind == 1 ? sub_fields : top_fields;
    int n = kind == 0 ? 3 : kind == 1 ? 4 : 5, f;
    if (fd_struct_begin(d, n))
        return -1;
    while ((f = fd_field(d, names, n)) >= 0) {
        size_t mark = fd_push(d, names[f]);
        const char *name = names[f];
        int rc;
        if (!strcmp(name, "root"))
            rc = fd_domain(d, p->root);
        else if (!strcmp(name, "leaf"))
            rc = fd_domain(d, p->leaf);
        else if (!strcmp(name, "path") || !strcmp(name, "base_proof"))
            rc = fd_path(d, t, 0, t->base_levels, p);
        else if (!strcmp(name, "sub_proof"))
            rc = fd_path(d, t, t->base_levels, 1, p);
        else
            rc = fd_path(d, t, t->base_levels + 1, 1, p);
        if (rc)
            return -1;
        fd_pop(d, mark);
    }
    if (f != -1)
        return -1;
    return fd_variant_end(d);
}

int fd_merkle(fmt_dec *d, const fmt_tree *t, pf_merkle_proof *p)
{
    memset(p, 0, sizeof *p);
    uint32_t levels = tree_levels(t);
    if (levels > PF_MERKLE_MAX_LEVELS || level_hash_offset(t, levels) > PF_MERKLE_MAX_HASHES)
        return fd_fail(d, "internal: tree of %u levels does not fit pf_merkle_proof", levels);
    p->levels = levels;
    for (uint32_t l = 0; l < levels; l++)
        p->arity[l] = (uint8_t)level_arity(t, l);
    int f;
    if (fd_struct_begin(d, 1))
        return -1;
    while ((f = fd_field(d, proof_fields, 1)) >= 0) {
        size_t mark = fd_push(d, "data");
        if (fd_proof_data(d, t, p))
            return -1;
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

/* ---- stacked::Proof ---- */

static void porep_trees(const pf_commit_geom *g, fmt_tree *td, fmt_tree *tr)
{
    fmt_tree_d(g->nodes, td);
    fmt_tree_of_shape(&g->shape, tr);
}

static size_t column_bin_size(const pf_commit_geom *g, const fmt_tree *tr)
{
    return 4 + 8 + (size_t)g->layers * 32 + fmt_merkle_bin_size(tr);
}

#define LABELING_BIN_SIZE (8 + PF_LABEL_PARENTS * 32 + 4 + 8)

size_t fmt_porep_proof_bin_size(const pf_commit_geom *g)
{
    fmt_tree td, tr;
    porep_trees(g, &td, &tr);
    return fmt_merkle_bin_size(&td) + fmt_merkle_bin_size(&tr) +
           (1 + PF_DEGREE) * column_bin_size(g, &tr) + 16 + 8 +
           (g->layers + 1) * (size_t)LABELING_BIN_SIZE;
}

static pf_status fe_column(fmt_enc *e, const pf_commit_geom *g, const fmt_tree *tr,
                           const pf_column_proof *c, const char *what, pf_error *err)
{
    if (c->layers != g->layers)
        return pf_cm_fail(err, PF_EINVAL, "%s: a column of %u rows, %s has %u layers", what,
                          c->layers, g->info->name, g->layers);
    fe_struct_begin(e);
    fe_field(e, "column");
    fe_struct_begin(e);
    fe_field(e, "index");
    fe_u32(e, c->index);
    fe_field(e, "rows");
    fe_seq_begin(e, c->layers);
    for (uint32_t l = 0; l < c->layers; l++) {
        fe_elem(e);
        fe_domain(e, c->rows[l]);
    }
    fe_seq_end(e);
    fe_field(e, "_h");
    fe_unit(e);
    fe_struct_end(e);
    fe_field(e, "inclusion_proof");
    pf_status st = fe_merkle(e, tr, &c->inclusion_proof, what, err);
    fe_struct_end(e);
    return st;
}

static void fe_labeling(fmt_enc *e, const pf_labeling_proof *lp)
{
    fe_struct_begin(e);
    fe_field(e, "parents");
    fe_seq_begin(e, PF_LABEL_PARENTS);
    for (int i = 0; i < PF_LABEL_PARENTS; i++) {
        fe_elem(e);
        fe_domain(e, lp->parents[i]);
    }
    fe_seq_end(e);
    fe_field(e, "layer_index");
    fe_u32(e, lp->layer_index);
    fe_field(e, "node");
    fe_u64(e, lp->node);
    fe_struct_end(e);
}

pf_status fe_porep_proof(fmt_enc *e, const pf_commit_geom *g, const pf_porep_vanilla_proof *p,
                         const char *what, pf_error *err)
{
    fmt_tree td, tr;
    porep_trees(g, &td, &tr);
    if (p->layers != g->layers)
        return pf_cm_fail(err, PF_EINVAL, "%s: %u labeling proofs, %s has %u layers", what,
                          p->layers, g->info->name, g->layers);
    char sub[160];
    pf_status st;
    fe_struct_begin(e);
    fe_field(e, "comm_d_proofs");
    snprintf(sub, sizeof sub, "%s.comm_d_proofs", what);
    if ((st = fe_merkle(e, &td, &p->comm_d_proofs, sub, err)))
        return st;
    fe_field(e, "comm_r_last_proof");
    snprintf(sub, sizeof sub, "%s.comm_r_last_proof", what);
    if ((st = fe_merkle(e, &tr, &p->comm_r_last_proof, sub, err)))
        return st;
    fe_field(e, "replica_column_proofs");
    fe_struct_begin(e);
    fe_field(e, "c_x");
    snprintf(sub, sizeof sub, "%s.c_x", what);
    if ((st = fe_column(e, g, &tr, &p->replica_column_proofs.c_x, sub, err)))
        return st;
    fe_field(e, "drg_parents");
    fe_seq_begin(e, PF_BASE_DEGREE);
    for (int i = 0; i < PF_BASE_DEGREE; i++) {
        fe_elem(e);
        snprintf(sub, sizeof sub, "%s.drg_parents[%d]", what, i);
        if ((st = fe_column(e, g, &tr, &p->replica_column_proofs.drg_parents[i], sub, err)))
            return st;
    }
    fe_seq_end(e);
    fe_field(e, "exp_parents");
    fe_seq_begin(e, PF_EXP_DEGREE);
    for (int i = 0; i < PF_EXP_DEGREE; i++) {
        fe_elem(e);
        snprintf(sub, sizeof sub, "%s.exp_parents[%d]", what, i);
        if ((st = fe_column(e, g, &tr, &p->replica_column_proofs.exp_parents[i], sub, err)))
            return st;
    }
    fe_seq_end(e);
    fe_struct_end(e);
    fe_field(e, "labeling_proofs");
    fe_seq_begin(e, p->layers);
    for (uint32_t l = 0; l < p->layers; l++) {
        fe_elem(e);
        fe_labeling(e, &p->labeling_proofs[l]);
    }
    fe_seq_end(e);
    fe_field(e, "encoding_proof");
    fe_labeling(e, &p->encoding_proof);
    fe_struct_end(e);
    return PF_OK;
}

static const char *const column_proof_fields[] = { "column", "inclusion_proof" };
static const char *const column_fields[] = { "index", "rows", "_h" };

static int fd_column_body(fmt_dec *d, const pf_commit_geom *g, pf_column_proof *c)
{
    int f;
    if (fd_struct_begin(d, 3))
        return -1;
    while ((f = fd_field(d, column_fields, 3)) >= 0) {
        size_t mark = fd_push(d, column_fields[f]);
        if (f == 0) {
            if (fd_u32(d, &c->index))
                return -1;
        } else if (f == 1) {
            if (fd_seq_begin(d, g->layers, 32))
                return -1;
            uint32_t n = 0;
            int more;
            while ((more = fd_seq_next(d)) > 0)
                if (fd_domain(d, c->rows[n++]))
                    return -1;
            if (more < 0)
                return -1;
            if (n != g->layers)
                return fd_fail(d, "a column of %u rows, %s has %u layers", n, g->info->name,
                               g->layers);
            c->layers = n;
        } else if (fd_unit(d)) {
            return -1;
        }
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

static int fd_column(fmt_dec *d, const pf_commit_geom *g, const fmt_tree *tr,
                     pf_column_proof *c)
{
    int f;
    memset(c, 0, sizeof *c);
    if (fd_struct_begin(d, 2))
        return -1;
    while ((f = fd_field(d, column_proof_fields, 2)) >= 0) {
        size_t mark = fd_push(d, column_proof_fields[f]);
        if (f == 0 ? fd_column_body(d, g, c) : fd_merkle(d, tr, &c->inclusion_proof))
            return -1;
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

static const char *const labeling_fields[] = { "parents", "layer_index", "node" };

static int fd_labeling(fmt_dec *d, pf_labeling_proof *lp)
{
    int f;
    memset(lp, 0, sizeof *lp);
    if (fd_struct_begin(d, 3))
        return -1;
    while ((f = fd_field(d, labeling_fields, 3)) >= 0) {
        size_t mark = fd_push(d, labeling_fields[f]);
        if (f == 0) {
            if (fd_seq_begin(d, PF_LABEL_PARENTS, 32))
                return -1;
            int n = 0, more;
            while ((more = fd_seq_next(d)) > 0)
                if (fd_domain(d, lp->parents[n++]))
                    return -1;
            if (more < 0)
                return -1;
            if (n != PF_LABEL_PARENTS)
                return fd_fail(d, "%d parents, a labeling proof has %d", n, PF_LABEL_PARENTS);
        } else if (f == 1 ? fd_u32(d, &lp->layer_index) : fd_u64(d, &lp->node)) {
            return -1;
        }
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

/* A sequence of exactly `want` column proofs. */
static int fd_columns(fmt_dec *d, const pf_commit_geom *g, const fmt_tree *tr,
                      pf_column_proof *out, int want)
{
    if (fd_seq_begin(d, (uint64_t)want, column_bin_size(g, tr)))
        return -1;
    int n = 0, more;
    while ((more = fd_seq_next(d)) > 0) {
        size_t mark = fd_push_index(d, (uint64_t)n);
        if (fd_column(d, g, tr, &out[n]))
            return -1;
        fd_pop(d, mark);
        n++;
    }
    if (more < 0)
        return -1;
    if (n != want)
        return fd_fail(d, "%d column proofs, %d needed", n, want);
    return 0;
}

static const char *const rcp_fields[] = { "c_x", "drg_parents", "exp_parents" };

static int fd_replica_columns(fmt_dec *d, const pf_commit_geom *g, const fmt_tree *tr,
                              pf_porep_vanilla_proof *p)
{
    int f;
    if (fd_struct_begin(d, 3))
        return -1;
    while ((f = fd_field(d, rcp_fields, 3)) >= 0) {
        size_t mark = fd_push(d, rcp_fields[f]);
        int rc = f == 0   ? fd_column(d, g, tr, &p->replica_column_proofs.c_x)
                 : f == 1 ? fd_columns(d, g, tr, p->replica_column_proofs.drg_parents,
                                       PF_BASE_DEGREE)
                          : fd_columns(d, g, tr, p->replica_column_proofs.exp_parents,
                                       PF_EXP_DEGREE);
        if (rc)
            return -1;
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

static const char *const porep_fields[] = { "comm_d_proofs", "comm_r_last_proof",
                                            "replica_column_proofs", "labeling_proofs",
                                            "encoding_proof" };

static int fd_labelings(fmt_dec *d, const pf_commit_geom *g, pf_porep_vanilla_proof *p)
{
    if (fd_seq_begin(d, g->layers, LABELING_BIN_SIZE))
        return -1;
    uint32_t n = 0;
    int more;
    while ((more = fd_seq_next(d)) > 0) {
        size_t mark = fd_push_index(d, n);
        if (fd_labeling(d, &p->labeling_proofs[n]))
            return -1;
        fd_pop(d, mark);
        n++;
    }
    if (more < 0)
        return -1;
    if (n != g->layers)
        return fd_fail(d, "%u labeling proofs, %s has %u layers", n, g->info->name, g->layers);
    p->layers = n;
    return 0;
}

int fd_porep_proof(fmt_dec *d, const pf_commit_geom *g, pf_porep_vanilla_proof *p)
{
    fmt_tree td, tr;
    porep_trees(g, &td, &tr);
    memset(p, 0, sizeof *p);
    int f;
    if (fd_struct_begin(d, 5))
        return -1;
    while ((f = fd_field(d, porep_fields, 5)) >= 0) {
        size_t mark = fd_push(d, porep_fields[f]);
        int rc;
        switch (f) {
        case 0: rc = fd_merkle(d, &td, &p->comm_d_proofs); break;
        case 1: rc = fd_merkle(d, &tr, &p->comm_r_last_proof); break;
        case 2: rc = fd_replica_columns(d, g, &tr, p); break;
        case 3: rc = fd_labelings(d, g, p); break;
        default: rc = fd_labeling(d, &p->encoding_proof); break;
        }
        if (rc)
            return -1;
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}
