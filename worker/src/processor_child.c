/* processor_child.c — `seal-worker processor <stage>`, the child side of a processor:
 * bind to the placement the worker put in the environment, say ready (with the binding
 * the kernel confirms), then run every task that arrives on stdin on its own thread and
 * answer on stdout (protocol in wk_processor.h).  Logs go to stderr, which the worker
 * shares. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_bind.h"
#include "wk_processor.h"
#include "wk_stages.h"
#include "wk_topology.h"

typedef struct child_task {
    uint64_t id;
    int slot, slots;
    cJSON *task;
    volatile int cancel;
    volatile int sector_cancel[WK_BATCH_MAX];  /* a pc1 batch: {"cancel":id,"sector":k} */
    pthread_t thread;
    struct child_ctx *ctx;
    struct child_task *next;
} child_task;

typedef struct child_ctx {
    wk_stage stage;
    bool bound;
    bool hugepages;
    wk_backend backend;
    pf_filcrypto *filcrypto;     /* backend filcrypto: loaded before the ready line */
    pthread_mutex_t mu;          /* tasks, running */
    pthread_cond_t cv;
    pthread_mutex_t out_mu;      /* one answer line at a time on stdout */
    child_task *tasks;
    int running;
} child_ctx;

static void write_line(child_ctx *x, const char *text)
{
    size_t len = strlen(text);
    pthread_mutex_lock(&x->out_mu);
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(1, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;   /* the worker is gone; the read loop will notice */
        off += (size_t)w;
    }
    pthread_mutex_unlock(&x->out_mu);
}

static void answer(child_ctx *x, uint64_t id, cJSON *output, sp_code rc, wk_level level,
                   const sp_err *err)
{
    cJSON *a = cJSON_CreateObject();
    char *text = NULL;
    if (a && sp_json_add_u64(a, "id", id, NULL) == SP_OK) {
        if (rc == SP_OK) {
            cJSON_AddItemToObject(a, "output", output);
            output = NULL;
        } else {
            cJSON *e = cJSON_AddObjectToObject(a, "err");
            if (e) {
                cJSON_AddStringToObject(e, "msg", err->msg);
                cJSON_AddStringToObject(e, "level", level == WK_LEVEL_PERMANENT ? "permanent"
                                                                                 : "temporary");
                cJSON_AddNumberToObject(e, "code", rc);
            }
        }
        text = cJSON_PrintUnformatted(a);
    }
    cJSON_Delete(output);
    cJSON_Delete(a);
    if (!text) {
        char fallback[160];
        snprintf(fallback, sizeof fallback, "{\"id\":%llu,\"err\":{\"msg\":\"out of memory "
                 "encoding the answer\",\"level\":\"temporary\"}}\n", (unsigned long long)id);
        write_line(x, fallback);
        return;
    }
    size_t n = strlen(text);
    char *line = realloc(text, n + 2);
    if (line) {
        memcpy(line + n, "\n", 2);
        write_line(x, line);
        free(line);
    } else {
        free(text);
    }
}

