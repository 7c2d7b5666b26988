/* commits.c — ticket, precommit, seed, persisted files, prove-commit and their landing on
 * the local chain (rules in sm_commits.h). */
#include "sm_commits.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sealproofs.h"
#include "sm_deals.h"
#include "sm_stores.h"
#include "sp_codec.h"
#include "sp_fs.h"

static void answer(sm_answer *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void answer(sm_answer *a, int code, const char *fmt, ...)
{
    a->code = code;
    a->desc[0] = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(a->desc, sizeof a->desc, fmt, ap);
        va_end(ap);
    }
}

static uint64_t sector_size_of(int proof_type)
{
    const pf_seal_proof_info *pi = pf_seal_proof(proof_type);
    return pi ? pi->sector_size : 0;
}

static void hex8(const uint8_t *b, char out[17])
{
    sp_hex_encode(b, 8, out);
}

/* ---- landing -------------------------------------------------------------------------- */

/* Applies a precommit landing that is due at head to *s; true when something changed. */
static bool settle_pc(const sm_chain *c, sm_sector *s, int64_t head)
{
    if (s->pc_state != SM_ONCHAIN_PENDING)
        return false;
    int64_t land = s->pc_submit_epoch + c->p.precommit_landing;
    if (head < land)
        return false;
    if (s->pc_ticket_epoch < land - c->p.max_ticket_age) {
        s->pc_state = SM_ONCHAIN_SHOULD_ABORT;
        snprintf(s->pc_desc, sizeof s->pc_desc, "the precommit failed on chain at epoch %" PRId64
                 ": its ticket (epoch %" PRId64 ") is more than %" PRId64 " epochs old; the "
                 "sector cannot be committed", land, s->pc_ticket_epoch, c->p.max_ticket_age);
    } else {
        s->pc_state = SM_ONCHAIN_LANDED;
        s->pc_epoch = land;
        s->pc_desc[0] = 0;
    }
    return true;
}

static bool settle_proof(const sm_chain *c, sm_sector *s, int64_t head)
{
    if (s->proof_state != SM_ONCHAIN_PENDING || s->pc_state != SM_ONCHAIN_LANDED)
        return false;
    int64_t land = s->proof_submit_epoch + c->p.proof_landing;
    if (head < land)
        return false;
    int64_t deadline = s->pc_epoch + c->p.max_prove_duration;
    if (land > deadline) {
        s->proof_state = SM_ONCHAIN_SHOULD_ABORT;
        snprintf(s->proof_desc, sizeof s->proof_desc, "the prove-commit landed at epoch %" PRId64
                 ", after the precommit of epoch %" PRId64 " expired at epoch %" PRId64, land,
                 s->pc_epoch, deadline);
    } else {
        s->proof_state = SM_ONCHAIN_LANDED;
        s->proof_epoch = land;
        s->proof_desc[0] = 0;
        if (!s->aborted)
            snprintf(s->state, sizeof s->state, "Proving");
    }
    return true;
}

static const char SQL_CHAIN_STATE[] =
    "UPDATE sectors SET pc_state = ?3, pc_epoch = ?4, pc_desc = ?5, proof_state = ?6, "
    "proof_epoch = ?7, proof_desc = ?8, state = ?9, updated_ms = ?10 WHERE miner = ?1 AND number = ?2";

/* Writes the landing fields and state of s and records what happened. */
static sp_code store_landing_in(sm_db *db, const sm_sector *s, const char *prev_state,
                                const char *event, const char *desc, sp_err *err)
{
    sm_stmt *st;
    sp_code rc = sm_db_stmt(db, SQL_CHAIN_STATE, &st, err);
    if (rc)
        return rc;
    sm_bind_i64(st, 1, (int64_t)s->miner);
    sm_bind_i64(st, 2, (int64_t)s->number);
    sm_bind_i64(st, 3, s->pc_state);
    if (s->pc_state == SM_ONCHAIN_LANDED)
        sm_bind_i64(st, 4, s->pc_epoch);
    else
        sm_bind_null(st, 4);
    sm_bind_text(st, 5, s->pc_desc[0] ? s->pc_desc : NULL);
    sm_bind_i64(st, 6, s->proof_state);
    if (s->proof_state == SM_ONCHAIN_LANDED)
        sm_bind_i64(st, 7, s->proof_epoch);
    else
        sm_bind_null(st, 7);
    sm_bind_text(st, 8, s->proof_desc[0] ? s->proof_desc : NULL);
    sm_bind_text(st, 9, s->state);
    sm_bind_i64(st, 10, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(st, err)))
        return rc;
    return sm_sectors_event_in(db, s->miner, s->number, "chain", NULL, NULL, prev_state,
                               strcmp(prev_state, s->state) ? s->state : NULL, event, NULL,
                               desc && *desc ? desc : NULL, err);
}

