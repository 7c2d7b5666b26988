/* db_sqlite.c — the sqlite driver of sm_db: WAL journal, synchronous=NORMAL (FULL for
 * durable transactions), foreign keys on, a generous busy timeout for other processes
 * (the daemon's own writers are serialised before they get here).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_db_driver.h"

extern const char *const sm_schema_sqlite[];

typedef struct sq_conn {
    sqlite3 *h;
    char path[256];
    sqlite3_stmt *begin_read, *begin_write, *commit, *rollback;
} sq_conn;

static sp_code sq_fail(sqlite3 *h, sp_err *err, const char *what)
{
    int ec = h ? sqlite3_extended_errcode(h) : SQLITE_ERROR;
    int pc = ec & 0xff;
    sp_code code = SP_EIO;
    if (pc == SQLITE_FULL)
        code = SP_ENOSPC;
    else if (pc == SQLITE_NOMEM)
        code = SP_ENOMEM;
    else if (pc == SQLITE_CORRUPT || pc == SQLITE_NOTADB)
        code = SP_ECORRUPT;
    else if (pc == SQLITE_BUSY || pc == SQLITE_LOCKED)
        code = SP_EBUSY;
    else if (pc == SQLITE_CONSTRAINT)
        code = SP_EEXIST;
    else if (pc == SQLITE_ERROR)
        code = SP_EINTERNAL;
    return sp_fail(err, code, "%s: %s (sqlite code %d)", what, h ? sqlite3_errmsg(h) : "error", ec);
}

static sqlite3_stmt *prep(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
        return NULL;
    return s;
}

static void sq_disconnect(void *p)
{
    sq_conn *c = p;
    if (!c)
        return;
    sqlite3_finalize(c->begin_read);
    sqlite3_finalize(c->begin_write);
    sqlite3_finalize(c->commit);
    sqlite3_finalize(c->rollback);
    sqlite3_close_v2(c->h);
    free(c);
}

static sp_code sq_exec(void *p, const char *sql, sp_err *err)
{
    sq_conn *c = p;
    char *msg = NULL;
    int rc = sqlite3_exec(c->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        sp_code code = sq_fail(c->h, err, "sqlite");
        if (msg && err)
            snprintf(err->msg, sizeof err->msg, "%s (sqlite code %d)", msg, rc);
        sqlite3_free(msg);
        return code;
    }
    return SP_OK;
}

static void *sq_connect(const char *target, bool create, bool manual_checkpoint, sp_err *err)
{
    struct stat st;
    if (!create && stat(target, &st) != 0) {
        sp_fail(err, errno == ENOENT ? SP_ENOTFOUND : SP_EIO,
                "database %s: %s; create the home with `sector-manager init` or fix db.path",
                target, strerror(errno));
        return NULL;
    }
    sq_conn *c = calloc(1, sizeof *c);
    if (!c) {
        sp_fail(err, SP_ENOMEM, "database %s: out of memory", target);
        return NULL;
    }
    snprintf(c->path, sizeof c->path, "%s", target);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(target, &c->h, flags, NULL) != SQLITE_OK) {
        sp_fail(err, SP_EIO, "database %s: cannot open: %s; check the path and its permissions",
                target, c->h ? sqlite3_errmsg(c->h) : "out of memory");
        goto fail;
    }
    sqlite3_extended_result_codes(c->h, 1);
    sqlite3_busy_timeout(c->h, 10000);
    sp_code rc = sq_exec(c, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                            "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
                            "PRAGMA journal_size_limit=67108864;", err);
    if (!rc && manual_checkpoint)
        rc = sq_exec(c, "PRAGMA wal_autocheckpoint=0;", err);
    if (rc) {
        if (err)
            sp_err_prefix(err, "database %s", target);
        goto fail;
    }
    c->begin_read = prep(c->h, "BEGIN");
    c->begin_write = prep(c->h, "BEGIN IMMEDIATE");
    c->commit = prep(c->h, "COMMIT");
    c->rollback = prep(c->h, "ROLLBACK");
    if (!c->begin_read || !c->begin_write || !c->commit || !c->rollback) {
        sq_fail(c->h, err, "database: preparing transaction statements");
        goto fail;
    }
    return c;
fail:
    sq_disconnect(c);
    return NULL;
}

static sp_code run_simple(sq_conn *c, sqlite3_stmt *s, sp_err *err, const char *what)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return sq_fail(c->h, err, what);
    return SP_OK;
}

static sp_code sq_begin(void *p, sm_tx mode, sp_err *err)
{
    sq_conn *c = p;
    if (mode == SM_TX_DURABLE) {
        sp_code rc = sq_exec(c, "PRAGMA synchronous=FULL", err);
        if (rc)
            return rc;
    }
    sp_code rc = run_simple(c, mode == SM_TX_READ ? c->begin_read : c->begin_write, err,
                            "database: BEGIN");
    if (rc && mode == SM_TX_DURABLE)
        sq_exec(c, "PRAGMA synchronous=NORMAL", NULL);
    return rc;
}

static sp_code sq_commit(void *p, sm_tx mode, sp_err *err)
{
    sq_conn *c = p;
    sp_code rc = run_simple(c, c->commit, err, "database: COMMIT");
    if (mode == SM_TX_DURABLE)
        sq_exec(c, "PRAGMA synchronous=NORMAL", NULL);
    return rc;
}

static void sq_rollback(void *p, sm_tx mode)
{
    sq_conn *c = p;
    if (!sqlite3_get_autocommit(c->h))
        run_simple(c, c->rollback, NULL, "database: ROLLBACK");
    if (mode == SM_TX_DURABLE)
        sq_exec(c, "PRAGMA synchronous=NORMAL", NULL);
}

static int64_t sq_changes(void *p) { return sqlite3_changes64(((sq_conn *)p)->h); }
static int64_t sq_last_id(void *p) { return sqlite3_last_insert_rowid(((sq_conn *)p)->h); }

static sp_code sq_checkpoint(void *p, bool full, int *log_frames, sp_err *err)
{
    sq_conn *c = p;
    int log = 0, done = 0;
    /* A restart waits for readers while writers are held off: wait briefly, and leave it
     * to the next round when a long reader is in the way. */
    if (full)
        sqlite3_busy_timeout(c->h, 50);
    int rc = sqlite3_wal_checkpoint_v2(c->h, NULL, full ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
                                       &log, &done);
    if (full)
        sqlite3_busy_timeout(c->h, 10000);
    if (log_frames)
        *log_frames = log;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        return sq_fail(c->h, err, "database: checkpoint");
    return SP_OK;
}

