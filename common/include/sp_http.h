/* sp_http.h — HTTP server (libmicrohttpd), byte-range parsing, and HTTP downloads (libcurl).
 *
 * Server: sp_http_server_new(), add routes, sp_http_server_start(), ...,
 * sp_http_server_stop().  It listens on "HOST:PORT" (port 0 picks a free port; ask
 * sp_http_server_port()), serves with a small pool of epoll threads (idle connections cost
 * a socket, never a thread), caps connections, closes idle ones, and bounds request bodies.
 * Handlers run on the pool threads, several at once: they must be thread-safe and quick
 * (a handler that blocks stalls the other connections of its thread).
 *
 * Requests: a route matches an exact path, or a prefix (SP_HTTP_PREFIX; req->rest is what
 * follows it), and a method (HEAD reaches GET routes; the body is then left out).  Paths
 * arrive percent-decoded and unvalidated: a handler that maps them to files must reject
 * "..", absolute paths and odd bytes itself.  A body over the route's limit never reaches
 * a handler: the server answers 413, unless the route sets SP_HTTP_OVERSIZE, in which case
 * the handler is called with body_too_large set and no body (to answer in its own format).
 * A route's precheck runs when the headers have arrived, before any body is read (e.g. to
 * reject a bad token without buffering the body); a rejected or oversize request's body
 * is read and dropped up to drain_limit so the connection stays usable, and beyond that the
 * connection is closed after the answer.
 *
 * Responses: a handler fills the response with one sp_http_respond_* call (a later call
 * replaces an earlier one) plus any sp_http_respond_header() calls.  A handler that sets
 * nothing yields a 500.  sp_http_respond_file() serves a byte range of an open file
 * straight from the descriptor (sendfile(2) when the process ignores SIGPIPE, which
 * daemons should do), handling Range, 206 Partial Content, Content-Range and 416.
 *
 * Shutdown: sp_http_server_stop() stops accepting, lets in-flight requests finish (up to
 * a deadline; responses sent meanwhile close their connection), then returns.
 */
#ifndef SP_HTTP_H
#define SP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "sp_metrics.h"

typedef struct sp_http_server sp_http_server;
typedef struct sp_http_response sp_http_response;

typedef struct sp_http_request {
    const char *method;      /* "GET", "POST", ... */
    const char *path;        /* percent-decoded path, without the query string */
    const char *rest;        /* prefix routes: the path after the prefix; else "" */
    const char *body;        /* the body, NUL-terminated ("" when there is none) */
    size_t body_len;
    bool body_too_large;     /* SP_HTTP_OVERSIZE routes only: the body was dropped */
    uint64_t content_length; /* declared Content-Length, 0 when absent */
    const char *peer;        /* client address, "127.0.0.1:50312" */
    uint64_t tag;            /* set by the route's precheck, read by its handler */
    void *conn_;             /* private */
} sp_http_request;

/* Fills resp; runs on a server thread. */
typedef void (*sp_http_handler)(void *ctx, sp_http_request *req, sp_http_response *resp);
/* Sees the headers only (body is NULL).  Returns false to reject: resp must then be filled
 * and is sent without reading the body.  May set req->tag for the handler. */
typedef bool (*sp_http_precheck)(void *ctx, sp_http_request *req, sp_http_response *resp);

#define SP_HTTP_PREFIX   (1u << 0) /* path is a prefix ("/pieces/") */
#define SP_HTTP_OVERSIZE (1u << 1) /* the handler answers oversize bodies itself */

typedef struct sp_http_route {
    const char *method;        /* "GET", "POST", ...; NULL matches any method */
    const char *path;          /* exact path, or prefix with SP_HTTP_PREFIX */
    unsigned flags;
    size_t max_body;           /* 0: the server's max_body */
    sp_http_handler handler;
    sp_http_precheck precheck; /* optional */
    void *ctx;
} sp_http_route;

typedef struct sp_http_server_opts {
    const char *listen;        /* "127.0.0.1:1789", "0.0.0.0:0", "[::1]:80", ":1789" */
    const char *name;          /* log prefix; default "http" */
    unsigned threads;          /* polling threads; default 4 */
    unsigned max_connections;  /* default 4096, split evenly over the threads; beyond it
                                  new clients wait in the listen backlog */
    unsigned idle_timeout_s;   /* close connections idle this long; default 60 */
    size_t max_body;           /* default 1 MiB */
    size_t drain_limit;        /* read and drop up to this much of a refused body; 8 MiB */
    sp_metrics *metrics;       /* optional: sealpipe_http_* connection and status metrics */
} sp_http_server_opts;

sp_code sp_http_server_new(const sp_http_server_opts *opts, sp_http_server **out, sp_err *err);
/* Routes are added before start; the route (not its strings, which must outlive the
 * server) is copied.  An exact path wins over prefixes; the longest prefix wins. */
