/* rpc_storage.c — the JSON-RPC methods of storage tiers and the block scheduler
 * (docs/rpc.md): worker-scope unseal tasks (damocles' AllocateUnsealSector,
 * AcquireUnsealDest, AchieveUnsealSector) and admin-scope storage jobs, blocks, piece
 * blocks and copies, GC, pins, redeclare and the copy journal. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sm_blocks.h"
#include "sm_copies.h"
#include "sm_core.h"
#include "sm_deals.h"
#include "sm_gc.h"
#include "sm_objects.h"
#include "sm_pieces.h"
#include "sm_rpc.h"
#include "sm_sectors.h"
#include "sm_storage.h"
#include "sm_stores.h"
#include "sm_tokens.h"
#include "sm_unseal.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"

#define MAX_LIST 64

static sp_code oom(sp_err *err)
{
    return sp_fail(err, SP_ENOMEM, "out of memory building the answer");
}

static sm_storage *service(sm_core *c, sp_err *err)
{
    if (!c->storage)
        sp_fail(err, SP_ESTATE, "the storage service is not running");
    return c->storage;
}

/* ---- worker: unseal tasks ----------------------------------------------------------------------- */

static cJSON *unseal_info_json(const sm_unseal_task *t, const sm_sector *s)
{
    cJSON *o = cJSON_CreateObject(), *sector = cJSON_CreateObject(), *ticket = cJSON_CreateObject(),
          *priv = cJSON_CreateObject();
    if (!o || !sector || !ticket || !priv || sp_json_add(sector, "ID", sm_rpc_sector_id_json(t->miner, t->number), NULL) ||
        sp_json_add_i64(sector, "ProofType", s->proof_type, NULL) ||
        sp_json_add_base64(ticket, "Ticket", s->pc_ticket, 32, NULL) ||
        sp_json_add_i64(ticket, "Epoch", s->pc_ticket_epoch, NULL) ||
        sp_json_add_str(priv, "AccessInstance", s->store, NULL)) {
        cJSON_Delete(o);
        cJSON_Delete(sector);
        cJSON_Delete(ticket);
        cJSON_Delete(priv);
        return NULL;
    }
    if (sp_json_add(o, "Sector", sector, NULL) || sp_json_add(o, "PieceCid", sm_rpc_cid_json(t->piece), NULL) ||
        sp_json_add_u64(o, "Offset", t->offset, NULL) || sp_json_add_u64(o, "Size", t->size, NULL) ||
        sp_json_add(o, "PrivateInfo", priv, NULL) || sp_json_add(o, "Ticket", ticket, NULL) ||
        sp_json_add(o, "CommD", sm_rpc_comm_json(s->pc_comm_d), NULL) ||
        sp_json_add(o, "Dest", cJSON_CreateArray(), NULL) || sp_json_add_u64(o, "State", 1, NULL) ||
        sp_json_add_str(o, "ErrorInfo", "", NULL) || sp_json_add_u64(o, "TaskID", (uint64_t)t->id, NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static sp_code h_allocate_unseal(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miners[MAX_LIST];
    size_t nm = 0;
    static const char *const keys[] = { "AllowedMiners", "AllowedProofTypes", NULL };
    sp_code rc = sm_rpc_positional(call->params, 1, err);
    if (rc)
        return rc;
    if (sp_json_param(call->params, 0, "spec")) {
        const cJSON *spec, *a;
        if ((rc = sp_json_get_object(call->params, 0, "spec", &spec, err)) ||
            (rc = sp_json_check_params(spec, 0, keys, err)))
            return rc;
        if (sp_json_param(spec, -1, "AllowedMiners")) {
            if ((rc = sp_json_get_array(spec, -1, "AllowedMiners", MAX_LIST, &a, err)))
                return rc;
            for (int i = 0; i < cJSON_GetArraySize(a); i++)
                if ((rc = sp_json_get_u64(a, i, "AllowedMiners", 0, INT64_MAX, &miners[nm++], err)))
                    return rc;
        }
        /* Tasks are picked by miner only; the proof types are still checked so that a
         * malformed spec is refused as AllocateSector refuses it, not silently taken. */
        if (sp_json_param(spec, -1, "AllowedProofTypes")) {
            if ((rc = sp_json_get_array(spec, -1, "AllowedProofTypes", MAX_LIST, &a, err)))
                return rc;
            for (int i = 0; i < cJSON_GetArraySize(a); i++) {
                uint64_t proof;
                if ((rc = sp_json_get_u64(a, i, "AllowedProofTypes", 0, INT64_MAX, &proof, err)))
                    return rc;
            }
        }
    }
    sm_unseal_task t;
    bool found = false;
    if ((rc = sm_unseal_allocate(c->db, miners, nm, call->peer, &t, &found, err)))
        return rc;
    if (!found)
        return SP_OK; /* null: nothing to unseal now */
    sm_sector s;
    if ((rc = sm_sectors_load(c->db, t.miner, t.number, &s, err)))
        return rc;
    return (*result = unseal_info_json(&t, &s)) ? SP_OK : oom(err);
}

static sp_code sector_and_piece(sp_rpc_call *call, uint64_t *miner, uint64_t *number, const char **piece,
                                sp_err *err)
{
    sp_code rc;
    if ((rc = sm_rpc_sector_id(call->params, 0, "SectorID", miner, number, err)) ||
        (rc = sm_rpc_get_cid(call->params, 1, "PieceCid", piece, err)))
        return rc;
    char path[4400];
    return sm_pieces_path("", *piece, path, sizeof path, err);
}

static sp_code h_acquire_unseal_dest(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    const char *piece, *names[MAX_LIST];
    size_t n = 0;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 3, err)) ||
        (rc = sector_and_piece(call, &miner, &number, &piece, err)))
        return rc;
    if (sp_json_param(call->params, 2, "candidates")) {
        const cJSON *a;
        if ((rc = sp_json_get_array(call->params, 2, "candidates", MAX_LIST, &a, err)))
            return rc;
        for (int i = 0; i < cJSON_GetArraySize(a); i++)
            if ((rc = sp_json_get_str(a, i, "candidates", 1, SM_STORE_NAME_MAX - 1, &names[n++], err)))
                return rc;
    }
    sm_conf *conf = sm_core_conf(c);
    char store[SM_STORE_NAME_MAX];
    rc = sm_unseal_dest(c->db, conf, miner, number, piece, names, n, store, sizeof store, err);
    sm_conf_unref(conf);
    if (rc)
        return rc;
    char url[512];
    snprintf(url, sizeof url, "store://%s/unsealed/%s", store, piece);
    cJSON *a = cJSON_CreateArray();
    if (!a || !cJSON_AddItemToArray(a, cJSON_CreateString(url))) {
        cJSON_Delete(a);
        return oom(err);
    }
    *result = a;
    return SP_OK;
}

