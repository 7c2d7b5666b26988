/* daemon.c — `seal-worker daemon`: load and check the config, place the processors, check
 * the attached stores with the manager, start processors, the admin API and the sealing
 * threads, ping the manager, and stop cleanly on SIGTERM/SIGINT (threads first, then the
 * processor children).  Readiness and stopping go to systemd through sd_notify (a no-op
 * without NOTIFY_SOCKET).  Logs go to stderr. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "sealproofs/filcrypto.h"
#include "sp_fs.h"
#include "sp_log.h"
#include "wk_admin.h"
#include "wk_config.h"
#include "wk_daemon.h"
#include "wk_metrics.h"
#include "wk_metrics.h"
#include "wk_mgr.h"
#include "wk_placement.h"
#include "wk_processor.h"
#include "wk_thread.h"
#include "wk_topology.h"

#define PING_INTERVAL_MS 30000

typedef struct daemon_ctx {
    wk_config cfg;
    wk_topology topo;
    wk_plan plan;
    char *token;
    wk_mgr *mgr;
    wk_procs *procs;
    wk_shared shared;
    wk_thread **threads;
    int nthreads;
    wk_admin *admin;
    wk_metrics metrics;
    sigset_t sigs;
    bool threads_started;
} daemon_ctx;

/* Waits up to ms for a stop signal; returns it, or 0. */
static int wait_signal(daemon_ctx *d, uint64_t ms)
{
    struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L };
    siginfo_t si;
    int s = sigtimedwait(&d->sigs, &si, &ts);
    if (s == SIGHUP) {
        SP_INFO("SIGHUP: the worker reads its config only at start; restart it to apply changes");
        return 0;
    }
    return s > 0 ? s : 0;
}

static int load_config(daemon_ctx *d, const char *path)
{
    wk_diags diags = { 0 };
    sp_err err;
    sp_code rc = wk_config_load(path, &d->cfg, &diags, &err);
    for (int i = 0; i < diags.nerrors; i++)
        SP_ERROR("%s", diags.errors[i]);
    for (int i = 0; i < diags.nwarnings; i++)
        SP_WARN("%s", diags.warnings[i]);
    wk_diags_free(&diags);
    if (rc != SP_OK) {
        SP_ERROR("%s: the config has errors (above); check it with `seal-worker check-config -c %s`",
                 path, path);
        return 1;
    }
    if (d->cfg.token) {
        d->token = strdup(d->cfg.token);
    } else if (d->cfg.token_file) {
        if (wk_mgr_read_token(d->cfg.token_file, &d->token, &err) != SP_OK) {
            SP_ERROR("%s", err.msg);
            return 1;
        }
    }
    if (!d->token) {
        SP_ERROR("%s: sector_manager needs token_file (or token): the worker token printed by "
                 "`sector-manager init`", path);
        return 1;
    }
    return 0;
}

static int place(daemon_ctx *d)
{
    bool gpus = false;
    for (int i = 0; i < d->cfg.nprocs; i++)
        gpus |= d->cfg.procs[i].gpu >= 0;
    wk_topo_source src = { .kind = WK_TOPO_LIVE, .no_opencl = !gpus };
    sp_err err;
    if (wk_topology_load(&d->topo, &src, &err) != SP_OK) {
        SP_ERROR("topology: %s", err.msg);
        return 1;
    }
    if (wk_plan_build(&d->cfg, &d->topo, &d->plan, &err) != SP_OK) {
        for (int i = 0; i < d->plan.diags.nerrors; i++)
            SP_ERROR("%s", d->plan.diags.errors[i]);
        SP_ERROR("the processors do not fit this machine; see `seal-worker plan -c %s`",
                 d->cfg.path);
        return 1;
    }
    for (int i = 0; i < d->plan.diags.nwarnings; i++)
        SP_WARN("%s", d->plan.diags.warnings[i]);
    return 0;
}

/* Every filcrypto processor's library loads here, before anything starts: a missing
 * library, symbol or version stops the daemon with the path and the reason, instead of
 * failing sectors at C2 later. */
static int check_backends(daemon_ctx *d)
{
    int bad = 0;
    for (int i = 0; i < d->cfg.nprocs; i++) {
        const wk_proc_cfg *p = &d->cfg.procs[i];
        if (p->backend != WK_BACKEND_FILCRYPTO || p->stage != WK_STAGE_C2)
            continue;
        char key[64];
        wk_proc_key(p, key, sizeof key);
        pf_filcrypto *fc = NULL;
        pf_error pe;
        if (pf_filcrypto_open(p->filcrypto, 1u << PF_STAGE_C2, &fc, &pe) != PF_OK) {
            SP_ERROR("%s: backend filcrypto: %s; fix %s.filcrypto (or $%s) or use backend = "
                     "\"native\"", key, pe.msg, key, PF_FILCRYPTO_ENV);
            bad = 1;
            continue;
        }
        SP_INFO("%s: libfilcrypto %s (%s)", key, pf_filcrypto_path(fc), pf_filcrypto_version(fc));
        pf_filcrypto_close(fc);
    }
    return bad;
}

