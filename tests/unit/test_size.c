/* test_size.c — sizes, durations, hex and base64 from common/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sp_codec.h"
#include "sp_size.h"

static void size_ok(const char *s, uint64_t want)
{
    uint64_t v = 12345;
    sp_err e;
    sp_code rc = sp_parse_size(s, &v, &e);
    if (rc)
        fail_msg("parse_size(%s): %s", s, e.msg);
    assert_int_equal(v, want);
}

static void size_bad(const char *s, const char *needle)
{
    uint64_t v = 777;
    sp_err e = { 0 };
    assert_int_equal(sp_parse_size(s, &v, &e), SP_EINVAL);
    assert_int_equal(v, 777);          /* output untouched on error */
    assert_non_null(strstr(e.msg, needle));
}

static void test_sizes_valid(void **state)
{
    (void)state;
    size_ok("2KiB", 2048);
    size_ok("32GiB", 32ULL << 30);
    size_ok("512MiB", 512ULL << 20);
    size_ok("64GiB", 64ULL << 30);
    size_ok("4096", 4096);
    size_ok("0", 0);
    size_ok("1 KiB", 1024);
    size_ok("1kib", 1024);
    size_ok("8M", 8ULL << 20);
    size_ok("1GB", 1000000000ULL);
    size_ok("10B", 10);
    size_ok("18446744073709551615", UINT64_MAX);
    size_ok("16383PiB", 16383ULL << 50);
}

static void test_sizes_garbage(void **state)
{
    (void)state;
    size_bad("12XB", "unknown unit");
    size_bad("-1KiB", "non-negative");
    size_bad("", "non-negative");
    size_bad("KiB", "non-negative");
    size_bad("18446744073709551616", "too large");
    size_bad("16384PiB", "too large");
    size_bad("1.5GiB", "unknown unit");
    size_bad("2KiB extra", "unknown unit");
    sp_err e;
    uint64_t v;
    assert_int_equal(sp_parse_size(NULL, &v, &e), SP_EINVAL);
}

static void test_size_format(void **state)
{
    (void)state;
    char b[64];
    assert_string_equal(sp_format_size(2048, b, sizeof b), "2KiB");
    assert_string_equal(sp_format_size(32ULL << 30, b, sizeof b), "32GiB");
    assert_string_equal(sp_format_size(1000, b, sizeof b), "1000");
    assert_string_equal(sp_format_size(0, b, sizeof b), "0");
    assert_string_equal(sp_format_size_human(1536ULL << 20, b, sizeof b), "1.5 GiB");
    assert_string_equal(sp_format_size_human(512, b, sizeof b), "512 B");
    /* round trip of every exact form */
    for (int i = 0; i < 60; i++) {
        uint64_t v = (uint64_t)3 << i, back;
        sp_format_size(v, b, sizeof b);
        assert_int_equal(sp_parse_size(b, &back, NULL), SP_OK);
        assert_int_equal(back, v);
    }
}

static void test_durations(void **state)
{
    (void)state;
    uint64_t ms;
    struct { const char *s; uint64_t ms; } ok[] = {
        { "30s", 30000 }, { "5min", 300000 }, { "1h", 3600000 }, { "250ms", 250 },
        { "1h30m", 5400000 }, { "2d", 172800000 }, { "0", 0 }, { "10m", 600000 },
        { "1h 30m", 5400000 }, { "0s", 0 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sp_err e;
        if (sp_parse_duration_ms(ok[i].s, &ms, &e))
            fail_msg("%s: %s", ok[i].s, e.msg);
        assert_int_equal(ms, ok[i].ms);
    }
    const char *bad[] = { "", "30", "5 parsecs", "-1s", "1.5h", "h", "30s!", "99999999999999999999d",
                          "213503982336d" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sp_err e = { 0 };
        if (sp_parse_duration_ms(bad[i], &ms, &e) == SP_OK)
            fail_msg("accepted %s", bad[i]);
        assert_true(strlen(e.msg) > 0);
    }
    char b[64];
    assert_string_equal(sp_format_duration(5400000, b, sizeof b), "1h30m");
    assert_string_equal(sp_format_duration(0, b, sizeof b), "0s");
    assert_string_equal(sp_format_duration(1250, b, sizeof b), "1s250ms");
    assert_int_equal(sp_parse_duration_ms("1s250ms", &ms, NULL), SP_OK);
    assert_int_equal(ms, 1250);
}

static void test_hex(void **state)
{
    (void)state;
    uint8_t in[4] = { 0x00, 0xab, 0x7f, 0xff }, out[4];
    char h[9];
    sp_hex_encode(in, 4, h);
    assert_string_equal(h, "00ab7fff");
    assert_int_equal(sp_hex_decode("00AB7fff", out, 4, NULL), SP_OK);
    assert_memory_equal(in, out, 4);
    assert_int_equal(sp_hex_decode("0x00ab7fff", out, 4, NULL), SP_OK);
    sp_err e;
    assert_int_equal(sp_hex_decode("00ab7f", out, 4, &e), SP_EINVAL);
    assert_non_null(strstr(e.msg, "expected 8 hex digits"));
    assert_int_equal(sp_hex_decode("00ab7fzz", out, 4, &e), SP_EINVAL);
    uint8_t *buf;
    size_t len;
    assert_int_equal(sp_hex_decode_alloc("abc", &buf, &len, &e), SP_EINVAL);
    assert_int_equal(sp_hex_decode_alloc("", &buf, &len, &e), SP_OK);
    assert_int_equal(len, 0);
    free(buf);
}

static void test_base64(void **state)
{
    (void)state;
    /* RFC 4648 section 10 vectors */
    const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
    const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
    for (int i = 0; i < 7; i++) {
        char out[16];
        sp_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), out);
        assert_string_equal(out, enc[i]);
        uint8_t *d;
        size_t n;
        assert_int_equal(sp_base64_decode_alloc(enc[i], &d, &n, NULL), SP_OK);
        assert_int_equal(n, strlen(plain[i]));
        assert_memory_equal(d, plain[i], n);
        free(d);
    }
    uint8_t *d;
    size_t n;
    assert_int_equal(sp_base64_decode_alloc("Zm9v!", &d, &n, NULL), SP_EINVAL);
    assert_int_equal(sp_base64_decode_alloc("Z===", &d, &n, NULL), SP_EINVAL);
    uint8_t fixed[3];
    assert_int_equal(sp_base64_decode("Zm9v", fixed, 3, NULL), SP_OK);
    assert_int_equal(sp_base64_decode("Zm8=", fixed, 3, NULL), SP_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_valid),
        cmocka_unit_test(test_sizes_garbage),
        cmocka_unit_test(test_size_format),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
