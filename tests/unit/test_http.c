/* test_http.c — sp_http: the Range parser (table and random inputs), a real server on
 * 127.0.0.1 with an ephemeral port driven by libcurl (routes, limits, prechecks, file
 * ranges checked byte for byte, idle connections, clean shutdown), and
 * sp_http_get_to_fd().  Range semantics follow RFC 9110 section 14. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sp_http.h"
#include "sp_log.h"
#include "sp_metrics.h"

/* ---- Range parser ------------------------------------------------------------------ */

typedef struct range_case {
    const char *header;
    uint64_t size;
    unsigned status;
    uint64_t start, length;
} range_case;

static void test_range_table(void **state)
{
    (void)state;
    static const range_case cases[] = {
        /* no header: the whole entity */
        { NULL, 1000, 200, 0, 1000 },
        { NULL, 0, 200, 0, 0 },
        /* first-last */
        { "bytes=0-499", 1000, 206, 0, 500 },
        { "bytes=500-999", 1000, 206, 500, 500 },
        { "bytes=0-0", 1000, 206, 0, 1 },
        { "bytes=999-999", 1000, 206, 999, 1 },
        { "bytes=999-5000", 1000, 206, 999, 1 },            /* last clamped to the end */
        { "bytes=0-18446744073709551615", 1000, 206, 0, 1000 },
        { "bytes=0-99999999999999999999999", 1000, 206, 0, 1000 }, /* saturates, clamps */
        { "BYTES=1-2", 1000, 206, 1, 2 },                   /* unit is case-insensitive */
        { " bytes=1-2 ", 1000, 206, 1, 2 },
        { "bytes= 1-2", 1000, 206, 1, 2 },
        { "bytes=000010-000019", 1000, 206, 10, 10 },
        /* open-ended */
        { "bytes=500-", 1000, 206, 500, 500 },
        { "bytes=0-", 1000, 206, 0, 1000 },
        { "bytes=999-", 1000, 206, 999, 1 },
        /* suffix */
        { "bytes=-500", 1000, 206, 500, 500 },
        { "bytes=-1", 1000, 206, 999, 1 },
        { "bytes=-1000", 1000, 206, 0, 1000 },
        { "bytes=-5000", 1000, 206, 0, 1000 },
        { "bytes=-99999999999999999999999", 1000, 206, 0, 1000 },
        /* large entities */
        { "bytes=34359738368-", 68719476736ULL, 206, 34359738368ULL, 34359738368ULL },
        { "bytes=-1", 68719476736ULL, 206, 68719476735ULL, 1 },
        /* unsatisfiable */
        { "bytes=1000-", 1000, 416, 0, 0 },
        { "bytes=1000-1000", 1000, 416, 0, 0 },
        { "bytes=5000-6000", 1000, 416, 0, 0 },
        { "bytes=-0", 1000, 416, 0, 0 },
        { "bytes=18446744073709551615-", 1000, 416, 0, 0 },
        { "bytes=99999999999999999999999-", 1000, 416, 0, 0 },
        { "bytes=0-", 0, 416, 0, 0 },
        { "bytes=0-0", 0, 416, 0, 0 },
        { "bytes=-1", 0, 416, 0, 0 },
        /* malformed or unsupported */
        { "", 1000, 400, 0, 0 },
        { "bytes", 1000, 400, 0, 0 },
        { "bytes=", 1000, 400, 0, 0 },
        { "bytes=-", 1000, 400, 0, 0 },
        { "bytes=a-b", 1000, 400, 0, 0 },
        { "bytes=1-a", 1000, 400, 0, 0 },
        { "bytes=5-1", 1000, 400, 0, 0 },
        { "bytes=0-1,2-3", 1000, 400, 0, 0 },
        { "bytes=0-1, 5-6", 1000, 400, 0, 0 },
        { "bytes=0-1,", 1000, 400, 0, 0 },
        { "bytes=-1,-2", 1000, 400, 0, 0 },
        { "items=0-1", 1000, 400, 0, 0 },
        { "bytes 0-1", 1000, 400, 0, 0 },
        { "bytes =0-1", 1000, 400, 0, 0 },
        { "bytes=+1-2", 1000, 400, 0, 0 },
        { "bytes=1--2", 1000, 400, 0, 0 },
        { "bytes=--1", 1000, 400, 0, 0 },
        { "bytes=0x10-20", 1000, 400, 0, 0 },
        { "bytes=1-2 x", 1000, 400, 0, 0 },
        { "bytes=1 -2", 1000, 400, 0, 0 },
        { "bytes=1- 2", 1000, 400, 0, 0 },
        { "bytes=\x01", 1000, 400, 0, 0 },
        { "bytes=1-2\r\nX: y", 1000, 400, 0, 0 },
        { "bytes=5-1", 0, 400, 0, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const range_case *c = &cases[i];
        sp_http_range r = { 77, 77 };
        sp_err err;
        sp_err_clear(&err);
        unsigned st = sp_http_parse_range(c->header, c->size, &r, &err);
        if (st != c->status)
            fail_msg("case %zu \"%s\" size %llu: status %u, want %u (%s)", i,
                     c->header ? c->header : "(null)", (unsigned long long)c->size, st, c->status,
                     err.msg);
        if (st == 200 || st == 206) {
            if (r.start != c->start || r.length != c->length)
                fail_msg("case %zu \"%s\": range %llu+%llu, want %llu+%llu", i, c->header,
                         (unsigned long long)r.start, (unsigned long long)r.length,
                         (unsigned long long)c->start, (unsigned long long)c->length);
        } else {
            assert_true(strlen(err.msg) > 0); /* says why */
        }
    }
    sp_err err;
    sp_http_range r;
    assert_int_equal(sp_http_parse_range("bytes=0-1,2-3", 10, &r, &err), 400);
    assert_non_null(strstr(err.msg, "several ranges"));
    assert_int_equal(sp_http_parse_range("bytes=10-", 10, &r, &err), 416);
    assert_non_null(strstr(err.msg, "10 bytes"));
}

/* Random headers from the grammar's alphabet: every answer is one of the four statuses
 * and a 206 range always lies inside the entity. */
static void test_range_random(void **state)
{
    (void)state;
    static const char alphabet[] = "bytes=-0123456789, ";
    uint64_t seed = 12345;
    char h[32];
    for (int iter = 0; iter < 200000; iter++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = (seed >> 59) % 20;
        size_t start = 0;
        if (seed & (1ULL << 20)) {
            memcpy(h, "bytes=", 6);
            start = 6;
        }
        for (size_t i = start; i < start + len; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            h[i] = alphabet[(seed >> 40) % (sizeof alphabet - 1)];
        }
        h[start + len] = 0;
        uint64_t size = (seed >> 13) % 5 == 0 ? 0 : (seed >> 20) % 2000;
        sp_http_range r;
        unsigned st = sp_http_parse_range(h, size, &r, NULL);
        assert_true(st == 206 || st == 400 || st == 416);
        if (st == 206) {
            assert_true(r.length >= 1);
            assert_true(r.start < size);
            assert_true(r.start + r.length <= size);
        }
    }
}

/* ---- a test server ----------------------------------------------------------------- */

#define FILE_SIZE ((1u << 20) + 123)

typedef struct fixture {
    sp_http_server *srv;
    sp_metrics *metrics;
    char base[64];
    char file_path[256];
    uint8_t *file_data;
    int slow_ms;
} fixture;

static uint8_t pattern(size_t i) { return (uint8_t)(i * 7 + i / 251); }

static void h_hello(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    const char *name = sp_http_query(req, "name");
    const char *token = sp_http_bearer(req);
    sp_http_respond_text(resp, 200, "hello %s", name ? name : "nobody");
    sp_http_respond_header(resp, "X-Token", token ? token : "(none)");
    sp_http_respond_header(resp, "X-Method", req->method);
}

static void h_echo(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    assert_int_equal(strlen(req->body), req->body_len); /* NUL-terminated */
    sp_http_respond_copy(resp, 200, "application/octet-stream", req->body, req->body_len);
}

static void h_big(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    if (req->body_too_large)
        sp_http_respond_text(resp, 413, "custom: too large (%llu declared)",
                             (unsigned long long)req->content_length);
    else
        sp_http_respond_text(resp, 200, "ok %zu", req->body_len);
}

static bool pre_guard(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    assert_string_equal(req->body, "");
    const char *key = sp_http_header(req, "x-key");
    if (!key || strcmp(key, "yes") != 0) {
        sp_http_respond_text(resp, 403, "no key");
        return false;
    }
    req->tag = 42;
    return true;
}

static void h_guarded(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    sp_http_respond_text(resp, 200, "tag %llu body %zu", (unsigned long long)req->tag,
                         req->body_len);
}

static void h_files(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    fixture *f = ctx;
    if (strcmp(req->rest, "data") != 0) {
        sp_http_respond_text(resp, 404, "no file \"%s\"", req->rest);
        return;
    }
    int fd = open(f->file_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sp_http_respond_text(resp, 500, "open failed");
        return;
    }
    sp_http_respond_file(resp, req, fd, FILE_SIZE, "application/octet-stream");
}

static void h_norange(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    fixture *f = ctx;
    (void)req;
    sp_http_respond_copy(resp, 200, "application/octet-stream", f->file_data, 1000);
}

static void h_rest(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    sp_http_respond_text(resp, 200, "rest=[%s] path=[%s]", req->rest, req->path);
}

static void h_slow(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    fixture *f = ctx;
    (void)req;
    struct timespec ts = { 0, (long)f->slow_ms * 1000000L };
    nanosleep(&ts, NULL);
    sp_http_respond_text(resp, 200, "done");
}

static void h_busy(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    (void)req;
    sp_http_respond_text(resp, 503, "unsealing, come back later");
    sp_http_respond_header(resp, "Retry-After", "7");
}

static void h_nothing(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    (void)req;
    (void)resp;
}

static void h_bad_header(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    (void)req;
    sp_http_respond_text(resp, 200, "fine");
    assert_int_equal(sp_http_respond_header(resp, "X-Evil", "a\r\nSet-Cookie: x=1"), SP_EINVAL);
}

static void add(sp_http_server *s, const char *method, const char *path, unsigned flags,
                size_t max_body, sp_http_handler h, sp_http_precheck pre, void *ctx)
{
    sp_err err;
    sp_http_route r = { method, path, flags, max_body, h, pre, ctx };
    if (sp_http_server_add_route(s, &r, &err) != SP_OK)
        fail_msg("add_route %s: %s", path, err.msg);
}

static fixture *fixture_start(unsigned idle_timeout_s)
{
    fixture *f = calloc(1, sizeof *f);
    sp_err err;
    assert_int_equal(sp_metrics_new(&f->metrics, &err), SP_OK);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(f->file_path, sizeof f->file_path, "%s/test_http_XXXXXX", tmp);
    int fd = mkstemp(f->file_path);
    assert_true(fd >= 0);
    f->file_data = malloc(FILE_SIZE);
    for (size_t i = 0; i < FILE_SIZE; i++)
        f->file_data[i] = pattern(i);
    assert_int_equal(write(fd, f->file_data, FILE_SIZE), FILE_SIZE);
    close(fd);
    f->slow_ms = 300;

    sp_http_server_opts o = {
        .listen = "127.0.0.1:0", .name = "test-http", .threads = 2, .max_connections = 8192,
        .idle_timeout_s = idle_timeout_s, .max_body = 64 * 1024, .drain_limit = 1 << 20,
        .metrics = f->metrics,
    };
    assert_int_equal(sp_http_server_new(&o, &f->srv, &err), SP_OK);
    add(f->srv, "GET", "/hello", 0, 0, h_hello, NULL, f);
    add(f->srv, "POST", "/echo", 0, 0, h_echo, NULL, f);
    add(f->srv, "PUT", "/echo", 0, 0, h_echo, NULL, f);
    add(f->srv, "POST", "/big", SP_HTTP_OVERSIZE, 1000, h_big, NULL, f);
    add(f->srv, "POST", "/guarded", 0, 0, h_guarded, pre_guard, f);
    add(f->srv, "GET", "/files/", SP_HTTP_PREFIX, 0, h_files, NULL, f);
    add(f->srv, "GET", "/norange", 0, 0, h_norange, NULL, f);
    add(f->srv, "GET", "/p/", SP_HTTP_PREFIX, 0, h_rest, NULL, f);
    add(f->srv, "GET", "/p/deeper/", SP_HTTP_PREFIX, 0, h_rest, NULL, f);
    add(f->srv, "GET", "/slow", 0, 0, h_slow, NULL, f);
    add(f->srv, "GET", "/busy", 0, 0, h_busy, NULL, f);
    add(f->srv, "GET", "/nothing", 0, 0, h_nothing, NULL, f);
    add(f->srv, "GET", "/badheader", 0, 0, h_bad_header, NULL, f);
    add(f->srv, "GET", "/metrics", 0, 0, sp_http_metrics_handler, NULL, f->metrics);
    /* routes are fixed once running */
    sp_http_route late = { "GET", "/late", 0, 0, h_hello, NULL, f };
    assert_int_equal(sp_http_server_add_route(f->srv, &late, &err), SP_OK);
    assert_int_equal(sp_http_server_add_route(f->srv, &late, &err), SP_EEXIST);
    assert_int_equal(sp_http_server_start(f->srv, &err), SP_OK);
    assert_int_equal(sp_http_server_add_route(f->srv, &late, &err), SP_ESTATE);
    assert_true(sp_http_server_port(f->srv) > 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u", sp_http_server_port(f->srv));
    return f;
}

static void fixture_stop(fixture *f)
{
    sp_http_server_free(f->srv);
    sp_metrics_free(f->metrics);
    unlink(f->file_path);
    free(f->file_data);
    free(f);
}

static int setup(void **state)
{
    *state = fixture_start(60);
    return 0;
}

static int teardown(void **state)
{
    fixture_stop(*state);
    return 0;
}

/* ---- a small curl helper ----------------------------------------------------------- */

typedef struct reply {
    long status;
    char *body;
    size_t len;
    char headers[4096];
    long connects; /* new connections this request opened */
    CURLcode rc;
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

static size_t collect_header(char *p, size_t s, size_t n, void *ud)
{
    reply *r = ud;
    size_t used = strlen(r->headers);
    snprintf(r->headers + used, sizeof r->headers - used, "%.*s", (int)(s * n), p);
    return s * n;
}

/* One request; h may be a reused handle (NULL: a fresh one). extra: NULL-terminated. */
static reply request_within(long timeout_ms, CURL *h, const char *method, const char *url,
                            const char *const *extra, const void *body, long body_len)
{
    reply r = { 0 };
    bool own = !h;
    if (own)
        h = curl_easy_init();
    else
        curl_easy_reset(h);
    struct curl_slist *hl = NULL;
    for (size_t i = 0; extra && extra[i]; i++)
        hl = curl_slist_append(hl, extra[i]);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, body_len);
    }
    r.rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r.connects);
    curl_slist_free_all(hl);
    if (own)
        curl_easy_cleanup(h);
    if (!r.body)
        r.body = calloc(1, 1);
    return r;
}

