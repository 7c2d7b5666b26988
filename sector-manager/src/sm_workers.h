/* sm_workers.h — what the manager knows about workers: their last WorkerPing (address,
 * version, thread summary) and the sectors they hold, for `workers list`. */
#ifndef SM_WORKERS_H
#define SM_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include "sm_db.h"
#include "sp_err.h"

typedef struct sm_worker_info {
    char name[128];
    char dest[128];          /* "ip:port" of the worker's admin API */
    char version[64];
    uint64_t threads, empty, paused, running, waiting, errors;
    uint64_t first_ms, last_ms;
    uint64_t sectors;        /* unfinalized sectors whose last report came from it */
} sm_worker_info;

/* Records a ping (insert or update). */
sp_code sm_workers_ping(sm_db *db, const sm_worker_info *w, sp_err *err);
/* Every worker, by name; *out is malloc'd. */
sp_code sm_workers_list(sm_db *db, sm_worker_info **out, size_t *n, sp_err *err);

#endif
