/* jsonrpc_client.c — sp_rpc_client: JSON-RPC 2.0 calls over HTTP POST with libcurl.
 *
 * Thread safety: each call borrows a curl easy handle from a small mutex-protected pool
 * (a handle serves one thread at a time) and returns it afterwards, so its kept-alive
 * connection serves the next call.  Retries happen only for connection failures where no
 * HTTP answer arrived; everything else is returned as it came.
 */
#include "sp_jsonrpc.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sp_json.h"
#include "sp_log.h"

#define POOL_MAX 16
#define RESPONSE_DEPTH 128
/* Bodies this large let curl send "Expect: 100-continue" so a server that refuses them
 * can say so before the body is on the wire; smaller ones skip the extra round trip. */
#define EXPECT_THRESHOLD (64 * 1024)

struct sp_rpc_client {
    sp_rpc_client_opts o;
    char *url;
    char *auth_line;
    struct curl_slist *headers;        /* with "Expect:" (suppressed) */
    struct curl_slist *headers_large;  /* without: curl decides */
    pthread_mutex_t mu;
    CURL *idle[POOL_MAX];
    size_t n_idle;
    atomic_uint_fast64_t next_id;
    atomic_uint_fast64_t attempts;
};

typedef struct buffer {
    char *p;
    size_t len, cap, max;
    bool too_big;
} buffer;

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    buffer *b = ud;
    size_t len = size * n;
    if (b->len + len > b->max) {
        b->too_big = true;
        return 0;
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return 0;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, len);
    b->len += len;
    b->p[b->len] = 0;
    return len;
}

static void wipe_free(char *s)
{
    if (s) {
        memset(s, 0, strlen(s));
        free(s);
    }
}

sp_code sp_rpc_client_new(const sp_rpc_client_opts *opts, sp_rpc_client **out, sp_err *err)
{
    *out = NULL;
    if (!opts || !opts->url || strncmp(opts->url, "http", 4) != 0)
        return sp_fail(err, SP_EINVAL, "rpc client: a URL such as http://127.0.0.1:1789/rpc/v0 is needed");
    sp_code rc = sp_http_global_init(err);
    if (rc)
        return rc;
    sp_rpc_client *c = calloc(1, sizeof *c);
    if (!c)
        return sp_fail(err, SP_ENOMEM, "rpc client: out of memory");
    pthread_mutex_init(&c->mu, NULL);
    c->o = *opts;
    if (!c->o.timeout_ms)
        c->o.timeout_ms = 30000;
    if (!c->o.connect_timeout_ms)
        c->o.connect_timeout_ms = 3000;
    if (!c->o.backoff_ms)
        c->o.backoff_ms = 100;
    if (!c->o.backoff_max_ms)
        c->o.backoff_max_ms = 5000;
    if (!c->o.max_response)
        c->o.max_response = 64u << 20;
    atomic_init(&c->next_id, 1);
    atomic_init(&c->attempts, 0);
    c->url = strdup(opts->url);
    c->o.url = c->url;
    c->o.token = NULL; /* kept only inside the header line */
    if (!c->url)
        goto oom;
    if (opts->token && asprintf(&c->auth_line, "Authorization: Bearer %s", opts->token) < 0) {
        c->auth_line = NULL;
        goto oom;
    }
    const char *common[] = { "Content-Type: application/json", "Accept: application/json",
                             c->auth_line };
    for (size_t i = 0; i < 3; i++) {
        if (!common[i])
            continue;
        struct curl_slist *a = curl_slist_append(c->headers, common[i]);
        if (a)
            c->headers = a;
        struct curl_slist *b = curl_slist_append(c->headers_large, common[i]);
        if (b)
            c->headers_large = b;
        if (!a || !b)
            goto oom;
    }
    struct curl_slist *a = curl_slist_append(c->headers, "Expect:");
    if (!a)
        goto oom;
    c->headers = a;
    *out = c;
    return SP_OK;
oom:
    sp_rpc_client_free(c);
    return sp_fail(err, SP_ENOMEM, "rpc client: out of memory");
}

void sp_rpc_client_free(sp_rpc_client *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_idle; i++)
        curl_easy_cleanup(c->idle[i]);
    curl_slist_free_all(c->headers);
    curl_slist_free_all(c->headers_large);
    wipe_free(c->auth_line);
    free(c->url);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

uint64_t sp_rpc_client_attempts(const sp_rpc_client *c)
{
    return atomic_load(&((sp_rpc_client *)c)->attempts);
}

