/* sha256_mb.c — multi-buffer SHA-NI for batched SDR labeling (sha256_mb.h): one node's
 * label for up to 8 sectors with their chains interleaved round group by round group, so
 * that the SHA unit works on another lane while one lane's sha256rnds2 result is pending.
 *
 * Measured on Zen 4 (this project's VM): sha256rnds2 issues one per cycle with 4-cycle
 * latency, so 4 lanes reach ~4x one chain when only rounds run; sha256msg2 takes a cycle of
 * the same unit, sha256msg1, palignr, paddd and pshufd are nearly free beside it.  A node
 * therefore computes the schedule (W+K) of each distinct block once per lane — 4 of 19 in
 * layer 1, 8 of 19 in later layers — and replays it for the repeats.
 *
 * Every function carries the SHA-NI target attribute instead of per-file flags; callers
 * check pf_sha256_using_ni() first. */
#include "sha256_mb.h"

#include <immintrin.h>
#include <string.h>
#include <time.h>

#include "label.h"
#include "sha256.h"

#define TGT __attribute__((target("sha,sse4.1,ssse3")))
#define INLINE static inline __attribute__((always_inline)) TGT
#define L_MAX PF_MB_MAX_LANES

INLINE __m128i bswap_words(__m128i x)
{
    const __m128i shuf = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    return _mm_shuffle_epi8(x, shuf);
}

INLINE __m128i load_msg(const uint8_t *p)
{
    return bswap_words(_mm_loadu_si128((const __m128i *)p));
}

INLINE __m128i kvec(int r)
{
    return _mm_load_si128((const __m128i *)&pf_sha256_k[4 * r]);
}

/* Four rounds with the upper half of W+K already moved down (a replayed schedule keeps
 * both, so that replays spend nothing beside sha256rnds2) */
INLINE void rounds4_split(__m128i *s0, __m128i *s1, __m128i lo, __m128i hi)
{
    *s1 = _mm_sha256rnds2_epu32(*s1, *s0, lo);
    *s0 = _mm_sha256rnds2_epu32(*s0, *s1, hi);
}

/* m[r & 3] <- the next four schedule words from the previous sixteen. */
INLINE void schedule4(__m128i *m, int r)
{
    __m128i t = _mm_sha256msg1_epu32(m[r & 3], m[(r + 1) & 3]);
    t = _mm_add_epi32(t, _mm_alignr_epi8(m[(r + 3) & 3], m[(r + 2) & 3], 4));
    m[r & 3] = _mm_sha256msg2_epu32(t, m[(r + 3) & 3]);
}

INLINE void state_in(const uint32_t st[8], __m128i *s0, __m128i *s1)
{
    /* A..H -> ABEF / CDGH, the layout sha256rnds2 works in */
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)st), 0xB1);
    __m128i h = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(st + 4)), 0x1B);
    *s0 = _mm_alignr_epi8(t, h, 8);
    *s1 = _mm_blend_epi16(h, t, 0xF0);
}

INLINE void state_out(__m128i s0, __m128i s1, __m128i *abcd, __m128i *efgh)
{
    __m128i t = _mm_shuffle_epi32(s0, 0x1B);
    s1 = _mm_shuffle_epi32(s1, 0xB1);
    *abcd = _mm_blend_epi16(t, s1, 0xF0);
    *efgh = _mm_alignr_epi8(s1, t, 8);
}

/* One compression per lane from message words m[l][0..3], all lanes interleaved; when wk
 * is non-NULL the W+K of round group r of lane l is kept at wk[2 * (r * L + l)], its upper
 * half moved down at the next slot, for replays. */
INLINE void compress_fresh(const int L, __m128i *s0, __m128i *s1, __m128i (*m)[4], __m128i *wk)
{
    __m128i a0[L_MAX], a1[L_MAX];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        a0[l] = s0[l];
        a1[l] = s1[l];
    }
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        const __m128i k = kvec(r);
#pragma GCC unroll 8
        for (int l = 0; l < L; l++) {
            __m128i w = _mm_add_epi32(m[l][r & 3], k);
            __m128i hi = _mm_shuffle_epi32(w, 0x0E);
            if (wk) {
                wk[2 * (r * L + l)] = w;
                wk[2 * (r * L + l) + 1] = hi;
            }
            rounds4_split(&s0[l], &s1[l], w, hi);
        }
        if (r < 12) {
#pragma GCC unroll 8
            for (int l = 0; l < L; l++)
                schedule4(m[l], r);
        }
    }
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        s0[l] = _mm_add_epi32(s0[l], a0[l]);
        s1[l] = _mm_add_epi32(s1[l], a1[l]);
    }
}

