/* test_commp.c — the binary SHA-256 tree and CommP: node hashing against plain SHA-256,
 * the zero-commitment table (shared/research/porep.md §3.3: the 128 B and 2 KiB values are
 * rust-fil-proofs test values, 32 GiB and 64 GiB are the empty-sector CommD CIDs in
 * go-fil-commcid's commcid_test.go), CommP of the data(n) vectors (porep.md §10.4) and of
 * go-fil-commcid's TestMultihashes data (127 bytes each of 0,1,2,3, with zero tails), the
 * chunked builder against a naive whole-tree model, and fd == buffer == streaming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "data_internal.h"
#include "sealproofs.h"
#include "sha256.h"
#include "sp_codec.h"

static void assert_hex(const uint8_t v[32], const char *want)
{
    char h[65];
    sp_hex_encode(v, 32, h);
    assert_string_equal(h, want);
}

static void fill_random(uint8_t *p, size_t n, unsigned *seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rand_r(seed) >> 7);
}

/* Naive model: fr32 the zero-filled piece, hash every level with the streaming SHA-256. */
static void naive_commp(const uint8_t *data, size_t len, uint8_t out[32], uint64_t *padded_out)
{
    uint64_t unpadded = 127;
    while (unpadded < len)
        unpadded *= 2;
    uint8_t *raw = calloc(1, unpadded);
    memcpy(raw, data, len);
    size_t padded = unpadded / 127 * 128;
    uint8_t *level = malloc(padded);
    assert_int_equal(pf_fr32_pad(raw, unpadded, level), padded);
    for (size_t n = padded / 32; n > 1; n /= 2)
        for (size_t i = 0; i < n / 2; i++) {
            uint8_t h[32];
            pf_sha256(level + 64 * i, 64, h);
            h[31] &= 0x3f;
            memcpy(level + 32 * i, h, 32);
        }
    memcpy(out, level, 32);
    *padded_out = padded;
    free(raw);
    free(level);
}

static void test_hash_pairs(void **state)
{
    (void)state;
    unsigned seed = 1;
    uint8_t in[64 * 37], out[32 * 38], ref[32];
    fill_random(in, sizeof in, &seed);
    for (size_t n = 0; n <= 37; n++) {   /* every group size: 8-way, 2-way and single */
        memset(out, 0xaa, sizeof out);
        pf_sha256_hash_pairs(in, out, n);
        for (size_t i = 0; i < n; i++) {
            pf_sha256(in + 64 * i, 64, ref);
            pf_trim(ref);
            assert_memory_equal(out + 32 * i, ref, 32);
        }
        assert_int_equal(out[32 * n], 0xaa);   /* nothing written past the last pair */
    }
    /* in place, as tree levels are reduced */
    uint8_t copy[sizeof in];
    memcpy(copy, in, sizeof in);
    pf_sha256_hash_pairs(copy, copy, 37);
    pf_sha256_hash_pairs(in, out, 37);
    assert_memory_equal(copy, out, 32 * 37);
    /* pf_sha256_node */
    uint8_t node[32];
    pf_sha256_node(in, in + 32, node);
    assert_memory_equal(node, out, 32);
}

