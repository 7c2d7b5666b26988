/* poseidon_perm.h — the optimized Poseidon permutation and the byte-level batch functions,
 * written once and built twice: poseidon_portable.c (PERM_MUL = pf_fr_mul_inline) and
 * poseidon_adx.c (PERM_MUL = pf_fr_mul_adx_inline, built with -mbmi2 -madx).  The includer
 * defines PERM_MUL(r, a, b), PERM_NAME(name) (appends the path suffix) and PERM_LAZY: 1 to
 * compute matrix rows as sums of unreduced products with one reduction (faster with the
 * portable product), 0 for one Montgomery product per entry (faster with MULX/ADX, whose
 * dual carry chains make a whole product cost about as much as the unreduced half).
 * Round structure and constants layout: poseidon.h. */
#include <string.h>

#include "poseidon.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "limbs are loaded as little-endian words");

static inline void perm_sbox(pf_fr *x)
{
    pf_fr x2, x4;
    PERM_MUL(&x2, x, x);
    PERM_MUL(&x4, &x2, &x2);
    PERM_MUL(x, x, &x4);
}

/* ---- sums of products with one reduction ----
 * A matrix row times the state is a sum of n Montgomery products.  Instead of reducing each
 * product, the 512-bit products are added up (product scanning, one column of limbs at a
 * time into a three-word accumulator), the sum is Montgomery-reduced once, and the result,
 * below (n * p/R + 1) * p, is brought under p by conditional subtractions of 2^k * p.  For
 * a width-9 mix that is 9 half products and one reduction per output instead of nine full
 * products. */

/* Conditional subtractions needed after reducing a sum of n products: the smallest K with
 * 2^(K+1) > n * p/R + 1 (p/R < 0.4538). */
static inline int perm_dot_steps(int n)
{
    int k = 0;
    while (((1L << (k + 1)) - 1) * 10000L <= 4538L * n)
        k++;
    return k;
}

/* v (5 words) -= 2^k * p when v >= 2^k * p. */
static inline void perm_csub_shifted(uint64_t v[5], int k)
{
    uint64_t q[5];
    if (k == 0) {
        q[0] = PF_FR_P0;
        q[1] = PF_FR_P1;
        q[2] = PF_FR_P2;
        q[3] = PF_FR_P3;
        q[4] = 0;
    } else {
        q[0] = PF_FR_P0 << k;
        q[1] = (PF_FR_P1 << k) | (PF_FR_P0 >> (64 - k));
        q[2] = (PF_FR_P2 << k) | (PF_FR_P1 >> (64 - k));
        q[3] = (PF_FR_P3 << k) | (PF_FR_P2 >> (64 - k));
        q[4] = PF_FR_P3 >> (64 - k);
    }
    uint64_t d[5], bw = 0;
    for (int i = 0; i < 5; i++) {
        pf_u128 x = (pf_u128)v[i] - q[i] - bw;
        d[i] = (uint64_t)x;
        bw = (uint64_t)(x >> 64) & 1;
    }
    uint64_t keep = bw - 1;   /* all ones when v >= q */
    for (int i = 0; i < 5; i++)
        v[i] = (d[i] & keep) | (v[i] & ~keep);
}

/* (c2:c1:c0) += a * b */
#if defined(__x86_64__)
#define PERM_MAC(c0, c1, c2, a, b)                                                         \
    do {                                                                                  \
        uint64_t lo_, hi_;                                                                \
        __asm__("mulq %[y]\n\t"                                                            \
                "addq %%rax, %[x0]\n\t"                                                    \
                "adcq %%rdx, %[x1]\n\t"                                                    \
                "adcq $0, %[x2]"                                                           \
                : [x0] "+r"(c0), [x1] "+r"(c1), [x2] "+r"(c2), "=&a"(lo_), "=&d"(hi_)      \
                : "3"(a), [y] "rm"(b)                                                      \
                : "cc");                                                                   \
    } while (0)
