/* test_storage_placement.c — where new files and replicas go: the filters (file types,
 * miners, read-only, reachability, heartbeat cool-down, room after reservations, copies
 * and min_free_pct), room x weight x score ranking, distinct failure domains (preferring
 * another rack), tier fallback when a tier is full; the storage policy's layouts, moves
 * and config errors; StoreReserveSpace by tier through the database; sectorstore.json
 * written with the new fields and read back by `storage redeclare`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sm_conf.h"
#include "sm_db.h"
#include "sm_placement.h"
#include "sm_policy.h"
#include "sm_stores.h"
#include "sp_fs.h"

#define GiB (1ULL << 30)

static sm_store_info store(const char *name, const char *tier, const char *domain, uint64_t avail,
                           uint64_t weight)
{
    sm_store_info s;
    memset(&s, 0, sizeof s);
    snprintf(s.def.name, sizeof s.def.name, "%s", name);
    snprintf(s.def.path, sizeof s.def.path, "/mnt/%s", name);
    snprintf(s.def.tier, sizeof s.def.tier, "%s", tier);
    snprintf(s.def.domain, sizeof s.def.domain, "%s", domain);
    s.def.weight = weight;
    s.reachable = true;
    s.fs_total = 100 * GiB;
    s.available = avail;
    s.score = 1.0;
    s.healthy = true;
    return s;
}

static const char *pick(const sm_store_info *v, size_t n, const sm_place_req *r, char *why)
{
    char buf[256];
    ssize_t i = sm_place_pick(v, n, r, NULL, why ? why : buf, 256);
    return i < 0 ? NULL : v[i].def.name;
}

static void test_filters(void **state)
{
    (void)state;
    sm_store_info v[2] = { store("a", "hot", "", 10 * GiB, 1), store("b", "hot", "", 5 * GiB, 1) };
    sm_tier hot = SM_TIER_HOT;
    sm_place_req r = { .types = SM_FT_UNSEALED, .size = GiB, .tiers = &hot, .n_tiers = 1,
                       .need_reachable = true, .now_ms = 1000 };
    assert_string_equal(pick(v, 2, &r, NULL), "a");
    /* a store that takes only sealed and cache files does not get unsealed data */
    v[0].def.allow_types = SM_FT_SEALED | SM_FT_CACHE;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    /* deny wins over allow */
    v[0].def.allow_types = 0;
    v[0].def.deny_types = SM_FT_UNSEALED;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    v[0].def.deny_types = 0;
    /* miners */
    snprintf(v[0].def.deny_miners, sizeof v[0].def.deny_miners, "1000");
    r.has_miner = true;
    r.miner = 1000;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    r.miner = 1001;
    assert_string_equal(pick(v, 2, &r, NULL), "a");
    /* read-only, unreachable, cooling down, avoided */
    v[0].def.readonly = true;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    v[0].def.readonly = false;
    v[0].reachable = false;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    r.need_reachable = false;
    assert_string_equal(pick(v, 2, &r, NULL), "a");
    v[0].reachable = true;
    v[0].health_known = true;
    v[0].cooldown_until_ms = 2000;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    r.now_ms = 2001; /* the cool-down is over */
    assert_string_equal(pick(v, 2, &r, NULL), "a");
    const char *avoid[] = { "a" };
    r.avoid_stores = avoid;
    r.n_avoid_stores = 1;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    r.n_avoid_stores = 0;
    /* candidates */
    const char *cands[] = { "b" };
    r.cands = cands;
    r.n_cands = 1;
    assert_string_equal(pick(v, 2, &r, NULL), "b");
    r.n_cands = 0;
    /* nothing fits: the reason says why */
    r.size = 50 * GiB;
    char why[256];
    assert_null(pick(v, 2, &r, why));
    assert_non_null(strstr(why, "no store of tier hot"));
    assert_non_null(strstr(why, "2 without room"));
}

