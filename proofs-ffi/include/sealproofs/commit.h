/* sealproofs/commit.h — after PreCommit: PoRep challenges, C1 (vanilla proofs), the native
 * C2 commit proof and its verifier, Winning/Window PoSt, unseal and clear_cache.
 *
 * Semantics are rust-fil-proofs' (storage-proofs-porep stacked/vanilla, storage-proofs-post
 * fallback, filecoin-proofs api); research/porep.md §8 has the algorithms.
 *
 * In-memory proofs mirror rust's structures so that the rust byte formats (issue 12) are a
 * plain walk over them:
 *   pf_merkle_proof         storage-proofs-core merkle/proof.rs MerkleProof (Single/Sub/Top)
 *   pf_column_proof         stacked/vanilla ColumnProof {column {index, rows}, inclusion_proof}
 *   pf_labeling_proof       LabelingProof / EncodingProof {parents[37], layer_index, node}
 *   pf_porep_vanilla_proof  stacked/vanilla params.rs Proof
 *   pf_post_sector_proof    storage-proofs-post fallback SectorProof
 *   pf_post_vanilla_proof   filecoin-proofs FallbackPoStSectorProof (one SectorProof)
 *
 * THE NATIVE C2 IS NOT A SNARK.  pf_c2 packs the vanilla proofs into a "commit proof" that
 * pf_verify_seal checks completely (every Merkle path, every label, the encoding); it is
 * tens of kilobytes instead of 192 bytes per partition and no chain accepts it.  It exists
 * so that a local chain and the tests can verify sealing end to end.  Likewise the native
 * PoSt "proof" is the set of vanilla proofs.  Chain-valid Groth16 proofs come from the
 * filcrypto backend (sealproofs/filcrypto.h).
 *
 * ---- Byte formats (all integers little-endian, all 32-byte values canonical LE) ----
 *
 * Challenge record: one challenged node's vanilla proof, the per-proof layout of
 * rust-fil-proofs' synthetic proof file (params.rs SynthProofs); R = record size below.
 *   u64 challenge
 *   u64 parents[14]                 6 DRG parents then 8 expander parents (graph order)
 *   leaf_d[32] path_d[D][32]        tree_d: data node, then one sibling per level, bottom
 *                                   up (D = log2(nodes))
 *   column(challenge)               rows[L][32] (labels of layers 1..L), leaf_c[32] = the
 *                                   column hash, path_c[S][32]
 *   column(parent i), i = 0..13     same layout
 *   leaf_r[32] path_r[S][32]        tree_r_last: replica node, then siblings
 * S = siblings of a tree_c/tree_r_last path: (base levels) * 7, + (sub arity - 1) and
 * (top arity - 1) when present; each level lists the arity-1 other inputs in order.
 * Path indices and roots are not stored: indices follow from the node numbers, roots are
 * comm_d/comm_c/comm_r_last.  Labeling and encoding proofs are not stored either: they are
 * rebuilt from the parents' columns exactly as rust's Proof::from_parts does.
 * R = 8 * 15 + 32 * (1 + D) + 15 * 32 * (L + 1 + S) + 32 * (1 + S)
 *
 * C1 output (pf_c1_output_encode), PF_C1_OUTPUT_VERSION 1:
 *   "SPVP"  u32 version  u32 proof_id  u64 sector_id
 *   prover_id ticket seed comm_d comm_r replica_id comm_c comm_r_last   (32 bytes each)
 *   u32 partitions  u32 challenges_per_partition  u32 layers
 *   partitions * challenges challenge records, partition by partition
 * The counts must be the registry's for proof_id; the length must be exact.
 *
 * Commit proof (pf_c2), PF_COMMIT_PROOF_VERSION 1:
 *   "SPCP"  u32 version  u32 proof_id  comm_c[32] comm_r_last[32]
 *   u32 partitions  u32 challenges_per_partition
 *   partitions * challenges challenge records
 * The public inputs (comm_r, comm_d, prover_id, ticket, seed, sector_id) are not in it:
 * the verifier is given them.  There is no padding, checksum or unused field: changing
 * any byte of a commit proof makes pf_verify_seal fail.
 *
 * PoSt proof (pf_generate_winning_post / pf_generate_window_post), PF_POST_PROOF_VERSION 1:
 *   "SPPS"  u32 version  u32 post_proof_id  u32 sectors  u32 challenges_per_sector
 *   per sector, in the order proven (ascending sector id):
 *     u64 sector_id  comm_c[32]  comm_r_last[32]
 *     per challenge: leaf_r[32] path_r[S][32]
 * Challenged leaves follow from the public inputs (randomness, sector id and position).
 *
 * Synthetic PoRep: <cache_dir>/syn-porep-vanilla-proofs.dat in rust's layout: root_d,
 * root_c, root_r (32 bytes each), then one challenge record per synthetic challenge.
 */