static sp_code h_achieve_unseal(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t miner, number;
    const char *piece, *info;
    sp_code rc;
    (void)result;
    if ((rc = sm_rpc_positional(call->params, 3, err)) ||
        (rc = sector_and_piece(call, &miner, &number, &piece, err)) ||
        (rc = sp_json_opt_str(call->params, 2, "errInfo", 0, 4096, "", &info, err)) ||
        (rc = sm_unseal_achieve(c->db, miner, number, piece, info, err)))
        return rc;
    if (!*info && c->storage)
        sm_storage_wake(c->storage);
    return SP_OK;
}

/* ---- admin: jobs --------------------------------------------------------------------------------- */

static sp_code h_job_start(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const cJSON *o;
    const char *kind, *store;
    bool apply, deep;
    static const char *const keys[] = { "Kind", "Apply", "Deep", "Store", NULL };
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_object(call->params, 0, "job", &o, err)) ||
        (rc = sp_json_check_params(o, 0, keys, err)) ||
        (rc = sp_json_get_str(o, -1, "Kind", 1, 32, &kind, err)) ||
        (rc = sp_json_opt_bool(o, -1, "Apply", false, &apply, err)) ||
        (rc = sp_json_opt_bool(o, -1, "Deep", false, &deep, err)) ||
        (rc = sp_json_opt_str(o, -1, "Store", 0, SM_STORE_NAME_MAX - 1, "", &store, err)))
        return rc;
    sm_job_req req = { .apply = apply, .deep = deep };
    int k = -1;
    for (int i = 0; i < SM_JOB_COUNT; i++)
        if (strcmp(kind, sm_job_kind_name((sm_job_kind)i)) == 0)
            k = i;
    if (k < 0)
        return sp_fail(err, SP_EINVAL, "Kind: \"%.32s\" is not a storage job (index, copies, reconcile, "
                       "moves, scrub, gc-mark, gc-sweep, unseal, health, redeclare)", kind);
    req.kind = (sm_job_kind)k;
    /* Store narrows the job to one store: a name no store has would silently match none. */
    if (*store) {
        sm_store_info info;
        if (!sm_store_name_valid(store))
            return sp_fail(err, SP_EINVAL, "Store: \"%.80s\" is not a store name", store);
        if ((rc = sm_stores_get(c->db, store, &info, err)))
            return rc;
    }
    snprintf(req.store, sizeof req.store, "%s", store);
    sm_storage *st = service(c, err);
    uint64_t id;
    if (!st)
        return SP_ESTATE;
    if ((rc = sm_storage_submit(st, &req, &id, err)))
        return rc;
    cJSON *r = cJSON_CreateObject();
    if (!r || sp_json_add_u64(r, "ID", id, NULL)) {
        cJSON_Delete(r);
        return oom(err);
    }
    *result = r;
    return SP_OK;
}

