/* http_client.c — libcurl setup (once per process) and sp_http_get_to_fd(), the download
 * a worker uses for deal pieces: GET with bearer token and optional Range into an fd,
 * checking status, Content-Range and length; retries only when nothing arrived. */
#include "sp_http.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sp_log.h"

/* curl_global_init must run once before any other libcurl call; the result is written
 * inside pthread_once and only read afterwards. */
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

sp_code sp_http_global_init(sp_err *err)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_result != CURLE_OK)
        return sp_fail(err, SP_EINTERNAL, "libcurl initialisation failed: %s",
                       curl_easy_strerror(curl_init_result));
    return SP_OK;
}

typedef struct get_ctx {
    CURL *h;
    int fd;
    bool want_range;
    bool checked;   /* status looked at (first body byte) */
    bool accepted;  /* status is the one we want: bytes go to fd */
    uint64_t written;
    uint64_t max_bytes;
    bool too_big;
    int write_errno;
    char errbody[256];
    size_t errlen;
    bool have_crange;
    uint64_t crange_first, crange_last;
    unsigned retry_after;
} get_ctx;

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    get_ctx *g = ud;
    size_t len = size * n;
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p);
    if (strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
        g->have_crange = false;
        g->retry_after = 0;
    } else if (strncasecmp(line, "Content-Range:", 14) == 0) {
        unsigned long long a, b;
        if (sscanf(line + 14, " bytes %llu-%llu/", &a, &b) == 2) {
            g->have_crange = true;
            g->crange_first = a;
            g->crange_last = b;
        }
    } else if (strncasecmp(line, "Retry-After:", 12) == 0) {
        unsigned long v = strtoul(line + 12, NULL, 10);
        g->retry_after = v > 86400 ? 86400 : (unsigned)v;
    }
    return len;
}

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    get_ctx *g = ud;
    size_t len = size * n;
    if (!g->checked) {
        long status = 0;
        curl_easy_getinfo(g->h, CURLINFO_RESPONSE_CODE, &status);
        g->accepted = g->want_range ? status == 206 : status == 200;
        g->checked = true;
    }
    if (!g->accepted) { /* keep the start of an error body for the message */
        size_t room = sizeof g->errbody - 1 - g->errlen;
        size_t k = len < room ? len : room;
        memcpy(g->errbody + g->errlen, p, k);
        g->errlen += k;
        g->errbody[g->errlen] = 0;
        return len;
    }
    if (g->max_bytes && g->written + len > g->max_bytes) {
        g->too_big = true;
        return 0;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(g->fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            g->write_errno = w < 0 ? errno : EIO;
            return 0;
        }
        done += (size_t)w;
    }
    g->written += len;
    return len;
}

/* Connection-level failures where no response started: safe to try again. */
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

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Trims an error body to one printable line for messages. */
static const char *clean_body(char *b)
{
    for (char *c = b; *c; c++)
        if ((unsigned char)*c < 0x20)
            *c = ' ';
    size_t n = strlen(b);
    while (n && b[n - 1] == ' ')
        b[--n] = 0;
    return b;
}

static sp_code status_error(const char *url, long status, get_ctx *g, sp_err *err)
{
    const char *body = clean_body(g->errbody);
    const char *sep = *body ? ": " : "";
    switch (status) {
    case 401:
    case 403:
        return sp_fail(err, SP_EAUTH, "GET %s: HTTP %ld%s%s (check the token)", url, status, sep, body);
    case 404:
        return sp_fail(err, SP_ENOTFOUND, "GET %s: HTTP 404%s%s", url, sep, body);
    case 416:
        return sp_fail(err, SP_EINVAL, "GET %s: HTTP 416, range not satisfiable%s%s", url, sep, body);
    case 429:
    case 503:
        return sp_fail(err, SP_EBUSY, "GET %s: HTTP %ld%s%s (retry after %u s)", url, status, sep,
                       body, g->retry_after);
    case 200:
        if (g->want_range)
            return sp_fail(err, SP_EIO, "GET %s: the server ignored the Range header (HTTP 200)", url);
        break;
    default:
        break;
    }
    return sp_fail(err, SP_EIO, "GET %s: unexpected HTTP %ld%s%s", url, status, sep, body);
}

