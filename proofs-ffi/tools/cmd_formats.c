/* cmd_formats.c — sealproof commands of this phase (filled in by its issue). */
#include "tool.h"

const sp_cmd sealproof_formats_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