static sp_code h_job(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t id;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_u64(call->params, 0, "id", 1, INT64_MAX, &id, err)))
        return rc;
    sm_storage *st = service(c, err);
    if (!st)
        return SP_ESTATE;
    return sm_storage_job_json(st, id, result, err);
}

/* ---- admin: blocks and pieces ------------------------------------------------------------------------ */

static cJSON *copies_json(sm_core *c, const char *piece, sp_err *err)
{
    sm_conf *conf = sm_core_conf(c);
    char piece_dir[sizeof conf->piece_dir];
    snprintf(piece_dir, sizeof piece_dir, "%s", conf->piece_dir);
    sm_conf_unref(conf);
    cJSON *a = cJSON_CreateArray();
    sm_object o;
    sm_replica *reps = NULL;
    size_t nr = 0;
    if (a && sm_objects_get(c->db, SM_KIND_UNSEALED, piece, &o, NULL) == SP_OK &&
        sm_objects_replicas(c->db, o.id, &reps, &nr, err) == SP_OK) {
        uint64_t now = sp_wall_ms();
        for (size_t i = 0; i < nr; i++) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddItemToArray(a, r);
            sm_store_info st;
            bool up = sm_stores_get(c->db, reps[i].store, &st, NULL) == SP_OK && st.reachable &&
                      !sm_store_cooling(&st, now);
            sp_json_add_str(r, "Store", reps[i].store, NULL);
            sp_json_add_bool(r, "StoreUp", up, NULL);
            sp_json_add_str(r, "Tier", sm_tier_name(reps[i].tier), NULL);
            sp_json_add_str(r, "State", reps[i].state, NULL);
            sp_json_add_u64(r, "Size", reps[i].size, NULL);
            sp_json_add_u64(r, "Checked", reps[i].checked_ms, NULL);
            sp_json_add(r, "Finding", sm_rpc_str_or_null(reps[i].finding), NULL);
        }
    }
    free(reps);
    char path[4400];
    if (a && snprintf(path, sizeof path, "%s/%s", piece_dir, piece) < (int)sizeof path &&
        sp_file_size(path) >= 0) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddItemToArray(a, r);
        sp_json_add_str(r, "Store", "", NULL);
        sp_json_add_bool(r, "StoreUp", true, NULL);
        sp_json_add_str(r, "Tier", "piece store", NULL);
        sp_json_add_str(r, "State", "ok", NULL);
        sp_json_add_u64(r, "Size", (uint64_t)sp_file_size(path), NULL);
    }
    return a;
}

