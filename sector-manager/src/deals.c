/* deals.c — the deal queue and packing pieces into sectors (contract in sm_deals.h). */
#include "sm_deals.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_fs.h"

#define PACK_WINDOW 1024 /* queued deals looked at per AcquireDeals */

static sp_code step_error(sp_err *err)
{
    return err && err->code ? err->code : SP_EIO;
}

/* ---- packing --------------------------------------------------------------------------- */

static uint64_t unpadded(uint64_t padded)
{
    return padded / 128 * 127;
}

/* Insertion into `sel` (indexes, kept largest first; ties by input order). */
static void insert_sorted(size_t *sel, size_t k, size_t idx, const uint64_t *padded)
{
    size_t j = k;
    while (j > 0 && padded[sel[j - 1]] < padded[idx]) {
        sel[j] = sel[j - 1];
        j--;
    }
    sel[j] = idx;
}

size_t sm_deals_pack(uint64_t sector_size, const uint64_t *padded, size_t n, size_t max_deals,
                     size_t *order, uint64_t *offsets)
{
    uint64_t capacity = pf_max_user_bytes(sector_size);
    size_t k = 0;
    uint64_t *sizes = malloc((n ? n : 1) * sizeof *sizes);
    size_t *tmp = malloc((n + 1) * sizeof *tmp);
    if (!sizes || !tmp) {
        free(sizes);
        free(tmp);
        return 0;
    }
    for (size_t i = 0; i < n && (max_deals == 0 || k < max_deals); i++) {
        if (padded[i] < 128 || padded[i] > sector_size || (padded[i] & (padded[i] - 1)))
            continue;
        memcpy(tmp, order, k * sizeof *tmp);
        insert_sorted(tmp, k, i, padded);
        for (size_t j = 0; j <= k; j++)
            sizes[j] = unpadded(padded[tmp[j]]);
        if (pf_sum_piece_bytes_with_alignment(sizes, k + 1) <= capacity) {
            memcpy(order, tmp, (k + 1) * sizeof *order);
            k++;
        }
    }
    for (size_t j = 0; j < k; j++) {
        sizes[j] = unpadded(padded[order[j]]);
        uint64_t start = pf_get_piece_start_byte(sizes, j, sizes[j]);
        offsets[j] = start / 127 * 128;
    }
    free(sizes);
    free(tmp);
    return k;
}

sp_code sm_deals_comm_d(uint64_t sector_size, const sm_deal_piece *p, size_t n,
                        uint8_t comm_d[32], sp_err *err)
{
    pf_piece_info *pi = calloc(n ? n : 1, sizeof *pi);
    if (!pi)
        return sp_fail(err, SP_ENOMEM, "deals: out of memory");
    for (size_t i = 0; i < n; i++) {
        memcpy(pi[i].comm_p, p[i].comm_p, 32);
        pi[i].size = unpadded(p[i].padded_size);
    }
    pf_error pe = { 0 };
    pf_status st = pf_comm_d(sector_size, pi, n, comm_d, &pe);
    free(pi);
    if (st != PF_OK)
        return sp_fail(err, SP_EINVAL, "CommD of the sector's pieces: %s", pe.msg);
    return SP_OK;
}

/* ---- queue ------------------------------------------------------------------------------ */

static const char SQL_QUEUE[] =
    "INSERT INTO deals (miner, piece_cid, state, created_ms, updated_ms) "
    "VALUES (?1, ?2, 'Queued', ?3, ?3)";

sp_code sm_deals_queue_in(sm_db *db, uint64_t miner, const char *cid, int64_t *deal_id,
                          sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_QUEUE, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_text(s, 2, cid);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        return rc;
    *deal_id = sm_db_last_id(db);
    return SP_OK;
}

#define PIECE_COLS "d.id, d.piece_cid, p.comm_p, p.payload_size, p.padded_size, d.offset"

static void row_to_piece(sm_stmt *s, sm_deal_piece *p)
{
    memset(p, 0, sizeof *p);
    p->deal_id = sm_col_i64(s, 0);
    const char *cid = sm_col_text(s, 1);
    snprintf(p->cid, sizeof p->cid, "%s", cid ? cid : "");
    sm_col_bytes(s, 2, p->comm_p, 32);
    p->payload_size = (uint64_t)sm_col_i64(s, 3);
    p->padded_size = (uint64_t)sm_col_i64(s, 4);
    p->offset = (uint64_t)sm_col_i64(s, 5);
}

static const char SQL_OF_SECTOR[] =
    "SELECT " PIECE_COLS " FROM deals d JOIN pieces p ON p.cid = d.piece_cid "
    "WHERE d.miner = ?1 AND d.sector = ?2 AND d.state IN ('Assigned', 'Sealed') ORDER BY d.seq";
