/* filcrypto.c — the run-time loaded libfilcrypto backend: dlopen, up-front resolution of
 * every symbol the chosen stages need, the version check (marker symbols of the ABI
 * generation and the proof names get_seal_version / get_post_version report), and the
 * calls with filecoin-ffi's exact struct shapes (filcrypto_abi.h), result checking and
 * destroy_* conventions. */
#include "commit_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "filcrypto_abi.h"

struct pf_filcrypto {
    void *dl;
    char path[4096];
    char version[128];
    unsigned stages;
    /* always */
    fc_get_version_fn get_seal_version, get_post_version;
    fc_destroy_bytes_fn destroy_string_response;
    fc_alloc_boxed_slice_fn alloc_boxed_slice;
    fc_destroy_boxed_slice_fn destroy_boxed_slice;
    /* by stage */
    fc_seal_commit_phase1_fn seal_commit_phase1;
    fc_destroy_bytes_fn destroy_seal_commit_phase1_response;
    fc_seal_commit_phase2_fn seal_commit_phase2;
    fc_destroy_bytes_fn destroy_seal_commit_phase2_response;
    fc_verify_seal_fn verify_seal;
    fc_destroy_bool_fn destroy_verify_seal_response;
    fc_generate_winning_post_fn generate_winning_post;
    fc_generate_winning_post_with_vanilla_fn generate_winning_post_with_vanilla;
    fc_destroy_post_proofs_fn destroy_generate_winning_post_response;
    fc_verify_post_fn verify_winning_post;
    fc_destroy_bool_fn destroy_verify_winning_post_response;
    fc_generate_window_post_fn generate_window_post;
    fc_generate_window_post_with_vanilla_fn generate_window_post_with_vanilla;
    fc_destroy_window_post_fn destroy_generate_window_post_response;
    fc_verify_post_fn verify_window_post;
    fc_destroy_bool_fn destroy_verify_window_post_response;
    fc_generate_single_vanilla_proof_fn generate_single_vanilla_proof;
    fc_destroy_bytes_fn destroy_generate_single_vanilla_proof_response;
    fc_unseal_range_fn unseal_range;
    fc_destroy_void_fn destroy_unseal_range_response;
};

#define ALWAYS (-1)
#define MARKER (-2)     /* must exist (ABI generation), not called */

static const struct symbol {
    int stage;
    const char *name;
    size_t offset;      /* of the function pointer in pf_filcrypto; unused for markers */
} symbols[] = {
#define SYM(stage, name) { stage, #name, offsetof(struct pf_filcrypto, name) }
    SYM(ALWAYS, get_seal_version),
    SYM(ALWAYS, get_post_version),
    SYM(ALWAYS, destroy_string_response),
    SYM(ALWAYS, alloc_boxed_slice),
    SYM(ALWAYS, destroy_boxed_slice),
    { MARKER, "seal_commit_phase2_circuit_proofs", 0 },
    { MARKER, "generate_synth_proofs", 0 },
    SYM(PF_STAGE_C1, seal_commit_phase1),
    SYM(PF_STAGE_C1, destroy_seal_commit_phase1_response),
    SYM(PF_STAGE_C2, seal_commit_phase2),
    SYM(PF_STAGE_C2, destroy_seal_commit_phase2_response),
    SYM(PF_STAGE_VERIFY_SEAL, verify_seal),
    SYM(PF_STAGE_VERIFY_SEAL, destroy_verify_seal_response),
    SYM(PF_STAGE_WINNING_POST, generate_winning_post),
    SYM(PF_STAGE_WINNING_POST, generate_winning_post_with_vanilla),
    SYM(PF_STAGE_WINNING_POST, destroy_generate_winning_post_response),
    SYM(PF_STAGE_WINNING_POST, verify_winning_post),
    SYM(PF_STAGE_WINNING_POST, destroy_verify_winning_post_response),
    SYM(PF_STAGE_WINDOW_POST, generate_window_post),
    SYM(PF_STAGE_WINDOW_POST, generate_window_post_with_vanilla),
    SYM(PF_STAGE_WINDOW_POST, destroy_generate_window_post_response),
    SYM(PF_STAGE_WINDOW_POST, verify_window_post),
    SYM(PF_STAGE_WINDOW_POST, destroy_verify_window_post_response),
    SYM(PF_STAGE_VANILLA_POST, generate_single_vanilla_proof),
    SYM(PF_STAGE_VANILLA_POST, destroy_generate_single_vanilla_proof_response),
    SYM(PF_STAGE_UNSEAL, unseal_range),
    SYM(PF_STAGE_UNSEAL, destroy_unseal_range_response),
#undef SYM
};