static reply request(CURL *h, const char *method, const char *url, const char *const *extra,
                     const void *body, long body_len)
{
    return request_within(20000, h, method, url, extra, body, body_len);
}

static reply get(fixture *f, const char *path, const char *const *extra)
{
    char url[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    return request(NULL, "GET", url, extra, NULL, 0);
}

/* ---- server tests ------------------------------------------------------------------ */

static void test_routes(void **state)
{
    fixture *f = *state;
    reply r = get(f, "/hello?name=ann", (const char *const[]){ "Authorization: Bearer tok123", NULL });
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "hello ann\n");
    assert_non_null(strstr(r.headers, "X-Token: tok123\r\n"));
    assert_non_null(strstr(r.headers, "Content-Type: text/plain; charset=utf-8\r\n"));
    free(r.body);

    r = get(f, "/hello", (const char *const[]){ "Authorization: Basic dXNlcjpwYXNz", NULL });
    assert_string_equal(r.body, "hello nobody\n");
    assert_non_null(strstr(r.headers, "X-Token: (none)\r\n"));
    free(r.body);

    char url[256];
    snprintf(url, sizeof url, "%s/hello", f->base);
    r = request(NULL, "HEAD", url, NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    assert_non_null(strstr(r.headers, "X-Method: HEAD\r\n"));
    free(r.body);

    r = get(f, "/nope", NULL);
    assert_int_equal(r.status, 404);
    free(r.body);
    r = get(f, "/hello/more", NULL); /* exact routes do not match longer paths */
    assert_int_equal(r.status, 404);
    free(r.body);

    r = get(f, "/echo", NULL);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "Allow: POST, PUT\r\n"));
    free(r.body);

    /* longest prefix wins; rest is what follows it, percent-decoded */
    r = get(f, "/p/a/b", NULL);
    assert_string_equal(r.body, "rest=[a/b] path=[/p/a/b]\n");
    free(r.body);
    r = get(f, "/p/deeper/x", NULL);
    assert_string_equal(r.body, "rest=[x] path=[/p/deeper/x]\n");
    free(r.body);
    r = get(f, "/p/..%2F..%2Fetc", NULL);
    assert_string_equal(r.body, "rest=[../../etc] path=[/p/../../etc]\n");
    free(r.body);

    r = get(f, "/nothing", NULL); /* a handler that sets nothing gives a clean 500 */
    assert_int_equal(r.status, 500);
    free(r.body);
    r = get(f, "/badheader", NULL); /* header injection refused -> 500, nothing injected */
    assert_int_equal(r.status, 500);
    assert_null(strstr(r.headers, "Set-Cookie"));
    free(r.body);
    r = get(f, "/hello", NULL); /* still serving */
    assert_int_equal(r.status, 200);
    free(r.body);
}

