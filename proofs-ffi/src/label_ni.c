/* label_ni.c — the SDR node label with the x86 SHA extensions.  A node's 19 chained
 * compressions repeat only 4 (layer 1) or 8 (later layers) distinct blocks, so the first
 * occurrence of each block computes its message schedule (W + K) and keeps it, and the
 * repeats run on the stored schedule: the chain then only waits on sha256rnds2.  The
 * state stays in the ABEF/CDGH register layout for the whole node.
 * Built with -msha -msse4.1 -mssse3; only called after a CPU check. */
#include "label.h"

#include <immintrin.h>

#include "sha256.h"
#include "sha256_ni_ops.h"

#define INLINE PF_NI_INLINE

INLINE void rounds4(__m128i *s0, __m128i *s1, __m128i wk)
{
    *s1 = _mm_sha256rnds2_epu32(*s1, *s0, wk);
    *s0 = _mm_sha256rnds2_epu32(*s0, *s1, _mm_shuffle_epi32(wk, 0x0E));
}

/* One compression from message words m0..m3, storing W+K of all 16 round groups in wk
 * when wk is non-NULL (the compiler drops the stores for NULL). */
INLINE void compress_msg(__m128i *s0, __m128i *s1, __m128i m0, __m128i m1, __m128i m2,
                         __m128i m3, __m128i *wk)
{
    const __m128i a0 = *s0, a1 = *s1;
    __m128i m[4] = { m0, m1, m2, m3 };
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        __m128i w = _mm_add_epi32(m[r & 3], pf_ni_k(r));
        if (wk)
            wk[r] = w;
        rounds4(s0, s1, w);
        if (r < 12)
            pf_ni_schedule4(m, r);
    }
    *s0 = _mm_add_epi32(*s0, a0);
    *s1 = _mm_add_epi32(*s1, a1);
}

/* compress_msg for this node's first block (storing its schedule) interleaved with an
 * independent compression of the next node's prefix block: the two sha256rnds2 chains
 * share the SHA unit, so the prefix costs almost nothing. */
INLINE void compress_msg_dual(__m128i *s0, __m128i *s1, __m128i m0, __m128i m1, __m128i m2,
                              __m128i m3, __m128i *wk, __m128i *t0, __m128i *t1, __m128i n0,
                              __m128i n1, __m128i n2, __m128i n3)
{
    const __m128i a0 = *s0, a1 = *s1, b0 = *t0, b1 = *t1;
    __m128i m[4] = { m0, m1, m2, m3 }, n[4] = { n0, n1, n2, n3 };
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        const __m128i k = pf_ni_k(r);
        __m128i w = _mm_add_epi32(m[r & 3], k);
        wk[r] = w;
        rounds4(s0, s1, w);
        rounds4(t0, t1, _mm_add_epi32(n[r & 3], k));
        if (r < 12) {
            pf_ni_schedule4(m, r);
            pf_ni_schedule4(n, r);
        }
    }
    *s0 = _mm_add_epi32(*s0, a0);
    *s1 = _mm_add_epi32(*s1, a1);
    *t0 = _mm_add_epi32(*t0, b0);
    *t1 = _mm_add_epi32(*t1, b1);
}

/* One compression from a stored schedule. */
INLINE void compress_wk(__m128i *s0, __m128i *s1, const __m128i *wk)
{
    const __m128i a0 = *s0, a1 = *s1;
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++)
        rounds4(s0, s1, wk[r]);
    *s0 = _mm_add_epi32(*s0, a0);
    *s1 = _mm_add_epi32(*s1, a1);
}

/* The block holding parent labels a and b. */
INLINE void compress_pair(__m128i *s0, __m128i *s1, const uint8_t *a, const uint8_t *b,
                          __m128i *wk)
{
    compress_msg(s0, s1, pf_ni_load_msg(a), pf_ni_load_msg(a + 16), pf_ni_load_msg(b), pf_ni_load_msg(b + 16), wk);
}

/* The last block: one parent label, then the padding of the 1248-byte message
 * (0x80, zeros, 64-bit length 9984 bits = 0x2700). */