/* rust's names: chain Window V1_1 (ids 10..14) is rust's RegisteredPoStProof V1_2. */
static void rust_post_name(int id, char *out, size_t len)
{
    snprintf(out, len, "%s", pf_post_proof(id)->name);
    size_t n = strlen(out);
    if (id >= 10 && n >= 1)
        out[n - 1] = '2';
}

/* Copies a returned string (not NUL-terminated) and destroys the response. */
static int take_string(pf_filcrypto *fc, fc_result_bytes_t *r, char *out, size_t len)
{
    if (!r)
        return -1;
    int ok = r->status_code == 0;
    const fc_box_u8_t *b = ok ? &r->value : &r->error_msg;
    size_t n = b->ptr ? (b->len < len - 1 ? b->len : len - 1) : 0;
    if (n)
        memcpy(out, b->ptr, n);
    out[n] = 0;
    fc->destroy_string_response(r);
    return ok ? 0 : -1;
}

static pf_status check_version(pf_filcrypto *fc, pf_error *err)
{
    char got[128], want[128];
    for (int id = 0; id < 20; id++) {
        if (take_string(fc, fc->get_seal_version(id), got, sizeof got) ||
            strcmp(got, pf_seal_proof(id)->name) != 0)
            return pf_cm_fail(err, PF_EBACKEND, "%s: get_seal_version(%d) says '%s', expected "
                              "'%s': this library has another filecoin-ffi ABI (v1.36 expected)",
                              fc->path, id, got, pf_seal_proof(id)->name);
        if (id == 5)
            snprintf(fc->version, sizeof fc->version, "%s", got);
    }
    for (int id = 0; id < 15; id++) {
        rust_post_name(id, want, sizeof want);
        if (take_string(fc, fc->get_post_version(id), got, sizeof got) || strcmp(got, want) != 0)
            return pf_cm_fail(err, PF_EBACKEND, "%s: get_post_version(%d) says '%s', expected "
                              "'%s': this library has another filecoin-ffi ABI (v1.36 expected)",
                              fc->path, id, got, want);
    }
    return PF_OK;
}

pf_status pf_filcrypto_open(const char *path, unsigned stages, pf_filcrypto **out, pf_error *err)
{
    *out = NULL;
    if (!path || !*path)
        path = getenv(PF_FILCRYPTO_ENV);
    if (!path || !*path)
        return pf_cm_fail(err, PF_EBACKEND, "no libfilcrypto configured: give its path or set "
                          PF_FILCRYPTO_ENV);
    if (stages >> PF_STAGE_COUNT)
        return pf_cm_fail(err, PF_EINVAL, "filcrypto: stage mask 0x%x has unknown stages", stages);
    pf_filcrypto *fc = calloc(1, sizeof *fc);
    if (!fc)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    snprintf(fc->path, sizeof fc->path, "%s", path);
    fc->stages = stages;
    pf_status st = PF_OK;
    dlerror();
    fc->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!fc->dl) {
        const char *e = dlerror();
        st = pf_cm_fail(err, PF_EBACKEND, "cannot load libfilcrypto %s: %s", path,
                        e ? e : "unknown dlopen error");
        goto fail;
    }
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        const struct symbol *s = &symbols[i];
        if (s->stage >= 0 && !(stages & (1u << s->stage)))
            continue;
        dlerror();
        void *f = dlsym(fc->dl, s->name);
        if (!f) {
            st = pf_cm_fail(err, PF_EBACKEND, "%s: symbol %s is missing (%s); %s", path, s->name,
                            s->stage >= 0 ? pf_stage_name((pf_stage)s->stage)
                                          : s->stage == MARKER ? "version marker" : "always needed",
                            s->stage == MARKER ? "the library is older than the filecoin-ffi v1.36 "
                                                 "ABI this build expects"
                                               : "is it filecoin-ffi's libfilcrypto?");
            goto fail;
        }
        if (s->stage != MARKER)
            memcpy((char *)fc + s->offset, &f, sizeof f);
    }
    if ((st = check_version(fc, err)))
        goto fail;
    *out = fc;
    pf_cm_ok(err);
    return PF_OK;
