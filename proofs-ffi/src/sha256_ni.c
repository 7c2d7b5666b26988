/* sha256_ni.c — SHA-256 compression with the x86 SHA extensions (sha256rnds2,
 * sha256msg1/2).  Built with -msha -msse4.1; only called after a CPU check.
 *
 * The 16 four-round groups are unrolled by macro so the message words stay in registers:
 * with a rolled loop the compiler spills the schedule to the stack, which costs ~20% of a
 * single dependent chain (the critical path is the sha256rnds2 latency alone). */
#include "sha256.h"

#include <immintrin.h>

/* Four rounds with message words M (W[4g..4g+3]). */
#define ROUNDS(g, M)                                                        \
    do {                                                                    \
        __m128i wk_ = _mm_add_epi32((M), _mm_load_si128((const __m128i *)&pf_sha256_k[4 * (g)])); \
        st1 = _mm_sha256rnds2_epu32(st1, st0, wk_);                         \
        st0 = _mm_sha256rnds2_epu32(st0, st1, _mm_shuffle_epi32(wk_, 0x0E)); \
    } while (0)

/* M0 <- W[t..t+3] for t = 16 + 4g, from the four previous groups M0..M3 (oldest first). */
#define SCHEDULE(M0, M1, M2, M3)                                            \
    do {                                                                    \
        (M0) = _mm_sha256msg1_epu32((M0), (M1));                            \
        (M0) = _mm_add_epi32((M0), _mm_alignr_epi8((M3), (M2), 4));         \
        (M0) = _mm_sha256msg2_epu32((M0), (M3));                            \
    } while (0)

void pf_sha256_compress_ni(uint32_t state[8], const uint8_t *blocks, size_t nblocks)
{
    const __m128i shuf = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i st1 = _mm_loadu_si128((const __m128i *)&state[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);          /* CDAB */
    st1 = _mm_shuffle_epi32(st1, 0x1B);          /* EFGH */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);  /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);       /* CDGH */

    for (; nblocks > 0; nblocks--, blocks += 64) {
        __m128i abef = st0, cdgh = st1;
        __m128i m0 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 0)), shuf);
        __m128i m1 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 16)), shuf);
        __m128i m2 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 32)), shuf);
        __m128i m3 = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(blocks + 48)), shuf);
        ROUNDS(0, m0);  SCHEDULE(m0, m1, m2, m3);
        ROUNDS(1, m1);  SCHEDULE(m1, m2, m3, m0);
        ROUNDS(2, m2);  SCHEDULE(m2, m3, m0, m1);
        ROUNDS(3, m3);  SCHEDULE(m3, m0, m1, m2);
        ROUNDS(4, m0);  SCHEDULE(m0, m1, m2, m3);
        ROUNDS(5, m1);  SCHEDULE(m1, m2, m3, m0);
        ROUNDS(6, m2);  SCHEDULE(m2, m3, m0, m1);
        ROUNDS(7, m3);  SCHEDULE(m3, m0, m1, m2);
        ROUNDS(8, m0);  SCHEDULE(m0, m1, m2, m3);
        ROUNDS(9, m1);  SCHEDULE(m1, m2, m3, m0);
        ROUNDS(10, m2); SCHEDULE(m2, m3, m0, m1);
        ROUNDS(11, m3); SCHEDULE(m3, m0, m1, m2);
        ROUNDS(12, m0);
        ROUNDS(13, m1);
        ROUNDS(14, m2);
        ROUNDS(15, m3);
        st0 = _mm_add_epi32(st0, abef);
        st1 = _mm_add_epi32(st1, cdgh);
    }
    tmp = _mm_shuffle_epi32(st0, 0x1B);          /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);          /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0);       /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);          /* HGFE */
    _mm_storeu_si128((__m128i *)&state[0], st0);
    _mm_storeu_si128((__m128i *)&state[4], st1);
}