static void test_room_and_rank(void **state)
{
    (void)state;
    sm_store_info v[3] = { store("a", "warm", "", 10 * GiB, 1), store("b", "warm", "", 6 * GiB, 2),
                           store("c", "warm", "", 8 * GiB, 1) };
    sm_tier warm = SM_TIER_WARM;
    sm_place_req r = { .types = SM_FT_SEALED | SM_FT_CACHE, .size = GiB, .tiers = &warm, .n_tiers = 1 };
    /* room x weight: a 10, b 12, c 8 */
    assert_string_equal(pick(v, 3, &r, NULL), "b");
    /* reservations and copies on their way count against room: b 6-3 = 3 -> 6 */
    v[1].reserved = 2 * GiB;
    v[1].copying = GiB;
    assert_string_equal(pick(v, 3, &r, NULL), "a");
    assert_int_equal(sm_place_room(&v[1]), 3 * GiB);
    /* min_free_pct: a keeps 5% of its 100 GiB free -> room 5 */
    v[0].def.min_free_pct = 5;
    assert_int_equal(sm_place_room(&v[0]), 5 * GiB);
    assert_string_equal(pick(v, 3, &r, NULL), "c");
    /* a low health score weighs a store down: c 8 x 0.5 = 4 < b 6 */
    v[2].score = 0.5;
    assert_string_equal(pick(v, 3, &r, NULL), "b");
    /* ties keep the first */
    sm_store_info t[2] = { store("x", "warm", "", GiB * 2, 1), store("y", "warm", "", GiB * 2, 1) };
    assert_string_equal(pick(t, 2, &r, NULL), "x");
    /* a store with exactly the room needed takes it; a byte less does not */
    sm_store_info e[1] = { store("e", "warm", "", GiB, 1) };
    assert_string_equal(pick(e, 1, &r, NULL), "e");
    e[0].available = GiB - 1;
    assert_null(pick(e, 1, &r, NULL));
}

static void test_domains(void **state)
{
    (void)state;
    sm_store_info v[4] = { store("a1", "hot", "rack-a/host-1", 10 * GiB, 1),
                           store("a2", "hot", "rack-a/host-2", 9 * GiB, 1),
                           store("b1", "hot", "rack-b/host-1", 2 * GiB, 1),
                           store("solo", "hot", "", 1 * GiB, 1) };
    sm_tier hot = SM_TIER_HOT;
    sm_place_req r = { .types = SM_FT_UNSEALED, .size = GiB / 2, .tiers = &hot, .n_tiers = 1 };
    assert_string_equal(pick(v, 4, &r, NULL), "a1");
    /* a replica on rack-a/host-1: host-2 is a distinct domain, but another rack is preferred
     * even with less room */
    const char *used[] = { "rack-a/host-1" };
    r.avoid_domains = used;
    r.n_avoid_domains = 1;
    assert_string_equal(pick(v, 4, &r, NULL), "b1");
    /* without b1's room, host-2 in the same rack is still a distinct domain */
    r.size = 3 * GiB;
    assert_string_equal(pick(v, 4, &r, NULL), "a2");
    /* replicas on both rack-a hosts and rack-b: a store without a domain is its own */
    const char *used3[] = { "rack-a/host-1", "rack-a/host-2", "rack-b/host-1" };
    r.avoid_domains = used3;
    r.n_avoid_domains = 3;
    r.size = GiB / 2;
    assert_string_equal(pick(v, 4, &r, NULL), "solo");
    const char *used4[] = { "rack-a/host-1", "rack-a/host-2", "rack-b/host-1", "store:solo" };
    r.avoid_domains = used4;
    r.n_avoid_domains = 4;
    char why[256];
    assert_null(pick(v, 4, &r, why));
    assert_non_null(strstr(why, "4 in a failure domain already used"));
    char buf[160];
    assert_string_equal(sm_store_domain(&v[3].def, buf, sizeof buf), "store:solo");
}

