/* sm_sectors.h — sectors: number allocation, the manager's record of each sector, the
 * transitions workers report, and the admin's abort and restore.
 *
 * Numbers: per miner, handed out in increasing order and never again, whatever happens.
 * The miners row keeps next_number and durable_limit; a number n is only handed out when
 * n < durable_limit, and durable_limit is raised in a transaction committed with
 * synchronous=FULL.  The step is SM_NUMBER_BLOCK, doubled (up to SM_NUMBER_BLOCK_MAX)
 * while raises come less than a second apart, so a burst of allocations pays the fsync
 * rarely.  After a crash or a power loss the database may have lost the last
 * allocations, but never a durable_limit above them; the daemon then calls
 * sm_sectors_recover_numbers(), which moves every miner's next_number up to its
 * durable_limit: a gap of at most one step (32 numbers, more only after a burst), never a
 * reuse.  After a clean shutdown nothing is skipped.
 *
 * States: a sector's state is the last state its worker reported (damocles' names:
 * Allocated, DealsAcquired, ..., ProofSubmitted, Finished), except two the manager sets
 * and keeps: "Proving" (its prove-commit landed and was verified) and "Aborted" (by the
 * admin or the worker).  finalized = 1 tells the worker to drop the sector: ReportState
 * answers Finalized=true (with the abort reason) from then on, so the worker's view
 * follows the manager's.  Every report, submission and admin action is stored in
 * sector_events with its time and worker.
 */
#ifndef SM_SECTORS_H
#define SM_SECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_conf.h"
#include "sm_db.h"
#include "sp_err.h"

#define SM_NUMBER_BLOCK 32
#define SM_NUMBER_BLOCK_MAX 1024
#define SM_STATE_MAX 48
#define SM_WORKER_MAX 128
#define SM_LOCATION_MAX 512
#define SM_DESC_MAX 512

/* OnChainState (damocles core/types.go) */
enum {
    SM_ONCHAIN_NONE = 0,
    SM_ONCHAIN_PENDING = 1,
    SM_ONCHAIN_PACKED = 2,
    SM_ONCHAIN_LANDED = 3,
    SM_ONCHAIN_NOT_FOUND = 4,
    SM_ONCHAIN_FAILED = 5,
    SM_ONCHAIN_PERM_FAILED = 6,
    SM_ONCHAIN_SHOULD_ABORT = 7,
};

typedef struct sm_sector {
    uint64_t miner, number;
    int proof_type;
    char state[SM_STATE_MAX];
    char worker[SM_WORKER_MAX];
    char location[SM_LOCATION_MAX];
    uint64_t created_ms, updated_ms;
    bool finalized, aborted, worker_done;
    char abort_reason[SM_DESC_MAX];
    char pre_abort_state[SM_STATE_MAX];
    char last_error[SM_DESC_MAX];

    bool has_ticket;
    uint8_t ticket[32];
    int64_t ticket_epoch;

    int pc_state;                    /* SM_ONCHAIN_* (NONE: nothing submitted) */
    uint8_t pc_comm_r[32], pc_comm_d[32], pc_ticket[32];
    int64_t pc_ticket_epoch, pc_submit_epoch, pc_epoch;
    char pc_desc[SM_DESC_MAX];

    bool has_seed;
    uint8_t seed[32];
    int64_t seed_epoch;

    int proof_state;
    uint8_t proof_hash[32];          /* SHA-256 of the submitted proof */
    int64_t proof_submit_epoch, proof_epoch;
    char proof_desc[SM_DESC_MAX];

    char store[128];                 /* persisted in (SubmitPersisted) */
    uint64_t store_bytes;
} sm_sector;

/* An allocation request: NULL/0 lists mean "any". */
typedef struct sm_alloc_spec {
    const uint64_t *miners;
    size_t n_miners;
    const int *proofs;
    size_t n_proofs;
} sm_alloc_spec;

/* Allocates the next number of one configured, enabled miner matching spec; pick
 * rotates among the candidates.  *found is false (SP_OK) when no miner matches or every
 * matching miner has used up its numbers. */
