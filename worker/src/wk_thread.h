/* wk_thread.h — sealing threads: each seals one sector at a time in its own location,
 * running the planner of its plan (sealer, unseal) over the shared state machine
 * (wk_sector.h), and the control an operator has over it (pause, resume, abort).
 *
 * The loop of a thread:
 *   1. load the record from <location>/meta.db (or start Empty);
 *   2. run the planner's handler for the stored state on a working copy of the record;
 *   3. on an event: apply it, save the copy durably (wk_meta_save), then ReportState to the
 *      manager; a report failure is only logged; an answer Finalized=true means the
 *      manager dropped the sector: the location is cleaned and the thread starts over;
 *   4. on a temporary failure: count it in the record, wait recover_interval and run the
 *      same handler again; after max_retries the thread pauses with the error shown;
 *      permanent and critical failures pause at once; an abort failure gives the sector up
 *      (ReportAborted, clean up).  A manager that does not answer at all (connection
 *      refused, timeout) is not a failure of the sector: the handler runs again after a
 *      backoff (1s doubling up to recover_interval, at most 60s) for as long as it takes,
 *      without counting against max_retries; the thread's activity says so.  A manager
 *      that answers "unknown sector" to a report (its database restored from an older
 *      backup) has dropped the sector: the thread cleans up and starts over;
 *   5. Finished: ReportFinalized, clean the location, wait seal_interval, start over.
 * A handler with nothing to do (no sector to allocate, seed not ready) waits and runs again
 * without counting a failure.  Handlers are written to be run again after a crash: a stage
 * is redone from its inputs and its outputs are durable before the event is saved.
 *
 * Control: pause takes effect at the next step or wait (a stage already running
 * finishes); resume continues, optionally from another state of the plan (Aborted gives
 * the sector up); abort stops waits and cancels a running stage, reports the abort to the
 * manager and cleans up.  Stop (daemon shutdown) cancels a running stage and leaves the
 * record as it was saved, so the next start resumes there.
 */
#ifndef WK_THREAD_H
#define WK_THREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "wk_config.h"
#include "wk_metrics.h"
#include "wk_mgr.h"
#include "wk_processor.h"
#include "wk_sector.h"

/* What every thread of a worker shares (owned by the daemon). */
typedef struct wk_shared {
    const wk_config *cfg;
    wk_mgr *mgr;
    wk_procs *procs;
    const char *instance;            /* the worker's name, as reported to the manager */
    const wk_metrics *metrics;       /* may be NULL */
} wk_shared;

typedef struct wk_thread wk_thread;

/* ---- what planners get --------------------------------------------------------------- */

typedef struct wk_task {
    wk_thread *thread;
    const wk_shared *sh;
    const wk_thread_cfg *tcfg;
    wk_sector *s;                    /* the working copy the handler fills */
    /* paths under the location, for the record's sector (empty before Allocated) */
    char data[1024];                 /* <location>/data */
    char staged[1200];               /* data/unsealed/s-t0M-N */
    char sealed[1200];               /* data/sealed/s-t0M-N */
    char cache[1200];                /* data/cache/s-t0M-N */
    char pieces[1200];               /* data/pieces */
    char c1out[1200];                /* data/commit/s-t0M-N.c1 */
    char proof[1200];                /* data/commit/s-t0M-N.proof */
} wk_task;

typedef enum wk_step_kind {
    WK_STEP_EVENT = 0,               /* apply `event` (the handler filled its data) */
    WK_STEP_IDLE,                    /* nothing to do yet: wait `wait_ms`, run again */
    WK_STEP_FAIL,                    /* failed at `level`, message in msg */
} wk_step_kind;

typedef struct wk_step {
    wk_step_kind kind;
    wk_event event;
    wk_level level;
    bool unreachable;                /* FAIL: the manager did not answer (transport) */
    uint64_t wait_ms;
    char msg[WK_ERROR_MAX];
    char detail[256];                /* for the trace: "comm_r 1a2b..." */
} wk_step;

