/* test_verify.c — the native C2 commit proof and pf_verify_seal: seal, C1, C2 and verify
 * for 2KiB and 8MiB sectors (zeros and a pattern; one sealed sector of each shared by the
 * cases), synthetic and NI 2KiB sectors, every wrong public input rejected, and the tamper
 * test: changing any single byte of a 2KiB commit proof (a different bit at each position)
 * makes verification fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "seal_fixture.h"

typedef struct v_state {
    fx_sector k2_zero, k2_pattern, m8_zero, m8_pattern;
} v_state;

static int setup(void **state)
{
    v_state *s = calloc(1, sizeof *s);
    if (!s || fx_seal(&s->k2_zero, 5, FX_ZERO, 1, 1) || fx_seal(&s->k2_pattern, 5, FX_PATTERN, 2, 2) ||
        fx_seal(&s->m8_zero, 6, FX_ZERO, 3, 3) || fx_seal(&s->m8_pattern, 6, FX_PATTERN, 4, 4))
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    v_state *s = *state;
    fx_free(&s->k2_zero);
    fx_free(&s->k2_pattern);
    fx_free(&s->m8_zero);
    fx_free(&s->m8_pattern);
    free(s);
    return 0;
}

/* C1 -> encoded C1 output -> C2 from the bytes, as the worker does across processes. */
static uint8_t *commit(const fx_sector *x, size_t *len)
{
    pf_c1_output o;
    pf_error err;
    uint8_t *c1, *proof;
    size_t c1_len;
    if (pf_c1(x->proof_id, x->cache, x->sealed, x->sector_id, x->prover_id, x->ticket, x->seed,
              x->comm_d, x->comm_r, NULL, 0, &o, &err))
        fail_msg("C1: %s", err.msg);
    assert_int_equal(pf_c1_output_encode(&o, &c1, &c1_len, &err), PF_OK);
    pf_c1_output_free(&o);
    if (pf_c2(c1, c1_len, x->sector_id, x->prover_id, &proof, len, &err))
        fail_msg("C2: %s", err.msg);
    free(c1);
    return proof;
}

static pf_status verify(const fx_sector *x, const uint8_t *proof, size_t len, pf_error *err)
{
    return pf_verify_seal(x->proof_id, x->comm_r, x->comm_d, x->prover_id, x->ticket, x->seed,
                          x->sector_id, proof, len, err);
}

/* Every public input changed alone makes the proof fail. */
static void check_wrong_inputs(const fx_sector *x, const uint8_t *proof, size_t len)
{
    pf_error err;
    uint8_t v[32];
    assert_int_equal(verify(x, proof, len, &err), PF_OK);
    memcpy(v, x->seed, 32);
    v[0] ^= 1;
    assert_int_equal(pf_verify_seal(x->proof_id, x->comm_r, x->comm_d, x->prover_id, x->ticket, v,
                                    x->sector_id, proof, len, &err), PF_EVERIFY);
    memcpy(v, x->ticket, 32);
    v[31] ^= 0x80;
    assert_int_equal(pf_verify_seal(x->proof_id, x->comm_r, x->comm_d, x->prover_id, v, x->seed,
                                    x->sector_id, proof, len, &err), PF_EVERIFY);
    assert_int_equal(pf_verify_seal(x->proof_id, x->comm_r, x->comm_d, x->prover_id, x->ticket,
                                    x->seed, x->sector_id + 1, proof, len, &err), PF_EVERIFY);
    memcpy(v, x->prover_id, 32);
    v[2] ^= 4;
    assert_int_equal(pf_verify_seal(x->proof_id, x->comm_r, x->comm_d, v, x->ticket, x->seed,
                                    x->sector_id, proof, len, &err), PF_EVERIFY);
    memcpy(v, x->comm_d, 32);
    v[0] ^= 1;
    assert_int_equal(pf_verify_seal(x->proof_id, x->comm_r, v, x->prover_id, x->ticket, x->seed,
                                    x->sector_id, proof, len, &err), PF_EVERIFY);
    memcpy(v, x->comm_r, 32);
    v[0] ^= 1;
    assert_int_equal(pf_verify_seal(x->proof_id, v, x->comm_d, x->prover_id, x->ticket, x->seed,
                                    x->sector_id, proof, len, &err), PF_EVERIFY);
    assert_non_null(strstr(err.msg, "comm_r"));
    /* another proof id of the same size */
    int other = x->proof_id % 5;   /* the V1 proof of the same size: another graph */
    assert_int_not_equal(pf_verify_seal(other, x->comm_r, x->comm_d, x->prover_id, x->ticket,
                                        x->seed, x->sector_id, proof, len, &err), PF_OK);
    /* not canonical / zero commitments are argument errors */
    memset(v, 0xff, 32);
    assert_int_equal(pf_verify_seal(x->proof_id, x->comm_r, v, x->prover_id, x->ticket, x->seed,
                                    x->sector_id, proof, len, &err), PF_EINVAL);
    memset(v, 0, 32);
    assert_int_equal(pf_verify_seal(x->proof_id, v, x->comm_d, x->prover_id, x->ticket, x->seed,
                                    x->sector_id, proof, len, &err), PF_EINVAL);
    /* truncated, extended, empty */
    assert_int_equal(verify(x, proof, len - 1, &err), PF_EVERIFY);
    uint8_t *big = calloc(1, len + 32);
    memcpy(big, proof, len);
    assert_int_equal(verify(x, big, len + 32, &err), PF_EVERIFY);
    assert_int_equal(verify(x, proof, 0, &err), PF_EVERIFY);
    assert_int_equal(verify(x, NULL, 0, &err), PF_EVERIFY);
    free(big);
}

