/* batcher.c — batched PC1: the queue of PC1 calls waiting for a batch, the dispatcher
 * thread that decides when a batch starts, and one runner thread per running batch that
 * sends it as one processor task and hands every member its own answer (wk_batcher.h).
 *
 * One mutex guards the queue, the batches and the members.  A member belongs to its
 * caller until the caller leaves a running batch (cancel); from then on the batch frees
 * it when the task ends.  Callbacks of the caller (on_state) run on the caller's thread
 * only, never under the mutex. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_batcher.h"
#include "wk_stages.h"

typedef struct batch batch;

typedef struct member {
    const cJSON *task;               /* the caller's task; only read while it waits */
    int proof;
    char label[64];
    uint64_t since_ms;
    uint64_t timeout_ms;
    batch *batch;                    /* set when its batch forms */
    int pos;                         /* its index in the batch's sectors */
    bool done;
    bool cancelled;                  /* its sector was cancelled in the batch */
    bool left;                       /* its caller has gone: the batch frees it */
    cJSON *output;
    sp_code code;
    wk_level level;
    char msg[SP_ERR_MSG_MAX];
    struct member *next;             /* queue order */
} member;

typedef struct entry {
    const wk_proc_cfg *cfg;
    char name[32];                   /* "pc1[0]" */
    int size;                        /* N */
    uint64_t wait_ms;
    int slots;
    int running;
} entry;

struct batch {
    wk_batcher *b;
    entry *e;
    bool plain;                      /* batch = 1: the member's own task */
    uint64_t no;
    int proof;
    int n;
    member *m[WK_BATCH_MAX];
    cJSON *task;                     /* built when it forms (the members' tasks copied) */
    char why[96];
    uint64_t timeout_ms;
    volatile int cancel;             /* whole task: every member cancelled */
    volatile int part_cancel[WK_BATCH_MAX];
    pid_t pid;
    bool running;                    /* the task reached a child */
    bool finished;                   /* its thread is done with the batch: join it */
    pthread_t thread;
    struct batch *next;
};

struct wk_batcher {
    wk_procs *procs;
    entry *entries;
    int nentries;
    int limit;                       /* batches at once in all; 0: the entries' slots */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    member *queue;
    batch *batches;                  /* running or finished-not-joined */
    bool stopping;
    bool dispatcher_joinable;
    pthread_t dispatcher;
    wk_batcher_stats stats;
};

static void cv_wait_ms(wk_batcher *b, uint64_t ms)
{
    sp_cond_wait_ms(&b->cv, &b->mu, ms);
}

bool wk_batch_enabled(const wk_config *cfg)
{
    for (int i = 0; cfg && i < cfg->nprocs; i++)
        if (cfg->procs[i].stage == WK_STAGE_PC1 && !cfg->procs[i].invalid &&
            cfg->procs[i].batch > 1)
            return true;
    return false;
}

/* ---- the queue (under mu) ------------------------------------------------------------- */

