/* poseidon.cl — neptune's optimized Poseidon permutation (the Filecoin configuration of
 * proofs-ffi/src/poseidon.h) and the one batch kernel that column hashing and tree rows
 * share.  Built once per arity and limb width, after fr.cl, with
 *   -DARITY=a -DPF_RP=<partial rounds> -DPF_LIMB_BITS=32|64 [-DPF_CONST=__global]
 *   [-DPF_UNROLL_WIDTH]
 * so the state lives in registers and every loop over the width has a constant bound.
 *
 * Constants: pf_poseidon_get(arity)->blob, Montgomery limbs, laid out as
 *   [compressed round constants: 8*t + RP] [MDS t*t] [pre-sparse t*t]
 *   [RP sparse matrices: w_hat (t) then v_rest (t-1)]
 * read uniformly by every work-item (__constant by default: one broadcast per warp on
 * NVIDIA; the host passes -DPF_CONST=__global when the blob exceeds the device's constant
 * buffer).  Round structure: see perm_run in proofs-ffi/src/poseidon_perm.h. */

#ifndef ARITY
#error "ARITY must be defined"
#endif
#ifndef PF_RP
#error "PF_RP must be defined"
#endif
#ifndef PF_CONST
#define PF_CONST __constant
#endif

/* GPUs keep the state in registers only when every index into it is a constant, so the
 * host asks for the width loops unrolled there (-DPF_UNROLL_WIDTH); CPU devices compile
 * faster and run as fast without. */
#ifdef PF_UNROLL_WIDTH
#define UNROLL_W _Pragma("unroll")
#else
#define UNROLL_W
#endif

#define WIDTH (ARITY + 1)
#define HALF_FULL 4
#define EL FR_N   /* limbs per element in the constants blob */

inline fr pk(PF_CONST const limb *k, int e)
{
    fr r;
    #pragma unroll
    for (int i = 0; i < FR_N; i++)
        r.l[i] = k[e * EL + i];
    return r;
}

inline fr sbox(fr x)
{
    fr x2 = fr_sqr(x);
    fr x4 = fr_sqr(x2);
    return fr_mul(x, x4);
}

/* s = s * m (row vector times a dense row-major t x t matrix) */
inline void mix_dense(fr *s, PF_CONST const limb *m)
{
    fr out[WIDTH];
    UNROLL_W
    for (int j = 0; j < WIDTH; j++) {
        fr acc = fr_mul(s[0], pk(m, j));
        UNROLL_W
        for (int i = 1; i < WIDTH; i++)
            acc = fr_add(acc, fr_mul(s[i], pk(m, i * WIDTH + j)));
        out[j] = acc;
    }
    UNROLL_W
    for (int j = 0; j < WIDTH; j++)
        s[j] = out[j];
}

/* element 1 of s * m: the only one the hash outputs, so the last mix skips the rest */
inline fr mix_dense_col1(const fr *s, PF_CONST const limb *m)
{
    fr acc = fr_mul(s[0], pk(m, 1));
    UNROLL_W
    for (int i = 1; i < WIDTH; i++)
        acc = fr_add(acc, fr_mul(s[i], pk(m, i * WIDTH + 1)));
    return acc;
}

/* s = s * M'' with w_hat as column 0, v_rest as row 0 after its first element and the
 * identity elsewhere */
inline void mix_sparse(fr *s, PF_CONST const limb *sp)
{
    PF_CONST const limb *v_rest = sp + WIDTH * EL;
    fr s0 = s[0];
    fr acc = fr_mul(s[0], pk(sp, 0));
    UNROLL_W
    for (int i = 1; i < WIDTH; i++)
        acc = fr_add(acc, fr_mul(s[i], pk(sp, i)));
    UNROLL_W
    for (int j = 1; j < WIDTH; j++)
        s[j] = fr_add(s[j], fr_mul(s0, pk(v_rest, j - 1)));
    s[0] = acc;
}

/* The permutation on a Montgomery state; returns element 1 (the hash). */
fr poseidon_permute(fr *s, PF_CONST const limb *blob)
{
    PF_CONST const limb *k = blob;
    PF_CONST const limb *mds = blob + (8 * WIDTH + PF_RP) * EL;
    PF_CONST const limb *pre = mds + WIDTH * WIDTH * EL;
    PF_CONST const limb *sp = pre + WIDTH * WIDTH * EL;

    UNROLL_W

    for (int i = 0; i < WIDTH; i++)
        s[i] = fr_add(s[i], pk(k, i));
    k += WIDTH * EL;
    for (int r = 0; r < HALF_FULL; r++) {
        UNROLL_W
        for (int i = 0; i < WIDTH; i++)
            s[i] = fr_add(sbox(s[i]), pk(k, i));
        k += WIDTH * EL;
        mix_dense(s, r == HALF_FULL - 1 ? pre : mds);
    }
    for (int r = 0; r < PF_RP; r++) {
        s[0] = fr_add(sbox(s[0]), pk(k, 0));
        k += EL;
        mix_sparse(s, sp);
        sp += (2 * WIDTH - 1) * EL;
    }
    for (int r = 0; r < HALF_FULL - 1; r++) {
        UNROLL_W
        for (int i = 0; i < WIDTH; i++)
            s[i] = fr_add(sbox(s[i]), pk(k, i));
        k += WIDTH * EL;
        mix_dense(s, mds);
    }
    UNROLL_W
    for (int i = 0; i < WIDTH; i++)
        s[i] = sbox(s[i]);
    return mix_dense_col1(s, mds);
}

/* out[out_off + i] = H(element 0..ARITY-1 of hash i), i < count, where element e of hash i
 * is in[in_off + i * hash_stride + e * elem_stride]:
 *  - tree rows (children contiguous): hash_stride = ARITY, elem_stride = 1;
 *  - columns (one plane of `plane` nodes per layer): hash_stride = 1, elem_stride = plane.
 * Inputs are canonical; one that is not below p lowers *bad to i * ARITY + e (the host
 * fills *bad with all ones first).  tag = the domain tag in Montgomery form. */
__kernel void pf_poseidon(__global const ulong4 *in, ulong in_off, ulong hash_stride,
                          ulong elem_stride, uint count, __global ulong4 *out, ulong out_off,
                          volatile __global uint *bad, ulong4 tag, PF_CONST const limb *blob)
{
    uint i = get_global_id(0);
    if (i >= count)
        return;
    fr s[WIDTH];
    s[0] = fr_raw(tag);
    __global const ulong4 *src = in + in_off + (ulong)i * hash_stride;
    UNROLL_W
    for (int e = 0; e < ARITY; e++) {
        fr raw = fr_raw(src[(ulong)e * elem_stride]);
        if (!fr_is_canonical(raw))
            atomic_min(bad, i * (uint)ARITY + (uint)e);
        s[e + 1] = fr_to_mont(raw);
    }
    out[out_off + i] = fr_pack(fr_from_mont(poseidon_permute(s, blob)));
}
