/* test_manager_db.c — the manager's database layer and sector records: migrations and
 * schema versions, per-thread connections and transactions, sector numbers under 32
 * concurrent allocators, the durable limit after a simulated crash, worker reports,
 * admin abort seen by the next report, restore, and the event history. */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sm_conf.h"
#include "sm_db.h"
#include "sm_sectors.h"
#include "sp_fs.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    sm_db *db;
    sm_conf *conf;
} fixture;

static const char CONF[] =
    "miners = ( { actor = 1000; sizes = [ \"2KiB\" ]; first_number = 5; },\n"
    "           { actor = 2000; sizes = [ \"2KiB\", \"8MiB\" ]; max_number = 2; },\n"
    "           { actor = 3000; sizes = [ \"2KiB\" ]; enabled = false; } );\n";

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sm-db-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/manager.db", f->dir);
    sp_err err;
    sm_db_opts o = { .path = f->path, .create = true };
    if (sm_db_open(&o, &f->db, &err) != SP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    if (sm_conf_load_string(CONF, "manager.cfg", &f->conf, NULL, &err) != SP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
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

static void test_schema_versions(void **state)
{
    fixture *f = *state;
    sp_err err;
    assert_int_equal(sm_db_schema_version(f->db), sm_db_schema_latest(f->db));
    assert_true(sm_db_schema_latest(f->db) >= 1);
    /* WAL journal */
    sm_stmt *s;
    assert_int_equal(sm_db_stmt(f->db, "PRAGMA journal_mode", &s, &err), SP_OK);
    assert_int_equal(sm_step(s, &err), 1);
    assert_string_equal(sm_col_text(s, 0), "wal");
    sm_stmt_reset(s);
    /* a database from a newer program is refused, naming both versions */
    assert_int_equal(sm_db_exec(f->db, "PRAGMA user_version = 999", &err), SP_OK);
    sm_db_close(f->db);
    f->db = NULL;
    sm_db_opts o = { .path = f->path };
    assert_int_equal(sm_db_open(&o, &f->db, &err), SP_ESTATE);
    assert_non_null(strstr(err.msg, "999"));
    assert_null(f->db);
    /* a missing database without create */
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.db", f->dir);
    o.path = missing;
    assert_int_equal(sm_db_open(&o, &f->db, &err), SP_ENOTFOUND);
    assert_non_null(strstr(err.msg, "sector-manager init"));
    o.path = f->path;
    o.driver = "postgres";
    assert_int_equal(sm_db_open(&o, &f->db, &err), SP_ECONFIG);
    /* reopen for teardown: reset the version first with a raw sqlite open */
    o.driver = NULL;
    unlink(f->path);
    o.create = true;
    assert_int_equal(sm_db_open(&o, &f->db, &err), SP_OK);
}

static void test_transactions(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_stmt *s;
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_OK);
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_EINTERNAL); /* no nesting */
    assert_int_equal(sm_db_stmt(f->db, "INSERT INTO meta (key, value) VALUES (?1, ?2)", &s, &err), SP_OK);
    sm_bind_text(s, 1, "k");
    sm_bind_text(s, 2, "v");
    assert_int_equal(sm_step_done(s, &err), SP_OK);
    sm_db_rollback(f->db);
    static const char Q[] = "SELECT count(*) FROM meta";
    assert_int_equal(sm_db_stmt(f->db, Q, &s, &err), SP_OK);
    assert_int_equal(sm_step(s, &err), 1);
    assert_int_equal(sm_col_i64(s, 0), 0);
    sm_stmt_reset(s);
    /* the same SQL text gives the same cached statement */
    sm_stmt *s2;
    assert_int_equal(sm_db_stmt(f->db, Q, &s2, &err), SP_OK);
    assert_ptr_equal(s, s2);
    /* a bad statement names the SQL */
    assert_int_equal(sm_db_stmt(f->db, "SELECT nope FROM nowhere", &s, &err) != SP_OK, 1);
    assert_non_null(strstr(err.msg, "nowhere"));
    /* a constraint error is reported, not fatal */
    assert_int_equal(sm_db_begin(f->db, SM_TX_DURABLE, &err), SP_OK);
    static const char INS[] = "INSERT INTO meta (key, value) VALUES ('a', 'b')";
    assert_int_equal(sm_db_stmt(f->db, INS, &s, &err), SP_OK);
    assert_int_equal(sm_step_done(s, &err), SP_OK);
    assert_int_equal(sm_db_stmt(f->db, INS, &s, &err), SP_OK);
    assert_int_equal(sm_step_done(s, &err), SP_EEXIST);
    assert_int_equal(sm_db_commit(f->db, &err), SP_OK);
    assert_int_equal(sm_db_checkpoint(f->db, &err), SP_OK);
}

