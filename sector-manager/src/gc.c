/* gc.c — garbage collection: pins, marks, approval, sweep into a per-store trash and
 * deletion after the retention period (contract in sm_gc.h). */
#include "sm_gc.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sm_copies.h"
#include "sm_jobs.h"
#include "sm_objects.h"
#include "sm_sectors.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define TRASH ".trash"

static sp_code step_err(sp_err *err)
{
    return err && err->code ? err->code : SP_EIO;
}

/* ---- pins ------------------------------------------------------------------------------------- */

static const char SQL_PINNED[] = "SELECT 1 FROM pins WHERE target = ?1";
static const char SQL_PIN[] =
    "INSERT INTO pins (target, created_ms, note) VALUES (?1, ?2, ?3) ON CONFLICT (target) DO UPDATE SET note = ?3";
static const char SQL_UNPIN[] = "DELETE FROM pins WHERE target = ?1";
static const char SQL_PINS[] = "SELECT target FROM pins ORDER BY target";

static bool sector_name(const char *t)
{
    unsigned long long m, n;
    int len = 0;
    return sscanf(t, "s-t0%llu-%llu%n", &m, &n, &len) == 2 && t[len] == 0 && t[4] >= '0' && t[4] <= '9';
}

static bool piece_name(const char *t)
{
    uint8_t comm[32];
    char canon[PF_COMMCID_STR_MAX];
    return strlen(t) < PF_COMMCID_STR_MAX &&
           pf_commcid_decode(t, PF_COMM_UNSEALED, comm, NULL, NULL) == PF_OK &&
           pf_commcid_encode(PF_COMM_UNSEALED, comm, canon, sizeof canon, NULL) == PF_OK &&
           strcmp(canon, t) == 0;
}

bool sm_gc_target_valid(const char *t)
{
    if (!t || !*t || strlen(t) >= 300)
        return false;
    if (sector_name(t) || piece_name(t))
        return true;
    if (strncmp(t, "orphan:", 7) != 0)
        return false;
    const char *p = t + 7, *slash = strchr(p, '/');
    if (!slash || slash == p)
        return false;
    char store[SM_STORE_NAME_MAX];
    snprintf(store, sizeof store, "%.*s", (int)(slash - p), p);
    if (!sm_store_name_valid(store))
        return false;
    for (const char *c = slash + 1; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '-' || *c == '_' || *c == '/'))
            return false;
    return !strstr(slash, "/../") && !strstr(slash, "/./") && strcmp(slash + strlen(slash) - 3, "/..");
}

bool sm_gc_pinned(sm_db *db, const sm_storage_conf *sc, const char *target)
{
    if (sc && sm_policy_pinned(sc, target))
        return true;
    sm_stmt *s;
    if (sm_db_stmt(db, SQL_PINNED, &s, NULL) != SP_OK)
        return true; /* when in doubt, keep */
    sm_bind_text(s, 1, target);
    int r = sm_step(s, NULL);
    sm_stmt_reset(s);
    return r != 0;
}

sp_code sm_gc_pin(sm_db *db, const char *target, const char *note, sp_err *err)
{
    if (!sm_gc_target_valid(target))
        return sp_fail(err, SP_EINVAL, "\"%.80s\" is not a sector (s-t01000-5), a piece CID or an "
                       "orphan (orphan:<store>/<path>, as `gc list` shows it)", target);
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_PIN, &s, err)))
        goto fail;
    sm_bind_text(s, 1, target);
    sm_bind_i64(s, 2, (int64_t)sp_wall_ms());
    sm_bind_text(s, 3, note ? note : "");
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_gc_unpin(sm_db *db, const char *target, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_UNPIN, &s, err)))
        goto fail;
    sm_bind_text(s, 1, target);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    if (sm_db_changes(db) == 0) {
        rc = sp_fail(err, SP_ENOTFOUND, "%.80s is not pinned (pins of manager.cfg are removed there)", target);
        goto fail;
    }
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

