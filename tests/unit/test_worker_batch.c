/* test_worker_batch.c — batched PC1 (wk_batcher.h): a full batch starts at once, a partial
 * one after batch_wait, a late arrival waits for the next batch, proofs never mix, one
 * member's error or cancel (waiting, or mid-batch) leaves the others alone, a crashed
 * batch fails every member as temporary and the retry works, stop fails waiting calls,
 * and the real pc1 stage answers a batch task per sector with the same pc1out and layer
 * bytes as single-sector PC1.
 *
 * The fake pc1 processor is this program, started as `/proc/self/exe fake-batch`: for a
 * batch task it waits for its sectors (each {"ms", "fail", "die", "name"}) and answers
 * each with {"name", "task", "n", "start", "end", "proof"} or its error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_batcher.h"
#include "wk_config.h"
#include "wk_processor.h"
#include "wk_stages.h"

/* libconfig keeps a buffer of a parse error in a static (see test_worker_config.c) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n";
}

/* ---- the fake batching processor ---------------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;

typedef struct fake_task {
    uint64_t id;
    cJSON *req;
    volatile int cancel[WK_BATCH_MAX];
    struct fake_task *next;
} fake_task;

static fake_task *fake_tasks;

static void fake_print(const char *line)
{
    pthread_mutex_lock(&fake_mu);
    fputs(line, stdout);
    fflush(stdout);
    pthread_mutex_unlock(&fake_mu);
}

static void *fake_run(void *arg)
{
    fake_task *ft = arg;
    cJSON *task = cJSON_GetObjectItem(ft->req, "task");
    const cJSON *sectors = cJSON_GetObjectItem(task, "sectors");
    /* a plain task (an entry with batch = 1) is one sector, answered on its own */
    bool plain = !sectors;
    cJSON *one = NULL;
    if (plain) {
        one = cJSON_CreateArray();
        cJSON_AddItemReferenceToArray(one, task);
        sectors = one;
    }
    int n = cJSON_GetArraySize(sectors);
    int64_t proof = -1;
    sp_json_opt_i64(task, -1, "proof", 0, 1000, -1, &proof, NULL);
    uint64_t start = now_ms(), ends[WK_BATCH_MAX] = { 0 };
    uint64_t ms[WK_BATCH_MAX];
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_GetArrayItem(sectors, i);
        bool die = false;
        sp_json_opt_bool(s, -1, "die", false, &die, NULL);
        if (die)
            _exit(3);
        sp_json_opt_u64(s, -1, "ms", 0, 100000, 50, &ms[i], NULL);
    }
    /* every sector runs until its time is up or it is cancelled */
    for (int left = n; left > 0;) {
        left = 0;
        for (int i = 0; i < n; i++) {
            if (ends[i])
                continue;
            if (__atomic_load_n(&ft->cancel[i], __ATOMIC_ACQUIRE) || now_ms() - start >= ms[i])
                ends[i] = now_ms();
            else
                left++;
        }
        usleep(5000);
    }
    cJSON *a = cJSON_CreateObject(), *out = cJSON_AddObjectToObject(a, "output");
    cJSON *arr = cJSON_AddArrayToObject(out, "sectors");
    sp_json_add_u64(a, "id", ft->id, NULL);
    for (int i = 0; i < n; i++) {
        const cJSON *s = cJSON_GetArrayItem(sectors, i);
        const char *fail = NULL, *name = "?";
        sp_json_opt_str(s, -1, "fail", 1, 64, NULL, &fail, NULL);
        sp_json_opt_str(s, -1, "name", 1, 64, "?", &name, NULL);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(arr, e);
        if (__atomic_load_n(&ft->cancel[i], __ATOMIC_ACQUIRE) || fail) {
            cJSON *err = cJSON_AddObjectToObject(e, "err");
            cJSON_AddStringToObject(err, "msg", fail ? "asked to fail" : "sector cancelled");
            cJSON_AddStringToObject(err, "level", fail ? fail : "temporary");
            cJSON_AddNumberToObject(err, "code", fail ? SP_EPROOF : SP_EBUSY);
            continue;
        }
        cJSON *o = cJSON_AddObjectToObject(e, "output");
        cJSON_AddStringToObject(o, "name", name);
        cJSON_AddNumberToObject(o, "task", (double)ft->id);
        cJSON_AddNumberToObject(o, "n", n);
        cJSON_AddNumberToObject(o, "proof", (double)proof);
        cJSON_AddNumberToObject(o, "start", (double)start);
        cJSON_AddNumberToObject(o, "end", (double)ends[i]);
    }
    if (plain) {
        /* {"id", "output": <the one sector's output or err>} */
        cJSON *e = cJSON_DetachItemFromArray(arr, 0);
        cJSON_DeleteItemFromObject(a, "output");
        cJSON *res = cJSON_GetObjectItem(e, "output");
        if (res) {
            cJSON_AddTrueToObject(res, "plain");
            cJSON_AddItemToObject(a, "output", cJSON_DetachItemFromObject(e, "output"));
        } else {
            cJSON_AddItemToObject(a, "err", cJSON_DetachItemFromObject(e, "err"));
        }
        cJSON_Delete(e);
        cJSON_Delete(one);
    }
    char *text = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    char *line = malloc(strlen(text) + 2);
    sprintf(line, "%s\n", text);
    fake_print(line);
    free(line);
    free(text);
    return NULL;
}