/* Every attached store must be known to the manager.  Waits (interruptibly) while the
 * manager does not answer; returns 1 when a store is unknown, 2 when stopped. */
static int check_stores(daemon_ctx *d)
{
    for (uint64_t wait = 1000;;) {
        int unknown = 0;
        bool unreachable = false;
        sp_err err;
        for (int i = 0; i < d->cfg.nattached && !unreachable; i++) {
            const wk_attached_cfg *a = &d->cfg.attached[i];
            bool found = false, ro = false;
            char path[1024];
            sp_code rc = wk_mgr_store_info(d->mgr, a->name, &found, path, sizeof path, &ro, &err);
            if (rc == SP_ENET || rc == SP_ETIMEOUT || rc == SP_EBUSY) {
                unreachable = true;
                break;
            }
            if (rc != SP_OK) {
                SP_ERROR("attached store \"%s\": the manager answered: %s", a->name, err.msg);
                return 1;
            }
            if (!found) {
                SP_ERROR("%s: attached store \"%s\" (%s) is unknown to the manager at %s; add it "
                         "to the manager's persist_stores or fix attached[%d].name",
                         d->cfg.path, a->name, a->location, d->cfg.manager_url, i);
                unknown++;
                continue;
            }
            if (!sp_is_dir(a->location))
                SP_WARN("attached store \"%s\": %s is not a directory on this machine; sectors "
                        "cannot be persisted there until it is mounted", a->name, a->location);
            SP_INFO("attached store \"%s\" at %s (manager path %s%s)", a->name, a->location, path,
                    ro ? ", read-only" : "");
        }
        if (unknown)
            return 1;
        if (!unreachable)
            return 0;
        SP_WARN("the manager at %s does not answer (%s); checking the stores again in %llums",
                d->cfg.manager_url, err.msg, (unsigned long long)wait);
        sd_notifyf(0, "STATUS=waiting for the manager at %s", d->cfg.manager_url);
        if (wait_signal(d, wait))
            return 2;
        wait = wait * 2 > 30000 ? 30000 : wait * 2;
    }
}

static void ping(daemon_ctx *d)
{
    wk_mgr_summary s = { .threads = d->nthreads };
    for (int i = 0; i < d->nthreads; i++) {
        wk_thread_status st;
        wk_thread_status_get(d->threads[i], &st);
        if (!st.sector[0])
            s.empty++;
        if (st.paused)
            s.paused++;
        else if (!strcmp(st.job, "running"))
            s.running++;
        else if (!strcmp(st.job, "waiting"))
            s.waiting++;
        if (st.last_error[0])
            s.errors++;
    }
    sp_err err;
    if (wk_mgr_worker_ping(d->mgr, d->cfg.name, wk_admin_address(d->admin), SP_VERSION, &s,
                           &err) != SP_OK)
        SP_DEBUG("ping: %s", err.msg);
}

/* Before every /metrics answer: the gauges of threads and processors from their state. */
static void collect(void *ctx, sp_metrics *reg)
{
    daemon_ctx *d = ctx;
    const wk_metrics *m = &d->metrics;
    (void)reg;
    sp_metric_reset(m->threads);
    sp_metric_reset(m->in_state);
    static const char *const jobs[] = { "idle", "waiting", "running", "paused", "stopped" };
    for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++)
        sp_metric_set(m->threads, SP_LABELS(jobs[j]), 0);
    for (int i = 0; i < d->nthreads; i++) {
        wk_thread_status st;
        wk_thread_status_get(d->threads[i], &st);
        sp_metric_set(m->threads, SP_LABELS(st.job),
                      sp_metric_get(m->threads, SP_LABELS(st.job)) + 1);
        if (st.sector[0])
            sp_metric_set(m->in_state, SP_LABELS(st.state),
                          sp_metric_get(m->in_state, SP_LABELS(st.state)) + 1);
    }
    wk_proc_status ps[256];
    int n = d->procs ? wk_procs_status(d->procs, ps, 256) : 0;
    for (int i = 0; i < n && i < 256; i++) {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", ps[i].index);
        const char *const *l = SP_LABELS(wk_stage_name(ps[i].stage), idx);
        sp_metric_set(m->proc_up, l, !strcmp(ps[i].state, "ready"));
        sp_metric_set(m->proc_starts, l, ps[i].starts);
        sp_metric_set(m->proc_running, l, ps[i].running);
    }
    wk_batcher_stats bs;
    if (d->procs && wk_procs_batch_stats(d->procs, &bs))
        wk_metrics_batches(m, &bs);
}

