/* chacha8.c — the ChaCha block function for any even round count (8 for SDR's DRG
 * sampling, 20 for C1's synthetic challenges), the IETF keystream XOR, and the sequential
 * rand_chacha-compatible word reader used by the DRG. */
#include "chacha.h"

#include <string.h>

#define ROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))
#define QR(a, b, c, d)                                   \
    do {                                                 \
        a += b; d ^= a; d = ROTL(d, 16);                 \
        c += d; b ^= c; b = ROTL(b, 12);                 \
        a += b; d ^= a; d = ROTL(d, 8);                  \
        c += d; b ^= c; b = ROTL(b, 7);                  \
    } while (0)

static inline uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pf_chacha_block(const uint8_t key[32], const uint32_t words12_15[4], int rounds,
                     uint32_t out[16])
{
    /* "expand 32-byte k" */
    uint32_t in[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };
    for (int i = 0; i < 8; i++)
        in[4 + i] = le32(key + 4 * i);
    for (int i = 0; i < 4; i++)
        in[12 + i] = words12_15[i];
    uint32_t x[16];
    memcpy(x, in, sizeof x);
    for (int r = 0; r < rounds; r += 2) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++)
        out[i] = x[i] + in[i];
}

void pf_chacha_block_rand(const uint8_t key[32], uint64_t counter, uint64_t stream, int rounds,
                          uint32_t out[16])
{
    const uint32_t w[4] = { (uint32_t)counter, (uint32_t)(counter >> 32), (uint32_t)stream,
                            (uint32_t)(stream >> 32) };
    pf_chacha_block(key, w, rounds, out);
}

void pf_chacha_ietf_xor(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                        int rounds, uint8_t *buf, size_t len)
{
    uint32_t w[4] = { counter, le32(nonce), le32(nonce + 4), le32(nonce + 8) };
    while (len) {
        uint32_t ks[16];
        pf_chacha_block(key, w, rounds, ks);
        size_t n = len < 64 ? len : 64;
        for (size_t i = 0; i < n; i++)
            buf[i] ^= (uint8_t)(ks[i / 4] >> (8 * (i % 4)));
        buf += n;
        len -= n;
        w[0]++;
    }
}

void pf_chacha_rng_init(pf_chacha_rng *r, const uint8_t seed[32], int rounds)
{
    memcpy(r->key, seed, 32);
    r->counter = 0;
    r->pos = 16;
    r->rounds = rounds;
}

uint32_t pf_chacha_rng_u32(pf_chacha_rng *r)
{
    if (r->pos == 16) {
        pf_chacha_block_rand(r->key, r->counter++, 0, r->rounds, r->buf);
        r->pos = 0;
    }
    return r->buf[r->pos++];
}

uint64_t pf_chacha_rng_u64(pf_chacha_rng *r)
{
    uint64_t lo = pf_chacha_rng_u32(r);
    uint64_t hi = pf_chacha_rng_u32(r);
    return lo | hi << 32;
}
