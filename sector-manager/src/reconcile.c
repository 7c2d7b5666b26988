/* reconcile.c — the reconciler: for every object, counts its healthy replicas per tier
 * against the policy (moves applied) and restores what is missing by copying from a
 * healthy replica (or, for deal data without one, from the piece store) to stores in
 * failure domains no other replica uses.  Healthy = state ok, on a store that exists,
 * is reachable and is not cooling down after a failed heartbeat: so a vanished store, a
 * replica that failed scrub, and a policy change are all the same case.  A piece with no
 * copy left gets an unseal task; a sealed sector with none is reported lost.  Excess
 * replicas are reported (GC marks them).  A dry run (`replicas fix`) only reports the
 * plan; apply (`--apply`, and the periodic run) records each copy in the journal and
 * carries it out. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_copies.h"
#include "sm_jobs.h"
#include "sm_objects.h"
#include "sm_placement.h"
#include "sm_unseal.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define BATCH 128
#define MAX_REPS 32

typedef struct rec_ctx {
    sm_job_ctx *job;
    bool apply;
    sm_store_info *stores;
    size_t n_stores;
    uint64_t now;
} rec_ctx;

static const sm_store_info *store_of(const rec_ctx *r, const char *name)
{
    for (size_t i = 0; i < r->n_stores; i++)
        if (strcmp(r->stores[i].def.name, name) == 0)
            return &r->stores[i];
    return NULL;
}

static bool healthy(const rec_ctx *r, const sm_replica *rep)
{
    const sm_store_info *s = store_of(r, rep->store);
    return strcmp(rep->state, "ok") == 0 && s && s->reachable && !sm_store_cooling(s, r->now);
}

static cJSON *action(rec_ctx *r, const sm_object *o, const char *list)
{
    cJSON *a = cJSON_CreateObject();
    cJSON_AddItemToArray(sm_jobs_list(r->job, list), a);
    sp_json_add_str(a, "Object", o->name, NULL);
    sp_json_add_str(a, "Kind", sm_kind_name(o->kind), NULL);
    return a;
}

/* Drops the records of replicas whose files are gone once the object is whole again. */
static void forget_missing(rec_ctx *r, const sm_object *o, const sm_replica *reps, size_t nr)
{
    for (size_t i = 0; i < nr; i++) {
        if (strcmp(reps[i].state, "missing") != 0)
            continue;
        sp_err e;
        if (sm_db_begin(r->job->db, SM_TX_WRITE, &e) != SP_OK)
            return;
        if (sm_replica_delete_in(r->job->db, o->id, reps[i].store, &e) != SP_OK ||
            sm_db_commit(r->job->db, &e) != SP_OK) {
            sm_db_rollback(r->job->db);
            return;
        }
        SP_INFO("replica of %s %s on %s was missing; the object is whole again, record dropped",
                sm_kind_name(o->kind), o->name, reps[i].store);
    }
}

