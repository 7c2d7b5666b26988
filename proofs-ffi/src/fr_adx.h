/* fr_adx.h — the MULX/ADCX/ADOX Montgomery product for Fr as an inline function, for files
 * built with -mbmi2 -madx (fr_adx.c, poseidon_adx.c) that are only entered after
 * pf_fr_cpu_has_adx().
 *
 * Operand scanning, one 64-bit word of b per round: the product a*b_i is added with the low
 * halves on the carry chain (ADCX) and the high halves on the overflow chain (ADOX), then
 * m = t0 * (-1/p) mod 2^64 and m*p are added the same way, which clears t0 and shifts the
 * accumulator down one word.  Because p < 2^255 the accumulator stays below 2p and fits in
 * four words plus one spare; the word freed by each reduction (it is zero) becomes the
 * spare of the next round, so the registers rotate instead of moving.  Results equal
 * pf_fr_mul_inline bit for bit (tests/unit/test_fr.c). */
#ifndef PF_FR_ADX_H
#define PF_FR_ADX_H

#include "fr.h"

#if defined(__x86_64__)

/* One multiply step: (T0..T4) += a * b[i]; T4 is zero on entry. */
#define PF_FR_ADX_MULSTEP(I, T0, T1, T2, T3, T4)                                         \
    "movq " #I "*8(%[b]), %%rdx\n\t"                                                    \
    "xorl %k[z], %k[z]\n\t"                                                             \
    "mulxq 0(%[a]), %[lo], %[hi]\n\t"                                                   \
    "adcxq %[lo], %[" #T0 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T1 "]\n\t"                                                       \
    "mulxq 8(%[a]), %[lo], %[hi]\n\t"                                                   \
    "adcxq %[lo], %[" #T1 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T2 "]\n\t"                                                       \
    "mulxq 16(%[a]), %[lo], %[hi]\n\t"                                                  \
    "adcxq %[lo], %[" #T2 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T3 "]\n\t"                                                       \
    "mulxq 24(%[a]), %[lo], %[hi]\n\t"                                                  \
    "adcxq %[lo], %[" #T3 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T4 "]\n\t"                                                       \
    "adcxq %[z], %[" #T4 "]\n\t"

/* One reduction step: (T0..T4) += m*p with m = T0 * inv; afterwards T0 is zero. */
#define PF_FR_ADX_REDSTEP(T0, T1, T2, T3, T4)                                            \
    "movq %[" #T0 "], %%rdx\n\t"                                                        \
    "imulq %[inv], %%rdx\n\t"                                                           \
    "xorl %k[z], %k[z]\n\t"                                                             \
    "mulxq 0(%[p]), %[lo], %[hi]\n\t"                                                   \
    "adcxq %[lo], %[" #T0 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T1 "]\n\t"                                                       \
    "mulxq 8(%[p]), %[lo], %[hi]\n\t"                                                   \
    "adcxq %[lo], %[" #T1 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T2 "]\n\t"                                                       \
    "mulxq 16(%[p]), %[lo], %[hi]\n\t"                                                  \
    "adcxq %[lo], %[" #T2 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T3 "]\n\t"                                                       \
    "mulxq 24(%[p]), %[lo], %[hi]\n\t"                                                  \
    "adcxq %[lo], %[" #T3 "]\n\t"                                                       \
    "adoxq %[hi], %[" #T4 "]\n\t"                                                       \
    "adcxq %[z], %[" #T4 "]\n\t"

/* always inlined: as a call it cannot be scheduled with the code around it */
__attribute__((always_inline)) static inline void pf_fr_mul_adx_inline(pf_fr *r, const pf_fr *a,
                                                                      const pf_fr *b)
{
    uint64_t t0, t1, t2, t3, t4, lo, hi, z;
    static const uint64_t inv = PF_FR_INV;
    __asm__(
        /* round 0: the accumulator starts empty, so t = a * b[0] directly */
        "movq 0(%[b]), %%rdx\n\t"
        "xorl %k[z], %k[z]\n\t"
        "mulxq 0(%[a]), %[t0], %[t1]\n\t"
        "mulxq 8(%[a]), %[lo], %[t2]\n\t"
        "adcxq %[lo], %[t1]\n\t"
        "mulxq 16(%[a]), %[lo], %[t3]\n\t"
        "adcxq %[lo], %[t2]\n\t"
        "mulxq 24(%[a]), %[lo], %[t4]\n\t"
        "adcxq %[lo], %[t3]\n\t"
        "adcxq %[z], %[t4]\n\t"
        PF_FR_ADX_REDSTEP(t0, t1, t2, t3, t4)
        PF_FR_ADX_MULSTEP(1, t1, t2, t3, t4, t0)
        PF_FR_ADX_REDSTEP(t1, t2, t3, t4, t0)
        PF_FR_ADX_MULSTEP(2, t2, t3, t4, t0, t1)
        PF_FR_ADX_REDSTEP(t2, t3, t4, t0, t1)
        PF_FR_ADX_MULSTEP(3, t3, t4, t0, t1, t2)
        PF_FR_ADX_REDSTEP(t3, t4, t0, t1, t2)
        /* result (t4, t0, t1, t2) < 2p: subtract p unless that borrows */
        "movq %[t4], %[lo]\n\t"
        "subq 0(%[p]), %[lo]\n\t"
        "movq %[t0], %[hi]\n\t"
        "sbbq 8(%[p]), %[hi]\n\t"
        "movq %[t1], %[z]\n\t"
        "sbbq 16(%[p]), %[z]\n\t"
        "movq %[t2], %%rdx\n\t"
        "sbbq 24(%[p]), %%rdx\n\t"
        "cmovncq %[lo], %[t4]\n\t"
        "cmovncq %[hi], %[t0]\n\t"
        "cmovncq %[z], %[t1]\n\t"
        "cmovncq %%rdx, %[t2]\n\t"
        : [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4),
          [lo] "=&r"(lo), [hi] "=&r"(hi), [z] "=&r"(z)
        : [a] "r"(a->l), [b] "r"(b->l), [p] "r"(pf_fr_modulus), [inv] "m"(inv),
          "m"(*(const uint64_t(*)[4])a->l), "m"(*(const uint64_t(*)[4])b->l),
          "m"(*(const uint64_t(*)[4])pf_fr_modulus)
        : "rdx", "cc");
    (void)t3;
    r->l[0] = t4;
    r->l[1] = t0;
    r->l[2] = t1;
    r->l[3] = t2;
}

#undef PF_FR_ADX_MULSTEP
#undef PF_FR_ADX_REDSTEP

#endif /* __x86_64__ */

#endif
