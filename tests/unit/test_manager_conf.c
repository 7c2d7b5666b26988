/* test_manager_conf.c — manager.cfg: the shipped config/manager.cfg is what init writes
 * and loads with mainnet defaults; miners, stores, chain rules and paths are read as
 * written; mistakes are reported as FILE:LINE: key: message; inherit works. */
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
#include "sp_fs.h"

static void test_shipped_file(void **state)
{
    (void)state;
    const char *root = getenv("SP_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/config/manager.cfg", root ? root : ".");
    char *text = NULL;
    size_t len = 0;
    sp_err err;
    assert_int_equal(sp_read_file(path, 1 << 20, &text, &len, &err), SP_OK);
    /* init writes exactly the documented file */
    assert_string_equal(text, sm_default_config);
    free(text);
    sm_conf *c = NULL;
    char *all = NULL;
    assert_int_equal(sm_conf_load(path, &c, &all, &err), SP_OK);
    assert_null(all);
    assert_string_equal(c->listen, "127.0.0.1:1789");
    assert_string_equal(c->db_driver, "sqlite");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    assert_int_equal(c->threads, cpus < 2 ? 2 : cpus > 16 ? 16 : cpus);
    assert_int_equal(c->max_body, 64u << 20);
    assert_int_equal(c->idle_timeout_s, 60);
    /* mainnet timing (research/interfaces.md B.7) */
    assert_int_equal(c->chain_params.block_ms, 30000);
    assert_int_equal(c->chain_params.ticket_lookback, 900);
    assert_int_equal(c->chain_params.max_ticket_age, 3780);
    assert_int_equal(c->chain_params.challenge_delay, 150);
    assert_int_equal(c->chain_params.seed_confidence, 6);
    assert_int_equal(c->chain_params.max_prove_duration, 86550);
    assert_int_equal(c->n_miners, 0);
    assert_int_equal(c->n_stores, 0);
    /* relative paths are relative to the file's directory */
    char want[4200];
    snprintf(want, sizeof want, "%s/config/manager.db", root ? root : ".");
    assert_string_equal(c->db_path, want);
    snprintf(want, sizeof want, "%s/config/pieces", root ? root : ".");
    assert_string_equal(c->piece_dir, want);
    sm_conf_unref(c);
}

static void test_values(void **state)
{
    (void)state;
    const char *text =
        "chain = { block_time = \"100ms\"; challenge_delay = 10; };\n"
        "db = { path = \"/var/lib/sm/m.db\"; };\n"
        "miners = ( { actor = 1000; sizes = [ \"2KiB\", \"8MiB\", \"2KiB\" ]; first_number = 7;\n"
        "             max_number = 9; deals = true; },\n"
        "           { actor = 3000000000L; enabled = false; } );\n"
        "persist_stores = ( { name = \"s1\"; path = \"stores/s1\"; weight = 5; tier = \"hot\";\n"
        "                     readonly = true; allow_miners = [ 1000, 2000 ]; deny_miners = [ 3 ];\n"
        "                     capacity = \"10TiB\"; } );\n";
    sm_conf *c = NULL;
    sp_err err;
    assert_int_equal(sm_conf_load_string(text, "/etc/sm/manager.cfg", &c, NULL, &err), SP_OK);
    assert_int_equal(c->chain_params.block_ms, 100);
    assert_int_equal(c->chain_params.challenge_delay, 10);
    assert_int_equal(c->chain_params.ticket_lookback, 900);
    assert_string_equal(c->db_path, "/var/lib/sm/m.db");
    assert_int_equal(c->n_miners, 2);
    const sm_miner_conf *m = sm_conf_miner(c, 1000);
    assert_non_null(m);
    assert_int_equal(m->n_proofs, 2); /* the duplicate size counts once */
    assert_true(sm_miner_allows_proof(m, 5));
    assert_true(sm_miner_allows_proof(m, 6));
    assert_false(sm_miner_allows_proof(m, 8));
    assert_int_equal(m->first_number, 7);
    assert_int_equal(m->max_number, 9);
    assert_true(m->deals);
    assert_true(m->enabled);
    m = sm_conf_miner(c, 3000000000ULL);
    assert_non_null(m);
    assert_false(m->enabled);
    assert_int_equal(m->proofs[0], 8); /* 32GiB V1_1 by default */
    assert_null(sm_conf_miner(c, 4));
    assert_int_equal(c->n_stores, 1);
    const sm_store_def *s = &c->stores[0];
    assert_string_equal(s->name, "s1");
    assert_string_equal(s->path, "/etc/sm/stores/s1");
    assert_int_equal(s->weight, 5);
    assert_string_equal(s->tier, "hot");
    assert_true(s->readonly);
    assert_string_equal(s->allow_miners, "1000,2000");
    assert_string_equal(s->deny_miners, "3");
    assert_int_equal(s->capacity, 10ULL << 40);
    /* references keep a snapshot alive */
    sm_conf_ref(c);
    sm_conf_unref(c);
    assert_int_equal(c->n_miners, 2);
    sm_conf_unref(c);
}

