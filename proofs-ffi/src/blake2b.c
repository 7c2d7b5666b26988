/* blake2b.c — BLAKE2b per RFC 7693 (streaming, keyed, any output length) and the
 * fixed-shape hash of SDR's Feistel round function, written out so the compiler folds
 * the 14 zero message words away (it runs 3-6 times per expander parent). */
#include "blake2b.h"

#include <string.h>

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t SIGMA[12][16] = {
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
    { 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
    { 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
    { 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
    { 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
    { 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
    { 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
    { 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
    { 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
    { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
    { 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
};

#define ROTR64(x, n) (((x) >> (n)) | ((x) << (64 - (n))))
#define G(a, b, c, d, x, y)                              \
    do {                                                 \
        v[a] = v[a] + v[b] + (x);                        \
        v[d] = ROTR64(v[d] ^ v[a], 32);                  \
        v[c] = v[c] + v[d];                              \
        v[b] = ROTR64(v[b] ^ v[c], 24);                  \
        v[a] = v[a] + v[b] + (y);                        \
        v[d] = ROTR64(v[d] ^ v[a], 16);                  \
        v[c] = v[c] + v[d];                              \
        v[b] = ROTR64(v[b] ^ v[c], 63);                  \
    } while (0)
#define ROUND(r)                                                         \
    do {                                                                 \
        G(0, 4, 8, 12, m[SIGMA[r][0]], m[SIGMA[r][1]]);                  \
        G(1, 5, 9, 13, m[SIGMA[r][2]], m[SIGMA[r][3]]);                  \
        G(2, 6, 10, 14, m[SIGMA[r][4]], m[SIGMA[r][5]]);                 \
        G(3, 7, 11, 15, m[SIGMA[r][6]], m[SIGMA[r][7]]);                 \
        G(0, 5, 10, 15, m[SIGMA[r][8]], m[SIGMA[r][9]]);                 \
        G(1, 6, 11, 12, m[SIGMA[r][10]], m[SIGMA[r][11]]);               \
        G(2, 7, 8, 13, m[SIGMA[r][12]], m[SIGMA[r][13]]);                \
        G(3, 4, 9, 14, m[SIGMA[r][14]], m[SIGMA[r][15]]);                \
    } while (0)

/* Inlined into both callers so that constant message words fold. */
static inline __attribute__((always_inline)) void compress(uint64_t h[8], const uint64_t m[16],
                                                           uint64_t t0, uint64_t t1, int last)
{
    uint64_t v[16];
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = IV[i];
    }
    v[12] ^= t0;
    v[13] ^= t1;
    if (last)
        v[14] = ~v[14];
    ROUND(0); ROUND(1); ROUND(2); ROUND(3); ROUND(4); ROUND(5);
    ROUND(6); ROUND(7); ROUND(8); ROUND(9); ROUND(10); ROUND(11);
    for (int i = 0; i < 8; i++)
        h[i] ^= v[i] ^ v[i + 8];
}

static inline uint64_t load64_le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void compress_buf(pf_blake2b_ctx *c, int last)
{
    uint64_t m[16];
    for (int i = 0; i < 16; i++)
        m[i] = load64_le(c->buf + 8 * i);
    compress(c->h, m, c->t[0], c->t[1], last);
}

int pf_blake2b_init(pf_blake2b_ctx *c, size_t outlen, const void *key, size_t keylen)
{
    if (outlen == 0 || outlen > 64 || keylen > 64 || (keylen && !key))
        return -1;
    memcpy(c->h, IV, sizeof c->h);
    /* parameter block word 0: digest length, key length, fanout 1, depth 1 */
    c->h[0] ^= 0x01010000ULL ^ (uint64_t)keylen << 8 ^ (uint64_t)outlen;
    c->t[0] = c->t[1] = 0;
    c->fill = 0;
    c->outlen = outlen;
    if (keylen) {
        memset(c->buf, 0, sizeof c->buf);
        memcpy(c->buf, key, keylen);
        c->fill = 128;   /* the key block is compressed once more data (or final) arrives */
    }
    return 0;
}

void pf_blake2b_update(pf_blake2b_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        if (c->fill == 128) {
            /* Only compress a full buffer when more input follows: the last block must be
             * compressed with the final flag. */
            c->t[0] += 128;
            if (c->t[0] < 128)
                c->t[1]++;
            compress_buf(c, 0);
            c->fill = 0;
        }
        size_t n = 128 - c->fill < len ? 128 - c->fill : len;
        memcpy(c->buf + c->fill, p, n);
        c->fill += n;
        p += n;
        len -= n;
    }
}

void pf_blake2b_final(pf_blake2b_ctx *c, uint8_t *out)
{
    c->t[0] += c->fill;
    if (c->t[0] < c->fill)
        c->t[1]++;
    memset(c->buf + c->fill, 0, 128 - c->fill);
    compress_buf(c, 1);
    for (size_t i = 0; i < c->outlen; i++)
        out[i] = (uint8_t)(c->h[i / 8] >> (8 * (i % 8)));
}

int pf_blake2b(uint8_t *out, size_t outlen, const void *key, size_t keylen, const void *data,
               size_t len)
{
    pf_blake2b_ctx c;
    if (pf_blake2b_init(&c, outlen, key, keylen))
        return -1;
    pf_blake2b_update(&c, data, len);
    pf_blake2b_final(&c, out);
    return 0;
}

uint64_t pf_blake2b_feistel(uint64_t a, uint64_t b)
{
    /* The 16 message bytes are BE64(a) || BE64(b); BLAKE2b reads words little-endian. */
    const uint64_t m[16] = { __builtin_bswap64(a), __builtin_bswap64(b) };
    uint64_t h[8];
    memcpy(h, IV, sizeof h);
    h[0] ^= 0x01010000ULL ^ 64;
    compress(h, m, 16, 0, 1);
    /* Output bytes 0..7 are h[0] little-endian; the caller wants them big-endian. */
    return __builtin_bswap64(h[0]);
}
