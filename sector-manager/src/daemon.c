/* daemon.c — `sector-manager run`: opens the home, serves the API until SIGTERM/SIGINT,
 * reloads manager.cfg on SIGHUP, and shuts down cleanly (in-flight requests finish, the
 * database is closed and marked clean).
 *
 * Signals are blocked in every thread and taken synchronously by the main thread
 * (sigtimedwait), which also runs the periodic work between signals: landing due
 * precommits and proofs, checkpointing the WAL, and the systemd watchdog.  SIGPIPE is
 * ignored so a client that goes away never kills the daemon (and libmicrohttpd may use
 * sendfile for piece downloads).  Readiness, reloads and stopping are reported to systemd
 * (sd_notify; a no-op without NOTIFY_SOCKET).
 *
 * The storage service (sm_storage.h: heartbeats, indexing, replicas, moves, scrub, GC,
 * caches) starts before the HTTP server, whose /ipfs and /piece routes use it, and stops
 * after it; a copy it was making stays in its journal and resumes at the next start.
 */
#include "sm_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "sm_commits.h"
#include "sm_conf.h"
#include "sm_core.h"
#include "sm_home.h"
#include "sm_metrics.h"
#include "sm_pieces.h"
#include "sm_retrieval.h"
#include "sm_rpc.h"
#include "sm_sectors.h"
#include "sm_storage.h"
#include "sm_stores.h"
#include "sm_tokens.h"
#include "sp_fs.h"
#include "sp_http.h"
#include "sp_jsonrpc.h"
#include "sp_log.h"

#define TICK_MS 200
#define CHECKPOINT_MS 200 /* a short WAL keeps page lookups cheap */
#define DRAIN_MS 10000

typedef struct daemon_ctx {
    sm_home home;
    char cfg_path[PATH_MAX + 16];
    int lock_fd;
    bool log_from_env;
    sm_db *db;
    sp_metrics *metrics;
    sm_core core;
    bool core_ok;
    sm_metrics_set mset;
    sp_http_server *http;
    sp_rpc_server *rpc;
    sp_rpc_method *methods;
    sm_storage *storage;
    sm_retrieval *retrieval;   /* the /ipfs and /piece routes' state (read-ahead thread) */
} daemon_ctx;

/* ---- meta flags --------------------------------------------------------------------------- */

static const char SQL_META_GET[] = "SELECT value FROM meta WHERE key = ?1";
static const char SQL_META_SET[] =
    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2";

static sp_code meta_set(sm_db *db, const char *key, const char *value, sp_err *err)
{
    sp_code rc = sm_db_begin(db, SM_TX_DURABLE, err);
    if (rc)
        return rc;
    sm_stmt *s;
    if ((rc = sm_db_stmt(db, SQL_META_SET, &s, err)))
        goto fail;
    sm_bind_text(s, 1, key);
    sm_bind_text(s, 2, value);
    if ((rc = sm_step_done(s, err)))
        goto fail;
    return sm_db_commit(db, err);
fail:
    sm_db_rollback(db);
    return rc;
}

/* "" when the key is absent. */
static sp_code meta_get(sm_db *db, const char *key, char *out, size_t len, sp_err *err)
{
    out[0] = 0;
    sm_stmt *s;
    sp_code rc = sm_db_stmt(db, SQL_META_GET, &s, err);
    if (rc)
        return rc;
    sm_bind_text(s, 1, key);
    int r = sm_step(s, err);
    if (r == 1)
        snprintf(out, len, "%s", sm_col_text(s, 0) ? sm_col_text(s, 0) : "");
    sm_stmt_reset(s);
    return r < 0 ? (err && err->code ? err->code : SP_EIO) : SP_OK;
}

/* ---- HTTP routes besides the RPC ---------------------------------------------------------------- */

static void health_handler(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    (void)ctx;
    (void)req;
    sp_http_respond_text(resp, 200, "ok\n");
}

/* A worker or admin token is needed before the body (none) is read. */
static bool pieces_precheck(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    sm_core *c = ctx;
    const char *token = sp_http_bearer(req);
    if (!token) {
        SP_WARN("pieces: refused %s from %s: no bearer token", req->path, req->peer);
        sp_http_respond_text(resp, 401, "a bearer token is required (Authorization: Bearer <token>)\n");
        sp_http_respond_header(resp, "WWW-Authenticate", "Bearer");
        return false;
    }
    uint32_t scopes = 0;
    sp_err err;
    if (sm_core_auth(c, token, &scopes, &err) != SP_OK) {
        SP_WARN("pieces: refused %s from %s: token refused: %s", req->path, req->peer, err.msg);
        sp_http_respond_text(resp, 401, "token refused: %s\n", err.msg);
        sp_http_respond_header(resp, "WWW-Authenticate", "Bearer");
        return false;
    }
    if (!(scopes & (SM_SCOPE_WORKER | SM_SCOPE_ADMIN))) {
        sp_http_respond_text(resp, 403, "the token has no worker or admin scope\n");
        return false;
    }
    req->tag = 1;
    return true;
}