static void test_bodies_and_limits(void **state)
{
    fixture *f = *state;
    char url[256];
    CURL *h = curl_easy_init();

    /* a body at the limit is delivered whole */
    size_t n = 64 * 1024;
    char *body = malloc(4u << 20);
    for (size_t i = 0; i < (4u << 20); i++)
        body[i] = (char)('a' + i % 26);
    snprintf(url, sizeof url, "%s/echo", f->base);
    const char *const no_expect[] = { "Expect:", NULL };
    reply r = request(h, "POST", url, no_expect, body, (long)n);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, n);
    assert_memory_equal(r.body, body, n);
    free(r.body);

    /* one byte over: 413, the body is drained and the connection kept */
    r = request(h, "POST", url, no_expect, body, (long)n + 1);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "65537 bytes exceeds the limit of 65536"));
    free(r.body);
    r = request(h, "POST", url, no_expect, "abc", 3);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "abc");
    assert_int_equal(r.connects, 0); /* same connection */
    free(r.body);

    /* over the drain limit: answered at once, then the connection closes */
    r = request(h, "POST", url, NULL, body, 4 << 20);
    assert_int_equal(r.status, 413);
    free(r.body);
    r = request(h, "POST", url, no_expect, "xyz", 3);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "xyz");
    free(r.body);

    /* chunked upload over the limit (no Content-Length) */
    r = request(h, "POST", url, (const char *const[]){ "Transfer-Encoding: chunked", "Expect:", NULL },
                body, 100000);
    assert_int_equal(r.status, 413);
    free(r.body);

    /* a route that answers oversize bodies itself */
    snprintf(url, sizeof url, "%s/big", f->base);
    r = request(h, "POST", url, no_expect, body, 1000);
    assert_string_equal(r.body, "ok 1000\n");
    free(r.body);
    r = request(h, "POST", url, no_expect, body, 1001);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.body, "custom: too large (1001 declared)\n");
    free(r.body);
    r = request(h, "POST", url, NULL, body, 2 << 20);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.body, "custom: too large (2097152 declared)\n");
    free(r.body);

    /* precheck: refused before the body is read; accepted requests see the tag */
    snprintf(url, sizeof url, "%s/guarded", f->base);
    r = request(h, "POST", url, no_expect, body, 5000);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body, "no key\n");
    free(r.body);
    r = request(h, "POST", url, (const char *const[]){ "X-Key: yes", "Expect:", NULL }, body, 5000);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "tag 42 body 5000\n");
    assert_int_equal(r.connects, 0);
    free(r.body);
    /* a client waiting for "100 Continue" is refused before it sends the body */
    r = request(h, "POST", url, (const char *const[]){ "Expect: 100-continue", NULL }, body, 5000);
    assert_int_equal(r.status, 403);
    assert_string_equal(r.body, "no key\n");
    assert_null(strstr(r.headers, "100 Continue"));
    free(r.body);

    curl_easy_cleanup(h);
    free(body);
}

