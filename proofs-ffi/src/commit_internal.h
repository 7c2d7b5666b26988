/* commit_internal.h — internals shared by the commit-phase files (challenges.c,
 * vanilla_merkle.c, vanilla_codec.c, verify_porep.c, c1.c, c1_synth.c, c2.c, post.c,
 * unseal.c, clear_cache.c): error reporting, little-endian helpers, the geometry of a
 * proof's challenge records, and the record codec.  The public contract is
 * sealproofs/commit.h. */
#ifndef PF_COMMIT_INTERNAL_H
#define PF_COMMIT_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sealproofs.h"

/* Fills err (when non-NULL) and returns status. */
__attribute__((format(printf, 3, 4)))
static inline pf_status pf_cm_fail(pf_error *err, pf_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

static inline void pf_cm_ok(pf_error *err)
{
    if (err) {
        err->status = PF_OK;
        err->msg[0] = 0;
    }
}

/* Prepends "what: " to an error message already in err (keeps the status). */
void pf_cm_prefix(pf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void pf_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pf_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t pf_get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static inline uint64_t pf_get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* 1 when the 32 LE bytes are a canonical BLS12-381 field element (< p). */
int pf_cm_fr_valid(const uint8_t b[32]);

/* A bounded reader/writer over a byte buffer: every read checks the remaining length. */
typedef struct pf_cursor {
    const uint8_t *p;
    size_t left;
} pf_cursor;

/* 0 and the bytes, or -1 when fewer than n remain. */
static inline int pf_cur_take(pf_cursor *c, size_t n, const uint8_t **out)
{
    if (c->left < n)
        return -1;
    *out = c->p;
    c->p += n;
    c->left -= n;
    return 0;
}

/* ---- geometry of a seal proof's vanilla proofs ---- */

typedef struct pf_commit_geom {
    int proof_id;
    const pf_seal_proof_info *info;
    pf_tree_shape shape;
    uint64_t nodes;
    uint32_t layers;
    uint32_t d_levels;             /* tree_d path length: log2(nodes) */
    uint32_t r_levels;             /* tree_c / tree_r_last path length (elements) */
    uint32_t r_hashes;             /* siblings of one such path */
    uint32_t partitions;
    uint32_t challenges;           /* per partition */
    size_t record_size;            /* one challenge record */
} pf_commit_geom;

pf_status pf_commit_geom_init(pf_commit_geom *g, int proof_id, pf_error *err);

/* Path geometry of a Poseidon tree of this shape: element count and sibling count. */
void pf_shape_path_dims(const pf_tree_shape *s, uint32_t *levels, uint32_t *hashes);
/* Fills arity/index/kind of a path for `node` in a tree of shape s (hashes untouched). */
void pf_shape_path_layout(const pf_tree_shape *s, uint64_t node, pf_merkle_proof *p);
/* The same for tree_d: binary, log2(nodes) levels. */
void pf_tree_d_path_layout(uint64_t nodes, uint64_t node, pf_merkle_proof *p);

/* A memo of Poseidon hashes within one verification: the paths of a proof share their
 * upper levels (and often leaf groups), so each distinct (arity, inputs) is hashed once.
 * Keys are SHA-256 digests of arity || inputs; the table stops growing at 2^16 entries. */
typedef struct pf_hash_memo pf_hash_memo;
pf_hash_memo *pf_hash_memo_new(void);
void pf_hash_memo_free(pf_hash_memo *m);
/* out = Poseidon_arity(in[0..arity)); returns -1, or the index of an input that is not a
 * canonical field element (nothing cached then).  m may be NULL (no memo). */
long pf_memo_poseidon(pf_hash_memo *m, int arity, const uint8_t *in, uint8_t out[32]);
/* pf_merkle_proof_compute_root / _verify with a memo (may be NULL). */
pf_status pf_merkle_root_memo(const pf_merkle_proof *p, pf_merkle_hash hash, pf_hash_memo *m,
                              uint8_t root[32], pf_error *err);
pf_status pf_merkle_verify_memo(const pf_merkle_proof *p, pf_merkle_hash hash, uint64_t node,
                                const char *what, pf_hash_memo *m, pf_error *err);
/* pf_porep_vanilla_verify with a memo (may be NULL). */
pf_status pf_porep_verify_memo(int proof_id, const pf_graph *g, const uint8_t replica_id[32],
                               const uint8_t comm_d[32], const uint8_t comm_c[32],
                               const uint8_t comm_r_last[32], uint64_t challenge,
                               const pf_porep_vanilla_proof *p, pf_hash_memo *m, pf_error *err);

/* Converts a pf_tree_path read by pc2's code into a pf_merkle_proof. */
pf_status pf_merkle_from_tree_path(const pf_tree_shape *s, const pf_tree_path *tp,
                                   pf_merkle_proof *out, pf_error *err);

/* Labeling proofs of a vanilla proof from its columns (rust Proof::from_parts). */
void pf_porep_fill_labeling(pf_porep_vanilla_proof *p, uint32_t layers);

/* ---- challenge records (layout in sealproofs/commit.h) ---- */

/* Appends the record of p (challenge = its tree_d node) to buf (record_size bytes).
 * PF_EINVAL when the proof does not fit the geometry. */
pf_status pf_record_encode(const pf_commit_geom *g, const pf_porep_vanilla_proof *p,
                           uint8_t *buf, pf_error *err);
/* Decodes one record into p: roots are the given commitments, path indices follow from the
 * node numbers, labeling and encoding proofs are rebuilt.  Rejects node numbers >= nodes
 * and stored nodes that are not canonical field elements.  `where` names the record in
 * messages. */
pf_status pf_record_decode(const pf_commit_geom *g, const uint8_t *buf, const uint8_t comm_d[32],
                           const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                           pf_porep_vanilla_proof *p, const char *where, pf_error *err);

/* ---- PoRep proving internals (c1.c) ---- */

/* Open handles on a sealed sector's cache for proving challenges. */
typedef struct pf_porep_prover {
    const pf_commit_geom *g;
    pf_graph graph;
    const char *cache_dir;
    const char *sealed_path;
    int layer_fd[PF_MAX_LAYERS];
    uint8_t comm_d[32], comm_c[32], comm_r_last[32];
} pf_porep_prover;

pf_status pf_porep_prover_open(pf_porep_prover *pr, const pf_commit_geom *g, const char *cache_dir,
                               const char *sealed_path, pf_error *err);
void pf_porep_prover_close(pf_porep_prover *pr);
/* The vanilla proof of one challenge (not yet verified). */
pf_status pf_porep_prove_challenge(pf_porep_prover *pr, uint64_t challenge,
                                   pf_porep_vanilla_proof *out, pf_error *err);

/* Checks comm_r = Poseidon_2(comm_c, comm_r_last): PF_EVERIFY naming `where` otherwise. */
pf_status pf_check_comm_r(const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                          const uint8_t comm_r[32], const char *where, pf_error *err);

/* "<cache_dir>/syn-porep-vanilla-proofs.dat"; 0 or -1 when it does not fit. */
int pf_synth_proofs_path(const char *cache_dir, char *buf, size_t len);
/* C1 for synthetic PoRep from the stored file: selected records into out->proofs.
 * PF_EIO when the file is absent (caller falls back to generation). */
pf_status pf_synth_proofs_read(const pf_commit_geom *g, const char *cache_dir,
                               const uint8_t replica_id[32], const uint8_t comm_r[32],
                               const uint8_t seed[32], const uint8_t comm_d[32],
                               const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                               pf_porep_vanilla_proof *proofs, pf_error *err);

/* pf_unseal_range with the in-memory limit (sectors of at most mem_nodes nodes are
 * labeled in memory, larger ones by PC1 in a scratch directory) and the parent cache
 * directory PC1 uses (NULL: pf_parent_cache_dir's default). */
pf_status pf_unseal_range_with(int proof_id, const char *cache_dir, const char *sealed_path,
                               int out_fd, uint64_t sector_id, const uint8_t prover_id[32],
                               const uint8_t ticket[32], const uint8_t comm_d[32],
                               uint64_t offset, uint64_t length, uint64_t mem_nodes,
                               const char *parent_cache_dir, pf_error *err);

#endif