static void expect_error(const char *text, const char *what)
{
    sm_conf *c = NULL;
    sp_err err;
    char *all = NULL;
    sp_code rc = sm_conf_load_string(text, "m.cfg", &c, &all, &err);
    if (rc == SP_OK)
        fail_msg("accepted: %s", text);
    assert_null(c);
    if (!strstr(err.msg, what))
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, what);
    assert_non_null(strstr(err.msg, "m.cfg:"));
    free(all);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("apii = { };", "apii");
    expect_error("api = { threads = \"four\"; };", "api.threads");
    expect_error("api = { threads = 257; };", "api.threads");
    expect_error("chain = { kind = \"lotus\"; };", "chain.kind");
    expect_error("chain = { block_time = \"soon\"; };", "chain.block_time");
    expect_error("chain = { ticket_lookback = 900; max_ticket_age = 900; };", "max_ticket_age");
    expect_error("chain = { max_prove_duration = 100; };", "max_prove_duration");
    expect_error("miners = ( { sizes = [ \"2KiB\" ]; } );", "actor");
    expect_error("miners = ( { actor = 1; sizes = [ \"3KiB\" ]; } );", "3KiB");
    expect_error("miners = ( { actor = 1; sizes = [ ]; } );", "at least one");
    expect_error("miners = ( { actor = 1; }, { actor = 1; } );", "listed twice");
    expect_error("miners = ( { actor = 1; first_number = 10; max_number = 5; } );", "max_number");
    expect_error("persist_stores = ( { name = \"a/b\"; path = \"/x\"; } );", "name");
    expect_error("persist_stores = ( { name = \"a\"; path = \"\"; } );", "path");
    expect_error("persist_stores = ( { name = \"a\"; path = \"/x\"; }, { name = \"a\"; path = \"/y\"; } );",
                 "listed twice");
    expect_error("persist_stores = ( { name = \"a\"; path = \"/x\"; tier = \"lukewarm\"; } );", "tier");
    expect_error("db = { driver = \"postgres\"; };", "db.driver");
    expect_error("log = { level = \"loud\"; };", "log.level");
    expect_error("miners = ( { actor = 1; } ", "syntax error");
    /* the line is the one the mistake is on */
    expect_error("api = { };\nchain = {\n  seed_confidence = -1;\n};\n", "m.cfg:3:");
}

static void test_inherit(void **state)
{
    (void)state;
    char dir[] = "/tmp/sm-conf-XXXXXX", base[128], child[128];
    assert_non_null(mkdtemp(dir));
    snprintf(base, sizeof base, "%s/base.cfg", dir);
    snprintf(child, sizeof child, "%s/manager.cfg", dir);
    const char *b = "chain = { block_time = \"1s\"; challenge_delay = 20; };\n"
                    "miners = ( { actor = 1; } );\n";
    const char *c = "inherit = \"base.cfg\";\nchain = { challenge_delay = 5; };\n";
    assert_int_equal(sp_write_file_atomic(base, b, strlen(b), 0644, NULL), SP_OK);
    assert_int_equal(sp_write_file_atomic(child, c, strlen(c), 0644, NULL), SP_OK);
    sm_conf *conf = NULL;
    sp_err err;
    assert_int_equal(sm_conf_load(child, &conf, NULL, &err), SP_OK);
    assert_int_equal(conf->chain_params.block_ms, 1000);
    assert_int_equal(conf->chain_params.challenge_delay, 5);
    assert_int_equal(conf->n_miners, 1);
    sm_conf_unref(conf);
    sp_remove_tree(dir, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shipped_file),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_inherit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
