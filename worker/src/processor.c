/* processor.c — processor children seen from the worker: spawning them pinned and with
 * their environment, the JSON-lines protocol, per-child and per-stage concurrency,
 * staggered starts, ext_locks, timeouts, restarts with backoff (wk_processor.h).
 *
 * One mutex and one condition variable guard the whole pool: calls are few (one per
 * stage of a sector) and long, so simplicity wins over fine-grained locking.  A
 * supervisor thread spawns and restarts children (it also forks them, so that
 * PR_SET_PDEATHSIG, which follows the forking thread, lasts as long as the pool); one
 * reader thread per running child reads its answers. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sp_fs.h"
#include "sp_json.h"
#include "sp_log.h"
#include "wk_batcher.h"
#include "wk_bind.h"
#include "wk_processor.h"
#include "wk_stages.h"

extern char **environ;

#define MAX_SLOTS 256

typedef struct job {
    uint64_t id;
    struct child *child;
    int slot;
    bool done;
    bool abandoned;              /* the caller stopped waiting; free on completion */
    cJSON *output;
    sp_code code;
    wk_level level;
    char msg[SP_ERR_MSG_MAX];
    struct job *next;
} job;

typedef enum child_state { CH_DOWN = 0, CH_STARTING, CH_READY, CH_STOPPED } child_state;

typedef struct child {
    wk_procs *pool;
    const wk_proc_cfg *cfg;
    const wk_placed *placed;
    char name[64];               /* "pc1[0]" */
    int concurrent;
    cpu_set_t cpus;
    bool pinned;
    char **argv;
    char **envp;
    /* guarded by pool->mu */
    child_state state;
    pid_t pid;
    uint64_t gen;                /* spawn counter: which process pid/wfd belong to */
    pthread_t reader;
    bool reader_joinable;
    uint64_t started_ms, next_start_ms, backoff_ms;
    int starts, failures;        /* failures: consecutive exits without a useful run */
    bool was_ready;
    int busy;
    bool slot_used[MAX_SLOTS];
    job *tasks;
    char binding[256];
    char last_error[600];
    char kill_reason[320];       /* why we killed it or why it gave up, for the exit message */
    /* guarded by wmu (taken after mu, never before it) */
    pthread_mutex_t wmu;
    int wfd;                     /* our end of the child's stdin/stdout socket, or -1 */
    uint64_t wgen;               /* the spawn wfd belongs to */
} child;

struct wk_procs {
    wk_procs_opts o;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    child *children;
    int nchildren;
    int stage_running[WK_STAGE_COUNT];
    uint64_t stage_last_start[WK_STAGE_COUNT];
    int *lock_held;              /* per cfg->locks */
    bool stopping;
    bool supervisor_joinable;
    pthread_t supervisor;
    uint64_t next_id;
    wk_batcher *batcher;         /* pc1 batches (wk_batcher.h); NULL: no batching */
};

/* ---- small helpers ------------------------------------------------------------------ */

static void cv_wait_ms(wk_procs *p, uint64_t ms)
{
    sp_cond_wait_ms(&p->cv, &p->mu, ms);
}

static const char *state_name(child_state s)
{
    static const char *const n[] = { "down", "starting", "ready", "stopped" };
    return n[s];
}