#ifndef SEALPROOFS_COMMIT_H
#define SEALPROOFS_COMMIT_H

#include "../sealproofs.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PF_MAX_LAYERS 11             /* 11 for 32/64GiB, 2 for the test sizes */
#define PF_MERKLE_MAX_LEVELS 40
#define PF_MERKLE_MAX_HASHES 96      /* siblings of one path, all levels together */
#define PF_SYNTH_PROOFS_FILE "syn-porep-vanilla-proofs.dat"

/* ---- Challenges ------------------------------------------------------------------------ */

/* Interactive PoRep (challenges.rs InteractiveChallenges): for i < count, j = count*k + i,
 * challenge = (LE256(SHA256(replica_id || seed || LE32(j))) mod (nodes - 1)) + 1. */
void pf_interactive_challenges(uint64_t nodes, const uint8_t replica_id[32],
                               const uint8_t seed[32], uint32_t count, uint32_t k,
                               uint64_t *out);
/* Non-interactive PoRep: the same with SHA256("filecoin.io|PoRep|1|NonInteractive|1" ||
 * replica_id || comm_r || LE32(j)). */
void pf_ni_challenges(uint64_t nodes, const uint8_t replica_id[32], const uint8_t comm_r[32],
                      uint32_t count, uint32_t k, uint64_t *out);
/* Number of synthetic challenges: min(nodes, 2^18). */
uint64_t pf_synth_challenge_count(uint64_t nodes);
/* Synthetic challenges first .. first+count-1 (challenges.rs SynthChallengeGenerator):
 * ChaCha20 keystream keyed with Blake2b-256(key "filecoin.io|PoRep|1|Synthetic|1|Generation",
 * replica_id || comm_r), 32 bytes per challenge, LE mod (nodes - 1) + 1. */
void pf_synth_challenges(uint64_t nodes, const uint8_t replica_id[32], const uint8_t comm_r[32],
                         uint64_t first, uint64_t count, uint64_t *out);
/* Synthetic indexes (< num_synth) selected as porep challenges of partition k:
 * ChaCha20 keyed with Blake2b-256(key "...|Selection", replica_id || seed), LE32 each. */
void pf_synth_select(uint64_t num_synth, const uint8_t replica_id[32], const uint8_t seed[32],
                     uint32_t count, uint32_t k, uint64_t *indexes);

/* The porep challenges of partition k for a registered seal proof, by its feature:
 * interactive (seed), synthetic (seed and comm_r; synth_indexes, when non-NULL, receives
 * which synthetic challenge each one is) or NI (comm_r).  out holds
 * challenges_per_partition values.  PF_EINVAL for a bad id or partition. */
pf_status pf_porep_challenges(int proof_id, const uint8_t replica_id[32], const uint8_t seed[32],
                              const uint8_t comm_r[32], uint32_t k, uint64_t *out,
                              uint64_t *synth_indexes, pf_error *err);

/* PoSt (storage-proofs-post fallback).  randomness and prover_id must be canonical field
 * elements (rust's as_safe_commitment): PF_EINVAL otherwise (Lotus clears the top two bits
 * of the randomness: rand[31] &= 0x3f). */
/* Winning PoSt sector selection: for n < sector_count, LE64(SHA256(prover_id || randomness
 * || LE64(n))[0..8]) mod sector_set_len; out holds the post proof's sector_count values. */
pf_status pf_winning_post_sector_challenge(int post_proof_id, const uint8_t randomness[32],
                                           uint64_t sector_set_len, const uint8_t prover_id[32],
                                           uint64_t *out, pf_error *err);
