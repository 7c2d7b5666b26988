/* sm_deals.h — the deal queue: imported pieces waiting for a sector, packing them into
 * an allocated sector (AcquireDeals), and releasing them when the sector is aborted.
 *
 * A deal is one imported piece for one miner (pieces import --miner).  States: Queued,
 * Assigned (packed into a sector being sealed), Sealed (its sector is proving).
 *
 * Packing: queued deals are considered oldest first and taken while they still fit the
 * sector's user bytes with add_piece's alignment (rust-fil-proofs get_piece_alignment);
 * the chosen pieces are ordered largest first, which makes every left alignment zero,
 * and each gets its padded offset in the sector.  A worker writes them in that order
 * with add_piece and fills the rest of the sector with zero pieces; CommD is then
 * pf_comm_d of these pieces, which is what SubmitPreCommit checks.
 */
#ifndef SM_DEALS_H
#define SM_DEALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealproofs.h"
#include "sm_db.h"
#include "sp_err.h"

typedef struct sm_deal_piece {
    int64_t deal_id;
    char cid[PF_COMMCID_STR_MAX];
    uint8_t comm_p[32];
    uint64_t payload_size;   /* bytes of the piece file */
    uint64_t padded_size;    /* 128 * 2^k */
    uint64_t offset;         /* padded offset of the piece in the sector */
} sm_deal_piece;

/* Chooses among n pieces (padded sizes, oldest first) those that fit a sector of
 * sector_size padded bytes, at most max_deals (0: no limit).  Writes the chosen input
 * indexes in sealing order (largest first) to order[] and their padded offsets to
 * offsets[]; returns how many were chosen. */
size_t sm_deals_pack(uint64_t sector_size, const uint64_t *padded, size_t n, size_t max_deals,
                     size_t *order, uint64_t *offsets);

/* Queues a deal of piece cid for miner (inside the caller's write transaction). */
sp_code sm_deals_queue_in(sm_db *db, uint64_t miner, const char *cid, int64_t *deal_id,
                          sp_err *err);

/* AcquireDeals: the sector's pieces (the same ones on every call once assigned).  With
 * no deal fitting, or fewer than min_used padded bytes, *n is 0. */
sp_code sm_deals_acquire(sm_db *db, uint64_t miner, uint64_t number, uint64_t sector_size,
                         size_t max_deals, uint64_t min_used, sm_deal_piece **out, size_t *n,
                         sp_err *err);
/* The pieces assigned to a sector, in sealing order (in the caller's transaction, if any). */
sp_code sm_deals_of_sector(sm_db *db, uint64_t miner, uint64_t number, sm_deal_piece **out,
                           size_t *n, sp_err *err);
/* CommD of a sector holding these pieces (pf_comm_d; zero pieces fill the rest). */
sp_code sm_deals_comm_d(uint64_t sector_size, const sm_deal_piece *p, size_t n,
                        uint8_t comm_d[32], sp_err *err);

/* Inside the caller's write transaction: */
/* Puts the sector's deals back in the queue; *released (may be NULL) counts them. */
sp_code sm_deals_release_in(sm_db *db, uint64_t miner, uint64_t number, int64_t *released,
                            sp_err *err);
/* Takes back the `expected` deals released from this sector; SP_ESTATE when fewer are
 * still queued (another sector took one meanwhile). */
sp_code sm_deals_retake_in(sm_db *db, uint64_t miner, uint64_t number, int64_t expected,
                           sp_err *err);
sp_code sm_deals_seal_in(sm_db *db, uint64_t miner, uint64_t number, sp_err *err);

typedef struct sm_deal_row {
    int64_t id;
    uint64_t miner;
    char cid[PF_COMMCID_STR_MAX];
    char state[16];
    bool has_sector;
    uint64_t sector;
    uint64_t offset;
    uint64_t created_ms;
} sm_deal_row;
/* Deals of a piece (cid) or of every piece (cid NULL), newest first, at most limit. */
sp_code sm_deals_list(sm_db *db, const char *cid, size_t limit, sm_deal_row **out, size_t *n,
                      sp_err *err);

#endif