static CURL *handle_take(sp_rpc_client *c)
{
    CURL *h = NULL;
    pthread_mutex_lock(&c->mu);
    if (c->n_idle)
        h = c->idle[--c->n_idle];
    pthread_mutex_unlock(&c->mu);
    if (h)
        return h;
    h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_URL, c->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->o.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Servers close idle connections after 60 s by default; never reuse one near that. */
    curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, 30L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    return h;
}

static void handle_give(sp_rpc_client *c, CURL *h)
{
    pthread_mutex_lock(&c->mu);
    if (c->n_idle < POOL_MAX) {
        c->idle[c->n_idle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&c->mu);
    if (h)
        curl_easy_cleanup(h);
}

/* A failure where no HTTP answer arrived and the request cannot have been answered. */
static bool connect_failure(CURLcode rc, CURL *h)
{
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_COULDNT_RESOLVE_PROXY)
        return true;
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (status != 0)
        return false;
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        curl_off_t connected = 0;
        curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected);
        return connected == 0;
    }
    return rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING;
}

static void backoff_sleep(const sp_rpc_client *c, unsigned attempt, uint64_t seed)
{
    uint64_t ms = c->o.backoff_ms;
    for (unsigned i = 0; i < attempt && ms < c->o.backoff_max_ms; i++)
        ms *= 2;
    if (ms > c->o.backoff_max_ms)
        ms = c->o.backoff_max_ms;
    /* +-25% jitter so many workers reconnecting to a restarted manager spread out. */
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    ms = ms * 3 / 4 + (ms ? (seed >> 33) % (ms / 2 + 1) : 0);
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* POSTs body with retries on connection failures.  On SP_OK, *status and resp are set. */
static sp_code post(sp_rpc_client *c, const char *what, const char *body, size_t len,
                    long *status, buffer *resp, sp_err *err)
{
    CURL *h = handle_take(c);
    if (!h)
        return sp_fail(err, SP_ENOMEM, "%s: cannot create a curl handle", what);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t seed = (uint64_t)now.tv_nsec ^ (uint64_t)(uintptr_t)body;
    sp_code rc = SP_OK;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, len >= EXPECT_THRESHOLD ? c->headers_large : c->headers);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    for (unsigned attempt = 0;; attempt++) {
        free(resp->p);
        *resp = (buffer){ .max = c->o.max_response };
        atomic_fetch_add(&c->attempts, 1);
        CURLcode cr = curl_easy_perform(h);
        if (cr == CURLE_OK) {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
            rc = SP_OK;
            break;
        }
        bool retry = connect_failure(cr, h);
        if (resp->too_big)
            rc = sp_fail(err, SP_EIO, "%s: answer from %s exceeds %zu bytes", what, c->url,
                         c->o.max_response);
        else if (cr == CURLE_OPERATION_TIMEDOUT)
            rc = sp_fail(err, SP_ETIMEOUT, "%s: no answer from %s within %u ms", what, c->url,
                         retry ? c->o.connect_timeout_ms : c->o.timeout_ms);
        else
            rc = sp_fail(err, SP_ENET, "%s: %s: %s", what, c->url, curl_easy_strerror(cr));
        if (!retry || attempt >= c->o.retries)
            break;
        SP_DEBUG("%s: %s; retry %u of %u", what, curl_easy_strerror(cr), attempt + 1, c->o.retries);
        backoff_sleep(c, attempt, seed + attempt);
    }
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    handle_give(c, h);
    return rc;
}

/* Builds {"jsonrpc":"2.0","method":..,"params":..[,"id":..]} and prints it. */
static char *request_text(const char *method, const cJSON *params, uint64_t id, bool with_id)
{
    cJSON *req = cJSON_CreateObject();
    char *text = NULL;
    if (!req || !cJSON_AddStringToObject(req, "jsonrpc", "2.0") ||
        !cJSON_AddStringToObject(req, "method", method))
        goto done;
    /* A reference, so params is serialised in place and never copied or freed here. */
    if (params ? !cJSON_AddItemReferenceToObject(req, "params", (cJSON *)params)
               : !cJSON_AddItemToObject(req, "params", cJSON_CreateArray()))
        goto done;
    if (with_id && !cJSON_AddNumberToObject(req, "id", (double)id))
        goto done;
    text = cJSON_PrintUnformatted(req);
done:
    cJSON_Delete(req);
    return text;
}

