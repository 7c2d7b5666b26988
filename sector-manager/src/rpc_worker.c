/* rpc_worker.c — the worker-scope methods, named and shaped as damocles' SealerAPI
 * ("Venus.AllocateSector", ...); docs/rpc.md is the contract. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_commits.h"
#include "sm_core.h"
#include "sm_deals.h"
#include "sm_rpc.h"
#include "sm_sectors.h"
#include "sm_stores.h"
#include "sm_tokens.h"
#include "sm_workers.h"
#include "sp_json.h"
#include "sp_log.h"

#define MAX_LIST 64

static sp_code oom(sp_err *err)
{
    return sp_fail(err, SP_ENOMEM, "out of memory building the answer");
}

/* {"Res": code, "Desc": text|null} or {"State": ..., "Desc": ...} */
static sp_code answer_json(const char *key, const sm_answer *a, cJSON **result, sp_err *err)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, key, (uint64_t)a->code, err) ||
        sp_json_add(o, "Desc", sm_rpc_str_or_null(a->desc), err)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

/* ---- AllocateSector ------------------------------------------------------------------- */

static sp_code u64_list(const cJSON *spec, const char *key, uint64_t *out, size_t *n, sp_err *err)
{
    *n = 0;
    const cJSON *a = sp_json_param(spec, -1, key);
    if (!a)
        return SP_OK;
    sp_code rc = sp_json_get_array(spec, -1, key, MAX_LIST, &a, err);
    if (rc)
        return rc;
    for (int i = 0; i < cJSON_GetArraySize(a); i++)
        if ((rc = sp_json_get_u64(a, i, key, 0, INT64_MAX, &out[(*n)++], err)))
            return rc;
    return SP_OK;
}

static sp_code h_allocate_sector(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const cJSON *spec = NULL;
    uint64_t miners[MAX_LIST], proofs64[MAX_LIST];
    int proofs[MAX_LIST];
    size_t nm = 0, np = 0;
    static const char *const keys[] = { "AllowedMiners", "AllowedProofTypes", NULL };
    sp_code rc = sm_rpc_positional(call->params, 1, err);
    if (rc)
        return rc;
    if (sp_json_param(call->params, 0, "spec")) {
        if ((rc = sp_json_get_object(call->params, 0, "spec", &spec, err)) ||
            (rc = sp_json_check_params(spec, 0, keys, err)) ||
            (rc = u64_list(spec, "AllowedMiners", miners, &nm, err)) ||
            (rc = u64_list(spec, "AllowedProofTypes", proofs64, &np, err)))
            return rc;
    }
    for (size_t i = 0; i < np; i++)
        proofs[i] = proofs64[i] > 1000 ? -1 : (int)proofs64[i];
    sm_alloc_spec as = { .miners = miners, .n_miners = nm, .proofs = proofs, .n_proofs = np };
    sm_conf *conf = sm_core_conf(c);
    uint64_t miner = 0, number = 0;
    int proof = 0;
    bool found = false;
    rc = sm_sectors_allocate(c->db, conf, &as, atomic_fetch_add(&c->pick, 1), &miner, &number,
                             &proof, &found, err);
    sm_conf_unref(conf);
    if (rc)
        return rc;
    if (!found)
        return SP_OK; /* null: nothing to seal for this spec */
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add(o, "ID", sm_rpc_sector_id_json(miner, number), err) ||
        sp_json_add_i64(o, "ProofType", proof, err)) {
        cJSON_Delete(o);
        return oom(err);
    }
    SP_DEBUG("allocated sector s-t0%" PRIu64 "-%" PRIu64 " (proof %d) to %s", miner, number, proof,
             call->peer);
    *result = o;
    return SP_OK;
}

/* ---- AcquireDeals ----------------------------------------------------------------------- */

