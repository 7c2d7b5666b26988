/* cmd_commit.h — what other sealproof command files use from cmd_commit.c: going on from a
 * finished PC2 through C1 and C2 (for `sealproof seal`). */
#ifndef SEALPROOF_CMD_COMMIT_H
#define SEALPROOF_CMD_COMMIT_H

#include <stdint.h>

#include <cjson/cJSON.h>

/* C1 and native C2 for a sector sealed in cache/sealed, the commit proof written to
 * proof_file, then verified.  Adds "challenges" (every partition's challenges, in order)
 * and "proof_file" to out.  Returns 0, or 1 after printing "sealproof <cmd>: <reason>". */
int sealproof_commit_sector(const char *cmd, int proof_id, const char *cache, const char *sealed,
                            uint64_t sector_id, const uint8_t prover_id[32],
                            const uint8_t ticket[32], const uint8_t seed[32],
                            const uint8_t comm_d[32], const uint8_t comm_r[32],
                            const char *proof_file, cJSON *out);

#endif
