/* sm_blocks.h — the block index: every block of stored deal data, found by its multihash.
 *
 * When a piece is imported its payload is indexed (by the storage service, never on a
 * request thread): a CAR (v1, or v2 around a v1) by its blocks' CIDs, every block's hash
 * checked while indexing; any other payload as fixed 1 MiB raw blocks (CIDv1, raw codec
 * 0x55, sha2-256), the last one shorter.  A CAR with a block that does not match its CID
 * fails to index (state failed, the error kept) rather than being served wrong.
 *
 *   blocks  (multihash, piece) -> offset and length of the block's bytes in the piece
 *           payload, and its codec (to print CIDs back)
 *   pieces  index_state pending | done | failed, index_kind car | raw, block count, CAR
 *           roots, and the error of a failed index
 * Keying by multihash (not CID) lets a CIDv0 and a CIDv1 of the same block find it.  The
 * piece leads on to its sector and unsealed copies (sm_deals.h, sm_objects.h).
 */
#ifndef SM_BLOCKS_H
#define SM_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealproofs.h"
#include "sm_cid.h"
#include "sm_db.h"
#include "sp_err.h"

#define SM_RAW_BLOCK (1u << 20)

typedef struct sm_block_loc {
    char piece[PF_COMMCID_STR_MAX];
    uint64_t offset, length;
    uint64_t codec;
    uint8_t mh[SM_MH_MAX];
    size_t mh_len;
} sm_block_loc;

typedef struct sm_index_info {
    char state[12];                 /* pending, done, failed */
    char kind[8];                   /* car, raw, "" */
    uint64_t blocks;
    char roots[512];                /* CAR roots, space-separated */
    char error[256];
} sm_index_info;

/* Indexes the payload in fd (size bytes) of piece `cid` and records the result in the
 * pieces row (done, or failed with the reason).  max_block bounds CAR blocks.  stop (may
 * be NULL) abandons the work (SP_EBUSY; the piece stays pending). */
sp_code sm_blocks_index_fd(sm_db *db, const char *cid, int fd, uint64_t size, uint64_t max_block,
                           const volatile int *stop, sm_index_info *out, sp_err *err);

/* Where a block is: at most max locations (one per piece holding it). */
sp_code sm_blocks_find(sm_db *db, const uint8_t *mh, size_t mh_len, sm_block_loc *out, size_t max,
                       size_t *n, sp_err *err);
/* A piece's blocks by offset, starting after `after` (use -1 for the first), at most limit. */
sp_code sm_blocks_of_piece(sm_db *db, const char *cid, int64_t after, size_t limit,
                           sm_block_loc *out, size_t *n, sp_err *err);
sp_code sm_blocks_info(sm_db *db, const char *cid, sm_index_info *out, sp_err *err);
/* Pieces waiting to be indexed (state pending), oldest first, at most max. */
sp_code sm_blocks_pending(sm_db *db, char (*cids)[PF_COMMCID_STR_MAX], size_t max, size_t *n,
                          sp_err *err);
/* `index rebuild`: every piece back to pending (one piece when cid is given). */
sp_code sm_blocks_reset(sm_db *db, const char *cid, int64_t *pieces, sp_err *err);
/* Records an index failure that happened before indexing could start (no readable copy). */
sp_code sm_blocks_set_failed(sm_db *db, const char *cid, const char *why, sp_err *err);

#endif
