/* storage.c — the storage service: caches, the ticker and runner threads, the job queue,
 * retrieval counters and their metrics (contract in sm_storage.h). */
#include "sm_storage.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sm_blocks.h"
#include "sm_copies.h"
#include "sm_health.h"
#include "sm_jobs.h"
#include "sm_objects.h"
#include "sm_unseal.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define TOUCH_MAX 4096

typedef struct job {
    uint64_t id;
    sm_job_req req;
    int state;             /* 0 empty, 1 queued, 2 running, 3 done, 4 failed */
    uint64_t queued_ms, started_ms, finished_ms;
    char error[SP_ERR_MSG_MAX];
    char *report;          /* JSON text */
} job;

typedef struct published {
    uint64_t v[32];
} published;

struct sm_storage {
    sm_core *core;
    sm_l1 *l1;
    sm_l2 *l2;
    pthread_t ticker, runner;
    bool ticker_ok, runner_ok;
    volatile int stop;
    pthread_mutex_t mu;
    pthread_cond_t wake;      /* the ticker waits on it */
    pthread_cond_t work;      /* the runner waits on it */
    job jobs[SM_JOBS_KEPT];
    uint64_t next_id;
    bool poke;                /* sm_storage_wake() since the last tick */
    int64_t touched[TOUCH_MAX];
    size_t n_touched;
    sm_retrieval_stats stats;
    /* metrics */
    sp_metric *m_requests, *m_hits, *m_misses, *m_served, *m_failures, *m_bytes, *m_jobs;
    sp_metric *m_cache_bytes, *m_cache_entries, *m_store_up, *m_store_score, *m_replicas,
        *m_unseal, *m_gc, *m_copies;
    published pub;
    pthread_mutex_t pub_mu;
};

static const char *const job_names[SM_JOB_COUNT] = { "index", "copies", "reconcile", "moves", "scrub",
                                                     "gc-mark", "gc-sweep", "unseal", "health",
                                                     "redeclare" };

const char *sm_job_kind_name(sm_job_kind k)
{
    return k >= 0 && k < SM_JOB_COUNT ? job_names[k] : "?";
}

sm_l1 *sm_storage_l1(sm_storage *st) { return st->l1; }
sm_l2 *sm_storage_l2(sm_storage *st) { return st->l2; }
sm_core *sm_storage_core(sm_storage *st) { return st->core; }
sm_retrieval_stats *sm_storage_stats(sm_storage *st) { return &st->stats; }

void sm_storage_touch(sm_storage *st, int64_t object_id)
{
    pthread_mutex_lock(&st->mu);
    if (st->n_touched < TOUCH_MAX &&
        (st->n_touched == 0 || st->touched[st->n_touched - 1] != object_id))
        st->touched[st->n_touched++] = object_id;
    pthread_mutex_unlock(&st->mu);
}

void sm_storage_wake(sm_storage *st)
{
    pthread_mutex_lock(&st->mu);
    st->poke = true;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->mu);
}

/* ---- jobs ------------------------------------------------------------------------------------ */

static bool same_req(const sm_job_req *a, const sm_job_req *b)
{
    return a->kind == b->kind && a->apply == b->apply && a->deep == b->deep &&
           strcmp(a->store, b->store) == 0;
}

/* With st->mu held. */
static sp_code submit_locked(sm_storage *st, const sm_job_req *req, uint64_t *id, sp_err *err)
{
    for (size_t i = 0; i < SM_JOBS_KEPT; i++)
        if (st->jobs[i].state == 1 && same_req(&st->jobs[i].req, req)) {
            if (id)
                *id = st->jobs[i].id;
            return SP_OK;
        }
    /* a free slot, else the oldest finished job's */
    ssize_t slot = -1;
    for (size_t i = 0; i < SM_JOBS_KEPT; i++) {
        job *j = &st->jobs[i];
        if (j->state == 0) {
            slot = (ssize_t)i;
            break;
        }
        if (j->state >= 3 && (slot < 0 || j->id < st->jobs[slot].id))
            slot = (ssize_t)i;
    }
    if (slot < 0)
        return sp_fail(err, SP_EBUSY, "%d storage jobs are queued or running; try again later",
                       SM_JOBS_KEPT);
    job *j = &st->jobs[slot];
    free(j->report);
    memset(j, 0, sizeof *j);
    j->id = ++st->next_id;
    j->req = *req;
    j->state = 1;
    j->queued_ms = sp_wall_ms();
    if (id)
        *id = j->id;
    pthread_cond_signal(&st->work);
    return SP_OK;
}

