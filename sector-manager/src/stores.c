/* stores.c — persist stores: declaration (config and CLI), sectorstore.json (written on
 * attach, read on redeclare), usage, heartbeat state, placement of sectors by tier and
 * room x weight, and per-sector reservations (contract in sm_stores.h). */
#include "sm_stores.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include <cjson/cJSON.h>

#include "sm_health.h"
#include "sm_placement.h"
#include "sm_policy.h"
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

bool sm_store_allows_types(const sm_store_def *def, uint32_t types)
{
    if (def->deny_types & types)
        return false;
    return def->allow_types == 0 || (def->allow_types & types) == types;
}

const char *sm_store_domain(const sm_store_def *def, char *buf, size_t len)
{
    if (def->domain[0])
        return def->domain;
    snprintf(buf, len, "store:%s", def->name);
    return buf;
}

bool sm_store_cooling(const sm_store_info *s, uint64_t now_ms)
{
    return s->health_known && s->cooldown_until_ms > now_ms;
}

/* ---- rows -------------------------------------------------------------------------------- */

#define STORE_COLS "name, path, weight, tier, readonly, allow_miners, deny_miners, capacity, source, " \
                   "media, min_free_pct, allow_types, deny_types, domain"
#define STORE_SELECT                                                                              \
    "SELECT s.name, s.path, s.weight, s.tier, s.readonly, s.allow_miners, s.deny_miners, "       \
    "s.capacity, s.source, s.media, s.min_free_pct, s.allow_types, s.deny_types, s.domain, "       \
    "h.checked_ms, h.ok, h.score, h.cooldown_until_ms, h.write_us, h.read_us, h.fails, "           \
    "h.last_error FROM stores s LEFT JOIN store_health h ON h.store = s.name "

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
    snprintf(out->def.media, sizeof out->def.media, "%s", sm_col_text(s, 9));
    out->def.min_free_pct = (unsigned)sm_col_i64(s, 10);
    out->def.allow_types = (uint32_t)sm_col_i64(s, 11);
    out->def.deny_types = (uint32_t)sm_col_i64(s, 12);
    snprintf(out->def.domain, sizeof out->def.domain, "%s", sm_col_text(s, 13));
    out->score = 1.0;
    out->healthy = true;
    if (!sm_col_null(s, 14)) {
        out->health_known = true;
        out->checked_ms = (uint64_t)sm_col_i64(s, 14);
        out->healthy = sm_col_i64(s, 15) != 0;
        out->cooldown_until_ms = (uint64_t)sm_col_i64(s, 17);
        out->write_us = (uint64_t)sm_col_i64(s, 18);
        out->read_us = (uint64_t)sm_col_i64(s, 19);
        out->fails = (uint64_t)sm_col_i64(s, 20);
        const char *e = sm_col_text(s, 21);
        snprintf(out->health_error, sizeof out->health_error, "%s", e ? e : "");
        /* a REAL column: sm_col_i64 would truncate it, its text form does not */
        const char *sc = sm_col_text(s, 16);
        out->score = sc ? strtod(sc, NULL) : 1.0;
    }
}

static const char SQL_USAGE[] =
    "SELECT (SELECT count(*) FROM replicas r JOIN objects o ON o.id = r.object_id "
    "        WHERE r.store = ?1 AND o.kind = 'sealed'),"
    "       (SELECT coalesce(sum(size), 0) FROM replicas WHERE store = ?1),"
    "       (SELECT count(*) FROM reservations WHERE store = ?1),"
    "       (SELECT coalesce(sum(size), 0) FROM reservations WHERE store = ?1),"
    "       (SELECT coalesce(sum(c.size), 0) FROM copies c WHERE c.dst = ?1 AND c.src <> ?1 "
    "        AND c.state IN ('planned', 'copying')),"
    "       (SELECT score FROM store_health WHERE store = ?1)";

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
    info->copying = (uint64_t)sm_col_i64(s, 4);
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

static const char SQL_GET[] = STORE_SELECT "WHERE s.name = ?1";
static const char SQL_LIST[] = STORE_SELECT "ORDER BY s.name";

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
    "INSERT INTO stores (" STORE_COLS ", attached_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?11, ?12, ?13, ?14, ?15, ?10) "
    "ON CONFLICT (name) DO UPDATE SET path = ?2, weight = ?3, tier = ?4, readonly = ?5, "
    "allow_miners = ?6, deny_miners = ?7, capacity = ?8, source = ?9, media = ?11, "
    "min_free_pct = ?12, allow_types = ?13, deny_types = ?14, domain = ?15";
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
    sm_bind_text(s, 11, d->media[0] ? d->media : "hdd");
    sm_bind_i64(s, 12, d->min_free_pct);
    sm_bind_i64(s, 13, d->allow_types);
    sm_bind_i64(s, 14, d->deny_types);
    sm_bind_text(s, 15, d->domain);
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
 * none; a problem is only logged (the store works without it).  A store that passed
 * heartbeats before had one: its directory without it is an unmounted store's mount
 * point, which must not be made to look like the store. */
