/* label_multi.c — multi-core SDR in the manner of rust-fil-proofs' create_label/multi.rs:
 * one hashing thread runs the dependent SHA-256 chain while producer threads stage, in a
 * ring of slots ahead of it, each upcoming node's prefix state and its parent labels.
 * A base parent that the hashing thread has not finished when a producer reaches the node
 * (always the predecessor, sometimes another recent node) is marked missing and read by
 * the hashing thread itself from the current layer.
 *
 * Counters (each on its own cache line):
 *   done   — labels [0, done) of this layer are final (hashing thread, release);
 *   staged — slots of nodes [1, staged) are filled (producers, in order, release);
 *   claim  — next node a producer takes, `stride` at a time.
 * A producer fills node v only once v < done + lookahead, so it never overwrites a slot
 * the hashing thread still reads.  When its slot is not ready in time, the hashing thread
 * labels the node itself from the layer arrays (producers then skip nodes below done), so
 * slow or descheduled producers cost speed down to the single-thread rate, never more. */
#include "label.h"

#include <immintrin.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "sha256.h"

#define DEFAULT_LOOKAHEAD 4096
#define DEFAULT_STRIDE 64
#define MAX_PRODUCERS 32
#define CHECK_EVERY ((uint64_t)1 << 14)
#define PUBLISH_EVERY 16
/* Labels are prefetched for writing this many nodes ahead. */
#define STORE_AHEAD 8
/* Parents of a node the hashing thread may label itself are prefetched this far ahead. */
#define DIRECT_AHEAD 4
/* A producer prefetches the parents of the node this many ahead of the one it fills. */
#define PRODUCER_AHEAD 6

typedef struct slot {
    uint32_t st[8];                    /* state after the prefix block */
    uint32_t base[PF_BASE_DEGREE];     /* base parent indices, for the missing ones */
    uint32_t missing;                  /* bit k: base parent k is read by the hashing thread */
    uint32_t unused;
    uint8_t labels[PF_DEGREE][32];
} slot;

typedef struct shared {
    alignas(64) _Atomic uint64_t done;
    alignas(64) _Atomic uint64_t staged;
    alignas(64) _Atomic uint64_t claim;
    alignas(64) _Atomic int stop;
    alignas(64) const pf_labeler *l;
    uint32_t layer;
    int np;
    uint32_t lookahead, stride;
    slot *ring;
    pf_status status;
    uint64_t direct;                   /* nodes the hashing thread labeled without a slot */
    double cpu_seconds;                /* the hashing thread's CPU time */
} shared;

typedef struct producer_arg {
    shared *s;
    int cpu;                           /* -1: not pinned */
} producer_arg;

/* Waits politely: a producer ahead of the hashing thread has nothing to do for a while,
 * and on a small machine it may share a core (or a CPU quota) with the hashing thread. */
static void nap(unsigned *spins, long ns)
{
    if (++*spins < 16) {
        _mm_pause();
        return;
    }
    struct timespec ts = { 0, ns };
    nanosleep(&ts, NULL);
}

static void prefix_template(const pf_labeler *l, uint32_t layer, uint8_t block[64])
{
    memcpy(block, l->replica_id, 32);
    for (int i = 0; i < 4; i++)
        block[32 + i] = (uint8_t)(layer >> (24 - 8 * i));
    memset(block + 36, 0, 28);
}

static void prefix_state(const pf_labeler *l, uint64_t v, uint8_t block[64], uint32_t st[8])
{
    for (int i = 0; i < 8; i++)
        block[36 + i] = (uint8_t)(v >> (56 - 8 * i));
    memcpy(st, pf_sha256_iv, 32);
    if (l->use_ni)
        pf_sha256_compress_ni(st, block, 1);
    else
        pf_sha256_compress_portable(st, block, 1);
}

/* The hashing thread labels node v on its own, as the single-thread path does; with
 * SHA-NI the next node's prefix state is computed on the way (next->for_node = v + 1), in
 * case that node has no slot either. */
