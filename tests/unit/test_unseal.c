/* test_unseal.c — unseal_range and clear_cache: multi-piece 2KiB and 8MiB sectors built
 * with add_piece, sealed, then every piece unsealed back to its original bytes (labels
 * regenerated in memory, and through PC1 in a scratch directory); unaligned ranges, the
 * whole sector, wrong inputs and ranges rejected; clear_cache keeps exactly what PoSt
 * needs and PoSt still works after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commit_internal.h"
#include "seal_fixture.h"

typedef struct piece {
    uint64_t size;              /* unpadded, 127 * 2^k */
    uint64_t start;             /* unpadded offset in the sector */
    uint8_t *data;
} piece;

typedef struct u_state {
    fx_sector k2, m8;
    piece k2_pieces[4], m8_pieces[5];
} u_state;

/* Writes the pieces with add_piece into a staged file, checks comm_d of the pieces, and
 * seals the result (the fixture seals from the unpadded sector bytes). */
static int seal_pieces(fx_sector *x, int proof_id, piece *ps, size_t n, uint64_t sector_id)
{
    const pf_seal_proof_info *info = pf_seal_proof(proof_id);
    char dir[] = "/tmp/sealpipe-unseal.XXXXXX", staged[64], src[64];
    if (!mkdtemp(dir))
        return -1;
    snprintf(staged, sizeof staged, "%s/staged", dir);
    snprintf(src, sizeof src, "%s/piece", dir);
    int out = open(staged, O_RDWR | O_CREAT | O_TRUNC, 0644);
    uint64_t existing[8];
    pf_piece_info infos[8];
    pf_error err;
    for (size_t i = 0; i < n; i++) {
        ps[i].data = malloc(ps[i].size);
        fx_pattern(ps[i].data, ps[i].size, 31 * i + sector_id);
        ps[i].start = pf_get_piece_start_byte(existing, i, ps[i].size);
        FILE *f = fopen(src, "wb");
        fwrite(ps[i].data, 1, ps[i].size, f);
        fclose(f);
        int in = open(src, O_RDONLY);
        pf_add_piece_result r;
        if (pf_add_piece(proof_id, in, ps[i].size, out, existing, i, &r, &err)) {
            fprintf(stderr, "add_piece: %s\n", err.msg);
            return -1;
        }
        close(in);
        existing[i] = ps[i].size;
        memcpy(infos[i].comm_p, r.comm_p, 32);
        infos[i].size = ps[i].size;
    }
    close(out);
    size_t len;
    uint8_t *padded = fx_read_file(staged, &len);
    uint64_t max = pf_max_user_bytes(info->sector_size);
    uint8_t *unpadded = calloc(1, max);
    assert_int_equal(pf_fr32_unpad(padded, len, 0, unpadded,
                                   (size_t)pf_fr32_to_unpadded_bytes(len), &err), PF_OK);
    for (size_t i = 0; i < n; i++)
        assert_memory_equal(unpadded + ps[i].start, ps[i].data, ps[i].size);
    int rc = fx_seal_bytes(x, proof_id, unpadded, sector_id, (uint8_t)sector_id);
    uint8_t comm_d[32];
    assert_int_equal(pf_comm_d(info->sector_size, infos, n, comm_d, &err), PF_OK);
    assert_memory_equal(comm_d, x->comm_d, 32);
    free(padded);
    free(unpadded);
    unlink(staged);
    unlink(src);
    rmdir(dir);
    return rc;
}

static int setup(void **state)
{
    u_state *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    *state = s;
    uint64_t k2[4] = { 127, 254, 508, 127 };
    uint64_t m8[5] = { 508, 127 * 1024, 2032, 254, 127 * 32768 };
    for (int i = 0; i < 4; i++)
        s->k2_pieces[i].size = k2[i];
    for (int i = 0; i < 5; i++)
        s->m8_pieces[i].size = m8[i];
    if (seal_pieces(&s->k2, 5, s->k2_pieces, 4, 21) || seal_pieces(&s->m8, 6, s->m8_pieces, 5, 22))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    u_state *s = *state;
    for (int i = 0; i < 4; i++)
        free(s->k2_pieces[i].data);
    for (int i = 0; i < 5; i++)
        free(s->m8_pieces[i].data);
    fx_free(&s->k2);
    fx_free(&s->m8);
    free(s);
    return 0;
}

/* Unseals [offset, offset + length) into a file and returns its bytes. */
static uint8_t *unseal(const fx_sector *x, uint64_t offset, uint64_t length, uint64_t mem_nodes,
                       pf_status *st, pf_error *err)
{
    char path[700];
    snprintf(path, sizeof path, "%s/unsealed", x->root);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    /* something already in the file: unseal writes at the current position */
    assert_int_equal(write(fd, "HDR", 3), 3);
    *st = pf_unseal_range_with(x->proof_id, x->cache, x->sealed, fd, x->sector_id, x->prover_id,
                               x->ticket, x->comm_d, offset, length, mem_nodes, x->parents, err);
    close(fd);
    size_t len;
    uint8_t *b = fx_read_file(path, &len);
    assert_non_null(b);
    assert_memory_equal(b, "HDR", 3);
    if (*st == PF_OK)
        assert_int_equal(len, 3 + length);
    memmove(b, b + 3, len - 3);
    return b;
}

static void check_pieces(const fx_sector *x, const piece *ps, size_t n, uint64_t mem_nodes)
{
    pf_status st;
    pf_error err;
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = unseal(x, ps[i].start, ps[i].size, mem_nodes, &st, &err);
        if (st)
            fail_msg("piece %zu: %s", i, err.msg);
        assert_memory_equal(b, ps[i].data, ps[i].size);
        free(b);
    }
}

