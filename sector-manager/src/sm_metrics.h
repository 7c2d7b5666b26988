/* sm_metrics.h — the manager's Prometheus gauges, refreshed from the database at every
 * scrape of /metrics:
 *   sealpipe_manager_sectors{miner,state}             sectors by state and miner
 *   sealpipe_manager_store_capacity_bytes{store}      file system size (or capacity)
 *   sealpipe_manager_store_available_bytes{store}     what placement counts, before reservations
 *   sealpipe_manager_store_reserved_bytes{store}      reserved for sectors on their way
 *   sealpipe_manager_store_reservations{store}
 *   sealpipe_manager_store_used_bytes{store}          bytes of sectors persisted there
 *   sealpipe_manager_store_sectors{store}
 *   sealpipe_manager_chain_epoch                      the local chain's head
 *   sealpipe_manager_workers                          workers that ever pinged
 * RPC counts and latencies by method come from the JSON-RPC server (sp_jsonrpc.h). */
#ifndef SM_METRICS_H
#define SM_METRICS_H

#include "sm_core.h"
#include "sp_metrics.h"

typedef struct sm_metrics_set {
    sm_core *core;
    sp_metric *sectors;
    sp_metric *store_capacity, *store_available, *store_reserved, *store_reservations;
    sp_metric *store_used, *store_sectors;
    sp_metric *epoch, *workers;
} sm_metrics_set;

/* Registers the gauges in reg and the hook that refreshes them. */
sp_code sm_metrics_setup(sm_metrics_set *m, sm_core *core, sp_metrics *reg, sp_err *err);

#endif
