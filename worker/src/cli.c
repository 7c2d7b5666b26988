/* cli.c — seal-worker commands: daemon, check-config, plan, processor, threads, info. */
#include "wk_cli.h"

const sp_cmd wk_cmds[] = {
    { NULL, NULL, NULL, NULL },
};
