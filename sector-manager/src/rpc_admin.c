/* rpc_admin.c — the admin-scope methods ("Sealpipe." namespace) behind the CLI:
 * sectors, workers, storage, pieces, chain, miners (docs/rpc.md). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_commits.h"
#include "sm_core.h"
#include "sm_deals.h"
#include "sm_pieces.h"
#include "sm_policy.h"
#include "sm_rpc.h"
#include "sm_sectors.h"
#include "sm_storage.h"
#include "sm_stores.h"
#include "sm_tokens.h"
#include "sm_workers.h"
#include "sp_json.h"
#include "sp_log.h"

static sp_code oom(sp_err *err)
{
    return sp_fail(err, SP_ENOMEM, "out of memory building the answer");
}

static const char *onchain_name(int s)
{
    static const char *const names[] = { "None", "Pending", "Packed", "Landed", "NotFound",
                                         "Failed", "PermFailed", "ShouldAbort" };
    return s >= 0 && s <= 7 ? names[s] : "Unknown";
}

/* ---- sectors ------------------------------------------------------------------------------ */

static cJSON *sector_summary(const sm_sector *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add(o, "ID", sm_rpc_sector_id_json(s->miner, s->number), NULL) ||
        sp_json_add_i64(o, "ProofType", s->proof_type, NULL) ||
        sp_json_add_str(o, "State", s->state, NULL) ||
        sp_json_add_str(o, "Worker", s->worker, NULL) ||
        sp_json_add_str(o, "Location", s->location, NULL) ||
        sp_json_add_u64(o, "Created", s->created_ms, NULL) ||
        sp_json_add_u64(o, "Updated", s->updated_ms, NULL) ||
        sp_json_add_bool(o, "Finalized", s->finalized, NULL) ||
        sp_json_add_bool(o, "Aborted", s->aborted, NULL) ||
        sp_json_add(o, "AbortReason", sm_rpc_str_or_null(s->aborted ? s->abort_reason : NULL), NULL) ||
        sp_json_add(o, "LastError", sm_rpc_str_or_null(s->last_error), NULL) ||
        sp_json_add(o, "Store", sm_rpc_str_or_null(s->store), NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *cid_of(pf_comm_kind kind, const uint8_t c[32])
{
    char s[PF_COMMCID_STR_MAX];
    if (pf_commcid_encode(kind, c, s, sizeof s, NULL) != PF_OK)
        return cJSON_CreateNull();
    return cJSON_CreateString(s);
}

static bool add_chain_parts(cJSON *o, const sm_sector *s)
{
    cJSON *t = NULL, *pc = NULL, *seed = NULL, *pr = NULL;
    if (s->has_ticket) {
        t = cJSON_CreateObject();
        if (!t || sp_json_add_base64(t, "Ticket", s->ticket, 32, NULL) ||
            sp_json_add_i64(t, "Epoch", s->ticket_epoch, NULL))
            goto fail;
    }
    if (s->pc_state) {
        pc = cJSON_CreateObject();
        if (!pc || sp_json_add_str(pc, "State", onchain_name(s->pc_state), NULL) ||
            sp_json_add(pc, "CommR", cid_of(PF_COMM_SEALED, s->pc_comm_r), NULL) ||
            sp_json_add(pc, "CommD", cid_of(PF_COMM_UNSEALED, s->pc_comm_d), NULL) ||
            sp_json_add_i64(pc, "TicketEpoch", s->pc_ticket_epoch, NULL) ||
            sp_json_add_i64(pc, "SubmitEpoch", s->pc_submit_epoch, NULL) ||
            sp_json_add(pc, "Epoch", s->pc_state == SM_ONCHAIN_LANDED ? sp_json_i64(s->pc_epoch)
                                                                      : cJSON_CreateNull(), NULL) ||
            sp_json_add(pc, "Desc", sm_rpc_str_or_null(s->pc_desc), NULL))
            goto fail;
    }
    if (s->has_seed) {
        seed = cJSON_CreateObject();
        if (!seed || sp_json_add_base64(seed, "Seed", s->seed, 32, NULL) ||
            sp_json_add_i64(seed, "Epoch", s->seed_epoch, NULL))
            goto fail;
    }
    if (s->proof_state) {
        pr = cJSON_CreateObject();
        if (!pr || sp_json_add_str(pr, "State", onchain_name(s->proof_state), NULL) ||
            sp_json_add_hex(pr, "SHA256", s->proof_hash, 32, NULL) ||
            sp_json_add_i64(pr, "SubmitEpoch", s->proof_submit_epoch, NULL) ||
            sp_json_add(pr, "Epoch", s->proof_state == SM_ONCHAIN_LANDED ? sp_json_i64(s->proof_epoch)
                                                                         : cJSON_CreateNull(), NULL) ||
            sp_json_add(pr, "Desc", sm_rpc_str_or_null(s->proof_desc), NULL))
            goto fail;
    }
    if (sp_json_add(o, "Ticket", t ? t : cJSON_CreateNull(), NULL)) {
        t = NULL;
        goto fail;
    }
    t = NULL;
    if (sp_json_add(o, "PreCommit", pc ? pc : cJSON_CreateNull(), NULL)) {
        pc = NULL;
        goto fail;
    }
    pc = NULL;
    if (sp_json_add(o, "Seed", seed ? seed : cJSON_CreateNull(), NULL)) {
        seed = NULL;
        goto fail;
    }
    seed = NULL;
    if (sp_json_add(o, "Proof", pr ? pr : cJSON_CreateNull(), NULL))
        return false;
    return true;
fail:
    cJSON_Delete(t);
    cJSON_Delete(pc);
    cJSON_Delete(seed);
    cJSON_Delete(pr);
    return false;
}

static cJSON *events_json(const sm_event *ev, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        const sm_event *e = &ev[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || sp_json_add_u64(o, "At", e->at_ms, NULL) ||
            sp_json_add_str(o, "Source", e->source, NULL) ||
            sp_json_add_str(o, "Worker", e->worker, NULL) ||
            sp_json_add(o, "Prev", sm_rpc_str_or_null(e->prev), NULL) ||
            sp_json_add(o, "Next", sm_rpc_str_or_null(e->next), NULL) ||
            sp_json_add(o, "Event", sm_rpc_str_or_null(e->event), NULL) ||
            sp_json_add(o, "Level", sm_rpc_str_or_null(e->level), NULL) ||
            sp_json_add(o, "Desc", sm_rpc_str_or_null(e->desc), NULL)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *deal_pieces_json(const sm_deal_piece *p, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || sp_json_add_i64(o, "DealID", p[i].deal_id, NULL) ||
            sp_json_add_str(o, "PieceCID", p[i].cid, NULL) ||
            sp_json_add_u64(o, "Size", p[i].padded_size, NULL) ||
            sp_json_add_u64(o, "PayloadSize", p[i].payload_size, NULL) ||
            sp_json_add_u64(o, "Offset", p[i].offset, NULL)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static sp_code h_sectors_list(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sm_sector_filter f = { 0 };
    uint64_t limit = 0;
    static const char *const keys[] = { "State", "Miner", "Limit", NULL };
    sp_code rc = sm_rpc_positional(call->params, 1, err);
    if (rc)
        return rc;
    if (sp_json_param(call->params, 0, "filter")) {
        const cJSON *o;
        if ((rc = sp_json_get_object(call->params, 0, "filter", &o, err)) ||
            (rc = sp_json_check_params(o, 0, keys, err)) ||
            (rc = sp_json_opt_str(o, -1, "State", 1, SM_STATE_MAX - 1, NULL, &f.state, err)) ||
            (rc = sp_json_opt_u64(o, -1, "Limit", 0, 1000000, 0, &limit, err)))
            return rc;
        if (sp_json_param(o, -1, "Miner")) {
            if ((rc = sp_json_get_u64(o, -1, "Miner", 0, INT64_MAX, &f.miner, err)))
                return rc;
            f.has_miner = true;
        }
    }
    f.limit = (size_t)limit;
    sm_sector *v = NULL;
    size_t n = 0;
    if ((rc = sm_sectors_list(c->db, &f, &v, &n, err)))
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *e = sector_summary(&v[i]);
        if (!e) {
            cJSON_Delete(a);
            a = NULL;
            break;
        }
        cJSON_AddItemToArray(a, e);
    }
    free(v);
    return (*result = a) ? SP_OK : oom(err);
}

static sp_code sector_detail(sm_core *c, uint64_t miner, uint64_t number, cJSON **result, sp_err *err)
{
    sm_sector s;
    sm_event *ev = NULL;
    sm_deal_piece *p = NULL;
    size_t ne = 0, np = 0;
    sp_code rc = sm_db_begin(c->db, SM_TX_READ, err);
    if (rc)
        return rc;
    if ((rc = sm_sectors_load(c->db, miner, number, &s, err)) ||
        (rc = sm_sectors_events(c->db, miner, number, 200, &ev, &ne, err)) ||
        (rc = sm_deals_of_sector(c->db, miner, number, &p, &np, err))) {
        sm_db_rollback(c->db);
        free(ev);
        free(p);
        return rc;
    }
    sm_db_rollback(c->db);
    cJSON *o = sector_summary(&s);
    if (!o || !add_chain_parts(o, &s) || sp_json_add(o, "PreAbortState",
                                                      sm_rpc_str_or_null(s.pre_abort_state), NULL) ||
        sp_json_add_u64(o, "StoreBytes", s.store_bytes, NULL) ||
        sp_json_add(o, "Deals", deal_pieces_json(p, np), NULL) ||
        sp_json_add(o, "Events", events_json(ev, ne), NULL)) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(ev);
    free(p);
    return (*result = o) ? SP_OK : oom(err);
}

static sp_code h_sector_show(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    uint64_t miner, number;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)))
        return rc;
    return sector_detail(call->ctx, miner, number, result, err);
}

static sp_code h_sector_abort(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    const char *reason;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 2, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sp_json_opt_str(call->params, 1, "reason", 0, 1000, "", &reason, err)) ||
        (rc = sm_sectors_abort(c->db, miner, number, reason, err)))
        return rc;
    SP_INFO("sector s-t0%" PRIu64 "-%" PRIu64 " aborted by the admin: %s", miner, number,
            *reason ? reason : "no reason given");
    return sector_detail(c, miner, number, result, err);
}

