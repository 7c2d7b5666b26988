/* seal-worker — one per sealing machine: pulls whole sectors from the sector-manager
 * and runs every stage on pinned processors.  main() dispatches to wk_cmds (cli.c). */
#include "wk_cli.h"
#include "sp_cli.h"
#include "sp_log.h"

int main(int argc, char **argv)
{
    sp_log_init("seal-worker", SP_LOG_INFO);
    const sp_program prog = {
        .name = "seal-worker",
        .description = "Seals sectors on this machine: sealing threads pull sectors from the "
                       "sector-manager and run AddPiece, TreeD, PC1, PC2, C1, C2 and finalize "
                       "on processors pinned to the cores, NUMA nodes and GPUs of its config.",
        .cmds = wk_cmds,
    };
    return sp_cli_run(&prog, argc, argv);
}
