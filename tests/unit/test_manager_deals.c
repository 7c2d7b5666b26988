/* test_manager_deals.c — the piece store and deal packing: canonical piece CIDs only,
 * CommP on import, packing within add_piece's alignment, the CommD of a packed sector
 * checked against a staged file really built with add_piece and tree_d, idempotent
 * AcquireDeals, release on abort and retake on restore. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sealproofs.h"
#include "sm_conf.h"
#include "sm_db.h"
#include "sm_deals.h"
#include "sm_pieces.h"
#include "sm_sectors.h"
#include "sp_fs.h"

typedef struct fixture {
    char dir[64];
    char pieces[96];
    sm_db *db;
    sm_conf *conf;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sm-deals-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->pieces, sizeof f->pieces, "%s/pieces", f->dir);
    char path[128];
    snprintf(path, sizeof path, "%s/m.db", f->dir);
    sm_db_opts o = { .path = path, .create = true };
    if (sm_db_open(&o, &f->db, NULL) ||
        sm_conf_load_string("miners = ( { actor = 1000; sizes = [ \"2KiB\" ]; deals = true; } );", "m.cfg",
                            &f->conf, NULL, NULL))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sm_db_close(f->db);
    sm_conf_unref(f->conf);
    sp_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

/* The padded sizes of research/porep.md 3.4's alignment rules: largest first leaves no
 * alignment gap, and pieces that would overflow the 2032 user bytes of a 2KiB sector are
 * skipped while later smaller ones still fit. */
static void test_pack(void **state)
{
    (void)state;
    uint64_t padded[] = { 1024, 512, 256, 2048, 512, 128 };
    size_t order[6];
    uint64_t off[6];
    size_t k = sm_deals_pack(2048, padded, 6, 0, order, off);
    assert_int_equal(k, 4);
    size_t want_order[] = { 0, 1, 2, 5 };
    uint64_t want_off[] = { 0, 1024, 1536, 1792 };
    for (size_t i = 0; i < k; i++) {
        assert_int_equal(order[i], want_order[i]);
        assert_int_equal(off[i], want_off[i]);
    }
    /* older smaller pieces are reordered behind larger ones */
    uint64_t mixed[] = { 256, 1024, 128 };
    k = sm_deals_pack(2048, mixed, 3, 0, order, off);
    assert_int_equal(k, 3);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 0);
    assert_int_equal(order[2], 2);
    assert_int_equal(off[1], 1024);
    assert_int_equal(off[2], 1280);
    /* max deals, oversized and malformed sizes */
    k = sm_deals_pack(2048, padded, 6, 2, order, off);
    assert_int_equal(k, 2);
    uint64_t bad[] = { 4096, 100, 384, 0 };
    assert_int_equal(sm_deals_pack(2048, bad, 4, 0, order, off), 0);
    /* a whole-sector piece fits exactly */
    uint64_t whole[] = { 2048, 128 };
    k = sm_deals_pack(2048, whole, 2, 0, order, off);
    assert_int_equal(k, 1);
    assert_int_equal(order[0], 0);
}

