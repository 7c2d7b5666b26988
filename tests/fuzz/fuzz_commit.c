/* fuzz_commit.c — the commit-phase decoders of proofs-ffi in sealpipe's native formats:
 * the C1 output (pf_c1_output_decode), the commit proof (pf_verify_seal) and the PoSt
 * proofs (pf_verify_window_post, pf_verify_winning_post), each behind its public inputs
 * so that mutations of a real proof reach the verifier's deepest checks.
 *
 * Input: byte 0 picks the target, the rest is laid out as follows (integers little endian):
 *   0 C1 output: the bytes.  Whatever decodes encodes back to the very same bytes (the
 *     decoder accepts exactly one encoding of each output) and is then verified.
 *   1 commit proof: proof id (1 byte), comm_r, comm_d, prover_id, ticket, seed (32 bytes
 *     each), sector id (8), then the proof.
 *   2 Window PoSt, 3 Winning PoSt: PoSt proof id (1 byte), randomness, prover_id (32 each),
 *     n = 1 + byte % 4 replicas of sector id (8) + comm_r (32), then the proof.
 * The seeds (tests/fuzz/corpus/commit/) are real 2KiB outputs and proofs with the public
 * inputs they verify under (tests/fuzz/make_seeds.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sealproofs.h"

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void c1_output(const uint8_t *data, size_t size)
{
    pf_c1_output o;
    pf_error err;
    pf_status st = pf_c1_output_decode(data, size, &o, &err);
    fuzz_report("c1 decode", st, err.msg);
    if (st != PF_OK)
        return;
    uint8_t *again = NULL;
    size_t len = 0;
    if (pf_c1_output_encode(&o, &again, &len, &err) != PF_OK || len != size ||
        memcmp(again, data, size) != 0)
        abort();
    free(again);
    st = pf_c1_output_verify(&o, &err);
    fuzz_report("c1 verify", st, err.msg);
    pf_c1_output_free(&o);
}

static void commit_proof(const uint8_t *data, size_t size)
{
    if (size < 1 + 5 * 32 + 8)
        return;
    const uint8_t *p = data + 1;
    pf_error err;
    pf_status st = pf_verify_seal(data[0], p, p + 32, p + 64, p + 96, p + 128, le64(p + 160),
                                  p + 168, size - 169, &err);
    fuzz_report("verify_seal", st, err.msg);
}

static void post_proof(const uint8_t *data, size_t size, int winning)
{
    if (size < 1 + 64 + 1)
        return;
    int id = data[0];
    const uint8_t *randomness = data + 1, *prover = data + 33;
    size_t n = 1 + data[65] % 4;
    size_t off = 66;
    if (size < off + n * 40)
        return;
    pf_post_public_replica reps[4];
    for (size_t i = 0; i < n; i++, off += 40) {
        reps[i].sector_id = le64(data + off);
        memcpy(reps[i].comm_r, data + off + 8, 32);
    }
    pf_error err;
    pf_status st = winning ? pf_verify_winning_post(id, randomness, prover, reps, n, data + off,
                                                    size - off, &err)
                           : pf_verify_window_post(id, randomness, prover, reps, n, data + off,
                                                   size - off, &err);
    fuzz_report(winning ? "verify_winning_post" : "verify_window_post", st, err.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0: c1_output(data + 1, size - 1); break;
    case 1: commit_proof(data + 1, size - 1); break;
    case 2: post_proof(data + 1, size - 1, 0); break;
    default: post_proof(data + 1, size - 1, 1); break;
    }
    return 0;
}
