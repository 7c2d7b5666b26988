/* data_internal.h — shared internals of the data-commitment files (fr32.c, tree_d.c,
 * commp.c, commd.c, pieces.c, replica_id.c, commcid.c): error reporting, the batched
 * node hasher and the chunked binary SHA-256 tree builder that CommP, add_piece and
 * tree_d stream their leaves through.  Other phases may use pf_trim/pf_sha256_node from
 * sealproofs/data.h and pf_sha256_hash_pairs from here. */
#ifndef PF_DATA_INTERNAL_H
#define PF_DATA_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "sealproofs.h"

/* Fills err (when non-NULL) and returns status. */
__attribute__((format(printf, 3, 4)))
static inline pf_status pf_data_fail(pf_error *err, pf_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = status;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

static inline void pf_data_ok(pf_error *err)
{
    if (err) {
        err->status = PF_OK;
        err->msg[0] = 0;
    }
}

/* ---- fr32 blocks (fr32.c) ---- */

/* Pads nblocks consecutive 127-byte blocks into 128-byte blocks. */
void pf_fr32_pad_blocks(const uint8_t *in, size_t nblocks, uint8_t *out);
void pf_fr32_unpad_block(const uint8_t in[128], uint8_t out[127]);

/* ---- node hashing (tree_d.c) ---- */

/* out[i] = trim(SHA256(in[64i .. 64i+64))) for i < npairs.  out may equal in (a tree level
 * reduced in place); uses SHA-NI with several hashes interleaved when available. */
void pf_sha256_hash_pairs(const uint8_t *in, uint8_t *out, size_t npairs);

/* log2 of a power of two. */
static inline unsigned pf_log2_u64(uint64_t v)
{
    return (unsigned)(63 - __builtin_clzll(v));
}

static inline int pf_is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* 1 when len bytes are all zero. */
int pf_data_is_zero(const uint8_t *p, size_t len);

/* ---- chunked tree builder (tree_d.c) ----
 * Leaves are written into the chunk buffer (pf_sha_tree_space / pf_sha_tree_commit); each
 * full chunk is reduced in place to its root.  Two modes:
 *  - stream (fd < 0): chunk roots go on a binary-counter stack; pf_sha_tree_finish pads
 *    with zero subtrees up to the requested leaf count (CommP);
 *  - file (fd >= 0, leaves known): every level of every chunk is written to fd at rust's
 *    DiskStore offsets, chunk roots are kept and the levels above are written at finish
 *    (tree_d).  The file must be fresh (zero) and sized: all-zero chunks skip their leaves. */
#define PF_SHA_TREE_CHUNK_LEVEL 14        /* 2^14 leaves = 512 KiB, stays in L2 */
#define PF_SHA_TREE_MAX_LEVEL 64

typedef struct pf_sha_tree {
    uint8_t *chunk;              /* chunk_leaves * 32 bytes */
    uint64_t chunk_leaves;
    unsigned chunk_level;
    size_t fill;                 /* bytes in chunk */
    uint64_t chunks;             /* full chunks reduced so far */
    /* stream mode */
    uint8_t stack[PF_SHA_TREE_MAX_LEVEL][32];
    uint64_t stack_bits;         /* bit l set: stack[l] holds a pending left node */
    /* file mode */
    int fd;
    const char *path;            /* for messages */
    uint64_t leaves;
    uint8_t *roots;              /* leaves / chunk_leaves chunk roots */
} pf_sha_tree;

/* leaves: total leaf count (power of two) in file mode; in stream mode a size hint
 * (0 = unknown) that only bounds the chunk size. */
pf_status pf_sha_tree_init(pf_sha_tree *t, uint64_t leaves, int fd, const char *path, pf_error *err);
/* Contiguous free bytes in the current chunk (a multiple of 32, never 0). */
uint8_t *pf_sha_tree_space(pf_sha_tree *t, size_t *avail);
/* Accounts for bytes written into the space; reduces the chunk when it becomes full. */
pf_status pf_sha_tree_commit(pf_sha_tree *t, size_t bytes, pf_error *err);
/* Copies leaf bytes in (a multiple of 32 overall by the time of finish). */
pf_status pf_sha_tree_push(pf_sha_tree *t, const void *data, size_t len, pf_error *err);
/* Stream mode: zero leaves complete the tree to `leaves` (power of two >= leaves pushed).
 * File mode: zero leaves complete the tree to t->leaves (leaves is ignored). */
pf_status pf_sha_tree_finish(pf_sha_tree *t, uint64_t leaves, uint8_t root[32], pf_error *err);
/* Leaves pushed so far. */
uint64_t pf_sha_tree_leaves_pushed(const pf_sha_tree *t);
void pf_sha_tree_reset(pf_sha_tree *t);
void pf_sha_tree_free(pf_sha_tree *t);

/* Builds a tree_d file over `nodes` leaves from a staged file (tree_d.c); the proof-id
 * wrapper is pf_tree_d_build.  Exposed for tests of small trees. */
pf_status pf_tree_d_build_nodes(uint64_t nodes, const char *staged_path, const char *cache_dir,
                                uint8_t comm_d[32], pf_error *err);

#endif
