/* cmd_device.c — sealproof commands about compute devices (filled in by the OpenCL work). */
#include "tool.h"

const sp_cmd sealproof_device_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
