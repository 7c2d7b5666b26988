/* pc1.c — PreCommit phase 1: replica_id, the verified parent cache, every SDR layer
 * labeled in memory (current + previous layer) and written to sc-02-data-layer-N.dat
 * (temporary name, fsync, rename — by a writer thread while the next layer is labeled),
 * resume after a crash from the inputs recorded in sealpipe-pc1.marker, and the versioned
 * binary form of pf_pc1_output. */
#include "label.h"
#include "pc1_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

#define MARKER_NAME "sealpipe-pc1.marker"
#define LOCK_NAME "sealpipe-pc1.lock"
#define PATH_MAX_LEN 4096
#define MAX_LAYERS 16
/* Layer files are written in pieces of this size. */
#define WRITE_CHUNK ((size_t)64 << 20)

static pf_status fail(pf_error *err, pf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static pf_status fail(pf_error *err, pf_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = st;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

static pf_status errno_status(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? PF_ENOSPC : e == ENOMEM ? PF_ENOMEM : PF_EIO;
}

int pf_layer_path(const char *cache_dir, int layer, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/sc-02-data-layer-%d.dat", cache_dir, layer);
    return n < 0 || (size_t)n >= len ? -1 : 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void hex32(const uint8_t *b, char out[65])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[b[i] >> 4];
        out[2 * i + 1] = d[b[i] & 15];
    }
    out[64] = 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p */
static pf_status make_dirs(const char *dir, pf_error *err)
{
    char p[PATH_MAX_LEN];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
        return fail(err, PF_EINVAL, "pc1: cache directory name too long");
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return fail(err, errno_status(errno), "pc1: cannot create cache directory %s: %s",
                            p, strerror(errno));
            *s = c;
            if (!c)
                break;
        }
    }
    return PF_OK;
}

/* Where the bytes of a file come from: contiguous, or (a batch's node-interleaved layer)
 * one 32-byte label every `stride` bytes starting at data, gathered through scratch. */
typedef struct file_src {
    const uint8_t *data;
    size_t stride;             /* 0: contiguous */
    uint8_t *scratch;          /* WRITE_CHUNK bytes when stride != 0 */
} file_src;

/* The next piece of the file at byte `at` (at most WRITE_CHUNK bytes). */
static const uint8_t *src_piece(const file_src *s, size_t at, size_t *n)
{
    if (*n > WRITE_CHUNK)
        *n = WRITE_CHUNK;
    if (!s->stride)
        return s->data + at;
    /* a short write may leave `at` inside a label: gather from that label on */
    size_t first = at / 32, skip = at % 32, nodes = (skip + *n + 31) / 32;
    if (nodes * 32 > WRITE_CHUNK)
        nodes = WRITE_CHUNK / 32;
    for (size_t i = 0; i < nodes; i++)
        memcpy(s->scratch + i * 32, s->data + (first + i) * s->stride, 32);
    if (*n > nodes * 32 - skip)
        *n = nodes * 32 - skip;
    return s->scratch + skip;
}

static pf_status write_src_atomic(const char *dir, const char *path, const file_src *src,
                                  size_t len, pf_error *err);

/* Writes len bytes to path through path.tmp: reserve, write, fsync, rename.  On failure
 * nothing is left under either name. */
static pf_status write_file_atomic(const char *dir, const char *path, const void *data, size_t len,
                                   pf_error *err)
{
    file_src src = { .data = data };
    return write_src_atomic(dir, path, &src, len, err);
}

static pf_status write_src_atomic(const char *dir, const char *path, const file_src *src,
                                  size_t len, pf_error *err)
{
    char tmp[PATH_MAX_LEN + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, errno_status(errno), "pc1: cannot create %s: %s", tmp, strerror(errno));
    pf_status st = PF_OK;
    int e = len ? posix_fallocate(fd, 0, (off_t)len) : 0;
    if (e != 0 && e != EOPNOTSUPP && e != EINVAL) {
        st = fail(err, errno_status(e), "pc1: cannot reserve %zu bytes for %s: %s%s", len, tmp,
                  strerror(e), e == ENOSPC ? " (free space in the cache directory and re-run)" : "");
        goto out;
    }
    size_t left = len;
    while (left) {
        size_t n = left;
        const uint8_t *p = src_piece(src, len - left, &n);
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            st = fail(err, errno_status(e), "pc1: writing %s failed after %zu bytes: %s%s", tmp,
                      len - left, strerror(e),
                      errno_status(e) == PF_ENOSPC ? " (free space in the cache directory and re-run)" : "");
            goto out;
        }
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        e = errno;
        st = fail(err, errno_status(e), "pc1: fsync %s: %s", tmp, strerror(e));
        goto out;
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        st = fail(err, errno_status(e), "pc1: rename %s: %s", tmp, strerror(e));
        goto out;
    }
    (void)fsync_dir(dir);
