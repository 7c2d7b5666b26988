/* test_jsonrpc.c — JSON-RPC 2.0 server and client, end to end on 127.0.0.1 with an
 * ephemeral port: round trips, every error class of the specification (request and
 * response shapes from the examples in https://www.jsonrpc.org/specification section 7),
 * tokens and scopes, limits, batches, notifications, concurrency, retries, metrics; plus
 * the sp_json parameter helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sp_http.h"
#include "sp_json.h"
#include "sp_jsonrpc.h"
#include "sp_log.h"
#include "sp_metrics.h"

#define SCOPE_WORKER (1u << 0)
#define SCOPE_ADMIN  (1u << 1)
#define MAX_BODY (64 * 1024)

static const char *const scope_names[] = { "worker", "admin", NULL };

typedef struct fixture {
    sp_http_server *http;
    sp_rpc_server *rpc;
    sp_metrics *metrics;
    char url[128];
    atomic_int count;
} fixture;

/* ---- methods ----------------------------------------------------------------------- */

static sp_code m_add(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    uint64_t a, b;
    sp_code rc;
    static const char *const names[] = { "a", "b", NULL };
    if ((rc = sp_json_check_params(call->params, 2, names, err)) ||
        (rc = sp_json_get_u64(call->params, 0, "a", 0, 1ULL << 40, &a, err)) ||
        (rc = sp_json_get_u64(call->params, 1, "b", 0, 1ULL << 40, &b, err)))
        return rc;
    *result = sp_json_u64(a + b);
    return *result ? SP_OK : sp_fail(err, SP_ENOMEM, "out of memory");
}

static sp_code m_echo(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    (void)err;
    *result = call->params ? cJSON_Duplicate(call->params, 1) : NULL;
    return SP_OK;
}

static sp_code m_admin(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    (void)call;
    (void)err;
    *result = cJSON_CreateString("admin ok");
    return SP_OK;
}

static sp_code m_version(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    (void)err;
    *result = cJSON_CreateString(call->scopes ? "1.0 (token)" : "1.0");
    return SP_OK;
}

static sp_code m_fail(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    (void)call;
    (void)result;
    return sp_fail(err, SP_ENOTFOUND, "sector 5 of miner f01000 not found");
}

static sp_code m_internal(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    (void)call;
    *result = cJSON_CreateString("discarded"); /* a result with an error is dropped */
    return sp_fail(err, SP_EIO, "database is locked");
}

static sp_code m_custom(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    (void)result;
    call->error_code = 1234;
    call->error_data = cJSON_CreateObject();
    cJSON_AddNumberToObject(call->error_data, "retry_after", 5);
    return sp_fail(err, SP_EBUSY, "come back later");
}

static sp_code m_count(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    (void)err;
    fixture *f = call->ctx;
    *result = cJSON_CreateNumber(atomic_fetch_add(&f->count, 1) + 1);
    return SP_OK;
}

static sp_code m_sleep(sp_rpc_call *call, cJSON **result, sp_err *err)
{
    uint64_t ms;
    sp_code rc = sp_json_get_u64(call->params, 0, "ms", 0, 5000, &ms, err);
    if (rc)
        return rc;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    *result = cJSON_CreateTrue();
    return SP_OK;
}

static const sp_rpc_method methods[] = {
    { "Test.Add", m_add, SCOPE_WORKER },
    { "Test.Echo", m_echo, SCOPE_WORKER },
    { "Test.Admin", m_admin, SCOPE_ADMIN },
    { "Public.Version", m_version, 0 },
    { "Test.Fail", m_fail, SCOPE_WORKER },
    { "Test.Internal", m_internal, SCOPE_WORKER },
    { "Test.Custom", m_custom, SCOPE_WORKER },
    { "Test.Count", m_count, SCOPE_WORKER },
    { "Test.Sleep", m_sleep, SCOPE_WORKER },
};

/* Token -> scopes.  The refusal message quotes the token on purpose: the server must not
 * let it reach the log. */
static sp_code auth(void *ctx, const char *token, uint32_t *scopes, sp_err *err)
{
    (void)ctx;
    if (strcmp(token, "worker-token") == 0) {
        *scopes = SCOPE_WORKER;
        return SP_OK;
    }
    if (strcmp(token, "admin-token") == 0) {
        *scopes = SCOPE_WORKER | SCOPE_ADMIN;
        return SP_OK;
    }
    return sp_fail(err, SP_EAUTH, "unknown token '%s'", token);
}

static sp_code fixture_start_on(fixture *f, const char *listen, sp_err *err)
{
    sp_http_server_opts ho = { .listen = listen, .name = "test-http", .threads = 2,
                               .max_body = MAX_BODY, .drain_limit = 1 << 20,
                               .metrics = f->metrics };
    sp_rpc_server_opts ro = { .path = "/rpc/v0", .name = "test-rpc", .max_body = MAX_BODY,
                              .max_batch = 20, .auth = auth, .scope_names = scope_names,
                              .metrics = f->metrics, .ctx = f };
    sp_code rc;
    if ((rc = sp_http_server_new(&ho, &f->http, err)) ||
        (rc = sp_rpc_server_new(&ro, methods, sizeof methods / sizeof methods[0], &f->rpc, err)) ||
        (rc = sp_rpc_server_mount(f->rpc, f->http, err)) ||
        (rc = sp_http_server_start(f->http, err)))
        return rc;
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/rpc/v0", sp_http_server_port(f->http));
    return SP_OK;
}

static void fixture_stop(fixture *f)
{
    sp_http_server_free(f->http);
    sp_rpc_server_free(f->rpc);
    f->http = NULL;
    f->rpc = NULL;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    sp_err err;
    assert_int_equal(sp_metrics_new(&f->metrics, &err), SP_OK);
    if (fixture_start_on(f, "127.0.0.1:0", &err) != SP_OK)
        fail_msg("%s", err.msg);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fixture_stop(f);
    sp_metrics_free(f->metrics);
    free(f);
    return 0;
}

static sp_rpc_client *client(const char *url, const char *token, unsigned retries)
{
    sp_rpc_client_opts o = { .url = url, .token = token, .timeout_ms = 10000,
                             .retries = retries, .backoff_ms = 20, .backoff_max_ms = 200 };
    sp_rpc_client *c;
    sp_err err;
    assert_int_equal(sp_rpc_client_new(&o, &c, &err), SP_OK);
    return c;
}

