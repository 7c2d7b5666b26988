/* metrics.c — the manager's gauges, refreshed from the database at scrape time. */
#include "sm_metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "sm_sectors.h"
#include "sm_stores.h"
#include "sm_workers.h"
#include "sp_log.h"

static void collect(void *ctx, sp_metrics *reg)
{
    (void)reg;
    sm_metrics_set *m = ctx;
    sm_core *c = m->core;
    sp_err err;
    sm_state_count *counts = NULL;
    size_t n = 0;
    sp_metric_reset(m->sectors);
    if (sm_sectors_count_states(c->db, &counts, &n, &err) == SP_OK) {
        for (size_t i = 0; i < n; i++) {
            char miner[24];
            snprintf(miner, sizeof miner, "%" PRIu64, counts[i].miner);
            sp_metric_set(m->sectors, SP_LABELS(miner, counts[i].state), (double)counts[i].count);
        }
    } else {
        SP_WARN("metrics: counting sectors: %s", err.msg);
    }
    free(counts);

    sm_store_info *st = NULL;
    sp_metric *store_gauges[] = { m->store_capacity, m->store_available, m->store_reserved,
                                  m->store_reservations, m->store_used, m->store_sectors };
    for (size_t i = 0; i < sizeof store_gauges / sizeof store_gauges[0]; i++)
        sp_metric_reset(store_gauges[i]);
    if (sm_stores_list(c->db, &st, &n, &err) == SP_OK) {
        for (size_t i = 0; i < n; i++) {
            const char *const *l = SP_LABELS(st[i].def.name);
            uint64_t cap = st[i].def.capacity ? st[i].def.capacity : st[i].fs_total;
            sp_metric_set(m->store_capacity, l, (double)cap);
            sp_metric_set(m->store_available, l, (double)st[i].available);
            sp_metric_set(m->store_reserved, l, (double)st[i].reserved);
            sp_metric_set(m->store_reservations, l, (double)st[i].reservations);
            sp_metric_set(m->store_used, l, (double)st[i].stored);
            sp_metric_set(m->store_sectors, l, (double)st[i].sectors);
        }
    } else {
        SP_WARN("metrics: listing stores: %s", err.msg);
    }
    free(st);

    sm_conf *conf = sm_core_conf(c);
    sp_metric_set(m->epoch, NULL, (double)sm_chain_head(&conf->chain));
    sm_conf_unref(conf);
    sm_worker_info *w = NULL;
    if (sm_workers_list(c->db, &w, &n, &err) == SP_OK)
        sp_metric_set(m->workers, NULL, (double)n);
    free(w);
}

sp_code sm_metrics_setup(sm_metrics_set *m, sm_core *core, sp_metrics *reg, sp_err *err)
{
    m->core = core;
    sp_code rc;
    if ((rc = sp_metrics_gauge(reg, "sealpipe_manager_sectors", "Sectors by miner and state.",
                               "miner,state", &m->sectors, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_store_capacity_bytes",
                               "Size of the persist store (its capacity when set).", "store",
                               &m->store_capacity, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_store_available_bytes",
                               "Bytes placement may use in the store, before reservations.", "store",
                               &m->store_available, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_store_reserved_bytes",
                               "Bytes reserved for sectors being persisted.", "store",
                               &m->store_reserved, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_store_reservations",
                               "Sectors holding a reservation in the store.", "store",
                               &m->store_reservations, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_store_used_bytes",
                               "Bytes of sectors persisted in the store.", "store", &m->store_used,
                               err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_store_sectors",
                               "Sectors persisted in the store.", "store", &m->store_sectors, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_chain_epoch", "Head epoch of the local chain.",
                               NULL, &m->epoch, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_manager_workers", "Workers that have pinged.", NULL,
                               &m->workers, err)))
        return rc;
    return sp_metrics_on_collect(reg, collect, m, err);
}
