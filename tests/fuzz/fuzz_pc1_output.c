/* fuzz_pc1_output.c — pf_pc1_output_decode, the PC1 output a worker stores between PC1 and
 * PC2 and passes to its processor children.
 *
 * Input: byte 0 picks how much of the input is taken as it is, the rest is the output:
 *   0 as it is (the checksum stops nearly every mutation)
 *   1 the checksum (SHA-256 prefix) is recomputed first, so mutations reach the field checks
 *   2 the replica_id is recomputed from the other fields (when the proof id is registered)
 *     and then the checksum, so mutations reach everything after the consistency check
 * Layout (pc1.c): "SPC1", u32 version, u32 proof id, u64 sector id, prover_id, ticket,
 * comm_d, replica_id (32 bytes each), 8 bytes of SHA-256 over what precedes: 156 bytes.
 * Invariant: what decodes encodes back to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealproofs.h"

#define BODY (PF_PC1_OUTPUT_ENCODED_LEN - 8)

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % 3;
    size--;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size);
    if (mode >= 1 && size == PF_PC1_OUTPUT_ENCODED_LEN) {
        const pf_seal_proof_info *info = pf_seal_proof((int)(int32_t)le(buf + 8, 4));
        if (mode == 2 && info)
            pf_replica_id(buf + 20, le(buf + 12, 8), buf + 52, buf + 84, info->porep_id, buf + 116);
        uint8_t h[32];
        pf_sha256(buf, BODY, h);
        memcpy(buf + BODY, h, 8);
    }
    pf_pc1_output o;
    pf_error err;
    pf_status st = pf_pc1_output_decode(buf, size, &o, &err);
    fuzz_report("pc1 output", st, err.msg);
    if (st == PF_OK) {
        uint8_t again[PF_PC1_OUTPUT_ENCODED_LEN];
        if (pf_pc1_output_encode(&o, again, sizeof again) != size || memcmp(again, buf, size) != 0)
            abort();
    }
    free(buf);
    return 0;
}
