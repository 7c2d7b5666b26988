/* test_graph.c — SDR graph primitives: ChaCha (RFC 7539 and 8-round vectors), BLAKE2b
 * (RFC 7693 and the BLAKE2 KAT), the Feistel permutation, DRG and expander parents per
 * node, whole parent-table digests pinned by rust-fil-proofs, and the parent cache file
 * (name, generation, corruption detected and repaired, concurrent generation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blake2b.h"
#include "chacha.h"
#include "graph.h"
#include "parent_cache.h"
#include "sealproofs.h"
#include "sha256.h"
#include "sp_codec.h"

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    sp_hex_encode(b, n, out);
}

static void assert_hex(const uint8_t *b, size_t n, const char *want)
{
    char h[300];
    assert_true(n * 2 < sizeof h);
    hex_of(b, n, h);
    assert_string_equal(h, want);
}

static void words_to_bytes(const uint32_t w[16], uint8_t out[64])
{
    for (int i = 0; i < 64; i++)
        out[i] = (uint8_t)(w[i / 4] >> (8 * (i % 4)));
}

/* ---- ChaCha ---- */

static void test_chacha20_rfc7539_block(void **state)
{
    (void)state;
    /* RFC 7539 §2.3.2: key 00..1f, nonce 00000009 0000004a 00000000, block counter 1. */
    uint8_t key[32], nonce[12] = { 0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0 };
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    uint8_t ks[64] = { 0 };
    pf_chacha_ietf_xor(key, nonce, 1, 20, ks, sizeof ks);
    assert_hex(ks, 64,
               "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
               "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
}

static void test_chacha20_rfc7539_encrypt(void **state)
{
    (void)state;
    /* RFC 7539 §2.4.2: the "sunscreen" plaintext, key 00..1f, nonce 0000000000004a00000000,
     * initial counter 1 (114 bytes: crosses two block boundaries, ends mid-block). */
    uint8_t key[32], nonce[12] = { 0, 0, 0, 0, 0, 0, 0, 0x4a, 0, 0, 0, 0 };
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    char pt[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
                "the future, sunscreen would be it.";
    assert_int_equal(strlen(pt), 114);
    pf_chacha_ietf_xor(key, nonce, 1, 20, (uint8_t *)pt, 114);
    assert_hex((uint8_t *)pt, 114,
               "6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0b"
               "f91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d8"
               "07ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab7793736"
               "5af90bbf74a35be6b40b8eedf2785e42874d");
}

static void test_chacha8_zero_key(void **state)
{
    (void)state;
    /* draft-strombergson-chacha-test-vectors-00, TC1 (all-zero 256-bit key and IV),
     * 8 rounds, first keystream block. */
    uint8_t key[32] = { 0 };
    uint32_t w[16];
    pf_chacha_block_rand(key, 0, 0, 8, w);
    uint8_t b[64];
    words_to_bytes(w, b);
    assert_hex(b, 64,
               "3e00ef2f895f40d67f5bb8e81f09a5a12c840ec3ce9a7f3b181be188ef711a1e"
               "984ce172b9216f419f445367456d5619314a42a3da86b001387bfdb80e0cfe42");
    /* The same block with 20 rounds is the well-known zero-key ChaCha20 keystream
     * (RFC 7539 §A.1 test vector #1). */
    pf_chacha_block_rand(key, 0, 0, 20, w);
    words_to_bytes(w, b);
    assert_hex(b, 64,
               "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
               "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
}

static void test_chacha_rng_crosses_blocks(void **state)
{
    (void)state;
    /* rand_chacha's next_u64 joins consecutive words low first, also across blocks. */
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)(i * 7 + 1);
    uint32_t b0[16], b1[16];
    pf_chacha_block_rand(seed, 0, 0, 8, b0);
    pf_chacha_block_rand(seed, 1, 0, 8, b1);
    pf_chacha_rng r;
    pf_chacha_rng_init(&r, seed, 8);
    assert_int_equal(pf_chacha_rng_u32(&r), b0[0]);
    for (int i = 0; i < 7; i++)
        assert_true(pf_chacha_rng_u64(&r) == ((uint64_t)b0[2 * i + 2] << 32 | b0[2 * i + 1]));
    assert_true(pf_chacha_rng_u64(&r) == ((uint64_t)b1[0] << 32 | b0[15]));
    assert_true(pf_chacha_rng_u64(&r) == ((uint64_t)b1[2] << 32 | b1[1]));
}

/* ---- BLAKE2b ---- */

static void test_blake2b_vectors(void **state)
{
    (void)state;
    uint8_t out[64], key[64], msg[255];
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 255; i++)
        msg[i] = (uint8_t)i;
    /* RFC 7693 Appendix A: BLAKE2b-512("abc"). */
    assert_int_equal(pf_blake2b(out, 64, NULL, 0, "abc", 3), 0);
    assert_hex(out, 64,
               "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
               "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
    /* BLAKE2 reference blake2b-kat.txt (keyed, key 00..3f): entries 0 and 255. */
    pf_blake2b(out, 64, key, 64, msg, 0);
    assert_hex(out, 64,
               "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
               "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568");
    pf_blake2b(out, 64, key, 64, msg, 255);
    assert_hex(out, 64,
               "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e9248"
               "4be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461");
    /* 32-byte output (parameter block digest length 32): BLAKE2b-256("abc") from the
     * reference implementation (CPython hashlib.blake2b(digest_size=32)). */
    pf_blake2b(out, 32, NULL, 0, "abc", 3);
    assert_hex(out, 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    /* Bad lengths are refused, not clamped. */
    assert_int_equal(pf_blake2b(out, 0, NULL, 0, "", 0), -1);
    assert_int_equal(pf_blake2b(out, 65, NULL, 0, "", 0), -1);
    assert_int_equal(pf_blake2b(out, 32, key, 65, "", 0), -1);
}

static void test_blake2b_streaming_and_feistel(void **state)
{
    (void)state;
    uint8_t msg[1000], a[64], b[64], key[40];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 31 + 7);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(200 - i);
    static const size_t lens[] = { 0, 1, 127, 128, 129, 255, 256, 257, 1000 };
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        pf_blake2b(a, 48, key, sizeof key, msg, lens[l]);
        pf_blake2b_ctx c;
        assert_int_equal(pf_blake2b_init(&c, 48, key, sizeof key), 0);
        for (size_t at = 0, step = 1; at < lens[l]; at += step, step = step * 3 % 97 + 1)
            pf_blake2b_update(&c, msg + at, at + step > lens[l] ? lens[l] - at : step);
        pf_blake2b_final(&c, b);
        assert_memory_equal(a, b, 48);
    }
    /* The specialised Feistel hash is the first 8 bytes (big-endian) of the generic one. */
    for (uint64_t i = 0; i < 50; i++) {
        uint64_t x = i * 0x9e3779b97f4a7c15ULL, k = ~i * 0xc2b2ae3d27d4eb4fULL;
        uint8_t m[16];
        for (int j = 0; j < 8; j++) {
            m[j] = (uint8_t)(x >> (56 - 8 * j));
            m[8 + j] = (uint8_t)(k >> (56 - 8 * j));
        }
        pf_blake2b(a, 64, NULL, 0, m, 16);
        uint64_t want = 0;
        for (int j = 0; j < 8; j++)
            want = want << 8 | a[j];
        assert_true(pf_blake2b_feistel(x, k) == want);
    }
}

/* ---- Graph ---- */

static void test_graph_seeds(void **state)
{
    (void)state;
    /* research/porep.md §10.2: StackedDrg2KiBV1_1 (porep_id 05 00..). */
    pf_graph g;
    assert_int_equal(pf_graph_init_proof(&g, 5, NULL), PF_OK);
    assert_hex(g.drg_seed, 28, "3be68542ec229705b99be29c2106b0e4222ccd1d0311398ea4d22d7d");
    assert_true(g.feistel_keys[0] == 0x90b15b1c4509e47aULL);
    assert_true(g.feistel_keys[1] == 0xdc5378c03df3f21bULL);
    assert_true(g.feistel_keys[2] == 0xfa76fc24deb9d7acULL);
    assert_true(g.feistel_keys[3] == 0xcdec5e11f7b30a54ULL);
    assert_int_equal(g.feistel_half_bits, 5);
    /* Half widths per size (porep.md §5.2). */
    static const struct { int id; unsigned k; } hb[] = { { 6, 11 }, { 7, 14 }, { 8, 17 }, { 9, 17 } };
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pf_graph_init_proof(&g, hb[i].id, NULL), PF_OK);
        assert_int_equal(g.feistel_half_bits, hb[i].k);
    }
    pf_error err;
    assert_int_equal(pf_graph_init_proof(&g, 20, &err), PF_EINVAL);
    assert_non_null(strstr(err.msg, "not registered"));
    uint8_t pid[32] = { 0 };
    assert_int_equal(pf_graph_init(&g, 1, pid, 110, &err), PF_EINVAL);
    assert_int_equal(pf_graph_init(&g, 64, pid, 111, &err), PF_EINVAL);
}

