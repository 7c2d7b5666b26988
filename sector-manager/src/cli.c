/* cli.c — sector-manager commands: init, run and the admin CLI. */
#include "sm_cli.h"

const sp_cmd sm_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
