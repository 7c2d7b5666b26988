/* sha256_mb.c — multi-buffer SHA-NI for batched SDR labeling (sha256_mb.h): one node's
 * label for up to 8 sectors with their chains interleaved round group by round group, so
 * that the SHA unit works on another lane while one lane's sha256rnds2 result is pending.
 *
 * Measured on Zen 4 (this project's VM), in time per sha256rnds2 with 8 chains in flight:
 * rounds alone 1.17 (one per cycle, 4-cycle latency, so 4 lanes reach ~3.5x one chain when
 * only rounds run); each sha256msg2 beside them adds 0.54, sha256msg1 0.37, a shuffle
 * (palignr, pshufd, pshufb) 0.16, a rotate 0.3, paddd 0.04.  AVX-512 rotates would cost more
 * per schedule word than sha256msg1/msg2, so the schedules stay on SHA-NI; a node computes
 * the schedule (W+K) of each distinct block once per lane — 4 of 19 in layer 1, 8 of 19 in
 * later layers — and replays it for the repeats, and everything else avoids shuffles.
 * With fresh schedules costing that much, 4 lanes top out near 2.9x one chain in cache.
 *
 * Every function carries the SHA-NI target attribute instead of per-file flags; callers
 * check pf_sha256_using_ni() first. */
#include "sha256_mb.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "label.h"
#include "sha256.h"
#include "sha256_ni_ops.h"

#define TGT PF_NI_TGT
/* The same kernel built for AVX-512VL: SHA-NI itself only addresses xmm0-15, but the
 * compiler then keeps four lanes' states and schedules in xmm16-31 instead of spilling
 * them to the stack (measured in cache, 4 lanes: 60 -> 68 M compressions/s). */
#define TGT_WIDE __attribute__((target("sha,sse4.1,ssse3,avx2,avx512f,avx512vl")))
#define INLINE PF_NI_INLINE
#define L_MAX PF_MB_MAX_LANES

/* Four rounds: lo holds W+K of the four, hi the upper two in its low half. */
INLINE void rounds4_split(__m128i *s0, __m128i *s1, __m128i lo, __m128i hi)
{
    *s1 = _mm_sha256rnds2_epu32(*s1, *s0, lo);
    *s0 = _mm_sha256rnds2_epu32(*s0, *s1, hi);
}

/* The upper two words of a stored W+K, by a 64-bit load rather than a shuffle: shuffles
 * compete with sha256rnds2 for its pipe, loads do not.  (Right after the store, in a
 * fresh block, the compiler may still forward it as a byte shift.) */
INLINE __m128i upper_wk(const __m128i *slot)
{
    return _mm_loadl_epi64((const __m128i *)((const char *)slot + 8));
}

/* One compression per lane from message words m[l][0..3], all lanes interleaved; when wk
 * is non-NULL the W+K of round group r of lane l is kept at wk[r * L + l] for replays. */
INLINE void compress_fresh(const int L, __m128i *s0, __m128i *s1, __m128i (*m)[4], __m128i *wk)
{
    __m128i a0[L_MAX], a1[L_MAX], tmp[L_MAX];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++) {
        a0[l] = s0[l];
        a1[l] = s1[l];
    }
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) {
        const __m128i k = pf_ni_k(r);
#pragma GCC unroll 8
        for (int l = 0; l < L; l++) {
            __m128i w = _mm_add_epi32(m[l][r & 3], k);
            __m128i *slot = wk ? &wk[r * L + l] : &tmp[l];
            _mm_store_si128(slot, w);
            rounds4_split(&s0[l], &s1[l], w, upper_wk(slot));
        }
        if (r < 12) {
#pragma GCC unroll 8
            for (int l = 0; l < L; l++)
                pf_ni_schedule4(m[l], r);
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
            rounds4_split(&s0[l], &s1[l], wk[r * L + l], upper_wk(&wk[r * L + l]));
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
        m[l][0] = pf_ni_load_msg(ra + off[l]);
        m[l][1] = pf_ni_load_msg(ra + off[l] + 16);
        m[l][2] = pf_ni_load_msg(rb + off[l]);
        m[l][3] = pf_ni_load_msg(rb + off[l] + 16);
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
        m[l][0] = pf_ni_load_msg(ra + off[l]);
        m[l][1] = pf_ni_load_msg(ra + off[l] + 16);
        m[l][2] = pad0;
        m[l][3] = pad1;
    }
    compress_fresh(L, s0, s1, m, NULL);
}

INLINE void node_lanes(const int L, const uint32_t (*st)[8], const uint8_t *const *rows,
                       int nparents, const uint32_t *off, uint8_t *out)
{
    __m128i s0[L_MAX], s1[L_MAX];
    /* 7 distinct parent blocks x 16 round groups x L lanes of W+K: 7 KiB at 4 lanes */
    __m128i wk[7 * 16 * L_MAX];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++)
        pf_ni_state_in(st[l], &s0[l], &s1[l]);
    if (nparents == PF_BASE_DEGREE) {
        /* 6 x (P0..P5) then P0: three distinct blocks six times, then the final block */
        for (int j = 0; j < 3; j++)
            compress_pair(L, s0, s1, rows[2 * j], rows[2 * j + 1], off, wk + j * 16 * L);
        for (int rep = 1; rep < 6; rep++)
            for (int j = 0; j < 3; j++)
                compress_replay(L, s0, s1, wk + j * 16 * L);
        compress_final(L, s0, s1, rows[0], off);
    } else {
        /* P0..P13, P0..P13, P0..P8: seven distinct blocks, again, then the first four
         * and the final block with P8 */
        for (int j = 0; j < 7; j++)
            compress_pair(L, s0, s1, rows[2 * j], rows[2 * j + 1], off, wk + j * 16 * L);
        for (int j = 0; j < 7; j++)
            compress_replay(L, s0, s1, wk + j * 16 * L);
        for (int j = 0; j < 4; j++)
            compress_replay(L, s0, s1, wk + j * 16 * L);
        compress_final(L, s0, s1, rows[8], off);
    }
