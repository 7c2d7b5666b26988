/* cli.c — the seal-worker command table.  Each command lives in its own cmd_*.c file
 * and is declared here; add a row for a new command (usage text in its file). */
#include "wk_cli.h"

/* cmd_plan.c */
int wk_cmd_check_config(int argc, char **argv);
int wk_cmd_plan(int argc, char **argv);
int wk_cmd_info(int argc, char **argv);
extern const char wk_check_config_usage[];
extern const char wk_plan_usage[];
extern const char wk_info_usage[];

/* cmd_daemon.c */
int wk_cmd_daemon(int argc, char **argv);
extern const char wk_daemon_usage[];

/* cmd_threads.c */
int wk_cmd_threads_list(int argc, char **argv);
int wk_cmd_threads_pause(int argc, char **argv);
int wk_cmd_threads_resume(int argc, char **argv);
int wk_cmd_threads_abort(int argc, char **argv);
extern const char wk_threads_list_usage[];
extern const char wk_threads_pause_usage[];
extern const char wk_threads_resume_usage[];
extern const char wk_threads_abort_usage[];

/* cmd_processor.c */
int wk_cmd_processor(int argc, char **argv);
extern const char wk_processor_usage[];

const sp_cmd wk_cmds[] = {
    { "check-config", wk_cmd_check_config, "check a worker config against a machine's topology",
      wk_check_config_usage },
    { "plan", wk_cmd_plan, "show where every processor would run (cores, NUMA node, GPU)",
      wk_plan_usage },
    { "info", wk_cmd_info, "show this machine's topology and GPUs (and a config's placement)",
      wk_info_usage },
    { "daemon", wk_cmd_daemon, "run the worker: processors, sealing threads, admin API",
      wk_daemon_usage },
    { "threads list", wk_cmd_threads_list, "show the running worker's sealing threads",
      wk_threads_list_usage },
    { "threads pause", wk_cmd_threads_pause, "pause a sealing thread", wk_threads_pause_usage },
    { "threads resume", wk_cmd_threads_resume, "resume a paused thread (optionally in another state)",
      wk_threads_resume_usage },
    { "threads abort", wk_cmd_threads_abort, "give a thread's sector up (tells the manager)",
      wk_threads_abort_usage },
    { "processor", wk_cmd_processor, "run one stage's tasks (started by the daemon)",
      wk_processor_usage },
    { NULL, NULL, NULL, NULL },
};
