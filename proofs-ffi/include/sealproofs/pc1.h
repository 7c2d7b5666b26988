/* sealproofs/pc1.h — the SDR parent graph, the parent cache, layer labeling and PC1.
 *
 * Cross-phase contract (fixed; PC2, C1 and the worker depend on it):
 *  - PC1 writes every layer's labels to <cache_dir>/sc-02-data-layer-<N>.dat (N = 1..layers),
 *    nodes * 32 bytes each, canonical LE labels, exactly as rust-fil-proofs names them.
 *  - PC1 never modifies the staged (unsealed) file; PC2 reads data from it.
 *  - pf_pc1_output is what later phases need; it serializes to a fixed, versioned binary
 *    form (pf_pc1_output_encode/decode) that the worker stores and passes on.
 *
 * Graph (research/porep.md §5): node v has 6 DRG base parents in the current layer
 * (BucketGraph seeded by ChaCha8) and 8 expander parents in the previous layer (Feistel
 * permutation keyed by Blake2b).  API 1.0 puts the predecessor v-1 last among the base
 * parents and truncates expander values to u32; API >= 1.1 puts it first.
 *
 * Parent cache: rust-fil-proofs' file (14 u32 LE per node, base then expander) named
 * v28-sdr-parent-<hash>.cache in a parent-cache directory (argument; else the environment
 * variable FIL_PROOFS_PARENT_CACHE; else /var/tmp/filecoin-parents).  Before use it is
 * checked against the digest rust-fil-proofs pins for the 10 production graphs, or against
 * the digest recorded beside it (<file>.digest) when this library generated it; a missing
 * or corrupt file is regenerated under an flock on <file>.lock, written to a temporary
 * name and renamed, so concurrent processes generate it once and readers never see a
 * partial file.
 *
 * PC1 resumes: each layer file is written to a temporary name, fsynced and renamed; the
 * inputs are recorded in <cache_dir>/sealpipe-pc1.marker, and a re-run with the same inputs
 * continues after the last complete layer.
 */
#ifndef SEALPROOFS_PC1_H
#define SEALPROOFS_PC1_H

#include "../sealproofs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PF_PC1_OUTPUT_VERSION 1

typedef struct pf_pc1_output {
    uint32_t version;          /* PF_PC1_OUTPUT_VERSION */
    int32_t proof_id;          /* registered seal proof */
    uint64_t sector_id;
    uint8_t prover_id[32];
    uint8_t ticket[32];
    uint8_t comm_d[32];
    uint8_t replica_id[32];
} pf_pc1_output;

/* Layer file path: "<cache_dir>/sc-02-data-layer-<layer>.dat" (layer is 1-based).
 * Returns 0, or -1 when it does not fit in len. */
int pf_layer_path(const char *cache_dir, int layer, char *buf, size_t len);

/* ---- Graph ---------------------------------------------------------------------------- */

#define PF_BASE_DEGREE 6
#define PF_EXP_DEGREE 8
#define PF_DEGREE 14           /* parents per node: 6 base then 8 expander */
#define PF_LABEL_PARENTS 37    /* parent labels hashed per node (layer 1: 6x6+1; else 14+14+9) */

/* Everything needed to compute parents; built once, then read-only (share it freely). */
typedef struct pf_graph {
    uint64_t nodes;            /* 2 .. 2^32 - 1 */
    int api_version;           /* 100, 110 or 120 (as in pf_seal_proof_info) */
    uint8_t porep_id[32];
    uint8_t drg_seed[28];      /* SHA256("Filecoin_DRSample" || porep_id)[0..28] */
    uint64_t feistel_keys[4];  /* LE64 slices of SHA256("Filecoin_Feistel" || porep_id) */
    uint64_t feistel_domain;   /* 8 * nodes */
    uint64_t feistel_right_mask;
    unsigned feistel_half_bits;
} pf_graph;

