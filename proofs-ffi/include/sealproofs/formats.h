/* sealproofs/formats.h — rust-fil-proofs' byte formats, so that sealpipe and
 * filecoin-ffi/lotus/Curio/damocles can hand sectors and proofs to each other.
 *
 * Everything here is a walk over the in-memory structures of sealproofs/commit.h, written
 * exactly as serde derives them in rust-fil-proofs 19 / filecoin-proofs-api 19 /
 * filecoin-ffi 1.36 and read back strictly:
 *
 *  - bincode is bincode 1.x's bincode::serialize (what rust-fil-proofs calls): little
 *    endian, fixed-width integers, u64 lengths before every Vec and String, enum variants
 *    as u32, Option as a u8 tag, PhantomData and unit structs as nothing, [u8; 32] and the
 *    32-byte hash domains (PoseidonDomain, Sha256Domain) as 32 raw bytes.
 *  - JSON is serde_json::to_vec: no whitespace, fields in declaration order, [u8; 32] and
 *    domains as arrays of 32 numbers, enum variants externally tagged ({"Single":{...}},
 *    "StackedDrg2KiBV1_1"), PhantomData fields as null.  The decoder accepts any field
 *    order and JSON whitespace (serde does; Curio's Go encoder orders fields differently)
 *    and rejects unknown or duplicate fields, non-integers, trailing data.
 *  - Decoders check every count against the registered proof (partitions, challenges,
 *    layers, 6 DRG and 8 expander columns, 37 parents, path length and arity of every
 *    tree level, one sector per PoSt proof) and reject truncated input, input longer than
 *    the structure, and anything out of range, with a message naming the byte offset and
 *    the field (e.g. "vanilla_proofs[0][1].replica_column_proofs.drg_parents[3]").  They do
 *    not verify proofs (pf_c2 / pf_post_vanilla_verify do) and do not require 32-byte
 *    values to be field elements (rust does not at this point either), so a decode and
 *    an encode give back the same bytes.
 *
 * Structures (storage-proofs-core merkle/proof.rs, storage-proofs-porep stacked/vanilla,
 * storage-proofs-post fallback, filecoin-proofs types):
 *   MerkleProof    {data: Single{root, leaf, path} | Sub{base_proof, sub_proof, root, leaf}
 *                   | Top{base_proof, sub_proof, top_proof, root, leaf}}
 *                  InclusionPath {path: [PathElement {hashes: [arity-1 domains], index: usize}]}
 *   Proof          {comm_d_proofs, comm_r_last_proof, replica_column_proofs {c_x,
 *                   drg_parents[6], exp_parents[8]}, labeling_proofs[layers], encoding_proof}
 *                  ColumnProof {column {index: u32, rows: [layers], _h: PhantomData},
 *                   inclusion_proof}; LabelingProof / EncodingProof {parents[37],
 *                   layer_index: u32, node: u64}
 *   C1 (rust-json) filecoin-proofs-api SealCommitPhase1Output {registered_proof,
 *                   vanilla_proofs: VanillaSealProof::StackedDrg<size>V1([[Proof]]),
 *                   comm_r, comm_d, replica_id, seed, ticket}
 *   C1 (curio-bin) bincode of filecoin-proofs' SealCommitPhase1Output<Tree> {vanilla_proofs:
 *                   [[Proof]], comm_r, comm_d, replica_id, seed, ticket}: the file supraseal's
 *                   C1 writes and Curio reads (lib/proof/porep_vproof_bin_*.go); it names no
 *                   proof type.
 *   PoSt           FallbackPoStSectorProof {sector_id: u64, comm_r, vanilla_proof {sectors:
 *                   [SectorProof {inclusion_proofs: [MerkleProof], comm_c, comm_r_last}]}}
 *                  (generate_single_vanilla_proof's bytes: bincode)
 *   p_aux          PersistentAux {comm_c, comm_r_last}: 64 bytes
 *   t_aux          TemporaryAux {labels: Labels {labels: [StoreConfig], _h}, tree_d_config,
 *                   tree_r_last_config, tree_c_config, _g}; StoreConfig {path: PathBuf, id:
 *                   String, size: Option<usize>, rows_to_discard: usize}
 *
 * The rust C1 formats do not carry sector_id and prover_id (filecoin-ffi's
 * seal_commit_phase2 takes them as arguments), so decoding them takes those two from the
 * caller; comm_c and comm_r_last are the roots of the first proof's column and replica
 * paths, as rust takes them. */
#ifndef SEALPROOFS_FORMATS_H
#define SEALPROOFS_FORMATS_H

#include "../sealproofs.h"
#include "commit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pf_format {
    PF_FORMAT_NATIVE = 0,         /* sealpipe's own layouts (sealproofs/commit.h) */
    PF_FORMAT_RUST_JSON = 1,      /* serde_json, as filecoin-ffi hands it over */
    PF_FORMAT_RUST_BINCODE = 2,   /* bincode, as rust-fil-proofs writes it */
    PF_FORMAT_CURIO_BIN = 3,      /* C1 only: supraseal/Curio's bincode C1 file */
    PF_FORMAT_COUNT
} pf_format;

