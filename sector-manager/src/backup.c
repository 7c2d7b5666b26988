/* backup.c — consistent online backups of the sqlite database and restores
 * (contract in sm_backup.h).  sqlite-specific by nature: it uses the engine's backup API. */
#include "sm_backup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sm_db.h"
#include "sp_fs.h"
#include "sp_log.h"

static sp_code sq_fail(sp_err *err, sqlite3 *db, const char *what, const char *path)
{
    return sp_fail(err, SP_EIO, "%s %s: %s", what, path, db ? sqlite3_errmsg(db) : "out of memory");
}

static int64_t count(sqlite3 *db, const char *table)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *s = NULL;
    int64_t n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

sp_code sm_backup_check(const char *path, sm_backup_info *info, sp_err *err)
{
    memset(info, 0, sizeof *info);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sp_code rc = sq_fail(err, db, "opening", path);
        sqlite3_close(db);
        return rc;
    }
    sqlite3_stmt *s = NULL;
    sp_code rc = SP_OK;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) != SQLITE_OK) {
        rc = sq_fail(err, db, "checking", path);
        goto out;
    }
    int r = sqlite3_step(s);
    const char *res = r == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
    if (!res || strcmp(res, "ok") != 0) {
        rc = sp_fail(err, SP_ECORRUPT, "%s fails PRAGMA integrity_check: %s", path,
                     res ? res : sqlite3_errmsg(db));
        goto out;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        info->schema_version = sqlite3_column_int(s, 0);
    info->sectors = count(db, "sectors");
    info->pieces = count(db, "pieces");
    info->objects = count(db, "objects");
    info->replicas = count(db, "replicas");
    info->blocks = count(db, "blocks");
    if (info->sectors < 0)
        rc = sp_fail(err, SP_ECORRUPT, "%s is not a sector-manager database (no sectors table)", path);
    int64_t size = sp_file_size(path);
    info->bytes = size > 0 ? (uint64_t)size : 0;
out:
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

static void tmp_name(const char *path, char *out, size_t len)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        r = (uint32_t)sp_now_ms();
    snprintf(out, len, "%s.tmp-%d-%08x", path, (int)getpid(), r);
}

static sp_code sync_file(const char *path, sp_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        sp_code rc = sp_fail_errno(err, errno, "fsync %s", path);
        if (fd >= 0)
            close(fd);
        return rc;
    }
    close(fd);
    return SP_OK;
}

static sp_code sync_parent(const char *path, sp_err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = 0;
    else
        *slash = 0;
    return sp_fsync_dir(dir, err);
}

sp_code sm_backup_create(const char *db_path, const char *out_path, sm_backup_info *info, sp_err *err)
{
    char tmp[PATH_MAX + 32];
    tmp_name(out_path, tmp, sizeof tmp);
    sqlite3 *src = NULL, *dst = NULL;
    sp_code rc = SP_OK;
    if (!sp_path_exists(db_path))
        return sp_fail(err, SP_ENOTFOUND, "no database at %s", db_path);
    /* read-write only so the reader can use the WAL's shared memory; nothing is written */
    if (sqlite3_open_v2(db_path, &src, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = sq_fail(err, src, "opening", db_path);
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        rc = sq_fail(err, dst, "creating", tmp);
        goto out;
    }
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = sq_fail(err, dst, "starting the backup into", tmp);
        goto out;
    }
    /* All pages in one step: one read transaction, so one consistent state even while the
     * daemon keeps writing (stepping in parts would restart on every write). */
    int r = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (r != SQLITE_DONE) {
        rc = sp_fail(err, SP_EIO, "backing up %s: %s", db_path, sqlite3_errstr(r));
        goto out;
    }
    if (sqlite3_close(dst) != SQLITE_OK) {
        rc = sq_fail(err, dst, "closing", tmp);
        dst = NULL;
        goto out;
    }
    dst = NULL;
    if ((rc = sm_backup_check(tmp, info, err)) || (rc = sync_file(tmp, err)))
        goto out;
    if (chmod(tmp, 0600) != 0 || rename(tmp, out_path) != 0) {
        rc = sp_fail_errno(err, errno, "storing the backup as %s", out_path);
        goto out;
    }
    tmp[0] = 0;
    rc = sync_parent(out_path, err);
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    if (tmp[0])
        unlink(tmp);
    return rc;
}

