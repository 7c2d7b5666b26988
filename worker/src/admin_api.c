/* admin_api.c — the worker's admin JSON-RPC server: thread list, pause, resume, abort and
 * info, behind the worker's token (wk_admin.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sp_http.h"
#include "sp_json.h"
#include "sp_jsonrpc.h"
#include "sp_log.h"
#include "wk_admin.h"

#define SCOPE_ADMIN 1u

struct wk_admin {
    wk_admin_opts o;
    char *token;
    sp_http_server *http;
    sp_rpc_server *rpc;
};

static sp_code auth(void *ctx, const char *token, uint32_t *scopes, sp_err *err)
{
    const wk_admin *a = ctx;
    size_t n = strlen(a->token), m = strlen(token);
    unsigned diff = (unsigned)(n ^ m);
    for (size_t i = 0; i < m; i++)
        diff |= (unsigned char)token[i] ^ (unsigned char)a->token[n ? i % n : 0];
    if (diff)
        return sp_fail(err, SP_EAUTH, "not this worker's token");
    *scopes = SCOPE_ADMIN;
    return SP_OK;
}

static sp_code thread_arg(sp_rpc_call *call, size_t max, wk_thread **t, sp_err *err)
{
    /* every control request is logged with who asked */
    const wk_admin *a = call->ctx;
    uint64_t idx;
    sp_code rc;
    if (call->params && !cJSON_IsArray(call->params))
        return sp_fail(err, SP_EINVAL, "params must be a positional array");
    if ((rc = sp_json_check_params(call->params, max, NULL, err)) ||
        (rc = sp_json_get_u64(call->params, 0, "index", 0, 1u << 20, &idx, err)))
        return rc;
    if ((int)idx >= a->o.nthreads)
        return sp_fail(err, SP_ENOTFOUND, "no sealing thread %llu (this worker has %d: 0..%d)",
                       (unsigned long long)idx, a->o.nthreads, a->o.nthreads - 1);
    *t = a->o.threads[idx];
    SP_INFO("admin API: %s for thread %llu from %s", call->method, (unsigned long long)idx,
            call->peer);
    return SP_OK;
}

