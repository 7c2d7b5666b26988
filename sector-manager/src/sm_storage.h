/* sm_storage.h — the storage service of the running manager: the block caches, the
 * retrieval counters, and two threads that keep the stores in the shape the policy wants.
 *
 *   ticker  every storage.tick: store heartbeats (health.interval), L2 eviction above its
 *           high watermark, read times of retrieved objects flushed to the database,
 *           expired unseal tasks handed out again, and scheduling of periodic jobs
 *           (indexing new pieces, reconciler, tier moves, scrubs in their window, GC).
 *   runner  runs jobs one at a time, oldest first: scheduled ones and those the admin asks
 *           for (`replicas fix`, `scrub`, `gc ...`, `index rebuild`): copies and moves
 *           take as long as the disks need, never on an HTTP thread.
 * At start the runner resumes every copy or move the journal left open (a crash or
 * kill -9 in the middle of one).  Stopping sets a flag that long jobs check between
 * chunks; an unfinished copy stays in the journal and resumes at the next start.
 *
 * Jobs are kept in memory (the last SM_JOBS_KEPT) with their JSON report; the admin CLI
 * submits one and polls it (Sealpipe.StorageJob).  A job already queued with the same
 * kind and options is not queued twice.
 *
 * Configuration: the service reads the current manager.cfg snapshot for every job and
 * tick, so a reload changes the policy, intervals and windows; cache sizes and the L2
 * directory are taken at start.
 */
#ifndef SM_STORAGE_H
#define SM_STORAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sm_cache.h"
#include "sm_core.h"
#include "sp_err.h"

#define SM_JOBS_KEPT 64

typedef enum sm_job_kind {
    SM_JOB_INDEX,          /* index pieces whose index is pending */
    SM_JOB_COPIES,         /* run open copies and moves of the journal */
    SM_JOB_RECONCILE,      /* count replicas against the policy; apply: copy to fix */
    SM_JOB_MOVES,          /* evaluate the tier move rules and move */
    SM_JOB_SCRUB,          /* light, or deep */
    SM_JOB_GC_MARK,
    SM_JOB_GC_SWEEP,
    SM_JOB_UNSEAL,         /* verify unsealed data uploaded by workers */
    SM_JOB_HEALTH,         /* heartbeats now */
    SM_JOB_REDECLARE,      /* register the replicas found in a store's directories */
    SM_JOB_COUNT
} sm_job_kind;

typedef struct sm_job_req {
    sm_job_kind kind;
    bool apply;            /* reconcile: carry out (else a dry run) */
    bool deep;             /* scrub */
    char store[128];       /* redeclare: one store ("" = every cli store) */
} sm_job_req;

/* Retrieval counters (monotonic; published as Prometheus counters). */
typedef struct sm_retrieval_stats {
    atomic_uint_fast64_t ipfs_requests, piece_requests;
    atomic_uint_fast64_t l1_hits, l1_misses, l2_hits, l2_misses;
    atomic_uint_fast64_t from_tier[3], from_piece_store;
    atomic_uint_fast64_t not_found, unavailable, bad_request, corrupt_reads, missing_reads;
    atomic_uint_fast64_t bytes;
} sm_retrieval_stats;

typedef struct sm_storage sm_storage;

/* Opens the caches (from the current configuration), registers the metrics and starts
 * both threads. */
sp_code sm_storage_start(sm_core *core, sm_storage **out, sp_err *err);
/* Stops the threads (an unfinished copy stays in the journal) and frees everything. */
void sm_storage_stop(sm_storage *st);

/* Queues a job; *id identifies it (an equal queued job's id when there is one). */
sp_code sm_storage_submit(sm_storage *st, const sm_job_req *req, uint64_t *id, sp_err *err);
/* {"ID","Kind","State":"queued|running|done|failed","Queued","Started","Finished",
 *  "Error","Report"} of a job; SP_ENOTFOUND when it is no longer kept. */
sp_code sm_storage_job_json(sm_storage *st, uint64_t id, cJSON **out, sp_err *err);
/* Wakes the runner's scheduler (a piece was imported, an unseal task finished). */
void sm_storage_wake(sm_storage *st);
const char *sm_job_kind_name(sm_job_kind k);

sm_l1 *sm_storage_l1(sm_storage *st);
sm_l2 *sm_storage_l2(sm_storage *st);
sm_core *sm_storage_core(sm_storage *st);
sm_retrieval_stats *sm_storage_stats(sm_storage *st);
/* Records a read of an object (flushed to objects.accessed_ms by the ticker). */
void sm_storage_touch(sm_storage *st, int64_t object_id);

#endif