/* Settles both steps of a loaded sector and writes the changes (inside a write tx). */
static sp_code settle_sector_in(sm_db *db, const sm_chain *c, sm_sector *s, int64_t head,
                                int *settled, sp_err *err)
{
    char prev[SM_STATE_MAX];
    snprintf(prev, sizeof prev, "%s", s->state);
    sp_code rc;
    if (settle_pc(c, s, head)) {
        bool ok = s->pc_state == SM_ONCHAIN_LANDED;
        if ((rc = store_landing_in(db, s, prev, ok ? "PreCommitLanded" : "PreCommitFailed",
                                   s->pc_desc, err)))
            return rc;
        if (settled)
            (*settled)++;
    }
    if (settle_proof(c, s, head)) {
        bool ok = s->proof_state == SM_ONCHAIN_LANDED;
        if ((rc = store_landing_in(db, s, prev, ok ? "ProveCommitLanded" : "ProveCommitFailed",
                                   s->proof_desc, err)))
            return rc;
        if (ok && (rc = sm_deals_seal_in(db, s->miner, s->number, err)))
            return rc;
        if (settled)
            (*settled)++;
    }
    return SP_OK;
}

static const char SQL_DUE_PC[] =
    "SELECT miner, number FROM sectors WHERE pc_state = 1 AND pc_submit_epoch <= ?1 LIMIT 256";
static const char SQL_DUE_PROOF[] =
    "SELECT miner, number FROM sectors WHERE proof_state = 1 AND proof_submit_epoch <= ?1 LIMIT 256";

static sp_code settle_query(sm_db *db, const sm_chain *c, int64_t head, const char *sql,
                            int64_t due, int *settled, sp_err *err)
{
    uint64_t ids[256][2];
    size_t n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, sql, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, due);
    int r;
    while (n < 256 && (r = sm_step(s, err)) == 1) {
        ids[n][0] = (uint64_t)sm_col_i64(s, 0);
        ids[n][1] = (uint64_t)sm_col_i64(s, 1);
        n++;
    }
    sm_stmt_reset(s);
    if (n < 256 && r < 0)
        return err && err->code ? err->code : SP_EIO;
    for (size_t i = 0; i < n; i++) {
        sm_sector sec;
        if ((rc = sm_sectors_load(db, ids[i][0], ids[i][1], &sec, err)) ||
            (rc = settle_sector_in(db, c, &sec, head, settled, err)))
            return rc;
    }
    return SP_OK;
}

sp_code sm_commits_settle(sm_db *db, const sm_chain *c, int64_t head, int *settled, sp_err *err)
{
    *settled = 0;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = settle_query(db, c, head, SQL_DUE_PC, head - c->p.precommit_landing, settled, err)) ||
        (rc = settle_query(db, c, head, SQL_DUE_PROOF, head - c->p.proof_landing, settled, err))) {
        sm_db_rollback(db);
        return rc;
    }
    if (*settled == 0) {
        sm_db_rollback(db);
        return SP_OK;
    }
    return sm_db_commit(db, err);
}

/* ---- ticket ----------------------------------------------------------------------------- */

static const char SQL_TICKET[] =
    "UPDATE sectors SET ticket = ?3, ticket_epoch = ?4, updated_ms = ?5 WHERE miner = ?1 AND number = ?2";

static sp_code aborted_error(const sm_sector *s, sp_err *err)
{
    return sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " was aborted: %s", s->miner,
                   s->number, s->abort_reason[0] ? s->abort_reason : "no reason given");
}