static void check_range(fixture *f, const char *range, long want_status, uint64_t start,
                        uint64_t len, const char *want_crange)
{
    char hdr[128];
    snprintf(hdr, sizeof hdr, "Range: %s", range);
    reply r = get(f, "/files/data", range ? (const char *const[]){ hdr, NULL } : NULL);
    if (r.status != want_status)
        fail_msg("Range %s: status %ld, want %ld (%s)", range, r.status, want_status, r.body);
    if (want_status == 200 || want_status == 206) {
        assert_int_equal(r.len, len);
        assert_memory_equal(r.body, f->file_data + start, len);
        assert_non_null(strstr(r.headers, "Accept-Ranges: bytes\r\n"));
    }
    if (want_crange) {
        char line[128];
        snprintf(line, sizeof line, "Content-Range: %s\r\n", want_crange);
        if (!strstr(r.headers, line))
            fail_msg("Range %s: no \"%s\" in\n%s", range, want_crange, r.headers);
    } else {
        assert_null(strstr(r.headers, "Content-Range"));
    }
    free(r.body);
}

static void test_file_ranges(void **state)
{
    fixture *f = *state;
    check_range(f, NULL, 200, 0, FILE_SIZE, NULL);
    check_range(f, "bytes=0-99", 206, 0, 100, "bytes 0-99/1048699");
    check_range(f, "bytes=1000-524287", 206, 1000, 523288, "bytes 1000-524287/1048699");
    check_range(f, "bytes=1048000-", 206, 1048000, FILE_SIZE - 1048000,
                "bytes 1048000-1048698/1048699");
    check_range(f, "bytes=-123", 206, FILE_SIZE - 123, 123, "bytes 1048576-1048698/1048699");
    check_range(f, "bytes=1048698-99999999", 206, FILE_SIZE - 1, 1, "bytes 1048698-1048698/1048699");
    check_range(f, "bytes=1048699-", 416, 0, 0, "bytes */1048699");
    check_range(f, "bytes=-0", 416, 0, 0, "bytes */1048699");
    check_range(f, "bytes=0-1,5-6", 400, 0, 0, NULL);
    check_range(f, "bytes=9-3", 400, 0, 0, NULL);
    check_range(f, "pages=1-2", 400, 0, 0, NULL);
    reply r = get(f, "/files/other", NULL);
    assert_int_equal(r.status, 404);
    free(r.body);

    /* many random ranges, byte for byte */
    uint64_t seed = 99;
    for (int i = 0; i < 40; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t a = (seed >> 20) % FILE_SIZE;
        uint64_t b = a + (seed >> 44) % 70000;
        char range[64], cr[80];
        snprintf(range, sizeof range, "bytes=%llu-%llu", (unsigned long long)a, (unsigned long long)b);
        uint64_t last = b < FILE_SIZE ? b : FILE_SIZE - 1;
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%u", (unsigned long long)a,
                 (unsigned long long)last, FILE_SIZE);
        check_range(f, range, 206, a, last - a + 1, cr);
    }
}

