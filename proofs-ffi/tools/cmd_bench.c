/* cmd_bench.c — sealproof commands of this phase (filled in by its issue). */
#include "tool.h"

const sp_cmd sealproof_bench_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