static sp_code h_sector_restore(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sm_sectors_restore(c->db, miner, number, err)))
        return rc;
    SP_INFO("sector s-t0%" PRIu64 "-%" PRIu64 " restored by the admin", miner, number);
    return sector_detail(c, miner, number, result, err);
}

/* ---- workers ----------------------------------------------------------------------------- */

static sp_code h_workers_list(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    sm_worker_info *v = NULL;
    size_t n = 0;
    if ((rc = sm_workers_list(c->db, &v, &n, err)))
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject(), *s = cJSON_CreateObject();
        if (!o || !s || sp_json_add_u64(s, "Threads", v[i].threads, NULL) ||
            sp_json_add_u64(s, "Empty", v[i].empty, NULL) ||
            sp_json_add_u64(s, "Paused", v[i].paused, NULL) ||
            sp_json_add_u64(s, "Running", v[i].running, NULL) ||
            sp_json_add_u64(s, "Waiting", v[i].waiting, NULL) ||
            sp_json_add_u64(s, "Errors", v[i].errors, NULL) ||
            sp_json_add_str(o, "Name", v[i].name, NULL) ||
            sp_json_add_str(o, "Dest", v[i].dest, NULL) ||
            sp_json_add_str(o, "Version", v[i].version, NULL) ||
            sp_json_add_u64(o, "FirstPing", v[i].first_ms, NULL) ||
            sp_json_add_u64(o, "LastPing", v[i].last_ms, NULL) ||
            sp_json_add_u64(o, "Sectors", v[i].sectors, NULL)) {
            cJSON_Delete(o);
            cJSON_Delete(s);
            cJSON_Delete(a);
            a = NULL;
            break;
        }
        cJSON_AddItemToObject(o, "Summary", s);
        cJSON_AddItemToArray(a, o);
    }
    free(v);
    return (*result = a) ? SP_OK : oom(err);
}