static int fake_main(void)
{
    char line[65536];
    snprintf(line, sizeof line, "{\"ready\":\"pc1\",\"pid\":%ld}\n", (long)getpid());
    fake_print(line);
    while (fgets(line, sizeof line, stdin)) {
        cJSON *req = cJSON_Parse(line);
        uint64_t id;
        if (!req)
            continue;
        if (sp_json_get_u64(req, -1, "cancel", 0, UINT64_MAX, &id, NULL) == SP_OK) {
            int64_t k = -1;
            sp_json_opt_i64(req, -1, "sector", 0, WK_BATCH_MAX - 1, -1, &k, NULL);
            pthread_mutex_lock(&fake_mu);
            for (fake_task *t = fake_tasks; t; t = t->next)
                for (int i = 0; t->id == id && i < WK_BATCH_MAX; i++)
                    if (k < 0 || k == i)
                        __atomic_store_n(&t->cancel[i], 1, __ATOMIC_RELEASE);
            pthread_mutex_unlock(&fake_mu);
            cJSON_Delete(req);
            continue;
        }
        fake_task *ft = calloc(1, sizeof *ft);
        sp_json_get_u64(req, -1, "id", 0, UINT64_MAX, &ft->id, NULL);
        ft->req = req;
        pthread_mutex_lock(&fake_mu);
        ft->next = fake_tasks;
        fake_tasks = ft;
        pthread_mutex_unlock(&fake_mu);
        pthread_t th;
        pthread_create(&th, NULL, fake_run, ft);
        pthread_detach(th);
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

typedef struct pool {
    wk_config cfg;
    wk_procs *p;
} pool;

#define HEAD "sector_manager = { url = \"http://127.0.0.1:1\"; token = \"t\"; };\n" \
             "sealing_thread = ( { location = \"/tmp/unused-t1\"; } );\n"

#define FAKE "bin = \"/proc/self/exe\"; args = [ \"fake-batch\" ]; cpuset = \"0\"; share = true; "

/* A pool of fake pc1 processors: `entries` is the pc1 list's entries. */
static void pool_start_list(pool *pl, const char *entries)
{
    char text[4096];
    snprintf(text, sizeof text, HEAD "processors = { pc1 = ( %s ); };\n", entries);
    memset(pl, 0, sizeof *pl);
    wk_diags d = { 0 };
    sp_err err;
    if (wk_config_load_string(text, "test.cfg", &pl->cfg, &d, &err) != SP_OK)
        fail_msg("config: %s", err.msg);
    wk_diags_free(&d);
    wk_procs_opts o = { .cfg = &pl->cfg, .backoff_ms = 20, .backoff_max_ms = 200,
                        .ready_timeout_ms = 5000, .term_grace_ms = 2000 };
    if (wk_procs_start(&o, &pl->p, &err) != SP_OK)
        fail_msg("start: %s", err.msg);
}

/* One fake pc1 processor: `extra` adds keys to its entry. */
static void pool_start(pool *pl, const char *extra)
{
    char entries[1024];
    snprintf(entries, sizeof entries, "{ " FAKE "%s }", extra);
    pool_start_list(pl, entries);
}

static void pool_free(pool *pl)
{
    wk_procs_free(pl->p);
    wk_config_free(&pl->cfg);
}

typedef struct call {
    pool *pl;
    const char *json;
    uint64_t delay_ms;               /* start after this long */
    uint64_t cancel_after_ms;        /* 0: never */
    volatile int cancel;
    bool use_leave;                  /* cancel_after_ms sets `leave` (a pause) instead */
    volatile int leave;
    cJSON *out;
    sp_code rc;
    wk_level level;
    sp_err err;
    uint64_t returned_ms;            /* since the call started */
} call;

static void *canceller(void *arg)
{
    call *c = arg;
    sp_sleep_ms(c->cancel_after_ms);
    __atomic_store_n(c->use_leave ? &c->leave : &c->cancel, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void *call_main(void *arg)
{
    call *c = arg;
    sp_sleep_ms(c->delay_ms);
    pthread_t th;
    if (c->cancel_after_ms)
        pthread_create(&th, NULL, canceller, c);
    cJSON *t = cJSON_Parse(c->json);
    wk_call_opts o = { .timeout_ms = 20000, .cancel = &c->cancel, .leave = &c->leave,
                       .label = "test" };
    uint64_t t0 = sp_now_ms();
    c->rc = wk_procs_call(c->pl->p, WK_STAGE_PC1, t, &o, &c->out, &c->level, &c->err);
    c->returned_ms = sp_now_ms() - t0;
    cJSON_Delete(t);
    if (c->cancel_after_ms)
        pthread_join(th, NULL);
    return NULL;
}

static void run_calls(call *c, int n)
{
    pthread_t th[16];
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, call_main, &c[i]);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
}

static void free_calls(call *c, int n)
{
    for (int i = 0; i < n; i++)
        cJSON_Delete(c[i].out);
}

static int64_t num(const call *c, const char *k)
{
    if (c->rc != SP_OK)
        fail_msg("call %s failed: %s", c->json, c->err.msg);
    const cJSON *v = cJSON_GetObjectItem(c->out, k);
    assert_non_null(v);
    return (int64_t)v->valuedouble;
}

/* ---- gathering ---------------------------------------------------------------------------- */

/* A pool whose config adds `limits` to processors (limitation, ...). */
static void pool_start_limits(pool *pl, const char *limits, const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text, HEAD "processors = { %s pc1 = ( { " FAKE "%s } ); };\n", limits,
             extra);
    memset(pl, 0, sizeof *pl);
    wk_diags d = { 0 };
    sp_err err;
    if (wk_config_load_string(text, "test.cfg", &pl->cfg, &d, &err) != SP_OK)
        fail_msg("config: %s", err.msg);
    wk_diags_free(&d);
    wk_procs_opts o = { .cfg = &pl->cfg, .backoff_ms = 20, .ready_timeout_ms = 5000 };
    if (wk_procs_start(&o, &pl->p, &err) != SP_OK)
        fail_msg("start: %s", err.msg);
}

/* Two calls with batch = 2 go out together at once, in one task, without batch_wait. */
static void test_full_batch(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"10min\";");
    call c[2] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":100,\"name\":\"a\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":100,\"name\":\"b\"}", .delay_ms = 50 },
    };
    run_calls(c, 2);
    assert_int_equal(num(&c[0], "n"), 2);
    assert_int_equal(num(&c[0], "task"), num(&c[1], "task"));
    assert_string_equal(cJSON_GetObjectItem(c[0].out, "name")->valuestring, "a");
    assert_string_equal(cJSON_GetObjectItem(c[1].out, "name")->valuestring, "b");
    assert_true(c[0].returned_ms < 5000);
    assert_true(wk_batch_enabled(&pl.cfg));
    wk_batcher_stats st;
    wk_batcher_stats_get(NULL, &st);
    assert_int_equal(st.batches, 0);
    pool_free(&pl);
    free_calls(c, 2);
}

