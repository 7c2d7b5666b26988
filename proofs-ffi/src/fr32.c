/* fr32.c — fr32 padding and unpadding (rust-fil-proofs fr32 crate semantics).
 *
 * A 127-byte block is one 1016-bit little-endian integer; padding splits it into four
 * 254-bit field elements, each stored in 32 bytes with the top two bits zero.  Blocks are
 * processed as 64-bit words: element i starts at bit 254*i of the block.  A final partial
 * block is zero-filled and emitted as ceil(8r/254) whole elements, as Fr32Reader does. */
#include <endian.h>
#include <string.h>

#include "data_internal.h"
#include "sealproofs.h"

#define TOP62 0x3fffffffffffffffULL

static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return le64toh(v);
}

static inline void st64(uint8_t *p, uint64_t v)
{
    v = htole64(v);
    memcpy(p, &v, 8);
}

/* Bits [s, s+64) of the 128-bit little-endian pair (lo, hi), 0 < s < 64. */
#define SPAN(lo, hi, s) (((lo) >> (s)) | ((hi) << (64 - (s))))

/* in must be readable for 128 bytes; byte 127 does not influence the result (it lands
 * in the cleared top bits of element 3 or is shifted out).  Element e starts at bit
 * 254*e: words 0, 3+62/64, 7+60/64 and 11+58/64. */
static inline void pad_block128(const uint8_t *in, uint8_t *out)
{
    uint64_t w[16], o[16];
    for (int i = 0; i < 16; i++)
        w[i] = ld64(in + 8 * i);
    o[0] = w[0];
    o[1] = w[1];
    o[2] = w[2];
    o[3] = w[3] & TOP62;
    o[4] = SPAN(w[3], w[4], 62);
    o[5] = SPAN(w[4], w[5], 62);
    o[6] = SPAN(w[5], w[6], 62);
    o[7] = SPAN(w[6], w[7], 62) & TOP62;
    o[8] = SPAN(w[7], w[8], 60);
    o[9] = SPAN(w[8], w[9], 60);
    o[10] = SPAN(w[9], w[10], 60);
    o[11] = SPAN(w[10], w[11], 60) & TOP62;
    o[12] = SPAN(w[11], w[12], 58);
    o[13] = SPAN(w[12], w[13], 58);
    o[14] = SPAN(w[13], w[14], 58);
    o[15] = SPAN(w[14], w[15], 58) & TOP62;
    for (int i = 0; i < 16; i++)
        st64(out + 8 * i, o[i]);
}

void pf_fr32_pad_blocks(const uint8_t *in, size_t nblocks, uint8_t *out)
{
    /* Every block but the last may read the next block's first byte, which is ignored. */
    for (size_t b = 0; b + 1 < nblocks; b++)
        pad_block128(in + 127 * b, out + 128 * b);
    if (nblocks) {
        uint8_t last[128];
        memcpy(last, in + 127 * (nblocks - 1), 127);
        last[127] = 0;
        pad_block128(last, out + 128 * (nblocks - 1));
    }
}

void pf_fr32_unpad_block(const uint8_t in[128], uint8_t out[127])
{
    uint64_t e[16], u[16];
    for (int i = 0; i < 16; i++)
        e[i] = ld64(in + 32 * (i / 4) + 8 * (i % 4));
    e[3] &= TOP62;
    e[7] &= TOP62;
    e[11] &= TOP62;
    e[15] &= TOP62;
    /* the inverse of pad_block128: element e shifted up by 254*e bits */
    u[0] = e[0];
    u[1] = e[1];
    u[2] = e[2];
    u[3] = e[3] | e[4] << 62;
    u[4] = e[4] >> 2 | e[5] << 62;
    u[5] = e[5] >> 2 | e[6] << 62;
    u[6] = e[6] >> 2 | e[7] << 62;
    u[7] = e[7] >> 2 | e[8] << 60;
    u[8] = e[8] >> 4 | e[9] << 60;
    u[9] = e[9] >> 4 | e[10] << 60;
    u[10] = e[10] >> 4 | e[11] << 60;
    u[11] = e[11] >> 4 | e[12] << 58;
    u[12] = e[12] >> 6 | e[13] << 58;
    u[13] = e[13] >> 6 | e[14] << 58;
    u[14] = e[14] >> 6 | e[15] << 58;
    u[15] = e[15] >> 6;
    uint8_t tmp[128];
    for (int i = 0; i < 16; i++)
        st64(tmp + 8 * i, u[i]);
    memcpy(out, tmp, 127);
}

/* Whole 32-byte elements rust's Fr32Reader emits for a final block of r (< 127) bytes. */
static size_t partial_out_len(size_t r)
{
    return r ? (r * 8 + 253) / 254 * 32 : 0;
}

uint64_t pf_fr32_padded_len(uint64_t unpadded_len)
{
    return unpadded_len / 127 * 128 + partial_out_len(unpadded_len % 127);
}

/* rust's PaddingMap::transform_bit_offset for 254 data bits per 256-bit element. */
static uint64_t transform_bits(uint64_t pos, int padding)
{
    uint64_t from = padding ? 254 : 256, to = padding ? 256 : 254;
    return pos / from * to + pos % from;
}

uint64_t pf_fr32_to_padded_bytes(uint64_t unpadded)
{
    return (transform_bits(unpadded * 8, 1) + 7) / 8;
}

uint64_t pf_fr32_to_unpadded_bytes(uint64_t padded)
{
    return transform_bits(padded * 8, 0) / 8;
}

void pf_fr32_padder_init(pf_fr32_padder *p)
{
    memset(p, 0, sizeof *p);
}

