/* cmd_data.c — sealproof commands of this phase (filled in by its issue). */
#include "tool.h"

const sp_cmd sealproof_data_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
