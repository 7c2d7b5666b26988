/* sealproofs.h — libsealproofs, the public contract of sealpipe's proofs library.
 *
 * A native C implementation of Filecoin's Stacked-DRG PoRep v1.1 and Fallback PoSt with
 * the semantics of filecoin-ffi and bytes identical to rust-fil-proofs.  Conventions:
 *  - every public symbol starts with pf_;
 *  - a 32-byte commitment, label, replica id or field element is always the canonical
 *    (non-Montgomery) value, little-endian, exactly as rust-fil-proofs stores it;
 *  - a function that can fail returns pf_status and, when given a non-NULL pf_error,
 *    fills it with a message naming what was wrong and where; nothing aborts on bad input;
 *  - the library has no global mutable state except lazily built, immutable tables
 *    (Poseidon constants) guarded by pthread_once.
 *
 * The API is split by phase into the headers included at the bottom.
 */
#ifndef SEALPROOFS_H
#define SEALPROOFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PF_VERSION_STRING "0.1.0"

typedef enum pf_status {
    PF_OK = 0,
    PF_EINVAL,        /* bad argument: wrong size, unknown proof id, value not in the field */
    PF_EIO,           /* reading or writing a file failed */
    PF_ENOSPC,        /* no space left on the device */
    PF_ENOMEM,        /* allocation or mapping failed */
    PF_ECORRUPT,      /* stored data failed an integrity check (parent cache, tree file, ...) */
    PF_EUNSUPPORTED,  /* not supported by this build, backend or proof type */
    PF_EVERIFY,       /* a proof did not verify */
    PF_EDEVICE,       /* OpenCL / GPU failure */
    PF_EBACKEND,      /* the filcrypto backend failed or is unavailable */
    PF_EINTERRUPTED,  /* cancelled by the caller */
    PF_EINTERNAL,     /* an invariant did not hold (a bug) */
    PF_STATUS_COUNT
} pf_status;

#define PF_ERROR_MSG_MAX 512
typedef struct pf_error {
    pf_status status;
    char msg[PF_ERROR_MSG_MAX];
} pf_error;

/* Short fixed description of a status. Never NULL. */
const char *pf_strerror(pf_status status);

/* ---- Registered proofs (numbers are the chain's abi.RegisteredSealProof / PoStProof) ---- */

typedef enum pf_porep_feature {
    PF_FEATURE_NONE = 0,
    PF_FEATURE_SYNTHETIC = 1,     /* ids 10..14 */
    PF_FEATURE_NI = 2,            /* ids 15..19, non-interactive PoRep */
} pf_porep_feature;

typedef struct pf_seal_proof_info {
    int id;                       /* 0..19 */
    const char *name;             /* "StackedDrg2KiBV1_1" */
    uint64_t sector_size;         /* padded bytes */
    uint64_t nodes;               /* sector_size / 32 */
    int layers;                   /* 2 for test sizes, 11 for 32/64GiB */
    int api_version;              /* 100 = 1.0.0, 110 = 1.1.0, 120 = 1.2.0 */
    pf_porep_feature feature;
    int tree_base, tree_sub, tree_top;   /* arities: 8-0-0, 8-8-0, 8-8-2 */
    int partitions;               /* PoRep partitions */
    int challenges_per_partition;
    uint8_t porep_id[32];         /* LE64(id) || LE64(nonce=0) || 16 zero bytes */
    int winning_post_id;          /* matching RegisteredPoStProof ids */
    int window_post_id;           /* the current (V1_1 on chain) window proof */
} pf_seal_proof_info;

typedef struct pf_post_proof_info {
    int id;                       /* 0..14 */
    const char *name;             /* "StackedDrgWindow2KiBV1_1" (chain name) */
    uint64_t sector_size;
    int winning;                  /* 1 for Winning PoSt, 0 for Window PoSt */
    int api_version;              /* 100 or 120 (rust's V1_2 = chain's Window V1_1) */
    int challenge_count;          /* per sector: 66 winning, 10 window */
    uint64_t sector_count;        /* winning: sectors challenged (1); window: sectors per partition */
} pf_post_proof_info;

/* NULL when the id is not registered. */
const pf_seal_proof_info *pf_seal_proof(int id);
const pf_post_proof_info *pf_post_proof(int id);
/* Accepts a number ("5") or a name ("StackedDrg2KiBV1_1"); returns the id or -1. */
int pf_seal_proof_parse(const char *s);
int pf_post_proof_parse(const char *s);
/* The V1_1 proof id for a sector size, or -1. */
int pf_seal_proof_for_size(uint64_t sector_size);

/* Unpadded bytes a sector holds: sector_size * 127 / 128. */
uint64_t pf_max_user_bytes(uint64_t sector_size);

/* ---- Hash primitives (also what the chain side needs for randomness) ---- */

/* SHA-256 of a buffer (SHA-NI when the CPU has it). */
void pf_sha256(const void *data, size_t len, uint8_t out[32]);
/* BLAKE2b (RFC 7693), outlen 1..64, keylen 0..64; returns 0, or -1 on bad lengths.
 * blake2b-256 as Filecoin's randomness uses it is outlen 32, no key. */
int pf_blake2b(uint8_t *out, size_t outlen, const void *key, size_t keylen, const void *data,
               size_t len);

#ifdef __cplusplus
}
#endif

/* Phase APIs (each header documents its own contract). */
#include "sealproofs/data.h"      /* sha256, fr32, CommP/CommD, add_piece, replica_id */
#include "sealproofs/pc1.h"       /* parent graph, parent cache, SDR labeling, PC1 */
#include "sealproofs/pc2.h"       /* field, Poseidon, tree_d/tree_c/tree_r_last, PC2, OpenCL */
#include "sealproofs/commit.h"    /* C1, C2, verify, PoSt, unseal, clear_cache */
#include "sealproofs/formats.h"   /* rust-fil-proofs/filecoin-ffi/Curio byte formats */
#include "sealproofs/filcrypto.h" /* run-time loaded libfilcrypto backend */

#endif
