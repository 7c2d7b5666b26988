/* sha256.c — portable SHA-256 compression, CPU dispatch and the streaming API. */
#include "sha256.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const uint32_t pf_sha256_iv[8] = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* The round constants, 16-byte aligned for the SHA-NI paths that load four at a time. */
const uint32_t pf_sha256_k[64] __attribute__((aligned(16))) = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static inline uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void pf_sha256_compress_portable(uint32_t state[8], const uint8_t *blocks, size_t nblocks)
{
    for (size_t b = 0; b < nblocks; b++, blocks += 64) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++)
            w[i] = be32(blocks + 4 * i);
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = state[0], bb = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; i++) {
            uint32_t S1 = ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = h + S1 + ch + pf_sha256_k[i] + w[i];
            uint32_t S0 = ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22);
            uint32_t maj = (a & bb) ^ (a & c) ^ (bb & c);
            uint32_t t2 = S0 + maj;
            h = g; g = f; f = e; e = d + t1;
            d = c; c = bb; bb = a; a = t1 + t2;
        }
        state[0] += a; state[1] += bb; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
    }
}

static struct {
    pthread_once_t once;
    void (*compress)(uint32_t *, const uint8_t *, size_t);
    int cpu_ni, use_ni;
} dispatch = { PTHREAD_ONCE_INIT, pf_sha256_compress_portable, 0, 0 };

/* SHA-NI and SSE4.1 straight from CPUID (leaf 7 EBX bit 29, leaf 1 ECX bit 19): clang
 * before 15 rejects __builtin_cpu_supports("sha"), and the fuzz build uses clang 14.
 * Neither extension needs OS support beyond SSE state, so no XGETBV check is needed. */
static int cpu_has_sha_ni(void)
{
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 7 || !__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19)))
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 29) & 1;
#else
    return 0;
#endif
}

static void choose(void)
{
    dispatch.cpu_ni = cpu_has_sha_ni();
    const char *off = getenv("SEALPIPE_NO_SHANI");
    dispatch.use_ni = dispatch.cpu_ni && !(off && *off && strcmp(off, "0") != 0);
    dispatch.compress = dispatch.use_ni ? pf_sha256_compress_ni : pf_sha256_compress_portable;
}

void pf_sha256_compress(uint32_t state[8], const uint8_t *blocks, size_t nblocks)
{
    pthread_once(&dispatch.once, choose);
    dispatch.compress(state, blocks, nblocks);
}

int pf_sha256_using_ni(void)
{
    pthread_once(&dispatch.once, choose);
    return dispatch.use_ni;
}

int pf_sha256_cpu_has_ni(void)
{
    pthread_once(&dispatch.once, choose);
    return dispatch.cpu_ni;
}

void pf_sha256_init(pf_sha256_ctx *c)
{
    memcpy(c->h, pf_sha256_iv, sizeof c->h);
    c->fill = 0;
    c->total = 0;
}

void pf_sha256_update(pf_sha256_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    c->total += len;
    if (c->fill) {
        size_t take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->buf + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill == 64) {
            pf_sha256_compress(c->h, c->buf, 1);
            c->fill = 0;
        }
    }
    if (len >= 64) {
        pf_sha256_compress(c->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    if (len) {
        memcpy(c->buf, p, len);
        c->fill = len;
    }
}

void pf_sha256_state_to_bytes(const uint32_t state[8], uint8_t out[32])
{
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(state[i] >> 24);
        out[4 * i + 1] = (uint8_t)(state[i] >> 16);
        out[4 * i + 2] = (uint8_t)(state[i] >> 8);
        out[4 * i + 3] = (uint8_t)state[i];
    }
}

void pf_sha256_final(pf_sha256_ctx *c, uint8_t out[32])
{
    uint64_t bits = c->total * 8;
    uint8_t pad[72] = { 0x80 };
    size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
    for (int i = 0; i < 8; i++)
        pad[padlen + i] = (uint8_t)(bits >> (56 - 8 * i));
    uint64_t total = c->total;
    pf_sha256_update(c, pad, padlen + 8);
    c->total = total;
    pf_sha256_state_to_bytes(c->h, out);
}

void pf_sha256(const void *data, size_t len, uint8_t out[32])
{
    pf_sha256_ctx c;
    pf_sha256_init(&c);
    pf_sha256_update(&c, data, len);
    pf_sha256_final(&c, out);
}