static cJSON *pieces_json(const sm_deal_piece *p, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *e = cJSON_CreateObject(), *piece = cJSON_CreateObject(), *deal = cJSON_CreateObject();
        bool ok = e && piece && deal;
        ok = ok && !sp_json_add_u64(piece, "Size", p[i].padded_size, NULL) &&
             !sp_json_add(piece, "PieceCID", sm_rpc_cid_json(p[i].cid), NULL) &&
             !sp_json_add_u64(deal, "DealID", (uint64_t)p[i].deal_id, NULL) &&
             !sp_json_add_u64(deal, "AllocationID", 0, NULL) &&
             !sp_json_add_u64(deal, "PayloadSize", p[i].payload_size, NULL) &&
             !sp_json_add_bool(deal, "IsBuiltinMarket", false, NULL) &&
             !sp_json_add_u64(deal, "Offset", p[i].offset, NULL);
        if (ok) {
            cJSON_AddItemToObject(e, "Piece", piece);
            cJSON_AddItemToObject(e, "DealInfo", deal);
            cJSON_AddItemToArray(a, e);
            continue;
        }
        cJSON_Delete(e);
        cJSON_Delete(piece);
        cJSON_Delete(deal);
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

static sp_code h_acquire_deals(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number, max_deals = 0, min_used = 0;
    sp_code rc;
    static const char *const keys[] = { "MaxDeals", "MinUsedSpace", NULL };
    if ((rc = sm_rpc_positional(call->params, 2, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)))
        return rc;
    if (sp_json_param(call->params, 1, "spec")) {
        const cJSON *spec;
        if ((rc = sp_json_get_object(call->params, 1, "spec", &spec, err)) ||
            (rc = sp_json_check_params(spec, 0, keys, err)) ||
            (rc = sp_json_opt_u64(spec, -1, "MaxDeals", 0, 1u << 20, 0, &max_deals, err)) ||
            (rc = sp_json_opt_u64(spec, -1, "MinUsedSpace", 0, INT64_MAX, 0, &min_used, err)))
            return rc;
    }
    sm_sector s;
    if ((rc = sm_sectors_load(c->db, miner, number, &s, err)))
        return rc;
    if (s.aborted)
        return sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " was aborted: %s", miner,
                       number, s.abort_reason);
    sm_conf *conf = sm_core_conf(c);
    const sm_miner_conf *m = sm_conf_miner(conf, miner);
    bool deals = m && m->deals;
    sm_conf_unref(conf);
    const pf_seal_proof_info *pi = pf_seal_proof(s.proof_type);
    sm_deal_piece *p = NULL;
    size_t n = 0;
    /* Deals join a sector only before its pieces are written; later calls get what it has. */
    bool fresh = s.pc_state == SM_ONCHAIN_NONE &&
                 (strcmp(s.state, "Allocated") == 0 || strcmp(s.state, "Empty") == 0);
    if (deals && fresh && pi)
        rc = sm_deals_acquire(c->db, miner, number, pi->sector_size, (size_t)max_deals, min_used,
                              &p, &n, err);
    else
        rc = sm_deals_of_sector(c->db, miner, number, &p, &n, err);
    if (rc)
        return rc;
    if (n > 0 && !(*result = pieces_json(p, n)))
        rc = oom(err);
    free(p);
    return rc;
}

/* ---- ticket / precommit / seed / proof --------------------------------------------------- */

static sp_code h_assign_ticket(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)))
        return rc;
    sm_conf *conf = sm_core_conf(c);
    uint8_t t[32];
    int64_t epoch = 0;
    rc = sm_commits_ticket(c->db, &conf->chain, sm_chain_head(&conf->chain), miner, number, t,
                           &epoch, err);
    sm_conf_unref(conf);
    if (rc)
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_base64(o, "Ticket", t, 32, err) || sp_json_add_i64(o, "Epoch", epoch, err)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