/* One call with batch = 3 waits batch_wait, then goes alone. */
static void test_waited_partial(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 3; batch_wait = \"400ms\";");
    call c[1] = { { .pl = &pl, .json = "{\"proof\":5,\"ms\":10,\"name\":\"a\"}" } };
    run_calls(c, 1);
    assert_int_equal(num(&c[0], "n"), 1);
    assert_true(c[0].returned_ms >= 400);
    assert_true(c[0].returned_ms < 5000);
    pool_free(&pl);
    free_calls(c, 1);
}

/* A and B fill a batch; C arrives while it runs and waits for the next one (one slot),
 * which starts when the first ends, since C has waited its batch_wait by then. */
static void test_late_arrival(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"200ms\";");
    call c[3] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":800,\"name\":\"a\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":800,\"name\":\"b\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":10,\"name\":\"c\"}", .delay_ms = 300 },
    };
    run_calls(c, 3);
    assert_int_equal(num(&c[0], "task"), num(&c[1], "task"));
    assert_int_equal(num(&c[0], "n"), 2);
    assert_int_not_equal(num(&c[2], "task"), num(&c[0], "task"));
    assert_int_equal(num(&c[2], "n"), 1);
    assert_true(num(&c[2], "start") >= num(&c[0], "end"));
    pool_free(&pl);
    free_calls(c, 3);
}

