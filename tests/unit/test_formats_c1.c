/* test_formats_c1.c — C1 output in rust's forms: filecoin-ffi's serde JSON
 * (proofs-api SealCommitPhase1Output) and Curio/supraseal's bincode (filecoin-proofs
 * SealCommitPhase1Output<Tree>).  For sealed 2KiB and 8MiB sectors (and the synthetic and
 * NI 2KiB proofs): every format round-trips byte for byte, a C1 output taken through rust
 * JSON is accepted by the native C2 and pf_verify_seal, sizes follow bincode's rules, the
 * JSON has serde's shape, the decoder takes any field order and whitespace, and rejects
 * truncated, oversized, malformed and randomly mutated input with a clear message. */
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

typedef struct sealed_c1 {
    fx_sector s;
    pf_c1_output o;
    uint8_t *native, *json, *curio;
    size_t native_len, json_len, curio_len;
} sealed_c1;

static void c1_make(sealed_c1 *c, int proof_id, uint64_t sector_id)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(fx_seal(&c->s, proof_id, FX_PATTERN, sector_id, 9), 0);
    pf_error err;
    pf_status st = pf_c1(proof_id, c->s.cache, c->s.sealed, c->s.sector_id, c->s.prover_id,
                         c->s.ticket, c->s.seed, c->s.comm_d, c->s.comm_r, NULL, 0, &c->o, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, PF_OK);
    assert_int_equal(pf_c1_output_write(&c->o, PF_FORMAT_NATIVE, &c->native, &c->native_len, &err),
                     PF_OK);
    assert_int_equal(pf_c1_output_write(&c->o, PF_FORMAT_RUST_JSON, &c->json, &c->json_len, &err),
                     PF_OK);
    assert_int_equal(pf_c1_output_write(&c->o, PF_FORMAT_CURIO_BIN, &c->curio, &c->curio_len,
                                        &err), PF_OK);
}

static void c1_free(sealed_c1 *c)
{
    pf_c1_output_free(&c->o);
    free(c->native);
    free(c->json);
    free(c->curio);
    fx_free(&c->s);
}

static pf_c1_read_args args_of(const sealed_c1 *c)
{
    /* curio-bin names no proof type: give it (the others ignore it) */
    pf_c1_read_args a = { c->o.pub.proof_id, c->s.sector_id, c->s.prover_id };
    return a;
}

/* bincode sizes from the structure definitions (independent of the encoder). */
static size_t bin_path(size_t levels, size_t arity)
{
    return 8 + levels * (8 + (arity - 1) * 32 + 8);
}

static size_t curio_size(int proof_id)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    pf_tree_shape sh;
    assert_int_equal(pf_tree_shape_for_proof(proof_id, &sh, NULL), PF_OK);
    size_t d_levels = 0;
    while ((1ull << d_levels) < info->nodes)
        d_levels++;
    size_t md = 4 + 64 + bin_path(d_levels, 2);
    size_t mr = 4 + 64 + bin_path((size_t)sh.base_rows - 1, 8) +
                (sh.sub_arity ? bin_path(1, (size_t)sh.sub_arity) : 0) +
                (sh.top_arity ? bin_path(1, (size_t)sh.top_arity) : 0);
    size_t L = (size_t)info->layers;
    size_t column = 4 + 8 + L * 32 + mr;
    size_t labeling = 8 + 37 * 32 + 4 + 8;
    size_t proof = md + mr + 15 * column + 8 + 8 + 8 + L * labeling + labeling;
    size_t parts = (size_t)info->partitions, ch = (size_t)info->challenges_per_partition;
    return 8 + parts * (8 + ch * proof) + 5 * 32;
}