static void test_tier_fallback(void **state)
{
    (void)state;
    sm_store_info v[3] = { store("hot1", "hot", "", GiB / 4, 1), store("warm1", "warm", "", 50 * GiB, 1),
                           store("cold1", "cold", "", 500 * GiB, 1) };
    sm_storage_conf c;
    sp_err err;
    assert_int_equal(sm_storage_conf_load(NULL, "/tmp", &c, &err), SP_OK);
    sm_tier tiers[SM_TIER_COUNT];
    size_t nt = sm_place_tiers_for(&c, SM_KIND_UNSEALED, tiers);
    /* default unsealed layout: 2 on hot, fallback warm then cold */
    assert_int_equal(nt, 3);
    assert_int_equal(tiers[0], SM_TIER_HOT);
    assert_int_equal(tiers[1], SM_TIER_WARM);
    assert_int_equal(tiers[2], SM_TIER_COLD);
    sm_place_req r = { .types = SM_FT_UNSEALED, .size = GiB / 8, .tiers = tiers, .n_tiers = nt };
    sm_tier used;
    assert_int_equal(sm_place_pick(v, 3, &r, &used, NULL, 0), 0);
    assert_int_equal(used, SM_TIER_HOT);
    /* the hot store is full: the write falls back to warm, not to the roomier cold */
    r.size = GiB;
    assert_int_equal(sm_place_pick(v, 3, &r, &used, NULL, 0), 1);
    assert_int_equal(used, SM_TIER_WARM);
    /* sealed: warm, then cold and hot */
    nt = sm_place_tiers_for(&c, SM_KIND_SEALED, tiers);
    assert_int_equal(nt, 3);
    assert_int_equal(tiers[0], SM_TIER_WARM);
    assert_int_equal(tiers[1], SM_TIER_COLD);
    assert_int_equal(tiers[2], SM_TIER_HOT);
    /* no tiers listed: every tier alike, room x weight decides */
    r.n_tiers = 0;
    assert_int_equal(sm_place_pick(v, 3, &r, &used, NULL, 0), 2);
    assert_int_equal(used, SM_TIER_COLD);
}