sp_code sm_storage_submit(sm_storage *st, const sm_job_req *req, uint64_t *id, sp_err *err)
{
    if (req->kind < 0 || req->kind >= SM_JOB_COUNT)
        return sp_fail(err, SP_EINVAL, "unknown storage job kind %d", (int)req->kind);
    pthread_mutex_lock(&st->mu);
    sp_code rc = submit_locked(st, req, id, err);
    pthread_mutex_unlock(&st->mu);
    return rc;
}

static bool pending(sm_storage *st, sm_job_kind k)
{
    for (size_t i = 0; i < SM_JOBS_KEPT; i++)
        if ((st->jobs[i].state == 1 || st->jobs[i].state == 2) && st->jobs[i].req.kind == k)
            return true;
    return false;
}

/* Queues a scheduled job unless one of its kind is queued or running. */
static void schedule(sm_storage *st, sm_job_kind k, bool apply, bool deep)
{
    sm_job_req r = { .kind = k, .apply = apply, .deep = deep };
    sp_err err;
    pthread_mutex_lock(&st->mu);
    if (!pending(st, k) && submit_locked(st, &r, NULL, &err) != SP_OK)
        SP_WARN("storage: scheduling %s: %s", sm_job_kind_name(k), err.msg);
    pthread_mutex_unlock(&st->mu);
}

sp_code sm_storage_job_json(sm_storage *st, uint64_t id, cJSON **out, sp_err *err)
{
    static const char *const states[] = { "none", "queued", "running", "done", "failed" };
    pthread_mutex_lock(&st->mu);
    job *j = NULL;
    for (size_t i = 0; i < SM_JOBS_KEPT; i++)
        if (st->jobs[i].state && st->jobs[i].id == id)
            j = &st->jobs[i];
    if (!j) {
        pthread_mutex_unlock(&st->mu);
        return sp_fail(err, SP_ENOTFOUND, "storage job %" PRIu64 " is not known (the daemon keeps "
                       "the last %d)", id, SM_JOBS_KEPT);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *report = j->report ? cJSON_Parse(j->report) : NULL;
    bool ok = o && !sp_json_add_u64(o, "ID", j->id, NULL) &&
              !sp_json_add_str(o, "Kind", sm_job_kind_name(j->req.kind), NULL) &&
              !sp_json_add_bool(o, "Apply", j->req.apply, NULL) &&
              !sp_json_add_bool(o, "Deep", j->req.deep, NULL) &&
              !sp_json_add_str(o, "State", states[j->state], NULL) &&
              !sp_json_add_u64(o, "Queued", j->queued_ms, NULL) &&
              !sp_json_add_u64(o, "Started", j->started_ms, NULL) &&
              !sp_json_add_u64(o, "Finished", j->finished_ms, NULL) &&
              !sp_json_add(o, "Error", j->error[0] ? cJSON_CreateString(j->error) : cJSON_CreateNull(), NULL);
    pthread_mutex_unlock(&st->mu);
    if (!ok || sp_json_add(o, "Report", report ? report : cJSON_CreateNull(), NULL)) {
        cJSON_Delete(o);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    *out = o;
    return SP_OK;
}

/* ---- shared job helpers ------------------------------------------------------------------------ */

sp_code sm_jobs_run_copy(sm_job_ctx *ctx, int64_t copy_id, sp_err *err)
{
    sm_copy_env env = { .db = ctx->db, .piece_dir = ctx->conf->piece_dir, .stop = ctx->stop };
    return sm_copies_run(&env, copy_id, err);
}

cJSON *sm_jobs_list(sm_job_ctx *ctx, const char *key)
{
    cJSON *a = cJSON_GetObjectItemCaseSensitive(ctx->report, key);
    if (!a)
        a = cJSON_AddArrayToObject(ctx->report, key);
    return a;
}

void sm_jobs_count(sm_job_ctx *ctx, const char *key, uint64_t n)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->report, key);
    if (!v) {
        cJSON_AddNumberToObject(ctx->report, key, (double)n);
        return;
    }
    cJSON_SetNumberValue(v, v->valuedouble + (double)n);
}