/* A batch is one task: with two slots but limitation.concurrent.pc1 = 1, four calls make
 * two batches of two that never overlap, and the stage counts one task while one runs. */
static void test_batch_is_one_task(void **state)
{
    (void)state;
    pool pl;
    pool_start_limits(&pl, "limitation = { concurrent = { pc1 = 1; }; };",
                      "batch = 2; batch_wait = \"10min\"; concurrent = 2;");
    call c[4];
    for (int i = 0; i < 4; i++)
        c[i] = (call){ .pl = &pl, .json = "{\"proof\":5,\"ms\":600}", .delay_ms = 20u * i };
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, call_main, &c[i]);
    sp_sleep_ms(300);
    assert_int_equal(wk_procs_stage_running(pl.p, WK_STAGE_PC1), 1);
    wk_batcher_stats st;
    assert_true(wk_procs_batch_stats(pl.p, &st));
    assert_int_equal(st.running, 1);
    assert_int_equal(st.waiting, 2);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++)
        assert_int_equal(num(&c[i], "n"), 2);
    int first = 0;
    for (int i = 1; i < 4; i++)
        if (num(&c[i], "start") < num(&c[first], "start"))
            first = i;
    for (int i = 0; i < 4; i++)
        if (num(&c[i], "task") != num(&c[first], "task"))
            assert_true(num(&c[i], "start") >= num(&c[first], "end"));
    assert_true(wk_procs_batch_stats(pl.p, &st));
    assert_int_equal(st.batches, 2);
    assert_int_equal(st.full, 2);
    assert_int_equal(st.sectors, 4);
    pool_free(&pl);
    free_calls(c, 4);
}

/* Sectors of two proofs form their own batches, even when they arrive interleaved. */
static void test_mixed_proofs(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"10min\"; concurrent = 2;");
    call c[4] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":100,\"name\":\"a5\"}" },
        { .pl = &pl, .json = "{\"proof\":6,\"ms\":100,\"name\":\"a6\"}", .delay_ms = 30 },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":100,\"name\":\"b5\"}", .delay_ms = 60 },
        { .pl = &pl, .json = "{\"proof\":6,\"ms\":100,\"name\":\"b6\"}", .delay_ms = 90 },
    };
    run_calls(c, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(num(&c[i], "n"), 2);
        assert_int_equal(num(&c[i], "proof"), i % 2 ? 6 : 5);
    }
    assert_int_equal(num(&c[0], "task"), num(&c[2], "task"));
    assert_int_equal(num(&c[1], "task"), num(&c[3], "task"));
    assert_int_not_equal(num(&c[0], "task"), num(&c[1], "task"));
    pool_free(&pl);
    free_calls(c, 4);
}

