/* sectors.c — sector number allocation, the sector record, worker reports, admin abort
 * and restore, listings (contract in sm_sectors.h). */
#include "sm_sectors.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_deals.h"
#include "sm_stores.h"
#include "sp_fs.h"

bool sm_state_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= SM_STATE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static sp_code step_error(sp_err *err)
{
    return err && err->code ? err->code : SP_EIO;
}

static sp_code not_found(sp_err *err, uint64_t miner, uint64_t number)
{
    return sp_fail(err, SP_ENOTFOUND, "sector s-t0%" PRIu64 "-%" PRIu64 " is not known to this "
                   "manager", miner, number);
}

/* ---- the record ----------------------------------------------------------------------- */

#define SECTOR_COLS                                                                             \
    "miner, number, proof_type, state, worker, location, created_ms, updated_ms, finalized, "    \
    "aborted, worker_done, abort_reason, pre_abort_state, last_error, ticket, ticket_epoch, "    \
    "pc_state, pc_comm_r, pc_comm_d, pc_ticket, pc_ticket_epoch, pc_submit_epoch, pc_epoch, "    \
    "pc_desc, seed, seed_epoch, proof_state, proof_hash, proof_submit_epoch, proof_epoch, "      \
    "proof_desc, store, store_bytes"

static void col_str(sm_stmt *s, int i, char *buf, size_t len)
{
    const char *t = sm_col_text(s, i);
    snprintf(buf, len, "%s", t ? t : "");
}

static void row_to_sector(sm_stmt *s, sm_sector *o)
{
    memset(o, 0, sizeof *o);
    o->miner = (uint64_t)sm_col_i64(s, 0);
    o->number = (uint64_t)sm_col_i64(s, 1);
    o->proof_type = (int)sm_col_i64(s, 2);
    col_str(s, 3, o->state, sizeof o->state);
    col_str(s, 4, o->worker, sizeof o->worker);
    col_str(s, 5, o->location, sizeof o->location);
    o->created_ms = (uint64_t)sm_col_i64(s, 6);
    o->updated_ms = (uint64_t)sm_col_i64(s, 7);
    o->finalized = sm_col_i64(s, 8) != 0;
    o->aborted = sm_col_i64(s, 9) != 0;
    o->worker_done = sm_col_i64(s, 10) != 0;
    col_str(s, 11, o->abort_reason, sizeof o->abort_reason);
    col_str(s, 12, o->pre_abort_state, sizeof o->pre_abort_state);
    col_str(s, 13, o->last_error, sizeof o->last_error);
    o->has_ticket = sm_col_bytes(s, 14, o->ticket, 32);
    o->ticket_epoch = sm_col_i64(s, 15);
    o->pc_state = (int)sm_col_i64(s, 16);
    sm_col_bytes(s, 17, o->pc_comm_r, 32);
    sm_col_bytes(s, 18, o->pc_comm_d, 32);
    sm_col_bytes(s, 19, o->pc_ticket, 32);
    o->pc_ticket_epoch = sm_col_i64(s, 20);
    o->pc_submit_epoch = sm_col_i64(s, 21);
    o->pc_epoch = sm_col_i64(s, 22);
    col_str(s, 23, o->pc_desc, sizeof o->pc_desc);
    o->has_seed = sm_col_bytes(s, 24, o->seed, 32);
    o->seed_epoch = sm_col_i64(s, 25);
    o->proof_state = (int)sm_col_i64(s, 26);
    sm_col_bytes(s, 27, o->proof_hash, 32);
    o->proof_submit_epoch = sm_col_i64(s, 28);
    o->proof_epoch = sm_col_i64(s, 29);
    col_str(s, 30, o->proof_desc, sizeof o->proof_desc);
    col_str(s, 31, o->store, sizeof o->store);
    o->store_bytes = (uint64_t)sm_col_i64(s, 32);
}

static const char SQL_LOAD[] =
    "SELECT " SECTOR_COLS " FROM sectors WHERE miner = ?1 AND number = ?2";