static sp_code parse_precommit(const cJSON *params, uint64_t *miner, uint64_t *number,
                               sm_precommit *pc, bool *reset, sp_err *err)
{
    const cJSON *sector, *info, *ticket;
    uint64_t proof;
    sp_code rc;
    static const char *const skeys[] = { "ID", "ProofType", NULL };
    static const char *const ikeys[] = { "CommR", "CommD", "Ticket", NULL };
    static const char *const tkeys[] = { "Ticket", "Epoch", NULL };
    if ((rc = sm_rpc_positional(params, 3, err)) ||
        (rc = sp_json_get_object(params, 0, "AllocatedSector", &sector, err)) ||
        (rc = sp_json_check_params(sector, 0, skeys, err)) ||
        (rc = sm_rpc_sector_id(sector, -1, "ID", miner, number, err)) ||
        (rc = sp_json_get_u64(sector, -1, "ProofType", 0, 1000, &proof, err)) ||
        (rc = sp_json_get_object(params, 1, "PreCommitOnChainInfo", &info, err)) ||
        (rc = sp_json_check_params(info, 0, ikeys, err)) ||
        (rc = sm_rpc_get_comm(info, "CommR", pc->comm_r, err)) ||
        (rc = sm_rpc_get_comm(info, "CommD", pc->comm_d, err)) ||
        (rc = sp_json_get_object(info, -1, "Ticket", &ticket, err)) ||
        (rc = sp_json_check_params(ticket, 0, tkeys, err)) ||
        (rc = sm_rpc_get_rand(ticket, "Ticket", pc->ticket, err)) ||
        (rc = sp_json_get_i64(ticket, -1, "Epoch", 0, INT64_MAX, &pc->ticket_epoch, err)) ||
        (rc = sp_json_opt_bool(params, 2, "reset", false, reset, err)))
        return rc;
    pc->proof_type = (int)proof;
    return SP_OK;
}

static sp_code h_submit_precommit(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    sm_precommit pc;
    bool reset = false;
    sp_code rc = parse_precommit(call->params, &miner, &number, &pc, &reset, err);
    if (rc)
        return rc;
    sm_conf *conf = sm_core_conf(c);
    sm_answer a;
    rc = sm_commits_submit_precommit(c->db, &conf->chain, sm_chain_head(&conf->chain), miner,
                                     number, &pc, reset, &a, err);
    sm_conf_unref(conf);
    if (rc)
        return rc;
    if (a.code != SM_SUBMIT_ACCEPTED && a.code != SM_SUBMIT_DUPLICATE)
        SP_INFO("precommit of s-t0%" PRIu64 "-%" PRIu64 " answered %d: %s", miner, number, a.code,
                a.desc);
    return answer_json("Res", &a, result, err);
}

static sp_code h_poll_precommit(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)))
        return rc;
    sm_conf *conf = sm_core_conf(c);
    sm_answer a;
    rc = sm_commits_poll_precommit(c->db, &conf->chain, sm_chain_head(&conf->chain), miner, number,
                                   &a, err);
    sm_conf_unref(conf);
    return rc ? rc : answer_json("State", &a, result, err);
}

static sp_code h_wait_seed(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number, proof;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 2, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sp_json_get_u64(call->params, 1, "SealProof", 0, 1000, &proof, err)))
        return rc;
    sm_conf *conf = sm_core_conf(c);
    sm_seed_answer a;
    rc = sm_commits_wait_seed(c->db, &conf->chain, sm_chain_head(&conf->chain), miner, number,
                              (int)proof, &a, err);
    sm_conf_unref(conf);
    if (rc)
        return rc;
    cJSON *o = cJSON_CreateObject(), *seed = NULL;
    if (!o || sp_json_add_bool(o, "ShouldWait", a.should_wait, err) ||
        sp_json_add_u64(o, "Delay", a.delay_s, err))
        goto nomem;
    if (a.should_wait) {
        if (sp_json_add(o, "Seed", cJSON_CreateNull(), err))
            goto nomem;
    } else {
        seed = cJSON_CreateObject();
        if (!seed || sp_json_add_base64(seed, "Seed", a.seed, 32, err) ||
            sp_json_add_i64(seed, "Epoch", a.epoch, err) || sp_json_add(o, "Seed", seed, err)) {
            seed = NULL;
            goto nomem;
        }
    }
    *result = o;
    return SP_OK;
nomem:
    cJSON_Delete(o);
    return oom(err);
}

