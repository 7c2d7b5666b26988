/* sm_objects.h — the files the manager keeps replicas of, and where each replica is.
 *
 * An object is a sector's sealed data (kind sealed, name "s-t01000-5": the sealed file
 * and the cache directory, created when a worker's SubmitPersisted is accepted) or a
 * deal piece's bytes (kind unsealed, name = piece CID, created when the piece is
 * imported).  A replica is one copy in one store, laid out as lotus does:
 *   sealed    <store>/sealed/s-t0M-N  and  <store>/cache/s-t0M-N/
 *   unsealed  <store>/unsealed/<piece CID>
 * Replica states: ok; missing (light scrub, retrieval or a vanished store found no file);
 * corrupt (wrong size, a block or PoSt challenge failed).  A replica also records the
 * tier it stands for in the policy (a replica placed on a fallback tier counts for the
 * tier it replaces).  accessed_ms tracks reads (for idle moves); flagged keeps the last
 * read failure until a repair clears it.
 *
 * Names reach the file system only through sm_object_paths(), which builds them from a
 * validated sector id or a canonical piece CID, never from request text.
 */
#ifndef SM_OBJECTS_H
#define SM_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_db.h"
#include "sm_policy.h"
#include "sm_stores.h"
#include "sp_err.h"

#define SM_OBJECT_NAME_MAX 96

typedef struct sm_object {
    int64_t id;
    sm_kind kind;
    char name[SM_OBJECT_NAME_MAX];
    uint64_t miner, number;          /* sealed */
    uint64_t size;                   /* bytes of all its files */
    char moves[64];                  /* tier moves applied: "hot>warm" */
    uint64_t created_ms, accessed_ms;
    char flagged[256];
} sm_object;

typedef struct sm_replica {
    int64_t object_id;
    char store[SM_STORE_NAME_MAX];
    sm_tier tier;
    char state[12];                  /* ok, missing, corrupt */
    uint64_t size;
    uint64_t created_ms, checked_ms, deep_ms;
    char finding[256];
} sm_replica;

/* Relative paths of an object's files in a store: main (sealed/s-t0M-N or
 * unsealed/<cid>) and, for sealed, cache (cache/s-t0M-N; "" otherwise). */
sp_code sm_object_paths(const sm_object *o, char *main_rel, size_t main_len, char *cache_rel,
                        size_t cache_len, sp_err *err);

sp_code sm_objects_get(sm_db *db, sm_kind kind, const char *name, sm_object *out, sp_err *err);
sp_code sm_objects_get_id(sm_db *db, int64_t id, sm_object *out, sp_err *err);
/* Objects with id > after_id, by id, at most limit. */
sp_code sm_objects_list(sm_db *db, int64_t after_id, size_t limit, sm_object **out, size_t *n,
                        sp_err *err);
/* The unsealed object of an imported piece (inside the caller's write transaction). */
sp_code sm_objects_ensure_unsealed_in(sm_db *db, const char *piece_cid, uint64_t size, sp_err *err);

sp_code sm_objects_replicas(sm_db *db, int64_t object_id, sm_replica **out, size_t *n, sp_err *err);
/* Replicas on one store (for scrub and redeclare). */
sp_code sm_objects_replicas_on(sm_db *db, const char *store, sm_replica **out, size_t *n,
                               sp_err *err);
/* Records or replaces a replica (state ok) inside the caller's write transaction. */
sp_code sm_replica_put_in(sm_db *db, int64_t object_id, const char *store, sm_tier tier,
                          uint64_t size, sp_err *err);
sp_code sm_replica_delete_in(sm_db *db, int64_t object_id, const char *store, sp_err *err);
/* Sets a replica's state and finding (NULL clears it); deep marks a deep check. */
sp_code sm_replica_set_state(sm_db *db, int64_t object_id, const char *store, const char *state,
                             const char *finding, bool deep, sp_err *err);

/* Records a read failure on the object (and a finding); NULL clears the flag. */
sp_code sm_objects_flag(sm_db *db, int64_t object_id, const char *what, sp_err *err);
/* accessed_ms = now for these objects (one transaction). */
sp_code sm_objects_touch(sm_db *db, const int64_t *ids, size_t n, uint64_t now_ms, sp_err *err);

/* Records a finding (source: light, deep, retrieval, heartbeat, reconcile). */
sp_code sm_findings_add(sm_db *db, const char *source, const char *store, int64_t object_id,
                        const char *what, sp_err *err);
/* Marks the object's open findings resolved. */
sp_code sm_findings_resolve_in(sm_db *db, int64_t object_id, sp_err *err);

/* `storage redeclare`: registers the replicas a store holds (files of known objects with
 * the right size) and marks recorded replicas whose files are gone as missing. */
sp_code sm_objects_scan_store(sm_db *db, const sm_store_info *st, int *found, int *missing,
                              sp_err *err);

/* A readable copy of a piece's bytes. */
typedef struct sm_source {
    char path[4200];
    char store[SM_STORE_NAME_MAX];     /* "" for the piece store */
    sm_tier tier;
    bool piece_store;
} sm_source;

/* The copies of an unsealed piece a reader may use, best first: ok replicas on stores not
 * cooling down (hot, then warm, then cold), then the piece store's file when it exists.
 * *object_id gets the piece's object (0 when it has none). */
sp_code sm_piece_sources(sm_db *db, const char *piece_dir, const char *cid, sm_source *out,
                         size_t max, size_t *n, int64_t *object_id, sp_err *err);

/* Byte size of a replica's files on disk (sealed: sealed file + regular files of the cache
 * directory); -1 when the main file is missing.  *has_p_aux / *has_tree_r (may be NULL)
 * tell whether the cache directory holds what proving needs. */
int64_t sm_replica_disk_size(const char *store_path, const sm_object *o, bool *has_p_aux,
                             bool *has_tree_r);

#endif
