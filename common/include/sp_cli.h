/* sp_cli.h — subcommand dispatch shared by the three programs.
 *
 * A program declares a table of commands; names may have several words ("sectors list").
 * sp_cli_run() handles `prog --version`, `prog --help`/`help`, `prog CMD --help` (prints the
 * command's usage text and exits 0), unknown commands (message + list, exit 2), and calls
 * the command with argv[0] = the full command name and the remaining arguments after it,
 * ready for getopt_long.
 */
#ifndef SP_CLI_H
#define SP_CLI_H

#include <stddef.h>

typedef struct sp_cmd {
    const char *name;                  /* "run", "sectors list", ... */
    int (*fn)(int argc, char **argv);  /* returns the process exit code */
    const char *summary;               /* one line for the command list */
    const char *usage;                 /* full help: synopsis, options, examples */
} sp_cmd;

typedef struct sp_program {
    const char *name;                  /* "sector-manager" */
    const char *description;           /* one paragraph for --help */
    const sp_cmd *cmds;                /* terminated by { NULL } */
} sp_program;

int sp_cli_run(const sp_program *prog, int argc, char **argv);

/* True when argv contains -h or --help (before a "--"). */
int sp_cli_wants_help(int argc, char **argv);

/* Prints "prog: message" to stderr and returns 1 (for `return sp_cli_fail(...)`). */
int sp_cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
