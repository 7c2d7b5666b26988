/* sm_commits.h — the chain-facing steps of a sector on the local chain: ticket,
 * precommit, seed, persisted files, prove-commit, and their landing.
 *
 * Every submission is idempotent: the same data again answers Duplicate; different data
 * answers Mismatched unless `reset` is set and the earlier submission has not landed
 * (then it is replaced).  Landing is computed from epochs, not from when someone asks:
 * a precommit submitted at epoch e lands at e + precommit_landing, a proof at
 * e + proof_landing; sm_commits_settle() applies what is due (the daemon calls it every
 * tick) and each poll settles its own sector first, so answers do not depend on timing.
 *
 * Rules (mainnet's, with the configured numbers):
 *  - SubmitPreCommit: the ticket must be the chain's randomness (DST 5) at its epoch,
 *    ticket epoch < head and >= head - max_ticket_age; CommD must be the CommD of the
 *    sector's deal pieces (zero pieces for CC).  At landing the ticket must still be
 *    within max_ticket_age of the landing epoch, else the precommit fails (ShouldAbort).
 *  - WaitSeed: seed epoch = precommit epoch + challenge_delay, handed out once head >=
 *    seed epoch + seed_confidence (randomness with DST 6).
 *  - SubmitProof: head > seed epoch and head <= precommit epoch + max_prove_duration;
 *    the proof is verified (pf_verify_seal) and rejected with the reason when invalid.
 *    At landing (later than precommit epoch + max_prove_duration: ShouldAbort) the
 *    sector becomes Proving and its deals Sealed.
 */
#ifndef SM_COMMITS_H
#define SM_COMMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sm_chain.h"
#include "sm_db.h"
#include "sm_sectors.h"
#include "sp_err.h"

/* SubmitResult (damocles core/types.go) */
enum {
    SM_SUBMIT_ACCEPTED = 1,
    SM_SUBMIT_DUPLICATE = 2,
    SM_SUBMIT_MISMATCHED = 3,
    SM_SUBMIT_REJECTED = 4,
    SM_SUBMIT_FILES_MISSED = 5,
};

typedef struct sm_answer {
    int code;                  /* SM_SUBMIT_* or SM_ONCHAIN_* */
    char desc[SM_DESC_MAX];    /* "" when there is nothing to say */
} sm_answer;

typedef struct sm_seal_verify {
    int proof_type;
    uint64_t miner, number;
    uint8_t comm_r[32], comm_d[32], ticket[32], seed[32];
    const uint8_t *proof;
    size_t proof_len;
} sm_seal_verify;

/* Verifies a seal proof: SP_OK with *ok set (why filled when false), or an error when
 * verification itself could not run. */
typedef sp_code (*sm_verify_fn)(void *ctx, const sm_seal_verify *v, bool *ok, char *why,
                                size_t why_len, sp_err *err);
/* The proofs library's verifier. */
sp_code sm_verify_seal(void *ctx, const sm_seal_verify *v, bool *ok, char *why, size_t why_len,
                       sp_err *err);

/* AssignTicket: the ticket at head - ticket_lookback (stored as the sector's ticket). */
sp_code sm_commits_ticket(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                          uint64_t number, uint8_t ticket[32], int64_t *epoch, sp_err *err);

typedef struct sm_precommit {
    int proof_type;
    uint8_t comm_r[32], comm_d[32], ticket[32];
    int64_t ticket_epoch;
} sm_precommit;
sp_code sm_commits_submit_precommit(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                                    uint64_t number, const sm_precommit *pc, bool reset,
                                    sm_answer *out, sp_err *err);
sp_code sm_commits_poll_precommit(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                                  uint64_t number, sm_answer *out, sp_err *err);

typedef struct sm_seed_answer {
    bool should_wait;
    uint64_t delay_s;          /* seconds to wait before asking again (>= 1 when waiting) */
    uint8_t seed[32];
    int64_t epoch;
} sm_seed_answer;
sp_code sm_commits_wait_seed(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                             uint64_t number, int proof_type, sm_seed_answer *out, sp_err *err);

/* SubmitPersisted: the sector's files are in store (a persist store name); checks them
 * (sealed/s-t0M-N of the sector size, cache/s-t0M-N/p_aux and a tree_r_last file) and
 * records the store.  *ok is false when files are missing. */
sp_code sm_commits_persisted(sm_db *db, uint64_t miner, uint64_t number, const char *store,
                             bool *ok, char *why, size_t why_len, sp_err *err);

sp_code sm_commits_submit_proof(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                                uint64_t number, const uint8_t *proof, size_t len, bool reset,
                                sm_verify_fn verify, void *verify_ctx, sm_answer *out,
                                sp_err *err);
sp_code sm_commits_poll_proof(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                              uint64_t number, sm_answer *out, sp_err *err);

/* Lands every precommit and proof due at head; *settled counts them. */
sp_code sm_commits_settle(sm_db *db, const sm_chain *c, int64_t head, int *settled, sp_err *err);

/* The proof a sector submitted (malloc'd), for `sectors show`. */
sp_code sm_commits_proof(sm_db *db, uint64_t miner, uint64_t number, uint8_t **proof, size_t *len,
                         sp_err *err);

#endif
