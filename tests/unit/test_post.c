/* test_post.c — Winning and Window PoSt: challenges against an independent computation
 * (OpenSSL SHA-256; sector selection, leaf challenges for PoSt API 1.0 and 1.2), field
 * checks on randomness and prover_id, vanilla proofs, native PoSt proofs over four sealed
 * 2KiB sectors with exactly one corrupted (tree-r-last file, sealed file gone, sealed bytes
 * changed, p_aux for another sector) reported as faulty while the others are proven, and
 * an 8MiB sector whose discarded tree_r_last rows are rebuilt from the replica. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/sha.h>

#include "seal_fixture.h"

enum { NSECT = 4 };

typedef struct p_state {
    fx_sector s[NSECT];
    fx_sector m8;
    uint8_t randomness[32];
} p_state;

static int setup(void **state)
{
    p_state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    for (int i = 0; i < NSECT; i++)
        if (fx_seal(&s->s[i], 5, i % 2 ? FX_PATTERN : FX_ZERO, 100 + 7 * (uint64_t)i,
                    (uint8_t)(10 + i)))
            return -1;
    if (fx_seal(&s->m8, 6, FX_PATTERN, 900, 3))
        return -1;
    for (int i = 0; i < 32; i++)
        s->randomness[i] = (uint8_t)(0xa5 ^ (i * 29));
    s->randomness[31] &= 0x3f;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    p_state *s = *state;
    for (int i = 0; i < NSECT; i++)
        fx_free(&s->s[i]);
    fx_free(&s->m8);
    free(s);
    return 0;
}

static uint64_t ref_le64_sha(const uint8_t *msg, size_t len)
{
    uint8_t h[32];
    SHA256(msg, len, h);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | h[i];
    return v;
}

static uint64_t ref_leaf(const uint8_t rand[32], uint64_t sector_id, uint64_t idx, uint64_t nodes)
{
    uint8_t msg[48];
    memcpy(msg, rand, 32);
    for (int i = 0; i < 8; i++) {
        msg[32 + i] = (uint8_t)(sector_id >> (8 * i));
        msg[40 + i] = (uint8_t)(idx >> (8 * i));
    }
    return ref_le64_sha(msg, 48) % nodes;
}

static void test_challenges(void **state)
{
    p_state *s = *state;
    const uint8_t *rand = s->randomness;
    uint8_t prover[32] = { 0xe8, 0x07 };
    pf_error err;
    /* Winning PoSt sector selection (fallback vanilla.rs generate_sector_challenge) */
    uint64_t sel;
    for (uint64_t set = 1; set < 5000; set = set * 3 + 1) {
        assert_int_equal(pf_winning_post_sector_challenge(3, rand, set, prover, &sel, &err), PF_OK);
        uint8_t msg[72] = { 0 };
        memcpy(msg, prover, 32);
        memcpy(msg + 32, rand, 32);
        assert_int_equal(sel, ref_le64_sha(msg, 72) % set);
    }
    assert_int_equal(pf_winning_post_sector_challenge(3, rand, 0, prover, &sel, &err), PF_EINVAL);
    assert_int_equal(pf_winning_post_sector_challenge(13, rand, 9, prover, &sel, &err), PF_EINVAL);
    /* leaf challenges: winning uses n; window V1 (api 1.0) sector_index * 10 + n; window
     * V1_1 on chain (rust V1_2, api 1.2) n */
    uint64_t ch[66];
    assert_int_equal(pf_post_sector_challenges(3, rand, 5, 42, ch, &err), PF_OK);
    for (uint64_t n = 0; n < 66; n++)
        assert_int_equal(ch[n], ref_leaf(rand, 42, n, 1ULL << 30));
    assert_int_equal(pf_post_sector_challenges(5, rand, 3, 42, ch, &err), PF_OK);
    for (uint64_t n = 0; n < 10; n++)
        assert_int_equal(ch[n], ref_leaf(rand, 42, 3 * 10 + n, 64));
    assert_int_equal(pf_post_sector_challenges(13, rand, 3, 42, ch, &err), PF_OK);
    for (uint64_t n = 0; n < 10; n++)
        assert_int_equal(ch[n], ref_leaf(rand, 42, n, 1ULL << 30));
    assert_int_equal(pf_post_leaf_challenge(rand, 42, 7, 64), ref_leaf(rand, 42, 7, 64));
    /* randomness and prover_id must be canonical field elements */
    uint8_t bad[32];
    memcpy(bad, rand, 32);
    bad[31] = 0xff;
    assert_int_equal(pf_post_sector_challenges(13, bad, 0, 42, ch, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "0x3f"));
    assert_int_equal(pf_winning_post_sector_challenge(3, rand, 9, bad, &sel, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "prover_id"));
    assert_int_equal(pf_post_sector_challenges(15, rand, 0, 42, ch, &err), PF_EINVAL);
}

