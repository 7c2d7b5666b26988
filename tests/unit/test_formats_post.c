/* test_formats_post.c — vanilla PoSt proofs in rust's bincode (FallbackPoStSectorProof):
 * a real rust-fil-proofs 32GiB Window PoSt proof (curio's lib/proof/testgolden, copied to
 * tests/vectors/curio-window-post-32g) decodes, re-encodes byte for byte, verifies with
 * its public inputs and fails with every single byte changed and with changed public
 * inputs; sealpipe's own proofs of 2KiB and 8MiB sectors round-trip in both rust forms
 * and verify; the decoder rejects truncated, oversized and mutated input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "format_internal.h"
#include "seal_fixture.h"
#include "sp_codec.h"

typedef struct vector {
    uint8_t *proof;
    size_t len;
    pf_post_vanilla_public pub;
} vector;

static char *vector_path(const char *name)
{
    const char *tests = getenv("SP_TESTS");
    char *p = malloc(1024);
    snprintf(p, 1024, "%s/vectors/curio-window-post-32g/%s", tests ? tests : "tests", name);
    return p;
}

/* post.vproof and the public inputs of postpub.json (lotus WindowPoStVerifyInfo). */
static void load_vector(vector *v)
{
    memset(v, 0, sizeof *v);
    char *path = vector_path("post.vproof");
    v->proof = fx_read_file(path, &v->len);
    free(path);
    assert_non_null(v->proof);
    assert_int_equal(v->len, 24960);
    path = vector_path("postpub.json");
    size_t jlen;
    char *json = (char *)fx_read_file(path, &jlen);
    free(path);
    assert_non_null(json);
    cJSON *root = cJSON_ParseWithLength(json, jlen);
    free(json);
    assert_non_null(root);
    cJSON *rnd = cJSON_GetObjectItem(root, "Randomness");
    assert_int_equal(sp_base64_decode(rnd->valuestring, v->pub.randomness, 32, NULL), SP_OK);
    cJSON *proof = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "Proofs"), 0);
    v->pub.post_proof_id = cJSON_GetObjectItem(proof, "PoStProof")->valueint;
    cJSON *sector = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "ChallengedSectors"), 0);
    v->pub.sector_id = (uint64_t)cJSON_GetObjectItem(sector, "SectorNumber")->valuedouble;
    const char *cid = cJSON_GetObjectItem(cJSON_GetObjectItem(sector, "SealedCID"), "/")->valuestring;
    assert_int_equal(pf_commcid_decode(cid, PF_COMM_SEALED, v->pub.comm_r, NULL, NULL), PF_OK);
    pf_prover_id_from_actor((uint64_t)cJSON_GetObjectItem(root, "Prover")->valuedouble,
                            v->pub.prover_id);
    v->pub.sector_index = 0;
    cJSON_Delete(root);
    /* postpub.json: randomness 32 zero bytes, StackedDrgWindow32GiBV1, t01000, sector 1 */
    static const uint8_t zero[32];
    assert_memory_equal(v->pub.randomness, zero, 32);
    assert_int_equal(v->pub.post_proof_id, 8);
    assert_string_equal(pf_post_proof(8)->name, "StackedDrgWindow32GiBV1");
    assert_int_equal(v->pub.sector_id, 1);
    assert_int_equal(v->pub.prover_id[0], 0xe8);
    assert_int_equal(v->pub.prover_id[1], 0x07);
}

