/* test_pieces.c — piece alignment, add_piece, CommD and tree_d.
 * Vectors: rust-fil-proofs filecoin-proofs/tests/pieces.rs (test_get_piece_alignment,
 * test_get_piece_start_byte, test_compute_comm_d_empty, test_verify_simple_pieces,
 * test_verify_padded_pieces).  Cross-checks: CommD of the pieces add_piece wrote equals the
 * tree_d root of the staged file (2 KiB and 8 MiB, several piece mixes); the tree_d file
 * equals a naive in-memory model byte for byte; inclusion paths hash to the root; every
 * error path leaves the staged file as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "data_internal.h"
#include "sealproofs.h"
#include "sha256.h"
#include "sp_codec.h"

#define P2K 5      /* StackedDrg2KiBV1_1 */
#define P8M 6      /* StackedDrg8MiBV1_1 */

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_pieces.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void fill_random(uint8_t *p, size_t n, unsigned *seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rand_r(seed) >> 7);
}

static void assert_hex(const uint8_t v[32], const char *want)
{
    char h[65];
    sp_hex_encode(v, 32, h);
    assert_string_equal(h, want);
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    return fd;
}

static off_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/* ---- alignment (pieces.rs tests) ---- */

static void test_alignment_table(void **state)
{
    (void)state;
    static const uint64_t t[][4] = {
        { 0, 0, 0, 127 },     { 0, 127, 0, 0 },     { 0, 254, 0, 0 },     { 0, 508, 0, 0 },
        { 0, 1016, 0, 0 },    { 127, 127, 0, 0 },   { 127, 254, 127, 0 }, { 127, 508, 381, 0 },
        { 100, 100, 27, 27 }, { 200, 200, 54, 54 }, { 300, 300, 208, 208 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        pf_piece_alignment a = pf_get_piece_alignment(t[i][0], t[i][1]);
        assert_int_equal(a.left, t[i][2]);
        assert_int_equal(a.right, t[i][3]);
    }
    uint64_t pieces[] = { 31, 32, 33 };
    assert_int_equal(pf_get_piece_start_byte(pieces, 0, pieces[0]), 0);
    assert_int_equal(pf_get_piece_start_byte(pieces, 1, pieces[1]), 127);
    assert_int_equal(pf_get_piece_start_byte(pieces, 2, pieces[2]), 254);
    uint64_t mix[] = { 127, 508, 254 };
    assert_int_equal(pf_sum_piece_bytes_with_alignment(mix, 3), 127 + 381 + 508 + 254);
}

/* ---- CommD from pieces ---- */

static void test_comm_d_empty(void **state)
{
    (void)state;
    uint8_t c[32];
    pf_error e;
    /* test_compute_comm_d_empty: 2048 bytes given as decimal bytes 252,126,146,...; 128 bytes */
    assert_int_equal(pf_comm_d(2048, NULL, 0, c, &e), PF_OK);
    assert_hex(c, "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833");
    assert_int_equal(pf_comm_d(128, NULL, 0, c, &e), PF_OK);
    assert_hex(c, "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333");
    assert_int_equal(pf_comm_d(3000, NULL, 0, c, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "3000"));
}

static void h(const uint8_t *a, const uint8_t *b, uint8_t *out)
{
    pf_sha256_node(a, b, out);
}

static void test_comm_d_simple_and_padded(void **state)
{
    (void)state;
    unsigned seed = 2;
    /* test_verify_simple_pieces: a b c d of 127 bytes in a 512-byte sector */
    pf_piece_info a, b, c, d, e4, f4, g;
    fill_random(a.comm_p, 32, &seed);
    fill_random(b.comm_p, 32, &seed);
    fill_random(c.comm_p, 32, &seed);
    fill_random(d.comm_p, 32, &seed);
    a.size = b.size = c.size = d.size = 127;
    h(a.comm_p, b.comm_p, e4.comm_p);
    h(c.comm_p, d.comm_p, f4.comm_p);
    h(e4.comm_p, f4.comm_p, g.comm_p);
    e4.size = f4.size = 254;
    g.size = 508;
    uint8_t out[32];
    pf_piece_info l1[] = { a, b, c, d }, l2[] = { e4, c, d }, l3[] = { e4, f4 }, l4[] = { a, b, f4 },
                  l5[] = { g };
    assert_int_equal(pf_comm_d(512, l1, 4, out, NULL), PF_OK);
    assert_memory_equal(out, g.comm_p, 32);
    assert_int_equal(pf_comm_d(512, l2, 3, out, NULL), PF_OK);
    assert_memory_equal(out, g.comm_p, 32);
    assert_int_equal(pf_comm_d(512, l3, 2, out, NULL), PF_OK);
    assert_memory_equal(out, g.comm_p, 32);
    assert_int_equal(pf_comm_d(512, l4, 3, out, NULL), PF_OK);
    assert_memory_equal(out, g.comm_p, 32);
    assert_int_equal(pf_comm_d(512, l5, 1, out, NULL), PF_OK);
    assert_memory_equal(out, g.comm_p, 32);

    /* test_verify_padded_pieces: A(1) B(4) C(2) D(8) in a 32*128-byte sector */
    pf_piece_info p[4];
    for (int i = 0; i < 4; i++)
        memset(p[i].comm_p, i + 1, 32);
    p[0].size = 127;
    p[1].size = 4 * 127;
    p[2].size = 2 * 127;
    p[3].size = 8 * 127;
    const uint8_t *pad = pf_zero_comm_level(2), *A = p[0].comm_p, *B = p[1].comm_p,
                  *C = p[2].comm_p, *D = p[3].comm_p;
    uint8_t l1n[12][32], l2n[7][32], l3n[4][32], l4n[2][32], want[32];
    h(A, pad, l1n[0]);
    h(pad, pad, l1n[1]);
    memcpy(l1n[2], B, 32);
    memcpy(l1n[3], C, 32);
    for (int i = 4; i < 7; i++)
        h(pad, pad, l1n[i]);
    memcpy(l1n[7], D, 32);
    for (int i = 8; i < 12; i++)
        h(pad, pad, l1n[i]);
    h(l1n[0], l1n[1], l2n[0]);
    memcpy(l2n[1], l1n[2], 32);
    h(l1n[3], l1n[4], l2n[2]);
    h(l1n[5], l1n[6], l2n[3]);
    memcpy(l2n[4], l1n[7], 32);
    h(l1n[8], l1n[9], l2n[5]);
    h(l1n[10], l1n[11], l2n[6]);
    h(l2n[0], l2n[1], l3n[0]);
    h(l2n[2], l2n[3], l3n[1]);
    memcpy(l3n[2], l2n[4], 32);
    h(l2n[5], l2n[6], l3n[3]);
    h(l3n[0], l3n[1], l4n[0]);
    h(l3n[2], l3n[3], l4n[1]);
    h(l4n[0], l4n[1], want);
    assert_int_equal(pf_comm_d(32 * 128, p, 4, out, NULL), PF_OK);
    assert_memory_equal(out, want, 32);
}

static void test_comm_d_errors(void **state)
{
    (void)state;
    pf_piece_info p[3];
    memset(p, 0, sizeof p);
    uint8_t out[32];
    pf_error e;
    p[0].size = 100;
    assert_int_equal(pf_comm_d(2048, p, 1, out, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "piece 0"));
    p[0].size = 4064;   /* 4 KiB padded into a 2 KiB sector */
    assert_int_equal(pf_comm_d(2048, p, 1, out, &e), PF_EINVAL);
    /* 1024 + 512 + 256 padded fit; 256 + 1024 + 512 fit by sum, but the 1024-byte piece
     * must start at 1024, leaving no room for the last one */
    p[0].size = 1016;
    p[1].size = 508;
    p[2].size = 254;
    assert_int_equal(pf_comm_d(2048, p, 3, out, &e), PF_OK);
    p[0].size = 254;
    p[1].size = 1016;
    p[2].size = 508;
    assert_int_equal(pf_comm_d(2048, p, 3, out, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "alignment"));
}

/* ---- add_piece + tree_d ---- */

/* Naive tree_d: every level of the zero-extended staged data, hashed with plain SHA-256. */
static uint8_t *naive_tree(const uint8_t *staged, size_t len, uint64_t nodes)
{
    uint8_t *t = calloc(2 * nodes - 1, 32);
    memcpy(t, staged, len);
    uint64_t in = 0, out = nodes;
    for (uint64_t n = nodes; n > 1; n /= 2) {
        for (uint64_t i = 0; i < n / 2; i++) {
            pf_sha256(t + 32 * (in + 2 * i), 64, t + 32 * (out + i));
            pf_trim(t + 32 * (out + i));
        }
        in = out;
        out += n / 2;
    }
    return t;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    uint8_t *buf = malloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (got < (size_t)sb.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);
        assert_true(r > 0);
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
}

static void check_tree_file(const char *cache, const char *staged, uint64_t nodes)
{
    char tree_path[512];
    assert_int_equal(pf_tree_d_path_name(cache, tree_path, sizeof tree_path), 0);
    size_t slen, tlen;
    uint8_t *s = read_file(staged, &slen), *t = read_file(tree_path, &tlen);
    uint8_t *model = naive_tree(s, slen, nodes);
    assert_int_equal(tlen, pf_tree_d_file_size(nodes));
    assert_memory_equal(t, model, tlen);
    free(s);
    free(t);
    free(model);
}

/* Inclusion paths of a few leaves hash back to the root. */
static void check_paths(const char *cache, uint64_t nodes, unsigned *seed)
{
    unsigned levels = pf_log2_u64(nodes);
    uint8_t root[32], sib[40][32], leaf[32], acc[32];
    assert_int_equal(pf_tree_d_root(cache, nodes, root, NULL), PF_OK);
    for (int k = 0; k < 6; k++) {
        uint64_t i = k == 0 ? 0 : k == 1 ? nodes - 1 : (uint64_t)rand_r(seed) % nodes;
        assert_int_equal(pf_tree_d_node(cache, nodes, 0, i, leaf, NULL), PF_OK);
        assert_int_equal(pf_tree_d_path(cache, nodes, i, sib, NULL), PF_OK);
        memcpy(acc, leaf, 32);
        for (unsigned l = 0; l < levels; l++) {
            if ((i >> l) & 1)
                pf_sha256_node(sib[l], acc, acc);
            else
                pf_sha256_node(acc, sib[l], acc);
        }
        assert_memory_equal(acc, root, 32);
    }
}

/* Adds random pieces of the given sizes with alignment; returns their infos. */
static void add_pieces(int proof, const char *staged, const uint64_t *sizes, size_t n,
                       pf_piece_info *infos, unsigned *seed)
{
    int dst = open(staged, O_CREAT | O_TRUNC | O_RDWR, 0644);
    assert_true(dst >= 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t *data = malloc(sizes[i]);
        fill_random(data, sizes[i], seed);
        char src_path[512];
        path_in(src_path, sizeof src_path, "piece.raw");
        int src = write_file(src_path, data, sizes[i]);
        pf_add_piece_result r;
        pf_error e;
        off_t before = lseek(dst, 0, SEEK_END);
        assert_int_equal(pf_add_piece(proof, src, sizes[i], dst, sizes, i, &r, &e), PF_OK);
        uint8_t want[32];
        uint64_t padded;
        assert_int_equal(pf_commp_buf(data, sizes[i], want, &padded, NULL), PF_OK);
        assert_memory_equal(r.comm_p, want, 32);
        assert_int_equal(r.padded_size, padded);
        assert_int_equal(r.piece_size, sizes[i]);
        pf_piece_alignment al = pf_get_piece_alignment(pf_sum_piece_bytes_with_alignment(sizes, i),
                                                       sizes[i]);
        assert_int_equal(r.left_alignment, al.left);
        assert_int_equal(r.total_write, al.left + sizes[i]);
        assert_int_equal(r.offset, (uint64_t)before + al.left / 127 * 128);
        assert_int_equal(lseek(dst, 0, SEEK_END), (off_t)(r.offset + padded));
        /* the piece bytes in the staged file unpad to the data */
        uint8_t *back = malloc(padded);
        assert_int_equal(pread(dst, back, padded, (off_t)r.offset), (ssize_t)padded);
        uint8_t *raw = malloc(sizes[i]);
        assert_int_equal(pf_fr32_unpad(back, padded, 0, raw, sizes[i], NULL), PF_OK);
        assert_memory_equal(raw, data, sizes[i]);
        memcpy(infos[i].comm_p, r.comm_p, 32);
        infos[i].size = sizes[i];
        close(src);
        free(back);
        free(raw);
        free(data);
    }
    close(dst);
}

static void run_mix(int proof, const uint64_t *sizes, size_t n, int naive, unsigned *seed)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof);
    char staged[512], cache[512];
    path_in(staged, sizeof staged, "staged");
    path_in(cache, sizeof cache, "cache");
    mkdir(cache, 0755);
    pf_piece_info infos[16];
    add_pieces(proof, staged, sizes, n, infos, seed);
    uint8_t comm_d[32], root[32], stored[32];
    pf_error e;
    assert_int_equal(pf_comm_d(info->sector_size, infos, n, comm_d, &e), PF_OK);
    assert_int_equal(pf_tree_d_build(proof, staged, cache, root, &e), PF_OK);
    assert_memory_equal(root, comm_d, 32);
    assert_int_equal(pf_tree_d_root(cache, info->nodes, stored, &e), PF_OK);
    assert_memory_equal(stored, comm_d, 32);
    if (naive)
        check_tree_file(cache, staged, info->nodes);
    check_paths(cache, info->nodes, seed);
}

