/* retrieval.c — GET /ipfs/<cid> and GET /piece/<piece-cid>: the caches, the block index
 * and the copies of deal data, with unseal tasks when none is left (sm_retrieval.h). */
#include "sm_retrieval.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm_blocks.h"
#include "sm_car.h"
#include "sm_cid.h"
#include "sm_objects.h"
#include "sm_pieces.h"
#include "sm_prefetch.h"
#include "sm_tokens.h"
#include "sm_unseal.h"
#include "sp_log.h"

#define MAX_LOCS 8
#define MAX_SOURCES 8
#define READAHEAD_MAX (16u << 20) /* bytes of a range asked ahead from the disk */

#define ST_INC(st, field) atomic_fetch_add(&sm_storage_stats(st)->field, 1)

/* What the routes share: the storage service and the read-ahead of range readers. */
struct sm_retrieval {
    sm_storage *st;
    sm_prefetch *prefetch;
    /* /metrics: the read-ahead's counters, added as deltas of its stats at each render */
    pthread_mutex_t mu;
    sm_prefetch_stats last;
    sp_metric *m_ra_bytes, *m_ra_requests, *m_ra_streams;
};

/* A worker, admin or retrieval token is needed before anything else is looked at. */
static bool precheck(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    sm_storage *st = ((sm_retrieval *)ctx)->st;
    const char *token = sp_http_bearer(req);
    if (!token) {
        sp_http_respond_text(resp, 401, "a bearer token is required (Authorization: Bearer <token>)");
        sp_http_respond_header(resp, "WWW-Authenticate", "Bearer");
        return false;
    }
    uint32_t scopes = 0;
    sp_err err;
    if (sm_core_auth(sm_storage_core(st), token, &scopes, &err) != SP_OK) {
        SP_WARN("retrieval: refused %s from %s: token refused: %s", req->path, req->peer, err.msg);
        sp_http_respond_text(resp, 401, "token refused: %s", err.msg);
        sp_http_respond_header(resp, "WWW-Authenticate", "Bearer");
        return false;
    }
    if (!(scopes & (SM_SCOPE_WORKER | SM_SCOPE_ADMIN | SM_SCOPE_RETRIEVAL))) {
        sp_http_respond_text(resp, 403, "the token has no retrieval, worker or admin scope");
        return false;
    }
    return true;
}

static void bad_request(sm_storage *st, sp_http_response *resp, const char *msg)
{
    ST_INC(st, bad_request);
    sp_http_respond_text(resp, 400, "%s", msg);
}

/* Flags a copy that could not be read, so scrub and the reconciler see it. */
static void flag_copy(sm_storage *st, const char *piece, int64_t oid, const sm_source *src,
                      bool missing, const char *what)
{
    sm_db *db = sm_storage_core(st)->db;
    sp_err e;
    if (missing)
        ST_INC(st, missing_reads);
    else
        ST_INC(st, corrupt_reads);
    SP_WARN("retrieval: copy of piece %s in %s is %s: %s; trying another", piece,
            src->piece_store ? "the piece store" : src->store, missing ? "missing" : "corrupt", what);
    if (!src->piece_store &&
        sm_replica_set_state(db, oid, src->store, missing ? "missing" : "corrupt", what, false, &e) != SP_OK)
        SP_ERROR("retrieval: flagging a replica: %s", e.msg);
    if (oid > 0 && (sm_objects_flag(db, oid, what, &e) != SP_OK ||
                    sm_findings_add(db, "retrieval", src->piece_store ? NULL : src->store, oid, what, &e) != SP_OK))
        SP_ERROR("retrieval: recording a finding: %s", e.msg);
}

static void count_source(sm_storage *st, const sm_source *src)
{
    if (src->piece_store)
        ST_INC(st, from_piece_store);
    else
        atomic_fetch_add(&sm_storage_stats(st)->from_tier[src->tier], 1);
}