static void test_vector_decode(void **state)
{
    (void)state;
    vector v;
    load_vector(&v);
    pf_post_vanilla_proof p;
    pf_error err;
    assert_int_equal(pf_post_vanilla_read(8, v.proof, v.len, PF_FORMAT_RUST_BINCODE, &p, &err),
                     PF_OK);
    assert_int_equal(p.sector_id, 1);
    /* the SealedCID of postpub.json is the comm_r inside the proof (bytes 8..40) */
    assert_memory_equal(p.comm_r, v.pub.comm_r, 32);
    assert_memory_equal(p.comm_r, v.proof + 8, 32);
    assert_int_equal(p.sector.count, 10);
    for (size_t i = 0; i < p.sector.count; i++) {
        const pf_merkle_proof *m = &p.sector.inclusion_proofs[i];
        assert_int_equal(m->kind, PF_MERKLE_SUB);     /* 8-8-0: base + sub */
        assert_int_equal(m->levels, 10);
        assert_int_equal(m->arity[9], 8);
        assert_memory_equal(m->root, p.sector.comm_r_last, 32);
    }
    /* comm_c and comm_r_last are the last 64 bytes */
    assert_memory_equal(p.sector.comm_c, v.proof + v.len - 64, 32);
    assert_memory_equal(p.sector.comm_r_last, v.proof + v.len - 32, 32);
    uint8_t comm_r[32];
    assert_int_equal(pf_comm_r(p.sector.comm_c, p.sector.comm_r_last, comm_r, &err), PF_OK);
    assert_memory_equal(comm_r, p.comm_r, 32);

    /* re-encoding gives the same bytes; through JSON and back as well */
    uint8_t *b, *j, *b2;
    size_t blen, jlen, b2len;
    assert_int_equal(pf_post_vanilla_write(8, &p, PF_FORMAT_RUST_BINCODE, &b, &blen, &err), PF_OK);
    assert_int_equal(blen, v.len);
    assert_memory_equal(b, v.proof, v.len);
    assert_int_equal(pf_post_vanilla_write(8, &p, PF_FORMAT_RUST_JSON, &j, &jlen, &err), PF_OK);
    assert_true(jlen > 2 && j[0] == '{');
    assert_memory_equal(j, "{\"sector_id\":1,\"comm_r\":[223,105,16,134,", 38);
    pf_post_vanilla_proof q;
    assert_int_equal(pf_post_vanilla_read(8, j, jlen, PF_FORMAT_RUST_JSON, &q, &err), PF_OK);
    assert_int_equal(pf_post_vanilla_write(8, &q, PF_FORMAT_RUST_BINCODE, &b2, &b2len, &err),
                     PF_OK);
    assert_int_equal(b2len, v.len);
    assert_memory_equal(b2, v.proof, v.len);
    free(b);
    free(j);
    free(b2);
    pf_post_vanilla_proof_free(&q);
    pf_post_vanilla_proof_free(&p);
    free(v.proof);
}

static void test_vector_verifies(void **state)
{
    (void)state;
    vector v;
    load_vector(&v);
    pf_error err;
    pf_status st = pf_post_vanilla_verify_bytes(&v.pub, v.proof, v.len, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, PF_OK);
    free(v.proof);
}

/* Every byte position changed must fail: the decoder rejects lengths, variants and
 * indices, the verifier everything else.  Each position is flipped in its low bit, and
 * every 8th position also in its high bit (a second, different change); the real
 * decoder and verifier run on every mutated copy (~1-2 ms each). */
static void test_vector_every_byte(void **state)
{
    (void)state;
    vector v;
    load_vector(&v);
    uint8_t *m = malloc(v.len);
    memcpy(m, v.proof, v.len);
    size_t decode_rejects = 0, verify_rejects = 0;
    for (size_t i = 0; i < v.len; i++) {
        for (int f = 0; f < (i % 8 == 0 ? 2 : 1); f++) {
            uint8_t flip = f ? 0x80 : 0x01;
            m[i] ^= flip;
            pf_error err;
            pf_status st = pf_post_vanilla_verify_bytes(&v.pub, m, v.len, &err);
            m[i] ^= flip;
            if (st == PF_OK)
                fprintf(stderr, "byte %zu ^ 0x%02x still verifies\n", i, flip);
            assert_int_not_equal(st, PF_OK);
            if (st == PF_EINVAL)
                decode_rejects++;
            else
                verify_rejects++;
        }
    }
    assert_memory_equal(m, v.proof, v.len);
    /* most bytes are hashes: the verifier catches them */
    assert_true(verify_rejects > decode_rejects);
    fprintf(stderr, "every byte: %zu changes rejected by the decoder, %zu by the verifier\n",
            decode_rejects, verify_rejects);
    free(m);
    free(v.proof);
}