static void test_add_piece_tree_d_2k(void **state)
{
    (void)state;
    unsigned seed = 21;
    static const uint64_t m1[] = { 127 }, m2[] = { 127, 508, 254 }, m3[] = { 254, 127, 127, 1016 },
                          m4[] = { 2032 }, m5[] = { 127, 127, 127, 127, 127, 127, 127, 127, 127 };
    run_mix(P2K, m1, 1, 1, &seed);
    run_mix(P2K, m2, 3, 1, &seed);
    run_mix(P2K, m3, 4, 1, &seed);
    run_mix(P2K, m4, 1, 1, &seed);
    run_mix(P2K, m5, 9, 1, &seed);
}

static void test_add_piece_tree_d_8m(void **state)
{
    (void)state;
    unsigned seed = 31;
    /* 8 MiB = 2^18 leaves: 16 builder chunks, upper levels from chunk roots */
    static const uint64_t m1[] = { 127 * 1024, 127 * 4096, 127, 127 * 16384 },
                          m2[] = { 127 * 32768, 127 * 8192, 127 * 2 };
    run_mix(P8M, m1, 4, 1, &seed);
    run_mix(P8M, m2, 3, 0, &seed);
}

static void test_tree_d_staged_shapes(void **state)
{
    (void)state;
    char staged[512], cache[512];
    path_in(staged, sizeof staged, "shape");
    path_in(cache, sizeof cache, "cache-shape");
    mkdir(cache, 0755);
    uint8_t root[32];
    pf_error e;
    /* empty staged file: the zero sector */
    close(write_file(staged, NULL, 0));
    assert_int_equal(pf_tree_d_build(P2K, staged, cache, root, &e), PF_OK);
    assert_memory_equal(root, pf_zero_comm_level(6), 32);
    check_tree_file(cache, staged, 64);
    /* /dev/zero, as PC1 accepts for CC sectors */
    assert_int_equal(pf_tree_d_build(P8M, "/dev/zero", cache, root, &e), PF_OK);
    assert_memory_equal(root, pf_zero_comm_level(18), 32);
    /* a length that ends inside a node */
    unsigned seed = 4;
    uint8_t data[1000];
    fill_random(data, sizeof data, &seed);
    close(write_file(staged, data, 1000));
    assert_int_equal(pf_tree_d_build_nodes(64, staged, cache, root, &e), PF_OK);
    check_tree_file(cache, staged, 64);
    /* the smallest tree */
    assert_int_equal(pf_tree_d_build_nodes(2, staged, cache, root, &e), PF_EINVAL);   /* too big */
    close(write_file(staged, data, 64));
    /* a temporary file left by a crashed build is removed by the next build */
    char stale[600];
    snprintf(stale, sizeof stale, "%s/%s.tmp-crash1", cache, PF_TREE_D_FILE);
    close(write_file(stale, data, 100));
    assert_int_equal(pf_tree_d_build_nodes(2, staged, cache, root, &e), PF_OK);
    check_tree_file(cache, staged, 2);
    /* no temporary file is left behind */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", cache);
    assert_int_not_equal(system(cmd), 0);
}

