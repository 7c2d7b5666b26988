/* test_worker_thread.c — one sealing thread against a scripted in-process manager (the
 * docs/rpc.md worker methods on 127.0.0.1, real proof verification with pf_verify_seal),
 * every stage in-process on 2KiB sectors.  Checked: the whole sealer path reported in
 * order and the sector finalized; temporary failures retried max_retries times, then the
 * thread paused with the error shown and resumed by the operator; Mismatched pausing at
 * once; Rejected aborting (ReportAborted, location cleaned); Finalized=true dropping the
 * sector; SubmitPersisted refusing once (files copied again); polls waiting for Pending
 * and ShouldWait; a thread stopped in the middle of PC2 resuming from its record in a new
 * thread object; pause/resume/abort requests and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sealproofs.h"
#include "sp_fs.h"
#include "sp_http.h"
#include "sp_json.h"
#include "sp_jsonrpc.h"
#include "sp_log.h"
#include "wk_config.h"
#include "wk_mgr.h"
#include "wk_processor.h"
#include "wk_store.h"
#include "wk_thread.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:strbuf_append\n";
}

/* ---- the scripted manager ------------------------------------------------------------ */

#define MAX_EVENTS 256

typedef struct fake_mgr {
    pthread_mutex_t mu;
    sp_http_server *http;
    sp_rpc_server *rpc;
    char url[128];
    /* script */
    int sectors_left;              /* AllocateSector hands out this many */
    int fail_method_n;             /* the next N calls of fail_method fail (-32603) */
    char fail_method[64];
    int precommit_res;             /* SubmitPreCommit's Res (default Accepted) */
    int proof_res;                 /* 0: verify the proof */
    int pending_polls;             /* PollPreCommitState answers Pending this often first */
    int seed_waits;                /* WaitSeed answers ShouldWait this often first */
    int reserve_nulls;             /* StoreReserveSpace answers null this often first */
    int persisted_false;           /* SubmitPersisted answers false this often first */
    char finalize_at[32];          /* ReportState with this Next answers Finalized=true */
    char forget_at[32];            /* ReportState with this Next answers -32003 (unknown) */
    int pc_lost_polls;             /* PollPreCommitState answers NotFound this often first */
    /* record */
    uint64_t next_number;
    uint8_t comm_r[32], comm_d[32], ticket[32], seed[32];
    int proof_id;
    char reports[MAX_EVENTS][80];  /* "Prev>Next:Event" or "fail:Level" */
    int nreports;
    int finalized, aborted;
    char abort_reason[256];
    int precommits, proofs, persisted;
} fake_mgr;

static fake_mgr *fm_of(sp_rpc_call *c)
{
    return c->ctx;
}

/* Fails the call when it is scripted to. */
static bool scripted_failure(fake_mgr *m, const char *method, sp_err *err)
{
    bool fail = false;
    pthread_mutex_lock(&m->mu);
    if (m->fail_method_n > 0 && !strcmp(m->fail_method, method)) {
        m->fail_method_n--;
        fail = true;
    }
    pthread_mutex_unlock(&m->mu);
    if (fail)
        sp_fail(err, SP_EINTERNAL, "scripted failure of %s", method);
    return fail;
}

static cJSON *sector_id(uint64_t number)
{
    cJSON *o = cJSON_CreateObject();
    sp_json_add_u64(o, "Miner", 1000, NULL);
    sp_json_add_u64(o, "Number", number, NULL);
    return o;
}

static cJSON *answer(const char *key, int code, const char *desc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, key, code);
    if (desc)
        cJSON_AddStringToObject(o, "Desc", desc);
    else
        cJSON_AddNullToObject(o, "Desc");
    return o;
}

static void get_comm(const cJSON *o, const char *key, uint8_t out[32])
{
    const cJSON *a = cJSON_GetObjectItem(o, key);
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)cJSON_GetArrayItem(a, i)->valueint;
}

static sp_code h_allocate(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "AllocateSector", err))
        return err->code;
    pthread_mutex_lock(&m->mu);
    if (m->sectors_left > 0) {
        m->sectors_left--;
        *r = cJSON_CreateObject();
        cJSON_AddItemToObject(*r, "ID", sector_id(m->next_number++));
        cJSON_AddNumberToObject(*r, "ProofType", 5);
    }
    pthread_mutex_unlock(&m->mu);
    return SP_OK;
}

