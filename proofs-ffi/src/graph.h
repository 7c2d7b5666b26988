/* graph.h — internal helpers of the SDR graph (graph.c, feistel.c) shared with the
 * parent cache and labeling code.  The graph itself is public (sealproofs/pc1.h). */
#ifndef PF_GRAPH_H
#define PF_GRAPH_H

#include "sealproofs.h"

/* Smallest k >= 1 with 4^k >= domain (bits per half of the Feistel network). */
unsigned pf_feistel_half_bits(uint64_t domain);

/* Fills an in-memory parent table (nodes * PF_DEGREE u32, host order) for nodes
 * [first, first + count) using `threads` threads (0 = all allowed CPUs). */
void pf_graph_fill_table(const pf_graph *g, uint64_t first, uint64_t count, uint32_t *table,
                         int threads);

/* pf_feistel_permute of n indices with AVX2 (feistel_avx2.c; CPU checked by the caller). */
void pf_feistel_permute_many_avx2(const pf_graph *g, const uint64_t *in, uint64_t *out, size_t n);

/* CPUs this process may run on (sched_getaffinity), at least 1. */
int pf_allowed_cpus(void);

#endif
