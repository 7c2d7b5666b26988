/* test_commcid.c — commitment CIDs (go-fil-commcid layout), replica_id and prover ids.
 * CID vectors: the empty 32 GiB / 64 GiB CommD CIDs of go-fil-commcid's commcid_test.go;
 * real CommD/CommR CIDs printed by `lotus-miner sectors status` and used in Lotus itests
 * (round trips).  replica_id: a hand-built 136-byte message hashed with coreutils
 * sha256sum (see the comment at test_replica_id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data_internal.h"
#include "sealproofs.h"
#include "sp_codec.h"

static void assert_hex(const uint8_t *v, size_t n, const char *want)
{
    char h[200];
    sp_hex_encode(v, n, h);
    assert_string_equal(h, want);
}

/* Test-side multibase base32 encoder, to build malformed CIDs. */
static void b32(const uint8_t *in, size_t len, char *out)
{
    static const char a[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t o = 0;
    *out++ = 'b';
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = a[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits)
        out[o++] = a[(acc << (5 - bits)) & 31];
    out[o] = 0;
}

static void test_encode_known(void **state)
{
    (void)state;
    char s[PF_COMMCID_STR_MAX];
    uint8_t bin[PF_COMMCID_MAX_BYTES], comm[32];
    pf_error e;
    /* go-fil-commcid: empty 32 GiB sector */
    assert_int_equal(pf_zero_comm(32ULL << 30, comm, &e), PF_OK);
    assert_int_equal(pf_commcid_encode(PF_COMM_UNSEALED, comm, s, sizeof s, &e), PF_OK);
    assert_string_equal(s, "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq");
    assert_int_equal(pf_commcid_bytes(PF_COMM_UNSEALED, comm, bin), 39);
    assert_hex(bin, 7, "0181e203922020");
    assert_int_equal(pf_commcid_bytes(PF_COMM_SEALED, comm, bin), 40);
    assert_hex(bin, 8, "0182e20381e80220");
    assert_int_equal(pf_commcid_encode(PF_COMM_SEALED, comm, s, sizeof s, &e), PF_OK);
    assert_memory_equal(s, "bagboea4b5abc", 13);
    /* buffer too small, bad kind */
    assert_int_equal(pf_commcid_encode(PF_COMM_SEALED, comm, s, 20, &e), PF_EINVAL);
    assert_int_equal(pf_commcid_encode(PF_COMM_ANY, comm, s, sizeof s, &e), PF_EINVAL);
}

static void test_round_trips(void **state)
{
    (void)state;
    static const struct {
        const char *cid;
        pf_comm_kind kind;
    } known[] = {
        { "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq", PF_COMM_UNSEALED },
        { "baga6ea4seaqomqafu276g53zko4k23xzh4h4uecjwicbmvhsuqi7o4bhthhm4aq", PF_COMM_UNSEALED },
        { "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy", PF_COMM_UNSEALED },
        { "bagboea4b5abcbnym7z3pgc64fk5wwsk3nsmz62jamgaa3pekzelmm3fv5q6g6zji", PF_COMM_SEALED },
        { "bagboea4b5abcatlxechwbp7kjpjguna6r6q7ejrhe6mdp3lf34pmswn27pkkiekz", PF_COMM_SEALED },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        uint8_t comm[32];
        pf_comm_kind kind = PF_COMM_ANY;
        char s[PF_COMMCID_STR_MAX];
        assert_int_equal(pf_commcid_decode(known[i].cid, PF_COMM_ANY, comm, &kind, NULL), PF_OK);
        assert_int_equal(kind, known[i].kind);
        assert_int_equal(pf_commcid_encode(kind, comm, s, sizeof s, NULL), PF_OK);
        assert_string_equal(s, known[i].cid);
        assert_int_equal(pf_commcid_decode(known[i].cid, known[i].kind, comm, NULL, NULL), PF_OK);
    }
    uint8_t comm[32];
    assert_int_equal(pf_commcid_decode(known[0].cid, PF_COMM_UNSEALED, comm, NULL, NULL), PF_OK);
    assert_memory_equal(comm, pf_zero_comm_level(30), 32);
    /* random commitments of both kinds, and the uppercase base32 multibase 'B' */
    unsigned seed = 6;
    for (int r = 0; r < 200; r++) {
        uint8_t c[32], back[32];
        for (int i = 0; i < 32; i++)
            c[i] = (uint8_t)(rand_r(&seed) >> 5);
        pf_comm_kind k = r & 1 ? PF_COMM_SEALED : PF_COMM_UNSEALED;
        char s[PF_COMMCID_STR_MAX];
        assert_int_equal(pf_commcid_encode(k, c, s, sizeof s, NULL), PF_OK);
        assert_int_equal(pf_commcid_decode(s, k, back, NULL, NULL), PF_OK);
        assert_memory_equal(c, back, 32);
        for (char *p = s; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        assert_int_equal(pf_commcid_decode(s, k, back, NULL, NULL), PF_OK);
        assert_memory_equal(c, back, 32);
    }
}

static void expect_reject(const char *cid, pf_comm_kind expect, const char *msg_part)
{
    uint8_t comm[32];
    pf_error e;
    memset(&e, 0, sizeof e);
    assert_int_equal(pf_commcid_decode(cid, expect, comm, NULL, &e), PF_EINVAL);
    assert_int_equal(e.status, PF_EINVAL);
    if (!strstr(e.msg, msg_part))
        fail_msg("'%s' rejected with '%s', expected mention of '%s'", cid, e.msg, msg_part);
}

static void test_rejections(void **state)
{
    (void)state;
    const char *sealed = "bagboea4b5abcbnym7z3pgc64fk5wwsk3nsmz62jamgaa3pekzelmm3fv5q6g6zji";
    const char *unsealed = "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq";
    expect_reject(sealed, PF_COMM_UNSEALED, "expected an unsealed");
    expect_reject(unsealed, PF_COMM_SEALED, "expected a sealed");
    expect_reject("", PF_COMM_ANY, "empty");
    expect_reject("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", PF_COMM_ANY, "CIDv0");
    expect_reject("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", PF_COMM_ANY, "base32");
    expect_reject("baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mp1", PF_COMM_ANY,
                  "not base32");
    expect_reject("baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mp", PF_COMM_ANY,
                  "");   /* truncated */
    expect_reject("baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq=", PF_COMM_ANY,
                  "not base32");

    uint8_t bin[64];
    char s[200];
    uint8_t digest[33];
    memset(digest, 0x11, sizeof digest);
    /* codec dag-cbor 0x71 with the right multihash */
    static const uint8_t dagcbor[] = { 0x01, 0x71, 0x92, 0x20, 0x20 };
    memcpy(bin, dagcbor, 5);
    memcpy(bin + 5, digest, 32);
    b32(bin, 37, s);
    expect_reject(s, PF_COMM_ANY, "unexpected commitment codec 0x71");
    /* unsealed codec with the Poseidon multihash */
    static const uint8_t mismatch[] = { 0x01, 0x81, 0xe2, 0x03, 0x81, 0xe8, 0x02, 0x20 };
    memcpy(bin, mismatch, 8);
    memcpy(bin + 8, digest, 32);
    b32(bin, 40, s);
    expect_reject(s, PF_COMM_ANY, "incorrect hashing function 0xb401");
    /* 31-byte digest */
    static const uint8_t short31[] = { 0x01, 0x81, 0xe2, 0x03, 0x92, 0x20, 0x1f };
    memcpy(bin, short31, 7);
    memcpy(bin + 7, digest, 31);
    b32(bin, 38, s);
    expect_reject(s, PF_COMM_ANY, "32 bytes long");
    /* length says 32 but 33 bytes follow */
    static const uint8_t len32[] = { 0x01, 0x81, 0xe2, 0x03, 0x92, 0x20, 0x20 };
    memcpy(bin, len32, 7);
    memcpy(bin + 7, digest, 33);
    b32(bin, 40, s);
    expect_reject(s, PF_COMM_ANY, "33 follow");
    /* version 2 and a non-minimal varint */
    bin[0] = 0x02;
    b32(bin, 39, s);
    expect_reject(s, PF_COMM_ANY, "CIDv1");
    static const uint8_t nonmin[] = { 0x01, 0x81, 0xe2, 0x83, 0x00, 0x92, 0x20, 0x20 };
    memcpy(bin, nonmin, 8);
    memcpy(bin + 8, digest, 32);
    b32(bin, 40, s);
    expect_reject(s, PF_COMM_ANY, "codec");
}

static void test_replica_id(void **state)
{
    (void)state;
    /* Independent computation (coreutils):
     *   { printf '\xe8\x07'; head -c 30 /dev/zero; printf '\0\0\0\0\0\0\0\x2a';
     *     for i in $(seq 0 31); do printf "\\x$(printf %02x $i)"; done;
     *     printf fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833 | xxd -r -p;
     *     printf '\x05'; head -c 31 /dev/zero; } | sha256sum
     *   = b3ca935655e8acc48a67064339b6c81c0802b475d5fc60e5a671a283568cf15b
     * i.e. prover f01000, sector 42 (big-endian), ticket 00..1f, comm_d = empty 2 KiB,
     * porep_id of StackedDrg2KiBV1_1; trim turns the last byte 0x5b into 0x1b. */
    uint8_t prover[32], ticket[32], rid[32];
    pf_prover_id_from_actor(1000, prover);
    for (int i = 0; i < 32; i++)
        ticket[i] = (uint8_t)i;
    pf_replica_id(prover, 42, ticket, pf_zero_comm_level(6), pf_seal_proof(5)->porep_id, rid);
    assert_hex(rid, 32, "b3ca935655e8acc48a67064339b6c81c0802b475d5fc60e5a671a283568cf11b");
}

static void test_prover_id(void **state)
{
    (void)state;
    uint8_t p[32], zero[32] = { 0 };
    /* porep.md §4: t01000 -> e8 07; interfaces.md A.6: f01234 -> d2 09 */
    pf_prover_id_from_actor(1000, p);
    assert_hex(p, 3, "e80700");
    assert_memory_equal(p + 2, zero, 30);
    pf_prover_id_from_actor(1234, p);
    assert_hex(p, 2, "d209");
    pf_prover_id_from_actor(0, p);
    assert_memory_equal(p, zero, 32);
    pf_prover_id_from_actor(127, p);
    assert_hex(p, 2, "7f00");
    pf_prover_id_from_actor(128, p);
    assert_hex(p, 3, "800100");
    pf_prover_id_from_actor(UINT64_MAX, p);
    assert_hex(p, 11, "ffffffffffffffffff0100");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_known),
        cmocka_unit_test(test_round_trips),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_replica_id),
        cmocka_unit_test(test_prover_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
