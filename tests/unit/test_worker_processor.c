/* test_worker_processor.c — processor children: the protocol (ready line, ids, answers
 * out of order, damocles' plain ready line and err_msg), pinning, per-child concurrency,
 * the per-stage limit, staggered starts, ext_locks shared by two stages, a child that
 * dies mid-task (temporary error, restart), one that hangs past the timeout (killed,
 * restarted), one that prints garbage, one that never says ready, one that cannot start,
 * cancel, stop with calls in flight, in-process stages, and the real `seal-worker
 * processor` child running tree_d.
 *
 * The fake processors are this test program itself, started as
 * `/proc/self/exe fake-proc MODE` (see fake_main). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_config.h"
#include "wk_placement.h"
#include "wk_processor.h"
#include "wk_topology.h"

/* libconfig keeps a buffer of a parse error in a static (see test_worker_config.c) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n";
}

/* ---- the fake processor --------------------------------------------------------------- */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static pthread_mutex_t fake_out = PTHREAD_MUTEX_INITIALIZER;

static void fake_print(const char *line)
{
    pthread_mutex_lock(&fake_out);
    fputs(line, stdout);
    fflush(stdout);
    pthread_mutex_unlock(&fake_out);
}

typedef struct fake_req {
    cJSON *req;
    int plain;
} fake_req;

/* Answers one request as its task asks: {ms, die, hang, fail, garbage}. */
static void *fake_task(void *arg)
{
    fake_req *fr = arg;
    cJSON *req = fr->req;
    uint64_t id = 0, ms = 0, garbage = 0;
    sp_json_get_u64(req, -1, "id", 0, UINT64_MAX, &id, NULL);
    const cJSON *t = cJSON_GetObjectItem(req, "task");
    sp_json_opt_u64(t, -1, "ms", 0, 100000, 50, &ms, NULL);
    sp_json_opt_u64(t, -1, "garbage", 0, 100, 0, &garbage, NULL);
    const char *fail = NULL;
    sp_json_opt_str(t, -1, "fail", 1, 64, NULL, &fail, NULL);
    bool die = false, hang = false;
    sp_json_opt_bool(t, -1, "die", false, &die, NULL);
    sp_json_opt_bool(t, -1, "hang", false, &hang, NULL);
    int64_t slot = -1;
    sp_json_opt_i64(req, -1, "slot", 0, 1000, -1, &slot, NULL);
    uint64_t start = now_us();
    if (die)
        _exit(3);
    while (hang)
        sleep(1);
    usleep((useconds_t)(ms * 1000));
    for (uint64_t i = 0; i < garbage; i++)
        fake_print(i % 2 ? "{\"id\":\"not a number\"}\n" : "this is not json \x01\x02\n");
    char line[512];
    if (fail && fr->plain)
        snprintf(line, sizeof line, "{\"id\":%llu,\"err_msg\":\"plain failure\"}\n",
                 (unsigned long long)id);
    else if (fail)
        snprintf(line, sizeof line, "{\"id\":%llu,\"err\":{\"msg\":\"asked to fail\",\"level\":"
                 "\"%s\",\"code\":%d}}\n", (unsigned long long)id, fail, (int)SP_EPROOF);
    else {
        cpu_set_t set;
        sched_getaffinity(0, sizeof set, &set);
        snprintf(line, sizeof line, "{\"id\":%llu,\"output\":{\"pid\":%ld,\"start\":%llu,"
                 "\"end\":%llu,\"slot\":%lld,\"ncpus\":%d,\"cpu0\":%d,\"stage\":\"%s\"}}\n",
                 (unsigned long long)id, (long)getpid(), (unsigned long long)start,
                 (unsigned long long)now_us(), (long long)slot, CPU_COUNT(&set),
                 CPU_ISSET(0, &set) ? 0 : -1, getenv("SEALPIPE_PROC_STAGE"));
    }
    fake_print(line);
    cJSON_Delete(req);
    free(fr);
    return NULL;
}