/* Test.Add(a, b) must answer a+b: proves the server is still serving. */
static void good_call(sp_rpc_client *c, uint64_t a, uint64_t b)
{
    cJSON *params = cJSON_CreateArray();
    cJSON_AddItemToArray(params, sp_json_u64(a));
    cJSON_AddItemToArray(params, sp_json_u64(b));
    cJSON *res = NULL;
    sp_err err;
    if (sp_rpc_client_call(c, "Test.Add", params, &res, NULL, &err) != SP_OK)
        fail_msg("good call failed: %s", err.msg);
    assert_true(cJSON_IsNumber(res));
    assert_true(res->valuedouble == (double)(a + b));
    cJSON_Delete(res);
    cJSON_Delete(params);
}

/* ---- raw HTTP ---------------------------------------------------------------------- */

typedef struct reply {
    long status;
    char *body;
    size_t len;
    cJSON *json;
} reply;

static size_t collect_body(char *p, size_t s, size_t n, void *ud)
{
    reply *r = ud;
    r->body = realloc(r->body, r->len + s * n + 1);
    memcpy(r->body + r->len, p, s * n);
    r->len += s * n;
    r->body[r->len] = 0;
    return s * n;
}

static reply post_raw(const char *url, const char *token, const void *body, size_t len)
{
    reply r = { 0 };
    CURL *h = curl_easy_init();
    struct curl_slist *hl = curl_slist_append(NULL, "Content-Type: application/json");
    char auth_line[128];
    if (token) {
        snprintf(auth_line, sizeof auth_line, "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, auth_line);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    if (!r.body)
        r.body = calloc(1, 1);
    r.json = cJSON_Parse(r.body);
    return r;
}

static reply post_text(fixture *f, const char *token, const char *text)
{
    return post_raw(f->url, token, text, strlen(text));
}

static void reply_free(reply *r)
{
    free(r->body);
    cJSON_Delete(r->json);
}

/* Checks {"jsonrpc":"2.0","error":{"code":code,...},"id":id_json} */
static void assert_error(const cJSON *resp, int code, const char *id_json, const char *msg_part)
{
    assert_non_null(resp);
    assert_string_equal(cJSON_GetObjectItem(resp, "jsonrpc")->valuestring, "2.0");
    const cJSON *e = cJSON_GetObjectItem(resp, "error");
    assert_non_null(e);
    assert_null(cJSON_GetObjectItem(resp, "result"));
    assert_int_equal(cJSON_GetObjectItem(e, "code")->valueint, code);
    const char *msg = cJSON_GetObjectItem(e, "message")->valuestring;
    if (msg_part && !strstr(msg, msg_part))
        fail_msg("error message \"%s\" lacks \"%s\"", msg, msg_part);
    char *id = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp, "id"));
    assert_string_equal(id, id_json);
    free(id);
}

static void assert_result(const cJSON *resp, const char *result_json, const char *id_json)
{
    assert_non_null(resp);
    assert_null(cJSON_GetObjectItem(resp, "error"));
    char *res = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp, "result"));
    char *id = cJSON_PrintUnformatted(cJSON_GetObjectItem(resp, "id"));
    assert_string_equal(res, result_json);
    assert_string_equal(id, id_json);
    free(res);
    free(id);
}

/* ---- tests ------------------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 0);
    good_call(c, 2, 3);
    good_call(c, 1ULL << 39, 1ULL << 39);

    /* named params */
    cJSON *p = cJSON_Parse("{\"a\":40,\"b\":\"2\"}");
    cJSON *res = NULL;
    sp_err err;
    assert_int_equal(sp_rpc_client_call(c, "Test.Add", p, &res, NULL, &err), SP_OK);
    assert_true(res->valuedouble == 42);
    cJSON_Delete(res);
    cJSON_Delete(p);

    /* structured data survives both directions */
    const char *doc = "{\"s\":\"caf\\u00e9 \\\"q\\\" \\\\ \\n\",\"n\":[1,-2.5,1e+300],\"t\":true,"
                      "\"z\":null,\"o\":{\"x\":[]}}";
    p = cJSON_Parse(doc);
    assert_int_equal(sp_rpc_client_call(c, "Test.Echo", p, &res, NULL, &err), SP_OK);
    char *a = cJSON_PrintUnformatted(p), *b = cJSON_PrintUnformatted(res);
    assert_string_equal(a, b);
    free(a);
    free(b);
    cJSON_Delete(res);
    cJSON_Delete(p);

    /* no params, null result */
    assert_int_equal(sp_rpc_client_call(c, "Test.Echo", NULL, &res, NULL, &err), SP_OK);
    assert_true(cJSON_IsArray(res)); /* the client sends [] */
    cJSON_Delete(res);
    sp_rpc_client_free(c);

    /* raw: string and null ids are echoed */
    reply r = post_text(f, "worker-token",
                        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1,2],\"id\":\"abc\"}");
    assert_int_equal(r.status, 200);
    assert_result(r.json, "3", "\"abc\"");
    reply_free(&r);
    r = post_text(f, "worker-token",
                  "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1,2],\"id\":null}");
    assert_result(r.json, "3", "null");
    reply_free(&r);
}

static void test_malformed_json(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 0);
    /* spec example: {"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz] */
    const char *bad[] = {
        "{\"jsonrpc\": \"2.0\", \"method\": \"foobar, \"params\": \"bar\", \"baz]",
        "{bad", "", "   ", "[1,2", "{\"a\":1}}", "\"unterminated", "{\"a\":1} trailing",
        "nul", "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"params\":[\"a\\u0000b\"],\"id\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        reply r = post_text(f, "worker-token", bad[i]);
        assert_int_equal(r.status, 200);
        assert_error(r.json, SP_RPC_PARSE_ERROR, "null", NULL);
        reply_free(&r);
        good_call(c, i, 1);
    }
    /* an embedded NUL byte */
    reply r = post_raw(f->url, "worker-token", "{\"a\":\0}", 7);
    assert_error(r.json, SP_RPC_PARSE_ERROR, "null", "NUL byte at byte 5");
    reply_free(&r);
    good_call(c, 7, 7);
    sp_rpc_client_free(c);
}

