/* challenges.c — every challenge derivation after PreCommit (research/porep.md §8):
 * interactive, non-interactive and synthetic PoRep challenges (rust-fil-proofs
 * stacked/vanilla/challenges.rs), Winning PoSt sector selection and PoSt leaf challenges
 * (storage-proofs-post fallback vanilla.rs and utils.rs). */
#include "commit_internal.h"

#include "blake2b.h"
#include "chacha.h"
#include "fr.h"
#include "sha256.h"

#define SYNTH_DEFAULT_COUNT (1ULL << 18)

int pf_cm_fr_valid(const uint8_t b[32])
{
    return pf_fr_bytes_valid(b);
}

void pf_cm_prefix(pf_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char old[PF_ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n + 2 >= sizeof err->msg)
        return;
    err->msg[n] = ':';
    err->msg[n + 1] = ' ';
    size_t room = sizeof err->msg - (size_t)n - 2;
    size_t len = strnlen(old, room - 1);
    memcpy(err->msg + n + 2, old, len);
    err->msg[n + 2 + len] = 0;
}

/* A 256-bit little-endian integer mod m (m < 2^64), then + 1: rust's bigint_to_challenge
 * (node 0 is never challenged). */
static uint64_t le256_mod_plus1(const uint8_t h[32], uint64_t m)
{
    unsigned __int128 r = 0;
    for (int i = 31; i >= 0; i--)
        r = ((r << 8) | h[i]) % m;
    return (uint64_t)r + 1;
}

void pf_interactive_challenges(uint64_t nodes, const uint8_t replica_id[32],
                               const uint8_t seed[32], uint32_t count, uint32_t k,
                               uint64_t *out)
{
    for (uint32_t i = 0; i < count; i++) {
        uint8_t msg[68], h[32];
        memcpy(msg, replica_id, 32);
        memcpy(msg + 32, seed, 32);
        pf_put_le32(msg + 64, count * k + i);
        pf_sha256(msg, sizeof msg, h);
        out[i] = le256_mod_plus1(h, nodes - 1);
    }
}

void pf_ni_challenges(uint64_t nodes, const uint8_t replica_id[32], const uint8_t comm_r[32],
                      uint32_t count, uint32_t k, uint64_t *out)
{
    static const char tag[] = "filecoin.io|PoRep|1|NonInteractive|1";
    for (uint32_t i = 0; i < count; i++) {
        pf_sha256_ctx c;
        uint8_t j[4], h[32];
        pf_put_le32(j, count * k + i);
        pf_sha256_init(&c);
        pf_sha256_update(&c, tag, sizeof tag - 1);
        pf_sha256_update(&c, replica_id, 32);
        pf_sha256_update(&c, comm_r, 32);
        pf_sha256_update(&c, j, 4);
        pf_sha256_final(&c, h);
        out[i] = le256_mod_plus1(h, nodes - 1);
    }
}

uint64_t pf_synth_challenge_count(uint64_t nodes)
{
    return nodes < SYNTH_DEFAULT_COUNT ? nodes : SYNTH_DEFAULT_COUNT;
}

/* Blake2b-256 keyed with a domain tag over a || b: the ChaCha20 key of the synthetic
 * challenge generator ("Generation") and selector ("Selection"). */
static void synth_key(const char *tag, const uint8_t a[32], const uint8_t b[32], uint8_t key[32])
{
    pf_blake2b_ctx c;
    pf_blake2b_init(&c, 32, tag, strlen(tag));
    pf_blake2b_update(&c, a, 32);
    pf_blake2b_update(&c, b, 32);
    pf_blake2b_final(&c, key);
}

/* ChaCha20-IETF keystream bytes [offset, offset + len) (rust's try_seek then
 * apply_keystream), nonce "synth-porep\0". */
static void synth_keystream(const uint8_t key[32], uint64_t offset, uint8_t *out, size_t len)
{
    static const uint8_t nonce[12] = { 's', 'y', 'n', 't', 'h', '-', 'p', 'o', 'r', 'e', 'p', 0 };
    uint8_t block[64];
    while (len) {
        uint32_t blk = (uint32_t)(offset / 64);
        size_t in = (size_t)(offset % 64), n = 64 - in;
        if (n > len)
            n = len;
        memset(block, 0, sizeof block);
        pf_chacha_ietf_xor(key, nonce, blk, 20, block, sizeof block);
        memcpy(out, block + in, n);
        out += n;
        len -= n;
        offset += n;
    }
}

void pf_synth_challenges(uint64_t nodes, const uint8_t replica_id[32], const uint8_t comm_r[32],
                         uint64_t first, uint64_t count, uint64_t *out)
{
    uint8_t key[32];
    synth_key("filecoin.io|PoRep|1|Synthetic|1|Generation", replica_id, comm_r, key);
    uint8_t buf[32 * 64];
    for (uint64_t done = 0; done < count;) {
        uint64_t n = count - done < 64 ? count - done : 64;
        synth_keystream(key, (first + done) * 32, buf, (size_t)n * 32);
        for (uint64_t i = 0; i < n; i++)
            out[done + i] = le256_mod_plus1(buf + 32 * i, nodes - 1);
        done += n;
    }
}

