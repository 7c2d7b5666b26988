/* sector-manager — the sealing control plane: daemon (`run`) and admin CLI.
 * main() dispatches to the commands in sm_cmds (cli.c). */
#include "sm_cli.h"
#include "sp_cli.h"
#include "sp_log.h"

int main(int argc, char **argv)
{
    sp_log_init("sector-manager", SP_LOG_INFO);
    const sp_program prog = {
        .name = "sector-manager",
        .description = "Hands out sealing work to seal-workers, runs the chain interface, the "
                       "database, persist stores, pieces and the block scheduler.",
        .cmds = sm_cmds,
    };
    return sp_cli_run(&prog, argc, argv);
}
