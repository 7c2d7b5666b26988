/* test_worker_config.c — the seal-worker config (worker/src/config.c): defaults, every
 * section read into wk_config, inherit for hardware classes, and each config error with
 * its FILE:LINE: key.path message.  There are no public vectors for this format; the
 * expected values are the contract of wk_config.h and config/worker.cfg.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sp_fs.h"
#include "wk_config.h"
#include "wk_stages.h"

/* libconfig 1.5 leaks the token a syntax error stops at (see sp_config.h). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n";
}

#define MANAGER "sector_manager = { url = \"http://10.0.0.5:1789\"; token_file = \"/etc/t\"; };\n"
#define THREAD "sealing_thread = ( { location = \"/mnt/nvme0/t01\"; } );\n"
#define STORE "attached = ( { name = \"s1\"; location = \"/mnt/s1\"; } );\n"
/* MANAGER THREAD STORE are lines 1-3; a test's own text starts on line 4 */
#define BASE MANAGER THREAD STORE

typedef struct loaded {
    wk_config c;
    wk_diags d;
    sp_code rc;
    sp_err err;
} loaded;

static void load(loaded *l, const char *text)
{
    memset(l, 0, sizeof *l);
    l->rc = wk_config_load_string(text, "test.cfg", &l->c, &l->d, &l->err);
}

static void unload(loaded *l)
{
    wk_config_free(&l->c);
    wk_diags_free(&l->d);
}

static bool has(char **v, int n, const char *needle)
{
    for (int i = 0; i < n; i++)
        if (strstr(v[i], needle))
            return true;
    return false;
}

static void expect_error(const char *text, const char *needle)
{
    loaded l;
    load(&l, text);
    if (l.rc == SP_OK || !has(l.d.errors, l.d.nerrors, needle)) {
        for (int i = 0; i < l.d.nerrors; i++)
            print_message("error: %s\n", l.d.errors[i]);
        fail_msg("rc %d; no error contains \"%s\"", (int)l.rc, needle);
    }
    unload(&l);
}

static void expect_warning(const char *text, const char *needle)
{
    loaded l;
    load(&l, text);
    assert_int_equal(l.rc, SP_OK);
    if (!has(l.d.warnings, l.d.nwarnings, needle)) {
        for (int i = 0; i < l.d.nwarnings; i++)
            print_message("warning: %s\n", l.d.warnings[i]);
        fail_msg("no warning contains \"%s\"", needle);
    }
    unload(&l);
}

/* ---- reading ------------------------------------------------------------------------ */

static void test_defaults(void **state)
{
    (void)state;
    loaded l;
    load(&l, BASE);
    assert_int_equal(l.rc, SP_OK);
    assert_int_equal(l.d.nerrors, 0);
    assert_string_equal(l.c.manager_url, "http://10.0.0.5:1789");
    assert_string_equal(l.c.token_file, "/etc/t");
    assert_null(l.c.token);
    assert_string_equal(l.c.listen, "127.0.0.1:17890");
    assert_true(l.c.name && l.c.name[0]);   /* the host name */
    assert_int_equal(l.c.sealing.max_retries, 5);
    assert_int_equal(l.c.sealing.seal_interval_ms, 30000);
    assert_int_equal(l.c.sealing.recover_interval_ms, 60000);
    assert_int_equal(l.c.sealing.rpc_polling_interval_ms, 180000);
    assert_false(l.c.sealing.enable_deals);
    assert_int_equal(l.c.sealing.nallowed_sizes, 0);
    assert_int_equal(l.c.nthreads, 1);
    assert_int_equal(l.c.threads[0].plan, WK_PLAN_SEALER);
    assert_int_equal(l.c.nattached, 1);
    assert_false(l.c.attached[0].readonly);
    assert_int_equal(l.c.nprocs, 0);
    assert_null(l.c.parent_cache);
    for (int s = 0; s < WK_STAGE_COUNT; s++)
        assert_int_equal(l.c.limit_concurrent[s], 0);
    unload(&l);
}

