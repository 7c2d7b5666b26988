/* bench.c — `sector-manager bench rpc`: a JSON-RPC load generator for the manager.
 * (--method workers, the traffic of simulated workers at their real rates, is bench_load.c.)
 *
 * Each client is a thread with one keep-alive HTTP/1.1 connection, sending the next
 * request as soon as the answer to the previous one is in (closed loop), so the rate
 * measured is what the manager sustains for that many concurrent callers.  The client
 * side is a few hundred bytes of hand-built HTTP per request, kept small so the load
 * generator does not take the CPU the manager needs on a small machine.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sm_bench_net.h"
#include "sm_cli.h"
#include "sm_home.h"
#include "sp_fs.h"

/* --method workers: a whole cluster's traffic from simulated workers (bench_load.c). */
int sm_cmd_bench_workers(int argc, char **argv);

enum bench_method { B_ALLOC, B_REPORT, B_MIXED, B_PING };

typedef struct bench_cfg {
    char host[SM_BENCH_HOST_MAX];
    char port[SM_BENCH_PORT_MAX];
    char token[4200];
    enum bench_method method;
    uint64_t miner;
    unsigned clients;
    double seconds;
} bench_cfg;

typedef struct client {
    const bench_cfg *cfg;
    unsigned index;
    int fd;
    uint64_t deadline_ns;
    uint64_t ok, errors, nulls;
    uint32_t *lat_us;
    size_t n_lat, cap_lat;
    uint64_t sector;           /* for report: the sector it reports on */
    bool have_sector;
    char err[512];
} client;

