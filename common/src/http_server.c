/* http_server.c — sp_http_server: routes, request bodies, responses and clean shutdown on
 * libmicrohttpd (epoll thread pool, one context per request).
 *
 * Request flow (MHD calls the access handler at least twice per request):
 *   first call   headers only: find the route (404/405), check Content-Length against the
 *                limit, run the precheck.  A refusal becomes the "pending" response; if
 *                the body it would have to drain is over drain_limit it is sent at once
 *                (MHD then closes the connection instead of reading the body).
 *   body calls   append to the buffer, or drop the bytes of a refused/oversize request.
 *   final call   queue the pending response, or run the handler and queue its response.
 * The completion callback frees the context and ends the in-flight count that
 * sp_http_server_stop() waits on.
 */
#include "sp_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sp_log.h"

#define MAX_ROUTES 64
/* libmicrohttpd 0.9.75 in epoll mode misses a client's hang-up that arrives together with
 * the last bytes of an unfinished request (it stops reading once a recv returns less than
 * asked, and the edge-triggered epoll never reports the FIN again), so such a connection
 * sits in CLOSE_WAIT until its timeout; one packet per connection would then hold a slot
 * for idle_timeout_s.  A connection receiving a request gets this much silence; between
 * requests idle_timeout_s applies. */
#define RECEIVE_TIMEOUT_S 10
#define MAX_HEADERS 16

enum body_kind { BODY_NONE, BODY_BUF, BODY_FD };

struct sp_http_response {
    unsigned status;
    enum body_kind kind;
    char *buf;
    size_t len;
    int fd;
    uint64_t offset, length;
    char content_type[96];
    size_t n_headers;
    char *names[MAX_HEADERS];
    char *values[MAX_HEADERS];
    bool failed; /* a respond_* call failed: answer 500 */
};

struct sp_http_server {
    sp_http_server_opts opts;
    char name[32];
    sp_http_route routes[MAX_ROUTES];
    size_t n_routes;
    struct MHD_Daemon *daemon;
    int listen_fd;
    uint16_t port;
    char address[80];
    atomic_bool stopping;
    atomic_uint inflight;
    atomic_int connections;
    sp_metric *m_connections;
    sp_metric *m_responses;
};

typedef struct req_ctx {
    sp_http_request req;
    const sp_http_route *route;
    sp_http_response pending;
    bool have_pending;
    bool oversize;
    bool answered; /* a response is queued: later calls have nothing to do */
    bool counted;  /* received whole (or answered early): counted in inflight */
    size_t limit;
    char *body;
    size_t len, cap;
    uint64_t dropped;
    char peer[64];
} req_ctx;

/* ---- responses --------------------------------------------------------------------- */

static void response_init(sp_http_response *r)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

static void response_clear_body(sp_http_response *r)
{
    free(r->buf);
    r->buf = NULL;
    r->len = 0;
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->kind = BODY_NONE;
}

static void response_free(sp_http_response *r)
{
    response_clear_body(r);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    r->n_headers = 0;
}

static sp_code set_content_type(sp_http_response *r, const char *ct)
{
    if (!ct)
        ct = "application/octet-stream";
    if (strlen(ct) >= sizeof r->content_type || strpbrk(ct, "\r\n")) {
        r->failed = true;
        return SP_EINVAL;
    }
    strcpy(r->content_type, ct);
    return SP_OK;
}

sp_code sp_http_respond_data(sp_http_response *r, unsigned status, const char *content_type,
                             void *data, size_t len)
{
    response_clear_body(r);
    r->status = status;
    r->kind = BODY_BUF;
    r->buf = data;
    r->len = data ? len : 0;
    if (!data && !content_type) { /* no body at all (204): no Content-Type either */
        r->content_type[0] = 0;
        return SP_OK;
    }
    return set_content_type(r, content_type);
}

sp_code sp_http_respond_copy(sp_http_response *r, unsigned status, const char *content_type,
                             const void *data, size_t len)
{
    void *copy = malloc(len ? len : 1);
    if (!copy) {
        r->failed = true;
        return SP_ENOMEM;
    }
    if (len)
        memcpy(copy, data, len);
    return sp_http_respond_data(r, status, content_type, copy, len);
}

