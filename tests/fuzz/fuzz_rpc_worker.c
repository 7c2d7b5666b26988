/* fuzz_rpc_worker.c — the seal-worker's admin API request path without HTTP: the admin
 * server exactly as wk_admin_start() builds it (its method table, token check, body limit),
 * over three sealing threads (sealer, sealer, unseal) of a worker config in a temporary
 * directory, run through sp_rpc_server_handle() (wk_admin_rpc()).
 *
 * Input: byte 0 picks the caller, the rest is the request body (NUL-terminated, as the
 * HTTP route hands it over):
 *   0 no token    1 the worker's token    2 the token is the input's first line
 * Invariants: an answer always comes back, valid JSON unless empty (HTTP 204); the right
 * token is never refused with 401.
 *
 * The threads are created but not started (no manager is needed): pause, resume and abort
 * change their flags as they would between two steps of a running thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz.h"
#include "sp_jsonrpc.h"
#include "wk_admin.h"
#include "wk_config.h"
#include "wk_mgr.h"
#include "wk_processor.h"
#include "wk_thread.h"

#define NTHREADS 3
#define TOKEN "fuzz-worker-token"

typedef struct target {
    int ready;                   /* 1 set up, -1 setup failed */
    char dir[256];
    wk_config cfg;
    wk_mgr *mgr;
    wk_procs *procs;
    wk_shared sh;
    wk_thread *threads[NTHREADS];
    wk_admin *admin;
} target;

static target T;

static void teardown(void)
{
    wk_admin_free(T.admin);
    for (int i = 0; i < NTHREADS; i++)
        wk_thread_free(T.threads[i]);
    wk_procs_free(T.procs);
    wk_mgr_free(T.mgr);
    wk_config_free(&T.cfg);
    T.ready = 0;
}

static int setup(void)
{
    char text[2048];
    sp_err err;
    wk_diags d = { 0 };
    fuzz_quiet_logs();
    if (fuzz_tmpdir("rpc-worker", T.dir, sizeof T.dir) != 0)
        return -1;
    snprintf(text, sizeof text,
             "worker = { name = \"fuzz\"; };\n"
             "sector_manager = { url = \"http://127.0.0.1:1\"; token = \"" TOKEN "\"; };\n"
             "sealing_thread = ( { location = \"%s/t0\"; }, { location = \"%s/t1\"; },\n"
             "                   { location = \"%s/t2\"; plan = \"unseal\"; } );\n"
             "attached = ( { name = \"s1\"; location = \"%s/s1\"; } );\n"
             "processors = { parent_cache = \"%s/parents\"; };\n",
             T.dir, T.dir, T.dir, T.dir, T.dir);
    sp_code rc = wk_config_load_string(text, "fuzz-worker.cfg", &T.cfg, &d, &err);
    wk_diags_free(&d);
    atexit(teardown);
    wk_procs_opts po = { .cfg = &T.cfg };
    if (rc || (rc = wk_mgr_new(T.cfg.manager_url, TOKEN, &T.mgr, &err)) ||
        (rc = wk_procs_start(&po, &T.procs, &err)))
        goto fail;
    T.sh = (wk_shared){ .cfg = &T.cfg, .mgr = T.mgr, .procs = T.procs, .instance = "fuzz" };
    for (int i = 0; i < NTHREADS; i++)
        if ((rc = wk_thread_new(&T.sh, i, &T.threads[i], &err)))
            goto fail;
    /* any free port: the server must start, though no request comes over HTTP */
    wk_admin_opts ao = { .listen = "127.0.0.1:0", .token = TOKEN, .name = "fuzz",
                         .manager_url = T.cfg.manager_url, .threads = T.threads,
                         .nthreads = NTHREADS, .procs = T.procs };
    if ((rc = wk_admin_start(&ao, &T.admin, &err)))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "fuzz_rpc_worker: setup: %s\n", err.msg);
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (T.ready == 0)
        T.ready = setup() == 0 ? 1 : -1;
    if (T.ready < 0)
        abort(); /* the harness cannot run: say so loudly rather than pass */
    if (size < 1)
        return 0;
    unsigned who = data[0] % 3;
    data++;
    size--;
    char *owned = NULL;
    const char *token = who == 1 ? TOKEN : NULL;
    if (who == 2) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        if (!(owned = fuzz_strndup(data, n)))
            return 0;
        token = owned;
        data += n + (nl ? 1 : 0);
        size -= n + (nl ? 1 : 0);
    }
    char *body = fuzz_strndup(data, size);
    char *out = NULL;
    size_t out_len = 0;
    unsigned status = 0;
    if (body && sp_rpc_server_handle(wk_admin_rpc(T.admin), token, body, size, &out, &out_len,
                                     &status) == SP_OK) {
        if (fuzz_verbose())
            fprintf(stderr, "  %u %.300s\n", status, out ? out : "(null)");
        if (!out || strlen(out) != out_len || (status == 401 && who == 1))
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