/* Leaf challenge: LE64(SHA256(randomness || LE64(sector_id) || LE64(index))[0..8]) mod nodes. */
uint64_t pf_post_leaf_challenge(const uint8_t randomness[32], uint64_t sector_id,
                                uint64_t challenge_index, uint64_t nodes);
/* The leaf challenges of the sector at position sector_index (0-based, over all
 * partitions) of a PoSt: challenge_count values (66 winning, 10 window), challenge index n
 * for PoSt API 1.2 and sector_index * count + n before it.  Winning PoSt always uses
 * position 0 (its single sector). */
pf_status pf_post_sector_challenges(int post_proof_id, const uint8_t randomness[32],
                                    uint64_t sector_index, uint64_t sector_id, uint64_t *out,
                                    pf_error *err);

/* ---- Merkle proofs ----------------------------------------------------------------------- */

typedef enum pf_merkle_kind {
    PF_MERKLE_SINGLE = 0,     /* base tree only (rust SingleProof) */
    PF_MERKLE_SUB = 1,        /* base path + one sub level (SubProof) */
    PF_MERKLE_TOP = 2,        /* base path + sub level + top level (TopProof) */
} pf_merkle_kind;

typedef enum pf_merkle_hash {
    PF_HASH_SHA256 = 0,       /* tree_d: trim(SHA256(left || right)), arity 2 */
    PF_HASH_POSEIDON = 1,     /* tree_c / tree_r_last: Poseidon of the level's arity */
} pf_merkle_hash;

/* Path elements are base levels bottom up, then the sub level, then the top level
 * (rust's base_proof.path, sub_proof.path, top_proof.path).  Element l has arity[l]-1
 * hashes (the other inputs in order, the running node at index[l]), stored one element
 * after another in hashes. */
typedef struct pf_merkle_proof {
    pf_merkle_kind kind;
    uint8_t leaf[32];
    uint8_t root[32];
    uint32_t levels;
    uint8_t arity[PF_MERKLE_MAX_LEVELS];
    uint32_t index[PF_MERKLE_MAX_LEVELS];
    uint8_t hashes[PF_MERKLE_MAX_HASHES][32];
} pf_merkle_proof;

/* The leaf position the path indices encode (rust path_index, mixed radix). */
uint64_t pf_merkle_proof_node(const pf_merkle_proof *p);
/* First hash of element l (hashes[offset]); -1 when l is out of range. */
int pf_merkle_proof_hash_offset(const pf_merkle_proof *p, uint32_t l);
/* Recomputes the root from leaf and path.  PF_EINVAL for a malformed proof or a Poseidon
 * input that is not a canonical field element. */
pf_status pf_merkle_proof_compute_root(const pf_merkle_proof *p, pf_merkle_hash hash,
                                       uint8_t root[32], pf_error *err);
/* PF_OK when the path leads from leaf to p->root and encodes node `node`; else PF_EVERIFY
 * naming `what`. */
pf_status pf_merkle_proof_verify(const pf_merkle_proof *p, pf_merkle_hash hash, uint64_t node,
                                 const char *what, pf_error *err);

/* ---- PoRep vanilla proofs ------------------------------------------------------------- */

typedef struct pf_column_proof {
    uint32_t index;                       /* node of the column */
    uint32_t layers;
    uint8_t rows[PF_MAX_LAYERS][32];      /* labels of layers 1..layers */
    pf_merkle_proof inclusion_proof;      /* tree_c path; leaf = Poseidon_L(rows) */
} pf_column_proof;

/* LabelingProof and EncodingProof have the same content. */
typedef struct pf_labeling_proof {
    uint8_t parents[37][32];              /* the 37 parent labels as hashed */
    uint32_t layer_index;                 /* 1-based */
    uint64_t node;
} pf_labeling_proof;

