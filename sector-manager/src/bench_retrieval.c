/* bench_retrieval.c — `sector-manager bench retrieval`: a closed-loop load generator for
 * block retrieval (/ipfs/<cid>?format=raw over a list of CIDs) and piece range reads
 * (/piece/<cid> with Range requests walking the piece).
 *
 * Each client is a thread with one keep-alive HTTP/1.1 connection that sends the next
 * request as soon as the previous answer is read.  Bodies are read into one reused buffer
 * and dropped, so the client costs as little CPU as possible next to the server it
 * measures on the same machine.  Output: requests/s, MB/s, latency p50/p90/p99/max, and
 * (--json) the client's own CPU seconds.
 *
 * `--make-car FILE --blocks N --block-size SIZE` writes the data set instead: a CARv1 of
 * N blocks of random bytes (raw codec, sha2-256) and FILE.cids with their CIDs. */
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
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sm_bench_net.h"
#include "sm_car.h"
#include "sm_cid.h"
#include "sm_cli.h"
#include "sm_home.h"
#include "sp_fs.h"
#include "sp_json.h"
#include "sp_size.h"

#define BODY_BUF (4u << 20)
#define MAX_CIDS 100000

typedef struct rcfg {
    char host[SM_BENCH_HOST_MAX], port[SM_BENCH_PORT_MAX];
    char token[4200];
    char **cids;
    size_t n_cids;
    const char *piece;
    uint64_t piece_size, range;
    bool once;             /* piece: each range read once, split among the clients */
    unsigned clients;
    double seconds;
} rcfg;

typedef struct rclient {
    const rcfg *cfg;
    unsigned index;
    int fd;
    uint64_t deadline_ns;
    uint64_t ok, errors, bytes;
    uint32_t *lat_us;
    size_t n_lat, cap_lat;
    char err[256];
    uint8_t *buf;
} rclient;

/* Reads one response, dropping the body; returns the status or -1; *body_len its size. */
static int read_response(rclient *c, uint64_t *body_len)
{
    size_t have, head;
    int status;
    uint64_t clen;
    if (sm_bench_read_head(c->fd, (char *)c->buf, 16384, &have, &head, &status, &clen))
        return -1;
    uint64_t got = have - head;
    while (got < clen) {
        size_t want = clen - got < BODY_BUF ? (size_t)(clen - got) : BODY_BUF;
        ssize_t r = recv(c->fd, c->buf, want, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (uint64_t)r;
    }
    *body_len = clen;
    return status;
}

static void record(rclient *c, uint64_t ns)
{
    if (c->n_lat == c->cap_lat) {
        size_t cap = c->cap_lat ? c->cap_lat * 2 : 4096;
        uint32_t *v = realloc(c->lat_us, cap * sizeof *v);
        if (!v)
            return;
        c->lat_us = v;
        c->cap_lat = cap;
    }
    c->lat_us[c->n_lat++] = (uint32_t)(ns / 1000 > UINT32_MAX ? UINT32_MAX : ns / 1000);
}

static void *client_main(void *arg)
{
    rclient *c = arg;
    const rcfg *g = c->cfg;
    char req[8192];
    uint64_t i = c->index, off = (uint64_t)c->index * g->range;
    while (sm_bench_now_ns() < c->deadline_ns) {
        if (c->fd < 0 && (c->fd = sm_bench_dial(g->host, g->port, c->err, sizeof c->err)) < 0) {
            c->errors++;
            sp_sleep_ms(50);
            continue;
        }
        int n;
        if (g->piece) {
            if (off >= g->piece_size) {
                if (g->once)
                    break;
                off = (off - g->piece_size) % g->range; /* wrap around, staying on a range boundary */
            }
            uint64_t end = off + g->range > g->piece_size ? g->piece_size : off + g->range;
            n = snprintf(req, sizeof req, "GET /piece/%s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n"
                         "Range: bytes=%" PRIu64 "-%" PRIu64 "\r\n\r\n", g->piece, g->host, g->port, g->token,
                         off, end - 1);
            off = g->once ? off + (uint64_t)g->clients * g->range : end;
        } else {
            n = snprintf(req, sizeof req, "GET /ipfs/%s?format=raw HTTP/1.1\r\nHost: %s:%s\r\n"
                         "Authorization: Bearer %s\r\n\r\n", g->cids[i % g->n_cids], g->host, g->port, g->token);
            i += g->clients;
        }
        if (n <= 0 || (size_t)n >= sizeof req)
            break;
        uint64_t t0 = sm_bench_now_ns(), len = 0;
        int status = sm_bench_send_all(c->fd, req, (size_t)n) ? read_response(c, &len) : -1;
        if (status < 0) {
            c->errors++;
            snprintf(c->err, sizeof c->err, "connection lost");
            close(c->fd);
            c->fd = -1;
            continue;
        }
        if (status != 200 && status != 206) {
            c->errors++;
            snprintf(c->err, sizeof c->err, "HTTP %d", status);
            continue;
        }
        record(c, sm_bench_now_ns() - t0);
        c->ok++;
        c->bytes += len;
    }
    if (c->fd >= 0)
        close(c->fd);
    return NULL;
}

static int load_cids(const char *file, rcfg *cfg)
{
    char *text = NULL;
    size_t len = 0;
    sp_err err;
    if (sp_read_file(file, 64 << 20, &text, &len, &err) != SP_OK)
        return sp_cli_fail("bench retrieval: %s", err.msg);
    cfg->cids = calloc(MAX_CIDS, sizeof *cfg->cids);
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); cfg->cids && line && cfg->n_cids < MAX_CIDS;
         line = strtok_r(NULL, "\n", &save))
        if (*line && strlen(line) < 200)
            cfg->cids[cfg->n_cids++] = strdup(line);
    free(text);
    if (cfg->n_cids == 0)
        return sp_cli_fail("bench retrieval: %s holds no CIDs", file);
    return 0;
}

