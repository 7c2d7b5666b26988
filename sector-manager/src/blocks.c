/* blocks.c — the block index: indexing a piece payload (CAR or raw 1 MiB blocks) and
 * finding blocks by multihash (contract in sm_blocks.h). */
#include "sm_blocks.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sm_car.h"
#include "sp_fs.h"
#include "sp_log.h"

#define BATCH 2048

typedef struct entry {
    uint8_t mh[SM_MH_MAX];
    size_t mh_len;
    uint64_t offset, length, codec;
} entry;

typedef struct batch {
    entry v[BATCH];
    size_t n;
    uint64_t total;
} batch;

static const char SQL_DROP[] = "DELETE FROM blocks WHERE piece_cid = ?1";
static const char SQL_PUT[] =
    "INSERT INTO blocks (mh, piece_cid, offset, length, codec) VALUES (?1, ?2, ?3, ?4, ?5) "
    "ON CONFLICT (mh, piece_cid) DO NOTHING";
static const char SQL_STATE[] =
    "UPDATE pieces SET index_state = ?2, index_kind = ?3, blocks = ?4, roots = ?5, index_error = ?6 "
    "WHERE cid = ?1";

static sp_code flush(sm_db *db, const char *cid, batch *b, sp_err *err)
{
    if (b->n == 0)
        return SP_OK;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < b->n; i++) {
        sm_stmt *s;
        if ((rc = sm_db_stmt(db, SQL_PUT, &s, err)))
            goto fail;
        sm_bind_blob(s, 1, b->v[i].mh, b->v[i].mh_len);
        sm_bind_text(s, 2, cid);
        sm_bind_i64(s, 3, (int64_t)b->v[i].offset);
        sm_bind_i64(s, 4, (int64_t)b->v[i].length);
        sm_bind_i64(s, 5, (int64_t)b->v[i].codec);
        if ((rc = sm_step_done(s, err)))
            goto fail;
    }
    b->total += b->n;
    b->n = 0;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static sp_code add(sm_db *db, const char *cid, batch *b, const uint8_t *mh, size_t mh_len,
                   uint64_t offset, uint64_t length, uint64_t codec, sp_err *err)
{
    entry *e = &b->v[b->n++];
    memcpy(e->mh, mh, mh_len);
    e->mh_len = mh_len;
    e->offset = offset;
    e->length = length;
    e->codec = codec;
    return b->n == BATCH ? flush(db, cid, b, err) : SP_OK;
}

static sp_code record(sm_db *db, const char *cid, const char *state, const char *kind,
                      uint64_t blocks, const char *roots, const char *error, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_STATE, &s, err)))
        goto fail;
    sm_bind_text(s, 1, cid);
    sm_bind_text(s, 2, state);
    sm_bind_text(s, 3, kind);
    sm_bind_i64(s, 4, (int64_t)blocks);
    sm_bind_text(s, 5, roots);
    sm_bind_text(s, 6, error);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static sp_code drop(sm_db *db, const char *cid, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_DROP, &s, err)))
        goto fail;
    sm_bind_text(s, 1, cid);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static sp_code index_car(sm_db *db, const char *cid, sm_car_reader *r, const volatile int *stop,
                         batch *b, sp_err *err)
{
    sm_car_block blk;
    int k;
    while ((k = sm_car_next(r, &blk, true, err)) == 1) {
        if (stop && *stop)
            return sp_fail(err, SP_EBUSY, "indexing stopped");
        sp_err e;
        sp_code vrc = sm_mh_verify(blk.cid.mh, blk.cid.mh_len, blk.data, (size_t)blk.length, &e);
        if (vrc) {
            char s[SM_CID_STR_MAX];
            sm_cid_format(&blk.cid, s, sizeof s);
            return sp_fail(err, vrc == SP_ECORRUPT ? SP_ECORRUPT : SP_EPARSE, "block %s at offset %"
                           PRIu64 ": %s", s, blk.offset, e.msg);
        }
        sp_code rc = add(db, cid, b, blk.cid.mh, blk.cid.mh_len, blk.offset, blk.length, blk.cid.codec, err);
        if (rc)
            return rc;
    }
    return k < 0 ? (err && err->code ? err->code : SP_EPARSE) : SP_OK;
}

