/* sm_unseal.h — unseal tasks: when a retrieval finds no copy of a piece's bytes, the
 * manager asks a worker thread with plan = "unseal" to recover them from the sealed
 * sector, and answers 503 with Retry-After until the data is back.
 *
 * Task states:
 *   queued    created by a retrieval miss or the reconciler (one open task per piece)
 *   assigned  handed to a worker by Venus.AllocateUnsealSector; back to queued when the
 *             worker does not finish within storage.unseal.timeout
 *   uploaded  the worker wrote the piece's unpadded bytes to the store Venus.AcquireUnsealDest
 *             named (store://<store>/unsealed/<piece CID>) and called
 *             Venus.AchieveUnsealSector without an error
 *   done      the storage service verified them (length, zero fill past the payload,
 *             CommP equal to the piece CID) and recorded the replica
 *   failed    three failed attempts (error says why); a new miss queues a new task
 * The piece's offset and size in the sector are unpadded (what unseal_range takes):
 * offset = padded deal offset / 128 * 127, size = padded piece size / 128 * 127.
 */
#ifndef SM_UNSEAL_H
#define SM_UNSEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealproofs.h"
#include "sm_conf.h"
#include "sm_db.h"
#include "sp_err.h"

#define SM_UNSEAL_ATTEMPTS 3

typedef struct sm_unseal_task {
    int64_t id;
    char piece[PF_COMMCID_STR_MAX];
    uint64_t miner, number;
    uint64_t offset, size;           /* unpadded, in the sector */
    char state[12];
    char worker[128];
    char dest[128];                  /* store the data goes to */
    uint64_t attempts;
    char error[256];
    uint64_t created_ms, updated_ms;
} sm_unseal_task;

/* Makes sure an open task exists for the piece: *open is true when one does (new or
 * not); false, with why, when no sealed sector holds the piece. */
sp_code sm_unseal_request(sm_db *db, const char *piece, bool *open, char *why, size_t why_len,
                          sp_err *err);
/* Hands the oldest queued task of one of the miners (any when n_miners is 0) to worker. */
sp_code sm_unseal_allocate(sm_db *db, const uint64_t *miners, size_t n_miners, const char *worker,
                           sm_unseal_task *out, bool *found, sp_err *err);
/* The open task of (sector, piece). */
sp_code sm_unseal_get(sm_db *db, uint64_t miner, uint64_t number, const char *piece,
                      sm_unseal_task *out, sp_err *err);
/* Chooses and records the store the worker writes to (placement for an unsealed replica
 * among cands, or every store when n_cands is 0); *store gets its name. */
sp_code sm_unseal_dest(sm_db *db, const sm_conf *conf, uint64_t miner, uint64_t number,
                       const char *piece, const char *const *cands, size_t n_cands, char *store,
                       size_t store_len, sp_err *err);
/* The worker is done: error_info "" means the data is in the destination store. */
sp_code sm_unseal_achieve(sm_db *db, uint64_t miner, uint64_t number, const char *piece,
                          const char *error_info, sp_err *err);
/* Assigned tasks older than timeout_ms go back to the queue. */
sp_code sm_unseal_expire(sm_db *db, uint64_t timeout_ms, int *requeued, sp_err *err);
/* True when some task is uploaded (waiting for verification). */
sp_code sm_unseal_uploaded(sm_db *db, bool *any, sp_err *err);
/* Tasks of a piece (every piece when NULL), newest first, at most limit. */
sp_code sm_unseal_list(sm_db *db, const char *piece, size_t limit, sm_unseal_task **out, size_t *n,
                       sp_err *err);

#endif
