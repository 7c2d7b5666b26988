/* sealproofs/pc2.h — Poseidon, the column and replica trees (tree_c, tree_r_last), comm_r,
 * inclusion paths in those trees, and PreCommit phase 2.
 *
 * Poseidon is neptune's, configured as Filecoin uses it: BLS12-381 Fr, x^5, 8 full rounds,
 * partial rounds by width, Merkle-tree domain tag 2^arity - 1, output = state[1].  All
 * inputs and outputs are canonical little-endian 32-byte field elements (< p).
 *
 * Trees (rust-fil-proofs / merkletree layouts, all nodes canonical LE, 32 bytes):
 *  - The sector's N nodes are split into base_count contiguous base trees of
 *    base_leaves = N / base_count nodes (shape 8-0-0: 1; 8-8-0: 8; 8-8-2: 16).  A base tree
 *    is an arity-8 Poseidon tree whose leaves are the values themselves (no leaf hashing);
 *    row 0 = leaves, row r has base_leaves / 8^r nodes, the last row is the base root.
 *  - With a sub arity S (8-8-x), sub root j = Poseidon_S(base roots jS .. jS+S-1); with a
 *    top arity T (8-8-2) the root is Poseidon_T(sub roots), else the single sub root.
 *  - tree_c leaves are the column hashes C[v] = Poseidon_L(label_1[v], ..., label_L[v])
 *    (L = layers); comm_c is its root.  tree_r_last leaves are the replica nodes; comm_r_last
 *    is its root.  comm_r = Poseidon_2(comm_c, comm_r_last).
 *  - Files in the cache directory, one per base tree: "sc-02-data-tree-c.dat" when there is
 *    one base tree, else "sc-02-data-tree-c-<i>.dat" (i = 0..base_count-1); the same for
 *    "sc-02-data-tree-r-last[-<i>].dat".
 *  - A tree-c file is the whole base tree: every row, bottom up (leaves first, root last),
 *    no header: (base_leaves * 8 - 1) / 7 nodes.
 *  - A tree-r-last file is a level-cache ("LC") tree: merkletree's LevelCacheStore keeps
 *    only the rows above rows_to_discard + 1, i.e. rows rows_to_discard+1 .. root, bottom
 *    up; rows 0 .. rows_to_discard (leaves included) are rebuilt from the sealed replica when
 *    needed.  rows_to_discard is rust-fil-proofs' default_rows_to_discard(base_leaves, 8):
 *    0 when a base tree has <= 2 rows, 1 when it has 3 (2KiB: the file is the 32-byte root
 *    alone), otherwise min(rows - 2, 2).  Examples: 8MiB (2^18 leaves, 7 rows) keeps rows
 *    3..6 = 512 + 64 + 8 + 1 nodes; 512MiB keeps rows 3..8; 32GiB (2^27 leaves per base
 *    tree) keeps rows 3..9 of each of the 8 files.
 *  - "p_aux" = comm_c || comm_r_last (64 bytes, rust's bincode of PersistentAux).
 *  - The sealed replica file: replica[v] = label_L[v] + data[v] mod p, N * 32 bytes.
 */
#ifndef SEALPROOFS_PC2_H
#define SEALPROOFS_PC2_H

#include "../sealproofs.h"
#include "pc1.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Poseidon ---- */

#define PF_POSEIDON_ARITY_MAX 36

/* out = Poseidon_arity(in[0], ..., in[arity-1]) with the Merkle-tree domain tag.
 * arity 1..PF_POSEIDON_ARITY_MAX.  PF_EINVAL when an input is not below p. */
pf_status pf_poseidon_hash(int arity, const uint8_t (*in)[32], uint8_t out[32], pf_error *err);

/* comm_r = Poseidon_2(comm_c, comm_r_last). */
pf_status pf_comm_r(const uint8_t comm_c[32], const uint8_t comm_r_last[32], uint8_t comm_r[32],
                    pf_error *err);

/* ---- tree geometry and files ---- */

typedef enum pf_tree_kind {
    PF_TREE_C = 0,        /* sc-02-data-tree-c */
    PF_TREE_R_LAST = 1,   /* sc-02-data-tree-r-last (LC) */
} pf_tree_kind;

