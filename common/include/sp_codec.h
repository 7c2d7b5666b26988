/* sp_codec.h — hex and base64 (RFC 4648 standard alphabet, with padding).
 * Decoders reject bad characters and wrong lengths; they never read past the input. */
#ifndef SP_CODEC_H
#define SP_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"

/* Writes 2*len lowercase hex digits and a NUL into out (size >= 2*len+1). */
void sp_hex_encode(const uint8_t *in, size_t len, char *out);
/* Decodes exactly `want` bytes from a hex string (optional "0x" prefix); the string must
 * have exactly 2*want digits. */
sp_code sp_hex_decode(const char *hex, uint8_t *out, size_t want, sp_err *err);
/* Decodes any even-length hex string; *out is malloc'd. */
sp_code sp_hex_decode_alloc(const char *hex, uint8_t **out, size_t *out_len, sp_err *err);

/* Length of the base64 text for len bytes, without the NUL. */
size_t sp_base64_encoded_len(size_t len);
/* Writes base64 text and a NUL into out (size >= sp_base64_encoded_len(len)+1). */
void sp_base64_encode(const uint8_t *in, size_t len, char *out);
/* Decodes base64 text (padding required when length is not a multiple of 4 is tolerated
 * missing); *out is malloc'd. */
sp_code sp_base64_decode_alloc(const char *text, uint8_t **out, size_t *out_len, sp_err *err);
/* Decodes into a fixed buffer; the decoded length must be exactly `want`. */
sp_code sp_base64_decode(const char *text, uint8_t *out, size_t want, sp_err *err);

#endif
