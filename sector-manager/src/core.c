/* core.c — the shared manager state: configuration snapshots and token checks. */
#include "sm_core.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sp_fs.h"

void sm_core_init(sm_core *c, sm_db *db, const sm_tokens *tokens, sm_conf *conf,
                  sp_metrics *metrics, const char *home)
{
    memset(c, 0, sizeof *c);
    c->db = db;
    if (tokens)
        c->tokens = *tokens;
    c->conf = conf;
    c->metrics = metrics;
    pthread_mutex_init(&c->conf_mu, NULL);
    atomic_init(&c->pick, 0);
    c->verify = sm_verify_seal;
    snprintf(c->home, sizeof c->home, "%s", home ? home : "");
    c->started_ms = sp_wall_ms();
}

void sm_core_destroy(sm_core *c)
{
    sm_conf_unref(c->conf);
    c->conf = NULL;
    pthread_mutex_destroy(&c->conf_mu);
    explicit_bzero(&c->tokens, sizeof c->tokens);
}

sm_conf *sm_core_conf(sm_core *c)
{
    pthread_mutex_lock(&c->conf_mu);
    sm_conf *conf = c->conf;
    sm_conf_ref(conf);
    pthread_mutex_unlock(&c->conf_mu);
    return conf;
}

void sm_core_set_conf(sm_core *c, sm_conf *conf)
{
    pthread_mutex_lock(&c->conf_mu);
    sm_conf *old = c->conf;
    c->conf = conf;
    pthread_mutex_unlock(&c->conf_mu);
    sm_conf_unref(old);
}

sp_code sm_core_auth(void *ctx, const char *token, uint32_t *scopes, sp_err *err)
{
    sm_core *c = ctx;
    return sm_token_verify(&c->tokens, token, (int64_t)time(NULL), scopes, err);
}