sp_code sm_commits_ticket(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                          uint64_t number, uint8_t ticket[32], int64_t *epoch, sp_err *err)
{
    sm_sector s;
    sm_stmt *st;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &s, err)))
        goto fail;
    if (s.aborted) {
        rc = aborted_error(&s, err);
        goto fail;
    }
    if (s.pc_state != SM_ONCHAIN_NONE) {
        /* The precommit fixed the ticket: hand out that one. */
        memcpy(ticket, s.pc_ticket, 32);
        *epoch = s.pc_ticket_epoch;
        sm_db_rollback(db);
        return SP_OK;
    }
    *epoch = sm_chain_ticket_epoch(c, head);
    sm_chain_randomness(c, SM_DST_SEAL_RANDOMNESS, *epoch, miner, ticket);
    if ((rc = sm_db_stmt(db, SQL_TICKET, &st, err)))
        goto fail;
    sm_bind_i64(st, 1, (int64_t)miner);
    sm_bind_i64(st, 2, (int64_t)number);
    sm_bind_blob(st, 3, ticket, 32);
    sm_bind_i64(st, 4, *epoch);
    sm_bind_i64(st, 5, (int64_t)sp_wall_ms());
    char desc[64];
    snprintf(desc, sizeof desc, "ticket epoch %" PRId64, *epoch);
    if ((rc = sm_step_done(st, err)) ||
        (rc = sm_sectors_event_in(db, miner, number, "manager", NULL, NULL, NULL, NULL,
                                  "AssignTicket", NULL, desc, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- precommit ---------------------------------------------------------------------------- */

static const char SQL_PRECOMMIT[] =
    "UPDATE sectors SET pc_comm_r = ?3, pc_comm_d = ?4, pc_ticket = ?5, pc_ticket_epoch = ?6, "
    "pc_submit_epoch = ?7, pc_state = 1, pc_epoch = NULL, pc_desc = NULL, seed = NULL, "
    "seed_epoch = NULL, updated_ms = ?8 WHERE miner = ?1 AND number = ?2";

static bool same_precommit(const sm_sector *s, const sm_precommit *pc)
{
    return memcmp(s->pc_comm_r, pc->comm_r, 32) == 0 && memcmp(s->pc_comm_d, pc->comm_d, 32) == 0 &&
           memcmp(s->pc_ticket, pc->ticket, 32) == 0 && s->pc_ticket_epoch == pc->ticket_epoch;
}

/* True when c (little-endian) is below the BLS12-381 scalar field modulus r, as every
 * commitment is. */
static bool field_element(const uint8_t c[32])
{
    static const uint8_t r[32] = {
        0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xfe, 0x5b, 0xfe, 0xff, 0x02, 0xa4, 0xbd, 0x53,
        0x05, 0xd8, 0xa1, 0x09, 0x08, 0xd8, 0x39, 0x33, 0x48, 0x7d, 0x9d, 0x29, 0x53, 0xa7, 0xed, 0x73,
    };
    for (int i = 31; i >= 0; i--)
        if (c[i] != r[i])
            return c[i] < r[i];
    return false;
}

/* The checks of a new precommit; false with *out filled when it is refused. */
static bool check_precommit(sm_db *db, const sm_chain *c, int64_t head, const sm_sector *s,
                            const sm_precommit *pc, sm_answer *out, sp_code *rc, sp_err *err)
{
    *rc = SP_OK;
    if (pc->ticket_epoch >= head) {
        answer(out, SM_SUBMIT_REJECTED, "ticket epoch %" PRId64 " is not before the chain head %"
               PRId64, pc->ticket_epoch, head);
        return false;
    }
    if (pc->ticket_epoch < head - c->p.max_ticket_age) {
        answer(out, SM_SUBMIT_REJECTED, "ticket expired: ticket epoch %" PRId64 " is more than %"
               PRId64 " epochs before the head %" PRId64 "; the sector must be sealed again with "
               "a new ticket", pc->ticket_epoch, c->p.max_ticket_age, head);
        return false;
    }
    uint8_t want[32];
    sm_chain_randomness(c, SM_DST_SEAL_RANDOMNESS, pc->ticket_epoch, s->miner, want);
    if (memcmp(want, pc->ticket, 32) != 0) {
        answer(out, SM_SUBMIT_REJECTED, "the ticket is not the chain's randomness at epoch %"
               PRId64 " (take it with AssignTicket)", pc->ticket_epoch);
        return false;
    }
    static const uint8_t zero[32];
    if (!field_element(pc->comm_r) || memcmp(pc->comm_r, zero, 32) == 0) {
        answer(out, SM_SUBMIT_REJECTED, "CommR is not a valid commitment (zero, or not a field element)");
        return false;
    }
    sm_deal_piece *pieces = NULL;
    size_t n = 0;
    uint8_t comm_d[32];
    if ((*rc = sm_deals_of_sector(db, s->miner, s->number, &pieces, &n, err)) ||
        (*rc = sm_deals_comm_d(sector_size_of(s->proof_type), pieces, n, comm_d, err))) {
        free(pieces);
        return false;
    }
    free(pieces);
    if (memcmp(comm_d, pc->comm_d, 32) != 0) {
        char got[17], exp[17];
        hex8(pc->comm_d, got);
        hex8(comm_d, exp);
        answer(out, SM_SUBMIT_MISMATCHED, "CommD %s... differs from the CommD of the sector's %zu "
               "deal piece(s) %s... (zero pieces fill the rest)", got, n, exp);
        return false;
    }
    return true;
}

sp_code sm_commits_submit_precommit(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                                    uint64_t number, const sm_precommit *pc, bool reset,
                                    sm_answer *out, sp_err *err)
{
    sm_sector s;
    sm_stmt *st;
    answer(out, SM_SUBMIT_ACCEPTED, NULL);
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &s, err)))
        goto fail;
    if (s.aborted) {
        answer(out, SM_SUBMIT_REJECTED, "the sector was aborted: %s", s.abort_reason);
        goto done;
    }
    if (s.finalized) {
        answer(out, SM_SUBMIT_REJECTED, "the sector is already finalized");
        goto done;
    }
    if (pc->proof_type != s.proof_type) {
        answer(out, SM_SUBMIT_REJECTED, "proof type %d differs from the allocated proof type %d",
               pc->proof_type, s.proof_type);
        goto done;
    }
    if (s.pc_state != SM_ONCHAIN_NONE) {
        if (same_precommit(&s, pc)) {
            answer(out, SM_SUBMIT_DUPLICATE, NULL);
            goto done;
        }
        if (!reset) {
            answer(out, SM_SUBMIT_MISMATCHED, "a different precommit was submitted at epoch %" PRId64
                   "; send reset=true to replace it", s.pc_submit_epoch);
            goto done;
        }
        settle_pc(c, &s, head);
        if (s.pc_state == SM_ONCHAIN_LANDED) {
            answer(out, SM_SUBMIT_REJECTED, "the precommit landed at epoch %" PRId64 " and cannot "
                   "be replaced", s.pc_epoch);
            goto done;
        }
    }
    if (!check_precommit(db, c, head, &s, pc, out, &rc, err)) {
        if (rc)
            goto fail;
        goto done;
    }
    if ((rc = sm_db_stmt(db, SQL_PRECOMMIT, &st, err)))
        goto fail;
    sm_bind_i64(st, 1, (int64_t)miner);
    sm_bind_i64(st, 2, (int64_t)number);
    sm_bind_blob(st, 3, pc->comm_r, 32);
    sm_bind_blob(st, 4, pc->comm_d, 32);
    sm_bind_blob(st, 5, pc->ticket, 32);
    sm_bind_i64(st, 6, pc->ticket_epoch);
    sm_bind_i64(st, 7, head);
    sm_bind_i64(st, 8, (int64_t)sp_wall_ms());
    char desc[96], r8[17];
    hex8(pc->comm_r, r8);
    snprintf(desc, sizeof desc, "epoch %" PRId64 ", CommR %s...%s", head, r8,
             s.pc_state != SM_ONCHAIN_NONE ? " (reset)" : "");
    if ((rc = sm_step_done(st, err)) ||
        (rc = sm_sectors_event_in(db, miner, number, "worker", s.worker, s.location, NULL, NULL,
                                  "SubmitPreCommit", NULL, desc, err)))
        goto fail;
    return sm_db_commit(db, err);
done:
    sm_db_rollback(db);
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_commits_poll_precommit(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                                  uint64_t number, sm_answer *out, sp_err *err)
{
    sm_sector s;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &s, err)))
        goto fail;
    if (s.aborted) {
        answer(out, SM_ONCHAIN_SHOULD_ABORT, "the sector was aborted: %s", s.abort_reason);
        sm_db_rollback(db);
        return SP_OK;
    }
    if (s.pc_state == SM_ONCHAIN_NONE) {
        answer(out, SM_ONCHAIN_NOT_FOUND, "no precommit was submitted for this sector");
        sm_db_rollback(db);
        return SP_OK;
    }
    int settled = 0;
    if ((rc = settle_sector_in(db, c, &s, head, &settled, err)))
        goto fail;
    answer(out, s.pc_state, s.pc_desc[0] ? "%s" : NULL, s.pc_desc);
    if (settled)
        return sm_db_commit(db, err);
    sm_db_rollback(db);
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- seed ----------------------------------------------------------------------------------- */

