/* meta_db.c — <location>/meta.db: the sealing thread's sector record and transition trace
 * in sqlite, WAL + synchronous=FULL, one writer guarded by an flock (wk_store.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <sqlite3.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "wk_store.h"

struct wk_meta {
    sqlite3 *db;
    int lock_fd;
    char path[1024];
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS sector (k INTEGER PRIMARY KEY CHECK (k = 1), doc TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS trace (id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT "
    "NULL, sector TEXT NOT NULL, prev TEXT NOT NULL, next TEXT NOT NULL, event TEXT NOT NULL, "
    "detail TEXT NOT NULL);";

static sp_code db_fail(wk_meta *m, sp_err *err, const char *what)
{
    int code = sqlite3_errcode(m->db);
    sp_code c = (code == SQLITE_FULL) ? SP_ENOSPC
                : (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) ? SP_ECORRUPT : SP_EIO;
    return sp_fail(err, c, "%s: %s: %s%s", m->path, what, sqlite3_errmsg(m->db),
                   c == SP_ENOSPC ? "; free space on the thread's location" : "");
}

static sp_code exec(wk_meta *m, const char *sql, sp_err *err)
{
    if (sqlite3_exec(m->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(m, err, sql);
    return SP_OK;
}

static sp_code take_lock(const char *location, int *fd_out, sp_err *err)
{
    char path[1024];
    if (sp_path_join(path, sizeof path, location, "meta.lock"))
        return sp_fail(err, SP_EINVAL, "%s: location path too long", location);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return sp_fail_errno(err, errno, "%s: cannot open the thread lock", path);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char holder[32] = "";
        ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
        holder[n > 0 ? n : 0] = 0;
        holder[strcspn(holder, "\n")] = 0;
        close(fd);
        return sp_fail(err, SP_EBUSY,
                       "%s: another process (pid %s) holds this sealing thread's location; "
                       "stop it or give this thread another location", path,
                       holder[0] ? holder : "unknown");
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return sp_fail_errno(err, e, "%s: cannot write the lock holder", path);
    }
    *fd_out = fd;
    return SP_OK;
}

sp_code wk_meta_open(const char *location, wk_meta **out, sp_err *err)
{
    *out = NULL;
    wk_meta *m = calloc(1, sizeof *m);
    if (!m)
        return sp_fail(err, SP_ENOMEM, "meta.db: out of memory");
    m->lock_fd = -1;
    sp_code rc = sp_mkdir_p(location, 0755, err);
    if (rc)
        goto fail;
    if (sp_path_join(m->path, sizeof m->path, location, "meta.db")) {
        rc = sp_fail(err, SP_EINVAL, "%s: location path too long", location);
        goto fail;
    }
    if ((rc = take_lock(location, &m->lock_fd, err)) != SP_OK)
        goto fail;
    if (sqlite3_open_v2(m->path, &m->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = m->db ? db_fail(m, err, "open")
                   : sp_fail(err, SP_ENOMEM, "%s: sqlite3_open: out of memory", m->path);
        goto fail;
    }
    sqlite3_busy_timeout(m->db, 5000);
    if ((rc = exec(m, "PRAGMA journal_mode=WAL", err)) ||
        (rc = exec(m, "PRAGMA synchronous=FULL", err)) || (rc = exec(m, schema, err)))
        goto fail;
    *out = m;
    return SP_OK;
fail:
    wk_meta_close(m);
    return rc;
}

void wk_meta_close(wk_meta *m)
{
    if (!m)
        return;
    if (m->db)
        sqlite3_close(m->db);
    if (m->lock_fd >= 0)
        close(m->lock_fd);
    free(m);
}

sp_code wk_meta_load(wk_meta *m, wk_plan_kind plan, wk_sector *s, bool *found, sp_err *err)
{
    sqlite3_stmt *st = NULL;
    cJSON *doc = NULL;
    sp_code rc = SP_OK;
    *found = false;
    wk_sector_init(s, plan);
    if (sqlite3_prepare_v2(m->db, "SELECT doc FROM sector WHERE k = 1", -1, &st, NULL))
        return db_fail(m, err, "load");
    int r = sqlite3_step(st);
    if (r == SQLITE_DONE)
        goto done;
    if (r != SQLITE_ROW) {
        rc = db_fail(m, err, "load");
        goto done;
    }
    const char *text = (const char *)sqlite3_column_text(st, 0);
    int len = sqlite3_column_bytes(st, 0);
    sp_err e;
    if (!text || sp_json_parse(text, (size_t)len, 16, &doc, &e) != SP_OK) {
        rc = sp_fail(err, SP_ECORRUPT, "%s: the sector record is not JSON (%s); move the "
                     "file away to start the thread empty", m->path, text ? e.msg : "NULL");
        goto done;
    }
    if ((rc = wk_sector_from_json(doc, s, err)) != SP_OK) {
        sp_err_prefix(err, "%s", m->path);
        goto done;
    }
    *found = true;
done:
    cJSON_Delete(doc);
    sqlite3_finalize(st);
    return rc;
}

static sp_code add_trace(wk_meta *m, const char *sector, const char *prev, const char *next,
                         const char *event, const char *detail, sp_err *err)
{
    sqlite3_stmt *st = NULL;
    sp_code rc = SP_OK;
    if (sqlite3_prepare_v2(m->db, "INSERT INTO trace (at_ms, sector, prev, next, event, detail) "
                           "VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL))
        return db_fail(m, err, "trace");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)sp_wall_ms());
    sqlite3_bind_text(st, 2, sector, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, prev, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, next, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, event ? event : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, detail ? detail : "", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = db_fail(m, err, "trace");
    sqlite3_finalize(st);
    if (rc == SP_OK) {
        char sql[128];
        snprintf(sql, sizeof sql, "DELETE FROM trace WHERE id <= (SELECT MAX(id) FROM trace) - %d",
                 WK_META_TRACE_KEEP);
        rc = exec(m, sql, err);
    }
    return rc;
}

sp_code wk_meta_save(wk_meta *m, const wk_sector *s, const char *event, const char *detail,
                     sp_err *err)
{
    cJSON *doc = wk_sector_to_json(s);
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory encoding the sector record", m->path);
    sqlite3_stmt *st = NULL;
    sp_code rc = exec(m, "BEGIN IMMEDIATE", err);
    if (rc)
        goto done;
    if (sqlite3_prepare_v2(m->db, "INSERT OR REPLACE INTO sector (k, doc) VALUES (1, ?)", -1,
                           &st, NULL)) {
        rc = db_fail(m, err, "save");
        goto rollback;
    }
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        rc = db_fail(m, err, "save");
        goto rollback;
    }
    if (event) {
        char name[64] = "";
        if (wk_sector_allocated(s))
            wk_sector_file_name(s, name, sizeof name);
        if ((rc = add_trace(m, name, wk_state_name(s->prev), wk_state_name(s->state), event,
                            detail, err)))
            goto rollback;
    }
    rc = exec(m, "COMMIT", err);
    if (rc)
        goto rollback;
    goto done;
rollback:
    sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
done:
    sqlite3_finalize(st);
    free(text);
    return rc;
}

sp_code wk_meta_clear(wk_meta *m, const char *why, sp_err *err)
{
    wk_sector s;
    bool found;
    char name[64] = "", state[32] = "Empty";
    if (wk_meta_load(m, WK_PLAN_SEALER, &s, &found, NULL) == SP_OK && found) {
        if (wk_sector_allocated(&s))
            wk_sector_file_name(&s, name, sizeof name);
        snprintf(state, sizeof state, "%s", wk_state_name(s.state));
    }
    sp_code rc = exec(m, "BEGIN IMMEDIATE", err);
    if (rc)
        return rc;
    if ((rc = exec(m, "DELETE FROM sector", err)) ||
        (rc = add_trace(m, name, state, "Empty", "Clear", why, err)) ||
        (rc = exec(m, "COMMIT", err))) {
        sqlite3_exec(m->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return SP_OK;
}

sp_code wk_meta_trace(wk_meta *m, size_t max, wk_trace **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(m->db, "SELECT at_ms, sector, prev, next, event, detail FROM "
                           "(SELECT * FROM trace ORDER BY id DESC LIMIT ?) ORDER BY id", -1,
                           &st, NULL))
        return db_fail(m, err, "trace");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
    wk_trace *v = calloc(max ? max : 1, sizeof *v);
    if (!v) {
        sqlite3_finalize(st);
        return sp_fail(err, SP_ENOMEM, "%s: out of memory reading the trace", m->path);
    }
    size_t k = 0;
    int r;
    while (k < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
        wk_trace *t = &v[k++];
        t->at_ms = (uint64_t)sqlite3_column_int64(st, 0);
        snprintf(t->sector, sizeof t->sector, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(t->prev, sizeof t->prev, "%s", (const char *)sqlite3_column_text(st, 2));
        snprintf(t->next, sizeof t->next, "%s", (const char *)sqlite3_column_text(st, 3));
        snprintf(t->event, sizeof t->event, "%s", (const char *)sqlite3_column_text(st, 4));
        snprintf(t->detail, sizeof t->detail, "%s", (const char *)sqlite3_column_text(st, 5));
    }
    sqlite3_finalize(st);
    *out = v;
    *n = k;
    return SP_OK;
}
