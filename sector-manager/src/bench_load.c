/* bench_load.c — `sector-manager bench rpc --method workers`: the manager under the RPC
 * traffic of a whole cluster of simulated workers.
 *
 * W workers x T sealing threads.  Each simulated thread follows the schedule a seal-worker
 * thread follows for one 32GiB sector (the states of worker/src/sector_state.c, the calls of
 * worker/src/planner_sealer.c and thread.c) and sends exactly the calls the worker sends
 * at each point: AllocateSector when it is empty, ReportState on every transition,
 * AcquireDeals, AssignTicket, SubmitPreCommit, PollPreCommitState every poll interval until
 * the precommit lands, StoreReserveSpace, SubmitPersistedEx (after writing the files the
 * manager checks: a sparse sealed file, p_aux and a tree_r_last file), WaitSeed every poll
 * interval until the seed, SubmitProof, PollProofState every poll interval, ReportFinalized;
 * each worker sends WorkerPing every 30 s.  Stage durations are those of a 32GiB sector on
 * current hardware (below); `--speed` runs the schedule faster, multiplying every rate.
 *
 * The schedule, not the answers, drives a thread (the manager's local chain cannot be
 * fast-forwarded to match), so the mix stays exactly the one computed from the schedule.
 * Sectors are declared 2KiB so 32,000 of them fit the bench machine's disk; their number,
 * states and request mix are those of 32GiB sectors.  The dummy proofs are rejected after
 * parsing: real proof verification (about one per 5.8 h per thread) is not simulated.
 *
 * One process, one event loop: the threads' next actions sit in a heap; requests go out
 * over one keep-alive connection per worker (--connections), one at a time each, queued
 * behind each other as a worker's shared RPC client queues them.  Latency is measured from
 * the moment a call was due, so a manager that falls behind shows it.
 *
 * Phases: warm-up (every thread is placed at a random point of its schedule and the calls
 * of the steps before it are sent as fast as the manager answers, so the database holds
 * W*T sectors in every state and W worker names), then one measured window per speed.
 * Peak RSS of the manager (VmHWM from /proc, reset at each window when permitted) is
 * reported per window.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <getopt.h>

#include <cjson/cJSON.h>

#include "sm_bench_net.h"
#include "sealproofs.h"
#include "sm_cli.h"
#include "sm_home.h"
#include "sp_cli.h"
#include "sp_fs.h"

/* The command's entry, called by `bench rpc` (bench.c) for --method workers. */
int sm_cmd_bench_workers(int argc, char **argv);

#define MAX_SPEEDS 8

typedef struct load_opts {
    char host[SM_BENCH_HOST_MAX], port[SM_BENCH_PORT_MAX], token[4200], store_name[128], store_dir[1024];
    uint64_t miner, sector_size;
    int proof_type;
    unsigned workers, threads, connections, n_speeds, warmup_limit_s;
    double speeds[MAX_SPEEDS], seconds;
    int pid;
    uint64_t seed;
    bool json;
} load_opts;

/* ---- the schedule of one sector ---------------------------------------------------------- */

enum call {
    C_NONE, C_ALLOCATE, C_REPORT, C_DEALS, C_TICKET, C_PRECOMMIT, C_POLL_PC, C_RESERVE,
    C_PERSISTED, C_WAIT_SEED, C_PROOF, C_POLL_PROOF, C_FINALIZED, C_PING, C_COUNT
};
static const char *const call_names[C_COUNT] = {
    "", "AllocateSector", "ReportState", "AcquireDeals", "AssignTicket", "SubmitPreCommit",
    "PollPreCommitState", "StoreReserveSpace", "SubmitPersistedEx", "WaitSeed", "SubmitProof",
    "PollProofState", "ReportFinalized", "WorkerPing",
};

typedef struct step {
    const char *state;   /* the thread's state during the step */
    const char *next;    /* reported at its end (NULL: none, the sector is done) */
    const char *event;
    enum call call;      /* sent when the step starts */
    bool poll;           /* ...and again every poll interval, the last one at its end */
    double seconds;      /* duration at speed 1 (poll steps: a multiple of the interval) */
} step;

#define POLL_S 180.0  /* sealing.rpc_polling_interval default (worker/src/config.c) */
#define PING_S 30.0   /* the worker daemon's WorkerPing period */

/* 32GiB on a current sealing box: AP+TreeD ~12 min, PC1 3.5 h, PC2 25 min, a 15-min
 * copy to the store, C1 2 min, C2 15 min (GPU); chain: precommit lands within one poll,
 * the seed comes 150+6 epochs (78 min) after landing, i.e. 63 min after the copy. */
static const step schedule[] = {
    { "Empty", "Allocated", "Allocate", C_ALLOCATE, false, 0 },
    { "Allocated", "DealsAcquired", "AcquireDeals", C_DEALS, false, 0 },
    { "DealsAcquired", "PieceAdded", "AddPiece", C_NONE, false, 120 },
    { "PieceAdded", "TreeDBuilt", "BuildTreeD", C_NONE, false, 600 },
    { "TreeDBuilt", "TicketAssigned", "AssignTicket", C_TICKET, false, 0 },
    { "TicketAssigned", "PC1Done", "PC1", C_NONE, false, 12600 },
    { "PC1Done", "PC2Done", "PC2", C_NONE, false, 1500 },
    { "PC2Done", "PCSubmitted", "SubmitPC", C_PRECOMMIT, false, 0 },
    { "PCSubmitted", "PCLanded", "CheckPC", C_POLL_PC, true, POLL_S },
    { "PCLanded", "Persisted", "Persist", C_RESERVE, false, 900 },
    { "Persisted", "PersistanceSubmitted", "SubmitPersistance", C_PERSISTED, false, 0 },
    { "PersistanceSubmitted", "SeedAssigned", "AssignSeed", C_WAIT_SEED, true, 21 * POLL_S },
    { "SeedAssigned", "C1Done", "C1", C_NONE, false, 120 },
    { "C1Done", "C2Done", "C2", C_NONE, false, 900 },
    { "C2Done", "ProofSubmitted", "SubmitProof", C_PROOF, false, 0 },
    { "ProofSubmitted", "Finished", "Finish", C_POLL_PROOF, true, POLL_S },
    { "Finished", NULL, NULL, C_FINALIZED, false, 30 }, /* finalize, then seal_interval */
};
#define N_STEPS ((int)(sizeof schedule / sizeof schedule[0]))