/* ---- storage ------------------------------------------------------------------------------- */

static cJSON *miners_json(const char *list)
{
    cJSON *a = cJSON_CreateArray();
    const char *p = list;
    while (a && *p) {
        char *end;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p)
            break;
        cJSON_AddItemToArray(a, sp_json_u64(v));
        p = *end == ',' ? end + 1 : end;
    }
    return a;
}

static cJSON *types_list(uint32_t bits)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t b = 1; a && b <= SM_FT_BLOCK; b <<= 1) {
        char name[32];
        if (bits & b)
            cJSON_AddItemToArray(a, cJSON_CreateString(sm_ftypes_format(b, name, sizeof name)));
    }
    return a;
}

static cJSON *health_json(const sm_store_info *s)
{
    if (!s->health_known)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_bool(o, "OK", s->healthy, NULL) ||
        sp_json_add_u64(o, "Checked", s->checked_ms, NULL) ||
        sp_json_add_u64(o, "CooldownUntil", s->cooldown_until_ms, NULL) ||
        sp_json_add(o, "Score", cJSON_CreateNumber(s->score), NULL) ||
        sp_json_add_u64(o, "WriteMicros", s->write_us, NULL) ||
        sp_json_add_u64(o, "ReadMicros", s->read_us, NULL) ||
        sp_json_add_u64(o, "Fails", s->fails, NULL) ||
        sp_json_add(o, "Error", sm_rpc_str_or_null(s->health_error), NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static cJSON *store_json(const sm_store_info *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_str(o, "Name", s->def.name, NULL) ||
        sp_json_add_str(o, "Path", s->def.path, NULL) ||
        sp_json_add_u64(o, "Weight", s->def.weight, NULL) ||
        sp_json_add_str(o, "Tier", s->def.tier, NULL) ||
        sp_json_add_bool(o, "ReadOnly", s->def.readonly, NULL) ||
        sp_json_add(o, "AllowMiners", miners_json(s->def.allow_miners), NULL) ||
        sp_json_add(o, "DenyMiners", miners_json(s->def.deny_miners), NULL) ||
        sp_json_add_u64(o, "Capacity", s->def.capacity, NULL) ||
        sp_json_add_str(o, "Source", s->source, NULL) ||
        sp_json_add_bool(o, "Reachable", s->reachable, NULL) ||
        sp_json_add_u64(o, "FsTotal", s->fs_total, NULL) ||
        sp_json_add_u64(o, "FsAvailable", s->fs_avail, NULL) ||
        sp_json_add_u64(o, "Available", s->available, NULL) ||
        sp_json_add_u64(o, "Stored", s->stored, NULL) ||
        sp_json_add_u64(o, "Sectors", s->sectors, NULL) ||
        sp_json_add_u64(o, "Reserved", s->reserved, NULL) ||
        sp_json_add_u64(o, "Reservations", s->reservations, NULL) ||
        sp_json_add_str(o, "Media", s->def.media, NULL) ||
        sp_json_add_u64(o, "MinFreePct", s->def.min_free_pct, NULL) ||
        sp_json_add(o, "AllowTypes", types_list(s->def.allow_types), NULL) ||
        sp_json_add(o, "DenyTypes", types_list(s->def.deny_types), NULL) ||
        sp_json_add_str(o, "Domain", s->def.domain, NULL) ||
        sp_json_add_u64(o, "Copying", s->copying, NULL) ||
        sp_json_add(o, "Health", health_json(s), NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static sp_code h_storage_list(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    sm_store_info *v = NULL;
    size_t n = 0;
    if ((rc = sm_stores_list(c->db, &v, &n, err)))
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = store_json(&v[i]);
        if (!o) {
            cJSON_Delete(a);
            a = NULL;
            break;
        }
        cJSON_AddItemToArray(a, o);
    }
    free(v);
    return (*result = a) ? SP_OK : oom(err);
}

static sp_code miners_csv(const cJSON *o, const char *key, char *out, size_t len, sp_err *err)
{
    out[0] = 0;
    const cJSON *a = sp_json_param(o, -1, key);
    if (!a)
        return SP_OK;
    sp_code rc = sp_json_get_array(o, -1, key, 64, &a, err);
    if (rc)
        return rc;
    size_t used = 0;
    for (int i = 0; i < cJSON_GetArraySize(a); i++) {
        uint64_t v;
        if ((rc = sp_json_get_u64(a, i, key, 0, INT64_MAX, &v, err)))
            return rc;
        int w = snprintf(out + used, len - used, "%s%" PRIu64, used ? "," : "", v);
        if (w < 0 || (size_t)w >= len - used)
            return sp_fail(err, SP_EINVAL, "%s: too many miners", key);
        used += (size_t)w;
    }
    return SP_OK;
}

static sp_code types_param(const cJSON *o, const char *key, uint32_t *out, sp_err *err)
{
    *out = 0;
    const cJSON *a = sp_json_param(o, -1, key);
    if (!a)
        return SP_OK;
    sp_code rc = sp_json_get_array(o, -1, key, 16, &a, err);
    if (rc)
        return rc;
    for (int i = 0; i < cJSON_GetArraySize(a); i++) {
        const char *t;
        if ((rc = sp_json_get_str(a, i, key, 1, 31, &t, err)))
            return rc;
        uint32_t b = sm_ftype_parse(t);
        if (!b)
            return sp_fail(err, SP_EINVAL, "%s: \"%s\" is not a file type (sealed, cache, unsealed, "
                           "piece, block)", key, t);
        *out |= b;
    }
    return SP_OK;
}

static sp_code h_storage_attach(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const cJSON *o;
    const char *name, *path, *tier, *media, *domain;
    uint64_t weight, capacity, min_free;
    bool ro;
    sm_store_def d;
    memset(&d, 0, sizeof d);
    static const char *const keys[] = { "Name", "Path", "Weight", "Tier", "ReadOnly",
                                        "AllowMiners", "DenyMiners", "Capacity", "Media",
                                        "MinFreePct", "AllowTypes", "DenyTypes", "Domain", NULL };
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_object(call->params, 0, "store", &o, err)) ||
        (rc = sp_json_check_params(o, 0, keys, err)) ||
        (rc = sp_json_get_str(o, -1, "Name", 1, SM_STORE_NAME_MAX - 1, &name, err)) ||
        (rc = sp_json_get_str(o, -1, "Path", 1, sizeof d.path - 1, &path, err)) ||
        (rc = sp_json_opt_u64(o, -1, "Weight", 1, 1000000, 1, &weight, err)) ||
        (rc = sp_json_opt_str(o, -1, "Tier", 1, sizeof d.tier - 1, "warm", &tier, err)) ||
        (rc = sp_json_opt_bool(o, -1, "ReadOnly", false, &ro, err)) ||
        (rc = sp_json_opt_u64(o, -1, "Capacity", 0, INT64_MAX, 0, &capacity, err)) ||
        (rc = miners_csv(o, "AllowMiners", d.allow_miners, sizeof d.allow_miners, err)) ||
        (rc = miners_csv(o, "DenyMiners", d.deny_miners, sizeof d.deny_miners, err)) ||
        (rc = sp_json_opt_str(o, -1, "Media", 1, sizeof d.media - 1, "hdd", &media, err)) ||
        (rc = sp_json_opt_u64(o, -1, "MinFreePct", 0, 99, 0, &min_free, err)) ||
        (rc = types_param(o, "AllowTypes", &d.allow_types, err)) ||
        (rc = types_param(o, "DenyTypes", &d.deny_types, err)) ||
        (rc = sp_json_opt_str(o, -1, "Domain", 0, sizeof d.domain - 1, "", &domain, err)))
        return rc;
    if (strcmp(tier, "hot") && strcmp(tier, "warm") && strcmp(tier, "cold"))
        return sp_fail(err, SP_EINVAL, "Tier: \"%.20s\" is not hot, warm or cold", tier);
    if (strcmp(media, "nvme") && strcmp(media, "hdd") && strcmp(media, "object"))
        return sp_fail(err, SP_EINVAL, "Media: \"%.20s\" is not nvme, hdd or object", media);
    if (strpbrk(domain, ",\n\r\t"))
        return sp_fail(err, SP_EINVAL, "Domain: no commas or control characters");
    snprintf(d.media, sizeof d.media, "%s", media);
    snprintf(d.domain, sizeof d.domain, "%s", domain);
    d.min_free_pct = (unsigned)min_free;
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.path, sizeof d.path, "%s", path);
    snprintf(d.tier, sizeof d.tier, "%s", tier);
    d.weight = weight;
    d.readonly = ro;
    d.capacity = capacity;
    if ((rc = sm_stores_attach(c->db, &d, err)))
        return rc;
    SP_INFO("store %s attached at %s", d.name, d.path);
    sm_store_info info;
    if ((rc = sm_stores_get(c->db, d.name, &info, err)))
        return rc;
    return (*result = store_json(&info)) ? SP_OK : oom(err);
}