sp_code sm_gc_pins(sm_db *db, char (**out)[300], size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_PINS, &s, err);
    if (rc)
        return rc;
    size_t cap = 0;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char (*nv)[300] = realloc(*out, cap * sizeof **out);
            if (!nv) {
                sm_stmt_reset(s);
                free(*out);
                *out = NULL;
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "out of memory");
            }
            *out = nv;
        }
        snprintf((*out)[(*n)++], 300, "%s", sm_col_text(s, 0) ? sm_col_text(s, 0) : "");
    }
    sm_stmt_reset(s);
    return r < 0 ? step_err(err) : SP_OK;
}

/* ---- marks -------------------------------------------------------------------------------------- */

#define MARK_COLS "id, store, path, object_id, target, reason, size, state, trash, note, marked_ms, " \
                  "approved_ms, trashed_ms, done_ms"

static void row_to_mark(sm_stmt *s, sm_gc_mark *m)
{
    memset(m, 0, sizeof *m);
    const char *x;
    m->id = sm_col_i64(s, 0);
    snprintf(m->store, sizeof m->store, "%s", (x = sm_col_text(s, 1)) ? x : "");
    snprintf(m->path, sizeof m->path, "%s", (x = sm_col_text(s, 2)) ? x : "");
    m->object_id = sm_col_i64(s, 3);
    snprintf(m->target, sizeof m->target, "%s", (x = sm_col_text(s, 4)) ? x : "");
    snprintf(m->reason, sizeof m->reason, "%s", (x = sm_col_text(s, 5)) ? x : "");
    m->size = (uint64_t)sm_col_i64(s, 6);
    snprintf(m->state, sizeof m->state, "%s", (x = sm_col_text(s, 7)) ? x : "");
    snprintf(m->trash, sizeof m->trash, "%s", (x = sm_col_text(s, 8)) ? x : "");
    snprintf(m->note, sizeof m->note, "%s", (x = sm_col_text(s, 9)) ? x : "");
    m->marked_ms = (uint64_t)sm_col_i64(s, 10);
    m->approved_ms = (uint64_t)sm_col_i64(s, 11);
    m->trashed_ms = (uint64_t)sm_col_i64(s, 12);
    m->done_ms = (uint64_t)sm_col_i64(s, 13);
}

static const char SQL_LIST_LIVE[] =
    "SELECT " MARK_COLS " FROM gc_marks WHERE state IN ('marked', 'approved', 'trashed') ORDER BY id";
static const char SQL_LIST_STATE[] = "SELECT " MARK_COLS " FROM gc_marks WHERE state = ?1 ORDER BY id";
static const char SQL_MARK[] =
    "INSERT OR IGNORE INTO gc_marks (store, path, object_id, target, reason, size, state, marked_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'marked', ?7)";
static const char SQL_APPROVE_ONE[] =
    "UPDATE gc_marks SET state = 'approved', approved_ms = ?2 WHERE id = ?1 AND state = 'marked'";
static const char SQL_APPROVE_ALL[] =
    "UPDATE gc_marks SET state = 'approved', approved_ms = ?1 WHERE state = 'marked'";
static const char SQL_MARK_STATE[] =
    "UPDATE gc_marks SET state = ?2, note = ?3, trash = coalesce(?4, trash), "
    "trashed_ms = CASE WHEN ?2 = 'trashed' THEN ?5 ELSE trashed_ms END, "
    "done_ms = CASE WHEN ?2 IN ('deleted', 'cancelled') THEN ?5 ELSE done_ms END WHERE id = ?1";

