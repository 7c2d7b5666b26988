/* test_sha256.c — SHA-256: FIPS 180-4 vectors on both paths, SHA-NI against portable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sha256.h"
#include "sp_codec.h"

static void hash_hex(const char *msg, size_t len, char out[65])
{
    uint8_t d[32];
    pf_sha256(msg, len, d);
    sp_hex_encode(d, 32, out);
}

static void test_vectors(void **state)
{
    (void)state;
    char h[65];
    hash_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hash_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hash_hex(m448, strlen(m448), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                       "klmnopqrlmnopqrsmnopqrstnopqrstu";
    hash_hex(m896, strlen(m896), h);
    assert_string_equal(h, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* one million 'a', fed in uneven pieces to exercise the buffering */
    pf_sha256_ctx c;
    pf_sha256_init(&c);
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    size_t left = 1000000;
    while (left) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        pf_sha256_update(&c, chunk, n);
        left -= n;
    }
    uint8_t d[32];
    pf_sha256_final(&c, d);
    sp_hex_encode(d, 32, h);
    assert_string_equal(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_ni_matches_portable(void **state)
{
    (void)state;
    if (!pf_sha256_cpu_has_ni())
        skip();
    uint8_t blocks[64 * 37];
    srand(7);
    for (int round = 0; round < 200; round++) {
        for (size_t i = 0; i < sizeof blocks; i++)
            blocks[i] = (uint8_t)rand();
        size_t n = 1 + (size_t)(rand() % 37);
        uint32_t a[8], b[8];
        memcpy(a, pf_sha256_iv, 32);
        memcpy(b, pf_sha256_iv, 32);
        a[round % 8] ^= (uint32_t)rand();
        memcpy(b, a, 32);
        pf_sha256_compress_portable(a, blocks, n);
        pf_sha256_compress_ni(b, blocks, n);
        assert_memory_equal(a, b, 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_ni_matches_portable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
