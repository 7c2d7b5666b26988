/* blake2b.h — BLAKE2b (RFC 7693): unkeyed and keyed, any output length 1..64.
 * SDR's Feistel round function hashes 16 bytes with 64-byte output (pf_blake2b_feistel);
 * C1's synthetic challenges derive keys with keyed BLAKE2b-256. */
#ifndef PF_BLAKE2B_H
#define PF_BLAKE2B_H

#include <stddef.h>
#include <stdint.h>

typedef struct pf_blake2b_ctx {
    uint64_t h[8];
    uint64_t t[2];        /* bytes compressed so far (128-bit counter) */
    uint8_t buf[128];
    size_t fill;
    size_t outlen;
} pf_blake2b_ctx;

/* outlen 1..64, keylen 0..64 (key may be NULL when keylen is 0). Returns 0, or -1 when a
 * length is out of range. */
int pf_blake2b_init(pf_blake2b_ctx *c, size_t outlen, const void *key, size_t keylen);
void pf_blake2b_update(pf_blake2b_ctx *c, const void *data, size_t len);
/* Writes outlen bytes. */
void pf_blake2b_final(pf_blake2b_ctx *c, uint8_t *out);
/* One-shot; returns 0 or -1 (bad lengths). */
int pf_blake2b(uint8_t *out, size_t outlen, const void *key, size_t keylen, const void *data,
               size_t len);

/* The first 8 bytes, read big-endian, of unkeyed BLAKE2b-512(BE64(a) || BE64(b)):
 * rust-fil-proofs' Feistel round function before masking. */
uint64_t pf_blake2b_feistel(uint64_t a, uint64_t b);

#endif