INLINE void compress_final(__m128i *s0, __m128i *s1, const uint8_t *a)
{
    compress_msg(s0, s1, pf_ni_load_msg(a), pf_ni_load_msg(a + 16), _mm_set_epi32(0, 0, 0, (int)0x80000000),
                 _mm_set_epi32(0x2700, 0, 0, 0), NULL);
}

/* next_block non-NULL: also compress it from the IV into next_st (the next node's prefix). */
INLINE void node_ni(const uint32_t st[8], const uint8_t *const *p, int nparents, uint8_t out[32],
                    const uint8_t *next_block, uint32_t next_st[8])
{
    __m128i s0, s1;
    pf_ni_state_in(st, &s0, &s1);
    __m128i wk[7][16];
    if (next_block) {
        __m128i t0, t1;
        pf_ni_state_in(pf_sha256_iv, &t0, &t1);
        compress_msg_dual(&s0, &s1, pf_ni_load_msg(p[0]), pf_ni_load_msg(p[0] + 16), pf_ni_load_msg(p[1]),
                          pf_ni_load_msg(p[1] + 16), wk[0], &t0, &t1, pf_ni_load_msg(next_block),
                          pf_ni_load_msg(next_block + 16), pf_ni_load_msg(next_block + 32),
                          pf_ni_load_msg(next_block + 48));
        pf_ni_state_store(t0, t1, next_st);
    } else {
        compress_pair(&s0, &s1, p[0], p[1], wk[0]);
    }
    if (nparents == PF_BASE_DEGREE) {
        /* 6 x (P0..P5) then P0: three distinct blocks six times, then the final block. */
        compress_pair(&s0, &s1, p[2], p[3], wk[1]);
        compress_pair(&s0, &s1, p[4], p[5], wk[2]);
        for (int rep = 1; rep < 6; rep++) {
            compress_wk(&s0, &s1, wk[0]);
            compress_wk(&s0, &s1, wk[1]);
            compress_wk(&s0, &s1, wk[2]);
        }
        compress_final(&s0, &s1, p[0]);
    } else {
        /* P0..P13, P0..P13, P0..P8: seven distinct blocks, repeated, then the first four
         * again and the final block with P8. */
        for (int j = 1; j < 7; j++)
            compress_pair(&s0, &s1, p[2 * j], p[2 * j + 1], wk[j]);
        for (int j = 0; j < 7; j++)
            compress_wk(&s0, &s1, wk[j]);
        for (int j = 0; j < 4; j++)
            compress_wk(&s0, &s1, wk[j]);
        compress_final(&s0, &s1, p[8]);
    }

    pf_ni_label_store(s0, s1, out);
}

void pf_label_node_ni(const uint32_t st[8], const uint8_t *const *p, int nparents,
                      uint8_t out[32])
{
    node_ni(st, p, nparents, out, NULL, NULL);
}

void pf_label_node_ni_next(const uint32_t st[8], const uint8_t *const *p, int nparents,
                           uint8_t out[32], const uint8_t next_block[64], uint32_t next_st[8])
{
    node_ni(st, p, nparents, out, next_block, next_st);
}

void pf_label_chain_ni(uint32_t st[8], const uint8_t *blocks, size_t nblocks, int reuse)
{
    __m128i s0, s1;
    pf_ni_state_in(st, &s0, &s1);
    if (reuse && nblocks) {
        __m128i wk[16];
        compress_msg(&s0, &s1, pf_ni_load_msg(blocks), pf_ni_load_msg(blocks + 16), pf_ni_load_msg(blocks + 32),
                     pf_ni_load_msg(blocks + 48), wk);
        for (size_t b = 1; b < nblocks; b++)
            compress_wk(&s0, &s1, wk);
    } else {
        for (size_t b = 0; b < nblocks; b++, blocks += 64)
            compress_msg(&s0, &s1, pf_ni_load_msg(blocks), pf_ni_load_msg(blocks + 16), pf_ni_load_msg(blocks + 32),
                         pf_ni_load_msg(blocks + 48), NULL);
    }
    pf_ni_state_store(s0, s1, st);
}
