/* cmd_daemon.c — `seal-worker daemon -c FILE`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sp_cli.h"
#include "sp_log.h"
#include "wk_daemon.h"

int wk_cmd_daemon(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { NULL, 0, NULL, 0 },
    };
    const char *config = NULL;
    optind = 1;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
        if (ch == 'c') {
            config = optarg;
        } else {
            sp_cli_fail("%s: unknown option or missing value near '%s'; see '%s --help'", argv[0],
                        argv[optind - 1], argv[0]);
            return 2;
        }
    }
    if (optind < argc) {
        sp_cli_fail("%s: unexpected argument '%s'", argv[0], argv[optind]);
        return 2;
    }
    if (!config) {
        sp_cli_fail("%s: no config; give -c FILE (e.g. -c /etc/sealpipe/worker.cfg)", argv[0]);
        return 2;
    }
    return wk_daemon_run(config);
}

const char wk_daemon_usage[] =
    "Usage: seal-worker daemon -c FILE\n\n"
    "Runs the worker: places the config's processors on this machine and starts them pinned,\n"
    "checks that the manager knows every attached store (refuses to start otherwise and\n"
    "names the store), serves the admin API on worker.listen, and runs one sealing thread\n"
    "per sealing_thread entry: each pulls a sector from the manager and seals it through\n"
    "every stage, keeping its state in <location>/meta.db so that it resumes after a crash\n"
    "or a restart.  Logs go to stderr.  SIGTERM or SIGINT stops it cleanly (running stages\n"
    "are cancelled and redone or resumed at the next start; processor children are\n"
    "terminated).  Under systemd (Type=notify) it reports readiness with sd_notify.\n\n"
    "  -c, --config FILE   the worker config (see config/worker.cfg)\n\n"
    "Environment:\n"
    "  SEALPIPE_LOG              log level: error, warn, info (default), debug, trace\n"
    "  SEALPIPE_TASK_TIMEOUT     time limit of every processor task (\"2h\"), replacing the\n"
    "                            per-stage defaults derived from the sector size\n"
    "  SEALPIPE_TEST_PAUSE, SEALPIPE_TEST_PAUSE_DIR   tests only: pause once at named points\n"
    "                            (pc1, pc2, finalize, ...); never set them in production\n";