static void check_node(const pf_graph *g, uint64_t node, const uint32_t want[PF_DEGREE])
{
    uint32_t got[PF_DEGREE];
    pf_graph_parents(g, node, got);
    for (int i = 0; i < PF_DEGREE; i++) {
        if (got[i] != want[i])
            fail_msg("node %llu parent %d: got %u want %u", (unsigned long long)node, i, got[i],
                     want[i]);
    }
}

static void test_graph_node_parents(void **state)
{
    (void)state;
    /* research/porep.md §10.2, format [6 base | 8 expander]. */
    pf_graph g;
    assert_int_equal(pf_graph_init_proof(&g, 5, NULL), PF_OK);
    check_node(&g, 0, (const uint32_t[]){ 0, 0, 0, 0, 0, 0, 4, 9, 60, 1, 14, 26, 26, 4 });
    check_node(&g, 1, (const uint32_t[]){ 0, 0, 0, 0, 0, 0, 6, 12, 35, 43, 23, 34, 58, 2 });
    check_node(&g, 2, (const uint32_t[]){ 1, 1, 1, 0, 1, 0, 30, 28, 55, 63, 63, 36, 37, 36 });
    check_node(&g, 3, (const uint32_t[]){ 2, 1, 1, 2, 2, 2, 10, 46, 59, 7, 43, 29, 9, 16 });
    check_node(&g, 63, (const uint32_t[]){ 62, 15, 42, 62, 61, 62, 0, 15, 30, 30, 28, 42, 49, 38 });
    /* Legacy (API 1.0): predecessor last. */
    assert_int_equal(pf_graph_init_proof(&g, 0, NULL), PF_OK);
    check_node(&g, 2, (const uint32_t[]){ 0, 1, 1, 1, 1, 1, 32, 49, 26, 57, 3, 4, 47, 63 });
    check_node(&g, 3, (const uint32_t[]){ 1, 2, 1, 2, 1, 2, 55, 45, 29, 45, 51, 53, 56, 44 });
    check_node(&g, 63, (const uint32_t[]){ 62, 61, 56, 62, 37, 62, 49, 37, 35, 41, 52, 50, 54, 5 });
}