static sp_code h_submit_proof(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    const cJSON *info;
    uint8_t *proof = NULL;
    size_t len = 0;
    bool reset = false;
    static const char *const keys[] = { "Proof", NULL };
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 3, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sp_json_get_object(call->params, 1, "ProofOnChainInfo", &info, err)) ||
        (rc = sp_json_check_params(info, 0, keys, err)) ||
        (rc = sp_json_opt_bool(call->params, 2, "reset", false, &reset, err)) ||
        (rc = sp_json_get_base64(info, -1, "Proof", 1u << 30, &proof, &len, err)))
        return rc;
    if (len == 0) {
        free(proof);
        return sp_fail(err, SP_EINVAL, "Proof: the proof is empty");
    }
    sm_conf *conf = sm_core_conf(c);
    sm_answer a;
    rc = sm_commits_submit_proof(c->db, &conf->chain, sm_chain_head(&conf->chain), miner, number,
                                 proof, len, reset, c->verify, c->verify_ctx, &a, err);
    sm_conf_unref(conf);
    free(proof);
    if (rc)
        return rc;
    if (a.code != SM_SUBMIT_ACCEPTED && a.code != SM_SUBMIT_DUPLICATE)
        SP_INFO("proof of s-t0%" PRIu64 "-%" PRIu64 " answered %d: %s", miner, number, a.code, a.desc);
    return answer_json("Res", &a, result, err);
}

static sp_code h_poll_proof(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)))
        return rc;
    sm_conf *conf = sm_core_conf(c);
    sm_answer a;
    rc = sm_commits_poll_proof(c->db, &conf->chain, sm_chain_head(&conf->chain), miner, number,
                               &a, err);
    sm_conf_unref(conf);
    return rc ? rc : answer_json("State", &a, result, err);
}

/* ---- persisted files ---------------------------------------------------------------------- */

static sp_code persisted(sp_rpc_call *call, size_t max, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    const char *store;
    bool upgrade = false;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, max, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sp_json_get_str(call->params, 1, "instance", 1, SM_STORE_NAME_MAX - 1, &store, err)) ||
        (rc = sp_json_opt_bool(call->params, 2, "isUpgrade", false, &upgrade, err)))
        return rc;
    if (upgrade)
        return sp_fail(err, SP_EINVAL, "isUpgrade: snap-up sectors are not supported by this manager");
    bool ok = false;
    char why[SM_DESC_MAX];
    if ((rc = sm_commits_persisted(c->db, miner, number, store, &ok, why, sizeof why, err)))
        return rc;
    if (!ok)
        SP_WARN("persisted files of s-t0%" PRIu64 "-%" PRIu64 " in store %s not accepted: %s", miner,
                number, store, why);
    *result = cJSON_CreateBool(ok);
    return *result ? SP_OK : oom(err);
}

static sp_code h_submit_persisted(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    return persisted(call, 2, result, err);
}

static sp_code h_submit_persisted_ex(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    return persisted(call, 3, result, err);
}

/* ---- reports ------------------------------------------------------------------------------- */

