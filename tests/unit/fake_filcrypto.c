/* fake_filcrypto.c — a stand-in for filecoin-ffi's libfilcrypto, built as a shared object by
 * test_filcrypto at run time (the real library is not available here).  It exports the
 * symbols sealpipe's loader resolves, with filecoin-ffi v1.36.1's struct shapes
 * (proofs-ffi/src/filcrypto_abi.h), and returns canned results computed from its arguments
 * so the test can check that every argument arrived intact and that results and destroy_*
 * calls follow the conventions.  It records a text description of the last call
 * (fake_last_call) and counts live alloc_boxed_slice buffers (fake_live_boxes).  No
 * Groth16 is computed.
 *
 * Variants: -DFAKE_NO_VERIFY_SEAL (symbol missing), -DFAKE_NO_MARKER (older ABI: no
 * seal_commit_phase2_circuit_proofs), -DFAKE_WRONG_VERSION (get_seal_version disagrees). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filcrypto_abi.h"

#define EXPORT __attribute__((visibility("default")))

static char last_call[4096];
static long live_boxes;

EXPORT const char *fake_last_call(void)
{
    return last_call;
}

EXPORT long fake_live_boxes(void)
{
    return live_boxes;
}

static void hex(char *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static void record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void record(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_call, sizeof last_call, fmt, ap);
    va_end(ap);
}

static fc_box_u8_t box_copy(const void *p, size_t n)
{
    fc_box_u8_t b = { malloc(n ? n : 1), n };
    if (n)
        memcpy(b.ptr, p, n);
    return b;
}

static fc_box_u8_t box_str(const char *s)
{
    return box_copy(s, strlen(s));
}

EXPORT fc_box_u8_t alloc_boxed_slice(size_t n)
{
    fc_box_u8_t b = { calloc(1, n ? n : 1), n };
    live_boxes++;
    return b;
}

EXPORT void destroy_boxed_slice(fc_box_u8_t b)
{
    free(b.ptr);
    live_boxes--;
}

/* ---- versions ---- */

static const char *const seal_names[20] = {
    "StackedDrg2KiBV1", "StackedDrg8MiBV1", "StackedDrg512MiBV1", "StackedDrg32GiBV1",
    "StackedDrg64GiBV1", "StackedDrg2KiBV1_1", "StackedDrg8MiBV1_1", "StackedDrg512MiBV1_1",
    "StackedDrg32GiBV1_1", "StackedDrg64GiBV1_1", "StackedDrg2KiBV1_1_Feat_SyntheticPoRep",
    "StackedDrg8MiBV1_1_Feat_SyntheticPoRep", "StackedDrg512MiBV1_1_Feat_SyntheticPoRep",
    "StackedDrg32GiBV1_1_Feat_SyntheticPoRep", "StackedDrg64GiBV1_1_Feat_SyntheticPoRep",
    "StackedDrg2KiBV1_2_Feat_NonInteractivePoRep", "StackedDrg8MiBV1_2_Feat_NonInteractivePoRep",
    "StackedDrg512MiBV1_2_Feat_NonInteractivePoRep", "StackedDrg32GiBV1_2_Feat_NonInteractivePoRep",
    "StackedDrg64GiBV1_2_Feat_NonInteractivePoRep",
};

static fc_result_bytes_t *string_result(const char *s)
{
    fc_result_bytes_t *r = calloc(1, sizeof *r);
    if (s) {
        r->value = box_str(s);
    } else {
        r->status_code = 1;
        r->error_msg = box_str("unknown proof");
    }
    return r;
}

EXPORT fc_result_bytes_t *get_seal_version(int32_t id)
{
#ifdef FAKE_WRONG_VERSION
    if (id == 15)
        return string_result("StackedDrg2KiBV1_2_Feat_SomethingElse");
#endif
    return string_result(id >= 0 && id < 20 ? seal_names[id] : NULL);
}

EXPORT fc_result_bytes_t *get_post_version(int32_t id)
{
    static const char *const sizes[5] = { "2KiB", "8MiB", "512MiB", "32GiB", "64GiB" };
    char name[64];
    if (id < 0 || id >= 15)
        return string_result(NULL);
    snprintf(name, sizeof name, "StackedDrg%s%s%s", id < 5 ? "Winning" : "Window", sizes[id % 5],
             id < 10 ? "V1" : "V1_2");
    return string_result(name);
}

