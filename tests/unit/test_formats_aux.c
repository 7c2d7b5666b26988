/* test_formats_aux.c — the cache directory in rust's layout: p_aux and t_aux in
 * bincode (a real t_aux written by rust-fil-proofs for a 32GiB sector is reproduced byte
 * for byte), file names and sizes by merkletree's rules for every registered size, and
 * sealpipe-sealed 2KiB and 8MiB sectors checked against that layout before and after
 * clear_cache, with corruption detected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "format_internal.h"
#include "seal_fixture.h"
#include "sp_codec.h"

/* t_aux of a real 32GiB (V1_1) sector sealed by rust-fil-proofs, cache path
 * /data/1/store/cache/s-t02620-2010: filecoin-project/curio lib/proof/t_aux_test.go
 * TAuxGolden (commit 9045e34a, MIT / Apache-2.0). */
static const char t_aux_golden_b64[] =
    "CwAAAAAAAAAhAAAAAAAAAC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAA"
    "bGF5ZXItMQEAAABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAy"
    "NjIwLTIwMTAHAAAAAAAAAGxheWVyLTIBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9z"
    "dG9yZS9jYWNoZS9zLXQwMjYyMC0yMDEwBwAAAAAAAABsYXllci0zAQAAAEAAAAAAAAAAAAAAAAAh"
    "AAAAAAAAAC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAAbGF5ZXItNAEA"
    "AABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAH"
    "AAAAAAAAAGxheWVyLTUBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNo"
    "ZS9zLXQwMjYyMC0yMDEwBwAAAAAAAABsYXllci02AQAAAEAAAAAAAAAAAAAAAAAhAAAAAAAAAC9k"
    "YXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAAbGF5ZXItNwEAAABAAAAAAAAA"
    "AAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAHAAAAAAAAAGxh"
    "eWVyLTgBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNoZS9zLXQwMjYy"
    "MC0yMDEwBwAAAAAAAABsYXllci05AQAAAEAAAAAAAAAAAAAAAAAhAAAAAAAAAC9kYXRhLzEvc3Rv"
    "cmUvY2FjaGUvcy10MDI2MjAtMjAxMAgAAAAAAAAAbGF5ZXItMTABAAAAQAAAAAAAAAAAAAAAACEA"
    "AAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNoZS9zLXQwMjYyMC0yMDEwCAAAAAAAAABsYXllci0xMQEA"
    "AABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAG"
    "AAAAAAAAAHRyZWUtZAH///9/AAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hl"
    "L3MtdDAyNjIwLTIwMTALAAAAAAAAAHRyZWUtci1sYXN0AUmSJAkAAAAAAgAAAAAAAAAhAAAAAAAA"
    "AC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAYAAAAAAAAAdHJlZS1jAUmSJAkAAAAA"
    "AAAAAAAAAAA=";

#define GOLDEN_PATH "/data/1/store/cache/s-t02620-2010"

static uint8_t *golden(size_t *len)
{
    uint8_t *b;
    assert_int_equal(sp_base64_decode_alloc(t_aux_golden_b64, &b, len, NULL), SP_OK);
    assert_int_equal(*len, 1034);
    return b;
}