typedef struct pf_tree_shape {
    uint64_t nodes;              /* sector nodes (leaves of the whole tree) */
    int base_arity;              /* 8 */
    int sub_arity, top_arity;    /* 0 when absent */
    int base_count;              /* base trees: 1, sub_arity, or sub_arity * top_arity */
    uint64_t base_leaves;        /* nodes / base_count, a power of base_arity */
    int base_rows;               /* rows of a base tree, leaves and root included */
    int rows_to_discard;         /* tree_r_last */
} pf_tree_shape;

/* The shape of a registered seal proof (tree_base/tree_sub/tree_top of its info). */
pf_status pf_tree_shape_for_proof(int proof_id, pf_tree_shape *out, pf_error *err);
/* Any shape: nodes must split into base trees whose leaf count is a power of base_arity
 * (at least base_arity); top_arity needs a sub_arity. */
pf_status pf_tree_shape_make(uint64_t nodes, int base_arity, int sub_arity, int top_arity,
                             pf_tree_shape *out, pf_error *err);

/* Path of base tree file `index` (ignored when base_count is 1).  Returns 0, or -1 when the
 * path does not fit in len. */
int pf_tree_file_path(const char *cache_dir, const pf_tree_shape *s, pf_tree_kind kind,
                      int index, char *buf, size_t len);
/* Nodes stored in one base tree file of that kind. */
uint64_t pf_tree_file_nodes(const pf_tree_shape *s, pf_tree_kind kind);
/* "<cache_dir>/p_aux"; 0 or -1 as above. */
int pf_p_aux_path(const char *cache_dir, char *buf, size_t len);
pf_status pf_p_aux_read(const char *cache_dir, uint8_t comm_c[32], uint8_t comm_r_last[32],
                        pf_error *err);

/* ---- inclusion paths ---- */

#define PF_TREE_PATH_MAX_LEVELS 24
#define PF_TREE_PATH_MAX_ARITY 16

/* A path from a leaf to the root: level 0 hashes the leaf with its siblings, each next
 * level hashes the result with that level's siblings.  `index` is the position of the
 * running node among its arity inputs; `siblings` holds the other arity-1 inputs in order
 * (rust's PathElement {hashes, index}).  Levels run through the base tree, then the sub
 * level (siblings = other base roots of the group), then the top level. */
typedef struct pf_tree_path {
    uint64_t node;                 /* leaf index in the sector */
    uint8_t leaf[32];
    uint8_t root[32];              /* the root the files say (comm_c / comm_r_last) */
    int levels;
    struct {
        int arity;
        uint32_t index;
        uint8_t siblings[PF_TREE_PATH_MAX_ARITY - 1][32];
    } level[PF_TREE_PATH_MAX_LEVELS];
} pf_tree_path;

/* The tree_c path of a node, read from the tree-c files; leaf = the column hash. */
pf_status pf_tree_c_path(const pf_tree_shape *s, const char *cache_dir, uint64_t node,
                         pf_tree_path *out, pf_error *err);
/* The tree_r_last path of a node: the discarded rows are rebuilt from the sealed replica
 * for just the needed range (base_arity^(rows_to_discard+1) nodes) and checked against the
 * first stored row (PF_ECORRUPT when they disagree); the rest comes from the LC files. */
pf_status pf_tree_r_last_path(const pf_tree_shape *s, const char *cache_dir,
                              const char *sealed_path, uint64_t node, pf_tree_path *out,
                              pf_error *err);
/* Recomputes the root from leaf and siblings. */
pf_status pf_tree_path_root(const pf_tree_path *p, uint8_t root[32], pf_error *err);
/* PF_OK when the path leads from its leaf to `root` (p->root when root is NULL), and the
 * level index matches node; PF_EVERIFY otherwise. */
pf_status pf_tree_path_verify(const pf_tree_shape *s, const pf_tree_path *p,
                              const uint8_t root[32], pf_error *err);

/* ---- PreCommit phase 2 ---- */

/* Progress: stage is "pc2"; done/total count sector nodes.  Return non-zero to cancel. */
typedef int (*pf_progress_fn)(void *arg, const char *stage, uint64_t done, uint64_t total);

