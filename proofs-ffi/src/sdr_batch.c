/* sdr_batch.c — pf_pc1_batch: PC1 of several sectors of one proof labeled together.
 *
 * Sectors are taken in groups of up to PF_MB_MAX_LANES lanes.  A group's two layer buffers
 * are node-interleaved (row v holds every lane's label of node v, lane l at l * 32), so the
 * one parent index read from the cache and the one row fetched from memory serve every
 * lane, and the lanes' independent SHA-256 chains run interleaved on the hashing core
 * (sha256_mb.c) where one chain alone leaves the SHA unit waiting on its latency.
 *
 * Per sector everything else is pf_pc1's (pc1_internal.h): its directory checked, locked
 * and resumed from its marker, each layer written atomically to its own files (by a writer
 * thread, while the group labels the next layer from the same buffer).  Sectors of
 * a group may have different complete layers after a crash: the group starts after the
 * lowest, loading that layer of every lane, and a lane's layer file that is already
 * complete is not written again (the labels are the same).  A lane whose cancel flag is
 * raised, or whose layer cannot be written, stops alone: its layers are still computed
 * with the group (the rows are shared) but no longer written. */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "label.h"
#include "pc1_internal.h"
#include "sha256.h"
#include "sha256_mb.h"

_Static_assert(PF_PC1_BATCH_LANES == PF_MB_MAX_LANES, "lanes per group");

#define CHECK_EVERY ((uint64_t)1 << 14)
#define PREFETCH_AHEAD 2     /* nodes ahead whose parent rows are prefetched (8MiB x 4: 2-4 best, 8+ slower) */

typedef struct lane {
    pf_pc1_batch_sector *s;
    pf_pc1_dir dir;
    int alive;               /* 0 once it failed or was cancelled */
} lane;

/* Writes layer `layer` of the lanes marked in todo[] from the group's buffer `data` while
 * the next layer is labeled; its results are applied to the lanes by the labeling thread
 * (writer_finish), so that lanes are only ever changed by that thread. */
typedef struct layer_writer {
    pthread_t tid;
    int running;
    int layer;
    int n;
    const uint8_t *data;
    uint64_t nodes;
    size_t row;
    const char *dir[PF_MB_MAX_LANES];
    int todo[PF_MB_MAX_LANES];
    pf_status st[PF_MB_MAX_LANES];
    pf_error err[PF_MB_MAX_LANES];
} layer_writer;

typedef struct batch_run batch_run;

typedef struct group {
    const pf_seal_proof_info *info;
    const pf_graph *g;
    const pf_sdr_options *opts;
    batch_run *run;
    pf_pcache_map map;       /* each group streams the parent cache at its own pace */
    int n;                   /* lanes */
    lane *lanes[PF_MB_MAX_LANES];
    uint8_t *buf[2];
    size_t row;              /* bytes per node row: n * 32 */
    size_t bytes;            /* bytes per layer buffer */
    int use_ni;
    pf_mb_isa isa;           /* the build of the SHA-NI kernel (when use_ni) */
    layer_writer w;
} group;

/* The batch as a whole: its groups, taken in turn by the hashing cores. */
struct batch_run {
    group *groups;
    int ngroups;
    int next;                       /* the next group a core takes (atomic) */
    const char *pcache_path;
    pthread_mutex_t progress_lock;  /* opts->progress is called one event at a time */
    int have_allowed;
    cpu_set_t allowed;              /* the caller's CPUs, before any hashing thread is bound:
                                       writers run there, not on their group's hashing CPU */
};

typedef struct hashing_core {
    batch_run *run;
    int cpu;                        /* the CPU its thread is bound to */
    pthread_t tid;
    int started;
} hashing_core;

