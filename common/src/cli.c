/* cli.c — sp_cli: command table lookup, --help/--version handling. */
#include "sp_cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *program_name = "sealpipe";

int sp_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

int sp_cli_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

static void print_list(const sp_program *prog, FILE *f)
{
    fprintf(f, "Usage: %s <command> [options]\n\n%s\n\nCommands:\n", prog->name, prog->description);
    for (const sp_cmd *c = prog->cmds; c->name; c++)
        fprintf(f, "  %-26s %s\n", c->name, c->summary);
    fprintf(f, "\nRun '%s <command> --help' for a command's options.\n"
               "  --version                  print the version and exit\n", prog->name);
}

/* Number of argv words the command name spans, or 0 if it does not match. */
static int match_words(const char *name, int argc, char **argv)
{
    int words = 0;
    const char *p = name;
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t len = sp ? (size_t)(sp - p) : strlen(p);
        if (1 + words >= argc || strlen(argv[1 + words]) != len || strncmp(argv[1 + words], p, len))
            return 0;
        words++;
        p += len;
        if (*p == ' ')
            p++;
    }
    return words;
}

int sp_cli_run(const sp_program *prog, int argc, char **argv)
{
    program_name = prog->name;
    if (argc < 2) {
        print_list(prog, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("%s %s\n", prog->name, SP_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        print_list(prog, stdout);
        return 0;
    }
    const sp_cmd *best = NULL;
    int best_words = 0;
    for (const sp_cmd *c = prog->cmds; c->name; c++) {
        int w = match_words(c->name, argc, argv);
        if (w > best_words) {
            best = c;
            best_words = w;
        }
    }
    if (!best) {
        /* A group word alone ("sectors") lists its subcommands. */
        int any = 0;
        for (const sp_cmd *c = prog->cmds; c->name; c++) {
            size_t l = strlen(argv[1]);
            if (strncmp(c->name, argv[1], l) == 0 && c->name[l] == ' ') {
                if (!any)
                    fprintf(stderr, "%s %s: choose a subcommand:\n", prog->name, argv[1]);
                fprintf(stderr, "  %-26s %s\n", c->name, c->summary);
                any = 1;
            }
        }
        if (any)
            return sp_cli_wants_help(argc, argv) ? 0 : 2;
        fprintf(stderr, "%s: unknown command '%s'\n\n", prog->name, argv[1]);
        print_list(prog, stderr);
        return 2;
    }
    int sub_argc = argc - best_words;
    char **sub_argv = argv + best_words;
    if (sp_cli_wants_help(sub_argc, sub_argv)) {
        const char *u = best->usage ? best->usage : best->name;
        /* A usage text may carry its own "usage:" line; do not print the word twice. */
        if (strncasecmp(u, "usage:", 6) == 0)
            printf("%s\n", u);
        else
            printf("Usage: %s %s\n", prog->name, u);
        return 0;
    }
    sub_argv[0] = (char *)best->name;
    return best->fn(sub_argc, sub_argv);
}