static void test_invalid_requests(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 0);
    static const struct {
        const char *body;
        const char *id;
        const char *msg;
    } cases[] = {
        { "{\"jsonrpc\": \"2.0\", \"method\": 1, \"params\": \"bar\"}", "null", "\"method\"" },
        { "{\"jsonrpc\":\"1.0\",\"method\":\"Test.Add\",\"id\":3}", "3", "\"jsonrpc\"" },
        { "{\"method\":\"Test.Add\",\"id\":3}", "3", "\"jsonrpc\"" },
        { "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":\"x\",\"id\":4}", "4", "\"params\"" },
        { "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":5,\"id\":4}", "4", "\"params\"" },
        { "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"id\":{\"x\":1}}", "null", "\"id\"" },
        { "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"id\":[1]}", "null", "\"id\"" },
        { "5", "null", "object" },
        { "null", "null", "object" },
        { "\"Test.Add\"", "null", "object" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        reply r = post_text(f, "worker-token", cases[i].body);
        assert_int_equal(r.status, 200);
        assert_error(r.json, SP_RPC_INVALID_REQUEST, cases[i].id, cases[i].msg);
        reply_free(&r);
        good_call(c, i, 2);
    }
    sp_rpc_client_free(c);
}

static void test_wrong_method(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 3);
    cJSON *res = NULL;
    sp_err err;
    int code = 0;
    uint64_t before = sp_rpc_client_attempts(c);
    assert_int_equal(sp_rpc_client_call(c, "Test.Nope", NULL, &res, &code, &err), SP_ERPC);
    assert_int_equal(code, SP_RPC_METHOD_NOT_FOUND);
    assert_null(res);
    assert_non_null(strstr(err.msg, "method \"Test.Nope\" not found"));
    assert_int_equal(sp_rpc_client_attempts(c) - before, 1); /* never retried */
    good_call(c, 1, 1);
    /* names are case-sensitive */
    assert_int_equal(sp_rpc_client_call(c, "test.add", NULL, &res, &code, &err), SP_ERPC);
    assert_int_equal(code, SP_RPC_METHOD_NOT_FOUND);
    reply r = post_text(f, "worker-token", "{\"jsonrpc\":\"2.0\",\"method\":\"rpc.discover\",\"id\":9}");
    assert_error(r.json, SP_RPC_METHOD_NOT_FOUND, "9", "rpc.discover");
    reply_free(&r);
    good_call(c, 1, 2);
    sp_rpc_client_free(c);
}

static void test_bad_params(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 3);
    static const struct {
        const char *params;
        const char *msg;
    } cases[] = {
        { "[\"x\", 1]", "param 0 (\"a\"): expected an unsigned integer in [0, 1099511627776], got string \"x\"" },
        { "[1]", "param 1 (\"b\"): expected an unsigned integer in [0, 1099511627776], got nothing" },
        { "[1, -1]", "param 1 (\"b\"): expected an unsigned integer in [0, 1099511627776], got number -1" },
        { "[1, 1.5]", "got number 1.5" },
        { "[1, 1099511627777]", "got number 1099511627777" },
        { "[1, true]", "got true" },
        { "[1, [2]]", "got an array of 1 elements" },
        { "[1, 2, 3]", "expected at most 2 params, got 3" },
        { "{\"a\":1}", "param \"b\": expected an unsigned integer" },
        { "{\"a\":1,\"b\":2,\"c\":3}", "unknown param \"c\" (expected one of: a, b)" },
        { "{\"a\":1,\"b\":null}", "param \"b\": expected an unsigned integer in [0, 1099511627776], got nothing" },
    };
    uint64_t before = sp_rpc_client_attempts(c);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *p = cJSON_Parse(cases[i].params);
        cJSON *res = NULL;
        sp_err err;
        int code = 0;
        assert_int_equal(sp_rpc_client_call(c, "Test.Add", p, &res, &code, &err), SP_ERPC);
        assert_int_equal(code, SP_RPC_INVALID_PARAMS);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, cases[i].msg);
        cJSON_Delete(p);
    }
    assert_int_equal(sp_rpc_client_attempts(c) - before, sizeof cases / sizeof cases[0]);
    good_call(c, 4, 5);
    sp_rpc_client_free(c);
}

static void test_handler_errors(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 3);
    cJSON *res = NULL;
    sp_err err;
    int code = 0;
    assert_int_equal(sp_rpc_client_call(c, "Test.Fail", NULL, &res, &code, &err), SP_ERPC);
    assert_int_equal(code, SP_RPC_NOT_FOUND);
    assert_int_equal(sp_rpc_code_to_sp(code), SP_ENOTFOUND);
    assert_string_equal(err.msg, "Test.Fail: sector 5 of miner f01000 not found (code -32003)");
    assert_int_equal(sp_rpc_client_call(c, "Test.Internal", NULL, &res, &code, &err), SP_ERPC);
    assert_int_equal(code, SP_RPC_INTERNAL_ERROR);
    assert_non_null(strstr(err.msg, "database is locked"));
    reply r = post_text(f, "worker-token", "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Custom\",\"id\":1}");
    assert_error(r.json, 1234, "1", "come back later");
    const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "error"), "data");
    assert_int_equal(cJSON_GetObjectItem(data, "retry_after")->valueint, 5);
    reply_free(&r);
    good_call(c, 8, 9);
    /* code mapping both ways */
    assert_int_equal(sp_rpc_code_from_sp(SP_EINVAL), SP_RPC_INVALID_PARAMS);
    assert_int_equal(sp_rpc_code_from_sp(SP_EBUSY), SP_RPC_BUSY);
    assert_int_equal(sp_rpc_code_from_sp(SP_ENOMEM), SP_RPC_INTERNAL_ERROR);
    assert_int_equal(sp_rpc_code_to_sp(SP_RPC_BUSY), SP_EBUSY);
    assert_int_equal(sp_rpc_code_to_sp(SP_RPC_UNAUTHORIZED), SP_EAUTH);
    assert_int_equal(sp_rpc_code_to_sp(777), SP_ERPC);
    sp_rpc_client_free(c);
}

