/* wk_cli.h — the seal-worker command table. */
#ifndef WK_CLI_H
#define WK_CLI_H
#include "sp_cli.h"
extern const sp_cmd wk_cmds[];
#endif