sp_code sp_http_server_add_route(sp_http_server *s, const sp_http_route *route, sp_err *err);
/* Binds, listens and starts the threads.  Fails with a message naming the address. */
sp_code sp_http_server_start(sp_http_server *s, sp_err *err);
/* The bound port and "host:port" address (valid after start). */
uint16_t sp_http_server_port(const sp_http_server *s);
const char *sp_http_server_address(const sp_http_server *s);
/* Stops accepting, waits up to drain_ms for in-flight requests, then stops the threads
 * and closes every connection.  Safe to call twice. */
void sp_http_server_stop(sp_http_server *s, unsigned drain_ms);
/* Stops (drain 0) if running and frees. */
void sp_http_server_free(sp_http_server *s);
/* Requests being handled or answered right now (for tests and shutdown logs). */
unsigned sp_http_server_inflight(const sp_http_server *s);

/* ---- request accessors: NULL when absent; names are case-insensitive for headers ---- */
const char *sp_http_header(const sp_http_request *req, const char *name);
const char *sp_http_query(const sp_http_request *req, const char *name);
/* The token of "Authorization: Bearer <token>", or NULL (absent or another scheme). */
const char *sp_http_bearer(const sp_http_request *req);

/* ---- responses: SP_ENOMEM/SP_EINVAL on failure, and the client then gets a 500 ---- */
sp_code sp_http_respond_text(sp_http_response *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
sp_code sp_http_respond_json(sp_http_response *r, unsigned status, const cJSON *body);
/* Takes data (malloc'd; freed by the server). */
sp_code sp_http_respond_data(sp_http_response *r, unsigned status, const char *content_type,
                             void *data, size_t len);
sp_code sp_http_respond_copy(sp_http_response *r, unsigned status, const char *content_type,
                             const void *data, size_t len);
/* Serves the file open at fd (size bytes), honouring the request's Range header: 200 with
 * the whole file, 206 with one range, 416 with "Content-Range: bytes * /size", 400 for a
 * malformed or multi-range header.  Takes fd (closed by the server in every case). */
sp_code sp_http_respond_file(sp_http_response *r, const sp_http_request *req, int fd,
                             uint64_t size, const char *content_type);
/* Adds a header; names and values with CR, LF or NUL are refused. */
sp_code sp_http_respond_header(sp_http_response *r, const char *name, const char *value);
/* An sp_http_handler serving an sp_metrics registry (ctx) as Prometheus text. */
void sp_http_metrics_handler(void *ctx, sp_http_request *req, sp_http_response *resp);

/* ---- Range ---- */
typedef struct sp_http_range {
    uint64_t start;
    uint64_t length; /* bytes [start, start+length) */
} sp_http_range;

/* Parses a Range header for an entity of size bytes.  Returns the HTTP status to answer:
 *   200  header is NULL: the whole entity (*out = {0, size})
 *   206  one satisfiable range "bytes=a-b", "bytes=a-" or "bytes=-n" (clamped to the end)
 *   416  well-formed but unsatisfiable (start at or past the end, "bytes=-0", size 0)
 *   400  anything else: other units, bad syntax, first > last, several ranges
 * err (optional) says why for 400/416. */
unsigned sp_http_parse_range(const char *header, uint64_t size, sp_http_range *out, sp_err *err);

/* ---- client ---- */

/* Initialises libcurl once per process (pthread_once); clients call it themselves. */
sp_code sp_http_global_init(sp_err *err);

typedef struct sp_http_get_opts {
    const char *token;            /* bearer token, or NULL */
    bool range;                   /* request bytes [offset, offset+length) */
    uint64_t offset, length;
    uint64_t max_bytes;           /* without range: refuse larger bodies; 0 = no limit */
    unsigned connect_timeout_ms;  /* default 5000 */
    unsigned timeout_ms;          /* whole transfer; 0 = none (default) */
    unsigned stall_timeout_s;     /* abort when under 1 KiB/s this long; default 60 */
    unsigned retries;             /* extra tries on connection errors before any byte */
} sp_http_get_opts;

typedef struct sp_http_get_result {
    unsigned status;          /* HTTP status, 0 when no answer */
    uint64_t bytes;           /* bytes written to fd */
    unsigned retry_after_s;   /* from a 503/429 answer's Retry-After */
} sp_http_get_result;

/* GETs url into fd (written at its current position).  Requires 200 (or 206 with the
 * exact range asked for) and exactly the announced length.  Errors: SP_ENET (no answer),
 * SP_ETIMEOUT, SP_EAUTH (401/403), SP_ENOTFOUND (404), SP_EINVAL (416), SP_EBUSY (503/429,
 * see retry_after_s), SP_EIO (other statuses, short bodies, fd write errors). */
sp_code sp_http_get_to_fd(const char *url, const sp_http_get_opts *opts, int fd,
                          sp_http_get_result *res, sp_err *err);

#endif
