/* jsonrpc_server.c — sp_rpc_server: JSON-RPC 2.0 request handling (validation, method
 * dispatch, scopes, batches, notifications, error objects, metrics) and its HTTP route.
 *
 * Authentication happens in the route's precheck, on the headers alone; the verdict
 * travels to the handler in req->tag (AUTHED bit + scope bits).  Everything after that
 * works on a body and a verdict, so sp_rpc_server_handle() can run it without HTTP.
 */
#include "sp_jsonrpc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_json.h"
#include "sp_log.h"

#define TAG_AUTHED (1ULL << 32)

struct sp_rpc_server {
    sp_rpc_server_opts opts;
    char name[32];
    char path[128];
    sp_rpc_method *methods; /* sorted by name */
    size_t n_methods;
    bool has_public;
    sp_metric *m_requests;
    sp_metric *m_errors;
    sp_metric *m_duration;
    sp_metric *m_auth_failures;
};

/* The caller as authentication left it. */
typedef struct caller {
    bool authed;     /* a token was accepted (or no auth is configured) */
    uint32_t scopes;
    const char *peer;
} caller;

static const char out_of_memory_response[] =
    "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32603,\"message\":\"out of memory\"},\"id\":null}";

/* ---- codes ------------------------------------------------------------------------- */

static const struct {
    sp_code sp;
    int rpc;
} code_map[] = {
    { SP_EINVAL, SP_RPC_INVALID_PARAMS }, { SP_EPARSE, SP_RPC_INVALID_PARAMS },
    { SP_EAUTH, SP_RPC_FORBIDDEN },       { SP_ENOTFOUND, SP_RPC_NOT_FOUND },
    { SP_EEXIST, SP_RPC_EXISTS },         { SP_ESTATE, SP_RPC_STATE },
    { SP_EBUSY, SP_RPC_BUSY },            { SP_ENOSPC, SP_RPC_NO_SPACE },
    { SP_EPROOF, SP_RPC_PROOF },          { SP_ECORRUPT, SP_RPC_CORRUPT },
    { SP_ETIMEOUT, SP_RPC_TIMEOUT },      { SP_ENET, SP_RPC_UPSTREAM },
    { SP_ERPC, SP_RPC_UPSTREAM },
};

int sp_rpc_code_from_sp(sp_code code)
{
    for (size_t i = 0; i < sizeof code_map / sizeof code_map[0]; i++)
        if (code_map[i].sp == code)
            return code_map[i].rpc;
    return SP_RPC_INTERNAL_ERROR;
}

sp_code sp_rpc_code_to_sp(int rpc_code)
{
    switch (rpc_code) {
    case SP_RPC_INVALID_PARAMS:
        return SP_EINVAL;
    case SP_RPC_UNAUTHORIZED:
    case SP_RPC_FORBIDDEN:
        return SP_EAUTH;
    case SP_RPC_INTERNAL_ERROR:
        return SP_EINTERNAL;
    case SP_RPC_UPSTREAM:
        return SP_ERPC;
    default:
        break;
    }
    for (size_t i = 0; i < sizeof code_map / sizeof code_map[0]; i++)
        if (code_map[i].rpc == rpc_code)
            return code_map[i].sp;
    return SP_ERPC;
}

/* ---- setup ------------------------------------------------------------------------- */

static int method_cmp(const void *a, const void *b)
{
    return strcmp(((const sp_rpc_method *)a)->name, ((const sp_rpc_method *)b)->name);
}