static void free_strv(char **v)
{
    for (int i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static int lock_index(const wk_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->nlocks; i++)
        if (!strcmp(cfg->locks[i].name, name))
            return i;
    return -1;
}

/* ---- building a child's argv and environment ---------------------------------------- */

static sp_code build_argv(child *c, sp_err *err)
{
    const wk_proc_cfg *pc = c->cfg;
    const char *self = c->pool->o.self_exe ? c->pool->o.self_exe : "/proc/self/exe";
    int n = pc->bin ? pc->nargs : 2;
    c->argv = calloc((size_t)n + 2, sizeof *c->argv);
    if (!c->argv)
        return sp_fail(err, SP_ENOMEM, "processors.%s: out of memory", c->name);
    c->argv[0] = strdup(pc->bin ? pc->bin : self);
    if (pc->bin) {
        for (int i = 0; i < pc->nargs; i++)
            c->argv[i + 1] = strdup(pc->args[i]);
    } else {
        c->argv[1] = strdup("processor");
        c->argv[2] = strdup(wk_stage_name(pc->stage));
    }
    for (int i = 0; i <= n; i++)
        if (!c->argv[i])
            return sp_fail(err, SP_ENOMEM, "processors.%s: out of memory", c->name);
    return SP_OK;
}

typedef struct strv {
    char **v;
    int n, cap;
} strv;

static int strv_set(strv *s, const char *name, const char *value)
{
    size_t nl = strlen(name);
    char *kv = malloc(nl + strlen(value) + 2);
    if (!kv)
        return -1;
    sprintf(kv, "%s=%s", name, value);
    for (int i = 0; i < s->n; i++)
        if (!strncmp(s->v[i], name, nl) && s->v[i][nl] == '=') {
            free(s->v[i]);
            s->v[i] = kv;
            return 0;
        }
    if (s->n + 2 > s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        char **nv = realloc(s->v, (size_t)cap * sizeof *nv);
        if (!nv) {
            free(kv);
            return -1;
        }
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = kv;
    s->v[s->n] = NULL;
    return 0;
}

static int strv_put(strv *s, const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq)
        return 0;
    char name[256];
    size_t nl = (size_t)(eq - kv);
    if (nl >= sizeof name)
        return 0;
    memcpy(name, kv, nl);
    name[nl] = 0;
    return strv_set(s, name, eq + 1);
}

static sp_code build_env(child *c, sp_err *err)
{
    const wk_proc_cfg *pc = c->cfg;
    const wk_placed *pl = c->placed;
    strv s = { 0 };
    char buf[1024];
    int bad = 0;
    sp_code rc = SP_OK;
    /* the worker's environment, less its own placement variables and systemd's socket
     * (readiness is the daemon's to report) */
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, "SEALPIPE_PROC_", 14) != 0 && strncmp(*e, "NOTIFY_SOCKET=", 14) != 0)
            bad |= strv_put(&s, *e);
    bad |= strv_set(&s, "SEALPIPE_PROC_STAGE", wk_stage_name(pc->stage));
    snprintf(buf, sizeof buf, "%d", pc->index);
    bad |= strv_set(&s, "SEALPIPE_PROC_INDEX", buf);
    snprintf(buf, sizeof buf, "%d", c->concurrent);
    bad |= strv_set(&s, "SEALPIPE_PROC_CONCURRENT", buf);
    bad |= strv_set(&s, "SEALPIPE_PROC_BACKEND",
                    pc->backend == WK_BACKEND_FILCRYPTO ? "filcrypto" : "native");
    if (pc->hugepages)
        bad |= strv_set(&s, "SEALPIPE_PROC_HUGEPAGES", "1");
    if (pc->filcrypto)
        bad |= strv_set(&s, "SEALPIPE_FILCRYPTO", pc->filcrypto);
    if (pl) {
        wk_cpulist_format(pl->cpuset, buf, sizeof buf);
        bad |= strv_set(&s, "SEALPIPE_PROC_CPUSET", buf);
        if (pl->numa >= 0) {
            snprintf(buf, sizeof buf, "%d", pl->numa);
            bad |= strv_set(&s, "SEALPIPE_PROC_NUMA", buf);
        }
    }
    int gpu = pl ? pl->gpu : pc->gpu;
    if (gpu >= 0 && c->pool->o.topo) {
        wk_env genv = { 0 };
        if ((rc = wk_bind_gpu_env(&c->pool->o.topo->gpus, gpu, NULL, &genv, err)) != SP_OK) {
            sp_err_prefix(err, "processors.%s", c->name);
            goto done;
        }
        for (int i = 0; i < genv.n; i++)
            bad |= strv_put(&s, genv.vars[i]);
        wk_env_free(&genv);
    }
    for (int i = 0; i < pc->nenvs; i++)
        bad |= strv_set(&s, pc->envs[i].key, pc->envs[i].value);
    if (bad)
        rc = sp_fail(err, SP_ENOMEM, "processors.%s: out of memory building its environment",
                     c->name);
done:
    if (rc) {
        free_strv(s.v);
        return rc;
    }
    c->envp = s.v;
    return SP_OK;
}

/* ---- tasks -------------------------------------------------------------------------- */

/* Completes a task (under mu): the caller wakes up, or, when it left, resources go back. */
static void release_task_resources(wk_procs *p, job *t);