static void test_body_limit(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 3);
    /* a request just over the limit (drained, connection kept) */
    size_t n = MAX_BODY;
    char *big = malloc(8u << 20);
    memset(big, 'x', 8u << 20);
    big[n] = 0;
    cJSON *p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateString(big));
    cJSON *res = NULL;
    sp_err err;
    int code = 0;
    uint64_t before = sp_rpc_client_attempts(c);
    assert_int_equal(sp_rpc_client_call(c, "Test.Echo", p, &res, &code, &err), SP_ERPC);
    assert_int_equal(code, SP_RPC_INVALID_REQUEST);
    assert_non_null(strstr(err.msg, "request body exceeds the limit of 65536 bytes"));
    assert_int_equal(sp_rpc_client_attempts(c) - before, 1);
    cJSON_Delete(p);
    good_call(c, 1, 1);

    /* far over (beyond what the server drains): refused before the body is sent */
    big[(6u << 20)] = 0;
    p = cJSON_CreateArray();
    cJSON_AddItemToArray(p, cJSON_CreateString(big));
    assert_int_equal(sp_rpc_client_call(c, "Test.Echo", p, &res, &code, &err), SP_ERPC);
    assert_int_equal(code, SP_RPC_INVALID_REQUEST);
    cJSON_Delete(p);
    good_call(c, 2, 2);

    /* raw: HTTP 413 with a JSON-RPC error body */
    reply r = post_raw(f->url, "worker-token", big, 100000);
    assert_int_equal(r.status, 413);
    assert_error(r.json, SP_RPC_INVALID_REQUEST, "null", "exceeds");
    reply_free(&r);
    /* without a token the 401 comes first: the body is never looked at */
    r = post_raw(f->url, "bogus", big, 100000);
    assert_int_equal(r.status, 401);
    reply_free(&r);
    good_call(c, 3, 3);
    free(big);
    sp_rpc_client_free(c);
}

/* Runs fn with stderr captured into a file; returns what was logged. */
static char *capture_stderr(void (*fn)(fixture *), fixture *f)
{
    char path[] = "/tmp/test_jsonrpc_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(f);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = calloc(1, (size_t)size + 1);
    assert_int_equal(pread(fd, text, (size_t)size, 0), size);
    close(fd);
    unlink(path);
    return text;
}

static void token_calls(fixture *f)
{
    sp_rpc_client *good = client(f->url, "worker-token", 3);
    cJSON *res = NULL;
    sp_err err;
    int code = 0;

    /* missing token: public methods answer, others say unauthorized with HTTP 401 */
    sp_rpc_client *anon = client(f->url, NULL, 3);
    assert_int_equal(sp_rpc_client_call(anon, "Public.Version", NULL, &res, &code, &err), SP_OK);
    assert_string_equal(res->valuestring, "1.0");
    cJSON_Delete(res);
    uint64_t before = sp_rpc_client_attempts(anon);
    assert_int_equal(sp_rpc_client_call(anon, "Test.Add", NULL, &res, &code, &err), SP_EAUTH);
    assert_int_equal(code, SP_RPC_UNAUTHORIZED);
    assert_non_null(strstr(err.msg, "Test.Add needs a bearer token with scope worker"));
    assert_int_equal(sp_rpc_client_attempts(anon) - before, 1);
    sp_rpc_client_free(anon);
    good_call(good, 1, 2);

    /* wrong token: refused before the body is read */
    sp_rpc_client *wrong = client(f->url, "stolen-SECRET-value", 3);
    assert_int_equal(sp_rpc_client_call(wrong, "Public.Version", NULL, &res, &code, &err), SP_EAUTH);
    assert_int_equal(code, SP_RPC_UNAUTHORIZED);
    assert_non_null(strstr(err.msg, "token refused: unknown token '<redacted>'"));
    assert_null(strstr(err.msg, "SECRET"));
    sp_rpc_client_free(wrong);
    good_call(good, 3, 4);

    /* wrong scope: forbidden, HTTP 200 */
    assert_int_equal(sp_rpc_client_call(good, "Test.Admin", NULL, &res, &code, &err), SP_ERPC);
    assert_int_equal(code, SP_RPC_FORBIDDEN);
    assert_non_null(strstr(err.msg, "Test.Admin needs a token with scope admin; this token has worker"));
    sp_rpc_client *admin = client(f->url, "admin-token", 0);
    assert_int_equal(sp_rpc_client_call(admin, "Test.Admin", NULL, &res, &code, &err), SP_OK);
    assert_string_equal(res->valuestring, "admin ok");
    cJSON_Delete(res);
    good_call(admin, 5, 6); /* admin tokens carry the worker scope too */
    sp_rpc_client_free(admin);

    /* malformed Authorization headers */
    CURL *h = curl_easy_init();
    const char *auths[] = { "Authorization: Basic d29ya2VyOnRva2Vu", "Authorization: Bearer",
                            "Authorization: Bearer ", "Authorization: worker-token" };
    for (size_t i = 0; i < 4; i++) {
        struct curl_slist *hl = curl_slist_append(NULL, auths[i]);
        reply r = { 0 };
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, f->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS,
                         "{\"jsonrpc\":\"2.0\",\"method\":\"Public.Version\",\"id\":1}");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
        assert_int_equal(curl_easy_perform(h), CURLE_OK);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
        r.json = cJSON_Parse(r.body);
        if (i == 2) { /* "Bearer " with an empty token is still a malformed header */
            assert_int_equal(r.status, 401);
        } else {
            assert_int_equal(r.status, 401);
            assert_error(r.json, SP_RPC_UNAUTHORIZED, "null", "Bearer <token>");
        }
        reply_free(&r);
        curl_slist_free_all(hl);
        good_call(good, i, 10);
    }
    curl_easy_cleanup(h);
    sp_rpc_client_free(good);
}

static void test_tokens(void **state)
{
    fixture *f = *state;
    sp_log_set_level(SP_LOG_INFO);
    char *log = capture_stderr(token_calls, f);
    /* each failed authentication is logged, without the token */
    assert_non_null(strstr(log, "refused request from 127.0.0.1:"));
    assert_non_null(strstr(log, "token refused: unknown token '<redacted>'"));
    assert_non_null(strstr(log, "refused Test.Admin from 127.0.0.1:"));
    assert_null(strstr(log, "SECRET"));
    assert_null(strstr(log, "worker-token"));
    assert_null(strstr(log, "admin-token"));
    free(log);
    sp_log_set_level(SP_LOG_WARN);
}

