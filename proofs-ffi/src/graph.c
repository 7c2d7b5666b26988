/* graph.c — the SDR parent graph (rust-fil-proofs drgraph.rs BucketGraph and stacked
 * graph.rs; research/porep.md §5): graph construction from porep_id, DRG base parents
 * sampled with ChaCha8, expander parents from the Feistel permutation, and parallel
 * filling of a parent table. */
#include "graph.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chacha.h"
#include "sha256.h"

static void set_err(pf_error *err, pf_status st, const char *msg)
{
    if (err) {
        err->status = st;
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
}

/* SHA256(tag || porep_id): the two domain-separated graph seeds. */
static void domain_seed(const char *tag, const uint8_t porep_id[32], uint8_t out[32])
{
    pf_sha256_ctx c;
    pf_sha256_init(&c);
    pf_sha256_update(&c, tag, strlen(tag));
    pf_sha256_update(&c, porep_id, 32);
    pf_sha256_final(&c, out);
}

pf_status pf_graph_init(pf_graph *g, uint64_t nodes, const uint8_t porep_id[32], int api_version,
                        pf_error *err)
{
    if (nodes < 2 || nodes > UINT32_MAX) {
        char m[160];
        snprintf(m, sizeof m, "graph: %llu nodes is out of range (2 .. 2^32-1)",
                 (unsigned long long)nodes);
        set_err(err, PF_EINVAL, m);
        return PF_EINVAL;
    }
    if (api_version != 100 && api_version != 110 && api_version != 120) {
        char m[160];
        snprintf(m, sizeof m, "graph: API version %d is not one of 100, 110, 120 (1.0, 1.1, 1.2)",
                 api_version);
        set_err(err, PF_EINVAL, m);
        return PF_EINVAL;
    }
    memset(g, 0, sizeof *g);
    g->nodes = nodes;
    g->api_version = api_version;
    memcpy(g->porep_id, porep_id, 32);
    uint8_t h[32];
    domain_seed("Filecoin_DRSample", porep_id, h);
    memcpy(g->drg_seed, h, 28);
    domain_seed("Filecoin_Feistel", porep_id, h);
    for (int i = 0; i < 4; i++) {
        uint64_t k = 0;
        for (int b = 7; b >= 0; b--)
            k = k << 8 | h[8 * i + b];
        g->feistel_keys[i] = k;
    }
    g->feistel_domain = nodes * PF_EXP_DEGREE;
    g->feistel_half_bits = pf_feistel_half_bits(g->feistel_domain);
    g->feistel_right_mask = (1ULL << g->feistel_half_bits) - 1;
    return PF_OK;
}

pf_status pf_graph_init_proof(pf_graph *g, int proof_id, pf_error *err)
{
    const pf_seal_proof_info *p = pf_seal_proof(proof_id);
    if (!p) {
        char m[120];
        snprintf(m, sizeof m, "graph: seal proof id %d is not registered (use 0-19)", proof_id);
        set_err(err, PF_EINVAL, m);
        return PF_EINVAL;
    }
    return pf_graph_init(g, p->nodes, p->porep_id, p->api_version, err);
}

void pf_graph_base_parents(const pf_graph *g, uint64_t node, uint32_t out[PF_BASE_DEGREE])
{
    if (node < 2) {
        memset(out, 0, PF_BASE_DEGREE * sizeof out[0]);
        return;
    }
    const uint32_t v = (uint32_t)node;
    uint8_t seed[32];
    memcpy(seed, g->drg_seed, 28);
    seed[28] = (uint8_t)v;
    seed[29] = (uint8_t)(v >> 8);
    seed[30] = (uint8_t)(v >> 16);
    seed[31] = (uint8_t)(v >> 24);
    pf_chacha_rng rng;
    pf_chacha_rng_init(&rng, seed, 8);

    const uint64_t m_prime = PF_BASE_DEGREE - 1;
    const uint64_t meta = (uint64_t)v * m_prime;
    /* Upstream computes ceil(log2(meta)) in f64; for meta < 2^47 that equals the bit
     * length of meta - 1 exactly (meta >= 10 here). */
    const uint64_t n_buckets = 64 - (uint64_t)__builtin_clzll(meta - 1);
    /* API 1.0 puts the predecessor last; later versions first, so hashing of a node can
     * only start once its predecessor is labeled. */
    const int legacy = g->api_version == 100;
    uint32_t *others = legacy ? out : out + 1;
    for (uint64_t i = 0; i < m_prime; i++) {
        uint64_t bucket = pf_chacha_rng_u64(&rng) % n_buckets + 1;
        uint64_t largest = 1ULL << bucket;
        if (largest > meta)
            largest = meta;
        uint64_t smallest = largest >> 1;
        if (smallest < 2)
            smallest = 2;
        uint64_t dist = smallest + pf_chacha_rng_u64(&rng) % (largest - smallest + 1);
        uint32_t p = (uint32_t)((meta - dist) / m_prime);
        others[i] = p == v ? v - 1 : p;
    }
    out[legacy ? m_prime : 0] = v - 1;
}

void pf_graph_exp_parents(const pf_graph *g, uint64_t node, uint32_t out[PF_EXP_DEGREE])
{
    for (uint64_t i = 0; i < PF_EXP_DEGREE; i++) {
        uint64_t t = pf_feistel_permute(g, node * PF_EXP_DEGREE + i);
        /* API 1.0 truncated the permuted value to u32 before dividing; harmless below 2^32
         * but it is what legacy 64GiB graphs contain. */
        out[i] = g->api_version == 100 ? (uint32_t)t / PF_EXP_DEGREE
                                       : (uint32_t)(t / PF_EXP_DEGREE);
    }
}

void pf_graph_parents(const pf_graph *g, uint64_t node, uint32_t out[PF_DEGREE])
{
    pf_graph_base_parents(g, node, out);
    pf_graph_exp_parents(g, node, out + PF_BASE_DEGREE);
}

int pf_allowed_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    return 1;
}