static sp_code h_null(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    (void)c;
    (void)r;
    (void)err;
    return SP_OK;
}

static sp_code h_ticket(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "AssignTicket", err))
        return err->code;
    *r = cJSON_CreateObject();
    sp_json_add_base64(*r, "Ticket", m->ticket, 32, NULL);
    cJSON_AddNumberToObject(*r, "Epoch", 10);
    return SP_OK;
}

static sp_code h_precommit(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "SubmitPreCommit", err))
        return err->code;
    const cJSON *info = cJSON_GetArrayItem(c->params, 1);
    pthread_mutex_lock(&m->mu);
    get_comm(info, "CommR", m->comm_r);
    get_comm(info, "CommD", m->comm_d);
    m->proof_id = cJSON_GetObjectItem(cJSON_GetArrayItem(c->params, 0), "ProofType")->valueint;
    m->precommits++;
    int res = m->precommit_res ? m->precommit_res : WK_SUBMIT_ACCEPTED;
    pthread_mutex_unlock(&m->mu);
    *r = answer("Res", res, res == WK_SUBMIT_ACCEPTED ? NULL : "scripted answer");
    return SP_OK;
}

static sp_code h_poll_pc(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "PollPreCommitState", err))
        return err->code;
    pthread_mutex_lock(&m->mu);
    int st = m->pending_polls > 0 ? WK_ONCHAIN_PENDING : WK_ONCHAIN_LANDED;
    if (m->pending_polls > 0)
        m->pending_polls--;
    if (m->pc_lost_polls > 0) {
        m->pc_lost_polls--;
        st = WK_ONCHAIN_NOT_FOUND;
    }
    pthread_mutex_unlock(&m->mu);
    *r = answer("State", st, NULL);
    return SP_OK;
}

static sp_code h_reserve(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "StoreReserveSpace", err))
        return err->code;
    pthread_mutex_lock(&m->mu);
    bool none = m->reserve_nulls > 0;
    if (none)
        m->reserve_nulls--;
    pthread_mutex_unlock(&m->mu);
    if (!none) {
        *r = cJSON_CreateObject();
        cJSON_AddStringToObject(*r, "Name", "s1");
        cJSON_AddStringToObject(*r, "Path", "/elsewhere/s1");
    }
    return SP_OK;
}

static sp_code h_store_info(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    (void)err;
    if (!strcmp(cJSON_GetArrayItem(c->params, 0)->valuestring, "s1")) {
        *r = cJSON_CreateObject();
        cJSON_AddStringToObject(*r, "Name", "s1");
        cJSON_AddStringToObject(*r, "Path", "/elsewhere/s1");
    }
    return SP_OK;
}

static sp_code h_persisted(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "SubmitPersistedEx", err))
        return err->code;
    pthread_mutex_lock(&m->mu);
    bool ok = m->persisted_false <= 0;
    if (!ok)
        m->persisted_false--;
    m->persisted++;
    pthread_mutex_unlock(&m->mu);
    *r = cJSON_CreateBool(ok);
    return SP_OK;
}

static sp_code h_seed(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "WaitSeed", err))
        return err->code;
    pthread_mutex_lock(&m->mu);
    bool wait = m->seed_waits > 0;
    if (wait)
        m->seed_waits--;
    pthread_mutex_unlock(&m->mu);
    *r = cJSON_CreateObject();
    cJSON_AddBoolToObject(*r, "ShouldWait", wait);
    cJSON_AddNumberToObject(*r, "Delay", wait ? 1 : 0);
    if (wait) {
        cJSON_AddNullToObject(*r, "Seed");
    } else {
        cJSON *s = cJSON_AddObjectToObject(*r, "Seed");
        sp_json_add_base64(s, "Seed", m->seed, 32, NULL);
        cJSON_AddNumberToObject(s, "Epoch", 20);
    }
    return SP_OK;
}