static void test_2k(void **state)
{
    v_state *s = *state;
    const fx_sector *xs[2] = { &s->k2_zero, &s->k2_pattern };
    uint8_t *proofs[2];
    size_t lens[2];
    for (int t = 0; t < 2; t++) {
        proofs[t] = commit(xs[t], &lens[t]);
        assert_int_equal(lens[t], 84 + 2 * pf_challenge_record_size(5));
        check_wrong_inputs(xs[t], proofs[t], lens[t]);
    }
    /* one sector's proof is not the other's */
    pf_error err;
    assert_int_equal(verify(xs[0], proofs[1], lens[1], &err), PF_EVERIFY);
    assert_int_equal(verify(xs[1], proofs[0], lens[0], &err), PF_EVERIFY);
    /* C2 checks the sector and prover it is asked for */
    pf_c1_output o;
    uint8_t *c1, *p;
    size_t c1_len, n;
    const fx_sector *x = xs[1];
    assert_int_equal(pf_c1(5, x->cache, x->sealed, x->sector_id, x->prover_id, x->ticket, x->seed,
                           x->comm_d, x->comm_r, NULL, 0, &o, &err), PF_OK);
    assert_int_equal(pf_c1_output_encode(&o, &c1, &c1_len, &err), PF_OK);
    assert_int_equal(pf_c2(c1, c1_len, x->sector_id + 1, x->prover_id, &p, &n, &err), PF_EINVAL);
    assert_int_equal(pf_c2(c1, c1_len, x->sector_id, xs[0]->ticket, &p, &n, &err), PF_EINVAL);
    /* a C1 output with a tampered proof is refused by C2 */
    c1[c1_len - 100] ^= 1;
    assert_int_equal(pf_c2(c1, c1_len, x->sector_id, x->prover_id, &p, &n, &err), PF_EVERIFY);
    free(c1);
    pf_c1_output_free(&o);
    free(proofs[0]);
    free(proofs[1]);
}

static void test_tamper_every_byte(void **state)
{
    v_state *s = *state;
    const fx_sector *x = &s->k2_pattern;
    size_t len;
    uint8_t *proof = commit(x, &len);
    pf_error err;
    size_t accepted = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t bit = (uint8_t)(1u << (i % 8));
        proof[i] ^= bit;
        pf_status st = verify(x, proof, len, &err);
        if (st == PF_OK) {
            print_error("byte %zu bit %u changed: still verifies\n", i, (unsigned)(i % 8));
            accepted++;
        } else if (st != PF_EVERIFY) {
            print_error("byte %zu: status %d (%s)\n", i, st, err.msg);
            accepted++;
        }
        proof[i] ^= bit;
    }
    assert_int_equal(accepted, 0);
    assert_int_equal(verify(x, proof, len, &err), PF_OK);
    free(proof);
}

static void test_8m(void **state)
{
    v_state *s = *state;
    const fx_sector *xs[2] = { &s->m8_zero, &s->m8_pattern };
    for (int t = 0; t < 2; t++) {
        size_t len;
        uint8_t *proof = commit(xs[t], &len);
        assert_int_equal(len, 84 + 2 * pf_challenge_record_size(6));
        check_wrong_inputs(xs[t], proof, len);
        /* a few single-byte changes spread over the proof */
        pf_error err;
        for (size_t i = 0; i < len; i += len / 97 + 1) {
            proof[i] ^= 0x10;
            assert_int_equal(verify(xs[t], proof, len, &err), PF_EVERIFY);
            proof[i] ^= 0x10;
        }
        free(proof);
    }
}

/* Synthetic (id 10, proofs from the synthetic file) and NI (id 15, 13 partitions). */
static void test_synthetic_and_ni(void **state)
{
    (void)state;
    fx_sector syn, ni;
    assert_int_equal(fx_seal(&syn, 10, FX_PATTERN, 11, 7), 0);
    assert_int_equal(fx_seal(&ni, 15, FX_PATTERN, 12, 8), 0);
    pf_error err;
    assert_int_equal(pf_synth_proofs_generate(10, syn.cache, syn.sealed, syn.sector_id,
                                              syn.prover_id, syn.ticket, syn.comm_d, syn.comm_r,
                                              &err), PF_OK);
    size_t len;
    uint8_t *proof = commit(&syn, &len);
    check_wrong_inputs(&syn, proof, len);
    free(proof);
    proof = commit(&ni, &len);
    assert_int_equal(len, 84 + 26 * pf_challenge_record_size(15));
    assert_int_equal(verify(&ni, proof, len, &err), PF_OK);
    /* NI challenges come from comm_r; the seed is not an input */
    ni.seed[0] ^= 1;
    assert_int_equal(verify(&ni, proof, len, &err), PF_OK);
    ni.sector_id++;
    assert_int_equal(verify(&ni, proof, len, &err), PF_EVERIFY);
    free(proof);
    fx_free(&syn);
    fx_free(&ni);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2k),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_8m),
        cmocka_unit_test(test_synthetic_and_ni),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