static void complete_task(wk_procs *p, job *t, cJSON *output, sp_code code, wk_level level,
                          const char *msg)
{
    child *c = t->child;
    for (job **pp = &c->tasks; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    t->next = NULL;
    if (t->abandoned) {
        cJSON_Delete(output);
        release_task_resources(p, t);
        free(t);
    } else {
        t->output = output;
        t->code = code;
        t->level = level;
        snprintf(t->msg, sizeof t->msg, "%s", msg ? msg : "");
        t->done = true;
    }
    pthread_cond_broadcast(&p->cv);
}

static void release_task_resources(wk_procs *p, job *t)
{
    child *c = t->child;
    const wk_proc_cfg *pc = c->cfg;
    p->stage_running[pc->stage]--;
    c->busy--;
    if (t->slot >= 0 && t->slot < MAX_SLOTS)
        c->slot_used[t->slot] = false;
    for (int i = 0; i < pc->nlocks; i++) {
        int li = lock_index(p->o.cfg, pc->locks[i]);
        if (li >= 0)
            p->lock_held[li]--;
    }
    pthread_cond_broadcast(&p->cv);
}

/* ---- reading a child's answers ------------------------------------------------------ */

static void log_garbage(child *c, pid_t pid, const char *line, const char *why)
{
    char shown[201];
    snprintf(shown, sizeof shown, "%s", line);
    for (char *q = shown; *q; q++)
        if ((unsigned char)*q < 0x20)
            *q = '?';
    SP_WARN("processor %s (pid %ld): %s; ignored the line: %s%s", c->name, (long)pid, why, shown,
            strlen(line) > 200 ? "..." : "");
}

static void handle_ready(child *c, pid_t pid, const char *line, const cJSON *j)
{
    wk_procs *p = c->pool;
    const char *binding = "";
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "binding");
    if (cJSON_IsString(b))
        binding = b->valuestring;
    (void)line;
    pthread_mutex_lock(&p->mu);
    if (c->state == CH_STARTING && c->pid == pid) {
        c->state = CH_READY;
        c->was_ready = true;
        snprintf(c->binding, sizeof c->binding, "%s", binding);
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    SP_INFO("processor %s ready (pid %ld)%s%s", c->name, (long)pid, binding[0] ? ": " : "",
            binding);
}

static void handle_answer(child *c, pid_t pid, const char *line, cJSON *j)
{
    wk_procs *p = c->pool;
    uint64_t id;
    if (sp_json_get_u64(j, -1, "id", 0, UINT64_MAX, &id, NULL) != SP_OK) {
        log_garbage(c, pid, line, "an answer without a valid \"id\"");
        return;
    }
    const cJSON *errj = cJSON_GetObjectItemCaseSensitive(j, "err");
    const cJSON *errmsg = cJSON_GetObjectItemCaseSensitive(j, "err_msg");
    cJSON *output = cJSON_DetachItemFromObjectCaseSensitive(j, "output");
    sp_code code = SP_OK;
    wk_level level = WK_LEVEL_NONE;
    char msg[SP_ERR_MSG_MAX] = "";
    if (cJSON_IsObject(errj)) {
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(errj, "msg");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(errj, "level");
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(errj, "code");
        snprintf(msg, sizeof msg, "%s", cJSON_IsString(m) ? m->valuestring : "(no message)");
        level = cJSON_IsString(l) && !strcmp(l->valuestring, "permanent") ? WK_LEVEL_PERMANENT
                                                                            : WK_LEVEL_TEMPORARY;
        code = cJSON_IsNumber(k) && k->valueint > 0 && k->valueint < SP_CODE_COUNT
                   ? (sp_code)k->valueint
                   : (level == WK_LEVEL_PERMANENT ? SP_EPROOF : SP_EIO);
    } else if (cJSON_IsString(errmsg)) {
        snprintf(msg, sizeof msg, "%s", errmsg->valuestring);
        level = WK_LEVEL_TEMPORARY;
        code = SP_EIO;
    } else if (!output || !cJSON_IsObject(output)) {
        snprintf(msg, sizeof msg, "the answer has neither \"output\" nor \"err\"");
        level = WK_LEVEL_TEMPORARY;
        code = SP_EIO;
    }
    if (code != SP_OK) {
        cJSON_Delete(output);
        output = NULL;
    }
    pthread_mutex_lock(&p->mu);
    job *t = c->tasks;
    while (t && t->id != id)
        t = t->next;
    if (t)
        complete_task(p, t, output, code, level, msg);
    pthread_mutex_unlock(&p->mu);
    if (!t) {
        cJSON_Delete(output);
        log_garbage(c, pid, line, "an answer to no task in flight");
    }
}

static void handle_line(child *c, pid_t pid, char *line, bool *ready)
{
    size_t len = strlen(line);
    while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
        line[--len] = 0;
    if (!len)
        return;
    cJSON *j = NULL;
    if (sp_json_parse(line, len, 64, &j, NULL) != SP_OK || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        char want[64];
        snprintf(want, sizeof want, "%s processor ready", wk_stage_name(c->cfg->stage));
        if (!*ready && !strcmp(line, want)) {
            *ready = true;
            handle_ready(c, pid, line, NULL);
            return;
        }
        log_garbage(c, pid, line, "not a JSON object");
        return;
    }
    if (!*ready) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "ready");
        const cJSON *fatal = cJSON_GetObjectItemCaseSensitive(j, "fatal");
        if (cJSON_IsString(fatal)) {
            /* the child cannot start (a library it needs is missing): its reason becomes
             * the processor's last error, which calls of its stage report */
            SP_ERROR("processor %s (pid %ld) cannot start: %s", c->name, (long)pid,
                     fatal->valuestring);
            pthread_mutex_lock(&c->pool->mu);
            snprintf(c->kill_reason, sizeof c->kill_reason, "%s", fatal->valuestring);
            pthread_mutex_unlock(&c->pool->mu);
        } else if (cJSON_IsString(r) && !strcmp(r->valuestring, wk_stage_name(c->cfg->stage))) {
            *ready = true;
            handle_ready(c, pid, line, j);
        } else {
            log_garbage(c, pid, line, "expected the ready line first");
        }
    } else {
        handle_answer(c, pid, line, j);
    }
    cJSON_Delete(j);
}

static void describe_exit(int status, char *buf, size_t len)
{
    if (WIFEXITED(status))
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "ended (status 0x%x)", status);
}

/* The child's socket closed: it is gone (or going).  Reap it, fail its tasks, schedule
 * the restart. */