typedef struct direct_next {
    uint64_t for_node;
    uint32_t st[8];
} direct_next;

static void label_direct(shared *s, uint64_t v, uint8_t block[64], direct_next *next)
{
    const pf_labeler *l = s->l;
    uint32_t st[8];
    if (next->for_node == v)
        memcpy(st, next->st, sizeof st);
    else
        prefix_state(l, v, block, st);
    const uint32_t *par = l->parents + v * PF_DEGREE;
    const uint8_t *ptr[PF_DEGREE];
    for (int k = 0; k < PF_BASE_DEGREE; k++)
        ptr[k] = l->cur + (size_t)par[k] * 32;
    for (int k = PF_BASE_DEGREE; k < s->np; k++)
        ptr[k] = l->prev + (size_t)par[k] * 32;
    if (l->use_ni && v + 1 < l->nodes) {
        for (int i = 0; i < 8; i++)
            block[36 + i] = (uint8_t)((v + 1) >> (56 - 8 * i));
        pf_label_node_ni_next(st, ptr, s->np, l->cur + v * 32, block, next->st);
        next->for_node = v + 1;
    } else if (l->use_ni) {
        pf_label_node_ni(st, ptr, s->np, l->cur + v * 32);
    } else {
        pf_label_node_portable(st, ptr, s->np, l->cur + v * 32);
    }
}

static void fill_slot(shared *s, uint64_t v, uint8_t block[64])
{
    const pf_labeler *l = s->l;
    const uint64_t done = atomic_load_explicit(&s->done, memory_order_acquire);
    if (v < done)
        return;   /* the hashing thread labeled it without us */
    slot *sl = &s->ring[v % s->lookahead];
    prefix_state(l, v, block, sl->st);
    const uint32_t *par = l->parents + v * PF_DEGREE;
    uint32_t missing = 0;
    for (int k = 0; k < PF_BASE_DEGREE; k++) {
        uint32_t p = par[k];
        sl->base[k] = p;
        if (p < done)
            memcpy(sl->labels[k], l->cur + (size_t)p * 32, 32);
        else
            missing |= 1u << k;
    }
    if (s->np == PF_DEGREE)
        for (int k = PF_BASE_DEGREE; k < PF_DEGREE; k++)
            memcpy(sl->labels[k], l->prev + (size_t)par[k] * 32, 32);
    sl->missing = missing;
}