static void test_batch(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 0);
    /* spec example: mixed batch with a notification and invalid members */
    reply r = post_text(f, "worker-token",
                        "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1,2],\"id\":\"1\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\",\"params\":[7]},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[42,23],\"id\":\"2\"},"
                        "{\"foo\":\"boo\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"foo.get\",\"params\":{\"name\":\"myself\"},\"id\":\"5\"},"
                        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Fail\",\"id\":\"9\"}]");
    assert_int_equal(r.status, 200);
    assert_true(cJSON_IsArray(r.json));
    assert_int_equal(cJSON_GetArraySize(r.json), 5);
    assert_result(cJSON_GetArrayItem(r.json, 0), "3", "\"1\"");
    assert_result(cJSON_GetArrayItem(r.json, 1), "65", "\"2\"");
    assert_error(cJSON_GetArrayItem(r.json, 2), SP_RPC_INVALID_REQUEST, "null", NULL);
    assert_error(cJSON_GetArrayItem(r.json, 3), SP_RPC_METHOD_NOT_FOUND, "\"5\"", NULL);
    assert_error(cJSON_GetArrayItem(r.json, 4), SP_RPC_NOT_FOUND, "\"9\"", NULL);
    assert_int_equal(atomic_load(&f->count), 1); /* the notification ran */
    reply_free(&r);

    /* spec examples: an invalid batch and an empty one */
    r = post_text(f, "worker-token", "[1,2,3]");
    assert_int_equal(cJSON_GetArraySize(r.json), 3);
    for (int i = 0; i < 3; i++)
        assert_error(cJSON_GetArrayItem(r.json, i), SP_RPC_INVALID_REQUEST, "null", NULL);
    reply_free(&r);
    r = post_text(f, "worker-token", "[]");
    assert_error(r.json, SP_RPC_INVALID_REQUEST, "null", "empty batch");
    reply_free(&r);
    r = post_text(f, "worker-token", "[1]");
    assert_int_equal(cJSON_GetArraySize(r.json), 1);
    reply_free(&r);

    /* all notifications: no content at all */
    r = post_text(f, "worker-token",
                  "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"},"
                  "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"}]");
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    assert_int_equal(atomic_load(&f->count), 3);
    reply_free(&r);

    /* more than max_batch (20) */
    char body[4096] = "[";
    for (int i = 0; i < 21; i++)
        strcat(body, i ? ",{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\",\"id\":1}"
                       : "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\",\"id\":1}");
    strcat(body, "]");
    r = post_text(f, "worker-token", body);
    assert_error(r.json, SP_RPC_INVALID_REQUEST, "null", "batch of 21 requests exceeds the limit of 20");
    reply_free(&r);
    assert_int_equal(atomic_load(&f->count), 3);

    /* batch members without the scope are refused one by one */
    r = post_text(f, "worker-token",
                  "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Admin\",\"id\":1},"
                  "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1,1],\"id\":2}]");
    assert_int_equal(r.status, 200);
    assert_error(cJSON_GetArrayItem(r.json, 0), SP_RPC_FORBIDDEN, "1", NULL);
    assert_result(cJSON_GetArrayItem(r.json, 1), "2", "2");
    reply_free(&r);
    good_call(c, 1, 1);
    sp_rpc_client_free(c);
}

static void test_notification(void **state)
{
    fixture *f = *state;
    reply r = post_text(f, "worker-token", "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\",\"params\":[]}");
    assert_int_equal(r.status, 204);
    assert_int_equal(r.len, 0);
    reply_free(&r);
    assert_int_equal(atomic_load(&f->count), 1);
    /* notifications of unknown methods or with failing handlers are silent too */
    r = post_text(f, "worker-token", "{\"jsonrpc\":\"2.0\",\"method\":\"No.Such\"}");
    assert_int_equal(r.status, 204);
    reply_free(&r);
    r = post_text(f, "worker-token", "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Fail\"}");
    assert_int_equal(r.status, 204);
    reply_free(&r);
    sp_rpc_client *c = client(f->url, "worker-token", 0);
    sp_err err;
    assert_int_equal(sp_rpc_client_notify(c, "Test.Count", NULL, &err), SP_OK);
    assert_int_equal(atomic_load(&f->count), 2);
    good_call(c, 1, 1);
    sp_rpc_client_free(c);
}

static char *nested(int depth, const char *inner)
{
    size_t n = strlen(inner) + 2 * (size_t)depth + 100;
    char *s = malloc(n);
    strcpy(s, "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"id\":1,\"params\":");
    size_t at = strlen(s);
    for (int i = 0; i < depth; i++)
        s[at++] = '[';
    strcpy(s + at, inner);
    at += strlen(inner);
    for (int i = 0; i < depth; i++)
        s[at++] = ']';
    strcpy(s + at, "}");
    return s;
}

static void test_deep_nesting(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 0);
    /* depth counts the request object too: params nested 63 deep is 64 in all */
    char *ok = nested(63, "1");
    reply r = post_text(f, "worker-token", ok);
    assert_int_equal(r.status, 200);
    assert_null(cJSON_GetObjectItem(r.json, "error"));
    reply_free(&r);
    free(ok);
    int depths[] = { 64, 100, 1000, 20000 };
    for (size_t i = 0; i < 4; i++) {
        char *deep = nested(depths[i], "1");
        r = post_text(f, "worker-token", deep);
        assert_int_equal(r.status, 200);
        assert_error(r.json, SP_RPC_PARSE_ERROR, "null", "nested deeper than 64 levels");
        reply_free(&r);
        free(deep);
        good_call(c, i, 3);
    }
    /* unbalanced openers only, and brackets inside strings do not count */
    char *open = malloc(30001);
    memset(open, '{', 30000);
    open[30000] = 0;
    r = post_text(f, "worker-token", open);
    assert_error(r.json, SP_RPC_PARSE_ERROR, "null", "nested deeper");
    reply_free(&r);
    memset(open, '[', 30000);
    free(open);
    char *strings = nested(2, "\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"");
    r = post_text(f, "worker-token", strings);
    assert_null(cJSON_GetObjectItem(r.json, "error"));
    reply_free(&r);
    free(strings);
    good_call(c, 9, 9);
    sp_rpc_client_free(c);
}

typedef struct load_arg {
    sp_rpc_client *c;
    int id;
    int calls;
    int ok;
} load_arg;

static void *load(void *p)
{
    load_arg *a = p;
    for (int i = 0; i < a->calls; i++) {
        cJSON *params = cJSON_CreateArray();
        cJSON_AddItemToArray(params, cJSON_CreateNumber(a->id * 1000));
        cJSON_AddItemToArray(params, cJSON_CreateNumber(i));
        cJSON *res = NULL;
        sp_err err;
        if (sp_rpc_client_call(a->c, "Test.Add", params, &res, NULL, &err) == SP_OK &&
            cJSON_IsNumber(res) && res->valuedouble == a->id * 1000 + i)
            a->ok++;
        cJSON_Delete(res);
        cJSON_Delete(params);
    }
    return NULL;
}

