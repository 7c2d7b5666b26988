/* sm_tokens.h — bearer tokens for the manager's API: JWT (RFC 7519) signed with
 * HMAC-SHA256 (HS256) over the home's secret, the form Lotus uses for its API tokens.
 *
 *   header  {"alg":"HS256","typ":"JWT"}
 *   payload {"Allow":["worker"]}            or {"Allow":["admin"],"exp":1767225600}
 *
 * Scopes: "worker" (the sealing methods and piece downloads), "admin" (everything,
 * worker methods included) and "retrieval" (block and piece retrieval, nothing else).  "exp" (unix seconds) is optional.  Verification refuses
 * any other algorithm (alg "none" in particular), a bad signature, malformed parts, an
 * expired token and a token that grants none of the manager's scopes.
 *
 * The secret is 32 random bytes stored as 64 hex digits in a file of mode 0600; a
 * secret file readable by others is refused.
 */
#ifndef SM_TOKENS_H
#define SM_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "sp_err.h"

#define SM_SCOPE_WORKER 0x1u
#define SM_SCOPE_ADMIN 0x2u
#define SM_SCOPE_RETRIEVAL 0x4u /* GET /ipfs/<cid> and /piece/<cid> only */

/* Names of the scope bits, NULL-terminated (sp_rpc_server_opts.scope_names). */
extern const char *const sm_scope_names[];

typedef struct sm_tokens {
    uint8_t secret[32];
} sm_tokens;

/* Writes a new random secret to path (mode 0600); refuses to overwrite one. */
sp_code sm_tokens_create_secret(const char *path, sp_err *err);
/* Reads the secret; refuses a file that group or others can read. */
sp_code sm_tokens_load(const char *path, sm_tokens *out, sp_err *err);

/* "worker" -> SM_SCOPE_WORKER, "admin" -> SM_SCOPE_ADMIN, "retrieval" ->
 * SM_SCOPE_RETRIEVAL, else 0. */
uint32_t sm_scope_parse(const char *name);

/* A token granting scopes; exp 0 means it does not expire.  *out is malloc'd. */
sp_code sm_token_create(const sm_tokens *t, uint32_t scopes, int64_t exp, char **out,
                        sp_err *err);
/* Checks a token at unix time now; on success *scopes holds the granted bits.  Error
 * messages say what is wrong with the token and never contain it. */
sp_code sm_token_verify(const sm_tokens *t, const char *token, int64_t now, uint32_t *scopes,
                        sp_err *err);

/* HS256 JWT of the two JSON texts (exactly as given) with key: for tests and tools. */
sp_code sm_jwt_hs256(const uint8_t *key, size_t key_len, const char *header_json,
                     const char *payload_json, char **out, sp_err *err);

/* base64url without padding (RFC 4648 section 5).  Encode writes a NUL; decode returns
 * the byte count or -1 on a bad character or length. */
size_t sm_b64url_encode(const uint8_t *in, size_t len, char *out);
long sm_b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