static sp_code h_proof(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "SubmitProof", err))
        return err->code;
    uint64_t number = 0;
    sp_json_get_u64(cJSON_GetArrayItem(c->params, 0), -1, "Number", 0, UINT64_MAX, &number, NULL);
    uint8_t *proof = NULL;
    size_t len = 0;
    sp_code rc = sp_json_get_base64(cJSON_GetArrayItem(c->params, 1), -1, "Proof", 1u << 26,
                                    &proof, &len, err);
    if (rc)
        return rc;
    pthread_mutex_lock(&m->mu);
    m->proofs++;
    int res = m->proof_res;
    uint8_t prover[32];
    pf_prover_id_from_actor(1000, prover);
    pf_error pe;
    char why[600] = "";
    if (!res) {
        res = pf_verify_seal(m->proof_id, m->comm_r, m->comm_d, prover, m->ticket, m->seed,
                             number, proof, len, &pe) == PF_OK ? WK_SUBMIT_ACCEPTED
                                                               : WK_SUBMIT_REJECTED;
        if (res != WK_SUBMIT_ACCEPTED)
            snprintf(why, sizeof why, "invalid proof: %s", pe.msg);
    } else {
        snprintf(why, sizeof why, "scripted answer");
    }
    pthread_mutex_unlock(&m->mu);
    free(proof);
    *r = answer("Res", res, why[0] ? why : NULL);
    return SP_OK;
}

static sp_code h_poll_proof(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "PollProofState", err))
        return err->code;
    *r = answer("State", WK_ONCHAIN_LANDED, NULL);
    return SP_OK;
}

static sp_code h_report(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    if (scripted_failure(m, "ReportState", err))
        return err->code;
    const cJSON *req = cJSON_GetArrayItem(c->params, 1);
    const cJSON *ch = cJSON_GetObjectItem(req, "StateChange");
    const cJSON *f = cJSON_GetObjectItem(req, "Failure");
    const char *next = cJSON_GetObjectItem(ch, "Next")->valuestring;
    pthread_mutex_lock(&m->mu);
    if (m->nreports < MAX_EVENTS) {
        if (cJSON_IsObject(f))
            snprintf(m->reports[m->nreports++], 80, "fail:%s",
                     cJSON_GetObjectItem(f, "Level")->valuestring);
        else
            snprintf(m->reports[m->nreports++], 80, "%s>%s:%s",
                     cJSON_GetObjectItem(ch, "Prev")->valuestring, next,
                     cJSON_GetObjectItem(ch, "Event")->valuestring);
    }
    bool fin = m->finalize_at[0] && !strcmp(m->finalize_at, next);
    bool forget = m->forget_at[0] && !strcmp(m->forget_at, next);
    pthread_mutex_unlock(&m->mu);
    if (forget)
        return sp_fail(err, SP_ENOTFOUND, "sector s-t01000-0 is not known to this manager");
    *r = cJSON_CreateObject();
    cJSON_AddItemToObject(*r, "Id", sector_id(0));
    cJSON_AddBoolToObject(*r, "Finalized", fin);
    if (fin)
        cJSON_AddStringToObject(*r, "AbortReason", "scripted finalize");
    else
        cJSON_AddNullToObject(*r, "AbortReason");
    return SP_OK;
}

static sp_code h_finalized(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    (void)r;
    (void)err;
    pthread_mutex_lock(&m->mu);
    m->finalized++;
    pthread_mutex_unlock(&m->mu);
    return SP_OK;
}

static sp_code h_aborted(sp_rpc_call *c, cJSON **r, sp_err *err)
{
    fake_mgr *m = fm_of(c);
    (void)r;
    (void)err;
    pthread_mutex_lock(&m->mu);
    m->aborted++;
    snprintf(m->abort_reason, sizeof m->abort_reason, "%s",
             cJSON_GetArrayItem(c->params, 1)->valuestring);
    pthread_mutex_unlock(&m->mu);
    return SP_OK;
}

