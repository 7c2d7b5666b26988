/* sm_cid.h — content identifiers as IPFS and Filecoin retrieval use them: unsigned
 * varints, multihashes, CIDv0/CIDv1 in binary and as strings (base58btc for v0; multibase
 * 'b' base32, 'B', 'z' base58btc, 'f'/'F' base16 for v1), and hashing a block to check it
 * against its multihash.
 *
 * Strictness (this parses hostile input: HTTP paths, CAR files): varints are at most 9
 * bytes (63 bits) and minimally encoded; a multihash digest is at most SM_MH_DIGEST_MAX
 * bytes and must have the length its function defines (32 for sha2-256); a CIDv0 is
 * exactly the 34 bytes of a sha2-256 multihash; a CID string is at most SM_CID_STR_MAX
 * characters; every decoder checks every byte and never reads past its input.
 * Specs: github.com/multiformats/unsigned-varint, /multihash, /multibase, /cid.
 */
#ifndef SM_CID_H
#define SM_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"

#define SM_MH_DIGEST_MAX 64        /* sha2-512; longer digests are refused */
#define SM_MH_MAX (2 * 9 + SM_MH_DIGEST_MAX)
#define SM_CID_BYTES_MAX (2 * 9 + SM_MH_MAX)
#define SM_CID_STR_MAX 200         /* buffer for any CID string we produce, NUL included */

/* multicodec codes */
#define SM_CODEC_RAW 0x55
#define SM_CODEC_DAG_PB 0x70
#define SM_CODEC_DAG_CBOR 0x71
#define SM_MH_IDENTITY 0x00
#define SM_MH_SHA2_256 0x12
#define SM_MH_SHA2_512 0x13
#define SM_MH_BLAKE2B_256 0xb220

/* Decodes an unsigned varint from p[0..len).  Returns the bytes used (1..9), 0 when the
 * input ends inside the varint, -1 when it is longer than 9 bytes, exceeds 63 bits or is
 * not minimally encoded. */
int sm_varint_decode(const uint8_t *p, size_t len, uint64_t *out);
/* Writes v (< 2^63) and returns the bytes written (1..9); out holds 9 bytes. */
size_t sm_varint_encode(uint64_t v, uint8_t *out);

typedef struct sm_cid {
    int version;                   /* 0 or 1 */
    uint64_t codec;                /* dag-pb (0x70) for v0 */
    uint64_t mh_code;              /* hash function */
    size_t digest_len;
    uint8_t mh[SM_MH_MAX];         /* the whole multihash: code, length, digest */
    size_t mh_len;
} sm_cid;

/* Parses a multihash occupying exactly len bytes into c->mh* fields. */
sp_code sm_mh_parse(const uint8_t *p, size_t len, sm_cid *c, sp_err *err);
/* The digest bytes of a parsed CID's multihash. */
const uint8_t *sm_cid_digest(const sm_cid *c);
/* A sha2-256 multihash of data (34 bytes into out); returns 34. */
size_t sm_mh_sha256(const void *data, size_t len, uint8_t out[34]);
/* Checks data against a multihash: SP_OK, SP_ECORRUPT (the hash differs), or SP_EINVAL
 * (a malformed multihash or a hash function this program cannot compute; supported:
 * identity, sha2-256, sha2-512, blake2b-256). */
sp_code sm_mh_verify(const uint8_t *mh, size_t mh_len, const void *data, size_t len, sp_err *err);
/* True when sm_mh_verify can check this hash function. */
bool sm_mh_supported(uint64_t code);

/* Binary CID at the start of p[0..len); *used gets its length. */
sp_code sm_cid_decode(const uint8_t *p, size_t len, sm_cid *out, size_t *used, sp_err *err);
/* Binary form; returns its length (0 when out is too small). */
size_t sm_cid_encode(const sm_cid *c, uint8_t *out, size_t cap);
/* Parses a CID string (whole string; see the header comment for the accepted forms). */
sp_code sm_cid_parse(const char *s, sm_cid *out, sp_err *err);
/* Canonical string: base58btc for v0, 'b' + base32 for v1.  out holds SM_CID_STR_MAX. */
void sm_cid_format(const sm_cid *c, char *out, size_t len);
/* A CIDv1 of data with the given codec and its sha2-256. */
void sm_cid_raw_sha256(uint64_t codec, const void *data, size_t len, sm_cid *out);
/* Builds a CID around an existing multihash (v1). */
sp_code sm_cid_from_mh(int version, uint64_t codec, const uint8_t *mh, size_t mh_len, sm_cid *out,
                       sp_err *err);
/* "raw", "dag-pb", "dag-cbor", ... or "0x..." into buf. */
const char *sm_codec_name(uint64_t codec, char *buf, size_t len);

/* Base encodings used by CID strings (exposed for tests). */
size_t sm_base32_encode(const uint8_t *in, size_t len, char *out, size_t cap);
/* Lower- or upper-case RFC 4648 alphabet without padding; -1 on a bad character,
 * non-zero trailing bits or overflow. */
long sm_base32_decode(const char *in, size_t len, uint8_t *out, size_t cap);
size_t sm_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap);
long sm_base58_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