static void test_graph_properties(void **state)
{
    (void)state;
    /* Upstream graph_bucket: no self parent, predecessor in its API's position, parents
     * below the node; expander parents inside the graph. */
    static const uint64_t sizes[] = { 4, 16, 256, 2048, 1000 };
    for (int api = 0; api < 2; api++) {
        uint8_t pid[32] = { 0 };
        pid[0] = api ? 5 : 0;
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            pf_graph g;
            assert_int_equal(pf_graph_init(&g, sizes[s], pid, api ? 120 : 100, NULL), PF_OK);
            for (uint64_t v = 2; v < sizes[s]; v++) {
                uint32_t p[PF_DEGREE];
                pf_graph_parents(&g, v, p);
                assert_int_equal(p[api ? 0 : 5], v - 1);
                for (int i = 0; i < PF_BASE_DEGREE; i++)
                    assert_true(p[i] < v);
                for (int i = PF_BASE_DEGREE; i < PF_DEGREE; i++)
                    assert_true(p[i] < sizes[s]);
            }
        }
    }
}

static void test_feistel_permutation(void **state)
{
    (void)state;
    /* Upstream test_shuffle: keys [1,2,3,4] over n = 1024 * 8 is a permutation; also the
     * domains that need cycle walking (not powers of 4). */
    static const uint64_t nodes[] = { 1024, 5, 6, 17, 100 };
    for (size_t t = 0; t < sizeof nodes / sizeof nodes[0]; t++) {
        pf_graph g;
        uint8_t pid[32] = { 0 };
        assert_int_equal(pf_graph_init(&g, nodes[t], pid, 110, NULL), PF_OK);
        for (int i = 0; i < 4; i++)
            g.feistel_keys[i] = (uint64_t)i + 1;
        uint64_t n = g.feistel_domain;
        uint8_t *seen = calloc(n, 1);
        assert_non_null(seen);
        for (uint64_t i = 0; i < n; i++) {
            uint64_t p = pf_feistel_permute(&g, i);
            assert_true(p < n);
            assert_int_equal(seen[p], 0);
            seen[p] = 1;
        }
        free(seen);
    }
}