out:
    close(fd);
    if (st != PF_OK)
        unlink(tmp);
    return st;
}

/* ---- marker: what the layer files in this directory were computed from ---- */

static int marker_text(int proof_id, const pf_graph *g, int layers, uint64_t sector_id,
                       const uint8_t replica_id[32], const uint8_t pcache_digest[32], char *buf,
                       size_t len)
{
    char r[65], d[65];
    hex32(replica_id, r);
    hex32(pcache_digest, d);
    return snprintf(buf, len,
                    "sealpipe-pc1 1\nproof_id %d\nnodes %" PRIu64 "\nlayers %d\nsector_id %" PRIu64
                    "\nreplica_id %s\nparent_cache %s\n",
                    proof_id, g->nodes, layers, sector_id, r, d);
}

/* 1 when the marker in dir holds exactly `want`. */
static int marker_matches(const char *dir, const char *want)
{
    char path[PATH_MAX_LEN + 32], got[1024];
    snprintf(path, sizeof path, "%s/%s", dir, MARKER_NAME);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, got, sizeof got - 1);
    close(fd);
    if (n < 0)
        return 0;
    got[n] = 0;
    return strcmp(got, want) == 0;
}

static int layer_complete(const char *dir, int layer, uint64_t bytes)
{
    char path[PATH_MAX_LEN];
    struct stat sb;
    return pf_layer_path(dir, layer, path, sizeof path) == 0 && stat(path, &sb) == 0 &&
           S_ISREG(sb.st_mode) && (uint64_t)sb.st_size == bytes;
}

static void remove_layers(const char *dir, int from, int layers)
{
    char path[PATH_MAX_LEN], tmp[PATH_MAX_LEN + 8];
    for (int l = from; l <= layers; l++) {
        if (pf_layer_path(dir, l, path, sizeof path) != 0)
            continue;
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        unlink(path);
        unlink(tmp);
    }
}

/* bytes of a layer file from byte `from` into buf. */
static pf_status read_layer_range(const char *dir, int layer, uint8_t *buf, size_t from,
                                  size_t bytes, pf_error *err)
{
    char path[PATH_MAX_LEN];
    pf_layer_path(dir, layer, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, PF_EIO, "pc1: cannot reopen %s to resume: %s", path, strerror(errno));
    size_t at = 0;
    while (at < bytes) {
        ssize_t r = pread(fd, buf + at, bytes - at, (off_t)(from + at));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO;
            close(fd);
            return fail(err, PF_EIO, "pc1: reading %s to resume failed at byte %zu: %s", path, at,
                        strerror(e));
        }
        at += (size_t)r;
    }
    close(fd);
    return PF_OK;
}

static pf_status read_layer(const char *dir, int layer, uint8_t *buf, size_t bytes,
                            pf_error *err)
{
    return read_layer_range(dir, layer, buf, 0, bytes, err);
}

/* ---- the writer thread: layer N goes to disk while layer N+1 is labeled ---- */

typedef struct writer {
    pthread_t tid;
    int running;
    const char *dir;
    char path[PATH_MAX_LEN];
    const uint8_t *data;
    size_t len;
    pf_status status;
    pf_error err;
    volatile int failed;       /* set on failure: stops the labeling of the next layer */
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    w->status = write_file_atomic(w->dir, w->path, w->data, w->len, &w->err);
    if (w->status != PF_OK)
        __atomic_store_n(&w->failed, 1, __ATOMIC_RELEASE);
    return NULL;
}

