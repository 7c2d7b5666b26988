/* test_manager_rpc.c — the wire format of the manager's methods, exactly as docs/rpc.md
 * states it, through the JSON-RPC server in-process (sp_rpc_server_handle): result
 * shapes and field names (damocles' "Id", null results), tokens and scopes, and the
 * error codes of bad params, unknown sectors and refused tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sm_conf.h"
#include "sm_core.h"
#include "sm_db.h"
#include "sm_rpc.h"
#include "sm_tokens.h"
#include "sp_fs.h"
#include "sp_jsonrpc.h"

typedef struct fixture {
    char dir[64];
    sm_db *db;
    sm_core core;
    sp_rpc_server *rpc;
    sp_rpc_method methods[64];
    char *worker, *admin;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sm-rpc-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[256], text[512];
    snprintf(path, sizeof path, "%s/m.db", f->dir);
    sm_db_opts o = { .path = path, .create = true };
    snprintf(text, sizeof text,
             "chain = { block_time = \"1h\"; };\n"
             "miners = ( { actor = 1000; sizes = [ \"2KiB\" ]; deals = true; } );\n"
             "persist_stores = ( { name = \"s1\"; path = \"%s\"; capacity = \"1MiB\"; } );\n", f->dir);
    snprintf(path, sizeof path, "%s/manager.cfg", f->dir);
    sm_conf *conf = NULL;
    sm_tokens t;
    memset(t.secret, 5, sizeof t.secret);
    if (sm_db_open(&o, &f->db, NULL) || sm_conf_load_string(text, path, &conf, NULL, NULL) ||
        sm_chain_load(f->db, &conf->chain_params, sp_wall_ms(), &conf->chain, NULL) ||
        sm_stores_sync_config(f->db, conf->stores, conf->n_stores, NULL) ||
        sm_token_create(&t, SM_SCOPE_WORKER, 0, &f->worker, NULL) ||
        sm_token_create(&t, SM_SCOPE_ADMIN, 0, &f->admin, NULL))
        return -1;
    sm_core_init(&f->core, f->db, &t, conf, NULL, f->dir);
    size_t n = 0;
    for (size_t i = 0; i < sm_rpc_worker_count; i++)
        f->methods[n++] = sm_rpc_worker_methods[i];
    for (size_t i = 0; i < sm_rpc_admin_count; i++)
        f->methods[n++] = sm_rpc_admin_methods[i];
    sp_rpc_server_opts ro = { .auth = sm_core_auth, .auth_ctx = &f->core, .scope_names = sm_scope_names,
                              .ctx = &f->core };
    if (sp_rpc_server_new(&ro, f->methods, n, &f->rpc, NULL))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sp_rpc_server_free(f->rpc);
    sm_core_destroy(&f->core);
    sm_db_close(f->db);
    sp_remove_tree(f->dir, NULL);
    free(f->worker);
    free(f->admin);
    free(f);
    return 0;
}

/* The whole answer to one request. */
static char *call(fixture *f, const char *token, const char *method, const char *params, unsigned *status)
{
    char body[4096];
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}", method, params);
    char *out = NULL;
    size_t len = 0;
    unsigned st = 0;
    assert_int_equal(sp_rpc_server_handle(f->rpc, token, body, strlen(body), &out, &len, &st), SP_OK);
    if (status)
        *status = st;
    return out;
}

static void expect(fixture *f, const char *token, const char *method, const char *params, const char *want)
{
    char *out = call(f, token, method, params, NULL);
    if (strcmp(out, want) != 0)
        fail_msg("%s %s\n  got  %s\n  want %s", method, params, out, want);
    free(out);
}

static void expect_code(fixture *f, const char *token, const char *method, const char *params, int code,
                        const char *text)
{
    char *out = call(f, token, method, params, NULL);
    char c[32];
    snprintf(c, sizeof c, "\"code\":%d", code);
    if (!strstr(out, c) || (text && !strstr(out, text)))
        fail_msg("%s %s: %s lacks %s / %s", method, params, out, c, text ? text : "");
    free(out);
}