/* Entries pull batches as their own settings allow: a batch = 1 entry takes the first
 * call alone (as a plain task) while the batching entry waits to fill; the next two form
 * its batch. */
static void test_mixed_entries(void **state)
{
    (void)state;
    pool pl;
    pool_start_list(&pl, "{ " FAKE "batch = 2; batch_wait = \"10min\"; }, { " FAKE " }");
    call c[3] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":600,\"name\":\"a\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":100,\"name\":\"b\"}", .delay_ms = 100 },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":100,\"name\":\"c\"}", .delay_ms = 200 },
    };
    run_calls(c, 3);
    assert_non_null(cJSON_GetObjectItem(c[0].out, "plain"));
    assert_int_equal(num(&c[0], "n"), 1);
    assert_null(cJSON_GetObjectItem(c[1].out, "plain"));
    assert_int_equal(num(&c[1], "n"), 2);
    assert_int_equal(num(&c[1], "task"), num(&c[2], "task"));
    pool_free(&pl);
    free_calls(c, 3);
}

/* A call running alone on a batch = 1 entry and cancelled has its whole (plain) task
 * cancelled in the child. */
static void test_cancel_plain(void **state)
{
    (void)state;
    pool pl;
    pool_start_list(&pl, "{ " FAKE "batch = 2; batch_wait = \"10min\"; }, { " FAKE " }");
    call c[1] = { { .pl = &pl, .json = "{\"proof\":5,\"ms\":20000,\"name\":\"a\"}",
                    .cancel_after_ms = 300 } };
    run_calls(c, 1);
    assert_int_equal(c[0].rc, SP_EBUSY);
    assert_string_equal(c[0].err.msg, "sector cancelled");
    assert_true(c[0].returned_ms < 4000);
    pool_free(&pl);
}

/* One member's permanent error is its own; its batch-mate succeeds. */
static void test_member_error(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"10min\";");
    call c[2] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":50,\"name\":\"a\",\"fail\":\"permanent\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":50,\"name\":\"b\"}" },
    };
    run_calls(c, 2);
    assert_int_equal(c[0].rc, SP_EPROOF);
    assert_int_equal(c[0].level, WK_LEVEL_PERMANENT);
    assert_string_equal(c[0].err.msg, "asked to fail");
    assert_null(c[0].out);
    assert_string_equal(cJSON_GetObjectItem(c[1].out, "name")->valuestring, "b");
    pool_free(&pl);
    free_calls(c, 2);
}

/* A call cancelled while it waits leaves at once; the next two still form a batch. */
static void test_cancel_waiting(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"10min\";");
    call c[1] = { { .pl = &pl, .json = "{\"proof\":5,\"name\":\"a\"}", .cancel_after_ms = 200 } };
    run_calls(c, 1);
    assert_int_equal(c[0].rc, SP_EBUSY);
    assert_int_equal(c[0].level, WK_LEVEL_TEMPORARY);
    assert_non_null(strstr(c[0].err.msg, "cancelled while waiting for a batch"));
    assert_true(c[0].returned_ms < 2000);
    call d[2] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":10,\"name\":\"b\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":10,\"name\":\"c\"}" },
    };
    run_calls(d, 2);
    assert_int_equal(num(&d[0], "n"), 2);
    assert_int_equal(num(&d[0], "task"), num(&d[1], "task"));
    pool_free(&pl);
    free_calls(d, 2);
}

/* A thread pausing leaves the queue (SP_ESTATE: nothing ran); one whose batch runs
 * stays in it and gets its result. */
static void test_leave_on_pause(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"10min\";");
    call c[1] = { { .pl = &pl, .json = "{\"proof\":5,\"name\":\"a\"}", .cancel_after_ms = 200,
                    .use_leave = true } };
    run_calls(c, 1);
    assert_int_equal(c[0].rc, SP_ESTATE);
    assert_non_null(strstr(c[0].err.msg, "the thread is pausing"));
    assert_true(c[0].returned_ms < 2000);
    call d[2] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":600,\"name\":\"b\"}", .cancel_after_ms = 200,
          .use_leave = true },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":600,\"name\":\"c\"}" },
    };
    run_calls(d, 2);
    assert_int_equal(num(&d[0], "n"), 2);
    assert_int_equal(num(&d[0], "task"), num(&d[1], "task"));
    pool_free(&pl);
    free_calls(d, 2);
}

