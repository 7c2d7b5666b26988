/* wk_mgr.h — the worker's client of the sector-manager: typed wrappers of the worker-scope
 * JSON-RPC methods (docs/rpc.md; damocles' SealerAPI names in the "Venus." namespace) and
 * the piece download, over one thread-safe connection.
 *
 * Wire shapes: params are positional arrays; SectorID is {"Miner","Number"}; 32-byte
 * commitments are arrays of 32 numbers; tickets, seeds and proofs are base64; CIDs are
 * {"/": "..."}.  Calls retry connection failures a few times (sp_rpc_client); every
 * other failure is returned with the remote message: SP_ENET/SP_ETIMEOUT when the
 * manager did not answer, SP_EAUTH for a refused token, and for a JSON-RPC error the
 * sp_code its code maps to (sp_rpc_code_to_sp), e.g. SP_ESTATE for an aborted sector.
 */
#ifndef WK_MGR_H
#define WK_MGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"
#include "wk_sector.h"

typedef struct wk_mgr wk_mgr;

/* Manager errors a retry cannot fix (docs/rpc.md "Errors": invalid params, refused
 * token, unknown sector or store, already exists) come back as SP_EINVAL, SP_EAUTH,
 * SP_ENOTFOUND, SP_EEXIST; internal errors and a verifier that could not run as SP_EIO and
 * SP_EBUSY; a state conflict (aborted sector, ...) as SP_ESTATE.
 *
 * url: "http://host:port" (the RPC is at url/rpc/v0, pieces at url/pieces/<cid>). */
sp_code wk_mgr_new(const char *url, const char *token, wk_mgr **out, sp_err *err);
void wk_mgr_free(wk_mgr *m);

/* True when the last call (of any thread) got no answer at all: the manager is down or
 * unreachable.  Callers skip what can wait (state reports) until a call answers again. */
bool wk_mgr_down(wk_mgr *m);

/* Reads a token from a file (first line, surrounding white space removed); warns when
 * the file can be read by others. */
sp_code wk_mgr_read_token(const char *path, char **out, sp_err *err);

/* damocles SubmitResult and OnChainState codes. */
enum {
    WK_SUBMIT_ACCEPTED = 1,
    WK_SUBMIT_DUPLICATE = 2,
    WK_SUBMIT_MISMATCHED = 3,
    WK_SUBMIT_REJECTED = 4,
    WK_SUBMIT_FILES_MISSED = 5,
};
enum {
    WK_ONCHAIN_PENDING = 1,
    WK_ONCHAIN_PACKED = 2,
    WK_ONCHAIN_LANDED = 3,
    WK_ONCHAIN_NOT_FOUND = 4,
    WK_ONCHAIN_FAILED = 5,
    WK_ONCHAIN_PERM_FAILED = 6,
    WK_ONCHAIN_SHOULD_ABORT = 7,
};

typedef struct wk_mgr_answer {
    int code;
    char desc[512];
} wk_mgr_answer;

/* AllocateSector: *found false when the manager has nothing for this spec. */
sp_code wk_mgr_allocate_sector(wk_mgr *m, const int64_t *miners, int nminers,
                               const int *proofs, int nproofs, bool *found, uint64_t *miner,
                               uint64_t *number, int *proof_id, sp_err *err);
/* AcquireDeals: the sector's deal pieces (at most max), *n = 0 for none. */
sp_code wk_mgr_acquire_deals(wk_mgr *m, uint64_t miner, uint64_t number, wk_piece *out, int max,
                             int *n, sp_err *err);
sp_code wk_mgr_assign_ticket(wk_mgr *m, uint64_t miner, uint64_t number, uint8_t ticket[32],
                             int64_t *epoch, sp_err *err);
sp_code wk_mgr_submit_precommit(wk_mgr *m, const wk_sector *s, bool reset, wk_mgr_answer *a,
                                sp_err *err);
sp_code wk_mgr_poll_precommit(wk_mgr *m, uint64_t miner, uint64_t number, wk_mgr_answer *a,
                              sp_err *err);