typedef struct alloc_arg {
    fixture *f;
    int count;
    uint64_t got[64];
    int failed;
} alloc_arg;

static void *alloc_thread(void *p)
{
    alloc_arg *a = p;
    uint64_t miner = 1000;
    sm_alloc_spec spec = { .miners = &miner, .n_miners = 1 };
    for (int i = 0; i < a->count; i++) {
        uint64_t m, n;
        int proof;
        bool found;
        sp_err err;
        if (sm_sectors_allocate(a->f->db, a->f->conf, &spec, (unsigned)i, &m, &n, &proof, &found,
                                &err) != SP_OK || !found || m != 1000) {
            a->failed++;
            continue;
        }
        a->got[i] = n;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_concurrent_allocation(void **state)
{
    fixture *f = *state;
    enum { THREADS = 32, EACH = 20 };
    pthread_t th[THREADS];
    alloc_arg *args = calloc(THREADS, sizeof *args);
    for (int i = 0; i < THREADS; i++) {
        args[i].f = f;
        args[i].count = EACH;
        assert_int_equal(pthread_create(&th[i], NULL, alloc_thread, &args[i]), 0);
    }
    uint64_t all[THREADS * EACH];
    size_t n = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failed, 0);
        for (int j = 0; j < EACH; j++)
            all[n++] = args[i].got[j];
    }
    free(args);
    qsort(all, n, sizeof all[0], cmp_u64);
    /* every number once, dense from first_number (no crash happened) */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(all[i], 5 + i);
    sp_err err;
    sm_miner_numbers mn;
    bool found;
    assert_int_equal(sm_sectors_miner_numbers(f->db, 1000, &mn, &found, &err), SP_OK);
    assert_true(found);
    assert_int_equal(mn.next_number, 5 + THREADS * EACH);
    assert_int_equal(mn.allocated, THREADS * EACH);
    assert_true(mn.durable_limit >= mn.next_number);
    /* a burst doubles the step of the durable limit, up to the maximum */
    assert_true(mn.durable_limit <= mn.next_number + SM_NUMBER_BLOCK_MAX);
    /* a raise long after the previous one steps by SM_NUMBER_BLOCK again */
    uint64_t miner = 1000, m, num;
    int proof;
    sm_alloc_spec spec = { .miners = &miner, .n_miners = 1 };
    assert_int_equal(sm_db_exec(f->db, "UPDATE miners SET raised_ms = 0, next_number = durable_limit "
                                       "WHERE actor = 1000", &err), SP_OK);
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &spec, 0, &m, &num, &proof, &found, &err), SP_OK);
    assert_int_equal(num, mn.durable_limit);
    assert_int_equal(sm_sectors_miner_numbers(f->db, 1000, &mn, &found, &err), SP_OK);
    assert_int_equal(mn.durable_limit, num + SM_NUMBER_BLOCK);
    /* each sector exists once with an Allocate event */
    sm_sector s;
    assert_int_equal(sm_sectors_load(f->db, 1000, 5, &s, &err), SP_OK);
    assert_string_equal(s.state, "Allocated");
    assert_int_equal(s.proof_type, 5); /* StackedDrg2KiBV1_1 */
}

