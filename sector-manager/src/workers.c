/* workers.c — worker pings and the workers listing (contract in sm_workers.h). */
#include "sm_workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_fs.h"

static const char SQL_PING[] =
    "INSERT INTO workers (name, dest, version, threads, empty, paused, running, waiting, errors, "
    "first_ms, last_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) "
    "ON CONFLICT (name) DO UPDATE SET dest = ?2, version = ?3, threads = ?4, empty = ?5, "
    "paused = ?6, running = ?7, waiting = ?8, errors = ?9, last_ms = ?10";

sp_code sm_workers_ping(sm_db *db, const sm_worker_info *w, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_PING, &s, err)))
        goto fail;
    sm_bind_text(s, 1, w->name);
    sm_bind_text(s, 2, w->dest);
    sm_bind_text(s, 3, w->version);
    sm_bind_i64(s, 4, (int64_t)w->threads);
    sm_bind_i64(s, 5, (int64_t)w->empty);
    sm_bind_i64(s, 6, (int64_t)w->paused);
    sm_bind_i64(s, 7, (int64_t)w->running);
    sm_bind_i64(s, 8, (int64_t)w->waiting);
    sm_bind_i64(s, 9, (int64_t)w->errors);
    sm_bind_i64(s, 10, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_LIST[] =
    "SELECT w.name, w.dest, w.version, w.threads, w.empty, w.paused, w.running, w.waiting, "
    "w.errors, w.first_ms, w.last_ms, "
    "(SELECT count(*) FROM sectors s WHERE s.worker = w.name AND s.finalized = 0) "
    "FROM workers w ORDER BY w.name";

static void col_str(sm_stmt *s, int i, char *buf, size_t len)
{
    const char *t = sm_col_text(s, i);
    snprintf(buf, len, "%s", t ? t : "");
}

sp_code sm_workers_list(sm_db *db, sm_worker_info **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_LIST, &s, err);
    if (rc)
        return rc;
    size_t cap = 0;
    sm_worker_info *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sm_worker_info *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "workers: out of memory");
            }
            v = nv;
        }
        sm_worker_info *w = &v[(*n)++];
        memset(w, 0, sizeof *w);
        col_str(s, 0, w->name, sizeof w->name);
        col_str(s, 1, w->dest, sizeof w->dest);
        col_str(s, 2, w->version, sizeof w->version);
        w->threads = (uint64_t)sm_col_i64(s, 3);
        w->empty = (uint64_t)sm_col_i64(s, 4);
        w->paused = (uint64_t)sm_col_i64(s, 5);
        w->running = (uint64_t)sm_col_i64(s, 6);
        w->waiting = (uint64_t)sm_col_i64(s, 7);
        w->errors = (uint64_t)sm_col_i64(s, 8);
        w->first_ms = (uint64_t)sm_col_i64(s, 9);
        w->last_ms = (uint64_t)sm_col_i64(s, 10);
        w->sectors = (uint64_t)sm_col_i64(s, 11);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        free(v);
        *n = 0;
        return err && err->code ? err->code : SP_EIO;
    }
    *out = v;
    return SP_OK;
}