void pf_synth_select(uint64_t num_synth, const uint8_t replica_id[32], const uint8_t seed[32],
                     uint32_t count, uint32_t k, uint64_t *indexes)
{
    uint8_t key[32];
    synth_key("filecoin.io|PoRep|1|Synthetic|1|Selection", replica_id, seed, key);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t b[4];
        synth_keystream(key, ((uint64_t)k * count + i) * 4, b, 4);
        indexes[i] = pf_get_le32(b) % num_synth;
    }
}

pf_status pf_porep_challenges(int proof_id, const uint8_t replica_id[32], const uint8_t seed[32],
                              const uint8_t comm_r[32], uint32_t k, uint64_t *out,
                              uint64_t *synth_indexes, pf_error *err)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    if (!info)
        return pf_cm_fail(err, PF_EINVAL, "challenges: seal proof id %d is not registered (0..19)",
                          proof_id);
    if (k >= (uint32_t)info->partitions)
        return pf_cm_fail(err, PF_EINVAL, "challenges: partition %u of %s, which has %d",
                          k, info->name, info->partitions);
    uint32_t count = (uint32_t)info->challenges_per_partition;
    switch (info->feature) {
    case PF_FEATURE_NONE:
        pf_interactive_challenges(info->nodes, replica_id, seed, count, k, out);
        break;
    case PF_FEATURE_NI:
        pf_ni_challenges(info->nodes, replica_id, comm_r, count, k, out);
        break;
    case PF_FEATURE_SYNTHETIC: {
        uint64_t idx[64];
        if (count > 64)
            return pf_cm_fail(err, PF_EINTERNAL, "challenges: %u per partition", count);
        pf_synth_select(pf_synth_challenge_count(info->nodes), replica_id, seed, count, k, idx);
        for (uint32_t i = 0; i < count; i++) {
            pf_synth_challenges(info->nodes, replica_id, comm_r, idx[i], 1, &out[i]);
            if (synth_indexes)
                synth_indexes[i] = idx[i];
        }
        break;
    }
    }
    pf_cm_ok(err);
    return PF_OK;
}

/* ---- PoSt ---- */

static pf_status post_inputs(int post_proof_id, const uint8_t randomness[32],
                             const uint8_t *prover_id, const pf_post_proof_info **out,
                             pf_error *err)
{
    const pf_post_proof_info *info = pf_post_proof(post_proof_id);
    if (!info)
        return pf_cm_fail(err, PF_EINVAL, "PoSt proof id %d is not registered (0..14)",
                          post_proof_id);
    if (!pf_cm_fr_valid(randomness))
        return pf_cm_fail(err, PF_EINVAL, "PoSt randomness is not a canonical field element "
                          "(clear the top two bits: rand[31] &= 0x3f, as Lotus does)");
    if (prover_id && !pf_cm_fr_valid(prover_id))
        return pf_cm_fail(err, PF_EINVAL, "prover_id is not a canonical field element");
    *out = info;
    return PF_OK;
}

pf_status pf_winning_post_sector_challenge(int post_proof_id, const uint8_t randomness[32],
                                           uint64_t sector_set_len, const uint8_t prover_id[32],
                                           uint64_t *out, pf_error *err)
{
    const pf_post_proof_info *info;
    pf_status st = post_inputs(post_proof_id, randomness, prover_id, &info, err);
    if (st)
        return st;
    if (!info->winning)
        return pf_cm_fail(err, PF_EINVAL, "%s is not a Winning PoSt proof", info->name);
    if (sector_set_len == 0)
        return pf_cm_fail(err, PF_EINVAL, "empty sector set is invalid");
    for (uint64_t n = 0; n < info->sector_count; n++) {
        uint8_t msg[72], h[32];
        memcpy(msg, prover_id, 32);
        memcpy(msg + 32, randomness, 32);
        pf_put_le64(msg + 64, n);
        pf_sha256(msg, sizeof msg, h);
        out[n] = pf_get_le64(h) % sector_set_len;
    }
    pf_cm_ok(err);
    return PF_OK;
}

uint64_t pf_post_leaf_challenge(const uint8_t randomness[32], uint64_t sector_id,
                                uint64_t challenge_index, uint64_t nodes)
{
    uint8_t msg[48], h[32];
    memcpy(msg, randomness, 32);
    pf_put_le64(msg + 32, sector_id);
    pf_put_le64(msg + 40, challenge_index);
    pf_sha256(msg, sizeof msg, h);
    return pf_get_le64(h) % nodes;
}

pf_status pf_post_sector_challenges(int post_proof_id, const uint8_t randomness[32],
                                    uint64_t sector_index, uint64_t sector_id, uint64_t *out,
                                    pf_error *err)
{
    const pf_post_proof_info *info;
    pf_status st = post_inputs(post_proof_id, randomness, NULL, &info, err);
    if (st)
        return st;
    uint64_t nodes = info->sector_size / 32, count = (uint64_t)info->challenge_count;
    if (info->winning)
        sector_index = 0;
    for (uint64_t n = 0; n < count; n++) {
        uint64_t idx = info->api_version >= 120 ? n : sector_index * count + n;
        out[n] = pf_post_leaf_challenge(randomness, sector_id, idx, nodes);
    }
    pf_cm_ok(err);
    return PF_OK;
}
