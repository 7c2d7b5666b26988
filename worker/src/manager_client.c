/* manager_client.c — typed wrappers of the sector-manager's worker methods and the piece
 * download (wk_mgr.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sp_codec.h"
#include "sp_fs.h"
#include "sp_http.h"
#include "sp_json.h"
#include "sp_jsonrpc.h"
#include "sp_log.h"
#include "wk_mgr.h"

struct wk_mgr {
    sp_rpc_client *rpc;
    char *base;      /* "http://host:port" without a trailing slash */
    char *token;
    int down;        /* the last call got no answer at all (atomic) */
};

bool wk_mgr_down(wk_mgr *m)
{
    return m && __atomic_load_n(&m->down, __ATOMIC_ACQUIRE);
}

/* Remembers whether the manager answered (any answer, errors included). */
static void note_answer(wk_mgr *m, sp_code rc)
{
    __atomic_store_n(&m->down, rc == SP_ENET || rc == SP_ETIMEOUT, __ATOMIC_RELEASE);
}

sp_code wk_mgr_new(const char *url, const char *token, wk_mgr **out, sp_err *err)
{
    *out = NULL;
    if (!url || strncmp(url, "http://", 7) != 0)
        return sp_fail(err, SP_EINVAL, "sector_manager.url \"%s\" is not an http:// URL; write "
                       "it like \"http://10.0.0.5:1789\"", url ? url : "");
    wk_mgr *m = calloc(1, sizeof *m);
    if (!m)
        return sp_fail(err, SP_ENOMEM, "manager client: out of memory");
    size_t n = strlen(url);
    while (n > 7 && url[n - 1] == '/')
        n--;
    /* a URL that already names the RPC path keeps working */
    if (n > 7 && n >= 7 + 7 && !strncmp(url + n - 7, "/rpc/v0", 7))
        n -= 7;
    m->base = strndup(url, n);
    m->token = token ? strdup(token) : NULL;
    char rpc_url[1100];
    snprintf(rpc_url, sizeof rpc_url, "%s/rpc/v0", m->base ? m->base : "");
    sp_rpc_client_opts o = { .url = rpc_url, .token = token, .timeout_ms = 60000,
                             .connect_timeout_ms = 3000, .retries = 3, .backoff_ms = 200,
                             .backoff_max_ms = 2000 };
    sp_code rc;
    if (!m->base || (token && !m->token))
        rc = sp_fail(err, SP_ENOMEM, "manager client: out of memory");
    else
        rc = sp_rpc_client_new(&o, &m->rpc, err);
    if (rc) {
        wk_mgr_free(m);
        return rc;
    }
    *out = m;
    return SP_OK;
}

void wk_mgr_free(wk_mgr *m)
{
    if (!m)
        return;
    sp_rpc_client_free(m->rpc);
    free(m->base);
    if (m->token) {
        memset(m->token, 0, strlen(m->token));
        free(m->token);
    }
    free(m);
}

sp_code wk_mgr_read_token(const char *path, char **out, sp_err *err)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    sp_code rc = sp_read_file(path, 64 * 1024, &text, &len, err);
    if (rc)
        return sp_err_prefix(err, "sector_manager.token_file");
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & 0077))
        SP_WARN("%s: the token file can be read by other users (mode %o); chmod 600 it", path,
                (unsigned)(st.st_mode & 0777));
    char *b = text;
    while (*b && isspace((unsigned char)*b))
        b++;
    size_t n = strcspn(b, "\r\n");
    while (n && isspace((unsigned char)b[n - 1]))
        n--;
    if (!n) {
        free(text);
        return sp_fail(err, SP_EAUTH, "%s: the token file is empty; put the worker token printed "
                       "by `sector-manager init` in it", path);
    }
    *out = strndup(b, n);
    memset(text, 0, len);
    free(text);
    return *out ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
}

/* ---- plumbing ----------------------------------------------------------------------- */