static uint64_t delay_seconds(const sm_chain *c, int64_t epochs)
{
    if (epochs < 1)
        epochs = 1;
    uint64_t ms = (uint64_t)epochs * c->p.block_ms;
    uint64_t s = (ms + 999) / 1000;
    return s ? s : 1;
}

static const char SQL_SEED[] =
    "UPDATE sectors SET seed = ?3, seed_epoch = ?4, updated_ms = ?5 WHERE miner = ?1 AND number = ?2";

sp_code sm_commits_wait_seed(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                             uint64_t number, int proof_type, sm_seed_answer *out, sp_err *err)
{
    memset(out, 0, sizeof *out);
    sm_sector s;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &s, err)))
        goto fail;
    if (s.aborted) {
        rc = aborted_error(&s, err);
        goto fail;
    }
    if (proof_type != s.proof_type) {
        rc = sp_fail(err, SP_EINVAL, "proof type %d differs from the sector's proof type %d",
                     proof_type, s.proof_type);
        goto fail;
    }
    if (s.pc_state == SM_ONCHAIN_NONE) {
        rc = sp_fail(err, SP_ESTATE, "no precommit was submitted for sector s-t0%" PRIu64 "-%" PRIu64
                     "; submit it and wait for it to land first", miner, number);
        goto fail;
    }
    int settled = 0;
    if ((rc = settle_sector_in(db, c, &s, head, &settled, err)))
        goto fail;
    if (s.pc_state == SM_ONCHAIN_SHOULD_ABORT) {
        rc = sp_fail(err, SP_ESTATE, "%s", s.pc_desc);
        goto fail;
    }
    int64_t seed_epoch, ready;
    if (s.pc_state == SM_ONCHAIN_PENDING) {
        seed_epoch = s.pc_submit_epoch + c->p.precommit_landing + c->p.challenge_delay;
        ready = seed_epoch + c->p.seed_confidence;
    } else {
        seed_epoch = s.pc_epoch + c->p.challenge_delay;
        ready = seed_epoch + c->p.seed_confidence;
    }
    if (s.pc_state != SM_ONCHAIN_LANDED || head < ready) {
        out->should_wait = true;
        out->delay_s = delay_seconds(c, ready - head);
        goto keep;
    }
    out->epoch = seed_epoch;
    sm_chain_randomness(c, SM_DST_INTERACTIVE_SEAL_CHALLENGE_SEED, seed_epoch, miner, out->seed);
    if (!s.has_seed || s.seed_epoch != seed_epoch || memcmp(s.seed, out->seed, 32) != 0) {
        sm_stmt *st;
        char desc[64];
        snprintf(desc, sizeof desc, "seed epoch %" PRId64, seed_epoch);
        if ((rc = sm_db_stmt(db, SQL_SEED, &st, err)))
            goto fail;
        sm_bind_i64(st, 1, (int64_t)miner);
        sm_bind_i64(st, 2, (int64_t)number);
        sm_bind_blob(st, 3, out->seed, 32);
        sm_bind_i64(st, 4, seed_epoch);
        sm_bind_i64(st, 5, (int64_t)sp_wall_ms());
        if ((rc = sm_step_done(st, err)) ||
            (rc = sm_sectors_event_in(db, miner, number, "manager", NULL, NULL, NULL, NULL,
                                      "AssignSeed", NULL, desc, err)))
            goto fail;
        settled++;
    }
