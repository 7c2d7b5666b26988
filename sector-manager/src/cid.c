/* cid.c — unsigned varints, multihashes, CIDv0/v1 in binary and text, base32/base58btc
 * (contract in sm_cid.h).  Everything here parses untrusted bytes: every length is
 * checked before it is used and every decoder is total. */
#include "sm_cid.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#include "sealproofs.h"

/* ---- varints ------------------------------------------------------------------------------ */

int sm_varint_decode(const uint8_t *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 9; i++) {
        if (i >= len)
            return 0;
        uint8_t b = p[i];
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (b & 0x80)
            continue;
        /* A final zero group after the first byte means a shorter encoding existed. */
        if (b == 0 && i > 0)
            return -1;
        *out = v;
        return (int)i + 1;
    }
    return -1; /* a tenth byte would be needed: over 63 bits */
}

size_t sm_varint_encode(uint64_t v, uint8_t *out)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[n++] = b | (v ? 0x80 : 0);
    } while (v && n < 9);
    return n;
}

/* ---- multihash ---------------------------------------------------------------------------- */

bool sm_mh_supported(uint64_t code)
{
    return code == SM_MH_IDENTITY || code == SM_MH_SHA2_256 || code == SM_MH_SHA2_512 ||
           code == SM_MH_BLAKE2B_256;
}

/* The digest length a hash function defines, 0 when any length is allowed (identity) or
 * the function is unknown to us. */
static size_t digest_size(uint64_t code)
{
    switch (code) {
    case SM_MH_SHA2_256: return 32;
    case SM_MH_SHA2_512: return 64;
    case SM_MH_BLAKE2B_256: return 32;
    default: return 0;
    }
}

sp_code sm_mh_parse(const uint8_t *p, size_t len, sm_cid *c, sp_err *err)
{
    uint64_t code, dlen;
    int a = sm_varint_decode(p, len, &code);
    if (a <= 0)
        return sp_fail(err, SP_EINVAL, "multihash: %s hash function code",
                       a == 0 ? "truncated" : "oversized or non-minimal");
    int b = sm_varint_decode(p + a, len - (size_t)a, &dlen);
    if (b <= 0)
        return sp_fail(err, SP_EINVAL, "multihash: %s digest length",
                       b == 0 ? "truncated" : "oversized or non-minimal");
    if (dlen > SM_MH_DIGEST_MAX)
        return sp_fail(err, SP_EINVAL, "multihash: digest of %" PRIu64 " bytes is longer than %d",
                       dlen, SM_MH_DIGEST_MAX);
    size_t want = digest_size(code);
    if (want && dlen != want)
        return sp_fail(err, SP_EINVAL, "multihash: function 0x%" PRIx64 " has %zu-byte digests, "
                       "not %" PRIu64, code, want, dlen);
    size_t total = (size_t)a + (size_t)b + (size_t)dlen;
    if (total > len)
        return sp_fail(err, SP_EINVAL, "multihash: truncated digest (%zu of %" PRIu64 " bytes)",
                       len - (size_t)a - (size_t)b, dlen);
    if (total < len)
        return sp_fail(err, SP_EINVAL, "multihash: %zu bytes after the digest", len - total);
    c->mh_code = code;
    c->digest_len = (size_t)dlen;
    memcpy(c->mh, p, total);
    c->mh_len = total;
    return SP_OK;
}

const uint8_t *sm_cid_digest(const sm_cid *c)
{
    return c->mh + (c->mh_len - c->digest_len);
}

size_t sm_mh_sha256(const void *data, size_t len, uint8_t out[34])
{
    out[0] = SM_MH_SHA2_256;
    out[1] = 32;
    pf_sha256(data, len, out + 2);
    return 34;
}