#pragma GCC unroll 8
    for (int l = 0; l < L; l++)
        pf_ni_label_store(s0[l], s1[l], out + off[l]);
}

/* ---- the builds of the kernel and the choice between them ---- */

typedef void node_fn(const uint32_t (*st)[8], const uint8_t *const *rows, int np,
                     const uint32_t *off, uint8_t *out);

/* node_xN (SSE encoding, 16 registers) and node_xN_wide (AVX-512VL, 32 registers): the
 * same always-inline body compiled under each target. */
#define NODE_FN(n)                                                                          \
    static TGT __attribute__((noinline)) void node_x##n(                                    \
        const uint32_t (*st)[8], const uint8_t *const *rows, int np, const uint32_t *off,   \
        uint8_t *out)                                                                       \
    {                                                                                       \
        node_lanes(n, st, rows, np, off, out);                                              \
    }                                                                                       \
    static TGT_WIDE __attribute__((noinline)) void node_x##n##_wide(                        \
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

static node_fn *const node_fns[2][7] = {
    [PF_MB_SSE] = { NULL, node_x1, node_x2, node_x3, node_x4, node_x5, node_x6 },
    [PF_MB_AVX512] = { NULL, node_x1_wide, node_x2_wide, node_x3_wide, node_x4_wide,
                       node_x5_wide, node_x6_wide },
};

static struct {
    pthread_once_t once;
    int cpu_wide;
    pf_mb_isa best;
} isa_choice = { .once = PTHREAD_ONCE_INIT };

static void choose_isa(void)
{
    /* libgcc checks both the CPUID bits and that the OS saves the AVX-512 state */
    __builtin_cpu_init();
    isa_choice.cpu_wide = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
    const char *off = getenv("SEALPIPE_NO_AVX512");
    int forced_off = off && *off && strcmp(off, "0") != 0;
    isa_choice.best = isa_choice.cpu_wide && !forced_off ? PF_MB_AVX512 : PF_MB_SSE;
}

pf_mb_isa pf_mb_isa_best(void)
{
    pthread_once(&isa_choice.once, choose_isa);
    return isa_choice.best;
}

int pf_mb_isa_available(pf_mb_isa isa)
{
    pthread_once(&isa_choice.once, choose_isa);
    return isa == PF_MB_SSE || (isa == PF_MB_AVX512 && isa_choice.cpu_wide);
}

void pf_mb_label_node_ni(pf_mb_isa isa, int lanes, const uint32_t (*st)[8],
                         const uint8_t *const *rows, int nparents, const uint32_t *off,
                         uint8_t *out)
{
    node_fn *const *fns = node_fns[isa == PF_MB_AVX512 ? PF_MB_AVX512 : PF_MB_SSE];
    if (lanes >= 1 && lanes <= 6) {
        fns[lanes](st, rows, nparents, off, out);
    } else if (lanes <= 8) {
        /* two groups, 4 and the rest: 8 lanes' states and schedules in one pass spill
         * registers; measured in cache 4+4 gave 74-89 M compressions/s against 64-76 for 8
         * at once (7: no difference) */
        fns[4](st, rows, nparents, off, out);
        fns[lanes - 4](st + 4, rows, nparents, off + 4, out);
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
        pf_ni_state_in(pf_sha256_iv, &s0[l], &s1[l]);
        for (int q = 0; q < 4; q++)
            m[l][q] = pf_ni_load_msg(blocks[l] + 16 * q);
    }
    compress_fresh(L, s0, s1, m, NULL);
#pragma GCC unroll 8
    for (int l = 0; l < L; l++)
        pf_ni_state_store(s0[l], s1[l], st[l]);
}

static TGT __attribute__((noinline)) void iv_x4(const uint8_t (*blocks)[64], uint32_t (*st)[8])
{
    iv_chains(4, blocks, st);
}

static TGT_WIDE __attribute__((noinline)) void iv_x4_wide(const uint8_t (*blocks)[64],
                                                          uint32_t (*st)[8])
{
    iv_chains(4, blocks, st);
}

static TGT __attribute__((noinline)) void iv_x1(const uint8_t (*blocks)[64], uint32_t (*st)[8])
{
    iv_chains(1, blocks, st);
}

void pf_mb_compress_iv_ni(pf_mb_isa isa, size_t n, const uint8_t (*blocks)[64],
                          uint32_t (*st)[8])
{
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
        (isa == PF_MB_AVX512 ? iv_x4_wide : iv_x4)(blocks + i, st + i);
    for (; i < n; i++)
        iv_x1(blocks + i, st + i);
}

/* ---- the yardstick: lanes chains of replayed schedules ---- */

INLINE void replay_chains(const int L, uint32_t (*st)[8], const __m128i *wk, long reps)
{
    __m128i s0[L_MAX], s1[L_MAX];
#pragma GCC unroll 8
    for (int l = 0; l < L; l++)
        pf_ni_state_in(st[l], &s0[l], &s1[l]);
    for (long i = 0; i < reps; i++)
        compress_replay(L, s0, s1, wk);
#pragma GCC unroll 8
    for (int l = 0; l < L; l++)
        pf_ni_state_store(s0[l], s1[l], st[l]);
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
