/* sm_gc.h — garbage collection of store files, with an approval gate and a trash:
 *
 *   mark     (job gc-mark, periodic and `gc mark`) records, per store and path, what
 *            nothing needs any more: the replicas of aborted sectors; a replica that
 *            failed scrub once its object is whole again elsewhere; replicas beyond what
 *            the policy wants; files in sealed/, cache/ and unsealed/ that no replica
 *            record names (orphans), when older than storage.gc.orphan_age and not part
 *            of a copy, a persist or an unseal in flight.
 *   approve  (`gc approve ID...|--all`) marks the operator agrees with.
 *   sweep    (job gc-sweep, periodic and `gc sweep`) checks every approved mark again
 *            (still unreferenced, not pinned: else it is cancelled), drops the replica
 *            record and moves the files to <store>/.trash/<mark id>/ on the same store;
 *            trash older than storage.gc.retention is deleted, unless pinned meanwhile.
 * Pins (`gc pin TARGET`, and storage.pins in manager.cfg) protect a sector
 * ("s-t01000-5"), a piece (its CID) or an orphan ("orphan:<store>/<path>") from ever
 * being marked, trashed or deleted, and from tier moves.
 *
 * Mark states: marked, approved, trashed, deleted, cancelled.
 */
#ifndef SM_GC_H
#define SM_GC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_db.h"
#include "sm_policy.h"
#include "sm_stores.h"
#include "sp_err.h"

typedef struct sm_gc_mark {
    int64_t id;
    char store[SM_STORE_NAME_MAX];
    char path[256];                  /* relative to the store root */
    int64_t object_id;               /* 0 for an orphan */
    char target[300];                /* what a pin names */
    char reason[256];
    uint64_t size;
    char state[12];
    char trash[300];
    char note[256];
    uint64_t marked_ms, approved_ms, trashed_ms, done_ms;
} sm_gc_mark;

/* True when the target is pinned in the database or in the configuration (sc may be NULL). */
bool sm_gc_pinned(sm_db *db, const sm_storage_conf *sc, const char *target);
sp_code sm_gc_pin(sm_db *db, const char *target, const char *note, sp_err *err);
/* SP_ENOTFOUND when it was not pinned. */
sp_code sm_gc_unpin(sm_db *db, const char *target, sp_err *err);
/* Pins of the database, by target; *out is malloc'd (n strings of 300). */
sp_code sm_gc_pins(sm_db *db, char (**out)[300], size_t *n, sp_err *err);
/* True for a target a pin may name: a sector name, a canonical piece CID or an orphan. */
bool sm_gc_target_valid(const char *target);

/* Marks in a state ("" or NULL: marked, approved and trashed), oldest first. */
sp_code sm_gc_list(sm_db *db, const char *state, sm_gc_mark **out, size_t *n, sp_err *err);
/* Approves marks (ids; n 0: every mark in state marked); *approved counts them. */
sp_code sm_gc_approve(sm_db *db, const int64_t *ids, size_t n, int *approved, sp_err *err);

#endif