struct pf_hasher;   /* a batch hasher backend (src/pc2_hasher.h): CPU, OpenCL */

typedef struct pf_pc2_options {
    int threads;                  /* worker threads; 0 = online CPUs */
    struct pf_hasher *hasher;     /* optional backend for the hashing; NULL = the CPU one
                                     with `threads` threads.  Not destroyed by PC2. */
    const volatile int *cancel;   /* optional: checked between chunks; non-zero cancels */
    pf_progress_fn progress;      /* optional, called after every chunk */
    void *progress_arg;
    uint64_t chunk_nodes;         /* nodes per streamed chunk, a power of 8; 0 = the
                                     backend's preferred size (32768 on the CPU) */
    const char *device;           /* used when hasher is NULL: NULL = the OpenCL device
                                     named by SEALPIPE_OPENCL_DEVICE when that is set (the
                                     worker sets it for a processor's GPU), else the CPU;
                                     "cpu"; or an OpenCL device spec (index, PCI bus id,
                                     "P:D", or part of the name) */
} pf_pc2_options;

typedef struct pf_pc2_output {
    uint8_t comm_c[32];
    uint8_t comm_r_last[32];
    uint8_t comm_r[32];
} pf_pc2_output;

/* PC2 for a sector whose PC1 layers are in cache_dir (sc-02-data-layer-<1..L>.dat):
 * reads the layers and the staged (fr32-padded, unsealed) data — shorter than the sector is
 * fine, the missing bytes are zeros — and writes the sealed replica to sealed_path, the
 * tree-c and tree-r-last files and p_aux into cache_dir.  Inputs are only read and are
 * streamed in chunks, the next one read while the current one is hashed (memory
 * ~ (2L + 4) * chunk_nodes * 32 bytes).  Every output is written
 * under a temporary name (".tmp" appended) and renamed only after all are complete and
 * synced, p_aux last, so a PC2 interrupted at any point (cancel, crash) can simply be run
 * again and gives the same files.  sealed_path must not be the staged file.
 * Errors: PF_EINVAL (bad arguments, a staged node >= p), PF_ECORRUPT (a label >= p),
 * PF_EIO/PF_ENOSPC, PF_EINTERRUPTED (cancelled; temporary files are removed). */
pf_status pf_pc2(const pf_pc1_output *pc1, const char *cache_dir, const char *staged_path,
                 const char *sealed_path, const pf_pc2_options *opt, pf_pc2_output *out,
                 pf_error *err);

/* The same on an explicit shape and layer count (small synthetic sectors, benchmarks). */
pf_status pf_pc2_shaped(const pf_tree_shape *shape, int layers, const char *cache_dir,
                        const char *staged_path, const char *sealed_path,
                        const pf_pc2_options *opt, pf_pc2_output *out, pf_error *err);

/* ---- benchmarks (`sealproof bench pc2`) ---- */

typedef struct pf_fr_bench {
    const char *path;            /* the dispatched product: "mulx/adx" or "portable" */
    double ns_chain;             /* one dependent chain of products (latency) */
    double ns_parallel;          /* eight independent chains (throughput) */
    double ns_chain_portable, ns_parallel_portable;
    double ghz;                  /* measured core clock (dependent adds), 0 when unknown */
} pf_fr_bench;

/* Times `count` Fr products on each path (on the calling thread's CPU time). */
void pf_bench_fr_mul(uint64_t count, pf_fr_bench *out);
/* Hashes `count` random inputs of `arity` through the CPU batch hasher with `threads`
 * threads, as columns (columns = 1: one input array per element) or as tree nodes; returns
 * the elapsed seconds and (cpu_seconds may be NULL) the process CPU seconds spent. */
pf_status pf_bench_poseidon(int arity, int columns, uint64_t count, int threads,
                            double *seconds, double *cpu_seconds, pf_error *err);
/* Field products in one Poseidon hash of that arity in the optimized form (S-boxes and
 * matrices; research/perf.md 1.2 counts the same): 584 for arity 2, 2004 for 8, 2922 for
 * 11.  0 for an unsupported arity. */
uint64_t pf_poseidon_mults(int arity);

#ifdef __cplusplus
}
#endif

#endif