static double cycle_seconds(void)
{
    double s = 0;
    for (int i = 0; i < N_STEPS; i++)
        s += schedule[i].seconds;
    return s;
}

/* Calls per cycle of one thread, by kind (the expected mix). */
static void cycle_calls(double per[C_COUNT])
{
    memset(per, 0, C_COUNT * sizeof per[0]);
    for (int i = 0; i < N_STEPS; i++) {
        const step *s = &schedule[i];
        if (s->call)
            per[s->call] += s->poll ? s->seconds / POLL_S + 1 : 1;
        if (s->next)
            per[C_REPORT] += 1;
    }
}

/* ---- state ---------------------------------------------------------------------------------- */

typedef struct thread {
    uint32_t worker;
    uint16_t index;
    uint8_t step;
    bool warm;            /* still being placed at its start point */
    bool final_polled;    /* poll steps: the poll at the step's end was sent */
    bool retry;           /* warm-up: send the step's call again when next due */
    uint8_t warm_target;  /* warm-up: the step it starts the measured run in */
    bool ended;           /* the step's work is done: its end report comes next */
    uint64_t number;
    int64_t ticket_epoch;
    char ticket[48];      /* base64 */
    double next;          /* schedule time of its next action */
    double step_end;
} thread;

typedef struct pending {
    uint32_t who;         /* thread index, or n_threads + worker for a ping */
    uint8_t call;
    double due;           /* schedule time it was due (latency counts from its wall time) */
    uint64_t due_ns;
} pending;

typedef struct conn {
    int fd;
    bool busy, reused;
    pending cur;          /* in flight when busy */
    uint64_t sent_ns;
    char out[4096];
    size_t out_len, out_off;
    char in[16384];
    size_t in_len;
    pending *q;           /* FIFO ring */
    size_t q_cap, q_head, q_len;
} conn;

typedef struct heap_item {
    double at;
    uint32_t who;
} heap_item;

typedef struct window {
    double speed;
    uint64_t ok, errors, refused, retried, by_call[C_COUNT];
    uint32_t *lat_us, *svc_us;
    size_t n_lat, cap_lat;
    uint64_t rss_peak_kib, rss_end_kib;
    double seconds;
} window;

typedef struct sim {
    const load_opts *o;
    struct addrinfo *addr;
    thread *th;
    size_t n_threads;
    double *ping_next;
    conn *cn;
    unsigned n_conn;
    int ep;
    heap_item *heap;
    size_t heap_len;
    /* schedule time: tau = tau0 + speed * (wall - wall0) */
    double tau0, speed;
    uint64_t wall0;
    bool warming;
    size_t warm_left;
    window *win;          /* the window being measured, or NULL */
    window warm;          /* counts of the warm-up */
    uint8_t comm_d[32];
    char proof_b64[300];
    char err[512];
    uint64_t rng;
} sim;

static double tau_now(const sim *s)
{
    return s->tau0 + s->speed * (double)(sm_bench_now_ns() - s->wall0) / 1e9;
}

static uint64_t wall_of(const sim *s, double tau)
{
    double d = (tau - s->tau0) / s->speed;
    return s->wall0 + (uint64_t)(d > 0 ? d * 1e9 : 0);
}

static double rnd(sim *s)
{
    /* xorshift64*: deterministic placement for a given --seed */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (double)((s->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- heap of next actions ------------------------------------------------------------------ */

static void heap_push(sim *s, double at, uint32_t who)
{
    size_t i = s->heap_len++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->heap[p].at <= at)
            break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = (heap_item){ at, who };
}

static heap_item heap_pop(sim *s)
{
    heap_item top = s->heap[0], last = s->heap[--s->heap_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->heap_len)
            break;
        if (c + 1 < s->heap_len && s->heap[c + 1].at < s->heap[c].at)
            c++;
        if (last.at <= s->heap[c].at)
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->heap_len)
        s->heap[i] = last;
    return top;
}

/* ---- requests ------------------------------------------------------------------------------- */

static int comm_json(const uint8_t c[32], char *out, size_t len)
{
    size_t k = 0;
    for (int i = 0; i < 32 && k < len; i++)
        k += (size_t)snprintf(out + k, len - k, "%s%u", i ? "," : "[", c[i]);
    if (k < len)
        k += (size_t)snprintf(out + k, len - k, "]");
    return (int)k;
}

/* The params of one call; returns their length. */
static int params_of(sim *s, const pending *p, char *out, size_t len)
{
    const load_opts *o = s->o;
    if (p->call == C_PING) {
        uint32_t w = p->who - (uint32_t)s->n_threads;
        return snprintf(out, len, "[{\"Name\":\"sim-w%04u\",\"Dest\":\"10.%u.%u.%u:17890\",\"Version\":"
                        "\"bench\",\"Summary\":{\"Threads\":%u,\"Empty\":0,\"Paused\":0,\"Running\":%u,"
                        "\"Waiting\":0,\"Errors\":0}}]", w, w >> 16 & 255, w >> 8 & 255, w & 255, o->threads,
                        o->threads);
    }
    const thread *t = &s->th[p->who];
    char sid[96];
    snprintf(sid, sizeof sid, "{\"Miner\":%" PRIu64 ",\"Number\":%" PRIu64 "}", o->miner, t->number);
    switch ((enum call)p->call) {
    case C_ALLOCATE:
        return snprintf(out, len, "[{\"AllowedMiners\":[%" PRIu64 "],\"AllowedProofTypes\":[%d]}]", o->miner,
                        o->proof_type);
    case C_REPORT: {
        const step *st = &schedule[t->step];
        return snprintf(out, len, "[%s,{\"Worker\":{\"Instance\":\"sim-w%04u\",\"Location\":"
                        "\"/data/sealing/t%02u\"},\"StateChange\":{\"Prev\":\"%s\",\"Next\":\"%s\","
                        "\"Event\":\"%s\"},\"Failure\":null}]", sid, t->worker, t->index, st->state,
                        st->next, st->event);
    }
    case C_DEALS:
        return snprintf(out, len, "[%s,{\"MaxDeals\":32,\"MinUsedSpace\":0}]", sid);
    case C_TICKET:
    case C_POLL_PC:
    case C_POLL_PROOF:
    case C_FINALIZED:
        return snprintf(out, len, "[%s]", sid);
    case C_PRECOMMIT: {
        /* CommR: a field element of its own (a hash of the sector id, top bits cleared) */
        uint8_t r[32], d[8];
        memcpy(d, &t->number, 8);
        pf_sha256(d, sizeof d, r);
        r[31] &= 0x1f;
        r[0] |= 1;
        char cr[160], cd[160];
        comm_json(r, cr, sizeof cr);
        comm_json(s->comm_d, cd, sizeof cd);
        return snprintf(out, len, "[{\"ID\":%s,\"ProofType\":%d},{\"CommR\":%s,\"CommD\":%s,\"Ticket\":"
                        "{\"Ticket\":\"%s\",\"Epoch\":%" PRId64 "}},false]", sid, o->proof_type, cr, cd,
                        t->ticket, t->ticket_epoch);
    }
    case C_RESERVE:
        return snprintf(out, len, "[%s,%d,[\"%s\"]]", sid, 4096, o->store_name);
    case C_PERSISTED:
        return snprintf(out, len, "[%s,\"%s\",false]", sid, o->store_name);
    case C_WAIT_SEED:
        return snprintf(out, len, "[%s,%d]", sid, o->proof_type);
    case C_PROOF:
        return snprintf(out, len, "[%s,{\"Proof\":\"%s\"},false]", sid, s->proof_b64);
    default:
        return snprintf(out, len, "[]");
    }
}

/* The files the manager checks before it accepts SubmitPersisted, as the worker's copy
 * leaves them: the sealed file (sparse: only its size is read), p_aux and tree_r_last. */
static bool write_persisted(sim *s, const thread *t)
{
    const load_opts *o = s->o;
    if (!o->store_dir[0])
        return true;
    char path[1400], dir[1300];
    sp_err err;
    snprintf(dir, sizeof dir, "%s/sealed", o->store_dir);
    if (sp_mkdir_p(dir, 0755, &err) != SP_OK)
        goto fail;
    snprintf(path, sizeof path, "%s/s-t0%" PRIu64 "-%" PRIu64, dir, o->miner, t->number);
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ftruncate(fd, (off_t)o->sector_size) != 0) {
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    close(fd);
    snprintf(dir, sizeof dir, "%s/cache/s-t0%" PRIu64 "-%" PRIu64, o->store_dir, o->miner, t->number);
    if (sp_mkdir_p(dir, 0755, &err) != SP_OK)
        goto fail;
    static const char *const names[] = { "p_aux", "sc-02-data-tree-r-last.dat" };
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            goto fail;
        close(fd);
    }
    return true;
fail:
    snprintf(s->err, sizeof s->err, "writing the persisted files of s-t0%" PRIu64 "-%" PRIu64 " under %.300s: %s",
             o->miner, t->number, o->store_dir, strerror(errno));
    return false;
}

