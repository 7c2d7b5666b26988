/* test_manager_stores.c — persist stores: placement by room x weight among writable,
 * allowed candidates, reservations (idempotent, counted against room, released on
 * finalize and abort), capacity accounting, sectorstore.json on attach, detach rules,
 * config declaration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "sm_conf.h"
#include "sm_db.h"
#include "sm_sectors.h"
#include "sm_stores.h"
#include "sp_fs.h"

typedef struct fixture {
    char dir[64];
    sm_db *db;
    sm_conf *conf;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sm-stores-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/m.db", f->dir);
    sm_db_opts o = { .path = path, .create = true };
    if (sm_db_open(&o, &f->db, NULL) ||
        sm_conf_load_string("miners = ( { actor = 1000; sizes = [ \"2KiB\" ]; } );", "m.cfg", &f->conf, NULL, NULL))
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

static sm_store_def def(fixture *f, const char *name, uint64_t capacity, uint64_t weight)
{
    sm_store_def d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.path, sizeof d.path, "%s/%s", f->dir, name);
    sp_mkdir_p(d.path, 0755, NULL);
    d.capacity = capacity;
    d.weight = weight;
    snprintf(d.tier, sizeof d.tier, "warm");
    return d;
}

static const char *reserve(fixture *f, uint64_t number, uint64_t size, const char *const *c, size_t n,
                           sm_store_info *info)
{
    bool found = false;
    sp_err err;
    assert_int_equal(sm_stores_reserve(f->db, 1000, number, size, c, n, info, &found, &err), SP_OK);
    return found ? info->def.name : NULL;
}

static void test_placement(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_store_def d[5] = {
        def(f, "a", 10000, 1), def(f, "b", 20000, 1), def(f, "c", 30000, 1),
        def(f, "ro", 90000, 1), def(f, "deny", 90000, 1),
    };
    d[3].readonly = true;
    snprintf(d[4].deny_miners, sizeof d[4].deny_miners, "5,1000");
    assert_int_equal(sm_stores_sync_config(f->db, d, 5, &err), SP_OK);
    sm_store_info info;
    /* the most room wins; read-only and denying stores are never chosen */
    assert_string_equal(reserve(f, 1, 25000, NULL, 0, &info), "c");
    assert_int_equal(info.reserved, 25000);
    /* again for the same sector: the same store, no second reservation */
    assert_string_equal(reserve(f, 1, 25000, NULL, 0, &info), "c");
    assert_int_equal(info.reservations, 1);
    /* c has 5000 left after the reservation: b is next */
    assert_string_equal(reserve(f, 2, 6000, NULL, 0, &info), "b");
    /* candidates restrict the choice; a candidate without room gives nothing */
    const char *only_a[] = { "a" };
    assert_string_equal(reserve(f, 3, 9000, only_a, 1, &info), "a");
    assert_null(reserve(f, 4, 9000, only_a, 1, &info));
    const char *ro[] = { "ro", "deny" };
    assert_null(reserve(f, 5, 10, ro, 2, &info));
    /* more than any store has */
    assert_null(reserve(f, 6, 100000, NULL, 0, &info));
    /* weight multiplies room: a (1000 left) x 100 beats b (14000) x 1 */
    assert_int_equal(sm_stores_set_weight(f->db, "a", 100, &err), SP_OK);
    assert_string_equal(reserve(f, 7, 500, NULL, 0, &info), "a");
    assert_int_equal(sm_stores_set_weight(f->db, "zz", 100, &err), SP_ENOTFOUND);
    assert_int_equal(sm_stores_set_weight(f->db, "a", 0, &err), SP_EINVAL);

    /* release: on finalize and abort the reservation goes away */
    uint64_t m, n;
    int proof;
    bool found;
    sm_alloc_spec any = { 0 };
    for (int i = 0; i < 3; i++)
        assert_int_equal(sm_sectors_allocate(f->db, f->conf, &any, 0, &m, &n, &proof, &found, &err), SP_OK);
    /* sectors 0,1,2 exist now: 1 holds c, 2 holds b */
    assert_int_equal(sm_stores_get(f->db, "c", &info, &err), SP_OK);
    assert_int_equal(info.reservations, 1);
    assert_int_equal(sm_sectors_finalized(f->db, 1000, 1, &err), SP_OK);
    assert_int_equal(sm_stores_get(f->db, "c", &info, &err), SP_OK);
    assert_int_equal(info.reservations, 0);
    assert_int_equal(info.reserved, 0);
    /* a finalized sector gets no new reservation (nobody would release it) */
    assert_int_equal(sm_stores_reserve(f->db, 1000, 1, 10, NULL, 0, &info, &found, &err), SP_ESTATE);
    assert_int_equal(sm_sectors_abort(f->db, 1000, 2, "x", &err), SP_OK);
    assert_int_equal(sm_stores_get(f->db, "b", &info, &err), SP_OK);
    assert_int_equal(info.reservations, 0);

    /* stored sectors count against capacity */
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_OK);
    assert_int_equal(sm_stores_mark_persisted_in(f->db, 1000, 0, "c", 29000, &err), SP_OK);
    assert_int_equal(sm_db_commit(f->db, &err), SP_OK);
    assert_int_equal(sm_stores_get(f->db, "c", &info, &err), SP_OK);
    assert_int_equal(info.stored, 29000);
    assert_int_equal(info.sectors, 1);
    assert_int_equal(info.available, 1000);
    assert_true(info.reachable);

    sm_store_info *all = NULL;
    size_t count = 0;
    assert_int_equal(sm_stores_list(f->db, &all, &count, &err), SP_OK);
    assert_int_equal(count, 5);
    assert_string_equal(all[0].def.name, "a");
    assert_string_equal(all[0].source, "config");
    free(all);
}