/* StoreReserveSpace: *found false when no candidate has room. */
sp_code wk_mgr_store_reserve(wk_mgr *m, uint64_t miner, uint64_t number, uint64_t size,
                             const char *const *candidates, int n, bool *found, char *name,
                             size_t name_len, sp_err *err);
/* StoreBasicInfo: *found false when the manager does not know the store. */
sp_code wk_mgr_store_info(wk_mgr *m, const char *name, bool *found, char *path, size_t path_len,
                          bool *readonly, sp_err *err);
/* SubmitPersistedEx: *ok false (with why) when the manager did not accept the files. */
sp_code wk_mgr_submit_persisted(wk_mgr *m, uint64_t miner, uint64_t number, const char *store,
                                bool *ok, sp_err *err);
sp_code wk_mgr_wait_seed(wk_mgr *m, uint64_t miner, uint64_t number, int proof_id,
                         bool *should_wait, uint64_t *delay_s, uint8_t seed[32], int64_t *epoch,
                         sp_err *err);
sp_code wk_mgr_submit_proof(wk_mgr *m, uint64_t miner, uint64_t number, const uint8_t *proof,
                            size_t len, bool reset, wk_mgr_answer *a, sp_err *err);
sp_code wk_mgr_poll_proof(wk_mgr *m, uint64_t miner, uint64_t number, wk_mgr_answer *a,
                          sp_err *err);

typedef struct wk_mgr_report {
    const char *instance;            /* the worker's name */
    const char *location;            /* the thread's location */
    const char *prev, *next, *event;
    const char *level, *desc;        /* failure; NULL when none */
} wk_mgr_report;
/* ReportState: *finalized true means the manager dropped the sector (abort_reason says
 * why when it was aborted). */
sp_code wk_mgr_report_state(wk_mgr *m, uint64_t miner, uint64_t number, const wk_mgr_report *r,
                            bool *finalized, char *abort_reason, size_t reason_len, sp_err *err);
sp_code wk_mgr_report_finalized(wk_mgr *m, uint64_t miner, uint64_t number, sp_err *err);
sp_code wk_mgr_report_aborted(wk_mgr *m, uint64_t miner, uint64_t number, const char *reason,
                              sp_err *err);

/* Unseal tasks (docs/rpc.md "Unseal tasks"). */
typedef struct wk_mgr_unseal_task {
    uint64_t miner, number;
    int proof_id;
    char piece[WK_CID_MAX];          /* piece CID */
    uint64_t offset, size;           /* unpadded bytes in the sector */
    char access[WK_NAME_MAX];        /* the store holding the sealed sector */
    uint8_t ticket[32];
    int64_t ticket_epoch;
    uint8_t comm_d[32];
    uint64_t task_id;
} wk_mgr_unseal_task;
/* AllocateUnsealSector: *found false when nothing is to be unsealed. */
sp_code wk_mgr_allocate_unseal(wk_mgr *m, const int64_t *miners, int nminers, bool *found,
                               wk_mgr_unseal_task *out, sp_err *err);
/* AcquireUnsealDest: the store (of the candidates, any when n is 0) the data goes to, from
 * the answer "store://<store>/unsealed/<piece>". */
sp_code wk_mgr_acquire_unseal_dest(wk_mgr *m, uint64_t miner, uint64_t number, const char *piece,
                                   const char *const *candidates, int n, char *store,
                                   size_t store_len, sp_err *err);
/* AchieveUnsealSector: error_info "" when the data is in place, else what failed. */
sp_code wk_mgr_achieve_unseal(wk_mgr *m, uint64_t miner, uint64_t number, const char *piece,
                              const char *error_info, sp_err *err);

typedef struct wk_mgr_summary {
    int threads, empty, paused, running, waiting, errors;
} wk_mgr_summary;
sp_code wk_mgr_worker_ping(wk_mgr *m, const char *name, const char *dest, const char *version,
                           const wk_mgr_summary *s, sp_err *err);

/* Downloads piece `cid` into fd (from its current position).  The body must be exactly
 * `size` bytes.  A 503 answer is SP_EBUSY (retry later). */
sp_code wk_mgr_fetch_piece(wk_mgr *m, const char *cid, int fd, uint64_t size, sp_err *err);

#endif