#else
#define PERM_MAC(c0, c1, c2, a, b)                                                         \
    do {                                                                                  \
        pf_u128 p_ = (pf_u128)(a) * (b);                                                  \
        pf_u128 s_ = ((pf_u128)(c1) << 64 | (c0)) + p_;                                    \
        (c2) += s_ < p_;                                                                  \
        (c0) = (uint64_t)s_;                                                              \
        (c1) = (uint64_t)(s_ >> 64);                                                      \
    } while (0)
#endif

/* out = sum_{e<n} x[e] * m[e * stride] (Montgomery). */
static inline void perm_dot(int n, const pf_fr *x, const pf_fr *m, size_t stride, int steps,
                            pf_fr *out)
{
    uint64_t t[9];
    uint64_t c0 = 0, c1 = 0, c2 = 0;
    /* product scanning: column k of the sum collects a_i * b_j with i + j = k */
    for (int k = 0; k < 7; k++) {
        int lo = k < 3 ? 0 : k - 3, hi = k < 3 ? k : 3;
        for (int i = lo; i <= hi; i++) {
            const pf_fr *me = m;
            for (int e = 0; e < n; e++, me += stride)
                PERM_MAC(c0, c1, c2, x[e].l[i], me->l[k - i]);
        }
        t[k] = c0;
        c0 = c1;
        c1 = c2;
        c2 = 0;
    }
    t[7] = c0;
    t[8] = c1;
    /* Montgomery reduction of the nine-word sum */
    for (int i = 0; i < 4; i++) {
        uint64_t mq = t[i] * PF_FR_INV, carry = 0;
        (void)pf_fr_mac(mq, PF_FR_P0, t[i], &carry);
        t[i + 1] = pf_fr_mac(mq, PF_FR_P1, t[i + 1], &carry);
        t[i + 2] = pf_fr_mac(mq, PF_FR_P2, t[i + 2], &carry);
        t[i + 3] = pf_fr_mac(mq, PF_FR_P3, t[i + 3], &carry);
        for (int j = i + 4; j < 9; j++) {
            uint64_t s = t[j] + carry;
            carry = s < carry;
            t[j] = s;
        }
    }
    uint64_t v[5] = { t[4], t[5], t[6], t[7], t[8] };
    for (int k = steps; k >= 0; k--)
        perm_csub_shifted(v, k);
    memcpy(out->l, v, 32);
}

/* out = sum_{e<n} x[e] * m[e * stride] with one Montgomery product per term. */
static inline void perm_dot_plain(int n, const pf_fr *x, const pf_fr *m, size_t stride,
                                  pf_fr *out)
{
    pf_fr acc, p;
    PERM_MUL(&acc, &x[0], &m[0]);
    for (int e = 1; e < n; e++) {
        PERM_MUL(&p, &x[e], &m[(size_t)e * stride]);
        pf_fr_add(&acc, &acc, &p);
    }
    *out = acc;
}

static inline void perm_row(int n, const pf_fr *x, const pf_fr *m, size_t stride, int steps,
                            pf_fr *out)
{
#if PERM_LAZY
    perm_dot(n, x, m, stride, steps, out);
#else
    (void)steps;
    perm_dot_plain(n, x, m, stride, out);
#endif
}

/* s = s * m for a dense t x t matrix (row vector times matrix). */
static inline void perm_mix_dense(int t, const pf_fr *m, pf_fr *s)
{
    pf_fr out[PF_POSEIDON_MAX_ARITY + 1];
    int steps = perm_dot_steps(t);
    for (int j = 0; j < t; j++)
        perm_row(t, s, m + j, (size_t)t, steps, &out[j]);
    memcpy(s, out, sizeof(pf_fr) * (size_t)t);
}

/* s = s * M'' where M'' has w_hat as column 0, v_rest as row 0 after its first element,
 * and the identity elsewhere. */
static inline void perm_mix_sparse(int t, const pf_fr *sp, pf_fr *s)
{
    const pf_fr *w_hat = sp, *v_rest = sp + t;
    pf_fr s0 = s[0], acc, p;
    perm_row(t, s, w_hat, 1, perm_dot_steps(t), &acc);
    for (int j = 1; j < t; j++) {
        PERM_MUL(&p, &s0, &v_rest[j - 1]);
        pf_fr_add(&s[j], &s[j], &p);
    }
    s[0] = acc;
}