static sp_code index_raw(sm_db *db, const char *cid, int fd, uint64_t size, const volatile int *stop,
                         batch *b, sp_err *err)
{
    uint8_t *buf = malloc(SM_RAW_BLOCK);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "index: out of memory");
    sp_code rc = SP_OK;
    for (uint64_t off = 0; off < size && !rc;) {
        if (stop && *stop) {
            rc = sp_fail(err, SP_EBUSY, "indexing stopped");
            break;
        }
        size_t want = size - off < SM_RAW_BLOCK ? (size_t)(size - off) : SM_RAW_BLOCK;
        size_t got = 0;
        if ((rc = sm_car_read_fd(&fd, off, buf, want, &got, err)))
            break;
        if (got != want) {
            rc = sp_fail(err, SP_EIO, "piece payload ends at %" PRIu64 ", %" PRIu64 " bytes expected",
                         off + got, size);
            break;
        }
        uint8_t mh[34];
        sm_mh_sha256(buf, got, mh);
        rc = add(db, cid, b, mh, sizeof mh, off, got, SM_CODEC_RAW, err);
        off += got;
    }
    free(buf);
    return rc;
}

sp_code sm_blocks_index_fd(sm_db *db, const char *cid, int fd, uint64_t size, uint64_t max_block,
                           const volatile int *stop, sm_index_info *out, sp_err *err)
{
    memset(out, 0, sizeof *out);
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return sp_fail(err, SP_ENOMEM, "index: out of memory");
    sp_code rc = drop(db, cid, err);
    sm_car_reader r;
    bool car = false;
    if (!rc) {
        sp_err e;
        car = sm_car_open(&r, sm_car_read_fd, &fd, size, (size_t)max_block, &e) == SP_OK;
    }
    if (!rc) {
        if (car) {
            rc = index_car(db, cid, &r, stop, b, err);
            size_t used = 0;
            for (size_t i = 0; i < r.n_roots; i++) {
                char cs[SM_CID_STR_MAX];
                sm_cid_format(&r.roots[i], cs, sizeof cs);
                int w = snprintf(out->roots + used, sizeof out->roots - used, "%s%s", used ? " " : "", cs);
                if (w < 0 || (size_t)w >= sizeof out->roots - used) {
                    out->roots[used] = 0; /* as many whole roots as fit */
                    break;
                }
                used += (size_t)w;
            }
            sm_car_close(&r);
        } else {
            rc = index_raw(db, cid, fd, size, stop, b, err);
        }
    }
    if (!rc)
        rc = flush(db, cid, b, err);
    snprintf(out->kind, sizeof out->kind, "%s", car ? "car" : "raw");
    out->blocks = b->total;
    free(b);
    if (rc == SP_EBUSY)
        return rc;
    if (rc) {
        snprintf(out->state, sizeof out->state, "failed");
        snprintf(out->error, sizeof out->error, "%.255s", err ? err->msg : "indexing failed");
        sp_err e2;
        drop(db, cid, &e2);
        if (record(db, cid, "failed", out->kind, 0, out->roots, out->error, &e2) != SP_OK)
            SP_ERROR("index of %s: recording the failure: %s", cid, e2.msg);
        return rc;
    }
    snprintf(out->state, sizeof out->state, "done");
    return record(db, cid, "done", out->kind, out->blocks, out->roots[0] ? out->roots : NULL, NULL, err);
}

sp_code sm_blocks_set_failed(sm_db *db, const char *cid, const char *why, sp_err *err)
{
    return record(db, cid, "failed", NULL, 0, NULL, why, err);
}

/* ---- lookups ---------------------------------------------------------------------------------- */

static const char SQL_FIND[] =
    "SELECT piece_cid, offset, length, codec, mh FROM blocks WHERE mh = ?1 LIMIT ?2";
static const char SQL_OF_PIECE[] =
    "SELECT piece_cid, offset, length, codec, mh FROM blocks WHERE piece_cid = ?1 AND offset > ?2 "
    "ORDER BY offset LIMIT ?3";
static const char SQL_INFO[] =
    "SELECT index_state, index_kind, blocks, roots, index_error FROM pieces WHERE cid = ?1";
