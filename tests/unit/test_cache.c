/* test_cache.c — the L1 (memory) and L2 (directory) block caches: the byte bound, the
 * order of eviction (least recently used first, a read refreshes an entry), replacement,
 * oversized blocks, the L2 watermarks, the L2 index rebuilt from its directory after a
 * restart (oldest file first), files that vanish or were left half-written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "sm_cache.h"
#include "sm_cid.h"
#include "sp_codec.h"
#include "sp_fs.h"

#define COST(len) ((uint64_t)(len) + SM_CACHE_ENTRY_OVERHEAD)

/* Key i: the sha2-256 multihash of "block i", as the retrieval path uses. */
static size_t key_of(int i, uint8_t key[34])
{
    char s[32];
    int n = snprintf(s, sizeof s, "block %d", i);
    return sm_mh_sha256(s, (size_t)n, key);
}

static void put_block(sm_l1 *c, int i, size_t len)
{
    uint8_t key[34];
    size_t kl = key_of(i, key);
    uint8_t *d = malloc(len);
    memset(d, i, len);
    sm_l1_put(c, key, kl, d, len);
    free(d);
}

static bool has_block(sm_l1 *c, int i, size_t len)
{
    uint8_t key[34], *d = NULL;
    size_t kl = key_of(i, key), n = 0;
    if (!sm_l1_get(c, key, kl, &d, &n))
        return false;
    assert_int_equal(n, len);
    for (size_t j = 0; j < n; j++)
        assert_int_equal(d[j], (uint8_t)i);
    free(d);
    return true;
}

static void test_l1_bound_and_order(void **state)
{
    (void)state;
    sm_l1 *c;
    sp_err err;
    /* room for exactly 16 blocks of 1000 bytes; a block may take an eighth of that */
    assert_int_equal(sm_l1_new(COST(1000) * 16, &c, &err), SP_OK);
    for (int i = 0; i < 16; i++)
        put_block(c, i, 1000);
    sm_cache_stats st;
    sm_l1_stats(c, &st);
    assert_int_equal(st.entries, 16);
    assert_int_equal(st.bytes, COST(1000) * 16);
    /* reading block 0 makes it the newest: block 1 is evicted next */
    assert_true(has_block(c, 0, 1000));
    put_block(c, 16, 1000);
    assert_false(has_block(c, 1, 1000));
    assert_true(has_block(c, 0, 1000));
    assert_true(has_block(c, 2, 1000));
    /* the order from oldest to newest is now 3..15, 16, 0, 2 */
    uint8_t keys[32][SM_CACHE_KEY_MAX];
    size_t klens[32];
    assert_int_equal(sm_l1_keys(c, keys, klens, 32), 16);
    for (int i = 0; i < 16; i++) {
        int want = i < 14 ? i + 3 : i == 14 ? 0 : 2;
        uint8_t k[34];
        key_of(want, k);
        assert_memory_equal(keys[i], k, 34);
    }
    /* a larger block evicts as many of the oldest as it needs */
    put_block(c, 20, 2 * 1000 + SM_CACHE_ENTRY_OVERHEAD);
    assert_false(has_block(c, 3, 1000));
    assert_false(has_block(c, 4, 1000));
    assert_true(has_block(c, 5, 1000));
    sm_l1_stats(c, &st);
    assert_true(st.bytes <= st.max_bytes);
    assert_int_equal(st.evictions, 3);
    /* replacing an entry keeps one copy */
    put_block(c, 5, 500);
    assert_true(has_block(c, 5, 500));
    sm_l1_stats(c, &st);
    assert_int_equal(st.entries, 15);
    /* a block over an eighth of the bound is not cached */
    put_block(c, 30, 2 * COST(1000));
    assert_false(has_block(c, 30, 0));
    sm_l1_stats(c, &st);
    assert_int_equal(st.skipped, 1);
    assert_true(st.hits > 0 && st.misses > 0);
    /* removal */
    uint8_t k[34];
    size_t kl = key_of(5, k);
    sm_l1_remove(c, k, kl);
    assert_false(has_block(c, 5, 500));
    sm_l1_free(c);

    /* a zero bound caches nothing */
    assert_int_equal(sm_l1_new(0, &c, &err), SP_OK);
    put_block(c, 1, 10);
    assert_false(has_block(c, 1, 10));
    sm_l1_free(c);
}