static void test_zero_table(void **state)
{
    (void)state;
    /* shared/research/porep.md §3.3: 2^6 .. 2^36 bytes */
    static const char *const z[] = {
        "f5a5fd42d16a20302798ef6ed309979b43003d2320d9f0e8ea9831a92759fb0b",
        "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333",
        "642a607ef886b004bf2c1978463ae1d4693ac0f410eb2d1b7a47fe205e5e750f",
        "57a2381a28652bf47f6bef7aca679be4aede5871ab5cf3eb2c08114488cb8526",
        "1f7ac9595510e09ea41c460b176430bb322cd6fb412ec57cb17d989a4310372f",
        "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833",
        "08c47b38ee13bc43f41b915c0eed9911a26086b3ed62401bf9d58b8d19dff624",
        "b2e47bfb11facd941f62af5c750f3ea5cc4df517d5c4f16db2b4d77baec1a32f",
        "f9226160c8f927bfdcc418cdf203493146008eaefb7d02194d5e548189005108",
        "2c1a964bb90b59ebfe0f6da29ad65ae3e417724a8f7c11745a40cac1e5e74011",
        "fee378cef16404b199ede0b13e11b624ff9d784fbbed878d83297e795e024f02",
        "8e9e2403fa884cf6237f60df25f83ee40dca9ed879eb6f6352d15084f5ad0d3f",
        "752d9693fa167524395476e317a98580f00947afb7a30540d625a9291cc12a07",
        "7022f60f7ef6adfa17117a52619e30cea82c68075adf1c667786ec506eef2d19",
        "d99887b973573a96e11393645236c17b1f4c7034d723c7a99f709bb4da61162b",
        "d0b530dbb0b4f25c5d2f2a28dfee808b53412a02931f18c499f5a254086b1326",
        "84c0421ba0685a01bf795a2344064fe424bd52a9d24377b394ff4c4b4568e811",
        "65f29e5d98d246c38b388cfc06db1f6b021303c5a289000bdce832a9c3ec421c",
        "a2247508285850965b7e334b3127b0c042b1d046dc54402137627cd8799ce13a",
        "dafdab6da9364453c26d33726b9fefe343be8f81649ec009aad3faff50617508",
        "d941d5e0d6314a995c33ffbd4fbe69118d73d4e5fd2cd31f0f7c86ebdd14e706",
        "514c435c3d04d349a5365fbd59ffc713629111785991c1a3c53af22079741a2f",
        "ad06853969d37d34ff08e09f56930a4ad19a89def60cbfee7e1d3381c1e71c37",
        "39560e7b13a93b07a243fd2720ffa7cb3e1d2e505ab3629e79f46313512cda06",
        "ccc3c012f5b05e811a2bbfdd0f6833b84275b47bf229c0052a82484f3c1a5b3d",
        "7df29b69773199e8f2b40b77919d048509eed768e2c7297b1f1437034fc3c62c",
        "66ce05a3667552cf45c02bcc4e8392919bdeac35de2ff56271848e9f7b675107",
        "d8610218425ab5e95b1ca6239d29a2e420d706a96f373e2f9c9a91d759d19b01",
        "6d364b1ef846441a5a4a68862314acc0a46f016717e53443e839eedf83c2853c",
        "077e5fde35c50a9303a55009e3498a4ebedff39c42b710b730d8ec7ac7afa63e",
        "e64005a6bfe3777953b8ad6ef93f0fca1049b2041654f2a411f7702799cece02",
    };
    uint8_t zero[32] = { 0 };
    assert_memory_equal(pf_zero_comm_level(0), zero, 32);
    for (unsigned k = 1; k <= 31; k++)
        assert_hex(pf_zero_comm_level(k), z[k - 1]);
    assert_null(pf_zero_comm_level(PF_ZERO_COMM_MAX_LEVEL + 1));
    uint8_t v[32];
    pf_error e;
    assert_int_equal(pf_zero_comm(2048, v, &e), PF_OK);
    assert_hex(v, z[5]);
    assert_int_equal(pf_zero_comm(34359738368ULL, v, &e), PF_OK);
    char cid[PF_COMMCID_STR_MAX];
    assert_int_equal(pf_commcid_encode(PF_COMM_UNSEALED, v, cid, sizeof cid, &e), PF_OK);
    assert_string_equal(cid, "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq");
    assert_int_equal(pf_zero_comm(68719476736ULL, v, &e), PF_OK);
    assert_int_equal(pf_commcid_encode(PF_COMM_UNSEALED, v, cid, sizeof cid, &e), PF_OK);
    assert_string_equal(cid, "baga6ea4seaqomqafu276g53zko4k23xzh4h4uecjwicbmvhsuqi7o4bhthhm4aq");
    assert_int_equal(pf_zero_comm(3000, v, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "3000"));
    assert_int_equal(pf_zero_comm(16, v, &e), PF_EINVAL);
}

static void test_commp_vectors(void **state)
{
    (void)state;
    uint8_t d[200], c[32];
    uint64_t padded;
    pf_error e;
    /* porep.md §10.4: data(n) = (i*7 + i/251) mod 256 */
    for (int i = 0; i < 200; i++)
        d[i] = (uint8_t)((i * 7 + i / 251) % 256);
    assert_int_equal(pf_commp_buf(NULL, 0, c, &padded, &e), PF_OK);
    assert_hex(c, "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333");
    assert_int_equal(padded, 128);
    assert_int_equal(pf_commp_buf(d, 126, c, &padded, &e), PF_OK);
    assert_hex(c, "e7174a9e17b4eab0299c33fb7a5376d9a780ab93cc4873777a7452ed32ecaf14");
    assert_int_equal(pf_commp_buf(d, 127, c, &padded, &e), PF_OK);
    assert_hex(c, "b3c22ed2e440d87a1dfcf2c7c21bc887742acfbba9d00954a0132b99445dc523");
    assert_int_equal(padded, 128);
    assert_int_equal(pf_commp_buf(d, 128, c, &padded, &e), PF_OK);
    assert_int_equal(padded, 256);

    /* go-fil-commcid commcid_test.go TestMultihashes / TestPieceCidV2 fixtures */
    uint8_t v[1016] = { 0 };
    for (int i = 0; i < 508; i++)
        v[i] = (uint8_t)(i / 127);
    char cid[PF_COMMCID_STR_MAX];
    struct {
        size_t len;
        uint64_t padded;
        const char *cid;
    } cases[] = {
        { 508, 512, "baga6ea4seaqes3nobte6ezpp4wqan2age2s5yxcatzotcvobhgcmv5wi2xh5mbi" },
        { 1016, 1024, "baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa" },
        { 512, 1024, "baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa" },
        { 513, 1024, "baga6ea4seaqn42av3szurbbscwuu3zjssvfwbpsvbjf6y3tukvlgl2nf5rha6pa" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(pf_commp_buf(v, cases[i].len, c, &padded, &e), PF_OK);
        assert_int_equal(padded, cases[i].padded);
        assert_int_equal(pf_commcid_encode(PF_COMM_UNSEALED, c, cid, sizeof cid, &e), PF_OK);
        assert_string_equal(cid, cases[i].cid);
    }
}

static void test_commp_matches_naive(void **state)
{
    (void)state;
    unsigned seed = 77;
    /* sizes around block, chunk (2^14 leaves = 516096 raw bytes) and power-of-two edges */
    size_t sizes[] = { 1, 126, 127, 128, 254, 255, 1000, 1016, 4064, 65024, 516095, 516096,
                       516097, 1032192, 1500000, 2064384, 2064385 };
    uint8_t *data = malloc(2064385);
    fill_random(data, 2064385, &seed);
    /* an all-zero chunk in the middle exercises the zero-chunk shortcut */
    memset(data + 516096, 0, 516096);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t a[32], b[32];
        uint64_t pa, pb;
        naive_commp(data, sizes[i], a, &pa);
        assert_int_equal(pf_commp_buf(data, sizes[i], b, &pb, NULL), PF_OK);
        assert_int_equal(pa, pb);
        assert_memory_equal(a, b, 32);
    }
    free(data);
}