static void test_policy(void **state)
{
    (void)state;
    sm_conf *c = NULL;
    sp_err err;
    const char *cfg =
        "storage = {\n"
        "  policy = { sealed = { warm = 1; cold = 1; fallback = [ \"hot\" ]; };\n"
        "             unsealed = { hot = 2; fallback = [ \"warm\" ]; }; };\n"
        "  moves = ( { type = \"unsealed\"; from = \"hot\"; to = \"warm\"; idle = \"7d\"; },\n"
        "            { type = \"sealed\"; from = \"warm\"; to = \"cold\"; high_watermark = 90; } );\n"
        "  pins = [ \"s-t01000-5\" ];\n"
        "  scrub = { window = \"23:00-04:00\"; rate = \"64MiB\"; };\n"
        "  cache = { l1_size = \"16MiB\"; l2_path = \"l2\"; l2_size = \"1GiB\"; l2_high = 80; l2_low = 60; };\n"
        "  retrieval = { readahead = \"64MiB\"; readahead_streams = 3; };\n"
        "};\n"
        "persist_stores = ( { name = \"s1\"; path = \"/mnt/s1\"; tier = \"hot\"; media = \"nvme\";\n"
        "                     allow_types = [ \"unsealed\", \"block\" ]; domain = \"rack-a/host-3\";\n"
        "                     min_free_pct = 5; } );\n";
    assert_int_equal(sm_conf_load_string(cfg, "/etc/sm/manager.cfg", &c, NULL, &err), SP_OK);
    const sm_storage_conf *s = &c->storage;
    assert_int_equal(s->policy[SM_KIND_SEALED].want[SM_TIER_WARM], 1);
    assert_int_equal(s->policy[SM_KIND_SEALED].want[SM_TIER_COLD], 1);
    assert_int_equal(s->policy[SM_KIND_SEALED].n_fallback, 1);
    assert_int_equal(s->policy[SM_KIND_UNSEALED].want[SM_TIER_HOT], 2);
    assert_int_equal(s->n_moves, 2);
    assert_int_equal(s->moves[0].idle_ms, 7 * 86400000ULL);
    assert_int_equal(s->moves[1].high_pct, 90);
    assert_int_equal(s->moves[1].low_pct, 80); /* high - 10 by default */
    assert_true(sm_policy_pinned(s, "s-t01000-5"));
    assert_false(sm_policy_pinned(s, "s-t01000-6"));
    assert_int_equal(s->window_start_min, 23 * 60);
    assert_int_equal(s->window_end_min, 4 * 60);
    assert_int_equal(s->scrub_rate, 64 << 20);
    assert_string_equal(s->l2_dir, "/etc/sm/l2");
    assert_int_equal(s->l2_high, 80);
    assert_int_equal(s->readahead, 64 << 20);
    assert_int_equal(s->readahead_streams, 3);
    const sm_store_def *d = &c->stores[0];
    assert_string_equal(d->media, "nvme");
    assert_int_equal(d->allow_types, SM_FT_UNSEALED | SM_FT_BLOCK);
    assert_string_equal(d->domain, "rack-a/host-3");
    assert_int_equal(d->min_free_pct, 5);
    /* layouts after moves */
    unsigned want[SM_TIER_COUNT];
    sm_policy_want(s, SM_KIND_UNSEALED, "", want);
    assert_int_equal(want[SM_TIER_HOT], 2);
    sm_policy_want(s, SM_KIND_UNSEALED, "hot>warm", want);
    assert_int_equal(want[SM_TIER_HOT], 0);
    assert_int_equal(want[SM_TIER_WARM], 2);
    sm_policy_want(s, SM_KIND_SEALED, "warm>cold", want);
    assert_int_equal(want[SM_TIER_WARM], 0);
    assert_int_equal(want[SM_TIER_COLD], 2);
    assert_int_equal(sm_policy_total(want), 2);
    sm_policy_want(s, SM_KIND_SEALED, "garbage", want); /* ignored */
    assert_int_equal(want[SM_TIER_WARM], 1);
    sm_conf_unref(c);
    /* read-ahead defaults: 32 MiB over 8 pieces */
    assert_int_equal(sm_conf_load_string("storage = { };", "/etc/sm/manager.cfg", &c, NULL, &err),
                     SP_OK);
    assert_int_equal(c->storage.readahead, 32 << 20);
    assert_int_equal(c->storage.readahead_streams, 8);
    sm_conf_unref(c);

    /* mistakes name the line and the key */
    const char *bad[] = {
        "storage = { policy = { unsealed = { hot = 0; }; }; };",
        "storage = { moves = ( { type = \"sealed\"; from = \"warm\"; to = \"cold\"; } ); };",
        "storage = { moves = ( { type = \"sealed\"; from = \"warm\"; to = \"warm\"; age = \"1d\"; } ); };",
        "storage = { moves = ( { type = \"x\"; from = \"warm\"; to = \"cold\"; age = \"1d\"; } ); };",
        "storage = { cache = { l2_high = 50; l2_low = 60; }; };",
        "storage = { scrub = { window = \"25:00-3\"; }; };",
        "storage = { retrieval = { readahead_streams = 0; }; };",
        "storage = { retrieval = { readahead = \"2GiB\"; }; };",
        "storage = { policy = { sealed = { fallback = [ \"cold\", \"cold\" ]; }; }; };",
        "persist_stores = ( { name = \"s\"; path = \"/x\"; allow_types = [ \"seald\" ]; } );",
        "persist_stores = ( { name = \"s\"; path = \"/x\"; media = \"tape\"; } );",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err.msg[0] = 0;
        assert_int_equal(sm_conf_load_string(bad[i], "m.cfg", &c, NULL, &err), SP_ECONFIG);
        assert_non_null(strstr(err.msg, "m.cfg:1"));
    }
    /* the window across midnight */
    sm_storage_conf w;
    memset(&w, 0, sizeof w);
    w.window_start_min = 23 * 60;
    w.window_end_min = 4 * 60;
    assert_true(w.window_start_min != w.window_end_min);
    w.window_start_min = w.window_end_min = 0;
    assert_true(sm_policy_in_window(&w, 12345));
    /* file type lists */
    uint32_t bits;
    assert_true(sm_ftypes_parse_csv("sealed,cache", &bits));
    assert_int_equal(bits, SM_FT_SEALED | SM_FT_CACHE);
    assert_false(sm_ftypes_parse_csv("sealed,,cache", &bits));
    char buf[64];
    assert_string_equal(sm_ftypes_format(SM_FT_UNSEALED | SM_FT_PIECE | SM_FT_BLOCK, buf, sizeof buf),
                        "unsealed,piece,block");
}