static void test_vector_public_inputs(void **state)
{
    (void)state;
    vector v;
    load_vector(&v);
    pf_error err;
    pf_post_vanilla_public p;

    /* randomness: each of its 32 bytes (bit 0) */
    for (int i = 0; i < 32; i++) {
        p = v.pub;
        p.randomness[i] ^= 1;
        assert_int_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_EVERIFY);
    }
    /* randomness not in the field: refused as rust's as_safe_commitment does */
    p = v.pub;
    p.randomness[31] = 0xff;
    assert_int_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_EINVAL);

    /* sector number */
    uint64_t sectors[] = { 0, 2, 1001, 1ull << 32 | 1 };
    for (size_t i = 0; i < sizeof sectors / sizeof *sectors; i++) {
        p = v.pub;
        p.sector_id = sectors[i];
        assert_int_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_EVERIFY);
    }
    /* comm_r (SealedCID): each byte */
    for (int i = 0; i < 31; i++) {
        p = v.pub;
        p.comm_r[i] ^= 1;
        assert_int_not_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_OK);
    }
    /* the sector's position: PoSt API 1.0 derives challenges from it */
    p = v.pub;
    p.sector_index = 1;
    assert_int_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_EVERIFY);

    /* PoSt proof type: every other registered one fails (other size: the decoder; Winning
     * 32GiB: 66 challenges) — except StackedDrgWindow32GiBV1_1 (13): PoSt API 1.2 numbers
     * challenges n instead of position * 10 + n, the same for the first sector */
    for (int id = 0; pf_post_proof(id); id++) {
        p = v.pub;
        p.post_proof_id = id;
        pf_status st = pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err);
        if (id == 8 || id == 13)
            assert_int_equal(st, PF_OK);
        else
            assert_int_not_equal(st, PF_OK);
    }
    p = v.pub;
    p.post_proof_id = 13;
    p.sector_index = 1;   /* API 1.2 ignores the position */
    assert_int_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_OK);

    /* prover_id: rust binds it into Window PoSt nowhere (storage-proofs-post fallback
     * compound.rs generate_public_inputs takes comm_r and the leaf challenges only), so a
     * vanilla proof verifies for any canonical prover id; a non-canonical one is refused */
    p = v.pub;
    p.prover_id[0] ^= 1;
    assert_int_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_OK);
    p.prover_id[31] = 0x80;
    assert_int_equal(pf_post_vanilla_verify_bytes(&p, v.proof, v.len, &err), PF_EINVAL);
    free(v.proof);
}