static void test_allow_lists_and_unreachable(void **state)
{
    fixture *f = *state;
    sm_store_def d = def(f, "x", 1000, 1);
    snprintf(d.allow_miners, sizeof d.allow_miners, "7,1000,99");
    assert_true(sm_store_allows(&d, 1000));
    assert_true(sm_store_allows(&d, 7));
    assert_false(sm_store_allows(&d, 100));
    snprintf(d.deny_miners, sizeof d.deny_miners, "1000");
    assert_false(sm_store_allows(&d, 1000)); /* deny wins */
    d.allow_miners[0] = 0;
    assert_true(sm_store_allows(&d, 5));
    assert_true(sm_store_name_valid("store-01.a_b"));
    assert_false(sm_store_name_valid("../x"));
    assert_false(sm_store_name_valid("a/b"));
    assert_false(sm_store_name_valid(""));
    assert_false(sm_store_name_valid(".."));

    /* a path the manager cannot see is placed by its capacity alone */
    sm_store_def far = def(f, "far", 5000, 1);
    snprintf(far.path, sizeof far.path, "/nonexistent/sealpipe-test/far");
    sm_store_def none = def(f, "none", 0, 1);
    snprintf(none.path, sizeof none.path, "/nonexistent/sealpipe-test/none");
    sm_store_def both[2] = { far, none };
    sp_err err;
    assert_int_equal(sm_stores_sync_config(f->db, both, 2, &err), SP_OK);
    sm_store_info info;
    assert_string_equal(reserve(f, 1, 4000, NULL, 0, &info), "far");
    assert_false(info.reachable);
    assert_null(reserve(f, 2, 4000, NULL, 0, &info)); /* none: no capacity, not reachable */
    /* removing a store from the config forgets it */
    assert_int_equal(sm_stores_sync_config(f->db, &none, 1, &err), SP_OK);
    assert_int_equal(sm_stores_get(f->db, "far", &info, &err), SP_ENOTFOUND);
    /* the stale reservation of the vanished store is replaced, not returned */
    assert_null(reserve(f, 1, 4000, NULL, 0, &info));
}

static void test_attach_detach(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_store_def d = def(f, "s1", 0, 10);
    snprintf(d.allow_miners, sizeof d.allow_miners, "1000");
    assert_int_equal(sm_stores_attach(f->db, &d, &err), SP_OK);
    /* sectorstore.json with lotus' fields, ID = name */
    char path[4200];
    snprintf(path, sizeof path, "%s/sectorstore.json", d.path);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(sp_read_file(path, 1 << 16, &text, &len, &err), SP_OK);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "ID")->valuestring, "s1");
    assert_int_equal(cJSON_GetObjectItem(j, "Weight")->valueint, 10);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "CanStore")));
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "CanSeal")));
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "AllowMiners"), 0)->valuestring, "f01000");
    assert_non_null(cJSON_GetObjectItem(j, "MaxStorage"));
    cJSON_Delete(j);
    /* the same name again, and a config store by that name, are refused */
    assert_int_equal(sm_stores_attach(f->db, &d, &err), SP_EEXIST);
    assert_int_equal(sm_stores_sync_config(f->db, &d, 1, &err), SP_EEXIST);
    /* a path whose sectorstore.json names another store */
    sm_store_def other = def(f, "s2", 0, 1);
    snprintf(other.path, sizeof other.path, "%s", d.path);
    assert_int_equal(sm_stores_attach(f->db, &other, &err), SP_EEXIST);
    assert_non_null(strstr(err.msg, "s1"));
    /* relative paths and missing directories */
    sm_store_def rel = def(f, "s3", 0, 1);
    snprintf(rel.path, sizeof rel.path, "relative/dir");
    assert_int_equal(sm_stores_attach(f->db, &rel, &err), SP_EINVAL);
    snprintf(rel.path, sizeof rel.path, "/nonexistent/sealpipe");
    assert_int_equal(sm_stores_attach(f->db, &rel, &err), SP_ENOTFOUND);
    snprintf(rel.name, sizeof rel.name, "bad/name");
    assert_int_equal(sm_stores_attach(f->db, &rel, &err), SP_EINVAL);
    /* detach refused while a reservation is held, then accepted */
    sm_store_info info;
    assert_string_equal(reserve(f, 9, 1, NULL, 0, &info), "s1");
    assert_int_equal(sm_stores_detach(f->db, "s1", &err), SP_EBUSY);
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_OK);
    assert_int_equal(sm_stores_release_in(f->db, 1000, 9, &err), SP_OK);
    assert_int_equal(sm_db_commit(f->db, &err), SP_OK);
    assert_int_equal(sm_stores_detach(f->db, "s1", &err), SP_OK);
    assert_int_equal(sm_stores_detach(f->db, "s1", &err), SP_ENOTFOUND);
    /* config stores are detached by editing the config */
    sm_store_def cfg = def(f, "c1", 0, 1);
    assert_int_equal(sm_stores_sync_config(f->db, &cfg, 1, &err), SP_OK);
    assert_int_equal(sm_stores_detach(f->db, "c1", &err), SP_ESTATE);
    /* an existing sectorstore.json with the right ID is accepted as it is */
    assert_int_equal(sm_stores_attach(f->db, &d, &err), SP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_placement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_lists_and_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_attach_detach, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