pf_status pf_graph_init(pf_graph *g, uint64_t nodes, const uint8_t porep_id[32], int api_version,
                        pf_error *err);
/* The graph of a registered seal proof (its nodes, porep_id and API version). */
pf_status pf_graph_init_proof(pf_graph *g, int proof_id, pf_error *err);

/* node < g->nodes. Base parents index the current layer, expander parents the previous. */
void pf_graph_base_parents(const pf_graph *g, uint64_t node, uint32_t out[PF_BASE_DEGREE]);
void pf_graph_exp_parents(const pf_graph *g, uint64_t node, uint32_t out[PF_EXP_DEGREE]);
void pf_graph_parents(const pf_graph *g, uint64_t node, uint32_t out[PF_DEGREE]);

/* The Feistel permutation of [0, domain) with 3 rounds of the given keys (cycle walking);
 * exposed for tests and C1. */
uint64_t pf_feistel_permute(const pf_graph *g, uint64_t index);

/* ---- Parent cache ----------------------------------------------------------------------- */

/* The directory to use: dir when non-NULL and non-empty, else $FIL_PROOFS_PARENT_CACHE,
 * else "/var/tmp/filecoin-parents". */
const char *pf_parent_cache_dir(const char *dir);
/* "<dir>/v28-sdr-parent-<hash>.cache" with rust-fil-proofs' hash of the graph identity.
 * Returns 0, or -1 when it does not fit. */
int pf_parent_cache_path(const pf_graph *g, const char *dir, char *buf, size_t len);
/* The digest rust-fil-proofs pins for this graph (SHA-256 of the whole file), if any:
 * returns 1 and fills digest for the 10 production graphs (ids 0-9), else 0. */
int pf_parent_cache_pinned_digest(const pf_graph *g, uint8_t digest[32]);

/* Computes the whole table with `threads` threads (0 = every CPU this process may use) and
 * writes it to fd (from offset 0) and/or returns its SHA-256 in digest (either may be
 * -1/NULL). */
pf_status pf_parent_table_write(const pf_graph *g, int fd, int threads, uint8_t digest[32],
                                pf_error *err);

typedef struct pf_parent_cache_result {
    char path[4096];
    uint8_t digest[32];
    int generated;             /* 1 when this call (re)generated the file */
    int was_corrupt;           /* 1 when an existing file failed verification */
    int pinned;                /* 1 when verified against rust-fil-proofs' pinned digest */
} pf_parent_cache_result;

/* Makes sure a verified parent cache for g exists in dir (see pf_parent_cache_dir):
 * verifies an existing file, (re)generates a missing or corrupt one (with `threads`
 * threads), and fills res.  Safe against concurrent callers in other processes. */
pf_status pf_parent_cache_ensure(const pf_graph *g, const char *dir, int threads,
                                 pf_parent_cache_result *res, pf_error *err);

/* ---- Labeling ----------------------------------------------------------------------------- */

typedef struct pf_progress_event {
    int layer;                 /* 1-based layer just finished */
    int layers;
    double seconds;            /* labeling time of this layer */
    int resumed;               /* 1 when the layer was loaded from a previous run */
    uint64_t direct_nodes;     /* multi-core: nodes the hashing thread labeled itself because
                                  the producers were late (0 = they always kept up) */
    double hasher_cpu_seconds; /* CPU time the hashing thread got for this layer (below
                                  `seconds` when other work took the CPU from it) */
    int group;                 /* pf_pc1_batch: the group of sectors (one hashing core's
                                  lanes) this layer is of; 0 for pf_pc1 */
} pf_progress_event;

