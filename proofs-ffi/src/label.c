/* label.c — SDR labeling on one thread: the prefix block, node 0, the portable node
 * function (the reference the SHA-NI one is tested against), the single-thread layer loop
 * and pf_sdr_last_labels (whole graph in memory, for tests and the `labels` command). */
#include "label.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "sha256.h"

/* Parent labels are prefetched this many nodes ahead of the one being hashed. */
#define PREFETCH_AHEAD 4
/* Labels are prefetched for writing this many nodes ahead. */
#define STORE_AHEAD 8
/* Cancel flag and parent-cache window checks every this many nodes (power of two). */
#define CHECK_EVERY ((uint64_t)1 << 14)

static void prefix_block(const uint8_t replica_id[32], uint32_t layer, uint64_t node,
                         uint8_t b[64])
{
    memcpy(b, replica_id, 32);
    for (int i = 0; i < 4; i++)
        b[32 + i] = (uint8_t)(layer >> (24 - 8 * i));
    for (int i = 0; i < 8; i++)
        b[36 + i] = (uint8_t)(node >> (56 - 8 * i));
    memset(b + 44, 0, 20);
}

void pf_label_prefix_state(const uint8_t replica_id[32], uint32_t layer, uint64_t node,
                           uint32_t st[8])
{
    uint8_t b[64];
    prefix_block(replica_id, layer, node, b);
    memcpy(st, pf_sha256_iv, 32);
    pf_sha256_compress(st, b, 1);
}

void pf_label_node0(const uint8_t replica_id[32], uint32_t layer, uint8_t out[32])
{
    uint8_t b[64];
    prefix_block(replica_id, layer, 0, b);
    pf_sha256(b, 64, out);
    out[31] &= 0x3f;
}

void pf_label_node_portable(const uint32_t st[8], const uint8_t *const *p, int nparents,
                            uint8_t out[32])
{
    /* The 37 parent labels in hashing order (porep.md §6). */
    const uint8_t *seq[PF_LABEL_PARENTS];
    for (int i = 0; i < PF_LABEL_PARENTS; i++)
        seq[i] = p[i % nparents];
    uint32_t s[8];
    memcpy(s, st, sizeof s);
    uint8_t b[64];
    for (int i = 0; i + 1 < PF_LABEL_PARENTS; i += 2) {
        memcpy(b, seq[i], 32);
        memcpy(b + 32, seq[i + 1], 32);
        pf_sha256_compress_portable(s, b, 1);
    }
    memcpy(b, seq[PF_LABEL_PARENTS - 1], 32);
    memset(b + 32, 0, 32);
    b[32] = 0x80;
    b[62] = 0x27;   /* length: 1248 bytes = 0x2700 bits */
    pf_sha256_compress_portable(s, b, 1);
    pf_sha256_state_to_bytes(s, out);
    out[31] &= 0x3f;
}

static pf_status interrupted(pf_error *err, uint32_t layer, uint64_t node)
{
    if (err) {
        err->status = PF_EINTERRUPTED;
        snprintf(err->msg, sizeof err->msg, "labeling cancelled in layer %u at node %" PRIu64,
                 layer, node);
    }
    return PF_EINTERRUPTED;
}

static pf_status layer_single(const pf_labeler *l, uint32_t layer, pf_error *err);