/* Every form decodes and re-encodes to the same bytes, across formats too. */
static void check_roundtrips(sealed_c1 *c)
{
    pf_c1_read_args a = args_of(c);
    pf_error err;
    const pf_format fmts[3] = { PF_FORMAT_NATIVE, PF_FORMAT_RUST_JSON, PF_FORMAT_CURIO_BIN };
    const uint8_t *bufs[3] = { c->native, c->json, c->curio };
    const size_t lens[3] = { c->native_len, c->json_len, c->curio_len };
    for (int from = 0; from < 3; from++) {
        assert_int_equal(pf_c1_format_detect(bufs[from], lens[from]), fmts[from]);
        pf_c1_output o;
        pf_status st = pf_c1_output_read(bufs[from], lens[from], fmts[from], &a, &o, &err);
        if (st)
            fprintf(stderr, "%s\n", err.msg);
        assert_int_equal(st, PF_OK);
        assert_int_equal(o.pub.proof_id, c->o.pub.proof_id);
        assert_int_equal(o.pub.sector_id, c->s.sector_id);
        assert_memory_equal(o.comm_c, c->s.comm_c, 32);
        assert_memory_equal(o.comm_r_last, c->s.comm_r_last, 32);
        for (int to = 0; to < 3; to++) {
            uint8_t *b;
            size_t n;
            assert_int_equal(pf_c1_output_write(&o, fmts[to], &b, &n, &err), PF_OK);
            assert_int_equal(n, lens[to]);
            assert_memory_equal(b, bufs[to], n);
            free(b);
        }
        pf_c1_output_free(&o);
    }
    /* pf_c1_convert detects the input */
    uint8_t *b;
    size_t n;
    pf_format from;
    assert_int_equal(pf_c1_convert(c->curio, c->curio_len, PF_FORMAT_RUST_JSON, &a, &b, &n, &from,
                                   &err), PF_OK);
    assert_int_equal(from, PF_FORMAT_CURIO_BIN);
    assert_int_equal(n, c->json_len);
    assert_memory_equal(b, c->json, n);
    free(b);
}

/* The rust JSON, decoded, goes through the native C2 and pf_verify_seal. */
static void check_c2_from_json(sealed_c1 *c)
{
    pf_c1_read_args a = args_of(c);
    pf_error err;
    pf_c1_output o;
    assert_int_equal(pf_c1_output_read(c->json, c->json_len, PF_FORMAT_RUST_JSON, &a, &o, &err),
                     PF_OK);
    assert_int_equal(pf_c1_output_verify(&o, &err), PF_OK);
    uint8_t *proof;
    size_t plen;
    pf_status st = pf_c2_from_output(&o, &proof, &plen, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, PF_OK);
    assert_int_equal(pf_verify_seal(c->o.pub.proof_id, c->s.comm_r, c->s.comm_d, c->s.prover_id,
                                    c->s.ticket, c->s.seed, c->s.sector_id, proof, plen, &err),
                     PF_OK);
    free(proof);
    /* the native C2 straight from native bytes made out of the JSON */
    uint8_t *native;
    size_t nlen;
    assert_int_equal(pf_c1_convert(c->json, c->json_len, PF_FORMAT_NATIVE, &a, &native, &nlen, NULL,
                                   &err), PF_OK);
    assert_int_equal(pf_c2(native, nlen, c->s.sector_id, c->s.prover_id, &proof, &plen, &err),
                     PF_OK);
    free(proof);
    free(native);
    /* decoded with the wrong sector id, the proofs do not verify */
    pf_c1_output_free(&o);
    a.sector_id++;
    assert_int_equal(pf_c1_output_read(c->json, c->json_len, PF_FORMAT_RUST_JSON, &a, &o, &err),
                     PF_OK);
    assert_int_equal(pf_c1_output_verify(&o, &err), PF_EVERIFY);
    pf_c1_output_free(&o);
}