static void test_commp_fd_and_stream(void **state)
{
    (void)state;
    unsigned seed = 8;
    size_t len = 3 * 1000 * 1000 + 17;
    uint8_t *data = malloc(len);
    fill_random(data, len, &seed);
    uint8_t want[32], got[32];
    uint64_t pw, pg, payload;
    assert_int_equal(pf_commp_buf(data, len, want, &pw, NULL), PF_OK);
    assert_int_equal(pw, 4ULL << 20);

    char path[] = "/tmp/test_commp.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(pf_commp_fd(fd, len, got, &payload, &pg, NULL), PF_OK);
    assert_memory_equal(got, want, 32);
    assert_int_equal(payload, len);
    assert_int_equal(pg, pw);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(pf_commp_fd(fd, PF_COMMP_TO_EOF, got, &payload, &pg, NULL), PF_OK);
    assert_memory_equal(got, want, 32);
    assert_int_equal(payload, len);
    /* asking for more than the file holds is an error that says how much was there */
    pf_error e;
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    assert_int_equal(pf_commp_fd(fd, len + 1, got, &payload, &pg, &e), PF_EIO);
    assert_non_null(strstr(e.msg, "3000017 of 3000018"));
    /* a bad descriptor */
    assert_int_equal(pf_commp_fd(-1, 10, got, &payload, &pg, &e), PF_EIO);
    close(fd);
    unlink(path);

    /* streaming in uneven pieces, then reusing the context */
    pf_commp_ctx *c = pf_commp_new(NULL);
    assert_non_null(c);
    for (int round = 0; round < 2; round++) {
        size_t off = 0;
        while (off < len) {
            size_t n = (size_t)rand_r(&seed) % 70000;
            if (n > len - off)
                n = len - off;
            pf_commp_update(c, data + off, n);
            off += n;
        }
        assert_int_equal(pf_commp_finish(c, got, &payload, &pg, NULL), PF_OK);
        assert_memory_equal(got, want, 32);
        assert_int_equal(payload, len);
        pf_commp_reset(c);
    }
    pf_commp_free(c);
    free(data);
}

static void test_piece_sizes(void **state)
{
    (void)state;
    assert_true(pf_piece_size_valid(127));
    assert_true(pf_piece_size_valid(254));
    assert_true(pf_piece_size_valid(34091302912ULL));
    assert_false(pf_piece_size_valid(0));
    assert_false(pf_piece_size_valid(128));
    assert_false(pf_piece_size_valid(381));
    assert_false(pf_piece_size_valid(100));
    assert_int_equal(pf_piece_unpadded_for_payload(0), 127);
    assert_int_equal(pf_piece_unpadded_for_payload(127), 127);
    assert_int_equal(pf_piece_unpadded_for_payload(128), 254);
    assert_int_equal(pf_piece_unpadded_for_payload(1040384), 1040384);
    assert_int_equal(pf_piece_unpadded_for_payload(1u << 20), 2080768);
    assert_int_equal(pf_piece_padded_size(1040384), 1u << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_pairs),
        cmocka_unit_test(test_zero_table),
        cmocka_unit_test(test_commp_vectors),
        cmocka_unit_test(test_commp_matches_naive),
        cmocka_unit_test(test_commp_fd_and_stream),
        cmocka_unit_test(test_piece_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