static pf_post_replica replica(const fx_sector *x)
{
    pf_post_replica r = { x->sector_id, { 0 }, x->cache, x->sealed };
    memcpy(r.comm_r, x->comm_r, 32);
    return r;
}

static pf_post_public_replica pub(const fx_sector *x)
{
    pf_post_public_replica r = { x->sector_id, { 0 } };
    memcpy(r.comm_r, x->comm_r, 32);
    return r;
}

static void test_vanilla(void **state)
{
    p_state *s = *state;
    const fx_sector *x = &s->s[1];
    pf_post_replica r = replica(x);
    pf_post_public_replica p = pub(x);
    uint64_t ch[10];
    pf_error err;
    assert_int_equal(pf_post_sector_challenges(10, s->randomness, 0, x->sector_id, ch, &err), PF_OK);
    pf_post_vanilla_proof vp;
    assert_int_equal(pf_post_vanilla_prove(10, &r, ch, 10, &vp, &err), PF_OK);
    assert_int_equal(vp.sector.count, 10);
    assert_memory_equal(vp.sector.comm_c, x->comm_c, 32);
    assert_memory_equal(vp.sector.comm_r_last, x->comm_r_last, 32);
    size_t len;
    uint8_t *sealed = fx_read_file(x->sealed, &len);
    for (int i = 0; i < 10; i++) {
        assert_int_equal(pf_merkle_proof_node(&vp.sector.inclusion_proofs[i]), ch[i]);
        assert_memory_equal(vp.sector.inclusion_proofs[i].leaf, sealed + 32 * ch[i], 32);
    }
    free(sealed);
    assert_int_equal(pf_post_vanilla_verify(10, s->randomness, 0, &p, &vp, &err), PF_OK);
    /* position matters only before PoSt API 1.2 */
    assert_int_equal(pf_post_vanilla_verify(10, s->randomness, 1, &p, &vp, &err), PF_OK);
    p.sector_id++;
    assert_int_equal(pf_post_vanilla_verify(10, s->randomness, 0, &p, &vp, &err), PF_EVERIFY);
    p.sector_id--;
    vp.sector.inclusion_proofs[3].hashes[2][0] ^= 1;
    assert_int_equal(pf_post_vanilla_verify(10, s->randomness, 0, &p, &vp, &err), PF_EVERIFY);
    pf_post_vanilla_proof_free(&vp);
    /* a wrong comm_r is a faulty sector */
    r.comm_r[0] ^= 1;
    assert_int_equal(pf_post_vanilla_prove(10, &r, ch, 10, &vp, &err), PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "comm_r"));
}

static void run_window(p_state *s, int post_id, int corrupt, const char *what)
{
    pf_post_replica r[NSECT];
    pf_post_public_replica p[NSECT];
    /* given in descending order: the library sorts by sector id */
    for (int i = 0; i < NSECT; i++) {
        r[i] = replica(&s->s[NSECT - 1 - i]);
        p[i] = pub(&s->s[NSECT - 1 - i]);
    }
    pf_post_result res;
    pf_error err;
    assert_int_equal(pf_generate_window_post(post_id, s->randomness, s->s[0].prover_id, r, NSECT,
                                             &res, &err), PF_OK);
    if (corrupt < 0) {
        assert_int_equal(res.nfaulty, 0);
        assert_int_equal(res.nproven, NSECT);
    } else {
        if (res.nfaulty != 1 || res.faulty[0] != s->s[corrupt].sector_id)
            fail_msg("%s: %zu faulty sectors, expected exactly sector %llu", what, res.nfaulty,
                     (unsigned long long)s->s[corrupt].sector_id);
        assert_int_equal(res.nproven, NSECT - 1);
        for (size_t i = 0; i < res.nproven; i++)
            assert_int_not_equal(res.proven[i].sector_id, s->s[corrupt].sector_id);
    }
    for (size_t i = 1; i < res.nproven; i++)
        assert_true(res.proven[i - 1].sector_id < res.proven[i].sector_id);
    /* verifies for the proven sectors, in any order */
    pf_post_public_replica q[NSECT];
    for (size_t i = 0; i < res.nproven; i++)
        q[i] = res.proven[res.nproven - 1 - i];
    if (pf_verify_window_post(post_id, s->randomness, s->s[0].prover_id, q, res.nproven,
                              res.proof, res.proof_len, &err))
        fail_msg("%s: verify: %s", what, err.msg);
    /* not for another set, randomness or comm_r */
    if (corrupt >= 0)
        assert_int_equal(pf_verify_window_post(post_id, s->randomness, s->s[0].prover_id, p,
                                               NSECT, res.proof, res.proof_len, &err), PF_EVERIFY);
    uint8_t r2[32];
    memcpy(r2, s->randomness, 32);
    r2[3] ^= 1;
    assert_int_equal(pf_verify_window_post(post_id, r2, s->s[0].prover_id, q, res.nproven,
                                           res.proof, res.proof_len, &err), PF_EVERIFY);
    q[0].comm_r[1] ^= 1;
    assert_int_equal(pf_verify_window_post(post_id, s->randomness, s->s[0].prover_id, q,
                                           res.nproven, res.proof, res.proof_len, &err),
                     PF_EVERIFY);
    q[0].comm_r[1] ^= 1;
    /* bytes all over the proof */
    for (size_t i = 0; i < res.proof_len; i += corrupt < 0 ? 11 : 97) {
        res.proof[i] ^= (uint8_t)(1u << (i % 8));
        assert_int_not_equal(pf_verify_window_post(post_id, s->randomness, s->s[0].prover_id, q,
                                                   res.nproven, res.proof, res.proof_len, &err),
                             PF_OK);
        res.proof[i] ^= (uint8_t)(1u << (i % 8));
    }
    pf_post_result_free(&res);
}

