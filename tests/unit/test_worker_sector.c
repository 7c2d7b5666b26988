/* test_worker_sector.c — the sealing state machine (every row of the sealer and unseal
 * tables, refused transitions, abort, names as damocles spells them) and meta.db (round
 * trips of full records, durability across close/reopen, the trace, the location lock,
 * corrupt records refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "sp_fs.h"
#include "wk_sector.h"
#include "wk_store.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_worker_sector.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sp_remove_tree(tmpdir, NULL);
    return 0;
}

/* damocles-worker planner/sealer.rs: the sealer plan, event by event. */
static void test_sealer_path(void **state)
{
    (void)state;
    static const struct { wk_event ev; const char *to; } path[] = {
        { WK_EV_ALLOCATE, "Allocated" },        { WK_EV_ACQUIRE_DEALS, "DealsAcquired" },
        { WK_EV_ADD_PIECE, "PieceAdded" },      { WK_EV_BUILD_TREE_D, "TreeDBuilt" },
        { WK_EV_ASSIGN_TICKET, "TicketAssigned" }, { WK_EV_PC1, "PC1Done" },
        { WK_EV_PC2, "PC2Done" },               { WK_EV_SUBMIT_PC, "PCSubmitted" },
        { WK_EV_RESUBMIT_PC, "PC2Done" },       { WK_EV_SUBMIT_PC, "PCSubmitted" },
        { WK_EV_CHECK_PC, "PCLanded" },         { WK_EV_PERSIST, "Persisted" },
        { WK_EV_SUBMIT_PERSISTANCE, "PersistanceSubmitted" },
        { WK_EV_ASSIGN_SEED, "SeedAssigned" },  { WK_EV_C1, "C1Done" },
        { WK_EV_C2, "C2Done" },                 { WK_EV_SUBMIT_PROOF, "ProofSubmitted" },
        { WK_EV_RESUBMIT_PROOF, "C2Done" },     { WK_EV_SUBMIT_PROOF, "ProofSubmitted" },
        { WK_EV_FINISH, "Finished" },
    };
    wk_sector s;
    wk_sector_init(&s, WK_PLAN_SEALER);
    assert_string_equal(wk_state_name(s.state), "Empty");
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        wk_state before = s.state;
        s.retry = 3;
        s.error_level = WK_LEVEL_TEMPORARY;
        assert_int_equal(wk_sector_apply(&s, path[i].ev, NULL), SP_OK);
        assert_string_equal(wk_state_name(s.state), path[i].to);
        assert_int_equal(s.prev, before);
        assert_int_equal(s.retry, 0);
        assert_int_equal(s.error_level, WK_LEVEL_NONE);
    }
    /* nothing leaves Finished, and Finished cannot be aborted */
    sp_err err;
    for (int e = 0; e < WK_EV_COUNT; e++)
        assert_int_equal(wk_sector_apply(&s, (wk_event)e, &err), SP_ESTATE);
    assert_non_null(strstr(err.msg, "no transition from Finished"));
}

static void test_table_is_a_function(void **state)
{
    (void)state;
    for (int p = WK_PLAN_SEALER; p <= WK_PLAN_UNSEAL; p++) {
        int n;
        const wk_transition *t = wk_plan_table((wk_plan_kind)p, &n);
        assert_true(n > 0);
        for (int i = 0; i < n; i++) {
            /* each (state, event) appears once; wk_plan_next agrees with the table */
            for (int j = i + 1; j < n; j++)
                assert_false(t[i].from == t[j].from && t[i].event == t[j].event);
            assert_int_equal(wk_plan_next((wk_plan_kind)p, t[i].from, t[i].event), t[i].to);
            assert_true(wk_plan_has_state((wk_plan_kind)p, t[i].from));
            assert_true(wk_plan_has_state((wk_plan_kind)p, t[i].to));
        }
        /* every other pair is refused */
        int allowed = 0;
        for (int s = 0; s < WK_ST_COUNT; s++)
            for (int e = 0; e < WK_EV_COUNT; e++)
                if (e != WK_EV_ABORT && wk_plan_next((wk_plan_kind)p, (wk_state)s, (wk_event)e) >= 0)
                    allowed++;
        assert_int_equal(allowed, n);
    }
    /* the sealer plan never reaches Unsealed; the unseal plan never reaches PC1Done */
    assert_false(wk_plan_has_state(WK_PLAN_SEALER, WK_ST_UNSEALED));
    assert_false(wk_plan_has_state(WK_PLAN_UNSEAL, WK_ST_PC1_DONE));
    assert_int_equal(wk_plan_next(WK_PLAN_UNSEAL, WK_ST_ALLOCATED, WK_EV_UNSEAL), WK_ST_UNSEALED);
    assert_int_equal(wk_plan_next(WK_PLAN_UNSEAL, WK_ST_UNSEALED, WK_EV_UPLOAD_PIECE_DONE),
                     WK_ST_FINISHED);
}