/* One call; params is taken (freed here).  A JSON-RPC error becomes its sp_code. */
static sp_code call(wk_mgr *m, const char *method, cJSON *params, cJSON **result, sp_err *err)
{
    int rpc_code = 0;
    *result = NULL;
    if (!params)
        return sp_fail(err, SP_ENOMEM, "%s: out of memory building the request", method);
    sp_code rc = sp_rpc_client_call(m->rpc, method, params, result, &rpc_code, err);
    cJSON_Delete(params);
    note_answer(m, rc);
    if (rc == SP_ERPC) {
        /* docs/rpc.md "Errors": internal errors (-32603) and a verifier that could not
         * run (-32008) are worth a retry, so they become temporary codes here */
        sp_code mapped = sp_rpc_code_to_sp(rpc_code);
        if (mapped == SP_ERPC || mapped == SP_EINTERNAL)
            mapped = SP_EIO;
        else if (mapped == SP_EPROOF)
            mapped = SP_EBUSY;
        if (err)
            err->code = mapped;
        rc = mapped;
    }
    if (rc)
        sp_err_prefix(err, "manager");
    return rc;
}

static cJSON *sector_id(uint64_t miner, uint64_t number)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_u64(o, "Miner", miner, NULL) || sp_json_add_u64(o, "Number", number, NULL)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* [SectorID, extra...]: NULL on allocation failure. */
static cJSON *params_sid(uint64_t miner, uint64_t number)
{
    cJSON *a = cJSON_CreateArray();
    cJSON *id = sector_id(miner, number);
    if (!a || !id || !cJSON_AddItemToArray(a, id)) {
        cJSON_Delete(a);
        cJSON_Delete(id);
        return NULL;
    }
    return a;
}

