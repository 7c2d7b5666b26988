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

/* Word add/subtract with carry; the x86-64 intrinsics compile to plain adc/sbb chains
 * (baseline x86-64, no extension needed), the fallback to the same on other targets. */
#if defined(__x86_64__)
#include <x86intrin.h>
static inline uint64_t pf_adc(uint64_t a, uint64_t b, unsigned char *c)
{
    unsigned long long r;
    *c = _addcarry_u64(*c, a, b, &r);
    return r;
}
static inline uint64_t pf_sbb(uint64_t a, uint64_t b, unsigned char *c)
{
    unsigned long long r;
    *c = _subborrow_u64(*c, a, b, &r);
    return r;
}
#else
static inline uint64_t pf_adc(uint64_t a, uint64_t b, unsigned char *c)
{
    pf_u128 t = (pf_u128)a + b + *c;
    *c = (unsigned char)(t >> 64);
    return (uint64_t)t;
}
static inline uint64_t pf_sbb(uint64_t a, uint64_t b, unsigned char *c)
{
    pf_u128 t = (pf_u128)a - b - *c;
    *c = (unsigned char)((t >> 64) & 1);
    return (uint64_t)t;
}
#endif

/* r = v - p when v >= p, else v (v < 2^256).  Selected with masks, not branches: the
 * outcome is random in hashing and a mispredicted branch costs more than the selection. */
static inline void pf_fr_reduce_once(pf_fr *r, const uint64_t v[4])
{
    unsigned char b = 0;
    uint64_t d0 = pf_sbb(v[0], PF_FR_P0, &b);
    uint64_t d1 = pf_sbb(v[1], PF_FR_P1, &b);
    uint64_t d2 = pf_sbb(v[2], PF_FR_P2, &b);
    uint64_t d3 = pf_sbb(v[3], PF_FR_P3, &b);
    uint64_t keep = 0 - (uint64_t)b;   /* all ones when v < p: keep v */
    r->l[0] = (v[0] & keep) | (d0 & ~keep);
    r->l[1] = (v[1] & keep) | (d1 & ~keep);
    r->l[2] = (v[2] & keep) | (d2 & ~keep);
    r->l[3] = (v[3] & keep) | (d3 & ~keep);
}

/* r = a + b mod p (a, b < p). */
static inline void pf_fr_add(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    unsigned char c = 0;
    uint64_t s[4];
    s[0] = pf_adc(a->l[0], b->l[0], &c);
    s[1] = pf_adc(a->l[1], b->l[1], &c);
    s[2] = pf_adc(a->l[2], b->l[2], &c);
    s[3] = pf_adc(a->l[3], b->l[3], &c);   /* no carry out: p < 2^255 */
    pf_fr_reduce_once(r, s);
}

/* r = a - b mod p (a, b < p). */
static inline void pf_fr_sub(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    unsigned char bw = 0, c = 0;
    uint64_t d0 = pf_sbb(a->l[0], b->l[0], &bw);
    uint64_t d1 = pf_sbb(a->l[1], b->l[1], &bw);
    uint64_t d2 = pf_sbb(a->l[2], b->l[2], &bw);
    uint64_t d3 = pf_sbb(a->l[3], b->l[3], &bw);
    uint64_t mask = 0 - (uint64_t)bw;   /* add p back when the difference went negative */
    r->l[0] = pf_adc(d0, PF_FR_P0 & mask, &c);
    r->l[1] = pf_adc(d1, PF_FR_P1 & mask, &c);
    r->l[2] = pf_adc(d2, PF_FR_P2 & mask, &c);
    r->l[3] = pf_adc(d3, PF_FR_P3 & mask, &c);
}

static inline void pf_fr_neg(pf_fr *r, const pf_fr *a)
{
    pf_fr_sub(r, &pf_fr_zero, a);
}

/* a*b + c + *carry, low word returned, high word left in *carry (never overflows). */
static inline uint64_t pf_fr_mac(uint64_t a, uint64_t b, uint64_t c, uint64_t *carry)
{
    pf_u128 t = (pf_u128)a * b + c + *carry;
    *carry = (uint64_t)(t >> 64);
    return (uint64_t)t;
}

/* Montgomery product r = a*b/R mod p, portable.  The coarsely integrated operand scanning
 * form with the carry of the last word folded in: valid because p's top limb leaves the
 * most significant bit free, so the running value stays below 2p < 2^256. */
static inline void pf_fr_mul_inline(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    const uint64_t a0 = a->l[0], a1 = a->l[1], a2 = a->l[2], a3 = a->l[3];
    uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        uint64_t bi = b->l[i], ca = 0, cm = 0;
        t0 = pf_fr_mac(a0, bi, t0, &ca);
        uint64_t m = t0 * PF_FR_INV;
        (void)pf_fr_mac(m, PF_FR_P0, t0, &cm);   /* low word is zero by the choice of m */
        t1 = pf_fr_mac(a1, bi, t1, &ca);
        t0 = pf_fr_mac(m, PF_FR_P1, t1, &cm);
        t2 = pf_fr_mac(a2, bi, t2, &ca);
        t1 = pf_fr_mac(m, PF_FR_P2, t2, &cm);
        t3 = pf_fr_mac(a3, bi, t3, &ca);
        t2 = pf_fr_mac(m, PF_FR_P3, t3, &cm);
        t3 = ca + cm;
    }
    const uint64_t t[4] = { t0, t1, t2, t3 };
    pf_fr_reduce_once(r, t);   /* t < 2p */
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
