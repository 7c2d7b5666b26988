/* parent_cache.h — internal side of the parent cache (parent_cache.c): a read-only
 * mapping of a verified cache file that PC1 walks sequentially and releases behind it, so
 * the file's pages never accumulate in the process's resident set. */
#ifndef PF_PARENT_CACHE_H
#define PF_PARENT_CACHE_H

#include "sealproofs.h"

typedef struct pf_pcache_map {
    int fd;
    const uint32_t *parents;    /* nodes * PF_DEGREE u32 (LE = host order on x86) */
    size_t len;                 /* bytes mapped */
    uint64_t nodes;
    uint64_t released;          /* nodes below this have been released */
    uint64_t advised;           /* nodes below this have been announced with WILLNEED */
} pf_pcache_map;

/* Maps the cache file at path for g (checks the size; the content must already have been
 * verified with pf_parent_cache_ensure). */
pf_status pf_pcache_map_open(pf_pcache_map *m, const char *path, const pf_graph *g,
                             pf_error *err);
/* Drops the pages of nodes below `node` from this process (whole windows only) and asks
 * the kernel to read ahead the window after `node`.  Call from one thread only. */
void pf_pcache_map_advance(pf_pcache_map *m, uint64_t node);
/* Back to the start for the next layer: releases everything read so far. */
void pf_pcache_map_rewind(pf_pcache_map *m);
void pf_pcache_map_close(pf_pcache_map *m);

/* pf_parent_table_write / pf_parent_cache_ensure that stop with PF_EINTERRUPTED when
 * *cancel becomes non-zero (checked every few MiB; nothing is left under the final name). */
pf_status pf_parent_table_write_cancel(const pf_graph *g, int fd, int threads,
                                       const volatile int *cancel, uint8_t digest[32],
                                       pf_error *err);
pf_status pf_parent_cache_ensure_cancel(const pf_graph *g, const char *dir, int threads,
                                        const volatile int *cancel, pf_parent_cache_result *res,
                                        pf_error *err);

/* Nodes per release window: 2^16 nodes = 3.5 MiB of parents. */
#define PF_PCACHE_WINDOW_NODES (1u << 16)

#endif