static int fake_main(const char *mode)
{
    if (!strcmp(mode, "badexit"))
        return 2;
    if (!strcmp(mode, "fatal")) {
        /* what a filcrypto processor says when its library is missing */
        fake_print("{\"fatal\":\"backend filcrypto: cannot load /nope/libfilcrypto.so: No such "
                   "file or directory\"}\n");
        return 1;
    }
    if (!strcmp(mode, "noready")) {
        for (;;)
            sleep(1);
    }
    int plain = !strcmp(mode, "plain");
    const char *stage = getenv("SEALPIPE_PROC_STAGE");
    char line[4096];
    if (plain)
        snprintf(line, sizeof line, "%s processor ready\n", stage);
    else
        snprintf(line, sizeof line, "{\"ready\":\"%s\",\"pid\":%ld,\"binding\":\"fake %s\"}\n",
                 stage, (long)getpid(), mode);
    if (!strcmp(mode, "garbage-first"))
        fake_print("garbage before the ready line\n");
    fake_print(line);
    while (fgets(line, sizeof line, stdin)) {
        cJSON *req = cJSON_Parse(line);
        if (!req)
            continue;
        uint64_t cancel;
        if (sp_json_get_u64(req, -1, "cancel", 0, UINT64_MAX, &cancel, NULL) == SP_OK) {
            char a[160];
            snprintf(a, sizeof a, "{\"id\":%llu,\"err\":{\"msg\":\"cancelled\",\"level\":"
                     "\"temporary\"}}\n", (unsigned long long)cancel);
            fake_print(a);
            cJSON_Delete(req);
            continue;
        }
        fake_req *fr = malloc(sizeof *fr);
        fr->req = req;
        fr->plain = plain;
        pthread_t th;
        pthread_create(&th, NULL, fake_task, fr);
        pthread_detach(th);
    }
    return 0;
}

/* ---- helpers -------------------------------------------------------------------------- */

typedef struct pool {
    wk_config cfg;
    wk_procs *p;
} pool;

#define HEAD "sector_manager = { url = \"http://127.0.0.1:1\"; token = \"t\"; };\n" \
             "sealing_thread = ( { location = \"/tmp/unused-t1\"; } );\n"
#define FAKE(mode) "bin = \"/proc/self/exe\"; args = [ \"fake-proc\", \"" mode "\" ]; " \
                   "cpuset = \"0\"; share = true;"

static void pool_start(pool *pl, const char *processors, const wk_procs_opts *extra)
{
    char text[4096];
    snprintf(text, sizeof text, HEAD "processors = { %s };\n", processors);
    memset(pl, 0, sizeof *pl);
    wk_diags d = { 0 };
    sp_err err;
    if (wk_config_load_string(text, "test.cfg", &pl->cfg, &d, &err) != SP_OK)
        fail_msg("config: %s", err.msg);
    wk_diags_free(&d);
    wk_procs_opts o = { .cfg = &pl->cfg, .backoff_ms = 20, .backoff_max_ms = 200,
                        .ready_timeout_ms = 5000, .term_grace_ms = 2000 };
    if (extra) {
        o.plan = extra->plan;
        if (extra->ready_timeout_ms)
            o.ready_timeout_ms = extra->ready_timeout_ms;
    }
    if (wk_procs_start(&o, &pl->p, &err) != SP_OK)
        fail_msg("start: %s", err.msg);
}

static void pool_free(pool *pl)
{
    wk_procs_free(pl->p);
    wk_config_free(&pl->cfg);
}

static cJSON *task_of(const char *json)
{
    cJSON *t = cJSON_Parse(json);
    assert_non_null(t);
    return t;
}

/* Calls and expects success; returns the output. */
static cJSON *call_ok(pool *pl, wk_stage st, const char *json)
{
    cJSON *t = task_of(json), *out = NULL;
    wk_level lv;
    sp_err err;
    wk_call_opts o = { .timeout_ms = 20000 };
    sp_code rc = wk_procs_call(pl->p, st, t, &o, &out, &lv, &err);
    cJSON_Delete(t);
    if (rc != SP_OK)
        fail_msg("call failed: %s", err.msg);
    assert_non_null(out);
    return out;
}

static int64_t num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    assert_non_null(v);
    return (int64_t)v->valuedouble;
}

/* Runs n calls of stage[i] at once; returns the outputs (NULL for failures). */
typedef struct par_call {
    pool *pl;
    wk_stage stage;
    const char *json;
    cJSON *out;
    sp_code rc;
} par_call;

static void *par_main(void *arg)
{
    par_call *c = arg;
    cJSON *t = cJSON_Parse(c->json);
    wk_level lv;
    wk_call_opts o = { .timeout_ms = 20000 };
    c->rc = wk_procs_call(c->pl->p, c->stage, t, &o, &c->out, &lv, NULL);
    cJSON_Delete(t);
    return NULL;
}