/* "native", "rust-json", "rust-bincode", "curio-bin"; "?" for anything else. */
const char *pf_format_name(pf_format f);
/* The format of a name, or -1. */
int pf_format_parse(const char *s);

/* ---- C1 output -------------------------------------------------------------------------- */

/* What a rust C1 format does not say. */
typedef struct pf_c1_read_args {
    int proof_id;                 /* curio-bin: the registered seal proof, or -1 for the
                                     V1_1 proof of the sector size the proofs imply;
                                     ignored by the other formats (they name it) */
    uint64_t sector_id;           /* rust formats: the sector (not in the bytes) */
    const uint8_t *prover_id;     /* rust formats: 32 bytes, or NULL for zeros */
} pf_c1_read_args;

/* The format of a C1 output by its first bytes: native ("SPVP"), rust-json ('{' after
 * optional whitespace), otherwise curio-bin. */
pf_format pf_c1_format_detect(const uint8_t *buf, size_t len);

/* Encodes a C1 output (native, rust-json or curio-bin) into a malloc'd buffer.  PF_EINVAL
 * when the output does not fit its registered proof (counts, path shapes), or, for native,
 * when a stored node is not a canonical field element (the rust forms carry any 32 bytes,
 * the native decoder refuses them); PF_EUNSUPPORTED for rust-bincode (nothing uses it for
 * C1). */
pf_status pf_c1_output_write(const pf_c1_output *o, pf_format f, uint8_t **buf, size_t *len,
                             pf_error *err);
/* Decodes a C1 output of format f; free with pf_c1_output_free.  args may be NULL for the
 * native format. */
pf_status pf_c1_output_read(const uint8_t *buf, size_t len, pf_format f,
                            const pf_c1_read_args *args, pf_c1_output *out, pf_error *err);
/* Decodes in whatever format the bytes are (pf_c1_format_detect) and re-encodes in `to`;
 * *from (may be NULL) receives the input's format. */
pf_status pf_c1_convert(const uint8_t *in, size_t in_len, pf_format to,
                        const pf_c1_read_args *args, uint8_t **out, size_t *out_len,
                        pf_format *from, pf_error *err);

/* ---- vanilla PoSt proofs (FallbackPoStSectorProof) ------------------------------------- */

/* Encodes one sector's vanilla proof as rust-bincode (generate_single_vanilla_proof's
 * bytes) or rust-json.  The proof must fit post_proof_id's sector shape and challenge
 * count. */
pf_status pf_post_vanilla_write(int post_proof_id, const pf_post_vanilla_proof *p, pf_format f,
                                uint8_t **buf, size_t *len, pf_error *err);
/* Decodes; free with pf_post_vanilla_proof_free. */
pf_status pf_post_vanilla_read(int post_proof_id, const uint8_t *buf, size_t len, pf_format f,
                               pf_post_vanilla_proof *out, pf_error *err);

/* Public inputs of one sector's vanilla PoSt proof. */
typedef struct pf_post_vanilla_public {
    int post_proof_id;
    uint8_t randomness[32];
    uint8_t prover_id[32];
    uint64_t sector_id;
    uint8_t comm_r[32];
    uint64_t sector_index;        /* position of the sector among those challenged (0 for
                                     a single sector); only PoSt API 1.0 uses it */
} pf_post_vanilla_public;

/* Decodes rust-bincode and verifies (pf_post_vanilla_verify): PF_OK, PF_EVERIFY with the
 * reason, PF_EINVAL for a malformed proof or bad public inputs (randomness / prover_id /
 * comm_r not canonical field elements). */
pf_status pf_post_vanilla_verify_bytes(const pf_post_vanilla_public *pub, const uint8_t *buf,
                                       size_t len, pf_error *err);
/* Derives the sector's challenges from the public inputs, proves them from the sector's
 * files (pf_post_vanilla_prove) and encodes in f (rust-bincode or rust-json). */
pf_status pf_post_vanilla_prove_bytes(const pf_post_vanilla_public *pub, const char *cache_dir,
                                      const char *sealed_path, pf_format f, uint8_t **buf,
                                      size_t *len, pf_error *err);

/* ---- cache directory: p_aux, t_aux and the files rust reads ------------------------------ */

#define PF_P_AUX_FILE "p_aux"
#define PF_T_AUX_FILE "t_aux"
#define PF_P_AUX_LEN 64

/* p_aux bytes: comm_c || comm_r_last. */
void pf_p_aux_encode(const uint8_t comm_c[32], const uint8_t comm_r_last[32],
                     uint8_t out[PF_P_AUX_LEN]);