sp_code sm_sectors_load(sm_db *db, uint64_t miner, uint64_t number, sm_sector *out, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_LOAD, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int r = sm_step(s, err);
    if (r == 1)
        row_to_sector(s, out);
    sm_stmt_reset(s);
    if (r < 0)
        return step_error(err);
    if (r == 0)
        return not_found(err, miner, number);
    return SP_OK;
}

static const char SQL_EVENT[] =
    "INSERT INTO sector_events (miner, number, at_ms, source, worker, location, prev, next, "
    "event, level, desc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

sp_code sm_sectors_event_in(sm_db *db, uint64_t miner, uint64_t number, const char *source,
                            const char *worker, const char *location, const char *prev,
                            const char *next, const char *event, const char *level,
                            const char *desc, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_EVENT, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    sm_bind_text(s, 4, source);
    sm_bind_text(s, 5, worker ? worker : "");
    sm_bind_text(s, 6, location ? location : "");
    sm_bind_text(s, 7, prev);
    sm_bind_text(s, 8, next);
    sm_bind_text(s, 9, event);
    sm_bind_text(s, 10, level);
    sm_bind_text(s, 11, desc);
    return sm_step_done(s, err);
}

/* ---- allocation ----------------------------------------------------------------------- */

static const char SQL_MINER_GET[] =
    "SELECT next_number, durable_limit FROM miners WHERE actor = ?1";
static const char SQL_MINER_ADVANCE[] =
    "UPDATE miners SET next_number = ?2, allocated = allocated + 1 WHERE actor = ?1";
/* ?3 = SM_NUMBER_BLOCK, ?4 = now, ?5 = SM_NUMBER_BLOCK_MAX.  Every SET expression sees
 * the row as it was before the update.  The raise happens in its own transaction after
 * the read one, so several allocators may find the limit reached at once: only the first
 * raises it (the WHERE), the others find room when they read again, so the limit stays
 * within one step of next_number (the race showed under valgrind's scheduling). */
static const char SQL_MINER_RAISE[] =
    "INSERT INTO miners (actor, next_number, durable_limit, raised_ms, block) "
    "VALUES (?1, ?2, ?2 + ?3, ?4, ?3) ON CONFLICT (actor) DO UPDATE SET "
    "block = CASE WHEN ?4 - raised_ms < 1000 THEN min(block * 2, ?5) ELSE ?3 END, "
    "next_number = max(next_number, ?2), "
    "durable_limit = max(durable_limit, next_number, ?2) + "
    "  CASE WHEN ?4 - raised_ms < 1000 THEN min(block * 2, ?5) ELSE ?3 END, "
    "raised_ms = ?4 "
    "WHERE durable_limit <= max(next_number, ?2)";
static const char SQL_SECTOR_NEW[] =
    "INSERT INTO sectors (miner, number, proof_type, state, created_ms, updated_ms) "
    "VALUES (?1, ?2, ?3, 'Allocated', ?4, ?4)";