/* ---- connections ---------------------------------------------------------------------------- */

static int dial(sim *s)
{
    int fd = socket(s->addr->ai_family, s->addr->ai_socktype | SOCK_CLOEXEC, s->addr->ai_protocol);
    if (fd < 0)
        return -1;
    if (connect(fd, s->addr->ai_addr, s->addr->ai_addrlen) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void conn_close(sim *s, conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->in_len = 0;
    c->out_len = c->out_off = 0;
}

static void conn_watch(sim *s, conn *c, bool out)
{
    struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };
    epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static bool flush(sim *s, conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_watch(s, c, true);
            return true;
        }
        if (w <= 0)
            return false;
        c->out_off += (size_t)w;
    }
    return true;
}

static window *counts(sim *s)
{
    return s->win ? s->win : &s->warm;
}

static void fail_call(sim *s, const pending *p, const char *why);
static void answered(sim *s, const pending *p, const char *body, uint64_t sent_ns);

/* Sends the head of c's queue if nothing is in flight. */
static void conn_next(sim *s, conn *c)
{
    while (!c->busy && c->q_len) {
        pending p = c->q[c->q_head];
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        if (c->fd < 0) {
            if ((c->fd = dial(s)) < 0) {
                fail_call(s, &p, "cannot connect");
                continue;
            }
            struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
            epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &ev);
            c->reused = false;
        }
        char params[1400], body[1600];
        params_of(s, &p, params, sizeof params);
        int bl = snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Venus.%s\",\"params\":%s}",
                          call_names[p.call], params);
        int n = bl <= 0 || (size_t)bl >= sizeof body ? -1 :
                snprintf(c->out, sizeof c->out, "POST /rpc/v0 HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                         s->o->host, s->o->port, s->o->token, bl, body);
        if (n <= 0 || (size_t)n >= sizeof c->out) {
            fail_call(s, &p, "request too large");
            continue;
        }
        c->out_len = (size_t)n;
        c->out_off = 0;
        c->cur = p;
        c->busy = true;
        c->sent_ns = sm_bench_now_ns();
        if (!flush(s, c)) {
            conn_close(s, c);
            c->busy = false;
            fail_call(s, &p, "send failed");
        }
    }
}

static conn *conn_of(sim *s, uint32_t who)
{
    uint32_t w = who < s->n_threads ? s->th[who].worker : who - (uint32_t)s->n_threads;
    return &s->cn[w % s->n_conn];
}

static bool queue_room(conn *c)
{
    if (c->q_len < c->q_cap)
        return true;
    size_t ncap = c->q_cap ? c->q_cap * 2 : 64;
    pending *nq = malloc(ncap * sizeof *nq);
    if (!nq)
        return false;
    for (size_t i = 0; i < c->q_len; i++)
        nq[i] = c->q[(c->q_head + i) % c->q_cap];
    free(c->q);
    c->q = nq;
    c->q_cap = ncap;
    c->q_head = 0;
    return true;
}

static void enqueue(sim *s, uint32_t who, enum call call, double due)
{
    conn *c = conn_of(s, who);
    pending p = { .who = who, .call = (uint8_t)call, .due = due, .due_ns = s->warming ? sm_bench_now_ns() : wall_of(s, due) };
    if (!queue_room(c)) {
        fail_call(s, &p, "out of memory queueing a request");
        return;
    }
    c->q[(c->q_head + c->q_len++) % c->q_cap] = p;
    conn_next(s, c);
}

/* Parses one whole response at the start of c->in; returns its length (0: incomplete,
 * -1: malformed) and the status and body. */