fail:
    pf_filcrypto_close(fc);
    return st;
}

void pf_filcrypto_close(pf_filcrypto *fc)
{
    if (!fc)
        return;
    if (fc->dl)
        dlclose(fc->dl);
    free(fc);
}

const char *pf_filcrypto_path(const pf_filcrypto *fc)
{
    return fc->path;
}

const char *pf_filcrypto_version(const pf_filcrypto *fc)
{
    return fc->version;
}

int pf_filcrypto_has_stage(const pf_filcrypto *fc, pf_stage s)
{
    return (unsigned)s < PF_STAGE_COUNT && (fc->stages & (1u << s));
}

void pf_bytes_free(pf_bytes *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

void pf_fc_post_result_free(pf_fc_post_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nproofs; i++)
        pf_bytes_free(&r->proofs[i].proof);
    free(r->proofs);
    free(r->faulty);
    memset(r, 0, sizeof *r);
}

/* ---- call helpers ---- */

static const uint8_t dummy_byte;   /* safer_ffi wants non-NULL pointers even for len 0 */

static fc_ref_u8_t ref_bytes(const void *p, size_t len)
{
    fc_ref_u8_t r = { p && len ? p : &dummy_byte, p ? len : 0 };
    return r;
}

static fc_ref_u8_t ref_str(const char *s)
{
    return ref_bytes(s, s ? strlen(s) : 0);
}

static const fc_u8_32_t *u32p(const uint8_t v[32])
{
    return (const fc_u8_32_t *)v;
}

static pf_status need(pf_filcrypto *fc, pf_stage s, const char *call, pf_error *err)
{
    if (!fc)
        return pf_cm_fail(err, PF_EINVAL, "%s: no filcrypto library loaded", call);
    if (!pf_filcrypto_has_stage(fc, s))
        return pf_cm_fail(err, PF_EUNSUPPORTED, "%s: the %s stage was not loaded from %s", call,
                          pf_stage_name(s), fc->path);
    return PF_OK;
}

/* The status and message of a result; PF_OK when status is 0. */
static pf_status result_status(fc_status_t status, const fc_box_u8_t *msg, const char *call,
                               pf_error *err)
{
    if (status == 0)
        return PF_OK;
    int n = msg->ptr ? (int)(msg->len < 400 ? msg->len : 400) : 0;
    return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto %s failed (status %d): %.*s", call,
                      (int)status, n, msg->ptr ? (const char *)msg->ptr : "");
}

static pf_status copy_bytes(const fc_box_u8_t *b, pf_bytes *out, pf_error *err)
{
    out->len = b->ptr ? b->len : 0;
    out->data = malloc(out->len ? out->len : 1);
    if (!out->data)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory for %zu bytes", out->len);
    if (out->len)
        memcpy(out->data, b->ptr, out->len);
    return PF_OK;
}

/* Owned byte buffers Rust can take over or read: made with alloc_boxed_slice. */
static fc_box_u8_t boxed_copy(pf_filcrypto *fc, const void *p, size_t len)
{
    fc_box_u8_t b = fc->alloc_boxed_slice(len);
    if (b.ptr && len)
        memcpy(b.ptr, p, len);
    return b;
}

/* ---- seal ---- */