size_t pf_fr32_padder_update(pf_fr32_padder *p, const void *in, size_t len, uint8_t *out)
{
    const uint8_t *src = in;
    size_t written = 0;
    if (len == 0)
        return 0;
    if (p->fill) {
        size_t take = 127 - p->fill < len ? 127 - p->fill : len;
        memcpy(p->buf + p->fill, src, take);
        p->fill += take;
        src += take;
        len -= take;
        if (p->fill < 127)
            return 0;
        pf_fr32_pad_blocks(p->buf, 1, out);
        written = 128;
        p->fill = 0;
    }
    size_t nblocks = len / 127;
    pf_fr32_pad_blocks(src, nblocks, out + written);
    written += 128 * nblocks;
    src += 127 * nblocks;
    len -= 127 * nblocks;
    memcpy(p->buf, src, len);
    p->fill = len;
    return written;
}

size_t pf_fr32_padder_final(pf_fr32_padder *p, uint8_t out[PF_FR32_PADDED_BLOCK])
{
    size_t n = partial_out_len(p->fill);
    if (n) {
        uint8_t block[128];
        memset(block, 0, sizeof block);
        memcpy(block, p->buf, p->fill);
        pad_block128(block, block);
        memcpy(out, block, n);
    }
    p->fill = 0;
    return n;
}

size_t pf_fr32_pad(const void *in, size_t len, uint8_t *out)
{
    pf_fr32_padder p;
    pf_fr32_padder_init(&p);
    size_t n = pf_fr32_padder_update(&p, in, len, out);
    return n + pf_fr32_padder_final(&p, out + n);
}

/* Unpadded bytes a padded prefix of padded_len bytes can yield: every whole element gives
 * 254 bits, a trailing incomplete element is all data (rust rounds the byte count up). */
static uint64_t unpadded_capacity(uint64_t padded_len)
{
    return (transform_bits(padded_len * 8, 0) + 7) / 8;
}

/* The padded block b of a buffer, zero-filled past its end. */
static void load_block(const uint8_t *padded, size_t padded_len, uint64_t b, uint8_t block[128])
{
    uint64_t start = b * 128;
    size_t have = start >= padded_len ? 0 : padded_len - start < 128 ? padded_len - start : 128;
    memcpy(block, padded + start, have);
    memset(block + have, 0, 128 - have);
}

pf_status pf_fr32_unpad(const uint8_t *padded, size_t padded_len, uint64_t offset, uint8_t *out,
                        size_t len, pf_error *err)
{
    uint64_t cap = unpadded_capacity(padded_len);
    if (offset > cap || len > cap - offset)
        return pf_data_fail(err, PF_EINVAL,
                            "fr32 unpad: bytes [%llu, %llu) requested but %zu padded bytes hold "
                            "only %llu unpadded bytes; pass a larger padded range",
                            (unsigned long long)offset, (unsigned long long)(offset + len),
                            padded_len, (unsigned long long)cap);
    size_t done = 0;
    while (done < len) {
        uint64_t pos = offset + done, b = pos / 127;
        size_t in_block = (size_t)(pos % 127), n = 127 - in_block;
        if (n > len - done)
            n = len - done;
        uint8_t block[128], raw[127];
        if ((b + 1) * 128 <= padded_len && in_block == 0 && n == 127) {
            pf_fr32_unpad_block(padded + b * 128, out + done);
        } else {
            load_block(padded, padded_len, b, block);
            pf_fr32_unpad_block(block, raw);
            memcpy(out + done, raw + in_block, n);
        }
        done += n;
    }
    pf_data_ok(err);
    return PF_OK;
}

void pf_fr32_unpadder_init(pf_fr32_unpadder *u, uint64_t unpadded_len)
{
    memset(u, 0, sizeof *u);
    u->left = unpadded_len;
}

static size_t emit_block(pf_fr32_unpadder *u, const uint8_t block[128], uint8_t *out)
{
    size_t n = u->left < 127 ? (size_t)u->left : 127;
    if (n == 127) {
        pf_fr32_unpad_block(block, out);
    } else if (n) {
        uint8_t raw[127];
        pf_fr32_unpad_block(block, raw);
        memcpy(out, raw, n);
    }
    u->left -= n;
    return n;
}

size_t pf_fr32_unpadder_update(pf_fr32_unpadder *u, const void *in, size_t len, uint8_t *out)
{
    const uint8_t *src = in;
    size_t written = 0;
    if (len == 0)
        return 0;
    if (u->fill) {
        size_t take = 128 - u->fill < len ? 128 - u->fill : len;
        memcpy(u->buf + u->fill, src, take);
        u->fill += take;
        src += take;
        len -= take;
        if (u->fill < 128)
            return 0;
        written += emit_block(u, u->buf, out);
        u->fill = 0;
    }
    while (len >= 128) {
        written += emit_block(u, src, out + written);
        src += 128;
        len -= 128;
    }
    memcpy(u->buf, src, len);
    u->fill = len;
    return written;
}

size_t pf_fr32_unpadder_final(pf_fr32_unpadder *u, uint8_t out[PF_FR32_UNPADDED_BLOCK])
{
    size_t n = 0;
    if (u->fill) {
        uint64_t cap = unpadded_capacity(u->fill);
        n = u->left < cap ? (size_t)u->left : (size_t)cap;
        uint8_t raw[127];
        memset(u->buf + u->fill, 0, 128 - u->fill);
        pf_fr32_unpad_block(u->buf, raw);
        memcpy(out, raw, n);
        u->left -= n;
    }
    u->fill = 0;
    return n;
}