static void test_l1_many(void **state)
{
    (void)state;
    sm_l1 *c;
    sp_err err;
    /* thousands of entries: the table grows, the bound holds, the newest are there */
    assert_int_equal(sm_l1_new(COST(64) * 1000, &c, &err), SP_OK);
    for (int i = 0; i < 5000; i++)
        put_block(c, i, 64);
    sm_cache_stats st;
    sm_l1_stats(c, &st);
    assert_int_equal(st.entries, 1000);
    assert_int_equal(st.evictions, 4000);
    for (int i = 4000; i < 5000; i++)
        assert_true(has_block(c, i, 64));
    assert_false(has_block(c, 3999, 64));
    sm_l1_free(c);
}

/* ---- L2 --------------------------------------------------------------------------------- */

static char *tmpdir(void)
{
    char *d = strdup("/tmp/sealpipe-cache-XXXXXX");
    assert_non_null(mkdtemp(d));
    return d;
}

static void l2_put(sm_l2 *c, int i, size_t len)
{
    uint8_t key[34];
    size_t kl = key_of(i, key);
    uint8_t *d = malloc(len);
    memset(d, i, len);
    sp_err err;
    assert_int_equal(sm_l2_put(c, key, kl, d, len, &err), SP_OK);
    free(d);
}

static bool l2_has(sm_l2 *c, int i, size_t len)
{
    uint8_t key[34], *d = NULL;
    size_t kl = key_of(i, key), n = 0;
    bool hit = false;
    sp_err err;
    assert_int_equal(sm_l2_get(c, key, kl, &d, &n, &hit, &err), SP_OK);
    if (!hit)
        return false;
    assert_int_equal(n, len);
    for (size_t j = 0; j < n; j++)
        assert_int_equal(d[j], (uint8_t)i);
    free(d);
    return true;
}

static void file_of(const char *dir, int i, char *out, size_t len)
{
    uint8_t key[34];
    key_of(i, key);
    char hex[69];
    sp_hex_encode(key, 34, hex);
    snprintf(out, len, "%s/%02x/%s", dir, key[33], hex);
}

