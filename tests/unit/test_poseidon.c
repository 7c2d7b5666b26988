/* test_poseidon.c — Poseidon as neptune configures it for Filecoin.
 * Known answers (research/porep.md sections 9 and 10.3):
 *  - neptune src/poseidon.rs test hash_values: Standard strength, preimage [0, 1, ..., a-1],
 *    MerkleTree domain tag, arities 2, 4, 8, 16;
 *  - the first round constants of neptune's
 *    parameters/round_constants-1-1-255-9-8-57-73EDA...0001.txt (t = 9) and the t = 3 and
 *    t = 12 spot values cross-checked against supranational/supra_seal poseidon/constants;
 *  - neptune src/hash_type.rs test_domain_tags: MerkleTree tag of arity 8 = 0xff.
 * Properties: MDS symmetric with M[i][j] = 1/(x_i + y_j); the optimized permutation equals
 * the straightforward one; MULX/ADX equals portable; batches equal single hashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "poseidon.h"
#include "sp_codec.h"

/* Canonical value as a big-endian 0x-less hex integer. */
static void fr_hex_be(const pf_fr *a, char out[65])
{
    uint8_t le[32], be[32];
    pf_fr_to_bytes(le, a);
    for (int i = 0; i < 32; i++)
        be[i] = le[31 - i];
    sp_hex_encode(be, 32, out);
}

static void hash_iota(int arity, char out_le_hex[65])
{
    const pf_poseidon_consts *c = pf_poseidon_get(arity);
    assert_non_null(c);
    pf_fr in[PF_POSEIDON_MAX_ARITY], h;
    for (int i = 0; i < arity; i++)
        pf_fr_from_u64(&in[i], (uint64_t)i);
    pf_poseidon_hash_mont(c, in, &h);
    uint8_t b[32];
    pf_fr_to_bytes(b, &h);
    sp_hex_encode(b, 32, out_le_hex);
    /* the straightforward permutation agrees */
    pf_fr h2;
    pf_poseidon_hash_correct(c, in, &h2);
    assert_true(pf_fr_eq(&h, &h2));
}

static void test_neptune_vectors(void **state)
{
    (void)state;
    char h[65];
    hash_iota(2, h);
    assert_string_equal(h, "ffe7029a363c202e9da6059d33a9fba661e1ef02d90f9e736ba5765ed7086539");
    hash_iota(4, h);
    assert_string_equal(h, "5d076266ff149801ec2713bf05466bfb99932279653cdb008a84e5a9104ba558");
    hash_iota(8, h);
    assert_string_equal(h, "e6a5386df534992ad9aec49c9d2e684b777067114200011255dea5a31d619423");
    hash_iota(16, h);
    assert_string_equal(h, "376d266040c791126f0a68306dbc8d5b631e876f5afbc2c18aae813366e23a2d");
}

static void test_round_constants(void **state)
{
    (void)state;
    char h[65];
    const pf_poseidon_consts *c9 = pf_poseidon_get(8);
    assert_int_equal(c9->width, 9);
    assert_int_equal(c9->rp, 57);
    fr_hex_be(&c9->round_constants[0], h);
    assert_string_equal(h, "6ce90d12c4045fe08c3caddb776dd84ac52b4ae7e48cd49443984154f2f4c2f9");
    fr_hex_be(&c9->round_constants[1], h);
    assert_string_equal(h, "0ccd9b480c84022b25a75b52c8e89d80b4fa6378d32e58f3a175504940bcec39");
    const pf_poseidon_consts *c3 = pf_poseidon_get(2);
    assert_int_equal(c3->rp, 55);
    fr_hex_be(&c3->round_constants[0], h);
    assert_string_equal(h, "669f064bfa3ae17a23bd51861dbb4a24501eac92a2758b36a7320a009d6ed3d8");
    fr_hex_be(&c3->round_constants[1], h);
    assert_string_equal(h, "0a61a8defbacca36e4537ff2c84fa66ceee67c9645ac27346e72ab842b9d3f15");
    const pf_poseidon_consts *c12 = pf_poseidon_get(11);
    assert_int_equal(c12->rp, 57);
    fr_hex_be(&c12->round_constants[0], h);
    assert_string_equal(h, "1f6c9576e648b5047399bfc5f38902e0d506f18e0f3ab77de6de096bd089bce4");
    /* round numbers (neptune round_numbers.rs test table, t -> RP) */
    const int t_rp[][2] = { { 2, 55 }, { 3, 55 }, { 4, 56 }, { 7, 56 }, { 8, 57 }, { 15, 57 },
                            { 16, 59 }, { 17, 59 }, { 25, 59 }, { 37, 60 } };
    for (size_t i = 0; i < sizeof t_rp / sizeof t_rp[0]; i++)
        assert_int_equal(pf_poseidon_partial_rounds(t_rp[i][0]), t_rp[i][1]);
    /* multiplications per optimized hash (research/perf.md 1.2) */
    assert_int_equal(pf_poseidon_mults_per_hash(2), 584);
    assert_int_equal(pf_poseidon_mults_per_hash(8), 2004);
    assert_int_equal(pf_poseidon_mults_per_hash(11), 2922);
}