static bool push(cJSON *a, cJSON *item)
{
    if (!a || !item || !cJSON_AddItemToArray(a, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

static cJSON *comm_json(const uint8_t c[32])
{
    int v[32];
    for (int i = 0; i < 32; i++)
        v[i] = c[i];
    return cJSON_CreateIntArray(v, 32);
}

static sp_code bad_answer(sp_err *err, const char *method, const sp_err *why)
{
    return sp_fail(err, SP_EINVAL, "manager %s: unexpected answer: %s; are the worker and the "
                   "manager of the same version?", method, why->msg);
}

static sp_code get_rand(const cJSON *o, const char *key, uint8_t out[32], sp_err *e)
{
    uint8_t *b = NULL;
    size_t n = 0;
    sp_code rc = sp_json_get_base64(o, -1, key, 64, &b, &n, e);
    if (rc)
        return rc;
    if (n != 32) {
        free(b);
        return sp_fail(e, SP_EINVAL, "%s: %zu bytes, not 32", key, n);
    }
    memcpy(out, b, 32);
    free(b);
    return SP_OK;
}

static sp_code answer_of(const char *method, const cJSON *r, const char *key, wk_mgr_answer *a,
                         sp_err *err)
{
    uint64_t code;
    const char *desc;
    sp_err e;
    if (sp_json_get_u64(r, -1, key, 0, 100, &code, &e) ||
        sp_json_opt_str(r, -1, "Desc", 0, 1 << 20, "", &desc, &e))
        return bad_answer(err, method, &e);
    a->code = (int)code;
    snprintf(a->desc, sizeof a->desc, "%s", desc);
    return SP_OK;
}

/* ---- methods ------------------------------------------------------------------------ */

sp_code wk_mgr_allocate_sector(wk_mgr *m, const int64_t *miners, int nminers,
                               const int *proofs, int nproofs, bool *found, uint64_t *miner,
                               uint64_t *number, int *proof_id, sp_err *err)
{
    static const char method[] = "Venus.AllocateSector";
    *found = false;
    cJSON *p = cJSON_CreateArray(), *spec = cJSON_CreateObject();
    cJSON *am = nminers ? cJSON_CreateArray() : cJSON_CreateNull();
    cJSON *ap = nproofs ? cJSON_CreateArray() : cJSON_CreateNull();
    bool ok = p && spec && am && ap;
    for (int i = 0; ok && i < nminers; i++)
        ok = push(am, sp_json_i64(miners[i]));
    for (int i = 0; ok && i < nproofs; i++)
        ok = push(ap, cJSON_CreateNumber(proofs[i]));
    if (ok) {
        cJSON_AddItemToObject(spec, "AllowedMiners", am);
        cJSON_AddItemToObject(spec, "AllowedProofTypes", ap);
        am = ap = NULL;
        ok = push(p, spec);
        spec = NULL;
    }
    cJSON_Delete(am);
    cJSON_Delete(ap);
    cJSON_Delete(spec);
    if (!ok) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    if (cJSON_IsNull(r)) {
        cJSON_Delete(r);
        return SP_OK;
    }
    const cJSON *id;
    int64_t proof;
    sp_err e;
    if (sp_json_get_object(r, -1, "ID", &id, &e) ||
        sp_json_get_u64(id, -1, "Miner", 0, INT64_MAX, miner, &e) ||
        sp_json_get_u64(id, -1, "Number", 0, INT64_MAX, number, &e) ||
        sp_json_get_i64(r, -1, "ProofType", 0, 1000, &proof, &e)) {
        cJSON_Delete(r);
        return bad_answer(err, method, &e);
    }
    cJSON_Delete(r);
    *proof_id = (int)proof;
    *found = true;
    return SP_OK;
}

static sp_code read_deal(const cJSON *d, wk_piece *p, sp_err *e)
{
    const cJSON *piece, *info, *cid;
    uint64_t padded;
    const char *cs;
    sp_code rc;
    memset(p, 0, sizeof *p);
    if ((rc = sp_json_get_object(d, -1, "Piece", &piece, e)) ||
        (rc = sp_json_get_u64(piece, -1, "Size", 128, UINT64_MAX, &padded, e)) ||
        (rc = sp_json_get_object(d, -1, "DealInfo", &info, e)) ||
        (rc = sp_json_get_u64(info, -1, "DealID", 0, UINT64_MAX, &p->deal_id, e)) ||
        (rc = sp_json_get_u64(info, -1, "PayloadSize", 0, UINT64_MAX, &p->payload_size, e)))
        return rc;
    cid = cJSON_GetObjectItemCaseSensitive(piece, "PieceCID");
    if (cJSON_IsObject(cid))
        cid = cJSON_GetObjectItemCaseSensitive(cid, "/");
    if (!cJSON_IsString(cid) || !(cs = cid->valuestring)[0] || strlen(cs) >= sizeof p->cid)
        return sp_fail(e, SP_EINVAL, "Piece.PieceCID: expected {\"/\": \"baga...\"}");
    if ((padded & (padded - 1)) != 0)
        return sp_fail(e, SP_EINVAL, "Piece.Size %llu is not a power of two",
                       (unsigned long long)padded);
    snprintf(p->cid, sizeof p->cid, "%s", cs);
    p->size = padded / 128 * 127;
    if (p->payload_size > p->size)
        return sp_fail(e, SP_EINVAL, "piece %s: payload of %llu bytes does not fit its size %llu",
                       p->cid, (unsigned long long)p->payload_size, (unsigned long long)p->size);
    return SP_OK;
}

sp_code wk_mgr_acquire_deals(wk_mgr *m, uint64_t miner, uint64_t number, wk_piece *out, int max,
                             int *n, sp_err *err)
{
    static const char method[] = "Venus.AcquireDeals";
    *n = 0;
    cJSON *p = params_sid(miner, number), *spec = cJSON_CreateObject();
    if (!spec || sp_json_add_u64(spec, "MaxDeals", (uint64_t)max, NULL) || !push(p, spec)) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    if (cJSON_IsNull(r)) {
        cJSON_Delete(r);
        return SP_OK;
    }
    sp_err e;
    if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) > max) {
        cJSON_Delete(r);
        sp_fail(&e, SP_EINVAL, "expected an array of at most %d pieces", max);
        return bad_answer(err, method, &e);
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, r) {
        if (read_deal(d, &out[*n], &e)) {
            cJSON_Delete(r);
            *n = 0;
            return bad_answer(err, method, &e);
        }
        (*n)++;
    }
    cJSON_Delete(r);
    return SP_OK;
}

sp_code wk_mgr_assign_ticket(wk_mgr *m, uint64_t miner, uint64_t number, uint8_t ticket[32],
                             int64_t *epoch, sp_err *err)
{
    static const char method[] = "Venus.AssignTicket";
    cJSON *r;
    sp_code rc = call(m, method, params_sid(miner, number), &r, err);
    if (rc)
        return rc;
    sp_err e;
    if (get_rand(r, "Ticket", ticket, &e) ||
        sp_json_get_i64(r, -1, "Epoch", INT64_MIN, INT64_MAX, epoch, &e)) {
        cJSON_Delete(r);
        return bad_answer(err, method, &e);
    }
    cJSON_Delete(r);
    return SP_OK;
}

sp_code wk_mgr_submit_precommit(wk_mgr *m, const wk_sector *s, bool reset, wk_mgr_answer *a,
                                sp_err *err)
{
    static const char method[] = "Venus.SubmitPreCommit";
    cJSON *p = cJSON_CreateArray(), *as = cJSON_CreateObject(), *info = cJSON_CreateObject();
    cJSON *t = cJSON_CreateObject();
    bool ok = p && as && info && t && !sp_json_add(as, "ID", sector_id(s->miner, s->number), NULL) &&
              !sp_json_add_i64(as, "ProofType", s->proof_id, NULL) &&
              !sp_json_add(info, "CommR", comm_json(s->comm_r), NULL) &&
              !sp_json_add(info, "CommD", comm_json(s->comm_d), NULL) &&
              !sp_json_add_base64(t, "Ticket", s->ticket, 32, NULL) &&
              !sp_json_add_i64(t, "Epoch", s->ticket_epoch, NULL);
    if (ok) {
        cJSON_AddItemToObject(info, "Ticket", t);
        t = NULL;
        ok = push(p, as);
        as = NULL;
        ok = ok && push(p, info);
        info = NULL;
        ok = ok && push(p, cJSON_CreateBool(reset));
    }
    cJSON_Delete(as);
    cJSON_Delete(info);
    cJSON_Delete(t);
    if (!ok) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    rc = answer_of(method, r, "Res", a, err);
    cJSON_Delete(r);
    return rc;
}

sp_code wk_mgr_poll_precommit(wk_mgr *m, uint64_t miner, uint64_t number, wk_mgr_answer *a,
                              sp_err *err)
{
    static const char method[] = "Venus.PollPreCommitState";
    cJSON *r;
    sp_code rc = call(m, method, params_sid(miner, number), &r, err);
    if (rc)
        return rc;
    rc = answer_of(method, r, "State", a, err);
    cJSON_Delete(r);
    return rc;
}

sp_code wk_mgr_store_reserve(wk_mgr *m, uint64_t miner, uint64_t number, uint64_t size,
                             const char *const *candidates, int n, bool *found, char *name,
                             size_t name_len, sp_err *err)
{
    static const char method[] = "Venus.StoreReserveSpace";
    *found = false;
    cJSON *p = params_sid(miner, number), *c = cJSON_CreateArray();
    bool ok = p && c && push(p, sp_json_u64(size));
    for (int i = 0; ok && i < n; i++)
        ok = push(c, cJSON_CreateString(candidates[i]));
    ok = ok && push(p, c);
    c = NULL;
    cJSON_Delete(c);
    if (!ok) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    if (!cJSON_IsNull(r)) {
        const char *nm;
        sp_err e;
        if (sp_json_get_str(r, -1, "Name", 1, name_len - 1, &nm, &e)) {
            cJSON_Delete(r);
            return bad_answer(err, method, &e);
        }
        snprintf(name, name_len, "%s", nm);
        *found = true;
    }
    cJSON_Delete(r);
    return SP_OK;
}

sp_code wk_mgr_store_info(wk_mgr *m, const char *name, bool *found, char *path, size_t path_len,
                          bool *readonly, sp_err *err)
{
    static const char method[] = "Venus.StoreBasicInfo";
    *found = false;
    cJSON *p = cJSON_CreateArray();
    if (!push(p, cJSON_CreateString(name))) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    if (!cJSON_IsNull(r)) {
        const char *pa;
        sp_err e;
        if (sp_json_get_str(r, -1, "Path", 0, path_len - 1, &pa, &e) ||
            sp_json_opt_bool(r, -1, "ReadOnly", false, readonly, &e)) {
            cJSON_Delete(r);
            return bad_answer(err, method, &e);
        }
        snprintf(path, path_len, "%s", pa);
        *found = true;
    }
    cJSON_Delete(r);
    return SP_OK;
}

sp_code wk_mgr_submit_persisted(wk_mgr *m, uint64_t miner, uint64_t number, const char *store,
                                bool *ok, sp_err *err)
{
    static const char method[] = "Venus.SubmitPersistedEx";
    cJSON *p = params_sid(miner, number);
    if (!push(p, cJSON_CreateString(store)) || !push(p, cJSON_CreateFalse())) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    if (!cJSON_IsBool(r)) {
        cJSON_Delete(r);
        sp_err e;
        sp_fail(&e, SP_EINVAL, "expected true or false");
        return bad_answer(err, method, &e);
    }
    *ok = cJSON_IsTrue(r);
    cJSON_Delete(r);
    return SP_OK;
}

sp_code wk_mgr_wait_seed(wk_mgr *m, uint64_t miner, uint64_t number, int proof_id,
                         bool *should_wait, uint64_t *delay_s, uint8_t seed[32], int64_t *epoch,
                         sp_err *err)
{
    static const char method[] = "Venus.WaitSeed";
    cJSON *p = params_sid(miner, number);
    if (!push(p, cJSON_CreateNumber(proof_id))) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    sp_err e;
    const cJSON *sj;
    if (sp_json_get_bool(r, -1, "ShouldWait", should_wait, &e) ||
        sp_json_opt_u64(r, -1, "Delay", 0, UINT64_MAX, 0, delay_s, &e))
        goto bad;
    if (!*should_wait) {
        if (sp_json_get_object(r, -1, "Seed", &sj, &e) || get_rand(sj, "Seed", seed, &e) ||
            sp_json_get_i64(sj, -1, "Epoch", INT64_MIN, INT64_MAX, epoch, &e))
            goto bad;
    }
    cJSON_Delete(r);
    return SP_OK;
bad:
    cJSON_Delete(r);
    return bad_answer(err, method, &e);
}

sp_code wk_mgr_submit_proof(wk_mgr *m, uint64_t miner, uint64_t number, const uint8_t *proof,
                            size_t len, bool reset, wk_mgr_answer *a, sp_err *err)
{
    static const char method[] = "Venus.SubmitProof";
    cJSON *p = params_sid(miner, number), *info = cJSON_CreateObject();
    bool ok = p && info && !sp_json_add_base64(info, "Proof", proof, len, NULL) && push(p, info);
    info = NULL;
    ok = ok && push(p, cJSON_CreateBool(reset));
    if (!ok) {
        cJSON_Delete(info);
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    rc = answer_of(method, r, "Res", a, err);
    cJSON_Delete(r);
    return rc;
}

sp_code wk_mgr_poll_proof(wk_mgr *m, uint64_t miner, uint64_t number, wk_mgr_answer *a,
                          sp_err *err)
{
    static const char method[] = "Venus.PollProofState";
    cJSON *r;
    sp_code rc = call(m, method, params_sid(miner, number), &r, err);
    if (rc)
        return rc;
    rc = answer_of(method, r, "State", a, err);
    cJSON_Delete(r);
    return rc;
}

sp_code wk_mgr_report_state(wk_mgr *m, uint64_t miner, uint64_t number, const wk_mgr_report *rp,
                            bool *finalized, char *abort_reason, size_t reason_len, sp_err *err)
{
    static const char method[] = "Venus.ReportState";
    *finalized = false;
    if (abort_reason && reason_len)
        abort_reason[0] = 0;
    cJSON *p = params_sid(miner, number), *req = cJSON_CreateObject();
    cJSON *w = cJSON_CreateObject(), *ch = cJSON_CreateObject(), *f = NULL;
    bool ok = p && req && w && ch && !sp_json_add_str(w, "Instance", rp->instance, NULL) &&
              !sp_json_add_str(w, "Location", rp->location ? rp->location : "", NULL) &&
              !sp_json_add_str(ch, "Prev", rp->prev ? rp->prev : "", NULL) &&
              !sp_json_add_str(ch, "Next", rp->next, NULL) &&
              !sp_json_add_str(ch, "Event", rp->event ? rp->event : "", NULL);
    if (ok && rp->level) {
        f = cJSON_CreateObject();
        ok = f && !sp_json_add_str(f, "Level", rp->level, NULL) &&
             !sp_json_add_str(f, "Desc", rp->desc ? rp->desc : "", NULL);
    }
    if (ok) {
        cJSON_AddItemToObject(req, "Worker", w);
        cJSON_AddItemToObject(req, "StateChange", ch);
        w = ch = NULL;
        if (f)
            cJSON_AddItemToObject(req, "Failure", f);
        f = NULL;
        ok = push(p, req);
        req = NULL;
    }
    cJSON_Delete(w);
    cJSON_Delete(ch);
    cJSON_Delete(f);
    cJSON_Delete(req);
    if (!ok) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    sp_err e;
    const char *reason = NULL;
    if (sp_json_get_bool(r, -1, "Finalized", finalized, &e) ||
        sp_json_opt_str(r, -1, "AbortReason", 0, 1 << 20, NULL, &reason, &e)) {
        cJSON_Delete(r);
        return bad_answer(err, method, &e);
    }
    if (reason && abort_reason && reason_len)
        snprintf(abort_reason, reason_len, "%s", reason);
    cJSON_Delete(r);
    return SP_OK;
}

sp_code wk_mgr_report_finalized(wk_mgr *m, uint64_t miner, uint64_t number, sp_err *err)
{
    cJSON *r;
    sp_code rc = call(m, "Venus.ReportFinalized", params_sid(miner, number), &r, err);
    cJSON_Delete(r);
    return rc;
}

sp_code wk_mgr_report_aborted(wk_mgr *m, uint64_t miner, uint64_t number, const char *reason,
                              sp_err *err)
{
    cJSON *p = params_sid(miner, number);
    if (!push(p, cJSON_CreateString(reason ? reason : ""))) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, "Venus.ReportAborted", p, &r, err);
    cJSON_Delete(r);
    return rc;
}

/* ---- unseal tasks ------------------------------------------------------------------- */

static cJSON *cid_json(const char *cid)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "/", cid)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static sp_code get_comm(const cJSON *o, const char *key, uint8_t out[32], sp_err *e)
{
    const cJSON *a;
    sp_code rc = sp_json_get_array(o, -1, key, 32, &a, e);
    if (rc)
        return rc;
    if (cJSON_GetArraySize(a) != 32)
        return sp_fail(e, SP_EINVAL, "%s: %d numbers, not 32", key, cJSON_GetArraySize(a));
    for (int i = 0; i < 32; i++) {
        int64_t v;
        if ((rc = sp_json_get_i64(a, i, key, 0, 255, &v, e)))
            return rc;
        out[i] = (uint8_t)v;
    }
    return SP_OK;
}