static void test_l2_watermarks(void **state)
{
    (void)state;
    char *dir = tmpdir();
    sm_l2 *c;
    sp_err err;
    /* 10 blocks fit; high watermark at 80% (8 blocks), low at 50% (5 blocks) */
    assert_int_equal(sm_l2_open(dir, COST(4096) * 10, 80, 50, &c, &err), SP_OK);
    for (int i = 0; i < 8; i++)
        l2_put(c, i, 4096);
    assert_false(sm_l2_needs_eviction(c));
    assert_true(l2_has(c, 0, 4096)); /* 0 becomes the newest */
    l2_put(c, 8, 4096);
    assert_true(sm_l2_needs_eviction(c));
    /* eviction goes down to 5 blocks: 1, 2, 3, 4 (the oldest) leave */
    assert_int_equal(sm_l2_evict(c), 4);
    assert_false(sm_l2_needs_eviction(c));
    char path[4200];
    for (int i = 1; i <= 4; i++) {
        file_of(dir, i, path, sizeof path);
        assert_false(sp_path_exists(path));
        assert_false(l2_has(c, i, 4096));
    }
    for (int i = 5; i <= 8; i++)
        assert_true(l2_has(c, i, 4096));
    assert_true(l2_has(c, 0, 4096));
    /* the hard bound: a put that would pass it is skipped */
    for (int i = 20; i < 40; i++)
        l2_put(c, i, 4096);
    sm_cache_stats st;
    sm_l2_stats(c, &st);
    assert_true(st.bytes <= st.max_bytes);
    assert_int_equal(st.entries, 10);
    assert_int_equal(st.skipped, 15);
    /* a file removed behind the cache's back is a miss, and forgotten */
    file_of(dir, 5, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    assert_false(l2_has(c, 5, 4096));
    sm_l2_stats(c, &st);
    assert_int_equal(st.entries, 9);
    /* sm_l2_remove drops a file that failed its hash check */
    uint8_t key[34];
    size_t kl = key_of(6, key);
    sm_l2_remove(c, key, kl);
    file_of(dir, 6, path, sizeof path);
    assert_false(sp_path_exists(path));
    sm_l2_close(c);
    sp_remove_tree(dir, NULL);
    free(dir);
}

static void set_mtime(const char *dir, int i, time_t t)
{
    char path[4200];
    file_of(dir, i, path, sizeof path);
    struct timespec ts[2] = { { t, 0 }, { t, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_l2_reopen(void **state)
{
    (void)state;
    char *dir = tmpdir();
    sm_l2 *c;
    sp_err err;
    assert_int_equal(sm_l2_open(dir, COST(100) * 4, 100, 50, &c, &err), SP_OK);
    for (int i = 0; i < 4; i++)
        l2_put(c, i, 100);
    sm_l2_close(c);
    /* After a restart the oldest file (by modification time) is the first to go. */
    set_mtime(dir, 0, 2000);
    set_mtime(dir, 1, 1000);
    set_mtime(dir, 2, 4000);
    set_mtime(dir, 3, 3000);
    /* leftovers of a crashed write and foreign names are not indexed; temporaries go */
    char junk[4200];
    snprintf(junk, sizeof junk, "%s/00/.tmp-1-deadbeef", dir);
    char bucket[4200];
    snprintf(bucket, sizeof bucket, "%s/00", dir);
    sp_mkdir_p(bucket, 0755, &err);
    assert_int_equal(sp_write_file_atomic(junk, "x", 1, 0644, &err), SP_OK);
    char foreign[4200];
    snprintf(foreign, sizeof foreign, "%s/00/not-hex", dir);
    assert_int_equal(sp_write_file_atomic(foreign, "y", 1, 0644, &err), SP_OK);
    assert_int_equal(sm_l2_open(dir, COST(100) * 4, 100, 50, &c, &err), SP_OK);
    assert_false(sp_path_exists(junk));
    sm_cache_stats st;
    sm_l2_stats(c, &st);
    assert_int_equal(st.entries, 4);
    l2_put(c, 4, 100); /* skipped: full */
    sm_l2_stats(c, &st);
    assert_int_equal(st.skipped, 1);
    sm_l2_close(c);
    /* with a 60% high watermark the same files need eviction down to 50%: the two
     * oldest (1, then 0) go */
    for (int i = 0; i < 4; i++)
        set_mtime(dir, i, i == 1 ? 1000 : i == 0 ? 2000 : i == 2 ? 4000 : 3000);
    assert_int_equal(sm_l2_open(dir, COST(100) * 4, 60, 50, &c, &err), SP_OK);
    l2_put(c, 9, 10); /* cannot pass the bound; nothing changes */
    assert_true(sm_l2_needs_eviction(c));
    assert_int_equal(sm_l2_evict(c), 2);
    char path[4200];
    file_of(dir, 1, path, sizeof path);
    assert_false(sp_path_exists(path));
    file_of(dir, 0, path, sizeof path);
    assert_false(sp_path_exists(path));
    assert_true(l2_has(c, 2, 100));
    assert_true(l2_has(c, 3, 100));
    sm_l2_close(c);
    /* bad watermarks are refused */
    assert_int_equal(sm_l2_open(dir, 100, 50, 50, &c, &err), SP_EINVAL);
    sp_remove_tree(dir, NULL);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_l1_bound_and_order),
        cmocka_unit_test(test_l1_many),
        cmocka_unit_test(test_l2_watermarks),
        cmocka_unit_test(test_l2_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