static void run_parallel(par_call *c, int n)
{
    pthread_t th[32];
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, par_main, &c[i]);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < n; i++)
        assert_int_equal(c[i].rc, SP_OK);
}

/* Most calls whose [start, end) intervals overlap at one time. */
static int max_overlap(par_call *c, int n)
{
    int best = 0;
    for (int i = 0; i < n; i++) {
        int64_t t = num(c[i].out, "start");
        int k = 0;
        for (int j = 0; j < n; j++)
            if (num(c[j].out, "start") <= t && t < num(c[j].out, "end"))
                k++;
        if (k > best)
            best = k;
    }
    return best;
}

static void free_par(par_call *c, int n)
{
    for (int i = 0; i < n; i++)
        cJSON_Delete(c[i].out);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "pc1 = ( { " FAKE("echo") " } );", NULL);
    cJSON *out = call_ok(&pl, WK_STAGE_PC1, "{\"ms\":10}");
    wk_proc_status st[4];
    assert_int_equal(wk_procs_status(pl.p, st, 4), 1);
    assert_string_equal(st[0].state, "ready");
    assert_int_equal(num(out, "pid"), st[0].pid);
    assert_string_equal(cJSON_GetObjectItem(out, "stage")->valuestring, "pc1");
    assert_int_equal(num(out, "slot"), 0);
    assert_string_equal(st[0].binding, "fake echo");
    assert_int_equal(st[0].starts, 1);
    assert_true(wk_procs_has_stage(pl.p, WK_STAGE_PC1));
    assert_false(wk_procs_has_stage(pl.p, WK_STAGE_PC2));
    cJSON_Delete(out);
    /* an error answer keeps its level and code */
    cJSON *t = task_of("{\"fail\":\"permanent\"}");
    wk_level lv;
    sp_err err;
    assert_int_equal(wk_procs_call(pl.p, WK_STAGE_PC1, t, NULL, &out, &lv, &err), SP_EPROOF);
    assert_int_equal(lv, WK_LEVEL_PERMANENT);
    assert_string_equal(err.msg, "asked to fail");
    assert_null(out);
    cJSON_Delete(t);
    pool_free(&pl);
}

/* damocles-style programs: "pc1 processor ready" and {"err_msg": ...} */
static void test_plain_protocol(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "c2 = ( { " FAKE("plain") " } );", NULL);
    cJSON *out = call_ok(&pl, WK_STAGE_C2, "{\"ms\":1}");
    cJSON_Delete(out);
    cJSON *t = task_of("{\"fail\":\"x\"}");
    wk_level lv;
    sp_err err;
    assert_int_equal(wk_procs_call(pl.p, WK_STAGE_C2, t, NULL, &out, &lv, &err), SP_EIO);
    assert_int_equal(lv, WK_LEVEL_TEMPORARY);
    assert_string_equal(err.msg, "plain failure");
    cJSON_Delete(t);
    pool_free(&pl);
}

static void test_child_concurrency(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "pc2 = ( { " FAKE("echo") " concurrent = 2; } );", NULL);
    par_call c[5];
    for (int i = 0; i < 5; i++)
        c[i] = (par_call){ .pl = &pl, .stage = WK_STAGE_PC2, .json = "{\"ms\":250}" };
    run_parallel(c, 5);
    assert_int_equal(max_overlap(c, 5), 2);
    /* slots 0 and 1 were both used, nothing else */
    int used[3] = { 0 };
    for (int i = 0; i < 5; i++) {
        int64_t s = num(c[i].out, "slot");
        assert_true(s >= 0 && s < 2);
        used[s]++;
    }
    assert_true(used[0] > 0 && used[1] > 0);
    free_par(c, 5);
    pool_free(&pl);
}

static void test_stage_limit(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "limitation = { concurrent = { pc1 = 3; }; };"
                    "pc1 = ( { " FAKE("echo") " concurrent = 2; }, { " FAKE("echo")
                    " concurrent = 2; } );", NULL);
    par_call c[7];
    for (int i = 0; i < 7; i++)
        c[i] = (par_call){ .pl = &pl, .stage = WK_STAGE_PC1, .json = "{\"ms\":300}" };
    run_parallel(c, 7);
    assert_int_equal(max_overlap(c, 7), 3);
    /* both children got work */
    int64_t pid0 = num(c[0].out, "pid");
    bool other = false;
    for (int i = 1; i < 7; i++)
        other |= num(c[i].out, "pid") != pid0;
    assert_true(other);
    assert_int_equal(wk_procs_stage_running(pl.p, WK_STAGE_PC1), 0);
    free_par(c, 7);
    pool_free(&pl);
}

