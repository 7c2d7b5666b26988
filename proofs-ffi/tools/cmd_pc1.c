/* cmd_pc1.c — sealproof commands of this phase (filled in by its issue). */
#include "tool.h"

const sp_cmd sealproof_pc1_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