static void test_mds_and_tags(void **state)
{
    (void)state;
    const int arities[] = { 1, 2, 4, 8, 11, 16 };
    for (size_t n = 0; n < sizeof arities / sizeof arities[0]; n++) {
        const pf_poseidon_consts *c = pf_poseidon_get(arities[n]);
        assert_non_null(c);
        int t = c->width;
        for (int i = 0; i < t; i++)
            for (int j = 0; j < t; j++) {
                assert_true(pf_fr_eq(&c->mds[i * t + j], &c->mds[j * t + i]));
                pf_fr x, prod;
                pf_fr_from_u64(&x, (uint64_t)(i + t + j));   /* x_i = i, y_j = t + j */
                pf_fr_mul(&prod, &c->mds[i * t + j], &x);
                assert_true(pf_fr_eq(&prod, &pf_fr_one));
                /* M * M^-1 = I */
                pf_fr acc = pf_fr_zero, p;
                for (int k = 0; k < t; k++) {
                    pf_fr_mul(&p, &c->mds[i * t + k], &c->mds_inv[k * t + j]);
                    pf_fr_add(&acc, &acc, &p);
                }
                assert_true(pf_fr_eq(&acc, i == j ? &pf_fr_one : &pf_fr_zero));
            }
        /* tag = 2^arity - 1 */
        pf_fr tag;
        pf_fr_from_u64(&tag, (1ULL << arities[n]) - 1);
        assert_true(pf_fr_eq(&tag, &c->tag));
        /* the blob holds the optimized constants in the kernel layout */
        size_t tt = (size_t)(t * t);
        assert_int_equal(c->blob_len, (size_t)(c->rf * t + c->rp) + 2 * tt +
                                          (size_t)c->rp * (size_t)(2 * t - 1));
        assert_ptr_equal(c->compressed, c->blob);
        assert_memory_equal(c->blob + c->rf * t + c->rp, c->mds, tt * sizeof(pf_fr));
        /* the first t compressed constants are the first round's own */
        assert_memory_equal(c->compressed, c->round_constants, (size_t)t * sizeof(pf_fr));
    }
    uint8_t b[32];
    pf_fr_to_bytes(b, &pf_poseidon_get(8)->tag);
    assert_int_equal(b[0], 0xff);
    for (int i = 1; i < 32; i++)
        assert_int_equal(b[i], 0);
    assert_null(pf_poseidon_get(0));
    assert_null(pf_poseidon_get(PF_POSEIDON_MAX_ARITY + 1));
}

static uint64_t rng = 12345;
static uint64_t rnd64(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rnd_fr_bytes(uint8_t b[32])
{
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)rnd64();
    b[31] &= 0x3f;   /* < 2^254 < p */
}