static sp_code get_once(CURL *h, const char *url, const sp_http_get_opts *o, int fd,
                        get_ctx *g, bool *retry, sp_http_get_result *res, sp_err *err)
{
    *retry = false;
    memset(g, 0, sizeof *g);
    g->h = h;
    g->fd = fd;
    g->want_range = o->range;
    g->max_bytes = o->range ? 0 : o->max_bytes;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, g);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, g);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    res->status = (unsigned)status;
    res->bytes = g->written;
    res->retry_after_s = g->retry_after;
    if (rc != CURLE_OK) {
        if (g->write_errno)
            return sp_fail_errno(err, g->write_errno, "GET %s: writing the body after %" PRIu64
                                 " bytes", url, g->written);
        if (g->too_big)
            return sp_fail(err, SP_EIO, "GET %s: body larger than the %" PRIu64 "-byte limit",
                           url, o->max_bytes);
        *retry = g->written == 0 && connect_failure(rc, h);
        if (rc == CURLE_OPERATION_TIMEDOUT)
            return sp_fail(err, SP_ETIMEOUT, "GET %s: timed out after %" PRIu64 " bytes (%s)", url,
                           g->written, curl_easy_strerror(rc));
        if (rc == CURLE_PARTIAL_FILE)
            return sp_fail(err, SP_EIO, "GET %s: connection closed after %" PRIu64
                           " bytes, before the announced length", url, g->written);
        return sp_fail(err, SP_ENET, "GET %s: %s", url, curl_easy_strerror(rc));
    }
    if (!(o->range ? status == 206 : status == 200))
        return status_error(url, status, g, err);
    if (o->range) {
        uint64_t want_last = o->offset + o->length - 1;
        if (!g->have_crange || g->crange_first != o->offset || g->crange_last != want_last)
            return sp_fail(err, SP_EIO, "GET %s: asked for bytes %" PRIu64 "-%" PRIu64
                           " but the answer's Content-Range differs", url, o->offset, want_last);
        if (g->written != o->length)
            return sp_fail(err, SP_EIO, "GET %s: got %" PRIu64 " bytes of a %" PRIu64 "-byte range",
                           url, g->written, o->length);
        return SP_OK;
    }
    curl_off_t announced = -1;
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced);
    if (announced >= 0 && (uint64_t)announced != g->written)
        return sp_fail(err, SP_EIO, "GET %s: got %" PRIu64 " bytes, the server announced %lld",
                       url, g->written, (long long)announced);
    return SP_OK;
}

sp_code sp_http_get_to_fd(const char *url, const sp_http_get_opts *opts, int fd,
                          sp_http_get_result *res, sp_err *err)
{
    sp_http_get_opts o = opts ? *opts : (sp_http_get_opts){ 0 };
    sp_http_get_result local;
    if (!res)
        res = &local;
    memset(res, 0, sizeof *res);
    if (!o.connect_timeout_ms)
        o.connect_timeout_ms = 5000;
    if (!o.stall_timeout_s)
        o.stall_timeout_s = 60;
    if (o.range && (o.length == 0 || o.offset > UINT64_MAX - o.length))
        return sp_fail(err, SP_EINVAL, "GET %s: empty or overflowing range requested", url);
    sp_code rc = sp_http_global_init(err);
    if (rc)
        return rc;
    CURL *h = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    char *auth = NULL;
    if (!h) {
        rc = sp_fail(err, SP_ENOMEM, "GET %s: cannot create a curl handle", url);
        goto done;
    }
    if (o.token) {
        if (asprintf(&auth, "Authorization: Bearer %s", o.token) < 0) {
            auth = NULL;
            rc = sp_fail(err, SP_ENOMEM, "GET %s: out of memory", url);
            goto done;
        }
        struct curl_slist *l = curl_slist_append(hdrs, auth);
        if (!l) {
            rc = sp_fail(err, SP_ENOMEM, "GET %s: out of memory", url);
            goto done;
        }
        hdrs = l;
    }
    char range[48];
    snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, o.offset, o.offset + o.length - 1);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)o.connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o.timeout_ms);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)o.stall_timeout_s);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (o.range)
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    unsigned backoff = 200;
    for (unsigned attempt = 0;; attempt++) {
        get_ctx g;
        bool retry;
        rc = get_once(h, url, &o, fd, &g, &retry, res, err);
        if (rc == SP_OK || !retry || attempt >= o.retries)
            break;
        SP_DEBUG("GET %s: %s; retry %u/%u in %u ms", url, err ? err->msg : "", attempt + 1,
                 o.retries, backoff);
        sleep_ms(backoff);
        backoff = backoff >= 2500 ? 5000 : backoff * 2;
    }
done:
    curl_slist_free_all(hdrs);
    if (auth) {
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    curl_easy_cleanup(h);
    return rc;
}
