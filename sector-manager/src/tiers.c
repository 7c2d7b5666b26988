/* tiers.c — tier moves: the move rules of storage.moves pick replicas standing for the
 * `from` tier by age, idle time (not read for that long) or fullness (a store above its
 * high watermark sheds its least recently read objects until the low watermark), and
 * each is moved to a store of the `to` tier in a failure domain the object's other
 * replicas do not use: copy, verify, record, then delete the source (sm_copies.h).
 * Pinned objects never move.  A rule's target tier without room is reported, and the
 * replica stays where it is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_copies.h"
#include "sm_gc.h"
#include "sm_jobs.h"
#include "sm_objects.h"
#include "sm_placement.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define BATCH 256

typedef struct mv_ctx {
    sm_job_ctx *job;
    sm_store_info *stores;
    size_t n_stores;
    uint64_t now;
} mv_ctx;

static sm_store_info *store_of(mv_ctx *m, const char *name)
{
    for (size_t i = 0; i < m->n_stores; i++)
        if (strcmp(m->stores[i].def.name, name) == 0)
            return &m->stores[i];
    return NULL;
}

/* Percent of a store in use (capacity, else the file system). */
static unsigned used_pct(const sm_store_info *s)
{
    uint64_t total = s->def.capacity ? s->def.capacity : s->fs_total;
    if (!total)
        return 0;
    uint64_t avail = s->available < total ? s->available : total;
    return (unsigned)((total - avail) * 100 / total);
}

/* Moves the object's replica on `from_store` to the rule's tier. */
static sp_code move_one(mv_ctx *m, const sm_move_rule *rule, const sm_object *o, const sm_replica *reps,
                        size_t nr, const sm_replica *src, const char *why, sp_err *err)
{
    sm_job_ctx *ctx = m->job;
    const char *avoid_d[32], *avoid_s[32];
    char dom[32][160];
    size_t nd = 0, ns = 0;
    for (size_t i = 0; i < nr && nd < 32; i++) {
        if (&reps[i] == src || strcmp(reps[i].state, "ok") != 0)
            continue;
        const sm_store_info *s = store_of(m, reps[i].store);
        if (!s)
            continue;
        char tmp[160];
        snprintf(dom[nd], sizeof dom[nd], "%s", sm_store_domain(&s->def, tmp, sizeof tmp));
        avoid_d[nd] = dom[nd];
        nd++;
        avoid_s[ns++] = reps[i].store;
    }
    avoid_s[ns++] = src->store;
    sm_tier to = rule->to;
    sm_place_req req = { .types = sm_kind_types(o->kind), .has_miner = o->kind == SM_KIND_SEALED,
                         .miner = o->miner, .size = o->size, .tiers = &to, .n_tiers = 1,
                         .avoid_domains = avoid_d, .n_avoid_domains = nd, .avoid_stores = avoid_s,
                         .n_avoid_stores = ns, .need_reachable = true, .now_ms = m->now };
    char whyp[256];
    ssize_t dst = sm_place_pick(m->stores, m->n_stores, &req, NULL, whyp, sizeof whyp);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToArray(sm_jobs_list(ctx, dst < 0 ? "Stuck" : "Moves"), a);
    sp_json_add_str(a, "Object", o->name, NULL);
    sp_json_add_str(a, "Kind", sm_kind_name(o->kind), NULL);
    sp_json_add_str(a, "From", src->store, NULL);
    sp_json_add_str(a, "Tier", sm_tier_name(to), NULL);
    sp_json_add_str(a, "Reason", why, NULL);
    if (dst < 0) {
        sp_json_add_str(a, "Error", whyp, NULL);
        return SP_OK;
    }
    sp_json_add_str(a, "To", m->stores[dst].def.name, NULL);
    sm_copy c = { .object_id = o->id, .tier = to, .move = true, .size = o->size };
    snprintf(c.src, sizeof c.src, "%s", src->store);
    snprintf(c.dst, sizeof c.dst, "%s", m->stores[dst].def.name);
    snprintf(c.move_from, sizeof c.move_from, "%s", sm_tier_name(rule->from));
    snprintf(c.reason, sizeof c.reason, "move %s>%s: %s", sm_tier_name(rule->from), sm_tier_name(to), why);
    int64_t id = 0;
    sp_code rc = sm_db_begin(ctx->db, SM_TX_DURABLE, err);
    if (rc)
        return rc;
    if ((rc = sm_copies_plan_in(ctx->db, &c, &id, err)) || (rc = sm_db_commit(ctx->db, err))) {
        sm_db_rollback(ctx->db);
        return rc;
    }
    m->stores[dst].copying += o->size;
    sp_err e;
    sp_code cr = sm_jobs_run_copy(ctx, id, &e);
    sp_json_add_u64(a, "Copy", (uint64_t)id, NULL);
    sp_json_add_str(a, "Result", cr ? e.msg : "done", NULL);
    if (cr == SP_EBUSY)
        return sp_fail(err, SP_EBUSY, "stopped");
    if (cr == SP_OK) {
        m->stores[dst].copying -= o->size;
        /* the source store has that much more room now */
        sm_store_info *s = store_of(m, src->store);
        if (s)
            s->available += src->size;
        sm_jobs_count(ctx, "Moved", 1);
    }
    return SP_OK;
}