/* Exactly 64 bytes, else PF_EINVAL. */
pf_status pf_p_aux_decode(const uint8_t *buf, size_t len, uint8_t comm_c[32],
                          uint8_t comm_r_last[32], pf_error *err);
/* Writes <cache_dir>/p_aux (temporary name, fsync, rename). */
pf_status pf_p_aux_write(const char *cache_dir, const uint8_t comm_c[32],
                         const uint8_t comm_r_last[32], pf_error *err);

/* merkletree StoreConfig. */
typedef struct pf_store_config {
    char *path;                   /* malloc'd, UTF-8 */
    char *id;                     /* malloc'd: "layer-1", "tree-d", "tree-c", "tree-r-last" */
    int has_size;
    uint64_t size;                /* nodes of the (base) tree, or of a layer */
    uint64_t rows_to_discard;
} pf_store_config;

/* storage-proofs-porep TemporaryAux. */
typedef struct pf_t_aux {
    size_t nlabels;
    pf_store_config *labels;      /* malloc'd, one per layer */
    pf_store_config tree_d, tree_r_last, tree_c;
} pf_t_aux;

void pf_t_aux_free(pf_t_aux *t);
/* The t_aux rust's PC2 writes for this proof and cache path (replicate_phase2 with the
 * default FIL_PROOFS_ROWS_TO_DISCARD = 2): layers "layer-<l>" of size nodes, "tree-d" of
 * size 2*nodes-1, "tree-c" and "tree-r-last" of the base tree's length, rows_to_discard 0
 * except tree-r-last's (pf_tree_shape.rows_to_discard).  cache_path must be UTF-8. */
pf_status pf_t_aux_make(int proof_id, const char *cache_path, pf_t_aux *out, pf_error *err);
pf_status pf_t_aux_encode(const pf_t_aux *t, uint8_t **buf, size_t *len, pf_error *err);
/* Strict decoder (UTF-8 strings of at most 4096 bytes, at most 64 layers, exact length). */
pf_status pf_t_aux_decode(const uint8_t *buf, size_t len, pf_t_aux *out, pf_error *err);
/* PF_OK when t matches what sealpipe reads for this proof: layer count and ids, sizes and
 * rows_to_discard (paths are not compared: rust replaces them with the cache directory on
 * reading).  PF_EUNSUPPORTED naming the field otherwise, e.g. a sector sealed with another
 * FIL_PROOFS_ROWS_TO_DISCARD. */
pf_status pf_t_aux_check(int proof_id, const pf_t_aux *t, pf_error *err);
/* Writes <cache_dir>/t_aux (pf_t_aux_make with cache_dir as the path; temporary name,
 * fsync, rename).  filecoin-ffi's seal_commit_phase1 needs it. */
pf_status pf_t_aux_write(int proof_id, const char *cache_dir, pf_error *err);
/* Reads and decodes <cache_dir>/t_aux. */
pf_status pf_t_aux_read(const char *cache_dir, pf_t_aux *out, pf_error *err);

typedef enum pf_cache_stage {
    PF_CACHE_SEALED = 0,          /* after PC2: what seal_commit_phase1 reads */
    PF_CACHE_CLEARED = 1,         /* after clear_cache: what PoSt reads */
} pf_cache_stage;

/* A file rust-fil-proofs reads from a cache directory, and its exact size. */
typedef struct pf_cache_file {
    char name[64];                /* "sc-02-data-tree-r-last-3.dat" */
    uint64_t bytes;               /* 0 for t_aux (its length depends on the path) */
} pf_cache_file;

/* The files of a sector's cache directory at a stage, named and sized by rust's rules
 * (merkletree get_merkle_tree_len / get_merkle_tree_cache_size, CacheKey names):
 * SEALED: sc-02-data-layer-<1..L>.dat, sc-02-data-tree-d.dat, sc-02-data-tree-c[-i].dat,
 * sc-02-data-tree-r-last[-i].dat, p_aux, t_aux; CLEARED: tree-r-last files, p_aux, t_aux.
 * *files is malloc'd. */
pf_status pf_cache_layout(int proof_id, pf_cache_stage stage, pf_cache_file **files,
                          size_t *n, pf_error *err);
/* Checks a cache directory against pf_cache_layout: every file present with its exact
 * size, p_aux giving comm_r (when comm_r is not NULL), the last node of each tree-r-last
 * file (and tree-c / tree-d when SEALED) being its base root so that the roots hash to
 * p_aux's comm_r_last and comm_c (and comm_d when given), t_aux passing pf_t_aux_check.
 * Files of the other stage may be present.  PF_OK, or PF_ECORRUPT / PF_EIO naming the
 * first file that does not match. */
pf_status pf_cache_dir_check(int proof_id, const char *cache_dir, pf_cache_stage stage,
                             const uint8_t comm_d[32], const uint8_t comm_r[32], pf_error *err);

#ifdef __cplusplus
}
#endif

#endif
