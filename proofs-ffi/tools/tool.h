/* tool.h — shared declarations of the sealproof tool: command tables of each phase
 * and the output helpers every command uses. */
#ifndef SEALPROOF_TOOL_H
#define SEALPROOF_TOOL_H

#include "sp_cli.h"

extern const sp_cmd sealproof_data_cmds[];     /* cmd_data.c: commp, commd, replica-id */
extern const sp_cmd sealproof_pc1_cmds[];      /* cmd_pc1.c: parents, labels, pc1 */
extern const sp_cmd sealproof_pc2_cmds[];      /* cmd_pc2.c: poseidon, pc2, seal, devices */
extern const sp_cmd sealproof_commit_cmds[];   /* cmd_commit.c: c1, c2, verify, PoSt, unseal */
extern const sp_cmd sealproof_formats_cmds[];  /* cmd_formats.c: vanilla-post, conversions */
extern const sp_cmd sealproof_bench_cmds[];    /* cmd_bench.c: bench pc1|pc2|... */

#endif