void sm_jobs_throttle(uint64_t rate, uint64_t start_ms, uint64_t bytes_so_far,
                      const volatile int *stop)
{
    if (!rate)
        return;
    uint64_t due_ms = start_ms + bytes_so_far * 1000 / rate;
    while (!(stop && *stop)) {
        uint64_t now = sp_now_ms();
        if (now >= due_ms)
            return;
        sp_sleep_ms(due_ms - now < 100 ? due_ms - now : 100);
    }
}

sp_code sm_job_copies(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    (void)req;
    sm_copy *v = NULL;
    size_t n = 0;
    sp_code rc = sm_copies_open(ctx->db, &v, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !(ctx->stop && *ctx->stop); i++) {
        sp_err e;
        sp_code r = sm_jobs_run_copy(ctx, v[i].id, &e);
        if (r == SP_EBUSY)
            break;
        sm_jobs_count(ctx, r ? "Failed" : "Done", 1);
        if (r) {
            cJSON *f = cJSON_CreateObject();
            sp_json_add_u64(f, "Copy", (uint64_t)v[i].id, NULL);
            sp_json_add_str(f, "Error", e.msg, NULL);
            cJSON_AddItemToArray(sm_jobs_list(ctx, "Errors"), f);
        }
    }
    free(v);
    return SP_OK;
}

/* ---- threads ------------------------------------------------------------------------------------- */

typedef sp_code (*job_fn)(sm_job_ctx *, const sm_job_req *, sp_err *);

static sp_code run_health(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    (void)req;
    (void)err;
    int failed = sm_health_check_all(ctx->db, ctx->conf->storage.max_latency_ms,
                                     ctx->conf->storage.cooldown_ms);
    sm_jobs_count(ctx, "Failed", (uint64_t)failed);
    return SP_OK;
}

/* The replicas a store's directories hold (lotus' redeclare): files of known objects with
 * the right size are recorded, recorded ones that are gone become missing. */
static sp_code run_redeclare(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    sm_store_info *v = NULL;
    size_t n = 0;
    sp_code rc = sm_stores_list(ctx->db, &v, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n && !rc; i++) {
        if ((req->store[0] && strcmp(req->store, v[i].def.name) != 0) || !v[i].reachable)
            continue;
        int found = 0, missing = 0;
        rc = sm_objects_scan_store(ctx->db, &v[i], &found, &missing, err);
        cJSON *a = cJSON_CreateObject();
        cJSON_AddItemToArray(sm_jobs_list(ctx, "Stores"), a);
        sp_json_add_str(a, "Store", v[i].def.name, NULL);
        sp_json_add_u64(a, "Found", (uint64_t)found, NULL);
        sp_json_add_u64(a, "Missing", (uint64_t)missing, NULL);
        SP_INFO("redeclare %s: %d replicas found, %d missing", v[i].def.name, found, missing);
    }
    free(v);
    return rc;
}

static const job_fn job_fns[SM_JOB_COUNT] = {
    [SM_JOB_INDEX] = sm_job_index,         [SM_JOB_COPIES] = sm_job_copies,
    [SM_JOB_RECONCILE] = sm_job_reconcile, [SM_JOB_MOVES] = sm_job_moves,
    [SM_JOB_SCRUB] = sm_job_scrub,         [SM_JOB_GC_MARK] = sm_job_gc_mark,
    [SM_JOB_GC_SWEEP] = sm_job_gc_sweep,   [SM_JOB_UNSEAL] = sm_job_unseal,
    [SM_JOB_HEALTH] = run_health,          [SM_JOB_REDECLARE] = run_redeclare,
};

