/* stores.c — persist stores: declaration (config and CLI), sectorstore.json, usage,
 * placement by room x weight, and per-sector reservations (contract in sm_stores.h). */
#include "sm_stores.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <cjson/cJSON.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

bool sm_store_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= SM_STORE_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* True when actor appears in the comma-separated list. */
static bool list_has(const char *list, uint64_t actor)
{
    const char *p = list;
    while (*p) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            return false;
        if (errno == 0 && v == actor)
            return true;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return false;
    }
    return false;
}

bool sm_store_allows(const sm_store_def *def, uint64_t actor)
{
    if (list_has(def->deny_miners, actor))
        return false;
    return def->allow_miners[0] == 0 || list_has(def->allow_miners, actor);
}

/* ---- rows -------------------------------------------------------------------------------- */

#define STORE_COLS "name, path, weight, tier, readonly, allow_miners, deny_miners, capacity, source"

static sp_code check_meta(const sm_store_def *def, const char *path, sp_err *err);

static void row_to_info(sm_stmt *s, sm_store_info *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->def.name, sizeof out->def.name, "%s", sm_col_text(s, 0));
    snprintf(out->def.path, sizeof out->def.path, "%s", sm_col_text(s, 1));
    out->def.weight = (uint64_t)sm_col_i64(s, 2);
    snprintf(out->def.tier, sizeof out->def.tier, "%s", sm_col_text(s, 3));
    out->def.readonly = sm_col_i64(s, 4) != 0;
    snprintf(out->def.allow_miners, sizeof out->def.allow_miners, "%s", sm_col_text(s, 5));
    snprintf(out->def.deny_miners, sizeof out->def.deny_miners, "%s", sm_col_text(s, 6));
    out->def.capacity = (uint64_t)sm_col_i64(s, 7);
    snprintf(out->source, sizeof out->source, "%s", sm_col_text(s, 8));
}

static const char SQL_USAGE[] =
    "SELECT (SELECT count(*) FROM sectors WHERE store = ?1),"
    "       (SELECT coalesce(sum(store_bytes), 0) FROM sectors WHERE store = ?1),"
    "       (SELECT count(*) FROM reservations WHERE store = ?1),"
    "       (SELECT coalesce(sum(size), 0) FROM reservations WHERE store = ?1)";

/* Fills the usage fields of info (inside the caller's transaction, if any). */
static sp_code fill_usage(sm_db *db, sm_store_info *info, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_USAGE, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, info->def.name);
    if (sm_step(s, err) != 1) {
        sm_stmt_reset(s);
        return err && err->code ? err->code : SP_EIO;
    }
    info->sectors = (uint64_t)sm_col_i64(s, 0);
    info->stored = (uint64_t)sm_col_i64(s, 1);
    info->reservations = (uint64_t)sm_col_i64(s, 2);
    info->reserved = (uint64_t)sm_col_i64(s, 3);
    sm_stmt_reset(s);

    struct statvfs vfs;
    info->reachable = sp_is_dir(info->def.path) && statvfs(info->def.path, &vfs) == 0;
    if (info->reachable) {
        info->fs_total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
        info->fs_avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    }
    uint64_t avail = info->reachable ? info->fs_avail : 0;
    if (info->def.capacity) {
        uint64_t cap_left = info->def.capacity > info->stored ? info->def.capacity - info->stored : 0;
        avail = info->reachable && info->fs_avail < cap_left ? info->fs_avail : cap_left;
    }
    info->available = avail;
    return SP_OK;
}

static const char SQL_GET[] = "SELECT " STORE_COLS " FROM stores WHERE name = ?1";
static const char SQL_LIST[] = "SELECT " STORE_COLS " FROM stores ORDER BY name";

static sp_code get_in(sm_db *db, const char *name, sm_store_info *out, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_GET, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, name);
    int r = sm_step(s, err);
    if (r < 0)
        return err && err->code ? err->code : SP_EIO;
    if (r == 0) {
        sm_stmt_reset(s);
        return sp_fail(err, SP_ENOTFOUND, "no persist store named \"%s\"; see `sector-manager "
                       "storage list`", name);
    }
    row_to_info(s, out);
    sm_stmt_reset(s);
    return fill_usage(db, out, err);
}