static pf_status fail(pf_error *err, pf_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static pf_status fail(pf_error *err, pf_status st, const char *fmt, ...)
{
    if (err) {
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of the calling (hashing) thread. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void lane_stop(lane *ln, pf_status st, const pf_error *why)
{
    if (!ln->alive)
        return;
    ln->alive = 0;
    ln->s->status = st;
    if (why)
        ln->s->err = *why;
}

static int alive_count(const group *gr)
{
    int n = 0;
    for (int l = 0; l < gr->n; l++)
        n += gr->lanes[l]->alive;
    return n;
}

/* Every CHECK_EVERY nodes: the batch's and each lane's cancel flag.  Returns 1 when the
 * whole batch must stop. */
static int check_cancel(group *gr, int layer, uint64_t v)
{
    const volatile int *all = gr->opts->cancel;
    int stop_all = all && __atomic_load_n(all, __ATOMIC_ACQUIRE);
    for (int l = 0; l < gr->n; l++) {
        lane *ln = gr->lanes[l];
        if (ln->alive && (stop_all || (ln->s->cancel &&
                                       __atomic_load_n(ln->s->cancel, __ATOMIC_ACQUIRE)))) {
            pf_error e;
            fail(&e, PF_EINTERRUPTED, "pc1 batch: %s cancelled in layer %d at node %" PRIu64
                 " (complete layers stay for a resume)", ln->s->cache_dir, layer, v);
            lane_stop(ln, PF_EINTERRUPTED, &e);
        }
    }
    return stop_all || alive_count(gr) == 0;
}

/* Labels one layer of every lane into cur (prev: the layer before, layers >= 2). */
static pf_status label_layer(group *gr, int layer, uint8_t *cur, const uint8_t *prev)
{
    const int L = gr->n, np = layer == 1 ? PF_BASE_DEGREE : PF_DEGREE;
    const size_t row = gr->row;
    const uint64_t nodes = gr->g->nodes;
    const uint32_t *parents = gr->map.parents;
    uint32_t off[PF_MB_MAX_LANES];
    uint8_t blocks[PF_MB_MAX_LANES][64];
    uint32_t st[PF_MB_MAX_LANES][8];
    for (int l = 0; l < L; l++) {
        off[l] = (uint32_t)(l * 32);
        pf_label_node0(gr->lanes[l]->dir.replica_id, (uint32_t)layer, cur + off[l]);
        memcpy(blocks[l], gr->lanes[l]->dir.replica_id, 32);
        for (int i = 0; i < 4; i++)
            blocks[l][32 + i] = (uint8_t)((uint32_t)layer >> (24 - 8 * i));
        memset(blocks[l] + 36, 0, 28);
    }
    for (uint64_t v = 1; v < nodes; v++) {
        const uint32_t *par = parents + v * PF_DEGREE;
        if (v + PREFETCH_AHEAD < nodes) {
            const uint32_t *ahead = par + PREFETCH_AHEAD * PF_DEGREE;
            for (int k = 0; k < np; k++) {
                const uint8_t *r = (k < PF_BASE_DEGREE ? cur : prev) + (size_t)ahead[k] * row;
                for (size_t b = 0; b < row; b += 64)
                    __builtin_prefetch(r + b);
            }
        }
        for (int l = 0; l < L; l++)
            for (int i = 0; i < 8; i++)
                blocks[l][36 + i] = (uint8_t)(v >> (56 - 8 * i));
        const uint8_t *rows[PF_DEGREE];
        for (int k = 0; k < PF_BASE_DEGREE; k++)
            rows[k] = cur + (size_t)par[k] * row;
        if (np == PF_DEGREE)
            for (int k = PF_BASE_DEGREE; k < PF_DEGREE; k++)
                rows[k] = prev + (size_t)par[k] * row;
        if (gr->use_ni) {
            pf_mb_compress_iv_ni(gr->isa, (size_t)L, (const uint8_t(*)[64])blocks, st);
            pf_mb_label_node_ni(gr->isa, L, (const uint32_t(*)[8])st, rows, np, off, cur + v * row);
        } else {
            for (int l = 0; l < L; l++) {
                memcpy(st[l], pf_sha256_iv, 32);
                pf_sha256_compress_portable(st[l], blocks[l], 1);
            }
            pf_mb_label_node_portable(L, (const uint32_t(*)[8])st, rows, np, off,
                                      cur + v * row);
        }
        if ((v & (CHECK_EVERY - 1)) == 0) {
            if (check_cancel(gr, layer, v))
                return PF_EINTERRUPTED;
            pf_pcache_map_advance(&gr->map, v);
        }
    }
    return PF_OK;
}

/* ---- the writer thread: layer N of every lane goes to disk while N+1 is labeled ---- */

static void *writer_main(void *arg)
{
    layer_writer *w = arg;
    for (int l = 0; l < w->n; l++)
        if (w->todo[l])
            w->st[l] = pf_pc1_write_layer_strided(w->dir[l], w->layer, w->data + (size_t)l * 32,
                                                  w->nodes, w->row, &w->err[l]);
    return NULL;
}

/* Starts writing layer `layer` (in data) for every live lane that does not have it
 * complete yet; without a thread it writes inline. */
static void writer_start(group *gr, int layer, const uint8_t *data)
{
    layer_writer *w = &gr->w;
    w->layer = layer;
    w->n = gr->n;
    w->data = data;
    w->nodes = gr->g->nodes;
    w->row = gr->row;
    int any = 0;
    for (int l = 0; l < gr->n; l++) {
        lane *ln = gr->lanes[l];
        w->dir[l] = ln->s->cache_dir;
        w->todo[l] = ln->alive && ln->dir.complete < layer;
        w->st[l] = PF_OK;
        any |= w->todo[l];
    }
    if (!any)
        return;
    /* A thread inherits its creator's CPU binding; the hashing thread's writer would take
     * turns with it on the one CPU while the others may be idle. */
    pthread_attr_t attr, *ap = NULL;
    if (gr->run->have_allowed && pthread_attr_init(&attr) == 0) {
        ap = &attr;
        (void)pthread_attr_setaffinity_np(&attr, sizeof gr->run->allowed, &gr->run->allowed);
    }
    if (pthread_create(&w->tid, ap, writer_main, w) == 0)
        w->running = 1;
    else
        writer_main(w);
    if (ap)
        pthread_attr_destroy(ap);
}

/* Waits for the writer and records each lane's result: the layer complete, or the lane
 * stopped with the write's error.  Called before the buffer being written is labeled
 * over, before the next writer starts, and before the group ends. */
static void writer_finish(group *gr)
{
    layer_writer *w = &gr->w;
    if (w->running) {
        pthread_join(w->tid, NULL);
        w->running = 0;
    }
    for (int l = 0; l < w->n; l++) {
        if (!w->todo[l])
            continue;
        w->todo[l] = 0;
        if (w->st[l] == PF_OK)
            gr->lanes[l]->dir.complete = w->layer;
        else
            lane_stop(gr->lanes[l], w->st[l], &w->err[l]);
    }
}

static pf_status run_group(group *gr, pf_error *err)
{
    const int layers = gr->info->layers;
    int start = layers;
    for (int l = 0; l < gr->n; l++)
        if (gr->lanes[l]->dir.complete < start)
            start = gr->lanes[l]->dir.complete;
    if (start == layers)
        return PF_OK;
    int huge;
    gr->buf[0] = pf_sdr_alloc(gr->bytes, gr->opts->hugepages, &huge);
    gr->buf[1] = pf_sdr_alloc(gr->bytes, gr->opts->hugepages, &huge);
    if (!gr->buf[0] || !gr->buf[1])
        return fail(err, PF_ENOMEM, "pc1 batch: cannot allocate two layers of %zu bytes for %d "
                    "sectors", gr->bytes, gr->n);
    pf_status st = PF_OK;
    for (int l = 0; l < gr->n && start > 0; l++) {
        pf_error e;
        if (pf_pc1_read_layer_strided(gr->lanes[l]->s->cache_dir, start,
                                      gr->buf[start & 1] + (size_t)l * 32, gr->g->nodes, gr->row,
                                      &e) != PF_OK)
            lane_stop(gr->lanes[l], e.status, &e);
    }
    for (int layer = start + 1; layer <= layers && alive_count(gr) > 0; layer++) {
        /* a cancel between layers (or before the first) takes effect before any work */
        if (check_cancel(gr, layer, 0)) {
            st = PF_EINTERRUPTED;
            break;
        }
        uint8_t *cur = gr->buf[layer & 1];
        double t0 = now_s(), c0 = cpu_s();
        st = label_layer(gr, layer, cur, gr->buf[(layer - 1) & 1]);
        pf_pcache_map_rewind(&gr->map);
        if (st != PF_OK)
            break;
        double dt = now_s() - t0, dc = cpu_s() - c0;
        /* the layer before was written from the buffer that the next layer labels over */
        writer_finish(gr);
        writer_start(gr, layer, cur);
        if (gr->opts->progress) {
            pf_progress_event ev = { .layer = layer, .layers = layers, .seconds = dt,
                                     .hasher_cpu_seconds = dc,
                                     .group = (int)(gr - gr->run->groups) };
            pthread_mutex_lock(&gr->run->progress_lock);
            gr->opts->progress(gr->opts->progress_ctx, &ev);
            pthread_mutex_unlock(&gr->run->progress_lock);
        }
    }
    writer_finish(gr);
    if (st == PF_EINTERRUPTED) {
        /* the batch's own cancel: every lane still labeling stops */
        check_cancel(gr, 0, 0);
        st = PF_OK;
    }
    return st;
}

/* One group from start to end: its own view of the parent cache, its buffers, its
 * layers; a failure of the group as a whole stops each of its lanes with that error. */
static void run_one(batch_run *b, group *gr)
{
    pf_error ge;
    pf_status st = pf_pcache_map_open(&gr->map, b->pcache_path, gr->g, &ge);
    if (st == PF_OK) {
        st = run_group(gr, &ge);
        pf_pcache_map_close(&gr->map);
    }
    pf_sdr_free(gr->buf[0], gr->bytes);
    pf_sdr_free(gr->buf[1], gr->bytes);
    gr->buf[0] = gr->buf[1] = NULL;
    if (st != PF_OK)
        for (int l = 0; l < gr->n; l++)
            lane_stop(gr->lanes[l], st, &ge);
}

static void run_groups(batch_run *b)
{
    for (;;) {
        int i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
        if (i >= b->ngroups)
            return;
        run_one(b, &b->groups[i]);
    }
}

static void *core_main(void *arg)
{
    hashing_core *c = arg;
    (void)pf_sdr_bind_cpu(c->cpu);   /* not fatal: the group runs unbound */
    run_groups(c->run);
    return NULL;
}

/* Groups for m sectors on `cores` hashing cores: at least one per core (fewer would leave
 * cores idle), at most PF_MB_MAX_LANES lanes each. */
static int group_count(int m, int cores)
{
    int ng = (m + PF_MB_MAX_LANES - 1) / PF_MB_MAX_LANES;
    if (ng < cores)
        ng = cores < m ? cores : m;
    return ng;
}

/* Splits the live lanes into group_count() groups whose sizes differ by one at most (a
 * group of 8 and one of 1 would run the 1 at a single chain's speed).  Returns the number
 * of groups. */
static int form_groups(lane *lanes, int n, int cores, group *tmpl, group *groups)
{
    lane *live[PF_PC1_BATCH_MAX];
    int m = 0;
    for (int i = 0; i < n; i++)
        if (lanes[i].alive)
            live[m++] = &lanes[i];
    if (m == 0)
        return 0;
    int ng = group_count(m, cores);
    for (int j = 0, next = 0; j < ng; j++) {
        group *gr = &groups[j];
        *gr = *tmpl;
        gr->n = m / ng + (j < m % ng);
        for (int l = 0; l < gr->n; l++)
            gr->lanes[l] = live[next++];
        gr->row = (size_t)gr->n * 32;
        gr->bytes = (size_t)tmpl->g->nodes * gr->row;
    }
    return ng;
}

/* Runs the groups: in this thread when no cores were named, else one thread per named CPU
 * (each bound to it) taking groups in turn. */
static void run_batch(batch_run *b, const int *cpus, int ncpus)
{
    hashing_core cores[PF_PC1_BATCH_MAX];
    int started = 0;
    const int want = ncpus < b->ngroups ? ncpus : b->ngroups;
    for (int i = 0; i < want; i++) {
        cores[i] = (hashing_core){ .run = b, .cpu = cpus[i] };
        if (pthread_create(&cores[i].tid, NULL, core_main, &cores[i]) == 0) {
            cores[i].started = 1;
            started++;
        }
    }
    if (started == 0)
        run_groups(b);
    for (int i = 0; i < want; i++)
        if (cores[i].started)
            pthread_join(cores[i].tid, NULL);
}

static void fill_output(int proof_id, pf_pc1_batch_sector *s, const uint8_t replica_id[32])
{
    memset(&s->out, 0, sizeof s->out);
    s->out.version = PF_PC1_OUTPUT_VERSION;
    s->out.proof_id = proof_id;
    s->out.sector_id = s->sector_id;
    memcpy(s->out.prover_id, s->prover_id, 32);
    memcpy(s->out.ticket, s->ticket, 32);
    memcpy(s->out.comm_d, s->comm_d, 32);
    memcpy(s->out.replica_id, replica_id, 32);
}

/* Sets every sector without a result yet to st/err (a failure before any labeling). */
static void fail_all(pf_pc1_batch_sector *sectors, int n, const pf_error *e)
{
    for (int i = 0; i < n; i++) {
        sectors[i].status = e->status;
        sectors[i].err = *e;
    }
}

/* The hashing CPUs of a CPU list: one per physical core (SMT siblings share the SHA
 * unit).  *n = 0 without a list (the calling thread hashes). */
static pf_status hashing_cpus(const char *list, int *cpus, int *n, pf_error *err)
{
    *n = 0;
    if (!list)
        return PF_OK;
    if (pf_sdr_parse_cpus(list, cpus, PF_PC1_BATCH_MAX, n, err) != PF_OK)
        return PF_EINVAL;
    *n = pf_sdr_one_per_core(cpus, *n);
    return PF_OK;
}

pf_status pf_pc1_batch_layout(int n, const char *cores, int *groups, int *max_lanes,
                              int *hashing_cores, pf_error *err)
{
    if (n < 1 || n > PF_PC1_BATCH_MAX)
        return fail(err, PF_EINVAL, "pc1 batch: %d sectors (1..%d)", n, PF_PC1_BATCH_MAX);
    int cpus[PF_PC1_BATCH_MAX], ncpus;
    if (hashing_cpus(cores, cpus, &ncpus, err) != PF_OK)
        return PF_EINVAL;
    if (ncpus == 0)
        ncpus = 1;
    pf_pc1_batch_split(n, ncpus, groups, max_lanes);
    *hashing_cores = ncpus < *groups ? ncpus : *groups;
    return PF_OK;
}

void pf_pc1_batch_split(int n, int cores, int *groups, int *max_lanes)
{
    int ng = group_count(n > 0 ? n : 1, cores > 0 ? cores : 1);
    *groups = ng;
    *max_lanes = (n + ng - 1) / ng;
}

double pf_sdr_lanes_limit(int lanes, double seconds)
{
    if (!pf_sha256_using_ni() || lanes < 1 || lanes > PF_MB_MAX_LANES)
        return 0;
    return pf_mb_chain_rate_ni(lanes, seconds);
}

pf_status pf_pc1_batch(int proof_id, pf_pc1_batch_sector *sectors, int n,
                       const char *parent_cache_dir, const pf_sdr_options *opts, pf_error *err)
{
    static const pf_sdr_options defaults;
    if (!sectors || n < 1 || n > PF_PC1_BATCH_MAX)
        return fail(err, PF_EINVAL, "pc1 batch: %d sectors (1..%d)", n, PF_PC1_BATCH_MAX);
    if (!opts)
        opts = &defaults;
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    pf_error e = { 0 };
    if (!info) {
        fail(&e, PF_EINVAL, "pc1: seal proof id %d is not registered (use 0-19)", proof_id);
        fail_all(sectors, n, &e);
        return fail(err, e.status, "%s", e.msg);
    }
    pf_graph g;
    pf_parent_cache_result pc;
    lane *lanes = calloc((size_t)n, sizeof *lanes);
    group *groups = calloc((size_t)n, sizeof *groups);
    int cpus[PF_PC1_BATCH_MAX], ncpus = 0;
    pf_status st;
    if (!lanes || !groups) {
        free(groups);
        fail(&e, PF_ENOMEM, "pc1 batch: out of memory");
        fail_all(sectors, n, &e);
        return fail(err, e.status, "%s", e.msg);
    }
    for (int i = 0; i < n; i++) {
        lanes[i].s = &sectors[i];
        lanes[i].dir.lock_fd = -1;
        sectors[i].status = PF_OK;
        memset(&sectors[i].err, 0, sizeof sectors[i].err);
    }
    if ((st = hashing_cpus(opts->cores, cpus, &ncpus, &e)) != PF_OK ||
        (st = pf_graph_init_proof(&g, proof_id, &e)) != PF_OK ||
        (st = pf_parent_cache_ensure_cancel(&g, parent_cache_dir, opts->threads, opts->cancel,
                                            &pc, &e)) != PF_OK) {
        fail_all(sectors, n, &e);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        pf_pc1_batch_sector *s = &sectors[i];
        pf_error de;
        if (pf_pc1_dir_open(proof_id, &g, pc.digest, s->cache_dir, s->sector_id, s->prover_id,
                            s->ticket, s->comm_d, &lanes[i].dir, &de) != PF_OK) {
            s->status = de.status;
            s->err = de;
            continue;
        }
        lanes[i].alive = 1;
    }
    batch_run run = { .groups = groups, .pcache_path = pc.path };
    pthread_mutex_init(&run.progress_lock, NULL);
    run.have_allowed = pthread_getaffinity_np(pthread_self(), sizeof run.allowed,
                                              &run.allowed) == 0;
    group tmpl = { .info = info, .g = &g, .opts = opts, .run = &run,
                   .use_ni = pf_sha256_using_ni(), .isa = pf_mb_isa_best() };
    run.ngroups = form_groups(lanes, n, ncpus > 0 ? ncpus : 1, &tmpl, groups);
    if (ncpus > 0)
        run_batch(&run, cpus, ncpus);
    else
        run_groups(&run);
    pthread_mutex_destroy(&run.progress_lock);
    for (int i = 0; i < n; i++)
        if (lanes[i].alive)
            fill_output(proof_id, &sectors[i], lanes[i].dir.replica_id);
done:
    for (int i = 0; i < n; i++)
        pf_pc1_dir_close(&lanes[i].dir);
    free(lanes);
    free(groups);
    for (int i = 0; i < n; i++)
        if (sectors[i].status != PF_OK)
            return fail(err, sectors[i].status, "pc1 batch: sector %d (%.100s): %.300s", i,
                        sectors[i].cache_dir ? sectors[i].cache_dir : "?", sectors[i].err.msg);
    return PF_OK;
}