static sp_code h_report_state(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    const cJSON *req, *worker, *change, *failure = NULL;
    sm_report r = { 0 };
    static const char *const rkeys[] = { "Worker", "StateChange", "Failure", NULL };
    static const char *const wkeys[] = { "Instance", "Location", NULL };
    static const char *const ckeys[] = { "Prev", "Next", "Event", NULL };
    static const char *const fkeys[] = { "Level", "Desc", NULL };
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 2, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sp_json_get_object(call->params, 1, "ReportStateReq", &req, err)) ||
        (rc = sp_json_check_params(req, 0, rkeys, err)) ||
        (rc = sp_json_get_object(req, -1, "Worker", &worker, err)) ||
        (rc = sp_json_check_params(worker, 0, wkeys, err)) ||
        (rc = sp_json_get_str(worker, -1, "Instance", 1, SM_WORKER_MAX - 1, &r.instance, err)) ||
        (rc = sp_json_opt_str(worker, -1, "Location", 0, SM_LOCATION_MAX - 1, "", &r.location, err)) ||
        (rc = sp_json_get_object(req, -1, "StateChange", &change, err)) ||
        (rc = sp_json_check_params(change, 0, ckeys, err)) ||
        (rc = sp_json_opt_str(change, -1, "Prev", 0, SM_STATE_MAX - 1, "", &r.prev, err)) ||
        (rc = sp_json_get_str(change, -1, "Next", 1, SM_STATE_MAX - 1, &r.next, err)) ||
        (rc = sp_json_opt_str(change, -1, "Event", 0, 63, "", &r.event, err)))
        return rc;
    if (!sm_state_name_valid(r.next))
        return sp_fail(err, SP_EINVAL, "StateChange.Next: \"%.60s\" is not a state name "
                       "(letters, digits and _)", r.next);
    if (sp_json_param(req, -1, "Failure")) {
        if ((rc = sp_json_get_object(req, -1, "Failure", &failure, err)) ||
            (rc = sp_json_check_params(failure, 0, fkeys, err)) ||
            (rc = sp_json_opt_str(failure, -1, "Level", 0, 31, "error", &r.level, err)) ||
            (rc = sp_json_opt_str(failure, -1, "Desc", 0, 65536, "", &r.desc, err)))
            return rc;
    }
    bool finalized = false, aborted = false;
    char reason[SM_DESC_MAX];
    if ((rc = sm_sectors_report(c->db, miner, number, &r, &finalized, reason, sizeof reason,
                                &aborted, err)))
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add(o, "Id", sm_rpc_sector_id_json(miner, number), err) ||
        sp_json_add_bool(o, "Finalized", finalized, err) ||
        sp_json_add(o, "AbortReason", aborted ? cJSON_CreateString(reason) : cJSON_CreateNull(), err)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

static sp_code h_report_finalized(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    sp_code rc;
    (void)result;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)))
        return rc;
    return sm_sectors_finalized(c->db, miner, number, err);
}

static sp_code h_report_aborted(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    const char *reason;
    sp_code rc;
    (void)result;
    if ((rc = sm_rpc_positional(call->params, 2, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sp_json_opt_str(call->params, 1, "reason", 0, 65536, "", &reason, err)))
        return rc;
    SP_INFO("sector s-t0%" PRIu64 "-%" PRIu64 " aborted by its worker: %.200s", miner, number, reason);
    return sm_sectors_worker_aborted(c->db, miner, number, *reason ? reason : "aborted by the worker",
                                     err);
}

/* ---- stores --------------------------------------------------------------------------------- */

static cJSON *store_basic_json(const sm_store_info *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_str(o, "Name", s->def.name, NULL) ||
        sp_json_add_str(o, "Path", s->def.path, NULL) ||
        sp_json_add_bool(o, "Strict", false, NULL) ||
        sp_json_add_bool(o, "ReadOnly", s->def.readonly, NULL) ||
        sp_json_add_u64(o, "Weight", s->def.weight, NULL) ||
        sp_json_add(o, "Meta", cJSON_CreateObject(), NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static sp_code h_store_reserve(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number, size;
    const cJSON *cands = NULL;
    const char *names[MAX_LIST];
    size_t n = 0;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 3, err)) ||
        (rc = sm_rpc_sector_id(call->params, 0, "SectorID", &miner, &number, err)) ||
        (rc = sp_json_get_u64(call->params, 1, "size", 1, INT64_MAX, &size, err)))
        return rc;
    if (sp_json_param(call->params, 2, "candidates")) {
        if ((rc = sp_json_get_array(call->params, 2, "candidates", MAX_LIST, &cands, err)))
            return rc;
        for (int i = 0; i < cJSON_GetArraySize(cands); i++)
            if ((rc = sp_json_get_str(cands, i, "candidates", 1, SM_STORE_NAME_MAX - 1, &names[n++], err)))
                return rc;
        if (n == 0)
            return SP_OK; /* a worker with no writable store: nothing to choose from */
    }
    sm_sector s;
    if ((rc = sm_sectors_load(c->db, miner, number, &s, err)))
        return rc;
    if (s.aborted)
        return sp_fail(err, SP_ESTATE, "sector s-t0%" PRIu64 "-%" PRIu64 " was aborted: %s", miner,
                       number, s.abort_reason);
    sm_store_info info;
    bool found = false;
    if ((rc = sm_stores_reserve(c->db, miner, number, size, names, n, &info, &found, err)))
        return rc;
    if (!found) {
        SP_INFO("no store has %" PRIu64 " bytes for s-t0%" PRIu64 "-%" PRIu64 " among %zu candidates",
                size, miner, number, n);
        return SP_OK;
    }
    return (*result = store_basic_json(&info)) ? SP_OK : oom(err);
}