sp_code sm_stores_get(sm_db *db, const char *name, sm_store_info *out, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_READ, err);
    if (rc)
        return rc;
    rc = get_in(db, name, out, err);
    sm_db_rollback(db);
    return rc;
}

static sp_code list_in(sm_db *db, sm_store_info **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_LIST, &s, err);
    if (rc)
        return rc;
    size_t cap = 0;
    sm_store_info *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sm_store_info *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                return sp_fail(err, SP_ENOMEM, "stores: out of memory");
            }
            v = nv;
        }
        row_to_info(s, &v[(*n)++]);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        free(v);
        *n = 0;
        return err && err->code ? err->code : SP_EIO;
    }
    for (size_t i = 0; i < *n; i++)
        if ((rc = fill_usage(db, &v[i], err))) {
            free(v);
            *n = 0;
            return rc;
        }
    *out = v;
    return SP_OK;
}

sp_code sm_stores_list(sm_db *db, sm_store_info **out, size_t *n, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_READ, err);
    if (rc)
        return rc;
    rc = list_in(db, out, n, err);
    sm_db_rollback(db);
    return rc;
}

/* ---- declaration ------------------------------------------------------------------------- */

static const char SQL_UPSERT[] =
    "INSERT INTO stores (" STORE_COLS ", attached_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
    "ON CONFLICT (name) DO UPDATE SET path = ?2, weight = ?3, tier = ?4, readonly = ?5, "
    "allow_miners = ?6, deny_miners = ?7, capacity = ?8, source = ?9";
static const char SQL_SOURCE[] = "SELECT source FROM stores WHERE name = ?1";
static const char SQL_CONFIG_NAMES[] = "SELECT name FROM stores WHERE source = 'config'";
static const char SQL_DELETE[] = "DELETE FROM stores WHERE name = ?1";

static sp_code upsert_in(sm_db *db, const sm_store_def *d, const char *source, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_UPSERT, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, d->name);
    sm_bind_text(s, 2, d->path);
    sm_bind_i64(s, 3, (int64_t)(d->weight ? d->weight : 1));
    sm_bind_text(s, 4, d->tier[0] ? d->tier : "warm");
    sm_bind_i64(s, 5, d->readonly);
    sm_bind_text(s, 6, d->allow_miners);
    sm_bind_text(s, 7, d->deny_miners);
    sm_bind_i64(s, 8, (int64_t)d->capacity);
    sm_bind_text(s, 9, source);
    sm_bind_i64(s, 10, (int64_t)sp_wall_ms());
    return sm_step_done(s, err);
}

/* The source of an existing store ("" when there is none). */
static sp_code source_in(sm_db *db, const char *name, char out[8], sp_err *err)
{
    out[0] = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_SOURCE, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, name);
    int r = sm_step(s, err);
    if (r == 1)
        snprintf(out, 8, "%s", sm_col_text(s, 0));
    sm_stmt_reset(s);
    return r < 0 ? (err && err->code ? err->code : SP_EIO) : SP_OK;
}

/* Config stores get a sectorstore.json too, when their directory is visible here and has
 * none; a problem is only logged (the store works without it). */
static void declare_meta(const sm_store_def *d)
{
    char meta[4200];
    sp_err e;
    if (!sp_is_dir(d->path) || sp_path_join(meta, sizeof meta, d->path, "sectorstore.json") != 0)
        return;
    if (sp_path_exists(meta)) {
        if (check_meta(d, meta, &e) != SP_OK)
            SP_WARN("store %s: %s", d->name, e.msg);
        return;
    }
    if (sm_stores_write_meta(d, &e) != SP_OK)
        SP_WARN("store %s: writing sectorstore.json: %s", d->name, e.msg);
}