static void test_allocation_rules(void **state)
{
    fixture *f = *state;
    sp_err err;
    uint64_t m, n;
    int proof;
    bool found;
    /* miner 3000 is disabled, 9999 unknown: nothing to allocate */
    uint64_t disabled = 3000, unknown = 9999;
    sm_alloc_spec spec = { .miners = &disabled, .n_miners = 1 };
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &spec, 0, &m, &n, &proof, &found, &err), SP_OK);
    assert_false(found);
    spec.miners = &unknown;
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &spec, 0, &m, &n, &proof, &found, &err), SP_OK);
    assert_false(found);
    /* 8MiB (proof 6) only miner 2000 seals; it has numbers 0..2 */
    int p8 = 6;
    sm_alloc_spec s8 = { .proofs = &p8, .n_proofs = 1 };
    for (uint64_t want = 0; want <= 2; want++) {
        assert_int_equal(sm_sectors_allocate(f->db, f->conf, &s8, 0, &m, &n, &proof, &found, &err), SP_OK);
        assert_true(found);
        assert_int_equal(m, 2000);
        assert_int_equal(n, want);
        assert_int_equal(proof, 6);
    }
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &s8, 0, &m, &n, &proof, &found, &err), SP_OK);
    assert_false(found); /* exhausted */
    /* no filter: rotates among miners with numbers left */
    sm_alloc_spec any = { 0 };
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &any, 1, &m, &n, &proof, &found, &err), SP_OK);
    assert_true(found);
    assert_int_equal(m, 1000); /* 2000 is exhausted, 3000 disabled */
}

static void test_crash_recovery(void **state)
{
    fixture *f = *state;
    sp_err err;
    uint64_t miner = 1000, m, n, last = 0;
    int proof;
    bool found;
    sm_alloc_spec spec = { .miners = &miner, .n_miners = 1 };
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sm_sectors_allocate(f->db, f->conf, &spec, 0, &m, &n, &proof, &found, &err), SP_OK);
        last = n;
    }
    sm_miner_numbers before;
    assert_int_equal(sm_sectors_miner_numbers(f->db, 1000, &before, &found, &err), SP_OK);
    /* Simulate a power loss that dropped the last allocations: next_number goes back, the
     * durable limit (fsynced before any number under it was handed out) stays. */
    assert_int_equal(sm_db_exec(f->db, "UPDATE miners SET next_number = 5 WHERE actor = 1000; "
                                       "DELETE FROM sectors WHERE miner = 1000", &err), SP_OK);
    int moved = 0;
    assert_int_equal(sm_sectors_recover_numbers(f->db, &moved, &err), SP_OK);
    assert_int_equal(moved, 1);
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &spec, 0, &m, &n, &proof, &found, &err), SP_OK);
    assert_true(n > last);
    assert_int_equal(n, before.durable_limit);
    /* reopening the database keeps everything */
    sm_db_close(f->db);
    sm_db_opts o = { .path = f->path };
    assert_int_equal(sm_db_open(&o, &f->db, &err), SP_OK);
    sm_sector s;
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &s, &err), SP_OK);
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &spec, 0, &m, &n, &proof, &found, &err), SP_OK);
    assert_int_equal(n, before.durable_limit + 1);
}

static void report(fixture *f, uint64_t n, const char *prev, const char *next, bool *fin,
                   char *reason, bool *aborted)
{
    sm_report r = { .instance = "w1", .location = "/mnt/t01", .prev = prev, .next = next,
                    .event = "Ev" };
    sp_err err;
    assert_int_equal(sm_sectors_report(f->db, 1000, n, &r, fin, reason, 256, aborted, &err), SP_OK);
}

