/* cmd_pc2.c — sealproof commands of this phase (filled in by its issue). */
#include "tool.h"

const sp_cmd sealproof_pc2_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
