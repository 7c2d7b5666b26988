/* pc1_internal.h — what batched PC1 (sdr_batch.c) shares with single-sector PC1 (pc1.c):
 * one sector's cache directory (arguments checked, created, locked, marker and resume
 * exactly as pf_pc1 does them) and layer files read and written from node-interleaved
 * buffers (one 32-byte label every `stride` bytes), atomically as pf_pc1 writes them. */
#ifndef PF_PC1_INTERNAL_H
#define PF_PC1_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sealproofs.h"

typedef struct pf_pc1_dir {
    int lock_fd;               /* flock held on sealpipe-pc1.lock; -1 when closed */
    int complete;              /* layers already complete from an earlier run (0..layers) */
    uint8_t replica_id[32];
} pf_pc1_dir;

/* Checks the sector's arguments, creates and locks dir and reads or (re)writes its marker
 * for graph g and the parent cache with digest pcache_digest; d->complete says where the
 * sector resumes.  Close with pf_pc1_dir_close (also after a failure: harmless). */
pf_status pf_pc1_dir_open(int proof_id, const pf_graph *g, const uint8_t pcache_digest[32],
                          const char *dir, uint64_t sector_id, const uint8_t prover_id[32],
                          const uint8_t ticket[32], const uint8_t comm_d[32], pf_pc1_dir *d,
                          pf_error *err);
void pf_pc1_dir_close(pf_pc1_dir *d);

/* Layer file `layer` of dir from/to the labels at labels + v * stride (v < nodes). */
pf_status pf_pc1_write_layer_strided(const char *dir, int layer, const uint8_t *labels,
                                     uint64_t nodes, size_t stride, pf_error *err);
pf_status pf_pc1_read_layer_strided(const char *dir, int layer, uint8_t *labels, uint64_t nodes,
                                    size_t stride, pf_error *err);

#endif