static cJSON *block_json(const sm_block_loc *l)
{
    cJSON *o = cJSON_CreateObject();
    sm_cid cid;
    char s[SM_CID_STR_MAX] = "";
    if (sm_cid_from_mh(1, l->codec, l->mh, l->mh_len, &cid, NULL) == SP_OK)
        sm_cid_format(&cid, s, sizeof s);
    char codec[24];
    if (!o || sp_json_add_str(o, "CID", s, NULL) || sp_json_add_u64(o, "Offset", l->offset, NULL) ||
        sp_json_add_u64(o, "Length", l->length, NULL) ||
        sp_json_add_str(o, "Codec", sm_codec_name(l->codec, codec, sizeof codec), NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static sp_code h_piece_blocks(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *cid;
    int64_t after;
    uint64_t limit;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 3, err)) ||
        (rc = sm_rpc_get_cid(call->params, 0, "PieceCID", &cid, err)) ||
        (rc = sp_json_opt_i64(call->params, 1, "after", -1, INT64_MAX, -1, &after, err)) ||
        (rc = sp_json_opt_u64(call->params, 2, "limit", 1, 10000, 1000, &limit, err)))
        return rc;
    sm_index_info info;
    if ((rc = sm_blocks_info(c->db, cid, &info, err)))
        return rc;
    sm_block_loc *v = calloc((size_t)limit, sizeof *v);
    size_t n = 0;
    if (!v)
        return oom(err);
    if ((rc = sm_blocks_of_piece(c->db, cid, after, (size_t)limit, v, &n, err))) {
        free(v);
        return rc;
    }
    cJSON *o = cJSON_CreateObject(), *blocks = cJSON_CreateArray(), *idx = cJSON_CreateObject();
    for (size_t i = 0; blocks && i < n; i++)
        cJSON_AddItemToArray(blocks, block_json(&v[i]));
    free(v);
    sm_unseal_task *tasks = NULL;
    size_t nt = 0;
    cJSON *ta = cJSON_CreateArray();
    if (ta && sm_unseal_list(c->db, cid, 10, &tasks, &nt, NULL) == SP_OK) {
        for (size_t i = 0; i < nt; i++) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddItemToArray(ta, t);
            sp_json_add_u64(t, "ID", (uint64_t)tasks[i].id, NULL);
            sp_json_add(t, "Sector", sm_rpc_sector_id_json(tasks[i].miner, tasks[i].number), NULL);
            sp_json_add_str(t, "State", tasks[i].state, NULL);
            sp_json_add_str(t, "Worker", tasks[i].worker, NULL);
            sp_json_add_str(t, "Dest", tasks[i].dest, NULL);
            sp_json_add_u64(t, "Attempts", tasks[i].attempts, NULL);
            sp_json_add(t, "Error", sm_rpc_str_or_null(tasks[i].error), NULL);
            sp_json_add_u64(t, "Updated", tasks[i].updated_ms, NULL);
        }
    }
    free(tasks);
    if (!o || !blocks || !idx || sp_json_add_str(idx, "State", info.state, NULL) ||
        sp_json_add_str(idx, "Kind", info.kind, NULL) || sp_json_add_u64(idx, "Blocks", info.blocks, NULL) ||
        sp_json_add(idx, "Roots", sm_rpc_str_or_null(info.roots), NULL) ||
        sp_json_add(idx, "Error", sm_rpc_str_or_null(info.error), NULL) ||
        sp_json_add_str(o, "PieceCID", cid, NULL) || sp_json_add(o, "Index", idx, NULL) ||
        sp_json_add(o, "Blocks", blocks, NULL) || sp_json_add(o, "Copies", copies_json(c, cid, err), NULL) ||
        sp_json_add(o, "Unseal", ta, NULL)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

static sp_code h_block_stat(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *text;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_str(call->params, 0, "CID", 1, SM_CID_STR_MAX - 1, &text, err)))
        return rc;
    sm_cid cid;
    if ((rc = sm_cid_parse(text, &cid, err)))
        return rc;
    sm_block_loc locs[16];
    size_t n = 0;
    if ((rc = sm_blocks_find(c->db, cid.mh, cid.mh_len, locs, 16, &n, err)))
        return rc;
    if (n == 0)
        return sp_fail(err, SP_ENOTFOUND, "block %s is in no stored piece", text);
    char canon[SM_CID_STR_MAX], codec[24], hex[2 * SM_MH_MAX + 1];
    sm_cid_format(&cid, canon, sizeof canon);
    for (size_t i = 0; i < cid.mh_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", cid.mh[i]);
    cJSON *o = cJSON_CreateObject(), *a = cJSON_CreateArray();
    bool l1 = false, l2 = false;
    if (c->storage) {
        uint8_t *d = NULL;
        size_t dl = 0;
        l1 = sm_l1_get(sm_storage_l1(c->storage), cid.mh, cid.mh_len, &d, &dl);
        free(d);
        char path[4400];
        sm_l2 *c2 = sm_storage_l2(c->storage);
        if (c2) {
            snprintf(path, sizeof path, "%s/%02x/%s", sm_l2_dir(c2), cid.mh[cid.mh_len - 1], hex);
            l2 = sp_path_exists(path);
        }
    }
    for (size_t i = 0; a && i < n; i++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddItemToArray(a, l);
        sp_json_add_str(l, "PieceCID", locs[i].piece, NULL);
        sp_json_add_u64(l, "Offset", locs[i].offset, NULL);
        sp_json_add_u64(l, "Length", locs[i].length, NULL);
        sm_deal_row *d = NULL;
        size_t nd = 0;
        cJSON *sectors = cJSON_CreateArray();
        if (sm_deals_list(c->db, locs[i].piece, 16, &d, &nd, NULL) == SP_OK)
            for (size_t j = 0; sectors && j < nd; j++) {
                if (!d[j].has_sector)
                    continue;
                cJSON *s = cJSON_CreateObject();
                cJSON_AddItemToArray(sectors, s);
                sp_json_add(s, "ID", sm_rpc_sector_id_json(d[j].miner, d[j].sector), NULL);
                sp_json_add_str(s, "DealState", d[j].state, NULL);
                /* where the block's bytes sit in the sector, in unpadded bytes */
                sp_json_add_u64(s, "PieceOffset", d[j].offset / 128 * 127, NULL);
            }
        free(d);
        sp_json_add(l, "Sectors", sectors, NULL);
        sp_json_add(l, "Copies", copies_json(c, locs[i].piece, NULL), NULL);
    }
    if (!o || !a || sp_json_add_str(o, "CID", canon, NULL) || sp_json_add_str(o, "Multihash", hex, NULL) ||
        sp_json_add_str(o, "Codec", sm_codec_name(cid.codec, codec, sizeof codec), NULL) ||
        sp_json_add_u64(o, "Size", locs[0].length, NULL) || sp_json_add_bool(o, "InL1", l1, NULL) ||
        sp_json_add_bool(o, "InL2", l2, NULL) || sp_json_add(o, "Locations", a, NULL)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

/* ---- admin: GC and pins ---------------------------------------------------------------------------- */

static cJSON *mark_json(const sm_gc_mark *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, "ID", (uint64_t)m->id, NULL) || sp_json_add_str(o, "Store", m->store, NULL) ||
        sp_json_add_str(o, "Path", m->path, NULL) || sp_json_add_str(o, "Target", m->target, NULL) ||
        sp_json_add_str(o, "Reason", m->reason, NULL) || sp_json_add_u64(o, "Size", m->size, NULL) ||
        sp_json_add_str(o, "State", m->state, NULL) || sp_json_add(o, "Trash", sm_rpc_str_or_null(m->trash), NULL) ||
        sp_json_add(o, "Note", sm_rpc_str_or_null(m->note), NULL) ||
        sp_json_add_u64(o, "Marked", m->marked_ms, NULL) || sp_json_add_u64(o, "Approved", m->approved_ms, NULL) ||
        sp_json_add_u64(o, "Trashed", m->trashed_ms, NULL) || sp_json_add_u64(o, "Done", m->done_ms, NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static sp_code h_gc_list(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *state;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_opt_str(call->params, 0, "state", 0, 16, "", &state, err)))
        return rc;
    if (*state && strcmp(state, "marked") && strcmp(state, "approved") && strcmp(state, "trashed") &&
        strcmp(state, "deleted") && strcmp(state, "cancelled"))
        return sp_fail(err, SP_EINVAL, "state: \"%.16s\" is not marked, approved, trashed, deleted or "
                       "cancelled", state);
    sm_gc_mark *v = NULL;
    size_t n = 0;
    if ((rc = sm_gc_list(c->db, state, &v, &n, err)))
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, mark_json(&v[i]));
    free(v);
    return (*result = a) ? SP_OK : oom(err);
}