static const char SQL_QUEUED[] =
    "SELECT " PIECE_COLS " FROM deals d JOIN pieces p ON p.cid = d.piece_cid "
    "WHERE d.miner = ?1 AND d.state = 'Queued' ORDER BY d.id LIMIT ?2";

static sp_code read_pieces(sm_stmt *s, sm_deal_piece **out, size_t *n, sp_err *err)
{
    size_t cap = 0;
    sm_deal_piece *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sm_deal_piece *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "deals: out of memory");
            }
            v = nv;
        }
        row_to_piece(s, &v[(*n)++]);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        free(v);
        *n = 0;
        return step_error(err);
    }
    *out = v;
    return SP_OK;
}

sp_code sm_deals_of_sector(sm_db *db, uint64_t miner, uint64_t number, sm_deal_piece **out,
                           size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_OF_SECTOR, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    return read_pieces(s, out, n, err);
}

static const char SQL_SECTOR_ABORTED[] =
    "SELECT aborted FROM sectors WHERE miner = ?1 AND number = ?2";
static const char SQL_ASSIGN[] =
    "UPDATE deals SET state = 'Assigned', sector = ?2, seq = ?3, offset = ?4, last_sector = NULL, "
    "updated_ms = ?5 WHERE id = ?1 AND state = 'Queued'";