static void test_every_section(void **state)
{
    (void)state;
    loaded l;
    load(&l,
         "worker = { name = \"sealer-a01\"; listen = \"0.0.0.0:17890\"; };\n"
         "sector_manager = { url = \"https://m:1789\"; token = \"secret\"; };\n"
         "sealing = { allowed_miners = [ 1000, 1001 ]; allowed_sizes = [ \"32GiB\", \"2KiB\" ];\n"
         "  enable_deals = true; max_retries = 3; seal_interval = \"1s\";\n"
         "  recover_interval = \"5min\"; rpc_polling_interval = \"1m30s\"; };\n"
         "sealing_thread = (\n"
         "  { location = \"/a\"; },\n"
         "  { location = \"/b\"; plan = \"unseal\"; sealing = { max_retries = 9; allowed_sizes = [ \"8MiB\" ]; }; }\n"
         ");\n"
         "attached = ( { location = \"/mnt/s\"; readonly = true; } );\n"
         "processors = {\n"
         "  limitation = { concurrent = { pc1 = 2; c2 = 1; }; staggered = { pc1 = \"3min\"; }; };\n"
         "  ext_locks = { gpu0 = 1; gpu1 = 2; };\n"
         "  parent_cache = \"/var/tmp/parents\";\n"
         "  c2 = ( { cores = 2; near_gpu = 1; locks = [ \"gpu1\" ]; backend = \"filcrypto\";\n"
         "           envs = { FIL_PROOFS_X = \"1\"; TMPDIR = \"/t\"; }; } );\n"
         "  pc1 = ( { cpuset = \"0-7,32-39\"; numa = 0; concurrent = 4; hugepages = true;\n"
         "            batch = 4; batch_wait = \"10min\"; },\n"
         "          { cores = 8; numa = 1; bin = \"/opt/pc1\"; args = [ \"--fast\", \"x\" ]; share = true; } );\n"
         "};\n");
    for (int i = 0; i < l.d.nerrors; i++)
        print_message("error: %s\n", l.d.errors[i]);
    assert_int_equal(l.rc, SP_OK);
    assert_string_equal(l.c.name, "sealer-a01");
    assert_string_equal(l.c.listen, "0.0.0.0:17890");
    assert_string_equal(l.c.token, "secret");
    assert_int_equal(l.c.sealing.nallowed_miners, 2);
    assert_int_equal(l.c.sealing.allowed_miners[1], 1001);
    assert_int_equal(l.c.sealing.nallowed_sizes, 2);
    assert_int_equal(l.c.sealing.allowed_sizes[0], 32ull << 30);
    assert_int_equal(l.c.sealing.allowed_sizes[1], 2048);
    assert_true(l.c.sealing.enable_deals);
    assert_int_equal(l.c.sealing.recover_interval_ms, 300000);
    assert_int_equal(l.c.sealing.rpc_polling_interval_ms, 90000);
    /* thread overrides merge key by key over [sealing] */
    assert_int_equal(l.c.threads[0].sealing.max_retries, 3);
    assert_int_equal(l.c.threads[1].sealing.max_retries, 9);
    assert_int_equal(l.c.threads[1].sealing.nallowed_sizes, 1);
    assert_int_equal(l.c.threads[1].sealing.allowed_sizes[0], 8ull << 20);
    assert_true(l.c.threads[1].sealing.enable_deals);
    assert_int_equal(l.c.threads[1].sealing.seal_interval_ms, 1000);
    assert_int_equal(l.c.threads[1].plan, WK_PLAN_UNSEAL);
    assert_string_equal(l.c.attached[0].name, "/mnt/s");   /* defaults to the location */
    assert_true(l.c.attached[0].readonly);
    assert_int_equal(l.c.limit_concurrent[WK_STAGE_PC1], 2);
    assert_int_equal(l.c.limit_concurrent[WK_STAGE_C2], 1);
    assert_int_equal(l.c.limit_concurrent[WK_STAGE_PC2], 0);
    assert_int_equal(l.c.limit_staggered_ms[WK_STAGE_PC1], 180000);
    assert_int_equal(l.c.nlocks, 2);
    assert_int_equal(wk_config_lock(&l.c, "gpu1")->capacity, 2);
    assert_null(wk_config_lock(&l.c, "gpu2"));
    assert_string_equal(l.c.parent_cache, "/var/tmp/parents");
    /* processors in config order: c2 first because it is written first */
    assert_int_equal(l.c.nprocs, 3);
    const wk_proc_cfg *c2 = &l.c.procs[0], *p0 = &l.c.procs[1], *p1 = &l.c.procs[2];
    assert_int_equal(c2->stage, WK_STAGE_C2);
    assert_int_equal(c2->cores, 2);
    assert_int_equal(c2->near_gpu, 1);
    assert_int_equal(c2->gpu, 1);   /* near_gpu implies gpu */
    assert_int_equal(c2->numa, -1);
    assert_int_equal(c2->backend, WK_BACKEND_FILCRYPTO);
    assert_int_equal(c2->nlocks, 1);
    assert_string_equal(c2->locks[0], "gpu1");
    assert_int_equal(c2->nenvs, 2);
    assert_string_equal(c2->envs[0].key, "FIL_PROOFS_X");
    assert_string_equal(c2->envs[1].value, "/t");
    assert_int_equal(p0->stage, WK_STAGE_PC1);
    assert_int_equal(p0->index, 0);
    assert_string_equal(p0->cpuset, "0-7,32-39");
    assert_int_equal(p0->numa, 0);
    assert_int_equal(p0->concurrent, 4);
    assert_true(p0->hugepages);
    assert_int_equal(p0->batch, 4);
    assert_int_equal(p0->batch_wait_ms, 600000);
    assert_int_equal(p0->backend, WK_BACKEND_NATIVE);
    assert_null(p0->bin);
    assert_null(p0->args);
    assert_int_equal(p1->index, 1);
    assert_int_equal(p1->concurrent, 1);
    assert_int_equal(p1->batch, 1);
    assert_string_equal(p1->bin, "/opt/pc1");
    assert_int_equal(p1->nargs, 2);
    assert_string_equal(p1->args[1], "x");
    assert_true(p1->share);
    char key[64];
    assert_string_equal(wk_proc_key(p1, key, sizeof key), "processors.pc1[1]");
    /* share with cores = N does nothing: said so */
    assert_true(has(l.d.warnings, l.d.nwarnings, "test.cfg:19: processors.pc1[1].share: share only matters"));
    unload(&l);
}