static void test_2k_pieces(void **state)
{
    u_state *s = *state;
    check_pieces(&s->k2, s->k2_pieces, 4, 1ULL << 20);
    /* the same with the key regenerated by PC1 in a scratch directory */
    check_pieces(&s->k2, s->k2_pieces, 4, 0);
    /* the scratch directory is gone */
    DIR *d = opendir(s->k2.cache);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".unseal"));
    closedir(d);
}

static void test_2k_ranges(void **state)
{
    u_state *s = *state;
    const fx_sector *x = &s->k2;
    pf_status st;
    pf_error err;
    /* whole sector, unaligned ranges, single bytes at block edges */
    const uint64_t ranges[][2] = { { 0, 2032 }, { 100, 1000 }, { 126, 2 }, { 127, 1 },
                                   { 2031, 1 }, { 1, 2030 }, { 300, 0 } };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        uint8_t *b = unseal(x, ranges[i][0], ranges[i][1], 1ULL << 20, &st, &err);
        if (st)
            fail_msg("range %zu: %s", i, err.msg);
        assert_memory_equal(b, x->unpadded + ranges[i][0], ranges[i][1]);
        free(b);
    }
    /* outside the sector */
    free(unseal(x, 2000, 33, 1ULL << 20, &st, &err));
    assert_int_equal(st, PF_EINVAL);
    assert_non_null(strstr(err.msg, "outside"));
    free(unseal(x, UINT64_MAX, 2, 1ULL << 20, &st, &err));
    assert_int_equal(st, PF_EINVAL);
    /* wrong public inputs give a wrong key: detected, not silently written */
    fx_sector y = *x;
    y.ticket[0] ^= 1;
    free(unseal(&y, 0, 2032, 1ULL << 20, &st, &err));
    assert_int_equal(st, PF_EINVAL);
    assert_non_null(strstr(err.msg, "ticket"));
    y = *x;
    memset(y.comm_d, 0, 32);
    free(unseal(&y, 0, 127, 1ULL << 20, &st, &err));
    assert_int_equal(st, PF_EINVAL);
    assert_non_null(strstr(err.msg, "zero"));
    y = *x;
    strcpy(y.sealed, "/nonexistent");
    free(unseal(&y, 0, 127, 1ULL << 20, &st, &err));
    assert_int_equal(st, PF_EIO);
    /* the public entry point (in memory for 2KiB) */
    char path[700];
    snprintf(path, sizeof path, "%s/out", x->root);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(pf_unseal_range(x->proof_id, x->cache, x->sealed, fd, x->sector_id,
                                     x->prover_id, x->ticket, x->comm_d, 254, 254, &err), PF_OK);
    close(fd);
    size_t len;
    uint8_t *b = fx_read_file(path, &len);
    assert_int_equal(len, 254);
    assert_memory_equal(b, s->k2_pieces[1].data, 254);
    free(b);
}

static void test_8m_pieces(void **state)
{
    u_state *s = *state;
    check_pieces(&s->m8, s->m8_pieces, 5, 1ULL << 20);
    pf_status st;
    pf_error err;
    uint8_t *b = unseal(&s->m8, 5000, 700000, 1ULL << 20, &st, &err);
    assert_int_equal(st, PF_OK);
    assert_memory_equal(b, s->m8.unpadded + 5000, 700000);
    free(b);
}

static int has_file(const char *dir, const char *name)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void test_clear_cache(void **state)
{
    u_state *s = *state;
    fx_sector *x = &s->m8;
    /* files the cache must keep, including unknown ones */
    char p[800];
    snprintf(p, sizeof p, "%s/t_aux", x->cache);
    FILE *f = fopen(p, "w");
    fputs("t_aux", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/notes.txt", x->cache);
    f = fopen(p, "w");
    fclose(f);
    assert_true(has_file(x->cache, "sc-02-data-layer-1.dat"));
    assert_true(has_file(x->cache, "sc-02-data-tree-c.dat"));
    assert_true(has_file(x->cache, "sc-02-data-tree-d.dat"));
    int removed;
    pf_error err;
    assert_int_equal(pf_clear_cache(x->cache, &removed, &err), PF_OK);
    assert_true(removed >= 4);
    DIR *d = opendir(x->cache);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        if (strcmp(e->d_name, "sc-02-data-tree-r-last.dat") && strcmp(e->d_name, "p_aux") &&
            strcmp(e->d_name, "t_aux") && strcmp(e->d_name, "notes.txt"))
            fail_msg("clear_cache left %s", e->d_name);
    }
    closedir(d);
    assert_int_equal(n, 4);
    assert_int_equal(pf_clear_cache(x->cache, &removed, &err), PF_OK);
    assert_int_equal(removed, 0);
    assert_int_equal(pf_clear_cache("/nonexistent-dir", &removed, &err), PF_EIO);
    /* PoSt still works, and unseal (it never needed the cache) */
    uint8_t rand[32] = { 9, 8, 7 };
    pf_post_replica r = { x->sector_id, { 0 }, x->cache, x->sealed };
    memcpy(r.comm_r, x->comm_r, 32);
    pf_post_result res;
    assert_int_equal(pf_generate_window_post(11, rand, x->prover_id, &r, 1, &res, &err), PF_OK);
    pf_post_public_replica pub = { x->sector_id, { 0 } };
    memcpy(pub.comm_r, x->comm_r, 32);
    assert_int_equal(pf_verify_window_post(11, rand, x->prover_id, &pub, 1, res.proof,
                                           res.proof_len, &err), PF_OK);
    pf_post_result_free(&res);
    check_pieces(x, s->m8_pieces, 1, 1ULL << 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2k_pieces),
        cmocka_unit_test(test_2k_ranges),
        cmocka_unit_test(test_8m_pieces),
        cmocka_unit_test(test_clear_cache),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
