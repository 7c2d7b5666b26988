/* sm_core.h — the running manager's shared state, handed to every RPC and HTTP handler:
 * the database, the token key, the metrics registry, the current configuration snapshot
 * (with the chain clock), the seal verifier, and the storage service (sm_storage.h; NULL
 * where none runs, e.g. in unit tests).
 *
 * The configuration is replaced on SIGHUP; a handler takes a reference with
 * sm_core_conf() and drops it with sm_conf_unref() when it is done, so a reload never
 * changes the rules under a request.
 */
#ifndef SM_CORE_H
#define SM_CORE_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sm_commits.h"
#include "sm_conf.h"
#include "sm_db.h"
#include "sm_tokens.h"
#include "sp_metrics.h"

typedef struct sm_core {
    sm_db *db;
    sm_tokens tokens;
    sp_metrics *metrics;          /* may be NULL (tests) */
    pthread_mutex_t conf_mu;
    sm_conf *conf;
    atomic_uint pick;             /* rotates AllocateSector among miners */
    sm_verify_fn verify;
    void *verify_ctx;
    char home[PATH_MAX];
    uint64_t started_ms;
    struct sm_storage *storage;   /* set by the daemon once the service runs */
} sm_core;

/* Initialises c around an open database and a loaded configuration (takes the
 * configuration's reference). */
void sm_core_init(sm_core *c, sm_db *db, const sm_tokens *tokens, sm_conf *conf,
                  sp_metrics *metrics, const char *home);
void sm_core_destroy(sm_core *c);

/* The current configuration with a reference the caller drops (sm_conf_unref). */
sm_conf *sm_core_conf(sm_core *c);
/* Installs a new configuration (takes its reference) and drops the old one. */
void sm_core_set_conf(sm_core *c, sm_conf *conf);

/* The auth hook of the RPC server: ctx is the sm_core. */
sp_code sm_core_auth(void *ctx, const char *token, uint32_t *scopes, sp_err *err);

#endif