static void test_staggered(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "limitation = { staggered = { tree_d = \"1s\"; }; };"
                    "tree_d = ( { " FAKE("echo") " concurrent = 3; } );", NULL);
    par_call c[3];
    for (int i = 0; i < 3; i++)
        c[i] = (par_call){ .pl = &pl, .stage = WK_STAGE_TREE_D, .json = "{\"ms\":10}" };
    run_parallel(c, 3);
    int64_t s[3];
    for (int i = 0; i < 3; i++)
        s[i] = num(c[i].out, "start");
    /* sorted starts are at least ~1s apart */
    for (int i = 0; i < 3; i++)
        for (int j = i + 1; j < 3; j++) {
            int64_t d = s[i] > s[j] ? s[i] - s[j] : s[j] - s[i];
            assert_true(d >= 950000);
        }
    free_par(c, 3);
    pool_free(&pl);
}

/* One GPU shared by pc2 and c2 through a lock of capacity 1: never both at once. */
static void test_ext_lock(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "ext_locks = { gpu0 = 1; };"
                    "pc2 = ( { " FAKE("echo") " locks = [ \"gpu0\" ]; } );"
                    "c2 = ( { " FAKE("echo") " locks = [ \"gpu0\" ]; } );", NULL);
    par_call c[6];
    for (int i = 0; i < 6; i++)
        c[i] = (par_call){ .pl = &pl, .stage = i % 2 ? WK_STAGE_C2 : WK_STAGE_PC2,
                           .json = "{\"ms\":150}" };
    run_parallel(c, 6);
    assert_int_equal(max_overlap(c, 6), 1);
    free_par(c, 6);
    /* without the lock the two stages overlap */
    pool_free(&pl);
    pool_start(&pl, "pc2 = ( { " FAKE("echo") " } ); c2 = ( { " FAKE("echo") " } );", NULL);
    for (int i = 0; i < 2; i++)
        c[i] = (par_call){ .pl = &pl, .stage = i ? WK_STAGE_C2 : WK_STAGE_PC2,
                           .json = "{\"ms\":400}" };
    run_parallel(c, 2);
    assert_int_equal(max_overlap(c, 2), 2);
    free_par(c, 2);
    pool_free(&pl);
}

static void wait_ready(pool *pl, int starts)
{
    wk_proc_status st[1];
    for (int i = 0; i < 500; i++) {
        wk_procs_status(pl->p, st, 1);
        if (!strcmp(st[0].state, "ready") && st[0].starts >= starts)
            return;
        sp_sleep_ms(10);
    }
    fail_msg("processor not ready (state %s, starts %d)", st[0].state, st[0].starts);
}

static void test_child_dies(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "pc1 = ( { " FAKE("echo") " concurrent = 2; } );", NULL);
    wait_ready(&pl, 1);
    /* two tasks in flight; one kills the child: both fail as temporary */
    par_call c[2] = { { .pl = &pl, .stage = WK_STAGE_PC1, .json = "{\"ms\":3000}" },
                      { .pl = &pl, .stage = WK_STAGE_PC1, .json = "{\"ms\":200,\"die\":true}" } };
    pthread_t th[2];
    pthread_create(&th[0], NULL, par_main, &c[0]);
    sp_sleep_ms(100);
    pthread_create(&th[1], NULL, par_main, &c[1]);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    assert_int_equal(c[0].rc, SP_EIO);
    assert_int_equal(c[1].rc, SP_EIO);
    wk_proc_status st[1];
    wk_procs_status(pl.p, st, 1);
    assert_non_null(strstr(st[0].last_error, "exited with status 3"));
    /* it comes back and serves again */
    cJSON *out = call_ok(&pl, WK_STAGE_PC1, "{\"ms\":1}");
    wk_procs_status(pl.p, st, 1);
    assert_int_equal(st[0].starts, 2);
    assert_int_equal(num(out, "pid"), st[0].pid);
    cJSON_Delete(out);
    assert_int_equal(wk_procs_stage_running(pl.p, WK_STAGE_PC1), 0);
    pool_free(&pl);
}

