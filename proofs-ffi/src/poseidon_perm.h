/* poseidon_perm.h — the optimized Poseidon permutation and the byte-level batch functions,
 * written once and built twice: poseidon_portable.c (PERM_MUL = pf_fr_mul_inline) and
 * poseidon_adx.c (PERM_MUL = pf_fr_mul_adx_inline, built with -mbmi2 -madx).  The includer
 * defines PERM_MUL(r, a, b) and PERM_NAME(name) (appends the path suffix).
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

/* s = s * m for a dense t x t matrix (row vector times matrix). */
static inline void perm_mix_dense(int t, const pf_fr *m, pf_fr *s)
{
    pf_fr out[PF_POSEIDON_MAX_ARITY + 1];
    for (int j = 0; j < t; j++) {
        pf_fr acc, p;
        PERM_MUL(&acc, &s[0], &m[j]);
        for (int i = 1; i < t; i++) {
            PERM_MUL(&p, &s[i], &m[i * t + j]);
            pf_fr_add(&acc, &acc, &p);
        }
        out[j] = acc;
    }
    memcpy(s, out, sizeof(pf_fr) * (size_t)t);
}

/* s = s * M'' where M'' has w_hat as column 0, v_rest as row 0 after its first element,
 * and the identity elsewhere. */
static inline void perm_mix_sparse(int t, const pf_fr *sp, pf_fr *s)
{
    const pf_fr *w_hat = sp, *v_rest = sp + t;
    pf_fr s0 = s[0], acc, p;
    PERM_MUL(&acc, &s[0], &w_hat[0]);
    for (int i = 1; i < t; i++) {
        PERM_MUL(&p, &s[i], &w_hat[i]);
        pf_fr_add(&acc, &acc, &p);
    }
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