/* ---- through the database ----------------------------------------------------------------- */

typedef struct fixture {
    char dir[64];
    sm_db *db;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sm-place-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    char path[128];
    snprintf(path, sizeof path, "%s/m.db", f->dir);
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

static sm_store_def def(fixture *f, const char *name, const char *tier, uint64_t capacity)
{
    sm_store_def d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.path, sizeof d.path, "%s/%s", f->dir, name);
    sp_mkdir_p(d.path, 0755, NULL);
    d.capacity = capacity;
    d.weight = 1;
    snprintf(d.tier, sizeof d.tier, "%s", tier);
    return d;
}

static void test_reserve_by_tier(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_store_def d[3] = { def(f, "hot1", "hot", 1 << 30), def(f, "warm1", "warm", 1 << 20),
                          def(f, "cold1", "cold", 1 << 30) };
    for (int i = 0; i < 3; i++)
        assert_int_equal(sm_stores_attach(f->db, &d[i], &err), SP_OK);
    sm_storage_conf sc;
    assert_int_equal(sm_storage_conf_load(NULL, f->dir, &sc, &err), SP_OK);
    sm_store_info info;
    bool found;
    /* sealed sectors go to warm first, even though hot and cold have more room */
    assert_int_equal(sm_stores_reserve_tiered(f->db, &sc, 1000, 1, 4096, NULL, 0, &info, &found, &err), SP_OK);
    assert_true(found);
    assert_string_equal(info.def.name, "warm1");
    /* warm is full for a 1 MiB sector: the fallback order is cold, then hot */
    assert_int_equal(sm_stores_reserve_tiered(f->db, &sc, 1000, 2, 1 << 20, NULL, 0, &info, &found, &err), SP_OK);
    assert_true(found);
    assert_string_equal(info.def.name, "cold1");
    /* persisting creates the sealed object and its replica; it counts as stored */
    assert_int_equal(sm_db_begin(f->db, SM_TX_WRITE, &err), SP_OK);
    assert_int_equal(sm_stores_mark_persisted_in(f->db, 1000, 1, "warm1", 1000, &err), SP_OK);
    assert_int_equal(sm_db_commit(f->db, &err), SP_OK);
    assert_int_equal(sm_stores_get(f->db, "warm1", &info, &err), SP_OK);
    assert_int_equal(info.sectors, 1);
    assert_int_equal(info.stored, 1000);
    assert_int_equal(info.available, (1 << 20) - 1000);
    /* a store that does not take sealed files is skipped */
    sm_store_def t = def(f, "unsealed-only", "warm", 1 << 30);
    t.allow_types = SM_FT_UNSEALED;
    assert_int_equal(sm_stores_attach(f->db, &t, &err), SP_OK);
    assert_int_equal(sm_stores_reserve_tiered(f->db, &sc, 1000, 3, 4096, NULL, 0, &info, &found, &err), SP_OK);
    assert_string_equal(info.def.name, "warm1");
}