static void fm_start(fake_mgr *m)
{
    static const sp_rpc_method methods[] = {
        { "Venus.AllocateSector", h_allocate, 0 },  { "Venus.AcquireDeals", h_null, 0 },
        { "Venus.AssignTicket", h_ticket, 0 },      { "Venus.SubmitPreCommit", h_precommit, 0 },
        { "Venus.PollPreCommitState", h_poll_pc, 0 }, { "Venus.StoreReserveSpace", h_reserve, 0 },
        { "Venus.StoreBasicInfo", h_store_info, 0 }, { "Venus.SubmitPersistedEx", h_persisted, 0 },
        { "Venus.WaitSeed", h_seed, 0 },            { "Venus.SubmitProof", h_proof, 0 },
        { "Venus.PollProofState", h_poll_proof, 0 }, { "Venus.ReportState", h_report, 0 },
        { "Venus.ReportFinalized", h_finalized, 0 }, { "Venus.ReportAborted", h_aborted, 0 },
        { "Venus.WorkerPing", h_null, 0 },
    };
    pthread_mutex_init(&m->mu, NULL);
    for (int i = 0; i < 32; i++) {
        m->ticket[i] = (uint8_t)(i + 1);
        m->seed[i] = (uint8_t)(100 + i);
    }
    m->ticket[31] &= 0x3f;
    m->seed[31] &= 0x3f;
    sp_http_server_opts ho = { .listen = "127.0.0.1:0", .threads = 2 };
    sp_rpc_server_opts ro = { .ctx = m, .max_body = 64 << 20 };
    sp_err err;
    if (sp_http_server_new(&ho, &m->http, &err) ||
        sp_rpc_server_new(&ro, methods, sizeof methods / sizeof methods[0], &m->rpc, &err) ||
        sp_rpc_server_mount(m->rpc, m->http, &err) || sp_http_server_start(m->http, &err))
        fail_msg("fake manager: %s", err.msg);
    snprintf(m->url, sizeof m->url, "http://127.0.0.1:%u", sp_http_server_port(m->http));
}

/* The manager goes away (its port closed: connections refused) and comes back on the
 * same port. */
static void fm_down(fake_mgr *m)
{
    sp_http_server_free(m->http);
    m->http = NULL;
}

static void fm_up(fake_mgr *m)
{
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%s", strrchr(m->url, ':') + 1);
    sp_http_server_opts ho = { .listen = listen, .threads = 2 };
    sp_err err;
    if (sp_http_server_new(&ho, &m->http, &err) || sp_rpc_server_mount(m->rpc, m->http, &err) ||
        sp_http_server_start(m->http, &err))
        fail_msg("fake manager back on %s: %s", listen, err.msg);
}

static void fm_stop(fake_mgr *m)
{
    sp_http_server_free(m->http);
    sp_rpc_server_free(m->rpc);
    pthread_mutex_destroy(&m->mu);
}

/* ---- the worker side ------------------------------------------------------------------ */

typedef struct rig {
    char dir[128];
    char loc[256], store[256];
    fake_mgr fm;
    wk_config cfg;
    wk_mgr *mgr;
    wk_procs *procs;
    wk_shared sh;
    wk_thread *t;
} rig;

