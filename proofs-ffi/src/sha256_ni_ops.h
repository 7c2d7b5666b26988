/* sha256_ni_ops.h — the SHA-NI building blocks that the single-chain labeler (label_ni.c)
 * and the multi-lane one (sha256_mb.c) share: message loads, the round constants, one
 * message-schedule step, and moving a state between A..H words and the ABEF/CDGH register
 * pair sha256rnds2 works on.
 *
 * Always inlined and carrying the SHA-NI target, so that they compile into a file built
 * with -msha as well as into functions that name a wider target themselves (the
 * AVX-512VL build of the multi-lane kernel): each caller's target is a superset.  Call
 * only after a CPU check (pf_sha256_using_ni). */
#ifndef PF_SHA256_NI_OPS_H
#define PF_SHA256_NI_OPS_H

#include <immintrin.h>
#include <stdint.h>

#include "sha256.h"

#define PF_NI_TGT __attribute__((target("sha,sse4.1,ssse3")))
#define PF_NI_INLINE static inline __attribute__((always_inline)) PF_NI_TGT

/* Big-endian 32-bit words <-> the CPU's order, four at a time. */
PF_NI_INLINE __m128i pf_ni_bswap_words(__m128i x)
{
    const __m128i shuf = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    return _mm_shuffle_epi8(x, shuf);
}

/* Four message words from 16 bytes (half a label). */
PF_NI_INLINE __m128i pf_ni_load_msg(const uint8_t *p)
{
    return pf_ni_bswap_words(_mm_loadu_si128((const __m128i *)p));
}

/* The round constants of round group r (rounds 4r..4r+3). */
PF_NI_INLINE __m128i pf_ni_k(int r)
{
    return _mm_load_si128((const __m128i *)&pf_sha256_k[4 * r]);
}

/* m[r & 3] <- the next four schedule words from the previous sixteen (m[0..3] rotating). */
PF_NI_INLINE void pf_ni_schedule4(__m128i *m, int r)
{
    __m128i t = _mm_sha256msg1_epu32(m[r & 3], m[(r + 1) & 3]);
    t = _mm_add_epi32(t, _mm_alignr_epi8(m[(r + 3) & 3], m[(r + 2) & 3], 4));
    m[r & 3] = _mm_sha256msg2_epu32(t, m[(r + 3) & 3]);
}

/* A..H -> ABEF / CDGH, the layout sha256rnds2 works in. */
PF_NI_INLINE void pf_ni_state_in(const uint32_t st[8], __m128i *s0, __m128i *s1)
{
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st), 0xB1);
    __m128i h = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(st + 4)), 0x1B);
    *s0 = _mm_alignr_epi8(t, h, 8);
    *s1 = _mm_blend_epi16(h, t, 0xF0);
}

/* ABEF / CDGH -> A..D and E..H. */
PF_NI_INLINE void pf_ni_state_out(__m128i s0, __m128i s1, __m128i *abcd, __m128i *efgh)
{
    __m128i t = _mm_shuffle_epi32(s0, 0x1B);
    s1 = _mm_shuffle_epi32(s1, 0xB1);
    *abcd = _mm_blend_epi16(t, s1, 0xF0);
    *efgh = _mm_alignr_epi8(s1, t, 8);
}

/* The state as eight words A..H (a chain to continue later). */
PF_NI_INLINE void pf_ni_state_store(__m128i s0, __m128i s1, uint32_t st[8])
{
    __m128i abcd, efgh;
    pf_ni_state_out(s0, s1, &abcd, &efgh);
    _mm_storeu_si128((__m128i *)st, abcd);
    _mm_storeu_si128((__m128i *)(st + 4), efgh);
}

/* The finished state as an SDR label: big-endian bytes of A..H, the top two bits of byte
 * 31 cleared (a field element). */
PF_NI_INLINE void pf_ni_label_store(__m128i s0, __m128i s1, uint8_t out[32])
{
    const __m128i trim = _mm_set_epi32(0x3fffffff, -1, -1, -1);
    __m128i abcd, efgh;
    pf_ni_state_out(s0, s1, &abcd, &efgh);
    _mm_storeu_si128((__m128i *)out, pf_ni_bswap_words(abcd));
    _mm_storeu_si128((__m128i *)(out + 16), _mm_and_si128(pf_ni_bswap_words(efgh), trim));
}

#endif