static void test_hung_child(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "c1 = ( { " FAKE("echo") " } );", NULL);
    wait_ready(&pl, 1);
    wk_proc_status st[1];
    wk_procs_status(pl.p, st, 1);
    pid_t first = st[0].pid;
    cJSON *t = task_of("{\"hang\":true}"), *out = NULL;
    wk_level lv;
    sp_err err;
    wk_call_opts o = { .timeout_ms = 400, .label = "s-t01000-1" };
    uint64_t t0 = sp_now_ms();
    assert_int_equal(wk_procs_call(pl.p, WK_STAGE_C1, t, &o, &out, &lv, &err), SP_ETIMEOUT);
    assert_true(sp_now_ms() - t0 >= 400);
    assert_int_equal(lv, WK_LEVEL_TEMPORARY);
    assert_non_null(strstr(err.msg, "gave no answer within 400ms and was killed"));
    cJSON_Delete(t);
    /* the hung process is gone and a new one serves */
    assert_int_equal(kill(first, 0), -1);
    out = call_ok(&pl, WK_STAGE_C1, "{\"ms\":1}");
    assert_true(num(out, "pid") != first);
    cJSON_Delete(out);
    wk_procs_status(pl.p, st, 1);
    assert_non_null(strstr(st[0].last_error, "signal 9"));
    pool_free(&pl);
}

static void test_garbage(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "pc1 = ( { " FAKE("garbage-first") " } );", NULL);
    /* garbage lines around the answer are ignored; the answer still arrives */
    cJSON *out = call_ok(&pl, WK_STAGE_PC1, "{\"ms\":1,\"garbage\":6}");
    cJSON_Delete(out);
    wk_proc_status st[1];
    wk_procs_status(pl.p, st, 1);
    assert_int_equal(st[0].starts, 1);
    pool_free(&pl);
}

static void test_never_ready(void **state)
{
    (void)state;
    pool pl;
    wk_procs_opts extra = { .ready_timeout_ms = 200 };
    pool_start(&pl, "pc1 = ( { " FAKE("noready") " } );", &extra);
    wk_proc_status st[1];
    for (int i = 0; i < 300; i++) {
        wk_procs_status(pl.p, st, 1);
        if (st[0].starts >= 2)
            break;
        sp_sleep_ms(10);
    }
    assert_true(st[0].starts >= 2);
    assert_non_null(strstr(st[0].last_error, "no ready line within 200ms"));
    pool_free(&pl);
}

static void test_cannot_start(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "pc1 = ( { " FAKE("badexit") " } );", NULL);
    cJSON *t = task_of("{}"), *out = NULL;
    wk_level lv;
    sp_err err;
    uint64_t t0 = sp_now_ms();
    assert_int_equal(wk_procs_call(pl.p, WK_STAGE_PC1, t, NULL, &out, &lv, &err), SP_EBUSY);
    assert_true(sp_now_ms() - t0 < 10000);
    assert_int_equal(lv, WK_LEVEL_TEMPORARY);
    assert_non_null(strstr(err.msg, "no processor of this stage can start"));
    assert_non_null(strstr(err.msg, "exited with status 2"));
    cJSON_Delete(t);
    pool_free(&pl);
}

/* A child that cannot work says why ({"fatal"}) and exits: after its restarts fail, calls
 * of the stage fail at once with that reason (not just an exit status). */
static void test_fatal_line(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "c2 = ( { " FAKE("fatal") " } );", NULL);
    cJSON *t = task_of("{}"), *out = NULL;
    wk_level lv;
    sp_err err;
    assert_int_equal(wk_procs_call(pl.p, WK_STAGE_C2, t, NULL, &out, &lv, &err), SP_EBUSY);
    assert_int_equal(lv, WK_LEVEL_TEMPORARY);
    assert_non_null(strstr(err.msg, "no processor of this stage can start"));
    assert_non_null(strstr(err.msg, "cannot load /nope/libfilcrypto.so"));
    wk_proc_status st[1];
    wk_procs_status(pl.p, st, 1);
    assert_non_null(strstr(st[0].last_error, "exited with status 1: backend filcrypto: cannot load "
                                             "/nope/libfilcrypto.so"));
    cJSON_Delete(t);
    pool_free(&pl);
}

