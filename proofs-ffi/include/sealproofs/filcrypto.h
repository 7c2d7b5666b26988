/* sealproofs/filcrypto.h — the optional filcrypto backend: filecoin-ffi's libfilcrypto
 * loaded at run time (dlopen) for chain-valid Groth16 proofs (C2, Winning/Window PoSt
 * SNARKs) while PC1/PC2 stay native.  Which stages use it is chosen per stage
 * (pf_backend_config); the native backend needs nothing extra.
 *
 * Loading resolves, up front, every symbol the chosen stages need plus the version probes,
 * and checks the library's version, so a missing library, a missing symbol or a library of
 * another ABI is one clear error at startup naming the path and the symbol — never in the
 * middle of a sector.  The library is found from the path argument, else the environment
 * variable SEALPIPE_FILCRYPTO.  Upstream builds only libfilcrypto.a; a shared object is
 * made with `cc -shared -o libfilcrypto.so -Wl,--whole-archive libfilcrypto.a
 * -Wl,--no-whole-archive <Libs from filcrypto.pc>` (research/interfaces.md A.1).
 *
 * ABI: filecoin-ffi v1.36.1 (safer_ffi): 32-byte values by pointer, byte slices as
 * {ptr, len}, results as heap structs {status_code, error_msg, value} released with the
 * matching destroy_* function; owned buffers handed to Rust are made with
 * alloc_boxed_slice.  Version check: the library must export the NI-PoRep-era marker
 * symbols (seal_commit_phase2_circuit_proofs, generate_synth_proofs, get_post_version) and
 * get_seal_version / get_post_version must name every registered proof as this library
 * numbers them (seal 0..19, PoSt 0..14, chain Window V1_1 = rust V1_2).
 *
 * Inputs and outputs are rust's formats: seal_commit_phase2 consumes filecoin-ffi's C1
 * JSON (issue 12's converter makes it from a native C1 output), PoSt calls take and give
 * rust's bincode vanilla proofs and Groth16 proof bytes. */
#ifndef SEALPROOFS_FILCRYPTO_H
#define SEALPROOFS_FILCRYPTO_H

#include "../sealproofs.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- per-stage backend choice ---- */

typedef enum pf_stage {
    PF_STAGE_C1 = 0,              /* seal_commit_phase1 */
    PF_STAGE_C2,                  /* seal_commit_phase2 */
    PF_STAGE_VERIFY_SEAL,         /* verify_seal */
    PF_STAGE_WINNING_POST,        /* generate_winning_post(_with_vanilla), verify_winning_post */
    PF_STAGE_WINDOW_POST,         /* generate_window_post(_with_vanilla), verify_window_post */
    PF_STAGE_VANILLA_POST,        /* generate_single_vanilla_proof */
    PF_STAGE_UNSEAL,              /* unseal_range */
    PF_STAGE_COUNT
} pf_stage;

typedef enum pf_backend {
    PF_BACKEND_NATIVE = 0,
    PF_BACKEND_FILCRYPTO = 1,
} pf_backend;

typedef struct pf_backend_config {
    pf_backend stage[PF_STAGE_COUNT];
} pf_backend_config;

/* "c1", "c2", "verify_seal", "winning_post", "window_post", "vanilla_post", "unseal". */
const char *pf_stage_name(pf_stage s);
/* "native" / "filcrypto". */
const char *pf_backend_name(pf_backend b);
/* Every stage native. */
void pf_backend_config_default(pf_backend_config *c);
/* Sets stages from "stage=backend[,stage=backend...]" ("" changes nothing); "all" names
 * every stage.  PF_EINVAL naming the bad item. */
pf_status pf_backend_config_parse(pf_backend_config *c, const char *spec, pf_error *err);
/* Bit mask (1u << stage) of the stages set to filcrypto. */
unsigned pf_backend_filcrypto_stages(const pf_backend_config *c);

/* ---- the loaded library ---- */

typedef struct pf_filcrypto pf_filcrypto;

#define PF_FILCRYPTO_ENV "SEALPIPE_FILCRYPTO"

/* Loads the library (path, else $SEALPIPE_FILCRYPTO) and resolves the symbols of the
 * stages in the mask (1u << pf_stage) and the version probes.  Errors: PF_EBACKEND with
 * the path and the dlopen message, the missing symbol, or the version mismatch. */
pf_status pf_filcrypto_open(const char *path, unsigned stages, pf_filcrypto **out, pf_error *err);
void pf_filcrypto_close(pf_filcrypto *fc);
/* The path loaded and the version string it reported for StackedDrg2KiBV1_1. */
const char *pf_filcrypto_path(const pf_filcrypto *fc);
const char *pf_filcrypto_version(const pf_filcrypto *fc);
/* 1 when the stage's symbols were resolved. */
int pf_filcrypto_has_stage(const pf_filcrypto *fc, pf_stage s);

