/* chacha.h — the ChaCha stream cipher (D. J. Bernstein; RFC 7539 for the IETF layout) with
 * a configurable round count.  SDR uses ChaCha8 in rand_chacha's layout (64-bit block
 * counter in words 12-13, 64-bit stream id in words 14-15) to sample DRG parents; C1's
 * synthetic challenges use ChaCha20 in the IETF layout (32-bit counter, 96-bit nonce). */
#ifndef PF_CHACHA_H
#define PF_CHACHA_H

#include <stddef.h>
#include <stdint.h>

/* One 64-byte keystream block as 16 words (the state after the rounds plus the input).
 * `words12_15` are state words 12..15 (counter and nonce, in whichever layout the caller
 * uses); rounds is even (8, 12 or 20). */
void pf_chacha_block(const uint8_t key[32], const uint32_t words12_15[4], int rounds,
                     uint32_t out[16]);

/* rand_chacha layout: words 12-13 = 64-bit block counter, words 14-15 = 64-bit stream. */
void pf_chacha_block_rand(const uint8_t key[32], uint64_t counter, uint64_t stream, int rounds,
                          uint32_t out[16]);

/* IETF layout (RFC 7539): keystream bytes starting at block `counter`, XORed into buf
 * (pass zeros to read the keystream itself).  len may be any length. */
void pf_chacha_ietf_xor(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                        int rounds, uint8_t *buf, size_t len);

/* A sequential u32/u64 reader over a rand_chacha keystream (ChaCha8Rng::from_seed):
 * next_u64 takes two consecutive words, low word first, crossing block boundaries. */
typedef struct pf_chacha_rng {
    uint8_t key[32];
    uint64_t counter;     /* next block to generate */
    uint32_t buf[16];
    int pos;              /* next unread word in buf; 16 = empty */
    int rounds;
} pf_chacha_rng;

void pf_chacha_rng_init(pf_chacha_rng *r, const uint8_t seed[32], int rounds);
uint32_t pf_chacha_rng_u32(pf_chacha_rng *r);
uint64_t pf_chacha_rng_u64(pf_chacha_rng *r);

#endif