sp_code sm_sectors_allocate(sm_db *db, const sm_conf *conf, const sm_alloc_spec *spec,
                            unsigned pick, uint64_t *miner, uint64_t *number, int *proof_type,
                            bool *found, sp_err *err);
/* After an unclean shutdown: next_number = max(next_number, durable_limit) for every
 * miner, in a durable transaction.  Returns the number of miners moved. */
sp_code sm_sectors_recover_numbers(sm_db *db, int *moved, sp_err *err);

/* Loads a sector (in the caller's transaction when one is open). */
sp_code sm_sectors_load(sm_db *db, uint64_t miner, uint64_t number, sm_sector *out, sp_err *err);

/* A worker's report.  Records the transition; unless the sector is finalized, its state
 * becomes next ("Proving" stays).  Answers whether the worker must drop the sector. */
typedef struct sm_report {
    const char *instance, *location;
    const char *prev, *next, *event;
    const char *level, *desc;        /* failure, both NULL when none */
} sm_report;
sp_code sm_sectors_report(sm_db *db, uint64_t miner, uint64_t number, const sm_report *r,
                          bool *finalized, char *abort_reason, size_t reason_len, bool *aborted,
                          sp_err *err);
/* ReportFinalized: the worker is done with the sector; releases its reservation. */
sp_code sm_sectors_finalized(sm_db *db, uint64_t miner, uint64_t number, sp_err *err);
/* ReportAborted: the worker gave up; releases deals and reservation. */
sp_code sm_sectors_worker_aborted(sm_db *db, uint64_t miner, uint64_t number, const char *reason,
                                  sp_err *err);
/* Admin abort: the sector is aborted now and the worker learns it on its next report. */
sp_code sm_sectors_abort(sm_db *db, uint64_t miner, uint64_t number, const char *reason,
                         sp_err *err);
/* Admin restore of an admin-aborted sector whose worker still holds it. */
sp_code sm_sectors_restore(sm_db *db, uint64_t miner, uint64_t number, sp_err *err);

/* Records an event (inside the caller's write transaction). */
sp_code sm_sectors_event_in(sm_db *db, uint64_t miner, uint64_t number, const char *source,
                            const char *worker, const char *location, const char *prev,
                            const char *next, const char *event, const char *level,
                            const char *desc, sp_err *err);

/* Listing: state and miner filters are optional (NULL / 0 with has_miner false). */
typedef struct sm_sector_filter {
    const char *state;
    bool has_miner;
    uint64_t miner;
    size_t limit;                    /* 0: no limit */
} sm_sector_filter;
sp_code sm_sectors_list(sm_db *db, const sm_sector_filter *f, sm_sector **out, size_t *n,
                        sp_err *err);

typedef struct sm_event {
    uint64_t at_ms;
    char source[16];
    char worker[SM_WORKER_MAX];
    char prev[SM_STATE_MAX], next[SM_STATE_MAX], event[64];
    char level[32];
    char desc[SM_DESC_MAX];
} sm_event;
/* The sector's events, oldest first (at most limit, the newest ones). */
sp_code sm_sectors_events(sm_db *db, uint64_t miner, uint64_t number, size_t limit,
                          sm_event **out, size_t *n, sp_err *err);

/* Counts of sectors by (miner, state), for metrics. */
typedef struct sm_state_count {
    uint64_t miner;
    char state[SM_STATE_MAX];
    uint64_t count;
} sm_state_count;
sp_code sm_sectors_count_states(sm_db *db, sm_state_count **out, size_t *n, sp_err *err);

/* Per miner: next number and how many were allocated (for `miners list`). */
typedef struct sm_miner_numbers {
    uint64_t actor, next_number, durable_limit, allocated;
} sm_miner_numbers;
sp_code sm_sectors_miner_numbers(sm_db *db, uint64_t actor, sm_miner_numbers *out, bool *found,
                                 sp_err *err);

/* True for a state name a worker may report: 1..47 characters of [A-Za-z0-9_]. */
bool sm_state_name_valid(const char *s);

#endif
