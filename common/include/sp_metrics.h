/* sp_metrics.h — a small Prometheus registry: counters, gauges and histograms with labels.
 *
 * A registry (sp_metrics) holds metric families; a family has a name, help text, a type
 * and a fixed list of label names; each distinct tuple of label values is one series.
 * All calls are thread-safe.  sp_metrics_render() writes the Prometheus text exposition
 * format 0.0.4, served at /metrics by sp_http_metrics_handler (sp_http.h; its ctx is the
 * registry).
 *
 *   sp_metric *reqs;
 *   sp_metrics_counter(m, "sealpipe_rpc_requests_total", "RPC requests by method.",
 *                      "method", &reqs, &err);
 *   sp_metric_add(reqs, SP_LABELS("Venus.AllocateSector"), 1);
 *
 * Registering a name again returns the existing family when type and label names match
 * (so independent modules can share one), and fails otherwise.  A family holds at most
 * SP_METRICS_MAX_SERIES series; updates for further label tuples are dropped (logged once)
 * so hostile input cannot grow memory without bound.  Label values are escaped on output;
 * any byte string is accepted.  Collect hooks run before every render so a daemon can
 * refresh gauges (sectors by state, store usage) from its own state.
 */
#ifndef SP_METRICS_H
#define SP_METRICS_H

#include <stddef.h>

#include "sp_err.h"

typedef struct sp_metrics sp_metrics;
typedef struct sp_metric sp_metric;

#define SP_METRICS_MAX_LABELS 8
#define SP_METRICS_MAX_SERIES 10000
#define SP_METRICS_MAX_BUCKETS 32

/* Label values for one series, in the order of the family's label names. */
#define SP_LABELS(...) ((const char *const[]){ __VA_ARGS__ })

typedef enum sp_metric_type {
    SP_METRIC_COUNTER,
    SP_METRIC_GAUGE,
    SP_METRIC_HISTOGRAM,
} sp_metric_type;

sp_code sp_metrics_new(sp_metrics **out, sp_err *err);
/* Frees the registry and every family in it (sp_metric pointers become invalid). */
void sp_metrics_free(sp_metrics *m);

/* label_names: comma-separated ("method,code"), or NULL/"" for none.  Names must match
 * Prometheus' rules ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics, [a-zA-Z_][a-zA-Z0-9_]* for
 * labels, no "__" prefix, no "le" on histograms). */
sp_code sp_metrics_counter(sp_metrics *m, const char *name, const char *help,
                           const char *label_names, sp_metric **out, sp_err *err);
sp_code sp_metrics_gauge(sp_metrics *m, const char *name, const char *help,
                         const char *label_names, sp_metric **out, sp_err *err);
/* buckets: strictly increasing finite upper bounds (+Inf is implicit); NULL/0 selects
 * latency buckets from 0.5 ms to 10 s. */
sp_code sp_metrics_histogram(sp_metrics *m, const char *name, const char *help,
                             const char *label_names, const double *buckets, size_t n_buckets,
                             sp_metric **out, sp_err *err);

/* labels: as many values as the family has label names (NULL when it has none).
 * Counters ignore negative or NaN increments. */
void sp_metric_add(sp_metric *f, const char *const *labels, double v);
/* Gauges only. */
void sp_metric_set(sp_metric *f, const char *const *labels, double v);
/* Histograms only: counts v into its bucket and adds it to the sum. */
void sp_metric_observe(sp_metric *f, const char *const *labels, double v);
/* Drops every series of the family (a gauge set rebuilt from scratch at collect time). */
void sp_metric_reset(sp_metric *f);
/* Current value (counter/gauge) or observation count (histogram); 0 if no such series. */
double sp_metric_get(sp_metric *f, const char *const *labels);

/* fn runs (without any registry lock held) at the start of every render. */
typedef void (*sp_metrics_collect_fn)(void *ctx, sp_metrics *m);
sp_code sp_metrics_on_collect(sp_metrics *m, sp_metrics_collect_fn fn, void *ctx, sp_err *err);

/* Prometheus text format; *out is malloc'd and NUL-terminated. */
sp_code sp_metrics_render(sp_metrics *m, char **out, size_t *out_len, sp_err *err);

#define SP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