/* One miner: 1 allocated, 0 exhausted, or an error code (negated). */
static sp_code allocate_one(sm_db *db, const sm_miner_conf *m, int proof, uint64_t *number,
                            bool *exhausted, sp_err *err)
{
    *exhausted = false;
    for (int attempt = 0; attempt < 4; attempt++) {
        sm_stmt *s;
        sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
        if (rc)
            return rc;
        if ((rc = sm_db_stmt(db, SQL_MINER_GET, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, (int64_t)m->actor);
        int r = sm_step(s, err);
        uint64_t next = m->first_number, limit = m->first_number;
        if (r == 1) {
            next = (uint64_t)sm_col_i64(s, 0);
            limit = (uint64_t)sm_col_i64(s, 1);
        }
        sm_stmt_reset(s);
        if (r < 0) {
            rc = step_error(err);
            goto fail;
        }
        if (next < m->first_number)
            next = m->first_number;
        if (next > m->max_number || next == UINT64_MAX) {
            sm_db_rollback(db);
            *exhausted = true;
            return SP_OK;
        }
        if (next < limit) {
            uint64_t now = sp_wall_ms();
            if ((rc = sm_db_stmt(db, SQL_MINER_ADVANCE, &s, err)))
                goto fail;
            sm_bind_i64(s, 1, (int64_t)m->actor);
            sm_bind_i64(s, 2, (int64_t)(next + 1));
            if ((rc = sm_step_done(s, err)))
                goto fail;
            if ((rc = sm_db_stmt(db, SQL_SECTOR_NEW, &s, err)))
                goto fail;
            sm_bind_i64(s, 1, (int64_t)m->actor);
            sm_bind_i64(s, 2, (int64_t)next);
            sm_bind_i64(s, 3, proof);
            sm_bind_i64(s, 4, (int64_t)now);
            if ((rc = sm_step_done(s, err))) {
                sp_err_prefix(err, "sector s-t0%" PRIu64 "-%" PRIu64 " already exists (a number "
                              "would have been reused; refusing)", m->actor, next);
                goto fail;
            }
            if ((rc = sm_sectors_event_in(db, m->actor, next, "manager", NULL, NULL, NULL,
                                          "Allocated", "Allocate", NULL, NULL, err)))
                goto fail;
            if ((rc = sm_db_commit(db, err)))
                return rc;
            *number = next;
            return SP_OK;
        }
        sm_db_rollback(db);
        /* Raise the durable limit first, on disk before any number under it is used.  Under
         * a burst of allocations the step doubles, so the fsync is paid rarely. */
        if ((rc = sm_db_begin(db, SM_TX_DURABLE, err)))
            return rc;
        if ((rc = sm_db_stmt(db, SQL_MINER_RAISE, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, (int64_t)m->actor);
        sm_bind_i64(s, 2, (int64_t)next);
        sm_bind_i64(s, 3, SM_NUMBER_BLOCK);
        sm_bind_i64(s, 4, (int64_t)sp_wall_ms());
        sm_bind_i64(s, 5, SM_NUMBER_BLOCK_MAX);
        if ((rc = sm_step_done(s, err)))
            goto fail;
        if ((rc = sm_db_commit(db, err)))
            return rc;
        continue;
    fail:
        sm_db_rollback(db);
        return rc;
    }
    return sp_fail(err, SP_EINTERNAL, "miner %" PRIu64 ": could not raise the sector number limit",
                   m->actor);
}

static bool has_u64(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* The proof a miner would seal for spec, or -1. */
static int proof_for(const sm_miner_conf *m, const sm_alloc_spec *spec)
{
    for (size_t i = 0; i < m->n_proofs; i++) {
        if (spec->n_proofs == 0)
            return m->proofs[i];
        for (size_t j = 0; j < spec->n_proofs; j++)
            if (spec->proofs[j] == m->proofs[i])
                return m->proofs[i];
    }
    return -1;
}

sp_code sm_sectors_allocate(sm_db *db, const sm_conf *conf, const sm_alloc_spec *spec,
                            unsigned pick, uint64_t *miner, uint64_t *number, int *proof_type,
                            bool *found, sp_err *err)
{
    *found = false;
    size_t n = conf->n_miners;
    if (n == 0)
        return SP_OK;
    for (size_t k = 0; k < n; k++) {
        const sm_miner_conf *m = &conf->miners[(pick + k) % n];
        if (!m->enabled || (spec->n_miners && !has_u64(spec->miners, spec->n_miners, m->actor)))
            continue;
        int proof = proof_for(m, spec);
        if (proof < 0)
            continue;
        bool exhausted = false;
        sp_code rc = allocate_one(db, m, proof, number, &exhausted, err);
        if (rc)
            return rc;
        if (exhausted)
            continue;
        *miner = m->actor;
        *proof_type = proof;
        *found = true;
        return SP_OK;
    }
    return SP_OK;
}

static const char SQL_RECOVER[] =
    "UPDATE miners SET next_number = durable_limit WHERE next_number < durable_limit";

sp_code sm_sectors_recover_numbers(sm_db *db, int *moved, sp_err *err)
{
    *moved = 0;
    sp_code rc = sm_db_begin(db, SM_TX_DURABLE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_RECOVER, &s, err)) || (rc = sm_step_done(s, err))) {
        sm_db_rollback(db);
        return rc;
    }
    *moved = (int)sm_db_changes(db);
    return sm_db_commit(db, err);
}

static const char SQL_NUMBERS[] =
    "SELECT next_number, durable_limit, allocated FROM miners WHERE actor = ?1";

sp_code sm_sectors_miner_numbers(sm_db *db, uint64_t actor, sm_miner_numbers *out, bool *found,
                                 sp_err *err)
{
    memset(out, 0, sizeof *out);
    out->actor = actor;
    *found = false;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_NUMBERS, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)actor);
    int r = sm_step(s, err);
    if (r == 1) {
        out->next_number = (uint64_t)sm_col_i64(s, 0);
        out->durable_limit = (uint64_t)sm_col_i64(s, 1);
        out->allocated = (uint64_t)sm_col_i64(s, 2);
        *found = true;
    }
    sm_stmt_reset(s);
    return r < 0 ? step_error(err) : SP_OK;
}

/* ---- worker reports ------------------------------------------------------------------- */

static const char SQL_REPORT_STATE[] =
    "UPDATE sectors SET state = ?3, worker = ?4, location = ?5, updated_ms = ?6, last_error = ?7 "
    "WHERE miner = ?1 AND number = ?2";

static const char SQL_REPORT_GET[] =
    "SELECT state, finalized, aborted, abort_reason FROM sectors WHERE miner = ?1 AND number = ?2";

sp_code sm_sectors_report(sm_db *db, uint64_t miner, uint64_t number, const sm_report *r,
                          bool *finalized, char *abort_reason, size_t reason_len, bool *aborted,
                          sp_err *err)
{
    *finalized = *aborted = false;
    if (abort_reason && reason_len)
        abort_reason[0] = 0;
    char state[SM_STATE_MAX], reason[SM_DESC_MAX];
    bool fin = false, ab = false;
    sm_stmt *s;
    /* The hot path of a busy manager: read only the four columns it needs. */
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_db_stmt(db, SQL_REPORT_GET, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int found = sm_step(s, err);
    if (found == 1) {
        col_str(s, 0, state, sizeof state);
        fin = sm_col_i64(s, 1) != 0;
        ab = sm_col_i64(s, 2) != 0;
        col_str(s, 3, reason, sizeof reason);
    }
    sm_stmt_reset(s);
    if (found < 0) {
        rc = step_error(err);
        goto fail;
    }
    if (found == 0) {
        rc = not_found(err, miner, number);
        goto fail;
    }
    if ((rc = sm_sectors_event_in(db, miner, number, "worker", r->instance, r->location, r->prev,
                                  r->next, r->event, r->level, r->desc, err)))
        goto fail;
    if (!fin) {
        char failure[SM_DESC_MAX];
        const char *last = NULL;
        if (r->level || r->desc) {
            snprintf(failure, sizeof failure, "%s: %s", r->level ? r->level : "error",
                     r->desc ? r->desc : "");
            last = failure;
        }
        if ((rc = sm_db_stmt(db, SQL_REPORT_STATE, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, (int64_t)miner);
        sm_bind_i64(s, 2, (int64_t)number);
        sm_bind_text(s, 3, strcmp(state, "Proving") == 0 ? "Proving" : r->next);
        sm_bind_text(s, 4, r->instance);
        sm_bind_text(s, 5, r->location);
        sm_bind_i64(s, 6, (int64_t)sp_wall_ms());
        sm_bind_text(s, 7, last);
        if ((rc = sm_step_done(s, err)))
            goto fail;
    }
    if ((rc = sm_db_commit(db, err)))
        return rc;
    *finalized = fin;
    *aborted = ab;
    if (ab && abort_reason && reason_len)
        snprintf(abort_reason, reason_len, "%s", reason);
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_FINALIZE[] =
    "UPDATE sectors SET finalized = 1, worker_done = 1, updated_ms = ?3, "
    "state = CASE WHEN aborted = 1 OR state = 'Proving' THEN state ELSE 'Finished' END "
    "WHERE miner = ?1 AND number = ?2";

sp_code sm_sectors_finalized(sm_db *db, uint64_t miner, uint64_t number, sp_err *err)
{
    sm_sector sec;
    sm_stmt *s;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &sec, err)))
        goto fail;
    if ((rc = sm_db_stmt(db, SQL_FINALIZE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)) || (rc = sm_stores_release_in(db, miner, number, err)) ||
        (rc = sm_sectors_event_in(db, miner, number, "worker", sec.worker, sec.location,
                                  sec.state, NULL, "ReportFinalized", NULL, NULL, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_ABORT[] =
    "UPDATE sectors SET finalized = 1, aborted = 1, worker_done = max(worker_done, ?4), "
    "abort_reason = coalesce(abort_reason, ?3), "
    "pre_abort_state = CASE WHEN aborted = 1 THEN pre_abort_state ELSE state END, "
    "state = 'Aborted', updated_ms = ?5 WHERE miner = ?1 AND number = ?2";

static const char SQL_RELEASED_DEALS[] =
    "UPDATE sectors SET released_deals = ?3 WHERE miner = ?1 AND number = ?2";

static sp_code abort_in(sm_db *db, const sm_sector *sec, const char *reason, bool by_worker,
                        sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_ABORT, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)sec->miner);
    sm_bind_i64(s, 2, (int64_t)sec->number);
    sm_bind_text(s, 3, reason);
    sm_bind_i64(s, 4, by_worker);
    sm_bind_i64(s, 5, (int64_t)sp_wall_ms());
    int64_t released = 0;
    if ((rc = sm_step_done(s, err)) ||
        (rc = sm_deals_release_in(db, sec->miner, sec->number, &released, err)) ||
        (rc = sm_stores_release_in(db, sec->miner, sec->number, err)))
        return rc;
    if (released && (rc = sm_db_stmt(db, SQL_RELEASED_DEALS, &s, err)) == SP_OK) {
        sm_bind_i64(s, 1, (int64_t)sec->miner);
        sm_bind_i64(s, 2, (int64_t)sec->number);
        sm_bind_i64(s, 3, released);
        rc = sm_step_done(s, err);
    }
    if (rc)
        return rc;
    return sm_sectors_event_in(db, sec->miner, sec->number, by_worker ? "worker" : "admin",
                               by_worker ? sec->worker : NULL, by_worker ? sec->location : NULL,
                               sec->state, "Aborted", by_worker ? "ReportAborted" : "Abort", NULL,
                               reason, err);
}

sp_code sm_sectors_worker_aborted(sm_db *db, uint64_t miner, uint64_t number, const char *reason,
                                  sp_err *err)
{
    sm_sector sec;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &sec, err)))
        goto fail;
    if (strcmp(sec.state, "Proving") == 0) {
        /* On chain already: the worker's copy is gone, the sector itself is not. */
        rc = sm_sectors_event_in(db, miner, number, "worker", sec.worker, sec.location, sec.state,
                                 NULL, "ReportAborted", NULL, reason, err);
    } else {
        rc = abort_in(db, &sec, reason, true, err);
    }
    if (rc)
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_sectors_abort(sm_db *db, uint64_t miner, uint64_t number, const char *reason,
                         sp_err *err)
{
    sm_sector sec;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &sec, err)))
        goto fail;
    if (sec.aborted) {
        rc = sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " is already aborted (%s)",
                     miner, number, sec.abort_reason);
        goto fail;
    }
    if (strcmp(sec.state, "Proving") == 0) {
        rc = sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " is proving on chain; "
                     "aborting it would lose it (terminate it instead)", miner, number);
        goto fail;
    }
    if (sec.finalized) {
        rc = sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " is already finalized (%s)",
                     miner, number, sec.state);
        goto fail;
    }
    if ((rc = abort_in(db, &sec, reason && *reason ? reason : "aborted by the admin", false, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_GET_RELEASED[] =
    "SELECT released_deals FROM sectors WHERE miner = ?1 AND number = ?2";

static int64_t released_deals_in(sm_db *db, uint64_t miner, uint64_t number)
{
    sm_stmt *s;
    if (sm_db_stmt(db, SQL_GET_RELEASED, &s, NULL) != SP_OK)
        return -1;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int64_t n = sm_step(s, NULL) == 1 ? sm_col_i64(s, 0) : -1;
    sm_stmt_reset(s);
    return n;
}

static const char SQL_RESTORE[] =
    "UPDATE sectors SET finalized = 0, aborted = 0, abort_reason = NULL, "
    "state = coalesce(pre_abort_state, 'Allocated'), pre_abort_state = NULL, released_deals = 0, "
    "updated_ms = ?3 "
    "WHERE miner = ?1 AND number = ?2";

sp_code sm_sectors_restore(sm_db *db, uint64_t miner, uint64_t number, sp_err *err)
{
    sm_sector sec;
    sm_stmt *s;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &sec, err)))
        goto fail;
    if (!sec.aborted) {
        rc = sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " is not aborted (state %s)",
                     miner, number, sec.state);
        goto fail;
    }
    if (sec.worker_done) {
        rc = sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " cannot be restored: its "
                     "worker already discarded it (ReportAborted); its number stays used",
                     miner, number);
        goto fail;
    }
    if ((rc = sm_deals_retake_in(db, miner, number, released_deals_in(db, miner, number), err)))
        goto fail;
    if ((rc = sm_db_stmt(db, SQL_RESTORE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)) ||
        (rc = sm_sectors_event_in(db, miner, number, "admin", NULL, NULL, "Aborted",
                                  sec.pre_abort_state[0] ? sec.pre_abort_state : "Allocated",
                                  "Restore", NULL, NULL, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- listings ------------------------------------------------------------------------- */

static const char SQL_LIST[] =
    "SELECT " SECTOR_COLS " FROM sectors WHERE (?1 IS NULL OR state = ?1) AND "
    "(?2 IS NULL OR miner = ?2) ORDER BY miner, number LIMIT ?3";

sp_code sm_sectors_list(sm_db *db, const sm_sector_filter *f, sm_sector **out, size_t *n,
                        sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_LIST, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, f->state);
    if (f->has_miner)
        sm_bind_i64(s, 2, (int64_t)f->miner);
    else
        sm_bind_null(s, 2);
    sm_bind_i64(s, 3, f->limit ? (int64_t)f->limit : -1);
    size_t cap = 0;
    sm_sector *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sm_sector *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "sectors: out of memory for the list");
            }
            v = nv;
        }
        row_to_sector(s, &v[(*n)++]);
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