static void test_abort_and_skips(void **state)
{
    (void)state;
    /* Abort from every state in between; never from Empty, Finished or Aborted */
    for (int s = 0; s < WK_ST_COUNT; s++) {
        int want = (s == WK_ST_EMPTY || s == WK_ST_FINISHED || s == WK_ST_ABORTED) ? -1
                                                                                   : WK_ST_ABORTED;
        assert_int_equal(wk_plan_next(WK_PLAN_SEALER, (wk_state)s, WK_EV_ABORT), want);
    }
    /* stages cannot be skipped: PC2 straight after the ticket, C1 before the seed */
    assert_int_equal(wk_plan_next(WK_PLAN_SEALER, WK_ST_TICKET_ASSIGNED, WK_EV_PC2), -1);
    assert_int_equal(wk_plan_next(WK_PLAN_SEALER, WK_ST_PERSISTED, WK_EV_C1), -1);
    assert_int_equal(wk_plan_next(WK_PLAN_SEALER, WK_ST_EMPTY, WK_EV_FINISH), -1);
}

static void test_names(void **state)
{
    (void)state;
    /* damocles sector.rs names, "PersistanceSubmitted" misspelled as on the wire */
    const char *names[] = { "Empty", "Allocated", "DealsAcquired", "PieceAdded", "TreeDBuilt",
                            "TicketAssigned", "PC1Done", "PC2Done", "PCSubmitted", "PCLanded",
                            "Persisted", "PersistanceSubmitted", "SeedAssigned", "C1Done",
                            "C2Done", "ProofSubmitted", "Finished", "Aborted", "Unsealed" };
    for (int i = 0; i < WK_ST_COUNT; i++) {
        assert_string_equal(wk_state_name((wk_state)i), names[i]);
        assert_int_equal(wk_state_parse(names[i]), i);
    }
    assert_int_equal(wk_state_parse("pc1done"), WK_ST_PC1_DONE);
    assert_int_equal(wk_state_parse("Sealed"), -1);
    assert_int_equal(wk_event_parse("ReSubmitPC"), WK_EV_RESUBMIT_PC);
    assert_string_equal(wk_state_stage(WK_PLAN_SEALER, WK_ST_TICKET_ASSIGNED), "pc1");
    assert_string_equal(wk_state_stage(WK_PLAN_SEALER, WK_ST_PC1_DONE), "pc2");
    wk_sector s;
    wk_sector_init(&s, WK_PLAN_SEALER);
    s.miner = 1000;
    s.number = 12;
    char buf[64];
    assert_string_equal(wk_sector_file_name(&s, buf, sizeof buf), "s-t01000-12");
}

static void fill(wk_sector *s)
{
    wk_sector_init(s, WK_PLAN_SEALER);
    s->state = WK_ST_C2_DONE;
    s->prev = WK_ST_C1_DONE;
    s->retry = 2;
    s->paused = true;
    s->error_level = WK_LEVEL_PERMANENT;
    snprintf(s->last_error, sizeof s->last_error, "disk \"full\"\nsecond line");
    s->updated_ms = 1763700000123ULL;
    s->miner = 1000;
    s->number = 7;
    s->proof_id = 6;
    s->sector_size = 8 << 20;
    s->npieces = 2;
    for (int i = 0; i < 2; i++) {
        snprintf(s->pieces[i].cid, WK_CID_MAX, "baga6ea4seaq%d", i);
        memset(s->pieces[i].comm_p, 0x10 + i, 32);
        s->pieces[i].size = 127u << (10 + i);
        s->pieces[i].payload_size = 1000 + (uint64_t)i;
        s->pieces[i].deal_id = 9007199254740993ULL + (uint64_t)i; /* above 2^53 */
    }
    s->has_comm_d = true;
    memset(s->comm_d, 0xd0, 32);
    s->has_ticket = true;
    memset(s->ticket, 0x71, 32);
    s->ticket_epoch = -5;
    s->has_pc1 = true;
    s->pc1out_len = 156;
    for (int i = 0; i < 156; i++)
        s->pc1out[i] = (uint8_t)i;
    s->has_pc2 = true;
    memset(s->comm_c, 0xcc, 32);
    memset(s->comm_r_last, 0xee, 32);
    memset(s->comm_r, 0xaa, 32);
    s->pc_resubmit = true;
    snprintf(s->persist_store, sizeof s->persist_store, "store-01");
    s->has_seed = true;
    memset(s->seed, 0x5e, 32);
    s->seed_epoch = 1234;
    s->c1_len = 4096;
    memset(s->c1_hash, 0xc1, 32);
    s->proof_len = 777;
    memset(s->proof_hash, 0xc2, 32);
}

