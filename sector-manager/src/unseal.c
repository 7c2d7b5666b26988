/* unseal.c — the manager side of unseal tasks: queued by retrieval misses, handed to
 * workers, destination chosen by placement, delivered data verified by CommP before it
 * becomes a replica (contract in sm_unseal.h; wire format in docs/rpc.md). */
#include "sm_unseal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_jobs.h"
#include "sm_objects.h"
#include "sm_pieces.h"
#include "sm_placement.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define TASK_COLS "id, piece_cid, miner, number, offset, size, state, worker, dest, attempts, error, " \
                  "created_ms, updated_ms"

static void row_to_task(sm_stmt *s, sm_unseal_task *t)
{
    memset(t, 0, sizeof *t);
    const char *x;
    t->id = sm_col_i64(s, 0);
    snprintf(t->piece, sizeof t->piece, "%s", (x = sm_col_text(s, 1)) ? x : "");
    t->miner = (uint64_t)sm_col_i64(s, 2);
    t->number = (uint64_t)sm_col_i64(s, 3);
    t->offset = (uint64_t)sm_col_i64(s, 4);
    t->size = (uint64_t)sm_col_i64(s, 5);
    snprintf(t->state, sizeof t->state, "%s", (x = sm_col_text(s, 6)) ? x : "");
    snprintf(t->worker, sizeof t->worker, "%s", (x = sm_col_text(s, 7)) ? x : "");
    snprintf(t->dest, sizeof t->dest, "%s", (x = sm_col_text(s, 8)) ? x : "");
    t->attempts = (uint64_t)sm_col_i64(s, 9);
    snprintf(t->error, sizeof t->error, "%s", (x = sm_col_text(s, 10)) ? x : "");
    t->created_ms = (uint64_t)sm_col_i64(s, 11);
    t->updated_ms = (uint64_t)sm_col_i64(s, 12);
}

static sp_code step_err(sp_err *err)
{
    return err && err->code ? err->code : SP_EIO;
}

/* ---- queueing ---------------------------------------------------------------------------------- */

static const char SQL_SECTOR_OF[] =
    "SELECT d.miner, d.sector, d.offset, p.padded_size FROM deals d "
    "JOIN pieces p ON p.cid = d.piece_cid "
    "JOIN sectors s ON s.miner = d.miner AND s.number = d.sector "
    "WHERE d.piece_cid = ?1 AND d.sector IS NOT NULL AND s.aborted = 0 AND s.store IS NOT NULL "
    "AND s.pc_state <> 0 ORDER BY (s.state = 'Proving') DESC, d.id LIMIT 1";
static const char SQL_QUEUE[] =
    "INSERT OR IGNORE INTO unseal_tasks (piece_cid, miner, number, offset, size, state, created_ms, "
    "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?6)";
static const char SQL_OPEN_OF[] =
    "SELECT " TASK_COLS " FROM unseal_tasks WHERE piece_cid = ?1 AND state IN ('queued', 'assigned', "
    "'uploaded')";