static sp_code read_unseal_task(const cJSON *r, wk_mgr_unseal_task *t, sp_err *e)
{
    const cJSON *sector, *id, *priv, *ticket, *cid;
    const char *access, *cs;
    int64_t proof;
    sp_code rc;
    memset(t, 0, sizeof *t);
    if ((rc = sp_json_get_object(r, -1, "Sector", &sector, e)) ||
        (rc = sp_json_get_object(sector, -1, "ID", &id, e)) ||
        (rc = sp_json_get_u64(id, -1, "Miner", 0, INT64_MAX, &t->miner, e)) ||
        (rc = sp_json_get_u64(id, -1, "Number", 0, INT64_MAX, &t->number, e)) ||
        (rc = sp_json_get_i64(sector, -1, "ProofType", 0, 1000, &proof, e)) ||
        (rc = sp_json_get_u64(r, -1, "Offset", 0, UINT64_MAX, &t->offset, e)) ||
        (rc = sp_json_get_u64(r, -1, "Size", 1, UINT64_MAX, &t->size, e)) ||
        (rc = sp_json_get_object(r, -1, "PrivateInfo", &priv, e)) ||
        (rc = sp_json_get_str(priv, -1, "AccessInstance", 1, WK_NAME_MAX - 1, &access, e)) ||
        (rc = sp_json_get_object(r, -1, "Ticket", &ticket, e)) ||
        (rc = get_rand(ticket, "Ticket", t->ticket, e)) ||
        (rc = sp_json_get_i64(ticket, -1, "Epoch", INT64_MIN, INT64_MAX, &t->ticket_epoch, e)) ||
        (rc = get_comm(r, "CommD", t->comm_d, e)) ||
        (rc = sp_json_opt_u64(r, -1, "TaskID", 0, UINT64_MAX, 0, &t->task_id, e)))
        return rc;
    cid = cJSON_GetObjectItemCaseSensitive(r, "PieceCid");
    if (cJSON_IsObject(cid))
        cid = cJSON_GetObjectItemCaseSensitive(cid, "/");
    if (!cJSON_IsString(cid) || !(cs = cid->valuestring)[0] || strlen(cs) >= sizeof t->piece)
        return sp_fail(e, SP_EINVAL, "PieceCid: expected {\"/\": \"baga...\"}");
    for (const char *c = cs; *c; c++)
        if (!isalnum((unsigned char)*c))
            return sp_fail(e, SP_EINVAL, "PieceCid \"%.80s\" has characters a CID cannot have",
                           cs);
    snprintf(t->piece, sizeof t->piece, "%s", cs);
    snprintf(t->access, sizeof t->access, "%s", access);
    t->proof_id = (int)proof;
    return SP_OK;
}

