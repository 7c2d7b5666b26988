/* sm_health.h — store heartbeats: every store the manager can reach is checked on a
 * period (storage.health.interval): it must be a directory whose sectorstore.json names
 * the store (written when missing, unless the store passed a heartbeat before: then it is
 * the bare mount point of an unmounted store), statvfs must answer, and (for a writable
 * store) a small file must be written,
 * fsynced, read back and removed within max_latency.  The result goes to store_health:
 * free space, write and read latency, consecutive failures, lifetime checks and failures,
 * a score (exponentially weighted success rate, 0..1, used by placement) and a cool-down:
 * a failed heartbeat keeps the store out of placement until now + cooldown, and the
 * reconciler stops counting its replicas (a vanished store's replicas are re-created
 * elsewhere).
 */
#ifndef SM_HEALTH_H
#define SM_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "sm_db.h"
#include "sm_stores.h"
#include "sp_err.h"

typedef struct sm_health_sample {
    bool ok;
    uint64_t fs_avail;
    uint64_t write_us, read_us;
    char error[256];
} sm_health_sample;

/* Checks one store now (file system only); a missing sectorstore.json is written. */
void sm_health_probe(const sm_store_def *def, uint64_t max_latency_ms, sm_health_sample *out);
/* True when the store passed a heartbeat before: its sectorstore.json existed, so a
 * missing one now means the store is not there (unmounted) and is not written again. */
bool sm_health_seen_ok(sm_db *db, const char *store);
/* Records a sample: score, counters and cool-down (cooldown_ms after a failure). */
sp_code sm_health_record(sm_db *db, const char *store, const sm_health_sample *s,
                         uint64_t cooldown_ms, sp_err *err);
/* Probes and records every store; returns how many failed. */
int sm_health_check_all(sm_db *db, uint64_t max_latency_ms, uint64_t cooldown_ms);

#endif
