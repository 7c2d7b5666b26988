/* metrics.c — registering and updating the worker's metrics (wk_metrics.h); the gauges
 * of threads and processors are refreshed by the daemon's collect hook. */
#include <string.h>

#include "wk_metrics.h"

/* Stage tasks last from milliseconds (2KiB) to hours (PC1 of 32GiB). */
static const double stage_buckets[] = { 0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600,
                                        7200, 14400, 28800 };

sp_code wk_metrics_init(wk_metrics *m, sp_err *err)
{
    memset(m, 0, sizeof *m);
    sp_code rc = sp_metrics_new(&m->reg, err);
    if (rc)
        return rc;
    if ((rc = sp_metrics_histogram(m->reg, "sealpipe_worker_stage_seconds",
                                   "Duration of successful stage tasks, waiting for a processor "
                                   "included.", "stage", stage_buckets,
                                   sizeof stage_buckets / sizeof stage_buckets[0],
                                   &m->stage_seconds, err)) ||
        (rc = sp_metrics_counter(m->reg, "sealpipe_worker_stage_failures_total",
                                 "Failed stage tasks by level (temporary ones are retried).",
                                 "stage,level", &m->stage_failures, err)) ||
        (rc = sp_metrics_counter(m->reg, "sealpipe_worker_transitions_total",
                                 "Sector state transitions saved, by event.", "event",
                                 &m->transitions, err)) ||
        (rc = sp_metrics_counter(m->reg, "sealpipe_worker_sectors_total",
                                 "Sectors that left a sealing thread, finished or aborted.",
                                 "result", &m->sectors, err)) ||
        (rc = sp_metrics_gauge(m->reg, "sealpipe_worker_threads",
                               "Sealing threads by what they do now.", "job", &m->threads, err)) ||
        (rc = sp_metrics_gauge(m->reg, "sealpipe_worker_sectors_in_state",
                               "Sectors held by the sealing threads, by state.", "state",
                               &m->in_state, err)) ||
        (rc = sp_metrics_gauge(m->reg, "sealpipe_worker_processor_up",
                               "1 when the processor child is running and ready.", "stage,index",
                               &m->proc_up, err)) ||
        (rc = sp_metrics_gauge(m->reg, "sealpipe_worker_processor_starts",
                               "Processes started for the processor (restarts + 1).",
                               "stage,index", &m->proc_starts, err)) ||
        (rc = sp_metrics_gauge(m->reg, "sealpipe_worker_processor_running",
                               "Tasks in flight in the processor.", "stage,index",
                               &m->proc_running, err)) ||
        (rc = sp_metrics_counter(m->reg, "sealpipe_worker_pc1_batches_total",
                                 "PC1 batches started: full, or after batch_wait.", "reason",
                                 &m->batches, err)) ||
        (rc = sp_metrics_counter(m->reg, "sealpipe_worker_pc1_batch_sectors_total",
                                 "Sectors sent in PC1 batches (a retried sector counts again).",
                                 NULL, &m->batch_sectors, err)) ||
        (rc = sp_metrics_gauge(m->reg, "sealpipe_worker_pc1_batch_waiting",
                               "PC1 calls of sealing threads waiting for a batch.", NULL,
                               &m->batch_waiting, err)) ||
        (rc = sp_metrics_gauge(m->reg, "sealpipe_worker_pc1_batch_running",
                               "PC1 batches running.", NULL, &m->batch_running, err))) {
        wk_metrics_free(m);
        return rc;
    }
    return SP_OK;
}

void wk_metrics_free(wk_metrics *m)
{
    if (m && m->reg)
        sp_metrics_free(m->reg);
    if (m)
        memset(m, 0, sizeof *m);
}

void wk_metrics_stage(const wk_metrics *m, wk_stage stage, double seconds, bool ok,
                      wk_level level)
{
    if (!m || !m->reg)
        return;
    if (ok)
        sp_metric_observe(m->stage_seconds, SP_LABELS(wk_stage_name(stage)), seconds);
    else
        sp_metric_add(m->stage_failures, SP_LABELS(wk_stage_name(stage), wk_level_name(level)), 1);
}

void wk_metrics_transition(const wk_metrics *m, const char *event)
{
    if (m && m->reg)
        sp_metric_add(m->transitions, SP_LABELS(event), 1);
}

/* Counters follow the batcher's own totals: only the growth since the last look is added. */
static void follow(sp_metric *f, const char *const *labels, uint64_t total)
{
    double now = sp_metric_get(f, labels);
    if ((double)total > now)
        sp_metric_add(f, labels, (double)total - now);
}

void wk_metrics_batches(const wk_metrics *m, const wk_batcher_stats *s)
{
    if (!m || !m->reg)
        return;
    follow(m->batches, SP_LABELS("full"), s->full);
    follow(m->batches, SP_LABELS("waited"), s->waited);
    follow(m->batch_sectors, NULL, s->sectors);
    sp_metric_set(m->batch_waiting, NULL, s->waiting);
    sp_metric_set(m->batch_running, NULL, s->running);
}

void wk_metrics_sector(const wk_metrics *m, const char *result)
{
    if (m && m->reg)
        sp_metric_add(m->sectors, SP_LABELS(result), 1);
}
