/* sp_jsonrpc.h — JSON-RPC 2.0 over HTTP: a server (method table, bearer tokens with
 * scopes, limits, batches, notifications, metrics) mounted on an sp_http_server, and a
 * thread-safe client on libcurl.
 *
 * Server.  Each method names the scope bits a caller needs (0: callable without a token).
 * The auth hook maps a bearer token to the scopes it grants, or rejects it; it runs when
 * the headers arrive, so a request with a bad token is refused (HTTP 401, code
 * SP_RPC_UNAUTHORIZED) before its body is read or parsed.  Failed authentications are
 * logged with the peer and the hook's reason, never the token.  Bodies over max_body get
 * HTTP 413 and SP_RPC_INVALID_REQUEST; JSON nested deeper than max_depth is refused before
 * cJSON sees it.  A request without "id" is a notification: it runs but gets no answer
 * (a body of notifications only gets HTTP 204).  Batches are answered as arrays.
 *
 * Handlers run concurrently on the HTTP server's threads.  A handler returns SP_OK and
 * sets *result (NULL answers null), or returns an error code with err filled; the code
 * picks the JSON-RPC error code (sp_rpc_code_from_sp(): SP_EINVAL -> -32602 invalid
 * params, SP_ENOTFOUND -> SP_RPC_NOT_FOUND, SP_EIO/SP_ENOMEM/SP_EINTERNAL -> -32603, which
 * is logged, ...) and err->msg is the message.  A handler may set call->error_code to any
 * code outside -32768..-32000 for errors of its own, and call->error_data for the error's
 * "data" member.
 *
 * Metrics (when a registry is given): sealpipe_rpc_requests_total{method},
 * sealpipe_rpc_errors_total{method,code}, sealpipe_rpc_request_duration_seconds{method}
 * (histogram) and sealpipe_rpc_auth_failures_total.  Unknown method names are counted as
 * "(unknown)" so hostile input cannot add label values.
 *
 * Client.  sp_rpc_client_call() sends one request and returns the result, or SP_ERPC with
 * the remote code (*rpc_code) and message, SP_EAUTH for HTTP 401, SP_ENET when no answer
 * came, SP_ETIMEOUT when the answer did not come in time.  Connection failures (refused,
 * reset, connect timeout: the request cannot have been processed, or at most was cut off
 * before any answer) are retried with exponential backoff; HTTP and JSON-RPC errors never
 * are.  One client may be shared by any number of threads; connections are kept alive
 * and reused.
 */
#ifndef SP_JSONRPC_H
#define SP_JSONRPC_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sp_err.h"
#include "sp_http.h"
#include "sp_metrics.h"

/* Standard codes (JSON-RPC 2.0 section 5.1). */
#define SP_RPC_PARSE_ERROR      (-32700)
#define SP_RPC_INVALID_REQUEST  (-32600)
#define SP_RPC_METHOD_NOT_FOUND (-32601)
#define SP_RPC_INVALID_PARAMS   (-32602)
#define SP_RPC_INTERNAL_ERROR   (-32603)
/* Application codes, stable on the wire. */
#define SP_RPC_UNAUTHORIZED     (-32001) /* no token, or a token the auth hook rejected */
#define SP_RPC_FORBIDDEN        (-32002) /* valid token without the method's scope */
#define SP_RPC_NOT_FOUND        (-32003)
#define SP_RPC_EXISTS           (-32004)
#define SP_RPC_STATE            (-32005) /* not allowed in the current state */
#define SP_RPC_BUSY             (-32006) /* try again later */
#define SP_RPC_NO_SPACE         (-32007)
#define SP_RPC_PROOF            (-32008)
#define SP_RPC_CORRUPT          (-32009)
#define SP_RPC_TIMEOUT          (-32010)
#define SP_RPC_UPSTREAM         (-32011) /* a service the handler called failed */

/* The JSON-RPC code for an sp_code, and back (codes it does not know map to SP_ERPC). */
int sp_rpc_code_from_sp(sp_code code);
sp_code sp_rpc_code_to_sp(int rpc_code);

/* ---- server ---- */

typedef struct sp_rpc_server sp_rpc_server;

