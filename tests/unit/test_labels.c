/* test_labels.c — SDR labeling: rust-fil-proofs' label vectors for both API versions,
 * the SHA-NI node function against the portable one, and single-thread against
 * multi-core labels (including a tiny ring that forces many missing base parents). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "graph.h"
#include "label.h"
#include "sealproofs.h"
#include "sha256.h"
#include "sp_codec.h"

/* Fr::from_u64s_le limbs -> the canonical little-endian bytes rust stores. */
static void limbs_to_bytes(const uint64_t limbs[4], uint8_t out[32])
{
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(limbs[i / 8] >> (8 * (i % 8)));
}

static void check_last_label(uint64_t nodes, uint8_t porep_byte, int api, const uint64_t limbs[4],
                             int multicore)
{
    pf_graph g;
    uint8_t porep_id[32], replica_id[32], want[32], got[11][32];
    memset(porep_id, porep_byte, 32);
    memset(replica_id, 9, 32);
    assert_int_equal(pf_graph_init(&g, nodes, porep_id, api, NULL), PF_OK);
    pf_sdr_options o = { .multicore = multicore };
    pf_error err;
    pf_status st = pf_sdr_last_labels(&g, replica_id, 11, &o, got, &err);
    if (st != PF_OK)
        fail_msg("%s", err.msg);
    limbs_to_bytes(limbs, want);
    assert_memory_equal(got[10], want, 32);
}

/* storage-proofs-porep/src/stacked/vanilla/create_label/multi.rs test_create_labels and
 * tests/stacked_vanilla.rs test_stacked_porep_generate_labels (research/porep.md §10.1):
 * replica_id = [9; 32], 11 layers, label of the last node of the last layer.  "nodes_2k"
 * and "nodes_4k" there are 1<<11 and 1<<12 bytes, i.e. 64 and 128 nodes. */
static const uint64_t V64_LEGACY[4] = { 0xd3faa96b9a0fba04ULL, 0xea81a283d106485eULL,
                                        0xe3d51b9afa5ac2b3ULL, 0x0462f4f4f1a68d37ULL };
static const uint64_t V128_LEGACY[4] = { 0x7e191e52c4a8da86ULL, 0x5ae8a1c9e6fac148ULL,
                                         0xce239f3b88a894b8ULL, 0x234c00d1dc1d53beULL };
static const uint64_t V64_NEW[4] = { 0xabb3f38bb70defcfULL, 0x777a2e4d7769119fULL,
                                     0x3448959d495490bcULL, 0x06021188c7a71cb5ULL };
static const uint64_t V128_NEW[4] = { 0x22ab81cf68c4676dULL, 0x7a77a82fc7c9c189ULL,
                                      0xc6c03d32c1e42d23ULL, 0x0f777c18cc2c55bdULL };

static void test_vectors_api_1_0(void **state)
{
    (void)state;
    check_last_label(64, 0, 100, V64_LEGACY, 0);
    check_last_label(128, 0, 100, V128_LEGACY, 0);
    /* The byte form porep.md gives for the first one. */
    uint8_t b[32];
    char h[65];
    limbs_to_bytes(V64_LEGACY, b);
    sp_hex_encode(b, 32, h);
    assert_string_equal(h, "04ba0f9a6ba9fad35e4806d183a281eab3c25afa9a1bd5e3378da6f1f4f46204");
}

static void test_vectors_api_1_1_and_1_2(void **state)
{
    (void)state;
    check_last_label(64, 123, 110, V64_NEW, 0);
    check_last_label(128, 123, 110, V128_NEW, 0);
    /* 1.2 builds the same graph and labels as 1.1. */
    check_last_label(64, 123, 120, V64_NEW, 0);
    check_last_label(128, 123, 120, V128_NEW, 0);
}

static void test_vectors_multicore(void **state)
{
    (void)state;
    check_last_label(64, 0, 100, V64_LEGACY, 1);
    check_last_label(128, 123, 110, V128_NEW, 1);
}