static sp_code h_gc_approve(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const cJSON *ids;
    int64_t v[1000];
    size_t n = 0;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_array(call->params, 0, "ids", 1000, &ids, err)))
        return rc;
    for (int i = 0; i < cJSON_GetArraySize(ids); i++) {
        uint64_t id;
        if ((rc = sp_json_get_u64(ids, i, "ids", 1, INT64_MAX, &id, err)))
            return rc;
        v[n++] = (int64_t)id;
    }
    if (n == 0)
        return sp_fail(err, SP_EINVAL, "ids: give the marks to approve (an empty list approves nothing; "
                       "`gc approve --all` sends Sealpipe.GCApproveAll)");
    int approved = 0;
    if ((rc = sm_gc_approve(c->db, v, n, &approved, err)))
        return rc;
    SP_INFO("gc: %d mark(s) approved by the admin", approved);
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, "Approved", (uint64_t)approved, NULL)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

static sp_code h_gc_approve_all(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    int approved = 0;
    if ((rc = sm_gc_approve(c->db, NULL, 0, &approved, err)))
        return rc;
    SP_INFO("gc: every mark (%d) approved by the admin", approved);
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, "Approved", (uint64_t)approved, NULL)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

static sp_code h_gc_pin(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *target, *note;
    sp_code rc;
    (void)result;
    if ((rc = sm_rpc_positional(call->params, 2, err)) ||
        (rc = sp_json_get_str(call->params, 0, "target", 1, 299, &target, err)) ||
        (rc = sp_json_opt_str(call->params, 1, "note", 0, 200, "", &note, err)) ||
        (rc = sm_gc_pin(c->db, target, note, err)))
        return rc;
    SP_INFO("gc: %s pinned", target);
    return SP_OK;
}