typedef struct cancel_arg {
    volatile int *flag;
} cancel_arg;

static void *set_later(void *arg)
{
    cancel_arg *a = arg;
    sp_sleep_ms(200);
    __atomic_store_n(a->flag, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_cancel(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "pc2 = ( { " FAKE("echo") " } );", NULL);
    volatile int flag = 0;
    cancel_arg a = { &flag };
    pthread_t th;
    pthread_create(&th, NULL, set_later, &a);
    cJSON *t = task_of("{\"ms\":10000}"), *out = NULL;
    wk_level lv;
    sp_err err;
    wk_call_opts o = { .cancel = &flag };
    uint64_t t0 = sp_now_ms();
    sp_code rc = wk_procs_call(pl.p, WK_STAGE_PC2, t, &o, &out, &lv, &err);
    pthread_join(th, NULL);
    assert_int_not_equal(rc, SP_OK);
    assert_true(sp_now_ms() - t0 < 5000);
    assert_string_equal(err.msg, "cancelled");
    cJSON_Delete(t);
    pool_free(&pl);
}

static void *stop_later(void *arg)
{
    sp_sleep_ms(300);
    wk_procs_stop(arg);
    return NULL;
}

static void test_stop_in_flight(void **state)
{
    (void)state;
    pool pl;
    pool_start(&pl, "pc1 = ( { " FAKE("echo") " } );", NULL);
    pthread_t th;
    pthread_create(&th, NULL, stop_later, pl.p);
    cJSON *t = task_of("{\"hang\":true}"), *out = NULL;
    wk_level lv;
    sp_err err;
    sp_code rc = wk_procs_call(pl.p, WK_STAGE_PC1, t, NULL, &out, &lv, &err);
    pthread_join(th, NULL);
    assert_int_equal(rc, SP_EIO);
    assert_int_equal(lv, WK_LEVEL_TEMPORARY);
    assert_non_null(strstr(err.msg, "the worker is stopping"));
    /* later calls are refused at once */
    assert_int_equal(wk_procs_call(pl.p, WK_STAGE_PC1, t, NULL, &out, &lv, &err), SP_EBUSY);
    wk_proc_status st[1];
    wk_procs_status(pl.p, st, 1);
    assert_string_equal(st[0].state, "stopped");
    assert_int_equal(st[0].pid, 0);
    cJSON_Delete(t);
    pool_free(&pl);
}

/* A placed processor is pinned to its cpuset before it runs (sched_setaffinity). */
static void test_pinned(void **state)
{
    (void)state;
    cpu_set_t mine;
    sched_getaffinity(0, sizeof mine, &mine);
    int first = -1;
    for (int i = 0; i < CPU_SETSIZE && first < 0; i++)
        if (CPU_ISSET(i, &mine))
            first = i;
    char procs[512];
    snprintf(procs, sizeof procs, "pc1 = ( { bin = \"/proc/self/exe\"; args = [ \"fake-proc\", "
             "\"echo\" ]; cpuset = \"%d\"; } );", first);
    char text[2048];
    snprintf(text, sizeof text, HEAD "processors = { %s };\n", procs);
    wk_config cfg = { 0 };
    wk_diags d = { 0 };
    wk_topology topo = { 0 };
    wk_plan plan = { 0 };
    wk_topo_source src = { .kind = WK_TOPO_LIVE, .no_gpus = true, .no_opencl = true };
    sp_err err;
    assert_int_equal(wk_config_load_string(text, "test.cfg", &cfg, &d, &err), SP_OK);
    assert_int_equal(wk_topology_load(&topo, &src, &err), SP_OK);
    if (wk_plan_build(&cfg, &topo, &plan, &err) != SP_OK)
        fail_msg("plan: %s", err.msg);
    wk_procs_opts o = { .cfg = &cfg, .plan = &plan, .backoff_ms = 20 };
    pool pl = { .p = NULL };
    assert_int_equal(wk_procs_start(&o, &pl.p, &err), SP_OK);
    cJSON *out = call_ok(&pl, WK_STAGE_PC1, "{\"ms\":1}");
    assert_int_equal(num(out, "ncpus"), 1);
    if (first == 0)
        assert_int_equal(num(out, "cpu0"), 0);
    cJSON_Delete(out);
    wk_procs_free(pl.p);
    wk_plan_free(&plan);
    wk_topology_free(&topo);
    wk_diags_free(&d);
    wk_config_free(&cfg);
}

/* A stage without processors runs in the calling thread: tree_d of an empty 2KiB staged
 * file is the 2KiB zero commitment (research/porep.md: CommD of an empty sector). */
static void test_in_process(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_worker_processor.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char staged[256], task[1024];
    snprintf(staged, sizeof staged, "%s/staged", dir);
    assert_int_equal(sp_write_file_atomic(staged, "", 0, 0644, NULL), SP_OK);
    snprintf(task, sizeof task, "{\"proof\":5,\"staged\":\"%s\",\"cache\":\"%s/cache\"}", staged,
             dir);
    pool pl;
    pool_start(&pl, "pc1 = ( { " FAKE("echo") " } );", NULL);
    cJSON *out = call_ok(&pl, WK_STAGE_TREE_D, task);
    uint8_t want[32];
    char hex[65];
    assert_int_equal(pf_zero_comm(2048, want, NULL), PF_OK);
    sp_hex_encode(want, 32, hex);
    assert_string_equal(cJSON_GetObjectItem(out, "comm_d")->valuestring, hex);
    cJSON_Delete(out);
    pool_free(&pl);
    sp_remove_tree(dir, NULL);
}

/* The real child: `seal-worker processor tree_d` answers the same as in-process. */
static void test_real_child(void **state)
{
    (void)state;
    const char *bin = getenv("SP_BIN");
    char exe[512];
    snprintf(exe, sizeof exe, "%s/seal-worker", bin ? bin : "bin");
    if (access(exe, X_OK) != 0)
        skip();
    char dir[] = "/tmp/test_worker_processor.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char staged[256], task[1024], procs[1024];
    snprintf(staged, sizeof staged, "%s/staged", dir);
    assert_int_equal(sp_write_file_atomic(staged, "", 0, 0644, NULL), SP_OK);
    snprintf(task, sizeof task, "{\"proof\":6,\"staged\":\"%s\",\"cache\":\"%s/cache\"}", staged,
             dir);
    snprintf(procs, sizeof procs, "tree_d = ( { bin = \"%s\"; args = [ \"processor\", "
             "\"tree_d\" ]; cpuset = \"0\"; } );", exe);
    pool pl;
    pool_start(&pl, procs, NULL);
    cJSON *out = call_ok(&pl, WK_STAGE_TREE_D, task);
    uint8_t want[32];
    char hex[65];
    assert_int_equal(pf_zero_comm(8 << 20, want, NULL), PF_OK);
    sp_hex_encode(want, 32, hex);
    assert_string_equal(cJSON_GetObjectItem(out, "comm_d")->valuestring, hex);
    cJSON_Delete(out);
    wk_proc_status st[1];
    wk_procs_status(pl.p, st, 1);
    assert_non_null(strstr(st[0].binding, "not bound"));
    /* a bad task is a permanent error from the child */
    cJSON *t = task_of("{\"proof\":99,\"staged\":\"x\",\"cache\":\"y\"}");
    wk_level lv;
    sp_err err;
    assert_int_equal(wk_procs_call(pl.p, WK_STAGE_TREE_D, t, NULL, &out, &lv, &err), SP_EINVAL);
    assert_int_equal(lv, WK_LEVEL_PERMANENT);
    assert_non_null(strstr(err.msg, "proof 99 is not a registered seal proof"));
    cJSON_Delete(t);
    pool_free(&pl);
    sp_remove_tree(dir, NULL);
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "fake-proc"))
        return fake_main(argv[2]);
    sp_log_init("test_worker_processor", SP_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_plain_protocol),
        cmocka_unit_test(test_child_concurrency), cmocka_unit_test(test_stage_limit),
        cmocka_unit_test(test_staggered),       cmocka_unit_test(test_ext_lock),
        cmocka_unit_test(test_child_dies),      cmocka_unit_test(test_hung_child),
        cmocka_unit_test(test_garbage),         cmocka_unit_test(test_never_ready),
        cmocka_unit_test(test_cannot_start),
        cmocka_unit_test(test_fatal_line),    cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_stop_in_flight),  cmocka_unit_test(test_pinned),
        cmocka_unit_test(test_in_process),      cmocka_unit_test(test_real_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
