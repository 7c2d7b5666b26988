/* format_post.c — one sector's vanilla PoSt proof in rust's form: filecoin-proofs
 * FallbackPoStSectorProof {sector_id, comm_r, vanilla_proof: fallback::Proof {sectors:
 * [SectorProof {inclusion_proofs, comm_c, comm_r_last}]}}, as bincode (what filecoin-ffi's
 * generate_single_vanilla_proof returns and the *_with_vanilla calls take) or serde JSON;
 * and proving/verifying straight from and to those bytes. */
#include "format_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct post_geom {
    const pf_post_proof_info *info;
    pf_tree_shape shape;
    fmt_tree tree;
} post_geom;

static pf_status post_geom_init(post_geom *g, int post_proof_id, pf_error *err)
{
    memset(g, 0, sizeof *g);
    g->info = pf_post_proof(post_proof_id);
    if (!g->info)
        return pf_cm_fail(err, PF_EINVAL, "PoSt proof id %d is not registered (0..14)",
                          post_proof_id);
    pf_status st = pf_tree_shape_for_proof(pf_seal_proof_for_size(g->info->sector_size),
                                           &g->shape, err);
    if (st)
        return st;
    fmt_tree_of_shape(&g->shape, &g->tree);
    return PF_OK;
}

static fmt_syntax post_syntax(pf_format f)
{
    return f == PF_FORMAT_RUST_JSON ? FMT_JSON : FMT_BIN;
}

static int post_format_ok(pf_format f)
{
    return f == PF_FORMAT_RUST_BINCODE || f == PF_FORMAT_RUST_JSON;
}

pf_status pf_post_vanilla_write(int post_proof_id, const pf_post_vanilla_proof *p, pf_format f,
                                uint8_t **buf, size_t *len, pf_error *err)
{
    *buf = NULL;
    *len = 0;
    if (!post_format_ok(f))
        return pf_cm_fail(err, PF_EUNSUPPORTED, "a vanilla PoSt proof has no %s form (use "
                          "rust-bincode or rust-json)", pf_format_name(f));
    post_geom g;
    pf_status st = post_geom_init(&g, post_proof_id, err);
    if (st)
        return st;
    if (p->sector.count != (size_t)g.info->challenge_count || !p->sector.inclusion_proofs)
        return pf_cm_fail(err, PF_EINVAL, "%zu inclusion proofs, %s proves %d challenges per "
                          "sector", p->sector.count, g.info->name, g.info->challenge_count);
    fmt_enc e;
    fe_init(&e, post_syntax(f), 256 + p->sector.count * fmt_merkle_bin_size(&g.tree) * 4);
    fe_struct_begin(&e);
    fe_field(&e, "sector_id");
    fe_u64(&e, p->sector_id);
    fe_field(&e, "comm_r");
    fe_domain(&e, p->comm_r);
    fe_field(&e, "vanilla_proof");
    fe_struct_begin(&e);
    fe_field(&e, "sectors");
    fe_seq_begin(&e, 1);
    fe_elem(&e);
    fe_struct_begin(&e);
    fe_field(&e, "inclusion_proofs");
    fe_seq_begin(&e, p->sector.count);
    for (size_t i = 0; i < p->sector.count && !st; i++) {
        char what[64];
        snprintf(what, sizeof what, "inclusion_proofs[%zu]", i);
        fe_elem(&e);
        st = fe_merkle(&e, &g.tree, &p->sector.inclusion_proofs[i], what, err);
    }
    fe_seq_end(&e);
    fe_field(&e, "comm_c");
    fe_domain(&e, p->sector.comm_c);
    fe_field(&e, "comm_r_last");
    fe_domain(&e, p->sector.comm_r_last);
    fe_struct_end(&e);
    fe_seq_end(&e);
    fe_struct_end(&e);
    fe_struct_end(&e);
    if (st) {
        fb_free(&e.b);
        return st;
    }
    return fe_finish(&e, buf, len, err);
}

static const char *const sector_proof_fields[] = { "inclusion_proofs", "comm_c",
                                                   "comm_r_last" };