static pf_status writer_start(writer *w, const char *dir, int layer, const uint8_t *data,
                              size_t len, pf_error *err)
{
    w->dir = dir;
    pf_layer_path(dir, layer, w->path, sizeof w->path);
    w->data = data;
    w->len = len;
    w->status = PF_OK;
    w->failed = 0;
    if (pthread_create(&w->tid, NULL, writer_main, w) == 0) {
        w->running = 1;
        return PF_OK;
    }
    /* No thread: write inline. */
    return write_file_atomic(dir, w->path, data, len, err);
}

static pf_status writer_join(writer *w, pf_error *err)
{
    if (!w->running)
        return PF_OK;
    pthread_join(w->tid, NULL);
    w->running = 0;
    if (w->status != PF_OK && err)
        *err = w->err;
    return w->status;
}

/* ---- PC1 ---- */

typedef struct pc1_run {
    const pf_seal_proof_info *info;
    const char *dir;
    const pf_sdr_options *opts;
    pf_graph g;
    uint8_t replica_id[32];
    pf_parent_cache_result pc;
    pf_pcache_map map;
    int map_open;
    int lock_fd;
    uint8_t *buf[2];
    size_t bytes;
    int cpus[64], ncpus;
    writer w;
} pc1_run;

static pf_status label_layers(pc1_run *r, int first, pf_error *err)
{
    const pf_sdr_options *o = r->opts;
    const int layers = r->info->layers;
    pf_labeler l = { .nodes = r->g.nodes, .parents = r->map.parents, .map = &r->map,
                     .cancel = o->cancel, .stop = &r->w.failed, .use_ni = pf_sha256_using_ni(),
                     .cpus = r->cpus, .ncpus = r->ncpus, .producers = o->producers };
    memcpy(l.replica_id, r->replica_id, 32);
    pf_status st = PF_OK;
    for (int layer = first; layer <= layers; layer++) {
        l.cur = r->buf[layer & 1];
        l.prev = r->buf[(layer - 1) & 1];
        pf_label_stats stats = { 0, 0 };
        l.stats = &stats;
        double t0 = now_s();
        st = o->multicore ? pf_label_layer_multi(&l, (uint32_t)layer, err)
                          : pf_label_layer_single(&l, (uint32_t)layer, err);
        double dt = now_s() - t0;
        pf_pcache_map_rewind(&r->map);
        if (st != PF_OK) {
            /* A failed write of the previous layer stopped this one: report the write. */
            pf_error werr;
            if (writer_join(&r->w, &werr) != PF_OK) {
                if (err)
                    *err = werr;
                return werr.status;
            }
            return st;
        }
        /* The previous layer's file was written while this one was labeled; it must be
         * finished before the buffer it reads is labeled over (next iteration). */
        if ((st = writer_join(&r->w, err)) != PF_OK)
            return st;
        if ((st = writer_start(&r->w, r->dir, layer, l.cur, r->bytes, err)) != PF_OK)
            return st;
        if (o->progress) {
            pf_progress_event ev = { .layer = layer, .layers = layers, .seconds = dt,
                                     .direct_nodes = stats.direct,
                                     .hasher_cpu_seconds = stats.cpu_seconds };
            o->progress(o->progress_ctx, &ev);
        }
    }
    return writer_join(&r->w, err);
}

static pf_status check_args(int proof_id, const char *cache_dir, const uint8_t *prover_id,
                            const uint8_t *ticket, const uint8_t *comm_d, pf_pc1_output *out,
                            pf_error *err)
{
    if (!pf_seal_proof(proof_id))
        return fail(err, PF_EINVAL, "pc1: seal proof id %d is not registered (use 0-19)", proof_id);
    if (!cache_dir || !*cache_dir)
        return fail(err, PF_EINVAL, "pc1: no cache directory given");
    if (strlen(cache_dir) > PATH_MAX_LEN - 64)
        return fail(err, PF_EINVAL, "pc1: cache directory name too long");
    if (!prover_id || !ticket || !comm_d || !out)
        return fail(err, PF_EINVAL, "pc1: prover_id, ticket, comm_d and out are required");
    if (pf_seal_proof(proof_id)->layers > MAX_LAYERS)
        return fail(err, PF_EINTERNAL, "pc1: more layers than supported");
    return PF_OK;
}