static void test_2k(void **state)
{
    (void)state;
    sealed_c1 c;
    c1_make(&c, 5, 41);
    assert_int_equal(c.curio_len, curio_size(5));
    assert_int_equal(c.curio_len, 28248);    /* 8 + (8 + 2 * 14036) + 160 */
    /* serde_json's shape: fields in declaration order, externally tagged enums, no spaces */
    static const char head[] = "{\"registered_proof\":\"StackedDrg2KiBV1_1\",\"vanilla_proofs\":"
                               "{\"StackedDrg2KiBV1\":[[{\"comm_d_proofs\":{\"data\":{\"Single\":"
                               "{\"root\":[";
    assert_memory_equal(c.json, head, sizeof head - 1);
    assert_null(memchr(c.json, ' ', c.json_len));
    assert_null(memchr(c.json, '\n', c.json_len));
    char *j = malloc(c.json_len + 1);
    memcpy(j, c.json, c.json_len);
    j[c.json_len] = 0;
    assert_non_null(strstr(j, "]]},\"comm_r\":["));
    assert_non_null(strstr(j, "\"replica_column_proofs\":{\"c_x\":{\"column\":{\"index\":"));
    assert_non_null(strstr(j, ",\"_h\":null},\"inclusion_proof\":{\"data\":{\"Single\":{\"root\":["));
    assert_non_null(strstr(j, "\"labeling_proofs\":[{\"parents\":[["));
    assert_non_null(strstr(j, "],\"layer_index\":1,\"node\":"));
    assert_non_null(strstr(j, "\"encoding_proof\":{\"parents\":[["));
    assert_non_null(strstr(j, "],\"layer_index\":2,\"node\":"));
    assert_non_null(strstr(j, "\"path\":{\"path\":[{\"hashes\":[["));
    /* the first path element of tree_d has one sibling; arity-8 levels have seven */
    assert_true(j[c.json_len - 1] == '}');
    free(j);
    check_roundtrips(&c);
    check_c2_from_json(&c);
    c1_free(&c);
}

static void test_8m(void **state)
{
    (void)state;
    sealed_c1 c;
    c1_make(&c, 6, 42);
    assert_int_equal(c.curio_len, curio_size(6));
    static const char head[] = "{\"registered_proof\":\"StackedDrg8MiBV1_1\",\"vanilla_proofs\":"
                               "{\"StackedDrg8MiBV1\":[[";
    assert_memory_equal(c.json, head, sizeof head - 1);
    check_roundtrips(&c);
    check_c2_from_json(&c);
    c1_free(&c);
}

/* Synthetic and non-interactive PoRep use the same structures under their own names. */
static void test_2k_synthetic_ni(void **state)
{
    (void)state;
    sealed_c1 c;
    c1_make(&c, 10, 43);
    static const char synth[] = "{\"registered_proof\":\"StackedDrg2KiBV1_1_Feat_SyntheticPoRep\","
                                "\"vanilla_proofs\":{\"StackedDrg2KiBV1\":";
    assert_memory_equal(c.json, synth, sizeof synth - 1);
    check_roundtrips(&c);
    check_c2_from_json(&c);
    c1_free(&c);
    c1_make(&c, 15, 44);
    static const char ni[] = "{\"registered_proof\":\"StackedDrg2KiBV1_2_Feat_NonInteractivePoRep\"";
    assert_memory_equal(c.json, ni, sizeof ni - 1);
    assert_int_equal(c.curio_len, curio_size(15));     /* 13 partitions */
    check_roundtrips(&c);
    check_c2_from_json(&c);
    c1_free(&c);
}

/* Reorders every object's members (reversed) and pretty-prints: serde accepts that, so
 * must we, with the same result. */
static void reverse_objects(cJSON *item)
{
    for (cJSON *c = item->child; c; c = c->next)
        reverse_objects(c);
    if (!cJSON_IsObject(item) || !item->child)
        return;
    cJSON *prev = NULL, *c = item->child;
    while (c) {
        cJSON *next = c->next;
        c->next = prev;
        c->prev = next;
        prev = c;
        c = next;
    }
    item->child = prev;
    /* cJSON keeps the last element in child->prev */
    cJSON *last = prev;
    while (last->next)
        last = last->next;
    prev->prev = last;
}

static void test_json_any_order(void **state)
{
    (void)state;
    sealed_c1 c;
    c1_make(&c, 5, 45);
    cJSON *root = cJSON_ParseWithLength((const char *)c.json, c.json_len);
    assert_non_null(root);
    reverse_objects(root);
    char *pretty = cJSON_Print(root);
    cJSON_Delete(root);
    assert_non_null(strstr(pretty, "\n"));
    /* reversed: "ticket" is now the first member */
    assert_non_null(strstr(pretty, "{\n\t\"ticket\":"));
    pf_c1_read_args a = args_of(&c);
    pf_c1_output o;
    pf_error err;
    pf_status st = pf_c1_output_read((const uint8_t *)pretty, strlen(pretty), PF_FORMAT_RUST_JSON,
                                     &a, &o, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, PF_OK);
    uint8_t *b;
    size_t n;
    assert_int_equal(pf_c1_output_write(&o, PF_FORMAT_RUST_JSON, &b, &n, &err), PF_OK);
    assert_int_equal(n, c.json_len);
    assert_memory_equal(b, c.json, n);
    free(b);
    pf_c1_output_free(&o);
    free(pretty);
    c1_free(&c);
}

