/* sm_jobs.h — the storage jobs the service runs (sm_storage.h), one function each, in the
 * file that owns the concept.  Every job gets a context with the database, the
 * configuration snapshot it runs under, the service's stop flag, and a JSON object to
 * fill as its report; it returns SP_OK, SP_EBUSY when stopped midway, or an error.
 *
 *   index.c      sm_job_index      pieces pending indexing: from the piece store's file,
 *                                  else an unsealed replica
 *   reconcile.c  sm_job_reconcile  per object, healthy replicas per tier against the
 *                                  policy; plans (dry run) or makes (apply) the copies
 *                                  that restore it, in distinct failure domains; asks
 *                                  for an unseal when no copy of deal data is left
 *   tiers.c      sm_job_moves      the move rules: age, idle time, fullness watermarks
 *   scrub.c      sm_job_scrub      light (existence and size) or deep (block hashes,
 *                                  CommP, PoSt vanilla proofs), rate-limited
 *   gc.c         sm_job_gc_mark    marks what nothing references
 *                sm_job_gc_sweep   trashes approved marks, deletes trash after retention
 *   unseal.c     sm_job_unseal     verifies unsealed data that workers delivered
 *   storage.c    sm_job_copies     runs open journal copies (resume after a crash)
 */
#ifndef SM_JOBS_H
#define SM_JOBS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "sm_conf.h"
#include "sm_db.h"
#include "sm_storage.h"
#include "sp_err.h"

typedef struct sm_job_ctx {
    sm_storage *st;              /* NULL in unit tests */
    sm_db *db;
    const sm_conf *conf;
    const volatile int *stop;
    cJSON *report;               /* an object the job fills */
} sm_job_ctx;

sp_code sm_job_index(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);
sp_code sm_job_copies(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);
sp_code sm_job_reconcile(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);
sp_code sm_job_moves(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);
sp_code sm_job_scrub(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);
sp_code sm_job_gc_mark(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);
sp_code sm_job_gc_sweep(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);
sp_code sm_job_unseal(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err);

/* Helpers the jobs share (storage.c). */

/* Runs one journal copy with the context's piece store and stop flag. */
sp_code sm_jobs_run_copy(sm_job_ctx *ctx, int64_t copy_id, sp_err *err);
/* Adds {"key": value} items to an array in the report, creating it. */
cJSON *sm_jobs_list(sm_job_ctx *ctx, const char *key);
/* Counter in the report: report[key] += n. */
void sm_jobs_count(sm_job_ctx *ctx, const char *key, uint64_t n);
/* Sleeps as a byte-rate limit requires after reading `bytes` more (rate 0: never). */
void sm_jobs_throttle(uint64_t rate, uint64_t start_ms, uint64_t bytes_so_far,
                      const volatile int *stop);

#endif
