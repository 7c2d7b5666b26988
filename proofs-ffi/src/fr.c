/* fr.c — BLS12-381 Fr: constants, the portable product, run-time dispatch between the
 * portable and MULX/ADX products, exponentiation, inversion and byte conversions. */
#include "fr.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const uint64_t pf_fr_modulus[4] = { PF_FR_P0, PF_FR_P1, PF_FR_P2, PF_FR_P3 };
const pf_fr pf_fr_zero = { { 0, 0, 0, 0 } };
/* R mod p and R^2 mod p with R = 2^256 (research/porep.md section 2) */
const pf_fr pf_fr_one = { { 0x00000001fffffffeULL, 0x5884b7fa00034802ULL, 0x998c4fefecbc4ff5ULL,
                            0x1824b159acc5056fULL } };
const pf_fr pf_fr_r2 = { { 0xc999e990f3f29c6dULL, 0x2b6cedcb87925c23ULL, 0x05d314967254398fULL,
                           0x0748d9d99f59ff11ULL } };

void pf_fr_mul_portable(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    pf_fr_mul_inline(r, a, b);
}

static struct {
    pthread_once_t once;
    void (*mul)(pf_fr *, const pf_fr *, const pf_fr *);
    int cpu_adx, use_adx;
} dispatch = { PTHREAD_ONCE_INIT, pf_fr_mul_portable, 0, 0 };

/* BMI2 (MULX) and ADX straight from CPUID leaf 7 EBX bits 8 and 19: clang before 15
 * rejects __builtin_cpu_supports("adx"), and the fuzz build uses clang 14. */
static int cpu_has_bmi2_adx(void)
{
#if defined(__x86_64__)
    unsigned a, b, c, d;
    if (__get_cpuid_max(0, NULL) < 7)
        return 0;
    __cpuid_count(7, 0, a, b, c, d);
    return (b >> 8 & 1) && (b >> 19 & 1);
#else
    return 0;
#endif
}

static void choose(void)
{
    dispatch.cpu_adx = cpu_has_bmi2_adx();
    const char *off = getenv("SEALPIPE_NO_ADX");
    dispatch.use_adx = dispatch.cpu_adx && !(off && *off && strcmp(off, "0") != 0);
    dispatch.mul = dispatch.use_adx ? pf_fr_mul_adx : pf_fr_mul_portable;
}

int pf_fr_cpu_has_adx(void)
{
    pthread_once(&dispatch.once, choose);
    return dispatch.cpu_adx;
}

int pf_fr_using_adx(void)
{
    pthread_once(&dispatch.once, choose);
    return dispatch.use_adx;
}

void pf_fr_mul(pf_fr *r, const pf_fr *a, const pf_fr *b)
{
    pthread_once(&dispatch.once, choose);
    dispatch.mul(r, a, b);
}

void pf_fr_sqr(pf_fr *r, const pf_fr *a)
{
    pf_fr_mul(r, a, a);
}

void pf_fr_pow(pf_fr *r, const pf_fr *a, const uint64_t e[4])
{
    pf_fr acc = pf_fr_one, base = *a;
    /* left to right over the 256 exponent bits; timing depends only on the bit count */
    for (int i = 255; i >= 0; i--) {
        pf_fr_mul_inline(&acc, &acc, &acc);
        if ((e[i / 64] >> (i % 64)) & 1)
            pf_fr_mul_inline(&acc, &acc, &base);
    }
    *r = acc;
}

int pf_fr_inv(pf_fr *r, const pf_fr *a)
{
    if (pf_fr_is_zero(a)) {
        *r = pf_fr_zero;
        return -1;
    }
    /* Fermat: a^(p-2) */
    const uint64_t e[4] = { PF_FR_P0 - 2, PF_FR_P1, PF_FR_P2, PF_FR_P3 };
    pf_fr_pow(r, a, e);
    return 0;
}

void pf_fr_to_mont(pf_fr *r, const uint64_t canon[4])
{
    pf_fr c;
    memcpy(c.l, canon, sizeof c.l);
    pf_fr_mul_inline(r, &c, &pf_fr_r2);
}

void pf_fr_from_mont(uint64_t canon[4], const pf_fr *a)
{
    static const pf_fr one_raw = { { 1, 0, 0, 0 } };
    pf_fr c;
    pf_fr_mul_inline(&c, a, &one_raw);
    memcpy(canon, c.l, sizeof c.l);
}

void pf_fr_from_u64(pf_fr *r, uint64_t v)
{
    const uint64_t c[4] = { v, 0, 0, 0 };
    pf_fr_to_mont(r, c);
}

void pf_fr_limbs_from_bytes(uint64_t l[4], const uint8_t b[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 7; j >= 0; j--)
            v = (v << 8) | b[8 * i + j];
        l[i] = v;
    }
}

void pf_fr_limbs_to_bytes(uint8_t b[32], const uint64_t l[4])
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            b[8 * i + j] = (uint8_t)(l[i] >> (8 * j));
}

/* 1 when the limbs are < p. */
static int limbs_below_p(const uint64_t l[4])
{
    for (int i = 3; i >= 0; i--) {
        if (l[i] < pf_fr_modulus[i])
            return 1;
        if (l[i] > pf_fr_modulus[i])
            return 0;
    }
    return 0;   /* equal to p */
}

int pf_fr_bytes_valid(const uint8_t b[32])
{
    uint64_t l[4];
    pf_fr_limbs_from_bytes(l, b);
    return limbs_below_p(l);
}

int pf_fr_from_bytes(pf_fr *r, const uint8_t b[32])
{
    uint64_t l[4];
    pf_fr_limbs_from_bytes(l, b);
    if (!limbs_below_p(l)) {
        *r = pf_fr_zero;
        return -1;
    }
    pf_fr_to_mont(r, l);
    return 0;
}

void pf_fr_from_bytes_reduce(pf_fr *r, const uint8_t b[32])
{
    pf_fr v;
    pf_fr_limbs_from_bytes(v.l, b);
    /* 2^256 < 3p, so at most two subtractions */
    while (!limbs_below_p(v.l)) {
        pf_fr p = { { PF_FR_P0, PF_FR_P1, PF_FR_P2, PF_FR_P3 } };
        pf_u128 d = (pf_u128)v.l[0] - p.l[0];
        uint64_t bw;
        v.l[0] = (uint64_t)d;
        bw = (uint64_t)(d >> 64) & 1;
        for (int i = 1; i < 4; i++) {
            d = (pf_u128)v.l[i] - p.l[i] - bw;
            v.l[i] = (uint64_t)d;
            bw = (uint64_t)(d >> 64) & 1;
        }
    }
    pf_fr_to_mont(r, v.l);
}

void pf_fr_to_bytes(uint8_t b[32], const pf_fr *a)
{
    uint64_t c[4];
    pf_fr_from_mont(c, a);
    pf_fr_limbs_to_bytes(b, c);
}