static pf_status take_dir_lock(pc1_run *r, pf_error *err)
{
    char path[PATH_MAX_LEN + 32];
    snprintf(path, sizeof path, "%s/%s", r->dir, LOCK_NAME);
    r->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (r->lock_fd < 0)
        return fail(err, errno_status(errno), "pc1: cannot open %s: %s", path, strerror(errno));
    if (flock(r->lock_fd, LOCK_EX | LOCK_NB) != 0)
        return fail(err, PF_EINVAL,
                    "pc1: another PC1 is running in %s (wait for it or use another cache directory)",
                    r->dir);
    return PF_OK;
}

/* Number of layers already complete from a previous run with the same inputs (after which
 * the marker is rewritten and stale files removed when the inputs differ). */
static pf_status prepare_resume(pc1_run *r, uint64_t sector_id, int *complete, pf_error *err)
{
    const int layers = r->info->layers;
    char want[1024], path[PATH_MAX_LEN + 32];
    marker_text(r->info->id, &r->g, layers, sector_id, r->replica_id, r->pc.digest, want,
                sizeof want);
    *complete = 0;
    if (marker_matches(r->dir, want)) {
        while (*complete < layers && layer_complete(r->dir, *complete + 1, r->bytes))
            (*complete)++;
        remove_layers(r->dir, *complete + 1, layers);
        return PF_OK;
    }
    /* Different inputs (or none recorded): nothing here can be reused. */
    remove_layers(r->dir, 1, layers);
    snprintf(path, sizeof path, "%s/%s", r->dir, MARKER_NAME);
    return write_file_atomic(r->dir, path, want, strlen(want), err);
}

/* A run of one sector (proof_id already checked): everything but the graph and the cache. */
static void run_init(pc1_run *r, int proof_id, const char *dir, const pf_sdr_options *opts,
                     uint64_t sector_id, const uint8_t prover_id[32], const uint8_t ticket[32],
                     const uint8_t comm_d[32])
{
    memset(r, 0, sizeof *r);
    r->lock_fd = -1;
    r->info = pf_seal_proof(proof_id);
    r->dir = dir;
    r->opts = opts;
    r->bytes = (size_t)r->info->nodes * 32;
    pf_replica_id(prover_id, sector_id, ticket, comm_d, r->info->porep_id, r->replica_id);
}

/* ---- one sector's directory, for batched PC1 (pc1_internal.h) ---- */

pf_status pf_pc1_dir_open(int proof_id, const pf_graph *g, const uint8_t pcache_digest[32],
                          const char *dir, uint64_t sector_id, const uint8_t prover_id[32],
                          const uint8_t ticket[32], const uint8_t comm_d[32], pf_pc1_dir *d,
                          pf_error *err)
{
    pf_pc1_output scratch;
    memset(d, 0, sizeof *d);
    d->lock_fd = -1;
    pf_status st = check_args(proof_id, dir, prover_id, ticket, comm_d, &scratch, err);
    if (st != PF_OK)
        return st;
    pc1_run r;
    run_init(&r, proof_id, dir, NULL, sector_id, prover_id, ticket, comm_d);
    r.g = *g;
    memcpy(r.pc.digest, pcache_digest, 32);
    if ((st = make_dirs(dir, err)) != PF_OK || (st = take_dir_lock(&r, err)) != PF_OK ||
        (st = prepare_resume(&r, sector_id, &d->complete, err)) != PF_OK) {
        if (r.lock_fd >= 0)
            close(r.lock_fd);
        return st;
    }
    d->lock_fd = r.lock_fd;
    memcpy(d->replica_id, r.replica_id, 32);
    return PF_OK;
}

void pf_pc1_dir_close(pf_pc1_dir *d)
{
    if (d->lock_fd >= 0)
        close(d->lock_fd);
    d->lock_fd = -1;
}