static void test_optimized_equals_correct(void **state)
{
    (void)state;
    for (int arity = 1; arity <= PF_POSEIDON_MAX_ARITY; arity++) {
        /* the large ones are slow to build under sanitizers; cover the used ones and a few */
        if (arity > 16 && arity != 24 && arity != 36)
            continue;
        const pf_poseidon_consts *c = pf_poseidon_get(arity);
        assert_non_null(c);
        for (int n = 0; n < 3; n++) {
            pf_fr in[PF_POSEIDON_MAX_ARITY], h1, h2;
            for (int i = 0; i < arity; i++) {
                uint8_t b[32];
                rnd_fr_bytes(b);
                assert_int_equal(pf_fr_from_bytes(&in[i], b), 0);
            }
            pf_poseidon_hash_correct(c, in, &h1);
            pf_poseidon_hash_mont_portable(c, in, &h2);
            assert_true(pf_fr_eq(&h1, &h2));
            if (pf_fr_cpu_has_adx()) {
                pf_poseidon_hash_mont_adx(c, in, &h2);
                assert_true(pf_fr_eq(&h1, &h2));
            }
        }
    }
}

static void test_batches(void **state)
{
    (void)state;
    enum { COUNT = 37 };
    const int arities[] = { 2, 8, 11 };
    for (size_t n = 0; n < sizeof arities / sizeof arities[0]; n++) {
        int a = arities[n];
        const pf_poseidon_consts *c = pf_poseidon_get(a);
        uint8_t *in = malloc((size_t)COUNT * (size_t)a * 32);
        uint8_t *cols[PF_POSEIDON_MAX_ARITY];
        uint8_t out1[COUNT * 32], out2[COUNT * 32], out3[COUNT * 32];
        assert_non_null(in);
        for (int i = 0; i < COUNT * a; i++)
            rnd_fr_bytes(in + 32 * i);
        for (int l = 0; l < a; l++) {
            cols[l] = malloc(COUNT * 32);
            assert_non_null(cols[l]);
            for (int i = 0; i < COUNT; i++)
                memcpy(cols[l] + 32 * i, in + 32 * ((size_t)i * (size_t)a + (size_t)l), 32);
        }
        assert_int_equal(pf_poseidon_batch_nodes(c, in, COUNT, out1), -1);
        assert_int_equal(pf_poseidon_batch_columns(c, (const uint8_t *const *)cols, COUNT, out2),
                         -1);
        assert_memory_equal(out1, out2, sizeof out1);
        assert_int_equal(pf_poseidon_batch_nodes_portable(c, in, COUNT, out3), -1);
        assert_memory_equal(out1, out3, sizeof out1);
        if (pf_fr_cpu_has_adx()) {
            assert_int_equal(pf_poseidon_batch_nodes_adx(c, in, COUNT, out3), -1);
            assert_memory_equal(out1, out3, sizeof out1);
            assert_int_equal(pf_poseidon_batch_columns_adx(c, (const uint8_t *const *)cols,
                                                           COUNT, out3), -1);
            assert_memory_equal(out1, out3, sizeof out1);
        }
        /* each equals the straightforward hash of its inputs */
        for (int i = 0; i < COUNT; i++) {
            pf_fr x[PF_POSEIDON_MAX_ARITY], h;
            for (int l = 0; l < a; l++)
                assert_int_equal(pf_fr_from_bytes(&x[l], in + 32 * ((size_t)i * (size_t)a + (size_t)l)), 0);
            pf_poseidon_hash_correct(c, x, &h);
            uint8_t b[32];
            pf_fr_to_bytes(b, &h);
            assert_memory_equal(b, out1 + 32 * i, 32);
        }
        /* an input >= p is reported by position and nothing past it is trusted */
        memset(in + 32 * (5 * (size_t)a + 1), 0xff, 32);
        assert_int_equal(pf_poseidon_batch_nodes(c, in, COUNT, out1), 5 * a + 1);
        memset(cols[1] + 32 * 7, 0xff, 32);
        assert_int_equal(pf_poseidon_batch_columns(c, (const uint8_t *const *)cols, COUNT, out2),
                         7 * a + 1);
        for (int l = 0; l < a; l++)
            free(cols[l]);
        free(in);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_neptune_vectors),
        cmocka_unit_test(test_round_constants),
        cmocka_unit_test(test_mds_and_tags),
        cmocka_unit_test(test_optimized_equals_correct),
        cmocka_unit_test(test_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
