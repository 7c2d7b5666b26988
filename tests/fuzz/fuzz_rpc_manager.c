/* fuzz_rpc_manager.c — the sector-manager's JSON-RPC request path without HTTP: token
 * check (sm_core_auth: JWT parsing and verification), body limits, JSON parsing, batches,
 * method dispatch and every method of the daemon's table (worker, admin and storage
 * methods, in the order daemon.c mounts them) over a real sqlite database in a temporary
 * home, as sp_rpc_server_handle() runs it.
 *
 * Input: byte 0 picks the caller, the rest is the request body (NUL-terminated, as the
 * HTTP route hands it over):
 *   0 no token        1 a worker token      2 an admin token
 *   3 the token is the input's first line (hostile tokens reach the JWT parser)
 *   4 the first line is a JWT payload signed with the home's real key (the claims parser)
 * Invariants: an answer always comes back and is valid JSON unless it is empty (HTTP 204);
 * status 401 only for callers 0, 3 and 4.
 *
 * The database lives on between inputs, as in the daemon (sectors allocated by one input
 * are there for the next).  The storage service is not started (as in the unit tests), so
 * methods that need it answer an error; nothing here touches paths outside the home unless
 * an input names them (`make fuzz` runs this target in a private read-only mount
 * namespace for that reason: tests/fuzz/run.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "sm_chain.h"
#include "sm_conf.h"
#include "sm_core.h"
#include "sm_db.h"
#include "sm_rpc.h"
#include "sm_stores.h"
#include "sm_tokens.h"
#include "sp_fs.h"
#include "sp_jsonrpc.h"
#include "sp_metrics.h"

typedef struct target {
    int ready;                   /* 1 set up, -1 setup failed */
    char dir[256];
    sm_db *db;
    sm_tokens tokens;
    sp_metrics *metrics;
    sm_core core;
    sp_rpc_method *methods;
    sp_rpc_server *rpc;
    char *worker, *admin;
} target;

static target T;

static void teardown(void)
{
    sp_rpc_server_free(T.rpc);
    if (T.ready > 0)
        sm_core_destroy(&T.core);
    sm_db_close(T.db);
    sp_metrics_free(T.metrics);
    free(T.methods);
    free(T.worker);
    free(T.admin);
    T.ready = 0;
}