static void test_t_aux_golden(void **state)
{
    (void)state;
    size_t len;
    uint8_t *g = golden(&len);
    pf_t_aux t;
    pf_error err;
    assert_int_equal(pf_t_aux_decode(g, len, &t, &err), PF_OK);
    assert_int_equal(t.nlabels, 11);
    for (size_t i = 0; i < t.nlabels; i++) {
        char id[32];
        snprintf(id, sizeof id, "layer-%d", (int)i + 1);
        assert_string_equal(t.labels[i].path, GOLDEN_PATH);
        assert_string_equal(t.labels[i].id, id);
        assert_true(t.labels[i].has_size);
        assert_int_equal(t.labels[i].size, 1ull << 30);     /* nodes of 32GiB */
        assert_int_equal(t.labels[i].rows_to_discard, 0);
    }
    assert_string_equal(t.tree_d.id, "tree-d");
    assert_int_equal(t.tree_d.size, (1ull << 31) - 1);
    assert_string_equal(t.tree_r_last.id, "tree-r-last");
    assert_int_equal(t.tree_r_last.size, 153391689);         /* (8^10 - 1) / 7 */
    assert_int_equal(t.tree_r_last.rows_to_discard, 2);
    assert_string_equal(t.tree_c.id, "tree-c");
    assert_int_equal(t.tree_c.size, 153391689);
    assert_int_equal(t.tree_c.rows_to_discard, 0);
    /* re-encoded: the same bytes */
    uint8_t *b;
    size_t blen;
    assert_int_equal(pf_t_aux_encode(&t, &b, &blen, &err), PF_OK);
    assert_int_equal(blen, len);
    assert_memory_equal(b, g, len);
    free(b);
    /* it is exactly what sealpipe writes for a 32GiB V1_1 sector in that directory */
    pf_t_aux mine;
    assert_int_equal(pf_t_aux_make(8, GOLDEN_PATH, &mine, &err), PF_OK);
    assert_int_equal(pf_t_aux_encode(&mine, &b, &blen, &err), PF_OK);
    assert_int_equal(blen, len);
    assert_memory_equal(b, g, len);
    free(b);
    pf_t_aux_free(&mine);
    /* and sealpipe reads such sectors: 32GiB proofs pass, others do not */
    assert_int_equal(pf_t_aux_check(8, &t, &err), PF_OK);
    assert_int_equal(pf_t_aux_check(13, &t, &err), PF_OK);
    assert_int_equal(pf_t_aux_check(9, &t, &err), PF_EUNSUPPORTED);
    assert_int_equal(pf_t_aux_check(5, &t, &err), PF_EUNSUPPORTED);
    /* a sector sealed with FIL_PROOFS_ROWS_TO_DISCARD=3 is named as such */
    t.tree_r_last.rows_to_discard = 3;
    assert_int_equal(pf_t_aux_check(8, &t, &err), PF_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "FIL_PROOFS_ROWS_TO_DISCARD"));
    pf_t_aux_free(&t);
    free(g);
}

static void test_t_aux_decode_errors(void **state)
{
    (void)state;
    size_t len;
    uint8_t *g = golden(&len);
    pf_t_aux t;
    pf_error err;
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(pf_t_aux_decode(g, n, &t, &err), PF_EINVAL);
        assert_non_null(strstr(err.msg, "truncated"));
    }
    uint8_t *m = malloc(len + 1);
    memcpy(m, g, len);
    m[len] = 0;
    assert_int_equal(pf_t_aux_decode(m, len + 1, &t, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "oversized"));
    /* the path of layer-1 is not UTF-8 (rust's String refuses it) */
    memcpy(m, g, len);
    m[16] = 0xff;
    assert_int_equal(pf_t_aux_decode(m, len, &t, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "UTF-8"));
    assert_non_null(strstr(err.msg, "labels.labels[0].path"));
    /* Option tag 2 for layer-1's size (offset: 8 + 8 + 33 + 8 + 7) */
    memcpy(m, g, len);
    assert_int_equal(m[64], 1);
    m[64] = 2;
    assert_int_equal(pf_t_aux_decode(m, len, &t, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "Option tag 2"));
    /* 65 layers, a 2^40-byte path */
    memcpy(m, g, len);
    m[0] = 65;
    assert_int_equal(pf_t_aux_decode(m, len, &t, &err), PF_EINVAL);
    memcpy(m, g, len);
    m[13] = 1;
    assert_int_equal(pf_t_aux_decode(m, len, &t, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "at most 4096"));
    /* fuzz: whatever decodes re-encodes to the same bytes */
    srand(17);
    for (int r = 0; r < 4000; r++) {
        memcpy(m, g, len);
        size_t n = len;
        if (r % 5 == 0)
            n = (size_t)rand() % len;
        else
            for (int i = 0, k = 1 + rand() % 3; i < k; i++)
                m[(size_t)rand() % len] = (uint8_t)rand();
        if (pf_t_aux_decode(m, n, &t, &err) == PF_OK) {
            uint8_t *b;
            size_t blen;
            assert_int_equal(pf_t_aux_encode(&t, &b, &blen, &err), PF_OK);
            assert_int_equal(blen, n);
            assert_memory_equal(b, m, n);
            free(b);
            pf_t_aux_free(&t);
        } else {
            assert_true(err.msg[0] != 0);
        }
    }
    free(m);
    free(g);
}

