/* replica_id.c — the replica id that seeds SDR labeling (storage-proofs-porep
 * params.rs generate_replica_id) and Lotus' prover id of a miner actor. */
#include <string.h>

#include "sealproofs.h"
#include "sha256.h"

void pf_replica_id(const uint8_t prover_id[32], uint64_t sector_id, const uint8_t ticket[32],
                   const uint8_t comm_d[32], const uint8_t porep_id[32], uint8_t out[32])
{
    /* 136 bytes; the sector id is big-endian here, unlike everywhere else in the graph */
    uint8_t msg[136];
    memcpy(msg, prover_id, 32);
    for (int i = 0; i < 8; i++)
        msg[32 + i] = (uint8_t)(sector_id >> (56 - 8 * i));
    memcpy(msg + 40, ticket, 32);
    memcpy(msg + 72, comm_d, 32);
    memcpy(msg + 104, porep_id, 32);
    pf_sha256(msg, sizeof msg, out);
    pf_trim(out);
}

void pf_prover_id_from_actor(uint64_t actor_id, uint8_t out[32])
{
    /* filecoin-ffi toProverID: the ID address payload, an unsigned LEB128 varint */
    memset(out, 0, 32);
    int i = 0;
    do {
        uint8_t b = actor_id & 0x7f;
        actor_id >>= 7;
        out[i++] = (uint8_t)(b | (actor_id ? 0x80 : 0));
    } while (actor_id);
}