typedef struct pf_sdr_options {
    int multicore;             /* 1 = hashing thread + producer threads (rust's multicore SDR) */
    const char *cores;         /* CPU list such as "0-3" or "2,4,6"; first = hashing thread;
                                  NULL = cores sharing one L3 with this thread's CPUs */
    int producers;             /* producer threads; 0 = min(3, cores in the group - 1) */
    int hugepages;             /* layer buffers: 1 = explicit HugeTLB pages when the system has
                                  them reserved, else as 0; 0 = transparent hugepages
                                  (madvise); -1 = 4 KiB pages only */
    int threads;               /* parent-cache generation threads; 0 = all allowed CPUs */
    void (*progress)(void *ctx, const pf_progress_event *ev);  /* after each layer; may be NULL */
    void *progress_ctx;
    const volatile int *cancel;/* non-NULL: checked while labeling (every 16384 nodes) and while
                                  the parent cache is verified or generated; non-zero ->
                                  PF_EINTERRUPTED, complete layers stay for a resume */
} pf_sdr_options;

/* Labels `layers` layers of graph g for replica_id entirely in memory (parents computed,
 * no files) and returns the label of the last node of each layer in last_labels[layer-1].
 * For tests and the `labels` command; memory = 2 * nodes * 32 bytes + nodes * 56. */
pf_status pf_sdr_last_labels(const pf_graph *g, const uint8_t replica_id[32], int layers,
                             const pf_sdr_options *opts, uint8_t (*last_labels)[32],
                             pf_error *err);

/* Compressions per node on the labeling chain after the prefix block (perf.md §1.1). */
#define PF_SDR_CHAIN_BLOCKS 19

/* This machine's single-core, single-chain SHA-256 compression rate (compressions/s): the
 * limit a sequential labeling can reach.  Each field is the best of several runs of one
 * dependent chain of 64-byte blocks; `best` is the maximum of the three and of its value on
 * entry (zero it first; call again after a run to keep the better measurement). */
typedef struct pf_sha256_limit {
    double library;            /* pf_sha256_compress (the dispatched implementation) */
    double unrolled;           /* SHA-NI, fully unrolled message schedule; 0 without SHA-NI */
    double rounds_only;        /* SHA-NI, one block's schedule reused: sha256rnds2 latency */
    double best;
    double best_cpu;           /* the best of all, per second of this thread's CPU time */
    int sha_ni;                /* 1 when labeling uses SHA-NI */
} pf_sha256_limit;

void pf_sdr_sha256_limit(pf_sha256_limit *l, double seconds);

/* ---- PC1 ------------------------------------------------------------------------------------ */

/* Runs PC1 for a sector: replica_id from (prover_id, sector_id, ticket, comm_d, porep_id),
 * then every layer written to cache_dir (created if missing), resuming after the last
 * complete layer of an interrupted run with the same inputs (other inputs: the old layers
 * are removed).  One PC1 per cache_dir at a time (flock on sealpipe-pc1.lock).
 * parent_cache_dir as in pf_parent_cache_dir.  opts may be NULL (single thread, defaults).
 * Memory: two layers (2 * sector size) plus a few MiB of the parent cache's mapping.
 * out is filled on success.  Errors: PF_EINVAL (bad proof id, directory busy), PF_EIO,
 * PF_ENOSPC (nothing half-written is left under a final name), PF_ENOMEM, PF_ECORRUPT,
 * PF_EINTERRUPTED (cancel). */
pf_status pf_pc1(int proof_id, const char *cache_dir, uint64_t sector_id,
                 const uint8_t prover_id[32], const uint8_t ticket[32], const uint8_t comm_d[32],
                 const char *parent_cache_dir, const pf_sdr_options *opts, pf_pc1_output *out,
                 pf_error *err);

/* ---- Batched PC1 ------------------------------------------------------------------------------
 * Several sectors of one proof labeled together: their SHA-256 chains interleaved on each
 * hashing core (multi-buffer SHA-NI, 2/4/8 lanes), layer buffers node-interleaved so one
 * read of a parent serves every sector of the batch.  Per sector, the files, bytes, marker,
 * lock and resume rules are exactly those of pf_pc1: a sector's layers are written
 * atomically to its own cache_dir, and a re-run of a batch (or a single pf_pc1) continues
 * each sector from its own last complete layer.  Memory per sector is that of pf_pc1. */
