/* thread.c — the sealing thread loop: load the record, run the planner's handler, save
 * and report each transition, retry temporary failures, pause on permanent ones, give
 * sectors up on abort, clean the location after Finished; plus the operator's pause,
 * resume and abort, and the status line (wk_thread.h). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_stages.h"
#include "wk_store.h"
#include "wk_batcher.h"
#include "wk_thread.h"

struct wk_thread {
    const wk_shared *sh;
    int index;
    const wk_thread_cfg *tcfg;
    const wk_planner *planner;
    pthread_t th;
    bool started;
    wk_meta *meta;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* requests, guarded by mu */
    bool stop, pause_req, abort_req, resume_req;
    int resume_state;                /* -1: where it was */
    char abort_reason[WK_ERROR_MAX];
    volatile int cancel;             /* set with stop and abort: running stages give up */
    volatile int pausing;            /* set with pause: a PC1 call waiting for its batch
                                        leaves the queue (wk_batcher.h) */
    /* status, guarded by mu */
    wk_sector rec;                   /* the saved record */
    const char *job;
    char activity[128];
    uint64_t since_ms;
    pid_t pid;
    int finished, aborted;
    /* the manager does not answer: the current backoff (0: it answers) and since when */
    uint64_t mgr_backoff_ms;
    uint64_t mgr_down_since;
    /* a state report was skipped or lost while the manager was away: report the current
     * state once it answers again */
    bool report_owed;
};

/* ---- small helpers ------------------------------------------------------------------ */

static void cv_wait_until(wk_thread *t, uint64_t deadline_mono)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    uint64_t ms = deadline_mono > now ? deadline_mono - now : 0;
    if (ms > 1000)
        ms = 1000;
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&t->cv, &t->mu, &ts);
}

static void set_activity(wk_thread *t, const char *job, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_activity(wk_thread *t, const char *job, const char *fmt, ...)
{
    pthread_mutex_lock(&t->mu);
    t->job = job;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->activity, sizeof t->activity, fmt, ap);
    va_end(ap);
    t->since_ms = sp_wall_ms();
    t->pid = 0;
    pthread_mutex_unlock(&t->mu);
}

static void publish(wk_thread *t, const wk_sector *rec)
{
    pthread_mutex_lock(&t->mu);
    t->rec = *rec;
    pthread_mutex_unlock(&t->mu);
}

static bool interrupted(wk_thread *t)
{
    pthread_mutex_lock(&t->mu);
    bool r = t->stop || t->abort_req;
    pthread_mutex_unlock(&t->mu);
    return r;
}

/* Waits ms unless stop, abort or pause is requested; false when cut short. */
static bool wait_ms(wk_thread *t, uint64_t ms)
{
    uint64_t deadline = sp_now_ms() + ms;
    pthread_mutex_lock(&t->mu);
    bool cut = false;
    for (;;) {
        if (t->stop || t->abort_req || t->pause_req || t->resume_req) {
            cut = true;
            break;
        }
        if (sp_now_ms() >= deadline)
            break;
        cv_wait_until(t, deadline);
    }
    pthread_mutex_unlock(&t->mu);
    return !cut;
}

static void name_of(const wk_sector *s, char *buf, size_t len)
{
    if (wk_sector_allocated(s))
        wk_sector_file_name(s, buf, len);
    else
        snprintf(buf, len, "(no sector)");
}

/* ---- steps and tasks ------------------------------------------------------------------ */

void wk_step_event(wk_step *out, wk_event e, const char *fmt, ...)
{
    memset(out, 0, sizeof *out);
    out->kind = WK_STEP_EVENT;
    out->event = e;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out->detail, sizeof out->detail, fmt, ap);
        va_end(ap);
    }
}

void wk_step_fail(wk_step *out, wk_level level, const char *fmt, ...)
{
    memset(out, 0, sizeof *out);
    out->kind = WK_STEP_FAIL;
    out->level = level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->msg, sizeof out->msg, fmt, ap);
    va_end(ap);
}

void wk_step_fail_err(wk_step *out, wk_level level, const sp_err *err, const char *what)
{
    bool unreachable = false;
    if (level == WK_LEVEL_NONE) {
        unreachable = err->code == SP_ENET || err->code == SP_ETIMEOUT;
        level = (err->code == SP_EINVAL || err->code == SP_EAUTH || err->code == SP_ENOTFOUND ||
                 err->code == SP_EEXIST)
                    ? WK_LEVEL_PERMANENT
                    : WK_LEVEL_TEMPORARY;
    }
    wk_step_fail(out, level, "%s%s%s", what ? what : "", what ? ": " : "", err->msg);
    out->unreachable = unreachable;
}