static void pieces_handler(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    sm_core *c = ctx;
    sm_conf *conf = sm_core_conf(c);
    int fd = -1;
    uint64_t size = 0;
    sp_err err;
    sp_code rc = sm_pieces_open(c->db, conf->piece_dir, req->rest, &fd, &size, &err);
    sm_conf_unref(conf);
    if (rc == SP_OK) {
        sp_http_respond_file(resp, req, fd, size, "application/octet-stream");
        return;
    }
    unsigned status = rc == SP_EINVAL ? 400 : rc == SP_ENOTFOUND ? 404 : 500;
    if (status == 500)
        SP_ERROR("pieces: %s", err.msg);
    sp_http_respond_text(resp, status, "%s\n", err.msg);
}

/* ---- setup ------------------------------------------------------------------------------- */

static void apply_log_level(daemon_ctx *d, const sm_conf *conf)
{
    if (!d->log_from_env)
        sp_log_set_level((sp_log_level)conf->log_level);
}

/* Loads manager.cfg with every problem logged. */
static sp_code load_conf(daemon_ctx *d, sm_conf **out, sp_err *err)
{
    char *all = NULL;
    sp_code rc = sm_conf_load(d->cfg_path, out, &all, err);
    if (rc && all) {
        char *line = all;
        while (line && *line) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = 0;
            SP_ERROR("%s", line);
            line = nl ? nl + 1 : NULL;
        }
    }
    free(all);
    return rc;
}

/* Fills conf->chain from the database (re-basing the clock when the block time changed)
 * and declares the config's stores. */
static sp_code attach_conf(daemon_ctx *d, sm_conf *conf, sp_err *err)
{
    sp_code rc = sm_chain_load(d->db, &conf->chain_params, sp_wall_ms(), &conf->chain, err);
    if (rc)
        return rc;
    if ((rc = sm_stores_sync_config(d->db, conf->stores, conf->n_stores, err)))
        return rc;
    return sp_mkdir_p(conf->piece_dir, 0755, err);
}