keep:
    if (settled)
        return sm_db_commit(db, err);
    sm_db_rollback(db);
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- persisted files ---------------------------------------------------------------------- */

/* Bytes of the regular files directly in dir; *has_p_aux / *has_tree_r tell what it holds. */
static int64_t cache_bytes(const char *dir, bool *has_p_aux, bool *has_tree_r)
{
    *has_p_aux = *has_tree_r = false;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[4400];
        struct stat st;
        if (e->d_name[0] == '.' || snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path)
            continue;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        total += st.st_size;
        if (strcmp(e->d_name, "p_aux") == 0)
            *has_p_aux = true;
        if (strncmp(e->d_name, "sc-02-data-tree-r-last", 22) == 0)
            *has_tree_r = true;
    }
    closedir(d);
    return total;
}

sp_code sm_commits_persisted(sm_db *db, uint64_t miner, uint64_t number, const char *store,
                             bool *ok, char *why, size_t why_len, sp_err *err)
{
    *ok = false;
    why[0] = 0;
    sm_store_info info;
    sm_sector s;
    sp_code rc = sm_stores_get(db, store, &info, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &s, err)))
        return rc;
    if (s.aborted)
        return aborted_error(&s, err);
    if (!info.reachable)
        return sp_fail(err, SP_ESTATE, "store %s: its path %s is not a directory on the manager's "
                       "machine, so the sector's files cannot be checked; mount it there", store,
                       info.def.path);
    char sealed[4400], cache[4400];
    snprintf(sealed, sizeof sealed, "%s/sealed/s-t0%" PRIu64 "-%" PRIu64, info.def.path, miner, number);
    snprintf(cache, sizeof cache, "%s/cache/s-t0%" PRIu64 "-%" PRIu64, info.def.path, miner, number);
    uint64_t want = sector_size_of(s.proof_type);
    int64_t sealed_size = sp_file_size(sealed);
    bool has_p_aux, has_tree_r;
    int64_t cache_size = cache_bytes(cache, &has_p_aux, &has_tree_r);
    if (sealed_size < 0)
        snprintf(why, why_len, "%s is missing", sealed);
    else if ((uint64_t)sealed_size != want)
        snprintf(why, why_len, "%s has %lld bytes, not the sector size %" PRIu64, sealed,
                 (long long)sealed_size, want);
    else if (cache_size < 0)
        snprintf(why, why_len, "%s is missing", cache);
    else if (!has_p_aux || !has_tree_r)
        snprintf(why, why_len, "%s lacks %s", cache, !has_p_aux ? "p_aux" : "sc-02-data-tree-r-last*.dat");
    if (why[0])
        return SP_OK;
    if ((rc = sm_db_begin(db, SM_TX_WRITE, err)))
        return rc;
    if ((rc = sm_stores_mark_persisted_in(db, miner, number, store,
                                          (uint64_t)sealed_size + (uint64_t)cache_size, err)) ||
        (rc = sm_sectors_event_in(db, miner, number, "worker", s.worker, s.location, NULL, NULL,
                                  "SubmitPersisted", NULL, store, err))) {
        sm_db_rollback(db);
        return rc;
    }
    if ((rc = sm_db_commit(db, err)))
        return rc;
    *ok = true;
    return SP_OK;
}