/* No copy to read: an unseal task brings the data back (503), or nothing can (404). */
static void unavailable(sm_storage *st, sp_http_response *resp, const char *piece, const char *what)
{
    sm_core *core = sm_storage_core(st);
    bool open = false;
    char why[256];
    sp_err err;
    if (sm_unseal_request(core->db, piece, &open, why, sizeof why, &err) != SP_OK) {
        SP_ERROR("retrieval: %s", err.msg);
        sp_http_respond_text(resp, 500, "%s", err.msg);
        return;
    }
    if (!open) {
        ST_INC(st, not_found);
        sp_http_respond_text(resp, 404, "%s: %s", what, why);
        return;
    }
    sm_conf *conf = sm_core_conf(core);
    char ra[24];
    snprintf(ra, sizeof ra, "%u", conf->storage.retry_after_s);
    sm_conf_unref(conf);
    ST_INC(st, unavailable);
    sm_storage_wake(st);
    sp_http_respond_text(resp, 503, "%s: no copy can be read now; an unseal task is recovering piece "
                         "%s from its sealed sector; retry after %s s", what, piece, ra);
    sp_http_respond_header(resp, "Retry-After", ra);
}

/* ---- /ipfs/<cid> ------------------------------------------------------------------------------- */

static void send_block(sm_storage *st, sp_http_request *req, sp_http_response *resp, const sm_cid *cid,
                       bool car, uint8_t *data, size_t len)
{
    char etag[SM_CID_STR_MAX + 16], cs[SM_CID_STR_MAX];
    sm_cid_format(cid, cs, sizeof cs);
    snprintf(etag, sizeof etag, "\"%s.%s\"", cs, car ? "car" : "raw");
    atomic_fetch_add(&sm_storage_stats(st)->bytes, len);
    if (car) {
        uint8_t *out = NULL;
        size_t out_len = 0;
        sp_err err;
        sp_code rc = sm_car_single(cid, data, len, &out, &out_len, &err);
        free(data);
        if (rc) {
            sp_http_respond_text(resp, 500, "%s", err.msg);
            return;
        }
        sp_http_respond_data(resp, 200, "application/vnd.ipld.car; version=1", out, out_len);
    } else {
        sp_http_respond_data(resp, 200, "application/vnd.ipld.raw", data, len);
    }
    (void)req;
    sp_http_respond_header(resp, "Etag", etag);
    sp_http_respond_header(resp, "Cache-Control", "public, max-age=29030400, immutable");
    sp_http_respond_header(resp, "X-Content-Type-Options", "nosniff");
}

/* Reads and checks a block from one copy: SP_OK with *data, SP_ENOTFOUND (missing) or
 * SP_ECORRUPT (short or wrong bytes). */