/* A member cancelled mid-batch has only its sector cancelled in the child: it gets the
 * sector's "cancelled" error, and its batch-mate finishes normally. */
static void test_cancel_running(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"10min\";");
    call c[2] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":20000,\"name\":\"a\"}", .cancel_after_ms = 300 },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":1200,\"name\":\"b\"}" },
    };
    run_calls(c, 2);
    assert_int_equal(c[0].rc, SP_EBUSY);
    assert_string_equal(c[0].err.msg, "sector cancelled");
    assert_true(c[0].returned_ms < 4000);
    assert_int_equal(num(&c[1], "n"), 2);
    assert_true(num(&c[1], "end") - num(&c[1], "start") >= 1200);
    pool_free(&pl);
    free_calls(c, 2);
}

/* The child dies mid-batch: every member fails as temporary (naming the batch), and the
 * retried calls go through the restarted child. */
static void test_batch_crash(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 2; batch_wait = \"10min\";");
    call c[2] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":10,\"name\":\"a\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"name\":\"b\",\"die\":true}" },
    };
    run_calls(c, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(c[i].rc, SP_EIO);
        assert_int_equal(c[i].level, WK_LEVEL_TEMPORARY);
        assert_non_null(strstr(c[i].err.msg, "pc1: batch 1 (2 sectors): processor pc1[0]"));
    }
    call d[2] = {
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":10,\"name\":\"a\"}" },
        { .pl = &pl, .json = "{\"proof\":5,\"ms\":10,\"name\":\"b\"}" },
    };
    run_calls(d, 2);
    assert_int_equal(num(&d[0], "task"), num(&d[1], "task"));
    wk_proc_status ps[1];
    wk_procs_status(pl.p, ps, 1);
    assert_int_equal(ps[0].starts, 2);
    pool_free(&pl);
    free_calls(d, 2);
}

static void *stop_later(void *arg)
{
    sp_sleep_ms(300);
    wk_procs_stop(arg);
    return NULL;
}

/* Stopping the pool fails a call that waits for its batch, at once. */
static void test_stop_waiting(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "batch = 4; batch_wait = \"10min\";");
    pthread_t th;
    pthread_create(&th, NULL, stop_later, pl.p);
    call c[1] = { { .pl = &pl, .json = "{\"proof\":5,\"name\":\"a\"}" } };
    run_calls(c, 1);
    pthread_join(th, NULL);
    assert_int_equal(c[0].rc, SP_EBUSY);
    assert_non_null(strstr(c[0].err.msg, "the worker is stopping"));
    pool_free(&pl);
}

/* ---- the real stage ------------------------------------------------------------------------- */

static int64_t file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static bool same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = NULL, *y = NULL;
    bool same = sp_read_file(a, 1 << 20, &x, &na, NULL) == SP_OK &&
                sp_read_file(b, 1 << 20, &y, &nb, NULL) == SP_OK && na == nb &&
                memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* The pc1 stage answers a batch task per sector: a malformed member gets its own
 * permanent error; the two good 2KiB sectors get exactly the pc1out and layer files of
 * single-sector PC1 with the same inputs, and one cancelled before the task ran does not
 * start. */