static void *runner_main(void *arg)
{
    sm_storage *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        job *j = NULL;
        for (size_t i = 0; i < SM_JOBS_KEPT; i++)
            if (st->jobs[i].state == 1 && (!j || st->jobs[i].id < j->id))
                j = &st->jobs[i];
        if (!j) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&st->work, &st->mu, &ts);
            continue;
        }
        j->state = 2;
        j->started_ms = sp_wall_ms();
        sm_job_req req = j->req;
        uint64_t id = j->id;
        pthread_mutex_unlock(&st->mu);

        sm_conf *conf = sm_core_conf(st->core);
        sm_job_ctx ctx = { .st = st, .db = st->core->db, .conf = conf, .stop = &st->stop,
                           .report = cJSON_CreateObject() };
        sp_err err;
        sp_err_clear(&err);
        SP_DEBUG("storage: job %" PRIu64 " (%s) starts", id, sm_job_kind_name(req.kind));
        sp_code rc = ctx.report ? job_fns[req.kind](&ctx, &req, &err)
                                : sp_fail(&err, SP_ENOMEM, "out of memory");
        sm_conf_unref(conf);
        char *text = ctx.report ? cJSON_PrintUnformatted(ctx.report) : NULL;
        cJSON_Delete(ctx.report);
        if (rc && rc != SP_EBUSY)
            SP_WARN("storage: job %" PRIu64 " (%s) failed: %s", id, sm_job_kind_name(req.kind), err.msg);
        else
            SP_DEBUG("storage: job %" PRIu64 " (%s) done", id, sm_job_kind_name(req.kind));
        if (st->m_jobs)
            sp_metric_add(st->m_jobs, SP_LABELS(sm_job_kind_name(req.kind), rc ? "failed" : "done"), 1);

        pthread_mutex_lock(&st->mu);
        for (size_t i = 0; i < SM_JOBS_KEPT; i++) {
            job *d = &st->jobs[i];
            if (d->id != id)
                continue;
            d->state = rc ? 4 : 3;
            d->finished_ms = sp_wall_ms();
            snprintf(d->error, sizeof d->error, "%s", rc ? err.msg : "");
            free(d->report);
            d->report = text;
            text = NULL;
        }
        free(text);
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static void flush_touched(sm_storage *st)
{
    int64_t ids[TOUCH_MAX];
    pthread_mutex_lock(&st->mu);
    size_t n = st->n_touched;
    memcpy(ids, st->touched, n * sizeof ids[0]);
    st->n_touched = 0;
    pthread_mutex_unlock(&st->mu);
    if (n == 0)
        return;
    /* one row per object */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < m && !dup; j++)
            dup = ids[j] == ids[i];
        if (!dup)
            ids[m++] = ids[i];
    }
    sp_err err;
    if (sm_objects_touch(st->core->db, ids, m, sp_wall_ms(), &err) != SP_OK)
        SP_WARN("storage: recording read times: %s", err.msg);
}

typedef struct timers {
    uint64_t health, reconcile, moves, light, deep, gc, index;
} timers;

static bool due(uint64_t *last, uint64_t interval, uint64_t now)
{
    if (!interval || now - *last < interval)
        return false;
    *last = now;
    return true;
}

static void tick(sm_storage *st, timers *t, bool poked)
{
    sm_conf *conf = sm_core_conf(st->core);
    const sm_storage_conf *sc = &conf->storage;
    uint64_t now = sp_now_ms(), wall = sp_wall_ms();
    sp_err err;
    if (due(&t->health, sc->health_interval_ms, now))
        sm_health_check_all(st->core->db, sc->max_latency_ms, sc->cooldown_ms);
    if (st->l2 && sm_l2_needs_eviction(st->l2)) {
        size_t n = sm_l2_evict(st->l2);
        SP_DEBUG("storage: L2 cache evicted %zu blocks", n);
    }
    flush_touched(st);
    int requeued = 0;
    if (sm_unseal_expire(st->core->db, sc->unseal_timeout_ms, &requeued, &err) != SP_OK)
        SP_WARN("storage: unseal tasks: %s", err.msg);
    /* New pieces and delivered unsealed data are looked for when poked and every 5 s. */
    if (poked || due(&t->index, 5000, now)) {
        char cids[1][PF_COMMCID_STR_MAX];
        size_t n = 0;
        if (sm_blocks_pending(st->core->db, cids, 1, &n, &err) == SP_OK && n)
            schedule(st, SM_JOB_INDEX, false, false);
        bool uploaded = false;
        if (sm_unseal_uploaded(st->core->db, &uploaded, &err) == SP_OK && uploaded)
            schedule(st, SM_JOB_UNSEAL, false, false);
    }
    if (due(&t->reconcile, sc->reconcile_interval_ms, now))
        schedule(st, SM_JOB_RECONCILE, true, false);
    if (sc->n_moves && due(&t->moves, sc->move_interval_ms, now))
        schedule(st, SM_JOB_MOVES, false, false);
    if (sm_policy_in_window(sc, wall)) {
        if (due(&t->light, sc->scrub_light_ms, now))
            schedule(st, SM_JOB_SCRUB, false, false);
        if (due(&t->deep, sc->scrub_deep_ms, now))
            schedule(st, SM_JOB_SCRUB, false, true);
    }
    if (due(&t->gc, sc->gc_mark_ms, now)) {
        schedule(st, SM_JOB_GC_MARK, false, false);
        schedule(st, SM_JOB_GC_SWEEP, false, false);
    }
    sm_conf_unref(conf);
}