static void test_vector_truncated_oversized(void **state)
{
    (void)state;
    vector v;
    load_vector(&v);
    pf_post_vanilla_proof p;
    pf_error err;
    /* every length short of the whole file */
    for (size_t n = 0; n < v.len; n += (n < 200 ? 1 : 97)) {
        assert_int_equal(pf_post_vanilla_read(8, v.proof, n, PF_FORMAT_RUST_BINCODE, &p, &err),
                         PF_EINVAL);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    assert_int_equal(pf_post_vanilla_read(8, v.proof, v.len - 1, PF_FORMAT_RUST_BINCODE, &p, &err),
                     PF_EINVAL);
    uint8_t *big = malloc(v.len + 1);
    memcpy(big, v.proof, v.len);
    big[v.len] = 0;
    assert_int_equal(pf_post_vanilla_read(8, big, v.len + 1, PF_FORMAT_RUST_BINCODE, &p, &err),
                     PF_EINVAL);
    assert_non_null(strstr(err.msg, "oversized"));
    assert_non_null(strstr(err.msg, "byte 24960"));
    free(big);
    /* a sector count of 2 and an inclusion proof count of 11 are named */
    uint8_t *m = malloc(v.len);
    memcpy(m, v.proof, v.len);
    m[40] = 2;
    assert_int_equal(pf_post_vanilla_read(8, m, v.len, PF_FORMAT_RUST_BINCODE, &p, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "byte 40"));
    assert_non_null(strstr(err.msg, "vanilla_proof.sectors"));
    memcpy(m, v.proof, v.len);
    m[48] = 11;
    assert_int_equal(pf_post_vanilla_read(8, m, v.len, PF_FORMAT_RUST_BINCODE, &p, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "inclusion_proofs"));
    /* a Top variant where the 8-8-0 tree has Sub */
    memcpy(m, v.proof, v.len);
    m[56] = 2;
    assert_int_equal(pf_post_vanilla_read(8, m, v.len, PF_FORMAT_RUST_BINCODE, &p, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "inclusion_proofs[0].data"));
    /* the 32GiB proof is no 2KiB or 64GiB proof */
    assert_int_equal(pf_post_vanilla_read(5, v.proof, v.len, PF_FORMAT_RUST_BINCODE, &p, &err),
                     PF_EINVAL);
    assert_int_equal(pf_post_vanilla_read(9, v.proof, v.len, PF_FORMAT_RUST_BINCODE, &p, &err),
                     PF_EINVAL);
    free(m);
    free(v.proof);
}

/* Random mutations (1-4 bytes, truncations, insertions): the decoder never crashes, and
 * whatever it accepts re-encodes to exactly the bytes given (bincode has one encoding). */
static void fuzz_bincode(int post_id, const uint8_t *good, size_t len, unsigned seed, int rounds)
{
    srand(seed);
    uint8_t *m = malloc(len + 16);
    for (int r = 0; r < rounds; r++) {
        size_t n = len;
        memcpy(m, good, len);
        int kind = rand() % 4;
        if (kind == 0) {
            n = (size_t)rand() % len;
        } else if (kind == 1) {
            size_t extra = 1 + (size_t)rand() % 16;
            for (size_t i = 0; i < extra; i++)
                m[len + i] = (uint8_t)rand();
            n = len + extra;
        } else {
            int k = 1 + rand() % 4;
            for (int i = 0; i < k; i++) {
                size_t at = (size_t)rand() % len;
                /* lengths and indices live in the low bytes of 8-byte words: hit them often */
                m[at] = kind == 2 ? (uint8_t)rand() : (uint8_t)(m[at] + 1);
            }
        }
        pf_post_vanilla_proof p;
        pf_error err;
        if (pf_post_vanilla_read(post_id, m, n, PF_FORMAT_RUST_BINCODE, &p, &err) == PF_OK) {
            uint8_t *b;
            size_t blen;
            assert_int_equal(pf_post_vanilla_write(post_id, &p, PF_FORMAT_RUST_BINCODE, &b, &blen,
                                                   &err), PF_OK);
            assert_int_equal(blen, n);
            assert_memory_equal(b, m, n);
            free(b);
            pf_post_vanilla_proof_free(&p);
        } else {
            assert_true(err.msg[0] != 0);
        }
    }
    free(m);
}

static void fuzz_json(int post_id, const uint8_t *good, size_t len, unsigned seed, int rounds)
{
    srand(seed);
    static const char alphabet[] = "{}[],:\" 0123456789nul-.e";
    uint8_t *m = malloc(len + 1);
    for (int r = 0; r < rounds; r++) {
        memcpy(m, good, len);
        size_t n = len;
        if (rand() % 3 == 0)
            n = (size_t)rand() % len;
        else
            for (int i = 0, k = 1 + rand() % 3; i < k; i++)
                m[(size_t)rand() % len] = (uint8_t)alphabet[rand() % (int)(sizeof alphabet - 1)];
        pf_post_vanilla_proof p;
        pf_error err;
        if (pf_post_vanilla_read(post_id, m, n, PF_FORMAT_RUST_JSON, &p, &err) == PF_OK) {
            uint8_t *b;
            size_t blen;
            assert_int_equal(pf_post_vanilla_write(post_id, &p, PF_FORMAT_RUST_JSON, &b, &blen,
                                                   &err), PF_OK);
            free(b);
            pf_post_vanilla_proof_free(&p);
        } else {
            assert_true(err.msg[0] != 0);
        }
    }
    free(m);
}

static void test_vector_fuzz(void **state)
{
    (void)state;
    vector v;
    load_vector(&v);
    fuzz_bincode(8, v.proof, v.len, 12, 3000);
    pf_post_vanilla_proof p;
    pf_error err;
    uint8_t *j;
    size_t jlen;
    assert_int_equal(pf_post_vanilla_read(8, v.proof, v.len, PF_FORMAT_RUST_BINCODE, &p, &err),
                     PF_OK);
    assert_int_equal(pf_post_vanilla_write(8, &p, PF_FORMAT_RUST_JSON, &j, &jlen, &err), PF_OK);
    fuzz_json(8, j, jlen, 13, 1500);
    free(j);
    pf_post_vanilla_proof_free(&p);
    free(v.proof);
}

/* sealpipe's own PoSt proofs of a sealed sector: emitted in rust's bincode, they decode,
 * re-encode identically (also through JSON) and verify; a changed byte fails. */
static void roundtrip_sealed(int seal_id, int post_id)
{
    fx_sector s;
    assert_int_equal(fx_seal(&s, seal_id, FX_PATTERN, 77, 3), 0);
    pf_post_vanilla_public pub;
    memset(&pub, 0, sizeof pub);
    pub.post_proof_id = post_id;
    for (int i = 0; i < 32; i++)
        pub.randomness[i] = (uint8_t)(i * 11 + 5);
    pub.randomness[31] &= 0x3f;
    memcpy(pub.prover_id, s.prover_id, 32);
    pub.sector_id = s.sector_id;
    memcpy(pub.comm_r, s.comm_r, 32);
    pf_error err;
    uint8_t *b, *b2, *j;
    size_t blen, b2len, jlen;
    pf_status st = pf_post_vanilla_prove_bytes(&pub, s.cache, s.sealed, PF_FORMAT_RUST_BINCODE, &b,
                                               &blen, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, PF_OK);
    /* size: 8 + 32 + 8 + 8 + challenges * proof + 64 with a Single proof of base_rows - 1
     * levels of 7 hashes: 4 + 64 + 8 + levels * (8 + 224 + 8) */
    const pf_post_proof_info *info = pf_post_proof(post_id);
    pf_tree_shape shape;
    assert_int_equal(pf_tree_shape_for_proof(seal_id, &shape, &err), PF_OK);
    size_t per = 4 + 64 + 8 + (size_t)(shape.base_rows - 1) * 240;
    assert_int_equal(blen, 8 + 32 + 8 + 8 + (size_t)info->challenge_count * per + 64);
    assert_int_equal(pf_post_vanilla_verify_bytes(&pub, b, blen, &err), PF_OK);
    pf_post_vanilla_proof p;
    assert_int_equal(pf_post_vanilla_read(post_id, b, blen, PF_FORMAT_RUST_BINCODE, &p, &err), PF_OK);
    assert_int_equal(pf_post_vanilla_write(post_id, &p, PF_FORMAT_RUST_BINCODE, &b2, &b2len, &err),
                     PF_OK);
    assert_int_equal(b2len, blen);
    assert_memory_equal(b2, b, blen);
    free(b2);
    assert_int_equal(pf_post_vanilla_write(post_id, &p, PF_FORMAT_RUST_JSON, &j, &jlen, &err), PF_OK);
    pf_post_vanilla_proof_free(&p);
    assert_int_equal(pf_post_vanilla_read(post_id, j, jlen, PF_FORMAT_RUST_JSON, &p, &err), PF_OK);
    assert_int_equal(pf_post_vanilla_write(post_id, &p, PF_FORMAT_RUST_BINCODE, &b2, &b2len, &err),
                     PF_OK);
    assert_memory_equal(b2, b, blen);
    free(b2);
    /* JSON -> decode -> JSON is byte-identical too */
    uint8_t *j2;
    size_t j2len;
    assert_int_equal(pf_post_vanilla_write(post_id, &p, PF_FORMAT_RUST_JSON, &j2, &j2len, &err),
                     PF_OK);
    assert_int_equal(j2len, jlen);
    assert_memory_equal(j2, j, jlen);
    free(j2);
    pf_post_vanilla_proof_free(&p);
    /* a changed leaf fails verification */
    b[8 + 32 + 8 + 8 + 4 + 32] ^= 1;
    assert_int_equal(pf_post_vanilla_verify_bytes(&pub, b, blen, &err), PF_EVERIFY);
    b[8 + 32 + 8 + 8 + 4 + 32] ^= 1;
    fuzz_bincode(post_id, b, blen, 5, 400);
    fuzz_json(post_id, j, jlen, 6, 300);
    free(b);
    free(j);
    fx_free(&s);
}

static void test_sealed_2k(void **state)
{
    (void)state;
    roundtrip_sealed(5, 10);   /* StackedDrg2KiBV1_1, StackedDrgWindow2KiBV1_1 */
    roundtrip_sealed(5, 0);    /* Winning PoSt: 66 challenges */
}

static void test_sealed_8m(void **state)
{
    (void)state;
    roundtrip_sealed(6, 11);   /* StackedDrg8MiBV1_1, StackedDrgWindow8MiBV1_1 */
}

/* ---- every tree shape: proofs over a sparse tree ----
 * A valid vanilla proof needs only the nodes on the challenged paths: every node off the
 * paths is a pseudo-random field element of its position, every node on them the
 * Poseidon hash of its children.  This gives proofs for sector sizes no test can seal
 * (512MiB 8-0-0, 32GiB 8-8-0, 64GiB 8-8-2 with its arity-2 top level). */

#define SPARSE_MAX 66

typedef struct sparse_level {
    int arity;                    /* of the hash that makes the next level */
    size_t n;
    uint64_t idx[SPARSE_MAX];
    uint8_t val[SPARSE_MAX][32];
} sparse_level;

static void off_path(int level, uint64_t i, uint8_t out[32])
{
    uint8_t in[16];
    for (int k = 0; k < 8; k++) {
        in[k] = (uint8_t)((uint64_t)level >> (8 * k));
        in[8 + k] = (uint8_t)(i >> (8 * k));
    }
    pf_sha256(in, sizeof in, out);
    pf_trim(out);
}

static void node_value(const sparse_level *lv, int level, uint64_t i, uint8_t out[32])
{
    for (size_t k = 0; k < lv[level].n; k++)
        if (lv[level].idx[k] == i) {
            memcpy(out, lv[level].val[k], 32);
            return;
        }
    off_path(level, i, out);
}

/* Proofs of `challenges` in a sparse tree of the shape; comm_c is made up. */
static void sparse_proof(const pf_tree_shape *sh, const uint64_t *challenges, size_t n,
                         uint64_t sector_id, pf_post_vanilla_proof *out)
{
    sparse_level lv[PF_MERKLE_MAX_LEVELS + 1];
    memset(lv, 0, sizeof lv);
    int levels = 0;
    for (int r = 0; r + 1 < sh->base_rows; r++)
        lv[levels++].arity = sh->base_arity;
    if (sh->sub_arity)
        lv[levels++].arity = sh->sub_arity;
    if (sh->top_arity)
        lv[levels++].arity = sh->top_arity;
    /* the paths' nodes, level by level */
    for (size_t c = 0; c < n; c++) {
        uint64_t i = challenges[c];
        for (int l = 1; l <= levels; l++) {
            i /= (uint64_t)lv[l - 1].arity;
            int seen = 0;
            for (size_t k = 0; k < lv[l].n; k++)
                seen |= lv[l].idx[k] == i;
            if (!seen)
                lv[l].idx[lv[l].n++] = i;
        }
    }
    for (int l = 1; l <= levels; l++)
        for (size_t k = 0; k < lv[l].n; k++) {
            int a = lv[l - 1].arity;
            uint8_t in[16][32];
            for (int j = 0; j < a; j++)
                node_value(lv, l - 1, lv[l].idx[k] * (uint64_t)a + (uint64_t)j, in[j]);
            assert_int_equal(pf_poseidon_hash(a, (const uint8_t(*)[32])in, lv[l].val[k], NULL),
                             PF_OK);
        }
    memset(out, 0, sizeof *out);
    out->sector_id = sector_id;
    out->sector.count = n;
    out->sector.inclusion_proofs = calloc(n, sizeof *out->sector.inclusion_proofs);
    memcpy(out->sector.comm_r_last, lv[levels].val[0], 32);
    off_path(99, sector_id, out->sector.comm_c);
    assert_int_equal(pf_comm_r(out->sector.comm_c, out->sector.comm_r_last, out->comm_r, NULL),
                     PF_OK);
    for (size_t c = 0; c < n; c++) {
        pf_merkle_proof *m = &out->sector.inclusion_proofs[c];
        pf_shape_path_layout(sh, challenges[c], m);
        assert_int_equal((int)m->levels, levels);
        node_value(lv, 0, challenges[c], m->leaf);
        memcpy(m->root, out->sector.comm_r_last, 32);
        uint64_t i = challenges[c];
        uint32_t h = 0;
        for (int l = 0; l < levels; l++) {
            uint64_t a = (uint64_t)lv[l].arity, first = i / a * a;
            assert_int_equal(m->index[l], i % a);
            for (uint64_t j = first; j < first + a; j++)
                if (j != i)
                    node_value(lv, l, j, m->hashes[h++]);
            i /= a;
        }
    }
}

static void check_shape(int post_id)
{
    const pf_post_proof_info *info = pf_post_proof(post_id);
    pf_tree_shape sh;
    assert_int_equal(pf_tree_shape_for_proof(pf_seal_proof_for_size(info->sector_size), &sh,
                                             NULL), PF_OK);
    pf_post_vanilla_public pub;
    memset(&pub, 0, sizeof pub);
    pub.post_proof_id = post_id;
    pub.sector_id = 1234;
    pub.sector_index = 3;
    for (int i = 0; i < 31; i++)
        pub.randomness[i] = (uint8_t)(3 * i + post_id);
    uint64_t ch[SPARSE_MAX];
    assert_int_equal(pf_post_sector_challenges(post_id, pub.randomness, pub.sector_index,
                                               pub.sector_id, ch, NULL), PF_OK);
    pf_post_vanilla_proof p;
    sparse_proof(&sh, ch, (size_t)info->challenge_count, pub.sector_id, &p);
    memcpy(pub.comm_r, p.comm_r, 32);
    pf_error err;
    uint8_t *b, *b2;
    size_t blen, b2len;
    assert_int_equal(pf_post_vanilla_write(post_id, &p, PF_FORMAT_RUST_BINCODE, &b, &blen, &err),
                     PF_OK);
    /* MerkleProof variant: 0 Single (8-0-0), 1 Sub (8-8-0), 2 Top (8-8-2) */
    uint32_t variant = (uint32_t)(sh.top_arity ? 2 : sh.sub_arity ? 1 : 0);
    assert_int_equal(pf_get_le32(b + 56), variant);
    pf_status st = pf_post_vanilla_verify_bytes(&pub, b, blen, &err);
    if (st)
        fprintf(stderr, "%s: %s\n", info->name, err.msg);
    assert_int_equal(st, PF_OK);
    pf_post_vanilla_proof q;
    assert_int_equal(pf_post_vanilla_read(post_id, b, blen, PF_FORMAT_RUST_BINCODE, &q, &err), PF_OK);
    assert_int_equal(pf_post_vanilla_write(post_id, &q, PF_FORMAT_RUST_BINCODE, &b2, &b2len, &err),
                     PF_OK);
    assert_int_equal(b2len, blen);
    assert_memory_equal(b2, b, blen);
    free(b2);
    pf_post_vanilla_proof_free(&q);
    /* the last path's top sibling, its index, and the sector position all matter */
    size_t last_hash = blen - 64 - 32 - 32 - 8 - 32;
    b[last_hash] ^= 1;
    assert_int_not_equal(pf_post_vanilla_verify_bytes(&pub, b, blen, &err), PF_OK);
    b[last_hash] ^= 1;
    pub.sector_index = 4;
    st = pf_post_vanilla_verify_bytes(&pub, b, blen, &err);
    /* Winning PoSt (one sector) and PoSt API 1.2 (window V1_1) ignore the position */
    assert_int_equal(st, info->winning || info->api_version == 120 ? PF_OK : PF_EVERIFY);
    free(b);
    pf_post_vanilla_proof_free(&p);
}

static void test_every_shape(void **state)
{
    (void)state;
    for (int id = 0; pf_post_proof(id); id++)
        check_shape(id);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_decode),
        cmocka_unit_test(test_vector_verifies),
        cmocka_unit_test(test_vector_every_byte),
        cmocka_unit_test(test_vector_public_inputs),
        cmocka_unit_test(test_vector_truncated_oversized),
        cmocka_unit_test(test_vector_fuzz),
        cmocka_unit_test(test_sealed_2k),
        cmocka_unit_test(test_sealed_8m),
        cmocka_unit_test(test_every_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