static void test_metrics_route(void **state)
{
    fixture *f = *state;
    free(get(f, "/nope", NULL).body);
    reply r = get(f, "/metrics", NULL);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    assert_non_null(strstr(r.body, "# TYPE sealpipe_http_responses_total counter\n"));
    assert_non_null(strstr(r.body, "sealpipe_http_responses_total{code=\"404\"} "));
    assert_non_null(strstr(r.body, "sealpipe_http_connections "));
    free(r.body);
}

static int connect_raw(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Thousands of idle connections (some with half a request) cost the server no threads:
 * a real request is still answered promptly. */
static void test_idle_connections(void **state)
{
    fixture *f = *state;
    enum { N = 2000 };
    int *fds = malloc(N * sizeof *fds);
    int opened = 0;
    for (int i = 0; i < N; i++) {
        fds[i] = connect_raw(sp_http_server_port(f->srv));
        if (fds[i] >= 0)
            opened++;
        if (i % 3 == 0 && fds[i] >= 0) {
            const char *partial = "GET /hello HTTP/1.1\r\nHost: x\r\n"; /* never finished */
            assert_true(write(fds[i], partial, strlen(partial)) > 0);
        }
    }
    assert_int_equal(opened, N);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 20; i++) {
        reply r = get(f, "/hello?name=busy", NULL);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "hello busy\n");
        free(r.body);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms < 5000);
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(fds);
}