static void test_t_aux_sizes(void **state)
{
    (void)state;
    /* 2KiB: 64 nodes, one 8-ary tree of 64 + 8 + 1, a 3-row tree discards 1 row;
     * 8MiB: 2^18 nodes, 2^18 + 2^15 + ... + 1 = 299593, rows_to_discard 2 */
    static const struct { int id; uint64_t nodes, tree, rtd; size_t layers; } want[] = {
        { 5, 64, 73, 1, 2 },
        { 6, 1u << 18, 299593, 2, 2 },
        { 7, 1u << 24, 19173961, 2, 2 },
        { 8, 1u << 30, 153391689, 2, 11 },
        { 9, 1ull << 31, 153391689, 2, 11 },
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        pf_t_aux t, back;
        pf_error err;
        assert_int_equal(pf_t_aux_make(want[i].id, "/var/tmp/cache dir/é", &t, &err), PF_OK);
        assert_int_equal(t.nlabels, want[i].layers);
        assert_int_equal(t.labels[0].size, want[i].nodes);
        assert_int_equal(t.tree_d.size, 2 * want[i].nodes - 1);
        assert_int_equal(t.tree_c.size, want[i].tree);
        assert_int_equal(t.tree_r_last.size, want[i].tree);
        assert_int_equal(t.tree_r_last.rows_to_discard, want[i].rtd);
        uint8_t *b, *b2;
        size_t blen, b2len;
        assert_int_equal(pf_t_aux_encode(&t, &b, &blen, &err), PF_OK);
        assert_int_equal(pf_t_aux_decode(b, blen, &back, &err), PF_OK);
        assert_int_equal(pf_t_aux_check(want[i].id, &back, &err), PF_OK);
        assert_int_equal(pf_t_aux_encode(&back, &b2, &b2len, &err), PF_OK);
        assert_int_equal(b2len, blen);
        assert_memory_equal(b2, b, blen);
        free(b);
        free(b2);
        pf_t_aux_free(&t);
        pf_t_aux_free(&back);
    }
    pf_t_aux t;
    pf_error err;
    assert_int_equal(pf_t_aux_make(5, "/tmp/\xff", &t, &err), PF_EINVAL);
    assert_int_equal(pf_t_aux_make(20, "/tmp", &t, &err), PF_EINVAL);
}