static void test_ni_matches_portable(void **state)
{
    (void)state;
    if (!pf_sha256_cpu_has_ni())
        skip();
    uint8_t labels[14][32], a[32], b[32], rid[32];
    srand(11);
    for (int round = 0; round < 300; round++) {
        for (int i = 0; i < 14; i++)
            for (int j = 0; j < 32; j++)
                labels[i][j] = (uint8_t)rand();
        for (int j = 0; j < 32; j++)
            rid[j] = (uint8_t)rand();
        uint32_t st[8];
        pf_label_prefix_state(rid, (uint32_t)(round % 11 + 1), (uint64_t)rand(), st);
        const uint8_t *p[14];
        for (int i = 0; i < 14; i++)
            p[i] = labels[(i * 5 + round) % 14];   /* repeats allowed, like real parents */
        int np = round & 1 ? PF_DEGREE : PF_BASE_DEGREE;
        pf_label_node_portable(st, p, np, a);
        pf_label_node_ni(st, p, np, b);
        assert_memory_equal(a, b, 32);
        assert_true((a[31] & 0xc0) == 0);
    }
}

static void test_node_matches_plain_sha256(void **state)
{
    (void)state;
    /* The node function against SHA-256 of the 1248-byte message spelled out. */
    uint8_t rid[32], labels[14][32], msg[1248], want[32], got[32];
    for (int i = 0; i < 32; i++)
        rid[i] = (uint8_t)(3 * i + 1);
    for (int i = 0; i < 14; i++)
        for (int j = 0; j < 32; j++)
            labels[i][j] = (uint8_t)(i * 17 + j);
    const uint32_t layer = 3;
    const uint64_t node = 0x0102030405060708ULL;
    memcpy(msg, rid, 32);
    msg[32] = 0; msg[33] = 0; msg[34] = 0; msg[35] = 3;
    for (int i = 0; i < 8; i++)
        msg[36 + i] = (uint8_t)(i + 1);
    memset(msg + 44, 0, 20);
    for (int np = 6; np <= 14; np += 8) {
        for (int i = 0; i < 37; i++)
            memcpy(msg + 64 + 32 * i, labels[i % np], 32);
        pf_sha256(msg, sizeof msg, want);
        want[31] &= 0x3f;
        uint32_t st[8];
        pf_label_prefix_state(rid, layer, node, st);
        const uint8_t *p[14];
        for (int i = 0; i < 14; i++)
            p[i] = labels[i];
        pf_label_node_portable(st, p, np, got);
        assert_memory_equal(got, want, 32);
        if (pf_sha256_cpu_has_ni()) {
            pf_label_node_ni(st, p, np, got);
            assert_memory_equal(got, want, 32);
        }
    }
    /* Node 0: SHA-256 of the prefix alone. */
    memcpy(msg, rid, 32);
    memset(msg + 36, 0, 8);
    pf_sha256(msg, 64, want);
    want[31] &= 0x3f;
    pf_label_node0(rid, layer, got);
    assert_memory_equal(got, want, 32);
}

/* Labels two layers of a whole graph with the given labeler settings. */
static void label_graph(const pf_graph *g, const uint32_t *table, int multi, int use_ni,
                        uint32_t lookahead, uint32_t stride, int producers, uint8_t *l1,
                        uint8_t *l2)
{
    pf_labeler l = { .nodes = g->nodes, .parents = table, .use_ni = use_ni,
                     .lookahead = lookahead, .stride = stride, .producers = producers };
    memset(l.replica_id, 0x5c, 32);
    l.replica_id[31] = 0x0c;
    pf_error err;
    l.cur = l1;
    assert_int_equal(multi ? pf_label_layer_multi(&l, 1, &err) : pf_label_layer_single(&l, 1, &err),
                     PF_OK);
    l.cur = l2;
    l.prev = l1;
    assert_int_equal(multi ? pf_label_layer_multi(&l, 2, &err) : pf_label_layer_single(&l, 2, &err),
                     PF_OK);
}