static void child_gone(child *c, pid_t pid, const char *why_read)
{
    wk_procs *p = c->pool;
    int status = 0;
    pid_t r;
    /* the socket may close a moment before the process exits; a stuck one is killed */
    for (int i = 0; (r = waitpid(pid, &status, WNOHANG)) == 0 && i < 100; i++)
        sp_sleep_ms(20);
    if (r == 0) {
        kill(pid, SIGKILL);
        r = waitpid(pid, &status, 0);
    }
    /* close our end first: a call still sending after this fails instead of reaching
     * the next process, which would otherwise run the task twice */
    pthread_mutex_lock(&c->wmu);
    if (c->wfd >= 0)
        close(c->wfd);
    c->wfd = -1;
    pthread_mutex_unlock(&c->wmu);
    char how[160];
    if (r == pid)
        describe_exit(status, how, sizeof how);
    else
        snprintf(how, sizeof how, "could not be reaped (%s)", strerror(errno));
    pthread_mutex_lock(&p->mu);
    uint64_t now = sp_now_ms();
    bool stopping = p->stopping || c->state == CH_STOPPED;
    if (!stopping) {
        bool useful = c->was_ready && now - c->started_ms >= 60000;
        c->failures = useful ? 1 : c->failures + 1;
        if (useful)
            c->backoff_ms = p->o.backoff_ms;
        c->next_start_ms = now + c->backoff_ms;
        c->backoff_ms = c->backoff_ms * 2 > p->o.backoff_max_ms ? p->o.backoff_max_ms
                                                                : c->backoff_ms * 2;
        c->state = CH_DOWN;
    }
    if (c->kill_reason[0] && !why_read)
        why_read = c->kill_reason;
    snprintf(c->last_error, sizeof c->last_error, "pid %ld %s%s%s", (long)pid, how,
             why_read ? ": " : "", why_read ? why_read : "");
    char msg[SP_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "processor %s (pid %ld) %s while running the task%s; the task "
             "can be retried", c->name, (long)pid, how,
             stopping ? " (the worker is stopping)" : " (it is being restarted)");
    c->kill_reason[0] = 0;
    int lost = 0;
    while (c->tasks) {
        complete_task(p, c->tasks, NULL, SP_EIO, WK_LEVEL_TEMPORARY, msg);
        lost++;
    }
    c->pid = 0;
    pthread_cond_broadcast(&p->cv);
    uint64_t delay = c->next_start_ms > now ? c->next_start_ms - now : 0;
    pthread_mutex_unlock(&p->mu);
    if (stopping)
        SP_INFO("processor %s (pid %ld) %s", c->name, (long)pid, how);
    else
        SP_WARN("processor %s (pid %ld) %s%s%s; %d task%s in flight failed; restarting in "
                "%llums", c->name, (long)pid, how, why_read ? ": " : "", why_read ? why_read : "",
                lost, lost == 1 ? "" : "s", (unsigned long long)delay);
}

typedef struct reader_arg {
    child *c;
    pid_t pid;
    int fd;
} reader_arg;