typedef struct waiter {
    char url[128];
    reply r;
} waiter;

static void *wait_request(void *p)
{
    waiter *w = p;
    w->r = request_within(10000, NULL, "GET", w->url, NULL, NULL, 0);
    return NULL;
}

/* At max_connections the server stops accepting: a new client waits (in the listen
 * backlog) until a slot frees, then is served. */
static void test_connection_limit(void **state)
{
    (void)state;
    sp_err err;
    sp_http_server *s;
    sp_http_server_opts o = { .listen = "127.0.0.1:0", .threads = 1, .max_connections = 8 };
    assert_int_equal(sp_http_server_new(&o, &s, &err), SP_OK);
    add(s, "GET", "/hello", 0, 0, h_hello, NULL, NULL);
    assert_int_equal(sp_http_server_start(s, &err), SP_OK);
    waiter w;
    snprintf(w.url, sizeof w.url, "http://127.0.0.1:%u/hello", sp_http_server_port(s));
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = connect_raw(sp_http_server_port(s));
        assert_true(fds[i] >= 0);
    }
    struct timespec ts = { 0, 200000000 };
    nanosleep(&ts, NULL); /* let the server accept them all */
    reply r = request_within(500, NULL, "GET", w.url, NULL, NULL, 0);
    assert_int_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(r.status, 0);
    free(r.body);
    pthread_t th;
    pthread_create(&th, NULL, wait_request, &w);
    nanosleep(&ts, NULL);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    pthread_join(th, NULL);
    assert_int_equal(w.r.status, 200);
    assert_string_equal(w.r.body, "hello nobody\n");
    free(w.r.body);
    sp_http_server_free(s);
}

