/* test_manager_commits.c — the chain-facing lifecycle of a sector on the local chain with
 * a real 2KiB seal (PC1, PC2, C1 and the native C2 of proofs-ffi): ticket, precommit
 * checks (ticket randomness and age, CommD), landing, seed timing, the prove-commit
 * verified by pf_verify_seal (a valid proof lands and the sector becomes Proving, an
 * altered one is rejected with the verifier's reason), idempotent resubmission, late
 * proofs, expired tickets, and aborted sectors. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sealproofs.h"
#include "sm_commits.h"
#include "sm_conf.h"
#include "sm_db.h"
#include "sm_deals.h"
#include "sm_sectors.h"
#include "sp_fs.h"

#define PROOF_2K 5 /* StackedDrg2KiBV1_1 */

typedef struct fixture {
    char dir[64];
    sm_db *db;
    sm_conf *conf;
    sm_chain chain;
} fixture;

static const char CONF[] = "miners = ( { actor = 1000; sizes = [ \"2KiB\" ]; } );\n";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sm-commit-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/m.db", f->dir);
    sp_err err;
    sm_db_opts o = { .path = path, .create = true };
    if (sm_db_open(&o, &f->db, &err) || sm_conf_load_string(CONF, "m.cfg", &f->conf, NULL, &err))
        return -1;
    sm_chain_params p;
    sm_chain_params_default(&p);
    p.block_ms = 1000;
    p.ticket_lookback = 10;
    p.max_ticket_age = 100;
    p.precommit_landing = 2;
    p.challenge_delay = 5;
    p.seed_confidence = 2;
    p.proof_landing = 1;
    p.max_prove_duration = 50;
    if (sm_chain_load(f->db, &p, 1000000, &f->chain, &err))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sm_db_close(f->db);
    sm_conf_unref(f->conf);
    sp_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

static uint64_t allocate(fixture *f)
{
    uint64_t m, n;
    int proof;
    bool found;
    sm_alloc_spec any = { 0 };
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &any, 0, &m, &n, &proof, &found, NULL), SP_OK);
    assert_true(found);
    return n;
}

typedef struct sealed {
    uint8_t ticket[32], comm_d[32], comm_r[32];
    int64_t ticket_epoch;
    char cache[128], sealed_path[128];
} sealed;

/* A real 2KiB CC seal of sector `number` with the ticket the manager assigns at head. */
static void seal(fixture *f, uint64_t number, int64_t head, sealed *s)
{
    sp_err err;
    pf_error pe = { 0 };
    assert_int_equal(sm_commits_ticket(f->db, &f->chain, head, 1000, number, s->ticket,
                                       &s->ticket_epoch, &err), SP_OK);
    assert_int_equal(s->ticket_epoch, head - 10);
    char staged[128], parents[128];
    snprintf(staged, sizeof staged, "%s/staged-%llu", f->dir, (unsigned long long)number);
    snprintf(s->cache, sizeof s->cache, "%s/cache-%llu", f->dir, (unsigned long long)number);
    snprintf(s->sealed_path, sizeof s->sealed_path, "%s/sealed-%llu", f->dir, (unsigned long long)number);
    snprintf(parents, sizeof parents, "%s/parents", f->dir);
    int fd = open(staged, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sp_mkdir_p(s->cache, 0755, &err), SP_OK);
    assert_int_equal(pf_tree_d_build(PROOF_2K, staged, s->cache, s->comm_d, &pe), PF_OK);
    uint8_t prover[32];
    pf_prover_id_from_actor(1000, prover);
    pf_pc1_output pc1;
    pf_status st = pf_pc1(PROOF_2K, s->cache, number, prover, s->ticket, s->comm_d, parents, NULL, &pc1, &pe);
    if (st != PF_OK)
        fail_msg("pc1: %s", pe.msg);
    pf_pc2_output pc2;
    st = pf_pc2(&pc1, s->cache, staged, s->sealed_path, NULL, &pc2, &pe);
    if (st != PF_OK)
        fail_msg("pc2: %s", pe.msg);
    memcpy(s->comm_r, pc2.comm_r, 32);
}