static void test_concurrent_clients(void **state)
{
    fixture *f = *state;
    enum { THREADS = 8, CALLS = 200 };
    sp_rpc_client *c = client(f->url, "worker-token", 0); /* one client shared by all */
    pthread_t th[THREADS];
    load_arg args[THREADS];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < THREADS; i++) {
        args[i] = (load_arg){ c, i, CALLS, 0 };
        pthread_create(&th[i], NULL, load, &args[i]);
    }
    int ok = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += args[i].ok;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_int_equal(ok, THREADS * CALLS);
    assert_int_equal(sp_rpc_client_attempts(c), THREADS * CALLS);
    fprintf(stderr, "# %d calls from %d threads in %.3f s: %.0f requests/s on loopback\n",
            THREADS * CALLS, THREADS, s, THREADS * CALLS / s);
    sp_rpc_client_free(c);
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t sl = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &sl);
    close(fd);
    return ntohs(a.sin_port);
}

typedef struct late_arg {
    fixture *f;
    char listen[64];
    int delay_ms;
    sp_code rc;
} late_arg;

static void *start_late(void *p)
{
    late_arg *a = p;
    struct timespec ts = { 0, (long)a->delay_ms * 1000000L };
    nanosleep(&ts, NULL);
    sp_err err;
    a->rc = fixture_start_on(a->f, a->listen, &err);
    return NULL;
}

/* A client started before its server retries refused connections and succeeds once the
 * server is up; without retries it fails at once with SP_ENET. */
static void test_retry_until_server_up(void **state)
{
    (void)state;
    fixture f = { 0 };
    sp_err err;
    assert_int_equal(sp_metrics_new(&f.metrics, &err), SP_OK);
    uint16_t port = free_port();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/rpc/v0", port);

    sp_rpc_client *once = client(url, "worker-token", 0);
    cJSON *res = NULL;
    int code = 0;
    assert_int_equal(sp_rpc_client_call(once, "Test.Add", NULL, &res, &code, &err), SP_ENET);
    assert_int_equal(sp_rpc_client_attempts(once), 1);
    assert_non_null(strstr(err.msg, url));
    sp_rpc_client_free(once);

    sp_rpc_client *few = client(url, "worker-token", 3);
    assert_int_equal(sp_rpc_client_call(few, "Test.Add", NULL, &res, &code, &err), SP_ENET);
    assert_int_equal(sp_rpc_client_attempts(few), 4);
    sp_rpc_client_free(few);

    late_arg a = { &f, "", 400, SP_EINTERNAL };
    snprintf(a.listen, sizeof a.listen, "127.0.0.1:%u", port);
    pthread_t th;
    pthread_create(&th, NULL, start_late, &a);
    sp_rpc_client *patient = client(url, "worker-token", 40);
    good_call(patient, 20, 22);
    pthread_join(th, NULL);
    assert_int_equal(a.rc, SP_OK);
    assert_true(sp_rpc_client_attempts(patient) > 1);

    /* after a restart of the server the same client carries on */
    fixture_stop(&f);
    a.delay_ms = 200;
    pthread_create(&th, NULL, start_late, &a);
    good_call(patient, 1, 2);
    pthread_join(th, NULL);
    assert_int_equal(a.rc, SP_OK);
    sp_rpc_client_free(patient);
    fixture_stop(&f);
    sp_metrics_free(f.metrics);
}

static void test_timeout_not_retried(void **state)
{
    fixture *f = *state;
    sp_rpc_client_opts o = { .url = f->url, .token = "worker-token", .timeout_ms = 200,
                             .retries = 5, .backoff_ms = 10 };
    sp_rpc_client *c;
    sp_err err;
    assert_int_equal(sp_rpc_client_new(&o, &c, &err), SP_OK);
    cJSON *p = cJSON_Parse("[700]");
    cJSON *res = NULL;
    assert_int_equal(sp_rpc_client_call(c, "Test.Sleep", p, &res, NULL, &err), SP_ETIMEOUT);
    assert_int_equal(sp_rpc_client_attempts(c), 1); /* the request may have run: no retry */
    cJSON_Delete(p);
    sp_rpc_client_free(c);
    /* the sleeping handler still holds its server thread for a while: a patient client */
    c = client(f->url, "worker-token", 0);
    good_call(c, 1, 1);
    sp_rpc_client_free(c);
}