#define R(x) "{\"jsonrpc\":\"2.0\",\"result\":" x ",\"id\":1}"

static void test_shapes(void **state)
{
    fixture *f = *state;
    const char *w = f->worker;
    expect(f, w, "Venus.AllocateSector", "[{\"AllowedMiners\":[1000],\"AllowedProofTypes\":[5]}]",
           R("{\"ID\":{\"Miner\":1000,\"Number\":0},\"ProofType\":5}"));
    expect(f, w, "Venus.AllocateSector", "[{\"AllowedMiners\":null,\"AllowedProofTypes\":null}]",
           R("{\"ID\":{\"Miner\":1000,\"Number\":1},\"ProofType\":5}"));
    expect(f, w, "Venus.AllocateSector", "[]", R("{\"ID\":{\"Miner\":1000,\"Number\":2},\"ProofType\":5}"));
    expect(f, w, "Venus.AllocateSector", "[{\"AllowedProofTypes\":[8]}]", R("null"));
    expect(f, w, "Venus.AcquireDeals", "[{\"Miner\":1000,\"Number\":0},{\"MaxDeals\":null,\"MinUsedSpace\":null}]",
           R("null"));
    expect(f, w, "Venus.ReportState",
           "[{\"Miner\":1000,\"Number\":0},{\"Worker\":{\"Instance\":\"w\",\"Location\":\"/l\"},"
           "\"StateChange\":{\"Prev\":\"Allocated\",\"Next\":\"DealsAcquired\",\"Event\":\"AcquireDeals\"},"
           "\"Failure\":null}]",
           R("{\"Id\":{\"Miner\":1000,\"Number\":0},\"Finalized\":false,\"AbortReason\":null}"));
    expect(f, w, "Venus.WorkerPing", "[{\"Name\":\"w\",\"Dest\":\"127.0.0.1:1\",\"Version\":\"v\"}]", R("null"));
    expect(f, w, "Venus.StoreBasicInfo", "[\"nope\"]", R("null"));
    char want[512];
    snprintf(want, sizeof want, R("{\"Name\":\"s1\",\"Path\":\"%s\",\"Strict\":false,\"ReadOnly\":false,"
                                  "\"Weight\":1,\"Meta\":{}}"), f->dir);
    expect(f, w, "Venus.StoreBasicInfo", "[\"s1\"]", want);
    expect(f, w, "Venus.StoreReserveSpace", "[{\"Miner\":1000,\"Number\":0},4096,[\"s1\"]]", want);
    expect(f, w, "Venus.StoreReserveSpace", "[{\"Miner\":1000,\"Number\":1},4096,[]]", R("null"));
    expect(f, w, "Venus.PollPreCommitState", "[{\"Miner\":1000,\"Number\":0}]",
           R("{\"State\":4,\"Desc\":\"no precommit was submitted for this sector\"}"));
    expect(f, w, "Venus.PollProofState", "[{\"Miner\":1000,\"Number\":0}]",
           R("{\"State\":4,\"Desc\":\"no proof was submitted for this sector\"}"));
    expect(f, w, "Venus.SubmitProof", "[{\"Miner\":1000,\"Number\":0},{\"Proof\":\"AAAA\"},false]",
           R("{\"Res\":4,\"Desc\":\"the sector has no precommit on chain (none was submitted)\"}"));
    /* the ticket: base64 of 32 bytes and the epoch (head 0 of a one-hour chain: 0) */
    char *t = call(f, w, "Venus.AssignTicket", "[{\"Miner\":1000,\"Number\":0}]", NULL);
    assert_non_null(strstr(t, "\"Epoch\":0}"));
    assert_int_equal(strstr(t, "\",\"Epoch\"") - strstr(t, "\"Ticket\":\"") - 10, 44);
    free(t);
    expect(f, w, "Venus.ReportAborted", "[{\"Miner\":1000,\"Number\":0},\"disk\"]", R("null"));
    expect(f, w, "Venus.ReportState",
           "[{\"Miner\":1000,\"Number\":0},{\"Worker\":{\"Instance\":\"w\"},\"StateChange\":{\"Next\":\"PieceAdded\"}}]",
           R("{\"Id\":{\"Miner\":1000,\"Number\":0},\"Finalized\":true,\"AbortReason\":\"disk\"}"));
    expect(f, w, "Venus.PollPreCommitState", "[{\"Miner\":1000,\"Number\":0}]",
           R("{\"State\":7,\"Desc\":\"the sector was aborted: disk\"}"));
    expect(f, w, "Venus.ReportFinalized", "[{\"Miner\":1000,\"Number\":1}]", R("null"));
    expect(f, w, "Venus.ReportState",
           "[{\"Miner\":1000,\"Number\":1},{\"Worker\":{\"Instance\":\"w\"},\"StateChange\":{\"Next\":\"Finished\"}}]",
           R("{\"Id\":{\"Miner\":1000,\"Number\":1},\"Finalized\":true,\"AbortReason\":null}"));
    /* admin methods answer the admin token */
    char *list = call(f, f->admin, "Sealpipe.SectorsList", "[{\"State\":\"Aborted\"}]", NULL);
    assert_non_null(strstr(list, "\"ID\":{\"Miner\":1000,\"Number\":0}"));
    assert_non_null(strstr(list, "\"AbortReason\":\"disk\""));
    assert_null(strstr(list, "\"Number\":1}"));
    free(list);
}