static void test_stage_batch(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_worker_batch.XXXXXX";
    assert_non_null(mkdtemp(dir));
    /* proof 5: 2KiB, API 1.1 (research/porep.md) */
    char prover[65], ticket[65], comm_d[65], f[512], task[4096], single[2048];
    uint8_t v[32];
    for (int i = 0; i < 32; i++)
        v[i] = (uint8_t)(i * 7 + 1);
    sp_hex_encode(v, 32, prover);
    memset(v, 0x11, 32);
    sp_hex_encode(v, 32, ticket);
    assert_int_equal(pf_zero_comm(2048, v, NULL), PF_OK);
    sp_hex_encode(v, 32, comm_d);
    snprintf(f, sizeof f, "\"prover_id\":\"%s\",\"ticket\":\"%s\",\"comm_d\":\"%s\"", prover,
             ticket, comm_d);
    snprintf(task, sizeof task, "{\"proof\":5,\"parent_cache\":\"%s/parents\",\"sectors\":["
             "{\"cache\":\"%s/c1\",\"sector_id\":1,%s},"
             "{\"cache\":\"%s/bad\",\"sector_id\":2},"
             "{\"cache\":\"%s/c3\",\"sector_id\":3,%s},"
             "{\"cache\":\"%s/c4\",\"sector_id\":4,%s}]}", dir, dir, f, dir, dir, f, dir, f);
    cJSON *t = cJSON_Parse(task), *out = NULL;
    assert_non_null(t);
    volatile int cancels[4] = { 0, 0, 0, 1 };
    wk_stage_env env = { .slots = 1, .sector_cancel = cancels, .nsector_cancel = 4 };
    wk_level lv;
    sp_err err;
    if (wk_stage_run(WK_STAGE_PC1, t, &env, &out, &lv, &err) != SP_OK)
        fail_msg("batch: %s", err.msg);
    cJSON_Delete(t);
    cJSON *arr = cJSON_GetObjectItem(out, "sectors");
    assert_int_equal(cJSON_GetArraySize(arr), 4);
    const cJSON *bad = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 1), "err");
    assert_non_null(bad);
    assert_string_equal(cJSON_GetObjectItem(bad, "level")->valuestring, "permanent");
    assert_non_null(strstr(cJSON_GetObjectItem(bad, "msg")->valuestring, "task: sectors[1]"));
    const cJSON *cancelled = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 3), "err");
    assert_non_null(cancelled);
    assert_string_equal(cJSON_GetObjectItem(cancelled, "level")->valuestring, "temporary");
    assert_int_equal(cJSON_GetObjectItem(cancelled, "code")->valueint, SP_EBUSY);
    assert_string_equal(cJSON_GetObjectItem(cancelled, "msg")->valuestring,
                        "pc1: cancelled before its batch started");
    for (int s = 0; s < 3; s += 2) {
        const cJSON *o = cJSON_GetObjectItem(cJSON_GetArrayItem(arr, s), "output");
        assert_non_null(o);
        /* the same sector alone */
        snprintf(single, sizeof single, "{\"proof\":5,\"parent_cache\":\"%s/parents\","
                 "\"cache\":\"%s/single%d\",\"sector_id\":%d,%s}", dir, dir, s + 1, s + 1, f);
        cJSON *st = cJSON_Parse(single), *so = NULL;
        if (wk_stage_run(WK_STAGE_PC1, st, NULL, &so, &lv, &err) != SP_OK)
            fail_msg("single: %s", err.msg);
        cJSON_Delete(st);
        assert_string_equal(cJSON_GetObjectItem(o, "pc1out")->valuestring,
                            cJSON_GetObjectItem(so, "pc1out")->valuestring);
        cJSON_Delete(so);
        for (int layer = 1; layer <= 2; layer++) {
            char a[512], b[512];
            snprintf(a, sizeof a, "%s/c%d/sc-02-data-layer-%d.dat", dir, s + 1, layer);
            snprintf(b, sizeof b, "%s/single%d/sc-02-data-layer-%d.dat", dir, s + 1, layer);
            assert_int_equal(file_size(a), 2048);
            assert_true(same_file(a, b));
        }
    }
    cJSON_Delete(out);
    sp_remove_tree(dir, NULL);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "fake-batch"))
        return fake_main();
    sp_log_init("test_worker_batch", SP_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_batch),     cmocka_unit_test(test_waited_partial),
        cmocka_unit_test(test_late_arrival),   cmocka_unit_test(test_batch_is_one_task),   cmocka_unit_test(test_mixed_proofs),
        cmocka_unit_test(test_member_error),   cmocka_unit_test(test_cancel_waiting), cmocka_unit_test(test_leave_on_pause),
        cmocka_unit_test(test_cancel_running), cmocka_unit_test(test_batch_crash),
        cmocka_unit_test(test_stop_waiting),   cmocka_unit_test(test_mixed_entries),  cmocka_unit_test(test_cancel_plain),
        cmocka_unit_test(test_stage_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