sp_code sm_stores_sync_config(sm_db *db, const sm_store_def *defs, size_t n, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    char src[8];
    for (size_t i = 0; i < n; i++) {
        if ((rc = source_in(db, defs[i].name, src, err)))
            goto fail;
        if (strcmp(src, "cli") == 0) {
            rc = sp_fail(err, SP_EEXIST, "persist_stores: store \"%s\" was attached with `storage "
                         "attach`; detach it first or give the config entry another name",
                         defs[i].name);
            goto fail;
        }
        if ((rc = upsert_in(db, &defs[i], "config", err)))
            goto fail;
        declare_meta(&defs[i]);
    }
    /* Config stores that left the config are forgotten (their sectors keep the name). */
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_CONFIG_NAMES, &s, err)))
        goto fail;
    char gone[64][SM_STORE_NAME_MAX];
    size_t n_gone = 0;
    int r;
    while ((r = sm_step(s, err)) == 1 && n_gone < 64) {
        const char *name = sm_col_text(s, 0);
        bool kept = false;
        for (size_t i = 0; i < n && !kept; i++)
            kept = strcmp(defs[i].name, name) == 0;
        if (!kept)
            snprintf(gone[n_gone++], SM_STORE_NAME_MAX, "%s", name);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        rc = err && err->code ? err->code : SP_EIO;
        goto fail;
    }
    for (size_t i = 0; i < n_gone; i++) {
        if ((rc = sm_db_stmt(db, SQL_DELETE, &s, err)))
            goto fail;
        sm_bind_text(s, 1, gone[i]);
        if ((rc = sm_step_done(s, err)))
            goto fail;
    }
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- sectorstore.json -------------------------------------------------------------------- */

static cJSON *miners_json(const char *list)
{
    cJSON *a = cJSON_CreateArray();
    const char *p = list;
    while (a && *p) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            break;
        char buf[32];
        snprintf(buf, sizeof buf, "f0%llu", v);
        cJSON_AddItemToArray(a, cJSON_CreateString(buf));
        p = *end == ',' ? end + 1 : end;
    }
    return a;
}

sp_code sm_stores_write_meta(const sm_store_def *def, sp_err *err)
{
    char path[4200];
    if (sp_path_join(path, sizeof path, def->path, "sectorstore.json") != 0)
        return sp_fail(err, SP_EINVAL, "store %s: path too long", def->name);
    cJSON *o = cJSON_CreateObject();
    sp_code rc = SP_OK;
    /* Lotus LocalStorageMeta fields (ID, Weight, CanSeal, CanStore, MaxStorage, Groups,
     * AllowTo, AllowTypes, DenyTypes, AllowMiners, DenyMiners) plus damocles' Name,
     * ReadOnly and Strict, which lotus ignores. */
    if (!o || (rc = sp_json_add_str(o, "ID", def->name, err)) ||
        (rc = sp_json_add_str(o, "Name", def->name, err)) ||
        (rc = sp_json_add_u64(o, "Weight", def->weight ? def->weight : 1, err)) ||
        (rc = sp_json_add_bool(o, "CanSeal", false, err)) ||
        (rc = sp_json_add_bool(o, "CanStore", !def->readonly, err)) ||
        (rc = sp_json_add_u64(o, "MaxStorage", def->capacity, err)) ||
        (rc = sp_json_add(o, "Groups", cJSON_CreateArray(), err)) ||
        (rc = sp_json_add(o, "AllowTo", cJSON_CreateArray(), err)) ||
        (rc = sp_json_add(o, "AllowTypes", cJSON_CreateNull(), err)) ||
        (rc = sp_json_add(o, "DenyTypes", cJSON_CreateNull(), err)) ||
        (rc = sp_json_add(o, "AllowMiners", miners_json(def->allow_miners), err)) ||
        (rc = sp_json_add(o, "DenyMiners", miners_json(def->deny_miners), err)) ||
        (rc = sp_json_add_bool(o, "ReadOnly", def->readonly, err)) ||
        (rc = sp_json_add_bool(o, "Strict", false, err))) {
        cJSON_Delete(o);
        return rc ? rc : sp_fail(err, SP_ENOMEM, "store %s: out of memory", def->name);
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text)
        return sp_fail(err, SP_ENOMEM, "store %s: out of memory", def->name);
    size_t len = strlen(text);
    text[len] = '\n';
    rc = sp_write_file_atomic(path, text, len + 1, 0644, err);
    free(text);
    return rc;
}