sp_code sm_gc_list(sm_db *db, const char *state, sm_gc_mark **out, size_t *n, sp_err *err)
{
    *out = NULL;
    *n = 0;
    sm_stmt *s;
    bool all = !state || !*state;
    sp_code rc = sm_db_stmt(db, all ? SQL_LIST_LIVE : SQL_LIST_STATE, &s, err);
    if (rc)
        return rc;
    if (!all)
        sm_bind_text(s, 1, state);
    size_t cap = 0;
    int r;
    while ((r = sm_step(s, err)) == 1) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            sm_gc_mark *nv = realloc(*out, cap * sizeof **out);
            if (!nv) {
                sm_stmt_reset(s);
                free(*out);
                *out = NULL;
                *n = 0;
                return sp_fail(err, SP_ENOMEM, "out of memory");
            }
            *out = nv;
        }
        row_to_mark(s, &(*out)[(*n)++]);
    }
    sm_stmt_reset(s);
    if (r < 0) {
        free(*out);
        *out = NULL;
        *n = 0;
        return step_err(err);
    }
    return SP_OK;
}

sp_code sm_gc_approve(sm_db *db, const int64_t *ids, size_t n, int *approved, sp_err *err)
{
    *approved = 0;
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    int64_t now = (int64_t)sp_wall_ms();
    if (n == 0) {
        if ((rc = sm_db_stmt(db, SQL_APPROVE_ALL, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, now);
        if ((rc = sm_step_done(s, err)))
            goto fail;
        *approved = (int)sm_db_changes(db);
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = sm_db_stmt(db, SQL_APPROVE_ONE, &s, err)))
            goto fail;
        sm_bind_i64(s, 1, ids[i]);
        sm_bind_i64(s, 2, now);
        if ((rc = sm_step_done(s, err)))
            goto fail;
        if (sm_db_changes(db) == 0) {
            rc = sp_fail(err, SP_ENOTFOUND, "GC mark %" PRId64 " does not exist or is not waiting for "
                         "approval (see `gc list`)", ids[i]);
            goto fail;
        }
        (*approved)++;
    }
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

static sp_code set_mark_state(sm_db *db, int64_t id, const char *state, const char *note,
                              const char *trash, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_WRITE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_MARK_STATE, &s, err)))
        goto fail;
    sm_bind_i64(s, 1, id);
    sm_bind_text(s, 2, state);
    sm_bind_text(s, 3, note);
    sm_bind_text(s, 4, trash);
    sm_bind_i64(s, 5, (int64_t)sp_wall_ms());
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* ---- what may go --------------------------------------------------------------------------------- */

typedef struct gc_ctx {
    sm_job_ctx *job;
    sm_store_info *stores;
    size_t n_stores;
    uint64_t now;
} gc_ctx;

static const sm_store_info *store_of(const gc_ctx *g, const char *name)
{
    for (size_t i = 0; i < g->n_stores; i++)
        if (strcmp(g->stores[i].def.name, name) == 0)
            return &g->stores[i];
    return NULL;
}

/* Healthy, and its files are really there: GC never trusts a record alone when deciding
 * that another replica is redundant. */
static bool healthy(const gc_ctx *g, const sm_object *o, const sm_replica *r)
{
    const sm_store_info *s = store_of(g, r->store);
    if (strcmp(r->state, "ok") != 0 || !s || !s->reachable || sm_store_cooling(s, g->now))
        return false;
    bool p_aux, tree_r;
    int64_t size = sm_replica_disk_size(s->def.path, o, &p_aux, &tree_r);
    return o->kind == SM_KIND_UNSEALED ? size == (int64_t)o->size : size >= 0 && p_aux && tree_r;
}

/* True when the object keeps every replica the policy wants without the one on `without`. */
static bool whole_without(const gc_ctx *g, const sm_object *o, const sm_replica *reps, size_t nr,
                          const char *without)
{
    unsigned want[SM_TIER_COUNT], have[SM_TIER_COUNT] = { 0 };
    sm_policy_want(&g->job->conf->storage, o->kind, o->moves, want);
    for (size_t i = 0; i < nr; i++)
        if ((!without || strcmp(reps[i].store, without) != 0) && healthy(g, o, &reps[i]))
            have[reps[i].tier]++;
    for (int t = 0; t < SM_TIER_COUNT; t++)
        if (have[t] < want[t])
            return false;
    return true;
}