static void rig_start(rig *r, void (*script)(fake_mgr *))
{
    memset(r, 0, sizeof *r);
    snprintf(r->dir, sizeof r->dir, "/tmp/test_worker_thread.XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->loc, sizeof r->loc, "%s/t0", r->dir);
    snprintf(r->store, sizeof r->store, "%s/s1", r->dir);
    assert_int_equal(sp_mkdir_p(r->store, 0755, NULL), SP_OK);
    /* the store's identity, as the manager writes it when it declares the store */
    char meta[1200];
    snprintf(meta, sizeof meta, "%s/sectorstore.json", r->store);
    static const char id[] = "{\"ID\":\"s1\",\"Weight\":1,\"CanSeal\":false,\"CanStore\":true}";
    assert_int_equal(sp_write_file_atomic(meta, id, sizeof id - 1, 0644, NULL), SP_OK);
    r->fm.sectors_left = 1;
    if (script)
        script(&r->fm);
    fm_start(&r->fm);
    char text[2048];
    snprintf(text, sizeof text,
             "worker = { name = \"wt\"; };\n"
             "sector_manager = { url = \"%s\"; token = \"t\"; };\n"
             "sealing = { max_retries = 2; seal_interval = \"0s\"; recover_interval = \"100ms\"; "
             "rpc_polling_interval = \"100ms\"; };\n"
             "sealing_thread = ( { location = \"%s\"; } );\n"
             "attached = ( { name = \"s1\"; location = \"%s\"; } );\n"
             "processors = { parent_cache = \"%s/parents\"; };\n",
             r->fm.url, r->loc, r->store, r->dir);
    sp_err err;
    wk_diags d = { 0 };
    if (wk_config_load_string(text, "test.cfg", &r->cfg, &d, &err) != SP_OK)
        fail_msg("config: %s", err.msg);
    wk_diags_free(&d);
    assert_int_equal(wk_mgr_new(r->fm.url, "t", &r->mgr, NULL), SP_OK);
    wk_procs_opts po = { .cfg = &r->cfg };
    assert_int_equal(wk_procs_start(&po, &r->procs, NULL), SP_OK);
    r->sh = (wk_shared){ .cfg = &r->cfg, .mgr = r->mgr, .procs = r->procs, .instance = "wt" };
}

static void thread_start(rig *r)
{
    assert_int_equal(wk_thread_new(&r->sh, 0, &r->t, NULL), SP_OK);
    assert_int_equal(wk_thread_start(r->t, NULL), SP_OK);
}

static void thread_end(rig *r)
{
    wk_thread_free(r->t);
    r->t = NULL;
}

static void rig_stop(rig *r)
{
    if (r->t)
        thread_end(r);
    wk_procs_free(r->procs);
    wk_mgr_free(r->mgr);
    wk_config_free(&r->cfg);
    fm_stop(&r->fm);
    sp_remove_tree(r->dir, NULL);
}

static int counter(rig *r, const int *field)
{
    pthread_mutex_lock(&r->fm.mu);
    int v = *field;
    pthread_mutex_unlock(&r->fm.mu);
    return v;
}

static void status(rig *r, wk_thread_status *s)
{
    wk_thread_status_get(r->t, s);
}

/* Waits until pred holds (10 s). */
static void wait_for(rig *r, bool (*pred)(rig *), const char *what)
{
    for (int i = 0; i < 1000; i++) {
        if (pred(r))
            return;
        sp_sleep_ms(10);
    }
    wk_thread_status s;
    status(r, &s);
    fail_msg("timed out waiting for %s (thread: %s %s %s, error: %s)", what, s.sector, s.state,
             s.job, s.last_error);
}

static bool finalized_once(rig *r) { return counter(r, &r->fm.finalized) >= 1; }
static bool aborted_once(rig *r) { return counter(r, &r->fm.aborted) >= 1; }
static bool paused(rig *r)
{
    wk_thread_status s;
    status(r, &s);
    return s.paused && !strcmp(s.job, "paused");
}
static bool empty_idle(rig *r)
{
    wk_thread_status s;
    status(r, &s);
    return !strcmp(s.state, "Empty") && !s.sector[0];
}

static bool has_report(rig *r, const char *rep)
{
    bool found = false;
    pthread_mutex_lock(&r->fm.mu);
    for (int i = 0; i < r->fm.nreports && !found; i++)
        found = !strcmp(r->fm.reports[i], rep);
    pthread_mutex_unlock(&r->fm.mu);
    return found;
}

static bool reported_permanent(rig *r) { return has_report(r, "fail:permanent"); }

/* ---- tests ----------------------------------------------------------------------------- */

static void test_seal_one(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, NULL);
    thread_start(&r);
    wait_for(&r, finalized_once, "ReportFinalized");
    wait_for(&r, empty_idle, "the thread back to Empty");
    static const char *const path[] = {
        "Empty>Allocated:Allocate",            "Allocated>DealsAcquired:AcquireDeals",
        "DealsAcquired>PieceAdded:AddPiece",    "PieceAdded>TreeDBuilt:BuildTreeD",
        "TreeDBuilt>TicketAssigned:AssignTicket", "TicketAssigned>PC1Done:PC1",
        "PC1Done>PC2Done:PC2",                  "PC2Done>PCSubmitted:SubmitPC",
        "PCSubmitted>PCLanded:CheckPC",         "PCLanded>Persisted:Persist",
        "Persisted>PersistanceSubmitted:SubmitPersistance",
        "PersistanceSubmitted>SeedAssigned:AssignSeed", "SeedAssigned>C1Done:C1",
        "C1Done>C2Done:C2",                     "C2Done>ProofSubmitted:SubmitProof",
        "ProofSubmitted>Finished:Finish",
    };
    pthread_mutex_lock(&r.fm.mu);
    assert_int_equal(r.fm.nreports, 16);
    for (int i = 0; i < 16; i++)
        assert_string_equal(r.fm.reports[i], path[i]);
    assert_int_equal(r.fm.proofs, 1);
    assert_int_equal(r.fm.aborted, 0);
    pthread_mutex_unlock(&r.fm.mu);
    /* the sealed file and the proving cache are in the store; the location is clean */
    char p[600];
    snprintf(p, sizeof p, "%s/sealed/s-t01000-0", r.store);
    assert_int_equal(sp_file_size(p), 2048);
    snprintf(p, sizeof p, "%s/cache/s-t01000-0/p_aux", r.store);
    assert_int_equal(sp_file_size(p), 64);
    snprintf(p, sizeof p, "%s/data", r.loc);
    assert_false(sp_path_exists(p));
    int fin, ab;
    wk_thread_counts(r.t, &fin, &ab);
    assert_int_equal(fin, 1);
    assert_int_equal(ab, 0);
    /* nothing to abort now */
    sp_err err;
    assert_int_equal(wk_thread_abort(r.t, "x", &err), SP_ESTATE);
    assert_non_null(strstr(err.msg, "no sector to abort"));
    thread_end(&r);
    /* meta.db holds no record and the trace ends with the cleanup */
    wk_meta *m;
    assert_int_equal(wk_meta_open(r.loc, &m, NULL), SP_OK);
    wk_sector s;
    bool found;
    assert_int_equal(wk_meta_load(m, WK_PLAN_SEALER, &s, &found, NULL), SP_OK);
    assert_false(found);
    wk_meta_close(m);
    rig_stop(&r);
}

