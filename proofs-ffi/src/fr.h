/* fr.h — the BLS12-381 scalar field Fr (p = 0x73eda753...00000001, 255 bits) for the proofs
 * library: Montgomery form with R = 2^256 in four 64-bit limbs (least significant first),
 * conversions to and from the canonical little-endian 32-byte form used at every boundary,
 * and run-time selection between a portable multiplication (unsigned __int128) and a
 * MULX/ADCX/ADOX one (fr_adx.c, used only when the CPU has BMI2 and ADX).
 *
 * A pf_fr always holds a fully reduced Montgomery value (a*R mod p, < p).  Addition and
 * subtraction do not care about the representation, so the inline add/sub/neg below are
 * also correct on canonical limbs (the replica encoding uses that).
 *
 * Hot loops (Poseidon) do not call through pf_fr_mul: they include fr_adx.h or use
 * pf_fr_mul_inline in a file compiled once per path and dispatch per batch. */
#ifndef PF_FR_H
#define PF_FR_H

#include <stddef.h>
#include <stdint.h>

typedef struct pf_fr {
    uint64_t l[4];
} pf_fr;

/* p, least significant limb first. */
#define PF_FR_P0 0xffffffff00000001ULL
#define PF_FR_P1 0x53bda402fffe5bfeULL
#define PF_FR_P2 0x3339d80809a1d805ULL
#define PF_FR_P3 0x73eda753299d7d48ULL
/* -p^-1 mod 2^64 */
#define PF_FR_INV 0xfffffffeffffffffULL

extern const uint64_t pf_fr_modulus[4];
extern const pf_fr pf_fr_zero;     /* 0 */
extern const pf_fr pf_fr_one;      /* 1 in Montgomery form (R mod p) */
extern const pf_fr pf_fr_r2;       /* R^2 mod p: to_mont(x) = mul(x, R^2) */

typedef unsigned __int128 pf_u128;

/* r = a + b mod p (a, b < p). */
static inline void pf_fr_add(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    pf_u128 c = (pf_u128)a->l[0] + b->l[0];
    uint64_t s0 = (uint64_t)c;
    c = (pf_u128)a->l[1] + b->l[1] + (uint64_t)(c >> 64);
    uint64_t s1 = (uint64_t)c;
    c = (pf_u128)a->l[2] + b->l[2] + (uint64_t)(c >> 64);
    uint64_t s2 = (uint64_t)c;
    uint64_t s3 = a->l[3] + b->l[3] + (uint64_t)(c >> 64);   /* < 2^256: p < 2^255 */
    /* d = s - p; keep d when there is no borrow */
    pf_u128 d = (pf_u128)s0 - PF_FR_P0;
    uint64_t d0 = (uint64_t)d, bw = (uint64_t)(d >> 64) & 1;
    d = (pf_u128)s1 - PF_FR_P1 - bw;
    uint64_t d1 = (uint64_t)d;
    bw = (uint64_t)(d >> 64) & 1;
    d = (pf_u128)s2 - PF_FR_P2 - bw;
    uint64_t d2 = (uint64_t)d;
    bw = (uint64_t)(d >> 64) & 1;
    d = (pf_u128)s3 - PF_FR_P3 - bw;
    uint64_t d3 = (uint64_t)d;
    bw = (uint64_t)(d >> 64) & 1;
    uint64_t keep = bw - 1;   /* all ones when s >= p */
    r->l[0] = (d0 & keep) | (s0 & ~keep);
    r->l[1] = (d1 & keep) | (s1 & ~keep);
    r->l[2] = (d2 & keep) | (s2 & ~keep);
    r->l[3] = (d3 & keep) | (s3 & ~keep);
}

/* r = a - b mod p (a, b < p). */
static inline void pf_fr_sub(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    pf_u128 d = (pf_u128)a->l[0] - b->l[0];
    uint64_t d0 = (uint64_t)d, bw = (uint64_t)(d >> 64) & 1;
    d = (pf_u128)a->l[1] - b->l[1] - bw;
    uint64_t d1 = (uint64_t)d;
    bw = (uint64_t)(d >> 64) & 1;
    d = (pf_u128)a->l[2] - b->l[2] - bw;
    uint64_t d2 = (uint64_t)d;
    bw = (uint64_t)(d >> 64) & 1;
    d = (pf_u128)a->l[3] - b->l[3] - bw;
    uint64_t d3 = (uint64_t)d;
    bw = (uint64_t)(d >> 64) & 1;
    uint64_t mask = 0 - bw;   /* add p back when the difference went negative */
    pf_u128 c = (pf_u128)d0 + (PF_FR_P0 & mask);
    r->l[0] = (uint64_t)c;
    c = (pf_u128)d1 + (PF_FR_P1 & mask) + (uint64_t)(c >> 64);
    r->l[1] = (uint64_t)c;
    c = (pf_u128)d2 + (PF_FR_P2 & mask) + (uint64_t)(c >> 64);
    r->l[2] = (uint64_t)c;
    r->l[3] = d3 + (PF_FR_P3 & mask) + (uint64_t)(c >> 64);
}