sp_code wk_mgr_allocate_unseal(wk_mgr *m, const int64_t *miners, int nminers, bool *found,
                               wk_mgr_unseal_task *out, sp_err *err)
{
    static const char method[] = "Venus.AllocateUnsealSector";
    *found = false;
    cJSON *p = cJSON_CreateArray(), *spec = cJSON_CreateObject();
    cJSON *am = nminers ? cJSON_CreateArray() : cJSON_CreateNull();
    bool ok = p && spec && am;
    for (int i = 0; ok && i < nminers; i++)
        ok = push(am, sp_json_i64(miners[i]));
    if (ok) {
        cJSON_AddItemToObject(spec, "AllowedMiners", am);
        am = NULL;
        ok = cJSON_AddNullToObject(spec, "AllowedProofTypes") != NULL && push(p, spec);
        spec = NULL;
    }
    cJSON_Delete(am);
    cJSON_Delete(spec);
    if (!ok) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    if (cJSON_IsNull(r)) {
        cJSON_Delete(r);
        return SP_OK;
    }
    sp_err e;
    if (read_unseal_task(r, out, &e)) {
        cJSON_Delete(r);
        return bad_answer(err, method, &e);
    }
    cJSON_Delete(r);
    *found = true;
    return SP_OK;
}

sp_code wk_mgr_acquire_unseal_dest(wk_mgr *m, uint64_t miner, uint64_t number, const char *piece,
                                   const char *const *candidates, int n, char *store,
                                   size_t store_len, sp_err *err)
{
    static const char method[] = "Venus.AcquireUnsealDest";
    cJSON *p = params_sid(miner, number), *c = n ? cJSON_CreateArray() : NULL;
    bool ok = p && push(p, cid_json(piece)) && (!n || c);
    for (int i = 0; ok && i < n; i++)
        ok = push(c, cJSON_CreateString(candidates[i]));
    if (ok && n) {
        ok = push(p, c);
        c = NULL;
    }
    cJSON_Delete(c);
    if (!ok) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, method, p, &r, err);
    if (rc)
        return rc;
    sp_err e;
    const char *url;
    if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) < 1 ||
        sp_json_get_str(r, 0, "destination", 1, 1024, &url, &e) != SP_OK) {
        cJSON_Delete(r);
        sp_fail(&e, SP_EINVAL, "expected [\"store://<store>/unsealed/<piece>\"]");
        return bad_answer(err, method, &e);
    }
    /* store://<store>/unsealed/<piece>: the name of the store is all this worker needs;
     * the file's place on the store is the manager's fixed layout */
    const char *name = strncmp(url, "store://", 8) ? NULL : url + 8;
    const char *slash = name ? strchr(name, '/') : NULL;
    char want[WK_CID_MAX + 16];
    snprintf(want, sizeof want, "/unsealed/%s", piece);
    if (!slash || slash == name || (size_t)(slash - name) >= store_len || strcmp(slash, want)) {
        sp_fail(&e, SP_EINVAL, "destination \"%.200s\" is not store://<store>%s", url, want);
        cJSON_Delete(r);
        return bad_answer(err, method, &e);
    }
    snprintf(store, store_len, "%.*s", (int)(slash - name), name);
    cJSON_Delete(r);
    return SP_OK;
}