static void test_errors(void **state)
{
    fixture *f = *state;
    const char *w = f->worker;
    unsigned status = 0;
    char *out = call(f, NULL, "Venus.AllocateSector", "[]", &status);
    assert_int_equal(status, 401);
    assert_non_null(strstr(out, "-32001"));
    free(out);
    out = call(f, "not-a-token", "Venus.AllocateSector", "[]", &status);
    assert_int_equal(status, 401);
    assert_null(strstr(out, "not-a-token"));
    free(out);
    expect_code(f, w, "Sealpipe.SectorsList", "[]", -32002, "scope admin");
    expect_code(f, w, "Venus.AssignTicket", "[{\"Miner\":1000,\"Number\":99}]", -32003, "s-t01000-99");
    expect_code(f, w, "Venus.AssignTicket", "[]", -32602, "SectorID");
    expect_code(f, w, "Venus.AssignTicket", "{\"a\":1}", -32602, "positional");
    expect_code(f, w, "Venus.AssignTicket", "[{\"Miner\":1000,\"Number\":0,\"X\":1}]", -32602, "\\\"X\\\"");
    expect_code(f, w, "Venus.AllocateSector", "[{\"AllowedMiners\":[\"a\"]}]", -32602, "AllowedMiners");
    expect_code(f, w, "Venus.AllocateSector", "[{\"Typo\":1}]", -32602, "Typo");
    expect_code(f, w, "Venus.WaitSeed", "[{\"Miner\":1000,\"Number\":0}]", -32602, "SealProof");
    expect_code(f, w, "Venus.SubmitPreCommit",
                "[{\"ID\":{\"Miner\":1000,\"Number\":0},\"ProofType\":5},{\"CommR\":\"AAAA\",\"CommD\":[],"
                "\"Ticket\":{\"Ticket\":\"\",\"Epoch\":0}},false]", -32602, "CommR");
    expect_code(f, w, "Venus.ReportState",
                "[{\"Miner\":1000,\"Number\":0},{\"Worker\":{\"Instance\":\"w\"},\"StateChange\":{\"Next\":\"a b\"}}]",
                -32602, "state name");
    expect_code(f, w, "Venus.Nope", "[]", -32601, NULL);
    expect_code(f, f->admin, "Sealpipe.SectorAbort", "[{\"Miner\":1000,\"Number\":42},\"x\"]", -32003, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