static sp_code h_gc_unpin(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *target;
    sp_code rc;
    (void)result;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_get_str(call->params, 0, "target", 1, 299, &target, err)) ||
        (rc = sm_gc_unpin(c->db, target, err)))
        return rc;
    SP_INFO("gc: %s unpinned", target);
    return SP_OK;
}

static sp_code h_gc_pins(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    sp_code rc = sm_rpc_positional(call->params, 0, err);
    if (rc)
        return rc;
    char(*v)[300] = NULL;
    size_t n = 0;
    if ((rc = sm_gc_pins(c->db, &v, &n, err)))
        return rc;
    sm_conf *conf = sm_core_conf(c);
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        sp_json_add_str(o, "Target", v[i], NULL);
        sp_json_add_str(o, "From", "gc pin", NULL);
    }
    for (size_t i = 0; a && i < conf->storage.n_pins; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        sp_json_add_str(o, "Target", conf->storage.pins[i], NULL);
        sp_json_add_str(o, "From", "manager.cfg", NULL);
    }
    sm_conf_unref(conf);
    free(v);
    return (*result = a) ? SP_OK : oom(err);
}

/* ---- admin: stores and the journal ------------------------------------------------------------------ */

static sp_code h_redeclare(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *name;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_opt_str(call->params, 0, "name", 0, SM_STORE_NAME_MAX - 1, "", &name, err)))
        return rc;
    int changed = 0;
    if ((rc = sm_stores_redeclare(c->db, *name ? name : NULL, &changed, err)))
        return rc;
    /* scanning the directories for replicas is a job: it reads every object's files */
    sm_job_req req = { .kind = SM_JOB_REDECLARE };
    snprintf(req.store, sizeof req.store, "%s", name);
    uint64_t id = 0;
    sm_storage *st = service(c, err);
    if (!st)
        return SP_ESTATE;
    if ((rc = sm_storage_submit(st, &req, &id, err)))
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, "Updated", (uint64_t)changed, NULL) || sp_json_add_u64(o, "Job", id, NULL)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

