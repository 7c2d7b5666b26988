/* test_storage_jobs.c — the storage service's building blocks on a real database and
 * directories, without the daemon: the copy/move journal resuming from each state a crash
 * can leave (temporaries half written, recorded but source not deleted), a copy whose
 * source is gone failing cleanly; the block index of a CAR (fixture offsets), of raw data
 * (1 MiB blocks) and of a CAR with a corrupted block; GC pin targets; metadata backups
 * (integrity, counts, restore marking an unclean shutdown, refusals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "sealproofs.h"
#include "sm_backup.h"
#include "sm_blocks.h"
#include "sm_cid.h"
#include "sm_copies.h"
#include "sm_db.h"
#include "sm_gc.h"
#include "sm_objects.h"
#include "sm_stores.h"
#include "sp_fs.h"

typedef struct fixture {
    char dir[64];
    char pieces[128];
    sm_db *db;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sm-jobs-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/m.db", f->dir);
    snprintf(f->pieces, sizeof f->pieces, "%s/pieces", f->dir);
    sp_mkdir_p(f->pieces, 0755, NULL);
    sm_db_opts o = { .path = path, .create = true };
    if (sm_db_open(&o, &f->db, NULL))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sm_db_close(f->db);
    sp_remove_tree(f->dir, NULL);
    free(f);
    return 0;
}

static void attach(fixture *f, const char *name, const char *tier)
{
    sm_store_def d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.path, sizeof d.path, "%s/%s", f->dir, name);
    snprintf(d.tier, sizeof d.tier, "%s", tier);
    d.weight = 1;
    sp_mkdir_p(d.path, 0755, NULL);
    sp_err err;
    assert_int_equal(sm_stores_attach(f->db, &d, &err), SP_OK);
}

/* A piece's bytes as an unsealed object; returns its id and CID. */
static int64_t make_piece(fixture *f, uint8_t seed, size_t len, char cid[PF_COMMCID_STR_MAX], uint8_t *data)
{
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(seed + i * 7);
    uint8_t comm[32];
    uint64_t padded;
    assert_int_equal(pf_commp_buf(data, len, comm, &padded, NULL), PF_OK);
    assert_int_equal(pf_commcid_encode(PF_COMM_UNSEALED, comm, cid, PF_COMMCID_STR_MAX, NULL), PF_OK);
    sp_err err;
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_OK);
    assert_int_equal(sm_objects_ensure_unsealed_in(f->db, cid, len, &err), SP_OK);
    assert_int_equal(sm_db_commit(f->db, &err), SP_OK);
    sm_object o;
    assert_int_equal(sm_objects_get(f->db, SM_KIND_UNSEALED, cid, &o, &err), SP_OK);
    return o.id;
}

static void put_file(fixture *f, const char *store, const char *cid, const void *data, size_t len)
{
    char dir[256], path[512];
    snprintf(dir, sizeof dir, "%s/%s/unsealed", f->dir, store);
    snprintf(path, sizeof path, "%s/%s", dir, cid);
    sp_mkdir_p(dir, 0755, NULL);
    assert_int_equal(sp_write_file_atomic(path, data, len, 0644, NULL), SP_OK);
}

static bool same_file(fixture *f, const char *store, const char *cid, const void *data, size_t len)
{
    char path[512], *text = NULL;
    size_t n = 0;
    snprintf(path, sizeof path, "%s/%s/unsealed/%s", f->dir, store, cid);
    if (sp_read_file(path, 1 << 24, &text, &n, NULL) != SP_OK)
        return false;
    bool same = n == len && memcmp(text, data, len) == 0;
    free(text);
    return same;
}

static bool exists(fixture *f, const char *store, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/unsealed/%s", f->dir, store, name);
    return sp_path_exists(path);
}

static void record_replica(fixture *f, int64_t oid, const char *store, sm_tier tier, size_t len)
{
    sp_err err;
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_OK);
    assert_int_equal(sm_replica_put_in(f->db, oid, store, tier, len, &err), SP_OK);
    assert_int_equal(sm_db_commit(f->db, &err), SP_OK);
}

