/* fr.cl — BLS12-381 Fr arithmetic for the OpenCL kernels, bit for bit the field of
 * proofs-ffi/src/fr.h: Montgomery form with R = 2^256, every value fully reduced (< p).
 *
 * Two limb widths from one source, chosen by the host with -DPF_LIMB_BITS:
 *  - 64: four ulong limbs, products through mul_hi.  Best where 64-bit multiplies are
 *    native (CPU devices such as PoCL).
 *  - 32: eight uint limbs, products as (ulong)a * b.  GPUs have 32-bit multipliers only
 *    (NVIDIA compiles this to IMAD.WIDE.U32), so this is the GPU default.
 * Both give identical results (a Montgomery product of reduced inputs is unique), and the
 * host tests run both on every device.
 *
 * Values cross the host boundary as canonical little-endian 32 bytes, loaded as one ulong4
 * (devices are little-endian; the host checks CL_DEVICE_ENDIAN_LITTLE). */

#ifndef PF_LIMB_BITS
#define PF_LIMB_BITS 64
#endif

#if PF_LIMB_BITS == 64
#define FR_N 4
typedef ulong limb;
#define FR_INV 0xfffffffeffffffffUL   /* -p^-1 mod 2^64 */
__constant ulong FR_P[4] = { 0xffffffff00000001UL, 0x53bda402fffe5bfeUL,
                             0x3339d80809a1d805UL, 0x73eda753299d7d48UL };
__constant ulong FR_R2[4] = { 0xc999e990f3f29c6dUL, 0x2b6cedcb87925c23UL,
                              0x05d314967254398fUL, 0x0748d9d99f59ff11UL };
#elif PF_LIMB_BITS == 32
#define FR_N 8
typedef uint limb;
#define FR_INV 0xffffffffU            /* -p^-1 mod 2^32 (p = 1 mod 2^32) */
__constant uint FR_P[8] = { 0x00000001U, 0xffffffffU, 0xfffe5bfeU, 0x53bda402U,
                            0x09a1d805U, 0x3339d808U, 0x299d7d48U, 0x73eda753U };
__constant uint FR_R2[8] = { 0xf3f29c6dU, 0xc999e990U, 0x87925c23U, 0x2b6cedcbU,
                             0x7254398fU, 0x05d31496U, 0x9f59ff11U, 0x0748d9d9U };
#else
#error "PF_LIMB_BITS must be 32 or 64"
#endif

typedef struct fr {
    limb l[FR_N];
} fr;

/* ---- limb primitives ---- */

#if PF_LIMB_BITS == 64 && defined(__SIZEOF_INT128__) && !defined(PF_NO_INT128)
/* a*b + c + *carry (never overflows 128 bits); the high word goes to *carry.  Compilers
 * that have a 128-bit integer (clang for CPU targets: PoCL) turn this into one widening
 * multiply; some OpenCL libraries build 64-bit mul_hi from 32-bit pieces. */
inline limb fr_mac(limb a, limb b, limb c, limb *carry)
{
    unsigned __int128 x = (unsigned __int128)a * b + c + *carry;
    *carry = (limb)(x >> 64);
    return (limb)x;
}
#elif PF_LIMB_BITS == 64
inline limb fr_mac(limb a, limb b, limb c, limb *carry)
{
    limb lo = a * b, hi = mul_hi(a, b);
    lo += c;
    hi += lo < c;
    lo += *carry;
    hi += lo < *carry;
    *carry = hi;
    return lo;
}
#endif

#if PF_LIMB_BITS == 64
/* a + b + *carry (carry 0 or 1), carry out in *carry. */
inline limb fr_adc(limb a, limb b, limb *carry)
{
    limb s = a + *carry;
    limb c = s < a;
    s += b;
    c += s < b;
    *carry = c;
    return s;
}

/* a - b - *borrow (borrow 0 or 1), borrow out in *borrow. */
inline limb fr_sbb(limb a, limb b, limb *borrow)
{
    limb d = a - b;
    limb w = a < b;
    limb e = d - *borrow;
    w += d < *borrow;
    *borrow = w;
    return e;
}
#else
inline limb fr_mac(limb a, limb b, limb c, limb *carry)
{
    ulong x = (ulong)a * b + c + *carry;
    *carry = (uint)(x >> 32);
    return (uint)x;
}

inline limb fr_adc(limb a, limb b, limb *carry)
{
    ulong x = (ulong)a + b + *carry;
    *carry = (uint)(x >> 32);
    return (uint)x;
}

inline limb fr_sbb(limb a, limb b, limb *borrow)
{
    ulong x = (ulong)a - b - *borrow;
    *borrow = (uint)(x >> 63);
    return (uint)x;
}
#endif

/* ---- field operations ---- */