sp_code sp_http_respond_text(sp_http_response *r, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = NULL;
    int n = vasprintf(&text, fmt, ap);
    va_end(ap);
    if (n < 0) {
        r->failed = true;
        return SP_ENOMEM;
    }
    /* Text answers end with a newline so curl and terminals show them cleanly. */
    if (n == 0 || text[n - 1] != '\n') {
        char *t = realloc(text, (size_t)n + 2);
        if (!t) {
            free(text);
            r->failed = true;
            return SP_ENOMEM;
        }
        text = t;
        text[n++] = '\n';
        text[n] = 0;
    }
    return sp_http_respond_data(r, status, "text/plain; charset=utf-8", text, (size_t)n);
}

sp_code sp_http_respond_json(sp_http_response *r, unsigned status, const cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    if (!text) {
        r->failed = true;
        return SP_ENOMEM;
    }
    return sp_http_respond_data(r, status, "application/json", text, strlen(text));
}

sp_code sp_http_respond_header(sp_http_response *r, const char *name, const char *value)
{
    if (!name || !value || !*name || strpbrk(name, "\r\n: ") || strpbrk(value, "\r\n") ||
        r->n_headers == MAX_HEADERS) {
        r->failed = true;
        return SP_EINVAL;
    }
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        r->failed = true;
        return SP_ENOMEM;
    }
    r->names[r->n_headers] = n;
    r->values[r->n_headers++] = v;
    return SP_OK;
}

sp_code sp_http_respond_file(sp_http_response *r, const sp_http_request *req, int fd,
                             uint64_t size, const char *content_type)
{
    const char *hdr = NULL;
    if (req && (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0))
        hdr = sp_http_header(req, "Range");
    sp_http_range range;
    sp_err e;
    unsigned status = sp_http_parse_range(hdr, size, &range, &e);
    char value[80];
    if (status == 400 || status == 416) {
        close(fd);
        sp_code rc = sp_http_respond_text(r, status, "%s", e.msg);
        if (status == 416) {
            snprintf(value, sizeof value, "bytes */%llu", (unsigned long long)size);
            sp_http_respond_header(r, "Content-Range", value);
        }
        return rc;
    }
    sp_http_respond_header(r, "Accept-Ranges", "bytes");
    if (status == 206) {
        snprintf(value, sizeof value, "bytes %llu-%llu/%llu", (unsigned long long)range.start,
                 (unsigned long long)(range.start + range.length - 1), (unsigned long long)size);
        sp_http_respond_header(r, "Content-Range", value);
    }
    if (range.length == 0) {
        close(fd);
        return sp_http_respond_data(r, status, content_type, NULL, 0);
    }
    response_clear_body(r);
    r->status = status;
    r->kind = BODY_FD;
    r->fd = fd;
    r->offset = range.start;
    r->length = range.length;
    return set_content_type(r, content_type);
}

void sp_http_metrics_handler(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)req;
    char *text = NULL;
    size_t len = 0;
    sp_err e;
    if (sp_metrics_render(ctx, &text, &len, &e) != SP_OK) {
        sp_http_respond_text(resp, 500, "%s", e.msg);
        return;
    }
    sp_http_respond_data(resp, 200, SP_METRICS_CONTENT_TYPE, text, len);
}

/* ---- request accessors ------------------------------------------------------------- */

const char *sp_http_header(const sp_http_request *req, const char *name)
{
    if (!req || !req->conn_)
        return NULL;
    return MHD_lookup_connection_value(req->conn_, MHD_HEADER_KIND, name);
}

const char *sp_http_query(const sp_http_request *req, const char *name)
{
    if (!req || !req->conn_)
        return NULL;
    return MHD_lookup_connection_value(req->conn_, MHD_GET_ARGUMENT_KIND, name);
}

const char *sp_http_bearer(const sp_http_request *req)
{
    const char *v = sp_http_header(req, "Authorization");
    if (!v || strncasecmp(v, "Bearer", 6) != 0 || (v[6] != ' ' && v[6] != '\t'))
        return NULL;
    v += 7;
    while (*v == ' ' || *v == '\t')
        v++;
    return *v ? v : NULL;
}