sp_code sm_mh_verify(const uint8_t *mh, size_t mh_len, const void *data, size_t len, sp_err *err)
{
    sm_cid c;
    sp_code rc = sm_mh_parse(mh, mh_len, &c, err);
    if (rc)
        return rc;
    uint8_t d[64];
    const uint8_t *want = sm_cid_digest(&c);
    switch (c.mh_code) {
    case SM_MH_IDENTITY:
        if (len != c.digest_len || (len && memcmp(data, want, len) != 0))
            return sp_fail(err, SP_ECORRUPT, "block does not match its identity multihash");
        return SP_OK;
    case SM_MH_SHA2_256:
        pf_sha256(data, len, d);
        break;
    case SM_MH_SHA2_512:
        SHA512(data, len, d);
        break;
    case SM_MH_BLAKE2B_256:
        if (pf_blake2b(d, 32, NULL, 0, data, len) != 0)
            return sp_fail(err, SP_EINTERNAL, "blake2b failed");
        break;
    default:
        return sp_fail(err, SP_EINVAL, "hash function 0x%" PRIx64 " is not supported (sha2-256, "
                       "sha2-512, blake2b-256, identity are)", c.mh_code);
    }
    if (memcmp(d, want, c.digest_len) != 0)
        return sp_fail(err, SP_ECORRUPT, "block hash differs from its CID");
    return SP_OK;
}

/* ---- binary CIDs -------------------------------------------------------------------------- */

sp_code sm_cid_decode(const uint8_t *p, size_t len, sm_cid *out, size_t *used, sp_err *err)
{
    memset(out, 0, sizeof *out);
    if (len >= 2 && p[0] == SM_MH_SHA2_256 && p[1] == 32) {
        /* CIDv0: a bare sha2-256 multihash, dag-pb implied. */
        if (len < 34)
            return sp_fail(err, SP_EINVAL, "CIDv0: truncated (%zu of 34 bytes)", len);
        out->version = 0;
        out->codec = SM_CODEC_DAG_PB;
        *used = 34;
        return sm_mh_parse(p, 34, out, err);
    }
    uint64_t version, codec;
    int a = sm_varint_decode(p, len, &version);
    if (a <= 0)
        return sp_fail(err, SP_EINVAL, "CID: %s version", a == 0 ? "truncated" : "oversized");
    if (version != 1)
        return sp_fail(err, SP_EINVAL, "CID: version %" PRIu64 " is not supported", version);
    int b = sm_varint_decode(p + a, len - (size_t)a, &codec);
    if (b <= 0)
        return sp_fail(err, SP_EINVAL, "CID: %s codec", b == 0 ? "truncated" : "oversized");
    size_t off = (size_t)a + (size_t)b;
    /* The multihash's own length fields say where it ends. */
    uint64_t code, dlen;
    int c1 = sm_varint_decode(p + off, len - off, &code);
    int c2 = c1 > 0 ? sm_varint_decode(p + off + c1, len - off - (size_t)c1, &dlen) : 0;
    if (c1 <= 0 || c2 <= 0)
        return sp_fail(err, SP_EINVAL, "CID: %s multihash header",
                       c1 == 0 || c2 == 0 ? "truncated" : "oversized");
    if (dlen > SM_MH_DIGEST_MAX)
        return sp_fail(err, SP_EINVAL, "CID: multihash digest of %" PRIu64 " bytes is longer than %d",
                       dlen, SM_MH_DIGEST_MAX);
    size_t mh_len = (size_t)c1 + (size_t)c2 + (size_t)dlen;
    if (mh_len > len - off)
        return sp_fail(err, SP_EINVAL, "CID: truncated multihash digest");
    out->version = 1;
    out->codec = codec;
    *used = off + mh_len;
    return sm_mh_parse(p + off, mh_len, out, err);
}

size_t sm_cid_encode(const sm_cid *c, uint8_t *out, size_t cap)
{
    if (c->version == 0) {
        if (cap < c->mh_len)
            return 0;
        memcpy(out, c->mh, c->mh_len);
        return c->mh_len;
    }
    uint8_t hdr[18];
    size_t n = sm_varint_encode(1, hdr);
    n += sm_varint_encode(c->codec, hdr + n);
    if (cap < n + c->mh_len)
        return 0;
    memcpy(out, hdr, n);
    memcpy(out + n, c->mh, c->mh_len);
    return n + c->mh_len;
}