/* t - p when t >= p, else t (t < 2p). */
inline fr fr_reduce_once(fr t)
{
    fr d;
    limb bw = 0;
    #pragma unroll
    for (int i = 0; i < FR_N; i++)
        d.l[i] = fr_sbb(t.l[i], FR_P[i], &bw);
    return bw ? t : d;
}

inline fr fr_add(fr a, fr b)
{
    fr s;
    limb c = 0;
    #pragma unroll
    for (int i = 0; i < FR_N; i++)
        s.l[i] = fr_adc(a.l[i], b.l[i], &c);
    /* a + b < 2p < 2^256: no carry out of the top limb */
    return fr_reduce_once(s);
}

inline fr fr_sub(fr a, fr b)
{
    fr d;
    limb bw = 0;
    #pragma unroll
    for (int i = 0; i < FR_N; i++)
        d.l[i] = fr_sbb(a.l[i], b.l[i], &bw);
    if (bw) {
        limb c = 0;
        #pragma unroll
        for (int i = 0; i < FR_N; i++)
            d.l[i] = fr_adc(d.l[i], FR_P[i], &c);
    }
    return d;
}

/* Montgomery product a*b/R mod p: operand scanning with the reduction interleaved.  The top
 * word of each step is the sum of the two high carries without a further carry: p's top limb
 * leaves the most significant bit free, so the running value stays below 2p (the same
 * argument as pf_fr_mul_inline). */
fr fr_mul(fr a, fr b)
{
    limb t[FR_N];
    #pragma unroll
    for (int j = 0; j < FR_N; j++)
        t[j] = 0;
    #pragma unroll
    for (int i = 0; i < FR_N; i++) {
        limb bi = b.l[i], ca = 0, cm = 0;
        #pragma unroll
        for (int j = 0; j < FR_N; j++)
            t[j] = fr_mac(a.l[j], bi, t[j], &ca);
        limb m = t[0] * FR_INV;
        (void)fr_mac(m, FR_P[0], t[0], &cm);   /* low word is zero by the choice of m */
        #pragma unroll
        for (int j = 1; j < FR_N; j++)
            t[j - 1] = fr_mac(m, FR_P[j], t[j], &cm);
        t[FR_N - 1] = ca + cm;
    }
    fr r;
    #pragma unroll
    for (int j = 0; j < FR_N; j++)
        r.l[j] = t[j];
    return fr_reduce_once(r);
}

inline fr fr_sqr(fr a)
{
    return fr_mul(a, a);
}

/* ---- host boundary ---- */

/* Raw limbs of 32 little-endian bytes (no field arithmetic). */
inline fr fr_raw(ulong4 v)
{
    fr r;
#if PF_LIMB_BITS == 64
    r.l[0] = v.s0;
    r.l[1] = v.s1;
    r.l[2] = v.s2;
    r.l[3] = v.s3;
#else
    r.l[0] = (uint)v.s0;
    r.l[1] = (uint)(v.s0 >> 32);
    r.l[2] = (uint)v.s1;
    r.l[3] = (uint)(v.s1 >> 32);
    r.l[4] = (uint)v.s2;
    r.l[5] = (uint)(v.s2 >> 32);
    r.l[6] = (uint)v.s3;
    r.l[7] = (uint)(v.s3 >> 32);
#endif
    return r;
}

inline ulong4 fr_pack(fr a)
{
#if PF_LIMB_BITS == 64
    return (ulong4)(a.l[0], a.l[1], a.l[2], a.l[3]);
#else
    return (ulong4)((ulong)a.l[0] | ((ulong)a.l[1] << 32), (ulong)a.l[2] | ((ulong)a.l[3] << 32),
                    (ulong)a.l[4] | ((ulong)a.l[5] << 32), (ulong)a.l[6] | ((ulong)a.l[7] << 32));
#endif
}

/* 1 when the raw value is below p (a canonical field element). */
inline int fr_is_canonical(fr a)
{
    limb bw = 0;
    #pragma unroll
    for (int i = 0; i < FR_N; i++)
        (void)fr_sbb(a.l[i], FR_P[i], &bw);
    return bw != 0;
}

inline fr fr_const(__constant const limb *k)
{
    fr r;
    #pragma unroll
    for (int i = 0; i < FR_N; i++)
        r.l[i] = k[i];
    return r;
}

/* canonical -> Montgomery: x * R^2 / R */
inline fr fr_to_mont(fr a)
{
    return fr_mul(a, fr_const(FR_R2));
}

/* Montgomery -> canonical: x * 1 / R */
inline fr fr_from_mont(fr a)
{
    fr one;
    #pragma unroll
    for (int i = 0; i < FR_N; i++)
        one.l[i] = 0;
    one.l[0] = 1;
    return fr_mul(a, one);
}