static int setup(void)
{
    char db_path[512], path[512], text[2048];
    sm_conf *conf = NULL;
    sp_err err;
    fuzz_quiet_logs();
    if (fuzz_tmpdir("rpc-manager", T.dir, sizeof T.dir) != 0)
        return -1;
    snprintf(db_path, sizeof db_path, "%s/manager.db", T.dir);
    sm_db_opts o = { .path = db_path, .create = true };
    /* two miners, 2KiB and 8MiB, deals; two stores inside the home; a slow chain so that
     * epochs do not move between inputs */
    snprintf(text, sizeof text,
             "chain = { block_time = \"1h\"; };\n"
             "miners = ( { actor = 1000; sizes = [ \"2KiB\", \"8MiB\" ]; deals = true; },\n"
             "           { actor = 1001; sizes = [ \"2KiB\" ]; } );\n"
             "persist_stores = ( { name = \"s1\"; path = \"%s/s1\"; capacity = \"1MiB\"; },\n"
             "                   { name = \"s2\"; path = \"%s/s2\"; capacity = \"1GiB\"; "
             "tier = \"cold\"; } );\n"
             "piece_store = { path = \"%s/pieces\"; };\n",
             T.dir, T.dir, T.dir);
    snprintf(path, sizeof path, "%s/manager.cfg", T.dir);
    memset(T.tokens.secret, 5, sizeof T.tokens.secret);
    char s1[300], s2[300];
    snprintf(s1, sizeof s1, "%s/s1", T.dir);
    snprintf(s2, sizeof s2, "%s/s2", T.dir);
    if (sp_mkdir_p(s1, 0755, &err) || sp_mkdir_p(s2, 0755, &err) || sm_db_open(&o, &T.db, &err) || sm_conf_load_string(text, path, &conf, NULL, &err) ||
        sm_chain_load(T.db, &conf->chain_params, sp_wall_ms(), &conf->chain, &err) ||
        sm_stores_sync_config(T.db, conf->stores, conf->n_stores, &err) ||
        sp_mkdir_p(conf->piece_dir, 0755, &err) || sp_metrics_new(&T.metrics, &err) ||
        sm_token_create(&T.tokens, SM_SCOPE_WORKER, 0, &T.worker, &err) ||
        sm_token_create(&T.tokens, SM_SCOPE_ADMIN, 0, &T.admin, &err)) {
        fprintf(stderr, "fuzz_rpc_manager: setup: %s\n", err.msg);
        sm_conf_unref(conf);
        return -1;
    }
    sm_core_init(&T.core, T.db, &T.tokens, conf, T.metrics, T.dir);
    T.ready = 1;
    size_t n = sm_rpc_worker_count + sm_rpc_admin_count + sm_rpc_storage_count;
    if (!(T.methods = calloc(n, sizeof *T.methods)))
        return -1;
    memcpy(T.methods, sm_rpc_worker_methods, sm_rpc_worker_count * sizeof *T.methods);
    memcpy(T.methods + sm_rpc_worker_count, sm_rpc_admin_methods,
           sm_rpc_admin_count * sizeof *T.methods);
    memcpy(T.methods + sm_rpc_worker_count + sm_rpc_admin_count, sm_rpc_storage_methods,
           sm_rpc_storage_count * sizeof *T.methods);
    sp_rpc_server_opts ro = { .path = "/rpc/v0", .name = "rpc", .max_body = conf->max_body,
                              .auth = sm_core_auth, .auth_ctx = &T.core,
                              .scope_names = sm_scope_names, .metrics = T.metrics,
                              .ctx = &T.core };
    if (sp_rpc_server_new(&ro, T.methods, n, &T.rpc, &err)) {
        fprintf(stderr, "fuzz_rpc_manager: server: %s\n", err.msg);
        return -1;
    }
    atexit(teardown);
    return 0;
}

/* Splits "line\nrest" at the first newline: *line is malloc'd, *rest points into data. */
static char *first_line(const uint8_t *data, size_t size, const uint8_t **rest, size_t *rest_len)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) : size;
    *rest = nl ? nl + 1 : data + size;
    *rest_len = size - n - (nl ? 1 : 0);
    return fuzz_strndup(data, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (T.ready == 0 && setup() != 0)
        T.ready = -1;
    if (T.ready < 0)
        abort(); /* the harness cannot run: say so loudly rather than pass */
    if (size < 1)
        return 0;
    unsigned who = data[0] % 5;
    data++;
    size--;
    char *owned = NULL;
    const char *token = NULL;
    if (who == 1)
        token = T.worker;
    else if (who == 2)
        token = T.admin;
    else if (who == 3 || who == 4) {
        char *line = first_line(data, size, &data, &size);
        if (!line)
            return 0;
        if (who == 3) {
            owned = line;
        } else {
            sm_jwt_hs256(T.tokens.secret, sizeof T.tokens.secret, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                         line, &owned, NULL);
            free(line);
        }
        token = owned;
    }
    char *body = fuzz_strndup(data, size);
    char *out = NULL;
    size_t out_len = 0;
    unsigned status = 0;
    if (body && sp_rpc_server_handle(T.rpc, token, body, size, &out, &out_len, &status) == SP_OK) {
        if (fuzz_verbose())
            fprintf(stderr, "  %u %.300s\n", status, out ? out : "(null)");
        if (!out || strlen(out) != out_len)
            abort();
        if (status == 401 && (who == 1 || who == 2))
            abort();
        if (out_len) {
            cJSON *j = cJSON_ParseWithLength(out, out_len);
            if (!j)
                abort();
            cJSON_Delete(j);
        } else if (status != 204) {
            abort();
        }
    }
    free(out);
    free(body);
    free(owned);
    return 0;
}