static long parse_response(conn *c, int *status, const char **body, size_t *body_len)
{
    c->in[c->in_len < sizeof c->in ? c->in_len : sizeof c->in - 1] = 0;
    char *hdr_end = strstr(c->in, "\r\n\r\n");
    if (!hdr_end)
        return c->in_len >= sizeof c->in - 1 ? -1 : 0;
    if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
        return -1;
    size_t clen = 0;
    for (char *l = strstr(c->in, "\r\n"); l && l < hdr_end; l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0)
            clen = strtoull(l + 17, NULL, 10);
    size_t head = (size_t)(hdr_end + 4 - c->in);
    if (head + clen >= sizeof c->in)
        return -1;
    if (c->in_len < head + clen)
        return 0;
    *body = c->in + head;
    *body_len = clen;
    return (long)(head + clen);
}

static void conn_readable(sim *s, conn *c)
{
    for (;;) {
        ssize_t r = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r <= 0) {
            /* closed: an idle keep-alive connection the server timed out, or a request cut
             * off before any answer on a reused connection (sent again, as libcurl does) */
            bool was_busy = c->busy, resend = c->busy && c->reused && c->in_len == 0;
            pending p = c->cur;
            conn_close(s, c);
            c->busy = false;
            if (resend && queue_room(c)) {
                counts(s)->retried++;
                c->q_head = (c->q_head + c->q_cap - 1) % c->q_cap;
                c->q[c->q_head] = p;
                c->q_len++;
            } else if (was_busy) {
                fail_call(s, &p, "connection closed before the answer");
            }
            conn_next(s, c);
            return;
        }
        c->in_len += (size_t)r;
        if (c->in_len >= sizeof c->in - 1)
            break;
    }
    for (;;) {
        int status = 0;
        const char *body = NULL;
        size_t body_len = 0;
        long used = parse_response(c, &status, &body, &body_len);
        if (used == 0)
            return;
        if (used < 0 || !c->busy) {
            pending p = c->cur;
            bool was_busy = c->busy;
            conn_close(s, c);
            c->busy = false;
            if (was_busy)
                fail_call(s, &p, "malformed HTTP answer");
            conn_next(s, c);
            return;
        }
        pending p = c->cur;
        uint64_t sent = c->sent_ns;
        char saved = body[body_len];
        ((char *)body)[body_len] = 0;
        c->busy = false;
        c->reused = true;
        if (status != 200) {
            char why[300];
            snprintf(why, sizeof why, "HTTP %d: %.200s", status, body);
            fail_call(s, &p, why);
        } else {
            answered(s, &p, body, sent);
        }
        ((char *)body)[body_len] = saved;
        memmove(c->in, c->in + used, c->in_len - (size_t)used);
        c->in_len -= (size_t)used;
        conn_next(s, c);
    }
}

/* ---- the threads ---------------------------------------------------------------------------- */

static void record(sim *s, const pending *p, uint64_t sent_ns)
{
    window *w = counts(s);
    w->ok++;
    w->by_call[p->call]++;
    if (!s->win)
        return;
    if (w->n_lat == w->cap_lat) {
        size_t ncap = w->cap_lat ? w->cap_lat * 2 : 65536;
        uint32_t *a = realloc(w->lat_us, ncap * sizeof *a), *b = a ? realloc(w->svc_us, ncap * sizeof *b) : NULL;
        if (a)
            w->lat_us = a;
        if (!a || !b)
            return;
        w->svc_us = b;
        w->cap_lat = ncap;
    }
    uint64_t now = sm_bench_now_ns(), from = p->due_ns < sent_ns ? p->due_ns : sent_ns;
    uint64_t l = (now - from) / 1000, v = (now - sent_ns) / 1000;
    w->lat_us[w->n_lat] = (uint32_t)(l > UINT32_MAX ? UINT32_MAX : l);
    w->svc_us[w->n_lat++] = (uint32_t)(v > UINT32_MAX ? UINT32_MAX : v);
}

static void fail_call(sim *s, const pending *p, const char *why)
{
    window *w = counts(s);
    w->errors++;
    if (!s->err[0])
        snprintf(s->err, sizeof s->err, "%s: %.400s", call_names[p->call], why);
    /* the thread carries on with its schedule, as a worker retries later */
    if (s->warming) {
        if (p->who < s->n_threads && s->th[p->who].warm) {
            s->th[p->who].warm = false;
            s->warm_left--;
        }
        return;
    }
    if (p->who < s->n_threads)
        heap_push(s, tau_now(s) + POLL_S, p->who);
    else
        heap_push(s, s->ping_next[p->who - s->n_threads] + PING_S, p->who);
}

/* Schedules what thread t does after its current action. */
static void plan_next(sim *s, uint32_t who, double now)
{
    thread *t = &s->th[who];
    const step *st = &schedule[t->step];
    if (t->warm) {
        /* warm-up: no waiting; the thread stops at its start point */
        if (t->step == t->warm_target && !t->ended) {
            t->warm = false;
            s->warm_left--;
            return;
        }
        heap_push(s, tau_now(s), who);
        return;
    }
    if (t->ended) {
        heap_push(s, now, who);
        return;
    }
    if (st->poll && !t->final_polled) {
        double next = t->next + POLL_S;
        heap_push(s, next < t->step_end ? next : t->step_end, who);
        return;
    }
    heap_push(s, t->step_end, who);
}

/* Starts step i of thread t at schedule time `at`: its first call, or nothing. */
static void start_step(sim *s, uint32_t who, int i, double at)
{
    thread *t = &s->th[who];
    const step *st = &schedule[i];
    t->step = (uint8_t)i;
    t->ended = false;
    t->final_polled = false;
    t->next = at;
    t->step_end = at + st->seconds;
    if (st->call == C_PERSISTED && !write_persisted(s, t)) {
        fail_call(s, &(pending){ .who = who, .call = C_PERSISTED }, s->err);
        return;
    }
    if (st->call)
        enqueue(s, who, st->call, at);
    else
        plan_next(s, who, at);
}

/* The step is over: report the transition, or (the last step) start a new sector. */
static void end_step(sim *s, uint32_t who, double at)
{
    thread *t = &s->th[who];
    const step *st = &schedule[t->step];
    if (st->next) {
        t->ended = true;
        enqueue(s, who, C_REPORT, at);
    } else {
        start_step(s, who, 0, at);
    }
}