static void test_piece_cids(void **state)
{
    fixture *f = *state;
    char path[256];
    sp_err err;
    uint8_t comm[32] = { 1, 2, 3 };
    char cid[PF_COMMCID_STR_MAX], sealed[PF_COMMCID_STR_MAX];
    assert_int_equal(pf_commcid_encode(PF_COMM_UNSEALED, comm, cid, sizeof cid, NULL), PF_OK);
    assert_int_equal(pf_commcid_encode(PF_COMM_SEALED, comm, sealed, sizeof sealed, NULL), PF_OK);
    assert_int_equal(sm_pieces_path(f->pieces, cid, path, sizeof path, &err), SP_OK);
    assert_non_null(strstr(path, cid));
    /* anything else never reaches the file system */
    const char *bad[] = { "../etc/passwd", "/etc/passwd", "", ".", sealed, "bafkqaaa",
                          "baga6ea4seaqaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/../x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sm_pieces_path(f->pieces, bad[i], path, sizeof path, &err), SP_EINVAL);
    /* an upper-case spelling of a valid CID is not its canonical form */
    char upper[PF_COMMCID_STR_MAX];
    snprintf(upper, sizeof upper, "%s", cid);
    for (char *p = upper + 1; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    assert_int_equal(sm_pieces_path(f->pieces, upper, path, sizeof path, &err), SP_EINVAL);
}

static void write_file(const char *path, const uint8_t *data, size_t len)
{
    assert_int_equal(sp_write_file_atomic(path, data, len, 0644, NULL), SP_OK);
}

/* Imports a file of len bytes (pattern seeded by s) and queues it for miner 1000. */
static void import(fixture *f, size_t len, uint8_t s, sm_piece *p)
{
    uint8_t *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 31 + s);
    char src[128];
    snprintf(src, sizeof src, "%s/src-%u", f->dir, s);
    write_file(src, data, len);
    sp_err err;
    assert_int_equal(sm_pieces_store_file(f->pieces, src, p, &err), SP_OK);
    /* CommP is the proofs library's, the bytes are the file's */
    uint8_t want[32];
    uint64_t padded = 0;
    assert_int_equal(pf_commp_buf(data, len, want, &padded, NULL), PF_OK);
    assert_memory_equal(p->comm_p, want, 32);
    assert_int_equal(p->padded_size, padded);
    assert_int_equal(p->payload_size, len);
    char stored[256];
    assert_int_equal(sm_pieces_path(f->pieces, p->cid, stored, sizeof stored, &err), SP_OK);
    assert_int_equal(sp_file_size(stored), (int64_t)len);
    int64_t deal;
    bool fresh;
    assert_int_equal(sm_pieces_register(f->db, f->pieces, p, 1000, 2048, &deal, &fresh, &err), SP_OK);
    assert_true(deal > 0);
    free(data);
}

/* Builds the staged file the way a worker does (add_piece of each piece in order, zero
 * fill to the sector) and returns tree_d's root. */
static void staged_comm_d(fixture *f, const sm_deal_piece *p, size_t n, uint8_t out[32])
{
    char staged[128], cache[128];
    snprintf(staged, sizeof staged, "%s/staged", f->dir);
    snprintf(cache, sizeof cache, "%s/cache", f->dir);
    sp_mkdir_p(cache, 0755, NULL);
    int dst = open(staged, O_CREAT | O_RDWR | O_TRUNC, 0644);
    assert_true(dst >= 0);
    uint64_t existing[16];
    for (size_t i = 0; i < n; i++) {
        char path[256];
        assert_int_equal(sm_pieces_path(f->pieces, p[i].cid, path, sizeof path, NULL), SP_OK);
        int src = open(path, O_RDONLY);
        assert_true(src >= 0);
        pf_add_piece_result r;
        pf_error pe = { 0 };
        if (pf_add_piece_fill(5, src, p[i].payload_size, dst, existing, i, &r, &pe) != PF_OK)
            fail_msg("add_piece: %s", pe.msg);
        close(src);
        assert_memory_equal(r.comm_p, p[i].comm_p, 32);
        assert_int_equal(r.offset, p[i].offset);      /* the manager's offset is add_piece's */
        assert_int_equal(r.left_alignment, 0);        /* largest first: no gaps */
        existing[i] = r.piece_size;
    }
    close(dst);
    pf_error pe = { 0 };
    if (pf_tree_d_build(5, staged, cache, out, &pe) != PF_OK)
        fail_msg("tree_d: %s", pe.msg);
}

static void test_acquire_and_comm_d(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_piece a, b, c, d;
    import(f, 200, 1, &a);  /* 254 -> piece 256 */
    import(f, 900, 2, &b);  /* piece 1024 */
    import(f, 100, 3, &c);  /* piece 128 */
    import(f, 1000, 4, &d); /* piece 1024: does not fit after b, a, c */
    uint64_t m, n1, n2;
    int proof;
    bool found;
    sm_alloc_spec any = { 0 };
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &any, 0, &m, &n1, &proof, &found, &err), SP_OK);
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &any, 0, &m, &n2, &proof, &found, &err), SP_OK);
    sm_deal_piece *p = NULL;
    size_t n = 0;
    assert_int_equal(sm_deals_acquire(f->db, 1000, n1, 2048, 0, 0, &p, &n, &err), SP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(p[0].cid, b.cid);
    assert_string_equal(p[1].cid, a.cid);
    assert_string_equal(p[2].cid, c.cid);
    assert_int_equal(p[0].offset, 0);
    assert_int_equal(p[1].offset, 1024);
    assert_int_equal(p[2].offset, 1280);
    /* CommD from the manager equals tree_d over what a worker writes */
    uint8_t want[32], got[32];
    staged_comm_d(f, p, n, want);
    assert_int_equal(sm_deals_comm_d(2048, p, n, got, &err), SP_OK);
    assert_memory_equal(got, want, 32);
    free(p);
    /* asking again gives the same pieces */
    assert_int_equal(sm_deals_acquire(f->db, 1000, n1, 2048, 0, 0, &p, &n, &err), SP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(p[0].cid, b.cid);
    free(p);
    /* the next sector gets what is left; min_used can refuse it */
    assert_int_equal(sm_deals_acquire(f->db, 1000, n2, 2048, 0, 2048, &p, &n, &err), SP_OK);
    assert_int_equal(n, 0);
    free(p);
    assert_int_equal(sm_deals_acquire(f->db, 1000, n2, 2048, 0, 0, &p, &n, &err), SP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(p[0].cid, d.cid);
    free(p);

    /* abort releases, restore retakes in packing order */
    assert_int_equal(sm_sectors_abort(f->db, 1000, n1, "test", &err), SP_OK);
    sm_deal_row *rows = NULL;
    size_t nr = 0;
    assert_int_equal(sm_deals_list(f->db, a.cid, 0, &rows, &nr, &err), SP_OK);
    assert_int_equal(nr, 1);
    assert_string_equal(rows[0].state, "Queued");
    assert_false(rows[0].has_sector);
    free(rows);
    assert_int_equal(sm_sectors_restore(f->db, 1000, n1, &err), SP_OK);
    assert_int_equal(sm_deals_of_sector(f->db, 1000, n1, &p, &n, &err), SP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(p[0].cid, b.cid);
    assert_int_equal(p[2].offset, 1280);
    free(p);
    /* abort again, let another sector take the deals: restore is refused */
    assert_int_equal(sm_sectors_abort(f->db, 1000, n1, "again", &err), SP_OK);
    /* an aborted sector takes no deal */
    assert_int_equal(sm_deals_acquire(f->db, 1000, n1, 2048, 0, 0, &p, &n, &err), SP_ESTATE);
    assert_int_equal(sm_deals_acquire(f->db, 1000, 4242, 2048, 0, 0, &p, &n, &err), SP_ENOTFOUND);
    uint64_t n3;
    assert_int_equal(sm_sectors_allocate(f->db, f->conf, &any, 0, &m, &n3, &proof, &found, &err), SP_OK);
    assert_int_equal(sm_deals_acquire(f->db, 1000, n3, 2048, 0, 0, &p, &n, &err), SP_OK);
    assert_int_equal(n, 3);
    free(p);
    assert_int_equal(sm_sectors_restore(f->db, 1000, n1, &err), SP_ESTATE);

    /* registration errors */
    sm_piece bad = a;
    bad.payload_size = 201;
    int64_t deal;
    bool fresh;
    assert_int_equal(sm_pieces_register(f->db, f->pieces, &bad, 1000, 2048, &deal, &fresh, &err), SP_ECORRUPT);
    assert_int_equal(sm_pieces_register(f->db, f->pieces, &a, 1000, 128, &deal, &fresh, &err), SP_EINVAL);
    /* the same piece for a second deal: not new */
    assert_int_equal(sm_pieces_register(f->db, f->pieces, &a, 1000, 2048, &deal, &fresh, &err), SP_OK);
    assert_false(fresh);
    sm_piece *list = NULL;
    size_t np = 0;
    assert_int_equal(sm_pieces_list(f->db, 0, &list, &np, &err), SP_OK);
    assert_int_equal(np, 4);
    free(list);
    int fd;
    uint64_t size;
    assert_int_equal(sm_pieces_open(f->db, f->pieces, a.cid, &fd, &size, &err), SP_OK);
    assert_int_equal(size, 200);
    close(fd);
    uint8_t other[32] = { 9 };
    char unknown[PF_COMMCID_STR_MAX];
    pf_commcid_encode(PF_COMM_UNSEALED, other, unknown, sizeof unknown, NULL);
    assert_int_equal(sm_pieces_open(f->db, f->pieces, unknown, &fd, &size, &err), SP_ENOTFOUND);
}

static void test_empty_and_missing(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_piece p;
    char src[128];
    snprintf(src, sizeof src, "%s/empty", f->dir);
    write_file(src, (const uint8_t *)"", 0);
    assert_int_equal(sm_pieces_store_file(f->pieces, src, &p, &err), SP_EINVAL);
    assert_int_equal(sm_pieces_store_file(f->pieces, "/nonexistent/file", &p, &err), SP_ENOTFOUND);
    assert_int_equal(sm_pieces_store_file(f->pieces, f->dir, &p, &err), SP_EINVAL);
    /* no temporary file is left behind */
    assert_false(sp_path_exists(f->pieces) && access(f->pieces, F_OK) == 0 &&
                 sp_file_size(f->pieces) < 0 && 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pack),
        cmocka_unit_test_setup_teardown(test_piece_cids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acquire_and_comm_d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_missing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