static void proof_for(fixture *f, uint64_t number, const sealed *s, const uint8_t seed[32],
                      uint8_t **proof, size_t *len)
{
    (void)f;
    uint8_t prover[32];
    pf_prover_id_from_actor(1000, prover);
    pf_c1_output c1;
    pf_error pe = { 0 };
    pf_status st = pf_c1(PROOF_2K, s->cache, s->sealed_path, number, prover, s->ticket, seed, s->comm_d,
                         s->comm_r, NULL, 0, &c1, &pe);
    if (st != PF_OK)
        fail_msg("c1: %s", pe.msg);
    st = pf_c2_from_output(&c1, proof, len, &pe);
    pf_c1_output_free(&c1);
    if (st != PF_OK)
        fail_msg("c2: %s", pe.msg);
}

static sm_precommit precommit_of(const sealed *s)
{
    sm_precommit pc = { .proof_type = PROOF_2K, .ticket_epoch = s->ticket_epoch };
    memcpy(pc.comm_r, s->comm_r, 32);
    memcpy(pc.comm_d, s->comm_d, 32);
    memcpy(pc.ticket, s->ticket, 32);
    return pc;
}

static void test_full_lifecycle(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_answer a;
    uint64_t n = allocate(f);
    sealed s;
    int64_t head = 100;
    seal(f, n, head, &s);

    /* no precommit yet: polls say NotFound, WaitSeed is an error */
    assert_int_equal(sm_commits_poll_precommit(f->db, &f->chain, head, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_NOT_FOUND);
    sm_seed_answer seed;
    assert_int_equal(sm_commits_wait_seed(f->db, &f->chain, head, 1000, n, PROOF_2K, &seed, &err), SP_ESTATE);

    sm_precommit pc = precommit_of(&s);
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, head, 1000, n, &pc, false, &a, &err), SP_OK);
    if (a.code != SM_SUBMIT_ACCEPTED)
        fail_msg("precommit answered %d: %s", a.code, a.desc);
    /* the same again: Duplicate; different without reset: Mismatched */
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, head, 1000, n, &pc, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_DUPLICATE);
    sm_precommit other = pc;
    other.comm_r[0] ^= 1;
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, head, 1000, n, &other, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_MISMATCHED);

    /* lands at submit + 2 */
    assert_int_equal(sm_commits_poll_precommit(f->db, &f->chain, head + 1, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_PENDING);
    /* the seed is not there before landing + delay + confidence = 102 + 5 + 2 */
    assert_int_equal(sm_commits_wait_seed(f->db, &f->chain, head + 1, 1000, n, PROOF_2K, &seed, &err), SP_OK);
    assert_true(seed.should_wait);
    assert_int_equal(seed.delay_s, 8); /* 8 epochs of 1 s */
    assert_int_equal(sm_commits_poll_precommit(f->db, &f->chain, head + 2, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_LANDED);
    /* a landed precommit cannot be replaced even with reset */
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, head + 2, 1000, n, &other, true, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    /* AssignTicket after the precommit gives the precommit's ticket */
    uint8_t t2[32];
    int64_t e2;
    assert_int_equal(sm_commits_ticket(f->db, &f->chain, head + 50, 1000, n, t2, &e2, &err), SP_OK);
    assert_memory_equal(t2, s.ticket, 32);
    assert_int_equal(e2, s.ticket_epoch);

    assert_int_equal(sm_commits_wait_seed(f->db, &f->chain, 108, 1000, n, PROOF_2K, &seed, &err), SP_OK);
    assert_true(seed.should_wait);
    assert_int_equal(seed.delay_s, 1);
    assert_int_equal(sm_commits_wait_seed(f->db, &f->chain, 109, 1000, n, PROOF_2K, &seed, &err), SP_OK);
    assert_false(seed.should_wait);
    assert_int_equal(seed.epoch, 107);
    uint8_t want[32];
    sm_chain_randomness(&f->chain, SM_DST_INTERACTIVE_SEAL_CHALLENGE_SEED, 107, 1000, want);
    assert_memory_equal(seed.seed, want, 32);
    /* wrong proof type */
    assert_int_equal(sm_commits_wait_seed(f->db, &f->chain, 109, 1000, n, 6, &seed, &err), SP_EINVAL);

    uint8_t *proof = NULL;
    size_t len = 0;
    proof_for(f, n, &s, want, &proof, &len);
    assert_true(len > 192);

    /* an altered proof is rejected with the verifier's reason, and nothing is stored */
    proof[len / 2] ^= 0x01;
    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 109, 1000, n, proof, len, false, sm_verify_seal,
                                             NULL, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    assert_non_null(strstr(a.desc, "invalid proof"));
    assert_int_equal(sm_commits_poll_proof(f->db, &f->chain, 110, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_NOT_FOUND);
    proof[len / 2] ^= 0x01;

    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 109, 1000, n, proof, len, false, sm_verify_seal,
                                             NULL, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_ACCEPTED);
    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 109, 1000, n, proof, len, false, sm_verify_seal,
                                             NULL, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_DUPLICATE);
    assert_int_equal(sm_commits_poll_proof(f->db, &f->chain, 109, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_PENDING);
    /* the ticker lands it; the sector is Proving and stays so whatever the worker reports */
    int settled = 0;
    assert_int_equal(sm_commits_settle(f->db, &f->chain, 110, &settled, &err), SP_OK);
    assert_int_equal(settled, 1);
    assert_int_equal(sm_commits_poll_proof(f->db, &f->chain, 110, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_LANDED);
    sm_sector sec;
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &sec, &err), SP_OK);
    assert_string_equal(sec.state, "Proving");
    assert_int_equal(sec.proof_epoch, 110);
    sm_report r = { .instance = "w", .location = "/l", .prev = "ProofSubmitted", .next = "Finished", .event = "Finish" };
    bool fin, ab;
    char reason[64];
    assert_int_equal(sm_sectors_report(f->db, 1000, n, &r, &fin, reason, sizeof reason, &ab, &err), SP_OK);
    assert_false(fin);
    assert_int_equal(sm_sectors_finalized(f->db, 1000, n, &err), SP_OK);
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &sec, &err), SP_OK);
    assert_string_equal(sec.state, "Proving");
    assert_true(sec.finalized);
    /* a proving sector is not aborted */
    assert_int_equal(sm_sectors_abort(f->db, 1000, n, "no", &err), SP_ESTATE);
    uint8_t *stored = NULL;
    size_t stored_len = 0;
    assert_int_equal(sm_commits_proof(f->db, 1000, n, &stored, &stored_len, &err), SP_OK);
    assert_int_equal(stored_len, len);
    assert_memory_equal(stored, proof, len);
    free(stored);
    free(proof);
}