/* The sector numbers the database being replaced handed out, per miner: its durable limit
 * (every number given is below it) and one past its highest sector.  A missing or
 * unreadable database gives none (a restore after losing it).  Returns the count. */
typedef struct miner_limit {
    int64_t actor, limit;
} miner_limit;

static size_t old_limits(const char *db_path, miner_limit *out, size_t max)
{
    sqlite3 *db = NULL;
    size_t n = 0;
    if (access(db_path, F_OK) != 0 ||
        sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return 0;
    }
    static const char sql[] =
        "SELECT actor, max(next_number, durable_limit) FROM miners "
        "UNION ALL SELECT miner, max(number) + 1 FROM sectors GROUP BY miner";
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        while (n < max && sqlite3_step(s) == SQLITE_ROW) {
            out[n].actor = sqlite3_column_int64(s, 0);
            out[n].limit = sqlite3_column_int64(s, 1);
            n++;
        }
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

static const char SQL_KEEP_LIMIT[] =
    "INSERT INTO miners (actor, next_number, durable_limit) VALUES (?1, ?2, ?2) "
    "ON CONFLICT (actor) DO UPDATE SET durable_limit = max(durable_limit, ?2)";

/* Raises the restored database's numbering above what the replaced one handed out:
 * workers may hold sectors numbered after the backup (found by fault_manager_restore: a
 * miner added after the backup started again at 0 and a number was handed out twice). */
static sp_code keep_limits(sm_db *db, const miner_limit *v, size_t n, sp_err *err)
{
    sm_stmt *s;
    for (size_t i = 0; i < n; i++) {
        sp_code rc = sm_db_stmt(db, SQL_KEEP_LIMIT, &s, err);
        if (rc)
            return rc;
        sm_bind_i64(s, 1, v[i].actor);
        sm_bind_i64(s, 2, v[i].limit);
        if ((rc = sm_step_done(s, err)))
            return rc;
    }
    return SP_OK;
}

sp_code sm_backup_restore(const char *backup, const char *db_path, sm_backup_info *info, sp_err *err)
{
    sp_code rc = sm_backup_check(backup, info, err);
    if (rc)
        return rc;
    char tmp[PATH_MAX + 32];
    tmp_name(db_path, tmp, sizeof tmp);
    uint64_t copied = 0;
    if ((rc = sp_copy_file(backup, tmp, &copied, err)))
        return rc;
    /* Bring it to this program's schema and make the next start treat it as a crash;
     * keep every miner's numbering above what the replaced database handed out. */
    enum { MAX_LIMITS = 4096 };
    miner_limit *limits = calloc(MAX_LIMITS, sizeof *limits);
    size_t nlimits = limits ? old_limits(db_path, limits, MAX_LIMITS) : 0;
    sm_db *db = NULL;
    sm_db_opts o = { .path = tmp };
    if ((rc = sm_db_open(&o, &db, err)))
        goto fail;
    rc = sm_db_exec(db, "INSERT INTO meta (key, value) VALUES ('clean_shutdown', '0') "
                        "ON CONFLICT (key) DO UPDATE SET value = '0'", err);
    if (!rc && nlimits)
        rc = keep_limits(db, limits, nlimits, err);
    free(limits);
    limits = NULL;
    info->schema_version = sm_db_schema_version(db);
    sm_db_close(db);
    if (rc)
        goto fail;
    char wal[PATH_MAX + 8], shm[PATH_MAX + 8], twal[PATH_MAX + 40], tshm[PATH_MAX + 40];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    snprintf(shm, sizeof shm, "%s-shm", db_path);
    snprintf(twal, sizeof twal, "%s-wal", tmp);
    snprintf(tshm, sizeof tshm, "%s-shm", tmp);
    /* the old database's log must never be applied to the restored one */
    if ((unlink(wal) != 0 && errno != ENOENT) || (unlink(shm) != 0 && errno != ENOENT)) {
        rc = sp_fail_errno(err, errno, "removing %s-wal/-shm", db_path);
        goto fail;
    }
    unlink(twal);
    unlink(tshm);
    if ((rc = sync_file(tmp, err)))
        goto fail;
    if (chmod(tmp, 0600) != 0 || rename(tmp, db_path) != 0) {
        rc = sp_fail_errno(err, errno, "replacing %s", db_path);
        goto fail;
    }
    return sync_parent(db_path, err);
fail:
    free(limits);
    unlink(tmp);
    return rc;
}