/* The reason an object's replica on `store` may go, or NULL. */
static const char *replica_garbage(const gc_ctx *g, const sm_object *o, const sm_replica *reps,
                                   size_t nr, const sm_replica *r, char *buf, size_t len)
{
    if (o->kind == SM_KIND_SEALED) {
        sm_sector s;
        if (sm_sectors_load(g->job->db, o->miner, o->number, &s, NULL) == SP_OK && s.aborted &&
            strcmp(s.state, "Proving") != 0) {
            snprintf(buf, len, "sector aborted: %.200s", s.abort_reason[0] ? s.abort_reason : "no reason");
            return buf;
        }
    }
    if (strcmp(r->state, "corrupt") == 0 && whole_without(g, o, reps, nr, r->store)) {
        snprintf(buf, len, "failed scrub (%.160s) and the object is whole elsewhere",
                 r->finding[0] ? r->finding : "corrupt");
        return buf;
    }
    if (healthy(g, o, r) && whole_without(g, o, reps, nr, r->store)) {
        unsigned want[SM_TIER_COUNT];
        sm_policy_want(&g->job->conf->storage, o->kind, o->moves, want);
        snprintf(buf, len, "excess replica: the policy wants %u on %s and the others have them",
                 want[r->tier], sm_tier_name(r->tier));
        return buf;
    }
    return NULL;
}

static void mark(gc_ctx *g, const char *store, const char *path, int64_t oid, const char *target,
                 const char *reason, uint64_t size)
{
    sm_db *db = g->job->db;
    sp_err e;
    if (sm_db_begin(db, SM_TX_WRITE, &e) != SP_OK)
        return;
    sm_stmt *s;
    if (sm_db_stmt(db, SQL_MARK, &s, &e) != SP_OK) {
        sm_db_rollback(db);
        return;
    }
    sm_bind_text(s, 1, store);
    sm_bind_text(s, 2, path);
    if (oid > 0)
        sm_bind_i64(s, 3, oid);
    else
        sm_bind_null(s, 3);
    sm_bind_text(s, 4, target);
    sm_bind_text(s, 5, reason);
    sm_bind_i64(s, 6, (int64_t)size);
    sm_bind_i64(s, 7, (int64_t)sp_wall_ms());
    if (sm_step_done(s, &e) != SP_OK) {
        sm_db_rollback(db);
        return;
    }
    bool fresh = sm_db_changes(db) > 0;
    if (sm_db_commit(db, &e) != SP_OK || !fresh)
        return;
    SP_INFO("gc: marked %s:%s (%s)", store, path, reason);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToArray(sm_jobs_list(g->job, "Marked"), a);
    sp_json_add_str(a, "Store", store, NULL);
    sp_json_add_str(a, "Path", path, NULL);
    sp_json_add_str(a, "Reason", reason, NULL);
}

static void mark_objects(gc_ctx *g)
{
    int64_t after = 0;
    for (;;) {
        sm_object *v = NULL;
        size_t n = 0;
        if (sm_objects_list(g->job->db, after, 128, &v, &n, NULL) != SP_OK)
            return;
        for (size_t i = 0; i < n; i++) {
            const sm_object *o = &v[i];
            after = o->id;
            if (sm_gc_pinned(g->job->db, &g->job->conf->storage, o->name) || sm_copies_busy(g->job->db, o->id))
                continue;
            sm_replica *reps = NULL;
            size_t nr = 0;
            if (sm_objects_replicas(g->job->db, o->id, &reps, &nr, NULL) != SP_OK)
                continue;
            char mrel[256], crel[256];
            if (sm_object_paths(o, mrel, sizeof mrel, crel, sizeof crel, NULL) == SP_OK) {
                /* Excess replicas go one at a time: each mark leaves the object whole. */
                for (size_t j = 0; j < nr; j++) {
                    char why[300];
                    const char *r = replica_garbage(g, o, reps, nr, &reps[j], why, sizeof why);
                    if (!r)
                        continue;
                    mark(g, reps[j].store, mrel, o->id, o->name, r, reps[j].size);
                    /* count it gone for the next replica's check */
                    snprintf(reps[j].state, sizeof reps[j].state, "marked");
                }
            }
            free(reps);
        }
        free(v);
        if (n < 128)
            return;
    }
}

