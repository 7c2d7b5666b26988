/* wk_metrics.h — the worker's Prometheus metrics, served at /metrics on the admin API's
 * address (no token: metrics carry no secrets and scrapers rarely have one).
 *
 *   sealpipe_worker_stage_seconds{stage}            histogram of successful stage tasks
 *   sealpipe_worker_stage_failures_total{stage,level}  failed stage tasks
 *   sealpipe_worker_transitions_total{event}        state transitions saved
 *   sealpipe_worker_sectors_total{result}           sectors finished / aborted
 *   sealpipe_worker_threads{job}                    threads idle, waiting, running, paused
 *   sealpipe_worker_sectors_in_state{state}         threads' sectors by state
 *   sealpipe_worker_processor_up{stage,index}       1 when the child is ready
 *   sealpipe_worker_processor_starts{stage,index}   processes started (restarts + 1)
 *   sealpipe_worker_processor_running{stage,index}  tasks in flight
 *   sealpipe_worker_pc1_batches_total{reason}       PC1 batches started, "full" or "waited"
 *   sealpipe_worker_pc1_batch_sectors_total         sectors sent in PC1 batches
 *   sealpipe_worker_pc1_batch_waiting               PC1 calls waiting for a batch
 *   sealpipe_worker_pc1_batch_running               PC1 batches running
 *   (the pc1 batch series exist when a pc1 processor has batch > 1; wk_batcher.h)
 * plus the admin API's own sealpipe_rpc_* and sealpipe_http_* series.
 * Every function accepts a NULL wk_metrics (metrics off, e.g. in unit tests).
 */
#ifndef WK_METRICS_H
#define WK_METRICS_H

#include "sp_err.h"
#include "sp_metrics.h"
#include "wk_batcher.h"
#include "wk_config.h"
#include "wk_sector.h"

typedef struct wk_metrics {
    sp_metrics *reg;
    sp_metric *stage_seconds, *stage_failures, *transitions, *sectors;
    sp_metric *threads, *in_state, *proc_up, *proc_starts, *proc_running;
    sp_metric *batches, *batch_sectors, *batch_waiting, *batch_running;
} wk_metrics;

sp_code wk_metrics_init(wk_metrics *m, sp_err *err);
void wk_metrics_free(wk_metrics *m);

void wk_metrics_stage(const wk_metrics *m, wk_stage stage, double seconds, bool ok,
                      wk_level level);
void wk_metrics_transition(const wk_metrics *m, const char *event);
/* The PC1 batch series from the batcher's numbers (called when /metrics is collected). */
void wk_metrics_batches(const wk_metrics *m, const wk_batcher_stats *s);
/* result: "finished" or "aborted". */
void wk_metrics_sector(const wk_metrics *m, const char *result);

#endif