static void free_result_bytes(fc_result_bytes_t *r)
{
    if (!r)
        return;
    free(r->value.ptr);
    free(r->error_msg.ptr);
    free(r);
}

EXPORT void destroy_string_response(fc_result_bytes_t *r) { free_result_bytes(r); }
EXPORT void destroy_seal_commit_phase1_response(fc_result_bytes_t *r) { free_result_bytes(r); }
EXPORT void destroy_seal_commit_phase2_response(fc_result_bytes_t *r) { free_result_bytes(r); }
EXPORT void destroy_generate_single_vanilla_proof_response(fc_result_bytes_t *r)
{
    free_result_bytes(r);
}

#ifndef FAKE_NO_MARKER
EXPORT void seal_commit_phase2_circuit_proofs(void) {}
#endif
EXPORT void generate_synth_proofs(void) {}

/* ---- seal ---- */

EXPORT fc_result_bytes_t *seal_commit_phase1(fc_seal_proof_t proof, const fc_u8_32_t *comm_r,
                                             const fc_u8_32_t *comm_d, fc_ref_u8_t cache_dir,
                                             fc_ref_u8_t replica_path, uint64_t sector_id,
                                             const fc_u8_32_t *prover_id, const fc_u8_32_t *ticket,
                                             const fc_u8_32_t *seed, fc_ref_piece_t pieces)
{
    char h[5][65];
    hex(h[0], comm_r->idx, 32);
    hex(h[1], comm_d->idx, 32);
    hex(h[2], prover_id->idx, 32);
    hex(h[3], ticket->idx, 32);
    hex(h[4], seed->idx, 32);
    record("seal_commit_phase1 proof=%d comm_r=%s comm_d=%s cache=%.*s replica=%.*s sector=%llu "
           "prover=%s ticket=%s seed=%s pieces=%zu first=%llu",
           (int)proof, h[0], h[1], (int)cache_dir.len, (const char *)cache_dir.ptr,
           (int)replica_path.len, (const char *)replica_path.ptr, (unsigned long long)sector_id,
           h[2], h[3], h[4], pieces.len,
           pieces.len ? (unsigned long long)pieces.ptr[0].num_bytes : 0ULL);
    fc_result_bytes_t *r = calloc(1, sizeof *r);
    r->value = box_str("{\"fake\":\"c1\"}");
    return r;
}

EXPORT fc_result_bytes_t *seal_commit_phase2(fc_ref_u8_t c1, uint64_t sector_id,
                                             const fc_u8_32_t *prover_id)
{
    char h[65];
    hex(h, prover_id->idx, 32);
    record("seal_commit_phase2 len=%zu sector=%llu prover=%s", c1.len,
           (unsigned long long)sector_id, h);
    fc_result_bytes_t *r = calloc(1, sizeof *r);
    if (c1.len >= 4 && memcmp(c1.ptr, "fail", 4) == 0) {
        r->status_code = 1;
        r->error_msg = box_str("Rust panic: the C1 output is not valid JSON");
        return r;
    }
    uint8_t proof[192];
    memset(proof, 0xab, sizeof proof);
    for (int i = 0; i < 8; i++)
        proof[i] = (uint8_t)(sector_id >> (8 * i));
    memcpy(proof + 8, prover_id->idx, 32);
    memcpy(proof + 40, c1.ptr, c1.len < 32 ? c1.len : 32);
    r->value = box_copy(proof, sizeof proof);
    return r;
}

#ifndef FAKE_NO_VERIFY_SEAL
EXPORT fc_result_bool_t *verify_seal(fc_seal_proof_t proof, const fc_u8_32_t *comm_r,
                                     const fc_u8_32_t *comm_d, const fc_u8_32_t *prover_id,
                                     const fc_u8_32_t *ticket, const fc_u8_32_t *seed,
                                     uint64_t sector_id, fc_ref_u8_t bytes)
{
    char h[5][65];
    hex(h[0], comm_r->idx, 32);
    hex(h[1], comm_d->idx, 32);
    hex(h[2], prover_id->idx, 32);
    hex(h[3], ticket->idx, 32);
    hex(h[4], seed->idx, 32);
    record("verify_seal proof=%d comm_r=%s comm_d=%s prover=%s ticket=%s seed=%s sector=%llu "
           "len=%zu", (int)proof, h[0], h[1], h[2], h[3], h[4], (unsigned long long)sector_id,
           bytes.len);
    fc_result_bool_t *r = calloc(1, sizeof *r);
    uint8_t want[8];
    for (int i = 0; i < 8; i++)
        want[i] = (uint8_t)(sector_id >> (8 * i));
    r->value = bytes.len == 192 && memcmp(bytes.ptr, want, 8) == 0 &&
               memcmp(bytes.ptr + 8, prover_id->idx, 32) == 0;
    return r;
}
#endif