pf_status pf_fc_seal_commit_phase1(pf_filcrypto *fc, int proof_id, const uint8_t comm_r[32],
                                   const uint8_t comm_d[32], const char *cache_dir,
                                   const char *replica_path, uint64_t sector_id,
                                   const uint8_t prover_id[32], const uint8_t ticket[32],
                                   const uint8_t seed[32], const pf_piece_info *pieces,
                                   size_t npieces, pf_bytes *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    pf_status st = need(fc, PF_STAGE_C1, "seal_commit_phase1", err);
    if (st)
        return st;
    if (!pf_seal_proof(proof_id))
        return pf_cm_fail(err, PF_EINVAL, "seal proof id %d is not registered", proof_id);
    fc_piece_t *ps = calloc(npieces ? npieces : 1, sizeof *ps);
    if (!ps)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    for (size_t i = 0; i < npieces; i++) {
        ps[i].num_bytes = pieces[i].size;
        memcpy(ps[i].comm_p.idx, pieces[i].comm_p, 32);
    }
    fc_ref_piece_t pr = { ps, npieces };
    fc_result_bytes_t *r = fc->seal_commit_phase1(proof_id, u32p(comm_r), u32p(comm_d),
                                                  ref_str(cache_dir), ref_str(replica_path),
                                                  sector_id, u32p(prover_id), u32p(ticket),
                                                  u32p(seed), pr);
    free(ps);
    if (!r)
        return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto seal_commit_phase1 returned NULL");
    st = result_status(r->status_code, &r->error_msg, "seal_commit_phase1", err);
    if (!st)
        st = copy_bytes(&r->value, out, err);
    fc->destroy_seal_commit_phase1_response(r);
    return st;
}

pf_status pf_fc_seal_commit_phase2(pf_filcrypto *fc, const uint8_t *c1_json, size_t len,
                                   uint64_t sector_id, const uint8_t prover_id[32], pf_bytes *out,
                                   pf_error *err)
{
    memset(out, 0, sizeof *out);
    pf_status st = need(fc, PF_STAGE_C2, "seal_commit_phase2", err);
    if (st)
        return st;
    fc_result_bytes_t *r = fc->seal_commit_phase2(ref_bytes(c1_json, len), sector_id,
                                                  u32p(prover_id));
    if (!r)
        return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto seal_commit_phase2 returned NULL");
    st = result_status(r->status_code, &r->error_msg, "seal_commit_phase2", err);
    if (!st)
        st = copy_bytes(&r->value, out, err);
    fc->destroy_seal_commit_phase2_response(r);
    return st;
}

pf_status pf_fc_verify_seal(pf_filcrypto *fc, int proof_id, const uint8_t comm_r[32],
                            const uint8_t comm_d[32], const uint8_t prover_id[32],
                            const uint8_t ticket[32], const uint8_t seed[32], uint64_t sector_id,
                            const uint8_t *proof, size_t proof_len, int *valid, pf_error *err)
{
    *valid = 0;
    pf_status st = need(fc, PF_STAGE_VERIFY_SEAL, "verify_seal", err);
    if (st)
        return st;
    if (!pf_seal_proof(proof_id))
        return pf_cm_fail(err, PF_EINVAL, "seal proof id %d is not registered", proof_id);
    fc_result_bool_t *r = fc->verify_seal(proof_id, u32p(comm_r), u32p(comm_d), u32p(prover_id),
                                          u32p(ticket), u32p(seed), sector_id,
                                          ref_bytes(proof, proof_len));
    if (!r)
        return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto verify_seal returned NULL");
    st = result_status(r->status_code, &r->error_msg, "verify_seal", err);
    if (!st)
        *valid = r->value ? 1 : 0;
    fc->destroy_verify_seal_response(r);
    return st;
}

/* ---- PoSt ---- */

static pf_status check_post_id(int id, pf_error *err)
{
    return pf_post_proof(id) ? PF_OK
                             : pf_cm_fail(err, PF_EINVAL, "PoSt proof id %d is not registered", id);
}

