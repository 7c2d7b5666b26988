/* feistel.c — the keyed Feistel permutation that gives SDR its expander parents
 * (rust-fil-proofs storage-proofs-core crypto/feistel.rs; research/porep.md §5.2): a
 * balanced network over the smallest 4^k >= 8*nodes, 3 rounds with Blake2b round
 * functions, cycle-walking back into [0, 8*nodes). */
#include "sealproofs.h"

#include "blake2b.h"
#include "graph.h"

unsigned pf_feistel_half_bits(uint64_t domain)
{
    uint64_t next = 4;
    unsigned k = 1;
    while (next < domain) {
        next *= 4;
        k++;
    }
    return k;
}

static uint64_t encode(const pf_graph *g, uint64_t index)
{
    const unsigned k = g->feistel_half_bits;
    const uint64_t mask = g->feistel_right_mask;
    uint64_t left = (index >> k) & mask;
    uint64_t right = index & mask;
    /* Only the first three keys take part (FEISTEL_ROUNDS = 3); the fourth is only hashed
     * into the parent cache's file name. */
    for (int r = 0; r < 3; r++) {
        uint64_t f = pf_blake2b_feistel(right, g->feistel_keys[r]) & mask;
        uint64_t nl = right;
        right = left ^ f;
        left = nl;
    }
    return left << k | right;
}

uint64_t pf_feistel_permute(const pf_graph *g, uint64_t index)
{
    uint64_t u = encode(g, index);
    while (u >= g->feistel_domain)
        u = encode(g, u);
    return u;
}