/* Thread action due (from the heap). */
static void act(sim *s, uint32_t who, double at)
{
    if (who >= s->n_threads) {
        enqueue(s, who, C_PING, at);
        return;
    }
    thread *t = &s->th[who];
    const step *st = &schedule[t->step];
    if (t->warm && t->retry) {
        t->retry = false;
        enqueue(s, who, st->call, 0);
        return;
    }
    if (t->warm) {
        /* warm-up: the step's call was answered (or it has none): end it */
        end_step(s, who, 0);
        return;
    }
    if (st->poll && !t->ended && !t->final_polled) {
        /* polls every interval; the one at the step's end sees the wait over */
        if (at >= t->step_end - 1e-6)
            t->final_polled = true;
        t->next = at;
        enqueue(s, who, st->call, at);
        return;
    }
    end_step(s, who, at);
}

static const char *json_str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void answered(sim *s, const pending *p, const char *body, uint64_t sent_ns)
{
    if (strstr(body, "\"error\":")) {
        fail_call(s, p, body);
        return;
    }
    if (p->who >= s->n_threads) {
        record(s, p, sent_ns);
        uint32_t w = p->who - (uint32_t)s->n_threads;
        s->ping_next[w] = p->due + PING_S;
        if (!s->warming)
            heap_push(s, s->ping_next[w], p->who);
        return;
    }
    thread *t = &s->th[p->who];
    double now = s->warming ? 0 : p->due;
    cJSON *j = NULL, *r = NULL;
    switch ((enum call)p->call) {
    case C_ALLOCATE: {
        j = cJSON_Parse(body);
        r = cJSON_GetObjectItemCaseSensitive(j, "result");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(r, "ID");
        const cJSON *num = cJSON_GetObjectItemCaseSensitive(id, "Number");
        if (!cJSON_IsNumber(num) && s->warming) {
            cJSON_Delete(j);
            fail_call(s, p, "AllocateSector answered null: is the miner configured with the proof type?");
            return;
        }
        if (!cJSON_IsNumber(num)) {
            /* null: nothing to seal for this spec now; a worker retries after recover_interval */
            counts(s)->refused++;
            cJSON_Delete(j);
            record(s, p, sent_ns);
            heap_push(s, now + 60, p->who);
            return;
        }
        t->number = (uint64_t)num->valuedouble;
        break;
    }
    case C_TICKET: {
        j = cJSON_Parse(body);
        r = cJSON_GetObjectItemCaseSensitive(j, "result");
        const char *tk = json_str(r, "Ticket");
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(r, "Epoch");
        if (!tk || !cJSON_IsNumber(ep) || strlen(tk) >= sizeof t->ticket) {
            cJSON_Delete(j);
            fail_call(s, p, "AssignTicket answered no ticket");
            return;
        }
        snprintf(t->ticket, sizeof t->ticket, "%s", tk);
        t->ticket_epoch = (int64_t)ep->valuedouble;
        break;
    }
    case C_PRECOMMIT:
        if (!strstr(body, "\"Res\":1") && !strstr(body, "\"Res\":2")) {
            /* right after the manager's genesis the ticket's epoch is not yet before the
             * head: the warm-up waits for the next epoch */
            if (s->warming && strstr(body, "not before the chain head")) {
                record(s, p, sent_ns);
                counts(s)->retried++;
                t->retry = true;
                heap_push(s, tau_now(s) + 1, p->who);
                return;
            }
            counts(s)->refused++;
        }
        break;
    case C_RESERVE:
    case C_PERSISTED:
        if (strstr(body, "\"result\":null") || strstr(body, "\"result\":false"))
            counts(s)->refused++;
        break;
    case C_REPORT:
        if (!strstr(body, "\"AbortReason\":null"))
            counts(s)->refused++;
        break;
    default:
        break;
    }
    cJSON_Delete(j);
    record(s, p, sent_ns);
    if (p->call == C_REPORT) {
        int next = t->step + 1;
        start_step(s, p->who, next < N_STEPS ? next : 0, now);
        return;
    }
    plan_next(s, p->who, now);
}

/* ---- windows and results ------------------------------------------------------------------- */