static sp_code h_storage_detach(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *name;
    sp_code rc;
    (void)result;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_str(call->params, 0, "name", 1, SM_STORE_NAME_MAX - 1, &name, err)) ||
        (rc = sm_stores_detach(c->db, name, err)))
        return rc;
    SP_INFO("store %s detached", name);
    return SP_OK;
}

static sp_code h_storage_set_weight(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *name;
    uint64_t w;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 2, err)) ||
        (rc = sp_json_get_str(call->params, 0, "name", 1, SM_STORE_NAME_MAX - 1, &name, err)) ||
        (rc = sp_json_get_u64(call->params, 1, "weight", 1, 1000000, &w, err)) ||
        (rc = sm_stores_set_weight(c->db, name, w, err)))
        return rc;
    sm_store_info info;
    if ((rc = sm_stores_get(c->db, name, &info, err)))
        return rc;
    return (*result = store_json(&info)) ? SP_OK : oom(err);
}

/* ---- pieces --------------------------------------------------------------------------------- */

static cJSON *piece_json(const sm_piece *p)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_str(o, "PieceCID", p->cid, NULL) ||
        sp_json_add_u64(o, "PayloadSize", p->payload_size, NULL) ||
        sp_json_add_u64(o, "PaddedSize", p->padded_size, NULL) ||
        sp_json_add_u64(o, "Imported", p->imported_ms, NULL) ||
        sp_json_add_str(o, "Source", p->source, NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static sp_code h_piece_store_info(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    sm_conf *conf = sm_core_conf(c);
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_str(o, "Path", conf->piece_dir, err)) {
        cJSON_Delete(o);
        o = NULL;
    }
    sm_conf_unref(conf);
    return (*result = o) ? SP_OK : oom(err);
}