sp_code wk_mgr_achieve_unseal(wk_mgr *m, uint64_t miner, uint64_t number, const char *piece,
                              const char *error_info, sp_err *err)
{
    cJSON *p = params_sid(miner, number);
    if (!push(p, cid_json(piece)) || !push(p, cJSON_CreateString(error_info ? error_info : ""))) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, "Venus.AchieveUnsealSector", p, &r, err);
    cJSON_Delete(r);
    return rc;
}

sp_code wk_mgr_worker_ping(wk_mgr *m, const char *name, const char *dest, const char *version,
                           const wk_mgr_summary *s, sp_err *err)
{
    cJSON *p = cJSON_CreateArray(), *info = cJSON_CreateObject(), *sum = cJSON_CreateObject();
    bool ok = p && info && sum && !sp_json_add_str(info, "Name", name, NULL) &&
              !sp_json_add_str(info, "Dest", dest ? dest : "", NULL) &&
              !sp_json_add_str(info, "Version", version ? version : "", NULL) &&
              !sp_json_add_i64(sum, "Threads", s->threads, NULL) &&
              !sp_json_add_i64(sum, "Empty", s->empty, NULL) &&
              !sp_json_add_i64(sum, "Paused", s->paused, NULL) &&
              !sp_json_add_i64(sum, "Running", s->running, NULL) &&
              !sp_json_add_i64(sum, "Waiting", s->waiting, NULL) &&
              !sp_json_add_i64(sum, "Errors", s->errors, NULL);
    if (ok) {
        cJSON_AddItemToObject(info, "Summary", sum);
        sum = NULL;
        ok = push(p, info);
        info = NULL;
    }
    cJSON_Delete(sum);
    cJSON_Delete(info);
    if (!ok) {
        cJSON_Delete(p);
        p = NULL;
    }
    cJSON *r;
    sp_code rc = call(m, "Venus.WorkerPing", p, &r, err);
    cJSON_Delete(r);
    return rc;
}

sp_code wk_mgr_fetch_piece(wk_mgr *m, const char *cid, int fd, uint64_t size, sp_err *err)
{
    for (const char *c = cid; *c; c++)
        if (!isalnum((unsigned char)*c))
            return sp_fail(err, SP_EINVAL, "piece CID \"%s\" has characters a CID cannot have",
                           cid);
    char url[1400];
    snprintf(url, sizeof url, "%s/pieces/%s", m->base, cid);
    sp_http_get_opts o = { .token = m->token, .max_bytes = size, .connect_timeout_ms = 5000,
                           .stall_timeout_s = 120, .retries = 3 };
    sp_http_get_result res;
    sp_code rc = sp_http_get_to_fd(url, &o, fd, &res, err);
    note_answer(m, rc);
    if (rc)
        return sp_err_prefix(err, "piece %s", cid);
    if (res.bytes != size)
        return sp_fail(err, SP_EIO, "piece %s: the manager sent %llu bytes, the deal says %llu",
                       cid, (unsigned long long)res.bytes, (unsigned long long)size);
    return SP_OK;
}
