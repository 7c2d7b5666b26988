/* pc2_hasher.h — the batch hashing interface PC2 drives: a batch of column hashes and a
 * batch of tree-node hashes, both on canonical little-endian 32-byte elements.  The CPU
 * implementation (pc2_hasher_cpu.c) splits a batch over threads; an OpenCL implementation
 * provides the same two calls on a device.  Kernels take their constants from
 * pf_poseidon_get(arity)->blob (Montgomery limbs, layout in poseidon.h).
 *
 * A backend must give outputs identical to pf_poseidon_batch_columns/_nodes.  Inputs must
 * be < p; a backend that finds one that is not returns PF_ECORRUPT with *bad set to its
 * index (for columns: i * layers + layer, for nodes: i * arity + k) and nothing else
 * filled in, so the caller can name the file and offset. */
#ifndef PF_PC2_HASHER_H
#define PF_PC2_HASHER_H

#include <stddef.h>
#include <stdint.h>

#include "sealproofs.h"

typedef struct pf_hasher pf_hasher;

struct pf_hasher {
    const char *name;   /* "cpu", "opencl:<device>" */
    /* out[i] = Poseidon_layers(cols[0][i], ..., cols[layers-1][i]), i < count */
    pf_status (*columns)(pf_hasher *h, int layers, const uint8_t *const *cols, size_t count,
                         uint8_t *out, long *bad, pf_error *err);
    /* out[i] = Poseidon_arity(in[i*arity], ..., in[i*arity + arity-1]), i < count;
     * out must not overlap in */
    pf_status (*nodes)(pf_hasher *h, int arity, const uint8_t *in, size_t count, uint8_t *out,
                       long *bad, pf_error *err);
    /* Optional (NULL = PC2 calls nodes() row by row): tree rows in one call.  buf holds
     * row 0 (`leaves` nodes, a multiple of arity^rows) followed by room for rows 1..rows;
     * row r+1 node j = Poseidon_arity(row r nodes j*arity .. j*arity + arity-1). */
    pf_status (*rows)(pf_hasher *h, int arity, uint8_t *buf, uint64_t leaves, int rows,
                      long *bad, pf_error *err);
    /* Optional (NULL = columns() then rows): the column hashes as row 0 of out and the
     * rows 1..rows above them, as rows() lays them out; *bad as for columns(). */
    pf_status (*column_rows)(pf_hasher *h, int layers, const uint8_t *const *cols,
                             uint64_t leaves, int arity, int rows, uint8_t *out, long *bad,
                             pf_error *err);
    void (*destroy)(pf_hasher *h);
};

/* The CPU backend with `threads` workers (0 = online CPUs). */
pf_status pf_hasher_cpu_new(int threads, pf_hasher **out, pf_error *err);
/* Worker threads of a CPU backend. */
int pf_hasher_cpu_threads(const pf_hasher *h);

#endif