static sp_code h_piece_import(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const cJSON *o;
    const char *cid, *source;
    uint64_t miner;
    sm_piece p;
    memset(&p, 0, sizeof p);
    static const char *const keys[] = { "PieceCID", "PayloadSize", "PaddedSize", "Miner", "Source", NULL };
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_object(call->params, 0, "piece", &o, err)) ||
        (rc = sp_json_check_params(o, 0, keys, err)) ||
        (rc = sm_rpc_get_cid(o, -1, "PieceCID", &cid, err)) ||
        (rc = sp_json_get_u64(o, -1, "PayloadSize", 1, INT64_MAX, &p.payload_size, err)) ||
        (rc = sp_json_get_u64(o, -1, "PaddedSize", 128, INT64_MAX, &p.padded_size, err)) ||
        (rc = sp_json_get_u64(o, -1, "Miner", 0, INT64_MAX, &miner, err)) ||
        (rc = sp_json_opt_str(o, -1, "Source", 0, sizeof p.source - 1, "", &source, err)))
        return rc;
    pf_error pe = { 0 };
    if (strlen(cid) >= sizeof p.cid ||
        pf_commcid_decode(cid, PF_COMM_UNSEALED, p.comm_p, NULL, &pe) != PF_OK)
        return sp_fail(err, SP_EINVAL, "PieceCID: %s", pe.msg[0] ? pe.msg : "too long");
    snprintf(p.cid, sizeof p.cid, "%s", cid);
    snprintf(p.source, sizeof p.source, "%s", source);
    sm_conf *conf = sm_core_conf(c);
    const sm_miner_conf *m = sm_conf_miner(conf, miner);
    uint64_t max_size = 0;
    for (size_t i = 0; m && i < m->n_proofs; i++) {
        const pf_seal_proof_info *pi = pf_seal_proof(m->proofs[i]);
        if (pi && pi->sector_size > max_size)
            max_size = pi->sector_size;
    }
    char dir[sizeof conf->piece_dir];
    snprintf(dir, sizeof dir, "%s", conf->piece_dir);
    bool deals = m && m->deals;
    sm_conf_unref(conf);
    if (!m)
        return sp_fail(err, SP_ENOTFOUND, "miner %" PRIu64 " is not in manager.cfg's miners list", miner);
    int64_t deal = 0;
    bool fresh = false;
    if ((rc = sm_pieces_register(c->db, dir, &p, miner, max_size, &deal, &fresh, err)))
        return rc;
    SP_INFO("piece %s (%" PRIu64 " bytes) queued as deal %" PRId64 " for miner %" PRIu64 "%s", p.cid,
            p.payload_size, deal, miner, deals ? "" : " (deals are off for this miner)");
    if (c->storage)
        sm_storage_wake(c->storage); /* index it and place its copies soon */
    cJSON *r = cJSON_CreateObject();
    if (!r || sp_json_add_str(r, "PieceCID", p.cid, err) || sp_json_add_i64(r, "DealID", deal, err) ||
        sp_json_add_bool(r, "New", fresh, err) || sp_json_add_bool(r, "DealsEnabled", deals, err)) {
        cJSON_Delete(r);
        return oom(err);
    }
    *result = r;
    return SP_OK;
}

