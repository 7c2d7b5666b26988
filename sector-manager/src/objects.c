/* objects.c — objects (sealed sectors, unsealed pieces), their replicas, findings, and the
 * files a replica has on disk (contract in sm_objects.h). */
#include "sm_objects.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sealproofs.h"
#include "sp_fs.h"

/* ---- paths ---------------------------------------------------------------------------------- */

sp_code sm_object_paths(const sm_object *o, char *main_rel, size_t main_len, char *cache_rel,
                        size_t cache_len, sp_err *err)
{
    cache_rel[0] = 0;
    if (o->kind == SM_KIND_SEALED) {
        /* rebuilt from the numbers, so the name stored in the row never matters */
        char name[64];
        snprintf(name, sizeof name, "s-t0%" PRIu64 "-%" PRIu64, o->miner, o->number);
        if (strcmp(name, o->name) != 0)
            return sp_fail(err, SP_ECORRUPT, "object %" PRId64 ": name %s does not match sector "
                           "%s", o->id, o->name, name);
        snprintf(main_rel, main_len, "sealed/%s", name);
        snprintf(cache_rel, cache_len, "cache/%s", name);
        return SP_OK;
    }
    uint8_t comm[32];
    char canon[PF_COMMCID_STR_MAX];
    if (pf_commcid_decode(o->name, PF_COMM_UNSEALED, comm, NULL, NULL) != PF_OK ||
        pf_commcid_encode(PF_COMM_UNSEALED, comm, canon, sizeof canon, NULL) != PF_OK ||
        strcmp(canon, o->name) != 0)
        return sp_fail(err, SP_ECORRUPT, "object %" PRId64 ": \"%.80s\" is not a canonical piece CID",
                       o->id, o->name);
    snprintf(main_rel, main_len, "unsealed/%s", canon);
    return SP_OK;
}

/* ---- objects -------------------------------------------------------------------------------- */

#define OBJ_COLS "id, kind, name, miner, number, size, moves, created_ms, accessed_ms, flagged"

static void row_to_object(sm_stmt *s, sm_object *o)
{
    memset(o, 0, sizeof *o);
    o->id = sm_col_i64(s, 0);
    int k = sm_kind_parse(sm_col_text(s, 1));
    o->kind = k < 0 ? SM_KIND_UNSEALED : (sm_kind)k;
    snprintf(o->name, sizeof o->name, "%s", sm_col_text(s, 2) ? sm_col_text(s, 2) : "");
    o->miner = (uint64_t)sm_col_i64(s, 3);
    o->number = (uint64_t)sm_col_i64(s, 4);
    o->size = (uint64_t)sm_col_i64(s, 5);
    snprintf(o->moves, sizeof o->moves, "%s", sm_col_text(s, 6) ? sm_col_text(s, 6) : "");
    o->created_ms = (uint64_t)sm_col_i64(s, 7);
    o->accessed_ms = (uint64_t)sm_col_i64(s, 8);
    snprintf(o->flagged, sizeof o->flagged, "%s", sm_col_text(s, 9) ? sm_col_text(s, 9) : "");
}

static const char SQL_OBJ_GET[] = "SELECT " OBJ_COLS " FROM objects WHERE kind = ?1 AND name = ?2";
static const char SQL_OBJ_GET_ID[] = "SELECT " OBJ_COLS " FROM objects WHERE id = ?1";
static const char SQL_OBJ_LIST[] = "SELECT " OBJ_COLS " FROM objects WHERE id > ?1 ORDER BY id LIMIT ?2";

static sp_code one_object(sm_stmt *s, sm_object *out, const char *what, sp_err *err)
{
    int r = sm_step(s, err);
    if (r == 1)
        row_to_object(s, out);
    sm_stmt_reset(s);
    if (r < 0)
        return err && err->code ? err->code : SP_EIO;
    if (r == 0)
        return sp_fail(err, SP_ENOTFOUND, "no stored object %s", what);
    return SP_OK;
}

sp_code sm_objects_get(sm_db *db, sm_kind kind, const char *name, sm_object *out, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_OBJ_GET, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, sm_kind_name(kind));
    sm_bind_text(s, 2, name);
    char what[160];
    snprintf(what, sizeof what, "%s %.100s", sm_kind_name(kind), name);
    return one_object(s, out, what, err);
}

sp_code sm_objects_get_id(sm_db *db, int64_t id, sm_object *out, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_OBJ_GET_ID, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, id);
    char what[40];
    snprintf(what, sizeof what, "#%" PRId64, id);
    return one_object(s, out, what, err);
}