/* One compression per lane replaying a stored schedule. */
INLINE void compress_replay(const int L, __m128i *s0, __m128i *s1, const __m128i *wk)
{
    __m128i a0[L_MAX], a1[L_MAX];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        a0[l] = s0[l];
        a1[l] = s1[l];
    }
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
#pragma GCC unroll 8
        for (int l = 0; l < L; l++)
            rounds4_split(&s0[l], &s1[l], wk[2 * (r * L + l)], wk[2 * (r * L + l) + 1]);
    }
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        s0[l] = _mm_add_epi32(s0[l], a0[l]);
        s1[l] = _mm_add_epi32(s1[l], a1[l]);
    }
}

/* The block holding parent labels a and b of every lane (rows ra, rb). */
INLINE void compress_pair(const int L, __m128i *s0, __m128i *s1, const uint8_t *ra,
                          const uint8_t *rb, const uint32_t *off, __m128i *wk)
{
    __m128i m[L_MAX][4];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        m[l][0] = load_msg(ra + off[l]);
        m[l][1] = load_msg(ra + off[l] + 16);
        m[l][2] = load_msg(rb + off[l]);
        m[l][3] = load_msg(rb + off[l] + 16);
    }
    compress_fresh(L, s0, s1, m, wk);
}

/* The last block: one parent label, then the padding of the 1248-byte message (0x80,
 * zeros, the 64-bit length 9984 bits = 0x2700). */
INLINE void compress_final(const int L, __m128i *s0, __m128i *s1, const uint8_t *ra,
                           const uint32_t *off)
{
    __m128i m[L_MAX][4];
    const __m128i pad0 = _mm_set_epi32(0, 0, 0, (int)0x80000000);
    const __m128i pad1 = _mm_set_epi32(0x2700, 0, 0, 0);
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        m[l][0] = load_msg(ra + off[l]);
        m[l][1] = load_msg(ra + off[l] + 16);
        m[l][2] = pad0;
        m[l][3] = pad1;
    }
    compress_fresh(L, s0, s1, m, NULL);
}

INLINE void node_lanes(const int L, const uint32_t (*st)[8], const uint8_t *const *rows,
                       int nparents, const uint32_t *off, uint8_t *out)
{
    __m128i s0[L_MAX], s1[L_MAX];
    /* 7 distinct parent blocks x 16 round groups x L lanes of W+K, both halves: 28 KiB
     * at 8 lanes, 14 KiB at 4 */
    __m128i wk[7 * 32 * L_MAX];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++)
        state_in(st[l], &s0[l], &s1[l]);
    if (nparents == PF_BASE_DEGREE) {
        /* 6 x (P0..P5) then P0: three distinct blocks six times, then the final block */
        for (int j = 0; j < 3; j++)
            compress_pair(L, s0, s1, rows[2 * j], rows[2 * j + 1], off, wk + j * 32 * L);
        for (int rep = 1; rep < 6; rep++)
            for (int j = 0; j < 3; j++)
                compress_replay(L, s0, s1, wk + j * 32 * L);
        compress_final(L, s0, s1, rows[0], off);
    } else {
        /* P0..P13, P0..P13, P0..P8: seven distinct blocks, again, then the first four
         * and the final block with P8 */
        for (int j = 0; j < 7; j++)
            compress_pair(L, s0, s1, rows[2 * j], rows[2 * j + 1], off, wk + j * 32 * L);
        for (int j = 0; j < 7; j++)
            compress_replay(L, s0, s1, wk + j * 32 * L);
        for (int j = 0; j < 4; j++)
            compress_replay(L, s0, s1, wk + j * 32 * L);
        compress_final(L, s0, s1, rows[8], off);
    }
    /* big-endian bytes of A..H, the top two bits of byte 31 cleared */
    const __m128i trim = _mm_set_epi32(0x3fffffff, -1, -1, -1);
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        __m128i abcd, efgh;
        state_out(s0[l], s1[l], &abcd, &efgh);
        _mm_storeu_si128((__m128i *)(out + off[l]), bswap_words(abcd));
        _mm_storeu_si128((__m128i *)(out + off[l] + 16), _mm_and_si128(bswap_words(efgh), trim));
    }
}

#define NODE_FN(n)                                                                          \
    static TGT __attribute__((noinline)) void node_x##n(                                    \
        const uint32_t (*st)[8], const uint8_t *const *rows, int np, const uint32_t *off,   \
        uint8_t *out)                                                                       \
    {                                                                                       \
        node_lanes(n, st, rows, np, off, out);                                              \
    }
NODE_FN(1)
NODE_FN(2)
NODE_FN(3)
NODE_FN(4)
NODE_FN(5)
NODE_FN(6)