static int fd_sector_proof(fmt_dec *d, const post_geom *g, pf_post_sector_proof *s)
{
    int f;
    if (fd_struct_begin(d, 3))
        return -1;
    while ((f = fd_field(d, sector_proof_fields, 3)) >= 0) {
        size_t mark = fd_push(d, sector_proof_fields[f]);
        if (f == 0) {
            size_t want = (size_t)g->info->challenge_count;
            if (fd_seq_begin(d, want, fmt_merkle_bin_size(&g->tree)))
                return -1;
            size_t n = 0;
            int more;
            while ((more = fd_seq_next(d)) > 0) {
                size_t m2 = fd_push_index(d, n);
                if (fd_merkle(d, &g->tree, &s->inclusion_proofs[n]))
                    return -1;
                fd_pop(d, m2);
                n++;
            }
            if (more < 0)
                return -1;
            if (n != want)
                return fd_fail(d, "%zu inclusion proofs, %s proves %zu challenges per sector",
                               n, g->info->name, want);
            s->count = n;
        } else if (fd_domain(d, f == 1 ? s->comm_c : s->comm_r_last)) {
            return -1;
        }
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

static const char *const vanilla_fields[] = { "sectors" };
static const char *const fallback_fields[] = { "sector_id", "comm_r", "vanilla_proof" };

static int fd_sectors(fmt_dec *d, const post_geom *g, pf_post_vanilla_proof *p)
{
    int f;
    if (fd_struct_begin(d, 1))
        return -1;
    while ((f = fd_field(d, vanilla_fields, 1)) >= 0) {
        size_t mark = fd_push(d, "sectors");
        /* generate_single_vanilla_proof always proves exactly one sector */
        if (fd_seq_begin(d, 1, 8 + 64))
            return -1;
        int n = 0, more;
        while ((more = fd_seq_next(d)) > 0) {
            size_t m2 = fd_push_index(d, 0);
            if (fd_sector_proof(d, g, &p->sector))
                return -1;
            fd_pop(d, m2);
            n++;
        }
        if (more < 0)
            return -1;
        if (n != 1)
            return fd_fail(d, "%d sector proofs, a FallbackPoStSectorProof has 1", n);
        fd_pop(d, mark);
    }
    return f == -1 ? 0 : -1;
}

pf_status pf_post_vanilla_read(int post_proof_id, const uint8_t *buf, size_t len, pf_format f,
                               pf_post_vanilla_proof *out, pf_error *err)
{
    memset(out, 0, sizeof *out);
    if (!post_format_ok(f))
        return pf_cm_fail(err, PF_EUNSUPPORTED, "a vanilla PoSt proof has no %s form (use "
                          "rust-bincode or rust-json)", pf_format_name(f));
    post_geom g;
    pf_status st = post_geom_init(&g, post_proof_id, err);
    if (st)
        return st;
    out->sector.inclusion_proofs =
        calloc((size_t)g.info->challenge_count, sizeof *out->sector.inclusion_proofs);
    if (!out->sector.inclusion_proofs)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    fmt_dec d;
    fd_init(&d, post_syntax(f), buf, len,
            f == PF_FORMAT_RUST_JSON ? "vanilla PoSt rust-json" : "vanilla PoSt rust-bincode",
            err);
    int fi;
    if (!fd_struct_begin(&d, 3)) {
        while ((fi = fd_field(&d, fallback_fields, 3)) >= 0) {
            size_t mark = fd_push(&d, fallback_fields[fi]);
            int rc = fi == 0   ? fd_u64(&d, &out->sector_id)
                     : fi == 1 ? fd_domain(&d, out->comm_r)
                               : fd_sectors(&d, &g, out);
            if (rc)
                break;
            fd_pop(&d, mark);
        }
    }
    if ((st = fd_finish(&d))) {
        pf_post_vanilla_proof_free(out);
        return st;
    }
    return PF_OK;
}

/* ---- prove and verify from bytes ---- */

static pf_status check_public(const pf_post_vanilla_public *pub, pf_error *err)
{
    if (!pf_post_proof(pub->post_proof_id))
        return pf_cm_fail(err, PF_EINVAL, "PoSt proof id %d is not registered (0..14)",
                          pub->post_proof_id);
    /* rust's as_safe_commitment: these must be canonical field elements */
    if (!pf_cm_fr_valid(pub->randomness))
        return pf_cm_fail(err, PF_EINVAL, "randomness is not a canonical field element (clear "
                          "the top two bits of byte 31, as Lotus does)");
    if (!pf_cm_fr_valid(pub->prover_id))
        return pf_cm_fail(err, PF_EINVAL, "prover_id is not a canonical field element");
    if (!pf_cm_fr_valid(pub->comm_r))
        return pf_cm_fail(err, PF_EINVAL, "comm_r is not a canonical field element");
    return PF_OK;
}

pf_status pf_post_vanilla_verify_bytes(const pf_post_vanilla_public *pub, const uint8_t *buf,
                                       size_t len, pf_error *err)
{
    pf_status st = check_public(pub, err);
    if (st)
        return st;
    pf_post_vanilla_proof p;
    if ((st = pf_post_vanilla_read(pub->post_proof_id, buf, len, PF_FORMAT_RUST_BINCODE, &p,
                                   err)))
        return st;
    pf_post_public_replica r;
    r.sector_id = pub->sector_id;
    memcpy(r.comm_r, pub->comm_r, 32);
    st = pf_post_vanilla_verify(pub->post_proof_id, pub->randomness, pub->sector_index, &r, &p,
                                err);
    pf_post_vanilla_proof_free(&p);
    return st;
}

pf_status pf_post_vanilla_prove_bytes(const pf_post_vanilla_public *pub, const char *cache_dir,
                                      const char *sealed_path, pf_format f, uint8_t **buf,
                                      size_t *len, pf_error *err)
{
    *buf = NULL;
    *len = 0;
    pf_status st = check_public(pub, err);
    if (st)
        return st;
    const pf_post_proof_info *info = pf_post_proof(pub->post_proof_id);
    uint64_t *ch = calloc((size_t)info->challenge_count, sizeof *ch);
    if (!ch)
        return pf_cm_fail(err, PF_ENOMEM, "out of memory");
    pf_post_vanilla_proof p;
    memset(&p, 0, sizeof p);
    pf_post_replica r = { .sector_id = pub->sector_id, .cache_dir = cache_dir,
                          .sealed_path = sealed_path };
    memcpy(r.comm_r, pub->comm_r, 32);
    if (!(st = pf_post_sector_challenges(pub->post_proof_id, pub->randomness, pub->sector_index,
                                         pub->sector_id, ch, err)) &&
        !(st = pf_post_vanilla_prove(pub->post_proof_id, &r, ch,
                                     (size_t)info->challenge_count, &p, err)))
        st = pf_post_vanilla_write(pub->post_proof_id, &p, f, buf, len, err);
    pf_post_vanilla_proof_free(&p);
    free(ch);
    return st;
}
