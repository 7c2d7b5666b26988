/* sm_stores.h — persist stores: where finished sectors and deal data go.
 *
 * A store has a name (the key workers use: their `attached` entries name stores), a path,
 * a weight, a tier (hot, warm, cold), a media (nvme, hdd, object), a read-only flag,
 * allowed/denied miners (deny wins; an empty allow list allows every miner), an optional
 * capacity, a minimum free percentage, allowed/denied file types (SM_FT_* of
 * sm_policy.h; deny wins, no allow list allows all) and a failure domain
 * ("rack-a/host-3").  Stores come from manager.cfg (source "config", re-declared at
 * every start and reload) or from `storage attach` (source "cli", kept in the database).
 * Attaching writes a lotus-compatible sectorstore.json into the store's root;
 * `storage redeclare` reads it back (sm_stores_redeclare).
 *
 * Usage: available is the file system's free space (statvfs) and, with a capacity set, at
 * most capacity - bytes of the replicas stored there; a path the manager cannot see
 * counts with its capacity accounting alone (0 without a capacity).  Every store also
 * carries its heartbeat record (health.c): a store whose last heartbeat failed is in a
 * cool-down until cooldown_until_ms and takes no new data meanwhile.
 *
 * Placement (StoreReserveSpace, replica copies: placement.c): among the candidates, the
 * stores that are writable, allow the file type and the miner, are not cooling down, and
 * have room = available - reserved - min_free >= size; tiers are tried in the policy's
 * order (the kind's tiers, then its fallback tiers); within a tier the best is the one
 * with the largest room x weight x health score.  A reservation is one row per sector;
 * asking again for the same sector returns the same store.  Reservations are released
 * when the sector is finalized or aborted.
 *
 * Functions named *_in run inside the caller's open write transaction; the others open
 * their own.
 */
#ifndef SM_STORES_H
#define SM_STORES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_db.h"
#include "sp_err.h"

#define SM_STORE_NAME_MAX 128
#define SM_STORE_MINERS_MAX 512 /* text of the allow/deny lists: "1000,1001" */

typedef struct sm_store_def {
    char name[SM_STORE_NAME_MAX];
    char path[4096];
    uint64_t weight;                         /* 0 counts as 1 */
    char tier[16];                           /* hot, warm, cold */
    bool readonly;
    char allow_miners[SM_STORE_MINERS_MAX];  /* comma-separated actor ids; "" = all */
    char deny_miners[SM_STORE_MINERS_MAX];
    uint64_t capacity;                       /* bytes; 0 = the file system's size */
    char media[16];                          /* nvme, hdd, object ("" = hdd) */
    unsigned min_free_pct;                   /* placement leaves this much of the fs free */
    uint32_t allow_types;                    /* SM_FT_* bits (sm_policy.h); 0 = every type */
    uint32_t deny_types;                     /* wins over allow_types */
    char domain[128];                        /* failure domain "rack-a/host-3"; "" = its own */
} sm_store_def;

typedef struct sm_store_info {
    sm_store_def def;
    char source[8];          /* "config" or "cli" */
    bool reachable;          /* the path is a directory on this machine */
    uint64_t fs_total;       /* statvfs, 0 when unreachable */
    uint64_t fs_avail;
    uint64_t stored;         /* bytes of sectors persisted here */
    uint64_t sectors;        /* sectors persisted here */
    uint64_t reserved;       /* bytes reserved for sectors on their way */
    uint64_t reservations;
    uint64_t available;      /* what placement counts, before reservations */
    uint64_t copying;        /* bytes of replica copies on their way here */
    /* heartbeat (health.c); health_known false until the first heartbeat */
    bool health_known;
    bool healthy;            /* the last heartbeat passed */
    double score;            /* 0..1, history of heartbeats (1 without one) */
    uint64_t checked_ms, cooldown_until_ms;
    uint64_t write_us, read_us;
    uint64_t fails;          /* consecutive failed heartbeats */
    char health_error[256];
} sm_store_info;