static void declare_meta(sm_db *db, const sm_store_def *d)
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
    if (sm_health_seen_ok(db, d->name)) {
        SP_WARN("store %s: %s is gone although the store had it; not writing it again (is the "
                "store mounted?)", d->name, meta);
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
        declare_meta(db, &defs[i]);
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

static cJSON *types_json(uint32_t bits)
{
    if (!bits)
        return cJSON_CreateNull();
    cJSON *a = cJSON_CreateArray();
    char buf[128], *save = NULL;
    sm_ftypes_format(bits, buf, sizeof buf);
    for (char *t = strtok_r(buf, ",", &save); a && t; t = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(a, cJSON_CreateString(t));
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
     * ReadOnly and Strict and sealpipe's Tier, Media, MinFreePct and Domain, which lotus
     * ignores. */
    if (!o || (rc = sp_json_add_str(o, "ID", def->name, err)) ||
        (rc = sp_json_add_str(o, "Name", def->name, err)) ||
        (rc = sp_json_add_u64(o, "Weight", def->weight ? def->weight : 1, err)) ||
        (rc = sp_json_add_bool(o, "CanSeal", false, err)) ||
        (rc = sp_json_add_bool(o, "CanStore", !def->readonly, err)) ||
        (rc = sp_json_add_u64(o, "MaxStorage", def->capacity, err)) ||
        (rc = sp_json_add(o, "Groups", cJSON_CreateArray(), err)) ||
        (rc = sp_json_add(o, "AllowTo", cJSON_CreateArray(), err)) ||
        (rc = sp_json_add(o, "AllowTypes", types_json(def->allow_types), err)) ||
        (rc = sp_json_add(o, "DenyTypes", types_json(def->deny_types), err)) ||
        (rc = sp_json_add(o, "AllowMiners", miners_json(def->allow_miners), err)) ||
        (rc = sp_json_add(o, "DenyMiners", miners_json(def->deny_miners), err)) ||
        (rc = sp_json_add_bool(o, "ReadOnly", def->readonly, err)) ||
        (rc = sp_json_add_bool(o, "Strict", false, err)) ||
        (rc = sp_json_add_str(o, "Tier", def->tier[0] ? def->tier : "warm", err)) ||
        (rc = sp_json_add_str(o, "Media", def->media[0] ? def->media : "hdd", err)) ||
        (rc = sp_json_add_u64(o, "MinFreePct", def->min_free_pct, err)) ||
        (rc = sp_json_add_str(o, "Domain", def->domain, err))) {
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

/* "f01000", "t01000", "1000" or a number to a comma-separated list. */
static sp_code meta_miners(const cJSON *o, const char *key, char *out, size_t len, sp_err *err)
{
    out[0] = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a || cJSON_IsNull(a))
        return SP_OK;
    if (!cJSON_IsArray(a))
        return sp_fail(err, SP_EPARSE, "sectorstore.json: %s is not a list", key);
    size_t used = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        unsigned long long v = 0;
        char *end = NULL;
        if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble < 9e15) {
            v = (unsigned long long)it->valuedouble;
        } else if (cJSON_IsString(it)) {
            const char *p = it->valuestring;
            if ((p[0] == 'f' || p[0] == 't') && p[1] == '0')
                p += 2;
            v = strtoull(p, &end, 10);
            if (end == p || *end)
                return sp_fail(err, SP_EPARSE, "sectorstore.json: %s: \"%.40s\" is not a miner id",
                               key, it->valuestring);
        } else {
            return sp_fail(err, SP_EPARSE, "sectorstore.json: %s holds a non-miner value", key);
        }
        int w = snprintf(out + used, len - used, "%s%llu", used ? "," : "", v);
        if (w < 0 || (size_t)w >= len - used)
            return sp_fail(err, SP_EPARSE, "sectorstore.json: %s lists too many miners", key);
        used += (size_t)w;
    }
    return SP_OK;
}

static sp_code meta_types(const cJSON *o, const char *key, uint32_t *out, sp_err *err)
{
    *out = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!a || cJSON_IsNull(a))
        return SP_OK;
    if (!cJSON_IsArray(a))
        return sp_fail(err, SP_EPARSE, "sectorstore.json: %s is not a list", key);
    const cJSON *it;
    cJSON_ArrayForEach(it, a) {
        uint32_t b = cJSON_IsString(it) ? sm_ftype_parse(it->valuestring) : 0;
        if (!b)
            return sp_fail(err, SP_EPARSE, "sectorstore.json: %s: unknown file type %.40s", key,
                           cJSON_IsString(it) ? it->valuestring : "(not a string)");
        *out |= b;
    }
    return SP_OK;
}

