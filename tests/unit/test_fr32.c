/* test_fr32.c — fr32 padding/unpadding: rust-fil-proofs fr32/src/reader.rs vectors
 * (test_exotic, test_simple_short/single/127), a bit-by-bit reference model (the bitvec
 * definition those tests compare against), streaming in uneven pieces, round trips on
 * random lengths and offsets, and rust's padded/unpadded byte conversions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "data_internal.h"
#include "sealproofs.h"

/* Reference: LSB-first bit stream, two zero bits after every 254 data bits, the final
 * partial unit zero-extended to a whole 256-bit element (rust's bit_vec_padding). */
static size_t ref_pad(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t nbits = len * 8, o = 0;
    size_t out_len = (nbits + 253) / 254 * 32;
    memset(out, 0, out_len);
    for (size_t i = 0; i < nbits; i++) {
        if (i && i % 254 == 0)
            o += 2;
        if (in[i / 8] >> (i % 8) & 1)
            out[o / 8] |= (uint8_t)(1u << (o % 8));
        o++;
    }
    return out_len;
}

static void fill_random(uint8_t *p, size_t n, unsigned *seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rand_r(seed) >> 7);
}

static void test_exotic(void **state)
{
    (void)state;
    /* fr32/src/reader.rs test_exotic */
    uint8_t src[68];   /* porep.md says 70; the rust source has 68 bytes */
    size_t n = 0;
    for (int r = 0; r < 2; r++) {
        for (int i = 1; i <= 31; i++)
            src[n++] = (uint8_t)i;
        src[n++] = 0xff;
    }
    src[n++] = 9;
    src[n++] = 9;
    src[n++] = 9;
    src[n++] = 0xff;
    assert_int_equal(n, 68);
    uint8_t out[128];
    assert_int_equal(pf_fr32_pad(src, n, out), 96);
    for (int i = 0; i < 31; i++)
        assert_int_equal(out[i], i + 1);
    assert_int_equal(out[31], 63);
    assert_int_equal(out[32], (1 << 2) | 3);
    for (int i = 33; i < 63; i++)
        assert_int_equal(out[i], (uint8_t)((i - 31) << 2));
    assert_int_equal(out[63], 0x0f << 2);
    assert_int_equal(out[64], 0x0f | 9 << 4);
    assert_int_equal(out[65], 9 << 4);
    assert_int_equal(out[66], 9 << 4);
    assert_int_equal(out[67], 0xf0);
    assert_int_equal(out[68], 0x0f);
    uint8_t ref[128];
    assert_int_equal(ref_pad(src, n, ref), 96);
    assert_memory_equal(out, ref, 96);
}

static void test_simple(void **state)
{
    (void)state;
    uint8_t in[127], out[128], zero[128] = { 0 };
    /* test_simple_short: 30 x 0x03 -> 32 bytes, the input then zeros */
    memset(in, 3, 30);
    assert_int_equal(pf_fr32_pad(in, 30, out), 32);
    assert_memory_equal(out, in, 30);
    assert_memory_equal(out + 30, zero, 2);
    /* test_simple_single: 32 x 0xff -> 64 bytes */
    memset(in, 0xff, 32);
    assert_int_equal(pf_fr32_pad(in, 32, out), 64);
    assert_memory_equal(out, in, 31);
    assert_int_equal(out[31], 0x3f);
    assert_int_equal(out[32], 0x03);
    assert_memory_equal(out + 33, zero, 31);
    /* test_simple_127: 127 x 0xff -> 128 bytes */
    memset(in, 0xff, 127);
    assert_int_equal(pf_fr32_pad(in, 127, out), 128);
    assert_memory_equal(out, in, 31);
    assert_int_equal(out[31], 0x3f);
    assert_int_equal(out[32], 0xff);
    for (int e = 0; e < 4; e++)
        assert_int_equal(out[32 * e + 31] & 0xc0, 0);   /* every element is in the field */
}

static void test_matches_reference(void **state)
{
    (void)state;
    unsigned seed = 11;
    uint8_t in[2000], out[2100], ref[2100];
    for (size_t len = 0; len <= 800; len++) {
        fill_random(in, len, &seed);
        size_t n = pf_fr32_pad(in, len, out);
        assert_int_equal(n, pf_fr32_padded_len(len));
        assert_int_equal(ref_pad(in, len, ref), n);
        assert_memory_equal(out, ref, n);
    }
}

static void test_streaming_uneven(void **state)
{
    (void)state;
    unsigned seed = 5;
    size_t len = 127 * 40 + 77;
    uint8_t *in = malloc(len), *whole = malloc(len * 2), *parts = malloc(len * 2);
    fill_random(in, len, &seed);
    size_t want = pf_fr32_pad(in, len, whole);
    for (int round = 0; round < 50; round++) {
        pf_fr32_padder p;
        pf_fr32_padder_init(&p);
        size_t off = 0, got = 0;
        while (off < len) {
            size_t n = (size_t)rand_r(&seed) % 300;
            if (n > len - off)
                n = len - off;
            got += pf_fr32_padder_update(&p, in + off, n, parts + got);
            off += n;
        }
        got += pf_fr32_padder_final(&p, parts + got);
        assert_int_equal(got, want);
        assert_memory_equal(parts, whole, want);
    }
    free(in);
    free(whole);
    free(parts);
}