/* Replaces the first occurrence of `from` by `to` in a copy of the JSON and expects the
 * decoder to refuse it with a message containing `want`. */
static void expect_json_error(const sealed_c1 *c, const char *from, const char *to,
                              const char *want)
{
    char *j = malloc(c->json_len + 1);
    memcpy(j, c->json, c->json_len);
    j[c->json_len] = 0;
    char *at = strstr(j, from);
    assert_non_null(at);
    size_t n = c->json_len - strlen(from) + strlen(to);
    char *m = malloc(n + 1);
    size_t pre = (size_t)(at - j);
    memcpy(m, j, pre);
    memcpy(m + pre, to, strlen(to));
    strcpy(m + pre + strlen(to), at + strlen(from));
    pf_c1_read_args a = args_of(c);
    pf_c1_output o;
    pf_error err;
    assert_int_equal(pf_c1_output_read((uint8_t *)m, n, PF_FORMAT_RUST_JSON, &a, &o, &err),
                     PF_EINVAL);
    if (!strstr(err.msg, want))
        fprintf(stderr, "wanted \"%s\" in: %s\n", want, err.msg);
    assert_non_null(strstr(err.msg, want));
    free(m);
    free(j);
}

static void test_json_errors(void **state)
{
    (void)state;
    sealed_c1 c;
    c1_make(&c, 5, 46);
    expect_json_error(&c, "\"registered_proof\":\"StackedDrg2KiBV1_1\"",
                      "\"registered_proof\":\"StackedDrg2KiBV1_3\"", "unknown variant");
    expect_json_error(&c, "\"registered_proof\":\"StackedDrg2KiBV1_1\"",
                      "\"registered_proof\":\"StackedDrg8MiBV1_1\"", "but vanilla_proofs are");
    expect_json_error(&c, "\"StackedDrg2KiBV1\":", "\"StackedDrg2KiB\":", "unknown variant");
    expect_json_error(&c, "\"comm_d_proofs\"", "\"comm_D_proofs\"", "unknown field");
    expect_json_error(&c, "\"ticket\":[", "\"seed\":[", "duplicate field \"seed\"");
    expect_json_error(&c, ",\"_h\":null", "", "missing field \"_h\"");
    expect_json_error(&c, "\"_h\":null", "\"_h\":0", "expected null");
    expect_json_error(&c, "\"layer_index\":1", "\"layer_index\":1.0", "fraction");
    expect_json_error(&c, "\"layer_index\":1", "\"layer_index\":01", "leading zero");
    expect_json_error(&c, "\"layer_index\":1", "\"layer_index\":-1", "unsigned integer");
    expect_json_error(&c, "\"layer_index\":1", "\"layer_index\":4294967296", "larger than");
    expect_json_error(&c, "\"node\":", "\"node\":18446744073709551616", "larger than");
    expect_json_error(&c, "\"root\":[", "\"root\":[256,", "larger than 255");
    expect_json_error(&c, "\"root\":[", "\"root\":[1,", "more than 32 bytes");
    expect_json_error(&c, "\"index\":0}", "\"index\":2}", "index 2, the level has arity 2");
    expect_json_error(&c, "\"comm_d_proofs\":{\"data\":{\"Single\"",
                      "\"comm_d_proofs\":{\"data\":{\"Sub\"", "a Sub proof, the tree shape needs");
    expect_json_error(&c, "\"hashes\":[[", "\"hashes\":[[1],[", "1 bytes where 32 are needed");
    expect_json_error(&c, "[[{\"comm_d_proofs\"", "[[{\"comm_d_proofs\":0,\"comm_d_proofs\"",
                      "'{'");
    /* an empty third proof in the partition */
    expect_json_error(&c, "]]},\"comm_r\"", ",{}]]},\"comm_r\"", "missing field \"comm_d_proofs\"");
    /* trailing data */
    char *m = malloc(c.json_len + 4);
    memcpy(m, c.json, c.json_len);
    memcpy(m + c.json_len, " \n{}", 4);
    pf_c1_read_args a = args_of(&c);
    pf_c1_output o;
    pf_error err;
    assert_int_equal(pf_c1_output_read((uint8_t *)m, c.json_len + 4, PF_FORMAT_RUST_JSON, &a, &o,
                                       &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "oversized"));
    /* trailing whitespace is fine (serde_json allows it) */
    assert_int_equal(pf_c1_output_read((uint8_t *)m, c.json_len + 2, PF_FORMAT_RUST_JSON, &a, &o,
                                       &err), PF_OK);
    pf_c1_output_free(&o);
    free(m);
    /* every truncation */
    for (size_t n = 0; n < c.json_len; n += 1 + n / 64) {
        assert_int_equal(pf_c1_output_read(c.json, n, PF_FORMAT_RUST_JSON, &a, &o, &err),
                         PF_EINVAL);
        assert_true(strstr(err.msg, "truncated") != NULL);
    }
    c1_free(&c);
}