static void test_feistel_avx2_matches_scalar(void **state)
{
    (void)state;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2"))
        skip();
    static const uint64_t nodes[] = { 5, 64, 1000, 1u << 18, 1u << 30, 1ull << 31 };
    uint64_t in[203], out[203];
    for (size_t t = 0; t < sizeof nodes / sizeof nodes[0]; t++) {
        pf_graph g;
        uint8_t pid[32] = { (uint8_t)(t + 3) };
        assert_int_equal(pf_graph_init(&g, nodes[t], pid, 110, NULL), PF_OK);
        for (size_t n = 0; n <= 203; n += 29) {   /* batch sizes not multiples of 4, and 0 */
            for (size_t i = 0; i < n; i++)
                in[i] = (i * 0x9e3779b97f4a7c15ULL + t) % g.feistel_domain;
            pf_feistel_permute_many_avx2(&g, in, out, n);
            for (size_t i = 0; i < n; i++)
                assert_true(out[i] == pf_feistel_permute(&g, in[i]));
        }
    }
    /* The batched table path, including API 1.0's u32 truncation high in a 64GiB graph
     * (expander values >= 2^32 there). */
    for (int proof = 4; proof <= 9; proof += 5) {
        pf_graph g;
        assert_int_equal(pf_graph_init_proof(&g, proof, NULL), PF_OK);
        uint32_t table[300 * PF_DEGREE], row[PF_DEGREE];
        uint64_t first = g.nodes - 300;
        pf_graph_fill_table(&g, first, 300, table, 2);
        int high = 0;
        for (uint64_t i = 0; i < 300; i++) {
            pf_graph_parents(&g, first + i, row);
            assert_memory_equal(row, table + i * PF_DEGREE, sizeof row);
            for (int e = 0; e < PF_EXP_DEGREE; e++)
                high |= pf_feistel_permute(&g, (first + i) * PF_EXP_DEGREE + (uint64_t)e) >> 32 != 0;
        }
        assert_true(high);
    }
}

static void table_digest_hex(int proof, char hex[65])
{
    pf_graph g;
    uint8_t d[32];
    assert_int_equal(pf_graph_init_proof(&g, proof, NULL), PF_OK);
    assert_int_equal(pf_parent_table_write(&g, -1, 0, d, NULL), PF_OK);
    hex_of(d, 32, hex);
}

