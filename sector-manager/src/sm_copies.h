/* sm_copies.h — the durable journal of replica copies and tier moves, and the code that
 * carries one out: copy, verify, switch, then (for a move) delete the source.
 *
 * A journal row names the object, the source store ("" = the manager's piece store, for
 * unsealed data that has no replica yet), the destination store and the policy tier the
 * new replica stands for.  States:
 *   planned    written by the reconciler or a move rule
 *   copying    files are being written to hidden temporaries in their final directories
 *              (.copy-<id>.<name>), hashed (SHA-256) while written, fsynced, then read
 *              back and hashed again; only when the two hashes match are they renamed into
 *              place.  After a crash a copy in this state starts over: its temporaries are
 *              removed and the copy is redone (renaming over a complete earlier copy of the
 *              same bytes is harmless).
 *   switched   in one durable transaction the destination replica was recorded and, for a
 *              move, the source replica dropped and the move added to the object's moves
 *              (sectors.store follows a moved sealed sector).  Only now are a move's
 *              source files deleted; after a crash they are deleted on resume.
 *   done / failed (error says why; the source is never touched by a failed copy).
 * So a move interrupted at any point leaves the source intact until the destination is
 * verified and recorded, and exactly one copy once it resumes.
 *
 * Test pause points (sm_testhook.h): "copy-written" (temporaries written, not verified),
 * "move-switched" (recorded, source not yet deleted).
 */
#ifndef SM_COPIES_H
#define SM_COPIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_db.h"
#include "sm_policy.h"
#include "sm_stores.h"
#include "sp_err.h"

typedef struct sm_copy {
    int64_t id, object_id;
    char src[SM_STORE_NAME_MAX];     /* "" = the piece store */
    char dst[SM_STORE_NAME_MAX];
    sm_tier tier;
    bool move;
    char move_from[8];               /* tier the object leaves (moves) */
    char reason[160];
    char state[12];
    uint64_t size;
    char error[256];
    uint64_t created_ms, updated_ms;
} sm_copy;

typedef struct sm_copy_env {
    sm_db *db;
    const char *piece_dir;           /* the piece store (src "") */
    const volatile int *stop;        /* non-zero: stop between chunks; resumed later */
} sm_copy_env;

/* Adds a planned copy inside the caller's write transaction. */
sp_code sm_copies_plan_in(sm_db *db, const sm_copy *c, int64_t *id, sp_err *err);
/* Copies not done or failed, oldest first. */
sp_code sm_copies_open(sm_db *db, sm_copy **out, size_t *n, sp_err *err);
/* The newest copies (any state), at most limit. */
sp_code sm_copies_recent(sm_db *db, size_t limit, sm_copy **out, size_t *n, sp_err *err);
/* True when the object has a copy that is not done or failed. */
bool sm_copies_busy(sm_db *db, int64_t object_id);
/* Carries a copy to done or failed (resuming from its state).  SP_OK when it is done;
 * SP_EBUSY when stopped (still open); otherwise the error that failed it. */
sp_code sm_copies_run(const sm_copy_env *env, int64_t id, sp_err *err);

/* Hash of an object's files in a directory tree as the copy verifies them: SHA-256 over,
 * for each file (sealed file, then cache files by name), its name, NUL, its size (8 bytes
 * LE) and its bytes.  Used by tests and `replicas fix` reports. */
sp_code sm_copies_tree_hash(const char *store_path, int64_t object_id, sm_db *db,
                            uint8_t out[32], sp_err *err);

#endif