static void copy_file(const char *from, const char *to)
{
    size_t len;
    uint8_t *b = fx_read_file(from, &len);
    assert_non_null(b);
    FILE *f = fopen(to, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
    free(b);
}

static void flip_byte(const char *path, long off)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, off, SEEK_SET);
    fputc(c ^ 0x01, f);
    fclose(f);
}

static void test_window_faulty(void **state)
{
    p_state *s = *state;
    char backup[1400], path[700];
    for (int post_id = 10; post_id >= 5; post_id -= 5) {   /* API 1.2, then 1.0 */
        run_window(s, post_id, -1, "all good");

        /* 1: tree-r-last file corrupt (for 2KiB it holds the root) */
        fx_sector *x = &s->s[1];
        snprintf(path, sizeof path, "%s/sc-02-data-tree-r-last.dat", x->cache);
        snprintf(backup, sizeof backup, "%s.bak", path);
        copy_file(path, backup);
        flip_byte(path, 5);
        run_window(s, post_id, 1, "tree-r-last corrupt");
        rename(backup, path);

        /* 2: sealed file gone */
        x = &s->s[2];
        snprintf(backup, sizeof backup, "%s.bak", x->sealed);
        rename(x->sealed, backup);
        run_window(s, post_id, 2, "sealed file missing");
        rename(backup, x->sealed);

        /* 3: sealed bytes changed (2KiB: every leaf is rebuilt for any challenge) */
        x = &s->s[3];
        copy_file(x->sealed, backup);
        flip_byte(x->sealed, 33 * 32 + 4);
        run_window(s, post_id, 3, "sealed bytes changed");
        rename(backup, x->sealed);

        /* 0: p_aux of another sector */
        x = &s->s[0];
        snprintf(path, sizeof path, "%s/p_aux", x->cache);
        snprintf(backup, sizeof backup, "%s/p_aux.bak", x->cache);
        copy_file(path, backup);
        snprintf(path, sizeof path, "%s/p_aux", s->s[1].cache);
        char dst[700];
        snprintf(dst, sizeof dst, "%s/p_aux", x->cache);
        copy_file(path, dst);
        run_window(s, post_id, 0, "p_aux of another sector");
        rename(backup, dst);
    }
    /* all faulty: no proof, every sector listed */
    pf_post_replica r[NSECT];
    for (int i = 0; i < NSECT; i++) {
        r[i] = replica(&s->s[i]);
        r[i].comm_r[0] ^= 1;
    }
    pf_post_result res;
    pf_error err;
    assert_int_equal(pf_generate_window_post(10, s->randomness, s->s[0].prover_id, r, NSECT, &res,
                                             &err), PF_EVERIFY);
    assert_int_equal(res.nfaulty, NSECT);
    assert_int_equal(res.nproven, 0);
    assert_null(res.proof);
    pf_post_result_free(&res);
    /* duplicates and bad inputs */
    r[1] = r[0];
    assert_int_equal(pf_generate_window_post(10, s->randomness, s->s[0].prover_id, r, 2, &res,
                                             &err), PF_EINVAL);
    assert_int_equal(pf_generate_window_post(0, s->randomness, s->s[0].prover_id, r, 1, &res,
                                             &err), PF_EINVAL);
}

/* Removing a sector changes the others' challenges with PoSt API 1.0 (positions), so a
 * proof of the remaining sectors must be made for their new positions. */