sp_code sm_objects_list(sm_db *db, int64_t after_id, size_t limit, sm_object **out, size_t *n,
                        sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_OBJ_LIST, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, after_id);
    sm_bind_i64(s, 2, (int64_t)limit);
    sm_object *v = calloc(limit ? limit : 1, sizeof *v);
    if (!v) {
        sm_stmt_reset(s);
        return sp_fail(err, SP_ENOMEM, "objects: out of memory");
    }
    int r = 0;
    while (*n < limit && (r = sm_step(s, err)) == 1)
        row_to_object(s, &v[(*n)++]);
    sm_stmt_reset(s);
    if (*n < limit && r < 0) {
        free(v);
        *n = 0;
        return err && err->code ? err->code : SP_EIO;
    }
    *out = v;
    return SP_OK;
}

static const char SQL_OBJ_UNSEALED[] =
    "INSERT INTO objects (kind, name, size, created_ms, accessed_ms) VALUES ('unsealed', ?1, ?2, ?3, ?3) "
    "ON CONFLICT (kind, name) DO NOTHING";

sp_code sm_objects_ensure_unsealed_in(sm_db *db, const char *piece_cid, uint64_t size, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_OBJ_UNSEALED, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, piece_cid);
    sm_bind_i64(s, 2, (int64_t)size);
    sm_bind_i64(s, 3, (int64_t)sp_wall_ms());
    return sm_step_done(s, err);
}

/* ---- replicas -------------------------------------------------------------------------------- */

#define REP_COLS "object_id, store, tier, state, size, created_ms, checked_ms, deep_ms, finding"

static void row_to_replica(sm_stmt *s, sm_replica *r)
{
    memset(r, 0, sizeof *r);
    r->object_id = sm_col_i64(s, 0);
    snprintf(r->store, sizeof r->store, "%s", sm_col_text(s, 1) ? sm_col_text(s, 1) : "");
    int t = sm_tier_parse(sm_col_text(s, 2));
    r->tier = t < 0 ? SM_TIER_WARM : (sm_tier)t;
    snprintf(r->state, sizeof r->state, "%s", sm_col_text(s, 3) ? sm_col_text(s, 3) : "");
    r->size = (uint64_t)sm_col_i64(s, 4);
    r->created_ms = (uint64_t)sm_col_i64(s, 5);
    r->checked_ms = (uint64_t)sm_col_i64(s, 6);
    r->deep_ms = (uint64_t)sm_col_i64(s, 7);
    snprintf(r->finding, sizeof r->finding, "%s", sm_col_text(s, 8) ? sm_col_text(s, 8) : "");
}

static const char SQL_REP_OF[] = "SELECT " REP_COLS " FROM replicas WHERE object_id = ?1 ORDER BY store";
static const char SQL_REP_ON[] = "SELECT " REP_COLS " FROM replicas WHERE store = ?1 ORDER BY object_id";

static sp_code replica_rows(sm_stmt *s, sm_replica **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    size_t cap = 0;
    sm_replica *v = NULL;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            sm_replica *nv = realloc(v, cap * sizeof *v);
            if (!nv) {
                sm_stmt_reset(s);
                free(v);
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "replicas: out of memory");
            }
            v = nv;
        }
        row_to_replica(s, &v[(*n)++]);
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

sp_code sm_objects_replicas(sm_db *db, int64_t object_id, sm_replica **out, size_t *n, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_REP_OF, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, object_id);
    return replica_rows(s, out, n, err);
}

sp_code sm_objects_replicas_on(sm_db *db, const char *store, sm_replica **out, size_t *n,
                               sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_REP_ON, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, store);
    return replica_rows(s, out, n, err);
}

static const char SQL_REP_PUT[] =
    "INSERT INTO replicas (object_id, store, tier, state, size, created_ms, checked_ms) "
    "VALUES (?1, ?2, ?3, 'ok', ?4, ?5, ?5) ON CONFLICT (object_id, store) DO UPDATE SET "
    "tier = ?3, state = 'ok', size = ?4, checked_ms = ?5, finding = NULL";
static const char SQL_REP_DEL[] = "DELETE FROM replicas WHERE object_id = ?1 AND store = ?2";

sp_code sm_replica_put_in(sm_db *db, int64_t object_id, const char *store, sm_tier tier,
                          uint64_t size, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_REP_PUT, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, object_id);
    sm_bind_text(s, 2, store);
    sm_bind_text(s, 3, sm_tier_name(tier));
    sm_bind_i64(s, 4, (int64_t)size);
    sm_bind_i64(s, 5, (int64_t)sp_wall_ms());
    return sm_step_done(s, err);
}