static void test_idle_timeout(void **state)
{
    (void)state;
    fixture *f = fixture_start(1);
    int fd = connect_raw(sp_http_server_port(f->srv));
    assert_true(fd >= 0);
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[16];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ssize_t n = read(fd, buf, sizeof buf); /* the server closes the idle connection */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_int_equal(n, 0);
    assert_true(t1.tv_sec - t0.tv_sec < 4);
    close(fd);
    fixture_stop(f);
}

typedef struct slow_arg {
    fixture *f;
    reply r;
} slow_arg;

static void *slow_request(void *p)
{
    slow_arg *a = p;
    a->r = get(a->f, "/slow", NULL);
    return NULL;
}

/* Stop waits for the request in flight, which completes; then nothing listens. */
static void test_clean_shutdown(void **state)
{
    (void)state;
    fixture *f = fixture_start(60);
    f->slow_ms = 400;
    slow_arg a = { f, { 0 } };
    pthread_t th;
    pthread_create(&th, NULL, slow_request, &a);
    for (int i = 0; i < 200 && sp_http_server_inflight(f->srv) == 0; i++) {
        struct timespec ts = { 0, 5000000 };
        nanosleep(&ts, NULL);
    }
    assert_int_equal(sp_http_server_inflight(f->srv), 1);
    uint16_t port = sp_http_server_port(f->srv);
    sp_http_server_stop(f->srv, 5000);
    assert_int_equal(sp_http_server_inflight(f->srv), 0);
    pthread_join(th, NULL);
    assert_int_equal(a.r.status, 200);
    assert_string_equal(a.r.body, "done\n");
    free(a.r.body);
    assert_int_equal(connect_raw(port), -1);
    sp_http_server_stop(f->srv, 0); /* twice is fine */
    fixture_stop(f);
}

static void test_bad_listen(void **state)
{
    (void)state;
    sp_err err;
    sp_http_server *s;
    const char *bad[] = { "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:x", "[::1", "nohost.invalid:80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp_http_server_opts o = { .listen = bad[i] };
        assert_int_equal(sp_http_server_new(&o, &s, &err), SP_OK);
        assert_int_not_equal(sp_http_server_start(s, &err), SP_OK);
        assert_non_null(strstr(err.msg, bad[i]));
        sp_http_server_free(s);
    }
    /* a port already in use is named */
    fixture *f = fixture_start(60);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", sp_http_server_port(f->srv));
    sp_http_server_opts o = { .listen = addr };
    assert_int_equal(sp_http_server_new(&o, &s, &err), SP_OK);
    assert_int_not_equal(sp_http_server_start(s, &err), SP_OK);
    assert_non_null(strstr(err.msg, "another process uses the port"));
    sp_http_server_free(s);
    fixture_stop(f);
}

/* ---- sp_http_get_to_fd ------------------------------------------------------------- */

static int temp_fd(char *path, size_t n)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, n, "%s/test_http_dl_XXXXXX", tmp);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

static void read_back(int fd, uint8_t *buf, size_t n)
{
    assert_int_equal(pread(fd, buf, n, 0), (ssize_t)n);
}

