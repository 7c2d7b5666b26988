/* poseidon.h — Poseidon over BLS12-381 Fr exactly as neptune configures it for Filecoin:
 * width t = arity + 1, x^5 S-box, RF = 8 full rounds, RP partial rounds by width
 * (neptune's round_numbers table, "Standard" strength), Grain LFSR round constants and the
 * Cauchy MDS matrix M[i][j] = 1/(i + (t + j)), generated in code the first time an arity is
 * used (pthread_once per arity); domain tag state[0] = 2^arity - 1 (Merkle-tree hash type);
 * the output is state[1].
 *
 * Two permutations give identical outputs (tests/unit/test_poseidon.c):
 *  - the straightforward one (pf_poseidon_hash_correct): add t round constants, S-box,
 *    multiply by M, every round;
 *  - the optimized one (pf_poseidon_hash_mont and the batch functions): round constants
 *    folded behind the S-boxes ("compressed"), and the partial rounds' dense M factored
 *    into one dense "pre-sparse" matrix used by the last first-half full round and one
 *    sparse matrix per partial round (first row and column dense, identity elsewhere), so
 *    a partial round costs 2t-1 products instead of t^2.
 *
 * The state acts as a row vector: a mix is s'[j] = sum_i s[i] * M[i][j].
 *
 * Kernel layout (pf_poseidon_consts.blob, Montgomery limbs, R = 2^256, little-endian limbs):
 *   [compressed round constants: RF*t + RP] [MDS: t*t, row-major] [pre-sparse: t*t, row-major]
 *   [RP sparse matrices, each w_hat (t: column 0, including M''[0][0]) then v_rest (t-1: row 0
 *    without its first element)]
 * which is also the layout of supranational/supra_seal's poseidon/constants files. */
#ifndef PF_POSEIDON_H
#define PF_POSEIDON_H

#include <stddef.h>
#include <stdint.h>

#include "fr.h"

#define PF_POSEIDON_MAX_ARITY 36
#define PF_POSEIDON_RF 8

typedef struct pf_poseidon_consts {
    int arity, width;            /* width = arity + 1 */
    int rf, rp;                  /* 8 and the table value */
    pf_fr tag;                   /* 2^arity - 1 */
    const pf_fr *round_constants;   /* (rf + rp) * width, in the order the rounds use them */
    const pf_fr *mds;               /* width * width, row-major, symmetric */
    const pf_fr *mds_inv;           /* width * width */
    /* the optimized form; all four point into blob */
    const pf_fr *compressed;        /* rf * width + rp */
    const pf_fr *pre_sparse;        /* width * width */
    const pf_fr *sparse;            /* rp * (2 * width - 1) */
    const pf_fr *blob;
    size_t blob_len;                /* elements in blob */
} pf_poseidon_consts;

/* Constants for an arity in 1..PF_POSEIDON_MAX_ARITY, built on first use; NULL for other
 * arities or when building failed (out of memory). */
const pf_poseidon_consts *pf_poseidon_get(int arity);

/* Partial rounds for a width (t = arity + 1): 55, 56, 57, 59 or 60. */
int pf_poseidon_partial_rounds(int width);

/* One hash of `arity` Montgomery inputs into a Montgomery output. */
void pf_poseidon_hash_correct(const pf_poseidon_consts *c, const pf_fr *in, pf_fr *out);
void pf_poseidon_hash_mont(const pf_poseidon_consts *c, const pf_fr *in, pf_fr *out);

/* Batch hashing on canonical little-endian bytes, the form every file holds.
 * Every input element must be < p; a batch returns the index (element count from the start
 * of `in`, or for columns i * arity + layer) of the first invalid input, or -1 when all were
 * valid and the outputs are written.
 *  - nodes: out[i] = H(in[i*arity .. i*arity + arity)), 32 bytes each;
 *  - columns: out[i] = H(col[0][i], col[1][i], ..., col[arity-1][i]). */
long pf_poseidon_batch_nodes(const pf_poseidon_consts *c, const uint8_t *in, size_t count,
                             uint8_t *out);
long pf_poseidon_batch_columns(const pf_poseidon_consts *c, const uint8_t *const *cols,
                               size_t count, uint8_t *out);

/* The same three on one path, for tests and benchmarks (the _adx ones only when
 * pf_fr_cpu_has_adx()). */
void pf_poseidon_hash_mont_portable(const pf_poseidon_consts *c, const pf_fr *in, pf_fr *out);
void pf_poseidon_hash_mont_adx(const pf_poseidon_consts *c, const pf_fr *in, pf_fr *out);
long pf_poseidon_batch_nodes_portable(const pf_poseidon_consts *c, const uint8_t *in,
                                      size_t count, uint8_t *out);
long pf_poseidon_batch_nodes_adx(const pf_poseidon_consts *c, const uint8_t *in, size_t count,
                                 uint8_t *out);
long pf_poseidon_batch_columns_portable(const pf_poseidon_consts *c, const uint8_t *const *cols,
                                        size_t count, uint8_t *out);
long pf_poseidon_batch_columns_adx(const pf_poseidon_consts *c, const uint8_t *const *cols,
                                   size_t count, uint8_t *out);

/* Field multiplications one optimized hash performs (S-boxes, matrices; not the byte
 * conversions), for benchmark ratios: 3*(t*RF + RP) + RF*t^2 + RP*(2t-1) - ... see
 * poseidon.c. */
uint64_t pf_poseidon_mults_per_hash(int arity);

#endif