static void *ticker_main(void *arg)
{
    sm_storage *st = arg;
    uint64_t now = sp_now_ms();
    /* Heartbeats right away; periodic jobs after their first interval. */
    timers t = { .health = 0, .reconcile = now, .moves = now, .light = now, .deep = now,
                 .gc = now, .index = 0 };
    bool poked = true;
    while (!st->stop) {
        tick(st, &t, poked);
        sm_conf *conf = sm_core_conf(st->core);
        uint64_t period = conf->storage.tick_ms;
        sm_conf_unref(conf);
        pthread_mutex_lock(&st->mu);
        if (!st->stop && !st->poke) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            uint64_t ns = (uint64_t)ts.tv_nsec + period * 1000000ULL;
            ts.tv_sec += (time_t)(ns / 1000000000ULL);
            ts.tv_nsec = (long)(ns % 1000000000ULL);
            pthread_cond_timedwait(&st->wake, &st->mu, &ts);
        }
        poked = st->poke;
        st->poke = false;
        pthread_mutex_unlock(&st->mu);
    }
    return NULL;
}

/* ---- metrics ------------------------------------------------------------------------------------ */

static void publish(sp_metric *m, const char *const *labels, uint64_t now, uint64_t *last)
{
    if (now > *last)
        sp_metric_add(m, labels, (double)(now - *last));
    *last = now;
}

static const char SQL_REPLICA_COUNTS[] =
    "SELECT o.kind, r.state, count(*) FROM replicas r JOIN objects o ON o.id = r.object_id "
    "GROUP BY o.kind, r.state";
static const char SQL_UNSEAL_COUNTS[] = "SELECT state, count(*) FROM unseal_tasks GROUP BY state";
static const char SQL_GC_COUNTS[] = "SELECT state, count(*) FROM gc_marks GROUP BY state";
static const char SQL_COPIES_OPEN[] =
    "SELECT count(*) FROM copies WHERE state NOT IN ('done', 'failed')";

static void grouped(sm_db *db, const char *sql, sp_metric *m, int ncols)
{
    sm_stmt *s;
    sp_metric_reset(m);
    if (sm_db_stmt(db, sql, &s, NULL) != SP_OK)
        return;
    while (sm_step(s, NULL) == 1) {
        const char *a = sm_col_text(s, 0), *b = ncols > 1 ? sm_col_text(s, 1) : NULL;
        double v = (double)sm_col_i64(s, ncols);
        if (ncols == 2)
            sp_metric_set(m, SP_LABELS(a ? a : "", b ? b : ""), v);
        else if (ncols == 1)
            sp_metric_set(m, SP_LABELS(a ? a : ""), v);
        else
            sp_metric_set(m, NULL, v);
    }
    sm_stmt_reset(s);
}