static void script_seed_fails(fake_mgr *m)
{
    snprintf(m->fail_method, sizeof m->fail_method, "WaitSeed");
    m->fail_method_n = 1000;
    m->pending_polls = 2;   /* PCSubmitted polls Pending twice first */
    m->reserve_nulls = 1;   /* no room at first */
}

static void test_retries_then_pause(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_seed_fails);
    thread_start(&r);
    wait_for(&r, paused, "a pause after the retries");
    wk_thread_status s;
    status(&r, &s);
    assert_string_equal(s.state, "PersistanceSubmitted");
    assert_string_equal(s.error_level, "permanent");
    assert_non_null(strstr(s.last_error, "still failing after 2 retries"));
    assert_non_null(strstr(s.last_error, "scripted failure of WaitSeed"));
    /* the manager heard of each failure: two temporary, then the permanent one (the
     * report follows the saved pause) */
    wait_for(&r, reported_permanent, "the permanent failure's report");
    pthread_mutex_lock(&r.fm.mu);
    int temp = 0, perm = 0;
    for (int i = 0; i < r.fm.nreports; i++) {
        temp += !strcmp(r.fm.reports[i], "fail:temporary");
        perm += !strcmp(r.fm.reports[i], "fail:permanent");
    }
    assert_int_equal(temp, 2);
    assert_int_equal(perm, 1);
    /* the manager recovers; the operator resumes */
    r.fm.fail_method_n = 0;
    pthread_mutex_unlock(&r.fm.mu);
    sp_err err;
    assert_int_equal(wk_thread_pause(r.t, &err), SP_ESTATE);
    assert_non_null(strstr(err.msg, "already paused"));
    assert_int_equal(wk_thread_resume(r.t, "NoSuchState", &err), SP_EINVAL);
    assert_int_equal(wk_thread_resume(r.t, "Unsealed", &err), SP_EINVAL);
    assert_int_equal(wk_thread_resume(r.t, NULL, NULL), SP_OK);
    wait_for(&r, finalized_once, "the sector finished after resume");
    assert_true(has_report(&r, "PersistanceSubmitted>PersistanceSubmitted:SetState"));
    rig_stop(&r);
}

static void script_seed_waits_long(fake_mgr *m)
{
    m->seed_waits = 1000000;
}

static bool waiting_seed(rig *r)
{
    wk_thread_status s;
    status(r, &s);
    return !strcmp(s.state, "PersistanceSubmitted");
}

static bool shows_unreachable(rig *r)
{
    wk_thread_status s;
    status(r, &s);
    return strstr(s.activity, "manager unreachable") != NULL;
}

/* The manager is away longer than max_retries x recover_interval: the thread neither
 * counts retries nor pauses, shows why it waits, and finishes once the manager is back
 * (issue 10: transport errors retry with a capped backoff indefinitely). */
static void test_manager_away_is_not_a_failure(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_seed_waits_long);
    thread_start(&r);
    wait_for(&r, waiting_seed, "the seed wait");
    fm_down(&r.fm);
    wait_for(&r, shows_unreachable, "the thread to notice the manager is gone");
    /* 2 retries of 100ms would have paused it ten times over */
    sp_sleep_ms(5000);
    wk_thread_status s;
    status(&r, &s);
    assert_false(s.paused);
    assert_int_equal(s.retry, 0);
    assert_string_equal(s.state, "PersistanceSubmitted");
    assert_non_null(strstr(s.activity, "manager unreachable"));
    pthread_mutex_lock(&r.fm.mu);
    r.fm.seed_waits = 0;
    pthread_mutex_unlock(&r.fm.mu);
    fm_up(&r.fm);
    wait_for(&r, finalized_once, "the sector finished once the manager is back");
    assert_false(has_report(&r, "fail:temporary"));
    assert_false(has_report(&r, "fail:permanent"));
    assert_int_equal(counter(&r, &r.fm.aborted), 0);
    rig_stop(&r);
}

