/* sp_json.h — JSON helpers on cJSON: bounded parsing, typed parameter access with clear
 * "invalid params" messages, and result builders.
 *
 * Parameters: `params` is a JSON-RPC params value (array or object) or any object nested
 * in it.  A parameter is addressed by its position `index` when params is an array and by
 * `name` when it is an object (pass index -1 for object-only fields, name NULL for
 * positional-only ones).  Getters fail with SP_EINVAL (JSON-RPC "invalid params") and a
 * message naming the parameter, what was expected and what was found, e.g.
 *   param 0 ("sector"): expected an unsigned integer in [1, 1000], got string "x"
 * A missing parameter or JSON null counts as absent; sp_json_opt_* then return the
 * default.  Returned strings and arrays are borrowed from params.
 *
 * Integers: cJSON keeps numbers as doubles, exact only below 2^53.  Getters accept a JSON
 * number that is an integer of magnitude below 2^53, or a decimal string (digits, an
 * optional leading '-' for signed) for any 64-bit value; builders (sp_json_u64/i64) emit a
 * number below 2^53 and a decimal string from there on.
 */
#ifndef SP_JSON_H
#define SP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sp_err.h"

#define SP_JSON_DEFAULT_DEPTH 64

/* Parses exactly one JSON value from text[0..len) (no NUL needed): arrays/objects nested
 * deeper than max_depth, embedded NUL bytes and trailing non-space bytes are rejected
 * (SP_EPARSE, message with the byte offset).  Thread-safe. */
sp_code sp_json_parse(const char *text, size_t len, unsigned max_depth, cJSON **out, sp_err *err);

/* Deepest array/object nesting in text, scanning at most until it exceeds limit (then
 * returns limit + 1).  Does not validate the JSON. */
unsigned sp_json_depth(const char *text, size_t len, unsigned limit);

/* The parameter, or NULL when absent (JSON null counts as absent). */
const cJSON *sp_json_param(const cJSON *params, int index, const char *name);

sp_code sp_json_get_u64(const cJSON *params, int index, const char *name, uint64_t min,
                        uint64_t max, uint64_t *out, sp_err *err);
sp_code sp_json_get_i64(const cJSON *params, int index, const char *name, int64_t min,
                        int64_t max, int64_t *out, sp_err *err);
sp_code sp_json_get_bool(const cJSON *params, int index, const char *name, bool *out,
                         sp_err *err);
/* String of min_len..max_len bytes (sp_json_parse refuses \u0000, so strlen is its length). */
sp_code sp_json_get_str(const cJSON *params, int index, const char *name, size_t min_len,
                        size_t max_len, const char **out, sp_err *err);
/* Exactly 32 bytes as 64 hex digits (optional "0x"). */
sp_code sp_json_get_hex32(const cJSON *params, int index, const char *name, uint8_t out[32],
                          sp_err *err);
/* Base64 text decoding to at most max_len bytes; *out is malloc'd (free it). */
sp_code sp_json_get_base64(const cJSON *params, int index, const char *name, size_t max_len,
                           uint8_t **out, size_t *out_len, sp_err *err);
sp_code sp_json_get_object(const cJSON *params, int index, const char *name, const cJSON **out,
                           sp_err *err);
/* Array of at most max_items elements. */
sp_code sp_json_get_array(const cJSON *params, int index, const char *name, size_t max_items,
                          const cJSON **out, sp_err *err);

/* As the getters, but an absent parameter yields the default. */
sp_code sp_json_opt_u64(const cJSON *params, int index, const char *name, uint64_t min,
                        uint64_t max, uint64_t def, uint64_t *out, sp_err *err);
sp_code sp_json_opt_i64(const cJSON *params, int index, const char *name, int64_t min,
                        int64_t max, int64_t def, int64_t *out, sp_err *err);
sp_code sp_json_opt_bool(const cJSON *params, int index, const char *name, bool def, bool *out,
                         sp_err *err);
sp_code sp_json_opt_str(const cJSON *params, int index, const char *name, size_t min_len,
                        size_t max_len, const char *def, const char **out, sp_err *err);

/* Fails with "expected at most N params" when an array holds more than max elements or
 * an object has a key not in names (NULL-terminated list).  Handlers call it to reject
 * typos instead of silently ignoring them. */
sp_code sp_json_check_params(const cJSON *params, size_t max_positional,
                             const char *const *names, sp_err *err);

/* ---- builders: NULL on allocation failure ---- */
cJSON *sp_json_u64(uint64_t v);
cJSON *sp_json_i64(int64_t v);
cJSON *sp_json_hex(const uint8_t *bytes, size_t len);
cJSON *sp_json_base64(const uint8_t *bytes, size_t len);

/* Adds item under key and takes it (freed on failure, so builders can be nested
 * directly); SP_ENOMEM when item is NULL or the add fails. */
sp_code sp_json_add(cJSON *obj, const char *key, cJSON *item, sp_err *err);
sp_code sp_json_add_u64(cJSON *obj, const char *key, uint64_t v, sp_err *err);
sp_code sp_json_add_i64(cJSON *obj, const char *key, int64_t v, sp_err *err);
sp_code sp_json_add_bool(cJSON *obj, const char *key, bool v, sp_err *err);
sp_code sp_json_add_str(cJSON *obj, const char *key, const char *v, sp_err *err);
sp_code sp_json_add_hex(cJSON *obj, const char *key, const uint8_t *bytes, size_t len,
                        sp_err *err);
sp_code sp_json_add_base64(cJSON *obj, const char *key, const uint8_t *bytes, size_t len,
                           sp_err *err);

#endif