sp_code sm_stores_parse_meta(const char *text, size_t len, sm_store_def *def, sp_err *err)
{
    memset(def, 0, sizeof *def);
    cJSON *o = NULL;
    sp_code rc = sp_json_parse(text, len, 16, &o, err);
    if (rc)
        return rc;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "ID");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "Weight");
    const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "CanStore");
    const cJSON *ro = cJSON_GetObjectItemCaseSensitive(o, "ReadOnly");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "MaxStorage");
    const cJSON *tier = cJSON_GetObjectItemCaseSensitive(o, "Tier");
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(o, "Media");
    const cJSON *mf = cJSON_GetObjectItemCaseSensitive(o, "MinFreePct");
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(o, "Domain");
    if (!cJSON_IsObject(o) || !cJSON_IsString(id) || !sm_store_name_valid(id->valuestring)) {
        rc = sp_fail(err, SP_EPARSE, "sectorstore.json: no ID that is a valid store name");
        goto out;
    }
    snprintf(def->name, sizeof def->name, "%s", id->valuestring);
    def->weight = cJSON_IsNumber(w) && w->valuedouble >= 1 && w->valuedouble <= 1e6 ? (uint64_t)w->valuedouble : 1;
    def->readonly = cJSON_IsBool(ro) ? cJSON_IsTrue(ro) : cJSON_IsBool(cs) ? !cJSON_IsTrue(cs) : false;
    def->capacity = cJSON_IsNumber(ms) && ms->valuedouble > 0 && ms->valuedouble < 9e18 ? (uint64_t)ms->valuedouble : 0;
    snprintf(def->tier, sizeof def->tier, "%s",
             cJSON_IsString(tier) && sm_tier_parse(tier->valuestring) >= 0 ? tier->valuestring : "warm");
    const char *m = cJSON_IsString(media) ? media->valuestring : "hdd";
    if (strcmp(m, "nvme") && strcmp(m, "hdd") && strcmp(m, "object"))
        m = "hdd";
    snprintf(def->media, sizeof def->media, "%s", m);
    def->min_free_pct = cJSON_IsNumber(mf) && mf->valuedouble >= 0 && mf->valuedouble < 100 ? (unsigned)mf->valuedouble : 0;
    if (cJSON_IsString(dom)) {
        if (strlen(dom->valuestring) >= sizeof def->domain || strpbrk(dom->valuestring, "\n\r\t,")) {
            rc = sp_fail(err, SP_EPARSE, "sectorstore.json: Domain is too long or has commas");
            goto out;
        }
        snprintf(def->domain, sizeof def->domain, "%s", dom->valuestring);
    }
    if ((rc = meta_types(o, "AllowTypes", &def->allow_types, err)) ||
        (rc = meta_types(o, "DenyTypes", &def->deny_types, err)) ||
        (rc = meta_miners(o, "AllowMiners", def->allow_miners, sizeof def->allow_miners, err)) ||
        (rc = meta_miners(o, "DenyMiners", def->deny_miners, sizeof def->deny_miners, err)))
        goto out;
out:
    cJSON_Delete(o);
    return rc;
}

static const char SQL_CLI_NAMES[] = "SELECT name FROM stores WHERE source = 'cli' ORDER BY name";

/* Re-reads one store's sectorstore.json inside the caller's write transaction. */
static sp_code redeclare_in(sm_db *db, const sm_store_info *cur, sp_err *err)
{
    char meta[4200];
    if (sp_path_join(meta, sizeof meta, cur->def.path, "sectorstore.json") != 0)
        return sp_fail(err, SP_EINVAL, "store %s: path too long", cur->def.name);
    char *text = NULL;
    size_t len = 0;
    sp_code rc = sp_read_file(meta, 1 << 20, &text, &len, err);
    if (rc)
        return sp_err_prefix(err, "store %s", cur->def.name);
    sm_store_def d;
    rc = sm_stores_parse_meta(text, len, &d, err);
    free(text);
    if (rc)
        return sp_err_prefix(err, "store %s: %s", cur->def.name, meta);
    if (strcmp(d.name, cur->def.name) != 0)
        return sp_fail(err, SP_EEXIST, "store %s: %s names store \"%s\"; detach and attach it "
                       "under that name", cur->def.name, meta, d.name);
    snprintf(d.path, sizeof d.path, "%s", cur->def.path);
    return upsert_in(db, &d, "cli", err);
}