/* Reads one HTTP response into buf; returns the status, or -1.  *body points into buf. */
static int read_response(int fd, char *buf, size_t cap, char **body, size_t *body_len)
{
    size_t have, head;
    int status;
    uint64_t clen;
    if (sm_bench_read_head(fd, buf, cap, &have, &head, &status, &clen) || clen >= cap ||
        head + clen + 1 > cap)
        return -1;
    while (have < head + clen) {
        ssize_t r = recv(fd, buf + have, head + clen - have, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    buf[head + clen] = 0;
    *body = buf + head;
    *body_len = clen;
    return status;
}

static int build_body(client *c, uint64_t id, bool alloc, char *out, size_t len)
{
    const bench_cfg *g = c->cfg;
    if (alloc)
        return snprintf(out, len, "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"Venus.AllocateSector\","
                        "\"params\":[{\"AllowedMiners\":[%" PRIu64 "],\"AllowedProofTypes\":null}]}",
                        id, g->miner);
    if (g->method == B_PING)
        return snprintf(out, len, "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"Venus.WorkerPing\","
                        "\"params\":[{\"Name\":\"bench-%u\",\"Dest\":\"127.0.0.1:0\",\"Version\":\"bench\","
                        "\"Summary\":{\"Threads\":32,\"Empty\":0,\"Paused\":0,\"Running\":32,"
                        "\"Waiting\":0,\"Errors\":0}}]}", id, c->index);
    static const char *const states[] = { "PC1Done", "PC2Done", "PCSubmitted" };
    const char *st = states[id % 3];
    return snprintf(out, len, "{\"jsonrpc\":\"2.0\",\"id\":%" PRIu64 ",\"method\":\"Venus.ReportState\","
                    "\"params\":[{\"Miner\":%" PRIu64 ",\"Number\":%" PRIu64 "},{\"Worker\":{\"Instance\":"
                    "\"bench-%u\",\"Location\":\"/bench/%u\"},\"StateChange\":{\"Prev\":\"%s\","
                    "\"Next\":\"%s\",\"Event\":\"Bench\"},\"Failure\":null}]}", id, g->miner, c->sector,
                    c->index, c->index, st, st);
}

/* One request; returns false on a transport error (the connection is then reopened). */
static bool one_call(client *c, uint64_t id, bool alloc, bool count)
{
    char body[768], req[6000], resp[16384];
    int bl = build_body(c, id, alloc, body, sizeof body);
    int rl = snprintf(req, sizeof req, "POST /rpc/v0 HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                      c->cfg->host, c->cfg->port, c->cfg->token, bl, body);
    if (rl <= 0 || (size_t)rl >= sizeof req)
        return false;
    uint64_t t0 = sm_bench_now_ns();
    char *rbody;
    size_t rlen;
    int status = sm_bench_send_all(c->fd, req, (size_t)rl) ? read_response(c->fd, resp, sizeof resp, &rbody, &rlen) : -1;
    uint64_t dt = sm_bench_now_ns() - t0;
    if (status < 0) {
        if (count)
            c->errors++;
        snprintf(c->err, sizeof c->err, "connection lost");
        return false;
    }
    bool ok = status == 200 && !strstr(rbody, "\"error\"");
    if (ok && alloc && strstr(rbody, "\"result\":null"))
        c->nulls++;
    if (ok && alloc && !c->have_sector) {
        const char *n = strstr(rbody, "\"Number\":");
        if (n) {
            c->sector = strtoull(n + 9, NULL, 10);
            c->have_sector = true;
        }
    }
    if (!ok)
        snprintf(c->err, sizeof c->err, "HTTP %d: %.200s", status, rbody);
    if (!count)
        return true;
    if (!ok) {
        c->errors++;
        return true;
    }
    c->ok++;
    if (c->n_lat == c->cap_lat) {
        size_t ncap = c->cap_lat ? c->cap_lat * 2 : 4096;
        uint32_t *nl = realloc(c->lat_us, ncap * sizeof *nl);
        if (!nl)
            return true;
        c->lat_us = nl;
        c->cap_lat = ncap;
    }
    c->lat_us[c->n_lat++] = (uint32_t)(dt / 1000 > UINT32_MAX ? UINT32_MAX : dt / 1000);
    return true;
}

static void *client_main(void *p)
{
    client *c = p;
    const bench_cfg *g = c->cfg;
    c->fd = sm_bench_dial(g->host, g->port, c->err, sizeof c->err);
    if (c->fd < 0)
        return NULL;
    uint64_t id = (uint64_t)c->index << 32;
    /* report and mixed need a sector to report on. */
    if ((g->method == B_REPORT || g->method == B_MIXED) && (!one_call(c, id++, true, false) || !c->have_sector)) {
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "AllocateSector gave no sector (is miner %" PRIu64 " configured?)",
                     g->miner);
        c->errors++;
        return NULL;
    }
    while (sm_bench_now_ns() < c->deadline_ns) {
        bool alloc = g->method == B_ALLOC || (g->method == B_MIXED && id % 16 == 0);
        if (!one_call(c, id++, alloc, true)) {
            close(c->fd);
            c->fd = sm_bench_dial(g->host, g->port, c->err, sizeof c->err);
            if (c->fd < 0)
                return NULL;
        }
    }
    return NULL;
}

static int read_token(const char *path, bench_cfg *cfg)
{
    char *text = NULL;
    size_t n = 0;
    sp_err err;
    if (sp_read_file(path, sizeof cfg->token - 1, &text, &n, &err) != SP_OK)
        return sp_cli_fail("bench rpc: %s", err.msg);
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = 0;
    memcpy(cfg->token, text, n + 1);
    free(text);
    return 0;
}

int sm_cmd_bench_rpc(int argc, char **argv)
{
    static const struct option opts[] = {
        SM_CLI_COMMON_OPTS, { "url", required_argument, NULL, 'u' },
        { "token-file", required_argument, NULL, 't' }, { "clients", required_argument, NULL, 'c' },
        { "seconds", required_argument, NULL, 's' }, { "method", required_argument, NULL, 'm' },
        { "miner", required_argument, NULL, 'M' }, { 0 },
    };
    const char *cmd = "bench rpc";
    for (int i = 1; i < argc; i++)
        if ((!strcmp(argv[i], "--method") && i + 1 < argc && !strcmp(argv[i + 1], "workers")) ||
            !strcmp(argv[i], "--method=workers"))
            return sm_cmd_bench_workers(argc, argv);
    bench_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.clients = 32;
    cfg.seconds = 5;
    cfg.method = B_MIXED;
    cfg.miner = 1000;
    const char *home = NULL, *url = NULL, *token_file = NULL;
    bool json = false;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H': home = optarg; break;
        case 'j': json = true; break;
        case 'u': url = optarg; break;
        case 't': token_file = optarg; break;
        case 'c': cfg.clients = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': cfg.seconds = strtod(optarg, NULL); break;
        case 'M':
            if (sm_cli_parse_miner(cmd, optarg, &cfg.miner))
                return 2;
            break;
        case 'm':
            if (strcmp(optarg, "alloc") == 0)
                cfg.method = B_ALLOC;
            else if (strcmp(optarg, "report") == 0)
                cfg.method = B_REPORT;
            else if (strcmp(optarg, "mixed") == 0)
                cfg.method = B_MIXED;
            else if (strcmp(optarg, "ping") == 0)
                cfg.method = B_PING;
            else
                return sm_cli_usage(cmd, "--method must be alloc, report, mixed, ping or workers");
            break;
        default: return sm_cli_usage(cmd, "unknown option");
        }
    }
    if (optind < argc)
        return sm_cli_usage(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (cfg.clients == 0 || cfg.clients > 10000 || !(cfg.seconds > 0) || cfg.seconds > 3600)
        return sm_cli_usage(cmd, "--clients must be 1..10000 and --seconds 0..3600");
    sm_home h;
    sp_err err;
    char base[512];
    if (!url || !token_file) {
        if (sm_home_resolve(home, &h, &err) != SP_OK)
            return sp_cli_fail("%s: %s", cmd, err.msg);
        if (!url && sm_home_base_url(&h, base, sizeof base, &err) != SP_OK)
            return sp_cli_fail("%s: %s", cmd, err.msg);
        if (!url)
            url = base;
        if (!token_file)
            token_file = h.admin_token;
    }
    if (sm_bench_split_url(url, cfg.host, cfg.port))
        return sm_cli_usage(cmd, "--url must be http://HOST:PORT");
    if (read_token(token_file, &cfg))
        return 1;

    client *cl = calloc(cfg.clients, sizeof *cl);
    pthread_t *th = calloc(cfg.clients, sizeof *th);
    if (!cl || !th) {
        free(cl);
        free(th);
        return sp_cli_fail("%s: out of memory", cmd);
    }
    uint64_t start = sm_bench_now_ns(), deadline = start + (uint64_t)(cfg.seconds * 1e9);
    unsigned started = 0;
    for (unsigned i = 0; i < cfg.clients; i++) {
        cl[i] = (client){ .cfg = &cfg, .index = i, .fd = -1, .deadline_ns = deadline };
        if (pthread_create(&th[i], NULL, client_main, &cl[i]) != 0)
            break;
        started++;
    }
    uint64_t ok = 0, errors = 0, nulls = 0;
    size_t total = 0;
    const char *first_err = NULL;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        ok += cl[i].ok;
        errors += cl[i].errors;
        nulls += cl[i].nulls;
        total += cl[i].n_lat;
        if (!first_err && cl[i].err[0] && (cl[i].errors || cl[i].fd < 0))
            first_err = cl[i].err;
    }
    double elapsed = (double)(sm_bench_now_ns() - start) / 1e9;
    uint32_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (unsigned i = 0; i < started && all; i++) {
        memcpy(all + k, cl[i].lat_us, cl[i].n_lat * sizeof *all);
        k += cl[i].n_lat;
    }
    if (all)
        qsort(all, k, sizeof *all, sm_bench_cmp_u32);
    static const char *const names[] = { "alloc", "report", "mixed", "ping" };
    double rate = (double)ok / elapsed;
    if (json) {
        printf("{\"Method\":\"%s\",\"Clients\":%u,\"Seconds\":%.3f,\"Requests\":%" PRIu64 ",\"Errors\":%" PRIu64
               ",\"NullAllocations\":%" PRIu64 ",\"PerSecond\":%.1f,\"P50Ms\":%.3f,\"P90Ms\":%.3f,"
               "\"P99Ms\":%.3f,\"MaxMs\":%.3f}\n", names[cfg.method], cfg.clients, elapsed, ok, errors,
               nulls, rate, sm_bench_pct_ms(all, k, 0.5), sm_bench_pct_ms(all, k, 0.9), sm_bench_pct_ms(all, k, 0.99), k ? all[k - 1] / 1000.0 : 0);
    } else {
        printf("bench rpc: %s, %u clients, %.1f s against %s:%s\n", names[cfg.method], cfg.clients, elapsed,
               cfg.host, cfg.port);
        printf("  requests: %" PRIu64 " (%.0f/s), errors: %" PRIu64 "%s\n", ok, rate, errors,
               nulls ? " (some AllocateSector answers were null: no numbers left?)" : "");
        printf("  latency:  p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", sm_bench_pct_ms(all, k, 0.5),
               sm_bench_pct_ms(all, k, 0.9), sm_bench_pct_ms(all, k, 0.99), k ? all[k - 1] / 1000.0 : 0);
    }
    if (first_err)
        fprintf(stderr, "bench rpc: first error: %s\n", first_err);
    for (unsigned i = 0; i < cfg.clients; i++) {
        if (cl[i].fd >= 0)
            close(cl[i].fd);
        free(cl[i].lat_us);
    }
    free(all);
    free(cl);
    free(th);
    explicit_bzero(cfg.token, sizeof cfg.token);
    return errors || ok == 0 ? 1 : 0;
}