static void test_stage_names(void **state)
{
    (void)state;
    const char *names[] = { "add_pieces", "tree_d", "pc1", "pc2", "c1", "c2", "unseal" };
    for (int i = 0; i < WK_STAGE_COUNT; i++) {
        assert_string_equal(wk_stage_name((wk_stage)i), names[i]);
        assert_int_equal(wk_stage_parse(names[i]), i);
    }
    assert_int_equal(wk_stage_parse("pc3"), -1);
    assert_int_equal(wk_stage_parse(NULL), -1);
    assert_string_equal(wk_stage_name(WK_STAGE_COUNT), "?");
}

/* ---- errors ------------------------------------------------------------------------- */

static void test_schema_errors(void **state)
{
    (void)state;
    /* unknown key, with the schema's hint */
    expect_error(BASE "processors = { pc1 = ( { corse = 8; } ); };\n",
                 "test.cfg:4: processors.pc1[0].corse: unknown key");
    /* wrong type */
    expect_error(BASE "processors = { pc1 = ( { cores = \"8\"; } ); };\n",
                 "test.cfg:4: processors.pc1[0].cores: expected an integer");
    /* out of range, bad enum, bad duration */
    expect_error(BASE "processors = { pc2 = ( { cores = 0; } ); };\n", "test.cfg:4: processors.pc2[0].cores");
    expect_error(BASE "processors = { c2 = ( { cores = 1; backend = \"cuda\"; } ); };\n",
                 "test.cfg:4: processors.c2[0].backend");
    expect_error(BASE "sealing = { seal_interval = \"soon\"; };\n", "test.cfg:4: sealing.seal_interval");
    /* an unknown stage */
    expect_error(BASE "processors = { pc3 = ( { cores = 1; } ); };\n", "test.cfg:4: processors.pc3");
    /* batch is a pc1 key only */
    expect_error(BASE "processors = { pc2 = ( { cores = 1; batch = 2; } ); };\n",
                 "test.cfg:4: processors.pc2[0].batch");
    /* required sections */
    expect_error(THREAD, "sector_manager");
    expect_error(MANAGER, "sealing_thread");
    /* syntax */
    expect_error(BASE "processors = { pc1 = ( { cores = = 8; } ); };\n", "test.cfg:4: syntax error");
}