static void perm_run(const pf_poseidon_consts *c, pf_fr *s)
{
    const int t = c->width, half = c->rf / 2, rp = c->rp;
    const pf_fr *k = c->compressed;
    for (int i = 0; i < t; i++)
        pf_fr_add(&s[i], &s[i], &k[i]);
    k += t;
    for (int r = 0; r < half; r++) {
        for (int i = 0; i < t; i++) {
            perm_sbox(&s[i]);
            pf_fr_add(&s[i], &s[i], &k[i]);
        }
        k += t;
        perm_mix_dense(t, r == half - 1 ? c->pre_sparse : c->mds, s);
    }
    const pf_fr *sp = c->sparse;
    for (int r = 0; r < rp; r++, sp += 2 * t - 1) {
        perm_sbox(&s[0]);
        pf_fr_add(&s[0], &s[0], k++);
        perm_mix_sparse(t, sp, s);
    }
    for (int r = 0; r < half - 1; r++) {
        for (int i = 0; i < t; i++) {
            perm_sbox(&s[i]);
            pf_fr_add(&s[i], &s[i], &k[i]);
        }
        k += t;
        perm_mix_dense(t, c->mds, s);
    }
    for (int i = 0; i < t; i++)
        perm_sbox(&s[i]);
    perm_mix_dense(t, c->mds, s);
}

void PERM_NAME(pf_poseidon_hash_mont)(const pf_poseidon_consts *c, const pf_fr *in, pf_fr *out)
{
    pf_fr s[PF_POSEIDON_MAX_ARITY + 1];
    s[0] = c->tag;
    memcpy(s + 1, in, sizeof(pf_fr) * (size_t)c->arity);
    perm_run(c, s);
    *out = s[1];
}

/* 32 little-endian bytes -> Montgomery; returns 0, or -1 when the value is not below p. */
static inline int perm_load(pf_fr *r, const uint8_t *b)
{
    pf_fr raw;
    for (int i = 0; i < 4; i++) {
        uint64_t v;
        memcpy(&v, b + 8 * i, 8);
        raw.l[i] = v;   /* little-endian host (checked below) */
    }
    /* raw < p: compare from the top limb down */
    int below = 0;
    for (int i = 3; i >= 0; i--) {
        if (raw.l[i] != pf_fr_modulus[i]) {
            below = raw.l[i] < pf_fr_modulus[i];
            break;
        }
    }
    if (!below)
        return -1;
    PERM_MUL(r, &raw, &pf_fr_r2);
    return 0;
}

static inline void perm_store(uint8_t *b, const pf_fr *a)
{
    static const pf_fr one_raw = { { 1, 0, 0, 0 } };
    pf_fr c;
    PERM_MUL(&c, a, &one_raw);
    for (int i = 0; i < 4; i++)
        memcpy(b + 8 * i, &c.l[i], 8);
}

long PERM_NAME(pf_poseidon_batch_nodes)(const pf_poseidon_consts *c, const uint8_t *in,
                                        size_t count, uint8_t *out)
{
    const int a = c->arity;
    pf_fr s[PF_POSEIDON_MAX_ARITY + 1];
    for (size_t n = 0; n < count; n++) {
        const uint8_t *src = in + n * (size_t)a * 32;
        s[0] = c->tag;
        for (int i = 0; i < a; i++)
            if (perm_load(&s[i + 1], src + 32 * i))
                return (long)(n * (size_t)a + (size_t)i);
        perm_run(c, s);
        perm_store(out + 32 * n, &s[1]);
    }
    return -1;
}

long PERM_NAME(pf_poseidon_batch_columns)(const pf_poseidon_consts *c, const uint8_t *const *cols,
                                          size_t count, uint8_t *out)
{
    const int a = c->arity;
    pf_fr s[PF_POSEIDON_MAX_ARITY + 1];
    for (size_t n = 0; n < count; n++) {
        s[0] = c->tag;
        for (int i = 0; i < a; i++)
            if (perm_load(&s[i + 1], cols[i] + 32 * n))
                return (long)(n * (size_t)a + (size_t)i);
        perm_run(c, s);
        perm_store(out + 32 * n, &s[1]);
    }
    return -1;
}
