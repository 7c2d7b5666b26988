/* sm_cli.h — the sector-manager command table (daemon and admin CLI). */
#ifndef SM_CLI_H
#define SM_CLI_H
#include "sp_cli.h"
extern const sp_cmd sm_cmds[];
#endif