static uint64_t proc_kib(int pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    uint64_t v = 0;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':')
            v = strtoull(line + kl + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* Resets the manager's VmHWM to its current RSS (needs the right to write clear_refs). */
static bool reset_peak(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/clear_refs", pid);
    int fd = pid > 0 ? open(path, O_WRONLY | O_CLOEXEC) : -1;
    bool ok = fd >= 0 && write(fd, "5", 1) == 1;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Runs the event loop until the heap's next action is past `until` (schedule time) and,
 * in warm-up, until every thread is placed. */
static void loop(sim *s, double until, uint64_t wall_deadline)
{
    struct epoll_event evs[256];
    for (;;) {
        uint64_t now = sm_bench_now_ns();
        if (now >= wall_deadline)
            return;
        if (s->warming && s->warm_left == 0)
            return;
        double tau = tau_now(s);
        while (s->heap_len && s->heap[0].at <= tau && (s->warming || s->heap[0].at < until)) {
            heap_item it = heap_pop(s);
            act(s, it.who, s->warming ? 0 : it.at);
        }
        if (!s->warming && tau >= until)
            return;
        int timeout = 50;
        if (s->heap_len) {
            double wait_ms = (s->heap[0].at - tau) / s->speed * 1000;
            timeout = wait_ms < 0 ? 0 : wait_ms > 50 ? 50 : (int)wait_ms;
        }
        int n = epoll_wait(s->ep, evs, 256, timeout);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            if (c->fd < 0)
                continue;
            if (evs[i].events & EPOLLOUT) {
                if (!flush(s, c)) {
                    pending p = c->cur;
                    conn_close(s, c);
                    c->busy = false;
                    fail_call(s, &p, "send failed");
                    conn_next(s, c);
                    continue;
                } else if (c->out_off == c->out_len) {
                    conn_watch(s, c, false);
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_readable(s, c);
        }
    }
}

static void print_window(const sim *s, window *w, double expected, bool json, bool last)
{
    qsort(w->lat_us, w->n_lat, sizeof *w->lat_us, sm_bench_cmp_u32);
    qsort(w->svc_us, w->n_lat, sizeof *w->svc_us, sm_bench_cmp_u32);
    double rate = (double)w->ok / w->seconds;
    if (json) {
        printf("{\"Method\":\"workers\",\"Workers\":%u,\"ThreadsPerWorker\":%u,\"Sectors\":%zu,"
               "\"Speed\":%g,\"Seconds\":%.1f,\"Requests\":%" PRIu64 ",\"PerSecond\":%.1f,"
               "\"ExpectedPerSecond\":%.1f,\"Errors\":%" PRIu64 ",\"Refused\":%" PRIu64 ",\"Retried\":%" PRIu64
               ",\"P50Ms\":%.3f,\"P90Ms\":%.3f,\"P99Ms\":%.3f,\"MaxMs\":%.3f,\"ServiceP99Ms\":%.3f,"
               "\"ManagerPeakRSSKiB\":%" PRIu64 ",\"ManagerRSSKiB\":%" PRIu64 ",\"ByMethod\":{",
               s->o->workers, s->o->threads, s->n_threads, w->speed, w->seconds, w->ok, rate, expected,
               w->errors, w->refused, w->retried, sm_bench_pct_ms(w->lat_us, w->n_lat, 0.5),
               sm_bench_pct_ms(w->lat_us, w->n_lat, 0.9), sm_bench_pct_ms(w->lat_us, w->n_lat, 0.99),
               w->n_lat ? w->lat_us[w->n_lat - 1] / 1000.0 : 0, sm_bench_pct_ms(w->svc_us, w->n_lat, 0.99),
               w->rss_peak_kib, w->rss_end_kib);
        bool first = true;
        for (int c = 1; c < C_COUNT; c++) {
            if (!w->by_call[c])
                continue;
            printf("%s\"%s\":%" PRIu64, first ? "" : ",", call_names[c], w->by_call[c]);
            first = false;
        }
        printf("}}\n");
    } else {
        printf("  speed x%g: %.0f requests/s (schedule predicts %.0f/s), %" PRIu64 " errors, %" PRIu64
               " refused answers, latency from when due p50 %.2f ms, p99 %.2f ms, max %.2f ms "
               "(service p99 %.2f ms), manager peak RSS %.1f MiB\n", w->speed, rate, expected, w->errors,
               w->refused, sm_bench_pct_ms(w->lat_us, w->n_lat, 0.5), sm_bench_pct_ms(w->lat_us, w->n_lat, 0.99),
               w->n_lat ? w->lat_us[w->n_lat - 1] / 1000.0 : 0, sm_bench_pct_ms(w->svc_us, w->n_lat, 0.99),
               (double)w->rss_peak_kib / 1024);
        if (last)
            fflush(stdout);
    }
}

static void mix_line(const sim *s, FILE *f)
{
    double per[C_COUNT], total = 0, cyc = cycle_seconds();
    cycle_calls(per);
    for (int c = 1; c < C_COUNT; c++)
        total += per[c];
    double threads = (double)s->n_threads, pings = (double)s->o->workers / PING_S;
    double rate = threads * total / cyc + pings;
    fprintf(f, "# bench workers: %u workers x %u sealing threads = %zu sectors in flight; one 32GiB "
            "sector every %.1f h per thread, polling every %.0f s, WorkerPing every %.0f s\n",
            s->o->workers, s->o->threads, s->n_threads, cyc / 3600, POLL_S, PING_S);
    fprintf(f, "# mix at speed x1 (%.1f requests/s):", rate);
    for (int c = 1; c < C_COUNT; c++) {
        double r = c == C_PING ? pings : threads * per[c] / cyc;
        if (r > 0)
            fprintf(f, " %s %.1f%%", call_names[c], 100 * r / rate);
    }
    fprintf(f, "\n");
}

static double expected_rate(const sim *s, double speed)
{
    double per[C_COUNT], total = 0;
    cycle_calls(per);
    for (int c = 1; c < C_COUNT; c++)
        total += per[c];
    return speed * ((double)s->n_threads * total / cycle_seconds() + (double)s->o->workers / PING_S);
}

/* ---- setup ---------------------------------------------------------------------------------- */

static int setup(sim *s)
{
    const load_opts *o = s->o;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    int rc = getaddrinfo(o->host, o->port, &hints, &s->addr);
    if (rc) {
        snprintf(s->err, sizeof s->err, "%.256s:%.15s: %s", o->host, o->port, gai_strerror(rc));
        return -1;
    }
    s->n_threads = (size_t)o->workers * o->threads;
    s->n_conn = o->connections ? o->connections : o->workers;
    s->th = calloc(s->n_threads, sizeof *s->th);
    s->ping_next = calloc(o->workers, sizeof *s->ping_next);
    s->cn = calloc(s->n_conn, sizeof *s->cn);
    s->heap = calloc(s->n_threads + o->workers + 16, sizeof *s->heap);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!s->th || !s->ping_next || !s->cn || !s->heap || s->ep < 0) {
        snprintf(s->err, sizeof s->err, "out of memory for %zu threads", s->n_threads);
        return -1;
    }
    for (unsigned i = 0; i < s->n_conn; i++)
        s->cn[i].fd = -1;
    pf_error pe;
    if (pf_zero_comm(o->sector_size, s->comm_d, &pe) != PF_OK) {
        snprintf(s->err, sizeof s->err, "CommD of an empty %" PRIu64 "-byte sector: %.400s", o->sector_size, pe.msg);
        return -1;
    }
    /* a proof the size of a 10-partition Groth16 proof: parsed, then refused */
    uint8_t proof[192 * 10];
    memset(proof, 0xa5, sizeof proof);
    size_t n = 0;
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i + 2 < 192 && n + 4 < sizeof s->proof_b64; i += 3) {
        uint32_t v = (uint32_t)proof[i] << 16 | (uint32_t)proof[i + 1] << 8 | proof[i + 2];
        for (int k = 3; k >= 0; k--)
            s->proof_b64[n++] = b64[(v >> (6 * k)) & 63];
    }
    s->proof_b64[n] = 0;
    s->rng = o->seed ? o->seed : 0x5ea1b1be;
    s->speed = 1;
    return 0;
}

static void teardown(sim *s)
{
    for (unsigned i = 0; s->cn && i < s->n_conn; i++) {
        if (s->cn[i].fd >= 0)
            close(s->cn[i].fd);
        free(s->cn[i].q);
    }
    if (s->ep >= 0)
        close(s->ep);
    if (s->addr)
        freeaddrinfo(s->addr);
    free(s->th);
    free(s->ping_next);
    free(s->cn);
    free(s->heap);
    free(s->warm.lat_us);
    free(s->warm.svc_us);
}

/* Places every thread at a random point of its schedule: warm-up target step and the
 * schedule time of its first measured action. */
static void place(sim *s, double *offset)
{
    double cyc = cycle_seconds();
    for (size_t i = 0; i < s->n_threads; i++) {
        thread *t = &s->th[i];
        t->worker = (uint32_t)(i / s->o->threads);
        t->index = (uint16_t)(i % s->o->threads);
        double u = rnd(s) * cyc, at = 0;
        int k = 0;
        while (k < N_STEPS - 1 && at + schedule[k].seconds <= u)
            at += schedule[k++].seconds;
        t->warm_target = (uint8_t)k;
        t->warm = true;
        offset[i] = u - at; /* time already spent in the target step */
    }
}

static bool quiet(const sim *s)
{
    for (unsigned i = 0; i < s->n_conn; i++)
        if (s->cn[i].busy || s->cn[i].q_len)
            return false;
    return true;
}

static int run(const load_opts *o)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.o = o;
    s.ep = -1;
    int ret = 1;
    double *offset = NULL;
    window *wins = calloc(o->n_speeds, sizeof *wins);
    if (!wins || setup(&s) || !(offset = calloc(s.n_threads, sizeof *offset))) {
        fprintf(stderr, "bench workers: %s\n", s.err[0] ? s.err : "out of memory");
        goto out;
    }
    mix_line(&s, stderr);

    /* warm-up: every thread to its start point, every worker pinged once */
    uint64_t w0 = sm_bench_now_ns(), deadline = w0 + (uint64_t)o->warmup_limit_s * 1000000000ULL;
    s.warming = true;
    s.tau0 = 0;
    s.wall0 = w0;
    s.speed = 1;
    place(&s, offset);
    s.warm_left = s.n_threads;
    for (size_t i = 0; i < s.n_threads; i++)
        start_step(&s, (uint32_t)i, 0, 0);
    for (uint32_t w = 0; w < o->workers; w++)
        enqueue(&s, (uint32_t)s.n_threads + w, C_PING, 0);
    while ((s.warm_left || !quiet(&s)) && sm_bench_now_ns() < deadline)
        loop(&s, 0, deadline);
    double warm_s = (double)(sm_bench_now_ns() - w0) / 1e9;
    if (s.warm_left || !quiet(&s)) {
        fprintf(stderr, "bench workers: warm-up did not place %zu of %zu threads within %u s (%s)\n",
                s.warm_left, s.n_threads, o->warmup_limit_s, s.err[0] ? s.err : "the manager is too slow");
        goto out;
    }
    fprintf(stderr, "# warm-up: %" PRIu64 " requests in %.1f s (%" PRIu64 " errors, %" PRIu64 " refused, %"
            PRIu64 " retried); every thread placed in its schedule\n", s.warm.ok, warm_s, s.warm.errors,
            s.warm.refused, s.warm.retried);
    if (s.warm.errors) {
        fprintf(stderr, "bench workers: first error: %s\n", s.err);
        goto out;
    }
    s.warming = false;
    s.heap_len = 0;

    /* measured windows: schedule time 0 is now; each thread is offset[i] into its step */
    s.tau0 = 0;
    s.wall0 = sm_bench_now_ns();
    s.speed = o->speeds[0];
    for (size_t i = 0; i < s.n_threads; i++) {
        thread *t = &s.th[i];
        const step *st = &schedule[t->step];
        double start = -offset[i];
        t->step_end = start + st->seconds;
        t->ended = false;
        t->final_polled = false;
        double first = t->step_end;
        if (st->poll) {
            double k = floor(offset[i] / POLL_S) + 1;
            if (start + k * POLL_S < t->step_end)
                first = start + k * POLL_S;
        }
        heap_push(&s, first, (uint32_t)i);
    }
    for (uint32_t w = 0; w < o->workers; w++) {
        s.ping_next[w] = rnd(&s) * PING_S;
        heap_push(&s, s.ping_next[w], (uint32_t)s.n_threads + w);
    }
    bool all_ok = true;
    for (unsigned k = 0; k < o->n_speeds; k++) {
        window *w = &wins[k];
        w->speed = o->speeds[k];
        /* schedule time carries on at the new speed */
        double tau = tau_now(&s);
        s.tau0 = tau;
        s.wall0 = sm_bench_now_ns();
        s.speed = w->speed;
        bool reset = reset_peak(o->pid);
        s.win = w;
        uint64_t start = sm_bench_now_ns();
        loop(&s, tau + o->seconds * w->speed, start + (uint64_t)((o->seconds + 30) * 1e9));
        w->seconds = (double)(sm_bench_now_ns() - start) / 1e9;
        s.win = NULL;
        w->rss_peak_kib = proc_kib(o->pid, reset ? "VmHWM" : "VmRSS");
        w->rss_end_kib = proc_kib(o->pid, "VmRSS");
        print_window(&s, w, expected_rate(&s, w->speed), o->json, k + 1 == o->n_speeds);
        if (w->errors)
            all_ok = false;
    }
    if (s.err[0])
        fprintf(stderr, "bench workers: first error: %s\n", s.err);
    ret = all_ok ? 0 : 1;
out:
    for (unsigned k = 0; wins && k < o->n_speeds; k++) {
        free(wins[k].lat_us);
        free(wins[k].svc_us);
    }
    free(wins);
    free(offset);
    teardown(&s);
    return ret;
}