static void test_sectorstore_json(void **state)
{
    fixture *f = *state;
    sp_err err;
    sm_store_def d = def(f, "nv1", "hot", 0);
    snprintf(d.media, sizeof d.media, "nvme");
    snprintf(d.domain, sizeof d.domain, "rack-a/host-1");
    snprintf(d.allow_miners, sizeof d.allow_miners, "1000,1001");
    d.allow_types = SM_FT_UNSEALED | SM_FT_BLOCK;
    d.deny_types = SM_FT_SEALED;
    d.min_free_pct = 7;
    d.weight = 3;
    assert_int_equal(sm_stores_attach(f->db, &d, &err), SP_OK);
    char path[4200], *text = NULL;
    size_t len;
    snprintf(path, sizeof path, "%s/sectorstore.json", d.path);
    assert_int_equal(sp_read_file(path, 1 << 20, &text, &len, &err), SP_OK);
    /* lotus' fields and names */
    assert_non_null(strstr(text, "\"ID\":\t\"nv1\""));
    assert_non_null(strstr(text, "\"CanStore\":\ttrue"));
    assert_non_null(strstr(text, "\"AllowTypes\":\t[\"unsealed\", \"block\"]"));
    assert_non_null(strstr(text, "\"DenyTypes\":\t[\"sealed\"]"));
    assert_non_null(strstr(text, "\"AllowMiners\":\t[\"f01000\", \"f01001\"]"));
    assert_non_null(strstr(text, "\"Domain\":\t\"rack-a/host-1\""));
    sm_store_def back;
    assert_int_equal(sm_stores_parse_meta(text, len, &back, &err), SP_OK);
    assert_string_equal(back.name, "nv1");
    assert_string_equal(back.tier, "hot");
    assert_string_equal(back.media, "nvme");
    assert_string_equal(back.domain, "rack-a/host-1");
    assert_string_equal(back.allow_miners, "1000,1001");
    assert_int_equal(back.allow_types, d.allow_types);
    assert_int_equal(back.deny_types, d.deny_types);
    assert_int_equal(back.min_free_pct, 7);
    assert_int_equal(back.weight, 3);
    free(text);
    /* an operator edits the file (lotus style: CanStore false, t0 miner ids); redeclare
     * applies it */
    const char *edited = "{\"ID\":\"nv1\",\"Weight\":9,\"CanSeal\":false,\"CanStore\":false,"
                         "\"MaxStorage\":1048576,\"AllowTypes\":null,\"DenyTypes\":[\"piece\"],"
                         "\"AllowMiners\":[\"t01002\"],\"DenyMiners\":null,\"Tier\":\"warm\","
                         "\"Domain\":\"rack-b/host-9\"}";
    assert_int_equal(sp_write_file_atomic(path, edited, strlen(edited), 0644, &err), SP_OK);
    int changed = 0;
    assert_int_equal(sm_stores_redeclare(f->db, NULL, &changed, &err), SP_OK);
    assert_int_equal(changed, 1);
    sm_store_info info;
    assert_int_equal(sm_stores_get(f->db, "nv1", &info, &err), SP_OK);
    assert_int_equal(info.def.weight, 9);
    assert_true(info.def.readonly);
    assert_int_equal(info.def.capacity, 1 << 20);
    assert_string_equal(info.def.tier, "warm");
    assert_string_equal(info.def.domain, "rack-b/host-9");
    assert_string_equal(info.def.allow_miners, "1002");
    assert_int_equal(info.def.allow_types, 0);
    assert_int_equal(info.def.deny_types, SM_FT_PIECE);
    assert_string_equal(info.def.path, d.path); /* the path stays */
    /* a file naming another store is refused and changes nothing */
    const char *other = "{\"ID\":\"someone-else\",\"Weight\":1}";
    assert_int_equal(sp_write_file_atomic(path, other, strlen(other), 0644, &err), SP_OK);
    assert_int_equal(sm_stores_redeclare(f->db, "nv1", &changed, &err), SP_EEXIST);
    assert_non_null(strstr(err.msg, "someone-else"));
    /* garbage */
    assert_int_equal(sp_write_file_atomic(path, "{", 1, 0644, &err), SP_OK);
    assert_int_equal(sm_stores_redeclare(f->db, "nv1", &changed, &err), SP_EPARSE);
    assert_int_equal(sm_stores_get(f->db, "nv1", &info, &err), SP_OK);
    assert_int_equal(info.def.weight, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_room_and_rank),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_tier_fallback),
        cmocka_unit_test(test_policy),
        cmocka_unit_test_setup_teardown(test_reserve_by_tier, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sectorstore_json, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