/* A malloc'd byte buffer returned by the calls below (free with free()). */
typedef struct pf_bytes {
    uint8_t *data;
    size_t len;
} pf_bytes;
void pf_bytes_free(pf_bytes *b);

/* A Groth16 PoSt proof as filecoin-ffi returns it (PoStProof). */
typedef struct pf_fc_post_proof {
    int post_proof_id;
    pf_bytes proof;
} pf_fc_post_proof;

typedef struct pf_fc_post_result {
    pf_fc_post_proof *proofs;
    size_t nproofs;
    uint64_t *faulty;             /* window PoSt: sectors rust reported as faulty */
    size_t nfaulty;
} pf_fc_post_result;
void pf_fc_post_result_free(pf_fc_post_result *r);

/* Every call returns PF_OK, PF_EBACKEND with the library's message (status code and text),
 * PF_EUNSUPPORTED when the stage was not loaded, or PF_EINVAL for bad arguments. */

/* seal_commit_phase1: rust's C1 JSON in *out. */
pf_status pf_fc_seal_commit_phase1(pf_filcrypto *fc, int proof_id, const uint8_t comm_r[32],
                                   const uint8_t comm_d[32], const char *cache_dir,
                                   const char *replica_path, uint64_t sector_id,
                                   const uint8_t prover_id[32], const uint8_t ticket[32],
                                   const uint8_t seed[32], const pf_piece_info *pieces,
                                   size_t npieces, pf_bytes *out, pf_error *err);
/* seal_commit_phase2: Groth16 proof bytes (192 per partition) from rust's C1 JSON. */
pf_status pf_fc_seal_commit_phase2(pf_filcrypto *fc, const uint8_t *c1_json, size_t len,
                                   uint64_t sector_id, const uint8_t prover_id[32], pf_bytes *out,
                                   pf_error *err);
/* verify_seal: *valid = 1 or 0. */
pf_status pf_fc_verify_seal(pf_filcrypto *fc, int proof_id, const uint8_t comm_r[32],
                            const uint8_t comm_d[32], const uint8_t prover_id[32],
                            const uint8_t ticket[32], const uint8_t seed[32], uint64_t sector_id,
                            const uint8_t *proof, size_t proof_len, int *valid, pf_error *err);

/* A replica for the filcrypto PoSt calls (PrivateReplicaInfo). */
typedef struct pf_fc_replica {
    int post_proof_id;
    uint64_t sector_id;
    uint8_t comm_r[32];
    const char *cache_dir;
    const char *sealed_path;
} pf_fc_replica;

pf_status pf_fc_generate_winning_post(pf_filcrypto *fc, const uint8_t randomness[32],
                                      const pf_fc_replica *replicas, size_t n,
                                      const uint8_t prover_id[32], pf_fc_post_result *out,
                                      pf_error *err);
/* On a window PoSt failure caused by bad sectors, PF_EBACKEND with out->faulty filled. */
pf_status pf_fc_generate_window_post(pf_filcrypto *fc, const uint8_t randomness[32],
                                     const pf_fc_replica *replicas, size_t n,
                                     const uint8_t prover_id[32], pf_fc_post_result *out,
                                     pf_error *err);
/* The same from rust bincode vanilla proofs (one per sector). */
pf_status pf_fc_generate_winning_post_with_vanilla(pf_filcrypto *fc, int post_proof_id,
                                                   const uint8_t randomness[32],
                                                   const uint8_t prover_id[32],
                                                   const pf_bytes *vanilla, size_t n,
                                                   pf_fc_post_result *out, pf_error *err);
pf_status pf_fc_generate_window_post_with_vanilla(pf_filcrypto *fc, int post_proof_id,
                                                  const uint8_t randomness[32],
                                                  const uint8_t prover_id[32],
                                                  const pf_bytes *vanilla, size_t n,
                                                  pf_fc_post_result *out, pf_error *err);
/* generate_single_vanilla_proof: rust bincode FallbackPoStSectorProof in *out. */
pf_status pf_fc_generate_single_vanilla_proof(pf_filcrypto *fc, const pf_fc_replica *replica,
                                              const uint64_t *challenges, size_t n,
                                              pf_bytes *out, pf_error *err);
/* verify_winning_post / verify_window_post over (sector_id, comm_r) pairs. */
pf_status pf_fc_verify_post(pf_filcrypto *fc, int winning, const uint8_t randomness[32],
                            const pf_fc_replica *replicas, size_t n,
                            const pf_fc_post_proof *proofs, size_t nproofs,
                            const uint8_t prover_id[32], int *valid, pf_error *err);
/* unseal_range into out_fd (both fds are dup'ed first: rust may close them on error). */
pf_status pf_fc_unseal_range(pf_filcrypto *fc, int proof_id, const char *cache_dir, int sealed_fd,
                             int out_fd, uint64_t sector_id, const uint8_t prover_id[32],
                             const uint8_t ticket[32], const uint8_t comm_d[32], uint64_t offset,
                             uint64_t length, pf_error *err);

#ifdef __cplusplus
}
#endif

#endif