static sp_code sq_get_version(void *p, int *version, sp_err *err)
{
    sq_conn *c = p;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->h, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
        return sq_fail(c->h, err, "database: reading the schema version");
    int rc = sqlite3_step(s);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW)
        return sq_fail(c->h, err, "database: reading the schema version");
    return SP_OK;
}

static sp_code sq_set_version(void *p, int version, sp_err *err)
{
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", version);
    return sq_exec(p, sql, err);
}

static void *sq_prepare(void *p, const char *sql, sp_err *err)
{
    sq_conn *c = p;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v3(c->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        sq_fail(c->h, err, "database: preparing a statement");
        return NULL;
    }
    return s;
}

static void sq_finalize(void *s) { sqlite3_finalize(s); }

static void sq_reset(void *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

static int sq_bind_i64(void *s, int i, int64_t v) { return sqlite3_bind_int64(s, i, v); }
static int sq_bind_text(void *s, int i, const char *v) { return sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT); }
static int sq_bind_null(void *s, int i) { return sqlite3_bind_null(s, i); }

static int sq_bind_blob(void *s, int i, const void *v, size_t len)
{
    return sqlite3_bind_blob64(s, i, v, len, SQLITE_TRANSIENT);
}

static int sq_step(void *s, sp_err *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    sq_fail(sqlite3_db_handle(s), err, "sqlite");
    return -1;
}

static int64_t sq_col_i64(void *s, int i) { return sqlite3_column_int64(s, i); }
static const char *sq_col_text(void *s, int i) { return (const char *)sqlite3_column_text(s, i); }
static bool sq_col_null(void *s, int i) { return sqlite3_column_type(s, i) == SQLITE_NULL; }

static const void *sq_col_blob(void *s, int i, size_t *len)
{
    const void *p = sqlite3_column_blob(s, i);
    *len = (size_t)sqlite3_column_bytes(s, i);
    return p;
}

const sm_db_driver sm_db_sqlite_driver = {
    .name = "sqlite",
    .migrations = sm_schema_sqlite,
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .exec = sq_exec,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .changes = sq_changes,
    .last_id = sq_last_id,
    .checkpoint = sq_checkpoint,
    .get_version = sq_get_version,
    .set_version = sq_set_version,
    .prepare = sq_prepare,
    .finalize = sq_finalize,
    .reset = sq_reset,
    .bind_i64 = sq_bind_i64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .bind_null = sq_bind_null,
    .step = sq_step,
    .col_i64 = sq_col_i64,
    .col_text = sq_col_text,
    .col_blob = sq_col_blob,
    .col_null = sq_col_null,
};