sp_code sm_unseal_request(sm_db *db, const char *piece, bool *open, char *why, size_t why_len,
                          sp_err *err)
{
    *open = false;
    why[0] = 0;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_OPEN_OF, &s, err)))
        goto fail;
    sm_bind_text(s, 1, piece);
    int r = sm_step(s, err);
    sm_stmt_reset(s);
    if (r < 0) {
        rc = step_err(err);
        goto fail;
    }
    if (r == 1) {
        *open = true;
        sm_db_rollback(db);
        return SP_OK;
    }
    if ((rc = sm_db_stmt(db, SQL_SECTOR_OF, &s, err)))
        goto fail;
    sm_bind_text(s, 1, piece);
    r = sm_step(s, err);
    if (r != 1) {
        sm_stmt_reset(s);
        if (r < 0) {
            rc = step_err(err);
            goto fail;
        }
        snprintf(why, why_len, "no copy of piece %s is left and no sealed sector holds it", piece);
        sm_db_rollback(db);
        return SP_OK;
    }
    uint64_t miner = (uint64_t)sm_col_i64(s, 0), number = (uint64_t)sm_col_i64(s, 1);
    uint64_t offset = (uint64_t)sm_col_i64(s, 2), padded = (uint64_t)sm_col_i64(s, 3);
    sm_stmt_reset(s);
    if ((rc = sm_db_stmt(db, SQL_QUEUE, &s, err)))
        goto fail;
    sm_bind_text(s, 1, piece);
    sm_bind_i64(s, 2, (int64_t)miner);
    sm_bind_i64(s, 3, (int64_t)number);
    sm_bind_i64(s, 4, (int64_t)(offset / 128 * 127));
    sm_bind_i64(s, 5, (int64_t)(padded / 128 * 127));
    sm_bind_i64(s, 6, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    bool fresh = sm_db_changes(db) > 0;
    if ((rc = sm_db_commit(db, err)))
        return rc;
    if (fresh)
        SP_INFO("unseal task queued: piece %s from sector s-t0%" PRIu64 "-%" PRIu64 " (no copy of its "
                "bytes is left)", piece, miner, number);
    *open = true;
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- workers ----------------------------------------------------------------------------------- */

static const char SQL_QUEUED[] =
    "SELECT " TASK_COLS " FROM unseal_tasks WHERE state = 'queued' ORDER BY id LIMIT 256";
static const char SQL_ASSIGN[] =
    "UPDATE unseal_tasks SET state = 'assigned', worker = ?2, attempts = attempts + 1, updated_ms = ?3 "
    "WHERE id = ?1 AND state = 'queued'";

sp_code sm_unseal_allocate(sm_db *db, const uint64_t *miners, size_t n_miners, const char *worker,
                           sm_unseal_task *out, bool *found, sp_err *err)
{
    *found = false;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_QUEUED, &s, err)))
        goto fail;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        sm_unseal_task t;
        row_to_task(s, &t);
        bool ok = n_miners == 0;
        for (size_t i = 0; i < n_miners && !ok; i++)
            ok = miners[i] == t.miner;
        if (ok) {
            *out = t;
            *found = true;
            break;
        }
    }
    sm_stmt_reset(s);
    if (r < 0) {
        rc = step_err(err);
        goto fail;
    }
    if (!*found) {
        sm_db_rollback(db);
        return SP_OK;
    }
    if ((rc = sm_db_stmt(db, SQL_ASSIGN, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, out->id);
    sm_bind_text(s, 2, worker ? worker : "");
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    snprintf(out->state, sizeof out->state, "assigned");
    out->attempts++;
    if ((rc = sm_db_commit(db, err)))
        return rc;
    SP_INFO("unseal task %" PRId64 " (piece %s, sector s-t0%" PRIu64 "-%" PRIu64 ") handed to %s",
            out->id, out->piece, out->miner, out->number, worker && *worker ? worker : "a worker");
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_TASK_OF[] =
    "SELECT " TASK_COLS " FROM unseal_tasks WHERE miner = ?1 AND number = ?2 AND piece_cid = ?3 "
    "AND state IN ('queued', 'assigned', 'uploaded') ORDER BY id DESC LIMIT 1";

sp_code sm_unseal_get(sm_db *db, uint64_t miner, uint64_t number, const char *piece,
                      sm_unseal_task *out, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_TASK_OF, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_text(s, 3, piece);
    int r = sm_step(s, err);
    if (r == 1)
        row_to_task(s, out);
    sm_stmt_reset(s);
    if (r < 0)
        return step_err(err);
    if (r == 0)
        return sp_fail(err, SP_ENOTFOUND, "no open unseal task for piece %.80s in sector s-t0%" PRIu64
                       "-%" PRIu64, piece, miner, number);
    return SP_OK;
}

static const char SQL_SET_DEST[] =
    "UPDATE unseal_tasks SET dest = ?2, updated_ms = ?3 WHERE id = ?1";

sp_code sm_unseal_dest(sm_db *db, const sm_conf *conf, uint64_t miner, uint64_t number,
                       const char *piece, const char *const *cands, size_t n_cands, char *store,
                       size_t store_len, sp_err *err)
{
    sm_unseal_task t;
    sp_code rc = sm_unseal_get(db, miner, number, piece, &t, err);
    if (rc)
        return rc;
    if (strcmp(t.state, "assigned") != 0)
        return sp_fail(err, SP_ESTATE, "unseal task %" PRId64 " is %s, not assigned: allocate it "
                       "first", t.id, t.state);
    if (t.dest[0]) { /* a retried call gets the same store */
        snprintf(store, store_len, "%s", t.dest);
        return SP_OK;
    }
    sm_object o;
    if ((rc = sm_objects_get(db, SM_KIND_UNSEALED, piece, &o, err)))
        return rc;
    sm_replica *reps = NULL;
    size_t nr = 0;
    sm_store_info *all = NULL;
    size_t n = 0;
    if ((rc = sm_objects_replicas(db, o.id, &reps, &nr, err)) || (rc = sm_stores_list(db, &all, &n, err))) {
        free(reps);
        return rc;
    }
    /* healthy replicas' domains are taken; a store holding a failed copy may take the new one */
    const char *avoid[64];
    char doms[64][160];
    size_t na = 0;
    for (size_t i = 0; i < nr && na < 64; i++) {
        if (strcmp(reps[i].state, "ok") != 0)
            continue;
        for (size_t j = 0; j < n; j++)
            if (strcmp(all[j].def.name, reps[i].store) == 0) {
                char tmp[160];
                snprintf(doms[na], sizeof doms[na], "%s", sm_store_domain(&all[j].def, tmp, sizeof tmp));
                avoid[na] = doms[na];
                na++;
            }
    }
    sm_tier tiers[SM_TIER_COUNT];
    sm_place_req req = { .types = SM_FT_UNSEALED, .has_miner = true, .miner = miner, .size = o.size,
                         .tiers = tiers,
                         .n_tiers = sm_place_tiers_for(&conf->storage, SM_KIND_UNSEALED, tiers),
                         .avoid_domains = avoid, .n_avoid_domains = na, .cands = cands,
                         .n_cands = n_cands, .need_reachable = true, .now_ms = sp_wall_ms() };
    char why[256];
    ssize_t best = sm_place_pick(all, n, &req, NULL, why, sizeof why);
    if (best >= 0)
        snprintf(store, store_len, "%s", all[best].def.name);
    free(all);
    free(reps);
    if (best < 0)
        return sp_fail(err, SP_ENOSPC, "no store can take the unsealed data of piece %s: %s", piece, why);
    if ((rc = sm_db_begin(db, SM_TX_WRITE, err)))
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_SET_DEST, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, t.id);
    sm_bind_text(s, 2, store);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_FINISH[] =
    "UPDATE unseal_tasks SET state = ?2, error = ?3, updated_ms = ?4, "
    "worker = CASE WHEN ?2 = 'queued' THEN '' ELSE worker END, "
    "dest = CASE WHEN ?2 = 'queued' THEN '' ELSE dest END WHERE id = ?1";

static sp_code finish(sm_db *db, int64_t id, const char *state, const char *error, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_FINISH, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, id);
    sm_bind_text(s, 2, state);
    sm_bind_text(s, 3, error);
    sm_bind_i64(s, 4, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* A failed attempt: queued again, or failed for good after SM_UNSEAL_ATTEMPTS. */
static sp_code attempt_failed(sm_db *db, const sm_unseal_task *t, const char *why, sp_err *err)
{
    bool last = t->attempts >= SM_UNSEAL_ATTEMPTS;
    SP_WARN("unseal task %" PRId64 " (piece %s) attempt %" PRIu64 " failed: %s%s", t->id, t->piece,
            t->attempts, why, last ? "; giving up" : "; queued again");
    return finish(db, t->id, last ? "failed" : "queued", why, err);
}

sp_code sm_unseal_achieve(sm_db *db, uint64_t miner, uint64_t number, const char *piece,
                          const char *error_info, sp_err *err)
{
    sm_unseal_task t;
    sp_code rc = sm_unseal_get(db, miner, number, piece, &t, err);
    if (rc)
        return rc;
    if (strcmp(t.state, "uploaded") == 0 && !*error_info)
        return SP_OK; /* a retry */
    if (strcmp(t.state, "assigned") != 0)
        return sp_fail(err, SP_ESTATE, "unseal task %" PRId64 " is %s, not assigned", t.id, t.state);
    if (*error_info)
        return attempt_failed(db, &t, error_info, err);
    if (!t.dest[0])
        return sp_fail(err, SP_ESTATE, "unseal task %" PRId64 ": no destination was acquired "
                       "(call Venus.AcquireUnsealDest first)", t.id);
    return finish(db, t.id, "uploaded", NULL, err);
}

static const char SQL_EXPIRE[] =
    "UPDATE unseal_tasks SET state = 'queued', worker = '', dest = '', updated_ms = ?2, "
    "error = 'the worker did not finish in time' WHERE state = 'assigned' AND updated_ms < ?1";
static const char SQL_ANY_UPLOADED[] = "SELECT 1 FROM unseal_tasks WHERE state = 'uploaded' LIMIT 1";

sp_code sm_unseal_expire(sm_db *db, uint64_t timeout_ms, int *requeued, sp_err *err)
{
    *requeued = 0;
    uint64_t now = sp_wall_ms();
    if (now < timeout_ms)
        return SP_OK;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_EXPIRE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)(now - timeout_ms));
    sm_bind_i64(s, 2, (int64_t)now);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    *requeued = (int)sm_db_changes(db);
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_unseal_uploaded(sm_db *db, bool *any, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_ANY_UPLOADED, &s, err);
    if (rc)
        return rc;
    int r = sm_step(s, err);
    sm_stmt_reset(s);
    *any = r == 1;
    return r < 0 ? step_err(err) : SP_OK;
}

static const char SQL_LIST_ALL[] = "SELECT " TASK_COLS " FROM unseal_tasks ORDER BY id DESC LIMIT ?1";
static const char SQL_LIST_PIECE[] =
    "SELECT " TASK_COLS " FROM unseal_tasks WHERE piece_cid = ?2 ORDER BY id DESC LIMIT ?1";

sp_code sm_unseal_list(sm_db *db, const char *piece, size_t limit, sm_unseal_task **out, size_t *n,
                       sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, piece ? SQL_LIST_PIECE : SQL_LIST_ALL, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)limit);
    if (piece)
        sm_bind_text(s, 2, piece);
    sm_unseal_task *v = calloc(limit ? limit : 1, sizeof *v);
    if (!v) {
        sm_stmt_reset(s);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    int r = 0;
    while (*n < limit && (r = sm_step(s, err)) == 1)
        row_to_task(s, &v[(*n)++]);
    sm_stmt_reset(s);
    if (r < 0) {
        free(v);
        *n = 0;
        return step_err(err);
    }
    *out = v;
    return SP_OK;
}

