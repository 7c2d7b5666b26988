/* wk_cli.h — the seal-worker command table. */
#ifndef WK_CLI_H
#define WK_CLI_H
#include "sp_cli.h"
extern const sp_cmd wk_cmds[];

/* `info -c FILE`: prints the config's sealing threads and, when the daemon answers on its
 * admin API, their live state and the processors (cmd_threads.c). */
int wk_info_threads(const char *config);
#endif
