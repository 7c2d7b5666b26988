/* feistel_avx2.c — the Feistel permutation for many indices at once: four AVX2 lanes each
 * carry one index through its rounds (BLAKE2b-512 of a 16-byte message per round, the
 * four hashes computed side by side), and a lane whose index is done (or walked back into
 * the domain) takes the next one, so cycle walking never leaves a lane idle.  Generating
 * a parent cache is almost all this work (48 BLAKE2b compressions per node on average).
 * Built with -mavx2; only called after a CPU check (graph.c). */
#include "graph.h"

#include <immintrin.h>
#include <string.h>

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

/* Message word schedule (RFC 7693): only words 0 and 1 are non-zero here. */
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

#define INLINE static inline __attribute__((always_inline))

INLINE __m256i ror32(__m256i x)
{
    return _mm256_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1));
}

INLINE __m256i ror24(__m256i x)
{
    const __m256i r = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4,
                                       5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
    return _mm256_shuffle_epi8(x, r);
}

INLINE __m256i ror16(__m256i x)
{
    const __m256i r = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3,
                                       4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
    return _mm256_shuffle_epi8(x, r);
}

INLINE __m256i ror63(__m256i x)
{
    return _mm256_or_si256(_mm256_srli_epi64(x, 63), _mm256_add_epi64(x, x));
}

/* Message word w of the 16-byte message (words 2..15 are zero). */
#define MSG(w) ((w) == 0 ? m0 : (w) == 1 ? m1 : zero)
#define G(a, b, c, d, x, y)                                                  \
    do {                                                                     \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), x);            \
        v[d] = ror32(_mm256_xor_si256(v[d], v[a]));                          \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                 \
        v[b] = ror24(_mm256_xor_si256(v[b], v[c]));                          \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), y);            \
        v[d] = ror16(_mm256_xor_si256(v[d], v[a]));                          \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                 \
        v[b] = ror63(_mm256_xor_si256(v[b], v[c]));                          \
    } while (0)
#define ROUND(r)                                                                  \
    do {                                                                          \
        G(0, 4, 8, 12, MSG(SIGMA[r][0]), MSG(SIGMA[r][1]));                       \
        G(1, 5, 9, 13, MSG(SIGMA[r][2]), MSG(SIGMA[r][3]));                       \
        G(2, 6, 10, 14, MSG(SIGMA[r][4]), MSG(SIGMA[r][5]));                      \
        G(3, 7, 11, 15, MSG(SIGMA[r][6]), MSG(SIGMA[r][7]));                      \
        G(0, 5, 10, 15, MSG(SIGMA[r][8]), MSG(SIGMA[r][9]));                      \
        G(1, 6, 11, 12, MSG(SIGMA[r][10]), MSG(SIGMA[r][11]));                    \
        G(2, 7, 8, 13, MSG(SIGMA[r][12]), MSG(SIGMA[r][13]));                     \
        G(3, 4, 9, 14, MSG(SIGMA[r][14]), MSG(SIGMA[r][15]));                     \
    } while (0)

/* Four BLAKE2b-512 hashes of BE64(a[i]) || BE64(b[i]); returns, per lane, the first 8
 * output bytes read big-endian (as pf_blake2b_feistel). */
static __m256i blake2b_feistel4(__m256i a, __m256i b)
{
    const __m256i bswap = _mm256_setr_epi8(7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8,
                                           7, 6, 5, 4, 3, 2, 1, 0, 15, 14, 13, 12, 11, 10, 9, 8);
    const __m256i m0 = _mm256_shuffle_epi8(a, bswap), m1 = _mm256_shuffle_epi8(b, bswap);
    const __m256i zero = _mm256_setzero_si256();
    const __m256i h0 = _mm256_set1_epi64x((long long)(IV[0] ^ 0x01010040ULL));
    __m256i v[16];
    v[0] = h0;
    for (int i = 1; i < 8; i++)
        v[i] = _mm256_set1_epi64x((long long)IV[i]);
    for (int i = 0; i < 8; i++)
        v[8 + i] = _mm256_set1_epi64x((long long)IV[i]);
    v[12] = _mm256_set1_epi64x((long long)(IV[4] ^ 16));      /* t0 = 16 bytes */
    v[14] = _mm256_set1_epi64x((long long)~IV[6]);            /* final block */
    ROUND(0); ROUND(1); ROUND(2); ROUND(3); ROUND(4); ROUND(5);
    ROUND(6); ROUND(7); ROUND(8); ROUND(9); ROUND(10); ROUND(11);
    __m256i h = _mm256_xor_si256(h0, _mm256_xor_si256(v[0], v[8]));
    return _mm256_shuffle_epi8(h, bswap);
}

void pf_feistel_permute_many_avx2(const pf_graph *g, const uint64_t *in, uint64_t *out, size_t n)
{
    const unsigned k = g->feistel_half_bits;
    const uint64_t mask = g->feistel_right_mask, domain = g->feistel_domain;
    uint64_t left[4], right[4], key[4], f[4];
    size_t slot[4];        /* which input the lane carries; n = idle */
    int round[4];
    size_t next = 0;
    int busy = 0;
    for (int i = 0; i < 4; i++) {
        slot[i] = n;
        if (next < n) {
            left[i] = (in[next] >> k) & mask;
            right[i] = in[next] & mask;
            round[i] = 0;
            slot[i] = next++;
            busy++;
        } else {
            left[i] = right[i] = 0;
            round[i] = 0;
        }
    }
    while (busy) {
        for (int i = 0; i < 4; i++)
            key[i] = g->feistel_keys[round[i]];
        __m256i r = _mm256_loadu_si256((const __m256i *)right);
        __m256i h = blake2b_feistel4(r, _mm256_loadu_si256((const __m256i *)key));
        _mm256_storeu_si256((__m256i *)f, h);
        for (int i = 0; i < 4; i++) {
            if (slot[i] == n)
                continue;
            uint64_t nl = right[i];
            right[i] = left[i] ^ (f[i] & mask);
            left[i] = nl;
            if (++round[i] < 3)
                continue;
            uint64_t u = left[i] << k | right[i];
            round[i] = 0;
            if (u >= domain) {          /* cycle walking: encode the result again */
                left[i] = (u >> k) & mask;
                right[i] = u & mask;
                continue;
            }
            out[slot[i]] = u;
            if (next < n) {
                left[i] = (in[next] >> k) & mask;
                right[i] = in[next] & mask;
                slot[i] = next++;
            } else {
                slot[i] = n;
                busy--;
            }
        }
    }
}