sp_code sm_stores_redeclare(sm_db *db, const char *name, int *changed, sp_err *err)
{
    *changed = 0;
    char names[256][SM_STORE_NAME_MAX];
    size_t n = 0;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    if (name) {
        sm_store_info info;
        if ((rc = get_in(db, name, &info, err)))
            goto fail;
        if (strcmp(info.source, "cli") != 0) {
            rc = sp_fail(err, SP_ESTATE, "store \"%s\" is declared in manager.cfg; change it there and "
                         "reload (SIGHUP)", name);
            goto fail;
        }
        snprintf(names[n++], SM_STORE_NAME_MAX, "%s", name);
    } else {
        sm_stmt *s;
        if ((rc = sm_db_stmt(db, SQL_CLI_NAMES, &s, err)))
            goto fail;
        int r;
        while ((r = sm_step(s, err)) == 1 && n < 256)
            snprintf(names[n++], SM_STORE_NAME_MAX, "%s", sm_col_text(s, 0));
        sm_stmt_reset(s);
        if (r < 0) {
            rc = err && err->code ? err->code : SP_EIO;
            goto fail;
        }
    }
    for (size_t i = 0; i < n; i++) {
        sm_store_info info;
        if ((rc = get_in(db, names[i], &info, err)) || (rc = redeclare_in(db, &info, err)))
            goto fail;
        (*changed)++;
    }
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
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

sp_code sm_stores_reserve(sm_db *db, uint64_t miner, uint64_t number, uint64_t size,
                          const char *const *cands, size_t n_cands, sm_store_info *out,
                          bool *found, sp_err *err)
{
    return sm_stores_reserve_tiered(db, NULL, miner, number, size, cands, n_cands, out, found, err);
}

sp_code sm_stores_reserve_tiered(sm_db *db, const struct sm_storage_conf *sc, uint64_t miner,
                                 uint64_t number, uint64_t size, const char *const *cands,
                                 size_t n_cands, sm_store_info *out, bool *found, sp_err *err)
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
    sm_tier tiers[SM_TIER_COUNT];
    sm_place_req req = {
        .types = sm_kind_types(SM_KIND_SEALED),
        .has_miner = true,
        .miner = miner,
        .size = size,
        .tiers = tiers,
        .n_tiers = sc ? sm_place_tiers_for(sc, SM_KIND_SEALED, tiers) : 0,
        .cands = cands,
        .n_cands = n_cands,
        .now_ms = sp_wall_ms(),
    };
    char why[256];
    ssize_t best = sm_place_pick(all, n, &req, NULL, why, sizeof why);
    if (best < 0) {
        SP_DEBUG("StoreReserveSpace s-t0%" PRIu64 "-%" PRIu64 ": %s", miner, number, why);
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
static const char SQL_OBJ_SEALED[] =
    "INSERT INTO objects (kind, name, miner, number, size, created_ms, accessed_ms) "
    "VALUES ('sealed', ?3, ?1, ?2, ?4, ?5, ?5) ON CONFLICT (kind, name) DO UPDATE SET size = ?4";
static const char SQL_REPLICA_SEALED[] =
    "INSERT INTO replicas (object_id, store, tier, state, size, created_ms) "
    "SELECT o.id, ?2, coalesce((SELECT tier FROM stores WHERE name = ?2), 'warm'), 'ok', ?3, ?4 "
    "FROM objects o WHERE o.kind = 'sealed' AND o.name = ?1 "
    "ON CONFLICT (object_id, store) DO UPDATE SET state = 'ok', size = ?3, finding = NULL";

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
    if ((rc = sm_step_done(s, err)))
        return rc;
    /* The sector's sealed data is now an object with a replica in this store: the
     * reconciler, scrub, moves and GC track it from here on. */
    char name[64];
    snprintf(name, sizeof name, "s-t0%" PRIu64 "-%" PRIu64, miner, number);
    int64_t now = (int64_t)sp_wall_ms();
    if ((rc = sm_db_stmt(db, SQL_OBJ_SEALED, &s, err)))
        return rc;
    sm_bind_i64(s, 1, (int64_t)miner);
    sm_bind_i64(s, 2, (int64_t)number);
    sm_bind_text(s, 3, name);
    sm_bind_i64(s, 4, (int64_t)bytes);
    sm_bind_i64(s, 5, now);
    if ((rc = sm_step_done(s, err)) || (rc = sm_db_stmt(db, SQL_REPLICA_SEALED, &s, err)))
        return rc;
    sm_bind_text(s, 1, name);
    sm_bind_text(s, 2, store);
    sm_bind_i64(s, 3, (int64_t)bytes);
    sm_bind_i64(s, 4, now);
    return sm_step_done(s, err);
}