/* PrivateReplicaInfo array whose paths are boxed slices owned by the caller. */
static pf_status private_replicas(pf_filcrypto *fc, const pf_fc_replica *in, size_t n,
                                  fc_private_replica_t **out, pf_error *err)
{
    fc_private_replica_t *r = calloc(n ? n : 1, sizeof *r);
    if (!r)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        pf_status st = check_post_id(in[i].post_proof_id, err);
        if (st || !in[i].cache_dir || !in[i].sealed_path) {
            for (size_t j = 0; j < i; j++) {
                fc->destroy_boxed_slice(r[j].cache_dir_path);
                fc->destroy_boxed_slice(r[j].replica_path);
            }
            free(r);
            return st ? st : pf_cm_fail(err, PF_EINVAL, "sector %llu: cache and sealed paths are "
                                        "required", (unsigned long long)in[i].sector_id);
        }
        r[i].registered_proof = in[i].post_proof_id;
        r[i].cache_dir_path = boxed_copy(fc, in[i].cache_dir, strlen(in[i].cache_dir));
        memcpy(r[i].comm_r.idx, in[i].comm_r, 32);
        r[i].replica_path = boxed_copy(fc, in[i].sealed_path, strlen(in[i].sealed_path));
        r[i].sector_id = in[i].sector_id;
    }
    *out = r;
    return PF_OK;
}

static void free_private_replicas(pf_filcrypto *fc, fc_private_replica_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        fc->destroy_boxed_slice(r[i].cache_dir_path);
        fc->destroy_boxed_slice(r[i].replica_path);
    }
    free(r);
}

static pf_status copy_post_proofs(const fc_box_post_proof_t *b, pf_fc_post_result *out,
                                  pf_error *err)
{
    size_t n = b->ptr ? b->len : 0;
    out->proofs = calloc(n ? n : 1, sizeof *out->proofs);
    if (!out->proofs)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        out->proofs[i].post_proof_id = b->ptr[i].registered_proof;
        pf_status st = copy_bytes(&b->ptr[i].proof, &out->proofs[i].proof, err);
        if (st)
            return st;
        out->nproofs = i + 1;
    }
    return PF_OK;
}

static pf_status take_post_proofs(pf_filcrypto *fc, fc_result_post_proofs_t *r, const char *call,
                                  pf_fc_post_result *out, pf_error *err)
{
    if (!r)
        return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto %s returned NULL", call);
    pf_status st = result_status(r->status_code, &r->error_msg, call, err);
    if (!st)
        st = copy_post_proofs(&r->value, out, err);
    fc->destroy_generate_winning_post_response(r);
    if (st)
        pf_fc_post_result_free(out);
    return st;
}

/* Window results fill faulty_sectors even on failure. */
static pf_status take_window_post(pf_filcrypto *fc, fc_result_window_post_t *r, const char *call,
                                  pf_fc_post_result *out, pf_error *err)
{
    if (!r)
        return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto %s returned NULL", call);
    pf_status st = result_status(r->status_code, &r->error_msg, call, err);
    size_t nf = r->value.faulty_sectors.ptr ? r->value.faulty_sectors.len : 0;
    if (nf) {
        out->faulty = malloc(nf * sizeof *out->faulty);
        if (out->faulty) {
            memcpy(out->faulty, r->value.faulty_sectors.ptr, nf * sizeof *out->faulty);
            out->nfaulty = nf;
        }
    }
    if (!st)
        st = copy_post_proofs(&r->value.proofs, out, err);
    fc->destroy_generate_window_post_response(r);
    if (st && st != PF_EBACKEND) {
        pf_fc_post_result_free(out);
    }
    return st;
}

pf_status pf_fc_generate_winning_post(pf_filcrypto *fc, const uint8_t randomness[32],
                                      const pf_fc_replica *replicas, size_t n,
                                      const uint8_t prover_id[32], pf_fc_post_result *out,
                                      pf_error *err)
{
    memset(out, 0, sizeof *out);
    fc_private_replica_t *r;
    pf_status st = need(fc, PF_STAGE_WINNING_POST, "generate_winning_post", err);
    if (st || (st = private_replicas(fc, replicas, n, &r, err)))
        return st;
    fc_ref_private_replica_t ref = { r, n };
    st = take_post_proofs(fc, fc->generate_winning_post(u32p(randomness), ref, u32p(prover_id)),
                          "generate_winning_post", out, err);
    free_private_replicas(fc, r, n);
    return st;
}