static void test_precommit_checks(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_answer a;
    uint64_t n = allocate(f);
    uint8_t ticket[32];
    int64_t te;
    assert_int_equal(sm_commits_ticket(f->db, &f->chain, 200, 1000, n, ticket, &te, &err), SP_OK);
    sm_precommit pc = { .proof_type = PROOF_2K, .ticket_epoch = te };
    memcpy(pc.ticket, ticket, 32);
    pc.comm_r[0] = 7;
    assert_int_equal(pf_zero_comm(2048, pc.comm_d, NULL), PF_OK);
    /* a ticket that is not the chain's randomness */
    sm_precommit bad = pc;
    bad.ticket[3] ^= 1;
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 200, 1000, n, &bad, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    assert_non_null(strstr(a.desc, "randomness"));
    /* expired: more than max_ticket_age (100) before the head */
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 191 + 100, 1000, n, &pc, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    assert_non_null(strstr(a.desc, "expired"));
    /* a CommD that is not the pieces' (CC: the zero commitment) */
    bad = pc;
    bad.comm_d[0] ^= 1;
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 200, 1000, n, &bad, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_MISMATCHED);
    assert_non_null(strstr(a.desc, "CommD"));
    /* CommR not a field element, proof type mismatch */
    bad = pc;
    bad.comm_r[31] = 0xff;
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 200, 1000, n, &bad, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    bad = pc;
    bad.proof_type = 6;
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 200, 1000, n, &bad, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    /* accepted at epoch 200, but it lands (202) with a ticket of epoch 190: fine; a ticket
     * taken at 200 and landing after 290 + 2 is too old on chain -> ShouldAbort */
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 289, 1000, n, &pc, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_ACCEPTED);
    assert_int_equal(sm_commits_poll_precommit(f->db, &f->chain, 291, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_SHOULD_ABORT);
    assert_non_null(strstr(a.desc, "ticket"));
    /* reset replaces a precommit that has not landed */
    uint64_t m = allocate(f);
    assert_int_equal(sm_commits_ticket(f->db, &f->chain, 300, 1000, m, ticket, &te, &err), SP_OK);
    pc.ticket_epoch = te;
    memcpy(pc.ticket, ticket, 32);
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 300, 1000, m, &pc, false, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_ACCEPTED);
    sm_precommit again = pc;
    again.comm_r[1] = 9;
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 301, 1000, m, &again, true, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_ACCEPTED);
    sm_sector sec;
    assert_int_equal(sm_sectors_load(f->db, 1000, m, &sec, &err), SP_OK);
    assert_int_equal(sec.pc_comm_r[1], 9);
    assert_int_equal(sec.pc_submit_epoch, 301);
    /* the ticker lands what is due, once */
    int settled = 0;
    assert_int_equal(sm_commits_settle(f->db, &f->chain, 303, &settled, &err), SP_OK);
    assert_int_equal(settled, 1);
    assert_int_equal(sm_commits_settle(f->db, &f->chain, 303, &settled, &err), SP_OK);
    assert_int_equal(settled, 0);
    assert_int_equal(sm_sectors_load(f->db, 1000, m, &sec, &err), SP_OK);
    assert_int_equal(sec.pc_state, SM_ONCHAIN_LANDED);
    assert_int_equal(sec.pc_epoch, 303);
}