void wk_step_idle(wk_step *out, uint64_t ms)
{
    memset(out, 0, sizeof *out);
    out->kind = WK_STEP_IDLE;
    out->wait_ms = ms;
}

static void on_proc_state(void *ctx, bool running, pid_t pid)
{
    wk_thread *t = ctx;
    pthread_mutex_lock(&t->mu);
    t->job = running ? "running" : "waiting";
    t->pid = pid;
    if (running)
        t->since_ms = sp_wall_ms();
    pthread_mutex_unlock(&t->mu);
}

sp_code wk_task_stage(wk_task *tk, wk_stage stage, const cJSON *task, cJSON **out,
                      wk_level *level, sp_err *err)
{
    wk_thread *t = tk->thread;
    char label[64];
    name_of(tk->s, label, sizeof label);
    wk_batcher_stats bs;
    bool batched = stage == WK_STAGE_PC1 && wk_procs_batch_stats(tk->sh->procs, &bs);
    set_activity(t, "waiting", "%s: waiting for a %s", wk_stage_name(stage),
                 batched ? "batch" : "processor");
    wk_call_opts o = { .timeout_ms = wk_task_timeout_ms(tk->sh->cfg, stage, tk->s->sector_size),
                       .cancel = &t->cancel, .leave = &t->pausing, .label = label,
                       .on_state = on_proc_state, .ctx = t };
    uint64_t t0 = sp_now_ms();
    sp_code rc = wk_procs_call(tk->sh->procs, stage, task, &o, out, level, err);
    set_activity(t, "running", "%s", wk_state_stage(tk->s->plan, tk->s->state));
    if (!interrupted(t))
        wk_metrics_stage(tk->sh->metrics, stage, (double)(sp_now_ms() - t0) / 1000.0,
                         rc == SP_OK, *level);
    if (rc == SP_OK)
        SP_INFO("thread %d: %s: %s done in %.1fs", t->index, label, wk_stage_name(stage),
                (double)(sp_now_ms() - t0) / 1000.0);
    return rc;
}

bool wk_task_wait(wk_task *tk, uint64_t ms)
{
    return wait_ms(tk->thread, ms);
}

bool wk_task_interrupted(const wk_task *tk)
{
    return interrupted(tk->thread);
}

void wk_task_activity(wk_task *tk, const char *what)
{
    wk_thread *t = tk->thread;
    /* while the manager is away the status keeps saying so between two tries, instead of
     * flickering to what the step asks of it */
    if (t->mgr_backoff_ms)
        set_activity(t, "waiting", "manager unreachable for %llus, trying again: %s",
                     (unsigned long long)((sp_now_ms() - t->mgr_down_since) / 1000), what);
    else
        set_activity(t, "waiting", "%s", what);
}

const volatile int *wk_task_cancel_flag(const wk_task *tk)
{
    return &tk->thread->cancel;
}

void wk_task_paths(wk_task *tk)
{
    const wk_sector *s = tk->s;
    snprintf(tk->data, sizeof tk->data, "%s/data", tk->tcfg->location);
    if (s->proof_id < 0)
        return;
    char n[64];
    wk_sector_file_name(s, n, sizeof n);
    snprintf(tk->staged, sizeof tk->staged, "%s/unsealed/%s", tk->data, n);
    snprintf(tk->sealed, sizeof tk->sealed, "%s/sealed/%s", tk->data, n);
    snprintf(tk->cache, sizeof tk->cache, "%s/cache/%s", tk->data, n);
    snprintf(tk->pieces, sizeof tk->pieces, "%s/pieces", tk->data);
    snprintf(tk->c1out, sizeof tk->c1out, "%s/commit/%s.c1", tk->data, n);
    snprintf(tk->proof, sizeof tk->proof, "%s/commit/%s.proof", tk->data, n);
}

static void task_paths(wk_thread *t, wk_task *tk, wk_sector *s)
{
    memset(tk, 0, sizeof *tk);
    tk->thread = t;
    tk->sh = t->sh;
    tk->tcfg = t->tcfg;
    tk->s = s;
    wk_task_paths(tk);
}

/* ---- saving and reporting ----------------------------------------------------------- */

/* Saves the record; a record that cannot be saved pauses the thread (critical). */
static bool save(wk_thread *t, wk_sector *rec, const char *event, const char *detail)
{
    sp_err err;
    rec->updated_ms = sp_wall_ms();
    if (wk_meta_save(t->meta, rec, event, detail, &err) == SP_OK) {
        publish(t, rec);
        return true;
    }
    SP_ERROR("thread %d: cannot save the sector record: %s; the thread pauses (resume it once "
             "the location is writable again)", t->index, err.msg);
    rec->paused = true;
    rec->error_level = WK_LEVEL_CRITICAL;
    snprintf(rec->last_error, sizeof rec->last_error, "cannot save the record: %.470s", err.msg);
    publish(t, rec);
    return false;
}