struct fill_job {
    const pf_graph *g;
    uint64_t first, count;
    uint32_t *table;
};

/* Nodes whose expander parents are permuted in one batch on the AVX2 path. */
#define BATCH_NODES 128

static void *fill_worker(void *arg)
{
    const struct fill_job *j = arg;
    const pf_graph *g = j->g;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2")) {
        for (uint64_t i = 0; i < j->count; i++)
            pf_graph_parents(g, j->first + i, j->table + i * PF_DEGREE);
        return NULL;
    }
    uint64_t in[BATCH_NODES * PF_EXP_DEGREE], out[BATCH_NODES * PF_EXP_DEGREE];
    for (uint64_t at = 0; at < j->count; at += BATCH_NODES) {
        uint64_t n = j->count - at < BATCH_NODES ? j->count - at : BATCH_NODES;
        for (uint64_t i = 0; i < n * PF_EXP_DEGREE; i++)
            in[i] = (j->first + at) * PF_EXP_DEGREE + i;
        pf_feistel_permute_many_avx2(g, in, out, (size_t)(n * PF_EXP_DEGREE));
        for (uint64_t i = 0; i < n; i++) {
            uint32_t *row = j->table + (at + i) * PF_DEGREE;
            pf_graph_base_parents(g, j->first + at + i, row);
            for (int e = 0; e < PF_EXP_DEGREE; e++) {
                uint64_t t = out[i * PF_EXP_DEGREE + (uint64_t)e];
                row[PF_BASE_DEGREE + e] = g->api_version == 100 ? (uint32_t)t / PF_EXP_DEGREE
                                                                : (uint32_t)(t / PF_EXP_DEGREE);
            }
        }
    }
    return NULL;
}

void pf_graph_fill_table(const pf_graph *g, uint64_t first, uint64_t count, uint32_t *table,
                         int threads)
{
    enum { MAX_THREADS = 256 };
    if (threads <= 0)
        threads = pf_allowed_cpus();
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    if ((uint64_t)threads > count / 64 + 1)
        threads = (int)(count / 64 + 1);
    struct fill_job jobs[MAX_THREADS];
    pthread_t tids[MAX_THREADS];
    int started = 0;
    uint64_t per = count / (uint64_t)threads, at = 0;
    for (int t = 0; t < threads; t++) {
        uint64_t n = t == threads - 1 ? count - at : per;
        jobs[t] = (struct fill_job){ g, first + at, n, table + at * PF_DEGREE };
        at += n;
        /* The calling thread takes the last share; a thread that cannot be started is done
         * inline, so the table is always complete. */
        if (t == threads - 1 || pthread_create(&tids[started], NULL, fill_worker, &jobs[t]) != 0)
            fill_worker(&jobs[t]);
        else
            started++;
    }
    for (int t = 0; t < started; t++)
        pthread_join(tids[t], NULL);
}
