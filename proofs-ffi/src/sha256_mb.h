/* sha256_mb.h — multi-buffer SHA-256 for batched SDR labeling: the label of one node for
 * up to PF_MB_MAX_LANES sectors at once, their dependent chains interleaved on one core.
 *
 * One sector's label is a chain of 19 compressions that waits on sha256rnds2's latency
 * (about 4 cycles) while the SHA unit could start one every cycle; several sectors' chains
 * side by side fill those cycles (perf.md §2: 4 chains reach ~4x one chain when only the
 * rounds run).  The message schedules of repeated blocks are computed once per lane and
 * reused, because sha256msg2 shares the unit with the rounds.
 *
 * Parent labels come from node-interleaved layer rows: the row of node v holds the labels
 * of every sector of the batch side by side, lane l at byte offset off[l] of the row.
 * Built for SHA-NI (function target attributes; call only when pf_sha256_using_ni()); the
 * portable variant loops over lanes with pf_label_node_portable and is the reference. */
#ifndef PF_SHA256_MB_H
#define PF_SHA256_MB_H

#include <stddef.h>
#include <stdint.h>

#define PF_MB_MAX_LANES 8

/* The builds of the SHA-NI kernel: SSE encoding (16 vector registers) and AVX-512VL (32;
 * four lanes then fit in registers, about 12% faster on Zen 4). */
typedef enum pf_mb_isa {
    PF_MB_SSE = 0,
    PF_MB_AVX512 = 1,
} pf_mb_isa;

/* The fastest build this CPU and OS can run, chosen once; SEALPIPE_NO_AVX512=1 forces
 * PF_MB_SSE (as SEALPIPE_NO_SHANI forces the portable SHA-256). */
pf_mb_isa pf_mb_isa_best(void);
/* 1 when this CPU can run that build (tests run every available one). */
int pf_mb_isa_available(pf_mb_isa isa);

/* Labels one node for `lanes` sectors (1..PF_MB_MAX_LANES).  st[l]: lane l's state after
 * the node's prefix block; rows[k]: the row holding parent k (6 base rows of this layer,
 * then 8 expander rows of the previous one when nparents == 14); the label of lane l is
 * read at rows[k] + off[l] and written, trimmed, to out + off[l]. */
void pf_mb_label_node_ni(pf_mb_isa isa, int lanes, const uint32_t (*st)[8],
                         const uint8_t *const *rows, int nparents, const uint32_t *off,
                         uint8_t *out);
void pf_mb_label_node_portable(int lanes, const uint32_t (*st)[8], const uint8_t *const *rows,
                               int nparents, const uint32_t *off, uint8_t *out);

/* n independent compressions of one 64-byte block each from the IV (the prefix blocks of
 * upcoming nodes), four chains at a time. */
void pf_mb_compress_iv_ni(pf_mb_isa isa, size_t n, const uint8_t (*blocks)[64],
                          uint32_t (*st)[8]);

/* Throughput of `lanes` independent chains of compressions with reused schedules
 * (sha256rnds2 only) on this thread, in compressions per second of its CPU time: what a
 * hashing core can reach at best with that many lanes (bench pc1 --batch). */
double pf_mb_chain_rate_ni(int lanes, double seconds);

#endif
