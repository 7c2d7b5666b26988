/* sealproofs/pc1.h — the SDR parent graph, the parent cache, layer labeling and PC1.
 *
 * Cross-phase contract (fixed; PC2, C1 and the worker depend on it):
 *  - PC1 writes every layer's labels to <cache_dir>/sc-02-data-layer-<N>.dat (N = 1..layers),
 *    nodes * 32 bytes each, canonical LE labels, exactly as rust-fil-proofs names them.
 *  - PC1 never modifies the staged (unsealed) file; PC2 reads data from it.
 *  - pf_pc1_output is what later phases need; it serializes to a fixed, versioned binary
 *    form (pf_pc1_output_encode/decode) that the worker stores and passes on.
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

#ifdef __cplusplus
}
#endif

#endif
