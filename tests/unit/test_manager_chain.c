/* test_manager_chain.c — the local chain: ID-address entropy, Lotus' randomness draw,
 * determinism per chain, domain separation, the epoch clock and its re-basing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sm_chain.h"
#include "sm_db.h"
#include "sp_codec.h"
#include "sp_fs.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    sp_hex_encode(b, n, out);
}

/* research/interfaces.md B.4: f01234 -> CBOR bytes 43 00 d2 09 (base64 "QwDSCQ=="). */
static void test_entropy(void **state)
{
    (void)state;
    uint8_t e[12];
    char h[32];
    size_t n = sm_chain_entropy(1234, e);
    hex(e, n, h);
    assert_string_equal(h, "4300d209");
    n = sm_chain_entropy(1000, e); /* LEB128(1000) = e8 07 */
    hex(e, n, h);
    assert_string_equal(h, "4300e807");
    n = sm_chain_entropy(0, e);
    hex(e, n, h);
    assert_string_equal(h, "420000");
    n = sm_chain_entropy(UINT64_MAX, e); /* 10 LEB128 bytes: 11-byte address */
    assert_int_equal(n, 12);
    assert_int_equal(e[0], 0x4b);
    assert_int_equal(e[1], 0x00);
    assert_int_equal(e[11], 0x01);
}

/* Expected values computed independently with Python's hashlib.blake2b(digest_size=32)
 * over the byte layout of Lotus' DrawRandomnessFromDigest (chain/rand): BE int64 DST,
 * the 32-byte digest, BE int64 round, the entropy. */
static void test_draw_layout(void **state)
{
    (void)state;
    uint8_t digest[32], out[32], ent[12];
    char h[65];
    for (int i = 0; i < 32; i++)
        digest[i] = (uint8_t)(i + 1);
    size_t n = sm_chain_entropy(1234, ent);
    sm_chain_draw(digest, SM_DST_SEAL_RANDOMNESS, 1000, ent, n, out);
    hex(out, 32, h);
    assert_string_equal(h, "cf4055d6a400c4ea3d783003f0233c60fbbc343d975b47a2618efd997c0bd118");
    sm_chain_draw(digest, SM_DST_INTERACTIVE_SEAL_CHALLENGE_SEED, 1000, ent, n, out);
    hex(out, 32, h);
    assert_string_equal(h, "e5780fd10bddd16a3f2814a04d22c273c14d1540df52ac02cfa29db2c9893627");
    /* negative epochs are two's complement, as Go's binary.Write of an int64 */
    sm_chain_draw(digest, SM_DST_SEAL_RANDOMNESS, -1, ent, n, out);
    hex(out, 32, h);
    assert_string_equal(h, "39f536261e5963e239043891b2c7da565cb857752fab201bad837626f71776ac");
}

static void test_chain_randomness(void **state)
{
    (void)state;
    sm_chain c;
    memset(&c, 0, sizeof c);
    sm_chain_params_default(&c.p);
    uint8_t d[32], r[32], r2[32];
    char h[65];
    /* zero seed: digest(1000) = blake2b-256(32 zero bytes || BE64(1000)) (Python hashlib) */
    sm_chain_digest(&c, 1000, d);
    hex(d, 32, h);
    assert_string_equal(h, "6773181553cbebd9d3d67205d9845d030457b0efcc5a2bafe6e9077ca96a1ecc");
    sm_chain_randomness(&c, SM_DST_SEAL_RANDOMNESS, 1000, 1234, r);
    hex(r, 32, h);
    assert_string_equal(h, "f26abf20f0c769c9ba7d566734346fbe68ab59e65289fa0760b115896601c9d4");
    /* deterministic */
    sm_chain_randomness(&c, SM_DST_SEAL_RANDOMNESS, 1000, 1234, r2);
    assert_memory_equal(r, r2, 32);
    /* the DST, the epoch, the miner and the chain seed each change the output */
    sm_chain_randomness(&c, SM_DST_INTERACTIVE_SEAL_CHALLENGE_SEED, 1000, 1234, r2);
    assert_memory_not_equal(r, r2, 32);
    sm_chain_randomness(&c, SM_DST_SEAL_RANDOMNESS, 1001, 1234, r2);
    assert_memory_not_equal(r, r2, 32);
    sm_chain_randomness(&c, SM_DST_SEAL_RANDOMNESS, 1000, 1235, r2);
    assert_memory_not_equal(r, r2, 32);
    c.seed[0] = 1;
    sm_chain_randomness(&c, SM_DST_SEAL_RANDOMNESS, 1000, 1234, r2);
    assert_memory_not_equal(r, r2, 32);
}