void pf_mb_label_node_ni(int lanes, const uint32_t (*st)[8], const uint8_t *const *rows,
                         int nparents, const uint32_t *off, uint8_t *out)
{
    switch (lanes) {
    case 1: node_x1(st, rows, nparents, off, out); break;
    case 2: node_x2(st, rows, nparents, off, out); break;
    case 3: node_x3(st, rows, nparents, off, out); break;
    case 4: node_x4(st, rows, nparents, off, out); break;
    case 5: node_x5(st, rows, nparents, off, out); break;
    case 6: node_x6(st, rows, nparents, off, out); break;
    case 7:
    case 8:
        /* two groups of 4 and the rest: 8 lanes' states and schedules in one pass spill
         * registers; measured in cache 4+4 gave 74-89 M compressions/s against 64-76 for 8
         * at once (7: no difference) */
        node_x4(st, rows, nparents, off, out);
        pf_mb_label_node_ni(lanes - 4, st + 4, rows, nparents, off + 4, out);
        break;
    default: break;
    }
}

void pf_mb_label_node_portable(int lanes, const uint32_t (*st)[8], const uint8_t *const *rows,
                               int nparents, const uint32_t *off, uint8_t *out)
{
    for (int l = 0; l < lanes; l++) {
        const uint8_t *p[PF_DEGREE];
        for (int k = 0; k < nparents; k++)
            p[k] = rows[k] + off[l];
        pf_label_node_portable(st[l], p, nparents, out + off[l]);
    }
}

/* ---- prefix blocks ---- */

INLINE void iv_chains(const int L, const uint8_t (*blocks)[64], uint32_t (*st)[8])
{
    __m128i s0[L_MAX], s1[L_MAX], m[L_MAX][4];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        state_in(pf_sha256_iv, &s0[l], &s1[l]);
        for (int q = 0; q < 4; q++)
            m[l][q] = load_msg(blocks[l] + 16 * q);
    }
    compress_fresh(L, s0, s1, m, NULL);
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        __m128i abcd, efgh;
        state_out(s0[l], s1[l], &abcd, &efgh);
        _mm_storeu_si128((__m128i *)st[l], abcd);
        _mm_storeu_si128((__m128i *)(st[l] + 4), efgh);
    }
}

static TGT __attribute__((noinline)) void iv_x4(const uint8_t (*blocks)[64], uint32_t (*st)[8])
{
    iv_chains(4, blocks, st);
}

static TGT __attribute__((noinline)) void iv_x1(const uint8_t (*blocks)[64], uint32_t (*st)[8])
{
    iv_chains(1, blocks, st);
}

void pf_mb_compress_iv_ni(size_t n, const uint8_t (*blocks)[64], uint32_t (*st)[8])
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        iv_x4(blocks + i, st + i);
    for (; i < n; i++)
        iv_x1(blocks + i, st + i);
}

/* ---- the yardstick: lanes chains of replayed schedules ---- */

INLINE void replay_chains(const int L, uint32_t (*st)[8], const __m128i *wk, long reps)
{
    __m128i s0[L_MAX], s1[L_MAX];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++)
        state_in(st[l], &s0[l], &s1[l]);
    for (long i = 0; i < reps; i++)
        compress_replay(L, s0, s1, wk);
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        __m128i abcd, efgh;
        state_out(s0[l], s1[l], &abcd, &efgh);
        _mm_storeu_si128((__m128i *)st[l], abcd);
        _mm_storeu_si128((__m128i *)(st[l] + 4), efgh);
    }
}

#define REPLAY_FN(n)                                                                        \
    static TGT __attribute__((noinline)) void replay_x##n(uint32_t (*st)[8], const __m128i *wk, \
                                                          long reps)                        \
    {                                                                                       \
        replay_chains(n, st, wk, reps);                                                     \
    }
REPLAY_FN(1)
REPLAY_FN(2)
REPLAY_FN(4)
REPLAY_FN(8)

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

double pf_mb_chain_rate_ni(int lanes, double seconds)
{
    void (*fn)(uint32_t(*)[8], const __m128i *, long) =
        lanes >= 8 ? replay_x8 : lanes >= 4 ? replay_x4 : lanes >= 2 ? replay_x2 : replay_x1;
    int n = lanes >= 8 ? 8 : lanes >= 4 ? 4 : lanes >= 2 ? 2 : 1;
    __m128i wk[32 * L_MAX];
    uint32_t st[L_MAX][8];
    for (int i = 0; i < 32 * L_MAX; i++)
        wk[i] = _mm_set1_epi32((int)(0x5851f42du * (unsigned)(i + 1)));
    for (int l = 0; l < L_MAX; l++)
        memcpy(st[l], pf_sha256_iv, 32);
    const long reps = 4096;
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        double c0 = cpu_s(), c;
        long done = 0;
        do {
            fn(st, wk, reps);
            done += reps;
            c = cpu_s() - c0;
        } while (c < seconds / 5);
        if ((double)done * n / c > best)
            best = (double)done * n / c;
    }
    return best;
}