/* Age and idle rules: every matching replica standing for the `from` tier. */
static sp_code apply_time_rule(mv_ctx *m, const sm_move_rule *rule, sp_err *err)
{
    sm_job_ctx *ctx = m->job;
    int64_t after = 0;
    for (;;) {
        sm_object *v = NULL;
        size_t n = 0;
        sp_code rc = sm_objects_list(ctx->db, after, BATCH, &v, &n, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < n && !rc; i++) {
            const sm_object *o = &v[i];
            after = o->id;
            if (ctx->stop && *ctx->stop) {
                rc = sp_fail(err, SP_EBUSY, "stopped");
                break;
            }
            if (o->kind != rule->kind || (rule->age_ms && m->now - o->created_ms < rule->age_ms) ||
                (rule->idle_ms && m->now - o->accessed_ms < rule->idle_ms))
                continue;
            if (sm_gc_pinned(ctx->db, &ctx->conf->storage, o->name) || sm_copies_busy(ctx->db, o->id))
                continue;
            sm_replica *reps = NULL;
            size_t nr = 0;
            if ((rc = sm_objects_replicas(ctx->db, o->id, &reps, &nr, err)))
                break;
            char why[96];
            snprintf(why, sizeof why, "%s", rule->idle_ms ? "not read for the idle time" : "old enough");
            for (size_t j = 0; j < nr && !rc; j++) {
                sm_store_info *s = store_of(m, reps[j].store);
                if (reps[j].tier != rule->from || strcmp(reps[j].state, "ok") != 0 || !s || !s->reachable)
                    continue;
                rc = move_one(m, rule, o, reps, nr, &reps[j], why, err);
            }
            free(reps);
        }
        free(v);
        if (rc || n < BATCH)
            return rc;
    }
}

static const char SQL_LRU_ON[] =
    "SELECT o.id FROM replicas r JOIN objects o ON o.id = r.object_id WHERE r.store = ?1 AND "
    "r.state = 'ok' AND r.tier = ?2 AND o.kind = ?3 ORDER BY o.accessed_ms, o.id LIMIT 512";

/* Fullness rules: stores of the `from` tier above high% shed least recently read objects. */
static sp_code apply_watermark_rule(mv_ctx *m, const sm_move_rule *rule, sp_err *err)
{
    sm_job_ctx *ctx = m->job;
    for (size_t k = 0; k < m->n_stores; k++) {
        sm_store_info *st = &m->stores[k];
        if (sm_tier_parse(st->def.tier) != (int)rule->from || !st->reachable || used_pct(st) <= rule->high_pct)
            continue;
        int64_t ids[512];
        size_t n = 0;
        sm_stmt *s;
        sp_code rc = sm_db_stmt(ctx->db, SQL_LRU_ON, &s, err);
        if (rc)
            return rc;
        sm_bind_text(s, 1, st->def.name);
        sm_bind_text(s, 2, sm_tier_name(rule->from));
        sm_bind_text(s, 3, sm_kind_name(rule->kind));
        while (n < 512 && sm_step(s, err) == 1)
            ids[n++] = sm_col_i64(s, 0);
        sm_stmt_reset(s);
        for (size_t i = 0; i < n && used_pct(st) > rule->low_pct; i++) {
            if (ctx->stop && *ctx->stop)
                return sp_fail(err, SP_EBUSY, "stopped");
            sm_object o;
            if (sm_objects_get_id(ctx->db, ids[i], &o, err) != SP_OK ||
                sm_gc_pinned(ctx->db, &ctx->conf->storage, o.name) || sm_copies_busy(ctx->db, o.id))
                continue;
            sm_replica *reps = NULL;
            size_t nr = 0;
            if ((rc = sm_objects_replicas(ctx->db, o.id, &reps, &nr, err)))
                return rc;
            char why[200];
            snprintf(why, sizeof why, "store %s is %u%% full (high watermark %u%%)", st->def.name,
                     used_pct(st), rule->high_pct);
            for (size_t j = 0; j < nr && !rc; j++)
                if (strcmp(reps[j].store, st->def.name) == 0)
                    rc = move_one(m, rule, &o, reps, nr, &reps[j], why, err);
            free(reps);
            if (rc)
                return rc;
        }
    }
    return SP_OK;
}

sp_code sm_job_moves(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    (void)req;
    mv_ctx m = { .job = ctx, .now = sp_wall_ms() };
    sp_code rc = sm_stores_list(ctx->db, &m.stores, &m.n_stores, err);
    if (rc)
        return rc;
    sm_jobs_list(ctx, "Moves");
    const sm_storage_conf *sc = &ctx->conf->storage;
    for (size_t i = 0; i < sc->n_moves && !rc; i++) {
        const sm_move_rule *rule = &sc->moves[i];
        if (rule->high_pct)
            rc = apply_watermark_rule(&m, rule, err);
        else
            rc = apply_time_rule(&m, rule, err);
    }
    free(m.stores);
    return rc;
}