static void collect(void *ctx, sp_metrics *reg)
{
    (void)reg;
    sm_storage *st = ctx;
    sm_retrieval_stats *s = &st->stats;
    pthread_mutex_lock(&st->pub_mu);
    uint64_t *p = st->pub.v;
    publish(st->m_requests, SP_LABELS("ipfs"), atomic_load(&s->ipfs_requests), &p[0]);
    publish(st->m_requests, SP_LABELS("piece"), atomic_load(&s->piece_requests), &p[1]);
    publish(st->m_hits, SP_LABELS("l1"), atomic_load(&s->l1_hits), &p[2]);
    publish(st->m_hits, SP_LABELS("l2"), atomic_load(&s->l2_hits), &p[3]);
    publish(st->m_misses, SP_LABELS("l1"), atomic_load(&s->l1_misses), &p[4]);
    publish(st->m_misses, SP_LABELS("l2"), atomic_load(&s->l2_misses), &p[5]);
    publish(st->m_served, SP_LABELS("l1"), atomic_load(&s->l1_hits), &p[6]);
    publish(st->m_served, SP_LABELS("l2"), atomic_load(&s->l2_hits), &p[7]);
    publish(st->m_served, SP_LABELS("hot"), atomic_load(&s->from_tier[SM_TIER_HOT]), &p[8]);
    publish(st->m_served, SP_LABELS("warm"), atomic_load(&s->from_tier[SM_TIER_WARM]), &p[9]);
    publish(st->m_served, SP_LABELS("cold"), atomic_load(&s->from_tier[SM_TIER_COLD]), &p[10]);
    publish(st->m_served, SP_LABELS("piece_store"), atomic_load(&s->from_piece_store), &p[11]);
    publish(st->m_failures, SP_LABELS("not_found"), atomic_load(&s->not_found), &p[12]);
    publish(st->m_failures, SP_LABELS("unavailable"), atomic_load(&s->unavailable), &p[13]);
    publish(st->m_failures, SP_LABELS("bad_request"), atomic_load(&s->bad_request), &p[14]);
    publish(st->m_failures, SP_LABELS("corrupt_copy"), atomic_load(&s->corrupt_reads), &p[15]);
    publish(st->m_failures, SP_LABELS("missing_copy"), atomic_load(&s->missing_reads), &p[16]);
    publish(st->m_bytes, NULL, atomic_load(&s->bytes), &p[17]);
    pthread_mutex_unlock(&st->pub_mu);

    sm_cache_stats cs;
    sm_l1_stats(st->l1, &cs);
    sp_metric_set(st->m_cache_bytes, SP_LABELS("l1"), (double)cs.bytes);
    sp_metric_set(st->m_cache_entries, SP_LABELS("l1"), (double)cs.entries);
    if (st->l2) {
        sm_l2_stats(st->l2, &cs);
        sp_metric_set(st->m_cache_bytes, SP_LABELS("l2"), (double)cs.bytes);
        sp_metric_set(st->m_cache_entries, SP_LABELS("l2"), (double)cs.entries);
    }
    sm_db *db = st->core->db;
    sm_store_info *v = NULL;
    size_t n = 0;
    sp_metric_reset(st->m_store_up);
    sp_metric_reset(st->m_store_score);
    if (sm_stores_list(db, &v, &n, NULL) == SP_OK) {
        uint64_t now = sp_wall_ms();
        for (size_t i = 0; i < n; i++) {
            const char *const *l = SP_LABELS(v[i].def.name);
            sp_metric_set(st->m_store_up, l, v[i].healthy && !sm_store_cooling(&v[i], now) ? 1 : 0);
            sp_metric_set(st->m_store_score, l, v[i].score);
        }
    }
    free(v);
    grouped(db, SQL_REPLICA_COUNTS, st->m_replicas, 2);
    grouped(db, SQL_UNSEAL_COUNTS, st->m_unseal, 1);
    grouped(db, SQL_GC_COUNTS, st->m_gc, 1);
    grouped(db, SQL_COPIES_OPEN, st->m_copies, 0);
}

static sp_code setup_metrics(sm_storage *st, sp_metrics *reg, sp_err *err)
{
    sp_code rc;
    if ((rc = sp_metrics_counter(reg, "sealpipe_retrieval_requests_total",
                                 "Retrieval requests by route (ipfs: /ipfs/<cid>, piece: /piece/<cid>).",
                                 "route", &st->m_requests, err)) ||
        (rc = sp_metrics_counter(reg, "sealpipe_retrieval_cache_hits_total",
                                 "Block cache hits by level (l1 memory, l2 disk).", "level", &st->m_hits, err)) ||
        (rc = sp_metrics_counter(reg, "sealpipe_retrieval_cache_misses_total",
                                 "Block cache misses by level.", "level", &st->m_misses, err)) ||
        (rc = sp_metrics_counter(reg, "sealpipe_retrieval_served_total",
                                 "Retrievals answered, by where the bytes came from (l1, l2, a tier, "
                                 "the piece store).", "source", &st->m_served, err)) ||
        (rc = sp_metrics_counter(reg, "sealpipe_retrieval_failures_total",
                                 "Retrievals not answered with data, and copies that failed a read.",
                                 "reason", &st->m_failures, err)) ||
        (rc = sp_metrics_counter(reg, "sealpipe_retrieval_bytes_total", "Bytes of blocks and pieces served.",
                                 NULL, &st->m_bytes, err)) ||
        (rc = sp_metrics_counter(reg, "sealpipe_storage_jobs_total", "Storage jobs run, by kind and result.",
                                 "kind,result", &st->m_jobs, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_cache_bytes", "Bytes held by a block cache.",
                               "level", &st->m_cache_bytes, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_cache_entries", "Blocks held by a block cache.",
                               "level", &st->m_cache_entries, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_store_up",
                               "1 when the store passed its last heartbeat and is not cooling down.",
                               "store", &st->m_store_up, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_store_score",
                               "Heartbeat history score of the store (0..1).", "store", &st->m_store_score, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_replicas", "Replicas by file kind and state.",
                               "kind,state", &st->m_replicas, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_unseal_tasks", "Unseal tasks by state.", "state",
                               &st->m_unseal, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_gc_marks", "GC marks by state.", "state",
                               &st->m_gc, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_storage_copies_open",
                               "Copies and moves in the journal that are not finished.", NULL,
                               &st->m_copies, err)))
        return rc;
    return sp_metrics_on_collect(reg, collect, st, err);
}