static void test_json_round_trip(void **state)
{
    (void)state;
    wk_sector a, b;
    fill(&a);
    cJSON *j = wk_sector_to_json(&a);
    assert_non_null(j);
    assert_int_equal(wk_sector_from_json(j, &b, NULL), SP_OK);
    cJSON_Delete(j);
    assert_memory_equal(&a, &b, sizeof a);
    /* an Empty record round-trips too */
    wk_sector_init(&a, WK_PLAN_UNSEAL);
    j = wk_sector_to_json(&a);
    assert_int_equal(wk_sector_from_json(j, &b, NULL), SP_OK);
    cJSON_Delete(j);
    assert_memory_equal(&a, &b, sizeof a);
}

static void test_json_rejects(void **state)
{
    (void)state;
    wk_sector a, b;
    fill(&a);
    sp_err err;
    const char *bad[][2] = {
        { "state", "\"Sealed\"" }, { "version", "2" }, { "plan", "\"snapup\"" },
        { "comm_d", "\"zz\"" },    { "miner", "\"x\"" }, { "pc1out", "\"abc\"" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = wk_sector_to_json(&a);
        cJSON_ReplaceItemInObject(j, bad[i][0], cJSON_Parse(bad[i][1]));
        assert_int_equal(wk_sector_from_json(j, &b, &err), SP_ECORRUPT);
        assert_non_null(strstr(err.msg, "sector record"));
        cJSON_Delete(j);
    }
    /* a sealer state in an unseal record */
    cJSON *j = wk_sector_to_json(&a);
    cJSON_ReplaceItemInObject(j, "plan", cJSON_CreateString("unseal"));
    assert_int_equal(wk_sector_from_json(j, &b, &err), SP_ECORRUPT);
    assert_non_null(strstr(err.msg, "not part of plan unseal"));
    cJSON_Delete(j);
}

static void test_meta_round_trip_and_resume(void **state)
{
    (void)state;
    char loc[512];
    snprintf(loc, sizeof loc, "%s/t1", tmpdir);
    wk_meta *m = NULL;
    assert_int_equal(wk_meta_open(loc, &m, NULL), SP_OK);
    wk_sector a, b;
    bool found = true;
    assert_int_equal(wk_meta_load(m, WK_PLAN_SEALER, &b, &found, NULL), SP_OK);
    assert_false(found);
    assert_int_equal(b.state, WK_ST_EMPTY);

    /* a thread that goes Empty -> ... -> TicketAssigned, then "crashes" (close) */
    wk_sector_init(&a, WK_PLAN_SEALER);
    a.miner = 1000;
    a.number = 3;
    a.proof_id = 5;
    a.sector_size = 2048;
    wk_event evs[] = { WK_EV_ALLOCATE, WK_EV_ACQUIRE_DEALS, WK_EV_ADD_PIECE, WK_EV_BUILD_TREE_D,
                       WK_EV_ASSIGN_TICKET };
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(wk_sector_apply(&a, evs[i], NULL), SP_OK);
        assert_int_equal(wk_meta_save(m, &a, wk_event_name(evs[i]), "ok", NULL), SP_OK);
    }
    wk_meta_close(m);

    /* a second process cannot open it while it is held */
    assert_int_equal(wk_meta_open(loc, &m, NULL), SP_OK);
    wk_meta *m2 = NULL;
    sp_err err;
    assert_int_equal(wk_meta_open(loc, &m2, &err), SP_EBUSY);
    assert_null(m2);
    assert_non_null(strstr(err.msg, "another process"));

    /* resume: the stored state comes back */
    assert_int_equal(wk_meta_load(m, WK_PLAN_SEALER, &b, &found, NULL), SP_OK);
    assert_true(found);
    assert_int_equal(b.state, WK_ST_TICKET_ASSIGNED);
    assert_int_equal(b.prev, WK_ST_TREE_D_BUILT);
    assert_memory_equal(&a, &b, sizeof a);

    /* a full record */
    fill(&a);
    assert_int_equal(wk_meta_save(m, &a, "C2", "proof 777 bytes", NULL), SP_OK);
    wk_meta_close(m);
    assert_int_equal(wk_meta_open(loc, &m, NULL), SP_OK);
    assert_int_equal(wk_meta_load(m, WK_PLAN_SEALER, &b, &found, NULL), SP_OK);
    assert_memory_equal(&a, &b, sizeof a);

    /* trace: the six transitions, oldest first */
    wk_trace *t;
    size_t n;
    assert_int_equal(wk_meta_trace(m, 100, &t, &n, NULL), SP_OK);
    assert_int_equal(n, 6);
    assert_string_equal(t[0].event, "Allocate");
    assert_string_equal(t[0].prev, "Empty");
    assert_string_equal(t[0].next, "Allocated");
    assert_string_equal(t[0].sector, "s-t01000-3");
    assert_string_equal(t[5].event, "C2");
    assert_string_equal(t[5].next, "C2Done");
    assert_string_equal(t[5].sector, "s-t01000-7");
    assert_string_equal(t[5].detail, "proof 777 bytes");
    free(t);

    /* clear: the next load is Empty, and the trace says why */
    assert_int_equal(wk_meta_clear(m, "finished", NULL), SP_OK);
    assert_int_equal(wk_meta_load(m, WK_PLAN_SEALER, &b, &found, NULL), SP_OK);
    assert_false(found);
    assert_int_equal(wk_meta_trace(m, 1, &t, &n, NULL), SP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].event, "Clear");
    assert_string_equal(t[0].prev, "C2Done");
    assert_string_equal(t[0].detail, "finished");
    free(t);
    wk_meta_close(m);
}