/* ---- routing ----------------------------------------------------------------------- */

static bool method_matches(const sp_http_route *r, const char *method)
{
    if (!r->method)
        return true;
    if (strcmp(r->method, method) == 0)
        return true;
    return strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0;
}

static bool path_matches(const sp_http_route *r, const char *path, bool prefix)
{
    if (prefix != ((r->flags & SP_HTTP_PREFIX) != 0))
        return false;
    if (prefix)
        return strncmp(path, r->path, strlen(r->path)) == 0;
    return strcmp(path, r->path) == 0;
}

/* Exact routes first, then the longest prefix.  *path_known tells 405 from 404. */
static const sp_http_route *route_find(const sp_http_server *s, const char *path,
                                       const char *method, bool *path_known, char *allow,
                                       size_t allow_size)
{
    *path_known = false;
    allow[0] = 0;
    for (int pass = 0; pass < 2; pass++) {
        const sp_http_route *best = NULL;
        size_t best_len = 0;
        bool prefix = pass == 1;
        for (size_t i = 0; i < s->n_routes; i++) {
            const sp_http_route *r = &s->routes[i];
            if (!path_matches(r, path, prefix))
                continue;
            size_t len = strlen(r->path);
            if (!method_matches(r, method)) {
                size_t used = strlen(allow);
                if (!strstr(allow, r->method))
                    snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "",
                             r->method);
                *path_known = true;
                continue;
            }
            if (!best || len > best_len) {
                best = r;
                best_len = len;
            }
        }
        if (best)
            return best;
        if (*path_known)
            return NULL;
    }
    return NULL;
}

sp_code sp_http_server_add_route(sp_http_server *s, const sp_http_route *route, sp_err *err)
{
    if (s->daemon)
        return sp_fail(err, SP_ESTATE, "%s: routes must be added before the server starts",
                       s->name);
    if (!route || !route->path || route->path[0] != '/' || !route->handler)
        return sp_fail(err, SP_EINVAL, "%s: a route needs a path starting with '/' and a handler",
                       s->name);
    if (s->n_routes == MAX_ROUTES)
        return sp_fail(err, SP_EINVAL, "%s: more than %d routes", s->name, MAX_ROUTES);
    for (size_t i = 0; i < s->n_routes; i++) {
        const sp_http_route *r = &s->routes[i];
        bool same_method = (!r->method && !route->method) ||
                           (r->method && route->method && strcmp(r->method, route->method) == 0);
        if (same_method && r->flags == route->flags && strcmp(r->path, route->path) == 0)
            return sp_fail(err, SP_EEXIST, "%s: route %s %s is already registered", s->name,
                           route->method ? route->method : "*", route->path);
    }
    s->routes[s->n_routes++] = *route;
    return SP_OK;
}

/* ---- MHD glue ---------------------------------------------------------------------- */

