/* sm_conf.h — manager.cfg: its schema, loading into an immutable snapshot, and the
 * commented default file that `sector-manager init` writes (config/manager.cfg,
 * embedded at build time).
 *
 * A snapshot is reference counted: the daemon swaps in a new one on SIGHUP while
 * requests that started with the old one finish with it.  Relative paths in the file
 * are resolved against the file's directory (the manager's home for <home>/manager.cfg).
 * Every mistake is reported as "FILE:LINE: key.path: what is wrong".
 */
#ifndef SM_CONF_H
#define SM_CONF_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_chain.h"
#include "sm_policy.h"
#include "sm_stores.h"
#include "sp_config.h"
#include "sp_err.h"

#define SM_MAX_PROOFS 8

typedef struct sm_miner_conf {
    uint64_t actor;
    int proofs[SM_MAX_PROOFS];   /* allowed seal proof ids (V1_1 of each size) */
    size_t n_proofs;
    uint64_t first_number;
    uint64_t max_number;
    bool enabled;                /* hands out new sectors */
    bool deals;                  /* AcquireDeals packs queued pieces */
} sm_miner_conf;

typedef struct sm_conf {
    atomic_int refs;
    sp_config *cfg;
    char file[PATH_MAX];
    char dir[PATH_MAX];          /* directory of the file: base of relative paths */

    const char *listen;
    unsigned threads;
    unsigned max_connections;
    unsigned idle_timeout_s;
    uint64_t max_body;

    const char *db_driver;
    char db_path[PATH_MAX];

    sm_chain_params chain_params;
    sm_chain chain;              /* the clock; filled by the daemon from the database */

    sm_miner_conf *miners;
    size_t n_miners;
    sm_store_def *stores;
    size_t n_stores;

    char piece_dir[PATH_MAX];
    int log_level;               /* sp_log_level */
    sm_storage_conf storage;     /* the `storage` group: tiers, policy, caches, ... */
} sm_conf;

extern const sp_cfg_field sm_conf_schema[];
/* The text of config/manager.cfg, NUL-terminated (generated at build time). */
extern const char sm_default_config[];

/* Loads and checks file into a new snapshot with one reference.  all (optional)
 * receives every schema problem, one per line (free it). */
sp_code sm_conf_load(const char *file, sm_conf **out, char **all, sp_err *err);
/* Same for text in memory, reported as file `name` (tests). */
sp_code sm_conf_load_string(const char *text, const char *name, sm_conf **out, char **all,
                            sp_err *err);
void sm_conf_ref(sm_conf *c);
void sm_conf_unref(sm_conf *c);

/* The miner's entry, or NULL. */
const sm_miner_conf *sm_conf_miner(const sm_conf *c, uint64_t actor);
bool sm_miner_allows_proof(const sm_miner_conf *m, int proof_id);

#endif