/* A plan's handlers: runs the handler of t->s->state and fills *out. */
typedef struct wk_planner {
    const char *name;
    wk_plan_kind plan;
    void (*exec)(wk_task *t, wk_step *out);
    /* true: transitions, the end and aborts of the plan's sectors are reported with
     * ReportState, ReportFinalized and ReportAborted (the sealer); false for a plan that
     * works on a sector the manager tracks elsewhere (unseal tasks on Proving sectors) */
    bool reports;
    /* when set, gives a sector up instead of ReportAborted (retried the same way) */
    sp_code (*give_up)(const wk_shared *sh, const wk_sector *s, const char *reason, sp_err *err);
    /* true: a failure that would pause the thread gives the sector up instead (critical
     * ones still pause), so that the manager can hand the work out again */
    bool give_up_on_failure;
} wk_planner;

extern const wk_planner wk_planner_sealer;   /* planner_sealer.c */
extern const wk_planner wk_planner_unseal;   /* planner_unseal.c */

/* Step helpers. */
void wk_step_event(wk_step *out, wk_event e, const char *detail_fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wk_step_fail(wk_step *out, wk_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A failure from an sp_err, at the level its code implies for manager calls (bad params,
 * refused token, unknown sector or store: permanent; no answer at all (SP_ENET,
 * SP_ETIMEOUT): `unreachable`, retried without counting; anything else: temporary) unless
 * `level` is given (not NONE). */
void wk_step_fail_err(wk_step *out, wk_level level, const sp_err *err, const char *what);
void wk_step_idle(wk_step *out, uint64_t wait_ms);

/* Runs a stage through the processors, with the thread's cancel flag and status. */
sp_code wk_task_stage(wk_task *t, wk_stage stage, const cJSON *task, cJSON **out,
                      wk_level *level, sp_err *err);
/* Waits ms; false when the wait was cut short (stop, abort or pause requested). */
bool wk_task_wait(wk_task *t, uint64_t ms);
/* True when the thread is asked to stop what it does (stop or abort). */
bool wk_task_interrupted(const wk_task *t);
/* Sets the status line's current activity ("waiting for the seed"). */
void wk_task_activity(wk_task *t, const char *what);
/* The flag a long operation of the handler checks to give up (stop, abort). */
const volatile int *wk_task_cancel_flag(const wk_task *t);
/* Recomputes the paths from t->s (after Allocate filled in the sector). */
void wk_task_paths(wk_task *t);

/* ---- threads -------------------------------------------------------------------------- */

sp_code wk_thread_new(const wk_shared *sh, int index, wk_thread **out, sp_err *err);
sp_code wk_thread_start(wk_thread *t, sp_err *err);
/* Asks the thread to stop (cancels a running stage); returns at once. */
void wk_thread_stop(wk_thread *t);
/* Waits for the thread to end, then frees it. */
void wk_thread_free(wk_thread *t);

sp_code wk_thread_pause(wk_thread *t, sp_err *err);
/* state NULL: continue where it paused. */
sp_code wk_thread_resume(wk_thread *t, const char *state, sp_err *err);
sp_code wk_thread_abort(wk_thread *t, const char *reason, sp_err *err);

typedef struct wk_thread_status {
    int index;
    char location[1024];
    const char *plan;
    const char *job;                 /* "idle", "running", "waiting", "paused", "stopped" */
    char sector[64];                 /* "s-t01000-3" or "" */
    const char *state;               /* the record's state */
    char activity[128];              /* what it does now */
    const char *stage;               /* the stage of the state ("pc1") */
    uint64_t since_ms;               /* wall clock when activity began */
    pid_t pid;                       /* the processor running its stage, 0 none/in-process */
    int retry;
    bool paused;
    const char *error_level;
    char last_error[WK_ERROR_MAX];
} wk_thread_status;

void wk_thread_status_get(wk_thread *t, wk_thread_status *out);
cJSON *wk_thread_status_json(const wk_thread_status *s);

/* Sectors this thread finished and aborted since it started (tests, ping summary). */
void wk_thread_counts(wk_thread *t, int *finished, int *aborted);

#endif