EXPORT void destroy_verify_seal_response(fc_result_bool_t *r)
{
    free(r->error_msg.ptr);
    free(r);
}

/* ---- PoSt ---- */

/* proof bytes: sector_id LE64 || comm_r || randomness || cache path */
static fc_post_proof_bytes_t post_proof(const fc_private_replica_t *r, const fc_u8_32_t *rand)
{
    uint8_t b[8 + 64 + 256];
    size_t n = 8 + 64;
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(r->sector_id >> (8 * i));
    memcpy(b + 8, r->comm_r.idx, 32);
    memcpy(b + 40, rand->idx, 32);
    size_t pl = r->cache_dir_path.len < 256 ? r->cache_dir_path.len : 256;
    memcpy(b + n, r->cache_dir_path.ptr, pl);
    fc_post_proof_bytes_t p = { r->registered_proof, box_copy(b, n + pl) };
    return p;
}

static void record_replicas(const char *call, const fc_u8_32_t *rand, fc_ref_private_replica_t rs,
                            const fc_u8_32_t *prover)
{
    char h[2][65];
    hex(h[0], rand->idx, 32);
    hex(h[1], prover->idx, 32);
    int n = snprintf(last_call, sizeof last_call, "%s rand=%s prover=%s n=%zu", call, h[0], h[1],
                     rs.len);
    for (size_t i = 0; i < rs.len && n < (int)sizeof last_call - 200; i++)
        n += snprintf(last_call + n, sizeof last_call - (size_t)n, " [%d %llu %.*s %.*s]",
                      (int)rs.ptr[i].registered_proof, (unsigned long long)rs.ptr[i].sector_id,
                      (int)rs.ptr[i].cache_dir_path.len, (const char *)rs.ptr[i].cache_dir_path.ptr,
                      (int)rs.ptr[i].replica_path.len, (const char *)rs.ptr[i].replica_path.ptr);
}

EXPORT fc_result_post_proofs_t *generate_winning_post(const fc_u8_32_t *rand,
                                                      fc_ref_private_replica_t rs,
                                                      const fc_u8_32_t *prover)
{
    record_replicas("generate_winning_post", rand, rs, prover);
    fc_result_post_proofs_t *r = calloc(1, sizeof *r);
    r->value.ptr = calloc(rs.len ? rs.len : 1, sizeof *r->value.ptr);
    r->value.len = rs.len;
    for (size_t i = 0; i < rs.len; i++)
        r->value.ptr[i] = post_proof(&rs.ptr[i], rand);
    return r;
}

EXPORT fc_result_window_post_t *generate_window_post(const fc_u8_32_t *rand,
                                                     fc_ref_private_replica_t rs,
                                                     const fc_u8_32_t *prover)
{
    record_replicas("generate_window_post", rand, rs, prover);
    fc_result_window_post_t *r = calloc(1, sizeof *r);
    size_t bad = 0;
    r->value.faulty_sectors.ptr = calloc(rs.len ? rs.len : 1, sizeof(uint64_t));
    for (size_t i = 0; i < rs.len; i++)
        if (memmem(rs.ptr[i].cache_dir_path.ptr, rs.ptr[i].cache_dir_path.len, "bad", 3))
            r->value.faulty_sectors.ptr[bad++] = rs.ptr[i].sector_id;
    r->value.faulty_sectors.len = bad;
    if (bad) {
        r->status_code = 1;
        r->error_msg = box_str("faulty sectors");
        return r;
    }
    r->value.proofs.ptr = calloc(rs.len ? rs.len : 1, sizeof *r->value.proofs.ptr);
    r->value.proofs.len = rs.len;
    for (size_t i = 0; i < rs.len; i++)
        r->value.proofs.ptr[i] = post_proof(&rs.ptr[i], rand);
    return r;
}