static void test_get_to_fd(void **state)
{
    fixture *f = *state;
    char url[256], path[256];
    sp_err err;
    sp_http_get_result res;
    uint8_t *buf = malloc(FILE_SIZE);

    /* whole file */
    int fd = temp_fd(path, sizeof path);
    snprintf(url, sizeof url, "%s/files/data", f->base);
    sp_http_get_opts o = { .token = "secret-token" };
    assert_int_equal(sp_http_get_to_fd(url, &o, fd, &res, &err), SP_OK);
    assert_int_equal(res.status, 200);
    assert_int_equal(res.bytes, FILE_SIZE);
    read_back(fd, buf, FILE_SIZE);
    assert_memory_equal(buf, f->file_data, FILE_SIZE);
    close(fd);

    /* a range */
    fd = temp_fd(path, sizeof path);
    o = (sp_http_get_opts){ .range = true, .offset = 4096, .length = 300000 };
    assert_int_equal(sp_http_get_to_fd(url, &o, fd, &res, &err), SP_OK);
    assert_int_equal(res.status, 206);
    assert_int_equal(res.bytes, 300000);
    read_back(fd, buf, 300000);
    assert_memory_equal(buf, f->file_data + 4096, 300000);
    close(fd);

    /* a range past the end: the server clamps it, the client notices the short answer */
    fd = temp_fd(path, sizeof path);
    o = (sp_http_get_opts){ .range = true, .offset = FILE_SIZE - 10, .length = 100 };
    assert_int_equal(sp_http_get_to_fd(url, &o, fd, &res, &err), SP_EIO);
    assert_non_null(strstr(err.msg, "Content-Range differs"));
    o = (sp_http_get_opts){ .range = true, .offset = FILE_SIZE, .length = 1 };
    assert_int_equal(sp_http_get_to_fd(url, &o, fd, &res, &err), SP_EINVAL);
    assert_int_equal(res.status, 416);
    assert_int_equal(res.bytes, 0);
    close(fd);

    /* size cap without range */
    fd = temp_fd(path, sizeof path);
    o = (sp_http_get_opts){ .max_bytes = 1000 };
    assert_int_equal(sp_http_get_to_fd(url, &o, fd, &res, &err), SP_EIO);
    assert_non_null(strstr(err.msg, "larger than"));
    close(fd);

    /* statuses */
    fd = temp_fd(path, sizeof path);
    snprintf(url, sizeof url, "%s/files/missing", f->base);
    assert_int_equal(sp_http_get_to_fd(url, NULL, fd, &res, &err), SP_ENOTFOUND);
    assert_non_null(strstr(err.msg, "HTTP 404: no file \"missing\""));
    snprintf(url, sizeof url, "%s/busy", f->base);
    assert_int_equal(sp_http_get_to_fd(url, NULL, fd, &res, &err), SP_EBUSY);
    assert_int_equal(res.retry_after_s, 7);
    assert_int_equal(res.status, 503);
    snprintf(url, sizeof url, "%s/norange", f->base);
    o = (sp_http_get_opts){ .range = true, .offset = 0, .length = 10 };
    assert_int_equal(sp_http_get_to_fd(url, &o, fd, &res, &err), SP_EIO);
    assert_non_null(strstr(err.msg, "ignored the Range"));
    struct stat st;
    fstat(fd, &st);
    assert_int_equal(st.st_size, 0); /* nothing of the error bodies reached the file */
    close(fd);

    /* nobody listening: SP_ENET after the retries */
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(probe, (struct sockaddr *)&a, sizeof a);
    socklen_t sl = sizeof a;
    getsockname(probe, (struct sockaddr *)&a, &sl);
    close(probe); /* the port is now (almost certainly) closed */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/x", ntohs(a.sin_port));
    fd = temp_fd(path, sizeof path);
    o = (sp_http_get_opts){ .retries = 2 };
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(sp_http_get_to_fd(url, &o, fd, &res, &err), SP_ENET);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    assert_true(ms >= 550); /* backoff 200 + 400 ms (each sleep may end a little early) */
    assert_int_equal(res.status, 0);
    close(fd);
    free(buf);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the daemons do: lets the server use sendfile */
    sp_log_init("test_http", SP_LOG_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_table),
        cmocka_unit_test(test_range_random),
        cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bodies_and_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_route, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_connections, setup, teardown),
        cmocka_unit_test(test_connection_limit),
        cmocka_unit_test(test_idle_timeout),
        cmocka_unit_test(test_clean_shutdown),
        cmocka_unit_test(test_bad_listen),
        cmocka_unit_test_setup_teardown(test_get_to_fd, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