sp_code sm_deals_acquire(sm_db *db, uint64_t miner, uint64_t number, uint64_t sector_size,
                         size_t max_deals, uint64_t min_used, sm_deal_piece **out, size_t *n,
                         sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_deal_piece *queued = NULL, *chosen = NULL;
    uint64_t *padded = NULL, *offsets = NULL;
    size_t *order = NULL;
    size_t nq = 0;
    sm_stmt *s;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    /* Checked under the write lock: an abort between the caller's look and now must not
     * leave deals assigned to an aborted sector. */
    if ((rc = sm_db_stmt(db, SQL_SECTOR_ABORTED, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int r = sm_step(s, err);
    bool aborted = r == 1 && sm_col_i64(s, 0) != 0;
    sm_stmt_reset(s);
    if (r <= 0 || aborted) {
        rc = r < 0 ? step_error(err)
                   : sp_fail(err, r == 0 ? SP_ENOTFOUND : SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64
                             " %s", miner, number, r == 0 ? "is not known to this manager" : "was aborted");
        goto fail;
    }
    /* A retried call gets what the first one assigned. */
    if ((rc = sm_deals_of_sector(db, miner, number, out, n, err)))
        goto fail;
    if (*n > 0) {
        sm_db_rollback(db);
        return SP_OK;
    }
    free(*out);
    *out = NULL;
    if ((rc = sm_db_stmt(db, SQL_QUEUED, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, PACK_WINDOW);
    if ((rc = read_pieces(s, &queued, &nq, err)))
        goto fail;
    if (nq == 0) {
        sm_db_rollback(db);
        return SP_OK;
    }
    padded = calloc(nq, sizeof *padded);
    offsets = calloc(nq, sizeof *offsets);
    order = calloc(nq, sizeof *order);
    chosen = calloc(nq, sizeof *chosen);
    if (!padded || !offsets || !order || !chosen) {
        rc = sp_fail(err, SP_ENOMEM, "deals: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nq; i++)
        padded[i] = queued[i].padded_size;
    size_t k = sm_deals_pack(sector_size, padded, nq, max_deals, order, offsets);
    uint64_t used = 0;
    for (size_t j = 0; j < k; j++)
        used += padded[order[j]];
    if (k == 0 || used < min_used) {
        rc = SP_OK;
        goto fail; /* nothing assigned: roll back */
    }
    uint64_t now = sp_wall_ms();
    for (size_t j = 0; j < k; j++) {
        chosen[j] = queued[order[j]];
        chosen[j].offset = offsets[j];
        if ((rc = sm_db_stmt(db, SQL_ASSIGN, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, chosen[j].deal_id);
        sm_bind_i64(s, 2, (int64_t)number);
        sm_bind_i64(s, 3, (int64_t)j);
        sm_bind_i64(s, 4, (int64_t)offsets[j]);
        sm_bind_i64(s, 5, (int64_t)now);
        if ((rc = sm_step_done(s, err)))
            goto fail;
    }
    if ((rc = sm_db_commit(db, err)))
        goto out;
    *out = chosen;
    *n = k;
    chosen = NULL;
out:
    free(queued);
    free(chosen);
    free(padded);
    free(offsets);
    free(order);
    return rc;
fail:
    sm_db_rollback(db);
    goto out;
}

static const char SQL_RELEASE[] =
    "UPDATE deals SET state = 'Queued', last_sector = sector, sector = NULL, seq = NULL, "
    "offset = NULL, updated_ms = ?3 WHERE miner = ?1 AND sector = ?2 AND state = 'Assigned'";

sp_code sm_deals_release_in(sm_db *db, uint64_t miner, uint64_t number, int64_t *released,
                            sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_RELEASE, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        return rc;
    if (released)
        *released = sm_db_changes(db);
    return SP_OK;
}

static const char SQL_SECTOR_BY_SIZE[] =
    "SELECT " PIECE_COLS " FROM deals d JOIN pieces p ON p.cid = d.piece_cid "
    "WHERE d.miner = ?1 AND d.sector = ?2 AND d.state = 'Assigned' "
    "ORDER BY p.padded_size DESC, d.id";
static const char SQL_SET_SEQ[] = "UPDATE deals SET seq = ?2, offset = ?3 WHERE id = ?1";

/* Release cleared seq and offset: give the retaken pieces their packing order again
 * (largest first, as sm_deals_pack orders them). */
static sp_code renumber_in(sm_db *db, uint64_t miner, uint64_t number, sp_err *err)
{
    sm_deal_piece *p = NULL;
    size_t n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_SECTOR_BY_SIZE, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    if ((rc = read_pieces(s, &p, &n, err)))
        return rc;
    uint64_t *sizes = malloc((n ? n : 1) * sizeof *sizes);
    if (!sizes) {
        free(p);
        return sp_fail(err, SP_ENOMEM, "deals: out of memory");
    }
    for (size_t j = 0; j < n && !rc; j++) {
        sizes[j] = unpadded(p[j].padded_size);
        uint64_t off = pf_get_piece_start_byte(sizes, j, sizes[j]) / 127 * 128;
        if ((rc = sm_db_stmt(db, SQL_SET_SEQ, &s, err)))
            break;
        sm_bind_i64(s, 1, p[j].deal_id);
        sm_bind_i64(s, 2, (int64_t)j);
        sm_bind_i64(s, 3, (int64_t)off);
        rc = sm_step_done(s, err);
    }
    free(sizes);
    free(p);
    return rc;
}

static const char SQL_RELEASED[] =
    "SELECT count(*) FROM deals WHERE miner = ?1 AND last_sector = ?2 AND state = 'Queued'";
static const char SQL_RETAKE[] =
    "UPDATE deals SET state = 'Assigned', sector = ?2, last_sector = NULL, updated_ms = ?3 "
    "WHERE miner = ?1 AND last_sector = ?2 AND state = 'Queued'";

sp_code sm_deals_retake_in(sm_db *db, uint64_t miner, uint64_t number, int64_t expected,
                           sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_RELEASED, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int r = sm_step(s, err);
    int64_t queued = r == 1 ? sm_col_i64(s, 0) : 0;
    sm_stmt_reset(s);
    if (r < 0)
        return step_error(err);
    if (queued != expected)
        return sp_fail(err, SP_ESTATE, "%lld of the %lld deals of sector s-t0%" PRIu64 "-%" PRIu64
                       " went to other sectors after the abort; the sector cannot be restored",
                       (long long)(expected - queued), (long long)expected, miner, number);
    if (expected == 0)
        return SP_OK;
    if ((rc = sm_db_stmt(db, SQL_RETAKE, &s, err)))
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        return rc;
    return renumber_in(db, miner, number, err);
}

static const char SQL_SEAL[] =
    "UPDATE deals SET state = 'Sealed', updated_ms = ?3 WHERE miner = ?1 AND sector = ?2 "
    "AND state = 'Assigned'";

sp_code sm_deals_seal_in(sm_db *db, uint64_t miner, uint64_t number, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_SEAL, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    return sm_step_done(s, err);
}

static const char SQL_LIST[] =
    "SELECT id, miner, piece_cid, state, sector, coalesce(offset, 0), created_ms FROM deals "
    "WHERE (?1 IS NULL OR piece_cid = ?1) ORDER BY id DESC LIMIT ?2";

sp_code sm_deals_list(sm_db *db, const char *cid, size_t limit, sm_deal_row **out, size_t *n,
                      sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_LIST, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, cid);
    sm_bind_i64(s, 2, limit ? (int64_t)limit : -1);
    size_t cap = 0;
    sm_deal_row *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sm_deal_row *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "deals: out of memory");
            }
            v = nv;
        }
        sm_deal_row *d = &v[(*n)++];
        memset(d, 0, sizeof *d);
        d->id = sm_col_i64(s, 0);
        d->miner = (uint64_t)sm_col_i64(s, 1);
        const char *t = sm_col_text(s, 2);
        snprintf(d->cid, sizeof d->cid, "%s", t ? t : "");
        t = sm_col_text(s, 3);
        snprintf(d->state, sizeof d->state, "%s", t ? t : "");
        d->has_sector = !sm_col_null(s, 4);
        d->sector = (uint64_t)sm_col_i64(s, 4);
        d->offset = (uint64_t)sm_col_i64(s, 5);
        d->created_ms = (uint64_t)sm_col_i64(s, 6);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        free(v);
        *n = 0;
        return step_error(err);
    }
    *out = v;
    return SP_OK;
}
