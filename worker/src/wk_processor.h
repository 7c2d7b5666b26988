/* wk_processor.h — the worker's side of processors: one child process per
 * `processors.<stage>[i]` entry, and the calls sealing threads make to run a stage.
 *
 * Children.  Each entry is started as `<bin> <args>` (default: this seal-worker,
 * `processor <stage>`) with its stdin and stdout on one Unix socket, stderr inherited
 * (children log to the worker's stderr).  Before exec the child process is pinned to its
 * placed cpuset (sched_setaffinity, so external programs are pinned too) and set to die
 * with its parent (PR_SET_PDEATHSIG); its environment is the worker's, plus the entry's
 * `envs`, the GPU variables of wk_bind_gpu_env() when it has a GPU, and:
 *   SEALPIPE_PROC_STAGE, SEALPIPE_PROC_INDEX   which entry it is
 *   SEALPIPE_PROC_CPUSET, SEALPIPE_PROC_NUMA   its placement ("0-3", "0"; absent when
 *                                              unplaced): the child binds itself to them
 *   SEALPIPE_PROC_CONCURRENT, SEALPIPE_PROC_BACKEND, SEALPIPE_PROC_HUGEPAGES
 *   SEALPIPE_FILCRYPTO                         the entry's `filcrypto` library, when set
 *
 * Protocol: JSON lines.
 *   child -> worker, first line, within ready_timeout:
 *       {"ready":"pc1","pid":123,"binding":"bound to CPUs 0-3; memory on NUMA node 0"}
 *       (damocles' plain "pc1 processor ready" is accepted from external programs)
 *       or, when it cannot work at all (its libfilcrypto missing), instead of that line:
 *       {"fatal":"what is wrong"} and it exits; the text becomes the processor's last
 *       error, which the stage's calls report once its restarts have all failed
 *   worker -> child: {"id":7,"slot":0,"slots":2,"task":{...}}       (wk_stages.h tasks)
 *                    {"cancel":7}                                   stop task 7 if you can
 *                    {"cancel":7,"sector":2}    stop only sectors[2] of batch task 7 (the
 *                                               others go on; wk_batcher.h)
 *   child -> worker: {"id":7,"output":{...}}
 *                    {"id":7,"err":{"msg":"...","level":"temporary"|"permanent"}}
 *                    ({"id":7,"err_msg":"..."} from damocles-style programs: temporary)
 * Answers may come in any order.  A line that is not JSON, or answers no task, is logged
 * (the first 200 bytes) and ignored; a line over 1 MiB is a protocol violation and the
 * child is killed.  The worker enforces concurrency; a child runs each task it is sent.
 *
 * Batched PC1: when a pc1 entry says batch = N > 1, a pc1 call waits in the pool's
 * batcher (wk_batcher.h), which sends it within a batch task ({"sectors":[...]}) to one
 * entry's child (wk_call_opts.only).
 *
 * Scheduling of one call (damocles' order): the stage token (`limitation.concurrent`),
 * the stagger (`limitation.staggered`: at most one start per interval), then the ready
 * child of the stage with a free slot whose `locks` are all free, the one with the most
 * free slots first.  A stage without entries runs in the calling thread (still under its
 * stage limit and stagger).
 *
 * Failures.  A child that exits fails its in-flight tasks as temporary errors and is
 * restarted after a backoff (1s doubling to 60s, reset once it has run for a minute).  A
 * task that gets no answer within its timeout gets the child killed (and restarted) and
 * fails as temporary.  When a stage's children have all failed to start
 * WK_PROC_START_FAILURES times in a row, calls fail at once (temporary, naming the
 * child's last problem) instead of waiting.
 */
#ifndef WK_PROCESSOR_H
#define WK_PROCESSOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "wk_config.h"
#include "wk_placement.h"
#include "wk_sector.h"
#include "wk_topology.h"