static void test_meta_corrupt(void **state)
{
    (void)state;
    char loc[512], db[600];
    snprintf(loc, sizeof loc, "%s/t2", tmpdir);
    wk_meta *m = NULL;
    assert_int_equal(wk_meta_open(loc, &m, NULL), SP_OK);
    wk_meta_close(m);
    snprintf(db, sizeof db, "%s/meta.db", loc);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "INSERT INTO sector (k, doc) VALUES (1, '{\"version\":1,"
                                  "\"plan\":\"sealer\",\"state\":\"Bogus\",\"prev\":\"Empty\"}')",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(wk_meta_open(loc, &m, NULL), SP_OK);
    wk_sector s;
    bool found;
    sp_err err;
    assert_int_equal(wk_meta_load(m, WK_PLAN_SEALER, &s, &found, &err), SP_ECORRUPT);
    assert_false(found);
    assert_non_null(strstr(err.msg, "meta.db"));
    assert_non_null(strstr(err.msg, "unknown state \"Bogus\""));
    wk_meta_close(m);
}

/* Many transitions: the trace keeps only the newest WK_META_TRACE_KEEP rows. */
static void test_meta_trace_bounded(void **state)
{
    (void)state;
    char loc[512];
    snprintf(loc, sizeof loc, "%s/t3", tmpdir);
    wk_meta *m = NULL;
    assert_int_equal(wk_meta_open(loc, &m, NULL), SP_OK);
    wk_sector s;
    wk_sector_init(&s, WK_PLAN_SEALER);
    assert_int_equal(wk_meta_save(m, &s, "x", NULL, NULL), SP_OK);
    sqlite3 *h;
    char db[600];
    snprintf(db, sizeof db, "%s/meta.db", loc);
    assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c "
                                  "WHERE i < 1500) INSERT INTO trace (at_ms, sector, prev, next, "
                                  "event, detail) SELECT i, '', 'Empty', 'Empty', 'x', '' FROM c",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(wk_meta_save(m, &s, "last", NULL, NULL), SP_OK);
    wk_trace *t;
    size_t n;
    assert_int_equal(wk_meta_trace(m, 5000, &t, &n, NULL), SP_OK);
    assert_int_equal(n, WK_META_TRACE_KEEP);
    assert_string_equal(t[n - 1].event, "last");
    free(t);
    wk_meta_close(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealer_path),
        cmocka_unit_test(test_table_is_a_function),
        cmocka_unit_test(test_abort_and_skips),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_json_rejects),
        cmocka_unit_test(test_meta_round_trip_and_resume),
        cmocka_unit_test(test_meta_corrupt),
        cmocka_unit_test(test_meta_trace_bounded),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