static sp_code lock_home(daemon_ctx *d, sp_err *err)
{
    d->lock_fd = open(d->home.lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (d->lock_fd < 0)
        return sp_fail_errno(err, errno, "home %s: cannot open the lock file", d->home.dir);
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(d->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        return sp_fail(err, SP_EBUSY, "another sector-manager (pid %s) is running with home %s; "
                       "stop it first", pid[0] ? pid : "?", d->home.dir);
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (ftruncate(d->lock_fd, 0) != 0 || pwrite(d->lock_fd, buf, (size_t)n, 0) != n)
        return sp_fail_errno(err, errno, "home %s: writing the lock file", d->home.dir);
    return SP_OK;
}

static sp_code open_db(daemon_ctx *d, const sm_conf *conf, sp_err *err)
{
    sm_db_opts o = { .driver = conf->db_driver, .path = conf->db_path, .manual_checkpoint = true };
    sp_code rc = sm_db_open(&o, &d->db, err);
    if (rc)
        return rc;
    char clean[8];
    if ((rc = meta_get(d->db, "clean_shutdown", clean, sizeof clean, err)))
        return rc;
    if (strcmp(clean, "0") == 0) {
        /* The last run did not stop cleanly: numbers it handed out may be lost from the
         * database, so continue above every durable limit. */
        int moved = 0;
        if ((rc = sm_sectors_recover_numbers(d->db, &moved, err)))
            return rc;
        SP_WARN("the previous run did not shut down cleanly; sector numbers of %d miner(s) "
                "continue above their durable limit (numbers may be skipped, never reused)", moved);
    }
    return meta_set(d->db, "clean_shutdown", "0", err);
}

static sp_code start_server(daemon_ctx *d, const sm_conf *conf, sp_err *err)
{
    sp_http_server_opts ho = {
        .listen = conf->listen,
        .name = "http",
        .threads = conf->threads,
        .max_connections = conf->max_connections,
        .idle_timeout_s = conf->idle_timeout_s,
        .max_body = conf->max_body,
        .metrics = d->metrics,
    };
    sp_code rc = sp_http_server_new(&ho, &d->http, err);
    if (rc)
        return rc;
    size_t n = sm_rpc_worker_count + sm_rpc_admin_count + sm_rpc_storage_count;
    d->methods = calloc(n, sizeof *d->methods);
    if (!d->methods)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    memcpy(d->methods, sm_rpc_worker_methods, sm_rpc_worker_count * sizeof *d->methods);
    memcpy(d->methods + sm_rpc_worker_count, sm_rpc_admin_methods,
           sm_rpc_admin_count * sizeof *d->methods);
    memcpy(d->methods + sm_rpc_worker_count + sm_rpc_admin_count, sm_rpc_storage_methods,
           sm_rpc_storage_count * sizeof *d->methods);
    sp_rpc_server_opts ro = {
        .path = "/rpc/v0",
        .name = "rpc",
        .max_body = conf->max_body,
        .auth = sm_core_auth,
        .auth_ctx = &d->core,
        .scope_names = sm_scope_names,
        .metrics = d->metrics,
        .ctx = &d->core,
    };
    if ((rc = sp_rpc_server_new(&ro, d->methods, n, &d->rpc, err)) ||
        (rc = sp_rpc_server_mount(d->rpc, d->http, err)))
        return rc;
    sp_http_route routes[] = {
        { .method = "GET", .path = "/metrics", .handler = sp_http_metrics_handler, .ctx = d->metrics },
        { .method = "GET", .path = "/healthcheck", .handler = health_handler },
        { .method = "GET", .path = "/pieces/", .flags = SP_HTTP_PREFIX, .handler = pieces_handler,
          .precheck = pieces_precheck, .ctx = &d->core },
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if ((rc = sp_http_server_add_route(d->http, &routes[i], err)))
            return rc;
    if ((rc = sm_retrieval_start(d->storage, d->http, &d->retrieval, err)))
        return rc;
    if ((rc = sp_http_server_start(d->http, err)))
        return rc;
    return sm_home_write_api(&d->home, sp_http_server_address(d->http), err);
}

/* ---- run loop ------------------------------------------------------------------------------ */

static void reload(daemon_ctx *d)
{
    sd_notify(0, "RELOADING=1");
    sm_conf *next = NULL, *cur = sm_core_conf(&d->core);
    sp_err err;
    if (load_conf(d, &next, &err) != SP_OK) {
        SP_ERROR("reload: %s; keeping the running configuration", err.msg);
        goto out;
    }
    if (attach_conf(d, next, &err) != SP_OK) {
        SP_ERROR("reload: %s; keeping the running configuration", err.msg);
        sm_conf_unref(next);
        goto out;
    }
    if (strcmp(next->listen, cur->listen) || next->threads != cur->threads ||
        strcmp(next->db_path, cur->db_path) || next->max_body != cur->max_body)
        SP_WARN("reload: api.* and db.* changes take effect at the next restart");
    apply_log_level(d, next);
    sm_core_set_conf(&d->core, next);
    SP_INFO("reloaded %s: %zu miners, %zu config stores, block time %" PRIu64 " ms", d->cfg_path,
            next->n_miners, next->n_stores, next->chain_params.block_ms);
out:
    sm_conf_unref(cur);
    sd_notify(0, "READY=1");
}

static void tick(daemon_ctx *d, uint64_t *last_checkpoint)
{
    sp_err err;
    sm_conf *conf = sm_core_conf(&d->core);
    int settled = 0;
    if (sm_commits_settle(d->db, &conf->chain, sm_chain_head(&conf->chain), &settled, &err) != SP_OK)
        SP_ERROR("chain: landing due messages: %s", err.msg);
    else if (settled)
        SP_DEBUG("chain: %d precommit/prove-commit message(s) landed", settled);
    sm_conf_unref(conf);
    uint64_t now = sp_now_ms();
    if (now - *last_checkpoint >= CHECKPOINT_MS) {
        if (sm_db_checkpoint(d->db, &err) != SP_OK)
            SP_WARN("database checkpoint: %s", err.msg);
        *last_checkpoint = now;
    }
}

static void serve(daemon_ctx *d, const sigset_t *set)
{
    uint64_t watchdog_usec = 0, last_ping = sp_now_ms(), last_checkpoint = sp_now_ms();
    bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
    for (;;) {
        struct timespec ts = { 0, TICK_MS * 1000000L };
        siginfo_t si;
        int sig = sigtimedwait(set, &si, &ts);
        if (sig == SIGTERM || sig == SIGINT) {
            SP_INFO("%s received: stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
            return;
        }
        if (sig == SIGHUP) {
            SP_INFO("SIGHUP received: reloading %s", d->cfg_path);
            reload(d);
        }
        tick(d, &last_checkpoint);
        if (watchdog && (sp_now_ms() - last_ping) * 2000 >= watchdog_usec) {
            sd_notify(0, "WATCHDOG=1");
            last_ping = sp_now_ms();
        }
    }
}

static void shutdown_all(daemon_ctx *d)
{
    sp_err err;
    if (d->http) {
        unlink(d->home.api);
        sp_http_server_stop(d->http, DRAIN_MS);
        sp_http_server_free(d->http);
    }
    /* no handler runs any more: the read-ahead thread can go */
    sm_retrieval_stop(d->retrieval);
    d->retrieval = NULL;
    sp_rpc_server_free(d->rpc);
    free(d->methods);
    /* After the server: no request uses the caches any more.  An unfinished copy stays
     * in the journal and resumes at the next start. */
    if (d->storage) {
        d->core.storage = NULL;
        sm_storage_stop(d->storage);
    }
    if (d->db) {
        /* Reached only after the server stopped: every allocation is in the database. */
        if (meta_set(d->db, "clean_shutdown", "1", &err) != SP_OK)
            SP_ERROR("marking the clean shutdown: %s", err.msg);
        sm_db_close(d->db);
    }
    if (d->core_ok)
        sm_core_destroy(&d->core);
    sp_metrics_free(d->metrics);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
}

int sm_daemon_run(const char *home_arg, const char *config_arg)
{
    daemon_ctx d;
    memset(&d, 0, sizeof d);
    d.lock_fd = -1;
    d.log_from_env = getenv("SEALPIPE_LOG") && sp_log_parse_level(getenv("SEALPIPE_LOG")) >= 0;
    sp_err err;
    sm_conf *conf = NULL;
    sm_tokens tokens;
    int exit_code = 1;

    /* Every thread created from here on inherits the blocked set. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (sm_home_resolve(home_arg, &d.home, &err) != SP_OK)
        goto fail;
    snprintf(d.cfg_path, sizeof d.cfg_path, "%s", config_arg && *config_arg ? config_arg : d.home.cfg);
    if (!sp_is_dir(d.home.dir) || (!(config_arg && *config_arg) && access(d.home.cfg, F_OK))) {
        sp_fail(&err, SP_ENOTFOUND, "%s is not a manager home (%s); create it with "
                "`sector-manager init --home %s`", d.home.dir,
                sp_is_dir(d.home.dir) ? "it has no manager.cfg" : "no such directory",
                d.home.dir);
        goto fail;
    }
    if (lock_home(&d, &err) != SP_OK || load_conf(&d, &conf, &err) != SP_OK)
        goto fail;
    apply_log_level(&d, conf);
    if (open_db(&d, conf, &err) != SP_OK || attach_conf(&d, conf, &err) != SP_OK ||
        sm_tokens_load(d.home.secret, &tokens, &err) != SP_OK ||
        sp_metrics_new(&d.metrics, &err) != SP_OK)
        goto fail;
    sm_core_init(&d.core, d.db, &tokens, conf, d.metrics, d.home.dir);
    explicit_bzero(&tokens, sizeof tokens);
    conf = NULL;
    d.core_ok = true;
    if (sm_metrics_setup(&d.mset, &d.core, d.metrics, &err) != SP_OK ||
        sm_storage_start(&d.core, &d.storage, &err) != SP_OK)
        goto fail;
    d.core.storage = d.storage;
    if (start_server(&d, d.core.conf, &err) != SP_OK)
        goto fail;
    SP_INFO("listening on %s (home %s, database %s, chain epoch %" PRId64 ")",
            sp_http_server_address(d.http), d.home.dir, sm_db_path(d.db),
            sm_chain_head(&d.core.conf->chain));
    sd_notify(0, "READY=1");
    serve(&d, &set);
    sd_notify(0, "STOPPING=1");
    exit_code = 0;
    goto out;
fail:
    SP_ERROR("%s", err.msg);
out:
    sm_conf_unref(conf);
    shutdown_all(&d);
    if (exit_code == 0)
        SP_INFO("stopped cleanly");
    return exit_code;
}