static sp_code register_metrics(sp_rpc_server *rpc, sp_err *err)
{
    sp_metrics *m = rpc->opts.metrics;
    sp_code rc;
    if ((rc = sp_metrics_counter(m, "sealpipe_rpc_requests_total", "JSON-RPC calls by method.",
                                 "method", &rpc->m_requests, err)) ||
        (rc = sp_metrics_counter(m, "sealpipe_rpc_errors_total",
                                 "JSON-RPC calls answered with an error, by method and code.",
                                 "method,code", &rpc->m_errors, err)) ||
        (rc = sp_metrics_histogram(m, "sealpipe_rpc_request_duration_seconds",
                                   "JSON-RPC handler latency by method.", "method", NULL, 0,
                                   &rpc->m_duration, err)) ||
        (rc = sp_metrics_counter(m, "sealpipe_rpc_auth_failures_total",
                                 "Requests refused for a missing, invalid or insufficient token.",
                                 NULL, &rpc->m_auth_failures, err)))
        return rc;
    return SP_OK;
}

sp_code sp_rpc_server_new(const sp_rpc_server_opts *opts, const sp_rpc_method *methods,
                          size_t n_methods, sp_rpc_server **out, sp_err *err)
{
    *out = NULL;
    sp_rpc_server *rpc = calloc(1, sizeof *rpc);
    if (!rpc)
        return sp_fail(err, SP_ENOMEM, "rpc server: out of memory");
    if (opts)
        rpc->opts = *opts;
    snprintf(rpc->name, sizeof rpc->name, "%s", rpc->opts.name ? rpc->opts.name : "rpc");
    snprintf(rpc->path, sizeof rpc->path, "%s", rpc->opts.path ? rpc->opts.path : "/rpc/v0");
    rpc->opts.path = rpc->path;
    if (!rpc->opts.max_body)
        rpc->opts.max_body = 1 << 20;
    if (!rpc->opts.max_depth)
        rpc->opts.max_depth = SP_JSON_DEFAULT_DEPTH;
    if (!rpc->opts.max_batch)
        rpc->opts.max_batch = 100;
    sp_code rc = SP_OK;
    rpc->methods = calloc(n_methods ? n_methods : 1, sizeof *rpc->methods);
    if (!rpc->methods) {
        rc = sp_fail(err, SP_ENOMEM, "rpc server: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n_methods; i++) {
        if (!methods[i].name || !methods[i].name[0] || !methods[i].handler) {
            rc = sp_fail(err, SP_EINVAL, "rpc server: method table entry %zu lacks a name or handler", i);
            goto fail;
        }
        rpc->methods[i] = methods[i];
        if (methods[i].scope == 0)
            rpc->has_public = true;
    }
    rpc->n_methods = n_methods;
    qsort(rpc->methods, n_methods, sizeof *rpc->methods, method_cmp);
    for (size_t i = 1; i < n_methods; i++)
        if (strcmp(rpc->methods[i - 1].name, rpc->methods[i].name) == 0) {
            rc = sp_fail(err, SP_EEXIST, "rpc server: method %s is listed twice", rpc->methods[i].name);
            goto fail;
        }
    if (rpc->opts.metrics && (rc = register_metrics(rpc, err)) != SP_OK)
        goto fail;
    *out = rpc;
    return SP_OK;
fail:
    sp_rpc_server_free(rpc);
    return rc;
}

void sp_rpc_server_free(sp_rpc_server *rpc)
{
    if (!rpc)
        return;
    free(rpc->methods);
    free(rpc);
}

static const sp_rpc_method *method_find(const sp_rpc_server *rpc, const char *name)
{
    sp_rpc_method key = { .name = name };
    return bsearch(&key, rpc->methods, rpc->n_methods, sizeof key, method_cmp);
}

/* "worker|admin", or "0x4" for bits without names. */
static void scope_text(const sp_rpc_server *rpc, uint32_t bits, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = 0;
    size_t n_names = 0;
    while (rpc->opts.scope_names && n_names < 32 && rpc->opts.scope_names[n_names])
        n_names++;
    for (unsigned i = 0; i < 32 && used < n; i++) {
        if (!(bits & (1u << i)))
            continue;
        const char *sep = used ? "|" : "";
        int w = i < n_names ? snprintf(buf + used, n - used, "%s%s", sep, rpc->opts.scope_names[i])
                            : snprintf(buf + used, n - used, "%s0x%x", sep, 1u << i);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    if (!buf[0])
        snprintf(buf, n, "none");
}

/* ---- authentication ---------------------------------------------------------------- */

/* Replaces every occurrence of token in msg (size bytes), in case a hook quoted it. */
static void redact(char *msg, size_t size, const char *token)
{
    static const char mark[] = "<redacted>";
    const size_t m = sizeof mark - 1;
    size_t tl = token ? strlen(token) : 0;
    if (tl == 0)
        return;
    char *from = msg, *hit;
    while ((hit = strstr(from, token)) != NULL) {
        size_t at = (size_t)(hit - msg), tail = strlen(hit + tl);
        if (at + m + 1 > size) {
            *hit = 0;
            return;
        }
        if (at + m + tail + 1 > size)
            tail = size - at - m - 1;
        memmove(hit + m, hit + tl, tail);
        memcpy(hit, mark, m);
        hit[m + tail] = 0;
        from = hit + m;
    }
}

/* Decides who the caller is.  Returns false (msg filled) when the request must be refused
 * outright with 401. */
static bool authenticate(sp_rpc_server *rpc, bool header_present, const char *token,
                         const char *peer, caller *who, char *msg, size_t msg_size)
{
    who->peer = peer;
    who->authed = false;
    who->scopes = 0;
    if (!rpc->opts.auth) {
        who->authed = true;
        who->scopes = UINT32_MAX;
        return true;
    }
    if (header_present && !token) {
        snprintf(msg, msg_size, "the Authorization header is not \"Bearer <token>\"");
    } else if (token) {
        sp_err e;
        sp_err_clear(&e);
        uint32_t scopes = 0;
        if (rpc->opts.auth(rpc->opts.auth_ctx, token, &scopes, &e) == SP_OK) {
            who->authed = true;
            who->scopes = scopes;
            return true;
        }
        redact(e.msg, sizeof e.msg, token);
        snprintf(msg, msg_size, "token refused: %s", e.msg[0] ? e.msg : "invalid token");
    } else if (!rpc->has_public) {
        snprintf(msg, msg_size, "a bearer token is required (Authorization: Bearer <token>)");
    } else {
        return true; /* anonymous; only public methods will answer */
    }
    SP_WARN("%s: refused request from %s: %s", rpc->name, peer, msg);
    sp_metric_add(rpc->m_auth_failures, NULL, 1);
    return false;
}

/* ---- responses --------------------------------------------------------------------- */

static cJSON *id_copy(const cJSON *id)
{
    return id ? cJSON_Duplicate(id, 0) : cJSON_CreateNull();
}

static cJSON *error_response(const cJSON *id, int code, const char *message, cJSON *data)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *e = cJSON_CreateObject();
    cJSON *idv = id_copy(id);
    if (!r || !e || !idv || !cJSON_AddStringToObject(r, "jsonrpc", "2.0") ||
        !cJSON_AddNumberToObject(e, "code", code) ||
        !cJSON_AddStringToObject(e, "message", message)) {
        cJSON_Delete(r);
        cJSON_Delete(e);
        cJSON_Delete(idv);
        cJSON_Delete(data);
        return NULL;
    }
    if (data)
        cJSON_AddItemToObject(e, "data", data);
    cJSON_AddItemToObject(r, "error", e);
    cJSON_AddItemToObject(r, "id", idv);
    return r;
}

static cJSON *result_response(const cJSON *id, cJSON *result)
{
    cJSON *r = cJSON_CreateObject();
    cJSON *idv = id_copy(id);
    if (!result)
        result = cJSON_CreateNull();
    if (!r || !idv || !result || !cJSON_AddStringToObject(r, "jsonrpc", "2.0")) {
        cJSON_Delete(r);
        cJSON_Delete(idv);
        cJSON_Delete(result);
        return NULL;
    }
    cJSON_AddItemToObject(r, "result", result);
    cJSON_AddItemToObject(r, "id", idv);
    return r;
}

static void count_error(sp_rpc_server *rpc, const char *label, int code)
{
    if (!rpc->m_errors)
        return;
    char c[16];
    snprintf(c, sizeof c, "%d", code);
    sp_metric_add(rpc->m_errors, SP_LABELS(label, c), 1);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* Outcome of one request object. */
typedef struct outcome {
    cJSON *response;   /* NULL: nothing to send (notification) */
    bool unauthorized; /* answered SP_RPC_UNAUTHORIZED: HTTP 401 for a single request */
    bool oom;          /* a response was due but could not be built */
} outcome;

static outcome reject(sp_rpc_server *rpc, const char *label, const cJSON *id, int code,
                      const char *msg)
{
    count_error(rpc, label, code);
    outcome o = { .response = error_response(id, code, msg, NULL) };
    o.oom = !o.response;
    return o;
}

static outcome run_method(sp_rpc_server *rpc, const sp_rpc_method *m, const cJSON *params,
                          const cJSON *id, bool notification, const caller *who)
{
    outcome o = { 0 };
    sp_rpc_call call = {
        .method = m->name, .params = params, .scopes = who->scopes, .peer = who->peer,
        .ctx = rpc->opts.ctx,
    };
    cJSON *result = NULL;
    sp_err e;
    sp_err_clear(&e);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sp_code rc = m->handler(&call, &result, &e);
    sp_metric_observe(rpc->m_duration, SP_LABELS(m->name), seconds_since(&t0));
    if (rc == SP_OK) {
        cJSON_Delete(call.error_data);
        if (notification) {
            cJSON_Delete(result);
            return o;
        }
        o.response = result_response(id, result);
        o.oom = !o.response;
        return o;
    }
    cJSON_Delete(result);
    int code = call.error_code ? call.error_code : sp_rpc_code_from_sp(rc);
    const char *msg = e.msg[0] ? e.msg : sp_strerror(rc);
    if (code == SP_RPC_INTERNAL_ERROR)
        SP_ERROR("%s: %s from %s failed: %s", rpc->name, m->name, who->peer, msg);
    else
        SP_DEBUG("%s: %s from %s: error %d: %s", rpc->name, m->name, who->peer, code, msg);
    count_error(rpc, m->name, code);
    if (notification) {
        cJSON_Delete(call.error_data);
        return o;
    }
    o.response = error_response(id, code, msg, call.error_data);
    o.oom = !o.response;
    return o;
}

static outcome dispatch_one(sp_rpc_server *rpc, const cJSON *req, const caller *who)
{
    char msg[SP_ERR_MSG_MAX];
    if (!cJSON_IsObject(req))
        return reject(rpc, "(invalid)", NULL, SP_RPC_INVALID_REQUEST,
                      "a request must be a JSON object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(req, "id");
    if (id && !cJSON_IsString(id) && !cJSON_IsNumber(id) && !cJSON_IsNull(id))
        return reject(rpc, "(invalid)", NULL, SP_RPC_INVALID_REQUEST,
                      "\"id\" must be a string, a number or null");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(req, "jsonrpc");
    if (!cJSON_IsString(version) || strcmp(version->valuestring, "2.0") != 0)
        return reject(rpc, "(invalid)", id, SP_RPC_INVALID_REQUEST,
                      "\"jsonrpc\" must be \"2.0\"");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(req, "method");
    if (!cJSON_IsString(method))
        return reject(rpc, "(invalid)", id, SP_RPC_INVALID_REQUEST,
                      "\"method\" must be a string");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(req, "params");
    if (params && !cJSON_IsArray(params) && !cJSON_IsObject(params))
        return reject(rpc, "(invalid)", id, SP_RPC_INVALID_REQUEST,
                      "\"params\" must be an array or an object");
    bool notification = id == NULL;

    const sp_rpc_method *m = method_find(rpc, method->valuestring);
    if (!m) {
        sp_metric_add(rpc->m_requests, SP_LABELS("(unknown)"), 1);
        snprintf(msg, sizeof msg, "method \"%.100s\" not found", method->valuestring);
        outcome o = reject(rpc, "(unknown)", id, SP_RPC_METHOD_NOT_FOUND, msg);
        if (notification) {
            cJSON_Delete(o.response);
            return (outcome){ 0 };
        }
        return o;
    }
    sp_metric_add(rpc->m_requests, SP_LABELS(m->name), 1);
    if (m->scope && !(m->scope & who->scopes)) {
        char need[128], have[128];
        scope_text(rpc, m->scope, need, sizeof need);
        scope_text(rpc, who->scopes, have, sizeof have);
        int code = who->authed ? SP_RPC_FORBIDDEN : SP_RPC_UNAUTHORIZED;
        if (who->authed)
            snprintf(msg, sizeof msg, "%s needs a token with scope %s; this token has %s",
                     m->name, need, have);
        else
            snprintf(msg, sizeof msg, "%s needs a bearer token with scope %s", m->name, need);
        SP_WARN("%s: refused %s from %s: %s", rpc->name, m->name, who->peer, msg);
        sp_metric_add(rpc->m_auth_failures, NULL, 1);
        outcome o = reject(rpc, m->name, id, code, msg);
        o.unauthorized = code == SP_RPC_UNAUTHORIZED;
        if (notification) {
            cJSON_Delete(o.response);
            return (outcome){ 0 };
        }
        return o;
    }
    return run_method(rpc, m, params, id, notification, who);
}

/* Prints resp (taken) into a malloc'd string; OOM yields the canned error. */
static char *print_response(cJSON *resp, bool oom, size_t *len)
{
    char *text = resp && !oom ? cJSON_PrintUnformatted(resp) : NULL;
    cJSON_Delete(resp);
    if (!text)
        text = strdup(out_of_memory_response);
    *len = text ? strlen(text) : 0;
    return text;
}

static char *error_text(int code, const char *msg, size_t *len)
{
    cJSON *r = error_response(NULL, code, msg, NULL);
    return print_response(r, !r, len);
}

/* Handles a whole body for an authenticated (or anonymous) caller. */
static char *process(sp_rpc_server *rpc, const char *body, size_t len, const caller *who,
                     size_t *out_len, unsigned *status)
{
    *status = 200;
    cJSON *doc = NULL;
    sp_err e;
    if (sp_json_parse(body, len, rpc->opts.max_depth, &doc, &e) != SP_OK) {
        count_error(rpc, "(invalid)", SP_RPC_PARSE_ERROR);
        return error_text(SP_RPC_PARSE_ERROR, e.msg, out_len);
    }
    if (!cJSON_IsArray(doc)) {
        outcome o = dispatch_one(rpc, doc, who);
        cJSON_Delete(doc);
        if (!o.response && !o.oom) {
            *status = 204;
            *out_len = 0;
            return strdup("");
        }
        if (o.unauthorized)
            *status = 401;
        return print_response(o.response, o.oom, out_len);
    }
    int n = cJSON_GetArraySize(doc);
    if (n == 0 || (unsigned)n > rpc->opts.max_batch) {
        cJSON_Delete(doc);
        char msg[128];
        if (n == 0)
            snprintf(msg, sizeof msg, "empty batch");
        else
            snprintf(msg, sizeof msg, "batch of %d requests exceeds the limit of %u", n,
                     rpc->opts.max_batch);
        count_error(rpc, "(invalid)", SP_RPC_INVALID_REQUEST);
        return error_text(SP_RPC_INVALID_REQUEST, msg, out_len);
    }
    cJSON *answers = cJSON_CreateArray();
    bool oom = !answers;
    for (const cJSON *req = doc->child; req && !oom; req = req->next) {
        outcome o = dispatch_one(rpc, req, who);
        if (o.oom || (o.response && !cJSON_AddItemToArray(answers, o.response))) {
            cJSON_Delete(o.response);
            oom = true;
        }
    }
    cJSON_Delete(doc);
    if (!oom && cJSON_GetArraySize(answers) == 0) {
        cJSON_Delete(answers);
        *status = 204;
        *out_len = 0;
        return strdup("");
    }
    return print_response(answers, oom, out_len);
}

static char *too_large_text(sp_rpc_server *rpc, size_t *len)
{
    char msg[128];
    snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes", rpc->opts.max_body);
    count_error(rpc, "(invalid)", SP_RPC_INVALID_REQUEST);
    return error_text(SP_RPC_INVALID_REQUEST, msg, len);
}

sp_code sp_rpc_server_handle(sp_rpc_server *rpc, const char *token, const char *body, size_t len,
                             char **out, size_t *out_len, unsigned *http_status)
{
    caller who;
    char msg[SP_ERR_MSG_MAX];
    if (!authenticate(rpc, token != NULL, token && *token ? token : NULL, "(in-process)", &who,
                      msg, sizeof msg)) {
        *http_status = 401;
        *out = error_text(SP_RPC_UNAUTHORIZED, msg, out_len);
    } else if (len > rpc->opts.max_body) {
        *http_status = 413;
        *out = too_large_text(rpc, out_len);
    } else {
        *out = process(rpc, body, len, &who, out_len, http_status);
    }
    if (!*out)
        return sp_fail(NULL, SP_ENOMEM, "out of memory");
    return SP_OK;
}

/* ---- HTTP route -------------------------------------------------------------------- */

static void respond(sp_http_response *resp, unsigned status, char *text, size_t len)
{
    if (!text) {
        sp_http_respond_text(resp, 500, "out of memory");
        return;
    }
    if (status == 204) {
        free(text);
        sp_http_respond_data(resp, 204, NULL, NULL, 0);
        return;
    }
    sp_http_respond_data(resp, status, "application/json", text, len);
    if (status == 401)
        sp_http_respond_header(resp, "WWW-Authenticate", "Bearer");
}

static bool rpc_precheck(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    sp_rpc_server *rpc = ctx;
    caller who;
    char msg[SP_ERR_MSG_MAX];
    bool present = sp_http_header(req, "Authorization") != NULL;
    if (!authenticate(rpc, present, sp_http_bearer(req), req->peer, &who, msg, sizeof msg)) {
        size_t len = 0;
        char *text = error_text(SP_RPC_UNAUTHORIZED, msg, &len);
        respond(resp, 401, text, len);
        return false;
    }
    req->tag = (who.authed ? TAG_AUTHED : 0) | who.scopes;
    return true;
}

static void rpc_http_handler(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    sp_rpc_server *rpc = ctx;
    size_t len = 0;
    if (req->body_too_large) {
        char *text = too_large_text(rpc, &len);
        respond(resp, 413, text, len);
        return;
    }
    caller who = {
        .authed = (req->tag & TAG_AUTHED) != 0,
        .scopes = (uint32_t)req->tag,
        .peer = req->peer,
    };
    unsigned status = 200;
    char *text = process(rpc, req->body, req->body_len, &who, &len, &status);
    respond(resp, status, text, len);
}

sp_code sp_rpc_server_mount(sp_rpc_server *rpc, sp_http_server *http, sp_err *err)
{
    sp_http_route route = {
        .method = "POST",
        .path = rpc->path,
        .flags = SP_HTTP_OVERSIZE,
        .max_body = rpc->opts.max_body,
        .handler = rpc_http_handler,
        .precheck = rpc_precheck,
        .ctx = rpc,
    };
    return sp_http_server_add_route(http, &route, err);
}