static sp_code accept_all(void *ctx, const sm_seal_verify *v, bool *ok, char *why, size_t len, sp_err *err)
{
    (void)v;
    (void)why;
    (void)len;
    (void)err;
    (*(int *)ctx)++;
    *ok = true;
    return SP_OK;
}

/* Timing rules of the prove-commit, with a verifier that counts its calls. */
static void test_proof_timing_and_abort(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_answer a;
    int calls = 0;
    uint64_t n = allocate(f);
    uint8_t ticket[32];
    int64_t te;
    assert_int_equal(sm_commits_ticket(f->db, &f->chain, 100, 1000, n, ticket, &te, &err), SP_OK);
    sm_precommit pc = { .proof_type = PROOF_2K, .ticket_epoch = te };
    memcpy(pc.ticket, ticket, 32);
    pc.comm_r[0] = 1;
    pf_zero_comm(2048, pc.comm_d, NULL);
    uint8_t proof[8] = { 1, 2, 3 };
    /* no precommit: rejected without verifying */
    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 100, 1000, n, proof, 8, false, accept_all, &calls,
                                             &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 100, 1000, n, &pc, false, &a, &err), SP_OK);
    /* landed at 102; the seed epoch is 107: a proof at 107 is too early */
    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 107, 1000, n, proof, 8, false, accept_all, &calls,
                                             &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    assert_non_null(strstr(a.desc, "too early"));
    /* after precommit epoch + max_prove_duration (152): too late */
    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 153, 1000, n, proof, 8, false, accept_all, &calls,
                                             &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    assert_non_null(strstr(a.desc, "too late"));
    assert_int_equal(calls, 0);
    /* submitted at 152, it would land at 153 > 152: ShouldAbort */
    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 152, 1000, n, proof, 8, false, accept_all, &calls,
                                             &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_ACCEPTED);
    assert_int_equal(calls, 1);
    assert_int_equal(sm_commits_poll_proof(f->db, &f->chain, 153, 1000, n, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_SHOULD_ABORT);

    /* an admin abort answers ShouldAbort to polls and Rejected to submissions */
    uint64_t m = allocate(f);
    assert_int_equal(sm_commits_ticket(f->db, &f->chain, 100, 1000, m, ticket, &te, &err), SP_OK);
    memcpy(pc.ticket, ticket, 32);
    assert_int_equal(sm_commits_submit_precommit(f->db, &f->chain, 100, 1000, m, &pc, false, &a, &err), SP_OK);
    assert_int_equal(sm_sectors_abort(f->db, 1000, m, "operator said so", &err), SP_OK);
    assert_int_equal(sm_commits_poll_precommit(f->db, &f->chain, 105, 1000, m, &a, &err), SP_OK);
    assert_int_equal(a.code, SM_ONCHAIN_SHOULD_ABORT);
    assert_non_null(strstr(a.desc, "operator said so"));
    assert_int_equal(sm_commits_submit_proof(f->db, &f->chain, 110, 1000, m, proof, 8, false, accept_all, &calls,
                                             &a, &err), SP_OK);
    assert_int_equal(a.code, SM_SUBMIT_REJECTED);
    assert_int_equal(sm_commits_ticket(f->db, &f->chain, 110, 1000, m, ticket, &te, &err), SP_ESTATE);
    assert_int_equal(calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precommit_checks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proof_timing_and_abort, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