static void test_metrics(void **state)
{
    fixture *f = *state;
    sp_rpc_client *c = client(f->url, "worker-token", 0);
    for (int i = 0; i < 5; i++)
        good_call(c, 1, 2);
    cJSON *res = NULL;
    sp_err err;
    cJSON *p = cJSON_Parse("[\"x\"]");
    sp_rpc_client_call(c, "Test.Add", p, &res, NULL, &err);
    cJSON_Delete(p);
    sp_rpc_client_call(c, "Test.Admin", NULL, &res, NULL, &err);
    sp_rpc_client_call(c, "Nope.Nope", NULL, &res, NULL, &err);
    sp_rpc_client_call(c, "Evil\"\n{}", NULL, &res, NULL, &err);
    reply r = post_text(f, "worker-token", "{bad");
    reply_free(&r);
    sp_rpc_client_free(c);

    char *text = NULL;
    size_t len;
    assert_int_equal(sp_metrics_render(f->metrics, &text, &len, &err), SP_OK);
    const char *want[] = {
        "sealpipe_rpc_requests_total{method=\"Test.Add\"} 6\n",
        "sealpipe_rpc_requests_total{method=\"Test.Admin\"} 1\n",
        "sealpipe_rpc_requests_total{method=\"(unknown)\"} 2\n",
        "sealpipe_rpc_errors_total{method=\"Test.Add\",code=\"-32602\"} 1\n",
        "sealpipe_rpc_errors_total{method=\"Test.Admin\",code=\"-32002\"} 1\n",
        "sealpipe_rpc_errors_total{method=\"(unknown)\",code=\"-32601\"} 2\n",
        "sealpipe_rpc_errors_total{method=\"(invalid)\",code=\"-32700\"} 1\n",
        "sealpipe_rpc_request_duration_seconds_count{method=\"Test.Add\"} 6\n",
        "sealpipe_rpc_request_duration_seconds_bucket{method=\"Test.Add\",le=\"+Inf\"} 6\n",
        "sealpipe_rpc_auth_failures_total 1\n",
        "# TYPE sealpipe_rpc_request_duration_seconds histogram\n",
        "sealpipe_http_responses_total{code=\"200\"} 10\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(text, want[i]))
            fail_msg("metrics lack \"%s\":\n%s", want[i], text);
    assert_null(strstr(text, "Evil")); /* unknown names never become labels */
    free(text);
}

/* Random bytes and mutations of valid requests through the full request path: every
 * answer is valid JSON (or empty for notifications), nothing crashes. */
static void test_handle_random(void **state)
{
    fixture *f = *state;
    sp_log_set_level(SP_LOG_ERROR); /* thousands of refused tokens would flood the log */
    static const char *seeds[] = {
        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":[1,2],\"id\":1}",
        "[{\"jsonrpc\":\"2.0\",\"method\":\"Test.Echo\",\"params\":{\"a\":[1,{\"b\":null}]},\"id\":\"x\"},"
        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Count\"}]",
        "{\"jsonrpc\":\"2.0\",\"method\":\"Test.Add\",\"params\":{\"a\":\"18446744073709551615\",\"b\":1},\"id\":2}",
    };
    uint64_t seed = 7;
    char buf[512];
    for (int iter = 0; iter < 20000; iter++) {
        const char *s = seeds[iter % 3];
        size_t len = strlen(s);
        memcpy(buf, s, len);
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int edits = 1 + (int)((seed >> 60) % 4);
        for (int e = 0; e < edits; e++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t at = (seed >> 20) % len;
            switch ((seed >> 10) % 3) {
            case 0: buf[at] = (char)(seed >> 40); break;             /* flip a byte */
            case 1: len = at; break;                                 /* truncate */
            default: buf[at] = "[]{}\",:0-e\\ "[(seed >> 33) % 12]; /* a JSON character */
            }
            if (len == 0)
                break;
        }
        char *out = NULL;
        size_t out_len = 0;
        unsigned status = 0;
        const char *token = (seed >> 5) % 7 == 0 ? "bogus" : "admin-token";
        assert_int_equal(sp_rpc_server_handle(f->rpc, token, buf, len, &out, &out_len, &status), SP_OK);
        assert_true(status == 200 || status == 204 || status == 401);
        if (status == 204) {
            assert_int_equal(out_len, 0);
        } else {
            cJSON *j = cJSON_Parse(out);
            if (!j)
                fail_msg("not JSON for input %.*s: %s", (int)len, buf, out);
            cJSON_Delete(j);
        }
        free(out);
    }
    sp_log_set_level(SP_LOG_WARN);
}

/* ---- sp_json helpers --------------------------------------------------------------- */

static void test_json_getters(void **state)
{
    (void)state;
    sp_err err;
    cJSON *p = cJSON_Parse("[7, \"9007199254740993\", -3, \"-9223372036854775808\", true, "
                           "\"hello\", \"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\", "
                           "\"aGVsbG8=\", {\"k\":1}, [1,2,3], null, 9007199254740993, 1e300, "
                           "\"18446744073709551616\", \"+5\", \" 5\", \"\"]");
    uint64_t u;
    int64_t i;
    bool b;
    const char *s;
    assert_int_equal(sp_json_get_u64(p, 0, NULL, 0, UINT64_MAX, &u, &err), SP_OK);
    assert_int_equal(u, 7);
    assert_int_equal(sp_json_get_u64(p, 1, NULL, 0, UINT64_MAX, &u, &err), SP_OK);
    assert_true(u == 9007199254740993ULL); /* beyond 2^53 as a string: exact */
    assert_int_equal(sp_json_get_u64(p, 0, "n", 8, 10, &u, &err), SP_EINVAL);
    assert_string_equal(err.msg, "param 0 (\"n\"): expected an unsigned integer in [8, 10], got number 7");
    assert_int_equal(sp_json_get_u64(p, 2, NULL, 0, 10, &u, &err), SP_EINVAL);
    assert_int_equal(sp_json_get_i64(p, 2, NULL, -10, 10, &i, &err), SP_OK);
    assert_int_equal(i, -3);
    assert_int_equal(sp_json_get_i64(p, 3, NULL, INT64_MIN, INT64_MAX, &i, &err), SP_OK);
    assert_true(i == INT64_MIN);
    assert_int_equal(sp_json_get_bool(p, 4, NULL, &b, &err), SP_OK);
    assert_true(b);
    assert_int_equal(sp_json_get_bool(p, 0, NULL, &b, &err), SP_EINVAL);
    assert_int_equal(sp_json_get_str(p, 5, NULL, 1, 5, &s, &err), SP_OK);
    assert_string_equal(s, "hello");
    assert_int_equal(sp_json_get_str(p, 5, NULL, 1, 4, &s, &err), SP_EINVAL);
    assert_non_null(strstr(err.msg, "a string of 1 to 4 bytes, got string \"hello\""));
    uint8_t h[32];
    assert_int_equal(sp_json_get_hex32(p, 6, NULL, h, &err), SP_OK);
    assert_int_equal(h[1], 0x11);
    assert_int_equal(h[31], 0xff);
    assert_int_equal(sp_json_get_hex32(p, 5, "comm_d", h, &err), SP_EINVAL);
    assert_string_equal(err.msg, "param 5 (\"comm_d\"): expected 32 bytes as 64 hex digits, got string \"hello\"");
    uint8_t *bytes;
    size_t n;
    assert_int_equal(sp_json_get_base64(p, 7, NULL, 16, &bytes, &n, &err), SP_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(bytes, "hello", 5);
    free(bytes);
    assert_int_equal(sp_json_get_base64(p, 7, NULL, 4, &bytes, &n, &err), SP_EINVAL);
    assert_null(bytes);
    const cJSON *o, *a;
    assert_int_equal(sp_json_get_object(p, 8, NULL, &o, &err), SP_OK);
    assert_int_equal(sp_json_get_u64(o, -1, "k", 0, 5, &u, &err), SP_OK);
    assert_int_equal(u, 1);
    assert_int_equal(sp_json_get_u64(o, -1, "missing", 0, 5, &u, &err), SP_EINVAL);
    assert_string_equal(err.msg, "param \"missing\": expected an unsigned integer in [0, 5], got nothing (it is missing)");
    assert_int_equal(sp_json_get_array(p, 9, NULL, 3, &a, &err), SP_OK);
    assert_int_equal(sp_json_get_array(p, 9, NULL, 2, &a, &err), SP_EINVAL);
    /* null counts as absent: optional getters give the default */
    assert_int_equal(sp_json_opt_u64(p, 10, NULL, 0, 100, 55, &u, &err), SP_OK);
    assert_int_equal(u, 55);
    assert_int_equal(sp_json_opt_u64(p, 99, NULL, 0, 100, 56, &u, &err), SP_OK);
    assert_int_equal(u, 56);
    assert_int_equal(sp_json_opt_u64(p, 0, NULL, 0, 100, 56, &u, &err), SP_OK);
    assert_int_equal(u, 7);
    assert_int_equal(sp_json_opt_str(p, 99, NULL, 0, 10, "dflt", &s, &err), SP_OK);
    assert_string_equal(s, "dflt");
    assert_int_equal(sp_json_opt_bool(p, 5, NULL, false, &b, &err), SP_EINVAL);
    /* numbers cJSON cannot hold exactly are refused rather than rounded */
    assert_int_equal(sp_json_get_u64(p, 11, NULL, 0, UINT64_MAX, &u, &err), SP_EINVAL);
    assert_int_equal(sp_json_get_u64(p, 12, NULL, 0, UINT64_MAX, &u, &err), SP_EINVAL);
    assert_int_equal(sp_json_get_u64(p, 13, NULL, 0, UINT64_MAX, &u, &err), SP_EINVAL); /* 2^64 */
    assert_int_equal(sp_json_get_u64(p, 14, NULL, 0, UINT64_MAX, &u, &err), SP_EINVAL); /* "+5" */
    assert_int_equal(sp_json_get_u64(p, 15, NULL, 0, UINT64_MAX, &u, &err), SP_EINVAL); /* " 5" */
    assert_int_equal(sp_json_get_u64(p, 16, NULL, 0, UINT64_MAX, &u, &err), SP_EINVAL); /* "" */
    cJSON_Delete(p);

    /* params of the wrong type */
    cJSON *num = cJSON_CreateNumber(5);
    assert_int_equal(sp_json_get_u64(num, 0, "x", 0, 9, &u, &err), SP_EINVAL);
    assert_string_equal(err.msg, "params must be an array or an object");
    assert_int_equal(sp_json_opt_u64(num, 0, "x", 0, 9, 1, &u, &err), SP_EINVAL);
    cJSON_Delete(num);
    assert_int_equal(sp_json_get_u64(NULL, 0, "x", 0, 9, &u, &err), SP_EINVAL);
    assert_int_equal(sp_json_opt_u64(NULL, 0, "x", 0, 9, 4, &u, &err), SP_OK);
    assert_int_equal(u, 4);
}

static void test_json_builders_and_parse(void **state)
{
    (void)state;
    sp_err err;
    cJSON *o = cJSON_CreateObject();
    uint8_t bytes[3] = { 0xde, 0xad, 0x01 };
    assert_int_equal(sp_json_add_u64(o, "small", 34359738368ULL, &err), SP_OK);
    assert_int_equal(sp_json_add_u64(o, "big", UINT64_MAX, &err), SP_OK);
    assert_int_equal(sp_json_add_i64(o, "neg", INT64_MIN, &err), SP_OK);
    assert_int_equal(sp_json_add_i64(o, "m", -5, &err), SP_OK);
    assert_int_equal(sp_json_add_bool(o, "t", true, &err), SP_OK);
    assert_int_equal(sp_json_add_str(o, "s", "x\"y", &err), SP_OK);
    assert_int_equal(sp_json_add_str(o, "n", NULL, &err), SP_OK);
    assert_int_equal(sp_json_add_hex(o, "h", bytes, 3, &err), SP_OK);
    assert_int_equal(sp_json_add_base64(o, "b", bytes, 3, &err), SP_OK);
    assert_int_equal(sp_json_add(o, "bad", NULL, &err), SP_ENOMEM);
    char *text = cJSON_PrintUnformatted(o);
    assert_string_equal(text, "{\"small\":34359738368,\"big\":\"18446744073709551615\","
                              "\"neg\":\"-9223372036854775808\",\"m\":-5,\"t\":true,\"s\":\"x\\\"y\","
                              "\"n\":null,\"h\":\"dead01\",\"b\":\"3q0B\"}");
    /* and the getters read the builders' output back exactly */
    cJSON *back = NULL;
    assert_int_equal(sp_json_parse(text, strlen(text), 8, &back, &err), SP_OK);
    uint64_t u;
    int64_t i;
    assert_int_equal(sp_json_get_u64(back, -1, "big", 0, UINT64_MAX, &u, &err), SP_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(sp_json_get_i64(back, -1, "neg", INT64_MIN, 0, &i, &err), SP_OK);
    assert_true(i == INT64_MIN);
    cJSON_Delete(back);
    free(text);
    cJSON_Delete(o);

    cJSON *v = NULL;
    assert_int_equal(sp_json_parse("[[1]]", 5, 2, &v, &err), SP_OK);
    cJSON_Delete(v);
    assert_int_equal(sp_json_parse("[[[1]]]", 7, 2, &v, &err), SP_EPARSE);
    assert_null(v);
    assert_int_equal(sp_json_parse("{\"a\":\"[[[[\"}", 12, 1, &v, &err), SP_OK);
    cJSON_Delete(v);
    assert_int_equal(sp_json_parse("{} x", 4, 8, &v, &err), SP_EPARSE);
    assert_string_equal(err.msg, "JSON: unexpected data after the document at byte 3");
    assert_int_equal(sp_json_parse("{} \n", 4, 8, &v, &err), SP_OK);
    cJSON_Delete(v);
    assert_int_equal(sp_json_parse("[1,2]xyz", 5, 8, &v, &err), SP_OK); /* only len bytes */
    cJSON_Delete(v);
    assert_int_equal(sp_json_parse("", 0, 8, &v, &err), SP_EPARSE);
    assert_string_equal(err.msg, "JSON: empty document");
    assert_int_equal(sp_json_parse("[\"\\u0000\"]", 10, 8, &v, &err), SP_EPARSE);
    assert_int_equal(sp_json_parse("[\"\\\\u0000\"]", 11, 8, &v, &err), SP_OK); /* escaped backslash */
    cJSON_Delete(v);
    assert_int_equal(sp_json_depth("[{\"a\":[1]}]", 11, 10), 3);
    assert_int_equal(sp_json_depth("[[[[[", 5, 2), 3);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    sp_log_init("test_jsonrpc", SP_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_method, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handler_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_clients, setup, teardown),
        cmocka_unit_test(test_retry_until_server_up),
        cmocka_unit_test_setup_teardown(test_timeout_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_handle_random, setup, teardown),
        cmocka_unit_test(test_json_getters),
        cmocka_unit_test(test_json_builders_and_parse),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
