/* sm_pieces.h — the piece store: imported deal data, one file per piece named by its
 * piece CID (CommP as a CIDv1 "baga6ea4sea..."), and the pieces table.
 *
 * Only a canonical unsealed commitment CID maps to a file: the name is decoded and
 * encoded again and must come back identical, so no other string (a path, "..", an
 * upper-case variant) ever reaches the file system.  Import computes CommP while
 * copying the file into the store (temporary name, fsync, rename), so a piece file is
 * either complete or absent.
 */
#ifndef SM_PIECES_H
#define SM_PIECES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sealproofs.h"
#include "sm_db.h"
#include "sp_err.h"

typedef struct sm_piece {
    char cid[PF_COMMCID_STR_MAX];
    uint8_t comm_p[32];
    uint64_t payload_size;   /* bytes of the file */
    uint64_t padded_size;    /* 128 * 2^k */
    uint64_t imported_ms;
    char source[256];        /* the imported file's name, for operators */
} sm_piece;

/* Checks that cid is a canonical piece CID (CommP) and writes <dir>/<cid> to out. */
sp_code sm_pieces_path(const char *dir, const char *cid, char *out, size_t len, sp_err *err);

/* Copies src into dir under its piece CID, computing CommP on the way.  Fills out
 * (imported_ms 0).  An identical piece already there is kept. */
sp_code sm_pieces_store_file(const char *dir, const char *src, sm_piece *out, sp_err *err);

/* Records a piece whose file is in dir (checking its size) and queues a deal of it for
 * miner.  A piece that does not fit max_sector_size is refused.  The piece's bytes become
 * an unsealed object (sm_objects.h) whose block index is pending (sm_blocks.h). */
sp_code sm_pieces_register(sm_db *db, const char *dir, const sm_piece *p, uint64_t miner,
                           uint64_t max_sector_size, int64_t *deal_id, bool *new_piece,
                           sp_err *err);

sp_code sm_pieces_get(sm_db *db, const char *cid, sm_piece *out, sp_err *err);
/* Newest first, at most limit (0: all). */
sp_code sm_pieces_list(sm_db *db, size_t limit, sm_piece **out, size_t *n, sp_err *err);

/* Opens a registered piece's file for reading (O_NOFOLLOW); *size is its length. */
sp_code sm_pieces_open(sm_db *db, const char *dir, const char *cid, int *fd, uint64_t *size,
                       sp_err *err);

#endif