static sp_code h_copies(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    uint64_t limit;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_opt_u64(call->params, 0, "limit", 1, 10000, 100, &limit, err)))
        return rc;
    sm_copy *v = NULL;
    size_t n = 0;
    if ((rc = sm_copies_recent(c->db, (size_t)limit, &v, &n, err)))
        return rc;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        sm_object o;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddItemToArray(a, e);
        sp_json_add_u64(e, "ID", (uint64_t)v[i].id, NULL);
        if (sm_objects_get_id(c->db, v[i].object_id, &o, NULL) == SP_OK) {
            sp_json_add_str(e, "Object", o.name, NULL);
            sp_json_add_str(e, "Kind", sm_kind_name(o.kind), NULL);
        }
        sp_json_add_str(e, "From", v[i].src[0] ? v[i].src : "piece store", NULL);
        sp_json_add_str(e, "To", v[i].dst, NULL);
        sp_json_add_str(e, "Tier", sm_tier_name(v[i].tier), NULL);
        sp_json_add_bool(e, "Move", v[i].move, NULL);
        sp_json_add_str(e, "Reason", v[i].reason, NULL);
        sp_json_add_str(e, "State", v[i].state, NULL);
        sp_json_add_u64(e, "Size", v[i].size, NULL);
        sp_json_add(e, "Error", sm_rpc_str_or_null(v[i].error), NULL);
        sp_json_add_u64(e, "Created", v[i].created_ms, NULL);
        sp_json_add_u64(e, "Updated", v[i].updated_ms, NULL);
    }
    free(v);
    return (*result = a) ? SP_OK : oom(err);
}

static sp_code h_index_rebuild(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sm_core *c = call->ctx;
    const char *cid;
    sp_code rc;
    if ((rc = sm_rpc_positional(call->params, 1, err)) ||
        (rc = sp_json_opt_str(call->params, 0, "PieceCID", 0, PF_COMMCID_STR_MAX - 1, "", &cid, err)))
        return rc;
    sm_storage *st = service(c, err);
    if (!st)
        return SP_ESTATE;
    int64_t pieces = 0;
    if ((rc = sm_blocks_reset(c->db, *cid ? cid : NULL, &pieces, err)))
        return rc;
    sm_job_req req = { .kind = SM_JOB_INDEX };
    uint64_t id = 0;
    if ((rc = sm_storage_submit(st, &req, &id, err)))
        return rc;
    SP_INFO("index rebuild of %" PRId64 " piece(s) asked by the admin", pieces);
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, "Pieces", (uint64_t)pieces, NULL) || sp_json_add_u64(o, "Job", id, NULL)) {
        cJSON_Delete(o);
        return oom(err);
    }
    *result = o;
    return SP_OK;
}

/* docs/rpc.md: the admin scope is everything, worker methods included. */
#define W (SM_SCOPE_WORKER | SM_SCOPE_ADMIN)
#define A SM_SCOPE_ADMIN

const sp_rpc_method sm_rpc_storage_methods[] = {
    { "Venus.AllocateUnsealSector", h_allocate_unseal, W },
    { "Venus.AcquireUnsealDest", h_acquire_unseal_dest, W },
    { "Venus.AchieveUnsealSector", h_achieve_unseal, W },
    { "Sealpipe.StorageJobStart", h_job_start, A },
    { "Sealpipe.StorageJob", h_job, A },
    { "Sealpipe.StorageRedeclare", h_redeclare, A },
    { "Sealpipe.StorageCopies", h_copies, A },
    { "Sealpipe.BlockStat", h_block_stat, A },
    { "Sealpipe.PieceBlocks", h_piece_blocks, A },
    { "Sealpipe.IndexRebuild", h_index_rebuild, A },
    { "Sealpipe.GCList", h_gc_list, A },
    { "Sealpipe.GCApprove", h_gc_approve, A },
    { "Sealpipe.GCApproveAll", h_gc_approve_all, A },
    { "Sealpipe.GCPin", h_gc_pin, A },
    { "Sealpipe.GCUnpin", h_gc_unpin, A },
    { "Sealpipe.GCPins", h_gc_pins, A },
};
const size_t sm_rpc_storage_count = sizeof sm_rpc_storage_methods / sizeof sm_rpc_storage_methods[0];