static cJSON *deal_rows_json(const sm_deal_row *d, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || sp_json_add_i64(o, "DealID", d[i].id, NULL) ||
            sp_json_add_u64(o, "Miner", d[i].miner, NULL) ||
            sp_json_add_str(o, "PieceCID", d[i].cid, NULL) ||
            sp_json_add_str(o, "State", d[i].state, NULL) ||
            sp_json_add(o, "Sector", d[i].has_sector ? sp_json_u64(d[i].sector) : cJSON_CreateNull(), NULL) ||
            sp_json_add_u64(o, "Offset", d[i].offset, NULL) ||
            sp_json_add_u64(o, "Created", d[i].created_ms, NULL)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            return NULL;
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static sp_code h_pieces_list(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t limit = 0;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_opt_u64(call->params, 0, "limit", 0, 1000000, 0, &limit, err)))
        return rc;
    sm_piece *v = NULL;
    sm_deal_row *d = NULL;
    size_t n = 0, nd = 0;
    if ((rc = sm_pieces_list(c->db, (size_t)limit, &v, &n, err)))
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = piece_json(&v[i]);
        if (!o || (rc = sm_deals_list(c->db, v[i].cid, 1000, &d, &nd, err))) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            free(v);
            return rc ? rc : oom(err);
        }
        cJSON *deals = deal_rows_json(d, nd);
        free(d);
        if (sp_json_add(o, "Deals", deals, NULL)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
            break;
        }
        cJSON_AddItemToArray(a, o);
    }
    free(v);
    return (*result = a) ? SP_OK : oom(err);
}