/* ---- the command ---------------------------------------------------------------------------- */

static int parse_speeds(const char *arg, load_opts *o)
{
    o->n_speeds = 0;
    for (const char *p = arg; *p && o->n_speeds < MAX_SPEEDS;) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0) || v > 10000)
            return -1;
        o->speeds[o->n_speeds++] = v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return o->n_speeds ? 0 : -1;
}

static int read_secret_file(const char *path, char *out, size_t cap)
{
    char *text = NULL;
    size_t n = 0;
    sp_err err;
    if (sp_read_file(path, cap - 1, &text, &n, &err) != SP_OK)
        return sp_cli_fail("bench workers: %s", err.msg);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r'))
        text[--n] = 0;
    memcpy(out, text, n + 1);
    explicit_bzero(text, n);
    free(text);
    return 0;
}

/* The store's path, as a worker learns it: Venus.StoreBasicInfo. */
static void store_path(load_opts *o)
{
    sim s;
    memset(&s, 0, sizeof s);
    s.o = o;
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
    if (getaddrinfo(o->host, o->port, &hints, &s.addr))
        return;
    conn c = { .fd = dial(&s) };
    freeaddrinfo(s.addr);
    if (c.fd < 0)
        return;
    char body[300];
    int bl = snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Venus.StoreBasicInfo\",\"params\":[\"%s\"]}",
                      o->store_name);
    int n = snprintf(c.out, sizeof c.out, "POST /rpc/v0 HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", o->host, o->port,
                     o->token, bl, body);
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = { 10, 0 };
    setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int status = 0;
    const char *rb = NULL;
    size_t rl = 0;
    if (n > 0 && send(c.fd, c.out, (size_t)n, MSG_NOSIGNAL) == n) {
        long used = 0;
        while (used == 0) {
            ssize_t r = recv(c.fd, c.in + c.in_len, sizeof c.in - 1 - c.in_len, 0);
            if (r <= 0)
                break;
            c.in_len += (size_t)r;
            used = parse_response(&c, &status, &rb, &rl);
        }
        if (used > 0 && status == 200) {
            cJSON *j = cJSON_ParseWithLength(rb, rl);
            const char *path = json_str(cJSON_GetObjectItemCaseSensitive(j, "result"), "Path");
            if (path && sp_is_dir(path))
                snprintf(o->store_dir, sizeof o->store_dir, "%s", path);
            cJSON_Delete(j);
        }
    }
    close(c.fd);
}