static void test_table_digests(void **state)
{
    (void)state;
    /* rust-fil-proofs storage-proofs-porep/parent_cache.json (research/porep.md §5.3). */
    char h[65];
    table_digest_hex(0, h);
    assert_string_equal(h, "3da49221e2ed55371b86d0bf3d6526fcf128af61bed904f966428db1b531750d");
    table_digest_hex(5, h);
    assert_string_equal(h, "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97");
    table_digest_hex(6, h);
    assert_string_equal(h, "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab");
    /* 8MiB V1 was not run by the research model; it is pinned upstream. */
    table_digest_hex(1, h);
    assert_string_equal(h, "a76604f2f59f2744c7151653bbb1d8596b6b57d295e6fa6c1f0c41d725b502ce");
}

static void test_cache_names(void **state)
{
    (void)state;
    /* All ten file names of parent_cache.json (porep.md §5.3) and their pinned digests. */
    static const char *const names[10] = {
        "3f0eef38bb48af1f48ad65e14eb85b4ebfc167cec18cd81764f6d998836c9899",
        "dcdabb0fbe4364bf0ac28b6a18c66de246409fa1a9020a00f33fb3e3053da6dc",
        "2aa9c77c3e58259481351cc4be2079cc71e1c9af39700866545c043bfa30fb42",
        "e1fa5d5b811ddbd118be3412c4a8c329156b8b8acc72632bca459455b5a05a13",
        "8a99e8d6b6be7ab87a56b632e6739ff201c23ea14e99737c74690f0e265574d6",
        "494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b",
        "5eed212119fd91aa6220a27f31a8966444a9381842bceb3a1ea61525bd47a5b5",
        "7ba215a1d2345774ab90b8cb1158d296e409d6068819d7b8c7baf0b25d63dc34",
        "21981246c370f9d76c7a77ab273d94bde0ceb4e938292334960bce05585dc117",
        "4905486b7af19558ac3649bc6261411858b6add534438878c4ee3b29d8b9de0b",
    };
    for (int id = 0; id < 20; id++) {
        pf_graph g;
        char path[512], want[512];
        uint8_t d[32];
        assert_int_equal(pf_graph_init_proof(&g, id, NULL), PF_OK);
        assert_int_equal(pf_parent_cache_path(&g, "/x", path, sizeof path), 0);
        if (id < 10) {
            snprintf(want, sizeof want, "/x/v28-sdr-parent-%s.cache", names[id]);
            assert_string_equal(path, want);
            assert_int_equal(pf_parent_cache_pinned_digest(&g, d), 1);
        } else {
            /* Synthetic and NI ids have their own graphs and no pinned digest. */
            assert_int_equal(pf_parent_cache_pinned_digest(&g, d), 0);
        }
    }
    char small[16];
    pf_graph g;
    pf_graph_init_proof(&g, 5, NULL);
    assert_int_equal(pf_parent_cache_path(&g, "/x", small, sizeof small), -1);
    /* Directory precedence: argument, then the environment, then the default. */
    setenv("FIL_PROOFS_PARENT_CACHE", "/from/env", 1);
    assert_string_equal(pf_parent_cache_dir("/arg"), "/arg");
    assert_string_equal(pf_parent_cache_dir(NULL), "/from/env");
    unsetenv("FIL_PROOFS_PARENT_CACHE");
    assert_string_equal(pf_parent_cache_dir(""), "/var/tmp/filecoin-parents");
}

/* ---- Parent cache files ---- */

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void flip_byte(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, at), 1);
    b ^= 0x5a;
    assert_int_equal(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

static void file_sha(const char *path, char hex[65])
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat sb;
    fstat(fd, &sb);
    uint8_t *buf = malloc((size_t)sb.st_size + 1);
    assert_int_equal(read(fd, buf, (size_t)sb.st_size), sb.st_size);
    close(fd);
    uint8_t d[32];
    pf_sha256(buf, (size_t)sb.st_size, d);
    free(buf);
    hex_of(d, 32, hex);
}