/* ---- verification (the storage service) -------------------------------------------------------- */

static const char SQL_UPLOADED[] =
    "SELECT " TASK_COLS " FROM unseal_tasks WHERE state = 'uploaded' ORDER BY id LIMIT 16";
static const char SQL_DONE[] =
    "UPDATE unseal_tasks SET state = 'done', error = NULL, updated_ms = ?2 WHERE id = ?1";

/* True when fd holds only zero bytes in [from, to). */
static bool zeros_after(int fd, uint64_t from, uint64_t to)
{
    uint8_t buf[65536];
    while (from < to) {
        size_t want = to - from < sizeof buf ? (size_t)(to - from) : sizeof buf;
        ssize_t r = pread(fd, buf, want, (off_t)from);
        if (r <= 0)
            return false;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i])
                return false;
        from += (uint64_t)r;
    }
    return true;
}

/* Checks the delivered file: returns "" when good (then truncated to the payload), else why. */
static void check_delivery(const char *path, const sm_piece *p, char *why, size_t len)
{
    why[0] = 0;
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, len, "%.200s: %s", path, strerror(errno));
        return;
    }
    struct stat st;
    pf_error pe = { 0 };
    uint8_t comm[32];
    uint64_t read = 0, padded = 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, len, "%.200s is not a regular file", path);
    } else if ((uint64_t)st.st_size < p->payload_size) {
        snprintf(why, len, "%.200s has %lld bytes; the piece has %" PRIu64, path,
                 (long long)st.st_size, p->payload_size);
    } else if ((uint64_t)st.st_size > p->padded_size / 128 * 127) {
        snprintf(why, len, "%.200s has %lld bytes, more than the unpadded piece size", path,
                 (long long)st.st_size);
    } else if (!zeros_after(fd, p->payload_size, (uint64_t)st.st_size)) {
        snprintf(why, len, "%.200s is not zero past the piece's %" PRIu64 " bytes", path, p->payload_size);
    } else if (lseek(fd, 0, SEEK_SET) != 0 ||
               pf_commp_fd(fd, p->payload_size, comm, &read, &padded, &pe) != PF_OK) {
        snprintf(why, len, "CommP of %.200s: %.200s", path, pe.msg);
    } else if (memcmp(comm, p->comm_p, 32) != 0 || padded != p->padded_size) {
        snprintf(why, len, "the delivered bytes' CommP is not the piece's: the unseal produced "
                 "other data");
    } else if ((uint64_t)st.st_size != p->payload_size &&
               (ftruncate(fd, (off_t)p->payload_size) != 0 || fsync(fd) != 0)) {
        snprintf(why, len, "truncating %.200s: %s", path, strerror(errno));
    }
    close(fd);
}