sp_code sm_replica_delete_in(sm_db *db, int64_t object_id, const char *store, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_REP_DEL, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, object_id);
    sm_bind_text(s, 2, store);
    return sm_step_done(s, err);
}

static const char SQL_REP_STATE[] =
    "UPDATE replicas SET state = ?3, finding = ?4, checked_ms = ?5, "
    "deep_ms = CASE WHEN ?6 THEN ?5 ELSE deep_ms END WHERE object_id = ?1 AND store = ?2";

sp_code sm_replica_set_state(sm_db *db, int64_t object_id, const char *store, const char *state,
                             const char *finding, bool deep, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_REP_STATE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, object_id);
    sm_bind_text(s, 2, store);
    sm_bind_text(s, 3, state);
    sm_bind_text(s, 4, finding);
    sm_bind_i64(s, 5, (int64_t)sp_wall_ms());
    sm_bind_i64(s, 6, deep);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- flags, access times, findings ---------------------------------------------------------- */

static const char SQL_OBJ_FLAG[] = "UPDATE objects SET flagged = ?2 WHERE id = ?1";
static const char SQL_OBJ_TOUCH[] = "UPDATE objects SET accessed_ms = ?2 WHERE id = ?1";
static const char SQL_FINDING[] =
    "INSERT INTO findings (at_ms, source, store, object_id, what) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_FINDINGS_RESOLVE[] =
    "UPDATE findings SET resolved_ms = ?2 WHERE object_id = ?1 AND resolved_ms IS NULL";

