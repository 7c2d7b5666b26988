/* filcrypto_abi.h — the C shapes of filecoin-ffi v1.36.1's libfilcrypto ABI as safer_ffi
 * generates them (research/interfaces.md A.2-A.5; names as in the generated filcrypto.h,
 * prefixed fc_ here so they cannot clash with a real filcrypto.h).  Used by filcrypto.c
 * and by the fake library the tests build (tests/unit/fake_filcrypto.c). */
#ifndef PF_FILCRYPTO_ABI_H
#define PF_FILCRYPTO_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t fc_status_t;         /* FCPResponseStatus: 0 ok, 1 unclassified, 2 caller, 3 receiver */
typedef int32_t fc_seal_proof_t;     /* RegisteredSealProof_t, ordinal = chain id */
typedef int32_t fc_post_proof_t;     /* RegisteredPoStProof_t */

typedef struct { uint8_t idx[32]; } fc_u8_32_t;                      /* uint8_32_array_t */
typedef struct { const uint8_t *ptr; size_t len; } fc_ref_u8_t;      /* slice_ref_uint8_t */
typedef struct { uint8_t *ptr; size_t len; } fc_box_u8_t;            /* slice_boxed_uint8_t */
typedef struct { const uint64_t *ptr; size_t len; } fc_ref_u64_t;    /* slice_ref_uint64_t */
typedef struct { uint64_t *ptr; size_t len; } fc_box_u64_t;          /* slice_boxed_uint64_t */
typedef struct { const fc_box_u8_t *ptr; size_t len; } fc_ref_box_u8_t; /* slice_ref_slice_boxed_uint8_t */

typedef struct {                                                     /* PublicPieceInfo_t */
    uint64_t num_bytes;
    fc_u8_32_t comm_p;
} fc_piece_t;
typedef struct { const fc_piece_t *ptr; size_t len; } fc_ref_piece_t;

typedef struct {                                                     /* PrivateReplicaInfo_t */
    fc_post_proof_t registered_proof;
    fc_box_u8_t cache_dir_path;
    fc_u8_32_t comm_r;
    fc_box_u8_t replica_path;
    uint64_t sector_id;
} fc_private_replica_t;
typedef struct { const fc_private_replica_t *ptr; size_t len; } fc_ref_private_replica_t;

typedef struct {                                                     /* PublicReplicaInfo_t */
    fc_post_proof_t registered_proof;
    fc_u8_32_t comm_r;
    uint64_t sector_id;
} fc_public_replica_t;
typedef struct { const fc_public_replica_t *ptr; size_t len; } fc_ref_public_replica_t;

typedef struct {                                                     /* PoStProof_t */
    fc_post_proof_t registered_proof;
    fc_box_u8_t proof;
} fc_post_proof_bytes_t;
typedef struct { fc_post_proof_bytes_t *ptr; size_t len; } fc_box_post_proof_t;
typedef struct { const fc_post_proof_bytes_t *ptr; size_t len; } fc_ref_post_proof_t;

typedef struct {                                                     /* GenerateWindowPoSt_t */
    fc_box_post_proof_t proofs;
    fc_box_u64_t faulty_sectors;
} fc_window_post_t;

/* Result_X_t: status, error message (not NUL-terminated), value. */
typedef struct { fc_status_t status_code; fc_box_u8_t error_msg; } fc_result_void_t;
typedef struct { fc_status_t status_code; fc_box_u8_t error_msg; fc_box_u8_t value; } fc_result_bytes_t;
typedef struct { fc_status_t status_code; fc_box_u8_t error_msg; bool value; } fc_result_bool_t;
typedef struct { fc_status_t status_code; fc_box_u8_t error_msg; fc_box_post_proof_t value; } fc_result_post_proofs_t;
typedef struct { fc_status_t status_code; fc_box_u8_t error_msg; fc_window_post_t value; } fc_result_window_post_t;

/* Function types of the symbols used. */
typedef fc_result_bytes_t *(*fc_seal_commit_phase1_fn)(fc_seal_proof_t, const fc_u8_32_t *comm_r,
                                                       const fc_u8_32_t *comm_d, fc_ref_u8_t cache_dir,
                                                       fc_ref_u8_t replica_path, uint64_t sector_id,
                                                       const fc_u8_32_t *prover_id,
                                                       const fc_u8_32_t *ticket,
                                                       const fc_u8_32_t *seed, fc_ref_piece_t pieces);
typedef fc_result_bytes_t *(*fc_seal_commit_phase2_fn)(fc_ref_u8_t c1_output, uint64_t sector_id,
                                                       const fc_u8_32_t *prover_id);
typedef fc_result_bool_t *(*fc_verify_seal_fn)(fc_seal_proof_t, const fc_u8_32_t *comm_r,
                                               const fc_u8_32_t *comm_d, const fc_u8_32_t *prover_id,
                                               const fc_u8_32_t *ticket, const fc_u8_32_t *seed,
                                               uint64_t sector_id, fc_ref_u8_t proof);
typedef fc_result_post_proofs_t *(*fc_generate_winning_post_fn)(const fc_u8_32_t *randomness,
                                                                fc_ref_private_replica_t replicas,
                                                                const fc_u8_32_t *prover_id);
typedef fc_result_post_proofs_t *(*fc_generate_winning_post_with_vanilla_fn)(
    fc_post_proof_t, const fc_u8_32_t *randomness, const fc_u8_32_t *prover_id,
    fc_ref_box_u8_t vanilla_proofs);
typedef fc_result_window_post_t *(*fc_generate_window_post_fn)(const fc_u8_32_t *randomness,
                                                               fc_ref_private_replica_t replicas,
                                                               const fc_u8_32_t *prover_id);
typedef fc_result_window_post_t *(*fc_generate_window_post_with_vanilla_fn)(
    fc_post_proof_t, const fc_u8_32_t *randomness, const fc_u8_32_t *prover_id,
    fc_ref_box_u8_t vanilla_proofs);
typedef fc_result_bytes_t *(*fc_generate_single_vanilla_proof_fn)(fc_private_replica_t replica,
                                                                  fc_ref_u64_t challenges);
typedef fc_result_bool_t *(*fc_verify_post_fn)(const fc_u8_32_t *randomness,
                                               fc_ref_public_replica_t replicas,
                                               fc_ref_post_proof_t proofs,
                                               const fc_u8_32_t *prover_id);
typedef fc_result_void_t *(*fc_unseal_range_fn)(fc_seal_proof_t, fc_ref_u8_t cache_dir,
                                                int32_t sealed_fd, int32_t out_fd,
                                                uint64_t sector_id, const fc_u8_32_t *prover_id,
                                                const fc_u8_32_t *ticket, const fc_u8_32_t *comm_d,
                                                uint64_t offset, uint64_t length);
typedef fc_result_bytes_t *(*fc_get_version_fn)(int32_t registered_proof);
typedef fc_box_u8_t (*fc_alloc_boxed_slice_fn)(size_t);
typedef void (*fc_destroy_boxed_slice_fn)(fc_box_u8_t);
/* destroy_* of each result type */
typedef void (*fc_destroy_void_fn)(fc_result_void_t *);
typedef void (*fc_destroy_bytes_fn)(fc_result_bytes_t *);
typedef void (*fc_destroy_bool_fn)(fc_result_bool_t *);
typedef void (*fc_destroy_post_proofs_fn)(fc_result_post_proofs_t *);
typedef void (*fc_destroy_window_post_fn)(fc_result_window_post_t *);

#endif
