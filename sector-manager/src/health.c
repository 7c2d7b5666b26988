/* health.c — store heartbeats: probe, score, cool-down (contract in sm_health.h). */
#include "sm_health.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define PROBE_FILE ".sealpipe-heartbeat"
#define SCORE_ALPHA 0.2 /* weight of the newest heartbeat in the score */

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The store's sectorstore.json must name it: a directory holding another store's file
 * (a disk swapped) is not this store.  A directory without one that never passed a
 * heartbeat (created after the manager started) gets it now, as attach would write it;
 * one that passed before and lost it is the bare mount point of an unmounted store (or
 * a store emptied), and writing the file there would let sectors be persisted onto the
 * wrong filesystem: it fails instead (found by the fault_store_gone test). */
static bool identity_ok(const sm_store_def *def, bool may_declare, char *why, size_t len)
{
    char path[4200], *text = NULL;
    size_t n = 0;
    if (sp_path_join(path, sizeof path, def->path, "sectorstore.json") != 0)
        return false;
    if (!sp_path_exists(path) && !may_declare) {
        snprintf(why, len, "%.100s is gone although the store had it: not mounted? (emptied on "
                 "purpose: write {\"ID\":\"%.32s\"} there)", path, def->name);
        return false;
    }
    if (!sp_path_exists(path)) {
        sp_err e;
        if (def->readonly || sm_stores_write_meta(def, &e) != SP_OK)
            return true; /* nothing to compare with; the probe write decides */
        SP_INFO("store %s: wrote %s", def->name, path);
        return true;
    }
    if (sp_read_file(path, 1 << 20, &text, &n, NULL) != SP_OK) {
        snprintf(why, len, "%.200s cannot be read", path);
        return false;
    }
    cJSON *o = NULL;
    bool ok = sp_json_parse(text, n, 16, &o, NULL) == SP_OK;
    const cJSON *id = ok ? cJSON_GetObjectItemCaseSensitive(o, "ID") : NULL;
    ok = cJSON_IsString(id) && strcmp(id->valuestring, def->name) == 0;
    if (!ok)
        snprintf(why, len, "%.100s does not name store %.100s", path, def->name);
    cJSON_Delete(o);
    free(text);
    return ok;
}

static void probe(const sm_store_def *def, uint64_t max_latency_ms, bool may_declare,
                  sm_health_sample *out);

void sm_health_probe(const sm_store_def *def, uint64_t max_latency_ms, sm_health_sample *out)
{
    probe(def, max_latency_ms, true, out);
}

static const char SQL_SEEN_OK[] = "SELECT checks - failures FROM store_health WHERE store = ?1";

bool sm_health_seen_ok(sm_db *db, const char *store)
{
    sm_stmt *st;
    if (sm_db_stmt(db, SQL_SEEN_OK, &st, NULL) != SP_OK)
        return false;
    sm_bind_text(st, 1, store);
    bool seen = sm_step(st, NULL) == 1 && sm_col_i64(st, 0) > 0;
    sm_stmt_reset(st);
    return seen;
}

static void probe(const sm_store_def *def, uint64_t max_latency_ms, bool may_declare,
                  sm_health_sample *out)
{
    memset(out, 0, sizeof *out);
    if (!sp_is_dir(def->path)) {
        snprintf(out->error, sizeof out->error, "%.160s is not a directory (store gone or not mounted)",
                 def->path);
        return;
    }
    struct statvfs vfs;
    if (statvfs(def->path, &vfs) != 0) {
        snprintf(out->error, sizeof out->error, "statvfs %.160s: %s", def->path, strerror(errno));
        return;
    }
    out->fs_avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (!identity_ok(def, may_declare, out->error, sizeof out->error))
        return;
    if (def->readonly) {
        out->ok = true;
        return;
    }
    char path[4200];
    if (sp_path_join(path, sizeof path, def->path, PROBE_FILE) != 0) {
        snprintf(out->error, sizeof out->error, "path too long");
        return;
    }
    uint8_t data[4096], back[4096];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 31 + 7);
    uint64_t t0 = now_us();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    bool w_ok = fd >= 0 && write(fd, data, sizeof data) == (ssize_t)sizeof data && fsync(fd) == 0;
    int e = errno;
    if (fd >= 0)
        close(fd);
    uint64_t t1 = now_us();
    if (!w_ok) {
        snprintf(out->error, sizeof out->error, "writing %.160s: %s", path, strerror(e));
        unlink(path);
        return;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    bool r_ok = fd >= 0 && read(fd, back, sizeof back) == (ssize_t)sizeof back &&
                memcmp(back, data, sizeof data) == 0;
    if (fd >= 0)
        close(fd);
    uint64_t t2 = now_us();
    unlink(path);
    out->write_us = t1 - t0;
    out->read_us = t2 - t1;
    if (!r_ok) {
        snprintf(out->error, sizeof out->error, "reading back %.200s gave other bytes", path);
        return;
    }
    if ((out->write_us + out->read_us) / 1000 > max_latency_ms) {
        snprintf(out->error, sizeof out->error, "a 4 KiB write and read took %" PRIu64 " ms (limit %"
                 PRIu64 " ms)", (out->write_us + out->read_us) / 1000, max_latency_ms);
        return;
    }
    out->ok = true;
}