static void test_reports_abort_restore(void **state)
{
    fixture *f = *state;
    sp_err err;
    uint64_t miner = 1000, m, n;
    int proof;
    bool found, fin, ab;
    char reason[256];
    sm_alloc_spec spec = { .miners = &miner, .n_miners = 1 };
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &spec, 0, &m, &n, &proof, &found, &err), SP_OK);
    report(f, n, "Allocated", "DealsAcquired", &fin, reason, &ab);
    assert_false(fin);
    report(f, n, "DealsAcquired", "PieceAdded", &fin, reason, &ab);
    sm_sector s;
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &s, &err), SP_OK);
    assert_string_equal(s.state, "PieceAdded");
    assert_string_equal(s.worker, "w1");
    assert_string_equal(s.location, "/mnt/t01");
    /* a failure is kept as the last error */
    sm_report bad = { .instance = "w1", .location = "/mnt/t01", .prev = "PieceAdded",
                      .next = "PieceAdded", .event = "Retry", .level = "temporary", .desc = "disk full" };
    assert_int_equal(sm_sectors_report(f->db, 1000, n, &bad, &fin, reason, sizeof reason, &ab, &err), SP_OK);
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &s, &err), SP_OK);
    assert_string_equal(s.last_error, "temporary: disk full");

    /* admin abort: the worker's next report answers finalized with the reason */
    assert_int_equal(sm_sectors_abort(f->db, 1000, n, "bad disk", &err), SP_OK);
    assert_int_equal(sm_sectors_abort(f->db, 1000, n, "again", &err), SP_ESTATE);
    report(f, n, "PieceAdded", "TreeDBuilt", &fin, reason, &ab);
    assert_true(fin);
    assert_true(ab);
    assert_string_equal(reason, "bad disk");
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &s, &err), SP_OK);
    assert_string_equal(s.state, "Aborted"); /* the report did not move it */
    assert_string_equal(s.pre_abort_state, "PieceAdded");

    /* restore while the worker still holds it */
    assert_int_equal(sm_sectors_restore(f->db, 1000, n, &err), SP_OK);
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &s, &err), SP_OK);
    assert_string_equal(s.state, "PieceAdded");
    assert_false(s.finalized);
    report(f, n, "PieceAdded", "TreeDBuilt", &fin, reason, &ab);
    assert_false(fin);
    assert_int_equal(sm_sectors_restore(f->db, 1000, n, &err), SP_ESTATE);

    /* the worker aborts: no restore after that, number stays used */
    assert_int_equal(sm_sectors_worker_aborted(f->db, 1000, n, "pc1 failed", &err), SP_OK);
    assert_int_equal(sm_sectors_load(f->db, 1000, n, &s, &err), SP_OK);
    assert_true(s.aborted && s.finalized && s.worker_done);
    assert_string_equal(s.abort_reason, "pc1 failed");
    assert_int_equal(sm_sectors_restore(f->db, 1000, n, &err), SP_ESTATE);
    assert_non_null(strstr(err.msg, "discarded"));

    /* events hold every step with its source and worker */
    sm_event *ev = NULL;
    size_t ne = 0;
    assert_int_equal(sm_sectors_events(f->db, 1000, n, 0, &ev, &ne, &err), SP_OK);
    assert_int_equal(ne, 9);
    assert_string_equal(ev[0].event, "Allocate");
    assert_string_equal(ev[1].next, "DealsAcquired");
    assert_string_equal(ev[1].worker, "w1");
    assert_string_equal(ev[3].level, "temporary");
    assert_string_equal(ev[4].source, "admin");
    assert_string_equal(ev[4].desc, "bad disk");
    assert_string_equal(ev[6].event, "Restore");
    assert_string_equal(ev[8].event, "ReportAborted");
    assert_true(ev[8].at_ms >= ev[0].at_ms);
    free(ev);
    /* the newest two only */
    assert_int_equal(sm_sectors_events(f->db, 1000, n, 2, &ev, &ne, &err), SP_OK);
    assert_int_equal(ne, 2);
    assert_string_equal(ev[1].event, "ReportAborted");
    free(ev);

    /* unknown sectors */
    report(f, n, "x", "y", &fin, reason, &ab); /* finalized sector: recorded, answered */
    assert_true(fin);
    sm_report r = { .instance = "w", .location = "l", .prev = "a", .next = "b", .event = "e" };
    assert_int_equal(sm_sectors_report(f->db, 1000, 999999, &r, &fin, reason, sizeof reason, &ab, &err),
                     SP_ENOTFOUND);
    assert_int_equal(sm_sectors_abort(f->db, 7, 7, "x", &err), SP_ENOTFOUND);

    /* listing and counts */
    sm_sector *list = NULL;
    size_t nl = 0;
    sm_sector_filter flt = { .state = "Aborted" };
    assert_int_equal(sm_sectors_list(f->db, &flt, &list, &nl, &err), SP_OK);
    assert_int_equal(nl, 1);
    assert_int_equal(list[0].number, n);
    free(list);
    sm_sector_filter byminer = { .has_miner = true, .miner = 2000 };
    assert_int_equal(sm_sectors_list(f->db, &byminer, &list, &nl, &err), SP_OK);
    assert_int_equal(nl, 0);
    free(list);
    sm_state_count *counts = NULL;
    size_t nc = 0;
    assert_int_equal(sm_sectors_count_states(f->db, &counts, &nc, &err), SP_OK);
    assert_int_equal(nc, 1);
    assert_string_equal(counts[0].state, "Aborted");
    free(counts);
    assert_true(sm_state_name_valid("PC1Done"));
    assert_false(sm_state_name_valid("bad state"));
    assert_false(sm_state_name_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_allocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allocation_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reports_abort_restore, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