sp_code sm_cid_from_mh(int version, uint64_t codec, const uint8_t *mh, size_t mh_len, sm_cid *out,
                       sp_err *err)
{
    memset(out, 0, sizeof *out);
    sp_code rc = sm_mh_parse(mh, mh_len, out, err);
    if (rc)
        return rc;
    if (version == 0 && (codec != SM_CODEC_DAG_PB || out->mh_code != SM_MH_SHA2_256))
        return sp_fail(err, SP_EINVAL, "a CIDv0 is a dag-pb block with a sha2-256 hash");
    out->version = version;
    out->codec = codec;
    return SP_OK;
}

void sm_cid_raw_sha256(uint64_t codec, const void *data, size_t len, sm_cid *out)
{
    memset(out, 0, sizeof *out);
    out->version = 1;
    out->codec = codec;
    out->mh_code = SM_MH_SHA2_256;
    out->digest_len = 32;
    out->mh_len = sm_mh_sha256(data, len, out->mh);
}

const char *sm_codec_name(uint64_t codec, char *buf, size_t len)
{
    switch (codec) {
    case SM_CODEC_RAW: return "raw";
    case SM_CODEC_DAG_PB: return "dag-pb";
    case SM_CODEC_DAG_CBOR: return "dag-cbor";
    case 0x0129: return "dag-json";
    case 0xf101: return "fil-commitment-unsealed";
    case 0xf102: return "fil-commitment-sealed";
    default:
        snprintf(buf, len, "0x%" PRIx64, codec);
        return buf;
    }
}

/* ---- base32 (RFC 4648, no padding) --------------------------------------------------------- */

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

size_t sm_base32_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            if (n + 1 >= cap)
                return 0;
            out[n++] = B32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) {
        if (n + 1 >= cap)
            return 0;
        out[n++] = B32[(acc << (5 - bits)) & 31];
    }
    if (n >= cap)
        return 0;
    out[n] = 0;
    return n;
}

static int b32_value(char ch)
{
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a';
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= '2' && ch <= '7')
        return ch - '2' + 26;
    return -1;
}

long sm_base32_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b32_value(in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* Leftover bits are padding of the last character: fewer than 5 and all zero. */
    if (bits >= 5 || (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)n;
}

/* ---- base58btc --------------------------------------------------------------------------- */

static const char B58[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

size_t sm_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap)
{
    uint8_t digits[SM_CID_STR_MAX];
    size_t nd = 0, zeros = 0;
    while (zeros < len && in[zeros] == 0)
        zeros++;
    for (size_t i = zeros; i < len; i++) {
        unsigned carry = in[i];
        for (size_t j = 0; j < nd; j++) {
            carry += (unsigned)digits[j] << 8;
            digits[j] = (uint8_t)(carry % 58);
            carry /= 58;
        }
        while (carry) {
            if (nd == sizeof digits)
                return 0;
            digits[nd++] = (uint8_t)(carry % 58);
            carry /= 58;
        }
    }
    if (zeros + nd + 1 > cap)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < zeros; i++)
        out[n++] = '1';
    for (size_t i = 0; i < nd; i++)
        out[n++] = B58[digits[nd - 1 - i]];
    out[n] = 0;
    return n;
}

static int b58_value(char ch)
{
    const char *p = ch ? strchr(B58, ch) : NULL;
    return p ? (int)(p - B58) : -1;
}