pf_status pf_pc1_write_layer_strided(const char *dir, int layer, const uint8_t *labels,
                                     uint64_t nodes, size_t stride, pf_error *err)
{
    char path[PATH_MAX_LEN];
    if (pf_layer_path(dir, layer, path, sizeof path) != 0)
        return fail(err, PF_EINVAL, "pc1: cache directory name too long");
    file_src src = { .data = labels, .stride = stride, .scratch = malloc(WRITE_CHUNK) };
    if (!src.scratch)
        return fail(err, PF_ENOMEM, "pc1: no memory for a write buffer");
    pf_status st = write_src_atomic(dir, path, &src, (size_t)nodes * 32, err);
    free(src.scratch);
    return st;
}

pf_status pf_pc1_read_layer_strided(const char *dir, int layer, uint8_t *labels, uint64_t nodes,
                                    size_t stride, pf_error *err)
{
    const size_t chunk = WRITE_CHUNK;
    uint8_t *buf = malloc(chunk);
    if (!buf)
        return fail(err, PF_ENOMEM, "pc1: no memory for a read buffer");
    pf_status st = PF_OK;
    for (uint64_t first = 0; first < nodes && st == PF_OK; first += chunk / 32) {
        uint64_t n = nodes - first < chunk / 32 ? nodes - first : chunk / 32;
        st = read_layer_range(dir, layer, buf, (size_t)first * 32, (size_t)n * 32, err);
        for (uint64_t i = 0; i < n && st == PF_OK; i++)
            memcpy(labels + (first + i) * stride, buf + i * 32, 32);
    }
    free(buf);
    return st;
}

pf_status pf_pc1(int proof_id, const char *cache_dir, uint64_t sector_id,
                 const uint8_t prover_id[32], const uint8_t ticket[32], const uint8_t comm_d[32],
                 const char *parent_cache_dir, const pf_sdr_options *opts, pf_pc1_output *out,
                 pf_error *err)
{
    static const pf_sdr_options defaults;
    pf_status st = check_args(proof_id, cache_dir, prover_id, ticket, comm_d, out, err);
    if (st != PF_OK)
        return st;
    pc1_run r;
    run_init(&r, proof_id, cache_dir, opts ? opts : &defaults, sector_id, prover_id, ticket,
             comm_d);
    if ((st = pf_graph_init_proof(&r.g, proof_id, err)) != PF_OK)
        return st;

    if ((st = make_dirs(cache_dir, err)) != PF_OK || (st = take_dir_lock(&r, err)) != PF_OK)
        goto done;
    if ((st = pf_parent_cache_ensure_cancel(&r.g, parent_cache_dir, r.opts->threads,
                                            r.opts->cancel, &r.pc, err)) != PF_OK)
        goto done;
    int complete;
    if ((st = prepare_resume(&r, sector_id, &complete, err)) != PF_OK)
        goto done;
    for (int layer = 1; layer <= complete && r.opts->progress; layer++) {
        pf_progress_event ev = { .layer = layer, .layers = r.info->layers, .resumed = 1 };
        r.opts->progress(r.opts->progress_ctx, &ev);
    }
    if (complete < r.info->layers) {
        int huge;
        r.buf[0] = pf_sdr_alloc(r.bytes, r.opts->hugepages, &huge);
        r.buf[1] = pf_sdr_alloc(r.bytes, r.opts->hugepages, &huge);
        if (!r.buf[0] || !r.buf[1]) {
            st = fail(err, PF_ENOMEM, "pc1: cannot allocate two layers of %zu bytes", r.bytes);
            goto done;
        }
        if (complete > 0 &&
            (st = read_layer(cache_dir, complete, r.buf[complete & 1], r.bytes, err)) != PF_OK)
            goto done;
        if ((st = pf_pcache_map_open(&r.map, r.pc.path, &r.g, err)) != PF_OK)
            goto done;
        r.map_open = 1;
        if (r.opts->multicore &&
            (st = pf_sdr_core_group(r.opts->cores,
                                    1 + (r.opts->producers > 0 ? r.opts->producers : 3), r.cpus,
                                    (int)(sizeof r.cpus / sizeof r.cpus[0]), &r.ncpus, err)) != PF_OK)
            goto done;
        if ((st = label_layers(&r, complete + 1, err)) != PF_OK)
            goto done;
    }
    memset(out, 0, sizeof *out);
    out->version = PF_PC1_OUTPUT_VERSION;
    out->proof_id = proof_id;
    out->sector_id = sector_id;
    memcpy(out->prover_id, prover_id, 32);
    memcpy(out->ticket, ticket, 32);
    memcpy(out->comm_d, comm_d, 32);
    memcpy(out->replica_id, r.replica_id, 32);
done:
    {
        pf_error scratch;
        (void)writer_join(&r.w, st == PF_OK ? err : &scratch);
    }
    if (r.map_open)
        pf_pcache_map_close(&r.map);
    pf_sdr_free(r.buf[0], r.bytes);
    pf_sdr_free(r.buf[1], r.bytes);
    if (r.lock_fd >= 0)
        close(r.lock_fd);
    return st;
}

