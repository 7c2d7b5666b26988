/* sm_chain.h — the embedded local chain: an epoch clock, deterministic randomness with
 * Filecoin's domain-separation tags, and the mainnet timing rules (ticket lookback and
 * expiry, precommit landing, challenge delay, seed confidence, prove-commit deadline)
 * with every number configurable so tests can run a whole lifecycle in seconds.
 *
 * Clock: epoch(t) = base_epoch + (t - base_ms) / block_ms.  The chain row in the
 * database holds the seed, base and block time; when the configured block time changes
 * the clock is re-based at the current epoch, so epochs never go backwards or jump.
 *
 * Randomness: the local chain's "ticket digest" of epoch e is
 *   digest(e) = blake2b-256(chain_seed || BE64(e))
 * and a draw is Lotus' DrawRandomnessFromDigest:
 *   blake2b-256(BE64(dst) || digest(e) || BE64(e) || entropy)
 * with entropy = CBOR byte string of the miner's ID address (f01234 -> 43 00 d2 09).
 * Tickets use SealRandomness (5), seeds InteractiveSealChallengeSeed (6).
 */
#ifndef SM_CHAIN_H
#define SM_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "sm_db.h"
#include "sp_err.h"

/* go-state-types crypto.DomainSeparationTag */
#define SM_DST_TICKET_PRODUCTION 1
#define SM_DST_SEAL_RANDOMNESS 5
#define SM_DST_INTERACTIVE_SEAL_CHALLENGE_SEED 6

typedef struct sm_chain_params {
    uint64_t block_ms;           /* block time; mainnet 30 s */
    int64_t ticket_lookback;     /* SealRandomnessLookback: ticket epoch = head - this (900) */
    int64_t max_ticket_age;      /* MaxPreCommitRandomnessLookback (2880 + 900 = 3780) */
    int64_t precommit_landing;   /* epochs from SubmitPreCommit until it is on chain */
    int64_t challenge_delay;     /* PreCommitChallengeDelay (150) */
    int64_t seed_confidence;     /* InteractivePoRepConfidence (6) */
    int64_t proof_landing;       /* epochs from SubmitProof until it is on chain */
    int64_t max_prove_duration;  /* MaxProveCommitDuration (30 * 2880 + 150 = 86550) */
} sm_chain_params;

/* Mainnet values (research/interfaces.md B.7). */
void sm_chain_params_default(sm_chain_params *p);

typedef struct sm_chain {
    sm_chain_params p;
    uint8_t seed[32];
    int64_t base_epoch;
    uint64_t base_ms;    /* unix ms at which base_epoch began */
    uint64_t genesis_ms;
} sm_chain;

/* Loads the chain row, creating it (random seed, genesis now) when the database has
 * none, and re-basing the clock when p->block_ms differs from the stored block time. */
sp_code sm_chain_load(sm_db *db, const sm_chain_params *p, uint64_t now_ms, sm_chain *out,
                      sp_err *err);

/* Epoch at unix time now_ms (never before base_epoch). */
int64_t sm_chain_epoch_at(const sm_chain *c, uint64_t now_ms);
int64_t sm_chain_head(const sm_chain *c);
/* Milliseconds from now_ms until epoch begins (0 when it already has). */
uint64_t sm_chain_ms_until(const sm_chain *c, int64_t epoch, uint64_t now_ms);

/* CBOR byte string of the ID address f0<actor>: writes at most 12 bytes, returns length. */
size_t sm_chain_entropy(uint64_t actor, uint8_t out[12]);
/* blake2b-256(chain_seed || BE64(epoch)). */
void sm_chain_digest(const sm_chain *c, int64_t epoch, uint8_t out[32]);
/* blake2b-256(BE64(dst) || digest || BE64(epoch) || entropy): Lotus DrawRandomnessFromDigest. */
void sm_chain_draw(const uint8_t digest[32], int64_t dst, int64_t epoch, const uint8_t *entropy,
                   size_t entropy_len, uint8_t out[32]);
/* The draw for a miner at an epoch on this chain. */
void sm_chain_randomness(const sm_chain *c, int64_t dst, int64_t epoch, uint64_t actor,
                         uint8_t out[32]);

/* The ticket epoch for a ticket taken at head (head - lookback, never below 0). */
int64_t sm_chain_ticket_epoch(const sm_chain *c, int64_t head);

#endif