/* ---- prove-commit ---------------------------------------------------------------------------- */

static const char SQL_PROOF_PUT[] =
    "INSERT INTO proofs (miner, number, proof) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (miner, number) DO UPDATE SET proof = ?3";
static const char SQL_PROOF_STATE[] =
    "UPDATE sectors SET proof_hash = ?3, proof_state = 1, proof_submit_epoch = ?4, "
    "proof_epoch = NULL, proof_desc = NULL, updated_ms = ?5 WHERE miner = ?1 AND number = ?2";
static const char SQL_PROOF_GET[] = "SELECT proof FROM proofs WHERE miner = ?1 AND number = ?2";

/* First pass, under the write lock: settle, refuse what can be refused without
 * verifying.  Returns true when the proof must be verified and stored. */
static bool proof_precheck(const sm_chain *c, int64_t head, sm_sector *s, const uint8_t hash[32],
                           bool reset, sm_answer *out)
{
    if (s->aborted) {
        answer(out, SM_SUBMIT_REJECTED, "the sector was aborted: %s", s->abort_reason);
        return false;
    }
    if (s->finalized) {
        answer(out, SM_SUBMIT_REJECTED, "the sector is already finalized");
        return false;
    }
    if (s->pc_state != SM_ONCHAIN_LANDED) {
        answer(out, SM_SUBMIT_REJECTED, "the sector has no precommit on chain (%s)",
               s->pc_state == SM_ONCHAIN_NONE ? "none was submitted"
               : s->pc_state == SM_ONCHAIN_PENDING ? "it has not landed yet" : s->pc_desc);
        return false;
    }
    if (s->proof_state != SM_ONCHAIN_NONE) {
        if (memcmp(s->proof_hash, hash, 32) == 0) {
            answer(out, SM_SUBMIT_DUPLICATE, NULL);
            return false;
        }
        if (!reset) {
            answer(out, SM_SUBMIT_MISMATCHED, "a different proof was submitted at epoch %" PRId64
                   "; send reset=true to replace it", s->proof_submit_epoch);
            return false;
        }
        if (s->proof_state == SM_ONCHAIN_LANDED) {
            answer(out, SM_SUBMIT_REJECTED, "the prove-commit landed at epoch %" PRId64
                   " and cannot be replaced", s->proof_epoch);
            return false;
        }
    }
    int64_t seed_epoch = s->pc_epoch + c->p.challenge_delay;
    if (head <= seed_epoch) {
        answer(out, SM_SUBMIT_REJECTED, "too early: a prove-commit is accepted after the seed "
               "epoch %" PRId64 " (head %" PRId64 ")", seed_epoch, head);
        return false;
    }
    int64_t deadline = s->pc_epoch + c->p.max_prove_duration;
    if (head > deadline) {
        answer(out, SM_SUBMIT_REJECTED, "too late: the precommit of epoch %" PRId64 " expired at "
               "epoch %" PRId64 " (head %" PRId64 ")", s->pc_epoch, deadline, head);
        return false;
    }
    return true;
}