static void format_peer(struct MHD_Connection *conn, char *buf, size_t n)
{
    snprintf(buf, n, "?");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    char host[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        snprintf(buf, n, "%s:%u", host, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        snprintf(buf, n, "[%s]:%u", host, ntohs(in6->sin6_port));
    }
}

static uint64_t parse_content_length(const char *v)
{
    uint64_t n = 0;
    if (!v)
        return 0;
    for (; *v >= '0' && *v <= '9'; v++)
        n = n > (UINT64_MAX - 9) / 10 ? UINT64_MAX : n * 10 + (uint64_t)(*v - '0');
    return n;
}

static void count_response(sp_http_server *s, unsigned status)
{
    if (!s->m_responses)
        return;
    char code[8];
    snprintf(code, sizeof code, "%u", status);
    sp_metric_add(s->m_responses, SP_LABELS(code), 1);
}

/* Hands the response to MHD (which takes the buffer or fd) and clears it. */
static enum MHD_Result queue(sp_http_server *s, struct MHD_Connection *conn, req_ctx *rc,
                             sp_http_response *r)
{
    if (r->failed || r->status < 100 || r->status > 999) {
        if (!r->failed)
            SP_ERROR("%s: handler for %s %s set no response; answering 500", s->name,
                     rc->req.method, rc->req.path);
        response_free(r);
        response_init(r);
        sp_http_respond_text(r, 500, "internal error: the handler produced no valid response");
    }
    struct MHD_Response *mr = NULL;
    if (r->kind == BODY_FD) {
        mr = MHD_create_response_from_fd_at_offset64(r->length, r->fd, r->offset);
        if (mr)
            r->fd = -1; /* MHD closes it */
    } else if (r->buf) {
        mr = MHD_create_response_from_buffer(r->len, r->buf, MHD_RESPMEM_MUST_FREE);
        if (mr)
            r->buf = NULL;
    } else {
        mr = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    if (!mr) {
        SP_ERROR("%s: cannot create a response for %s %s (out of memory?)", s->name,
                 rc->req.method, rc->req.path);
        response_free(r);
        return MHD_NO;
    }
    if (r->content_type[0])
        MHD_add_response_header(mr, "Content-Type", r->content_type);
    for (size_t i = 0; i < r->n_headers; i++)
        MHD_add_response_header(mr, r->names[i], r->values[i]);
    if (atomic_load(&s->stopping))
        MHD_add_response_header(mr, "Connection", "close");
    unsigned status = r->status;
    enum MHD_Result ok = MHD_queue_response(conn, status, mr);
    rc->answered = true;
    MHD_destroy_response(mr);
    response_free(r);
    response_init(r);
    count_response(s, status);
    SP_TRACE("%s: %s %s from %s -> %u", s->name, rc->req.method, rc->req.path, rc->peer, status);
    return ok;
}

static void set_timeout(sp_http_server *s, struct MHD_Connection *conn, bool receiving)
{
    unsigned t = s->opts.idle_timeout_s;
    if (receiving && t > RECEIVE_TIMEOUT_S)
        t = RECEIVE_TIMEOUT_S;
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, t);
}

/* The request is in (or answered before its body came): it is in flight until answered,
 * and shutdown waits for it; a request still arriving is not waited for. */
static void request_received(sp_http_server *s, struct MHD_Connection *conn, req_ctx *rc)
{
    if (rc->counted)
        return;
    rc->counted = true;
    atomic_fetch_add(&s->inflight, 1);
    set_timeout(s, conn, false);
}

static void set_pending_text(req_ctx *rc, unsigned status, const char *msg)
{
    response_free(&rc->pending);
    response_init(&rc->pending);
    sp_http_respond_text(&rc->pending, status, "%s", msg);
    rc->have_pending = true;
}

/* First call: headers are in, no body yet. */
static enum MHD_Result on_headers(sp_http_server *s, struct MHD_Connection *conn, req_ctx *rc)
{
    bool path_known;
    char allow[128];
    rc->route = route_find(s, rc->req.path, rc->req.method, &path_known, allow, sizeof allow);
    if (!rc->route) {
        if (path_known) {
            set_pending_text(rc, 405, "method not allowed for this path");
            sp_http_respond_header(&rc->pending, "Allow", allow);
        } else {
            set_pending_text(rc, 404, "no such path");
        }
    } else {
        const sp_http_route *r = rc->route;
        if (r->flags & SP_HTTP_PREFIX)
            rc->req.rest = rc->req.path + strlen(r->path);
        rc->limit = r->max_body ? r->max_body : s->opts.max_body;
        if (rc->req.content_length > rc->limit) {
            rc->oversize = true;
            if (!(r->flags & SP_HTTP_OVERSIZE)) {
                char msg[160];
                snprintf(msg, sizeof msg, "request body of %llu bytes exceeds the limit of %zu bytes",
                         (unsigned long long)rc->req.content_length, rc->limit);
                set_pending_text(rc, 413, msg);
            }
        }
        if (!rc->have_pending && r->precheck) {
            response_init(&rc->pending);
            if (!r->precheck(r->ctx, &rc->req, &rc->pending)) {
                rc->have_pending = true;
                rc->oversize = false;
            } else {
                response_free(&rc->pending);
                response_init(&rc->pending);
            }
        }
    }
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
    bool body_waits = expect && strcasecmp(expect, "100-continue") == 0;
    if (rc->req.content_length <= s->opts.drain_limit && !body_waits)
        return MHD_YES;
    /* Too much to drain, or the client waits for "100 Continue" before sending the body:
     * answer now; MHD then closes the connection rather than read a body. */
    if (rc->have_pending) {
        request_received(s, conn, rc);
        return queue(s, conn, rc, &rc->pending);
    }
    if (rc->oversize) {
        request_received(s, conn, rc);
        sp_http_response resp;
        response_init(&resp);
        rc->req.body_too_large = true;
        rc->route->handler(rc->route->ctx, &rc->req, &resp);
        return queue(s, conn, rc, &resp);
    }
    return MHD_YES;
}

static enum MHD_Result on_body(sp_http_server *s, req_ctx *rc, const char *data, size_t n)
{
    if (rc->have_pending || rc->oversize) {
        rc->dropped += n;
        /* Only a chunked upload gets here with more than drain_limit: cut it off. */
        return rc->dropped > s->opts.drain_limit ? MHD_NO : MHD_YES;
    }
    if (rc->len + n > rc->limit) {
        rc->oversize = true;
        rc->dropped = rc->len + n;
        free(rc->body);
        rc->body = NULL;
        rc->len = rc->cap = 0;
        if (!(rc->route->flags & SP_HTTP_OVERSIZE)) {
            char msg[160];
            snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes", rc->limit);
            set_pending_text(rc, 413, msg);
        }
        return MHD_YES;
    }
    if (rc->len + n + 1 > rc->cap) {
        size_t cap = rc->cap ? rc->cap : 4096;
        while (cap < rc->len + n + 1)
            cap *= 2;
        if (cap > rc->limit + 1)
            cap = rc->limit + 1;
        char *b = realloc(rc->body, cap);
        if (!b) {
            SP_ERROR("%s: out of memory buffering a %zu-byte body from %s", s->name, rc->len + n,
                     rc->peer);
            return MHD_NO;
        }
        rc->body = b;
        rc->cap = cap;
    }
    memcpy(rc->body + rc->len, data, n);
    rc->len += n;
    rc->body[rc->len] = 0;
    return MHD_YES;
}

static enum MHD_Result on_complete_request(sp_http_server *s, struct MHD_Connection *conn,
                                           req_ctx *rc)
{
    request_received(s, conn, rc);
    if (rc->have_pending)
        return queue(s, conn, rc, &rc->pending);
    sp_http_response resp;
    response_init(&resp);
    if (rc->oversize) {
        rc->req.body_too_large = true;
        rc->req.body = "";
        rc->req.body_len = 0;
    } else {
        rc->req.body = rc->body ? rc->body : "";
        rc->req.body_len = rc->len;
    }
    rc->route->handler(rc->route->ctx, &rc->req, &resp);
    return queue(s, conn, rc, &resp);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    sp_http_server *s = cls;
    req_ctx *rc = *con_cls;
    if (!rc) {
        rc = calloc(1, sizeof *rc);
        if (!rc)
            return MHD_NO;
        response_init(&rc->pending);
        *con_cls = rc;
        set_timeout(s, conn, true);
        format_peer(conn, rc->peer, sizeof rc->peer);
        rc->req.method = method;
        rc->req.path = url;
        rc->req.rest = "";
        rc->req.body = "";
        rc->req.peer = rc->peer;
        rc->req.conn_ = conn;
        rc->req.content_length =
            parse_content_length(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length"));
        return on_headers(s, conn, rc);
    }
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if (rc->answered)
        return MHD_YES;
    if (n)
        return on_body(s, rc, upload_data, n);
    return on_complete_request(s, conn, rc);
}

static void request_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    sp_http_server *s = cls;
    req_ctx *rc = *con_cls;
    if (!rc)
        return;
    *con_cls = NULL;
    response_free(&rc->pending);
    free(rc->body);
    if (rc->counted)
        atomic_fetch_sub(&s->inflight, 1);
    free(rc);
}

/* libmicrohttpd's own decoding turns %00 into a NUL, which silently cuts the path short
 * ("/pieces/<cid>%00.cfg" would reach the handler as "/pieces/<cid>").  A path holding
 * one is left undecoded: its '%' makes every handler's name check refuse it. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    for (const char *p = strchr(s, '%'); p; p = strchr(p + 1, '%'))
        if (p[1] == '0' && p[2] == '0')
            return strlen(s);
    return MHD_http_unescape(s);
}

static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_ctx,
                             enum MHD_ConnectionNotificationCode toe)
{
    (void)socket_ctx;
    sp_http_server *s = cls;
    int n = toe == MHD_CONNECTION_NOTIFY_STARTED ? atomic_fetch_add(&s->connections, 1) + 1
                                                 : atomic_fetch_sub(&s->connections, 1) - 1;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        set_timeout(s, conn, true); /* its first request */
    if (s->m_connections)
        sp_metric_set(s->m_connections, NULL, n);
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    sp_http_server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = 0;
    /* Most messages describe one client's misbehaviour (closed early, bad request) and
     * would flood the log under load; those about the server's own resources matter. */
    static const char *const serious[] = { "limit", "resource", "memory", "epoll", "thread",
                                           "Fatal", "Internal", "accept", "listen" };
    for (size_t i = 0; i < sizeof serious / sizeof serious[0]; i++)
        if (strstr(msg, serious[i])) {
            SP_WARN("%s: libmicrohttpd: %s", s->name, msg);
            return;
        }
    SP_DEBUG("%s: libmicrohttpd: %s", s->name, msg);
}