int sm_cmd_bench_workers(int argc, char **argv)
{
    static const struct option opts[] = {
        SM_CLI_COMMON_OPTS, { "url", required_argument, NULL, 'u' },
        { "token-file", required_argument, NULL, 't' }, { "seconds", required_argument, NULL, 's' },
        { "method", required_argument, NULL, 'm' }, { "miner", required_argument, NULL, 'M' },
        { "workers", required_argument, NULL, 'W' }, { "threads", required_argument, NULL, 'T' },
        { "speed", required_argument, NULL, 'S' }, { "connections", required_argument, NULL, 'C' },
        { "store", required_argument, NULL, 'n' }, { "store-dir", required_argument, NULL, 'd' },
        { "pid", required_argument, NULL, 'p' }, { "seed", required_argument, NULL, 'r' },
        { "warmup-limit", required_argument, NULL, 'w' }, { 0 },
    };
    const char *cmd = "bench rpc --method workers";
    load_opts o;
    memset(&o, 0, sizeof o);
    o.miner = 1000;
    o.workers = 1000;
    o.threads = 32;
    o.seconds = 60;
    o.speeds[0] = 1;
    o.n_speeds = 1;
    o.warmup_limit_s = 600;
    o.proof_type = 5;      /* StackedDrg2KiBV1_1: see the top comment */
    o.sector_size = 2048;
    snprintf(o.store_name, sizeof o.store_name, "s1");
    const char *home = NULL, *url = NULL, *token_file = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H': home = optarg; break;
        case 'j': o.json = true; break;
        case 'u': url = optarg; break;
        case 't': token_file = optarg; break;
        case 's': o.seconds = strtod(optarg, NULL); break;
        case 'm': break; /* "workers", checked by bench rpc */
        case 'M':
            if (sm_cli_parse_miner(cmd, optarg, &o.miner))
                return 2;
            break;
        case 'W': o.workers = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'T': o.threads = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'C': o.connections = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S':
            if (parse_speeds(optarg, &o))
                return sm_cli_usage(cmd, "--speed takes factors like 1 or 1,10,40 (at most %d, each 0..10000)",
                                    MAX_SPEEDS);
            break;
        case 'n': snprintf(o.store_name, sizeof o.store_name, "%s", optarg); break;
        case 'd': snprintf(o.store_dir, sizeof o.store_dir, "%s", optarg); break;
        case 'p': o.pid = atoi(optarg); break;
        case 'r': o.seed = strtoull(optarg, NULL, 10); break;
        case 'w': o.warmup_limit_s = (unsigned)strtoul(optarg, NULL, 10); break;
        default:
            return sm_cli_usage(cmd, "unknown option; see the top of sector-manager/src/bench_load.c: --workers N "
                                "--threads N --seconds S --speed 1,10 --connections N --store NAME --pid PID");
        }
    }
    if (optind < argc)
        return sm_cli_usage(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (o.workers == 0 || o.workers > 100000 || o.threads == 0 || o.threads > 1024 ||
        (uint64_t)o.workers * o.threads > 10000000 || o.connections > 100000 || !(o.seconds > 0) ||
        o.seconds > 86400 || o.warmup_limit_s == 0)
        return sm_cli_usage(cmd, "--workers 1..100000, --threads 1..1024 (at most 10^7 in all), "
                            "--connections 0..100000, --seconds 0..86400");
    sm_home h;
    sp_err err;
    char base[512];
    bool have_home = false;
    if (!url || !token_file) {
        if (sm_home_resolve(home, &h, &err) != SP_OK)
            return sp_cli_fail("%s: %s", cmd, err.msg);
        have_home = true;
        if (!url && sm_home_base_url(&h, base, sizeof base, &err) != SP_OK)
            return sp_cli_fail("%s: %s", cmd, err.msg);
        if (!url)
            url = base;
        if (!token_file)
            token_file = h.worker_token; /* the workers' own scope */
    }
    if (sm_bench_split_url(url, o.host, o.port))
        return sm_cli_usage(cmd, "--url must be http://HOST:PORT");
    if (read_secret_file(token_file, o.token, sizeof o.token))
        return 1;
    if (!o.pid && have_home) {
        /* the daemon's pid is in its home's lock file */
        char pid[32];
        if (read_secret_file(h.lock, pid, sizeof pid) == 0)
            o.pid = atoi(pid);
    }
    if (!o.store_dir[0])
        store_path(&o);
    if (!o.store_dir[0])
        fprintf(stderr, "# store %s is not a directory here: SubmitPersisted will find no files\n", o.store_name);
    int rc = run(&o);
    explicit_bzero(o.token, sizeof o.token);
    return rc;
}
