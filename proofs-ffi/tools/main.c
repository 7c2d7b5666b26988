/* sealproof — standalone proofs tool and benchmark (like lotus-bench).
 *
 * main() only assembles the command table: each phase keeps its commands in its own
 * file (cmd_data.c, cmd_pc1.c, cmd_pc2.c, cmd_commit.c, cmd_formats.c, cmd_device.c; a phase's
 * `bench` subcommand lives with the phase) and exports a NULL-terminated sp_cmd array.
 */
#include <stdlib.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_log.h"
#include "tool.h"

int main(int argc, char **argv)
{
    const sp_cmd *groups[] = { sealproof_data_cmds, sealproof_pc1_cmds, sealproof_pc2_cmds,
                               sealproof_commit_cmds, sealproof_formats_cmds,
                               sealproof_device_cmds };
    size_t n = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (const sp_cmd *c = groups[g]; c->name; c++)
            n++;
    sp_cmd *cmds = calloc(n + 1, sizeof *cmds);
    if (!cmds)
        return 1;
    n = 0;
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++)
        for (const sp_cmd *c = groups[g]; c->name; c++)
            cmds[n++] = *c;
    sp_log_init("sealproof", SP_LOG_WARN);
    const sp_program prog = {
        .name = "sealproof",
        .description = "Computes and checks Filecoin sealing proofs (PoRep SDR, PoSt) with "
                       "sealpipe's native proofs library, byte-compatible with rust-fil-proofs.\n"
                       "Every command prints a readable result, or one JSON object with --json.",
        .cmds = cmds,
    };
    int rc = sp_cli_run(&prog, argc, argv);
    free(cmds);
    return rc;
}