static void test_tree_d_errors(void **state)
{
    (void)state;
    char staged[512], cache[512], missing[512];
    path_in(staged, sizeof staged, "err-staged");
    path_in(cache, sizeof cache, "cache-err");
    path_in(missing, sizeof missing, "no-such-dir");
    mkdir(cache, 0755);
    uint8_t root[32], sib[8][32];
    pf_error e;
    uint8_t big[4096] = { 0 };
    close(write_file(staged, big, sizeof big));
    assert_int_equal(pf_tree_d_build(P2K, staged, cache, root, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "4096 bytes"));
    assert_int_equal(pf_tree_d_build(99, staged, cache, root, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "99"));
    assert_int_equal(pf_tree_d_build(P2K, missing, cache, root, &e), PF_EIO);
    assert_non_null(strstr(e.msg, "no-such-dir"));
    close(write_file(staged, big, 2048));
    assert_int_equal(pf_tree_d_build(P2K, staged, missing, root, &e), PF_EIO);
    assert_non_null(strstr(e.msg, "no-such-dir"));
    /* reading: missing file, wrong size, bad indexes */
    assert_int_equal(pf_tree_d_root(cache, 64, root, &e), PF_EIO);
    assert_int_equal(pf_tree_d_build(P2K, staged, cache, root, &e), PF_OK);
    assert_int_equal(pf_tree_d_root(cache, 128, root, &e), PF_ECORRUPT);
    assert_non_null(strstr(e.msg, "expected"));
    assert_int_equal(pf_tree_d_path(cache, 64, 64, sib, &e), PF_EINVAL);
    assert_int_equal(pf_tree_d_node(cache, 64, 7, 0, root, &e), PF_EINVAL);
    assert_int_equal(pf_tree_d_node(cache, 64, 6, 1, root, &e), PF_EINVAL);
    assert_int_equal(pf_tree_d_node(cache, 63, 0, 0, root, &e), PF_EINVAL);

    /* a file size limit makes writing fail like a full disk; nothing is left behind */
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = { 1000, 1000 };
        setrlimit(RLIMIT_FSIZE, &rl);
        char sub[600];
        snprintf(sub, sizeof sub, "%s/full", cache);
        mkdir(sub, 0755);
        pf_status st = pf_tree_d_build(P2K, staged, sub, root, &e);
        char cmd[700];
        snprintf(cmd, sizeof cmd, "test -z \"$(ls '%s')\"", sub);
        _exit(st == PF_ENOSPC && system(cmd) == 0 ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_add_piece_errors(void **state)
{
    (void)state;
    char staged[512], src_path[512];
    path_in(staged, sizeof staged, "err-add");
    path_in(src_path, sizeof src_path, "err-src");
    uint8_t data[4064];
    unsigned seed = 9;
    fill_random(data, sizeof data, &seed);
    int src = write_file(src_path, data, 508);
    int dst = write_file(staged, NULL, 0);
    pf_add_piece_result r;
    pf_error e;
    uint64_t existing[] = { 127 };

    assert_int_equal(pf_add_piece(P2K, src, 100, dst, NULL, 0, &r, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "127*2^k"));
    assert_int_equal(pf_add_piece(42, src, 127, dst, NULL, 0, &r, &e), PF_EINVAL);
    assert_int_equal(pf_add_piece(P2K, src, 4064, dst, NULL, 0, &r, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "does not fit"));
    /* the staged file does not hold the existing piece */
    assert_int_equal(pf_add_piece(P2K, src, 127, dst, existing, 1, &r, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "existing"));
    assert_int_equal(file_size(staged), 0);
    /* the source is shorter than its stated size: the staged file is rolled back */
    assert_int_equal(pf_add_piece(P2K, src, 1016, dst, NULL, 0, &r, &e), PF_EIO);
    assert_non_null(strstr(e.msg, "508 of 1016"));
    assert_int_equal(file_size(staged), 0);
    /* longer than stated: rust reads to EOF and refuses */
    assert_int_equal(lseek(src, 0, SEEK_SET), 0);
    assert_int_equal(pf_add_piece(P2K, src, 254, dst, NULL, 0, &r, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "more than"));
    assert_int_equal(file_size(staged), 0);
    /* a good piece, then a second one after rollback of a failed one */
    assert_int_equal(lseek(src, 0, SEEK_SET), 0);
    assert_int_equal(pf_add_piece(P2K, src, 508, dst, NULL, 0, &r, &e), PF_OK);
    assert_int_equal(file_size(staged), 512);
    assert_int_equal(lseek(src, 0, SEEK_SET), 0);
    uint64_t ex508[] = { 508 };
    assert_int_equal(pf_add_piece(P2K, src, 1016, dst, ex508, 1, &r, &e), PF_EIO);
    assert_int_equal(file_size(staged), 512);
    /* a full disk */
    int full = open("/dev/full", O_WRONLY);
    if (full >= 0) {
        assert_int_equal(lseek(src, 0, SEEK_SET), 0);
        assert_int_equal(pf_add_piece(P2K, src, 508, full, NULL, 0, &r, &e), PF_ENOSPC);
        assert_non_null(strstr(e.msg, "space"));
        close(full);
    }
    close(src);
    close(dst);
}

static void test_fill_and_without_alignment(void **state)
{
    (void)state;
    char staged[512], src_path[512];
    path_in(staged, sizeof staged, "fill");
    path_in(src_path, sizeof src_path, "fill-src");
    uint8_t data[700], c[32];
    uint64_t padded;
    unsigned seed = 12;
    fill_random(data, sizeof data, &seed);
    int src = write_file(src_path, data, sizeof data);
    int dst = write_file(staged, NULL, 0);
    pf_add_piece_result r;
    /* 700 raw bytes become a 1016-byte piece, CommP as for the zero-filled data */
    assert_int_equal(pf_add_piece_fill(P2K, src, 700, dst, NULL, 0, &r, NULL), PF_OK);
    assert_int_equal(pf_commp_buf(data, 700, c, &padded, NULL), PF_OK);
    assert_memory_equal(r.comm_p, c, 32);
    assert_int_equal(r.piece_size, 1016);
    assert_int_equal(file_size(staged), 1024);
    /* without alignment: a 127-byte piece goes right after, not aligned */
    assert_int_equal(lseek(src, 0, SEEK_SET), 0);
    int src2 = write_file(src_path, data, 127);
    close(src);
    int dst2 = open(staged, O_RDWR);
    assert_int_equal(lseek(dst2, 0, SEEK_END), 1024);
    assert_int_equal(pf_write_without_alignment(P2K, src2, 127, dst2, &r, NULL), PF_OK);
    assert_int_equal(r.left_alignment, 0);
    assert_int_equal(r.total_write, 127);
    assert_int_equal(r.offset, 1024);
    assert_int_equal(file_size(staged), 1152);
    close(src2);
    close(dst2);
    close(dst);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_table),
        cmocka_unit_test(test_comm_d_empty),
        cmocka_unit_test(test_comm_d_simple_and_padded),
        cmocka_unit_test(test_comm_d_errors),
        cmocka_unit_test(test_add_piece_tree_d_2k),
        cmocka_unit_test(test_add_piece_tree_d_8m),
        cmocka_unit_test(test_tree_d_staged_shapes),
        cmocka_unit_test(test_tree_d_errors),
        cmocka_unit_test(test_add_piece_errors),
        cmocka_unit_test(test_fill_and_without_alignment),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