/* ---- lifecycle --------------------------------------------------------------------- */

sp_code sp_http_server_new(const sp_http_server_opts *opts, sp_http_server **out, sp_err *err)
{
    *out = NULL;
    if (!opts || !opts->listen)
        return sp_fail(err, SP_EINVAL, "http server: no listen address given (HOST:PORT)");
    sp_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return sp_fail(err, SP_ENOMEM, "http server: out of memory");
    s->opts = *opts;
    snprintf(s->name, sizeof s->name, "%s", opts->name ? opts->name : "http");
    if (!s->opts.threads)
        s->opts.threads = 4;
    if (!s->opts.max_connections)
        s->opts.max_connections = 4096;
    if (!s->opts.idle_timeout_s)
        s->opts.idle_timeout_s = 60;
    if (!s->opts.max_body)
        s->opts.max_body = 1 << 20;
    if (!s->opts.drain_limit)
        s->opts.drain_limit = 8 << 20;
    s->listen_fd = -1;
    sp_code rc = SP_OK;
    if (opts->metrics) {
        if ((rc = sp_metrics_gauge(opts->metrics, "sealpipe_http_connections",
                                   "Open HTTP connections.", NULL, &s->m_connections, err)) ||
            (rc = sp_metrics_counter(opts->metrics, "sealpipe_http_responses_total",
                                     "HTTP responses by status code.", "code", &s->m_responses,
                                     err))) {
            free(s);
            return rc;
        }
    }
    *out = s;
    return SP_OK;
}