static sp_code reconcile_one(rec_ctx *r, const sm_object *o, sp_err *err)
{
    sm_job_ctx *ctx = r->job;
    if (sm_copies_busy(ctx->db, o->id)) {
        sm_jobs_count(ctx, "Busy", 1);
        return SP_OK;
    }
    unsigned want[SM_TIER_COUNT], have[SM_TIER_COUNT] = { 0 };
    sm_policy_want(&ctx->conf->storage, o->kind, o->moves, want);
    sm_replica *reps = NULL;
    size_t nr = 0;
    sp_code rc = sm_objects_replicas(ctx->db, o->id, &reps, &nr, err);
    if (rc)
        return rc;
    /* A replica on a store whose directory is gone (or that was detached) is missing: were
     * the store to come back empty, its record must not pass for a copy. */
    for (size_t i = 0; r->apply && i < nr; i++) {
        const sm_store_info *s = store_of(r, reps[i].store);
        if (strcmp(reps[i].state, "ok") != 0 || (s && s->reachable))
            continue;
        char why[200];
        snprintf(why, sizeof why, "store %.100s %s", reps[i].store, s ? "is not reachable" : "was detached");
        sp_err e;
        if (sm_replica_set_state(ctx->db, o->id, reps[i].store, "missing", why, false, &e) == SP_OK)
            snprintf(reps[i].state, sizeof reps[i].state, "missing");
    }
    /* domains and stores already used by healthy replicas (and by copies planned below) */
    const char *avoid_d[MAX_REPS * 2], *avoid_s[MAX_REPS * 2];
    char dom[MAX_REPS * 2][160];
    size_t nd = 0, ns = 0, healthy_n = 0;
    const sm_replica *best_src = NULL;
    for (size_t i = 0; i < nr; i++) {
        if (!healthy(r, &reps[i]))
            continue;
        healthy_n++;
        have[reps[i].tier]++;
        const sm_store_info *s = store_of(r, reps[i].store);
        if (nd < MAX_REPS) {
            char tmp[160];
            snprintf(dom[nd], sizeof dom[nd], "%s", sm_store_domain(&s->def, tmp, sizeof tmp));
            avoid_d[nd] = dom[nd];
            nd++;
        }
        if (ns < MAX_REPS)
            avoid_s[ns++] = reps[i].store;
        /* copy from the fastest tier */
        if (!best_src || reps[i].tier < best_src->tier)
            best_src = &reps[i];
    }
    bool staging = false;
    if (!best_src && o->kind == SM_KIND_UNSEALED) {
        char path[4400];
        staging = snprintf(path, sizeof path, "%s/%s", ctx->conf->piece_dir, o->name) < (int)sizeof path &&
                  sp_file_size(path) == (int64_t)o->size;
    }
    sm_jobs_count(ctx, "Objects", 1);
    bool whole = true;
    for (int t = 0; t < SM_TIER_COUNT; t++)
        if (have[t] < want[t])
            whole = false;
    if (whole) {
        sm_jobs_count(ctx, "Whole", 1);
        for (int t = 0; t < SM_TIER_COUNT; t++)
            if (have[t] > want[t]) {
                cJSON *a = action(r, o, "Excess");
                sp_json_add_str(a, "Tier", sm_tier_name((sm_tier)t), NULL);
                sp_json_add_u64(a, "Have", have[t], NULL);
                sp_json_add_u64(a, "Want", want[t], NULL);
            }
        if (r->apply)
            forget_missing(r, o, reps, nr);
        free(reps);
        return SP_OK;
    }
    if (!best_src && !staging) {
        if (o->kind == SM_KIND_UNSEALED) {
            bool open = false;
            char why[256] = "";
            if (r->apply && (rc = sm_unseal_request(ctx->db, o->name, &open, why, sizeof why, err))) {
                free(reps);
                return rc;
            }
            cJSON *a = action(r, o, open || !r->apply ? "Unseal" : "Lost");
            sp_json_add_str(a, "Reason", r->apply ? (open ? "no copy left: an unseal task recovers it"
                                                          : why)
                                                  : "no copy left: --apply queues an unseal task", NULL);
        } else {
            cJSON *a = action(r, o, "Lost");
            sp_json_add_str(a, "Reason", "no healthy replica of the sealed sector is left", NULL);
            SP_ERROR("sealed sector %s has no healthy replica left", o->name);
        }
        free(reps);
        return SP_OK;
    }
    sm_tier fb[SM_TIER_COUNT];
    const sm_kind_policy *kp = &ctx->conf->storage.policy[o->kind];
    for (int t = 0; t < SM_TIER_COUNT && !rc; t++) {
        for (unsigned k = have[t]; k < want[t] && !rc; k++) {
            /* the wanted tier first, then the fallback tiers */
            size_t nt = 0;
            fb[nt++] = (sm_tier)t;
            for (size_t f = 0; f < kp->n_fallback; f++)
                if (kp->fallback[f] != (sm_tier)t)
                    fb[nt++] = kp->fallback[f];
            sm_place_req req = { .types = sm_kind_types(o->kind), .has_miner = o->kind == SM_KIND_SEALED,
                                 .miner = o->miner, .size = o->size, .tiers = fb, .n_tiers = nt,
                                 .avoid_domains = avoid_d, .n_avoid_domains = nd,
                                 .avoid_stores = avoid_s, .n_avoid_stores = ns,
                                 .need_reachable = true, .now_ms = r->now };
            char why[256];
            sm_tier used;
            ssize_t dst = sm_place_pick(r->stores, r->n_stores, &req, &used, why, sizeof why);
            cJSON *a = action(r, o, dst < 0 ? "Unplaceable" : "Actions");
            sp_json_add_str(a, "Tier", sm_tier_name((sm_tier)t), NULL);
            char reason[160];
            snprintf(reason, sizeof reason, "%u of %u wanted %s replicas are healthy", have[t], want[t],
                     sm_tier_name((sm_tier)t));
            sp_json_add_str(a, "Reason", dst < 0 ? why : reason, NULL);
            if (dst < 0) {
                SP_WARN("%s %s: %s; %s", sm_kind_name(o->kind), o->name, reason, why);
                break;
            }
            const char *dname = r->stores[dst].def.name;
            sp_json_add_str(a, "From", best_src ? best_src->store : "piece store", NULL);
            sp_json_add_str(a, "To", dname, NULL);
            if (used != (sm_tier)t)
                sp_json_add_str(a, "Fallback", sm_tier_name(used), NULL);
            if (nd < MAX_REPS * 2) {
                char tmp[160];
                snprintf(dom[nd], sizeof dom[nd], "%s", sm_store_domain(&r->stores[dst].def, tmp, sizeof tmp));
                avoid_d[nd] = dom[nd];
                nd++;
            }
            if (ns < MAX_REPS * 2)
                avoid_s[ns++] = dname;
            if (!r->apply) {
                sp_json_add_str(a, "Result", "planned (dry run)", NULL);
                continue;
            }
            sm_copy c = { .object_id = o->id, .tier = (sm_tier)t, .size = o->size };
            snprintf(c.src, sizeof c.src, "%s", best_src ? best_src->store : "");
            snprintf(c.dst, sizeof c.dst, "%s", dname);
            snprintf(c.reason, sizeof c.reason, "repair: %.140s", reason);
            int64_t id = 0;
            if ((rc = sm_db_begin(ctx->db, SM_TX_WRITE, err)))
                break;
            if ((rc = sm_copies_plan_in(ctx->db, &c, &id, err)) || (rc = sm_db_commit(ctx->db, err))) {
                sm_db_rollback(ctx->db);
                break;
            }
            /* the store's room now counts this copy */
            r->stores[dst].copying += o->size;
            sp_err e;
            sp_code cr = sm_jobs_run_copy(ctx, id, &e);
            if (cr == SP_EBUSY) {
                rc = cr;
                sp_fail(err, SP_EBUSY, "stopped");
                break;
            }
            if (cr == SP_OK)
                r->stores[dst].copying -= o->size;
            sp_json_add_u64(a, "Copy", (uint64_t)id, NULL);
            sp_json_add_str(a, "Result", cr ? e.msg : "done", NULL);
            sm_jobs_count(ctx, cr ? "Failed" : "Copied", 1);
        }
    }
    free(reps);
    return rc;
}

sp_code sm_job_reconcile(sm_job_ctx *ctx, const sm_job_req *req, sp_err *err)
{
    rec_ctx r = { .job = ctx, .apply = req->apply, .now = sp_wall_ms() };
    sp_code rc = sm_stores_list(ctx->db, &r.stores, &r.n_stores, err);
    if (rc)
        return rc;
    cJSON_AddBoolToObject(ctx->report, "Apply", req->apply);
    sm_jobs_count(ctx, "Objects", 0);
    sm_jobs_count(ctx, "Whole", 0);
    sm_jobs_list(ctx, "Actions");
    int64_t after = 0;
    for (;;) {
        sm_object *v = NULL;
        size_t n = 0;
        if ((rc = sm_objects_list(ctx->db, after, BATCH, &v, &n, err)))
            break;
        for (size_t i = 0; i < n && !rc; i++) {
            after = v[i].id;
            if (ctx->stop && *ctx->stop) {
                rc = sp_fail(err, SP_EBUSY, "stopped");
                break;
            }
            rc = reconcile_one(&r, &v[i], err);
        }
        free(v);
        if (rc || n < BATCH)
            break;
    }
    free(r.stores);
    return rc;
}