static void test_window_positions(void **state)
{
    p_state *s = *state;
    pf_post_replica r[2] = { replica(&s->s[0]), replica(&s->s[2]) };
    pf_post_public_replica p[2] = { pub(&s->s[0]), pub(&s->s[2]) };
    pf_post_result res;
    pf_error err;
    assert_int_equal(pf_generate_window_post(5, s->randomness, s->s[0].prover_id, r + 1, 1, &res,
                                             &err), PF_OK);
    /* alone, sector 2 is at position 0 */
    assert_int_equal(pf_verify_window_post(5, s->randomness, s->s[0].prover_id, p + 1, 1,
                                           res.proof, res.proof_len, &err), PF_OK);
    pf_post_result_free(&res);
    assert_int_equal(pf_generate_window_post(5, s->randomness, s->s[0].prover_id, r, 2, &res,
                                             &err), PF_OK);
    assert_int_equal(pf_verify_window_post(5, s->randomness, s->s[0].prover_id, p, 2, res.proof,
                                           res.proof_len, &err), PF_OK);
    pf_post_result_free(&res);
}

static void test_winning(void **state)
{
    p_state *s = *state;
    for (int t = 0; t < 2; t++) {
        const fx_sector *x = t ? &s->m8 : &s->s[3];
        int id = t ? 1 : 0;
        pf_post_replica r = replica(x);
        pf_post_public_replica p = pub(x);
        pf_post_result res;
        pf_error err;
        assert_int_equal(pf_generate_winning_post(id, s->randomness, x->prover_id, &r, 1, &res,
                                                  &err), PF_OK);
        assert_int_equal(res.nproven, 1);
        assert_int_equal(pf_verify_winning_post(id, s->randomness, x->prover_id, &p, 1, res.proof,
                                                res.proof_len, &err), PF_OK);
        /* a window proof id is refused for winning and the other way round */
        assert_int_equal(pf_verify_window_post(id + 10, s->randomness, x->prover_id, &p, 1,
                                               res.proof, res.proof_len, &err), PF_EVERIFY);
        res.proof[res.proof_len / 2] ^= 2;
        assert_int_equal(pf_verify_winning_post(id, s->randomness, x->prover_id, &p, 1, res.proof,
                                                res.proof_len, &err), PF_EVERIFY);
        pf_post_result_free(&res);
        pf_post_replica two[2] = { r, replica(&s->s[0]) };
        assert_int_equal(pf_generate_winning_post(id, s->randomness, x->prover_id, two, 2, &res,
                                                  &err), PF_EINVAL);
    }
}

/* 8MiB: tree_r_last keeps rows 3.. on disk; challenged leaves are rebuilt from 512-node
 * ranges of the replica, so changed replica bytes under a challenge make the sector
 * faulty, and changes elsewhere do not. */
static void test_8m_rebuild(void **state)
{
    p_state *s = *state;
    fx_sector *x = &s->m8;
    pf_post_replica r = replica(x);
    uint64_t ch[10];
    pf_error err;
    assert_int_equal(pf_post_sector_challenges(11, s->randomness, 0, x->sector_id, ch, &err), PF_OK);
    pf_post_result res;
    assert_int_equal(pf_generate_window_post(11, s->randomness, x->prover_id, &r, 1, &res, &err),
                     PF_OK);
    pf_post_public_replica p = pub(x);
    assert_int_equal(pf_verify_window_post(11, s->randomness, x->prover_id, &p, 1, res.proof,
                                           res.proof_len, &err), PF_OK);
    pf_post_result_free(&res);
    /* a node in the 512-node range of challenge 0 but not challenged itself */
    uint64_t victim = (ch[0] & ~511ULL) + ((ch[0] + 200) & 511);
    int challenged = 0;
    for (int i = 0; i < 10; i++)
        challenged |= ch[i] == victim;
    assert_false(challenged);
    flip_byte(x->sealed, (long)(victim * 32 + 3));
    assert_int_equal(pf_generate_window_post(11, s->randomness, x->prover_id, &r, 1, &res, &err),
                     PF_EVERIFY);
    assert_int_equal(res.nfaulty, 1);
    assert_non_null(strstr(res.faulty_errors[0].msg, "does not match"));
    pf_post_result_free(&res);
    flip_byte(x->sealed, (long)(victim * 32 + 3));
    assert_int_equal(pf_generate_window_post(11, s->randomness, x->prover_id, &r, 1, &res, &err),
                     PF_OK);
    pf_post_result_free(&res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_challenges),
        cmocka_unit_test(test_vanilla),
        cmocka_unit_test(test_window_faulty),
        cmocka_unit_test(test_window_positions),
        cmocka_unit_test(test_winning),
        cmocka_unit_test(test_8m_rebuild),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
