/* sector_state.c — the sector state machine: state and event names, one transition table
 * per plan, applying an event to a record, and the record's JSON form (wk_sector.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sp_codec.h"
#include "sp_json.h"
#include "wk_sector.h"

static const char *const state_names[WK_ST_COUNT] = {
    [WK_ST_EMPTY] = "Empty",
    [WK_ST_ALLOCATED] = "Allocated",
    [WK_ST_DEALS_ACQUIRED] = "DealsAcquired",
    [WK_ST_PIECE_ADDED] = "PieceAdded",
    [WK_ST_TREE_D_BUILT] = "TreeDBuilt",
    [WK_ST_TICKET_ASSIGNED] = "TicketAssigned",
    [WK_ST_PC1_DONE] = "PC1Done",
    [WK_ST_PC2_DONE] = "PC2Done",
    [WK_ST_PC_SUBMITTED] = "PCSubmitted",
    [WK_ST_PC_LANDED] = "PCLanded",
    [WK_ST_PERSISTED] = "Persisted",
    [WK_ST_PERSISTANCE_SUBMITTED] = "PersistanceSubmitted",
    [WK_ST_SEED_ASSIGNED] = "SeedAssigned",
    [WK_ST_C1_DONE] = "C1Done",
    [WK_ST_C2_DONE] = "C2Done",
    [WK_ST_PROOF_SUBMITTED] = "ProofSubmitted",
    [WK_ST_FINISHED] = "Finished",
    [WK_ST_ABORTED] = "Aborted",
    [WK_ST_UNSEALED] = "Unsealed",
};

static const char *const event_names[WK_EV_COUNT] = {
    [WK_EV_ALLOCATE] = "Allocate",
    [WK_EV_ACQUIRE_DEALS] = "AcquireDeals",
    [WK_EV_ADD_PIECE] = "AddPiece",
    [WK_EV_BUILD_TREE_D] = "BuildTreeD",
    [WK_EV_ASSIGN_TICKET] = "AssignTicket",
    [WK_EV_PC1] = "PC1",
    [WK_EV_PC2] = "PC2",
    [WK_EV_SUBMIT_PC] = "SubmitPC",
    [WK_EV_CHECK_PC] = "CheckPC",
    [WK_EV_RESUBMIT_PC] = "ReSubmitPC",
    [WK_EV_PERSIST] = "Persist",
    [WK_EV_SUBMIT_PERSISTANCE] = "SubmitPersistance",
    [WK_EV_ASSIGN_SEED] = "AssignSeed",
    [WK_EV_C1] = "C1",
    [WK_EV_C2] = "C2",
    [WK_EV_SUBMIT_PROOF] = "SubmitProof",
    [WK_EV_RESUBMIT_PROOF] = "ReSubmitProof",
    [WK_EV_FINISH] = "Finish",
    [WK_EV_ABORT] = "Abort",
    [WK_EV_UNSEAL] = "Unseal",
    [WK_EV_UPLOAD_PIECE_DONE] = "UploadPieceDone",
};

static const char *const level_names[] = {
    [WK_LEVEL_NONE] = "none",
    [WK_LEVEL_TEMPORARY] = "temporary",
    [WK_LEVEL_PERMANENT] = "permanent",
    [WK_LEVEL_CRITICAL] = "critical",
    [WK_LEVEL_ABORT] = "abort",
};

static const wk_transition sealer_table[] = {
    { WK_ST_EMPTY, WK_EV_ALLOCATE, WK_ST_ALLOCATED },
    { WK_ST_ALLOCATED, WK_EV_ACQUIRE_DEALS, WK_ST_DEALS_ACQUIRED },
    { WK_ST_DEALS_ACQUIRED, WK_EV_ADD_PIECE, WK_ST_PIECE_ADDED },
    { WK_ST_PIECE_ADDED, WK_EV_BUILD_TREE_D, WK_ST_TREE_D_BUILT },
    { WK_ST_TREE_D_BUILT, WK_EV_ASSIGN_TICKET, WK_ST_TICKET_ASSIGNED },
    { WK_ST_TICKET_ASSIGNED, WK_EV_PC1, WK_ST_PC1_DONE },
    { WK_ST_PC1_DONE, WK_EV_PC2, WK_ST_PC2_DONE },
    { WK_ST_PC2_DONE, WK_EV_SUBMIT_PC, WK_ST_PC_SUBMITTED },
    { WK_ST_PC_SUBMITTED, WK_EV_CHECK_PC, WK_ST_PC_LANDED },
    { WK_ST_PC_SUBMITTED, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
    { WK_ST_PC_LANDED, WK_EV_PERSIST, WK_ST_PERSISTED },
    { WK_ST_PERSISTED, WK_EV_SUBMIT_PERSISTANCE, WK_ST_PERSISTANCE_SUBMITTED },
    { WK_ST_PERSISTANCE_SUBMITTED, WK_EV_ASSIGN_SEED, WK_ST_SEED_ASSIGNED },
    { WK_ST_SEED_ASSIGNED, WK_EV_C1, WK_ST_C1_DONE },
    { WK_ST_C1_DONE, WK_EV_C2, WK_ST_C2_DONE },
    { WK_ST_C2_DONE, WK_EV_SUBMIT_PROOF, WK_ST_PROOF_SUBMITTED },
    { WK_ST_PROOF_SUBMITTED, WK_EV_FINISH, WK_ST_FINISHED },
    { WK_ST_PROOF_SUBMITTED, WK_EV_RESUBMIT_PROOF, WK_ST_C2_DONE },
    /* the manager lost the precommit (restored from an older backup): submit it again */
    { WK_ST_PC_LANDED, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
    { WK_ST_PERSISTED, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
    { WK_ST_PERSISTANCE_SUBMITTED, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
    { WK_ST_SEED_ASSIGNED, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
    { WK_ST_C1_DONE, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
    { WK_ST_C2_DONE, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
    { WK_ST_PROOF_SUBMITTED, WK_EV_RESUBMIT_PC, WK_ST_PC2_DONE },
};

static const wk_transition unseal_table[] = {
    { WK_ST_EMPTY, WK_EV_ALLOCATE, WK_ST_ALLOCATED },
    { WK_ST_ALLOCATED, WK_EV_UNSEAL, WK_ST_UNSEALED },
    { WK_ST_UNSEALED, WK_EV_UPLOAD_PIECE_DONE, WK_ST_FINISHED },
};

/* The stage each sealer state's handler runs, for status lines. */
static const char *const sealer_stage[WK_ST_COUNT] = {
    [WK_ST_EMPTY] = "allocate",
    [WK_ST_ALLOCATED] = "acquire_deals",
    [WK_ST_DEALS_ACQUIRED] = "add_pieces",
    [WK_ST_PIECE_ADDED] = "tree_d",
    [WK_ST_TREE_D_BUILT] = "ticket",
    [WK_ST_TICKET_ASSIGNED] = "pc1",
    [WK_ST_PC1_DONE] = "pc2",
    [WK_ST_PC2_DONE] = "submit_precommit",
    [WK_ST_PC_SUBMITTED] = "wait_precommit",
    [WK_ST_PC_LANDED] = "persist",
    [WK_ST_PERSISTED] = "submit_persisted",
    [WK_ST_PERSISTANCE_SUBMITTED] = "wait_seed",
    [WK_ST_SEED_ASSIGNED] = "c1",
    [WK_ST_C1_DONE] = "c2",
    [WK_ST_C2_DONE] = "submit_proof",
    [WK_ST_PROOF_SUBMITTED] = "wait_proof",
    [WK_ST_FINISHED] = "finalize",
    [WK_ST_ABORTED] = "abort",
};

static const char *const unseal_stage[WK_ST_COUNT] = {
    [WK_ST_EMPTY] = "allocate",
    [WK_ST_ALLOCATED] = "unseal",
    [WK_ST_UNSEALED] = "upload",
    [WK_ST_FINISHED] = "finalize",
    [WK_ST_ABORTED] = "abort",
};

const char *wk_state_name(wk_state s)
{
    return (unsigned)s < WK_ST_COUNT ? state_names[s] : "?";
}

int wk_state_parse(const char *name)
{
    for (int i = 0; name && i < WK_ST_COUNT; i++)
        if (!strcasecmp(name, state_names[i]))
            return i;
    return -1;
}

const char *wk_event_name(wk_event e)
{
    return (unsigned)e < WK_EV_COUNT ? event_names[e] : "?";
}

int wk_event_parse(const char *name)
{
    for (int i = 0; name && i < WK_EV_COUNT; i++)
        if (!strcasecmp(name, event_names[i]))
            return i;
    return -1;
}

const char *wk_level_name(wk_level l)
{
    return (unsigned)l <= WK_LEVEL_ABORT ? level_names[l] : "?";
}

const char *wk_plan_name(wk_plan_kind p)
{
    return p == WK_PLAN_UNSEAL ? "unseal" : "sealer";
}

const wk_transition *wk_plan_table(wk_plan_kind p, int *n)
{
    if (p == WK_PLAN_UNSEAL) {
        *n = (int)(sizeof unseal_table / sizeof unseal_table[0]);
        return unseal_table;
    }
    *n = (int)(sizeof sealer_table / sizeof sealer_table[0]);
    return sealer_table;
}

int wk_plan_next(wk_plan_kind p, wk_state s, wk_event e)
{
    if (e == WK_EV_ABORT)
        return s == WK_ST_EMPTY || s == WK_ST_FINISHED || s == WK_ST_ABORTED ? -1 : WK_ST_ABORTED;
    int n;
    const wk_transition *t = wk_plan_table(p, &n);
    for (int i = 0; i < n; i++)
        if (t[i].from == s && t[i].event == e)
            return (int)t[i].to;
    return -1;
}

bool wk_plan_has_state(wk_plan_kind p, wk_state s)
{
    if (s == WK_ST_EMPTY || s == WK_ST_ABORTED)
        return true;
    int n;
    const wk_transition *t = wk_plan_table(p, &n);
    for (int i = 0; i < n; i++)
        if (t[i].from == s || t[i].to == s)
            return true;
    return false;
}

const char *wk_state_stage(wk_plan_kind p, wk_state s)
{
    if ((unsigned)s >= WK_ST_COUNT)
        return "?";
    const char *v = p == WK_PLAN_UNSEAL ? unseal_stage[s] : sealer_stage[s];
    return v ? v : "?";
}

void wk_sector_init(wk_sector *s, wk_plan_kind p)
{
    memset(s, 0, sizeof *s);
    s->version = WK_SECTOR_VERSION;
    s->plan = p;
    s->state = WK_ST_EMPTY;
    s->prev = WK_ST_EMPTY;
    s->proof_id = -1;
}

char *wk_sector_file_name(const wk_sector *s, char *buf, size_t len)
{
    snprintf(buf, len, "s-t0%llu-%llu", (unsigned long long)s->miner,
             (unsigned long long)s->number);
    return buf;
}

bool wk_sector_allocated(const wk_sector *s)
{
    return s->state != WK_ST_EMPTY && s->proof_id >= 0;
}

sp_code wk_sector_apply(wk_sector *s, wk_event e, sp_err *err)
{
    int next = wk_plan_next(s->plan, s->state, e);
    if (next < 0)
        return sp_fail(err, SP_ESTATE,
                       "sector state machine: plan %s has no transition from %s on event %s; "
                       "this is a bug in the planner, the sector stays in %s",
                       wk_plan_name(s->plan), wk_state_name(s->state), wk_event_name(e),
                       wk_state_name(s->state));
    s->prev = s->state;
    s->state = (wk_state)next;
    s->retry = 0;
    s->error_level = WK_LEVEL_NONE;
    s->last_error[0] = 0;
    return SP_OK;
}

/* ---- JSON --------------------------------------------------------------------------- */

static int add_hex(cJSON *o, const char *key, const uint8_t *b, size_t n)
{
    return sp_json_add_hex(o, key, b, n, NULL) == SP_OK ? 0 : -1;
}

cJSON *wk_sector_to_json(const wk_sector *s)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= sp_json_add_i64(o, "version", s->version, NULL);
    bad |= sp_json_add_str(o, "plan", wk_plan_name(s->plan), NULL);
    bad |= sp_json_add_str(o, "state", wk_state_name(s->state), NULL);
    bad |= sp_json_add_str(o, "prev", wk_state_name(s->prev), NULL);
    bad |= sp_json_add_i64(o, "retry", s->retry, NULL);
    bad |= sp_json_add_bool(o, "paused", s->paused, NULL);
    bad |= sp_json_add_str(o, "error_level", wk_level_name(s->error_level), NULL);
    bad |= sp_json_add_str(o, "last_error", s->last_error, NULL);
    bad |= sp_json_add_u64(o, "updated_ms", s->updated_ms, NULL);
    if (wk_sector_allocated(s)) {
        bad |= sp_json_add_u64(o, "miner", s->miner, NULL);
        bad |= sp_json_add_u64(o, "number", s->number, NULL);
        bad |= sp_json_add_i64(o, "proof_id", s->proof_id, NULL);
        bad |= sp_json_add_u64(o, "sector_size", s->sector_size, NULL);
    }
    cJSON *pieces = cJSON_AddArrayToObject(o, "pieces");
    bad |= pieces == NULL;
    for (int i = 0; pieces && i < s->npieces; i++) {
        const wk_piece *p = &s->pieces[i];
        cJSON *pj = cJSON_CreateObject();
        if (!pj || !cJSON_AddItemToArray(pieces, pj)) {
            cJSON_Delete(pj);
            bad = 1;
            break;
        }
        bad |= sp_json_add_str(pj, "cid", p->cid, NULL);
        bad |= add_hex(pj, "comm_p", p->comm_p, 32);
        bad |= sp_json_add_u64(pj, "size", p->size, NULL);
        bad |= sp_json_add_u64(pj, "payload_size", p->payload_size, NULL);
        bad |= sp_json_add_u64(pj, "deal_id", p->deal_id, NULL);
    }
    if (s->has_comm_d)
        bad |= add_hex(o, "comm_d", s->comm_d, 32);
    if (s->has_ticket) {
        bad |= add_hex(o, "ticket", s->ticket, 32);
        bad |= sp_json_add_i64(o, "ticket_epoch", s->ticket_epoch, NULL);
    }
    if (s->has_pc1)
        bad |= add_hex(o, "pc1out", s->pc1out, s->pc1out_len);
    if (s->has_pc2) {
        bad |= add_hex(o, "comm_c", s->comm_c, 32);
        bad |= add_hex(o, "comm_r_last", s->comm_r_last, 32);
        bad |= add_hex(o, "comm_r", s->comm_r, 32);
    }
    bad |= sp_json_add_bool(o, "pc_resubmit", s->pc_resubmit, NULL);
    if (s->persist_store[0])
        bad |= sp_json_add_str(o, "persist_store", s->persist_store, NULL);
    if (s->has_seed) {
        bad |= add_hex(o, "seed", s->seed, 32);
        bad |= sp_json_add_i64(o, "seed_epoch", s->seed_epoch, NULL);
    }
    if (s->c1_len) {
        bad |= sp_json_add_u64(o, "c1_len", s->c1_len, NULL);
        bad |= add_hex(o, "c1_hash", s->c1_hash, 32);
    }
    if (s->proof_len) {
        bad |= sp_json_add_u64(o, "proof_len", s->proof_len, NULL);
        bad |= add_hex(o, "proof_hash", s->proof_hash, 32);
    }
    bad |= sp_json_add_bool(o, "proof_resubmit", s->proof_resubmit, NULL);
    if (s->abort_reason[0])
        bad |= sp_json_add_str(o, "abort_reason", s->abort_reason, NULL);
    if (s->unseal_piece[0]) {
        cJSON *u = cJSON_AddObjectToObject(o, "unseal");
        bad |= u == NULL;
        if (u) {
            bad |= sp_json_add_u64(u, "task", s->unseal_task, NULL);
            bad |= sp_json_add_str(u, "piece", s->unseal_piece, NULL);
            bad |= sp_json_add_u64(u, "offset", s->unseal_offset, NULL);
            bad |= sp_json_add_u64(u, "size", s->unseal_size, NULL);
            bad |= sp_json_add_str(u, "access", s->unseal_access, NULL);
            if (s->unseal_dest[0])
                bad |= sp_json_add_str(u, "dest", s->unseal_dest, NULL);
        }
    }
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Reading: every helper fails with SP_ECORRUPT naming the field. */
static sp_code corrupt(sp_err *err, const sp_err *why)
{
    return sp_fail(err, SP_ECORRUPT, "sector record: %s", why->msg);
}

static sp_code get_hex(const cJSON *o, const char *key, uint8_t *out, size_t n, bool *has,
                       sp_err *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (has)
        *has = false;
    if (!v || cJSON_IsNull(v))
        return SP_OK;
    sp_err e;
    if (!cJSON_IsString(v))
        return sp_fail(err, SP_ECORRUPT, "sector record: %s is not a hex string", key);
    if (sp_hex_decode(v->valuestring, out, n, &e) != SP_OK)
        return sp_fail(err, SP_ECORRUPT, "sector record: %s: %s", key, e.msg);
    if (has)
        *has = true;
    return SP_OK;
}

static sp_code get_state(const cJSON *o, const char *key, wk_state *out, sp_err *err)
{
    const char *name;
    sp_err e;
    if (sp_json_get_str(o, -1, key, 1, 64, &name, &e) != SP_OK)
        return corrupt(err, &e);
    int st = wk_state_parse(name);
    if (st < 0)
        return sp_fail(err, SP_ECORRUPT, "sector record: %s: unknown state \"%s\"", key, name);
    *out = (wk_state)st;
    return SP_OK;
}

static sp_code get_text(const cJSON *o, const char *key, char *out, size_t len, sp_err *err)
{
    const char *v;
    sp_err e;
    if (sp_json_opt_str(o, -1, key, 0, len - 1, "", &v, &e) != SP_OK)
        return corrupt(err, &e);
    snprintf(out, len, "%s", v);
    return SP_OK;
}

/* The unseal task of an unseal-plan record (absent for the sealer plan). */
static sp_code read_unseal(const cJSON *o, wk_sector *s, sp_err *err)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "unseal");
    sp_err e;
    if (!u || cJSON_IsNull(u))
        return SP_OK;
    if (!cJSON_IsObject(u))
        return sp_fail(err, SP_ECORRUPT, "sector record: unseal is not an object");
    if (sp_json_get_u64(u, -1, "task", 0, UINT64_MAX, &s->unseal_task, &e) ||
        sp_json_get_u64(u, -1, "offset", 0, UINT64_MAX, &s->unseal_offset, &e) ||
        sp_json_get_u64(u, -1, "size", 1, UINT64_MAX, &s->unseal_size, &e))
        return corrupt(err, &e);
    if (get_text(u, "piece", s->unseal_piece, sizeof s->unseal_piece, err) ||
        get_text(u, "access", s->unseal_access, sizeof s->unseal_access, err) ||
        get_text(u, "dest", s->unseal_dest, sizeof s->unseal_dest, err))
        return err ? err->code : SP_ECORRUPT;
    if (!s->unseal_piece[0])
        return sp_fail(err, SP_ECORRUPT, "sector record: unseal.piece is empty");
    return SP_OK;
}

static sp_code read_pieces(const cJSON *o, wk_sector *s, sp_err *err)
{
    const cJSON *arr = NULL;
    sp_err e;
    if (sp_json_get_array(o, -1, "pieces", WK_MAX_PIECES, &arr, &e) != SP_OK)
        return corrupt(err, &e);
    s->npieces = 0;
    const cJSON *pj;
    cJSON_ArrayForEach(pj, arr) {
        wk_piece *p = &s->pieces[s->npieces];
        if (!cJSON_IsObject(pj))
            return sp_fail(err, SP_ECORRUPT, "sector record: pieces[%d] is not an object",
                           s->npieces);
        if (get_text(pj, "cid", p->cid, sizeof p->cid, err) ||
            get_hex(pj, "comm_p", p->comm_p, 32, NULL, err))
            return err ? err->code : SP_ECORRUPT;
        if (sp_json_get_u64(pj, -1, "size", 0, UINT64_MAX, &p->size, &e) != SP_OK ||
            sp_json_opt_u64(pj, -1, "payload_size", 0, UINT64_MAX, p->size, &p->payload_size,
                            &e) != SP_OK ||
            sp_json_opt_u64(pj, -1, "deal_id", 0, UINT64_MAX, 0, &p->deal_id, &e) != SP_OK)
            return corrupt(err, &e);
        s->npieces++;
    }
    return SP_OK;
}

sp_code wk_sector_from_json(const cJSON *o, wk_sector *s, sp_err *err)
{
    sp_err e;
    int64_t v;
    const char *plan;
    memset(s, 0, sizeof *s);
    if (!cJSON_IsObject(o))
        return sp_fail(err, SP_ECORRUPT, "sector record: not a JSON object");
    if (sp_json_get_i64(o, -1, "version", 1, 1000, &v, &e) != SP_OK)
        return corrupt(err, &e);
    if (v != WK_SECTOR_VERSION)
        return sp_fail(err, SP_ECORRUPT,
                       "sector record: version %lld, this worker reads version %d; run the "
                       "seal-worker version that wrote it", (long long)v, WK_SECTOR_VERSION);
    s->version = (int)v;
    if (sp_json_get_str(o, -1, "plan", 1, 32, &plan, &e) != SP_OK)
        return corrupt(err, &e);
    if (!strcmp(plan, "sealer"))
        s->plan = WK_PLAN_SEALER;
    else if (!strcmp(plan, "unseal"))
        s->plan = WK_PLAN_UNSEAL;
    else
        return sp_fail(err, SP_ECORRUPT, "sector record: unknown plan \"%s\"", plan);
    if (get_state(o, "state", &s->state, err) || get_state(o, "prev", &s->prev, err))
        return err ? err->code : SP_ECORRUPT;
    if (sp_json_opt_i64(o, -1, "retry", 0, 1000000, 0, &v, &e) != SP_OK)
        return corrupt(err, &e);
    s->retry = (int)v;
    if (sp_json_opt_bool(o, -1, "paused", false, &s->paused, &e) != SP_OK)
        return corrupt(err, &e);
    char level[32];
    if (get_text(o, "error_level", level, sizeof level, err) ||
        get_text(o, "last_error", s->last_error, sizeof s->last_error, err))
        return err ? err->code : SP_ECORRUPT;
    s->error_level = WK_LEVEL_NONE;
    for (int i = 0; i <= WK_LEVEL_ABORT; i++)
        if (!strcmp(level, level_names[i]))
            s->error_level = (wk_level)i;
    if (sp_json_opt_u64(o, -1, "updated_ms", 0, UINT64_MAX, 0, &s->updated_ms, &e) != SP_OK)
        return corrupt(err, &e);
    s->proof_id = -1;
    if (s->state != WK_ST_EMPTY) {
        if (sp_json_get_u64(o, -1, "miner", 0, UINT64_MAX, &s->miner, &e) != SP_OK ||
            sp_json_get_u64(o, -1, "number", 0, UINT64_MAX, &s->number, &e) != SP_OK ||
            sp_json_get_i64(o, -1, "proof_id", 0, 1000, &v, &e) != SP_OK ||
            sp_json_get_u64(o, -1, "sector_size", 1, UINT64_MAX, &s->sector_size, &e) != SP_OK)
            return corrupt(err, &e);
        s->proof_id = (int)v;
    }
    if (read_pieces(o, s, err))
        return err ? err->code : SP_ECORRUPT;
    if (get_hex(o, "comm_d", s->comm_d, 32, &s->has_comm_d, err) ||
        get_hex(o, "ticket", s->ticket, 32, &s->has_ticket, err))
        return err ? err->code : SP_ECORRUPT;
    if (sp_json_opt_i64(o, -1, "ticket_epoch", INT64_MIN, INT64_MAX, 0, &s->ticket_epoch, &e))
        return corrupt(err, &e);
    const cJSON *pc1 = cJSON_GetObjectItemCaseSensitive(o, "pc1out");
    if (pc1 && !cJSON_IsNull(pc1)) {
        if (!cJSON_IsString(pc1) || strlen(pc1->valuestring) % 2 ||
            strlen(pc1->valuestring) / 2 > sizeof s->pc1out)
            return sp_fail(err, SP_ECORRUPT, "sector record: pc1out is not a hex string of at "
                           "most %zu bytes", sizeof s->pc1out);
        s->pc1out_len = strlen(pc1->valuestring) / 2;
        if (sp_hex_decode(pc1->valuestring, s->pc1out, s->pc1out_len, &e) != SP_OK)
            return corrupt(err, &e);
        s->has_pc1 = true;
    }
    bool h1, h2, h3;
    if (get_hex(o, "comm_c", s->comm_c, 32, &h1, err) ||
        get_hex(o, "comm_r_last", s->comm_r_last, 32, &h2, err) ||
        get_hex(o, "comm_r", s->comm_r, 32, &h3, err))
        return err ? err->code : SP_ECORRUPT;
    s->has_pc2 = h1 && h2 && h3;
    if (sp_json_opt_bool(o, -1, "pc_resubmit", false, &s->pc_resubmit, &e) ||
        sp_json_opt_bool(o, -1, "proof_resubmit", false, &s->proof_resubmit, &e))
        return corrupt(err, &e);
    if (get_text(o, "persist_store", s->persist_store, sizeof s->persist_store, err) ||
        get_hex(o, "seed", s->seed, 32, &s->has_seed, err) ||
        get_text(o, "abort_reason", s->abort_reason, sizeof s->abort_reason, err))
        return err ? err->code : SP_ECORRUPT;
    if (sp_json_opt_i64(o, -1, "seed_epoch", INT64_MIN, INT64_MAX, 0, &s->seed_epoch, &e) ||
        sp_json_opt_u64(o, -1, "c1_len", 0, UINT64_MAX, 0, &s->c1_len, &e) ||
        sp_json_opt_u64(o, -1, "proof_len", 0, UINT64_MAX, 0, &s->proof_len, &e))
        return corrupt(err, &e);
    if (get_hex(o, "c1_hash", s->c1_hash, 32, NULL, err) ||
        get_hex(o, "proof_hash", s->proof_hash, 32, NULL, err))
        return err ? err->code : SP_ECORRUPT;
    if (read_unseal(o, s, err))
        return err ? err->code : SP_ECORRUPT;
    if (!wk_plan_has_state(s->plan, s->state))
        return sp_fail(err, SP_ECORRUPT, "sector record: state %s is not part of plan %s",
                       wk_state_name(s->state), wk_plan_name(s->plan));
    return SP_OK;
}
