/* tool.h — shared declarations of the sealproof tool: the command table of each phase
 * and the argument/output helpers every command uses (out.c). */
#ifndef SEALPROOF_TOOL_H
#define SEALPROOF_TOOL_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "sealproofs.h"
#include "sp_cli.h"

extern const sp_cmd sealproof_data_cmds[];     /* cmd_data.c: commp, commd, replica-id */
extern const sp_cmd sealproof_pc1_cmds[];      /* cmd_pc1.c: parents, labels, pc1, bench pc1 */
extern const sp_cmd sealproof_pc2_cmds[];      /* cmd_pc2.c: poseidon, pc2, seal, devices, bench pc2 */
extern const sp_cmd sealproof_commit_cmds[];   /* cmd_commit.c: c1, c2, verify, PoSt, unseal */
extern const sp_cmd sealproof_formats_cmds[];  /* cmd_formats.c: vanilla-post, format conversion */
extern const sp_cmd sealproof_device_cmds[];   /* cmd_device.c: devices (OpenCL platforms/devices) */

/* Prints the result object: one JSON object on one line with --json, otherwise one
 * "key: value" line per member (arrays joined by ", ", nested objects indented).
 * Takes ownership of obj. Returns 0. */
int tool_emit(cJSON *obj, int json);

/* Prints "sealproof <cmd>: <message>" to stderr as one line and returns 1. */
int tool_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same for a pf_error from the library. */
int tool_fail_pf(const char *cmd, const pf_error *err);

/* Argument parsers; each prints a clear error via tool_fail and returns non-zero on bad
 * input.  `what` names the option ("--ticket"). */
int tool_parse_seal_proof(const char *cmd, const char *s, int *id);
int tool_parse_post_proof(const char *cmd, const char *s, int *id);
int tool_parse_hex32(const char *cmd, const char *what, const char *s, uint8_t out[32]);
int tool_parse_u64(const char *cmd, const char *what, const char *s, uint64_t *out);
int tool_parse_size(const char *cmd, const char *what, const char *s, uint64_t *out);

/* Adds a 32-byte value as lowercase hex. */
void tool_add_hex32(cJSON *obj, const char *key, const uint8_t v[32]);

#endif