/* Reports to the manager.  Returns true when the manager says the sector is finalized
 * (dropped on its side), with the reason in reason. */
static bool report(wk_thread *t, const wk_sector *rec, const char *prev, const char *event,
                   const char *level, const char *desc, char *reason, size_t reason_len)
{
    if (!wk_sector_allocated(rec) || !t->sh->mgr || !t->planner->reports)
        return false;
    if (wk_mgr_down(t->sh->mgr)) {
        /* a report waits; a frozen manager would hold the sector for a whole timeout */
        SP_DEBUG("thread %d: the manager is unreachable; %s is reported once it is back",
                 t->index, wk_state_name(rec->state));
        t->report_owed = true;
        return false;
    }
    wk_mgr_report r = { .instance = t->sh->instance, .location = t->tcfg->location,
                        .prev = prev, .next = wk_state_name(rec->state), .event = event,
                        .level = level, .desc = desc };
    bool finalized = false;
    sp_err err;
    char name[64];
    name_of(rec, name, sizeof name);
    sp_code rc = wk_mgr_report_state(t->sh->mgr, rec->miner, rec->number, &r, &finalized,
                                     reason, reason_len, &err);
    if (rc == SP_ENOTFOUND) {
        /* docs/rpc.md: -32003 unknown sector.  The manager's database no longer has it
         * (restored from a backup taken before it was allocated): nothing can be submitted
         * for it any more, and its number is never handed out again */
        SP_ERROR("thread %d: %s: the manager does not know this sector (%s); was its database "
                 "restored from an older backup?  Giving the sector up", t->index, name, err.msg);
        if (reason && reason_len)
            snprintf(reason, reason_len, "the manager does not know the sector (its database "
                     "was restored from an older backup?)");
        return true;
    }
    if (rc != SP_OK) {
        SP_WARN("thread %d: %s: could not report %s to the manager (carrying on): %s", t->index,
                name, wk_state_name(rec->state), err.msg);
        t->report_owed |= rc == SP_ENET || rc == SP_ETIMEOUT;
        return false;
    }
    t->report_owed = false;
    return finalized;
}

/* True when dir is an empty directory that cannot be removed because a filesystem is
 * mounted on it (an operator's disk for the sealing data): cleaned as far as it can be. */