static sp_code h_store_basic_info(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *name;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_str(call->params, 0, "instanceName", 1, 1024, &name, err)))
        return rc;
    sm_store_info info;
    rc = sm_stores_get(c->db, name, &info, err);
    if (rc == SP_ENOTFOUND)
        return SP_OK; /* null: unknown store */
    if (rc)
        return rc;
    return (*result = store_basic_json(&info)) ? SP_OK : oom(err);
}

/* ---- WorkerPing ----------------------------------------------------------------------------- */

static sp_code h_worker_ping(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const cJSON *info, *sum = NULL;
    const char *name, *dest, *version;
    sm_worker_info w;
    memset(&w, 0, sizeof w);
    static const char *const keys[] = { "Name", "Dest", "Version", "Summary", NULL };
    static const char *const skeys[] = { "Threads", "Empty", "Paused", "Running", "Waiting", "Errors", NULL };
    sp_code rc;
    (void)result;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_object(call->params, 0, "WorkerInfo", &info, err)) ||
        (rc = sp_json_check_params(info, 0, keys, err)) ||
        (rc = sp_json_get_str(info, -1, "Name", 1, sizeof w.name - 1, &name, err)) ||
        (rc = sp_json_opt_str(info, -1, "Dest", 0, sizeof w.dest - 1, "", &dest, err)) ||
        (rc = sp_json_opt_str(info, -1, "Version", 0, sizeof w.version - 1, "", &version, err)))
        return rc;
    if (sp_json_param(info, -1, "Summary")) {
        uint64_t *f[] = { &w.threads, &w.empty, &w.paused, &w.running, &w.waiting, &w.errors };
        if ((rc = sp_json_get_object(info, -1, "Summary", &sum, err)) ||
            (rc = sp_json_check_params(sum, 0, skeys, err)))
            return rc;
        for (int i = 0; i < 6; i++)
            if ((rc = sp_json_opt_u64(sum, -1, skeys[i], 0, 1u << 30, 0, f[i], err)))
                return rc;
    }
    snprintf(w.name, sizeof w.name, "%s", name);
    snprintf(w.dest, sizeof w.dest, "%s", dest);
    snprintf(w.version, sizeof w.version, "%s", version);
    return sm_workers_ping(c->db, &w, err);
}

#define W (SM_SCOPE_WORKER | SM_SCOPE_ADMIN)

const sp_rpc_method sm_rpc_worker_methods[] = {
    { "Venus.AllocateSector", h_allocate_sector, W },
    { "Venus.AcquireDeals", h_acquire_deals, W },
    { "Venus.AssignTicket", h_assign_ticket, W },
    { "Venus.SubmitPreCommit", h_submit_precommit, W },
    { "Venus.PollPreCommitState", h_poll_precommit, W },
    { "Venus.SubmitPersisted", h_submit_persisted, W },
    { "Venus.SubmitPersistedEx", h_submit_persisted_ex, W },
    { "Venus.WaitSeed", h_wait_seed, W },
    { "Venus.SubmitProof", h_submit_proof, W },
    { "Venus.PollProofState", h_poll_proof, W },
    { "Venus.ReportState", h_report_state, W },
    { "Venus.ReportFinalized", h_report_finalized, W },
    { "Venus.ReportAborted", h_report_aborted, W },
    { "Venus.StoreReserveSpace", h_store_reserve, W },
    { "Venus.StoreBasicInfo", h_store_basic_info, W },
    { "Venus.WorkerPing", h_worker_ping, W },
};
const size_t sm_rpc_worker_count = sizeof sm_rpc_worker_methods / sizeof sm_rpc_worker_methods[0];