static sp_code h_piece_show(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *cid;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sm_rpc_get_cid(call->params, 0, "PieceCID", &cid, err)))
        return rc;
    sm_piece p;
    sm_deal_row *d = NULL;
    size_t nd = 0;
    if ((rc = sm_pieces_get(c->db, cid, &p, err)) || (rc = sm_deals_list(c->db, cid, 0, &d, &nd, err)))
        return rc;
    cJSON *o = piece_json(&p);
    if (!o || sp_json_add(o, "Deals", deal_rows_json(d, nd), NULL)) {
        cJSON_Delete(o);
        o = NULL;
    }
    free(d);
    return (*result = o) ? SP_OK : oom(err);
}

/* ---- chain, miners, version ------------------------------------------------------------------ */

static sp_code h_chain_head(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    sm_conf *conf = sm_core_conf(c);
    const sm_chain *ch = &conf->chain;
    cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateObject();
    bool ok = o && p && !sp_json_add_str(o, "Kind", "local", NULL) &&
              !sp_json_add_i64(o, "Epoch", sm_chain_head(ch), NULL) &&
              !sp_json_add_u64(o, "BlockTimeMs", ch->p.block_ms, NULL) &&
              !sp_json_add_u64(o, "Genesis", ch->genesis_ms, NULL) &&
              !sp_json_add_i64(p, "TicketLookback", ch->p.ticket_lookback, NULL) &&
              !sp_json_add_i64(p, "MaxTicketAge", ch->p.max_ticket_age, NULL) &&
              !sp_json_add_i64(p, "PreCommitLanding", ch->p.precommit_landing, NULL) &&
              !sp_json_add_i64(p, "ChallengeDelay", ch->p.challenge_delay, NULL) &&
              !sp_json_add_i64(p, "SeedConfidence", ch->p.seed_confidence, NULL) &&
              !sp_json_add_i64(p, "ProofLanding", ch->p.proof_landing, NULL) &&
              !sp_json_add_i64(p, "MaxProveDuration", ch->p.max_prove_duration, NULL);
    sm_conf_unref(conf);
    if (!ok) {
        cJSON_Delete(o);
        cJSON_Delete(p);
        return oom(err);
    }
    cJSON_AddItemToObject(o, "Params", p);
    *result = o;
    return SP_OK;
}

