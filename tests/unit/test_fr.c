/* test_fr.c — BLS12-381 Fr: Montgomery arithmetic against a slow bit-serial reference on
 * random values, the MULX/ADX product against the portable one, and the bytes_into_fr
 * boundary vectors of rust-fil-proofs (fr32/src/convert.rs::test_bytes_into_fr_into_bytes,
 * quoted in research/porep.md section 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fr.h"

static const uint64_t P[4] = { PF_FR_P0, PF_FR_P1, PF_FR_P2, PF_FR_P3 };

/* ---- slow reference: integers as little-endian limb arrays ---- */

static int ref_cmp(const uint64_t *a, const uint64_t *b, int n)
{
    for (int i = n - 1; i >= 0; i--)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static void ref_sub4(uint64_t a[4], const uint64_t b[4])
{
    uint64_t bw = 0;
    for (int i = 0; i < 4; i++) {
        pf_u128 d = (pf_u128)a[i] - b[i] - bw;
        a[i] = (uint64_t)d;
        bw = (uint64_t)(d >> 64) & 1;
    }
}

/* r = x mod p for an n-limb x, one bit at a time. */
static void ref_mod(uint64_t r[4], const uint64_t *x, int n)
{
    memset(r, 0, 32);
    for (int bit = 64 * n - 1; bit >= 0; bit--) {
        uint64_t in = (x[bit / 64] >> (bit % 64)) & 1;
        for (int i = 3; i > 0; i--)
            r[i] = (r[i] << 1) | (r[i - 1] >> 63);
        r[0] = (r[0] << 1) | in;
        if (ref_cmp(r, P, 4) >= 0)
            ref_sub4(r, P);
    }
}

static void ref_mulmod(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t prod[8] = { 0 };
    for (int i = 0; i < 4; i++) {
        uint64_t carry = 0;
        for (int j = 0; j < 4; j++) {
            pf_u128 t = (pf_u128)a[i] * b[j] + prod[i + j] + carry;
            prod[i + j] = (uint64_t)t;
            carry = (uint64_t)(t >> 64);
        }
        prod[i + 4] = carry;
    }
    ref_mod(r, prod, 8);
}

static void ref_addmod(uint64_t r[4], const uint64_t a[4], const uint64_t b[4])
{
    uint64_t s[5];
    uint64_t c = 0;
    for (int i = 0; i < 4; i++) {
        pf_u128 t = (pf_u128)a[i] + b[i] + c;
        s[i] = (uint64_t)t;
        c = (uint64_t)(t >> 64);
    }
    s[4] = c;
    ref_mod(r, s, 5);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd64(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A random canonical value; every 8th one is next to a boundary (0, 1, p-1, p-2). */
static void rnd_canon(uint64_t v[4])
{
    int kind = (int)(rnd64() % 16);
    if (kind < 4) {
        memcpy(v, P, 32);
        uint64_t k = (uint64_t)kind + 1;   /* p-1 .. p-4 */
        v[0] -= k;
        return;
    }
    if (kind < 6) {
        memset(v, 0, 32);
        v[0] = (uint64_t)(kind - 4);       /* 0 or 1 */
        return;
    }
    do {
        for (int i = 0; i < 4; i++)
            v[i] = rnd64();
        v[3] &= 0x7fffffffffffffffULL;
    } while (ref_cmp(v, P, 4) >= 0);
}

static void test_constants(void **state)
{
    (void)state;
    uint64_t r[4], x[5] = { 0, 0, 0, 0, 1 };
    ref_mod(r, x, 5);                          /* 2^256 mod p */
    assert_memory_equal(r, pf_fr_one.l, 32);
    uint64_t x2[9] = { 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    ref_mod(r, x2, 9);                         /* 2^512 mod p */
    assert_memory_equal(r, pf_fr_r2.l, 32);
    /* -p^-1 mod 2^64 */
    assert_int_equal((uint64_t)(PF_FR_P0 * PF_FR_INV), (uint64_t)-1);
}

static void test_mont_roundtrip(void **state)
{
    (void)state;
    for (int n = 0; n < 2000; n++) {
        uint64_t v[4], back[4], want[4];
        rnd_canon(v);
        pf_fr m;
        pf_fr_to_mont(&m, v);
        uint64_t wide[8] = { 0, 0, 0, 0, v[0], v[1], v[2], v[3] };
        ref_mod(want, wide, 8);                /* v * 2^256 mod p */
        assert_memory_equal(m.l, want, 32);
        pf_fr_from_mont(back, &m);
        assert_memory_equal(back, v, 32);
    }
}

static void test_add_sub_mul(void **state)
{
    (void)state;
    for (int n = 0; n < 3000; n++) {
        uint64_t a[4], b[4], want[4], got[4];
        rnd_canon(a);
        rnd_canon(b);
        pf_fr ma, mb, mr;
        pf_fr_to_mont(&ma, a);
        pf_fr_to_mont(&mb, b);

        pf_fr_mul(&mr, &ma, &mb);
        pf_fr_from_mont(got, &mr);
        ref_mulmod(want, a, b);
        assert_memory_equal(got, want, 32);

        pf_fr_mul_portable(&mr, &ma, &mb);
        pf_fr_from_mont(got, &mr);
        assert_memory_equal(got, want, 32);

        pf_fr_add(&mr, &ma, &mb);
        pf_fr_from_mont(got, &mr);
        ref_addmod(want, a, b);
        assert_memory_equal(got, want, 32);

        /* a - b checked as (a - b) + b == a, and against the reference via p - b */
        pf_fr_sub(&mr, &ma, &mb);
        pf_fr_add(&mr, &mr, &mb);
        assert_true(pf_fr_eq(&mr, &ma));
        pf_fr_sub(&mr, &ma, &mb);
        pf_fr_from_mont(got, &mr);
        uint64_t negb[4];
        memcpy(negb, P, 32);
        ref_sub4(negb, b);                     /* p - b, in [1, p] */
        ref_addmod(want, a, negb);
        assert_memory_equal(got, want, 32);

        pf_fr_neg(&mr, &ma);
        pf_fr_add(&mr, &mr, &ma);
        assert_true(pf_fr_is_zero(&mr));
    }
}

static void test_inverse_pow(void **state)
{
    (void)state;
    for (int n = 0; n < 200; n++) {
        uint64_t a[4];
        rnd_canon(a);
        pf_fr ma, inv, prod;
        pf_fr_to_mont(&ma, a);
        if (pf_fr_is_zero(&ma)) {
            assert_int_equal(pf_fr_inv(&inv, &ma), -1);
            continue;
        }
        assert_int_equal(pf_fr_inv(&inv, &ma), 0);
        pf_fr_mul(&prod, &ma, &inv);
        assert_true(pf_fr_eq(&prod, &pf_fr_one));
    }
    /* 3^5 = 243 */
    pf_fr three, r, want;
    pf_fr_from_u64(&three, 3);
    const uint64_t e5[4] = { 5, 0, 0, 0 };
    pf_fr_pow(&r, &three, e5);
    pf_fr_from_u64(&want, 243);
    assert_true(pf_fr_eq(&r, &want));
    /* Fermat: a^(p-1) = 1 */
    const uint64_t pm1[4] = { PF_FR_P0 - 1, PF_FR_P1, PF_FR_P2, PF_FR_P3 };
    pf_fr_pow(&r, &three, pm1);
    assert_true(pf_fr_eq(&r, &pf_fr_one));
}

static void test_adx_matches_portable(void **state)
{
    (void)state;
    if (!pf_fr_cpu_has_adx())
        skip();
    for (int n = 0; n < 20000; n++) {
        uint64_t a[4], b[4];
        rnd_canon(a);
        rnd_canon(b);
        pf_fr ma, mb, r1, r2;
        /* raw limbs too: both products accept any input below p */
        memcpy(ma.l, a, 32);
        memcpy(mb.l, b, 32);
        pf_fr_mul_portable(&r1, &ma, &mb);
        pf_fr_mul_adx(&r2, &ma, &mb);
        assert_memory_equal(r1.l, r2.l, 32);
        pf_fr_mul_adx(&r2, &ma, &ma);          /* aliasing: square */
        pf_fr_mul_portable(&r1, &ma, &ma);
        assert_memory_equal(r1.l, r2.l, 32);
        ma = r1;
        pf_fr_mul_adx(&ma, &ma, &mb);          /* output aliases an input */
        pf_fr_mul_portable(&r1, &r1, &mb);
        assert_memory_equal(r1.l, ma.l, 32);
    }
}

static void test_bytes_into_fr_boundaries(void **state)
{
    (void)state;
    uint8_t b[32];
    pf_fr r;
    /* 31 x 0xff then 0x72: valid */
    memset(b, 0xff, 32);
    b[31] = 0x72;
    assert_int_equal(pf_fr_from_bytes(&r, b), 0);
    uint8_t back[32];
    pf_fr_to_bytes(back, &r);
    assert_memory_equal(back, b, 32);
    /* 31 x 0xff then 0x73: invalid */
    b[31] = 0x73;
    assert_int_equal(pf_fr_from_bytes(&r, b), -1);
    assert_false(pf_fr_bytes_valid(b));
    /* 30 x 0xff, 0xec, 0x73: valid */
    b[30] = 0xec;
    assert_int_equal(pf_fr_from_bytes(&r, b), 0);
    pf_fr_to_bytes(back, &r);
    assert_memory_equal(back, b, 32);
    /* 30 x 0xff, 0xed, 0x73: invalid */
    b[30] = 0xed;
    assert_int_equal(pf_fr_from_bytes(&r, b), -1);

    /* p itself is rejected, p - 1 accepted; the reducing variant maps p to 0 and
     * 2^256 - 1 to (2^256 - 1) mod p */
    pf_fr_limbs_to_bytes(b, P);
    assert_int_equal(pf_fr_from_bytes(&r, b), -1);
    pf_fr_from_bytes_reduce(&r, b);
    assert_true(pf_fr_is_zero(&r));
    uint64_t pm1[4] = { PF_FR_P0 - 1, PF_FR_P1, PF_FR_P2, PF_FR_P3 };
    pf_fr_limbs_to_bytes(b, pm1);
    assert_int_equal(pf_fr_from_bytes(&r, b), 0);
    memset(b, 0xff, 32);
    pf_fr_from_bytes_reduce(&r, b);
    uint64_t all[4] = { ~0ULL, ~0ULL, ~0ULL, ~0ULL }, want[4], got[4];
    ref_mod(want, all, 4);
    pf_fr_from_mont(got, &r);
    assert_memory_equal(got, want, 32);

    /* byte order: 1 is 01 00 .. 00 */
    pf_fr_from_u64(&r, 1);
    pf_fr_to_bytes(back, &r);
    assert_int_equal(back[0], 1);
    for (int i = 1; i < 32; i++)
        assert_int_equal(back[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_mont_roundtrip),
        cmocka_unit_test(test_add_sub_mul),
        cmocka_unit_test(test_inverse_pow),
        cmocka_unit_test(test_adx_matches_portable),
        cmocka_unit_test(test_bytes_into_fr_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