/* Splits "host:port", "[v6]:port" or ":port". */
static sp_code split_listen(const char *listen, char *host, size_t host_size, char *port,
                            size_t port_size, sp_err *err)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *close_br = strchr(listen, ']');
        if (!close_br || close_br[1] != ':')
            goto bad;
        snprintf(host, host_size, "%.*s", (int)(close_br - listen - 1), listen + 1);
        colon = close_br + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            goto bad;
        snprintf(host, host_size, "%.*s", (int)(colon - listen), listen);
        if (!host[0])
            snprintf(host, host_size, "0.0.0.0");
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p) || atoi(p) > 65535)
        goto bad;
    snprintf(port, port_size, "%s", p);
    return SP_OK;
bad:
    return sp_fail(err, SP_EINVAL,
                   "listen address \"%s\" is not HOST:PORT (e.g. 127.0.0.1:1789, [::1]:1789, :1789)",
                   listen);
}

static sp_code open_listener(sp_http_server *s, sp_err *err)
{
    char host[64], port[8];
    sp_code rc = split_listen(s->opts.listen, host, sizeof host, port, sizeof port, err);
    if (rc)
        return rc;
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0)
        return sp_fail(err, SP_EINVAL, "listen address %s: %s", s->opts.listen, gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return sp_fail_errno(err, e, "cannot listen on %s%s", s->opts.listen,
                             e == EADDRINUSE ? " (another process uses the port; pick another "
                                               "or stop it)" : "");
    }
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char name[INET6_ADDRSTRLEN] = "?";
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        s->port = ntohs(in6->sin6_port);
        inet_ntop(AF_INET6, &in6->sin6_addr, name, sizeof name);
        snprintf(s->address, sizeof s->address, "[%s]:%u", name, s->port);
    } else {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        s->port = ntohs(in->sin_port);
        inet_ntop(AF_INET, &in->sin_addr, name, sizeof name);
        snprintf(s->address, sizeof s->address, "%s:%u", name, s->port);
    }
    s->listen_fd = fd;
    return SP_OK;
}