sp_code sm_job_unseal(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    (void)req;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(ctx->db, SQL_UPLOADED, &s, err);
    if (rc)
        return rc;
    sm_unseal_task tasks[16];
    size_t n = 0;
    while (n < 16 && sm_step(s, err) == 1)
        row_to_task(s, &tasks[n++]);
    sm_stmt_reset(s);
    for (size_t i = 0; i < n && !(ctx->stop && *ctx->stop); i++) {
        sm_unseal_task *t = &tasks[i];
        sm_piece p;
        sm_store_info dst;
        sm_object o;
        char why[512] = "", path[4400] = "";
        sp_err e;
        if (sm_pieces_get(ctx->db, t->piece, &p, &e) != SP_OK ||
            sm_objects_get(ctx->db, SM_KIND_UNSEALED, t->piece, &o, &e) != SP_OK ||
            sm_stores_get(ctx->db, t->dest, &dst, &e) != SP_OK) {
            snprintf(why, sizeof why, "%s", e.msg);
        } else {
            char mrel[256], crel[8];
            if (sm_object_paths(&o, mrel, sizeof mrel, crel, sizeof crel, &e) != SP_OK)
                snprintf(why, sizeof why, "%s", e.msg);
            else if (snprintf(path, sizeof path, "%s/%s", dst.def.path, mrel) >= (int)sizeof path)
                snprintf(why, sizeof why, "path too long");
            else
                check_delivery(path, &p, why, sizeof why);
        }
        cJSON *item = cJSON_CreateObject();
        sp_json_add_u64(item, "Task", (uint64_t)t->id, NULL);
        sp_json_add_str(item, "PieceCID", t->piece, NULL);
        sp_json_add_str(item, "Store", t->dest, NULL);
        cJSON_AddItemToArray(sm_jobs_list(ctx, "Verified"), item);
        if (why[0]) {
            sp_json_add_str(item, "Error", why, NULL);
            if (path[0] && why[0] && strstr(why, "CommP"))
                unlink(path); /* wrong data must not be served or kept */
            if ((rc = attempt_failed(ctx->db, t, why, err)))
                return rc;
            continue;
        }
        int tier = sm_tier_parse(dst.def.tier);
        if ((rc = sm_db_begin(ctx->db, SM_TX_DURABLE, err)))
            return rc;
        if ((rc = sm_replica_put_in(ctx->db, o.id, t->dest, tier < 0 ? SM_TIER_HOT : (sm_tier)tier,
                                    p.payload_size, err)) ||
            (rc = sm_findings_resolve_in(ctx->db, o.id, err)) || (rc = sm_db_stmt(ctx->db, SQL_DONE, &s, err))) {
            sm_db_rollback(ctx->db);
            return rc;
        }
        sm_bind_i64(s, 1, t->id);
        sm_bind_i64(s, 2, (int64_t)sp_wall_ms());
        if ((rc = sm_step_done(s, err))) {
            sm_db_rollback(ctx->db);
            return rc;
        }
        if ((rc = sm_db_commit(ctx->db, err)))
            return rc;
        SP_INFO("unseal task %" PRId64 ": piece %s is back in store %s (CommP verified)", t->id,
                t->piece, t->dest);
    }
    return SP_OK;
}