static void *producer(void *arg)
{
    producer_arg *pa = arg;
    shared *s = pa->s;
    const pf_labeler *l = s->l;
    if (pa->cpu >= 0)
        (void)pf_sdr_bind_cpu(pa->cpu);
    /* Naps are short (20-100 us); the default 50 us timer slack would stretch them. */
    (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    uint8_t block[64];
    prefix_template(l, s->layer, block);
    for (;;) {
        uint64_t start = atomic_fetch_add(&s->claim, s->stride);
        if (start >= l->nodes)
            break;
        uint64_t end = start + s->stride < l->nodes ? start + s->stride : l->nodes;
        /* Room for the whole stride (slots of nodes below done + lookahead are free).  When
         * the ring is full, sleep until half of it is free again: few wakeups, and a ring
         * still half full for the hashing thread. */
        if (end > atomic_load_explicit(&s->done, memory_order_acquire) + s->lookahead) {
            const uint64_t resume = end - s->lookahead / 2;
            unsigned spins = 0;
            while (atomic_load_explicit(&s->done, memory_order_acquire) < resume) {
                if (atomic_load_explicit(&s->stop, memory_order_relaxed))
                    return NULL;
                nap(&spins, 100000);
            }
        }
        for (uint64_t v = start; v < end; v++) {
            /* Parent labels are scattered over two whole layers: ask for those of a later
             * node now, so that copying this node's finds them in cache. */
            if (v + PRODUCER_AHEAD < l->nodes) {
                const uint32_t *par = l->parents + (v + PRODUCER_AHEAD) * PF_DEGREE;
                for (int k = 0; k < PF_BASE_DEGREE; k++)
                    __builtin_prefetch(l->cur + (size_t)par[k] * 32);
                for (int k = PF_BASE_DEGREE; k < s->np; k++)
                    __builtin_prefetch(l->prev + (size_t)par[k] * 32);
            }
            fill_slot(s, v, block);
        }
        /* Publish in node order: wait for the stride before ours. */
        unsigned spins = 0;
        while (atomic_load_explicit(&s->staged, memory_order_acquire) != start) {
            if (atomic_load_explicit(&s->stop, memory_order_relaxed))
                return NULL;
            nap(&spins, 20000);
        }
        atomic_store_explicit(&s->staged, end, memory_order_release);
    }
    return NULL;
}

static void *hasher(void *arg)
{
    producer_arg *pa = arg;
    shared *s = pa->s;
    const pf_labeler *l = s->l;
    if (pa->cpu >= 0)
        (void)pf_sdr_bind_cpu(pa->cpu);
    void (*node_fn)(const uint32_t *, const uint8_t *const *, int, uint8_t *) =
        l->use_ni ? pf_label_node_ni : pf_label_node_portable;
    uint8_t *const cur = l->cur;
    const int np = s->np;

    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    pf_label_node0(l->replica_id, s->layer, cur);
    atomic_store_explicit(&s->done, 1, memory_order_release);
    uint8_t block[64];
    prefix_template(l, s->layer, block);
    direct_next next = { 0, { 0 } };
    uint64_t ready = 1;
    for (uint64_t v = 1; v < l->nodes; v++) {
        if (v + DIRECT_AHEAD >= ready && v + DIRECT_AHEAD < l->nodes) {
            /* The producers are close to falling behind: warm the parents of a node this
             * thread may have to label itself. */
            const uint32_t *par = l->parents + (v + DIRECT_AHEAD) * PF_DEGREE;
            for (int k = 0; k < PF_BASE_DEGREE; k++)
                __builtin_prefetch(cur + (size_t)par[k] * 32);
            for (int k = PF_BASE_DEGREE; k < np; k++)
                __builtin_prefetch(l->prev + (size_t)par[k] * 32);
        }
        if (v >= ready) {
            ready = atomic_load_explicit(&s->staged, memory_order_acquire);
            for (int spins = 0; v >= ready && spins < 32; spins++) {
                _mm_pause();
                ready = atomic_load_explicit(&s->staged, memory_order_acquire);
            }
            if (v >= ready) {
                /* The producers are behind (descheduled, or on a slow core): label this
                 * node without them rather than wait.  They skip the nodes done here. */
                s->direct++;
                label_direct(s, v, block, &next);
                atomic_store_explicit(&s->done, v + 1, memory_order_release);
                goto checks;
            }
        }
        const slot *sl = &s->ring[v % s->lookahead];
        /* Own the line a later label goes to: a store that misses would hold up the
         * stores behind it (this node's schedule spills) until memory answers. */
        __builtin_prefetch(cur + (v + STORE_AHEAD) * 32, 1);
        /* Pull the slot after next into this core's cache while the chain runs. */
        const slot *ahead = &s->ring[(v + 2) % s->lookahead];
        for (size_t off = 0; off < sizeof *ahead; off += 64)
            __builtin_prefetch((const char *)ahead + off);
        const uint8_t *ptr[PF_DEGREE];
        const uint32_t missing = sl->missing;
        for (int k = 0; k < PF_BASE_DEGREE; k++)
            ptr[k] = missing >> k & 1 ? cur + (size_t)sl->base[k] * 32 : sl->labels[k];
        for (int k = PF_BASE_DEGREE; k < np; k++)
            ptr[k] = sl->labels[k];
        node_fn(sl->st, ptr, np, cur + v * 32);
        /* Published every PUBLISH_EVERY nodes only: each store takes the line back from
         * the producers that read it, and the stores behind it wait. */
        if ((v & (PUBLISH_EVERY - 1)) == PUBLISH_EVERY - 1)
            atomic_store_explicit(&s->done, v + 1, memory_order_release);
    checks:
        if ((v & (CHECK_EVERY - 1)) == 0) {
            if ((l->cancel && __atomic_load_n(l->cancel, __ATOMIC_ACQUIRE)) ||
                (l->stop && __atomic_load_n(l->stop, __ATOMIC_ACQUIRE))) {
                s->status = PF_EINTERRUPTED;
                break;
            }
            if (l->map)
                pf_pcache_map_advance(l->map, v);
        }
    }
    if (s->status == PF_OK)
        atomic_store_explicit(&s->done, l->nodes, memory_order_release);
    atomic_store_explicit(&s->stop, 1, memory_order_relaxed);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    s->cpu_seconds = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    return NULL;
}

pf_status pf_label_layer_multi(const pf_labeler *l, uint32_t layer, pf_error *err)
{
    int producers = l->producers > 0 ? l->producers : l->ncpus - 1;
    if (producers > 3 && l->producers <= 0)
        producers = 3;
    if (producers > MAX_PRODUCERS)
        producers = MAX_PRODUCERS;
    /* With one CPU there is nothing to run producers on. */
    if (producers < 1 || (l->cpus && l->ncpus < 2))
        return pf_label_layer_single(l, layer, err);

    shared *s = aligned_alloc(64, sizeof *s);
    uint32_t lookahead = l->lookahead ? l->lookahead : DEFAULT_LOOKAHEAD;
    uint32_t stride = l->stride ? l->stride : DEFAULT_STRIDE;
    if (stride > lookahead)
        stride = lookahead;
    slot *ring = aligned_alloc(64, sizeof(slot) * lookahead);
    pthread_t tids[MAX_PRODUCERS + 1];
    producer_arg args[MAX_PRODUCERS + 1];
    int started = 0;
    pf_status st = PF_OK;
    if (!s || !ring) {
        st = PF_ENOMEM;
        if (err) {
            err->status = st;
            snprintf(err->msg, sizeof err->msg, "multi-core SDR: cannot allocate the ring");
        }
        goto done;
    }
    memset(s, 0, sizeof *s);
    atomic_init(&s->done, 0);
    atomic_init(&s->staged, 1);
    atomic_init(&s->claim, 1);
    atomic_init(&s->stop, 0);
    s->l = l;
    s->layer = layer;
    s->np = layer == 1 ? PF_BASE_DEGREE : PF_DEGREE;
    s->lookahead = lookahead;
    s->stride = stride;
    s->ring = ring;
    s->status = PF_OK;
    /* Producers first: the hashing thread must never run without them, or it would wait
     * for slots forever. */
    for (int i = 1; i <= producers + 1; i++) {
        int idx = i <= producers ? i : 0;
        args[idx].s = s;
        args[idx].cpu = l->cpus && idx < l->ncpus ? l->cpus[idx] : -1;
        if (pthread_create(&tids[idx], NULL, idx == 0 ? hasher : producer, &args[idx]) != 0) {
            atomic_store(&s->stop, 1);
            st = PF_ENOMEM;
            if (err) {
                err->status = st;
                snprintf(err->msg, sizeof err->msg, "multi-core SDR: cannot start thread %d", i);
            }
            break;
        }
        started++;
    }
    /* tids[1..started] are producers; tids[0] the hashing thread once all have started. */
    for (int i = 1; i <= (started > producers ? producers : started); i++)
        pthread_join(tids[i], NULL);
    if (started > producers)
        pthread_join(tids[0], NULL);
    if (l->stats) {
        l->stats->direct = s->direct;
        l->stats->cpu_seconds = s->cpu_seconds;
    }
    if (s->status == PF_EINTERRUPTED) {
        st = PF_EINTERRUPTED;
        if (err) {
            err->status = st;
            snprintf(err->msg, sizeof err->msg, "labeling cancelled in layer %u", layer);
        }
    }
done:
    free(ring);
    free(s);
    return st;
}