/* Checks an existing sectorstore.json: its ID must be the store's name. */
static sp_code check_meta(const sm_store_def *def, const char *path, sp_err *err)
{
    char *text = NULL;
    size_t len = 0;
    sp_code rc = sp_read_file(path, 1 << 20, &text, &len, err);
    if (rc)
        return rc;
    cJSON *o = NULL;
    rc = sp_json_parse(text, len, 16, &o, NULL);
    free(text);
    if (rc || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return sp_fail(err, SP_EPARSE, "%s is not a JSON object; move it away or fix it", path);
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "ID");
    if (!cJSON_IsString(id) || strcmp(id->valuestring, def->name) != 0) {
        rc = sp_fail(err, SP_EEXIST, "%s names store \"%s\", not \"%s\"; attach it under that "
                     "name or remove the file", path, cJSON_IsString(id) ? id->valuestring : "?",
                     def->name);
    }
    cJSON_Delete(o);
    return rc;
}

sp_code sm_stores_attach(sm_db *db, const sm_store_def *def, sp_err *err)
{
    if (!sm_store_name_valid(def->name))
        return sp_fail(err, SP_EINVAL, "store name \"%.80s\" is not 1-127 characters of "
                       "A-Z a-z 0-9 . _ -", def->name);
    if (def->path[0] != '/')
        return sp_fail(err, SP_EINVAL, "store %s: path \"%s\" must be absolute", def->name, def->path);
    if (!sp_is_dir(def->path))
        return sp_fail(err, SP_ENOTFOUND, "store %s: %s is not a directory on the manager's "
                       "machine; create or mount it first", def->name, def->path);
    char meta[4200];
    if (sp_path_join(meta, sizeof meta, def->path, "sectorstore.json") != 0)
        return sp_fail(err, SP_EINVAL, "store %s: path too long", def->name);
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    char src[8];
    if ((rc = source_in(db, def->name, src, err)))
        goto fail;
    if (src[0]) {
        rc = sp_fail(err, SP_EEXIST, "a store named \"%s\" already exists (%s)", def->name,
                     strcmp(src, "config") == 0 ? "declared in manager.cfg" : "attached before");
        goto fail;
    }
    if (sp_path_exists(meta))
        rc = check_meta(def, meta, err);
    else
        rc = sm_stores_write_meta(def, err);
    if (rc || (rc = upsert_in(db, def, "cli", err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_RES_COUNT[] = "SELECT count(*) FROM reservations WHERE store = ?1";

sp_code sm_stores_detach(sm_db *db, const char *name, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    char src[8];
    sm_stmt *s;
    if ((rc = source_in(db, name, src, err)))
        goto fail;
    if (!src[0]) {
        rc = sp_fail(err, SP_ENOTFOUND, "no persist store named \"%s\"", name);
        goto fail;
    }
    if (strcmp(src, "config") == 0) {
        rc = sp_fail(err, SP_ESTATE, "store \"%s\" is declared in manager.cfg; remove it there "
                     "and reload (SIGHUP)", name);
        goto fail;
    }
    if ((rc = sm_db_stmt(db, SQL_RES_COUNT, &s, err)))
        goto fail;
    sm_bind_text(s, 1, name);
    int64_t n = sm_step(s, err) == 1 ? sm_col_i64(s, 0) : 0;
    sm_stmt_reset(s);
    if (n > 0) {
        rc = sp_fail(err, SP_EBUSY, "store \"%s\" holds %lld reservations of sectors being "
                     "persisted; detach it when they are finalized or aborted", name, (long long)n);
        goto fail;
    }
    if ((rc = sm_db_stmt(db, SQL_DELETE, &s, err)))
        goto fail;
    sm_bind_text(s, 1, name);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static const char SQL_SET_WEIGHT[] = "UPDATE stores SET weight = ?2 WHERE name = ?1";

sp_code sm_stores_set_weight(sm_db *db, const char *name, uint64_t weight, sp_err *err)
{
    if (weight == 0 || weight > (uint64_t)INT64_MAX)
        return sp_fail(err, SP_EINVAL, "weight must be at least 1");
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_SET_WEIGHT, &s, err)))
        goto fail;
    sm_bind_text(s, 1, name);
    sm_bind_i64(s, 2, (int64_t)weight);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    if (sm_db_changes(db) == 0) {
        rc = sp_fail(err, SP_ENOTFOUND, "no persist store named \"%s\"", name);
        goto fail;
    }
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- reservations ------------------------------------------------------------------------- */

static const char SQL_SECTOR_DONE[] =
    "SELECT finalized FROM sectors WHERE miner = ?1 AND number = ?2";
static const char SQL_RES_GET[] = "SELECT store FROM reservations WHERE miner = ?1 AND number = ?2";
static const char SQL_RES_PUT[] =
    "INSERT INTO reservations (miner, number, store, size, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_RES_DEL[] = "DELETE FROM reservations WHERE miner = ?1 AND number = ?2";

static bool is_candidate(const char *name, const char *const *cands, size_t n)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (strcmp(cands[i], name) == 0)
            return true;
    return false;
}

sp_code sm_stores_reserve(sm_db *db, uint64_t miner, uint64_t number, uint64_t size,
                          const char *const *cands, size_t n_cands, sm_store_info *out,
                          bool *found, sp_err *err)
{
    *found = false;
    sm_store_info *all = NULL;
    size_t n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    /* A sector finalized or aborted meanwhile gets no reservation nobody would release. */
    if ((rc = sm_db_stmt(db, SQL_SECTOR_DONE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int done = sm_step(s, err);
    bool finalized = done == 1 && sm_col_i64(s, 0) != 0;
    sm_stmt_reset(s);
    if (done < 0) {
        rc = err && err->code ? err->code : SP_EIO;
        goto fail;
    }
    if (finalized) {
        rc = sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " is finalized or aborted; "
                     "it needs no store", miner, number);
        goto fail;
    }
    /* A retried request gets the store already chosen for the sector. */
    if ((rc = sm_db_stmt(db, SQL_RES_GET, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    int r = sm_step(s, err);
    if (r < 0) {
        rc = err && err->code ? err->code : SP_EIO;
        goto fail;
    }
    if (r == 1) {
        char name[SM_STORE_NAME_MAX];
        snprintf(name, sizeof name, "%s", sm_col_text(s, 0));
        sm_stmt_reset(s);
        rc = get_in(db, name, out, err);
        if (rc == SP_OK) {
            *found = true;
            sm_db_rollback(db);
            return SP_OK;
        }
        if (rc != SP_ENOTFOUND)
            goto fail;
        /* The store went away: drop the stale reservation and choose again. */
        if ((rc = sm_stores_release_in(db, miner, number, err)))
            goto fail;
    } else {
        sm_stmt_reset(s);
    }
    if ((rc = list_in(db, &all, &n, err)))
        goto fail;
    ssize_t best = -1;
    double best_score = -1;
    for (size_t i = 0; i < n; i++) {
        sm_store_info *st = &all[i];
        if (st->def.readonly || !sm_store_allows(&st->def, miner) ||
            !is_candidate(st->def.name, cands, n_cands))
            continue;
        if (st->available < st->reserved || st->available - st->reserved < size)
            continue;
        double room = (double)(st->available - st->reserved);
        double score = room * (double)(st->def.weight ? st->def.weight : 1);
        if (score > best_score) {
            best = (ssize_t)i;
            best_score = score;
        }
    }
    if (best < 0) {
        free(all);
        sm_db_rollback(db);
        return SP_OK;
    }
    if ((rc = sm_db_stmt(db, SQL_RES_PUT, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_text(s, 3, all[best].def.name);
    sm_bind_i64(s, 4, (int64_t)size);
    sm_bind_i64(s, 5, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    if ((rc = sm_db_commit(db, err)))
        goto out;
    *out = all[best];
    out->reserved += size;
    out->reservations++;
    *found = true;
out:
    free(all);
    return rc;
fail:
    free(all);
    sm_db_rollback(db);
    return rc;
}

sp_code sm_stores_release_in(sm_db *db, uint64_t miner, uint64_t number, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_RES_DEL, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    return sm_step_done(s, err);
}

static const char SQL_PERSISTED[] =
    "UPDATE sectors SET store = ?3, store_bytes = ?4 WHERE miner = ?1 AND number = ?2";

sp_code sm_stores_mark_persisted_in(sm_db *db, uint64_t miner, uint64_t number,
                                    const char *store, uint64_t bytes, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_PERSISTED, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_text(s, 3, store);
    sm_bind_i64(s, 4, (int64_t)bytes);
    return sm_step_done(s, err);
}