static void test_cache_generate_and_repair(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_graph.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);   /* created on demand */
    pf_graph g;
    pf_graph_init_proof(&g, 5, NULL);
    pf_parent_cache_result r;
    pf_error err;
    assert_int_equal(pf_parent_cache_ensure(&g, sub, 2, &r, &err), PF_OK);
    assert_int_equal(r.generated, 1);
    assert_int_equal(r.pinned, 1);
    assert_int_equal(r.was_corrupt, 0);
    char want[512], h[65];
    snprintf(want, sizeof want,
             "%s/v28-sdr-parent-494d91dc80f2df5272c4b9e129bc7ade9405225993af9fe34e6542a39a47554b.cache",
             sub);
    assert_string_equal(r.path, want);
    file_sha(r.path, h);
    assert_string_equal(h, "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97");
    struct stat sb;
    assert_int_equal(stat(r.path, &sb), 0);
    assert_int_equal(sb.st_size, 64 * 56);

    /* Second call: verified, not regenerated. */
    assert_int_equal(pf_parent_cache_ensure(&g, sub, 2, &r, &err), PF_OK);
    assert_int_equal(r.generated, 0);

    /* One corrupted byte is detected and the file regenerated. */
    flip_byte(r.path, 1000);
    file_sha(r.path, h);
    assert_string_not_equal(h, "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97");
    assert_int_equal(pf_parent_cache_ensure(&g, sub, 2, &r, &err), PF_OK);
    assert_int_equal(r.generated, 1);
    assert_int_equal(r.was_corrupt, 1);
    file_sha(r.path, h);
    assert_string_equal(h, "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97");

    /* A truncated file too. */
    assert_int_equal(truncate(r.path, 100), 0);
    assert_int_equal(pf_parent_cache_ensure(&g, sub, 1, &r, &err), PF_OK);
    assert_int_equal(r.was_corrupt, 1);
    file_sha(r.path, h);
    assert_string_equal(h, "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97");
    rm_rf(dir);
}

static void test_cache_synthetic_side_digest(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_graph.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pf_graph g;
    pf_graph_init_proof(&g, 10, NULL);   /* 2KiB SyntheticPoRep: no pinned digest */
    pf_parent_cache_result r;
    pf_error err;
    assert_int_equal(pf_parent_cache_ensure(&g, dir, 1, &r, &err), PF_OK);
    assert_int_equal(r.generated, 1);
    assert_int_equal(r.pinned, 0);
    char side[4200], h[65], text[80] = { 0 };
    snprintf(side, sizeof side, "%s.digest", r.path);
    FILE *f = fopen(side, "r");
    assert_non_null(f);
    assert_true(fread(text, 1, 64, f) == 64);
    fclose(f);
    file_sha(r.path, h);
    assert_string_equal(text, h);
    /* The synthetic graph differs from the plain V1_1 one of the same size. */
    assert_string_not_equal(h, "840057702eea7652cf97e04306c30fe57174714d90de156a25eddd6075c25b97");
    assert_int_equal(pf_parent_cache_ensure(&g, dir, 1, &r, &err), PF_OK);
    assert_int_equal(r.generated, 0);
    flip_byte(r.path, 7);
    assert_int_equal(pf_parent_cache_ensure(&g, dir, 1, &r, &err), PF_OK);
    assert_int_equal(r.was_corrupt, 1);
    char h2[65];
    file_sha(r.path, h2);
    assert_string_equal(h2, h);
    /* Without its record the file cannot be trusted and is regenerated. */
    unlink(side);
    assert_int_equal(pf_parent_cache_ensure(&g, dir, 1, &r, &err), PF_OK);
    assert_int_equal(r.generated, 1);
    assert_int_equal(access(side, F_OK), 0);
    rm_rf(dir);
}

