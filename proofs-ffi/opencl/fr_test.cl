/* fr_test.cl — exposes the fr.cl operations one by one so tests/unit/test_opencl.c can
 * compare them with proofs-ffi/src/fr.h on random values.  Not part of the hashing
 * programs; built after fr.cl. */

#define PF_FR_OP_ADD 0
#define PF_FR_OP_SUB 1
#define PF_FR_OP_MUL 2
#define PF_FR_OP_SQR 3
#define PF_FR_OP_TO_MONT 4
#define PF_FR_OP_FROM_MONT 5
#define PF_FR_OP_CANONICAL 6   /* out = (is_canonical(a), 0, 0, 0) */

/* out[i] = op(a[i], b[i]) on raw limbs (Montgomery or canonical as the op expects). */
__kernel void pf_fr_test(__global const ulong4 *a, __global const ulong4 *b, __global ulong4 *out,
                         uint count, uint op)
{
    uint i = get_global_id(0);
    if (i >= count)
        return;
    fr x = fr_raw(a[i]), y = fr_raw(b[i]), r;
    switch (op) {
    case PF_FR_OP_ADD:
        r = fr_add(x, y);
        break;
    case PF_FR_OP_SUB:
        r = fr_sub(x, y);
        break;
    case PF_FR_OP_MUL:
        r = fr_mul(x, y);
        break;
    case PF_FR_OP_SQR:
        r = fr_sqr(x);
        break;
    case PF_FR_OP_TO_MONT:
        r = fr_to_mont(x);
        break;
    case PF_FR_OP_FROM_MONT:
        r = fr_from_mont(x);
        break;
    default:
        out[i] = (ulong4)((ulong)fr_is_canonical(x), 0, 0, 0);
        return;
    }
    out[i] = fr_pack(r);
}