static void script_forget(fake_mgr *m)
{
    snprintf(m->forget_at, sizeof m->forget_at, "PC1Done");
}

/* A manager restored from a backup older than the sector answers "unknown sector" to its
 * report: the thread gives the sector up and cleans its location instead of pausing. */
static void test_unknown_sector_dropped(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_forget);
    thread_start(&r);
    wait_for(&r, aborted_once, "the forgotten sector given up");
    wait_for(&r, empty_idle, "the thread back to Empty");
    wk_thread_status s;
    status(&r, &s);
    assert_false(s.paused);
    assert_int_equal(counter(&r, &r.fm.finalized), 0);
    char data[300];
    snprintf(data, sizeof data, "%s/data/sealed", r.loc);
    assert_false(sp_is_dir(data));
    rig_stop(&r);
}

static void script_pc_lost(fake_mgr *m)
{
    m->pc_lost_polls = 1;
}

/* The manager has no precommit for a sector that submitted one (lost in a restore): the
 * precommit is submitted again with reset, and the sector finishes. */
static void test_lost_precommit_resubmitted(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_pc_lost);
    thread_start(&r);
    wait_for(&r, finalized_once, "the sector finished after the precommit was resubmitted");
    assert_true(has_report(&r, "PCSubmitted>PC2Done:ReSubmitPC"));
    assert_int_equal(counter(&r, &r.fm.precommits), 2);
    assert_int_equal(counter(&r, &r.fm.aborted), 0);
    rig_stop(&r);
}

static void script_mismatched(fake_mgr *m)
{
    m->precommit_res = WK_SUBMIT_MISMATCHED;
}

static void test_mismatched_pauses(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_mismatched);
    thread_start(&r);
    wait_for(&r, paused, "a pause on Mismatched");
    wk_thread_status s;
    status(&r, &s);
    assert_string_equal(s.state, "PC2Done");
    assert_int_equal(s.retry, 0);
    assert_non_null(strstr(s.last_error, "does not match what was submitted before"));
    assert_int_equal(counter(&r, &r.fm.precommits), 1);
    /* abort while paused: the manager is told, the location cleaned */
    assert_int_equal(wk_thread_abort(r.t, "operator gave up", NULL), SP_OK);
    wait_for(&r, aborted_once, "ReportAborted");
    assert_string_equal(r.fm.abort_reason, "operator gave up");
    wait_for(&r, empty_idle, "the thread back to Empty");
    rig_stop(&r);
}

static void script_rejected(fake_mgr *m)
{
    m->proof_res = WK_SUBMIT_REJECTED;
}

static void test_rejected_aborts(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_rejected);
    thread_start(&r);
    wait_for(&r, aborted_once, "ReportAborted after Rejected");
    assert_non_null(strstr(r.fm.abort_reason, "proof rejected by the manager"));
    wait_for(&r, empty_idle, "the thread back to Empty");
    char p[600];
    snprintf(p, sizeof p, "%s/data", r.loc);
    assert_false(sp_path_exists(p));
    assert_true(has_report(&r, "fail:abort"));   /* C2Done -> Aborted, with the reason */
    assert_int_equal(counter(&r, &r.fm.finalized), 0);
    int fin, ab;
    wk_thread_counts(r.t, &fin, &ab);
    assert_int_equal(ab, 1);
    rig_stop(&r);
}

static void script_finalize(fake_mgr *m)
{
    snprintf(m->finalize_at, sizeof m->finalize_at, "PC2Done");
}

static void test_finalized_drops(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_finalize);
    thread_start(&r);
    wait_for(&r, aborted_once, "ReportAborted after Finalized=true");
    assert_non_null(strstr(r.fm.abort_reason, "scripted finalize"));
    wait_for(&r, empty_idle, "the thread back to Empty");
    assert_int_equal(counter(&r, &r.fm.precommits), 0);
    rig_stop(&r);
}

static void script_persisted_false(fake_mgr *m)
{
    m->persisted_false = 1;
    m->seed_waits = 2;
}