static void test_cache_concurrent(void **state)
{
    (void)state;
    /* Four processes ask for the same 8MiB cache at once: it is generated once, and every
     * one of them returns a verified file. */
    char dir[] = "/tmp/test_graph.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pf_graph g;
    pf_graph_init_proof(&g, 6, NULL);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            pf_parent_cache_result r;
            pf_error err;
            pf_status st = pf_parent_cache_ensure(&g, dir, 1, &r, &err);
            _exit(st != PF_OK ? 2 : r.generated ? 10 : 0);
        }
    }
    int generated = 0;
    for (int i = 0; i < 4; i++) {
        int ws;
        assert_int_equal(waitpid(kids[i], &ws, 0), kids[i]);
        assert_true(WIFEXITED(ws));
        assert_true(WEXITSTATUS(ws) == 0 || WEXITSTATUS(ws) == 10);
        generated += WEXITSTATUS(ws) == 10;
    }
    assert_int_equal(generated, 1);
    pf_parent_cache_result r;
    assert_int_equal(pf_parent_cache_ensure(&g, dir, 1, &r, NULL), PF_OK);
    assert_int_equal(r.generated, 0);
    char h[65];
    hex_of(r.digest, 32, h);
    assert_string_equal(h, "03cd13565ded97c240a5f52e54295ad127bd0461b57904cb3a4d79b097bbecab");
    rm_rf(dir);
}

static void test_cache_cancel(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_graph.XXXXXX";
    assert_non_null(mkdtemp(dir));
    pf_graph g;
    pf_graph_init_proof(&g, 6, NULL);
    volatile int cancel = 1;
    pf_parent_cache_result r;
    pf_error err;
    assert_int_equal(pf_parent_cache_ensure_cancel(&g, dir, 1, &cancel, &r, &err), PF_EINTERRUPTED);
    assert_non_null(strstr(err.msg, "cancelled"));
    assert_int_not_equal(access(r.path, F_OK), 0);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", r.path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* an existing file: verification is cancelled too, and the file stays */
    cancel = 0;
    assert_int_equal(pf_parent_cache_ensure_cancel(&g, dir, 1, &cancel, &r, &err), PF_OK);
    cancel = 1;
    assert_int_equal(pf_parent_cache_ensure_cancel(&g, dir, 1, &cancel, &r, &err), PF_EINTERRUPTED);
    assert_int_equal(access(r.path, F_OK), 0);
    rm_rf(dir);
}

static void test_cache_unwritable_dir(void **state)
{
    (void)state;
    pf_graph g;
    pf_graph_init_proof(&g, 5, NULL);
    pf_parent_cache_result r;
    pf_error err;
    pf_status st = pf_parent_cache_ensure(&g, "/proc/no/such/dir", 1, &r, &err);
    assert_int_not_equal(st, PF_OK);
    assert_non_null(strstr(err.msg, "/proc/no"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chacha20_rfc7539_block),
        cmocka_unit_test(test_chacha20_rfc7539_encrypt),
        cmocka_unit_test(test_chacha8_zero_key),
        cmocka_unit_test(test_chacha_rng_crosses_blocks),
        cmocka_unit_test(test_blake2b_vectors),
        cmocka_unit_test(test_blake2b_streaming_and_feistel),
        cmocka_unit_test(test_graph_seeds),
        cmocka_unit_test(test_graph_node_parents),
        cmocka_unit_test(test_graph_properties),
        cmocka_unit_test(test_feistel_permutation),
        cmocka_unit_test(test_feistel_avx2_matches_scalar),
        cmocka_unit_test(test_table_digests),
        cmocka_unit_test(test_cache_names),
        cmocka_unit_test(test_cache_generate_and_repair),
        cmocka_unit_test(test_cache_synthetic_side_digest),
        cmocka_unit_test(test_cache_concurrent),
        cmocka_unit_test(test_cache_cancel),
        cmocka_unit_test(test_cache_unwritable_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