/* ---- orphans ------------------------------------------------------------------------------------ */

static int64_t tree_size(const char *path, int depth)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return st.st_size;
    if (depth > 4)
        return 0;
    DIR *d = opendir(path);
    if (!d)
        return 0;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char f[PATH_MAX];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
            snprintf(f, sizeof f, "%s/%s", path, e->d_name) >= (int)sizeof f)
            continue;
        total += tree_size(f, depth + 1);
    }
    closedir(d);
    return total;
}

static const char SQL_KNOWN_SEALED[] =
    "SELECT 1 FROM replicas r JOIN objects o ON o.id = r.object_id WHERE r.store = ?1 AND "
    "o.kind = ?2 AND o.name = ?3 "
    "UNION ALL SELECT 1 FROM reservations WHERE store = ?1 AND ?2 = 'sealed' AND "
    "'s-t0' || miner || '-' || number = ?3 "
    "UNION ALL SELECT 1 FROM unseal_tasks WHERE dest = ?1 AND ?2 = 'unsealed' AND piece_cid = ?3 "
    "AND state IN ('assigned', 'uploaded') LIMIT 1";

/* True when a record still wants this file: a replica, a reservation (a persist in
 * flight) or an unseal task writing it. */
static bool referenced(sm_db *db, const char *store, const char *kind, const char *name)
{
    sm_stmt *s;
    if (sm_db_stmt(db, SQL_KNOWN_SEALED, &s, NULL) != SP_OK)
        return true;
    sm_bind_text(s, 1, store);
    sm_bind_text(s, 2, kind);
    sm_bind_text(s, 3, name);
    int r = sm_step(s, NULL);
    sm_stmt_reset(s);
    return r != 0;
}

static bool copy_open(sm_db *db, const char *name)
{
    long long id = 0;
    if (sscanf(name, ".copy-%lld.", &id) != 1)
        return false;
    sm_copy *v = NULL;
    size_t n = 0;
    bool open = true;
    if (sm_copies_open(db, &v, &n, NULL) == SP_OK) {
        open = false;
        for (size_t i = 0; i < n; i++)
            open |= v[i].id == id;
    }
    free(v);
    return open;
}

static void mark_orphans(gc_ctx *g, const sm_store_info *st)
{
    static const char *const dirs[] = { "sealed", "cache", "unsealed" };
    uint64_t now_s = g->now / 1000, age_s = g->job->conf->storage.gc_orphan_age_ms / 1000;
    for (int k = 0; k < 3; k++) {
        char dir[PATH_MAX];
        if (snprintf(dir, sizeof dir, "%s/%s", st->def.path, dirs[k]) >= (int)sizeof dir)
            continue;
        DIR *d = opendir(dir);
        if (!d)
            continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            const char *name = e->d_name;
            char path[PATH_MAX], rel[300], target[300];
            struct stat sb;
            if (!strcmp(name, ".") || !strcmp(name, "..") ||
                snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path ||
                snprintf(rel, sizeof rel, "%s/%s", dirs[k], name) >= (int)sizeof rel ||
                lstat(path, &sb) != 0)
                continue;
            if ((uint64_t)sb.st_mtim.tv_sec + age_s > now_s)
                continue; /* young: maybe being written */
            if (name[0] == '.' ? copy_open(g->job->db, name)
                               : referenced(g->job->db, st->def.name, k == 2 ? "unsealed" : "sealed", name))
                continue;
            if (snprintf(target, sizeof target, "orphan:%s/%s", st->def.name, rel) >= (int)sizeof target ||
                !sm_gc_target_valid(target) || sm_gc_pinned(g->job->db, &g->job->conf->storage, target))
                continue;
            mark(g, st->def.name, rel, 0, target, "orphan: no record names this file",
                 (uint64_t)tree_size(path, 0));
        }
        closedir(d);
    }
}