/* ---- life ---------------------------------------------------------------------------------------- */

sp_code sm_storage_start(sm_core *core, sm_storage **out, sp_err *err)
{
    *out = NULL;
    sm_storage *st = calloc(1, sizeof *st);
    if (!st)
        return sp_fail(err, SP_ENOMEM, "storage: out of memory");
    st->core = core;
    pthread_mutex_init(&st->mu, NULL);
    pthread_mutex_init(&st->pub_mu, NULL);
    /* waits are timed on the monotonic clock: a wall clock stepped back (NTP, an operator)
     * must not stall the job runner and the ticker for as long as the step */
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&st->wake, &ca);
    pthread_cond_init(&st->work, &ca);
    pthread_condattr_destroy(&ca);
    sm_conf *conf = sm_core_conf(core);
    const sm_storage_conf *sc = &conf->storage;
    sp_code rc = sm_l1_new(sc->l1_bytes, &st->l1, err);
    if (!rc && sc->l2_bytes)
        rc = sm_l2_open(sc->l2_dir, sc->l2_bytes, sc->l2_high, sc->l2_low, &st->l2, err);
    if (!rc && core->metrics)
        rc = setup_metrics(st, core->metrics, err);
    if (!rc && st->l2) {
        sm_cache_stats cs;
        sm_l2_stats(st->l2, &cs);
        SP_INFO("block caches: L1 %" PRIu64 " bytes in memory; L2 %s, %" PRIu64 " bytes, %" PRIu64
                " blocks there now", sc->l1_bytes, sc->l2_dir, sc->l2_bytes, cs.entries);
    }
    sm_conf_unref(conf);
    if (rc)
        goto fail;
    /* Copies and moves a crash interrupted resume first, then new pieces are indexed. */
    sm_job_req resume = { .kind = SM_JOB_COPIES };
    if ((rc = sm_storage_submit(st, &resume, NULL, err)))
        goto fail;
    if (pthread_create(&st->runner, NULL, runner_main, st) != 0) {
        rc = sp_fail(err, SP_EINTERNAL, "storage: cannot start the job thread");
        goto fail;
    }
    st->runner_ok = true;
    if (pthread_create(&st->ticker, NULL, ticker_main, st) != 0) {
        rc = sp_fail(err, SP_EINTERNAL, "storage: cannot start the ticker thread");
        goto fail;
    }
    st->ticker_ok = true;
    *out = st;
    return SP_OK;
fail:
    sm_storage_stop(st);
    return rc;
}

void sm_storage_stop(sm_storage *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = 1;
    pthread_cond_broadcast(&st->wake);
    pthread_cond_broadcast(&st->work);
    pthread_mutex_unlock(&st->mu);
    if (st->ticker_ok)
        pthread_join(st->ticker, NULL);
    if (st->runner_ok)
        pthread_join(st->runner, NULL);
    flush_touched(st);
    for (size_t i = 0; i < SM_JOBS_KEPT; i++)
        free(st->jobs[i].report);
    sm_l1_free(st->l1);
    sm_l2_close(st->l2);
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->work);
    pthread_mutex_destroy(&st->mu);
    pthread_mutex_destroy(&st->pub_mu);
    free(st);
}