static const char SQL_EVENTS[] =
    "SELECT at_ms, source, worker, prev, next, event, level, desc FROM ("
    "  SELECT id, at_ms, source, worker, prev, next, event, level, desc FROM sector_events "
    "  WHERE miner = ?1 AND number = ?2 ORDER BY id DESC LIMIT ?3) ORDER BY id";

sp_code sm_sectors_events(sm_db *db, uint64_t miner, uint64_t number, size_t limit,
                          sm_event **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_EVENTS, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_i64(s, 3, limit ? (int64_t)limit : -1);
    size_t cap = 0;
    sm_event *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sm_event *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "sectors: out of memory for events");
            }
            v = nv;
        }
        sm_event *e = &v[(*n)++];
        e->at_ms = (uint64_t)sm_col_i64(s, 0);
        col_str(s, 1, e->source, sizeof e->source);
        col_str(s, 2, e->worker, sizeof e->worker);
        col_str(s, 3, e->prev, sizeof e->prev);
        col_str(s, 4, e->next, sizeof e->next);
        col_str(s, 5, e->event, sizeof e->event);
        col_str(s, 6, e->level, sizeof e->level);
        col_str(s, 7, e->desc, sizeof e->desc);
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

static const char SQL_COUNTS[] =
    "SELECT miner, state, count(*) FROM sectors GROUP BY miner, state ORDER BY miner, state";

sp_code sm_sectors_count_states(sm_db *db, sm_state_count **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_COUNTS, &s, err);
    if (rc)
        return rc;
    size_t cap = 0;
    sm_state_count *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sm_state_count *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "sectors: out of memory");
            }
            v = nv;
        }
        sm_state_count *c = &v[(*n)++];
        c->miner = (uint64_t)sm_col_i64(s, 0);
        col_str(s, 1, c->state, sizeof c->state);
        c->count = (uint64_t)sm_col_i64(s, 2);
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