sp_code sm_job_gc_mark(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    (void)req;
    gc_ctx g = { .job = ctx, .now = sp_wall_ms() };
    sp_code rc = sm_stores_list(ctx->db, &g.stores, &g.n_stores, err);
    if (rc)
        return rc;
    sm_jobs_list(ctx, "Marked");
    mark_objects(&g);
    for (size_t i = 0; i < g.n_stores && !(ctx->stop && *ctx->stop); i++)
        if (g.stores[i].reachable && !sm_store_cooling(&g.stores[i], g.now))
            mark_orphans(&g, &g.stores[i]);
    free(g.stores);
    return SP_OK;
}

/* ---- sweep --------------------------------------------------------------------------------------- */

/* The reason a mark no longer holds, or NULL when its files may go. */
static const char *still_garbage(gc_ctx *g, const sm_gc_mark *m, char *buf, size_t len)
{
    if (sm_gc_pinned(g->job->db, &g->job->conf->storage, m->target))
        return "pinned";
    if (!m->object_id) {
        const char *slash = strchr(m->path, '/');
        bool uns = strncmp(m->path, "unsealed/", 9) == 0;
        if (slash && slash[1] != '.' &&
            referenced(g->job->db, m->store, uns ? "unsealed" : "sealed", slash + 1))
            return "a record names the file now";
        return NULL;
    }
    sm_object o;
    if (sm_objects_get_id(g->job->db, m->object_id, &o, NULL) != SP_OK)
        return NULL;
    if (sm_copies_busy(g->job->db, o.id))
        return "a copy of the object is in flight";
    sm_replica *reps = NULL;
    size_t nr = 0;
    if (sm_objects_replicas(g->job->db, o.id, &reps, &nr, NULL) != SP_OK)
        return "cannot read the replicas";
    const sm_replica *r = NULL;
    for (size_t i = 0; i < nr; i++)
        if (strcmp(reps[i].store, m->store) == 0)
            r = &reps[i];
    const char *why = r ? (replica_garbage(g, &o, reps, nr, r, buf, len) ? NULL
                                                                         : "the replica is needed again")
                        : NULL;
    free(reps);
    return why;
}

static sp_code move_to_trash(const sm_store_info *st, const sm_gc_mark *m, char *trash_rel,
                             size_t len, sp_err *err)
{
    char paths[2][300];
    size_t np = 0;
    snprintf(paths[np++], sizeof paths[0], "%s", m->path);
    if (m->object_id && strncmp(m->path, "sealed/", 7) == 0)
        snprintf(paths[np++], sizeof paths[0], "cache/%s", m->path + 7);
    snprintf(trash_rel, len, "%s/%" PRId64, TRASH, m->id);
    for (size_t i = 0; i < np; i++) {
        char from[PATH_MAX], to[PATH_MAX], todir[PATH_MAX];
        const char *slash = strchr(paths[i], '/');
        if (snprintf(from, sizeof from, "%s/%s", st->def.path, paths[i]) >= (int)sizeof from ||
            snprintf(to, sizeof to, "%s/%s/%s", st->def.path, trash_rel, paths[i]) >= (int)sizeof to ||
            snprintf(todir, sizeof todir, "%s/%s/%.*s", st->def.path, trash_rel,
                     (int)(slash ? slash - paths[i] : 0), paths[i]) >= (int)sizeof todir)
            return sp_fail(err, SP_EINVAL, "gc: path too long in store %s", st->def.name);
        if (!sp_path_exists(from))
            continue; /* already gone (or moved by an interrupted sweep) */
        sp_code rc = sp_mkdir_p(todir, 0755, err);
        if (rc)
            return rc;
        if (rename(from, to) != 0)
            return sp_fail_errno(err, errno, "gc: moving %s to the trash", from);
    }
    char tdir[PATH_MAX];
    if (snprintf(tdir, sizeof tdir, "%s/%s", st->def.path, TRASH) < (int)sizeof tdir)
        sp_fsync_dir(tdir, NULL);
    return SP_OK;
}