/* A CARv1 of n random raw blocks of size bytes, and <file>.cids listing their CIDs. */
static int make_car(const char *file, uint64_t n, uint64_t size)
{
    char cids_path[4200];
    snprintf(cids_path, sizeof cids_path, "%s.cids", file);
    FILE *car = fopen(file, "wb"), *cids = fopen(cids_path, "w");
    uint8_t *block = malloc(size ? size : 1);
    int rc = 0;
    if (!car || !cids || !block) {
        rc = sp_cli_fail("bench retrieval: cannot write %s", file);
        goto out;
    }
    for (uint64_t i = 0; i < n && !rc; i++) {
        for (uint64_t off = 0; off < size;) {
            ssize_t r = getrandom(block + off, size - off, 0);
            if (r <= 0)
                break;
            off += (uint64_t)r;
        }
        sm_cid c;
        sm_cid_raw_sha256(SM_CODEC_RAW, block, size, &c);
        if (i == 0) {
            /* the header names the first block as the root: a one-block CAR's header */
            uint8_t *one = NULL;
            size_t one_len = 0;
            sp_err err;
            if (sm_car_single(&c, NULL, 0, &one, &one_len, &err) != SP_OK) {
                rc = sp_cli_fail("bench retrieval: %s", err.msg);
                break;
            }
            /* keep the header only: drop the empty block's section at its end */
            uint8_t cbin[SM_CID_BYTES_MAX], v[9];
            size_t cn = sm_cid_encode(&c, cbin, sizeof cbin), vn = sm_varint_encode(cn, v);
            fwrite(one, 1, one_len - cn - vn, car);
            free(one);
        }
        uint8_t cbin[SM_CID_BYTES_MAX], v[9];
        size_t cn = sm_cid_encode(&c, cbin, sizeof cbin), vn = sm_varint_encode(cn + size, v);
        char s[SM_CID_STR_MAX];
        sm_cid_format(&c, s, sizeof s);
        if (fwrite(v, 1, vn, car) != vn || fwrite(cbin, 1, cn, car) != cn || fwrite(block, 1, size, car) != size ||
            fprintf(cids, "%s\n", s) < 0)
            rc = sp_cli_fail("bench retrieval: writing %s: %s", file, strerror(errno));
    }
out:
    free(block);
    if (car && fclose(car) != 0 && !rc)
        rc = sp_cli_fail("bench retrieval: closing %s", file);
    if (cids && fclose(cids) != 0 && !rc)
        rc = sp_cli_fail("bench retrieval: closing %s", cids_path);
    if (!rc)
        fprintf(stderr, "wrote %s (%" PRIu64 " blocks of %" PRIu64 " bytes) and %s\n", file, n, size, cids_path);
    return rc;
}

