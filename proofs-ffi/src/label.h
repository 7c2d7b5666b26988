/* label.h — SDR layer labeling internals (research/porep.md §6):
 *   label(v) = trim(SHA256(replica_id || BE32(layer) || BE64(v) || 0^20 || 37 parent labels))
 * Block 0 (the prefix) depends only on (replica_id, layer, v), so its state is computed
 * ahead; the other 19 compressions form the dependent chain.  Layer 1 hashes the 6 base
 * labels six times plus the first again; later layers hash the 14 labels (6 base from
 * this layer, 8 expander from the previous) twice plus the first 9.
 *
 * label.c: node functions (portable), single-thread layer loop, pf_sdr_last_labels.
 * label_ni.c: the same node function with SHA-NI, reusing message schedules of repeated
 *             blocks.  label_multi.c: hashing thread + producer threads.
 * sdr_cores.c: core groups and binding.  sdr_mem.c: layer buffers. */
#ifndef PF_LABEL_H
#define PF_LABEL_H

#include <stddef.h>
#include <stdint.h>

#include "parent_cache.h"
#include "sealproofs.h"

typedef struct pf_label_stats {
    uint64_t direct;           /* multi-core: nodes the hashing thread labeled without a
                                  staged slot (its producers were late) */
    double cpu_seconds;        /* CPU time of the hashing thread for the layer */
} pf_label_stats;

/* One layer's labeling job.  parents is the whole table (PF_DEGREE u32 per node); map,
 * when non-NULL, is the mapping it comes from, released behind the hashing thread. */
typedef struct pf_labeler {
    uint64_t nodes;
    const uint32_t *parents;
    pf_pcache_map *map;
    uint8_t replica_id[32];
    uint8_t *cur;              /* this layer: nodes * 32 bytes */
    const uint8_t *prev;       /* previous layer (layers >= 2) */
    const volatile int *cancel;
    const volatile int *stop;  /* a second stop flag (PC1's layer writer failed) */
    int use_ni;                /* SHA-NI node function (CPU checked by the caller) */
    /* multi-core only */
    const int *cpus;           /* cpus[0] = hashing thread, then one per producer; may be NULL */
    int ncpus;
    int producers;
    uint32_t lookahead;        /* ring slots; 0 = default */
    uint32_t stride;           /* nodes a producer claims at a time; 0 = default */
    pf_label_stats *stats;     /* when non-NULL: filled by the layer functions */
    uint32_t prefetch_ahead;   /* single-thread: parents prefetched this many nodes ahead;
                                  0 = default */
} pf_labeler;

/* SHA-256 state after the prefix block of (replica_id, layer, node). */
void pf_label_prefix_state(const uint8_t replica_id[32], uint32_t layer, uint64_t node,
                           uint32_t st[8]);
/* Label of node 0 of a layer (no parents). */
void pf_label_node0(const uint8_t replica_id[32], uint32_t layer, uint8_t out[32]);
/* Label of a node from its prefix state and parent labels: nparents = 6 (layer 1: base
 * parents) or 14 (base then expander).  out may alias none of the inputs. */
void pf_label_node_portable(const uint32_t st[8], const uint8_t *const *p, int nparents,
                            uint8_t out[32]);
void pf_label_node_ni(const uint32_t st[8], const uint8_t *const *p, int nparents,
                      uint8_t out[32]);
/* pf_label_node_ni that also compresses next_block (the next node's prefix block) from the
 * IV into next_st, interleaved with its own first block. */
void pf_label_node_ni_next(const uint32_t st[8], const uint8_t *const *p, int nparents,
                           uint8_t out[32], const uint8_t next_block[64], uint32_t next_st[8]);

/* One dependent chain of SHA-256 compressions (the hardware limit sequential labeling is
 * measured against): nblocks consecutive 64-byte blocks, or with reuse the first block's
 * schedule nblocks times (then only sha256rnds2 latency remains). SHA-NI only. */
void pf_label_chain_ni(uint32_t st[8], const uint8_t *blocks, size_t nblocks, int reuse);

/* Labels layer `layer` (1-based) into l->cur.  PF_EINTERRUPTED when cancelled. */
pf_status pf_label_layer_single(const pf_labeler *l, uint32_t layer, pf_error *err);
pf_status pf_label_layer_multi(const pf_labeler *l, uint32_t layer, pf_error *err);

/* Core groups (sdr_cores.c).  Parses "0-3,8,10-11" into at most max CPU numbers. */
pf_status pf_sdr_parse_cpus(const char *s, int *cpus, int max, int *n, pf_error *err);
/* CPUs for the hashing thread and producers: every CPU of the given list (at most max), or
 * else up to `want` CPUs, one per core of the L3 domain holding the first CPU this
 * process may run on. */
pf_status pf_sdr_core_group(const char *list, int want, int *cpus, int max, int *n,
                            pf_error *err);
/* Keeps the first CPU of each physical core in cpus[0..n) (SMT siblings share the SHA
 * unit, so a second hashing thread there adds nothing); returns the new count.  CPUs the
 * topology does not know are kept; without a topology the list stays as it is. */
int pf_sdr_one_per_core(int *cpus, int n);
/* Binds the calling thread to one CPU; returns 0 or -1 (not fatal: the caller goes on). */
int pf_sdr_bind_cpu(int cpu);

/* Layer buffers (sdr_mem.c): anonymous, zero-filled, faulted in; hugepages > 0 tries
 * explicit MAP_HUGETLB first, >= 0 advises transparent hugepages, < 0 uses neither.
 * *huge is set to 2 for HugeTLB, 1 for THP advice, 0 for neither. */
void *pf_sdr_alloc(size_t bytes, int hugepages, int *huge);
void pf_sdr_free(void *p, size_t bytes);

#endif