static void compare_modes(int proof, uint32_t small_ring, uint32_t small_stride)
{
    pf_graph g;
    assert_int_equal(pf_graph_init_proof(&g, proof, NULL), PF_OK);
    size_t bytes = g.nodes * 32;
    uint32_t *table = malloc(g.nodes * PF_DEGREE * 4);
    uint8_t *ref1 = malloc(bytes), *ref2 = malloc(bytes), *a = malloc(bytes), *b = malloc(bytes);
    assert_non_null(table);
    assert_non_null(ref1);
    assert_non_null(ref2);
    assert_non_null(a);
    assert_non_null(b);
    pf_graph_fill_table(&g, 0, g.nodes, table, 0);
    int ni = pf_sha256_using_ni();
    label_graph(&g, table, 0, ni, 0, 0, 0, ref1, ref2);
    /* default ring, one producer and three producers */
    label_graph(&g, table, 1, ni, 0, 0, 1, a, b);
    assert_memory_equal(a, ref1, bytes);
    assert_memory_equal(b, ref2, bytes);
    label_graph(&g, table, 1, ni, 0, 0, 3, a, b);
    assert_memory_equal(a, ref1, bytes);
    assert_memory_equal(b, ref2, bytes);
    /* a small ring and short strides: producers keep running into unfinished parents */
    label_graph(&g, table, 1, ni, small_ring, small_stride, 2, a, b);
    assert_memory_equal(a, ref1, bytes);
    assert_memory_equal(b, ref2, bytes);
    if (ni && g.nodes <= 64) {
        /* the portable path gives the same labels */
        label_graph(&g, table, 0, 0, 0, 0, 0, a, b);
        assert_memory_equal(a, ref1, bytes);
        assert_memory_equal(b, ref2, bytes);
    }
    free(table);
    free(ref1);
    free(ref2);
    free(a);
    free(b);
}

static void test_single_vs_multi_2kib(void **state)
{
    (void)state;
    compare_modes(5, 3, 2);
    compare_modes(0, 3, 2);
}

static void test_single_vs_multi_8mib(void **state)
{
    (void)state;
    compare_modes(6, 64, 8);
}

static void cancel_progress(void *ctx, const pf_progress_event *ev)
{
    (void)ev;
    *(volatile int *)ctx = 1;   /* cancel after the first layer */
}

static void test_cancel(void **state)
{
    (void)state;
    pf_graph g;
    assert_int_equal(pf_graph_init_proof(&g, 6, NULL), PF_OK);
    volatile int cancel = 0;
    uint8_t rid[32] = { 1 }, last[2][32];
    for (int multi = 0; multi < 2; multi++) {
        cancel = 0;
        pf_sdr_options o = { .multicore = multi, .cancel = &cancel, .progress = cancel_progress,
                             .progress_ctx = (void *)&cancel };
        pf_error err;
        assert_int_equal(pf_sdr_last_labels(&g, rid, 2, &o, last, &err), PF_EINTERRUPTED);
        assert_non_null(strstr(err.msg, "cancel"));
    }
}

static void test_cpu_lists(void **state)
{
    (void)state;
    int c[16], n;
    pf_error err;
    assert_int_equal(pf_sdr_parse_cpus("0-3,8,10-11", c, 16, &n, &err), PF_OK);
    assert_int_equal(n, 7);
    assert_int_equal(c[4], 8);
    assert_int_equal(c[6], 11);
    assert_int_equal(pf_sdr_parse_cpus("1,1", c, 16, &n, &err), PF_EINVAL);
    assert_int_equal(pf_sdr_parse_cpus("3-1", c, 16, &n, &err), PF_EINVAL);
    assert_int_equal(pf_sdr_parse_cpus("a", c, 16, &n, &err), PF_EINVAL);
    assert_int_equal(pf_sdr_parse_cpus("0-20", c, 4, &n, &err), PF_EINVAL);
    assert_int_equal(pf_sdr_parse_cpus("", c, 4, &n, &err), PF_EINVAL);
    assert_int_equal(pf_sdr_parse_cpus("1,", c, 4, &n, &err), PF_OK);
    /* the default group: distinct CPUs this process may use */
    assert_int_equal(pf_sdr_core_group(NULL, 4, c, 16, &n, &err), PF_OK);
    assert_true(n >= 1 && n <= 4);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            assert_int_not_equal(c[i], c[j]);
    /* a given list is used whole, however many producers are wanted */
    assert_int_equal(pf_sdr_core_group("0-7", 2, c, 16, &n, &err), PF_OK);
    assert_int_equal(n, 8);
    assert_int_equal(pf_sdr_core_group("0-20", 2, c, 16, &n, &err), PF_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_api_1_0),
        cmocka_unit_test(test_vectors_api_1_1_and_1_2),
        cmocka_unit_test(test_vectors_multicore),
        cmocka_unit_test(test_ni_matches_portable),
        cmocka_unit_test(test_node_matches_plain_sha256),
        cmocka_unit_test(test_single_vs_multi_2kib),
        cmocka_unit_test(test_single_vs_multi_8mib),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_cpu_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