sp_code sm_commits_submit_proof(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                                uint64_t number, const uint8_t *proof, size_t len, bool reset,
                                sm_verify_fn verify, void *verify_ctx, sm_answer *out,
                                sp_err *err)
{
    uint8_t hash[32];
    pf_sha256(proof, len, hash);
    answer(out, SM_SUBMIT_ACCEPTED, NULL);
    sm_sector s;
    int settled = 0;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &s, err)) ||
        (rc = settle_sector_in(db, c, &s, head, &settled, err))) {
        sm_db_rollback(db);
        return rc;
    }
    bool go = proof_precheck(c, head, &s, hash, reset, out);
    if ((rc = settled ? sm_db_commit(db, err) : (sm_db_rollback(db), SP_OK)))
        return rc;
    if (!go)
        return SP_OK;

    /* Verification runs outside the write lock: it is the slow part. */
    sm_seal_verify v = {
        .proof_type = s.proof_type, .miner = miner, .number = number,
        .proof = proof, .proof_len = len,
    };
    memcpy(v.comm_r, s.pc_comm_r, 32);
    memcpy(v.comm_d, s.pc_comm_d, 32);
    memcpy(v.ticket, s.pc_ticket, 32);
    sm_chain_randomness(c, SM_DST_INTERACTIVE_SEAL_CHALLENGE_SEED, s.pc_epoch + c->p.challenge_delay,
                        miner, v.seed);
    bool ok = false;
    char why[SM_DESC_MAX] = "";
    if ((rc = verify(verify_ctx, &v, &ok, why, sizeof why, err)))
        return rc;
    if (!ok) {
        answer(out, SM_SUBMIT_REJECTED, "invalid proof: %s", why[0] ? why : "verification failed");
        if ((rc = sm_db_begin(db, SM_TX_WRITE, err)))
            return rc;
        rc = sm_sectors_event_in(db, miner, number, "worker", s.worker, s.location, NULL, NULL,
                                 "SubmitProof", "rejected", out->desc, err);
        if (rc) {
            sm_db_rollback(db);
            return rc;
        }
        return sm_db_commit(db, err);
    }

    /* Second pass: store it, unless the sector changed meanwhile. */
    sm_sector now;
    sm_stmt *st;
    if ((rc = sm_db_begin(db, SM_TX_WRITE, err)))
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &now, err)))
        goto fail;
    if (now.aborted || now.pc_state != SM_ONCHAIN_LANDED || now.pc_epoch != s.pc_epoch ||
        memcmp(now.pc_comm_r, s.pc_comm_r, 32) != 0 || now.proof_state != s.proof_state ||
        (now.proof_state != SM_ONCHAIN_NONE && memcmp(now.proof_hash, s.proof_hash, 32) != 0)) {
        if (now.proof_state != SM_ONCHAIN_NONE && memcmp(now.proof_hash, hash, 32) == 0)
            answer(out, SM_SUBMIT_DUPLICATE, NULL);
        else
            answer(out, SM_SUBMIT_REJECTED, "the sector changed while its proof was verified; "
                   "submit again");
        sm_db_rollback(db);
        return SP_OK;
    }
    if ((rc = sm_db_stmt(db, SQL_PROOF_PUT, &st, err)))
        goto fail;
    sm_bind_i64(st, 1, (int64_t)miner);
    sm_bind_i64(st, 2, (int64_t)number);
    sm_bind_blob(st, 3, proof, len);
    if ((rc = sm_step_done(st, err)) || (rc = sm_db_stmt(db, SQL_PROOF_STATE, &st, err)))
        goto fail;
    sm_bind_i64(st, 1, (int64_t)miner);
    sm_bind_i64(st, 2, (int64_t)number);
    sm_bind_blob(st, 3, hash, 32);
    sm_bind_i64(st, 4, head);
    sm_bind_i64(st, 5, (int64_t)sp_wall_ms());
    char desc[64];
    snprintf(desc, sizeof desc, "epoch %" PRId64 ", %zu bytes, verified", head, len);
    if ((rc = sm_step_done(st, err)) ||
        (rc = sm_sectors_event_in(db, miner, number, "worker", now.worker, now.location, NULL,
                                  NULL, "SubmitProof", NULL, desc, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_commits_poll_proof(sm_db *db, const sm_chain *c, int64_t head, uint64_t miner,
                              uint64_t number, sm_answer *out, sp_err *err)
{
    sm_sector s;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(db, miner, number, &s, err)))
        goto fail;
    if (s.aborted) {
        answer(out, SM_ONCHAIN_SHOULD_ABORT, "the sector was aborted: %s", s.abort_reason);
        sm_db_rollback(db);
        return SP_OK;
    }
    if (s.proof_state == SM_ONCHAIN_NONE) {
        answer(out, SM_ONCHAIN_NOT_FOUND, "no proof was submitted for this sector");
        sm_db_rollback(db);
        return SP_OK;
    }
    int settled = 0;
    if ((rc = settle_sector_in(db, c, &s, head, &settled, err)))
        goto fail;
    answer(out, s.proof_state, s.proof_desc[0] ? "%s" : NULL, s.proof_desc);
    if (settled)
        return sm_db_commit(db, err);
    sm_db_rollback(db);
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_commits_proof(sm_db *db, uint64_t miner, uint64_t number, uint8_t **proof, size_t *len,
                         sp_err *err)
{
    *proof = NULL;
    *len = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_PROOF_GET, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int r = sm_step(s, err);
    if (r == 1) {
        size_t n = 0;
        const void *p = sm_col_blob(s, 0, &n);
        *proof = malloc(n ? n : 1);
        if (*proof) {
            memcpy(*proof, p, n);
            *len = n;
        } else {
            rc = sp_fail(err, SP_ENOMEM, "out of memory for the proof");
        }
    } else if (r == 0) {
        rc = sp_fail(err, SP_ENOTFOUND, "sector s-t0%" PRIu64 "-%" PRIu64 " has no proof", miner, number);
    } else {
        rc = err && err->code ? err->code : SP_EIO;
    }
    sm_stmt_reset(s);
    return rc;
}