static void shut_down(daemon_ctx *d)
{
    for (int i = 0; i < d->nthreads; i++)
        if (d->threads[i])
            wk_thread_stop(d->threads[i]);
    wk_procs_stop(d->procs);
    /* the admin API and /metrics read the threads: stop serving before freeing them */
    wk_admin_free(d->admin);
    d->admin = NULL;
    for (int i = 0; i < d->nthreads; i++)
        wk_thread_free(d->threads[i]);
    free(d->threads);
    wk_procs_free(d->procs);
    wk_metrics_free(&d->metrics);
    wk_mgr_free(d->mgr);
    wk_plan_free(&d->plan);
    wk_topology_free(&d->topo);
    if (d->token) {
        memset(d->token, 0, strlen(d->token));
        free(d->token);
    }
    wk_config_free(&d->cfg);
}

int wk_daemon_run(const char *config_path)
{
    daemon_ctx d;
    memset(&d, 0, sizeof d);
    sp_err err;
    int rc = 1;
    /* signals are taken by sigtimedwait in this thread only; every thread started from
     * here inherits the mask, and processor children reset it before exec */
    sigemptyset(&d.sigs);
    sigaddset(&d.sigs, SIGTERM);
    sigaddset(&d.sigs, SIGINT);
    sigaddset(&d.sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &d.sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (load_config(&d, config_path) || place(&d) || check_backends(&d))
        goto done;
    if (wk_metrics_init(&d.metrics, &err) != SP_OK ||
        sp_metrics_on_collect(d.metrics.reg, collect, &d, &err) != SP_OK) {
        SP_ERROR("metrics: %s", err.msg);
        goto done;
    }
    if (wk_mgr_new(d.cfg.manager_url, d.token, &d.mgr, &err) != SP_OK) {
        SP_ERROR("%s", err.msg);
        goto done;
    }
    wk_procs_opts po = { .cfg = &d.cfg, .plan = &d.plan, .topo = &d.topo };
    if (wk_procs_start(&po, &d.procs, &err) != SP_OK) {
        SP_ERROR("%s", err.msg);
        goto done;
    }
    d.shared = (wk_shared){ .cfg = &d.cfg, .mgr = d.mgr, .procs = d.procs,
                            .instance = d.cfg.name, .metrics = &d.metrics };
    d.threads = calloc((size_t)d.cfg.nthreads + 1, sizeof *d.threads);
    if (!d.threads)
        goto done;
    for (int i = 0; i < d.cfg.nthreads; i++) {
        if (wk_thread_new(&d.shared, i, &d.threads[i], &err) != SP_OK) {
            SP_ERROR("%s", err.msg);
            goto done;
        }
        d.nthreads++;
    }
    wk_admin_opts ao = { .listen = d.cfg.listen, .token = d.token, .name = d.cfg.name,
                         .manager_url = d.cfg.manager_url, .threads = d.threads,
                         .nthreads = d.nthreads, .procs = d.procs,
                         .metrics = d.metrics.reg };
    if (wk_admin_start(&ao, &d.admin, &err) != SP_OK) {
        SP_ERROR("%s", err.msg);
        goto done;
    }
    int st = check_stores(&d);
    if (st == 2) {
        rc = 0;
        goto done;
    }
    if (st)
        goto done;
    for (int i = 0; i < d.nthreads; i++)
        if (wk_thread_start(d.threads[i], &err) != SP_OK) {
            SP_ERROR("%s", err.msg);
            goto done;
        }
    SP_INFO("seal-worker %s (%s) running: %d sealing thread%s, %d processor%s, manager %s, admin "
            "API %s", SP_VERSION, d.cfg.name, d.nthreads, d.nthreads == 1 ? "" : "s",
            d.cfg.nprocs, d.cfg.nprocs == 1 ? "" : "s", d.cfg.manager_url,
            wk_admin_address(d.admin));
    sd_notifyf(0, "READY=1\nSTATUS=%d sealing threads running", d.nthreads);
    uint64_t next_ping = 0;
    int sig = 0;
    while (!sig) {
        if (sp_now_ms() >= next_ping) {
            ping(&d);
            next_ping = sp_now_ms() + PING_INTERVAL_MS;
        }
        sig = wait_signal(&d, 1000);
    }
    SP_INFO("%s: stopping (sealing threads stop, processors are terminated; sectors resume at "
            "the next start)", strsignal(sig));
    sd_notify(0, "STOPPING=1");
    rc = 0;
done:
    shut_down(&d);
    if (rc == 0)
        SP_INFO("stopped");
    return rc;
}
