/* wk_batcher.h — batched PC1 (issue 11): gathers the PC1 calls of sealing threads into
 * batches that one processor task seals together (pf_pc1_batch in the child).
 *
 * Config: processors.pc1[i].batch = N (1..128) and batch_wait = "10min", per entry.  When
 * some pc1 entry says N > 1, the processor pool owns a batcher (wk_procs_start) and every
 * plain pc1 call of wk_procs_call() goes through wk_batcher_call().
 *
 * Gathering.  Calls wait in arrival order; a batch holds sectors of one registered proof
 * (hence one size).  Each pc1 entry pulls batches from that queue: when it has a free slot
 * (fewer of its batches run than its concurrency, and fewer batches in all than
 * limitation.concurrent.pc1) and N calls of one proof wait ("full") or the oldest of them
 * has waited its batch_wait ("waited"), it takes the N oldest of that proof (entries in
 * config order, proofs oldest first).  A call that arrives while a batch runs waits for
 * the next one.  One batch is one processor task on that entry's child: one slot, its
 * locks, its pinning.  An entry with batch = 1 takes calls one at a time and gets the
 * plain pc1 task (so an external program without batch support still works beside a
 * batching entry).
 *
 * The batch task (wk_stages.h) is {"proof":P, "parent_cache"?, "sectors":[task, ...]}
 * with each caller's own pc1 task; the child answers {"sectors":[{"output":{pc1out}} |
 * {"err":{msg,level,code}}, ...]} in the same order, and every caller gets its own
 * sector's answer.  A failure of the whole task (child killed, hung past the timeout:
 * pc1's task timeout times the sectors in the batch) fails every member as that error
 * (temporary), so each thread retries PC1 and pf_pc1 resumes its sector's layers.
 *
 * Cancel.  A caller cancelled (SP_EBUSY) or pausing (wk_call_opts.leave: SP_ESTATE, the
 * sealer's step is then idle, not failed) while it waits leaves the queue at once.  One
 * cancelled while its batch runs gets its sector cancelled in the child
 * ({"cancel":id,"sector":k}; the others go on; the whole task once every member is
 * cancelled) and gets the child's answer, or returns after WK_BATCH_LEAVE_MS without it;
 * the batch frees what it leaves behind.  A pause does not leave a running batch (as any
 * running stage finishes).  Stopping the pool fails every waiting call.
 *
 * Log: "pc1 batch 3 starts on pc1[0]: 2 sectors of proof 5 (s-t01000-1, s-t01000-2),
 * full (2 of 2)" / "..., waited 10.0s (batch_wait 10.0s, 1 of 2)" and "pc1 batch 3 ended
 * in 12.3s: 2 done, 0 failed" (a warning naming each failed sector otherwise).  Metrics:
 * wk_metrics.h (sealpipe_worker_pc1_batch*).
 */
#ifndef WK_BATCHER_H
#define WK_BATCHER_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "wk_processor.h"

#define WK_BATCH_LEAVE_MS 5000

typedef struct wk_batcher wk_batcher;

/* A pc1 processor entry as the batcher sees it. */
typedef struct wk_batch_entry {
    const wk_proc_cfg *cfg;          /* its batch (N) and batch_wait */
    int slots;                       /* its child's concurrency: batches at once */
} wk_batch_entry;

/* True when some pc1 entry of cfg batches (batch > 1). */
bool wk_batch_enabled(const wk_config *cfg);

/* Starts a batcher over the pc1 entries (config order) that runs its tasks with
 * wk_procs_call() on procs; limit > 0 caps the batches running at once
 * (limitation.concurrent.pc1). */
sp_code wk_batcher_new(wk_procs *procs, const wk_batch_entry *entries, int n, int limit,
                       wk_batcher **out, sp_err *err);
/* Fails every waiting call (temporary: the worker is stopping) and starts no more
 * batches.  Running batches end when their task does. */
void wk_batcher_stop(wk_batcher *b);
/* Waits for the running batches' threads to end (after the children were stopped). */
void wk_batcher_join(wk_batcher *b);
/* Stops, joins and frees.  No call may be in progress. */
void wk_batcher_free(wk_batcher *b);

/* Runs one sector's pc1 task (wk_stages.h) in a batch; same contract as wk_procs_call():
 * SP_OK with *output (the caller frees it: {"pc1out"}), or an error with *level. */
sp_code wk_batcher_call(wk_batcher *b, const cJSON *task, const wk_call_opts *o,
                        cJSON **output, wk_level *level, sp_err *err);

typedef struct wk_batcher_stats {
    int waiting;                     /* calls waiting for a batch */
    int running;                     /* batches running */
    uint64_t batches;                /* batches started so far */
    uint64_t full, waited;           /* of them: started full / after batch_wait */
    uint64_t sectors;                /* sectors sent in batches so far */
} wk_batcher_stats;

void wk_batcher_stats_get(wk_batcher *b, wk_batcher_stats *out);
/* The pool's batcher's numbers (processor.c); false when the pool does not batch. */
bool wk_procs_batch_stats(wk_procs *p, wk_batcher_stats *out);

#endif