typedef struct sp_rpc_call {
    const char *method;
    const cJSON *params; /* array or object; NULL when the request had none */
    uint32_t scopes;     /* granted to the caller (0: no token) */
    const char *peer;    /* "127.0.0.1:50312", for logs */
    void *ctx;           /* sp_rpc_server_opts.ctx */
    int error_code;      /* optional: JSON-RPC code for the handler's error */
    cJSON *error_data;   /* optional: "data" of the handler's error (the server frees it) */
} sp_rpc_call;

typedef sp_code (*sp_rpc_handler)(sp_rpc_call *call, cJSON **result, sp_err *err);

/* Returns SP_OK with *scopes set, or an error whose message (without the token) says why
 * the token was refused (expired, bad signature, ...). */
typedef sp_code (*sp_rpc_auth_fn)(void *ctx, const char *token, uint32_t *scopes, sp_err *err);

typedef struct sp_rpc_method {
    const char *name;        /* must outlive the server (a literal) */
    sp_rpc_handler handler;
    uint32_t scope;          /* scope bits required (any one of them suffices); 0: public */
} sp_rpc_method;

typedef struct sp_rpc_server_opts {
    const char *path;                /* default "/rpc/v0" */
    const char *name;                /* log prefix; default "rpc" */
    size_t max_body;                 /* default 1 MiB */
    unsigned max_depth;              /* default SP_JSON_DEFAULT_DEPTH (64) */
    unsigned max_batch;              /* default 100 requests */
    sp_rpc_auth_fn auth;             /* NULL: no tokens, every caller has every scope */
    void *auth_ctx;
    const char *const *scope_names;  /* optional, NULL-terminated: name of bit i, for messages */
    sp_metrics *metrics;             /* optional */
    void *ctx;                       /* passed to handlers */
} sp_rpc_server_opts;

/* The method table is copied (names are not). Duplicate names are an error. */
sp_code sp_rpc_server_new(const sp_rpc_server_opts *opts, const sp_rpc_method *methods,
                          size_t n_methods, sp_rpc_server **out, sp_err *err);
/* Adds the POST route for opts.path to an HTTP server that has not started yet. */
sp_code sp_rpc_server_mount(sp_rpc_server *rpc, sp_http_server *http, sp_err *err);
void sp_rpc_server_free(sp_rpc_server *rpc);

/* Handles one request body exactly as the HTTP route would, without HTTP (for fuzzing and
 * in-process callers).  token may be NULL.  *out is malloc'd ("" when nothing is to be
 * sent) and *http_status is what the route answers (200, 204, 401, 413). */
sp_code sp_rpc_server_handle(sp_rpc_server *rpc, const char *token, const char *body, size_t len,
                             char **out, size_t *out_len, unsigned *http_status);

/* ---- client ---- */

typedef struct sp_rpc_client sp_rpc_client;

typedef struct sp_rpc_client_opts {
    const char *url;              /* "http://127.0.0.1:1789/rpc/v0" */
    const char *token;            /* bearer token, or NULL */
    unsigned timeout_ms;          /* per attempt; default 30000 */
    unsigned connect_timeout_ms;  /* default 3000 */
    unsigned retries;             /* extra tries on connection failures; 0 = none */
    unsigned backoff_ms;          /* first retry delay, doubling; default 100 */
    unsigned backoff_max_ms;      /* default 5000 */
    size_t max_response;          /* default 64 MiB */
} sp_rpc_client_opts;

sp_code sp_rpc_client_new(const sp_rpc_client_opts *opts, sp_rpc_client **out, sp_err *err);
void sp_rpc_client_free(sp_rpc_client *c);

/* Calls method with params (array or object, borrowed; NULL sends []).  On SP_OK *result
 * is the result (never NULL: a JSON null result is a cJSON null; free with cJSON_Delete).
 * rpc_code (optional) gets the remote JSON-RPC code on SP_ERPC/SP_EAUTH, else 0. */
sp_code sp_rpc_client_call(sp_rpc_client *c, const char *method, const cJSON *params,
                           cJSON **result, int *rpc_code, sp_err *err);
/* Sends a notification (no id, no answer expected). */
sp_code sp_rpc_client_notify(sp_rpc_client *c, const char *method, const cJSON *params,
                             sp_err *err);

/* Attempts made by the client since it was created, including retries (for tests). */
uint64_t sp_rpc_client_attempts(const sp_rpc_client *c);

#endif