static cJSON *threads_json(const wk_admin *a)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < a->o.nthreads; i++) {
        wk_thread_status s;
        wk_thread_status_get(a->o.threads[i], &s);
        cJSON *o = wk_thread_status_json(&s);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

cJSON *wk_admin_procs_json(wk_procs *p)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr || !p)
        return arr;
    wk_proc_status st[256];
    int n = wk_procs_status(p, st, 256);
    for (int i = 0; i < n && i < 256; i++) {
        cJSON *o = cJSON_CreateObject();
        bool ok = o && !sp_json_add_str(o, "stage", wk_stage_name(st[i].stage), NULL) &&
                  !sp_json_add_i64(o, "index", st[i].index, NULL) &&
                  !sp_json_add_i64(o, "pid", st[i].pid, NULL) &&
                  !sp_json_add_str(o, "state", st[i].state, NULL) &&
                  !sp_json_add_i64(o, "running", st[i].running, NULL) &&
                  !sp_json_add_i64(o, "concurrent", st[i].concurrent, NULL) &&
                  !sp_json_add_i64(o, "starts", st[i].starts, NULL) &&
                  !sp_json_add_i64(o, "failures", st[i].failures, NULL) &&
                  !sp_json_add_str(o, "binding", st[i].binding, NULL) &&
                  !sp_json_add_str(o, "last_error", st[i].last_error, NULL) &&
                  cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

static sp_code h_list(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    sp_code rc = sp_json_check_params(call->params, 0, NULL, err);
    if (rc)
        return rc;
    *result = threads_json(call->ctx);
    return *result ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
}

static sp_code h_info(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    const wk_admin *a = call->ctx;
    sp_code rc = sp_json_check_params(call->params, 0, NULL, err);
    if (rc)
        return rc;
    cJSON *o = cJSON_CreateObject();
    if (!o || sp_json_add_str(o, "name", a->o.name, err) ||
        sp_json_add_str(o, "version", SP_VERSION, err) ||
        sp_json_add_str(o, "manager", a->o.manager_url ? a->o.manager_url : "", err) ||
        sp_json_add_str(o, "listen", wk_admin_address(a), err) ||
        sp_json_add(o, "threads", threads_json(a), err) ||
        sp_json_add(o, "processors", wk_admin_procs_json(a->o.procs), err)) {
        cJSON_Delete(o);
        return sp_fail(err, SP_ENOMEM, "out of memory");
    }
    *result = o;
    return SP_OK;
}

static sp_code h_pause(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    wk_thread *t;
    sp_code rc = thread_arg(call, 1, &t, err);
    (void)result;
    if (rc)
        return rc;
    return wk_thread_pause(t, err);
}

static sp_code h_resume(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    wk_thread *t;
    const char *state = NULL;
    sp_code rc = thread_arg(call, 2, &t, err);
    (void)result;
    if (rc || (rc = sp_json_opt_str(call->params, 1, "state", 1, 63, NULL, &state, err)))
        return rc;
    return wk_thread_resume(t, state, err);
}

static sp_code h_abort(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    wk_thread *t;
    const char *reason = NULL;
    sp_code rc = thread_arg(call, 2, &t, err);
    (void)result;
    if (rc || (rc = sp_json_opt_str(call->params, 1, "reason", 0, 400, NULL, &reason, err)))
        return rc;
    return wk_thread_abort(t, reason, err);
}

static void health(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    (void)req;
    sp_http_respond_text(resp, 200, "ok\n");
}

sp_code wk_admin_start(const wk_admin_opts *o, wk_admin **out, sp_err *err)
{
    static const sp_rpc_method methods[] = {
        { "Worker.Info", h_info, SCOPE_ADMIN },
        { "Worker.ThreadsList", h_list, SCOPE_ADMIN },
        { "Worker.ThreadsPause", h_pause, SCOPE_ADMIN },
        { "Worker.ThreadsResume", h_resume, SCOPE_ADMIN },
        { "Worker.ThreadsAbort", h_abort, SCOPE_ADMIN },
    };
    static const char *const scope_names[] = { "admin", NULL };
    *out = NULL;
    if (!o->token || !*o->token)
        return sp_fail(err, SP_EAUTH, "admin API: no token; set sector_manager.token_file");
    wk_admin *a = calloc(1, sizeof *a);
    if (!a)
        return sp_fail(err, SP_ENOMEM, "admin API: out of memory");
    a->o = *o;
    a->token = strdup(o->token);
    sp_code rc = SP_OK;
    /* The server's default connection cap (4096): idle connections cost a socket, not a
     * thread, and with a small cap a few dozen idle sockets would lock the operator's CLI
     * and the metrics scraper out. */
    sp_http_server_opts ho = { .listen = o->listen, .name = "admin", .threads = 1,
                               .max_body = 64 * 1024, .metrics = o->metrics };
    sp_rpc_server_opts ro = { .name = "admin", .max_body = 64 * 1024, .auth = auth,
                              .auth_ctx = a, .scope_names = scope_names, .ctx = a,
                              .metrics = o->metrics };
    sp_http_route hr = { .method = "GET", .path = "/healthcheck", .handler = health };
    sp_http_route mr = { .method = "GET", .path = "/metrics",
                         .handler = sp_http_metrics_handler, .ctx = o->metrics };
    if (!a->token)
        rc = sp_fail(err, SP_ENOMEM, "admin API: out of memory");
    if (!rc)
        rc = sp_http_server_new(&ho, &a->http, err);
    if (!rc)
        rc = sp_rpc_server_new(&ro, methods, sizeof methods / sizeof methods[0], &a->rpc, err);
    if (!rc)
        rc = sp_rpc_server_mount(a->rpc, a->http, err);
    if (!rc)
        rc = sp_http_server_add_route(a->http, &hr, err);
    if (!rc && o->metrics)
        rc = sp_http_server_add_route(a->http, &mr, err);
    if (!rc)
        rc = sp_http_server_start(a->http, err);
    if (rc) {
        sp_err_prefix(err, "admin API (worker.listen %s)", o->listen);
        wk_admin_free(a);
        return rc;
    }
    SP_INFO("admin API listening on %s", sp_http_server_address(a->http));
    *out = a;
    return SP_OK;
}

const char *wk_admin_address(const wk_admin *a)
{
    return a && a->http ? sp_http_server_address(a->http) : "";
}

sp_rpc_server *wk_admin_rpc(const wk_admin *a)
{
    return a ? a->rpc : NULL;
}

void wk_admin_free(wk_admin *a)
{
    if (!a)
        return;
    if (a->http)
        sp_http_server_stop(a->http, 1000);
    sp_http_server_free(a->http);
    sp_rpc_server_free(a->rpc);
    if (a->token) {
        memset(a->token, 0, strlen(a->token));
        free(a->token);
    }
    free(a);
}