static int split_url(const char *url, rcfg *cfg)
{
    if (sm_bench_split_url(url, cfg->host, cfg->port))
        return sp_cli_fail("bench retrieval: %s is not http://HOST:PORT", url);
    return 0;
}

int sm_cmd_bench_retrieval(int argc, char **argv)
{
    static const struct option opts[] = {
        { "home", required_argument, NULL, 'H' }, { "url", required_argument, NULL, 'u' },
        { "token-file", required_argument, NULL, 't' }, { "cids", required_argument, NULL, 'c' },
        { "clients", required_argument, NULL, 'n' }, { "seconds", required_argument, NULL, 's' },
        { "piece", required_argument, NULL, 'p' }, { "piece-size", required_argument, NULL, 'z' },
        { "range", required_argument, NULL, 'r' }, { "json", no_argument, NULL, 'j' },
        { "make-car", required_argument, NULL, 'm' }, { "blocks", required_argument, NULL, 'b' },
        { "block-size", required_argument, NULL, 'B' }, { "once", no_argument, NULL, 'O' }, { 0 },
    };
    const char *cmd = "bench retrieval", *home_arg = NULL, *url = NULL, *token_file = NULL, *cids = NULL;
    rcfg cfg = { .clients = 8, .seconds = 5, .range = 4 << 20 };
    bool json = false;
    const char *make = NULL;
    uint64_t n_blocks = 1000, block_size = 4096;
    sp_err err;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'H': home_arg = optarg; break;
        case 'u': url = optarg; break;
        case 't': token_file = optarg; break;
        case 'c': cids = optarg; break;
        case 'n': cfg.clients = (unsigned)strtoul(optarg, NULL, 10); break;
        case 's': cfg.seconds = strtod(optarg, NULL); break;
        case 'p': cfg.piece = optarg; break;
        case 'z':
            if (sp_parse_size(optarg, &cfg.piece_size, &err) != SP_OK)
                return sm_cli_usage(cmd, "--piece-size: %s", err.msg);
            break;
        case 'r':
            if (sp_parse_size(optarg, &cfg.range, &err) != SP_OK || cfg.range == 0)
                return sm_cli_usage(cmd, "--range: a size such as 4MiB");
            break;
        case 'j': json = true; break;
        case 'm': make = optarg; break;
        case 'O': cfg.once = true; break;
        case 'b': n_blocks = strtoull(optarg, NULL, 10); break;
        case 'B':
            if (sp_parse_size(optarg, &block_size, &err) != SP_OK || block_size == 0 || block_size > (8u << 20))
                return sm_cli_usage(cmd, "--block-size: 1 byte .. 8MiB");
            break;
        default: return sm_cli_usage(cmd, "unknown option");
        }
    }
    if (make)
        return n_blocks ? make_car(make, n_blocks, block_size) : sm_cli_usage(cmd, "--blocks must be positive");
    if (cfg.clients == 0 || cfg.clients > 1024 || cfg.seconds <= 0)
        return sm_cli_usage(cmd, "--clients 1..1024 and a positive --seconds");
    if (!cids == !cfg.piece)
        return sm_cli_usage(cmd, "give --cids FILE or --piece CID (with --piece-size)");
    if (cfg.piece && !cfg.piece_size)
        return sm_cli_usage(cmd, "--piece needs --piece-size (its payload bytes)");
    char base[512];
    if (url) {
        if (!token_file)
            return sm_cli_usage(cmd, "--url needs --token-file");
        snprintf(base, sizeof base, "%s", url);
    } else {
        sm_home home;
        if (sm_home_resolve(home_arg, &home, &err) != SP_OK || sm_home_base_url(&home, base, sizeof base, &err) != SP_OK)
            return sp_cli_fail("%s", err.msg);
        if (!token_file) {
            if (sm_home_admin_token(&home, cfg.token, sizeof cfg.token, &err) != SP_OK)
                return sp_cli_fail("%s", err.msg);
        }
    }
    if (token_file) {
        char *t = NULL;
        size_t tl = 0;
        if (sp_read_file(token_file, sizeof cfg.token - 1, &t, &tl, &err) != SP_OK)
            return sp_cli_fail("%s", err.msg);
        snprintf(cfg.token, sizeof cfg.token, "%s", t);
        cfg.token[strcspn(cfg.token, "\r\n \t")] = 0;
        free(t);
    }
    if (split_url(base, &cfg))
        return 1;
    if (cids && load_cids(cids, &cfg))
        return 1;
    rclient *cl = calloc(cfg.clients, sizeof *cl);
    pthread_t *th = calloc(cfg.clients, sizeof *th);
    if (!cl || !th)
        return sp_cli_fail("%s: out of memory", cmd);
    uint64_t start = sm_bench_now_ns(), deadline = start + (uint64_t)(cfg.seconds * 1e9);
    for (unsigned i = 0; i < cfg.clients; i++) {
        cl[i] = (rclient){ .cfg = &cfg, .index = i, .fd = -1, .deadline_ns = deadline,
                           .buf = malloc(BODY_BUF > 16384 ? BODY_BUF : 16384) };
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    uint64_t ok = 0, errors = 0, bytes = 0;
    size_t n_lat = 0;
    for (unsigned i = 0; i < cfg.clients; i++) {
        pthread_join(th[i], NULL);
        ok += cl[i].ok;
        errors += cl[i].errors;
        bytes += cl[i].bytes;
        n_lat += cl[i].n_lat;
    }
    double secs = (double)(sm_bench_now_ns() - start) / 1e9;
    /* the client's own CPU time, so a run can tell the load generator's share of the
     * machine from the server's */
    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
              (double)ru.ru_stime.tv_usec / 1e6;
    uint32_t *all = calloc(n_lat ? n_lat : 1, sizeof *all);
    size_t k = 0;
    for (unsigned i = 0; all && i < cfg.clients; i++) {
        memcpy(all + k, cl[i].lat_us, cl[i].n_lat * sizeof *all);
        k += cl[i].n_lat;
    }
    if (all && k)
        qsort(all, k, sizeof *all, sm_bench_cmp_u32);
#define PCT(p) (k ? all[(size_t)((double)(k - 1) * (p))] : 0)
    double rps = (double)ok / secs, mbs = (double)bytes / secs / 1e6;
    if (json) {
        printf("{\"mode\":\"%s\",\"clients\":%u,\"seconds\":%.2f,\"requests\":%" PRIu64 ",\"errors\":%" PRIu64
               ",\"requests_per_s\":%.1f,\"mb_per_s\":%.2f,\"bytes\":%" PRIu64 ",\"p50_us\":%u,\"p90_us\":%u,"
               "\"p99_us\":%u,\"max_us\":%u,\"client_cpu_s\":%.3f}\n", cfg.piece ? "piece" : "ipfs", cfg.clients, secs, ok,
               errors, rps, mbs, bytes, PCT(0.5), PCT(0.9), PCT(0.99), k ? all[k - 1] : 0, cpu);
    } else {
        printf("%s: %u clients, %.1f s: %" PRIu64 " requests (%" PRIu64 " errors), %.0f requests/s, %.1f MB/s\n",
               cfg.piece ? "piece range reads" : "block retrievals", cfg.clients, secs, ok, errors, rps, mbs);
        printf("latency: p50 %u us, p90 %u us, p99 %u us, max %u us\n", PCT(0.5), PCT(0.9), PCT(0.99),
               k ? all[k - 1] : 0);
    }
    for (unsigned i = 0; i < cfg.clients; i++) {
        if (cl[i].errors && cl[i].err[0] && !json)
            fprintf(stderr, "client %u: %s\n", i, cl[i].err);
        free(cl[i].lat_us);
        free(cl[i].buf);
    }
    for (size_t i = 0; i < cfg.n_cids; i++)
        free(cfg.cids[i]);
    free(cfg.cids);
    free(all);
    free(cl);
    free(th);
    explicit_bzero(cfg.token, sizeof cfg.token);
    return ok == 0 ? 1 : 0;
}