static void test_round_trip(void **state)
{
    (void)state;
    unsigned seed = 99;
    for (int round = 0; round < 300; round++) {
        size_t len = (size_t)rand_r(&seed) % 5000;
        uint8_t *in = malloc(len + 1), *pad = malloc(pf_fr32_padded_len(len) + 1);
        uint8_t *back = malloc(len + 1);
        fill_random(in, len, &seed);
        size_t plen = pf_fr32_pad(in, len, pad);
        /* whole-buffer unpad */
        assert_int_equal(pf_fr32_unpad(pad, plen, 0, back, len, NULL), PF_OK);
        assert_memory_equal(back, in, len);
        /* a random sub-range */
        if (len) {
            size_t a = (size_t)rand_r(&seed) % len, b = a + (size_t)rand_r(&seed) % (len - a + 1);
            assert_int_equal(pf_fr32_unpad(pad, plen, a, back, b - a, NULL), PF_OK);
            assert_memory_equal(back, in + a, b - a);
        }
        /* streaming unpad in uneven pieces */
        pf_fr32_unpadder u;
        pf_fr32_unpadder_init(&u, len);
        uint8_t *sout = malloc(len + 300);
        size_t off = 0, got = 0;
        while (off < plen) {
            size_t n = 1 + (size_t)rand_r(&seed) % 200;
            if (n > plen - off)
                n = plen - off;
            got += pf_fr32_unpadder_update(&u, pad + off, n, sout + got);
            off += n;
        }
        got += pf_fr32_unpadder_final(&u, sout + got);
        assert_int_equal(got, len);
        assert_int_equal(u.left, 0);
        assert_memory_equal(sout, in, len);
        free(sout);
        free(in);
        free(pad);
        free(back);
    }
}

static void test_unpad_errors(void **state)
{
    (void)state;
    uint8_t pad[256] = { 0 }, out[300];
    pf_error e;
    /* 256 padded bytes hold 254 unpadded bytes */
    assert_int_equal(pf_fr32_unpad(pad, 256, 0, out, 254, &e), PF_OK);
    assert_int_equal(pf_fr32_unpad(pad, 256, 0, out, 255, &e), PF_EINVAL);
    assert_non_null(strstr(e.msg, "hold only 254"));
    assert_int_equal(pf_fr32_unpad(pad, 256, 300, out, 1, &e), PF_EINVAL);
    /* a streaming unpadder fed too little says so through left */
    pf_fr32_unpadder u;
    pf_fr32_unpadder_init(&u, 200);
    size_t got = pf_fr32_unpadder_update(&u, pad, 128, out);
    got += pf_fr32_unpadder_final(&u, out + got);
    assert_int_equal(got, 127);
    assert_int_equal(u.left, 73);
}

static void test_byte_conversions(void **state)
{
    (void)state;
    /* rust fr32 to_padded_bytes / to_unpadded_bytes (transform_byte_offset) */
    assert_int_equal(pf_fr32_to_padded_bytes(127), 128);
    assert_int_equal(pf_fr32_to_padded_bytes(254), 256);
    assert_int_equal(pf_fr32_to_padded_bytes(27), 27);
    assert_int_equal(pf_fr32_to_padded_bytes(32), 33);   /* 256 bits -> 254 + 2 pad + 2 */
    assert_int_equal(pf_fr32_to_padded_bytes(2032), 2048);
    assert_int_equal(pf_fr32_to_unpadded_bytes(128), 127);
    assert_int_equal(pf_fr32_to_unpadded_bytes(2048), 2032);
    assert_int_equal(pf_fr32_to_unpadded_bytes(32), 31);   /* 254 bits, floor */
    assert_int_equal(pf_fr32_to_unpadded_bytes(34359738368ULL), 34091302912ULL);
    uint8_t out[128];
    assert_int_equal(pf_fr32_pad(NULL, 0, out), 0);   /* empty input, no pointer needed */
    assert_int_equal(pf_fr32_padded_len(0), 0);
    assert_int_equal(pf_fr32_padded_len(1), 32);
    assert_int_equal(pf_fr32_padded_len(32), 64);
    assert_int_equal(pf_fr32_padded_len(127), 128);
    assert_int_equal(pf_fr32_padded_len(128), 160);
}

static void test_block_inverse(void **state)
{
    (void)state;
    unsigned seed = 3;
    uint8_t in[127 * 9], pad[128 * 9], back[127];
    fill_random(in, sizeof in, &seed);
    pf_fr32_pad_blocks(in, 9, pad);
    for (int b = 0; b < 9; b++) {
        pf_fr32_unpad_block(pad + 128 * b, back);
        assert_memory_equal(back, in + 127 * b, 127);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exotic),
        cmocka_unit_test(test_simple),
        cmocka_unit_test(test_matches_reference),
        cmocka_unit_test(test_streaming_uneven),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_unpad_errors),
        cmocka_unit_test(test_byte_conversions),
        cmocka_unit_test(test_block_inverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