/* One proof: the vanilla proofs concatenated, each preceded by its length byte. */
static fc_post_proof_bytes_t vanilla_concat(fc_post_proof_t id, fc_ref_box_u8_t v)
{
    size_t n = 0;
    for (size_t i = 0; i < v.len; i++)
        n += 1 + v.ptr[i].len;
    uint8_t *b = malloc(n ? n : 1), *w = b;
    for (size_t i = 0; i < v.len; i++) {
        *w++ = (uint8_t)v.ptr[i].len;
        memcpy(w, v.ptr[i].ptr, v.ptr[i].len);
        w += v.ptr[i].len;
    }
    fc_post_proof_bytes_t p = { id, { b, n } };
    return p;
}

EXPORT fc_result_post_proofs_t *generate_winning_post_with_vanilla(fc_post_proof_t id,
                                                                   const fc_u8_32_t *rand,
                                                                   const fc_u8_32_t *prover,
                                                                   fc_ref_box_u8_t v)
{
    char h[2][65];
    hex(h[0], rand->idx, 32);
    hex(h[1], prover->idx, 32);
    record("generate_winning_post_with_vanilla proof=%d rand=%s prover=%s n=%zu", (int)id, h[0],
           h[1], v.len);
    fc_result_post_proofs_t *r = calloc(1, sizeof *r);
    r->value.ptr = calloc(1, sizeof *r->value.ptr);
    r->value.len = 1;
    r->value.ptr[0] = vanilla_concat(id, v);
    return r;
}

EXPORT fc_result_window_post_t *generate_window_post_with_vanilla(fc_post_proof_t id,
                                                                  const fc_u8_32_t *rand,
                                                                  const fc_u8_32_t *prover,
                                                                  fc_ref_box_u8_t v)
{
    char h[2][65];
    hex(h[0], rand->idx, 32);
    hex(h[1], prover->idx, 32);
    record("generate_window_post_with_vanilla proof=%d rand=%s prover=%s n=%zu", (int)id, h[0],
           h[1], v.len);
    fc_result_window_post_t *r = calloc(1, sizeof *r);
    r->value.proofs.ptr = calloc(1, sizeof *r->value.proofs.ptr);
    r->value.proofs.len = 1;
    r->value.proofs.ptr[0] = vanilla_concat(id, v);
    return r;
}

static void free_post_proofs(fc_box_post_proof_t p)
{
    for (size_t i = 0; i < p.len; i++)
        free(p.ptr[i].proof.ptr);
    free(p.ptr);
}

EXPORT void destroy_generate_winning_post_response(fc_result_post_proofs_t *r)
{
    free_post_proofs(r->value);
    free(r->error_msg.ptr);
    free(r);
}

EXPORT void destroy_generate_window_post_response(fc_result_window_post_t *r)
{
    free_post_proofs(r->value.proofs);
    free(r->value.faulty_sectors.ptr);
    free(r->error_msg.ptr);
    free(r);
}

/* By value: like Rust, this function owns and drops the replica's path buffers. */
EXPORT fc_result_bytes_t *generate_single_vanilla_proof(fc_private_replica_t rep,
                                                        fc_ref_u64_t challenges)
{
    int n = snprintf(last_call, sizeof last_call, "generate_single_vanilla_proof proof=%d "
                     "sector=%llu cache=%.*s replica=%.*s challenges=",
                     (int)rep.registered_proof, (unsigned long long)rep.sector_id,
                     (int)rep.cache_dir_path.len, (const char *)rep.cache_dir_path.ptr,
                     (int)rep.replica_path.len, (const char *)rep.replica_path.ptr);
    for (size_t i = 0; i < challenges.len && n < (int)sizeof last_call - 32; i++)
        n += snprintf(last_call + n, sizeof last_call - (size_t)n, "%s%llu", i ? "," : "",
                      (unsigned long long)challenges.ptr[i]);
    uint8_t b[40];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(rep.sector_id >> (8 * i));
    memcpy(b + 8, rep.comm_r.idx, 32);
    destroy_boxed_slice(rep.cache_dir_path);
    destroy_boxed_slice(rep.replica_path);
    fc_result_bytes_t *r = calloc(1, sizeof *r);
    r->value = box_copy(b, sizeof b);
    return r;
}