pf_status pf_fc_generate_window_post(pf_filcrypto *fc, const uint8_t randomness[32],
                                     const pf_fc_replica *replicas, size_t n,
                                     const uint8_t prover_id[32], pf_fc_post_result *out,
                                     pf_error *err)
{
    memset(out, 0, sizeof *out);
    fc_private_replica_t *r;
    pf_status st = need(fc, PF_STAGE_WINDOW_POST, "generate_window_post", err);
    if (st || (st = private_replicas(fc, replicas, n, &r, err)))
        return st;
    fc_ref_private_replica_t ref = { r, n };
    st = take_window_post(fc, fc->generate_window_post(u32p(randomness), ref, u32p(prover_id)),
                          "generate_window_post", out, err);
    free_private_replicas(fc, r, n);
    return st;
}

/* A list of vanilla proofs as boxed slices (cgo builds them with alloc_boxed_slice). */
static pf_status boxed_list(pf_filcrypto *fc, const pf_bytes *v, size_t n, fc_box_u8_t **out,
                            pf_error *err)
{
    fc_box_u8_t *b = calloc(n ? n : 1, sizeof *b);
    if (!b)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        b[i] = boxed_copy(fc, v[i].data, v[i].len);
    *out = b;
    return PF_OK;
}

static void free_boxed_list(pf_filcrypto *fc, fc_box_u8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fc->destroy_boxed_slice(b[i]);
    free(b);
}

pf_status pf_fc_generate_winning_post_with_vanilla(pf_filcrypto *fc, int post_proof_id,
                                                   const uint8_t randomness[32],
                                                   const uint8_t prover_id[32],
                                                   const pf_bytes *vanilla, size_t n,
                                                   pf_fc_post_result *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    fc_box_u8_t *b;
    pf_status st = need(fc, PF_STAGE_WINNING_POST, "generate_winning_post_with_vanilla", err);
    if (st || (st = check_post_id(post_proof_id, err)) || (st = boxed_list(fc, vanilla, n, &b, err)))
        return st;
    fc_ref_box_u8_t ref = { b, n };
    st = take_post_proofs(fc, fc->generate_winning_post_with_vanilla(post_proof_id,
                                                                     u32p(randomness),
                                                                     u32p(prover_id), ref),
                          "generate_winning_post_with_vanilla", out, err);
    free_boxed_list(fc, b, n);
    return st;
}

pf_status pf_fc_generate_window_post_with_vanilla(pf_filcrypto *fc, int post_proof_id,
                                                  const uint8_t randomness[32],
                                                  const uint8_t prover_id[32],
                                                  const pf_bytes *vanilla, size_t n,
                                                  pf_fc_post_result *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    fc_box_u8_t *b;
    pf_status st = need(fc, PF_STAGE_WINDOW_POST, "generate_window_post_with_vanilla", err);
    if (st || (st = check_post_id(post_proof_id, err)) || (st = boxed_list(fc, vanilla, n, &b, err)))
        return st;
    fc_ref_box_u8_t ref = { b, n };
    st = take_window_post(fc, fc->generate_window_post_with_vanilla(post_proof_id,
                                                                   u32p(randomness),
                                                                   u32p(prover_id), ref),
                          "generate_window_post_with_vanilla", out, err);
    free_boxed_list(fc, b, n);
    return st;
}

pf_status pf_fc_generate_single_vanilla_proof(pf_filcrypto *fc, const pf_fc_replica *replica,
                                              const uint64_t *challenges, size_t n,
                                              pf_bytes *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    fc_private_replica_t *r;
    pf_status st = need(fc, PF_STAGE_VANILLA_POST, "generate_single_vanilla_proof", err);
    if (st || (st = private_replicas(fc, replica, 1, &r, err)))
        return st;
    static const uint64_t dummy_u64;
    fc_ref_u64_t ch = { challenges && n ? challenges : &dummy_u64, challenges ? n : 0 };
    /* the replica goes by value: Rust owns (and frees) its path buffers from here on */
    fc_result_bytes_t *res = fc->generate_single_vanilla_proof(r[0], ch);
    free(r);
    if (!res)
        return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto generate_single_vanilla_proof "
                          "returned NULL");
    st = result_status(res->status_code, &res->error_msg, "generate_single_vanilla_proof", err);
    if (!st)
        st = copy_bytes(&res->value, out, err);
    fc->destroy_generate_single_vanilla_proof_response(res);
    return st;
}