#define WK_PROC_START_FAILURES 5
#define WK_PROC_MAX_LINE (1u << 20)
#define WK_BATCH_MAX 128             /* sectors in one batch task (PF_PC1_BATCH_MAX) */

typedef struct wk_procs wk_procs;

typedef struct wk_procs_opts {
    const wk_config *cfg;            /* processors, limits, locks (must outlive the pool) */
    const wk_plan *plan;             /* placement; NULL: children are not pinned */
    const wk_topology *topo;         /* for GPU environments; NULL: none */
    const char *self_exe;            /* default child program; NULL: /proc/self/exe */
    uint64_t ready_timeout_ms;       /* default 30000 */
    uint64_t backoff_ms;             /* first restart delay; default 1000 */
    uint64_t backoff_max_ms;         /* default 60000 */
    uint64_t term_grace_ms;          /* SIGTERM to SIGKILL at stop; default 5000 */
} wk_procs_opts;

/* Starts every processor child (they become ready in the background). */
sp_code wk_procs_start(const wk_procs_opts *opts, wk_procs **out, sp_err *err);
/* Stops taking calls, terminates the children (SIGTERM, SIGKILL after the grace) and
 * fails the calls in flight.  Idempotent; callers may still be returning afterwards. */
void wk_procs_stop(wk_procs *p);
/* Stops if needed and frees.  No call may be in progress. */
void wk_procs_free(wk_procs *p);

typedef struct wk_call_opts {
    uint64_t timeout_ms;             /* answer deadline once sent; 0: none */
    const volatile int *cancel;      /* non-zero: give up (sends a cancel to the child) */
    const char *label;               /* for logs ("s-t01000-3"); may be NULL */
    /* called without locks when the call starts waiting for resources and when it
     * starts running (with the child's pid, 0 in-process); may be NULL */
    void (*on_state)(void *ctx, bool running, pid_t pid);
    void *ctx;
    /* non-zero while the call still waits for its PC1 batch: it gives up with SP_ESTATE
     * (the thread is pausing; it has not started, so nothing is lost) */
    const volatile int *leave;
    /* non-NULL: only this entry's child runs it, and a pc1 task skips the batcher */
    const wk_proc_cfg *only;
    /* a batch task: part_cancel[k] non-zero sends {"cancel":id,"sector":k} once */
    const volatile int *part_cancel;
    int nparts;
} wk_call_opts;

/* Runs one stage task (wk_stages.h) and waits for its answer.  SP_OK with *output (the
 * caller frees it), or an error with *level: what the child answered, temporary for a
 * dead, hung or missing child, temporary SP_EBUSY when cancelled. */
sp_code wk_procs_call(wk_procs *p, wk_stage stage, const cJSON *task, const wk_call_opts *o,
                      cJSON **output, wk_level *level, sp_err *err);

/* True when the stage has processor children (false: it runs in-process). */
bool wk_procs_has_stage(const wk_procs *p, wk_stage stage);

typedef struct wk_proc_status {
    wk_stage stage;
    int index;
    pid_t pid;                       /* 0 when not running */
    const char *state;               /* "starting", "ready", "down", "stopped" */
    int running;                     /* tasks in flight */
    int concurrent;
    int starts;                      /* processes started so far */
    int failures;                    /* consecutive exits */
    char binding[256];               /* from the ready line */
    char last_error[600];            /* why it last went down */
} wk_proc_status;

/* Fills up to max entries (config order) and returns the number of processors. */
int wk_procs_status(wk_procs *p, wk_proc_status *out, int max);
/* Tasks of a stage in flight right now (tests, status). */
int wk_procs_stage_running(wk_procs *p, wk_stage stage);

/* ---- the child side (processor_child.c) ---- */

/* `seal-worker processor <stage>`: binds itself from SEALPIPE_PROC_CPUSET/NUMA, prints the
 * ready line and serves tasks on stdin/stdout until stdin closes.  Returns the exit code. */
int wk_processor_main(wk_stage stage);

#endif