static void test_clock(void **state)
{
    (void)state;
    sm_chain c;
    memset(&c, 0, sizeof c);
    sm_chain_params_default(&c.p);
    assert_int_equal(c.p.block_ms, 30000);
    assert_int_equal(c.p.challenge_delay, 150);
    assert_int_equal(c.p.max_ticket_age, 3780);
    assert_int_equal(c.p.max_prove_duration, 86550);
    c.base_epoch = 10;
    c.base_ms = 1000000;
    assert_int_equal(sm_chain_epoch_at(&c, 999999), 10);
    assert_int_equal(sm_chain_epoch_at(&c, 1000000), 10);
    assert_int_equal(sm_chain_epoch_at(&c, 1029999), 10);
    assert_int_equal(sm_chain_epoch_at(&c, 1030000), 11);
    assert_int_equal(sm_chain_ms_until(&c, 12, 1030000), 30000);
    assert_int_equal(sm_chain_ms_until(&c, 11, 1040000), 0);
    assert_int_equal(sm_chain_ticket_epoch(&c, 1000), 100);
    assert_int_equal(sm_chain_ticket_epoch(&c, 5), 0);
}

static void test_persisted_and_rebased(void **state)
{
    (void)state;
    char dir[] = "/tmp/sm-chain-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.db", dir);
    sm_db *db = NULL;
    sp_err err;
    sm_db_opts o = { .path = path, .create = true };
    assert_int_equal(sm_db_open(&o, &db, &err), SP_OK);
    sm_chain_params p;
    sm_chain_params_default(&p);
    p.block_ms = 1000;
    sm_chain a, b;
    uint64_t t0 = 5000000;
    assert_int_equal(sm_chain_load(db, &p, t0, &a, &err), SP_OK);
    assert_int_equal(a.base_epoch, 0);
    assert_int_equal(a.genesis_ms, t0);
    /* loading again keeps the seed and the clock */
    assert_int_equal(sm_chain_load(db, &p, t0 + 123456, &b, &err), SP_OK);
    assert_memory_equal(a.seed, b.seed, 32);
    assert_int_equal(sm_chain_epoch_at(&b, t0 + 123456), 123);
    /* a new block time continues from the current epoch */
    p.block_ms = 100;
    assert_int_equal(sm_chain_load(db, &p, t0 + 123456, &b, &err), SP_OK);
    assert_int_equal(b.base_epoch, 123);
    assert_int_equal(b.base_ms, t0 + 123000);
    assert_int_equal(sm_chain_epoch_at(&b, t0 + 123456), 127);
    assert_int_equal(sm_chain_epoch_at(&b, t0 + 124000), 133);
    assert_memory_equal(a.seed, b.seed, 32);
    /* a different database has a different chain */
    sm_db_close(db);
    snprintf(path, sizeof path, "%s/n.db", dir);
    assert_int_equal(sm_db_open(&o, &db, &err), SP_OK);
    assert_int_equal(sm_chain_load(db, &p, t0, &b, &err), SP_OK);
    assert_memory_not_equal(a.seed, b.seed, 32);
    sm_db_close(db);
    assert_int_equal(sp_remove_tree(dir, &err), SP_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entropy),
        cmocka_unit_test(test_draw_layout),
        cmocka_unit_test(test_chain_randomness),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_persisted_and_rebased),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