static void test_placement_key_errors(void **state)
{
    (void)state;
    expect_error(BASE "processors = { pc1 = ( { cpuset = \"0-3\"; cores = 4; } ); };\n",
                 "test.cfg:4: processors.pc1[0].cpuset: both cpuset and cores are set");
    expect_error(BASE "processors = {\n pc1 = ( { concurrent = 2; } );\n};\n",
                 "test.cfg:5: processors.pc1[0]: says neither cpuset nor cores; add cores = N");
    expect_error(BASE "processors = { pc1 = ( { cpuset = \"3-1\"; } ); };\n",
                 "test.cfg:4: processors.pc1[0].cpuset: CPU range \"3-1\" runs backwards");
    expect_error(BASE "processors = { pc1 = ( { cpuset = \"0-3;4\"; } ); };\n",
                 "test.cfg:4: processors.pc1[0].cpuset: CPU list \"0-3;4\" is malformed");
    expect_error(BASE "processors = { c2 = ( { cores = 2; numa = 0; near_gpu = 0; } ); };\n",
                 "processors.c2[0].near_gpu: numa and near_gpu are both set");
    expect_error(BASE "processors = { c2 = ( { cpuset = \"1\"; near_gpu = 0; } ); };\n",
                 "processors.c2[0].near_gpu: near_gpu only places cores = N requests; with an "
                 "explicit cpuset write gpu = 0 instead");
    expect_error(BASE "processors = { c2 = ( { cores = 1; near_gpu = 0; gpu = 1; } ); };\n",
                 "processors.c2[0].gpu: gpu = 1 but near_gpu = 0");
    expect_error(BASE "processors = {\n"
                      "  ext_locks = { gpu0 = 1; };\n"
                      "  c2 = ( { cores = 1; locks = [ \"gpu0\",\n"
                      "                                \"gpu2\" ]; } );\n"
                      "};\n",
                 "test.cfg:7: processors.c2[0].locks[1]: lock \"gpu2\" is not declared in "
                 "processors.ext_locks (declared: gpu0); add gpu2 = 1 there or fix the name");
    expect_error(BASE "processors = { pc2 = ( { cores = 1; locks = [ \"gpu0\" ]; } ); };\n",
                 "lock \"gpu0\" is not declared in processors.ext_locks (none declared)");
    expect_error(BASE "processors = { ext_locks = { gpu0 = 0; }; };\n", "test.cfg:4: processors.ext_locks.gpu0");
    expect_error(BASE "processors = { c2 = ( { cores = 1; args = [ \"-v\" ]; } ); };\n",
                 "test.cfg:4: processors.c2[0].args: args without bin");
}