static const char SQL_GET[] =
    "SELECT score, fails, cooldown_until_ms, ok FROM store_health WHERE store = ?1";
static const char SQL_PUT[] =
    "INSERT INTO store_health (store, checked_ms, ok, fs_avail, write_us, read_us, fails, checks, "
    "failures, score, cooldown_until_ms, last_error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11) "
    "ON CONFLICT (store) DO UPDATE SET checked_ms = ?2, ok = ?3, fs_avail = ?4, write_us = ?5, "
    "read_us = ?6, fails = ?7, checks = checks + 1, failures = failures + ?8, score = ?9, "
    "cooldown_until_ms = ?10, last_error = ?11";

sp_code sm_health_record(sm_db *db, const char *store, const sm_health_sample *s,
                         uint64_t cooldown_ms, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *st;
    if ((rc = sm_db_stmt(db, SQL_GET, &st, err)))
        goto fail;
    sm_bind_text(st, 1, store);
    int r = sm_step(st, err);
    double score = 1.0;
    int64_t fails = 0, cool = 0;
    bool was_ok = true;
    if (r == 1) {
        const char *t = sm_col_text(st, 0);
        score = t ? strtod(t, NULL) : 1.0;
        fails = sm_col_i64(st, 1);
        cool = sm_col_i64(st, 2);
        was_ok = sm_col_i64(st, 3) != 0;
    }
    sm_stmt_reset(st);
    if (r < 0) {
        rc = err && err->code ? err->code : SP_EIO;
        goto fail;
    }
    uint64_t now = sp_wall_ms();
    score = score * (1 - SCORE_ALPHA) + (s->ok ? SCORE_ALPHA : 0);
    fails = s->ok ? 0 : fails + 1;
    /* A failure starts (or extends) the cool-down; a success does not end it early. */
    if (!s->ok)
        cool = (int64_t)(now + cooldown_ms);
    if ((rc = sm_db_stmt(db, SQL_PUT, &st, err)))
        goto fail;
    sm_bind_text(st, 1, store);
    sm_bind_i64(st, 2, (int64_t)now);
    sm_bind_i64(st, 3, s->ok);
    sm_bind_i64(st, 4, (int64_t)s->fs_avail);
    sm_bind_i64(st, 5, (int64_t)s->write_us);
    sm_bind_i64(st, 6, (int64_t)s->read_us);
    sm_bind_i64(st, 7, fails);
    sm_bind_i64(st, 8, s->ok ? 0 : 1);
    char sc[32];
    snprintf(sc, sizeof sc, "%.6f", score);
    sm_bind_text(st, 9, sc);
    sm_bind_i64(st, 10, cool);
    sm_bind_text(st, 11, s->ok ? NULL : s->error);
    if ((rc = sm_step_done(st, err)))
        goto fail;
    if ((rc = sm_db_commit(db, err)))
        return rc;
    if (!s->ok && was_ok)
        SP_WARN("store %s failed its heartbeat: %s; no new data goes there for %" PRIu64 " s", store,
                s->error, cooldown_ms / 1000);
    else if (s->ok && !was_ok)
        SP_INFO("store %s passes its heartbeat again (score %.2f)", store, score);
    return SP_OK;
fail:
    sm_db_rollback(db);
    return rc;
}

int sm_health_check_all(sm_db *db, uint64_t max_latency_ms, uint64_t cooldown_ms)
{
    sm_store_info *v = NULL;
    size_t n = 0;
    sp_err err;
    if (sm_stores_list(db, &v, &n, &err) != SP_OK) {
        SP_WARN("heartbeats: listing stores: %s", err.msg);
        return 0;
    }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        sm_health_sample s;
        probe(&v[i].def, max_latency_ms, !sm_health_seen_ok(db, v[i].def.name), &s);
        failed += !s.ok;
        if (sm_health_record(db, v[i].def.name, &s, cooldown_ms, &err) != SP_OK)
            SP_WARN("heartbeat of store %s: %s", v[i].def.name, err.msg);
    }
    free(v);
    return failed;
}