/* The store's failure domain: def.domain, or "store:<name>" when it has none. */
const char *sm_store_domain(const sm_store_def *def, char *buf, size_t len);
/* True when the store takes every one of the file types (SM_FT_* bits). */
bool sm_store_allows_types(const sm_store_def *def, uint32_t types);
/* True when the store is cooling down after a failed heartbeat at now_ms. */
bool sm_store_cooling(const sm_store_info *s, uint64_t now_ms);

/* True when name is 1..127 bytes of [A-Za-z0-9._-] (it appears in paths and labels). */
bool sm_store_name_valid(const char *name);
/* True when actor passes the allow/deny lists of def. */
bool sm_store_allows(const sm_store_def *def, uint64_t actor);

/* Replaces the config-declared stores with defs (cli-attached ones are untouched; a
 * config store with the name of a cli store is an error). */
sp_code sm_stores_sync_config(sm_db *db, const sm_store_def *defs, size_t n, sp_err *err);
/* Attaches a store at run time; writes <path>/sectorstore.json unless one is there
 * (then its ID must be the store's name). */
sp_code sm_stores_attach(sm_db *db, const sm_store_def *def, sp_err *err);
/* Removes a cli-attached store; refused while it holds reservations. */
sp_code sm_stores_detach(sm_db *db, const char *name, sp_err *err);
sp_code sm_stores_set_weight(sm_db *db, const char *name, uint64_t weight, sp_err *err);

/* One store with its usage; SP_ENOTFOUND when unknown. */
sp_code sm_stores_get(sm_db *db, const char *name, sm_store_info *out, sp_err *err);
/* Every store with its usage, by name; *out is malloc'd. */
sp_code sm_stores_list(sm_db *db, sm_store_info **out, size_t *n, sp_err *err);

/* Reserves size bytes for sector (miner, number) among the candidate store names (all
 * stores when n_cands is 0).  *found is false when no store has room (not an error). */
sp_code sm_stores_reserve(sm_db *db, uint64_t miner, uint64_t number, uint64_t size,
                          const char *const *cands, size_t n_cands, sm_store_info *out,
                          bool *found, sp_err *err);
/* The same, trying the tiers of the storage policy's `sealed` layout in order (then its
 * fallback tiers); sc NULL: every tier alike. */
struct sm_storage_conf;
sp_code sm_stores_reserve_tiered(sm_db *db, const struct sm_storage_conf *sc, uint64_t miner,
                                 uint64_t number, uint64_t size, const char *const *cands,
                                 size_t n_cands, sm_store_info *out, bool *found, sp_err *err);

/* `storage redeclare`: reads <path>/sectorstore.json of a cli-attached store (or of every
 * cli store when name is NULL) and updates the store from its fields (Weight, CanStore /
 * ReadOnly, MaxStorage, AllowTypes, DenyTypes, AllowMiners, DenyMiners, and sealpipe's
 * Tier, Media, MinFreePct, Domain).  *changed counts updated stores; a store whose file
 * is missing or names another ID is reported in err and left as it is. */
sp_code sm_stores_redeclare(sm_db *db, const char *name, int *changed, sp_err *err);
/* Parses a sectorstore.json text into def (name from its ID). */
sp_code sm_stores_parse_meta(const char *text, size_t len, sm_store_def *def, sp_err *err);
sp_code sm_stores_release_in(sm_db *db, uint64_t miner, uint64_t number, sp_err *err);
/* Records that the sector's files are now in store (bytes counted as stored there). */
sp_code sm_stores_mark_persisted_in(sm_db *db, uint64_t miner, uint64_t number,
                                    const char *store, uint64_t bytes, sp_err *err);

/* Writes <def->path>/sectorstore.json (lotus LocalStorageMeta fields, ID = name, plus
 * Tier, Media, MinFreePct and Domain, which lotus ignores). */
sp_code sm_stores_write_meta(const sm_store_def *def, sp_err *err);

#endif