static inline void pf_fr_neg(pf_fr *r, const pf_fr *a)
{
    pf_fr_sub(r, &pf_fr_zero, a);
}

/* Montgomery product r = a*b/R mod p, portable.  The coarsely integrated operand scanning
 * form with the carry of the last word folded in: valid because p's top limb leaves the
 * most significant bit free, so the running value stays below 2p < 2^256. */
static inline void pf_fr_mul_inline(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t bi = b->l[i];
        pf_u128 x = (pf_u128)a->l[0] * bi + t0;
        uint64_t hi_a = (uint64_t)(x >> 64);
        t0 = (uint64_t)x;
        uint64_t m = t0 * PF_FR_INV;
        pf_u128 y = (pf_u128)m * PF_FR_P0 + t0;
        uint64_t hi_m = (uint64_t)(y >> 64);

        x = (pf_u128)a->l[1] * bi + t1 + hi_a;
        hi_a = (uint64_t)(x >> 64);
        t1 = (uint64_t)x;
        y = (pf_u128)m * PF_FR_P1 + t1 + hi_m;
        hi_m = (uint64_t)(y >> 64);
        t0 = (uint64_t)y;

        x = (pf_u128)a->l[2] * bi + t2 + hi_a;
        hi_a = (uint64_t)(x >> 64);
        t2 = (uint64_t)x;
        y = (pf_u128)m * PF_FR_P2 + t2 + hi_m;
        hi_m = (uint64_t)(y >> 64);
        t1 = (uint64_t)y;

        x = (pf_u128)a->l[3] * bi + t3 + hi_a;
        hi_a = (uint64_t)(x >> 64);
        t3 = (uint64_t)x;
        y = (pf_u128)m * PF_FR_P3 + t3 + hi_m;
        hi_m = (uint64_t)(y >> 64);
        t2 = (uint64_t)y;

        t3 = hi_a + hi_m;
    }
    pf_fr t = { { t0, t1, t2, t3 } };
    /* t < 2p: one conditional subtraction (pf_fr_add with zero does exactly that) */
    pf_fr_add(r, &t, &pf_fr_zero);
}

/* Run-time selected Montgomery product and square (same results on every path). */
void pf_fr_mul(pf_fr *r, const pf_fr *a, const pf_fr *b);
void pf_fr_sqr(pf_fr *r, const pf_fr *a);
/* The two paths, callable directly by tests and benchmarks.  pf_fr_mul_adx must only be
 * called when pf_fr_cpu_has_adx() is true. */
void pf_fr_mul_portable(pf_fr *r, const pf_fr *a, const pf_fr *b);
void pf_fr_mul_adx(pf_fr *r, const pf_fr *a, const pf_fr *b);
/* 1 when the CPU has BMI2 and ADX. */
int pf_fr_cpu_has_adx(void);
/* 1 when the dispatched path is MULX/ADX: the CPU has it and SEALPIPE_NO_ADX is unset or 0. */
int pf_fr_using_adx(void);

/* r = a^e, e given as four little-endian 64-bit limbs. */
void pf_fr_pow(pf_fr *r, const pf_fr *a, const uint64_t e[4]);
/* r = 1/a; returns -1 (and sets r = 0) when a is zero. */
int pf_fr_inv(pf_fr *r, const pf_fr *a);

void pf_fr_from_u64(pf_fr *r, uint64_t v);
/* Canonical limbs <-> Montgomery form. */
void pf_fr_to_mont(pf_fr *r, const uint64_t canon[4]);
void pf_fr_from_mont(uint64_t canon[4], const pf_fr *a);

/* 32 canonical little-endian bytes -> Fr.  Returns 0, or -1 when the value is >= p
 * (rust-fil-proofs' bytes_into_fr rejects those; nothing is reduced). */
int pf_fr_from_bytes(pf_fr *r, const uint8_t b[32]);
/* Same, reducing any 256-bit value mod p instead of rejecting it. */
void pf_fr_from_bytes_reduce(pf_fr *r, const uint8_t b[32]);
/* Fr -> 32 canonical little-endian bytes. */
void pf_fr_to_bytes(uint8_t b[32], const pf_fr *a);
/* 1 when the 32 little-endian bytes are a canonical field element (< p). */
int pf_fr_bytes_valid(const uint8_t b[32]);

/* Little-endian bytes <-> limbs without any field arithmetic. */
void pf_fr_limbs_from_bytes(uint64_t l[4], const uint8_t b[32]);
void pf_fr_limbs_to_bytes(uint8_t b[32], const uint64_t l[4]);

static inline int pf_fr_eq(const pf_fr *a, const pf_fr *b)
{
    return ((a->l[0] ^ b->l[0]) | (a->l[1] ^ b->l[1]) | (a->l[2] ^ b->l[2]) |
            (a->l[3] ^ b->l[3])) == 0;
}

static inline int pf_fr_is_zero(const pf_fr *a)
{
    return (a->l[0] | a->l[1] | a->l[2] | a->l[3]) == 0;
}

#endif