static sp_code h_miners_list(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    sm_conf *conf = sm_core_conf(c);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < conf->n_miners && !rc; i++) {
        const sm_miner_conf *m = &conf->miners[i];
        sm_miner_numbers num;
        bool found;
        if ((rc = sm_sectors_miner_numbers(c->db, m->actor, &num, &found, err)))
            break;
        cJSON *o = cJSON_CreateObject(), *sizes = cJSON_CreateArray();
        for (size_t j = 0; sizes && j < m->n_proofs; j++) {
            const pf_seal_proof_info *pi = pf_seal_proof(m->proofs[j]);
            cJSON_AddItemToArray(sizes, sp_json_u64(pi ? pi->sector_size : 0));
        }
        uint64_t next = found && num.next_number > m->first_number ? num.next_number : m->first_number;
        if (!o || !sizes || sp_json_add_u64(o, "Actor", m->actor, NULL) ||
            sp_json_add(o, "SectorSizes", sizes, NULL) ||
            sp_json_add_bool(o, "Enabled", m->enabled, NULL) ||
            sp_json_add_bool(o, "Deals", m->deals, NULL) ||
            sp_json_add_u64(o, "FirstNumber", m->first_number, NULL) ||
            sp_json_add_u64(o, "MaxNumber", m->max_number, NULL) ||
            sp_json_add_u64(o, "NextNumber", next, NULL) ||
            sp_json_add_u64(o, "Allocated", found ? num.allocated : 0, NULL)) {
            cJSON_Delete(o);
            cJSON_Delete(a);
            a = NULL;
            break;
        }
        cJSON_AddItemToArray(a, o);
    }
    sm_conf_unref(conf);
    if (rc) {
        cJSON_Delete(a);
        return rc;
    }
    return (*result = a) ? SP_OK : oom(err);
}

static sp_code h_version(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_str(o, "Version", SP_VERSION, err) ||
        sp_json_add_i64(o, "SchemaVersion", sm_db_schema_version(c->db), err) ||
        sp_json_add_str(o, "Database", sm_db_path(c->db), err) ||
        sp_json_add_u64(o, "Started", c->started_ms, err)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

#define A SM_SCOPE_ADMIN

const sp_rpc_method sm_rpc_admin_methods[] = {
    { "Sealpipe.Version", h_version, A },
    { "Sealpipe.SectorsList", h_sectors_list, A },
    { "Sealpipe.SectorShow", h_sector_show, A },
    { "Sealpipe.SectorAbort", h_sector_abort, A },
    { "Sealpipe.SectorRestore", h_sector_restore, A },
    { "Sealpipe.WorkersList", h_workers_list, A },
    { "Sealpipe.StorageList", h_storage_list, A },
    { "Sealpipe.StorageAttach", h_storage_attach, A },
    { "Sealpipe.StorageDetach", h_storage_detach, A },
    { "Sealpipe.StorageSetWeight", h_storage_set_weight, A },
    { "Sealpipe.PieceStoreInfo", h_piece_store_info, A },
    { "Sealpipe.PieceImport", h_piece_import, A },
    { "Sealpipe.PiecesList", h_pieces_list, A },
    { "Sealpipe.PieceShow", h_piece_show, A },
    { "Sealpipe.ChainHead", h_chain_head, A },
    { "Sealpipe.MinersList", h_miners_list, A },
};
const size_t sm_rpc_admin_count = sizeof sm_rpc_admin_methods / sizeof sm_rpc_admin_methods[0];
