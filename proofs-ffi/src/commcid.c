/* commcid.c — commitment CIDs as go-fil-commcid makes them: CIDv1 whose multihash digest
 * is the raw 32-byte commitment, written in multibase base32 ('b' + lowercase RFC 4648
 * without padding).
 *   CommD/CommP: codec fil-commitment-unsealed 0xf101, multihash sha2-256-trunc254-padded 0x1012
 *   CommR:       codec fil-commitment-sealed 0xf102,   multihash poseidon-bls12_381-a2-fc1 0xb401 */
#include <string.h>

#include "data_internal.h"
#include "sealproofs.h"

#define CODEC_UNSEALED 0xf101u
#define CODEC_SEALED 0xf102u
#define MH_SHA256_TRUNC254 0x1012u
#define MH_POSEIDON 0xb401u

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        p[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}

/* Minimal unsigned varint of at most 9 bytes (the multiformats rule); 0 on error. */
static size_t get_varint(const uint8_t *p, size_t len, uint64_t *v)
{
    uint64_t x = 0;
    for (size_t i = 0; i < len && i < 9; i++) {
        x |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            if (i > 0 && p[i] == 0)
                return 0;   /* not minimal */
            *v = x;
            return i + 1;
        }
    }
    return 0;
}

size_t pf_commcid_bytes(pf_comm_kind kind, const uint8_t comm[32], uint8_t out[PF_COMMCID_MAX_BYTES])
{
    int sealed = kind == PF_COMM_SEALED;
    size_t n = 0;
    out[n++] = 0x01;
    n += put_varint(out + n, sealed ? CODEC_SEALED : CODEC_UNSEALED);
    n += put_varint(out + n, sealed ? MH_POSEIDON : MH_SHA256_TRUNC254);
    out[n++] = 32;
    memcpy(out + n, comm, 32);
    return n + 32;
}

pf_status pf_commcid_encode(pf_comm_kind kind, const uint8_t comm[32], char *out, size_t out_len,
                            pf_error *err)
{
    if (kind != PF_COMM_UNSEALED && kind != PF_COMM_SEALED)
        return pf_data_fail(err, PF_EINVAL, "commitment CID: kind must be unsealed or sealed");
    uint8_t bin[PF_COMMCID_MAX_BYTES];
    size_t len = pf_commcid_bytes(kind, comm, bin);
    size_t need = 1 + (len * 8 + 4) / 5 + 1;
    if (!out || out_len < need)
        return pf_data_fail(err, PF_EINVAL, "commitment CID: output buffer of %zu bytes, need %zu",
                            out_len, need);
    size_t o = 0;
    out[o++] = 'b';
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        acc = acc << 8 | bin[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = B32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits)
        out[o++] = B32[(acc << (5 - bits)) & 31];
    out[o] = 0;
    pf_data_ok(err);
    return PF_OK;
}

static int b32_value(char c, int upper)
{
    if (!upper && c >= 'a' && c <= 'z')
        return c - 'a';
    if (upper && c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

static const char *kind_name(pf_comm_kind k)
{
    return k == PF_COMM_SEALED ? "a sealed commitment (CommR)" : "an unsealed commitment (CommD/CommP)";
}

pf_status pf_commcid_decode(const char *cid, pf_comm_kind expect, uint8_t comm[32],
                            pf_comm_kind *kind_out, pf_error *err)
{
    if (!cid || !*cid)
        return pf_data_fail(err, PF_EINVAL, "commitment CID: empty string");
    size_t slen = strlen(cid);
    if (cid[0] == 'Q' && cid[1] == 'm')
        return pf_data_fail(err, PF_EINVAL, "commitment CID %s: CIDv0 cannot hold a commitment", cid);
    if (cid[0] != 'b' && cid[0] != 'B')
        return pf_data_fail(err, PF_EINVAL,
                            "commitment CID %.80s: multibase prefix '%c' is not base32 ('b')", cid,
                            cid[0]);
    if (slen > 1 + (PF_COMMCID_MAX_BYTES * 8 + 4) / 5 + 8)
        return pf_data_fail(err, PF_EINVAL, "commitment CID %.80s...: too long (%zu characters)",
                            cid, slen);

    uint8_t bin[PF_COMMCID_MAX_BYTES + 8];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0, upper = cid[0] == 'B';
    for (size_t i = 1; i < slen; i++) {
        int v = b32_value(cid[i], upper);
        if (v < 0)
            return pf_data_fail(err, PF_EINVAL,
                                "commitment CID %s: character %zu ('%c') is not base32", cid, i,
                                cid[i]);
        acc = acc << 5 | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            bin[n++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1)))
        return pf_data_fail(err, PF_EINVAL, "commitment CID %s: base32 text has a bad length or "
                            "trailing bits", cid);

    uint64_t version, codec, mh, mlen;
    size_t p = 0, k;
    if (!(k = get_varint(bin, n, &version)) || version != 1)
        return pf_data_fail(err, PF_EINVAL, "commitment CID %s: not a CIDv1", cid);
    p += k;
    if (!(k = get_varint(bin + p, n - p, &codec)))
        return pf_data_fail(err, PF_EINVAL, "commitment CID %s: bad codec varint", cid);
    p += k;
    if (!(k = get_varint(bin + p, n - p, &mh)) || !(p += k, k = get_varint(bin + p, n - p, &mlen)))
        return pf_data_fail(err, PF_EINVAL, "commitment CID %s: bad multihash header", cid);
    p += k;
    if (mlen != n - p)
        return pf_data_fail(err, PF_EINVAL,
                            "commitment CID %s: multihash says %llu digest bytes but %zu follow",
                            cid, (unsigned long long)mlen, n - p);

    pf_comm_kind kind;
    if (codec == CODEC_UNSEALED)
        kind = PF_COMM_UNSEALED;
    else if (codec == CODEC_SEALED)
        kind = PF_COMM_SEALED;
    else
        return pf_data_fail(err, PF_EINVAL,
                            "commitment CID %s: unexpected commitment codec 0x%llx (want "
                            "fil-commitment-unsealed 0xf101 or fil-commitment-sealed 0xf102)",
                            cid, (unsigned long long)codec);
    uint64_t want_mh = kind == PF_COMM_SEALED ? MH_POSEIDON : MH_SHA256_TRUNC254;
    if (mh != want_mh)
        return pf_data_fail(err, PF_EINVAL,
                            "commitment CID %s: incorrect hashing function 0x%llx for codec "
                            "0x%llx (want 0x%llx)", cid, (unsigned long long)mh,
                            (unsigned long long)codec, (unsigned long long)want_mh);
    if (mlen != 32)
        return pf_data_fail(err, PF_EINVAL,
                            "commitment CID %s: commitments must be 32 bytes long, this one has %llu",
                            cid, (unsigned long long)mlen);
    if (expect != PF_COMM_ANY && expect != kind)
        return pf_data_fail(err, PF_EINVAL, "commitment CID %s is %s, expected %s", cid,
                            kind_name(kind), kind_name(expect));
    memcpy(comm, bin + p, 32);
    if (kind_out)
        *kind_out = kind;
    pf_data_ok(err);
    return PF_OK;
}