static void *reader_main(void *arg)
{
    reader_arg a = *(reader_arg *)arg;
    free(arg);
    child *c = a.c;
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    bool ready = false;
    const char *why = NULL;
    if (!buf)
        why = "out of memory reading its output";
    while (buf) {
        ssize_t n = read(a.fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = 0;
        char *start = buf, *nl;
        while ((nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
            *nl = 0;
            handle_line(c, a.pid, start, &ready);
            start = nl + 1;
        }
        len -= (size_t)(start - buf);
        memmove(buf, start, len);
        if (len + 1 >= cap) {
            if (cap >= WK_PROC_MAX_LINE) {
                why = "a line over 1 MiB (protocol violation): killed it";
                kill(a.pid, SIGKILL);
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                why = "out of memory reading its output: killed it";
                kill(a.pid, SIGKILL);
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    free(buf);
    child_gone(c, a.pid, why);
    return NULL;
}

/* ---- spawning ----------------------------------------------------------------------- */

/* In the forked child: only async-signal-safe calls until exec. */
static void exec_child(child *c, int sock, pid_t parent)
{
    if (c->pinned)
        sched_setaffinity(0, sizeof c->cpus, &c->cpus);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(126);
    if (dup2(sock, 0) < 0 || dup2(sock, 1) < 0)
        _exit(126);
    for (int fd = 3; fd < 1024; fd++)
        close(fd);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    execve(c->argv[0], c->argv, c->envp);
    static const char msg[] = "seal-worker: cannot execute a processor program\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(127);
}

/* Starts child c (called by the supervisor with mu held; forks with it held, which is
 * fine: the child only execs). */
static void spawn(child *c)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        snprintf(c->last_error, sizeof c->last_error, "socketpair: %s", strerror(errno));
        goto failed;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(c->last_error, sizeof c->last_error, "fork: %s", strerror(errno));
        close(sv[0]);
        close(sv[1]);
        goto failed;
    }
    if (pid == 0)
        exec_child(c, sv[1], parent);
    close(sv[1]);
    reader_arg *ra = malloc(sizeof *ra);
    if (ra) {
        ra->c = c;
        ra->pid = pid;
        ra->fd = sv[0];
    }
    c->pid = pid;
    c->gen++;
    pthread_mutex_lock(&c->wmu);
    c->wfd = sv[0];
    c->wgen = c->gen;
    pthread_mutex_unlock(&c->wmu);
    c->state = CH_STARTING;
    c->was_ready = false;
    c->started_ms = sp_now_ms();
    c->starts++;
    c->binding[0] = 0;
    if (!ra || pthread_create(&c->reader, NULL, reader_main, ra) != 0) {
        free(ra);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        pthread_mutex_lock(&c->wmu);
        close(sv[0]);
        c->wfd = -1;
        pthread_mutex_unlock(&c->wmu);
        c->pid = 0;
        snprintf(c->last_error, sizeof c->last_error, "cannot start its reader thread");
        goto failed;
    }
    c->reader_joinable = true;
    SP_DEBUG("processor %s: started pid %ld (%s)", c->name, (long)pid, c->argv[0]);
    return;
failed:
    c->state = CH_DOWN;
    c->failures++;
    c->next_start_ms = sp_now_ms() + c->backoff_ms;
    SP_ERROR("processor %s: cannot start: %s", c->name, c->last_error);
}

static void *supervisor_main(void *arg)
{
    wk_procs *p = arg;
    pthread_mutex_lock(&p->mu);
    while (!p->stopping) {
        uint64_t now = sp_now_ms();
        for (int i = 0; i < p->nchildren; i++) {
            child *c = &p->children[i];
            if (c->state == CH_DOWN && c->pid == 0 && now >= c->next_start_ms) {
                if (c->reader_joinable) {
                    /* the previous reader has finished (pid is 0): collect it */
                    pthread_t r = c->reader;
                    c->reader_joinable = false;
                    pthread_mutex_unlock(&p->mu);
                    pthread_join(r, NULL);
                    pthread_mutex_lock(&p->mu);
                    if (p->stopping)
                        break;
                }
                spawn(c);
            } else if (c->state == CH_STARTING && now - c->started_ms > p->o.ready_timeout_ms) {
                snprintf(c->kill_reason, sizeof c->kill_reason,
                         "no ready line within %llums", (unsigned long long)p->o.ready_timeout_ms);
                SP_WARN("processor %s (pid %ld): %s; killing it", c->name, (long)c->pid,
                        c->kill_reason);
                kill(c->pid, SIGKILL);
                c->started_ms = now; /* one kill per timeout */
            }
        }
        cv_wait_ms(p, 100);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- pool --------------------------------------------------------------------------- */

static sp_code init_child(wk_procs *p, child *c, const wk_proc_cfg *pc, sp_err *err)
{
    c->pool = p;
    c->cfg = pc;
    c->wfd = -1;
    c->backoff_ms = p->o.backoff_ms;
    pthread_mutex_init(&c->wmu, NULL);
    snprintf(c->name, sizeof c->name, "%s[%d]", wk_stage_name(pc->stage), pc->index);
    c->placed = p->o.plan ? wk_plan_find(p->o.plan, pc->stage, pc->index) : NULL;
    c->concurrent = c->placed ? c->placed->concurrent : pc->concurrent;
    if (c->concurrent < 1)
        c->concurrent = 1;
    if (c->concurrent > MAX_SLOTS)
        c->concurrent = MAX_SLOTS;
    if (c->placed) {
        CPU_ZERO(&c->cpus);
        unsigned i;
        hwloc_bitmap_foreach_begin(i, c->placed->cpuset)
            if (i < CPU_SETSIZE)
                CPU_SET(i, &c->cpus);
        hwloc_bitmap_foreach_end();
        c->pinned = CPU_COUNT(&c->cpus) > 0;
    }
    sp_code rc = build_argv(c, err);
    if (!rc)
        rc = build_env(c, err);
    return rc;
}

/* pc1 entries with batch = N > 1: their calls gather in a batcher, which may run as many
 * batches at once as the pc1 children have slots (within limitation.concurrent.pc1). */
static sp_code start_batcher(wk_procs *p, sp_err *err)
{
    if (!wk_batch_enabled(p->o.cfg))
        return SP_OK;
    wk_batch_entry *e = calloc((size_t)p->nchildren + 1, sizeof *e);
    if (!e)
        return sp_fail(err, SP_ENOMEM, "processors: out of memory");
    int n = 0;
    for (int i = 0; i < p->nchildren; i++)
        if (p->children[i].cfg->stage == WK_STAGE_PC1)
            e[n++] = (wk_batch_entry){ .cfg = p->children[i].cfg,
                                       .slots = p->children[i].concurrent };
    sp_code rc = wk_batcher_new(p, e, n, p->o.cfg->limit_concurrent[WK_STAGE_PC1], &p->batcher,
                                err);
    free(e);
    return rc;
}

sp_code wk_procs_start(const wk_procs_opts *opts, wk_procs **out, sp_err *err)
{
    *out = NULL;
    wk_procs *p = calloc(1, sizeof *p);
    if (!p)
        return sp_fail(err, SP_ENOMEM, "processors: out of memory");
    p->o = *opts;
    if (!p->o.ready_timeout_ms)
        p->o.ready_timeout_ms = 30000;
    if (!p->o.backoff_ms)
        p->o.backoff_ms = 1000;
    if (!p->o.backoff_max_ms)
        p->o.backoff_max_ms = 60000;
    if (!p->o.term_grace_ms)
        p->o.term_grace_ms = 5000;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    const wk_config *cfg = opts->cfg;
    sp_code rc = SP_OK;
    p->lock_held = calloc((size_t)cfg->nlocks + 1, sizeof *p->lock_held);
    p->children = calloc((size_t)cfg->nprocs + 1, sizeof *p->children);
    if (!p->lock_held || !p->children) {
        rc = sp_fail(err, SP_ENOMEM, "processors: out of memory");
        goto fail;
    }
    for (int i = 0; i < cfg->nprocs; i++) {
        if (cfg->procs[i].invalid)
            continue;
        if ((rc = init_child(p, &p->children[p->nchildren], &cfg->procs[i], err)) != SP_OK) {
            p->nchildren++;
            goto fail;
        }
        p->nchildren++;
    }
    if (pthread_create(&p->supervisor, NULL, supervisor_main, p) != 0) {
        rc = sp_fail(err, SP_ENOMEM, "processors: cannot start the supervisor thread");
        goto fail;
    }
    p->supervisor_joinable = true;
    if ((rc = start_batcher(p, err)) != SP_OK)
        goto fail;
    *out = p;
    return SP_OK;
fail:
    wk_procs_free(p);
    return rc;
}

void wk_procs_stop(wk_procs *p)
{
    if (!p)
        return;
    /* calls waiting for a batch fail now; running batches end with their children */
    wk_batcher_stop(p->batcher);
    pthread_mutex_lock(&p->mu);
    if (p->stopping && !p->supervisor_joinable) {
        pthread_mutex_unlock(&p->mu);
        return;
    }
    p->stopping = true;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    if (p->supervisor_joinable) {
        pthread_join(p->supervisor, NULL);
        p->supervisor_joinable = false;
    }
    /* no more spawns: terminate every child, then kill the ones that linger */
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nchildren; i++) {
        child *c = &p->children[i];
        if (c->pid > 0)
            kill(c->pid, SIGTERM);
        c->state = CH_STOPPED;
    }
    uint64_t deadline = sp_now_ms() + p->o.term_grace_ms;
    for (;;) {
        int alive = 0;
        for (int i = 0; i < p->nchildren; i++)
            alive += p->children[i].pid > 0;
        if (!alive)
            break;
        if (sp_now_ms() >= deadline) {
            for (int i = 0; i < p->nchildren; i++)
                if (p->children[i].pid > 0) {
                    SP_WARN("processor %s (pid %ld) did not stop on SIGTERM; killing it",
                            p->children[i].name, (long)p->children[i].pid);
                    kill(p->children[i].pid, SIGKILL);
                }
            deadline = UINT64_MAX;
        }
        cv_wait_ms(p, 50);
    }
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nchildren; i++) {
        child *c = &p->children[i];
        if (c->reader_joinable) {
            pthread_join(c->reader, NULL);
            c->reader_joinable = false;
        }
    }
    wk_batcher_join(p->batcher);
}

void wk_procs_free(wk_procs *p)
{
    if (!p)
        return;
    wk_procs_stop(p);
    wk_batcher_free(p->batcher);
    for (int i = 0; i < p->nchildren; i++) {
        child *c = &p->children[i];
        free_strv(c->argv);
        free_strv(c->envp);
        pthread_mutex_destroy(&c->wmu);
    }
    free(p->children);
    free(p->lock_held);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

bool wk_procs_has_stage(const wk_procs *p, wk_stage stage)
{
    for (int i = 0; p && i < p->nchildren; i++)
        if (p->children[i].cfg->stage == stage)
            return true;
    return false;
}

/* ---- calls -------------------------------------------------------------------------- */

static bool locks_free(wk_procs *p, const wk_proc_cfg *pc)
{
    for (int i = 0; i < pc->nlocks; i++) {
        int li = lock_index(p->o.cfg, pc->locks[i]);
        if (li >= 0 && p->lock_held[li] >= p->o.cfg->locks[li].capacity)
            return false;
    }
    return true;
}

/* Under mu: may the stage start one more task now?  *wait_ms says how long the stagger
 * still holds it back. */
static bool stage_admits(wk_procs *p, wk_stage stage, uint64_t *wait_ms)
{
    const wk_config *cfg = p->o.cfg;
    *wait_ms = 0;
    if (cfg->limit_concurrent[stage] > 0 && p->stage_running[stage] >= cfg->limit_concurrent[stage])
        return false;
    uint64_t st = cfg->limit_staggered_ms[stage];
    if (st && p->stage_last_start[stage]) {
        uint64_t next = p->stage_last_start[stage] + st, now = sp_now_ms();
        if (now < next) {
            *wait_ms = next - now;
            return false;
        }
    }
    return true;
}

/* Under mu: the best child for the stage, or NULL.  *none_alive is set when no child of
 * the stage can be expected to become ready (all failed to start repeatedly). */
static child *pick_child(wk_procs *p, wk_stage stage, const wk_proc_cfg *only, bool *hopeless,
                         const char **why)
{
    child *best = NULL;
    int best_free = 0, n = 0, dead = 0;
    for (int i = 0; i < p->nchildren; i++) {
        child *c = &p->children[i];
        if (c->cfg->stage != stage || (only && c->cfg != only))
            continue;
        n++;
        if (c->state != CH_READY && c->failures >= WK_PROC_START_FAILURES && !c->was_ready) {
            dead++;
            *why = c->last_error;
        }
        int free_slots = c->concurrent - c->busy;
        if (c->state != CH_READY || free_slots <= 0 || !locks_free(p, c->cfg))
            continue;
        if (free_slots > best_free) {
            best = c;
            best_free = free_slots;
        }
    }
    *hopeless = n > 0 && dead == n;
    return best;
}

/* Sends a line to the process of spawn `gen` only: never to a later one.  A child that
 * stops reading gets 30 seconds before the send fails. */
static sp_code send_line(child *c, uint64_t gen, const char *line, sp_err *err)
{
    size_t len = strlen(line), off = 0;
    const char *why = NULL;
    uint64_t deadline = sp_now_ms() + 30000;
    pthread_mutex_lock(&c->wmu);
    if (c->wfd < 0 || c->wgen != gen)
        why = "it has exited";
    while (!why && off < len) {
        ssize_t w = send(c->wfd, line + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pf = { .fd = c->wfd, .events = POLLOUT };
            if (sp_now_ms() >= deadline)
                why = "it has not read its input for 30s";
            else
                poll(&pf, 1, 200);
            continue;
        }
        if (w <= 0)
            why = strerror(errno);
        else
            off += (size_t)w;
    }
    pthread_mutex_unlock(&c->wmu);
    if (why)
        return sp_fail(err, SP_EIO, "processor %s: cannot send to it: %s", c->name, why);
    return SP_OK;
}

static sp_code run_in_process(wk_procs *p, wk_stage stage, const cJSON *task,
                              const wk_call_opts *o, cJSON **output, wk_level *level, sp_err *err)
{
    if (o->on_state)
        o->on_state(o->ctx, true, 0);
    wk_stage_env env = { .slot = 0, .slots = 1, .cancel = o->cancel };
    sp_code rc = wk_stage_run(stage, task, &env, output, level, err);
    pthread_mutex_lock(&p->mu);
    p->stage_running[stage]--;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

/* Under mu: sends {"cancel":id,"sector":k} for every sector of a batch task whose flag
 * was set since the last look.  True when it sent one (mu was released meanwhile). */
static bool send_part_cancels(wk_procs *p, job *t, const wk_call_opts *o, bool *sent)
{
    for (int k = 0; o->part_cancel && k < o->nparts && k < WK_BATCH_MAX; k++) {
        if (sent[k] || !__atomic_load_n(&o->part_cancel[k], __ATOMIC_ACQUIRE))
            continue;
        sent[k] = true;
        char line[128];
        snprintf(line, sizeof line, "{\"cancel\":%llu,\"sector\":%d}\n",
                 (unsigned long long)t->id, k);
        child *c = t->child;
        uint64_t gen = c->gen;
        pthread_mutex_unlock(&p->mu);
        send_line(c, gen, line, NULL);
        pthread_mutex_lock(&p->mu);
        return true;
    }
    return false;
}

static sp_code wait_answer(wk_procs *p, job *t, const wk_call_opts *o, pid_t pid,
                           cJSON **output, wk_level *level, sp_err *err)
{
    child *c = t->child;
    uint64_t start = sp_now_ms(), cancel_sent = 0;
    bool killed = false;
    bool part_sent[WK_BATCH_MAX] = { false };
    while (!t->done) {
        uint64_t now = sp_now_ms();
        if (send_part_cancels(p, t, o, part_sent))
            continue;
        if (o->cancel && __atomic_load_n(o->cancel, __ATOMIC_ACQUIRE) && !cancel_sent) {
            char line[96];
            snprintf(line, sizeof line, "{\"cancel\":%llu}\n", (unsigned long long)t->id);
            uint64_t gen = c->gen;
            pthread_mutex_unlock(&p->mu);
            send_line(c, gen, line, NULL);
            pthread_mutex_lock(&p->mu);
            cancel_sent = now;
            continue;
        }
        if (cancel_sent && now - cancel_sent > 30000) {
            /* the child does not stop this task: leave it; its resources are released
             * when it answers or dies */
            t->abandoned = true;
            *level = WK_LEVEL_TEMPORARY;
            return sp_fail(err, SP_EBUSY, "%s: cancelled; processor %s (pid %ld) is still "
                           "finishing the task", wk_stage_name(c->cfg->stage), c->name,
                           (long)pid);
        }
        if (o->timeout_ms && now - start >= o->timeout_ms && !killed) {
            SP_ERROR("processor %s (pid %ld): no answer to %s task %llu%s%s within %llums; "
                     "killing it", c->name, (long)pid, wk_stage_name(c->cfg->stage),
                     (unsigned long long)t->id, o->label ? " of " : "", o->label ? o->label : "",
                     (unsigned long long)o->timeout_ms);
            if (c->pid == pid && pid > 0) {
                snprintf(c->kill_reason, sizeof c->kill_reason, "no answer to task %llu within "
                         "%llums", (unsigned long long)t->id, (unsigned long long)o->timeout_ms);
                kill(pid, SIGKILL);
            }
            killed = true;
        }
        cv_wait_ms(p, 100);
    }
    if (killed && t->code != SP_OK) {
        snprintf(t->msg, sizeof t->msg, "processor %s (pid %ld) gave no answer within %llums "
                 "and was killed (it is being restarted); the task can be retried", c->name,
                 (long)pid, (unsigned long long)o->timeout_ms);
        t->code = SP_ETIMEOUT;
        t->level = WK_LEVEL_TEMPORARY;
    }
    *output = t->output;
    *level = t->level;
    if (t->code != SP_OK)
        return sp_fail(err, t->code, "%s", t->msg);
    return SP_OK;
}

sp_code wk_procs_call(wk_procs *p, wk_stage stage, const cJSON *task_json, const wk_call_opts *o,
                      cJSON **output, wk_level *level, sp_err *err)
{
    static const wk_call_opts none = { 0 };
    if (!o)
        o = &none;
    *output = NULL;
    *level = WK_LEVEL_NONE;
    if ((unsigned)stage >= WK_STAGE_COUNT) {
        *level = WK_LEVEL_PERMANENT;
        return sp_fail(err, SP_EINVAL, "unknown stage %d", (int)stage);
    }
    if (stage == WK_STAGE_PC1 && p->batcher && !o->only)
        return wk_batcher_call(p->batcher, task_json, o, output, level, err);
    bool in_process = !wk_procs_has_stage(p, stage);
    if (o->on_state)
        o->on_state(o->ctx, false, 0);
    pthread_mutex_lock(&p->mu);
    child *c = NULL;
    for (;;) {
        if (p->stopping) {
            pthread_mutex_unlock(&p->mu);
            *level = WK_LEVEL_TEMPORARY;
            return sp_fail(err, SP_EBUSY, "%s: the worker is stopping", wk_stage_name(stage));
        }
        if (o->cancel && __atomic_load_n(o->cancel, __ATOMIC_ACQUIRE)) {
            pthread_mutex_unlock(&p->mu);
            *level = WK_LEVEL_TEMPORARY;
            return sp_fail(err, SP_EBUSY, "%s: cancelled while waiting for a processor",
                           wk_stage_name(stage));
        }
        uint64_t stagger = 0;
        if (stage_admits(p, stage, &stagger)) {
            if (in_process)
                break;
            bool hopeless = false;
            const char *why = "";
            c = pick_child(p, stage, o->only, &hopeless, &why);
            if (c)
                break;
            if (hopeless) {
                char msg[600];
                snprintf(msg, sizeof msg, "%s", why);
                pthread_mutex_unlock(&p->mu);
                *level = WK_LEVEL_TEMPORARY;
                return sp_fail(err, SP_EBUSY, "%s: no processor of this stage can start (last "
                               "problem: %s); check processors.%s in the config and the log",
                               wk_stage_name(stage), msg, wk_stage_name(stage));
            }
        }
        cv_wait_ms(p, stagger && stagger < 100 ? stagger : 100);
    }
    p->stage_running[stage]++;
    p->stage_last_start[stage] = sp_now_ms();
    if (in_process) {
        pthread_mutex_unlock(&p->mu);
        return run_in_process(p, stage, task_json, o, output, level, err);
    }
    job *t = calloc(1, sizeof *t);
    if (!t) {
        p->stage_running[stage]--;
        pthread_mutex_unlock(&p->mu);
        *level = WK_LEVEL_TEMPORARY;
        return sp_fail(err, SP_ENOMEM, "%s: out of memory", wk_stage_name(stage));
    }
    t->id = ++p->next_id;
    t->child = c;
    t->slot = 0;
    while (t->slot < c->concurrent - 1 && c->slot_used[t->slot])
        t->slot++;
    c->slot_used[t->slot] = true;
    c->busy++;
    for (int i = 0; i < c->cfg->nlocks; i++) {
        int li = lock_index(p->o.cfg, c->cfg->locks[i]);
        if (li >= 0)
            p->lock_held[li]++;
    }
    t->next = c->tasks;
    c->tasks = t;
    pid_t pid = c->pid;
    uint64_t gen = c->gen;
    pthread_mutex_unlock(&p->mu);

    sp_code rc = SP_OK;
    cJSON *req = cJSON_CreateObject();
    char *line = NULL;
    if (!req || sp_json_add_u64(req, "id", t->id, NULL) ||
        sp_json_add_i64(req, "slot", t->slot, NULL) ||
        sp_json_add_i64(req, "slots", c->concurrent, NULL) ||
        !cJSON_AddItemReferenceToObject(req, "task", (cJSON *)task_json) ||
        !(line = cJSON_PrintUnformatted(req)))
        rc = sp_fail(err, SP_ENOMEM, "%s: out of memory encoding the task", wk_stage_name(stage));
    cJSON_Delete(req);
    if (rc == SP_OK) {
        size_t n = strlen(line);
        char *l2 = realloc(line, n + 2);
        if (l2) {
            line = l2;
            memcpy(line + n, "\n", 2);
            if (o->on_state)
                o->on_state(o->ctx, true, pid);
            SP_DEBUG("%s: task %llu%s%s to processor %s (pid %ld) slot %d", wk_stage_name(stage),
                     (unsigned long long)t->id, o->label ? " of " : "", o->label ? o->label : "",
                     c->name, (long)pid, t->slot);
            rc = send_line(c, gen, line, err);
        } else {
            rc = sp_fail(err, SP_ENOMEM, "%s: out of memory", wk_stage_name(stage));
        }
    }
    free(line);
    pthread_mutex_lock(&p->mu);
    if (rc != SP_OK) {
        /* the child is going away (its reader completes the task) or we are out of
         * memory: either way wait for the task to be completed, then report our error */
        if (!t->done && c->pid == pid && pid > 0)
            kill(pid, SIGKILL);
        while (!t->done)
            cv_wait_ms(p, 100);
        cJSON_Delete(t->output);
        release_task_resources(p, t);
        pthread_mutex_unlock(&p->mu);
        free(t);
        *level = WK_LEVEL_TEMPORARY;
        return rc;
    }
    rc = wait_answer(p, t, o, pid, output, level, err);
    if (!t->abandoned) {
        release_task_resources(p, t);
        pthread_mutex_unlock(&p->mu);
        free(t);
    } else {
        pthread_mutex_unlock(&p->mu);
    }
    return rc;
}

int wk_procs_status(wk_procs *p, wk_proc_status *out, int max)
{
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < p->nchildren && i < max; i++) {
        child *c = &p->children[i];
        wk_proc_status *s = &out[i];
        memset(s, 0, sizeof *s);
        s->stage = c->cfg->stage;
        s->index = c->cfg->index;
        s->pid = c->pid;
        s->state = state_name(c->state);
        s->running = c->busy;
        s->concurrent = c->concurrent;
        s->starts = c->starts;
        s->failures = c->failures;
        snprintf(s->binding, sizeof s->binding, "%s", c->binding);
        snprintf(s->last_error, sizeof s->last_error, "%s", c->last_error);
    }
    int n = p->nchildren;
    pthread_mutex_unlock(&p->mu);
    return n;
}

bool wk_procs_batch_stats(wk_procs *p, wk_batcher_stats *out)
{
    wk_batcher_stats_get(p ? p->batcher : NULL, out);
    return p && p->batcher;
}

int wk_procs_stage_running(wk_procs *p, wk_stage stage)
{
    pthread_mutex_lock(&p->mu);
    int n = (unsigned)stage < WK_STAGE_COUNT ? p->stage_running[stage] : 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}