static void test_curio_errors(void **state)
{
    (void)state;
    sealed_c1 c;
    c1_make(&c, 5, 47);
    pf_c1_read_args a = args_of(&c);
    pf_c1_output o;
    pf_error err;
    /* the sector size is found from the first tree_d path when no proof is given */
    a.proof_id = -1;
    assert_int_equal(pf_c1_output_read(c.curio, c.curio_len, PF_FORMAT_CURIO_BIN, &a, &o, &err),
                     PF_OK);
    assert_int_equal(o.pub.proof_id, 5);
    pf_c1_output_free(&o);
    /* given as the synthetic 2KiB proof, the same bytes are that proof's */
    a.proof_id = 10;
    assert_int_equal(pf_c1_output_read(c.curio, c.curio_len, PF_FORMAT_CURIO_BIN, &a, &o, &err),
                     PF_OK);
    assert_int_equal(o.pub.proof_id, 10);
    pf_c1_output_free(&o);
    /* ... but not an 8MiB or an NI one (13 partitions) */
    a.proof_id = 6;
    assert_int_equal(pf_c1_output_read(c.curio, c.curio_len, PF_FORMAT_CURIO_BIN, &a, &o, &err),
                     PF_EINVAL);
    a.proof_id = 15;
    assert_int_equal(pf_c1_output_read(c.curio, c.curio_len, PF_FORMAT_CURIO_BIN, &a, &o, &err),
                     PF_EINVAL);
    assert_non_null(strstr(err.msg, "1 partitions x 2 proofs"));
    a.proof_id = -1;
    /* every truncation, and one byte too many */
    for (size_t n = 0; n < c.curio_len; n += 1 + n / 128) {
        assert_int_equal(pf_c1_output_read(c.curio, n, PF_FORMAT_CURIO_BIN, &a, &o, &err),
                         PF_EINVAL);
        assert_true(strstr(err.msg, "truncated") != NULL);
    }
    uint8_t *m = malloc(c.curio_len + 1);
    memcpy(m, c.curio, c.curio_len);
    m[c.curio_len] = 0;
    assert_int_equal(pf_c1_output_read(m, c.curio_len + 1, PF_FORMAT_CURIO_BIN, &a, &o, &err),
                     PF_EINVAL);
    assert_non_null(strstr(err.msg, "oversized"));
    /* a huge partition count is refused before anything is allocated */
    memcpy(m, c.curio, c.curio_len);
    m[7] = 0x40;
    assert_int_equal(pf_c1_output_read(m, c.curio_len, PF_FORMAT_CURIO_BIN, &a, &o, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "byte 0"));
    /* a Sub variant for tree_d */
    memcpy(m, c.curio, c.curio_len);
    m[16] = 1;
    assert_int_equal(pf_c1_output_read(m, c.curio_len, PF_FORMAT_CURIO_BIN, &a, &o, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "vanilla_proofs[0][0].comm_d_proofs.data"));
    free(m);
    c1_free(&c);
}