static void test_section_errors(void **state)
{
    (void)state;
    expect_error(MANAGER THREAD STORE "sealing = { allowed_sizes = [ \"32GiB\", \"16GiB\" ]; };\n",
                 "test.cfg:4: sealing.allowed_sizes[1]: \"16GiB\" is not a sector size; use 2KiB, "
                 "8MiB, 512MiB, 32GiB or 64GiB");
    expect_error(MANAGER STORE "sealing_thread = ( { location = \"/a\"; },\n { location = \"/a\"; } );\n",
                 "test.cfg:4: sealing_thread[1].location: \"/a\" is also the location of sealing_thread[0]");
    expect_error(MANAGER THREAD "attached = ( { name = \"x\"; location = \"/1\"; },\n"
                                "  { name = \"x\"; location = \"/2\"; } );\n",
                 "test.cfg:4: attached[1].name: store name \"x\" is also attached[0]'s");
    expect_error(THREAD "sector_manager = { url = \"http://m:1\"; token = \"a\"; token_file = \"/t\"; };\n",
                 "test.cfg:2: sector_manager.token_file: both token and token_file are set");
    expect_error(THREAD "sector_manager = {\n url = \"http://m:1\";\n};\n",
                 "test.cfg:2: sector_manager: no token: set token_file");
    expect_error(THREAD "sector_manager = { url = \"10.0.0.5:1789\"; token = \"a\"; };\n",
                 "test.cfg:2: sector_manager.url: \"10.0.0.5:1789\" is not an http:// or https:// URL");
    expect_error(BASE "worker = { listen = \"17890\"; };\n",
                 "test.cfg:4: worker.listen: \"17890\" is not host:port");
    expect_error(BASE "worker = { listen = \"h:70000\"; };\n", "worker.listen");
    expect_error(MANAGER STORE "sealing_thread = ( );\n", "test.cfg:3: sealing_thread: no sealing threads");
    expect_error(MANAGER STORE "sealing_thread = ( { location = \"/a\"; plan = \"snapup\"; } );\n",
                 "test.cfg:3: sealing_thread[0].plan");
}

static void test_all_errors_collected(void **state)
{
    (void)state;
    loaded l;
    load(&l, BASE
         "processors = {\n"
         "  pc1 = ( { cpuset = \"0\"; cores = 1; } );\n"
         "  pc2 = ( { cores = 1; locks = [ \"nope\" ]; } );\n"
         "  c2 = ( { cores = 1; args = [ \"x\" ]; } );\n"
         "};\n");
    assert_int_equal(l.rc, SP_ECONFIG);
    assert_int_equal(l.d.nerrors, 3);
    assert_non_null(strstr(l.d.errors[0], "test.cfg:5: processors.pc1[0].cpuset"));
    assert_non_null(strstr(l.d.errors[1], "test.cfg:6: processors.pc2[0].locks[0]"));
    assert_non_null(strstr(l.d.errors[2], "test.cfg:7: processors.c2[0].args"));
    /* the first one is in err too, and the config is still complete for placement */
    assert_string_equal(l.err.msg, l.d.errors[0]);
    assert_non_null(l.c.cfg);
    assert_int_equal(l.c.nprocs, 3);
    unload(&l);
}

static void test_schema_and_semantic_errors_together(void **state)
{
    (void)state;
    loaded l;
    /* a typo the schema catches does not hide a mistake it cannot see */
    load(&l, BASE
         "processors = {\n"
         "  pc1 = ( { corse = 8; cpuset = \"0\"; cores = 1; } );\n"
         "  pc2 = ( { cores = \"8\"; } );\n"
         "};\n");
    for (int i = 0; i < l.d.nerrors; i++)
        print_message("error: %s\n", l.d.errors[i]);
    assert_int_equal(l.rc, SP_ECONFIG);
    assert_int_equal(l.d.nerrors, 3);
    assert_true(has(l.d.errors, l.d.nerrors, "test.cfg:5: processors.pc1[0].corse: unknown key"));
    assert_true(has(l.d.errors, l.d.nerrors, "test.cfg:6: processors.pc2[0].cores: expected an integer"));
    assert_true(has(l.d.errors, l.d.nerrors, "test.cfg:5: processors.pc1[0].cpuset: both cpuset and cores"));
    /* the wrongly typed entry is kept out of placement, without follow-on messages */
    assert_non_null(l.c.cfg);
    assert_int_equal(l.c.nprocs, 2);
    assert_false(l.c.procs[0].invalid);
    assert_true(l.c.procs[1].invalid);
    unload(&l);
}