sp_code sm_job_gc_sweep(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    (void)req;
    gc_ctx g = { .job = ctx, .now = sp_wall_ms() };
    sm_gc_mark *v = NULL;
    size_t n = 0;
    sp_code rc = sm_stores_list(ctx->db, &g.stores, &g.n_stores, err);
    if (rc)
        return rc;
    if ((rc = sm_gc_list(ctx->db, NULL, &v, &n, err))) {
        free(g.stores);
        return rc;
    }
    sm_jobs_list(ctx, "Trashed");
    sm_jobs_list(ctx, "Deleted");
    uint64_t retention = ctx->conf->storage.gc_retention_ms;
    for (size_t i = 0; i < n && !rc && !(ctx->stop && *ctx->stop); i++) {
        sm_gc_mark *m = &v[i];
        const sm_store_info *st = store_of(&g, m->store);
        if (!st || !st->reachable)
            continue; /* its store is away: later */
        char buf[300];
        if (strcmp(m->state, "approved") == 0) {
            const char *why = still_garbage(&g, m, buf, sizeof buf);
            if (why) {
                SP_INFO("gc: mark %" PRId64 " (%s:%s) cancelled: %s", m->id, m->store, m->path, why);
                rc = set_mark_state(ctx->db, m->id, "cancelled", why, NULL, err);
                sm_jobs_count(ctx, "Cancelled", 1);
                continue;
            }
            if (m->object_id) {
                if ((rc = sm_db_begin(ctx->db, SM_TX_WRITE, err)))
                    break;
                if ((rc = sm_replica_delete_in(ctx->db, m->object_id, m->store, err)) ||
                    (rc = sm_db_commit(ctx->db, err))) {
                    sm_db_rollback(ctx->db);
                    break;
                }
            }
            char trash[300];
            if ((rc = move_to_trash(st, m, trash, sizeof trash, err)))
                break;
            if ((rc = set_mark_state(ctx->db, m->id, "trashed", NULL, trash, err)))
                break;
            SP_INFO("gc: %s:%s moved to %s (%s)", m->store, m->path, trash, m->reason);
            cJSON *a = cJSON_CreateObject();
            cJSON_AddItemToArray(sm_jobs_list(ctx, "Trashed"), a);
            sp_json_add_u64(a, "ID", (uint64_t)m->id, NULL);
            sp_json_add_str(a, "Store", m->store, NULL);
            sp_json_add_str(a, "Path", m->path, NULL);
        } else if (strcmp(m->state, "trashed") == 0 && m->trashed_ms + retention <= g.now) {
            if (sm_gc_pinned(ctx->db, &ctx->conf->storage, m->target)) {
                sm_jobs_count(ctx, "KeptPinned", 1);
                continue; /* stays in the trash while pinned */
            }
            char path[PATH_MAX];
            if (!m->trash[0] || strncmp(m->trash, TRASH "/", sizeof TRASH) != 0 ||
                snprintf(path, sizeof path, "%s/%s", st->def.path, m->trash) >= (int)sizeof path)
                continue;
            if ((rc = sp_remove_tree(path, err)))
                break;
            if ((rc = set_mark_state(ctx->db, m->id, "deleted", NULL, NULL, err)))
                break;
            SP_INFO("gc: deleted %s:%s after the retention period", m->store, m->path);
            cJSON *a = cJSON_CreateObject();
            cJSON_AddItemToArray(sm_jobs_list(ctx, "Deleted"), a);
            sp_json_add_u64(a, "ID", (uint64_t)m->id, NULL);
            sp_json_add_str(a, "Store", m->store, NULL);
            sp_json_add_str(a, "Path", m->path, NULL);
        }
    }
    free(v);
    free(g.stores);
    return rc;
}