static void one_line(char *s, size_t max)
{
    if (strlen(s) > max)
        s[max] = 0;
    for (char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = ' ';
}

/* Reads an error object {"code":..,"message":..} into err. */
static sp_code remote_error(const char *method, const cJSON *e, long status, int *rpc_code,
                            sp_err *err)
{
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
    int c = cJSON_IsNumber(code) ? code->valueint : 0;
    if (rpc_code)
        *rpc_code = c;
    const char *m = cJSON_IsString(msg) ? msg->valuestring : "(no message)";
    if (status == 401)
        return sp_fail(err, SP_EAUTH, "%s: unauthorized: %s (check the token)", method, m);
    return sp_fail(err, SP_ERPC, "%s: %s (code %d)", method, m, c);
}

static sp_code interpret(sp_rpc_client *c, const char *method, uint64_t id, long status,
                         buffer *resp, cJSON **result, int *rpc_code, sp_err *err)
{
    cJSON *doc = NULL;
    sp_err perr;
    if (!resp->p || sp_json_parse(resp->p, resp->len, RESPONSE_DEPTH, &doc, &perr) != SP_OK) {
        char body[160] = "";
        if (resp->p)
            snprintf(body, sizeof body, "%s", resp->p);
        one_line(body, 120);
        if (status == 401)
            return sp_fail(err, SP_EAUTH, "%s: HTTP 401 from %s (check the token)", method, c->url);
        if (status != 200)
            return sp_fail(err, SP_ERPC, "%s: HTTP %ld from %s: %s", method, status, c->url, body);
        return sp_fail(err, SP_EPARSE, "%s: the answer from %s is not JSON: %s", method, c->url,
                       perr.msg);
    }
    sp_code rc;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
    const cJSON *rid = cJSON_GetObjectItemCaseSensitive(doc, "id");
    cJSON *res = cJSON_GetObjectItemCaseSensitive(doc, "result");
    if (cJSON_IsObject(e)) {
        rc = remote_error(method, e, status, rpc_code, err);
    } else if (status == 401) {
        rc = sp_fail(err, SP_EAUTH, "%s: HTTP 401 from %s (check the token)", method, c->url);
    } else if (!res || !cJSON_IsNumber(rid) || rid->valuedouble != (double)id) {
        rc = sp_fail(err, SP_EPARSE, "%s: the answer from %s is not a JSON-RPC response to "
                     "request %llu (HTTP %ld)", method, c->url, (unsigned long long)id, status);
    } else {
        *result = cJSON_DetachItemViaPointer(doc, res);
        rc = SP_OK;
    }
    cJSON_Delete(doc);
    return rc;
}

sp_code sp_rpc_client_call(sp_rpc_client *c, const char *method, const cJSON *params,
                           cJSON **result, int *rpc_code, sp_err *err)
{
    *result = NULL;
    if (rpc_code)
        *rpc_code = 0;
    if (params && !cJSON_IsArray(params) && !cJSON_IsObject(params))
        return sp_fail(err, SP_EINVAL, "%s: params must be an array or an object", method);
    uint64_t id = atomic_fetch_add(&c->next_id, 1);
    char *body = request_text(method, params, id, true);
    if (!body)
        return sp_fail(err, SP_ENOMEM, "%s: cannot build the request (out of memory)", method);
    buffer resp = { 0 };
    long status = 0;
    sp_code rc = post(c, method, body, strlen(body), &status, &resp, err);
    if (rc == SP_OK)
        rc = interpret(c, method, id, status, &resp, result, rpc_code, err);
    free(resp.p);
    free(body);
    return rc;
}

sp_code sp_rpc_client_notify(sp_rpc_client *c, const char *method, const cJSON *params,
                             sp_err *err)
{
    if (params && !cJSON_IsArray(params) && !cJSON_IsObject(params))
        return sp_fail(err, SP_EINVAL, "%s: params must be an array or an object", method);
    char *body = request_text(method, params, 0, false);
    if (!body)
        return sp_fail(err, SP_ENOMEM, "%s: cannot build the request (out of memory)", method);
    buffer resp = { 0 };
    long status = 0;
    sp_code rc = post(c, method, body, strlen(body), &status, &resp, err);
    if (rc == SP_OK && status == 401)
        rc = sp_fail(err, SP_EAUTH, "%s: HTTP 401 from %s (check the token)", method, c->url);
    else if (rc == SP_OK && status != 204 && status != 200)
        rc = sp_fail(err, SP_ERPC, "%s: HTTP %ld from %s", method, status, c->url);
    free(resp.p);
    free(body);
    return rc;
}