long sm_base58_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    uint8_t bytes[SM_CID_STR_MAX];
    size_t nb = 0, zeros = 0;
    while (zeros < len && in[zeros] == '1')
        zeros++;
    for (size_t i = zeros; i < len; i++) {
        int v = b58_value(in[i]);
        if (v < 0)
            return -1;
        unsigned carry = (unsigned)v;
        for (size_t j = 0; j < nb; j++) {
            carry += (unsigned)bytes[j] * 58;
            bytes[j] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
        while (carry) {
            if (nb == sizeof bytes)
                return -1;
            bytes[nb++] = (uint8_t)(carry & 0xff);
            carry >>= 8;
        }
    }
    if (zeros + nb > cap)
        return -1;
    memset(out, 0, zeros);
    for (size_t i = 0; i < nb; i++)
        out[zeros + i] = bytes[nb - 1 - i];
    return (long)(zeros + nb);
}

/* ---- CID strings -------------------------------------------------------------------------- */

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static long base16_decode(const char *in, size_t len, uint8_t *out, size_t cap)
{
    if (len % 2 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len; i += 2) {
        int hi = hex_value(in[i]), lo = hex_value(in[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    return (long)(len / 2);
}

sp_code sm_cid_parse(const char *s, sm_cid *out, sp_err *err)
{
    memset(out, 0, sizeof *out);
    size_t len = s ? strnlen(s, SM_CID_STR_MAX) : 0;
    if (len == 0)
        return sp_fail(err, SP_EINVAL, "empty CID");
    if (len >= SM_CID_STR_MAX)
        return sp_fail(err, SP_EINVAL, "CID string longer than %d characters", SM_CID_STR_MAX - 1);
    uint8_t bin[SM_CID_BYTES_MAX + 8];
    long n;
    bool v0_text = len == 46 && s[0] == 'Q' && s[1] == 'm';
    if (v0_text) {
        n = sm_base58_decode(s, len, bin, sizeof bin);
    } else {
        switch (s[0]) {
        case 'b':
        case 'B': n = sm_base32_decode(s + 1, len - 1, bin, sizeof bin); break;
        case 'z': n = sm_base58_decode(s + 1, len - 1, bin, sizeof bin); break;
        case 'f':
        case 'F': n = base16_decode(s + 1, len - 1, bin, sizeof bin); break;
        default:
            return sp_fail(err, SP_EINVAL, "\"%.60s\" is not a CID: unknown multibase prefix '%c' "
                           "(use a CIDv0 Qm... or a CIDv1 b...)", s, s[0] > 32 && s[0] < 127 ? s[0] : '?');
        }
    }
    if (n <= 0)
        return sp_fail(err, SP_EINVAL, "\"%.60s\" is not a CID: bad %s text", s,
                       v0_text || s[0] == 'z' ? "base58btc" : s[0] == 'f' || s[0] == 'F' ? "base16"
                                                                                         : "base32");
    size_t used = 0;
    sp_code rc = sm_cid_decode(bin, (size_t)n, out, &used, err);
    if (rc)
        return rc;
    if (used != (size_t)n)
        return sp_fail(err, SP_EINVAL, "\"%.60s\": %zu bytes after the CID", s, (size_t)n - used);
    if (out->version == 0 && !v0_text)
        return sp_fail(err, SP_EINVAL, "\"%.60s\": a CIDv0 is written in base58btc without a prefix", s);
    if (out->version == 1 && v0_text)
        return sp_fail(err, SP_EINVAL, "\"%.60s\" is not a CIDv0", s);
    return SP_OK;
}

void sm_cid_format(const sm_cid *c, char *out, size_t len)
{
    uint8_t bin[SM_CID_BYTES_MAX];
    size_t n = sm_cid_encode(c, bin, sizeof bin);
    if (len == 0)
        return;
    out[0] = 0;
    if (n == 0)
        return;
    if (c->version == 0) {
        if (sm_base58_encode(bin, n, out, len) == 0)
            out[0] = 0;
        return;
    }
    if (len < 2)
        return;
    out[0] = 'b';
    if (sm_base32_encode(bin, n, out + 1, len - 1) == 0)
        out[0] = 0;
}
