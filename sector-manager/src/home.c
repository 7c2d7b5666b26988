/* home.c — the manager's home: location, `init`, and the files the CLI reads to reach
 * the daemon (layout in sm_home.h). */
#include "sm_home.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_chain.h"
#include "sm_conf.h"
#include "sm_db.h"
#include "sm_tokens.h"
#include "sp_fs.h"

static int join(char *out, size_t len, const char *dir, const char *name)
{
    int n = snprintf(out, len, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

sp_code sm_home_resolve(const char *arg, sm_home *out, sp_err *err)
{
    memset(out, 0, sizeof *out);
    const char *env = getenv("SEALPIPE_MANAGER_HOME");
    int n;
    if (arg && *arg)
        n = snprintf(out->dir, sizeof out->dir, "%s", arg);
    else if (env && *env)
        n = snprintf(out->dir, sizeof out->dir, "%s", env);
    else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return sp_fail(err, SP_EINVAL, "no manager home: give --home DIR or set "
                           "SEALPIPE_MANAGER_HOME (HOME is not set either)");
        n = snprintf(out->dir, sizeof out->dir, "%s/.sealpipe-manager", home);
    }
    if (n < 0 || (size_t)n >= sizeof out->dir)
        return sp_fail(err, SP_EINVAL, "the manager home path is too long");
    size_t len = strlen(out->dir);
    while (len > 1 && out->dir[len - 1] == '/')
        out->dir[--len] = 0;
    if (join(out->cfg, sizeof out->cfg, out->dir, "manager.cfg") ||
        join(out->secret, sizeof out->secret, out->dir, "token.secret") ||
        join(out->admin_token, sizeof out->admin_token, out->dir, "admin.token") ||
        join(out->worker_token, sizeof out->worker_token, out->dir, "worker.token") ||
        join(out->api, sizeof out->api, out->dir, "api") ||
        join(out->lock, sizeof out->lock, out->dir, ".lock"))
        return sp_fail(err, SP_EINVAL, "the manager home path is too long");
    return SP_OK;
}

static sp_code write_private(const char *path, const char *text, sp_err *err)
{
    size_t len = strlen(text);
    char *buf = malloc(len + 2);
    if (!buf)
        return sp_fail(err, SP_ENOMEM, "out of memory");
    memcpy(buf, text, len);
    buf[len] = '\n';
    sp_code rc = sp_write_file_atomic(path, buf, len + 1, 0600, err);
    explicit_bzero(buf, len);
    free(buf);
    return rc;
}

sp_code sm_home_init(const sm_home *h, char **admin, char **worker, sp_err *err)
{
    *admin = *worker = NULL;
    sm_conf *conf = NULL;
    sm_db *db = NULL;
    sp_code rc;
    if ((rc = sp_mkdir_p(h->dir, 0700, err)))
        return rc;
    if (sp_path_exists(h->cfg) || sp_path_exists(h->secret))
        return sp_fail(err, SP_EEXIST, "%s is already a manager home (it has %s); use another "
                       "directory or remove it", h->dir, sp_path_exists(h->cfg) ? "manager.cfg"
                                                                              : "token.secret");
    if ((rc = sp_write_file_atomic(h->cfg, sm_default_config, strlen(sm_default_config), 0644, err)))
        return rc;
    if ((rc = sm_conf_load(h->cfg, &conf, NULL, err)))
        goto fail;
    if (sp_path_exists(conf->db_path)) {
        rc = sp_fail(err, SP_EEXIST, "database %s already exists; remove it or choose another home",
                     conf->db_path);
        goto fail;
    }
    sm_db_opts o = { .driver = conf->db_driver, .path = conf->db_path, .create = true };
    sm_chain chain;
    if ((rc = sm_db_open(&o, &db, err)) ||
        (rc = sm_chain_load(db, &conf->chain_params, sp_wall_ms(), &chain, err)) ||
        (rc = sp_mkdir_p(conf->piece_dir, 0755, err)) ||
        (rc = sm_tokens_create_secret(h->secret, err)))
        goto fail;
    sm_tokens t;
    if ((rc = sm_tokens_load(h->secret, &t, err)) ||
        (rc = sm_token_create(&t, SM_SCOPE_ADMIN, 0, admin, err)) ||
        (rc = sm_token_create(&t, SM_SCOPE_WORKER, 0, worker, err)) ||
        (rc = write_private(h->admin_token, *admin, err)) ||
        (rc = write_private(h->worker_token, *worker, err)))
        goto fail;
    explicit_bzero(&t, sizeof t);
    sm_db_close(db);
    sm_conf_unref(conf);
    return SP_OK;
fail:
    sm_db_close(db);
    sm_conf_unref(conf);
    free(*admin);
    free(*worker);
    *admin = *worker = NULL;
    return rc;
}

static sp_code read_trimmed(const char *path, char *out, size_t len, const char *what, sp_err *err)
{
    char *text = NULL;
    size_t n = 0;
    sp_code rc = sp_read_file(path, 8192, &text, &n, err);
    if (rc) {
        if (rc == SP_ENOTFOUND)
            sp_err_prefix(err, "%s", what);
        return rc;
    }
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
        text[--n] = 0;
    if (n == 0 || n >= len) {
        free(text);
        return sp_fail(err, SP_EINVAL, "%s is empty or too long", path);
    }
    memcpy(out, text, n + 1);
    explicit_bzero(text, n);
    free(text);
    return SP_OK;
}

sp_code sm_home_admin_token(const sm_home *h, char *out, size_t len, sp_err *err)
{
    return read_trimmed(h->admin_token, out, len, "no admin token in the home (run `sector-manager "
                        "init` or give --home)", err);
}

sp_code sm_home_base_url(const sm_home *h, char *out, size_t len, sp_err *err)
{
    char addr[256];
    sp_code rc = read_trimmed(h->api, addr, sizeof addr, "the manager is not running (no api file "
                              "in the home; start it with `sector-manager run`)", err);
    if (rc)
        return rc;
    if (snprintf(out, len, "http://%s", addr) >= (int)len)
        return sp_fail(err, SP_EINVAL, "%s: address too long", h->api);
    return SP_OK;
}

sp_code sm_home_write_api(const sm_home *h, const char *addr, sp_err *err)
{
    char buf[300];
    const char *port = strrchr(addr, ':');
    if (!port)
        return sp_fail(err, SP_EINVAL, "server address \"%s\" has no port", addr);
    size_t host_len = (size_t)(port - addr);
    if ((host_len == 7 && strncmp(addr, "0.0.0.0", 7) == 0) || host_len == 0)
        snprintf(buf, sizeof buf, "127.0.0.1%s\n", port);
    else if ((host_len == 4 && strncmp(addr, "[::]", 4) == 0) || (host_len == 2 && strncmp(addr, "::", 2) == 0))
        snprintf(buf, sizeof buf, "[::1]%s\n", port);
    else
        snprintf(buf, sizeof buf, "%s\n", addr);
    return sp_write_file_atomic(h->api, buf, strlen(buf), 0644, err);
}