static void unqueue(wk_batcher *b, member *m)
{
    for (member **pp = &b->queue; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    m->next = NULL;
    b->stats.waiting--;
}

/* Whether entry e may start a batch of the proof whose oldest waiting call is m, now;
 * else lowers *wake_ms to when it may. */
static bool proof_ready(const entry *e, const member *m, uint64_t now, bool *full,
                        uint64_t *wake_ms)
{
    int count = 0;
    for (const member *x = m; x && count < e->size; x = x->next)
        count += x->proof == m->proof;
    uint64_t due = m->since_ms + e->wait_ms;
    if (count >= e->size || now >= due) {
        *full = count >= e->size;
        return true;
    }
    if (due - now < *wake_ms)
        *wake_ms = due - now;
    return false;
}

/* The entry and proof whose batch may start now (returns the entry, NULL when none);
 * *wake_ms: when to look again. */
static entry *ready_batch(wk_batcher *b, uint64_t now, int *proof, bool *full,
                          uint64_t *wake_ms)
{
    *wake_ms = 1000;
    int running = 0;
    for (int i = 0; i < b->nentries; i++)
        running += b->entries[i].running;
    if (b->limit > 0 && running >= b->limit)
        return NULL;
    for (int i = 0; i < b->nentries; i++) {
        entry *e = &b->entries[i];
        if (e->running >= e->slots)
            continue;
        /* the queue is in arrival order: the first call of a proof is its oldest */
        for (member *m = b->queue; m; m = m->next) {
            bool seen = false;
            for (member *x = b->queue; x != m && !seen; x = x->next)
                seen = x->proof == m->proof;
            if (!seen && proof_ready(e, m, now, full, wake_ms)) {
                *proof = m->proof;
                return e;
            }
        }
    }
    return NULL;
}

static cJSON *batch_task(batch *bt)
{
    cJSON *t = cJSON_CreateObject();
    cJSON *arr = t ? cJSON_AddArrayToObject(t, "sectors") : NULL;
    if (!arr || sp_json_add_i64(t, "proof", bt->proof, NULL) != SP_OK)
        goto fail;
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(bt->m[0]->task, "parent_cache");
    if (cJSON_IsString(pc) && !cJSON_AddStringToObject(t, "parent_cache", pc->valuestring))
        goto fail;
    for (int i = 0; i < bt->n; i++) {
        cJSON *d = cJSON_Duplicate(bt->m[i]->task, 1);
        if (!d || !cJSON_AddItemToArray(arr, d)) {
            cJSON_Delete(d);
            goto fail;
        }
    }
    return t;
fail:
    cJSON_Delete(t);
    return NULL;
}

static void *runner_main(void *arg);

/* Takes up to N waiting members of proof into a new batch for entry e and starts its
 * thread.  False when out of memory (nothing changed). */
static bool start_batch(wk_batcher *b, entry *e, int proof, bool full, uint64_t now)
{
    batch *bt = calloc(1, sizeof *bt);
    if (!bt) {
        SP_ERROR("pc1 batch: out of memory forming a batch; trying again in 1s");
        return false;
    }
    bt->b = b;
    bt->e = e;
    bt->plain = e->size == 1;
    bt->proof = proof;
    uint64_t oldest = now;
    for (member *m = b->queue, *next; m && bt->n < e->size; m = next) {
        next = m->next;
        if (m->proof != proof)
            continue;
        if (m->since_ms < oldest)
            oldest = m->since_ms;
        bt->m[bt->n] = m;
        if (m->timeout_ms > bt->timeout_ms)
            bt->timeout_ms = m->timeout_ms;
        bt->n++;
    }
    bt->task = bt->plain ? cJSON_Duplicate(bt->m[0]->task, 1) : batch_task(bt);
    if (!bt->task) {
        SP_ERROR("pc1 batch: out of memory building a batch task; trying again in 1s");
        free(bt);
        return false;
    }
    /* the labeler may run the sectors in turn, so the batch gets each one's time */
    bt->timeout_ms *= (uint64_t)bt->n;
    for (int i = 0; i < bt->n; i++) {
        unqueue(b, bt->m[i]);
        bt->m[i]->batch = bt;
        bt->m[i]->pos = i;
    }
    bt->no = ++b->stats.batches;
    b->stats.sectors += (uint64_t)bt->n;
    if (full) {
        b->stats.full++;
        snprintf(bt->why, sizeof bt->why, "full (%d of %d)", bt->n, e->size);
    } else {
        b->stats.waited++;
        snprintf(bt->why, sizeof bt->why, "waited %.1fs (batch_wait %.1fs, %d of %d)",
                 (double)(now - oldest) / 1000.0, (double)e->wait_ms / 1000.0, bt->n,
                 e->size);
    }
    e->running++;
    bt->next = b->batches;
    b->batches = bt;
    if (pthread_create(&bt->thread, NULL, runner_main, bt) != 0) {
        /* every member fails as temporary: its thread retries PC1 later */
        SP_ERROR("pc1 batch %llu: cannot start its thread; its sectors retry PC1 later",
                 (unsigned long long)bt->no);
        for (int i = 0; i < bt->n; i++) {
            member *m = bt->m[i];
            m->code = SP_ENOMEM;
            m->level = WK_LEVEL_TEMPORARY;
            snprintf(m->msg, sizeof m->msg, "pc1: batch %llu: cannot start a thread for it",
                     (unsigned long long)bt->no);
            m->done = true;
        }
        b->batches = bt->next;
        e->running--;
        cJSON_Delete(bt->task);
        free(bt);
        pthread_cond_broadcast(&b->cv);
    }
    return true;
}

/* Joins and frees batches whose thread has finished (under mu; unlocks meanwhile). */
static void reap_batches(wk_batcher *b, bool all)
{
    for (;;) {
        batch *bt = NULL;
        for (batch **pp = &b->batches; *pp; pp = &(*pp)->next)
            if ((*pp)->finished) {
                bt = *pp;
                *pp = bt->next;
                break;
            }
        if (!bt) {
            if (!all || !b->batches)
                return;
            cv_wait_ms(b, 100);
            continue;
        }
        pthread_t th = bt->thread;
        pthread_mutex_unlock(&b->mu);
        pthread_join(th, NULL);
        free(bt);
        pthread_mutex_lock(&b->mu);
    }
}

static void *dispatcher_main(void *arg)
{
    wk_batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->stopping) {
        reap_batches(b, false);
        uint64_t now = sp_now_ms(), wake = 1000;
        bool full = false;
        int proof = -1;
        entry *e = ready_batch(b, now, &proof, &full, &wake);
        if (e && start_batch(b, e, proof, full, now))
            continue;
        if (e)
            wake = 1000;
        cv_wait_ms(b, wake ? wake : 1);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* ---- running a batch ---------------------------------------------------------------------- */

static void batch_on_state(void *ctx, bool running, pid_t pid)
{
    batch *bt = ctx;
    wk_batcher *b = bt->b;
    if (!running)
        return;
    pthread_mutex_lock(&b->mu);
    bt->running = true;
    bt->pid = pid;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

/* Fills member i's answer from the batch's output (under mu). */
static void member_answer(batch *bt, int i, cJSON *sectors)
{
    member *m = bt->m[i];
    cJSON *a = cJSON_GetArrayItem(sectors, i);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(a, "err");
    cJSON *out = cJSON_GetObjectItemCaseSensitive(a, "output");
    if (cJSON_IsObject(e)) {
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(e, "level");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "code");
        m->level = cJSON_IsString(lv) && !strcmp(lv->valuestring, "permanent")
                       ? WK_LEVEL_PERMANENT
                       : WK_LEVEL_TEMPORARY;
        m->code = cJSON_IsNumber(k) && k->valueint > 0 && k->valueint < SP_CODE_COUNT
                      ? (sp_code)k->valueint
                      : (m->level == WK_LEVEL_PERMANENT ? SP_EPROOF : SP_EIO);
        snprintf(m->msg, sizeof m->msg, "%s", cJSON_IsString(msg) ? msg->valuestring
                                                                    : "(no message)");
    } else if (cJSON_IsObject(out)) {
        m->output = cJSON_DetachItemViaPointer(a, out);
        m->code = SP_OK;
        m->level = WK_LEVEL_NONE;
    } else {
        m->code = SP_EIO;
        m->level = WK_LEVEL_TEMPORARY;
        snprintf(m->msg, sizeof m->msg, "pc1: batch %llu: the processor's answer has no result "
                 "for this sector (position %d of %d); PC1 will be retried",
                 (unsigned long long)bt->no, i + 1, bt->n);
    }
}

static void *runner_main(void *arg)
{
    batch *bt = arg;
    wk_batcher *b = bt->b;
    char names[600] = "";
    size_t used = 0;
    for (int i = 0; i < bt->n && used + 70 < sizeof names; i++)
        used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                 bt->m[i]->label);
    char label[64];
    snprintf(label, sizeof label, "pc1 batch %llu", (unsigned long long)bt->no);
    SP_INFO("%s starts on %s: %d sector%s of proof %d (%s), %s", label, bt->e->name, bt->n,
            bt->n == 1 ? "" : "s", bt->proof, names, bt->why);
    wk_call_opts o = { .timeout_ms = bt->timeout_ms, .cancel = &bt->cancel,
                       .part_cancel = bt->plain ? NULL : bt->part_cancel, .nparts = bt->n,
                       .label = bt->plain ? bt->m[0]->label : label, .only = bt->e->cfg,
                       .on_state = batch_on_state, .ctx = bt };
    cJSON *out = NULL;
    wk_level level = WK_LEVEL_NONE;
    sp_err err;
    sp_err_clear(&err);
    uint64_t t0 = sp_now_ms();
    sp_code rc = wk_procs_call(b->procs, WK_STAGE_PC1, bt->task, &o, &out, &level, &err);
    cJSON *sectors = cJSON_GetObjectItemCaseSensitive(out, "sectors");
    if (rc == SP_OK && !bt->plain &&
        (!cJSON_IsArray(sectors) || cJSON_GetArraySize(sectors) != bt->n)) {
        rc = sp_fail(&err, SP_EIO, "the processor answered the batch without a \"sectors\" "
                     "array of %d results", bt->n);
        level = WK_LEVEL_TEMPORARY;
    }
    int ok = 0, failed = 0, left = 0;
    char failures[900] = "";
    size_t fused = 0;
    pthread_mutex_lock(&b->mu);
    for (int i = 0; i < bt->n; i++) {
        member *m = bt->m[i];
        if (rc == SP_OK && bt->plain) {
            m->output = out;
            out = NULL;
            m->code = SP_OK;
        } else if (rc != SP_OK && bt->plain) {
            m->code = rc;
            m->level = level == WK_LEVEL_NONE ? wk_stage_level(rc) : level;
            snprintf(m->msg, sizeof m->msg, "%s", err.msg);
        } else if (rc != SP_OK) {
            m->code = rc;
            m->level = level == WK_LEVEL_NONE ? wk_stage_level(rc) : level;
            snprintf(m->msg, sizeof m->msg, "pc1: batch %llu (%d sectors): %.440s",
                     (unsigned long long)bt->no, bt->n, err.msg);
        } else {
            member_answer(bt, i, sectors);
        }
        if (m->code == SP_OK) {
            ok++;
        } else {
            failed++;
            if (fused + 80 < sizeof failures)
                fused += (size_t)snprintf(failures + fused, sizeof failures - fused,
                                          "; %s: %.160s", m->label, m->msg);
        }
        if (m->left) {
            left++;
            cJSON_Delete(m->output);
            free(m);
            bt->m[i] = NULL;
        } else {
            m->done = true;
        }
    }
    bt->e->running--;
    bt->finished = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    double secs = (double)(sp_now_ms() - t0) / 1000.0;
    if (failed)
        SP_WARN("%s ended in %.1fs: %d done, %d failed%s%s", label, secs, ok, failed,
                left ? " (cancelled members left)" : "", failures);
    else
        SP_INFO("%s ended in %.1fs: %d done, 0 failed", label, secs, ok);
    cJSON_Delete(out);
    cJSON_Delete(bt->task);
    bt->task = NULL;
    return NULL;
}

/* ---- the calls ------------------------------------------------------------------------------ */

static sp_code finish(member *m, cJSON **output, wk_level *level, sp_err *err)
{
    sp_code rc = m->code;
    *output = m->output;
    *level = m->level;
    if (rc != SP_OK)
        sp_fail(err, rc, "%s", m->msg);
    free(m);
    return rc;
}

sp_code wk_batcher_call(wk_batcher *b, const cJSON *task, const wk_call_opts *o,
                        cJSON **output, wk_level *level, sp_err *err)
{
    static const wk_call_opts none = { 0 };
    if (!o)
        o = &none;
    *output = NULL;
    *level = WK_LEVEL_TEMPORARY;
    int64_t proof;
    if (sp_json_get_i64(task, -1, "proof", 0, 1000, &proof, err) != SP_OK) {
        *level = WK_LEVEL_PERMANENT;
        return sp_err_prefix(err, "pc1: task");
    }
    member *m = calloc(1, sizeof *m);
    if (!m)
        return sp_fail(err, SP_ENOMEM, "pc1: out of memory");
    m->task = task;
    m->proof = (int)proof;
    m->timeout_ms = o->timeout_ms;
    snprintf(m->label, sizeof m->label, "%s", o->label ? o->label : "a sector");
    if (o->on_state)
        o->on_state(o->ctx, false, 0);
    pthread_mutex_lock(&b->mu);
    if (b->stopping) {
        pthread_mutex_unlock(&b->mu);
        free(m);
        return sp_fail(err, SP_EBUSY, "pc1: the worker is stopping");
    }
    m->since_ms = sp_now_ms();
    member **tail = &b->queue;
    while (*tail)
        tail = &(*tail)->next;
    *tail = m;
    b->stats.waiting++;
    pthread_cond_broadcast(&b->cv);
    bool told_running = false;
    uint64_t cancel_sent = 0;
    while (!m->done) {
        bool cancelled = o->cancel && __atomic_load_n(o->cancel, __ATOMIC_ACQUIRE);
        batch *bt = m->batch;
        bool leave = o->leave && __atomic_load_n(o->leave, __ATOMIC_ACQUIRE);
        if (!bt && (cancelled || b->stopping || leave)) {
            bool stopping = b->stopping;
            unqueue(b, m);
            pthread_cond_broadcast(&b->cv);
            pthread_mutex_unlock(&b->mu);
            free(m);
            if (leave && !cancelled && !stopping)
                return sp_fail(err, SP_ESTATE, "pc1: left the queue for a batch (the thread "
                               "is pausing)");
            return sp_fail(err, SP_EBUSY, "pc1: %s while waiting for a batch",
                           cancelled ? "cancelled" : "the worker is stopping");
        }
        if (bt && cancelled && !cancel_sent) {
            /* the child stops this sector only; the others go on */
            __atomic_store_n(&bt->part_cancel[m->pos], 1, __ATOMIC_RELEASE);
            cancel_sent = sp_now_ms();
            m->cancelled = true;
            /* every sector cancelled: the whole task stops (a plain task has only this) */
            bool all = true;
            for (int i = 0; i < bt->n; i++)
                all &= !bt->m[i] || bt->m[i]->cancelled;
            if (all)
                __atomic_store_n(&bt->cancel, 1, __ATOMIC_RELEASE);
            SP_INFO("%s: cancelled; leaving pc1 batch %llu (its other sectors go on)", m->label,
                    (unsigned long long)bt->no);
        }
        if (cancel_sent && sp_now_ms() - cancel_sent >= WK_BATCH_LEAVE_MS) {
            m->left = true;
            unsigned long long no = bt->no;
            pthread_mutex_unlock(&b->mu);
            return sp_fail(err, SP_EBUSY, "pc1: cancelled; left pc1 batch %llu, whose processor "
                           "was asked to stop this sector", no);
        }
        if (bt && bt->running && !told_running) {
            pid_t pid = bt->pid;
            told_running = true;
            if (o->on_state) {
                pthread_mutex_unlock(&b->mu);
                o->on_state(o->ctx, true, pid);
                pthread_mutex_lock(&b->mu);
                continue;
            }
        }
        cv_wait_ms(b, 100);
    }
    pthread_mutex_unlock(&b->mu);
    return finish(m, output, level, err);
}

/* ---- lifecycle ------------------------------------------------------------------------------- */

sp_code wk_batcher_new(wk_procs *procs, const wk_batch_entry *entries, int n, int limit,
                       wk_batcher **out, sp_err *err)
{
    *out = NULL;
    wk_batcher *b = calloc(1, sizeof *b);
    if (!b || !(b->entries = calloc((size_t)n + 1, sizeof *b->entries))) {
        free(b);
        return sp_fail(err, SP_ENOMEM, "pc1 batches: out of memory");
    }
    b->procs = procs;
    b->limit = limit;
    for (int i = 0; i < n; i++) {
        entry *e = &b->entries[b->nentries++];
        e->cfg = entries[i].cfg;
        snprintf(e->name, sizeof e->name, "pc1[%d]", e->cfg->index);
        e->size = e->cfg->batch < 1 ? 1 : e->cfg->batch > WK_BATCH_MAX ? WK_BATCH_MAX
                                                                           : e->cfg->batch;
        e->wait_ms = e->size > 1 ? e->cfg->batch_wait_ms : 0;
        e->slots = entries[i].slots < 1 ? 1 : entries[i].slots;
        SP_INFO("%s: PC1 batches of up to %d sector%s, batch_wait %.1fs, %d at once", e->name,
                e->size, e->size == 1 ? "" : "s", (double)e->wait_ms / 1000.0, e->slots);
    }
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&b->dispatcher, NULL, dispatcher_main, b) != 0) {
        pthread_cond_destroy(&b->cv);
        pthread_mutex_destroy(&b->mu);
        free(b->entries);
        free(b);
        return sp_fail(err, SP_ENOMEM, "pc1 batches: cannot start the dispatcher thread");
    }
    b->dispatcher_joinable = true;
    *out = b;
    return SP_OK;
}

void wk_batcher_stop(wk_batcher *b)
{
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    b->stopping = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

void wk_batcher_join(wk_batcher *b)
{
    if (!b)
        return;
    wk_batcher_stop(b);
    if (b->dispatcher_joinable) {
        pthread_join(b->dispatcher, NULL);
        b->dispatcher_joinable = false;
    }
    pthread_mutex_lock(&b->mu);
    reap_batches(b, true);
    pthread_mutex_unlock(&b->mu);
}

void wk_batcher_free(wk_batcher *b)
{
    if (!b)
        return;
    wk_batcher_join(b);
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b->entries);
    free(b);
}

void wk_batcher_stats_get(wk_batcher *b, wk_batcher_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!b)
        return;
    pthread_mutex_lock(&b->mu);
    *out = b->stats;
    for (int i = 0; i < b->nentries; i++)
        out->running += b->entries[i].running;
    pthread_mutex_unlock(&b->mu);
}