static const char SQL_PENDING[] =
    "SELECT cid FROM pieces WHERE index_state = 'pending' ORDER BY imported_ms, cid LIMIT ?1";
static const char SQL_RESET_ALL[] =
    "UPDATE pieces SET index_state = 'pending', index_error = NULL";
static const char SQL_RESET_ONE[] =
    "UPDATE pieces SET index_state = 'pending', index_error = NULL WHERE cid = ?1";

static sp_code loc_rows(sm_stmt *s, sm_block_loc *out, size_t max, size_t *n, sp_err *err)
{
    *n = 0;
    int r = 0;
    while (*n < max && (r = sm_step(s, err)) == 1) {
        sm_block_loc *l = &out[*n];
        memset(l, 0, sizeof *l);
        const char *p = sm_col_text(s, 0);
        snprintf(l->piece, sizeof l->piece, "%s", p ? p : "");
        l->offset = (uint64_t)sm_col_i64(s, 1);
        l->length = (uint64_t)sm_col_i64(s, 2);
        l->codec = (uint64_t)sm_col_i64(s, 3);
        size_t len = 0;
        const void *mh = sm_col_blob(s, 4, &len);
        if (mh && len <= sizeof l->mh) {
            memcpy(l->mh, mh, len);
            l->mh_len = len;
        }
        (*n)++;
    }
    sm_stmt_reset(s);
    return r < 0 ? (err && err->code ? err->code : SP_EIO) : SP_OK;
}

sp_code sm_blocks_find(sm_db *db, const uint8_t *mh, size_t mh_len, sm_block_loc *out, size_t max,
                       size_t *n, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_FIND, &s, err);
    if (rc)
        return rc;
    sm_bind_blob(s, 1, mh, mh_len);
    sm_bind_i64(s, 2, (int64_t)max);
    return loc_rows(s, out, max, n, err);
}

sp_code sm_blocks_of_piece(sm_db *db, const char *cid, int64_t after, size_t limit,
                           sm_block_loc *out, size_t *n, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_OF_PIECE, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, cid);
    sm_bind_i64(s, 2, after);
    sm_bind_i64(s, 3, (int64_t)limit);
    return loc_rows(s, out, limit, n, err);
}

sp_code sm_blocks_info(sm_db *db, const char *cid, sm_index_info *out, sp_err *err)
{
    memset(out, 0, sizeof *out);
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_INFO, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, cid);
    int r = sm_step(s, err);
    if (r == 1) {
        const char *t;
        snprintf(out->state, sizeof out->state, "%s", (t = sm_col_text(s, 0)) ? t : "");
        snprintf(out->kind, sizeof out->kind, "%s", (t = sm_col_text(s, 1)) ? t : "");
        out->blocks = (uint64_t)sm_col_i64(s, 2);
        snprintf(out->roots, sizeof out->roots, "%s", (t = sm_col_text(s, 3)) ? t : "");
        snprintf(out->error, sizeof out->error, "%s", (t = sm_col_text(s, 4)) ? t : "");
    }
    sm_stmt_reset(s);
    if (r < 0)
        return err && err->code ? err->code : SP_EIO;
    return r == 0 ? sp_fail(err, SP_ENOTFOUND, "no piece %.80s", cid) : SP_OK;
}

sp_code sm_blocks_pending(sm_db *db, char (*cids)[PF_COMMCID_STR_MAX], size_t max, size_t *n,
                          sp_err *err)
{
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_PENDING, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)max);
    int r = 0;
    while (*n < max && (r = sm_step(s, err)) == 1) {
        const char *c = sm_col_text(s, 0);
        snprintf(cids[(*n)++], PF_COMMCID_STR_MAX, "%s", c ? c : "");
    }
    sm_stmt_reset(s);
    return r < 0 ? (err && err->code ? err->code : SP_EIO) : SP_OK;
}

sp_code sm_blocks_reset(sm_db *db, const char *cid, int64_t *pieces, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, cid ? SQL_RESET_ONE : SQL_RESET_ALL, &s, err)))
        goto fail;
    if (cid)
        sm_bind_text(s, 1, cid);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    *pieces = sm_db_changes(db);
    if (cid && *pieces == 0) {
        rc = sp_fail(err, SP_ENOTFOUND, "no piece %.80s", cid);
        goto fail;
    }
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}