/* ---- pf_pc1_output serialization ---- */

#define ENC_BODY (PF_PC1_OUTPUT_ENCODED_LEN - 8)

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

size_t pf_pc1_output_encode(const pf_pc1_output *o, uint8_t *buf, size_t len)
{
    if (len < PF_PC1_OUTPUT_ENCODED_LEN)
        return 0;
    memcpy(buf, "SPC1", 4);
    put32(buf + 4, PF_PC1_OUTPUT_VERSION);
    put32(buf + 8, (uint32_t)o->proof_id);
    put64(buf + 12, o->sector_id);
    memcpy(buf + 20, o->prover_id, 32);
    memcpy(buf + 52, o->ticket, 32);
    memcpy(buf + 84, o->comm_d, 32);
    memcpy(buf + 116, o->replica_id, 32);
    uint8_t h[32];
    pf_sha256(buf, ENC_BODY, h);
    memcpy(buf + ENC_BODY, h, 8);
    return PF_PC1_OUTPUT_ENCODED_LEN;
}

pf_status pf_pc1_output_decode(const uint8_t *buf, size_t len, pf_pc1_output *o, pf_error *err)
{
    if (!buf || !o)
        return fail(err, PF_EINVAL, "pc1 output: no buffer");
    if (len < PF_PC1_OUTPUT_ENCODED_LEN)
        return fail(err, PF_EINVAL, "pc1 output: truncated (%zu bytes, expected %d)", len,
                    PF_PC1_OUTPUT_ENCODED_LEN);
    if (len > PF_PC1_OUTPUT_ENCODED_LEN)
        return fail(err, PF_EINVAL, "pc1 output: %zu bytes, expected %d (trailing data)", len,
                    PF_PC1_OUTPUT_ENCODED_LEN);
    if (memcmp(buf, "SPC1", 4) != 0)
        return fail(err, PF_ECORRUPT, "pc1 output: bad magic (not a sealpipe PC1 output)");
    uint32_t version = get32(buf + 4);
    if (version != PF_PC1_OUTPUT_VERSION)
        return fail(err, PF_EUNSUPPORTED, "pc1 output: version %u, this library reads version %d",
                    version, PF_PC1_OUTPUT_VERSION);
    uint8_t h[32];
    pf_sha256(buf, ENC_BODY, h);
    if (memcmp(h, buf + ENC_BODY, 8) != 0)
        return fail(err, PF_ECORRUPT, "pc1 output: checksum mismatch (the data was altered)");
    pf_pc1_output d;
    memset(&d, 0, sizeof d);
    d.version = version;
    d.proof_id = (int32_t)get32(buf + 8);
    d.sector_id = get64(buf + 12);
    memcpy(d.prover_id, buf + 20, 32);
    memcpy(d.ticket, buf + 52, 32);
    memcpy(d.comm_d, buf + 84, 32);
    memcpy(d.replica_id, buf + 116, 32);
    const pf_seal_proof_info *info = pf_seal_proof(d.proof_id);
    if (!info)
        return fail(err, PF_EINVAL, "pc1 output: unknown seal proof id %d", d.proof_id);
    /* The replica id is a function of the other fields: a consistent record or none. */
    uint8_t rid[32];
    pf_replica_id(d.prover_id, d.sector_id, d.ticket, d.comm_d, info->porep_id, rid);
    if (memcmp(rid, d.replica_id, 32) != 0)
        return fail(err, PF_ECORRUPT, "pc1 output: replica_id does not match its inputs");
    *o = d;
    return PF_OK;
}