static fc_result_bool_t *verify_post(const char *call, const fc_u8_32_t *rand,
                                     fc_ref_public_replica_t rs, fc_ref_post_proof_t ps,
                                     const fc_u8_32_t *prover)
{
    char h[2][65];
    hex(h[0], rand->idx, 32);
    hex(h[1], prover->idx, 32);
    int n = snprintf(last_call, sizeof last_call, "%s rand=%s prover=%s replicas=%zu proofs=%zu",
                     call, h[0], h[1], rs.len, ps.len);
    for (size_t i = 0; i < rs.len && n < (int)sizeof last_call - 100; i++) {
        char c[65];
        hex(c, rs.ptr[i].comm_r.idx, 32);
        n += snprintf(last_call + n, sizeof last_call - (size_t)n, " [%d %llu %s]",
                      (int)rs.ptr[i].registered_proof, (unsigned long long)rs.ptr[i].sector_id, c);
    }
    /* valid when every proof starts with the sector id and comm_r of the replica at its index */
    fc_result_bool_t *r = calloc(1, sizeof *r);
    r->value = ps.len == rs.len;
    for (size_t i = 0; r->value && i < ps.len; i++) {
        uint8_t want[40];
        for (int k = 0; k < 8; k++)
            want[k] = (uint8_t)(rs.ptr[i].sector_id >> (8 * k));
        memcpy(want + 8, rs.ptr[i].comm_r.idx, 32);
        r->value = ps.ptr[i].proof.len >= 40 && memcmp(ps.ptr[i].proof.ptr, want, 40) == 0;
    }
    return r;
}

EXPORT fc_result_bool_t *verify_winning_post(const fc_u8_32_t *rand, fc_ref_public_replica_t rs,
                                             fc_ref_post_proof_t ps, const fc_u8_32_t *prover)
{
    return verify_post("verify_winning_post", rand, rs, ps, prover);
}

EXPORT fc_result_bool_t *verify_window_post(const fc_u8_32_t *rand, fc_ref_public_replica_t rs,
                                            fc_ref_post_proof_t ps, const fc_u8_32_t *prover)
{
    return verify_post("verify_window_post", rand, rs, ps, prover);
}

EXPORT void destroy_verify_winning_post_response(fc_result_bool_t *r)
{
    free(r->error_msg.ptr);
    free(r);
}

EXPORT void destroy_verify_window_post_response(fc_result_bool_t *r)
{
    free(r->error_msg.ptr);
    free(r);
}

/* Writes a line to out_fd; a zero length fails and, like Rust dropping its Files, closes
 * both descriptors. */
EXPORT fc_result_void_t *unseal_range(fc_seal_proof_t proof, fc_ref_u8_t cache, int32_t sealed_fd,
                                      int32_t out_fd, uint64_t sector_id,
                                      const fc_u8_32_t *prover_id, const fc_u8_32_t *ticket,
                                      const fc_u8_32_t *comm_d, uint64_t offset, uint64_t length)
{
    char h[3][65];
    hex(h[0], prover_id->idx, 32);
    hex(h[1], ticket->idx, 32);
    hex(h[2], comm_d->idx, 32);
    record("unseal_range proof=%d cache=%.*s sector=%llu prover=%s ticket=%s comm_d=%s "
           "offset=%llu length=%llu", (int)proof, (int)cache.len, (const char *)cache.ptr,
           (unsigned long long)sector_id, h[0], h[1], h[2], (unsigned long long)offset,
           (unsigned long long)length);
    fc_result_void_t *r = calloc(1, sizeof *r);
    if (length == 0) {
        close(sealed_fd);
        close(out_fd);
        r->status_code = 1;
        r->error_msg = box_str("zero length");
        return r;
    }
    char line[128];
    char first = 0;
    if (pread(sealed_fd, &first, 1, 0) != 1)
        first = '?';
    int n = snprintf(line, sizeof line, "unsealed %llu+%llu from %c\n", (unsigned long long)offset,
                     (unsigned long long)length, first);
    if (write(out_fd, line, (size_t)n) != n)
        r->status_code = 1;
    return r;
}

EXPORT void destroy_unseal_range_response(fc_result_void_t *r)
{
    free(r->error_msg.ptr);
    free(r);
}