static void test_persisted_refused_once(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_persisted_false);
    thread_start(&r);
    wait_for(&r, finalized_once, "the sector finished");
    assert_int_equal(counter(&r, &r.fm.persisted), 2);
    assert_int_equal(counter(&r, &r.fm.aborted), 0);
    rig_stop(&r);
}

/* A thread stopped in the middle of PC2 (stop cancels the stage) resumes from its record. */
static void test_stop_and_resume(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, NULL);
    char pause[300];
    snprintf(pause, sizeof pause, "%s/pause", r.dir);
    assert_int_equal(sp_mkdir_p(pause, 0755, NULL), SP_OK);
    setenv("SEALPIPE_TEST_PAUSE", "pc2", 1);
    setenv("SEALPIPE_TEST_PAUSE_DIR", pause, 1);
    thread_start(&r);
    char marker[400];
    snprintf(marker, sizeof marker, "%s/pc2.paused", pause);
    for (int i = 0; i < 1000 && !sp_path_exists(marker); i++)
        sp_sleep_ms(10);
    assert_true(sp_path_exists(marker));
    wk_thread_status s;
    status(&r, &s);
    assert_string_equal(s.state, "PC1Done");
    assert_string_equal(s.job, "running");
    thread_end(&r);   /* stop: the pause gives way to the cancel, PC2 is interrupted */
    unsetenv("SEALPIPE_TEST_PAUSE");
    unsetenv("SEALPIPE_TEST_PAUSE_DIR");
    assert_false(has_report(&r, "PC1Done>PC2Done:PC2"));
    thread_start(&r);
    wait_for(&r, finalized_once, "the resumed sector finished");
    /* PC2 was done once, after the restart; nothing was allocated twice */
    int n = 0;
    pthread_mutex_lock(&r.fm.mu);
    for (int i = 0; i < r.fm.nreports; i++)
        n += !strcmp(r.fm.reports[i], "PC1Done>PC2Done:PC2");
    assert_int_equal(r.fm.next_number, 1);
    pthread_mutex_unlock(&r.fm.mu);
    assert_int_equal(n, 1);
    rig_stop(&r);
}

static void script_two(fake_mgr *m)
{
    m->sectors_left = 2;
    m->seed_waits = 1000;
}

/* pause takes effect at the next wait; resume --state goes back in the plan */
static void test_pause_and_resume_state(void **state)
{
    (void)state;
    rig r;
    rig_start(&r, script_two);
    thread_start(&r);
    sp_err err;
    assert_int_equal(wk_thread_resume(r.t, NULL, &err), SP_ESTATE);
    assert_non_null(strstr(err.msg, "not paused"));
    /* it waits for the seed; pausing interrupts the wait */
    for (int i = 0; i < 1000; i++) {
        wk_thread_status s;
        status(&r, &s);
        if (!strcmp(s.state, "PersistanceSubmitted"))
            break;
        sp_sleep_ms(10);
    }
    assert_int_equal(wk_thread_pause(r.t, NULL), SP_OK);
    wait_for(&r, paused, "the pause");
    /* back to PC1Done: PC2, the precommit (Duplicate-safe) and the copy are redone */
    pthread_mutex_lock(&r.fm.mu);
    r.fm.seed_waits = 0;
    int pre = r.fm.precommits;
    pthread_mutex_unlock(&r.fm.mu);
    assert_int_equal(wk_thread_resume(r.t, "PC1Done", NULL), SP_OK);
    wait_for(&r, finalized_once, "the sector finished");
    assert_true(has_report(&r, "PersistanceSubmitted>PC1Done:SetState"));
    assert_int_equal(counter(&r, &r.fm.precommits), pre + 1);
    rig_stop(&r);
}

int main(void)
{
    sp_log_init("test_worker_thread", SP_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_one),
        cmocka_unit_test(test_retries_then_pause),
        cmocka_unit_test(test_mismatched_pauses),
        cmocka_unit_test(test_rejected_aborts),
        cmocka_unit_test(test_finalized_drops),
        cmocka_unit_test(test_persisted_refused_once),
        cmocka_unit_test(test_stop_and_resume),
        cmocka_unit_test(test_pause_and_resume_state),
        cmocka_unit_test(test_manager_away_is_not_a_failure),
        cmocka_unit_test(test_unknown_sector_dropped),
        cmocka_unit_test(test_lost_precommit_resubmitted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