typedef struct pf_porep_vanilla_proof {
    pf_merkle_proof comm_d_proofs;        /* tree_d (SHA-256, binary) */
    pf_merkle_proof comm_r_last_proof;    /* tree_r_last */
    struct {
        pf_column_proof c_x;
        pf_column_proof drg_parents[6];
        pf_column_proof exp_parents[8];
    } replica_column_proofs;
    uint32_t layers;
    pf_labeling_proof labeling_proofs[PF_MAX_LAYERS];   /* layer 1..layers */
    pf_labeling_proof encoding_proof;     /* = the last layer's labeling proof */
} pf_porep_vanilla_proof;

/* Public inputs of a seal. */
typedef struct pf_porep_public {
    int proof_id;
    uint64_t sector_id;
    uint8_t prover_id[32];
    uint8_t ticket[32];
    uint8_t seed[32];                     /* unused by NI PoRep */
    uint8_t comm_d[32];
    uint8_t comm_r[32];
} pf_porep_public;

/* Checks one vanilla proof as rust's Proof::verify does and more: it proves `challenge`,
 * tree_d leads to comm_d, every column (challenge, its 6 DRG and 8 expander parents as the
 * graph defines them) hashes to its tree_c leaf and leads to comm_c, tree_r_last leads to
 * comm_r_last, every labeling proof holds exactly the parents' labels from the columns
 * and hashes to the column's label, the encoding proof equals the last one, and replica =
 * label_L + data.  g must be proof_id's graph (pf_graph_init_proof; built once by the
 * caller), replica_id the sector's. */
pf_status pf_porep_vanilla_verify(int proof_id, const pf_graph *g, const uint8_t replica_id[32],
                                  const uint8_t comm_d[32], const uint8_t comm_c[32],
                                  const uint8_t comm_r_last[32], uint64_t challenge,
                                  const pf_porep_vanilla_proof *p, pf_error *err);

/* ---- C1 ------------------------------------------------------------------------------- */

#define PF_C1_OUTPUT_VERSION 1
#define PF_COMMIT_PROOF_VERSION 1
#define PF_POST_PROOF_VERSION 1

typedef struct pf_c1_output {
    pf_porep_public pub;                  /* the seal's public inputs */
    uint8_t replica_id[32];
    uint8_t comm_c[32];
    uint8_t comm_r_last[32];
    uint32_t partitions;
    uint32_t challenges_per_partition;
    uint32_t layers;
    pf_porep_vanilla_proof *proofs;       /* partitions * challenges, partition-major */
} pf_c1_output;

/* Commit phase 1 (filecoin-ffi seal_commit_phase1): derives the challenges and reads their
 * vanilla proofs from the cache directory (layers, tree_d, tree_c, tree_r_last, p_aux) and
 * the sealed replica.  Checks first that p_aux hashes to comm_r and tree_d's root is
 * comm_d; pieces (may be NULL) are checked against comm_d when given.  Every generated
 * proof is verified before it is returned.  For synthetic PoRep the proofs are taken from
 * syn-porep-vanilla-proofs.dat when it exists (its roots must match), else generated from
 * the layers.  out is freed with pf_c1_output_free. */
pf_status pf_c1(int proof_id, const char *cache_dir, const char *sealed_path, uint64_t sector_id,
                const uint8_t prover_id[32], const uint8_t ticket[32], const uint8_t seed[32],
                const uint8_t comm_d[32], const uint8_t comm_r[32], const pf_piece_info *pieces,
                size_t npieces, pf_c1_output *out, pf_error *err);
void pf_c1_output_free(pf_c1_output *o);

/* Serialized size of one challenge record and of a whole C1 output for a proof id
 * (0 for an unknown id). */
size_t pf_challenge_record_size(int proof_id);
size_t pf_c1_output_size(int proof_id);
/* Encodes into a malloc'd buffer.  PF_EINVAL when the output is inconsistent (counts,
 * layers, node numbers out of range). */
pf_status pf_c1_output_encode(const pf_c1_output *o, uint8_t **buf, size_t *len, pf_error *err);
/* Strict decoder: exact length, magic, version, registered proof id, the registry's counts,
 * every node number < nodes and every stored node a canonical field element.  Does not
 * verify the proofs (pf_c2 does). */
pf_status pf_c1_output_decode(const uint8_t *buf, size_t len, pf_c1_output *out, pf_error *err);
/* Verifies every vanilla proof of a C1 output against its own public inputs (challenges
 * re-derived, replica_id recomputed, comm_r = Poseidon_2(comm_c, comm_r_last)). */