static bool empty_mount_point(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

/* Removes the sector's files from the location and the record from meta.db. */
static void clean_location(wk_thread *t, wk_sector *rec, const char *why)
{
    char data[1100];
    sp_err err;
    snprintf(data, sizeof data, "%s/data", t->tcfg->location);
    if (sp_remove_tree(data, &err) != SP_OK && !empty_mount_point(data))
        SP_WARN("thread %d: cleaning %s: %s", t->index, data, err.msg);
    if (wk_meta_clear(t->meta, why, &err) != SP_OK)
        SP_ERROR("thread %d: clearing the record: %s", t->index, err.msg);
    wk_sector_init(rec, t->tcfg->plan);
    publish(t, rec);
}

/* ---- the sector's end ----------------------------------------------------------------- */

/* Retries a manager call until it works or the thread is stopped.  Returns false when
 * stopped. */
static bool until_reported(wk_thread *t, wk_sector *rec, bool finalized)
{
    char name[64];
    name_of(rec, name, sizeof name);
    const wk_planner *pl = t->planner;
    if (finalized ? !pl->reports : !pl->reports && !pl->give_up)
        return true;
    for (;;) {
        sp_err err;
        sp_code rc;
        if (finalized)
            rc = wk_mgr_report_finalized(t->sh->mgr, rec->miner, rec->number, &err);
        else if (pl->give_up)
            rc = pl->give_up(t->sh, rec, rec->abort_reason, &err);
        else
            rc = wk_mgr_report_aborted(t->sh->mgr, rec->miner, rec->number, rec->abort_reason,
                                       &err);
        if (rc == SP_OK || rc == SP_ENOTFOUND || rc == SP_EINVAL || rc == SP_ESTATE)
            return true;
        set_activity(t, "waiting", "reporting %s: %s", finalized ? "finalized" : "aborted",
                     err.msg);
        SP_WARN("thread %d: %s: %s; retrying in %llums", t->index, name, err.msg,
                (unsigned long long)t->tcfg->sealing.recover_interval_ms);
        pthread_mutex_lock(&t->mu);
        bool stop = t->stop;
        pthread_mutex_unlock(&t->mu);
        if (stop)
            return false;
        wait_ms(t, t->tcfg->sealing.recover_interval_ms);
    }
}

static void finish_sector(wk_thread *t, wk_sector *rec)
{
    char name[64];
    name_of(rec, name, sizeof name);
    set_activity(t, "running", "finalize: reporting and cleaning the location");
    if (t->sh->mgr && !until_reported(t, rec, true))
        return;
    SP_INFO("thread %d: %s finished; cleaning the location", t->index, name);
    clean_location(t, rec, "finished");
    wk_metrics_sector(t->sh->metrics, "finished");
    pthread_mutex_lock(&t->mu);
    t->finished++;
    pthread_mutex_unlock(&t->mu);
    set_activity(t, "idle", "waiting seal_interval before the next sector");
    wait_ms(t, t->tcfg->sealing.seal_interval_ms);
}

static void drop_sector(wk_thread *t, wk_sector *rec, bool tell_manager)
{
    char name[64];
    name_of(rec, name, sizeof name);
    set_activity(t, "running", "abort: %s", rec->abort_reason);
    if (tell_manager && t->sh->mgr && wk_sector_allocated(rec) && !until_reported(t, rec, false))
        return;
    SP_WARN("thread %d: %s aborted (%s); cleaning the location", t->index, name,
            rec->abort_reason[0] ? rec->abort_reason : "no reason given");
    clean_location(t, rec, rec->abort_reason[0] ? rec->abort_reason : "aborted");
    wk_metrics_sector(t->sh->metrics, "aborted");
    pthread_mutex_lock(&t->mu);
    t->aborted++;
    pthread_mutex_unlock(&t->mu);
}

/* Moves the record to Aborted (saved) so that a crash before the cleanup finishes it. */
static void to_aborted(wk_thread *t, wk_sector *rec, const char *reason)
{
    if (!wk_sector_allocated(rec)) {
        wk_sector_init(rec, t->tcfg->plan);
        publish(t, rec);
        return;
    }
    snprintf(rec->abort_reason, sizeof rec->abort_reason, "%s", reason);
    const char *prev = wk_state_name(rec->state);
    if (rec->state != WK_ST_ABORTED) {
        if (wk_sector_apply(rec, WK_EV_ABORT, NULL) != SP_OK)
            rec->state = WK_ST_ABORTED;
        rec->paused = false;
        if (save(t, rec, "Abort", reason))
            report(t, rec, prev, "Abort", "abort", reason, NULL, 0);
    }
}

/* ---- one step ---------------------------------------------------------------------------- */

/* The manager did not answer: wait with a capped backoff and run the handler again,
 * without counting a retry (the sector did nothing wrong; docs/rpc.md "Transport"). */
static void manager_unreachable(wk_thread *t, const wk_sector *rec, const wk_step *st)
{
    char name[64];
    name_of(rec, name, sizeof name);
    uint64_t cap = t->tcfg->sealing.recover_interval_ms;
    if (cap < 1000)
        cap = 1000;
    if (cap > 60000)
        cap = 60000;
    uint64_t wait = t->mgr_backoff_ms ? t->mgr_backoff_ms * 2 : 1000;
    if (wait > cap)
        wait = cap;
    if (!t->mgr_backoff_ms)
        t->mgr_down_since = sp_now_ms();
    t->mgr_backoff_ms = wait;
    uint64_t down_s = (sp_now_ms() - t->mgr_down_since) / 1000;
    SP_WARN("thread %d: %s: %s: the manager does not answer (%s); trying again in %llums "
            "(unreachable for %llus; this does not count against max_retries)", t->index, name,
            wk_state_stage(rec->plan, rec->state), st->msg, (unsigned long long)wait,
            (unsigned long long)down_s);
    set_activity(t, "waiting", "manager unreachable for %llus, trying again in %llums: %.60s",
                 (unsigned long long)down_s, (unsigned long long)wait, st->msg);
    wait_ms(t, wait);
}

/* The step ran without a transport failure: the manager answers again when its client
 * says so (a stage that needs no manager proves nothing). */
static void manager_reachable(wk_thread *t)
{
    if (!t->mgr_backoff_ms || wk_mgr_down(t->sh->mgr))
        return;
    SP_INFO("thread %d: the manager answers again after %llus", t->index,
            (unsigned long long)((sp_now_ms() - t->mgr_down_since) / 1000));
    t->mgr_backoff_ms = 0;
}

static void handle_failure(wk_thread *t, wk_sector *rec, const wk_step *st)
{
    char name[64];
    name_of(rec, name, sizeof name);
    const wk_sealing *cfg = &t->tcfg->sealing;
    wk_level level = st->level;
    char msg[WK_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", st->msg);
    if (st->unreachable) {
        manager_unreachable(t, rec, st);
        return;
    }
    manager_reachable(t);
    if (t->planner->give_up_on_failure && level == WK_LEVEL_PERMANENT) {
        /* the manager hands the work out again (and fails it for good after a few tries) */
        level = WK_LEVEL_ABORT;
    }
    if (level == WK_LEVEL_ABORT) {
        SP_WARN("thread %d: %s: %s: giving the sector up: %s", t->index, name,
                wk_state_name(rec->state), msg);
        to_aborted(t, rec, msg);
        return;
    }
    if (level == WK_LEVEL_TEMPORARY && rec->retry < cfg->max_retries) {
        rec->retry++;
        rec->error_level = WK_LEVEL_TEMPORARY;
        snprintf(rec->last_error, sizeof rec->last_error, "%s", msg);
        SP_WARN("thread %d: %s: %s failed (temporary, try %d of %d; again in %llums): %s",
                t->index, name, wk_state_stage(rec->plan, rec->state), rec->retry,
                cfg->max_retries, (unsigned long long)cfg->recover_interval_ms, msg);
        save(t, rec, NULL, NULL);
        char reason[WK_ERROR_MAX];
        if (report(t, rec, wk_state_name(rec->state), "", "temporary", msg, reason,
                   sizeof reason)) {
            snprintf(rec->abort_reason, sizeof rec->abort_reason, "manager: %.490s", reason);
            drop_sector(t, rec, true);
            return;
        }
        set_activity(t, "waiting", "retry %d of %d in %llums: %s", rec->retry, cfg->max_retries,
                     (unsigned long long)cfg->recover_interval_ms, msg);
        wait_ms(t, cfg->recover_interval_ms);
        return;
    }
    if (level == WK_LEVEL_TEMPORARY) {
        char more[WK_ERROR_MAX];
        snprintf(more, sizeof more, "still failing after %d retries: %.460s", rec->retry, msg);
        snprintf(msg, sizeof msg, "%s", more);
        level = WK_LEVEL_PERMANENT;
        rec->retry = 0;
        if (t->planner->give_up_on_failure) {
            SP_WARN("thread %d: %s: %s: giving the sector up: %s", t->index, name,
                    wk_state_name(rec->state), msg);
            to_aborted(t, rec, msg);
            return;
        }
    }
    rec->paused = true;
    rec->error_level = level;
    snprintf(rec->last_error, sizeof rec->last_error, "%s", msg);
    SP_ERROR("thread %d: %s: %s failed (%s); the thread pauses until `seal-worker threads "
             "resume %d`: %s", t->index, name, wk_state_stage(rec->plan, rec->state),
             wk_level_name(level), t->index, msg);
    save(t, rec, NULL, NULL);
    char reason[WK_ERROR_MAX];
    if (report(t, rec, wk_state_name(rec->state), "", wk_level_name(level), msg, reason,
               sizeof reason)) {
        snprintf(rec->abort_reason, sizeof rec->abort_reason, "manager: %.490s", reason);
        drop_sector(t, rec, true);
    }
}

/* Reports the current state after reports were skipped while the manager was away, so
 * that its view catches up without waiting for the next transition.  False when the
 * manager dropped the sector meanwhile (the sector is given up). */
static bool resync(wk_thread *t, wk_sector *rec)
{
    if (!t->report_owed || !t->sh->mgr || wk_mgr_down(t->sh->mgr))
        return true;
    char reason[WK_ERROR_MAX], name[64];
    name_of(rec, name, sizeof name);
    t->report_owed = false;
    if (!wk_sector_allocated(rec) || rec->state == WK_ST_FINISHED || rec->state == WK_ST_ABORTED)
        return true;
    SP_INFO("thread %d: %s: reporting %s, which the manager missed while it was away", t->index,
            name, wk_state_name(rec->state));
    if (!report(t, rec, wk_state_name(rec->state), "", NULL, NULL, reason, sizeof reason))
        return true;
    snprintf(rec->abort_reason, sizeof rec->abort_reason, "manager: %.490s",
             reason[0] ? reason : "the manager finalized the sector");
    drop_sector(t, rec, true);
    return false;
}

static void run_step(wk_thread *t, wk_sector *rec)
{
    if (!resync(t, rec))
        return;
    wk_sector work = *rec;
    wk_task tk;
    wk_step st;
    task_paths(t, &tk, &work);
    if (!t->mgr_backoff_ms)
        set_activity(t, "running", "%s", wk_state_stage(rec->plan, rec->state));
    t->planner->exec(&tk, &st);
    /* a step cut short by stop or abort is neither a result nor a failure */
    if (interrupted(t) && st.kind != WK_STEP_EVENT)
        return;
    if (st.kind != WK_STEP_FAIL)
        manager_reachable(t);
    if (st.kind == WK_STEP_IDLE) {
        set_activity(t, "idle", "%s: nothing to do yet", wk_state_stage(rec->plan, rec->state));
        wait_ms(t, st.wait_ms);
        return;
    }
    if (st.kind == WK_STEP_FAIL) {
        handle_failure(t, rec, &st);
        return;
    }
    const char *prev = wk_state_name(work.state);
    sp_err err;
    if (wk_sector_apply(&work, st.event, &err) != SP_OK) {
        wk_step bad;
        wk_step_fail(&bad, WK_LEVEL_CRITICAL, "%s", err.msg);
        handle_failure(t, rec, &bad);
        return;
    }
    work.paused = false;
    if (!save(t, &work, wk_event_name(st.event), st.detail)) {
        *rec = work;
        return;
    }
    *rec = work;
    wk_metrics_transition(t->sh->metrics, wk_event_name(st.event));
    char name[64];
    name_of(rec, name, sizeof name);
    SP_INFO("thread %d: %s: %s -> %s%s%s", t->index, name, prev, wk_state_name(rec->state),
            st.detail[0] ? " " : "", st.detail);
    char reason[WK_ERROR_MAX];
    if (report(t, rec, prev, wk_event_name(st.event), NULL, NULL, reason, sizeof reason)) {
        snprintf(rec->abort_reason, sizeof rec->abort_reason, "manager: %.490s",
                 reason[0] ? reason : "the manager finalized the sector");
        SP_WARN("thread %d: %s: the manager dropped the sector (%s)", t->index, name,
                rec->abort_reason);
        /* docs/rpc.md: on Finalized=true the worker drops the sector and calls
         * ReportAborted (harmless for a sector the manager already finished) */
        drop_sector(t, rec, true);
    }
}

/* ---- requests ------------------------------------------------------------------------- */

/* Applies pending operator requests; returns false when the thread must stop. */
static bool take_requests(wk_thread *t, wk_sector *rec)
{
    pthread_mutex_lock(&t->mu);
    bool stop = t->stop, abort_req = t->abort_req, pause_req = t->pause_req;
    bool resume_req = t->resume_req;
    int resume_state = t->resume_state;
    char reason[WK_ERROR_MAX];
    snprintf(reason, sizeof reason, "%s", t->abort_reason);
    t->abort_req = t->pause_req = t->resume_req = false;
    __atomic_store_n(&t->pausing, 0, __ATOMIC_SEQ_CST);
    if (abort_req)
        __atomic_store_n(&t->cancel, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&t->mu);
    if (stop)
        return false;
    char name[64];
    name_of(rec, name, sizeof name);
    if (abort_req) {
        SP_WARN("thread %d: %s: aborted by the operator: %s", t->index, name, reason);
        to_aborted(t, rec, reason);
        return true;
    }
    if (resume_req) {
        const char *prev = wk_state_name(rec->state);
        if (resume_state == WK_ST_ABORTED) {
            to_aborted(t, rec, "aborted by the operator (resume --state Aborted)");
            return true;
        }
        if (resume_state >= 0 && wk_sector_allocated(rec)) {
            rec->prev = rec->state;
            rec->state = (wk_state)resume_state;
        }
        rec->paused = false;
        rec->retry = 0;
        rec->error_level = WK_LEVEL_NONE;
        rec->last_error[0] = 0;
        SP_INFO("thread %d: %s: resumed in %s", t->index, name, wk_state_name(rec->state));
        if (save(t, rec, "SetState", "resumed by the operator"))
            report(t, rec, prev, "SetState", NULL, NULL, NULL, 0);
        return true;
    }
    if (pause_req && !rec->paused) {
        rec->paused = true;
        rec->error_level = WK_LEVEL_NONE;
        snprintf(rec->last_error, sizeof rec->last_error, "paused by the operator");
        SP_INFO("thread %d: %s: paused by the operator", t->index, name);
        save(t, rec, NULL, NULL);
    }
    return true;
}

static void wait_paused(wk_thread *t)
{
    set_activity(t, "paused", "paused: waiting for `seal-worker threads resume %d`", t->index);
    pthread_mutex_lock(&t->mu);
    while (!t->stop && !t->abort_req && !t->resume_req)
        cv_wait_until(t, sp_now_ms() + 1000);
    pthread_mutex_unlock(&t->mu);
}

/* ---- the thread ------------------------------------------------------------------------ */

static bool open_meta(wk_thread *t, wk_sector *rec)
{
    for (;;) {
        sp_err err;
        bool found = false;
        if (!t->meta && wk_meta_open(t->tcfg->location, &t->meta, &err) != SP_OK) {
            SP_ERROR("thread %d: %s; retrying in %llums", t->index, err.msg,
                     (unsigned long long)t->tcfg->sealing.recover_interval_ms);
        } else if (wk_meta_load(t->meta, t->tcfg->plan, rec, &found, &err) != SP_OK) {
            SP_ERROR("thread %d: %s; the thread waits (resume it with --state Empty to start "
                     "over and discard the record)", t->index, err.msg);
            rec->paused = true;
            rec->error_level = WK_LEVEL_CRITICAL;
            snprintf(rec->last_error, sizeof rec->last_error, "%s", err.msg);
            publish(t, rec);
            wait_paused(t);
            pthread_mutex_lock(&t->mu);
            bool discard = t->resume_req && t->resume_state == WK_ST_EMPTY;
            t->resume_req = false;
            pthread_mutex_unlock(&t->mu);
            if (discard)
                clean_location(t, rec, "corrupt record discarded by the operator");
            continue;
        } else {
            if (found && rec->plan != t->tcfg->plan)
                SP_WARN("thread %d: the stored sector is of plan %s but the thread's plan is "
                        "%s; finishing it with plan %s first", t->index, wk_plan_name(rec->plan),
                        wk_plan_name(t->tcfg->plan), wk_plan_name(rec->plan));
            publish(t, rec);
            if (found) {
                char name[64];
                name_of(rec, name, sizeof name);
                SP_INFO("thread %d: resuming %s in %s%s", t->index, name,
                        wk_state_name(rec->state), rec->paused ? " (paused)" : "");
            }
            return true;
        }
        set_activity(t, "waiting", "cannot open meta.db: %s", err.msg);
        if (!wait_ms(t, t->tcfg->sealing.recover_interval_ms)) {
            pthread_mutex_lock(&t->mu);
            bool stop = t->stop;
            pthread_mutex_unlock(&t->mu);
            if (stop)
                return false;
        }
    }
}

static void *thread_main(void *arg)
{
    wk_thread *t = arg;
    wk_sector rec;
    wk_sector_init(&rec, t->tcfg->plan);
    if (!open_meta(t, &rec))
        goto out;
    while (take_requests(t, &rec)) {
        t->planner = rec.plan == WK_PLAN_UNSEAL ? &wk_planner_unseal : &wk_planner_sealer;
        if (rec.paused) {
            wait_paused(t);
            continue;
        }
        if (rec.state == WK_ST_FINISHED)
            finish_sector(t, &rec);
        else if (rec.state == WK_ST_ABORTED)
            drop_sector(t, &rec, true);
        else
            run_step(t, &rec);
        if (rec.state == WK_ST_EMPTY && rec.plan != t->tcfg->plan) {
            rec.plan = t->tcfg->plan;
            publish(t, &rec);
        }
    }
out:
    set_activity(t, "stopped", "stopped");
    return NULL;
}

sp_code wk_thread_new(const wk_shared *sh, int index, wk_thread **out, sp_err *err)
{
    *out = NULL;
    if (index < 0 || index >= sh->cfg->nthreads)
        return sp_fail(err, SP_EINVAL, "no sealing thread %d", index);
    wk_thread *t = calloc(1, sizeof *t);
    if (!t)
        return sp_fail(err, SP_ENOMEM, "sealing thread %d: out of memory", index);
    t->sh = sh;
    t->index = index;
    t->tcfg = &sh->cfg->threads[index];
    t->planner = t->tcfg->plan == WK_PLAN_UNSEAL ? &wk_planner_unseal : &wk_planner_sealer;
    t->resume_state = -1;
    t->job = "starting";
    wk_sector_init(&t->rec, t->tcfg->plan);
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = t;
    return SP_OK;
}

sp_code wk_thread_start(wk_thread *t, sp_err *err)
{
    int e = pthread_create(&t->th, NULL, thread_main, t);
    if (e != 0)
        return sp_fail(err, SP_ENOMEM, "sealing thread %d: cannot start: %s", t->index,
                       strerror(e));
    t->started = true;
    return SP_OK;
}

void wk_thread_stop(wk_thread *t)
{
    pthread_mutex_lock(&t->mu);
    t->stop = true;
    __atomic_store_n(&t->cancel, 1, __ATOMIC_SEQ_CST);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

void wk_thread_free(wk_thread *t)
{
    if (!t)
        return;
    if (t->started) {
        wk_thread_stop(t);
        pthread_join(t->th, NULL);
    }
    wk_meta_close(t->meta);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

sp_code wk_thread_pause(wk_thread *t, sp_err *err)
{
    pthread_mutex_lock(&t->mu);
    bool already = t->rec.paused;
    if (!already) {
        t->pause_req = true;
        __atomic_store_n(&t->pausing, 1, __ATOMIC_SEQ_CST);
        pthread_cond_broadcast(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
    if (already)
        return sp_fail(err, SP_ESTATE, "thread %d is already paused", t->index);
    return SP_OK;
}

sp_code wk_thread_resume(wk_thread *t, const char *state, sp_err *err)
{
    int st = -1;
    if (state && *state) {
        st = wk_state_parse(state);
        pthread_mutex_lock(&t->mu);
        wk_plan_kind plan = t->rec.plan;
        pthread_mutex_unlock(&t->mu);
        if (st < 0 || !wk_plan_has_state(plan, (wk_state)st))
            return sp_fail(err, SP_EINVAL, "thread %d: \"%s\" is not a state of plan %s (e.g. "
                           "TreeDBuilt, PC1Done, Aborted)", t->index, state, wk_plan_name(plan));
    }
    pthread_mutex_lock(&t->mu);
    bool paused = t->rec.paused || t->pause_req;
    if (paused) {
        t->pause_req = false;
        t->resume_req = true;
        t->resume_state = st;
        pthread_cond_broadcast(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
    if (!paused)
        return sp_fail(err, SP_ESTATE, "thread %d is not paused; pause it first to change its "
                       "state", t->index);
    return SP_OK;
}

sp_code wk_thread_abort(wk_thread *t, const char *reason, sp_err *err)
{
    pthread_mutex_lock(&t->mu);
    bool has = wk_sector_allocated(&t->rec) && t->rec.state != WK_ST_FINISHED;
    if (has) {
        t->abort_req = true;
        snprintf(t->abort_reason, sizeof t->abort_reason, "%s",
                 reason && *reason ? reason : "aborted by the operator");
        __atomic_store_n(&t->cancel, 1, __ATOMIC_SEQ_CST);
        pthread_cond_broadcast(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
    if (!has)
        return sp_fail(err, SP_ESTATE, "thread %d has no sector to abort", t->index);
    return SP_OK;
}

void wk_thread_status_get(wk_thread *t, wk_thread_status *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_lock(&t->mu);
    s->index = t->index;
    snprintf(s->location, sizeof s->location, "%s", t->tcfg->location);
    s->plan = wk_plan_name(t->rec.plan);
    s->job = t->rec.paused && strcmp(t->job, "stopped") ? "paused" : t->job;
    if (wk_sector_allocated(&t->rec))
        wk_sector_file_name(&t->rec, s->sector, sizeof s->sector);
    s->state = wk_state_name(t->rec.state);
    s->stage = wk_state_stage(t->rec.plan, t->rec.state);
    snprintf(s->activity, sizeof s->activity, "%s", t->activity);
    s->since_ms = t->since_ms;
    s->pid = t->pid;
    s->retry = t->rec.retry;
    s->paused = t->rec.paused;
    s->error_level = wk_level_name(t->rec.error_level);
    snprintf(s->last_error, sizeof s->last_error, "%s", t->rec.last_error);
    pthread_mutex_unlock(&t->mu);
}

cJSON *wk_thread_status_json(const wk_thread_status *s)
{
    cJSON *o = cJSON_CreateObject();
    bool ok = o && !sp_json_add_i64(o, "index", s->index, NULL) &&
              !sp_json_add_str(o, "location", s->location, NULL) &&
              !sp_json_add_str(o, "plan", s->plan, NULL) &&
              !sp_json_add_str(o, "job", s->job, NULL) &&
              !sp_json_add_str(o, "sector", s->sector, NULL) &&
              !sp_json_add_str(o, "state", s->state, NULL) &&
              !sp_json_add_str(o, "stage", s->stage, NULL) &&
              !sp_json_add_str(o, "activity", s->activity, NULL) &&
              !sp_json_add_u64(o, "since_ms", s->since_ms, NULL) &&
              !sp_json_add_i64(o, "pid", s->pid, NULL) &&
              !sp_json_add_i64(o, "retry", s->retry, NULL) &&
              !sp_json_add_bool(o, "paused", s->paused, NULL) &&
              !sp_json_add_str(o, "error_level", s->error_level, NULL) &&
              !sp_json_add_str(o, "last_error", s->last_error, NULL);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void wk_thread_counts(wk_thread *t, int *finished, int *aborted)
{
    pthread_mutex_lock(&t->mu);
    *finished = t->finished;
    *aborted = t->aborted;
    pthread_mutex_unlock(&t->mu);
}
