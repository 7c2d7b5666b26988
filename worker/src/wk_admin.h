/* wk_admin.h — the worker's admin API on `worker.listen`: JSON-RPC 2.0 at /rpc/v0 for
 * `seal-worker threads` and `seal-worker info`, GET /metrics (Prometheus, wk_metrics.h)
 * and GET /healthcheck, both without a token.
 *
 * Auth: "Authorization: Bearer <token>" where token is the worker's own manager token
 * (sector_manager.token or token_file): whoever may act as this worker towards the
 * manager may control it; nobody else may.  Comparison is constant-time.
 *
 * Methods (params positional):
 *   Worker.Info []                        {name, version, manager, listen, threads:[...],
 *                                          processors:[{stage,index,pid,state,running,
 *                                          concurrent,starts,failures,binding,last_error}]}
 *   Worker.ThreadsList []                 [{index, location, plan, job, sector, state, stage,
 *                                          activity, since_ms, pid, retry, paused,
 *                                          error_level, last_error}]
 *   Worker.ThreadsPause [index]           null
 *   Worker.ThreadsResume [index, state?]  null  (state: a state name of the thread's plan)
 *   Worker.ThreadsAbort [index, reason?]  null  (tells the manager, cleans the location)
 * Errors: an index out of range is "not found" (-32003); pausing a paused thread, resuming
 * one that is not paused and aborting an empty thread are "state" errors (-32005).
 */
#ifndef WK_ADMIN_H
#define WK_ADMIN_H

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "sp_jsonrpc.h"
#include "sp_metrics.h"
#include "wk_processor.h"
#include "wk_thread.h"

typedef struct wk_admin wk_admin;

typedef struct wk_admin_opts {
    const char *listen;              /* "127.0.0.1:17890" (port 0: any free port) */
    const char *token;               /* required */
    const char *name;                /* the worker's name */
    const char *manager_url;
    wk_thread **threads;
    int nthreads;
    wk_procs *procs;                 /* may be NULL */
    sp_metrics *metrics;             /* served at GET /metrics; may be NULL */
} wk_admin_opts;

sp_code wk_admin_start(const wk_admin_opts *o, wk_admin **out, sp_err *err);
/* "127.0.0.1:17890" as bound. */
const char *wk_admin_address(const wk_admin *a);
/* The JSON-RPC server behind /rpc/v0, for in-process callers (the fuzz target runs
 * requests through it with sp_rpc_server_handle). */
sp_rpc_server *wk_admin_rpc(const wk_admin *a);
void wk_admin_free(wk_admin *a);

/* The processors' status as JSON (also used by `info`). */
cJSON *wk_admin_procs_json(wk_procs *p);

#endif