/* processors.limitation.timeout.<stage> and the filcrypto backend's keys. */
static void test_timeouts_and_backend(void **state)
{
    (void)state;
    loaded l;
    load(&l, BASE "processors = { limitation = { timeout = { pc1 = \"20h\"; c2 = \"90s\"; }; };\n"
                  "  pc1 = ( { cores = 1; } ); c2 = ( { cores = 1; backend = \"filcrypto\"; "
                  "filcrypto = \"/opt/fc/libfilcrypto.so\"; } ); };\n");
    assert_int_equal(l.rc, SP_OK);
    assert_int_equal(l.c.limit_timeout_ms[WK_STAGE_PC1], 20ULL * 3600 * 1000);
    assert_int_equal(l.c.limit_timeout_ms[WK_STAGE_C2], 90000);
    assert_int_equal(l.c.limit_timeout_ms[WK_STAGE_PC2], 0);
    /* the worker applies the configured limit; unset stages keep the size-based default */
    assert_int_equal(wk_task_timeout_ms(&l.c, WK_STAGE_C2, 2048), 90000);
    assert_int_equal(wk_task_timeout_ms(&l.c, WK_STAGE_PC2, 2048),
                     wk_stage_timeout_ms(WK_STAGE_PC2, 2048));
    assert_int_equal(l.c.procs[1].backend, WK_BACKEND_FILCRYPTO);
    assert_string_equal(l.c.procs[1].filcrypto, "/opt/fc/libfilcrypto.so");
    unload(&l);
    expect_error(BASE "processors = { limitation = { timeout = { pc1 = \"10ms\"; }; }; };\n",
                 "test.cfg:4: processors.limitation.timeout.pc1");
    expect_error(BASE "processors = { limitation = { timeout = { pc3 = \"1h\"; }; }; };\n",
                 "processors.limitation.timeout.pc3");
    expect_warning(BASE "processors = { limitation = { timeout = { c1 = \"1h\"; }; }; };\n",
                   "test.cfg:4: processors.limitation.timeout.c1: stage c1 has no processors, so "
                   "its tasks run inside the worker and cannot be stopped at the timeout");
    expect_error(BASE "processors = { pc1 = ( { cores = 1; backend = \"filcrypto\"; } ); };\n",
                 "test.cfg:4: processors.pc1[0].backend: backend = \"filcrypto\" is only available "
                 "for c2 processors");
    expect_error(BASE "processors = { c2 = ( { cores = 1; filcrypto = \"/x.so\"; } ); };\n",
                 "test.cfg:4: processors.c2[0].filcrypto: filcrypto names a library but backend is "
                 "not \"filcrypto\"");
}

static void test_warnings(void **state)
{
    (void)state;
    expect_warning(MANAGER THREAD, "test.cfg: attached: no store attached");
    expect_warning(BASE "processors = { limitation = { concurrent = { pc1 = 4; }; }; };\n",
                   "test.cfg:4: processors.limitation.concurrent.pc1: 4 concurrent pc1 tasks allowed "
                   "but only 1 sealing threads exist");
}

/* ---- files and inherit -------------------------------------------------------------- */