static int64_t plan(fixture *f, int64_t oid, const char *src, const char *dst, sm_tier tier, bool move)
{
    sm_copy c = { .object_id = oid, .tier = tier, .move = move };
    snprintf(c.src, sizeof c.src, "%s", src);
    snprintf(c.dst, sizeof c.dst, "%s", dst);
    snprintf(c.move_from, sizeof c.move_from, "hot");
    snprintf(c.reason, sizeof c.reason, "test");
    int64_t id = 0;
    sp_err err;
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_OK);
    assert_int_equal(sm_copies_plan_in(f->db, &c, &id, &err), SP_OK);
    assert_int_equal(sm_db_commit(f->db, &err), SP_OK);
    return id;
}

static void set_copy_state(fixture *f, int64_t id, const char *state)
{
    char sql[128];
    snprintf(sql, sizeof sql, "UPDATE copies SET state = '%s' WHERE id = %lld", state, (long long)id);
    assert_int_equal(sm_db_exec(f->db, sql, NULL), SP_OK);
}

static const char *copy_state(fixture *f, int64_t id)
{
    static char st[16];
    sm_copy *v = NULL;
    size_t n = 0;
    assert_int_equal(sm_copies_recent(f->db, 100, &v, &n, NULL), SP_OK);
    st[0] = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id)
            snprintf(st, sizeof st, "%s", v[i].state);
    free(v);
    return st;
}

static void test_move_resume(void **state)
{
    fixture *f = *state;
    attach(f, "hotA", "hot");
    attach(f, "warmB", "warm");
    sm_copy_env env = { .db = f->db, .piece_dir = f->pieces };
    sp_err err;
    uint8_t data[70000];
    char cid[PF_COMMCID_STR_MAX];

    /* 1. killed while copying: a half-written temporary is left; the resume starts over */
    int64_t oid = make_piece(f, 1, sizeof data, cid, data);
    put_file(f, "hotA", cid, data, sizeof data);
    record_replica(f, oid, "hotA", SM_TIER_HOT, sizeof data);
    int64_t id = plan(f, oid, "hotA", "warmB", SM_TIER_WARM, true);
    set_copy_state(f, id, "copying");
    char tmp[300];
    snprintf(tmp, sizeof tmp, ".copy-%lld.%s", (long long)id, cid);
    put_file(f, "warmB", tmp, "half", 4);
    assert_int_equal(sm_copies_run(&env, id, &err), SP_OK);
    assert_string_equal(copy_state(f, id), "done");
    assert_true(same_file(f, "warmB", cid, data, sizeof data));
    assert_false(exists(f, "warmB", tmp));
    assert_false(exists(f, "hotA", cid));
    sm_replica *reps = NULL;
    size_t nr = 0;
    assert_int_equal(sm_objects_replicas(f->db, oid, &reps, &nr, &err), SP_OK);
    assert_int_equal(nr, 1);
    assert_string_equal(reps[0].store, "warmB");
    assert_int_equal(reps[0].tier, SM_TIER_WARM);
    free(reps);
    sm_object o;
    assert_int_equal(sm_objects_get_id(f->db, oid, &o, &err), SP_OK);
    assert_string_equal(o.moves, "hot>warm");
    /* running a done copy again changes nothing */
    assert_int_equal(sm_copies_run(&env, id, &err), SP_OK);

    /* 2. killed after the switch: the records point at the destination, the source is
     * still on disk; the resume deletes it */
    int64_t oid2 = make_piece(f, 2, 5000, cid, data);
    put_file(f, "hotA", cid, data, 5000);
    put_file(f, "warmB", cid, data, 5000);
    record_replica(f, oid2, "warmB", SM_TIER_WARM, 5000);
    id = plan(f, oid2, "hotA", "warmB", SM_TIER_WARM, true);
    set_copy_state(f, id, "switched");
    assert_int_equal(sm_copies_run(&env, id, &err), SP_OK);
    assert_string_equal(copy_state(f, id), "done");
    assert_false(exists(f, "hotA", cid));
    assert_true(same_file(f, "warmB", cid, data, 5000));

    /* 3. a copy whose source is gone fails, and nothing appears at the destination */
    int64_t oid3 = make_piece(f, 3, 3000, cid, data);
    record_replica(f, oid3, "hotA", SM_TIER_HOT, 3000);
    id = plan(f, oid3, "hotA", "warmB", SM_TIER_WARM, false);
    assert_int_equal(sm_copies_run(&env, id, &err), SP_ENOTFOUND);
    assert_string_equal(copy_state(f, id), "failed");
    assert_false(exists(f, "warmB", cid));
    assert_false(sm_copies_busy(f->db, oid3));

    /* 4. from the piece store (a new piece's first replica), not a move */
    int64_t oid4 = make_piece(f, 4, 9000, cid, data);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", f->pieces, cid);
    assert_int_equal(sp_write_file_atomic(path, data, 9000, 0644, NULL), SP_OK);
    id = plan(f, oid4, "", "hotA", SM_TIER_HOT, false);
    assert_true(sm_copies_busy(f->db, oid4));
    assert_int_equal(sm_copies_run(&env, id, &err), SP_OK);
    assert_true(same_file(f, "hotA", cid, data, 9000));
    assert_true(sp_path_exists(path)); /* a copy keeps its source */
    uint8_t h1[32], h2[32];
    char store_path[256];
    snprintf(store_path, sizeof store_path, "%s/hotA", f->dir);
    assert_int_equal(sm_copies_tree_hash(store_path, oid4, f->db, h1, &err), SP_OK);
    data[10] ^= 1;
    put_file(f, "hotA", cid, data, 9000);
    assert_int_equal(sm_copies_tree_hash(store_path, oid4, f->db, h2, &err), SP_OK);
    assert_memory_not_equal(h1, h2, 32);
}