#define PF_PC1_BATCH_MAX 128
#define PF_PC1_BATCH_LANES 8   /* sectors interleaved on one hashing core; more form groups */

typedef struct pf_pc1_batch_sector {
    /* in */
    const char *cache_dir;
    uint64_t sector_id;
    uint8_t prover_id[32];
    uint8_t ticket[32];
    uint8_t comm_d[32];
    const volatile int *cancel;  /* non-NULL, non-zero: this sector stops (PF_EINTERRUPTED,
                                    its complete layers stay); the others go on */
    /* out */
    pf_status status;            /* PF_OK: out is filled; else err says why */
    pf_error err;
    pf_pc1_output out;
} pf_pc1_batch_sector;

/* Runs PC1 for n sectors (1..PF_PC1_BATCH_MAX) of proof_id together.  opts as for pf_pc1
 * (opts->cancel stops the whole batch), except cores: the sectors are split into groups of
 * at most PF_PC1_BATCH_LANES, at least one group per physical core of opts->cores (one CPU
 * of each core is used: SMT siblings share the SHA unit), and one thread per such CPU,
 * bound to it, labels groups in turn; with no list every group runs in
 * the calling thread, one after another (multicore and producers do not apply).  progress
 * is called from those threads, one event at a time.  Returns PF_OK when every sector's status is PF_OK;
 * otherwise the first failing status, with err naming the sector, and each sector's own
 * status/err says what happened to it (a sector that fails alone — bad directory, its
 * cancel flag, its disk full — does not stop the others). */
pf_status pf_pc1_batch(int proof_id, pf_pc1_batch_sector *sectors, int n,
                       const char *parent_cache_dir, const pf_sdr_options *opts, pf_error *err);

/* How pf_pc1_batch splits n sectors over `cores` hashing cores (physical cores): *groups
 * groups, the largest of *max_lanes sectors; min(cores, *groups) of them run at once. */
void pf_pc1_batch_split(int n, int cores, int *groups, int *max_lanes);

/* How pf_pc1_batch splits n sectors over the CPU list `cores` (NULL: the calling thread):
 * *groups groups, the largest of *max_lanes sectors, run *hashing_cores at a time.
 * PF_EINVAL for n out of range or a bad CPU list. */
pf_status pf_pc1_batch_layout(int n, const char *cores, int *groups, int *max_lanes,
                              int *hashing_cores, pf_error *err);

/* The best throughput of `lanes` (1..PF_PC1_BATCH_LANES) interleaved SHA-256 chains on this
 * thread's core, in compressions per second of CPU time (repeated schedules, sha256rnds2
 * only): the ceiling of a batch's hashing core.  0 without SHA-NI. */
double pf_sdr_lanes_limit(int lanes, double seconds);

/* Serialized form: magic "SPC1", u32 version, then the fields little-endian, then the
 * first 8 bytes of SHA-256 over everything before it; PF_PC1_OUTPUT_ENCODED_LEN bytes. */
#define PF_PC1_OUTPUT_ENCODED_LEN 156
/* Returns the number of bytes written (PF_PC1_OUTPUT_ENCODED_LEN), or 0 when len is short. */
size_t pf_pc1_output_encode(const pf_pc1_output *o, uint8_t *buf, size_t len);
/* Rejects a wrong length (PF_EINVAL), magic or checksum (PF_ECORRUPT), another version
 * (PF_EUNSUPPORTED), an unknown proof id (PF_EINVAL) and a replica_id that does not follow
 * from the other fields (PF_ECORRUPT); the message says which. */
pf_status pf_pc1_output_decode(const uint8_t *buf, size_t len, pf_pc1_output *o, pf_error *err);

#ifdef __cplusplus
}
#endif

#endif
