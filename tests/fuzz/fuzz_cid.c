/* fuzz_cid.c — the CID parsers of the sector manager (sm_cid.h): CID strings (base58btc v0,
 * multibase base32/base58/base16 v1), binary CIDs and multihashes, varints, and the base32
 * and base58 codecs, with round trips as invariants.
 *
 * Input: byte 0 picks the parser, the rest is its input:
 *   0 sm_cid_parse (string): a parsed CID formats to a canonical string that parses to the
 *     same binary CID
 *   1 sm_cid_decode (binary): a decoded CID encodes back to exactly the bytes it used
 *     (every varint is minimal), and its string form parses back to it
 *   2 sm_varint_decode and the base32/base58 decoders: what decodes encodes back to the
 *     same text (base32 compared without case); sm_mh_verify of the rest against itself
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "sm_cid.h"

static void same_cid(const sm_cid *a, const sm_cid *b)
{
    uint8_t x[SM_CID_BYTES_MAX], y[SM_CID_BYTES_MAX];
    size_t nx = sm_cid_encode(a, x, sizeof x), ny = sm_cid_encode(b, y, sizeof y);
    if (nx == 0 || nx != ny || memcmp(x, y, nx) != 0)
        abort();
}

/* The canonical string of c parses back to c. */
static void string_round_trip(const sm_cid *c)
{
    char s[SM_CID_STR_MAX];
    sm_cid back;
    sm_cid_format(c, s, sizeof s);
    if (sm_cid_parse(s, &back, NULL) != SP_OK)
        abort();
    same_cid(c, &back);
}

static void cid_string(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    sm_cid c;
    if (s && sm_cid_parse(s, &c, NULL) == SP_OK)
        string_round_trip(&c);
    free(s);
}

static void cid_binary(const uint8_t *data, size_t size)
{
    sm_cid c;
    size_t used = 0;
    if (sm_cid_decode(data, size, &c, &used, NULL) != SP_OK)
        return;
    uint8_t again[SM_CID_BYTES_MAX];
    if (used > size || sm_cid_encode(&c, again, sizeof again) != used ||
        memcmp(again, data, used) != 0)
        abort();
    string_round_trip(&c);
    (void)sm_cid_digest(&c);
}

static void codecs(const uint8_t *data, size_t size)
{
    uint64_t v;
    int n = sm_varint_decode(data, size, &v);
    if (n > 0) {
        uint8_t enc[9];
        if (sm_varint_encode(v, enc) != (size_t)n || memcmp(enc, data, (size_t)n) != 0)
            abort();
    }
    const char *text = (const char *)data;
    uint8_t bytes[512];
    char back[1024];
    if (size <= 600) {
        long m = sm_base32_decode(text, size, bytes, sizeof bytes);
        if (m >= 0) {
            size_t k = sm_base32_encode(bytes, (size_t)m, back, sizeof back);
            if (k != size || (k && strncasecmp(back, text, size) != 0))
                abort();
        }
        m = sm_base58_decode(text, size, bytes, sizeof bytes);
        if (m >= 0) {
            /* the encoder holds at most SM_CID_STR_MAX digits (0: too long, not an error) */
            size_t k = sm_base58_encode(bytes, (size_t)m, back, sizeof back);
            if (k && (k != size || memcmp(back, text, size) != 0))
                abort();
        }
    }
    /* a multihash of the first bytes checked against the rest */
    if (size >= 1 && (size_t)data[0] + 1 <= size)
        (void)sm_mh_verify(data + 1, data[0], data + 1 + data[0], size - 1 - data[0], NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    switch (data[0] % 3) {
    case 0: cid_string(data + 1, size - 1); break;
    case 1: cid_binary(data + 1, size - 1); break;
    default: codecs(data + 1, size - 1); break;
    }
    return 0;
}