static void *task_main(void *arg)
{
    child_task *t = arg;
    child_ctx *x = t->ctx;
    wk_stage_env env = { .slot = t->slot, .slots = t->slots, .bound = x->bound,
                         .hugepages = x->hugepages, .backend = x->backend,
                         .filcrypto = x->filcrypto, .cancel = &t->cancel,
                         .sector_cancel = t->sector_cancel, .nsector_cancel = WK_BATCH_MAX };
    cJSON *output = NULL;
    wk_level level;
    sp_err err;
    sp_err_clear(&err);
    uint64_t t0 = sp_now_ms();
    sp_code rc = wk_stage_run(x->stage, t->task, &env, &output, &level, &err);
    if (rc == SP_OK)
        SP_INFO("task %llu done in %.1fs", (unsigned long long)t->id,
                (double)(sp_now_ms() - t0) / 1000.0);
    else
        SP_WARN("task %llu failed (%s): %s", (unsigned long long)t->id, wk_level_name(level),
                err.msg);
    answer(x, t->id, output, rc, level, &err);
    pthread_mutex_lock(&x->mu);
    for (child_task **pp = &x->tasks; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    x->running--;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    cJSON_Delete(t->task);
    free(t);
    return NULL;
}

static void start_task(child_ctx *x, cJSON *req)
{
    uint64_t id;
    int64_t slot = 0, slots = 1;
    sp_err err;
    if (sp_json_get_u64(req, -1, "id", 0, UINT64_MAX, &id, &err) != SP_OK) {
        SP_WARN("ignored a request without a valid id: %s", err.msg);
        return;
    }
    if (sp_json_opt_i64(req, -1, "slot", 0, 255, 0, &slot, &err) != SP_OK ||
        sp_json_opt_i64(req, -1, "slots", 1, 256, 1, &slots, &err) != SP_OK) {
        answer(x, id, NULL, SP_EINVAL, WK_LEVEL_PERMANENT, &err);
        return;
    }
    child_task *t = calloc(1, sizeof *t);
    cJSON *task = cJSON_DetachItemFromObjectCaseSensitive(req, "task");
    if (!t || !task) {
        free(t);
        cJSON_Delete(task);
        sp_fail(&err, task ? SP_ENOMEM : SP_EINVAL, task ? "out of memory" : "no \"task\"");
        answer(x, id, NULL, err.code, task ? WK_LEVEL_TEMPORARY : WK_LEVEL_PERMANENT, &err);
        return;
    }
    t->id = id;
    t->slot = (int)slot;
    t->slots = (int)slots;
    t->task = task;
    t->ctx = x;
    pthread_mutex_lock(&x->mu);
    t->next = x->tasks;
    x->tasks = t;
    x->running++;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&t->thread, &at, task_main, t);
    pthread_attr_destroy(&at);
    if (e != 0) {
        x->tasks = t->next;
        x->running--;
        pthread_mutex_unlock(&x->mu);
        cJSON_Delete(t->task);
        free(t);
        sp_fail(&err, SP_ENOMEM, "cannot start a thread: %s", strerror(e));
        answer(x, id, NULL, SP_ENOMEM, WK_LEVEL_TEMPORARY, &err);
        return;
    }
    pthread_mutex_unlock(&x->mu);
}

/* sector < 0: the whole task; else only that sector of a batch task. */
static void cancel_task(child_ctx *x, uint64_t id, int64_t sector)
{
    pthread_mutex_lock(&x->mu);
    for (child_task *t = x->tasks; t; t = t->next) {
        if (t->id != id)
            continue;
        if (sector < 0) {
            __atomic_store_n(&t->cancel, 1, __ATOMIC_SEQ_CST);
            SP_INFO("task %llu: cancel requested", (unsigned long long)id);
        } else {
            __atomic_store_n(&t->sector_cancel[sector], 1, __ATOMIC_SEQ_CST);
            SP_INFO("task %llu: cancel of its sector %lld requested (the others go on)",
                    (unsigned long long)id, (long long)sector);
        }
    }
    pthread_mutex_unlock(&x->mu);
}

static void handle_request(child_ctx *x, const char *line, size_t len)
{
    cJSON *req = NULL;
    sp_err err;
    if (sp_json_parse(line, len, 64, &req, &err) != SP_OK || !cJSON_IsObject(req)) {
        SP_WARN("ignored a request that is not a JSON object: %s", req ? "not an object" : err.msg);
        cJSON_Delete(req);
        return;
    }
    uint64_t id;
    if (sp_json_param(req, -1, "cancel")) {
        int64_t sector = -1;
        if (sp_json_get_u64(req, -1, "cancel", 0, UINT64_MAX, &id, NULL) == SP_OK &&
            sp_json_opt_i64(req, -1, "sector", 0, WK_BATCH_MAX - 1, -1, &sector, &err) == SP_OK)
            cancel_task(x, id, sector);
        else
            SP_WARN("ignored a cancel without a valid id or sector");
    } else {
        start_task(x, req);
    }
    cJSON_Delete(req);
}

/* Loads libfilcrypto before saying ready, so that a missing library, symbol or version is
 * a failed start naming the path (a {"fatal"} line the worker records), never a failure
 * in the middle of a sector. */
static int load_filcrypto(child_ctx *x, wk_stage stage)
{
    pf_error pe;
    if (pf_filcrypto_open(NULL, stage == WK_STAGE_C2 ? 1u << PF_STAGE_C2 : 0, &x->filcrypto,
                          &pe) == PF_OK) {
        SP_INFO("libfilcrypto %s loaded (%s)", pf_filcrypto_path(x->filcrypto),
                pf_filcrypto_version(x->filcrypto));
        return 0;
    }
    SP_ERROR("backend filcrypto: %s", pe.msg);
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    char msg[700];
    snprintf(msg, sizeof msg, "backend filcrypto: %s", pe.msg);
    if (o && cJSON_AddStringToObject(o, "fatal", msg))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text) {
        write_line(x, text);
        write_line(x, "\n");
        free(text);
    }
    return 1;
}