pf_status pf_fc_verify_post(pf_filcrypto *fc, int winning, const uint8_t randomness[32],
                            const pf_fc_replica *replicas, size_t n,
                            const pf_fc_post_proof *proofs, size_t nproofs,
                            const uint8_t prover_id[32], int *valid, pf_error *err)
{
    *valid = 0;
    const char *call = winning ? "verify_winning_post" : "verify_window_post";
    pf_status st = need(fc, winning ? PF_STAGE_WINNING_POST : PF_STAGE_WINDOW_POST, call, err);
    if (st)
        return st;
    fc_public_replica_t *pub = calloc(n ? n : 1, sizeof *pub);
    fc_post_proof_bytes_t *pp = calloc(nproofs ? nproofs : 1, sizeof *pp);
    if (!pub || !pp) {
        free(pub);
        free(pp);
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && !st; i++) {
        st = check_post_id(replicas[i].post_proof_id, err);
        pub[i].registered_proof = replicas[i].post_proof_id;
        memcpy(pub[i].comm_r.idx, replicas[i].comm_r, 32);
        pub[i].sector_id = replicas[i].sector_id;
    }
    size_t made = 0;
    for (size_t i = 0; i < nproofs && !st; i++, made++) {
        st = check_post_id(proofs[i].post_proof_id, err);
        pp[i].registered_proof = proofs[i].post_proof_id;
        pp[i].proof = boxed_copy(fc, proofs[i].proof.data, proofs[i].proof.len);
    }
    if (!st) {
        fc_ref_public_replica_t rr = { pub, n };
        fc_ref_post_proof_t pr = { pp, nproofs };
        fc_result_bool_t *r = (winning ? fc->verify_winning_post : fc->verify_window_post)(
            u32p(randomness), rr, pr, u32p(prover_id));
        if (!r) {
            st = pf_cm_fail(err, PF_EBACKEND, "libfilcrypto %s returned NULL", call);
        } else {
            st = result_status(r->status_code, &r->error_msg, call, err);
            if (!st)
                *valid = r->value ? 1 : 0;
            (winning ? fc->destroy_verify_winning_post_response
                     : fc->destroy_verify_window_post_response)(r);
        }
    }
    for (size_t i = 0; i < made; i++)
        fc->destroy_boxed_slice(pp[i].proof);
    free(pub);
    free(pp);
    return st;
}

pf_status pf_fc_unseal_range(pf_filcrypto *fc, int proof_id, const char *cache_dir, int sealed_fd,
                             int out_fd, uint64_t sector_id, const uint8_t prover_id[32],
                             const uint8_t ticket[32], const uint8_t comm_d[32], uint64_t offset,
                             uint64_t length, pf_error *err)
{
    pf_status st = need(fc, PF_STAGE_UNSEAL, "unseal_range", err);
    if (st)
        return st;
    if (!pf_seal_proof(proof_id))
        return pf_cm_fail(err, PF_EINVAL, "seal proof id %d is not registered", proof_id);
    /* Rust wraps the descriptors in Files: it closes them when it fails and forgets them
     * when it succeeds, so it gets duplicates and only the success path closes them here. */
    int s = dup(sealed_fd), o = s >= 0 ? dup(out_fd) : -1;
    if (s < 0 || o < 0) {
        if (s >= 0)
            close(s);
        return pf_cm_fail(err, PF_EIO, "unseal_range: dup: %s", strerror(errno));
    }
    fc_result_void_t *r = fc->unseal_range(proof_id, ref_str(cache_dir), s, o, sector_id,
                                           u32p(prover_id), u32p(ticket), u32p(comm_d), offset,
                                           length);
    if (!r)
        return pf_cm_fail(err, PF_EBACKEND, "libfilcrypto unseal_range returned NULL");
    st = result_status(r->status_code, &r->error_msg, "unseal_range", err);
    fc->destroy_unseal_range_response(r);
    if (!st) {
        close(s);
        close(o);
    }
    return st;
}