/* Every connection is a descriptor: lift the soft open-file limit toward the hard one so
 * max_connections can actually be reached (systemd units set LimitNOFILE for the rest). */
static void ensure_fd_limit(sp_http_server *s)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)s->opts.max_connections + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur >= want) {
        SP_INFO("%s: raised the open-file limit from %llu to %llu for %u connections", s->name,
                (unsigned long long)old, (unsigned long long)rl.rlim_cur, s->opts.max_connections);
        return;
    }
    SP_WARN("%s: the open-file limit (%llu) is below max_connections %u; connections beyond it "
            "will be refused (raise LimitNOFILE)", s->name, (unsigned long long)rl.rlim_cur,
            s->opts.max_connections);
}

sp_code sp_http_server_start(sp_http_server *s, sp_err *err)
{
    if (s->daemon)
        return sp_fail(err, SP_ESTATE, "%s: already started", s->name);
    sp_code rc = open_listener(s, err);
    if (rc)
        return rc;
    ensure_fd_limit(s);
    /* sendfile(2) can raise SIGPIPE; MHD only uses it when told the process ignores it. */
    struct sigaction sa;
    bool sigpipe_ignored = sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
    atomic_store(&s->stopping, false);
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    /* A pool only for 2+ threads: MHD warns about a pool size of 0 or 1. */
    struct MHD_OptionItem pool[2] = { { MHD_OPTION_END, 0, NULL }, { MHD_OPTION_END, 0, NULL } };
    if (s->opts.threads > 1)
        pool[0] = (struct MHD_OptionItem){ MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)s->opts.threads, NULL };
    s->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, access_handler, s,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, /* first, so every message comes here */
        MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->listen_fd,
        MHD_OPTION_ARRAY, pool,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->opts.max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->opts.idle_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, request_done, s,
        MHD_OPTION_NOTIFY_CONNECTION, connection_event, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)sigpipe_ignored,
        MHD_OPTION_END);
    if (!s->daemon) {
        close(s->listen_fd);
        s->listen_fd = -1;
        return sp_fail(err, SP_EIO, "%s: libmicrohttpd could not start on %s (see the log above)",
                       s->name, s->address);
    }
    SP_INFO("%s: listening on %s", s->name, s->address);
    return SP_OK;
}

uint16_t sp_http_server_port(const sp_http_server *s) { return s->port; }
const char *sp_http_server_address(const sp_http_server *s) { return s->address; }
unsigned sp_http_server_inflight(const sp_http_server *s) { return atomic_load(&s->inflight); }

void sp_http_server_stop(sp_http_server *s, unsigned drain_ms)
{
    if (!s || !s->daemon)
        return;
    atomic_store(&s->stopping, true);
    MHD_socket quiesced = MHD_quiesce_daemon(s->daemon);
    struct timespec start, now, nap = { 0, 5 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        unsigned left = atomic_load(&s->inflight);
        if (left == 0)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long ms = (now.tv_sec - start.tv_sec) * 1000LL + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (ms >= drain_ms) {
            if (drain_ms)
                SP_WARN("%s: %u requests still in flight after %u ms; closing them", s->name,
                        left, drain_ms);
            break;
        }
        nanosleep(&nap, NULL);
    }
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    /* A quiesced listener is ours to close; otherwise MHD closed it. */
    if (quiesced != MHD_INVALID_SOCKET)
        close(quiesced);
    s->listen_fd = -1;
    SP_INFO("%s: stopped listening on %s", s->name, s->address);
}

void sp_http_server_free(sp_http_server *s)
{
    if (!s)
        return;
    sp_http_server_stop(s, 0);
    free(s);
}