pf_status pf_c1_output_verify(const pf_c1_output *o, pf_error *err);

/* Synthetic PoRep (filecoin-ffi generate_synth_proofs): proves every synthetic challenge
 * and writes syn-porep-vanilla-proofs.dat (temporary name, fsync, rename).  Only for the
 * synthetic proof ids (10..14).  The file holds min(nodes, 2^18) records: 2KiB ~ 0.6 MiB,
 * 8MiB ~ 4.6 GiB. */
pf_status pf_synth_proofs_generate(int proof_id, const char *cache_dir, const char *sealed_path,
                                   uint64_t sector_id, const uint8_t prover_id[32],
                                   const uint8_t ticket[32], const uint8_t comm_d[32],
                                   const uint8_t comm_r[32], pf_error *err);
/* Removes syn-porep-vanilla-proofs.dat if present (filecoin-ffi clear_synthetic_proofs). */
pf_status pf_clear_synthetic_proofs(const char *cache_dir, pf_error *err);

/* ---- C2 (native, NOT a SNARK) and seal verification ---------------------------------- */

/* Decodes a C1 output, checks that it is for sector_id and prover_id, verifies every
 * vanilla proof, and packs them into a commit proof (malloc'd, format above). */
pf_status pf_c2(const uint8_t *c1, size_t c1_len, uint64_t sector_id,
                const uint8_t prover_id[32], uint8_t **proof, size_t *proof_len, pf_error *err);
/* The same from a decoded C1 output. */
pf_status pf_c2_from_output(const pf_c1_output *c1, uint8_t **proof, size_t *proof_len,
                            pf_error *err);

/* Verifies a native commit proof (filecoin-ffi verify_seal): PF_OK when valid, PF_EVERIFY
 * with the reason when not, PF_EINVAL for bad arguments (unknown proof id, comm_r/comm_d/
 * prover_id not canonical field elements, all-zero comm_d).  The challenges are re-derived
 * from the public inputs, every path checked against comm_d/comm_c/comm_r_last,
 * comm_r = Poseidon_2(comm_c, comm_r_last), every label recomputed from the parents'
 * columns and the encoding checked. */
pf_status pf_verify_seal(int proof_id, const uint8_t comm_r[32], const uint8_t comm_d[32],
                         const uint8_t prover_id[32], const uint8_t ticket[32],
                         const uint8_t seed[32], uint64_t sector_id, const uint8_t *proof,
                         size_t proof_len, pf_error *err);

/* ---- PoSt ------------------------------------------------------------------------------- */

/* A sector to prove (filecoin-ffi PrivateReplicaInfo). */
typedef struct pf_post_replica {
    uint64_t sector_id;
    uint8_t comm_r[32];
    const char *cache_dir;                /* holds tree-r-last files and p_aux */
    const char *sealed_path;
} pf_post_replica;

/* A sector to verify (PublicReplicaInfo). */
typedef struct pf_post_public_replica {
    uint64_t sector_id;
    uint8_t comm_r[32];
} pf_post_public_replica;

/* rust SectorProof: inclusion proofs of the challenged leaves in tree_r_last. */
typedef struct pf_post_sector_proof {
    size_t count;
    pf_merkle_proof *inclusion_proofs;
    uint8_t comm_c[32];
    uint8_t comm_r_last[32];
} pf_post_sector_proof;

/* rust FallbackPoStSectorProof (what generate_single_vanilla_proof returns); its
 * vanilla_proof.sectors always has exactly this one element. */
typedef struct pf_post_vanilla_proof {
    uint64_t sector_id;
    uint8_t comm_r[32];
    pf_post_sector_proof sector;
} pf_post_vanilla_proof;

/* generate_single_vanilla_proof: reads p_aux (comm_c, comm_r_last), checks comm_r, and
 * builds the tree_r_last proof of every challenge (rows rust discarded are rebuilt from
 * the sealed file).  Each proof is checked against comm_r_last.  PF_ECORRUPT/PF_EIO when
 * the sector's files are missing or do not match. */