static void test_inherit_and_classes(void **state)
{
    (void)state;
    char dir[] = "/tmp/sp-test-wkcfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char base[128], hw[128], child[128];
    snprintf(base, sizeof base, "%s/worker.cfg", dir);
    snprintf(hw, sizeof hw, "%s/hw", dir);
    snprintf(child, sizeof child, "%s/hw/box.cfg", dir);
    assert_int_equal(sp_mkdir_p(hw, 0755, NULL), SP_OK);
    const char *parent = BASE
        "sealing = { max_retries = 7; seal_interval = \"2s\"; };\n"
        "processors = { ext_locks = { gpu0 = 1; }; pc1 = ( { cores = 4; } ); };\n";
    const char *kid =
        "inherit = \"../worker.cfg\";\n"
        "sealing = { max_retries = 2; };\n"
        "processors = {\n"
        "  pc1 = ( { cores = 2; }, { cores = 3; } );\n"
        "  c2 = ( { cores = 1; locks = [ \"gpu0\", \"gpu9\" ]; } );\n"
        "};\n";
    assert_int_equal(sp_write_file_atomic(base, parent, strlen(parent), 0644, NULL), SP_OK);
    assert_int_equal(sp_write_file_atomic(child, kid, strlen(kid), 0644, NULL), SP_OK);
    wk_config c;
    wk_diags d = { 0 };
    sp_err err;
    assert_int_equal(wk_config_load(child, &c, &d, &err), SP_ECONFIG);
    /* the error names the child's file and line; the lock comes from the parent */
    assert_int_equal(d.nerrors, 1);
    assert_non_null(strstr(d.errors[0], "box.cfg:5: processors.c2[0].locks[1]: lock \"gpu9\""));
    assert_int_equal(c.sealing.max_retries, 2);          /* child overrides */
    assert_int_equal(c.sealing.seal_interval_ms, 2000);  /* parent's key kept */
    assert_int_equal(c.nprocs, 3);                       /* lists replace: 2 pc1 + 1 c2 */
    assert_int_equal(c.procs[0].cores, 2);
    assert_int_equal(c.nthreads, 1);
    wk_config_free(&c);
    wk_diags_free(&d);

    assert_int_equal(wk_config_load("/nonexistent/worker.cfg", &c, &d, &err), SP_ENOTFOUND);
    assert_null(c.cfg);
    assert_int_equal(d.nerrors, 1);
    wk_config_free(&c);
    wk_diags_free(&d);
    sp_remove_tree(dir, NULL);
}

static void test_shipped_configs(void **state)
{
    (void)state;
    const char *root = getenv("SP_ROOT");
    const char *files[] = { "config/worker.cfg", "config/hw/single-32c-1gpu.cfg",
                            "config/hw/dual-64c-2gpu.cfg", "config/hw/dev-2c.cfg" };
    const int nprocs[] = { 0, 7, 10, 3 };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", root && root[0] ? root : ".", files[i]);
        wk_config c;
        wk_diags d = { 0 };
        sp_err err;
        if (wk_config_load(path, &c, &d, &err) != SP_OK)
            fail_msg("%s: %s", path, err.msg);
        assert_int_equal(c.nprocs, nprocs[i]);
        assert_int_equal(d.nwarnings, 0);
        assert_string_equal(c.token_file, "/etc/sealpipe/worker.token");
        wk_config_free(&c);
        wk_diags_free(&d);
    }
}

/* Every key of the schema is documented in config/worker.cfg ("name = ...", commented
 * out or not). */
static void check_documented(const char *path, const sp_cfg_field *f, void *arg)
{
    const char *text = arg;
    if (!f->name)
        return;
    char want[96];
    snprintf(want, sizeof want, "%s =", f->name);
    /* stage names under limitation are listed once ("Stages: add_pieces, tree_d, ...") */
    bool listed = strstr(path, "limitation.") && strstr(text, f->name);
    if (!strstr(text, want) && !listed)
        fail_msg("config/worker.cfg does not document %s", path);
}

static void test_worker_cfg_documents_every_key(void **state)
{
    (void)state;
    const char *root = getenv("SP_ROOT");
    char path[4200];
    snprintf(path, sizeof path, "%s/config/worker.cfg", root && root[0] ? root : ".");
    char *text = NULL;
    size_t len;
    assert_int_equal(sp_read_file(path, 1 << 20, &text, &len, NULL), SP_OK);
    sp_config_schema_walk(wk_config_schema(), check_documented, text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_section),
        cmocka_unit_test(test_stage_names),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_placement_key_errors),
        cmocka_unit_test(test_section_errors),
        cmocka_unit_test(test_all_errors_collected),
        cmocka_unit_test(test_schema_and_semantic_errors_together),
        cmocka_unit_test(test_timeouts_and_backend),
        cmocka_unit_test(test_warnings),
        cmocka_unit_test(test_inherit_and_classes),
        cmocka_unit_test(test_shipped_configs),
        cmocka_unit_test(test_worker_cfg_documents_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