/* Binds the process as the worker placed it; fills the description for the ready line. */
static int bind_from_env(char *desc, size_t len, bool *bound)
{
    const char *cpus = getenv("SEALPIPE_PROC_CPUSET");
    const char *numa_s = getenv("SEALPIPE_PROC_NUMA");
    *bound = false;
    snprintf(desc, len, "not bound (no placement)");
    if (!cpus || !*cpus)
        return 0;
    wk_topology topo = { 0 };
    wk_topo_source src = { .kind = WK_TOPO_LIVE, .no_gpus = true, .no_opencl = true };
    hwloc_bitmap_t set = NULL;
    wk_bind_report rep;
    sp_err err;
    int rc = 1;
    int numa = numa_s && *numa_s ? atoi(numa_s) : -1;
    if (wk_topology_load(&topo, &src, &err) != SP_OK || wk_cpulist_parse(cpus, &set, &err) ||
        wk_bind_self(&topo, set, numa, false, &rep, &err) != SP_OK) {
        SP_ERROR("cannot bind to CPUs %s%s%s: %s", cpus, numa >= 0 ? ", NUMA node " : "",
                 numa >= 0 ? numa_s : "", err.msg);
        goto done;
    }
    wk_bind_describe(&rep, desc, len);
    *bound = true;
    rc = 0;
done:
    if (set)
        hwloc_bitmap_free(set);
    wk_topology_free(&topo);
    return rc;
}

int wk_processor_main(wk_stage stage)
{
    char name[64];
    const char *idx = getenv("SEALPIPE_PROC_INDEX");
    snprintf(name, sizeof name, "seal-worker %s[%s]", wk_stage_name(stage), idx ? idx : "?");
    sp_log_init(name, SP_LOG_INFO);
    signal(SIGPIPE, SIG_IGN);
    child_ctx x = { .stage = stage };
    const char *be = getenv("SEALPIPE_PROC_BACKEND");
    x.backend = be && !strcmp(be, "filcrypto") ? WK_BACKEND_FILCRYPTO : WK_BACKEND_NATIVE;
    const char *hp = getenv("SEALPIPE_PROC_HUGEPAGES");
    x.hugepages = hp && !strcmp(hp, "1");
    char binding[512];
    if (bind_from_env(binding, sizeof binding, &x.bound) != 0)
        return 1;
    pthread_mutex_init(&x.mu, NULL);
    pthread_mutex_init(&x.out_mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    if (x.backend == WK_BACKEND_FILCRYPTO && load_filcrypto(&x, stage) != 0)
        return 1;

    cJSON *ready = cJSON_CreateObject();
    cJSON_AddStringToObject(ready, "ready", wk_stage_name(stage));
    cJSON_AddNumberToObject(ready, "pid", (double)getpid());
    cJSON_AddStringToObject(ready, "binding", binding);
    char *text = cJSON_PrintUnformatted(ready);
    cJSON_Delete(ready);
    if (!text)
        return 1;
    char line0[1024];
    snprintf(line0, sizeof line0, "%s\n", text);
    free(text);
    write_line(&x, line0);
    SP_INFO("ready: %s", binding);

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n)
            handle_request(&x, line, (size_t)n);
    }
    free(line);
    /* the worker closed our input: it stopped or died.  Ask running tasks to stop (PC1
     * resumes and PC2 restarts later), give them a moment, then leave. */
    pthread_mutex_lock(&x.mu);
    for (child_task *t = x.tasks; t; t = t->next)
        __atomic_store_n(&t->cancel, 1, __ATOMIC_SEQ_CST);
    uint64_t deadline = sp_now_ms() + 3000;
    while (x.running > 0 && sp_now_ms() < deadline) {
        pthread_mutex_unlock(&x.mu);
        sp_sleep_ms(20);
        pthread_mutex_lock(&x.mu);
    }
    int left = x.running;
    pthread_mutex_unlock(&x.mu);
    if (left) {
        /* task threads still hold the context: leave without tearing it down */
        SP_INFO("input closed; exiting with %d task%s unfinished", left, left == 1 ? "" : "s");
        _exit(0);
    }
    pthread_cond_destroy(&x.cv);
    pthread_mutex_destroy(&x.out_mu);
    pthread_mutex_destroy(&x.mu);
    pf_filcrypto_close(x.filcrypto);
    return 0;
}