/* ---- the block index ----------------------------------------------------------------------- */

static void test_index(void **state)
{
    fixture *f = *state;
    sp_err err;
    const char *root = getenv("SP_TESTS");
    char car[4200];
    snprintf(car, sizeof car, "%s/vectors/car/carv1-basic.car", root && *root ? root : "tests");
    int fd = open(car, O_RDONLY);
    assert_true(fd >= 0);
    /* index rows need a pieces row to record their state in */
    assert_int_equal(sm_db_exec(f->db, "INSERT INTO pieces (cid, comm_p, payload_size, padded_size, imported_ms) "
                                       "VALUES ('p-car', x'00', 715, 1024, 1), ('p-raw', x'00', 2500000, 4194304, 2), "
                                       "('p-bad', x'00', 715, 1024, 3)", &err), SP_OK);
    sm_index_info info;
    assert_int_equal(sm_blocks_index_fd(f->db, "p-car", fd, 715, 1 << 20, NULL, &info, &err), SP_OK);
    assert_string_equal(info.kind, "car");
    assert_int_equal(info.blocks, 8);
    assert_string_equal(info.roots, "bafyreihyrpefhacm6kkp4ql6j6udakdit7g3dmkzfriqfykhjw6cad5lrm "
                                    "bafyreidj5idub6mapiupjwjsyyxhyhedxycv4vihfsicm2vt46o7morwlm");
    /* carv1-basic.json: QmWXZxVQ... at blockOffset 402, blockLength 94 */
    sm_cid c;
    assert_int_equal(sm_cid_parse("QmWXZxVQ9yZfhQxLD35eDR8LiMRsYtHxYqTFCBbJoiJVys", &c, &err), SP_OK);
    sm_block_loc loc[4];
    size_t n = 0;
    assert_int_equal(sm_blocks_find(f->db, c.mh, c.mh_len, loc, 4, &n, &err), SP_OK);
    assert_int_equal(n, 1);
    assert_string_equal(loc[0].piece, "p-car");
    assert_int_equal(loc[0].offset, 402);
    assert_int_equal(loc[0].length, 94);
    assert_int_equal(loc[0].codec, SM_CODEC_DAG_PB);
    /* the piece's blocks in offset order */
    sm_block_loc all[16];
    assert_int_equal(sm_blocks_of_piece(f->db, "p-car", -1, 16, all, &n, &err), SP_OK);
    assert_int_equal(n, 8);
    assert_int_equal(all[0].offset, 137);
    assert_int_equal(all[7].offset, 697);
    assert_int_equal(sm_blocks_of_piece(f->db, "p-car", 402, 16, all, &n, &err), SP_OK);
    assert_int_equal(n, 4);
    /* indexing again replaces, not doubles */
    assert_int_equal(sm_blocks_index_fd(f->db, "p-car", fd, 715, 1 << 20, NULL, &info, &err), SP_OK);
    assert_int_equal(sm_blocks_of_piece(f->db, "p-car", -1, 16, all, &n, &err), SP_OK);
    assert_int_equal(n, 8);
    close(fd);

    /* raw data: 1 MiB blocks, the last shorter, each a raw CIDv1 of its bytes */
    char raw[256];
    snprintf(raw, sizeof raw, "%s/raw.bin", f->dir);
    uint8_t *data = malloc(2500000);
    for (size_t i = 0; i < 2500000; i++)
        data[i] = (uint8_t)(i * 13 + (i >> 11));
    assert_int_equal(sp_write_file_atomic(raw, data, 2500000, 0644, NULL), SP_OK);
    fd = open(raw, O_RDONLY);
    assert_int_equal(sm_blocks_index_fd(f->db, "p-raw", fd, 2500000, 1 << 20, NULL, &info, &err), SP_OK);
    close(fd);
    assert_string_equal(info.kind, "raw");
    assert_int_equal(info.blocks, 3);
    sm_cid_raw_sha256(SM_CODEC_RAW, data + (2u << 20), 2500000 - (2u << 20), &c);
    assert_int_equal(sm_blocks_find(f->db, c.mh, c.mh_len, loc, 4, &n, &err), SP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(loc[0].offset, 2u << 20);
    assert_int_equal(loc[0].length, 2500000 - (2u << 20));
    assert_int_equal(loc[0].codec, SM_CODEC_RAW);
    free(data);

    /* a CAR with a corrupted block fails to index, with the block named */
    char *text = NULL;
    size_t len;
    assert_int_equal(sp_read_file(car, 1 << 20, &text, &len, &err), SP_OK);
    text[362] ^= 1;
    char bad[256];
    snprintf(bad, sizeof bad, "%s/bad.car", f->dir);
    assert_int_equal(sp_write_file_atomic(bad, text, len, 0644, NULL), SP_OK);
    free(text);
    fd = open(bad, O_RDONLY);
    assert_int_equal(sm_blocks_index_fd(f->db, "p-bad", fd, 715, 1 << 20, NULL, &info, &err), SP_ECORRUPT);
    close(fd);
    assert_int_equal(sm_blocks_info(f->db, "p-bad", &info, &err), SP_OK);
    assert_string_equal(info.state, "failed");
    assert_non_null(strstr(info.error, "offset 362"));
    assert_int_equal(sm_blocks_of_piece(f->db, "p-bad", -1, 16, all, &n, &err), SP_OK);
    assert_int_equal(n, 0);
    /* index rebuild puts pieces back to pending */
    int64_t pieces = 0;
    assert_int_equal(sm_blocks_reset(f->db, NULL, &pieces, &err), SP_OK);
    assert_int_equal(pieces, 3);
    char cids[4][PF_COMMCID_STR_MAX];
    assert_int_equal(sm_blocks_pending(f->db, cids, 4, &n, &err), SP_OK);
    assert_int_equal(n, 3);
    assert_string_equal(cids[0], "p-car");
    assert_int_equal(sm_blocks_reset(f->db, "nope", &pieces, &err), SP_ENOTFOUND);
}

/* ---- GC targets ----------------------------------------------------------------------------- */

static void test_gc_targets(void **state)
{
    fixture *f = *state;
    sp_err err;
    const char *good[] = { "s-t01000-5", "orphan:store1/sealed/s-t01000-9", "orphan:s.2/unsealed/x_y-z",
                           "baga6ea4seaqao6uej5ynhlryhtu2ypzwoytmfueh4f6qyq67yqw6tg2xcpezgei" };
    const char *bad[] = { "", "s-t01000", "s-t0x-5", "orphan:", "orphan:/etc/passwd", "orphan:st/../x",
                          "orphan:st/a/..", "orphan:st/a b", "orphan:../x/y", "/etc/passwd",
                          "BAGA6EA4SEAQAO6UEJ5YNHLRYHTU2YPZWOYTMFUEH4F6QYQ67YQW6TG2XCPEZGEI" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(sm_gc_target_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sm_gc_target_valid(bad[i]));
    assert_false(sm_gc_pinned(f->db, NULL, "s-t01000-5"));
    assert_int_equal(sm_gc_pin(f->db, "s-t01000-5", "audit", &err), SP_OK);
    assert_true(sm_gc_pinned(f->db, NULL, "s-t01000-5"));
    assert_int_equal(sm_gc_pin(f->db, "../etc", NULL, &err), SP_EINVAL);
    assert_int_equal(sm_gc_unpin(f->db, "s-t01000-5", &err), SP_OK);
    assert_int_equal(sm_gc_unpin(f->db, "s-t01000-5", &err), SP_ENOTFOUND);
    assert_false(sm_gc_pinned(f->db, NULL, "s-t01000-5"));
}

/* ---- backups --------------------------------------------------------------------------------- */

static void test_backup(void **state)
{
    fixture *f = *state;
    sp_err err;
    assert_int_equal(sm_db_exec(f->db, "INSERT INTO sectors (miner, number, proof_type, state, created_ms, "
                                       "updated_ms) VALUES (1000, 1, 5, 'Proving', 1, 1), "
                                       "(1000, 2, 5, 'PC1Done', 1, 1)", &err), SP_OK);
    char db[128], out[128], back[128];
    snprintf(db, sizeof db, "%s/m.db", f->dir);
    snprintf(out, sizeof out, "%s/backup.db", f->dir);
    snprintf(back, sizeof back, "%s/restored.db", f->dir);
    sm_backup_info info;
    assert_int_equal(sm_backup_create(db, out, &info, &err), SP_OK);
    assert_int_equal(info.sectors, 2);
    assert_int_equal(info.schema_version, sm_db_schema_latest(f->db));
    assert_true(info.bytes > 0);
    /* restore into another database file: every sector, an unclean shutdown recorded */
    assert_int_equal(sm_backup_restore(out, back, &info, &err), SP_OK);
    assert_int_equal(info.sectors, 2);
    sqlite3 *s = NULL;
    assert_int_equal(sqlite3_open(back, &s), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s, "SELECT value FROM meta WHERE key = 'clean_shutdown'", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "0");
    sqlite3_finalize(st);
    /* a backup from a newer program is refused */
    assert_int_equal(sqlite3_exec(s, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(s);
    char newer[128];
    snprintf(newer, sizeof newer, "%s/newer.db", f->dir);
    assert_int_equal(sm_backup_restore(back, newer, &info, &err), SP_ESTATE);
    assert_false(sp_path_exists(newer));
    /* not a database, and a missing one */
    char junk[128];
    snprintf(junk, sizeof junk, "%s/junk.db", f->dir);
    assert_int_equal(sp_write_file_atomic(junk, "not sqlite at all, not sqlite at all", 36, 0600, NULL), SP_OK);
    assert_true(sm_backup_check(junk, &info, &err) != SP_OK);
    assert_int_equal(sm_backup_restore(junk, newer, &info, &err) != SP_OK, 1);
    assert_int_equal(sm_backup_create("/nonexistent/m.db", out, &info, &err), SP_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_move_resume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_targets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backup, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