/* Random mutations: no crash, a clear message, and what bincode accepts re-encodes to the
 * very bytes (one encoding per value). */
static void test_fuzz(void **state)
{
    (void)state;
    sealed_c1 c;
    c1_make(&c, 5, 48);
    pf_c1_read_args a = args_of(&c);
    a.proof_id = 5;
    srand(99);
    uint8_t *m = malloc(c.curio_len + 16);
    int accepted = 0;
    for (int r = 0; r < 3000; r++) {
        memcpy(m, c.curio, c.curio_len);
        size_t n = c.curio_len;
        int kind = rand() % 4;
        if (kind == 0)
            n = (size_t)rand() % c.curio_len;
        else if (kind == 1)
            n += 1 + (size_t)rand() % 16;
        else
            for (int i = 0, k = 1 + rand() % 3; i < k; i++) {
                size_t at = (size_t)rand() % c.curio_len;
                m[at] = kind == 2 ? (uint8_t)rand() : (uint8_t)(m[at] + 1);
            }
        pf_c1_output o;
        pf_error err;
        if (pf_c1_output_read(m, n, PF_FORMAT_CURIO_BIN, &a, &o, &err) == PF_OK) {
            uint8_t *b;
            size_t blen;
            assert_int_equal(pf_c1_output_write(&o, PF_FORMAT_CURIO_BIN, &b, &blen, &err), PF_OK);
            assert_int_equal(blen, n);
            assert_memory_equal(b, m, n);
            free(b);
            pf_c1_output_free(&o);
            accepted++;
        } else {
            assert_true(err.msg[0] != 0);
        }
    }
    free(m);
    /* changed hash bytes decode fine (verification is C2's job) */
    assert_true(accepted > 0);
    static const char alphabet[] = "{}[],:\" 0123456789nul-.eSPV";
    m = malloc(c.json_len);
    for (int r = 0; r < 1500; r++) {
        memcpy(m, c.json, c.json_len);
        size_t n = c.json_len;
        if (rand() % 3 == 0)
            n = (size_t)rand() % c.json_len;
        else
            for (int i = 0, k = 1 + rand() % 3; i < k; i++)
                m[(size_t)rand() % c.json_len] =
                    (uint8_t)alphabet[rand() % (int)(sizeof alphabet - 1)];
        pf_c1_output o;
        pf_error err;
        if (pf_c1_output_read(m, n, PF_FORMAT_RUST_JSON, &a, &o, &err) == PF_OK)
            pf_c1_output_free(&o);
        else
            assert_true(err.msg[0] != 0);
    }
    free(m);
    c1_free(&c);
}

/* The large sizes cannot be sealed in a test; a C1 output of their shape filled with
 * random values still exercises their layouts (11 layers, Sub paths for 32GiB, Top paths
 * for 64GiB, 10 partitions of 18): every format round-trips, sizes follow bincode, and a
 * path of the wrong shape is refused by the encoder. */
static void fill_random(void *p, size_t n)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rand();
}

static void fake_merkle(pf_merkle_proof *m, const pf_tree_shape *sh, uint64_t nodes, uint64_t node)
{
    fill_random(m, sizeof *m);
    if (sh)
        pf_shape_path_layout(sh, node % nodes, m);
    else
        pf_tree_d_path_layout(nodes, node % nodes, m);
}

