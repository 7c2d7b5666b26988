/* sha256.h — SHA-256 (FIPS 180-4) for the proofs library: a portable compression
 * function, a SHA-NI one, run-time dispatch between them, and a streaming context.
 * Every hash in PoRep (labels, tree_d, CommP, replica_id, challenges) goes through here. */
#ifndef PF_SHA256_H
#define PF_SHA256_H

#include <stddef.h>
#include <stdint.h>

extern const uint32_t pf_sha256_iv[8];
extern const uint32_t pf_sha256_k[64];   /* round constants, 16-byte aligned */

/* Compresses nblocks consecutive 64-byte blocks into state. */
void pf_sha256_compress_portable(uint32_t state[8], const uint8_t *blocks, size_t nblocks);
void pf_sha256_compress_ni(uint32_t state[8], const uint8_t *blocks, size_t nblocks);
/* The dispatched implementation: SHA-NI when the CPU has it and SEALPIPE_NO_SHANI is unset. */
void pf_sha256_compress(uint32_t state[8], const uint8_t *blocks, size_t nblocks);
/* 1 when the dispatched path uses SHA-NI. */
int pf_sha256_using_ni(void);
/* 1 when the CPU supports the SHA extensions (regardless of the override). */
int pf_sha256_cpu_has_ni(void);

typedef struct pf_sha256_ctx {
    uint32_t h[8];
    uint8_t buf[64];
    size_t fill;
    uint64_t total;
} pf_sha256_ctx;

void pf_sha256_init(pf_sha256_ctx *c);
void pf_sha256_update(pf_sha256_ctx *c, const void *data, size_t len);
void pf_sha256_final(pf_sha256_ctx *c, uint8_t out[32]);
void pf_sha256(const void *data, size_t len, uint8_t out[32]);

/* Big-endian state words to the 32-byte digest. */
void pf_sha256_state_to_bytes(const uint32_t state[8], uint8_t out[32]);

#endif