static sp_code read_block(const sm_source *src, const sm_block_loc *loc, uint8_t **data, char *why,
                          size_t why_len)
{
    *data = NULL;
    int fd = open(src->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, why_len, "%s", strerror(errno));
        return errno == ENOENT ? SP_ENOTFOUND : SP_EIO;
    }
    uint8_t *buf = malloc(loc->length ? (size_t)loc->length : 1);
    if (!buf) {
        close(fd);
        snprintf(why, why_len, "out of memory");
        return SP_ENOMEM;
    }
    size_t got = 0;
    while (got < loc->length) {
        ssize_t r = pread(fd, buf + got, (size_t)loc->length - got, (off_t)(loc->offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    sp_err e;
    if (got != loc->length) {
        snprintf(why, why_len, "short read at offset %" PRIu64 " (%zu of %" PRIu64 " bytes)",
                 loc->offset, got, loc->length);
        free(buf);
        return SP_ECORRUPT;
    }
    if (sm_mh_verify(loc->mh, loc->mh_len, buf, got, &e) != SP_OK) {
        snprintf(why, why_len, "the block at offset %" PRIu64 " does not match its hash", loc->offset);
        free(buf);
        return SP_ECORRUPT;
    }
    *data = buf;
    return SP_OK;
}

static bool wants_car(sp_http_request *req, bool *bad)
{
    *bad = false;
    const char *f = sp_http_query(req, "format");
    if (f) {
        if (strcmp(f, "car") == 0)
            return true;
        if (strcmp(f, "raw") != 0)
            *bad = true;
        return false;
    }
    const char *accept = sp_http_header(req, "Accept");
    return accept && strcasestr(accept, "application/vnd.ipld.car");
}

static void ipfs_handler(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    sm_storage *st = ((sm_retrieval *)ctx)->st;
    sm_core *core = sm_storage_core(st);
    ST_INC(st, ipfs_requests);
    bool bad = false, car = wants_car(req, &bad);
    if (bad) {
        bad_request(st, resp, "format must be raw or car");
        return;
    }
    if (strchr(req->rest, '/')) {
        bad_request(st, resp, "only whole blocks are served: /ipfs/<cid> without a path");
        return;
    }
    sm_cid cid;
    sp_err err;
    if (sm_cid_parse(req->rest, &cid, &err) != SP_OK) {
        bad_request(st, resp, err.msg);
        return;
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (cid.mh_code == SM_MH_IDENTITY) { /* the block is its own hash */
        data = malloc(cid.digest_len ? cid.digest_len : 1);
        if (data)
            memcpy(data, sm_cid_digest(&cid), cid.digest_len);
        send_block(st, req, resp, &cid, car, data, cid.digest_len);
        return;
    }
    if (!sm_mh_supported(cid.mh_code)) {
        bad_request(st, resp, "the CID's hash function is not supported");
        return;
    }
    if (sm_l1_get(sm_storage_l1(st), cid.mh, cid.mh_len, &data, &len)) {
        ST_INC(st, l1_hits);
        send_block(st, req, resp, &cid, car, data, len);
        return;
    }
    ST_INC(st, l1_misses);
    sm_l2 *l2 = sm_storage_l2(st);
    if (l2) {
        bool hit = false;
        if (sm_l2_get(l2, cid.mh, cid.mh_len, &data, &len, &hit, &err) != SP_OK)
            SP_WARN("retrieval: L2 cache: %s", err.msg);
        if (hit && sm_mh_verify(cid.mh, cid.mh_len, data, len, &err) == SP_OK) {
            ST_INC(st, l2_hits);
            sm_l1_put(sm_storage_l1(st), cid.mh, cid.mh_len, data, len);
            send_block(st, req, resp, &cid, car, data, len);
            return;
        }
        if (hit) { /* a damaged cache file: drop it and read a copy */
            SP_WARN("retrieval: L2 cache file of %s failed its hash check; removed", req->rest);
            sm_l2_remove(l2, cid.mh, cid.mh_len);
            free(data);
            data = NULL;
        }
        ST_INC(st, l2_misses);
    }
    sm_block_loc locs[MAX_LOCS];
    size_t nl = 0;
    if (sm_blocks_find(core->db, cid.mh, cid.mh_len, locs, MAX_LOCS, &nl, &err) != SP_OK) {
        SP_ERROR("retrieval: %s", err.msg);
        sp_http_respond_text(resp, 500, "%s", err.msg);
        return;
    }
    if (nl == 0) {
        ST_INC(st, not_found);
        sp_http_respond_text(resp, 404, "block %s is in no stored piece", req->rest);
        return;
    }
    sm_conf *conf = sm_core_conf(core);
    char piece_dir[sizeof conf->piece_dir];
    snprintf(piece_dir, sizeof piece_dir, "%s", conf->piece_dir);
    uint64_t max_block = conf->storage.max_block;
    sm_conf_unref(conf);
    for (size_t i = 0; i < nl; i++) {
        if (locs[i].length > max_block)
            continue;
        sm_source src[MAX_SOURCES];
        size_t ns = 0;
        int64_t oid = 0;
        if (sm_piece_sources(core->db, piece_dir, locs[i].piece, src, MAX_SOURCES, &ns, &oid, &err) != SP_OK) {
            SP_WARN("retrieval: copies of %s: %s", locs[i].piece, err.msg);
            continue;
        }
        for (size_t j = 0; j < ns; j++) {
            char why[256];
            sp_code rc = read_block(&src[j], &locs[i], &data, why, sizeof why);
            if (rc == SP_OK) {
                count_source(st, &src[j]);
                if (oid > 0)
                    sm_storage_touch(st, oid);
                sm_l1_put(sm_storage_l1(st), cid.mh, cid.mh_len, data, (size_t)locs[i].length);
                if (l2 && sm_l2_put(l2, cid.mh, cid.mh_len, data, (size_t)locs[i].length, &err) != SP_OK)
                    SP_WARN("retrieval: L2 cache: %s", err.msg);
                send_block(st, req, resp, &cid, car, data, (size_t)locs[i].length);
                return;
            }
            flag_copy(st, locs[i].piece, oid, &src[j], rc == SP_ENOTFOUND, why);
        }
    }
    char what[SM_CID_STR_MAX + 16];
    snprintf(what, sizeof what, "block %s", req->rest);
    unavailable(st, resp, locs[0].piece, what);
}

/* ---- /piece/<piece-cid> ----------------------------------------------------------------------- */

static void piece_handler(void *ctx, sp_http_request *req, sp_http_response *resp)
{
    sm_retrieval *rt = ctx;
    sm_storage *st = rt->st;
    sm_core *core = sm_storage_core(st);
    ST_INC(st, piece_requests);
    char canon[4300];
    sp_err err;
    if (sm_pieces_path("", req->rest, canon, sizeof canon, &err) != SP_OK) {
        bad_request(st, resp, err.msg);
        return;
    }
    sm_piece p;
    if (sm_pieces_get(core->db, req->rest, &p, &err) != SP_OK) {
        ST_INC(st, not_found);
        sp_http_respond_text(resp, 404, "%s", err.msg);
        return;
    }
    sm_conf *conf = sm_core_conf(core);
    char piece_dir[sizeof conf->piece_dir];
    snprintf(piece_dir, sizeof piece_dir, "%s", conf->piece_dir);
    sm_conf_unref(conf);
    sm_source src[MAX_SOURCES];
    size_t ns = 0;
    int64_t oid = 0;
    if (sm_piece_sources(core->db, piece_dir, p.cid, src, MAX_SOURCES, &ns, &oid, &err) != SP_OK) {
        sp_http_respond_text(resp, 500, "%s", err.msg);
        return;
    }
    for (size_t j = 0; j < ns; j++) {
        int fd = open(src[j].path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat sb;
        if (fd < 0) {
            flag_copy(st, p.cid, oid, &src[j], errno == ENOENT, strerror(errno));
            continue;
        }
        if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != p.payload_size) {
            char why[128];
            snprintf(why, sizeof why, "%lld bytes, %" PRIu64 " recorded", (long long)sb.st_size,
                     p.payload_size);
            close(fd);
            flag_copy(st, p.cid, oid, &src[j], false, why);
            continue;
        }
        count_source(st, &src[j]);
        if (oid > 0)
            sm_storage_touch(st, oid);
        sp_http_range rng;
        if (sp_http_parse_range(sp_http_header(req, "Range"), p.payload_size, &rng, NULL) / 100 == 2) {
            atomic_fetch_add(&sm_storage_stats(st)->bytes, rng.length);
            /* Start reading the range now: sendfile then finds its pages on their way
             * instead of waiting for each readahead window in turn.  The read-ahead
             * thread does it with large sequential reads (and reads past the range when
             * this request continues earlier ones); WILLNEED, which reads page-sized
             * folios in small disk requests, only when it has no slot.  Only the head of
             * a long range: past it sendfile's own sequential readahead keeps up, and a
             * slow client of a whole piece must not pull all of it into memory at once. */
            uint64_t head = rng.length < READAHEAD_MAX ? rng.length : READAHEAD_MAX;
            if (!sm_prefetch_note(rt->prefetch, fd, rng.start, rng.start + head))
                posix_fadvise(fd, (off_t)rng.start, (off_t)head, POSIX_FADV_WILLNEED);
        }
        sp_http_respond_file(resp, req, fd, p.payload_size, "application/octet-stream");
        return;
    }
    unavailable(st, resp, p.cid, "piece");
}

static void collect_readahead(void *ctx, sp_metrics *m)
{
    (void)m;
    sm_retrieval *rt = ctx;
    sm_prefetch_stats s;
    sm_prefetch_get_stats(rt->prefetch, &s);
    pthread_mutex_lock(&rt->mu);   /* two renders at once must not add a delta twice */
    sp_metric_add(rt->m_ra_bytes, NULL, (double)(s.bytes - rt->last.bytes));
    sp_metric_add(rt->m_ra_requests, SP_LABELS("started"),
                  (double)(s.streams_started - rt->last.streams_started));
    sp_metric_add(rt->m_ra_requests, SP_LABELS("continued"),
                  (double)(s.continued - rt->last.continued));
    sp_metric_add(rt->m_ra_requests, SP_LABELS("refused"), (double)(s.refused - rt->last.refused));
    sp_metric_add(rt->m_ra_requests, SP_LABELS("wait_timed_out"),
                  (double)(s.waits_timed_out - rt->last.waits_timed_out));
    rt->last = s;
    pthread_mutex_unlock(&rt->mu);
    sp_metric_set(rt->m_ra_streams, NULL, s.open_streams);
}

/* The read-ahead's families on the manager's registry (none in tests without one).  The
 * callback stays registered: the registry is only rendered by the HTTP server, which stops
 * before sm_retrieval_stop frees rt. */
static sp_code setup_metrics(sm_retrieval *rt, sp_metrics *reg, sp_err *err)
{
    sp_code rc;
    if (!reg || !rt->prefetch)
        return SP_OK;
    if ((rc = sp_metrics_counter(reg, "sealpipe_retrieval_readahead_bytes_total",
                                 "Bytes of pieces read ahead of Range walks into the page cache.",
                                 NULL, &rt->m_ra_bytes, err)) ||
        (rc = sp_metrics_counter(reg, "sealpipe_retrieval_readahead_requests_total",
                                 "Range requests seen by the read-ahead: started a stream, continued "
                                 "one, refused (every stream busy: WILLNEED instead), gave up waiting "
                                 "for their first chunk.", "result", &rt->m_ra_requests, err)) ||
        (rc = sp_metrics_gauge(reg, "sealpipe_retrieval_readahead_streams",
                               "Pieces being read ahead now.", NULL, &rt->m_ra_streams, err)))
        return rc;
    return sp_metrics_on_collect(reg, collect_readahead, rt, err);
}

sp_code sm_retrieval_start(sm_storage *st, sp_http_server *http, sm_retrieval **out, sp_err *err)
{
    *out = NULL;
    sm_retrieval *rt = calloc(1, sizeof *rt);
    if (!rt)
        return sp_fail(err, SP_ENOMEM, "retrieval: out of memory");
    rt->st = st;
    pthread_mutex_init(&rt->mu, NULL);
    /* the read-ahead thread only when configured (storage.retrieval.readahead > 0);
     * without it a range asks the kernel for its head with WILLNEED */
    sm_conf *conf = sm_core_conf(sm_storage_core(st));
    sm_prefetch_opts po = { .ahead = conf->storage.readahead,
                            .max_streams = conf->storage.readahead_streams };
    sm_conf_unref(conf);
    sp_code rc = po.ahead > 0 ? sm_prefetch_new(&po, &rt->prefetch, err) : SP_OK;
    if (rc || (rc = setup_metrics(rt, sm_storage_core(st)->metrics, err)))
        goto fail;
    sp_http_route routes[] = {
        { .method = "GET", .path = "/ipfs/", .flags = SP_HTTP_PREFIX, .handler = ipfs_handler,
          .precheck = precheck, .ctx = rt },
        { .method = "GET", .path = "/piece/", .flags = SP_HTTP_PREFIX, .handler = piece_handler,
          .precheck = precheck, .ctx = rt },
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if ((rc = sp_http_server_add_route(http, &routes[i], err)))
            goto fail;
    *out = rt;
    return SP_OK;
fail:
    /* a route added before the failure points at rt: the caller frees the server first */
    sm_prefetch_free(rt->prefetch);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
    return rc;
}

void sm_retrieval_stop(sm_retrieval *rt)
{
    if (!rt)
        return;
    sm_prefetch_free(rt->prefetch);
    pthread_mutex_destroy(&rt->mu);
    free(rt);
}