static void fake_output(int proof_id, pf_c1_output *o)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    pf_tree_shape sh;
    assert_int_equal(pf_tree_shape_for_proof(proof_id, &sh, NULL), PF_OK);
    memset(o, 0, sizeof *o);
    fill_random(&o->pub, sizeof o->pub);
    fill_random(o->replica_id, 32);
    o->pub.proof_id = proof_id;
    o->partitions = (uint32_t)info->partitions;
    o->challenges_per_partition = (uint32_t)info->challenges_per_partition;
    o->layers = (uint32_t)info->layers;
    size_t n = (size_t)o->partitions * o->challenges_per_partition;
    o->proofs = calloc(n, sizeof *o->proofs);
    for (size_t k = 0; k < n; k++) {
        pf_porep_vanilla_proof *p = &o->proofs[k];
        uint64_t c = ((uint64_t)rand() << 20 ^ (uint64_t)rand()) % info->nodes;
        fake_merkle(&p->comm_d_proofs, NULL, info->nodes, c);
        fake_merkle(&p->comm_r_last_proof, &sh, info->nodes, c);
        pf_column_proof *cols[15];
        cols[0] = &p->replica_column_proofs.c_x;
        for (int i = 0; i < 6; i++)
            cols[1 + i] = &p->replica_column_proofs.drg_parents[i];
        for (int i = 0; i < 8; i++)
            cols[7 + i] = &p->replica_column_proofs.exp_parents[i];
        for (int i = 0; i < 15; i++) {
            fill_random(cols[i]->rows, sizeof cols[i]->rows);
            cols[i]->index = (uint32_t)(c + (uint64_t)i) % (uint32_t)(info->nodes - 1);
            cols[i]->layers = o->layers;
            fake_merkle(&cols[i]->inclusion_proof, &sh, info->nodes, cols[i]->index);
        }
        p->layers = o->layers;
        fill_random(p->labeling_proofs, sizeof p->labeling_proofs);
        fill_random(&p->encoding_proof, sizeof p->encoding_proof);
        if (k == 0) {
            memcpy(o->comm_c, p->replica_column_proofs.c_x.inclusion_proof.root, 32);
            memcpy(o->comm_r_last, p->comm_r_last_proof.root, 32);
        }
    }
}

static void test_large_shapes(void **state)
{
    (void)state;
    srand(7);
    static const int ids[] = { 7, 8, 9, 13 };   /* 512MiB, 32GiB, 64GiB, synthetic 32GiB */
    for (size_t t = 0; t < sizeof ids / sizeof *ids; t++) {
        pf_c1_output o;
        fake_output(ids[t], &o);
        pf_c1_read_args a = { ids[t], o.pub.sector_id, o.pub.prover_id };
        pf_error err;
        const pf_format fmts[3] = { PF_FORMAT_NATIVE, PF_FORMAT_RUST_JSON, PF_FORMAT_CURIO_BIN };
        for (int f = 0; f < 3; f++) {
            uint8_t *b, *b2;
            size_t n, n2;
            pf_status st = pf_c1_output_write(&o, fmts[f], &b, &n, &err);
            if (fmts[f] == PF_FORMAT_NATIVE) {
                /* random nodes are no field elements: the native form refuses them */
                assert_int_equal(st, PF_EINVAL);
                assert_non_null(strstr(err.msg, "no native form"));
                continue;
            }
            if (st)
                fprintf(stderr, "%s %s: %s\n", pf_seal_proof(ids[t])->name,
                        pf_format_name(fmts[f]), err.msg);
            assert_int_equal(st, PF_OK);
            if (fmts[f] == PF_FORMAT_CURIO_BIN)
                assert_int_equal(n, curio_size(ids[t]));
            pf_c1_output back;
            assert_int_equal(pf_c1_output_read(b, n, fmts[f], &a, &back, &err), PF_OK);
            assert_int_equal(pf_c1_output_write(&back, fmts[f], &b2, &n2, &err), PF_OK);
            assert_int_equal(n2, n);
            assert_memory_equal(b2, b, n);
            free(b2);
            pf_c1_output_free(&back);
            free(b);
        }
        /* a tree_r_last path of another shape is refused by the encoder, naming it */
        o.proofs[1].comm_r_last_proof.levels--;
        uint8_t *b;
        size_t n;
        assert_int_equal(pf_c1_output_write(&o, PF_FORMAT_RUST_JSON, &b, &n, &err), PF_EINVAL);
        assert_non_null(strstr(err.msg, "vanilla_proofs[0][1].comm_r_last_proof"));
        pf_c1_output_free(&o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2k),
        cmocka_unit_test(test_8m),
        cmocka_unit_test(test_2k_synthetic_ni),
        cmocka_unit_test(test_json_any_order),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_curio_errors),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_large_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