pf_status pf_label_layer_single(const pf_labeler *l, uint32_t layer, pf_error *err)
{
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    pf_status st = layer_single(l, layer, err);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    if (l->stats) {
        l->stats->direct = 0;
        l->stats->cpu_seconds =
            (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    }
    return st;
}

static pf_status layer_single(const pf_labeler *l, uint32_t layer, pf_error *err)
{
    const int np = layer == 1 ? PF_BASE_DEGREE : PF_DEGREE;
    void (*node_fn)(const uint32_t *, const uint8_t *const *, int, uint8_t *) =
        l->use_ni ? pf_label_node_ni : pf_label_node_portable;
    void (*compress)(uint32_t *, const uint8_t *, size_t) =
        l->use_ni ? pf_sha256_compress_ni : pf_sha256_compress_portable;
    uint8_t *const cur = l->cur;
    const uint8_t *const prev = l->prev;
    const uint64_t ahead_n = l->prefetch_ahead ? l->prefetch_ahead : PREFETCH_AHEAD;

    pf_label_node0(l->replica_id, layer, cur);
    uint8_t block[64];
    prefix_block(l->replica_id, layer, 1, block);
    uint32_t st[2][8];
    memcpy(st[1], pf_sha256_iv, 32);
    compress(st[1], block, 1);

    for (uint64_t v = 1; v < l->nodes; v++) {
        const uint32_t *par = l->parents + v * PF_DEGREE;
        /* Own the line a later label goes to: a store that misses would hold up the
         * stores behind it (the node's schedule spills) until memory answers. */
        __builtin_prefetch(cur + (v + STORE_AHEAD) * 32, 1);
        if (v + ahead_n < l->nodes) {
            const uint32_t *ahead = par + ahead_n * PF_DEGREE;
            for (int k = 0; k < PF_BASE_DEGREE; k++)
                __builtin_prefetch(cur + (size_t)ahead[k] * 32);
            if (np == PF_DEGREE)
                for (int k = PF_BASE_DEGREE; k < PF_DEGREE; k++)
                    __builtin_prefetch(prev + (size_t)ahead[k] * 32);
        }
        const uint8_t *ptr[PF_DEGREE];
        for (int k = 0; k < PF_BASE_DEGREE; k++)
            ptr[k] = cur + (size_t)par[k] * 32;
        if (np == PF_DEGREE)
            for (int k = PF_BASE_DEGREE; k < PF_DEGREE; k++)
                ptr[k] = prev + (size_t)par[k] * 32;
        /* The next node's prefix does not depend on this node's chain; the SHA-NI path
         * interleaves it with this node's first block. */
        uint64_t n = v + 1;
        if (n < l->nodes) {
            for (int i = 0; i < 8; i++)
                block[36 + i] = (uint8_t)(n >> (56 - 8 * i));
            if (l->use_ni) {
                pf_label_node_ni_next(st[v & 1], ptr, np, cur + v * 32, block, st[n & 1]);
            } else {
                memcpy(st[n & 1], pf_sha256_iv, 32);
                pf_sha256_compress_portable(st[n & 1], block, 1);
                pf_label_node_portable(st[v & 1], ptr, np, cur + v * 32);
            }
        } else {
            node_fn(st[v & 1], ptr, np, cur + v * 32);
        }
        if ((v & (CHECK_EVERY - 1)) == 0) {
            if ((l->cancel && __atomic_load_n(l->cancel, __ATOMIC_ACQUIRE)) ||
                (l->stop && __atomic_load_n(l->stop, __ATOMIC_ACQUIRE)))
                return interrupted(err, layer, v);
            if (l->map)
                pf_pcache_map_advance(l->map, v);
        }
    }
    return PF_OK;
}

pf_status pf_sdr_last_labels(const pf_graph *g, const uint8_t replica_id[32], int layers,
                             const pf_sdr_options *opts, uint8_t (*last_labels)[32],
                             pf_error *err)
{
    static const pf_sdr_options defaults;
    if (!opts)
        opts = &defaults;
    if (layers < 1 || layers > 64) {
        if (err) {
            err->status = PF_EINVAL;
            snprintf(err->msg, sizeof err->msg, "labels: %d layers is out of range (1..64)",
                     layers);
        }
        return PF_EINVAL;
    }
    pf_status st = PF_OK;
    size_t bytes = (size_t)g->nodes * 32;
    int huge;
    uint32_t *table = malloc((size_t)g->nodes * PF_DEGREE * sizeof *table);
    uint8_t *a = pf_sdr_alloc(bytes, opts->hugepages, &huge);
    uint8_t *b = pf_sdr_alloc(bytes, opts->hugepages, &huge);
    int cpus[64], ncpus = 0;
    if (!table || !a || !b) {
        if (err) {
            err->status = PF_ENOMEM;
            snprintf(err->msg, sizeof err->msg,
                     "labels: cannot allocate %" PRIu64 " nodes (2 layers + parent table)", g->nodes);
        }
        st = PF_ENOMEM;
        goto done;
    }
    pf_graph_fill_table(g, 0, g->nodes, table, opts->threads);
    pf_labeler l = { .nodes = g->nodes, .parents = table, .cancel = opts->cancel,
                     .use_ni = pf_sha256_using_ni() };
    memcpy(l.replica_id, replica_id, 32);
    if (opts->multicore) {
        int want = 1 + (opts->producers > 0 ? opts->producers : 3);
        if ((st = pf_sdr_core_group(opts->cores, want, cpus, 64, &ncpus, err)) != PF_OK)
            goto done;
        l.cpus = cpus;
        l.ncpus = ncpus;
        l.producers = opts->producers;
    }
    for (int layer = 1; layer <= layers; layer++) {
        l.cur = layer & 1 ? a : b;
        l.prev = layer & 1 ? b : a;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        st = opts->multicore ? pf_label_layer_multi(&l, (uint32_t)layer, err)
                             : pf_label_layer_single(&l, (uint32_t)layer, err);
        if (st != PF_OK)
            goto done;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        memcpy(last_labels[layer - 1], l.cur + bytes - 32, 32);
        if (opts->progress) {
            pf_progress_event ev = {
                .layer = layer, .layers = layers,
                .seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
            };
            opts->progress(opts->progress_ctx, &ev);
        }
    }
done:
    free(table);
    pf_sdr_free(a, bytes);
    pf_sdr_free(b, bytes);
    return st;
}