static void test_p_aux(void **state)
{
    (void)state;
    uint8_t c[32], r[32], b[64], c2[32], r2[32];
    for (int i = 0; i < 32; i++) {
        c[i] = (uint8_t)i;
        r[i] = (uint8_t)(100 + i);
    }
    pf_p_aux_encode(c, r, b);
    assert_memory_equal(b, c, 32);
    assert_memory_equal(b + 32, r, 32);
    pf_error err;
    assert_int_equal(pf_p_aux_decode(b, 64, c2, r2, &err), PF_OK);
    assert_memory_equal(c2, c, 32);
    assert_memory_equal(r2, r, 32);
    assert_int_equal(pf_p_aux_decode(b, 63, c2, r2, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_int_equal(pf_p_aux_decode(b, 65, c2, r2, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "oversized"));
}

/* File names and sizes by rust's rules (merkletree get_merkle_tree_len /
 * get_merkle_tree_cache_size with rows_to_discard 2; DiskStore = whole tree, LC = the rows
 * above the discarded ones). */
static void test_layout(void **state)
{
    (void)state;
    pf_cache_file *f;
    size_t n;
    pf_error err;
    /* 32GiB: 11 layers, tree-d, 8 tree-c and 8 tree-r-last files, p_aux, t_aux */
    assert_int_equal(pf_cache_layout(8, PF_CACHE_SEALED, &f, &n, &err), PF_OK);
    assert_int_equal(n, 11 + 1 + 8 + 8 + 2);
    assert_string_equal(f[0].name, "sc-02-data-layer-1.dat");
    assert_int_equal(f[0].bytes, 32ull << 30);
    assert_string_equal(f[10].name, "sc-02-data-layer-11.dat");
    assert_string_equal(f[11].name, "sc-02-data-tree-d.dat");
    assert_int_equal(f[11].bytes, ((2ull << 30) - 1) * 32);
    assert_string_equal(f[12].name, "sc-02-data-tree-c-0.dat");
    assert_int_equal(f[12].bytes, 153391689ull * 32);
    assert_string_equal(f[20].name, "sc-02-data-tree-r-last-0.dat");
    /* rows 3..9 of a 2^27-leaf 8-ary tree: 2^18 + 2^15 + ... + 8 + 1 nodes */
    assert_int_equal(f[20].bytes, 299593ull * 32);
    assert_string_equal(f[27].name, "sc-02-data-tree-r-last-7.dat");
    assert_string_equal(f[28].name, "p_aux");
    assert_int_equal(f[28].bytes, 64);
    assert_string_equal(f[29].name, "t_aux");
    free(f);
    /* 64GiB after clear_cache: 16 tree-r-last files */
    assert_int_equal(pf_cache_layout(9, PF_CACHE_CLEARED, &f, &n, &err), PF_OK);
    assert_int_equal(n, 16 + 2);
    assert_string_equal(f[15].name, "sc-02-data-tree-r-last-15.dat");
    assert_int_equal(f[15].bytes, 299593ull * 32);
    free(f);
    /* one base tree: no suffix; 2KiB keeps only the root, 8MiB rows 3..6, 512MiB rows 3..8 */
    static const struct { int id; uint64_t r_last, c; } one[] = {
        { 5, 1, 73 }, { 6, 512 + 64 + 8 + 1, 299593 }, { 7, 32768 + 4096 + 512 + 64 + 8 + 1, 19173961 },
    };
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(pf_cache_layout(one[i].id, PF_CACHE_SEALED, &f, &n, &err), PF_OK);
        assert_int_equal(n, 2 + 1 + 1 + 1 + 2);
        assert_string_equal(f[3].name, "sc-02-data-tree-c.dat");
        assert_int_equal(f[3].bytes, one[i].c * 32);
        assert_string_equal(f[4].name, "sc-02-data-tree-r-last.dat");
        assert_int_equal(f[4].bytes, one[i].r_last * 32);
        free(f);
    }
}

static void check_sealed(int proof_id)
{
    fx_sector s;
    assert_int_equal(fx_seal(&s, proof_id, FX_PATTERN, 5, 1), 0);
    pf_error err;
    /* PC2 wrote t_aux (rust's seal_commit_phase1 needs it) */
    char path[700];
    snprintf(path, sizeof path, "%s/t_aux", s.cache);
    assert_int_equal(access(path, F_OK), 0);
    pf_t_aux t;
    assert_int_equal(pf_t_aux_read(s.cache, &t, &err), PF_OK);
    assert_string_equal(t.tree_d.path, s.cache);
    pf_t_aux_free(&t);
    pf_status st = pf_cache_dir_check(proof_id, s.cache, PF_CACHE_SEALED, s.comm_d, s.comm_r, &err);
    if (st)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(st, PF_OK);
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_CLEARED, NULL, s.comm_r, &err),
                     PF_OK);
    /* wrong comm_d / comm_r are named */
    uint8_t bad[32];
    memcpy(bad, s.comm_d, 32);
    bad[0] ^= 1;
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_SEALED, bad, s.comm_r, &err),
                     PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "comm_d"));
    /* after clear_cache only the PoSt files are left, and they still check */
    int removed = 0;
    assert_int_equal(pf_clear_cache(s.cache, &removed, &err), PF_OK);
    assert_true(removed >= 4);
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_SEALED, s.comm_d, s.comm_r, &err),
                     PF_EIO);
    assert_non_null(strstr(err.msg, "sc-02-data-layer-1.dat"));
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_CLEARED, NULL, s.comm_r, &err),
                     PF_OK);
    /* a changed root in tree-r-last is found */
    snprintf(path, sizeof path, "%s/sc-02-data-tree-r-last.dat", s.cache);
    size_t len = 0;
    uint8_t *b = fx_read_file(path, &len);
    assert_non_null(b);
    b[len - 32] ^= 1;
    FILE *fp = fopen(path, "wb");
    fwrite(b, 1, len, fp);
    fclose(fp);
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_CLEARED, NULL, s.comm_r, &err),
                     PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "comm_r_last"));
    /* one node short */
    fp = fopen(path, "wb");
    fwrite(b, 1, len - 32, fp);
    fclose(fp);
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_CLEARED, NULL, s.comm_r, &err),
                     PF_ECORRUPT);
    assert_non_null(strstr(err.msg, "rust's layout has"));
    /* restored, and then a t_aux of another shape is refused */
    fp = fopen(path, "wb");
    b[len - 32] ^= 1;
    fwrite(b, 1, len, fp);
    fclose(fp);
    free(b);
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_CLEARED, NULL, s.comm_r, &err),
                     PF_OK);
    assert_int_equal(pf_t_aux_write(proof_id == 5 ? 6 : 5, s.cache, &err), PF_OK);
    assert_int_equal(pf_cache_dir_check(proof_id, s.cache, PF_CACHE_CLEARED, NULL, s.comm_r, &err),
                     PF_EUNSUPPORTED);
    assert_non_null(strstr(err.msg, "t_aux"));
    fx_free(&s);
}

static void test_sealed_2k(void **state)
{
    (void)state;
    check_sealed(5);
}

static void test_sealed_8m(void **state)
{
    (void)state;
    check_sealed(6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_aux_golden),
        cmocka_unit_test(test_t_aux_decode_errors),
        cmocka_unit_test(test_t_aux_sizes),
        cmocka_unit_test(test_p_aux),
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_sealed_2k),
        cmocka_unit_test(test_sealed_8m),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