pf_status pf_post_vanilla_prove(int post_proof_id, const pf_post_replica *replica,
                                const uint64_t *challenges, size_t n,
                                pf_post_vanilla_proof *out, pf_error *err);
void pf_post_vanilla_proof_free(pf_post_vanilla_proof *p);
/* Verifies one sector's vanilla proof: its leaves are the challenges of position
 * sector_index, every path leads to comm_r_last and comm_r = Poseidon_2(comm_c,
 * comm_r_last) for the comm_r and sector_id given. */
pf_status pf_post_vanilla_verify(int post_proof_id, const uint8_t randomness[32],
                                 uint64_t sector_index, const pf_post_public_replica *pub,
                                 const pf_post_vanilla_proof *p, pf_error *err);

typedef struct pf_post_result {
    uint8_t *proof;                       /* native PoSt proof (format above), malloc'd */
    size_t proof_len;
    pf_post_public_replica *proven;       /* the sectors the proof covers, ascending */
    size_t nproven;
    uint64_t *faulty;                     /* sectors that could not be proven, ascending */
    pf_error *faulty_errors;              /* why, one per faulty sector */
    size_t nfaulty;
} pf_post_result;
void pf_post_result_free(pf_post_result *r);

/* Window PoSt over any number of sectors (sorted by id internally; duplicates rejected).
 * A sector whose files are missing or corrupt, or whose p_aux does not hash to its comm_r,
 * goes to res->faulty; the others are proven, positions counted among the proven ones.
 * Returns PF_OK when at least one sector was proven (check res->nfaulty), PF_EVERIFY
 * when none could be. */
pf_status pf_generate_window_post(int post_proof_id, const uint8_t randomness[32],
                                  const uint8_t prover_id[32], const pf_post_replica *replicas,
                                  size_t n, pf_post_result *res, pf_error *err);
/* Winning PoSt: exactly sector_count (1) replicas, 66 challenges. */
pf_status pf_generate_winning_post(int post_proof_id, const uint8_t randomness[32],
                                   const uint8_t prover_id[32], const pf_post_replica *replicas,
                                   size_t n, pf_post_result *res, pf_error *err);
/* Verifies a native PoSt proof for these public replicas (sorted internally): PF_OK,
 * PF_EVERIFY with the reason, or PF_EINVAL for bad arguments. */
pf_status pf_verify_window_post(int post_proof_id, const uint8_t randomness[32],
                                const uint8_t prover_id[32],
                                const pf_post_public_replica *replicas, size_t n,
                                const uint8_t *proof, size_t proof_len, pf_error *err);
pf_status pf_verify_winning_post(int post_proof_id, const uint8_t randomness[32],
                                 const uint8_t prover_id[32],
                                 const pf_post_public_replica *replicas, size_t n,
                                 const uint8_t *proof, size_t proof_len, pf_error *err);

/* ---- Unseal and cache cleanup ---------------------------------------------------------- */

/* filecoin-ffi unseal_range: regenerates the key (the last layer's labels: in memory for
 * sectors up to 32 MiB, otherwise with PC1 into a temporary directory inside cache_dir,
 * using the default parent cache), subtracts it from the sealed replica over the range,
 * unpads, and writes exactly `length` unpadded bytes starting at unpadded `offset` to
 * out_fd at its current position.  comm_d must be a canonical, non-zero field element.
 * Neither path is modified; out_fd is not closed. */
pf_status pf_unseal_range(int proof_id, const char *cache_dir, const char *sealed_path,
                          int out_fd, uint64_t sector_id, const uint8_t prover_id[32],
                          const uint8_t ticket[32], const uint8_t comm_d[32], uint64_t offset,
                          uint64_t length, pf_error *err);

/* filecoin-ffi clear_cache: removes what only C1 needs — sc-02-data-tree-d.dat,
 * sc-02-data-tree-c*.dat, sc-02-data-layer-*.dat, and sealpipe's PC1 marker and PC1/PC2
 * lock files — and keeps
 * what proving needs (sc-02-data-tree-r-last*.dat, p_aux, t_aux) and anything else.
 * *removed (may be NULL) receives the number of files deleted. */
pf_status pf_clear_cache(const char *cache_dir, int *removed, pf_error *err);

#ifdef __cplusplus
}
#endif

#endif
