/* cmd_processor.c — `seal-worker processor <stage>`: the processor child the daemon
 * starts for each processors.<stage> entry (wk_processor.h has the protocol). */
#include <stdio.h>
#include <string.h>

#include "sp_cli.h"
#include "wk_config.h"
#include "wk_processor.h"

int wk_cmd_processor(int argc, char **argv)
{
    if (argc != 2) {
        sp_cli_fail("%s: give one stage (add_pieces, tree_d, pc1, pc2, c1, c2, unseal); see "
                    "'seal-worker processor --help'", argv[0]);
        return 2;
    }
    int stage = wk_stage_parse(argv[1]);
    if (stage < 0) {
        sp_cli_fail("%s: unknown stage '%s'; stages: add_pieces, tree_d, pc1, pc2, c1, c2, "
                    "unseal", argv[0], argv[1]);
        return 2;
    }
    return wk_processor_main((wk_stage)stage);
}

const char wk_processor_usage[] =
    "Usage: seal-worker processor STAGE\n\n"
    "The processor child that `seal-worker daemon` starts for each processors.STAGE entry\n"
    "of its config; not meant to be run by hand.  It binds itself to the CPUs and NUMA node\n"
    "in SEALPIPE_PROC_CPUSET / SEALPIPE_PROC_NUMA, prints a ready line, then reads one JSON\n"
    "task per line on stdin and answers one JSON line per task on stdout; logs go to\n"
    "stderr.  It exits when stdin closes.\n\n"
    "Protocol (an external program named by bin = ... speaks the same):\n"
    "  ready:   {\"ready\":\"pc1\",\"pid\":123,\"binding\":\"bound to CPUs 0-3; ...\"}\n"
    "  request: {\"id\":7,\"slot\":0,\"slots\":1,\"task\":{...}}   or {\"cancel\":7}\n"
    "  answer:  {\"id\":7,\"output\":{...}}  or\n"
    "           {\"id\":7,\"err\":{\"msg\":\"...\",\"level\":\"temporary\"|\"permanent\"}}\n\n"
    "Stages: add_pieces, tree_d, pc1, pc2, c1, c2, unseal.\n\n"
    "Test-only environment (never set in production): SEALPIPE_TEST_PAUSE=pc1,pc2,...\n"
    "with SEALPIPE_TEST_PAUSE_DIR=DIR pauses once at each named point (DIR/POINT.paused\n"
    "holds the pid; creating DIR/POINT.resume continues).\n";