sp_code sm_objects_flag(sm_db *db, int64_t object_id, const char *what, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_OBJ_FLAG, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, object_id);
    sm_bind_text(s, 2, what);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_objects_touch(sm_db *db, const int64_t *ids, size_t n, uint64_t now_ms, sp_err *err)
{
    if (n == 0)
        return SP_OK;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        sm_stmt *s;
        if ((rc = sm_db_stmt(db, SQL_OBJ_TOUCH, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, ids[i]);
        sm_bind_i64(s, 2, (int64_t)now_ms);
        if ((rc = sm_step_done(s, err)))
            goto fail;
    }
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_findings_add(sm_db *db, const char *source, const char *store, int64_t object_id,
                        const char *what, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_FINDING, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, (int64_t)sp_wall_ms());
    sm_bind_text(s, 2, source);
    sm_bind_text(s, 3, store);
    if (object_id > 0)
        sm_bind_i64(s, 4, object_id);
    else
        sm_bind_null(s, 4);
    sm_bind_text(s, 5, what);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_findings_resolve_in(sm_db *db, int64_t object_id, sp_err *err)
{
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_FINDINGS_RESOLVE, &s, err);
    if (rc)
        return rc;
    sm_bind_i64(s, 1, object_id);
    sm_bind_i64(s, 2, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        return rc;
    if ((rc = sm_db_stmt(db, SQL_OBJ_FLAG, &s, err)))
        return rc;
    sm_bind_i64(s, 1, object_id);
    sm_bind_null(s, 2);
    return sm_step_done(s, err);
}

/* ---- on disk --------------------------------------------------------------------------------- */

int64_t sm_replica_disk_size(const char *store_path, const sm_object *o, bool *has_p_aux,
                             bool *has_tree_r)
{
    if (has_p_aux)
        *has_p_aux = false;
    if (has_tree_r)
        *has_tree_r = false;
    char mrel[256], crel[256], path[4400];
    if (sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, NULL) != SP_OK ||
        snprintf(path, sizeof path, "%s/%s", store_path, mrel) >= (int)sizeof path)
        return -1;
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return -1;
    int64_t total = st.st_size;
    if (!crel[0])
        return total;
    if (snprintf(path, sizeof path, "%s/%s", store_path, crel) >= (int)sizeof path)
        return -1;
    DIR *d = opendir(path);
    if (!d)
        return total;
    struct dirent *e;
    while ((e = readdir(d))) {
        char f[4700];
        if (e->d_name[0] == '.' || snprintf(f, sizeof f, "%s/%s", path, e->d_name) >= (int)sizeof f)
            continue;
        if (lstat(f, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        total += st.st_size;
        if (has_p_aux && strcmp(e->d_name, "p_aux") == 0)
            *has_p_aux = true;
        if (has_tree_r && strncmp(e->d_name, "sc-02-data-tree-r-last", 22) == 0)
            *has_tree_r = true;
    }
    closedir(d);
    return total;
}

sp_code sm_objects_scan_store(sm_db *db, const sm_store_info *st, int *found, int *missing,
                              sp_err *err)
{
    *found = *missing = 0;
    int t = sm_tier_parse(st->def.tier);
    sm_tier tier = t < 0 ? SM_TIER_WARM : (sm_tier)t;
    int64_t after = 0;
    for (;;) {
        sm_object *v = NULL;
        size_t n = 0;
        sp_code rc = sm_objects_list(db, after, 256, &v, &n, err);
        if (rc)
            return rc;
        if (n == 0) {
            free(v);
            break;
        }
        for (size_t i = 0; i < n && !rc; i++) {
            const sm_object *o = &v[i];
            after = o->id;
            bool p_aux, tree_r;
            int64_t size = sm_replica_disk_size(st->def.path, o, &p_aux, &tree_r);
            bool complete = size >= 0 && (o->kind == SM_KIND_UNSEALED ? (uint64_t)size == o->size
                                                                      : p_aux && tree_r);
            sm_replica *reps = NULL;
            size_t nr = 0;
            if ((rc = sm_objects_replicas(db, o->id, &reps, &nr, err)))
                break;
            bool recorded = false;
            for (size_t j = 0; j < nr; j++)
                recorded |= strcmp(reps[j].store, st->def.name) == 0;
            free(reps);
            if (complete) {
                if ((rc = sm_db_begin(db, SM_TX_WRITE, err)))
                    break;
                if ((rc = sm_replica_put_in(db, o->id, st->def.name, tier, (uint64_t)size, err))) {
                    sm_db_rollback(db);
                    break;
                }
                if ((rc = sm_db_commit(db, err)))
                    break;
                (*found)++;
            } else if (recorded) {
                if ((rc = sm_replica_set_state(db, o->id, st->def.name, "missing",
                                               "not found by storage redeclare", false, err)))
                    break;
                (*missing)++;
            }
        }
        free(v);
        if (rc)
            return rc;
    }
    return SP_OK;
}

/* ---- readable copies --------------------------------------------------------------------------- */

static const char SQL_SOURCES[] =
    "SELECT o.id, r.store, r.tier, s.path FROM objects o "
    "LEFT JOIN replicas r ON r.object_id = o.id AND r.state = 'ok' "
    "LEFT JOIN stores s ON s.name = r.store "
    "LEFT JOIN store_health h ON h.store = r.store "
    "WHERE o.kind = 'unsealed' AND o.name = ?1 "
    "AND (h.cooldown_until_ms IS NULL OR h.cooldown_until_ms <= ?2) "
    "ORDER BY CASE r.tier WHEN 'hot' THEN 0 WHEN 'warm' THEN 1 ELSE 2 END, r.store";

sp_code sm_piece_sources(sm_db *db, const char *piece_dir, const char *cid, sm_source *out,
                         size_t max, size_t *n, int64_t *object_id, sp_err *err)
{
    *n = 0;
    *object_id = 0;
    sm_object probe = { .kind = SM_KIND_UNSEALED };
    snprintf(probe.name, sizeof probe.name, "%s", cid);
    char mrel[256], crel[8];
    sp_code rc = sm_object_paths(&probe, mrel, sizeof mrel, crel, sizeof crel, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_SOURCES, &s, err)))
        return rc;
    sm_bind_text(s, 1, cid);
    sm_bind_i64(s, 2, (int64_t)sp_wall_ms());
    int r;
    while ((r = sm_step(s, err)) == 1) {
        *object_id = sm_col_i64(s, 0);
        const char *store = sm_col_text(s, 1), *path = sm_col_text(s, 3);
        if (!store || !path || *n >= max)
            continue;
        sm_source *src = &out[*n];
        memset(src, 0, sizeof *src);
        if (snprintf(src->path, sizeof src->path, "%s/%s", path, mrel) >= (int)sizeof src->path)
            continue;
        snprintf(src->store, sizeof src->store, "%s", store);
        int t = sm_tier_parse(sm_col_text(s, 2));
        src->tier = t < 0 ? SM_TIER_WARM : (sm_tier)t;
        (*n)++;
    }
    sm_stmt_reset(s);
    if (r < 0)
        return err && err->code ? err->code : SP_EIO;
    if (piece_dir && *n < max) {
        sm_source *src = &out[*n];
        memset(src, 0, sizeof *src);
        if (snprintf(src->path, sizeof src->path, "%s/%s", piece_dir, cid) < (int)sizeof src->path &&
            sp_path_exists(src->path)) {
            src->piece_store = true;
            src->tier = SM_TIER_HOT;
            (*n)++;
        }
    }
    return SP_OK;
}
